DROP INDEX groups_display_name_idx;
DROP INDEX users_display_name_idx;
-- Tombstones have no meaning before this migration: remove them.
DELETE FROM users WHERE deleted_at IS NOT NULL;
ALTER TABLE users DROP COLUMN scim;
ALTER TABLE users DROP CONSTRAINT users_deleted_inactive;
ALTER TABLE users DROP COLUMN deleted_at;
