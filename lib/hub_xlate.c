/*
 * hub_xlate.c — dispatch of hub_xlate.h to the per-format translators, and the helpers they
 * share (content text, typed field access, chunk skeletons, error-body reading).
 */
#include "hub_xlate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { F_ANTHROPIC = 1, F_GEMINI, F_AIGNE, F_AIGNE_FW, F_AIGNE_FW_JSON };

static int kind_of(const char *s)
{
    if (s == NULL)
        return 0;
    if (strcmp(s, "anthropic") == 0)
        return F_ANTHROPIC;
    if (strcmp(s, "gemini") == 0)
        return F_GEMINI;
    if (strcmp(s, "aigne") == 0)
        return F_AIGNE;
    if (strcmp(s, "aigne-fw") == 0)
        return F_AIGNE_FW;
    if (strcmp(s, "aigne-fw-json") == 0) /* answers parsed into "json" */
        return F_AIGNE_FW_JSON;
    return 0;
}

static hub_err unsupported(const char *what, const char *s, char *err, size_t errsz)
{
    snprintf(err, errsz, "%s '%s' is not supported.", what, s ? s : "");
    return HUB_EINVAL;
}

void hub_xl_usage_init(hub_xl_usage *u)
{
    u->prompt_tokens = u->completion_tokens = u->total_tokens = -1;
}

/* ---- shared helpers ---- */

json_object *hub_xl_get(json_object *o, const char *key, json_type t)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v) || v == NULL || !json_object_is_type(v, t))
        return NULL;
    return v;
}

const char *hub_xl_str(json_object *o, const char *key)
{
    json_object *v = hub_xl_get(o, key, json_type_string);
    return v ? json_object_get_string(v) : NULL;
}

bool hub_xl_content_text(json_object *content, hub_buf *out)
{
    if (content == NULL)
        return true;
    if (json_object_is_type(content, json_type_string))
        return hub_buf_puts(out, json_object_get_string(content));
    if (!json_object_is_type(content, json_type_array))
        return false;
    size_t n = json_object_array_length(content);
    for (size_t i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(content, i);
        const char *type = hub_xl_str(part, "type");
        const char *text = hub_xl_str(part, "text");
        if (type != NULL && strcmp(type, "text") == 0 && text != NULL && !hub_buf_puts(out, text))
            return false;
    }
    return true;
}

long long hub_xl_now(void)
{
    return (long long)time(NULL);
}

json_object *hub_xl_completion_new(const char *id, const char *model, json_object *choices,
                                   json_object *usage)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(o, "object", json_object_new_string("chat.completion"));
    json_object_object_add(o, "created", json_object_new_int64(hub_xl_now()));
    json_object_object_add(o, "model", json_object_new_string(model ? model : ""));
    json_object_object_add(o, "choices", choices);
    if (usage != NULL)
        json_object_object_add(o, "usage", usage);
    return o;
}

json_object *hub_xl_chunk_new(const char *id, const char *model, json_object **delta)
{
    json_object *c = json_object_new_object();
    json_object *choices = json_object_new_array();
    json_object *choice = json_object_new_object();
    json_object *d = json_object_new_object();
    json_object_object_add(c, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(c, "object", json_object_new_string("chat.completion.chunk"));
    json_object_object_add(c, "created", json_object_new_int64(hub_xl_now()));
    json_object_object_add(c, "model", json_object_new_string(model ? model : ""));
    json_object_object_add(choice, "index", json_object_new_int(0));
    json_object_object_add(choice, "delta", d);
    json_object_object_add(choice, "finish_reason", NULL);
    json_object_array_add(choices, choice);
    json_object_object_add(c, "choices", choices);
    *delta = d;
    return c;
}

void hub_xl_error_message(json_object *answer, char *msg, size_t msgsz, char *code, size_t codesz)
{
    msg[0] = '\0';
    code[0] = '\0';
    json_object *e = hub_xl_get(answer, "error", json_type_object);
    if (e == NULL) {
        /* Gemini sometimes answers with an array of one error object */
        if (answer != NULL && json_object_is_type(answer, json_type_array) &&
            json_object_array_length(answer) > 0)
            e = hub_xl_get(json_object_array_get_idx(answer, 0), "error", json_type_object);
    }
    if (e == NULL) {
        const char *s = hub_xl_str(answer, "error");
        if (s != NULL)
            snprintf(msg, msgsz, "%s", s);
        return;
    }
    const char *m = hub_xl_str(e, "message");
    const char *c = hub_xl_str(e, "code");
    if (c == NULL)
        c = hub_xl_str(e, "type"); /* Anthropic: error.type */
    if (c == NULL)
        c = hub_xl_str(e, "status"); /* Gemini: error.status */
    if (m != NULL)
        snprintf(msg, msgsz, "%s", m);
    if (c != NULL)
        snprintf(code, codesz, "%s", c);
}

void hub_xl_calls_init(hub_xl_calls *c)
{
    c->n = 0;
    for (size_t k = 0; k < HUB_XL_MAX_CALLS; k++)
        for (size_t q = 0; q < 3; q++)
            hub_buf_init(&c->f[k][q], HUB_XL_CALL_BYTES);
}

void hub_xl_calls_free(hub_xl_calls *c)
{
    for (size_t k = 0; k < c->n; k++)
        for (size_t q = 0; q < 3; q++)
            hub_buf_free(&c->f[k][q]);
    c->n = 0;
}

hub_err hub_xl_calls_add(hub_xl_calls *c, json_object *frag)
{
    json_object *ix = hub_xl_get(frag, "index", json_type_int);
    json_object *fn = hub_xl_get(frag, "function", json_type_object);
    long long k = ix != NULL ? (long long)json_object_get_int64(ix) : (long long)c->n;
    const char *id = hub_xl_str(frag, "id"), *name = hub_xl_str(fn, "name");
    const char *args = hub_xl_str(fn, "arguments");
    if (k < 0 || k >= HUB_XL_MAX_CALLS)
        return HUB_EUPSTREAM;
    c->n = (size_t)k >= c->n ? (size_t)k + 1 : c->n;
    hub_buf *f = c->f[k];
    bool ok = (id == NULL || f[0].len > 0 || hub_buf_puts(&f[0], id)) &&
              (name == NULL || hub_buf_puts(&f[1], name)) &&
              (args == NULL || hub_buf_puts(&f[2], args));
    return ok ? HUB_OK : HUB_EUPSTREAM;
}

const char *hub_xl_calls_id(const hub_xl_calls *c, size_t k, char fallback[32])
{
    if (c->f[k][0].len > 0)
        return c->f[k][0].data;
    snprintf(fallback, 32, "call_%zu", k);
    return fallback;
}

/* ---- outbound dispatch ---- */

hub_err hub_xl_chat_request(const char *provider_type, json_object *req, const char *upstream_model,
                            bool stream, int default_max_tokens, hub_buf *path, json_object **body,
                            char *err, size_t errsz)
{
    switch (kind_of(provider_type)) {
    case F_ANTHROPIC:
        return hub_xl_anthropic_request(req, upstream_model, stream, default_max_tokens, path, body,
                                        err, errsz);
    case F_GEMINI:
        return hub_xl_gemini_request(req, upstream_model, stream, path, body, err, errsz);
    default:
        return unsupported("Provider type", provider_type, err, errsz);
    }
}

hub_err hub_xl_chat_response(const char *provider_type, json_object *answer, const char *id,
                             const char *model, json_object **out, hub_xl_usage *u, char *err,
                             size_t errsz)
{
    switch (kind_of(provider_type)) {
    case F_ANTHROPIC:
        return hub_xl_anthropic_response(answer, id, model, out, u, err, errsz);
    case F_GEMINI:
        return hub_xl_gemini_response(answer, id, model, out, u, err, errsz);
    default:
        return unsupported("Provider type", provider_type, err, errsz);
    }
}

hub_err hub_xl_embed_request(const char *provider_type, json_object *req,
                             const char *upstream_model, hub_buf *path, json_object **body,
                             char *err, size_t errsz)
{
    if (kind_of(provider_type) == F_GEMINI)
        return hub_xl_gemini_embed_request(req, upstream_model, path, body, err, errsz);
    return unsupported("Embeddings on provider type", provider_type, err, errsz);
}

hub_err hub_xl_embed_response(const char *provider_type, json_object *answer, const char *model,
                              json_object **out, hub_xl_usage *u, char *err, size_t errsz)
{
    if (kind_of(provider_type) == F_GEMINI)
        return hub_xl_gemini_embed_response(answer, model, out, u, err, errsz);
    return unsupported("Embeddings on provider type", provider_type, err, errsz);
}

struct hub_xl_stream {
    int kind;
    void *impl; /* owned: the format's own state */
};

hub_xl_stream *hub_xl_stream_new(const char *provider_type, const char *id, const char *model)
{
    int k = kind_of(provider_type);
    void *impl = k == F_ANTHROPIC ? (void *)hub_xl_anthropic_stream_new(id, model)
                 : k == F_GEMINI  ? (void *)hub_xl_gemini_stream_new(id, model)
                                  : NULL;
    hub_xl_stream *st = impl ? calloc(1, sizeof(*st)) : NULL;
    if (st == NULL) {
        if (k == F_ANTHROPIC)
            hub_xl_anthropic_stream_free(impl);
        else if (k == F_GEMINI)
            hub_xl_gemini_stream_free(impl);
        return NULL;
    }
    st->kind = k;
    st->impl = impl;
    return st;
}

void hub_xl_stream_free(hub_xl_stream *st)
{
    if (st == NULL)
        return;
    if (st->kind == F_ANTHROPIC)
        hub_xl_anthropic_stream_free(st->impl);
    else if (st->kind == F_GEMINI)
        hub_xl_gemini_stream_free(st->impl);
    free(st);
}

hub_err hub_xl_stream_event(hub_xl_stream *st, const char *event, const char *data, size_t len,
                            json_object *chunks, hub_xl_usage *u, bool *done, char *err,
                            size_t errsz)
{
    if (st->kind == F_ANTHROPIC)
        return hub_xl_anthropic_stream_event(st->impl, event, data, len, chunks, u, done, err,
                                             errsz);
    return hub_xl_gemini_stream_event(st->impl, event, data, len, chunks, u, done, err, errsz);
}

/* ---- inbound dispatch ---- */

hub_err hub_xl_in_request(const char *format, json_object *in, json_object **out, bool *stream,
                          const char **param, char *err, size_t errsz)
{
    switch (kind_of(format)) {
    case F_ANTHROPIC:
        return hub_xl_in_anthropic_request(in, out, stream, param, err, errsz);
    case F_AIGNE:
        return hub_xl_in_aigne_request(in, out, stream, param, err, errsz);
    case F_AIGNE_FW:
    case F_AIGNE_FW_JSON:
        return hub_xl_in_aigne_fw_request(in, out, stream, param, err, errsz);
    default:
        return unsupported("Client format", format, err, errsz);
    }
}

hub_err hub_xl_in_response(const char *format, json_object *oai, json_object **out, char *err,
                           size_t errsz)
{
    switch (kind_of(format)) {
    case F_ANTHROPIC:
        return hub_xl_in_anthropic_response(oai, out, err, errsz);
    case F_AIGNE:
        return hub_xl_in_aigne_response(oai, out, err, errsz);
    case F_AIGNE_FW:
    case F_AIGNE_FW_JSON:
        return hub_xl_in_aigne_fw_response(oai, kind_of(format) == F_AIGNE_FW_JSON, out, err,
                                           errsz);
    default:
        return unsupported("Client format", format, err, errsz);
    }
}

void hub_xl_in_error(const char *format, int status, const char *message, const char *type,
                     hub_buf *out)
{
    int k = kind_of(format);
    if (k == F_ANTHROPIC)
        hub_xl_in_anthropic_error(status, message, type, out);
    else if (k == F_AIGNE_FW || k == F_AIGNE_FW_JSON)
        hub_xl_in_aigne_fw_error(status, message, type, out);
    else
        hub_xl_in_aigne_error(status, message, type, out);
}

struct hub_xl_in_stream {
    int kind;
    void *impl; /* owned */
};

static void in_stream_impl_free(int kind, void *impl)
{
    if (kind == F_ANTHROPIC)
        hub_xl_in_anthropic_stream_free(impl);
    else if (kind == F_AIGNE_FW)
        hub_xl_in_aigne_fw_stream_free(impl);
    else if (kind == F_AIGNE)
        hub_xl_in_aigne_stream_free(impl);
}

hub_xl_in_stream *hub_xl_in_stream_new(const char *format, const char *id, const char *model)
{
    int k = kind_of(format);
    if (k == F_AIGNE_FW_JSON)
        k = F_AIGNE_FW;
    void *impl =
        k == F_ANTHROPIC ? (void *)hub_xl_in_anthropic_stream_new(id, model)
        : k == F_AIGNE   ? (void *)hub_xl_in_aigne_stream_new(id, model)
        : k == F_AIGNE_FW
            ? (void *)hub_xl_in_aigne_fw_stream_new(model, kind_of(format) == F_AIGNE_FW_JSON)
            : NULL;
    hub_xl_in_stream *st = impl ? calloc(1, sizeof(*st)) : NULL;
    if (st == NULL) {
        in_stream_impl_free(k, impl);
        return NULL;
    }
    st->kind = k;
    st->impl = impl;
    return st;
}

void hub_xl_in_stream_free(hub_xl_in_stream *st)
{
    if (st == NULL)
        return;
    in_stream_impl_free(st->kind, st->impl);
    free(st);
}

hub_err hub_xl_in_stream_chunk(hub_xl_in_stream *st, json_object *chunk, hub_buf *out)
{
    if (st->kind == F_ANTHROPIC)
        return hub_xl_in_anthropic_stream_chunk(st->impl, chunk, out);
    if (st->kind == F_AIGNE_FW)
        return hub_xl_in_aigne_fw_stream_chunk(st->impl, chunk, out);
    return hub_xl_in_aigne_stream_chunk(st->impl, chunk, out);
}

hub_err hub_xl_in_stream_finish(hub_xl_in_stream *st, const hub_xl_usage *u, hub_buf *out)
{
    if (st->kind == F_ANTHROPIC)
        return hub_xl_in_anthropic_stream_finish(st->impl, u, out);
    if (st->kind == F_AIGNE_FW)
        return hub_xl_in_aigne_fw_stream_finish(st->impl, u, out);
    return hub_xl_in_aigne_stream_finish(st->impl, u, out);
}

void hub_xl_in_stream_error(hub_xl_in_stream *st, const char *message, hub_buf *out)
{
    if (st->kind == F_ANTHROPIC)
        hub_xl_in_anthropic_stream_error(st->impl, message, out);
    else if (st->kind == F_AIGNE_FW)
        hub_xl_in_aigne_fw_stream_error(st->impl, message, out);
    else
        hub_xl_in_aigne_stream_error(st->impl, message, out);
}
