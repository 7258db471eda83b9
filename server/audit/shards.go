package audit

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/trino-warden/warden/policy"
)

// A shard is where decision handlers encode rows themselves. Building and
// encoding a row on the handler's goroutine, while its request is still in
// the processor's cache, costs a fraction of handing the entry to another
// goroutine and building it there, and needs no copy of the entry or its
// body. A handler takes any free shard; the builder goroutine takes the
// shards' rows every flush interval, and a shard that fills a batch hands
// it on at once.
type shard struct {
	mu sync.Mutex
	p  *pending // nil when empty
	rb rowBuilder
}

// encodeInline builds and encodes e into a shard, unless e needs an
// explanation the cache does not have: then it returns false, and the
// caller queues e for the builder, which computes it off the hot path.
// Rows arriving after Close are dropped and counted.
func (r *Recorder) encodeInline(e *Entry, o outcome) bool {
	sh := r.lockShard()
	if r.closed.Load() {
		sh.mu.Unlock()
		r.drop(e.Request.Op, r.cClosed)
		return true
	}
	if e.Decision == nil || e.Decision.Explanation == nil {
		if r.explains(e, o) {
			raw := e.Request.RawInput(e.Body)
			if raw == nil {
				sh.mu.Unlock()
				return false
			}
			x, ok := r.expl.lookup(&sh.rb.key, e, raw, time.Now())
			if !ok || x.outcome != o {
				sh.mu.Unlock()
				return false
			}
			sh.rb.pre, sh.rb.hasPre = x, true
			r.m.explainCached.Inc()
		}
	}
	if sh.p == nil {
		sh.p = r.newPending()
	}
	p := sh.p
	r.add(p, r.build(context.Background(), &sh.rb, e), e.Request.Op)
	full := p.len() >= r.opts.BatchSize
	if full {
		sh.p = nil
	}
	sh.mu.Unlock()
	if full {
		r.handOff(p)
	}
	return true
}

// lockShard locks a free shard, or waits for one.
func (r *Recorder) lockShard() *shard {
	n := len(r.shards)
	start := rand.IntN(n) //nolint:gosec // spreading load, not secrecy.
	for i := range n {
		if sh := r.shards[(start+i)%n]; sh.mu.TryLock() {
			return sh
		}
	}
	sh := r.shards[start]
	sh.mu.Lock()
	return sh
}

// handOff passes a full batch from a handler to the builder. With the
// builder that far behind (PostgreSQL and the spool both unable to keep
// up), it applies the full policy: drop the batch and count it, or wait.
func (r *Recorder) handOff(p *pending) {
	r.m.queued.Add(float64(p.len()))
	select {
	case r.built <- p:
		return
	default:
	}
	if r.opts.Full == FullBlock && block(r, r.built, p) {
		return
	}
	r.cQueueFull.Add(float64(p.len()))
	for _, op := range p.ops {
		r.counts.add(op, reasonDropped)
	}
}

// takeShards empties every shard and returns their batches.
func (r *Recorder) takeShards() []*pending {
	var out []*pending
	for _, sh := range r.shards {
		sh.mu.Lock()
		if sh.p != nil {
			out = append(out, sh.p)
			sh.p = nil
		}
		sh.mu.Unlock()
	}
	for _, p := range out {
		r.m.queued.Add(float64(p.len()))
	}
	return out
}

// coalesce merges the shards' partial batches into as few batches of at
// most BatchSize rows as it can: every flush interval, each shard hands on
// what it holds, and each batch costs the writer a COPY, whose fixed cost
// (a round trip, goroutines, and PostgreSQL's own per-statement work)
// would otherwise be paid once per shard.
func (r *Recorder) coalesce(ps []*pending) []*pending {
	var out []*pending
next:
	for _, p := range ps {
		for _, into := range out {
			if into.len()+p.len() <= r.opts.BatchSize {
				into.batch.Append(&p.batch)
				into.ops = append(into.ops, p.ops...)
				r.release(p)
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// queueCopy queues a copy of e, with its own copy of the body, for the
// builder: the handler's entry and body buffer are reused after Record.
func (r *Recorder) queueCopy(e *Entry) {
	c := new(Entry)
	*c = *e
	c.Body = bytes.Clone(e.Body)
	r.enqueue(c)
}

// explainCache keeps the encoded explanations of recent decisions by
// endpoint, cluster and input text, for one snapshot; the shards and the
// builder share it. Trino asks the same checks over and over (every
// query's planning repeats its tables' checks), and an explanation is a
// function of the snapshot and the request, except for grants, which
// change without a new snapshot: so entries live at most explainCacheTTL,
// an entry is used only when its outcome is the decision's, and the cache
// empties when the snapshot changes or it is full.
type explainCache struct {
	mu    sync.RWMutex
	snap  *policy.Snapshot
	since time.Time
	m     map[string]cachedExplanation
}

type cachedExplanation struct {
	json    []byte
	decider []byte
	capped  bool
	outcome outcome
}

const (
	explainCacheTTL = 5 * time.Second
	explainCacheMax = 4096
)

// cacheKey builds e's key in *key, reusing its memory.
func cacheKey(key *[]byte, e *Entry, input []byte) []byte {
	k := append((*key)[:0], byte(e.Request.Endpoint))
	k = append(k, e.Request.Cluster...)
	k = append(k, 0)
	k = append(k, input...)
	*key = k
	return k
}

// lookup returns the cached explanation of e, if any.
func (c *explainCache) lookup(key *[]byte, e *Entry, input []byte, now time.Time) (cachedExplanation, bool) {
	k := cacheKey(key, e, input)
	c.mu.RLock()
	stale := c.stale(e.Snapshot, now)
	x, ok := c.m[string(k)]
	c.mu.RUnlock()
	if stale {
		return cachedExplanation{}, false
	}
	return x, ok
}

func (c *explainCache) stale(snap *policy.Snapshot, now time.Time) bool {
	return c.snap != snap || now.Sub(c.since) > explainCacheTTL || len(c.m) >= explainCacheMax
}

// store keeps x as e's explanation, emptying the cache first when it is
// stale.
func (c *explainCache) store(key *[]byte, e *Entry, input []byte, x cachedExplanation, now time.Time) {
	k := cacheKey(key, e, input)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale(e.Snapshot, now) {
		clear(c.m)
		c.snap, c.since = e.Snapshot, now
	}
	if c.m == nil {
		c.m = make(map[string]cachedExplanation)
	}
	c.m[string(k)] = x
}
