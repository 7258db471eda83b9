-- The decision audit keeps inputs, results and explanations as json rather
-- than jsonb. Nothing queries inside them, so jsonb's parsed form bought
-- nothing, and building it was most of what PostgreSQL spent per recorded
-- decision. json also keeps an input exactly as Trino sent it, and takes
-- strings with \u0000, which jsonb refuses (and with it the whole batch).
ALTER TABLE audit_decisions
    ALTER COLUMN result TYPE json USING result::json,
    ALTER COLUMN explanation TYPE json USING explanation::json,
    ALTER COLUMN input TYPE json USING input::json;

ALTER TABLE audit_decisions_staging
    ALTER COLUMN result TYPE json USING result::json,
    ALTER COLUMN explanation TYPE json USING explanation::json,
    ALTER COLUMN input TYPE json USING input::json;
