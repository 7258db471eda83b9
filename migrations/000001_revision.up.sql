-- The one revision counter that orders every committed change, and the change
-- log of every admin mutation.

-- A single row: every mutating transaction increments it first, so the row
-- lock serializes writers and revisions are handed out in commit order.
CREATE TABLE revision_counter (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    revision   bigint      NOT NULL DEFAULT 0 CHECK (revision >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO revision_counter (singleton, revision) VALUES (true, 0);

CREATE TABLE change_log (
    id          bigserial   PRIMARY KEY,
    revision    bigint      NOT NULL CHECK (revision > 0),
    actor       text        NOT NULL CHECK (actor <> ''),
    action      text        NOT NULL CHECK (action <> ''),
    object_type text        NOT NULL CHECK (object_type <> ''),
    object_id   text        NOT NULL,
    before      jsonb,
    after       jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX change_log_revision_idx ON change_log (revision);
CREATE INDEX change_log_object_idx ON change_log (object_type, object_id, id);
CREATE INDEX change_log_actor_idx ON change_log (actor, id);
