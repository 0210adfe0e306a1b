#!/usr/bin/env bash
# Stops the test-only Apache that tests/webserver-auth/start.sh started for $HUB_HOME (the
# instance named by its own pid file, nothing else).
set -uo pipefail

: "${HUB_HOME:?HUB_HOME must be set}"
pf=$HUB_HOME/webserver-auth/run/httpd.pid
[ -f "$pf" ] || exit 0
pid=$(cat "$pf" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    # SIGTERM to the parent: it stops its children
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "webserver-auth/stop.sh: apache (pid $pid) did not stop in 15 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -f "$pf"
exit 0
