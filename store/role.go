package store

import (
	"context"
	"fmt"
	"time"

	"github.com/trino-warden/warden/store/internal/db"
)

// ObjectRole is the change log's object type for roles.
const ObjectRole = "role"

// Role is a role of the grants model. OpenFGA holds who is assigned to it
// and what is granted to it; the store holds that it exists.
type Role struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedBy   string    `json:"created_by"`
	Revision    int64     `json:"revision"`
	CreatedAt   time.Time `json:"created_at"`
}

func roleFromRow(r db.Role) Role {
	return Role{Name: r.Name, Description: r.Description, CreatedBy: r.CreatedBy, Revision: r.Revision, CreatedAt: r.CreatedAt}
}

// RoleCreate creates a role. It returns ErrConflict when the role exists and
// ErrInvalid for a name outside [A-Za-z0-9_.@-]{1,128}.
func (t *Tx) RoleCreate(ctx context.Context, actor string, r Role) (Role, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Role{}, err
	}
	row, err := t.q.RoleInsert(ctx, t.tx, db.RoleInsertParams{Name: r.Name, Description: r.Description, CreatedBy: actor, Revision: rev})
	if err != nil {
		return Role{}, fmt.Errorf("store: create role %q: %w", r.Name, translate(err))
	}
	created := roleFromRow(row)
	return created, t.record(ctx, actor, ActionCreate, ObjectRole, created.Name, nil, created)
}

// RoleDelete deletes a role. It returns ErrNotFound when there is none.
// The caller makes sure nothing is assigned to or granted to it first.
func (t *Tx) RoleDelete(ctx context.Context, actor, name string) error {
	// Taking the revision first serializes this with every other change
	// and gives the change-log row its revision.
	if _, err := t.Revision(ctx); err != nil {
		return err
	}
	row, err := t.q.RoleDelete(ctx, t.tx, name)
	if err != nil {
		return fmt.Errorf("store: delete role %q: %w", name, translate(err))
	}
	return t.record(ctx, actor, ActionDelete, ObjectRole, name, roleFromRow(row), nil)
}

// RoleGet returns a role; ErrNotFound when there is none.
func (s *Store) RoleGet(ctx context.Context, name string) (Role, error) {
	row, err := s.q.RoleGet(ctx, s.pool, name)
	if err != nil {
		return Role{}, fmt.Errorf("store: role %q: %w", name, translate(err))
	}
	return roleFromRow(row), nil
}

// RoleList returns up to limit roles named after afterName, by name.
func (s *Store) RoleList(ctx context.Context, afterName string, limit int) ([]Role, error) {
	rows, err := s.q.RoleList(ctx, s.pool, db.RoleListParams{AfterName: afterName, MaxRows: clampLimit(limit)})
	if err != nil {
		return nil, fmt.Errorf("store: list roles: %w", translate(err))
	}
	out := make([]Role, len(rows))
	for i, r := range rows {
		out[i] = roleFromRow(r)
	}
	return out, nil
}

// RoleCreate creates a role in its own transaction.
func (s *Store) RoleCreate(ctx context.Context, actor string, r Role) (Role, error) {
	var out Role
	err := s.InTx(ctx, func(tx *Tx) (err error) { out, err = tx.RoleCreate(ctx, actor, r); return err })
	return out, err
}

// RoleDelete deletes a role in its own transaction.
func (s *Store) RoleDelete(ctx context.Context, actor, name string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.RoleDelete(ctx, actor, name) })
}
