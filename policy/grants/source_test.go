package grants_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
	"github.com/trino-warden/warden/policy/trino"
)

func TestMain(m *testing.M) { os.Exit(fgatest.Main(m, fgatest.Options{})) }

// counter is a RelationChecker decorator that counts the calls reaching the
// client and records their consistency.
type counter struct {
	next   grants.RelationChecker
	checks atomic.Int64
	lists  atomic.Int64
	mu     sync.Mutex
	cons   []grants.Consistency
}

func (c *counter) Check(ctx context.Context, items []grants.CheckItem, cons grants.Consistency) ([]bool, error) {
	c.checks.Add(1)
	c.mu.Lock()
	c.cons = append(c.cons, cons)
	c.mu.Unlock()
	return c.next.Check(ctx, items, cons)
}

func (c *counter) ListObjects(ctx context.Context, req grants.ListRequest, cons grants.Consistency) ([]string, error) {
	c.lists.Add(1)
	c.mu.Lock()
	c.cons = append(c.cons, cons)
	c.mu.Unlock()
	return c.next.ListObjects(ctx, req, cons)
}

func (c *counter) calls() int64 { return c.checks.Load() + c.lists.Load() }

func (c *counter) lastConsistency() grants.Consistency {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cons[len(c.cons)-1]
}

type testBundle struct {
	src     *grants.Source
	client  *fgaclient.OpenFgaClient // bound to the test's store, for direct writes
	count   *counter
	reg     *prometheus.Registry
	storeID string
}

func setup(t testing.TB, srv *fgatest.Server, mod func(*grants.Options)) *testBundle {
	t.Helper()
	c := srv.NewStore(t)
	modelID, err := grants.WriteModel(context.Background(), c)
	require.NoError(t, err)
	require.NoError(t, c.SetAuthorizationModelId(modelID))
	storeID, _ := c.GetStoreId()
	b := &testBundle{client: c, count: &counter{}, reg: prometheus.NewRegistry(), storeID: storeID}
	opts := grants.Options{
		APIURL: srv.URL(), StoreID: storeID, ModelID: modelID,
		ChangesInterval: -1, Registerer: b.reg,
		WrapCheckerFunc: func(next grants.RelationChecker) grants.RelationChecker {
			b.count.next = next
			return b.count
		},
	}
	if mod != nil {
		mod(&opts)
	}
	b.src, err = grants.New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(b.src.Close)
	return b
}

func grant(t testing.TB, principal, priv, object string) grants.Tuple {
	t.Helper()
	tp, err := grants.Grant{Principal: principal, Privilege: priv, Object: object}.Tuple()
	require.NoError(t, err)
	return tp
}

func deny(t testing.TB, principal, priv, object string) grants.Tuple {
	t.Helper()
	tp, err := grants.Grant{Principal: principal, Privilege: priv, Object: object, Deny: true}.Tuple()
	require.NoError(t, err)
	return tp
}

func tableReq(op trino.Operation, user string, groups []string, c, s, tb string, cols ...string) *policy.Request {
	return &policy.Request{
		Request: &trino.Request{Op: op, Input: trino.Input{Action: trino.Action{Operation: op.String(),
			Resource: &trino.Resource{Table: &trino.Table{CatalogName: c, SchemaName: s, TableName: tb, Columns: cols}}}}},
		Endpoint: trino.EndpointAllow,
		Subject:  policy.Subject{User: user, Groups: groups},
	}
}

func req(op trino.Operation, user string, groups []string, r *trino.Resource) *policy.Request {
	return &policy.Request{
		Request:  &trino.Request{Op: op, Input: trino.Input{Action: trino.Action{Operation: op.String(), Resource: r}}},
		Endpoint: trino.EndpointAllow,
		Subject:  policy.Subject{User: user, Groups: groups},
	}
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)
	expired, err := grants.Grant{Principal: "user:eve", Privilege: "select", Object: "table:c.s.t", ExpiresAt: &past}.Tuple()
	require.NoError(t, err)
	live, err := grants.Grant{Principal: "user:fay", Privilege: "select", Object: "table:c.s.t", ExpiresAt: &future}.Tuple()
	require.NoError(t, err)
	require.NoError(t, b.src.WriteTuples(ctx, []grants.Tuple{
		grant(t, "user:alice", "select", "table:c.s.t"),
		grant(t, "group:analysts", "insert", "table:c.s.t"),
		grant(t, "role:etl", "delete", "schema:c.s"),
		grant(t, "user:rita", "assignee", "role:etl"),
		grant(t, "user:carl", "select", "catalog:c"),
		deny(t, "user:carl", "select", "table:c.s.secret"),
		grant(t, "group:owners", "ownership", "schema:c.s"),
		deny(t, "group:interns", "select", "catalog:c"),
		expired, live,
		grant(t, "user:alice", "impersonator", "user:bob"),
		grant(t, "user:ops", "read", "system:global"),
		grant(t, "user:alice", "execute", "schema:c.fn"),
		grant(t, "user:colin", "select", "column:c.s.t.a"),
		grant(t, "user:colin", "select", "column:c.s.t.b"),
		deny(t, "group:x", "select", "column:c.s.t.pii"),
		grant(t, "user:odd", "select", `table:"we.ird".s/x."t:#1"`),
	}, nil))

	for _, tc := range []struct {
		name string
		req  *policy.Request
		want policy.Effect
	}{
		{"user grant", tableReq(trino.OpSelectFromColumns, "alice", nil, "c", "s", "t"), policy.Allow},
		{"no grant abstains", tableReq(trino.OpInsertIntoTable, "alice", nil, "c", "s", "t"), policy.Abstain},
		{"group grant via Subject.Groups", tableReq(trino.OpInsertIntoTable, "bob", []string{"analysts"}, "c", "s", "t"), policy.Allow},
		{"role grant on schema covers table", tableReq(trino.OpDeleteFromTable, "rita", nil, "c", "s", "t"), policy.Allow},
		{"truncate maps to delete", tableReq(trino.OpTruncateTable, "rita", nil, "c", "s", "other"), policy.Allow},
		{"role grant not for others", tableReq(trino.OpDeleteFromTable, "bob", nil, "c", "s", "t"), policy.Abstain},
		{"catalog grant covers table", tableReq(trino.OpSelectFromColumns, "carl", nil, "c", "x", "y"), policy.Allow},
		{"table deny vetoes catalog grant", tableReq(trino.OpSelectFromColumns, "carl", nil, "c", "s", "secret"), policy.Deny},
		{"group deny on catalog vetoes user grant", tableReq(trino.OpSelectFromColumns, "alice", []string{"interns"}, "c", "s", "t"), policy.Deny},
		{"schema ownership covers DDL", tableReq(trino.OpDropTable, "x", []string{"owners"}, "c", "s", "t"), policy.Allow},
		{"expired grant not honoured", tableReq(trino.OpSelectFromColumns, "eve", nil, "c", "s", "t"), policy.Abstain},
		{"unexpired grant honoured", tableReq(trino.OpSelectFromColumns, "fay", nil, "c", "s", "t"), policy.Allow},
		{"column grants cover selected columns", tableReq(trino.OpSelectFromColumns, "colin", nil, "c", "s", "t", "a", "b"), policy.Allow},
		{"column grants do not cover other columns", tableReq(trino.OpSelectFromColumns, "colin", nil, "c", "s", "t", "a", "z"), policy.Abstain},
		{"many columns span several server batches", tableReq(trino.OpSelectFromColumns, "alice", []string{"x"}, "c", "s", "t", manyCols(30)...), policy.Allow},
		{"many columns, column deny", tableReq(trino.OpSelectFromColumns, "alice", []string{"x"}, "c", "s", "t", append(manyCols(30), "pii")...), policy.Deny},
		{"odd names", tableReq(trino.OpSelectFromColumns, "odd", nil, "we.ird", "s/x", "t:#1"), policy.Allow},
		{"impersonation", req(trino.OpImpersonateUser, "alice", nil, &trino.Resource{User: &trino.User{User: "bob"}}), policy.Allow},
		{"impersonation other", req(trino.OpImpersonateUser, "alice", nil, &trino.Resource{User: &trino.User{User: "root"}}), policy.Abstain},
		{"system information", req(trino.OpReadSystemInformation, "ops", nil, nil), policy.Allow},
		{"execute function", req(trino.OpExecuteFunction, "alice", nil, &trino.Resource{Function: &trino.Function{CatalogName: "c", SchemaName: "fn", FunctionName: "f"}}), policy.Allow},
		{"access catalog via table grant", req(trino.OpAccessCatalog, "alice", nil, &trino.Resource{Catalog: &trino.Catalog{Name: "c"}}), policy.Allow},
		{"access other catalog", req(trino.OpAccessCatalog, "alice", nil, &trino.Resource{Catalog: &trino.Catalog{Name: "d"}}), policy.Abstain},
		{"show tables via table grant", req(trino.OpShowTables, "alice", nil, &trino.Resource{Schema: &trino.Schema{CatalogName: "c", SchemaName: "s"}}), policy.Allow},
		{"filter one column, column grant", req(trino.OpFilterColumns, "colin", nil, &trino.Resource{Table: &trino.Table{CatalogName: "c", SchemaName: "s", TableName: "t", Columns: []string{"a"}}}), policy.Allow},
		{"filter one column, other column", req(trino.OpFilterColumns, "colin", nil, &trino.Resource{Table: &trino.Table{CatalogName: "c", SchemaName: "s", TableName: "t", Columns: []string{"z"}}}), policy.Abstain},
		{"show columns via column grant", req(trino.OpShowColumns, "colin", nil, &trino.Resource{Table: &trino.Table{CatalogName: "c", SchemaName: "s", TableName: "t"}}), policy.Allow},
		{"unmapped op abstains", req(trino.OpExecuteQuery, "alice", nil, nil), policy.Abstain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := b.src.Authorize(ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.want, v.Effect, "reason %+v", v.Reason)
			if tc.want == policy.Deny {
				require.Contains(t, v.Reason.Rule, "denied_select")
			}
		})
	}
}

func manyCols(n int) []string {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = fmt.Sprintf("col%d", i)
	}
	return cols
}

func filterReq(op trino.Operation, user string, groups []string, items []trino.Resource) *policy.Request {
	return &policy.Request{
		Request:  &trino.Request{Op: op, Input: trino.Input{Action: trino.Action{Operation: op.String(), FilterResources: items}}},
		Endpoint: trino.EndpointBatch,
		Subject:  policy.Subject{User: user, Groups: groups},
	}
}

func runFilter(t testing.TB, src *grants.Source, r *policy.Request) ([]int, error) {
	n := r.Items()
	out := policy.BatchVerdict{Allow: make([]bool, n), Deny: make([]bool, n)}
	if err := src.Filter(context.Background(), r, &out); err != nil {
		return nil, err
	}
	var kept []int
	for i := range out.Allow {
		require.False(t, out.Deny[i])
		if out.Allow[i] {
			kept = append(kept, i)
		}
	}
	return kept, nil
}

func tables(n int) []trino.Resource {
	items := make([]trino.Resource, n)
	for i := range items {
		items[i] = trino.Resource{Table: &trino.Table{CatalogName: "c" + fmt.Sprint(i%3), SchemaName: "s" + fmt.Sprint(i%7), TableName: "t" + fmt.Sprint(i)}}
	}
	return items
}

func TestFilter(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	require.NoError(t, b.src.WriteTuples(ctx, []grants.Tuple{
		grant(t, "user:alice", "select", "table:c0.s0.t0"),
		grant(t, "group:g", "select", "schema:c1.s1"),
		grant(t, "user:alice", "use", "catalog:c2"),
		grant(t, "user:alice", "select", "column:c0.s3.t3.x"),
	}, nil))

	cats := filterReq(trino.OpFilterCatalogs, "alice", nil, []trino.Resource{
		{Catalog: &trino.Catalog{Name: "c0"}}, {Catalog: &trino.Catalog{Name: "c1"}}, {Catalog: &trino.Catalog{Name: "c2"}}, {Catalog: &trino.Catalog{Name: "c9"}}})
	kept, err := runFilter(t, b.src, cats)
	require.NoError(t, err)
	require.Equal(t, []int{0, 2}, kept, "a table grant makes its catalog visible")

	cats.Subject.Groups = []string{"g"}
	kept, err = runFilter(t, b.src, cats)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2}, kept)

	schemas := filterReq(trino.OpFilterSchemas, "alice", nil, []trino.Resource{
		{Schema: &trino.Schema{CatalogName: "c0", SchemaName: "s0"}}, {Schema: &trino.Schema{CatalogName: "c0", SchemaName: "s1"}},
		{Schema: &trino.Schema{CatalogName: "c2", SchemaName: "any"}}, {Schema: &trino.Schema{CatalogName: "c0", SchemaName: "s3"}}})
	kept, err = runFilter(t, b.src, schemas)
	require.NoError(t, err)
	require.Equal(t, []int{0, 2, 3}, kept)

	tabs := filterReq(trino.OpFilterTables, "alice", []string{"g"}, []trino.Resource{
		{Table: &trino.Table{CatalogName: "c0", SchemaName: "s0", TableName: "t0"}},
		{Table: &trino.Table{CatalogName: "c0", SchemaName: "s0", TableName: "t1"}},
		{Table: &trino.Table{CatalogName: "c1", SchemaName: "s1", TableName: "anything"}},
		{Table: &trino.Table{CatalogName: "c2", SchemaName: "x", TableName: "y"}},
		{Table: &trino.Table{CatalogName: "c0", SchemaName: "s3", TableName: "t3"}},
	})
	kept, err = runFilter(t, b.src, tabs)
	require.NoError(t, err)
	require.Equal(t, []int{0, 2, 3, 4}, kept)

	cols := filterReq(trino.OpFilterColumns, "alice", nil, []trino.Resource{
		{Table: &trino.Table{CatalogName: "c0", SchemaName: "s3", TableName: "t3", Columns: []string{"w", "x", "y"}}}})
	kept, err = runFilter(t, b.src, cols)
	require.NoError(t, err)
	require.Equal(t, []int{1}, kept)
}

// TestFilterTablesLinear checks that the OpenFGA calls of a filter depend on
// the subjects, never on the number of items.
func TestFilterTablesLinear(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	var ws []grants.Tuple
	// More grants than non-streamed ListObjects returns (1,000): the
	// streamed list has no cap, so none is lost.
	for i := 0; i < 1200; i++ {
		ws = append(ws, grant(t, "user:alice", "select", fmt.Sprintf("table:c%d.s%d.t%d", i%3, i%7, i)))
	}
	ws = append(ws, grant(t, "group:g", "select", "schema:c1.s1"))
	require.NoError(t, b.src.WriteTuples(ctx, ws, nil))

	var perRequest []int64
	for _, n := range []int{50, 5000} {
		b.src.SetRevision(int64(n)) // fresh cache keys: every request goes to OpenFGA
		before := b.count.calls()
		kept, err := runFilter(t, b.src, filterReq(trino.OpFilterTables, "alice", []string{"g", "h"}, tables(n)))
		require.NoError(t, err)
		perRequest = append(perRequest, b.count.calls()-before)
		want := 0
		for i := 0; i < n; i++ {
			if i < 1200 || (i%3 == 1 && i%7 == 1) {
				want++
			}
		}
		require.Len(t, kept, want)
	}
	require.Equal(t, perRequest[0], perRequest[1], "calls per request must not grow with items")
	require.Equal(t, int64(3*4), perRequest[1], "one list per subject and type")

	// Warm: no call at all.
	before := b.count.calls()
	_, err := runFilter(t, b.src, filterReq(trino.OpFilterTables, "alice", []string{"g", "h"}, tables(5000)))
	require.NoError(t, err)
	require.Equal(t, before, b.count.calls())
}

func TestTruncatedListFails(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), func(o *grants.Options) { o.ListObjectsDeadline = time.Microsecond })
	_, err := runFilter(t, b.src, filterReq(trino.OpFilterTables, "alice", nil, tables(10)))
	require.ErrorIs(t, err, grants.ErrTruncated)
	require.ErrorIs(t, err, grants.ErrUnavailable)
	v, err := b.src.Authorize(context.Background(), req(trino.OpAccessCatalog, "alice", nil, &trino.Resource{Catalog: &trino.Catalog{Name: "c"}}))
	require.Error(t, err)
	require.Equal(t, policy.Abstain, v.Effect)
}

func TestOpenFGAStopped(t *testing.T) {
	t.Parallel()
	srv, err := fgatest.Start(fgatest.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	b := setup(t, srv, func(o *grants.Options) {
		o.RequestTimeout = 500 * time.Millisecond
		o.ListObjectsDeadline = time.Second
	})
	ctx := context.Background()
	require.NoError(t, b.src.WriteTuples(ctx, []grants.Tuple{grant(t, "user:alice", "select", "table:c.s.t")}, nil))
	cached := tableReq(trino.OpSelectFromColumns, "alice", nil, "c", "s", "t")
	v, err := b.src.Authorize(ctx, cached)
	require.NoError(t, err)
	require.Equal(t, policy.Allow, v.Effect)
	_, err = runFilter(t, b.src, filterReq(trino.OpFilterTables, "alice", nil, tables(3)))
	require.NoError(t, err)

	srv.Stop()
	v, err = b.src.Authorize(ctx, cached)
	require.NoError(t, err, "a cached answer keeps working")
	require.Equal(t, policy.Allow, v.Effect)
	_, err = runFilter(t, b.src, filterReq(trino.OpFilterTables, "alice", nil, tables(3)))
	require.NoError(t, err, "cached lists keep working")

	_, err = b.src.Authorize(ctx, tableReq(trino.OpSelectFromColumns, "alice", nil, "c", "s", "other"))
	require.ErrorIs(t, err, grants.ErrUnavailable, "an uncached check fails closed")
	_, err = runFilter(t, b.src, filterReq(trino.OpFilterTables, "bob", nil, tables(3)))
	require.ErrorIs(t, err, grants.ErrUnavailable, "an uncached filter fails closed")
	require.Equal(t, 1.0, counterValue(t, b.reg, "warden_grants_unavailable_total", "check"))
	require.GreaterOrEqual(t, counterValue(t, b.reg, "warden_grants_unavailable_total", "list"), 1.0)

	// Through the engine: a single check is denied, a batch keeps nothing.
	eng := policy.NewEngine(policy.EngineOptions{})
	snap, err := policy.NewSnapshot(1, "test", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(b.src)})
	require.NoError(t, err)
	require.NoError(t, eng.Swap(snap))
	single := tableReq(trino.OpSelectFromColumns, "alice", nil, "c", "s", "uncached")
	single.Cluster = policy.DefaultCluster
	d, err := eng.Decide(ctx, single)
	require.NoError(t, err)
	require.False(t, d.Allowed)
	require.True(t, d.Errored)
	batch := filterReq(trino.OpFilterTables, "carol", nil, tables(3))
	batch.Cluster = policy.DefaultCluster
	d, err = eng.Decide(ctx, batch)
	require.NoError(t, err)
	require.Empty(t, d.Indices)
	require.True(t, d.Errored)

	// The harness restarts the server on the same address.
	require.NoError(t, srv.Start())
}

func counterValue(t testing.TB, reg *prometheus.Registry, name, op string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "endpoint" && l.GetValue() == op {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestReadChangesInvalidates(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), func(o *grants.Options) { o.ChangesInterval = 100 * time.Millisecond; o.CacheTTL = time.Hour })
	ctx := context.Background()
	r := tableReq(trino.OpSelectFromColumns, "zoe", nil, "c", "s", "t")
	v, err := b.src.Authorize(ctx, r)
	require.NoError(t, err)
	require.Equal(t, policy.Abstain, v.Effect)

	// Another system writes a tuple directly.
	_, err = b.client.WriteTuples(ctx).Body([]fgaclient.ClientTupleKey{{User: "user:zoe", Relation: "select", Object: "table:c/s/t"}}).Execute()
	require.NoError(t, err)
	start := time.Now()
	require.Eventually(t, func() bool {
		v, err := b.src.Authorize(ctx, r)
		return err == nil && v.Effect == policy.Allow
	}, 3*time.Second, 20*time.Millisecond)
	t.Logf("picked up after %v", time.Since(start))
}

func TestSetRevisionForcesHigherConsistency(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	r := tableReq(trino.OpSelectFromColumns, "alice", nil, "c", "s", "t")
	_, err := b.src.Authorize(ctx, r)
	require.NoError(t, err)
	require.Equal(t, grants.MinimizeLatency, b.count.lastConsistency())

	require.NoError(t, b.src.WriteTuples(ctx, []grants.Tuple{grant(t, "user:alice", "select", "table:c.s.t")}, nil))
	b.src.SetRevision(7)
	v, err := b.src.Authorize(ctx, r)
	require.NoError(t, err)
	require.Equal(t, policy.Allow, v.Effect, "a write followed by a revision bump is seen at once")
	require.Equal(t, grants.HigherConsistency, b.count.lastConsistency())

	_, err = b.src.Authorize(ctx, tableReq(trino.OpInsertIntoTable, "alice", nil, "c", "s", "t"))
	require.NoError(t, err)
	require.Equal(t, grants.MinimizeLatency, b.count.lastConsistency(), "only the first request after a bump")
}

func TestWriteAndListGrants(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	g1 := grants.Grant{Principal: "group:analysts", Privilege: "select", Object: "table:tpch.sf1.orders"}
	g2 := grants.Grant{Principal: "group:analysts", Privilege: "select", Object: `table:"my.cat".sf1.orders`, ExpiresAt: &exp}
	g3 := grants.Grant{Principal: "group:analysts", Privilege: "insert", Object: "schema:tpch.sf1", Deny: true}
	var ts []grants.Tuple
	for _, g := range []grants.Grant{g1, g2, g3} {
		tp, err := g.Tuple()
		require.NoError(t, err)
		ts = append(ts, tp)
	}
	require.NoError(t, b.src.WriteTuples(ctx, ts, nil))
	require.NoError(t, b.src.WriteTuples(ctx, ts, nil), "writing existing tuples is not an error")
	missing := grant(t, "user:nobody", "select", "table:a.b.c")
	require.NoError(t, b.src.WriteTuples(ctx, nil, []grants.Tuple{missing}), "deleting a missing tuple is not an error")

	var got []grants.Grant
	f := grants.GrantFilter{Principal: "group:analysts", PageSize: 1}
	for i := 0; i < 50; i++ {
		p, err := b.src.ListGrants(ctx, f)
		require.NoError(t, err)
		got = append(got, p.Grants...)
		if p.ContinuationToken == "" {
			break
		}
		f.ContinuationToken = p.ContinuationToken
	}
	require.ElementsMatch(t, []grants.Grant{g1, g2, g3}, got)

	p, err := b.src.ListGrants(ctx, grants.GrantFilter{Object: "table:tpch.sf1.orders"})
	require.NoError(t, err)
	require.Equal(t, []grants.Grant{g1}, p.Grants)

	require.NoError(t, b.src.WriteTuples(ctx, nil, ts[:1]))
	p, err = b.src.ListGrants(ctx, grants.GrantFilter{Object: "table:tpch.sf1.orders"})
	require.NoError(t, err)
	require.Empty(t, p.Grants)

	_, err = b.src.ListGrants(ctx, grants.GrantFilter{})
	require.ErrorIs(t, err, grants.ErrInvalid)
}

func TestMayAdminister(t *testing.T) {
	t.Parallel()
	b := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	require.NoError(t, b.src.WriteTuples(ctx, []grants.Tuple{grant(t, "group:sales-owners", "grant_admin", "catalog:sales")}, nil))
	for obj, want := range map[string]bool{
		"catalog:sales": true, "schema:sales.eu": true, "table:sales.eu.orders": true,
		"column:sales.eu.orders.id": true, "table:hr.x.y": false, "catalog:hr": false,
	} {
		ok, err := b.src.MayAdminister(ctx, "dora", []string{"sales-owners"}, obj)
		require.NoError(t, err)
		require.Equal(t, want, ok, obj)
	}
	ok, err := b.src.MayAdminister(ctx, "dora", nil, "catalog:sales")
	require.NoError(t, err)
	require.False(t, ok)
}

func TestEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := grants.New(ctx, grants.Options{ChangesInterval: -1})
	require.NoError(t, err)
	defer src.Close()
	require.NoError(t, src.WriteTuples(ctx, []grants.Tuple{grant(t, "user:alice", "select", "catalog:c")}, nil))
	v, err := src.Authorize(ctx, tableReq(trino.OpSelectFromColumns, "alice", nil, "c", "s", "t"))
	require.NoError(t, err)
	require.Equal(t, policy.Allow, v.Effect)
	require.NotEmpty(t, src.StoreID())
	require.NotEmpty(t, src.ModelID())
}

// TestScratch: a scratch copy takes removals and additions that the live
// store never sees, and is deleted afterwards.
func TestScratch(t *testing.T) {
	t.Parallel()
	tb := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	orders := grant(t, "group:analysts", "select", "table:c.s.orders")
	items := grant(t, "user:alice", "select", "table:c.s.items")
	require.NoError(t, tb.src.WriteTuples(ctx, []grants.Tuple{orders}, nil))
	allowed := func(src *grants.Source, table string) bool {
		v, err := src.Authorize(ctx, tableReq(trino.OpSelectFromColumns, "alice", []string{"analysts"}, "c", "s", table))
		require.NoError(t, err)
		return v.Effect == policy.Allow
	}
	scratch, cleanup, err := tb.src.Scratch(ctx, []grants.Tuple{items}, []grants.Tuple{orders})
	require.NoError(t, err)
	require.NotEqual(t, tb.storeID, scratch.StoreID())
	require.False(t, allowed(scratch, "orders"), "the copy lost the removed grant")
	require.True(t, allowed(scratch, "items"), "and has the added one")
	require.True(t, allowed(tb.src, "orders"), "the live store is untouched")
	require.False(t, allowed(tb.src, "items"))
	scratch.Close()
	cleanup()
	_, err = tb.client.GetStore(ctx).Options(fgaclient.ClientGetStoreOptions{StoreId: ptr(scratch.StoreID())}).Execute()
	require.Error(t, err, "the scratch store is deleted")
}

func ptr[T any](v T) *T { return &v }

// TestInformationSchemaFollowsCatalogVisibility: a grant anywhere in a
// catalog lets its holder read the catalog's information_schema (SHOW
// TABLES is a query on it), as catalog access does in Trino's rules.
func TestInformationSchemaFollowsCatalogVisibility(t *testing.T) {
	t.Parallel()
	tb := setup(t, fgatest.Shared(t), nil)
	ctx := context.Background()
	require.NoError(t, tb.src.WriteTuples(ctx, []grants.Tuple{grant(t, "user:dave", "select", "table:c.s.ledger")}, nil))
	for _, tc := range []struct {
		user, catalog string
		want          policy.Effect
	}{
		{"dave", "c", policy.Allow},
		{"dave", "other", policy.Abstain},
		{"erin", "c", policy.Abstain},
	} {
		v, err := tb.src.Authorize(ctx, tableReq(trino.OpSelectFromColumns, tc.user, nil, tc.catalog, "information_schema", "tables", "table_name"))
		require.NoError(t, err)
		require.Equal(t, tc.want, v.Effect, "%s on %s", tc.user, tc.catalog)
	}
}
