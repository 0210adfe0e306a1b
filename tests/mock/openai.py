"""The mock's OpenAI and Azure OpenAI API: chat completions (plain, SSE, tool calls), embeddings,
images, models; authentication, credential magic and magic model names. A mixin of the request
handler (tests/mock/server.py)."""

import base64
import json
import re
import struct
import time
import urllib.parse
import zlib

from .common import (CRED_RETRY_AFTER, HANG_SECONDS, SLOWKEY_SECONDS, SLOWSTREAM_DELAY, STATE,
                     TOOL_ARGS_OPENAI, TOOL_ARGS_OPENAI_FRAGS, BadRequest, content_text,
                     fake_embedding, openai_error, words)

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


class OpenAIRoutes:
    """The OpenAI methods of the request handler (tests/mock/server.py)."""

    def _openai(self, rec, method, path, raw, body, parsed_ok):
        """The OpenAI (and Azure) endpoints: route, authenticate, validate, answer."""
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
