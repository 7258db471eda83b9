package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

// tables lists the tables of the public schema, but golang-migrate's own.
func tables(t *testing.T, ctx context.Context, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables
		WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func TestMigrateUpDownUpOverData(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := pgtest.NewEmptyDatabase(t)

	v, dirty, err := store.SchemaVersion(ctx, url)
	require.NoError(t, err)
	require.Zero(t, v)
	require.False(t, dirty)

	require.NoError(t, store.MigrateUp(ctx, url))
	v, dirty, err = store.SchemaVersion(ctx, url)
	require.NoError(t, err)
	require.Equal(t, store.LatestVersion(), v)
	require.False(t, dirty)
	want := []string{"audit_decisions", "audit_decisions_staging", "audit_queries", "audit_sampling", "change_log", "datasources", "groups", "mask_policies", "memberships", "outbox", "policy_documents",
		"policy_revisions", "revision_counter", "roles", "row_policies", "subscriptions", "users", "webhook_events", "webhook_subjects"}
	require.Equal(t, want, tables(t, ctx, url))

	seed := func() {
		s, err := store.Open(ctx, url, store.Options{})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.CheckSchema(ctx))
		_, err = s.UserCreate(ctx, "admin", store.User{UserName: "alice", Active: true, Attributes: map[string]any{"dept": "eng"}})
		require.NoError(t, err)
		_, err = s.GroupCreate(ctx, "admin", store.Group{Name: "analysts"})
		require.NoError(t, err)
		require.NoError(t, s.GroupMemberAdd(ctx, "admin", "analysts", "alice"))
		_, err = s.PolicyPut(ctx, "admin", store.DefaultCluster,
			[]store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json", Content: `{}`}}, "first")
		require.NoError(t, err)
		require.NoError(t, s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.OutboxEnqueue(ctx, "openfga", map[string]string{"op": "write"})
			return err
		}))
	}
	seed()

	// Down one step at a time: each leaves a consistent schema.
	for i := int(store.LatestVersion()); i > 0; i-- {
		require.NoError(t, store.MigrateDown(ctx, url, 1), "down from %d", i)
		v, _, err := store.SchemaVersion(ctx, url)
		require.NoError(t, err)
		require.Equal(t, uint(i-1), v)
	}
	require.Empty(t, tables(t, ctx, url), "down must remove every table")

	require.NoError(t, store.MigrateUp(ctx, url))
	require.Equal(t, want, tables(t, ctx, url))
	seed()

	// Down all at once over data, then up again.
	require.NoError(t, store.MigrateDown(ctx, url, 0))
	require.Empty(t, tables(t, ctx, url))
	require.NoError(t, store.MigrateUp(ctx, url))
	seed()
}

func TestCheckSchema(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)

	tests := []struct {
		name    string
		prepare func(t *testing.T, url string)
		want    *store.SchemaError
		message string
	}{
		{
			name:    "older",
			prepare: func(t *testing.T, url string) { require.NoError(t, store.MigrateTo(ctx, url, 1)) },
			want:    &store.SchemaError{Current: 1, Want: store.LatestVersion()},
			message: "run `warden migrate up` (or start with --migrate)",
		},
		{
			name:    "empty",
			prepare: func(*testing.T, string) {},
			want:    &store.SchemaError{Current: 0, Want: store.LatestVersion()},
			message: "database schema is at version 0",
		},
		{
			name: "dirty",
			prepare: func(t *testing.T, url string) {
				require.NoError(t, store.MigrateUp(ctx, url))
				conn, err := pgx.Connect(ctx, url)
				require.NoError(t, err)
				defer conn.Close(ctx)
				_, err = conn.Exec(ctx, "UPDATE schema_migrations SET dirty = true")
				require.NoError(t, err)
			},
			want:    &store.SchemaError{Current: store.LatestVersion(), Want: store.LatestVersion(), Dirty: true},
			message: "`warden migrate`",
		},
		{
			name:    "current",
			prepare: func(t *testing.T, url string) { require.NoError(t, store.MigrateUp(ctx, url)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := pgtest.NewEmptyDatabase(t)
			tt.prepare(t, url)
			s := openStore(t, ctx, url, store.Options{})
			err := s.CheckSchema(ctx)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			var schemaErr *store.SchemaError
			require.True(t, errors.As(err, &schemaErr), "got %v", err)
			require.Equal(t, tt.want, schemaErr)
			require.Contains(t, err.Error(), tt.message)
			require.Contains(t, err.Error(), "warden migrate")
		})
	}
}

func TestLatestVersion(t *testing.T) {
	t.Parallel()
	require.Equal(t, uint(10), store.LatestVersion())
}

func TestMigrateRejectsOtherURLs(t *testing.T) {
	t.Parallel()
	err := store.MigrateUp(context.Background(), "mysql://localhost/warden")
	require.ErrorContains(t, err, "postgres://")
}
