package rego

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

const compatDir = "testdata/compat"

func TestCompatAuthorize(t *testing.T) {
	t.Parallel()
	p := loadPolicy(t, compatDir, Options{})
	src := p.Compat().(policy.Authorizer)
	require.Equal(t, "rego-compat", src.Name())
	require.Nil(t, p.Extension())

	allow := policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: "data.trino.allow"}}
	tests := []struct {
		note string
		body string
		want policy.Verdict
	}{
		{"admin from data.json", body("root", nil, `{"operation":"DropCatalog","resource":{"catalog":{"name":"x"}}}`), allow},
		{"admins group", body("ann", []string{"admins"}, `{"operation":"DropCatalog","resource":{"catalog":{"name":"x"}}}`), allow},
		{"always allowed", body("bob", []string{}, `{"operation":"ExecuteQuery"}`), allow},
		{"catalog visible", body("bob", []string{"analysts"}, `{"operation":"AccessCatalog","resource":{"catalog":{"name":"marts"}}}`), allow},
		{"catalog hidden", body("bob", []string{"analysts"}, `{"operation":"AccessCatalog","resource":{"catalog":{"name":"vault"}}}`), policy.Verdict{}},
		{"read", body("bob", []string{"analysts"}, tableAction("SelectFromColumns", "lakehouse", "staging_ads", "t1", "a", "b")), allow},
		{"hidden column", body("bob", []string{"analysts"}, tableAction("SelectFromColumns", "lakehouse", "staging_ads", "t1", "a", "ssn")), policy.Verdict{}},
		{"schema not matched", body("bob", []string{"analysts"}, tableAction("SelectFromColumns", "lakehouse", "prod_ads", "t1", "a")), policy.Verdict{}},
		{"write needs write rule", body("bob", []string{"analysts"}, tableAction("InsertIntoTable", "lakehouse", "staging_ads", "t1")), policy.Verdict{}},
		{"write", body("eve", []string{"data-engineering"}, tableAction("InsertIntoTable", "lakehouse", "prod_ads", "t1")), allow},
		{"default false abstains", body("bob", []string{"analysts"}, tableAction("DropTable", "lakehouse", "staging_ads", "t1")), policy.Verdict{}},
		{"unknown operation abstains unevaluated", body("root", nil, `{"operation":"FutureOperation"}`), policy.Verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			got, err := src.Authorize(context.Background(), request(t, trino.EndpointAllow, tt.body))
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tt.want, got))
		})
	}
}

func TestCompatFilter(t *testing.T) {
	t.Parallel()
	// Without batch.rego, Filter falls back to allow per item; the answers
	// must be the same, with the allow rule as the reason.
	variants := []struct {
		name string
		p    *Policy
		rule string
	}{
		{"batch", loadPolicy(t, compatDir, Options{}), "data.trino.batch"},
		{"allow fallback", loadPolicy(t, compatDir, Options{}, "batch.rego"), "data.trino.allow"},
	}
	tables := filterTables(
		[3]string{"lakehouse", "staging_ads", "t0"},
		[3]string{"lakehouse", "prod_ads", "t1"},
		[3]string{"marts", "core", "t2"},
		[3]string{"vault", "core", "t3"},
		[3]string{"lakehouse", "staging_hr", "t4"},
	)
	tests := []struct {
		note string
		body string
		want []int
	}{
		{"tables", body("bob", []string{"analysts"}, tables), []int{0, 2, 4}},
		{"tables, other group", body("eve", []string{"data-engineering"}, tables), []int{0, 1, 4}},
		{"tables, no group", body("joe", []string{}, tables), []int{}},
		{"tables, admin", body("root", nil, tables), []int{0, 1, 2, 3, 4}},
		{"catalogs", body("bob", []string{"analysts"}, `{"operation":"FilterCatalogs","filterResources":[{"catalog":{"name":"vault"}},{"catalog":{"name":"marts"}},{"catalog":{"name":"lakehouse"}}]}`), []int{1, 2}},
		{"columns index into table.columns", body("bob", []string{"analysts"}, `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"lakehouse","schemaName":"staging_x","tableName":"t","columns":["a","ssn","b"]}}]}`), []int{0, 2}},
		{"columns of a hidden table", body("bob", []string{"analysts"}, `{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"vault","schemaName":"x","tableName":"t","columns":["a","b"]}}]}`), []int{}},
	}
	for _, v := range variants {
		src := v.p.Compat().(policy.Filterer)
		for _, tt := range tests {
			t.Run(v.name+"/"+tt.note, func(t *testing.T) {
				t.Parallel()
				req := request(t, trino.EndpointBatch, tt.body)
				bv := newBatch(req, true)
				require.NoError(t, src.Filter(context.Background(), req, bv))
				require.Empty(t, cmp.Diff(tt.want, allowed(bv)))
				for i, r := range bv.Reasons {
					if bv.Allow[i] {
						require.Equal(t, v.rule, r.Rule)
					} else {
						require.Empty(t, r)
					}
				}
				require.NotContains(t, bv.Deny, true, "compat modules never deny")
			})
		}
	}
}

func TestCompatRowFilters(t *testing.T) {
	t.Parallel()
	src := loadPolicy(t, compatDir, Options{}).Compat().(policy.RowFilterer)
	tests := []struct {
		note string
		body string
		want []trino.ViewExpression
	}{
		{"two filters", body("bob", []string{"analysts", "finance"}, tableAction("GetRowFilters", "marts", "core", "customer_360")), []trino.ViewExpression{
			{Expression: "deleted = false", Identity: "auditor"},
			{Expression: "region = 'EU'"},
		}},
		{"one filter", body("bob", []string{"analysts"}, tableAction("GetRowFilters", "marts", "core", "customer_360")), []trino.ViewExpression{{Expression: "region = 'EU'"}}},
		{"no filter", body("bob", []string{"analysts"}, tableAction("GetRowFilters", "marts", "core", "orders")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			got, reason, err := src.RowFilters(context.Background(), request(t, trino.EndpointRowFilters, tt.body))
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tt.want, got))
			if tt.want != nil {
				require.Equal(t, policy.Reason{Rule: "data.trino.rowFilters"}, reason)
			}
		})
	}
}

func TestCompatColumnMasks(t *testing.T) {
	t.Parallel()
	variants := []struct {
		name string
		p    *Policy
		rule string
	}{
		{"batchColumnMasks", loadPolicy(t, compatDir, Options{}), "data.trino.batchColumnMasks"},
		{"columnMask fallback", loadPolicy(t, compatDir, Options{}, "batch_column_masks.rego"), "data.trino.columnMask"},
	}
	cols := [][2]string{{"customer_id", "bigint"}, {"email", "varchar"}, {"phone", "varchar"}}
	email := trino.ViewExpression{Expression: "'***'"}
	phone := trino.ViewExpression{Expression: "substr(phone, 1, 3)", Identity: "masker"}
	tests := []struct {
		note     string
		ep       trino.Endpoint
		body     string
		only     []int // the columns the engine passes, as indices into the request; nil for all
		want     []*trino.ViewExpression
		explains bool
	}{
		{"batch", trino.EndpointBatchColumnMasks, body("bob", []string{"analysts"}, maskActionJSON(false, "marts", "core", "customer_360", cols...)), nil,
			[]*trino.ViewExpression{nil, &email, &phone}, false},
		{"batch, some columns left", trino.EndpointBatchColumnMasks, body("bob", []string{"analysts"}, maskActionJSON(false, "marts", "core", "customer_360", cols...)), []int{0, 2},
			[]*trino.ViewExpression{nil, &phone}, false},
		{"batch, no masks", trino.EndpointBatchColumnMasks, body("eve", []string{"data-engineering"}, maskActionJSON(false, "marts", "core", "customer_360", cols...)), nil,
			[]*trino.ViewExpression{nil, nil, nil}, false},
		{"single", trino.EndpointColumnMask, body("bob", []string{"analysts"}, maskActionJSON(true, "marts", "core", "customer_360", cols[2])), nil,
			[]*trino.ViewExpression{&phone}, false},
		{"single, no mask", trino.EndpointColumnMask, body("bob", []string{"analysts"}, maskActionJSON(true, "marts", "core", "customer_360", cols[0])), nil,
			[]*trino.ViewExpression{nil}, false},
	}
	for _, v := range variants {
		src := v.p.Compat().(policy.Masker)
		for _, tt := range tests {
			t.Run(v.name+"/"+tt.note, func(t *testing.T) {
				t.Parallel()
				req := request(t, tt.ep, tt.body)
				all := maskColumns(req)
				cols := all
				if tt.only != nil {
					cols = nil
					for _, i := range tt.only {
						cols = append(cols, all[i])
					}
				}
				out := make([]policy.Mask, len(cols))
				require.NoError(t, src.ColumnMasks(context.Background(), req, cols, out))
				require.Len(t, out, len(tt.want))
				for i, w := range tt.want {
					if w == nil {
						require.Empty(t, cmp.Diff(policy.Mask{}, out[i]), "column %d", i)
						continue
					}
					require.Empty(t, cmp.Diff(policy.Mask{Set: true, ViewExpression: *w, Reason: policy.Reason{Rule: v.rule}}, out[i]), "column %d", i)
				}
			})
		}
	}
}
