#!/bin/bash
# Time and peak memory of the F24 fragment bomb (refused) and of a dashboard query, on a debug
# `taizhang serve --demo` (SQLite), measured from outside the process.
set -u
BIN=/work/wt/harden/target/debug/taizhang
DIR=$(mktemp -d /tmp/tz-bench.XXXX)
PORT=18931
TAIZHANG_LISTEN=127.0.0.1:$PORT $BIN --data-dir $DIR serve --demo >$DIR/out.log 2>&1 &
PID=$!
for i in $(seq 1 240); do curl -fs http://127.0.0.1:$PORT/healthz >/dev/null && grep -q "tz_" $DIR/out.log && break; sleep 1; done
TOKEN=$(grep -o 'tz_[A-Za-z0-9_-]\{43\}' $DIR/out.log | head -1)
hwm() { grep VmHWM /proc/$PID/status | awk '{print $2}'; }
rss() { grep VmRSS /proc/$PID/status | awk '{print $2}'; }
BOMB='{ ...F24 } fragment F0 on Query { __typename }'
for i in $(seq 1 24); do BOMB="$BOMB fragment F$i on Query { ...F$((i-1)) ...F$((i-1)) }"; done
DASH='{ dashboard(year: 2026) { year scope asOf closedMonths monthProgressPct projectCount ytdInvestment ytdFunds priorYtdInvestment yoyInvestmentPct plannedInvestment planCompletionPct startDueCount startStartedCount startRatePct signedCount signedInvestment redCount yellowCount greenCount supervisionOpenedCount supervisionClosedCount supervisionCloseRatePct } }'
q() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }
echo "bomb bytes: ${#BOMB}"
echo "after start: VmRSS ${RSS:-$(rss)} kB, VmHWM $(hwm) kB"
for name in dashboard bomb bomb bomb dashboard; do
  [ $name = bomb ] && Q=$BOMB || Q=$DASH
  START=$(date +%s.%N)
  R=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$(q "$Q")" http://127.0.0.1:$PORT/graphql)
  END=$(date +%s.%N)
  printf '%-9s %7.1f ms  VmRSS %s kB  VmHWM %s kB  %s\n' $name $(echo "($END-$START)*1000" | bc) $(rss) $(hwm) "$(echo "$R" | head -c 160)"
done
# Two bombs at once and /healthz meanwhile.
( curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$(q "$BOMB")" http://127.0.0.1:$PORT/graphql & curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$(q "$BOMB")" http://127.0.0.1:$PORT/graphql & wait ) &
curl -s -o /dev/null -w 'healthz during two bombs: %{time_total} s\n' http://127.0.0.1:$PORT/healthz
wait
echo "end: VmHWM $(hwm) kB"
kill $PID; wait $PID 2>/dev/null
rm -rf $DIR
