package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

// Two SERIALIZABLE transactions that both take a revision: the second fails
// with a serialization failure once the first commits, and InTx runs it
// again.
func TestInTxRetriesSerializationFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	serializable := store.TxOptions{Isolation: store.Serializable}

	aLocked, bStarted := make(chan struct{}), make(chan struct{})
	var (
		attemptsB atomic.Int32
		revA      int64
		revB      int64
		wg        sync.WaitGroup
		errA      error
	)
	wg.Go(func() {
		errA = s.InTxOptions(ctx, serializable, func(tx *store.Tx) error {
			var err error
			if revA, err = tx.Revision(ctx); err != nil {
				return err
			}
			close(aLocked)
			<-bStarted
			return nil
		})
	})
	errB := s.InTxOptions(ctx, serializable, func(tx *store.Tx) error {
		if attemptsB.Add(1) == 1 {
			<-aLocked
			// The first statement takes B's snapshot, before A commits.
			if _, err := tx.CurrentRevision(ctx); err != nil {
				return err
			}
			close(bStarted)
		}
		var err error
		revB, err = tx.Revision(ctx)
		return err
	})
	wg.Wait()
	require.NoError(t, errA)
	require.NoError(t, errB)
	require.Equal(t, int32(2), attemptsB.Load(), "B ran again after its serialization failure")
	require.Equal(t, []int64{1, 2}, []int64{revA, revB})
}

func TestInTxGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	var attempts atomic.Int32
	hold, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Revision(ctx); err != nil {
				return err
			}
			close(hold)
			<-release
			return nil
		})
	})
	<-hold
	err := s.InTxOptions(ctx, store.TxOptions{Isolation: store.Serializable, MaxAttempts: 1}, func(tx *store.Tx) error {
		attempts.Add(1)
		if _, err := tx.CurrentRevision(ctx); err != nil {
			return err
		}
		go func() { time.Sleep(50 * time.Millisecond); close(release) }()
		_, err := tx.Revision(ctx)
		return err
	})
	wg.Wait()
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.Equal(t, int32(1), attempts.Load())
}

func TestInTxRollsBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	errBoom := errors.New("boom")
	err := s.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.UserCreate(ctx, "admin", store.User{UserName: "alice"}); err != nil {
			return err
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	_, err = s.UserGetByName(ctx, "alice")
	require.ErrorIs(t, err, store.ErrNotFound)
	rev, err := s.CurrentRevision(ctx)
	require.NoError(t, err)
	require.Zero(t, rev, "a rolled-back transaction takes no revision")

	// Several mutations in one transaction share one revision.
	require.NoError(t, s.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.UserCreate(ctx, "admin", store.User{UserName: "alice"}); err != nil {
			return err
		}
		if _, err := tx.GroupCreate(ctx, "admin", store.Group{Name: "g"}); err != nil {
			return err
		}
		return tx.GroupMemberAdd(ctx, "admin", "g", "alice")
	}))
	changes, _, err := s.Changes(ctx, store.ChangeFilter{}, 0, 10)
	require.NoError(t, err)
	require.Len(t, changes, 3)
	for _, c := range changes {
		require.Equal(t, int64(1), c.Revision)
	}

	err = s.InTxOptions(ctx, store.TxOptions{ReadOnly: true}, func(tx *store.Tx) error {
		_, err := tx.Revision(ctx)
		return err
	})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestRevisionStrictlyIncreases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	const writers, each = 4, 10
	var (
		mu   sync.Mutex
		revs []int64
		wg   sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := s.InTx(ctx, func(tx *store.Tx) error {
					rev, err := tx.Revision(ctx)
					if err != nil {
						return err
					}
					_, err = tx.ChangeRecord(ctx, store.Change{
						Actor: "w", Action: "test", ObjectType: "x", ObjectID: string(rune('a'+w)) + string(rune('a'+i)),
					})
					mu.Lock()
					revs = append(revs, rev)
					mu.Unlock()
					return err
				})
				assertNoError(t, err)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, r := range revs {
		require.False(t, seen[r], "revision %d handed out twice", r)
		seen[r] = true
	}
	cur, err := s.CurrentRevision(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(writers*each), cur)
}

func TestChangesFilterAndPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	for i, actor := range []string{"alice", "bob", "alice", "bob", "alice"} {
		_, err := s.GroupCreate(ctx, actor, store.Group{Name: "g" + string(rune('0'+i))})
		require.NoError(t, err)
	}
	tests := []struct {
		name   string
		filter store.ChangeFilter
		want   []int64 // revisions, newest first
	}{
		{"all", store.ChangeFilter{}, []int64{5, 4, 3, 2, 1}},
		{"actor", store.ChangeFilter{Actor: "bob"}, []int64{4, 2}},
		{"object", store.ChangeFilter{ObjectType: store.ObjectGroup, ObjectID: "g2"}, []int64{3}},
		{"min revision", store.ChangeFilter{MinRevision: 4}, []int64{5, 4}},
		{"none", store.ChangeFilter{ObjectType: store.ObjectUser}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			var cursor int64
			for {
				page, next, err := s.Changes(ctx, tt.filter, cursor, 2)
				require.NoError(t, err)
				for _, c := range page {
					got = append(got, c.Revision)
				}
				if next == 0 {
					break
				}
				cursor = next
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestOpenBadURL(t *testing.T) {
	t.Parallel()
	_, err := store.Open(context.Background(), "postgres://%zz", store.Options{})
	require.Error(t, err)
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s, err := store.Open(b.ctx, b.url, store.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Ready(b.ctx))
	s.Close()
	_, err = s.CurrentRevision(b.ctx)
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, s.InTx(b.ctx, func(*store.Tx) error { return nil }), store.ErrUnavailable)
	require.ErrorIs(t, s.Ready(b.ctx), store.ErrUnavailable)
}
