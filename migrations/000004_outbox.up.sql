-- The outbox: what must reach another system (OpenFGA, later Trino), written
-- in the transaction of the change and delivered by a worker with retries.

CREATE TABLE outbox (
    id              bigserial   PRIMARY KEY,
    revision        bigint      NOT NULL CHECK (revision > 0),
    topic           text        NOT NULL CHECK (topic <> ''),
    payload         jsonb       NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    done_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Due rows, in order, for the claim query.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE done_at IS NULL;
CREATE INDEX outbox_revision_idx ON outbox (revision);
