package trino

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ctx := `"context":{"identity":{"user":"u","groups":[]},"softwareStack":{"trinoVersion":"476"}}`
	tests := []struct {
		name string
		ep   Endpoint
		body string
		want string // "" for valid
	}{
		{"allow", EndpointAllow, `{"input":{` + ctx + `,"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"c"}}}}}`, ""},
		{"unknown operation is valid", EndpointAllow, `{"input":{` + ctx + `,"action":{"operation":"CreateBranch"}}}`, ""},
		{"missing resource field", EndpointAllow, `{"input":{` + ctx + `,"action":{"operation":"AccessCatalog","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t"}}}}}`, "input.action.resource.catalog is missing"},
		{"batch item names its index", EndpointBatch, `{"input":{` + ctx + `,"action":{"operation":"FilterTables","filterResources":[{"table":{"catalogName":"c","schemaName":"s","tableName":"t"}},{"catalog":{"name":"c"}}]}}}`, "input.action.filterResources[1].table is missing"},
		{"batch needs a filter operation", EndpointBatch, `{"input":{` + ctx + `,"action":{"operation":"AccessCatalog","filterResources":[]}}}`, "not a filter operation"},
		{"FilterColumns takes one table", EndpointBatch, `{"input":{` + ctx + `,"action":{"operation":"FilterColumns","filterResources":[{"table":{"catalogName":"c","schemaName":"s","tableName":"t","columns":["a"]}},{"table":{"catalogName":"c","schemaName":"s","tableName":"u","columns":["a"]}}]}}}`, "exactly one table"},
		{"rename needs a target", EndpointAllow, `{"input":{` + ctx + `,"action":{"operation":"RenameTable","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t"}}}}}`, "targetResource.table"},
		{"authorization needs a grantee", EndpointAllow, `{"input":{` + ctx + `,"action":{"operation":"SetTableAuthorization","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t"}}}}}`, "grantee"},
		{"table procedure needs the procedure", EndpointAllow, `{"input":{` + ctx + `,"action":{"operation":"ExecuteTableProcedure","resource":{"table":{"catalogName":"c","schemaName":"s","tableName":"t"}}}}}`, "procedure name"},
		{"masks on the allow endpoint", EndpointAllow, `{"input":{` + ctx + `,"action":{"operation":"GetColumnMask","resource":{"column":{"catalogName":"c","schemaName":"s","tableName":"t","columnName":"a","columnType":"varchar"}}}}}`, "columnMask"},
		{"batch masks", EndpointBatchColumnMasks, `{"input":{` + ctx + `,"action":{"operation":"GetColumnMask","filterResources":[{"column":{"catalogName":"c","schemaName":"s","tableName":"t","columnName":"a","columnType":"varchar"}}]}}}`, ""},
		{"both resource and filterResources", EndpointBatch, `{"input":{` + ctx + `,"action":{"operation":"FilterCatalogs","resource":{"catalog":{"name":"c"}},"filterResources":[]}}}`, "both resource and filterResources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Decode([]byte(tt.body))
			require.NoError(t, err)
			err = r.Validate(tt.ep)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
		})
	}
}
