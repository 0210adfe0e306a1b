#!/usr/bin/env python3
"""Self-test for tests/mock_provider.py (stdlib only).

Starts the mock on a free port, exercises its endpoints (OpenAI, Azure
OpenAI, Anthropic Messages, Gemini, tool calls, credential magic, stats),
prints "ok N - NAME" / "not ok N - NAME" per check and exits non-zero on
failure.
"""

import http.client
import json
import sys
import threading
import time

from mock_selftest import common
from mock_selftest.anthropic import run_anthropic
from mock_selftest.common import ANT, AUTH, GMODEL, OAI, SYS_MSGS, check, hreq, jreq, start_mock
from mock_selftest.credentials import run_credentials
from mock_selftest.gemini import run_gemini
from mock_selftest.openai import run_azure_tools, run_openai


def main():
    proc, port = start_mock()
    base = "http://127.0.0.1:%d" % port
    try:
        run_openai(base, port)
        run_new(base, port)
    finally:
        proc.terminate()
        proc.wait(5)
    print("1..%d" % common.count)
    return 1 if common.failures else 0


def run_new(base, port):
    # slowkey: one request per API in the background (each sleeps 3 s)
    slow = {}

    def slow_call(name, path, body, headers):
        t0 = time.monotonic()
        try:
            res = hreq(port, "POST", path, body, headers, timeout=10)
        except (OSError, http.client.HTTPException) as e:
            res = (-1, {}, str(e))
        slow[name] = (time.monotonic() - t0, res)

    threads = [threading.Thread(target=slow_call, args=a) for a in (
        ("openai", "/v1/chat/completions",
         {"model": "gpt-4o", "messages": SYS_MSGS},
         {"Authorization": "Bearer sk-slowkey-1"}),
        ("anthropic", "/v1/messages",
         {"model": "claude", "max_tokens": 5, "messages": SYS_MSGS[1:]},
         {"x-api-key": "slowkey-2"}),
        ("gemini", GMODEL + ":generateContent",
         {"contents": [{"parts": [{"text": "hi"}]}]},
         {"x-goog-api-key": "slowkey-3"}))]
    for t in threads:
        t.start()

    run_anthropic(base, port)
    run_gemini(base, port)
    run_azure_tools(base, port)
    run_credentials(base, port)

    for t in threads:
        t.join(10)
    el, (st, _, j) = slow.get("openai", (0, (0, 0, {})))
    check("slowkey openai: 3 s then normal",
          el >= 2.9 and st == 200 and
          j["choices"][0]["message"]["content"] == "echo: hello there world",
          (el, st, j))
    el, (st, _, j) = slow.get("anthropic", (0, (0, 0, {})))
    check("slowkey anthropic", el >= 2.9 and st == 200 and
          j["content"][0]["text"] == "echo: hello there world", (el, st, j))
    el, (st, _, j) = slow.get("gemini", (0, (0, 0, {})))
    check("slowkey gemini", el >= 2.9 and st == 200 and
          j["candidates"][0]["content"]["parts"][0]["text"] == "echo: hi",
          (el, st, j))

    run_stats(base, port)


def run_stats(base, port):
    jreq(base, "POST", "/__mock/reset", {})
    st, _, s0 = jreq(base, "GET", "/__mock/stats")
    check("stats after reset", st == 200 and s0["connections"] == 0 and
          s0["requests"] == 0 and s0["accepted"] > 0, s0)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(3):
        conn.request("POST", "/v1/chat/completions", json.dumps(
            {"model": "gpt-4o", "messages": SYS_MSGS, "stream": i == 1}),
            {"Authorization": AUTH, "Content-Type": "application/json"})
        conn.getresponse().read()
    hreq(port, "POST", "/v1/messages", {"model": "c", "max_tokens": 5,
                                        "messages": SYS_MSGS[1:]}, ANT)
    hreq(port, "GET", "/v1/models", None, OAI)
    st, _, s1 = jreq(base, "GET", "/__mock/stats")
    # the keep-alive connection is still open and counted once
    conn.request("GET", "/v1/models", headers={"Authorization": AUTH})
    conn.getresponse().read()
    st, _, s2 = jreq(base, "GET", "/__mock/stats")
    conn.close()
    check("stats count connections and requests",
          s1["connections"] == 3 and s1["requests"] == 5 and
          s2["connections"] == 3 and s2["requests"] == 6 and
          s1["accepted"] >= s0["accepted"] + 4, (s0, s1, s2))


if __name__ == "__main__":
    sys.exit(main())
