"""The mock provider's self-test: magic credentials (ratelimited, invalidkey, broken) in each
API's error shape; they beat the magic model names."""


from .common import ANT, GMODEL, SYS_MSGS, ant_err, check, gem_err, hreq


def run_credentials(base, port):
    chat = {"model": "error-500", "messages": SYS_MSGS}
    ant = {"model": "error-500", "max_tokens": 5, "messages": SYS_MSGS[1:]}
    gem = {"contents": [{"parts": [{"text": "hi"}]}]}
    GP = "/v1beta/models/error-500:generateContent"

    st, hd, j = hreq(port, "POST", "/v1/chat/completions", chat,
                     {"Authorization": "Bearer sk-ratelimited-1"})
    check("cred ratelimited openai (beats model)", st == 429 and
          hd.get("retry-after") == "2" and
          j["error"]["code"] == "rate_limit_exceeded", (hd, j))
    st, hd, j = hreq(port, "POST", "/v1/chat/completions", chat,
                     {"api-key": "az-ratelimited"})
    check("cred ratelimited via api-key", st == 429 and
          hd.get("retry-after") == "2", j)
    st, _, j = hreq(port, "POST", "/v1/chat/completions", chat,
                    {"Authorization": "Bearer sk-invalidkey"})
    check("cred invalidkey openai", st == 401 and
          j["error"]["code"] == "invalid_api_key", j)
    st, _, j = hreq(port, "POST", "/v1/embeddings",
                    {"model": "e", "input": "x"},
                    {"Authorization": "Bearer sk-broken"})
    check("cred broken openai", st == 500 and
          j["error"]["type"] == "server_error", j)

    st, hd, j = hreq(port, "POST", "/v1/messages", ant,
                     dict(ANT, **{"x-api-key": "ratelimited-a"}))
    check("cred ratelimited anthropic", st == 429 and
          hd.get("retry-after") == "2" and ant_err(j, "rate_limit_error"),
          (hd, j))
    st, _, j = hreq(port, "POST", "/v1/messages", ant,
                    dict(ANT, **{"x-api-key": "invalidkey-a"}))
    check("cred invalidkey anthropic", st == 401 and
          ant_err(j, "authentication_error"), j)
    st, _, j = hreq(port, "POST", "/v1/messages", dict(ant, model="c"),
                    dict(ANT, **{"x-api-key": "broken-a"}))
    check("cred broken anthropic", st == 500 and ant_err(j, "api_error"), j)

    st, hd, j = hreq(port, "POST", GP, gem, {"x-goog-api-key": "ratelimited"})
    check("cred ratelimited gemini", st == 429 and
          hd.get("retry-after") == "2" and
          gem_err(j, 429, "RESOURCE_EXHAUSTED"), (hd, j))
    st, _, j = hreq(port, "POST", GP, gem, {"x-goog-api-key": "invalidkey"})
    check("cred invalidkey gemini -> 403", st == 403 and
          gem_err(j, 403, "PERMISSION_DENIED"), j)
    st, _, j = hreq(port, "POST", GMODEL + ":generateContent", gem,
                    {"x-goog-api-key": "broken"})
    check("cred broken gemini", st == 500 and gem_err(j, 500, "INTERNAL"), j)
