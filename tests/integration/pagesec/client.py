"""The admin pages' security tests (test_pages_security.py): the HTTP client that keeps every
answer (scanned for secrets at the end), sessions and sign-in, hub.conf, the database snapshot
that shows whether anything changed, and the test's people (admin, viewer, members)."""
import http.client
import os
import re
import secrets
import time
import urllib.parse

from hubtest import HUB_CONF, HUB_HOME, HUB_PORT, check, done, hubctl, one, sql

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))  # the repository
TAG = secrets.token_hex(3)
XSS = "<script>alert(1)</script>"
XSS_ESC = "&lt;script&gt;alert(1)&lt;/script&gt;"
SEC_HEADERS = {
    "content-security-policy": lambda v: "default-src 'self'" in v,
    "x-frame-options": lambda v: v == "DENY",
    "x-content-type-options": lambda v: v == "nosniff",
    "referrer-policy": lambda v: v == "no-referrer",
    "cache-control": lambda v: "no-store" in v,
}


def conf(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s*([a-z_]+)\s*=\s*(.*?)\s*$", line)
            if m:
                out[m.group(1)] = m.group(2)  # the last value wins, as in hub_config_load
    return out


CFG = conf(HUB_CONF)
BASE = CFG.get("admin_base", "/admin")
MODES = [m.strip() for m in CFG.get("admin_auth", "local").split(",")]
MAX_FAIL = int(CFG.get("login_max_failures", "5"))
LIMITS_PAGE = "limits" if os.path.exists(os.path.join(HUB_HOME, "libexec", "hub", "admin", "limits.cgi")) else ""
bodies = []  # (label, text) of every answer: scanned for secrets at the end
secret_values = {}  # label -> value: must never be in an answer or a log


def q(s):
    return s.replace("\\", "\\\\").replace("'", "''")


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.header_list = headers
        self.h = {k.lower(): v for k, v in headers}
        self.text = body.decode("utf-8", "replace")

    def cookies(self):
        return [v for k, v in self.header_list if k.lower() == "set-cookie"]

    def cookie(self, name):
        for c in self.cookies():
            if c.startswith(name + "="):
                return c
        return None

    def location(self):
        return self.h.get("location", "")


def http_req(method, path, *, cookie=None, form=None, headers=None, src=None, port=None,
             auth=None, label=None):
    """One request; path under BASE unless it starts with "/". form: dict or list of pairs."""
    conn = http.client.HTTPConnection("127.0.0.1", port or HUB_PORT, timeout=30,
                                      source_address=(src, 0) if src else None)
    url = path if path.startswith("/") else f"{BASE}/{path}"
    h = {}
    body = None
    if cookie:
        h["Cookie"] = cookie
    if form is not None:
        body = urllib.parse.urlencode(form)
        h["Content-Type"] = "application/x-www-form-urlencoded"
    if auth:
        import base64
        h["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    if headers:
        h.update(headers)
    try:
        conn.request(method, url, body=body, headers=h)
        r = conn.getresponse()
        resp = Resp(r.status, r.getheaders(), r.read())
    finally:
        conn.close()
    bodies.append((label or f"{method} {url}", resp.text))
    return resp


def headers_ok(r):
    bad = [k for k, ok in SEC_HEADERS.items() if not ok(r.h.get(k, ""))]
    return not bad, bad


def csrf_of(text):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', text)
    return m.group(1) if m else None


class Session:
    def __init__(self, who, value, port=None, auth=None):
        self.who = who
        self.value = value
        self.port = port
        self.auth = auth

    @property
    def cookie(self):
        return f"hub_session={self.value}" if self.value else None

    def get(self, path, **kw):
        r = http_req("GET", path, cookie=self.cookie, port=self.port, auth=self.auth, **kw)
        c = r.cookie("hub_session")
        if c and self.auth:  # webserver mode hands out the session on the first view
            self.value = c.split(";")[0].split("=", 1)[1]
        return r

    def csrf(self, path="tokens.cgi"):
        return csrf_of(self.get(path).text)

    def post(self, path, form, csrf=True, **kw):
        form = dict(form)
        if csrf is True:
            form["csrf"] = self.csrf()
        elif csrf:
            form["csrf"] = csrf
        return http_req("POST", path, cookie=self.cookie, form=form, port=self.port,
                        auth=self.auth, **kw)


def login(user, password, src=None, planted=None):
    """Signs in through login.cgi; returns (Session or None, the POST's Resp, the GET's Resp)."""
    g = http_req("GET", "login.cgi", src=src)
    pre = g.cookie("hub_login")
    token = csrf_of(g.text)
    pre_val = pre.split(";")[0].split("=", 1)[1] if pre else ""
    cookie = f"hub_login={pre_val}"
    if planted:
        cookie += f"; hub_session={planted}"
    r = http_req("POST", "login.cgi", cookie=cookie, src=src,
                 form={"action": "login", "user": user, "password": password, "csrf": token or ""})
    c = r.cookie("hub_session")
    if r.status == 303 and c:
        return Session(user, c.split(";")[0].split("=", 1)[1]), r, g
    return None, r, g


def api_status(key, path="/v1/models"):
    conn = http.client.HTTPConnection("127.0.0.1", HUB_PORT, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def wait_api(key, want, timeout=2.0):
    end = time.time() + timeout
    s = api_status(key)
    while s != want and time.time() < end:
        time.sleep(0.1)
        s = api_status(key)
    return s


def snapshot():
    """What a change would touch (sessions and login throttling excluded)."""
    return {
        "providers": sql("SELECT id, name, type, base_url, enabled, internal FROM providers ORDER BY id"),
        "credentials": sql("SELECT id, provider_id, label, status, HEX(SHA2(secret_enc, 256)) FROM credentials ORDER BY id"),
        "models": sql("SELECT id, name, provider_id, enabled, priority FROM models ORDER BY id"),
        "keys": sql("SELECT id, name, COALESCE(revoked_at, ''), COALESCE(expires_at, '') FROM api_keys ORDER BY id"),
        "users": sql("SELECT id, name, role, disabled, COALESCE(team_id, ''), COALESCE(SHA2(password_hash, 256), '') FROM users ORDER BY id"),
        "teams": sql("SELECT id, name FROM teams ORDER BY id"),
        "memberships": sql("SELECT user_id, team_id FROM memberships ORDER BY user_id, team_id"),
        "settings": sql("SELECT name, COALESCE(value, ''), HEX(SHA2(COALESCE(secret_enc, ''), 256)) FROM settings ORDER BY name"),
        "audit": sql("SELECT COALESCE(MAX(id), 0) FROM audit_log"),
        # tables of newer pages, when the schema has them
        **{t: sql(f"CHECKSUM TABLE {t}") for t in OPTIONAL_TABLES if table_exists(t)},
    }


OPTIONAL_TABLES = ("limits", "prices")


def table_exists(t):
    return one(f"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'hub' AND table_name = '{q(t)}'") == "1"


def diff(a, b):
    return [k for k in a if a[k] != b[k]]


# ---- the people ---------------------------------------------------------------------------
def make_user(admin, name, role, password):
    """A local user with a password and a role: hubctl, else users.cgi as admin."""
    rc, _, err = hubctl("user", "add", name, check_rc=False)
    ok = rc == 0
    if ok and role != "member":
        ok = hubctl("user", "role", name, role, check_rc=False)[0] == 0
    if ok:
        ok = hubctl("user", "passwd", name, stdin=password + "\n", check_rc=False)[0] == 0
    if not ok:
        r = admin.post("users.cgi", {"action": "create", "name": name, "role": role,
                                     "password": password, "password2": password})
        ok = r.status == 303
    return ok


def setup():
    admin_pw = open(os.path.join(HUB_HOME, "etc", "admin.password")).read().split("\n")[0]
    admin_pw = admin_pw.removeprefix("password: ").strip()
    secret_values["admin password"] = admin_pw
    admin, r, _ = login("admin", admin_pw)
    if not check(admin is not None, "the quickstart admin signs in (admin.password)", r.status):
        done()
    people = {"admin": admin}
    pw = {}
    for who, role in (("viewer", "viewer"), ("member", "member"), ("member2", "member"),
                      ("locked", "member")):
        name = f"sec-{who}-{TAG}"
        pw[who] = "Pw-" + secrets.token_urlsafe(15)
        secret_values[f"{who} password"] = pw[who]
        made = make_user(admin, name, role, pw[who])
        check(made, f"a {role} user {name} with a password is created (hubctl user add/role/passwd)")
        people[who + "_name"] = name
    for who in ("viewer", "member", "member2"):
        s, r, _ = login(people[who + "_name"], pw[who])
        check(s is not None, f"the {who} signs in", r.status)
        people[who] = s
    people["pw"] = pw
    for k, v in people.items():
        if isinstance(v, Session):
            secret_values[f"{k} session id"] = v.value
    return people


def ids():
    """Ids of existing objects for the ?id= pages."""
    return {
        "provider": one("SELECT MIN(id) FROM providers"),
        "model": one("SELECT MIN(id) FROM models"),
        "user": one("SELECT id FROM users WHERE name = 'admin'"),
    }


def new_key_of(text):
    m = re.search(r'name="new_key" value="(hub_[A-Za-z0-9]+)"', text)
    return m.group(1) if m else None


def no_raw(r):
    return XSS not in r.text and "<img src=x" not in r.text
