-- name: RoleInsert :one
INSERT INTO roles (name, description, created_by, revision)
VALUES (@name, @description, @created_by, @revision)
RETURNING *;

-- name: RoleGet :one
SELECT * FROM roles WHERE name = @name;

-- name: RoleList :many
-- Roles by name, after after_name ('' starts at the first).
SELECT * FROM roles
WHERE name > @after_name::text
ORDER BY name
LIMIT @max_rows::int;

-- name: RoleDelete :one
DELETE FROM roles WHERE name = @name RETURNING *;
