package grants

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestCacheRefreshAhead(t *testing.T) {
	t.Parallel()
	next := &scripted{}
	next.answer.Store(true)
	m := newMetrics(nil)
	const ttl = 400 * time.Millisecond
	c := NewCache(next, func() string { return "m|1|0" }, ttl, 1000, m)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	item := []CheckItem{{User: "user:alice", Relation: "select", Object: "table:c/s/t"}}
	misses := func() float64 { return testutil.ToFloat64(m.cache.WithLabelValues("check", "miss")) }

	got, err := c.Check(ctx, item, MinimizeLatency)
	require.NoError(t, err)
	require.Equal(t, []bool{true}, got)
	require.Equal(t, 1.0, misses())

	// The grant is revoked in OpenFGA. Read steadily for three TTLs: every
	// read is a hit, the refreshes bring the new answer, and no answer is
	// older than the TTL.
	next.answer.Store(false)
	revoked := time.Now()
	var sawNew bool
	for time.Since(revoked) < 3*ttl {
		got, err := c.Check(ctx, item, MinimizeLatency)
		require.NoError(t, err)
		if !got[0] {
			sawNew = true
		} else {
			require.False(t, sawNew, "an old answer came back after the refreshed one")
			require.Less(t, time.Since(revoked), ttl, "an answer outlived its TTL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.True(t, sawNew)
	require.Equal(t, 1.0, misses(), "a steadily read answer never expires")
	require.Positive(t, testutil.ToFloat64(m.refresh.WithLabelValues("check", "ok")))
}

func TestCacheFailedRefreshExpires(t *testing.T) {
	t.Parallel()
	next := &scripted{}
	next.answer.Store(true)
	m := newMetrics(nil)
	const ttl = 300 * time.Millisecond
	c := NewCache(next, func() string { return "m|1|0" }, ttl, 1000, m)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	req := ListRequest{User: "user:alice", Relation: "select", Type: "table"}
	objs, err := c.ListObjects(ctx, req, MinimizeLatency)
	require.NoError(t, err)
	require.Equal(t, []string{"table:c/s/t"}, objs)

	// OpenFGA goes away: refreshes fail, and once the TTL has passed the
	// cache no longer answers, so the caller fails closed.
	next.fail(errDown)
	start := time.Now()
	for {
		objs, err := c.ListObjects(ctx, req, MinimizeLatency)
		if err != nil {
			require.ErrorIs(t, err, errDown)
			require.GreaterOrEqual(t, time.Since(start), ttl*3/4, "the answer was dropped before its refresh time")
			break
		}
		require.Equal(t, []string{"table:c/s/t"}, objs)
		require.Less(t, time.Since(start), ttl, "an answer outlived its TTL")
		time.Sleep(10 * time.Millisecond)
	}
	require.Positive(t, testutil.ToFloat64(m.refresh.WithLabelValues("list", "error")))
}
