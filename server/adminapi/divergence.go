package adminapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/store"
)

// DivergenceReport compares what the change log says Warden granted with
// what OpenFGA, the authority, stores.
type DivergenceReport struct {
	Checked   int            `json:"checked"`
	Missing   []grants.Grant `json:"missing_in_openfga"`
	Lingering []grants.Grant `json:"revoked_but_stored"`
	Pending   int64          `json:"outbox_pending"`
}

// Consistent reports that nothing diverges.
func (r DivergenceReport) Consistent() bool { return len(r.Missing)+len(r.Lingering) == 0 }

// Divergence checks every grant whose last change was a create exists in
// OpenFGA, and every one whose last change was a delete does not. A grant
// still waiting in the outbox shows up as missing until it is delivered,
// so the report also says how many deliveries are pending. The
// DivergenceFunc hook hears the count.
func (a *API) Divergence(ctx context.Context) (DivergenceReport, error) {
	type last struct {
		action string
		grant  grants.Grant
	}
	latest := map[string]last{} // by tuple, newest change wins
	var cursor int64
	for {
		rows, next, err := a.opts.Store.Changes(ctx, store.ChangeFilter{ObjectType: "grant"}, cursor, 1000)
		if err != nil {
			return DivergenceReport{}, err
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
	rep := DivergenceReport{Checked: len(latest), Missing: []grants.Grant{}, Lingering: []grants.Grant{}}
	for _, l := range latest {
		t, err := l.grant.Tuple()
		if err != nil {
			continue
		}
		exists, err := a.opts.Grants.TupleExists(ctx, t)
		if err != nil {
			return DivergenceReport{}, err
		}
		switch {
		case l.action == "grant.create" && !exists:
			rep.Missing = append(rep.Missing, l.grant)
		case l.action == "grant.delete" && exists:
			rep.Lingering = append(rep.Lingering, l.grant)
		}
	}
	pending, err := a.opts.Store.OutboxPending(ctx, outboxTopic)
	if err != nil {
		return DivergenceReport{}, err
	}
	rep.Pending = pending
	if a.opts.DivergenceFunc != nil {
		a.opts.DivergenceFunc(len(rep.Missing) + len(rep.Lingering))
	}
	return rep, nil
}

func (a *API) divergence(c *gin.Context) {
	if !a.grantsAvailable(c) {
		return
	}
	rep, err := a.Divergence(c.Request.Context())
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"checked":            rep.Checked,
		"missing_in_openfga": rep.Missing,
		"revoked_but_stored": rep.Lingering,
		"outbox_pending":     rep.Pending,
		"consistent":         rep.Consistent(),
	})
}

// RunDivergenceCheck runs Divergence every interval until ctx ends, and
// logs what it finds: the metric then shows a divergence without anyone
// asking for the report.
func (a *API) RunDivergenceCheck(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	if a.opts.Grants == nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := a.Divergence(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("grants divergence check failed", "error", err)
		case err == nil && !rep.Consistent():
			logger.Warn("grants diverge between the change log and OpenFGA", "missing_in_openfga", len(rep.Missing),
				"revoked_but_stored", len(rep.Lingering), "outbox_pending", rep.Pending)
		}
	}
}
