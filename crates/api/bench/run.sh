#!/usr/bin/env bash
# API benchmark: the dashboard query and a 50-project page under 50 concurrent clients (wrk), beside
# the same data read with plain SQL (pgbench) in the same run, and the server's memory.
#
#   bash crates/api/bench/run.sh            # needs wrk and pgbench (Debian: wrk, postgresql-client)
#
# Builds the release binary, creates database tz_bench_api (dropped at the end), seeds the demo
# county plus PROJECTS extra projects through the API, then measures for SECONDS per case.
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECONDS_PER_CASE=${SECONDS_PER_CASE:-20}
CLIENTS=${CLIENTS:-50}
PROJECTS=${PROJECTS:-300}
PORT=${PORT:-18080}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=tz_bench_api
YEAR=$(TZ=Asia/Shanghai date +%Y)
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "pgbench is missing: apt-get install -y postgresql-client" >&2; exit 1; }

cargo build --release -p taizhang -q
BIN=target/release/taizhang
psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="$PGURL/$DB"
$BIN demo >/dev/null
# Tokens: a viewer for the measured reads, an editor (below, once the unit is known) for the
# writes. The rate limits are lifted: the benchmark measures the server, not its limiter.
READER=$($BIN tokens create --name bench-reader --role viewer --expires-in 1d 2>/dev/null)
export READER
$BIN serve --listen 127.0.0.1:$PORT --db-pool 24 --rate-limit 1000000 --rate-burst 1000000 >/tmp/tz-bench-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

gql() { curl -sf -X POST "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' -H "authorization: Bearer $READER" -d "$1"; }
UNIT=$(gql '{"query":"{ units { unitId } }"}' | sed 's/.*"unitId":"\([^"]*\)".*/\1/')
WRITER=$($BIN tokens create --name bench-writer --role editor --unit "$UNIT" --expires-in 1d 2>/dev/null)
seq 1 "$PROJECTS" | xargs -P 4 -I{} curl -sf -o /dev/null -X POST "http://127.0.0.1:$PORT/graphql" \
  -H 'content-type: application/json' -H "authorization: Bearer $WRITER" -d "{\"query\":\"mutation { registerProject(input: {idempotencyKey: \\\"bench-{}\\\", name: \\\"基准项目{}\\\", kind: GOVERNMENT, investorName: \\\"县城投\\\", investorType: OTHER, industryChain: \\\"新能源\\\", industrial: true, intendedInvestment: {}0000000, responsibleUnit: \\\"$UNIT\\\", leadOfficial: \\\"王\\\", date: \\\"$YEAR-01-15\\\"}) { result { version } } }\"}"
COUNT=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM reporting.projects")
EVENTS=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM eventstore.events")

DASHBOARD_QUERY="{ dashboard(year: $YEAR) { year asOf closedMonths monthProgressPct dayProgressPct projectCount abandonedCount ytdInvestment ytdFunds priorYtdInvestment yoyInvestmentPct priorYtdFunds yoyFundsPct plannedInvestment planCompletionPct startDueCount startStartedCount startRatePct performanceDueCount performanceStartedCount performanceRatePct contractedCount cumulativeFunds contractInvestment fundsInPlaceRatePct signedCount signedInvestment signedBigCount signedIndustrial10mCount signedByInvestorType { investorType count investment } sizeClasses { sizeClass count } redCount yellowCount greenCount expropriationTargetArea expropriationArea expropriationAreaPct expropriationTargetHouseholds expropriationHouseholdsSigned expropriationHouseholdsPct supervisionOpenedCount supervisionClosedCount supervisionCloseRatePct supervisionOverdueCount supervisionDueSoonCount } }"
PAGE_QUERY="{ projects(first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { id projectId name kind investorName investorType industryChain unitId stage status sizeClass intendedInvestment contractInvestment cumulativeInvestment ytdInvestment light plannedStartPeriod startDate version updatedAt } } }"
json() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }

SQL_DASHBOARD="SELECT * FROM reporting.dashboard_as_of($YEAR, (now() AT TIME ZONE 'Asia/Shanghai')::date, 'infinity', NULL);"
SQL_PAGE="SELECT count(*) FROM reporting.projects; SELECT * FROM reporting.projects p ORDER BY registered_date, project_id LIMIT 50;"

rss() { awk '/VmRSS|VmHWM/ {printf "%s %d MiB  ", $1, $2/1024}' /proc/$SERVER/status; }
echo "data: $COUNT projects, $EVENTS events; $CLIENTS clients, ${SECONDS_PER_CASE}s per case; server memory before: $(rss)"
for case in dashboard page; do
  if [ $case = dashboard ]; then Q=$DASHBOARD_QUERY; S=$SQL_DASHBOARD; else Q=$PAGE_QUERY; S=$SQL_PAGE; fi
  BODY=$(json "$Q") wrk -t2 -c"$CLIENTS" -d"${SECONDS_PER_CASE}s" --latency -s crates/api/bench/post.lua \
    "http://127.0.0.1:$PORT/graphql" | grep RESULT | sed "s/^RESULT/API $case:/"
  echo "$S" >/tmp/tz-bench.sql
  rm -f /tmp/tz-pgbench-log*
  # JIT off for plain SQL too, as on the server's own connections (docs/ARCHITECTURE.md).
  (cd /tmp && PGOPTIONS='-c jit=off' pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_PER_CASE" -f /tmp/tz-bench.sql \
    -l --log-prefix=tz-pgbench-log "$DATABASE_URL" >/tmp/tz-pgbench.out 2>&1)
  TPS=$(grep -o 'tps = [0-9.]*' /tmp/tz-pgbench.out | head -1 | cut -d' ' -f3)
  cat /tmp/tz-pgbench-log* | awk '{print $3}' | sort -n >/tmp/tz-lat
  N=$(wc -l </tmp/tz-lat)
  P50=$(awk -v n="$N" 'NR==int(n*0.50)+1 {printf "%.2f", $1/1000}' /tmp/tz-lat)
  P99=$(awk -v n="$N" 'NR==int(n*0.99)+1 {printf "%.2f", $1/1000}' /tmp/tz-lat)
  echo "SQL $case: rps=${TPS%.*} p50_ms=$P50 p99_ms=$P99 requests=$N"
done
echo "server memory after: $(rss)"
