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

// Entry is one decision as the handler saw it. Record keeps the pointers,
// so nothing in an Entry may change after Record: the decoded request owns
// its strings (trino.Decode copies them out of the body), and the snapshot
// and decision are immutable.
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
	// Body, when set, is a copy of the request body as Trino sent it; the
	// worker then stores its input as sent instead of encoding the decoded
	// one again.
	Body []byte
}

// inputOf returns the value of "input" in a compact body of the form
// {"input":{…}}, which is how Trino's plugin sends every request; nil for
// any other shape, which the caller then encodes from the decoded request.
// The body was decoded successfully, so it is valid JSON: it is enough to
// find where the input object closes, and that it closes the body too.
func inputOf(body []byte) json.RawMessage {
	const prefix = `{"input":{`
	if len(body) < len(prefix)+2 || string(body[:len(prefix)]) != prefix {
		return nil
	}
	depth, inString, escaped := 0, false, false
	for i := len(prefix) - 1; i < len(body); i++ {
		c := body[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				// The input object ends here; only the body's own closing
				// brace may follow.
				if i+2 == len(body) && body[i+1] == '}' {
					return body[len(prefix)-1 : i+1]
				}
				return nil
			}
		}
	}
	return nil
}

// buildRow turns an entry into the row the store records. It runs on the
// worker: it encodes the input and result and computes the explanation.
func (r *Recorder) buildRow(ctx context.Context, e *Entry) store.AuditDecision {
	req := e.Request
	o := outcomeOf(e)
	at := e.Time
	if at.IsZero() {
		at = time.Now()
	}
	row := store.AuditDecision{
		DecidedAt:     at.UTC().Truncate(time.Microsecond),
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
	if row.Cluster == "" {
		row.Cluster = policy.DefaultCluster
	}
	if row.Groups == nil {
		row.Groups = []string{}
	}
	if e.Snapshot != nil {
		row.Revision = e.Snapshot.Revision
	}
	if e.Err != nil {
		row.Error = e.Err.Error()
	}
	d := e.Decision
	if d != nil {
		row.Revision = d.Revision
		row.Result = resultJSON(req.Endpoint, d)
		switch req.Endpoint {
		case trino.EndpointBatch:
			row.Items, row.Kept = req.Items(), len(d.Indices)
		case trino.EndpointBatchColumnMasks:
			row.Items, row.Kept = len(req.Action.FilterResources), len(d.Masks)
		}
	}
	row.Resource, row.QualifiedTable = summarize(req)
	row.Facets, row.FacetsCapped = facets(req, r.opts.FacetsMax)
	if in := inputOf(e.Body); in != nil {
		row.Input = in
	} else if in, err := json.Marshal(&req.Input); err == nil {
		row.Input = in
	}
	if d != nil && req.Endpoint == trino.EndpointAllow && d.Explanation == nil {
		row.Decider = decider(d)
	}
	x, capped := r.explain(ctx, e, o)
	if x != nil {
		row.ExplainCapped = capped
		row.Decider = x.Decider
		if row.Decider == "" {
			row.Decider = x.Outcome
		}
		if b, err := json.Marshal(x); err == nil {
			row.Explanation = b
		}
	}
	return row
}

// decider names what decided a single check, in the form explanations use
// ("rules: tables[0]"), from the fields the engine fills on every decision.
func decider(d *policy.Decision) string {
	switch {
	case d.Errored:
		return "error: a policy source failed"
	case d.DecidedBy == "":
		return "baseline: no source allowed"
	case d.DecidedRule == "":
		return d.DecidedBy
	}
	return d.DecidedBy + ": " + d.DecidedRule
}

// explain returns the decision's explanation: the one the request asked
// for, or one computed by re-deciding on the pinned snapshot, with a
// batch cut to ExplainMaxItems items (capped reports the cut).
func (r *Recorder) explain(ctx context.Context, e *Entry, o outcome) (x *policy.Explanation, capped bool) {
	if e.Decision != nil && e.Decision.Explanation != nil {
		return e.Decision.Explanation, false
	}
	fn := r.opts.ExplainFunc
	if fn == nil || e.Snapshot == nil || r.opts.Explain == ExplainNone {
		return nil, false
	}
	if r.opts.Explain == ExplainDenied && o != outcomeDeny && o != outcomePartial && o != outcomeError {
		return nil, false
	}
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
func resultJSON(ep trino.Endpoint, d *policy.Decision) json.RawMessage {
	var v any
	switch ep {
	case trino.EndpointAllow:
		v = d.Allowed
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

// summarize names what a decision was about in one line, and the table of
// a decision about one table.
func summarize(req *policy.Request) (summary, table string) {
	a := &req.Action
	if a.Resource != nil {
		s, t := describeResource(a.Resource)
		if a.TargetResource != nil {
			ts, _ := describeResource(a.TargetResource)
			s += " -> " + ts
		}
		return s, t
	}
	n := len(a.FilterResources)
	if n == 0 {
		return "", ""
	}
	if req.Op == trino.OpFilterColumns && a.FilterResources[0].Table != nil {
		_, t := describeResource(&a.FilterResources[0])
		return t + ": " + strconv.Itoa(len(a.FilterResources[0].Table.Columns)) + " columns", t
	}
	// One table for every item (batchColumnMasks of one table).
	_, first := describeResource(&a.FilterResources[0])
	same := first != ""
	for i := 1; same && i < n; i++ {
		_, t := describeResource(&a.FilterResources[i])
		same = t == first
	}
	if same {
		if n == 1 {
			s, _ := describeResource(&a.FilterResources[0])
			return s, first
		}
		return first + ": " + strconv.Itoa(n) + " columns", first
	}
	return strconv.Itoa(n) + " " + kindName(req.Op.Kind()), ""
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

func describeResource(r *trino.Resource) (summary, table string) {
	switch {
	case r.Column != nil:
		c := r.Column
		t := c.CatalogName + "." + c.SchemaName + "." + c.TableName
		return t + "." + c.ColumnName, t
	case r.Table != nil:
		t := r.Table.CatalogName + "." + r.Table.SchemaName + "." + r.Table.TableName
		if r.Function != nil {
			return t + " procedure " + r.Function.FunctionName, t
		}
		return t, t
	case r.Schema != nil:
		return r.Schema.CatalogName + "." + r.Schema.SchemaName, ""
	case r.Function != nil:
		f := r.Function
		if f.CatalogName == "" {
			return "function " + f.FunctionName, ""
		}
		return "function " + f.CatalogName + "." + f.SchemaName + "." + f.FunctionName, ""
	case r.Catalog != nil:
		return r.Catalog.Name, ""
	case r.User != nil:
		return "user " + r.User.User, ""
	case r.SystemSessionProperty != nil:
		return "session property " + r.SystemSessionProperty.Name, ""
	case r.CatalogSessionProperty != nil:
		p := r.CatalogSessionProperty
		return "session property " + p.CatalogName + "." + p.PropertyName, ""
	}
	return "", ""
}

// facets collects the searchable names of a decision, each once, up to
// limit; capped reports that some were left out.
func facets(req *policy.Request, limit int) (out []string, capped bool) {
	seen := make(map[string]struct{})
	add := func(kind, name string) {
		if name == "" {
			return
		}
		f := kind + ":" + name
		if _, ok := seen[f]; ok {
			return
		}
		if len(out) >= limit {
			capped = true
			return
		}
		seen[f] = struct{}{}
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
	if out == nil {
		out = []string{}
	}
	return out, capped
}
