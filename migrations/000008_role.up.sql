-- Roles of the grants model, created explicitly before anyone is assigned
-- to them or anything is granted to them. OpenFGA holds the assignments and
-- grants; this table holds which roles exist, and who made them.

CREATE TABLE roles (
    name        text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.@-]{1,128}$'),
    description text        NOT NULL DEFAULT '',
    created_by  text        NOT NULL,
    revision    bigint      NOT NULL CHECK (revision > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
