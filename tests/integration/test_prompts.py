"""Opt-in prompt logging (lib/hub_prompt.h) against the running stack.

  * off by default: calls store nothing, the call log says so and shows no prompt text;
  * an admin turns it on through settings.cgi (session + CSRF; a forged or member POST changes
    nothing), audited; chat, embeddings and Anthropic-wire calls are then stored within a few
    seconds, sealed (the canary is not in the database in plain text, nor in any log);
  * the prompt view: the admin and the owning member see the body HTML-escaped (the canary holds
    <script>), another member and a viewer are refused, every view is in the audit log, bad ids
    get readable 400 / 404 pages, never a 5xx;
  * a body over prompt_log_max_bytes is stored cut at a UTF-8 boundary and marked truncated;
  * a failing prompt insert loses only that prompt (the answer and the ledger row are there);
  * hubctl settings prompt-logging off: new calls are not stored, audited;
  * hubctl retention deletes prompts older than prompt_retention_days in batches, audited.
"""
import glob
import html
import json
import re
import secrets
import subprocess
import time
import urllib.parse

from hubtest import (HUB_HOME, SOCK, check, csrf_of, done, hubctl, login, request, sql, usage_row,
                     wait_for, web)

BASE = "/admin"
PW = "Prompts-test-pw-4d1f8b"
REFRESH = 1.3  # catalog_refresh_ms (1000) and a margin: when gateways have learnt a change


def prompt_page(cookie, rid):
    return web("GET", f"{BASE}/analytics.cgi?view=prompt&request={urllib.parse.quote(rid)}", cookie)


def calls_page(cookie, **params):
    q = {"view": "calls", "period": "today", **params}
    return web("GET", f"{BASE}/analytics.cgi?" + urllib.parse.urlencode(q), cookie)


def call(key, path, body):
    """POSTs body as UTF-8 JSON; returns (status, request id, bytes sent)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    st, hd, _ = request("POST", path, raw, key=key)
    return st, hd.get("x-request-id"), len(raw)


def chat(key, text, path="/v1/chat/completions"):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    if path == "/v1/messages":
        body["max_tokens"] = 16
    return call(key, path, body)[0:2]


def stored(rid):
    return int(sql(f"SELECT COUNT(*) FROM usage_prompts WHERE request_id = '{rid}'")[0][0])


def prompt_row(rid):
    r = sql("SELECT COALESCE(user_id, 0), COALESCE(key_id, 0), COALESCE(team_id, 0), endpoint, "
            f"body_bytes, truncated, enc_key_id, HEX(body_enc) FROM usage_prompts WHERE request_id = '{rid}'")
    return r[0] if r else None


def audit_rows(action, target):
    """The audit rows of action on target written by this test."""
    return sql(f"SELECT actor, via, COALESCE(before_json, ''), COALESCE(after_json, '') FROM audit_log "
               f"WHERE action = '{action}' AND target = '{target}' AND id > {AUDIT0} ORDER BY id")


def logs_hold(needle):
    hits = []
    for f in glob.glob(f"{HUB_HOME}/log/*"):
        try:
            with open(f, "rb") as fh:
                if needle.encode() in fh.read():
                    hits.append(f)
        except OSError:
            pass
    return hits


AUDIT0 = int(sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0])

# ---- fixtures: an admin, two members of two teams, a viewer; keys -------------------------

for name, team, role in (("pl-admin", "pl-ops", "admin"), ("pl-alice", "pl-red", "member"),
                         ("pl-bob", "pl-blue", "member"), ("pl-vera", "pl-blue", "viewer")):
    hubctl("user", "add", name, "--team", team)
    hubctl("user", "passwd", name, stdin=PW + "\n")
    hubctl("user", "role", name, role)
alice_key = hubctl("key", "create", "--name", "pl-alice-key", "--user", "pl-alice", "--app",
                   "pl-app")[1].strip()
bob_key = hubctl("key", "create", "--name", "pl-bob-key", "--user", "pl-bob")[1].strip()
ids = {r[0]: int(r[1]) for r in sql("SELECT name, id FROM users WHERE name LIKE 'pl-%' UNION ALL "
                                    "SELECT name, id FROM api_keys WHERE name LIKE 'pl-%' UNION ALL "
                                    "SELECT name, id FROM teams WHERE name LIKE 'pl-%'")}
admin, alice, bob, vera = (login(u, PW) for u in ("pl-admin", "pl-alice", "pl-bob", "pl-vera"))
check(all((admin, alice, bob, vera)), "sign-in of an admin, two members and a viewer")

# ---- off by default ------------------------------------------------------------------------

rc, out, _ = hubctl("settings", "prompt-logging", "status")
check(rc == 0 and "prompt logging:        off" in out and "prompt_log_max_bytes:  32768" in out
      and "prompt_retention_days: 30" in out, "default: prompt logging is off (hubctl status)", out)
off_canary = "pl-off-canary-" + secrets.token_hex(6)
before = int(sql("SELECT COUNT(*) FROM usage_prompts")[0][0])
st, rid_off = chat(alice_key, off_canary)
row = usage_row(rid_off) if rid_off else None
time.sleep(0.5)
check(st == 200 and row is not None and stored(rid_off) == 0
      and int(sql("SELECT COUNT(*) FROM usage_prompts")[0][0]) == before,
      "off: a call is answered and metered, and no prompt is stored", f"{st} {rid_off}")
st, _, text = calls_page(admin, key=ids["pl-alice-key"])
check(st == 200 and rid_off in text and "Prompt logging is off" in text and "does not store prompts" in text
      and off_canary not in text and "view=prompt" not in text,
      "off: the call log says so, shows the call, no prompt text and no prompt link")
st, _, text = prompt_page(admin, rid_off)
check(st == 404 and "prompt logging is off" in text and off_canary not in text,
      "off: the prompt view of a call says prompt logging is off (404)", str(st))

# ---- turned on by an admin through the settings page ----------------------------------------

st, _, text = web("GET", f"{BASE}/settings.cgi", admin)
check(st == 200 and "Prompt logging is <strong>off</strong>" in text and 'value="prompts_on"' in text,
      "settings page shows prompt logging off with a button to turn it on")
st, _, _ = web("POST", f"{BASE}/settings.cgi", admin, form={"action": "prompts_on"})
st2, _, _ = web("POST", f"{BASE}/settings.cgi", admin, form={"action": "prompts_on", "csrf": "0" * 64})
_, _, mtext = web("GET", f"{BASE}/tokens.cgi", alice)
st3, _, _ = web("POST", f"{BASE}/settings.cgi", alice, form={"action": "prompts_on", "csrf": csrf_of(mtext)})
check(st == 403 and st2 == 403 and st3 == 403
      and sql("SELECT COALESCE(MAX(value), 'unset') FROM settings WHERE name = 'prompt_logging'")[0][0] != "on",
      "forged POSTs (no / wrong CSRF) and a member's POST are refused; nothing changes", f"{st} {st2} {st3}")
st, hd, _ = web("POST", f"{BASE}/settings.cgi", admin, form={"action": "prompts_on", "csrf": csrf_of(text)})
check(st == 303 and "done=prompts_on" in hd.get("location", ""), "admin turns prompt logging on (POST + CSRF)",
      f"{st} {hd.get('location')}")
st, _, text = web("GET", f"{BASE}/settings.cgi?done=prompts_on", admin)
check("Prompt logging is <strong>on</strong>" in text and 'value="prompts_off"' in text
      and "Prompt logging is on" in text, "settings page shows it on")
a = audit_rows("settings.update", "prompt_logging")
check(len(a) == 1 and a[0][0] == "pl-admin" and a[0][1] == "pages" and '"off"' in a[0][2] and '"on"' in a[0][3],
      "the change is in the audit log (pl-admin via pages, off -> on)", str(a))

time.sleep(REFRESH)
canary = "pl-canary-" + secrets.token_hex(8)
evil = f"<script>alert('{canary}')</script> & \"quoted\""
t0 = time.time()
st, rid, sent = call(alice_key, "/v1/chat/completions",
                     {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": evil}]})
check(st == 200 and rid and wait_for(lambda: stored(rid) == 1, 5), "on: a call's prompt is stored within 5 s",
      f"{st} {rid} after {time.time() - t0:.1f} s")
pr = prompt_row(rid) or ["0"] * 8
check(int(pr[0]) == ids["pl-alice"] and int(pr[1]) == ids["pl-alice-key"] and int(pr[2]) == ids["pl-red"]
      and pr[3] == "/v1/chat/completions" and int(pr[4]) == sent and pr[5] == "0" and int(pr[6]) >= 1,
      "the row: user, key, team, endpoint, size as received, not truncated, master key id", str(pr[:7]))
blob = bytes.fromhex(pr[7])
dump = subprocess.run(["mariadb-dump", "--no-defaults", "-S", SOCK, "-u", "root", "hub", "usage_prompts"],
                      capture_output=True, timeout=60).stdout
check(canary.encode() not in blob and b"usage_prompts" in dump and canary.encode() not in dump
      and len(blob) == sent + 28,
      "sealed at rest: the canary is not in the column or a dump (nonce + ciphertext + tag)")
usage_row(rid)
ts_gap = sql(f"SELECT ABS(TIMESTAMPDIFF(SECOND, p.ts, l.ts)) FROM usage_prompts p JOIN usage_log l "
             f"ON l.request_id = p.request_id WHERE p.request_id = '{rid}' LIMIT 1")
check(ts_gap and int(ts_gap[0][0]) == 0, "the prompt's ts is the ledger's", str(ts_gap))

st, rid_emb, _ = call(bob_key, "/v1/embeddings", {"model": "text-embedding-3-small",
                                                   "input": [canary + " embed"]})
st_m, rid_msg = chat(bob_key, canary + " messages", path="/v1/messages")
st_s, rid_stream, _ = call(bob_key, "/v1/chat/completions", {
    "model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": canary + " stream"}]})
got = wait_for(lambda: stored(rid_emb) + stored(rid_msg) + stored(rid_stream) == 3, 5)
eps = {r[0] for r in sql("SELECT endpoint FROM usage_prompts WHERE request_id IN "
                         f"('{rid_emb}', '{rid_msg}', '{rid_stream}')")}
check(st == 200 and st_m == 200 and st_s == 200 and got
      and eps == {"/v1/embeddings", "/v1/messages", "/v1/chat/completions"},
      "embeddings, Anthropic-wire (/v1/messages) and streamed calls are stored too", f"{st} {st_m} {st_s} {eps}")

# ---- the call log and the prompt view --------------------------------------------------------

st, _, text = calls_page(admin, key=ids["pl-alice-key"])
link = f"view=prompt&amp;request={rid}"
check(st == 200 and link in text and "Prompt logging is on" in text and canary not in text
      and f"request={rid_off}" not in text,
      "call log: a link to the stored prompt beside its call, no prompt text in the log")
st, _, text = prompt_page(admin, rid)
# the page escapes the body as received: the JSON string of the canary, HTML-escaped
esc = html.escape(json.dumps(evil, ensure_ascii=False), quote=True).replace("&#x27;", "&#39;")
check(st == 200 and esc in text and f"<script>alert('{canary}')" not in text,
      "admin: the prompt view shows the body HTML-escaped", str(st))
check("pl-alice" in text and "pl-red" in text and "pl-alice-key" in text and "/v1/chat/completions" in text,
      "the prompt view names the user, team, key and endpoint")
a = audit_rows("prompt.view", rid)
check(len(a) == 1 and a[0][0] == "pl-admin" and a[0][1] == "pages" and str(ids["pl-alice"]) in a[0][3]
      and canary not in "".join(a[0]), "the admin's view is in the audit log (prompt.view), without the prompt",
      str(a))
st, _, text = calls_page(alice)
check(st == 200 and link in text, "member: their own call log links their stored prompt")
st, _, text = prompt_page(alice, rid)
check(st == 200 and esc in text, "member: sees the prompt of their own call", str(st))
st, _, text = prompt_page(bob, rid)
check(st == 403 and canary not in text and "own calls" in text, "another member is refused (403)", str(st))
st, _, text = prompt_page(vera, rid)
check(st == 403 and canary not in text and "Viewers" in text, "a viewer is refused (403)", str(st))
st, _, text = calls_page(vera, key=ids["pl-alice-key"])
check(st == 200 and rid[:8] in text and "view=prompt" not in text and "Viewers cannot open" in text,
      "viewer: the call log shows the call without a prompt link")
a = audit_rows("prompt.view", rid)
check([r[0] for r in a] == ["pl-admin", "pl-alice"], "every view is audited, refusals open nothing", str(a))

bad = []
for v, want in (("", 400), ("xyz", 400), ("' OR 1=1 --", 400), ("z" * 36, 400), (rid + "0", 400),
                ("00000000-0000-4000-8000-000000000000", 404), (rid.upper(), 404),
                ("../../etc/passwd", 400), ("<script>x</script>", 400)):
    st, hd, text = prompt_page(admin, v)
    if st != want or "text/html" not in hd.get("content-type", "") or "request id" not in text:
        bad.append((v, st))
st, _, text = web("GET", f"{BASE}/analytics.cgi?view=prompt", admin)
if st != 400:
    bad.append(("(none)", st))
check(not bad, "bad or unknown request ids: readable 400 / 404 pages, never a 5xx", str(bad))

# ---- an oversize body: stored cut at a UTF-8 boundary and marked ---------------------------

# 40 kB of UTF-8 whose cut at 32768 bytes falls inside an "é" (2 bytes): 32767 are kept
lead = len('{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "'.encode())
big = ("x" if (32768 - lead - 1) % 2 == 1 else "xx") + "é" * 20000
st, rid_big = chat(alice_key, big)
check(st == 200 and wait_for(lambda: stored(rid_big) == 1, 5), "an oversize call is answered and its prompt stored")
pr = prompt_row(rid_big) or ["0"] * 8
check(pr[5] == "1" and int(pr[4]) > 40000 and len(bytes.fromhex(pr[7])) - 28 <= 32768,
      "oversize: stored truncated (marked), the size as received kept", str(pr[:7]))
st, _, text = prompt_page(admin, rid_big)
m = re.search(r"only the first (\d+) of (\d+) bytes", text)
check(st == 200 and m and int(m.group(1)) == 32767 and int(m.group(2)) == int(pr[4])
      and "\ufffd" not in text, "the view says it is truncated, cut at a character boundary",
      m.group(0) if m else str(st))

# ---- a database failure loses only that prompt ------------------------------------------------

sql("RENAME TABLE usage_prompts TO usage_prompts_away")
try:
    st, rid_fail = chat(alice_key, "pl-fail " + canary)
    row = usage_row(rid_fail) if rid_fail else None
    time.sleep(0.5)
finally:
    sql("RENAME TABLE usage_prompts_away TO usage_prompts")
warned = wait_for(lambda: any(b"the prompt of this request was not stored" in open(f, "rb").read()
                              for f in glob.glob(f"{HUB_HOME}/log/gateway*.log")), 3)
check(st == 200 and row is not None and row["outcome"] == "ok" and stored(rid_fail) == 0 and warned,
      "a failing prompt insert: the answer and the ledger row are there, a warning is logged",
      f"{st} {row and row['outcome']} {warned}")
st, rid_again = chat(alice_key, "pl-again")
check(st == 200 and wait_for(lambda: stored(rid_again) == 1, 5), "the next call's prompt is stored again")

# ---- turned off (hubctl) ---------------------------------------------------------------------

rc, out, _ = hubctl("settings", "prompt-logging", "off")
check(rc == 0 and "now off" in out, "hubctl settings prompt-logging off", out)
a = audit_rows("settings.update", "prompt_logging")
check(len(a) == 2 and a[1][0].startswith("hubctl:") and a[1][1] == "hubctl" and '"off"' in a[1][3],
      "hubctl's change is audited (hubctl:<user>, on -> off)", str(a))
time.sleep(REFRESH)
st, rid_after = chat(alice_key, "pl-after-off " + canary)
row = usage_row(rid_after) if rid_after else None
time.sleep(1.0)
check(st == 200 and row is not None and stored(rid_after) == 0, "off again: new calls are not stored", str(st))
st, _, text = prompt_page(admin, rid)
check(st == 200 and esc in text and "Prompt logging is off now" in text,
      "prompts stored while it was on stay readable, the view says logging is off now")
st, _, text = calls_page(admin, key=ids["pl-alice-key"])
check("Prompt logging is off" in text, "the call log says prompt logging is off")

# ---- retention --------------------------------------------------------------------------------

total = int(sql("SELECT COUNT(*) FROM usage_prompts")[0][0])
sql(f"UPDATE usage_prompts SET ts = ts - INTERVAL 40 DAY WHERE request_id IN ('{rid_emb}', '{rid_msg}')")
sql(f"UPDATE usage_prompts SET ts = ts - INTERVAL 20 DAY WHERE request_id = '{rid_big}'")
rc, out, err = hubctl("retention", "--batch", "1")
left = {r[0] for r in sql("SELECT request_id FROM usage_prompts")}
check(rc == 0 and "removed 2 stored prompts older than 30 days" in out and "raw ledger rows kept" in out
      and len(left) == total - 2 and rid_emb not in left and rid_msg not in left and rid_big in left and rid in left,
      "hubctl retention deletes prompts older than prompt_retention_days (30) in batches, keeps newer ones",
      out + err)
a = sql(f"SELECT actor, after_json FROM audit_log WHERE action = 'prompt.retention' AND id > {AUDIT0} "
        "ORDER BY id DESC LIMIT 1")
check(a and '"rows_deleted":2' in a[0][1] and '"days":30' in a[0][1], "retention is audited", str(a))
rc, out, err = hubctl("retention", "--prompt-days", "10")
check(rc == 0 and "removed 1 stored prompts older than 10 days" in out and stored(rid_big) == 0,
      "--prompt-days overrides hub.conf", out + err)

# ---- master key rotation reseals the stored prompts --------------------------------------------

kid_before = int(prompt_row(rid)[6])
rc, out, err = hubctl("key-rotate")
kids = {r[0] for r in sql("SELECT DISTINCT enc_key_id FROM usage_prompts")}
st, _, text = prompt_page(admin, rid)
check(rc == 0 and "stored prompts" in out and kids == {str(kid_before + 1)} and st == 200 and esc in text,
      "hubctl key-rotate reseals every stored prompt with the new key; they still open", out + err + str(kids))

hits = logs_hold(canary)
check(not hits, "the canary is in no log file", str(hits))
done()
