package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

func enqueue(t *testing.T, b *testBundle, n int, topic string) []int64 {
	t.Helper()
	var ids []int64
	require.NoError(t, b.store.InTx(b.ctx, func(tx *store.Tx) error {
		for i := range n {
			item, err := tx.OutboxEnqueue(b.ctx, topic, map[string]int{"i": i})
			if err != nil {
				return err
			}
			ids = append(ids, item.ID)
		}
		return nil
	}))
	return ids
}

func TestOutboxClaimDoneRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := b.ctx
	s := openStore(t, ctx, b.url, store.Options{OutboxBaseDelay: 200 * time.Millisecond, OutboxMaxDelay: 300 * time.Millisecond})

	ids := enqueue(t, b, 2, "openfga")
	enqueue(t, b, 1, "trino")

	items, err := s.OutboxClaim(ctx, "openfga", 10, time.Hour)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, ids[0], items[0].ID)
	require.Equal(t, 1, items[0].Attempts)
	require.JSONEq(t, `{"i":0}`, string(items[0].Payload))
	require.Equal(t, int64(1), items[0].Revision, "both rows were written at the transaction's revision")
	require.Equal(t, int64(1), items[1].Revision)

	// Leased rows are not due again.
	again, err := s.OutboxClaim(ctx, "openfga", 10, time.Hour)
	require.NoError(t, err)
	require.Empty(t, again)

	require.NoError(t, s.OutboxDone(ctx, ids[0]))
	require.ErrorIs(t, s.OutboxDone(ctx, ids[0]), store.ErrNotFound)
	require.ErrorIs(t, s.OutboxDone(ctx, 9999), store.ErrNotFound)

	// scheduled checks that a retry is due delay after it was made.
	scheduled := func(cause string, delay time.Duration) {
		t.Helper()
		before := time.Now()
		retried, err := s.OutboxRetry(ctx, ids[1], errors.New(cause))
		after := time.Now()
		require.NoError(t, err)
		require.Equal(t, cause, retried.LastError)
		const slack = 20 * time.Millisecond // the clock of PostgreSQL's now() is the same machine's
		require.WithinRange(t, retried.NextAttemptAt, before.Add(delay-slack), after.Add(delay+slack))
	}
	scheduled("openfga down", 200*time.Millisecond)

	require.Eventually(t, func() bool {
		items, err := s.OutboxClaim(ctx, "openfga", 10, time.Hour)
		require.NoError(t, err)
		return len(items) == 1 && items[0].ID == ids[1] && items[0].Attempts == 2
	}, 5*time.Second, 20*time.Millisecond)

	// The backoff doubles (400ms), up to its cap.
	scheduled("again", 300*time.Millisecond)

	// Every topic.
	all, err := s.OutboxClaim(ctx, "", 10, time.Hour)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Equal(t, "trino", all[0].Topic)

	got, err := s.OutboxGet(ctx, ids[0])
	require.NoError(t, err)
	require.NotNil(t, got.DoneAt)
	_, err = s.OutboxRetry(ctx, ids[0], errors.New("late"))
	require.ErrorIs(t, err, store.ErrNotFound, "a done row is not retried")
}

func TestOutboxEnqueueRolledBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	errAbort := errors.New("abort")
	err := b.store.InTx(b.ctx, func(tx *store.Tx) error {
		if _, err := tx.OutboxEnqueue(b.ctx, "openfga", map[string]string{"a": "b"}); err != nil {
			return err
		}
		return errAbort
	})
	require.ErrorIs(t, err, errAbort)
	items, err := b.store.OutboxClaim(b.ctx, "", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, items)

	err = b.store.InTx(b.ctx, func(tx *store.Tx) error {
		_, err := tx.OutboxEnqueue(b.ctx, "openfga", []byte("not json"))
		return err
	})
	require.ErrorIs(t, err, store.ErrInvalid)
	err = b.store.InTx(b.ctx, func(tx *store.Tx) error {
		_, err := tx.OutboxEnqueue(b.ctx, "", map[string]string{})
		return err
	})
	require.ErrorIs(t, err, store.ErrInvalid)
}

// Two workers claiming concurrently never get the same row.
func TestOutboxClaimSkipLocked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const rows = 200
	enqueue(t, b, rows, "openfga")

	var (
		mu     sync.Mutex
		owners = map[int64]int{}
		wg     sync.WaitGroup
	)
	for worker := range 2 {
		wg.Go(func() {
			for {
				items, err := b.store.OutboxClaim(b.ctx, "openfga", 7, time.Hour)
				if !assertNoError(t, err) || len(items) == 0 {
					return
				}
				mu.Lock()
				for _, it := range items {
					if prev, ok := owners[it.ID]; ok {
						t.Errorf("row %d claimed by workers %d and %d", it.ID, prev, worker)
					}
					owners[it.ID] = worker
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, owners, rows)
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}
