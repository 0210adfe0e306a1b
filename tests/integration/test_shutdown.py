"""SIGTERM drains: a stream in flight completes, the process exits within its bound, the
usage row is written, and the gateway comes back with the quickstart."""
import json
import os
import signal
import subprocess
import threading
import time

from hubtest import HUB_HOME, check, done, jrequest, request, usage_row

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]
pidfile = os.path.join(HUB_HOME, "run", "gateway.pid")
pid = int(open(pidfile).read())
result = {}


def slow():
    body = {"model": "mock/slowstream-1", "stream": True,
            "messages": [{"role": "user", "content": " ".join(["word"] * 30)}]}
    result["r"] = request("POST", "/v1/chat/completions", json.dumps(body), key=KEY, timeout=30)


t = threading.Thread(target=slow)
t.start()
time.sleep(0.5)
t0 = time.time()
os.kill(pid, signal.SIGTERM)
t.join()
exited = False
while time.time() - t0 < 15:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        exited = True
        break
    time.sleep(0.05)
elapsed = time.time() - t0
s, h, data = result["r"]
check(s == 200 and data.rstrip().endswith(b"data: [DONE]"), "in-flight stream completed during drain")
check(exited, f"gateway exited after SIGTERM ({elapsed:.2f} s)")
qs = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "quickstart.sh")
p = subprocess.run(["bash", qs], capture_output=True, text=True, timeout=600)
row = usage_row(h.get("x-request-id"), timeout=15)
check(row is not None and row["outcome"] == "ok", "its usage row arrived", str(row))
s, _, _ = jrequest("GET", "/v1/models", key=KEY)
check(p.returncode == 0 and s == 200, "gateway restarted by quickstart")
done()
