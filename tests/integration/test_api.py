"""API behaviour through lighttpd + hub-gateway + MariaDB + the mock provider:
auth, routing, errors, limits, metering of plain and streamed calls, redaction."""
import json
import os
import socket
import time

from hubtest import (HUB_HOME, HUB_PORT, check, done, hubctl, is_openai_error, jrequest,
                     mock_requests, mock_reset, request, sql, usage_row)

fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]
LIMITED = fx["keys"]["bob_limited"]
CANARY = fx["canary"]
CHAT = "/v1/chat/completions"


def chat_body(model="gpt-4o-mini", text="hello there world", **extra):
    b = {"model": model, "messages": [{"role": "system", "content": "be nice"},
                                      {"role": "user", "content": text}]}
    b.update(extra)
    return b


# --- health and routing basics
s, h, b = jrequest("GET", "/healthz")
check(s == 200 and b and b.get("status") == "ok" and b.get("database") == "ok", "healthz ok")

s, h, b = jrequest("POST", CHAT, chat_body())
check(s == 401 and is_openai_error(b), "no key -> 401 OpenAI error")
bad = KEY[:-1] + ("A" if KEY[-1] != "A" else "B")
s, h, b = jrequest("POST", CHAT, chat_body(), key=bad)
check(s == 401 and is_openai_error(b), "bad checksum -> 401")
s, h, b = jrequest("POST", CHAT, chat_body(), key="hub_" + "x" * 46)
check(s == 401, "forged key -> 401")
s, h, b = jrequest("POST", CHAT, chat_body(), key="A" * 20000)
check(s in (400, 401, 431), "huge Authorization -> 4xx", f"status {s}")
s, h, b = jrequest("POST", CHAT, chat_body(), key=fx["keys"]["expired"])
check(s == 401 and "expired" in b["error"]["message"], "expired key -> 401")
s, h, b = jrequest("POST", CHAT, chat_body(), key=KEY, headers={"Authorization": "Basic abc"})
check(s == 401, "non-Bearer scheme -> 401")

# --- a plain chat call: answer, usage row, what the upstream saw
mock_reset()
s, h, b = jrequest("POST", CHAT, chat_body(), key=KEY)
ok = check(s == 200 and b["choices"][0]["message"]["content"] == "echo: hello there world",
           "chat completion answered", f"{s} {b}")
rid = h.get("x-request-id", "")
check(len(rid) == 36, "x-request-id header present")
seen = mock_requests()
check(len(seen) == 1 and seen[0]["headers"].get("authorization") == f"Bearer {CANARY}",
      "upstream got the provider credential")
check(all(KEY not in json.dumps(r) for r in seen), "upstream never saw the hub key")
allowed = {"host", "authorization", "content-type", "accept", "content-length", "user-agent"}
check(seen and set(seen[0]["headers"]) <= allowed, "no client headers forwarded upstream",
      str(seen[0]["headers"]) if seen else "")
check(seen and seen[0]["body"]["model"] == "gpt-4o-mini", "upstream model in body")
row = usage_row(rid)
rep = seen[0]["reply_usage"] if seen else {}
check(row is not None and row["outcome"] == "ok" and int(row["prompt_tokens"]) == rep["prompt_tokens"]
      and int(row["completion_tokens"]) == rep["completion_tokens"]
      and int(row["total_tokens"]) == rep["total_tokens"], "usage row matches upstream tokens",
      str(row))
expect_cost = round((rep["prompt_tokens"] * 150000 + rep["completion_tokens"] * 600000) / 1e6)
check(row is not None and row["cost_micro"] is not None and int(row["cost_micro"]) == expect_cost,
      "usage row cost from price table", f"{row and row['cost_micro']} vs {expect_cost}")
uid = sql("SELECT id FROM users WHERE name='alice'")[0][0]
tid = sql("SELECT id FROM teams WHERE name='red'")[0][0]
check(row is not None and row["user_id"] == uid and row["team_id"] == tid and row["app"] == "notebook"
      and row["provider"] == "mock" and row["endpoint"] == "/v1/chat/completions"
      and row["status"] == "200" and row["latency_ms"] is not None and row["ttfb_ms"] is not None,
      "usage row attribution and timings", str(row))

# --- model routing
s, h, b = jrequest("POST", CHAT, chat_body("mock/gpt-4o"), key=KEY)
check(s == 200, "PROVIDER/MODEL routes")
s, h, b = jrequest("POST", CHAT, chat_body("chat-alias"), key=KEY)
seen = mock_requests()
check(s == 200 and seen[-1]["body"]["model"] == "gpt-4o", "bare name -> models table upstream name")
for m in ("no-such-model", "nope/gpt-4o"):
    s, h, b = jrequest("POST", CHAT, chat_body(m), key=KEY)
    check(s == 404 and b["error"]["code"] == "model_not_found", f"unknown model {m} -> 404")
for m in ("../../x", "%2e%2e", "a\r\nHost: evil", "x" * 10000, ""):
    s, h, b = jrequest("POST", CHAT, chat_body(m), key=KEY)
    check(s == 400 and is_openai_error(b), f"bad model name {m[:12]!r} -> 400", str(s))
s, h, b = jrequest("POST", CHAT, chat_body("text-embedding-3-small"), key=KEY)
check(s == 400, "embedding model on chat endpoint -> 400")

# --- authorisation by model
s, h, b = jrequest("POST", CHAT, chat_body("gpt-4o-mini"), key=LIMITED)
check(s == 200, "limited key: allowed model works")
s, h, b = jrequest("POST", CHAT, chat_body("mock/gpt-4o"), key=LIMITED)
check(s == 403 and is_openai_error(b), "limited key: other model -> 403")
s, h, b = jrequest("GET", "/v1/models", key=LIMITED)
ids = sorted(m["id"] for m in b["data"]) if s == 200 else []
check(ids == ["gpt-4o-mini", "text-embedding-3-small"], "models list filtered by key", str(ids))

# --- bad input catalogue
s, h, b = jrequest("POST", CHAT, "{", key=KEY)
check(s == 400 and b["error"]["type"] == "invalid_request_error", "malformed JSON -> 400")
s, h, b = jrequest("POST", CHAT, '{"model":"a","model":"gpt-4o-mini","messages":[]}', key=KEY)
check(s == 400, "duplicate keys -> 400")
deep = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"x":' + "[" * 100 + "]" * 100 + "}"
s, h, b = jrequest("POST", CHAT, deep, key=KEY)
check(s == 400 and "nesting" in b["error"]["message"], "deep nesting -> 400")
s, h, b = jrequest("POST", CHAT, json.dumps(chat_body()), key=KEY, headers={"Content-Type": "text/plain"})
check(s == 415, "wrong content type -> 415")
for bad_val in (-1, 0, 1.5, "10", 2 ** 63):
    s, h, b = jrequest("POST", CHAT, chat_body(max_tokens=bad_val), key=KEY)
    check(s == 400 and b["error"]["param"] == "max_tokens", f"max_tokens {bad_val!r} -> 400")
s, h, b = jrequest("POST", CHAT, chat_body(n=100000), key=KEY)
check(s == 400, "huge n -> 400")
s, h, b = jrequest("POST", CHAT, chat_body(stream="yes"), key=KEY)
check(s == 400, "stream 'yes' -> 400")
s, h, b = jrequest("POST", CHAT, {"model": "gpt-4o-mini", "messages": {}}, key=KEY)
check(s == 400, "messages {} -> 400")
many = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ""}] * 200000}
s, h, b = jrequest("POST", CHAT, many, key=KEY)
check(s == 400, "200000 messages -> 400")
s, h, b = jrequest("POST", CHAT, chat_body(user="a\r\nX-Evil: 1"), key=KEY)
check(s == 400 and b["error"]["param"] == "user", "CR/LF in user -> 400")
s, h, b = jrequest("POST", CHAT, chat_body(metadata={"k": "v\u0000"}), key=KEY)
check(s == 400, "NUL in metadata -> 400")
s, h, b = jrequest("POST", CHAT, b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\xff"}]}', key=KEY)
check(s == 400, "invalid UTF-8 -> 400")
big = json.dumps(chat_body(text="x" * (9 * 1024 * 1024)))
s, h, b = request("POST", CHAT, big, key=KEY)
try:
    b = json.loads(b)
except ValueError:
    pass
check(s == 413 and is_openai_error(b), "body over 8 MiB -> 413 OpenAI error", f"{s} {str(b)[:80]}")
s, h, b = jrequest("GET", "/elsewhere", key=KEY)
check(s == 404 and is_openai_error(b), "path outside the API -> 404 OpenAI error", str(s))
for m in ("PUT", "DELETE", "TRACE", "GET"):
    s, h, b = request(m, CHAT, key=KEY)
    check(s == 405, f"{m} on chat -> 405", str(s))
s, h, b = jrequest("POST", "/v1/nothing", chat_body(), key=KEY)
check(s == 404 and is_openai_error(b), "unknown route -> 404")

# truncated body: announce more than is sent, then close
sk = socket.create_connection(("127.0.0.1", HUB_PORT), timeout=10)
sk.sendall(f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
           "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":".encode())
sk.shutdown(socket.SHUT_WR)
resp = b""
try:
    while True:
        d = sk.recv(65536)
        if not d:
            break
        resp += d
except OSError:
    pass
sk.close()
check(not resp.startswith(b"HTTP/1.1 5"), "truncated body -> no 5xx", resp[:40].decode("latin1"))

# --- upstream errors pass through, without our secret
s, h, b = jrequest("POST", CHAT, chat_body("errs/error-500"), key=KEY)
check(s == 500 and "server had an error" in b["error"]["message"], "upstream 500 passed on with message")
s, h, b = jrequest("POST", CHAT, chat_body("errs/error-429"), key=KEY)
check(s == 429 and b["error"]["type"] == "rate_limit_error" and h.get("retry-after") == "1",
      "upstream 429 passed on with Retry-After", str(h.get("retry-after")))
rid = h.get("x-request-id")
row = usage_row(rid)
check(row is not None and row["outcome"] == "upstream_error" and row["status"] == "429"
      and row["prompt_tokens"] is None and row["cost_micro"] is None,
      "failed attempt metered with NULL counts", str(row))
s, h, b = jrequest("POST", CHAT, chat_body("errs/gpt-4o-mini"), key=KEY)
check(s == 429 and h.get("retry-after") is not None and "rate limited" in b["error"]["message"],
      "while its only credential cools down: 429 + Retry-After, nothing sent", f"{s} {b}")
time.sleep(1.1)
s, h, b = jrequest("POST", CHAT, chat_body("errs/error-401"), key=KEY)
check(s == 401 and is_openai_error(b) and CANARY not in json.dumps(b), "upstream 401 passed on, redacted")
s, h, b = jrequest("POST", CHAT, chat_body("errs/gpt-4o-mini"), key=KEY)
check(s == 503 and "usable credential" in b["error"]["message"], "a credential refused with 401 is out of rotation", str(s))

# --- streaming: events, usage chunk stripped unless asked, metering
def stream(body, key=KEY):
    conn = __import__("http.client").client.HTTPConnection("127.0.0.1", HUB_PORT, timeout=30)
    conn.request("POST", CHAT, body=json.dumps(body),
                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    r = conn.getresponse()
    raw = r.read().decode()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    events = [e for e in raw.split("\n\n") if e.strip()]
    return r.status, hdrs, events


mock_reset()
s, h, ev = stream(chat_body(stream=True))
datas = [e[len("data: "):] for e in ev]
check(s == 200 and h.get("content-type", "").startswith("text/event-stream"), "stream content type")
check(datas and datas[-1] == "[DONE]", "stream ends with [DONE]")
chunks = [json.loads(d) for d in datas if d != "[DONE]"]
text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c.get("choices"))
check(text == "echo: hello there world", "stream text", text)
check(all(c.get("choices") for c in chunks), "usage chunk stripped when the client did not ask")
seen = mock_requests()
check(seen and seen[0]["body"].get("stream_options", {}).get("include_usage") is True,
      "include_usage injected upstream")
row = usage_row(h.get("x-request-id"))
rep = seen[0]["reply_usage"] if seen else {}
check(row is not None and row["stream"] == "1" and row["outcome"] == "ok"
      and int(row["prompt_tokens"]) == rep["prompt_tokens"]
      and int(row["completion_tokens"]) == rep["completion_tokens"] and row["cost_micro"] is not None,
      "streamed call metered", str(row))

s, h, ev = stream(chat_body(stream=True, stream_options={"include_usage": True}))
chunks = [json.loads(e[6:]) for e in ev if e[6:] != "[DONE]"]
check(any(c.get("usage") and c.get("choices") == [] for c in chunks), "usage chunk kept when asked")

s, h, ev = stream(chat_body("mock/cut", stream=True))
last = ev[-1][6:] if ev else ""
check(s == 200 and last.startswith("{") and "error" in json.loads(last), "cut stream ends with an error event", last)
row = usage_row(h.get("x-request-id"))
check(row is not None and row["outcome"] == "truncated", "cut stream metered as truncated", str(row))

# client abort mid-stream: the row is still written
sk = socket.create_connection(("127.0.0.1", HUB_PORT), timeout=10)
body = json.dumps(chat_body("mock/slowstream-x", text=" ".join(["w"] * 40), stream=True))
sk.sendall((f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
first = sk.recv(4096).decode("latin1")
rid = ""
for line in first.split("\r\n"):
    if line.lower().startswith("x-request-id:"):
        rid = line.split(":", 1)[1].strip()
sk.close()
row = usage_row(rid, timeout=20)
check(row is not None and row["outcome"] in ("client_abort", "ok"), "client abort still metered",
      str(row))

# --- embeddings and images (non-SDK check of metering)
s, h, b = jrequest("POST", "/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a b", "c"]}, key=KEY)
row = usage_row(h.get("x-request-id"))
check(s == 200 and row and row["prompt_tokens"] == "3" and row["completion_tokens"] == "0"
      and row["cost_micro"] == "0", "embeddings metered", str(row))
s, h, b = jrequest("POST", "/v1/images/generations", {"model": "dall-e-3", "prompt": "a cat", "n": 2}, key=KEY)
row = usage_row(h.get("x-request-id"))
check(s == 200 and row and row["images"] == "2" and row["cost_micro"] == "80000", "images metered (2 x $0.04)", str(row))
s, h, b = jrequest("POST", "/v1/images/generations", {"model": "dall-e-3", "prompt": "a", "n": 11}, key=KEY)
check(s == 400, "images n > 10 -> 400")

# --- revocation takes effect within 1 s
_, out, _ = hubctl("key", "create", "--name", "to-revoke", "--user", "alice")
k = out.strip()
s, _, _ = jrequest("GET", "/v1/models", key=k)
check(s == 200, "fresh key works")
t0 = time.time()
hubctl("key", "revoke", "to-revoke")
last_ok = t0
while time.time() - t0 < 3:
    s, _, _ = jrequest("GET", "/v1/models", key=k)
    if s == 200:
        last_ok = time.time()
    elif s != 401:
        break
delay = last_ok - t0
print(f"# revoke -> last accepted request after {delay:.3f} s")
check(delay <= 1.0 and s == 401, f"revoked key refused within 1 s ({delay:.3f} s)")

# --- disabled provider
hubctl("provider", "disable", "mock")
time.sleep(1.2)
s, h, b = jrequest("POST", CHAT, chat_body(), key=KEY)
check(s == 503 and is_openai_error(b), "disabled provider -> 503", str(s))
hubctl("provider", "enable", "mock")
time.sleep(1.2)
s, h, b = jrequest("POST", CHAT, chat_body(), key=KEY)
check(s == 200, "re-enabled provider works")

# --- secrets never in logs
logs = ""
for name in os.listdir(os.path.join(HUB_HOME, "log")):
    with open(os.path.join(HUB_HOME, "log", name), errors="replace") as f:
        logs += f.read()
check(CANARY not in logs and KEY not in logs, "no provider or hub key in any log")
dump = sql("SELECT HEX(secret_enc) FROM credentials")
check(all(CANARY.encode().hex().upper() not in r[0] for r in dump), "credential sealed at rest")
done()
