"""The pages' security in the webserver sign-in mode (tests/webserver-auth, Apache Basic auth):
groups to roles, headers cannot forge the user or groups, CSRF, foreign session cookies."""
import json
import os
import re
import secrets
import subprocess
import urllib.parse

from hubtest import HUB_HOME, check, hubctl, one, sql
from .client import (BASE, MODES, SRC, TAG, XSS, XSS_ESC, Session, csrf_of, http_req, login, no_raw,
                     q, secret_values, api_status, wait_api)


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
