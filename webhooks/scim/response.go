package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/trino-warden/warden/store"
)

// SCIM error types (scimType) of RFC 7644, section 3.12.
const (
	scimInvalidFilter = "invalidFilter"
	scimTooMany       = "tooMany"
	scimUniqueness    = "uniqueness"
	scimMutability    = "mutability"
	scimInvalidSyntax = "invalidSyntax"
	scimInvalidPath   = "invalidPath"
	scimNoTarget      = "noTarget"
	scimInvalidValue  = "invalidValue"
)

// Error is a SCIM error response: an HTTP status, an optional scimType and a
// message for the client.
type Error struct {
	Status   int
	ScimType string
	Detail   string
	// cause is the internal error behind a 5xx; it is logged, never sent.
	cause error
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim: %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim: %d: %s", e.Status, e.Detail)
}

func (e *Error) Unwrap() error { return e.cause }

// errorf returns an *Error with a formatted detail.
func errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON of a SCIM error (RFC 7644, section 3.12). The status
// is a string, as the RFC's examples show and as Entra and Okta expect.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// fromStore maps an error of a store call to a SCIM error: the context's
// errors and ErrUnavailable to 503 (so the identity provider retries),
// ErrNotFound to 404, ErrConflict to 409 uniqueness, ErrInvalid to 400
// invalidValue, anything else to 500. what names the object for the message.
func fromStore(err error, what string) *Error {
	var se *Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "the directory is unavailable, retry later", cause: err}
	case errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "the request was canceled", cause: err}
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "", "%s not found", what)
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, scimUniqueness, "%s conflicts with an existing one (same name or externalId)", what)
	case errors.Is(err, store.ErrInvalid):
		return errorf(http.StatusBadRequest, scimInvalidValue, "%s is not valid", what)
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error", cause: err}
}

// fail writes err as a SCIM error response and logs it: 5xx at error level
// with the cause, 4xx at debug level.
func (h *Handler) fail(q *request, err error) {
	var se *Error
	if !errors.As(err, &se) {
		se = fromStore(err, "resource")
	}
	attrs := []any{"method", q.r.Method, "path", q.r.URL.Path, "client", q.client, "status", se.Status}
	if se.Status >= 500 {
		h.log.ErrorContext(q.r.Context(), "scim request failed", append(attrs, "error", se.cause)...)
	} else {
		h.log.DebugContext(q.r.Context(), "scim request rejected", append(attrs, "scim_type", se.ScimType, "detail", se.Detail)...)
	}
	q.write(se.Status, errorBody{
		Schemas:  []string{schemaError},
		Status:   strconv.Itoa(se.Status),
		ScimType: se.ScimType,
		Detail:   se.Detail,
	})
}

// write sends v as a SCIM JSON response with a status.
func (q *request) write(status int, v any) {
	q.status = status
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"schemas":["`+schemaError+`"],"status":"500","detail":"internal error"}`)
		q.status = status
	}
	q.w.Header().Set("Content-Type", contentType)
	q.w.WriteHeader(status)
	_, _ = q.w.Write(b)
}

// writeResource sends a resource with its ETag (and Location when created).
func (q *request) writeResource(status int, res map[string]any) {
	if meta, ok := res["meta"].(map[string]any); ok {
		if v, ok := meta["version"].(string); ok {
			q.w.Header().Set("ETag", v)
		}
		if loc, ok := meta["location"].(string); ok && status == http.StatusCreated {
			q.w.Header().Set("Location", loc)
		}
	}
	q.write(status, res)
}

// noContent answers 204.
func (q *request) noContent() {
	q.status = http.StatusNoContent
	q.w.WriteHeader(http.StatusNoContent)
}

// readJSON reads the request body as one JSON value into v. The media type
// must be application/scim+json or application/json (or absent).
func (q *request) readJSON(v any) *Error {
	if ct := q.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json") {
			return errorf(http.StatusUnsupportedMediaType, "", "the body must be application/scim+json or application/json, not %q", ct)
		}
	}
	body := http.MaxBytesReader(q.w, q.r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "", "the body is larger than %d bytes", maxBodyBytes)
		}
		if errors.Is(err, io.EOF) {
			return errorf(http.StatusBadRequest, scimInvalidSyntax, "the body is empty")
		}
		return errorf(http.StatusBadRequest, scimInvalidSyntax, "the body is not valid JSON: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, scimInvalidSyntax, "the body holds more than one JSON value")
	}
	return nil
}

// version is the meta.version (and ETag) of a resource at a revision.
func version(revision int64) string { return `W/"` + strconv.FormatInt(revision, 10) + `"` }

// checkIfMatch returns 412 when the request has an If-Match header that
// does not name the resource's current version. Weak and strong forms of the
// version match alike, and "*" matches any.
func (q *request) checkIfMatch(revision int64) *Error {
	header := q.r.Header.Get("If-Match")
	if header == "" {
		return nil
	}
	if etagListHas(header, revision) {
		return nil
	}
	return errorf(http.StatusPreconditionFailed, "", "the resource has changed: its version is %s", version(revision))
}

// notModified reports whether an If-None-Match header names the current
// version, for a 304 on GET.
func (q *request) notModified(revision int64) bool {
	header := q.r.Header.Get("If-None-Match")
	return header != "" && etagListHas(header, revision)
}

func etagListHas(header string, revision int64) bool {
	want := strconv.FormatInt(revision, 10)
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if strings.Trim(tag, `"`) == want {
			return true
		}
	}
	return false
}

// parseID parses a resource ID from the path. An ID that is not one of ours
// is simply not found.
func parseID(s, what string) (int64, *Error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "", "%s %q not found", what, s)
	}
	return id, nil
}
