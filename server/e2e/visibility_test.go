package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// column turns single-column rows into a list of strings.
func column(t *testing.T, rows [][]any) []string {
	t.Helper()
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		require.Len(t, r, 1)
		s, ok := r[0].(string)
		require.True(t, ok, "value %#v is not a string", r[0])
		out = append(out, s)
	}
	return out
}

// tpchSchemas are the tpch connector's schemas, as SHOW SCHEMAS lists them.
var tpchSchemas = []string{"information_schema", "sf1", "sf100", "sf1000", "sf10000", "sf100000", "sf300", "sf3000", "sf30000", "tiny"}

// TestShowCatalogs checks that SHOW CATALOGS lists exactly the catalogs
// each user's rules give access to.
func TestShowCatalogs(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	for user, want := range map[string][]string{
		"admin": {"memory", "system", "tpch"},
		"alice": {"memory", "system", "tpch"},
		"bob":   {"system", "tpch"},
		"carol": {"system"},
	} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			got := column(t, tr.Query(t, user, "SHOW CATALOGS"))
			require.Empty(t, cmp.Diff(want, got))
		})
	}
}

// TestShowSchemas checks SHOW SCHEMAS: a schema is visible to whoever owns
// it or has a table rule in it. As in Trino's file-based access control,
// information_schema is listed only for schema owners, although every user
// who sees the catalog may query it.
func TestShowSchemas(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	tests := []struct {
		user, catalog string
		want          []string
	}{
		{"admin", "tpch", tpchSchemas},
		{"admin", "memory", []string{"default", "information_schema", "sales"}},
		{"alice", "tpch", []string{"tiny"}},
		{"alice", "memory", []string{"sales"}},
		{"bob", "tpch", []string{"tiny"}},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+tc.catalog, func(t *testing.T) {
			t.Parallel()
			got := column(t, tr.Query(t, tc.user, "SHOW SCHEMAS FROM "+tc.catalog))
			require.Empty(t, cmp.Diff(tc.want, got))
		})
	}
	// A catalog the user may not see is an error, not an empty list.
	for _, user := range []string{"bob", "carol"} {
		err := tr.QueryErr(user, "SHOW SCHEMAS FROM memory")
		require.Error(t, err, user)
		require.Contains(t, err.Error(), "Access Denied", user)
	}
}

// TestShowTables checks SHOW TABLES lists exactly the tables each user's
// table rules name.
func TestShowTables(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	tests := []struct {
		user, schema string
		want         []string
	}{
		{"admin", "tpch.tiny", []string{"customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"}},
		{"alice", "tpch.tiny", []string{"customer", "nation", "region"}},
		{"bob", "tpch.tiny", []string{"nation", "region"}},
		{"admin", "memory.sales", []string{"orders", "targets"}},
		{"alice", "memory.sales", []string{"orders"}},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+tc.schema, func(t *testing.T) {
			t.Parallel()
			got := column(t, tr.Query(t, tc.user, "SHOW TABLES FROM "+tc.schema))
			require.Empty(t, cmp.Diff(tc.want, got))
		})
	}
	// A schema without any table of the user's is not listed at all.
	err := tr.QueryErr("bob", "SHOW TABLES FROM tpch.sf1")
	require.Error(t, err)
	require.Contains(t, err.Error(), "Access Denied: Cannot show tables of schema tpch.sf1")
}

// TestInformationSchemaColumns checks information_schema.columns, which
// Trino filters through the batched FilterColumns call: denied columns
// disappear, masked ones stay.
func TestInformationSchemaColumns(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	const q = `SELECT table_name || '.' || column_name FROM tpch.information_schema.columns
		WHERE table_schema = 'tiny' AND table_name IN ('nation', 'region', 'orders')
		ORDER BY table_name, ordinal_position`
	for user, want := range map[string][]string{
		"admin": {
			"nation.nationkey", "nation.name", "nation.regionkey", "nation.comment",
			"orders.orderkey", "orders.custkey", "orders.orderstatus", "orders.totalprice", "orders.orderdate",
			"orders.orderpriority", "orders.clerk", "orders.shippriority", "orders.comment",
			"region.regionkey", "region.name", "region.comment",
		},
		"alice": {
			"nation.nationkey", "nation.name", "nation.regionkey", "nation.comment",
			"region.regionkey", "region.name", "region.comment",
		},
		"bob": {
			"nation.nationkey", "nation.name", "nation.regionkey",
			"region.regionkey", "region.name",
		},
	} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			got := column(t, tr.Query(t, user, q))
			require.Empty(t, cmp.Diff(want, got))
		})
	}
	// The whole memory catalog as alice: only the table she may read.
	got := column(t, tr.Query(t, "alice", `SELECT table_schema || '.' || table_name || '.' || column_name
		FROM memory.information_schema.columns WHERE table_schema <> 'information_schema' ORDER BY 1`))
	require.Empty(t, cmp.Diff([]string{"sales.orders.amount", "sales.orders.email", "sales.orders.id", "sales.orders.region"}, got))
}

// TestForbiddenSelect checks that reading what the rules do not grant
// fails with Trino's Access Denied, naming what was denied.
func TestForbiddenSelect(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	tests := []struct {
		user, query, want string
	}{
		{"bob", "SELECT count(*) FROM tpch.tiny.orders", "Access Denied: Cannot select from columns [] in table or view tpch.tiny.orders"},
		{"bob", "SELECT comment FROM tpch.tiny.nation", "Access Denied: Cannot select from columns [comment] in table or view tpch.tiny.nation"},
		{"bob", "SELECT * FROM memory.sales.orders", "Access Denied: Cannot access catalog memory"},
		{"alice", "SELECT * FROM memory.sales.targets", "Access Denied: Cannot select from columns [region, target] in table or view memory.sales.targets"},
		{"alice", "INSERT INTO memory.sales.orders VALUES (9, 'EU', 'x@example.com', 1)", "Access Denied: Cannot insert into table memory.sales.orders"},
		{"carol", "SELECT 1 FROM tpch.tiny.region", "Access Denied: Cannot access catalog tpch"},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+strings.Fields(tc.query)[1], func(t *testing.T) {
			t.Parallel()
			_, err := tr.QueryContext(context.Background(), tr.DSN(tc.user), tc.query)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	// The same reads as admin succeed, so the denials above come from the
	// rules and not from broken queries.
	require.Equal(t, [][]any{{int64(15000)}}, tr.Query(t, "admin", "SELECT count(*) FROM tpch.tiny.orders"))
	require.Len(t, tr.Query(t, "admin", "SELECT * FROM memory.sales.targets"), 2)
}
