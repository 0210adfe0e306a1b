/*
 * hub_xl_anthropic_in.c — clients speaking Anthropic's Messages API (POST /v1/messages, e.g.
 * the official @anthropic-ai/sdk) served through the OpenAI pivot: requests, answers and error
 * bodies. Streams are in hub_xl_anthropic_in_stream.c; what both use is declared in
 * hub_xl_anthropic_in_int.h and defined here.
 *
 * Requests are validated and rewritten as OpenAI chat requests: system → a first system
 * message; blocks → content parts (a text-only user turn → a plain string; joined text blocks
 * are separated by a blank line); tool_use → tool_calls; tool_result → role "tool" messages
 * placed before the rest of that user turn (their images move into that rest); tools and
 * tool_choice → functions. Answers go back as Anthropic messages.
 */
#include "hub_xl_anthropic_in_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JOIN "\n\n"
#define B(b) json_object_new_boolean(b)

/* ---- json-c builders: values passed in are taken; a NULL value is a failed allocation ---- */

char hub_xl_ain_jnull_tag;

json_object *hub_xl_ain_obj(const char *key, ...)
{
    va_list ap;
    json_object *o = json_object_new_object();
    bool ok = o != NULL;
    va_start(ap, key);
    for (const char *k = key; k != NULL; k = va_arg(ap, const char *)) {
        json_object *v = va_arg(ap, json_object *);
        ok = ok && v != NULL && json_object_object_add(o, k, v == JNULL ? NULL : v) == 0;
        if (!ok && v != JNULL)
            json_object_put(v);
    }
    va_end(ap);
    if (!ok)
        json_object_put(o);
    return ok ? o : NULL;
}

/* Adds v (taken) to object c under key, or appends it to array c when key is NULL. */
static bool add(json_object *c, const char *key, json_object *v)
{
    int r = v == NULL ? -1 : key ? json_object_object_add(c, key, v) : json_object_array_add(c, v);
    if (r != 0)
        json_object_put(v);
    return r == 0;
}

static json_object *buf_str(const hub_buf *b)
{
    return json_object_new_string_len(b->data ? b->data : "", (int)b->len);
}

static json_object *copy(json_object *v)
{
    json_object *dst = NULL;
    return json_object_deep_copy(v, &dst, NULL) == 0 ? dst : NULL;
}

/* A field that is present and not JSON null (borrowed), or NULL. */
static json_object *field(json_object *o, const char *key)
{
    json_object *v = NULL;
    bool ok = json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v);
    return ok ? v : NULL;
}

size_t hub_xl_ain_alen(json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static bool is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

static bool join_text(hub_buf *out, const char *text)
{
    return (out->len == 0 || hub_buf_puts(out, JOIN)) && hub_buf_puts(out, text);
}

/* ---- request: every step returns false on failure, c->rc saying why ---- */

typedef struct {
    hub_err rc; /* HUB_ENOMEM until fail() says HUB_EINVAL */
    const char *param;
    char *err;
    size_t errsz;
} req_ctx;

static bool __attribute__((format(printf, 3, 4)))
fail(req_ctx *c, const char *param, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errsz, fmt, ap);
    va_end(ap);
    c->param = param;
    c->rc = HUB_EINVAL;
    return false;
}

/* An image block → an image_url part appended to parts. */
static bool image_part(req_ctx *c, json_object *b, size_t mi, json_object *parts)
{
    json_object *src = hub_xl_get(b, "source", json_type_object);
    const char *type = hub_xl_str(src, "type");
    const char *mt = hub_xl_str(src, "media_type");
    const char *data = hub_xl_str(src, "data");
    const char *url = hub_xl_str(src, "url");
    hub_buf u;
    bool ok;
    hub_buf_init(&u, 0);
    if (is(type, "base64") && mt != NULL && data != NULL)
        ok = hub_buf_printf(&u, "data:%s;base64,%s", mt, data);
    else if (is(type, "url") && url != NULL)
        ok = hub_buf_puts(&u, url);
    else
        return fail(c, "messages", "messages[%zu]: an image needs a base64 or url source.", mi);
    ok = ok && add(parts, NULL,
                   hub_xl_ain_obj("type", S("image_url"), "image_url",
                                  hub_xl_ain_obj("url", buf_str(&u), NULL), NULL));
    hub_buf_free(&u);
    return ok;
}

/* The text of v (a string, or text blocks joined) appended to text; with parts, image blocks
 * become image_url parts there. what names v in messages. */
static bool text_of(req_ctx *c, json_object *v, const char *param, const char *what, size_t mi,
                    json_object *parts, hub_buf *text)
{
    bool ok = json_object_is_type(v, json_type_array);
    if (json_object_is_type(v, json_type_string))
        return hub_buf_puts(text, json_object_get_string(v));
    if (!ok)
        return fail(c, param, "%s must be a string or an array of blocks.", what);
    for (size_t i = 0; ok && i < hub_xl_ain_alen(v); i++) {
        json_object *b = json_object_array_get_idx(v, i);
        const char *type = hub_xl_str(b, "type");
        if (is(type, "text") && hub_xl_str(b, "text") != NULL)
            ok = join_text(text, hub_xl_str(b, "text"));
        else if (is(type, "image") && parts != NULL)
            ok = image_part(c, b, mi, parts);
        else
            ok = fail(c, param, "%s[%zu] must be a text%s block.", what, i, parts ? "/image" : "");
    }
    return ok;
}

/* A tool_result → {role:"tool", tool_call_id, content} appended to msgs; images → parts. */
static bool tool_result(req_ctx *c, json_object *b, size_t mi, json_object *msgs,
                        json_object *parts)
{
    const char *id = hub_xl_str(b, "tool_use_id");
    json_object *content = field(b, "content");
    json_object *is_err = hub_xl_get(b, "is_error", json_type_boolean);
    char what[64];
    hub_buf text;
    bool ok;
    if (id == NULL)
        return fail(c, "messages", "messages[%zu]: a tool_result needs a tool_use_id.", mi);
    snprintf(what, sizeof(what), "messages[%zu] tool_result content", mi);
    hub_buf_init(&text, 0);
    ok = content == NULL || text_of(c, content, "messages", what, mi, parts, &text);
    /* OpenAI tool messages have no error flag: an empty failed result still says so */
    if (ok && text.len == 0 && is_err != NULL && json_object_get_boolean(is_err))
        ok = hub_buf_puts(&text, "Tool call failed.");
    ok = ok && add(msgs, NULL,
                   hub_xl_ain_obj("role", S("tool"), "tool_call_id", S(id), "content",
                                  buf_str(&text), NULL));
    hub_buf_free(&text);
    return ok;
}

/* An assistant tool_use block → an OpenAI tool call appended to calls. */
static bool tool_call(req_ctx *c, json_object *b, size_t mi, json_object *calls)
{
    const char *id = hub_xl_str(b, "id");
    const char *name = hub_xl_str(b, "name");
    json_object *input = field(b, "input");
    const char *args = input ? json_object_to_json_string_ext(input, JSON_FLAGS) : "{}";
    if (id == NULL || name == NULL || (input && !json_object_is_type(input, json_type_object)))
        return fail(c, "messages", "messages[%zu]: tool_use needs id, name and an object input.",
                    mi);
    return args != NULL &&
           add(calls, NULL,
               hub_xl_ain_obj("id", S(id), "type", S("function"), "function",
                              hub_xl_ain_obj("name", S(name), "arguments", S(args), NULL), NULL));
}

/* One message → OpenAI messages appended to msgs. Blocks: text joined (user turns with images
 * keep them as parts), tool_use → tool_calls, tool_result → tool messages first, thinking
 * dropped (signed reasoning means nothing to another model). */
static bool message(req_ctx *c, json_object *m, size_t mi, json_object *msgs)
{
    const char *role = hub_xl_str(m, "role");
    json_object *list = field(m, "content");
    json_object *parts = json_object_new_array(); /* user: text and image parts */
    json_object *calls = json_object_new_array(); /* assistant: tool_calls */
    json_object *content = NULL;
    size_t before = json_object_array_length(msgs), ntext = 0;
    bool user = is(role, "user"), ok = parts != NULL && calls != NULL;
    hub_buf text;
    hub_buf_init(&text, 0);
    if (!user && !is(role, "assistant"))
        ok = fail(c, "messages", "messages[%zu].role must be \"user\" or \"assistant\".", mi);
    else if (!json_object_is_type(list, json_type_array) &&
             !json_object_is_type(list, json_type_string))
        ok = fail(c, "messages", "messages[%zu].content must be a string or blocks.", mi);
    else if (ok && json_object_is_type(list, json_type_string))
        ok = hub_buf_puts(&text, json_object_get_string(list));
    for (size_t i = 0; ok && i < hub_xl_ain_alen(list); i++) {
        json_object *b = json_object_array_get_idx(list, i);
        const char *type = hub_xl_str(b, "type");
        const char *t = hub_xl_str(b, "text");
        ntext += is(type, "text") && t != NULL;
        if (is(type, "text") && t != NULL)
            ok = join_text(&text, t) &&
                 (!user || add(parts, NULL, hub_xl_ain_obj("type", S("text"), "text", S(t), NULL)));
        else if (user && is(type, "image"))
            ok = image_part(c, b, mi, parts);
        else if (user && is(type, "tool_result"))
            ok = tool_result(c, b, mi, msgs, parts);
        else if (!user && is(type, "tool_use"))
            ok = tool_call(c, b, mi, calls);
        else if (!is(type, "thinking") && !is(type, "redacted_thinking"))
            ok = fail(c, "messages", "messages[%zu].content[%zu]: unsupported %s block '%s'.", mi,
                      i, role, type ? type : "");
    }
    size_t np = ok ? json_object_array_length(parts) : 0;
    size_t nc = ok ? json_object_array_length(calls) : 0;
    if (!ok || (np == 0 && json_object_array_length(msgs) > before))
        goto end;     /* failed, or only tool results: no user message left */
    if (np > ntext) { /* images: parts; only text: one string */
        content = parts;
        parts = NULL;
    } else {
        content = text.len > 0 || nc == 0 ? buf_str(&text) : JNULL;
    }
    /* tool_calls only when there are some: a NULL key ends the list and leaves calls here */
    ok = add(msgs, NULL,
             hub_xl_ain_obj("role", S(role), "content", content, nc > 0 ? "tool_calls" : NULL,
                            calls, NULL));
    calls = nc > 0 ? NULL : calls;
end:
    json_object_put(parts);
    json_object_put(calls);
    hub_buf_free(&text);
    return ok;
}

/* tools and tool_choice into o; without tools, tool_choice and parallel_tool_calls are dropped
 * (OpenAI refuses them alone). */
static bool tools(req_ctx *c, json_object *in, json_object *o)
{
    json_object *list = field(in, "tools");
    json_object *tc = field(in, "tool_choice");
    json_object *dp = hub_xl_get(tc, "disable_parallel_tool_use", json_type_boolean);
    const char *type = hub_xl_str(tc, "type");
    const char *name = hub_xl_str(tc, "name");
    size_t n = hub_xl_ain_alen(list);
    json_object *ot = n > 0 ? json_object_new_array() : NULL;
    if (list != NULL && !json_object_is_type(list, json_type_array))
        return fail(c, "tools", "tools must be an array.");
    if (n > 0 && !add(o, "tools", ot))
        return false;
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(list, i);
        const char *tt = hub_xl_str(t, "type");
        const char *desc = hub_xl_str(t, "description");
        json_object *schema = hub_xl_get(t, "input_schema", json_type_object);
        if (tt != NULL && !is(tt, "custom"))
            return fail(c, "tools", "tools[%zu]: tool type '%s' is not supported.", i, tt);
        if (hub_xl_str(t, "name") == NULL || schema == NULL)
            return fail(c, "tools", "tools[%zu] needs a name and an input_schema object.", i);
        /* without a description, its NULL key ends the list */
        if (!add(ot, NULL,
                 hub_xl_ain_obj("type", S("function"), "function",
                                hub_xl_ain_obj("name", S(hub_xl_str(t, "name")), "parameters",
                                               copy(schema), desc ? "description" : NULL,
                                               desc ? S(desc) : NULL, NULL),
                                NULL)))
            return false;
    }
    if (tc != NULL && !is(type, "auto") && !is(type, "any") && !is(type, "none") &&
        (!is(type, "tool") || name == NULL))
        return fail(c, "tool_choice", "tool_choice.type must be auto, any, none or tool + name.");
    if (tc == NULL || n == 0)
        return true;
    if (is(type, "tool"))
        tc = hub_xl_ain_obj("type", S("function"), "function",
                            hub_xl_ain_obj("name", S(name), NULL), NULL);
    else
        tc = S(is(type, "any") ? "required" : type);
    return add(o, "tool_choice", tc) &&
           (dp == NULL || !json_object_get_boolean(dp) || add(o, "parallel_tool_calls", B(0)));
}

/* Copies in[key] to o[to] when present; refuses a value of another type than t1/t2. */
static bool pass(req_ctx *c, json_object *in, const char *key, json_object *o, const char *to,
                 json_type t1, json_type t2, const char *param)
{
    json_object *v = field(in, key);
    if (v != NULL && !json_object_is_type(v, t1) && !json_object_is_type(v, t2))
        return fail(c, param, "%s must be a %s.", param,
                    t1 == json_type_string ? "string" : "number");
    return v == NULL || add(o, to, copy(v));
}

/* stop_sequences, temperature, top_p, stream, metadata.user_id into o (top_k is dropped). */
static bool options(req_ctx *c, json_object *in, json_object *o, bool *stream)
{
    json_object *stop = field(in, "stop_sequences");
    json_object *s = field(in, "stream");
    json_object *meta = field(in, "metadata");
    bool ok = stop == NULL || json_object_is_type(stop, json_type_array);
    for (size_t i = 0; i < hub_xl_ain_alen(stop); i++)
        ok = ok && json_object_is_type(json_object_array_get_idx(stop, i), json_type_string);
    if (!ok)
        return fail(c, "stop_sequences", "stop_sequences must be an array of strings.");
    if (s != NULL && !json_object_is_type(s, json_type_boolean))
        return fail(c, "stream", "stream must be a boolean.");
    if (meta != NULL && !json_object_is_type(meta, json_type_object))
        return fail(c, "metadata", "metadata must be an object.");
    *stream = s != NULL && json_object_get_boolean(s);
    return pass(c, in, "temperature", o, "temperature", json_type_double, json_type_int,
                "temperature") &&
           pass(c, in, "top_p", o, "top_p", json_type_double, json_type_int, "top_p") &&
           pass(c, meta, "user_id", o, "user", json_type_string, json_type_string, "metadata") &&
           (hub_xl_ain_alen(stop) == 0 || add(o, "stop", copy(stop))) &&
           (!*stream || (add(o, "stream", B(1)) &&
                         add(o, "stream_options", hub_xl_ain_obj("include_usage", B(1), NULL))));
}

hub_err hub_xl_in_anthropic_request(json_object *in, json_object **out, bool *stream,
                                    const char **param, char *err, size_t errsz)
{
    req_ctx c = {HUB_ENOMEM, NULL, err, errsz};
    json_object *o = NULL;
    json_object *msgs = json_object_new_array();
    json_object *max = hub_xl_get(in, "max_tokens", json_type_int);
    json_object *list = hub_xl_get(in, "messages", json_type_array);
    json_object *sys = field(in, "system");
    const char *model = hub_xl_str(in, "model");
    hub_buf stext;
    bool ok = false;
    hub_buf_init(&stext, 0);
    *out = NULL;
    *stream = false;
    if (!json_object_is_type(in, json_type_object))
        fail(&c, NULL, "The request body must be a JSON object.");
    else if (model == NULL || model[0] == '\0')
        fail(&c, "model", "model is required (a string).");
    else if (max == NULL || json_object_get_int64(max) < 1)
        fail(&c, "max_tokens", "max_tokens is required (an integer of at least 1).");
    else if (hub_xl_ain_alen(list) == 0)
        fail(&c, "messages", "messages is required (a non-empty array).");
    else
        ok = msgs != NULL && (sys == NULL || text_of(&c, sys, "system", "system", 0, NULL, &stext));
    if (ok && stext.len > 0)
        ok = add(msgs, NULL, hub_xl_ain_obj("role", S("system"), "content", buf_str(&stext), NULL));
    for (size_t i = 0; ok && i < hub_xl_ain_alen(list); i++)
        ok = message(&c, json_object_array_get_idx(list, i), i, msgs);
    if (ok) {
        o = hub_xl_ain_obj("model", S(model), "max_tokens", copy(max), "messages", msgs, NULL);
        msgs = NULL;
        ok = o != NULL && options(&c, in, o, stream) && tools(&c, in, o);
    }
    if (ok) {
        *out = o;
        o = NULL;
    }
    json_object_put(o);
    json_object_put(msgs);
    hub_buf_free(&stext);
    if (!ok && c.rc == HUB_ENOMEM)
        snprintf(err, errsz, "Out of memory.");
    *stream = ok && *stream;
    *param = c.param;
    return ok ? HUB_OK : c.rc;
}

/* ---- answer and errors ---- */

/* An OpenAI finish_reason → Anthropic stop_reason; tool calls make a plain stop "tool_use". */
const char *hub_xl_ain_stop_reason(const char *finish, bool tool_calls)
{
    if (is(finish, "length"))
        return "max_tokens";
    if (is(finish, "content_filter"))
        return "refusal";
    return tool_calls || is(finish, "tool_calls") ? "tool_use" : "end_turn";
}

/* "msg_" + the OpenAI id without its "chatcmpl-" prefix (truncated to fit). */
void hub_xl_ain_msg_id(char *dst, size_t n, const char *id)
{
    id = id ? id : "";
    snprintf(dst, n, "msg_%s", id + (strncmp(id, "chatcmpl-", 9) == 0 ? 9 : 0));
}

/* A usage count; fallback when absent or negative. */
long long hub_xl_ain_tokens(json_object *usage, const char *key, long long fallback)
{
    json_object *v = hub_xl_get(usage, key, json_type_int);
    return v != NULL && json_object_get_int64(v) >= 0 ? json_object_get_int64(v) : fallback;
}

hub_err hub_xl_in_anthropic_response(json_object *oai, json_object **out, char *err, size_t errsz)
{
    json_object *choices = hub_xl_get(oai, "choices", json_type_array);
    json_object *ch = hub_xl_ain_alen(choices) > 0 ? json_object_array_get_idx(choices, 0) : NULL;
    json_object *msg = hub_xl_get(ch, "message", json_type_object);
    json_object *mc = field(msg, "content");
    json_object *calls = hub_xl_get(msg, "tool_calls", json_type_array);
    json_object *usage = hub_xl_get(oai, "usage", json_type_object);
    json_object *o = NULL, *content = NULL;
    const char *refusal = hub_xl_str(msg, "refusal");
    const char *model = hub_xl_str(oai, "model");
    char id[128];
    hub_buf text;
    bool ok;
    *out = NULL;
    if (msg == NULL) {
        snprintf(err, errsz, "The upstream answer has no choices[0].message.");
        return HUB_EUPSTREAM;
    }
    hub_buf_init(&text, 0);
    hub_xl_ain_msg_id(id, sizeof(id), hub_xl_str(oai, "id"));
    /* a content that is neither a string nor parts is ignored (hub_xl_content_text refuses it) */
    ok = (hub_xl_content_text(mc, &text) || (!json_object_is_type(mc, json_type_array) &&
                                             !json_object_is_type(mc, json_type_string))) &&
         (text.len > 0 || refusal == NULL || hub_buf_puts(&text, refusal));
    if (ok)
        o = hub_xl_ain_obj(
            "id", S(id), "type", S("message"), "role", S("assistant"), "model",
            S(model ? model : ""), "content", json_object_new_array(), "stop_reason",
            S(hub_xl_ain_stop_reason(hub_xl_str(ch, "finish_reason"), hub_xl_ain_alen(calls) > 0)),
            "stop_sequence", JNULL, "usage",
            hub_xl_ain_obj("input_tokens", I(hub_xl_ain_tokens(usage, "prompt_tokens", 0)),
                           "output_tokens", I(hub_xl_ain_tokens(usage, "completion_tokens", 0)),
                           NULL),
            NULL);
    content = hub_xl_get(o, "content", json_type_array);
    ok = content != NULL &&
         (text.len == 0 ||
          add(content, NULL, hub_xl_ain_obj("type", S("text"), "text", buf_str(&text), NULL)));
    for (size_t i = 0; ok && i < hub_xl_ain_alen(calls); i++) {
        json_object *call = json_object_array_get_idx(calls, i);
        json_object *fn = hub_xl_get(call, "function", json_type_object);
        const char *args = hub_xl_str(fn, "arguments");
        const char *name = hub_xl_str(fn, "name");
        json_object *input = args ? json_tokener_parse(args) : NULL;
        char gen[32];
        snprintf(gen, sizeof(gen), "toolu_%zu", i);
        if (!json_object_is_type(input, json_type_object)) {
            json_object_put(input); /* unparseable or not an object: {} */
            input = json_object_new_object();
        }
        ok = add(content, NULL,
                 hub_xl_ain_obj("type", S("tool_use"), "id", S(hub_xl_str(call, "id") ?: gen),
                                "name", S(name ? name : ""), "input", input, NULL));
    }
    if (ok)
        *out = o;
    else
        json_object_put(o);
    if (!ok)
        snprintf(err, errsz, "Out of memory.");
    hub_buf_free(&text);
    return ok ? HUB_OK : HUB_ENOMEM;
}

/* Drops what was appended to b after mark (half-written events). */
void hub_xl_ain_rollback(hub_buf *b, size_t mark)
{
    b->len = mark;
    if (b->data != NULL)
        b->data[mark] = '\0';
}

bool hub_xl_ain_error_body(hub_buf *out, const char *type, const char *message)
{
    return hub_buf_printf(out,
                          "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":", type) &&
           hub_buf_json_str(out, message ? message : "") && hub_buf_puts(out, "}}");
}

void hub_xl_in_anthropic_error(int status, const char *message, const char *type, hub_buf *out)
{
    static const struct {
        int status;
        const char *type;
    } map[] = {{401, "authentication_error"}, {402, "billing_error"},     {403, "permission_error"},
               {404, "not_found_error"},      {413, "request_too_large"}, {429, "rate_limit_error"},
               {529, "overloaded_error"}};
    const char *t = status >= 500 ? "api_error" : "invalid_request_error";
    size_t mark = out->len;
    (void)type; /* OpenAI's type has no Anthropic counterpart: the status decides */
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        t = map[i].status == status ? map[i].type : t;
    if (!hub_xl_ain_error_body(out, t, message))
        hub_xl_ain_rollback(out, mark);
}
