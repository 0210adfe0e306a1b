"""The pages' security: forged POSTs (no, a wrong or another session's CSRF token) and too small
a role change nothing; the sign-in form's token; GET never changes anything."""
import secrets

from hubtest import check, hubctl, one
from .client import (BASE, LIMITS_PAGE, TAG, csrf_of, diff, headers_ok, http_req, ids, q,
                     secret_values, snapshot, api_status)


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
