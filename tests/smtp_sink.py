#!/usr/bin/env python3
"""A small SMTP server for the tests: it stands in for the company's mail relay.

Speaks plain SMTP (RFC 5321: EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-unstuffing, RSET,
NOOP, QUIT) over loopback and stores every accepted message in DIR as NNNN.eml (the data as
received, CRLF line ends) with NNNN.json beside it ({"from": …, "to": […]}). No STARTTLS, no
AUTH: the hub then sends in plain text, as to a relay that offers neither.

    python3 tests/smtp_sink.py --port N --dir DIR [--pidfile FILE]

Prints "smtp sink listening port=N" once it listens. Stops on SIGTERM. Python standard library
only.
"""
import argparse
import json
import os
import signal
import socketserver
import sys
import threading

MAX_MESSAGE = 1024 * 1024
lock = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(4096)
        if not line:
            raise EOFError
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        self.reply("220 smtp-sink ESMTP ready")
        sender, rcpts = None, []
        try:
            while True:
                line = self.readline()
                verb = line[:4].upper()
                if verb == "EHLO":
                    self.reply("250-smtp-sink")
                    self.reply("250-8BITMIME")
                    self.reply(f"250 SIZE {MAX_MESSAGE}")
                elif verb == "HELO":
                    self.reply("250 smtp-sink")
                elif line.upper().startswith("MAIL FROM:"):
                    sender, rcpts = line[10:].split()[0].strip("<>"), []
                    self.reply("250 OK")
                elif line.upper().startswith("RCPT TO:"):
                    if sender is None:
                        self.reply("503 MAIL first")
                        continue
                    rcpts.append(line[8:].split()[0].strip("<>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    if not rcpts:
                        self.reply("503 RCPT first")
                        continue
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    self.store(sender, rcpts, self.data())
                    self.reply("250 OK queued")
                    sender, rcpts = None, []
                elif verb == "RSET":
                    sender, rcpts = None, []
                    self.reply("250 OK")
                elif verb == "NOOP":
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("502 Command not implemented")
        except (EOFError, ConnectionError, OSError):
            return

    def data(self):
        lines, size = [], 0
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                raise EOFError
            if raw in (b".\r\n", b".\n"):
                return b"".join(lines)
            if raw.startswith(b".."):
                raw = raw[1:]  # dot-unstuffing
            size += len(raw)
            if size <= MAX_MESSAGE:
                lines.append(raw)

    def store(self, sender, rcpts, data):
        with lock:
            n = len([f for f in os.listdir(self.server.dir) if f.endswith(".eml")]) + 1
            base = os.path.join(self.server.dir, f"{n:04d}")
            with open(base + ".json.tmp", "w") as f:
                json.dump({"from": sender, "to": rcpts}, f)
            with open(base + ".eml.tmp", "wb") as f:
                f.write(data)
            os.replace(base + ".json.tmp", base + ".json")
            os.replace(base + ".eml.tmp", base + ".eml")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.dir = a.dir
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    print(f"smtp sink listening port={srv.server_address[1]}", flush=True)
    srv.serve_forever()
    srv.server_close()
    if a.pidfile:
        try:
            os.unlink(a.pidfile)
        except OSError:
            pass
    sys.exit(0)


if __name__ == "__main__":
    main()
