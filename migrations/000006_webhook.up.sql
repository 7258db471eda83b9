-- Inbound webhooks: every delivery applied or acknowledged, so that a
-- redelivery is a no-op, and the newest change applied per subject, so that
-- an older event that arrives late is acknowledged and ignored.

CREATE TABLE webhook_events (
    -- Who sent it: 'events' (Standard Webhooks) or 'keycloak'.
    source      text        NOT NULL CHECK (source <> ''),
    -- The sender's idempotency key: webhook-id, or Keycloak's event uid.
    event_id    text        NOT NULL CHECK (event_id <> ''),
    event_type  text        NOT NULL DEFAULT '',
    -- What the event changes, e.g. 'user:alice' or 'group:analysts'.
    subject     text        NOT NULL DEFAULT '',
    -- When the change happened at the sender: orders events per subject.
    occurred_at timestamptz NOT NULL,
    status      text        NOT NULL CHECK (status IN ('applied', 'stale')),
    note        text        NOT NULL DEFAULT '',
    -- The revision the event's changes committed at; null when it changed
    -- nothing.
    revision    bigint      CHECK (revision > 0),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, event_id)
);

-- For the retention purge.
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);

CREATE TABLE webhook_subjects (
    source           text        NOT NULL CHECK (source <> ''),
    subject          text        NOT NULL CHECK (subject <> ''),
    -- The occurred_at of the newest event applied to the subject.
    last_occurred_at timestamptz NOT NULL,
    last_event_id    text        NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, subject)
);

CREATE INDEX webhook_subjects_updated_at_idx ON webhook_subjects (updated_at);
