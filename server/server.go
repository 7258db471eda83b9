// Package server is Warden's HTTP service: the decision endpoints Trino's
// OPA access-control plugin calls, health, metrics and explanations. It
// decodes, validates, calls the policy engine and encodes; no HTTP type
// reaches the policy packages.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/server/adminapi"
	"github.com/trino-warden/warden/server/audit"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
	"github.com/trino-warden/warden/webhooks/events"
	"github.com/trino-warden/warden/webhooks/keycloak"
	"github.com/trino-warden/warden/webhooks/scim"
)

// Options configure a Server. Run builds them from the configuration.
type Options struct {
	Addr string
	// AdminAddr is the admin listener (admin API, SCIM, webhooks, audit);
	// empty disables it. Health and metrics are served on both listeners.
	AdminAddr         string
	TLS               TLSOptions
	MaxBodyBytes      int64
	ExplainCacheSize  int
	ExplainCacheBytes int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	ReusePort         bool
	DrainDelay        time.Duration
	ShutdownTimeout   time.Duration
	Policy            loader.Config
	ReloadInterval    time.Duration
	// Store, when set, turns on database mode: policy comes from the store
	// and follows its revisions, and Policy's files are not read.
	Store *store.Store
	// Auth authenticates admin API callers; the admin API needs it.
	Auth *auth.Authenticator
	// Grants, when set, is the OpenFGA grants source every cluster shares.
	Grants *grants.Source
	// Registry, when set, is the Prometheus registry /metrics serves, so
	// that other parts (the grants source) can register on it too.
	Registry *prometheus.Registry
	// Identity maps the store's directory users to Trino user names
	// (database mode).
	Identity policy.IdentityOptions
	// SCIM, Events and Keycloak configure the identity endpoints of the
	// admin listener (database mode); each is on when it has clients or
	// secrets.
	SCIM     scim.Options
	Events   events.Options
	Keycloak keycloak.Options
	// Audit, when Enabled, records every decision (database mode).
	Audit AuditOptions
	// Views, when set, turns on the governed catalog (database mode).
	Views *ViewsOptions
	// DivergenceInterval is how often the change log is compared with
	// OpenFGA in the background (0 disables).
	DivergenceInterval time.Duration
	// WebhookRetention is how long delivered webhook event IDs are kept
	// for deduplication (0 keeps them forever).
	WebhookRetention time.Duration
}

// ViewsOptions configure the governed catalog.
type ViewsOptions struct {
	// Trino is the service principal's client.
	Trino *views.Client
	// Catalog, ServiceUser and Keys compile the registrations.
	views.Options
	// SyncInterval is how often the reconciler checks Trino without a
	// change.
	SyncInterval time.Duration
}

// AuditOptions configure the decision audit.
type AuditOptions struct {
	Enabled bool
	audit.Options
	// TrinoEventsToken is the bearer token Trino's HTTP event listener
	// sends to /v1/audit/trino-events.
	TrinoEventsToken string
}

// policyLoader keeps the engine's snapshot current: from files in file
// mode, from the store in database mode.
type policyLoader interface {
	Load() error
	Run(ctx context.Context)
	LastError() error
}

// Server answers decisions against an engine whose snapshot a watcher keeps
// current.
type Server struct {
	cfg     Options
	logger  *slog.Logger
	engine  *policy.Engine
	watcher policyLoader
	metrics *metrics
	ids     *idGen
	explain *explainCache
	handler http.Handler
	admin   *gin.Engine
	api     *adminapi.API // nil unless the admin API is on
	// views is the governed catalog's source and reconciler; nil when off.
	views      *views.Source
	reconciler *views.Reconciler
	// recorder records decisions; nil records none. Run sets it before any
	// listener serves.
	recorder *audit.Recorder

	draining  atomic.Bool
	addr      atomic.Pointer[string]
	adminAddr atomic.Pointer[string]
}

// AdminAddr returns the address the admin listener is bound to, "" before
// Run binds it or when it is disabled.
func (s *Server) AdminAddr() string {
	if a := s.adminAddr.Load(); a != nil {
		return *a
	}
	return ""
}

// AdminHandler returns the HTTP handler of the admin listener.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// Addr returns the address the decision listener is bound to, "" before Run
// binds it. Tests listen on port 0 and read the port here.
func (s *Server) Addr() string {
	if a := s.addr.Load(); a != nil {
		return *a
	}
	return ""
}

// New builds a server; it loads no policy until Start or Run.
func New(opts Options, logger *slog.Logger) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: opts, logger: logger, metrics: newMetrics(opts.Registry), ids: newIDGen()}
	s.engine = policy.NewEngine(policy.EngineOptions{Logger: logger, UnknownOperationFunc: func(string) { s.metrics.unknownOps.Inc() }})
	if opts.Grants != nil {
		opts.Policy.Extra = append(opts.Policy.Extra, opts.Grants)
		s.cfg.Policy.Extra = opts.Policy.Extra
	}
	var refresh func(ctx context.Context) error
	if opts.Store != nil && opts.Views != nil {
		s.views = views.NewSource(opts.Views.Options)
		opts.Policy.Extra = append(opts.Policy.Extra, s.views)
		s.cfg.Policy.Extra = opts.Policy.Extra
		s.reconciler = views.NewReconciler(opts.Views.Trino, s.views.Catalog, views.ReconcilerOptions{
			Interval: opts.Views.SyncInterval, CheckStale: true, Logger: logger, Registerer: s.metrics.registry,
			LockFunc: func(ctx context.Context, fn func(context.Context) error) (bool, error) {
				return opts.Store.WithAdvisoryLock(ctx, store.LockViewsReconciler, fn)
			}})
		refresh = s.refreshViews
	}
	if opts.Store != nil {
		var revisionFunc func(int64)
		if opts.Grants != nil {
			revisionFunc = opts.Grants.SetRevision
		}
		clusters := make([]string, 0, len(opts.Policy.Clusters))
		for name := range opts.Policy.Clusters {
			clusters = append(clusters, name)
		}
		s.watcher = loader.NewStoreWatcher(opts.Store, s.engine, loader.StoreOptions{Logger: logger, Rego: opts.Policy.Rego,
			Clusters: clusters, ReloadFunc: s.metrics.reloaded, Extra: opts.Policy.Extra, RevisionFunc: revisionFunc,
			Identity: opts.Identity, RefreshFunc: refresh})
	} else {
		s.watcher = loader.NewWatcher(opts.Policy, s.engine, loader.WatcherOptions{Logger: logger, Interval: opts.ReloadInterval, ReloadFunc: s.metrics.reloaded})
	}
	s.explain = newExplainCache(opts.ExplainCacheSize, opts.ExplainCacheBytes, s.metrics.explainStored.Inc)
	s.handler = s.routes()
	s.admin = s.adminRoutes()
	return s
}

// Engine returns the server's policy engine.
func (s *Server) Engine() *policy.Engine { return s.engine }

// Handler returns the HTTP handler of the decision listener.
func (s *Server) Handler() http.Handler { return s.handler }

// LoadPolicy loads the policy files once. A failure leaves the server not
// ready until a later reload succeeds.
func (s *Server) LoadPolicy() error { return s.watcher.Load() }

func (s *Server) routes() http.Handler {
	r := gin.New()
	r.Use(s.recoverJSON)
	r.POST("/v1/data/trino/:rule", s.handleDecision)
	r.POST("/clusters/:cluster/v1/data/trino/:rule", s.handleDecision)
	r.GET("/v1/decisions/:id", s.handleExplain)
	s.commonRoutes(r)
	return r
}

// commonRoutes are served on both listeners.
func (s *Server) commonRoutes(r *gin.Engine) {
	r.GET("/health/live", s.handleLive)
	r.GET("/health/ready", s.handleReady)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	r.NoRoute(func(c *gin.Context) {
		writeError(c, http.StatusNotFound, codeNotFound, "no route "+c.Request.Method+" "+c.Request.URL.Path)
	})
}

// adminRoutes serve everything that is not a decision: the admin and audit
// API, SCIM and webhooks. Network policy can then let only the Trino
// coordinator reach the decision listener.
func (s *Server) adminRoutes() *gin.Engine {
	r := gin.New()
	r.Use(s.recoverJSON)
	switch {
	case s.cfg.Store == nil:
		// Features that keep state need database mode; in file mode they say so.
		r.Any("/api/v1/*path", unavailable("the admin and audit API needs database mode: set WARDEN_DATABASE_URL (--database-url); this Warden runs in file mode"))
	case s.cfg.Auth == nil:
		r.Any("/api/v1/*path", unavailable("the admin API needs OIDC: set WARDEN_OIDC_ISSUER and WARDEN_OIDC_AUDIENCE"))
	default:
		ao := adminapi.Options{Store: s.cfg.Store, Auth: s.cfg.Auth, Rego: s.cfg.Policy.Rego, Grants: s.cfg.Grants, Engine: s.engine, Extra: s.cfg.Policy.Extra,
			DivergenceFunc: func(n int) { s.metrics.divergence.Set(float64(n)) }}
		if s.cfg.Views != nil {
			ao.Trino, ao.Views = s.cfg.Views.Trino, s.cfg.Views.Options
		}
		if s.reconciler != nil {
			ao.Reconciler = s.reconciler
		}
		s.api = adminapi.New(ao)
		s.api.Register(r)
	}
	if s.cfg.Store == nil {
		r.Any("/scim/v2/*path", unavailable("SCIM provisioning needs database mode: set WARDEN_DATABASE_URL (--database-url); this Warden runs in file mode"))
		r.Any("/webhooks/*path", unavailable("identity webhooks need database mode: set WARDEN_DATABASE_URL (--database-url); this Warden runs in file mode"))
	} else {
		s.identityRoutes(r)
		r.POST("/v1/audit/trino-events", gin.WrapH(audit.NewEventHandler(s.cfg.Store,
			audit.EventHandlerOptions{Logger: s.logger, Token: s.cfg.Audit.TrinoEventsToken})))
	}
	s.commonRoutes(r)
	return r
}

// identityRoutes mounts SCIM and the webhooks, each when it is configured;
// one that is not answers 503 saying which setting turns it on. A
// configuration that cannot build a handler was refused by Validate, so a
// failure here is logged and the endpoint stays off.
func (s *Server) identityRoutes(r *gin.Engine) {
	off := func(path, msg string) { r.Any(path, unavailable(msg)) }
	if len(s.cfg.SCIM.Clients) == 0 {
		off(scim.MountPath+"/*path", "SCIM provisioning is off: set scim.tokens (WARDEN_SCIM_TOKENS) to name:token pairs")
	} else if h, err := scim.NewHandler(s.cfg.Store, s.withRegistry(s.cfg.SCIM)); err != nil {
		s.logger.Error("SCIM provisioning is off", "error", err)
		off(scim.MountPath+"/*path", "SCIM provisioning is misconfigured: "+err.Error())
	} else {
		r.Any(scim.MountPath, gin.WrapH(h))
		r.Any(scim.MountPath+"/*path", gin.WrapH(h))
	}
	eo := s.cfg.Events
	eo.Logger, eo.Registerer = s.logger, s.metrics.registry
	if eo.Validate == nil {
		eo.Validate = func(_ string, docs []store.PolicyDocument) error {
			d, err := loader.DocumentsFromStore(docs)
			if err != nil {
				return err
			}
			_, err = loader.BuildSet(d, s.cfg.Policy.Rego)
			return err
		}
	}
	if len(eo.Secrets) == 0 {
		off(events.MountPath, "the events webhook is off: set webhooks.events_secrets (WARDEN_WEBHOOKS_EVENTS_SECRETS)")
	} else if h, err := events.NewHandler(s.cfg.Store, eo); err != nil {
		s.logger.Error("the events webhook is off", "error", err)
		off(events.MountPath, "the events webhook is misconfigured: "+err.Error())
	} else {
		r.POST(events.MountPath, gin.WrapH(h))
	}
	ko := s.cfg.Keycloak
	ko.Logger, ko.Registerer = s.logger, s.metrics.registry
	if len(ko.Secrets) == 0 {
		off(keycloak.MountPath, "the Keycloak webhook is off: set webhooks.keycloak_secrets (WARDEN_WEBHOOKS_KEYCLOAK_SECRETS) and the keycloak_* settings")
	} else if h, err := keycloak.NewHandler(s.cfg.Store, ko); err != nil {
		s.logger.Error("the Keycloak webhook is off", "error", err)
		off(keycloak.MountPath, "the Keycloak webhook is misconfigured: "+err.Error())
	} else {
		r.POST(keycloak.MountPath, gin.WrapH(h))
	}
}

// refreshViews compiles the governed catalog at the store's current state
// and swaps it into the views source, then asks the reconciler to apply it.
// A registration that cannot be compiled keeps the last good catalog.
func (s *Server) refreshViews(ctx context.Context) error {
	g, err := s.cfg.Store.GovernedSnapshot(ctx)
	if err != nil {
		return err
	}
	c, err := views.Compile(g, s.cfg.Views.Options)
	if err != nil {
		return fmt.Errorf("governed catalog: %w", err)
	}
	s.views.Set(c)
	s.reconciler.Kick()
	return nil
}

// closeRecorder writes what the audit still holds, to PostgreSQL or the
// spool, within the shutdown timeout. It runs after the listeners stopped,
// so no decision is recorded after it.
func (s *Server) closeRecorder() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.recorder.Close(ctx); err != nil {
		s.logger.Error("closing the decision audit lost decisions", "error", err)
	}
}

// purgeWebhookEvents deletes delivered webhook event IDs older than the
// retention, at start and then hourly.
func (s *Server) purgeWebhookEvents(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := s.cfg.Store.WebhookEventPurge(ctx, s.cfg.WebhookRetention)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger.Warn("purging old webhook events failed; retrying in an hour", "error", err)
		case n > 0:
			s.logger.Info("purged old webhook events", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) withRegistry(o scim.Options) scim.Options {
	o.Logger, o.Registerer = s.logger, s.metrics.registry
	return o
}

func unavailable(msg string) gin.HandlerFunc {
	return func(c *gin.Context) { writeError(c, http.StatusServiceUnavailable, codeUnavailable, msg) }
}

// recoverJSON turns a panic into a 500 with the error shape: an internal
// failure is never an allow.
func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.Error("panic in handler", "path", c.Request.URL.Path, "panic", fmt.Sprint(v))
			writeError(c, http.StatusInternalServerError, codeInternal, "internal error")
			c.Abort()
		}
	}()
	c.Next()
}

func (s *Server) handleLive(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) notReadyReason() string {
	if err := s.watcher.LastError(); err != nil {
		return "policy failed to load: " + err.Error()
	}
	return "policy not loaded yet"
}

// handleReady reports ready when a snapshot is live and the server is not
// draining. A failed reload with a good snapshot still live is ready but
// degraded, and says why.
func (s *Server) handleReady(c *gin.Context) {
	snap := s.engine.Snapshot()
	body := gin.H{}
	status := http.StatusOK
	switch {
	case s.draining.Load():
		status = http.StatusServiceUnavailable
		body["status"] = "draining"
		body["reason"] = "shutting down: finishing requests in flight"
	case snap == nil:
		status = http.StatusServiceUnavailable
		body["status"] = "not_ready"
		body["reason"] = s.notReadyReason()
	default:
		body["status"] = "ready"
		if err := s.watcher.LastError(); err != nil {
			body["status"] = "degraded"
			body["reason"] = "the last reload failed; serving the last good policy: " + err.Error()
		}
		if s.cfg.Store != nil {
			if err := s.cfg.Store.Ready(c.Request.Context()); err != nil {
				// Decisions go on from the last snapshot; admin writes fail.
				body["status"] = "degraded"
				body["reason"] = err.Error() + "; deciding from the last snapshot, admin writes answer 503"
			}
		}
		if s.cfg.Grants != nil {
			if err := s.cfg.Grants.Ready(c.Request.Context()); err != nil {
				// Cached grants still answer; uncached checks fail closed.
				body["status"] = "degraded"
				body["reason"] = "OpenFGA unreachable: " + err.Error() + "; grants answer from the cache, other grant checks are denied"
			}
		}
	}
	if snap != nil {
		body["revision"] = snap.Revision
		body["origin"] = snap.Origin
		body["loaded_at"] = snap.BuiltAt.UTC().Format(time.RFC3339Nano)
		body["clusters"] = snap.Clusters()
		if s.cfg.Store == nil && s.cfg.Policy.Default == (loader.Files{}) {
			body["warning"] = loader.ErrNoPolicy.Error()
		}
	}
	c.JSON(status, body)
}

// handleExplain re-decides a recent decision, by ID, against the snapshot
// that made it, with explanation on.
func (s *Server) handleExplain(c *gin.Context) {
	id := c.Param("id")
	rd, ok := s.explain.get(id)
	if !ok {
		writeError(c, http.StatusNotFound, codeNotFound, "decision "+id+" is not among the recent decisions kept for explanation (decision.explain_cache_size)")
		return
	}
	tr, err := trino.Decode(rd.Body)
	if err == nil {
		err = tr.Validate(rd.Endpoint)
	}
	if err != nil {
		writeError(c, http.StatusInternalServerError, codeInternal, "stored decision does not decode: "+err.Error())
		return
	}
	req := &policy.Request{Request: tr, Endpoint: rd.Endpoint, Cluster: rd.Cluster, Explain: true,
		Subject: policy.Subject{User: tr.Context.Identity.User, Groups: tr.Context.Identity.Groups}}
	d, err := s.engine.DecideWith(withDecisionID(c.Request.Context(), id), rd.Snapshot, req)
	if err != nil {
		writeError(c, http.StatusInternalServerError, codeInternal, "re-deciding: "+err.Error())
		return
	}
	result := json.RawMessage(appendResult(nil, rd.Endpoint, d))
	c.JSON(http.StatusOK, gin.H{
		"decision_id": id,
		"time":        rd.Time.UTC().Format(time.RFC3339Nano),
		"endpoint":    rd.Endpoint.String(),
		"cluster":     rd.Cluster,
		"input":       json.RawMessage(rd.Body),
		"result":      result,
		"explanation": d.Explanation,
	})
}

// Run loads the policy, serves until ctx is done, then shuts down
// gracefully: readiness turns off first, requests keep being served for
// DrainDelay (each answer asks the client to reconnect), requests in flight
// finish, and only then do connections close.
func (s *Server) Run(ctx context.Context) error {
	if err := s.LoadPolicy(); err != nil {
		s.logger.Error("initial policy load failed; not ready until the files are fixed", "error", err)
	}
	decisionTLS, err := s.cfg.TLS.tlsConfig(true)
	if err != nil {
		return err
	}
	adminTLS, err := s.cfg.TLS.tlsConfig(false)
	if err != nil {
		return err
	}
	if s.cfg.Store != nil && s.cfg.Audit.Enabled {
		ao := s.cfg.Audit.Options
		ao.Logger, ao.Registerer = s.logger, s.metrics.registry
		if ao.ExplainFunc == nil {
			ao.ExplainFunc = audit.EngineExplainer(s.engine)
		}
		rec, err := audit.New(s.cfg.Store, ao)
		if err != nil {
			return fmt.Errorf("decision audit: %w", err)
		}
		s.recorder = rec
		defer s.closeRecorder()
	}
	servers := []*serving{{name: "decision", addr: s.cfg.Addr, handler: s.handler, tls: decisionTLS, bound: &s.addr}}
	if s.cfg.AdminAddr != "" {
		servers = append(servers, &serving{name: "admin", addr: s.cfg.AdminAddr, handler: s.admin, tls: adminTLS, bound: &s.adminAddr})
	}
	errc := make(chan error, len(servers))
	for _, sv := range servers {
		if err := s.start(ctx, sv, errc); err != nil {
			for _, o := range servers {
				if o.srv != nil {
					_ = o.srv.Close()
				}
			}
			return err
		}
	}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	go s.watcher.Run(watchCtx)
	if s.api != nil {
		go s.api.RunOutbox(watchCtx, time.Second, s.logger)
		go s.api.RunDivergenceCheck(watchCtx, s.cfg.DivergenceInterval, s.logger)
	}
	if s.reconciler != nil {
		go s.reconciler.Run(watchCtx)
	}
	if s.cfg.Store != nil && s.cfg.WebhookRetention > 0 {
		go s.purgeWebhookEvents(watchCtx)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.logger.Info("shutting down: draining", "drain_delay", s.cfg.DrainDelay)
	select {
	case <-time.After(s.cfg.DrainDelay):
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// Stop accepting decision connections, then give the clients half the
	// shutdown timeout to close the ones they hold; Shutdown then closes
	// what is left. Go's Shutdown closes idle connections and those that
	// have sent no request for 5 s, and either may be carrying a request
	// the client has just sent: Trino's plugin (which never retries) then
	// fails the statement. Every answer during the drain says
	// Connection: close, and Trino closes an unused connection after its
	// idle timeout, so waiting lets each connection end on the client's
	// side. Only the decision listener's: the admin listener's clients can
	// retry.
	dec := servers[0]
	if err := dec.ln.Close(); err != nil {
		s.logger.Warn("closing the decision listener", "err", err)
	}
	wctx, wcancel := context.WithTimeout(sctx, s.cfg.ShutdownTimeout/2)
	awaitConnsClosed(wctx, dec)
	wcancel()
	if dec.open.Load() > 0 {
		s.logger.Warn("closing decision connections the clients kept open past the drain", dec.openConnStates()...)
	}
	var errs []error
	for _, sv := range servers {
		if err := sv.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown %s listener: %w", sv.name, err))
		}
	}
	for range servers {
		// The decision listener's Serve ends with net.ErrClosed, since
		// its listener was closed before Shutdown.
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.logger.Info("shutdown complete")
	return nil
}

// serving is one listener and its server.
type serving struct {
	name    string
	addr    string
	handler http.Handler
	tls     *tls.Config
	bound   *atomic.Pointer[string]
	srv     *http.Server

	// ln is the listener Serve accepts from, closed once.
	ln *onceCloseListener
	// conns maps each open connection (net.Conn) to its *trackedConn, so
	// shutdown can wait for the clients to close them rather than close
	// them under a client that is about to send a request.
	conns sync.Map
	open  atomic.Int64
}

// trackedConn is a connection's last http.ConnState. It is stored once per
// connection and updated in place: storing into the sync.Map on every
// state change would allocate twice per request.
type trackedConn struct{ state atomic.Int32 }

// trackState keeps conns and open up to date.
func (sv *serving) trackState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		tc := &trackedConn{}
		tc.state.Store(int32(st))
		sv.conns.Store(c, tc)
		sv.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		if _, ok := sv.conns.LoadAndDelete(c); ok {
			sv.open.Add(-1)
		}
	default:
		if v, ok := sv.conns.Load(c); ok {
			v.(*trackedConn).state.Store(int32(st))
		}
	}
}

// openConnStates counts the connections still open by state, as log
// attributes.
func (sv *serving) openConnStates() []any {
	counts := map[http.ConnState]int{}
	total := 0
	sv.conns.Range(func(_, v any) bool {
		counts[http.ConnState(v.(*trackedConn).state.Load())]++
		total++
		return true
	})
	attrs := []any{"connections", total}
	for _, st := range []http.ConnState{http.StateNew, http.StateActive, http.StateIdle} {
		attrs = append(attrs, strings.ToLower(st.String()), counts[st])
	}
	return attrs
}

// awaitConnsClosed waits, until ctx ends, for the clients to close every
// connection of sv.
func awaitConnsClosed(ctx context.Context, sv *serving) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for sv.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// onceCloseListener closes its listener once, so that closing it before
// Shutdown (which closes it again) reports no error.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

func (s *Server) start(ctx context.Context, sv *serving, errc chan<- error) error {
	ln, err := listen(ctx, sv.addr, s.cfg.ReusePort)
	if err != nil {
		return fmt.Errorf("%s listener on %s: %w", sv.name, sv.addr, err)
	}
	scheme := "http"
	if sv.tls != nil {
		ln = tls.NewListener(ln, sv.tls)
		scheme = "https"
	}
	sv.srv = &http.Server{
		Handler:           sv.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		ConnState:         sv.trackState,
	}
	bound := ln.Addr().String()
	sv.bound.Store(&bound)
	sv.ln = &onceCloseListener{Listener: ln}
	go func() { errc <- sv.srv.Serve(sv.ln) }()
	s.logger.Info("warden listening", "listener", sv.name, "addr", bound, "scheme", scheme,
		"client_certificates", sv.tls != nil && sv.tls.ClientCAs != nil)
	return nil
}
