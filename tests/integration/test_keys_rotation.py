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
rc, out, err = hubctl("key-rotate")
after_ids = key_ids()
after_rows = sql("SELECT id, key_id FROM credentials ORDER BY id")
check(rc == 0 and len(after_ids) == 1 and after_ids[0] > max(before_ids), "key-rotate makes a new key",
      f"{before_ids} -> {after_ids}")
check(all(r[1] == str(after_ids[0]) for r in after_rows) and len(after_rows) == len(before_rows),
      "every credential re-wrapped under the new key id")
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
