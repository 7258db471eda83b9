package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/rego"
	"github.com/trino-warden/warden/server/audit"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/config"
	"github.com/trino-warden/warden/views"
	"github.com/trino-warden/warden/views/sqlgen"
	"github.com/trino-warden/warden/webhooks/events"
	"github.com/trino-warden/warden/webhooks/keycloak"
	"github.com/trino-warden/warden/webhooks/scim"
)

// OptionsFromConfig maps the validated configuration onto server options.
func OptionsFromConfig(cfg config.Config, logger *slog.Logger) Options {
	pc := loader.Config{
		Default: loader.Files{TrinoRules: cfg.TrinoRules, PolicyDir: cfg.PolicyDir},
		Rego: rego.Options{
			Logger:                     logger,
			V0Compatible:               cfg.Rego.V0Compatible,
			CompatLenientBuiltinErrors: cfg.Rego.CompatLenientBuiltinErrors,
			EvalTimeout:                cfg.Rego.EvalTimeout,
		},
	}
	if len(cfg.Clusters) > 0 {
		pc.Clusters = make(map[string]loader.Files, len(cfg.Clusters))
		for name, c := range cfg.Clusters {
			pc.Clusters[name] = loader.Files{TrinoRules: c.TrinoRules, PolicyDir: c.PolicyDir}
		}
	}
	return Options{
		Addr:      cfg.Addr,
		AdminAddr: cfg.AdminAddr,
		TLS: TLSOptions{CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile,
			ClientCAFile: cfg.TLS.ClientCAFile, ClientAuth: cfg.TLS.ClientAuth},
		MaxBodyBytes:      int64(cfg.Decision.MaxBodyBytes),
		ExplainCacheSize:  cfg.Decision.ExplainCacheSize,
		ExplainCacheBytes: int64(cfg.Decision.ExplainCacheBytes),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    int(cfg.HTTP.MaxHeaderBytes),
		ReusePort:         cfg.HTTP.ReusePort,
		DrainDelay:        cfg.Shutdown.DrainDelay,
		ShutdownTimeout:   cfg.Shutdown.Timeout,
		Policy:            pc,
		ReloadInterval:    cfg.ReloadInterval,
		Identity:          cfg.Identity.Options(),
		SCIM:              scimOptions(cfg.SCIM),
		Events:            events.Options{Secrets: cfg.Webhooks.EventsSecrets, Tolerance: cfg.Webhooks.EventsTolerance},
		Keycloak: keycloak.Options{Secrets: cfg.Webhooks.KeycloakSecrets, BaseURL: cfg.Webhooks.KeycloakURL,
			Realm: cfg.Webhooks.KeycloakRealm, ClientID: cfg.Webhooks.KeycloakClientID,
			ClientSecret: cfg.Webhooks.KeycloakClientSecret, MaxEventAge: cfg.Webhooks.KeycloakMaxEventAge},
		WebhookRetention:   cfg.Webhooks.Retention,
		DivergenceInterval: cfg.OpenFGA.DivergenceInterval,
		Audit:              auditOptions(cfg.Audit),
	}
}

func auditOptions(c config.AuditConfig) AuditOptions {
	o := audit.Options{FlushInterval: c.FlushInterval, BatchSize: c.BatchSize, QueueSize: c.QueueSize,
		SpoolDir: c.SpoolDir, SpoolMaxBytes: int64(c.SpoolMaxBytes), Full: audit.FullPolicy(c.Full),
		RetentionDays: c.RetentionDays, PartitionsAhead: c.PartitionsAhead, Explain: audit.ExplainMode(c.Explain),
		OPA: audit.OPASinkOptions{URL: c.OPAURL}}
	if c.OPAToken != "" {
		o.OPA.Headers = map[string]string{"Authorization": "Bearer " + c.OPAToken}
	}
	names := slices.Sorted(maps.Keys(c.Rules))
	for _, n := range names {
		r := c.Rules[n]
		o.Rules = append(o.Rules, audit.Rule{Endpoints: r.Endpoints, Operations: r.Operations, Outcomes: r.Outcomes,
			Users: r.Users, Groups: r.Groups, SampleRate: r.SampleRate})
	}
	return AuditOptions{Enabled: c.Enabled, Options: o, TrinoEventsToken: c.TrinoEventsToken}
}

func scimOptions(c config.SCIMConfig) scim.Options {
	names, tokens, _ := c.Clients() // Validate refused malformed pairs
	o := scim.Options{BaseURL: c.BaseURL}
	for i := range names {
		o.Clients = append(o.Clients, scim.Client{Name: names[i], Token: tokens[i]})
	}
	return o
}

// AuthenticatorFromConfig returns the admin API's authenticator, nil when
// OIDC is not configured.
func AuthenticatorFromConfig(cfg config.Config) (*auth.Authenticator, error) {
	if cfg.OIDC.Issuer == "" {
		return nil, nil
	}
	return auth.New(auth.Config{Issuer: cfg.OIDC.Issuer, Audience: cfg.OIDC.Audience, JWKSURL: cfg.OIDC.JWKSURL,
		RoleClaim: cfg.OIDC.RoleClaim, NameClaim: cfg.OIDC.NameClaim,
		AdminValues: cfg.OIDC.AdminValues, OwnerValues: cfg.OIDC.OwnerValues, ReaderValues: cfg.OIDC.ReaderValues})
}

// GrantsFromConfig starts the OpenFGA grants source the configuration asks
// for: a server at openfga.api_url, or an in-process one with
// openfga.embedded. It returns nil when grants are off.
func GrantsFromConfig(ctx context.Context, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) (*grants.Source, error) {
	if cfg.OpenFGA.APIURL == "" && !cfg.OpenFGA.Embedded {
		return nil, nil
	}
	return grants.New(ctx, grants.Options{
		APIURL:          cfg.OpenFGA.APIURL,
		StoreID:         cfg.OpenFGA.StoreID,
		ModelID:         cfg.OpenFGA.ModelID,
		APIToken:        cfg.OpenFGA.APIToken,
		CacheTTL:        cfg.OpenFGA.CacheTTL,
		ChangesInterval: cfg.OpenFGA.ChangesInterval,
		Logger:          logger,
		Registerer:      reg,
	})
}

// ViewsFromConfig returns the governed catalog's options, nil when
// views.trino_url is not set. It needs database mode.
func ViewsFromConfig(cfg config.Config) (*ViewsOptions, error) {
	v := cfg.Views
	if v.TrinoURL == "" {
		return nil, nil
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("the governed catalog (views.trino_url) needs database mode: set WARDEN_DATABASE_URL")
	}
	client, err := views.NewClient(views.ClientOptions{URL: v.TrinoURL, User: v.User, Password: v.Password})
	if err != nil {
		return nil, err
	}
	opts := &ViewsOptions{Trino: client, SyncInterval: v.SyncInterval,
		Options: views.Options{Catalog: v.Catalog, ServiceUser: v.User}}
	if v.KeyTable != "" {
		name, err := sqlgen.ParseQualifiedName(v.KeyTable)
		if err != nil {
			return nil, fmt.Errorf("views.key_table: %w", err)
		}
		opts.Keys = &sqlgen.KeyStore{Table: name, IDColumn: "key_id", KeyColumn: "key", Identity: v.KeyIdentity}
	}
	return opts, nil
}
