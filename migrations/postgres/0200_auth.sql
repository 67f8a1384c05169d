-- Access control (crates/auth, docs/security.md): API tokens.
--
-- A token's secret is never stored: only its SHA-256 (see crates/auth/src/secret.rs for why a fast
-- hash is right for 256-bit random secrets). Rows are never deleted and only ever change once, by
-- revocation, so the table itself is a record of who could get in and when; the event store holds
-- the same facts as TokenCreated / TokenRevoked events on stream `token-<id>`.

CREATE SCHEMA IF NOT EXISTS auth;
COMMENT ON SCHEMA auth IS 'API tokens: who may call the service (访问令牌).';

CREATE TABLE auth.tokens (
    token_id     uuid PRIMARY KEY,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    role         text NOT NULL CHECK (role IN ('admin', 'supervisor', 'editor', 'viewer', 'auditor')),
    units        text[] NOT NULL DEFAULT '{}',
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL CHECK (length(btrim(created_by)) > 0),
    revoked_at   timestamptz,
    revoked_by   text,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CHECK (expires_at > created_at),
    -- A unit scope means something only for editors, and an editor without one could do nothing.
    CHECK ((role = 'editor') = (cardinality(units) > 0))
);
COMMENT ON TABLE auth.tokens IS 'API tokens; the secret is stored only as its SHA-256 hash (访问令牌，仅存哈希).';
COMMENT ON COLUMN auth.tokens.token_id IS 'Token id, shown in event metadata as "name (id)" (令牌编号).';
COMMENT ON COLUMN auth.tokens.name IS 'Who or what holds the token (持有人).';
COMMENT ON COLUMN auth.tokens.role IS 'admin, supervisor, editor, viewer or auditor (角色).';
COMMENT ON COLUMN auth.tokens.units IS 'Unit ids an editor may act for (可操作的责任单位).';
COMMENT ON COLUMN auth.tokens.secret_hash IS 'SHA-256 of the whole token text (令牌哈希).';
COMMENT ON COLUMN auth.tokens.expires_at IS 'The token is refused from this moment on (失效时间).';
COMMENT ON COLUMN auth.tokens.created_at IS 'When the token was made (创建时间).';
COMMENT ON COLUMN auth.tokens.created_by IS 'Who made it (创建人).';
COMMENT ON COLUMN auth.tokens.revoked_at IS 'When it was revoked; refused from then on (吊销时间).';
COMMENT ON COLUMN auth.tokens.revoked_by IS 'Who revoked it (吊销人).';

-- Rows are kept for the record: no DELETE, no TRUNCATE, and the only UPDATE is a revocation
-- (revoked_at/revoked_by from empty to set). Like the event store's triggers, this holds for
-- every role; the service role lacks DELETE anyway.
CREATE FUNCTION auth.tokens_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
       AND (NEW.token_id, NEW.name, NEW.role, NEW.units, NEW.secret_hash, NEW.expires_at,
            NEW.created_at, NEW.created_by)
           IS NOT DISTINCT FROM
           (OLD.token_id, OLD.name, OLD.role, OLD.units, OLD.secret_hash, OLD.expires_at,
            OLD.created_at, OLD.created_by) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'auth.tokens rows are only ever revoked, never changed or deleted'
        USING ERRCODE = 'TZ201';
END;
$$;

CREATE TRIGGER tokens_guard BEFORE UPDATE OR DELETE ON auth.tokens
    FOR EACH ROW EXECUTE FUNCTION auth.tokens_guard();
CREATE TRIGGER tokens_no_truncate BEFORE TRUNCATE ON auth.tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tokens_guard();

-- The service reads tokens on every request and creates and revokes them.
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.tokens_guard() FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO taizhang_service;
GRANT SELECT, INSERT ON auth.tokens TO taizhang_service;
GRANT UPDATE (revoked_at, revoked_by) ON auth.tokens TO taizhang_service;

-- BI tools get nothing here: not even the names of the objects.
REVOKE ALL ON SCHEMA auth FROM taizhang_analytics;
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM taizhang_analytics;
