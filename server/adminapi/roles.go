package adminapi

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy/grants"
)

// A role exists in the grants model as soon as someone is assigned to it or
// something is granted to it: assign with POST /grants {"principal":
// "user:alice", "privilege": "assignee", "object": "role:analyst"}, grant to
// it with {"principal": "role:analyst", …}. roleGet shows both sides.

var roleName = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,128}$`)

func (a *API) roleGet(c *gin.Context) {
	if !a.grantsAvailable(c) {
		return
	}
	name := c.Param("name")
	if !roleName.MatchString(name) {
		fail(c, http.StatusBadRequest, codeInvalid, "role name must match "+roleName.String())
		return
	}
	ctx := c.Request.Context()
	collect := func(f grants.GrantFilter) ([]grants.Grant, bool) {
		out := []grants.Grant{}
		for {
			page, err := a.opts.Grants.ListGrants(ctx, f)
			if err != nil {
				failErr(c, err)
				return nil, false
			}
			out = append(out, page.Grants...)
			if page.ContinuationToken == "" || len(out) >= 10000 {
				return out, true
			}
			f.ContinuationToken = page.ContinuationToken
		}
	}
	assigned, ok := collect(grants.GrantFilter{Object: "role:" + name, PageSize: 100})
	if !ok {
		return
	}
	granted, ok := collect(grants.GrantFilter{Principal: "role:" + name, PageSize: 100})
	if !ok {
		return
	}
	assignees := make([]string, 0, len(assigned))
	for _, g := range assigned {
		if g.Privilege == "assignee" {
			assignees = append(assignees, g.Principal)
		}
	}
	c.JSON(http.StatusOK, gin.H{"role": name, "assignees": assignees, "grants": granted})
}
