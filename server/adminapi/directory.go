package adminapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/store"
)

type page[T any] struct {
	Items []T    `json:"items"`
	Next  *int64 `json:"next_after,omitempty"`
}

func pageOf[T any](items []T, limit int64, id func(T) int64) page[T] {
	p := page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if int64(len(items)) == limit && len(items) > 0 {
		n := id(items[len(items)-1])
		p.Next = &n
	}
	return p
}

// pageQuery reads the after and limit parameters of a listing.
func pageQuery(c *gin.Context) (after, limit int64, ok bool) {
	if after, ok = intQuery(c, "after", 0, 0); !ok {
		return 0, 0, false
	}
	limit, ok = intQuery(c, "limit", 100, 1000)
	return after, limit, ok
}

func (a *API) userList(c *gin.Context) {
	after, limit, ok := pageQuery(c)
	if !ok {
		return
	}
	users, err := a.opts.Store.UserList(c.Request.Context(), after, int(limit))
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(users, limit, func(u store.User) int64 { return u.ID }))
}

func (a *API) userGet(c *gin.Context) {
	ctx := c.Request.Context()
	u, err := a.opts.Store.UserGetByName(ctx, c.Param("name"))
	if err != nil {
		failErr(c, err)
		return
	}
	groups, err := a.opts.Store.UserGroupList(ctx, u.UserName)
	if err != nil {
		failErr(c, err)
		return
	}
	u.Groups = make([]string, 0, len(groups))
	for _, g := range groups {
		u.Groups = append(u.Groups, g.Name)
	}
	c.JSON(http.StatusOK, u)
}

func (a *API) groupList(c *gin.Context) {
	after, limit, ok := pageQuery(c)
	if !ok {
		return
	}
	groups, err := a.opts.Store.GroupList(c.Request.Context(), after, int(limit))
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(groups, limit, func(g store.Group) int64 { return g.ID }))
}

func (a *API) groupGet(c *gin.Context) {
	ctx := c.Request.Context()
	g, err := a.opts.Store.GroupGetByName(ctx, c.Param("name"))
	if err != nil {
		failErr(c, err)
		return
	}
	members, err := a.opts.Store.GroupMemberList(ctx, g.Name)
	if err != nil {
		failErr(c, err)
		return
	}
	names := make([]string, 0, len(members))
	for _, m := range members {
		names = append(names, m.UserName)
	}
	c.JSON(http.StatusOK, gin.H{"group": g, "members": names})
}

func (a *API) changes(c *gin.Context) {
	cursor, ok := intQuery(c, "cursor", 0, 0)
	if !ok {
		return
	}
	limit, ok := intQuery(c, "limit", 100, 1000)
	if !ok {
		return
	}
	minRev, ok := intQuery(c, "min_revision", 0, 0)
	if !ok {
		return
	}
	f := store.ChangeFilter{Actor: c.Query("actor"), ObjectType: c.Query("object_type"), ObjectID: c.Query("object_id"), MinRevision: minRev}
	rows, next, err := a.opts.Store.Changes(c.Request.Context(), f, cursor, int(limit))
	if err != nil {
		failErr(c, err)
		return
	}
	resp := gin.H{"changes": rows}
	if rows == nil {
		resp["changes"] = []store.Change{}
	}
	if next != 0 {
		resp["next_cursor"] = next
	}
	c.JSON(http.StatusOK, resp)
}
