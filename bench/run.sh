#!/usr/bin/env bash
# hub benchmark: what the gateway costs on top of lighttpd + FastCGI, against an instant
# upstream. Everything listens on 127.0.0.1 and lives in a throwaway folder; every process
# started here is stopped again on exit, error or Ctrl-C.
#
#   bench/run.sh [--json FILE] [--keep] [--perf]
#     --json FILE  also write the results as JSON to FILE
#     --keep       keep the temporary folder (logs, configs, wrk output) for inspection
#     --perf       perf-record hub-gateway during the full-path throughput run and print
#                  its hottest symbols (needs linux-perf; installed when missing)
#
# Environment: BENCH_SECONDS (10; per measurement), BENCH_WARMUP (2; seconds per target),
# BENCH_CONNS (32), BENCH_WRK_THREADS (2), BENCH_HELLO_THREADS (4), HUB_THREADS (32),
# HUB_CONFIGURE_FLAGS (passed on to the quickstart build).
#
# Paths measured (same POST body, headers and bearer key on all three):
#   direct   wrk -> nginx "instant mock" /v1/chat/completions (return 200 '<fixed JSON>')
#   hello    wrk -> lighttpd (hub's lighttpd.conf, other port) -> FastCGI bench/hello.c
#   full     wrk -> lighttpd -> hub-gateway -> nginx mock (auth, routing, metering)
# Targets: full-path throughput >= 60 % of hello; full-path p50 at 1 connection at most
# 150 us above direct.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$SRC/bench
JSON_OUT=
KEEP=0
PERF=0
while [ $# -gt 0 ]; do
    case "$1" in
    --json) [ $# -ge 2 ] || { echo "bench: --json needs a FILE" >&2; exit 2; }
        JSON_OUT=$2; shift ;;
    --json=*) JSON_OUT=${1#--json=} ;;
    --keep) KEEP=1 ;;
    --perf) PERF=1 ;;
    -h | --help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/run.sh [--json FILE] [--keep] [--perf]" >&2; exit 2 ;;
    esac
    shift
done
if [ -n "$JSON_OUT" ]; then
    case "$JSON_OUT" in /*) ;; *) JSON_OUT=$PWD/$JSON_OUT ;; esac
fi

SECS=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
HELLO_THREADS=${BENCH_HELLO_THREADS:-4}
export HUB_THREADS=${HUB_THREADS:-32}
export HUB_DEMO=0
TARGET_RATIO=60  # % of hello throughput
TARGET_ADDED=150 # us of added p50 over direct

say() { printf '%s\n' "$*"; }
die() { printf 'bench: FAIL: %s\n' "$*" >&2; exit 1; }

for v in SECS WARMUP CONNS WRK_THREADS HELLO_THREADS HUB_THREADS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "$v must be a positive integer"
done
[ "$(id -u)" = 0 ] || die "run as root (installs packages, starts MariaDB/lighttpd/nginx)"

# ---- packages -------------------------------------------------------------------------
need_pkgs=()
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v nginx >/dev/null 2>&1 || need_pkgs+=(nginx-light)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
if [ "$PERF" = 1 ] && ! command -v perf >/dev/null 2>&1; then need_pkgs+=(linux-perf); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
    say "installing: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null ||
        die "apt-get install ${need_pkgs[*]} failed"
fi

# ---- the throwaway world and its cleanup ----------------------------------------------
T=$(mktemp -d /tmp/hub-bench.XXXXXX)
export HUB_HOME=$T/hub
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export HUB_PORT
HUB_PORT=$(free_port)
NGINX_PORT=$(free_port)
HELLO_PORT=$(free_port)
while [ "$NGINX_PORT" = "$HUB_PORT" ]; do NGINX_PORT=$(free_port); done
while [ "$HELLO_PORT" = "$HUB_PORT" ] || [ "$HELLO_PORT" = "$NGINX_PORT" ]; do HELLO_PORT=$(free_port); done
NGINX_PID=
HELLO_PID=
PERF_PID=
WRK_PID=
QS_STARTED=0

stop_pid() { # pid [name]: TERM, wait up to 5 s, then KILL
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    say "bench: ${2:-$pid} did not stop; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    stop_pid "$WRK_PID" wrk
    stop_pid "$PERF_PID" perf
    [ -f "$T/lighttpd-hello.pid" ] && stop_pid "$(cat "$T/lighttpd-hello.pid" 2>/dev/null)" lighttpd-hello
    stop_pid "$HELLO_PID" hello
    stop_pid "$NGINX_PID" nginx
    if [ "$QS_STARTED" = 1 ]; then
        bash "$SRC/deploy/quickstart.sh" stop >>"$T/quickstart.log" 2>&1 ||
            say "bench: quickstart.sh stop failed (see $T/quickstart.log)"
    fi
    if [ "$KEEP" = 1 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ]; }; then
        say "bench: kept $T"
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "bench: interrupted"; exit 130' INT TERM

# ---- the fixed answer every target sends ----------------------------------------------
BODY='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
REQ='{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}'

# ---- 1. hub via the quickstart --------------------------------------------------------
say "bench: starting hub in $HUB_HOME (lighttpd :$HUB_PORT, $HUB_THREADS gateway threads; build log in $HUB_HOME/log/build.log)"
QS_STARTED=1
t_qs=$(date +%s)
bash "$SRC/deploy/quickstart.sh" >"$T/quickstart.log" 2>&1 ||
    { tail -25 "$T/quickstart.log" >&2; die "deploy/quickstart.sh failed (log: $T/quickstart.log)"; }
say "bench: hub is up ($(($(date +%s) - t_qs)) s)"
CONF=$HUB_HOME/etc/hub.conf
GW_PID=$(cat "$HUB_HOME/run/gateway.pid")
hubctl() { "$HUB_HOME/bin/hubctl" --config "$CONF" "$@"; }
sql() { mariadb --no-defaults -S "$HUB_HOME/run/mysqld.sock" -u root -N -B -e "$1"; }

# ---- 2. nginx instant mock upstream ---------------------------------------------------
mkdir -p "$T/nginx/tmp"
cat >"$T/nginx/nginx.conf" <<NGINX
# bench/run.sh: instant mock upstream
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 75s;
    keepalive_requests 10000000;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /v1/chat/completions {
            default_type application/json;
            return 200 '$BODY';
        }
        location / { return 404; }
    }
}
NGINX
nginx -t -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" >"$T/nginx/check.log" 2>&1 ||
    { cat "$T/nginx/check.log" >&2; die "nginx config check failed"; }
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" </dev/null >>"$T/nginx/out.log" 2>&1 &
NGINX_PID=$!

# ---- 4a. hello FastCGI responder ------------------------------------------------------
gcc -O2 -Wall -Wextra -o "$T/hello" "$BENCH/hello.c" -lfcgi -pthread 2>"$T/hello-build.log" ||
    { cat "$T/hello-build.log" >&2; die "building bench/hello.c failed"; }
BENCH_BODY=$BODY "$T/hello" "$T/hello.sock" "$HELLO_THREADS" </dev/null >>"$T/hello.log" 2>&1 &
HELLO_PID=$!

# ---- 4b. a second lighttpd with hub's configuration, pointed at hello ------------------
# hub's own lighttpd.conf (written by the quickstart) with only the socket, port, pid file
# and error log changed: every server and fastcgi.server setting is the same.
mkdir -p "$T/www"
sed -e "s|^var.hub_socket = .*|var.hub_socket = \"$T/hello.sock\"|" \
    -e "s|^server.port = .*|server.port = $HELLO_PORT|" \
    -e "s|^server.pid-file = .*|server.pid-file = \"$T/lighttpd-hello.pid\"|" \
    -e "s|^server.errorlog = .*|server.errorlog = \"$T/lighttpd-hello-error.log\"|" \
    -e "s|^server.document-root = .*|server.document-root = \"$T/www\"|" \
    "$HUB_HOME/etc/lighttpd.conf" >"$T/lighttpd-hello.conf"
grep -q "^var.hub_socket = \"$T/hello.sock\"" "$T/lighttpd-hello.conf" &&
    grep -q "^server.port = $HELLO_PORT\$" "$T/lighttpd-hello.conf" ||
    die "could not derive the hello lighttpd.conf from $HUB_HOME/etc/lighttpd.conf"
for _ in $(seq 1 50); do [ -S "$T/hello.sock" ] && break; kill -0 "$HELLO_PID" 2>/dev/null || break; sleep 0.1; done
[ -S "$T/hello.sock" ] || { cat "$T/hello.log" >&2; die "hello did not start"; }
lighttpd -tt -f "$T/lighttpd-hello.conf" >"$T/lighttpd-hello-check.log" 2>&1 ||
    { cat "$T/lighttpd-hello-check.log" >&2; die "hello lighttpd config check failed"; }
lighttpd -f "$T/lighttpd-hello.conf" || die "the hello lighttpd did not start"

# ---- 3. register the mock with hub ----------------------------------------------------
{
    echo "bench-upstream-key" | hubctl provider add bench --type openai-compatible \
        --base-url "http://127.0.0.1:$NGINX_PORT/v1" --internal
    hubctl model add bench-model --provider bench --upstream-model bench-model
    hubctl user add bench --team bench-team
} >"$T/hubctl.log" 2>&1 || { cat "$T/hubctl.log" >&2; die "hubctl set-up failed"; }
KEY=$(hubctl key create --name bench-key --user bench 2>>"$T/hubctl.log") ||
    { cat "$T/hubctl.log" >&2; die "hubctl key create failed"; }
KEY=$(printf '%s' "$KEY" | tr -d '[:space:]')
[ -n "$KEY" ] || die "hubctl key create printed no key"
export BENCH_KEY=$KEY BENCH_MODEL=bench-model

URL_DIRECT="http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
URL_HELLO="http://127.0.0.1:$HELLO_PORT/v1/chat/completions"
URL_FULL="http://127.0.0.1:$HUB_PORT/v1/chat/completions"

# ---- sanity: each path answers 200 with the fixed body --------------------------------
check_path() { # name url: a few tries over ~2 s (the gateway may not route a model added
    local out code got # within 250 ms of its last catalogue refresh yet)
    out=$T/sanity-$1.out
    for _ in 1 2 3 4 5 6 7 8; do
        code=$(curl -sS -o "$out" -w '%{http_code}' --max-time 10 "$2" \
            -H 'Content-Type: application/json' -H "Authorization: Bearer $KEY" -d "$REQ") || code=000
        got=$(cat "$out" 2>/dev/null || true)
        [ "$code" = 200 ] && [ "$got" = "$BODY" ] && return 0
        sleep 0.25
    done
    if [ "$code" != 200 ] || [ "$got" != "$BODY" ]; then
        say "bench: $1 ($2) answered HTTP $code:" >&2
        say "  $got" >&2
        [ "$1" = full ] && tail -5 "$HUB_HOME/log/gateway.log" >&2
        die "sanity check of path '$1' failed (expected HTTP 200 and the fixed body)"
    fi
}
for _ in $(seq 1 50); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$NGINX_PORT/" && break
    sleep 0.1
done
check_path direct "$URL_DIRECT"
check_path hello "$URL_HELLO"
check_path full "$URL_FULL"
say "bench: sanity ok: all three paths answer 200 with the fixed body"

# ---- measuring ------------------------------------------------------------------------
FAILS=0
WARNS=0
declare -A R # R[path.field]

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | tail -1; }

# run_wrk OUTFILE wrk-args...: runs wrk with post.lua, checks its BENCH line.
run_wrk() {
    local out=$1
    shift
    local secs=${WRK_SECS:-$SECS}
    # in the background + wait: wrk ignores SIGINT, and bash runs the INT trap (cleanup)
    # only once a foreground command has finished; wait returns at once
    timeout -k 5 $((secs + 30)) wrk "$@" --timeout 5s -s "$BENCH/post.lua" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || { cat "$out" >&2; die "wrk $* failed"; }
    WRK_PID=
    grep -q '^BENCH ' "$out" || { cat "$out" >&2; die "wrk printed no result line"; }
}

# check_wrk PATH LABEL OUTFILE: non-2xx responses fail the run, socket errors warn.
check_wrk() {
    local n2 ce re we te
    n2=$(field "$3" non2xx)
    ce=$(field "$3" connect_err); re=$(field "$3" read_err)
    we=$(field "$3" write_err); te=$(field "$3" timeout_err)
    if [ "$n2" != 0 ] || grep -q 'Non-2xx or 3xx responses' "$3"; then
        say "  FAIL: $1 $2: $n2 non-2xx responses" >&2
        FAILS=$((FAILS + 1))
    fi
    if [ $((ce + re + we + te)) -ne 0 ]; then
        say "  WARNING: $1 $2: socket errors: connect $ce, read $re, write $we, timeout $te" >&2
        WARNS=$((WARNS + 1))
    fi
}

cpu_ticks() { # pid...: utime+stime of the processes (clock ticks, all their threads)
    local pid sum=0 v
    for pid in "$@"; do
        v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
HZ=$(getconf CLK_TCK)
# the processes whose CPU time is reported per request (name:pid[,pid])
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ',' | sed 's/,$//')
CPU_PROCS=(
    "hub-gateway:$GW_PID"
    "lighttpd(hub):$(cat "$HUB_HOME/run/lighttpd.pid")"
    "mariadbd:$(cat "$HUB_HOME/run/mysqld.pid")"
    "nginx:$NGINX_PID${NGINX_WORKERS:+,$NGINX_WORKERS}"
    "lighttpd(hello):$(cat "$T/lighttpd-hello.pid")"
    "hello:$HELLO_PID"
)
cpu_snapshot() { # prints one tick count per CPU_PROCS entry
    local e
    for e in "${CPU_PROCS[@]}"; do
        # shellcheck disable=SC2046
        cpu_ticks $(echo "${e#*:}" | tr ',' ' ')
    done | tr '\n' ' '
}
cpu_report() { # before after requests: "name X us, ..." for processes that used CPU
    local -a a b
    local i out='' us
    read -r -a a <<<"$1"
    read -r -a b <<<"$2"
    for i in "${!CPU_PROCS[@]}"; do
        [ "${b[$i]}" -gt "${a[$i]}" ] || continue
        us=$(awk -v d=$((b[i] - a[i])) -v n="$3" -v hz="$HZ" 'BEGIN { printf "%.0f", (n > 0 ? d * 1e6 / hz / n : 0) }')
        [ "$us" -ge 1 ] && out+="${out:+, }${CPU_PROCS[$i]%%:*} $us"
    done
    printf '%s' "$out"
}

ledger_count() { sql "SELECT COUNT(*) FROM hub.usage_log" 2>/dev/null || echo -1; }
# waits (≥ 2 s, at most 15 s) until the ledger row count stops changing; prints it
ledger_settled() {
    local last now stable=0
    sleep 2
    last=$(ledger_count)
    for _ in $(seq 1 26); do
        sleep 0.5
        now=$(ledger_count)
        if [ "$now" = "$last" ]; then
            stable=$((stable + 1))
            [ $stable -ge 2 ] && break
        else
            stable=0
        fi
        last=$now
    done
    printf '%s' "$last"
}

measure() { # path url
    local p=$1 url=$2 tput lat t0 t1
    say "bench: $p: warm-up ${WARMUP} s ..."
    WRK_SECS=$WARMUP run_wrk "$T/wrk-$p-warmup.out" -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" "$url"
    check_wrk "$p" warm-up "$T/wrk-$p-warmup.out"
    if [ "$p" = full ]; then
        R[full.ledger_before]=$(ledger_settled)
    fi
    tput=$T/wrk-$p-c$CONNS.out
    lat=$T/wrk-$p-c1.out
    say "bench: $p: throughput, $CONNS connections, ${SECS} s ..."
    t0=$(cpu_snapshot)
    if [ "$p" = full ] && [ "$PERF" = 1 ]; then
        # DWARF call graphs for 5 s (bounded data) to show inclusive cost per function
        perf record -F 299 --call-graph dwarf,16384 -p "$GW_PID" -o "$T/perf.data" -- \
            sleep "$((SECS < 5 ? SECS : 5))" >"$T/perf-record.log" 2>&1 &
        PERF_PID=$!
    fi
    run_wrk "$tput" -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" "$url"
    t1=$(cpu_snapshot)
    if [ -n "$PERF_PID" ]; then wait "$PERF_PID" || true; PERF_PID=; fi
    check_wrk "$p" "c$CONNS" "$tput"
    say "bench: $p: latency, 1 connection, ${SECS} s ..."
    run_wrk "$lat" -t1 -c1 -d"${SECS}s" --latency "$url"
    check_wrk "$p" c1 "$lat"
    R[$p.rps]=$(field "$tput" rps)
    R[$p.req32]=$(field "$tput" requests)
    R[$p.p50_32]=$(field "$tput" p50_us)
    R[$p.p99_32]=$(field "$tput" p99_us)
    R[$p.p50]=$(field "$lat" p50_us)
    R[$p.p99]=$(field "$lat" p99_us)
    R[$p.req1]=$(field "$lat" requests)
    R[$p.rps1]=$(field "$lat" rps)
    # CPU time per request of each server process during the throughput run
    R[$p.cpu]=$(cpu_report "$t0" "$t1" "${R[$p.req32]}")
    read -r -a _a <<<"$t0"
    read -r -a _b <<<"$t1"
    R[$p.gw_cpu_us]=$(awk -v d=$((_b[0] - _a[0])) -v n="${R[$p.req32]}" -v hz="$HZ" \
        'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')
    say "  $p: $(printf '%.0f' "${R[$p.rps]}") req/s @$CONNS (p50 ${R[$p.p50_32]} us, p99 ${R[$p.p99_32]} us); @1: p50 ${R[$p.p50]} us, p99 ${R[$p.p99]} us, $(printf '%.0f' "${R[$p.rps1]}") req/s"
    say "    CPU us per request @$CONNS: ${R[$p.cpu]:-?}"
}

measure direct "$URL_DIRECT"
measure hello "$URL_HELLO"
measure full "$URL_FULL"
R[full.ledger_after]=$(ledger_settled)

# ---- results --------------------------------------------------------------------------
fmt_us() { awk -v u="$1" 'BEGIN { if (u >= 10000) printf "%.2f ms", u / 1000; else printf "%d us", u }'; }
ratio=$(awk -v f="${R[full.rps]}" -v h="${R[hello.rps]}" 'BEGIN { printf "%.1f", (h > 0 ? 100 * f / h : 0) }')
added=$((${R[full.p50]} - ${R[direct.p50]}))
added_hello=$((${R[hello.p50]} - ${R[direct.p50]}))
v_ratio=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? "PASS" : "MISS" }')
v_added=$([ "$added" -le "$TARGET_ADDED" ] && echo PASS || echo MISS)

say ""
say "hub benchmark  ($(nproc) cores, $HUB_THREADS gateway threads, hello $HELLO_THREADS threads, ${SECS} s per run, wrk -t$WRK_THREADS)"
printf '%-34s %12s %11s %11s\n' "path" "req/s @$CONNS" "p50 @1" "p99 @1"
printf '%-34s %12s %11s %11s\n' "----" "--------" "------" "------"
for p in direct hello full; do
    case $p in
    direct) name="direct (nginx mock)" ;;
    hello) name="lighttpd + hello (FastCGI)" ;;
    full) name="lighttpd + hub-gateway + nginx" ;;
    esac
    printf '%-34s %12.0f %11s %11s\n' "$name" "${R[$p.rps]}" "$(fmt_us "${R[$p.p50]}")" "$(fmt_us "${R[$p.p99]}")"
done
say ""
printf 'full-path throughput vs hello:   %6s %%   (target >= %d %%)    %s\n' "$ratio" "$TARGET_RATIO" "$v_ratio"
printf 'added p50 of full path vs direct: %5d us  (target <= %d us)   %s\n' "$added" "$TARGET_ADDED" "$v_added"
printf '  (lighttpd + FastCGI alone adds %d us p50 over direct, so hub-gateway and its upstream hop add %d us\n' \
    "$added_hello" $((${R[full.p50]} - ${R[hello.p50]}))
printf '   over hello; hub-gateway CPU: %s us per request @%d)\n' "${R[full.gw_cpu_us]}" "$CONNS"

# ---- 7. the usage ledger: one row per gateway request ---------------------------------
wrk_full=$((${R[full.req32]} + ${R[full.req1]}))
rows=-1
if [ "${R[full.ledger_before]}" -ge 0 ] && [ "${R[full.ledger_after]}" -ge 0 ]; then
    rows=$((${R[full.ledger_after]} - ${R[full.ledger_before]}))
fi
diff=$((rows - wrk_full))
# wrk stops with up to one request in flight per connection: the gateway still serves and
# meters those, so the ledger may be ahead by at most CONNS + 1.
if [ "$rows" -lt 0 ]; then
    v_ledger="FAIL (could not query hub.usage_log)"
    FAILS=$((FAILS + 1))
elif [ "$diff" -ge 0 ] && [ "$diff" -le $((CONNS + 1)) ]; then
    v_ledger="OK"
else
    v_ledger="MISMATCH"
    FAILS=$((FAILS + 1))
fi
say ""
printf 'usage ledger: %d rows written during the measured full-path runs; wrk counted %d responses (diff %+d, in-flight at stop <= %d): %s\n' \
    "$rows" "$wrk_full" "$diff" "$((CONNS + 1))" "$v_ledger"
outcomes=$(sql "SELECT CONCAT(outcome, '=', COUNT(*)) FROM hub.usage_log GROUP BY outcome" 2>/dev/null | tr '\n' ' ' || true)
spool=$(curl -s --max-time 5 "http://127.0.0.1:$HUB_PORT/healthz" || true)
say "  ledger outcomes (whole run incl. warm-up): ${outcomes:-?}  healthz: ${spool:-?}"
errs=$(grep -ciE ' (warn|error)' "$HUB_HOME/log/gateway.log" 2>/dev/null || true)
[ "${errs:-0}" -gt 0 ] && say "  gateway.log has $errs warning/error lines, e.g.: $(grep -iE ' (warn|error)' "$HUB_HOME/log/gateway.log" | tail -1)"

if [ "$PERF" = 1 ] && [ -s "$T/perf.data" ]; then
    say ""
    say "hub-gateway hot spots during the full-path throughput run (perf: inclusive %, self %):"
    perf report -i "$T/perf.data" --stdio --children --sort sym -g none 2>/dev/null |
        grep -E '^ +[0-9].*\[\.\]' | grep -vE '\] (0x[0-9a-f]+|clone3|start_thread)$' | head -30 || true
    say "self time (kernel included):"
    perf report -i "$T/perf.data" --stdio --no-children --sort dso,sym -g none 2>/dev/null |
        grep -E '^ +[0-9]' | head -15 || true
fi

if [ -n "$JSON_OUT" ]; then
    {
        printf '{\n  "cores": %d, "gateway_threads": %d, "hello_threads": %d, "seconds": %d, "connections": %d,\n' \
            "$(nproc)" "$HUB_THREADS" "$HELLO_THREADS" "$SECS" "$CONNS"
        printf '  "paths": {\n'
        sep=
        for p in direct hello full; do
            printf '%s    "%s": {"rps": %s, "requests": %s, "p50_us_c%d": %s, "p99_us_c%d": %s, "p50_us_c1": %s, "p99_us_c1": %s, "requests_c1": %s, "cpu_us_per_request": "%s"}' \
                "$sep" "$p" "${R[$p.rps]}" "${R[$p.req32]}" "$CONNS" "${R[$p.p50_32]}" "$CONNS" "${R[$p.p99_32]}" \
                "${R[$p.p50]}" "${R[$p.p99]}" "${R[$p.req1]}" "${R[$p.cpu]}"
            sep=$',\n'
        done
        printf '\n  },\n'
        printf '  "full_vs_hello_pct": %s, "target_pct": %d, "throughput_verdict": "%s",\n' "$ratio" "$TARGET_RATIO" "$v_ratio"
        printf '  "added_p50_us": %d, "target_added_p50_us": %d, "latency_verdict": "%s",\n' "$added" "$TARGET_ADDED" "$v_added"
        printf '  "gateway_cpu_us_per_request": %s,\n' "${R[full.gw_cpu_us]}"
        printf '  "ledger_rows": %d, "wrk_full_requests": %d, "ledger_verdict": "%s"\n}\n' "$rows" "$wrk_full" "${v_ledger%% *}"
    } >"$JSON_OUT"
    say "bench: results written to $JSON_OUT"
fi

[ "$WARNS" -gt 0 ] && say "bench: $WARNS warning(s) above"
[ "$FAILS" -eq 0 ] || die "$FAILS check(s) failed (see above)"
say "bench: done"
