"""The mock provider's HTTP server: the request handler (body reading, JSON and chunked
answers, credentials, the /__mock/ control API, the record, dispatch to the OpenAI, Anthropic
and Gemini routes) and the command line of tests/mock_provider.py."""

import argparse
import json
import os
import re
import signal
import socket
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .anthropic import AnthropicRoutes
from .common import STATE, openai_error
from .gemini import GEMINI_RE, GeminiRoutes
from .openai import PNG_1X1, OpenAIRoutes


class Handler(OpenAIRoutes, AnthropicRoutes, GeminiRoutes, BaseHTTPRequestHandler):
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

        self._openai(rec, method, path, raw, body, parsed_ok)


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

