-- The directory: users, groups, their memberships and user attributes.

CREATE TABLE users (
    id           bigserial   PRIMARY KEY,
    user_name    text        NOT NULL CHECK (user_name <> ''),
    external_id  text        CHECK (external_id <> ''),
    display_name text        NOT NULL DEFAULT '',
    email        text        NOT NULL DEFAULT '',
    active       boolean     NOT NULL DEFAULT true,
    attributes   jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    revision     bigint      NOT NULL CHECK (revision > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- User names are unique regardless of case.
CREATE UNIQUE INDEX users_user_name_key ON users (lower(user_name));
CREATE UNIQUE INDEX users_external_id_key ON users (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE groups (
    id           bigserial   PRIMARY KEY,
    name         text        NOT NULL CHECK (name <> ''),
    external_id  text        CHECK (external_id <> ''),
    display_name text        NOT NULL DEFAULT '',
    revision     bigint      NOT NULL CHECK (revision > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Group names are unique regardless of case, like user names.
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));
CREATE UNIQUE INDEX groups_external_id_key ON groups (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE memberships (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id   bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    revision   bigint      NOT NULL CHECK (revision > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, group_id)
);

CREATE INDEX memberships_group_id_idx ON memberships (group_id, user_id);
