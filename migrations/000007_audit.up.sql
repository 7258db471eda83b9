-- The decision audit: every recorded decision, partitioned by day; the
-- counts of decisions sampled out or dropped, per hour and operation; and
-- the query-completion events of Trino's HTTP event listener.

CREATE TABLE audit_decisions (
    decided_at       timestamptz NOT NULL,
    decision_id      text        NOT NULL CHECK (decision_id <> ''),
    cluster          text        NOT NULL CHECK (cluster <> ''),
    endpoint         text        NOT NULL CHECK (endpoint <> ''),
    operation        text        NOT NULL,
    user_name        text        NOT NULL,
    groups           text[]      NOT NULL DEFAULT '{}',
    query_id         text,
    trino_version    text,
    outcome          text        NOT NULL
        CHECK (outcome IN ('allow', 'deny', 'partial', 'filter', 'mask', 'none', 'error')),
    items            integer     NOT NULL DEFAULT 0 CHECK (items >= 0),
    kept             integer     NOT NULL DEFAULT 0 CHECK (kept >= 0),
    resource         text        NOT NULL DEFAULT '',
    -- The catalog.schema.table a single-table decision is about, for the
    -- deny aggregates; null for other decisions.
    qualified_table  text,
    -- Facets are the decision's searchable terms, each prefixed with its
    -- kind: catalog:C, schema:S, table:T, column:COL, function:F, group:G.
    facets           text[]      NOT NULL DEFAULT '{}',
    facets_capped    boolean     NOT NULL DEFAULT false,
    result           jsonb,
    decider          text        NOT NULL DEFAULT '',
    explanation      jsonb,
    explain_capped   boolean     NOT NULL DEFAULT false,
    error            text,
    revision         bigint      NOT NULL,
    latency_us       bigint      NOT NULL CHECK (latency_us >= 0),
    input            jsonb       NOT NULL,
    UNIQUE (decided_at, decision_id)
) PARTITION BY RANGE (decided_at);

CREATE INDEX audit_decisions_id_idx ON audit_decisions (decision_id);
CREATE INDEX audit_decisions_user_idx ON audit_decisions (user_name, decided_at);
CREATE INDEX audit_decisions_query_idx ON audit_decisions (query_id) WHERE query_id IS NOT NULL;
CREATE INDEX audit_decisions_facets_idx ON audit_decisions USING gin (facets);

-- Batches are copied here, then moved into audit_decisions in the same
-- transaction, which deletes them again: the table is empty between
-- transactions, and concurrent writers never see each other's rows.
CREATE UNLOGGED TABLE audit_decisions_staging (LIKE audit_decisions INCLUDING DEFAULTS);

CREATE TABLE audit_sampling (
    hour      timestamptz NOT NULL,
    operation text        NOT NULL,
    reason    text        NOT NULL CHECK (reason IN ('skipped', 'sampled_out', 'dropped')),
    count     bigint      NOT NULL CHECK (count >= 0),
    PRIMARY KEY (hour, operation, reason)
);

CREATE TABLE audit_queries (
    cluster               text        NOT NULL CHECK (cluster <> ''),
    query_id              text        NOT NULL CHECK (query_id <> ''),
    state                 text        NOT NULL,
    user_name             text        NOT NULL,
    principal             text,
    source                text,
    catalog               text,
    schema_name           text,
    query                 text        NOT NULL,
    query_type            text,
    server_version        text,
    remote_client_address text,
    create_time           timestamptz NOT NULL,
    execution_start_time  timestamptz,
    end_time              timestamptz,
    error_code            text,
    error_type            text,
    failure_message       text,
    inputs                jsonb       NOT NULL DEFAULT '[]'::jsonb,
    received_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster, query_id)
);

CREATE INDEX audit_queries_user_idx ON audit_queries (user_name, create_time);
CREATE INDEX audit_queries_time_idx ON audit_queries (create_time);

-- audit_partition_create makes the partition of one UTC day, unless it
-- exists; it reports whether it made one. Replicas serialize on an
-- advisory lock, so two never race to create the same partition.
CREATE FUNCTION audit_partition_create(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    part text := 'audit_decisions_p' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('warden_audit_partitions'));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_decisions FOR VALUES FROM (%L) TO (%L)',
        part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    RETURN true;
END;
$$;

-- audit_partition_days lists the days that have a partition, oldest first.
CREATE FUNCTION audit_partition_days() RETURNS SETOF date
LANGUAGE sql STABLE AS $$
    SELECT to_date(substr(c.relname, 18), 'YYYYMMDD') AS day
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_decisions'::regclass
      AND c.relname ~ '^audit_decisions_p[0-9]{8}$'
    ORDER BY 1;
$$;

-- audit_partitions_drop_before drops the partitions of the days before
-- cutoff and returns how many it dropped.
CREATE FUNCTION audit_partitions_drop_before(cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d date;
    n integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('warden_audit_partitions'));
    FOR d IN SELECT * FROM audit_partition_days() LOOP
        IF d < cutoff THEN
            EXECUTE format('DROP TABLE %I', 'audit_decisions_p' || to_char(d, 'YYYYMMDD'));
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END;
$$;
