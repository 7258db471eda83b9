package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	r, err := s.RoleCreate(ctx, "admin@example.com", store.Role{Name: "analyst", Description: "read the lakehouse"})
	require.NoError(t, err)
	require.Equal(t, "admin@example.com", r.CreatedBy)
	require.Positive(t, r.Revision)

	_, err = s.RoleCreate(ctx, "admin@example.com", store.Role{Name: "analyst"})
	require.ErrorIs(t, err, store.ErrConflict)
	for _, bad := range []string{"", "has space", "semi;colon", string(make([]byte, 129))} {
		_, err = s.RoleCreate(ctx, "admin@example.com", store.Role{Name: bad})
		require.ErrorIs(t, err, store.ErrInvalid, "%q", bad)
	}
	_, err = s.RoleCreate(ctx, "admin@example.com", store.Role{Name: "steward"})
	require.NoError(t, err)

	got, err := s.RoleGet(ctx, "analyst")
	require.NoError(t, err)
	require.Equal(t, "read the lakehouse", got.Description)
	list, err := s.RoleList(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "analyst", list[0].Name)
	list, err = s.RoleList(ctx, "analyst", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"steward"}, []string{list[0].Name})

	require.NoError(t, s.RoleDelete(ctx, "admin@example.com", "analyst"))
	require.ErrorIs(t, s.RoleDelete(ctx, "admin@example.com", "analyst"), store.ErrNotFound)
	_, err = s.RoleGet(ctx, "analyst")
	require.ErrorIs(t, err, store.ErrNotFound)

	changes, _, err := s.Changes(ctx, store.ChangeFilter{ObjectType: store.ObjectRole}, 0, 10)
	require.NoError(t, err)
	require.Len(t, changes, 3, "two creates and a delete, each with who and when")
	require.Equal(t, store.ActionDelete, changes[0].Action)
	require.NotEmpty(t, changes[0].Before)
}
