/*
 * gw_openai.c — the OpenAI-compatible API: routing of /v1 paths, validation of each
 * request body, model resolution and authorisation, the body rewrite sent upstream, and
 * GET /v1/models and /healthz.
 */
#include "gw.h"

#include "hub_json.h"
#include "hub_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_MODEL_NAME 256
#define MAX_MESSAGES   10000
#define MAX_N          128

typedef enum { EP_CHAT, EP_EMBED, EP_IMAGES } endpoint_kind;

static const struct {
    const char *path;     /* client path */
    const char *upstream; /* appended to the provider base URL */
    const char *kind;     /* model kind this endpoint serves */
} EPS[] = {
    [EP_CHAT] = {"/v1/chat/completions", "/chat/completions", "chat"},
    [EP_EMBED] = {"/v1/embeddings", "/embeddings", "embedding"},
    [EP_IMAGES] = {"/v1/images/generations", "/images/generations", "image"},
};

/* A string safe to copy upstream: no control characters (CR, LF, NUL, …). */
static bool clean_string(const char *s, size_t max)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        if (*p < 0x20 || *p == 0x7f || n >= max)
            return false;
    }
    return true;
}

/* Model names: [A-Za-z0-9._:@/-], no "..", not empty, ≤ MAX_MODEL_NAME bytes. */
static bool valid_model(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_MODEL_NAME || strstr(s, "..") != NULL || s[0] == '/')
        return false;
    for (const char *p = s; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' || ch == '@' ||
                  ch == '/' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

typedef struct {
    char msg[256];
    const char *param;
} verr;

static bool fail(verr *v, const char *param, const char *msg)
{
    snprintf(v->msg, sizeof(v->msg), "%s", msg);
    v->param = param;
    return false;
}

/* Optional positive integer field in [1, max]. */
static bool opt_int(json_object *o, const char *k, long long max, verr *v)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, k, &x) || x == NULL)
        return true;
    if (!json_object_is_type(x, json_type_int))
        return fail(v, k, "must be an integer");
    errno = 0;
    int64_t n = json_object_get_int64(x);
    if (errno != 0 || n < 1 || n > max) {
        snprintf(v->msg, sizeof(v->msg), "must be an integer between 1 and %lld", max);
        v->param = k;
        return false;
    }
    return true;
}

static bool opt_type(json_object *o, const char *k, json_type t, const char *what, verr *v)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, k, &x) || x == NULL)
        return true;
    if (!json_object_is_type(x, t))
        return fail(v, k, what);
    return true;
}

/* Fields copied upstream verbatim that must be clean identifiers. */
static bool check_ids(json_object *o, verr *v)
{
    json_object *x = NULL;
    if (json_object_object_get_ex(o, "user", &x) && x != NULL) {
        if (!json_object_is_type(x, json_type_string))
            return fail(v, "user", "must be a string");
        if (!clean_string(json_object_get_string(x), 256))
            return fail(v, "user", "must be at most 256 characters without control characters");
    }
    if (json_object_object_get_ex(o, "metadata", &x) && x != NULL) {
        if (!json_object_is_type(x, json_type_object))
            return fail(v, "metadata", "must be an object of strings");
        json_object_object_foreach(x, mk, mv)
        {
            if (!clean_string(mk, 64) || !json_object_is_type(mv, json_type_string) ||
                !clean_string(json_object_get_string(mv), 512))
                return fail(v, "metadata",
                            "must map short keys to strings without control "
                            "characters");
        }
    }
    return true;
}

static bool check_chat(json_object *o, verr *v)
{
    json_object *m = NULL;
    if (!json_object_object_get_ex(o, "messages", &m) || m == NULL)
        return fail(v, "messages", "messages is required");
    if (!json_object_is_type(m, json_type_array))
        return fail(v, "messages", "messages must be an array");
    size_t n = json_object_array_length(m);
    if (n == 0)
        return fail(v, "messages", "messages must not be empty");
    if (n > MAX_MESSAGES)
        return fail(v, "messages", "too many messages (the limit is 10000)");
    for (size_t i = 0; i < n; i++) {
        json_object *msg = json_object_array_get_idx(m, i), *role = NULL;
        if (!json_object_is_type(msg, json_type_object) ||
            !json_object_object_get_ex(msg, "role", &role) ||
            !json_object_is_type(role, json_type_string))
            return fail(v, "messages", "each message must be an object with a string role");
    }
    return opt_type(o, "stream", json_type_boolean, "must be a boolean", v) &&
           opt_type(o, "stream_options", json_type_object, "must be an object", v) &&
           opt_int(o, "max_tokens", 1LL << 31, v) &&
           opt_int(o, "max_completion_tokens", 1LL << 31, v) && opt_int(o, "n", MAX_N, v);
}

static bool check_embed(json_object *o, verr *v)
{
    json_object *in = NULL;
    if (!json_object_object_get_ex(o, "input", &in) || in == NULL)
        return fail(v, "input", "input is required");
    if (!json_object_is_type(in, json_type_string) && !json_object_is_type(in, json_type_array))
        return fail(v, "input", "input must be a string or an array");
    if (json_object_is_type(in, json_type_array) && json_object_array_length(in) == 0)
        return fail(v, "input", "input must not be empty");
    return opt_int(o, "dimensions", 1 << 16, v);
}

static bool check_images(json_object *o, verr *v)
{
    json_object *p = NULL;
    if (!json_object_object_get_ex(o, "prompt", &p) || p == NULL)
        return fail(v, "prompt", "prompt is required");
    if (!json_object_is_type(p, json_type_string))
        return fail(v, "prompt", "prompt must be a string");
    return opt_int(o, "n", 10, v);
}

/* Parses and validates a POST body into *out (caller puts it). */
static bool parse_body(gw_call *c, endpoint_kind ep, json_object **out, const char **model)
{
    char err[256];
    verr v = {.param = NULL};
    json_object *o = NULL, *m = NULL;
    hub_buf *b = &c->w->body;
    if (!hub_json_parse(b->data, b->len, c->w->ctx->cfg.json_max_depth, &o, err, sizeof(err))) {
        gw_respond_error(c, HUB_EINVAL, 0, err, NULL, "invalid_json");
        return false;
    }
    if (o == NULL || !json_object_is_type(o, json_type_object)) {
        fail(&v, NULL, "The request body must be a JSON object.");
        goto bad;
    }
    if (!json_object_object_get_ex(o, "model", &m) || m == NULL) {
        fail(&v, "model", "model is required");
        goto bad;
    }
    if (!json_object_is_type(m, json_type_string) || !valid_model(json_object_get_string(m))) {
        fail(&v, "model",
             "model must be a name of at most 256 characters from A-Z a-z 0-9 . _ : "
             "@ / -");
        goto bad;
    }
    bool ok = ep == EP_CHAT    ? check_chat(o, &v)
              : ep == EP_EMBED ? check_embed(o, &v)
                               : check_images(o, &v);
    if (!ok || !check_ids(o, &v))
        goto bad;
    *out = o;
    *model = json_object_get_string(m);
    return true;
bad:
    gw_respond_error(c, HUB_EINVAL, 0, v.msg, v.param, NULL);
    if (o != NULL)
        json_object_put(o);
    return false;
}

static bool wants_stream(json_object *o)
{
    json_object *s = NULL;
    return json_object_object_get_ex(o, "stream", &s) && json_object_get_boolean(s);
}

/* stream_options.include_usage as the client sent it. */
static bool client_wants_usage(json_object *o)
{
    json_object *so = NULL, *iu = NULL;
    return json_object_object_get_ex(o, "stream_options", &so) &&
           json_object_object_get_ex(so, "include_usage", &iu) && json_object_get_boolean(iu);
}

static void proxy(gw_call *c, endpoint_kind ep)
{
    json_object *o = NULL;
    const char *model = NULL;
    hub_catalog *cat = NULL;
    hub_route r;
    char msg[512];

    if (!parse_body(c, ep, &o, &model))
        goto end;
    cat = gw_catalog_get(c->w, false);
    if (cat == NULL) {
        gw_respond_error(c, HUB_EDB, 0, "The model catalogue is not available yet.", NULL, NULL);
        goto end;
    }
    hub_err e = hub_catalog_route(cat, model, &r);
    if (e == HUB_ENOTFOUND) { /* maybe added a moment ago: reload once */
        hub_catalog_release(cat);
        cat = gw_catalog_get(c->w, true);
        e = cat ? hub_catalog_route(cat, model, &r) : HUB_EDB;
    }
    if (e != HUB_OK) {
        if (e == HUB_ENOTFOUND)
            snprintf(msg, sizeof(msg),
                     "The model '%s' does not exist or is not routed by this hub.", model);
        else if (r.provider != NULL && !r.provider->enabled)
            snprintf(msg, sizeof(msg), "Provider '%s' of the model '%s' is currently disabled.",
                     r.provider->name, model);
        else
            snprintf(msg, sizeof(msg), "The model '%s' is currently disabled.", model);
        gw_respond_error(c, e, 0, msg, "model", NULL);
        goto end;
    }
    if (!gw_model_allowed(&c->who, model, r.canonical)) {
        snprintf(msg, sizeof(msg), "This API key may not use the model '%s'.", model);
        gw_respond_error(c, HUB_EFORBIDDEN, 0, msg, "model", NULL);
        goto end;
    }
    if (r.kind != NULL && strcmp(r.kind, EPS[ep].kind) != 0) {
        snprintf(msg, sizeof(msg), "The model '%s' is a %s model; it cannot serve %s.", model,
                 r.kind, EPS[ep].path);
        gw_respond_error(c, HUB_EINVAL, 0, msg, "model", "unsupported_model");
        goto end;
    }
    if (strcmp(r.provider->type, "openai") != 0 &&
        strcmp(r.provider->type, "openai-compatible") != 0) {
        snprintf(msg, sizeof(msg), "Provider type '%s' is not supported by this gateway version.",
                 r.provider->type);
        gw_respond_error(c, HUB_EUNAVAIL, 0, msg, "model", NULL);
        goto end;
    }
    if (!gw_upstream_url_allowed(r.provider)) {
        gw_respond_error(c, HUB_EUNAVAIL, 0,
                         "The provider's base URL is not allowed (https only, or http for a "
                         "provider marked internal).",
                         NULL, NULL);
        goto end;
    }
    if (r.cred == NULL) {
        snprintf(msg, sizeof(msg), "Provider '%s' has no active credential.", r.provider->name);
        gw_respond_error(c, HUB_EUNAVAIL, 0, msg, NULL, NULL);
        goto end;
    }
    if (!r.cred->readable) {
        HUB_ERROR("credential %lld of provider %s cannot be decrypted; refusing the request",
                  r.cred->id, r.provider->name);
        snprintf(msg, sizeof(msg),
                 "The stored credential of provider '%s' cannot be decrypted; an administrator "
                 "must re-enter it or restore the master key.",
                 r.provider->name);
        gw_respond_error(c, HUB_ECRYPTO, 0, msg, NULL, NULL);
        goto end;
    }

    bool stream = ep == EP_CHAT && wants_stream(o);
    bool strip = false;
    json_object_object_add(o, "model", json_object_new_string(r.upstream_model));
    if (stream && !client_wants_usage(o)) {
        json_object *so = NULL;
        if (!json_object_object_get_ex(o, "stream_options", &so) || so == NULL) {
            so = json_object_new_object();
            json_object_object_add(o, "stream_options", so);
        }
        json_object_object_add(so, "include_usage", json_object_new_boolean(1));
        strip = true;
    }
    size_t blen = 0;
    const char *body = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &blen);
    hub_usage u;
    gw_meter_begin(c, &r, EPS[ep].path, stream, &u);
    gw_attempt a = {
        .route = &r,
        .endpoint = EPS[ep].upstream,
        .body = body,
        .body_len = blen,
        .stream = stream,
        .strip_usage_chunk = strip,
        .price = hub_catalog_price(cat, r.provider, r.upstream_model),
        .usage = &u,
    };
    gw_upstream_call(c, &a);
    gw_meter_end(c, &a.price, &u);
end:
    if (o != NULL)
        json_object_put(o);
    hub_catalog_release(cat);
}

static void list_models(gw_call *c)
{
    hub_catalog *cat = gw_catalog_get(c->w, false);
    hub_buf b;
    hub_buf_init(&b, 0);
    if (cat == NULL) {
        gw_respond_error(c, HUB_EDB, 0, "The model catalogue is not available yet.", NULL, NULL);
        goto end;
    }
    hub_buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    int n = 0;
    for (int i = 0; i < cat->nmodels; i++) {
        const hub_model *m = &cat->models[i];
        const hub_provider *p = &cat->providers[m->provider];
        char canonical[400];
        snprintf(canonical, sizeof(canonical), "%s/%s", p->name, m->upstream);
        if (!m->enabled || !p->enabled || !gw_model_allowed(&c->who, m->name, canonical))
            continue;
        hub_buf_puts(&b, n++ ? ",{\"id\":" : "{\"id\":");
        hub_buf_json_str(&b, m->name);
        hub_buf_puts(&b, ",\"object\":\"model\",\"created\":0,\"owned_by\":");
        hub_buf_json_str(&b, p->name);
        hub_buf_puts(&b, "}");
    }
    if (!hub_buf_puts(&b, "]}")) {
        gw_respond_error(c, HUB_ENOMEM, 0, NULL, NULL, NULL);
        goto end;
    }
    gw_respond(c, 200, "application/json", NULL, b.data, b.len);
end:
    hub_buf_free(&b);
    hub_catalog_release(cat);
}

static void health(gw_call *c)
{
    char body[256];
    bool db = hub_db_ensure(c->w->db);
    snprintf(body, sizeof(body), "{\"status\":\"ok\",\"database\":\"%s\",\"spool_backlog\":%ld}",
             db ? "ok" : "unavailable", hub_spool_backlog(c->w->ctx->spool));
    gw_respond(c, 200, "application/json", NULL, body, strlen(body));
}

static bool json_content_type(const char *ct)
{
    if (ct == NULL)
        return false;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

/* The web server's own errors (413 over its body limit, 400 bad request, 404 off-route, …)
 * routed here by lighttpd's server.error-handler: answer them OpenAI-shaped too. */
static bool web_server_error(gw_call *c)
{
    long st = 0;
    const char *rs = gw_param(c, "REDIRECT_STATUS");
    if (rs == NULL || !hub_parse_long(rs, 400, 599, &st))
        return false;
    const char *msg = st == 413   ? "Request body is larger than the server's limit."
                      : st == 431 ? "Request headers are too large."
                      : st == 408 ? "The request body did not arrive in time."
                      : st == 404 ? "Unknown API route."
                                  : hub_http_reason((int)st);
    gw_respond_error(c, st == 413 ? HUB_ETOOBIG : HUB_EINVAL, (int)st, msg, NULL, NULL);
    return true;
}

void gw_handle(gw_call *c)
{
    char msg[256];
    const char *m = c->method;
    if (web_server_error(c))
        return;
    int ep = -1;
    for (int i = 0; i < (int)(sizeof(EPS) / sizeof(EPS[0])); i++) {
        if (strcmp(c->path, EPS[i].path) == 0)
            ep = i;
    }
    bool is_models = strcmp(c->path, "/v1/models") == 0;
    if (strcmp(c->path, "/healthz") == 0 || strcmp(c->path, "/v1/healthz") == 0) {
        if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
            gw_respond_error(c, HUB_EMETHOD, 0, "Use GET.", NULL, NULL);
        else
            health(c);
        return;
    }
    if (ep < 0 && !is_models) {
        snprintf(msg, sizeof(msg), "Unknown API route.");
        gw_respond_error(c, HUB_ENOTFOUND, 0, msg, NULL, "not_found");
        return;
    }
    if ((is_models && strcmp(m, "GET") != 0) || (ep >= 0 && strcmp(m, "POST") != 0)) {
        gw_respond_error(c, HUB_EMETHOD, 0, is_models ? "Use GET." : "Use POST.", NULL, NULL);
        return;
    }
    hub_err e = gw_authenticate(c, msg, sizeof(msg));
    if (e != HUB_OK) {
        gw_respond_error(c, e, 0, msg, NULL, NULL);
        return;
    }
    if (is_models) {
        list_models(c);
        return;
    }
    if (!json_content_type(gw_param(c, "CONTENT_TYPE"))) {
        gw_respond_error(c, HUB_EMEDIA, 0, "Send the body as Content-Type: application/json.", NULL,
                         NULL);
        return;
    }
    e = gw_read_body(c, msg, sizeof(msg));
    if (e != HUB_OK) {
        gw_respond_error(c, e, 0, msg, NULL, NULL);
        return;
    }
    proxy(c, (endpoint_kind)ep);
}
