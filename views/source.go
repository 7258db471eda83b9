package views

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// SourceName is the policy source's name in explanations and metrics.
const SourceName = "views"

// Source is the governed catalog as a policy source. It is the authority
// inside the governed catalog: it allows subscribed users to see and query
// their views and vetoes everything else there (so no other source can
// open a view to a non-subscriber, or let anyone but the service principal
// create, alter or drop anything in the catalog). Outside it, it only
// gives the service principal what its definer views need on registered
// sources, and abstains on everything else.
//
// Its Catalog is swapped as the store changes (Set); until the first one it
// answers as an empty governed catalog.
type Source struct {
	cat  atomic.Pointer[Catalog]
	opts Options
}

var (
	_ policy.Authorizer  = (*Source)(nil)
	_ policy.Filterer    = (*Source)(nil)
	_ policy.RowFilterer = (*Source)(nil)
	_ policy.Masker      = (*Source)(nil)
	_ policy.DataPolicy  = (*Source)(nil)
)

// NewSource returns a source with an empty catalog.
func NewSource(opts Options) *Source {
	if opts.Catalog == "" {
		opts.Catalog = DefaultCatalog
	}
	s := &Source{opts: opts}
	empty, _ := Compile(emptyGoverned, opts)
	s.cat.Store(empty)
	return s
}

// Set swaps in a newly compiled catalog.
func (s *Source) Set(c *Catalog) { s.cat.Store(c) }

// Catalog returns the current catalog.
func (s *Source) Catalog() *Catalog { return s.cat.Load() }

// Name implements policy.Source.
func (s *Source) Name() string { return SourceName }

// DataPolicy marks the source's masks as data-source mask policies, which
// take precedence over OPA-compatible Rego and rules.json.
func (s *Source) DataPolicy() {}

// Reasons, prepared once so verdicts never allocate.
var (
	ruleService      = "service principal"
	ruleSubscribed   = "subscription"
	ruleNotSubscribe = "no subscription"
	ruleReadOnly     = "governed catalog is read-only"
	ruleUnknownView  = "no such governed view"
	ruleKeyIdentity  = "hash-mask key identity"
	ruleKeyTable     = "hash-mask keys are readable by the key identity only"
)

func allow(rule string) policy.Verdict {
	return policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: rule}}
}

func deny(rule string) policy.Verdict {
	return policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: rule}}
}

var abstain = policy.Verdict{}

// readOps are the operations a subscriber may perform on a view.
func readOp(op trino.Operation) bool {
	switch op {
	case trino.OpSelectFromColumns, trino.OpShowColumns, trino.OpShowCreateTable, trino.OpFilterColumns,
		trino.OpFilterTables, trino.OpGetRowFilters, trino.OpGetColumnMask:
		return true
	}
	return false
}

// metadataOp are the operations that only read metadata. Warden's service
// principal may perform them anywhere: registering a source reads its
// columns from information_schema, before any data access is granted.
func metadataOp(op trino.Operation) bool {
	switch op {
	case trino.OpAccessCatalog, trino.OpShowSchemas, trino.OpFilterCatalogs, trino.OpShowTables, trino.OpFilterSchemas,
		trino.OpShowColumns, trino.OpFilterTables, trino.OpFilterColumns:
		return true
	}
	return false
}

// sourceOp are the operations the service principal needs on a registered
// source for its definer views.
func sourceOp(op trino.Operation) bool {
	switch op {
	case trino.OpSelectFromColumns, trino.OpCreateViewWithSelectFromColumns, trino.OpShowColumns,
		trino.OpFilterColumns, trino.OpFilterTables, trino.OpShowCreateTable:
		return true
	}
	return false
}

// Authorize implements policy.Authorizer.
func (s *Source) Authorize(_ context.Context, req *policy.Request) (policy.Verdict, error) {
	c := s.cat.Load()
	sub := &req.Subject
	svc := c.opts.ServiceUser != "" && sub.User == c.opts.ServiceUser
	if req.Op == trino.OpExecuteQuery {
		if svc {
			return allow(ruleService), nil
		}
		return abstain, nil
	}
	res := req.Action.Resource
	if res == nil {
		return abstain, nil
	}
	if res.Table != nil && c.isKeyTable(res.Table) {
		// Hash-mask keys: only the identity the masks run as reads them,
		// whatever any other source says; nobody changes them through Trino.
		if c.opts.Keys.Identity == sub.User && (req.Op == trino.OpSelectFromColumns || metadataOp(req.Op)) {
			return allow(ruleKeyIdentity), nil
		}
		return deny(ruleKeyTable), nil
	}
	switch {
	case res.Catalog != nil && req.Op == trino.OpAccessCatalog && c.opts.Keys != nil && sub.User == c.opts.Keys.Identity &&
		strings.EqualFold(res.Catalog.Name, c.opts.Keys.Table.Catalog):
		return allow(ruleKeyIdentity), nil
	case res.Catalog != nil:
		return c.authorizeCatalog(req.Op, res.Catalog.Name, sub, svc), nil
	case res.Schema != nil:
		return c.authorizeSchema(req.Op, res.Schema.CatalogName, res.Schema.SchemaName, sub, svc), nil
	case res.Table != nil:
		t := res.Table
		return c.authorizeTable(req.Op, t.CatalogName, t.SchemaName, t.TableName, sub, svc), nil
	case res.Function != nil:
		if c.isGoverned(res.Function.CatalogName) && !svc {
			return deny(ruleReadOnly), nil
		}
	case res.CatalogSessionProperty != nil:
		if c.isGoverned(res.CatalogSessionProperty.CatalogName) && !svc {
			return deny(ruleReadOnly), nil
		}
	}
	return abstain, nil
}

// isKeyTable reports whether t is the table hash masks read their keys
// from.
func (c *Catalog) isKeyTable(t *trino.Table) bool {
	k := c.opts.Keys
	return k != nil && strings.EqualFold(t.CatalogName, k.Table.Catalog) && strings.EqualFold(t.SchemaName, k.Table.Schema) &&
		strings.EqualFold(t.TableName, k.Table.Name)
}

// subscribedAny reports whether the user may query some view, in schema
// when it is set.
func (c *Catalog) subscribedAny(sub *policy.Subject, schema string) bool {
	for _, v := range c.views {
		if (schema == "" || strings.EqualFold(v.name.Schema, schema)) && v.subscribed(sub) {
			return true
		}
	}
	return false
}

func (c *Catalog) authorizeCatalog(op trino.Operation, catalog string, sub *policy.Subject, svc bool) policy.Verdict {
	switch {
	case c.isGoverned(catalog):
		switch {
		case svc && op != trino.OpDropCatalog:
			return allow(ruleService)
		case op == trino.OpAccessCatalog || op == trino.OpShowSchemas || op == trino.OpFilterCatalogs:
			if c.subscribedAny(sub, "") {
				return allow(ruleSubscribed)
			}
			return deny(ruleNotSubscribe)
		}
		return deny(ruleReadOnly)
	case svc && metadataOp(op):
		return allow(ruleService)
	}
	return abstain
}

func (c *Catalog) authorizeSchema(op trino.Operation, catalog, schema string, sub *policy.Subject, svc bool) policy.Verdict {
	switch {
	case c.isGoverned(catalog):
		switch {
		case svc && op != trino.OpDropSchema && op != trino.OpRenameSchema && op != trino.OpSetSchemaAuthorization:
			return allow(ruleService)
		case op == trino.OpShowTables || op == trino.OpFilterSchemas:
			if c.subscribedAny(sub, schema) {
				return allow(ruleSubscribed)
			}
			return deny(ruleNotSubscribe)
		}
		return deny(ruleReadOnly)
	case svc && metadataOp(op):
		return allow(ruleService)
	}
	return abstain
}

func (c *Catalog) authorizeTable(op trino.Operation, catalog, schema, table string, sub *policy.Subject, svc bool) policy.Verdict {
	switch {
	case c.isGoverned(catalog):
		v := c.lookup(schema, table)
		switch {
		case svc:
			// The service principal creates, replaces, drops and reads the
			// views; it never hands ownership away.
			if op == trino.OpSetViewAuthorization || op == trino.OpSetTableAuthorization {
				return deny(ruleReadOnly)
			}
			return allow(ruleService)
		case !readOp(op):
			return deny(ruleReadOnly)
		case strings.EqualFold(schema, "information_schema"):
			// SHOW TABLES and the like query it; the filter operations
			// then show each subscriber their views only.
			if c.subscribedAny(sub, "") {
				return allow(ruleSubscribed)
			}
			return deny(ruleNotSubscribe)
		case v == nil:
			return deny(ruleUnknownView)
		case v.subscribed(sub):
			return allow(ruleSubscribed)
		}
		return deny(ruleNotSubscribe)
	case svc && (metadataOp(op) || op == trino.OpSelectFromColumns && strings.EqualFold(schema, "information_schema")):
		return allow(ruleService)
	case svc && sourceOp(op):
		if _, ok := c.sources[lower(catalog, schema, table)]; ok {
			return allow(ruleService)
		}
	}
	return abstain
}

// Filter implements policy.Filterer.
func (s *Source) Filter(_ context.Context, req *policy.Request, out *policy.BatchVerdict) error {
	c := s.cat.Load()
	sub := &req.Subject
	svc := c.opts.ServiceUser != "" && sub.User == c.opts.ServiceUser
	set := func(i int, v policy.Verdict) {
		switch v.Effect {
		case policy.Allow:
			out.Allow[i] = true
		case policy.Deny:
			out.Deny[i] = true
		}
		if out.Reasons != nil && v.Effect != policy.Abstain {
			out.Reasons[i] = v.Reason
		}
	}
	items := req.Action.FilterResources
	if req.Op == trino.OpFilterColumns {
		if len(items) == 0 || items[0].Table == nil {
			return nil
		}
		t := items[0].Table
		v := c.authorizeTable(trino.OpFilterColumns, t.CatalogName, t.SchemaName, t.TableName, sub, svc)
		if v.Effect == policy.Allow && c.isGoverned(t.CatalogName) && !svc {
			// Only the view's columns: a column it does not expose is
			// vetoed, though a view has no other columns to ask about.
			view := c.lookup(t.SchemaName, t.TableName)
			for i, col := range t.Columns {
				if _, ok := view.colIdx[strings.ToLower(col)]; ok {
					set(i, v)
				} else {
					set(i, deny(ruleUnknownView))
				}
			}
			return nil
		}
		for i := range t.Columns {
			set(i, v)
		}
		return nil
	}
	for i := range items {
		r := &items[i]
		switch {
		case r.Catalog != nil:
			set(i, c.authorizeCatalog(req.Op, r.Catalog.Name, sub, svc))
		case r.Schema != nil:
			set(i, c.authorizeSchema(req.Op, r.Schema.CatalogName, r.Schema.SchemaName, sub, svc))
		case r.Table != nil:
			set(i, c.authorizeTable(req.Op, r.Table.CatalogName, r.Table.SchemaName, r.Table.TableName, sub, svc))
		}
	}
	return nil
}

// RowFilters implements policy.RowFilterer: the user's row filters on a
// governed view. A user without a subscription gets a filter that keeps
// nothing, should a query reach here at all.
func (s *Source) RowFilters(_ context.Context, req *policy.Request) ([]trino.ViewExpression, policy.Reason, error) {
	c := s.cat.Load()
	res := req.Action.Resource
	if res == nil || res.Table == nil || !c.isGoverned(res.Table.CatalogName) || req.Subject.User == c.opts.ServiceUser ||
		strings.EqualFold(res.Table.SchemaName, "information_schema") {
		return nil, policy.Reason{}, nil
	}
	v := c.lookup(res.Table.SchemaName, res.Table.TableName)
	if v == nil || !v.subscribed(&req.Subject) {
		return []trino.ViewExpression{{Expression: "false"}}, policy.Reason{Rule: ruleNotSubscribe}, nil
	}
	f, err := v.rowFilters(&req.Subject)
	if err != nil {
		return nil, policy.Reason{}, err
	}
	return f, policy.Reason{Rule: "row policies"}, nil
}

// errUnknownColumn fails a mask request for a column the view does not have.
var errUnknownColumn = errors.New("column is not one of the governed view's columns")

// ColumnMasks implements policy.Masker: each column's mask for the user,
// from the highest-priority mask policy the user is not exempt from.
func (s *Source) ColumnMasks(_ context.Context, req *policy.Request, cols []*trino.Column, out []policy.Mask) error {
	c := s.cat.Load()
	if req.Subject.User == c.opts.ServiceUser {
		return nil
	}
	for i, col := range cols {
		if col == nil || !c.isGoverned(col.CatalogName) {
			continue
		}
		v := c.lookup(col.SchemaName, col.TableName)
		if v == nil {
			continue
		}
		idx, ok := v.colIdx[strings.ToLower(col.ColumnName)]
		if !ok {
			return errUnknownColumn
		}
		expr, reason, masked, err := v.mask(idx, &req.Subject)
		if err != nil {
			return err
		}
		if masked {
			out[i] = policy.Mask{Set: true, ViewExpression: expr, Reason: policy.Reason{Rule: reason}}
		}
	}
	return nil
}
