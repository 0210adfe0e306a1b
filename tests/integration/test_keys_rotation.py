"""Master key rotation re-wraps every credential and the running gateway keeps serving;
a credential row that does not decrypt fails the request with a clear 500, and the log
line does not contain the secret."""
import json
import os
import time

from hubtest import HUB_HOME, MOCK_PORT, check, done, hubctl, jrequest, sql

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]
CHAT = "/v1/chat/completions"
body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "rotate"}]}
keyfile = os.path.join(HUB_HOME, "etc", "master.key")


def key_ids():
    with open(keyfile) as f:
        return [int(line.split(":")[0]) for line in f if line.strip() and not line.startswith("#")]


before_ids = key_ids()
before_rows = sql("SELECT id, key_id FROM credentials ORDER BY id")
# a secret setting (the pages' OIDC client secret): stored by the OIDC test before this one;
# else one is sealed here by hand, the way hub_settings does (aad "setting:<name>")
if not sql("SELECT name FROM settings WHERE secret_enc IS NOT NULL"):
    sql("INSERT INTO settings (name, secret_enc, key_id) SELECT 'oidc_client_secret', secret_enc, "
        "key_id FROM credentials LIMIT 1")  # a blob that does NOT open as a setting: refused
    rc, out, err = hubctl("key-rotate", check_rc=False)
    check(rc != 0 and "setting oidc_client_secret does not open" in err,
          "key-rotate refuses a secret setting that does not open", err.strip())
    sql("DELETE FROM settings WHERE name = 'oidc_client_secret'")
    before_ids = key_ids()
settings_before = sql("SELECT name FROM settings WHERE secret_enc IS NOT NULL")
rc, out, err = hubctl("key-rotate")
after_ids = key_ids()
after_rows = sql("SELECT id, key_id FROM credentials ORDER BY id")
check(rc == 0 and len(after_ids) == 1 and after_ids[0] > max(before_ids), "key-rotate makes a new key",
      f"{before_ids} -> {after_ids}")
check(all(r[1] == str(after_ids[0]) for r in after_rows) and len(after_rows) == len(before_rows),
      "every credential re-wrapped under the new key id")
settings_after = sql("SELECT name, key_id FROM settings WHERE secret_enc IS NOT NULL")
check(len(settings_after) == len(settings_before) and
      all(r[1] == str(after_ids[0]) for r in settings_after) and
      f"{len(settings_before)} secret settings" in out,
      "secret settings (the pages' OIDC client secret) are re-wrapped too, so they still open "
      "after the old key is gone", f"{settings_after} {out.strip()}")
time.sleep(1.5)
s, h, b = jrequest("POST", CHAT, body, key=KEY)
check(s == 200, "gateway serves after rotation (reloads the keyring)", f"{s} {b}")
check(oct(os.stat(keyfile).st_mode & 0o777) == "0o600", "rotated key file mode 0600")

# a tampered credential row: clear error, no secret in the log
secret = "sk-tamper-SECRET-0123456789abcdef"
hubctl("provider", "add", "tampered", "--type", "openai-compatible", "--base-url",
       f"http://127.0.0.1:{MOCK_PORT}/v1", "--internal", stdin=secret + "\n")
cid = sql("SELECT c.id FROM credentials c JOIN providers p ON p.id = c.provider_id WHERE p.name='tampered'")[0][0]
sql(f"UPDATE credentials SET secret_enc = CONCAT(LEFT(secret_enc, 20), "
    f"CHAR(ASCII(SUBSTRING(secret_enc, 21, 1)) ^ 1), SUBSTRING(secret_enc, 22)) WHERE id = {cid}")
time.sleep(1.5)
s, h, b = jrequest("POST", CHAT, dict(body, model="tampered/gpt-4o-mini"), key=KEY)
check(s == 500 and b["error"]["code"] == "credential_unreadable" and "decrypt" in b["error"]["message"],
      "tampered credential -> clear 500", f"{s} {b}")
log = open(os.path.join(HUB_HOME, "log", "gateway.log"), errors="replace").read()
check(f"credential {cid}" in log and secret not in log, "log names the credential, not the secret")
rc, out, err = hubctl("key-rotate", check_rc=False)
check(rc != 0 and f"credential {cid}" in err and secret not in err,
      "key-rotate refuses a row that does not decrypt", err.strip())
sql(f"DELETE FROM providers WHERE name = 'tampered'")
s, h, b = jrequest("POST", CHAT, body, key=KEY)
check(s == 200, "other providers unaffected")
done()
