package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testBundle struct {
	ctx   context.Context
	url   string
	store *store.Store
}

// setup gives a test its own database at the latest schema and a Store on it.
func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	url := pgtest.NewDatabase(t)
	s := openStore(t, ctx, url, store.Options{})
	return &testBundle{ctx: ctx, url: url, store: s}
}

func openStore(t *testing.T, ctx context.Context, url string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(ctx, url, opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// ignoreTimes leaves out of comparisons the fields PostgreSQL fills with now().
var ignoreTimes = cmpopts.IgnoreFields(store.User{}, "CreatedAt", "UpdatedAt")
