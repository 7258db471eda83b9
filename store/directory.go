package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/trino-warden/warden/store/internal/db"
)

// Object types and actions the directory writes to the change log.
const (
	ObjectUser       = "user"
	ObjectGroup      = "group"
	ObjectMembership = "membership"
	ObjectPolicy     = "policy"

	ActionCreate   = "create"
	ActionUpdate   = "update"
	ActionDelete   = "delete"
	ActionAdd      = "add"
	ActionRemove   = "remove"
	ActionPut      = "put"
	ActionRollback = "rollback"
)

// objectJSON marshals a user's free-form JSON object; nil becomes {}.
func objectJSON(what string, obj map[string]any) (json.RawMessage, error) {
	if len(obj) == 0 {
		return json.RawMessage(`{}`), nil
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: user %s: %w", ErrInvalid, what, err)
	}
	return b, nil
}

// userJSON marshals a user's attributes and SCIM attributes.
func userJSON(u User) (attrs, scim json.RawMessage, err error) {
	if attrs, err = objectJSON("attributes", u.Attributes); err != nil {
		return nil, nil, err
	}
	if scim, err = objectJSON("scim attributes", u.SCIM); err != nil {
		return nil, nil, err
	}
	return attrs, scim, nil
}

// UserCreate adds a user. When a tombstone (a deleted user) has the same
// user name (in any case) or, failing that, the same external ID, it revives
// that row instead, with u's content and a new revision, so that the user
// keeps their ID; another tombstone holding the external ID gives it up. It
// returns ErrConflict when a live user has the user name or the external ID,
// and ErrInvalid for an empty user name.
func (t *Tx) UserCreate(ctx context.Context, actor string, u User) (User, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return User{}, err
	}
	attrs, scim, err := userJSON(u)
	if err != nil {
		return User{}, err
	}
	tombRow, err := t.q.UserTombstoneFind(ctx, t.tx, db.UserTombstoneFindParams{
		UserName: u.UserName, ExternalID: nonZero(u.ExternalID),
	})
	if err != nil && !errors.Is(translate(err), ErrNotFound) {
		return User{}, fmt.Errorf("store: create user %q: %w", u.UserName, translate(err))
	}
	if err != nil {
		row, err := t.q.UserInsert(ctx, t.tx, db.UserInsertParams{
			UserName:    u.UserName,
			ExternalID:  nonZero(u.ExternalID),
			DisplayName: u.DisplayName,
			Email:       u.Email,
			Active:      u.Active,
			Attributes:  attrs,
			Scim:        scim,
			Revision:    rev,
		})
		if err != nil {
			return User{}, fmt.Errorf("store: create user %q: %w", u.UserName, translate(err))
		}
		created, err := userFromRow(row)
		if err != nil {
			return User{}, err
		}
		return created, t.record(ctx, actor, ActionCreate, ObjectUser, created.UserName, nil, created)
	}
	tomb, err := userFromRow(tombRow)
	if err != nil {
		return User{}, err
	}
	if u.ExternalID != "" {
		err := t.q.UserTombstoneReleaseExternalID(ctx, t.tx, db.UserTombstoneReleaseExternalIDParams{
			ExternalID: u.ExternalID, KeepID: tomb.ID,
		})
		if err != nil {
			return User{}, fmt.Errorf("store: create user %q: %w", u.UserName, translate(err))
		}
	}
	row, err := t.q.UserRevive(ctx, t.tx, db.UserReviveParams{
		ID:          tomb.ID,
		UserName:    u.UserName,
		ExternalID:  nonZero(u.ExternalID),
		DisplayName: u.DisplayName,
		Email:       u.Email,
		Active:      u.Active,
		Attributes:  attrs,
		Scim:        scim,
		Revision:    rev,
	})
	if err != nil {
		return User{}, fmt.Errorf("store: create user %q: %w", u.UserName, translate(err))
	}
	created, err := userFromRow(row)
	if err != nil {
		return User{}, err
	}
	return created, t.record(ctx, actor, ActionCreate, ObjectUser, created.UserName, tomb, created)
}

// UserUpdate replaces the user with ID u.ID by u (its name included). It
// returns ErrNotFound when there is no such live user (a tombstone is not
// found), ErrConflict when the new name or external ID is taken, and
// ErrInvalid for an empty user name.
func (t *Tx) UserUpdate(ctx context.Context, actor string, u User) (User, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return User{}, err
	}
	beforeRow, err := t.q.UserGetForUpdate(ctx, t.tx, u.ID)
	if err != nil {
		return User{}, fmt.Errorf("store: update user %d: %w", u.ID, translate(err))
	}
	before, err := userFromRow(beforeRow)
	if err != nil {
		return User{}, err
	}
	attrs, scim, err := userJSON(u)
	if err != nil {
		return User{}, err
	}
	row, err := t.q.UserUpdate(ctx, t.tx, db.UserUpdateParams{
		ID:          u.ID,
		UserName:    u.UserName,
		ExternalID:  nonZero(u.ExternalID),
		DisplayName: u.DisplayName,
		Email:       u.Email,
		Active:      u.Active,
		Attributes:  attrs,
		Scim:        scim,
		Revision:    rev,
	})
	if err != nil {
		return User{}, fmt.Errorf("store: update user %d: %w", u.ID, translate(err))
	}
	after, err := userFromRow(row)
	if err != nil {
		return User{}, err
	}
	return after, t.record(ctx, actor, ActionUpdate, ObjectUser, before.UserName, before, after)
}

// UserDelete deletes a user: it removes their memberships (one change-log
// row each) and keeps the row as an inactive tombstone, which only
// DirectorySnapshot returns (with Deleted set), so that policies go on
// denying the name. Creating a user with the same name or external ID
// revives it. It returns ErrNotFound when there is no such live user.
func (t *Tx) UserDelete(ctx context.Context, actor string, id int64) error {
	rev, err := t.Revision(ctx)
	if err != nil {
		return err
	}
	beforeRow, err := t.q.UserGetForUpdate(ctx, t.tx, id)
	if err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, translate(err))
	}
	before, err := userFromRow(beforeRow)
	if err != nil {
		return err
	}
	groups, err := t.q.UserGroupList(ctx, t.tx, id)
	if err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, translate(err))
	}
	if err := t.q.UserMembershipsDelete(ctx, t.tx, id); err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, translate(err))
	}
	for _, g := range groups {
		m := membership{Group: g.Name, User: before.UserName}
		if err := t.record(ctx, actor, ActionRemove, ObjectMembership, m.id(), m, nil); err != nil {
			return err
		}
	}
	row, err := t.q.UserTombstone(ctx, t.tx, db.UserTombstoneParams{ID: id, Revision: rev})
	if err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, translate(err))
	}
	after, err := userFromRow(row)
	if err != nil {
		return err
	}
	return t.record(ctx, actor, ActionDelete, ObjectUser, before.UserName, before, after)
}

// GroupCreate adds a group. It returns ErrConflict when the name (in any
// case) or the external ID is taken, and ErrInvalid for an empty name.
func (t *Tx) GroupCreate(ctx context.Context, actor string, g Group) (Group, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Group{}, err
	}
	row, err := t.q.GroupInsert(ctx, t.tx, db.GroupInsertParams{
		Name:        g.Name,
		ExternalID:  nonZero(g.ExternalID),
		DisplayName: g.DisplayName,
		Revision:    rev,
	})
	if err != nil {
		return Group{}, fmt.Errorf("store: create group %q: %w", g.Name, translate(err))
	}
	created := groupFromRow(row)
	return created, t.record(ctx, actor, ActionCreate, ObjectGroup, created.Name, nil, created)
}

// GroupUpdate replaces the group with ID g.ID by g. It returns ErrNotFound
// when there is no such group, ErrConflict when the new name or external ID
// is taken, and ErrInvalid for an empty name.
func (t *Tx) GroupUpdate(ctx context.Context, actor string, g Group) (Group, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Group{}, err
	}
	beforeRow, err := t.q.GroupGetForUpdate(ctx, t.tx, g.ID)
	if err != nil {
		return Group{}, fmt.Errorf("store: update group %d: %w", g.ID, translate(err))
	}
	row, err := t.q.GroupUpdate(ctx, t.tx, db.GroupUpdateParams{
		ID:          g.ID,
		Name:        g.Name,
		ExternalID:  nonZero(g.ExternalID),
		DisplayName: g.DisplayName,
		Revision:    rev,
	})
	if err != nil {
		return Group{}, fmt.Errorf("store: update group %d: %w", g.ID, translate(err))
	}
	before, after := groupFromRow(beforeRow), groupFromRow(row)
	return after, t.record(ctx, actor, ActionUpdate, ObjectGroup, before.Name, before, after)
}

// GroupDelete removes a group and its memberships. It returns ErrNotFound
// when there is no such group.
func (t *Tx) GroupDelete(ctx context.Context, actor string, id int64) error {
	if _, err := t.Revision(ctx); err != nil {
		return err
	}
	row, err := t.q.GroupDelete(ctx, t.tx, id)
	if err != nil {
		return fmt.Errorf("store: delete group %d: %w", id, translate(err))
	}
	before := groupFromRow(row)
	return t.record(ctx, actor, ActionDelete, ObjectGroup, before.Name, before, nil)
}

// membership is how a membership appears in the change log.
type membership struct {
	Group string `json:"group"`
	User  string `json:"user"`
}

func (m membership) id() string { return m.Group + "/" + m.User }

// resolveMembership finds the group and user by name (any case).
func (t *Tx) resolveMembership(ctx context.Context, groupName, userName string) (db.Group, db.User, error) {
	g, err := t.q.GroupGetByName(ctx, t.tx, groupName)
	if err != nil {
		return db.Group{}, db.User{}, fmt.Errorf("store: group %q: %w", groupName, translate(err))
	}
	u, err := t.q.UserGetByName(ctx, t.tx, userName)
	if err != nil {
		return db.Group{}, db.User{}, fmt.Errorf("store: user %q: %w", userName, translate(err))
	}
	return g, u, nil
}

// GroupMemberAdd makes a user a member of a group, both named in any case.
// It returns ErrNotFound when the group or the user does not exist, and
// ErrConflict when the user is already a member (callers that want an
// idempotent add treat ErrConflict as success).
func (t *Tx) GroupMemberAdd(ctx context.Context, actor, groupName, userName string) error {
	rev, err := t.Revision(ctx)
	if err != nil {
		return err
	}
	g, u, err := t.resolveMembership(ctx, groupName, userName)
	if err != nil {
		return err
	}
	if _, err := t.q.GroupMemberAdd(ctx, t.tx, db.GroupMemberAddParams{UserID: u.ID, GroupID: g.ID, Revision: rev}); err != nil {
		return fmt.Errorf("store: add %q to group %q: %w", u.UserName, g.Name, translate(err))
	}
	m := membership{Group: g.Name, User: u.UserName}
	return t.record(ctx, actor, ActionAdd, ObjectMembership, m.id(), nil, m)
}

// GroupMemberRemove removes a user from a group, both named in any case. It
// returns ErrNotFound when the group or the user does not exist, or the user
// is not a member.
func (t *Tx) GroupMemberRemove(ctx context.Context, actor, groupName, userName string) error {
	if _, err := t.Revision(ctx); err != nil {
		return err
	}
	g, u, err := t.resolveMembership(ctx, groupName, userName)
	if err != nil {
		return err
	}
	if _, err := t.q.GroupMemberRemove(ctx, t.tx, db.GroupMemberRemoveParams{UserID: u.ID, GroupID: g.ID}); err != nil {
		return fmt.Errorf("store: remove %q from group %q: %w", u.UserName, g.Name, translate(err))
	}
	m := membership{Group: g.Name, User: u.UserName}
	return t.record(ctx, actor, ActionRemove, ObjectMembership, m.id(), m, nil)
}

// UserCreate adds a user in its own transaction; see Tx.UserCreate.
func (s *Store) UserCreate(ctx context.Context, actor string, u User) (User, error) {
	return inTx(ctx, s, func(tx *Tx) (User, error) { return tx.UserCreate(ctx, actor, u) })
}

// UserUpdate replaces a user in its own transaction; see Tx.UserUpdate.
func (s *Store) UserUpdate(ctx context.Context, actor string, u User) (User, error) {
	return inTx(ctx, s, func(tx *Tx) (User, error) { return tx.UserUpdate(ctx, actor, u) })
}

// UserDelete removes a user in its own transaction; see Tx.UserDelete.
func (s *Store) UserDelete(ctx context.Context, actor string, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.UserDelete(ctx, actor, id) })
}

// GroupCreate adds a group in its own transaction; see Tx.GroupCreate.
func (s *Store) GroupCreate(ctx context.Context, actor string, g Group) (Group, error) {
	return inTx(ctx, s, func(tx *Tx) (Group, error) { return tx.GroupCreate(ctx, actor, g) })
}

// GroupUpdate replaces a group in its own transaction; see Tx.GroupUpdate.
func (s *Store) GroupUpdate(ctx context.Context, actor string, g Group) (Group, error) {
	return inTx(ctx, s, func(tx *Tx) (Group, error) { return tx.GroupUpdate(ctx, actor, g) })
}

// GroupDelete removes a group in its own transaction; see Tx.GroupDelete.
func (s *Store) GroupDelete(ctx context.Context, actor string, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.GroupDelete(ctx, actor, id) })
}

// GroupMemberAdd adds a membership in its own transaction; see
// Tx.GroupMemberAdd.
func (s *Store) GroupMemberAdd(ctx context.Context, actor, groupName, userName string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.GroupMemberAdd(ctx, actor, groupName, userName) })
}

// GroupMemberRemove removes a membership in its own transaction; see
// Tx.GroupMemberRemove.
func (s *Store) GroupMemberRemove(ctx context.Context, actor, groupName, userName string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.GroupMemberRemove(ctx, actor, groupName, userName) })
}

// UserGet returns the live user with an ID. It returns ErrNotFound when
// there is none (a tombstone is not found), ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) UserGet(ctx context.Context, id int64) (User, error) {
	row, err := s.q.UserGet(ctx, s.pool, id)
	if err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, translate(err))
	}
	return userFromRow(row)
}

// UserGetByName returns the user with a name, in any case. It returns
// ErrNotFound when there is none, ErrUnavailable when PostgreSQL cannot be
// reached.
func (s *Store) UserGetByName(ctx context.Context, userName string) (User, error) {
	row, err := s.q.UserGetByName(ctx, s.pool, userName)
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", userName, translate(err))
	}
	return userFromRow(row)
}

// UserList returns up to limit live users (tombstones are left out) with an
// ID above afterID, by ID; pass the last ID to get the next page. It returns ErrUnavailable when
// PostgreSQL cannot be reached.
func (s *Store) UserList(ctx context.Context, afterID int64, limit int) ([]User, error) {
	rows, err := s.q.UserList(ctx, s.pool, db.UserListParams{AfterID: afterID, MaxRows: clampLimit(limit)})
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", translate(err))
	}
	return usersFromRows(rows)
}

// UserGroupList returns the groups of a user named in any case, by name. It
// returns ErrNotFound when there is no such user, ErrUnavailable when
// PostgreSQL cannot be reached.
func (s *Store) UserGroupList(ctx context.Context, userName string) ([]Group, error) {
	u, err := s.q.UserGetByName(ctx, s.pool, userName)
	if err != nil {
		return nil, fmt.Errorf("store: user %q: %w", userName, translate(err))
	}
	rows, err := s.q.UserGroupList(ctx, s.pool, u.ID)
	if err != nil {
		return nil, fmt.Errorf("store: groups of %q: %w", userName, translate(err))
	}
	return groupsFromRows(rows), nil
}

// GroupGet returns the group with an ID. It returns ErrNotFound when there is
// none, ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) GroupGet(ctx context.Context, id int64) (Group, error) {
	row, err := s.q.GroupGet(ctx, s.pool, id)
	if err != nil {
		return Group{}, fmt.Errorf("store: group %d: %w", id, translate(err))
	}
	return groupFromRow(row), nil
}

// GroupGetByName returns the group with a name, in any case. It returns
// ErrNotFound when there is none, ErrUnavailable when PostgreSQL cannot be
// reached.
func (s *Store) GroupGetByName(ctx context.Context, name string) (Group, error) {
	row, err := s.q.GroupGetByName(ctx, s.pool, name)
	if err != nil {
		return Group{}, fmt.Errorf("store: group %q: %w", name, translate(err))
	}
	return groupFromRow(row), nil
}

// GroupList returns up to limit groups with an ID above afterID, by ID. It
// returns ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) GroupList(ctx context.Context, afterID int64, limit int) ([]Group, error) {
	rows, err := s.q.GroupList(ctx, s.pool, db.GroupListParams{AfterID: afterID, MaxRows: clampLimit(limit)})
	if err != nil {
		return nil, fmt.Errorf("store: list groups: %w", translate(err))
	}
	return groupsFromRows(rows), nil
}

// GroupMemberList returns the members of a group named in any case, by user
// name. It returns ErrNotFound when there is no such group, ErrUnavailable
// when PostgreSQL cannot be reached.
func (s *Store) GroupMemberList(ctx context.Context, groupName string) ([]User, error) {
	g, err := s.q.GroupGetByName(ctx, s.pool, groupName)
	if err != nil {
		return nil, fmt.Errorf("store: group %q: %w", groupName, translate(err))
	}
	rows, err := s.q.GroupMemberList(ctx, s.pool, g.ID)
	if err != nil {
		return nil, fmt.Errorf("store: members of %q: %w", groupName, translate(err))
	}
	return usersFromRows(rows)
}

// DirectorySnapshot reads every user (with their groups; tombstones
// included, with Deleted set) and group, and the
// revision they are at, in one repeatable-read transaction, so the three are
// consistent: building a decision snapshot from it and pinning the revision
// never mixes two states. It returns ErrUnavailable when PostgreSQL cannot be
// reached.
func (s *Store) DirectorySnapshot(ctx context.Context) (Directory, int64, error) {
	var (
		dir Directory
		rev int64
	)
	err := s.InTxOptions(ctx, TxOptions{Isolation: RepeatableRead, ReadOnly: true}, func(tx *Tx) error {
		var err error
		if rev, err = tx.q.RevisionCurrent(ctx, tx.tx); err != nil {
			return translate(err)
		}
		userRows, err := tx.q.UserListAll(ctx, tx.tx)
		if err != nil {
			return translate(err)
		}
		groupRows, err := tx.q.GroupListAll(ctx, tx.tx)
		if err != nil {
			return translate(err)
		}
		members, err := tx.q.MembershipListAll(ctx, tx.tx)
		if err != nil {
			return translate(err)
		}
		if dir.Users, err = usersFromRows(userRows); err != nil {
			return err
		}
		dir.Groups = groupsFromRows(groupRows)
		groupName := make(map[int64]string, len(dir.Groups))
		for _, g := range dir.Groups {
			groupName[g.ID] = g.Name
		}
		userIndex := make(map[int64]int, len(dir.Users))
		for i, u := range dir.Users {
			userIndex[u.ID] = i
		}
		for _, m := range members {
			i := userIndex[m.UserID]
			dir.Users[i].Groups = append(dir.Users[i].Groups, groupName[m.GroupID])
		}
		for i := range dir.Users {
			slices.Sort(dir.Users[i].Groups)
		}
		return nil
	})
	if err != nil {
		return Directory{}, 0, fmt.Errorf("store: directory snapshot: %w", err)
	}
	return dir, rev, nil
}

// clampLimit bounds a page size to 1..1000 (default 100).
func clampLimit(limit int) int32 {
	switch {
	case limit <= 0:
		return 100
	case limit > 1000:
		return 1000
	}
	return int32(limit) //nolint:gosec // bounded above.
}
