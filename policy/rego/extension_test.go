package rego

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

const extDir = "testdata/extension"

func TestExtensionAuthorize(t *testing.T) {
	t.Parallel()
	p := loadPolicy(t, extDir, Options{})
	require.Nil(t, p.Compat())
	src := p.Extension().(policy.Authorizer)
	require.Equal(t, "rego", src.Name())

	allow := policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: "data.warden.allow"}}
	deny := func(msg string) policy.Verdict {
		return policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: "data.warden.deny", Message: msg}}
	}
	tests := []struct {
		note    string
		body    string
		cluster string
		groups  []string       // Subject.Groups; the Trino groups when nil
		attrs   map[string]any // Subject.Attributes
		explain bool
		want    policy.Verdict
	}{
		{note: "nothing to say", body: body("u", []string{"g"}, tableAction("DropTable", "c", "s", "t"))},
		{note: "deny veto from a directory group", body: body("u", []string{"g"}, tableAction("DropTable", "c", "s", "t")),
			groups: []string{"g", "contractors"}, want: deny("")},
		{note: "deny message when explaining", body: body("u", []string{"g"}, tableAction("DropTable", "c", "s", "t")),
			groups: []string{"g", "contractors"}, explain: true, want: deny("contractors may not drop tables")},
		{note: "deny wins over allow", body: body("u", nil, tableAction("SelectFromColumns", "vault", "s", "t", "a")),
			cluster: "staging", attrs: map[string]any{"clearance": 3}, explain: true, want: deny("catalog vault is closed on cluster staging")},
		{note: "allow from attributes", body: body("u", nil, tableAction("SelectFromColumns", "vault", "s", "t", "a")),
			attrs: map[string]any{"clearance": 3}, want: allow},
		{note: "attributes too low", body: body("u", nil, tableAction("SelectFromColumns", "vault", "s", "t", "a")),
			attrs: map[string]any{"clearance": 2}},
		{note: "no attributes", body: body("u", nil, tableAction("SelectFromColumns", "vault", "s", "t", "a"))},
		{note: "unknown operation", body: body("u", nil, `{"operation":"FutureOperation"}`), groups: []string{"contractors"}},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			req := request(t, trino.EndpointAllow, tt.body)
			if tt.cluster != "" {
				req.Cluster = tt.cluster
			}
			if tt.groups != nil {
				req.Subject.Groups = tt.groups
			}
			req.Subject.Attributes = tt.attrs
			req.Explain = tt.explain
			got, err := src.Authorize(context.Background(), req)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tt.want, got))
		})
	}
}

func TestExtensionDenyShapes(t *testing.T) {
	t.Parallel()
	req := request(t, trino.EndpointAllow, body("u", nil, `{"operation":"ExecuteQuery"}`))
	req.Explain = true
	tests := []struct {
		deny string
		want policy.Verdict
	}{
		{"deny := true", policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: "data.warden.deny"}}},
		{"deny := false", policy.Verdict{}},
		{"deny := set()", policy.Verdict{}},
		{"deny := []", policy.Verdict{}},
		{"deny contains \"a\" if false", policy.Verdict{}},
		{"deny := [\"b\", \"a\"]", policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: "data.warden.deny", Message: "b; a"}}},
		{"deny := {\"b\", \"a\"}", policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: "data.warden.deny", Message: "a; b"}}},
		{"deny := true if false", policy.Verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.deny, func(t *testing.T) {
			t.Parallel()
			src := inline(t, "package warden\n"+tt.deny).Extension().(policy.Authorizer)
			got, err := src.Authorize(context.Background(), req)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tt.want, got))
		})
	}
}

func TestExtensionInputWarden(t *testing.T) {
	t.Parallel()
	src := inline(t, `package warden
allow if {
	input.warden.cluster == "east"
	input.warden.user == "alice"
	"from-directory" in input.warden.groups
	"trino-group" in input.warden.groups
	input.warden.attributes.level == 2
	input.warden.attributes.tags == ["a", "b"]
	not input.warden.columns
	# The plugin's own input is unchanged.
	input.context.identity.groups == ["trino-group"]
}`).Extension().(policy.Authorizer)
	req := request(t, trino.EndpointAllow, body("alice", []string{"trino-group"}, `{"operation":"ExecuteQuery"}`))
	req.Cluster = "east"
	req.Subject.Groups = []string{"trino-group", "from-directory"}
	req.Subject.Attributes = map[string]any{"level": 2, "tags": []string{"a", "b"}}
	got, err := src.Authorize(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, policy.Allow, got.Effect)

	// Without attributes the policy sees {} and an empty group list.
	src = inline(t, `package warden
allow if {
	input.warden.attributes == {}
	input.warden.groups == []
}`).Extension().(policy.Authorizer)
	req.Subject = policy.Subject{User: "alice"}
	got, err = src.Authorize(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, policy.Allow, got.Effect)
}

func TestExtensionFilter(t *testing.T) {
	t.Parallel()
	tables := filterTables(
		[3]string{"vault", "s", "t0"},
		[3]string{"vault", "s", "tmp_1"},
		[3]string{"lake", "s", "tmp_2"},
		[3]string{"lake", "s", "t3"},
	)
	denyPerItem := `package warden
deny contains sprintf("%s is private", [input.action.resource.table.tableName]) if {
	endswith(input.action.resource.table.tableName, "3")
}
deny contains "second reason" if input.action.resource.table.tableName == "t3"
deny contains "never" if input.action.operation != "FilterTables"
allow if input.action.resource.table.catalogName == "lake"`
	batchAllow := `package warden
batch_allow contains i if {
	some i, r in input.action.filterResources
	r.table.catalogName == "vault"
}
batch_allow contains i if {
	input.action.operation == "FilterColumns"
	some i, c in input.action.filterResources[0].table.columns
	c != "secret"
}`
	tests := []struct {
		note       string
		p          *Policy
		body       string
		groups     []string
		attrs      map[string]any
		wantAllow  []int
		wantDeny   []int
		wantReason map[int]policy.Reason
	}{
		{note: "allow per item and batch_deny", p: loadPolicy(t, extDir, Options{}), body: body("u", nil, tables),
			attrs: map[string]any{"clearance": 3}, wantAllow: []int{0, 1}, wantDeny: []int{1, 2},
			wantReason: map[int]policy.Reason{0: {Rule: "data.warden.allow"}, 1: {Rule: "data.warden.batch_deny"}, 2: {Rule: "data.warden.batch_deny"}}},
		{note: "batch_deny exempts a group", p: loadPolicy(t, extDir, Options{}), body: body("u", nil, tables), groups: []string{"etl"},
			attrs: map[string]any{"clearance": 3}, wantAllow: []int{0, 1}, wantDeny: []int{},
			wantReason: map[int]policy.Reason{0: {Rule: "data.warden.allow"}, 1: {Rule: "data.warden.allow"}}},
		{note: "deny per item with reasons", p: inline(t, denyPerItem), body: body("u", nil, tables),
			wantAllow: []int{2, 3}, wantDeny: []int{3},
			wantReason: map[int]policy.Reason{2: {Rule: "data.warden.allow"}, 3: {Rule: "data.warden.deny", Message: "second reason; t3 is private"}}},
		{note: "batch_allow", p: inline(t, batchAllow), body: body("u", nil, tables),
			wantAllow: []int{0, 1}, wantDeny: []int{},
			wantReason: map[int]policy.Reason{0: {Rule: "data.warden.batch_allow"}, 1: {Rule: "data.warden.batch_allow"}}},
		{note: "batch_allow over columns", p: inline(t, batchAllow),
			body:      body("u", nil, `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a","secret","b"]}}]}`),
			wantAllow: []int{0, 2}, wantDeny: []int{},
			wantReason: map[int]policy.Reason{0: {Rule: "data.warden.batch_allow"}, 2: {Rule: "data.warden.batch_allow"}}},
		{note: "allow per column", p: inline(t, "package warden\nallow if input.action.resource.table.columns != [\"secret\"]"),
			body:      body("u", nil, `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a","secret","b"]}}]}`),
			wantAllow: []int{0, 2}, wantDeny: []int{},
			wantReason: map[int]policy.Reason{0: {Rule: "data.warden.allow"}, 2: {Rule: "data.warden.allow"}}},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			req := request(t, trino.EndpointBatch, tt.body)
			if tt.groups != nil {
				req.Subject.Groups = tt.groups
			}
			req.Subject.Attributes = tt.attrs
			bv := newBatch(req, true)
			require.NoError(t, tt.p.Extension().(policy.Filterer).Filter(context.Background(), req, bv))
			var gotAllow, gotDeny []int
			reasons := map[int]policy.Reason{}
			for i := range bv.Allow {
				if bv.Allow[i] {
					gotAllow = append(gotAllow, i)
				}
				if bv.Deny[i] {
					gotDeny = append(gotDeny, i)
				}
				if bv.Reasons[i] != (policy.Reason{}) {
					reasons[i] = bv.Reasons[i]
				}
			}
			require.Empty(t, cmp.Diff(tt.wantAllow, gotAllow, cmpEmpty), "allow")
			require.Empty(t, cmp.Diff(tt.wantDeny, gotDeny, cmpEmpty), "deny")
			require.Empty(t, cmp.Diff(tt.wantReason, reasons), "reasons")
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []int) bool {
	return len(a) == 0 && len(b) == 0 || cmp.Equal([]int(a), []int(b))
})

func TestExtensionRowFilters(t *testing.T) {
	t.Parallel()
	src := loadPolicy(t, extDir, Options{}).Extension().(policy.RowFilterer)
	req := request(t, trino.EndpointRowFilters, body("alice", nil, tableAction("GetRowFilters", "vault", "s", "t")))
	got, reason, err := src.RowFilters(context.Background(), req)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff([]trino.ViewExpression{{Expression: "owner = 'alice'"}}, got))
	require.Equal(t, policy.Reason{Rule: "data.warden.row_filters"}, reason)

	req.Subject.Groups = []string{"vault-admins"}
	got, _, err = src.RowFilters(context.Background(), req)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestExtensionColumnMasks(t *testing.T) {
	t.Parallel()
	p := loadPolicy(t, extDir, Options{})
	indexPolicy := inline(t, `package warden
column_masks[c.name] := {"expression": sprintf("%s.%s.%s[%d] %s", [c.catalog, c.schema, c.table, c.index, c.type])} if {
	some c in input.warden.columns
}`)
	cols := [][2]string{{"id", "bigint"}, {"secret_a", "varchar"}, {"email", "varchar"}, {"secret_n", "bigint"}}
	rule := policy.Reason{Rule: "data.warden.column_masks"}
	tests := []struct {
		note   string
		p      *Policy
		ep     trino.Endpoint
		body   string
		groups []string
		only   []int
		want   []policy.Mask
	}{
		{note: "batch", p: p, ep: trino.EndpointBatchColumnMasks, body: body("u", nil, maskActionJSON(false, "c", "s", "t", cols...)),
			want: []policy.Mask{{}, {Set: true, ViewExpression: trino.ViewExpression{Expression: "NULL"}, Reason: rule},
				{Set: true, ViewExpression: trino.ViewExpression{Expression: "'x'", Identity: "masker"}, Reason: rule}, {}}},
		{note: "batch, group exempt from one mask", p: p, ep: trino.EndpointBatchColumnMasks, body: body("u", nil, maskActionJSON(false, "c", "s", "t", cols...)),
			groups: []string{"vault-admins"},
			want:   []policy.Mask{{}, {Set: true, ViewExpression: trino.ViewExpression{Expression: "NULL"}, Reason: rule}, {}, {}}},
		{note: "single", p: p, ep: trino.EndpointColumnMask, body: body("u", nil, maskActionJSON(true, "c", "s", "t", cols[2])),
			want: []policy.Mask{{Set: true, ViewExpression: trino.ViewExpression{Expression: "'x'", Identity: "masker"}, Reason: rule}}},
		{note: "columns listed with their request index", p: indexPolicy, ep: trino.EndpointBatchColumnMasks,
			body: body("u", nil, maskActionJSON(false, "c", "s", "t", cols...)), only: []int{1, 3},
			want: []policy.Mask{
				{Set: true, ViewExpression: trino.ViewExpression{Expression: "c.s.t[1] varchar"}, Reason: rule},
				{Set: true, ViewExpression: trino.ViewExpression{Expression: "c.s.t[3] bigint"}, Reason: rule},
			}},
		{note: "single column index", p: indexPolicy, ep: trino.EndpointColumnMask, body: body("u", nil, maskActionJSON(true, "c", "s", "t", cols[3])),
			want: []policy.Mask{{Set: true, ViewExpression: trino.ViewExpression{Expression: "c.s.t[0] bigint"}, Reason: rule}}},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			req := request(t, tt.ep, tt.body)
			if tt.groups != nil {
				req.Subject.Groups = tt.groups
			}
			all := maskColumns(req)
			cols := all
			if tt.only != nil {
				cols = nil
				for _, i := range tt.only {
					cols = append(cols, all[i])
				}
			}
			out := make([]policy.Mask, len(cols))
			require.NoError(t, tt.p.Extension().(policy.Masker).ColumnMasks(context.Background(), req, cols, out))
			require.Empty(t, cmp.Diff(tt.want, out))
		})
	}
}
