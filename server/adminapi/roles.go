package adminapi

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/store"
)

// Roles are created with POST /roles, then assigned with POST /grants
// {"principal": "user:alice", "privilege": "assignee", "object":
// "role:analyst"} and granted to with {"principal": "role:analyst", …}.
// roleGet shows both sides. Assigning or granting to a role that was not
// created is refused, so a typo cannot create a role nobody manages; tuples
// other systems write for roles still count in decisions.

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
	resp := gin.H{"role": name, "assignees": assignees, "grants": granted}
	if r, err := a.opts.Store.RoleGet(ctx, name); err == nil {
		resp["description"], resp["created_by"], resp["created_at"] = r.Description, r.CreatedBy, r.CreatedAt
	} else if !errors.Is(err, store.ErrNotFound) {
		failErr(c, err)
		return
	} else {
		resp["created"] = false // known to OpenFGA only (written by another system)
	}
	c.JSON(http.StatusOK, resp)
}

type roleRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (a *API) roleCreate(c *gin.Context) {
	var req roleRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		fail(c, http.StatusBadRequest, codeInvalid, "body must be {\"name\":…, \"description\":…}: "+err.Error())
		return
	}
	if !roleName.MatchString(req.Name) {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid role",
			Fields: map[string]string{"name": "must match " + roleName.String()}})
		return
	}
	if len(req.Description) > 1024 {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid role",
			Fields: map[string]string{"description": "at most 1024 bytes"}})
		return
	}
	r, err := a.opts.Store.RoleCreate(c.Request.Context(), actor(c), store.Role{Name: req.Name, Description: req.Description})
	if errors.Is(err, store.ErrConflict) {
		fail(c, http.StatusConflict, codeConflict, "role "+req.Name+" exists")
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (a *API) roleList(c *gin.Context) {
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fail(c, http.StatusBadRequest, codeInvalid, "limit must be 1 to 1000")
			return
		}
		limit = n
	}
	roles, err := a.opts.Store.RoleList(c.Request.Context(), c.Query("after"), limit)
	if err != nil {
		failErr(c, err)
		return
	}
	resp := gin.H{"roles": roles}
	if len(roles) == limit {
		resp["next_after"] = roles[len(roles)-1].Name
	}
	c.JSON(http.StatusOK, resp)
}

// roleDelete deletes a role that nothing is assigned to or granted to;
// revoke those first, so that deleting a role never leaves tuples behind.
func (a *API) roleDelete(c *gin.Context) {
	if !a.grantsAvailable(c) {
		return
	}
	name := c.Param("name")
	ctx := c.Request.Context()
	for _, f := range []grants.GrantFilter{{Object: "role:" + name, PageSize: 1}, {Principal: "role:" + name, PageSize: 1}} {
		page, err := a.opts.Grants.ListGrants(ctx, f)
		if err != nil {
			failErr(c, err)
			return
		}
		if len(page.Grants) > 0 || len(page.Raw) > 0 {
			fail(c, http.StatusConflict, codeConflict, "role "+name+" still has assignees or grants: revoke them first (GET /api/v1/roles/"+name+" lists them)")
			return
		}
	}
	err := a.opts.Store.RoleDelete(ctx, actor(c), name)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, http.StatusNotFound, codeNotFound, "no role "+name)
		return
	}
	if err != nil {
		failErr(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// roleMustExist refuses a grant that assigns or grants to a role nobody
// created.
func (a *API) roleMustExist(c *gin.Context, g grants.Grant) bool {
	for _, ref := range []string{g.Principal, g.Object} {
		name, ok := strings.CutPrefix(ref, "role:")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "#")
		_, err := a.opts.Store.RoleGet(c.Request.Context(), name)
		if errors.Is(err, store.ErrNotFound) {
			fail(c, http.StatusBadRequest, codeInvalid, "role "+name+" does not exist: create it with POST /api/v1/roles first")
			return false
		}
		if err != nil {
			failErr(c, err)
			return false
		}
	}
	return true
}
