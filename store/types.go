package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/trino-warden/warden/store/internal/db"
)

// User is a person in the directory.
type User struct {
	ID int64 `json:"id"`
	// UserName is unique regardless of case; it is the name Trino sends.
	UserName string `json:"user_name"`
	// ExternalID is the identity provider's ID ("" for none); unique when set.
	ExternalID  string `json:"external_id,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	// Active is false for a user who is known but disabled.
	Active bool `json:"active"`
	// Attributes are free-form, for policies (a JSON object).
	Attributes map[string]any `json:"attributes,omitempty"`
	// SCIM holds the SCIM attributes that have no field of their own (name,
	// emails, phoneNumbers, the enterprise extension, …) as the identity
	// provider sent them, so that SCIM reads return what was written. Only
	// package webhooks/scim interprets it (a JSON object).
	SCIM map[string]any `json:"scim,omitempty"`
	// Groups are the names of the user's groups, sorted. Only
	// DirectorySnapshot and UserGroups fill them.
	Groups []string `json:"groups,omitempty"`
	// Deleted marks a tombstone: a user deleted from the directory, kept so
	// that policies go on denying the name. Only DirectorySnapshot returns
	// tombstones; they are inactive and belong to no group.
	Deleted bool `json:"deleted,omitempty"`
	// Revision is the revision of the user's last change.
	Revision  int64     `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Group is a group of users in the directory.
type Group struct {
	ID int64 `json:"id"`
	// Name is unique regardless of case.
	Name        string    `json:"name"`
	ExternalID  string    `json:"external_id,omitempty"`
	DisplayName string    `json:"display_name,omitempty"`
	Revision    int64     `json:"revision"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Directory is every user and group at one revision.
type Directory struct {
	// Users are ordered by ID, each with its Groups filled.
	Users []User
	// Groups are ordered by ID.
	Groups []Group
}

// DocumentKind says what a policy document holds.
type DocumentKind string

// The kinds of policy documents.
const (
	KindRules DocumentKind = "rules" // a rules.json file
	KindRego  DocumentKind = "rego"  // a Rego module
	KindData  DocumentKind = "data"  // a JSON data document for Rego
)

// PolicyDocument is one file of a cluster's policy set.
type PolicyDocument struct {
	Kind DocumentKind `json:"kind"`
	// Path names the document within the set, unique in it (e.g.
	// "rules.json", "warden/extra.rego").
	Path    string `json:"path"`
	Content string `json:"content"`
}

// DefaultCluster is the cluster name of the policy set used for every Trino
// cluster that has none of its own.
const DefaultCluster = "default"

// PolicyRevision describes one revision of a cluster's policy set.
type PolicyRevision struct {
	Cluster  string `json:"cluster"`
	Revision int64  `json:"revision"`
	Actor    string `json:"actor"`
	Message  string `json:"message,omitempty"`
	// RestoredFrom is, for a rollback, the revision whose documents this one
	// restored; 0 otherwise.
	RestoredFrom int64     `json:"restored_from,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// PolicySet is a cluster's policy documents as of one policy revision.
type PolicySet struct {
	PolicyRevision
	// Documents are ordered by path.
	Documents []PolicyDocument `json:"documents"`
}

// Change is one row of the change log: who changed what, when, at which
// revision, and the object's state before and after (as JSON; nil for none).
type Change struct {
	ID         int64           `json:"id"`
	Revision   int64           `json:"revision"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	At         time.Time       `json:"at"`
}

// ChangeFilter selects change-log rows; zero fields match everything.
type ChangeFilter struct {
	Actor      string
	ObjectType string
	ObjectID   string
	// MinRevision keeps rows at this revision or later.
	MinRevision int64
}

// OutboxItem is a message that must reach another system.
type OutboxItem struct {
	ID       int64           `json:"id"`
	Revision int64           `json:"revision"`
	Topic    string          `json:"topic"`
	Payload  json.RawMessage `json:"payload"`
	// Attempts counts the claims so far, this one included.
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error,omitempty"`
	DoneAt        *time.Time `json:"done_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

func userFromRow(r db.User) (User, error) {
	u := User{
		ID:          r.ID,
		UserName:    r.UserName,
		ExternalID:  deref(r.ExternalID),
		DisplayName: r.DisplayName,
		Email:       r.Email,
		Active:      r.Active,
		Deleted:     r.DeletedAt != nil,
		Revision:    r.Revision,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
	}
	if len(r.Attributes) > 0 {
		if err := json.Unmarshal(r.Attributes, &u.Attributes); err != nil {
			return User{}, fmt.Errorf("store: user %d attributes: %w", r.ID, err)
		}
	}
	if len(u.Attributes) == 0 {
		u.Attributes = nil
	}
	if len(r.Scim) > 0 {
		if err := json.Unmarshal(r.Scim, &u.SCIM); err != nil {
			return User{}, fmt.Errorf("store: user %d scim attributes: %w", r.ID, err)
		}
	}
	if len(u.SCIM) == 0 {
		u.SCIM = nil
	}
	return u, nil
}

func usersFromRows(rows []db.User) ([]User, error) {
	out := make([]User, 0, len(rows))
	for _, r := range rows {
		u, err := userFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func groupFromRow(r db.Group) Group {
	return Group{
		ID:          r.ID,
		Name:        r.Name,
		ExternalID:  deref(r.ExternalID),
		DisplayName: r.DisplayName,
		Revision:    r.Revision,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
	}
}

func groupsFromRows(rows []db.Group) []Group {
	out := make([]Group, 0, len(rows))
	for _, r := range rows {
		out = append(out, groupFromRow(r))
	}
	return out
}

func policyRevisionFromRow(r db.PolicyRevision) PolicyRevision {
	return PolicyRevision{
		Cluster:      r.Cluster,
		Revision:     r.Revision,
		Actor:        r.Actor,
		Message:      r.Message,
		RestoredFrom: deref(r.RestoredFrom),
		CreatedAt:    r.CreatedAt,
	}
}

func changeFromRow(r db.ChangeLog) Change {
	return Change{
		ID:         r.ID,
		Revision:   r.Revision,
		Actor:      r.Actor,
		Action:     r.Action,
		ObjectType: r.ObjectType,
		ObjectID:   r.ObjectID,
		Before:     r.Before,
		After:      r.After,
		At:         r.At,
	}
}

func outboxFromRow(r db.Outbox) OutboxItem {
	return OutboxItem{
		ID:            r.ID,
		Revision:      r.Revision,
		Topic:         r.Topic,
		Payload:       r.Payload,
		Attempts:      int(r.Attempts),
		NextAttemptAt: r.NextAttemptAt,
		LastError:     deref(r.LastError),
		DoneAt:        r.DoneAt,
		CreatedAt:     r.CreatedAt,
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// nonZero returns nil for the zero value, for nullable columns.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
