"""Budget alerts by e-mail: the gateway mails a team crossing 80 % / 100 % of its monthly budget
through the SMTP relay of hub.conf (smtp_url; here tests/smtp_sink.py, a real SMTP server on
loopback started by tests/run.sh), once per threshold and month, to alert_email_to.

* crossing the budget → one mail (100 % covers a pending 80 %) within seconds, From smtp_from,
  to every alert_email_to address (envelope and header), the team, month, spend and budget and
  the command to raise it in the text; no key or secret in it; both thresholds marked mailed;
* more refused requests → no more mail;
* the relay down while a team crosses: nothing lost — the alert stays pending (a warning in the
  log) and is mailed once the relay is back;
* alerts flagged without e-mail configured are not mailed later for months long past.
Run by tests/run.sh after the quickstart (needs SMTP_PORT, SMTP_DIR).
"""
import email
import email.header
import email.policy
import glob
import json
import os
import secrets
import subprocess
import sys
import time

from hubtest import HUB_CONF, HUB_HOME, check, done, hubctl, jrequest, sql, wait_for

SMTP_PORT = int(os.environ.get("SMTP_PORT", "0"))
SMTP_DIR = os.environ.get("SMTP_DIR", "")
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIDFILE = os.path.join(HUB_HOME, "run", "smtp.pid")
GW_LOG = os.path.join(HUB_HOME, "log", "gateway.log")
TAG = secrets.token_hex(3)
MONTH = time.strftime("%Y-%m", time.gmtime())


def conf(key):
    val = ""
    for line in open(HUB_CONF):
        k, _, v = line.partition("=")
        if k.strip() == key:
            val = v.strip()
    return val


def mails_about(name):
    """[(envelope, message)] of the sink's mails whose subject names `name`."""
    out = []
    for path in sorted(glob.glob(os.path.join(SMTP_DIR, "*.eml"))):
        msg = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
        if f'"{name}"' in str(msg["Subject"]):
            env = json.load(open(path[:-4] + ".json"))
            out.append((env, msg, open(path, "rb").read()))
    return out


def team_crosses(team, user, key_name):
    """A team with a $0.0001 budget and one key; chats until the budget refuses (402)."""
    hubctl("user", "add", user, "--team", team)
    key = hubctl("key", "create", "--name", key_name, "--user", user)[1].strip()
    hubctl("limit", "set", "team", team, "--budget", "0.0001")
    time.sleep(1.2)  # the gateways reload limits every second
    got = []
    body = json.dumps({"model": "gpt-4o-mini", "max_tokens": 1,
                       "messages": [{"role": "user", "content": " ".join(["word"] * 50)}]})
    for _ in range(10):
        got.append(jrequest("POST", "/v1/chat/completions", body, key=key, timeout=60)[0])
        if got[-1] != 200:
            break
    return key, got


def flags(team):
    """[80 % flagged, 100 % flagged, 80 % mailed, 100 % mailed] of the team this month."""
    tid = f"(SELECT id FROM teams WHERE name = '{team}')"
    b = sql("SELECT alert80_at IS NOT NULL, alert100_at IS NOT NULL FROM budget_usage "
            f"WHERE scope_type = 'team' AND scope_id = {tid} AND month = '{MONTH}-01'")
    o = {r[0]: r[1] for r in sql("SELECT pct, mailed_at IS NOT NULL FROM alert_outbox WHERE "
                                 f"scope_type = 'team' AND scope_id = {tid} AND month = '{MONTH}-01'")}
    return [b[0] + [o.get("80", "-"), o.get("100", "-")]] if b else []


def start_sink():
    proc = subprocess.Popen([sys.executable, os.path.join(SRC, "tests", "smtp_sink.py"), "--port",
                             str(SMTP_PORT), "--dir", SMTP_DIR, "--pidfile", PIDFILE],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    return "listening" in (proc.stdout.readline() or "")


def stop_sink():
    try:
        pid = int(open(PIDFILE).read())
        os.kill(pid, 15)
        wait_for(lambda: not os.path.exists(PIDFILE), 5)
    except (OSError, ValueError):
        pass


if not (SMTP_PORT and SMTP_DIR and conf("smtp_url")):
    check(False, "hub.conf sets smtp_url and tests/run.sh started the SMTP sink (SMTP_PORT)")
    done()
to_want = sorted(a.strip() for a in conf("alert_email_to").split(","))
check(wait_for(lambda: "budget alerts are mailed through" in open(GW_LOG, errors="replace").read(), 5),
      "the gateway starts its alert mailer when smtp_url and alert_email_to are set")

# ---- a team crosses its budget: one mail -----------------------------------------------------
team = f"mail-team-{TAG}"
key, got = team_crosses(team, f"mail-u-{TAG}", f"mail-k-{TAG}")
check(got and got[-1] == 402, "the team's budget is exhausted (402)", str(got))
check(wait_for(lambda: mails_about(team), 15), "the alert is mailed within 15 s")
time.sleep(3)  # a second (wrong) mail would arrive by now
mails = mails_about(team)
hundred = [m for m in mails if "100%" in str(m[1]["Subject"])]
check(len(hundred) == 1 and len(mails) <= 2,
      "one mail for 100 % (and at most one more for 80 %)", [str(m[1]["Subject"]) for m in mails])
if hundred:
    env, msg, raw = hundred[0]
    text = msg.get_content()
    check(env["from"] == conf("smtp_from") and sorted(env["to"]) == to_want,
          "envelope: from smtp_from to every alert_email_to address", str(env))
    check(str(msg["From"]) == conf("smtp_from") and
          sorted(a.strip() for a in str(msg["To"]).split(",")) == to_want,
          "headers: From and To", f'{msg["From"]} / {msg["To"]}')
    check(f'team "{team}" reached 100% of its {MONTH} budget' in str(msg["Subject"]),
          "the subject names the team, the threshold and the month", str(msg["Subject"]))
    check("$0.0001" in text and f"hubctl limit set team {team} --budget USD" in text and
          "402" in text, "the text gives spend, budget, what happens now and how to raise it",
          text[:300])
    check(msg["Date"] is not None and msg["Message-ID"] is not None and
          msg["Auto-Submitted"] == "auto-generated", "Date, Message-ID and Auto-Submitted headers")
    check(key.encode() not in raw and b"hub_" not in raw and conf("db_password").encode() not in raw,
          "no key or password in the mail")
check(flags(team) == [["1", "1", "1", "1"]], "both thresholds are marked mailed", str(flags(team)))

# more refused requests: no more mail
n_before = len(glob.glob(os.path.join(SMTP_DIR, "*.eml")))
for _ in range(3):
    jrequest("POST", "/v1/chat/completions", json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}), key=key)
time.sleep(4)
check(len(mails_about(team)) == len(mails), "no more mail for the same threshold and month",
      f"{len(mails_about(team))} vs {len(mails)}")

# ---- the relay down: the alert waits, then arrives once ------------------------------------------
stop_sink()
team2 = f"mail-down-{TAG}"
_, got2 = team_crosses(team2, f"mail-d-{TAG}", f"mail-dk-{TAG}")
check(got2 and got2[-1] == 402, "a second team exhausts its budget while the relay is down", str(got2))
warned = wait_for(lambda: "budget alert mail:" in open(GW_LOG, errors="replace").read(), 10)
f2 = flags(team2)
check(warned and f2 and f2[0][1] == "1" and f2[0][3] == "0",
      "relay down: a warning is logged and the alert stays pending (flagged, not mailed)", str(f2))
check(start_sink(), "the relay comes back")
check(wait_for(lambda: mails_about(team2), 30),
      "the pending alert is mailed once the relay is back (within 30 s)")
time.sleep(3)
m2 = mails_about(team2)
check(len([m for m in m2 if "100%" in str(m[1]["Subject"])]) == 1,
      "exactly one 100 % mail after the outage", str(len(m2)))

# ---- old news is not mailed ----------------------------------------------------------------------
team3 = f"mail-old-{TAG}"
hubctl("team", "add", team3)
tid = sql(f"SELECT id FROM teams WHERE name = '{team3}'")[0][0]
hubctl("limit", "set", "team", team3, "--budget", "1")
sql("INSERT INTO budget_usage (scope_type, scope_id, month, spent_micro, alert80_at, alert100_at) "
    f"VALUES ('team', {tid}, DATE_FORMAT(UTC_DATE() - INTERVAL 3 MONTH, '%Y-%m-01'), 2000000, "
    "UTC_TIMESTAMP(3) - INTERVAL 80 DAY, UTC_TIMESTAMP(3) - INTERVAL 80 DAY)")
sql("INSERT INTO alert_outbox (scope_type, scope_id, month, pct, flagged_at) "
    f"VALUES ('team', {tid}, DATE_FORMAT(UTC_DATE() - INTERVAL 3 MONTH, '%Y-%m-01'), 100, "
    "UTC_TIMESTAMP(3) - INTERVAL 80 DAY)")
time.sleep(5)
check(not mails_about(team3), "an alert of a month long past is not mailed")
hubctl("limit", "clear", "team", team3)
done()
