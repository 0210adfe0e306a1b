"""Usage analytics (analytics.cgi, hubctl usage/rollup/retention) against the ledger.

Seeds usage_log with known rows (several users, teams, keys, apps, models, outcomes, NULL
counts, retries, rows in flight and rows left 'pending' for hours, rows older than the
retention), rolls them up, then checks:
  * the rollups: every family's totals equal the ledger's sums; a second rollup, a replayed
    final record and a late final for a row rolled as unfinished change nothing / exactly that;
  * every breakdown (user, team, app, key, model, provider, day), the overview cards and the
    chargeback: page totals, CSV and JSON rows equal SQL sums over the same period (UTC and a
    time zone with daylight saving); the CSV equals the page's table; hubctl's CSV is the page's;
  * the call log pages through exactly the period's rows of a filter, and holds no prompt;
  * members see only their own usage through every view, export and parameter; viewers see
    everything, read-only; bad parameters get 400, never 500;
  * the gateway's drain thread rolls new calls up by itself; retention removes old raw rows in
    batches and keeps the rollups (and writes an audit row).
"""
import csv
import datetime as dt
import html
import io
import json
import os
import re
import time
import urllib.parse
import zoneinfo

from hubtest import HUB_HOME, check, done, hubctl, login, request, sql, wait_for, web

BASE = "/admin"
NOW = int(time.time())
DAY = 86400
STALE = 7200  # HUB_ROLLUP_STALE_SECONDS


# ---- HTTP with a session (hubtest.web, hubtest.login) ----------------------------------

def page(cookie, **params):
    return web("GET", f"{BASE}/analytics.cgi?" + urllib.parse.urlencode(params), cookie=cookie)


# ---- fixtures: accounts, keys, ledger rows -------------------------------------------------

PW = "Analytics-test-pw-7c2e9a"
for name, team, role in (("an-alice", "an-red", "member"), ("an-bob", "an-blue", "member"),
                         ("an-carol", "an-red", "member"), ("an-vera", "an-blue", "viewer")):
    hubctl("user", "add", name, "--team", team)
    hubctl("user", "passwd", name, stdin=PW + "\n")
    hubctl("user", "role", name, role)
keys = {}
for kname, user, extra in (("an-alice-nb", "an-alice", ["--app", "an-notebook"]),
                           ("an-alice-ci", "an-alice", ["--app", "an-ci"]),
                           ("an-bob-main", "an-bob", ["--app", "an-notebook"]),
                           ("an-carol-svc", "an-carol", ["--app", "an-batch", "--team", "an-blue"])):
    secret = hubctl("key", "create", "--name", kname, "--user", user, *extra)[1].strip()
    keys[kname] = secret
ids = {r[0]: int(r[1]) for r in sql("SELECT name, id FROM users WHERE name LIKE 'an-%' "
                                    "UNION ALL SELECT name, id FROM teams WHERE name LIKE 'an-%' "
                                    "UNION ALL SELECT name, id FROM api_keys WHERE name LIKE 'an-%'")}
KEYROW = {  # key -> (user, team, app)
    "an-alice-nb": ("an-alice", "an-red", "an-notebook"),
    "an-alice-ci": ("an-alice", "an-red", "an-ci"),
    "an-bob-main": ("an-bob", "an-blue", "an-notebook"),
    "an-carol-svc": ("an-carol", "an-blue", "an-batch"),
}
MODELS = [("mock", "gpt-4o-mini"), ("mock", "gpt-4o"), ("anthropic", "claude-3-opus-20240229"),
          ("google", "gemini-2.5-flash"), ("mock", "dall-e-3")]
OUTCOMES = ["ok"] * 8 + ["upstream_error", "client_abort", "timeout", "truncated"]

rows = []
n = 0


def add(ts, key, model, outcome, attempt=0, tokens=(None, None), images=None, cost=None,
        lat=None, ttfb=None, user=None, team=None, app=None, rid=None):
    global n
    n += 1
    u, t, a = KEYROW[key] if key else (user, team, app)
    rid = rid or f"an000000-0000-4000-8000-{n:012d}"
    rows.append("('%s', %d, FROM_UNIXTIME(%d), %s, %s, %s, %s, '%s', '%s', 'chat/completions', 0, %s, "
                "%s, %s, %s, %s, %s, %s, %s, '%s')" % (
                    rid, attempt, ts, ids[key] if key else "NULL", ids[u] if u else "NULL",
                    ids[t] if t else "NULL", f"'{a}'" if a else "NULL", model[0], model[1],
                    "200" if outcome == "ok" else "NULL",
                    *["NULL" if v is None else str(v) for v in (tokens[0], tokens[1],
                      None if tokens[0] is None else tokens[0] + (tokens[1] or 0), images, cost,
                      lat, ttfb)], outcome))
    return rid


# 40 days of calls, spread over the hours (some near midnight, for the time zone edges)
for i in range(400):
    ts = NOW - 40 * DAY + i * 8640 + (i * 7919) % 3600
    key = list(KEYROW)[i % 4]
    model = MODELS[(i // 4) % 5]
    outcome = OUTCOMES[i % len(OUTCOMES)]
    if model[1] == "dall-e-3":
        tokens, images, cost = (None, None), (None if outcome == "upstream_error" else 1 + i % 3), None
        cost = None if images is None else images * 40000
    else:
        images = None
        tokens = (None, None) if outcome == "upstream_error" else (100 + i, 20 + i % 50)
        cost = None if tokens[0] is None or model[0] == "google" else 7 * tokens[0] + 3 * tokens[1]
    lat = None if i % 17 == 0 else 40 + (i * 37) % 5000
    add(ts, key, model, outcome, attempt=1 if i % 13 == 0 else 0, tokens=tokens, images=images,
        cost=cost, lat=lat, ttfb=None if lat is None else lat // 3)
# OAuth calls: no key, app "oauth"
for i in range(12):
    add(NOW - i * 5 * 3600, None, MODELS[0], "ok", tokens=(50, 5), cost=100, lat=120, ttfb=40,
        user="an-bob", team="an-blue", app="oauth")
# in flight (not counted yet) and left pending for hours (counted as unfinished)
add(NOW - 600, "an-alice-nb", MODELS[0], "pending")
stale1 = add(NOW - 3 * 3600, "an-alice-nb", MODELS[0], "pending")
stale2 = add(NOW - 4 * 3600, "an-bob-main", MODELS[1], "pending")
# older than the retention test's 60 days
for i in range(30):
    add(NOW - 100 * DAY + i * 600, "an-carol-svc", MODELS[0], "ok", tokens=(10, 10), cost=1000,
        lat=200, ttfb=50)
for chunk in range(0, len(rows), 200):
    sql("INSERT INTO usage_log (request_id, attempt, ts, key_id, user_id, team_id, app, provider, "
        "model, endpoint, stream, status, prompt_tokens, completion_tokens, total_tokens, images, "
        "cost_micro, latency_ms, ttfb_ms, outcome) VALUES " + ",".join(rows[chunk:chunk + 200]))
rc, out, err = hubctl("rollup")
check(rc == 0 and "rolled up" in out, "hubctl rollup catches up", out + err)

# ---- truth from the ledger ----------------------------------------------------------------

COUNTED = f"(l.outcome <> 'pending' OR l.ts < UTC_TIMESTAMP() - INTERVAL {STALE} SECOND)"
MEASURES = ("COUNT(*), SUM(l.outcome NOT IN ('ok','client_abort','pending')), "
            "COALESCE(SUM(l.prompt_tokens),0), COALESCE(SUM(l.completion_tokens),0), "
            "COALESCE(SUM(l.images),0), COALESCE(SUM(l.cost_micro),0), SUM(l.cost_micro IS NULL)")
GROUPS = {
    "user": "COALESCE(u.name, '(none)')", "team": "COALESCE(t.name, '(none)')",
    "app": "COALESCE(NULLIF(l.app, ''), '(none)')",
    "key": "IF(l.key_id IS NULL, '(no key: OAuth token)', k.name)",
    "model": "CONCAT(l.provider, '/', l.model)", "provider": "l.provider",
}
JOINS = ("FROM usage_log l LEFT JOIN users u ON u.id = l.user_id LEFT JOIN teams t ON t.id = l.team_id "
         "LEFT JOIN api_keys k ON k.id = l.key_id")


def utc(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def truth(by, t0, t1, where="1=1"):
    """{group: (requests, errors, tokens in, tokens out, images, cost micro, unpriced)}"""
    g = GROUPS[by] if by else "'all usage'"
    res = sql(f"SELECT {g}, {MEASURES} {JOINS} WHERE l.ts >= '{utc(t0)}' AND l.ts < '{utc(t1)}' "
              f"AND {COUNTED} AND {where} GROUP BY 1")
    return {r[0]: tuple(int(x) for x in r[1:]) for r in res}


def usd_micro(s):
    whole, _, frac = s.partition(".")
    return int(whole) * 1000000 + int((frac + "000000")[:6])


def from_csv(text):
    out = {}
    for r in csv.DictReader(io.StringIO(text)):
        out[r["group"]] = (int(r["requests"]), int(r["errors"]), int(r["prompt_tokens"]),
                           int(r["completion_tokens"]), int(r["images"]), usd_micro(r["cost_usd"]),
                           int(r["unpriced_requests"]))
    return out


def from_json(text):
    return {r["group"]: (r["requests"], r["errors"], r["prompt_tokens"], r["completion_tokens"],
                         r["images"], usd_micro("%.6f" % r["cost_usd"]), r["unpriced_requests"])
            for r in json.loads(text)}


def table_rows(text):
    """The breakdown table of a page: {name: (requests, errors, in, out, images, cost, unpriced)},
    and the total row."""
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in text else ""
    out = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
        out[cells[0]] = cells
    foot = re.search(r'<tr class="total">(.*?)</tr>', text, re.S)
    total = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", foot.group(1), re.S)] if foot else []
    return out, total


def nums(cells, first):
    """requests, errors, in, out, images, cost, unpriced from a table row starting at first."""
    c = cells[first:first + 7]
    return (int(c[0].replace(",", "")), int(c[1].replace(",", "")), int(c[2].replace(",", "")),
            int(c[3].replace(",", "")), int(c[4].replace(",", "")), usd_micro(c[5]),
            int(c[6].replace(",", "")))


def day_start(t):
    return t // DAY * DAY


# ---- the rollups themselves ---------------------------------------------------------------

def ledger_totals():
    r = sql(f"SELECT {MEASURES} FROM usage_log l WHERE {COUNTED}")[0]
    return tuple(int(x) for x in r)


def family_totals(table):
    r = sql(f"SELECT SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens), "
            f"SUM(images), SUM(cost_micro), SUM(unpriced) FROM {table}")[0]
    return tuple(int(x) for x in r)


TABLES = ["usage_hourly", "usage_daily", "usage_hourly_key", "usage_daily_key", "usage_hourly_team",
          "usage_daily_team", "usage_hourly_model", "usage_daily_model", "usage_hourly_team_model",
          "usage_daily_team_model"]
lt = ledger_totals()
check(all(family_totals(t) == lt for t in TABLES), "every rollup table's totals equal the ledger's",
      f"{lt} vs {[family_totals(t) for t in TABLES]}")
unf = int(sql("SELECT SUM(unfinished) FROM usage_daily")[0][0])
pend_old = int(sql(f"SELECT COUNT(*) FROM usage_log WHERE outcome = 'pending' AND "
                   f"ts < UTC_TIMESTAMP() - INTERVAL {STALE} SECOND")[0][0])
check(unf == pend_old and unf >= 2, "rows pending for hours count as unfinished", f"{unf} {pend_old}")
team_truth = {r[0]: int(r[1]) for r in sql(f"SELECT COALESCE(team_id, 0), COUNT(*) FROM usage_log l "
                                           f"WHERE {COUNTED} GROUP BY 1")}
team_roll = {r[0]: int(r[1]) for r in sql("SELECT team_id, SUM(requests) FROM usage_daily_team GROUP BY 1")}
check({int(k): v for k, v in team_truth.items()} == {int(k): v for k, v in team_roll.items()},
      "per-team rollup equals the per-team ledger count")
before = family_totals("usage_hourly")
hubctl("rollup")
check(family_totals("usage_hourly") == before, "a second rollup adds nothing")
# a replayed final record (the drain's upsert with the same values) changes nothing
rid = sql("SELECT request_id FROM usage_log WHERE request_id LIKE 'an000000-%' AND outcome = 'ok' LIMIT 1")[0][0]
sql("INSERT INTO usage_log (request_id, attempt, ts, provider, model, endpoint, outcome) "
    f"SELECT request_id, attempt, ts, provider, model, endpoint, outcome FROM usage_log "
    f"WHERE request_id = '{rid}' ON DUPLICATE KEY UPDATE outcome = VALUES(outcome)")
hubctl("rollup")
check(family_totals("usage_hourly") == before, "a replayed final record is not counted twice")
# a late final record for a row rolled as unfinished: the pending contribution is swapped
sql(f"UPDATE usage_log SET outcome = 'ok', status = 200, prompt_tokens = 1000, "
    f"completion_tokens = 100, total_tokens = 1100, cost_micro = 5555, latency_ms = 900, "
    f"ttfb_ms = 300 WHERE request_id = '{stale2}'")
hubctl("rollup")
after = family_totals("usage_hourly")
check(after == ledger_totals() and after[0] == before[0] and after[2] == before[2] + 1000
      and int(sql("SELECT SUM(unfinished) FROM usage_daily")[0][0]) == unf - 1,
      "a late final record replaces the unfinished count exactly", f"{before} -> {after}")
lt = ledger_totals()

# ---- pages against the ledger ---------------------------------------------------------------

lines = open(os.path.join(HUB_HOME, "etc", "admin.password")).read().splitlines()
admin_pw = next((ln[len("password: "):] for ln in lines if ln.startswith("password: ")),
                lines[0] if lines else "")
admin = login("admin", admin_pw)
viewer = login("an-vera", PW)
alice = login("an-alice", PW)
check(admin is not None and viewer is not None and alice is not None, "admin, viewer, member sign in")

today0 = day_start(NOW)
P30 = (today0 - 29 * DAY, today0 + DAY)  # "30d" in UTC
for by in ("user", "team", "app", "key", "model", "provider"):
    want = truth(by, *P30)
    st, hd, text = page(admin, view="breakdown", by=by, period="30d")
    rows_, total = table_rows(text)
    st_c, hd_c, csv_text = page(admin, view="breakdown", by=by, period="30d", format="csv")
    st_j, _, json_text = page(admin, view="breakdown", by=by, period="30d", format="json")
    got = from_csv(csv_text)
    check(st == 200 and st_c == 200 and got == want, f"by {by}: CSV equals the ledger's sums",
          f"{got} vs {want}")
    check(st_j == 200 and from_json(json_text) == want, f"by {by}: JSON equals the ledger's sums")
    first = 2 if by == "key" else 1
    page_vals = {k: nums(v, first) for k, v in rows_.items()}
    check(page_vals == got, f"by {by}: the page's table equals the CSV", f"{page_vals} vs {got}")
    all_sum = tuple(sum(v[i] for v in want.values()) for i in range(7))
    check(total and nums(total, first) == all_sum, f"by {by}: the total row equals the SQL sum",
          f"{total} vs {all_sum}")
    check("attachment" in hd_c.get("content-disposition", "") and hd_c.get("content-type", "").startswith("text/csv"),
          f"by {by}: CSV is a download")

# by day, and a period in a zone with daylight saving (edges read from the hourly tables)
want = {dt.datetime.fromtimestamp(d, dt.timezone.utc).strftime("%Y-%m-%d"): v
        for d in range(P30[0], P30[1], DAY) for v in [truth(None, d, d + DAY).get("all usage")] if v and v[0]}
st, _, csv_text = page(admin, view="breakdown", by="day", period="30d", format="csv")
check(from_csv(csv_text) == want, "by day: CSV equals the ledger per day", f"{from_csv(csv_text)} vs {want}")
ny = zoneinfo.ZoneInfo("America/New_York")
d_from = (dt.datetime.fromtimestamp(NOW, ny) - dt.timedelta(days=35)).date()
d_to = (dt.datetime.fromtimestamp(NOW, ny) - dt.timedelta(days=3)).date()
t0 = int(dt.datetime.combine(d_from, dt.time(), ny).timestamp())
t1 = int(dt.datetime.combine(d_to + dt.timedelta(days=1), dt.time(), ny).timestamp())
for by in ("team", "user", "model"):
    st, _, csv_text = page(admin, view="breakdown", by=by, period="custom", tz="America/New_York",
                           **{"from": d_from.isoformat(), "to": d_to.isoformat()}, format="csv")
    check(st == 200 and from_csv(csv_text) == truth(by, t0, t1),
          f"by {by} in America/New_York, custom period: equals the ledger", csv_text[:300])
# a period of hours inside one UTC day (the previous period of "today"), via UTC+5
st, _, csv_text = page(admin, view="breakdown", by="team", period="7d", tz="UTC+5", format="csv")
plus5 = dt.timezone(dt.timedelta(hours=5))
l0 = dt.datetime.fromtimestamp(NOW, plus5).date() - dt.timedelta(days=6)
t0 = int(dt.datetime.combine(l0, dt.time(), plus5).timestamp())
check(from_csv(csv_text) == truth("team", t0, t0 + 7 * DAY), "by team in UTC+5: equals the ledger")

# overview cards: this period and the previous one
st, _, text = page(admin, period="30d")
cards = [html.unescape(c) for c in re.findall(r'<span class="card-num">([^<]*)</span>', text)]
tot = truth(None, *P30)["all usage"]
check(st == 200 and len(cards) == 10 and int(cards[0].replace(",", "")) == tot[0]
      and int(cards[1].replace(",", "")) == tot[2] and int(cards[2].replace(",", "")) == tot[3]
      and int(cards[3].replace(",", "")) == tot[4] and int(cards[5].replace(",", "")) == tot[1],
      "overview: requests, tokens, images, errors equal the ledger", f"{cards} vs {tot}")
check("<svg" in text and "Estimated cost per day" in text and "<title>" in text and "Top spenders" in text,
      "overview: server-drawn SVG charts with titles and legend")
check("<script" not in text.lower(), "overview: no JavaScript")
# the previous period runs as far as this one has come (to the end of the current hour): read
# the page again when an hour began while it was drawn
hour_end = (int(time.time()) // 3600 + 1) * 3600
st, _, text = page(admin, period="30d")
if (int(time.time()) // 3600 + 1) * 3600 != hour_end:
    hour_end = (int(time.time()) // 3600 + 1) * 3600
    st, _, text = page(admin, period="30d")
prev = truth(None, P30[0] - 30 * DAY, min(P30[0], P30[0] - 30 * DAY + hour_end - P30[0]))
m = re.search(r"requests \(attempts sent upstream\)</span><span class=\"muted\">previous: ([0-9,]+)", text)
check(m is not None and int(m.group(1).replace(",", "")) == prev.get("all usage", (0,))[0],
      "overview: the previous period's requests equal the ledger", m.group(1) if m else text[:200])

# the same in a zone with daylight saving: today, 7 days (edges read from both sides)
for per, days in (("today", 1), ("7d", 7)):
    l_end = dt.datetime.fromtimestamp(NOW, ny).date() + dt.timedelta(days=1)
    t0 = int(dt.datetime.combine(l_end - dt.timedelta(days=days), dt.time(), ny).timestamp())
    t1 = int(dt.datetime.combine(l_end, dt.time(), ny).timestamp())
    p0 = int(dt.datetime.combine(l_end - dt.timedelta(days=2 * days), dt.time(), ny).timestamp())
    hour_end = (int(time.time()) // 3600 + 1) * 3600
    st, _, text = page(admin, period=per, tz="America/New_York")
    if (int(time.time()) // 3600 + 1) * 3600 != hour_end:  # an hour began meanwhile: again
        hour_end = (int(time.time()) // 3600 + 1) * 3600
        st, _, text = page(admin, period=per, tz="America/New_York")
    el = hour_end - t0
    cards = [c.replace(",", "") for c in re.findall(r'<span class="card-num">([^<]*)</span>', text)]
    m = re.search(r"requests \(attempts sent upstream\)</span><span class=\"muted\">previous: ([0-9,]+)", text)
    want_c = truth(None, t0, t1).get("all usage", (0,))[0]
    want_p = truth(None, p0, min(t0, p0 + el)).get("all usage", (0,))[0]
    check(st == 200 and cards and int(cards[0]) == want_c and m and int(m.group(1).replace(",", "")) == want_p,
          f"overview {per} in America/New_York: this and the previous period equal the ledger",
          f"{cards[:1]} {m.group(1) if m else None} vs {want_c} {want_p}")

# chargeback: this month per team and per team and model; hubctl's report is the same
month = dt.datetime.fromtimestamp(NOW, dt.timezone.utc).strftime("%Y-%m")
m0 = int(dt.datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=dt.timezone.utc).timestamp())
nm = (dt.datetime.fromtimestamp(m0, dt.timezone.utc) + dt.timedelta(days=32)).replace(day=1)
m1 = int(nm.timestamp())
st, _, csv_text = page(admin, view="chargeback", month=month, format="csv")
check(st == 200 and from_csv(csv_text) == truth("team", m0, m1), "chargeback CSV equals the ledger per team")
st, _, text = page(admin, view="chargeback", month=month)
rows_, total = table_rows(text)
check(st == 200 and {k: nums(v, 1) for k, v in rows_.items()} == truth("team", m0, m1),
      "chargeback page equals the ledger per team")
rc, out, _ = hubctl("usage", "--chargeback", month, "--format", "json")
check(from_json(out) == truth("team", m0, m1), "hubctl usage --chargeback equals the ledger")
st, _, csv_text = page(admin, view="chargeback", month=month, detail="1", format="csv")
tm = {}
for r in csv.DictReader(io.StringIO(csv_text)):
    tm[(r["group"], r["model"])] = int(r["requests"])
want_tm = {(r[0], r[1]): int(r[2]) for r in sql(
    f"SELECT COALESCE(t.name, '(none)'), CONCAT(l.provider, '/', l.model), COUNT(*) {JOINS} "
    f"WHERE l.ts >= '{utc(m0)}' AND l.ts < '{utc(m1)}' AND {COUNTED} GROUP BY 1, 2")}
check(tm == want_tm, "chargeback per team and model equals the ledger")
# hubctl usage and the page export are the same bytes
d0 = dt.datetime.fromtimestamp(P30[0], dt.timezone.utc).strftime("%Y-%m-%d")
d1 = dt.datetime.fromtimestamp(P30[1] - 1, dt.timezone.utc).strftime("%Y-%m-%d")
for by in ("team", "key", "model"):
    rc, out, _ = hubctl("usage", "--by", by, "--since", d0, "--until", d1, "--format", "csv")
    st, _, csv_text = page(admin, view="breakdown", by=by, period="custom", sort="name", dir="asc",
                           **{"from": d0, "to": d1}, format="csv")
    # (hubctl's output is read as text: its CRLF line ends arrive as LF)
    check(rc == 0 and out == csv_text.replace("\r\n", "\n"),
          f"hubctl usage --by {by} --format csv equals the page's CSV")

# ---- the call log ---------------------------------------------------------------------------

want_ids = {r[0] for r in sql(f"SELECT CONCAT(request_id, '#', attempt) FROM usage_log WHERE "
                              f"key_id = {ids['an-alice-nb']} AND ts >= '{utc(P30[0])}' AND ts < '{utc(P30[1])}'")}
seen, pages_, params = set(), 0, {"view": "calls", "period": "30d", "key": ids["an-alice-nb"]}
path = f"{BASE}/analytics.cgi?" + urllib.parse.urlencode(params)
while path and pages_ < 20:
    st, _, text = web("GET", path, cookie=admin)
    pages_ += 1
    for rid, att in re.findall(r'title="([0-9A-Za-z-]{36}) #(\d+)"', text):
        seen.add(f"{rid}#{att}")
    m = re.search(r'<a href="([^"]+)" rel="next">', text)
    path = html.unescape(m.group(1)) if m else None
check(seen == want_ids and pages_ >= 2, "call log: keyset pages cover exactly the key's calls",
      f"{len(seen)} vs {len(want_ids)} in {pages_} pages")
check("does not store prompts" in text, "call log says the hub stores no prompts")
st, _, text = page(admin, view="calls", period="30d", outcome="timeout")
outs = set(re.findall(r'<td><span class="badge badge-\w+">([a-z_]+)</span></td>', text))
check(st == 200 and outs == {"timeout"}, "call log: outcome filter", str(outs))

# ---- who sees what --------------------------------------------------------------------------

alice_id, bob_id = ids["an-alice"], ids["an-bob"]
mine = truth(None, *P30, where=f"l.user_id = {alice_id}")["all usage"]
st, _, text = page(alice, period="30d")
cards = [c.replace(",", "") for c in re.findall(r'<span class="card-num">([^<]*)</span>', text)]
check(st == 200 and cards and int(cards[0]) == mine[0], "member overview: only their own requests",
      f"{cards[:1]} vs {mine[0]}")
forbidden = ["an-bob", "an-carol", "an-bob-main", "an-carol-svc", "an-batch", "an-blue"]
leaks = []
views = [dict(period="30d"), dict(view="breakdown", by="model", period="30d"),
         dict(view="breakdown", by="key", period="30d"), dict(view="breakdown", by="app", period="30d"),
         dict(view="breakdown", by="user", period="30d"), dict(view="breakdown", by="team", period="30d"),
         dict(view="breakdown", by="provider", period="30d"), dict(view="breakdown", by="day", period="30d"),
         dict(view="calls", period="30d"), dict(view="chargeback", month=month),
         dict(view="chargeback", month=month, detail="1")]
for v in views:
    for fmt in (None, "csv", "json"):
        if fmt and v.get("view") in (None, "calls"):
            continue
        params = dict(v, **({"format": fmt} if fmt else {}))
        st, _, text = page(alice, **params)
        hit = [w for w in forbidden if w in text]
        if st != 200 or hit:
            leaks.append((params, st, hit))
        if fmt == "csv" and v.get("view") == "breakdown" and v["by"] != "day":
            s = sum(r[0] for r in from_csv(text).values())
            if s != mine[0]:
                leaks.append((params, "sum", s, mine[0]))
check(not leaks, "member: every view and export shows only their own usage", str(leaks[:3]))
bad = []
for extra in ({"user": bob_id}, {"user": 0}, {"user": ids["an-carol"]}):
    for v in views:
        st, _, text = page(alice, **dict(v, **extra))
        if st != 403:
            bad.append((v, extra, st))
check(not bad, "member asking for another user's usage gets 403", str(bad[:3]))
leaks = []
for extra in ({"team": ids["an-blue"]}, {"key": ids["an-bob-main"]}, {"key": ids["an-carol-svc"]},
              {"app": "an-batch"}, {"team": ids["an-red"], "by": "user"}):
    for v in views:
        st, _, text = page(alice, **dict(v, **extra))
        words = [w for w in forbidden if w not in extra.values()]  # the page repeats its filter
        if st not in (200, 400) or [w for w in words if w in text] or \
                (st == 200 and v.get("view") == "calls" and "an-alice" not in text and "No calls" not in text):
            leaks.append((v, extra, st))
check(not leaks, "member: team, key and app filters never reach other users' usage", str(leaks[:3]))
# the viewer sees everything, read-only
st, _, csv_text = page(viewer, view="breakdown", by="user", period="30d", format="csv")
check(st == 200 and from_csv(csv_text) == truth("user", *P30), "viewer sees every user's usage")
st, _, _ = web("POST", f"{BASE}/analytics.cgi", cookie=viewer, form={"x": "1"})
check(st == 405, "analytics is read-only (POST refused)", str(st))
st, hd, _ = web("GET", f"{BASE}/analytics.cgi")
check(st == 303 and "login.cgi" in hd.get("location", ""), "signed out: sent to the sign-in page")
st, _, text = web("GET", f"{BASE}/index.cgi", cookie=alice)
check("analytics.cgi" in text, "navigation has Analytics for members")

# the app filter: a blank field (as the call log's form sends it) filters nothing; app=(none)
# (the drill-down link of the "(none)" row) shows only calls without an app
def call_rows(**params):
    st, _, text = page(admin, view="calls", period="30d", **params)
    body = text.split("<tbody>", 1)[-1].split("</tbody>", 1)[0]
    return st, body.count("<tr>") - body.count("No calls match")


no_app = min(int(sql("SELECT COUNT(*) FROM usage_log WHERE COALESCE(app, '') = '' "
                     "AND ts >= UTC_DATE() - INTERVAL 29 DAY AND ts < UTC_DATE() + INTERVAL 1 DAY")[0][0]), 50)
all_calls = call_rows()
check(call_rows(app="") == all_calls and all_calls[1] > 0,
      "call log: a blank app field is no filter", f"{call_rows(app='')} vs {all_calls}")
check(call_rows(app="(none)") == (200, no_app),
      "call log: app=(none) lists exactly the calls without an app", f"{call_rows(app='(none)')} vs {no_app}")
st, _, text = page(admin, view="breakdown", by="app", period="30d")
check(st == 200 and ("app=%28none%29" in text or "app=(none)" in text or not no_app),
      "by app: the \"(none)\" row links to app=(none)", str(st))

# bad parameters: 400 or ignored, never 500
bad = []
for params in ({"tz": "Mars/Base"}, {"tz": "UTC+99"}, {"user": "abc"}, {"team": "-1"},
               {"key": "1 OR 1=1"}, {"model": "../../x"}, {"app": "a'b"}, {"period": "custom"},
               {"period": "custom", "from": "2020-01-01", "to": "2025-01-01"},
               {"period": "custom", "from": "2025-02-30", "to": "2025-03-01"},
               {"view": "chargeback", "month": "2025-13"}, {"view": "calls", "before": "x|y|z"},
               {"by": "password"}, {"sort": "requests;DROP TABLE users"}, {"dir": "sideways"},
               {"view": "../../etc/passwd"}, {"format": "xml"}, {"stack": "bogus"}):
    st, _, _ = page(admin, **params)
    if st not in (200, 400):
        bad.append((params, st))
check(not bad, "bad parameters: 400 or ignored, never 500", str(bad))

# ---- kept current by the drain; retention ---------------------------------------------------

rids = []
for _ in range(3):
    st, hd, body = request("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "analytics canary prompt 3b9f"}]}, key=keys["an-alice-ci"])
    rids.append(st)
rolled = wait_for(lambda: int(sql(f"SELECT COUNT(*) FROM usage_log WHERE key_id = {ids['an-alice-ci']} "
                                  f"AND ts > UTC_TIMESTAMP() - INTERVAL 5 MINUTE AND rolled = 1")[0][0]) >= 3, 10)
check(rids == [200] * 3 and rolled, "the gateway's drain thread rolls new calls up by itself", str(rids))
st, _, text = page(admin, view="calls", period="today", key=ids["an-alice-ci"])
check("3b9f" not in text and "canary prompt" not in text, "the call log never shows prompt text")
old = truth(None, NOW - 101 * DAY, NOW - 99 * DAY)["all usage"]
st, _, before_csv = page(admin, view="breakdown", by="team", period="custom", format="csv",
                         **{"from": utc(NOW - 101 * DAY)[:10], "to": utc(NOW - 99 * DAY)[:10]})
rc, out, err = hubctl("retention", "--days", "60", "--batch", "7")
left = int(sql(f"SELECT COUNT(*) FROM usage_log WHERE ts < UTC_TIMESTAMP() - INTERVAL 60 DAY")[0][0])
st, _, after_csv = page(admin, view="breakdown", by="team", period="custom", format="csv",
                        **{"from": utc(NOW - 101 * DAY)[:10], "to": utc(NOW - 99 * DAY)[:10]})
check(rc == 0 and old[0] >= 30 and left == 0 and "removed" in out, "retention removes old raw rows in batches",
      out + err)
check(after_csv == before_csv and sum(r[0] for r in from_csv(after_csv).values()) >= 30,
      "retention keeps the rollups: the old period still reports the same")
check(int(sql("SELECT COUNT(*) FROM audit_log WHERE action = 'usage.retention'")[0][0]) >= 1,
      "retention is in the audit log")
done()
