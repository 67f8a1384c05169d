-- Appends, second version (benchmarks in docs/benchmarks.md):
-- * a new stream's row is inserted once with its final version and hash (no insert-then-update);
-- * the idempotency check is an index probe inline, calling eventstore.replay only on a hit;
-- * p_notify lets the caller skip the in-transaction pg_notify: NOTIFY takes a cluster-wide lock
--   at commit that serialises every notifying transaction, so the Rust store coalesces wake-ups
--   and sends them outside the append's transaction instead (PgStoreOptions::notify).
-- Semantics, SQLSTATEs and the hash input are unchanged (see 0001 and docs/ARCHITECTURE.md).

DROP FUNCTION eventstore.append(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[]);

CREATE FUNCTION eventstore.append(
    p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_schema_versions integer[],
    p_data jsonb[], p_metadata jsonb[], p_notify boolean DEFAULT true)
RETURNS TABLE (r_version bigint, r_commit bigint, r_prepare bigint, r_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    n          integer := coalesce(array_length(p_ids, 1), 0);
    v_zero     constant bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    v_current  bigint;
    v_prev     bytea;
    v_new      boolean := false;
    v_now      timestamptz := now();
    v_micros   bigint := (extract(epoch FROM now()) * 1000000)::bigint;
    v_hashes   bytea[];
    v_commit   xid8;
    v_prepare  bigint;
BEGIN
    IF n = 0 OR array_length(p_types, 1) IS DISTINCT FROM n
       OR array_length(p_schema_versions, 1) IS DISTINCT FROM n
       OR array_length(p_data, 1) IS DISTINCT FROM n OR array_length(p_metadata, 1) IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'append needs at least one event and arrays of equal length' USING ERRCODE = 'TZ003';
    END IF;

    -- NoStream (the usual first append) skips the lookup: the insert below finds out anyway.
    IF p_expected <> -1 THEN
        SELECT s.version, s.last_hash INTO v_current, v_prev
        FROM eventstore.streams s WHERE s.name = p_stream FOR UPDATE;
    END IF;

    IF v_current IS NULL THEN
        IF EXISTS (SELECT 1 FROM eventstore.events e WHERE e.event_id = ANY (p_ids)) THEN
            -- Either the original of this append (returned) or a conflict (raised).
            RETURN QUERY SELECT * FROM eventstore.replay(p_stream, p_ids, p_types, p_schema_versions, p_data, p_metadata);
            RETURN;
        END IF;
        IF p_expected >= 0 OR p_expected = -3 THEN
            RAISE EXCEPTION 'wrong expected version for stream %: expected %, stream does not exist', p_stream, p_expected
                USING ERRCODE = 'TZ001', DETAIL = '';
        END IF;
        v_hashes := eventstore.chain(v_zero, p_stream, -1, p_ids, p_types, p_schema_versions, p_data, p_metadata, v_micros);
        -- A concurrent first append to the same stream makes this wait for it; if it commits we
        -- lock its row instead and go the existing-stream way (it may be our own original).
        INSERT INTO eventstore.streams (name, version, last_hash)
        VALUES (p_stream, n - 1, v_hashes[n])
        ON CONFLICT (name) DO NOTHING;
        IF FOUND THEN
            v_new := true;
            v_current := -1;
        ELSE
            SELECT s.version, s.last_hash INTO v_current, v_prev
            FROM eventstore.streams s WHERE s.name = p_stream FOR UPDATE;
        END IF;
    END IF;

    IF NOT v_new THEN
        IF EXISTS (SELECT 1 FROM eventstore.events e WHERE e.event_id = ANY (p_ids)) THEN
            RETURN QUERY SELECT * FROM eventstore.replay(p_stream, p_ids, p_types, p_schema_versions, p_data, p_metadata);
            RETURN;
        END IF;
        IF p_expected = -1 OR (p_expected >= 0 AND v_current <> p_expected) THEN
            RAISE EXCEPTION 'wrong expected version for stream %: expected %, current %', p_stream, p_expected, v_current
                USING ERRCODE = 'TZ001', DETAIL = v_current::text;
        END IF;
        v_hashes := eventstore.chain(v_prev, p_stream, v_current, p_ids, p_types, p_schema_versions, p_data, p_metadata, v_micros);
        UPDATE eventstore.streams SET version = v_current + n, last_hash = v_hashes[n] WHERE name = p_stream;
    END IF;

    -- Positions are taken only now, after every check.
    FOR i IN 1..n LOOP
        INSERT INTO eventstore.events
            (event_id, stream, version, category, event_type, schema_version, data, metadata, recorded_at, hash)
        VALUES (p_ids[i], p_stream, v_current + i, split_part(p_stream, '-', 1), p_types[i], p_schema_versions[i],
                p_data[i], p_metadata[i], v_now, v_hashes[i])
        RETURNING events.tx_id, events.position INTO v_commit, v_prepare;
        r_version := v_current + i;
        r_commit := v_commit::text::bigint;
        r_prepare := v_prepare;
        r_replayed := false;
        RETURN NEXT;
    END LOOP;

    IF p_notify AND coalesce(current_setting('eventstore.notify', true), '') <> 'off' THEN
        PERFORM pg_notify('eventstore', p_stream);
    END IF;
    RETURN;
END;
$$;

-- The hash chain of an append's events after (p_prev, p_current): the audit contract's formula
-- (docs/ARCHITECTURE.md, "Tamper evidence"), which verify recomputes in Rust.
CREATE FUNCTION eventstore.chain(
    p_prev bytea, p_stream text, p_current bigint, p_ids uuid[], p_types text[], p_schema_versions integer[],
    p_data jsonb[], p_metadata jsonb[], p_micros bigint)
RETURNS bytea[]
LANGUAGE plpgsql AS $$
DECLARE
    v_hashes bytea[] := '{}';
    v_prev   bytea := p_prev;
BEGIN
    FOR i IN 1..array_length(p_ids, 1) LOOP
        v_prev := sha256(v_prev || convert_to(
            p_ids[i]::text || E'\n' || p_stream || E'\n' || (p_current + i)::text || E'\n' || p_types[i] || E'\n'
            || p_schema_versions[i]::text || E'\n' || p_data[i]::text || E'\n' || p_metadata[i]::text || E'\n'
            || p_micros::text, 'UTF8'));
        v_hashes := v_hashes || v_prev;
    END LOOP;
    RETURN v_hashes;
END;
$$;

GRANT EXECUTE ON FUNCTION
    eventstore.append(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[], boolean),
    eventstore.chain(bytea, text, bigint, uuid[], text[], integer[], jsonb[], jsonb[], bigint)
    TO taizhang_service;
