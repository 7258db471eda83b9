package grants

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
)

// target is what an operation checks.
type target uint8

const (
	tNone    target = iota // abstain
	tTable                 // relation on the table (resource.table)
	tSchema                // relation on the schema (resource.schema)
	tCatalog               // relation on the catalog (resource.catalog)
	tRoutine               // execute on the function (resource.function)
	tUser                  // impersonator on the target user
	tSystem                // read/write on system:global
	tVisible               // visible: a grant on it, around it or inside it
)

type opSpec struct {
	t   target
	rel string
}

// opSpecs maps every operation grants has something to say about; the rest
// abstain. docs/grants.md has the same table.
var opSpecs = map[trino.Operation]opSpec{
	trino.OpSelectFromColumns:               {tTable, "select"},
	trino.OpInsertIntoTable:                 {tTable, "insert"},
	trino.OpDeleteFromTable:                 {tTable, "delete"},
	trino.OpTruncateTable:                   {tTable, "delete"},
	trino.OpUpdateTableColumns:              {tTable, "update"},
	trino.OpRefreshMaterializedView:         {tTable, "update"},
	trino.OpCreateViewWithSelectFromColumns: {tTable, "grant_select"},
	trino.OpShowCreateTable:                 {tTable, "ownership"},
	trino.OpDropTable:                       {tTable, "ownership"},
	trino.OpSetTableComment:                 {tTable, "ownership"},
	trino.OpSetViewComment:                  {tTable, "ownership"},
	trino.OpSetColumnComment:                {tTable, "ownership"},
	trino.OpAddColumn:                       {tTable, "ownership"},
	trino.OpAlterColumn:                     {tTable, "ownership"},
	trino.OpDropColumn:                      {tTable, "ownership"},
	trino.OpRenameColumn:                    {tTable, "ownership"},
	trino.OpCreateView:                      {tTable, "ownership"},
	trino.OpDropView:                        {tTable, "ownership"},
	trino.OpDropMaterializedView:            {tTable, "ownership"},
	trino.OpCreateTable:                     {tTable, "ownership"},
	trino.OpCreateMaterializedView:          {tTable, "ownership"},
	trino.OpSetTableProperties:              {tTable, "ownership"},
	trino.OpSetMaterializedViewProperties:   {tTable, "ownership"},
	trino.OpRenameTable:                     {tTable, "ownership"},
	trino.OpRenameView:                      {tTable, "ownership"},
	trino.OpRenameMaterializedView:          {tTable, "ownership"},
	trino.OpSetTableAuthorization:           {tTable, "ownership"},
	trino.OpSetViewAuthorization:            {tTable, "ownership"},
	trino.OpCreateSchema:                    {tSchema, "ownership"},
	trino.OpDropSchema:                      {tSchema, "ownership"},
	trino.OpRenameSchema:                    {tSchema, "ownership"},
	trino.OpSetSchemaAuthorization:          {tSchema, "ownership"},
	trino.OpShowCreateSchema:                {tSchema, "ownership"},
	trino.OpCreateCatalog:                   {tCatalog, "ownership"},
	trino.OpDropCatalog:                     {tCatalog, "ownership"},
	trino.OpExecuteFunction:                 {tRoutine, "execute"},
	trino.OpExecuteProcedure:                {tRoutine, "execute"},
	trino.OpCreateViewWithExecuteFunction:   {tRoutine, "execute"},
	trino.OpImpersonateUser:                 {tUser, "impersonator"},
	trino.OpReadSystemInformation:           {tSystem, "read"},
	trino.OpWriteSystemInformation:          {tSystem, "write"},
	trino.OpAccessCatalog:                   {tVisible, ""},
	trino.OpShowSchemas:                     {tVisible, ""},
	trino.OpShowTables:                      {tVisible, ""},
	trino.OpShowFunctions:                   {tVisible, ""},
	trino.OpShowColumns:                     {tVisible, ""},
	trino.OpFilterCatalogs:                  {tVisible, ""},
	trino.OpFilterSchemas:                   {tVisible, ""},
	trino.OpFilterTables:                    {tVisible, ""},
	trino.OpFilterColumns:                   {tVisible, ""},
	trino.OpFilterFunctions:                 {tVisible, ""},
}

// deniedRel and allowRule are prepared once, so a check allocates neither.
var deniedRel, allowRule = func() (map[string]string, map[string]string) {
	d, a := map[string]string{}, map[string]string{}
	for _, sp := range opSpecs {
		if sp.rel != "" {
			d[sp.rel] = "denied_" + sp.rel
			a[sp.rel] = "grants: " + sp.rel
		}
	}
	return d, a
}()

// validName reports whether a user or group name can be an OpenFGA user id;
// a name that cannot has no grants.
func validName(s string) bool {
	return s != "" && s != "*" && !strings.ContainsAny(s, "#:@ \t\r\n")
}

func (s *Source) subjects(req *policy.Request) []string {
	out := make([]string, 0, 1+len(req.Subject.Groups))
	if validName(req.Subject.User) {
		out = append(out, "user:"+req.Subject.User)
	}
	for _, g := range req.Subject.Groups {
		if validName(g) {
			out = append(out, "group:"+g+"#member")
		}
	}
	return out
}

// Authorize answers a single check.
func (s *Source) Authorize(ctx context.Context, req *policy.Request) (policy.Verdict, error) {
	spec, ok := opSpecs[req.Op]
	if !ok {
		return policy.Verdict{}, nil
	}
	subs := s.subjects(req)
	if len(subs) == 0 {
		return policy.Verdict{}, nil
	}
	r := req.Action.Resource
	if r != nil && r.Table != nil && strings.EqualFold(r.Table.SchemaName, informationSchema) &&
		(req.Op == trino.OpSelectFromColumns || req.Op == trino.OpShowColumns) {
		return s.authorizeInformationSchema(ctx, r.Table.CatalogName, subs)
	}
	var obj string
	var cols []string
	switch spec.t {
	case tVisible:
		return s.authorizeVisible(ctx, req, subs)
	case tTable:
		if r == nil || r.Table == nil {
			return policy.Verdict{}, nil
		}
		obj = ObjectID(TypeTable, r.Table.CatalogName, r.Table.SchemaName, r.Table.TableName)
		if req.Op == trino.OpSelectFromColumns {
			cols = r.Table.Columns
		}
	case tSchema:
		if r == nil || r.Schema == nil {
			return policy.Verdict{}, nil
		}
		obj = ObjectID(TypeSchema, r.Schema.CatalogName, r.Schema.SchemaName)
	case tCatalog:
		if r == nil || r.Catalog == nil {
			return policy.Verdict{}, nil
		}
		obj = ObjectID(TypeCatalog, r.Catalog.Name)
	case tRoutine:
		if r == nil || r.Function == nil || r.Function.CatalogName == "" {
			return policy.Verdict{}, nil
		}
		f := r.Function
		obj = ObjectID(TypeRoutine, f.CatalogName, f.SchemaName, f.FunctionName)
	case tUser:
		if r == nil || r.User == nil || !validName(r.User.User) {
			return policy.Verdict{}, nil
		}
		obj = "user:" + r.User.User
	case tSystem:
		obj = SystemObject
	}
	if len(obj) > maxIDLen+len("routine:") {
		return policy.Verdict{}, nil
	}
	deny := deniedRel[spec.rel]
	items := make([]CheckItem, 0, 2*len(subs)*(1+len(cols)))
	for _, u := range subs {
		items = append(items, CheckItem{User: u, Relation: spec.rel, Object: obj},
			CheckItem{User: u, Relation: deny, Object: obj})
	}
	colBase := len(items)
	if len(cols) > 0 {
		t := r.Table
		for _, c := range cols {
			cid := ObjectID(TypeColumn, t.CatalogName, t.SchemaName, t.TableName, c)
			for _, u := range subs {
				items = append(items, CheckItem{User: u, Relation: "select", Object: cid},
					CheckItem{User: u, Relation: "denied_select", Object: cid})
			}
		}
	}
	res, err := s.checker.Check(ctx, items, s.consistency())
	if err != nil {
		return policy.Verdict{}, err
	}
	allowed := false
	for i := 0; i < colBase; i += 2 {
		if res[i+1] {
			return policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: "grants: " + obj + "#" + deny + "@" + items[i].User}}, nil
		}
		allowed = allowed || res[i]
	}
	if len(cols) > 0 {
		// Column-level grants: every selected column needs a subject with
		// select on it; a deny on any column vetoes.
		n := len(subs)
		all := true
		for ci := range cols {
			colOK := false
			for k := 0; k < n; k++ {
				i := colBase + 2*(ci*n+k)
				if res[i+1] {
					return policy.Verdict{Effect: policy.Deny, Reason: policy.Reason{Rule: "grants: " + items[i].Object + "#denied_select@" + items[i].User}}, nil
				}
				colOK = colOK || res[i]
			}
			all = all && colOK
		}
		allowed = allowed || all
	}
	if allowed {
		return policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: allowRule[spec.rel]}}, nil
	}
	return policy.Verdict{}, nil
}

// listing is one list each subject's grants are read with.
type listing struct {
	typ, rel string
}

var (
	listAll   = []listing{{TypeCatalog, "viewer"}, {TypeSchema, "viewer"}, {TypeTable, "viewer"}, {TypeColumn, "viewer"}, {TypeRoutine, "viewer"}}
	listTable = []listing{{TypeCatalog, "viewer"}, {TypeSchema, "viewer"}, {TypeTable, "viewer"}, {TypeColumn, "viewer"}}
	listFuncs = []listing{{TypeCatalog, "execute"}, {TypeSchema, "execute"}, {TypeRoutine, "viewer"}}
)

// grantSet is what a request's subjects may see: the ids (without type
// prefix) of objects with a grant, and the containers that have a grant
// inside.
type grantSet struct {
	direct [5]map[string]struct{} // by listing index
	inside [3]map[string]struct{} // catalogs, schemas, tables with a grant inside
}

func (g *grantSet) has(i int, id string) bool {
	_, ok := g.direct[i][id]
	return ok
}

func (g *grantSet) hasInside(i int, id string) bool {
	_, ok := g.inside[i][id]
	return ok
}

// readGrants lists each subject's grants once, for the given listings, and
// merges them. Any error (including a possibly truncated list) fails the
// whole request.
func (s *Source) readGrants(ctx context.Context, subs []string, ls []listing, name string) (*grantSet, error) {
	cons := s.consistency()
	var key string
	if cons != HigherConsistency {
		key = s.keys.key() + "|" + name + "|" + strings.Join(subs, "\x00")
		if g := s.sets.get(key); g != nil {
			return g, nil
		}
	}
	g, err := s.listGrants(ctx, subs, ls, cons)
	if err != nil {
		return nil, err
	}
	if key != "" {
		s.sets.put(key, g)
	}
	return g, nil
}

// setCache keeps the merged grant sets of recent filter requests, so a warm
// filter does not rebuild them. Its TTL is half the answer cache's, so an
// answer is never reused for more than 1.5 × CacheTTL.
type setCache struct {
	ttl  time.Duration
	size int
	mu   sync.Mutex
	m    map[string]setEntry
}

type setEntry struct {
	g       *grantSet
	expires time.Time
}

func (c *setCache) get(key string) *grantSet {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.g
	}
	return nil
}

func (c *setCache) put(key string, g *grantSet) {
	c.mu.Lock()
	if len(c.m) >= c.size {
		clear(c.m)
	}
	c.m[key] = setEntry{g: g, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
}

func (s *Source) listGrants(ctx context.Context, subs []string, ls []listing, cons Consistency) (*grantSet, error) {
	results := make([][]string, len(subs)*len(ls))
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range results {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			l := ls[i%len(ls)]
			results[i], errs[i] = s.checker.ListObjects(ctx, ListRequest{User: subs[i/len(ls)], Relation: l.rel, Type: l.typ}, cons)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	g := &grantSet{}
	for i := range g.direct {
		g.direct[i] = map[string]struct{}{}
	}
	for i := range g.inside {
		g.inside[i] = map[string]struct{}{}
	}
	for i, objs := range results {
		li := i % len(ls)
		for _, o := range objs {
			_, id, _ := strings.Cut(o, ":")
			g.direct[li][id] = struct{}{}
			// Mark every container of the object as having a grant inside.
			for k, depth := 0, 0; k < len(id); k++ {
				if id[k] == '/' && depth < 3 {
					g.inside[depth][id[:k]] = struct{}{}
					depth++
				}
			}
		}
	}
	return g, nil
}

// ids of a Trino name at each level, reusing one builder.
type idBuilder struct{ b strings.Builder }

func (ib *idBuilder) id(parts ...string) string {
	ib.b.Reset()
	for i, p := range parts {
		if i > 0 {
			ib.b.WriteByte('/')
		}
		escapeName(&ib.b, p)
	}
	return ib.b.String()
}

// Listing indexes into grantSet.direct: catalog, schema, table, column,
// routine (for listFuncs: catalog, schema, routine).
const (
	iCatalog = 0
	iSchema  = 1
	iTable   = 2
	iColumn  = 3
)

func (g *grantSet) catalogVisible(cat string) bool {
	return g.has(iCatalog, cat) || g.hasInside(0, cat)
}

func (g *grantSet) schemaVisible(cat, sch string) bool {
	return g.has(iCatalog, cat) || g.has(iSchema, sch) || g.hasInside(1, sch)
}

func (g *grantSet) tableVisible(cat, sch, tab string) bool {
	return g.has(iCatalog, cat) || g.has(iSchema, sch) || g.has(iTable, tab) || g.hasInside(2, tab)
}

func (g *grantSet) columnVisible(cat, sch, tab, col string) bool {
	return g.has(iCatalog, cat) || g.has(iSchema, sch) || g.has(iTable, tab) || g.has(iColumn, col)
}

func (g *grantSet) functionVisible(cat, sch, fn string) bool {
	return g.has(0, cat) || g.has(1, sch) || g.has(2, fn)
}

// authorizeVisible answers AccessCatalog, Show* and the per-item form of
// Filter*: Allow when the subjects have a grant on the object, on a
// container of it, or inside it; otherwise Abstain.
func (s *Source) authorizeVisible(ctx context.Context, req *policy.Request, subs []string) (policy.Verdict, error) {
	r := req.Action.Resource
	if r == nil {
		return policy.Verdict{}, nil
	}
	ls, lsName := listAll, "all"
	if req.Op == trino.OpFilterFunctions {
		ls, lsName = listFuncs, "funcs"
	}
	var visible func(g *grantSet) bool
	var ib idBuilder
	switch {
	case req.Op == trino.OpFilterFunctions && r.Function != nil:
		f := r.Function
		c, sc, fn := ib.id(f.CatalogName), ib.id(f.CatalogName, f.SchemaName), ib.id(f.CatalogName, f.SchemaName, f.FunctionName)
		visible = func(g *grantSet) bool { return g.functionVisible(c, sc, fn) }
	case req.Op == trino.OpFilterColumns && r.Table != nil && len(r.Table.Columns) == 1:
		tb := r.Table
		c, sc := ib.id(tb.CatalogName), ib.id(tb.CatalogName, tb.SchemaName)
		t, cl := ib.id(tb.CatalogName, tb.SchemaName, tb.TableName), ib.id(tb.CatalogName, tb.SchemaName, tb.TableName, tb.Columns[0])
		visible = func(g *grantSet) bool { return g.columnVisible(c, sc, t, cl) }
	case r.Column != nil:
		col := r.Column
		c, sc := ib.id(col.CatalogName), ib.id(col.CatalogName, col.SchemaName)
		t, cl := ib.id(col.CatalogName, col.SchemaName, col.TableName), ib.id(col.CatalogName, col.SchemaName, col.TableName, col.ColumnName)
		visible = func(g *grantSet) bool { return g.columnVisible(c, sc, t, cl) }
	case r.Table != nil:
		tb := r.Table
		c, sc, t := ib.id(tb.CatalogName), ib.id(tb.CatalogName, tb.SchemaName), ib.id(tb.CatalogName, tb.SchemaName, tb.TableName)
		visible = func(g *grantSet) bool { return g.tableVisible(c, sc, t) }
	case r.Schema != nil:
		c, sc := ib.id(r.Schema.CatalogName), ib.id(r.Schema.CatalogName, r.Schema.SchemaName)
		visible = func(g *grantSet) bool { return g.schemaVisible(c, sc) }
	case r.Catalog != nil:
		c := ib.id(r.Catalog.Name)
		visible = func(g *grantSet) bool { return g.catalogVisible(c) }
	default:
		return policy.Verdict{}, nil
	}
	g, err := s.readGrants(ctx, subs, ls, lsName)
	if err != nil {
		return policy.Verdict{}, err
	}
	if visible(g) {
		return policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: "grants: visible"}}, nil
	}
	return policy.Verdict{}, nil
}

var visibleReason = policy.Reason{Rule: "grants: visible"}

const informationSchema = "information_schema"

// authorizeInformationSchema lets a user read a catalog's information_schema
// when a grant makes the catalog visible to them, as Trino's file-based
// rules let whoever may access a catalog read its information_schema: SHOW
// TABLES and the like are queries on it. Which rows it shows is then up to
// the filter operations.
func (s *Source) authorizeInformationSchema(ctx context.Context, catalog string, subs []string) (policy.Verdict, error) {
	g, err := s.readGrants(ctx, subs, listAll, "all")
	if err != nil {
		return policy.Verdict{}, err
	}
	var ib idBuilder
	if g.catalogVisible(ib.id(catalog)) {
		return policy.Verdict{Effect: policy.Allow, Reason: policy.Reason{Rule: "grants: information_schema"}}, nil
	}
	return policy.Verdict{}, nil
}

// Filter answers a batch filter: it reads each subject's grants once, then
// tests each item in memory, so the cost in OpenFGA calls does not grow with
// the number of items. Grants never hide an item (no Deny): a deny vetoes
// the use of a privilege, not the object's visibility.
func (s *Source) Filter(ctx context.Context, req *policy.Request, out *policy.BatchVerdict) error {
	spec, ok := opSpecs[req.Op]
	if !ok || spec.t != tVisible || !req.Op.IsFilter() {
		return nil
	}
	subs := s.subjects(req)
	items := req.Action.FilterResources
	if len(subs) == 0 || len(items) == 0 {
		return nil
	}
	ls, lsName := listTable, "table"
	switch req.Op {
	case trino.OpFilterCatalogs, trino.OpFilterSchemas:
		ls, lsName = listAll, "all"
	case trino.OpFilterFunctions:
		ls, lsName = listFuncs, "funcs"
	}
	g, err := s.readGrants(ctx, subs, ls, lsName)
	if err != nil {
		return err
	}
	set := func(i int) {
		out.Allow[i] = true
		if out.Reasons != nil {
			out.Reasons[i] = visibleReason
		}
	}
	// One buffer holds the encoded id, part by part; map lookups with
	// string(buf[:n]) do not allocate, so the loop costs nothing per item.
	var buf []byte
	in := func(m map[string]struct{}, b []byte) bool {
		_, ok := m[string(b)]
		return ok
	}
	switch req.Op {
	case trino.OpFilterCatalogs:
		for i := range items {
			if c := items[i].Catalog; c != nil {
				buf = appendEscaped(buf[:0], c.Name)
				if in(g.direct[iCatalog], buf) || in(g.inside[0], buf) {
					set(i)
				}
			}
		}
	case trino.OpFilterSchemas:
		for i := range items {
			if sc := items[i].Schema; sc != nil {
				buf = appendEscaped(buf[:0], sc.CatalogName)
				nc := len(buf)
				buf = appendEscaped(append(buf, '/'), sc.SchemaName)
				if in(g.direct[iCatalog], buf[:nc]) || in(g.direct[iSchema], buf) || in(g.inside[1], buf) {
					set(i)
				}
			}
		}
	case trino.OpFilterTables:
		for i := range items {
			if t := items[i].Table; t != nil {
				buf = appendEscaped(buf[:0], t.CatalogName)
				nc := len(buf)
				buf = appendEscaped(append(buf, '/'), t.SchemaName)
				ns := len(buf)
				buf = appendEscaped(append(buf, '/'), t.TableName)
				if in(g.direct[iCatalog], buf[:nc]) || in(g.direct[iSchema], buf[:ns]) ||
					in(g.direct[iTable], buf) || in(g.inside[2], buf) {
					set(i)
				}
			}
		}
	case trino.OpFilterColumns:
		t := items[0].Table
		if t == nil {
			return nil
		}
		buf = appendEscaped(buf[:0], t.CatalogName)
		nc := len(buf)
		buf = appendEscaped(append(buf, '/'), t.SchemaName)
		ns := len(buf)
		buf = appendEscaped(append(buf, '/'), t.TableName)
		nt := len(buf)
		whole := in(g.direct[iCatalog], buf[:nc]) || in(g.direct[iSchema], buf[:ns]) || in(g.direct[iTable], buf)
		for i, c := range t.Columns {
			buf = appendEscaped(append(buf[:nt], '/'), c)
			if whole || in(g.direct[iColumn], buf) {
				set(i)
			}
		}
	case trino.OpFilterFunctions:
		for i := range items {
			if f := items[i].Function; f != nil && f.CatalogName != "" {
				buf = appendEscaped(buf[:0], f.CatalogName)
				nc := len(buf)
				buf = appendEscaped(append(buf, '/'), f.SchemaName)
				ns := len(buf)
				buf = appendEscaped(append(buf, '/'), f.FunctionName)
				if in(g.direct[0], buf[:nc]) || in(g.direct[1], buf[:ns]) || in(g.direct[2], buf) {
					set(i)
				}
			}
		}
	}
	return nil
}
