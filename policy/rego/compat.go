package rego

import (
	"context"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// compatSource answers from OPA-compatible modules: package trino, written
// for OPA behind Trino's plugin.
type compatSource struct {
	p     *Policy
	allow *query
	// batch evaluates data.trino.batch, or else Warden's helper that
	// evaluates data.trino.allow per item.
	batch      *query
	rowFilters *query
	columnMask *query
	// batchMasks evaluates data.trino.batchColumnMasks, or else Warden's
	// helper that evaluates data.trino.columnMask per column (viaColumnMask).
	batchMasks    *query
	viaColumnMask bool
}

var (
	_ policy.Authorizer  = (*compatSource)(nil)
	_ policy.Filterer    = (*compatSource)(nil)
	_ policy.RowFilterer = (*compatSource)(nil)
	_ policy.Masker      = (*compatSource)(nil)
)

func newCompat(p *Policy, defined *[numEntries]bool, prep prepareFunc, strict bool) (*compatSource, error) {
	if !slices.Contains(defined[:eWardenDeny], true) {
		return nil, nil
	}
	s := &compatSource{p: p}
	var err error
	mk := func(path string, e entry) *query {
		if err != nil {
			return nil
		}
		q := &query{rule: entries[e].path}
		q.pq, err = prep(path, strict)
		return q
	}
	if defined[eTrinoAllow] {
		s.allow = mk(entries[eTrinoAllow].path, eTrinoAllow)
	}
	switch {
	case defined[eTrinoBatch]:
		s.batch = mk(entries[eTrinoBatch].path, eTrinoBatch)
	case defined[eTrinoAllow]:
		s.batch = mk(helperCompatBatch, eTrinoAllow)
	}
	if defined[eTrinoRowFilters] {
		s.rowFilters = mk(entries[eTrinoRowFilters].path, eTrinoRowFilters)
	}
	if defined[eTrinoColumnMask] {
		s.columnMask = mk(entries[eTrinoColumnMask].path, eTrinoColumnMask)
	}
	switch {
	case defined[eTrinoBatchColumnMasks]:
		s.batchMasks = mk(entries[eTrinoBatchColumnMasks].path, eTrinoBatchColumnMasks)
	case defined[eTrinoColumnMask]:
		s.batchMasks = mk(helperCompatColumnMasks, eTrinoColumnMask)
		s.viaColumnMask = true
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Name returns "rego-compat".
func (s *compatSource) Name() string { return CompatSourceName }

// Authorize evaluates data.trino.allow: true allows, false, null and
// undefined abstain, and anything else is an error. OPA's allow has no veto,
// so this source never denies. An unknown operation is not evaluated.
func (s *compatSource) Authorize(ctx context.Context, req *policy.Request) (policy.Verdict, error) {
	if s.allow == nil || req.Op == trino.OpUnknown {
		return policy.Verdict{}, nil
	}
	in, err := inputValue(req, nil, nil)
	if err != nil {
		return policy.Verdict{}, err
	}
	t, err := s.p.eval(ctx, s.allow, in)
	if err != nil || t == nil {
		return policy.Verdict{}, err
	}
	switch v := t.Value.(type) {
	case ast.Boolean:
		if v {
			return policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: s.allow.rule}}, nil
		}
		return policy.Verdict{}, nil
	case ast.Null:
		return policy.Verdict{}, nil
	}
	return policy.Verdict{}, resultErrorf(s.allow.rule, "is %s; want a boolean", kindName(t.Value))
}

// Filter evaluates data.trino.batch once for the whole request and allows
// each index it holds; without a batch rule it evaluates data.trino.allow
// per item, in the same single evaluation.
func (s *compatSource) Filter(ctx context.Context, req *policy.Request, out *policy.BatchVerdict) error {
	n := req.Items()
	if s.batch == nil || n == 0 || req.Op == trino.OpUnknown {
		return nil
	}
	in, err := inputValue(req, nil, nil)
	if err != nil {
		return err
	}
	t, err := s.p.eval(ctx, s.batch, in)
	if err != nil {
		return err
	}
	rule := s.batch.rule
	return indices(t, n, rule, func(i int) {
		out.Allow[i] = true
		if out.Reasons != nil {
			out.Reasons[i] = policy.Reason{Rule: rule}
		}
	})
}

// RowFilters evaluates data.trino.rowFilters: an array or set of
// {expression, identity?}; null and undefined mean no filter.
func (s *compatSource) RowFilters(ctx context.Context, req *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	if s.rowFilters == nil {
		return nil, policy.Reason{}, nil
	}
	return rowFilters(ctx, s.p, s.rowFilters, req)
}

func rowFilters(ctx context.Context, p *Policy, q *query, req *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	in, err := inputValue(req, nil, nil)
	if err != nil {
		return nil, policy.Reason{}, err
	}
	t, err := p.eval(ctx, q, in)
	if err != nil {
		return nil, policy.Reason{}, err
	}
	ves, err := viewExpressions(t, q.rule)
	if err != nil || len(ves) == 0 {
		return nil, policy.Reason{}, err
	}
	return ves, policy.Reason{Rule: q.rule}, nil
}

// ColumnMasks evaluates data.trino.batchColumnMasks once with
// input.action.filterResources holding cols as {column: …}, or without it
// data.trino.columnMask per column (in one evaluation for several columns).
func (s *compatSource) ColumnMasks(ctx context.Context, req *policy.Request, cols []*trino.Column, out []policy.Mask) error {
	if s.batchMasks == nil || len(cols) == 0 {
		return nil
	}
	if s.viaColumnMask && len(cols) == 1 {
		return s.columnMaskOne(ctx, req, cols, out)
	}
	in, err := inputValue(req, maskAction(cols, false), nil)
	if err != nil {
		return err
	}
	t, err := s.p.eval(ctx, s.batchMasks, in)
	if err != nil {
		return err
	}
	rule := s.batchMasks.rule
	if s.viaColumnMask {
		// The helper gives [[index, mask], …] for each defined mask.
		return elems(t, rule, func(e *ast.Term) error {
			pair := e.Value.(*ast.Array)
			m := pair.Elem(1)
			if _, ok := m.Value.(ast.Null); ok {
				return nil
			}
			i, err := index(pair.Elem(0), len(cols), rule)
			if err != nil {
				return err
			}
			ve, err := viewExpression(m, rule)
			if err != nil {
				return err
			}
			out[i] = policy.Mask{Set: true, ViewExpression: ve, Reason: policy.Reason{Rule: rule}}
			return nil
		})
	}
	seen := make([]bool, len(cols))
	return elems(t, rule, func(e *ast.Term) error {
		obj, ok := e.Value.(ast.Object)
		if !ok {
			return resultErrorf(rule, "holds %v, which is %s; want {index, viewExpression}", e, kindName(e.Value))
		}
		it, vt := obj.Get(kIndex), obj.Get(kViewExpression)
		if it == nil || vt == nil {
			return resultErrorf(rule, "holds %v; want {index, viewExpression}", e)
		}
		i, err := index(it, len(cols), rule)
		if err != nil {
			return err
		}
		if seen[i] {
			return resultErrorf(rule, "holds index %d more than once", i)
		}
		seen[i] = true
		ve, err := viewExpression(vt, rule)
		if err != nil {
			return err
		}
		out[i] = policy.Mask{Set: true, ViewExpression: ve, Reason: policy.Reason{Rule: rule}}
		return nil
	})
}

// columnMaskOne evaluates data.trino.columnMask for one column, with the
// input the plugin sends to the columnMask endpoint.
func (s *compatSource) columnMaskOne(ctx context.Context, req *policy.Request, cols []*trino.Column, out []policy.Mask) error {
	in, err := inputValue(req, maskAction(cols, true), nil)
	if err != nil {
		return err
	}
	t, err := s.p.eval(ctx, s.columnMask, in)
	if err != nil || t == nil {
		return err
	}
	if _, ok := t.Value.(ast.Null); ok {
		return nil
	}
	ve, err := viewExpression(t, s.columnMask.rule)
	if err != nil {
		return err
	}
	out[0] = policy.Mask{Set: true, ViewExpression: ve, Reason: policy.Reason{Rule: s.columnMask.rule}}
	return nil
}
