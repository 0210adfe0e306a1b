"""The mock provider's self-test: the OpenAI API (chat plain and streamed, magic model names,
embeddings, images, models, keep-alive, the record and reset), Azure OpenAI and tool calls."""

import base64
import http.client
import json
import socket
import struct
import time
import urllib.error
import urllib.request

from .common import (AUTH, AZ, OAI, SYS_MSGS, check, hreq, jreq, read_sse, records, req, sse_events,
                     stream)


def run_openai(base, port):
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
