package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
)

func TestWithAdvisoryLock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := openStore(t, b.ctx, b.url, store.Options{})
	const key = 42
	ran := false
	ok, err := b.store.WithAdvisoryLock(b.ctx, key, func(ctx context.Context) error {
		// While held here, another session (replica) cannot take it.
		inner, err := other.WithAdvisoryLock(ctx, key, func(context.Context) error {
			t.Error("ran under a lock another session holds")
			return nil
		})
		require.NoError(t, err)
		require.False(t, inner)
		ran = true
		return nil
	})
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, ran)
	ok, err = other.WithAdvisoryLock(b.ctx, key, func(context.Context) error { return nil })
	require.NoError(t, err)
	require.True(t, ok, "released when the first holder returned")
}
