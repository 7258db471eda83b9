-- name: UserInsert :one
INSERT INTO users (user_name, external_id, display_name, email, active, attributes, scim, revision)
VALUES (@user_name, sqlc.narg('external_id'), @display_name, @email, @active, @attributes, @scim, @revision)
RETURNING *;

-- name: UserUpdate :one
-- Updates a live user; a tombstone is not found.
UPDATE users
SET user_name = @user_name,
    external_id = sqlc.narg('external_id'),
    display_name = @display_name,
    email = @email,
    active = @active,
    attributes = @attributes,
    scim = @scim,
    revision = @revision,
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: UserRevive :one
-- Turns a tombstone back into a live user with new content.
UPDATE users
SET user_name = @user_name,
    external_id = sqlc.narg('external_id'),
    display_name = @display_name,
    email = @email,
    active = @active,
    attributes = @attributes,
    scim = @scim,
    revision = @revision,
    deleted_at = NULL,
    updated_at = now()
WHERE id = @id AND deleted_at IS NOT NULL
RETURNING *;

-- name: UserTombstone :one
-- Deletes a live user, keeping the row as an inactive tombstone.
UPDATE users
SET active = false,
    deleted_at = now(),
    revision = @revision,
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: UserTombstoneFind :one
-- The tombstone a new user with this name or external ID revives: the one
-- with the same name (in any case) first, else the one with the external ID.
SELECT * FROM users
WHERE deleted_at IS NOT NULL
  AND (lower(user_name) = lower(@user_name::text)
       OR (sqlc.narg('external_id')::text IS NOT NULL AND external_id = sqlc.narg('external_id')::text))
ORDER BY (lower(user_name) = lower(@user_name::text)) DESC, id
LIMIT 1
FOR UPDATE;

-- name: UserTombstoneReleaseExternalID :exec
-- Takes an external ID from the tombstones other than one about to be revived.
UPDATE users SET external_id = NULL
WHERE external_id = @external_id::text AND deleted_at IS NOT NULL AND id <> @keep_id::bigint;

-- name: UserMembershipsDelete :exec
-- Removes every membership of a user.
DELETE FROM memberships WHERE user_id = @user_id;

-- name: UserGet :one
SELECT * FROM users WHERE id = @id AND deleted_at IS NULL;

-- name: UserGetForUpdate :one
SELECT * FROM users WHERE id = @id AND deleted_at IS NULL FOR UPDATE;

-- name: UserGetByName :one
SELECT * FROM users WHERE lower(user_name) = lower(@user_name::text) AND deleted_at IS NULL;

-- name: UserList :many
SELECT * FROM users WHERE id > @after_id::bigint AND deleted_at IS NULL ORDER BY id LIMIT @max_rows::int;

-- name: UserListAll :many
-- Every user, tombstones included, for the decision snapshot.
SELECT * FROM users ORDER BY id;

-- name: UserFind :many
-- Live users matching every given condition (null matches all), by ID, with
-- the number of matches before paging.
SELECT users.*, count(*) OVER () AS total
FROM users
WHERE deleted_at IS NULL
  AND (sqlc.narg('id')::bigint IS NULL OR id = sqlc.narg('id')::bigint)
  AND (sqlc.narg('user_name')::text IS NULL OR lower(user_name) = lower(sqlc.narg('user_name')::text))
  AND (sqlc.narg('external_id')::text IS NULL OR external_id = sqlc.narg('external_id')::text)
  AND (sqlc.narg('display_name')::text IS NULL OR lower(display_name) = lower(sqlc.narg('display_name')::text))
ORDER BY id
OFFSET @skip_rows::int
LIMIT @max_rows::int;

-- name: UserGetMany :many
-- The live users among some IDs, by ID.
SELECT * FROM users WHERE id = ANY(@ids::bigint[]) AND deleted_at IS NULL ORDER BY id;

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

-- name: GroupTouch :one
-- Moves a group to a new revision, for a change of its members.
UPDATE groups SET revision = @revision, updated_at = now() WHERE id = @id RETURNING *;

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

-- name: GroupFind :many
-- Groups matching every given condition (null matches all), by ID, with the
-- number of matches before paging. display_name matches the name, which is
-- what SCIM calls displayName.
SELECT groups.*, count(*) OVER () AS total
FROM groups
WHERE (sqlc.narg('id')::bigint IS NULL OR id = sqlc.narg('id')::bigint)
  AND (sqlc.narg('display_name')::text IS NULL OR lower(name) = lower(sqlc.narg('display_name')::text))
  AND (sqlc.narg('external_id')::text IS NULL OR external_id = sqlc.narg('external_id')::text)
  AND (sqlc.narg('member_id')::bigint IS NULL OR EXISTS (
        SELECT 1 FROM memberships m WHERE m.group_id = groups.id AND m.user_id = sqlc.narg('member_id')::bigint))
ORDER BY id
OFFSET @skip_rows::int
LIMIT @max_rows::int;

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

-- name: GroupMembersOf :many
-- The members of some groups, by group and user ID.
SELECT m.group_id, m.user_id, u.user_name, u.display_name
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.group_id = ANY(@group_ids::bigint[])
ORDER BY m.group_id, m.user_id;

-- name: UserGroupsOf :many
-- The groups of some users, by user ID and group name.
SELECT m.user_id, g.id AS group_id, g.name
FROM memberships m
JOIN groups g ON g.id = m.group_id
WHERE m.user_id = ANY(@user_ids::bigint[])
ORDER BY m.user_id, g.name;

-- name: UserGroupList :many
-- The groups of one user, by name.
SELECT g.*
FROM memberships m
JOIN groups g ON g.id = m.group_id
WHERE m.user_id = @user_id
ORDER BY g.name;

-- name: MembershipListAll :many
SELECT user_id, group_id FROM memberships ORDER BY user_id, group_id;
