package audit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
)

// outcome is a decision's result class, the values of Rule.Outcomes.
type outcome uint8

const (
	outcomeAllow outcome = iota
	outcomeDeny
	outcomePartial
	outcomeFilter
	outcomeMask
	outcomeNone
	outcomeError
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"allow", "deny", "partial", "filter", "mask", "none", "error"}

func (o outcome) String() string { return outcomeNames[o] }

// outcomeOf classifies an entry's decision without allocating.
func outcomeOf(e *Entry) outcome {
	d := e.Decision
	if e.Err != nil || d == nil || d.Errored {
		return outcomeError
	}
	switch e.Request.Endpoint {
	case trino.EndpointAllow:
		if d.Allowed {
			return outcomeAllow
		}
		return outcomeDeny
	case trino.EndpointBatch:
		n, kept := e.Request.Items(), len(d.Indices)
		switch {
		case kept >= n:
			return outcomeAllow
		case kept == 0:
			return outcomeDeny
		}
		return outcomePartial
	case trino.EndpointRowFilters:
		if len(d.Filters) > 0 {
			return outcomeFilter
		}
	case trino.EndpointColumnMask:
		if d.Mask != nil {
			return outcomeMask
		}
	case trino.EndpointBatchColumnMasks:
		if len(d.Masks) > 0 {
			return outcomeMask
		}
	}
	return outcomeNone
}

// verdict is what the rules say about one decision.
type verdict uint8

const (
	keep       verdict = iota // record it
	skipped                   // a rule with rate 0 matched
	sampledOut                // a sampling rule matched and the dice said no
)

// rule is a compiled Rule: bit sets and maps, so that matching allocates
// nothing.
type rule struct {
	endpoints uint32    // bit per trino.Endpoint; 0 matches all
	ops       [4]uint64 // bit per trino.Operation
	anyOp     bool
	outcomes  uint32 // bit per outcome; 0 matches all
	users     map[string]struct{}
	groups    map[string]struct{}
	rate      float64
}

func compileRule(r Rule) (rule, error) {
	c := rule{anyOp: len(r.Operations) == 0, rate: r.SampleRate}
	if math.IsNaN(r.SampleRate) || r.SampleRate < 0 || r.SampleRate > 1 {
		return c, fmt.Errorf("sample_rate %v must be between 0 and 1", r.SampleRate)
	}
	for _, name := range r.Endpoints {
		ep, ok := trino.ParseEndpoint(name)
		if !ok {
			return c, fmt.Errorf("unknown endpoint %q: use allow, batch, rowFilters, columnMask or batchColumnMasks", name)
		}
		c.endpoints |= 1 << ep
	}
	for _, name := range r.Operations {
		op := trino.ParseOperation(name)
		if op == trino.OpUnknown {
			return c, fmt.Errorf("unknown operation %q", name)
		}
		c.ops[op/64] |= 1 << (op % 64)
	}
	for _, name := range r.Outcomes {
		found := false
		for i, n := range outcomeNames {
			if n == name {
				c.outcomes |= 1 << i
				found = true
			}
		}
		if !found {
			return c, fmt.Errorf("unknown outcome %q: use allow, deny, partial, filter, mask, none or error", name)
		}
	}
	if len(r.Users) > 0 {
		c.users = make(map[string]struct{}, len(r.Users))
		for _, u := range r.Users {
			c.users[u] = struct{}{}
		}
	}
	if len(r.Groups) > 0 {
		c.groups = make(map[string]struct{}, len(r.Groups))
		for _, g := range r.Groups {
			c.groups[g] = struct{}{}
		}
	}
	return c, nil
}

func (c *rule) matches(req *policy.Request, o outcome) bool {
	if c.endpoints != 0 && c.endpoints&(1<<req.Endpoint) == 0 {
		return false
	}
	if !c.anyOp && c.ops[req.Op/64]&(1<<(req.Op%64)) == 0 {
		return false
	}
	if c.outcomes != 0 && c.outcomes&(1<<o) == 0 {
		return false
	}
	if c.users != nil {
		if _, ok := c.users[req.Subject.User]; !ok {
			return false
		}
	}
	if c.groups != nil {
		in := false
		for _, g := range req.Subject.Groups {
			if _, ok := c.groups[g]; ok {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// rules are the compiled Options.Rules, in order.
type rules []rule

func compileRules(rs []Rule) (rules, error) {
	out := make(rules, 0, len(rs))
	for i, r := range rs {
		c, err := compileRule(r)
		if err != nil {
			return nil, fmt.Errorf("audit rule %d: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// decide applies the first matching rule.
func (rs rules) decide(req *policy.Request, o outcome) verdict {
	for i := range rs {
		r := &rs[i]
		if !r.matches(req, o) {
			continue
		}
		switch {
		case r.rate >= 1:
			return keep
		case r.rate <= 0:
			return skipped
		case rand.Float64() < r.rate:
			return keep
		}
		return sampledOut
	}
	return keep
}

// The reasons of the per-hour counters, as the store names them.
const (
	reasonSkipped    = 0
	reasonSampledOut = 1
	reasonDropped    = 2
	numReasons       = 3
)

var reasonNames = [numReasons]string{"skipped", "sampled_out", "dropped"}

// counters count, per operation and reason, the decisions not recorded
// since the last flush. Each is one atomic add on the hot path.
type counters struct {
	n [256][numReasons]atomic.Int64
}

func (c *counters) add(op trino.Operation, reason int) { c.n[op][reason].Add(1) }

// take empties the counters into rows for the store.
func (c *counters) take() []store.AuditSamplingCount {
	var out []store.AuditSamplingCount
	for op := range c.n {
		for reason := range numReasons {
			if v := c.n[op][reason].Swap(0); v != 0 {
				out = append(out, store.AuditSamplingCount{Operation: trino.Operation(op).String(), Reason: reasonNames[reason], Count: v})
			}
		}
	}
	return out
}

// giveBack restores counts that could not be stored.
func (c *counters) giveBack(rows []store.AuditSamplingCount) {
	for _, r := range rows {
		op := trino.ParseOperation(r.Operation)
		for reason, name := range reasonNames {
			if name == r.Reason {
				c.n[op][reason].Add(r.Count)
			}
		}
	}
}
