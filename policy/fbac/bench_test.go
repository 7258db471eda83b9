package fbac_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/fbac"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/policy/trino/trinotest"
)

// The benchmarks run the realistic policy and request corpora of
// testdata/bench (211 users, 191 table rules; see its README). Inside the
// timer is only Engine.Decide on an already decoded and validated request:
// the decision itself, with the rules file as the only source.

const benchDir = "../../testdata/bench"

func benchLines(tb testing.TB, name string) [][]byte {
	tb.Helper()
	return trinotest.Bodies(tb, filepath.Join(benchDir, name))
}

func benchEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	p, err := fbac.ParseFile(filepath.Join(benchDir, "rules-trino.json"))
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := policy.NewSnapshot(1, "bench", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(fbac.NewSource(p))})
	if err != nil {
		tb.Fatal(err)
	}
	e := policy.NewEngine(policy.EngineOptions{})
	if err := e.Swap(snap); err != nil {
		tb.Fatal(err)
	}
	return e
}

func benchRequest(tb testing.TB, body []byte, ep trino.Endpoint) *policy.Request {
	tb.Helper()
	tr, err := trino.Decode(body)
	if err != nil {
		tb.Fatal(err)
	}
	if err := tr.Validate(ep); err != nil {
		tb.Fatal(err)
	}
	return &policy.Request{Request: tr, Endpoint: ep, Cluster: policy.DefaultCluster,
		Subject: policy.Subject{User: tr.Context.Identity.User, Groups: tr.Context.Identity.Groups}}
}

func runDecide(b *testing.B, e *policy.Engine, reqs []*policy.Request) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := e.Decide(ctx, reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAllow is one single decision (allow.jsonl: 1000 distinct checks,
// a realistic mix), rules only. Target: 5µs or less.
func BenchmarkAllow(b *testing.B) {
	e := benchEngine(b)
	var reqs []*policy.Request
	for _, l := range benchLines(b, "allow.jsonl") {
		reqs = append(reqs, benchRequest(b, l, trino.EndpointAllow))
	}
	runDecide(b, e, reqs)
}

// BenchmarkFilterTables is one batched FilterTables request of n tables.
func BenchmarkFilterTables(b *testing.B) {
	e := benchEngine(b)
	for _, n := range []int{100, 1000, 10000, 20000} {
		req := benchRequest(b, benchLines(b, fmt.Sprintf("filter_tables_%d.jsonl", n))[0], trino.EndpointBatch)
		b.Run(fmt.Sprint(n), func(b *testing.B) { runDecide(b, e, []*policy.Request{req}) })
	}
}

// filterColumnsBody builds a batched FilterColumns request over n columns of
// a table whose rule denies some columns.
func filterColumnsBody(n int) []byte {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = fmt.Sprintf(`"c%04d"`, i)
	}
	cols[10], cols[20] = `"email"`, `"ssn"`
	return []byte(`{"input":{"context":{"identity":{"user":"bob.clarke","groups":["analysts","finance"]},"softwareStack":{"trinoVersion":"476"}},` +
		`"action":{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"marts","schemaName":"core","tableName":"customer_360","columns":[` +
		strings.Join(cols, ",") + `]}}]}}}`)
}

// BenchmarkFilterColumns is one batched FilterColumns request of 1000 columns.
func BenchmarkFilterColumns(b *testing.B) {
	e := benchEngine(b)
	runDecide(b, e, []*policy.Request{benchRequest(b, filterColumnsBody(1000), trino.EndpointBatch)})
}

// BenchmarkBatchColumnMasks is one batchColumnMasks request of 250 columns.
func BenchmarkBatchColumnMasks(b *testing.B) {
	e := benchEngine(b)
	req := benchRequest(b, benchLines(b, "batch_column_masks_250.jsonl")[0], trino.EndpointBatchColumnMasks)
	runDecide(b, e, []*policy.Request{req})
}

// BenchmarkRowFilters cycles through the 60 GetRowFilters requests.
func BenchmarkRowFilters(b *testing.B) {
	e := benchEngine(b)
	var reqs []*policy.Request
	for _, l := range benchLines(b, "row_filters.jsonl") {
		reqs = append(reqs, benchRequest(b, l, trino.EndpointRowFilters))
	}
	runDecide(b, e, reqs)
}
