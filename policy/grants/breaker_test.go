package grants

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scripted is a RelationChecker whose answers the test sets: it answers
// allow for every check, or fails with err, and counts its calls.
type scripted struct {
	mu    sync.Mutex
	err   error
	calls atomic.Int64
	// gate, when set, blocks each call until it is closed.
	gate chan struct{}
	// answer flips every item's answer (to see refreshes land).
	answer atomic.Bool
}

func (s *scripted) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *scripted) Check(ctx context.Context, items []CheckItem, _ Consistency) ([]bool, error) {
	s.calls.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(items))
	for i := range out {
		out[i] = s.answer.Load()
	}
	return out, nil
}

func (s *scripted) ListObjects(ctx context.Context, req ListRequest, _ Consistency) ([]string, error) {
	s.calls.Add(1)
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if s.answer.Load() {
		return []string{"table:c/s/t"}, nil
	}
	return nil, nil
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var errDown = errors.New("connection refused")

func TestBreaker(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	next := &scripted{}
	next.answer.Store(true)
	m := newMetrics(nil)
	b := NewBreaker(next, BreakerOptions{Failures: 3, MinOpen: time.Second, MaxOpen: 4 * time.Second, NowFunc: clock.Now}, m)
	ctx := context.Background()
	item := []CheckItem{{User: "user:alice", Relation: "select", Object: "table:c/s/t"}}
	check := func() error { _, err := b.Check(ctx, item, MinimizeLatency); return err }

	require.NoError(t, check())
	next.fail(errDown)
	// Two failures leave it closed; each asks OpenFGA.
	for i := 0; i < 2; i++ {
		require.ErrorIs(t, check(), errDown)
	}
	require.False(t, b.Open())
	// A truncated list is slowness, not an outage: it does not count.
	next.fail(ErrTruncated)
	_, err := b.ListObjects(ctx, ListRequest{User: "user:alice", Relation: "select", Type: "table"}, MinimizeLatency)
	require.ErrorIs(t, err, ErrTruncated)
	require.False(t, b.Open())
	next.fail(errDown)
	require.ErrorIs(t, check(), errDown) // the third consecutive failure opens it
	require.True(t, b.Open())

	// While open, requests fail at once, closed, without reaching OpenFGA.
	calls := next.calls.Load()
	for i := 0; i < 10; i++ {
		err := check()
		require.ErrorIs(t, err, ErrUnavailable)
		require.ErrorIs(t, err, ErrBreakerOpen)
	}
	require.Equal(t, calls, next.calls.Load())

	// After the open period one probe goes through; it fails, and the
	// breaker opens for twice as long.
	clock.advance(time.Second)
	require.ErrorIs(t, check(), errDown)
	require.Equal(t, calls+1, next.calls.Load())
	clock.advance(time.Second)
	require.ErrorIs(t, check(), ErrBreakerOpen, "open for 2s now")
	clock.advance(time.Second)

	// OpenFGA is back: the probe succeeds and closes the breaker.
	next.fail(nil)
	require.NoError(t, check())
	require.False(t, b.Open())
	require.NoError(t, check())
}

func TestBreakerOneProbeAtATime(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	next := &scripted{}
	b := NewBreaker(next, BreakerOptions{Failures: 1, MinOpen: time.Second, NowFunc: clock.Now}, nil)
	ctx := context.Background()
	item := []CheckItem{{User: "user:a", Relation: "select", Object: "table:c/s/t"}}
	next.fail(errDown)
	_, err := b.Check(ctx, item, MinimizeLatency)
	require.ErrorIs(t, err, errDown)
	require.True(t, b.Open())

	clock.advance(time.Second)
	next.fail(nil)
	next.gate = make(chan struct{})
	probe := make(chan error)
	go func() { _, err := b.Check(ctx, item, MinimizeLatency); probe <- err }()
	require.Eventually(t, func() bool { return next.calls.Load() == 2 }, 5*time.Second, time.Millisecond)
	// While the probe is in flight every other request fails fast.
	_, err = b.Check(ctx, item, MinimizeLatency)
	require.ErrorIs(t, err, ErrBreakerOpen)
	close(next.gate)
	require.NoError(t, <-probe)
	require.False(t, b.Open())
}
