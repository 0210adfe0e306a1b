"""Shared helpers for hub's integration tests (Python standard library only).

Each test module prints TAP-style lines ("ok - NAME" / "not ok - NAME") that tests/run.sh
counts. The environment comes from tests/run.sh: HUB_HOME, HUB_PORT, HUB_CONF, MOCK_PORT.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

HUB_HOME = os.environ["HUB_HOME"]
HUB_PORT = int(os.environ["HUB_PORT"])
HUB_CONF = os.environ["HUB_CONF"]
MOCK_PORT = int(os.environ.get("MOCK_PORT", "0"))
HUBCTL = os.path.join(HUB_HOME, "bin", "hubctl")
SOCK = os.path.join(HUB_HOME, "run", "mysqld.sock")
failures = 0


def check(cond, name, detail=""):
    """Prints one TAP line; returns cond."""
    global failures
    if cond:
        print(f"ok - {name}", flush=True)
    else:
        failures += 1
        extra = f" # {detail}" if detail else ""
        print(f"not ok - {name}{extra}", flush=True)
    return cond


def done():
    sys.exit(1 if failures else 0)


def hubctl(*args, stdin=None, check_rc=True):
    """Runs hubctl; returns (rc, stdout, stderr)."""
    p = subprocess.run([HUBCTL, "--config", HUB_CONF, *args], input=stdin, capture_output=True,
                       text=True, timeout=60)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"hubctl {' '.join(args)} failed: {p.stderr.strip()}")
    return p.returncode, p.stdout, p.stderr


def sql(query):
    """Runs SQL as the local admin over the socket; returns rows as lists of strings."""
    p = subprocess.run(["mariadb", "--no-defaults", "-S", SOCK, "-u", "root", "-N", "-B", "hub",
                        "-e", query], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"sql failed: {p.stderr.strip()}")
    return [line.split("\t") for line in p.stdout.splitlines() if line != ""]


def one(query):
    """The first column of the first row of a query, or None when there is no row."""
    rows = sql(query)
    return rows[0][0] if rows else None


def request(method, path, body=None, key=None, headers=None, port=None, timeout=30):
    """One HTTP request to the hub (or another port). Returns (status, headers, bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port or HUB_PORT, timeout=timeout)
    h = {}
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    if body is not None:
        h["Content-Type"] = "application/json"
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
    if headers:
        h.update(headers)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def jrequest(method, path, body=None, key=None, **kw):
    """Like request, with the body parsed as JSON (None when it is not JSON)."""
    status, headers, data = request(method, path, body, key, **kw)
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    return status, headers, parsed


def is_openai_error(obj):
    return (isinstance(obj, dict) and isinstance(obj.get("error"), dict)
            and all(k in obj["error"] for k in ("message", "type", "param", "code")))


def mock_requests():
    status, _, data = request("GET", "/__mock/requests", port=MOCK_PORT)
    return json.loads(data)


def mock_reset():
    request("POST", "/__mock/reset", body=b"", port=MOCK_PORT)


def usage_rows(where="1=1"):
    cols = ("request_id,attempt,key_id,user_id,team_id,app,provider,credential_id,model,endpoint,stream,status,"
            "prompt_tokens,completion_tokens,total_tokens,images,cost_micro,latency_ms,ttfb_ms,"
            "outcome")
    names = cols.split(",")
    rows = sql(f"SELECT {cols} FROM usage_log WHERE {where}")
    out = []
    for r in rows:
        d = {}
        for n, v in zip(names, r):
            d[n] = None if v == "NULL" else v
        out.append(d)
    return out


def wait_for(fn, timeout=10.0, interval=0.1):
    """Polls fn until it returns a truthy value or the timeout passes; returns the last value."""
    end = time.time() + timeout
    v = fn()
    while not v and time.time() < end:
        time.sleep(interval)
        v = fn()
    return v


def usage_row(request_id, timeout=10.0):
    """Waits for the final (non-pending) usage row of a request id."""
    def get():
        rows = usage_rows(f"request_id = '{request_id}'")
        rows = [r for r in rows if r["outcome"] != "pending"]
        return rows[0] if rows else None
    return wait_for(get, timeout)


# ---- the admin pages --------------------------------------------------------------------

ADMIN = "/admin"


def web(method, path, cookie=None, form=None):
    """One HTTP request to the pages, form-encoded when form is given. Returns (status, headers
    with lower-case names — several Set-Cookie lines joined by newlines —, text)."""
    conn = http.client.HTTPConnection("127.0.0.1", HUB_PORT, timeout=30)
    h = {}
    body = None
    if cookie:
        h["Cookie"] = cookie
    if form is not None:
        body = urllib.parse.urlencode(form)
        h["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        hd = {}
        for k, v in r.getheaders():
            hd[k.lower()] = hd[k.lower()] + "\n" + v if k.lower() in hd else v
        return r.status, hd, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def csrf_of(text):
    """The CSRF token of the first form on a page ("" when there is none)."""
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', text)
    return m.group(1) if m else ""


def login(user, password):
    """Signs in through login.cgi; returns the Cookie header value of the session, or None."""
    st, hd, text = web("GET", f"{ADMIN}/login.cgi")
    pre = re.search(r"hub_login=([^;]+)", hd.get("set-cookie", ""))
    st, hd, _ = web("POST", f"{ADMIN}/login.cgi", cookie=f"hub_login={pre.group(1) if pre else ''}",
                    form={"action": "login", "user": user, "password": password, "csrf": csrf_of(text)})
    m = re.search(r"hub_session=([0-9a-f]+)", hd.get("set-cookie", ""))
    return f"hub_session={m.group(1)}" if st == 303 and m else None
