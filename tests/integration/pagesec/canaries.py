"""The pages' security: the fixtures' canary provider keys and one added through the page never
appear in a page, an error, or a log file under $HUB_HOME/log; nor does any secret the other
parts noted (passwords, session ids, tokens)."""
import json
import os
import secrets

from hubtest import HUB_HOME, MOCK_PORT, check, one, sql
from .client import BASE, TAG, bodies, q, secret_values


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
