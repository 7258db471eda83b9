package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/webhooks"
)

// Version is the version of the event format this package reads: the
// "version" member of every payload, and the v1 of
// docs/schemas/warden-event-v1.json.
const Version = 1

// The event types.
const (
	TypeUserUpserted        = "user.upserted"
	TypeUserDeleted         = "user.deleted"
	TypeUserDeactivated     = "user.deactivated"
	TypeGroupUpserted       = "group.upserted"
	TypeGroupDeleted        = "group.deleted"
	TypeGroupMembersAdded   = "group.members.added"
	TypeGroupMembersRemoved = "group.members.removed"
	TypeGroupMembersSet     = "group.members.set"
	TypePolicyChanged       = "policy.changed"
)

// Limits of the format, the same as the schema's.
const (
	maxNameRunes     = 256
	maxEmailRunes    = 320
	maxMessageRunes  = 1000
	maxAttributes    = 100
	maxUserGroups    = 1000
	maxGroupMembers  = 10000
	maxDocuments     = 200
	maxDocPathRunes  = 256
	maxCommitRunes   = 64
	maxSourceRunes   = 256
	maxTypeNameBytes = 64
)

// clusterPattern is what a cluster name must match, as in the server's
// configuration.
var clusterPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// timestampPattern is the RFC 3339 date-time syntax, as the schema states
// it; time.Parse alone also takes a comma before the fraction.
var timestampPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// Event is a decoded, validated payload.
type Event struct {
	Type string
	// Timestamp is when the change happened at the sender; it orders the
	// events about one subject.
	Timestamp time.Time
	// Data is one of *UserUpserted, *UserRef, *GroupUpserted, *GroupRef,
	// *GroupMembers and *PolicyChanged, according to Type.
	Data any
}

// UserUpserted creates or updates a user. Fields left out keep their value
// on an update; on a create, Active defaults to true.
type UserUpserted struct {
	UserName    string          `json:"userName"`
	ExternalID  string          `json:"externalId,omitempty"`
	DisplayName *string         `json:"displayName,omitempty"`
	Email       *string         `json:"email,omitempty"`
	Active      *bool           `json:"active,omitempty"`
	Attributes  *map[string]any `json:"attributes,omitempty"`
	// Groups, when present, are exactly the user's groups afterwards;
	// groups that do not exist are created.
	Groups *[]string `json:"groups,omitempty"`
}

// UserRef names a user by external ID (preferred) or user name.
type UserRef struct {
	UserName   string `json:"userName,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
}

// GroupUpserted creates or updates a group.
type GroupUpserted struct {
	Name        string  `json:"name"`
	ExternalID  string  `json:"externalId,omitempty"`
	DisplayName *string `json:"displayName,omitempty"`
	// Members, when present, are exactly the group's members afterwards;
	// every one must exist.
	Members *[]string `json:"members,omitempty"`
}

// GroupRef names a group by external ID (preferred) or name.
type GroupRef struct {
	Name       string `json:"name,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
}

// GroupMembers adds, removes or sets members of a group.
type GroupMembers struct {
	Group string   `json:"group"`
	Users []string `json:"users"`
}

// PolicyChanged replaces the whole policy set of a cluster.
type PolicyChanged struct {
	// Cluster is the Trino cluster, "default" for the default policy set.
	Cluster   string     `json:"cluster"`
	Documents []Document `json:"documents"`
	// Message, Repository and Commit describe the change for the policy
	// history, e.g. the commit a CI pipeline deploys.
	Message    string `json:"message,omitempty"`
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit,omitempty"`
}

// Document is one file of a policy set, as the store keeps it.
type Document struct {
	Kind    store.DocumentKind `json:"kind"`
	Path    string             `json:"path"`
	Content *string            `json:"content"`
}

// StoreDocuments returns the documents as the store takes them.
func (d *PolicyChanged) StoreDocuments() []store.PolicyDocument {
	out := make([]store.PolicyDocument, 0, len(d.Documents))
	for _, doc := range d.Documents {
		out = append(out, store.PolicyDocument{Kind: doc.Kind, Path: doc.Path, Content: *doc.Content})
	}
	return out
}

// envelope is the outer object of every payload.
type envelope struct {
	Version   *int            `json:"version"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Decode parses and validates a payload. It is strict: unknown members,
// members set to null, trailing data and values outside the format's limits
// are errors, each a 400 *webhooks.Error whose message names the member.
func Decode(body []byte) (Event, error) {
	var env envelope
	if err := decodeStrict(body, &env); err != nil {
		return Event{}, webhooks.Invalid("payload: %s", err)
	}
	switch {
	case env.Version == nil:
		return Event{}, webhooks.Invalid("payload: version is missing (this endpoint reads version %d)", Version)
	case *env.Version != Version:
		return Event{}, webhooks.Invalid("payload: version %d is not supported (this endpoint reads version %d)", *env.Version, Version)
	case env.Type == "":
		return Event{}, webhooks.Invalid("payload: type is missing")
	case env.Timestamp == "":
		return Event{}, webhooks.Invalid("payload: timestamp is missing")
	case len(env.Data) == 0:
		return Event{}, webhooks.Invalid("payload: data is missing")
	}
	ts, err := time.Parse(time.RFC3339Nano, env.Timestamp)
	if err != nil || !timestampPattern.MatchString(env.Timestamp) {
		return Event{}, webhooks.Invalid("payload: timestamp %q is not an RFC 3339 date-time", env.Timestamp)
	}
	ev := Event{Type: env.Type, Timestamp: ts}
	var check func() error
	switch env.Type {
	case TypeUserUpserted:
		d := &UserUpserted{}
		ev.Data, check = d, d.validate
	case TypeUserDeleted, TypeUserDeactivated:
		d := &UserRef{}
		ev.Data, check = d, d.validate
	case TypeGroupUpserted:
		d := &GroupUpserted{}
		ev.Data, check = d, d.validate
	case TypeGroupDeleted:
		d := &GroupRef{}
		ev.Data, check = d, d.validate
	case TypeGroupMembersAdded, TypeGroupMembersRemoved, TypeGroupMembersSet:
		d := &GroupMembers{}
		ev.Data, check = d, func() error { return d.validate(env.Type != TypeGroupMembersSet) }
	case TypePolicyChanged:
		d := &PolicyChanged{}
		ev.Data, check = d, d.validate
	default:
		t := env.Type
		if len(t) > maxTypeNameBytes {
			t = t[:maxTypeNameBytes] + "…"
		}
		return Event{}, webhooks.Invalid("payload: unknown event type %q", t)
	}
	if err := decodeStrict(env.Data, ev.Data); err != nil {
		return Event{}, webhooks.Invalid("payload: data of %s: %s", env.Type, err)
	}
	if err := check(); err != nil {
		return Event{}, webhooks.Invalid("payload: data of %s: %s", env.Type, err)
	}
	return ev, nil
}

// decodeStrict decodes one JSON object into v, a pointer to a struct,
// refusing unknown members, members set to null and trailing data. Member
// names must match exactly: encoding/json alone would match them in any
// case.
func decodeStrict(b []byte, v any) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return jsonError(err)
	}
	if members == nil {
		return errors.New("must be a JSON object, not null")
	}
	known := fieldNames(reflect.TypeOf(v).Elem())
	for _, k := range slices.Sorted(maps.Keys(members)) {
		if !known[k] {
			return fmt.Errorf("unknown member %q", k)
		}
		if bytes.Equal(bytes.TrimSpace(members[k]), []byte("null")) {
			return fmt.Errorf("%s must not be null (leave it out instead)", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

var fieldNameCache sync.Map // reflect.Type → map[string]bool

// fieldNames returns the JSON member names of a struct type's fields.
func fieldNames(t reflect.Type) map[string]bool {
	if m, ok := fieldNameCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := make(map[string]bool, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	fieldNameCache.Store(t, m)
	return m
}

// UnmarshalJSON decodes a document as strictly as the rest of the payload.
func (d *Document) UnmarshalJSON(b []byte) error {
	type plain Document
	return decodeStrict(b, (*plain)(d))
}

// jsonError rewords the decoder's errors for senders.
func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Errorf("must be a JSON object, not %s", typ.Value)
		}
		return fmt.Errorf("%s must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown member %s", f)
	}
	return errors.New(strings.TrimPrefix(msg, "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "float64":
		return "a number"
	case "slice":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return goKind
}

// checkName validates a user, group or external ID: 1 to 256 characters,
// without control characters or surrounding white space.
func checkName(field, s string) error {
	n := utf8.RuneCountInString(s)
	switch {
	case s == "":
		return fmt.Errorf("%s must not be empty", field)
	case n > maxNameRunes:
		return fmt.Errorf("%s is %d characters long, more than %d", field, n, maxNameRunes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s must not contain control characters", field)
		}
		if r == ' ' && (i == 0 || i == len(s)-1) {
			return fmt.Errorf("%s must not start or end with a space", field)
		}
	}
	return nil
}

func checkLen(field, s string, limit int) error {
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Errorf("%s is %d characters long, more than %d", field, n, limit)
	}
	return nil
}

func checkNames(field string, names []string, limit int, nonEmpty bool) error {
	switch {
	case nonEmpty && len(names) == 0:
		return fmt.Errorf("%s must not be empty", field)
	case len(names) > limit:
		return fmt.Errorf("%s has %d entries, more than %d", field, len(names), limit)
	}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if err := checkName(fmt.Sprintf("%s[%d]", field, i), n); err != nil {
			return err
		}
		if seen[n] {
			return fmt.Errorf("%s lists %q twice", field, n)
		}
		seen[n] = true
	}
	return nil
}

func (d *UserUpserted) validate() error {
	if err := checkName("userName", d.UserName); err != nil {
		return err
	}
	if d.ExternalID != "" {
		if err := checkName("externalId", d.ExternalID); err != nil {
			return err
		}
	}
	if d.DisplayName != nil {
		if err := checkLen("displayName", *d.DisplayName, maxNameRunes); err != nil {
			return err
		}
	}
	if d.Email != nil {
		if err := checkLen("email", *d.Email, maxEmailRunes); err != nil {
			return err
		}
	}
	if d.Attributes != nil && len(*d.Attributes) > maxAttributes {
		return fmt.Errorf("attributes has %d members, more than %d", len(*d.Attributes), maxAttributes)
	}
	if d.Groups != nil {
		return checkNames("groups", *d.Groups, maxUserGroups, false)
	}
	return nil
}

func (d *UserRef) validate() error {
	if d.UserName == "" && d.ExternalID == "" {
		return errors.New("name the user with externalId or userName")
	}
	if d.UserName != "" {
		if err := checkName("userName", d.UserName); err != nil {
			return err
		}
	}
	if d.ExternalID != "" {
		return checkName("externalId", d.ExternalID)
	}
	return nil
}

func (d *GroupUpserted) validate() error {
	if err := checkName("name", d.Name); err != nil {
		return err
	}
	if d.ExternalID != "" {
		if err := checkName("externalId", d.ExternalID); err != nil {
			return err
		}
	}
	if d.DisplayName != nil {
		if err := checkLen("displayName", *d.DisplayName, maxNameRunes); err != nil {
			return err
		}
	}
	if d.Members != nil {
		return checkNames("members", *d.Members, maxGroupMembers, false)
	}
	return nil
}

func (d *GroupRef) validate() error {
	if d.Name == "" && d.ExternalID == "" {
		return errors.New("name the group with externalId or name")
	}
	if d.Name != "" {
		if err := checkName("name", d.Name); err != nil {
			return err
		}
	}
	if d.ExternalID != "" {
		return checkName("externalId", d.ExternalID)
	}
	return nil
}

func (d *GroupMembers) validate(nonEmpty bool) error {
	if err := checkName("group", d.Group); err != nil {
		return err
	}
	if d.Users == nil {
		return errors.New("users is missing")
	}
	return checkNames("users", d.Users, maxGroupMembers, nonEmpty)
}

func (d *PolicyChanged) validate() error {
	switch {
	case d.Cluster == "":
		return errors.New("cluster is missing (\"default\" for the default policy set)")
	case !clusterPattern.MatchString(d.Cluster):
		return fmt.Errorf("cluster %q must match %s", d.Cluster, clusterPattern)
	case d.Documents == nil:
		return errors.New("documents is missing (an empty list removes every document)")
	case len(d.Documents) > maxDocuments:
		return fmt.Errorf("documents has %d entries, more than %d", len(d.Documents), maxDocuments)
	}
	if err := checkLen("message", d.Message, maxMessageRunes); err != nil {
		return err
	}
	if err := checkLen("repository", d.Repository, maxSourceRunes); err != nil {
		return err
	}
	if err := checkLen("commit", d.Commit, maxCommitRunes); err != nil {
		return err
	}
	seen := make(map[string]bool, len(d.Documents))
	for i, doc := range d.Documents {
		switch doc.Kind {
		case store.KindRules, store.KindRego, store.KindData:
		default:
			return fmt.Errorf("documents[%d].kind %q must be rules, rego or data", i, doc.Kind)
		}
		if err := checkName(fmt.Sprintf("documents[%d].path", i), doc.Path); err != nil {
			return err
		}
		if doc.Content == nil {
			return fmt.Errorf("documents[%d].content is missing", i)
		}
		if seen[doc.Path] {
			return fmt.Errorf("documents[%d].path %q appears twice", i, doc.Path)
		}
		seen[doc.Path] = true
	}
	return nil
}

// Subject returns what the event changes, which orders it: "user:" and the
// external ID (or the user name in lower case), "group:" and the group name
// in lower case (a group's members share its subject), or "policy:" and the
// cluster.
func (e Event) Subject() string {
	switch d := e.Data.(type) {
	case *UserUpserted:
		return userSubject(d.ExternalID, d.UserName)
	case *UserRef:
		return userSubject(d.ExternalID, d.UserName)
	case *GroupUpserted:
		return "group:" + strings.ToLower(d.Name)
	case *GroupRef:
		if d.Name == "" {
			return "group-id:" + d.ExternalID
		}
		return "group:" + strings.ToLower(d.Name)
	case *GroupMembers:
		return "group:" + strings.ToLower(d.Group)
	case *PolicyChanged:
		return "policy:" + d.Cluster
	}
	return ""
}

func userSubject(externalID, userName string) string {
	if externalID != "" {
		return "user-id:" + externalID
	}
	return "user:" + strings.ToLower(userName)
}
