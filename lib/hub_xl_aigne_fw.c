/*
 * hub_xl_aigne_fw.c — AIGNE framework clients (POST /api/v2/chat) ⇄ OpenAI chat.
 *
 * What @aigne/aigne-hub's AIGNEHubChatModel sends through @aigne/transport's BaseClient, and
 * what it reads back (shaped after those clients and @aigne/core's ChatModel schemas):
 *   request  {input: {messages: [{role: system|user|agent|tool, content: string | [{type:
 *            "text", text} | {type: "url", url, mimeType?} | {type: "file", data (base64),
 *            mimeType}], toolCalls?: [{id, type: "function", function: {name, arguments:
 *            object}}], toolCallId?, name?}], tools?, toolChoice?: auto|none|required|tool,
 *            responseFormat?: {type: "text"} | {type: "json_schema", jsonSchema: {name,
 *            description?, schema, strict?}}, modelOptions: {model, temperature, topP,
 *            frequencyPenalty, presencePenalty, parallelToolCalls, reasoningEffort, maxTokens}},
 *            agent: "$CHAT_MODEL", options?: {streaming}}; unknown fields are ignored.
 *   answer   {text? | json?, toolCalls? (arguments as objects), usage: {inputTokens,
 *            outputTokens}, model}.
 *   stream   SSE "data: {delta: …}" events that the client merges: {json: {model}} first,
 *            {text: {text: piece}} per piece of text, then {json: {json | toolCalls}} whole
 *            and {json: {usage}}; an error mid-stream is "event: error" with {message}.
 *   errors   {"error": {"message", "type"}} with the HTTP status.
 * A JSON answer (responseFormat json_schema) is returned parsed under "json", as the
 * framework's own models do, not as text. json_object_* results are new objects owned by the
 * caller; inputs are only read.
 */
#include "hub_xlate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char **param;
    char *err;
    size_t errsz;
} vctx;

static hub_err bad(vctx *v, const char *param, const char *msg)
{
    snprintf(v->err, v->errsz, "%s", msg);
    if (v->param != NULL)
        *v->param = param;
    return HUB_EINVAL;
}

static bool is(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

/* o[key] = v (o takes v) when v is not NULL. */
static void set(json_object *o, const char *key, json_object *v)
{
    if (v != NULL)
        json_object_object_add(o, key, v);
}

/* A copy of o[key] (any JSON type) or NULL. */
static json_object *dup(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return NULL;
    json_object *c = NULL;
    return json_object_deep_copy(v, &c, NULL) == 0 ? c : NULL;
}

/* ---- request ---- */

/* One content part → an OpenAI part (new), or an error. */
static hub_err conv_part(json_object *p, json_object **out, vctx *v)
{
    const char *type = hub_xl_str(p, "type"), *mime = hub_xl_str(p, "mimeType");
    bool image = mime == NULL || strncmp(mime, "image/", 6) == 0;
    *out = NULL;
    if (is(type, "text") && hub_xl_str(p, "text") != NULL) {
        *out = json_object_new_object();
        set(*out, "type", json_object_new_string("text"));
        set(*out, "text", json_object_new_string(hub_xl_str(p, "text")));
        return HUB_OK;
    }
    if ((is(type, "url") && hub_xl_str(p, "url") != NULL) ||
        (is(type, "file") && hub_xl_str(p, "data") != NULL)) {
        if (!image)
            return bad(v, "messages", "Only images can be sent as url or file parts.");
        hub_buf u;
        hub_buf_init(&u, 0);
        bool ok = is(type, "url")
                      ? hub_buf_puts(&u, hub_xl_str(p, "url"))
                      : hub_buf_printf(&u, "data:%s;base64,%s", mime ? mime : "image/png",
                                       hub_xl_str(p, "data"));
        json_object *iu = json_object_new_object();
        set(iu, "url", json_object_new_string(ok ? u.data : ""));
        hub_buf_free(&u);
        *out = json_object_new_object();
        set(*out, "type", json_object_new_string("image_url"));
        set(*out, "image_url", iu);
        return ok ? HUB_OK : HUB_ENOMEM;
    }
    if (is(type, "local"))
        return bad(v, "messages", "Local files cannot be sent to a remote hub: use url or file.");
    return bad(v, "messages", "A content part needs type text (text), url (url) or file (data).");
}

/* An AIGNE tool call → an OpenAI one (arguments as a JSON string) (new). */
static hub_err conv_call(json_object *tc, json_object **out, vctx *v)
{
    json_object *fn = hub_xl_get(tc, "function", json_type_object);
    json_object *args = hub_xl_get(fn, "arguments", json_type_object);
    const char *id = hub_xl_str(tc, "id"), *name = hub_xl_str(fn, "name");
    *out = NULL;
    if (id == NULL || name == NULL)
        return bad(v, "messages", "A tool call needs id and function.name.");
    json_object *f = json_object_new_object();
    set(f, "name", json_object_new_string(name));
    set(f, "arguments",
        json_object_new_string(
            args != NULL ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "{}"));
    *out = json_object_new_object();
    set(*out, "id", json_object_new_string(id));
    set(*out, "type", json_object_new_string("function"));
    set(*out, "function", f);
    return HUB_OK;
}

static hub_err conv_message(json_object *m, json_object *msgs, vctx *v)
{
    const char *role = hub_xl_str(m, "role");
    const char *oai = is(role, "agent")    ? "assistant"
                      : is(role, "system") ? "system"
                      : is(role, "user")   ? "user"
                      : is(role, "tool")   ? "tool"
                                           : NULL;
    json_object *content = NULL, *calls = hub_xl_get(m, "toolCalls", json_type_array);
    hub_err rc = HUB_OK;
    if (oai == NULL)
        return bad(v, "messages", "A message role must be system, user, agent or tool.");
    json_object *o = json_object_new_object();
    json_object_array_add(msgs, o);
    set(o, "role", json_object_new_string(oai));
    json_object_object_get_ex(m, "content", &content);
    if (content != NULL && json_object_is_type(content, json_type_string)) {
        set(o, "content", json_object_new_string(json_object_get_string(content)));
    } else if (content != NULL && json_object_is_type(content, json_type_array)) {
        json_object *parts = json_object_new_array();
        set(o, "content", parts);
        for (size_t i = 0; rc == HUB_OK && i < json_object_array_length(content); i++) {
            json_object *p = NULL;
            rc = conv_part(json_object_array_get_idx(content, i), &p, v);
            if (p != NULL)
                json_object_array_add(parts, p);
        }
    } else if (content != NULL && !json_object_is_type(content, json_type_null)) {
        return bad(v, "messages", "A message content must be a string or a list of parts.");
    } else {
        json_object_object_add(o, "content", calls != NULL ? NULL : json_object_new_string(""));
    }
    if (rc == HUB_OK && calls != NULL && is(oai, "assistant")) {
        json_object *arr = json_object_new_array();
        set(o, "tool_calls", arr);
        for (size_t i = 0; rc == HUB_OK && i < json_object_array_length(calls); i++) {
            json_object *c = NULL;
            rc = conv_call(json_object_array_get_idx(calls, i), &c, v);
            if (c != NULL)
                json_object_array_add(arr, c);
        }
    }
    if (rc == HUB_OK && is(oai, "tool")) {
        const char *id = hub_xl_str(m, "toolCallId");
        if (id == NULL)
            return bad(v, "messages", "A tool message needs toolCallId.");
        set(o, "tool_call_id", json_object_new_string(id));
    }
    if (rc == HUB_OK && hub_xl_str(m, "name") != NULL && !is(oai, "tool"))
        set(o, "name", json_object_new_string(hub_xl_str(m, "name")));
    return rc;
}

static hub_err conv_tools(json_object *in, json_object *o, vctx *v)
{
    json_object *tools = hub_xl_get(in, "tools", json_type_array);
    json_object *choice = NULL;
    if (tools != NULL) {
        json_object *arr = json_object_new_array();
        set(o, "tools", arr);
        for (size_t i = 0; i < json_object_array_length(tools); i++) {
            json_object *fn =
                hub_xl_get(json_object_array_get_idx(tools, i), "function", json_type_object);
            if (hub_xl_str(fn, "name") == NULL)
                return bad(v, "tools", "A tool needs function.name.");
            json_object *f = json_object_new_object(), *t = json_object_new_object();
            set(f, "name", json_object_new_string(hub_xl_str(fn, "name")));
            set(f, "description", dup(fn, "description"));
            set(f, "parameters", dup(fn, "parameters"));
            set(t, "type", json_object_new_string("function"));
            set(t, "function", f);
            json_object_array_add(arr, t);
        }
    }
    if (!json_object_object_get_ex(in, "toolChoice", &choice) || choice == NULL)
        return HUB_OK;
    const char *s =
        json_object_is_type(choice, json_type_string) ? json_object_get_string(choice) : NULL;
    const char *name = hub_xl_str(hub_xl_get(choice, "function", json_type_object), "name");
    if (is(s, "auto") || is(s, "none") || is(s, "required")) {
        set(o, "tool_choice", json_object_new_string(s));
    } else if (name != NULL) {
        json_object *f = json_object_new_object(), *t = json_object_new_object();
        set(f, "name", json_object_new_string(name));
        set(t, "type", json_object_new_string("function"));
        set(t, "function", f);
        set(o, "tool_choice", t);
    } else {
        return bad(v, "toolChoice", "toolChoice must be auto, none, required or a tool.");
    }
    return HUB_OK;
}

static hub_err conv_format(json_object *in, json_object *o, vctx *v)
{
    json_object *rf = hub_xl_get(in, "responseFormat", json_type_object);
    const char *type = hub_xl_str(rf, "type");
    if (rf == NULL || is(type, "text"))
        return HUB_OK;
    json_object *js = hub_xl_get(rf, "jsonSchema", json_type_object);
    if (!is(type, "json_schema") || hub_xl_str(js, "name") == NULL ||
        hub_xl_get(js, "schema", json_type_object) == NULL)
        return bad(v, "responseFormat",
                   "responseFormat must be {type: text} or {type: json_schema, jsonSchema: "
                   "{name, schema}}.");
    json_object *s = json_object_new_object(), *f = json_object_new_object();
    set(s, "name", dup(js, "name"));
    set(s, "description", dup(js, "description"));
    set(s, "schema", dup(js, "schema"));
    set(s, "strict", dup(js, "strict"));
    set(f, "type", json_object_new_string("json_schema"));
    set(f, "json_schema", s);
    set(o, "response_format", f);
    return HUB_OK;
}

/* modelOptions → OpenAI fields (values are checked by the OpenAI validation that follows). */
static void conv_options(json_object *opts, json_object *o)
{
    static const char *const MAP[][2] = {
        {"temperature", "temperature"},
        {"topP", "top_p"},
        {"frequencyPenalty", "frequency_penalty"},
        {"presencePenalty", "presence_penalty"},
        {"parallelToolCalls", "parallel_tool_calls"},
        {"maxTokens", "max_tokens"},
    };
    for (size_t i = 0; i < sizeof(MAP) / sizeof(MAP[0]); i++)
        set(o, MAP[i][1], dup(opts, MAP[i][0]));
    json_object *effort = hub_xl_get(opts, "reasoningEffort", json_type_string);
    if (effort != NULL)
        set(o, "reasoning_effort", json_object_new_string(json_object_get_string(effort)));
}

hub_err hub_xl_in_aigne_fw_request(json_object *in, json_object **out, bool *stream,
                                   const char **param, char *err, size_t errsz)
{
    vctx v = {param, err, errsz};
    json_object *input = hub_xl_get(in, "input", json_type_object);
    json_object *opts = hub_xl_get(input, "modelOptions", json_type_object);
    json_object *msgs = hub_xl_get(input, "messages", json_type_array);
    json_object *streaming =
        hub_xl_get(hub_xl_get(in, "options", json_type_object), "streaming", json_type_boolean);
    const char *model = hub_xl_str(opts, "model");
    hub_err rc = HUB_EINVAL;
    *out = NULL;
    *stream = streaming != NULL && json_object_get_boolean(streaming);
    if (input == NULL)
        return bad(&v, "input", "The body needs an input object (AIGNE framework chat).");
    if (model == NULL || model[0] == '\0')
        return bad(&v, "model", "input.modelOptions.model is required.");
    if (msgs == NULL || json_object_array_length(msgs) == 0)
        return bad(&v, "messages", "input.messages must be a non-empty list.");
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    set(o, "model", json_object_new_string(model));
    set(o, "messages", arr);
    rc = HUB_OK;
    for (size_t i = 0; rc == HUB_OK && i < json_object_array_length(msgs); i++)
        rc = conv_message(json_object_array_get_idx(msgs, i), arr, &v);
    if (rc == HUB_OK)
        rc = conv_tools(input, o, &v);
    if (rc == HUB_OK)
        rc = conv_format(input, o, &v);
    if (rc == HUB_OK) {
        conv_options(opts, o);
        if (*stream) {
            json_object *so = json_object_new_object();
            set(so, "include_usage", json_object_new_boolean(1));
            set(o, "stream", json_object_new_boolean(1));
            set(o, "stream_options", so);
        }
        *out = o;
    } else {
        json_object_put(o);
    }
    return rc;
}

/* ---- answers ---- */

static json_object *usage_obj(long long in, long long out)
{
    json_object *u = json_object_new_object();
    set(u, "inputTokens", json_object_new_int64(in > 0 ? in : 0));
    set(u, "outputTokens", json_object_new_int64(out > 0 ? out : 0));
    return u;
}

/* The object a text holds — a tool call's arguments, a JSON answer — (new; {} when it is not
 * a JSON object). */
static json_object *args_obj(const char *text)
{
    json_object *o = text != NULL && text[0] != '\0' ? json_tokener_parse(text) : NULL;
    if (o != NULL && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o != NULL ? o : json_object_new_object();
}

static json_object *call_obj(const char *id, const char *name, const char *args)
{
    json_object *f = json_object_new_object(), *c = json_object_new_object();
    set(f, "name", json_object_new_string(name != NULL ? name : ""));
    set(f, "arguments", args_obj(args));
    set(c, "id", json_object_new_string(id));
    set(c, "type", json_object_new_string("function"));
    set(c, "function", f);
    return c;
}

hub_err hub_xl_in_aigne_fw_response(json_object *oai, bool json, json_object **out, char *err,
                                    size_t errsz)
{
    json_object *choices = hub_xl_get(oai, "choices", json_type_array);
    json_object *msg = hub_xl_get(choices != NULL && json_object_array_length(choices) > 0
                                      ? json_object_array_get_idx(choices, 0)
                                      : NULL,
                                  "message", json_type_object);
    json_object *calls = hub_xl_get(msg, "tool_calls", json_type_array);
    json_object *u = hub_xl_get(oai, "usage", json_type_object);
    hub_buf text;
    *out = NULL;
    if (msg == NULL) {
        snprintf(err, errsz, "The provider's answer has no message.");
        return HUB_EUPSTREAM;
    }
    hub_buf_init(&text, 0);
    json_object *contents = NULL;
    json_object_object_get_ex(msg, "content", &contents);
    if (!hub_xl_content_text(contents, &text)) {
        hub_buf_free(&text);
        snprintf(err, errsz, "The provider's answer has an unreadable content.");
        return HUB_EUPSTREAM;
    }
    json_object *o = json_object_new_object();
    if (json)
        set(o, "json", args_obj(text.data));
    else if (text.len > 0 || calls == NULL)
        set(o, "text", json_object_new_string(text.len > 0 ? text.data : ""));
    hub_buf_free(&text);
    if (calls != NULL && json_object_array_length(calls) > 0) {
        json_object *arr = json_object_new_array();
        set(o, "toolCalls", arr);
        for (size_t i = 0; i < json_object_array_length(calls); i++) {
            json_object *tc = json_object_array_get_idx(calls, i);
            json_object *fn = hub_xl_get(tc, "function", json_type_object);
            char fallback[32];
            snprintf(fallback, sizeof(fallback), "call_%zu", i);
            const char *id = hub_xl_str(tc, "id");
            json_object_array_add(arr, call_obj(id != NULL ? id : fallback, hub_xl_str(fn, "name"),
                                                hub_xl_str(fn, "arguments")));
        }
    }
    json_object *pt = hub_xl_get(u, "prompt_tokens", json_type_int);
    json_object *ct = hub_xl_get(u, "completion_tokens", json_type_int);
    set(o, "usage",
        usage_obj(pt ? json_object_get_int64(pt) : 0, ct ? json_object_get_int64(ct) : 0));
    set(o, "model", dup(oai, "model"));
    *out = o;
    return HUB_OK;
}

void hub_xl_in_aigne_fw_error(int status, const char *message, const char *type, hub_buf *out)
{
    (void)status;
    hub_buf_puts(out, "{\"error\":{\"message\":");
    hub_buf_json_str(out, message != NULL ? message : "error");
    hub_buf_puts(out, ",\"type\":");
    hub_buf_json_str(out, type != NULL ? type : "api_error");
    hub_buf_puts(out, "}}");
}

/* ---- streams ---- */

struct hub_xl_aigne_fw_stream {
    char *model; /* owned */
    bool json, started;
    hub_buf text; /* a JSON answer, collected */
    hub_xl_calls calls;
};

hub_xl_aigne_fw_stream *hub_xl_in_aigne_fw_stream_new(const char *model, bool json)
{
    hub_xl_aigne_fw_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->model = strdup(model != NULL ? model : "");
    st->json = json;
    hub_buf_init(&st->text, HUB_XL_CALL_BYTES);
    hub_xl_calls_init(&st->calls);
    if (st->model == NULL) {
        hub_xl_in_aigne_fw_stream_free(st);
        return NULL;
    }
    return st;
}

void hub_xl_in_aigne_fw_stream_free(hub_xl_aigne_fw_stream *st)
{
    if (st == NULL)
        return;
    free(st->model);
    hub_buf_free(&st->text);
    hub_xl_calls_free(&st->calls);
    free(st);
}

/* data: {"delta":{kind:{key:value}}} (takes value). */
static hub_err event(hub_buf *out, const char *kind, const char *key, json_object *value)
{
    json_object *inner = json_object_new_object(), *delta = json_object_new_object();
    json_object *ev = json_object_new_object();
    set(inner, key, value);
    set(delta, kind, inner);
    set(ev, "delta", delta);
    bool ok = hub_buf_puts(out, "data: ") &&
              hub_buf_puts(out, json_object_to_json_string_ext(
                                    ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) &&
              hub_buf_puts(out, "\n\n");
    json_object_put(ev);
    return ok ? HUB_OK : HUB_ENOMEM;
}

hub_err hub_xl_in_aigne_fw_stream_chunk(hub_xl_aigne_fw_stream *st, json_object *chunk,
                                        hub_buf *out)
{
    json_object *choices = hub_xl_get(chunk, "choices", json_type_array);
    json_object *d = hub_xl_get(choices != NULL && json_object_array_length(choices) > 0
                                    ? json_object_array_get_idx(choices, 0)
                                    : NULL,
                                "delta", json_type_object);
    json_object *frags = hub_xl_get(d, "tool_calls", json_type_array);
    const char *piece = hub_xl_str(d, "content");
    hub_err rc = HUB_OK;
    if (!st->started) {
        st->started = true;
        const char *m = hub_xl_str(chunk, "model");
        rc = event(out, "json", "model", json_object_new_string(m != NULL ? m : st->model));
    }
    if (rc == HUB_OK && piece != NULL && piece[0] != '\0') {
        if (st->json)
            rc = hub_buf_puts(&st->text, piece) ? HUB_OK : HUB_EUPSTREAM;
        else
            rc = event(out, "text", "text", json_object_new_string(piece));
    }
    for (size_t j = 0; rc == HUB_OK && frags != NULL && j < json_object_array_length(frags); j++)
        rc = hub_xl_calls_add(&st->calls, json_object_array_get_idx(frags, j));
    return rc;
}

hub_err hub_xl_in_aigne_fw_stream_finish(hub_xl_aigne_fw_stream *st, const hub_xl_usage *u,
                                         hub_buf *out)
{
    hub_err rc = HUB_OK;
    if (st->json)
        rc = event(out, "json", "json", args_obj(st->text.data));
    if (rc == HUB_OK && st->calls.n > 0) {
        json_object *arr = json_object_new_array();
        for (size_t k = 0; k < st->calls.n; k++) {
            char fallback[32];
            hub_buf *f = st->calls.f[k];
            json_object_array_add(arr, call_obj(hub_xl_calls_id(&st->calls, k, fallback),
                                                f[1].len ? f[1].data : "", f[2].data));
        }
        rc = event(out, "json", "toolCalls", arr);
    }
    if (rc == HUB_OK && u != NULL && (u->prompt_tokens >= 0 || u->completion_tokens >= 0))
        rc = event(out, "json", "usage", usage_obj(u->prompt_tokens, u->completion_tokens));
    return rc;
}

void hub_xl_in_aigne_fw_stream_error(hub_xl_aigne_fw_stream *st, const char *message, hub_buf *out)
{
    (void)st;
    hub_buf_puts(out, "event: error\ndata: {\"message\":");
    hub_buf_json_str(out, message != NULL ? message : "error");
    hub_buf_puts(out, "}\n\n");
}
