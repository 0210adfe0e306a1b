#!/usr/bin/env python3
"""Mock of the OpenAI, Azure OpenAI, Anthropic and Gemini HTTP APIs used by
hub's integration tests.

Python 3.11 standard library only.

Usage:
    python3 tests/mock_provider.py --port PORT [--host 127.0.0.1] [--pidfile F]

Prints "mock provider listening on PORT" (the real port, also when --port 0)
to stdout once the socket is bound and about to serve.

Endpoints (matched on the path suffix, so any prefix such as /openai/v1/...
works; the query string is ignored unless noted):
  OpenAI (auth: "Authorization: Bearer K" or "api-key: K"):
  POST .../v1/chat/completions     deterministic "echo: <last user text>",
                                   tool calls ("use tool"), tool results
  POST .../v1/embeddings           8 deterministic floats per input
  POST .../v1/images/generations   1x1 PNG (b64_json) or URL
  GET  .../v1/models               small fixed model list
  GET  .../v1/models/<id>          single model object
  POST .../openai/deployments/<D>/chat/completions?api-version=...  (Azure;
                                   also .../embeddings, .../images/...):
                                   as above, model defaults to <D>
  GET  /img/<i>.png                the 1x1 PNG (no auth needed)
  Anthropic (auth: "x-api-key: K"):
  POST .../v1/messages             Messages API, plain and SSE
  Gemini (auth: "x-goog-api-key: K"; a "key=" query parameter -> 400):
  POST .../models/<M>:generateContent
  POST .../models/<M>:streamGenerateContent?alt=sse   (JSON array w/o alt=sse)
  POST .../models/<M>:embedContent | :batchEmbedContents
Control API (never recorded, no auth needed):
  GET  /__mock/requests            JSON array of recorded requests
  POST /__mock/reset               clear the record and the stats (seq
                                   restarts at 1)
  GET  /__mock/health              {"ok": true}
  GET  /__mock/stats               {"connections", "requests", "accepted"}

Magic model-name substrings (checked on the received "model"; for Gemini the
model in the path; for Azure the deployment when the body has no model):
  error-401, error-500, error-429, hang, cut, nousage, slowstream
  (all APIs, each in its own error shape), error-403 (Anthropic, Gemini),
  overloaded (Anthropic 529, Gemini 503), streamerror (Anthropic, Gemini).
Magic credential substrings (any of Authorization bearer / x-api-key /
x-goog-api-key / api-key; they take precedence over the model names):
  ratelimited -> 429 + Retry-After: 2, invalidkey -> 401 (Gemini 403),
  broken -> 500, slowkey -> 3 s delay then a normal answer.
See the report / the self-test for the exact request -> reply contract.
"""

import argparse
import base64
import collections
import hashlib
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORD_LIMIT = 100000
HANG_SECONDS = 30.0
SLOWSTREAM_DELAY = 0.05
SLOWKEY_SECONDS = 3.0
CRED_RETRY_AFTER = "2"

# fixed arguments of every mock tool call
TOOL_ARGS = {"city": "Paris"}
TOOL_ARGS_OPENAI = '{"city":"Paris"}'          # OpenAI "arguments" string
TOOL_ARGS_OPENAI_FRAGS = ('{"city":', '"Paris"}')
TOOL_ARGS_JSON = json.dumps(TOOL_ARGS)          # '{"city": "Paris"}'
TOOL_ARGS_JSON_FRAGS = ('{"city": ', '"Paris"}')
TOOL_INTRO = "Calling the tool."                # Anthropic text before tool_use

GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
                 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE"}
GEMINI_RE = re.compile(r"/models/([^/:]+):([A-Za-z]+)$")
GEMINI_PART_KEYS = ("text", "inlineData", "inline_data", "fileData",
                    "file_data", "functionCall", "function_call",
                    "functionResponse", "function_response", "executableCode",
                    "executable_code", "codeExecutionResult",
                    "code_execution_result")

MODEL_IDS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-3.5-turbo",
    "text-embedding-3-small",
    "dall-e-3",
    "gpt-image-1",
]


def _make_png_1x1():
    """A valid 1x1 RGBA PNG (opaque red pixel)."""

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    raw = b"\x00" + b"\xff\x00\x00\xff"  # filter byte + one RGBA pixel
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG_1X1 = _make_png_1x1()
PNG_1X1_B64 = base64.b64encode(PNG_1X1).decode("ascii")


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.records = collections.deque(maxlen=RECORD_LIMIT)
        self.seq = 0
        self.counter = 0  # id counter for chatcmpl-mock-<n>; never reset
        self.req_counter = 0  # x-request-id counter; never reset
        self.epoch = 0  # bumped by reset; connections are counted per epoch
        self.conn_used = 0  # connections that carried >= 1 API request
        self.api_requests = 0  # recorded API requests since the last reset
        self.accepted = 0  # TCP connections accepted since the start

    def note_accept(self):
        with self.lock:
            self.accepted += 1

    def new_record(self, method, path, headers, body, handler=None):
        with self.lock:
            self.api_requests += 1
            if handler is not None and handler.conn_epoch != self.epoch:
                handler.conn_epoch = self.epoch
                self.conn_used += 1
            self.seq += 1
            rec = {
                "seq": self.seq,
                "method": method,
                "path": path,
                "headers": headers,
                "body": body,
                "reply_usage": None,
                "status": None,
                "api": "openai",
            }
            self.records.append(rec)
            return rec

    def next_id(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def next_req_id(self):
        with self.lock:
            self.req_counter += 1
            return "req_mock_%d" % self.req_counter

    def snapshot(self):
        with self.lock:
            # dicts are mutated in place by handler threads under the lock,
            # so serialise while still holding it.
            return json.dumps(list(self.records)).encode("utf-8")

    def reset(self):
        with self.lock:
            self.records.clear()
            self.seq = 0
            self.epoch += 1
            self.conn_used = 0
            self.api_requests = 0

    def stats(self):
        with self.lock:
            return {"connections": self.conn_used,
                    "requests": self.api_requests,
                    "accepted": self.accepted}


STATE = State()


class BadRequest(Exception):
    pass


def words(text):
    return len(text.split()) if isinstance(text, str) else 0


def content_text(content):
    """Text of a chat message content: a string, or a list of parts whose
    text parts are joined with a single space. Anything else -> ""."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str) and \
                    p.get("type", "text") in ("text", "input_text"):
                parts.append(p["text"])
        return " ".join(parts)
    return ""


def fake_embedding(text):
    h = hashlib.sha256(text.encode("utf-8")).digest()
    vec = []
    for i in range(8):
        (v,) = struct.unpack(">I", h[i * 4:i * 4 + 4])
        # map to [-1, 1], rounded so it is exactly representable-ish in f32
        vec.append(round(v / 0xFFFFFFFF * 2.0 - 1.0, 6))
    return vec


def openai_error(message, etype="invalid_request_error", param=None, code=None):
    return {"error": {"message": message, "type": etype, "param": param,
                      "code": code}}


def anthropic_error(etype, message):
    return {"type": "error", "error": {"type": etype, "message": message}}


def gemini_error(code, message):
    return {"error": {"code": code, "message": message,
                      "status": GEMINI_STATUS.get(code, "UNKNOWN")}}


def pieces(text):
    """Split a reply into stream pieces: one per word, each keeping the
    whitespace that follows it, so that "".join(pieces(t)) == t (for text
    that does not start with whitespace)."""
    out = re.findall(r"\S+\s*", text)
    return out if out else ([text] if text else [])


def gemini_get(d, camel, snake):
    if not isinstance(d, dict):
        return None
    v = d.get(camel)
    return v if v is not None else d.get(snake)


def gemini_parts_text(content):
    """Text parts of a Gemini Content joined with a single space."""
    parts = gemini_get(content, "parts", "parts")
    if not isinstance(parts, list):
        return ""
    return " ".join(p["text"] for p in parts
                    if isinstance(p, dict) and isinstance(p.get("text"), str))


def openai_tool_name(body):
    """Name of the function the mock calls, or None (no tools / "none")."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    tc = body.get("tool_choice")
    if tc == "none":
        return None
    if isinstance(tc, dict) and isinstance(tc.get("function"), dict) and \
            isinstance(tc["function"].get("name"), str):
        return tc["function"]["name"]
    for t in tools:
        if isinstance(t, dict):
            f = t.get("function")
            if isinstance(f, dict) and isinstance(f.get("name"), str):
                return f["name"]
    return None


def anthropic_tool_name(body):
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    tc = body.get("tool_choice")
    if isinstance(tc, dict):
        if tc.get("type") == "none":
            return None
        if tc.get("type") == "tool" and isinstance(tc.get("name"), str):
            return tc["name"]
    for t in tools:
        if isinstance(t, dict) and isinstance(t.get("name"), str):
            return t["name"]
    return None


def gemini_tool_name(body):
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    fcc = gemini_get(gemini_get(body, "toolConfig", "tool_config"),
                     "functionCallingConfig", "function_calling_config")
    if isinstance(fcc, dict):
        if str(fcc.get("mode", "")).upper() == "NONE":
            return None
        allowed = gemini_get(fcc, "allowedFunctionNames",
                             "allowed_function_names")
        if isinstance(allowed, list) and allowed and \
                isinstance(allowed[0], str):
            return allowed[0]
    for t in tools:
        fds = gemini_get(t, "functionDeclarations", "function_declarations")
        if isinstance(fds, list):
            for fd in fds:
                if isinstance(fd, dict) and isinstance(fd.get("name"), str):
                    return fd["name"]
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-openai/1.0"
    sys_version = ""

    conn_epoch = -1

    def setup(self):
        STATE.note_accept()
        super().setup()

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def log_error(self, format, *args):  # noqa: A002
        pass

    # ------------------------------------------------------------------ io
    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until empty line
                    while True:
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    break
                out += self.rfile.read(size)
                self.rfile.readline(65537)  # CRLF after chunk
            return bytes(out)
        length = self.headers.get("Content-Length")
        if length:
            try:
                n = int(length)
            except ValueError:
                n = 0
            if n > 0:
                return self.rfile.read(n)
        return b""

    def _send_json(self, status, obj, extra_headers=None):
        data = json.dumps(obj).encode("utf-8")
        if status == 529:
            self.send_response(status, "Overloaded")
        else:
            self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", STATE.next_req_id())
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _reply(self, rec, status, obj, usage=None, extra_headers=None):
        if rec is not None:
            with STATE.lock:
                rec["status"] = status
                rec["reply_usage"] = usage
        self._send_json(status, obj, extra_headers)

    def _write_chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()

    def _start_stream(self, ctype, close=False, extra_headers=None):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", STATE.next_req_id())
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def _end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut_connection(self):
        """Drop the connection mid-body (no chunked terminator)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _credentials(self):
        vals = []
        auth = self.headers.get("Authorization")
        if auth:
            vals.append(auth[7:] if auth[:7].lower() == "bearer " else auth)
        for h in ("x-api-key", "x-goog-api-key", "api-key"):
            v = self.headers.get(h)
            if v:
                vals.append(v)
        return vals

    def _cred_behaviour(self):
        """"ratelimited" / "invalidkey" / "broken" / "slowkey" / None, from
        the credential headers (first match in that order)."""
        creds = " ".join(self._credentials())
        for word in ("ratelimited", "invalidkey", "broken", "slowkey"):
            if word in creds:
                return word
        return None

    # ------------------------------------------------------------- dispatch
    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def do_PATCH(self):
        self._handle()

    def _handle(self):
        try:
            self._handle_inner()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _handle_inner(self):
        raw = self._read_body()
        path = self.path.split("?", 1)[0]
        method = self.command

        # ---- control API (not recorded)
        if path.startswith("/__mock/"):
            if path == "/__mock/requests" and method == "GET":
                data = STATE.snapshot()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if path == "/__mock/reset" and method == "POST":
                STATE.reset()
                self._send_json(200, {"ok": True})
                return
            if path == "/__mock/health":
                self._send_json(200, {"ok": True})
                return
            if path == "/__mock/stats" and method == "GET":
                self._send_json(200, STATE.stats())
                return
            self._send_json(404, openai_error(
                "Invalid URL (%s %s)" % (method, path)))
            return

        headers = {}
        for k, v in self.headers.items():
            lk = k.lower()
            headers[lk] = headers[lk] + ", " + v if lk in headers else v
        text = raw.decode("utf-8", errors="replace")
        body = None
        parsed_ok = True
        if raw:
            try:
                body = json.loads(text)
            except ValueError:
                body = text
                parsed_ok = False
        rec = STATE.new_record(method, self.path, headers, body, self)

        # ---- image URLs (no auth)
        m = re.search(r"/img/(\d+)\.png$", path)
        if m and method == "GET":
            with STATE.lock:
                rec["status"] = 200
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG_1X1)))
            self.end_headers()
            self.wfile.write(PNG_1X1)
            return

        # ---- Gemini and Anthropic
        gm = GEMINI_RE.search(path) if method == "POST" else None
        if gm:
            self._gemini(rec, urllib.parse.unquote(gm.group(1)), gm.group(2),
                         raw, body, parsed_ok)
            return
        if method == "POST" and path.endswith("/v1/messages"):
            self._anthropic(rec, raw, body, parsed_ok)
            return

        route = None
        if method == "POST" and path.endswith("/chat/completions"):
            route = self._chat
        elif method == "POST" and path.endswith("/embeddings"):
            route = self._embeddings
        elif method == "POST" and path.endswith("/images/generations"):
            route = self._images
        elif method == "GET" and path.endswith("/models"):
            route = self._models
        elif method == "GET" and re.search(r"/models/[^/]+$", path):
            route = self._model_one
        if route is None:
            self._reply(rec, 404, openai_error(
                "Invalid URL (%s %s)" % (method, path)))
            return

        if not self.headers.get("Authorization") and \
                not self.headers.get("api-key"):
            self._reply(rec, 401, openai_error(
                "You didn't provide an API key. You need to provide your API "
                "key in an Authorization header using Bearer auth (i.e. "
                "Authorization: Bearer YOUR_KEY), or as the password field "
                "(with blank username) if you're accessing the API from your "
                "browser and are prompted for a username and password. You "
                "can obtain an API key from "
                "https://platform.openai.com/account/api-keys."))
            return

        cb = self._cred_behaviour()
        if cb == "ratelimited":
            self._reply(rec, 429, openai_error(
                "Rate limit reached for requests in organization org-mock on "
                "requests per min (RPM): Limit 3, Used 3, Requested 1. "
                "Please try again in 2s.",
                etype="requests", code="rate_limit_exceeded"),
                extra_headers={"Retry-After": CRED_RETRY_AFTER,
                               "x-ratelimit-limit-requests": "3",
                               "x-ratelimit-remaining-requests": "0",
                               "x-ratelimit-reset-requests": "2s"})
            return
        if cb == "invalidkey":
            self._reply(rec, 401, openai_error(
                "Incorrect API key provided: %s. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
                % self._openai_token(), code="invalid_api_key"))
            return
        if cb == "broken":
            self._reply(rec, 500, openai_error(
                "The server had an error while processing your request.",
                etype="server_error"))
            return
        if cb == "slowkey":
            time.sleep(SLOWKEY_SECONDS)

        if method == "POST":
            if not parsed_ok or not raw:
                self._reply(rec, 400, openai_error(
                    "We could not parse the JSON body of your request. (HINT: "
                    "This likely means you aren't using your HTTP library "
                    "correctly. The OpenAI API expects a JSON payload, but "
                    "what was sent was not valid JSON. If you have trouble "
                    "figuring out how to fix this, please contact us through "
                    "our help center at help.openai.com.)"))
                return
            if not isinstance(body, dict):
                self._reply(rec, 400, openai_error(
                    "Invalid request body: expected a JSON object."))
                return
            model = body.get("model")
            dm = re.search(r"/deployments/([^/]+)/", path)
            if (not isinstance(model, str) or not model) and dm:
                # Azure: the deployment names the model; copy so that the
                # record keeps the body as received.
                model = urllib.parse.unquote(dm.group(1))
                body = dict(body)
                body["model"] = model
            if not isinstance(model, str) or not model:
                self._reply(rec, 400, openai_error(
                    "you must provide a model parameter", param="model"))
                return
            if self._magic_errors(rec, model):
                return
        try:
            route(rec, body)
        except BadRequest as e:
            self._reply(rec, 400, openai_error(str(e)))

    def _openai_token(self):
        auth = self.headers.get("Authorization") or ""
        if not auth:
            return self.headers.get("api-key") or ""
        return auth[7:] if auth[:7].lower() == "bearer " else auth

    def _magic_errors(self, rec, model):
        if "error-401" in model:
            token = self._openai_token()
            self._reply(rec, 401, openai_error(
                "Incorrect API key provided: %s. You can find your API key at "
                "https://platform.openai.com/account/api-keys." % token,
                code="invalid_api_key"))
            return True
        if "error-500" in model:
            self._reply(rec, 500, openai_error(
                "The server had an error while processing your request.",
                etype="server_error"))
            return True
        if "error-429" in model:
            self._reply(rec, 429, openai_error(
                "Rate limit reached for %s in organization org-mock on "
                "requests per min (RPM): Limit 3, Used 3, Requested 1. "
                "Please try again in 1s." % model,
                etype="requests", code="rate_limit_exceeded"),
                extra_headers={"Retry-After": "1",
                               "x-ratelimit-limit-requests": "3",
                               "x-ratelimit-remaining-requests": "0",
                               "x-ratelimit-reset-requests": "1s"})
            return True
        if "hang" in model:
            time.sleep(HANG_SECONDS)
        return False

    # ---------------------------------------------------------------- chat
    def _chat(self, rec, body):
        model = body["model"]
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise BadRequest("'messages' is a required property")
        prompt_tokens = 3 * len(messages)
        last_user = ""
        for msg in messages:
            if not isinstance(msg, dict):
                continue
            t = content_text(msg.get("content"))
            prompt_tokens += words(t)
            if msg.get("role") == "user":
                last_user = t
        last = messages[-1] if messages and isinstance(messages[-1], dict) \
            else {}
        tool_name = openai_tool_name(body)
        tool_call = None
        if last.get("role") == "tool":
            reply = "echo: tool said " + content_text(last.get("content"))
        elif tool_name is not None and "use tool" in last_user:
            reply = None
        else:
            reply = "echo: " + last_user
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            n = 1
        nid = STATE.next_id()
        if reply is None:
            tool_call = {"id": "call_mock_%d" % nid, "type": "function",
                         "function": {"name": tool_name,
                                      "arguments": TOOL_ARGS_OPENAI}}
            completion_tokens = words(TOOL_ARGS_OPENAI) * n
        else:
            completion_tokens = words(reply) * n
        finish = "tool_calls" if tool_call else "stop"
        usage = {"prompt_tokens": prompt_tokens,
                 "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        nousage = "nousage" in model
        cid = "chatcmpl-mock-%d" % nid
        created = int(time.time())

        if not body.get("stream"):
            if tool_call:
                message = {"role": "assistant", "content": None,
                           "tool_calls": [tool_call], "refusal": None}
            else:
                message = {"role": "assistant", "content": reply,
                           "refusal": None}
            obj = {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{
                    "index": i,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish,
                } for i in range(n)],
                "system_fingerprint": "fp_mock",
            }
            if not nousage:
                obj["usage"] = usage
            self._reply(rec, 200, obj, None if nousage else usage)
            return

        so = body.get("stream_options")
        include_usage = (isinstance(so, dict) and so.get("include_usage") is True
                         and not nousage)
        cut = "cut" in model
        delay = SLOWSTREAM_DELAY if "slowstream" in model else 0.0
        with STATE.lock:
            rec["status"] = 200
            rec["reply_usage"] = usage if include_usage else None

        def chunk(choices, with_usage=False):
            o = {"id": cid, "object": "chat.completion.chunk",
                 "created": created, "model": model,
                 "system_fingerprint": "fp_mock", "choices": choices}
            if include_usage:
                o["usage"] = usage if with_usage else None
            return o

        events = []
        for i in range(n):
            if tool_call:
                first = dict(tool_call, index=0)
                first["function"] = {"name": tool_name, "arguments": ""}
                events.append(chunk([{"index": i, "delta": {
                    "role": "assistant", "content": None,
                    "tool_calls": [first], "refusal": None},
                    "logprobs": None, "finish_reason": None}]))
                for frag in TOOL_ARGS_OPENAI_FRAGS:
                    events.append(chunk([{"index": i, "delta": {
                        "tool_calls": [{"index": 0,
                                        "function": {"arguments": frag}}]},
                        "logprobs": None, "finish_reason": None}]))
            else:
                events.append(chunk([{"index": i, "delta": {
                    "role": "assistant", "content": ""},
                    "logprobs": None, "finish_reason": None}]))
                parts = reply.split()
                for j, w in enumerate(parts):
                    piece = w if j == len(parts) - 1 else w + " "
                    events.append(chunk([{"index": i,
                                          "delta": {"content": piece},
                                          "logprobs": None,
                                          "finish_reason": None}]))
            events.append(chunk([{"index": i, "delta": {}, "logprobs": None,
                                  "finish_reason": finish}]))
        if include_usage:
            events.append(chunk([], with_usage=True))

        self._start_stream("text/event-stream; charset=utf-8", close=cut)

        if cut:
            # role chunk + two content chunks, then drop the connection with
            # neither [DONE] nor the chunked terminator.
            for ev in events[:3]:
                self._write_chunk(b"data: " + json.dumps(ev).encode() + b"\n\n")
                if delay:
                    time.sleep(delay)
            self._cut_connection()
            return

        first = True
        for ev in events:
            if delay and not first:
                time.sleep(delay)
            first = False
            self._write_chunk(b"data: " + json.dumps(ev).encode() + b"\n\n")
        if delay:
            time.sleep(delay)
        self._write_chunk(b"data: [DONE]\n\n")
        self._end_stream()

    # ---------------------------------------------------------- embeddings
    def _embeddings(self, rec, body):
        model = body["model"]
        inp = body.get("input")
        items = []  # (text used for the vector, token count)
        if isinstance(inp, str):
            items.append((inp, words(inp)))
        elif isinstance(inp, list):
            if inp and all(isinstance(x, int) and not isinstance(x, bool)
                           for x in inp):
                items.append((" ".join(map(str, inp)), len(inp)))
            else:
                for x in inp:
                    if isinstance(x, str):
                        items.append((x, words(x)))
                    elif isinstance(x, list) and all(
                            isinstance(y, int) and not isinstance(y, bool)
                            for y in x):
                        items.append((" ".join(map(str, x)), len(x)))
                    else:
                        raise BadRequest("'input' must be a string, an array "
                                         "of strings, or an array of tokens")
            if not inp:
                raise BadRequest("'input' must not be empty")
        else:
            raise BadRequest("'input' is a required property")
        b64 = body.get("encoding_format") == "base64"
        data = []
        total = 0
        for i, (t, cnt) in enumerate(items):
            vec = fake_embedding(t)
            total += cnt
            if b64:
                emb = base64.b64encode(struct.pack("<8f", *vec)).decode()
            else:
                emb = vec
            data.append({"object": "embedding", "index": i, "embedding": emb})
        usage = {"prompt_tokens": total, "total_tokens": total}
        obj = {"object": "list", "data": data, "model": model}
        nousage = "nousage" in model
        if not nousage:
            obj["usage"] = usage
        self._reply(rec, 200, obj, None if nousage else usage)

    # -------------------------------------------------------------- images
    def _images(self, rec, body):
        model = body["model"]
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise BadRequest("'prompt' is a required property")
        n = body.get("n", 1)
        if n is None:
            n = 1
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > 10:
            raise BadRequest("'n' must be an integer between 1 and 10")
        b64 = body.get("response_format") == "b64_json"
        host = self.server.public_host
        port = self.server.server_address[1]
        data = []
        for i in range(n):
            if b64:
                data.append({"b64_json": PNG_1X1_B64})
            else:
                data.append({"url": "http://%s:%d/img/%d.png" % (host, port, i)})
        obj = {"created": int(time.time()), "data": data}
        usage = None
        if "gpt-image" in model and "nousage" not in model:
            it = words(prompt)
            usage = {"input_tokens": it, "output_tokens": 100 * n,
                     "total_tokens": it + 100 * n}
            obj["usage"] = usage
        self._reply(rec, 200, obj, usage)

    # -------------------------------------------------------------- models
    def _model_obj(self, mid):
        return {"id": mid, "object": "model", "created": 1700000000,
                "owned_by": "mock"}

    def _models(self, rec, body):
        self._reply(rec, 200, {"object": "list",
                               "data": [self._model_obj(m) for m in MODEL_IDS]})

    def _model_one(self, rec, body):
        mid = self.path.split("?", 1)[0].rsplit("/", 1)[1]
        self._reply(rec, 200, self._model_obj(mid))

    # =========================================================== Anthropic
    def _anthropic(self, rec, raw, body, parsed_ok):
        with STATE.lock:
            rec["api"] = "anthropic"
        rid = {"request-id": "req_mock_anthropic_%d" % rec["seq"]}

        def err(status, etype, message, extra=None):
            h = dict(rid)
            h.update(extra or {})
            self._reply(rec, status, anthropic_error(etype, message),
                        extra_headers=h)

        if not self.headers.get("x-api-key"):
            return err(401, "authentication_error",
                       "x-api-key header is required")
        cb = self._cred_behaviour()
        if cb == "ratelimited":
            return err(429, "rate_limit_error",
                       "This request would exceed the rate limit for your "
                       "organization of 3 requests per minute.",
                       {"retry-after": CRED_RETRY_AFTER})
        if cb == "invalidkey":
            return err(401, "authentication_error", "invalid x-api-key")
        if cb == "broken":
            return err(500, "api_error", "Internal server error")
        if cb == "slowkey":
            time.sleep(SLOWKEY_SECONDS)
        if not raw or not parsed_ok:
            return err(400, "invalid_request_error",
                       "There was an issue with the request body: the body "
                       "is not valid JSON")
        if not isinstance(body, dict):
            return err(400, "invalid_request_error",
                       "Input should be a valid dictionary or object")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return err(400, "invalid_request_error", "model: Field required")

        # magic model names
        if "error-401" in model:
            return err(401, "authentication_error", "invalid x-api-key")
        if "error-403" in model:
            return err(403, "permission_error", "Your API key does not have "
                       "permission to use the specified resource.")
        if "error-500" in model:
            return err(500, "api_error", "Internal server error")
        if "error-429" in model:
            return err(429, "rate_limit_error",
                       "This request would exceed the rate limit for your "
                       "organization of 3 requests per minute.",
                       {"retry-after": "1"})
        if "overloaded" in model:
            return err(529, "overloaded_error", "Overloaded")
        if "hang" in model:
            time.sleep(HANG_SECONDS)

        # validation
        mt = body.get("max_tokens")
        if mt is None:
            return err(400, "invalid_request_error",
                       "max_tokens: Field required")
        if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
            return err(400, "invalid_request_error",
                       "max_tokens: Input should be a positive integer")
        messages = body.get("messages")
        if not isinstance(messages, list):
            return err(400, "invalid_request_error",
                       "messages: Field required")
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                return err(400, "invalid_request_error",
                           "messages.%d: Input should be an object" % i)
            if m.get("role") not in ("user", "assistant"):
                return err(400, "invalid_request_error",
                           "messages.%d.role: Input should be 'user' or "
                           "'assistant'" % i)
            if not isinstance(m.get("content"), (str, list)):
                return err(400, "invalid_request_error",
                           "messages.%d.content: Field required" % i)
        system = body.get("system")
        if system is not None and not isinstance(system, (str, list)):
            return err(400, "invalid_request_error",
                       "system: Input should be a valid string or list")

        # reply
        input_tokens = 3 * len(messages) + words(content_text(system))
        last_user = None
        for m in messages:
            input_tokens += words(content_text(m.get("content")))
            if m.get("role") == "user":
                last_user = m
        last_text = content_text(last_user.get("content")) if last_user else ""
        tool_result = None
        if last_user and isinstance(last_user.get("content"), list):
            for blk in last_user["content"]:
                if isinstance(blk, dict) and blk.get("type") == "tool_result":
                    tool_result = blk
                    break
        tool_name = anthropic_tool_name(body)
        nid = STATE.next_id()
        tool = None
        if tool_result is not None:
            text = "echo: tool said " + content_text(tool_result.get("content"))
        elif tool_name is not None and "use tool" in last_text:
            text = TOOL_INTRO
            tool = {"type": "tool_use", "id": "toolu_mock_%d" % nid,
                    "name": tool_name, "input": dict(TOOL_ARGS)}
        else:
            text = "echo: " + last_text
        output_tokens = words(text) + (words(TOOL_ARGS_JSON) if tool else 0)
        stop_reason = "tool_use" if tool else "end_turn"
        usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
        nousage = "nousage" in model
        msg_id = "msg_mock_%d" % nid
        content = [{"type": "text", "text": text}]
        if tool:
            content.append(tool)

        if not body.get("stream"):
            obj = {"id": msg_id, "type": "message", "role": "assistant",
                   "model": model, "content": content,
                   "stop_reason": stop_reason, "stop_sequence": None}
            if not nousage:
                obj["usage"] = usage
            h = dict(rid)
            self._reply(rec, 200, obj, None if nousage else usage,
                        extra_headers=h)
            return

        cut = "cut" in model
        serr = "streamerror" in model
        delay = SLOWSTREAM_DELAY if "slowstream" in model else 0.0
        start_usage = {"input_tokens": input_tokens, "output_tokens": 1}
        start_msg = {"id": msg_id, "type": "message", "role": "assistant",
                     "model": model, "content": [], "stop_reason": None,
                     "stop_sequence": None}
        if not nousage:
            start_msg["usage"] = start_usage
        head = [("message_start", {"type": "message_start",
                                   "message": start_msg}),
                ("ping", {"type": "ping"}),
                ("content_block_start", {
                    "type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}})]
        deltas = [("content_block_delta", {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": p}})
            for p in pieces(text)]
        tail = [("content_block_stop", {"type": "content_block_stop",
                                        "index": 0})]
        if tool:
            tail.append(("content_block_start", {
                "type": "content_block_start", "index": 1,
                "content_block": {"type": "tool_use", "id": tool["id"],
                                  "name": tool["name"], "input": {}}}))
            for frag in TOOL_ARGS_JSON_FRAGS:
                tail.append(("content_block_delta", {
                    "type": "content_block_delta", "index": 1,
                    "delta": {"type": "input_json_delta",
                              "partial_json": frag}}))
            tail.append(("content_block_stop", {"type": "content_block_stop",
                                                "index": 1}))
        md = {"type": "message_delta",
              "delta": {"stop_reason": stop_reason, "stop_sequence": None}}
        if not nousage:
            md["usage"] = {"output_tokens": output_tokens}
        tail.append(("message_delta", md))
        tail.append(("message_stop", {"type": "message_stop"}))

        if cut or serr:
            events = head + deltas[:2]
            if serr:
                events.append(("error", anthropic_error("overloaded_error",
                                                        "Overloaded")))
            rusage = None if nousage else start_usage
        else:
            events = head + deltas + tail
            rusage = None if nousage else usage
        with STATE.lock:
            rec["status"] = 200
            rec["reply_usage"] = rusage
        self._start_stream("text/event-stream; charset=utf-8", close=cut,
                           extra_headers=rid)
        for i, (name, data) in enumerate(events):
            if delay and i:
                time.sleep(delay)
            self._write_chunk(b"event: " + name.encode() + b"\ndata: " +
                              json.dumps(data).encode() + b"\n\n")
        if cut:
            self._cut_connection()
            return
        self._end_stream()

    # ============================================================== Gemini
    def _gemini(self, rec, model, action, raw, body, parsed_ok):
        with STATE.lock:
            rec["api"] = "gemini"

        def err(code, message, extra=None):
            self._reply(rec, code, gemini_error(code, message),
                        extra_headers=extra)

        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query,
                                      keep_blank_values=True)
        if "key" in query:
            return err(400, "key must not be in the URL")
        if not self.headers.get("x-goog-api-key"):
            return err(403, "Method doesn't allow unregistered callers "
                       "(callers without established identity). Please use "
                       "API Key or other form of API consumer identity to "
                       "call this API.")
        cb = self._cred_behaviour()
        if cb == "ratelimited":
            return err(429, "Resource has been exhausted",
                       {"Retry-After": CRED_RETRY_AFTER})
        if cb == "invalidkey":
            return err(403, "API key not valid. Please pass a valid API key.")
        if cb == "broken":
            return err(500, "An internal error has occurred. Please retry "
                       "or report in https://developers.generativeai.google/"
                       "guide/troubleshooting")
        if cb == "slowkey":
            time.sleep(SLOWKEY_SECONDS)
        if action not in ("generateContent", "streamGenerateContent",
                          "embedContent", "batchEmbedContents"):
            return err(404, "Method not found: %s" % action)
        if not raw or not parsed_ok or not isinstance(body, dict):
            return err(400, "Invalid JSON payload received. Expected an "
                       "object.")

        # magic model names (the model comes from the path)
        if "error-401" in model or "error-403" in model:
            return err(403, "Permission denied on resource (or it may not "
                       "exist).")
        if "error-500" in model:
            return err(500, "An internal error has occurred. Please retry "
                       "or report in https://developers.generativeai.google/"
                       "guide/troubleshooting")
        if "error-429" in model:
            return err(429, "Resource has been exhausted",
                       {"Retry-After": "1"})
        if "overloaded" in model:
            return err(503, "The model is overloaded. Please try again later.")
        if "hang" in model:
            time.sleep(HANG_SECONDS)

        if action == "embedContent":
            content = body.get("content")
            if not isinstance(content, dict) or \
                    not isinstance(content.get("parts"), list):
                return err(400, "* EmbedContentRequest.content: content is "
                           "not specified")
            self._reply(rec, 200, {"embedding": {
                "values": fake_embedding(gemini_parts_text(content))}})
            return
        if action == "batchEmbedContents":
            reqs = body.get("requests")
            if not isinstance(reqs, list) or not reqs:
                return err(400, "* BatchEmbedContentsRequest.requests: "
                           "requests is not specified")
            out = []
            for i, r in enumerate(reqs):
                content = r.get("content") if isinstance(r, dict) else None
                if not isinstance(content, dict) or \
                        not isinstance(content.get("parts"), list):
                    return err(400, "* BatchEmbedContentsRequest.requests[%d]"
                               ".content: content is not specified" % i)
                out.append({"values": fake_embedding(
                    gemini_parts_text(content))})
            self._reply(rec, 200, {"embeddings": out})
            return

        # ---- generateContent / streamGenerateContent: validation
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return err(400, "* GenerateContentRequest.contents: contents is "
                       "not specified")
        for i, c in enumerate(contents):
            if not isinstance(c, dict):
                return err(400, "Invalid value at 'contents[%d]'" % i)
            if c.get("role") not in (None, "", "user", "model", "function"):
                return err(400, "Please use a valid role: user, model.")
            parts = c.get("parts")
            if not isinstance(parts, list) or not parts:
                return err(400, "* GenerateContentRequest.contents[%d].parts: "
                           "contents.parts must not be empty." % i)
            for j, p in enumerate(parts):
                bad = self._gemini_bad_part(p)
                if bad:
                    return err(400, "Invalid value at 'contents[%d].parts[%d]"
                               "': %s" % (i, j, bad))
        si = gemini_get(body, "systemInstruction", "system_instruction")
        if si is not None:
            if not isinstance(si, dict) or \
                    not isinstance(si.get("parts"), list):
                return err(400, "Invalid value at 'system_instruction': "
                           "expected a Content object with parts")

        prompt_tokens = 3 * len(contents) + words(gemini_parts_text(si))
        last_user = None
        for c in contents:
            prompt_tokens += words(gemini_parts_text(c))
            if c.get("role") != "model":
                last_user = c
        last_text = gemini_parts_text(last_user) if last_user else ""
        fresp = None
        for p in (last_user or {}).get("parts", []):
            fr = gemini_get(p, "functionResponse", "function_response")
            if isinstance(fr, dict):
                fresp = fr
                break
        tool_name = gemini_tool_name(body)
        nid = STATE.next_id()
        if fresp is not None:
            resp = fresp.get("response")
            if isinstance(resp, dict) and "content" in resp:
                rt = resp["content"] if isinstance(resp["content"], str) \
                    else json.dumps(resp["content"])
            else:
                rt = json.dumps(resp)
            text = "echo: tool said " + rt
            fcall = None
        elif tool_name is not None and "use tool" in last_text:
            text = None
            fcall = {"functionCall": {"name": tool_name,
                                      "args": dict(TOOL_ARGS)}}
        else:
            text = "echo: " + last_text
            fcall = None
        cand_tokens = words(TOOL_ARGS_JSON) if fcall else words(text)
        usage = {"promptTokenCount": prompt_tokens,
                 "candidatesTokenCount": cand_tokens,
                 "totalTokenCount": prompt_tokens + cand_tokens}
        nousage = "nousage" in model
        resp_id = "mock-%d" % nid

        def response(parts, final):
            cand = {"content": {"role": "model", "parts": parts}, "index": 0}
            if final:
                cand["finishReason"] = "STOP"
            o = {"candidates": [cand]}
            if final and not nousage:
                o["usageMetadata"] = usage
            o["modelVersion"] = model
            o["responseId"] = resp_id
            return o

        if action == "generateContent":
            parts = [fcall] if fcall else [{"text": text}]
            self._reply(rec, 200, response(parts, True),
                        None if nousage else usage)
            return

        # ---- streamGenerateContent
        if fcall:
            chunks = [[fcall]]
        else:
            chunks = [[{"text": p}] for p in pieces(text)] or [[{"text": ""}]]
        events = [response(c, i == len(chunks) - 1)
                  for i, c in enumerate(chunks)]
        cut = "cut" in model
        serr = "streamerror" in model
        delay = SLOWSTREAM_DELAY if "slowstream" in model else 0.0
        if cut or serr:
            events = events[:2]
            if serr:
                events.append(gemini_error(
                    503, "The model is overloaded. Please try again later."))
        with STATE.lock:
            rec["status"] = 200
            rec["reply_usage"] = None if (nousage or cut or serr) else usage
        sse = query.get("alt", [""])[-1] == "sse"
        if sse:
            self._start_stream("text/event-stream", close=cut)
        else:
            self._start_stream("application/json; charset=UTF-8", close=cut)
        for i, ev in enumerate(events):
            if delay and i:
                time.sleep(delay)
            data = json.dumps(ev).encode()
            if sse:
                self._write_chunk(b"data: " + data + b"\r\n\r\n")
            else:
                self._write_chunk((b"[" if i == 0 else b",\r\n") + data)
        if cut:
            self._cut_connection()
            return
        if not sse:
            self._write_chunk(b"]" if events else b"[]")
        self._end_stream()

    @staticmethod
    def _gemini_bad_part(p):
        """None when p is an acceptable Gemini Part, else a reason."""
        if not isinstance(p, dict):
            return "a part must be an object"
        keys = [k for k in GEMINI_PART_KEYS if k in p]
        if not keys:
            return "unknown part (%s)" % ",".join(sorted(p)) if p else \
                "empty part"
        if "text" in p and not isinstance(p["text"], str):
            return "text must be a string"
        inline = gemini_get(p, "inlineData", "inline_data")
        if inline is not None:
            mime = gemini_get(inline, "mimeType", "mime_type")
            data = inline.get("data") if isinstance(inline, dict) else None
            if not isinstance(mime, str) or not mime or \
                    not isinstance(data, str):
                return "inline_data needs mime_type and data"
            try:
                base64.b64decode(data, validate=True)
            except ValueError:
                try:
                    base64.b64decode(data, altchars=b"-_", validate=True)
                except ValueError:
                    return "inline_data.data: Base64 decoding failed"
        fdata = gemini_get(p, "fileData", "file_data")
        if fdata is not None and not isinstance(
                gemini_get(fdata, "fileUri", "file_uri"), str):
            return "file_data needs file_uri"
        fc = gemini_get(p, "functionCall", "function_call")
        if fc is not None and not (isinstance(fc, dict) and
                                   isinstance(fc.get("name"), str)):
            return "function_call needs a name"
        fr = gemini_get(p, "functionResponse", "function_response")
        if fr is not None and not (isinstance(fr, dict) and
                                   isinstance(fr.get("name"), str)):
            return "function_response needs a name"
        return None

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    public_host = "127.0.0.1"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Mock OpenAI API provider")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--pidfile")
    args = ap.parse_args(argv)

    server = Server((args.host, args.port), Handler)
    if args.host not in ("0.0.0.0", "", "::"):
        server.public_host = args.host
    port = server.server_address[1]

    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())

    def _term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)

    print("mock provider listening on %d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        try:
            server.server_close()
        except Exception:
            pass
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
