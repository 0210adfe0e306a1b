"""The quickstart's promise: the printed demo key works with plain HTTP right away, and running
the quickstart again reuses what exists (same key, same database)."""
import os
import subprocess

from hubtest import HUB_HOME, check, done, jrequest

key = open(os.path.join(HUB_HOME, "etc", "demo.key")).read().strip()
s, h, b = jrequest("POST", "/v1/chat/completions",
                   {"model": "demo-echo", "messages": [{"role": "user", "content": "hi"}]}, key=key)
check(s == 200 and b["choices"][0]["message"]["content"] == "echo: hi", "demo key + demo-echo work")
s, h, b = jrequest("GET", "/v1/models", key=key)
check(s == 200 and "demo-echo" in [m["id"] for m in b["data"]], "demo key lists models")
conf = os.path.join(HUB_HOME, "etc", "hub.conf")
mode = os.stat(conf).st_mode & 0o777
kmode = os.stat(os.path.join(HUB_HOME, "etc", "master.key")).st_mode & 0o777
check(mode & 0o007 == 0 and kmode == 0o600, "config and master key not readable by others",
      f"{oct(mode)} {oct(kmode)}")
qs = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "quickstart.sh")
p = subprocess.run(["bash", qs], capture_output=True, text=True, timeout=600)
check(p.returncode == 0 and key in p.stdout, "quickstart re-run is safe and prints the same key",
      p.stderr[-300:])
done()
