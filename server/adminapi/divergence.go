package adminapi

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/store"
)

// divergence compares what the change log says Warden granted with what
// OpenFGA, the authority, stores: every grant whose last change was a
// create must exist there, every one whose last change was a delete must
// not. A grant still waiting in the outbox shows up as missing until it is
// delivered, so the answer also says how many deliveries are pending.
func (a *API) divergence(c *gin.Context) {
	if !a.grantsAvailable(c) {
		return
	}
	ctx := c.Request.Context()
	type last struct {
		action string
		grant  grants.Grant
	}
	latest := map[string]last{} // by tuple, newest change wins
	var cursor int64
	for {
		rows, next, err := a.opts.Store.Changes(ctx, store.ChangeFilter{ObjectType: "grant"}, cursor, 1000)
		if err != nil {
			failErr(c, err)
			return
		}
		for _, r := range rows {
			if _, seen := latest[r.ObjectID]; seen {
				continue // rows come newest first
			}
			raw := r.After
			if r.Action == "grant.delete" {
				raw = r.Before
			}
			var g grants.Grant
			if err := json.Unmarshal(raw, &g); err != nil {
				continue
			}
			latest[r.ObjectID] = last{action: r.Action, grant: g}
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	missing, lingering := []grants.Grant{}, []grants.Grant{}
	for _, l := range latest {
		t, err := l.grant.Tuple()
		if err != nil {
			continue
		}
		exists, err := a.opts.Grants.TupleExists(ctx, t)
		if err != nil {
			failErr(c, err)
			return
		}
		switch {
		case l.action == "grant.create" && !exists:
			missing = append(missing, l.grant)
		case l.action == "grant.delete" && exists:
			lingering = append(lingering, l.grant)
		}
	}
	pending, err := a.opts.Store.OutboxPending(ctx, outboxTopic)
	if err != nil {
		failErr(c, err)
		return
	}
	if a.opts.DivergenceFunc != nil {
		a.opts.DivergenceFunc(len(missing) + len(lingering))
	}
	c.JSON(http.StatusOK, gin.H{
		"checked":            len(latest),
		"missing_in_openfga": missing,
		"revoked_but_stored": lingering,
		"outbox_pending":     pending,
		"consistent":         len(missing)+len(lingering) == 0,
	})
}
