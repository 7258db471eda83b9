package server

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// propagation is how fast a change must reach every replica. Timing is
// asserted only without the race detector, which slows everything.
func propagation() time.Duration {
	if raceEnabled {
		return 5 * time.Second
	}
	return time.Second
}

// replica runs a database-mode server on its own store connection pool.
func replica(t *testing.T, url string) (*Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, url, store.Options{})
	require.NoError(t, err)
	opts := testOptions("")
	opts.Policy.Clusters = nil
	opts.DrainDelay = 0
	opts.Store = st
	s := New(opts, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		st.Close()
	})
	require.Eventually(t, func() bool { return s.Addr() != "" }, 5*time.Second, 5*time.Millisecond)
	return s, "http://" + s.Addr()
}

const catalogCheck = `{"input":{"context":{"identity":{"user":"alice","groups":[]},"softwareStack":{"trinoVersion":"476"}},"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"tpch"}}}}}`

func putRules(t *testing.T, st *store.Store, rules string) int64 {
	t.Helper()
	rev, err := st.PolicyPut(context.Background(), "test", store.DefaultCluster,
		[]store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json", Content: rules}}, "test change")
	require.NoError(t, err)
	return rev
}

func allowed(t *testing.T, base string) bool {
	t.Helper()
	a := post(t, base+"/v1/data/trino/allow", catalogCheck)
	require.Equal(t, 200, a.Status, "body %s", a.raw)
	return string(a.Result) == "true"
}

// TestReplicasFollowTheStore: a policy change committed once reaches every
// replica within a second, through NOTIFY.
func TestReplicasFollowTheStore(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	writer, err := store.Open(context.Background(), url, store.Options{})
	require.NoError(t, err)
	defer writer.Close()

	_, a := replica(t, url)
	_, b := replica(t, url)
	require.False(t, allowed(t, a), "no policy in the store yet: the baseline denies")

	for i, rules := range []string{
		`{"catalogs":[{"user":"alice","catalog":"tpch","allow":"read-only"}]}`,
		`{"catalogs":[{"user":"alice","catalog":"tpch","allow":"none"}]}`,
	} {
		want := i == 0
		rev := putRules(t, writer, rules)
		start := time.Now()
		for _, base := range []string{a, b} {
			require.Eventually(t, func() bool { return allowed(t, base) == want }, 10*time.Second, 10*time.Millisecond)
			status, body := getJSON(t, base+"/health/ready")
			require.Equal(t, 200, status)
			require.GreaterOrEqual(t, body["revision"], float64(rev))
		}
		require.Less(t, time.Since(start), propagation(), "both replicas follow within a second")
	}
}

// TestPostgresOutage: with PostgreSQL stopped, decisions go on from the last
// snapshot and readiness reports degraded; when it returns, everything
// recovers on its own.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	cluster := pgtest.NewCluster(t)
	url := cluster.NewDatabase(t)
	writer, err := store.Open(context.Background(), url, store.Options{})
	require.NoError(t, err)
	defer writer.Close()
	putRules(t, writer, `{"catalogs":[{"user":"alice","catalog":"tpch","allow":"read-only"}]}`)
	_, base := replica(t, url)
	require.Eventually(t, func() bool { return allowed(t, base) }, 10*time.Second, 10*time.Millisecond)

	require.NoError(t, cluster.Stop())
	for range 20 {
		require.True(t, allowed(t, base), "decisions go on from the last snapshot")
	}
	status, body := getJSON(t, base+"/health/ready")
	require.Equal(t, 200, status, "still able to decide")
	require.Equal(t, "degraded", body["status"])
	require.Contains(t, body["reason"], "PostgreSQL")

	require.NoError(t, cluster.Start())
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/health/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		_, body := getJSON(t, base+"/health/ready")
		return body["status"] == "ready"
	}, 20*time.Second, 50*time.Millisecond, "readiness recovers")
	// The writer's pooled connections died with the server: a write may
	// fail once with ErrUnavailable (a 503 to an API client), then works.
	require.Eventually(t, func() bool {
		_, err := writer.PolicyPut(context.Background(), "test", store.DefaultCluster,
			[]store.PolicyDocument{{Kind: store.KindRules, Path: "rules.json", Content: `{"catalogs":[{"user":"alice","catalog":"tpch","allow":"none"}]}`}}, "after the outage")
		if err != nil {
			require.ErrorIs(t, err, store.ErrUnavailable)
		}
		return err == nil
	}, 20*time.Second, 100*time.Millisecond)
	require.Eventually(t, func() bool { return !allowed(t, base) }, 20*time.Second, 20*time.Millisecond, "and follows changes again")
}
