-- PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost. The metric
-- functions are large queries over modest tables: their estimates pass the threshold and compiling
-- takes longer than running (seen: unit_ranking_as_of 6.4 s with JIT, 0.08 s without, on an almost
-- empty ledger). So JIT is off for every session of this database — BI tools included. (A SET clause
-- on the functions themselves would stop PostgreSQL from inlining them, which costs far more.) The
-- server and the projections also turn it off on their own connections, which covers databases
-- created from a template, where database settings are not copied.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    -- Only the database's owner may change its settings; the server's own connections still run
    -- without JIT, and docs/bi.md tells BI logins to set it.
    RAISE NOTICE 'jit stays on for this database (not its owner): set jit = off for BI logins';
END
$$;
