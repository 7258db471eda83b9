-- name: DatasourceInsert :one
INSERT INTO datasources (source_catalog, source_schema, source_table, view_schema, view_table, description, columns, owner, revision)
VALUES (@source_catalog, @source_schema, @source_table, @view_schema, @view_table, @description, @columns, @owner, @revision)
RETURNING *;

-- name: DatasourceUpdate :one
UPDATE datasources
SET view_schema = @view_schema, view_table = @view_table, description = @description, columns = @columns,
    revision = @revision, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DatasourceGet :one
SELECT * FROM datasources WHERE id = @id;

-- name: DatasourceGetForUpdate :one
SELECT * FROM datasources WHERE id = @id FOR UPDATE;

-- name: DatasourceList :many
SELECT * FROM datasources ORDER BY id;

-- name: DatasourceDelete :one
DELETE FROM datasources WHERE id = @id RETURNING *;

-- name: MaskPolicyInsert :one
INSERT INTO mask_policies (name, datasource_id, tag, column_name, mask, exempt_users, exempt_groups, exempt_attributes, priority, created_by, revision)
VALUES (@name, sqlc.narg('datasource_id'), sqlc.narg('tag'), sqlc.narg('column_name'), @mask, @exempt_users, @exempt_groups, @exempt_attributes, @priority, @created_by, @revision)
RETURNING *;

-- name: MaskPolicyList :many
SELECT * FROM mask_policies ORDER BY id;

-- name: MaskPolicyDelete :one
DELETE FROM mask_policies WHERE id = @id RETURNING *;

-- name: RowPolicyInsert :one
INSERT INTO row_policies (name, datasource_id, policy, created_by, revision)
VALUES (@name, @datasource_id, @policy, @created_by, @revision)
RETURNING *;

-- name: RowPolicyList :many
SELECT * FROM row_policies ORDER BY id;

-- name: RowPolicyDelete :one
DELETE FROM row_policies WHERE id = @id RETURNING *;

-- name: SubscriptionInsert :one
INSERT INTO subscriptions (datasource_id, users, groups, attributes, created_by, revision)
VALUES (@datasource_id, @users, @groups, @attributes, @created_by, @revision)
RETURNING *;

-- name: SubscriptionList :many
SELECT * FROM subscriptions ORDER BY id;

-- name: SubscriptionDelete :one
DELETE FROM subscriptions WHERE id = @id RETURNING *;
