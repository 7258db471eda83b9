package rego

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// benchLines reads the request bodies of a benchmark file; nil when the
// file is not there.
func benchLines(b *testing.B, name string) []string {
	f, err := os.Open(filepath.Join(benchDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(b, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(b, sc.Err())
	return lines
}

// filterTablesRequest is the benchmark set's FilterTables request over n
// tables, or a generated one like it when the set is not there.
func filterTablesRequest(b *testing.B, n int) *policy.Request {
	if lines := benchLines(b, fmt.Sprintf("filter_tables_%d.jsonl", n)); lines != nil {
		return request(b, trino.EndpointBatch, lines[0])
	}
	tables := make([][3]string, n)
	for i := range tables {
		tables[i] = [3]string{"lakehouse", fmt.Sprintf("staging_%d", i%200), fmt.Sprintf("t_%d", i)}
	}
	return request(b, trino.EndpointBatch, body("dave.smith", []string{"analysts", "finance"}, filterTables(tables...)))
}

func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	read := body("dave.smith", []string{"analysts", "finance"}, tableAction("SelectFromColumns", "lakehouse", "staging_ads", "t_ads_01", "id", "name"))
	cases := []struct {
		name string
		p    *Policy
		ext  bool
		body string
	}{
		{"compat/trivial", inline(b, "package trino\nallow := true"), false, read},
		{"compat/stackable-like", loadPolicy(b, compatDir, Options{}), false, read},
		{"extension/trivial", inline(b, "package warden\nallow := true"), true, read},
		{"extension/deny+allow", loadPolicy(b, extDir, Options{}), true, read},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			src := c.p.Compat()
			if c.ext {
				src = c.p.Extension()
			}
			a := src.(policy.Authorizer)
			req := request(b, trino.EndpointAllow, c.body)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authorize(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// A request context that can be cancelled, as a server's is: the
	// evaluation watches it.
	b.Run("compat/trivial/cancellable-context", func(b *testing.B) {
		a := inline(b, "package trino\nallow := true").Compat().(policy.Authorizer)
		req := request(b, trino.EndpointAllow, read)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authorize(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The benchmark set's 1,000 single decisions, round robin.
	if lines := benchLines(b, "allow.jsonl"); lines != nil {
		reqs := make([]*policy.Request, len(lines))
		for i, l := range lines {
			reqs[i] = request(b, trino.EndpointAllow, l)
		}
		p := loadPolicy(b, compatDir, Options{})
		a := p.Compat().(policy.Authorizer)
		b.Run("compat/stackable-like/allow.jsonl", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := a.Authorize(ctx, reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkFilterTables(b *testing.B) {
	ctx := context.Background()
	policies := []struct {
		name string
		p    *Policy
	}{
		{"batch", loadPolicy(b, compatDir, Options{})},
		{"allow-per-item", loadPolicy(b, compatDir, Options{}, "batch.rego")},
	}
	for _, n := range []int{1000, 20000} {
		req := filterTablesRequest(b, n)
		for _, pc := range policies {
			f := pc.p.Compat().(policy.Filterer)
			b.Run(fmt.Sprintf("%d/%s", n, pc.name), func(b *testing.B) {
				bv := newBatch(req, false)
				b.ReportAllocs()
				for b.Loop() {
					clear(bv.Allow)
					if err := f.Filter(ctx, req, bv); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(allowed(bv))), "kept")
			})
		}
	}
}

func BenchmarkColumnMasks(b *testing.B) {
	lines := benchLines(b, "batch_column_masks_250.jsonl")
	if lines == nil {
		b.Skip("no batch_column_masks_250.jsonl in " + benchDir)
	}
	ctx := context.Background()
	req := request(b, trino.EndpointBatchColumnMasks, lines[0])
	cols := maskColumns(req)
	for _, pc := range []struct {
		name string
		p    *Policy
	}{
		{"compat/batchColumnMasks", loadPolicy(b, compatDir, Options{})},
		{"compat/columnMask-per-column", loadPolicy(b, compatDir, Options{}, "batch_column_masks.rego")},
	} {
		m := pc.p.Compat().(policy.Masker)
		b.Run(pc.name, func(b *testing.B) {
			out := make([]policy.Mask, len(cols))
			b.ReportAllocs()
			for b.Loop() {
				clear(out)
				if err := m.ColumnMasks(ctx, req, cols, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkInput(b *testing.B) {
	cases := []struct {
		name string
		req  *policy.Request
	}{
		{"allow", request(b, trino.EndpointAllow, body("dave.smith", []string{"analysts", "finance"}, tableAction("SelectFromColumns", "lakehouse", "staging_ads", "t_ads_01", "id", "name")))},
		{"filter_tables_20000", filterTablesRequest(b, 20000)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := inputValue(c.req, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
