"""What the mock provider's APIs share: its settings, the record of what it received (STATE), the
fixed arguments of every tool call, and small helpers on request bodies. Part of
tests/mock_provider.py (see there for the endpoints and the magic model names and credentials)."""

import collections
import hashlib
import json
import re
import struct
import threading

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


def pieces(text):
    """Split a reply into stream pieces: one per word, each keeping the
    whitespace that follows it, so that "".join(pieces(t)) == t (for text
    that does not start with whitespace)."""
    out = re.findall(r"\S+\s*", text)
    return out if out else ([text] if text else [])
