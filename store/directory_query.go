package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/trino-warden/warden/store/internal/db"
)

// UserFilter selects live users by equality; zero fields match everything.
// UserName and DisplayName compare regardless of case, ExternalID exactly.
type UserFilter struct {
	ID          int64
	UserName    string
	ExternalID  string
	DisplayName string
}

// GroupFilter selects groups by equality; zero fields match everything. Name
// compares regardless of case, ExternalID exactly; MemberID keeps the groups
// the user with that ID belongs to.
type GroupFilter struct {
	ID         int64
	Name       string
	ExternalID string
	MemberID   int64
}

// Member is one membership as the members of a group list it.
type Member struct {
	GroupID     int64  `json:"group_id"`
	UserID      int64  `json:"user_id"`
	UserName    string `json:"user_name"`
	DisplayName string `json:"display_name,omitempty"`
}

// UserGet returns the live user with an ID, as this transaction sees it. It
// returns ErrNotFound when there is none (a tombstone is not found).
func (t *Tx) UserGet(ctx context.Context, id int64) (User, error) {
	row, err := t.q.UserGet(ctx, t.tx, id)
	if err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, translate(err))
	}
	return userFromRow(row)
}

// UserFind returns the live users that match f, by ID, skipping offset of
// them and returning at most limit (1..1000, default 100), together with the
// number of all matches.
func (t *Tx) UserFind(ctx context.Context, f UserFilter, offset, limit int) ([]User, int, error) {
	params := db.UserFindParams{
		ID:          nonZero(f.ID),
		UserName:    nonZero(f.UserName),
		ExternalID:  nonZero(f.ExternalID),
		DisplayName: nonZero(f.DisplayName),
		SkipRows:    clampOffset(offset),
		MaxRows:     clampLimit(limit),
	}
	rows, err := t.q.UserFind(ctx, t.tx, params)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find users: %w", translate(err))
	}
	if len(rows) == 0 && params.SkipRows > 0 {
		// Past the last page: count the matches on their own.
		params.SkipRows, params.MaxRows = 0, 1
		if rows, err = t.q.UserFind(ctx, t.tx, params); err != nil {
			return nil, 0, fmt.Errorf("store: find users: %w", translate(err))
		}
		if len(rows) == 0 {
			return nil, 0, nil
		}
		return nil, int(rows[0].Total), nil
	}
	out := make([]User, 0, len(rows))
	total := 0
	for _, r := range rows {
		u, err := userFromRow(db.User{
			ID: r.ID, UserName: r.UserName, ExternalID: r.ExternalID, DisplayName: r.DisplayName,
			Email: r.Email, Active: r.Active, Attributes: r.Attributes, Revision: r.Revision,
			CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeletedAt: r.DeletedAt, Scim: r.Scim,
		})
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
		total = int(r.Total)
	}
	return out, total, nil
}

// GroupGet returns the group with an ID, as this transaction sees it. It
// returns ErrNotFound when there is none.
func (t *Tx) GroupGet(ctx context.Context, id int64) (Group, error) {
	row, err := t.q.GroupGet(ctx, t.tx, id)
	if err != nil {
		return Group{}, fmt.Errorf("store: group %d: %w", id, translate(err))
	}
	return groupFromRow(row), nil
}

// GroupFind returns the groups that match f, by ID, skipping offset of them
// and returning at most limit (1..1000, default 100), together with the
// number of all matches.
func (t *Tx) GroupFind(ctx context.Context, f GroupFilter, offset, limit int) ([]Group, int, error) {
	params := db.GroupFindParams{
		ID:          nonZero(f.ID),
		DisplayName: nonZero(f.Name),
		ExternalID:  nonZero(f.ExternalID),
		MemberID:    nonZero(f.MemberID),
		SkipRows:    clampOffset(offset),
		MaxRows:     clampLimit(limit),
	}
	rows, err := t.q.GroupFind(ctx, t.tx, params)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find groups: %w", translate(err))
	}
	if len(rows) == 0 && params.SkipRows > 0 {
		params.SkipRows, params.MaxRows = 0, 1
		if rows, err = t.q.GroupFind(ctx, t.tx, params); err != nil {
			return nil, 0, fmt.Errorf("store: find groups: %w", translate(err))
		}
		if len(rows) == 0 {
			return nil, 0, nil
		}
		return nil, int(rows[0].Total), nil
	}
	out := make([]Group, 0, len(rows))
	total := 0
	for _, r := range rows {
		out = append(out, groupFromRow(db.Group{
			ID: r.ID, Name: r.Name, ExternalID: r.ExternalID, DisplayName: r.DisplayName,
			Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		}))
		total = int(r.Total)
	}
	return out, total, nil
}

// GroupMembers returns the members of the groups with the given IDs, keyed
// by group ID, each list ordered by user ID. Groups without members (or that
// do not exist) have no key.
func (t *Tx) GroupMembers(ctx context.Context, groupIDs []int64) (map[int64][]Member, error) {
	out := make(map[int64][]Member, len(groupIDs))
	if len(groupIDs) == 0 {
		return out, nil
	}
	rows, err := t.q.GroupMembersOf(ctx, t.tx, groupIDs)
	if err != nil {
		return nil, fmt.Errorf("store: group members: %w", translate(err))
	}
	for _, r := range rows {
		out[r.GroupID] = append(out[r.GroupID], Member{
			GroupID: r.GroupID, UserID: r.UserID, UserName: r.UserName, DisplayName: r.DisplayName,
		})
	}
	return out, nil
}

// UserGroups returns the groups of the users with the given IDs, keyed by
// user ID, each list ordered by name and holding only the groups' IDs and
// names. Users without groups have no key.
func (t *Tx) UserGroups(ctx context.Context, userIDs []int64) (map[int64][]Group, error) {
	out := make(map[int64][]Group, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := t.q.UserGroupsOf(ctx, t.tx, userIDs)
	if err != nil {
		return nil, fmt.Errorf("store: groups of users: %w", translate(err))
	}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], Group{ID: r.GroupID, Name: r.Name})
	}
	return out, nil
}

// GroupMembersSet makes the live users with the given IDs (repeats are
// ignored) the whole member set of a group: it adds and removes memberships,
// recording each in the change log, and moves the group to this
// transaction's revision when anything changed. It returns the group,
// ErrNotFound when the group or one of the users does not exist (nothing is
// changed then).
func (t *Tx) GroupMembersSet(ctx context.Context, actor string, groupID int64, userIDs []int64) (Group, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Group{}, err
	}
	gRow, err := t.q.GroupGetForUpdate(ctx, t.tx, groupID)
	if err != nil {
		return Group{}, fmt.Errorf("store: members of group %d: %w", groupID, translate(err))
	}
	want := slices.Clone(userIDs)
	slices.Sort(want)
	want = slices.Compact(want)
	users, err := t.q.UserGetMany(ctx, t.tx, want)
	if err != nil {
		return Group{}, fmt.Errorf("store: members of group %d: %w", groupID, translate(err))
	}
	if len(users) != len(want) {
		for i, id := range want {
			if i >= len(users) || users[i].ID != id {
				return Group{}, fmt.Errorf("store: member %d of group %q: %w", id, gRow.Name, ErrNotFound)
			}
		}
	}
	current, err := t.q.GroupMembersOf(ctx, t.tx, []int64{groupID})
	if err != nil {
		return Group{}, fmt.Errorf("store: members of group %d: %w", groupID, translate(err))
	}
	changed := false
	keep := make(map[int64]bool, len(current))
	for _, m := range current {
		if _, found := slices.BinarySearch(want, m.UserID); found {
			keep[m.UserID] = true
			continue
		}
		if _, err := t.q.GroupMemberRemove(ctx, t.tx, db.GroupMemberRemoveParams{UserID: m.UserID, GroupID: groupID}); err != nil {
			return Group{}, fmt.Errorf("store: remove %q from group %q: %w", m.UserName, gRow.Name, translate(err))
		}
		ms := membership{Group: gRow.Name, User: m.UserName}
		if err := t.record(ctx, actor, ActionRemove, ObjectMembership, ms.id(), ms, nil); err != nil {
			return Group{}, err
		}
		changed = true
	}
	for _, u := range users {
		if keep[u.ID] {
			continue
		}
		if _, err := t.q.GroupMemberAdd(ctx, t.tx, db.GroupMemberAddParams{UserID: u.ID, GroupID: groupID, Revision: rev}); err != nil {
			return Group{}, fmt.Errorf("store: add %q to group %q: %w", u.UserName, gRow.Name, translate(err))
		}
		ms := membership{Group: gRow.Name, User: u.UserName}
		if err := t.record(ctx, actor, ActionAdd, ObjectMembership, ms.id(), nil, ms); err != nil {
			return Group{}, err
		}
		changed = true
	}
	if !changed {
		return groupFromRow(gRow), nil
	}
	row, err := t.q.GroupTouch(ctx, t.tx, db.GroupTouchParams{ID: groupID, Revision: rev})
	if err != nil {
		return Group{}, fmt.Errorf("store: members of group %d: %w", groupID, translate(err))
	}
	return groupFromRow(row), nil
}

// clampOffset bounds an offset to 0..2^31-1.
func clampOffset(offset int) int32 {
	if offset <= 0 {
		return 0
	}
	return int32(min(offset, 1<<31-1)) //nolint:gosec // bounded above.
}
