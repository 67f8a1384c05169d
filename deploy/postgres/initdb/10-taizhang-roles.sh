#!/usr/bin/env bash
# The database logins of the compose deployment, created once when the postgres container
# initialises an empty data directory (the image runs /docker-entrypoint-initdb.d/* as
# POSTGRES_USER on POSTGRES_DB). Later changes of the passwords in .env do not reach an existing
# volume: change them with ALTER ROLE, or start over with `docker compose down -v`.
#
#  * TAIZHANG_DB_USER (taizhang): the server's login, a member of taizhang_service — append and
#    read events, write the reporting tables, create and revoke tokens; never rewrite history.
#    The schema is migrated by the superuser (the compose `migrate` service), not by this login,
#    which may read the migration ledger for /readyz.
#  * METABASE_DB_USER (metabase): the BI login, a member of taizhang_analytics — reads the
#    `reporting` schema only, read-only sessions (docs/bi.md, "A login for your tool").
#
# The two group roles are the migrations' (0001, 0102); they are created here first, NOLOGIN and
# with no privileges, only so that the logins can join them before the first migration, which
# creates them when missing and grants their privileges. Every statement is guarded, so running the
# script again (as the test in tests/tests/compose.rs does on the development server) changes
# nothing that exists.
set -euo pipefail

: "${TAIZHANG_DB_USER:=taizhang}"
: "${METABASE_DB_USER:=metabase}"
if [[ -z "${TAIZHANG_DB_PASSWORD:-}" || -z "${METABASE_DB_PASSWORD:-}" ]]; then
    echo "10-taizhang-roles.sh: set TAIZHANG_DB_PASSWORD and METABASE_DB_PASSWORD (需要设置两个数据库密码)" >&2
    exit 1
fi

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v service_login="$TAIZHANG_DB_USER" -v service_password="$TAIZHANG_DB_PASSWORD" \
    -v bi_login="$METABASE_DB_USER" -v bi_password="$METABASE_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE taizhang_service NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taizhang_service') \gexec
SELECT 'CREATE ROLE taizhang_analytics NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taizhang_analytics') \gexec

SELECT format('CREATE ROLE %I LOGIN', :'service_login')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'service_login') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'service_login', :'service_password') \gexec
SELECT format('GRANT taizhang_service TO %I', :'service_login') \gexec

-- As docs/bi.md: a login in the analytics group, read-only by default (role settings apply to the
-- role that logs in, not to its groups), JIT off (the metric queries compile longer than they run).
SELECT format('CREATE ROLE %I LOGIN', :'bi_login')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'bi_login') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'bi_login', :'bi_password') \gexec
SELECT format('GRANT taizhang_analytics TO %I', :'bi_login') \gexec
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'bi_login') \gexec
SELECT format('ALTER ROLE %I SET jit = off', :'bi_login') \gexec
SQL
echo "10-taizhang-roles.sh: logins ${TAIZHANG_DB_USER} (taizhang_service) and ${METABASE_DB_USER} (taizhang_analytics) are ready"
