// Package adminapi is Warden's admin REST API under /api/v1: policies with
// revisions and rollback, the directory (read), and the change log. Every
// call but the OpenAPI document needs an OIDC bearer token; readers may
// read, administrators may change policy. Every change is recorded in the
// store's change log with the caller as actor.
package adminapi

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/rego"
	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/views"
)

// Options are the API's dependencies.
type Options struct {
	Store *store.Store
	Auth  *auth.Authenticator
	// Rego compiles uploaded modules exactly as the live policy will be.
	Rego rego.Options
	// Grants is OpenFGA, the authority for grants; nil when grants are off.
	Grants *grants.Source
	// Engine answers the effective-permission questions with the live
	// policy.
	Engine *policy.Engine
	// Extra are the sources every cluster shares (the grants source among
	// them), for building candidate policy sets in simulations.
	Extra []policy.Source
	// DivergenceFunc, when set, hears how many grants the last divergence
	// check found out of step between the change log and OpenFGA.
	DivergenceFunc func(n int)
	// Trino is Warden's client for the governed catalog: it reads source
	// tables' columns and checks masks and row policies; nil turns the
	// governed catalog's writes off (503).
	Trino *views.Client
	// Views are the governed catalog's options (its catalog name, Warden's
	// service user, the hash-mask key store), as the live catalog uses them.
	Views views.Options
	// Reconciler is the governed catalog's reconciler; nil when it is off.
	Reconciler Reconciler
}

// API serves /api/v1.
type API struct {
	opts Options
}

// New returns the API.
func New(opts Options) *API { return &API{opts: opts} }

// Register mounts the API on r.
func (a *API) Register(r gin.IRouter) {
	g := r.Group("/api/v1")
	g.GET("/openapi.json", serveOpenAPI)
	authed := g.Group("", a.authenticate)
	read := authed.Group("", require(auth.RoleReader))
	admin := authed.Group("", require(auth.RoleAdmin))

	read.GET("/policies/:cluster", a.policyGet)
	read.GET("/policies/:cluster/revisions", a.policyRevisions)
	admin.PUT("/policies/:cluster", a.policyPut)
	admin.PUT("/policies/:cluster/documents/*path", a.documentPut)
	admin.DELETE("/policies/:cluster/documents/*path", a.documentDelete)
	admin.POST("/policies/:cluster/rollback", a.policyRollback)

	read.GET("/users", a.userList)
	read.GET("/users/:name", a.userGet)
	read.GET("/groups", a.groupList)
	read.GET("/groups/:name", a.groupGet)

	read.GET("/changes", a.changes)

	read.GET("/audit/decisions", a.auditDecisions)
	read.GET("/audit/decisions/:decision_id", a.auditDecision)
	read.GET("/audit/aggregates/denies", a.auditDenies)
	read.GET("/audit/queries", a.auditQueries)
	read.GET("/audit/sampling", a.auditSampling)
	read.GET("/access", a.access)
	read.GET("/who", a.who)

	// Owners pass the role check; whether they may manage a particular
	// grant is decided by the grants model, in the handler.
	owner := authed.Group("", require(auth.RoleOwner))
	owner.POST("/grants", a.grantCreate)
	owner.DELETE("/grants", a.grantDelete)
	read.GET("/grants", a.grantList)
	read.GET("/grants/divergence", a.divergence)
	read.GET("/roles/:name", a.roleGet)
	read.GET("/roles", a.roleList)
	admin.POST("/roles", a.roleCreate)
	admin.DELETE("/roles/:name", a.roleDelete)
	admin.POST("/simulate", a.simulate)
	admin.POST("/views/sync", a.viewsSync)
	read.GET("/views/status", a.viewsStatus)

	// The governed catalog; owners are scoped to their sources in the
	// handlers, as for grants.
	owner.POST("/datasources", a.datasourceCreate)
	read.GET("/datasources", a.datasourceList)
	read.GET("/datasources/:id", a.datasourceGet)
	owner.PATCH("/datasources/:id", a.datasourcePatch)
	owner.POST("/datasources/:id/refresh", a.datasourceRefresh)
	owner.DELETE("/datasources/:id", a.datasourceDelete)
	owner.POST("/mask-policies", a.maskPolicyCreate)
	read.GET("/mask-policies", a.maskPolicyList)
	read.GET("/mask-policies/:id", a.maskPolicyGet)
	owner.DELETE("/mask-policies/:id", a.maskPolicyDelete)
	owner.POST("/row-policies", a.rowPolicyCreate)
	read.GET("/row-policies", a.rowPolicyList)
	read.GET("/row-policies/:id", a.rowPolicyGet)
	owner.DELETE("/row-policies/:id", a.rowPolicyDelete)
	owner.POST("/subscriptions", a.subscriptionCreate)
	read.GET("/subscriptions", a.subscriptionList)
	read.GET("/subscriptions/:id", a.subscriptionGet)
	owner.DELETE("/subscriptions/:id", a.subscriptionDelete)
	read.GET("/views/:id/sql", a.viewSQL)
}

// Error codes, a closed set shared with the decision endpoints.
const (
	codeInvalid       = "invalid_parameter"
	codeInvalidPolicy = "invalid_policy"
	codeUnauthorized  = "unauthorized"
	codeForbidden     = "forbidden"
	codeNotFound      = "not_found"
	codeConflict      = "conflict"
	codeUnavailable   = "unavailable"
	codeInternal      = "internal_error"
)

type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func fail(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, apiError{Code: code, Message: msg})
}

// failErr is the one place that maps domain errors to HTTP.
func failErr(c *gin.Context, err error) {
	var se *store.SchemaError
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(c, http.StatusNotFound, codeNotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		fail(c, http.StatusConflict, codeConflict, err.Error())
	case errors.Is(err, store.ErrInvalid):
		fail(c, http.StatusBadRequest, codeInvalid, err.Error())
	case errors.Is(err, grants.ErrInvalid):
		fail(c, http.StatusBadRequest, codeInvalid, err.Error())
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, grants.ErrUnavailable), errors.As(err, &se), errors.Is(err, context.DeadlineExceeded):
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "the store is unavailable; try again: "+err.Error())
	default:
		fail(c, http.StatusInternalServerError, codeInternal, err.Error())
	}
}

func (a *API) authenticate(c *gin.Context) {
	p, err := a.opts.Auth.Authenticate(c.Request.Context(), c.GetHeader("Authorization"))
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		fail(c, http.StatusServiceUnavailable, codeUnavailable, err.Error())
		return
	case err != nil:
		c.Header("WWW-Authenticate", `Bearer realm="warden"`)
		fail(c, http.StatusUnauthorized, codeUnauthorized, err.Error())
		return
	}
	c.Set("principal", p)
	c.Next()
}

func principal(c *gin.Context) *auth.Principal {
	v, _ := c.Get("principal")
	p, _ := v.(*auth.Principal)
	return p
}

// actor is what the change log records for the caller.
func actor(c *gin.Context) string {
	p := principal(c)
	if p.Name != "" && p.Name != p.Subject {
		return p.Name + " (" + p.Subject + ")"
	}
	return p.Subject
}

func require(role auth.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		if p == nil || p.Role < role {
			have := "no Warden role"
			if p != nil && p.Role != auth.RoleNone {
				have = "role " + p.Role.String()
			}
			fail(c, http.StatusForbidden, codeForbidden, "this needs the "+role.String()+" role; the token carries "+have)
			return
		}
		c.Next()
	}
}

var clusterName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func clusterParam(c *gin.Context) (string, bool) {
	name := c.Param("cluster")
	if !clusterName.MatchString(name) {
		fail(c, http.StatusBadRequest, codeInvalid, "cluster name "+strconv.Quote(name)+" must match "+clusterName.String())
		return "", false
	}
	return name, true
}

func intQuery(c *gin.Context, name string, def, max int64) (int64, bool) {
	s := c.Query(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || (max > 0 && n > max) {
		msg := "query parameter " + name + " must be a non-negative integer"
		if max > 0 {
			msg += " up to " + strconv.FormatInt(max, 10)
		}
		fail(c, http.StatusBadRequest, codeInvalid, msg)
		return 0, false
	}
	return n, true
}

// validate compiles a policy set exactly as a replica will, so a broken
// policy is rejected before anything is committed.
func (a *API) validate(docs []store.PolicyDocument) error {
	d, err := loader.DocumentsFromStore(docs)
	if err != nil {
		return err
	}
	_, err = loader.BuildSet(d, a.opts.Rego)
	return err
}
