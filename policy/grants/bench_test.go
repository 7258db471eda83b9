package grants_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
	"github.com/trino-warden/warden/policy/trino"
)

func BenchmarkAuthorizeWarm(b *testing.B) {
	tb := setup(b, fgatest.Shared(b), nil)
	ctx := context.Background()
	require.NoError(b, tb.src.WriteTuples(ctx, []grants.Tuple{grant(b, "group:analysts", "select", "schema:c.s")}, nil))
	r := tableReq(trino.OpSelectFromColumns, "alice", []string{"analysts", "staff"}, "c", "s", "t")
	v, err := tb.src.Authorize(ctx, r)
	require.NoError(b, err)
	require.Equal(b, policy.Allow, v.Effect)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tb.src.Authorize(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterTablesWarm20000(b *testing.B) {
	tb := setup(b, fgatest.Shared(b), nil)
	ctx := context.Background()
	var ws []grants.Tuple
	for i := 0; i < 500; i++ {
		ws = append(ws, grant(b, "user:alice", "select", fmt.Sprintf("table:c%d.s%d.t%d", i%3, i%7, i)))
	}
	ws = append(ws, grant(b, "group:g", "select", "schema:c1.s1"))
	require.NoError(b, tb.src.WriteTuples(ctx, ws, nil))
	r := filterReq(trino.OpFilterTables, "alice", []string{"g", "h"}, tables(20_000))
	out := policy.BatchVerdict{Allow: make([]bool, 20_000), Deny: make([]bool, 20_000)}
	require.NoError(b, tb.src.Filter(ctx, r, &out))
	b.ReportAllocs()
	for b.Loop() {
		clear(out.Allow)
		if err := tb.src.Filter(ctx, r, &out); err != nil {
			b.Fatal(err)
		}
	}
}
