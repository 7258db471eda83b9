package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trino-warden/warden/store/internal/db"
)

// WebhookDelivery describes one inbound webhook event, for WebhookBegin.
type WebhookDelivery struct {
	// Source names the sender, e.g. "events" or "keycloak".
	Source string
	// EventID is the sender's idempotency key: the same on every retry.
	EventID string
	// Type is the event's type, for the record.
	Type string
	// Subject is what the event changes, e.g. "user:alice". Events about one
	// subject are applied in the order of OccurredAt.
	Subject string
	// OccurredAt is when the change happened at the sender.
	OccurredAt time.Time
}

// WebhookOutcome says what WebhookBegin decided for a delivery.
type WebhookOutcome string

// The outcomes of WebhookBegin, also the statuses of a recorded event.
const (
	// WebhookApply means the event is new and not older than the last one
	// applied to its subject: the caller applies it in the transaction.
	WebhookApply WebhookOutcome = "applied"
	// WebhookDuplicate means the event was recorded before: nothing to do.
	WebhookDuplicate WebhookOutcome = "duplicate"
	// WebhookStale means a newer event about the subject was applied
	// already; the delivery is recorded as stale and must change nothing.
	WebhookStale WebhookOutcome = "stale"
)

// WebhookEvent is a recorded webhook delivery.
type WebhookEvent struct {
	Source     string    `json:"source"`
	EventID    string    `json:"event_id"`
	Type       string    `json:"type"`
	Subject    string    `json:"subject"`
	OccurredAt time.Time `json:"occurred_at"`
	// Status is "applied" or "stale".
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
	// Revision is the revision of the event's changes; 0 when it changed
	// nothing.
	Revision   int64     `json:"revision,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// WebhookBegin records a delivery in this transaction and decides what to do
// with it. It returns WebhookDuplicate when the (source, event ID) was
// recorded before, WebhookStale when an event about the same subject that
// occurred later was applied already (the delivery is then recorded as stale,
// with the subject's newer event in its note), and WebhookApply otherwise,
// after moving the subject's watermark to d.OccurredAt. Events that occurred
// at the same instant are applied in the order they arrive. The subject's row
// lock, held until the transaction ends, serializes concurrent deliveries
// about one subject. It takes no revision. It returns ErrInvalid for an empty
// source, event ID or subject.
func (t *Tx) WebhookBegin(ctx context.Context, d WebhookDelivery) (WebhookOutcome, error) {
	if d.Source == "" || d.EventID == "" || d.Subject == "" {
		return "", fmt.Errorf("%w: webhook delivery needs a source, an event ID and a subject", ErrInvalid)
	}
	_, err := t.q.WebhookEventInsert(ctx, t.tx, db.WebhookEventInsertParams{
		Source: d.Source, EventID: d.EventID, EventType: d.Type, Subject: d.Subject, OccurredAt: d.OccurredAt,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return WebhookDuplicate, nil
	}
	if err != nil {
		return "", fmt.Errorf("store: record webhook event %s/%s: %w", d.Source, d.EventID, translate(err))
	}
	_, err = t.q.WebhookSubjectAdvance(ctx, t.tx, db.WebhookSubjectAdvanceParams{
		Source: d.Source, Subject: d.Subject, OccurredAt: d.OccurredAt, EventID: d.EventID,
	})
	if err == nil {
		return WebhookApply, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("store: order webhook event %s/%s: %w", d.Source, d.EventID, translate(err))
	}
	last, err := t.q.WebhookSubjectGet(ctx, t.tx, db.WebhookSubjectGetParams{Source: d.Source, Subject: d.Subject})
	if err != nil {
		return "", fmt.Errorf("store: webhook subject %s/%s: %w", d.Source, d.Subject, translate(err))
	}
	note := fmt.Sprintf("event %s about %s occurred at %s, after this one", last.LastEventID, d.Subject,
		last.LastOccurredAt.UTC().Format(time.RFC3339Nano))
	if err := t.webhookFinish(ctx, d.Source, d.EventID, WebhookStale, note); err != nil {
		return "", err
	}
	return WebhookStale, nil
}

// WebhookFinish completes a delivery that WebhookBegin let through: it
// records the note and, when the transaction changed anything, its
// revision, which it returns (0 when nothing changed).
func (t *Tx) WebhookFinish(ctx context.Context, source, eventID, note string) (int64, error) {
	if err := t.webhookFinish(ctx, source, eventID, WebhookApply, note); err != nil {
		return 0, err
	}
	return t.revision, nil
}

func (t *Tx) webhookFinish(ctx context.Context, source, eventID string, status WebhookOutcome, note string) error {
	err := t.q.WebhookEventFinish(ctx, t.tx, db.WebhookEventFinishParams{
		Source: source, EventID: eventID, Status: string(status), Note: note, Revision: nonZero(t.revision),
	})
	if err != nil {
		return fmt.Errorf("store: finish webhook event %s/%s: %w", source, eventID, translate(err))
	}
	return nil
}

// WebhookUserByExternalID returns the user with an external ID. It returns
// ErrNotFound when there is none.
func (t *Tx) WebhookUserByExternalID(ctx context.Context, externalID string) (User, error) {
	row, err := t.q.WebhookUserGetByExternalID(ctx, t.tx, externalID)
	if err != nil {
		return User{}, fmt.Errorf("store: user with external ID %q: %w", externalID, translate(err))
	}
	return userFromRow(row)
}

// WebhookUserByName returns the user with a name, in any case. It returns
// ErrNotFound when there is none.
func (t *Tx) WebhookUserByName(ctx context.Context, userName string) (User, error) {
	row, err := t.q.WebhookUserGetByName(ctx, t.tx, userName)
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", userName, translate(err))
	}
	return userFromRow(row)
}

// WebhookGroupByExternalID returns the group with an external ID. It returns
// ErrNotFound when there is none.
func (t *Tx) WebhookGroupByExternalID(ctx context.Context, externalID string) (Group, error) {
	row, err := t.q.WebhookGroupGetByExternalID(ctx, t.tx, externalID)
	if err != nil {
		return Group{}, fmt.Errorf("store: group with external ID %q: %w", externalID, translate(err))
	}
	return groupFromRow(row), nil
}

// WebhookGroupByName returns the group with a name, in any case. It returns
// ErrNotFound when there is none.
func (t *Tx) WebhookGroupByName(ctx context.Context, name string) (Group, error) {
	row, err := t.q.WebhookGroupGetByName(ctx, t.tx, name)
	if err != nil {
		return Group{}, fmt.Errorf("store: group %q: %w", name, translate(err))
	}
	return groupFromRow(row), nil
}

// WebhookGroupsByNamePrefix returns the groups whose name starts with prefix
// in any case, by name.
func (t *Tx) WebhookGroupsByNamePrefix(ctx context.Context, prefix string) ([]Group, error) {
	rows, err := t.q.WebhookGroupListByNamePrefix(ctx, t.tx, prefix)
	if err != nil {
		return nil, fmt.Errorf("store: groups named %q…: %w", prefix, translate(err))
	}
	return groupsFromRows(rows), nil
}

// WebhookUserGroups returns the groups of the user with an ID, by name, with
// their names and external IDs filled.
func (t *Tx) WebhookUserGroups(ctx context.Context, userID int64) ([]Group, error) {
	rows, err := t.q.WebhookUserGroupNames(ctx, t.tx, userID)
	if err != nil {
		return nil, fmt.Errorf("store: groups of user %d: %w", userID, translate(err))
	}
	out := make([]Group, 0, len(rows))
	for _, r := range rows {
		out = append(out, Group{Name: r.Name, ExternalID: deref(r.ExternalID)})
	}
	return out, nil
}

// WebhookGroupMembers returns the user names of the members of the group
// with an ID, sorted.
func (t *Tx) WebhookGroupMembers(ctx context.Context, groupID int64) ([]string, error) {
	names, err := t.q.WebhookGroupMemberNames(ctx, t.tx, groupID)
	if err != nil {
		return nil, fmt.Errorf("store: members of group %d: %w", groupID, translate(err))
	}
	return names, nil
}

// WebhookEventGet returns a recorded delivery. It returns ErrNotFound when
// there is none, ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) WebhookEventGet(ctx context.Context, source, eventID string) (WebhookEvent, error) {
	r, err := s.q.WebhookEventGet(ctx, s.pool, db.WebhookEventGetParams{Source: source, EventID: eventID})
	if err != nil {
		return WebhookEvent{}, fmt.Errorf("store: webhook event %s/%s: %w", source, eventID, translate(err))
	}
	return WebhookEvent{
		Source: r.Source, EventID: r.EventID, Type: r.EventType, Subject: r.Subject,
		OccurredAt: r.OccurredAt, Status: r.Status, Note: r.Note, Revision: deref(r.Revision),
		ReceivedAt: r.ReceivedAt,
	}, nil
}

// WebhookEventPurge deletes the deliveries received, and the subject
// watermarks last moved, before now minus olderThan, and returns how many
// deliveries it deleted. After the purge a redelivery of a deleted event is
// applied again, so olderThan must exceed the longest time a sender retries
// and the replay window. It returns ErrInvalid for olderThan <= 0 and
// ErrUnavailable when PostgreSQL cannot be reached.
func (s *Store) WebhookEventPurge(ctx context.Context, olderThan time.Duration) (int64, error) {
	if olderThan <= 0 {
		return 0, fmt.Errorf("%w: webhook retention must be positive, got %s", ErrInvalid, olderThan)
	}
	before := time.Now().Add(-olderThan)
	var n int64
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if n, err = tx.q.WebhookEventPurge(ctx, tx.tx, before); err != nil {
			return translate(err)
		}
		_, err = tx.q.WebhookSubjectPurge(ctx, tx.tx, before)
		return translate(err)
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge webhook events: %w", err)
	}
	return n, nil
}
