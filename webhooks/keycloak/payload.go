package keycloak

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trino-warden/warden/webhooks"
)

// SignatureHeader carries the keycloak-events extension's signature: the
// hex HMAC-SHA256 of the body under the webhook's secret.
const SignatureHeader = "X-Keycloak-Signature"

// Event is a keycloak-events webhook payload: a Keycloak admin event (type
// "admin.<RESOURCE>-<OPERATION>") or user event (type "access.<TYPE>"),
// serialized by the extension. Members Warden does not use are ignored, so
// that newer extensions keep working.
type Event struct {
	// UID identifies this delivery, the same on every retry: the
	// idempotency key.
	UID string `json:"uid"`
	// ID is Keycloak's event ID, when the extension sends it.
	ID   string `json:"id"`
	Type string `json:"type"`
	// Time is when the event happened, in Unix milliseconds.
	Time    int64  `json:"time"`
	RealmID string `json:"realmId"`
	// ResourceType (USER, GROUP, GROUP_MEMBERSHIP, …), OperationType
	// (CREATE, UPDATE, DELETE, ACTION), ResourcePath ("users/<id>",
	// "users/<id>/groups/<gid>", "groups/<id>") and Representation (the
	// object as a JSON string) are set on admin events.
	ResourceType   string `json:"resourceType"`
	OperationType  string `json:"operationType"`
	ResourcePath   string `json:"resourcePath"`
	Representation string `json:"representation"`
	// Error is set on events of failed operations, which change nothing.
	Error       string            `json:"error"`
	AuthDetails AuthDetails       `json:"authDetails"`
	Details     map[string]string `json:"details"`
}

// AuthDetails says who caused the event; on a user event, UserID is the
// user concerned.
type AuthDetails struct {
	RealmID  string `json:"realmId"`
	ClientID string `json:"clientId"`
	UserID   string `json:"userId"`
	Username string `json:"username"`
}

// Key returns the event's idempotency key: UID, or Keycloak's ID when the
// payload has no UID.
func (e *Event) Key() string {
	if e.UID != "" {
		return e.UID
	}
	return e.ID
}

// OccurredAt returns when the event happened.
func (e *Event) OccurredAt() time.Time { return time.UnixMilli(e.Time) }

// Admin reports whether this is an admin event.
func (e *Event) Admin() bool { return strings.HasPrefix(e.Type, "admin.") }

// UserType returns the user event's type without its "access." prefix
// ("REGISTER", "UPDATE_PROFILE", …), or "" for an admin event.
func (e *Event) UserType() string {
	t, ok := strings.CutPrefix(e.Type, "access.")
	if !ok {
		return ""
	}
	return t
}

// maxIDLength bounds the IDs a payload carries; Keycloak's are UUIDs.
const maxIDLength = 255

// Decode parses and checks a payload. It returns a 400 *webhooks.Error for
// malformed JSON, a payload that is not an object, or one without a type, a
// uid (or id), or a positive time; and for an admin event without its
// resource type, operation or path.
func Decode(body []byte) (*Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&e); err != nil {
		return nil, webhooks.Invalid("keycloak payload: %s", jsonMessage(err))
	}
	if dec.More() {
		return nil, webhooks.Invalid("keycloak payload: trailing data after the JSON object")
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, webhooks.Invalid("keycloak payload: must be a JSON object")
	}
	switch {
	case e.Type == "":
		return nil, webhooks.Invalid("keycloak payload: type is missing")
	case e.Key() == "":
		return nil, webhooks.Invalid("keycloak payload: uid is missing")
	case len(e.Key()) > maxIDLength:
		return nil, webhooks.Invalid("keycloak payload: uid is longer than %d characters", maxIDLength)
	case e.Time <= 0:
		return nil, webhooks.Invalid("keycloak payload: time must be a positive number of Unix milliseconds")
	}
	if e.Admin() && (e.ResourceType == "" || e.OperationType == "" || e.ResourcePath == "") {
		return nil, webhooks.Invalid("keycloak payload: admin event %s lacks resourceType, operationType or resourcePath", truncate(e.Type))
	}
	return &e, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func jsonMessage(err error) string {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "invalid JSON: the body ends early"
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s has the wrong type (%s)", typ.Field, typ.Value)
	case errors.As(err, &typ):
		return "must be a JSON object"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Path segments of an admin event's resourcePath.
type resource struct {
	userID, groupID string
	// nested is true for a path below the user or group itself, such as
	// "users/<id>/groups/<gid>".
	nested bool
}

// parsePath reads the user and group IDs of a resourcePath: "users/<id>",
// "users/<id>/groups/<gid>", "users/<id>/<action>", "groups/<id>" or
// "groups/<parent>/children[/<id>]".
func parsePath(p string) (resource, bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	valid := func(s string) bool { return s != "" && len(s) <= maxIDLength }
	switch {
	case len(parts) >= 2 && parts[0] == "users" && valid(parts[1]):
		r := resource{userID: parts[1], nested: len(parts) > 2}
		if len(parts) == 4 && parts[2] == "groups" && valid(parts[3]) {
			r.groupID = parts[3]
		}
		return r, true
	case len(parts) >= 2 && parts[0] == "groups" && valid(parts[1]):
		if len(parts) >= 4 && parts[2] == "children" && valid(parts[3]) {
			return resource{groupID: parts[3]}, true
		}
		return resource{groupID: parts[1], nested: len(parts) > 2}, true
	}
	return resource{}, false
}

// representationID returns the "id" of an admin event's representation,
// or "" when it has none or is not a JSON object.
func (e *Event) representationID() string {
	var rep struct {
		ID string `json:"id"`
	}
	if e.Representation == "" || json.Unmarshal([]byte(e.Representation), &rep) != nil || len(rep.ID) > maxIDLength ||
		strings.Contains(rep.ID, "/") {
		return ""
	}
	return rep.ID
}

// verifySignature checks X-Keycloak-Signature against every secret, in
// constant time. It returns a 400 when the header is missing or not 64 hex
// digits, and a 401 when no secret produced it.
func verifySignature(header string, body []byte, secrets [][]byte) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return webhooks.Invalid("%s is missing", SignatureHeader)
	}
	var got [sha256.Size]byte
	if len(header) != hex.EncodedLen(sha256.Size) {
		return webhooks.Invalid("%s must be %d hex digits (HMAC-SHA256; HmacSHA1 is not accepted)", SignatureHeader, hex.EncodedLen(sha256.Size))
	}
	if _, err := hex.Decode(got[:], []byte(header)); err != nil {
		return webhooks.Invalid("%s must be %d hex digits", SignatureHeader, hex.EncodedLen(sha256.Size))
	}
	matched := false
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write(body)
		if hmac.Equal(m.Sum(nil), got[:]) {
			matched = true
		}
	}
	if !matched {
		return webhooks.Unauthorized("%s does not match the body under any configured secret", SignatureHeader)
	}
	return nil
}

// Sign returns the X-Keycloak-Signature of body under secret, as the
// extension computes it; tests and tools use it.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
