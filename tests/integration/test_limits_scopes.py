"""Budget scopes and settlement, part 3 of the limit tests (after test_limits_rpm.py):

* user and team scopes; a team's 80 % / 100 % alerts (stored once, logged once);
* settlement: failed attempts release the reservation, streams (also a client that goes away)
  settle to what was metered;
* the Budgets page (viewer reads, admin sets and clears, CSRF).
Run after fixtures.py (tests/run.sh).
"""
import http.client
import os
import re
import secrets
import socket
import time

from hubtest import (ADMIN, HUB_HOME, HUB_PORT, check, csrf_of, done, hubctl, login, one, request,
                     sql, wait_for, web)
from limitstest import (GW_LOG, MONTH, TAG, body, chat, early_in_minute, ledger, need_fixtures,
                        new_key, settle_snapshot, settled, uid)


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
    wait_for(lambda: ledger("key_id", kid) == settled("key", kid)[0], 5)
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
    ok = wait_for(lambda: one(f"SELECT COUNT(*) FROM usage_log WHERE key_id = {kid} AND "
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
    """A request to the pages: (status, headers, text)."""
    return web(method, f"{ADMIN}/{path}", cookie=cookie, form=form)


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
    s, _, text = page("GET", "limits.cgi", viewer)
    check(s == 200 and "Budgets &amp; limits" in text and alert_team in text
          and "100 % reached" in text and 'name="budget"' not in text,
          "a viewer reads the Budgets page (alerts shown, no form)")
    check('href="/admin/limits.cgi"' in text, "the navigation has a Budgets entry")
    found = False
    for n in range(1, 40):
        s, _, t = page("GET", f"users.cgi?view=teams&page={n}", admin)
        row = re.search(r"<tr><td>" + re.escape(alert_team) + r"</td>.*?</tr>", t, re.S)
        if row:
            found = "100 % reached" in row.group(0) and "limits.cgi" in row.group(0)
            break
        if "page=" + str(n + 1) not in t:
            break
    check(found, "the teams page shows the team's budget with its 100 % alert")
    s, _, text = page("POST", "limits.cgi", viewer, {"action": "set", "type": "team",
                                                        "name": alert_team, "budget": "9",
                                                        "csrf": csrf_of(text)})
    check(s == 403, "a viewer cannot change limits (403)", s)
    s, _, text = page("GET", "limits.cgi", admin)
    token = csrf_of(text)
    team = f"lim-page-team-{TAG}"
    hubctl("team", "add", team)
    s, _, _ = page("POST", "limits.cgi", admin, {"action": "set", "type": "team", "name": team,
                                                    "budget": "3.25", "rpm": "", "tpm": "900"})
    check(s == 403, "a POST without the CSRF token changes nothing (403)", s)
    s, _, _ = page("POST", "limits.cgi", admin, {"action": "set", "type": "team", "name": team,
                                                    "budget": "3.25", "rpm": "", "tpm": "900",
                                                    "csrf": token})
    row = sql(f"SELECT l.budget_micro, l.rpm, l.tpm FROM limits l JOIN teams t ON t.id = l.scope_id "
              f"AND l.scope_type = 'team' WHERE t.name = '{team}'")
    check(s == 303 and row == [["3250000", "NULL", "900"]], "an admin sets a team's limits", str(row))
    s, _, text = page("POST", "limits.cgi", admin, {"action": "set", "type": "team", "name": team,
                                                       "budget": "lots", "csrf": token})
    check(s == 400 and "budget" in text, "a malformed budget is refused with a message (400)", s)
    s, _, text = page("POST", "limits.cgi", admin, {"action": "set", "type": "user",
                                                       "name": "nobody-" + TAG, "rpm": "5",
                                                       "csrf": token})
    check(s == 404, "an unknown user is refused (404)", s)
    s, _, text = page("GET", f"limits.cgi?type=team&name={team}", admin)
    check(s == 200 and 'value="3.25"' in text and 'value="900"' in text,
          "the form is filled with a scope's current values")
    s, _, _ = page("POST", "limits.cgi", admin, {"action": "clear", "type": "team", "name": team,
                                                    "csrf": token})
    gone = one(f"SELECT COUNT(*) FROM limits l JOIN teams t ON t.id = l.scope_id AND "
               f"l.scope_type = 'team' WHERE t.name = '{team}'")
    audits = one(f"SELECT COUNT(*) FROM audit_log WHERE target = '{team}' AND via = 'pages' "
                 f"AND action IN ('limit.set', 'limit.clear')")
    check(s == 303 and gone == "0" and audits == "2", "an admin clears them; both changes audited",
          f"{s} {gone} {audits}")


def main():
    need_fixtures()
    alert_team = test_user_team()
    test_settlement()
    test_page(alert_team)
    done()


main()
