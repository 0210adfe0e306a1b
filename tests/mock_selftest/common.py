"""What the parts of the mock provider's self-test share: the TAP counter, starting the mock,
requests (plain, streamed, on a raw socket) and the error-shape checks."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOCK = os.path.join(HERE, "mock_provider.py")
AUTH = "Bearer sk-test-SECRET123"

failures = 0
count = 0


def check(name, cond, detail=""):
    global failures, count
    count += 1
    if cond:
        print("ok %d - %s" % (count, name))
    else:
        failures += 1
        print("not ok %d - %s%s" % (count, name,
                                    (" # " + str(detail)) if detail else ""))


def start_mock():
    proc = subprocess.Popen([sys.executable, MOCK, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("mock provider listening on "):
        proc.kill()
        raise SystemExit("mock did not start: %r" % line)
    return proc, int(line.rsplit(" ", 1)[1])


def req(base, method, path, body=None, auth=AUTH, raw=None, timeout=10):
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else None)
    r = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        r.add_header("Content-Type", "application/json")
    if auth:
        r.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def jreq(base, method, path, body=None, **kw):
    st, hd, data = req(base, method, path, body, **kw)
    try:
        return st, hd, json.loads(data)
    except ValueError:
        return st, hd, data


def read_sse(port, body, path="/v1/chat/completions"):
    """Stream via http.client, reading events incrementally.
    Returns (status, headers, list of (arrival_time, payload_str), error)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, json.dumps(body),
                 {"Authorization": AUTH, "Content-Type": "application/json"})
    resp = conn.getresponse()
    events, err = [], None
    try:
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith("data: "):
                events.append((time.monotonic(), line[6:]))
    except (http.client.IncompleteRead, ConnectionError) as e:
        err = e
    hd = dict(resp.getheaders())
    conn.close()
    return resp.status, hd, events, err


ANT = {"x-api-key": "sk-ant-test-KEY", "anthropic-version": "2023-06-01"}
GEM = {"x-goog-api-key": "gem-test-KEY"}
AZ = {"api-key": "azure-test-KEY"}
OAI = {"Authorization": AUTH}
GMODEL = "/v1beta/models/gemini-2.0-flash"
SYS_MSGS = [{"role": "system", "content": "be nice"},
            {"role": "user", "content": "hello there world"}]


def hreq(port, method, path, body=None, headers=None, raw=None, timeout=10):
    """One request on a fresh connection -> (status, lower-case headers,
    parsed JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    data = raw if raw is not None else (
        json.dumps(body) if body is not None else None)
    if data is not None:
        h["Content-Type"] = "application/json"
    try:
        conn.request(method, path, data, h)
        r = conn.getresponse()
        out = r.read()
        hd = {k.lower(): v for k, v in r.getheaders()}
        try:
            return r.status, hd, json.loads(out)
        except ValueError:
            return r.status, hd, out
    finally:
        conn.close()


def stream(port, path, body, headers, timeout=10, conn=None):
    """POST and read the body line by line as it arrives (chunked decoding by
    http.client). Returns (status, lower headers, [(arrival, raw_line)], err,
    will_close)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers)
    h["Content-Type"] = "application/json"
    conn.request("POST", path, json.dumps(body), h)
    resp = conn.getresponse()
    lines, err = [], None
    try:
        while True:
            line = resp.readline()
            if not line:
                break
            lines.append((time.monotonic(), line))
    except (http.client.IncompleteRead, ConnectionError) as e:
        err = e
    hd = {k.lower(): v for k, v in resp.getheaders()}
    wc = resp.will_close
    resp.close()  # readline() alone leaves a Content-Length response open
    if own:
        conn.close()
    return resp.status, hd, lines, err, wc


def sse_events(lines):
    """[(arrival, event name or None, data str)] from raw SSE lines
    (LF or CRLF framing)."""
    out, name, data, t = [], None, None, None
    for tm, raw in lines:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if data is not None:
                out.append((t, name, data))
            name, data, t = None, None, None
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
            t = tm
    if data is not None:
        out.append((t, name, data))
    return out


def raw_wire(port, path, body, headers):
    """Send a request on a raw socket and return every byte until EOF."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    b = json.dumps(body).encode()
    hl = "".join("%s: %s\r\n" % kv for kv in headers.items())
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n"
               % (path, hl, len(b))).encode() + b)
    wire = b""
    while True:
        x = s.recv(65536)
        if not x:
            break
        wire += x
    s.close()
    return wire


def hangs(port, path, body, headers):
    t0 = time.monotonic()
    try:
        hreq(port, "POST", path, body, headers, timeout=0.5)
        return False
    except (TimeoutError, socket.timeout):
        return time.monotonic() - t0 < 3


def records(base):
    return jreq(base, "GET", "/__mock/requests")[2]


def ant_err(j, etype):
    return (isinstance(j, dict) and j.get("type") == "error" and
            j["error"]["type"] == etype and
            isinstance(j["error"].get("message"), str))


def gem_err(j, code, status):
    return (isinstance(j, dict) and isinstance(j.get("error"), dict) and
            j["error"].get("code") == code and
            j["error"].get("status") == status and
            isinstance(j["error"].get("message"), str))
