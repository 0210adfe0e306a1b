#!/usr/bin/env python3
"""Self-test for tests/mock_provider.py (stdlib only).

Starts the mock on a free port, exercises its endpoints (OpenAI, Azure
OpenAI, Anthropic Messages, Gemini, tool calls, credential magic, stats),
prints "ok N - NAME" / "not ok N - NAME" per check and exits non-zero on
failure.
"""

import base64
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "mock_provider.py")
AUTH = "Bearer sk-test-SECRET123"

failures = 0
count = 0


def check(name, cond, detail=""):
    global failures, count
    count += 1
    if cond:
        print("ok %d - %s" % (count, name))
    else:
        failures += 1
        print("not ok %d - %s%s" % (count, name,
                                    (" # " + str(detail)) if detail else ""))


def start_mock():
    proc = subprocess.Popen([sys.executable, MOCK, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("mock provider listening on "):
        proc.kill()
        raise SystemExit("mock did not start: %r" % line)
    return proc, int(line.rsplit(" ", 1)[1])


def req(base, method, path, body=None, auth=AUTH, raw=None, timeout=10):
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else None)
    r = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        r.add_header("Content-Type", "application/json")
    if auth:
        r.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def jreq(base, method, path, body=None, **kw):
    st, hd, data = req(base, method, path, body, **kw)
    try:
        return st, hd, json.loads(data)
    except ValueError:
        return st, hd, data


def read_sse(port, body, path="/v1/chat/completions"):
    """Stream via http.client, reading events incrementally.
    Returns (status, headers, list of (arrival_time, payload_str), error)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, json.dumps(body),
                 {"Authorization": AUTH, "Content-Type": "application/json"})
    resp = conn.getresponse()
    events, err = [], None
    try:
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith("data: "):
                events.append((time.monotonic(), line[6:]))
    except (http.client.IncompleteRead, ConnectionError) as e:
        err = e
    hd = dict(resp.getheaders())
    conn.close()
    return resp.status, hd, events, err


def main():
    proc, port = start_mock()
    base = "http://127.0.0.1:%d" % port
    try:
        run(base, port)
        run_new(base, port)
    finally:
        proc.terminate()
        proc.wait(5)
    print("1..%d" % count)
    return 1 if failures else 0


def run(base, port):
    st, _, j = jreq(base, "POST", "/__mock/reset", {})
    check("reset", st == 200 and j == {"ok": True}, j)

    # ---- chat, non-streaming
    msgs = [{"role": "system", "content": "be nice"},
            {"role": "user", "content": "hello there world"}]
    st, hd, j = jreq(base, "POST", "/v1/chat/completions",
                     {"model": "gpt-4o", "messages": msgs})
    check("chat status 200", st == 200, st)
    check("chat content-type json",
          hd.get("Content-Type", "").startswith("application/json"), hd)
    check("chat content-length", "Content-Length" in hd, hd)
    check("chat echo", j["choices"][0]["message"]["content"]
          == "echo: hello there world", j)
    check("chat object/model/id", j["object"] == "chat.completion"
          and j["model"] == "gpt-4o" and j["id"].startswith("chatcmpl-mock-"))
    check("chat usage", j["usage"] == {"prompt_tokens": 2 + 3 + 6,
                                       "completion_tokens": 4,
                                       "total_tokens": 15}, j.get("usage"))
    check("chat finish_reason", j["choices"][0]["finish_reason"] == "stop")

    # content parts + prefix path
    st, _, j = jreq(base, "POST", "/openai/v1/chat/completions", {
        "model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "a b"},
            {"type": "image_url", "image_url": {"url": "x"}},
            {"type": "text", "text": "c"}]}]})
    check("chat parts + prefix", st == 200 and
          j["choices"][0]["message"]["content"] == "echo: a b c" and
          j["usage"]["prompt_tokens"] == 6, j)

    # ---- streaming with usage
    st, hd, ev, err = read_sse(port, {
        "model": "gpt-4o", "messages": msgs, "stream": True,
        "stream_options": {"include_usage": True}})
    check("stream status/ctype", st == 200 and hd.get("Content-Type", "")
          .startswith("text/event-stream") and "Content-Length" not in hd
          and hd.get("Transfer-Encoding") == "chunked", hd)
    check("stream ends with DONE", ev and ev[-1][1] == "[DONE]" and err is None)
    objs = [json.loads(p) for _, p in ev[:-1]]
    check("stream first role chunk",
          objs[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""})
    text = "".join(o["choices"][0]["delta"].get("content", "")
                   for o in objs if o["choices"])
    check("stream text", text == "echo: hello there world", text)
    check("stream finish chunk", objs[-2]["choices"][0]["finish_reason"] == "stop"
          and objs[-2]["choices"][0]["delta"] == {})
    check("stream usage chunk", objs[-1]["choices"] == [] and
          objs[-1]["usage"]["total_tokens"] == 15, objs[-1])
    check("stream usage null on others",
          all("usage" in o and o["usage"] is None for o in objs[:-1]))
    check("stream chunk objects", all(o["object"] == "chat.completion.chunk"
                                      for o in objs))

    # streaming without include_usage
    st, hd, ev, err = read_sse(port, {"model": "gpt-4o", "messages": msgs,
                                      "stream": True})
    objs = [json.loads(p) for _, p in ev[:-1]]
    check("stream no usage by default", ev[-1][1] == "[DONE]" and
          all("usage" not in o for o in objs) and len(objs) == 6, len(objs))

    # nousage
    st, hd, ev, err = read_sse(port, {
        "model": "nousage", "messages": msgs, "stream": True,
        "stream_options": {"include_usage": True}})
    objs = [json.loads(p) for _, p in ev[:-1]]
    check("stream nousage", all("usage" not in o for o in objs) and
          ev[-1][1] == "[DONE]")
    st, _, j = jreq(base, "POST", "/v1/chat/completions",
                    {"model": "x-nousage", "messages": msgs})
    check("chat nousage", st == 200 and "usage" not in j, j)

    # slowstream: events arrive spread over time (incremental)
    t0 = time.monotonic()
    st, hd, ev, err = read_sse(port, {"model": "slowstream",
                                      "messages": msgs, "stream": True})
    span = ev[-1][0] - ev[0][0]
    check("slowstream incremental", span >= 0.25 and ev[-1][1] == "[DONE]",
          span)

    # cut: raw socket so we see exactly what is on the wire
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    b = json.dumps({"model": "cut", "messages": msgs, "stream": True}).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer k\r\nContent-Length: %d\r\n\r\n"
              % len(b) + b)
    wire = b""
    while True:
        x = s.recv(65536)
        if not x:
            break
        wire += x
    s.close()
    check("cut stream", wire.count(b"data: ") == 3 and b"[DONE]" not in wire
          and not wire.endswith(b"0\r\n\r\n") and
          b"Transfer-Encoding: chunked" in wire, wire[-80:])

    # ---- magic errors
    st, hd, j = jreq(base, "POST", "/v1/chat/completions",
                     {"model": "error-401", "messages": msgs})
    check("error-401", st == 401 and "sk-test-SECRET123" in
          j["error"]["message"] and j["error"]["code"] == "invalid_api_key", j)
    st, hd, j = jreq(base, "POST", "/v1/chat/completions",
                     {"model": "error-500", "messages": msgs, "stream": True})
    check("error-500", st == 500 and j["error"]["type"] == "server_error", j)
    st, hd, j = jreq(base, "POST", "/v1/chat/completions",
                     {"model": "error-429", "messages": msgs})
    check("error-429", st == 429 and hd.get("Retry-After") == "1" and
          j["error"]["code"] == "rate_limit_exceeded", (hd, j))
    t0 = time.monotonic()
    try:
        req(base, "POST", "/v1/chat/completions",
            {"model": "hang", "messages": msgs}, timeout=1)
        hung = False
    except (TimeoutError, socket.timeout, urllib.error.URLError):
        hung = True
    check("hang", hung and time.monotonic() - t0 < 5)
    st, _, j = jreq(base, "POST", "/v1/chat/completions",
                    {"model": "gpt-4o", "messages": msgs}, auth=None)
    check("no auth -> 401", st == 401 and "error" in j, j)
    st, _, j = jreq(base, "POST", "/v1/chat/completions", raw=b"{nope")
    check("bad json -> 400", st == 400 and "error" in j, j)
    st, _, j = jreq(base, "GET", "/v1/nothing")
    check("unknown -> 404", st == 404 and "error" in j, j)

    # ---- embeddings
    st, _, j = jreq(base, "POST", "/v1/embeddings",
                    {"model": "text-embedding-3-small", "input": "one two"})
    check("embeddings string", st == 200 and j["object"] == "list" and
          len(j["data"][0]["embedding"]) == 8 and
          j["usage"] == {"prompt_tokens": 2, "total_tokens": 2}, j)
    vec = j["data"][0]["embedding"]
    st, _, j = jreq(base, "POST", "/v1/embeddings",
                    {"model": "e", "input": ["one two", "three"],
                     "encoding_format": "base64"})
    dec = list(struct.unpack("<8f", base64.b64decode(j["data"][0]["embedding"])))
    check("embeddings base64 list", st == 200 and len(j["data"]) == 2 and
          all(abs(a - b) < 1e-6 for a, b in zip(dec, vec)) and
          j["usage"]["prompt_tokens"] == 3, j)
    st, _, j = jreq(base, "POST", "/v1/embeddings",
                    {"model": "e", "input": [1, 2, 3, 4]})
    check("embeddings ints", st == 200 and len(j["data"]) == 1 and
          j["usage"]["prompt_tokens"] == 4, j)

    # ---- images
    st, _, j = jreq(base, "POST", "/v1/images/generations",
                    {"model": "dall-e-3", "prompt": "a red dot", "n": 2})
    check("images url", st == 200 and len(j["data"]) == 2 and
          j["data"][1]["url"] == "%s/img/1.png" % base and "usage" not in j
          and "created" in j, j)
    st, hd, png = req(base, "GET", "/img/0.png", auth=None)
    check("image url fetch", st == 200 and png.startswith(b"\x89PNG"))
    st, _, j = jreq(base, "POST", "/v1/images/generations",
                    {"model": "gpt-image-1", "prompt": "a red dot",
                     "response_format": "b64_json"})
    check("images b64 + usage", st == 200 and base64.b64decode(
        j["data"][0]["b64_json"]).startswith(b"\x89PNG") and j["usage"] ==
        {"input_tokens": 3, "output_tokens": 100, "total_tokens": 103}, j)

    # ---- models
    st, _, j = jreq(base, "GET", "/v1/models")
    check("models", st == 200 and j["object"] == "list" and
          all(m["object"] == "model" and m["owned_by"] == "mock"
              for m in j["data"]), j)

    # ---- keep-alive: several requests on one connection
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ok = True
    sock_ids = set()
    for i in range(5):
        stream = i % 2 == 1
        conn.request("POST", "/v1/chat/completions", json.dumps(
            {"model": "gpt-4o", "messages": msgs, "stream": stream}),
            {"Authorization": AUTH, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        sock_ids.add(id(conn.sock))
        ok = ok and r.status == 200 and not r.will_close
    conn.close()
    check("keep-alive", ok and len(sock_ids) == 1)

    # ---- record
    st, _, recs = jreq(base, "GET", "/__mock/requests")
    first = recs[0]
    check("record fields", st == 200 and first["seq"] == 1 and
          first["method"] == "POST" and first["path"] == "/v1/chat/completions"
          and first["headers"]["authorization"] == AUTH and
          first["body"]["model"] == "gpt-4o" and first["status"] == 200 and
          first["reply_usage"]["total_tokens"] == 15, first)
    seqs = [r["seq"] for r in recs]
    check("record ordered", seqs == sorted(seqs) and
          not any(r["path"].startswith("/__mock") for r in recs))
    bad = [r for r in recs if r["body"] == "{nope"]
    check("record raw body", len(bad) == 1 and bad[0]["status"] == 400)
    jreq(base, "POST", "/__mock/reset", {})
    st, _, recs = jreq(base, "GET", "/__mock/requests")
    check("reset clears", recs == [], recs)


# ======================================================================
# Anthropic, Gemini, Azure, tool calls, credential magic, stats
# ======================================================================
ANT = {"x-api-key": "sk-ant-test-KEY", "anthropic-version": "2023-06-01"}
GEM = {"x-goog-api-key": "gem-test-KEY"}
AZ = {"api-key": "azure-test-KEY"}
OAI = {"Authorization": AUTH}
GMODEL = "/v1beta/models/gemini-2.0-flash"
SYS_MSGS = [{"role": "system", "content": "be nice"},
            {"role": "user", "content": "hello there world"}]


def hreq(port, method, path, body=None, headers=None, raw=None, timeout=10):
    """One request on a fresh connection -> (status, lower-case headers,
    parsed JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    data = raw if raw is not None else (
        json.dumps(body) if body is not None else None)
    if data is not None:
        h["Content-Type"] = "application/json"
    try:
        conn.request(method, path, data, h)
        r = conn.getresponse()
        out = r.read()
        hd = {k.lower(): v for k, v in r.getheaders()}
        try:
            return r.status, hd, json.loads(out)
        except ValueError:
            return r.status, hd, out
    finally:
        conn.close()


def stream(port, path, body, headers, timeout=10, conn=None):
    """POST and read the body line by line as it arrives (chunked decoding by
    http.client). Returns (status, lower headers, [(arrival, raw_line)], err,
    will_close)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers)
    h["Content-Type"] = "application/json"
    conn.request("POST", path, json.dumps(body), h)
    resp = conn.getresponse()
    lines, err = [], None
    try:
        while True:
            line = resp.readline()
            if not line:
                break
            lines.append((time.monotonic(), line))
    except (http.client.IncompleteRead, ConnectionError) as e:
        err = e
    hd = {k.lower(): v for k, v in resp.getheaders()}
    wc = resp.will_close
    resp.close()  # readline() alone leaves a Content-Length response open
    if own:
        conn.close()
    return resp.status, hd, lines, err, wc


def sse_events(lines):
    """[(arrival, event name or None, data str)] from raw SSE lines
    (LF or CRLF framing)."""
    out, name, data, t = [], None, None, None
    for tm, raw in lines:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if data is not None:
                out.append((t, name, data))
            name, data, t = None, None, None
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
            t = tm
    if data is not None:
        out.append((t, name, data))
    return out


def raw_wire(port, path, body, headers):
    """Send a request on a raw socket and return every byte until EOF."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    b = json.dumps(body).encode()
    hl = "".join("%s: %s\r\n" % kv for kv in headers.items())
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n"
               % (path, hl, len(b))).encode() + b)
    wire = b""
    while True:
        x = s.recv(65536)
        if not x:
            break
        wire += x
    s.close()
    return wire


def hangs(port, path, body, headers):
    t0 = time.monotonic()
    try:
        hreq(port, "POST", path, body, headers, timeout=0.5)
        return False
    except (TimeoutError, socket.timeout):
        return time.monotonic() - t0 < 3


def records(base):
    return jreq(base, "GET", "/__mock/requests")[2]


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


def ant_err(j, etype):
    return (isinstance(j, dict) and j.get("type") == "error" and
            j["error"]["type"] == etype and
            isinstance(j["error"].get("message"), str))


def run_anthropic(base, port):
    P = "/v1/messages"
    body = {"model": "claude-3-5-sonnet", "max_tokens": 100,
            "system": "be nice",
            "messages": [{"role": "user", "content": "hello there world"}]}
    st, hd, j = hreq(port, "POST", P, body, ANT)
    check("anthropic plain", st == 200 and j["type"] == "message" and
          j["id"].startswith("msg_mock_") and j["role"] == "assistant" and
          j["model"] == "claude-3-5-sonnet" and
          j["content"] == [{"type": "text", "text": "echo: hello there world"}]
          and j["stop_reason"] == "end_turn" and j["stop_sequence"] is None
          and j["usage"] == {"input_tokens": 2 + 3 + 3, "output_tokens": 4}
          and hd["content-type"].startswith("application/json"), j)
    recs = [r for r in records(base) if r["body"] == body]
    check("anthropic record", len(recs) == 1 and recs[0]["api"] == "anthropic"
          and recs[0]["headers"]["x-api-key"] == "sk-ant-test-KEY" and
          recs[0]["headers"]["anthropic-version"] == "2023-06-01" and
          recs[0]["status"] == 200 and recs[0]["method"] == "POST" and
          recs[0]["reply_usage"] == {"input_tokens": 8, "output_tokens": 4},
          recs)

    # blocks, system blocks, multi-turn, prefix path
    body2 = {"model": "c", "max_tokens": 5,
             "system": [{"type": "text", "text": "sys one"}],
             "messages": [
                 {"role": "user", "content": "first q"},
                 {"role": "assistant", "content": [
                     {"type": "text", "text": "first a"}]},
                 {"role": "user", "content": [
                     {"type": "text", "text": "a b"},
                     {"type": "image", "source": {
                         "type": "base64", "media_type": "image/png",
                         "data": "AAAA"}},
                     {"type": "text", "text": "c"}]}]}
    st, _, j = hreq(port, "POST", "/anthropic" + P, body2, ANT)
    check("anthropic blocks + prefix", st == 200 and
          j["content"][0]["text"] == "echo: a b c" and
          j["usage"] == {"input_tokens": 2 + 9 + 2 + 2 + 3,
                         "output_tokens": 4}, j)

    st, _, j = hreq(port, "POST", P, body, {"Authorization": "Bearer x"})
    check("anthropic no x-api-key -> 401",
          st == 401 and ant_err(j, "authentication_error"), j)
    st, _, j = hreq(port, "POST", P, {"model": "c", "messages": []}, ANT)
    check("anthropic no max_tokens -> 400", st == 400 and
          ant_err(j, "invalid_request_error") and
          "max_tokens" in j["error"]["message"], j)
    st, _, j = hreq(port, "POST", P, {"model": "c", "max_tokens": 5,
                                      "messages": SYS_MSGS}, ANT)
    check("anthropic system role -> 400",
          st == 400 and ant_err(j, "invalid_request_error"), j)
    st, _, j = hreq(port, "POST", P, None, ANT, raw=b"{nope")
    check("anthropic bad json -> 400",
          st == 400 and ant_err(j, "invalid_request_error"), j)

    # stream
    sbody = dict(body, stream=True)
    st, hd, lines, err, wc = stream(port, P, sbody, ANT)
    ev = sse_events(lines)
    names = [n for _, n, _ in ev]
    objs = [json.loads(d) for _, _, d in ev]
    check("anthropic stream headers", st == 200 and
          hd["content-type"].startswith("text/event-stream") and
          hd.get("transfer-encoding") == "chunked" and err is None, hd)
    check("anthropic stream event order", names == [
        "message_start", "ping", "content_block_start",
        "content_block_delta", "content_block_delta", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta",
        "message_stop"] and all(o["type"] == n for o, n in zip(objs, names)),
        names)
    check("anthropic stream message_start usage",
          objs[0]["message"]["usage"] == {"input_tokens": 8,
                                          "output_tokens": 1} and
          objs[0]["message"]["id"].startswith("msg_mock_") and
          objs[0]["message"]["content"] == [], objs[0])
    text = "".join(o["delta"]["text"] for o in objs
                   if o["type"] == "content_block_delta")
    check("anthropic stream text", text == "echo: hello there world", text)
    check("anthropic stream message_delta", objs[-2]["delta"]["stop_reason"]
          == "end_turn" and objs[-2]["usage"] == {"output_tokens": 4},
          objs[-2])

    # slowstream: incremental arrival
    st, hd, lines, err, wc = stream(port, P, dict(sbody, model="slowstream"),
                                    ANT)
    ev = sse_events(lines)
    check("anthropic slowstream incremental", len(ev) == 10 and
          ev[-1][0] - ev[0][0] >= 0.35 and ev[-1][1] == "message_stop",
          (len(ev), ev[-1][0] - ev[0][0]))

    # tools
    tools = [{"name": "get_weather", "description": "w",
              "input_schema": {"type": "object"}},
             {"name": "other", "input_schema": {"type": "object"}}]
    tbody = {"model": "c", "max_tokens": 50, "tools": tools,
             "messages": [{"role": "user",
                           "content": "weather? please use tool"}]}
    st, _, j = hreq(port, "POST", P, tbody, ANT)
    n = j["id"][len("msg_mock_"):] if st == 200 else "?"
    check("anthropic tool_use", st == 200 and j["stop_reason"] == "tool_use"
          and j["content"] == [
              {"type": "text", "text": "Calling the tool."},
              {"type": "tool_use", "id": "toolu_mock_" + n,
               "name": "get_weather", "input": {"city": "Paris"}}] and
          j["usage"]["output_tokens"] == 5, j)
    st, _, lines, err, _ = stream(port, P, dict(tbody, stream=True), ANT)
    objs = [json.loads(d) for _, _, d in sse_events(lines)]
    types = [o["type"] for o in objs]
    starts = [o for o in objs if o["type"] == "content_block_start"]
    pj = "".join(o["delta"].get("partial_json", "") for o in objs
                 if o["type"] == "content_block_delta" and o["index"] == 1)
    txt = "".join(o["delta"].get("text", "") for o in objs
                  if o["type"] == "content_block_delta" and o["index"] == 0)
    check("anthropic tool_use stream", len(starts) == 2 and
          starts[1]["content_block"]["type"] == "tool_use" and
          starts[1]["content_block"]["name"] == "get_weather" and
          starts[1]["content_block"]["input"] == {} and
          starts[1]["content_block"]["id"].startswith("toolu_mock_") and
          json.loads(pj) == {"city": "Paris"} and
          sum(1 for o in objs if o.get("delta", {}).get("type") ==
              "input_json_delta") == 2 and
          txt == "Calling the tool." and types[-1] == "message_stop" and
          objs[-2]["delta"]["stop_reason"] == "tool_use" and
          types.count("content_block_stop") == 2, types)
    st, _, j = hreq(port, "POST", P, dict(tbody, tool_choice={"type": "none"}),
                    ANT)
    check("anthropic tool_choice none -> text", st == 200 and
          j["content"] == [{"type": "text",
                            "text": "echo: weather? please use tool"}], j)
    rbody = {"model": "c", "max_tokens": 50, "tools": tools, "messages": [
        tbody["messages"][0],
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_x", "name": "get_weather",
             "input": {"city": "Paris"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_x",
             "content": "sunny 20C"}]}]}
    st, _, j = hreq(port, "POST", P, rbody, ANT)
    check("anthropic tool_result (string)", st == 200 and
          j["content"] == [{"type": "text",
                            "text": "echo: tool said sunny 20C"}] and
          j["stop_reason"] == "end_turn", j)
    rbody["messages"][2]["content"][0]["content"] = [
        {"type": "text", "text": "rainy"}]
    st, _, j = hreq(port, "POST", P, rbody, ANT)
    check("anthropic tool_result (blocks)", st == 200 and
          j["content"][0]["text"] == "echo: tool said rainy", j)

    # magic models
    def magic(model, stream_=False):
        return hreq(port, "POST", P, dict(body, model=model, stream=stream_),
                    ANT)
    st, hd, j = magic("claude-error-429")
    check("anthropic error-429", st == 429 and hd.get("retry-after") == "1"
          and ant_err(j, "rate_limit_error"), (hd, j))
    st, _, j = magic("error-500", True)
    check("anthropic error-500", st == 500 and ant_err(j, "api_error"), j)
    st, _, j = magic("error-401")
    check("anthropic error-401",
          st == 401 and ant_err(j, "authentication_error"), j)
    st, _, j = magic("error-403")
    check("anthropic error-403",
          st == 403 and ant_err(j, "permission_error"), j)
    st, _, j = magic("overloaded", True)
    check("anthropic overloaded -> 529",
          st == 529 and ant_err(j, "overloaded_error"), j)
    check("anthropic hang", hangs(port, P, dict(body, model="hang"), ANT))
    st, _, j = magic("x-nousage")
    check("anthropic nousage", st == 200 and "usage" not in j, j)

    wire = raw_wire(port, P, dict(sbody, model="cut"), ANT)
    check("anthropic cut", wire.count(b"event: message_start") == 1 and
          wire.count(b"event: content_block_delta") == 2 and
          b"message_stop" not in wire and b"message_delta" not in wire and
          not wire.endswith(b"0\r\n\r\n") and
          b"Transfer-Encoding: chunked" in wire, wire[-120:])
    st, hd, lines, err, wc = stream(port, P, dict(sbody, model="streamerror"),
                                    ANT)
    ev = sse_events(lines)
    names = [n for _, n, _ in ev]
    check("anthropic streamerror", st == 200 and err is None and
          names == ["message_start", "ping", "content_block_start",
                    "content_block_delta", "content_block_delta", "error"] and
          json.loads(ev[-1][2]) == {"type": "error", "error": {
              "type": "overloaded_error", "message": "Overloaded"}}, names)

    # keep-alive across plain + stream on one connection
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ok = True
    for s_ in (False, True, False):
        st, _, lines, err, wc = stream(port, P, dict(body, stream=s_), ANT,
                                       conn=conn)
        ok = ok and st == 200 and err is None and not wc
    conn.close()
    check("anthropic keep-alive", ok)


def gem_err(j, code, status):
    return (isinstance(j, dict) and isinstance(j.get("error"), dict) and
            j["error"].get("code") == code and
            j["error"].get("status") == status and
            isinstance(j["error"].get("message"), str))


def run_gemini(base, port):
    G = GMODEL + ":generateContent"
    S = GMODEL + ":streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user",
                          "parts": [{"text": "hello there world"}]}],
            "systemInstruction": {"parts": [{"text": "be nice"}]},
            "generationConfig": {"temperature": 0.5, "maxOutputTokens": 50}}
    st, hd, j = hreq(port, "POST", G, body, GEM)
    check("gemini plain", st == 200 and j["candidates"] == [{
        "content": {"role": "model",
                    "parts": [{"text": "echo: hello there world"}]},
        "finishReason": "STOP", "index": 0}] and
        j["usageMetadata"] == {"promptTokenCount": 2 + 3 + 3,
                               "candidatesTokenCount": 4,
                               "totalTokenCount": 12} and
        j["modelVersion"] == "gemini-2.0-flash", j)
    recs = [r for r in records(base) if r["body"] == body]
    check("gemini record", len(recs) == 1 and recs[0]["api"] == "gemini" and
          recs[0]["headers"]["x-goog-api-key"] == "gem-test-KEY" and
          recs[0]["path"] == G and recs[0]["status"] == 200 and
          recs[0]["reply_usage"]["totalTokenCount"] == 12, recs)

    body2 = {"contents": [
        {"role": "user", "parts": [{"text": "first q"}]},
        {"role": "model", "parts": [{"text": "first a"}]},
        {"role": "user", "parts": [
            {"text": "a b"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/png",
                          "fileUri": "https://x/y.png"}},
            {"text": "c"}]}]}
    st, _, j = hreq(port, "POST", "/gemini/v1beta/models/gemini-1.5-pro"
                    ":generateContent", body2, GEM)
    check("gemini parts + prefix", st == 200 and
          j["candidates"][0]["content"]["parts"] == [{"text": "echo: a b c"}]
          and j["usageMetadata"]["promptTokenCount"] == 9 + 2 + 2 + 3 and
          j["modelVersion"] == "gemini-1.5-pro", j)

    st, _, j = hreq(port, "POST", G + "?key=abc", body, GEM)
    check("gemini key= in URL -> 400", st == 400 and
          gem_err(j, 400, "INVALID_ARGUMENT") and
          j["error"]["message"] == "key must not be in the URL", j)
    st, _, j = hreq(port, "POST", G, body, {"Authorization": "Bearer x"})
    check("gemini no x-goog-api-key -> 403",
          st == 403 and gem_err(j, 403, "PERMISSION_DENIED"), j)
    bad_bodies = [
        ("role assistant", {"contents": [{"role": "assistant",
                                          "parts": [{"text": "x"}]}]}),
        ("empty parts", {"contents": [{"role": "user", "parts": []}]}),
        ("no contents", {"contents": []}),
        ("bad base64", {"contents": [{"role": "user", "parts": [
            {"inlineData": {"mimeType": "image/png", "data": "@@@"}}]}]}),
        ("unknown part", {"contents": [{"role": "user", "parts": [
            {"type": "image_url", "image_url": {"url": "x"}}]}]}),
    ]
    res = [(n, hreq(port, "POST", G, b, GEM)) for n, b in bad_bodies]
    check("gemini invalid bodies -> 400",
          all(r[0] == 400 and gem_err(r[2], 400, "INVALID_ARGUMENT")
              for _, r in res), [(n, r[0]) for n, r in res])

    # stream (SSE, CRLF)
    st, hd, lines, err, wc = stream(port, S, body, GEM)
    ev = sse_events(lines)
    objs = [json.loads(d) for _, _, d in ev]
    check("gemini stream headers", st == 200 and
          hd["content-type"].startswith("text/event-stream") and
          hd.get("transfer-encoding") == "chunked" and err is None and
          not wc, hd)
    check("gemini stream CRLF framing", lines and
          all(l.endswith(b"\r\n") for _, l in lines) and
          [l for _, l in lines if not l.startswith(b"data: ")] ==
          [b"\r\n"] * len(ev), lines[:3])
    check("gemini stream one event per word", len(objs) == 4 and
          all(len(o["candidates"][0]["content"]["parts"]) == 1 and
              o["candidates"][0]["content"]["role"] == "model"
              for o in objs), len(objs))
    text = "".join(o["candidates"][0]["content"]["parts"][0]["text"]
                   for o in objs)
    check("gemini stream text", text == "echo: hello there world", text)
    check("gemini stream final event", objs[-1]["candidates"][0].get(
        "finishReason") == "STOP" and objs[-1]["usageMetadata"] ==
        {"promptTokenCount": 8, "candidatesTokenCount": 4,
         "totalTokenCount": 12} and
        all("finishReason" not in o["candidates"][0] and
            "usageMetadata" not in o for o in objs[:-1]), objs[-1])
    st, hd, lines, err, wc = stream(
        port, GMODEL.replace("gemini-2.0-flash", "slowstream") +
        ":streamGenerateContent?alt=sse", body, GEM)
    ev = sse_events(lines)
    check("gemini slowstream incremental", len(ev) == 4 and
          ev[-1][0] - ev[0][0] >= 0.12, [e[0] for e in ev])
    st, hd, j = hreq(port, "POST", GMODEL + ":streamGenerateContent", body,
                     GEM)
    check("gemini stream without alt=sse -> JSON array", st == 200 and
          isinstance(j, list) and len(j) == 4 and
          j[-1]["usageMetadata"]["totalTokenCount"] == 12, j)

    # tools
    tools = [{"functionDeclarations": [
        {"name": "get_weather", "description": "w",
         "parameters": {"type": "object"}},
        {"name": "other"}]}]
    tbody = {"contents": [{"role": "user",
                           "parts": [{"text": "weather? use tool"}]}],
             "tools": tools}
    st, _, j = hreq(port, "POST", G, tbody, GEM)
    check("gemini functionCall", st == 200 and
          j["candidates"][0]["content"]["parts"] == [{"functionCall": {
              "name": "get_weather", "args": {"city": "Paris"}}}] and
          j["candidates"][0]["finishReason"] == "STOP" and
          j["usageMetadata"]["candidatesTokenCount"] == 2, j)
    st, _, lines, err, _ = stream(port, S, tbody, GEM)
    objs = [json.loads(d) for _, _, d in sse_events(lines)]
    check("gemini functionCall stream", len(objs) == 1 and
          objs[0]["candidates"][0]["content"]["parts"][0]["functionCall"]
          ["name"] == "get_weather" and
          objs[0]["candidates"][0]["finishReason"] == "STOP" and
          "usageMetadata" in objs[0], objs)
    st, _, j = hreq(port, "POST", G, dict(tbody, toolConfig={
        "functionCallingConfig": {"mode": "NONE"}}), GEM)
    check("gemini toolConfig NONE -> text", st == 200 and
          j["candidates"][0]["content"]["parts"] ==
          [{"text": "echo: weather? use tool"}], j)
    rbody = {"tools": tools, "contents": tbody["contents"] + [
        {"role": "model", "parts": [{"functionCall": {
            "name": "get_weather", "args": {"city": "Paris"}}}]},
        {"role": "user", "parts": [{"functionResponse": {
            "name": "get_weather", "response": {"content": "sunny 20C"}}}]}]}
    st, _, j = hreq(port, "POST", G, rbody, GEM)
    check("gemini functionResponse (content)", st == 200 and
          j["candidates"][0]["content"]["parts"] ==
          [{"text": "echo: tool said sunny 20C"}], j)
    rbody["contents"][-1]["parts"][0]["functionResponse"]["response"] = \
        {"temp": 20}
    st, _, j = hreq(port, "POST", G, rbody, GEM)
    check("gemini functionResponse (JSON dump)", st == 200 and
          j["candidates"][0]["content"]["parts"][0]["text"] ==
          'echo: tool said {"temp": 20}', j)

    # magic
    def mpath(model, action="generateContent"):
        return "/v1beta/models/%s:%s" % (model, action)
    st, hd, j = hreq(port, "POST", mpath("gemini-error-429"), body, GEM)
    check("gemini error-429", st == 429 and hd.get("retry-after") == "1" and
          gem_err(j, 429, "RESOURCE_EXHAUSTED") and
          j["error"]["message"] == "Resource has been exhausted", (hd, j))
    st, _, j = hreq(port, "POST", mpath("error-500",
                                        "streamGenerateContent?alt=sse"),
                    body, GEM)
    check("gemini error-500", st == 500 and gem_err(j, 500, "INTERNAL"), j)
    st, _, j = hreq(port, "POST", mpath("error-401"), body, GEM)
    st2, _, j2 = hreq(port, "POST", mpath("error-403"), body, GEM)
    check("gemini error-401/403 -> 403", st == 403 and st2 == 403 and
          gem_err(j, 403, "PERMISSION_DENIED") and
          gem_err(j2, 403, "PERMISSION_DENIED"), (j, j2))
    st, _, j = hreq(port, "POST", mpath("overloaded"), body, GEM)
    check("gemini overloaded -> 503",
          st == 503 and gem_err(j, 503, "UNAVAILABLE"), j)
    check("gemini hang", hangs(port, mpath("hang"), body, GEM))
    st, _, j = hreq(port, "POST", mpath("nousage"), body, GEM)
    check("gemini nousage", st == 200 and "usageMetadata" not in j, j)
    wire = raw_wire(port, mpath("cut", "streamGenerateContent?alt=sse"),
                    body, GEM)
    check("gemini cut", wire.count(b"data: ") == 2 and
          b"finishReason" not in wire and not wire.endswith(b"0\r\n\r\n") and
          b"Transfer-Encoding: chunked" in wire, wire[-120:])
    st, _, lines, err, _ = stream(
        port, mpath("streamerror", "streamGenerateContent?alt=sse"), body,
        GEM)
    objs = [json.loads(d) for _, _, d in sse_events(lines)]
    check("gemini streamerror", st == 200 and err is None and
          len(objs) == 3 and gem_err(objs[-1], 503, "UNAVAILABLE"), objs)

    # embeddings
    _, _, oj = jreq(base, "POST", "/v1/embeddings",
                    {"model": "e", "input": "one two"})
    st, _, j = hreq(port, "POST", "/v1beta/models/text-embedding-004"
                    ":batchEmbedContents", {"requests": [
                        {"model": "models/text-embedding-004",
                         "content": {"parts": [{"text": "one two"}]}},
                        {"model": "models/text-embedding-004",
                         "content": {"parts": [{"text": "three"}]}}]}, GEM)
    check("gemini batchEmbedContents", st == 200 and len(j["embeddings"]) == 2
          and all(len(e["values"]) == 8 for e in j["embeddings"]) and
          j["embeddings"][0]["values"] == oj["data"][0]["embedding"] and
          j["embeddings"][0]["values"] != j["embeddings"][1]["values"], j)
    st, _, j = hreq(port, "POST", "/v1beta/models/text-embedding-004"
                    ":embedContent",
                    {"content": {"parts": [{"text": "one two"}]}}, GEM)
    check("gemini embedContent", st == 200 and
          j == {"embedding": {"values": oj["data"][0]["embedding"]}}, j)


def run_azure_tools(base, port):
    AZP = ("/openai/deployments/my-gpt4o/chat/completions"
           "?api-version=2024-10-21")
    body = {"messages": SYS_MSGS}
    st, _, j = hreq(port, "POST", AZP, body, AZ)
    check("azure chat (api-key, model = deployment)", st == 200 and
          j["model"] == "my-gpt4o" and
          j["choices"][0]["message"]["content"] == "echo: hello there world"
          and j["usage"]["total_tokens"] == 15, j)
    recs = [r for r in records(base) if r["path"] == AZP]
    check("azure record", len(recs) == 1 and recs[0]["body"] == body and
          recs[0]["headers"]["api-key"] == "azure-test-KEY" and
          "authorization" not in recs[0]["headers"] and
          recs[0]["status"] == 200, recs)
    st, _, j = hreq(port, "POST", AZP, dict(body, model="gpt-4o"), AZ)
    check("azure body model wins", st == 200 and j["model"] == "gpt-4o", j)
    st, _, lines, err, _ = stream(port, AZP, dict(body, stream=True), AZ)
    ev = sse_events(lines)
    check("azure stream", st == 200 and ev[-1][2] == "[DONE]" and
          json.loads(ev[0][2])["model"] == "my-gpt4o", ev[:1])
    st, _, j = hreq(port, "POST", AZP.replace("my-gpt4o", "dep-error-429"),
                    body, AZ)
    check("azure magic via deployment", st == 429 and
          j["error"]["code"] == "rate_limit_exceeded", j)
    st, _, j = hreq(port, "POST", "/openai/deployments/emb/embeddings"
                    "?api-version=2024-10-21", {"input": "x y"}, AZ)
    check("azure embeddings", st == 200 and j["model"] == "emb" and
          j["usage"]["prompt_tokens"] == 2, j)
    st, _, j = hreq(port, "POST", "/v1/chat/completions",
                    {"model": "error-401", "messages": SYS_MSGS}, AZ)
    check("api-key header error-401 names the key", st == 401 and
          "azure-test-KEY" in j["error"]["message"], j)
    st, _, j = hreq(port, "POST", AZP, body, {})
    check("azure no credential -> 401", st == 401 and
          j["error"]["type"] == "invalid_request_error", j)

    # ---- OpenAI tool calls
    tools = [{"type": "function", "function": {"name": "get_weather",
                                               "parameters": {}}},
             {"type": "function", "function": {"name": "other"}}]
    tbody = {"model": "gpt-4o", "tools": tools, "messages": [
        {"role": "user", "content": "weather? use tool"}]}
    st, _, j = hreq(port, "POST", "/v1/chat/completions", tbody, OAI)
    n = j["id"][len("chatcmpl-mock-"):] if st == 200 else "?"
    check("openai tool_calls", st == 200 and
          j["choices"][0]["finish_reason"] == "tool_calls" and
          j["choices"][0]["message"]["content"] is None and
          j["choices"][0]["message"]["tool_calls"] == [{
              "id": "call_mock_" + n, "type": "function",
              "function": {"name": "get_weather",
                           "arguments": "{\"city\":\"Paris\"}"}}] and
          j["usage"]["completion_tokens"] == 1, j)
    st, _, lines, err, _ = stream(port, "/v1/chat/completions",
                                  dict(tbody, stream=True), OAI)
    ev = sse_events(lines)
    objs = [json.loads(d) for _, _, d in ev[:-1]]
    tcs = [tc for o in objs for tc in o["choices"][0]["delta"]
           .get("tool_calls", [])]
    frags = [tc["function"]["arguments"] for tc in tcs[1:]]
    check("openai tool_calls stream", ev[-1][2] == "[DONE]" and
          len(objs) == 4 and tcs[0]["id"].startswith("call_mock_") and
          tcs[0]["function"] == {"name": "get_weather", "arguments": ""} and
          tcs[0]["index"] == 0 and tcs[0]["type"] == "function" and
          len(frags) == 2 and "".join(frags) == "{\"city\":\"Paris\"}" and
          objs[-1]["choices"][0]["finish_reason"] == "tool_calls", objs)
    st, _, j = hreq(port, "POST", "/v1/chat/completions", {
        "model": "gpt-4o", "tools": tools, "messages": tbody["messages"] + [
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "call_1", "type": "function", "function": {
                 "name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1",
             "content": "sunny 20C"}]}, OAI)
    check("openai tool result", st == 200 and
          j["choices"][0]["message"]["content"] ==
          "echo: tool said sunny 20C" and
          j["choices"][0]["finish_reason"] == "stop", j)
    st, _, j = hreq(port, "POST", "/v1/chat/completions",
                    dict(tbody, tools=None), OAI)
    st2, _, j2 = hreq(port, "POST", "/v1/chat/completions",
                      dict(tbody, tool_choice="none"), OAI)
    check("openai no tools / tool_choice none -> echo", st == 200 and
          j["choices"][0]["message"]["content"] == "echo: weather? use tool"
          and st2 == 200 and j2["choices"][0]["message"]["content"] ==
          "echo: weather? use tool", (j, j2))


def run_credentials(base, port):
    chat = {"model": "error-500", "messages": SYS_MSGS}
    ant = {"model": "error-500", "max_tokens": 5, "messages": SYS_MSGS[1:]}
    gem = {"contents": [{"parts": [{"text": "hi"}]}]}
    GP = "/v1beta/models/error-500:generateContent"

    st, hd, j = hreq(port, "POST", "/v1/chat/completions", chat,
                     {"Authorization": "Bearer sk-ratelimited-1"})
    check("cred ratelimited openai (beats model)", st == 429 and
          hd.get("retry-after") == "2" and
          j["error"]["code"] == "rate_limit_exceeded", (hd, j))
    st, hd, j = hreq(port, "POST", "/v1/chat/completions", chat,
                     {"api-key": "az-ratelimited"})
    check("cred ratelimited via api-key", st == 429 and
          hd.get("retry-after") == "2", j)
    st, _, j = hreq(port, "POST", "/v1/chat/completions", chat,
                    {"Authorization": "Bearer sk-invalidkey"})
    check("cred invalidkey openai", st == 401 and
          j["error"]["code"] == "invalid_api_key", j)
    st, _, j = hreq(port, "POST", "/v1/embeddings",
                    {"model": "e", "input": "x"},
                    {"Authorization": "Bearer sk-broken"})
    check("cred broken openai", st == 500 and
          j["error"]["type"] == "server_error", j)

    st, hd, j = hreq(port, "POST", "/v1/messages", ant,
                     dict(ANT, **{"x-api-key": "ratelimited-a"}))
    check("cred ratelimited anthropic", st == 429 and
          hd.get("retry-after") == "2" and ant_err(j, "rate_limit_error"),
          (hd, j))
    st, _, j = hreq(port, "POST", "/v1/messages", ant,
                    dict(ANT, **{"x-api-key": "invalidkey-a"}))
    check("cred invalidkey anthropic", st == 401 and
          ant_err(j, "authentication_error"), j)
    st, _, j = hreq(port, "POST", "/v1/messages", dict(ant, model="c"),
                    dict(ANT, **{"x-api-key": "broken-a"}))
    check("cred broken anthropic", st == 500 and ant_err(j, "api_error"), j)

    st, hd, j = hreq(port, "POST", GP, gem, {"x-goog-api-key": "ratelimited"})
    check("cred ratelimited gemini", st == 429 and
          hd.get("retry-after") == "2" and
          gem_err(j, 429, "RESOURCE_EXHAUSTED"), (hd, j))
    st, _, j = hreq(port, "POST", GP, gem, {"x-goog-api-key": "invalidkey"})
    check("cred invalidkey gemini -> 403", st == 403 and
          gem_err(j, 403, "PERMISSION_DENIED"), j)
    st, _, j = hreq(port, "POST", GMODEL + ":generateContent", gem,
                    {"x-goog-api-key": "broken"})
    check("cred broken gemini", st == 500 and gem_err(j, 500, "INTERNAL"), j)


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
