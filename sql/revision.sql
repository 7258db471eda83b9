-- name: RevisionNext :one
-- Takes the next revision. The row lock it takes is held until the
-- transaction ends, so mutations are serialized and revisions follow commit
-- order.
UPDATE revision_counter
SET revision = revision + 1, updated_at = now()
WHERE singleton
RETURNING revision;

-- name: RevisionCurrent :one
SELECT revision FROM revision_counter WHERE singleton;

-- name: RevisionNotify :exec
-- Delivered to every LISTENer when, and only if, the transaction commits.
SELECT pg_notify('warden_changes', @payload::text);

-- name: RevisionListen :exec
-- Subscribes the connection to the notifications of RevisionNotify.
LISTEN warden_changes;
