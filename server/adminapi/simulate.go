package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/grants"
	"github.com/trino-warden/warden/policy/loader"
	"github.com/trino-warden/warden/policy/simulate"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
)

// simulateRequest is a candidate change and the recorded traffic to try it
// on. Documents replace or add policy documents of the cluster by path (an
// empty content deletes one); Grants add and remove grants.
type simulateRequest struct {
	Cluster   string                 `json:"cluster"`
	From      time.Time              `json:"from"`
	To        time.Time              `json:"to"`
	Documents []store.PolicyDocument `json:"documents"`
	Grants    struct {
		Add    []grants.Grant `json:"add"`
		Remove []grants.Grant `json:"remove"`
	} `json:"grants"`
	// Limit caps the decisions replayed (default and maximum 100,000).
	Limit       int `json:"limit"`
	MaxExamples int `json:"max_examples"`
}

const maxSimulated = 100_000

type simulateResponse struct {
	*simulate.Report
	Cluster string    `json:"cluster"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	// Truncated says the window held more decisions than Limit.
	Truncated bool `json:"truncated"`
	// SampledOut counts decisions in the window that sampling rules kept
	// out of the audit, so they could not be replayed.
	SampledOut int64 `json:"sampled_out"`
	// Directory says which directory the replay used.
	Directory string `json:"directory"`
}

// simulate replays recorded decisions against the live policy with a
// candidate change applied and reports what would flip. The candidate is
// built aside: the live snapshot is never swapped, and grant changes go to
// a scratch copy of the OpenFGA store.
func (a *API) simulate(c *gin.Context) {
	var req simulateRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		fail(c, http.StatusBadRequest, codeInvalid, "malformed body: "+err.Error())
		return
	}
	fields := map[string]string{}
	if req.Cluster == "" {
		req.Cluster = store.DefaultCluster
	}
	if req.To.IsZero() {
		req.To = time.Now()
	}
	if req.From.IsZero() {
		req.From = req.To.Add(-24 * time.Hour)
	}
	if !req.From.Before(req.To) {
		fields["from"] = "must be before to"
	}
	if req.Limit <= 0 || req.Limit > maxSimulated {
		req.Limit = maxSimulated
	}
	if len(req.Documents) == 0 && len(req.Grants.Add) == 0 && len(req.Grants.Remove) == 0 {
		fields["documents"] = "give documents or grants to change: there is nothing to simulate"
	}
	if (len(req.Grants.Add) > 0 || len(req.Grants.Remove) > 0) && a.opts.Grants == nil {
		fields["grants"] = "grants are off: set openfga.api_url"
	}
	var adds, removes []grants.Tuple
	for i, g := range req.Grants.Add {
		t, err := g.Tuple()
		if err != nil {
			fields[fmt.Sprintf("grants.add[%d]", i)] = err.Error()
		}
		adds = append(adds, t)
	}
	for i, g := range req.Grants.Remove {
		t, err := g.Tuple()
		if err != nil {
			fields[fmt.Sprintf("grants.remove[%d]", i)] = err.Error()
		}
		removes = append(removes, t)
	}
	if len(fields) > 0 {
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Code: codeInvalid, Message: "invalid simulation", Fields: fields})
		return
	}
	ctx := c.Request.Context()
	live := a.opts.Engine.Snapshot()
	if live == nil {
		fail(c, http.StatusServiceUnavailable, codeUnavailable, "no live policy is loaded yet")
		return
	}
	if _, ok := live.Cluster(req.Cluster); !ok {
		fail(c, http.StatusNotFound, codeNotFound, "no cluster "+req.Cluster)
		return
	}
	docs, err := a.candidateDocuments(ctx, req.Cluster, req.Documents)
	if err != nil {
		failErr(c, err)
		return
	}
	extra := slices.Clone(a.opts.Extra)
	if len(adds) > 0 || len(removes) > 0 {
		scratch, cleanup, err := a.opts.Grants.Scratch(ctx, adds, removes)
		if err != nil {
			failErr(c, err)
			return
		}
		defer cleanup()
		defer scratch.Close()
		for i, s := range extra {
			if s == policy.Source(a.opts.Grants) {
				extra[i] = scratch
			}
		}
	}
	d, err := loader.DocumentsFromStore(docs)
	if err == nil {
		var set *policy.PolicySet
		if set, err = loader.BuildSet(d, a.opts.Rego, extra...); err == nil {
			candidate, serr := candidateSnapshot(live, req.Cluster, set)
			if serr != nil {
				failErr(c, serr)
				return
			}
			a.runSimulation(c, req, live, candidate)
			return
		}
	}
	fail(c, http.StatusBadRequest, codeInvalidPolicy, "the candidate policy does not compile: "+err.Error())
}

// candidateDocuments returns the cluster's live documents with changes
// applied by path; an empty content deletes a document, and a rules
// document replaces the live one.
func (a *API) candidateDocuments(ctx context.Context, cluster string, changes []store.PolicyDocument) ([]store.PolicyDocument, error) {
	set, err := a.opts.Store.PolicyGet(ctx, cluster, 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	docs := slices.Clone(set.Documents)
	for _, ch := range changes {
		if ch.Kind == store.KindRules && ch.Content != "" {
			// A set has one rules document: the candidate's replaces the
			// live one whatever its path.
			docs = slices.DeleteFunc(docs, func(d store.PolicyDocument) bool { return d.Kind == store.KindRules })
		}
		i := slices.IndexFunc(docs, func(d store.PolicyDocument) bool { return d.Path == ch.Path })
		switch {
		case ch.Content == "" && i >= 0:
			docs = slices.Delete(docs, i, i+1)
		case ch.Content == "":
		case i >= 0:
			docs[i] = ch
		default:
			docs = append(docs, ch)
		}
	}
	return docs, nil
}

// candidateSnapshot is the live snapshot with one cluster's set replaced,
// and the live directory.
func candidateSnapshot(live *policy.Snapshot, cluster string, set *policy.PolicySet) (*policy.Snapshot, error) {
	clusters := map[string]*policy.PolicySet{}
	for _, name := range live.Clusters() {
		ps, _ := live.Cluster(name)
		clusters[name] = ps
	}
	clusters[cluster] = set
	s, err := policy.NewSnapshot(live.Revision, "simulation of "+cluster, clusters)
	if err != nil {
		return nil, err
	}
	s.Directory = live.Directory
	return s, nil
}

func (a *API) runSimulation(c *gin.Context, req simulateRequest, live, candidate *policy.Snapshot) {
	ctx := c.Request.Context()
	truncated := false
	records := func(yield func(simulate.Recorded, error) bool) {
		cursor, n := "", 0
		for {
			rows, next, err := a.opts.Store.AuditDecisionWindow(ctx, req.Cluster, req.From, req.To, cursor, 500)
			if err != nil {
				yield(simulate.Recorded{}, err)
				return
			}
			for _, r := range rows {
				if n == req.Limit {
					truncated = true
					return
				}
				n++
				if !yield(recordedFrom(r), nil) {
					return
				}
			}
			if next == "" {
				return
			}
			cursor = next
		}
	}
	rep, err := simulate.Run(ctx, a.opts.Engine, live, candidate, iter.Seq2[simulate.Recorded, error](records),
		simulate.Options{MaxExamples: req.MaxExamples})
	if err != nil {
		failErr(c, err)
		return
	}
	counts, err := a.opts.Store.AuditSamplingList(ctx, req.From, req.To)
	if err != nil {
		failErr(c, err)
		return
	}
	var sampled int64
	for _, s := range counts {
		sampled += s.Count
	}
	dir := "none: database mode has no directory yet"
	if live.Directory != nil {
		dir = "the live directory, as of now, for every replayed decision"
	}
	c.JSON(http.StatusOK, simulateResponse{Report: rep, Cluster: req.Cluster, From: req.From, To: req.To,
		Truncated: truncated, SampledOut: sampled, Directory: dir})
}

// recordedFrom turns an audit row into a replayable record.
func recordedFrom(r store.AuditDecision) simulate.Recorded {
	ep, _ := trino.ParseEndpoint(r.Endpoint)
	rec := simulate.Recorded{DecisionID: r.DecisionID, Time: r.DecidedAt, Cluster: r.Cluster, Endpoint: ep}
	if len(r.Input) > 0 {
		var b strings.Builder
		b.Grow(len(r.Input) + 10)
		b.WriteString(`{"input":`)
		b.Write(r.Input)
		b.WriteByte('}')
		rec.Input = []byte(b.String())
	}
	switch ep {
	case trino.EndpointAllow:
		_ = json.Unmarshal(r.Result, &rec.Allowed)
	case trino.EndpointBatch:
		var kept []int
		if json.Unmarshal(r.Result, &kept) == nil {
			rec.Kept = kept
		}
	}
	return rec
}
