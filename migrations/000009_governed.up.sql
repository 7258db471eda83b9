-- The governed catalog: registered source tables, exposed as generated,
-- policy-enforced views; the mask and row policies that apply to them; and
-- the subscriptions that say who may query each.

CREATE TABLE datasources (
    id              bigserial   PRIMARY KEY,
    source_catalog  text        NOT NULL CHECK (source_catalog <> ''),
    source_schema   text        NOT NULL CHECK (source_schema <> ''),
    source_table    text        NOT NULL CHECK (source_table <> ''),
    -- The view's schema and table under the governed catalog.
    view_schema     text        NOT NULL CHECK (view_schema <> ''),
    view_table      text        NOT NULL CHECK (view_table <> ''),
    description     text        NOT NULL DEFAULT '',
    -- The columns in source order: [{"name","type","tags":[…],"exposed":bool}].
    columns         jsonb       NOT NULL CHECK (jsonb_typeof(columns) = 'array'),
    owner           text        NOT NULL,
    revision        bigint      NOT NULL CHECK (revision > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX datasources_source_key ON datasources (source_catalog, source_schema, source_table);
CREATE UNIQUE INDEX datasources_view_key ON datasources (view_schema, view_table);

CREATE TABLE mask_policies (
    id                bigserial   PRIMARY KEY,
    name              text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,128}$'),
    -- NULL applies the policy to every data source.
    datasource_id     bigint      REFERENCES datasources (id) ON DELETE CASCADE,
    -- Exactly one of tag and column_name says which columns it masks.
    tag               text        CHECK (tag <> ''),
    column_name       text        CHECK (column_name <> ''),
    mask              jsonb       NOT NULL CHECK (jsonb_typeof(mask) = 'object'),
    exempt_users      text[]      NOT NULL DEFAULT '{}',
    exempt_groups     text[]      NOT NULL DEFAULT '{}',
    -- {"attribute": ["value", …]}: a user with any listed value is exempt.
    exempt_attributes jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(exempt_attributes) = 'object'),
    -- The highest priority wins when several policies mask one column.
    priority          integer     NOT NULL DEFAULT 0,
    created_by        text        NOT NULL,
    revision          bigint      NOT NULL CHECK (revision > 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((tag IS NULL) <> (column_name IS NULL)),
    CHECK (column_name IS NULL OR datasource_id IS NOT NULL)
);

CREATE TABLE row_policies (
    id            bigserial   PRIMARY KEY,
    name          text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,128}$'),
    datasource_id bigint      NOT NULL REFERENCES datasources (id) ON DELETE CASCADE,
    -- {"unfiltered_groups":[…],"rules":[{"groups":[…],"predicate":"…"}]}
    policy        jsonb       NOT NULL CHECK (jsonb_typeof(policy) = 'object'),
    created_by    text        NOT NULL,
    revision      bigint      NOT NULL CHECK (revision > 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX row_policies_datasource_idx ON row_policies (datasource_id);

CREATE TABLE subscriptions (
    id            bigserial   PRIMARY KEY,
    datasource_id bigint      NOT NULL REFERENCES datasources (id) ON DELETE CASCADE,
    users         text[]      NOT NULL DEFAULT '{}',
    groups        text[]      NOT NULL DEFAULT '{}',
    -- {"attribute": ["value", …]}: a user with any listed value subscribes.
    attributes    jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    created_by    text        NOT NULL,
    revision      bigint      NOT NULL CHECK (revision > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(users) + cardinality(groups) > 0 OR attributes <> '{}'::jsonb)
);

CREATE INDEX subscriptions_datasource_idx ON subscriptions (datasource_id);
