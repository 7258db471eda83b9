package adminapi

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
)

// The effective-permission endpoints run the full decision, every source
// included, for a user and an object: what Trino would be told.

// privilegeCheck is the operation that stands for a privilege on an object.
type privilegeCheck struct {
	privilege string
	op        trino.Operation
}

var checksByType = map[string][]privilegeCheck{
	grants.TypeCatalog: {{"use", trino.OpAccessCatalog}, {"show_schemas", trino.OpShowSchemas}, {"create_catalog", trino.OpCreateCatalog}},
	grants.TypeSchema:  {{"show_tables", trino.OpShowTables}, {"ownership", trino.OpDropSchema}},
	grants.TypeTable: {{"select", trino.OpSelectFromColumns}, {"insert", trino.OpInsertIntoTable}, {"update", trino.OpUpdateTableColumns},
		{"delete", trino.OpDeleteFromTable}, {"ownership", trino.OpDropTable}, {"grant_select", trino.OpCreateViewWithSelectFromColumns},
		{"show_columns", trino.OpShowColumns}},
	grants.TypeRoutine: {{"execute", trino.OpExecuteFunction}, {"execute_procedure", trino.OpExecuteProcedure}},
}

func requestFor(op trino.Operation, o grants.Object, cluster, user string, groups []string) *policy.Request {
	var res trino.Resource
	switch o.Type {
	case grants.TypeCatalog:
		res.Catalog = &trino.Catalog{Name: o.Parts[0]}
	case grants.TypeSchema:
		res.Schema = &trino.Schema{CatalogName: o.Parts[0], SchemaName: o.Parts[1]}
	case grants.TypeTable:
		res.Table = &trino.Table{CatalogName: o.Parts[0], SchemaName: o.Parts[1], TableName: o.Parts[2], Columns: []string{}}
	case grants.TypeRoutine:
		res.Function = &trino.Function{CatalogName: o.Parts[0], SchemaName: o.Parts[1], FunctionName: o.Parts[2]}
	}
	in := trino.Input{
		Context: trino.Context{Identity: trino.Identity{User: user, Groups: groups}, SoftwareStack: trino.SoftwareStack{TrinoVersion: "warden"}},
		Action:  trino.Action{Operation: op.String(), Resource: &res},
	}
	return &policy.Request{Request: &trino.Request{Input: in, Op: op}, Endpoint: trino.EndpointAllow, Cluster: cluster,
		Subject: policy.Subject{User: user, Groups: groups}, Explain: true}
}

// parseAccessQuery reads cluster and object, and answers 400 itself.
func (a *API) parseAccessQuery(c *gin.Context) (cluster string, o grants.Object, ok bool) {
	if a.opts.Engine == nil {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "no policy engine")
		return "", o, false
	}
	cluster = c.DefaultQuery("cluster", policy.DefaultCluster)
	obj := c.Query("object")
	if obj == "" {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "object is required",
			Fields: map[string]string{"object": "catalog:C, schema:C.S, table:C.S.T or routine:C.S.F"}})
		return "", o, false
	}
	o, err := grants.ParseObject(obj)
	if err == nil && checksByType[o.Type] == nil {
		err = errors.New(o.Type + " objects have no Trino privileges to check; use catalog, schema, table or routine")
	}
	if err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid object", Fields: map[string]string{"object": err.Error()}})
		return "", o, false
	}
	return cluster, o, true
}

// directoryGroups returns a user's groups in the directory, none for a user
// the directory does not know.
func (a *API) directoryGroups(ctx context.Context, user string) ([]string, bool, error) {
	gs, err := a.opts.Store.UserGroupList(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out, true, nil
}

type accessDecision struct {
	Allowed bool   `json:"allowed"`
	Decider string `json:"decider"`
}

// access answers "what may this user do on this object?": each privilege
// of the object's type, decided as Trino would be told.
func (a *API) access(c *gin.Context) {
	cluster, o, ok := a.parseAccessQuery(c)
	if !ok {
		return
	}
	user := c.Query("user")
	if user == "" {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "user is required", Fields: map[string]string{"user": "a Trino user name"}})
		return
	}
	ctx := c.Request.Context()
	groups, known, err := a.directoryGroups(ctx, user)
	if err != nil {
		failErr(c, err)
		return
	}
	if extra := c.Query("groups"); extra != "" {
		groups = mergeGroups(groups, strings.Split(extra, ","))
	}
	out := map[string]accessDecision{}
	for _, pc := range checksByType[o.Type] {
		d, err := a.opts.Engine.Decide(ctx, requestFor(pc.op, o, cluster, user, groups))
		if err != nil {
			failErr(c, err)
			return
		}
		out[pc.privilege] = accessDecision{Allowed: d.Allowed, Decider: d.Explanation.Decider}
	}
	c.JSON(http.StatusOK, gin.H{"user": user, "groups": groups, "in_directory": known, "object": o.String(), "cluster": cluster, "privileges": out})
}

func mergeGroups(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range append(append([]string{}, a...), b...) {
		if g = strings.TrimSpace(g); g != "" && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

// who answers "who may PRIVILEGE on OBJECT?" by running the full decision
// for every user of the directory, a page at a time. Users the directory
// does not know (service accounts, users only Trino's group provider knows)
// are not covered, and the answer says so.
func (a *API) who(c *gin.Context) {
	cluster, o, ok := a.parseAccessQuery(c)
	if !ok {
		return
	}
	priv := c.Query("privilege")
	var op trino.Operation
	var names []string
	for _, pc := range checksByType[o.Type] {
		names = append(names, pc.privilege)
		if pc.privilege == priv {
			op = pc.op
		}
	}
	if op == trino.OpUnknown {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid privilege",
			Fields: map[string]string{"privilege": "for a " + o.Type + ": one of " + strings.Join(names, ", ")}})
		return
	}
	after, limit, ok := pageQuery(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	users, err := a.opts.Store.UserList(ctx, after, int(limit))
	if err != nil {
		failErr(c, err)
		return
	}
	type entry struct {
		User    string   `json:"user"`
		Groups  []string `json:"groups"`
		Decider string   `json:"decider"`
	}
	allowed := []entry{}
	var dir *policy.Directory
	if snap := a.opts.Engine.Snapshot(); snap != nil {
		dir = snap.Directory
	}
	for _, u := range users {
		if !u.Active {
			continue
		}
		// The name Trino would send for this user, under identity.*; the
		// engine adds the directory's groups itself.
		name := u.UserName
		if dir != nil {
			if name = dir.NameOf(policy.DirectoryUser{UserName: u.UserName, Email: u.Email, ExternalID: u.ExternalID,
				Attributes: u.Attributes}); name == "" {
				continue
			}
		}
		d, err := a.opts.Engine.Decide(ctx, requestFor(op, o, cluster, name, nil))
		if err != nil {
			failErr(c, err)
			return
		}
		if d.Allowed {
			allowed = append(allowed, entry{User: name, Groups: d.Explanation.Groups, Decider: d.Explanation.Decider})
		}
	}
	resp := gin.H{"object": o.String(), "privilege": priv, "cluster": cluster, "allowed": allowed, "checked": len(users),
		"coverage": "users in Warden's directory only; users it does not know, and groups only Trino's group provider supplies, are not covered"}
	if int64(len(users)) == limit && len(users) > 0 {
		resp["next_after"] = users[len(users)-1].ID
	}
	c.JSON(http.StatusOK, resp)
}
