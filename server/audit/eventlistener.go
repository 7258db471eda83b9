package audit

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/trino-warden/warden/store"
)

// QueryRecorder stores Trino query events.
type QueryRecorder interface {
	// AuditQueryRecord returns store.ErrInvalid for a row the schema
	// refuses and store.ErrUnavailable when the database cannot be reached.
	AuditQueryRecord(ctx context.Context, q store.AuditQuery) error
}

// EventHandlerOptions configure the Trino event-listener endpoint.
type EventHandlerOptions struct {
	// Logger receives the handler's logs; nil discards them.
	Logger *slog.Logger
	// Token, when set, must arrive as "Authorization: Bearer <token>"
	// (http-event-listener.connect-http-headers).
	Token string
	// Cluster names the Trino cluster the events come from (default
	// "default"); a cluster query parameter on the ingest URI overrides it.
	Cluster string
	// MaxBodyBytes bounds an event (default 8 MiB).
	MaxBodyBytes int64
}

// NewEventHandler returns the handler for Trino's HTTP event listener
// (event-listener.name=http). It stores query creation and completion
// events in audit_queries, so decisions can be joined to queries by user and
// time where Trino sends no query ID; split events are acknowledged and
// ignored. It answers 200 once an event is stored, 400 for a body that is
// not a query event, 401 for a missing or wrong token, 413 for a body over
// the limit, and 503 when the store is unavailable, which makes Trino retry
// (http-event-listener.connect-retry-count).
func NewEventHandler(w QueryRecorder, opts EventHandlerOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Cluster == "" {
		opts.Cluster = "default"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	return &eventHandler{w: w, opts: opts}
}

type eventHandler struct {
	w    QueryRecorder
	opts EventHandlerOptions
}

var clusterParam = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (h *eventHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		rw.Header().Set("Allow", "POST, PUT")
		eventError(rw, http.StatusMethodNotAllowed, "invalid_parameter", "send events with POST or PUT")
		return
	}
	if h.opts.Token != "" {
		got := []byte(r.Header.Get("Authorization"))
		want := []byte("Bearer " + h.opts.Token)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			eventError(rw, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required: set it in http-event-listener.connect-http-headers")
			return
		}
	}
	cluster := h.opts.Cluster
	if c := r.URL.Query().Get("cluster"); c != "" {
		if !clusterParam.MatchString(c) {
			eventError(rw, http.StatusBadRequest, "invalid_parameter", "cluster "+strconv.Quote(c)+" must match "+clusterParam.String())
			return
		}
		cluster = c
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.opts.MaxBodyBytes+1))
	if err != nil {
		eventError(rw, http.StatusBadRequest, "invalid_parameter", "reading the event: "+err.Error())
		return
	}
	if int64(len(body)) > h.opts.MaxBodyBytes {
		eventError(rw, http.StatusRequestEntityTooLarge, "request_too_large", "the event exceeds "+strconv.FormatInt(h.opts.MaxBodyBytes, 10)+" bytes")
		return
	}
	q, ok, err := ParseQueryEvent(body)
	if err != nil {
		eventError(rw, http.StatusBadRequest, "invalid_parameter", err.Error())
		return
	}
	if !ok {
		rw.WriteHeader(http.StatusOK)
		_, _ = rw.Write([]byte(`{"status":"ignored"}`))
		return
	}
	q.Cluster = cluster
	if err := h.w.AuditQueryRecord(r.Context(), q); err != nil {
		switch {
		case errors.Is(err, store.ErrInvalid):
			eventError(rw, http.StatusBadRequest, "invalid_parameter", err.Error())
		case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
			eventError(rw, http.StatusServiceUnavailable, "unavailable", "the store is unavailable; retry")
		default:
			h.opts.Logger.Error("storing a Trino query event failed", "query_id", q.QueryID, "error", err)
			eventError(rw, http.StatusInternalServerError, "internal_error", "storing the event failed")
		}
		return
	}
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write([]byte(`{"status":"recorded"}`))
}

func eventError(rw http.ResponseWriter, status int, code, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"code": code, "message": msg})
	_, _ = rw.Write(b)
}

// trinoEvent is the union of the fields Warden reads from Trino's
// QueryCreatedEvent, QueryCompletedEvent and SplitCompletedEvent, as the
// HTTP event listener serializes them (Jackson, getter names; Optional
// empty is null; Instant an ISO-8601 string).
type trinoEvent struct {
	Metadata *struct {
		QueryID    string `json:"queryId"`
		Query      string `json:"query"`
		QueryState string `json:"queryState"`
	} `json:"metadata"`
	Context *struct {
		User                string `json:"user"`
		Principal           string `json:"principal"`
		Source              string `json:"source"`
		Catalog             string `json:"catalog"`
		Schema              string `json:"schema"`
		ServerVersion       string `json:"serverVersion"`
		RemoteClientAddress string `json:"remoteClientAddress"`
		QueryType           string `json:"queryType"`
	} `json:"context"`
	IOMetadata *struct {
		Inputs json.RawMessage `json:"inputs"`
	} `json:"ioMetadata"`
	FailureInfo *struct {
		ErrorCode *struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"errorCode"`
		FailureType    string `json:"failureType"`
		FailureMessage string `json:"failureMessage"`
	} `json:"failureInfo"`
	CreateTime         *eventTime `json:"createTime"`
	ExecutionStartTime *eventTime `json:"executionStartTime"`
	EndTime            *eventTime `json:"endTime"`
	// SplitCompletedEvent's; a split event has no metadata.
	StageID string `json:"stageId"`
}

// eventTime reads an Instant as Jackson writes it: an ISO-8601 string, or
// with timestamps enabled, a number of seconds with a fraction.
type eventTime struct{ time.Time }

func (t *eventTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("time %q is not ISO-8601", s)
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f < 0 || f > 1e11 {
		return fmt.Errorf("time %s is neither ISO-8601 nor epoch seconds", b)
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

// ParseQueryEvent decodes one event of Trino's HTTP event listener. It
// returns ok=false for an event Warden does not store (a split
// completion), and an error for a body that is not a Trino event or lacks
// the query ID, the user or the creation time.
func ParseQueryEvent(body []byte) (q store.AuditQuery, ok bool, err error) {
	var ev trinoEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return q, false, fmt.Errorf("the body is not a Trino event: %w", err)
	}
	if ev.Metadata == nil {
		if ev.StageID != "" {
			return q, false, nil
		}
		return q, false, errors.New("the body has no metadata: not a Trino query event (event-listener.name=http sends QueryCreatedEvent and QueryCompletedEvent)")
	}
	switch {
	case ev.Metadata.QueryID == "":
		return q, false, errors.New("metadata.queryId is missing")
	case ev.Context == nil || ev.Context.User == "":
		return q, false, errors.New("context.user is missing")
	case ev.CreateTime == nil || ev.CreateTime.IsZero():
		return q, false, errors.New("createTime is missing")
	}
	q = store.AuditQuery{
		QueryID: ev.Metadata.QueryID, State: ev.Metadata.QueryState, User: ev.Context.User,
		Principal: ev.Context.Principal, Source: ev.Context.Source, Catalog: ev.Context.Catalog,
		Schema: ev.Context.Schema, Query: ev.Metadata.Query, QueryType: ev.Context.QueryType,
		ServerVersion: ev.Context.ServerVersion, RemoteClientAddress: ev.Context.RemoteClientAddress,
		CreateTime: ev.CreateTime.UTC(), Inputs: json.RawMessage("[]"),
	}
	if q.State == "" {
		q.State = "QUEUED"
	}
	if ev.ExecutionStartTime != nil && !ev.ExecutionStartTime.IsZero() {
		t := ev.ExecutionStartTime.UTC()
		q.ExecutionStartTime = &t
	}
	if ev.EndTime != nil && !ev.EndTime.IsZero() {
		t := ev.EndTime.UTC()
		q.EndTime = &t
	}
	if f := ev.FailureInfo; f != nil {
		if f.ErrorCode != nil {
			q.ErrorCode, q.ErrorType = f.ErrorCode.Name, f.ErrorCode.Type
		}
		if q.ErrorType == "" {
			q.ErrorType = f.FailureType
		}
		q.FailureMessage = f.FailureMessage
	}
	if ev.IOMetadata != nil && len(ev.IOMetadata.Inputs) > 0 && ev.IOMetadata.Inputs[0] == '[' {
		q.Inputs = ev.IOMetadata.Inputs
	}
	return q, true, nil
}
