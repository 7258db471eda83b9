package adminapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/views"
)

// Reconciler is the governed catalog's reconciler, as the API drives it.
type Reconciler interface {
	Sync(ctx context.Context, dryRun, checkStale bool) (views.Plan, error)
	Status() views.Status
}

type syncRequest struct {
	DryRun bool `json:"dry_run"`
}

// viewsSync plans, and unless dry_run applies, the changes that make the
// governed catalog match the registrations, now. The reconciler also runs
// on its own; this is for operators and scripts.
func (a *API) viewsSync(c *gin.Context) {
	if a.opts.Reconciler == nil {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "the governed catalog is off: set views.trino_url")
		return
	}
	var req syncRequest
	if c.Request.ContentLength != 0 {
		if err := c.ShouldBindJSON(&req); err != nil {
			fail(c, http.StatusBadRequest, codeInvalid, `body must be {"dry_run": bool}: `+err.Error())
			return
		}
	}
	plan, err := a.opts.Reconciler.Sync(c.Request.Context(), req.DryRun, true)
	resp := gin.H{"dry_run": req.DryRun, "plan": plan}
	if !req.DryRun {
		resp["status"] = a.opts.Reconciler.Status()
	}
	if err != nil {
		resp["error"] = err.Error()
		c.JSON(http.StatusBadGateway, resp)
		return
	}
	c.JSON(http.StatusOK, resp)
}

func (a *API) viewsStatus(c *gin.Context) {
	if a.opts.Reconciler == nil {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "the governed catalog is off: set views.trino_url")
		return
	}
	c.JSON(http.StatusOK, a.opts.Reconciler.Status())
}
