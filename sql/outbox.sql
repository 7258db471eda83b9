-- name: OutboxInsert :one
INSERT INTO outbox (revision, topic, payload)
VALUES (@revision, @topic, @payload)
RETURNING *;

-- name: OutboxClaim :many
-- Leases up to max_rows due rows: rows another worker holds are skipped, and
-- a claimed row is not due again until its lease ends.
WITH due AS (
    SELECT id
    FROM outbox
    WHERE done_at IS NULL
      AND next_attempt_at <= now()
      AND (sqlc.narg('topic')::text IS NULL OR topic = sqlc.narg('topic')::text)
    ORDER BY next_attempt_at, id
    LIMIT @max_rows::int
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o
SET attempts = o.attempts + 1,
    next_attempt_at = now() + sqlc.arg(lease_seconds)::float8 * interval '1 second',
    updated_at = now()
FROM due
WHERE o.id = due.id
RETURNING o.id, o.revision, o.topic, o.payload, o.attempts, o.next_attempt_at,
    o.last_error, o.done_at, o.created_at, o.updated_at;

-- name: OutboxDone :one
UPDATE outbox
SET done_at = now(), last_error = NULL, updated_at = now()
WHERE id = @id AND done_at IS NULL
RETURNING *;

-- name: OutboxRetry :one
-- Reschedules a failed row with exponential backoff on its attempts.
UPDATE outbox
SET last_error = @last_error,
    next_attempt_at = now() + interval '1 second' * LEAST(
        sqlc.arg(max_delay_seconds)::float8,
        sqlc.arg(base_delay_seconds)::float8 * power(2, GREATEST(attempts - 1, 0))::float8),
    updated_at = now()
WHERE id = @id AND done_at IS NULL
RETURNING *;

-- name: OutboxGet :one
SELECT * FROM outbox WHERE id = @id;

-- name: OutboxCountPending :one
-- Counts a topic's rows not yet delivered.
SELECT count(*)::bigint FROM outbox WHERE done_at IS NULL AND topic = @topic;
