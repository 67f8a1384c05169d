-- The event store on SQLite: the same append-only, hash-chained events and gap-free $all as
-- migrations/postgres, shaped for a database with one writer at a time (docs/ARCHITECTURE.md,
-- "SQLite backend"). Times are microseconds since the Unix epoch; hashes and ids are blobs.

-- One row per stream: its last version and the hash of its last event. Derived from `events`;
-- verify checks it.
CREATE TABLE streams (
    name       TEXT PRIMARY KEY CHECK (length(name) <= 400 AND instr(name, '-') > 1),
    version    INTEGER NOT NULL,
    last_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- position is the event's number in $all. Appends hold SQLite's single write lock (BEGIN IMMEDIATE)
-- while they take numbers, so numbers are taken in commit order and committed numbers have no
-- gaps; AUTOINCREMENT never hands out a number again, even one whose row was removed behind the
-- store's back, so a consumer's checkpoint can never sit beyond a later event.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       BLOB NOT NULL UNIQUE CHECK (length(event_id) = 16),
    stream         TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 0),
    category       TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL CHECK (schema_version >= 1),
    -- PostgreSQL's jsonb text form of the JSON (eventstore::canonical_json): the hash covers this
    -- text, so an event moved to PostgreSQL keeps its hash.
    data           TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL,
    hash           BLOB NOT NULL CHECK (length(hash) = 32),
    UNIQUE (stream, version)
);
CREATE INDEX events_category ON events (category, position);
CREATE INDEX events_type ON events (event_type, position);

-- Seals chain the global order, exactly as on PostgreSQL.
CREATE TABLE seals (
    seal_no      INTEGER PRIMARY KEY CHECK (seal_no >= 1),
    from_commit  INTEGER NOT NULL,
    from_prepare INTEGER NOT NULL,
    to_commit    INTEGER NOT NULL,
    to_prepare   INTEGER NOT NULL,
    event_count  INTEGER NOT NULL,
    digest       BLOB NOT NULL,
    prev_hash    BLOB NOT NULL,
    hash         BLOB NOT NULL,
    sealed_at    INTEGER NOT NULL
);

-- Consumers' positions in $all, written in the same transaction as the consumer's own writes.
CREATE TABLE checkpoints (
    name        TEXT PRIMARY KEY,
    commit_pos  INTEGER NOT NULL,
    prepare_pos INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Events and seals are never changed or removed, whoever asks (SQLite has no TRUNCATE; a
-- `DELETE FROM events` without WHERE runs these row triggers too, as the truncate optimisation
-- is off for tables with triggers).
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on events is refused: the event store is append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'DELETE on events is refused: the event store is append-only');
END;
CREATE TRIGGER seals_no_update BEFORE UPDATE ON seals
BEGIN
    SELECT RAISE(ABORT, 'UPDATE on seals is refused: the event store is append-only');
END;
CREATE TRIGGER seals_no_delete BEFORE DELETE ON seals
BEGIN
    SELECT RAISE(ABORT, 'DELETE on seals is refused: the event store is append-only');
END;
