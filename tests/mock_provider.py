#!/usr/bin/env python3
"""Mock of the OpenAI, Azure OpenAI, Anthropic and Gemini HTTP APIs used by
hub's integration tests.

Python 3.11 standard library only.

Usage:
    python3 tests/mock_provider.py --port PORT [--host 127.0.0.1] [--pidfile F]

Prints "mock provider listening on PORT" (the real port, also when --port 0)
to stdout once the socket is bound and about to serve.

Endpoints (matched on the path suffix, so any prefix such as /openai/v1/...
works; the query string is ignored unless noted):
  OpenAI (auth: "Authorization: Bearer K" or "api-key: K"):
  POST .../v1/chat/completions     deterministic "echo: <last user text>",
                                   tool calls ("use tool"), tool results
  POST .../v1/embeddings           8 deterministic floats per input
  POST .../v1/images/generations   1x1 PNG (b64_json) or URL
  GET  .../v1/models               small fixed model list
  GET  .../v1/models/<id>          single model object
  POST .../openai/deployments/<D>/chat/completions?api-version=...  (Azure;
                                   also .../embeddings, .../images/...):
                                   as above, model defaults to <D>
  GET  /img/<i>.png                the 1x1 PNG (no auth needed)
  Anthropic (auth: "x-api-key: K"):
  POST .../v1/messages             Messages API, plain and SSE
  Gemini (auth: "x-goog-api-key: K"; a "key=" query parameter -> 400):
  POST .../models/<M>:generateContent
  POST .../models/<M>:streamGenerateContent?alt=sse   (JSON array w/o alt=sse)
  POST .../models/<M>:embedContent | :batchEmbedContents
Control API (never recorded, no auth needed):
  GET  /__mock/requests            JSON array of recorded requests
  POST /__mock/reset               clear the record and the stats (seq
                                   restarts at 1)
  GET  /__mock/health              {"ok": true}
  GET  /__mock/stats               {"connections", "requests", "accepted"}

Magic model-name substrings (checked on the received "model"; for Gemini the
model in the path; for Azure the deployment when the body has no model):
  error-401, error-500, error-429, hang, cut, nousage, slowstream
  (all APIs, each in its own error shape), error-403 (Anthropic, Gemini),
  overloaded (Anthropic 529, Gemini 503), streamerror (Anthropic, Gemini).
Magic credential substrings (any of Authorization bearer / x-api-key /
x-goog-api-key / api-key; they take precedence over the model names):
  ratelimited -> 429 + Retry-After: 2, invalidkey -> 401 (Gemini 403),
  broken -> 500, slowkey -> 3 s delay then a normal answer.
See the report / the self-test for the exact request -> reply contract.

The code is in tests/mock/: common.py (settings, the record, shared helpers),
openai.py (OpenAI and Azure), anthropic.py, gemini.py, server.py (the HTTP
handler, the control API, the command line).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mock.server import main  # noqa: E402 - after the path is set

if __name__ == "__main__":
    sys.exit(main())
