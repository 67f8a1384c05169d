-- Importing a whole history into an empty store (`taizhang import`; crates/eventstore/src/import.rs,
-- src/postgres/import.rs, docs/export-format.md).
--
-- An import keeps every event's id, stream, version, recorded_at, data, metadata and hash, so it
-- cannot go through eventstore.append (which assigns versions, times and hashes). It needs nothing
-- the append-only design forbids, though: it only INSERTs events and stream heads. The triggers
-- that refuse UPDATE, DELETE and TRUNCATE on events and seals stay as they are, for every role, and
-- taizhang_service gains nothing (it keeps SELECT/INSERT on events and no UPDATE/DELETE). Hence no
-- SECURITY DEFINER here: this function runs with its caller's rights. The caller must also be able
-- to take the EXCLUSIVE table locks that keep appends out during the import (src/postgres/import.rs),
-- which PostgreSQL grants only to roles with UPDATE/DELETE/TRUNCATE on events: the owner that ran
-- the migrations, not the service role. That is intended: an import is an administrator's one-time
-- operation on a fresh database.
--
-- Each event is checked against its stream's chain here as well as in Rust (crate::import::ChainCheck):
-- the version must be the stream's next one, and the hash is recomputed with the same formula as
-- eventstore.chain, over the jsonb text as actually stored, so an event whose JSON did not survive
-- the trip into jsonb unchanged is refused rather than written with a hash verify would reject.
-- Errors: TZ003 bad arguments, TZ005 chain broken (DETAIL = stream, a line feed, version),
-- TZ006 not inside an import (DETAIL empty).

CREATE FUNCTION eventstore.import_events(
    p_ids uuid[], p_streams text[], p_versions bigint[], p_types text[], p_schema_versions integer[],
    p_data jsonb[], p_metadata jsonb[], p_recorded_at timestamptz[], p_hashes bytea[])
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n          integer := coalesce(array_length(p_ids, 1), 0);
    v_zero     constant bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    v_current  bigint;
    v_prev     bytea;
    v_hash     bytea;
BEGIN
    -- Set (transaction-locally) by the importer after it locked the tables and found them empty.
    -- Not a security boundary (INSERT privilege is): it keeps this function from being used by
    -- mistake on a live store, where it would bypass expected-version checks.
    IF coalesce(current_setting('eventstore.importing', true), '') <> 'on' THEN
        RAISE EXCEPTION 'eventstore.import_events runs only inside an import (begin_import)'
            USING ERRCODE = 'TZ006';
    END IF;
    IF array_length(p_streams, 1) IS DISTINCT FROM n OR array_length(p_versions, 1) IS DISTINCT FROM n
       OR array_length(p_types, 1) IS DISTINCT FROM n OR array_length(p_schema_versions, 1) IS DISTINCT FROM n
       OR array_length(p_data, 1) IS DISTINCT FROM n OR array_length(p_metadata, 1) IS DISTINCT FROM n
       OR array_length(p_recorded_at, 1) IS DISTINCT FROM n OR array_length(p_hashes, 1) IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'import needs arrays of equal length' USING ERRCODE = 'TZ003';
    END IF;

    FOR i IN 1..n LOOP
        SELECT s.version, s.last_hash INTO v_current, v_prev
        FROM eventstore.streams s WHERE s.name = p_streams[i];
        IF NOT FOUND THEN
            v_current := -1;
            v_prev := v_zero;
        END IF;
        IF p_versions[i] IS DISTINCT FROM v_current + 1 THEN
            RAISE EXCEPTION 'stream % version % does not follow version %', p_streams[i], p_versions[i], v_current
                USING ERRCODE = 'TZ005', DETAIL = p_streams[i] || E'\n' || p_versions[i]::text;
        END IF;
        -- The audit contract's formula (docs/ARCHITECTURE.md, "Tamper evidence"), as in eventstore.chain.
        v_hash := sha256(v_prev || convert_to(
            p_ids[i]::text || E'\n' || p_streams[i] || E'\n' || p_versions[i]::text || E'\n' || p_types[i] || E'\n'
            || p_schema_versions[i]::text || E'\n' || p_data[i]::text || E'\n' || p_metadata[i]::text || E'\n'
            || (extract(epoch FROM p_recorded_at[i]) * 1000000)::bigint::text, 'UTF8'));
        IF v_hash IS DISTINCT FROM p_hashes[i] THEN
            RAISE EXCEPTION 'stream % version %: the hash does not match the stored content', p_streams[i], p_versions[i]
                USING ERRCODE = 'TZ005', DETAIL = p_streams[i] || E'\n' || p_versions[i]::text;
        END IF;
        -- Positions come from the sequence in the order written, so $all keeps the file's order
        -- (every imported row has this transaction's id).
        INSERT INTO eventstore.events
            (event_id, stream, version, category, event_type, schema_version, data, metadata, recorded_at, hash)
        VALUES (p_ids[i], p_streams[i], p_versions[i], split_part(p_streams[i], '-', 1), p_types[i],
                p_schema_versions[i], p_data[i], p_metadata[i], p_recorded_at[i], v_hash);
        IF v_current < 0 THEN
            INSERT INTO eventstore.streams (name, version, last_hash, created_at)
            VALUES (p_streams[i], p_versions[i], v_hash, p_recorded_at[i]);
        ELSE
            UPDATE eventstore.streams SET version = p_versions[i], last_hash = v_hash WHERE name = p_streams[i];
        END IF;
    END LOOP;
    RETURN n;
END;
$$;

-- Functions are executable by PUBLIC by default; this one is for the owner only (see above).
REVOKE EXECUTE ON FUNCTION eventstore.import_events(
    uuid[], text[], bigint[], text[], integer[], jsonb[], jsonb[], timestamptz[], bytea[]) FROM PUBLIC;
