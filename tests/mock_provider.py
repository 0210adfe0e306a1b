#!/usr/bin/env python3
"""Mock of the OpenAI HTTP API used by hub's integration tests.

Python 3.11 standard library only.

Usage:
    python3 tests/mock_provider.py --port PORT [--host 127.0.0.1] [--pidfile F]

Prints "mock provider listening on PORT" (the real port, also when --port 0)
to stdout once the socket is bound and about to serve.

Endpoints (matched on the path suffix, so any prefix such as /openai/v1/...
works; the query string is ignored):
  POST .../v1/chat/completions     deterministic "echo: <last user text>"
  POST .../v1/embeddings           8 deterministic floats per input
  POST .../v1/images/generations   1x1 PNG (b64_json) or URL
  GET  .../v1/models               small fixed model list
  GET  .../v1/models/<id>          single model object
  GET  /img/<i>.png                the 1x1 PNG (no auth needed)
Control API (never recorded, no auth needed):
  GET  /__mock/requests            JSON array of recorded requests
  POST /__mock/reset               clear the record (seq restarts at 1)
  GET  /__mock/health              {"ok": true}

Magic model-name substrings (checked on the received "model"):
  error-401, error-500, error-429, hang, cut, nousage, slowstream
See README-style notes at the bottom of this file / the report.
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
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORD_LIMIT = 100000
HANG_SECONDS = 30.0
SLOWSTREAM_DELAY = 0.05

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

    def new_record(self, method, path, headers, body):
        with self.lock:
            self.seq += 1
            rec = {
                "seq": self.seq,
                "method": method,
                "path": path,
                "headers": headers,
                "body": body,
                "reply_usage": None,
                "status": None,
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-openai/1.0"
    sys_version = ""

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
        rec = STATE.new_record(method, self.path, headers, body)

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

        if not self.headers.get("Authorization"):
            self._reply(rec, 401, openai_error(
                "You didn't provide an API key. You need to provide your API "
                "key in an Authorization header using Bearer auth (i.e. "
                "Authorization: Bearer YOUR_KEY), or as the password field "
                "(with blank username) if you're accessing the API from your "
                "browser and are prompted for a username and password. You "
                "can obtain an API key from "
                "https://platform.openai.com/account/api-keys."))
            return

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

    def _magic_errors(self, rec, model):
        if "error-401" in model:
            auth = self.headers.get("Authorization") or ""
            token = auth[7:] if auth[:7].lower() == "bearer " else auth
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
        reply = "echo: " + last_user
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            n = 1
        completion_tokens = words(reply) * n
        usage = {"prompt_tokens": prompt_tokens,
                 "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        nousage = "nousage" in model
        cid = "chatcmpl-mock-%d" % STATE.next_id()
        created = int(time.time())

        if not body.get("stream"):
            obj = {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{
                    "index": i,
                    "message": {"role": "assistant", "content": reply,
                                "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
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
        parts = reply.split()
        for i in range(n):
            events.append(chunk([{"index": i, "delta": {"role": "assistant",
                                                        "content": ""},
                                  "logprobs": None, "finish_reason": None}]))
            for j, w in enumerate(parts):
                piece = w if j == len(parts) - 1 else w + " "
                events.append(chunk([{"index": i, "delta": {"content": piece},
                                      "logprobs": None,
                                      "finish_reason": None}]))
            events.append(chunk([{"index": i, "delta": {}, "logprobs": None,
                                  "finish_reason": "stop"}]))
        if include_usage:
            events.append(chunk([], with_usage=True))

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", STATE.next_req_id())
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

        if cut:
            # role chunk + two content chunks, then drop the connection with
            # neither [DONE] nor the chunked terminator.
            for ev in events[:3]:
                self._write_chunk(b"data: " + json.dumps(ev).encode() + b"\n\n")
                if delay:
                    time.sleep(delay)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
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
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

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
