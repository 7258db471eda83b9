package store_test

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

// processCPU is this process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAuditCopy writes audit batches of several sizes to a real
// PostgreSQL, the way the recorder's writer does (AuditCopyFresh), and
// reports Warden's side of it: the process's CPU per row (cpu-ns/row),
// beside the wall time per row, which is mostly PostgreSQL's. A COPY has a
// fixed cost on the client too (the statement's round trips, pgconn's
// goroutines and buffers), which is why the recorder writes batches of
// thousands of rows and merges the shards' partial batches at a flush
// (docs/performance.md).
func BenchmarkAuditCopy(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, pgtest.NewDatabase(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	if _, err := s.AuditPartitionsEnsure(ctx, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1)); err != nil {
		b.Fatal(err)
	}
	input := []byte(`{"context":{"identity":{"user":"quinn.evans","groups":["data-engineering"]},"softwareStack":{"trinoVersion":"476"}},` +
		`"action":{"operation":"SelectFromColumns","resource":{"table":{"catalogName":"curated","schemaName":"finance","tableName":"revenue","columns":["name","status"]}}}}`)
	seq := 0
	for _, rows := range []int{250, 1000, 4000} {
		b.Run("rows="+strconv.Itoa(rows), func(b *testing.B) {
			b.ReportAllocs()
			batch := &store.AuditBatch{}
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				batch.Reset()
				for range rows {
					seq++
					batch.Add(&store.AuditRecord{DecidedAt: now, DecisionID: "bench-" + strconv.Itoa(seq), Cluster: "default",
						Endpoint: "allow", Operation: "SelectFromColumns", User: "quinn.evans", Groups: []string{"data-engineering"},
						Outcome: "allow", Resource: []byte("curated.finance.revenue"), QualifiedTable: []byte("curated.finance.revenue"),
						Facets: []store.AuditFacet{{Kind: "group", Name: "data-engineering"}, {Kind: "catalog", Name: "curated"},
							{Kind: "schema", Name: "finance"}, {Kind: "table", Name: "revenue"}, {Kind: "column", Name: "name"}},
						Result: []byte("true"), Decider: []byte("rules: tables[3]"), Input: input})
				}
				c0 := processCPU(b)
				b.StartTimer()
				if _, err := s.AuditCopyFresh(ctx, batch, time.Time{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU(b) - c0
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*rows), "cpu-ns/row")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "wall-ns/row")
		})
	}
}
