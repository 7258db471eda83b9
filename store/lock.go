package store

import (
	"context"
	"fmt"
)

// Advisory lock keys, one per job that only one replica runs at a time.
const (
	// LockViewsReconciler serializes the governed-catalog reconcilers of
	// the replicas: only one applies DDL to Trino at a time.
	LockViewsReconciler int64 = 0x7761_7264_656e_0001 // "warden" + 1
)

// WithAdvisoryLock runs fn while holding PostgreSQL's session advisory lock
// key on one connection of the pool, if no other session holds it. ok is
// false (and fn not run) when another does. The lock is released when fn
// returns, and with the session if Warden dies, so a crashed replica never
// keeps it. It returns ErrUnavailable when PostgreSQL cannot be reached, or
// fn's error.
func (s *Store) WithAdvisoryLock(ctx context.Context, key int64, fn func(ctx context.Context) error) (ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("store: advisory lock: %w", translate(err))
	}
	defer conn.Release()
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		return false, fmt.Errorf("store: advisory lock: %w", translate(err))
	}
	if !ok {
		return false, nil
	}
	defer func() {
		// A failed unlock (connection lost) released the lock with the session.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
	}()
	return true, fn(ctx)
}
