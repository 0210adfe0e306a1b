"""The mock's Gemini API: generateContent, streamGenerateContent (SSE or a JSON array),
embedContent and batchEmbedContents; part validation, functionCall / functionResponse,
credential magic and magic model names in Gemini's error shapes. A mixin of the request
handler (tests/mock/server.py)."""

import base64
import json
import re
import time
import urllib.parse

from .common import (CRED_RETRY_AFTER, HANG_SECONDS, SLOWKEY_SECONDS, SLOWSTREAM_DELAY, STATE,
                     TOOL_ARGS, TOOL_ARGS_JSON, fake_embedding, pieces, words)

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


def gemini_error(code, message):
    return {"error": {"code": code, "message": message,
                      "status": GEMINI_STATUS.get(code, "UNKNOWN")}}


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


class GeminiRoutes:
    """The Gemini methods of the request handler (tests/mock/server.py)."""

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
