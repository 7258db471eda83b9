// Package simulate replays recorded decisions against a candidate policy
// snapshot and reports which would flip. It never touches the live
// snapshot: the caller builds the candidate from a scratch copy of the
// state, and both snapshots are only read.
//
// Every recorded decision is decided twice, now: against the live snapshot
// and against the candidate. A flip is a difference between those two
// answers, so a policy change made since the decision was recorded is not
// mistaken for the candidate's effect. The directory (groups, attributes,
// deactivations) is the live one, as of now, for both: the simulation asks
// "what would this change do to this traffic today". Decisions whose live
// answer differs from the recorded one are counted as drifted.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// Recorded is one recorded decision: what the audit log keeps.
type Recorded struct {
	DecisionID string
	Time       time.Time
	Cluster    string
	Endpoint   trino.Endpoint
	// Input is the request body as Trino sent it ({"input":…}).
	Input []byte
	// Allowed is the recorded answer of an allow decision; Kept the
	// recorded kept indices of a batch. They only feed the drift count.
	Allowed bool
	Kept    []int
}

// Options bound a simulation.
type Options struct {
	// MaxExamples bounds the flip examples reported (default 20).
	MaxExamples int
	// MaxGroups bounds each count table (by user, operation, object);
	// the rest are summed under "(other)" (default 100).
	MaxGroups int
}

// Flip is one decision (or batch item) whose answer the candidate changes.
type Flip struct {
	DecisionID string    `json:"decision_id"`
	Time       time.Time `json:"time"`
	Cluster    string    `json:"cluster"`
	User       string    `json:"user"`
	Operation  string    `json:"operation"`
	Object     string    `json:"object"`
	// Live and Candidate are the two answers: "allow"/"deny" for a check or
	// batch item, the expressions for row filters and masks.
	Live      string `json:"live"`
	Candidate string `json:"candidate"`
}

// Count is one row of a count table.
type Count struct {
	Key string `json:"key"`
	// Gained counts answers the candidate allows (or that lose a filter or
	// mask), Lost those it denies (or that gain one), Changed other
	// differences (a filter or mask replaced by another).
	Gained  int `json:"gained"`
	Lost    int `json:"lost"`
	Changed int `json:"changed"`
}

// Report is the outcome of a simulation.
type Report struct {
	// Replayed is how many recorded decisions were decided again.
	Replayed int `json:"replayed"`
	// Undecodable counts records whose input no longer decodes.
	Undecodable int `json:"undecodable"`
	// Drifted counts decisions whose live answer today differs from the
	// recorded one (the policy changed since).
	Drifted int `json:"drifted"`
	// Flipped counts decisions with at least one flipped answer, FlippedItems
	// the flipped answers (a batch can flip several items).
	Flipped      int     `json:"flipped"`
	FlippedItems int     `json:"flipped_items"`
	ByUser       []Count `json:"by_user"`
	ByOperation  []Count `json:"by_operation"`
	ByObject     []Count `json:"by_object"`
	Examples     []Flip  `json:"examples"`
}

// Run replays records against live and candidate with engine and reports
// the flips. An error of either snapshot's sources fails the simulation:
// a decision that cannot be decided says nothing about the change.
func Run(ctx context.Context, engine *policy.Engine, live, candidate *policy.Snapshot, records iter.Seq2[Recorded, error], opts Options) (*Report, error) {
	if opts.MaxExamples <= 0 {
		opts.MaxExamples = 20
	}
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = 100
	}
	r := &Report{Examples: []Flip{}}
	byUser, byOp, byObj := map[string]*Count{}, map[string]*Count{}, map[string]*Count{}
	for rec, err := range records {
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tr, err := trino.Decode(rec.Input)
		if err == nil {
			err = tr.Validate(rec.Endpoint)
		}
		if err != nil {
			r.Undecodable++
			continue
		}
		r.Replayed++
		a, err := decide(ctx, engine, live, rec, tr)
		if err != nil {
			return nil, fmt.Errorf("decision %s against the live policy: %w", rec.DecisionID, err)
		}
		b, err := decide(ctx, engine, candidate, rec, tr)
		if err != nil {
			return nil, fmt.Errorf("decision %s against the candidate: %w", rec.DecisionID, err)
		}
		if drifted(rec, a) {
			r.Drifted++
		}
		flips := compare(rec, tr, a, b)
		if len(flips) == 0 {
			continue
		}
		r.Flipped++
		r.FlippedItems += len(flips)
		for _, f := range flips {
			count(byUser, f.User, f)
			count(byOp, f.Operation, f)
			count(byObj, f.Object, f)
			if len(r.Examples) < opts.MaxExamples {
				r.Examples = append(r.Examples, f)
			}
		}
	}
	r.ByUser, r.ByOperation, r.ByObject = top(byUser, opts.MaxGroups), top(byOp, opts.MaxGroups), top(byObj, opts.MaxGroups)
	return r, nil
}

func decide(ctx context.Context, engine *policy.Engine, snap *policy.Snapshot, rec Recorded, tr *trino.Request) (*policy.Decision, error) {
	cluster := rec.Cluster
	if cluster == "" {
		cluster = policy.DefaultCluster
	}
	req := &policy.Request{Request: tr, Endpoint: rec.Endpoint, Cluster: cluster,
		Subject: policy.Subject{User: tr.Context.Identity.User, Groups: tr.Context.Identity.Groups}}
	d, err := engine.DecideWith(ctx, snap, req)
	if err != nil {
		return nil, err
	}
	if d.Errored {
		return nil, errors.New("a policy source failed")
	}
	return d, nil
}

func drifted(rec Recorded, live *policy.Decision) bool {
	switch rec.Endpoint {
	case trino.EndpointAllow:
		return rec.Allowed != live.Allowed
	case trino.EndpointBatch:
		return rec.Kept != nil && !slices.Equal(rec.Kept, live.Indices)
	}
	return false
}

func verdict(b bool) string {
	if b {
		return "allow"
	}
	return "deny"
}

// compare lists the flips between the live answer a and the candidate's b.
func compare(rec Recorded, tr *trino.Request, a, b *policy.Decision) []Flip {
	base := Flip{DecisionID: rec.DecisionID, Time: rec.Time, Cluster: rec.Cluster,
		User: tr.Context.Identity.User, Operation: tr.Action.Operation}
	var out []Flip
	switch rec.Endpoint {
	case trino.EndpointAllow:
		if a.Allowed != b.Allowed {
			f := base
			f.Object = ObjectOf(tr.Action.Resource)
			f.Live, f.Candidate = verdict(a.Allowed), verdict(b.Allowed)
			out = append(out, f)
		}
	case trino.EndpointBatch:
		ka, kb := keptSet(a.Indices), keptSet(b.Indices)
		n := batchLen(tr)
		for i := 0; i < n; i++ {
			if ka[i] != kb[i] {
				f := base
				f.Object = itemObject(tr, i)
				f.Live, f.Candidate = verdict(ka[i]), verdict(kb[i])
				out = append(out, f)
			}
		}
	case trino.EndpointRowFilters:
		fa, fb := filters(a.Filters), filters(b.Filters)
		if fa != fb {
			f := base
			f.Object = ObjectOf(tr.Action.Resource)
			f.Live, f.Candidate = fa, fb
			out = append(out, f)
		}
	case trino.EndpointColumnMask, trino.EndpointBatchColumnMasks:
		ma, mb := masks(a), masks(b)
		n := batchLen(tr)
		if rec.Endpoint == trino.EndpointColumnMask {
			n = 1
		}
		for i := 0; i < n; i++ {
			if ma[i] != mb[i] {
				f := base
				if rec.Endpoint == trino.EndpointColumnMask {
					f.Object = ObjectOf(tr.Action.Resource)
				} else {
					f.Object = itemObject(tr, i)
				}
				f.Live, f.Candidate = ma[i], mb[i]
				out = append(out, f)
			}
		}
	}
	return out
}

func keptSet(idx []int) map[int]bool {
	m := make(map[int]bool, len(idx))
	for _, i := range idx {
		m[i] = true
	}
	return m
}

func batchLen(tr *trino.Request) int {
	if tr.Op == trino.OpFilterColumns && len(tr.Action.FilterResources) == 1 && tr.Action.FilterResources[0].Table != nil {
		return len(tr.Action.FilterResources[0].Table.Columns)
	}
	return len(tr.Action.FilterResources)
}

func itemObject(tr *trino.Request, i int) string {
	fr := tr.Action.FilterResources
	if tr.Op == trino.OpFilterColumns && len(fr) == 1 && fr[0].Table != nil {
		t := fr[0].Table
		return t.CatalogName + "." + t.SchemaName + "." + t.TableName + "." + t.Columns[i]
	}
	if i < len(fr) {
		return ObjectOf(&fr[i])
	}
	return ""
}

func filters(f []trino.ViewExpression) string {
	if len(f) == 0 {
		return "(no filter)"
	}
	parts := make([]string, len(f))
	for i, e := range f {
		parts[i] = e.Expression
	}
	sort.Strings(parts)
	return strings.Join(parts, " AND ")
}

// masks returns each masked index's expression, "" for none.
func masks(d *policy.Decision) map[int]string {
	m := map[int]string{}
	if d.Mask != nil {
		m[0] = d.Mask.Expression
	}
	for _, im := range d.Masks {
		m[im.Index] = im.ViewExpression.Expression
	}
	return m
}

func count(m map[string]*Count, key string, f Flip) {
	c, ok := m[key]
	if !ok {
		c = &Count{Key: key}
		m[key] = c
	}
	switch {
	case f.Candidate == "allow" || f.Candidate == "" || f.Candidate == "(no filter)":
		c.Gained++
	case f.Live == "allow" || f.Live == "" || f.Live == "(no filter)":
		c.Lost++
	default:
		c.Changed++
	}
}

// top returns the counts, largest first, at most n, the rest summed into
// "(other)".
func top(m map[string]*Count, n int) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].Gained+out[i].Lost+out[i].Changed, out[j].Gained+out[j].Lost+out[j].Changed
		if ti != tj {
			return ti > tj
		}
		return out[i].Key < out[j].Key
	})
	if len(out) <= n {
		return out
	}
	other := Count{Key: "(other)"}
	for _, c := range out[n:] {
		other.Gained += c.Gained
		other.Lost += c.Lost
		other.Changed += c.Changed
	}
	return append(out[:n], other)
}

// ObjectOf names a resource for reports: catalog.schema.table[.column],
// a function, a session property or a user.
func ObjectOf(r *trino.Resource) string {
	switch {
	case r == nil:
		return ""
	case r.Column != nil:
		c := r.Column
		return c.CatalogName + "." + c.SchemaName + "." + c.TableName + "." + c.ColumnName
	case r.Table != nil:
		t := r.Table
		return t.CatalogName + "." + t.SchemaName + "." + t.TableName
	case r.Schema != nil:
		return r.Schema.CatalogName + "." + r.Schema.SchemaName
	case r.Catalog != nil:
		return r.Catalog.Name
	case r.Function != nil:
		f := r.Function
		if f.CatalogName == "" {
			return "function " + f.FunctionName
		}
		return "function " + f.CatalogName + "." + f.SchemaName + "." + f.FunctionName
	case r.User != nil:
		return "user " + r.User.User
	case r.SystemSessionProperty != nil:
		return "session property " + r.SystemSessionProperty.Name
	case r.CatalogSessionProperty != nil:
		return "session property " + r.CatalogSessionProperty.CatalogName + "." + r.CatalogSessionProperty.PropertyName
	}
	return ""
}
