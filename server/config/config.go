// Package config is Warden's typed configuration: Default(), then an optional
// YAML file, then WARDEN_* environment variables, then command-line flags,
// each layer overriding the one before. Every name derives from the struct's
// yaml tags by one rule: YAML key path "a.b_c" ↔ env WARDEN_A_B_C ↔ flag
// --a-b-c. Adding a setting is adding one tagged field (yaml and help tags,
// plus secret:"true" for credentials) and its default in Default.
//
// See docs/configuration.md for the reference, generated from Reference.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trino-warden/warden/policy"
)

// Config is the whole of Warden's configuration.
type Config struct {
	Addr           string                   `yaml:"addr" help:"Decision listener address (host:port)"`
	AdminAddr      string                   `yaml:"admin_addr" help:"Admin listener address (admin API, SCIM, webhooks, audit); empty disables it"`
	DatabaseURL    string                   `yaml:"database_url" secret:"true" help:"PostgreSQL URL; setting it turns on database mode"`
	Migrate        bool                     `yaml:"migrate" help:"In database mode, apply pending schema migrations at start instead of refusing an older schema"`
	TrinoRules     string                   `yaml:"trino_rules" help:"Trino rules.json file (file-based access control format) for the default cluster"`
	PolicyDir      string                   `yaml:"policy_dir" help:"Directory of Rego modules for the default cluster"`
	ReloadInterval time.Duration            `yaml:"reload_interval" help:"How often file mode checks the policy files for change; 0 disables reloading"`
	Clusters       map[string]ClusterConfig `yaml:"clusters" help:"Named Trino clusters served under /clusters/{name}/ (YAML only); an entry with no settings uses the default cluster's policy"`

	Rego     RegoConfig     `yaml:"rego"`
	OpenFGA  OpenFGAConfig  `yaml:"openfga"`
	Identity IdentityConfig `yaml:"identity"`
	SCIM     SCIMConfig     `yaml:"scim"`
	Webhooks WebhooksConfig `yaml:"webhooks"`
	Audit    AuditConfig    `yaml:"audit"`
	Views    ViewsConfig    `yaml:"views"`
	OIDC     OIDCConfig     `yaml:"oidc"`
	TLS      TLSConfig      `yaml:"tls"`
	Log      LogConfig      `yaml:"log"`
	Decision DecisionConfig `yaml:"decision"`
	HTTP     HTTPConfig     `yaml:"http"`
	Shutdown ShutdownConfig `yaml:"shutdown"`
}

// ClusterConfig is the policy of one named Trino cluster. The zero value
// means "same policy as the default cluster".
type ClusterConfig struct {
	TrinoRules string `yaml:"trino_rules" help:"Trino rules.json file for this cluster"`
	PolicyDir  string `yaml:"policy_dir" help:"Directory of Rego modules for this cluster"`
}

// OpenFGAConfig configures the relationship-grants backend.
type OpenFGAConfig struct {
	APIURL             string        `yaml:"api_url" help:"OpenFGA HTTP API URL; setting it turns on relationship grants"`
	Embedded           bool          `yaml:"embedded" help:"Without api_url, run OpenFGA in process with a memory datastore (file mode only: replicas would diverge)"`
	StoreID            string        `yaml:"store_id" help:"OpenFGA store ID; empty finds or creates the store named warden"`
	ModelID            string        `yaml:"model_id" help:"OpenFGA authorization model ID; empty writes Warden's bundled model and uses it"`
	APIToken           string        `yaml:"api_token" secret:"true" help:"Bearer token for the OpenFGA API"`
	CacheTTL           time.Duration `yaml:"cache_ttl" help:"How long a grants answer is reused; Warden's own writes and OpenFGA's change feed invalidate sooner, but an expiring grant can be honoured this long past its expiry"`
	ChangesInterval    time.Duration `yaml:"changes_interval" help:"How often OpenFGA's change feed is read for tuples other systems wrote"`
	DivergenceInterval time.Duration `yaml:"divergence_interval" help:"How often (database mode) the grants in the change log are compared with OpenFGA's; warden_grants_divergence shows the result; 0 disables"`
}

// IdentityConfig says how directory users (pushed by SCIM and webhooks)
// map to the user names Trino sends. docs/identity.md describes the usual
// Keycloak, Okta and Entra ID setups.
type IdentityConfig struct {
	UserNameFrom string   `yaml:"user_name_from" help:"Which directory value is the Trino user name: user_name, email, external_id or attribute:<name>"`
	Normalize    []string `yaml:"normalize" help:"Normalisations applied in order to both the directory value and Trino's user name: lower, strip_domain, trim"`
	UnknownUsers string   `yaml:"unknown_users" help:"Users not in the directory: pass (decide on what Trino sends) or deny (deny everything)"`
	ServiceUsers []string `yaml:"service_users" help:"User names that pass even when unknown_users is deny (service accounts, the view reconciler)"`
}

// Validate checks the identity mapping.
func (c IdentityConfig) Validate() error {
	return c.Options().Validate()
}

// Options returns the mapping as the policy engine takes it.
func (c IdentityConfig) Options() policy.IdentityOptions {
	return policy.IdentityOptions{UserNameFrom: c.UserNameFrom, Normalize: c.Normalize, Unknown: c.UnknownUsers, ServiceUsers: c.ServiceUsers}
}

// SCIMConfig configures the SCIM 2.0 service provider at /scim/v2 on the
// admin listener (database mode). docs/scim.md has the vendor setups.
type SCIMConfig struct {
	Tokens  []string `yaml:"tokens" secret:"true" help:"SCIM clients as name:token pairs, one per identity provider; the token is the bearer token it sends. Empty turns SCIM off"`
	BaseURL string   `yaml:"base_url" help:"External URL of the SCIM root for meta.location (e.g. https://warden.example.com/scim/v2); empty derives it from each request"`
}

// Validate checks that every token is a name:token pair.
func (c SCIMConfig) Validate() error {
	_, _, err := c.Clients()
	return err
}

// Clients splits Tokens into names and tokens.
func (c SCIMConfig) Clients() (names, tokens []string, err error) {
	for i, t := range c.Tokens {
		name, tok, ok := strings.Cut(t, ":")
		if !ok || name == "" || tok == "" {
			return nil, nil, fmt.Errorf("scim.tokens[%d]: want name:token", i)
		}
		names, tokens = append(names, name), append(tokens, tok)
	}
	return names, tokens, nil
}

// WebhooksConfig configures the identity and policy webhooks on the admin
// listener (database mode). docs/webhooks.md describes them.
type WebhooksConfig struct {
	EventsSecrets        []string      `yaml:"events_secrets" secret:"true" help:"Standard Webhooks secrets (whsec_...) accepted at /webhooks/events; list two while rotating. Empty turns the endpoint off"`
	EventsTolerance      time.Duration `yaml:"events_tolerance" help:"How far a webhook-timestamp may be from now, either way (replay window)"`
	KeycloakSecrets      []string      `yaml:"keycloak_secrets" secret:"true" help:"Secrets of the keycloak-events webhook accepted at /webhooks/keycloak. Empty turns the endpoint off"`
	KeycloakURL          string        `yaml:"keycloak_url" help:"Keycloak's root URL, for reading users and groups the events name only by ID"`
	KeycloakRealm        string        `yaml:"keycloak_realm" help:"The Keycloak realm whose events are taken"`
	KeycloakClientID     string        `yaml:"keycloak_client_id" help:"Confidential Keycloak client (service account with view-users) for the admin API"`
	KeycloakClientSecret string        `yaml:"keycloak_client_secret" secret:"true" help:"Secret of keycloak_client_id"`
	KeycloakMaxEventAge  time.Duration `yaml:"keycloak_max_event_age" help:"Keycloak events older than this are refused (the extension signs no timestamp)"`
	Retention            time.Duration `yaml:"retention" help:"How long delivered event IDs are kept for deduplication; keep it longer than senders retry"`
}

// Validate checks the Keycloak settings are complete when it is on.
func (c WebhooksConfig) Validate() error {
	if len(c.KeycloakSecrets) > 0 && (c.KeycloakURL == "" || c.KeycloakRealm == "" || c.KeycloakClientID == "" || c.KeycloakClientSecret == "") {
		return errors.New("webhooks.keycloak_secrets is set: webhooks.keycloak_url, keycloak_realm, keycloak_client_id and keycloak_client_secret are needed too")
	}
	if c.Retention > 0 && c.Retention < c.KeycloakMaxEventAge {
		return errors.New("webhooks.retention must be at least webhooks.keycloak_max_event_age, or a replay could pass deduplication")
	}
	return nil
}

// AuditConfig configures the decision audit (database mode). docs/audit.md
// describes what is recorded and the guarantees.
type AuditConfig struct {
	Enabled          bool                       `yaml:"enabled" help:"Record every decision in PostgreSQL (database mode)"`
	FlushInterval    time.Duration              `yaml:"flush_interval" help:"Longest time a decision waits before it is written; what a crash can lose"`
	BatchSize        int                        `yaml:"batch_size" help:"Decisions written per batch at most"`
	QueueSize        int                        `yaml:"queue_size" help:"Decisions waiting in memory for the writer at most"`
	SpoolDir         string                     `yaml:"spool_dir" help:"Directory that holds batches while PostgreSQL is slow or down (one per replica); empty disables the spool"`
	SpoolMaxBytes    ByteSize                   `yaml:"spool_max_bytes" help:"Size cap of the spool"`
	Full             string                     `yaml:"full" help:"When queue and spool are full: drop (count and go on) or block (wait for room)"`
	RetentionDays    int                        `yaml:"retention_days" help:"Days of decisions kept; negative keeps everything"`
	PartitionsAhead  int                        `yaml:"partitions_ahead" help:"Future days that get a partition in advance"`
	Explain          string                     `yaml:"explain" help:"Which recorded decisions get a full explanation: all, denied or none; every single check records its deciding source and rule regardless"`
	Rules            map[string]AuditRuleConfig `yaml:"rules" help:"Rules that skip or sample classes of decisions (YAML only), applied in name order; the first that matches decides"`
	OPAURL           string                     `yaml:"opa_url" help:"OPA decision-log compatible sink: POSTs gzip'd event arrays here; empty disables it"`
	OPAToken         string                     `yaml:"opa_token" secret:"true" help:"Bearer token sent to opa_url"`
	TrinoEventsToken string                     `yaml:"trino_events_token" secret:"true" help:"Bearer token Trino's HTTP event listener must send to /v1/audit/trino-events; empty leaves the endpoint open to whoever reaches the admin listener"`
}

// AuditRuleConfig is one sampling rule; empty lists match everything.
type AuditRuleConfig struct {
	Endpoints  []string `yaml:"endpoints"`
	Operations []string `yaml:"operations"`
	Outcomes   []string `yaml:"outcomes"`
	Users      []string `yaml:"users"`
	Groups     []string `yaml:"groups"`
	SampleRate float64  `yaml:"sample_rate"`
}

// Validate checks the choices.
func (c AuditConfig) Validate() error {
	switch c.Full {
	case "drop", "block":
	default:
		return fmt.Errorf("audit.full %q: want drop or block", c.Full)
	}
	switch c.Explain {
	case "all", "denied", "none":
	default:
		return fmt.Errorf("audit.explain %q: want all, denied or none", c.Explain)
	}
	if c.FlushInterval <= 0 || c.BatchSize <= 0 || c.QueueSize <= 0 {
		return errors.New("audit.flush_interval, batch_size and queue_size must be positive")
	}
	for name, r := range c.Rules {
		if r.SampleRate < 0 || r.SampleRate > 1 {
			return fmt.Errorf("audit.rules.%s.sample_rate %v: want 0 to 1", name, r.SampleRate)
		}
	}
	return nil
}

// ViewsConfig configures the governed catalog (database mode):
// registered source tables exposed as policy-enforced views in a dedicated
// Trino catalog. docs/governed.md describes the setup.
type ViewsConfig struct {
	TrinoURL     string        `yaml:"trino_url" help:"Trino coordinator URL Warden's service principal connects to (https for a password); setting it turns the governed catalog on"`
	User         string        `yaml:"user" help:"Warden's service principal in Trino: owns the governed views and reads the registered sources"`
	Password     string        `yaml:"password" secret:"true" help:"Password of the service principal (needs an https trino_url)"`
	Catalog      string        `yaml:"catalog" help:"The Trino catalog that holds the governed views"`
	SyncInterval time.Duration `yaml:"sync_interval" help:"How often the views are checked against the registrations even without a change (catches Trino restarts and drift)"`
	KeyTable     string        `yaml:"key_table" help:"catalog.schema.table holding hash-mask keys (key_id varchar, key varbinary), readable by key_identity only; empty refuses hash masks"`
	KeyIdentity  string        `yaml:"key_identity" help:"Trino user hash masks run as, the only one that may read key_table"`
}

// Validate checks the governed catalog's settings.
func (c ViewsConfig) Validate() error {
	if c.TrinoURL == "" {
		return nil
	}
	if c.User == "" || c.Catalog == "" {
		return errors.New("views.trino_url is set: views.user and views.catalog are needed too")
	}
	if (c.KeyTable == "") != (c.KeyIdentity == "") {
		return errors.New("views.key_table and views.key_identity go together")
	}
	return nil
}

// OIDCConfig configures authentication of the admin API.
type OIDCConfig struct {
	Issuer       string   `yaml:"issuer" help:"OIDC issuer URL whose tokens the admin API accepts"`
	Audience     string   `yaml:"audience" help:"Expected token audience (aud)"`
	JWKSURL      string   `yaml:"jwks_url" help:"JWKS URL; set it to skip OIDC discovery"`
	RoleClaim    string   `yaml:"role_claim" help:"Claim (a dotted path for nested claims, e.g. realm_access.roles) holding the caller's groups or roles"`
	NameClaim    string   `yaml:"name_claim" help:"Claim recorded as the actor in the change log; the subject when absent"`
	AdminValues  []string `yaml:"admin_values" help:"Role-claim values that make a caller an administrator"`
	OwnerValues  []string `yaml:"owner_values" help:"Role-claim values that make a caller a data owner (scoped by the grants model)"`
	ReaderValues []string `yaml:"reader_values" help:"Role-claim values that make a caller a read-only user"`
}

// TLSConfig configures TLS on both listeners, and client certificates on
// the decision listener.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file" help:"PEM certificate for both listeners; re-read when it changes"`
	KeyFile      string `yaml:"key_file" help:"PEM private key of cert_file"`
	ClientCAFile string `yaml:"client_ca_file" help:"PEM CA bundle: the decision listener then requires client certificates it signed (mTLS)"`
	ClientAuth   string `yaml:"client_auth" help:"With client_ca_file: require, or verify-if-given"`
}

// RegoConfig configures how Rego modules are compiled and evaluated.
type RegoConfig struct {
	V0Compatible               bool          `yaml:"v0_compatible" help:"Parse Rego modules as OPA 0.x syntax (without if and contains), like opa run --v0-compatible"`
	CompatLenientBuiltinErrors bool          `yaml:"compat_lenient_builtin_errors" help:"In OPA-compatible modules (package trino), let a failing built-in be undefined, as OPA does, instead of failing the decision closed"`
	EvalTimeout                time.Duration `yaml:"eval_timeout" help:"Longest time one Rego evaluation may take; it then fails closed. 0 means no limit beyond the request"`
}

// LogConfig configures the slog logger.
type LogConfig struct {
	Level  string `yaml:"level" help:"Minimum log level: debug, info, warn or error"`
	Format string `yaml:"format" help:"Log format: json or text"`
}

// DecisionConfig bounds the decision endpoints.
type DecisionConfig struct {
	MaxBodyBytes      ByteSize `yaml:"max_body_bytes" help:"Largest accepted request body; a 200,000-table batch is about 20MB"`
	ExplainCacheSize  int      `yaml:"explain_cache_size" help:"Number of recent decisions kept for explanation by decision ID; 0 disables"`
	ExplainCacheBytes ByteSize `yaml:"explain_cache_bytes" help:"Memory bound of the explanation cache"`
}

// HTTPConfig configures the HTTP server.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" help:"Time allowed to read request headers"`
	ReadTimeout       time.Duration `yaml:"read_timeout" help:"Time allowed to read a whole request"`
	WriteTimeout      time.Duration `yaml:"write_timeout" help:"Time allowed to write a response"`
	IdleTimeout       time.Duration `yaml:"idle_timeout" help:"How long an idle keep-alive connection stays open"`
	MaxHeaderBytes    ByteSize      `yaml:"max_header_bytes" help:"Largest accepted request header block"`
	ReusePort         bool          `yaml:"reuse_port" help:"Bind with SO_REUSEPORT so a new Warden process can bind while the old one drains"`
}

// ShutdownConfig configures graceful shutdown.
type ShutdownConfig struct {
	DrainDelay time.Duration `yaml:"drain_delay" help:"After SIGTERM, how long readiness reports down while requests are still served, so load balancers stop sending"`
	Timeout    time.Duration `yaml:"timeout" help:"After the drain delay, the longest wait for clients to close their decision connections (at most half of it) and for requests in flight"`
}

// Default returns the built-in configuration, the first layer of Load.
func Default() Config {
	return Config{
		Addr:      "127.0.0.1:8181",
		AdminAddr: "127.0.0.1:8182",
		OIDC: OIDCConfig{RoleClaim: "groups", NameClaim: "preferred_username",
			AdminValues: []string{"warden-admins"}, OwnerValues: []string{"warden-data-owners"}, ReaderValues: []string{"warden-readers"}},
		TLS:     TLSConfig{ClientAuth: "require"},
		OpenFGA: OpenFGAConfig{CacheTTL: 10 * time.Second, ChangesInterval: 5 * time.Second, DivergenceInterval: 10 * time.Minute},
		SCIM:    SCIMConfig{Tokens: []string{}},
		Webhooks: WebhooksConfig{EventsSecrets: []string{}, EventsTolerance: 5 * time.Minute, KeycloakSecrets: []string{},
			KeycloakMaxEventAge: 24 * time.Hour, Retention: 30 * 24 * time.Hour},
		Audit: AuditConfig{Enabled: true, FlushInterval: time.Second, BatchSize: 4000, QueueSize: 10000,
			SpoolMaxBytes: GiB, Full: "drop", RetentionDays: 30, PartitionsAhead: 3, Explain: "denied",
			Rules: map[string]AuditRuleConfig{}},
		Views: ViewsConfig{User: "warden", Catalog: "governed", SyncInterval: 30 * time.Second},
		Identity: IdentityConfig{UserNameFrom: policy.NameFromUserName, Normalize: []string{}, UnknownUsers: policy.UnknownPass,
			ServiceUsers: []string{}},
		ReloadInterval: time.Second,
		Rego:           RegoConfig{EvalTimeout: 10 * time.Second},
		Log:            LogConfig{Level: "info", Format: "json"},
		Decision: DecisionConfig{
			MaxBodyBytes:      64 * MiB,
			ExplainCacheSize:  10000,
			ExplainCacheBytes: 64 * MiB,
		},
		HTTP: HTTPConfig{
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    MiB,
			ReusePort:         true,
		},
		Shutdown: ShutdownConfig{DrainDelay: 5 * time.Second, Timeout: 30 * time.Second},
	}
}

// DefaultCluster is the reserved name of the cluster configured by the
// top-level trino_rules and policy_dir.
const DefaultCluster = "default"

var clusterNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks the whole configuration and returns every problem found,
// joined, each naming its key. Both trino_rules and policy_dir being empty is
// valid: the server then denies everything.
func (c Config) Validate() error {
	errs := []error{nonNegative(reflect.ValueOf(c))}
	if err := validateAddr(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr: %w", err))
	}
	if c.AdminAddr != "" {
		if err := validateAddr(c.AdminAddr); err != nil {
			errs = append(errs, fmt.Errorf("admin_addr: %w", err))
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls.cert_file and tls.key_file: set both or neither"))
	}
	if c.TLS.ClientCAFile != "" && c.TLS.CertFile == "" {
		errs = append(errs, errors.New("tls.client_ca_file: client certificates need tls.cert_file and tls.key_file"))
	}
	if c.TLS.ClientAuth != "require" && c.TLS.ClientAuth != "verify-if-given" {
		errs = append(errs, fmt.Errorf("tls.client_auth: must be require or verify-if-given, got %q", c.TLS.ClientAuth))
	}
	if c.OpenFGA.Embedded && c.OpenFGA.APIURL != "" {
		errs = append(errs, errors.New("openfga.embedded: set it or openfga.api_url, not both"))
	}
	if c.OpenFGA.Embedded && c.DatabaseURL != "" {
		errs = append(errs, errors.New("openfga.embedded: an in-memory OpenFGA cannot serve database mode, where replicas would diverge; run an OpenFGA server with its PostgreSQL datastore and set openfga.api_url"))
	}
	if (c.OIDC.Issuer == "") != (c.OIDC.Audience == "") {
		errs = append(errs, errors.New("oidc.issuer and oidc.audience: set both (the admin API needs them) or neither"))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Clusters)) {
		switch {
		case name == DefaultCluster:
			errs = append(errs, fmt.Errorf("clusters.%s: the name %q is reserved for the top-level policy", name, name))
		case !clusterNameRE.MatchString(name):
			errs = append(errs, fmt.Errorf("clusters.%s: name must match %s", name, clusterNameRE))
		}
	}
	errs = append(errs, c.Identity.Validate(), c.SCIM.Validate(), c.Webhooks.Validate(), c.Audit.Validate(), c.Views.Validate(), c.Log.Validate(), c.Decision.Validate(), c.HTTP.Validate(), c.Shutdown.Validate())
	return errors.Join(errs...)
}

func validateAddr(addr string) error {
	if addr == "" {
		return errors.New("must not be empty")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q must be a number from 0 to 65535", port)
	}
	return nil
}

// nonNegative reports every duration or size below zero in the struct v.
func nonNegative(v reflect.Value) error {
	var errs []error
	for _, l := range leaves(v.Type()) {
		if (l.typ == durationType || l.typ == byteSizeType) && v.FieldByIndex(l.index).Int() < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative, got %s", l.key, formatValue(v.FieldByIndex(l.index))))
		}
	}
	return errors.Join(errs...)
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// Validate checks the level and format enums.
func (c LogConfig) Validate() error {
	var errs []error
	if _, ok := logLevels[c.Level]; !ok {
		errs = append(errs, fmt.Errorf("log.level: must be debug, info, warn or error, got %q", c.Level))
	}
	if c.Format != "json" && c.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format: must be json or text, got %q", c.Format))
	}
	return errors.Join(errs...)
}

// SlogLevel returns the slog level for Level; call it after Validate.
func (c LogConfig) SlogLevel() slog.Level { return logLevels[c.Level] }

// Validate checks the body and cache bounds.
func (c DecisionConfig) Validate() error {
	var errs []error
	if c.MaxBodyBytes < MiB {
		errs = append(errs, fmt.Errorf("decision.max_body_bytes: must be at least 1MiB, got %s", c.MaxBodyBytes))
	}
	if c.ExplainCacheSize < 0 {
		errs = append(errs, fmt.Errorf("decision.explain_cache_size: must not be negative, got %d", c.ExplainCacheSize))
	}
	return errors.Join(errs...)
}

// Validate checks the HTTP server settings. Timeouts may be 0 (none) but
// not negative, which Config.Validate checks for every duration.
func (c HTTPConfig) Validate() error { return nil }

// Validate checks the shutdown settings. Both durations may be 0 but not
// negative, which Config.Validate checks for every duration.
func (c ShutdownConfig) Validate() error { return nil }

// Redacted flattens the configuration into "a.b_c" → value, for logging the
// effective configuration at startup. Durations and sizes are strings such
// as "5s" and "64MiB"; a cluster's fields appear as "clusters.NAME.field";
// fields tagged secret:"true" show as "[redacted]" when set.
func (c Config) Redacted() map[string]any {
	return redact(reflect.ValueOf(c), "", map[string]any{})
}

// Reference describes every key, in field order, with its defaults from
// Default. A map such as clusters is YAML-only (Env and Flag are "-") and is
// followed by its entries' keys, written "clusters.<name>.trino_rules".
func Reference() []Field {
	return reference(reflect.ValueOf(Default()))
}

// Load builds the effective configuration from Default, the YAML file named
// by --config or WARDEN_CONFIG (the flag wins), WARDEN_* variables in environ
// and the flags in args, in that order of increasing precedence. It
// registers one flag per key plus --config on fs, so fs's usage lists them
// with their help and env names, and returns the positional arguments left
// after the flags. Bad values are reported together, each naming its source:
// the env variable, the file and line, or the flag. It does not call
// Validate. Unknown WARDEN_* variables are ignored, since Kubernetes adds
// WARDEN_SERVICE_HOST and the like.
func Load(fs *flag.FlagSet, args, environ []string) (Config, []string, error) {
	cfg := Default()
	rest, err := load(&cfg, fs, args, environ)
	if err != nil {
		return Config{}, nil, err
	}
	return cfg, rest, nil
}

// load applies the YAML, env and flag layers onto the struct dst points to.
func load(dst any, fs *flag.FlagSet, args, environ []string) ([]string, error) {
	root := reflect.ValueOf(dst).Elem()
	ls := leaves(root.Type())
	var sets []flagUse
	for _, l := range ls {
		if l.yamlOnly() {
			continue
		}
		fv := &flagValue{leaf: l, sets: &sets, def: formatValue(root.FieldByIndex(l.index))}
		if root.FieldByIndex(l.index).IsZero() {
			fv.def = "" // so -h prints no "(default …)", as for the flag package's own zero defaults
		}
		if l.typ.Kind() == reflect.Bool {
			fs.Var(boolFlagValue{fv}, l.flag, fmt.Sprintf("%s (env %s)", l.help, l.env))
		} else {
			fs.Var(fv, l.flag, fmt.Sprintf("%s (`%s`; env %s)", l.help, typeName(l.typ), l.env))
		}
	}
	file := fs.String("config", "", "YAML configuration `file` (env WARDEN_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix) {
			if _, dup := env[k]; !dup { // the first wins, as with os.Getenv
				env[k] = v
			}
		}
	}
	path, explicit := *file, false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if !explicit {
		path = env["WARDEN_CONFIG"]
	}
	var errs []error
	if path != "" {
		errs = append(errs, decodeFile(path, dst))
	}
	set := func(l leaf, source, raw string) {
		v, err := parseValue(l.typ, raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", source, err))
			return
		}
		root.FieldByIndex(l.index).Set(v)
	}
	for _, l := range ls {
		if raw, ok := env[l.env]; ok && !l.yamlOnly() {
			set(l, l.env, raw)
		}
	}
	for _, s := range sets {
		set(s.leaf, "--"+s.leaf.flag, s.raw)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// flagUse is one occurrence of a flag, applied after the file and env layers.
type flagUse struct {
	leaf leaf
	raw  string
}

// flagValue records each occurrence of its flag rather than setting the
// field, since flags are parsed first (to find --config) but applied last.
type flagValue struct {
	leaf leaf
	sets *[]flagUse
	def  string
}

func (f *flagValue) String() string {
	if f == nil {
		return ""
	}
	return f.def
}

func (f *flagValue) Set(s string) error {
	*f.sets = append(*f.sets, flagUse{leaf: f.leaf, raw: s})
	return nil
}

// boolFlagValue lets a bool flag be given without a value, as --http-reuse-port.
type boolFlagValue struct{ *flagValue }

func (boolFlagValue) IsBoolFlag() bool { return true }
