package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trino-warden/warden/policy"
	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/server/audit"
)

// Error codes, a closed set as in OPA's types.ErrorV1.
const (
	codeInvalidParameter  = "invalid_parameter"
	codeRequestTooLarge   = "request_too_large"
	codeUndefinedDocument = "undefined_document"
	codeUnavailable       = "unavailable"
	codeInternal          = "internal_error"
	codeNotFound          = "not_found"
)

type apiError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	DecisionID string `json:"decision_id,omitempty"`
}

func writeError(c *gin.Context, status int, code, msg string) {
	writeDecisionError(c, status, code, msg, "")
}

// writeDecisionError is writeError for the decision endpoints: the answer
// carries the decision ID, as every decision answer does.
func writeDecisionError(c *gin.Context, status int, code, msg, id string) {
	c.Header("Content-Type", "application/json")
	b, _ := json.Marshal(apiError{Code: code, Message: msg, DecisionID: id})
	c.Status(status)
	_, _ = c.Writer.Write(b)
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

const maxPooledBody = 4 << 20

// readBody reads at most limit bytes; it reports tooLarge when the body is
// longer.
func readBody(r *http.Request, limit int64) (buf *[]byte, tooLarge bool, err error) {
	if r.ContentLength > limit {
		return nil, true, nil
	}
	buf = bodyPool.Get().(*[]byte)
	b := (*buf)[:0]
	if r.ContentLength > 0 && int64(cap(b)) < r.ContentLength {
		b = make([]byte, 0, r.ContentLength+1)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, rerr := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			*buf = b[:0]
			putBody(buf)
			return nil, true, nil
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			*buf = b[:0]
			putBody(buf)
			return nil, false, rerr
		}
	}
	*buf = b
	return buf, false, nil
}

func putBody(buf *[]byte) {
	if buf == nil || cap(*buf) > maxPooledBody {
		return
	}
	*buf = (*buf)[:0]
	bodyPool.Put(buf)
}

// handleDecision serves the five OPA data-API paths, plain and under
// /clusters/{name}.
func (s *Server) handleDecision(c *gin.Context) {
	start := time.Now()
	id := s.ids.next()
	ep, ok := trino.ParseEndpoint(c.Param("rule"))
	if !ok {
		writeDecisionError(c, http.StatusNotFound, codeUndefinedDocument, "no decision at "+c.Request.URL.Path+": Warden serves trino/allow, trino/batch, trino/rowFilters, trino/columnMask and trino/batchColumnMasks", id)
		return
	}
	epName := ep.String()
	s.metrics.inflight.Inc()
	defer s.metrics.inflight.Dec()
	if s.draining.Load() {
		// Ask the client to open a new connection (to another replica or the
		// process replacing this one) after this answer.
		c.Header("Connection", "close")
	}
	outcome := outcomeError
	defer func() {
		s.metrics.decisions.WithLabelValues(epName, outcome).Inc()
		s.metrics.latency.WithLabelValues(epName).Observe(time.Since(start).Seconds())
	}()

	cluster := c.Param("cluster")
	if cluster == "" {
		cluster = policy.DefaultCluster
	}
	buf, tooLarge, err := readBody(c.Request, s.cfg.MaxBodyBytes)
	if tooLarge {
		outcome = outcomeInvalid
		writeDecisionError(c, http.StatusRequestEntityTooLarge, codeRequestTooLarge, "request body exceeds decision.max_body_bytes ("+formatBytes(s.cfg.MaxBodyBytes)+")", id)
		return
	}
	if err != nil {
		outcome = outcomeInvalid
		writeDecisionError(c, http.StatusBadRequest, codeInvalidParameter, "reading request body: "+err.Error(), id)
		return
	}
	defer putBody(buf)
	body := *buf

	tr, err := trino.Decode(body)
	if err == nil {
		err = tr.Validate(ep)
	}
	if err != nil {
		outcome = outcomeInvalid
		writeDecisionError(c, http.StatusBadRequest, codeInvalidParameter, err.Error(), id)
		return
	}
	ctx := withDecisionID(c.Request.Context(), id)
	req := &policy.Request{
		Request:  tr,
		Endpoint: ep,
		Cluster:  cluster,
		Subject:  policy.Subject{User: tr.Context.Identity.User, Groups: tr.Context.Identity.Groups},
		Explain:  wantsExplain(c),
	}
	snap := s.engine.Snapshot()
	if snap == nil {
		outcome = outcomeBusy
		writeDecisionError(c, http.StatusServiceUnavailable, codeUnavailable, "no policy is loaded yet: "+s.notReadyReason(), id)
		return
	}
	d, err := s.engine.DecideWith(ctx, snap, req)
	if s.recorder != nil {
		// Record keeps neither the entry nor the pooled body.
		s.recorder.Record(&audit.Entry{Time: start, DecisionID: id, Request: req, Snapshot: snap, Decision: d, Err: err,
			Latency: time.Since(start), Body: body})
	}
	if err != nil {
		s.decisionError(c, id, err)
		return
	}
	if ep.IsBatch() {
		s.metrics.batchItems.WithLabelValues(epName).Observe(float64(items(req)))
	}
	outcome = decisionOutcome(ep, d)
	s.explain.add(recentDecision{ID: id, Time: start, Endpoint: ep, Cluster: cluster, Snapshot: snap}, body)

	out := s.encode(id, ep, d)
	c.Header("Content-Type", "application/json")
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(out)
	if s.logger.Enabled(ctx, slog.LevelDebug) {
		s.logger.DebugContext(ctx, "decision", "endpoint", epName, "cluster", cluster, "operation", tr.Action.Operation,
			"user", tr.Context.Identity.User, "outcome", outcome, "revision", d.Revision, "duration", time.Since(start))
	}
}

func items(req *policy.Request) int {
	if req.Endpoint == trino.EndpointBatch {
		return req.Items()
	}
	return len(req.Action.FilterResources)
}

func wantsExplain(c *gin.Context) bool {
	switch c.Query("explain") {
	case "", "false", "0", "off":
		return false
	}
	return true
}

func decisionOutcome(ep trino.Endpoint, d *policy.Decision) string {
	if d.Errored {
		return outcomeError
	}
	if ep == trino.EndpointAllow {
		if d.Allowed {
			return outcomeAllow
		}
		return outcomeDeny
	}
	return outcomeOK
}

func (s *Server) decisionError(c *gin.Context, id string, err error) {
	var se *policy.SourceError
	switch {
	case errors.Is(err, policy.ErrUnknownCluster):
		writeDecisionError(c, http.StatusNotFound, codeUndefinedDocument, err.Error(), id)
	case errors.Is(err, policy.ErrNotReady):
		writeDecisionError(c, http.StatusServiceUnavailable, codeUnavailable, err.Error(), id)
	case errors.As(err, &se):
		// Never an empty (permissive) answer for row filters and masks.
		s.logger.Error("policy source failed; failing the request", "decision_id", id, "source", se.Source, "error", se.Err)
		writeDecisionError(c, http.StatusInternalServerError, codeInternal, "decision failed: "+err.Error(), id)
	default:
		s.logger.Error("decision failed", "decision_id", id, "error", err)
		writeDecisionError(c, http.StatusInternalServerError, codeInternal, "decision failed", id)
	}
}

func (s *Server) encode(id string, ep trino.Endpoint, d *policy.Decision) []byte {
	b := make([]byte, 0, 64+8*len(d.Indices))
	b = appendHead(b, id)
	b = appendResult(b, ep, d)
	if d.Explanation != nil {
		x, err := json.Marshal(d.Explanation)
		if err == nil {
			b = append(b, `,"explanation":`...)
			b = append(b, x...)
		}
	}
	return append(b, '}')
}

// appendResult appends the value of "result" for an endpoint.
func appendResult(b []byte, ep trino.Endpoint, d *policy.Decision) []byte {
	switch ep {
	case trino.EndpointAllow:
		b = appendBool(b, d.Allowed)
	case trino.EndpointBatch:
		b = appendIndices(b, d.Indices)
	case trino.EndpointRowFilters:
		b = appendFilters(b, d.Filters)
	case trino.EndpointColumnMask:
		if d.Mask == nil {
			b = append(b, "null"...)
		} else {
			b = appendViewExpression(b, *d.Mask)
		}
	case trino.EndpointBatchColumnMasks:
		b = appendMasks(b, d.Masks)
	}
	return b
}
