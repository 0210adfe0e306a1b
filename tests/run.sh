#!/usr/bin/env bash
# hub's whole test suite: the quickstart set-up in a throwaway folder on free ports, then the
# unit tests and the integration tests (real MariaDB, lighttpd, hub-gateway, mock provider,
# official SDKs). Ends with one line "N passed, M failed"; exits non-zero when anything failed.
#
#   tests/run.sh [--sanitizers] [--keep]
#     --sanitizers  build with ASan + UBSan (also: HUB_CONFIGURE_FLAGS=--enable-sanitizers)
#     --keep        keep the temporary HUB_HOME for inspection
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP=0
for a in "$@"; do
    case "$a" in
    --sanitizers) export HUB_CONFIGURE_FLAGS="--enable-sanitizers" ;;
    --keep) KEEP=1 ;;
    *) echo "usage: tests/run.sh [--sanitizers] [--keep]" >&2; exit 2 ;;
    esac
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export HUB_HOME
HUB_HOME=$(mktemp -d /tmp/hub-test.XXXXXX)
export HUB_PORT MOCK_PORT
HUB_PORT=$(free_port)
MOCK_PORT=$(free_port)
export HUB_CONF=$HUB_HOME/etc/hub.conf
export HUB_THREADS=${HUB_THREADS:-16}
export IDP_PORT
IDP_PORT=$(free_port)
export SMTP_PORT SMTP_DIR
SMTP_PORT=$(free_port)
SMTP_DIR=$HUB_HOME/mail
# short upstream time bounds so the timeout tests end quickly; the test IdP for OAuth tokens on
# the API and for the pages' OIDC sign-in; all three sign-in modes on
export HUB_EXTRA_CONF="first_byte_timeout_ms = 2000
idle_timeout_ms = 5000
jwt_jwks_uri = http://127.0.0.1:$IDP_PORT/jwks
jwt_issuer = http://127.0.0.1:$IDP_PORT
jwt_audience = hub-api
jwt_user_claim = preferred_username
jwt_team_claim = team
jwt_algs = RS256,ES256
jwt_cache_seconds = 2
admin_auth = local,oidc,webserver
role_map = hub-admins=admin,hub-viewers=viewer
webserver_groups_var = HUB_GROUPS
smtp_url = smtp://127.0.0.1:$SMTP_PORT
smtp_from = hub-alerts@example.test
alert_email_to = finops@example.test, team-lead@example.test"
export JSON_SUITE=${JSON_SUITE:-$SRC/../shared/data/JSONTestSuite/test_parsing}
export PYTHONPATH=$SRC/tests/integration
export PYTHONDONTWRITEBYTECODE=1
# sanitizer runs: report every error, keep going so the log shows all of them
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:log_path=$HUB_HOME/log/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:log_path=$HUB_HOME/log/ubsan}
OUT=$HUB_HOME/test-output
mkdir -p "$OUT" "$HUB_HOME/log"
PASS=0
FAIL=0

cleanup() {
    [ -f "$HUB_HOME/run/mock.pid" ] && kill "$(cat "$HUB_HOME/run/mock.pid")" 2>/dev/null
    [ -f "$HUB_HOME/run/idp.pid" ] && kill "$(cat "$HUB_HOME/run/idp.pid")" 2>/dev/null
    [ -f "$HUB_HOME/run/smtp.pid" ] && kill "$(cat "$HUB_HOME/run/smtp.pid")" 2>/dev/null
    bash "$SRC/tests/apache/stop.sh" >/dev/null 2>&1
    bash "$SRC/tests/webserver-auth/stop.sh" >/dev/null 2>&1
    bash "$SRC/deploy/quickstart.sh" stop >/dev/null 2>&1
    if [ "$KEEP" = 1 ]; then echo "kept $HUB_HOME"; else rm -rf "$HUB_HOME"; fi
}
trap cleanup EXIT

summary() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit $?
}

# run_tap NAME CMD...: runs a program that prints "ok - X" / "not ok - X" lines (TAP style, an
# optional number after ok) and counts them. A program that fails without a "not ok" line, or
# that reports nothing at all, counts as one failure.
run_tap() {
    local name=$1 rc p f file
    shift
    file="$OUT/${name//\//_}"
    echo "== $name"
    "$@" >"$file.out" 2>"$file.err"
    rc=$?
    cat "$file.out"
    p=$(grep -cE '^ok( [0-9]+)? - ' "$file.out" 2>/dev/null)
    f=$(grep -cE '^not ok( [0-9]+)? - ' "$file.out" 2>/dev/null)
    p=${p:-0}
    f=${f:-0}
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $name exited with status $rc"
        tail -20 "$file.err"
        FAIL=$((FAIL + 1))
    elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $name reported no results"
        tail -20 "$file.err"
        FAIL=$((FAIL + 1))
    elif [ "$f" -gt 0 ]; then
        tail -5 "$file.err"
    fi
}

# one-off check: check NAME CMD...
check() {
    local name=$1
    shift
    if "$@" >>"$OUT/checks.log" 2>&1; then echo "ok - $name"; PASS=$((PASS + 1)); else echo "not ok - $name"; FAIL=$((FAIL + 1)); fi
}

# --- tools the tests need (the quickstart installs the hub's own dependencies)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing nodejs and npm"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm) >"$OUT/apt-node.log" 2>&1
fi
need_npm=0
for m in openai @anthropic-ai/sdk @aigne/aigne-hub oauth2-mock-server playwright-core; do
    [ -d "$SRC/tests/node/node_modules/$m" ] || need_npm=1
done
if [ "$need_npm" = 1 ]; then
    (cd "$SRC/tests/node" && npm install --no-audit --no-fund --silent) >"$OUT/npm.log" 2>&1 ||
        { echo "not ok - npm install of the SDK test clients"; tail -20 "$OUT/npm.log"; FAIL=$((FAIL + 1)); }
fi

# --- the test identity provider (outside the company network: simulated), before the hub
mkdir -p "$HUB_HOME/run"
node "$SRC/tests/node/idp.mjs" --port "$IDP_PORT" --pidfile "$HUB_HOME/run/idp.pid" >"$OUT/idp.log" 2>&1 &
for _ in $(seq 1 100); do grep -q listening "$OUT/idp.log" 2>/dev/null && break; sleep 0.1; done
# --- the company's mail relay, for budget alert mail: a small SMTP server on loopback
python3 "$SRC/tests/smtp_sink.py" --port "$SMTP_PORT" --dir "$SMTP_DIR" \
    --pidfile "$HUB_HOME/run/smtp.pid" >"$OUT/smtp.log" 2>&1 &
for _ in $(seq 1 100); do grep -q listening "$OUT/smtp.log" 2>/dev/null && break; sleep 0.1; done

# --- the set-up, exactly as a user runs it
echo "== quickstart (HUB_HOME=$HUB_HOME, port $HUB_PORT${HUB_CONFIGURE_FLAGS:+, $HUB_CONFIGURE_FLAGS})"
if ! bash "$SRC/deploy/quickstart.sh" >"$OUT/quickstart.out" 2>&1; then
    cat "$OUT/quickstart.out"
    echo "not ok - quickstart"
    FAIL=$((FAIL + 1))
    summary
fi
echo "ok - quickstart"
PASS=$((PASS + 1))
check "quickstart prints the API URL, the demo key and HUB_CONF" \
    grep -q "export HUB_CONF=$HUB_CONF" "$OUT/quickstart.out"

# --- unit tests (test_json and the database-backed test_web2 are run on their own below)
UNIT_TESTS="test_crypto test_apikey test_core test_config_spool test_xl_anthropic_out
    test_xl_anthropic_in test_xl_anthropic_in_stream test_xl_gemini test_xl_gemini_stream
    test_xl_aigne test_xl_aigne_fw test_web test_mail"
make -C "$HUB_HOME/build/tests" check TESTS= >"$OUT/unit-build.log" 2>&1 ||
    { echo "not ok - unit tests build"; tail -20 "$OUT/unit-build.log"; FAIL=$((FAIL + 1)); }
for t in $UNIT_TESTS; do
    run_tap "unit/$t" "$HUB_HOME/build/tests/unit/$t"
done
run_tap unit/test_json "$HUB_HOME/build/tests/unit/test_json" "$JSON_SUITE"
# the database-backed web tests (sessions, throttling, audit chain) on the test MariaDB
HUB_TEST_DB_SOCKET=$HUB_HOME/run/mysqld.sock HUB_TEST_DB_USER=root HUB_TEST_DB_NAME=hub \
    run_tap unit/test_web2 "$HUB_HOME/build/tests/unit/test_web2"
check "make checksrc (no banned calls)" make -C "$HUB_HOME/build" checksrc
# the unit tests once more under ASan + UBSan when the main build has no sanitizers
# (tests/run.sh --sanitizers runs everything, integration included, under them)
if [ -z "${HUB_CONFIGURE_FLAGS:-}" ]; then
    mkdir -p "$HUB_HOME/build-asan"
    if (cd "$HUB_HOME/build-asan" && "$SRC/configure" --enable-sanitizers && make -C lib &&
        make -C tests check TESTS=) >"$OUT/asan-build.log" 2>&1; then
        for t in $UNIT_TESTS; do
            run_tap "asan/unit/$t" env ASAN_OPTIONS=detect_leaks=1 "$HUB_HOME/build-asan/tests/unit/$t"
        done
        run_tap asan/unit/test_json env ASAN_OPTIONS=detect_leaks=1 "$HUB_HOME/build-asan/tests/unit/test_json" "$JSON_SUITE"
    else
        echo "not ok - sanitizer build of the unit tests"; tail -20 "$OUT/asan-build.log"; FAIL=$((FAIL + 1))
    fi
fi

# --- integration
python3 "$SRC/tests/mock_provider.py" --port "$MOCK_PORT" --pidfile "$HUB_HOME/run/mock.pid" \
    >"$OUT/mock.log" 2>&1 &
for _ in $(seq 1 50); do grep -q listening "$OUT/mock.log" 2>/dev/null && break; sleep 0.1; done
run_tap mock_selftest python3 "$SRC/tests/test_mock_provider_selftest.py"
run_tap fixtures python3 "$SRC/tests/integration/fixtures.py"
run_tap quickstart_demo python3 "$SRC/tests/integration/test_quickstart.py"
run_tap api python3 "$SRC/tests/integration/test_api.py"
run_tap providers python3 "$SRC/tests/integration/test_providers.py"
run_tap inbound python3 "$SRC/tests/integration/test_inbound.py"
run_tap anthropic_sdk node "$SRC/tests/node/anthropic_sdk.test.mjs"
run_tap aigne_client node "$SRC/tests/node/aigne_fw.test.mjs"
run_tap oidc node "$SRC/tests/node/oidc.test.mjs"
run_tap openai_sdk node "$SRC/tests/node/openai_sdk.test.mjs"
run_tap jsonsuite python3 "$SRC/tests/integration/test_jsonsuite.py"
run_tap crypto_rotation python3 "$SRC/tests/integration/test_keys_rotation.py"
run_tap hubctl python3 "$SRC/tests/integration/test_hubctl.py"
run_tap hubctl_routing python3 "$SRC/tests/integration/test_hubctl_routing.py"
run_tap hubctl_audit python3 "$SRC/tests/integration/test_hubctl_audit.py"
run_tap limits python3 "$SRC/tests/integration/test_limits.py"
run_tap limits_rpm python3 "$SRC/tests/integration/test_limits_rpm.py"
run_tap limits_scopes python3 "$SRC/tests/integration/test_limits_scopes.py"
run_tap alert_mail python3 "$SRC/tests/integration/test_alert_mail.py"
run_tap analytics python3 "$SRC/tests/integration/test_analytics.py"
run_tap prompts python3 "$SRC/tests/integration/test_prompts.py"
run_tap pages_security python3 "$SRC/tests/integration/test_pages_security.py"
export HUB_ARTIFACTS=${HUB_ARTIFACTS:-$SRC/test-artifacts/screenshots}
run_tap browser node "$SRC/tests/browser/pages.test.mjs"
# --- the gateway behind Apache httpd (deploy/apache/): private instances on free ports, run as
# www-data (start.sh shares hub.conf and the master key with www-data at 0640)
export APACHE_PORT APACHE_FCGID_PORT
APACHE_PORT=$(free_port)
APACHE_FCGID_PORT=$(free_port)
if bash "$SRC/tests/apache/start.sh" proxy >"$OUT/apache-start.log" 2>&1 &&
    bash "$SRC/tests/apache/start.sh" fcgid >>"$OUT/apache-start.log" 2>&1; then
    run_tap apache python3 "$SRC/tests/integration/test_apache.py"
else
    echo "not ok - Apache instances for the tests"; tail -20 "$OUT/apache-start.log"; FAIL=$((FAIL + 1))
fi
bash "$SRC/tests/apache/stop.sh" >/dev/null 2>&1
run_tap db_outage python3 "$SRC/tests/integration/test_outage.py"
run_tap shutdown python3 "$SRC/tests/integration/test_shutdown.py"

# --- sanitizer reports from any process of the run
if ls "$HUB_HOME"/log/asan* "$HUB_HOME"/log/ubsan* >/dev/null 2>&1; then
    echo "not ok - sanitizer reports found:"
    head -50 "$HUB_HOME"/log/asan* "$HUB_HOME"/log/ubsan* 2>/dev/null
    FAIL=$((FAIL + 1))
elif [ -n "${HUB_CONFIGURE_FLAGS:-}" ]; then
    echo "ok - no sanitizer reports"
    PASS=$((PASS + 1))
fi
summary
