"""Budgets and rate limits (hubctl limit, limits.cgi, the gateway's admission and settlement).

* a key with a tiny budget under 200 concurrent requests: spend beyond the budget is at most one
  reservation, nothing is admitted after exhaustion (the mock provider counts what reached it),
  every refusal is a 402 budget_exceeded naming the key and the month;
* an RPM limit honoured across two gateway processes behind two web servers (one MariaDB);
  429 with Retry-After and x-ratelimit-* headers; the headers on admitted answers too;
* TPM (estimate on admission, actual tokens after), a request larger than the TPM limit;
* user and team scopes; a team's 80 % / 100 % alerts (stored once, logged once);
* settlement: failed attempts release the reservation, streams (also a client that goes away)
  settle to what was metered;
* requests of keys without limits make no UPDATE (the hot path has no extra statement);
* hubctl limit set/list/clear (help, errors, audit) and the Budgets page (viewer reads, admin
  sets and clears, CSRF).
Run after fixtures.py (tests/run.sh).
"""
import concurrent.futures
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

from hubtest import (HUB_CONF, HUB_HOME, HUB_PORT, check, csrf_of, done, hubctl, jrequest, login,
                     mock_requests, mock_reset, request, sql)

TAG = secrets.token_hex(3)
GW_LOG = os.path.join(HUB_HOME, "log", "gateway.log")
MONTH = time.strftime("%Y-%m", time.gmtime())
PRICE_IN, PRICE_OUT = 0.15, 0.60  # mock/gpt-4o-mini in fixtures.py, USD per 1M tokens


def one(q):
    rows = sql(q)
    return rows[0][0] if rows else None


def body(words=20, max_tokens=32, model="gpt-4o-mini", stream=False):
    b = {"model": model, "max_tokens": max_tokens,
         "messages": [{"role": "user", "content": " ".join(["word"] * words)}]}
    if stream:
        b["stream"] = True
    return json.dumps(b)


def estimate_micro(text, max_tokens):
    """What the gateway reserves: body bytes / 4 prompt tokens + max_tokens, at the price."""
    prompt = (len(text.encode()) + 3) // 4
    return (prompt * int(PRICE_IN * 1e6) + max_tokens * int(PRICE_OUT * 1e6) + 500000) // 1000000


def chat(key, port=None, **kw):
    return jrequest("POST", "/v1/chat/completions", body(**kw), key=key, port=port, timeout=60)


def new_key(name, user, team=None):
    args = ["key", "create", "--name", name, "--user", user]
    if team:
        args += ["--team", team]
    return hubctl(*args)[1].strip()


def settled(scope, sid):
    """(spent, reserved) of this month's budget row."""
    r = sql(f"SELECT spent_micro, reserved_micro FROM budget_usage WHERE scope_type = '{scope}' "
            f"AND scope_id = {sid} AND month = '{MONTH}-01'")
    return (int(r[0][0]), int(r[0][1])) if r else (None, None)


def ledger(col, sid):
    return int(one(f"SELECT COALESCE(SUM(cost_micro), 0) FROM usage_log WHERE {col} = {sid} "
                   f"AND ts >= '{MONTH}-01'"))


def ledger_rows(col, sid):
    return int(one(f"SELECT COUNT(*) FROM usage_log WHERE {col} = {sid} AND outcome <> 'pending'"))


def wait_until(fn, timeout=10.0):
    end = time.time() + timeout
    v = fn()
    while not v and time.time() < end:
        time.sleep(0.1)
        v = fn()
    return v


def early_in_minute(room=25):
    """Waits until at least room seconds of the current UTC minute are left."""
    s = time.time() % 60
    if s > 60 - room:
        time.sleep(60 - s + 0.3)


def settle_snapshot():
    time.sleep(1.3)  # the gateways reload the limits table at most every second


def uid(table, name):
    return int(one(f"SELECT id FROM {table} WHERE name = '{name}'"))


# ---- hubctl --------------------------------------------------------------------------------
def test_hubctl():
    rc, out, _ = hubctl("limit", "--help", check_rc=False)
    check(rc == 0 and "set" in out and "clear" in out, "hubctl limit --help lists set, list, clear")
    rc, out, _ = hubctl("limit", "set", "--help", check_rc=False)
    check(rc == 0 and "--budget" in out and "--rpm" in out and "--tpm" in out,
          "hubctl limit set --help documents --budget, --rpm, --tpm")
    hubctl("user", "add", f"lim-cli-{TAG}", "--team", f"lim-cli-team-{TAG}")
    team = f"lim-cli-team-{TAG}"
    bad = [
        (["limit", "set", "group", team, "--rpm", "5"], 2, "an unknown scope type"),
        (["limit", "set", "team", team], 2, "no limit option"),
        (["limit", "set", "team", team, "--budget", "1.1234567"], 2, "a budget with 7 decimals"),
        (["limit", "set", "team", team, "--budget", "-1"], 2, "a negative budget"),
        (["limit", "set", "team", team, "--rpm", "0"], 2, "rpm 0"),
        (["limit", "set", "team", team, "--tpm", "1e6"], 2, "tpm 1e6"),
        (["limit", "set", "team", "no-such-team-" + TAG, "--rpm", "5"], 1, "an unknown team"),
        (["limit", "set", "team", "bad name", "--rpm", "5"], 2, "an invalid name"),
        (["limit", "set", "team", team, "--budget", "none"], 1, "only 'none' on a scope without limits"),
        (["limit", "clear", "team", team], 1, "clearing a scope without limits"),
        (["limit", "list", "--month", "2025-13"], 2, "list --month 2025-13"),
    ]
    for args, want, what in bad:
        rc, _, err = hubctl(*args, check_rc=False)
        check(rc == want and err.startswith("hubctl: ") and len(err.strip().splitlines()) == 1,
              f"hubctl {' '.join(args[:2])} refuses {what} (exit {want}, one message)",
              f"rc={rc} err={err.strip()}")
    rc, out, _ = hubctl("limit", "set", "team", team, "--budget", "12.5", "--rpm", "60",
                        check_rc=False)
    check(rc == 0 and "$12.50" in out and "rpm 60" in out, "limit set team: budget and rpm", out)
    rc, out, _ = hubctl("limit", "set", "team", team, "--tpm", "5000", check_rc=False)
    check(rc == 0 and "$12.50" in out and "rpm 60" in out and "tpm 5000" in out,
          "limit set keeps the values not given", out)
    rc, out, _ = hubctl("limit", "set", "team", team, "--rpm", "none", check_rc=False)
    check(rc == 0 and "rpm none" in out, "'none' removes one limit", out)
    rc, out, _ = hubctl("limit", "list", "--type", "team", check_rc=False)
    line = [ln for ln in out.splitlines() if team in ln]
    check(rc == 0 and line and "$12.50" in line[0] and "5000" in line[0],
          "limit list shows the team with its budget and tpm", out)
    rc, out, _ = hubctl("limit", "list", "--type", "key", check_rc=False)
    check(rc == 0 and team not in out, "limit list --type key leaves teams out")
    rows = sql(f"SELECT action, before_json IS NULL, after_json FROM audit_log WHERE target = '{team}' "
               f"AND action LIKE 'limit.%' ORDER BY id")
    check(len(rows) == 3 and rows[0][1] == "1" and '"budget_usd":"12.50"' in rows[0][2]
          and rows[2][0] == "limit.set" and '"rpm":null' in rows[2][2],
          "every limit change is audited with before and after", str(rows))
    rc, out, _ = hubctl("limit", "clear", "team", team, check_rc=False)
    n = one(f"SELECT COUNT(*) FROM limits l JOIN teams t ON t.id = l.scope_id "
            f"AND l.scope_type = 'team' WHERE t.name = '{team}'")
    check(rc == 0 and n == "0" and one(f"SELECT COUNT(*) FROM audit_log WHERE target = '{team}' "
                                       f"AND action = 'limit.clear'") == "1",
          "limit clear removes the limits (audited)")


# ---- the gateway: no extra statements without limits ----------------------------------------
def counter_rows():
    """Rows the server read or changed in the limit counters (MariaDB user statistics)."""
    rows = sql("SELECT SUM(ROWS_READ + ROWS_CHANGED) FROM information_schema.TABLE_STATISTICS "
               "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('budget_usage', 'rate_usage')")
    return int(rows[0][0]) if rows and rows[0][0] not in (None, "NULL") else 0


def test_no_limits_no_queries(key):
    user = f"lim-probe-{TAG}"
    hubctl("user", "add", user)
    pname = f"lim-probe-{TAG}"
    probe = new_key(pname, user)
    hubctl("limit", "set", "key", pname, "--rpm", "1000", "--budget", "5")
    settle_snapshot()
    sql("SET GLOBAL userstat = 1")
    try:
        chat(key)
        before = counter_rows()
        oks = 0
        for _ in range(20):
            s, h, _ = chat(key)
            oks += s == 200 and "x-ratelimit-limit-requests" not in h
        free = counter_rows() - before
        before = counter_rows()
        for _ in range(5):
            chat(probe)
        limited = counter_rows() - before
    finally:
        sql("SET GLOBAL userstat = 0")
    check(oks == 20 and free == 0 and limited > 0,
          "20 requests of a key without limits touch no counter row and get no x-ratelimit "
          "headers (a limited key's 5 requests do)", f"ok={oks} free={free} limited={limited}")
    hubctl("limit", "clear", "key", pname)


# ---- budget: 200 concurrent requests on a tiny budget -------------------------------------
def test_budget_race():
    user = f"lim-b-{TAG}"
    hubctl("user", "add", user)
    kname = f"lim-budget-{TAG}"
    key = new_key(kname, user)
    kid = uid("api_keys", kname)
    budget = 1000  # micro-USD = $0.001
    hubctl("limit", "set", "key", kname, "--budget", "0.001")
    settle_snapshot()
    text = body()
    est = estimate_micro(text, 32)
    mock_reset()
    results = []
    lock = threading.Lock()

    def one_call(_):
        s, h, o = jrequest("POST", "/v1/chat/completions", text, key=key, timeout=60)
        with lock:
            results.append((s, o))

    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
        list(ex.map(one_call, range(200)))
    elapsed = time.time() - t0
    ok = sum(1 for s, _ in results if s == 200)
    refused = [o for s, o in results if s == 402]
    other = [s for s, _ in results if s not in (200, 402)]
    reached = len(mock_requests())
    check(len(results) == 200 and not other, "200 concurrent requests: every answer is 200 or 402",
          f"others={other[:5]}")
    check(reached == ok, f"the provider got exactly the {ok} admitted requests", f"reached={reached}")
    wait_until(lambda: ledger_rows("key_id", kid) >= ok)
    spent_ledger = ledger("key_id", kid)
    spent, reserved = settled("key", kid)
    over = spent_ledger - budget
    print(f"# budget race: {ok} admitted, {len(refused)} refused in {elapsed:.2f} s; ledger spend "
          f"{spent_ledger} micro-USD of a {budget} budget (beyond it: {max(over, 0)}; one "
          f"reservation: {est})")
    check(ok > 0 and len(refused) > 0, "some requests were admitted, the rest refused",
          f"ok={ok} refused={len(refused)}")
    check(spent_ledger <= budget + est,
          f"spend beyond the budget <= one reservation ({max(over, 0)} <= {est} micro-USD)",
          f"spent={spent_ledger}")
    check(spent == spent_ledger and reserved == 0,
          "the budget row equals the ledger and nothing stays reserved",
          f"row=({spent},{reserved}) ledger={spent_ledger}")
    msg = refused[0]["error"] if refused else {}
    check(msg.get("type") == "insufficient_quota" and msg.get("code") == "budget_exceeded"
          and kname in msg.get("message", "") and MONTH in msg.get("message", ""),
          "402: type insufficient_quota, code budget_exceeded, message names the key and month",
          str(msg))
    # what the burst's reservations held back may still admit a few; then it is used up
    more = 0
    while chat(key)[0] == 200 and more < 100:
        more += 1
    mock_reset()
    after = [chat(key)[0] for _ in range(5)]
    wait_until(lambda: ledger_rows("key_id", kid) >= ok + more)
    spent_ledger = ledger("key_id", kid)
    check(after == [402] * 5 and len(mock_requests()) == 0 and spent_ledger + est > budget
          and spent_ledger <= budget,
          f"once used up ({more} more admitted one by one; {spent_ledger} + one estimate > "
          f"{budget}), every request gets 402 and none reaches the provider", str(after))
    # raising the budget admits again; clearing it removes the limit
    hubctl("limit", "set", "key", kname, "--budget", "1")
    settle_snapshot()
    check(chat(key)[0] == 200, "a raised budget admits again (within a second)")
    hubctl("limit", "clear", "key", kname)


# ---- RPM across two gateway processes -----------------------------------------------------
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class SecondHub:
    """A second hub-gateway on its own socket and a second lighttpd in front of it."""

    def __init__(self):
        self.port = free_port()
        self.sock = os.path.join(HUB_HOME, "run", f"gw2-{TAG}.sock")
        self.conf = os.path.join(HUB_HOME, "etc", f"lighttpd2-{TAG}.conf")
        self.lpid = os.path.join(HUB_HOME, "run", f"lighttpd2-{TAG}.pid")
        self.gw = None

    def start(self):
        log = open(os.path.join(HUB_HOME, "log", f"gateway2-{TAG}.log"), "ab")
        self.gw = subprocess.Popen([os.path.join(HUB_HOME, "sbin", "hub-gateway"), "--config",
                                    HUB_CONF, "--listen", self.sock, "--threads", "4"],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if not wait_until(lambda: os.path.exists(self.sock), 10):
            return False
        text = open(os.path.join(HUB_HOME, "etc", "lighttpd.conf")).read()
        text = re.sub(r'var\.hub_socket = ".*"', f'var.hub_socket = "{self.sock}"', text)
        text = re.sub(r"server\.port = \d+", f"server.port = {self.port}", text)
        text = re.sub(r'server\.pid-file = ".*"', f'server.pid-file = "{self.lpid}"', text)
        text = re.sub(r'server\.errorlog = ".*"',
                      f'server.errorlog = "{HUB_HOME}/log/lighttpd2-error.log"', text)
        text = re.sub(r'server\.breakagelog = ".*"',
                      f'server.breakagelog = "{HUB_HOME}/log/admin-pages2.log"', text)
        with open(self.conf, "w") as f:
            f.write(text)
        if subprocess.run(["lighttpd", "-f", self.conf]).returncode != 0:
            return False
        return wait_until(lambda: self.healthy(), 10)

    def healthy(self):
        try:
            return request("GET", "/healthz", port=self.port, timeout=2)[0] == 200
        except OSError:
            return False

    def stop(self):
        if os.path.exists(self.lpid):
            try:
                os.kill(int(open(self.lpid).read().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass
        if self.gw is not None:
            self.gw.send_signal(signal.SIGTERM)
            try:
                self.gw.wait(15)
            except subprocess.TimeoutExpired:
                self.gw.kill()
        for p in (self.conf,):
            if os.path.exists(p):
                os.unlink(p)


def test_rpm_two_gateways(second):
    user = f"lim-r-{TAG}"
    hubctl("user", "add", user)
    kname = f"lim-rpm-{TAG}"
    key = new_key(kname, user)
    rpm = 7
    hubctl("limit", "set", "key", kname, "--rpm", str(rpm))
    settle_snapshot()
    early_in_minute(30)
    ports = [HUB_PORT, second.port]
    answers = []
    lock = threading.Lock()

    def one_call(i):
        s, h, o = chat(key, port=ports[i % 2], words=3, max_tokens=8)
        with lock:
            answers.append((i % 2, s, h, o))

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as ex:
        list(ex.map(one_call, range(24)))
    admitted = [a for a in answers if a[1] == 200]
    limited = [a for a in answers if a[1] == 429]
    via = {a[0] for a in admitted} | {a[0] for a in limited}
    print(f"# rpm {rpm} across two gateways: {len(admitted)} admitted, {len(limited)} refused "
          f"(gateway 1: {sum(1 for a in admitted if a[0] == 0)} admitted, gateway 2: "
          f"{sum(1 for a in admitted if a[0] == 1)})")
    check(len(admitted) == rpm and len(limited) == 24 - rpm and via == {0, 1},
          f"24 requests alternately through two gateways: exactly rpm={rpm} admitted in the minute",
          f"admitted={len(admitted)} limited={len(limited)}")
    h = limited[0][2] if limited else {}
    ra = int(h.get("retry-after", "0") or 0)
    check(1 <= ra <= 60 and h.get("x-ratelimit-limit-requests") == str(rpm)
          and h.get("x-ratelimit-remaining-requests") == "0"
          and h.get("x-ratelimit-reset-requests", "").endswith("s"),
          "429 has Retry-After (s to the next minute) and x-ratelimit-limit/remaining/reset-requests",
          str(h))
    e = limited[0][3]["error"] if limited else {}
    check(e.get("type") == "rate_limit_error" and kname in e.get("message", "")
          and "requests per minute" in e.get("message", ""),
          "429 body: rate_limit_error naming the key and its limit", str(e))
    rem = sorted(int(a[2].get("x-ratelimit-remaining-requests", -1)) for a in admitted)
    check(rem == list(range(rpm)),
          "admitted answers carry x-ratelimit-remaining-requests counting down to 0", str(rem))
    hubctl("limit", "clear", "key", kname)
    # one by one, alternately: the second gateway continues the first one's count
    kname2 = f"lim-rpm2-{TAG}"
    key2 = new_key(kname2, user)
    hubctl("limit", "set", "key", kname2, "--rpm", "5")
    settle_snapshot()
    early_in_minute(20)
    seq = []
    for i in range(10):
        s, h, _ = chat(key2, port=ports[i % 2], words=3, max_tokens=8)
        seq.append((s, h.get("x-ratelimit-remaining-requests")))
    check([x[0] for x in seq] == [200] * 5 + [429] * 5
          and [x[1] for x in seq[:5]] == ["4", "3", "2", "1", "0"],
          "one by one through gateways 1, 2, 1, 2, ...: remaining 4, 3, 2, 1, 0 across both, "
          "then 429 on both", str(seq))
    hubctl("limit", "clear", "key", kname2)


# ---- TPM -------------------------------------------------------------------------------------
def test_tpm():
    user = f"lim-t-{TAG}"
    hubctl("user", "add", user)
    kname = f"lim-tpm-{TAG}"
    key = new_key(kname, user)
    tpm = 400
    hubctl("limit", "set", "key", kname, "--tpm", str(tpm))
    settle_snapshot()
    early_in_minute(25)
    s, h, o = chat(key, max_tokens=2000)
    check(s == 429 and "retry-after" not in h and "more than the limit" in o["error"]["message"]
          and h.get("x-ratelimit-limit-tokens") == str(tpm),
          "a request estimated above the TPM limit: 429 saying so, without Retry-After",
          f"{s} {o}")
    statuses, actual = [], 0
    for _ in range(12):
        s, h, o = chat(key, words=20, max_tokens=100)
        statuses.append(s)
        if s == 200:
            actual += o["usage"]["total_tokens"]
        else:
            break
    check(statuses[-1] == 429 and statuses.count(200) >= 2 and actual <= tpm,
          f"TPM: {statuses.count(200)} admitted, actual tokens {actual} <= {tpm}, then 429",
          str(statuses))
    check("retry-after" in h and h.get("x-ratelimit-remaining-tokens") is not None
          and "tokens per minute" in o["error"]["message"],
          "the TPM 429 has Retry-After, x-ratelimit-remaining-tokens and says tokens per minute",
          str(h))
    window = one(f"SELECT tokens FROM rate_usage WHERE scope_type = 'key' AND scope_id = "
                 f"{uid('api_keys', kname)} ORDER BY window_start DESC LIMIT 1")
    check(window is not None and int(window) == actual,
          "the window counts the actual tokens after settlement (estimate replaced)",
          f"window={window} actual={actual}")
    hubctl("limit", "clear", "key", kname)


# ---- user and team scopes, alerts ----------------------------------------------------------
def test_user_team():
    team = f"lim-team-{TAG}"
    user = f"lim-u-{TAG}"
    hubctl("user", "add", user, "--team", team)
    k1 = new_key(f"lim-u1-{TAG}", user)
    k2 = new_key(f"lim-u2-{TAG}", user)
    hubctl("limit", "set", "user", user, "--rpm", "3")
    settle_snapshot()
    early_in_minute(20)
    got = [chat(k, words=3, max_tokens=8)[0] for k in (k1, k2, k1, k2, k1)]
    check(got == [200, 200, 200, 429, 429], "a user's RPM counts every key of the user", str(got))
    hubctl("limit", "clear", "user", user)
    hubctl("limit", "set", "team", team, "--budget", "0")
    settle_snapshot()
    s, _, o = chat(k1)
    check(s == 402 and f"team '{team}'" in o["error"]["message"],
          "a team budget of $0 refuses the team's keys with 402 naming the team", str(o))
    hubctl("limit", "clear", "team", team)

    # alerts: a team whose provider answers more than max_tokens (the mock ignores it), so the
    # spend crosses 80 % and 100 % of a $0.0001 budget
    ateam = f"lim-alert-{TAG}"
    auser = f"lim-a-{TAG}"
    hubctl("user", "add", auser, "--team", ateam)
    akey = new_key(f"lim-a-{TAG}", auser)
    hubctl("limit", "set", "team", ateam, "--budget", "0.0001")
    settle_snapshot()
    got = []
    for _ in range(8):
        got.append(chat(akey, words=50, max_tokens=1)[0])
        if got[-1] != 200:
            break
    tid = uid("teams", ateam)
    flags = sql(f"SELECT alert80_at IS NOT NULL, alert100_at IS NOT NULL FROM budget_usage "
                f"WHERE scope_type = 'team' AND scope_id = {tid} AND month = '{MONTH}-01'")
    check(got[-1] == 402 and flags == [["1", "1"]],
          "a team crossing 80 % and 100 % of its budget is flagged (budget_usage)",
          f"{got} {flags}")
    log = open(GW_LOG, errors="replace").read()
    n80 = log.count(f"team '{ateam}' reached 80%")
    n100 = log.count(f"team '{ateam}' reached 100%")
    check(n80 == 1 and n100 == 1, "the gateway logs each threshold once", f"80:{n80} 100:{n100}")
    for _ in range(2):
        chat(akey)
    log = open(GW_LOG, errors="replace").read()
    check(log.count(f"team '{ateam}' reached 100%") == 1, "no repeated alert lines")
    rc, out, _ = hubctl("limit", "list", "--type", "team", check_rc=False)
    line = [ln for ln in out.splitlines() if ateam in ln]
    check(rc == 0 and line and "100%" in line[0], "hubctl limit list shows the 100 % alert", out)
    return ateam


# ---- settlement of failures and streams ----------------------------------------------------
def test_settlement():
    user = f"lim-s-{TAG}"
    hubctl("user", "add", user)
    kname = f"lim-settle-{TAG}"
    key = new_key(kname, user)
    kid = uid("api_keys", kname)
    hubctl("price", "set", "mock/gpt-error-500", "--input", "1", "--output", "1")
    hubctl("price", "set", "mock/gpt-slowstream", "--input", "1", "--output", "1")
    hubctl("limit", "set", "key", kname, "--budget", "1")
    settle_snapshot()
    s, _, _ = chat(key)
    spent0, _ = settled("key", kid)
    s, _, _ = chat(key, model="mock/gpt-error-500")
    spent1, res1 = settled("key", kid)
    check(s >= 500 and spent1 == spent0 and res1 == 0,
          "an upstream failure releases the reservation (nothing charged, nothing reserved)",
          f"status={s} spent {spent0}->{spent1} reserved={res1}")
    st, h, data = request("POST", "/v1/chat/completions", body(stream=True), key=key, timeout=30)
    wait_until(lambda: ledger("key_id", kid) == settled("key", kid)[0], 5)
    spent2, res2 = settled("key", kid)
    check(st == 200 and data.rstrip().endswith(b"[DONE]") and spent2 > spent1 and res2 == 0
          and spent2 == ledger("key_id", kid),
          "a stream settles after it ends: the ledger's cost, nothing left reserved",
          f"spent={spent2} reserved={res2} ledger={ledger('key_id', kid)}")
    # a client that goes away mid-stream: settled with what was metered
    conn = http.client.HTTPConnection("127.0.0.1", HUB_PORT, timeout=30)
    conn.request("POST", "/v1/chat/completions",
                 body(words=40, max_tokens=64, model="mock/gpt-slowstream", stream=True),
                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read1(64)
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    ok = wait_until(lambda: one(f"SELECT COUNT(*) FROM usage_log WHERE key_id = {kid} AND "
                                f"model = 'gpt-slowstream' AND outcome <> 'pending'") == "1", 15)
    time.sleep(0.5)
    spent3, res3 = settled("key", kid)
    outcome = one(f"SELECT outcome FROM usage_log WHERE key_id = {kid} AND model = 'gpt-slowstream'")
    check(ok and res3 == 0 and spent3 == ledger("key_id", kid) and spent3 > spent2,
          f"a client leaving mid-stream: settled to the metered cost ({outcome}), nothing reserved",
          f"spent={spent3} reserved={res3} ledger={ledger('key_id', kid)}")
    hubctl("limit", "clear", "key", kname)


# ---- the Budgets page ----------------------------------------------------------------------
def page(method, path, cookie=None, form=None):
    conn = http.client.HTTPConnection("127.0.0.1", HUB_PORT, timeout=30)
    h = {}
    data = None
    if cookie:
        h["Cookie"] = cookie
    if form is not None:
        data = urllib.parse.urlencode(form)
        h["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, "/admin/" + path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace"), \
            [v for k, v in r.getheaders() if k.lower() == "set-cookie"]
    finally:
        conn.close()


def test_page(alert_team):
    pw_line = open(os.path.join(HUB_HOME, "etc", "admin.password")).read().split("\n")[0]
    admin = login("admin", pw_line.removeprefix("password: ").strip())
    viewer_name, vpw = f"lim-viewer-{TAG}", "Pw-" + secrets.token_urlsafe(15)
    hubctl("user", "add", viewer_name)
    hubctl("user", "role", viewer_name, "viewer")
    hubctl("user", "passwd", viewer_name, stdin=vpw + "\n")
    viewer = login(viewer_name, vpw)
    if not check(admin is not None and viewer is not None, "admin and viewer sign in"):
        return
    s, _, text, _ = page("GET", "limits.cgi", viewer)
    check(s == 200 and "Budgets &amp; limits" in text and alert_team in text
          and "100 % reached" in text and 'name="budget"' not in text,
          "a viewer reads the Budgets page (alerts shown, no form)")
    check('href="/admin/limits.cgi"' in text, "the navigation has a Budgets entry")
    found = False
    for n in range(1, 40):
        s, _, t, _ = page("GET", f"users.cgi?view=teams&page={n}", admin)
        row = re.search(r"<tr><td>" + re.escape(alert_team) + r"</td>.*?</tr>", t, re.S)
        if row:
            found = "100 % reached" in row.group(0) and "limits.cgi" in row.group(0)
            break
        if "page=" + str(n + 1) not in t:
            break
    check(found, "the teams page shows the team's budget with its 100 % alert")
    s, _, text, _ = page("POST", "limits.cgi", viewer, {"action": "set", "type": "team",
                                                        "name": alert_team, "budget": "9",
                                                        "csrf": csrf_of(text)})
    check(s == 403, "a viewer cannot change limits (403)", s)
    s, _, text, _ = page("GET", "limits.cgi", admin)
    token = csrf_of(text)
    team = f"lim-page-team-{TAG}"
    hubctl("team", "add", team)
    s, _, _, _ = page("POST", "limits.cgi", admin, {"action": "set", "type": "team", "name": team,
                                                    "budget": "3.25", "rpm": "", "tpm": "900"})
    check(s == 403, "a POST without the CSRF token changes nothing (403)", s)
    s, h, _, _ = page("POST", "limits.cgi", admin, {"action": "set", "type": "team", "name": team,
                                                    "budget": "3.25", "rpm": "", "tpm": "900",
                                                    "csrf": token})
    row = sql(f"SELECT l.budget_micro, l.rpm, l.tpm FROM limits l JOIN teams t ON t.id = l.scope_id "
              f"AND l.scope_type = 'team' WHERE t.name = '{team}'")
    check(s == 303 and row == [["3250000", "NULL", "900"]], "an admin sets a team's limits", str(row))
    s, _, text, _ = page("POST", "limits.cgi", admin, {"action": "set", "type": "team", "name": team,
                                                       "budget": "lots", "csrf": token})
    check(s == 400 and "budget" in text, "a malformed budget is refused with a message (400)", s)
    s, _, text, _ = page("POST", "limits.cgi", admin, {"action": "set", "type": "user",
                                                       "name": "nobody-" + TAG, "rpm": "5",
                                                       "csrf": token})
    check(s == 404, "an unknown user is refused (404)", s)
    s, _, text, _ = page("GET", f"limits.cgi?type=team&name={team}", admin)
    check(s == 200 and 'value="3.25"' in text and 'value="900"' in text,
          "the form is filled with a scope's current values")
    s, _, _, _ = page("POST", "limits.cgi", admin, {"action": "clear", "type": "team", "name": team,
                                                    "csrf": token})
    gone = one(f"SELECT COUNT(*) FROM limits l JOIN teams t ON t.id = l.scope_id AND "
               f"l.scope_type = 'team' WHERE t.name = '{team}'")
    audits = one(f"SELECT COUNT(*) FROM audit_log WHERE target = '{team}' AND via = 'pages' "
                 f"AND action IN ('limit.set', 'limit.clear')")
    check(s == 303 and gone == "0" and audits == "2", "an admin clears them; both changes audited",
          f"{s} {gone} {audits}")


def main():
    fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
    test_hubctl()
    free_user = f"lim-free-{TAG}"
    hubctl("user", "add", free_user)
    test_no_limits_no_queries(new_key(f"lim-free-{TAG}", free_user))
    test_budget_race()
    second = SecondHub()
    try:
        if check(second.start(), "a second gateway process and web server start"):
            test_rpm_two_gateways(second)
    finally:
        second.stop()
    test_tpm()
    alert_team = test_user_team()
    test_settlement()
    test_page(alert_team)
    del fx
    done()


main()
