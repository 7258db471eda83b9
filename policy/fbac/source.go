package fbac

import (
	"context"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// SourceName is the name of the rules.json source in explanations.
const SourceName = "rules"

// Source makes a Policy a policy.Source. It allows or abstains, never
// vetoes: rules.json grants, and the absence of a grant is Trino's denial.
type Source struct {
	p *Policy
}

var (
	_ policy.Authorizer  = (*Source)(nil)
	_ policy.Filterer    = (*Source)(nil)
	_ policy.RowFilterer = (*Source)(nil)
	_ policy.Masker      = (*Source)(nil)
)

// NewSource returns the source for a compiled policy.
func NewSource(p *Policy) *Source { return &Source{p: p} }

// Name implements policy.Source.
func (s *Source) Name() string { return SourceName }

func verdict(ok bool, rule string) policy.Verdict {
	if ok {
		return policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: rule}}
	}
	return policy.Verdict{Effect: policy.Abstain, Reason: policy.Reason{Rule: rule}}
}

// Authorize implements policy.Authorizer with FileBasedSystemAccessControl's
// semantics for each operation.
func (s *Source) Authorize(_ context.Context, req *policy.Request) (policy.Verdict, error) {
	ok, rule, err := s.check(req)
	if err != nil {
		return policy.Verdict{}, err
	}
	v := verdict(ok, rule)
	if req.Explain {
		v.Reason.Message = describeCheck(req.Op)
	}
	return v, nil
}

func (s *Source) check(req *policy.Request) (bool, string, error) {
	p := s.p
	u := &req.Subject
	v := p.viewFor(u.User, u.Groups)
	a := &req.Action
	res := a.Resource
	switch req.Op {
	case trino.OpExecuteQuery:
		ok, rule := p.query(v, "", false, queryExecute)
		return ok, rule, nil
	case trino.OpViewQueryOwnedBy, trino.OpFilterViewQueryOwnedBy:
		ok, rule := p.query(v, res.User.User, true, queryView)
		return ok, rule, nil
	case trino.OpKillQueryOwnedBy:
		ok, rule := p.query(v, res.User.User, true, queryKill)
		return ok, rule, nil
	case trino.OpReadSystemInformation:
		ok, rule := p.systemInformation(u.User, sysInfoRead)
		return ok, rule, nil
	case trino.OpWriteSystemInformation:
		ok, rule := p.systemInformation(u.User, sysInfoWrite)
		return ok, rule, nil
	case trino.OpImpersonateUser:
		return p.impersonate(u.User, res.User.User)
	case trino.OpSetSystemSessionProperty:
		ok, rule := v.sessionProperty(res.SystemSessionProperty.Name)
		return ok, rule, nil
	case trino.OpAccessCatalog:
		ok, rule := v.catalogAccess(res.Catalog.Name, modeReadOnly)
		return ok, rule, nil
	case trino.OpCreateCatalog, trino.OpDropCatalog:
		ok, rule := v.catalogAccess(res.Catalog.Name, modeOwner)
		return ok, rule, nil
	case trino.OpShowSchemas, trino.OpFilterCatalogs:
		ok, rule := v.anyCatalogAccess(res.Catalog.Name)
		return ok, rule, nil
	case trino.OpCreateSchema, trino.OpDropSchema, trino.OpShowCreateSchema:
		ok, rule := v.schemaOwner(res.Schema.CatalogName, res.Schema.SchemaName)
		return ok, rule, nil
	case trino.OpRenameSchema:
		ok, rule := v.schemaOwner(res.Schema.CatalogName, res.Schema.SchemaName)
		if !ok {
			return false, rule, nil
		}
		// The new name stays in the same catalog.
		ok, rule = v.schemaOwner(res.Schema.CatalogName, a.TargetResource.Schema.SchemaName)
		return ok, rule, nil
	case trino.OpSetSchemaAuthorization:
		ok, rule := v.schemaOwner(res.Schema.CatalogName, res.Schema.SchemaName)
		if !ok {
			return false, rule, nil
		}
		ok, rule = p.authorize(u.User, u.Groups, a.Grantee.Type, a.Grantee.Name)
		return ok, rule, nil
	case trino.OpShowTables, trino.OpShowFunctions, trino.OpFilterSchemas:
		ok, rule := v.anySchemaAccess(res.Schema.CatalogName, res.Schema.SchemaName)
		return ok, rule, nil
	case trino.OpShowCreateTable, trino.OpDropTable, trino.OpSetTableComment, trino.OpSetViewComment,
		trino.OpSetColumnComment, trino.OpAddColumn, trino.OpAlterColumn, trino.OpDropColumn, trino.OpRenameColumn,
		trino.OpCreateView, trino.OpDropView, trino.OpDropMaterializedView, trino.OpCreateTable,
		trino.OpCreateMaterializedView, trino.OpSetTableProperties, trino.OpSetMaterializedViewProperties:
		t := res.Table
		ok, rule := v.tablePriv(t.CatalogName, t.SchemaName, t.TableName, privOwnership)
		return ok, rule, nil
	case trino.OpShowColumns:
		t := res.Table
		ok, rule := v.anyTablePermission(t.CatalogName, t.SchemaName, t.TableName)
		return ok, rule, nil
	case trino.OpInsertIntoTable:
		t := res.Table
		ok, rule := v.tablePriv(t.CatalogName, t.SchemaName, t.TableName, privInsert)
		return ok, rule, nil
	case trino.OpDeleteFromTable, trino.OpTruncateTable:
		t := res.Table
		ok, rule := v.tablePriv(t.CatalogName, t.SchemaName, t.TableName, privDelete)
		return ok, rule, nil
	case trino.OpUpdateTableColumns, trino.OpRefreshMaterializedView:
		t := res.Table
		ok, rule := v.tablePriv(t.CatalogName, t.SchemaName, t.TableName, privUpdate)
		return ok, rule, nil
	case trino.OpSelectFromColumns:
		t := res.Table
		ok, rule := v.selectColumns(t.CatalogName, t.SchemaName, t.TableName, t.Columns)
		return ok, rule, nil
	case trino.OpCreateViewWithSelectFromColumns:
		t := res.Table
		ok, rule := v.createViewWithSelect(t.CatalogName, t.SchemaName, t.TableName, t.Columns)
		return ok, rule, nil
	case trino.OpRenameTable, trino.OpRenameView, trino.OpRenameMaterializedView:
		t, n := res.Table, a.TargetResource.Table
		ok, rule := v.tablePriv(t.CatalogName, t.SchemaName, t.TableName, privOwnership)
		if !ok {
			return false, rule, nil
		}
		ok, rule = v.tablePriv(n.CatalogName, n.SchemaName, n.TableName, privOwnership)
		return ok, rule, nil
	case trino.OpSetTableAuthorization, trino.OpSetViewAuthorization:
		t := res.Table
		ok, rule := v.tablePriv(t.CatalogName, t.SchemaName, t.TableName, privOwnership)
		if !ok {
			return false, rule, nil
		}
		ok, rule = p.authorize(u.User, u.Groups, a.Grantee.Type, a.Grantee.Name)
		return ok, rule, nil
	case trino.OpFilterTables:
		t := res.Table
		if ok, rule := v.schemaOwner(t.CatalogName, t.SchemaName); ok {
			return true, rule, nil
		}
		ok, rule := v.anyTablePermission(t.CatalogName, t.SchemaName, t.TableName)
		return ok, rule, nil
	case trino.OpFilterColumns:
		keep, rule := v.filterColumns(res.Table)
		return keep(0) && len(res.Table.Columns) > 0, rule, nil
	case trino.OpSetCatalogSessionProperty:
		c := res.CatalogSessionProperty
		ok, rule := v.catalogSessionProperty(c.CatalogName, c.PropertyName)
		return ok, rule, nil
	case trino.OpExecuteProcedure:
		f := res.Function
		ok, rule := v.function(v.procedures, f.CatalogName, f.SchemaName, f.FunctionName, privExecute|privGrantExecute)
		return ok, rule, nil
	case trino.OpCreateFunction, trino.OpDropFunction, trino.OpShowCreateFunction:
		f := res.Function
		ok, rule := v.function(v.functions, f.CatalogName, f.SchemaName, f.FunctionName, privOwnership)
		return ok, rule, nil
	case trino.OpExecuteFunction:
		f := res.Function
		ok, rule := v.function(v.functions, f.CatalogName, f.SchemaName, f.FunctionName, privExecute|privGrantExecute)
		return ok, rule, nil
	case trino.OpCreateViewWithExecuteFunction:
		f := res.Function
		ok, rule := v.function(v.functions, f.CatalogName, f.SchemaName, f.FunctionName, privGrantExecute)
		return ok, rule, nil
	case trino.OpExecuteTableProcedure:
		return true, "table procedures (always allowed by file-based rules)", nil
	case trino.OpFilterFunctions:
		f := res.Function
		if ok, rule := v.schemaOwner(f.CatalogName, f.SchemaName); ok {
			return true, rule, nil
		}
		ok, rule := v.function(v.functions, f.CatalogName, f.SchemaName, f.FunctionName, privExecute|privGrantExecute)
		return ok, rule, nil
	}
	return false, "", nil
}

// filterColumns is FileBasedSystemAccessControl.filterColumns for one table:
// it returns which of the table's columns are kept.
func (v *view) filterColumns(t *trino.Table) (keep func(i int) bool, rule string) {
	none := func(int) bool { return false }
	all := func(int) bool { return true }
	ok, rule := v.anyTablePermission(t.CatalogName, t.SchemaName, t.TableName)
	if !ok {
		return none, rule
	}
	if t.SchemaName == informationSchema {
		return all, rule
	}
	r := v.firstTableRule(t.CatalogName, t.SchemaName, t.TableName)
	if r == nil || r.privs == 0 {
		return none, rule
	}
	if r.privs&^(privSelect|privGrantSelect) != 0 {
		return all, r.name
	}
	return func(i int) bool {
		_, bad := r.restricted[t.Columns[i]]
		return !bad
	}, r.name
}
