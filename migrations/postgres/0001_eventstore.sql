-- The event store: append-only, hash-chained events with a gap-free global order ($all).
-- See docs/ARCHITECTURE.md, "Event store", for why each piece is shaped the way it is.

CREATE SCHEMA IF NOT EXISTS eventstore;

-- One row per stream: its last version and the hash of its last event. Appends lock this row, which
-- serialises writers of one stream and nothing else. It is derived from `events`; verify checks it.
CREATE TABLE eventstore.streams (
    name       text PRIMARY KEY CHECK (name ~ '^[A-Za-z][A-Za-z0-9_]*-.+$' AND length(name) <= 400),
    version    bigint NOT NULL,
    last_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Gaps in this sequence are normal (rolled-back appends); order in $all is (tx_id, position).
CREATE SEQUENCE eventstore.events_position_seq AS bigint;

CREATE TABLE eventstore.events (
    position       bigint PRIMARY KEY DEFAULT nextval('eventstore.events_position_seq'),
    -- The writing transaction. Readers of $all only read below the oldest running transaction,
    -- so a late commit can never be skipped.
    tx_id          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid NOT NULL UNIQUE,
    stream         text NOT NULL,
    version        bigint NOT NULL CHECK (version >= 0),
    category       text NOT NULL,
    event_type     text NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version >= 1),
    data           jsonb NOT NULL,
    metadata       jsonb NOT NULL,
    recorded_at    timestamptz NOT NULL,
    hash           bytea NOT NULL,
    UNIQUE (stream, version)
);
ALTER SEQUENCE eventstore.events_position_seq OWNED BY eventstore.events.position;
CREATE INDEX events_all_order ON eventstore.events (tx_id, position);

-- Seals chain the global order: each covers the events after the previous seal's checkpoint up to
-- its own, as a digest of their hashes, and is chained to the previous seal's hash.
CREATE TABLE eventstore.seals (
    seal_no      bigint PRIMARY KEY CHECK (seal_no >= 1),
    from_commit  bigint NOT NULL,
    from_prepare bigint NOT NULL,
    to_commit    bigint NOT NULL,
    to_prepare   bigint NOT NULL,
    event_count  bigint NOT NULL,
    digest       bytea NOT NULL,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL,
    sealed_at    timestamptz NOT NULL
);

-- Consumers' positions in $all, written in the same transaction as the consumer's own writes.
CREATE TABLE eventstore.checkpoints (
    name           text PRIMARY KEY,
    commit_pos     bigint NOT NULL,
    prepare_pos    bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Append-only by construction: nothing rewrites or removes an event or a seal, whoever asks.
CREATE FUNCTION eventstore.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on %.% is refused: the event store is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'TZ004';
END;
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON eventstore.events
    FOR EACH ROW EXECUTE FUNCTION eventstore.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON eventstore.events
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore.refuse_change();
CREATE TRIGGER seals_append_only BEFORE UPDATE OR DELETE ON eventstore.seals
    FOR EACH ROW EXECUTE FUNCTION eventstore.refuse_change();
CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON eventstore.seals
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore.refuse_change();

-- The original result of an earlier append of the same event ids, or nothing when none of the ids
-- exists. Raises TZ002 when some exist but not as exactly this append (other stream, order or content).
CREATE FUNCTION eventstore.replay(
    p_stream text, p_ids uuid[], p_types text[], p_schema_versions integer[], p_data jsonb[], p_metadata jsonb[])
RETURNS TABLE (r_version bigint, r_commit bigint, r_prepare bigint, r_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_found  integer;
    v_bad    uuid;
BEGIN
    SELECT count(*) INTO v_found FROM eventstore.events e WHERE e.event_id = ANY (p_ids);
    IF v_found = 0 THEN
        RETURN;
    END IF;
    SELECT a.id INTO v_bad
    FROM unnest(p_ids, p_types, p_schema_versions, p_data, p_metadata) WITH ORDINALITY AS a(id, t, sv, d, m, ord)
    LEFT JOIN eventstore.events e ON e.event_id = a.id
    WHERE e.event_id IS NULL OR e.stream <> p_stream OR e.event_type <> a.t
       OR e.schema_version <> a.sv OR e.data <> a.d OR e.metadata <> a.m
       -- same order: versions must follow the order of the ids
       OR e.version - a.ord <> (SELECT min(e2.version) - 1 FROM eventstore.events e2 WHERE e2.event_id = ANY (p_ids))
    ORDER BY a.ord
    LIMIT 1;
    IF v_found <> array_length(p_ids, 1) THEN
        SELECT a.id INTO v_bad FROM unnest(p_ids) WITH ORDINALITY AS a(id, ord)
        JOIN eventstore.events e ON e.event_id = a.id ORDER BY a.ord LIMIT 1;
        RAISE EXCEPTION 'event id % was already appended, but not with the other events of this append', v_bad
            USING ERRCODE = 'TZ002', DETAIL = v_bad::text;
    END IF;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'event id % was already appended, but not as this append (other stream, order or content)', v_bad
            USING ERRCODE = 'TZ002', DETAIL = v_bad::text;
    END IF;
    RETURN QUERY
        SELECT e.version, e.tx_id::text::bigint, e.position, true
        FROM unnest(p_ids) WITH ORDINALITY AS a(id, ord)
        JOIN eventstore.events e ON e.event_id = a.id
        ORDER BY a.ord;
END;
$$;

-- Append events to a stream in one round trip.
-- p_expected: -2 any, -1 no stream, -3 stream exists, n >= 0 exactly version n.
-- Order matters: lock the stream, answer a retry with the original result, check the expected
-- version, and only then take positions, so that a refused append consumes nothing.
-- Errors: TZ001 wrong expected version (DETAIL = current version, '' when the stream does not exist),
-- TZ002 idempotency conflict (DETAIL = event id), TZ003 bad arguments.
CREATE FUNCTION eventstore.append(
    p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_schema_versions integer[],
    p_data jsonb[], p_metadata jsonb[])
RETURNS TABLE (r_version bigint, r_commit bigint, r_prepare bigint, r_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    n          integer := coalesce(array_length(p_ids, 1), 0);
    v_current  bigint;
    v_prev     bytea;
    v_now      timestamptz := now();
    v_micros   bigint;
    v_version  bigint;
    v_hash     bytea;
    v_commit   xid8;
    v_prepare  bigint;
BEGIN
    IF n = 0 OR array_length(p_types, 1) IS DISTINCT FROM n
       OR array_length(p_schema_versions, 1) IS DISTINCT FROM n
       OR array_length(p_data, 1) IS DISTINCT FROM n OR array_length(p_metadata, 1) IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'append needs at least one event and arrays of equal length' USING ERRCODE = 'TZ003';
    END IF;

    SELECT s.version, s.last_hash INTO v_current, v_prev
    FROM eventstore.streams s WHERE s.name = p_stream FOR UPDATE;

    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM eventstore.replay(p_stream, p_ids, p_types, p_schema_versions, p_data, p_metadata);
        IF FOUND THEN RETURN; END IF;
        IF p_expected >= 0 OR p_expected = -3 THEN
            RAISE EXCEPTION 'wrong expected version for stream %: expected %, stream does not exist', p_stream, p_expected
                USING ERRCODE = 'TZ001', DETAIL = '';
        END IF;
        -- A concurrent first append to the same stream makes this wait for it; if it commits we
        -- lock its row instead, and it may even have been the original of this very append.
        INSERT INTO eventstore.streams (name, version, last_hash)
        VALUES (p_stream, -1, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
        ON CONFLICT (name) DO NOTHING;
        IF FOUND THEN
            v_current := -1;
            v_prev := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
        ELSE
            SELECT s.version, s.last_hash INTO v_current, v_prev
            FROM eventstore.streams s WHERE s.name = p_stream FOR UPDATE;
            RETURN QUERY SELECT * FROM eventstore.replay(p_stream, p_ids, p_types, p_schema_versions, p_data, p_metadata);
            IF FOUND THEN RETURN; END IF;
        END IF;
    ELSE
        RETURN QUERY SELECT * FROM eventstore.replay(p_stream, p_ids, p_types, p_schema_versions, p_data, p_metadata);
        IF FOUND THEN RETURN; END IF;
    END IF;

    IF (p_expected = -1 AND v_current >= 0) OR (p_expected = -3 AND v_current < 0)
       OR (p_expected >= 0 AND v_current <> p_expected) THEN
        RAISE EXCEPTION 'wrong expected version for stream %: expected %, current %', p_stream, p_expected,
            CASE WHEN v_current < 0 THEN 'none' ELSE v_current::text END
            USING ERRCODE = 'TZ001', DETAIL = CASE WHEN v_current < 0 THEN '' ELSE v_current::text END;
    END IF;

    -- The hash input is part of the audit contract (docs/ARCHITECTURE.md); verify recomputes it in Rust.
    v_micros := (extract(epoch FROM v_now) * 1000000)::bigint;
    FOR i IN 1..n LOOP
        v_version := v_current + i;
        v_hash := sha256(v_prev || convert_to(
            p_ids[i]::text || E'\n' || p_stream || E'\n' || v_version::text || E'\n' || p_types[i] || E'\n'
            || p_schema_versions[i]::text || E'\n' || p_data[i]::text || E'\n' || p_metadata[i]::text || E'\n'
            || v_micros::text, 'UTF8'));
        INSERT INTO eventstore.events
            (event_id, stream, version, category, event_type, schema_version, data, metadata, recorded_at, hash)
        VALUES (p_ids[i], p_stream, v_version, split_part(p_stream, '-', 1), p_types[i], p_schema_versions[i],
                p_data[i], p_metadata[i], v_now, v_hash)
        RETURNING events.tx_id, events.position INTO v_commit, v_prepare;
        r_version := v_version;
        r_commit := v_commit::text::bigint;
        r_prepare := v_prepare;
        r_replayed := false;
        RETURN NEXT;
        v_prev := v_hash;
    END LOOP;

    UPDATE eventstore.streams SET version = v_current + n, last_hash = v_prev WHERE name = p_stream;

    -- Wake-up for subscribers; they also poll, so a lost notification only delays them.
    IF coalesce(current_setting('eventstore.notify', true), '') <> 'off' THEN
        PERFORM pg_notify('eventstore', p_stream);
    END IF;
    RETURN;
END;
$$;

-- The service runs as this role: it may append and read, never rewrite. Roles are cluster-wide and
-- every test database runs this migration, so create it only when missing (and tolerate a race).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taizhang_service') THEN
        CREATE ROLE taizhang_service NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END;
$$;

GRANT USAGE ON SCHEMA eventstore TO taizhang_service;
GRANT SELECT, INSERT ON eventstore.events, eventstore.seals TO taizhang_service;
GRANT SELECT, INSERT, UPDATE ON eventstore.streams, eventstore.checkpoints TO taizhang_service;
GRANT USAGE ON SEQUENCE eventstore.events_position_seq TO taizhang_service;
GRANT EXECUTE ON FUNCTION eventstore.append(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[]),
    eventstore.replay(text, uuid[], text[], integer[], jsonb[], jsonb[]) TO taizhang_service;
