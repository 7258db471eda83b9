package views_test

import (
	"context"
	"testing"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

func BenchmarkAuthorizeView(b *testing.B) {
	s := sourceB(b)
	r := req(trino.OpSelectFromColumns, "ann", []string{"staff", "analysts"}, nil, table("governed", "hr", "people"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if v, _ := s.Authorize(ctx, r); v.Effect != policy.Allow {
			b.Fatal(v)
		}
	}
}

func BenchmarkColumnMasks(b *testing.B) {
	s := sourceB(b)
	r := req(trino.OpGetColumnMask, "ann", []string{"analysts"}, map[string]any{"region": "emea"}, nil)
	var cols []*trino.Column
	for _, n := range []string{"id", "email", "region", "salary"} {
		cols = append(cols, &trino.Column{CatalogName: "governed", SchemaName: "hr", TableName: "people", ColumnName: n})
	}
	out := make([]policy.Mask, len(cols))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		clear(out)
		if err := s.ColumnMasks(ctx, r, cols, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRowFilters(b *testing.B) {
	s := sourceB(b)
	r := req(trino.OpGetRowFilters, "ann", []string{"analysts"}, map[string]any{"region": "emea"}, table("governed", "hr", "people"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if f, _, err := s.RowFilters(ctx, r); err != nil || len(f) != 1 {
			b.Fatal(f, err)
		}
	}
}
