/*
 * hub_xl_aigne.c — AIGNE Hub v2 clients (POST /api/v2/chat/completions) ⇄ OpenAI chat.
 *
 * Serves AIGNE Hub's own chat route by translating it to and from hub's OpenAI pivot, shaped
 * after AIGNE Hub (AIGNE-io/aigne-hub blocklets/core/api/src/libs/ai-routes.ts: request schema
 * and answer; providers/util.ts: stream events; packages/ai-kit/src/api/types/chat.ts):
 *   request {model (default "gpt-3.5-turbo"), messages | prompt, stream, temperature, topP,
 *           presencePenalty, frequencyPenalty, maxTokens, tools, toolChoice, responseFormat},
 *           camelCase inside too (imageUrl, toolCalls, toolCallId); unknown fields ignored.
 *   answer  {role:"assistant", text, content, toolCalls?} (hub adds model and usage).
 *   stream  data: {"delta":{"role":"assistant","content":"…","toolCalls":[]}} per text piece,
 *           the tool calls once and whole, data: {"usage":{"promptTokens",…}}; no [DONE].
 *   errors  {"error":{"message"}}.
 * json_object_* results are new objects owned by the caller; inputs are only read.
 */
#include "hub_xlate_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AIGNE_DEFAULT_MODEL "gpt-3.5-turbo" /* AIGNE Hub's default for this route */

/* Where validation errors go (the caller's buffers). */
typedef struct {
    const char **param;
    char *err;
    size_t errsz;
} vctx;

/* Writes a client-safe message and the offending parameter; returns HUB_EINVAL. */
__attribute__((format(printf, 3, 4))) static hub_err bad(vctx *v, const char *param,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, v->errsz, fmt, ap);
    va_end(ap);
    if (v->param != NULL)
        *v->param = param;
    return HUB_EINVAL;
}

static bool streq(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

static json_object *jstr(const char *s)
{
    return json_object_new_string(s);
}

/* o[key] = v; o takes v. */
static void put(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

/* {k1: v1, k2: v2} (new; takes v1 and v2); k2 NULL for a single member. */
static json_object *obj(const char *k1, json_object *v1, const char *k2, json_object *v2)
{
    json_object *o = json_object_new_object();
    put(o, k1, v1);
    if (k2 != NULL)
        put(o, k2, v2);
    return o;
}

/* key in o (borrowed); NULL when o is not an object, or the key is absent or JSON null. */
static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* The first element of an array (borrowed); NULL when v is not a non-empty array. */
static json_object *first(json_object *v)
{
    return json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, 0) : NULL;
}

/* A string value, treating "" like absent (AIGNE Hub's .empty(['', null])). */
static const char *nonempty(json_object *v)
{
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    return s != NULL && s[0] != '\0' ? s : NULL;
}

typedef enum { V_ABSENT, V_OK, V_BAD } vstate;

/* A number: JSON number or numeric string; null and "" are absent. */
static vstate as_number(json_object *v, double *d)
{
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    bool num = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    char *endp = NULL;
    if (v == NULL || (s != NULL && s[0] == '\0'))
        return V_ABSENT;
    *d = s != NULL ? strtod(s, &endp) : num ? json_object_get_double(v) : NAN;
    return (endp == NULL || *endp == '\0') && isfinite(*d) ? V_OK : V_BAD; /* overflow: inf */
}

/* A boolean: JSON boolean or "true"/"false"; null and "" are absent. */
static vstate as_bool(json_object *v, bool *b)
{
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "-";
    *b = json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : streq(s, "true");
    if (v == NULL || s[0] == '\0')
        return V_ABSENT;
    return json_object_is_type(v, json_type_boolean) || *b || streq(s, "false") ? V_OK : V_BAD;
}

/* A deep copy (new) of a borrowed value. */
static json_object *copy(json_object *v)
{
    json_object *c = NULL;
    return json_object_deep_copy(v, &c, NULL) == 0 ? c : NULL;
}

static const struct {
    const char *key, *oai;
    double lo, hi;
} num_params[] = {
    {"temperature", "temperature", 0, 2},
    {"topP", "top_p", 0.1, 1},
    {"presencePenalty", "presence_penalty", -2, 2},
    {"frequencyPenalty", "frequency_penalty", -2, 2},
    {"maxTokens", "max_tokens", 1, 1e15}, /* the one integer */
};

/* The sampling options, range-checked as AIGNE Hub does, under their OpenAI names. */
static hub_err conv_numbers(json_object *in, json_object *o, vctx *v)
{
    for (size_t k = 0; k < sizeof(num_params) / sizeof(num_params[0]); k++) {
        const char *key = num_params[k].key;
        json_object *val = member(in, key);
        bool integer = streq(key, "maxTokens");
        double d = 0;
        vstate s = as_number(val, &d);
        if (s == V_ABSENT)
            continue;
        if (s != V_OK || d < num_params[k].lo || d > num_params[k].hi ||
            (integer && (double)(long long)d != d))
            return integer ? bad(v, key, "%s must be an integer of at least 1.", key)
                           : bad(v, key, "%s must be a number between %g and %g.", key,
                                 num_params[k].lo, num_params[k].hi);
        put(o, num_params[k].oai,
            integer                                       ? json_object_new_int64((long long)d)
            : !json_object_is_type(val, json_type_string) ? copy(val) /* keeps its spelling */
                                                          : json_object_new_double(d));
    }
    return HUB_OK;
}

/* A message content (string, null or parts) → OpenAI content (*out new, also on failure;
 * NULL = JSON null). Image parts ({type:"image_url", imageUrl:{url}}) only when images. */
static hub_err conv_content(json_object *c, size_t i, bool images, json_object **out, vctx *v)
{
    size_t n = json_object_is_type(c, json_type_array) ? json_object_array_length(c) : 0;
    *out = json_object_is_type(c, json_type_string) ? jstr(json_object_get_string(c)) : NULL;
    if (c == NULL || *out != NULL)
        return HUB_OK;
    if (!json_object_is_type(c, json_type_array))
        return bad(v, "messages", "messages[%zu].content must be a string or an array.", i);
    *out = json_object_new_array();
    for (size_t j = 0; j < n; j++) {
        json_object *p = json_object_array_get_idx(c, j);
        const char *type = hub_xl_str(p, "type"), *text = hub_xl_str(p, "text");
        json_object *iu = member(p, member(p, "imageUrl") != NULL ? "imageUrl" : "image_url");
        const char *url = hub_xl_str(iu, "url");
        if (streq(type, "text") && text != NULL)
            json_object_array_add(*out, obj("type", jstr("text"), "text", jstr(text)));
        else if (images && streq(type, "image_url") && url != NULL)
            json_object_array_add(*out, obj("type", jstr("image_url"), "image_url",
                                            obj("url", jstr(url), NULL, NULL)));
        else
            return bad(v, "messages", "messages[%zu].content[%zu] must be {type:\"text\", text}%s.",
                       i, j, images ? " or {type:\"image_url\", imageUrl:{url}}" : "");
    }
    return HUB_OK;
}

/* {id, type:"function", function:{name, arguments}} (new); arguments stay a JSON string. */
static json_object *tool_call_obj(const char *id, const char *name, const char *args)
{
    json_object *tc = obj("id", jstr(id), "type", jstr("function"));
    put(tc, "function", obj("name", jstr(name), "arguments", jstr(args[0] ? args : "{}")));
    return tc;
}

/* An assistant message's toolCalls → OpenAI tool_calls (*out new, also on failure; NULL when
 * none). Arguments may be a JSON string (AIGNE Hub) or an object (the AIGNE framework). */
static hub_err conv_tool_calls(json_object *tcs, size_t i, json_object **out, vctx *v)
{
    size_t n = json_object_is_type(tcs, json_type_array) ? json_object_array_length(tcs) : 0;
    *out = NULL;
    if (tcs != NULL && !json_object_is_type(tcs, json_type_array))
        return bad(v, "messages", "messages[%zu].toolCalls must be an array.", i);
    for (size_t j = 0; j < n; j++) {
        json_object *tc = json_object_array_get_idx(tcs, j);
        json_object *fn = member(tc, "function"), *args = member(fn, "arguments");
        const char *type = hub_xl_str(tc, "type"), *name = hub_xl_str(fn, "name");
        bool args_str = json_object_is_type(args, json_type_string);
        if (nonempty(member(tc, "id")) == NULL || name == NULL ||
            (type != NULL && !streq(type, "function")) ||
            (args != NULL && !args_str && !json_object_is_type(args, json_type_object)))
            return bad(v, "messages", "messages[%zu].toolCalls[%zu] needs an id and function.name.",
                       i, j);
        const char *a = args == NULL ? ""
                        : args_str   ? json_object_get_string(args)
                                     : json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN);
        if (*out == NULL)
            *out = json_object_new_array();
        json_object_array_add(*out, tool_call_obj(hub_xl_str(tc, "id"), name, a));
    }
    return HUB_OK;
}

/* One AIGNE message → one OpenAI message appended to msgs. */
static hub_err conv_message(json_object *m, size_t i, json_object *msgs, vctx *v)
{
    hub_err rc = HUB_EINVAL;
    json_object *om = NULL, *content = NULL, *tcalls = NULL, *c = NULL;
    const char *role = hub_xl_str(m, "role");
    const char *id = nonempty(member(m, "toolCallId")), *name = nonempty(member(m, "name"));
    bool has_content = json_object_object_get_ex(m, "content", &c);
    bool is_user = streq(role, "user"), is_tool = streq(role, "tool");
    bool is_assistant = streq(role, "assistant");
    if (!is_user && !is_tool && !is_assistant && !streq(role, "system"))
        rc = bad(v, "messages", "messages[%zu].role must be system, user, assistant or tool.", i);
    else if (!is_assistant && (!has_content || (is_tool && c == NULL)))
        rc = bad(v, "messages", "messages[%zu].content is required for %s messages.", i, role);
    else if (is_tool && id == NULL)
        rc = bad(v, "messages", "messages[%zu].toolCallId is required for tool messages.", i);
    else
        rc = is_assistant ? conv_tool_calls(member(m, "toolCalls"), i, &tcalls, v) : HUB_OK;
    if (rc == HUB_OK)
        rc = conv_content(c, i, is_user, &content, v);
    if (rc != HUB_OK)
        goto end;
    if (content == NULL && tcalls == NULL)
        content = jstr(""); /* OpenAI wants some content */
    om = obj("role", jstr(role), "content", content);
    content = NULL;
    if (tcalls != NULL)
        put(om, "tool_calls", tcalls);
    tcalls = NULL;
    if (is_tool)
        put(om, "tool_call_id", jstr(id));
    else if (name != NULL)
        put(om, "name", jstr(name));
    json_object_array_add(msgs, om);
end:
    json_object_put(content);
    json_object_put(tcalls);
    return rc;
}

/* messages (or a lone prompt string, which AIGNE Hub turns into one user message). */
static hub_err conv_messages(json_object *in, json_object *o, vctx *v)
{
    json_object *msgs = member(in, "messages"), *out = json_object_new_array();
    const char *prompt = hub_xl_str(in, "prompt");
    size_t n = json_object_is_type(msgs, json_type_array) ? json_object_array_length(msgs) : 0;
    hub_err rc = HUB_OK;
    put(o, "messages", out);
    if ((msgs == NULL) == (prompt == NULL))
        return bad(v, msgs == NULL ? "messages" : "prompt",
                   "Send either messages (a non-empty array) or prompt (a string), not both.");
    if (prompt != NULL)
        json_object_array_add(out, obj("role", jstr("user"), "content", jstr(prompt)));
    else if (n == 0)
        return bad(v, "messages", "messages must be a non-empty array.");
    for (size_t i = 0; i < n && rc == HUB_OK; i++)
        rc = conv_message(json_object_array_get_idx(msgs, i), i, out, v);
    return rc;
}

/* {name, description?, key?: copy of value} (new) from an object with name and description. */
static json_object *described(json_object *src, const char *key, json_object *value)
{
    json_object *o = obj("name", jstr(nonempty(member(src, "name"))), NULL, NULL);
    if (nonempty(member(src, "description")) != NULL)
        put(o, "description", jstr(nonempty(member(src, "description"))));
    if (value != NULL)
        put(o, key, copy(value));
    return o;
}

/* tools, toolChoice and parallelToolCalls (the last only with tools: OpenAI refuses it alone). */
static hub_err conv_tools(json_object *in, json_object *o, vctx *v)
{
    json_object *tools = member(in, "tools"), *choice = member(in, "toolChoice");
    const char *cs =
        json_object_is_type(choice, json_type_string) ? json_object_get_string(choice) : NULL;
    const char *cname = hub_xl_str(member(choice, "function"), "name");
    size_t n = json_object_is_type(tools, json_type_array) ? json_object_array_length(tools) : 0;
    json_object *arr = n > 0 ? json_object_new_array() : NULL;
    bool par = false;
    vstate ps = as_bool(member(in, "parallelToolCalls"), &par);
    if (tools != NULL && !json_object_is_type(tools, json_type_array))
        return bad(v, "tools", "tools must be an array.");
    if (arr != NULL)
        put(o, "tools", arr);
    for (size_t j = 0; j < n; j++) {
        json_object *t = json_object_array_get_idx(tools, j);
        json_object *fn = member(t, "function"), *params = member(fn, "parameters");
        const char *type = hub_xl_str(t, "type");
        if (nonempty(member(fn, "name")) == NULL || (type != NULL && !streq(type, "function")) ||
            (params != NULL && !json_object_is_type(params, json_type_object)))
            return bad(v, "tools",
                       "tools[%zu] must be {type:\"function\", function:{name, "
                       "description, parameters}}.",
                       j);
        json_object *ofn = described(fn, "parameters", params);
        json_object_array_add(arr, obj("type", jstr("function"), "function", ofn));
    }
    if (streq(cs, "auto") || streq(cs, "none") || streq(cs, "required"))
        put(o, "tool_choice", jstr(cs));
    else if (cs == NULL && streq(hub_xl_str(choice, "type"), "function") && cname != NULL)
        put(o, "tool_choice",
            obj("type", jstr("function"), "function", obj("name", jstr(cname), NULL, NULL)));
    else if (choice != NULL)
        return bad(v, "toolChoice",
                   "toolChoice must be \"auto\", \"none\", \"required\" or "
                   "{type:\"function\", function:{name}}.");
    if (ps == V_BAD)
        return bad(v, "parallelToolCalls", "parallelToolCalls must be a boolean.");
    if (ps == V_OK && n > 0)
        put(o, "parallel_tool_calls", json_object_new_boolean(par));
    return HUB_OK;
}

/* responseFormat: json_schema → OpenAI response_format; "text" and "json_object" send nothing
 * (AIGNE Hub passes only json_schema on to the model). */
static hub_err conv_response_format(json_object *in, json_object *o, vctx *v)
{
    json_object *rf = member(in, "responseFormat"), *tv = member(rf, "type");
    json_object *js = member(rf, "jsonSchema"), *schema = member(js, "schema");
    const char *type = nonempty(tv);
    bool strict = false;
    vstate ss = as_bool(member(js, "strict"), &strict);
    if (rf != NULL && (!json_object_is_type(rf, json_type_object) ||
                       (tv != NULL && !json_object_is_type(tv, json_type_string))))
        return bad(v, "responseFormat", "responseFormat must be an object with a string type.");
    if (type == NULL || streq(type, "text") || streq(type, "json_object"))
        return HUB_OK;
    if (!streq(type, "json_schema"))
        return bad(v, "responseFormat",
                   "responseFormat.type must be text, json_object or json_schema.");
    if (nonempty(member(js, "name")) == NULL || !json_object_is_type(schema, json_type_object) ||
        ss == V_BAD)
        return bad(v, "responseFormat",
                   "responseFormat.jsonSchema needs a name and a schema object.");
    json_object *ojs = described(js, "schema", schema);
    if (ss == V_OK)
        put(ojs, "strict", json_object_new_boolean(strict));
    put(o, "response_format", obj("type", jstr("json_schema"), "json_schema", ojs));
    return HUB_OK;
}

hub_err hub_xl_in_aigne_request(json_object *in, json_object **out, bool *stream,
                                const char **param, char *err, size_t errsz)
{
    static hub_err (*const steps[])(json_object *, json_object *, vctx *) = {
        conv_messages, conv_numbers, conv_tools, conv_response_format};
    vctx v = {param, err, errsz};
    hub_err rc = HUB_EINVAL;
    json_object *model = member(in, "model");
    json_object *o =
        obj("model", jstr(nonempty(model) ? nonempty(model) : AIGNE_DEFAULT_MODEL), NULL, NULL);
    bool st = false;
    *out = NULL;
    if (!json_object_is_type(in, json_type_object))
        rc = bad(&v, NULL, "The request body must be a JSON object.");
    else if (model != NULL && !json_object_is_type(model, json_type_string))
        rc = bad(&v, "model", "model must be a string such as \"openai/gpt-4o-mini\".");
    else if (as_bool(member(in, "stream"), &st) == V_BAD)
        rc = bad(&v, "stream", "stream must be a boolean.");
    else
        rc = HUB_OK;
    *stream = st;
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]) && rc == HUB_OK; k++)
        rc = steps[k](in, o, &v);
    if (rc != HUB_OK)
        goto end;
    if (st) {
        put(o, "stream", json_object_new_boolean(true));
        put(o, "stream_options", obj("include_usage", json_object_new_boolean(true), NULL, NULL));
    }
    *out = o;
    o = NULL;
end:
    json_object_put(o);
    return rc;
}

/* {"promptTokens","completionTokens","totalTokens"} (new) from counts; unknown (-1) → 0. */
static json_object *usage_obj(long long p, long long c, long long t)
{
    p = p < 0 ? 0 : p;
    c = c < 0 ? 0 : c;
    json_object *u =
        obj("promptTokens", json_object_new_int64(p), "completionTokens", json_object_new_int64(c));
    put(u, "totalTokens", json_object_new_int64(t >= 0 ? t : p + c));
    return u;
}

/* An OpenAI usage object's count, -1 when absent. */
static long long count(json_object *usage, const char *key)
{
    json_object *n = hub_xl_get(usage, key, json_type_int);
    return n != NULL ? (long long)json_object_get_int64(n) : -1;
}

hub_err hub_xl_in_aigne_response(json_object *oai, json_object **out, char *err, size_t errsz)
{
    hub_err rc = HUB_EUPSTREAM;
    hub_buf text;
    json_object *msg = member(first(member(oai, "choices")), "message");
    json_object *tcs = hub_xl_get(msg, "tool_calls", json_type_array);
    json_object *usage = hub_xl_get(oai, "usage", json_type_object);
    const char *refusal = hub_xl_str(msg, "refusal");
    size_t n = tcs != NULL ? json_object_array_length(tcs) : 0;
    hub_buf_init(&text, 0);
    *out = NULL;
    if (!json_object_is_type(msg, json_type_object) ||
        !hub_xl_content_text(member(msg, "content"), &text) ||
        !hub_buf_puts(&text, text.len == 0 && refusal != NULL ? refusal : "")) {
        snprintf(err, errsz, "The upstream answer has no readable choices[0].message.");
        goto end;
    }
    *out = obj("role", jstr("assistant"), "text", jstr(text.data));
    put(*out, "content", jstr(text.data));
    if (n > 0)
        put(*out, "toolCalls", json_object_new_array());
    for (size_t j = 0; j < n; j++) {
        json_object *tc = json_object_array_get_idx(tcs, j), *fn = member(tc, "function");
        const char *id = hub_xl_str(tc, "id"), *name = hub_xl_str(fn, "name");
        const char *args = hub_xl_str(fn, "arguments");
        json_object_array_add(member(*out, "toolCalls"),
                              tool_call_obj(id ? id : "", name ? name : "", args ? args : ""));
    }
    if (hub_xl_str(oai, "model") != NULL)
        put(*out, "model", jstr(hub_xl_str(oai, "model")));
    if (usage != NULL)
        put(*out, "usage",
            usage_obj(count(usage, "prompt_tokens"), count(usage, "completion_tokens"),
                      count(usage, "total_tokens")));
    rc = HUB_OK;
end:
    hub_buf_free(&text);
    return rc;
}

/* Appends prefix, the JSON text of ev and suffix, and releases ev; all or nothing. */
static hub_err put_json(const char *prefix, json_object *ev, const char *suffix, hub_buf *out)
{
    size_t mark = out->len;
    const char *s =
        json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    bool ok =
        s != NULL && hub_buf_puts(out, prefix) && hub_buf_puts(out, s) && hub_buf_puts(out, suffix);
    json_object_put(ev);
    out->len = ok ? out->len : mark;
    if (out->data != NULL)
        out->data[out->len] = '\0';
    return ok ? HUB_OK : HUB_ENOMEM;
}

/* {"error":{"message":…}} (new): AIGNE Hub's error shape. Its "type" is reserved for AIGNE's
 * credit and subscription errors, so none is sent. */
static json_object *error_obj(const char *message)
{
    return obj("error", obj("message", jstr(message ? message : ""), NULL, NULL), NULL, NULL);
}

void hub_xl_in_aigne_error(int status, const char *message, const char *type, hub_buf *out)
{
    (void)status; /* travels in the HTTP status line */
    (void)type;
    put_json("", error_obj(message), "", out);
}

/* ---- streaming ---- */

struct hub_xl_aigne_in_stream {
    hub_xl_calls calls; /* the calls being built */
    bool calls_sent;
};

hub_xl_aigne_in_stream *hub_xl_in_aigne_stream_new(const char *id, const char *model)
{
    (void)id; /* AIGNE's events carry neither */
    (void)model;
    hub_xl_aigne_in_stream *st = calloc(1, sizeof(*st));
    if (st != NULL)
        hub_xl_calls_init(&st->calls);
    return st;
}

void hub_xl_in_aigne_stream_free(hub_xl_aigne_in_stream *st)
{
    if (st != NULL)
        hub_xl_calls_free(&st->calls);
    free(st);
}

/* {"delta":{"role":"assistant", "content"?: text, "toolCalls": calls}} (new; takes calls). */
static json_object *delta_event(const char *text, json_object *calls)
{
    json_object *d = obj("role", jstr("assistant"), NULL, NULL);
    if (text != NULL)
        put(d, "content", jstr(text));
    put(d, "toolCalls", calls);
    return obj("delta", d, NULL, NULL);
}

/* Sends the assembled tool calls once, whole: AIGNE clients append every entry they get. */
static hub_err flush_calls(hub_xl_aigne_in_stream *st, hub_buf *out)
{
    if (st->calls_sent || st->calls.n == 0)
        return HUB_OK;
    st->calls_sent = true;
    json_object *arr = json_object_new_array();
    for (size_t k = 0; k < st->calls.n; k++) {
        hub_buf *f = st->calls.f[k];
        char fallback[32];
        json_object_array_add(arr,
                              tool_call_obj(hub_xl_calls_id(&st->calls, k, fallback),
                                            f[1].len ? f[1].data : "", f[2].len ? f[2].data : ""));
    }
    return put_json("data: ", delta_event(NULL, arr), "\n\n", out);
}

hub_err hub_xl_in_aigne_stream_chunk(hub_xl_aigne_in_stream *st, json_object *chunk, hub_buf *out)
{
    json_object *choice = first(member(chunk, "choices")), *d = member(choice, "delta");
    json_object *frags = hub_xl_get(d, "tool_calls", json_type_array);
    const char *pieces[2] = {hub_xl_str(d, "content"), hub_xl_str(d, "refusal")};
    size_t n = frags != NULL ? json_object_array_length(frags) : 0;
    hub_err rc = HUB_OK;
    for (size_t k = 0; k < 2 && rc == HUB_OK; k++) /* role-only chunks send nothing */
        if (pieces[k] != NULL && pieces[k][0] != '\0')
            rc = put_json("data: ", delta_event(pieces[k], json_object_new_array()), "\n\n", out);
    for (size_t j = 0; j < n && rc == HUB_OK && !st->calls_sent; j++)
        rc = hub_xl_calls_add(&st->calls, json_object_array_get_idx(frags, j));
    if (rc == HUB_OK && hub_xl_str(choice, "finish_reason") != NULL)
        rc = flush_calls(st, out);
    return rc;
}

hub_err hub_xl_in_aigne_stream_finish(hub_xl_aigne_in_stream *st, const hub_xl_usage *u,
                                      hub_buf *out)
{
    hub_err rc = flush_calls(st, out);
    if (rc != HUB_OK || u == NULL || (u->prompt_tokens < 0 && u->completion_tokens < 0))
        return rc; /* no counts known: AIGNE Hub then sends no usage event either */
    json_object *counts = usage_obj(u->prompt_tokens, u->completion_tokens, u->total_tokens);
    return put_json("data: ", obj("usage", counts, NULL, NULL), "\n\n", out);
}

void hub_xl_in_aigne_stream_error(hub_xl_aigne_in_stream *st, const char *message, hub_buf *out)
{
    (void)st;
    put_json("data: ", error_obj(message), "\n\n", out);
}
