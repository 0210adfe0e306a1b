"""The pages' security: hostile values in query strings, refused forms, e-mail addresses and
the sign-in form are shown escaped; refused values get a readable 400."""
import html
import re
import urllib.parse

from hubtest import check, sql
from .client import TAG, XSS, XSS_ESC, csrf_of, diff, http_req, ids, no_raw, snapshot



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
