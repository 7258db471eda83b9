package adminapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/store"
)

// The audit endpoints read what the decision recorder wrote (package
// server/audit). Every one needs the reader role. The store's change log is
// GET /api/v1/changes; it is not repeated under /audit.

// auditParams collects query-parameter errors, to answer them all at once.
type auditParams struct {
	c      *gin.Context
	fields map[string]string
}

func (p *auditParams) time(name string) time.Time {
	s := p.c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.bad(name, "an RFC 3339 time, such as 2026-11-22T01:00:00Z")
	}
	return t
}

func (p *auditParams) oneOf(name string, allowed ...string) string {
	s := p.c.Query(name)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.bad(name, "one of "+strings.Join(allowed, ", "))
	return ""
}

func (p *auditParams) bad(name, want string) {
	if p.fields == nil {
		p.fields = map[string]string{}
	}
	p.fields[name] = want
}

// ok answers 400 with every bad parameter, and reports whether there was
// none.
func (p *auditParams) ok() bool {
	if len(p.fields) == 0 {
		return true
	}
	p.c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid query parameters", Fields: p.fields})
	return false
}

func (a *API) auditAvailable(c *gin.Context) bool {
	if a.opts.Store == nil {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "the decision audit needs database mode (WARDEN_DATABASE_URL)")
		return false
	}
	return true
}

// auditDecisions is GET /audit/decisions: recorded decisions, newest first,
// filtered by the query parameters and paged with an opaque cursor.
func (a *API) auditDecisions(c *gin.Context) {
	if !a.auditAvailable(c) {
		return
	}
	limit, ok := intQuery(c, "limit", 100, 1000)
	if !ok {
		return
	}
	p := &auditParams{c: c}
	f := store.AuditFilter{
		User: c.Query("user"), Group: c.Query("group"), Operation: c.Query("operation"),
		QueryID: c.Query("query_id"), Cluster: c.Query("cluster"),
		Catalog: c.Query("catalog"), Schema: c.Query("schema"), Table: c.Query("table"), Column: c.Query("column"),
		Outcome:  p.oneOf("outcome", "allow", "deny", "partial", "filter", "mask", "none", "error"),
		Endpoint: p.oneOf("endpoint", "allow", "batch", "rowFilters", "columnMask", "batchColumnMasks"),
		From:     p.time("from"), To: p.time("to"),
	}
	if !p.ok() {
		return
	}
	rows, next, err := a.opts.Store.AuditDecisions(c.Request.Context(), f, c.Query("cursor"), int(limit))
	if err != nil {
		failErr(c, err)
		return
	}
	resp := gin.H{"decisions": rows}
	if next != "" {
		resp["next_cursor"] = next
	}
	c.JSON(http.StatusOK, resp)
}

// auditDecision is GET /audit/decisions/{decision_id}: one decision with
// its full input and explanation.
func (a *API) auditDecision(c *gin.Context) {
	if !a.auditAvailable(c) {
		return
	}
	id := c.Param("decision_id")
	if id == "" || len(id) > 128 {
		fail(c, http.StatusBadRequest, codeInvalid, "decision_id must be 1 to 128 characters")
		return
	}
	d, err := a.opts.Store.AuditDecisionGet(c.Request.Context(), id)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// auditDenies is GET /audit/aggregates/denies: denials per user or table
// and per hour or day, over [from, to) (default: the last 24 hours).
func (a *API) auditDenies(c *gin.Context) {
	if !a.auditAvailable(c) {
		return
	}
	p := &auditParams{c: c}
	by := p.oneOf("by", "user", "table")
	bucket := p.oneOf("bucket", "hour", "day")
	from, to := p.time("from"), p.time("to")
	if !p.ok() {
		return
	}
	if by == "" {
		by = "user"
	}
	if bucket == "" {
		bucket = "hour"
	}
	if to.IsZero() {
		to = time.Now().UTC()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if !from.Before(to) {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid query parameters", Fields: map[string]string{"from": "before to"}})
		return
	}
	rows, err := a.opts.Store.AuditDenies(c.Request.Context(), by, bucket, from, to)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"by": by, "bucket": bucket, "from": from, "to": to, "denies": rows})
}

// auditQueries is GET /audit/queries: the Trino queries the event
// listener reported, newest first.
func (a *API) auditQueries(c *gin.Context) {
	if !a.auditAvailable(c) {
		return
	}
	limit, ok := intQuery(c, "limit", 100, 1000)
	if !ok {
		return
	}
	p := &auditParams{c: c}
	f := store.AuditQueryFilter{User: c.Query("user"), QueryID: c.Query("query_id"), State: c.Query("state"),
		Cluster: c.Query("cluster"), From: p.time("from"), To: p.time("to")}
	if !p.ok() {
		return
	}
	rows, next, err := a.opts.Store.AuditQueries(c.Request.Context(), f, c.Query("cursor"), int(limit))
	if err != nil {
		failErr(c, err)
		return
	}
	resp := gin.H{"queries": rows}
	if next != "" {
		resp["next_cursor"] = next
	}
	c.JSON(http.StatusOK, resp)
}

// auditSampling is GET /audit/sampling: how many decisions per hour and
// operation were skipped, sampled out or dropped, over [from, to) (default:
// the last 24 hours), so a replay can report its coverage.
func (a *API) auditSampling(c *gin.Context) {
	if !a.auditAvailable(c) {
		return
	}
	p := &auditParams{c: c}
	from, to := p.time("from"), p.time("to")
	if !p.ok() {
		return
	}
	if to.IsZero() {
		to = time.Now().UTC()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	rows, err := a.opts.Store.AuditSamplingList(c.Request.Context(), from, to)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"from": from, "to": to, "counts": rows})
}
