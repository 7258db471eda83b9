package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
	"github.com/trino-warden/warden/views/sqlgen"
)

// The governed catalog's endpoints: data sources (source tables exposed as
// generated views), their mask and row policies, subscriptions, and the SQL
// a user effectively runs. Every write is checked first by views/sqlgen and
// then by the real Trino, as Warden's service principal, and writes nothing
// when a check fails. Administrators manage everything; data owners manage
// the data sources, and their policies, whose source table the grants model
// lets them administer (grant_admin on the table or a schema or catalog
// above it).

var (
	// viewName is what view schemas and tables must match: Trino folds
	// unquoted names to lower case, so only lower-case names are stable.
	viewName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,127}$`)
	// tagName is what column tags must match ("pii.email").
	tagName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	// policyName is what mask and row policy names must match, as the
	// schema checks.
	policyName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
)

const maxDescription = 4096

// errChanged means a data source changed between the checks of a request
// and its write; it wraps store.ErrConflict, so it answers 409.
var errChanged = fmt.Errorf("%w: concurrent change", store.ErrConflict)

// invalid answers 400 with one message per field.
func invalid(c *gin.Context, msg string, fields map[string]string) {
	c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: msg, Fields: fields})
}

// bindStrict decodes the body into v, refusing unknown fields so that a
// misspelt option is an error rather than silently ignored.
func bindStrict(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(c, http.StatusBadRequest, codeInvalid, "malformed body: "+err.Error())
		return false
	}
	return true
}

// trinoAvailable answers 503 when no Trino client is configured.
func (a *API) trinoAvailable(c *gin.Context) bool {
	if a.opts.Trino == nil {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "the governed catalog needs views.trino_url")
		return false
	}
	return true
}

// failTrino maps a Trino client error: unreachable is 503, anything else
// 502 with Trino's message.
func failTrino(c *gin.Context, err error) {
	if errors.Is(err, views.ErrTrinoUnavailable) || errors.Is(err, errNotYet) {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "Trino is unavailable; try again: "+err.Error())
		return
	}
	fail(c, http.StatusBadGateway, codeUnavailable, "Trino refused Warden's own query: "+views.TrinoMessage(err))
}

func idParam(c *gin.Context) (int64, bool) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n <= 0 {
		fail(c, http.StatusBadRequest, codeInvalid, "id must be a positive integer")
		return 0, false
	}
	return n, true
}

// sourceObject is the grants object of a data source's source table.
func sourceObject(ds store.Datasource) string {
	return grants.Object{Type: grants.TypeTable, Parts: []string{ds.SourceCatalog, ds.SourceSchema, ds.SourceTable}}.String()
}

// mayManage lets administrators manage every data source, and data owners
// those whose source table they administer in the grants model.
func (a *API) mayManage(c *gin.Context, ds store.Datasource) bool {
	p := principal(c)
	if p.Role == auth.RoleOwner && a.opts.Grants == nil {
		fail(c, http.StatusForbidden, codeForbidden, "data owners are scoped by grant_admin grants, and grants are off (no OpenFGA); ask an administrator")
		return false
	}
	return a.mayAdminister(c, grants.Grant{Object: sourceObject(ds)})
}

// exposedNames returns the names of a data source's exposed columns.
func exposedNames(ds store.Datasource) []string {
	var out []string
	for _, col := range ds.Columns {
		if col.Exposed {
			out = append(out, col.Name)
		}
	}
	return out
}

type datasourceRequest struct {
	Source      string `json:"source"`
	ViewSchema  string `json:"view_schema"`
	ViewTable   string `json:"view_table"`
	Description string `json:"description"`
}

// datasourceCreate registers a source table: its columns and exact types
// come from Trino, with suggested tags, every column exposed.
func (a *API) datasourceCreate(c *gin.Context) {
	var req datasourceRequest
	if !bindStrict(c, &req) {
		return
	}
	fields := map[string]string{}
	src, err := sqlgen.ParseQualifiedName(req.Source)
	switch {
	case req.Source == "":
		fields["source"] = "is required: catalog.schema.table"
	case err != nil:
		fields["source"] = err.Error()
	case strings.EqualFold(src.Catalog, a.governedCatalog()):
		fields["source"] = "is in the governed catalog " + a.governedCatalog() + "; register the table the view should read"
	}
	if req.ViewSchema == "" {
		req.ViewSchema = src.Schema
	}
	if req.ViewTable == "" {
		req.ViewTable = src.Name
	}
	checkViewNames(fields, req.ViewSchema, req.ViewTable, err == nil)
	if len(req.Description) > maxDescription {
		fields["description"] = "at most " + strconv.Itoa(maxDescription) + " bytes"
	}
	if len(fields) > 0 {
		invalid(c, "invalid data source", fields)
		return
	}
	ds := store.Datasource{SourceCatalog: src.Catalog, SourceSchema: src.Schema, SourceTable: src.Name,
		ViewSchema: req.ViewSchema, ViewTable: req.ViewTable, Description: req.Description}
	if !a.trinoAvailable(c) || !a.mayManage(c, ds) {
		return
	}
	ctx := c.Request.Context()
	cols, err := a.opts.Trino.Columns(ctx, src.Catalog, src.Schema, src.Name)
	if errors.Is(err, views.ErrNoSuchTable) {
		invalid(c, "invalid data source", map[string]string{"source": "Trino has no table " + src.String() + " (or Warden's service principal cannot see it)"})
		return
	}
	if err != nil {
		failTrino(c, err)
		return
	}
	for i := range cols {
		cols[i].Tags = views.SuggestTags(cols[i].Name, cols[i].Type)
		cols[i].Exposed = true
	}
	ds.Columns = cols
	err = a.opts.Store.InTx(ctx, func(tx *store.Tx) error {
		ds, err = tx.DatasourceCreate(ctx, actor(c), ds)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		fail(c, http.StatusConflict, codeConflict, "the source "+src.String()+" or the view "+ds.ViewSchema+"."+ds.ViewTable+" is registered already")
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	// Answer once this replica's views source has the registration, so
	// the policies that follow can be checked against the source at once.
	_ = a.awaitRevision(ctx, ds.Revision) //nolint:errcheck // the registration stands; later checks wait again.
	c.JSON(http.StatusCreated, ds)
}

func (a *API) governedCatalog() string {
	if a.opts.Views.Catalog == "" {
		return views.DefaultCatalog
	}
	return a.opts.Views.Catalog
}

// checkViewNames adds a message per bad view name; a name defaulted from a
// source that could not be parsed is left to the source's message.
func checkViewNames(fields map[string]string, schema, table string, check bool) {
	if !check {
		return
	}
	if !viewName.MatchString(schema) {
		fields["view_schema"] = strconv.Quote(schema) + " must match " + viewName.String() + " (it defaults to the source's schema)"
	}
	if !viewName.MatchString(table) {
		fields["view_table"] = strconv.Quote(table) + " must match " + viewName.String() + " (it defaults to the source's table)"
	}
}

func (a *API) datasourceList(c *gin.Context) {
	g, err := a.opts.Store.GovernedSnapshot(c.Request.Context())
	if err != nil {
		failErr(c, err)
		return
	}
	out := g.Datasources
	if out == nil {
		out = []store.Datasource{}
	}
	c.JSON(http.StatusOK, gin.H{"datasources": out})
}

func (a *API) datasourceGet(c *gin.Context) {
	dsID, ok := idParam(c)
	if !ok {
		return
	}
	ds, err := a.opts.Store.DatasourceGet(c.Request.Context(), dsID)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, ds)
}

type columnPatch struct {
	Name    string    `json:"name"`
	Tags    *[]string `json:"tags"`
	Exposed *bool     `json:"exposed"`
}

type datasourcePatch struct {
	ViewSchema  *string       `json:"view_schema"`
	ViewTable   *string       `json:"view_table"`
	Description *string       `json:"description"`
	Columns     []columnPatch `json:"columns"`
}

// datasourcePatch changes the view's names, the description, and columns'
// tags and exposure. The result must still satisfy every policy of the
// data source: masks compile for the columns they would now mask, and row
// policies reference exposed columns only.
func (a *API) datasourcePatch(c *gin.Context) {
	dsID, ok := idParam(c)
	if !ok {
		return
	}
	var req datasourcePatch
	if !bindStrict(c, &req) {
		return
	}
	ctx := c.Request.Context()
	ds, err := a.opts.Store.DatasourceGet(ctx, dsID)
	if err != nil {
		failErr(c, err)
		return
	}
	if !a.mayManage(c, ds) {
		return
	}
	read := ds.Revision
	fields := map[string]string{}
	if req.ViewSchema != nil {
		ds.ViewSchema = *req.ViewSchema
	}
	if req.ViewTable != nil {
		ds.ViewTable = *req.ViewTable
	}
	checkViewNames(fields, ds.ViewSchema, ds.ViewTable, true)
	if req.Description != nil {
		ds.Description = *req.Description
		if len(ds.Description) > maxDescription {
			fields["description"] = "at most " + strconv.Itoa(maxDescription) + " bytes"
		}
	}
	ds.Columns = slices.Clone(ds.Columns)
	for i, cp := range req.Columns {
		key := "columns[" + strconv.Itoa(i) + "]"
		j := slices.IndexFunc(ds.Columns, func(col store.DatasourceColumn) bool { return col.Name == cp.Name })
		if j < 0 {
			fields[key+".name"] = "the source has no column " + strconv.Quote(cp.Name)
			continue
		}
		if cp.Tags != nil {
			tags := []string{}
			for k, t := range *cp.Tags {
				if !tagName.MatchString(t) {
					fields[key+".tags["+strconv.Itoa(k)+"]"] = strconv.Quote(t) + " must match " + tagName.String()
				} else if !slices.Contains(tags, t) {
					tags = append(tags, t)
				}
			}
			slices.Sort(tags)
			ds.Columns[j].Tags = tags
		}
		if cp.Exposed != nil {
			ds.Columns[j].Exposed = *cp.Exposed
		}
	}
	if len(fields) == 0 && len(exposedNames(ds)) == 0 {
		fields["columns"] = "the view must expose at least one column"
	}
	if len(fields) > 0 {
		invalid(c, "invalid data source change", fields)
		return
	}
	g, err := a.opts.Store.GovernedSnapshot(ctx)
	if err != nil {
		failErr(c, err)
		return
	}
	if problems := policyProblems(g, ds, a.opts.Views.Keys); len(problems) > 0 {
		invalid(c, "the change would break policies of this data source", problems)
		return
	}
	ds, err = a.updateChecked(c, ds, read)
	if errors.Is(err, errChanged) {
		fail(c, http.StatusConflict, codeConflict, err.Error())
		return
	}
	if errors.Is(err, store.ErrConflict) {
		fail(c, http.StatusConflict, codeConflict, "another data source has the view "+ds.ViewSchema+"."+ds.ViewTable)
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, ds)
}

// updateChecked writes ds unless the data source changed since it was read
// at revision read (ErrConflict): the checks were made on that version.
// Taking the revision first serializes this with every other mutation.
func (a *API) updateChecked(c *gin.Context, ds store.Datasource, read int64) (store.Datasource, error) {
	ctx := c.Request.Context()
	out := ds
	err := a.opts.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Revision(ctx); err != nil {
			return err
		}
		cur, err := tx.DatasourceGet(ctx, ds.ID)
		if err != nil {
			return err
		}
		if cur.Revision != read {
			return fmt.Errorf("%w: data source %d changed while this request was checked; read it again and retry", errChanged, ds.ID)
		}
		out, err = tx.DatasourceUpdate(ctx, actor(c), ds)
		return err
	})
	return out, err
}

// policyProblems checks the mask and row policies that apply to ds, as it
// would be, against its exposed columns and their types; it returns one
// message per broken policy, keyed "mask_policies.NAME" or
// "row_policies.NAME".
func policyProblems(g store.Governed, ds store.Datasource, keys *sqlgen.KeyStore) map[string]string {
	out := map[string]string{}
	exposed := exposedNames(ds)
	for _, p := range g.MaskPolicies {
		if p.DatasourceID != 0 && p.DatasourceID != ds.ID {
			continue
		}
		var m sqlgen.Mask
		if err := json.Unmarshal(p.Mask, &m); err != nil {
			out["mask_policies."+p.Name] = err.Error()
			continue
		}
		for _, col := range ds.Columns {
			if !col.Exposed || (p.Column != "" && p.Column != col.Name) || (p.Tag != "" && !slices.Contains(col.Tags, p.Tag)) {
				continue
			}
			if _, err := compileMaskFor(m, col, exposed, keys); err != nil {
				out["mask_policies."+p.Name] = err.Error()
				break
			}
		}
	}
	for _, p := range g.RowPolicies {
		if p.DatasourceID != ds.ID {
			continue
		}
		var rp sqlgen.RowPolicy
		err := json.Unmarshal(p.Policy, &rp)
		if err == nil {
			_, err = sqlgen.CompileRowPolicy(rp, exposed)
		}
		if err != nil {
			out["row_policies."+p.Name] = err.Error()
		}
	}
	return out
}

func compileMaskFor(m sqlgen.Mask, col store.DatasourceColumn, exposed []string, keys *sqlgen.KeyStore) (string, error) {
	t, err := sqlgen.ParseType(col.Type)
	if err != nil {
		return "", fmt.Errorf("column %s: %w", col.Name, err)
	}
	e, err := sqlgen.CompileMask(m, sqlgen.Column{Name: col.Name, Type: t}, sqlgen.MaskOptions{Keys: keys, Columns: exposed})
	return e.Expression, err
}

type retyped struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// datasourceRefresh re-reads the source's columns from Trino. Columns that
// remain keep their tags and exposure; new columns get suggested tags and
// are not exposed until someone exposes them, so a column added to the
// source never reaches the view unreviewed.
func (a *API) datasourceRefresh(c *gin.Context) {
	dsID, ok := idParam(c)
	if !ok || !a.trinoAvailable(c) {
		return
	}
	ctx := c.Request.Context()
	ds, err := a.opts.Store.DatasourceGet(ctx, dsID)
	if err != nil {
		failErr(c, err)
		return
	}
	if !a.mayManage(c, ds) {
		return
	}
	read := ds.Revision
	cols, err := a.opts.Trino.Columns(ctx, ds.SourceCatalog, ds.SourceSchema, ds.SourceTable)
	if errors.Is(err, views.ErrNoSuchTable) {
		fail(c, http.StatusConflict, codeConflict, "the source table "+sourceObject(ds)+" no longer exists in Trino; recreate it or delete the data source")
		return
	}
	if err != nil {
		failTrino(c, err)
		return
	}
	added, removed, changed := []string{}, []string{}, []retyped{}
	for i := range cols {
		j := slices.IndexFunc(ds.Columns, func(old store.DatasourceColumn) bool { return old.Name == cols[i].Name })
		if j < 0 {
			cols[i].Tags = views.SuggestTags(cols[i].Name, cols[i].Type)
			added = append(added, cols[i].Name)
			continue
		}
		cols[i].Tags, cols[i].Exposed = ds.Columns[j].Tags, ds.Columns[j].Exposed
		if ds.Columns[j].Type != cols[i].Type {
			changed = append(changed, retyped{Name: cols[i].Name, From: ds.Columns[j].Type, To: cols[i].Type})
		}
	}
	for _, old := range ds.Columns {
		if !slices.ContainsFunc(cols, func(col store.DatasourceColumn) bool { return col.Name == old.Name }) {
			removed = append(removed, old.Name)
		}
	}
	resp := gin.H{"added": added, "removed": removed, "retyped": changed}
	if len(added)+len(removed)+len(changed) == 0 {
		resp["datasource"], resp["changed"] = ds, false
		c.JSON(http.StatusOK, resp)
		return
	}
	ds.Columns = cols
	if len(exposedNames(ds)) == 0 {
		fail(c, http.StatusConflict, codeConflict, "every exposed column is gone from the source, so the view would have none; restore a column in the source or delete the data source")
		return
	}
	g, err := a.opts.Store.GovernedSnapshot(ctx)
	if err != nil {
		failErr(c, err)
		return
	}
	// The source has changed whether or not Warden records it; policies it
	// breaks fail closed on every query and are reported here to fix.
	if problems := policyProblems(g, ds, a.opts.Views.Keys); len(problems) > 0 {
		resp["broken_policies"] = problems
	}
	if ds, err = a.updateChecked(c, ds, read); err != nil {
		failErr(c, err)
		return
	}
	resp["datasource"], resp["changed"] = ds, true
	c.JSON(http.StatusOK, resp)
}

func (a *API) datasourceDelete(c *gin.Context) {
	dsID, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ds, err := a.opts.Store.DatasourceGet(ctx, dsID)
	if err != nil {
		failErr(c, err)
		return
	}
	if !a.mayManage(c, ds) {
		return
	}
	if err := a.opts.Store.InTx(ctx, func(tx *store.Tx) error { return tx.DatasourceDelete(ctx, actor(c), dsID) }); err != nil {
		failErr(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rawObject reports whether raw is a JSON object, for fields that hold
// specifications.
func rawObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// decodeStrict decodes a nested specification, refusing unknown fields.
func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
