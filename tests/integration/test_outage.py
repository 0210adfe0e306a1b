"""Metering survives a database crash: MariaDB is killed (SIGKILL) during traffic and started
again; afterwards every request the provider received has exactly one usage row."""
import json
import os
import signal
import subprocess
import threading
import time

from hubtest import HUB_HOME, check, done, jrequest, mock_requests, mock_reset, sql, wait_for

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]
QUICKSTART = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "quickstart.sh")
PIDFILE = os.path.join(HUB_HOME, "run", "mysqld.pid")

from hubtest import hubctl  # noqa: E402

ghost = hubctl("key", "create", "--name", "ghost", "--user", "alice")[1].strip()
sql("DELETE FROM api_keys WHERE name = 'ghost'")  # valid format, unknown to the database
mock_reset()
before = int(sql("SELECT COUNT(*) FROM usage_log")[0][0])
t_start = sql("SELECT UTC_TIMESTAMP(3)")[0][0]
results = []
lock = threading.Lock()
stop = threading.Event()


def client(i):
    n = 0
    while not stop.is_set():
        body = {"model": "gpt-4o-mini", "stream": n % 3 == 0,
                "messages": [{"role": "user", "content": f"outage test {i} {n}"}]}
        try:
            s, h, _ = jrequest("POST", "/v1/chat/completions", body, key=KEY, timeout=20)
        except Exception as e:  # noqa: BLE001 - a client error is a result too
            s, h = -1, {"x-request-id": str(e)}
        with lock:
            results.append((s, h.get("x-request-id")))
        n += 1


threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
time.sleep(1.5)
pid = int(open(PIDFILE).read().strip())
os.kill(pid, signal.SIGKILL)
t_kill = time.time()
time.sleep(0.5)
bad = KEY[:-1] + ("A" if KEY[-1] != "A" else "B")
s_bad, _, b_bad = jrequest("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": []}, key=bad)
check(s_bad == 401, "database down: bad checksum still 401 (no DB query needed)", str(s_bad))
s_gh, _, b_gh = jrequest("GET", "/v1/models", key=ghost)
check(s_gh == 503 and b_gh["error"]["code"] == "database_unavailable",
      "database down: an unvalidated key fails closed (503)", str(s_gh))
time.sleep(2.5)
during = [r for r in results]
env = dict(os.environ)
p = subprocess.run(["bash", QUICKSTART], capture_output=True, text=True, env=env, timeout=300)
check(p.returncode == 0, "quickstart re-run restarts MariaDB (reuses everything)", p.stderr[-500:])
time.sleep(1.5)
stop.set()
for t in threads:
    t.join()

ok_ids = [rid for s, rid in results if s == 200]
statuses = {}
for s, _ in results:
    statuses[s] = statuses.get(s, 0) + 1
print(f"# requests: {len(results)} statuses: {statuses}")
check(not any(s >= 500 or s < 0 for s, _ in results if s not in (503,)),
      "no 5xx except 503 during the outage", str(statuses))
check(len(ok_ids) > 20, "traffic went on", str(len(ok_ids)))

upstream = len(mock_requests())


def drained():
    n = int(sql(f"SELECT COUNT(*) FROM usage_log WHERE ts >= '{t_start}'")[0][0])
    return n if n >= upstream else 0


wait_for(drained, timeout=30)
# the final record of the last requests may still be in the spool's active file (≤ 100 ms)
wait_for(lambda: int(sql(f"SELECT COUNT(*) FROM usage_log WHERE ts >= '{t_start}' "
                         "AND outcome = 'pending'")[0][0]) == 0, timeout=10)
rows = int(sql(f"SELECT COUNT(*) FROM usage_log WHERE ts >= '{t_start}'")[0][0])
pending = int(sql(f"SELECT COUNT(*) FROM usage_log WHERE ts >= '{t_start}' AND outcome = 'pending'")[0][0])
ids = ",".join(f"'{r}'" for r in ok_ids)
found = sql(f"SELECT request_id, COUNT(*) FROM usage_log WHERE request_id IN ({ids}) "
            "AND outcome = 'ok' GROUP BY request_id")
dups = [r for r in found if int(r[1]) != 1]
print(f"# upstream requests {upstream}, usage rows {rows}, pending {pending}, "
      f"answered 200: {len(ok_ids)}, rows found for them: {len(found)}, duplicated {len(dups)}")
check(rows == upstream, f"every upstream request has a usage row ({rows}/{upstream})")
check(len(found) == len(ok_ids) and not dups, "every answered request: exactly one ok row",
      f"{len(found)}/{len(ok_ids)}")
check(pending == 0, "no row left pending")
done()
