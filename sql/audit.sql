-- name: AuditStagingMissingDays :many
-- The UTC days of the staged rows that have no partition yet.
SELECT DISTINCT (s.decided_at AT TIME ZONE 'UTC')::date AS day
FROM audit_decisions_staging s
WHERE (s.decided_at AT TIME ZONE 'UTC')::date NOT IN (SELECT audit_partition_days())
ORDER BY 1;

-- name: AuditStagingDeleteDay :execrows
DELETE FROM audit_decisions_staging
WHERE (decided_at AT TIME ZONE 'UTC')::date = @day::date;

-- name: AuditStagingMove :execrows
-- Moves the staged rows of this transaction; a row already recorded (a
-- replay from the spool) is skipped.
INSERT INTO audit_decisions
SELECT * FROM audit_decisions_staging
ON CONFLICT (decided_at, decision_id) DO NOTHING;

-- name: AuditStagingClear :exec
DELETE FROM audit_decisions_staging;

-- name: AuditPartitionCreate :one
SELECT audit_partition_create(@day::date)::boolean AS created;

-- name: AuditPartitionDays :many
SELECT day::date AS day FROM audit_partition_days() AS day;

-- name: AuditPartitionsDropBefore :one
SELECT audit_partitions_drop_before(@cutoff::date)::integer AS dropped;

-- name: AuditDecisionList :many
-- Newest first, after the cursor (decided_at, decision_id) when it is set.
SELECT decided_at, decision_id, cluster, endpoint, operation, user_name, groups,
    query_id, outcome, items, kept, resource, facets, facets_capped, result,
    decider, revision, latency_us, error
FROM audit_decisions
WHERE (sqlc.narg('before_at')::timestamptz IS NULL
       OR (decided_at, decision_id) < (sqlc.narg('before_at')::timestamptz, @before_id::text))
  AND (sqlc.narg('from_at')::timestamptz IS NULL OR decided_at >= sqlc.narg('from_at')::timestamptz)
  AND (sqlc.narg('to_at')::timestamptz IS NULL OR decided_at < sqlc.narg('to_at')::timestamptz)
  AND (sqlc.narg('user_name')::text IS NULL OR user_name = sqlc.narg('user_name')::text)
  AND (sqlc.narg('operation')::text IS NULL OR operation = sqlc.narg('operation')::text)
  AND (sqlc.narg('outcome')::text IS NULL OR outcome = sqlc.narg('outcome')::text)
  AND (sqlc.narg('query_id')::text IS NULL OR query_id = sqlc.narg('query_id')::text)
  AND (sqlc.narg('cluster')::text IS NULL OR cluster = sqlc.narg('cluster')::text)
  AND (sqlc.narg('endpoint')::text IS NULL OR endpoint = sqlc.narg('endpoint')::text)
  AND (cardinality(@facets::text[]) = 0 OR facets @> @facets::text[])
ORDER BY decided_at DESC, decision_id DESC
LIMIT @max_rows::int;

-- name: AuditDecisionGet :one
SELECT *
FROM audit_decisions
WHERE decision_id = @decision_id
ORDER BY decided_at DESC
LIMIT 1;

-- name: AuditDecisionWindow :many
-- Oldest first, with their inputs: decisions to replay.
SELECT *
FROM audit_decisions
WHERE decided_at >= @from_at::timestamptz
  AND decided_at < @to_at::timestamptz
  AND (sqlc.narg('after_at')::timestamptz IS NULL
       OR (decided_at, decision_id) > (sqlc.narg('after_at')::timestamptz, @after_id::text))
  AND (sqlc.narg('cluster')::text IS NULL OR cluster = sqlc.narg('cluster')::text)
ORDER BY decided_at, decision_id
LIMIT @max_rows::int;

-- name: AuditDeniesByUser :many
SELECT date_trunc(@bucket::text, decided_at, 'UTC')::timestamptz AS bucket,
    user_name AS key, count(*)::bigint AS denies
FROM audit_decisions
WHERE outcome = 'deny'
  AND decided_at >= @from_at::timestamptz AND decided_at < @to_at::timestamptz
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
LIMIT @max_rows::int;

-- name: AuditDeniesByTable :many
SELECT date_trunc(@bucket::text, decided_at, 'UTC')::timestamptz AS bucket,
    qualified_table::text AS key, count(*)::bigint AS denies
FROM audit_decisions
WHERE outcome = 'deny' AND qualified_table IS NOT NULL
  AND decided_at >= @from_at::timestamptz AND decided_at < @to_at::timestamptz
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
LIMIT @max_rows::int;

-- name: AuditSamplingAdd :exec
INSERT INTO audit_sampling (hour, operation, reason, count)
SELECT @hour::timestamptz, unnest(@operations::text[]), unnest(@reasons::text[]), unnest(@counts::bigint[])
ON CONFLICT (hour, operation, reason) DO UPDATE SET count = audit_sampling.count + EXCLUDED.count;

-- name: AuditSamplingList :many
SELECT hour, operation, reason, count
FROM audit_sampling
WHERE hour >= @from_at::timestamptz AND hour < @to_at::timestamptz
ORDER BY hour, operation, reason;

-- name: AuditSamplingDeleteBefore :execrows
DELETE FROM audit_sampling WHERE hour < @cutoff::timestamptz;

-- name: AuditQueryUpsert :execrows
-- A completion replaces what a creation event recorded; a creation event
-- never overwrites a completion (events may arrive out of order).
INSERT INTO audit_queries (
    cluster, query_id, state, user_name, principal, source, catalog, schema_name,
    query, query_type, server_version, remote_client_address, create_time,
    execution_start_time, end_time, error_code, error_type, failure_message, inputs
) VALUES (
    @cluster, @query_id, @state, @user_name, sqlc.narg('principal'), sqlc.narg('source'),
    sqlc.narg('catalog'), sqlc.narg('schema_name'), @query, sqlc.narg('query_type'),
    sqlc.narg('server_version'), sqlc.narg('remote_client_address'), @create_time,
    sqlc.narg('execution_start_time'), sqlc.narg('end_time'), sqlc.narg('error_code'),
    sqlc.narg('error_type'), sqlc.narg('failure_message'), @inputs
)
ON CONFLICT (cluster, query_id) DO UPDATE SET
    state = EXCLUDED.state, user_name = EXCLUDED.user_name, principal = EXCLUDED.principal,
    source = EXCLUDED.source, catalog = EXCLUDED.catalog, schema_name = EXCLUDED.schema_name,
    query = EXCLUDED.query, query_type = EXCLUDED.query_type,
    server_version = EXCLUDED.server_version,
    remote_client_address = EXCLUDED.remote_client_address,
    create_time = EXCLUDED.create_time, execution_start_time = EXCLUDED.execution_start_time,
    end_time = EXCLUDED.end_time, error_code = EXCLUDED.error_code,
    error_type = EXCLUDED.error_type, failure_message = EXCLUDED.failure_message,
    inputs = EXCLUDED.inputs, received_at = now()
WHERE audit_queries.end_time IS NULL OR EXCLUDED.end_time IS NOT NULL;

-- name: AuditQueryList :many
-- Newest first, after the cursor (create_time, query_id) when it is set.
SELECT *
FROM audit_queries
WHERE (sqlc.narg('before_at')::timestamptz IS NULL
       OR (create_time, query_id) < (sqlc.narg('before_at')::timestamptz, @before_id::text))
  AND (sqlc.narg('from_at')::timestamptz IS NULL OR create_time >= sqlc.narg('from_at')::timestamptz)
  AND (sqlc.narg('to_at')::timestamptz IS NULL OR create_time < sqlc.narg('to_at')::timestamptz)
  AND (sqlc.narg('user_name')::text IS NULL OR user_name = sqlc.narg('user_name')::text)
  AND (sqlc.narg('query_id')::text IS NULL OR query_id = sqlc.narg('query_id')::text)
  AND (sqlc.narg('state')::text IS NULL OR state = sqlc.narg('state')::text)
  AND (sqlc.narg('cluster')::text IS NULL OR cluster = sqlc.narg('cluster')::text)
ORDER BY create_time DESC, query_id DESC
LIMIT @max_rows::int;

-- name: AuditQueriesDeleteBefore :execrows
DELETE FROM audit_queries WHERE create_time < @cutoff::timestamptz;
