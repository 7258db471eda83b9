package audit

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
)

// Entry is one decision as the handler saw it. Record keeps neither the
// entry nor its Body (it copies both when it queues the entry), so both may
// be reused once it returns; it may keep the pointers, so the request,
// snapshot and decision must not change after Record: the decoded request
// owns its strings (trino.Decode copies them out of the body), and the
// snapshot and decision are immutable.
type Entry struct {
	// Time is when the request arrived.
	Time time.Time
	// DecisionID is the ID the answer carried.
	DecisionID string
	// Request is the decoded request, with its cluster, endpoint and
	// enriched subject. An entry without one is ignored.
	Request *policy.Request
	// Snapshot is the policy that decided; the worker re-decides on it to
	// explain the decision.
	Snapshot *policy.Snapshot
	// Decision is the answer; nil when deciding failed.
	Decision *policy.Decision
	// Err is why deciding failed, if it did.
	Err error
	// Latency is how long the decision took.
	Latency time.Duration
	// Body, when set, is the request body the Request was decoded from;
	// the row then stores the input exactly as Trino sent it instead of
	// encoding the decoded one again.
	Body []byte
}

// explains reports whether the explain mode asks for e's explanation.
func (r *Recorder) explains(e *Entry, o outcome) bool {
	if r.opts.ExplainFunc == nil || e.Snapshot == nil || r.opts.Explain == ExplainNone {
		return false
	}
	return r.opts.Explain != ExplainDenied || o == outcomeDeny || o == outcomePartial || o == outcomeError
}

// explain computes e's explanation by re-deciding on the pinned snapshot,
// with a batch cut to ExplainMaxItems items (capped reports the cut).
func (r *Recorder) explain(ctx context.Context, e *Entry) (x *policy.Explanation, capped bool) {
	fn := r.opts.ExplainFunc
	req := *e.Request
	req.Explain = true
	if n := items(&req); n > r.opts.ExplainMaxItems {
		req.Request = truncate(req.Request, req.Op, r.opts.ExplainMaxItems)
		capped = true
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
	defer cancel()
	x, err := fn(ctx, e.Snapshot, &req)
	if err != nil {
		r.log.Warn("explaining a recorded decision failed", "decision_id", e.DecisionID, "error", err)
		r.m.explainErrors.Inc()
		return nil, false
	}
	return x, capped
}

func items(req *policy.Request) int {
	if req.Endpoint == trino.EndpointBatch {
		return req.Items()
	}
	return len(req.Action.FilterResources)
}

// truncate returns a copy of tr that keeps the first n items; tr is not
// changed.
func truncate(tr *trino.Request, op trino.Operation, n int) *trino.Request {
	cp := *tr
	a := &cp.Action
	if op == trino.OpFilterColumns && len(a.FilterResources) == 1 && a.FilterResources[0].Table != nil {
		res := a.FilterResources[0]
		tbl := *res.Table
		tbl.Columns = tbl.Columns[:n]
		res.Table = &tbl
		a.FilterResources = []trino.Resource{res}
		return &cp
	}
	a.FilterResources = a.FilterResources[:n]
	return &cp
}

// resultJSON is the "result" of the answer, as the endpoint sent it.
func resultJSON(ep trino.Endpoint, d *policy.Decision) []byte {
	var v any
	switch ep {
	case trino.EndpointAllow:
		if d.Allowed {
			return resultTrue
		}
		return resultFalse
	case trino.EndpointBatch:
		v = nonNil(d.Indices)
	case trino.EndpointRowFilters:
		v = nonNil(d.Filters)
	case trino.EndpointColumnMask:
		v = d.Mask
	case trino.EndpointBatchColumnMasks:
		v = nonNil(d.Masks)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// appendSummary appends a one-line name of what a decision was about, and
// the catalog.schema.table of a decision about one table.
func appendSummary(buf []byte, req *policy.Request) (out []byte, summary, table span) {
	a := &req.Action
	from := len(buf)
	if a.Resource != nil {
		buf, table = appendResource(buf, a.Resource)
		if a.TargetResource != nil {
			buf = append(buf, " -> "...)
			buf, _ = appendResource(buf, a.TargetResource)
		}
		return buf, span{from, len(buf)}, table
	}
	n := len(a.FilterResources)
	if n == 0 {
		return buf, span{}, span{}
	}
	first := &a.FilterResources[0]
	if req.Op == trino.OpFilterColumns && first.Table != nil {
		buf = appendTable(buf, first.Table.CatalogName, first.Table.SchemaName, first.Table.TableName)
		table = span{from, len(buf)}
		buf = append(buf, ": "...)
		buf = strconv.AppendInt(buf, int64(len(first.Table.Columns)), 10)
		buf = append(buf, " columns"...)
		return buf, span{from, len(buf)}, table
	}
	// One table for every item (batchColumnMasks of one table).
	c, sc, t, ok := tableOf(first)
	for i := 1; ok && i < n; i++ {
		c2, s2, t2, ok2 := tableOf(&a.FilterResources[i])
		ok = ok2 && c2 == c && s2 == sc && t2 == t
	}
	switch {
	case ok && n == 1:
		buf, table = appendResource(buf, first)
		return buf, span{from, len(buf)}, table
	case ok:
		buf = appendTable(buf, c, sc, t)
		table = span{from, len(buf)}
		buf = append(buf, ": "...)
		buf = strconv.AppendInt(buf, int64(n), 10)
		buf = append(buf, " columns"...)
		return buf, span{from, len(buf)}, table
	}
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, ' ')
	buf = append(buf, kindName(req.Op.Kind())...)
	return buf, span{from, len(buf)}, span{}
}

func kindName(k trino.ResourceKind) string {
	switch k {
	case trino.KindCatalog:
		return "catalogs"
	case trino.KindSchema:
		return "schemas"
	case trino.KindTable:
		return "tables"
	case trino.KindColumn:
		return "columns"
	case trino.KindFunction:
		return "functions"
	case trino.KindUser:
		return "users"
	}
	return "items"
}

// tableOf returns the table a column or table resource is about.
func tableOf(r *trino.Resource) (catalog, schema, table string, ok bool) {
	switch {
	case r.Column != nil:
		return r.Column.CatalogName, r.Column.SchemaName, r.Column.TableName, true
	case r.Table != nil:
		return r.Table.CatalogName, r.Table.SchemaName, r.Table.TableName, true
	}
	return "", "", "", false
}

func appendTable(buf []byte, catalog, schema, table string) []byte {
	buf = append(buf, catalog...)
	buf = append(buf, '.')
	buf = append(buf, schema...)
	buf = append(buf, '.')
	return append(buf, table...)
}

// appendResource appends a one-line name of a resource, and returns where
// its table is, for a column or table resource.
func appendResource(buf []byte, r *trino.Resource) ([]byte, span) {
	from := len(buf)
	switch {
	case r.Column != nil:
		c := r.Column
		buf = appendTable(buf, c.CatalogName, c.SchemaName, c.TableName)
		table := span{from, len(buf)}
		buf = append(buf, '.')
		return append(buf, c.ColumnName...), table
	case r.Table != nil:
		t := r.Table
		buf = appendTable(buf, t.CatalogName, t.SchemaName, t.TableName)
		table := span{from, len(buf)}
		if r.Function != nil {
			buf = append(buf, " procedure "...)
			buf = append(buf, r.Function.FunctionName...)
		}
		return buf, table
	case r.Schema != nil:
		buf = append(buf, r.Schema.CatalogName...)
		buf = append(buf, '.')
		buf = append(buf, r.Schema.SchemaName...)
	case r.Function != nil:
		f := r.Function
		buf = append(buf, "function "...)
		if f.CatalogName != "" {
			buf = append(buf, f.CatalogName...)
			buf = append(buf, '.')
			buf = append(buf, f.SchemaName...)
			buf = append(buf, '.')
		}
		buf = append(buf, f.FunctionName...)
	case r.Catalog != nil:
		buf = append(buf, r.Catalog.Name...)
	case r.User != nil:
		buf = append(buf, "user "...)
		buf = append(buf, r.User.User...)
	case r.SystemSessionProperty != nil:
		buf = append(buf, "session property "...)
		buf = append(buf, r.SystemSessionProperty.Name...)
	case r.CatalogSessionProperty != nil:
		p := r.CatalogSessionProperty
		buf = append(buf, "session property "...)
		buf = append(buf, p.CatalogName...)
		buf = append(buf, '.')
		buf = append(buf, p.PropertyName...)
	}
	return buf, span{}
}

// linearFacets is how many facets are deduplicated by comparing with each
// one kept; above it, a map is faster.
const linearFacets = 32

// collectFacets collects the searchable names of a decision, each once, up
// to limit, into the builder's reused slice; capped reports that some were
// left out.
func (b *rowBuilder) collectFacets(req *policy.Request, limit int) (out []store.AuditFacet, capped bool) {
	out = b.facets[:0]
	if b.seen != nil {
		clear(b.seen)
	}
	add := func(kind, name string) {
		if name == "" {
			return
		}
		f := store.AuditFacet{Kind: kind, Name: name}
		if len(out) < linearFacets {
			for i := range out {
				if out[i] == f {
					return
				}
			}
		} else {
			if b.seen == nil {
				b.seen = make(map[store.AuditFacet]struct{}, 2*linearFacets)
			}
			if len(b.seen) == 0 {
				for _, g := range out {
					b.seen[g] = struct{}{}
				}
			}
			if _, ok := b.seen[f]; ok {
				return
			}
		}
		if len(out) >= limit {
			capped = true
			return
		}
		if len(out) >= linearFacets {
			b.seen[f] = struct{}{}
		}
		out = append(out, f)
	}
	for _, g := range req.Subject.Groups {
		add("group", g)
	}
	visit := func(r *trino.Resource) {
		if r == nil {
			return
		}
		if c := r.Catalog; c != nil {
			add("catalog", c.Name)
		}
		if s := r.Schema; s != nil {
			add("catalog", s.CatalogName)
			add("schema", s.SchemaName)
		}
		if t := r.Table; t != nil {
			add("catalog", t.CatalogName)
			add("schema", t.SchemaName)
			add("table", t.TableName)
			for _, c := range t.Columns {
				add("column", c)
			}
		}
		if c := r.Column; c != nil {
			add("catalog", c.CatalogName)
			add("schema", c.SchemaName)
			add("table", c.TableName)
			add("column", c.ColumnName)
		}
		if f := r.Function; f != nil {
			add("catalog", f.CatalogName)
			add("schema", f.SchemaName)
			add("function", f.FunctionName)
		}
		if p := r.CatalogSessionProperty; p != nil {
			add("catalog", p.CatalogName)
		}
	}
	a := &req.Action
	visit(a.Resource)
	visit(a.TargetResource)
	for i := range a.FilterResources {
		visit(&a.FilterResources[i])
	}
	b.facets = out
	return out, capped
}
