-- Who may touch the reporting schema.
--  * taizhang_service (created by 0001): the projections write the read models.
--  * taizhang_analytics: a NOLOGIN group role for BI tools. It reads `reporting` and nothing else,
--    including tables created later (rebuilds swap in fresh tables), and its sessions default to
--    read-only transactions. docs/bi.md shows how to create a login in it.
-- Roles are cluster-wide and every test database runs this migration, so creation is idempotent.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taizhang_analytics') THEN
        CREATE ROLE taizhang_analytics NOLOGIN;
    END IF;
END
$$;
ALTER ROLE taizhang_analytics SET default_transaction_read_only = on;
COMMENT ON ROLE taizhang_analytics IS 'Read-only access to the reporting schema for BI tools (报表只读角色).';

-- No access to the event store: the analytics role may not even look up the schema's objects.
REVOKE ALL ON SCHEMA eventstore FROM taizhang_analytics;
REVOKE ALL ON ALL TABLES IN SCHEMA eventstore FROM taizhang_analytics;
REVOKE CREATE ON SCHEMA public FROM taizhang_analytics;

GRANT USAGE ON SCHEMA reporting TO taizhang_analytics;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO taizhang_analytics;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA reporting TO taizhang_analytics;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO taizhang_analytics;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT EXECUTE ON FUNCTIONS TO taizhang_analytics;

GRANT USAGE ON SCHEMA reporting TO taizhang_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA reporting TO taizhang_service;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA reporting TO taizhang_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO taizhang_service;
