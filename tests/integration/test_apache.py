"""The gateway behind Apache httpd (deploy/apache/): the private instances that
tests/apache/start.sh runs in front of the quickstart's hub.

  proxy  (APACHE_PORT, else $HUB_HOME/apache/port): deploy/apache/hub.conf — mod_proxy_fcgi
         to the quickstart's hub-gateway socket, the admin pages through mod_cgid;
  fcgid  (APACHE_FCGID_PORT, else $HUB_HOME/apache-fcgid/port, when that instance runs):
         deploy/apache/hub-fcgid.conf — mod_fcgid spawning its own hub-gateway;
  sso    (started and stopped here): hub.conf + deploy/apache/hub-sso.conf, mod_auth_openidc
         signing in at a small test identity provider run by this module.

Checked through Apache: health, a chat completion, SSE events arriving one by one (not
buffered to the end), parallel streams, OpenAI-shaped errors (401, 404, 405, 413, 503 with
the gateway down), the admin pages run as CGI by Apache's user, single sign-on handing the
pages REMOTE_USER and the groups (and the pages in admin_auth = webserver mode).
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

from hubtest import HUB_HOME, check, done, is_openai_error, jrequest, request, sql, usage_row

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
fx = json.load(open(os.path.join(HUB_HOME, "fixtures.json")))
KEY = fx["keys"]["alice"]
CHAT = "/v1/chat/completions"


def answers(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False


def port_of(env, folder):
    if os.environ.get(env):
        return int(os.environ[env])
    pidfile = os.path.join(HUB_HOME, folder, "run", "httpd.pid")
    portfile = os.path.join(HUB_HOME, folder, "port")
    try:
        os.kill(int(open(pidfile).read().strip()), 0)
        return int(open(portfile).read().strip())
    except (OSError, ValueError):
        return None


def chat_body(model="gpt-4o-mini", text="hello there world", **extra):
    b = {"model": model, "messages": [{"role": "user", "content": text}]}
    b.update(extra)
    return b


def timed_stream(port, model="mock/slowstream-1", words=12):
    """A streamed completion; returns (status, headers, [(t_arrival, data), ...], t_sent)."""
    body = json.dumps(chat_body(model, " ".join(f"w{i}" for i in range(words)), stream=True))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.monotonic()
    conn.request("POST", CHAT, body=body, headers={"Authorization": f"Bearer {KEY}",
                                                   "Content-Type": "application/json"})
    r = conn.getresponse()
    events = []
    try:
        while True:
            line = r.readline()  # reads the chunked body as it arrives
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith("data: "):
                events.append((time.monotonic(), line[6:]))
                if line == "data: [DONE]":
                    break
    finally:
        conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, events, t0


def api_checks(port, name):
    """The API through one Apache instance."""
    s, h, b = jrequest("GET", "/healthz", port=port)
    check(s == 200 and b and b.get("status") == "ok" and b.get("database") == "ok",
          f"{name}: healthz through Apache", f"{s} {b}")

    s, h, b = jrequest("POST", CHAT, chat_body(), key=KEY, port=port)
    ok = s == 200 and b and b["choices"][0]["message"]["content"] == "echo: hello there world"
    check(ok, f"{name}: chat completion (Authorization reached the gateway)", f"{s} {b}")
    rid = h.get("x-request-id", "")
    row = usage_row(rid) if len(rid) == 36 else None
    check(row is not None and row["outcome"] == "ok", f"{name}: chat completion metered", str(row))

    # "echo: w0 … w11" -> 16 events (role, 13 words, finish, [DONE]), 50 ms apart upstream
    s, h, ev, t0 = timed_stream(port)
    datas = [d for _, d in ev]
    chunks = [json.loads(d) for d in datas if d != "[DONE]"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    check(s == 200 and h.get("content-type", "").startswith("text/event-stream")
          and datas and datas[-1] == "[DONE]" and text == "echo: " + " ".join(f"w{i}" for i in range(12)),
          f"{name}: streamed completion complete", f"{s} {text!r}")
    if len(ev) >= 10:
        spread = ev[-1][0] - ev[0][0]
        # arrival in distinct moments: events 50 ms apart upstream must not come in one lump
        gaps = [b[0] - a[0] for a, b in zip(ev, ev[1:])]
        apart = sum(1 for g in gaps if g >= 0.02)
        check(spread >= 0.3 and apart >= len(gaps) // 2,
              f"{name}: SSE events arrive one by one ({len(ev)} events over {spread:.2f} s, "
              f"{apart}/{len(gaps)} gaps >= 20 ms)")
        check(ev[0][0] - t0 < 0.5 * (ev[-1][0] - t0),
              f"{name}: first event arrives early ({ev[0][0] - t0:.3f} s of {ev[-1][0] - t0:.3f} s)")
    else:
        check(False, f"{name}: SSE events arrive one by one", f"only {len(ev)} events")

    # errors, OpenAI-shaped
    s, h, b = jrequest("POST", CHAT, chat_body(), port=port)
    check(s == 401 and is_openai_error(b), f"{name}: no key -> 401 OpenAI error", f"{s} {b}")
    s, h, b = jrequest("POST", CHAT, chat_body("no-such-model"), key=KEY, port=port)
    check(s == 404 and is_openai_error(b) and b["error"]["code"] == "model_not_found",
          f"{name}: unknown model -> 404", f"{s} {b}")
    s, h, b = jrequest("GET", CHAT, key=KEY, port=port)
    check(s == 405 and is_openai_error(b), f"{name}: GET on chat -> 405", f"{s} {b}")
    s, h, b = jrequest("POST", "/v1/nothing", chat_body(), key=KEY, port=port)
    check(s == 404 and is_openai_error(b), f"{name}: unknown API route -> 404 JSON", f"{s} {b}")
    big = json.dumps(chat_body(text="x" * (9 * 1024 * 1024)))
    s, h, b = request("POST", CHAT, big, key=KEY, port=port, timeout=60)
    try:
        b = json.loads(b)
    except ValueError:
        pass
    check(s == 413 and is_openai_error(b), f"{name}: body over 8 MiB -> 413 OpenAI error",
          f"{s} {str(b)[:100]}")
    s, h, b = jrequest("GET", "/api/v2/status", key=KEY, port=port)
    check(s == 200, f"{name}: /api/v2 routed to the gateway", f"{s} {b}")
    s, h, b = jrequest("GET", "/__blocklet__.js?type=json", port=port)
    check(s == 200 and isinstance(b, dict) and b.get("componentMountPoints"),
          f"{name}: AIGNE clients find the hub's mount point (/__blocklet__.js)", f"{s} {str(b)[:100]}")


def parallel_streams(port, name, n=3, all_at_once=True):
    """n slow streams at once run at the same time, not one after the other. (mod_fcgid
    starts a process per request in flight, with spawn delays: there, at least two must
    overlap.)"""
    results = []

    def one():
        results.append(timed_stream(port, words=16))

    t0 = time.monotonic()
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    elapsed = time.monotonic() - t0
    ok = len(results) == n and all(s == 200 and ev and ev[-1][1] == "[DONE]" for s, _, ev, _ in results)
    spans = sorted((ev[0][0], ev[-1][0]) for _, _, ev, _ in results if ev)
    if all_at_once:
        overlap = len(spans) == n and max(a for a, _ in spans) < min(b for _, b in spans)
    else:
        overlap = any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))
    check(ok and overlap, f"{name}: {n} parallel streams served at the same time ({elapsed:.2f} s)",
          str([(round(a - t0, 2), round(b - t0, 2)) for a, b in spans]))


def admin_checks(port):
    admin_dir = os.path.join(HUB_HOME, "libexec", "hub", "admin")
    login = os.path.join(admin_dir, "login.cgi")
    s, h, _ = request("GET", "/admin", port=port)
    check(s == 301 and h.get("location", "").endswith("/admin/"), "proxy: /admin -> /admin/", str(s))
    if not os.access(login, os.X_OK):
        print("# skipped: the admin pages through mod_cgid (admin/login.cgi not installed)", flush=True)
        return
    s, h, b = request("GET", "/admin/login.cgi", port=port)
    page = b.decode("utf-8", "replace")
    check(s == 200 and h.get("content-type", "").startswith("text/html") and "<form" in page.lower(),
          "proxy: login page served by mod_cgid (as www-data, reading hub.conf)", f"{s} {page[:200]!r}")
    csp = h.get("content-security-policy", "")
    check("frame-ancestors" in csp or h.get("x-frame-options"),
          "proxy: login page sends its security headers (CSP / framing)", str(h))
    check(h.get("x-content-type-options") == "nosniff", "proxy: login page sends nosniff", str(h))
    s, h, _ = request("GET", "/admin/", port=port)
    check(s in (200, 302, 303), "proxy: /admin/ runs index.cgi (DirectoryIndex)", str(s))
    if os.path.exists(os.path.join(admin_dir, "static", "hub.css")):
        s, h, _ = request("GET", "/admin/static/hub.css", port=port)
        check(s == 200 and h.get("content-type", "").startswith("text/css"),
              "proxy: stylesheet served as text/css", f"{s} {h.get('content-type')}")


def sso_config_check():
    mod = "/usr/lib/apache2/modules/mod_auth_openidc.so"
    conf = os.path.join(HUB_HOME, "apache", "httpd.conf")
    if not os.path.exists(mod) or not os.path.exists(conf):
        print("# skipped: hub-sso.conf syntax (mod_auth_openidc not installed)", flush=True)
        return
    test = os.path.join(HUB_HOME, "apache", "sso-check.conf")
    with open(conf) as f, open(test, "w") as out:
        out.write(f.read())
        for m in ("authn_core", "authz_user"):  # AuthType, Require valid-user
            out.write(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n")
        out.write(f"LoadModule auth_openidc_module {mod}\n")
        sso = os.path.join(HUB_HOME, "share", "hub", "apache", "hub-sso.conf")
        if not os.path.exists(sso):
            sso = os.path.join(SRC, "deploy", "apache", "hub-sso.conf")
        out.write(f'Include "{sso}"\n')
    p = subprocess.run(["/usr/sbin/apache2", "-t", "-f", test], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "hub-sso.conf (mod_auth_openidc) passes apache2 -t",
          (p.stdout + p.stderr).strip()[-300:])


class MockIdP:
    """A minimal OpenID Connect provider for mod_auth_openidc: discovery, an authorization
    endpoint that signs "sso-carol" in at once, a token endpoint with an HS256 ID token (signed
    with the client secret, so the standard library suffices)."""

    SECRET = "test-client-secret-0123456789abcdef"  # tests/apache/start.sh sso puts it in

    def __init__(self):
        import base64
        import hashlib
        import hmac
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlencode, urlparse
        idp = self
        self.codes = {}
        self.groups = ["hub-admins", "staff"]

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        def id_token(nonce):
            now = int(time.time())
            claims = {"iss": idp.base, "sub": "u-sso-carol", "aud": "hub-admin", "iat": now,
                      "exp": now + 300, "nonce": nonce, "preferred_username": "sso-carol",
                      "email": "carol@example.com", "groups": idp.groups}
            head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
            body = b64(json.dumps(claims).encode())
            sig = hmac.new(idp.SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
            return f"{head}.{body}.{b64(sig)}"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, obj=None, location=None):
                data = json.dumps(obj).encode() if obj is not None else b""
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                u = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                if u.path == "/.well-known/openid-configuration":
                    self.reply(200, {
                        "issuer": idp.base, "authorization_endpoint": idp.base + "/authorize",
                        "token_endpoint": idp.base + "/token", "jwks_uri": idp.base + "/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["HS256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                                  "client_secret_post"]})
                elif u.path == "/jwks":
                    self.reply(200, {"keys": []})
                elif u.path == "/authorize":
                    code = b64(os.urandom(12))
                    idp.codes[code] = q.get("nonce", "")
                    self.reply(302, location=q["redirect_uri"] + "?" + urlencode(
                        {"code": code, "state": q.get("state", "")}))
                else:
                    self.reply(404, {})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(n).decode()).items()}
                nonce = idp.codes.pop(form.get("code", ""), None)
                if urlparse(self.path).path != "/token" or nonce is None:
                    self.reply(400, {"error": "invalid_grant"})
                    return
                self.reply(200, {"access_token": "at-" + b64(os.urandom(9)), "token_type": "Bearer",
                                 "expires_in": 300, "id_token": id_token(nonce)})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def get(port, url, cookies, headers=None):
    """GET on 127.0.0.1:port with a cookie jar (dict); returns (status, headers, body)."""
    from urllib.parse import urlparse
    u = urlparse(url)
    conn = http.client.HTTPConnection("127.0.0.1", u.port or port, timeout=30)
    h = {"Accept": "text/html,application/xhtml+xml"}  # a browser (mod_auth_openidc
    h.update(headers or {})                               # answers 401 to other clients)
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=h)
    r = conn.getresponse()
    body = r.read()
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            value = rest.split(";", 1)[0]
            if value == "" or "max-age=0" in v.lower() or "expires=thu, 01 jan 1970" in v.lower():
                cookies.pop(name, None)
            else:
                cookies[name] = value
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def sso_checks():
    """deploy/apache/hub-sso.conf end to end: mod_auth_openidc signs the browser in at a test
    provider; the program under /admin/ then gets REMOTE_USER = preferred_username and
    OIDC_CLAIM_groups = the groups, joined with ","; a client's header of that name does
    not set the variable."""
    if not os.path.exists("/usr/lib/apache2/modules/mod_auth_openidc.so"):
        print("# skipped: hub-sso.conf end to end (mod_auth_openidc not installed)", flush=True)
        return
    idp = MockIdP()
    env = dict(os.environ, HUB_OIDC_IDP=idp.base)
    env.pop("APACHE_SSO_PORT", None)
    start = os.path.join(SRC, "tests", "apache", "start.sh")
    stop = os.path.join(SRC, "tests", "apache", "stop.sh")
    p = subprocess.run(["bash", start, "sso"], env=env, capture_output=True, text=True, timeout=300)
    if not check(p.returncode == 0, "sso: Apache with hub-sso.conf starts", (p.stdout + p.stderr)[-400:]):
        return
    try:
        port = int(open(os.path.join(HUB_HOME, "apache-sso", "port")).read())
        jar = {}
        url = f"http://127.0.0.1:{port}/admin/probe.cgi"
        s, h, _ = get(port, url, jar)
        loc = h.get("location", "")
        check(s == 302 and loc.startswith(idp.base + "/authorize"),
              "sso: /admin/ without a session -> redirect to the identity provider", f"{s} {loc}")
        s, h, _ = get(port, loc, jar) if loc.startswith(idp.base) else (0, {}, b"")
        back = h.get("location", "")
        s, h, b = get(port, back, jar) if back else (0, {}, b"")
        check(s == 302 and h.get("location", "").endswith("/admin/probe.cgi"),
              "sso: the callback signs in and returns to the page", f"{s} {h.get('location')} {b[:200]!r}")
        s, h, b = get(port, url, jar, headers={"OIDC_CLAIM_groups": "forged-admins",
                                               "OIDC-CLAIM-groups": "forged-admins"})
        seen = dict(line.split("=", 1) for line in b.decode().splitlines() if "=" in line)
        check(s == 200 and seen.get("REMOTE_USER") == "sso-carol",
              "sso: the pages get REMOTE_USER = preferred_username", f"{s} {seen}")
        check(seen.get("OIDC_CLAIM_groups") == "hub-admins,staff",
              "sso: the pages get OIDC_CLAIM_groups = the groups claim, joined with ','", str(seen))
        check("forged" not in seen.get("OIDC_CLAIM_groups", "")
              and "forged" not in seen.get("HTTP_OIDC_CLAIM_GROUPS", ""),
              "sso: a client's header cannot set OIDC_CLAIM_groups", str(seen))
        if os.access(os.path.join(HUB_HOME, "libexec", "hub", "admin", "index.cgi"), os.X_OK):
            # the real pages, admin_auth = webserver: the user is provisioned with the role
            # that role_map gives the groups (hub-admins=admin)
            s, h, b = get(port, f"http://127.0.0.1:{port}/admin/", jar)
            page = b.decode("utf-8", "replace")
            check(s == 200 and "sso-carol" in page and ">admin<" in page,
                  "sso: the start page signs sso-carol in as admin (webserver mode, role_map)",
                  f"{s} {page[:300]!r}")
            rows = sql("SELECT role, auth_source FROM users WHERE name = 'sso-carol'")
            check(rows == [["admin", "webserver"]], "sso: user provisioned from the web server's identity",
                  str(rows))
        else:
            print("# skipped: the admin pages behind mod_auth_openidc (not installed)", flush=True)
        s, h, _ = get(port, f"http://127.0.0.1:{port}/healthz", {})
        check(s == 200, "sso: the API stays outside the sign-in", str(s))
    finally:
        subprocess.run(["bash", stop, "sso"], env=env, capture_output=True, timeout=120)
        idp.server.shutdown()


def gateway_restart(port):
    """The gateway is down: Apache answers 503 with the static JSON; it is back: Apache
    reconnects with the next request (retry=0), through the socket the gateway re-created
    (the setgid run folder keeps the socket's group)."""
    pidfile = os.path.join(HUB_HOME, "run", "gateway.pid")
    pid = int(open(pidfile).read())
    os.kill(pid, signal.SIGTERM)
    end = time.time() + 15
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    s, h, b = jrequest("POST", CHAT, chat_body(), key=KEY, port=port)
    check(s == 503 and is_openai_error(b) and h.get("content-type", "").startswith("application/json"),
          "proxy: gateway down -> 503 OpenAI-shaped JSON from Apache", f"{s} {b}")
    qs = os.path.join(SRC, "deploy", "quickstart.sh")
    p = subprocess.run(["bash", qs], capture_output=True, text=True, timeout=600)
    s, h, b = jrequest("POST", CHAT, chat_body(), key=KEY, port=port)
    check(s == 200, "proxy: gateway restarted -> the next request through Apache works",
          f"{s} {b} / quickstart: {p.returncode} {p.stderr[-300:]}")


PROXY = port_of("APACHE_PORT", "apache")
FCGID = port_of("APACHE_FCGID_PORT", "apache-fcgid")
if check(PROXY is not None and answers(PROXY),
         "Apache (mod_proxy_fcgi) instance answering (tests/apache/start.sh)", str(PROXY)):
    api_checks(PROXY, "proxy")
    parallel_streams(PROXY, "proxy")
    admin_checks(PROXY)
    sso_config_check()
    sso_checks()
if FCGID is not None and check(answers(FCGID), "Apache (mod_fcgid) instance answering", str(FCGID)):
    api_checks(FCGID, "fcgid")
    parallel_streams(FCGID, "fcgid", all_at_once=False)
    # chunked upload over the limit: Apache stops reading it just past 8 MiB, the gateway
    # answers 413 (just over, so that the rest fits the socket buffers, whatever the timing)
    conn = http.client.HTTPConnection("127.0.0.1", FCGID, timeout=60)
    big = json.dumps(chat_body(text="x" * (8 * 1024 * 1024 + 65536))).encode()
    conn.request("POST", CHAT, body=iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                 headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
                 encode_chunked=True)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    try:
        data = json.loads(data)
    except ValueError:
        pass
    check(r.status == 413 and is_openai_error(data), "fcgid: chunked body over 8 MiB -> 413 OpenAI error",
          f"{r.status} {str(data)[:100]}")
elif FCGID is None:
    print("# skipped: the mod_fcgid variant (no instance: tests/apache/start.sh fcgid)", flush=True)
if PROXY is not None and answers(PROXY):
    gateway_restart(PROXY)
done()
