package grants

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// breakerState is the state of a Breaker.
type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

func (s breakerState) String() string {
	switch s {
	case breakerOpen:
		return "open"
	case breakerHalfOpen:
		return "half_open"
	default:
		return "closed"
	}
}

// BreakerOptions tune a Breaker.
type BreakerOptions struct {
	// Failures is how many consecutive failed requests open the breaker
	// (default 3).
	Failures int
	// MinOpen is how long the breaker first stays open before it lets one
	// probe through (default 250ms); each failed probe doubles it, up to
	// MaxOpen (default 5s).
	MinOpen, MaxOpen time.Duration
	// NowFunc is the clock (default time.Now).
	NowFunc func() time.Time
}

// ErrBreakerOpen is wrapped (with ErrUnavailable) by the answers a Breaker
// gives without asking OpenFGA.
var ErrBreakerOpen = errors.New("circuit breaker open after repeated OpenFGA failures")

// Breaker is a RelationChecker decorator that stops asking an OpenFGA that
// keeps failing. After Failures consecutive failures it opens: every
// request fails at once with ErrUnavailable (so callers fail closed without
// waiting out a request timeout) until the open period ends. Then one probe
// goes through (half-open): its success closes the breaker, its failure
// opens it again for twice as long. Truncated lists do not count: they mean
// a slow answer, not an unreachable server.
type Breaker struct {
	next    RelationChecker
	opts    BreakerOptions
	metrics *metrics

	mu        sync.Mutex
	state     breakerState
	failures  int
	openFor   time.Duration
	openUntil time.Time
	probing   bool
}

// NewBreaker wraps next.
func NewBreaker(next RelationChecker, opts BreakerOptions, m *metrics) *Breaker {
	if opts.Failures <= 0 {
		opts.Failures = 3
	}
	if opts.MinOpen <= 0 {
		opts.MinOpen = 250 * time.Millisecond
	}
	if opts.MaxOpen < opts.MinOpen {
		opts.MaxOpen = max(5*time.Second, opts.MinOpen)
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	if m == nil {
		m = newMetrics(nil)
	}
	return &Breaker{next: next, opts: opts, metrics: m, openFor: opts.MinOpen}
}

// Open reports whether the breaker currently refuses requests.
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state != breakerClosed
}

// setState changes the state and its gauge; b.mu is held.
func (b *Breaker) setState(s breakerState) {
	if b.state == s {
		return
	}
	b.metrics.breaker.WithLabelValues(b.state.String()).Set(0)
	b.metrics.breaker.WithLabelValues(s.String()).Set(1)
	b.state = s
}

// admit says whether a request may go to next, and whether it is the probe.
func (b *Breaker) admit() (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerClosed:
		return true, false
	case breakerOpen:
		if b.opts.NowFunc().Before(b.openUntil) {
			return false, false
		}
		b.setState(breakerHalfOpen)
		b.probing = true
		return true, true
	default: // half-open: only the one probe is in flight
		if b.probing {
			return false, false
		}
		b.probing = true
		return true, true
	}
}

// done records a request's outcome.
func (b *Breaker) done(err error, probe bool) {
	failed := err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, context.Canceled)
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	if !failed {
		if err == nil || probe {
			b.failures = 0
			b.openFor = b.opts.MinOpen
			b.setState(breakerClosed)
		}
		return
	}
	b.failures++
	switch {
	case probe:
		b.openFor = min(2*b.openFor, b.opts.MaxOpen)
		b.openUntil = b.opts.NowFunc().Add(b.openFor)
		b.setState(breakerOpen)
	case b.state == breakerClosed && b.failures >= b.opts.Failures:
		b.openUntil = b.opts.NowFunc().Add(b.openFor)
		b.setState(breakerOpen)
	}
}

func (b *Breaker) rejected(endpoint string) error {
	b.metrics.fastFail.WithLabelValues(endpoint).Inc()
	return fmt.Errorf("%w: %w", ErrUnavailable, ErrBreakerOpen)
}

// Check asks next unless the breaker is open.
func (b *Breaker) Check(ctx context.Context, items []CheckItem, c Consistency) ([]bool, error) {
	ok, probe := b.admit()
	if !ok {
		return nil, b.rejected("check")
	}
	res, err := b.next.Check(ctx, items, c)
	b.done(err, probe)
	return res, err
}

// ListObjects asks next unless the breaker is open.
func (b *Breaker) ListObjects(ctx context.Context, req ListRequest, c Consistency) ([]string, error) {
	ok, probe := b.admit()
	if !ok {
		return nil, b.rejected("list")
	}
	res, err := b.next.ListObjects(ctx, req, c)
	b.done(err, probe)
	return res, err
}
