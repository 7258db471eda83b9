-- SCIM provisioning: user tombstones and the SCIM attributes Warden keeps
-- without interpreting them.

-- A deleted user stays as a tombstone (deleted_at set, inactive, without
-- memberships) so that the policy layer keeps denying the name, and so that
-- re-provisioning the same userName or externalId revives the same row.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;
ALTER TABLE users ADD CONSTRAINT users_deleted_inactive CHECK (deleted_at IS NULL OR NOT active);

-- The SCIM attributes that have no column of their own (name, emails,
-- phoneNumbers, the enterprise extension, …), as sent, so that a GET returns
-- what was PUT.
ALTER TABLE users ADD COLUMN scim jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(scim) = 'object');

-- SCIM looks users up by display name; lower() because SCIM compares it
-- regardless of case.
CREATE INDEX users_display_name_idx ON users (lower(display_name));
CREATE INDEX groups_display_name_idx ON groups (lower(display_name));
