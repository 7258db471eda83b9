package audit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
)

// rowBuilder turns entries into the records the store encodes. Each shard
// has one, and so has the builder goroutine; its memory is reused row after
// row, so building the row of an ordinary decision allocates nothing.
type rowBuilder struct {
	rec     store.AuditRecord
	scratch []byte // the resource summary, table and decider
	facets  []store.AuditFacet
	seen    map[store.AuditFacet]struct{} // for decisions with many facets
	key     []byte                        // an explanation cache key
	// pre is the explanation a shard found in the cache for the row it
	// builds, when hasPre is set.
	pre    cachedExplanation
	hasPre bool
}

// build fills b's record from an entry and returns it; it is valid until
// the next build. On a shard (the decision's own goroutine) it only uses
// an explanation the request carries or the shard found in the cache; on
// the builder goroutine, off the hot path, it also computes one when the
// explain mode asks for it.
func (r *Recorder) build(ctx context.Context, b *rowBuilder, e *Entry) *store.AuditRecord {
	req := e.Request
	o := outcomeOf(e)
	at := e.Time
	if at.IsZero() {
		at = time.Now()
	}
	rec := &b.rec
	*rec = store.AuditRecord{
		DecidedAt:     at,
		DecisionID:    e.DecisionID,
		Cluster:       req.Cluster,
		Endpoint:      req.Endpoint.String(),
		Operation:     req.Action.Operation,
		User:          req.Subject.User,
		Groups:        req.Subject.Groups,
		QueryID:       req.Context.QueryID,
		TrinoVersion:  req.Context.SoftwareStack.TrinoVersion,
		Outcome:       o.String(),
		LatencyMicros: e.Latency.Microseconds(),
	}
	if rec.Cluster == "" {
		rec.Cluster = policy.DefaultCluster
	}
	if e.Snapshot != nil {
		rec.Revision = e.Snapshot.Revision
	}
	if e.Err != nil {
		rec.Error = e.Err.Error()
	}
	scratch := b.scratch[:0]
	var decider span
	if d := e.Decision; d != nil {
		rec.Revision = d.Revision
		rec.Result = resultJSON(req.Endpoint, d)
		switch req.Endpoint {
		case trino.EndpointBatch:
			rec.Items, rec.Kept = req.Items(), len(d.Indices)
		case trino.EndpointBatchColumnMasks:
			rec.Items, rec.Kept = len(req.Action.FilterResources), len(d.Masks)
		}
		if req.Endpoint == trino.EndpointAllow && d.Explanation == nil {
			scratch, decider = appendDecider(scratch, d)
		}
	}
	var summary, table span
	scratch, summary, table = appendSummary(scratch, req)
	rec.Facets, rec.FacetsCapped = b.collectFacets(req, r.opts.FacetsMax)
	raw := req.RawInput(e.Body)
	if raw != nil {
		rec.Input = raw
	} else if in, err := json.Marshal(&req.Input); err == nil {
		rec.Input = in
	}
	if x, ok := r.explanation(ctx, b, e, o, raw); ok {
		decider = span{}
		rec.Explanation, rec.ExplainCapped, rec.Decider = x.json, x.capped, x.decider
	}
	// The scratch buffer is complete: its spans can be taken now.
	b.scratch = scratch
	rec.Resource = summary.of(scratch)
	rec.QualifiedTable = table.of(scratch)
	if decider != (span{}) {
		rec.Decider = decider.of(scratch)
	}
	return rec
}

// explanation returns the encoded explanation of e, when it has one or the
// explain mode asks for one: the request's own, or one computed by
// re-deciding, or the cached one of the same request.
func (r *Recorder) explanation(ctx context.Context, b *rowBuilder, e *Entry, o outcome, input []byte) (cachedExplanation, bool) {
	if e.Decision != nil && e.Decision.Explanation != nil {
		return encodeExplanation(e.Decision.Explanation, false, o)
	}
	if b.hasPre {
		b.hasPre = false
		return b.pre, true
	}
	if !r.explains(e, o) {
		return cachedExplanation{}, false
	}
	now := time.Now()
	if input != nil {
		if x, ok := r.expl.lookup(&b.key, e, input, now); ok && x.outcome == o {
			r.m.explainCached.Inc()
			return x, true
		}
	}
	px, capped := r.explain(ctx, e)
	if px == nil {
		return cachedExplanation{}, false
	}
	x, ok := encodeExplanation(px, capped, o)
	if ok && input != nil {
		r.expl.store(&b.key, e, input, x, now)
	}
	return x, ok
}

func encodeExplanation(x *policy.Explanation, capped bool, o outcome) (cachedExplanation, bool) {
	enc, err := json.Marshal(x)
	if err != nil {
		return cachedExplanation{}, false
	}
	d := x.Decider
	if d == "" {
		d = x.Outcome
	}
	return cachedExplanation{json: enc, decider: []byte(d), capped: capped, outcome: o}, true
}

// buildRow returns an entry's row as an AuditDecision.
func (r *Recorder) buildRow(ctx context.Context, e *Entry) store.AuditDecision {
	var b rowBuilder
	return r.build(ctx, &b, e).Decision()
}

// span is a part of the builder's scratch buffer.
type span struct{ from, to int }

func (s span) of(buf []byte) []byte {
	if s.to <= s.from {
		return nil
	}
	return buf[s.from:s.to:s.to]
}

// appendDecider appends what decided a single check, in the form
// explanations use ("rules: tables[0]"), from the fields the engine fills
// on every decision.
func appendDecider(buf []byte, d *policy.Decision) ([]byte, span) {
	from := len(buf)
	switch {
	case d.Errored:
		buf = append(buf, "error: a policy source failed"...)
	case d.DecidedBy == "":
		buf = append(buf, "baseline: no source allowed"...)
	case d.DecidedRule == "":
		buf = append(buf, d.DecidedBy...)
	default:
		buf = append(buf, d.DecidedBy...)
		buf = append(buf, ": "...)
		buf = append(buf, d.DecidedRule...)
	}
	return buf, span{from, len(buf)}
}

// The results of the allow endpoint, which need no encoding.
var (
	resultTrue  = []byte("true")
	resultFalse = []byte("false")
)
