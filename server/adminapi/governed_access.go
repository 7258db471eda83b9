package adminapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
)

// Subscriptions, which say who may query a data source's view, and the SQL
// a user effectively runs there; see governed.go.

type subscriptionRequest struct {
	DatasourceID int64               `json:"datasource_id"`
	Users        []string            `json:"users"`
	Groups       []string            `json:"groups"`
	Attributes   map[string][]string `json:"attributes"`
}

func (a *API) subscriptionCreate(c *gin.Context) {
	var req subscriptionRequest
	if !bindStrict(c, &req) {
		return
	}
	fields := map[string]string{}
	if req.DatasourceID <= 0 {
		fields["datasource_id"] = "is required"
	}
	if len(req.Users)+len(req.Groups)+len(req.Attributes) == 0 {
		fields["users"] = "name users, groups or attributes"
	}
	checkNames(fields, "users", req.Users)
	checkNames(fields, "groups", req.Groups)
	checkAttributes(fields, "attributes", req.Attributes)
	if len(fields) > 0 {
		invalid(c, "invalid subscription", fields)
		return
	}
	ctx := c.Request.Context()
	ds, err := a.opts.Store.DatasourceGet(ctx, req.DatasourceID)
	if errors.Is(err, store.ErrNotFound) {
		invalid(c, "invalid subscription", map[string]string{"datasource_id": "no data source " + strconv.FormatInt(req.DatasourceID, 10)})
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	if !a.mayManage(c, ds) {
		return
	}
	s := store.Subscription{DatasourceID: req.DatasourceID, Users: req.Users, Groups: req.Groups, Attributes: req.Attributes}
	err = a.opts.Store.InTx(ctx, func(tx *store.Tx) error {
		s, err = tx.SubscriptionCreate(ctx, actor(c), s)
		return err
	})
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusCreated, s)
}

func (a *API) subscriptionList(c *gin.Context) {
	g, err := a.opts.Store.GovernedSnapshot(c.Request.Context())
	if err != nil {
		failErr(c, err)
		return
	}
	out := []store.Subscription{}
	for _, s := range g.Subscriptions {
		if ds := c.Query("datasource_id"); ds == "" || ds == strconv.FormatInt(s.DatasourceID, 10) {
			out = append(out, s)
		}
	}
	c.JSON(http.StatusOK, gin.H{"subscriptions": out})
}

// viewSQL answers "what does this user run when they query this view?":
// the source's exposed columns with the user's masks inlined and the
// user's row filters, for the user as the live directory enriches them,
// compiled from the store's current governed catalog.
func (a *API) viewSQL(c *gin.Context) {
	dsID, ok := idParam(c)
	if !ok {
		return
	}
	user := c.Query("user")
	if user == "" {
		invalid(c, "user is required", map[string]string{"user": "a Trino user name"})
		return
	}
	sub := policy.Subject{User: user}
	if extra := c.Query("groups"); extra != "" {
		sub.Groups = mergeGroups(nil, strings.Split(extra, ","))
	}
	if a.opts.Engine != nil {
		if snap := a.opts.Engine.Snapshot(); snap != nil && snap.Directory != nil {
			snap.Directory.Enrich(&sub)
		}
	}
	ctx := c.Request.Context()
	g, err := a.opts.Store.GovernedSnapshot(ctx)
	if err != nil {
		failErr(c, err)
		return
	}
	if !slices.ContainsFunc(g.Datasources, func(ds store.Datasource) bool { return ds.ID == dsID }) {
		fail(c, http.StatusNotFound, codeNotFound, "no data source "+strconv.FormatInt(dsID, 10))
		return
	}
	cat, err := views.Compile(g, a.opts.Views)
	if err != nil {
		fail(c, http.StatusInternalServerError, codeInternal, "the governed catalog does not compile: "+err.Error())
		return
	}
	resp := gin.H{"datasource_id": dsID, "user": user, "groups": nonNil(sub.Groups), "attributes": sub.Attributes, "in_directory": sub.Known}
	if sub.Disabled != "" {
		resp["subscribed"], resp["reason"] = false, "every query of this user is denied: "+sub.Disabled
		c.JSON(http.StatusOK, resp)
		return
	}
	sql, err := cat.EffectiveSQL(dsID, sub)
	switch {
	case errors.Is(err, views.ErrNotSubscribed):
		resp["subscribed"], resp["reason"] = false, err.Error()
	case err != nil:
		// A policy that no longer compiles fails the user's queries.
		resp["subscribed"], resp["error"] = true, "the user's queries of this view fail: "+err.Error()
	default:
		resp["subscribed"], resp["sql"] = true, sql
	}
	c.JSON(http.StatusOK, resp)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) subscriptionGet(c *gin.Context) { getByID(c, a.opts.Store.SubscriptionGet) }

func (a *API) subscriptionDelete(c *gin.Context) {
	a.deleteGoverned(c, func(ctx context.Context, id int64) (int64, error) {
		s, err := a.opts.Store.SubscriptionGet(ctx, id)
		return s.DatasourceID, err
	}, (*store.Tx).SubscriptionDelete)
}

// getByID answers GET …/{id} with the object get returns.
func getByID[T any](c *gin.Context, get func(context.Context, int64) (T, error)) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	v, err := get(c.Request.Context(), id)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// deleteGoverned deletes a row policy or subscription after checking that
// the caller may manage its data source.
func (a *API) deleteGoverned(c *gin.Context, datasourceOf func(context.Context, int64) (int64, error),
	del func(tx *store.Tx, ctx context.Context, actor string, id int64) error) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	dsID, err := datasourceOf(ctx, id)
	if err != nil {
		failErr(c, err)
		return
	}
	if !a.mayManageDatasource(c, dsID) {
		return
	}
	if err := a.opts.Store.InTx(ctx, func(tx *store.Tx) error { return del(tx, ctx, actor(c), id) }); err != nil {
		failErr(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
