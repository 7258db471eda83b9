package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
	"github.com/trino-warden/warden/views/sqlgen"
)

// Mask policies, row policies, subscriptions and the effective SQL of the
// governed catalog; see governed.go.

type maskPolicyRequest struct {
	Name             string              `json:"name"`
	DatasourceID     int64               `json:"datasource_id"`
	Tag              string              `json:"tag"`
	Column           string              `json:"column"`
	Mask             json.RawMessage     `json:"mask"`
	ExemptUsers      []string            `json:"exempt_users"`
	ExemptGroups     []string            `json:"exempt_groups"`
	ExemptAttributes map[string][]string `json:"exempt_attributes"`
	Priority         int32               `json:"priority"`
}

// checkNames adds a message for each empty entry of a list of names.
func checkNames(fields map[string]string, key string, names []string) {
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			fields[key+"["+strconv.Itoa(i)+"]"] = "must not be empty"
		}
	}
}

func checkAttributes(fields map[string]string, key string, attrs map[string][]string) {
	for name, values := range attrs {
		if name == "" {
			fields[key] = "attribute names must not be empty"
		}
		if len(values) == 0 {
			fields[key+"."+name] = "list at least one value"
		}
		checkNames(fields, key+"."+name, values)
	}
}

// maskTarget is a column a mask policy would apply to now.
type maskTarget struct {
	ds  store.Datasource
	col store.DatasourceColumn
}

// maskPolicyCreate adds a mask policy after checking it for every column
// it would mask now: sqlgen compiles it for the column's exact type, then
// Trino analyses it over the source table and runs it on sample values of
// the type (which is where Trino compiles a regex pattern).
func (a *API) maskPolicyCreate(c *gin.Context) {
	var req maskPolicyRequest
	if !bindStrict(c, &req) {
		return
	}
	fields := map[string]string{}
	if !policyName.MatchString(req.Name) {
		fields["name"] = "must match " + policyName.String()
	}
	switch {
	case (req.Tag == "") == (req.Column == ""):
		fields["tag"] = "set exactly one of tag and column"
	case req.Column != "" && req.DatasourceID == 0:
		fields["datasource_id"] = "a column policy needs its data source"
	case req.Tag != "" && !tagName.MatchString(req.Tag):
		fields["tag"] = "must match " + tagName.String()
	}
	if req.DatasourceID < 0 {
		fields["datasource_id"] = "must be a data source ID"
	}
	var m sqlgen.Mask
	if !rawObject(req.Mask) {
		fields["mask"] = `is required: an object such as {"kind":"last4"}`
	} else if err := decodeStrict(req.Mask, &m); err != nil {
		fields["mask"] = err.Error()
	} else if err := m.Validate(); err != nil {
		fields["mask"] = err.Error()
	}
	checkNames(fields, "exempt_users", req.ExemptUsers)
	checkNames(fields, "exempt_groups", req.ExemptGroups)
	checkAttributes(fields, "exempt_attributes", req.ExemptAttributes)
	if len(fields) > 0 {
		invalid(c, "invalid mask policy", fields)
		return
	}
	if !a.trinoAvailable(c) {
		return
	}
	ctx := c.Request.Context()
	g, err := a.opts.Store.GovernedSnapshot(ctx)
	if err != nil {
		failErr(c, err)
		return
	}
	var targets []maskTarget
	if req.DatasourceID == 0 {
		if principal(c).Role < auth.RoleAdmin {
			fail(c, http.StatusForbidden, codeForbidden, "a mask policy on every data source needs the admin role; data owners set datasource_id")
			return
		}
	} else {
		i := slices.IndexFunc(g.Datasources, func(ds store.Datasource) bool { return ds.ID == req.DatasourceID })
		if i < 0 {
			invalid(c, "invalid mask policy", map[string]string{"datasource_id": "no data source " + strconv.FormatInt(req.DatasourceID, 10)})
			return
		}
		if !a.mayManage(c, g.Datasources[i]) {
			return
		}
		if req.Column != "" {
			col, ok := exposedColumn(g.Datasources[i], req.Column)
			if !ok {
				invalid(c, "invalid mask policy", map[string]string{"column": "data source " + strconv.FormatInt(req.DatasourceID, 10) + " exposes no column " + strconv.Quote(req.Column)})
				return
			}
			targets = append(targets, maskTarget{g.Datasources[i], col})
		}
	}
	if req.Tag != "" {
		for _, ds := range g.Datasources {
			if req.DatasourceID != 0 && ds.ID != req.DatasourceID {
				continue
			}
			for _, col := range ds.Columns {
				if col.Exposed && slices.Contains(col.Tags, req.Tag) {
					targets = append(targets, maskTarget{ds, col})
				}
			}
		}
	}
	checked := make([]string, 0, len(targets))
	for _, t := range targets {
		msg, err := a.checkMask(ctx, m, t)
		if err != nil {
			failTrino(c, err)
			return
		}
		if msg != "" {
			invalid(c, "the mask does not apply to a column it would mask", map[string]string{"mask": msg})
			return
		}
		checked = append(checked, t.ds.SourceCatalog+"."+t.ds.SourceSchema+"."+t.ds.SourceTable+"."+t.col.Name)
	}
	p := store.MaskPolicy{Name: req.Name, DatasourceID: req.DatasourceID, Tag: req.Tag, Column: req.Column, Mask: req.Mask,
		ExemptUsers: req.ExemptUsers, ExemptGroups: req.ExemptGroups, ExemptAttributes: req.ExemptAttributes, Priority: req.Priority}
	err = a.opts.Store.InTx(ctx, func(tx *store.Tx) error {
		p, err = tx.MaskPolicyCreate(ctx, actor(c), p)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		fail(c, http.StatusConflict, codeConflict, "a mask policy named "+req.Name+" exists")
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"policy": p, "checked_columns": checked})
}

func exposedColumn(ds store.Datasource, name string) (store.DatasourceColumn, bool) {
	for _, col := range ds.Columns {
		if col.Exposed && col.Name == name {
			return col, true
		}
	}
	return store.DatasourceColumn{}, false
}

// checkMask checks m on one column. It returns a message for the caller
// (the mask does not fit the column, or Trino refused it), or an error when
// Trino could not be asked.
func (a *API) checkMask(ctx context.Context, m sqlgen.Mask, t maskTarget) (string, error) {
	if err := a.awaitRevision(ctx, t.ds.Revision); err != nil {
		return "", err
	}
	where := "column " + t.col.Name + " of " + t.ds.SourceCatalog + "." + t.ds.SourceSchema + "." + t.ds.SourceTable
	expr, err := compileMaskFor(m, t.col, exposedNames(t.ds), a.opts.Views.Keys)
	if err != nil {
		return err.Error(), nil
	}
	src := sqlgen.QualifiedName{Catalog: t.ds.SourceCatalog, Schema: t.ds.SourceSchema, Name: t.ds.SourceTable}
	stmt, err := sqlgen.ExplainMask(src, t.col.Name, expr)
	if err != nil {
		return where + ": " + err.Error(), nil
	}
	if msg, err := trinoVerdict(a.opts.Trino.Exec(ctx, stmt)); msg != "" || err != nil {
		return where + ": Trino: " + msg, err
	}
	// Running the mask on sample values makes Trino compile a regex and
	// evaluate guards; a custom mask may read other columns and a hash
	// mask reads the key table as its own identity, so those two are
	// checked by EXPLAIN only.
	if m.Kind == sqlgen.MaskCustom || m.Kind == sqlgen.MaskHash {
		return "", nil
	}
	typ, _ := sqlgen.ParseType(t.col.Type) // compileMaskFor parsed it
	sample, err := sqlgen.SampleMask(sqlgen.Column{Name: t.col.Name, Type: typ}, expr)
	if err != nil {
		return where + ": " + err.Error(), nil
	}
	_, err = a.opts.Trino.Query(ctx, sample)
	if msg, err := trinoVerdict(err); msg != "" || err != nil {
		return where + ": Trino: " + msg, err
	}
	return "", nil
}

// trinoVerdict splits a Trino error into a refusal (its message, for the
// caller) and a failure to ask Trino at all.
func trinoVerdict(err error) (string, error) {
	var qe *views.QueryError
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &qe):
		return qe.Message, nil
	}
	return "", err
}

func (a *API) maskPolicyList(c *gin.Context) {
	g, err := a.opts.Store.GovernedSnapshot(c.Request.Context())
	if err != nil {
		failErr(c, err)
		return
	}
	out := []store.MaskPolicy{}
	for _, p := range g.MaskPolicies {
		if ds := c.Query("datasource_id"); ds == "" || ds == strconv.FormatInt(p.DatasourceID, 10) {
			out = append(out, p)
		}
	}
	c.JSON(http.StatusOK, gin.H{"mask_policies": out})
}

func (a *API) maskPolicyGet(c *gin.Context) { getByID(c, a.opts.Store.MaskPolicyGet) }

// mayManageDatasource checks the caller may manage data source dsID; 0
// (every data source) needs an administrator.
func (a *API) mayManageDatasource(c *gin.Context, dsID int64) bool {
	if dsID == 0 {
		if principal(c).Role < auth.RoleAdmin {
			fail(c, http.StatusForbidden, codeForbidden, "a policy on every data source needs the admin role")
			return false
		}
		return true
	}
	ds, err := a.opts.Store.DatasourceGet(c.Request.Context(), dsID)
	if err != nil {
		failErr(c, err)
		return false
	}
	return a.mayManage(c, ds)
}

func (a *API) maskPolicyDelete(c *gin.Context) {
	pid, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p, err := a.opts.Store.MaskPolicyGet(ctx, pid)
	if err != nil {
		failErr(c, err)
		return
	}
	if !a.mayManageDatasource(c, p.DatasourceID) {
		return
	}
	if err := a.opts.Store.InTx(ctx, func(tx *store.Tx) error { return tx.MaskPolicyDelete(ctx, actor(c), pid) }); err != nil {
		failErr(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type rowPolicyRequest struct {
	Name         string          `json:"name"`
	DatasourceID int64           `json:"datasource_id"`
	Policy       json.RawMessage `json:"policy"`
}

// rowPolicyCreate adds a row policy after compiling it against the view's
// exposed columns and having Trino analyse each rule's predicate over the
// source table, rendered for a probe user.
func (a *API) rowPolicyCreate(c *gin.Context) {
	var req rowPolicyRequest
	if !bindStrict(c, &req) {
		return
	}
	fields := map[string]string{}
	if !policyName.MatchString(req.Name) {
		fields["name"] = "must match " + policyName.String()
	}
	if req.DatasourceID <= 0 {
		fields["datasource_id"] = "is required"
	}
	var rp sqlgen.RowPolicy
	if !rawObject(req.Policy) {
		fields["policy"] = `is required: {"rules":[{"predicate":…}], "unfiltered_groups":[…]}`
	} else if err := decodeStrict(req.Policy, &rp); err != nil {
		fields["policy"] = err.Error()
	}
	if len(fields) > 0 {
		invalid(c, "invalid row policy", fields)
		return
	}
	if !a.trinoAvailable(c) {
		return
	}
	ctx := c.Request.Context()
	ds, err := a.opts.Store.DatasourceGet(ctx, req.DatasourceID)
	if errors.Is(err, store.ErrNotFound) {
		invalid(c, "invalid row policy", map[string]string{"datasource_id": "no data source " + strconv.FormatInt(req.DatasourceID, 10)})
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	if !a.mayManage(c, ds) {
		return
	}
	compiled, err := sqlgen.CompileRowPolicy(rp, exposedNames(ds))
	if err != nil {
		invalid(c, "invalid row policy", map[string]string{"policy": err.Error() + " (the view exposes " + strings.Join(exposedNames(ds), ", ") + ")"})
		return
	}
	src := sqlgen.QualifiedName{Catalog: ds.SourceCatalog, Schema: ds.SourceSchema, Name: ds.SourceTable}
	if err := a.awaitRevision(ctx, ds.Revision); err != nil {
		failTrino(c, err)
		return
	}
	for i, r := range rp.Rules {
		msg, err := a.checkPredicate(ctx, src, r.Predicate)
		if err != nil {
			failTrino(c, err)
			return
		}
		if msg != "" {
			invalid(c, "Trino refused a rule of the row policy", map[string]string{"policy.rules[" + strconv.Itoa(i) + "]": msg})
			return
		}
	}
	p := store.RowPolicy{Name: req.Name, DatasourceID: req.DatasourceID, Policy: req.Policy}
	err = a.opts.Store.InTx(ctx, func(tx *store.Tx) error {
		p, err = tx.RowPolicyCreate(ctx, actor(c), p)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		fail(c, http.StatusConflict, codeConflict, "a row policy named "+req.Name+" exists")
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"policy": p, "columns": compiled.Columns(), "placeholders": compiled.Placeholders()})
}

// probeShapes are the attribute values a predicate is tried with, in turn:
// an attribute's type is not known when a policy is written, so a
// predicate passes when Trino accepts it with attributes of one shape.
var probeShapes = []any{"x", 1, true, []any{"x"}}

// checkPredicate has Trino analyse a rule's predicate over the source,
// rendered for a probe user. It returns Trino's message for the first
// shape when no shape is accepted.
func (a *API) checkPredicate(ctx context.Context, src sqlgen.QualifiedName, predicate string) (string, error) {
	tmpl, err := sqlgen.ParseTemplate(predicate, nil)
	if err != nil {
		return err.Error(), nil
	}
	first := ""
	for _, shape := range probeShapes {
		u := &sqlgen.User{Name: "warden-probe", Groups: []string{"warden-probe"}, Attributes: map[string]any{}}
		for _, ph := range tmpl.Placeholders() {
			if attr, ok := strings.CutPrefix(ph, "user."); ok && attr != "name" && attr != "groups" {
				u.Attributes[attr] = shape
			}
		}
		rendered, err := tmpl.Render(u)
		if err != nil {
			return err.Error(), nil
		}
		stmt, err := sqlgen.ExplainRowFilter(src, rendered)
		if err != nil {
			return err.Error(), nil
		}
		msg, err := trinoVerdict(a.opts.Trino.Exec(ctx, stmt))
		if err != nil {
			return "", err
		}
		if msg == "" {
			return "", nil
		}
		if first == "" {
			first = msg
		}
		if len(u.Attributes) == 0 {
			break // no attribute to vary
		}
	}
	return first, nil
}

func (a *API) rowPolicyList(c *gin.Context) {
	g, err := a.opts.Store.GovernedSnapshot(c.Request.Context())
	if err != nil {
		failErr(c, err)
		return
	}
	out := []store.RowPolicy{}
	for _, p := range g.RowPolicies {
		if ds := c.Query("datasource_id"); ds == "" || ds == strconv.FormatInt(p.DatasourceID, 10) {
			out = append(out, p)
		}
	}
	c.JSON(http.StatusOK, gin.H{"row_policies": out})
}

func (a *API) rowPolicyGet(c *gin.Context) { getByID(c, a.opts.Store.RowPolicyGet) }

func (a *API) rowPolicyDelete(c *gin.Context) {
	a.deleteGoverned(c, func(ctx context.Context, id int64) (int64, error) {
		p, err := a.opts.Store.RowPolicyGet(ctx, id)
		return p.DatasourceID, err
	}, (*store.Tx).RowPolicyDelete)
}
