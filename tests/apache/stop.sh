#!/usr/bin/env bash
# Stops the private Apache that tests/apache/start.sh started for $HUB_HOME (the instance
# named by its own pid file, nothing else).
#
#   tests/apache/stop.sh [proxy|fcgid|sso|all]     (default all)
set -uo pipefail

: "${HUB_HOME:?HUB_HOME must be set}"
stop_one() { # folder
    local pf=$1/run/httpd.pid pid
    [ -f "$pf" ] || return 0
    pid=$(cat "$pf" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        # SIGTERM to the parent: it stops its children (and mod_fcgid its hub-gateway)
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "apache/stop.sh: apache (pid $pid) did not stop in 15 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pf"
}
case "${1:-all}" in
proxy) stop_one "$HUB_HOME/apache" ;;
fcgid) stop_one "$HUB_HOME/apache-fcgid" ;;
sso) stop_one "$HUB_HOME/apache-sso" ;;
all) stop_one "$HUB_HOME/apache"; stop_one "$HUB_HOME/apache-fcgid"; stop_one "$HUB_HOME/apache-sso" ;;
*) echo "usage: tests/apache/stop.sh [proxy|fcgid|sso|all]" >&2; exit 2 ;;
esac
exit 0
