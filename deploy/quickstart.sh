#!/usr/bin/env bash
# hub quickstart: installs what is missing, builds, and starts a complete local hub
# (MariaDB on a unix socket, hub-gateway, lighttpd) under $HUB_HOME.
#
#   deploy/quickstart.sh          set up (or reuse) and start everything, print the URL and key
#   deploy/quickstart.sh stop     stop what it started
#   deploy/quickstart.sh status   show what runs
#
# Environment: HUB_HOME (default ./var of the source tree), HUB_PORT (default 8080),
# HUB_THREADS (default 32), HUB_CONFIGURE_FLAGS (e.g. --enable-sanitizers),
# HUB_DEMO=0 (no demo echo provider), OPENAI_API_KEY (adds a real "openai" provider),
# HUB_EXTRA_CONF (lines appended to a newly written hub.conf).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HUB_HOME=${HUB_HOME:-$SRC/var}
mkdir -p "$HUB_HOME"
HUB_HOME=$(cd "$HUB_HOME" && pwd)
HUB_PORT=${HUB_PORT:-8080}
HUB_THREADS=${HUB_THREADS:-32}
HUB_DEMO=${HUB_DEMO:-1}
RUN=$HUB_HOME/run
LOG=$HUB_HOME/log
ETC=$HUB_HOME/etc
CONF=$ETC/hub.conf
SOCK=$RUN/mysqld.sock
GW_SOCK=$RUN/gateway.sock
ME=$(id -un)

say() { printf '%s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

stop_pid() { # name pidfile
    local pf=$2 pid
    [ -f "$pf" ] || return 0
    pid=$(cat "$pf" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            say "quickstart: $1 did not stop in 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pf"
}

cmd_stop() {
    stop_pid lighttpd "$RUN/lighttpd.pid"
    stop_pid hub-gateway "$RUN/gateway.pid"
    stop_pid demo-provider "$RUN/demo-provider.pid"
    stop_pid mariadbd "$RUN/mysqld.pid"
    say "hub stopped ($HUB_HOME)"
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

cmd_status() {
    for p in mysqld gateway lighttpd demo-provider; do
        if running "$RUN/$p.pid"; then say "$p: running (pid $(cat "$RUN/$p.pid"))"; else say "$p: stopped"; fi
    done
}

install_packages() {
    local need=(build-essential autoconf automake pkg-config libfcgi-dev libcurl4-openssl-dev
        libjson-c-dev libmariadb-dev libssl-dev liboauth2-dev mariadb-server mariadb-client
        lighttpd python3 curl)
    local missing=()
    for p in "${need[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOG/apt.log" 2>&1 ||
        { tail -20 "$LOG/apt.log" >&2; die "apt-get install failed"; }
}

build() {
    local b=$HUB_HOME/build flags=${HUB_CONFIGURE_FLAGS:-}
    [ -f "$SRC/config.status" ] && die "the source tree is configured in place; run 'make distclean' in $SRC first"
    if [ ! -x "$SRC/configure" ]; then
        (cd "$SRC" && ./autogen.sh) >"$LOG/build.log" 2>&1 || { tail -20 "$LOG/build.log" >&2; die "autogen failed"; }
    fi
    mkdir -p "$b"
    if [ ! -f "$b/config.status" ] || [ "$(cat "$b/.hub-flags" 2>/dev/null)" != "$flags" ]; then
        # shellcheck disable=SC2086
        (cd "$b" && "$SRC/configure" --prefix="$HUB_HOME" $flags) >>"$LOG/build.log" 2>&1 ||
            { tail -30 "$LOG/build.log" >&2; die "configure failed (see $LOG/build.log)"; }
        printf '%s' "$flags" >"$b/.hub-flags"
    fi
    (cd "$b" && make -j"$(nproc)" && make install) >>"$LOG/build.log" 2>&1 ||
        { grep -E 'error|Error' "$LOG/build.log" | tail -20 >&2; die "build failed (see $LOG/build.log)"; }
}

start_mariadb() {
    local data=$HUB_HOME/mysql
    local userarg=()
    [ "$(id -u)" = 0 ] && userarg=(--user=root)
    if [ ! -d "$data/mysql" ]; then
        mkdir -p "$data"
        mariadb-install-db --no-defaults --datadir="$data" "${userarg[@]}" \
            --auth-root-authentication-method=socket --skip-test-db >"$LOG/mariadb-install.log" 2>&1 ||
            { tail -20 "$LOG/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    fi
    if ! running "$RUN/mysqld.pid"; then
        setsid mariadbd --no-defaults --datadir="$data" --socket="$SOCK" --pid-file="$RUN/mysqld.pid" \
            --skip-networking --log-error="$LOG/mariadb.log" "${userarg[@]}" \
            --innodb-buffer-pool-size=256M --max-connections=500 </dev/null >/dev/null 2>&1 &
    fi
    for _ in $(seq 1 300); do
        mariadb-admin --no-defaults -S "$SOCK" -u "$ME" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    tail -20 "$LOG/mariadb.log" >&2
    die "MariaDB did not start"
}

write_config() {
    [ -f "$CONF" ] && return 0
    local pw
    pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
    umask 077
    cat >"$CONF" <<CONF
# hub configuration (written by deploy/quickstart.sh; see README "Configuration")
db_socket = $SOCK
db_user = hub
db_password = $pw
db_name = hub
master_key_file = $ETC/master.key
spool_dir = $HUB_HOME/spool
listen = $GW_SOCK
threads = $HUB_THREADS
max_body_bytes = 8388608
json_max_depth = 64
key_cache_ms = 500
db_grace_seconds = 60
log_level = info
# admin pages: a local admin account signs in; plain HTTP on localhost, so no Secure cookie
admin_auth = local
cookie_secure = 0
CONF
    [ -n "${HUB_EXTRA_CONF:-}" ] && printf '%s\n' "$HUB_EXTRA_CONF" >>"$CONF"
    umask 022
}

conf_get() { sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$CONF" | head -1; }

setup_database() {
    local pw
    pw=$(conf_get db_password)
    mariadb --no-defaults -S "$SOCK" -u "$ME" <<SQL
CREATE DATABASE IF NOT EXISTS hub CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'hub'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON hub.* TO 'hub'@'localhost';
SQL
    "$HUB_HOME/bin/hubctl" --config "$CONF" init-keys >/dev/null
    "$HUB_HOME/bin/hubctl" --config "$CONF" migrate --dir "$HUB_HOME/share/hub/schema"
}

start_gateway() {
    if running "$RUN/gateway.pid"; then
        return 0
    fi
    rm -f "$GW_SOCK"
    setsid "$HUB_HOME/sbin/hub-gateway" --config "$CONF" </dev/null >>"$LOG/gateway.log" 2>&1 &
    echo $! >"$RUN/gateway.pid"
    for _ in $(seq 1 100); do
        [ -S "$GW_SOCK" ] && return 0
        running "$RUN/gateway.pid" || break
        sleep 0.1
    done
    tail -20 "$LOG/gateway.log" >&2
    die "hub-gateway did not start"
}

start_lighttpd() {
    mkdir -p "$HUB_HOME/www"
    cat >"$ETC/lighttpd.conf" <<LCONF
# written by deploy/quickstart.sh
var.hub_socket = "$GW_SOCK"
var.hub_admin_dir = "$HUB_HOME/libexec/hub/admin"
server.document-root = "$HUB_HOME/www"
server.bind = "127.0.0.1"
server.port = $HUB_PORT
server.pid-file = "$RUN/lighttpd.pid"
server.errorlog = "$LOG/lighttpd-error.log"
server.breakagelog = "$LOG/admin-pages.log"
include "$HUB_HOME/share/hub/lighttpd/hub-site.conf"
LCONF
    if running "$RUN/lighttpd.pid"; then
        return 0
    fi
    lighttpd -tt -f "$ETC/lighttpd.conf" >"$LOG/lighttpd-check.log" 2>&1 ||
        { cat "$LOG/lighttpd-check.log" >&2; die "lighttpd config check failed"; }
    lighttpd -f "$ETC/lighttpd.conf" || die "lighttpd did not start (port $HUB_PORT in use?)"
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$HUB_PORT/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "no answer on http://127.0.0.1:$HUB_PORT/healthz"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

hubctl() { "$HUB_HOME/bin/hubctl" --config "$CONF" "$@"; }

demo() {
    local port
    if [ "$HUB_DEMO" = 1 ]; then
        [ -f "$ETC/demo.port" ] || free_port >"$ETC/demo.port"
        port=$(cat "$ETC/demo.port")
        if ! running "$RUN/demo-provider.pid"; then
            setsid python3 "$SRC/tests/mock_provider.py" --port "$port" --pidfile "$RUN/demo-provider.pid" \
                </dev/null >>"$LOG/demo-provider.log" 2>&1 &
            for _ in $(seq 1 50); do running "$RUN/demo-provider.pid" && break; sleep 0.1; done
        fi
        if ! hubctl provider list | grep -q '^demo '; then
            echo "demo-provider-key" | hubctl provider add demo --type openai-compatible \
                --base-url "http://127.0.0.1:$port/v1" --internal >/dev/null
            hubctl model add demo-echo --provider demo --upstream-model gpt-4o-mini >/dev/null
            hubctl model add demo-embed --provider demo --upstream-model text-embedding-3-small --kind embedding >/dev/null
        fi
    fi
    if [ -n "${OPENAI_API_KEY:-}" ] && ! hubctl provider list | grep -q '^openai '; then
        printf '%s\n' "$OPENAI_API_KEY" | hubctl provider add openai --type openai --base-url https://api.openai.com/v1 >/dev/null
    fi
    if [ ! -s "$ETC/admin.password" ]; then
        # the first-start / break-glass local admin; its password is printed below
        (umask 077 && hubctl admin create admin </dev/null >"$ETC/admin.password.new") &&
            mv "$ETC/admin.password.new" "$ETC/admin.password"
    fi
    if [ ! -s "$ETC/demo.key" ]; then
        hubctl user list | grep -q '^demo ' || hubctl user add demo --team demo-team >/dev/null
        (umask 077 && hubctl key create --name demo-key --user demo --app quickstart >"$ETC/demo.key")
    fi
}

cmd_start() {
    mkdir -p "$RUN" "$LOG" "$ETC" "$HUB_HOME/spool"
    chmod 700 "$ETC"
    install_packages
    say "building hub into $HUB_HOME ..."
    build
    start_mariadb
    write_config
    setup_database
    start_gateway
    start_lighttpd
    demo
    local key admin_pw
    key=$(cat "$ETC/demo.key")
    admin_pw=$(sed -n 's/^password: //p; t; p' "$ETC/admin.password" 2>/dev/null | head -1)
    cat <<MSG

hub is running.
  API base URL:  http://127.0.0.1:$HUB_PORT/v1
  Demo API key:  $key
  Demo models:   demo-echo (chat), demo-embed (embeddings) — a local echo provider for trying
                 the hub; add real providers with hubctl (see README)
  Admin pages:   http://127.0.0.1:$HUB_PORT/admin/
                 first sign-in: user "admin", password "$admin_pw" (kept in $ETC/admin.password)
  Logs:          $LOG

  export HUB_CONF=$CONF
  export PATH=$HUB_HOME/bin:\$PATH

Try it:
  curl -s http://127.0.0.1:$HUB_PORT/v1/chat/completions -H "Authorization: Bearer $key" \\
    -H 'Content-Type: application/json' -d '{"model":"demo-echo","messages":[{"role":"user","content":"hello"}]}'
Stop it:  deploy/quickstart.sh stop
MSG
}

case "${1:-start}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) die "usage: deploy/quickstart.sh [start|stop|status]" ;;
esac
