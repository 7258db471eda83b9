// Package views is Warden's governed catalog: registered source tables
// exposed as generated, policy-enforced views in a dedicated Trino catalog.
//
// A Catalog is the governed state compiled for decisions: which views
// exist, who is subscribed to each, and the masks and row filters each
// user gets. Source answers Trino's checks from it, the reconciler keeps
// Trino's views equal to it, and EffectiveSQL shows what a user runs.
//
// The views are SECURITY DEFINER views owned by Warden's service
// principal. Trino then checks the owner, not the querying user, against
// the source table, and evaluates the source's own row filters and masks
// for the owner. So the service principal gets exactly what it needs on
// registered sources and no filters or masks there, and every per-user mask
// and row filter attaches to the governed view, where Warden evaluates it
// for the querying user. Policies on a source do not carry through a
// definer view; docs/governed.md says so for operators.
package views

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views/sqlgen"
)

// DefaultCatalog is the governed catalog's default name.
const DefaultCatalog = "governed"

// Options configure a Catalog.
type Options struct {
	// Catalog is the Trino catalog that holds the views (default
	// DefaultCatalog). Nobody but ServiceUser may change anything in it.
	Catalog string
	// ServiceUser is Warden's principal in Trino: it owns the views and
	// may read the registered sources.
	ServiceUser string
	// Keys says where hash masks read their keys; nil refuses hash masks.
	Keys *sqlgen.KeyStore
}

// emptyGoverned is the governed state before anything is registered.
var emptyGoverned = store.Governed{}

// ErrNotSubscribed means a user may not query a view.
var ErrNotSubscribed = errors.New("no subscription to this view matches the user")

// Catalog is the compiled governed catalog. It is immutable and safe for
// concurrent use.
type Catalog struct {
	opts    Options
	views   map[string]*view // by lower-cased "schema.table"
	byID    map[int64]*view
	sources map[string]*view // by lower-cased "catalog.schema.table" of the source
	schemas map[string]bool  // lower-cased view schemas
}

type view struct {
	ds      store.Datasource
	name    sqlgen.QualifiedName // the view
	source  sqlgen.QualifiedName
	columns []sqlgen.Column // exposed, in order
	colIdx  map[string]int  // lower-cased name → index in columns
	masks   [][]maskRule    // per exposed column, highest priority first
	rows    []rowRule
	subs    []store.Subscription
}

type maskRule struct {
	policy *store.MaskPolicy
	reason string // "mask policy <name>", prepared once
	expr   trino.ViewExpression
	err    error // the mask cannot be compiled for this column: requests fail
}

type rowRule struct {
	name   string
	policy *sqlgen.CompiledRowPolicy
	err    error
}

func lower(parts ...string) string { return strings.ToLower(strings.Join(parts, ".")) }

// Compile builds a Catalog from the store's governed state. A data source
// whose columns or names cannot be used is an error; a mask or row policy
// that no longer compiles (a type changed since it was written) is kept as
// an error that fails the requests it applies to, never skipped.
func Compile(g store.Governed, opts Options) (*Catalog, error) {
	if opts.Catalog == "" {
		opts.Catalog = DefaultCatalog
	}
	c := &Catalog{opts: opts, views: map[string]*view{}, byID: map[int64]*view{}, sources: map[string]*view{},
		schemas: map[string]bool{}}
	for _, ds := range g.Datasources {
		v := &view{ds: ds, colIdx: map[string]int{},
			name:   sqlgen.QualifiedName{Catalog: strings.ToLower(opts.Catalog), Schema: strings.ToLower(ds.ViewSchema), Name: strings.ToLower(ds.ViewTable)},
			source: sqlgen.QualifiedName{Catalog: ds.SourceCatalog, Schema: ds.SourceSchema, Name: ds.SourceTable}}
		for _, col := range ds.Columns {
			if !col.Exposed {
				continue
			}
			t, err := sqlgen.ParseType(col.Type)
			if err != nil {
				return nil, fmt.Errorf("datasource %d column %s: %w", ds.ID, col.Name, err)
			}
			v.colIdx[strings.ToLower(col.Name)] = len(v.columns)
			v.columns = append(v.columns, sqlgen.Column{Name: col.Name, Type: t})
		}
		if len(v.columns) == 0 {
			return nil, fmt.Errorf("datasource %d exposes no column", ds.ID)
		}
		v.masks = make([][]maskRule, len(v.columns))
		key := lower(v.name.Schema, v.name.Name)
		if _, dup := c.views[key]; dup {
			return nil, fmt.Errorf("two data sources are named %s.%s", v.name.Schema, v.name.Name)
		}
		c.views[key] = v
		c.byID[ds.ID] = v
		c.sources[lower(ds.SourceCatalog, ds.SourceSchema, ds.SourceTable)] = v
		c.schemas[v.name.Schema] = true
	}
	for i := range g.MaskPolicies {
		c.addMask(&g.MaskPolicies[i])
	}
	for _, v := range c.views {
		for i := range v.masks {
			sort.SliceStable(v.masks[i], func(a, b int) bool {
				pa, pb := v.masks[i][a].policy, v.masks[i][b].policy
				if pa.Priority != pb.Priority {
					return pa.Priority > pb.Priority
				}
				return pa.ID < pb.ID
			})
		}
	}
	for i := range g.RowPolicies {
		rp := &g.RowPolicies[i]
		v, ok := c.byID[rp.DatasourceID]
		if !ok {
			continue
		}
		r := rowRule{name: rp.Name}
		var spec sqlgen.RowPolicy
		if err := json.Unmarshal(rp.Policy, &spec); err != nil {
			r.err = fmt.Errorf("row policy %s: %w", rp.Name, err)
		} else if r.policy, err = sqlgen.CompileRowPolicy(spec, v.columnNames()); err != nil {
			r.err = fmt.Errorf("row policy %s: %w", rp.Name, err)
		}
		v.rows = append(v.rows, r)
	}
	for _, s := range g.Subscriptions {
		if v, ok := c.byID[s.DatasourceID]; ok {
			v.subs = append(v.subs, s)
		}
	}
	return c, nil
}

func (v *view) columnNames() []string {
	out := make([]string, len(v.columns))
	for i, c := range v.columns {
		out[i] = c.Name
	}
	return out
}

// addMask attaches a mask policy to every exposed column it applies to.
func (c *Catalog) addMask(p *store.MaskPolicy) {
	var m sqlgen.Mask
	specErr := json.Unmarshal(p.Mask, &m)
	for _, v := range c.views {
		if p.DatasourceID != 0 && p.DatasourceID != v.ds.ID {
			continue
		}
		for _, col := range v.ds.Columns {
			i, exposed := v.colIdx[strings.ToLower(col.Name)]
			if !exposed {
				continue
			}
			switch {
			case p.Column != "" && !strings.EqualFold(p.Column, col.Name):
				continue
			case p.Tag != "" && !slices.Contains(col.Tags, p.Tag):
				continue
			}
			r := maskRule{policy: p, reason: "mask policy " + p.Name}
			if specErr != nil {
				r.err = fmt.Errorf("mask policy %s: %w", p.Name, specErr)
			} else if r.expr, r.err = sqlgen.CompileMask(m, v.columns[i], sqlgen.MaskOptions{Keys: c.opts.Keys, Columns: v.columnNames()}); r.err != nil {
				r.err = fmt.Errorf("mask policy %s on %s: %w", p.Name, col.Name, r.err)
			}
			v.masks[i] = append(v.masks[i], r)
		}
	}
}

// Options returns the catalog's options.
func (c *Catalog) Options() Options { return c.opts }

// Len returns the number of views.
func (c *Catalog) Len() int { return len(c.views) }

// Datasources returns the data sources, by ID.
func (c *Catalog) Datasources() []store.Datasource {
	out := make([]store.Datasource, 0, len(c.byID))
	for _, v := range c.byID {
		out = append(out, v.ds)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// lookup returns the view named schema.table in the governed catalog.
func (c *Catalog) lookup(schema, table string) *view { return c.views[lower(schema, table)] }

// isGoverned reports whether catalog is the governed catalog.
func (c *Catalog) isGoverned(catalog string) bool { return strings.EqualFold(catalog, c.opts.Catalog) }

// subject is the user as templates and exemptions see them.
func subject(s *policy.Subject) *sqlgen.User {
	return &sqlgen.User{Name: s.User, Groups: s.Groups, Attributes: s.Attributes}
}

// matches reports whether a user is among users, in one of groups, or has
// one of the listed values of an attribute.
func matches(s *policy.Subject, users, groups []string, attrs map[string][]string) bool {
	if slices.Contains(users, s.User) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(s.Groups, g) {
			return true
		}
	}
	for name, values := range attrs {
		if attributeMatches(s.Attributes[name], values) {
			return true
		}
	}
	return false
}

func attributeMatches(v any, values []string) bool {
	switch x := v.(type) {
	case string:
		return slices.Contains(values, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && slices.Contains(values, s) {
				return true
			}
		}
	case bool, float64, json.Number, int, int64:
		return slices.Contains(values, fmt.Sprint(x))
	}
	return false
}

// subscribed reports whether the user may query the view.
func (v *view) subscribed(s *policy.Subject) bool {
	for i := range v.subs {
		sub := &v.subs[i]
		if matches(s, sub.Users, sub.Groups, sub.Attributes) {
			return true
		}
	}
	return false
}

// mask returns the user's mask of exposed column i: the highest-priority
// policy the user is not exempt from. ok is false when no policy masks the
// column for the user.
func (v *view) mask(i int, s *policy.Subject) (expr trino.ViewExpression, reason string, ok bool, err error) {
	for _, r := range v.masks[i] {
		p := r.policy
		if matches(s, p.ExemptUsers, p.ExemptGroups, p.ExemptAttributes) {
			continue
		}
		if r.err != nil {
			return trino.ViewExpression{}, "", false, r.err
		}
		return r.expr, r.reason, true, nil
	}
	return trino.ViewExpression{}, "", false, nil
}

// rowFilters returns the user's row filters on the view, one per row
// policy that filters them; Trino ANDs them.
func (v *view) rowFilters(s *policy.Subject) ([]trino.ViewExpression, error) {
	var out []trino.ViewExpression
	u := subject(s)
	for _, r := range v.rows {
		if r.err != nil {
			return nil, r.err
		}
		pred, filtered, err := r.policy.Render(u)
		if err != nil {
			return nil, fmt.Errorf("row policy %s: %w", r.name, err)
		}
		if filtered {
			out = append(out, trino.ViewExpression{Expression: pred})
		}
	}
	return out, nil
}

// ViewSQL returns the statement that creates or replaces a data source's
// view: SECURITY DEFINER, selecting the exposed columns of the source.
func ViewSQL(catalog string, ds store.Datasource) (string, error) {
	name := sqlgen.QualifiedName{Catalog: strings.ToLower(catalog), Schema: strings.ToLower(ds.ViewSchema), Name: strings.ToLower(ds.ViewTable)}
	q, err := name.Quoted()
	if err != nil {
		return "", err
	}
	sel, err := selectSQL(ds)
	if err != nil {
		return "", err
	}
	return "CREATE OR REPLACE VIEW " + q + " SECURITY DEFINER AS " + sel, nil
}

// selectSQL is the view's query: the exposed columns of the source.
func selectSQL(ds store.Datasource) (string, error) {
	src, err := sqlgen.QualifiedName{Catalog: ds.SourceCatalog, Schema: ds.SourceSchema, Name: ds.SourceTable}.Quoted()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	n := 0
	for _, col := range ds.Columns {
		if !col.Exposed {
			continue
		}
		q, err := sqlgen.QuoteIdent(col.Name)
		if err != nil {
			return "", fmt.Errorf("column %q: %w", col.Name, err)
		}
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q)
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("datasource %d exposes no column", ds.ID)
	}
	b.WriteString(" FROM ")
	b.WriteString(src)
	return b.String(), nil
}

// EffectiveSQL returns what a user effectively runs when they select every
// column of a data source's view: the source's exposed columns with the
// user's masks inlined, filtered by the user's row filters. It is for
// previewing and explaining policies; Trino applies the same expressions
// through the plugin. It returns ErrNotSubscribed for a user who may not
// query the view at all.
func (c *Catalog) EffectiveSQL(dsID int64, s policy.Subject) (string, error) {
	v, ok := c.byID[dsID]
	if !ok {
		return "", fmt.Errorf("no datasource %d", dsID)
	}
	if s.User != c.opts.ServiceUser && !v.subscribed(&s) {
		return "", fmt.Errorf("%s may not query %s: %w", s.User, v.name, ErrNotSubscribed)
	}
	src, err := v.source.Quoted()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, col := range v.columns {
		q, err := sqlgen.QuoteIdent(col.Name)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(",\n       ")
		}
		expr, _, masked, err := v.mask(i, &s)
		if err != nil {
			return "", err
		}
		if masked {
			b.WriteString(expr.Expression + " AS " + q)
		} else {
			b.WriteString(q)
		}
	}
	b.WriteString("\nFROM " + src)
	filters, err := v.rowFilters(&s)
	if err != nil {
		return "", err
	}
	for i, f := range filters {
		if i == 0 {
			b.WriteString("\nWHERE (")
		} else {
			b.WriteString("\n  AND (")
		}
		b.WriteString(f.Expression + ")")
	}
	return b.String(), nil
}
