"""The mock's Anthropic Messages API: plain and SSE answers, tool_use and tool_result,
credential magic and magic model names in Anthropic's error shapes. A mixin of the request
handler (tests/mock/server.py)."""

import json
import time

from .common import (CRED_RETRY_AFTER, HANG_SECONDS, SLOWKEY_SECONDS, SLOWSTREAM_DELAY, STATE,
                     TOOL_ARGS, TOOL_ARGS_JSON, TOOL_ARGS_JSON_FRAGS, TOOL_INTRO, content_text,
                     pieces, words)


def anthropic_error(etype, message):
    return {"type": "error", "error": {"type": etype, "message": message}}


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


class AnthropicRoutes:
    """The Anthropic methods of the request handler (tests/mock/server.py)."""

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
