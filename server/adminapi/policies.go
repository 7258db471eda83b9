package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/store"
)

type policyPutRequest struct {
	Documents []store.PolicyDocument `json:"documents"`
	Message   string                 `json:"message"`
}

type revisionResponse struct {
	Cluster  string `json:"cluster"`
	Revision int64  `json:"revision"`
}

// checkDocuments validates the request's shape, field by field.
func checkDocuments(docs []store.PolicyDocument) map[string]string {
	fields := map[string]string{}
	seen := map[string]bool{}
	rules := 0
	for i, d := range docs {
		p := fmt.Sprintf("documents[%d]", i)
		switch d.Kind {
		case store.KindRules:
			rules++
		case store.KindRego, store.KindData:
		default:
			fields[p+".kind"] = fmt.Sprintf("must be rules, rego or data, got %q", d.Kind)
		}
		switch {
		case d.Path == "":
			fields[p+".path"] = "is required"
		case seen[d.Path]:
			fields[p+".path"] = "duplicates an earlier document's path " + d.Path
		}
		seen[d.Path] = true
	}
	if rules > 1 {
		fields["documents"] = "holds more than one rules document"
	}
	return fields
}

func (a *API) policyPut(c *gin.Context) {
	cluster, ok := clusterParam(c)
	if !ok {
		return
	}
	var req policyPutRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		fail(c, http.StatusBadRequest, codeInvalid, "malformed body: "+err.Error())
		return
	}
	a.commitSet(c, cluster, req.Documents, req.Message)
}

// commitSet validates and compiles a whole set, then commits it as one new
// revision. Nothing is written when anything is wrong.
func (a *API) commitSet(c *gin.Context, cluster string, docs []store.PolicyDocument, message string) {
	if fields := checkDocuments(docs); len(fields) > 0 {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid policy documents", Fields: fields})
		return
	}
	if err := a.validate(docs); err != nil {
		fail(c, http.StatusBadRequest, codeInvalidPolicy, "the policy does not compile; nothing was changed: "+err.Error())
		return
	}
	rev, err := a.opts.Store.PolicyPut(c.Request.Context(), actor(c), cluster, docs, message)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, revisionResponse{Cluster: cluster, Revision: rev})
}

// current returns a cluster's latest documents; none for a cluster without
// a policy yet.
func (a *API) current(c *gin.Context, cluster string) ([]store.PolicyDocument, bool) {
	set, err := a.opts.Store.PolicyGet(c.Request.Context(), cluster, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, true
	}
	if err != nil {
		failErr(c, err)
		return nil, false
	}
	return set.Documents, true
}

func docPath(c *gin.Context) (string, bool) {
	p := strings.TrimPrefix(c.Param("path"), "/")
	if p == "" {
		fail(c, http.StatusBadRequest, codeInvalid, "the document path is missing: /policies/{cluster}/documents/{path}")
		return "", false
	}
	return p, true
}

// documentPut adds or replaces one document of a cluster's current set. The
// body is the document's content; the kind follows from the path (a
// .rego file, a rules.json, a data.json) or the kind query parameter.
func (a *API) documentPut(c *gin.Context) {
	cluster, ok := clusterParam(c)
	if !ok {
		return
	}
	path, ok := docPath(c)
	if !ok {
		return
	}
	kind := store.DocumentKind(c.Query("kind"))
	if kind == "" {
		switch {
		case strings.HasSuffix(path, ".rego"):
			kind = store.KindRego
		case strings.HasSuffix(path, "data.json"):
			kind = store.KindData
		case strings.HasSuffix(path, ".json"):
			kind = store.KindRules
		default:
			fail(c, http.StatusBadRequest, codeInvalid, "cannot tell the kind of "+path+": pass ?kind=rules|rego|data")
			return
		}
	}
	body, err := c.GetRawData()
	if err != nil {
		fail(c, http.StatusBadRequest, codeInvalid, "reading the body: "+err.Error())
		return
	}
	docs, ok := a.current(c, cluster)
	if !ok {
		return
	}
	out := make([]store.PolicyDocument, 0, len(docs)+1)
	for _, d := range docs {
		if d.Path == path {
			continue
		}
		if kind == store.KindRules && d.Kind == store.KindRules {
			continue // a set has one rules document: this one replaces it
		}
		out = append(out, d)
	}
	out = append(out, store.PolicyDocument{Kind: kind, Path: path, Content: string(body)})
	a.commitSet(c, cluster, out, c.Query("message"))
}

func (a *API) documentDelete(c *gin.Context) {
	cluster, ok := clusterParam(c)
	if !ok {
		return
	}
	path, ok := docPath(c)
	if !ok {
		return
	}
	docs, ok := a.current(c, cluster)
	if !ok {
		return
	}
	out := make([]store.PolicyDocument, 0, len(docs))
	for _, d := range docs {
		if d.Path != path {
			out = append(out, d)
		}
	}
	if len(out) == len(docs) {
		fail(c, http.StatusNotFound, codeNotFound, "cluster "+cluster+" has no document "+path)
		return
	}
	a.commitSet(c, cluster, out, c.Query("message"))
}

func (a *API) policyGet(c *gin.Context) {
	cluster, ok := clusterParam(c)
	if !ok {
		return
	}
	rev, ok := intQuery(c, "revision", 0, 0)
	if !ok {
		return
	}
	set, err := a.opts.Store.PolicyGet(c.Request.Context(), cluster, rev)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, set)
}

func (a *API) policyRevisions(c *gin.Context) {
	cluster, ok := clusterParam(c)
	if !ok {
		return
	}
	limit, ok := intQuery(c, "limit", 50, 1000)
	if !ok {
		return
	}
	before, ok := intQuery(c, "before", 0, 0)
	if !ok {
		return
	}
	revs, err := a.opts.Store.PolicyRevisions(c.Request.Context(), cluster, int(limit), before)
	if err != nil {
		failErr(c, err)
		return
	}
	resp := gin.H{"revisions": revs}
	if len(revs) > 0 && int64(len(revs)) == limit {
		resp["next_before"] = revs[len(revs)-1].Revision
	}
	c.JSON(http.StatusOK, resp)
}

type rollbackRequest struct {
	Revision int64 `json:"revision"`
}

// policyRollback restores an earlier revision's documents as a new
// revision, after checking that they still compile.
func (a *API) policyRollback(c *gin.Context) {
	cluster, ok := clusterParam(c)
	if !ok {
		return
	}
	var req rollbackRequest
	if err := c.ShouldBindJSON(&req); err != nil || req.Revision <= 0 {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "body must be {\"revision\": N} with N > 0",
			Fields: map[string]string{"revision": "a positive revision number"}})
		return
	}
	old, err := a.opts.Store.PolicyGet(c.Request.Context(), cluster, req.Revision)
	if err != nil {
		failErr(c, err)
		return
	}
	if old.Revision != req.Revision {
		// PolicyGet answers with the set in force at a revision; rollback
		// targets only revisions that changed this cluster's policy.
		fail(c, http.StatusNotFound, codeNotFound, fmt.Sprintf("cluster %s has no policy revision %d (see /policies/%s/revisions)", cluster, req.Revision, cluster))
		return
	}
	if err := a.validate(old.Documents); err != nil {
		fail(c, http.StatusBadRequest, codeInvalidPolicy, fmt.Sprintf("revision %d no longer compiles; nothing was changed: %v", req.Revision, err))
		return
	}
	rev, err := a.opts.Store.PolicyRollback(c.Request.Context(), actor(c), cluster, req.Revision)
	if err != nil {
		failErr(c, err)
		return
	}
	c.JSON(http.StatusOK, revisionResponse{Cluster: cluster, Revision: rev})
}
