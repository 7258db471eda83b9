package views_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
)

// TestReconcilerOnRealTrino drives the reconciler against a real Trino,
// using the memory catalog as the governed catalog: it creates missing
// views, leaves matching ones alone, replaces changed and stale ones,
// drops unregistered ones, recreates vanished ones, and reports a sync
// that fails half way as not done.
func TestReconcilerOnRealTrino(t *testing.T) {
	tr := sharedTrino(t)
	ctx := context.Background()
	tr.Exec(t, "admin",
		"CREATE SCHEMA IF NOT EXISTS memory.rc_src",
		"CREATE TABLE memory.rc_src.people (id bigint, email varchar(64), region varchar(8))",
		"INSERT INTO memory.rc_src.people VALUES (1, 'a@x.org', 'emea'), (2, 'b@y.org', 'amer')")
	client, err := views.NewClient(views.ClientOptions{URL: tr.URL(), User: "warden"})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })

	ds := store.Datasource{ID: 1, SourceCatalog: "memory", SourceSchema: "rc_src", SourceTable: "people",
		ViewSchema: "rc_gov", ViewTable: "people", Columns: []store.DatasourceColumn{
			{Name: "id", Type: "bigint", Exposed: true}, {Name: "email", Type: "varchar(64)", Exposed: true},
			{Name: "region", Type: "varchar(8)", Exposed: true}}}
	opts := views.Options{Catalog: "memory", ServiceUser: "warden"}
	var cat *views.Catalog
	set := func(ds ...store.Datasource) {
		c, err := views.Compile(store.Governed{Datasources: ds}, opts)
		require.NoError(t, err)
		cat = c
	}
	set(ds)
	r := views.NewReconciler(client, func() *views.Catalog { return cat }, views.ReconcilerOptions{})
	kinds := func(p views.Plan) []string {
		var out []string
		for _, a := range p.Actions {
			if strings.HasPrefix(a.Schema, "rc_") { // other tests share the memory catalog
				out = append(out, a.Kind+" "+a.Schema+"."+a.View)
			}
		}
		return out
	}

	// Dry run: the plan, nothing applied.
	plan, err := r.Sync(ctx, true, false)
	require.NoError(t, err)
	require.Equal(t, []string{"create-schema rc_gov.", "create rc_gov.people"}, kinds(plan))
	require.Error(t, tr.QueryErr("admin", "SELECT * FROM memory.rc_gov.people"), "a dry run applies nothing")

	plan, err = r.Sync(ctx, false, false)
	require.NoError(t, err)
	require.True(t, r.Status().Done)
	require.Equal(t, [][]any{{int64(1), "a@x.org", "emea"}, {int64(2), "b@y.org", "amer"}},
		tr.Query(t, "admin", "SELECT * FROM memory.rc_gov.people ORDER BY id"))

	plan, err = r.Sync(ctx, false, true)
	require.NoError(t, err)
	if len(kinds(plan)) > 0 {
		vs, _ := client.ListViews(ctx, "memory")
		t.Logf("views: %#v plan %#v", vs, plan.Actions)
	}
	require.Empty(t, kinds(plan), "a matching view is left alone")

	// Fewer columns exposed: the definition differs, and it is replaced.
	ds.Columns[1].Exposed = false
	set(ds)
	plan, err = r.Sync(ctx, false, false)
	require.NoError(t, err)
	require.Equal(t, []string{"replace rc_gov.people"}, kinds(plan))
	require.Equal(t, [][]any{{int64(1), "emea"}}, tr.Query(t, "admin", "SELECT * FROM memory.rc_gov.people WHERE id = 1"))

	// A view nobody registered is dropped; one that vanished (a Trino
	// restart empties the memory connector) is created again.
	tr.Exec(t, "admin", "CREATE VIEW memory.rc_gov.extra AS SELECT 1 AS x", "DROP VIEW memory.rc_gov.people")
	plan, err = r.Sync(ctx, false, false)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"create rc_gov.people", "drop rc_gov.extra"}, kinds(plan))

	// The source's schema drifts (region widened): Trino reports the view
	// stale, and the periodic check replaces it.
	tr.Exec(t, "admin", "DROP TABLE memory.rc_src.people",
		"CREATE TABLE memory.rc_src.people (id bigint, email varchar(64), region varchar(16))",
		"INSERT INTO memory.rc_src.people VALUES (3, 'c@z.org', 'apac-south')")
	plan, err = r.Sync(ctx, false, true)
	require.NoError(t, err)
	require.Len(t, kinds(plan), 1)
	require.Equal(t, "replace", plan.Actions[len(plan.Actions)-1].Kind)
	require.Contains(t, plan.Actions[len(plan.Actions)-1].Reason, "stale")
	require.Equal(t, [][]any{{int64(3), "apac-south"}}, tr.Query(t, "admin", "SELECT * FROM memory.rc_gov.people"))

	// A column the registration exposes is gone from the source: the
	// replacement fails, and the status says the sync is not done.
	ds.Columns[1].Exposed = true
	set(ds)
	tr.Exec(t, "admin", "DROP TABLE memory.rc_src.people", "CREATE TABLE memory.rc_src.people (id bigint, region varchar(16))")
	_, err = r.Sync(ctx, false, true)
	require.Error(t, err)
	st := r.Status()
	require.False(t, st.Done)
	require.Less(t, st.Applied, st.Planned)
	require.NotEmpty(t, st.Error)

	// Run retries until Trino and the registration agree again.
	ds.Columns[1].Exposed = false
	set(ds)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go r.Run(runCtx)
	r.Kick()
	require.Eventually(t, func() bool { return r.Status().Done }, 30*time.Second, 100*time.Millisecond)
}
