package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/trino-warden/warden/policy/trino"
)

// Errors Decide returns. The server maps them to HTTP statuses.
var (
	// ErrNotReady means no snapshot is loaded yet.
	ErrNotReady = errors.New("no policy snapshot is loaded")
	// ErrUnknownCluster means the request named a cluster the snapshot does
	// not configure.
	ErrUnknownCluster = errors.New("unknown cluster")
	// ErrStaleRevision is returned by Swap for a snapshot older than the live one.
	ErrStaleRevision = errors.New("snapshot revision is older than the live one")
)

// SourceError is a source's failure while computing an answer that has no
// safe default: row filters and masks. The server answers it with 500.
type SourceError struct {
	Source string
	Err    error
}

func (e *SourceError) Error() string { return fmt.Sprintf("policy source %s: %v", e.Source, e.Err) }
func (e *SourceError) Unwrap() error { return e.Err }

// Decision is the engine's answer to one request.
type Decision struct {
	// Revision is the snapshot revision that decided.
	Revision int64
	// Allowed is the answer of the allow endpoint.
	Allowed bool
	// Indices are the kept items of a batch answer, ascending.
	Indices []int
	// Filters are the row filters, ANDed by Trino.
	Filters []trino.ViewExpression
	// Mask is the columnMask answer, nil for no mask.
	Mask *trino.ViewExpression
	// Masks are the batchColumnMasks answer, one per masked column.
	Masks []trino.IndexedMask
	// Errored reports that a source failed and the answer was closed because
	// of it (allow and batch only; row filters and masks return the error).
	Errored bool
	// Explanation is set when the request asked for one.
	Explanation *Explanation
	// DecidedBy and DecidedRule name, for a single check, the source and
	// rule that decided: the veto of a denial, the first allow of an
	// allow; empty when the baseline denied. They cost nothing to fill, so
	// the audit records a decider for every check without explaining it.
	DecidedBy, DecidedRule string
}

// Engine decides requests against the live snapshot.
type Engine struct {
	logger *slog.Logger
	snap   atomic.Pointer[Snapshot]

	mu         sync.Mutex
	unknownOps map[string]struct{}
	onUnknown  func(op string)
}

// EngineOptions configures an Engine.
type EngineOptions struct {
	Logger *slog.Logger
	// UnknownOperationFunc, when set, is called once per unknown operation
	// name, after the warning is logged (metrics hook).
	UnknownOperationFunc func(op string)
}

// NewEngine returns an engine with no snapshot: it is not ready until Swap.
func NewEngine(opts EngineOptions) *Engine {
	l := opts.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Engine{logger: l, unknownOps: map[string]struct{}{}, onUnknown: opts.UnknownOperationFunc}
}

// Snapshot returns the live snapshot, nil before the first Swap.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// Swap makes s the live snapshot. It refuses a snapshot whose revision is
// lower than the live one, so replicas and reloads never go backwards; an
// equal revision replaces (a rebuild of the same state).
func (e *Engine) Swap(s *Snapshot) error {
	for {
		cur := e.snap.Load()
		if cur != nil && s.Revision < cur.Revision {
			return fmt.Errorf("%w: live %d, offered %d", ErrStaleRevision, cur.Revision, s.Revision)
		}
		if e.snap.CompareAndSwap(cur, s) {
			return nil
		}
	}
}

// Decide answers one request against the live snapshot.
func (e *Engine) Decide(ctx context.Context, req *Request) (*Decision, error) {
	s := e.snap.Load()
	if s == nil {
		return nil, ErrNotReady
	}
	return e.DecideWith(ctx, s, req)
}

// DecideWith answers one request against a given snapshot; explanations of
// past decisions and impact analysis use it with snapshots that are not live.
func (e *Engine) DecideWith(ctx context.Context, s *Snapshot, req *Request) (*Decision, error) {
	ps, ok := s.Cluster(req.Cluster)
	if !ok {
		return nil, fmt.Errorf("%w %q: configure it under clusters", ErrUnknownCluster, req.Cluster)
	}
	if req.Op == trino.OpUnknown {
		e.warnUnknown(req.Action.Operation)
	}
	if s.Directory != nil {
		s.Directory.Enrich(&req.Subject)
	}
	d := &Decision{Revision: s.Revision}
	var x *Explanation
	if req.Explain {
		x = newExplanation(s, req)
		d.Explanation = x
	}
	if why := e.disabled(s, req); why != "" {
		return d, e.decideDisabled(req, d, x, why)
	}
	switch req.Endpoint {
	case trino.EndpointAllow:
		e.decideAllow(ctx, ps, req, d, x)
		return d, nil
	case trino.EndpointBatch:
		e.decideBatch(ctx, ps, req, d, x)
		return d, nil
	case trino.EndpointRowFilters:
		return d, e.decideRowFilters(ctx, ps, req, d, x)
	case trino.EndpointColumnMask, trino.EndpointBatchColumnMasks:
		return d, e.decideMasks(ctx, ps, req, d, x)
	}
	return nil, fmt.Errorf("unknown endpoint %d", req.Endpoint)
}

// disabled returns why the directory denies the whole request: the user
// is disabled, or the user to impersonate is.
func (e *Engine) disabled(s *Snapshot, req *Request) string {
	if req.Subject.Disabled != "" {
		return "user " + req.Subject.User + ": " + req.Subject.Disabled
	}
	if req.Op == trino.OpImpersonateUser && s.Directory != nil && req.Action.Resource != nil && req.Action.Resource.User != nil {
		target := req.Action.Resource.User.User
		if why := s.Directory.Disabled(target); why != "" {
			return "impersonated user " + target + ": " + why
		}
	}
	return ""
}

// decideDisabled answers a request the directory denies: false, no batch
// item, a row filter that keeps no row; a mask request fails, since no
// mask answer is safe for a user who may not query at all.
func (e *Engine) decideDisabled(req *Request, d *Decision, x *Explanation, why string) error {
	reason := Reason{Message: why}
	d.DecidedBy, d.DecidedRule = SourceDirectory, why
	x.addSource(SourceDirectory, Deny, reason, nil)
	switch req.Endpoint {
	case trino.EndpointAllow:
		x.finish(false)
	case trino.EndpointBatch:
		x.finishBatch(req.Items(), nil)
	case trino.EndpointRowFilters:
		d.Filters = []trino.ViewExpression{{Expression: "false"}}
		x.finishFilters(d.Filters)
	default:
		return &SourceError{Source: SourceDirectory, Err: errors.New(why)}
	}
	return nil
}

// SourceDirectory names the directory in explanations and errors.
const SourceDirectory = "directory"

func (e *Engine) warnUnknown(op string) {
	e.mu.Lock()
	_, seen := e.unknownOps[op]
	if !seen && len(e.unknownOps) < 1024 {
		e.unknownOps[op] = struct{}{}
	}
	e.mu.Unlock()
	if !seen {
		e.logger.Warn("unknown operation denied", "operation", op)
		if e.onUnknown != nil {
			e.onUnknown(op)
		}
	}
}

func (e *Engine) decideAllow(ctx context.Context, ps *PolicySet, req *Request, d *Decision, x *Explanation) {
	if req.Op == trino.OpUnknown {
		// An operation Warden does not know is denied, whatever a source
		// might say: its resource shape and meaning are unknown.
		x.finish(false)
		return
	}
	allowed := false
	for _, a := range ps.authorizers {
		v, err := a.Authorize(ctx, req)
		if err != nil {
			e.logger.ErrorContext(ctx, "policy source failed; denying", "source", a.Name(), "error", err)
			d.Errored = true
			x.addSource(a.Name(), Deny, Reason{Message: "source failed: " + err.Error()}, err)
			allowed = false
			break
		}
		x.addSource(a.Name(), v.Effect, v.Reason, nil)
		switch v.Effect {
		case Deny:
			d.Allowed = false
			d.DecidedBy, d.DecidedRule = a.Name(), v.Reason.Rule
			x.finish(false)
			return
		case Allow:
			if !allowed {
				d.DecidedBy, d.DecidedRule = a.Name(), v.Reason.Rule
			}
			allowed = true
		}
	}
	if d.Errored {
		d.Allowed = false
		d.DecidedBy, d.DecidedRule = "", ""
		x.finish(false)
		return
	}
	d.Allowed = allowed
	x.finish(allowed)
}

func (e *Engine) decideBatch(ctx context.Context, ps *PolicySet, req *Request, d *Decision, x *Explanation) {
	n := req.Items()
	d.Indices = []int{}
	if n == 0 || req.Op == trino.OpUnknown {
		x.finish(false)
		return
	}
	bv := BatchVerdict{Allow: make([]bool, n), Deny: make([]bool, n)}
	if x != nil {
		bv.Reasons = make([]Reason, n)
	}
	for _, f := range ps.filterers {
		if x != nil {
			clear(bv.Reasons)
		}
		if err := f.Filter(ctx, req, &bv); err != nil {
			e.logger.ErrorContext(ctx, "policy source failed; keeping no item", "source", f.Name(), "error", err)
			d.Errored = true
			x.addSource(f.Name(), Deny, Reason{Message: "source failed: " + err.Error()}, err)
			x.finish(false)
			return
		}
		x.addBatchSource(f.Name(), &bv)
	}
	for i := 0; i < n; i++ {
		if bv.Allow[i] && !bv.Deny[i] {
			d.Indices = append(d.Indices, i)
		}
	}
	x.finishBatch(n, d.Indices)
}

func (e *Engine) decideRowFilters(ctx context.Context, ps *PolicySet, req *Request, d *Decision, x *Explanation) error {
	d.Filters = []trino.ViewExpression{}
	for _, f := range ps.rowFilterers {
		exprs, reason, err := f.RowFilters(ctx, req)
		if err != nil {
			return &SourceError{Source: f.Name(), Err: err}
		}
		if len(exprs) > 0 {
			d.Filters = append(d.Filters, exprs...)
			x.addSource(f.Name(), Allow, reason, nil)
		}
	}
	x.finishFilters(d.Filters)
	return nil
}

func (e *Engine) decideMasks(ctx context.Context, ps *PolicySet, req *Request, d *Decision, x *Explanation) error {
	var cols []*trino.Column
	if req.Endpoint == trino.EndpointColumnMask {
		cols = []*trino.Column{req.Action.Resource.Column}
	} else {
		cols = make([]*trino.Column, len(req.Action.FilterResources))
		for i := range req.Action.FilterResources {
			cols[i] = req.Action.FilterResources[i].Column
		}
	}
	masks := make([]Mask, len(cols))
	if len(cols) > 0 {
		// Each masker sees only the columns no earlier source masked, so the
		// first source in precedence order wins and a column never gets two.
		pending := append([]*trino.Column(nil), cols...)
		idx := make([]int, len(cols))
		for i := range idx {
			idx[i] = i
		}
		out := make([]Mask, len(cols))
		for _, m := range ps.maskers {
			if len(pending) == 0 {
				break
			}
			clear(out[:len(pending)])
			if err := m.ColumnMasks(ctx, req, pending, out[:len(pending)]); err != nil {
				return &SourceError{Source: m.Name(), Err: err}
			}
			k := 0
			for j := range pending {
				if out[j].Set {
					masks[idx[j]] = out[j]
					x.addMask(m.Name(), idx[j], cols[idx[j]].ColumnName, out[j])
					continue
				}
				pending[k], idx[k] = pending[j], idx[j]
				k++
			}
			pending, idx = pending[:k], idx[:k]
		}
	}
	if req.Endpoint == trino.EndpointColumnMask {
		if masks[0].Set {
			v := masks[0].ViewExpression
			d.Mask = &v
		}
	} else {
		d.Masks = []trino.IndexedMask{}
		for i, m := range masks {
			if m.Set {
				d.Masks = append(d.Masks, trino.IndexedMask{Index: i, ViewExpression: m.ViewExpression})
			}
		}
	}
	x.finishMasks(len(cols))
	return nil
}
