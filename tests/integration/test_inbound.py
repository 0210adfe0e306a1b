"""Inbound formats beyond OpenAI: AIGNE Hub v2 (/api/v2/…) and the raw Anthropic Messages
wire format (/v1/messages), routed to OpenAI-type and translated providers, metered."""
import json
import os

from hubtest import HUB_HOME, check, done, jrequest, request, usage_row

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]


def events(raw):
    out = []
    for block in raw.decode().split("\n\n"):
        ev, data = None, None
        for line in block.split("\n"):
            if line.startswith("event:"):
                ev = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
        if data is not None:
            out.append((ev, data))
    return out


# --- AIGNE chat, plain
aigne = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "be brief"},
                                              {"role": "user", "content": "hello aigne"}],
         "maxTokens": 50, "topP": 0.9, "temperature": 0.2}
s, h, b = jrequest("POST", "/api/v2/chat/completions", aigne, key=KEY)
check(s == 200 and b.get("role") == "assistant" and b.get("text") == "echo: hello aigne",
      "aigne chat: answer {role, text}", str(b)[:200])
row = usage_row(h.get("x-request-id"))
check(row and row["endpoint"] == "/api/v2/chat/completions" and row["outcome"] == "ok"
      and row["prompt_tokens"] is not None, "aigne chat metered", str(row))

# --- AIGNE chat, streamed on Accept: text/event-stream, through a translated provider too
for model in ("gpt-4o-mini", "anthropic/claude-3-opus-20240229"):
    s, h, raw = request("POST", "/api/v2/chat/completions", json.dumps(dict(aigne, model=model)), key=KEY,
                        headers={"Accept": "text/event-stream"})
    ev = [json.loads(d) for _, d in events(raw)]
    text = "".join((e.get("delta") or {}).get("content") or "" for e in ev)
    usage = [e["usage"] for e in ev if "usage" in e]
    check(s == 200 and text == "echo: hello aigne" and len(usage) == 1 and usage[0]["completionTokens"] == 3
          and "promptTokens" in usage[0] and b"[DONE]" not in raw and "usage" in ev[-1],
          f"aigne stream via {model}: delta events then usage, no [DONE]", raw[:300])

# --- AIGNE tool calls (camelCase)
tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
s, h, b = jrequest("POST", "/api/v2/chat/completions",
                   {"model": "gpt-4o-mini", "tools": tools, "toolChoice": "auto",
                    "messages": [{"role": "user", "content": "please use tool"}]}, key=KEY)
tc = (b or {}).get("toolCalls") or []
check(s == 200 and len(tc) == 1 and tc[0]["function"]["name"] == "get_weather", "aigne tool call", str(b)[:300])
if tc:
    s, h, b = jrequest("POST", "/api/v2/chat/completions",
                       {"model": "gpt-4o-mini", "tools": tools,
                        "messages": [{"role": "user", "content": "please use tool"},
                                     {"role": "assistant", "content": "", "toolCalls": tc},
                                     {"role": "tool", "content": "cloudy", "toolCallId": tc[0]["id"]}]}, key=KEY)
    check(s == 200 and b.get("text") == "echo: tool said cloudy", "aigne tool result round trip", str(b)[:200])

# --- AIGNE errors, embeddings, images, status
s, h, b = jrequest("POST", "/api/v2/chat/completions", {"model": "gpt-4o-mini", "messages": "x"}, key=KEY)
check(s == 400 and isinstance(b.get("error"), dict) and b["error"].get("message"), "aigne bad request -> 400 {error:{message}}", str(b))
s, h, b = jrequest("POST", "/api/v2/chat/completions", aigne, key="hub_bad")
check(s == 401 and isinstance(b.get("error"), dict), "aigne bad key -> 401")
s, h, b = jrequest("POST", "/api/v2/embeddings", {"model": "text-embedding-3-small", "input": ["a b", "c"]}, key=KEY)
check(s == 200 and len(b["data"]) == 2 and len(b["data"][0]["embedding"]) == 8, "aigne embeddings")
s, h, b = jrequest("POST", "/api/v2/image/generations", {"model": "dall-e-3", "prompt": "a cat", "n": 1,
                                                          "responseFormat": "b64_json"}, key=KEY)
check(s == 200 and b.get("images") and b["images"][0].get("b64_json"), "aigne image generation", str(b)[:200])
row = usage_row(h.get("x-request-id"))
check(row and row["images"] == "1" and row["endpoint"] == "/api/v2/image/generations", "aigne image metered", str(row))
s, h, b = jrequest("GET", "/api/v2/status", key=KEY)
check(s == 200 and b == {"available": True}, "aigne status")
s, h, b = jrequest("GET", "/api/v2/status?model=no-such-model", key=KEY)
check(s == 200 and b.get("available") is False and b.get("error"), "aigne status for an unknown model")

# --- raw Anthropic wire format: event order of a stream
msg = {"model": "google/gemini-1.5-pro", "max_tokens": 64, "stream": True,
       "messages": [{"role": "user", "content": "two words"}]}
s, h, raw = request("POST", "/v1/messages", json.dumps(msg), key=KEY, headers={"anthropic-version": "2023-06-01"})
names = [e for e, _ in events(raw)]
check(s == 200 and names[0] == "message_start" and names[-1] == "message_stop" and "message_delta" in names
      and "content_block_start" in names and "content_block_stop" in names,
      "anthropic wire stream: message_start … message_stop (via Gemini)", str(names))
s, h, b = jrequest("POST", "/v1/messages", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
                   key=KEY)
check(s == 400 and b.get("type") == "error" and b["error"]["type"] == "invalid_request_error",
      "anthropic wire: missing max_tokens -> Anthropic-shaped 400", str(b))
s, h, b = jrequest("POST", "/v1/messages", {"model": "gpt-4o-mini", "max_tokens": 5,
                                            "messages": [{"role": "user", "content": "hi"}]},
                   headers={"x-api-key": KEY})
check(s == 200 and b.get("type") == "message", "x-api-key header authenticates", str(s))
done()
