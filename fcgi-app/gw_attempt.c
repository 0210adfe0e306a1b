/*
 * gw_attempt.c — one attempt against a provider with libcurl: the request in the
 * provider's wire format (URL, auth header, body), the transfer with its time bounds
 * (connect, first byte, idle between bytes, total), and the classification of what came
 * back for the retry decision. Successful answers go through gw_relay.c.
 *
 * The upstream receives the provider credential and nothing of the client's headers.
 * Redirects are never followed; plain http only for providers an admin marked internal.
 */
#include "gw.h"

#include "hub_log.h"
#include "hub_xlate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_UPSTREAM_BODY (256L * 1024 * 1024)
#define ABORT_DRAIN_MS    10000 /* after a client leaves, read on this long for the usage */

typedef struct {
    gw_attempt *a;
    gw_relay *relay; /* owned; created on the first byte of a 2xx stream */
    long status;
    bool first;
    bool timed_out;
    bool too_big;
    long long start_ms, last_ms; /* monotonic */
    long long first_wall_ms;
} xfer;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool gw_upstream_url_allowed(const hub_provider *p)
{
    if (strncmp(p->base_url, "https://", 8) == 0)
        return true;
    return p->internal && strncmp(p->base_url, "http://", 7) == 0;
}

bool gw_provider_is_openai(const hub_provider *p)
{
    return strcmp(p->type, "openai") == 0 || strcmp(p->type, "openai-compatible") == 0;
}

static const char *const OPENAI_PATHS[] = {
    [GW_EP_CHAT] = "/chat/completions",
    [GW_EP_EMBED] = "/embeddings",
    [GW_EP_IMAGES] = "/images/generations",
};

static void set_result(gw_result *r, hub_err e, int status, bool retryable, const char *msg)
{
    r->err = e;
    r->status = status;
    r->retryable = retryable;
    snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

/*
 * The URL and body for this attempt. Returns false with a->res set (a 400 for a request
 * this provider cannot serve, a 500 when out of memory).
 */
static bool build(gw_attempt *a, hub_buf *url, hub_buf *body)
{
    const hub_provider *p = a->t->provider;
    const gw_job *job = a->job;
    json_object *out = NULL;
    hub_buf path;
    char err[256];
    bool ok = false;
    hub_buf_init(&path, 0);
    size_t blen = strlen(p->base_url);
    while (blen > 0 && p->base_url[blen - 1] == '/')
        blen--;
    hub_buf_append(url, p->base_url, blen);

    if (gw_provider_is_openai(p)) {
        json_object_object_add(job->req, "model", json_object_new_string(a->t->upstream_model));
        if (job->stream) {
            /* ask for the usage chunk: the ledger needs it (gw_relay drops it again when the
             * client did not ask) */
            json_object *so = NULL;
            if (!json_object_object_get_ex(job->req, "stream_options", &so) || so == NULL ||
                !json_object_is_type(so, json_type_object)) {
                so = json_object_new_object();
                json_object_object_add(job->req, "stream_options", so);
            }
            json_object_object_add(so, "include_usage", json_object_new_boolean(1));
        }
        if (strcmp(p->preset, "azure") == 0)
            hub_buf_printf(url, "/openai/deployments/%s%s?api-version=%s", a->t->upstream_model,
                           OPENAI_PATHS[job->ep],
                           p->api_version[0] ? p->api_version : "2024-10-21");
        else
            hub_buf_puts(url, OPENAI_PATHS[job->ep]);
        ok = hub_buf_puts(body,
                          json_object_to_json_string_ext(
                              job->req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        goto end;
    }
    hub_err e = HUB_EINVAL;
    if (job->ep == GW_EP_CHAT)
        e = hub_xl_chat_request(p->type, job->req, a->t->upstream_model, job->stream,
                                a->c->w->ctx->cfg.default_max_tokens, &path, &out, err,
                                sizeof(err));
    else if (job->ep == GW_EP_EMBED)
        e = hub_xl_embed_request(p->type, job->req, a->t->upstream_model, &path, &out, err,
                                 sizeof(err));
    else
        snprintf(err, sizeof(err), "Provider '%s' (type %s) does not generate images.", p->name,
                 p->type);
    if (e != HUB_OK) {
        set_result(&a->res, e, 0, false, err);
        snprintf(a->res.param, sizeof(a->res.param), "model");
        goto end;
    }
    ok = hub_buf_puts(url, path.data ? path.data : "") &&
         hub_buf_puts(body, json_object_to_json_string_ext(
                                out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
end:
    if (!ok && a->res.status == 0 && a->res.err == HUB_OK)
        set_result(&a->res, HUB_ENOMEM, 0, false, "Out of memory building the provider request.");
    if (out != NULL)
        json_object_put(out);
    hub_buf_free(&path);
    return ok;
}

/* The provider's auth header line for the credential (the caller wipes it). */
static bool auth_header(const hub_provider *p, const hub_credential *cr, hub_buf *h)
{
    const char *name = "Authorization: Bearer ";
    if (strcmp(p->type, "anthropic") == 0)
        name = "x-api-key: ";
    else if (strcmp(p->type, "gemini") == 0)
        name = "x-goog-api-key: ";
    else if (strcmp(p->auth_header, "api-key") == 0)
        name = "api-key: ";
    else if (strcmp(p->auth_header, "none") == 0)
        return true;
    return hub_buf_puts(h, name) && hub_buf_append(h, cr->secret, cr->secret_len);
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(ptr, "retry-after:", 12) == 0) {
        char v[32];
        size_t k = n - 12 < sizeof(v) - 1 ? n - 12 : sizeof(v) - 1;
        memcpy(v, ptr + 12, k);
        v[k] = '\0';
        long secs = strtol(v, NULL, 10);
        if (secs > 0)
            x->a->res.retry_after_s = secs;
    }
    return n;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    gw_attempt *a = x->a;
    size_t n = size * nmemb;
    x->last_ms = mono_ms();
    if (!x->first) {
        x->first = true;
        x->first_wall_ms = hub_now_ms();
        curl_easy_getinfo(a->c->w->curl, CURLINFO_RESPONSE_CODE, &x->status);
        if (a->job->stream && x->status >= 200 && x->status < 300) {
            x->relay = gw_relay_new(a);
            if (x->relay == NULL)
                return 0;
        }
    }
    if (x->relay != NULL) {
        if (!gw_relay_feed(x->relay, ptr, n))
            return 0;
        long long since = 0;
        if (gw_relay_client_gone(x->relay, &since) && hub_now_ms() - since > ABORT_DRAIN_MS)
            return 0; /* read on for the usage only this long */
        return n;
    }
    if (!hub_buf_append(&a->c->w->upstream, ptr, n)) {
        x->too_big = true;
        return 0;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    xfer *x = ud;
    const hub_config *cfg = &x->a->c->w->ctx->cfg;
    long long now = mono_ms();
    if (!x->first && now - x->start_ms > cfg->first_byte_timeout_ms)
        x->timed_out = true;
    else if (x->first && now - x->last_ms > cfg->idle_timeout_ms)
        x->timed_out = true;
    return x->timed_out ? 1 : 0;
}

/* An upstream error status: its message (never our secret), cooldown or disable. */
static void upstream_error(gw_attempt *a, long status)
{
    hub_buf *b = &a->c->w->upstream;
    const hub_provider *p = a->t->provider;
    char msg[400], code[64];
    json_tokener *tok = json_tokener_new();
    json_object *o = tok && b->len > 0 ? json_tokener_parse_ex(tok, b->data, (int)b->len) : NULL;
    hub_xl_error_message(o, msg, sizeof(msg), code, sizeof(code));
    if (msg[0] == '\0')
        snprintf(msg, sizeof(msg), "Provider '%s' answered HTTP %ld.", p->name, status);
    if (status == 401 || status == 403) {
        /* the provider refused the hub's credential: say so without quoting anything */
        snprintf(msg, sizeof(msg),
                 "Provider '%s' rejected the hub's credential (HTTP %ld); an administrator "
                 "must update it.",
                 p->name, status);
        char why[128];
        snprintf(why, sizeof(why), "provider answered HTTP %ld", status);
        gw_creds_disable(a->c->w, a->cred, why);
    } else if (status == 429) {
        gw_creds_cooldown(a->c->w, a->cred, a->res.retry_after_s, "provider answered HTTP 429");
    }
    /* never pass the secret on, even if a provider quotes it */
    char *hit;
    while (a->cred->secret_len >= 4 &&
           (hit = memmem(msg, strlen(msg), a->cred->secret, a->cred->secret_len)) != NULL)
        memset(hit, '*', a->cred->secret_len);
    bool cred = status == 429 || status == 401 || status == 403;
    set_result(&a->res, HUB_EUPSTREAM, (int)status, cred || status >= 500, msg);
    a->res.credential_fault = cred;
    snprintf(a->res.code, sizeof(a->res.code), "%s", code);
    HUB_WARN_RL("upstream %s answered HTTP %ld", p->name, status);
    if (o != NULL)
        json_object_put(o);
    if (tok != NULL)
        json_tokener_free(tok);
}

void gw_attempt_run(gw_attempt *a)
{
    gw_worker *w = a->c->w;
    const hub_provider *p = a->t->provider;
    hub_usage *u = a->usage;
    struct curl_slist *hdrs = NULL;
    hub_buf url, body, auth;
    xfer x = {.a = a};
    hub_buf_init(&url, 0);
    hub_buf_init(&body, 0);
    hub_buf_init(&auth, 0);
    bool metered = false;
    memset(&a->res, 0, sizeof(a->res));

    if (!build(a, &url, &body) || !auth_header(p, a->cred, &auth)) {
        if (a->res.status == 0 && a->res.err == HUB_OK)
            set_result(&a->res, HUB_ENOMEM, 0, false, "Out of memory.");
        goto end; /* nothing went upstream: nothing to meter */
    }
    if (auth.len > 0)
        hdrs = curl_slist_append(hdrs, auth.data);
    if (strcmp(p->type, "anthropic") == 0) {
        char v[64];
        snprintf(v, sizeof(v), "anthropic-version: %s",
                 p->api_version[0] ? p->api_version : "2023-06-01");
        hdrs = curl_slist_append(hdrs, v);
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, a->job->stream ? "Accept: text/event-stream"
                                                  : "Accept: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    hdrs = curl_slist_append(hdrs, "User-Agent: hub-gateway/" PACKAGE_VERSION);

    CURL *h = w->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, p->internal ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)w->ctx->cfg.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)w->ctx->cfg.upstream_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

    hub_buf_reset(&w->upstream);
    w->upstream.cap = MAX_UPSTREAM_BODY;
    gw_meter_begin(a->c, a->t, a->cred, a->number, a->job->ledger_endpoint, a->job->stream, u);
    metered = true;
    x.start_ms = x.last_ms = mono_ms();
    CURLcode rc = curl_easy_perform(h);
    if (x.status == 0)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x.status);
    a->res.upstream_status = (int)x.status;
    u->status = x.status > 0 ? (int)x.status : -1;
    if (x.first)
        u->ttfb_ms = x.first_wall_ms - a->c->t0_ms;
    bool timeout = x.timed_out || rc == CURLE_OPERATION_TIMEDOUT;

    if (x.relay != NULL) {
        if (gw_relay_started(x.relay) || (rc == CURLE_OK && !timeout)) {
            gw_relay_end(x.relay, rc == CURLE_OK && !timeout, timeout, curl_easy_strerror(rc));
            a->res.answered = true;
        } else {
            /* a 2xx stream that broke before anything reached the client: try elsewhere */
            snprintf(u->outcome, sizeof(u->outcome), timeout ? "timeout" : "truncated");
            set_result(&a->res, timeout ? HUB_ETIMEOUT : HUB_EUPSTREAM, 0, true,
                       timeout ? "The provider did not answer in time."
                               : "The provider's stream ended before any data.");
        }
        goto end;
    }
    if (rc != CURLE_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "Provider '%s' %s: %s.", p->name,
                 timeout     ? "timed out"
                 : x.too_big ? "answered too much"
                             : "could not be reached",
                 timeout ? "no answer within the configured time" : curl_easy_strerror(rc));
        snprintf(u->outcome, sizeof(u->outcome), timeout ? "timeout" : "upstream_error");
        HUB_WARN_RL("upstream %s: %s", p->name, timeout ? "timeout" : curl_easy_strerror(rc));
        set_result(&a->res, timeout ? HUB_ETIMEOUT : HUB_EUPSTREAM, 0, !x.too_big, msg);
        goto end;
    }
    if (x.status < 200 || x.status >= 300) {
        snprintf(u->outcome, sizeof(u->outcome), "upstream_error");
        upstream_error(a, x.status);
        goto end;
    }
    if (gw_relay_answer(a, w->upstream.data ? w->upstream.data : "", w->upstream.len))
        a->res.answered = true;
end:
    if (metered)
        gw_meter_end(a->c, &a->price, u);
    gw_relay_free(x.relay);
    curl_slist_free_all(hdrs);
    if (auth.data != NULL)
        memset(auth.data, 0, auth.len);
    hub_buf_free(&auth);
    hub_buf_free(&url);
    hub_buf_free(&body);
    if (w->upstream.size > 4 * 1024 * 1024)
        hub_buf_free(&w->upstream); /* do not keep a huge image answer per thread */
}
