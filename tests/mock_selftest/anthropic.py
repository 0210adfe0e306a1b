"""The mock provider's self-test: the Anthropic Messages API (plain, SSE, tool_use, errors)."""

import http.client
import json

from .common import (ANT, SYS_MSGS, ant_err, check, hangs, hreq, raw_wire, records, sse_events,
                     stream)


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
