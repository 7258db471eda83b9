package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trino-warden/warden/store/internal/db"
)

// OutboxEnqueue adds a message for topic at this transaction's revision, so
// that it is delivered if, and only if, the change commits. payload is
// marshaled to JSON unless it is a json.RawMessage or []byte already. It
// returns ErrInvalid for an empty topic or a payload that is not JSON.
func (t *Tx) OutboxEnqueue(ctx context.Context, topic string, payload any) (OutboxItem, error) {
	var raw json.RawMessage
	switch p := payload.(type) {
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return OutboxItem{}, fmt.Errorf("%w: outbox payload: %w", ErrInvalid, err)
		}
		raw = b
	}
	if !json.Valid(raw) {
		return OutboxItem{}, fmt.Errorf("%w: outbox payload is not JSON", ErrInvalid)
	}
	rev, err := t.Revision(ctx)
	if err != nil {
		return OutboxItem{}, err
	}
	row, err := t.q.OutboxInsert(ctx, t.tx, db.OutboxInsertParams{Revision: rev, Topic: topic, Payload: raw})
	if err != nil {
		return OutboxItem{}, fmt.Errorf("store: enqueue %q: %w", topic, translate(err))
	}
	return outboxFromRow(row), nil
}

// OutboxClaim leases up to limit due messages of topic ("" = every topic),
// oldest first, for lease: until it ends no other claim returns them. Rows
// locked by a concurrent claim are skipped, so two workers never get the same
// row. Each claim counts as an attempt. The worker then calls OutboxDone or
// OutboxRetry; a row it forgets is due again when the lease ends. It returns
// ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) OutboxClaim(ctx context.Context, topic string, limit int, lease time.Duration) ([]OutboxItem, error) {
	rows, err := s.q.OutboxClaim(ctx, s.pool, db.OutboxClaimParams{
		Topic:        nonZero(topic),
		MaxRows:      clampLimit(limit),
		LeaseSeconds: lease.Seconds(),
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", translate(err))
	}
	out := make([]OutboxItem, 0, len(rows))
	for _, r := range rows {
		out = append(out, outboxFromRow(r))
	}
	return out, nil
}

// OutboxDone marks a message delivered. It returns ErrNotFound when there is
// no such message or it was already done, ErrUnavailable when PostgreSQL
// cannot be reached.
func (s *Store) OutboxDone(ctx context.Context, id int64) error {
	if _, err := s.q.OutboxDone(ctx, s.pool, id); err != nil {
		return fmt.Errorf("store: outbox %d done: %w", id, translate(err))
	}
	return nil
}

// OutboxRetry records why delivering a message failed and makes it due again
// after a backoff that doubles with each attempt, from
// Options.OutboxBaseDelay up to Options.OutboxMaxDelay. It returns the
// rescheduled message; ErrNotFound when there is no such message or it was
// done, ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) OutboxRetry(ctx context.Context, id int64, cause error) (OutboxItem, error) {
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	row, err := s.q.OutboxRetry(ctx, s.pool, db.OutboxRetryParams{
		ID:               id,
		LastError:        &msg,
		BaseDelaySeconds: s.opts.OutboxBaseDelay.Seconds(),
		MaxDelaySeconds:  s.opts.OutboxMaxDelay.Seconds(),
	})
	if err != nil {
		return OutboxItem{}, fmt.Errorf("store: outbox %d retry: %w", id, translate(err))
	}
	return outboxFromRow(row), nil
}

// OutboxGet returns one message. It returns ErrNotFound when there is none,
// ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) OutboxGet(ctx context.Context, id int64) (OutboxItem, error) {
	row, err := s.q.OutboxGet(ctx, s.pool, id)
	if err != nil {
		return OutboxItem{}, fmt.Errorf("store: outbox %d: %w", id, translate(err))
	}
	return outboxFromRow(row), nil
}

// OutboxPending counts a topic's messages not yet delivered. It returns
// ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) OutboxPending(ctx context.Context, topic string) (int64, error) {
	n, err := s.q.OutboxCountPending(ctx, s.pool, topic)
	if err != nil {
		return 0, fmt.Errorf("store: outbox pending: %w", translate(err))
	}
	return n, nil
}
