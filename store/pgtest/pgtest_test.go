package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func count(t *testing.T, ctx context.Context, url, table string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

// Each test's database is its own copy of the migrated template.
func TestNewDatabaseIsolated(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	require.NotEqual(t, a, b)
	conn, err := pgx.Connect(ctx, a)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "INSERT INTO groups (name, revision) VALUES ('g', 1)")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	require.Equal(t, 1, count(t, ctx, a, "groups"))
	require.Equal(t, 0, count(t, ctx, b, "groups"))
	require.Equal(t, 1, count(t, ctx, b, "revision_counter"))
}

func TestNewEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.Equal(t, 0, count(t, ctx, pgtest.NewEmptyDatabase(t), "pg_tables WHERE schemaname = 'public'"))
}

func TestClusterStopStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := pgtest.NewCluster(t)
	url := c.NewDatabase(t)
	port := c.Port()
	require.NoError(t, c.Stop())
	require.NoError(t, c.Stop(), "stopping twice is fine")
	_, err := pgx.Connect(ctx, url)
	require.Error(t, err)
	require.NoError(t, c.Start())
	require.Equal(t, port, c.Port())
	require.Equal(t, 1, count(t, ctx, url, "revision_counter"), "data survives a restart")
}
