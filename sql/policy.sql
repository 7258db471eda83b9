-- name: PolicyRevisionInsert :one
INSERT INTO policy_revisions (cluster, revision, actor, message, restored_from)
VALUES (@cluster, @revision, @actor, @message, sqlc.narg('restored_from'))
RETURNING *;

-- name: PolicyDocumentInsert :exec
INSERT INTO policy_documents (cluster, revision, kind, path, content)
VALUES (@cluster, @revision, @kind, @path, @content);

-- name: PolicyRevisionGetAt :one
-- The policy revision of a cluster in force at a revision (0 = the newest).
SELECT *
FROM policy_revisions
WHERE cluster = @cluster
  AND (@at_revision::bigint = 0 OR revision <= @at_revision::bigint)
ORDER BY revision DESC
LIMIT 1;

-- name: PolicyDocumentList :many
SELECT *
FROM policy_documents
WHERE cluster = @cluster AND revision = @revision
ORDER BY path;

-- name: PolicyRevisionList :many
-- Newest first; before_revision = 0 starts at the newest.
SELECT *
FROM policy_revisions
WHERE cluster = @cluster
  AND (@before_revision::bigint = 0 OR revision < @before_revision::bigint)
ORDER BY revision DESC
LIMIT @max_rows::int;

-- name: PolicyClusterList :many
SELECT DISTINCT cluster FROM policy_revisions ORDER BY cluster;
