package rego

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// The input document is built as an ast.Value straight from the decoded
// request, without a JSON round trip. It reproduces the plugin's JSON
// exactly: fields the plugin omits (nil pointers, nil slices and maps, empty
// optional strings) are left out, and empty collections it sends ([] and {})
// are kept, because the decoder keeps them as non-nil empty values.

// Object keys, built once and shared by every input. Terms are never
// modified by evaluation, so sharing them is safe.
var (
	kContext                = ast.StringTerm("context")
	kIdentity               = ast.StringTerm("identity")
	kUser                   = ast.StringTerm("user")
	kGroups                 = ast.StringTerm("groups")
	kSoftwareStack          = ast.StringTerm("softwareStack")
	kTrinoVersion           = ast.StringTerm("trinoVersion")
	kProperties             = ast.StringTerm("properties")
	kQueryID                = ast.StringTerm("queryId")
	kAction                 = ast.StringTerm("action")
	kOperation              = ast.StringTerm("operation")
	kResource               = ast.StringTerm("resource")
	kFilterResources        = ast.StringTerm("filterResources")
	kTargetResource         = ast.StringTerm("targetResource")
	kGrantee                = ast.StringTerm("grantee")
	kSystemSessionProperty  = ast.StringTerm("systemSessionProperty")
	kCatalogSessionProperty = ast.StringTerm("catalogSessionProperty")
	kFunction               = ast.StringTerm("function")
	kCatalog                = ast.StringTerm("catalog")
	kSchema                 = ast.StringTerm("schema")
	kTable                  = ast.StringTerm("table")
	kColumn                 = ast.StringTerm("column")
	kName                   = ast.StringTerm("name")
	kCatalogName            = ast.StringTerm("catalogName")
	kPropertyName           = ast.StringTerm("propertyName")
	kSchemaName             = ast.StringTerm("schemaName")
	kFunctionName           = ast.StringTerm("functionName")
	kTableName              = ast.StringTerm("tableName")
	kColumns                = ast.StringTerm("columns")
	kColumnName             = ast.StringTerm("columnName")
	kColumnType             = ast.StringTerm("columnType")
	kType                   = ast.StringTerm("type")
	kWarden                 = ast.StringTerm("warden")
	kCluster                = ast.StringTerm("cluster")
	kAttributes             = ast.StringTerm("attributes")
	kIndex                  = ast.StringTerm("index")
	kExpression             = ast.StringTerm("expression")
	kViewExpression         = ast.StringTerm("viewExpression")
)

// opTerms holds the operation names as terms, indexed by trino.Operation.
var opTerms = func() []*ast.Term {
	ops := trino.Operations()
	ts := make([]*ast.Term, len(ops)+1)
	for _, op := range ops {
		ts[op] = ast.StringTerm(op.String())
	}
	return ts
}()

var opGetColumnMask = ast.StringTerm(trino.OpGetColumnMask.String())

func operationTerm(a *trino.Action, op trino.Operation) *ast.Term {
	if int(op) < len(opTerms) && opTerms[op] != nil && op.String() == a.Operation {
		return opTerms[op]
	}
	return ast.StringTerm(a.Operation)
}

// converter builds input values. It allocates string terms in blocks, and
// remembers the last catalog and schema names it converted so that a batch
// naming the same ones thousands of times shares their terms.
type converter struct {
	terms           []ast.Term
	block           int
	catalog, schema strTerm
}

type strTerm struct {
	s string
	t *ast.Term
}

// str returns a string term.
func (c *converter) str(s string) *ast.Term {
	if len(c.terms) == 0 {
		// Blocks grow from 16 terms (a single check needs about that
		// many) to 1,024 (for batches of thousands of items).
		c.block = min(max(2*c.block, 16), 1024)
		c.terms = make([]ast.Term, c.block)
	}
	t := &c.terms[0]
	c.terms = c.terms[1:]
	t.Value = ast.String(s)
	return t
}

func (c *converter) catalogName(s string) *ast.Term { return c.cached(&c.catalog, s) }
func (c *converter) schemaName(s string) *ast.Term  { return c.cached(&c.schema, s) }

func (c *converter) cached(st *strTerm, s string) *ast.Term {
	if st.t == nil || st.s != s {
		st.s, st.t = s, c.str(s)
	}
	return st.t
}

// stringArray converts a string slice; nil gives nil, so that the caller
// leaves the field out.
func (c *converter) stringArray(ss []string) *ast.Term {
	if ss == nil {
		return nil
	}
	if len(ss) == 0 {
		return emptyArray
	}
	ts := make([]*ast.Term, len(ss))
	for i, s := range ss {
		ts[i] = c.str(s)
	}
	return ast.NewTerm(ast.NewArray(ts...))
}

// rawJSON converts a raw JSON document (table or schema properties).
func rawJSON(raw []byte) (*ast.Term, error) {
	v, err := ast.ValueFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("converting properties to Rego: %w", err)
	}
	return ast.NewTerm(v), nil
}

// object builds an object from key-value pairs, skipping pairs whose value
// is nil.
func object(kvs ...[2]*ast.Term) *ast.Term {
	n := 0
	for _, kv := range kvs {
		if kv[1] != nil {
			kvs[n] = kv
			n++
		}
	}
	return ast.NewTerm(ast.NewObject(kvs[:n]...))
}

func (c *converter) optString(s string) *ast.Term {
	if s == "" {
		return nil
	}
	return c.str(s)
}

// inputValue builds the whole input document of req. action, when non-nil,
// replaces the request's own action (mask requests rebuild it from the
// columns being asked for); columns, when non-nil, becomes
// input.warden.columns.
func inputValue(req *policy.Request, action, columns *ast.Term) (ast.Value, error) {
	var c converter
	var err error
	if action == nil {
		action, err = c.action(&req.Action, req.Op)
		if err != nil {
			return nil, err
		}
	}
	// Without directory groups, input.warden.groups is the identity's list:
	// share its term.
	groups := c.stringArray(req.Context.Identity.Groups)
	wgroups := groups
	if !slices.Equal(req.Subject.Groups, req.Context.Identity.Groups) || wgroups == nil {
		wgroups = c.stringArray(req.Subject.Groups)
	}
	w, err := c.warden(req, wgroups, columns)
	if err != nil {
		return nil, err
	}
	return ast.NewObject(
		[2]*ast.Term{kContext, c.context(&req.Context, groups)},
		[2]*ast.Term{kAction, action},
		[2]*ast.Term{kWarden, w},
	), nil
}

// pluginInput builds the input exactly as the plugin sends it, without
// input.warden; tests compare it with the plugin's JSON.
func pluginInput(in *trino.Request) (ast.Value, error) {
	var c converter
	action, err := c.action(&in.Action, in.Op)
	if err != nil {
		return nil, err
	}
	return ast.NewObject(
		[2]*ast.Term{kContext, c.context(&in.Context, c.stringArray(in.Context.Identity.Groups))},
		[2]*ast.Term{kAction, action},
	), nil
}

// context builds input.context; groups is the identity's groups, converted
// by the caller.
func (c *converter) context(x *trino.Context, groups *ast.Term) *ast.Term {
	var props *ast.Term
	if x.Properties != nil {
		props = emptyObject
		if len(x.Properties) > 0 {
			kvs := make([][2]*ast.Term, 0, len(x.Properties))
			for k, v := range x.Properties {
				kvs = append(kvs, [2]*ast.Term{c.str(k), c.str(v)})
			}
			props = ast.NewTerm(ast.NewObject(kvs...))
		}
	}
	return object(
		[2]*ast.Term{kIdentity, object(
			[2]*ast.Term{kUser, c.str(x.Identity.User)},
			[2]*ast.Term{kGroups, groups},
		)},
		[2]*ast.Term{kSoftwareStack, object(
			[2]*ast.Term{kTrinoVersion, c.str(x.SoftwareStack.TrinoVersion)},
		)},
		[2]*ast.Term{kProperties, props},
		[2]*ast.Term{kQueryID, c.optString(x.QueryID)},
	)
}

func (c *converter) action(a *trino.Action, op trino.Operation) (*ast.Term, error) {
	var res, target, fr, grantee *ast.Term
	var err error
	if a.Resource != nil {
		if res, err = c.resource(a.Resource); err != nil {
			return nil, err
		}
	}
	if a.FilterResources != nil {
		ts := make([]*ast.Term, len(a.FilterResources))
		for i := range a.FilterResources {
			if ts[i], err = c.resource(&a.FilterResources[i]); err != nil {
				return nil, err
			}
		}
		fr = ast.NewTerm(ast.NewArray(ts...))
	}
	if a.TargetResource != nil {
		if target, err = c.resource(a.TargetResource); err != nil {
			return nil, err
		}
	}
	if g := a.Grantee; g != nil {
		grantee = object(
			[2]*ast.Term{kType, c.str(g.Type)},
			[2]*ast.Term{kName, c.str(g.Name)},
		)
	}
	return object(
		[2]*ast.Term{kOperation, operationTerm(a, op)},
		[2]*ast.Term{kResource, res},
		[2]*ast.Term{kFilterResources, fr},
		[2]*ast.Term{kTargetResource, target},
		[2]*ast.Term{kGrantee, grantee},
	), nil
}

func (c *converter) resource(r *trino.Resource) (*ast.Term, error) {
	// Nearly every resource has one field; build that case without the
	// generic path.
	var kv [8][2]*ast.Term
	n := 0
	if u := r.User; u != nil {
		kv[n] = [2]*ast.Term{kUser, object(
			[2]*ast.Term{kUser, c.str(u.User)},
			[2]*ast.Term{kGroups, c.stringArray(u.Groups)},
		)}
		n++
	}
	if p := r.SystemSessionProperty; p != nil {
		kv[n] = [2]*ast.Term{kSystemSessionProperty, object([2]*ast.Term{kName, c.str(p.Name)})}
		n++
	}
	if p := r.CatalogSessionProperty; p != nil {
		kv[n] = [2]*ast.Term{kCatalogSessionProperty, object(
			[2]*ast.Term{kCatalogName, c.catalogName(p.CatalogName)},
			[2]*ast.Term{kPropertyName, c.str(p.PropertyName)},
		)}
		n++
	}
	if f := r.Function; f != nil {
		var cat, sch *ast.Term
		if f.CatalogName != "" {
			cat = c.catalogName(f.CatalogName)
		}
		if f.SchemaName != "" {
			sch = c.schemaName(f.SchemaName)
		}
		kv[n] = [2]*ast.Term{kFunction, object(
			[2]*ast.Term{kCatalogName, cat},
			[2]*ast.Term{kSchemaName, sch},
			[2]*ast.Term{kFunctionName, c.str(f.FunctionName)},
		)}
		n++
	}
	if cat := r.Catalog; cat != nil {
		kv[n] = [2]*ast.Term{kCatalog, object([2]*ast.Term{kName, c.catalogName(cat.Name)})}
		n++
	}
	if s := r.Schema; s != nil {
		var props *ast.Term
		if s.Properties != nil {
			var err error
			if props, err = rawJSON(s.Properties); err != nil {
				return nil, err
			}
		}
		kv[n] = [2]*ast.Term{kSchema, object(
			[2]*ast.Term{kCatalogName, c.catalogName(s.CatalogName)},
			[2]*ast.Term{kSchemaName, c.schemaName(s.SchemaName)},
			[2]*ast.Term{kProperties, props},
		)}
		n++
	}
	if t := r.Table; t != nil {
		var props *ast.Term
		if t.Properties != nil {
			var err error
			if props, err = rawJSON(t.Properties); err != nil {
				return nil, err
			}
		}
		kv[n] = [2]*ast.Term{kTable, object(
			[2]*ast.Term{kCatalogName, c.catalogName(t.CatalogName)},
			[2]*ast.Term{kSchemaName, c.schemaName(t.SchemaName)},
			[2]*ast.Term{kTableName, c.str(t.TableName)},
			[2]*ast.Term{kColumns, c.stringArray(t.Columns)},
			[2]*ast.Term{kProperties, props},
		)}
		n++
	}
	if col := r.Column; col != nil {
		kv[n] = [2]*ast.Term{kColumn, c.column(col)}
		n++
	}
	return ast.NewTerm(ast.NewObject(kv[:n]...)), nil
}

func (c *converter) column(col *trino.Column) *ast.Term {
	return object(
		[2]*ast.Term{kCatalogName, c.catalogName(col.CatalogName)},
		[2]*ast.Term{kSchemaName, c.schemaName(col.SchemaName)},
		[2]*ast.Term{kTableName, c.str(col.TableName)},
		[2]*ast.Term{kColumnName, c.str(col.ColumnName)},
		[2]*ast.Term{kColumnType, c.str(col.ColumnType)},
	)
}

// maskAction builds the action of a GetColumnMask request for cols: with
// one resource.column when single is true, else with one {column: …} per
// column in filterResources (as the batchColumnMasks endpoint sends it).
func maskAction(cols []*trino.Column, single bool) *ast.Term {
	var c converter
	if single {
		return object(
			[2]*ast.Term{kOperation, opGetColumnMask},
			[2]*ast.Term{kResource, object([2]*ast.Term{kColumn, c.column(cols[0])})},
		)
	}
	ts := make([]*ast.Term, len(cols))
	for i, col := range cols {
		ts[i] = object([2]*ast.Term{kColumn, c.column(col)})
	}
	return object(
		[2]*ast.Term{kOperation, opGetColumnMask},
		[2]*ast.Term{kFilterResources, ast.NewTerm(ast.NewArray(ts...))},
	)
}

// wardenColumns builds input.warden.columns for a mask request: one object
// per column with its name, type, catalog, schema and table, and its index
// in the request (into filterResources; 0 for the columnMask endpoint).
func wardenColumns(req *policy.Request, cols []*trino.Column) *ast.Term {
	var c converter
	ts := make([]*ast.Term, len(cols))
	fr := req.Action.FilterResources
	next := 0
	for i, col := range cols {
		// The engine passes the columns in request order, so each one is
		// found after the previous one.
		idx := i
		for j := next; j < len(fr); j++ {
			if fr[j].Column == col {
				idx, next = j, j+1
				break
			}
		}
		ts[i] = object(
			[2]*ast.Term{kName, c.str(col.ColumnName)},
			[2]*ast.Term{kType, c.str(col.ColumnType)},
			[2]*ast.Term{kIndex, ast.InternedTerm(idx)},
			[2]*ast.Term{kCatalog, c.catalogName(col.CatalogName)},
			[2]*ast.Term{kSchema, c.schemaName(col.SchemaName)},
			[2]*ast.Term{kTable, c.str(col.TableName)},
		)
	}
	return ast.NewTerm(ast.NewArray(ts...))
}

// Empty values, shared by every input: input.warden.attributes of a user
// without any, empty lists and properties.
var (
	emptyObject = ast.NewTerm(ast.NewObject())
	emptyArray  = ast.NewTerm(ast.NewArray())
)

// warden builds input.warden; groups is the subject's groups, converted by
// the caller.
func (c *converter) warden(req *policy.Request, groups, columns *ast.Term) (*ast.Term, error) {
	attrs := emptyObject
	if req.Subject.Attributes != nil {
		v, err := ast.InterfaceToValue(req.Subject.Attributes)
		if err != nil {
			return nil, fmt.Errorf("converting the attributes of %q to Rego: %w", req.Subject.User, err)
		}
		attrs = ast.NewTerm(v)
	}
	if groups == nil {
		groups = emptyArray
	}
	return object(
		[2]*ast.Term{kCluster, c.str(req.Cluster)},
		[2]*ast.Term{kUser, c.str(req.Subject.User)},
		[2]*ast.Term{kGroups, groups},
		[2]*ast.Term{kAttributes, attrs},
		[2]*ast.Term{kColumns, columns},
	), nil
}
