package rego

import (
	"context"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// Keys of the helper rules' objects.
var (
	kAllow     = ast.StringTerm("allow")
	kDeny      = ast.StringTerm("deny")
	kDenyItems = ast.StringTerm("deny_items")
)

// extSource answers from extension modules: package warden.
type extSource struct {
	p *Policy
	// authz evaluates {deny?, allow?} in one evaluation.
	authz *query
	// batch evaluates {allow?, deny?, deny_items?}: batch_allow or allow per
	// item, batch_deny or deny per item.
	batch       *query
	batchAllow  string // Reason.Rule of batch allows
	batchDeny   string // Reason.Rule of batch denials
	rowFilters  *query
	columnMasks *query
}

var (
	_ policy.Authorizer  = (*extSource)(nil)
	_ policy.Filterer    = (*extSource)(nil)
	_ policy.RowFilterer = (*extSource)(nil)
	_ policy.Masker      = (*extSource)(nil)
)

var (
	ruleWardenDeny  = entries[eWardenDeny].path
	ruleWardenAllow = entries[eWardenAllow].path
)

func newExt(p *Policy, defined *[numEntries]bool, prep prepareFunc) (*extSource, error) {
	if !slices.Contains(defined[eWardenDeny:], true) {
		return nil, nil
	}
	s := &extSource{p: p}
	var err error
	mk := func(path, rule string) *query {
		if err != nil {
			return nil
		}
		q := &query{rule: rule}
		q.pq, err = prep(path, true)
		return q
	}
	if defined[eWardenDeny] || defined[eWardenAllow] {
		s.authz = mk(helperExtAuthz, "data.warden.deny and data.warden.allow")
	}
	switch {
	case defined[eWardenBatchAllow]:
		s.batchAllow = entries[eWardenBatchAllow].path
	case defined[eWardenAllow]:
		s.batchAllow = ruleWardenAllow
	}
	switch {
	case defined[eWardenBatchDeny]:
		s.batchDeny = entries[eWardenBatchDeny].path
	case defined[eWardenDeny]:
		s.batchDeny = ruleWardenDeny
	}
	switch {
	case s.batchAllow != "" && s.batchDeny != "":
		s.batch = mk(helperExtBatch, s.batchAllow+" and "+s.batchDeny)
	case s.batchAllow != "" || s.batchDeny != "":
		s.batch = mk(helperExtBatch, s.batchAllow+s.batchDeny)
	}
	if defined[eWardenRowFilters] {
		s.rowFilters = mk(entries[eWardenRowFilters].path, entries[eWardenRowFilters].path)
	}
	if defined[eWardenColumnMasks] {
		s.columnMasks = mk(entries[eWardenColumnMasks].path, entries[eWardenColumnMasks].path)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Name returns "rego".
func (s *extSource) Name() string { return ExtensionSourceName }

// Authorize evaluates data.warden.deny and data.warden.allow together. A
// deny that is true or a non-empty set of reasons vetoes; otherwise an allow
// that is true allows. An unknown operation is not evaluated.
func (s *extSource) Authorize(ctx context.Context, req *policy.Request) (policy.Verdict, error) {
	if s.authz == nil || req.Op == trino.OpUnknown {
		return policy.Verdict{}, nil
	}
	in, err := inputValue(req, nil, nil)
	if err != nil {
		return policy.Verdict{}, err
	}
	t, err := s.p.eval(ctx, s.authz, in)
	if err != nil || t == nil {
		return policy.Verdict{}, err
	}
	obj, _ := t.Value.(ast.Object)
	if obj == nil {
		return policy.Verdict{}, nil
	}
	if d := obj.Get(kDeny); d != nil {
		vetoed, msg, err := veto(d, ruleWardenDeny, req.Explain)
		if err != nil {
			return policy.Verdict{}, err
		}
		if vetoed {
			return policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: ruleWardenDeny, Message: msg}}, nil
		}
	}
	if a := obj.Get(kAllow); a != nil {
		switch v := a.Value.(type) {
		case ast.Boolean:
			if v {
				return policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: ruleWardenAllow}}, nil
			}
		case ast.Null:
		default:
			return policy.Verdict{}, resultErrorf(ruleWardenAllow, "is %s; want a boolean", kindName(a.Value))
		}
	}
	return policy.Verdict{}, nil
}

// Filter evaluates data.warden.batch_allow and data.warden.batch_deny once
// for the request; where one is not defined, data.warden.allow or
// data.warden.deny is evaluated per item instead, in the same evaluation.
func (s *extSource) Filter(ctx context.Context, req *policy.Request, out *policy.BatchVerdict) error {
	n := req.Items()
	if s.batch == nil || n == 0 || req.Op == trino.OpUnknown {
		return nil
	}
	in, err := inputValue(req, nil, nil)
	if err != nil {
		return err
	}
	t, err := s.p.eval(ctx, s.batch, in)
	if err != nil || t == nil {
		return err
	}
	obj, _ := t.Value.(ast.Object)
	if obj == nil {
		return nil
	}
	if a := obj.Get(kAllow); a != nil {
		err := indices(a, n, s.batchAllow, func(i int) {
			out.Allow[i] = true
			if out.Reasons != nil {
				out.Reasons[i] = policy.Reason{Rule: s.batchAllow}
			}
		})
		if err != nil {
			return err
		}
	}
	if d := obj.Get(kDeny); d != nil {
		err := indices(d, n, s.batchDeny, func(i int) {
			out.Deny[i] = true
			if out.Reasons != nil {
				out.Reasons[i] = policy.Reason{Rule: s.batchDeny}
			}
		})
		if err != nil {
			return err
		}
	}
	if d := obj.Get(kDenyItems); d != nil {
		// [[index, deny], …] for the items whose deny is not false or empty.
		return elems(d, ruleWardenDeny, func(e *ast.Term) error {
			pair := e.Value.(*ast.Array)
			i, err := index(pair.Elem(0), n, ruleWardenDeny)
			if err != nil {
				return err
			}
			vetoed, msg, err := veto(pair.Elem(1), ruleWardenDeny, out.Reasons != nil)
			if err != nil || !vetoed {
				return err
			}
			out.Deny[i] = true
			if out.Reasons != nil {
				out.Reasons[i] = policy.Reason{Rule: ruleWardenDeny, Message: msg}
			}
			return nil
		})
	}
	return nil
}

// RowFilters evaluates data.warden.row_filters: an array or set of
// {expression, identity?}.
func (s *extSource) RowFilters(ctx context.Context, req *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	if s.rowFilters == nil {
		return nil, policy.Reason{}, nil
	}
	return rowFilters(ctx, s.p, s.rowFilters, req)
}

// ColumnMasks evaluates data.warden.column_masks once, with
// input.warden.columns listing cols: an object from column name to
// {expression, identity?}. Entries for columns not asked for are ignored,
// but must still be well formed.
func (s *extSource) ColumnMasks(ctx context.Context, req *policy.Request, cols []*trino.Column, out []policy.Mask) error {
	if s.columnMasks == nil || len(cols) == 0 {
		return nil
	}
	in, err := inputValue(req, nil, wardenColumns(req, cols))
	if err != nil {
		return err
	}
	q := s.columnMasks
	t, err := s.p.eval(ctx, q, in)
	if err != nil || t == nil {
		return err
	}
	if _, ok := t.Value.(ast.Null); ok {
		return nil
	}
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return resultErrorf(q.rule, "is %s; want an object from column name to {expression, identity?}", kindName(t.Value))
	}
	masks := make(map[string]trino.ViewExpression, obj.Len())
	err = obj.Iter(func(k, v *ast.Term) error {
		name, ok := k.Value.(ast.String)
		if !ok {
			return resultErrorf(q.rule, "has key %v; want column names", k)
		}
		ve, err := viewExpression(v, q.rule)
		if err != nil {
			return err
		}
		masks[string(name)] = ve
		return nil
	})
	if err != nil {
		return err
	}
	for i, col := range cols {
		if ve, ok := masks[col.ColumnName]; ok {
			out[i] = policy.Mask{Set: true, ViewExpression: ve, Reason: policy.Reason{Rule: q.rule}}
		}
	}
	return nil
}
