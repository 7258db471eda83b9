-- name: ChangeLogInsert :one
INSERT INTO change_log (revision, actor, action, object_type, object_id, before, after)
VALUES (@revision, @actor, @action, @object_type, @object_id, sqlc.narg('before'), sqlc.narg('after'))
RETURNING *;

-- name: ChangeLogList :many
-- Newest first; before_id = 0 starts at the newest row.
SELECT *
FROM change_log
WHERE (@before_id::bigint = 0 OR id < @before_id::bigint)
  AND (sqlc.narg('actor')::text IS NULL OR actor = sqlc.narg('actor')::text)
  AND (sqlc.narg('object_type')::text IS NULL OR object_type = sqlc.narg('object_type')::text)
  AND (sqlc.narg('object_id')::text IS NULL OR object_id = sqlc.narg('object_id')::text)
  AND (sqlc.narg('min_revision')::bigint IS NULL OR revision >= sqlc.narg('min_revision')::bigint)
ORDER BY id DESC
LIMIT @max_rows::int;
