package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/store"
)

// Grants are written through the outbox: the API records the change and an
// outbox row in one transaction, then delivers the row to OpenFGA (the
// authority for grants) and, once the tuple is written, takes a new
// revision so every replica's grants cache moves past the change. If
// OpenFGA is unreachable the row stays in the outbox and RunOutbox retries
// it with backoff.

const outboxTopic = "openfga.tuples"

type tupleChange struct {
	Writes  []grants.Tuple `json:"writes,omitempty"`
	Deletes []grants.Tuple `json:"deletes,omitempty"`
}

type grantResponse struct {
	Grant    grants.Grant `json:"grant"`
	Status   string       `json:"status"` // "applied" or "pending"
	Revision int64        `json:"revision"`
	Message  string       `json:"message,omitempty"`
}

func (a *API) grantsAvailable(c *gin.Context) bool {
	if a.opts.Grants == nil {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "grants need OpenFGA: set WARDEN_OPENFGA_API_URL")
		return false
	}
	return true
}

// bindGrant decodes and validates a grant, answering 400 with one message
// per field.
func bindGrant(c *gin.Context) (grants.Grant, grants.Tuple, bool) {
	var g grants.Grant
	if err := c.ShouldBindJSON(&g); err != nil {
		fail(c, http.StatusBadRequest, codeInvalid, "malformed body: "+err.Error())
		return g, grants.Tuple{}, false
	}
	fields := map[string]string{}
	for name, v := range map[string]string{"principal": g.Principal, "privilege": g.Privilege, "object": g.Object} {
		if v == "" {
			fields[name] = "is required"
		}
	}
	if len(fields) > 0 {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid grant", Fields: fields})
		return g, grants.Tuple{}, false
	}
	t, err := g.Tuple()
	var fe *grants.FieldError
	if errors.As(err, &fe) {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid grant", Fields: map[string]string{fe.Field: fe.Err.Error()}})
		return g, t, false
	}
	if err != nil {
		fail(c, http.StatusBadRequest, codeInvalid, err.Error())
		return g, t, false
	}
	if g.ExpiresAt != nil && !g.ExpiresAt.After(time.Now()) {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid grant", Fields: map[string]string{"expires_at": "is in the past"}})
		return g, t, false
	}
	return g, t, true
}

// mayAdminister lets administrators manage any grant, and data owners the
// grants under an object where the grants model gives them grant_admin.
func (a *API) mayAdminister(c *gin.Context, g grants.Grant) bool {
	p := principal(c)
	if p.Role >= auth.RoleAdmin {
		return true
	}
	if p.Role == auth.RoleOwner {
		ok, err := a.opts.Grants.MayAdminister(c.Request.Context(), p.Name, p.Values, g.Object)
		if err != nil {
			failErr(c, err)
			return false
		}
		if ok {
			return true
		}
		fail(c, http.StatusForbidden, codeForbidden, "you hold no grant_admin on "+g.Object+" or a catalog or schema above it")
		return false
	}
	fail(c, http.StatusForbidden, codeForbidden, "managing grants needs the admin role, or the owner role with grant_admin on the object")
	return false
}

func (a *API) grantCreate(c *gin.Context) { a.grantChange(c, "grant.create") }
func (a *API) grantDelete(c *gin.Context) { a.grantChange(c, "grant.delete") }

func (a *API) grantChange(c *gin.Context, action string) {
	if !a.grantsAvailable(c) {
		return
	}
	g, t, ok := bindGrant(c)
	if !ok || !a.mayAdminister(c, g) {
		return
	}
	if action == "grant.create" && !a.roleMustExist(c, g) {
		return
	}
	ctx := c.Request.Context()
	change := tupleChange{Writes: []grants.Tuple{t}}
	var before, after any = nil, g
	if action == "grant.delete" {
		change = tupleChange{Deletes: []grants.Tuple{t}}
		before, after = g, nil
	}
	var rev int64
	err := a.opts.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if rev, err = tx.Revision(ctx); err != nil {
			return err
		}
		if _, err := tx.ChangeRecord(ctx, store.Change{Actor: actor(c), Action: action, ObjectType: "grant", ObjectID: t.String(),
			Before: mustJSON(before), After: mustJSON(after)}); err != nil {
			return err
		}
		_, err = tx.OutboxEnqueue(ctx, outboxTopic, change)
		return err
	})
	if err != nil {
		failErr(c, err)
		return
	}
	resp := grantResponse{Grant: g, Revision: rev, Status: "applied"}
	if err := a.DeliverOutbox(ctx); err != nil {
		resp.Status = "pending"
		resp.Message = "recorded, but OpenFGA could not be reached; the outbox retries until it is written: " + err.Error()
		c.JSON(http.StatusAccepted, resp)
		return
	}
	c.JSON(http.StatusOK, resp)
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("adminapi: marshal %T: %v", v, err))
	}
	return b
}

// DeliverOutbox writes every due tuple change to OpenFGA. Writes are
// idempotent, so a retried row is harmless. After writing, it takes a new
// revision so every replica's grants cache moves past the change.
func (a *API) DeliverOutbox(ctx context.Context) error {
	items, err := a.opts.Store.OutboxClaim(ctx, outboxTopic, 100, 30*time.Second)
	if err != nil {
		return err
	}
	var firstErr error
	wrote := false
	for _, it := range items {
		var ch tupleChange
		if err := json.Unmarshal(it.Payload, &ch); err != nil {
			// A row Warden cannot read never succeeds; keep it visible.
			_, _ = a.opts.Store.OutboxRetry(ctx, it.ID, fmt.Errorf("undecodable payload: %w", err))
			continue
		}
		if err := a.opts.Grants.WriteTuples(ctx, ch.Writes, ch.Deletes); err != nil {
			if _, rerr := a.opts.Store.OutboxRetry(ctx, it.ID, err); rerr != nil && firstErr == nil {
				firstErr = rerr
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := a.opts.Store.OutboxDone(ctx, it.ID); err != nil && firstErr == nil {
			firstErr = err
		}
		wrote = true
	}
	if wrote {
		if err := a.opts.Store.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Revision(ctx)
			return err
		}); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// RunOutbox delivers pending tuple changes every interval until ctx is
// done: what an OpenFGA outage left behind reaches it when it returns.
func (a *API) RunOutbox(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	if a.opts.Grants == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.DeliverOutbox(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("grant delivery to OpenFGA failed; will retry", "error", err)
			}
		}
	}
}

func (a *API) grantList(c *gin.Context) {
	if !a.grantsAvailable(c) {
		return
	}
	size, ok := intQuery(c, "page_size", 50, 100)
	if !ok {
		return
	}
	f := grants.GrantFilter{Principal: c.Query("principal"), Object: c.Query("object"), Type: c.Query("type"),
		PageSize: int32(size), ContinuationToken: c.Query("page_token")}
	if f.Principal == "" && f.Object == "" {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "filter by principal or object",
			Fields: map[string]string{"principal": "set principal (user:NAME, group:NAME, role:NAME) or object"}})
		return
	}
	// A principal-only listing walks object types page by page; keep
	// reading until the page has something or the listing ends, so callers
	// do not see empty pages in the middle.
	var page grants.GrantPage
	var err error
	for range 16 {
		var p grants.GrantPage
		p, err = a.opts.Grants.ListGrants(c.Request.Context(), f)
		if err != nil {
			break
		}
		page.Grants = append(page.Grants, p.Grants...)
		page.Raw = append(page.Raw, p.Raw...)
		page.ContinuationToken = p.ContinuationToken
		if len(page.Grants)+len(page.Raw) > 0 || p.ContinuationToken == "" {
			break
		}
		f.ContinuationToken = p.ContinuationToken
	}
	var fe *grants.FieldError
	if errors.As(err, &fe) {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid filter", Fields: map[string]string{fe.Field: fe.Err.Error()}})
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	resp := gin.H{"grants": page.Grants, "page_token": page.ContinuationToken}
	if page.Grants == nil {
		resp["grants"] = []grants.Grant{}
	}
	if len(page.Raw) > 0 {
		resp["foreign_tuples"] = page.Raw
	}
	c.JSON(http.StatusOK, resp)
}
