package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/grants/fgatest"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/trino/trinotest"
)

// These benchmarks measure Warden over real HTTP on loopback: inside the
// timer is the whole round trip of one request, from the client writing the
// body to it reading the full response, including Warden's decoding,
// decision and encoding. The policy is testdata/bench's rules file.

const benchDir = "../testdata/bench"

func benchBodies(tb testing.TB, name string) [][]byte {
	tb.Helper()
	return trinotest.Bodies(tb, filepath.Join(benchDir, name))
}

func benchServer(tb testing.TB) (*httptest.Server, *http.Client) {
	tb.Helper()
	opts := testOptions(filepath.Join(benchDir, "rules-trino.json"))
	opts.Policy = loader.Config{Default: loader.Files{TrinoRules: filepath.Join(benchDir, "rules-trino.json")}}
	opts.MaxBodyBytes = 64 << 20
	opts.ExplainCacheSize = 10000
	opts.ExplainCacheBytes = 64 << 20
	s := New(opts, slog.New(slog.DiscardHandler))
	if err := s.LoadPolicy(); err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(hs.Close)
	return hs, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
}

func roundTrips(b *testing.B, url string, client *http.Client, bodies [][]byte) {
	b.ReportAllocs()
	buf := make([]byte, 0, 1<<20)
	i := 0
	for b.Loop() {
		resp, err := client.Post(url, "application/json; charset=utf-8", bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			b.Fatal(err)
		}
		w := bytes.NewBuffer(buf[:0])
		if _, err := io.Copy(w, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %s", resp.StatusCode, w.Bytes())
		}
		i++
	}
}

func BenchmarkHTTPAllow(b *testing.B) {
	hs, client := benchServer(b)
	roundTrips(b, hs.URL+"/v1/data/trino/allow", client, benchBodies(b, "allow.jsonl"))
}

// BenchmarkHTTPFilterTables is one batched FilterTables request of n tables,
// from request to response. Target for 20,000: 40ms or less, growing
// linearly; goal 20ms.
func BenchmarkHTTPFilterTables(b *testing.B) {
	hs, client := benchServer(b)
	for _, n := range []int{100, 1000, 10000, 20000} {
		body := benchBodies(b, fmt.Sprintf("filter_tables_%d.jsonl", n))
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(body[0])))
			roundTrips(b, hs.URL+"/v1/data/trino/batch", client, body)
		})
	}
}

func BenchmarkHTTPBatchColumnMasks(b *testing.B) {
	hs, client := benchServer(b)
	roundTrips(b, hs.URL+"/v1/data/trino/batchColumnMasks", client, benchBodies(b, "batch_column_masks_250.jsonl"))
}

func BenchmarkHTTPRowFilters(b *testing.B) {
	hs, client := benchServer(b)
	roundTrips(b, hs.URL+"/v1/data/trino/rowFilters", client, benchBodies(b, "row_filters.jsonl"))
}

// BenchmarkHTTPFilterTablesWithGrants is the 20,000-table FilterTables round
// trip with OpenFGA grants as a second source (a real OpenFGA server, warm
// cache): the user's groups hold 300 grants on schemas and tables of the
// lakehouse catalog. Target: 50ms or less.
func BenchmarkHTTPFilterTablesWithGrants(b *testing.B) {
	ctx := context.Background()
	fga, err := fgatest.Start(fgatest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(fga.Stop)
	fc := fga.NewStore(b)
	modelID, err := grants.WriteModel(ctx, fc)
	if err != nil {
		b.Fatal(err)
	}
	storeID, _ := fc.GetStoreId()
	src, err := grants.New(ctx, grants.Options{APIURL: fga.URL(), StoreID: storeID, ModelID: modelID, ChangesInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(src.Close)
	var tuples []grants.Tuple
	for i := 0; i < 300; i++ {
		g := grants.Grant{Principal: "group:finance", Privilege: "select", Object: fmt.Sprintf("table:lakehouse.s_%03d.t_%03d", i%50, i)}
		if i%3 == 0 {
			g = grants.Grant{Principal: "group:analysts", Privilege: "select", Object: fmt.Sprintf("schema:lakehouse.extra_%03d", i)}
		}
		t, err := g.Tuple()
		if err != nil {
			b.Fatal(err)
		}
		tuples = append(tuples, t)
	}
	if err := src.WriteTuples(ctx, tuples, nil); err != nil {
		b.Fatal(err)
	}
	opts := testOptions(filepath.Join(benchDir, "rules-trino.json"))
	opts.Policy = loader.Config{Default: loader.Files{TrinoRules: filepath.Join(benchDir, "rules-trino.json")}}
	opts.MaxBodyBytes = 64 << 20
	opts.Grants = src
	s := New(opts, slog.New(slog.DiscardHandler))
	if err := s.LoadPolicy(); err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	b.Cleanup(hs.Close)
	body := benchBodies(b, "filter_tables_20000.jsonl")
	b.SetBytes(int64(len(body[0])))
	roundTrips(b, hs.URL+"/v1/data/trino/batch", &http.Client{}, body)
}

// BenchmarkTrackState is the decision listener's connection tracking for
// one request on a kept-alive connection: it turns active, then idle. It
// must not allocate (storing the state in the map on every change did,
// twice per request).
func BenchmarkTrackState(b *testing.B) {
	b.ReportAllocs()
	sv := &serving{}
	c1, c2 := net.Pipe()
	defer c1.Close() //nolint:errcheck // a pipe.
	defer c2.Close() //nolint:errcheck // a pipe.
	sv.trackState(c1, http.StateNew)
	for b.Loop() {
		sv.trackState(c1, http.StateActive)
		sv.trackState(c1, http.StateIdle)
	}
	if sv.open.Load() != 1 {
		b.Fatalf("%d connections tracked, want 1", sv.open.Load())
	}
}
