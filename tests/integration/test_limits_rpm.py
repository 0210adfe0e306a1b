"""Rate limits across gateway processes, part 2 of the limit tests (after test_limits.py):

* an RPM limit honoured across two gateway processes behind two web servers (one MariaDB);
  429 with Retry-After and x-ratelimit-* headers; the headers on admitted answers too;
* TPM (estimate on admission, actual tokens after), a request larger than the TPM limit.
Run after fixtures.py (tests/run.sh).
"""
import concurrent.futures
import os
import re
import signal
import socket
import subprocess
import threading

from hubtest import HUB_CONF, HUB_HOME, HUB_PORT, check, done, hubctl, one, request, wait_for
from limitstest import TAG, chat, early_in_minute, need_fixtures, new_key, settle_snapshot, uid


# ---- RPM across two gateway processes -----------------------------------------------------
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class SecondHub:
    """A second hub-gateway on its own socket and a second lighttpd in front of it."""

    def __init__(self):
        self.port = free_port()
        self.sock = os.path.join(HUB_HOME, "run", f"gw2-{TAG}.sock")
        self.conf = os.path.join(HUB_HOME, "etc", f"lighttpd2-{TAG}.conf")
        self.lpid = os.path.join(HUB_HOME, "run", f"lighttpd2-{TAG}.pid")
        self.gw = None

    def start(self):
        log = open(os.path.join(HUB_HOME, "log", f"gateway2-{TAG}.log"), "ab")
        self.gw = subprocess.Popen([os.path.join(HUB_HOME, "sbin", "hub-gateway"), "--config",
                                    HUB_CONF, "--listen", self.sock, "--threads", "4"],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if not wait_for(lambda: os.path.exists(self.sock), 10):
            return False
        text = open(os.path.join(HUB_HOME, "etc", "lighttpd.conf")).read()
        text = re.sub(r'var\.hub_socket = ".*"', f'var.hub_socket = "{self.sock}"', text)
        text = re.sub(r"server\.port = \d+", f"server.port = {self.port}", text)
        text = re.sub(r'server\.pid-file = ".*"', f'server.pid-file = "{self.lpid}"', text)
        text = re.sub(r'server\.errorlog = ".*"',
                      f'server.errorlog = "{HUB_HOME}/log/lighttpd2-error.log"', text)
        text = re.sub(r'server\.breakagelog = ".*"',
                      f'server.breakagelog = "{HUB_HOME}/log/admin-pages2.log"', text)
        with open(self.conf, "w") as f:
            f.write(text)
        if subprocess.run(["lighttpd", "-f", self.conf]).returncode != 0:
            return False
        return wait_for(lambda: self.healthy(), 10)

    def healthy(self):
        try:
            return request("GET", "/healthz", port=self.port, timeout=2)[0] == 200
        except OSError:
            return False

    def stop(self):
        if os.path.exists(self.lpid):
            try:
                os.kill(int(open(self.lpid).read().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass
        if self.gw is not None:
            self.gw.send_signal(signal.SIGTERM)
            try:
                self.gw.wait(15)
            except subprocess.TimeoutExpired:
                self.gw.kill()
        for p in (self.conf,):
            if os.path.exists(p):
                os.unlink(p)


def test_rpm_two_gateways(second):
    user = f"lim-r-{TAG}"
    hubctl("user", "add", user)
    kname = f"lim-rpm-{TAG}"
    key = new_key(kname, user)
    rpm = 7
    hubctl("limit", "set", "key", kname, "--rpm", str(rpm))
    settle_snapshot()
    early_in_minute(30)
    ports = [HUB_PORT, second.port]
    answers = []
    lock = threading.Lock()

    def one_call(i):
        s, h, o = chat(key, port=ports[i % 2], words=3, max_tokens=8)
        with lock:
            answers.append((i % 2, s, h, o))

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as ex:
        list(ex.map(one_call, range(24)))
    admitted = [a for a in answers if a[1] == 200]
    limited = [a for a in answers if a[1] == 429]
    via = {a[0] for a in admitted} | {a[0] for a in limited}
    print(f"# rpm {rpm} across two gateways: {len(admitted)} admitted, {len(limited)} refused "
          f"(gateway 1: {sum(1 for a in admitted if a[0] == 0)} admitted, gateway 2: "
          f"{sum(1 for a in admitted if a[0] == 1)})")
    check(len(admitted) == rpm and len(limited) == 24 - rpm and via == {0, 1},
          f"24 requests alternately through two gateways: exactly rpm={rpm} admitted in the minute",
          f"admitted={len(admitted)} limited={len(limited)}")
    h = limited[0][2] if limited else {}
    ra = int(h.get("retry-after", "0") or 0)
    check(1 <= ra <= 60 and h.get("x-ratelimit-limit-requests") == str(rpm)
          and h.get("x-ratelimit-remaining-requests") == "0"
          and h.get("x-ratelimit-reset-requests", "").endswith("s"),
          "429 has Retry-After (s to the next minute) and x-ratelimit-limit/remaining/reset-requests",
          str(h))
    e = limited[0][3]["error"] if limited else {}
    check(e.get("type") == "rate_limit_error" and kname in e.get("message", "")
          and "requests per minute" in e.get("message", ""),
          "429 body: rate_limit_error naming the key and its limit", str(e))
    rem = sorted(int(a[2].get("x-ratelimit-remaining-requests", -1)) for a in admitted)
    check(rem == list(range(rpm)),
          "admitted answers carry x-ratelimit-remaining-requests counting down to 0", str(rem))
    hubctl("limit", "clear", "key", kname)
    # one by one, alternately: the second gateway continues the first one's count
    kname2 = f"lim-rpm2-{TAG}"
    key2 = new_key(kname2, user)
    hubctl("limit", "set", "key", kname2, "--rpm", "5")
    settle_snapshot()
    early_in_minute(20)
    seq = []
    for i in range(10):
        s, h, _ = chat(key2, port=ports[i % 2], words=3, max_tokens=8)
        seq.append((s, h.get("x-ratelimit-remaining-requests")))
    check([x[0] for x in seq] == [200] * 5 + [429] * 5
          and [x[1] for x in seq[:5]] == ["4", "3", "2", "1", "0"],
          "one by one through gateways 1, 2, 1, 2, ...: remaining 4, 3, 2, 1, 0 across both, "
          "then 429 on both", str(seq))
    hubctl("limit", "clear", "key", kname2)


# ---- TPM -------------------------------------------------------------------------------------
def test_tpm():
    user = f"lim-t-{TAG}"
    hubctl("user", "add", user)
    kname = f"lim-tpm-{TAG}"
    key = new_key(kname, user)
    tpm = 400
    hubctl("limit", "set", "key", kname, "--tpm", str(tpm))
    settle_snapshot()
    early_in_minute(25)
    s, h, o = chat(key, max_tokens=2000)
    check(s == 429 and "retry-after" not in h and "more than the limit" in o["error"]["message"]
          and h.get("x-ratelimit-limit-tokens") == str(tpm),
          "a request estimated above the TPM limit: 429 saying so, without Retry-After",
          f"{s} {o}")
    statuses, actual = [], 0
    for _ in range(12):
        s, h, o = chat(key, words=20, max_tokens=100)
        statuses.append(s)
        if s == 200:
            actual += o["usage"]["total_tokens"]
        else:
            break
    check(statuses[-1] == 429 and statuses.count(200) >= 2 and actual <= tpm,
          f"TPM: {statuses.count(200)} admitted, actual tokens {actual} <= {tpm}, then 429",
          str(statuses))
    check("retry-after" in h and h.get("x-ratelimit-remaining-tokens") is not None
          and "tokens per minute" in o["error"]["message"],
          "the TPM 429 has Retry-After, x-ratelimit-remaining-tokens and says tokens per minute",
          str(h))
    window = one(f"SELECT tokens FROM rate_usage WHERE scope_type = 'key' AND scope_id = "
                 f"{uid('api_keys', kname)} ORDER BY window_start DESC LIMIT 1")
    check(window is not None and int(window) == actual,
          "the window counts the actual tokens after settlement (estimate replaced)",
          f"window={window} actual={actual}")
    hubctl("limit", "clear", "key", kname)


def main():
    need_fixtures()
    second = SecondHub()
    try:
        if check(second.start(), "a second gateway process and web server start"):
            test_rpm_two_gateways(second)
    finally:
        second.stop()
    test_tpm()
    done()


main()
