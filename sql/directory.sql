-- name: UserInsert :one
INSERT INTO users (user_name, external_id, display_name, email, active, attributes, revision)
VALUES (@user_name, sqlc.narg('external_id'), @display_name, @email, @active, @attributes, @revision)
RETURNING *;

-- name: UserUpdate :one
UPDATE users
SET user_name = @user_name,
    external_id = sqlc.narg('external_id'),
    display_name = @display_name,
    email = @email,
    active = @active,
    attributes = @attributes,
    revision = @revision,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: UserDelete :one
DELETE FROM users WHERE id = @id RETURNING *;

-- name: UserGet :one
SELECT * FROM users WHERE id = @id;

-- name: UserGetForUpdate :one
SELECT * FROM users WHERE id = @id FOR UPDATE;

-- name: UserGetByName :one
SELECT * FROM users WHERE lower(user_name) = lower(@user_name::text);

-- name: UserList :many
SELECT * FROM users WHERE id > @after_id::bigint ORDER BY id LIMIT @max_rows::int;

-- name: UserListAll :many
SELECT * FROM users ORDER BY id;

-- name: GroupInsert :one
INSERT INTO groups (name, external_id, display_name, revision)
VALUES (@name, sqlc.narg('external_id'), @display_name, @revision)
RETURNING *;

-- name: GroupUpdate :one
UPDATE groups
SET name = @name,
    external_id = sqlc.narg('external_id'),
    display_name = @display_name,
    revision = @revision,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: GroupDelete :one
DELETE FROM groups WHERE id = @id RETURNING *;

-- name: GroupGet :one
SELECT * FROM groups WHERE id = @id;

-- name: GroupGetForUpdate :one
SELECT * FROM groups WHERE id = @id FOR UPDATE;

-- name: GroupGetByName :one
SELECT * FROM groups WHERE lower(name) = lower(@name::text);

-- name: GroupList :many
SELECT * FROM groups WHERE id > @after_id::bigint ORDER BY id LIMIT @max_rows::int;

-- name: GroupListAll :many
SELECT * FROM groups ORDER BY id;

-- name: GroupMemberAdd :one
INSERT INTO memberships (user_id, group_id, revision)
VALUES (@user_id, @group_id, @revision)
RETURNING *;

-- name: GroupMemberRemove :one
DELETE FROM memberships WHERE user_id = @user_id AND group_id = @group_id RETURNING *;

-- name: GroupMemberList :many
-- The members of one group, by user name.
SELECT u.*
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.group_id = @group_id
ORDER BY u.user_name;

-- name: UserGroupList :many
-- The groups of one user, by name.
SELECT g.*
FROM memberships m
JOIN groups g ON g.id = m.group_id
WHERE m.user_id = @user_id
ORDER BY g.name;

-- name: MembershipListAll :many
SELECT user_id, group_id FROM memberships ORDER BY user_id, group_id;
