package rego

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// request decodes and validates a request body for an endpoint, and wraps
// it as the engine would, with the Trino groups as the subject's groups.
func request(t testing.TB, ep trino.Endpoint, body string) *policy.Request {
	t.Helper()
	r, err := trino.Decode([]byte(body))
	require.NoError(t, err)
	require.NoError(t, r.Validate(ep))
	return &policy.Request{
		Request:  r,
		Endpoint: ep,
		Cluster:  policy.DefaultCluster,
		Subject:  policy.Subject{User: r.Context.Identity.User, Groups: r.Context.Identity.Groups},
	}
}

// body builds a request body for user and groups with the given action.
func body(user string, groups []string, action string) string {
	g, err := json.Marshal(groups)
	if err != nil {
		panic(err)
	}
	u, _ := json.Marshal(user)
	return `{"input":{"context":{"identity":{"user":` + string(u) + `,"groups":` + string(g) +
		`},"softwareStack":{"trinoVersion":"480"},"properties":{},"queryId":"q1"},"action":` + action + `}}`
}

// tableAction is an action on one table.
func tableAction(op, catalog, schema, table string, columns ...string) string {
	t := map[string]any{"catalogName": catalog, "schemaName": schema, "tableName": table}
	if columns != nil {
		t["columns"] = columns
	}
	bs, err := json.Marshal(map[string]any{"operation": op, "resource": map[string]any{"table": t}})
	if err != nil {
		panic(err)
	}
	return string(bs)
}

// filterTables is a FilterTables action over catalog.schema.table names.
func filterTables(tables ...[3]string) string {
	rs := make([]any, len(tables))
	for i, t := range tables {
		rs[i] = map[string]any{"table": map[string]any{"catalogName": t[0], "schemaName": t[1], "tableName": t[2]}}
	}
	bs, err := json.Marshal(map[string]any{"operation": "FilterTables", "filterResources": rs})
	if err != nil {
		panic(err)
	}
	return string(bs)
}

// maskActionJSON is a GetColumnMask action: with resource.column for one
// column when single, else filterResources.
func maskActionJSON(single bool, catalog, schema, table string, cols ...[2]string) string {
	rs := make([]any, len(cols))
	for i, c := range cols {
		rs[i] = map[string]any{"column": map[string]any{
			"catalogName": catalog, "schemaName": schema, "tableName": table,
			"columnName": c[0], "columnType": c[1],
		}}
	}
	a := map[string]any{"operation": "GetColumnMask"}
	if single {
		a["resource"] = rs[0]
	} else {
		a["filterResources"] = rs
	}
	bs, err := json.Marshal(a)
	if err != nil {
		panic(err)
	}
	return string(bs)
}

// maskColumns returns the columns of a mask request, as the engine passes
// them.
func maskColumns(req *policy.Request) []*trino.Column {
	if req.Action.Resource != nil {
		return []*trino.Column{req.Action.Resource.Column}
	}
	cols := make([]*trino.Column, len(req.Action.FilterResources))
	for i := range req.Action.FilterResources {
		cols[i] = req.Action.FilterResources[i].Column
	}
	return cols
}

// loadPolicy builds a Policy from a testdata directory, leaving out the
// named files.
func loadPolicy(t testing.TB, dir string, opts Options, without ...string) *Policy {
	t.Helper()
	mods, data, err := LoadDir(dir)
	require.NoError(t, err)
	for _, w := range without {
		_, ok := mods[dir+"/"+w]
		require.True(t, ok, "no module %s in %s", w, dir)
		delete(mods, dir+"/"+w)
	}
	p, err := New(mods, data, opts)
	require.NoError(t, err)
	return p
}

// inline builds a Policy from module sources named m0.rego, m1.rego….
func inline(t testing.TB, srcs ...string) *Policy {
	t.Helper()
	p, err := inlineErr(srcs...)
	require.NoError(t, err)
	return p
}

func inlineErr(srcs ...string) (*Policy, error) {
	mods := map[string]string{}
	for i, s := range srcs {
		mods["m"+string(rune('0'+i))+".rego"] = s
	}
	return New(mods, nil, Options{})
}

// allowed returns the indices a batch verdict keeps.
func allowed(bv *policy.BatchVerdict) []int {
	out := []int{}
	for i := range bv.Allow {
		if bv.Allow[i] && !bv.Deny[i] {
			out = append(out, i)
		}
	}
	return out
}

func newBatch(req *policy.Request, explain bool) *policy.BatchVerdict {
	n := req.Items()
	bv := &policy.BatchVerdict{Allow: make([]bool, n), Deny: make([]bool, n)}
	if explain {
		bv.Reasons = make([]policy.Reason, n)
	}
	return bv
}
