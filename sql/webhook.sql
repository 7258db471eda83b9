-- name: WebhookEventInsert :one
-- Records a delivery; no row means the event was recorded before: a
-- redelivery.
INSERT INTO webhook_events (source, event_id, event_type, subject, occurred_at, status)
VALUES (@source, @event_id, @event_type, @subject, @occurred_at, 'applied')
ON CONFLICT (source, event_id) DO NOTHING
RETURNING received_at;

-- name: WebhookSubjectAdvance :one
-- Moves the subject's watermark to occurred_at unless a newer event was
-- applied; no row means the event is stale. The row lock it takes serializes
-- the deliveries about one subject.
INSERT INTO webhook_subjects (source, subject, last_occurred_at, last_event_id)
VALUES (@source, @subject, @occurred_at, @event_id)
ON CONFLICT (source, subject) DO UPDATE
SET last_occurred_at = EXCLUDED.last_occurred_at,
    last_event_id = EXCLUDED.last_event_id,
    updated_at = now()
WHERE webhook_subjects.last_occurred_at <= EXCLUDED.last_occurred_at
RETURNING last_occurred_at;

-- name: WebhookSubjectGet :one
SELECT * FROM webhook_subjects WHERE source = @source AND subject = @subject;

-- name: WebhookEventFinish :exec
UPDATE webhook_events
SET status = @status, note = @note, revision = sqlc.narg('revision')
WHERE source = @source AND event_id = @event_id;

-- name: WebhookEventGet :one
SELECT * FROM webhook_events WHERE source = @source AND event_id = @event_id;

-- name: WebhookEventPurge :execrows
DELETE FROM webhook_events WHERE received_at < @before;

-- name: WebhookSubjectPurge :execrows
DELETE FROM webhook_subjects WHERE updated_at < @before;

-- name: WebhookUserGetByExternalID :one
-- A live user: a tombstone (deleted_at set) is revived by UserCreate.
SELECT * FROM users WHERE external_id = @external_id::text AND deleted_at IS NULL;

-- name: WebhookUserGetByName :one
SELECT * FROM users WHERE lower(user_name) = lower(@user_name::text) AND deleted_at IS NULL;

-- name: WebhookGroupGetByExternalID :one
SELECT * FROM groups WHERE external_id = @external_id::text;

-- name: WebhookGroupGetByName :one
SELECT * FROM groups WHERE lower(name) = lower(@name::text);

-- name: WebhookGroupListByNamePrefix :many
-- The groups whose name starts with prefix (any case), by name: the
-- subgroups of a Keycloak group, named by path.
SELECT * FROM groups
WHERE lower(left(name, length(@prefix::text))) = lower(@prefix::text)
ORDER BY name;

-- name: WebhookUserGroupNames :many
SELECT g.name, g.external_id
FROM memberships m
JOIN groups g ON g.id = m.group_id
WHERE m.user_id = @user_id
ORDER BY g.name;

-- name: WebhookGroupMemberNames :many
SELECT u.user_name
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.group_id = @group_id
ORDER BY u.user_name;
