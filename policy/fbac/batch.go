package fbac

import (
	"context"
	"fmt"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// Filter implements policy.Filterer. Work that depends only on the identity
// is done once (the cached view), and work that depends only on a catalog or
// schema is done once per distinct name, so a batch costs one pass over its
// items.
func (s *Source) Filter(_ context.Context, req *policy.Request, out *policy.BatchVerdict) error {
	p := s.p
	v := p.viewFor(req.Subject.User, req.Subject.Groups)
	items := req.Action.FilterResources
	set := func(i int, ok bool, rule string) {
		if ok {
			out.Allow[i] = true
		}
		if out.Reasons != nil && (ok || rule != "") {
			out.Reasons[i] = policy.Reason{Rule: rule}
		}
	}
	switch req.Op {
	case trino.OpFilterCatalogs:
		for i := range items {
			ok, rule := v.anyCatalogAccess(items[i].Catalog.Name)
			set(i, ok, rule)
		}
	case trino.OpFilterSchemas:
		for i := range items {
			sc := items[i].Schema
			ok, rule := v.anySchemaAccess(sc.CatalogName, sc.SchemaName)
			set(i, ok, rule)
		}
	case trino.OpFilterTables:
		m := newSchemaMemo(v)
		for i := range items {
			t := items[i].Table
			e := m.get(t.CatalogName, t.SchemaName)
			if e.owner {
				set(i, true, e.ownerRule)
				continue
			}
			if !e.readOnly {
				set(i, false, e.catalogRule)
				continue
			}
			if t.SchemaName == informationSchema {
				set(i, true, "information_schema")
				continue
			}
			ok, rule := false, ""
			for _, r := range e.tables {
				if matchOpt(r.table, t.TableName) {
					ok, rule = r.privs != 0, r.name
					break
				}
			}
			set(i, ok, rule)
		}
	case trino.OpFilterColumns:
		if len(items) == 0 {
			return nil
		}
		t := items[0].Table
		keep, rule := v.filterColumns(t)
		for i := range t.Columns {
			set(i, keep(i), rule)
		}
	case trino.OpFilterFunctions:
		m := newSchemaMemo(v)
		for i := range items {
			f := items[i].Function
			if e := m.get(f.CatalogName, f.SchemaName); e.owner {
				set(i, true, e.ownerRule)
				continue
			}
			ok, rule := v.function(v.functions, f.CatalogName, f.SchemaName, f.FunctionName, privExecute|privGrantExecute)
			set(i, ok, rule)
		}
	case trino.OpFilterViewQueryOwnedBy:
		for i := range items {
			ok, rule := p.query(v, items[i].User.User, true, queryView)
			set(i, ok, rule)
		}
	default:
		return fmt.Errorf("rules source cannot filter operation %s", req.Action.Operation)
	}
	return nil
}

// schemaMemo caches, per catalog and schema of one request, the results that
// do not depend on the table: schema ownership, read-only catalog access and
// the table rules whose catalog and schema patterns match.
type schemaMemo struct {
	v       *view
	entries map[[2]string]*schemaEntry
	last    *schemaEntry
	lastKey [2]string
}

type schemaEntry struct {
	owner       bool
	ownerRule   string
	readOnly    bool
	catalogRule string
	tables      []*tableRule
}

func newSchemaMemo(v *view) *schemaMemo {
	return &schemaMemo{v: v, entries: map[[2]string]*schemaEntry{}}
}

func (m *schemaMemo) get(catalog, schema string) *schemaEntry {
	k := [2]string{catalog, schema}
	if m.last != nil && m.lastKey == k {
		return m.last
	}
	e, ok := m.entries[k]
	if !ok {
		e = &schemaEntry{}
		e.owner, e.ownerRule = m.v.schemaOwner(catalog, schema)
		e.readOnly, e.catalogRule = m.v.catalogAccess(catalog, modeReadOnly)
		if e.readOnly {
			for _, r := range m.v.tables {
				if matchOpt(r.cat, catalog) && matchOpt(r.schema, schema) {
					e.tables = append(e.tables, r)
				}
			}
		}
		m.entries[k] = e
	}
	m.last, m.lastKey = e, k
	return e
}

// RowFilters implements policy.RowFilterer: the first matching table rule's
// filter, if it has one; none for information_schema. A first matching rule
// without a filter shadows later rules that have one.
func (s *Source) RowFilters(_ context.Context, req *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	t := req.Action.Resource.Table
	if t.SchemaName == informationSchema {
		return nil, policy.Reason{}, nil
	}
	v := s.p.viewFor(req.Subject.User, req.Subject.Groups)
	r := v.firstTableRule(t.CatalogName, t.SchemaName, t.TableName)
	if r == nil || r.filter == nil {
		return nil, policy.Reason{}, nil
	}
	return []trino.ViewExpression{*r.filter}, policy.Reason{Rule: r.name}, nil
}

// ColumnMasks implements policy.Masker: each column's mask comes from the
// first table rule that matches its table.
func (s *Source) ColumnMasks(_ context.Context, req *policy.Request, cols []*trino.Column, out []policy.Mask) error {
	v := s.p.viewFor(req.Subject.User, req.Subject.Groups)
	var last *trino.Column
	var r *tableRule
	for i, c := range cols {
		if c.SchemaName == informationSchema {
			continue
		}
		if last == nil || last.CatalogName != c.CatalogName || last.SchemaName != c.SchemaName || last.TableName != c.TableName {
			r = v.firstTableRule(c.CatalogName, c.SchemaName, c.TableName)
			last = c
		}
		if r == nil {
			continue
		}
		if m, ok := r.masks[c.ColumnName]; ok {
			out[i] = policy.Mask{Set: true, ViewExpression: m, Reason: policy.Reason{Rule: r.name}}
		}
	}
	return nil
}

func describeCheck(op trino.Operation) string {
	switch op {
	case trino.OpExecuteQuery:
		return "first matching query rule without queryOwner must allow execute"
	case trino.OpViewQueryOwnedBy, trino.OpFilterViewQueryOwnedBy:
		return "first matching query rule must allow view for the owner"
	case trino.OpKillQueryOwnedBy:
		return "first matching query rule must allow kill for the owner"
	case trino.OpReadSystemInformation, trino.OpWriteSystemInformation:
		return "first matching system_information rule must allow the access"
	case trino.OpImpersonateUser:
		return "first impersonation rule matching both users decides"
	case trino.OpAccessCatalog:
		return "first matching catalog rule must grant read-only or more"
	case trino.OpCreateCatalog, trino.OpDropCatalog:
		return "first matching catalog rule must grant owner"
	case trino.OpShowSchemas, trino.OpFilterCatalogs:
		return "catalog owner, or read-only access and some rule granting something in the catalog"
	case trino.OpShowTables, trino.OpShowFunctions, trino.OpFilterSchemas:
		return "read-only catalog access and some rule granting something in the schema"
	case trino.OpCreateSchema, trino.OpDropSchema, trino.OpShowCreateSchema, trino.OpRenameSchema:
		return "catalog access all and the first matching schema rule has owner"
	case trino.OpSetSchemaAuthorization:
		return "schema owner, and the first authorization rule matching caller and grantee allows"
	case trino.OpSetTableAuthorization, trino.OpSetViewAuthorization:
		return "OWNERSHIP on the table, and the first authorization rule matching caller and grantee allows"
	case trino.OpSelectFromColumns:
		return "first matching table rule has SELECT or GRANT_SELECT and denies none of the columns"
	case trino.OpCreateViewWithSelectFromColumns:
		return "catalog access all; first matching table rule allows the columns and has GRANT_SELECT"
	case trino.OpInsertIntoTable:
		return "first matching table rule has INSERT"
	case trino.OpDeleteFromTable, trino.OpTruncateTable:
		return "first matching table rule has DELETE"
	case trino.OpUpdateTableColumns, trino.OpRefreshMaterializedView:
		return "first matching table rule has UPDATE"
	case trino.OpShowColumns, trino.OpFilterTables, trino.OpFilterColumns:
		return "first matching table rule has any privilege (or schema owner)"
	case trino.OpSetSystemSessionProperty:
		return "first matching system session property rule allows"
	case trino.OpSetCatalogSessionProperty:
		return "read-only catalog access and the first matching catalog session property rule allows"
	case trino.OpExecuteProcedure:
		return "first matching procedure rule has EXECUTE or GRANT_EXECUTE"
	case trino.OpExecuteFunction, trino.OpFilterFunctions:
		return "first matching function rule has EXECUTE or GRANT_EXECUTE"
	case trino.OpCreateViewWithExecuteFunction:
		return "first matching function rule has GRANT_EXECUTE"
	case trino.OpCreateFunction, trino.OpDropFunction, trino.OpShowCreateFunction:
		return "first matching function rule has OWNERSHIP"
	case trino.OpExecuteTableProcedure:
		return "always allowed"
	case trino.OpUnknown:
		return "unknown operation"
	}
	return "first matching table rule has OWNERSHIP"
}
