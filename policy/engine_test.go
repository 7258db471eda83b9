package policy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// fake is a source with fixed answers, for testing the combination model.
type fake struct {
	name    string
	single  policy.Effect
	items   map[int]policy.Effect // batch answers by index
	filters []trino.ViewExpression
	masks   map[string]string // column → expression
	err     error
}

func (f *fake) Name() string { return f.name }

func (f *fake) Authorize(context.Context, *policy.Request) (policy.Verdict, error) {
	if f.err != nil {
		return policy.Verdict{}, f.err
	}
	return policy.Verdict{Effect: f.single, Reason: policy.Reason{Rule: f.name + "-rule"}}, nil
}

func (f *fake) Filter(_ context.Context, _ *policy.Request, out *policy.BatchVerdict) error {
	if f.err != nil {
		return f.err
	}
	for i, e := range f.items {
		switch e {
		case policy.Allow:
			out.Allow[i] = true
		case policy.Deny:
			out.Deny[i] = true
		}
	}
	return nil
}

func (f *fake) RowFilters(context.Context, *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	return f.filters, policy.Reason{Rule: f.name}, f.err
}

func (f *fake) ColumnMasks(_ context.Context, _ *policy.Request, cols []*trino.Column, out []policy.Mask) error {
	if f.err != nil {
		return f.err
	}
	for i, c := range cols {
		if m, ok := f.masks[c.ColumnName]; ok {
			out[i] = policy.Mask{Set: true, ViewExpression: trino.ViewExpression{Expression: m}}
		}
	}
	return nil
}

func engineWith(t *testing.T, sources ...policy.Source) *policy.Engine {
	t.Helper()
	snap, err := policy.NewSnapshot(1, "test", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(sources...)})
	require.NoError(t, err)
	e := policy.NewEngine(policy.EngineOptions{})
	require.NoError(t, e.Swap(snap))
	return e
}

func request(ep trino.Endpoint, op trino.Operation, a trino.Action) *policy.Request {
	a.Operation = op.String()
	return &policy.Request{Request: &trino.Request{Input: trino.Input{Action: a}, Op: op}, Endpoint: ep,
		Cluster: policy.DefaultCluster, Subject: policy.Subject{User: "u"}}
}

var errDown = errors.New("down")

func TestCombineSingle(t *testing.T) {
	t.Parallel()
	A, D, N := policy.Allow, policy.Deny, policy.Abstain
	tests := []struct {
		name    string
		effects []policy.Effect
		err     bool
		want    bool
		decider string
	}{
		{"no source: baseline deny", nil, false, false, "baseline: no source allowed"},
		{"all abstain: baseline deny", []policy.Effect{N, N}, false, false, "baseline: no source allowed"},
		{"one allow is enough", []policy.Effect{N, A}, false, true, "s1: s1-rule"},
		{"allows unite", []policy.Effect{A, A}, false, true, "s0: s0-rule"},
		{"a deny wins over an earlier allow", []policy.Effect{A, D}, false, false, "s1: s1-rule"},
		{"a deny wins over a later allow", []policy.Effect{D, A}, false, false, "s0: s0-rule"},
		{"a failing source closes", []policy.Effect{A}, true, false, "err"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sources []policy.Source
			for i, e := range tt.effects {
				sources = append(sources, &fake{name: "s" + string(rune('0'+i)), single: e})
			}
			if tt.err {
				sources = append(sources, &fake{name: "err", err: errDown})
			}
			e := engineWith(t, sources...)
			req := request(trino.EndpointAllow, trino.OpExecuteQuery, trino.Action{})
			req.Explain = true
			d, err := e.Decide(context.Background(), req)
			require.NoError(t, err)
			require.Equal(t, tt.want, d.Allowed)
			require.Equal(t, tt.err, d.Errored)
			if tt.err {
				require.Equal(t, "deny", d.Explanation.Outcome)
				require.Equal(t, "down", d.Explanation.Sources[len(d.Explanation.Sources)-1].Error)
			} else {
				require.Equal(t, tt.decider, d.Explanation.Decider)
			}
		})
	}
}

func TestCombineBatch(t *testing.T) {
	t.Parallel()
	items := make([]trino.Resource, 5)
	for i := range items {
		items[i] = trino.Resource{Catalog: &trino.Catalog{Name: "c"}}
	}
	req := request(trino.EndpointBatch, trino.OpFilterCatalogs, trino.Action{FilterResources: items})
	a := &fake{name: "a", items: map[int]policy.Effect{0: policy.Allow, 1: policy.Allow, 3: policy.Allow}}
	b := &fake{name: "b", items: map[int]policy.Effect{1: policy.Deny, 2: policy.Allow}}
	d, err := engineWith(t, a, b).Decide(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, []int{0, 2, 3}, d.Indices, "union of allows minus any deny")

	d, err = engineWith(t, a, &fake{name: "down", err: errDown}).Decide(context.Background(), req)
	require.NoError(t, err)
	require.Empty(t, d.Indices, "a failing source keeps no item")
	require.NotNil(t, d.Indices, "but the answer is still a list")
	require.True(t, d.Errored)

	unknown := request(trino.EndpointBatch, trino.OpUnknown, trino.Action{FilterResources: items})
	unknown.Action.Operation = "FilterBranches"
	d, err = engineWith(t, &fake{name: "all", items: map[int]policy.Effect{0: policy.Allow}}).Decide(context.Background(), unknown)
	require.NoError(t, err)
	require.Empty(t, d.Indices, "an unknown operation keeps nothing")
}

func TestCombineRowFilters(t *testing.T) {
	t.Parallel()
	req := request(trino.EndpointRowFilters, trino.OpGetRowFilters, trino.Action{Resource: &trino.Resource{Table: &trino.Table{}}})
	d, err := engineWith(t,
		&fake{name: "a", filters: []trino.ViewExpression{{Expression: "region = 'EU'"}}},
		&fake{name: "none"},
		&fake{name: "b", filters: []trino.ViewExpression{{Expression: "tenant = 7", Identity: "svc"}}},
	).Decide(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, []trino.ViewExpression{{Expression: "region = 'EU'"}, {Expression: "tenant = 7", Identity: "svc"}}, d.Filters, "all filters are returned, and Trino ANDs them")

	_, err = engineWith(t, &fake{name: "a", filters: []trino.ViewExpression{{Expression: "x"}}}, &fake{name: "down", err: errDown}).Decide(context.Background(), req)
	var se *policy.SourceError
	require.ErrorAs(t, err, &se, "a failure is an error, never an empty (permissive) answer")
	require.Equal(t, "down", se.Source)
}

func TestCombineMasks(t *testing.T) {
	t.Parallel()
	cols := []string{"a", "b", "c", "d"}
	var res []trino.Resource
	for _, c := range cols {
		res = append(res, trino.Resource{Column: &trino.Column{ColumnName: c}})
	}
	req := request(trino.EndpointBatchColumnMasks, trino.OpGetColumnMask, trino.Action{FilterResources: res})
	first := &fake{name: "first", masks: map[string]string{"b": "NULL"}}
	second := &fake{name: "second", masks: map[string]string{"b": "'x'", "c": "'y'"}}
	d, err := engineWith(t, first, second).Decide(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, []trino.IndexedMask{
		{Index: 1, ViewExpression: trino.ViewExpression{Expression: "NULL"}},
		{Index: 2, ViewExpression: trino.ViewExpression{Expression: "'y'"}},
	}, d.Masks, "one mask per column, the first source in precedence order wins")

	single := request(trino.EndpointColumnMask, trino.OpGetColumnMask, trino.Action{Resource: &trino.Resource{Column: &trino.Column{ColumnName: "b"}}})
	d, err = engineWith(t, second, first).Decide(context.Background(), single)
	require.NoError(t, err)
	require.Equal(t, &trino.ViewExpression{Expression: "'x'"}, d.Mask)

	d, err = engineWith(t, first).Decide(context.Background(), request(trino.EndpointColumnMask, trino.OpGetColumnMask,
		trino.Action{Resource: &trino.Resource{Column: &trino.Column{ColumnName: "z"}}}))
	require.NoError(t, err)
	require.Nil(t, d.Mask, "no mask")

	_, err = engineWith(t, first, &fake{name: "down", err: errDown}).Decide(context.Background(), req)
	require.Error(t, err, "a failing masker fails the request")
}

func TestSnapshotsNeverGoBackwards(t *testing.T) {
	t.Parallel()
	e := policy.NewEngine(policy.EngineOptions{})
	_, err := e.Decide(context.Background(), request(trino.EndpointAllow, trino.OpExecuteQuery, trino.Action{}))
	require.ErrorIs(t, err, policy.ErrNotReady)
	mk := func(rev int64) *policy.Snapshot {
		s, err := policy.NewSnapshot(rev, "t", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet()})
		require.NoError(t, err)
		return s
	}
	require.NoError(t, e.Swap(mk(5)))
	require.ErrorIs(t, e.Swap(mk(4)), policy.ErrStaleRevision)
	require.NoError(t, e.Swap(mk(5)))
	require.NoError(t, e.Swap(mk(6)))
	require.EqualValues(t, 6, e.Snapshot().Revision)

	req := request(trino.EndpointAllow, trino.OpExecuteQuery, trino.Action{})
	req.Cluster = "nope"
	_, err = e.Decide(context.Background(), req)
	require.ErrorIs(t, err, policy.ErrUnknownCluster)

	_, err = policy.NewSnapshot(1, "t", map[string]*policy.PolicySet{"x": policy.NewPolicySet()})
	require.Error(t, err, "a snapshot needs the default cluster")
}

func TestUnknownOperationWarnsOnce(t *testing.T) {
	t.Parallel()
	var seen []string
	e := policy.NewEngine(policy.EngineOptions{UnknownOperationFunc: func(op string) { seen = append(seen, op) }})
	snap, err := policy.NewSnapshot(1, "t", map[string]*policy.PolicySet{policy.DefaultCluster: policy.NewPolicySet(&fake{name: "all", single: policy.Allow})})
	require.NoError(t, err)
	require.NoError(t, e.Swap(snap))
	for i := 0; i < 3; i++ {
		req := request(trino.EndpointAllow, trino.OpUnknown, trino.Action{})
		req.Action.Operation = "CreateBranch"
		d, err := e.Decide(context.Background(), req)
		require.NoError(t, err)
		require.False(t, d.Allowed, "unknown operations are denied even when a source allows everything")
	}
	require.Equal(t, []string{"CreateBranch"}, seen)
}
