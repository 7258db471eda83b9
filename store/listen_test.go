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

// listener runs Store.Listen and records what it calls back with.
type listener struct {
	revs chan int64
	done chan error
}

func startListener(t *testing.T, ctx context.Context, s *store.Store) *listener {
	t.Helper()
	l := &listener{revs: make(chan int64, 1000), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(ctx)
	go func() { l.done <- s.Listen(ctx, func(rev int64) { l.revs <- rev }) }()
	t.Cleanup(func() {
		cancel()
		require.ErrorIs(t, <-l.done, context.Canceled)
	})
	return l
}

// next waits for the next callback.
func (l *listener) next(t *testing.T, within time.Duration) int64 {
	t.Helper()
	select {
	case rev := <-l.revs:
		return rev
	case <-time.After(within):
		t.Fatalf("no Listen callback within %v", within)
		return 0
	}
}

// waitFor waits until a callback carries want or more, and returns it.
func (l *listener) waitFor(t *testing.T, want int64, within time.Duration) int64 {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case rev := <-l.revs:
			if rev >= want {
				return rev
			}
		case <-deadline:
			t.Fatalf("no Listen callback with revision %d within %v", want, within)
			return 0
		}
	}
}

func (l *listener) none(t *testing.T, during time.Duration) {
	t.Helper()
	select {
	case rev := <-l.revs:
		t.Fatalf("unexpected Listen callback with revision %d", rev)
	case <-time.After(during):
	}
}

func createGroup(t *testing.T, ctx context.Context, s *store.Store, name string) int64 {
	t.Helper()
	g, err := s.GroupCreate(ctx, "admin", store.Group{Name: name})
	require.NoError(t, err)
	return g.Revision
}

func TestListenNotifiesCommittedChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	l := startListener(t, ctx, s)
	require.Equal(t, int64(0), l.next(t, 5*time.Second), "the first callback carries the current revision")

	start := time.Now()
	rev := createGroup(t, ctx, s, "g1")
	require.Equal(t, rev, l.next(t, propagationBound))
	t.Logf("committed change seen after %v", time.Since(start))

	// A rolled-back transaction notifies nobody.
	err := s.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GroupCreate(ctx, "admin", store.Group{Name: "g2"}); err != nil {
			return err
		}
		return errors.New("abort")
	})
	require.Error(t, err)
	l.none(t, 300*time.Millisecond)

	// A burst is coalesced, and the last callback has the last revision.
	var last int64
	for i := range 20 {
		last = createGroup(t, ctx, s, "burst"+string(rune('a'+i)))
	}
	got := l.waitFor(t, last, 2*time.Second)
	require.Equal(t, last, got)
}

func TestListenCoalescesBursts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	s := openStore(t, ctx, b.url, store.Options{ListenDebounce: 300 * time.Millisecond})
	l := startListener(t, ctx, s)
	require.Equal(t, int64(0), l.next(t, 5*time.Second))
	// The first change after a quiet period is delivered at once; changes
	// within the debounce interval after it are delivered together.
	first := createGroup(t, ctx, s, "a")
	require.Equal(t, first, l.next(t, propagationBound))
	var last int64
	for _, name := range []string{"b", "c", "d", "e"} {
		last = createGroup(t, ctx, s, name)
	}
	require.Equal(t, last, l.next(t, 2*time.Second))
	l.none(t, 400*time.Millisecond)
}

// A notification missed while disconnected is caught up on reconnection.
func TestListenCatchesUpAfterLostConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	l := startListener(t, ctx, s)
	require.Equal(t, int64(0), l.next(t, 5*time.Second))

	conn, err := pgx.Connect(ctx, b.url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	// A change whose NOTIFY the listener never gets: the counter moves
	// without one.
	_, err = conn.Exec(ctx, "UPDATE revision_counter SET revision = revision + 1")
	require.NoError(t, err)
	l.none(t, 200*time.Millisecond)
	// Drop the listener's connection.
	tag, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, store.ListenApplicationName)
	require.NoError(t, err)
	require.Equal(t, int64(1), tag.RowsAffected())
	require.Equal(t, int64(1), l.next(t, 5*time.Second))
}

// PostgreSQL stopped and restarted: writes and reads answer ErrUnavailable,
// readiness reports degraded, and everything recovers on its own, Listen
// included.
func TestPostgresStoppedAndRestarted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster := pgtest.NewCluster(t)
	url := cluster.NewDatabase(t)
	s := openStore(t, ctx, url, store.Options{ConnectTimeout: time.Second, ListenMaxBackoff: 200 * time.Millisecond})
	l := startListener(t, ctx, s)
	require.Equal(t, int64(0), l.next(t, 5*time.Second))
	require.NoError(t, s.Ready(ctx))
	rev := createGroup(t, ctx, s, "before")
	require.Equal(t, rev, l.next(t, time.Second))

	require.NoError(t, cluster.Stop())

	tests := []struct {
		name string
		run  func() error
	}{
		{"write", func() error { _, err := s.GroupCreate(ctx, "admin", store.Group{Name: "during"}); return err }},
		{"read", func() error { _, err := s.GroupGetByName(ctx, "before"); return err }},
		{"revision", func() error { _, err := s.CurrentRevision(ctx); return err }},
		{"snapshot", func() error { _, _, err := s.DirectorySnapshot(ctx); return err }},
		{"claim", func() error { _, err := s.OutboxClaim(ctx, "", 1, time.Minute); return err }},
		{"tx", func() error { return s.InTx(ctx, func(*store.Tx) error { return nil }) }},
		{"schema", func() error { return s.CheckSchema(ctx) }},
	}
	for _, tt := range tests {
		// Each twice: the first may meet a pooled connection that died.
		for range 2 {
			err := tt.run()
			require.ErrorIs(t, err, store.ErrUnavailable, "%s: %v", tt.name, err)
		}
	}
	err := s.Ready(ctx)
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorContains(t, err, "degraded: PostgreSQL unreachable")

	require.NoError(t, cluster.Start())
	// The first write after the restart goes through (the pool reconnects),
	// and the listener, reconnecting with backoff, delivers its revision
	// either by notification or by catching up.
	var after int64
	require.Eventually(t, func() bool {
		g, err := s.GroupCreate(ctx, "admin", store.Group{Name: "after"})
		after = g.Revision
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, after, l.waitFor(t, after, 5*time.Second))
	require.NoError(t, s.Ready(ctx))
	require.NoError(t, s.CheckSchema(ctx))
}
