// Package audit records Warden's decisions: who asked what, what was
// answered, by which rule, under which policy revision. The decision
// handler hands each decision to Recorder.Record, which only enqueues it; a
// worker goroutine turns entries into rows (encoding the input and result
// and computing the explanation off the hot path) and writes them to
// PostgreSQL in batches, falling back to an on-disk spool while PostgreSQL
// is slow or down. The package also exports decisions to an OPA-compatible
// decision-log service and stores the query events of Trino's HTTP event
// listener.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
)

// Recorder records decisions asynchronously. Record is safe for concurrent
// use; Close stops it.
//
// Guarantees: Close loses nothing (what it cannot write to PostgreSQL goes
// to the spool, unless its context ends first); a PostgreSQL outage loses
// nothing while the spool has room; a crash loses at most the entries of
// the last flush interval (plus a write in progress, bounded by
// WriteTimeout). Replays are idempotent: a decision is recorded once, keyed
// by its time and ID.
type Recorder struct {
	w     store.AuditWriter
	opts  Options
	log   *slog.Logger
	rules rules
	m     *metrics
	spool *spool
	sink  *opaSink

	queue chan *Entry
	// batches are built rows waiting for the writer. When it is full
	// (PostgreSQL slower than the decisions), the builder spools a batch
	// instead of waiting, so the queue keeps draining.
	batches chan *pending
	free    chan *pending // written batches, for reuse
	// shards hold the rows handlers encode themselves; built carries the
	// shards' full batches to the builder.
	shards     []*shard
	built      chan *pending
	expl       explainCache
	writerDone chan struct{} // closed when the writer has stopped
	closed     atomic.Bool
	closing    chan struct{} // closed by Close: drain and stop
	hurry      chan struct{} // closed when Close's context ends: stop waiting for PostgreSQL
	abandon    chan struct{} // closed by tests: stop at once, as a crash would
	wake       chan struct{} // a full batch is waiting
	done       chan struct{} // closed when the worker has stopped
	once       sync.Once     // closes closing
	finish     sync.Once     // closes the sink and the spool
	// closeErr is what Close returns, set once the worker has stopped.
	closeErr error

	counts counters

	// rb builds rows; only the builder goroutine uses it.
	rb rowBuilder

	// Pre-resolved counters, so Record never looks up a label.
	cQueueFull, cClosed, cSkipped, cSampled prometheus.Counter

	// Writer state.
	downUntil time.Time     // PostgreSQL is not tried before this
	backoff   time.Duration // the current wait after a failed write
	lost      atomic.Int64  // entries dropped by Close
}

// New starts a recorder writing through w. It opens the spool directory,
// when one is set, and replays what an earlier run left in it once
// PostgreSQL answers.
func New(w store.AuditWriter, opts Options) (*Recorder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	rs, err := compileRules(opts.Rules)
	if err != nil {
		return nil, err
	}
	r := &Recorder{
		w: w, opts: opts, log: opts.Logger, rules: rs,
		queue:   make(chan *Entry, opts.QueueSize),
		batches: make(chan *pending, pendingBatches(opts.BatchSize)), free: make(chan *pending, pendingBatches(opts.BatchSize)+2),
		writerDone: make(chan struct{}), built: make(chan *pending, max(2, opts.QueueSize/opts.BatchSize)),
		closing: make(chan struct{}), hurry: make(chan struct{}),
		abandon: make(chan struct{}), done: make(chan struct{}), wake: make(chan struct{}, 1),
	}
	r.shards = make([]*shard, 2*max(1, runtime.GOMAXPROCS(0)))
	for i := range r.shards {
		r.shards[i] = new(shard)
	}
	if opts.SpoolDir != "" {
		if r.spool, err = openSpool(opts.SpoolDir, opts.SpoolMaxBytes); err != nil {
			return nil, err
		}
	}
	r.m = newMetrics(opts.Registerer,
		func() float64 { return float64(len(r.queue) + len(r.built)*r.opts.BatchSize) },
		func() float64 {
			if r.spool == nil {
				return 0
			}
			return float64(r.spool.bytes.Load())
		})
	r.cQueueFull = r.m.dropped.WithLabelValues(dropQueueFull)
	r.cClosed = r.m.dropped.WithLabelValues(dropClosed)
	r.cSkipped = r.m.sampledOut.WithLabelValues(reasonNames[reasonSkipped])
	r.cSampled = r.m.sampledOut.WithLabelValues(reasonNames[reasonSampledOut])
	if opts.OPA.URL != "" {
		r.sink = newOPASink(opts.OPA, opts.FlushInterval, r.log, r.m)
	}
	go r.run()
	return r, nil
}

// Record records an entry. It applies the sampling rules, then builds and
// encodes the row into a shard, which costs well under a microsecond and
// allocates nothing. A decision whose explanation must be computed (see
// Options.Explain) and is not cached is queued instead, with a copy of its
// body, and explained off the hot path. With the queue full it drops the
// entry (FullDrop) or waits for room (FullBlock). Record keeps neither e
// nor its body: both may be reused once it returns, but the request,
// snapshot and decision it points to must not change. A nil Recorder
// records nothing.
func (r *Recorder) Record(e *Entry) {
	if r == nil || e == nil || e.Request == nil {
		return
	}
	op := e.Request.Op
	o := outcomeOf(e)
	if len(r.rules) > 0 {
		switch r.rules.decide(e.Request, o) {
		case skipped:
			r.counts.add(op, reasonSkipped)
			r.cSkipped.Inc()
			return
		case sampledOut:
			r.counts.add(op, reasonSampledOut)
			r.cSampled.Inc()
			return
		}
	}
	if r.closed.Load() {
		r.drop(op, r.cClosed)
		return
	}
	if r.encodeInline(e, o) {
		return
	}
	r.queueCopy(e)
}

// enqueue hands an entry to the builder, applying the full policy when
// the queue is full.
func (r *Recorder) enqueue(e *Entry) {
	select {
	case r.queue <- e:
		r.queued()
		return
	default:
	}
	if r.opts.Full == FullBlock && block(r, r.queue, e) {
		r.queued()
		return
	}
	r.drop(e.Request.Op, r.cQueueFull)
}

// queued counts an enqueued entry and wakes the worker when a batch is
// full.
func (r *Recorder) queued() {
	r.m.queued.Inc()
	if len(r.queue) >= r.opts.BatchSize {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// block waits for room in ch for v, until BlockTimeout or Close, for the
// FullBlock policy.
func block[T any](r *Recorder, ch chan<- T, v T) bool {
	var timeout <-chan time.Time
	if r.opts.BlockTimeout > 0 {
		t := time.NewTimer(r.opts.BlockTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case ch <- v:
		return true
	case <-timeout:
	case <-r.closing:
	}
	return false
}

func (r *Recorder) drop(op trino.Operation, c prometheus.Counter) {
	c.Inc()
	r.counts.add(op, reasonDropped)
}

// Close stops accepting entries, writes what is queued (to PostgreSQL, or
// to the spool when PostgreSQL cannot take it) and flushes the OPA sink.
// When ctx ends first it stops waiting for PostgreSQL: it spools what it
// can, drops the rest and returns an error that says how many were lost.
// Call it after the decision handlers have returned; Record after Close
// drops and counts. Close may be called more than once.
func (r *Recorder) Close(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.once.Do(func() {
		r.closed.Store(true)
		close(r.closing)
	})
	select {
	case <-r.done:
	case <-ctx.Done():
		r.hurryUp()
		<-r.done
	}
	r.finish.Do(func() {
		var errs []error
		if r.sink != nil {
			if err := r.sink.close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		r.spool.close()
		if n := r.lost.Load(); n > 0 {
			errs = append(errs, fmt.Errorf("audit: %d decisions could not be written to PostgreSQL or the spool before the shutdown deadline", n))
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

func (r *Recorder) hurryUp() {
	select {
	case <-r.hurry:
	default:
		close(r.hurry)
	}
}

// pendingRows bounds the rows of the built batches waiting for the writer
// in memory; more go to the spool. With PostgreSQL on the same cores (its
// writes stall now and then), 4,000 rows in batches of 1,000 sent 14% of
// the rows through the spool and 8,000 5%; with batches of 4,000, 8,000
// rows sent 33% and 16,000 8–9%. At 16,000 decisions a second they are
// still a second of them, which bounds what a crash can lose.
const pendingRows = 16000

// pendingBatches is how many batches of batchSize rows pendingRows allows:
// at least 2, so the builder can hand on a batch while the writer writes
// one, and at most 8, so small batches (a low batch_size, or the flush
// interval's partial batches) still reach the spool when PostgreSQL lags.
func pendingBatches(batchSize int) int {
	return min(8, max(2, (pendingRows+batchSize-1)/batchSize))
}

// pending is a built batch on its way to PostgreSQL or the spool: its rows,
// encoded, and the operation of each, to count what is dropped.
type pending struct {
	batch store.AuditBatch
	ops   []trino.Operation
}

// add appends a built row, and hands it to the OPA sink when one is on
// (at once, so the sink sees a caller's decisions in order).
func (r *Recorder) add(p *pending, rec *store.AuditRecord, op trino.Operation) {
	p.batch.Add(rec)
	p.ops = append(p.ops, op)
	if r.sink != nil {
		r.sink.add([]store.AuditDecision{rec.Decision()})
	}
}

func (p *pending) len() int { return p.batch.Len() }

// newPending returns an empty batch, reusing a written one when it can.
func (r *Recorder) newPending() *pending {
	select {
	case p := <-r.free:
		p.batch.Reset()
		p.ops = p.ops[:0]
		return p
	default:
		return &pending{}
	}
}

// release hands a batch that is written, spooled or dropped back for reuse.
func (r *Recorder) release(p *pending) {
	if p.batch.Len() > 4*r.opts.BatchSize || cap(p.batch.Bytes()) > 64<<20 {
		return // an outsized batch (a replayed segment) is not kept
	}
	select {
	case r.free <- p:
	default:
	}
}

// run is the builder: it drains the queue into batches, builds their rows
// and hands them to the writer (writeLoop), which persists them. Two
// goroutines, so a slow PostgreSQL write never stops the queue draining.
func (r *Recorder) run() {
	defer close(r.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.hurry:
			cancel()
		case <-r.abandon:
			cancel()
		case <-ctx.Done():
		}
	}()
	go r.writeLoop(ctx)
	ticker := time.NewTicker(r.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-r.wake:
			r.drain(ctx)
		case p := <-r.built:
			r.handOn(ctx, p)
		case <-ticker.C:
			r.drain(ctx)
			for _, p := range r.coalesce(r.takeShards()) {
				r.handOn(ctx, p)
			}
		case <-r.closing:
			// Close set closed first: a handler that encodes a row after
			// this sees it under the shard's lock and drops the row.
			for _, p := range r.coalesce(r.takeShards()) {
				r.handOn(ctx, p)
			}
			r.drain(ctx)
			for len(r.built) > 0 {
				r.handOn(ctx, <-r.built)
			}
			close(r.batches)
			select {
			case <-r.writerDone:
			case <-r.abandon:
			}
			return
		case <-r.abandon:
			return
		}
	}
}

func (r *Recorder) persistTimed(ctx context.Context, p *pending) {
	start := time.Now()
	r.persist(ctx, p)
	r.m.flushSeconds.Observe(time.Since(start).Seconds())
	r.release(p)
}

// writeLoop is the writer: it persists built batches, and between them
// writes the sampling counts, replays the spool and maintains partitions.
func (r *Recorder) writeLoop(ctx context.Context) {
	defer close(r.writerDone)
	nextMaintenance := r.maintain(ctx)
	ticker := time.NewTicker(r.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case p, ok := <-r.batches:
			if !ok {
				r.flushCounts(ctx)
				return
			}
			r.persistTimed(ctx, p)
		case <-ticker.C:
			r.flushCounts(ctx)
			r.replay(ctx)
			if !time.Now().Before(nextMaintenance) {
				nextMaintenance = r.maintain(ctx)
			}
		case <-r.abandon:
			return
		}
	}
}

// drain flushes what the queue holds now, in batches of BatchSize. The
// worker never waits on the queue itself: Record then hands an entry over
// without waking a goroutine, and wakes the worker only for a full batch.
func (r *Recorder) drain(ctx context.Context) {
	for n := len(r.queue); n > 0; n = len(r.queue) {
		batch := make([]*Entry, 0, min(n, r.opts.BatchSize))
		for len(batch) < cap(batch) {
			select {
			case e := <-r.queue:
				batch = append(batch, e)
				continue
			case <-r.abandon:
				return
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		r.flush(ctx, batch)
	}
}

// flush builds the rows of queued entries and hands them on.
func (r *Recorder) flush(ctx context.Context, batch []*Entry) {
	r.handOn(ctx, r.buildBatch(ctx, batch))
}

// buildBatch builds the rows of queued entries.
func (r *Recorder) buildBatch(ctx context.Context, batch []*Entry) *pending {
	p := r.newPending()
	for _, e := range batch {
		r.add(p, r.build(ctx, &r.rb, e), e.Request.Op)
	}
	return p
}

// handOn passes a built batch to the writer. When the writer is behind
// (its batches are full), the rows go to the spool at once, so decisions
// are not dropped while PostgreSQL is merely slow; the writer replays them
// when it catches up. Without a spool, or with the spool full, the builder
// waits for the writer, the queue fills, and Record applies the full
// policy.
func (r *Recorder) handOn(ctx context.Context, p *pending) {
	select {
	case r.batches <- p:
		return
	default:
	}
	if r.spool != nil {
		if err := r.spool.write(p); err == nil {
			r.m.spooled.Add(float64(p.len()))
			r.release(p)
			return
		} else if !errors.Is(err, errSpoolFull) {
			r.log.Error("spooling audit rows failed", "rows", p.len(), "error", err)
		}
	}
	select {
	case r.batches <- p:
	case <-ctx.Done():
		r.lost.Add(int64(p.len()))
		r.dropRows(p, dropUnavailable)
	case <-r.abandon:
	}
}

// keepAfter is the retention cutoff; zero keeps everything.
func (r *Recorder) keepAfter() time.Time {
	if r.opts.RetentionDays < 0 {
		return time.Time{}
	}
	return time.Now().AddDate(0, 0, -r.opts.RetentionDays)
}

// persist writes rows to PostgreSQL, or else to the spool. With neither
// usable it retries, so the queue fills and Record applies the full
// policy; once ctx ends (Close's deadline) it drops the rows and counts
// them.
func (r *Recorder) persist(ctx context.Context, p *pending) {
	for {
		if ctx.Err() == nil && !r.down() {
			err := r.write(ctx, p, true)
			if err == nil {
				return
			}
			if errors.Is(err, store.ErrInvalid) {
				// The batch itself is malformed: retrying cannot help.
				r.log.Error("PostgreSQL refused an audit batch; dropping it", "rows", p.len(), "error", err)
				r.dropRows(p, dropInvalid)
				return
			}
		}
		if r.spool != nil {
			err := r.spool.write(p)
			if err == nil {
				r.m.spooled.Add(float64(p.len()))
				return
			}
			r.log.Error("spooling audit rows failed", "rows", p.len(), "error", err)
		}
		if ctx.Err() != nil {
			r.lost.Add(int64(p.len()))
			r.dropRows(p, dropUnavailable)
			return
		}
		wait := r.downFor()
		if wait <= 0 {
			wait = r.opts.FlushInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

// write writes rows to PostgreSQL (with fresh set, by the direct COPY
// first, falling back to the idempotent staging path; else by the staging
// path) and tracks its health: after a failure,
// PostgreSQL is not tried again for a backoff that doubles from the flush
// interval up to ten intervals (at most 30s).
func (r *Recorder) write(ctx context.Context, p *pending, fresh bool) error {
	wctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	write := r.w.AuditCopy
	if fresh {
		write = r.w.AuditCopyFresh
	}
	res, err := write(wctx, &p.batch, r.keepAfter())
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, store.ErrInvalid) {
			r.markDown(err)
		}
		return err
	}
	r.markUp()
	r.m.written.Add(float64(res.Inserted))
	r.m.duplicates.Add(float64(res.Duplicates))
	if res.Expired > 0 {
		r.m.dropped.WithLabelValues(dropExpired).Add(float64(res.Expired))
	}
	if res.Repaired > 0 {
		r.log.Warn("PostgreSQL refused some audit rows as they were; recorded them with their input replaced by the reason", "rows", res.Repaired)
		r.m.repaired.Add(float64(res.Repaired))
	}
	if res.Refused > 0 {
		r.log.Error("PostgreSQL refused some audit rows even repaired; they are not recorded", "rows", res.Refused)
		r.m.dropped.WithLabelValues(dropInvalid).Add(float64(res.Refused))
		for range res.Refused {
			r.counts.add(trino.OpUnknown, reasonDropped)
		}
	}
	return nil
}

// down reports whether PostgreSQL is in its backoff after a failure.
func (r *Recorder) down() bool { return r.downFor() > 0 }

// downFor is how long PostgreSQL is still in its backoff.
func (r *Recorder) downFor() time.Duration { return time.Until(r.downUntil) }

func (r *Recorder) markUp() {
	r.backoff = 0
	r.downUntil = time.Time{}
}

func (r *Recorder) markDown(err error) {
	maxBackoff := min(10*r.opts.FlushInterval, 30*time.Second)
	if r.backoff == 0 {
		r.backoff = r.opts.FlushInterval
		r.log.Warn("writing the audit to PostgreSQL failed; spooling until it answers", "error", err)
	} else {
		r.backoff = min(2*r.backoff, maxBackoff)
	}
	r.downUntil = time.Now().Add(r.backoff)
}

func (r *Recorder) dropRows(p *pending, reason string) {
	r.m.dropped.WithLabelValues(reason).Add(float64(p.len()))
	for _, op := range p.ops {
		r.counts.add(op, reasonDropped)
	}
}

// replay writes spooled segments back to PostgreSQL, oldest first, for at
// most one flush interval, while no live batch waits and the queue is less
// than half full.
func (r *Recorder) replay(ctx context.Context) {
	if r.spool == nil || r.spool.bytes.Load() == 0 || r.down() {
		return
	}
	names, err := r.spool.segments()
	if err != nil {
		r.log.Error("listing the audit spool failed", "error", err)
		return
	}
	deadline := time.Now().Add(r.opts.FlushInterval)
	for _, name := range names {
		if ctx.Err() != nil || time.Now().After(deadline) || len(r.batches) > 0 || len(r.queue) > cap(r.queue)/2 {
			return
		}
		p, err := r.spool.read(name)
		if err != nil {
			r.log.Error("an audit spool segment is unreadable; moved aside", "segment", name, "error", err)
			r.spool.quarantine(name)
			r.m.dropped.WithLabelValues(dropCorrupt).Inc()
			continue
		}
		// Most segments hold rows PostgreSQL never saw (the writer was
		// behind), so the direct COPY is tried first, as for fresh rows:
		// it costs PostgreSQL, which is lagging already, about half of
		// the staging path. A segment whose rows were committed after all
		// (a write whose acknowledgement was lost) fails that COPY on the
		// unique key and takes the staging path, which skips them.
		if err := r.write(ctx, p, true); err != nil {
			if errors.Is(err, store.ErrInvalid) {
				r.log.Error("PostgreSQL refused spooled audit rows; moved aside", "segment", name, "error", err)
				r.spool.quarantine(name)
				r.dropRows(p, dropInvalid)
				continue
			}
			return
		}
		if err := r.spool.remove(name); err != nil {
			r.log.Error("removing a replayed audit segment failed", "segment", name, "error", err)
			return
		}
		r.m.replayed.Add(float64(p.len()))
		r.release(p)
	}
}

// flushCounts writes the counts of decisions not recorded.
func (r *Recorder) flushCounts(ctx context.Context) {
	rows := r.counts.take()
	if len(rows) == 0 {
		return
	}
	if ctx.Err() != nil || r.down() {
		r.counts.giveBack(rows)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	if err := r.w.AuditSamplingAdd(wctx, time.Now(), rows); err != nil {
		r.counts.giveBack(rows)
		r.log.Warn("writing audit sampling counts failed", "error", err)
	}
}

// maintain creates the coming days' partitions and applies the retention.
// It returns when to run again: after MaintenanceInterval, or sooner
// after a failure.
func (r *Recorder) maintain(ctx context.Context) time.Time {
	now := time.Now()
	retry := now.Add(min(r.opts.MaintenanceInterval, time.Minute))
	mctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	if _, err := r.w.AuditPartitionsEnsure(mctx, now.AddDate(0, 0, -1), now.AddDate(0, 0, r.opts.PartitionsAhead)); err != nil {
		r.log.Warn("creating audit partitions failed", "error", err)
		return retry
	}
	if cutoff := r.keepAfter(); !cutoff.IsZero() {
		res, err := r.w.AuditRetain(mctx, cutoff)
		if err != nil {
			r.log.Warn("applying the audit retention failed", "error", err)
			return retry
		}
		if res.Partitions > 0 || res.Queries > 0 {
			r.log.Info("audit retention applied", "partitions_dropped", res.Partitions, "queries_deleted", res.Queries)
		}
	}
	return now.Add(r.opts.MaintenanceInterval)
}
