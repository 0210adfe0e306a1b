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

static const char *const EP_PATHS[] = {
    [GW_EP_CHAT] = "/v1/chat/completions",
    [GW_EP_EMBED] = "/v1/embeddings",
    [GW_EP_IMAGES] = "/v1/images/generations",
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

bool gw_parse_json_body(gw_call *c, json_object **out)
{
    char err[256];
    hub_buf *b = &c->w->body;
    *out = NULL;
    if (!hub_json_parse(b->data, b->len, c->w->ctx->cfg.json_max_depth, out, err, sizeof(err))) {
        gw_respond_error(c, HUB_EINVAL, 0, err, NULL, "invalid_json");
        return false;
    }
    if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
        gw_respond_error(c, HUB_EINVAL, 0, "The request body must be a JSON object.", NULL, NULL);
        if (*out != NULL)
            json_object_put(*out);
        *out = NULL;
        return false;
    }
    return true;
}

bool gw_validate_openai(gw_call *c, gw_endpoint ep, json_object *o, const char **model)
{
    verr v = {.param = NULL};
    json_object *m = NULL;
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
    bool ok = ep == GW_EP_CHAT    ? check_chat(o, &v)
              : ep == GW_EP_EMBED ? check_embed(o, &v)
                                  : check_images(o, &v);
    if (!ok || !check_ids(o, &v))
        goto bad;
    *model = json_object_get_string(m);
    return true;
bad:
    gw_respond_error(c, HUB_EINVAL, 0, v.msg, v.param, NULL);
    return false;
}

/* stream and stream_options.include_usage as the client sent them. */
void gw_job_stream_flags(gw_job *job)
{
    json_object *s = NULL, *so = NULL, *iu = NULL;
    job->stream = json_object_object_get_ex(job->req, "stream", &s) && json_object_get_boolean(s);
    job->client_usage = json_object_object_get_ex(job->req, "stream_options", &so) &&
                        json_object_object_get_ex(so, "include_usage", &iu) &&
                        json_object_get_boolean(iu);
}

/* POST /v1/chat/completions, /v1/embeddings, /v1/images/generations. */
static void openai_call(gw_call *c, gw_endpoint ep)
{
    gw_job job = {.ep = ep, .ledger_endpoint = EP_PATHS[ep]};
    if (!gw_parse_json_body(c, &job.req))
        return;
    if (gw_validate_openai(c, ep, job.req, &job.model)) {
        if (ep == GW_EP_CHAT)
            gw_job_stream_flags(&job);
        gw_proxy(c, &job);
    }
    json_object_put(job.req);
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

typedef enum { R_OPENAI, R_MODELS, R_ANTHROPIC, R_AIGNE, R_AIGNE_STATUS, R_AIGNE_FW } route_kind;

static const struct {
    const char *path;
    route_kind kind;
    int ep; /* GW_EP_* for R_OPENAI */
} ROUTES[] = {
    {"/v1/chat/completions", R_OPENAI, GW_EP_CHAT},
    {"/v1/embeddings", R_OPENAI, GW_EP_EMBED},
    {"/v1/images/generations", R_OPENAI, GW_EP_IMAGES},
    {"/v1/models", R_MODELS, 0},
    {"/v1/messages", R_ANTHROPIC, 0},
    {"/api/v2/chat/completions", R_AIGNE, 0},
    {"/api/v2/chat", R_AIGNE_FW, 0},
    {"/api/v2/image", R_AIGNE_FW, 0},
    {"/api/v2/embeddings", R_AIGNE, 0},
    {"/api/v2/image/generations", R_AIGNE, 0},
    {"/api/v2/status", R_AIGNE_STATUS, 0},
};

void gw_handle(gw_call *c)
{
    char msg[256];
    const char *m = c->method;
    if (web_server_error(c))
        return;
    if (strcmp(c->path, "/__blocklet__.js") == 0) {
        gw_handle_blocklet(c); /* AIGNE clients look for the hub's mount point here */
        return;
    }
    if (strcmp(c->path, "/healthz") == 0 || strcmp(c->path, "/v1/healthz") == 0) {
        if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
            gw_respond_error(c, HUB_EMETHOD, 0, "Use GET.", NULL, NULL);
        else
            health(c);
        return;
    }
    int ri = -1;
    for (int i = 0; i < (int)(sizeof(ROUTES) / sizeof(ROUTES[0])); i++) {
        if (strcmp(c->path, ROUTES[i].path) == 0)
            ri = i;
    }
    if (ri < 0) {
        gw_respond_error(c, HUB_ENOTFOUND, 0, "Unknown API route.", NULL, "not_found");
        return;
    }
    route_kind k = ROUTES[ri].kind;
    c->format = k == R_ANTHROPIC                      ? GW_FMT_ANTHROPIC
                : k == R_AIGNE || k == R_AIGNE_STATUS ? GW_FMT_AIGNE
                : k == R_AIGNE_FW                     ? GW_FMT_AIGNE_FW
                                                      : GW_FMT_OPENAI;
    bool get = k == R_MODELS || k == R_AIGNE_STATUS;
    if (strcmp(m, get ? "GET" : "POST") != 0) {
        gw_respond_error(c, HUB_EMETHOD, 0, get ? "Use GET." : "Use POST.", NULL, NULL);
        return;
    }
    hub_err e = gw_authenticate(c, msg, sizeof(msg));
    if (e != HUB_OK) {
        gw_respond_error(c, e, 0, msg, NULL, NULL);
        return;
    }
    if (k == R_MODELS) {
        list_models(c);
        return;
    }
    if (k == R_AIGNE_STATUS) {
        gw_handle_aigne(c, "status");
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
    if (k == R_OPENAI)
        openai_call(c, (gw_endpoint)ROUTES[ri].ep);
    else if (k == R_ANTHROPIC)
        gw_handle_anthropic(c);
    else
        gw_handle_aigne(c, c->path + strlen("/api/v2/"));
}
