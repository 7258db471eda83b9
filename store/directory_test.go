package store_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

func TestUserCreateGetUpdateDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store

	created, err := s.UserCreate(ctx, "admin", store.User{
		UserName: "Alice", ExternalID: "idp-1", DisplayName: "Alice A.", Email: "alice@example.com",
		Active: true, Attributes: map[string]any{"dept": "eng", "level": float64(3)},
	})
	require.NoError(t, err)
	require.NotZero(t, created.ID)
	require.Equal(t, int64(1), created.Revision)
	require.False(t, created.CreatedAt.IsZero())

	for _, name := range []string{"Alice", "alice", "ALICE"} {
		got, err := s.UserGetByName(ctx, name)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(created, got))
	}
	got, err := s.UserGet(ctx, created.ID)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(created, got))

	upd := created
	upd.UserName, upd.Active, upd.ExternalID, upd.Attributes = "alice2", false, "", nil
	updated, err := s.UserUpdate(ctx, "admin", upd)
	require.NoError(t, err)
	want := upd
	want.Revision = 2
	require.Empty(t, cmp.Diff(want, updated, ignoreTimes))

	require.NoError(t, s.UserDelete(ctx, "admin", created.ID))
	_, err = s.UserGet(ctx, created.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.UserDelete(ctx, "admin", created.ID), store.ErrNotFound)

	rev, err := s.CurrentRevision(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), rev)
}

func TestUserErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	alice, err := s.UserCreate(ctx, "admin", store.User{UserName: "alice", ExternalID: "x1", Active: true})
	require.NoError(t, err)
	bob, err := s.UserCreate(ctx, "admin", store.User{UserName: "bob", Active: true})
	require.NoError(t, err)

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"duplicate name", func() error { _, err := s.UserCreate(ctx, "admin", store.User{UserName: "alice"}); return err }, store.ErrConflict},
		{"duplicate name in another case", func() error { _, err := s.UserCreate(ctx, "admin", store.User{UserName: "ALICE"}); return err }, store.ErrConflict},
		{"duplicate external id", func() error {
			_, err := s.UserCreate(ctx, "admin", store.User{UserName: "carol", ExternalID: "x1"})
			return err
		}, store.ErrConflict},
		{"rename onto a taken name", func() error {
			bob.UserName = "Alice"
			_, err := s.UserUpdate(ctx, "admin", bob)
			return err
		}, store.ErrConflict},
		{"empty name", func() error { _, err := s.UserCreate(ctx, "admin", store.User{}); return err }, store.ErrInvalid},
		{"update unknown", func() error {
			_, err := s.UserUpdate(ctx, "admin", store.User{ID: alice.ID + 100, UserName: "x"})
			return err
		}, store.ErrNotFound},
		{"get unknown", func() error { _, err := s.UserGetByName(ctx, "nobody"); return err }, store.ErrNotFound},
		{"groups of unknown", func() error { _, err := s.UserGroupList(ctx, "nobody"); return err }, store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.run(), tt.want)
		})
	}
	// Failed writes take no revision.
	rev, err := s.CurrentRevision(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), rev)
}

func TestGroupsAndMemberships(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	for _, name := range []string{"alice", "bob", "carol"} {
		_, err := s.UserCreate(ctx, "admin", store.User{UserName: name, Active: name != "carol"})
		require.NoError(t, err)
	}
	analysts, err := s.GroupCreate(ctx, "admin", store.Group{Name: "analysts", DisplayName: "Analysts"})
	require.NoError(t, err)
	admins, err := s.GroupCreate(ctx, "admin", store.Group{Name: "admins", ExternalID: "g-1"})
	require.NoError(t, err)

	_, err = s.GroupCreate(ctx, "admin", store.Group{Name: "Analysts"})
	require.ErrorIs(t, err, store.ErrConflict)
	got, err := s.GroupGetByName(ctx, "ANALYSTS")
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(analysts, got))
	got, err = s.GroupGet(ctx, admins.ID)
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(admins, got))

	require.NoError(t, s.GroupMemberAdd(ctx, "admin", "analysts", "alice"))
	require.NoError(t, s.GroupMemberAdd(ctx, "admin", "Analysts", "Bob"))
	require.NoError(t, s.GroupMemberAdd(ctx, "admin", "admins", "alice"))
	require.ErrorIs(t, s.GroupMemberAdd(ctx, "admin", "analysts", "alice"), store.ErrConflict)
	require.ErrorIs(t, s.GroupMemberAdd(ctx, "admin", "nogroup", "alice"), store.ErrNotFound)
	require.ErrorIs(t, s.GroupMemberAdd(ctx, "admin", "analysts", "nobody"), store.ErrNotFound)

	members, err := s.GroupMemberList(ctx, "analysts")
	require.NoError(t, err)
	require.Equal(t, []string{"alice", "bob"}, userNames(members))
	groups, err := s.UserGroupList(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []string{"admins", "analysts"}, groupNames(groups))

	require.NoError(t, s.GroupMemberRemove(ctx, "admin", "analysts", "bob"))
	require.ErrorIs(t, s.GroupMemberRemove(ctx, "admin", "analysts", "bob"), store.ErrNotFound)
	members, err = s.GroupMemberList(ctx, "analysts")
	require.NoError(t, err)
	require.Equal(t, []string{"alice"}, userNames(members))

	renamed := admins
	renamed.Name, renamed.ExternalID = "superusers", ""
	upd, err := s.GroupUpdate(ctx, "admin", renamed)
	require.NoError(t, err)
	require.Equal(t, "superusers", upd.Name)
	require.Greater(t, upd.Revision, admins.Revision)
	_, err = s.GroupUpdate(ctx, "admin", store.Group{ID: 9999, Name: "x"})
	require.ErrorIs(t, err, store.ErrNotFound)

	// Deleting a group removes its memberships.
	require.NoError(t, s.GroupDelete(ctx, "admin", upd.ID))
	require.ErrorIs(t, s.GroupDelete(ctx, "admin", upd.ID), store.ErrNotFound)
	groups, err = s.UserGroupList(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []string{"analysts"}, groupNames(groups))
	_, err = s.GroupMemberList(ctx, "superusers")
	require.ErrorIs(t, err, store.ErrNotFound)

	all, err := s.GroupList(ctx, 0, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"analysts"}, groupNames(all))
}

func TestUserListPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	var want []string
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		_, err := s.UserCreate(ctx, "admin", store.User{UserName: name})
		require.NoError(t, err)
		want = append(want, name)
	}
	var got []string
	var after int64
	for {
		page, err := s.UserList(ctx, after, 2)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 2)
		got = append(got, userNames(page)...)
		after = page[len(page)-1].ID
	}
	require.Equal(t, want, got)
}

func TestDirectorySnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store

	dir, rev, err := s.DirectorySnapshot(ctx)
	require.NoError(t, err)
	require.Zero(t, rev)
	require.Empty(t, dir.Users)

	_, err = s.UserCreate(ctx, "admin", store.User{UserName: "alice", Active: true, Attributes: map[string]any{"dept": "eng"}})
	require.NoError(t, err)
	_, err = s.UserCreate(ctx, "admin", store.User{UserName: "bob", Active: false})
	require.NoError(t, err)
	for _, g := range []string{"zeta", "analysts"} {
		_, err = s.GroupCreate(ctx, "admin", store.Group{Name: g})
		require.NoError(t, err)
		require.NoError(t, s.GroupMemberAdd(ctx, "admin", g, "alice"))
	}

	dir, rev, err = s.DirectorySnapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(6), rev)
	type view struct {
		Name   string
		Active bool
		Groups []string
		Attrs  map[string]any
	}
	var got []view
	for _, u := range dir.Users {
		got = append(got, view{u.UserName, u.Active, u.Groups, u.Attributes})
	}
	want := []view{
		{"alice", true, []string{"analysts", "zeta"}, map[string]any{"dept": "eng"}},
		{"bob", false, nil, nil},
	}
	require.Empty(t, cmp.Diff(want, got))
	require.Equal(t, []string{"zeta", "analysts"}, groupNames(dir.Groups))
}

func TestDirectoryChangeLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	u, err := s.UserCreate(ctx, "alice-admin", store.User{UserName: "alice", Active: true})
	require.NoError(t, err)
	u.Active = false
	_, err = s.UserUpdate(ctx, "bob-admin", u)
	require.NoError(t, err)
	_, err = s.GroupCreate(ctx, "bob-admin", store.Group{Name: "g"})
	require.NoError(t, err)
	require.NoError(t, s.GroupMemberAdd(ctx, "bob-admin", "g", "alice"))
	require.NoError(t, s.UserDelete(ctx, "carol-admin", u.ID))

	changes, next, err := s.Changes(ctx, store.ChangeFilter{}, 0, 100)
	require.NoError(t, err)
	require.Zero(t, next)
	type row struct {
		Revision                         int64
		Actor, Action, ObjectType, ObjID string
		HasBefore, HasAfter              bool
	}
	var got []row
	for _, c := range changes {
		got = append(got, row{c.Revision, c.Actor, c.Action, c.ObjectType, c.ObjectID, c.Before != nil, c.After != nil})
	}
	want := []row{
		{5, "carol-admin", "delete", "user", "alice", true, true},
		{5, "carol-admin", "remove", "membership", "g/alice", true, false},
		{4, "bob-admin", "add", "membership", "g/alice", false, true},
		{3, "bob-admin", "create", "group", "g", false, true},
		{2, "bob-admin", "update", "user", "alice", true, true},
		{1, "alice-admin", "create", "user", "alice", false, true},
	}
	require.Empty(t, cmp.Diff(want, got))

	// The update's before and after hold the user's state.
	var before, after store.User
	require.NoError(t, json.Unmarshal(changes[4].Before, &before))
	require.NoError(t, json.Unmarshal(changes[4].After, &after))
	require.True(t, before.Active)
	require.False(t, after.Active)
	require.Equal(t, int64(2), after.Revision)
}

func userNames(us []store.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.UserName)
	}
	return out
}

func groupNames(gs []store.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func TestUserTombstoneAndRevive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store

	alice, err := s.UserCreate(ctx, "scim:okta", store.User{
		UserName: "Alice", ExternalID: "ext-a", Active: true, Email: "alice@example.com",
		SCIM: map[string]any{"name": map[string]any{"givenName": "Alice"}},
	})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"name": map[string]any{"givenName": "Alice"}}, alice.SCIM)
	_, err = s.GroupCreate(ctx, "admin", store.Group{Name: "analysts"})
	require.NoError(t, err)
	require.NoError(t, s.GroupMemberAdd(ctx, "admin", "analysts", "alice"))
	require.NoError(t, s.UserDelete(ctx, "scim:okta", alice.ID))

	// The tombstone is invisible to the reads of the live directory…
	_, err = s.UserGet(ctx, alice.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.UserGetByName(ctx, "alice")
	require.ErrorIs(t, err, store.ErrNotFound)
	users, err := s.UserList(ctx, 0, 10)
	require.NoError(t, err)
	require.Empty(t, users)
	members, err := s.GroupMemberList(ctx, "analysts")
	require.NoError(t, err)
	require.Empty(t, members)
	require.ErrorIs(t, s.UserDelete(ctx, "scim:okta", alice.ID), store.ErrNotFound)
	_, err = s.UserUpdate(ctx, "scim:okta", alice)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.GroupMemberAdd(ctx, "admin", "analysts", "alice"), store.ErrNotFound)

	// …but the snapshot keeps it, inactive and without groups.
	dir, rev, err := s.DirectorySnapshot(ctx)
	require.NoError(t, err)
	require.Len(t, dir.Users, 1)
	require.True(t, dir.Users[0].Deleted)
	require.False(t, dir.Users[0].Active)
	require.Empty(t, dir.Users[0].Groups)
	require.Equal(t, "Alice", dir.Users[0].UserName)

	tests := []struct {
		name   string
		create store.User
	}{
		{"same name in another case", store.User{UserName: "ALICE", ExternalID: "ext-a", Active: true}},
		{"same external id", store.User{UserName: "alice.new", ExternalID: "ext-a", Active: true}},
	}
	for _, tt := range tests {
		revived, err := s.UserCreate(ctx, "scim:okta", tt.create)
		require.NoError(t, err, tt.name)
		require.Equal(t, alice.ID, revived.ID, tt.name)
		require.False(t, revived.Deleted, tt.name)
		require.Nil(t, revived.SCIM, tt.name)
		require.Greater(t, revived.Revision, rev, tt.name)
		require.NoError(t, s.UserDelete(ctx, "scim:okta", revived.ID), tt.name)
		rev = revived.Revision
	}

	// A live user holding the name still conflicts; a second tombstone gives
	// up an external ID that a revived user takes.
	bob, err := s.UserCreate(ctx, "admin", store.User{UserName: "bob", ExternalID: "ext-b"})
	require.NoError(t, err)
	_, err = s.UserCreate(ctx, "admin", store.User{UserName: "Bob"})
	require.ErrorIs(t, err, store.ErrConflict)
	require.NoError(t, s.UserDelete(ctx, "admin", bob.ID))
	revived, err := s.UserCreate(ctx, "admin", store.User{UserName: "alice.new", ExternalID: "ext-b"})
	require.NoError(t, err)
	require.Equal(t, alice.ID, revived.ID)
	require.Equal(t, "ext-b", revived.ExternalID)

	changes, _, err := s.Changes(ctx, store.ChangeFilter{ObjectType: store.ObjectUser, ObjectID: "alice.new"}, 0, 10)
	require.NoError(t, err)
	require.NotEmpty(t, changes)
	require.Equal(t, store.ActionCreate, changes[0].Action)
	var before store.User
	require.NoError(t, json.Unmarshal(changes[0].Before, &before))
	require.True(t, before.Deleted)
}

func TestGroupMembersSetAndFind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	var ids []int64
	for _, name := range []string{"alice", "bob", "carol"} {
		u, err := s.UserCreate(ctx, "admin", store.User{UserName: name, DisplayName: "User " + name, Active: true})
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	g, err := s.GroupCreate(ctx, "admin", store.Group{Name: "Analysts", ExternalID: "g-ext"})
	require.NoError(t, err)

	set := func(userIDs ...int64) (store.Group, error) {
		var out store.Group
		err := s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			out, err = tx.GroupMembersSet(ctx, "admin", g.ID, userIDs)
			return err
		})
		return out, err
	}
	got, err := set(ids[0], ids[1], ids[0])
	require.NoError(t, err)
	require.Greater(t, got.Revision, g.Revision)
	got2, err := set(ids[1], ids[2])
	require.NoError(t, err)
	require.Greater(t, got2.Revision, got.Revision)
	_, err = set(ids[0], 999999)
	require.ErrorIs(t, err, store.ErrNotFound)

	err = s.InTxOptions(ctx, store.TxOptions{ReadOnly: true}, func(tx *store.Tx) error {
		members, err := tx.GroupMembers(ctx, []int64{g.ID})
		require.NoError(t, err)
		var names []string
		for _, m := range members[g.ID] {
			names = append(names, m.UserName)
		}
		require.Equal(t, []string{"bob", "carol"}, names)

		tests := []struct {
			name   string
			filter store.UserFilter
			offset int
			limit  int
			want   []string
			total  int
		}{
			{"all", store.UserFilter{}, 0, 10, []string{"alice", "bob", "carol"}, 3},
			{"page", store.UserFilter{}, 1, 1, []string{"bob"}, 3},
			{"past the end", store.UserFilter{}, 5, 10, nil, 3},
			{"user name in any case", store.UserFilter{UserName: "BOB"}, 0, 10, []string{"bob"}, 1},
			{"display name", store.UserFilter{DisplayName: "user carol"}, 0, 10, []string{"carol"}, 1},
			{"id", store.UserFilter{ID: ids[0]}, 0, 10, []string{"alice"}, 1},
			{"no match", store.UserFilter{ExternalID: "nope"}, 0, 10, nil, 0},
		}
		for _, tt := range tests {
			users, total, err := tx.UserFind(ctx, tt.filter, tt.offset, tt.limit)
			require.NoError(t, err, tt.name)
			require.Equal(t, tt.want, userNames(users), tt.name)
			require.Equal(t, tt.total, total, tt.name)
		}
		for _, f := range []store.GroupFilter{{Name: "analysts"}, {ExternalID: "g-ext"}, {MemberID: ids[2]}, {ID: g.ID}} {
			groups, total, err := tx.GroupFind(ctx, f, 0, 10)
			require.NoError(t, err)
			require.Equal(t, 1, total, "%+v", f)
			require.Equal(t, []string{"Analysts"}, groupNames(groups))
		}
		groups, total, err := tx.GroupFind(ctx, store.GroupFilter{MemberID: ids[0]}, 0, 10)
		require.NoError(t, err)
		require.Zero(t, total)
		require.Empty(t, groups)
		return nil
	})
	require.NoError(t, err)
}
