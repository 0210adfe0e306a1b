"""Issue 3 through the real stack: Anthropic and Gemini translation (plain, streaming, tool
calls), presets, several credentials with failover, fallbacks, retry bounds, timeouts and
mid-stream failures — each attempt metered under the request id."""
import json
import os
import socket
import time

from hubtest import (HUB_HOME, HUB_PORT, MOCK_PORT, check, done, hubctl, is_openai_error,
                     jrequest, mock_requests, mock_reset, request, sql, usage_row, usage_rows,
                     wait_for)

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]
CHAT = "/v1/chat/completions"
MOCK = f"http://127.0.0.1:{MOCK_PORT}"
ANT_KEY = fx["anthropic_key"]
GEM_KEY = fx["gemini_key"]


def add(name, typ, key, base, *extra):
    hubctl("provider", "add", name, "--type", typ, "--base-url", base, "--internal", *extra,
           stdin=key + "\n")




def body(model, text="hello there world", **kw):
    b = {"model": model, "messages": [{"role": "system", "content": "be brief"},
                                      {"role": "user", "content": text}]}
    b.update(kw)
    return b


def sse(path, payload, key=KEY, extra_headers=None):
    """Posts and returns (status, headers, [(event, data)])."""
    s, h, raw = request("POST", path, json.dumps(payload), key=key, headers=extra_headers, timeout=30)
    events = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        ev, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                ev = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data or ev:
            events.append((ev, "\n".join(data)))
    return s, h, events


# --- Anthropic: plain
mock_reset()
s, h, b = jrequest("POST", CHAT, body("anthropic/claude-3-opus-20240229"), key=KEY)
seen = mock_requests()
check(s == 200 and b["choices"][0]["message"]["content"] == "echo: hello there world"
      and b["object"] == "chat.completion", "anthropic: chat answered in OpenAI shape", str(b)[:200])
up = seen[-1] if seen else {}
check(up.get("path", "").endswith("/v1/messages") and up["headers"].get("x-api-key") == ANT_KEY
      and up["headers"].get("anthropic-version") == "2023-06-01"
      and "authorization" not in up["headers"], "anthropic: x-api-key + anthropic-version sent", str(up.get("headers")))
ub = up.get("body") or {}
check(ub.get("system") == "be brief" and ub.get("max_tokens") == 4096
      and ub.get("messages") == [{"role": "user", "content": [{"type": "text", "text": "hello there world"}]}]
      or ub.get("messages") == [{"role": "user", "content": "hello there world"}],
      "anthropic: system moved, max_tokens defaulted", json.dumps(ub)[:300])
rep = up.get("reply_usage") or {}
row = usage_row(h.get("x-request-id"))
check(row and b["usage"]["prompt_tokens"] == rep.get("input_tokens")
      and b["usage"]["completion_tokens"] == rep.get("output_tokens")
      and int(row["prompt_tokens"]) == rep.get("input_tokens") and row["cost_micro"] is not None,
      "anthropic: usage and cost match the provider", f"{b.get('usage')} {rep} {row}")

# --- Anthropic: stream
s, h, ev = sse(CHAT, body("anthropic/claude-3-opus-20240229", stream=True))
datas = [d for _, d in ev]
chunks = [json.loads(d) for d in datas if d != "[DONE]"]
text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))
fins = [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices") and c["choices"][0].get("finish_reason")]
check(s == 200 and text == "echo: hello there world" and datas[-1] == "[DONE]" and fins == ["stop"],
      "anthropic: stream translated to chat.completion.chunk", f"{text!r} {fins}")
row = usage_row(h.get("x-request-id"))
check(row and row["outcome"] == "ok" and row["prompt_tokens"] is not None and row["completion_tokens"] is not None,
      "anthropic: stream metered", str(row))

# --- Gemini: plain + stream
mock_reset()
s, h, b = jrequest("POST", CHAT, body("google/gemini-1.5-pro", temperature=0.5, max_tokens=50), key=KEY)
seen = mock_requests()
up = seen[-1] if seen else {}
check(s == 200 and b["choices"][0]["message"]["content"] == "echo: hello there world",
      "gemini: chat answered", str(b)[:200])
check(up.get("path", "").endswith("/v1beta/models/gemini-1.5-pro:generateContent")
      and up["headers"].get("x-goog-api-key") == GEM_KEY and "key=" not in up.get("path", ""),
      "gemini: key in x-goog-api-key header, never in the URL", up.get("path", ""))
ub = up.get("body") or {}
check(ub.get("systemInstruction", {}).get("parts") == [{"text": "be brief"}]
      and ub.get("generationConfig", {}).get("maxOutputTokens") == 50
      and ub.get("contents", [{}])[0].get("role") == "user", "gemini: systemInstruction and generationConfig", json.dumps(ub)[:300])
rep = up.get("reply_usage") or {}
check(b.get("usage", {}).get("prompt_tokens") == rep.get("promptTokenCount"), "gemini: usage from usageMetadata", f"{b.get('usage')} {rep}")
s, h, ev = sse(CHAT, body("google/gemini-1.5-pro", stream=True))
chunks = [json.loads(d) for _, d in ev if d != "[DONE]"]
text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))
check(s == 200 and text.replace(" ", "") == "echo:hellothereworld", "gemini: stream translated", repr(text))
seen = mock_requests()
check(seen[-1]["path"].endswith(":streamGenerateContent?alt=sse"), "gemini: streamGenerateContent?alt=sse")
row = usage_row(h.get("x-request-id"))
check(row and row["outcome"] == "ok" and row["prompt_tokens"] is not None, "gemini: stream metered", str(row))

# --- tool-call round trip on both
tools = [{"type": "function", "function": {"name": "get_weather", "description": "weather",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
for model in ("anthropic/claude-3-opus-20240229", "google/gemini-1.5-pro"):
    msgs = [{"role": "user", "content": "please use tool for the weather"}]
    s, h, b = jrequest("POST", CHAT, {"model": model, "messages": msgs, "tools": tools}, key=KEY)
    tc = (b or {}).get("choices", [{}])[0].get("message", {}).get("tool_calls") or []
    ok = s == 200 and len(tc) == 1 and tc[0]["function"]["name"] == "get_weather" \
        and json.loads(tc[0]["function"]["arguments"]) == {"city": "Paris"} \
        and b["choices"][0]["finish_reason"] == "tool_calls"
    check(ok, f"{model.split('/')[0]}: tool call returned", str(b)[:300])
    if not ok:
        continue
    msgs += [b["choices"][0]["message"], {"role": "tool", "tool_call_id": tc[0]["id"], "content": "sunny"}]
    s, h, b = jrequest("POST", CHAT, {"model": model, "messages": msgs, "tools": tools}, key=KEY)
    check(s == 200 and b["choices"][0]["message"]["content"] == "echo: tool said sunny",
          f"{model.split('/')[0]}: tool result round trip", str(b)[:300])

# --- unsupported combinations
s, h, b = jrequest("POST", "/v1/images/generations", {"model": "anthropic/claude-3-opus-20240229", "prompt": "x"}, key=KEY)
check(s == 400 and is_openai_error(b), "images on an Anthropic provider -> 400", str(s))
s, h, b = jrequest("POST", CHAT, body("anthropic/claude-3-opus-20240229", n=2), key=KEY)
check(s == 400, "n=2 on Anthropic -> 400")

# --- several credentials: a 429 moves on to the next credential
add("pool", "openai-compatible", "sk-ratelimited-A", f"{MOCK}/v1")
hubctl("credential", "add", "pool", "--label", "b", stdin="sk-good-B\n")
time.sleep(1.2)
mock_reset()
s, h, b = jrequest("POST", CHAT, body("pool/gpt-4o-mini"), key=KEY)
rid = h.get("x-request-id")
seen = mock_requests()
wait_for(lambda: len([r for r in usage_rows(f"request_id='{rid}'") if r["outcome"] != "pending"]) >= 2, 10)
rows = sorted(usage_rows(f"request_id='{rid}'"), key=lambda r: int(r["attempt"]))
check(s == 200 and len(seen) == 2 and seen[0]["headers"]["authorization"].endswith("ratelimited-A")
      and seen[1]["headers"]["authorization"].endswith("good-B"), "429 on the first credential -> answered by the second",
      f"{s} {[r['headers'].get('authorization') for r in seen]}")
check(len(rows) == 2 and rows[0]["attempt"] == "0" and rows[0]["status"] == "429"
      and rows[0]["outcome"] == "upstream_error" and rows[1]["attempt"] == "1" and rows[1]["outcome"] == "ok"
      and rows[0]["credential_id"] != rows[1]["credential_id"], "two usage rows, one per attempt", str(rows))
cool = sql("SELECT cooldown_until > UTC_TIMESTAMP(3) FROM credentials c JOIN providers p ON p.id=c.provider_id "
           "WHERE p.name='pool' AND c.label='default'")
check(cool and cool[0][0] == "1", "the 429 credential is cooling down (recorded)")
mock_reset()
s, h, b = jrequest("POST", CHAT, body("pool/gpt-4o-mini"), key=KEY)
seen = mock_requests()
check(s == 200 and len(seen) == 1 and seen[0]["headers"]["authorization"].endswith("good-B"),
      "a cooling credential is skipped")

# --- a credential answering 401 is disabled and reported
add("authpool", "openai-compatible", "sk-invalidkey-A", f"{MOCK}/v1")
hubctl("credential", "add", "authpool", "--label", "b", stdin="sk-fine-B\n")
time.sleep(1.2)
s, h, b = jrequest("POST", CHAT, body("authpool/gpt-4o-mini"), key=KEY)
st = sql("SELECT c.status, c.last_error FROM credentials c JOIN providers p ON p.id=c.provider_id "
         "WHERE p.name='authpool' ORDER BY c.id")
_, plist, _ = hubctl("provider", "list")
check(s == 200 and st[0][0] == "disabled" and "401" in st[0][1] and st[1][0] == "active",
      "401 credential disabled, request answered by the next", str(st))
check("authpool" in plist and "401" in plist and "sk-invalidkey" not in plist, "provider list reports it", plist[-400:])

# --- all credentials fail: last error, bounded attempts
add("allbad", "openai-compatible", "sk-broken-1", f"{MOCK}/v1")
for i in (2, 3, 4):
    hubctl("credential", "add", "allbad", "--label", f"k{i}", stdin=f"sk-broken-{i}\n")
time.sleep(1.2)
mock_reset()
s, h, b = jrequest("POST", CHAT, body("allbad/gpt-4o-mini"), key=KEY)
seen = mock_requests()
rid = h.get("x-request-id")
wait_for(lambda: len([r for r in usage_rows(f"request_id='{rid}'") if r["outcome"] != "pending"]) >= 3, 10)
rows = usage_rows(f"request_id='{rid}'")
check(s == 500 and is_openai_error(b), "all credentials fail -> the last error", str(s))
check(len(seen) == 3 and len(rows) == 3, f"attempts bounded by max_retries=2 ({len(seen)} sent, {len(rows)} rows)")

# --- fallbacks
hubctl("model", "add", "fb-model", "--provider", "allbad", "--upstream-model", "gpt-4o-mini",
       "--fallback", "mock/gpt-4o-mini")
time.sleep(1.2)
mock_reset()
s, h, b = jrequest("POST", CHAT, body("fb-model"), key=KEY)
seen = mock_requests()
check(s == 200 and seen and seen[-1]["headers"]["authorization"] == f"Bearer {fx['canary']}",
      "fallback model answers when the primary fails", f"{s} {len(seen)}")

# --- a stream is never retried after its first byte
mock_reset()
s, h, ev = sse(CHAT, body("pool/cut", stream=True))
seen = mock_requests()
last = ev[-1][1] if ev else ""
check(s == 200 and len(seen) == 1 and '"error"' in last, "cut stream: error event, no retry after first byte",
      f"{len(seen)} {last[:80]}")
row = usage_row(h.get("x-request-id"))
check(row and row["outcome"] == "truncated", "cut stream metered truncated")

# --- anthropic mid-stream error event
s, h, ev = sse(CHAT, body("anthropic/streamerror", stream=True))
last = ev[-1][1] if ev else ""
check(s == 200 and '"error"' in last and "Overloaded" in last, "anthropic error event -> final error event", last[:120])
row = usage_row(h.get("x-request-id"))
check(row and row["outcome"] == "truncated", "anthropic error event metered truncated", str(row))

# --- timeouts (first_byte_timeout_ms = 2000 in the test config)
t0 = time.time()
s, h, b = jrequest("POST", CHAT, body("mock/hang"), key=KEY, timeout=40)
el = time.time() - t0
check(s == 504 and el < 8, f"hung provider -> 504 within its bound ({el:.1f} s)", str(s))
row = usage_row(h.get("x-request-id"))
check(row and row["outcome"] == "timeout", "timeout metered", str(row))
t0 = time.time()
s, h, b = jrequest("POST", CHAT, body("anthropic/hang", stream=True), key=KEY, timeout=40)
el = time.time() - t0
check(s == 504 and el < 8, f"hung stream before its first byte -> 504 ({el:.1f} s)", str(s))

# --- client disconnect mid-stream on a translated provider
sk = socket.create_connection(("127.0.0.1", HUB_PORT), timeout=10)
pb = json.dumps(body("anthropic/slowstream", text=" ".join(["w"] * 60), stream=True))
sk.sendall((f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(pb)}\r\n\r\n{pb}").encode())
first = sk.recv(4096).decode("latin1")
rid = next((l.split(":", 1)[1].strip() for l in first.split("\r\n") if l.lower().startswith("x-request-id:")), "")
sk.close()
row = usage_row(rid, timeout=20)
check(row is not None and row["outcome"] in ("client_abort", "ok"), "translated stream: client abort metered", str(row))

# --- presets
add("az", "openai-compatible", "az-canary-key", MOCK, "--preset", "azure", "--api-version", "2024-06-01")
hubctl("model", "add", "az-gpt", "--provider", "az", "--upstream-model", "my-deployment")
for preset in ("deepseek", "xai", "openrouter", "ollama"):
    add(f"p-{preset}", "openai-compatible", f"{preset}-key", f"{MOCK}/v1", "--preset", preset)
time.sleep(1.2)
mock_reset()
s, h, b = jrequest("POST", CHAT, body("az-gpt"), key=KEY)
seen = mock_requests()
up = seen[-1] if seen else {"headers": {}, "path": ""}
check(s == 200 and up["path"] == "/openai/deployments/my-deployment/chat/completions?api-version=2024-06-01"
      and up["headers"].get("api-key") == "az-canary-key" and "authorization" not in up["headers"],
      "azure preset: deployment URL, api-key header, api-version", f"{up['path']} {up['headers']}")
for preset in ("deepseek", "xai", "openrouter", "ollama"):
    mock_reset()
    s, h, b = jrequest("POST", CHAT, body(f"p-{preset}/some-model"), key=KEY)
    seen = mock_requests()
    ok = s == 200 and seen and seen[-1]["path"] == "/v1/chat/completions" \
        and seen[-1]["headers"].get("authorization") == f"Bearer {preset}-key"
    check(ok, f"{preset} preset works end to end", str(s))
row = sql("SELECT base_url, preset FROM providers WHERE name='p-deepseek'")
check(row and row[0][1] == "deepseek", "preset recorded")

# --- canaries never leak
logs = ""
for name in os.listdir(os.path.join(HUB_HOME, "log")):
    with open(os.path.join(HUB_HOME, "log", name), errors="replace") as f:
        logs += f.read()
check(ANT_KEY not in logs and GEM_KEY not in logs and "sk-good-B" not in logs, "provider keys never logged")
done()
