-- Policy documents (rules.json, Rego modules, data) per cluster, grouped in
-- immutable revisions: the policy set of a cluster at revision N is the
-- documents of its newest policy revision at or below N.

CREATE TABLE policy_revisions (
    cluster          text        NOT NULL CHECK (cluster <> ''),
    revision         bigint      NOT NULL CHECK (revision > 0),
    actor            text        NOT NULL CHECK (actor <> ''),
    message          text        NOT NULL DEFAULT '',
    -- For a rollback, the revision whose documents this one restores.
    restored_from    bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster, revision),
    FOREIGN KEY (cluster, restored_from) REFERENCES policy_revisions (cluster, revision)
);

CREATE TABLE policy_documents (
    cluster    text        NOT NULL,
    revision   bigint      NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('rules', 'rego', 'data')),
    path       text        NOT NULL CHECK (path <> ''),
    content    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster, revision, path),
    FOREIGN KEY (cluster, revision) REFERENCES policy_revisions (cluster, revision) ON DELETE CASCADE
);
