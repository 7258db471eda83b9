package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

// begin runs WebhookBegin in its own transaction and, when the delivery is to
// be applied, creates a group named after the event, so that a test sees
// which deliveries changed anything.
func begin(t *testing.T, b *testBundle, d store.WebhookDelivery) store.WebhookOutcome {
	t.Helper()
	var out store.WebhookOutcome
	require.NoError(t, b.store.InTx(b.ctx, func(tx *store.Tx) error {
		var err error
		if out, err = tx.WebhookBegin(b.ctx, d); err != nil || out != store.WebhookApply {
			return err
		}
		if _, err := tx.GroupCreate(b.ctx, "webhook:test", store.Group{Name: d.Source + "-" + d.EventID}); err != nil {
			return err
		}
		rev, err := tx.WebhookFinish(b.ctx, d.Source, d.EventID, "created "+d.Source+"-"+d.EventID)
		require.Positive(t, rev)
		return err
	}))
	return out
}

func TestWebhookBeginOrdersAndDeduplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := func(id, subject string, at time.Duration) store.WebhookDelivery {
		return store.WebhookDelivery{Source: "events", EventID: id, Type: "user.upserted", Subject: subject, OccurredAt: t0.Add(at)}
	}
	steps := []struct {
		name string
		d    store.WebhookDelivery
		want store.WebhookOutcome
	}{
		{"first event of a subject", d("e1", "user:alice", 0), store.WebhookApply},
		{"redelivery", d("e1", "user:alice", 0), store.WebhookDuplicate},
		{"newer event", d("e2", "user:alice", time.Second), store.WebhookApply},
		{"older event arriving late", d("e3", "user:alice", -time.Second), store.WebhookStale},
		{"redelivery of the stale event", d("e3", "user:alice", -time.Second), store.WebhookDuplicate},
		{"same instant as the last applied", d("e4", "user:alice", time.Second), store.WebhookApply},
		{"older event of another subject", d("e5", "user:bob", -time.Hour), store.WebhookApply},
		{"same ID from another source", store.WebhookDelivery{Source: "keycloak", EventID: "e1", Subject: "user:x", OccurredAt: t0}, store.WebhookApply},
	}
	for _, s := range steps {
		require.Equal(t, s.want, begin(t, b, s.d), s.name)
	}

	// Applied events carry their revision; the stale one changed nothing.
	e2, err := b.store.WebhookEventGet(b.ctx, "events", "e2")
	require.NoError(t, err)
	require.Equal(t, "applied", e2.Status)
	require.Equal(t, "created events-e2", e2.Note)
	g, err := b.store.GroupGetByName(b.ctx, "events-e2")
	require.NoError(t, err)
	require.Equal(t, g.Revision, e2.Revision)

	e3, err := b.store.WebhookEventGet(b.ctx, "events", "e3")
	require.NoError(t, err)
	require.Equal(t, "stale", e3.Status)
	require.Zero(t, e3.Revision)
	require.Contains(t, e3.Note, "event e2 about user:alice")
	_, err = b.store.GroupGetByName(b.ctx, "events-e3")
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = b.store.WebhookEventGet(b.ctx, "events", "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestWebhookBeginInvalid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, d := range []store.WebhookDelivery{
		{EventID: "e", Subject: "s"},
		{Source: "events", Subject: "s"},
		{Source: "events", EventID: "e"},
	} {
		err := b.store.InTx(b.ctx, func(tx *store.Tx) error {
			_, err := tx.WebhookBegin(b.ctx, d)
			return err
		})
		require.ErrorIs(t, err, store.ErrInvalid)
	}
}

// TestWebhookBeginConcurrentRedelivery sends one event from several
// goroutines at once: exactly one applies it.
func TestWebhookBeginConcurrentRedelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := store.WebhookDelivery{Source: "events", EventID: "same", Subject: "group:x", OccurredAt: time.Now()}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied int
	)
	for range 8 {
		wg.Go(func() {
			if begin(t, b, d) == store.WebhookApply {
				mu.Lock()
				applied++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, applied)
}

func TestWebhookLookups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, s := b.ctx, b.store
	_, err := s.UserCreate(ctx, "admin", store.User{UserName: "Alice", ExternalID: "kc-1", Active: true})
	require.NoError(t, err)
	for _, name := range []string{"eng", "eng/data", "eng/ml", "engineering", "ops"} {
		_, err := s.GroupCreate(ctx, "admin", store.Group{Name: name, ExternalID: "g-" + name})
		require.NoError(t, err)
	}
	require.NoError(t, s.GroupMemberAdd(ctx, "admin", "eng/data", "alice"))
	require.NoError(t, s.GroupMemberAdd(ctx, "admin", "ops", "alice"))

	require.NoError(t, s.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.WebhookUserByExternalID(ctx, "kc-1")
		require.NoError(t, err)
		require.Equal(t, "Alice", u.UserName)
		u2, err := tx.WebhookUserByName(ctx, "ALICE")
		require.NoError(t, err)
		require.Equal(t, u.ID, u2.ID)
		_, err = tx.WebhookUserByExternalID(ctx, "kc-2")
		require.ErrorIs(t, err, store.ErrNotFound)

		g, err := tx.WebhookGroupByExternalID(ctx, "g-ops")
		require.NoError(t, err)
		require.Equal(t, "ops", g.Name)
		g2, err := tx.WebhookGroupByName(ctx, "OPS")
		require.NoError(t, err)
		require.Equal(t, g.ID, g2.ID)
		_, err = tx.WebhookGroupByName(ctx, "nope")
		require.ErrorIs(t, err, store.ErrNotFound)

		sub, err := tx.WebhookGroupsByNamePrefix(ctx, "ENG/")
		require.NoError(t, err)
		require.Equal(t, []string{"eng/data", "eng/ml"}, groupNames(sub))

		groups, err := tx.WebhookUserGroups(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, []store.Group{{Name: "eng/data", ExternalID: "g-eng/data"}, {Name: "ops", ExternalID: "g-ops"}}, groups)
		members, err := tx.WebhookGroupMembers(ctx, g.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"Alice"}, members)
		return nil
	}))
}

func TestWebhookEventPurge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	require.Equal(t, store.WebhookApply, begin(t, b, store.WebhookDelivery{Source: "events", EventID: "old", Subject: "s", OccurredAt: now}))

	_, err := b.store.WebhookEventPurge(b.ctx, 0)
	require.ErrorIs(t, err, store.ErrInvalid)

	n, err := b.store.WebhookEventPurge(b.ctx, time.Hour)
	require.NoError(t, err)
	require.Zero(t, n, "a fresh event is kept")

	time.Sleep(50 * time.Millisecond)
	n, err = b.store.WebhookEventPurge(b.ctx, time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	_, err = b.store.WebhookEventGet(b.ctx, "events", "old")
	require.ErrorIs(t, err, store.ErrNotFound)
	// The subject's watermark went too: an older event applies again.
	require.Equal(t, store.WebhookApply, begin(t, b, store.WebhookDelivery{Source: "events", EventID: "older", Subject: "s", OccurredAt: now.Add(-time.Hour)}))
}
