-- Back to jsonb. An input holding \u0000, which json takes and jsonb does
-- not, makes this fail; delete such rows first.
ALTER TABLE audit_decisions_staging
    ALTER COLUMN result TYPE jsonb USING result::jsonb,
    ALTER COLUMN explanation TYPE jsonb USING explanation::jsonb,
    ALTER COLUMN input TYPE jsonb USING input::jsonb;

ALTER TABLE audit_decisions
    ALTER COLUMN result TYPE jsonb USING result::jsonb,
    ALTER COLUMN explanation TYPE jsonb USING explanation::jsonb,
    ALTER COLUMN input TYPE jsonb USING input::jsonb;
