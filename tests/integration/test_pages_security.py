"""The admin pages' security, over plain HTTP against the quickstart's hub (lighttpd) and the
test-only Apache of tests/webserver-auth/ (the "webserver" sign-in mode; started here when
not running, stopped again at the end).

  * roles: every page for signed-out, member, viewer and admin → 303 to login.cgi / 403 /
    200 / 404 as the roles allow; viewers get read-only pages; every answer carries the
    security headers (CSP default-src 'self', X-Frame-Options DENY, nosniff,
    Referrer-Policy no-referrer, Cache-Control no-store);
  * CSRF: forged POSTs (no csrf field, a wrong one, another session's) → 403 and nothing
    changed; the sign-in form's pre-session token; POSTs by too small a role → 403;
  * GET never changes anything, also with action=… parameters and a valid csrf;
  * self-service isolation: nobody revokes another user's token or a service key through
    tokens.cgi by changing ids (404, the key still works);
  * cookies: HttpOnly, SameSite=Strict, Path=/, no Secure only because hub.conf says
    cookie_secure = 0 (asserted), a new id at every sign-in, never in the HTML, hashed in the
    database; sign-out ends the session;
  * escaping: hostile values in query strings, refused forms, e-mail addresses and a user
    name provisioned by the web server appear escaped; refused values get a readable 400;
  * sign-in throttling: login_max_failures wrong passwords → 429 for the account and the
    client address (run from other loopback addresses, cleaned up after), no user
    enumeration;
  * the webserver mode: Apache's Basic auth, groups → roles, headers cannot forge the user
    or the groups, CSRF still applies, another user's session cookie does not carry over;
  * secrets: the fixtures' canary provider key and one added through the page never appear
    in a page, an error, or a log file under $HUB_HOME/log.

Env (tests/run.sh): HUB_HOME, HUB_PORT, HUB_CONF; MOCK_PORT (optional). hub.conf should list
admin_auth = local,oidc,webserver (the header-forging check on the main server needs
webserver) — see the report lines printed as "# note:" otherwise.
"""
import html
import http.client
import json
import os
import re
import secrets
import subprocess
import time
import urllib.parse

from hubtest import HUB_CONF, HUB_HOME, HUB_PORT, MOCK_PORT, check, done, hubctl, sql

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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


def one(query):
    rows = sql(query)
    return rows[0][0] if rows else None


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


# ---- the role matrix ------------------------------------------------------------------------
def role_matrix(p):
    i = ids()
    # path, signed out, member, viewer, admin
    pages = [
        ("", 303, 200, 200, 200),
        ("index.cgi", 303, 200, 200, 200),
        ("providers.cgi", 303, 403, 200, 200),
        ("providers.cgi?new=1", 303, 403, 403, 200),
        (f"providers.cgi?id={i['provider']}", 303, 403, 200, 200),
        ("providers.cgi?id=4294967295", 303, 403, 404, 404),
        ("providers.cgi?id=x", 303, 403, 404, 404),
        ("models.cgi", 303, 403, 403, 200),
        ("models.cgi?view=prices", 303, 403, 403, 200),
        (f"models.cgi?id={i['model']}", 303, 403, 403, 200),
        ("keys.cgi", 303, 403, 200, 200),
        ("keys.cgi?new=1", 303, 403, 403, 200),
        ("keys.cgi?status=revoked&kind=service", 303, 403, 200, 200),
        ("users.cgi", 303, 403, 403, 200),
        ("users.cgi?view=teams", 303, 403, 403, 200),
        (f"users.cgi?id={i['user']}", 303, 403, 403, 200),
        ("tokens.cgi", 303, 200, 200, 200),
        ("audit.cgi", 303, 403, 200, 200),
        ("audit.cgi?verify=1", 303, 403, 200, 200),
        ("audit.cgi?actor=admin&target_type=user&from=2000-01-01&to=2999-12-31", 303, 403, 200, 200),
        ("settings.cgi", 303, 403, 403, 200),
        ("login.cgi", 200, 303, 303, 303),
    ]
    # pages added since this matrix was written (when installed): their roles
    newer = [
        ("analytics.cgi", 303, 200, 200, 200),
        ("limits.cgi", 303, 403, 200, 200),
    ]
    installed = set(os.listdir(os.path.join(HUB_HOME, "libexec", "hub", "admin")))
    pages += [row for row in newer if row[0] in installed]
    known = {row[0].split("?")[0] for row in pages} | {"oidc.cgi"}
    unknown = sorted(f for f in installed if f.endswith(".cgi") and f not in known)
    if unknown:
        print(f"# note: pages not in the role matrix yet (only checked signed out): {', '.join(unknown)}", flush=True)
    pages += [(f, 303, None, None, None) for f in unknown]
    pages = [row for row in pages if "=None" not in row[0]]  # no provider or model to show
    roles = [("signed out", None), ("member", p["member"]), ("viewer", p["viewer"]),
             ("admin", p["admin"])]
    for col, (role, sess) in enumerate(roles, start=1):
        hdr_bad = []
        for row in pages:
            path, want = row[0], row[col]
            if want is None:
                continue
            r = sess.get(path) if sess else http_req("GET", path)
            ok = r.status == want
            detail = f"got {r.status}"
            if want == 303 and role == "signed out":
                ok = ok and r.location() == f"{BASE}/login.cgi"
                detail += f" -> {r.location()}"
            elif want == 303:  # login.cgi while signed in: to the start page
                ok = ok and r.location() == f"{BASE}/"
                detail += f" -> {r.location()}"
            if want == 403:
                ok = ok and "You do not have access to this page." in r.text
            check(ok, f"{role}: GET {BASE}/{path} -> {want}", detail)
            good, bad = headers_ok(r)
            if not good:
                hdr_bad.append(f"{path}: {bad}")
            if sess and sess.value in r.text:
                check(False, f"{role}: the session id is not in the page {path}")
        check(not hdr_bad, f"{role}: every answer carries CSP default-src 'self', X-Frame-Options DENY, "
              "nosniff, Referrer-Policy no-referrer, Cache-Control no-store", "; ".join(hdr_bad[:3]))

    # viewers: read-only pages (no form but sign-out), no admin buttons
    v = p["viewer"]
    for path in ("providers.cgi", f"providers.cgi?id={i['provider']}", "keys.cgi", "audit.cgi") + \
            (("limits.cgi",) if LIMITS_PAGE else ()):
        t = v.get(path).text
        posts = len(re.findall(r'<form method="post"', t))
        check(posts == 1 and 'value="logout"' in t, f"viewer: {path} is read-only (only the sign-out form)",
              f"{posts} POST forms")
    t = p["admin"].get("keys.cgi").text
    check('value="revoke"' in t or "No keys match" in t, "admin: keys.cgi has the revoke buttons")
    # the navigation lists only what the role may open
    nav = {role: re.findall(r'<li><a href="[^"]+/([a-z]+)\.cgi"', s.get("").text)
           for role, s in roles[1:]}
    admin_only = {"models", "users", "settings"}
    check("tokens" in nav["member"] and not set(nav["member"]) & (admin_only | {"providers", "keys", "audit"}),
          "member: the navigation shows My tokens and no admin or viewer page", nav["member"])
    check({"providers", "keys", "tokens", "audit"} <= set(nav["viewer"]) and not set(nav["viewer"]) & admin_only,
          "viewer: the navigation shows providers, keys, tokens, audit and no admin-only page", nav["viewer"])
    check(set(nav["admin"]) >= {"providers", "models", "keys", "users", "tokens", "audit", "settings"},
          "admin: the navigation shows every page", nav["admin"])
    # every navigation entry opens for its role
    for role, s in roles[1:]:
        bad = [f"{n}.cgi:{st}" for n in nav[role] for st in [s.get(f"{n}.cgi").status] if st != 200]
        check(not bad, f"{role}: every page in the navigation opens (200)", bad)

    # other methods
    for path in ("providers.cgi", "audit.cgi", "login.cgi", "index.cgi"):
        r = http_req("PUT", path, cookie=p["admin"].cookie, form={"a": "b"})
        allow = r.h.get("allow", "")
        check(r.status == 405 and "GET" in allow and headers_ok(r)[0], f"PUT {path} -> 405 with Allow",
              f"{r.status} {allow}")
    r = http_req("DELETE", "keys.cgi", cookie=p["admin"].cookie)
    check(r.status == 405, "DELETE keys.cgi -> 405", r.status)
    r = http_req("POST", "audit.cgi", cookie=p["admin"].cookie, form={"csrf": p["admin"].csrf()})
    check(r.status == 405, "POST to a read-only page (audit.cgi) -> 405", r.status)
    r = http_req("POST", "oidc.cgi", form={"start": "1"})
    check(r.status in (404, 405), "oidc.cgi refuses POST", r.status)
    r = http_req("HEAD", "providers.cgi", cookie=p["admin"].cookie)
    check(r.status == 200 and r.text == "" and headers_ok(r)[0], "HEAD providers.cgi -> 200, no body, headers", r.status)

    # the stylesheet the pages link to
    r = http_req("GET", "static/hub.css")
    ct = r.h.get("content-type", "")
    check(r.status == 200 and ct.startswith("text/css"),
          "the stylesheet /admin/static/hub.css is served as text/css (browsers refuse to apply "
          "another type)", f"{r.status} Content-Type: {ct}")


# ---- CSRF -------------------------------------------------------------------------------
def csrf_tests(p):
    admin, member, viewer = p["admin"], p["member"], p["viewer"]
    victim = hubctl("key", "create", "--name", f"sec-victim-{TAG}", "--user", p["member_name"])[1].strip()
    secret_values["victim key"] = victim
    vid = one(f"SELECT id FROM api_keys WHERE name = 'sec-victim-{TAG}'")
    mid = one(f"SELECT id FROM users WHERE name = '{q(p['member_name'])}'")
    p["victim"], p["victim_id"], p["member_id"] = victim, vid, mid
    check(api_status(victim) == 200, "a test key works before the forged requests")
    forged = {
        "no csrf field": None,
        "a wrong csrf value": secrets.token_hex(32),
        "another session's csrf (the viewer's)": viewer.csrf(),
        "an empty csrf": "",
    }
    before = snapshot()
    for how, tok in forged.items():
        extra = {} if tok is None else {"csrf": tok}
        cases = [
            ("revoke a key", "keys.cgi", {"action": "revoke", "id": vid}),
            ("create a provider", "providers.cgi", {"action": "create", "name": f"sec-forged-{TAG}",
                                                    "type": "openai", "secret": "sk-forged-0123456789"}),
            ("change a role", "users.cgi", {"action": "role", "id": mid, "role": "admin"}),
            ("disable a user", "users.cgi", {"action": "disable", "id": mid}),
            ("save the OIDC settings", "settings.cgi", {"action": "save", "issuer": "https://evil.example.test"}),
            ("add a model route", "models.cgi", {"action": "create", "name": f"sec-forged-{TAG}",
                                                 "provider": ids()["provider"]}),
        ]
        if LIMITS_PAGE:
            cases.append(("set a budget", "limits.cgi", {"action": "set", "type": "user",
                                                         "name": p["member_name"], "budget": "1"}))
        for what, path, form in cases:
            r = http_req("POST", path, cookie=admin.cookie, form={**form, **extra})
            check(r.status == 403 and "nothing was changed" in r.text and headers_ok(r)[0],
                  f"forged POST ({how}) to {what} -> 403 'nothing was changed'", r.status)
        r = http_req("POST", "tokens.cgi", cookie=member.cookie,
                     form={"action": "create", "label": f"forged{TAG}", **extra})
        check(r.status == 403, f"forged POST ({how}) to create a member's token -> 403", r.status)
    after = snapshot()
    check(not diff(before, after), "the database shows nothing changed after the forged POSTs (no audit row)",
          diff(before, after))
    check(api_status(victim) == 200, "the key of the forged revoke still works")
    # sign-out with a wrong csrf keeps the session
    r = http_req("POST", "login.cgi", cookie=admin.cookie, form={"action": "logout", "csrf": secrets.token_hex(32)})
    check(r.status == 403 and admin.get("").status == 200, "a forged sign-out -> 403, still signed in", r.status)
    # too small a role, with its own valid csrf
    before = snapshot()
    r = viewer.post("keys.cgi", {"action": "revoke", "id": vid})
    check(r.status == 403, "viewer: revoking a key (valid csrf) -> 403", r.status)
    r = viewer.post("providers.cgi", {"action": "create", "name": f"sec-viewer-{TAG}", "type": "openai",
                                      "secret": "sk-viewer-0123456789"})
    check(r.status == 403, "viewer: adding a provider (valid csrf) -> 403", r.status)
    r = member.post("users.cgi", {"action": "role", "id": mid, "role": "admin"})
    check(r.status == 403, "member: making themself admin (valid csrf) -> 403", r.status)
    r = member.post("settings.cgi", {"action": "save", "issuer": "https://evil.example.test"})
    check(r.status == 403, "member: changing the settings (valid csrf) -> 403", r.status)
    check(not diff(before, snapshot()), "nothing changed after the POSTs of too small roles")
    check(api_status(victim) == 200, "the key still works")
    # the sign-in form: a pre-session double-submit token
    g = http_req("GET", "login.cgi")
    pre = g.cookie("hub_login") or ""
    check("HttpOnly" in pre and "SameSite=Strict" in pre and f"Path={BASE}/login.cgi" in pre,
          "the sign-in form's token cookie is HttpOnly, SameSite=Strict, limited to login.cgi", pre)
    pw = p["pw"]["viewer"]
    r = http_req("POST", "login.cgi", form={"action": "login", "user": p["viewer_name"], "password": pw,
                                            "csrf": csrf_of(g.text) or ""})
    check(r.status == 403 and not r.cookie("hub_session"), "a sign-in POST without the token cookie -> 403, no session", r.status)
    r = http_req("POST", "login.cgi", cookie=f"hub_login={secrets.token_hex(32)}",
                 form={"action": "login", "user": p["viewer_name"], "password": pw, "csrf": secrets.token_hex(32)})
    check(r.status == 403 and not r.cookie("hub_session"), "a sign-in POST whose token does not match its cookie -> 403, no session", r.status)


# ---- GET changes nothing ----------------------------------------------------------------------
def get_is_safe(p):
    admin, member, viewer = p["admin"], p["member"], p["viewer"]
    i = ids()
    tok_id = one(f"SELECT MIN(id) FROM api_keys WHERE user_id = {int(p['member_id'])}")
    before = snapshot()
    for who, s in (("admin", admin), ("viewer", viewer), ("member", member)):
        c = s.csrf()
        gets = [
            f"keys.cgi?action=revoke&id={p['victim_id']}&csrf={c}",
            f"tokens.cgi?action=revoke&id={tok_id}&csrf={c}",
            f"tokens.cgi?action=create&label=get{TAG}&csrf={c}",
            f"providers.cgi?action=create&name=sec-get-{TAG}&type=openai&secret=sk-get-0123456789&csrf={c}",
            f"providers.cgi?action=disable&id={i['provider']}&csrf={c}",
            f"users.cgi?action=role&id={p['member_id']}&role=admin&csrf={c}",
            f"users.cgi?action=disable&id={p['member_id']}&csrf={c}",
            f"users.cgi?action=create&name=sec-get-{TAG}&role=admin&password=Get-{TAG}-0123456789&password2=Get-{TAG}-0123456789&csrf={c}",
            f"models.cgi?action=remove&id={i['model']}&csrf={c}",
            f"settings.cgi?action=save&issuer=https%3A%2F%2Fevil.example.test&csrf={c}",
            f"login.cgi?action=logout&csrf={c}",
        ]
        if LIMITS_PAGE:
            gets.append(f"limits.cgi?action=set&type=user&name={p['member_name']}&budget=1&csrf={c}")
        for g in gets:
            s.get(g)
        check(s.get("").status == 200, f"{who}: still signed in after GET login.cgi?action=logout")
    after = snapshot()
    check(not diff(before, after), "GET with action=… parameters and a valid csrf changes nothing (every role)",
          diff(before, after))
    check(api_status(p["victim"]) == 200, "the key named in GET keys.cgi?action=revoke still works")


# ---- tokens: isolation between users ------------------------------------------------------------
def new_key_of(text):
    m = re.search(r'name="new_key" value="(hub_[A-Za-z0-9]+)"', text)
    return m.group(1) if m else None


def token_isolation(p):
    member, member2, viewer, admin = p["member"], p["member2"], p["viewer"], p["admin"]
    r = member.post("tokens.cgi", {"action": "create", "label": f"own{TAG}", "expires_days": "7"})
    tok = new_key_of(r.text)
    check(r.status == 200 and tok, "member: tokens.cgi creates a token, shown once", r.status)
    check("no-store" in r.h.get("cache-control", ""), "the answer with the token is not stored")
    secret_values["member token"] = tok or "-"
    tid = one(f"SELECT id FROM api_keys WHERE name = '{q(p['member_name'])}:own{TAG}'")
    check(api_status(tok) == 200, "the member's token works")
    page2 = member2.get("tokens.cgi").text
    check(f"own{TAG}" not in page2 and tok[:12] not in page2, "another member's tokens.cgi does not list it")
    for who, s in (("another member", member2), ("a viewer", viewer), ("an admin (self-service page)", admin)):
        r = s.post("tokens.cgi", {"action": "revoke", "id": tid})
        check(r.status in (403, 404), f"{who} cannot revoke the member's token by its id (tokens.cgi) -> 404", r.status)
    r = member2.post("tokens.cgi", {"action": "revoke", "id": p["victim_id"]})
    check(r.status in (403, 404), "a member cannot revoke a service key through tokens.cgi -> 404", r.status)
    r = member2.post("tokens.cgi", {"action": "revoke", "id": "0"})
    check(r.status == 400, "a malformed id -> 400", r.status)
    check(one(f"SELECT COUNT(*) FROM api_keys WHERE id IN ({int(tid)}, {int(p['victim_id'])}) AND revoked_at IS NULL") == "2",
          "the database shows both keys unrevoked")
    check(api_status(tok) == 200 and api_status(p["victim"]) == 200, "both keys still work")
    r = member.post("tokens.cgi", {"action": "revoke", "id": tid})
    check(r.status == 303 and r.location() == f"{BASE}/tokens.cgi?done=revoked", "the owner revokes it -> 303", r.status)
    check(wait_api(tok, 401, 1.5) == 401, "the revoked token is refused")


# ---- cookies and sessions ------------------------------------------------------------------------
def cookie_tests(p):
    check(CFG.get("cookie_secure") == "0", "hub.conf says cookie_secure = 0 (plain-HTTP localhost), the only "
          "reason cookies lack Secure", CFG.get("cookie_secure"))
    pw = p["pw"]["viewer"]
    planted = secrets.token_hex(32)
    s, r, g = login(p["viewer_name"], pw, planted=planted)
    c = r.cookie("hub_session") or ""
    attrs = [a.strip() for a in c.split(";")]
    val = attrs[0].split("=", 1)[1] if "=" in attrs[0] else ""
    check(re.fullmatch(r"[0-9a-f]{64}", val) is not None, "the session id is 64 hex characters (256 bits)", attrs[0][:20])
    check("HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/" in attrs,
          "Set-Cookie hub_session has HttpOnly, SameSite=Strict, Path=/", c.replace(val, "…"))
    check(any(a.startswith("Max-Age=") for a in attrs), "the session cookie has a Max-Age", c.replace(val, "…"))
    check(("Secure" in attrs) == (CFG.get("cookie_secure") == "1"), "Secure is set exactly when cookie_secure = 1")
    check(val != planted and s is not None and http_req("GET", "", cookie=f"hub_session={planted}").status == 303,
          "sign-in issues a new session id (a planted cookie is not adopted)")
    check(r.location() == f"{BASE}/" and "hub_login=;" in " ".join(r.cookies()),
          "sign-in leads to the start page and clears the sign-in token cookie", r.location())
    secret_values["viewer session 2"] = val
    rows = sql(f"SELECT COUNT(*) FROM sessions WHERE id_hash = UNHEX(SHA2('{val}', 256))")
    check(rows[0][0] == "1", "the database keeps only the hash of the session id")
    csrf = s.csrf()
    check(csrf and csrf != val, "the CSRF token is not the session id")
    leaked = [label for label, text in bodies if val in text]
    check(not leaked, "the session id is not in any page", leaked[:3])
    # sign-out ends the session
    r = s.post("login.cgi", {"action": "logout"}, csrf=csrf)
    cl = r.cookie("hub_session") or ""
    check(r.status == 303 and r.location() == f"{BASE}/login.cgi?done=logout" and "Max-Age=0" in cl,
          "sign-out -> 303 to login.cgi?done=logout, the cookie cleared (Max-Age=0)", f"{r.status} {r.location()} {cl}")
    r2 = http_req("GET", "providers.cgi", cookie=f"hub_session={val}")
    check(r2.status == 303 and r2.location() == f"{BASE}/login.cgi", "the old cookie leads to login.cgi (303)", r2.status)
    check(sql(f"SELECT COUNT(*) FROM sessions WHERE id_hash = UNHEX(SHA2('{val}', 256))")[0][0] == "0",
          "the session row is gone")
    for bad in ("x" * 64, "A" * 64, "0" * 63, "../../etc/passwd", "0" * 64 + "0"):
        r = http_req("GET", "", cookie=f"hub_session={bad}")
        check(r.status == 303, f"a malformed or unknown session cookie ({bad[:12]}…) -> 303 to login", r.status)


# ---- escaping ----------------------------------------------------------------------------------
def no_raw(r):
    return XSS not in r.text and "<img src=x" not in r.text


def escaping_tests(p):
    admin, member = p["admin"], p["member"]
    enc = urllib.parse.quote(XSS)
    for path in (f"audit.cgi?actor={enc}&action={urllib.parse.quote(chr(34) + '><img src=x onerror=alert(1)>')}",
                 f"keys.cgi?q={enc}&user={enc}", f"users.cgi?q={enc}"):
        r = admin.get(path)
        check(r.status == 200 and no_raw(r) and XSS_ESC in r.text, f"a hostile query string is shown escaped ({path.split('?')[0]})", r.status)
    r = admin.get(f"audit.cgi?from={enc}")
    check(r.status == 400 and no_raw(r) and "YYYY-MM-DD" in r.text, "a hostile date filter -> a readable 400", r.status)
    # refused forms: readable 400 pages that show the submitted value escaped
    cases = [
        ("providers.cgi", {"action": "create", "name": XSS, "type": "openai", "secret": "sk-x-0123456789"}, "The name must be"),
        ("keys.cgi", {"action": "create", "name": XSS, "user": "admin"}, "The name must be"),
        ("keys.cgi", {"action": "create", "name": f"sec-app-{TAG}", "user": "admin", "app": XSS}, "The app must be"),
        ("users.cgi", {"action": "create", "name": XSS, "role": "member", "password": "x" * 16, "password2": "x" * 16}, "The user name must be"),
        ("users.cgi", {"action": "create", "name": f"sec-em-{TAG}", "email": f"{XSS}@example.test", "role": "member",
                       "password": "Pw-" + TAG * 4, "password2": "Pw-" + TAG * 4}, "e-mail address"),
        ("users.cgi?view=teams", {"action": "team_create", "team_name": XSS}, "The team name must be"),
        ("models.cgi", {"action": "create", "name": XSS, "provider": ids()["provider"]}, ""),
        ("settings.cgi", {"action": "save", "issuer": f"https://x.example.test/{XSS}"}, "must be https://"),
        ("settings.cgi", {"action": "save", "scopes": XSS}, "Scopes are"),
    ]
    before = snapshot()
    for path, form, msg in cases:
        r = admin.post(path.split("?")[0], form)
        check(r.status == 400 and no_raw(r) and (msg in r.text) and '<div class="notice notice-error"' in r.text,
              f"{path.split('?')[0]} refuses <script> in {[k for k, v in form.items() if XSS in str(v)][0]} with a readable 400, the value escaped",
              f"{r.status} {re.findall(r'notice-error[^>]*>([^<]*)', r.text)[:1]}")
    r = member.post("tokens.cgi", {"action": "create", "label": XSS})
    check(r.status == 400 and no_raw(r) and "The name must be" in r.text, "tokens.cgi refuses <script> in the label with a readable 400", r.status)
    check(not diff(before, snapshot()), "nothing was stored by the refused forms")
    # an e-mail address with ' and & is allowed: shown escaped
    email = f"o'neil&co-{TAG}@example.test"
    r = admin.post("users.cgi", {"action": "create", "name": f"sec-mail-{TAG}", "email": email, "role": "member",
                                 "password": f"Pw-{TAG}-mail-0123", "password2": f"Pw-{TAG}-mail-0123"})
    check(r.status == 303, "a user with the e-mail o'neil&co@… is added", r.status)
    t = admin.get(f"users.cgi?q=sec-mail-{TAG}").text
    check(html.escape(email, quote=True).replace("&#x27;", "&#39;") in t and email not in t,
          "the e-mail address is shown escaped (&#39; and &amp;)")
    # sign-in: the submitted user name is shown again, escaped (from another loopback address,
    # so the failure does not count against 127.0.0.1)
    g = http_req("GET", "login.cgi", src="127.0.0.5")
    pre = (g.cookie("hub_login") or "").split(";")[0]
    r = http_req("POST", "login.cgi", cookie=pre, src="127.0.0.5",
                 form={"action": "login", "user": XSS, "password": "wrong-password-123", "csrf": csrf_of(g.text) or ""})
    check(r.status == 403 and no_raw(r) and f'value="{XSS_ESC}"' in r.text,
          "a failed sign-in shows the submitted user name escaped", r.status)
    sql("DELETE FROM login_failures WHERE subject IN ('addr:127.0.0.5', 'user:<script>alert(1)</script>')")


# ---- sign-in throttling ----------------------------------------------------------------------
def throttling(p):
    name, pw = p["locked_name"], p["pw"]["locked"]
    src = "127.0.0.2"
    ghost = f"sec-ghost-{TAG}"
    texts = []
    statuses = []
    for i in range(MAX_FAIL):
        _, r, _ = login(name, f"wrong-{i}-password", src=src)
        statuses.append(r.status)
        texts.append(re.findall(r'notice-error[^>]*>([^<]*)', r.text))
    check(all(s == 403 for s in statuses) and all(t == ["wrong user name or password"] for t in texts),
          f"{MAX_FAIL} wrong passwords -> 403 'wrong user name or password' each", statuses)
    s, r, _ = login(name, pw, src=src)
    check(s is None and r.status == 429 and "Too many failed sign-ins" in r.text and headers_ok(r)[0] and not r.cookie("hub_session"),
          "then even the right password -> 429 'Too many failed sign-ins', no session", r.status)
    check(re.search(r"Try again in \d+ minutes?", r.text) is not None, "the 429 page says when to try again")
    s, r, _ = login(name, pw, src="127.0.0.3")
    check(s is None and r.status == 429, "the account stays locked from another address", r.status)
    s, r, _ = login(p["viewer_name"], p["pw"]["viewer"], src=src)
    check(s is None and r.status == 429, "the locked address cannot sign in to another account either", r.status)
    s, r, _ = login(p["viewer_name"], p["pw"]["viewer"], src="127.0.0.4")
    check(s is not None, "another account from another address still signs in", r.status)
    # no user enumeration: an unknown user behaves the same
    gs = []
    for i in range(MAX_FAIL):
        _, r, _ = login(ghost, f"wrong-{i}-password", src="127.0.0.6")
        gs.append((r.status, re.findall(r'notice-error[^>]*>([^<]*)', r.text)))
    _, r, _ = login(ghost, "whatever-password", src="127.0.0.6")
    check(all(g == (403, ["wrong user name or password"]) for g in gs) and r.status == 429,
          "an unknown user name gets the same answers (403 …, then 429): no enumeration", gs[:2])
    rows = sql("SELECT subject FROM login_failures WHERE locked_until > UTC_TIMESTAMP(3)")
    check(["addr:127.0.0.1"] not in rows, "the tests' own address 127.0.0.1 is not locked", rows)
    sql("DELETE FROM login_failures WHERE subject IN ('addr:127.0.0.2', 'addr:127.0.0.3', 'addr:127.0.0.4', "
        f"'addr:127.0.0.6', 'user:{q(name)}', 'user:{q(ghost)}', 'user:{q(p['viewer_name'])}')")


# ---- the webserver sign-in mode (tests/webserver-auth) -------------------------------------------
def start_webserver():
    d = os.path.join(HUB_HOME, "webserver-auth")
    pidfile = os.path.join(d, "run", "httpd.pid")
    running = False
    try:
        os.kill(int(open(pidfile).read()), 0)
        running = True
    except (OSError, ValueError):
        pass
    started = False
    if not running:
        pr = subprocess.run(["bash", os.path.join(SRC, "tests", "webserver-auth", "start.sh")],
                            capture_output=True, text=True, timeout=600)
        if not check(pr.returncode == 0, "the test web server (tests/webserver-auth/start.sh) starts",
                     (pr.stdout + pr.stderr)[-300:]):
            return None
        started = True
    return {"port": int(open(os.path.join(d, "port")).read()),
            "users": json.load(open(os.path.join(d, "users.json"))), "started": started}


def webserver_tests(p):
    if "webserver" in MODES:
        for hdrs in ({"Remote-User": "admin"}, {"X-Remote-User": "admin", "Remote_User": "admin"},
                     {"OIDC_CLAIM_groups": "hub-admins", "HUB-Groups": "hub-admins", "Remote-User": "carol"}):
            r = http_req("GET", "users.cgi", headers=hdrs)
            check(r.status == 303 and r.location() == f"{BASE}/login.cgi",
                  f"main server (admin_auth lists webserver): headers {sorted(hdrs)} sign nobody in", r.status)
    else:
        print("# note: hub.conf admin_auth does not list webserver; the header-forging check on "
              "the main server is skipped (add 'admin_auth = local,oidc,webserver')", flush=True)
    ws = start_webserver()
    if ws is None:
        return
    port, users = ws["port"], ws["users"]
    try:
        r = http_req("GET", "", port=port)
        check(r.status == 401 and "Basic" in r.h.get("www-authenticate", ""), "web server: /admin/ without credentials -> 401 Basic", r.status)
        for path in ("login.cgi", "static/hub.css", "tokens.cgi"):
            r = http_req("GET", path, port=port)
            check(r.status == 401, f"web server: {path} is behind the sign-in too (401)", r.status)
        r = http_req("GET", "", port=port, auth=("carol", "wrong-password"))
        check(r.status == 401, "web server: a wrong password -> 401", r.status)
        sess = {}
        for name, want in (("carol", "admin"), ("victor", "viewer"), ("dave", "member")):
            u = users[name]
            s = Session(name, None, port=port, auth=(name, u["password"]))
            r = s.get("")
            sc = r.cookie("hub_session") or ""
            role = re.findall(r'badge-role">([a-z]+)<', r.text)
            check(r.status == 200 and role == [want] and "HttpOnly" in sc and "SameSite=Strict" in sc,
                  f"web server: {name} (groups '{u['groups']}') signs in as {want}, with a session cookie", f"{r.status} {role}")
            row = sql(f"SELECT role, auth_source FROM users WHERE name = '{name}'")
            check(row == [[want, "webserver"]], f"web server: {name} is provisioned (role {want}, auth_source webserver)", row)
            sess[name] = s
            secret_values[f"webserver {name} password"] = u["password"]
        check(sess["victor"].get("users.cgi").status == 403 and sess["victor"].get("providers.cgi").status == 200,
              "web server: the viewer reads providers, not users")
        check(sess["dave"].get("providers.cgi").status == 403 and sess["dave"].get("tokens.cgi").status == 200,
              "web server: the member gets only tokens.cgi")
        # the groups come from Apache, never from the request
        for hdrs in ({"HUB-Groups": "hub-admins"}, {"HUB_GROUPS": "hub-admins"}, {"Remote-User": "carol"},
                     {"OIDC-CLAIM-groups": "hub-admins"}):
            r = http_req("GET", "users.cgi", port=port, auth=("victor", users["victor"]["password"]),
                         cookie=sess["victor"].cookie, headers=hdrs)
            check(r.status == 403, f"web server: header {list(hdrs)[0]} cannot make the viewer an admin", r.status)
        check(sql("SELECT role FROM users WHERE name = 'victor'") == [["viewer"]], "victor is still a viewer")
        # CSRF still applies: the browser sends Basic credentials on cross-site requests too
        victim = hubctl("key", "create", "--name", f"sec-ws-victim-{TAG}", "--user", "dave")[1].strip()
        secret_values["webserver victim key"] = victim
        vid = one(f"SELECT id FROM api_keys WHERE name = 'sec-ws-victim-{TAG}'")
        carol = sess["carol"]
        r = http_req("POST", "keys.cgi", port=port, auth=carol.auth, cookie=carol.cookie,
                     form={"action": "revoke", "id": vid})
        check(r.status == 403, "web server: a POST without csrf from a signed-in admin -> 403", r.status)
        r = http_req("POST", "keys.cgi", port=port, auth=carol.auth, form={"action": "revoke", "id": vid, "csrf": secrets.token_hex(32)})
        check(r.status == 403, "web server: a POST without the session cookie (a new session) and a guessed csrf -> 403", r.status)
        check(api_status(victim) == 200, "web server: the key is not revoked")
        r = carol.post("keys.cgi", {"action": "revoke", "id": vid}, csrf=csrf_of(carol.get("keys.cgi").text))
        check(r.status == 303 and wait_api(victim, 401, 1.5) == 401, "web server: with its csrf the admin revokes (303), the key stops working", r.status)
        # another user's session cookie in the browser does not carry over
        admin_cookie = p["admin"].value
        r = http_req("GET", "users.cgi", port=port, auth=("dave", users["dave"]["password"]), cookie=f"hub_session={admin_cookie}")
        check(r.status == 403, "web server: dave with the local admin's session cookie is still only a member", r.status)
        check(sql(f"SELECT COUNT(*) FROM sessions WHERE id_hash = UNHEX(SHA2('{admin_cookie}', 256))") == [["0"]],
              "web server: that foreign session is ended")
        p["admin"] = login("admin", secret_values["admin password"])[0]  # sign the admin in again
        secret_values["admin session id 2"] = p["admin"].value
        # a user name that is markup, provisioned by the web server: escaped everywhere
        if XSS in users:
            x = Session(XSS, None, port=port, auth=(XSS, users[XSS]["password"]))
            r = x.get("")
            check(r.status == 200 and no_raw(r) and f"Welcome, {XSS_ESC}" in r.text,
                  "web server: the user named <script>alert(1)</script> is greeted escaped", r.status)
            for path in ("users.cgi", "audit.cgi?action=user.provision", f"keys.cgi?user={urllib.parse.quote(XSS)}"):
                r = carol.get(path)
                check(r.status == 200 and no_raw(r) and XSS_ESC in r.text, f"web server: {path.split('?')[0]} shows that name escaped", r.status)
            uid = one(f"SELECT id FROM users WHERE name = '{q(XSS)}'")
            r = carol.get(f"users.cgi?id={uid}")
            check(r.status == 200 and no_raw(r) and f"<h1>{XSS_ESC}</h1>" in r.text and "keys.cgi?user=%3" in r.text,
                  "web server: the user's own page shows the name escaped (heading) and URL-encoded (link)", r.status)
    finally:
        if ws.get("started"):
            subprocess.run(["bash", os.path.join(SRC, "tests", "webserver-auth", "stop.sh")], capture_output=True, timeout=60)


# ---- secrets: canaries never leave the database ---------------------------------------------------
def canary_tests(p):
    admin = p["admin"]
    fx = {}
    try:
        fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
    except OSError:
        print("# note: no fixtures.json; only the canary added here is checked", flush=True)
    canaries = {k: fx[k] for k in ("canary", "anthropic_key", "gemini_key") if fx.get(k)}
    page_canary = f"sk-pages-canary-{secrets.token_hex(12)}"
    canaries["canary added through the page"] = page_canary
    secret_values.update({f"canary {k}": v for k, v in canaries.items()})
    port = MOCK_PORT or int(open(os.path.join(HUB_HOME, "etc", "demo.port")).read())
    name = f"sec-canary-{TAG}"
    r = admin.post("providers.cgi", {"action": "create", "name": name, "type": "openai-compatible",
                                     "base_url": f"http://127.0.0.1:{port}/v1", "internal": "1",
                                     "label": "main", "secret": page_canary})
    check(r.status == 303, "a provider with a canary key is added through providers.cgi", r.status)
    pid = one(f"SELECT id FROM providers WHERE name = '{name}'")
    t = admin.get(f"providers.cgi?id={pid}").text
    check("(sealed)" in t and page_canary not in t, "its page shows the key only as (sealed)")
    # errors that involve the secret: none shows it
    r = admin.post("providers.cgi", {"action": "create", "name": name, "type": "openai-compatible",
                                     "base_url": f"http://127.0.0.1:{port}/v1", "internal": "1", "secret": page_canary})
    check(r.status == 409 and page_canary not in r.text, "the 409 (name exists) re-shows the form without the key", r.status)
    r = admin.post("providers.cgi", {"action": "create", "name": f"{name}-b", "type": "openai-compatible",
                                     "base_url": "http://127.0.0.1:9/v1", "internal": "1", "label": "bad label!", "secret": page_canary})
    check(r.status == 400 and page_canary not in r.text, "a 400 (bad label) re-shows the form without the key", r.status)
    r = admin.post("providers.cgi", {"action": "create", "name": f"{name}-c", "type": "openai",
                                     "base_url": "http://203.0.113.1/v1", "secret": page_canary})
    check(r.status == 400 and page_canary not in r.text, "a 400 (plain http to a non-internal host) does not echo the key", r.status)
    r = admin.post("providers.cgi", {"action": "cred_add", "id": pid, "label": "second", "secret": page_canary + " "})
    check(r.status == 400 and page_canary not in r.text, "a 400 (key ends with a space) does not echo the key", r.status)
    # a connection test that fails, one that works, and the key used by the gateway
    r = admin.post("providers.cgi", {"action": "update", "id": pid, "type": "openai-compatible",
                                     "base_url": "http://127.0.0.1:9/v1", "internal": "1"})
    cid = one(f"SELECT id FROM credentials WHERE provider_id = {int(pid)}")
    r = admin.post("providers.cgi", {"action": "test", "cred": cid})
    r2 = admin.get(r.location().removeprefix(BASE + "/")) if r.status == 303 else r
    check(r.status == 303 and page_canary not in r2.text and "Connection test" in r2.text,
          "a failing connection test reports without the key", r.status)
    admin.post("providers.cgi", {"action": "update", "id": pid, "type": "openai-compatible",
                                 "base_url": f"http://127.0.0.1:{port}/v1", "internal": "1"})
    r = admin.post("providers.cgi", {"action": "test", "cred": cid})
    r2 = admin.get(r.location().removeprefix(BASE + "/")) if r.status == 303 else r
    check(r.status == 303 and page_canary not in r2.text, "a working connection test reports without the key", r.status)
    # every page of the admin, with the canaries in the database
    for path in ("providers.cgi", f"providers.cgi?id={pid}", "audit.cgi", f"audit.cgi?target_type=provider",
                 "audit.cgi?target_type=credential", "keys.cgi", "models.cgi", "settings.cgi", "", "users.cgi"):
        admin.get(path)
    for who in ("viewer",):
        for path in ("providers.cgi", f"providers.cgi?id={pid}", "audit.cgi"):
            p[who].get(path)
    for pid2 in sql("SELECT id FROM providers"):
        admin.get(f"providers.cgi?id={pid2[0]}")
    leaked = sorted({f"{k} in {label}" for label, text in bodies for k, v in secret_values.items()
                     if v and v != "-" and len(v) >= 8 and v in text and not allowed_once(label, k, text)})
    check(not leaked, f"no canary, secret, password or session id in any of the {len(bodies)} answers", leaked[:4])
    # the logs
    logdir = os.path.join(HUB_HOME, "log")
    found = []
    nfiles = 0
    for root, _, files in os.walk(logdir):
        for f in files:
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            nfiles += 1
            for k, v in secret_values.items():
                if v and len(v) >= 8 and v.encode() in data:
                    found.append(f"{k} in {os.path.relpath(path, HUB_HOME)}")
    check(not found, f"no canary, secret, password or session id in the {nfiles} log files under $HUB_HOME/log", found[:4])
    rows = sql(f"SELECT COUNT(*) FROM audit_log WHERE INSTR(CONCAT_WS(' ', before_json, after_json, target), '{q(page_canary)}') > 0")
    check(rows == [["0"]], "no canary in the audit log")


def allowed_once(label, k, text):
    """A new token is in exactly the answer to the POST that created it."""
    return k == "member token" and label.startswith("POST ") and 'name="new_key"' in text


def main():
    p = setup()
    role_matrix(p)
    csrf_tests(p)
    get_is_safe(p)
    token_isolation(p)
    escaping_tests(p)
    throttling(p)
    webserver_tests(p)
    cookie_tests(p)
    canary_tests(p)
    done()


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - report and fail, never a silent pass
        import traceback
        traceback.print_exc()
        check(False, "the page security tests run to the end", repr(e))
        done()
