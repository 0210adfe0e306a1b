"""Budgets (hubctl limit, the gateway's admission and settlement), part 1 of the limit tests:

* hubctl limit set/list/clear: help, errors, audit;
* requests of keys without limits make no UPDATE (the hot path has no extra statement);
* a key with a tiny budget under 200 concurrent requests: spend beyond the budget is at most one
  reservation, nothing is admitted after exhaustion (the mock provider counts what reached it),
  every refusal is a 402 budget_exceeded naming the key and the month.
Then test_limits_rpm.py (RPM across two gateways, TPM) and test_limits_scopes.py (user and team
scopes, alerts, settlement, the Budgets page). Run after fixtures.py (tests/run.sh).
"""
import concurrent.futures
import threading
import time

from hubtest import check, done, hubctl, jrequest, mock_requests, mock_reset, one, sql, wait_for
from limitstest import (MONTH, TAG, body, chat, estimate_micro, ledger, ledger_rows, need_fixtures,
                        new_key, settle_snapshot, settled, uid)


# ---- hubctl --------------------------------------------------------------------------------
def test_hubctl():
    rc, out, _ = hubctl("limit", "--help", check_rc=False)
    check(rc == 0 and "set" in out and "clear" in out, "hubctl limit --help lists set, list, clear")
    rc, out, _ = hubctl("limit", "set", "--help", check_rc=False)
    check(rc == 0 and "--budget" in out and "--rpm" in out and "--tpm" in out,
          "hubctl limit set --help documents --budget, --rpm, --tpm")
    hubctl("user", "add", f"lim-cli-{TAG}", "--team", f"lim-cli-team-{TAG}")
    team = f"lim-cli-team-{TAG}"
    bad = [
        (["limit", "set", "group", team, "--rpm", "5"], 2, "an unknown scope type"),
        (["limit", "set", "team", team], 2, "no limit option"),
        (["limit", "set", "team", team, "--budget", "1.1234567"], 2, "a budget with 7 decimals"),
        (["limit", "set", "team", team, "--budget", "-1"], 2, "a negative budget"),
        (["limit", "set", "team", team, "--rpm", "0"], 2, "rpm 0"),
        (["limit", "set", "team", team, "--tpm", "1e6"], 2, "tpm 1e6"),
        (["limit", "set", "team", "no-such-team-" + TAG, "--rpm", "5"], 1, "an unknown team"),
        (["limit", "set", "team", "bad name", "--rpm", "5"], 2, "an invalid name"),
        (["limit", "set", "team", team, "--budget", "none"], 1, "only 'none' on a scope without limits"),
        (["limit", "clear", "team", team], 1, "clearing a scope without limits"),
        (["limit", "list", "--month", "2025-13"], 2, "list --month 2025-13"),
    ]
    for args, want, what in bad:
        rc, _, err = hubctl(*args, check_rc=False)
        check(rc == want and err.startswith("hubctl: ") and len(err.strip().splitlines()) == 1,
              f"hubctl {' '.join(args[:2])} refuses {what} (exit {want}, one message)",
              f"rc={rc} err={err.strip()}")
    rc, out, _ = hubctl("limit", "set", "team", team, "--budget", "12.5", "--rpm", "60",
                        check_rc=False)
    check(rc == 0 and "$12.50" in out and "rpm 60" in out, "limit set team: budget and rpm", out)
    rc, out, _ = hubctl("limit", "set", "team", team, "--tpm", "5000", check_rc=False)
    check(rc == 0 and "$12.50" in out and "rpm 60" in out and "tpm 5000" in out,
          "limit set keeps the values not given", out)
    rc, out, _ = hubctl("limit", "set", "team", team, "--rpm", "none", check_rc=False)
    check(rc == 0 and "rpm none" in out, "'none' removes one limit", out)
    rc, out, _ = hubctl("limit", "list", "--type", "team", check_rc=False)
    line = [ln for ln in out.splitlines() if team in ln]
    check(rc == 0 and line and "$12.50" in line[0] and "5000" in line[0],
          "limit list shows the team with its budget and tpm", out)
    rc, out, _ = hubctl("limit", "list", "--type", "key", check_rc=False)
    check(rc == 0 and team not in out, "limit list --type key leaves teams out")
    rows = sql(f"SELECT action, before_json IS NULL, after_json FROM audit_log WHERE target = '{team}' "
               f"AND action LIKE 'limit.%' ORDER BY id")
    check(len(rows) == 3 and rows[0][1] == "1" and '"budget_usd":"12.50"' in rows[0][2]
          and rows[2][0] == "limit.set" and '"rpm":null' in rows[2][2],
          "every limit change is audited with before and after", str(rows))
    rc, out, _ = hubctl("limit", "clear", "team", team, check_rc=False)
    n = one(f"SELECT COUNT(*) FROM limits l JOIN teams t ON t.id = l.scope_id "
            f"AND l.scope_type = 'team' WHERE t.name = '{team}'")
    check(rc == 0 and n == "0" and one(f"SELECT COUNT(*) FROM audit_log WHERE target = '{team}' "
                                       f"AND action = 'limit.clear'") == "1",
          "limit clear removes the limits (audited)")


# ---- the gateway: no extra statements without limits ----------------------------------------
def counter_rows():
    """Rows the server read or changed in the limit counters (MariaDB user statistics)."""
    rows = sql("SELECT SUM(ROWS_READ + ROWS_CHANGED) FROM information_schema.TABLE_STATISTICS "
               "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('budget_usage', 'rate_usage')")
    return int(rows[0][0]) if rows and rows[0][0] not in (None, "NULL") else 0


def test_no_limits_no_queries(key):
    user = f"lim-probe-{TAG}"
    hubctl("user", "add", user)
    pname = f"lim-probe-{TAG}"
    probe = new_key(pname, user)
    hubctl("limit", "set", "key", pname, "--rpm", "1000", "--budget", "5")
    settle_snapshot()
    sql("SET GLOBAL userstat = 1")
    try:
        chat(key)
        before = counter_rows()
        oks = 0
        for _ in range(20):
            s, h, _ = chat(key)
            oks += s == 200 and "x-ratelimit-limit-requests" not in h
        free = counter_rows() - before
        before = counter_rows()
        for _ in range(5):
            chat(probe)
        limited = counter_rows() - before
    finally:
        sql("SET GLOBAL userstat = 0")
    check(oks == 20 and free == 0 and limited > 0,
          "20 requests of a key without limits touch no counter row and get no x-ratelimit "
          "headers (a limited key's 5 requests do)", f"ok={oks} free={free} limited={limited}")
    hubctl("limit", "clear", "key", pname)


# ---- budget: 200 concurrent requests on a tiny budget -------------------------------------
def test_budget_race():
    user = f"lim-b-{TAG}"
    hubctl("user", "add", user)
    kname = f"lim-budget-{TAG}"
    key = new_key(kname, user)
    kid = uid("api_keys", kname)
    budget = 1000  # micro-USD = $0.001
    hubctl("limit", "set", "key", kname, "--budget", "0.001")
    settle_snapshot()
    text = body()
    est = estimate_micro(text, 32)
    mock_reset()
    results = []
    lock = threading.Lock()

    def one_call(_):
        s, h, o = jrequest("POST", "/v1/chat/completions", text, key=key, timeout=60)
        with lock:
            results.append((s, o))

    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
        list(ex.map(one_call, range(200)))
    elapsed = time.time() - t0
    ok = sum(1 for s, _ in results if s == 200)
    refused = [o for s, o in results if s == 402]
    other = [s for s, _ in results if s not in (200, 402)]
    reached = len(mock_requests())
    check(len(results) == 200 and not other, "200 concurrent requests: every answer is 200 or 402",
          f"others={other[:5]}")
    check(reached == ok, f"the provider got exactly the {ok} admitted requests", f"reached={reached}")
    wait_for(lambda: ledger_rows("key_id", kid) >= ok)
    spent_ledger = ledger("key_id", kid)
    spent, reserved = settled("key", kid)
    over = spent_ledger - budget
    print(f"# budget race: {ok} admitted, {len(refused)} refused in {elapsed:.2f} s; ledger spend "
          f"{spent_ledger} micro-USD of a {budget} budget (beyond it: {max(over, 0)}; one "
          f"reservation: {est})")
    check(ok > 0 and len(refused) > 0, "some requests were admitted, the rest refused",
          f"ok={ok} refused={len(refused)}")
    check(spent_ledger <= budget + est,
          f"spend beyond the budget <= one reservation ({max(over, 0)} <= {est} micro-USD)",
          f"spent={spent_ledger}")
    check(spent == spent_ledger and reserved == 0,
          "the budget row equals the ledger and nothing stays reserved",
          f"row=({spent},{reserved}) ledger={spent_ledger}")
    msg = refused[0]["error"] if refused else {}
    check(msg.get("type") == "insufficient_quota" and msg.get("code") == "budget_exceeded"
          and kname in msg.get("message", "") and MONTH in msg.get("message", ""),
          "402: type insufficient_quota, code budget_exceeded, message names the key and month",
          str(msg))
    # what the burst's reservations held back may still admit a few; then it is used up
    more = 0
    while chat(key)[0] == 200 and more < 100:
        more += 1
    mock_reset()
    after = [chat(key)[0] for _ in range(5)]
    wait_for(lambda: ledger_rows("key_id", kid) >= ok + more)
    spent_ledger = ledger("key_id", kid)
    check(after == [402] * 5 and len(mock_requests()) == 0 and spent_ledger + est > budget
          and spent_ledger <= budget,
          f"once used up ({more} more admitted one by one; {spent_ledger} + one estimate > "
          f"{budget}), every request gets 402 and none reaches the provider", str(after))
    # raising the budget admits again; clearing it removes the limit
    hubctl("limit", "set", "key", kname, "--budget", "1")
    settle_snapshot()
    check(chat(key)[0] == 200, "a raised budget admits again (within a second)")
    hubctl("limit", "clear", "key", kname)


def main():
    need_fixtures()
    test_hubctl()
    free_user = f"lim-free-{TAG}"
    hubctl("user", "add", free_user)
    test_no_limits_no_queries(new_key(f"lim-free-{TAG}", free_user))
    test_budget_race()
    done()


main()
