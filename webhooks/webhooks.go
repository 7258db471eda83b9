// Package webhooks holds what Warden's inbound webhook endpoints share: the
// answer and error shapes, the body limit, the mapping of failures to HTTP
// statuses, Deliver, which applies one verified event in one store
// transaction with its idempotency and ordering record, and the metrics.
//
// The endpoints themselves live in sub-packages: events (POST
// /webhooks/events, Standard Webhooks signed, Warden's own event format) and
// keycloak (POST /webhooks/keycloak, the p2-inc keycloak-events extension).
// Package standard verifies Standard Webhooks signatures.
//
// Every delivery is verified first. Then the whole event is applied in one
// transaction that also records its event ID, so a redelivery is a no-op and
// an event that fails writes nothing. Events about one subject are applied in
// the order they occurred: an event older than the last one applied to its
// subject is acknowledged, recorded as stale, and changes nothing.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/trino-warden/warden/store"
)

// Error codes of an error answer, a closed set.
const (
	CodeInvalid         = "invalid_parameter"
	CodeUnauthorized    = "unauthorized"
	CodeTooLarge        = "request_too_large"
	CodeUnprocessable   = "unprocessable"
	CodeConflict        = "conflict"
	CodeMethod          = "method_not_allowed"
	CodeUnsupportedType = "unsupported_media_type"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal_error"
)

// Error is a failure with the HTTP status and code to answer it with. Its
// message is for the sender: it names the problem, never a secret.
type Error struct {
	Status  int
	Code    string
	Message string
	// Err is the cause, for logs and errors.Is; it is not sent.
	Err error
}

// Error returns the message, with the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message and no cause.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a 400 error: the input is malformed.
func Invalid(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalid, format, args...)
}

// Unprocessable returns a 422 error: the input is well formed but cannot be
// applied (it refers to an unknown user, a policy does not compile).
func Unprocessable(format string, args ...any) *Error {
	return Errorf(http.StatusUnprocessableEntity, CodeUnprocessable, format, args...)
}

// Unauthorized returns a 401 error: the delivery is not authentic or fresh.
func Unauthorized(format string, args ...any) *Error {
	return Errorf(http.StatusUnauthorized, CodeUnauthorized, format, args...)
}

// Classify turns any error into an *Error. An *Error in the chain is kept;
// the store's domain errors map to 422 (ErrNotFound: the event refers to a
// missing user or group), 409 (ErrConflict), 400 (ErrInvalid) and 503
// (ErrUnavailable); a canceled or expired context is 503, since the sender
// should retry; anything else is a 500 with a generic message.
func Classify(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "the store is unavailable; retry later", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeUnprocessable, Message: storeMessage(err), Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: storeMessage(err), Err: err}
	case errors.Is(err, store.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Message: storeMessage(err), Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "the request was canceled or timed out; retry later", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Err: err}
}

// storeMessage is the message of a store domain error without the driver's
// detail, which names constraints and SQLSTATE codes.
func storeMessage(err error) string {
	msg := err.Error()
	var driver interface {
		error
		SQLState() string
	}
	if errors.As(err, &driver) {
		if trimmed, ok := strings.CutSuffix(msg, driver.Error()); ok {
			return strings.TrimRight(trimmed, ": ")
		}
	}
	return msg
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	EventID string `json:"event_id,omitempty"`
}

// WriteError answers err as JSON {code, message}, with the status Classify
// gives it, and logs it: 5xx at error level with the cause, 4xx at info.
func WriteError(w http.ResponseWriter, log *slog.Logger, r *http.Request, eventID string, err error) *Error {
	e := Classify(err)
	if e.Status >= 500 {
		log.ErrorContext(r.Context(), "webhook failed", "path", r.URL.Path, "event_id", eventID, "status", e.Status, "error", err)
	} else {
		log.InfoContext(r.Context(), "webhook rejected", "path", r.URL.Path, "event_id", eventID, "status", e.Status, "error", err)
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, e.Status, errorBody{Code: e.Code, Message: e.Message, EventID: eventID})
	return e
}

// Result is the answer to a delivery that was accepted.
type Result struct {
	// Status is "applied", "duplicate" (recorded before: nothing done),
	// "stale" (a newer event about the subject was applied: nothing done) or
	// "ignored" (an event type this endpoint does not act on).
	Status  string `json:"status"`
	EventID string `json:"event_id"`
	Subject string `json:"subject,omitempty"`
	// Revision is the store revision of the event's changes; 0 when it
	// changed nothing.
	Revision int64  `json:"revision,omitempty"`
	Note     string `json:"note,omitempty"`
}

// StatusIgnored is the status of a delivery of an event type the endpoint
// does not act on.
const StatusIgnored = "ignored"

// WriteResult answers a accepted delivery with 200 and the result as JSON.
func WriteResult(w http.ResponseWriter, res Result) {
	writeJSON(w, http.StatusOK, res)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"internal_error","message":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ReadBody checks the method and reads the whole body, refusing one longer
// than limit with 413 and a method other than POST with 405.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, Errorf(http.StatusMethodNotAllowed, CodeMethod, "use POST")
	}
	if r.ContentLength > limit {
		return nil, Errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "the body is longer than the %d bytes allowed", limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, Errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "the body is longer than the %d bytes allowed", limit)
		}
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Message: "the body could not be read", Err: err}
	}
	return body, nil
}

// DiscardLogger returns l, or a logger that discards everything when l is
// nil.
func DiscardLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
