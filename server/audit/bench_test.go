package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

// benchRecorder is a recorder whose queue and full batches are drained by
// a goroutine that does nothing else, so a benchmark measures Record
// alone: sampling, building the row and encoding it.
func benchRecorder(b *testing.B, rs []Rule) *Recorder {
	b.Helper()
	opts := Default()
	opts.QueueSize = 1 << 16
	compiled, err := compileRules(rs)
	if err != nil {
		b.Fatal(err)
	}
	r := &Recorder{opts: opts.withDefaults(), log: opts.Logger, rules: compiled, queue: make(chan *Entry, opts.QueueSize),
		closing: make(chan struct{}), done: make(chan struct{}), wake: make(chan struct{}, 1),
		built: make(chan *pending, 16), free: make(chan *pending, 16)}
	r.shards = make([]*shard, 4)
	for i := range r.shards {
		r.shards[i] = new(shard)
	}
	r.m = newMetrics(nil, func() float64 { return 0 }, func() float64 { return 0 })
	r.cQueueFull = r.m.dropped.WithLabelValues(dropQueueFull)
	r.cClosed = r.m.dropped.WithLabelValues(dropClosed)
	r.cSkipped = r.m.sampledOut.WithLabelValues(reasonNames[reasonSkipped])
	r.cSampled = r.m.sampledOut.WithLabelValues(reasonNames[reasonSampledOut])
	// Drain as the worker does: when woken for a full batch.
	go func() {
		for {
			select {
			case <-r.wake:
				for len(r.queue) > 0 {
					<-r.queue
				}
			case p := <-r.built:
				r.release(p)
			case <-r.closing:
				return
			}
		}
	}()
	b.Cleanup(func() { close(r.closing) })
	return r
}

// BenchmarkRecord is the cost the decision handler pays per decision: the
// body is set, as the handler sets it.
func BenchmarkRecord(b *testing.B) {
	p := newPolicy(b)
	e := p.entry(b, trino.EndpointAllow, selectBody("alice", "analysts", "orders"))
	e.Body = []byte(selectBody("alice", "analysts", "orders"))
	for _, bc := range []struct {
		name  string
		rules []Rule
	}{
		{"no rules", nil},
		{"rules", []Rule{
			{Endpoints: []string{"batch"}, Operations: []string{"FilterCatalogs"}, Outcomes: []string{"allow"}},
			{Operations: []string{"ExecuteQuery"}, Outcomes: []string{"allow"}, SampleRate: 0.01},
			{Groups: []string{"etl", "robots"}, SampleRate: 0.1},
		}},
		{"skipped", []Rule{{Operations: []string{"SelectFromColumns"}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := benchRecorder(b, bc.rules)
			b.ReportAllocs()
			for b.Loop() {
				r.Record(e)
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		r := benchRecorder(b, nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Record(e)
			}
		})
	})
}

// BenchmarkBuildRow is the builder's cost per decision: building the row,
// explaining by re-deciding when asked, and encoding it for the COPY.
func BenchmarkBuildRow(b *testing.B) {
	p := newPolicy(b)
	for _, bc := range []struct {
		name    string
		ep      trino.Endpoint
		body    string
		explain bool
	}{
		{"allow", trino.EndpointAllow, selectBody("alice", "analysts", "orders"), false},
		{"allow with body", trino.EndpointAllow, selectBody("alice", "analysts", "orders"), false},
		{"allow explained", trino.EndpointAllow, selectBody("alice", "analysts", "orders"), true},
		{"deny explained", trino.EndpointAllow, selectBody("mallory", "guests", "orders"), true},
		{"batch 1000 explained", trino.EndpointBatch, filterTablesBody(1000), true},
		{"batch 20000 explained", trino.EndpointBatch, filterTablesBody(20000), true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := Default()
			if bc.explain {
				opts.ExplainFunc = p.explainFunc()
			}
			r := &Recorder{opts: opts, log: opts.Logger}
			r.m = newMetrics(nil, func() float64 { return 0 }, func() float64 { return 0 })
			e := p.entry(b, bc.ep, bc.body)
			if bc.name != "allow" {
				e.Body = []byte(bc.body) // as the decision handler hands it over
			}
			ctx := context.Background()
			var rb rowBuilder
			var batch store.AuditBatch
			b.ReportAllocs()
			for b.Loop() {
				batch.Add(r.build(ctx, &rb, e))
				if batch.Len() == 1000 {
					batch.Reset()
				}
			}
		})
	}
}

// BenchmarkInputSize measures how large a batch's input is as JSON and
// gzip'd (as the spool stores it); PostgreSQL compresses the jsonb column
// itself (TOAST).
func BenchmarkInputSize(b *testing.B) {
	p := newPolicy(b)
	for _, n := range []int{1, 1000, 20000} {
		e := p.entry(b, trino.EndpointBatch, filterTablesBody(n))
		b.Run(trino.EndpointBatch.String()+"-"+itoa(n), func(b *testing.B) {
			var raw, zipped int
			b.ReportAllocs()
			for b.Loop() {
				in, err := json.Marshal(&e.Request.Input)
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
				_, _ = zw.Write(in)
				_ = zw.Close()
				raw, zipped = len(in), buf.Len()
			}
			b.ReportMetric(float64(raw), "json-bytes")
			b.ReportMetric(float64(zipped), "gzip-bytes")
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// BenchmarkRecordToPostgres is the audit's whole cost per decision in
// Warden's process: Record, building the row and COPYing it into a real
// PostgreSQL, for a stream of allowed single checks.
func BenchmarkRecordToPostgres(b *testing.B) {
	p := newPolicy(b)
	st := openStore(b, pgtest.NewDatabase(b), store.Options{})
	r, _ := newRecorder(b, st, Options{FlushInterval: 50 * time.Millisecond, QueueSize: 100_000, Full: FullBlock})
	body := selectBody("alice", "analysts", "orders")
	e := p.entry(b, trino.EndpointAllow, body)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := *e
		i++
		c.DecisionID = "bench-" + strconv.Itoa(i)
		c.Body = []byte(body)
		r.Record(&c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(b, r.Close(ctx))
}
