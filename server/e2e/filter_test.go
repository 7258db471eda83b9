package e2e

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// TestRowFilterAndMaskOnTPCH checks rules.json's filter and mask on
// tpch.tiny.nation: alice gets only America's nations, with the comment
// masked; admin gets every row as it is.
func TestRowFilterAndMaskOnTPCH(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	const q = "SELECT nationkey, name, comment FROM tpch.tiny.nation WHERE nationkey IN (1, 2, 3, 6, 17, 24) ORDER BY nationkey"
	want := [][]any{
		{int64(1), "ARGENTINA", "***"},
		{int64(2), "BRAZIL", "***"},
		{int64(3), "CANADA", "***"},
		{int64(17), "PERU", "***"},
		{int64(24), "UNITED STATES", "***"},
	}
	require.Empty(t, cmp.Diff(want, tr.Query(t, "alice", q)))

	admin := tr.Query(t, "admin", q)
	require.Len(t, admin, 6, "admin sees France (6) too")
	require.Equal(t, "FRANCE", admin[3][1])
	for _, row := range admin {
		require.NotEqual(t, "***", row[2], "admin's comments are not masked")
	}

	// The filter applies to aggregates and joins too.
	require.Equal(t, [][]any{{int64(5), int64(1), int64(1)}},
		tr.Query(t, "alice", "SELECT count(*), min(regionkey), max(regionkey) FROM tpch.tiny.nation"))
	require.Equal(t, [][]any{{"AMERICA", int64(5)}},
		tr.Query(t, "alice", `SELECT r.name, count(*) FROM tpch.tiny.nation n JOIN tpch.tiny.region r
			ON n.regionkey = r.regionkey GROUP BY r.name`))
	require.Equal(t, [][]any{{int64(25)}}, tr.Query(t, "admin", "SELECT count(*) FROM tpch.tiny.nation"))

	// bob has no filter on nation but may not read its comment at all.
	require.Equal(t, [][]any{{int64(25)}}, tr.Query(t, "bob", "SELECT count(*) FROM tpch.tiny.nation"))
}

// TestRowFilterAndMaskOnMemory checks a filter and a mask that uses the
// column's own value, on a table admin created in the memory catalog.
func TestRowFilterAndMaskOnMemory(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	const q = "SELECT id, region, email, amount FROM memory.sales.orders ORDER BY id"
	require.Empty(t, cmp.Diff(orders, tr.Query(t, "admin", q)), "admin reads the fixture unchanged")
	want := [][]any{
		{int64(1), "EU", "an***", int64(120)},
		{int64(3), "EU", "ch***", int64(45)},
	}
	require.Empty(t, cmp.Diff(want, tr.Query(t, "alice", q)))
	// Predicates on the masked column see the masked value.
	require.Equal(t, [][]any{{int64(0)}},
		tr.Query(t, "alice", "SELECT count(*) FROM memory.sales.orders WHERE email LIKE '%@example.com'"))
	require.Equal(t, [][]any{{int64(165)}}, tr.Query(t, "alice", "SELECT sum(amount) FROM memory.sales.orders"))
}

// TestImpersonation logs in as svc (HTTP Basic) and runs queries as another
// user (X-Trino-User): the rules let svc act as alice or bob only, and an
// impersonated user gets that user's own filters and masks.
func TestImpersonation(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	ctx := context.Background()

	rows, err := tr.QueryContext(ctx, tr.ImpersonationDSN("svc", "alice"),
		"SELECT current_user, (SELECT count(*) FROM tpch.tiny.nation)")
	require.NoError(t, err)
	require.Equal(t, [][]any{{"alice", int64(5)}}, rows, "svc acting as alice gets alice's row filter")

	rows, err = tr.QueryContext(ctx, tr.ImpersonationDSN("svc", "bob"), "SHOW TABLES FROM tpch.tiny")
	require.NoError(t, err)
	require.Equal(t, []string{"nation", "region"}, column(t, rows), "svc acting as bob sees bob's tables")

	for _, tc := range []struct{ login, user string }{
		{"svc", "admin"},
		{"svc", "carol"},
		{"alice", "bob"},
		{"bob", "admin"},
	} {
		_, err := tr.QueryContext(ctx, tr.ImpersonationDSN(tc.login, tc.user), "SELECT 1")
		require.Error(t, err, "%s as %s", tc.login, tc.user)
		require.Contains(t, err.Error(), "Access Denied: User "+tc.login+" cannot impersonate user "+tc.user)
	}

	rows, err = tr.QueryContext(ctx, tr.DSN("svc"), "SELECT current_user")
	require.NoError(t, err)
	require.Equal(t, [][]any{{"svc"}}, rows, "svc as itself needs no impersonation rule")
	err = tr.QueryErr("mallory", "SELECT 1")
	require.Error(t, err, "a user without credentials is not authenticated")
	require.Contains(t, err.Error(), "401 Unauthorized")
}
