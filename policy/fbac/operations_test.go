package fbac_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// resourceFor builds a plausible resource for an operation's kind.
func resourceFor(op trino.Operation) *trino.Resource {
	table := &trino.Table{CatalogName: "c", SchemaName: "s", TableName: "t"}
	switch op.Kind() {
	case trino.KindUser:
		return &trino.Resource{User: &trino.User{User: "v"}}
	case trino.KindSystemSessionProperty:
		return &trino.Resource{SystemSessionProperty: &trino.SystemSessionProperty{Name: "p"}}
	case trino.KindCatalogSessionProperty:
		return &trino.Resource{CatalogSessionProperty: &trino.CatalogSessionProperty{CatalogName: "c", PropertyName: "p"}}
	case trino.KindCatalog:
		return &trino.Resource{Catalog: &trino.Catalog{Name: "c"}}
	case trino.KindSchema:
		return &trino.Resource{Schema: &trino.Schema{CatalogName: "c", SchemaName: "s"}}
	case trino.KindFunction:
		return &trino.Resource{Function: &trino.Function{CatalogName: "c", SchemaName: "s", FunctionName: "f"}}
	case trino.KindColumn:
		return &trino.Resource{Column: &trino.Column{CatalogName: "c", SchemaName: "s", TableName: "t", ColumnName: "a", ColumnType: "varchar"}}
	case trino.KindTable:
		r := &trino.Resource{Table: table}
		if op == trino.OpExecuteTableProcedure {
			r.Function = &trino.Function{FunctionName: "optimize"}
		}
		if op == trino.OpFilterColumns || op == trino.OpSelectFromColumns {
			table.Columns = []string{"a"}
		}
		return r
	}
	return nil
}

// TestEveryOperationUnderDefaults sends each of the 63 operations, in the
// shape the plugin uses, against Trino's empty rules file (every section
// absent), and checks Trino's defaults.
func TestEveryOperationUnderDefaults(t *testing.T) {
	t.Parallel()
	denied := map[trino.Operation]bool{
		trino.OpReadSystemInformation:         true, // system_information absent: deny
		trino.OpWriteSystemInformation:        true,
		trino.OpImpersonateUser:               true, // impersonation absent: deny
		trino.OpCreateCatalog:                 true, // needs owner, which the default all does not imply
		trino.OpDropCatalog:                   true,
		trino.OpSetSchemaAuthorization:        true, // authorization absent: deny
		trino.OpSetTableAuthorization:         true,
		trino.OpSetViewAuthorization:          true,
		trino.OpExecuteProcedure:              true, // only system.builtin procedures
		trino.OpCreateFunction:                true, // only system.builtin functions, without OWNERSHIP
		trino.OpDropFunction:                  true,
		trino.OpShowCreateFunction:            true,
		trino.OpExecuteFunction:               true,
		trino.OpCreateViewWithExecuteFunction: true,
	}
	e := engineFor(t, "empty.json", map[string]*policy.Engine{})
	require.Len(t, trino.Operations(), 63)
	for _, op := range trino.Operations() {
		action := trino.Action{Operation: op.String()}
		ep := "allow"
		switch {
		case op == trino.OpGetRowFilters:
			ep = "rowFilters"
			action.Resource = resourceFor(op)
		case op == trino.OpGetColumnMask:
			ep = "batchColumnMasks"
			action.FilterResources = []trino.Resource{*resourceFor(op)}
		case op.IsFilter():
			ep = "batch"
			action.FilterResources = []trino.Resource{*resourceFor(op)}
		default:
			action.Resource = resourceFor(op)
		}
		switch op {
		case trino.OpRenameSchema:
			action.TargetResource = &trino.Resource{Schema: &trino.Schema{CatalogName: "c", SchemaName: "s2"}}
		case trino.OpRenameTable, trino.OpRenameView, trino.OpRenameMaterializedView:
			action.TargetResource = &trino.Resource{Table: &trino.Table{CatalogName: "c", SchemaName: "s", TableName: "t2"}}
		case trino.OpSetSchemaAuthorization, trino.OpSetTableAuthorization, trino.OpSetViewAuthorization:
			action.Grantee = &trino.Grantee{Type: trino.GranteeUser, Name: "v"}
		}
		in, err := json.Marshal(trino.Input{Context: trino.Context{Identity: trino.Identity{User: "u", Groups: []string{}}}, Action: action})
		require.NoError(t, err)
		got := decide(t, e, ep, in)
		switch ep {
		case "allow":
			require.Equal(t, !denied[op], got, "%s", op)
		case "batch":
			require.Equal(t, []int{0}, got, "%s", op)
		case "rowFilters":
			require.Empty(t, got, "%s", op)
		case "batchColumnMasks":
			require.Empty(t, got, "%s", op)
		}
	}
}
