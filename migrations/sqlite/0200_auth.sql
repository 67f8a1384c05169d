-- Access control (crates/auth, docs/security.md): API tokens on SQLite, the same table as
-- PostgreSQL's `auth.tokens` (migrations/postgres/0200_auth.sql, where every column is
-- documented) in the store's own file, as `auth_tokens` (a prefix, like the `reporting_` tables).
--
-- A token's secret is never stored: only its SHA-256. Rows are never deleted and only ever change
-- once, by revocation; the event store (same file, same transaction) holds the same facts as
-- TokenCreated / TokenRevoked events on stream `token-<id>`.
--
-- Types (STRICT: SQLite refuses a value of another type instead of storing it as given):
-- token_id is the UUID's lowercase hyphenated text; units a JSON array of unit ids (text[] on
-- PostgreSQL); secret_hash 32 bytes; times are microseconds since the Unix epoch in UTC, as the
-- event store's recorded_at (migrations/sqlite/0001), which is also PostgreSQL's timestamptz
-- precision: a token reads back identically from either backend.

CREATE TABLE auth_tokens (
    token_id     TEXT PRIMARY KEY NOT NULL CHECK (
                     length(token_id) = 36
                     AND token_id NOT GLOB '*[^0-9a-f-]*'
                     AND length(replace(token_id, '-', '')) = 32
                     AND substr(token_id, 9, 1) = '-' AND substr(token_id, 14, 1) = '-'
                     AND substr(token_id, 19, 1) = '-' AND substr(token_id, 24, 1) = '-'),
    name         TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    role         TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'editor', 'viewer', 'auditor')),
    units        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(units) AND json_type(units) = 'array'),
    secret_hash  BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    created_by   TEXT NOT NULL CHECK (length(trim(created_by)) > 0),
    revoked_at   INTEGER,
    revoked_by   TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CHECK (expires_at > created_at),
    -- A unit scope means something only for editors, and an editor without one could do nothing.
    CHECK ((role = 'editor') = (json_array_length(units) > 0))
) STRICT;

-- Rows are kept for the record: no DELETE, and the only UPDATE is a revocation (revoked_at and
-- revoked_by from empty to set, nothing else changed). SQLite has no roles, so unlike PostgreSQL
-- these triggers are the whole guard; whoever can write the file could drop them, which is why the
-- file's permissions are the access control (docs/security.md). SQLite has no TRUNCATE: a
-- `DELETE FROM auth_tokens` without WHERE runs the row trigger, as the truncate optimisation is
-- off for tables with triggers.
CREATE TRIGGER auth_tokens_no_delete BEFORE DELETE ON auth_tokens
BEGIN
    SELECT RAISE(ABORT, 'auth_tokens rows are only ever revoked, never changed or deleted');
END;

CREATE TRIGGER auth_tokens_only_revocation BEFORE UPDATE ON auth_tokens
WHEN NOT (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
          AND NEW.token_id IS OLD.token_id AND NEW.name IS OLD.name AND NEW.role IS OLD.role
          AND NEW.units IS OLD.units AND NEW.secret_hash IS OLD.secret_hash
          AND NEW.expires_at IS OLD.expires_at AND NEW.created_at IS OLD.created_at
          AND NEW.created_by IS OLD.created_by)
BEGIN
    SELECT RAISE(ABORT, 'auth_tokens rows are only ever revoked, never changed or deleted');
END;

-- `INSERT OR REPLACE` (or `REPLACE INTO`) resolves a clash on token_id or secret_hash by deleting
-- the old row, and that deletion runs no DELETE trigger (recursive_triggers is off): without this,
-- a token could be rewritten by inserting over it. BEFORE INSERT runs ahead of conflict resolution.
CREATE TRIGGER auth_tokens_no_replace BEFORE INSERT ON auth_tokens
WHEN EXISTS (SELECT 1 FROM auth_tokens
             WHERE token_id = NEW.token_id OR secret_hash = NEW.secret_hash)
BEGIN
    SELECT RAISE(ABORT, 'auth_tokens rows are only ever revoked, never changed or deleted');
END;
