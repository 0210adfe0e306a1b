#!/usr/bin/env bash
# Starts a private Apache httpd in front of the test hub: the quickstart's hub-gateway socket
# and admin pages behind deploy/apache/hub.conf (mod_proxy_fcgi + mod_cgid), or, with
# "fcgid", behind deploy/apache/hub-fcgid.conf (mod_fcgid spawns its own hub-gateway).
#
#   tests/apache/start.sh [proxy|fcgid|sso]     (default proxy)
#
# sso: deploy/apache/hub.conf + hub-sso.conf (mod_auth_openidc) against a test identity
# provider at $HUB_OIDC_IDP (test_apache.py runs one), with a probe CGI program at
# /admin/probe.cgi that shows what the pages are handed (REMOTE_USER, OIDC_CLAIM_*), and
# the admin pages reading a hub.conf with admin_auth = webserver,local.
#
# Environment: HUB_HOME (the quickstart's, required), APACHE_PORT for proxy and
# APACHE_FCGID_PORT for fcgid (default: a free port), APACHE_USER (default www-data). Everything lives in $HUB_HOME/apache[-fcgid]/ (config,
# pid file, logs, sockets); the port is written to port in that folder. The system's own
# Apache service, its config and its ports are never touched: only apache2-bin (the
# binary and modules, no service) is installed when missing.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VARIANT=${1:-proxy}
: "${HUB_HOME:?HUB_HOME must be set (the folder of the quickstart)}"
HUB_HOME=$(cd "$HUB_HOME" && pwd)
APACHE_USER=${APACHE_USER:-www-data}
APACHE_BIN=${APACHE_BIN:-/usr/sbin/apache2}
MODDIR=${APACHE_MODULES:-/usr/lib/apache2/modules}
case "$VARIANT" in
proxy) DIR=$HUB_HOME/apache PORT=${APACHE_PORT:-} ;;
fcgid) DIR=$HUB_HOME/apache-fcgid PORT=${APACHE_FCGID_PORT:-} ;;
sso) DIR=$HUB_HOME/apache-sso PORT=${APACHE_SSO_PORT:-} ;;
*) echo "usage: tests/apache/start.sh [proxy|fcgid|sso]" >&2; exit 2 ;;
esac
RUN=$HUB_HOME/run
ETC=$HUB_HOME/etc
# the files as the quickstart installed them (<prefix>/share/hub/apache), else the source's
CONFDIR=$HUB_HOME/share/hub/apache
[ -f "$CONFDIR/hub.conf" ] || CONFDIR=$SRC/deploy/apache
WRAPPER=$HUB_HOME/libexec/hub/hub-gateway.fcgi
[ -x "$WRAPPER" ] || WRAPPER=$SRC/deploy/apache/hub-gateway.fcgi

die() { printf 'apache/start.sh: %s\n' "$*" >&2; exit 1; }
running() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the binary and modules only: apache2-bin has no service, no /etc/apache2 site, no port
# (mod_auth_openidc only for the syntax check of deploy/apache/hub-sso.conf)
need=(apache2-bin libapache2-mod-auth-openidc)
[ "$VARIANT" = fcgid ] && need+=(libapache2-mod-fcgid)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
    mkdir -p "$DIR/log"
    (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}") \
        >"$DIR/log/apt.log" 2>&1 || { tail -20 "$DIR/log/apt.log" >&2; die "apt-get install failed"; }
fi
[ -x "$APACHE_BIN" ] || die "no $APACHE_BIN"
getent passwd "$APACHE_USER" >/dev/null || die "no user $APACHE_USER"
GROUP=$(id -gn "$APACHE_USER")

# --- what a deployment does with a "hub" group (see deploy/apache/hub.conf), done here with
# Apache's own group: the pages (CGI children, run as $APACHE_USER) read hub.conf and the
# master key (0640), reach the admin folder, and Apache connects to the gateway socket.
# The run folder is setgid so a socket the gateway re-creates on restart keeps the group.
chgrp "$GROUP" "$HUB_HOME" "$ETC" "$ETC/hub.conf" "$ETC/master.key" "$RUN"
chmod g+x "$HUB_HOME"
chmod 0750 "$ETC"
chmod 0640 "$ETC/hub.conf" "$ETC/master.key"
chmod 2750 "$RUN"
[ -S "$RUN/gateway.sock" ] && chgrp "$GROUP" "$RUN/gateway.sock"
ADMIN_DIR=$HUB_HOME/libexec/hub/admin
[ -d "$ADMIN_DIR" ] && chmod o+rx "$HUB_HOME/libexec" "$HUB_HOME/libexec/hub" "$ADMIN_DIR"

mkdir -p "$DIR/run" "$DIR/log" "$DIR/htdocs" "$DIR/errors"
# the static error answers as installed (<prefix>/share/hub/apache/errors), readable by
# Apache's user wherever the source tree is
install -m 0644 "$CONFDIR"/errors/*.json "$DIR/errors/"
PIDFILE=$DIR/run/httpd.pid
if running "$PIDFILE"; then
    echo "apache ($VARIANT) already running on port $(cat "$DIR/port")"
    exit 0
fi
[ -n "$PORT" ] || PORT=$(free_port)
echo "$PORT" >"$DIR/port"

# (unixd and log_config are built into Debian's apache2)
mods=(mpm_event authz_core mime alias dir headers env)
case "$VARIANT" in
proxy) mods+=(proxy proxy_fcgi cgid) ;;
fcgid) mods+=(fcgid cgid) ;;
sso) mods+=(proxy proxy_fcgi cgid authn_core authz_user auth_openidc) ;;
esac
{
    echo "# written by tests/apache/start.sh: a private Apache for the tests"
    for m in "${mods[@]}"; do echo "LoadModule ${m}_module $MODDIR/mod_$m.so"; done
    echo "<IfModule !unixd_module>"
    echo "    LoadModule unixd_module $MODDIR/mod_unixd.so"
    echo "</IfModule>"
    echo "<IfModule !log_config_module>"
    echo "    LoadModule log_config_module $MODDIR/mod_log_config.so"
    echo "</IfModule>"
    cat <<CONF
ServerRoot "$DIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$PIDFILE"
DefaultRuntimeDir "$DIR/run"
Mutex file:$DIR/run default
ErrorLog "$DIR/log/error.log"
LogLevel warn
LogFormat "%h %t \"%r\" %>s %b %D" timed
CustomLog "$DIR/log/access.log" timed
User $APACHE_USER
Group $GROUP
# a small instance: 2 processes x 16 threads
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
Timeout 60
ScriptSock "$DIR/run/cgid.sock"
$( [ -r /etc/mime.types ] && echo "TypesConfig /etc/mime.types" || echo "TypesConfig /dev/null" )
DocumentRoot "$DIR/htdocs"
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory "$DIR/htdocs">
    Require all granted
</Directory>
Define HUB_ERRORS_DIR "$DIR/errors"
CONF
    [ "$VARIANT" = sso ] || echo "Define HUB_ADMIN_DIR \"$ADMIN_DIR\""
    case "$VARIANT" in
    proxy)
        cat <<CONF
Define HUB_SOCKET "$RUN/gateway.sock"
Include "$CONFDIR/hub.conf"
CONF
        ;;
    fcgid)
        # mod_fcgid runs its own hub-gateway (as $APACHE_USER) from a config of its own: the
        # quickstart's hub.conf with its own spool folder that this user may write, and no
        # listen socket (mod_fcgid hands it one on fd 0).
        mkdir -p "$DIR/spool" "$DIR/fcgid"
        chown "$APACHE_USER:$GROUP" "$DIR/spool" "$DIR/fcgid"
        chmod 0700 "$DIR/spool"
        grep -vE '^[[:space:]]*(spool_dir|listen)[[:space:]]*=' "$ETC/hub.conf" >"$DIR/hub.conf"
        printf 'spool_dir = %s\n' "$DIR/spool" >>"$DIR/hub.conf"
        chgrp "$GROUP" "$DIR/hub.conf"
        chmod 0640 "$DIR/hub.conf"
        # a copy of the wrapper where Apache's user may run it, wherever the source tree is
        install -m 0755 "$WRAPPER" "$DIR/hub-gateway.fcgi"
        cat <<CONF
FcgidIPCDir "$DIR/fcgid"
FcgidProcessTableFile "$DIR/run/fcgid_shm"
Define HUB_GATEWAY_WRAPPER "$DIR/hub-gateway.fcgi"
# the wrapper reads these (deploy/apache/hub-gateway.fcgi)
FcgidInitialEnv HUB_CONF "$DIR/hub.conf"
FcgidInitialEnv HUB_GATEWAY "$HUB_HOME/sbin/hub-gateway"
Include "$CONFDIR/hub-fcgid.conf"
CONF
        ;;
    sso)
        : "${HUB_OIDC_IDP:?HUB_OIDC_IDP must name the test identity provider (http://127.0.0.1:PORT)}"
        mkdir -p "$DIR/probe"
        cat >"$DIR/probe/probe.cgi" <<'CGI'
#!/bin/sh
# what the admin pages would be handed
printf 'Content-Type: text/plain\r\n\r\n'
printf 'REMOTE_USER=%s\n' "${REMOTE_USER-}"
printf 'OIDC_CLAIM_groups=%s\n' "${OIDC_CLAIM_groups-}"
printf 'OIDC_CLAIM_preferred_username=%s\n' "${OIDC_CLAIM_preferred_username-}"
printf 'HTTP_OIDC_CLAIM_GROUPS=%s\n' "${HTTP_OIDC_CLAIM_GROUPS-}"
CGI
        chmod 0755 "$DIR/probe" "$DIR/probe/probe.cgi"
        # hub-sso.conf with the example's provider, client and host replaced by the test's
        sed -e "s|https://sso.example.com/realms/corp/.well-known/openid-configuration|$HUB_OIDC_IDP/.well-known/openid-configuration|" \
            -e "s|CHANGE-ME-client-secret-from-the-IdP|test-client-secret-0123456789abcdef|" \
            -e "s|CHANGE-ME-random-passphrase|test-passphrase-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')|" \
            -e "s|https://hub.example.com/admin/oidc-callback|http://127.0.0.1:$PORT/admin/oidc-callback|" \
            "$CONFDIR/hub-sso.conf" >"$DIR/hub-sso.conf"
        # The real pages too, when installed, reading a hub.conf that trusts the web server
        # (plain http here: no Secure cookies).
        grep -vE '^[[:space:]]*(admin_auth|role_map|default_role|cookie_secure|webserver_[a-z_]+)[[:space:]]*=' \
            "$ETC/hub.conf" >"$DIR/hub.conf"
        printf '%s\n' "admin_auth = webserver,local" "role_map = hub-admins=admin,hub-auditors=viewer" \
            "default_role = member" "cookie_secure = 0" >>"$DIR/hub.conf"
        chgrp "$GROUP" "$DIR/hub.conf"
        chmod 0640 "$DIR/hub.conf"
        pages=$DIR/probe
        [ -x "$ADMIN_DIR/index.cgi" ] && pages=$ADMIN_DIR
        cat <<CONF
Define HUB_SOCKET "$RUN/gateway.sock"
Define HUB_ADMIN_DIR "$pages"
# the probe inside the signed-in area, before hub.conf's Alias /admin/
Alias "/admin/probe.cgi" "$DIR/probe/probe.cgi"
<Directory "$DIR/probe">
    Options +ExecCGI
    AddHandler cgi-script .cgi
    Require all granted
</Directory>
Include "$CONFDIR/hub.conf"
<Directory "$pages">
    SetEnv HUB_CONF "$DIR/hub.conf"
</Directory>
Include "$DIR/hub-sso.conf"
CONF
        ;;
    esac
} >"$DIR/httpd.conf"

"$APACHE_BIN" -t -f "$DIR/httpd.conf" >"$DIR/log/configtest.log" 2>&1 ||
    { cat "$DIR/log/configtest.log" >&2; die "apache config test failed ($DIR/httpd.conf)"; }
# -k start daemonises; the pid file names exactly this instance for stop.sh
"$APACHE_BIN" -f "$DIR/httpd.conf" -k start || die "apache did not start (port $PORT in use?)"
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
        echo "apache ($VARIANT) on http://127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
        exit 0
    fi
    sleep 0.1
done
tail -20 "$DIR/log/error.log" >&2
die "no answer on http://127.0.0.1:$PORT/healthz"
