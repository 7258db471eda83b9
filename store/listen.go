package store

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls fn with the newest committed revision whenever it moves, until
// ctx is done; it returns ctx's error.
//
// It holds a dedicated connection (not one from the pool) that LISTENs on
// NotifyChannel. Callbacks are throttled: at most one per
// Options.ListenDebounce, always carrying the highest revision seen, so a
// burst of changes costs one rebuild and a replica catches up within a
// second. The first callback, once listening has started, carries the
// current revision, so a change committed between building a snapshot and
// calling Listen is never missed: callers skip revisions they already have.
// When the connection is lost, Listen reconnects with a growing backoff
// (capped by Options.ListenMaxBackoff) and, once listening again, reads the
// current revision and calls back if it moved: a notification missed while
// disconnected never leaves a replica stale.
//
// fn runs on Listen's goroutine, one call at a time; a slow fn delays the
// next call, never stacks them.
func (s *Store) Listen(ctx context.Context, fn func(revision int64)) error {
	var (
		highest atomic.Int64 // highest revision seen, not yet necessarily delivered
		wake    = make(chan struct{}, 1)
		wg      sync.WaitGroup
	)
	seen := func(rev int64) {
		for {
			cur := highest.Load()
			if rev <= cur || highest.CompareAndSwap(cur, rev) {
				break
			}
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	listenCtx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { s.listenLoop(listenCtx, seen) })

	var delivered int64 = -1
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
		if rev := highest.Load(); rev > delivered {
			delivered = rev
			fn(rev)
			// Throttle: changes arriving now wait for the end of the interval
			// and are delivered together, as the highest revision.
			timer := time.NewTimer(s.opts.ListenDebounce)
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case <-timer.C:
			}
		}
	}
}

// ListenApplicationName is the application_name of Listen's connection, to
// tell it apart in pg_stat_activity.
const ListenApplicationName = "warden-listen"

// listenLoop keeps a LISTEN connection up, reporting every revision it
// learns through seen, until ctx is done.
func (s *Store) listenLoop(ctx context.Context, seen func(int64)) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := s.listenOnce(ctx, seen)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = 50 * time.Millisecond
		}
		s.log.WarnContext(ctx, "listen connection lost; reconnecting",
			"error", err, "backoff", backoff)
		timer := time.NewTimer(backoff + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		backoff = min(2*backoff, s.opts.ListenMaxBackoff)
	}
}

// listenOnce connects, LISTENs, catches up on the current revision and then
// reports notifications until the connection fails. connected says whether
// it got as far as listening.
func (s *Store) listenOnce(ctx context.Context, seen func(int64)) (connected bool, err error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, translate(err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx) //nolint:errcheck // the connection is being dropped anyway.
	}()
	if err := s.q.RevisionListen(ctx, conn); err != nil {
		return false, translate(err)
	}
	// Catch up only after LISTEN: a change committed from here on is both
	// in this read and notified, so none falls between the two.
	rev, err := s.q.RevisionCurrent(ctx, conn)
	if err != nil {
		return false, translate(err)
	}
	s.log.DebugContext(ctx, "listening for changes", "revision", rev)
	seen(rev)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, translate(err)
		}
		rev, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			s.log.WarnContext(ctx, "ignoring a malformed change notification", "payload", n.Payload)
			continue
		}
		seen(rev)
	}
}
