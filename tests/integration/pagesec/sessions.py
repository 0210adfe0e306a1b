"""The pages' security: tokens isolated between users (tokens.cgi), the session cookie
(attributes, a new id at sign-in, hashed in the database, sign-out), sign-in throttling."""
import re
import secrets

from hubtest import check, one, sql
from .client import (BASE, CFG, MAX_FAIL, TAG, bodies, headers_ok, http_req, login, new_key_of, q,
                     secret_values, api_status, wait_api)



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
