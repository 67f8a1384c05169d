-- The service role writes history only through functions its owner defined (issue 12, item 4).
--
-- Until now `taizhang_service` could INSERT into eventstore.events, eventstore.seals and
-- auth.tokens and UPDATE eventstore.streams directly: a backdated event with a real clerk's
-- actor, a token row without its TokenCreated event or a bogus seal were all accepted. Now the
-- role keeps no INSERT or UPDATE on those tables; it calls SECURITY DEFINER functions owned by
-- the migrating owner, each with a fixed search_path (every name below is schema-qualified,
-- and pg_temp comes last so that no temporary object can stand in for one of ours):
--
--   eventstore.append       assigns versions, the hash chain and the recorded time (the
--                           database server's clock, never the caller's);
--   eventstore.seal         computes the next seal from the events themselves;
--   auth.create_token       inserts the row and appends its TokenCreated event, together;
--   auth.revoke_token       revokes the row and appends its TokenRevoked event, together.
--
-- The service keeps SELECT everywhere here and INSERT/UPDATE on eventstore.checkpoints (its
-- consumers' positions). Imports (eventstore.import_events) remain the owner's alone.

-- Appends: the existing function, now run with its owner's rights.
ALTER FUNCTION eventstore.append(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[], boolean)
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION eventstore.chain(bytea, text, bigint, uuid[], text[], integer[], jsonb[], jsonb[], bigint)
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION eventstore.replay(text, uuid[], text[], integer[], jsonb[], jsonb[])
    SET search_path = pg_catalog, pg_temp;

-- The next seal over the events of $all after the last one, or no row when there are none.
-- The formulas are the audit contract's (docs/ledger-format.md; crates/eventstore/src/hash.rs):
-- digest = SHA-256 of the covered events' hashes in $all order; hash = SHA-256(prev_hash ‖
-- "seal_no LF from.commit LF from.prepare LF to.commit LF to.prepare LF event_count LF" ‖ digest).
-- The same visibility rule as $all: a sealed range can never gain a late-committing event.
CREATE FUNCTION eventstore.seal()
RETURNS TABLE (seal_no bigint, from_commit bigint, from_prepare bigint, to_commit bigint,
               to_prepare bigint, event_count bigint, digest bytea, prev_hash bytea, hash bytea,
               sealed_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_zero     constant bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    v_no       bigint := 1;
    v_from_c   bigint := 0;
    v_from_p   bigint := 0;
    v_prev     bytea := v_zero;
    v_to_c     bigint;
    v_to_p     bigint;
    v_count    bigint;
    v_hashes   bytea;
    v_digest   bytea;
BEGIN
    -- Serialises sealers across processes (the constant is "taizhang seal").
    PERFORM pg_advisory_xact_lock(x'7a685365616c'::bigint);
    SELECT s.seal_no + 1, s.to_commit, s.to_prepare, s.hash
      INTO v_no, v_from_c, v_from_p, v_prev
      FROM eventstore.seals s ORDER BY s.seal_no DESC LIMIT 1;
    IF NOT FOUND THEN
        v_no := 1; v_from_c := 0; v_from_p := 0; v_prev := v_zero;
    END IF;
    SELECT count(*), string_agg(e.hash, ''::bytea ORDER BY e.tx_id, e.position)
      INTO v_count, v_hashes
      FROM eventstore.events e
     WHERE (e.tx_id, e.position) > (v_from_c::text::xid8, v_from_p)
       AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot());
    IF v_count = 0 THEN
        RETURN;
    END IF;
    SELECT e.tx_id::text::bigint, e.position INTO v_to_c, v_to_p
      FROM eventstore.events e
     WHERE (e.tx_id, e.position) > (v_from_c::text::xid8, v_from_p)
       AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY e.tx_id DESC, e.position DESC LIMIT 1;
    v_digest := sha256(v_hashes);
    seal_no := v_no;
    from_commit := v_from_c;
    from_prepare := v_from_p;
    to_commit := v_to_c;
    to_prepare := v_to_p;
    event_count := v_count;
    digest := v_digest;
    prev_hash := v_prev;
    hash := sha256(v_prev || convert_to(
        v_no::text || E'\n' || v_from_c::text || E'\n' || v_from_p::text || E'\n'
        || v_to_c::text || E'\n' || v_to_p::text || E'\n' || v_count::text || E'\n', 'UTF8') || v_digest);
    sealed_at := now();
    INSERT INTO eventstore.seals (seal_no, from_commit, from_prepare, to_commit, to_prepare,
                                  event_count, digest, prev_hash, hash, sealed_at)
    VALUES (seal_no, from_commit, from_prepare, to_commit, to_prepare, event_count, digest,
            prev_hash, hash, sealed_at);
    RETURN NEXT;
END;
$$;

-- RFC 3339 as crates/auth writes it (the `time` crate): UTC as `Z`, the fraction of a second
-- without trailing zeros and left out when zero, so a token event reads the same on both backends.
CREATE FUNCTION auth.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM p_at)::bigint % 1000000 = 0 THEN ''
                ELSE '.' || rtrim(lpad((extract(microseconds FROM p_at)::bigint % 1000000)::text, 6, '0'), '0')
           END
        || 'Z'
$$;

-- A new token: its row and its TokenCreated event on stream `token-<id>` in one transaction,
-- the row's times from the database's clock. The secret is given as its SHA-256 only.
CREATE FUNCTION auth.create_token(
    p_token_id uuid, p_name text, p_role text, p_units text[], p_secret_hash bytea,
    p_lifetime_seconds bigint, p_created_by text)
RETURNS SETOF auth.tokens
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_row         auth.tokens;
    v_correlation uuid := gen_random_uuid();
BEGIN
    INSERT INTO auth.tokens (token_id, name, role, units, secret_hash, expires_at, created_by)
    VALUES (p_token_id, p_name, p_role, p_units, p_secret_hash,
            now() + p_lifetime_seconds * interval '1 second', p_created_by)
    RETURNING * INTO v_row;
    PERFORM eventstore.append(
        'token-' || p_token_id::text, -1, ARRAY[gen_random_uuid()], ARRAY['TokenCreated'], ARRAY[1],
        ARRAY[jsonb_build_object(
            'token_id', v_row.token_id, 'name', v_row.name, 'role', v_row.role,
            'units', to_jsonb(v_row.units), 'expires_at', auth.rfc3339(v_row.expires_at))],
        ARRAY[jsonb_build_object(
            'actor', p_created_by, 'correlationId', v_correlation, 'causationId', v_correlation)]);
    RETURN NEXT v_row;
END;
$$;

-- Revokes a token: its row and its TokenRevoked event together. TZ202: no such token;
-- TZ203: already revoked (the row is left as it is).
CREATE FUNCTION auth.revoke_token(p_token_id uuid, p_revoked_by text)
RETURNS SETOF auth.tokens
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_row         auth.tokens;
    v_correlation uuid := gen_random_uuid();
BEGIN
    SELECT * INTO v_row FROM auth.tokens t WHERE t.token_id = p_token_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no token %', p_token_id USING ERRCODE = 'TZ202';
    END IF;
    IF v_row.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'token % is already revoked', p_token_id USING ERRCODE = 'TZ203';
    END IF;
    UPDATE auth.tokens t SET revoked_at = now(), revoked_by = p_revoked_by
     WHERE t.token_id = p_token_id RETURNING * INTO v_row;
    PERFORM eventstore.append(
        'token-' || p_token_id::text, -3, ARRAY[gen_random_uuid()], ARRAY['TokenRevoked'], ARRAY[1],
        ARRAY[jsonb_build_object('token_id', v_row.token_id, 'revoked_at', auth.rfc3339(v_row.revoked_at))],
        ARRAY[jsonb_build_object(
            'actor', p_revoked_by, 'correlationId', v_correlation, 'causationId', v_correlation)]);
    RETURN NEXT v_row;
END;
$$;

-- Only the service (and the owner) may call them; PUBLIC gets EXECUTE on new functions by default.
REVOKE ALL ON FUNCTION eventstore.seal() FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.create_token(uuid, text, text, text[], bytea, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auth.revoke_token(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION eventstore.append(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eventstore.seal() TO taizhang_service;
GRANT EXECUTE ON FUNCTION auth.create_token(uuid, text, text, text[], bytea, bigint, text) TO taizhang_service;
GRANT EXECUTE ON FUNCTION auth.revoke_token(uuid, text) TO taizhang_service;
GRANT EXECUTE ON FUNCTION eventstore.append(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[], boolean)
    TO taizhang_service;
GRANT EXECUTE ON FUNCTION auth.rfc3339(timestamptz) TO taizhang_service;

-- And no direct writes of history.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON eventstore.events, eventstore.seals, eventstore.streams
    FROM taizhang_service;
REVOKE USAGE ON SEQUENCE eventstore.events_position_seq FROM taizhang_service;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON auth.tokens FROM taizhang_service;
