"""The mock provider's self-test: the Gemini API (generateContent, streaming, tools, embeddings,
errors)."""

import json

from .common import (GEM, GMODEL, check, gem_err, hangs, hreq, jreq, raw_wire, records, sse_events,
                     stream)


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
