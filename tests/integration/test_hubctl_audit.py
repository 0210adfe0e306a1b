"""hubctl's audit trail and local admin accounts: every change appends an audit row with the
OS user as actor and before/after values that never hold a secret; 'hubctl audit verify'
detects an edited or deleted row (and passes again once the row is restored exactly);
'hubctl admin create' prints a generated password once, refuses weak passwords and
duplicates, resets with --reset-password; 'hubctl user role' and 'user passwd' change the
account and end its sessions."""
import base64
import hashlib
import hmac
import json
import os
import pwd
import re

from hubtest import HUB_HOME, MOCK_PORT, check, done, hubctl, sql

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
ACTOR = "hubctl:" + pwd.getpwuid(os.geteuid()).pw_name
CANARY = "sk-audit-CANARY-9d8c7b6a5f4e3d2c1b0a"
CANARY2 = "sk-audit-CANARY2-0f1e2d3c4b5a6978"
secrets = [CANARY, CANARY2, fx["canary"], fx["anthropic_key"], fx["gemini_key"], *fx["keys"].values()]


def max_id():
    return int(sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0])


def rows_after(first, action=None):
    """Audit rows with id > first (optionally of one action) as dicts, before/after parsed."""
    where = f"id > {int(first)}" + (f" AND action = '{action}'" if action else "")
    out = []
    for r in sql("SELECT id, actor, via, action, target_type, target, "
                 "COALESCE(before_json, 'null'), COALESCE(after_json, 'null') "
                 f"FROM audit_log WHERE {where} ORDER BY id"):
        out.append({"id": int(r[0]), "actor": r[1], "via": r[2], "action": r[3], "target_type": r[4],
                    "target": r[5], "before": json.loads(r[6]), "after": json.loads(r[7])})
    return out


def audit_text():
    """Everything stored in audit_log, as one string (for secret searches)."""
    rows = sql("SELECT CONCAT_WS('|', actor, via, action, target_type, target, "
               "COALESCE(before_json, ''), COALESCE(after_json, '')) FROM audit_log")
    return "\n".join(r[0] for r in rows)


def verify():
    rc, out, err = hubctl("audit", "verify", check_rc=False)
    return rc, out.strip(), err.strip()


def pbkdf2_ok(password, stored):
    """Checks a password against 'pbkdf2-sha256$ITER$SALT_B64$HASH_B64' (hub_password.h)."""
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != "pbkdf2-sha256":
        return False
    want = base64.b64decode(parts[3])
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(parts[2]), int(parts[1]),
                              len(want))
    return hmac.compare_digest(got, want)


def add_session(user):
    sql("INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) "
        "SELECT UNHEX(SHA2(UUID(), 256)), id, REPEAT('a', 64), UTC_TIMESTAMP(3) + INTERVAL 1 HOUR "
        f"FROM users WHERE name = '{user}'")


def sessions(user):
    return int(sql("SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                   f"WHERE u.name = '{user}'")[0][0])


def user_row(name):
    r = sql(f"SELECT role, auth_source, COALESCE(password_hash, ''), disabled FROM users WHERE name = '{name}'")
    return r[0] if r else None


rc, out, err = verify()
check(rc == 0 and re.fullmatch(r"audit log intact: \d+ rows\nhead: row \d+ sha256 [0-9a-f]{64}", out)
      is not None, "audit verify passes on the chain built by quickstart and fixtures", out + err)
head = sql("SELECT id, LOWER(HEX(hash)) FROM audit_log ORDER BY id DESC LIMIT 1")[0]
check(out.endswith(f"head: row {head[0]} sha256 {head[1]}"), "verify prints the newest row and its hash",
      out)
fixture_rows = rows_after(0)
check(any(r["action"] == "provider.add" and r["target"] == "mock" for r in fixture_rows)
      and any(r["action"] == "schema.migrate" for r in fixture_rows),
      "the set-up itself was audited (migrate, provider add, ...)")

# --- a change appends a row with actor, action, before/after, and no secret
start = max_id()
hubctl("provider", "add", "audited", "--type", "openai-compatible", "--base-url",
       f"http://127.0.0.1:{MOCK_PORT}/v1", "--internal", stdin=CANARY + "\n")
hubctl("credential", "add", "audited", "--label", "second", "--weight", "3", stdin=CANARY2 + "\n")
hubctl("provider", "disable", "audited")
hubctl("provider", "enable", "audited")
hubctl("credential", "remove", "audited", "second")
new = rows_after(start)
check([r["action"] for r in new] == ["provider.add", "credential.add", "provider.disable",
                                      "provider.enable", "credential.remove"],
      "one audit row per change, in order", str([r["action"] for r in new]))
add = new[0]
check(add["actor"] == ACTOR and add["via"] == "hubctl" and add["target_type"] == "provider"
      and add["target"] == "audited", "provider.add row: actor hubctl:<OS user>, via, target", str(add))
check(add["before"] is None and add["after"].get("base_url") == f"http://127.0.0.1:{MOCK_PORT}/v1"
      and add["after"].get("secret") == "(sealed)" and add["after"].get("internal") is True,
      "provider.add row: no before, after has the settings and the secret as (sealed)", str(add))
check(new[1]["target"] == "audited/second" and new[1]["after"].get("weight") == 3
      and new[1]["after"].get("secret") == "(sealed)", "credential.add row", str(new[1]))
check(new[2]["before"] == {"enabled": True} and new[2]["after"] == {"enabled": False},
      "provider.disable row: before/after", str(new[2]))
check(new[4]["before"].get("status") == "active" and new[4]["after"] is None,
      "credential.remove row: before only", str(new[4]))

# --- keys: endpoints, created_by, display prefix only
start = max_id()
rc, key, err = hubctl("key", "create", "--name", "audit-key", "--user", "alice", "--endpoints",
                      "embeddings,chat")
key = key.strip()
secrets.append(key)
row = sql("SELECT endpoints, created_by, kind, prefix FROM api_keys WHERE name = 'audit-key'")[0]
check(row[0] == "chat,embeddings" and row[1] == ACTOR and row[2] == "service",
      "key create --endpoints stored (normalised), created_by = actor", str(row))
kc = rows_after(start, "key.create")
check(len(kc) == 1 and kc[0]["after"].get("prefix") == row[3] and key[:12] == row[3]
      and kc[0]["after"].get("endpoints") == "chat,embeddings", "key.create row has the display prefix",
      str(kc))
rc, out, err = hubctl("key", "create", "--name", "audit-key2", "--user", "alice", "--endpoints",
                      "chat,files", check_rc=False)
check(rc == 2 and out == "" and not sql("SELECT id FROM api_keys WHERE name = 'audit-key2'"),
      "key create refuses an unknown endpoint", err.strip())
rc, out, err = hubctl("key", "create", "--name", "audit-key2", "--user", "alice", "--endpoints",
                      "chat,,images", check_rc=False)
check(rc == 2 and out == "", "key create refuses an empty endpoint entry", err.strip())
hubctl("key", "revoke", "audit-key")
kr = rows_after(start, "key.revoke")
check(len(kr) == 1 and kr[0]["before"].get("revoked") is False and kr[0]["after"] == {"revoked": True},
      "key.revoke row", str(kr))

# --- admin accounts
start = max_id()
rc, out, err = hubctl("admin", "create", "audit-admin", "--email", "aa@example.com", stdin="")
pw1 = out.strip()
check(rc == 0 and re.fullmatch(r"[A-Za-z0-9]{20}\n", out) is not None,
      "admin create with empty stdin prints a generated 20-character password, alone", repr(out))
secrets.append(pw1)
u = user_row("audit-admin")
check(u is not None and u[0] == "admin" and u[1] == "local" and pbkdf2_ok(pw1, u[2]),
      "the account is a local admin whose stored hash matches the printed password", str(u))
secrets.append(u[2])
ac = rows_after(start, "admin.create")
check(len(ac) == 1 and ac[0]["actor"] == ACTOR and ac[0]["after"].get("role") == "admin"
      and ac[0]["after"].get("password") == "(sealed)", "admin.create row", str(ac))

rc, out, err = hubctl("admin", "create", "audit-admin", stdin="", check_rc=False)
check(rc != 0 and out == "" and "exists" in err and user_row("audit-admin")[2] == u[2],
      "admin create refuses an existing name (password unchanged, nothing printed)", err.strip())
rc, out, err = hubctl("admin", "create", "audit-weak", stdin="short\n", check_rc=False)
check(rc != 0 and out == "" and user_row("audit-weak") is None,
      "admin create refuses a weak password from stdin", err.strip())
rc, out, err = hubctl("admin", "create", "audit-weak", stdin="aaaaaaaaaaaaaaaa\n", check_rc=False)
check(rc != 0 and user_row("audit-weak") is None, "admin create refuses a repeated-character password")
pw_in = "Stdin-Admin-Passw0rd-Q7"
rc, out, err = hubctl("admin", "create", "audit-admin2", stdin=pw_in + "\n")
u2 = user_row("audit-admin2")
check(pw_in not in out and "audit-admin2" in out and u2[0] == "admin" and pbkdf2_ok(pw_in, u2[2]),
      "admin create takes the password from stdin and does not print it", out.strip())
secrets += [pw_in, u2[2]]

add_session("audit-admin")
add_session("audit-admin")
start = max_id()
rc, out, err = hubctl("admin", "create", "audit-admin", "--reset-password", stdin="")
pw2 = out.strip()
secrets.append(pw2)
u = user_row("audit-admin")
check(rc == 0 and re.fullmatch(r"[A-Za-z0-9]{20}", pw2) is not None and pw2 != pw1
      and pbkdf2_ok(pw2, u[2]) and not pbkdf2_ok(pw1, u[2]),
      "admin create --reset-password sets a new generated password")
secrets.append(u[2])
check(sessions("audit-admin") == 0, "--reset-password ends the user's sessions")
rr = rows_after(start, "admin.reset_password")
check(len(rr) == 1 and rr[0]["before"].get("password") == "(sealed)", "admin.reset_password row", str(rr))

# --- user role and passwd
add_session("alice")
start = max_id()
hubctl("user", "role", "alice", "viewer")
check(user_row("alice")[0] == "viewer", "user role changes the role")
check(sessions("alice") == 0, "user role ends the user's sessions")
ur = rows_after(start, "user.role")
check(len(ur) == 1 and ur[0]["before"] == {"role": "member"} and ur[0]["after"] == {"role": "viewer"}
      and ur[0]["target"] == "alice" and ur[0]["actor"] == ACTOR, "user.role row", str(ur))
rc, out, err = hubctl("user", "role", "alice", "owner", check_rc=False)
check(rc == 2 and user_row("alice")[0] == "viewer", "user role refuses an unknown role")
hubctl("user", "role", "alice", "member")
check(user_row("alice")[0] == "member", "role set back to member")
pw3 = "Alice-Local-Passw0rd-X2"
hubctl("user", "passwd", "audit-admin2", stdin=pw3 + "\n")
secrets.append(pw3)
u2 = user_row("audit-admin2")
check(pbkdf2_ok(pw3, u2[2]), "user passwd sets the password from stdin")
secrets.append(u2[2])
rc, out, err = hubctl("user", "passwd", "audit-admin2", stdin="password\n", check_rc=False)
check(rc != 0 and pbkdf2_ok(pw3, user_row("audit-admin2")[2]), "user passwd refuses a weak password")

# --- no secret anywhere in the audit log
text = audit_text()
leaked = [s[:10] + "..." for s in secrets if s and s in text]
check(not leaked and "(sealed)" in text, "no credential, key, password or hash in audit_log", str(leaked))

# --- audit list
rc, out, err = hubctl("audit", "list", "--limit", "3", "--format", "json")
lst = json.loads(out)
check(rc == 0 and len(lst) == 3 and lst[-1]["id"] == max_id() and lst[0]["id"] < lst[-1]["id"]
      and isinstance(lst[-1]["after"], (dict, type(None))), "audit list --format json: latest rows, oldest first")
rc, out, err = hubctl("audit", "list", "--actor", "nobody-at-all", "--format", "json")
check(json.loads(out) == [], "audit list --actor filters")
rc, out, err = hubctl("audit", "list", "--actor", ACTOR, "--limit", "5")
check(rc == 0 and out.splitlines()[0].split()[:3] == ["ID", "TIME_UTC", "ACTOR"] and len(out.splitlines()) == 6,
      "audit list table", out[:200])
rc, out, err = hubctl("audit", "list", "--format", "xml", check_rc=False)
check(rc == 2, "audit list refuses an unknown format")

# --- tamper detection (the chain is left intact at the end)
rc, out, err = verify()
check(rc == 0, "audit verify passes after the changes", out + err)
target = rows_after(0, "provider.disable")[-1]["id"]
orig = sql(f"SELECT HEX(after_json) FROM audit_log WHERE id = {target}")[0][0]
sql(f"UPDATE audit_log SET after_json = '{{\"enabled\":true}}' WHERE id = {target}")
rc, out, err = verify()
check(rc == 1 and out.startswith(f"audit log broken at row {target}:"),
      "an edited row breaks the chain at that row", out + err)
sql(f"UPDATE audit_log SET after_json = UNHEX('{orig}') WHERE id = {target}")
rc, out, err = verify()
check(rc == 0, "restoring the exact value makes the chain intact again", out + err)

victim = rows_after(0, "credential.add")[-1]["id"]
nxt = int(sql(f"SELECT MIN(id) FROM audit_log WHERE id > {victim}")[0][0])
sql("DROP TABLE IF EXISTS audit_victim")
sql(f"CREATE TABLE audit_victim AS SELECT * FROM audit_log WHERE id = {victim}")
sql(f"DELETE FROM audit_log WHERE id = {victim}")
rc, out, err = verify()
check(rc == 1 and out.startswith(f"audit log broken at row {nxt}:"),
      "a deleted row breaks the chain at the row after it", out + err)
sql("INSERT INTO audit_log SELECT * FROM audit_victim")
sql("DROP TABLE audit_victim")
rc, out, err = verify()
check(rc == 0, "re-inserting the deleted row makes the chain intact again", out + err)

# --- an anchor kept elsewhere catches what the chain alone cannot: the newest rows cut off
hubctl("team", "add", f"anchor-{os.urandom(3).hex()}")
rc, out, err = verify()
m = re.search(r"head: row (\d+) sha256 ([0-9a-f]{64})", out)
anchor = f"{m.group(1)}:{m.group(2)}" if m else "0:0"
rc, out, err = hubctl("audit", "verify", "--anchor", anchor, check_rc=False)
check(rc == 0 and f"anchor row {m.group(1) if m else 0} matches" in out, "verify --anchor passes on the same log",
      out + err)
rc, out, err = hubctl("audit", "verify", "--anchor", anchor.upper(), check_rc=False)
check(rc == 0, "the anchor's hex digits may be upper case", out + err)
sql("DROP TABLE IF EXISTS audit_victim")
sql(f"CREATE TABLE audit_victim AS SELECT * FROM audit_log WHERE id = {m.group(1) if m else 0}")
sql(f"DELETE FROM audit_log WHERE id = {m.group(1) if m else 0}")
rc, out, err = verify()
check(rc == 0, "cutting off the newest row leaves the chain itself intact (why anchors exist)", out)
rc, out, err = hubctl("audit", "verify", "--anchor", anchor, check_rc=False)
check(rc == 1 and "is gone" in out, "verify --anchor detects the cut-off row", out + err)
sql("INSERT INTO audit_log SELECT * FROM audit_victim")
sql("DROP TABLE audit_victim")
bad = anchor[:-1] + ("0" if anchor[-1] != "0" else "1")
rc, out, err = hubctl("audit", "verify", "--anchor", bad, check_rc=False)
check(rc == 1 and "another hash" in out, "verify --anchor detects a rewritten row", out + err)
for junk in ("12", "x:" + "0" * 64, "5:" + "0" * 63, "5:" + "g" * 64, "-1:" + "0" * 64):
    rc, out, err = hubctl("audit", "verify", "--anchor", junk, check_rc=False)
    check(rc == 2 and "--anchor wants ID:HASH" in err, f"a malformed anchor ({junk[:8]}…) is a usage error",
          out + err)
rc, out, err = verify()
check(rc == 0, "the chain is intact at the end", out + err)
done()
