package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trino-warden/warden/store/internal/db"
)

// Isolation is a transaction isolation level.
type Isolation int

// The isolation levels of PostgreSQL that InTxOptions offers.
const (
	// ReadCommitted is PostgreSQL's default, and InTx's. Mutations are
	// serialized anyway by the revision counter's row lock, which every
	// mutation takes first.
	ReadCommitted Isolation = iota
	// RepeatableRead reads one snapshot for the whole transaction.
	RepeatableRead
	// Serializable may fail with a serialization failure, which InTx retries.
	Serializable
)

func (i Isolation) pgx() pgx.TxIsoLevel {
	switch i {
	case RepeatableRead:
		return pgx.RepeatableRead
	case Serializable:
		return pgx.Serializable
	default:
		return pgx.ReadCommitted
	}
}

// TxOptions tune one transaction run by InTxOptions.
type TxOptions struct {
	Isolation Isolation
	// ReadOnly makes the transaction read only: Revision then fails.
	ReadOnly bool
	// MaxAttempts overrides Options.TxMaxAttempts when positive.
	MaxAttempts int
}

// Tx is one attempt of a transaction run by InTx. Its methods are the
// mutations and reads of the store, run inside the transaction. It must not
// be used after the callback returns, nor from several goroutines at once.
type Tx struct {
	tx       pgx.Tx
	q        *db.Queries
	opts     Options
	revision int64
}

// InTx runs fn in a read-committed transaction, committing when fn returns
// nil and rolling back otherwise. A transaction that fails with a
// serialization failure (40001) or a deadlock (40P01) is run again from the
// start, up to Options.TxMaxAttempts times, so fn must have no side effects
// outside the transaction. The error is fn's, translated: ErrNotFound,
// ErrConflict and ErrInvalid from the database, ErrUnavailable when
// PostgreSQL cannot be reached or the retries ran out.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.InTxOptions(ctx, TxOptions{}, fn)
}

// InTxOptions is InTx with a choice of isolation, access mode and attempts.
func (s *Store) InTxOptions(ctx context.Context, opts TxOptions, fn func(tx *Tx) error) error {
	attempts := s.opts.TxMaxAttempts
	if opts.MaxAttempts > 0 {
		attempts = opts.MaxAttempts
	}
	pgxOpts := pgx.TxOptions{IsoLevel: opts.Isolation.pgx()}
	if opts.ReadOnly {
		pgxOpts.AccessMode = pgx.ReadOnly
	}
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, s.pool, pgxOpts, func(ptx pgx.Tx) error {
			return fn(&Tx{tx: ptx, q: s.q, opts: s.opts})
		})
		if err == nil {
			return nil
		}
		if !isRetryable(err) {
			return translate(err)
		}
		if attempt >= attempts {
			return fmt.Errorf("%w: transaction failed %d times on contention: %w", ErrUnavailable, attempt, err)
		}
		s.log.DebugContext(ctx, "retrying transaction", "attempt", attempt, "error", err)
		// Jittered backoff: 1-2ms, 2-4ms, 4-8ms, … so retries spread out.
		base := time.Millisecond << min(attempt-1, 8)
		timer := time.NewTimer(base + rand.N(base))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// inTx runs fn through InTx and returns its value.
func inTx[T any](ctx context.Context, s *Store, fn func(tx *Tx) (T, error)) (T, error) {
	var out T
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// Revision returns the revision of this transaction's changes, taking the
// next one from the counter on first use. Taking it locks the counter until
// the transaction ends, which serializes mutations and makes revisions follow
// commit order; it also queues the NOTIFY that announces the revision on
// commit. A mutation takes it before anything else, so that writers always
// lock in the same order. It returns ErrUnavailable when PostgreSQL cannot be
// reached, and ErrInvalid in a read-only transaction.
func (t *Tx) Revision(ctx context.Context) (int64, error) {
	if t.revision != 0 {
		return t.revision, nil
	}
	rev, err := t.q.RevisionNext(ctx, t.tx)
	if err != nil {
		return 0, fmt.Errorf("store: take revision: %w", translateReadOnly(err))
	}
	if err := t.q.RevisionNotify(ctx, t.tx, strconv.FormatInt(rev, 10)); err != nil {
		return 0, fmt.Errorf("store: notify revision: %w", translate(err))
	}
	t.revision = rev
	return rev, nil
}

// translateReadOnly maps "read-only transaction" (25006) to ErrInvalid.
func translateReadOnly(err error) error {
	if hasCode(err, "25006") {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return translate(err)
}

// ChangeRecord appends a row to the change log at this transaction's
// revision. before and after are marshaled to JSON; nil means none (a create
// has no before, a delete no after). It returns ErrInvalid for an empty
// actor, action or object type, or a value that cannot be marshaled.
func (t *Tx) ChangeRecord(ctx context.Context, c Change) (Change, error) {
	rev, err := t.Revision(ctx)
	if err != nil {
		return Change{}, err
	}
	row, err := t.q.ChangeLogInsert(ctx, t.tx, db.ChangeLogInsertParams{
		Revision:   rev,
		Actor:      c.Actor,
		Action:     c.Action,
		ObjectType: c.ObjectType,
		ObjectID:   c.ObjectID,
		Before:     c.Before,
		After:      c.After,
	})
	if err != nil {
		return Change{}, fmt.Errorf("store: record change: %w", translate(err))
	}
	return changeFromRow(row), nil
}

// record is ChangeRecord for the store's own mutations.
func (t *Tx) record(ctx context.Context, actor, action, objectType, objectID string, before, after any) error {
	b, err := marshalOrNil(before)
	if err != nil {
		return err
	}
	a, err := marshalOrNil(after)
	if err != nil {
		return err
	}
	_, err = t.ChangeRecord(ctx, Change{
		Actor: actor, Action: action, ObjectType: objectType, ObjectID: objectID,
		Before: b, After: a,
	})
	return err
}

func marshalOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal change: %w", ErrInvalid, err)
	}
	return b, nil
}

// CurrentRevision reads the newest committed revision as this transaction
// sees it, without taking a new one. It returns ErrUnavailable when
// PostgreSQL cannot be reached.
func (t *Tx) CurrentRevision(ctx context.Context) (int64, error) {
	if t.revision != 0 {
		return t.revision, nil
	}
	rev, err := t.q.RevisionCurrent(ctx, t.tx)
	if err != nil {
		return 0, fmt.Errorf("store: current revision: %w", translate(err))
	}
	return rev, nil
}
