"""Helpers of the budget and rate-limit tests (test_limits*.py): the chat request they send, what
the gateway reserves for it, keys, and this month's budget and ledger sums."""
import json
import os
import secrets
import time

from hubtest import HUB_HOME, hubctl, jrequest, one, sql

TAG = secrets.token_hex(3)
GW_LOG = os.path.join(HUB_HOME, "log", "gateway.log")
MONTH = time.strftime("%Y-%m", time.gmtime())
PRICE_IN, PRICE_OUT = 0.15, 0.60  # mock/gpt-4o-mini in fixtures.py, USD per 1M tokens


def body(words=20, max_tokens=32, model="gpt-4o-mini", stream=False):
    b = {"model": model, "max_tokens": max_tokens,
         "messages": [{"role": "user", "content": " ".join(["word"] * words)}]}
    if stream:
        b["stream"] = True
    return json.dumps(b)


def estimate_micro(text, max_tokens):
    """What the gateway reserves: body bytes / 4 prompt tokens + max_tokens, at the price."""
    prompt = (len(text.encode()) + 3) // 4
    return (prompt * int(PRICE_IN * 1e6) + max_tokens * int(PRICE_OUT * 1e6) + 500000) // 1000000


def chat(key, port=None, **kw):
    return jrequest("POST", "/v1/chat/completions", body(**kw), key=key, port=port, timeout=60)


def new_key(name, user, team=None):
    args = ["key", "create", "--name", name, "--user", user]
    if team:
        args += ["--team", team]
    return hubctl(*args)[1].strip()


def settled(scope, sid):
    """(spent, reserved) of this month's budget row."""
    r = sql(f"SELECT spent_micro, reserved_micro FROM budget_usage WHERE scope_type = '{scope}' "
            f"AND scope_id = {sid} AND month = '{MONTH}-01'")
    return (int(r[0][0]), int(r[0][1])) if r else (None, None)


def ledger(col, sid):
    return int(one(f"SELECT COALESCE(SUM(cost_micro), 0) FROM usage_log WHERE {col} = {sid} "
                   f"AND ts >= '{MONTH}-01'"))


def ledger_rows(col, sid):
    return int(one(f"SELECT COUNT(*) FROM usage_log WHERE {col} = {sid} AND outcome <> 'pending'"))


def early_in_minute(room=25):
    """Waits until at least room seconds of the current UTC minute are left."""
    s = time.time() % 60
    if s > 60 - room:
        time.sleep(60 - s + 0.3)


def settle_snapshot():
    time.sleep(1.3)  # the gateways reload the limits table at most every second


def uid(table, name):
    return int(one(f"SELECT id FROM {table} WHERE name = '{name}'"))


def need_fixtures():
    """The limit tests run after fixtures.py (the mock provider's routes and prices)."""
    json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
