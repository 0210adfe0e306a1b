#!/usr/bin/env bash
# Starts a TEST-ONLY Apache httpd (httpd.conf beside this file) in front of the quickstart's
# admin pages for the "webserver" sign-in mode: HTTP Basic auth against an htpasswd file of
# test users, REMOTE_USER and HUB_GROUPS handed to the pages, which read a copy of hub.conf
# that trusts this web server (admin_auth + webserver, webserver_groups_var = HUB_GROUPS,
# role_map hub-admins=admin, hub-viewers=viewer).
#
#   tests/webserver-auth/start.sh        (idempotent: a running instance is left as it is)
#   tests/webserver-auth/stop.sh
#
# Environment: HUB_HOME (the quickstart's, required), HUB_CONF (default $HUB_HOME/etc/hub.conf),
# WS_PORT (default: a free port), APACHE_USER (default www-data).
#
# Everything lives in $HUB_HOME/webserver-auth/: port (the port), users.json (the test users,
# their passwords, groups and expected roles; 0600), htpasswd, hub.conf, run/. Logs go to
# $HUB_HOME/log/webserver-auth-{error,access}.log. Test users:
#   carol  group hub-admins  → admin        victor  group hub-viewers → viewer
#   dave   no group          → member       <script>alert(1)</script>  no group → member
#                                            (a hostile user name, for the escaping tests)
# The passwords are random per HUB_HOME. Only apache2-bin (binary and modules, no service) is
# installed when missing; the system's Apache config and ports are never touched.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${HUB_HOME:?HUB_HOME must be set (the folder of the quickstart)}"
HUB_HOME=$(cd "$HUB_HOME" && pwd)
HUB_CONF=${HUB_CONF:-$HUB_HOME/etc/hub.conf}
APACHE_USER=${APACHE_USER:-www-data}
APACHE_BIN=${APACHE_BIN:-/usr/sbin/apache2}
MODDIR=${APACHE_MODULES:-/usr/lib/apache2/modules}
DIR=$HUB_HOME/webserver-auth
LOG=$HUB_HOME/log
ETC=$HUB_HOME/etc
RUN=$HUB_HOME/run
ADMIN_DIR=$HUB_HOME/libexec/hub/admin
PIDFILE=$DIR/run/httpd.pid

die() { printf 'webserver-auth/start.sh: %s\n' "$*" >&2; exit 1; }
running() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

[ -f "$HUB_CONF" ] || die "no $HUB_CONF (run deploy/quickstart.sh first)"
[ -x "$ADMIN_DIR/index.cgi" ] || die "the admin pages are not installed in $ADMIN_DIR"
mkdir -p "$DIR/run" "$DIR/htdocs" "$LOG"
if running "$PIDFILE"; then
    echo "webserver-auth: already running on http://127.0.0.1:$(cat "$DIR/port")"
    exit 0
fi

# --- the binary and modules only (no service, no site, no port of the system's Apache)
if ! dpkg-query -W -f='${Status}' apache2-bin 2>/dev/null | grep -q "install ok installed"; then
    [ "$(id -u)" = 0 ] || die "apache2-bin is missing; run as root or install it"
    (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends apache2-bin) \
        >"$DIR/apt.log" 2>&1 || { tail -20 "$DIR/apt.log" >&2; die "apt-get install apache2-bin failed"; }
fi
[ -x "$APACHE_BIN" ] || die "no $APACHE_BIN"
getent passwd "$APACHE_USER" >/dev/null || die "no user $APACHE_USER"
GROUP=$(id -gn "$APACHE_USER")

# --- what a deployment does with a "hub" group (deploy/apache/hub.conf), done with Apache's
# own group, as tests/apache/start.sh does: the CGI children (never root) read hub.conf and
# the master key (0640), reach the pages and the database socket.
chgrp "$GROUP" "$HUB_HOME" "$ETC" "$ETC/master.key" "$RUN" "$DIR"
chmod g+x "$HUB_HOME"
chmod 0750 "$ETC" "$DIR"
chmod 0640 "$ETC/master.key"
chmod 2750 "$RUN"
chmod o+rx "$HUB_HOME/libexec" "$HUB_HOME/libexec/hub" "$ADMIN_DIR"

# --- the test users: random passwords, kept for the tests in users.json (root only)
if [ ! -s "$DIR/users.json" ]; then
    python3 - "$DIR/users.json" <<'PY'
import json, os, secrets, sys
users = {
    "carol": {"groups": "hub-admins", "role": "admin"},
    "victor": {"groups": "hub-viewers", "role": "viewer"},
    "dave": {"groups": "", "role": "member"},
    "<script>alert(1)</script>": {"groups": "", "role": "member"},
}
for u in users.values():
    u["password"] = "ws-" + secrets.token_urlsafe(18)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(users, f, indent=1)
PY
fi
python3 - "$DIR/users.json" >"$DIR/htpasswd.new" <<'PY'
import json, subprocess, sys
for name, u in json.load(open(sys.argv[1])).items():
    h = subprocess.run(["openssl", "passwd", "-apr1", "-stdin"], input=u["password"] + "\n",
                       capture_output=True, text=True, check=True).stdout.strip()
    print(f"{name}:{h}")
PY
chgrp "$GROUP" "$DIR/htpasswd.new"
chmod 0640 "$DIR/htpasswd.new"
mv "$DIR/htpasswd.new" "$DIR/htpasswd"

# --- the pages' hub.conf for this instance: the quickstart's, trusting this web server
modes=$(sed -n 's/^[[:space:]]*admin_auth[[:space:]]*=[[:space:]]*//p' "$HUB_CONF" | tail -1 | tr -d ' ')
modes=${modes:-local}
case ",$modes," in *,webserver,*) ;; *) modes="$modes,webserver" ;; esac
{
    grep -vE '^[[:space:]]*(admin_auth|webserver_user_var|webserver_groups_var|role_map|default_role)[[:space:]]*=' "$HUB_CONF"
    echo "# tests/webserver-auth: this instance's pages trust Apache's Basic auth"
    echo "admin_auth = $modes"
    echo "webserver_user_var = REMOTE_USER"
    echo "webserver_groups_var = HUB_GROUPS"
    echo "role_map = hub-admins=admin,hub-viewers=viewer"
    echo "default_role = member"
} >"$DIR/hub.conf.new"
chgrp "$GROUP" "$DIR/hub.conf.new"
chmod 0640 "$DIR/hub.conf.new"
mv "$DIR/hub.conf.new" "$DIR/hub.conf"

PORT=${WS_PORT:-$(free_port)}
echo "$PORT" >"$DIR/port"
defs=(-C "Define WS_DIR $DIR" -C "Define WS_LOG $LOG" -C "Define WS_PORT $PORT"
    -C "Define HUB_ADMIN_DIR $ADMIN_DIR" -C "Define APACHE_MODULES $MODDIR"
    -C "Define APACHE_USER $APACHE_USER" -C "Define APACHE_GROUP $GROUP")
"$APACHE_BIN" "${defs[@]}" -t -f "$HERE/httpd.conf" >"$DIR/configtest.log" 2>&1 ||
    { cat "$DIR/configtest.log" >&2; die "apache config test failed"; }
"$APACHE_BIN" "${defs[@]}" -f "$HERE/httpd.conf" -k start || die "apache did not start (port $PORT in use?)"
for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/admin/" 2>/dev/null || true)
    if [ "$code" = 401 ]; then
        echo "webserver-auth: http://127.0.0.1:$PORT/admin/ (pid $(cat "$PIDFILE"), users in $DIR/users.json)"
        exit 0
    fi
    sleep 0.1
done
tail -20 "$LOG/webserver-auth-error.log" >&2 || true
die "no 401 from http://127.0.0.1:$PORT/admin/"
