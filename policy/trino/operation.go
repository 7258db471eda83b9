package trino

// Operation is one of the operation names the plugin sends. The zero value
// is OpUnknown: a name Warden does not know, which every source denies.
type Operation uint8

// The 63 operations of the plugin, Trino 438 to 482.
const (
	OpUnknown Operation = iota
	OpExecuteQuery
	OpReadSystemInformation
	OpWriteSystemInformation
	OpImpersonateUser
	OpViewQueryOwnedBy
	OpKillQueryOwnedBy
	OpFilterViewQueryOwnedBy
	OpSetSystemSessionProperty
	OpAccessCatalog
	OpCreateCatalog
	OpDropCatalog
	OpShowSchemas
	OpFilterCatalogs
	OpCreateSchema
	OpDropSchema
	OpShowCreateSchema
	OpShowTables
	OpShowFunctions
	OpRenameSchema
	OpSetSchemaAuthorization
	OpFilterSchemas
	OpShowCreateTable
	OpDropTable
	OpSetTableComment
	OpSetViewComment
	OpSetColumnComment
	OpShowColumns
	OpAddColumn
	OpAlterColumn
	OpDropColumn
	OpRenameColumn
	OpInsertIntoTable
	OpDeleteFromTable
	OpTruncateTable
	OpCreateView
	OpDropView
	OpRefreshMaterializedView
	OpDropMaterializedView
	OpCreateTable
	OpCreateMaterializedView
	OpSetTableProperties
	OpSetMaterializedViewProperties
	OpSelectFromColumns
	OpUpdateTableColumns
	OpCreateViewWithSelectFromColumns
	OpRenameTable
	OpRenameView
	OpRenameMaterializedView
	OpSetTableAuthorization
	OpSetViewAuthorization
	OpFilterTables
	OpFilterColumns
	OpSetCatalogSessionProperty
	OpExecuteProcedure
	OpCreateFunction
	OpDropFunction
	OpShowCreateFunction
	OpExecuteFunction
	OpCreateViewWithExecuteFunction
	OpExecuteTableProcedure
	OpFilterFunctions
	OpGetRowFilters
	OpGetColumnMask

	numOperations
)

// ResourceKind says which resource field an operation carries.
type ResourceKind uint8

// Resource kinds.
const (
	KindNone ResourceKind = iota
	KindUser
	KindSystemSessionProperty
	KindCatalogSessionProperty
	KindCatalog
	KindSchema
	KindTable
	KindFunction
	KindColumn
)

// Mode says how the plugin uses an operation's answer.
type Mode uint8

// Modes, as in the protocol document.
const (
	ModeEnforce   Mode = iota // E: a false answer fails the statement with Access Denied
	ModeBoolean               // B: a false answer hides or denies in the engine
	ModeFilter                // F: per item, or batched with filterResources
	ModeRowFilter             // RF
	ModeMask                  // CM
)

type opInfo struct {
	name string
	kind ResourceKind
	mode Mode
}

var operations = [numOperations]opInfo{
	OpUnknown:                         {"", KindNone, ModeEnforce},
	OpExecuteQuery:                    {"ExecuteQuery", KindNone, ModeEnforce},
	OpReadSystemInformation:           {"ReadSystemInformation", KindNone, ModeEnforce},
	OpWriteSystemInformation:          {"WriteSystemInformation", KindNone, ModeEnforce},
	OpImpersonateUser:                 {"ImpersonateUser", KindUser, ModeEnforce},
	OpViewQueryOwnedBy:                {"ViewQueryOwnedBy", KindUser, ModeEnforce},
	OpKillQueryOwnedBy:                {"KillQueryOwnedBy", KindUser, ModeEnforce},
	OpFilterViewQueryOwnedBy:          {"FilterViewQueryOwnedBy", KindUser, ModeFilter},
	OpSetSystemSessionProperty:        {"SetSystemSessionProperty", KindSystemSessionProperty, ModeEnforce},
	OpAccessCatalog:                   {"AccessCatalog", KindCatalog, ModeBoolean},
	OpCreateCatalog:                   {"CreateCatalog", KindCatalog, ModeEnforce},
	OpDropCatalog:                     {"DropCatalog", KindCatalog, ModeEnforce},
	OpShowSchemas:                     {"ShowSchemas", KindCatalog, ModeEnforce},
	OpFilterCatalogs:                  {"FilterCatalogs", KindCatalog, ModeFilter},
	OpCreateSchema:                    {"CreateSchema", KindSchema, ModeEnforce},
	OpDropSchema:                      {"DropSchema", KindSchema, ModeEnforce},
	OpShowCreateSchema:                {"ShowCreateSchema", KindSchema, ModeEnforce},
	OpShowTables:                      {"ShowTables", KindSchema, ModeEnforce},
	OpShowFunctions:                   {"ShowFunctions", KindSchema, ModeEnforce},
	OpRenameSchema:                    {"RenameSchema", KindSchema, ModeEnforce},
	OpSetSchemaAuthorization:          {"SetSchemaAuthorization", KindSchema, ModeEnforce},
	OpFilterSchemas:                   {"FilterSchemas", KindSchema, ModeFilter},
	OpShowCreateTable:                 {"ShowCreateTable", KindTable, ModeEnforce},
	OpDropTable:                       {"DropTable", KindTable, ModeEnforce},
	OpSetTableComment:                 {"SetTableComment", KindTable, ModeEnforce},
	OpSetViewComment:                  {"SetViewComment", KindTable, ModeEnforce},
	OpSetColumnComment:                {"SetColumnComment", KindTable, ModeEnforce},
	OpShowColumns:                     {"ShowColumns", KindTable, ModeEnforce},
	OpAddColumn:                       {"AddColumn", KindTable, ModeEnforce},
	OpAlterColumn:                     {"AlterColumn", KindTable, ModeEnforce},
	OpDropColumn:                      {"DropColumn", KindTable, ModeEnforce},
	OpRenameColumn:                    {"RenameColumn", KindTable, ModeEnforce},
	OpInsertIntoTable:                 {"InsertIntoTable", KindTable, ModeEnforce},
	OpDeleteFromTable:                 {"DeleteFromTable", KindTable, ModeEnforce},
	OpTruncateTable:                   {"TruncateTable", KindTable, ModeEnforce},
	OpCreateView:                      {"CreateView", KindTable, ModeEnforce},
	OpDropView:                        {"DropView", KindTable, ModeEnforce},
	OpRefreshMaterializedView:         {"RefreshMaterializedView", KindTable, ModeEnforce},
	OpDropMaterializedView:            {"DropMaterializedView", KindTable, ModeEnforce},
	OpCreateTable:                     {"CreateTable", KindTable, ModeEnforce},
	OpCreateMaterializedView:          {"CreateMaterializedView", KindTable, ModeEnforce},
	OpSetTableProperties:              {"SetTableProperties", KindTable, ModeEnforce},
	OpSetMaterializedViewProperties:   {"SetMaterializedViewProperties", KindTable, ModeEnforce},
	OpSelectFromColumns:               {"SelectFromColumns", KindTable, ModeEnforce},
	OpUpdateTableColumns:              {"UpdateTableColumns", KindTable, ModeEnforce},
	OpCreateViewWithSelectFromColumns: {"CreateViewWithSelectFromColumns", KindTable, ModeEnforce},
	OpRenameTable:                     {"RenameTable", KindTable, ModeEnforce},
	OpRenameView:                      {"RenameView", KindTable, ModeEnforce},
	OpRenameMaterializedView:          {"RenameMaterializedView", KindTable, ModeEnforce},
	OpSetTableAuthorization:           {"SetTableAuthorization", KindTable, ModeEnforce},
	OpSetViewAuthorization:            {"SetViewAuthorization", KindTable, ModeEnforce},
	OpFilterTables:                    {"FilterTables", KindTable, ModeFilter},
	OpFilterColumns:                   {"FilterColumns", KindTable, ModeFilter},
	OpSetCatalogSessionProperty:       {"SetCatalogSessionProperty", KindCatalogSessionProperty, ModeEnforce},
	OpExecuteProcedure:                {"ExecuteProcedure", KindFunction, ModeEnforce},
	OpCreateFunction:                  {"CreateFunction", KindFunction, ModeEnforce},
	OpDropFunction:                    {"DropFunction", KindFunction, ModeEnforce},
	OpShowCreateFunction:              {"ShowCreateFunction", KindFunction, ModeEnforce},
	OpExecuteFunction:                 {"ExecuteFunction", KindFunction, ModeBoolean},
	OpCreateViewWithExecuteFunction:   {"CreateViewWithExecuteFunction", KindFunction, ModeBoolean},
	OpExecuteTableProcedure:           {"ExecuteTableProcedure", KindTable, ModeEnforce},
	OpFilterFunctions:                 {"FilterFunctions", KindFunction, ModeFilter},
	OpGetRowFilters:                   {"GetRowFilters", KindTable, ModeRowFilter},
	OpGetColumnMask:                   {"GetColumnMask", KindColumn, ModeMask},
}

var opByName = func() map[string]Operation {
	m := make(map[string]Operation, numOperations)
	for op := OpUnknown + 1; op < numOperations; op++ {
		m[operations[op].name] = op
	}
	return m
}()

// ParseOperation maps an operation name to its Operation, OpUnknown when the
// name is not one of the 63.
func ParseOperation(name string) Operation {
	return opByName[name]
}

// Operations returns every known operation, in declaration order.
func Operations() []Operation {
	out := make([]Operation, 0, numOperations-1)
	for op := OpUnknown + 1; op < numOperations; op++ {
		out = append(out, op)
	}
	return out
}

// String returns the wire name, or "unknown".
func (op Operation) String() string {
	if op == OpUnknown || op >= numOperations {
		return "unknown"
	}
	return operations[op].name
}

// Kind returns the resource field the operation carries.
func (op Operation) Kind() ResourceKind {
	if op >= numOperations {
		return KindNone
	}
	return operations[op].kind
}

// Mode returns how the plugin uses the answer.
func (op Operation) Mode() Mode {
	if op >= numOperations {
		return ModeEnforce
	}
	return operations[op].mode
}

// IsFilter reports whether the operation is one of the six Filter*
// operations, which the plugin batches when a batched URI is set.
func (op Operation) IsFilter() bool { return op.Mode() == ModeFilter }
