#!/usr/bin/env bash
# bench/pages.sh — the analytics pages at scale. Fills the usage ledger of a running quickstart
# hub to ROWS rows (bench/gen_ledger.sh; skipped when they are there), catches the rollups up
# (`hubctl rollup`, timed), then fetches every analytics page with curl as an admin and as a
# member — one warm-up, then RUNS timed requests each — and prints the milliseconds per page
# (median and maximum), each request a full CGI run: process start, session check, queries, HTML.
#
#   HUB_HOME=/path/to/hub bench/pages.sh [ROWS]      default ROWS=10000000
#
# Environment: HUB_HOME (default ./var of the source tree; the hub must be running:
# deploy/quickstart.sh), RUNS (default 5), LIMIT_MS (default 300: pages slower than this are
# marked), BENCH_BUFFER_POOL (default 4G: SET GLOBAL innodb_buffer_pool_size on the
# quickstart's MariaDB for the bulk load; "" leaves it). Exits non-zero when a page failed or
# was slower than LIMIT_MS at the median.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export HUB_HOME=${HUB_HOME:-$SRC/var}
ROWS=${1:-10000000}
RUNS=${RUNS:-5}
LIMIT_MS=${LIMIT_MS:-300}
POOL=${BENCH_BUFFER_POOL-4G}
CONF=$HUB_HOME/etc/hub.conf
DB=(mariadb --no-defaults -S "$HUB_HOME/run/mysqld.sock" -u root hub)
HUBCTL=("$HUB_HOME/bin/hubctl" --config "$CONF")
PORT=$(sed -n 's/^server.port *= *//p' "$HUB_HOME/etc/lighttpd.conf" 2>/dev/null || true)
BASE="http://127.0.0.1:$PORT/admin"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ -n "$PORT" ] && curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 ||
    { echo "pages.sh: no hub running in $HUB_HOME (deploy/quickstart.sh)" >&2; exit 1; }

if [ -n "$POOL" ]; then
    "${DB[@]}" -e "SET GLOBAL innodb_buffer_pool_size = $(numfmt --from=iec "$POOL")" ||
        echo "pages.sh: could not resize the buffer pool; going on" >&2
fi

have=$("${DB[@]}" -N -e "SELECT COUNT(*) FROM usage_log WHERE request_id LIKE 'bench000-%'")
if [ "$have" -lt "$ROWS" ]; then
    bash "$SRC/bench/gen_ledger.sh" "$ROWS" 90
fi
echo "== rollup catch-up (the gateway rolls up while rows arrive; hubctl rollup does the rest)"
t0=$(date +%s%N)
"${HUBCTL[@]}" rollup --batch 20000
echo "   $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# sign-ins: the local admin, and a member (the heaviest bench user) with a fresh password
login() { # user password jar
    local csrf
    csrf=$(curl -fsS -c "$3" -b "$3" "$BASE/login.cgi" | grep -o 'name="csrf" value="[0-9a-f]*"' |
        head -1 | sed 's/.*value="//; s/"$//')
    curl -fsS -o /dev/null -c "$3" -b "$3" --data-urlencode "user=$1" --data-urlencode "password=$2" \
        --data "csrf=$csrf&action=login" "$BASE/login.cgi"
    grep -q hub_session "$3" || { echo "pages.sh: sign-in of $1 failed" >&2; exit 1; }
}
admin_pw=$(sed -n 's/^password: //p; t; p' "$HUB_HOME/etc/admin.password" | head -1)
member_pw="Bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$member_pw" | "${HUBCTL[@]}" user passwd bench-user-007 >/dev/null
"${HUBCTL[@]}" user role bench-user-007 member >/dev/null
login admin "$admin_pw" "$TMP/admin.jar"
login bench-user-007 "$member_pw" "$TMP/member.jar"
grep -q hub_session "$TMP/admin.jar" || { echo "pages.sh: no session cookie" >&2; exit 1; }

month=$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m)
team=$("${DB[@]}" -N -e "SELECT id FROM teams WHERE name = 'bench-team-08'")
user=$("${DB[@]}" -N -e "SELECT id FROM users WHERE name = 'bench-user-007'")
PAGES=(
    "admin overview today|period=today"
    "admin overview 7 days|period=7d"
    "admin overview 30 days|period=30d"
    "admin overview month|period=month"
    "admin overview 30 days New York|period=30d&tz=America/New_York"
    "admin overview 30 days by model|period=30d&stack=model"
    "admin by team 30 days|view=breakdown&by=team&period=30d"
    "admin by user 30 days|view=breakdown&by=user&period=30d"
    "admin by key 30 days|view=breakdown&by=key&period=30d"
    "admin by app 30 days|view=breakdown&by=app&period=30d"
    "admin by model 30 days|view=breakdown&by=model&period=30d"
    "admin by provider 30 days|view=breakdown&by=provider&period=30d"
    "admin by day 30 days|view=breakdown&by=day&period=30d"
    "admin by user 90 days Berlin|view=breakdown&by=user&period=custom&from=$(date -u -d '-89 days' +%F)&to=$(date -u +%F)&tz=Europe/Berlin"
    "admin team -> users 30 days|view=breakdown&by=user&team=$team&period=30d"
    "admin user -> calls|view=calls&user=$user&period=30d"
    "admin CSV by user 30 days|view=breakdown&by=user&period=30d&format=csv"
    "admin JSON by key 30 days|view=breakdown&by=key&period=30d&format=json"
    "admin call log 30 days|view=calls&period=30d"
    "admin call log, timeouts|view=calls&period=30d&outcome=timeout"
    "admin chargeback last month|view=chargeback&month=$month"
    "admin chargeback per model|view=chargeback&month=$month&detail=1"
    "admin chargeback CSV|view=chargeback&month=$month&format=csv"
    "member overview 30 days|period=30d"
    "member by model 30 days|view=breakdown&by=model&period=30d"
    "member by key 30 days|view=breakdown&by=key&period=30d"
    "member call log|view=calls&period=30d"
)

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

echo
echo "== analytics pages: $("${DB[@]}" -N -e "SELECT COUNT(*) FROM usage_log") ledger rows, $RUNS runs each (ms)"
printf '%-36s %8s %8s  %s\n' "page" "median" "max" ""
fail=0
for entry in "${PAGES[@]}"; do
    name=${entry%%|*}
    query=${entry#*|}
    jar=$TMP/admin.jar
    [ "${name%% *}" = member ] && jar=$TMP/member.jar
    curl -s -o /dev/null -b "$jar" "$BASE/analytics.cgi?$query" # warm-up
    : >"$TMP/times"
    status=200
    for _ in $(seq 1 "$RUNS"); do
        out=$(curl -s -o /dev/null -b "$jar" -w '%{http_code} %{time_total}' "$BASE/analytics.cgi?$query")
        [ "${out%% *}" = 200 ] || status=${out%% *}
        awk -v t="${out#* }" 'BEGIN {printf "%d\n", t * 1000 + 0.5}' >>"$TMP/times"
    done
    med=$(median <"$TMP/times")
    max=$(sort -n "$TMP/times" | tail -1)
    note=""
    [ "$status" = 200 ] || { note="HTTP $status"; fail=1; }
    [ "$med" -le "$LIMIT_MS" ] || { note="$note over ${LIMIT_MS} ms"; fail=1; }
    printf '%-36s %8d %8d  %s\n' "$name" "$med" "$max" "$note"
done
echo
echo "rollup tables (rows):"
"${DB[@]}" -N -e "SELECT table_name, table_rows FROM information_schema.tables
  WHERE table_schema = DATABASE() AND table_name LIKE 'usage\\_%' ORDER BY table_name" |
    awk '{printf "  %-26s ~%s\n", $1, $2}'
echo "machine: $(nproc) cores, load average$(uptime | sed 's/.*load average//')"
exit $fail
