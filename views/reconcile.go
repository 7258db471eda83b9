package views

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/views/sqlgen"
)

// Trino is what the reconciler needs of Trino: *Client.
type Trino interface {
	Exec(ctx context.Context, sql string) error
	Query(ctx context.Context, sql string, args ...any) ([][]any, error)
	ListViews(ctx context.Context, catalog string) ([]ViewInfo, error)
}

var _ Trino = (*Client)(nil)

// Action is one step of a plan.
type Action struct {
	// Kind is "create-schema", "create", "replace" or "drop".
	Kind   string `json:"kind"`
	Schema string `json:"schema"`
	View   string `json:"view,omitempty"`
	// Reason says why: "missing", "definition differs", "stale", "not
	// registered".
	Reason string `json:"reason"`
	SQL    string `json:"sql"`
}

// Plan is what a sync would do to make the governed catalog match.
type Plan struct {
	Actions []Action `json:"actions"`
	// Views is the number of registered views.
	Views int `json:"views"`
}

// Status is the outcome of the last sync.
type Status struct {
	At       time.Time `json:"at"`
	Applied  int       `json:"applied"`
	Planned  int       `json:"planned"`
	Done     bool      `json:"done"`
	Error    string    `json:"error,omitempty"`
	Drift    []string  `json:"drift,omitempty"`
	Views    int       `json:"views"`
	Attempts int       `json:"attempts"`
}

// ReconcilerOptions configure a Reconciler.
type ReconcilerOptions struct {
	// Interval is how often the catalog is checked even without a change
	// (default 30s): this is how a Trino restart (memory-connector views
	// vanish), a dropped view or a drifted source is caught.
	Interval time.Duration
	// MaxBackoff bounds the wait between failed syncs (default 1m).
	MaxBackoff time.Duration
	// CheckStale probes every view with a query that reads no row, to find
	// views Trino reports stale after the source's schema changed (default
	// true through Interval ticks; not on change-triggered syncs).
	CheckStale bool
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// LockFunc, when set, runs a sync under a lock shared by the replicas
	// (a PostgreSQL advisory lock), so that one replica applies DDL at a
	// time; ok is false when another holds it.
	LockFunc func(ctx context.Context, fn func(context.Context) error) (ok bool, err error)
}

// Reconciler keeps the views of the governed catalog equal to the
// registered data sources: it creates the missing ones, replaces those whose
// definition differs or that Trino reports stale, and drops the ones nobody
// registered. User and attribute changes need no DDL: they act through the
// decision endpoints.
type Reconciler struct {
	trino   Trino
	catalog func() *Catalog
	opts    ReconcilerOptions
	log     *slog.Logger
	kick    chan struct{}
	m       *reconcileMetrics

	mu     sync.Mutex
	status Status
}

type reconcileMetrics struct {
	syncs   *prometheus.CounterVec
	actions *prometheus.CounterVec
	drift   prometheus.Gauge
}

// NewReconciler returns a reconciler that applies the catalog that
// catalogFunc returns (the views source's current one) through trino.
func NewReconciler(trino Trino, catalogFunc func() *Catalog, opts ReconcilerOptions) *Reconciler {
	if opts.Interval <= 0 {
		opts.Interval = 30 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &reconcileMetrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_views_syncs_total",
			Help: "Reconciliations of the governed catalog, by outcome (ok, failed, skipped: another replica held the lock)."}, []string{"outcome"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_views_actions_total",
			Help: "DDL statements the reconciler applied, by kind and outcome."}, []string{"kind", "outcome"}),
		drift: prometheus.NewGauge(prometheus.GaugeOpts{Name: "warden_views_drift",
			Help: "Views the last sync found differing from their registration (missing, changed, stale or unregistered)."}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(m.syncs, m.actions, m.drift)
	}
	return &Reconciler{trino: trino, catalog: catalogFunc, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1), m: m}
}

// Kick asks for a sync soon: a registration changed.
func (r *Reconciler) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Status returns the outcome of the last sync.
func (r *Reconciler) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Drift = append([]string(nil), s.Drift...)
	return s
}

// Run syncs at start, on every Kick and every Interval, until ctx ends.
// After a failure it retries with a backoff that doubles up to MaxBackoff.
func (r *Reconciler) Run(ctx context.Context) {
	backoff := time.Duration(0)
	stale := r.opts.CheckStale
	for {
		err := r.syncLocked(ctx, stale)
		wait := r.opts.Interval
		if err != nil && ctx.Err() == nil {
			backoff = min(max(2*backoff, time.Second), r.opts.MaxBackoff)
			wait = backoff
			r.log.Warn("syncing the governed catalog failed; retrying", "error", err, "retry_in", backoff)
		} else {
			backoff = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.kick:
			stale = false
		case <-t.C:
			stale = r.opts.CheckStale
		}
		t.Stop()
	}
}

// syncLocked is Sync under the replicas' lock, when there is one.
func (r *Reconciler) syncLocked(ctx context.Context, checkStale bool) error {
	if r.opts.LockFunc == nil {
		_, err := r.Sync(ctx, false, checkStale)
		return err
	}
	ok, err := r.opts.LockFunc(ctx, func(ctx context.Context) error {
		_, err := r.Sync(ctx, false, checkStale)
		return err
	})
	if err == nil && !ok {
		r.m.syncs.WithLabelValues("skipped").Inc()
	}
	return err
}

// Sync plans the changes that make Trino's governed catalog match the
// registrations and, unless dryRun, applies them in order. It stops at the
// first failed statement and reports how far it got: a half-applied plan
// is never reported as done. The next sync starts from what Trino then
// holds.
func (r *Reconciler) Sync(ctx context.Context, dryRun, checkStale bool) (Plan, error) {
	plan, err := r.plan(ctx, checkStale)
	st := Status{At: time.Now(), Planned: len(plan.Actions), Views: plan.Views}
	for _, a := range plan.Actions {
		st.Drift = append(st.Drift, a.Kind+" "+a.Schema+"."+a.View+": "+a.Reason)
	}
	if err == nil && !dryRun {
		for _, a := range plan.Actions {
			if err = r.trino.Exec(ctx, a.SQL); err != nil {
				r.m.actions.WithLabelValues(a.Kind, "failed").Inc()
				err = fmt.Errorf("%s %s.%s: %w", a.Kind, a.Schema, a.View, err)
				break
			}
			r.m.actions.WithLabelValues(a.Kind, "ok").Inc()
			st.Applied++
		}
	}
	if dryRun {
		return plan, err
	}
	st.Done = err == nil
	if err != nil {
		st.Error = err.Error()
		r.m.syncs.WithLabelValues("failed").Inc()
	} else {
		r.m.syncs.WithLabelValues("ok").Inc()
		if len(plan.Actions) > 0 {
			r.log.Info("governed catalog synced", "applied", st.Applied, "views", plan.Views)
		}
	}
	r.m.drift.Set(float64(len(plan.Actions) - st.Applied))
	r.mu.Lock()
	st.Attempts = r.status.Attempts + 1
	r.status = st
	r.mu.Unlock()
	return plan, err
}

// plan compares the registrations with Trino's views.
func (r *Reconciler) plan(ctx context.Context, checkStale bool) (Plan, error) {
	c := r.catalog()
	gov := strings.ToLower(c.opts.Catalog)
	actual, err := r.trino.ListViews(ctx, gov)
	if err != nil {
		return Plan{}, fmt.Errorf("listing the views of %s: %w", gov, err)
	}
	have := map[string]ViewInfo{}
	schemas := map[string]bool{}
	for _, v := range actual {
		have[lower(v.Schema, v.Name)] = v
		schemas[strings.ToLower(v.Schema)] = true
	}
	existingSchemas, err := r.schemas(ctx, gov)
	if err != nil {
		return Plan{}, err
	}
	var plan Plan
	want := map[string]bool{}
	ds := c.Datasources()
	plan.Views = len(ds)
	var creates []Action
	for _, d := range ds {
		schema, name := strings.ToLower(d.ViewSchema), strings.ToLower(d.ViewTable)
		key := lower(schema, name)
		want[key] = true
		stmt, err := ViewSQL(gov, d)
		if err != nil {
			return Plan{}, fmt.Errorf("datasource %d: %w", d.ID, err)
		}
		sel, _ := selectSQL(d)
		cur, exists := have[key]
		switch {
		case !exists:
			if !existingSchemas[schema] && !schemas[schema] {
				qc, err := sqlgen.QuoteIdent(gov)
				if err != nil {
					return Plan{}, err
				}
				qs, err := sqlgen.QuoteIdent(schema)
				if err != nil {
					return Plan{}, err
				}
				plan.Actions = append(plan.Actions, Action{Kind: "create-schema", Schema: schema, Reason: "missing",
					SQL: "CREATE SCHEMA IF NOT EXISTS " + qc + "." + qs})
				schemas[schema] = true
			}
			creates = append(creates, Action{Kind: "create", Schema: schema, View: name, Reason: "missing", SQL: stmt})
		case normalizeSQL(cur.Definition) != normalizeSQL(sel):
			creates = append(creates, Action{Kind: "replace", Schema: schema, View: name, Reason: "definition differs", SQL: stmt})
		case checkStale:
			if stale, why := r.stale(ctx, gov, schema, name); stale {
				creates = append(creates, Action{Kind: "replace", Schema: schema, View: name, Reason: "stale: " + why, SQL: stmt})
			}
		}
	}
	plan.Actions = append(plan.Actions, creates...)
	keys := make([]string, 0, len(have))
	for k := range have {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if want[k] {
			continue
		}
		v := have[k]
		q, err := sqlgen.QualifiedName{Catalog: gov, Schema: v.Schema, Name: v.Name}.Quoted()
		if err != nil {
			return Plan{}, err
		}
		plan.Actions = append(plan.Actions, Action{Kind: "drop", Schema: v.Schema, View: v.Name, Reason: "not registered", SQL: "DROP VIEW " + q})
	}
	return plan, nil
}

// schemas lists the schemas of the governed catalog.
func (r *Reconciler) schemas(ctx context.Context, catalog string) (map[string]bool, error) {
	q, err := sqlgen.QuoteIdent(catalog)
	if err != nil {
		return nil, err
	}
	rows, err := r.trino.Query(ctx, "SELECT schema_name FROM "+q+".information_schema.schemata")
	if err != nil {
		return nil, fmt.Errorf("listing the schemas of %s: %w", catalog, err)
	}
	out := map[string]bool{}
	for _, row := range rows {
		if len(row) > 0 {
			if s, ok := row[0].(string); ok {
				out[strings.ToLower(s)] = true
			}
		}
	}
	return out, nil
}

// stale asks Trino to plan a query of the view that reads no row: a view
// whose source changed under it fails to analyse.
func (r *Reconciler) stale(ctx context.Context, catalog, schema, name string) (bool, string) {
	q, err := sqlgen.QualifiedName{Catalog: catalog, Schema: schema, Name: name}.Quoted()
	if err != nil {
		return false, ""
	}
	_, err = r.trino.Query(ctx, "SELECT * FROM "+q+" WHERE false")
	if err == nil {
		return false, ""
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return true, qe.Message
	}
	return false, "" // Trino unreachable: not a statement about the view
}

// normalizeSQL drops the white space outside quoted identifiers and string
// literals, so a definition compares equal however Trino formatted it when
// it stored it (it puts each column on its own line).
func normalizeSQL(s string) string {
	var b strings.Builder
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
