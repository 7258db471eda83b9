package policy

import (
	"fmt"

	"github.com/trino-warden/warden/policy/trino"
)

// Explanation says why a decision came out as it did: what each source
// answered and, for a batch, why each item was kept or dropped. It is built
// only when a request asks for it (Request.Explain); every method is safe on
// a nil *Explanation, which is how the hot path skips the work.
type Explanation struct {
	Revision  int64  `json:"revision"`
	Origin    string `json:"origin"`
	Cluster   string `json:"cluster"`
	Endpoint  string `json:"endpoint"`
	Operation string `json:"operation"`
	User      string `json:"user"`
	// Groups are the groups sources matched against, after enrichment.
	Groups []string `json:"groups"`
	// Outcome summarises the answer: "allow", "deny", "3 of 5 kept",
	// "2 filters", "1 mask".
	Outcome string `json:"outcome"`
	// Decider names the source and rule that decided a single check.
	Decider string `json:"decider,omitempty"`
	// Sources lists each source's answer, in the order they were asked.
	Sources []SourceExplanation `json:"sources"`
	// Items explains each item of a batch.
	Items []ItemExplanation `json:"items,omitempty"`
}

// SourceExplanation is one source's part in a decision.
type SourceExplanation struct {
	Source string `json:"source"`
	Effect string `json:"effect"`
	Rule   string `json:"rule,omitempty"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
	// Column is set for a mask.
	Column string `json:"column,omitempty"`
	Index  *int   `json:"index,omitempty"`
}

// ItemExplanation explains one item of a filter batch.
type ItemExplanation struct {
	Index   int                 `json:"index"`
	Kept    bool                `json:"kept"`
	Reasons []SourceExplanation `json:"reasons,omitempty"`
}

func newExplanation(s *Snapshot, req *Request) *Explanation {
	return &Explanation{
		Revision:  s.Revision,
		Origin:    s.Origin,
		Cluster:   req.Cluster,
		Endpoint:  req.Endpoint.String(),
		Operation: req.Action.Operation,
		User:      req.Subject.User,
		Groups:    req.Subject.Groups,
		Sources:   []SourceExplanation{},
	}
}

func (x *Explanation) addSource(name string, eff Effect, r Reason, err error) {
	if x == nil {
		return
	}
	se := SourceExplanation{Source: name, Effect: eff.String(), Rule: r.Rule, Detail: r.Message}
	if err != nil {
		se.Error = err.Error()
	}
	x.Sources = append(x.Sources, se)
	if eff == Deny && x.Decider == "" {
		x.Decider = describe(name, r)
	}
	if eff == Allow && x.Decider == "" {
		x.Decider = describe(name, r)
	}
}

func describe(name string, r Reason) string {
	if r.Rule == "" {
		return name
	}
	return name + ": " + r.Rule
}

func (x *Explanation) finish(allowed bool) {
	if x == nil {
		return
	}
	if allowed {
		x.Outcome = "allow"
		return
	}
	x.Outcome = "deny"
	// A denial is decided by a veto if there is one; otherwise by the
	// baseline: no source allowed.
	x.Decider = ""
	for _, s := range x.Sources {
		if s.Effect == "deny" {
			x.Decider = describe(s.Source, Reason{Rule: s.Rule})
			return
		}
	}
	if x.Operation != "" && trino.ParseOperation(x.Operation) == trino.OpUnknown {
		x.Decider = "baseline: unknown operation " + x.Operation
		return
	}
	x.Decider = "baseline: no source allowed"
}

func (x *Explanation) addBatchSource(name string, bv *BatchVerdict) {
	if x == nil {
		return
	}
	if x.Items == nil {
		x.Items = make([]ItemExplanation, len(bv.Allow))
		for i := range x.Items {
			x.Items[i].Index = i
		}
	}
	allowed, denied := 0, 0
	for i := range x.Items {
		r := bv.Reasons[i]
		if r.Rule == "" && r.Message == "" {
			continue
		}
		eff := Allow
		if bv.Deny[i] {
			eff = Deny
		}
		x.Items[i].Reasons = append(x.Items[i].Reasons, SourceExplanation{Source: name, Effect: eff.String(), Rule: r.Rule, Detail: r.Message})
	}
	for i := range bv.Allow {
		if bv.Allow[i] {
			allowed++
		}
		if bv.Deny[i] {
			denied++
		}
	}
	x.Sources = append(x.Sources, SourceExplanation{Source: name, Effect: "batch",
		Detail: fmt.Sprintf("after this source: %d allowed, %d denied", allowed, denied)})
}

func (x *Explanation) finishBatch(n int, kept []int) {
	if x == nil {
		return
	}
	for _, i := range kept {
		if i < len(x.Items) {
			x.Items[i].Kept = true
		}
	}
	x.Outcome = fmt.Sprintf("%d of %d kept", len(kept), n)
}

func (x *Explanation) finishFilters(f []trino.ViewExpression) {
	if x == nil {
		return
	}
	x.Outcome = fmt.Sprintf("%d row filters", len(f))
}

func (x *Explanation) addMask(source string, index int, column string, m Mask) {
	if x == nil {
		return
	}
	i := index
	x.Sources = append(x.Sources, SourceExplanation{Source: source, Effect: "mask", Rule: m.Reason.Rule,
		Detail: m.Expression, Column: column, Index: &i})
}

func (x *Explanation) finishMasks(n int) {
	if x == nil {
		return
	}
	masked := 0
	for _, s := range x.Sources {
		if s.Effect == "mask" {
			masked++
		}
	}
	x.Outcome = fmt.Sprintf("%d of %d columns masked", masked, n)
}
