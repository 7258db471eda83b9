package audit

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/rego"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testRules allow analysts everything in tpch and nothing elsewhere.
const testRules = `{
  "catalogs": [{"group": "analysts", "catalog": "tpch", "allow": "all"}, {"catalog": "system", "allow": "read-only"}],
  "schemas": [{"group": "analysts", "catalog": "tpch", "owner": false}],
  "tables": [{"group": "analysts", "catalog": "tpch", "privileges": ["SELECT"]}],
  "queries": [{"allow": ["execute"]}]
}`

// policyBundle is a real engine and snapshot to decide and explain with.
type policyBundle struct {
	engine *policy.Engine
	snap   *policy.Snapshot
}

func newPolicy(t testing.TB) *policyBundle {
	t.Helper()
	ps, err := loader.BuildSet(loader.Documents{Rules: []byte(testRules), RulesName: "rules.json"}, rego.Options{})
	require.NoError(t, err)
	snap, err := policy.NewSnapshot(7, "test", map[string]*policy.PolicySet{policy.DefaultCluster: ps})
	require.NoError(t, err)
	eng := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, eng.Swap(snap))
	return &policyBundle{engine: eng, snap: snap}
}

// explainFunc re-decides with the engine, as the server wires it.
func (p *policyBundle) explainFunc() ExplainFunc { return EngineExplainer(p.engine) }

var idSeq atomic.Int64

// entry decodes body for ep, decides it and returns the entry the handler
// would record.
func (p *policyBundle) entry(t testing.TB, ep trino.Endpoint, body string) *Entry {
	t.Helper()
	tr, err := trino.Decode([]byte(body))
	require.NoError(t, err)
	require.NoError(t, tr.Validate(ep))
	req := &policy.Request{Request: tr, Endpoint: ep, Cluster: policy.DefaultCluster,
		Subject: policy.Subject{User: tr.Context.Identity.User, Groups: tr.Context.Identity.Groups}}
	start := time.Now()
	d, err := p.engine.DecideWith(context.Background(), p.snap, req)
	require.NoError(t, err)
	return &Entry{Time: start, DecisionID: fmt.Sprintf("dec-%08d", idSeq.Add(1)), Request: req, Snapshot: p.snap,
		Decision: d, Latency: time.Since(start)}
}

func selectBody(user, group, table string) string {
	return `{"input":{"context":{"identity":{"user":"` + user + `","groups":["` + group + `"]},"softwareStack":{"trinoVersion":"478"},"queryId":"q-` + user + `"},` +
		`"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"tpch","schemaName":"sf1","tableName":"` + table + `","columns":["custkey","totalprice"]}}}}}`
}

func executeQueryBody(user string) string {
	return `{"input":{"context":{"identity":{"user":"` + user + `","groups":["analysts"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"ExecuteQuery"}}}`
}

func filterCatalogsBody(user string, catalogs ...string) string {
	items := make([]string, len(catalogs))
	for i, c := range catalogs {
		items[i] = `{"catalog":{"name":"` + c + `"}}`
	}
	return `{"input":{"context":{"identity":{"user":"` + user + `","groups":["analysts"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"FilterCatalogs","filterResources":[` + strings.Join(items, ",") + `]}}}`
}

func filterTablesBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"input":{"context":{"identity":{"user":"alice","groups":["analysts"]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"FilterTables","filterResources":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		cat := "tpch"
		if i%3 == 0 {
			cat = "hive"
		}
		fmt.Fprintf(&b, `{"table":{"catalogName":"%s","schemaName":"s%d","tableName":"t%d"}}`, cat, i%7, i)
	}
	b.WriteString(`]}}}`)
	return b.String()
}

// openStore opens a store on a fresh database.
func openStore(t testing.TB, url string, opts store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, opts)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return st
}

// countRows counts every recorded decision.
func countRows(t testing.TB, st *store.Store) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		page, next, err := st.AuditDecisions(context.Background(), store.AuditFilter{}, cursor, 1000)
		require.NoError(t, err)
		n += len(page)
		if next == "" {
			return n
		}
		cursor = next
	}
}

// newRecorder starts a recorder closed at cleanup.
func newRecorder(t testing.TB, w store.AuditWriter, opts Options) (*Recorder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	r, err := New(w, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r, reg
}

func counterValue(c prometheus.Collector) int {
	return int(testutil.ToFloat64(c))
}

// crash stops the worker as a crash would: no flush, and the spool lock
// released as the kernel releases it when a process dies.
func (r *Recorder) crash() {
	close(r.abandon)
	<-r.done
	if r.sink != nil {
		close(r.sink.stop)
		<-r.sink.stopped
	}
	r.spool.close()
	r.once.Do(func() { r.closed.Store(true); close(r.closing) })
	r.finish.Do(func() {})
}

// droppedTotal sums warden_audit_dropped_total over its reasons.
func droppedTotal(r *Recorder) int {
	n := 0
	for _, reason := range []string{dropQueueFull, dropClosed, dropUnavailable, dropExpired, dropCorrupt, dropInvalid} {
		n += counterValue(r.m.dropped.WithLabelValues(reason))
	}
	return n
}
