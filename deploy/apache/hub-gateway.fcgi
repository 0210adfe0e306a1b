#!/bin/sh
# hub-gateway under mod_fcgid (deploy/apache/hub-fcgid.conf): mod_fcgid runs this wrapper
# with a listening socket on fd 0; the gateway serves it ("--listen -").
#
# Environment (FcgidInitialEnv in hub-fcgid.conf):
#   HUB_CONF     hub.conf to use (default: the gateway's own default, <prefix>/etc/hub.conf)
#   HUB_GATEWAY  the hub-gateway binary (default: ../../sbin/hub-gateway from this script,
#                i.e. <prefix>/sbin/hub-gateway when installed as <prefix>/libexec/hub/)
#   HUB_FCGID_THREADS  worker threads per process (default 2): mod_fcgid gives a process
#                one request at a time, so more threads only hold more database connections
gw=${HUB_GATEWAY:-$(dirname "$0")/../../sbin/hub-gateway}
[ -x "$gw" ] || gw=$(command -v hub-gateway) || {
    echo "hub-gateway.fcgi: no hub-gateway binary (set HUB_GATEWAY)" >&2
    exit 1
}
exec "$gw" ${HUB_CONF:+--config "$HUB_CONF"} --threads "${HUB_FCGID_THREADS:-2}" --listen -
