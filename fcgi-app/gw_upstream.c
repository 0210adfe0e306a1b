/*
 * gw_upstream.c — one attempt against a provider with libcurl, and the relay of its
 * answer: buffered JSON for plain calls, event-by-event SSE for streams.
 *
 * The upstream receives the provider credential from the routing snapshot and nothing
 * of the client's headers. Redirects are never followed; plain http is allowed only for
 * providers an admin marked internal. Usage is read on the way (the chunk OpenAI sends
 * for stream_options.include_usage is dropped when the hub asked for it, not the client).
 * Every path ends in a complete answer or a final SSE error event, and an outcome.
 */
#include "gw.h"

#include "hub_log.h"

#include <stdio.h>
#include <string.h>

#define MAX_UPSTREAM_BODY (256L * 1024 * 1024)
#define MAX_SSE_EVENT     (16L * 1024 * 1024)
#define ABORT_DRAIN_MS    10000 /* after a client leaves, read on this long for the usage */

typedef struct {
    gw_call *c;
    gw_attempt *a;
    long status;
    bool relaying; /* streaming 2xx to the client */
    bool client_gone;
    bool aborted_by_us;
    bool saw_done;
    long long gone_ms;
    long long first_ms;
} xfer;

/* Replaces every occurrence of secret in s (in place) with "[redacted]" where it fits. */
static void redact(char *s, size_t len, const char *secret, size_t slen)
{
    if (secret == NULL || slen < 4)
        return;
    char *p = s;
    while ((p = memmem(p, len - (size_t)(p - s), secret, slen)) != NULL) {
        memset(p, '*', slen);
        p += slen;
    }
}

/* Handles one complete SSE event (with its blank-line terminator). */
static void on_event(xfer *x, char *ev, size_t len)
{
    gw_attempt *a = x->a;
    bool forward = true;
    const hub_credential *cr = a->route->cred;
    redact(ev, len, cr ? cr->secret : NULL, cr ? cr->secret_len : 0);
    const char *data = memmem(ev, len, "data:", 5);
    if (data != NULL) {
        const char *p = data + 5;
        while (*p == ' ')
            p++;
        size_t dlen = len - (size_t)(p - ev);
        if (dlen >= 6 && memcmp(p, "[DONE]", 6) == 0) {
            x->saw_done = true;
        } else if (memmem(p, dlen, "\"usage\"", 7) != NULL) {
            json_tokener *tok = json_tokener_new();
            json_object *o = tok ? json_tokener_parse_ex(tok, p, (int)dlen) : NULL;
            json_object *usage = NULL, *choices = NULL;
            if (o != NULL && json_object_object_get_ex(o, "usage", &usage) && usage != NULL &&
                json_object_is_type(usage, json_type_object)) {
                gw_meter_read_usage(usage, a->usage);
                if (a->strip_usage_chunk && json_object_object_get_ex(o, "choices", &choices) &&
                    json_object_is_type(choices, json_type_array) &&
                    json_object_array_length(choices) == 0)
                    forward = false;
            }
            if (o != NULL)
                json_object_put(o);
            if (tok != NULL)
                json_tokener_free(tok);
        }
    }
    if (forward && !x->client_gone && !gw_stream_write(x->c, ev, len)) {
        x->client_gone = true;
        x->gone_ms = hub_now_ms();
        HUB_INFO("client went away mid-stream; reading the upstream on for its usage");
    }
}

/* Splits the carried-over bytes into events ("\n\n" or "\r\n\r\n" terminated). */
static bool relay_events(xfer *x)
{
    hub_buf *b = &x->c->w->upstream;
    size_t start = 0;
    for (size_t i = 0; i + 1 < b->len; i++) {
        size_t end = 0;
        if (b->data[i] == '\n' && b->data[i + 1] == '\n')
            end = i + 2;
        else if (i + 3 < b->len && memcmp(b->data + i, "\r\n\r\n", 4) == 0)
            end = i + 4;
        if (end == 0)
            continue;
        on_event(x, b->data + start, end - start);
        start = end;
        i = end - 1;
    }
    hub_buf_consume(b, start);
    return b->len <= (size_t)MAX_SSE_EVENT;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    gw_call *c = x->c;
    if (x->first_ms == 0) {
        x->first_ms = hub_now_ms();
        curl_easy_getinfo(c->w->curl, CURLINFO_RESPONSE_CODE, &x->status);
        x->relaying = x->a->stream && x->status >= 200 && x->status < 300;
        if (x->relaying && !gw_stream_begin(c)) {
            x->client_gone = true;
            x->gone_ms = hub_now_ms();
        }
    }
    if (!hub_buf_append(&c->w->upstream, ptr, n))
        return 0; /* over MAX_UPSTREAM_BODY: abort */
    if (x->relaying && !relay_events(x))
        return 0;
    if (x->client_gone && hub_now_ms() - x->gone_ms > ABORT_DRAIN_MS) {
        x->aborted_by_us = true;
        return 0;
    }
    return n;
}

/* Sends the final SSE error event of a stream that could not finish. */
static void stream_error(xfer *x, hub_err e, const char *msg)
{
    char body[1024];
    hub_error_http(e, 0, msg, NULL, NULL, body, sizeof(body));
    hub_buf ev;
    hub_buf_init(&ev, 0);
    if (hub_buf_printf(&ev, "data: %s\n\n", body))
        gw_stream_write(x->c, ev.data, ev.len);
    hub_buf_free(&ev);
}

/* Passes an upstream error on: its status, message, type and code, minus our secret. */
static void pass_error(xfer *x)
{
    gw_attempt *a = x->a;
    hub_buf *b = &x->c->w->upstream;
    const hub_credential *cr = a->route->cred;
    char msg[1024];
    const char *code = NULL, *param = NULL;
    json_object *o = NULL, *err = NULL, *v = NULL;
    json_tokener *tok = json_tokener_new();
    snprintf(msg, sizeof(msg), "Provider '%s' answered HTTP %ld.", a->route->provider->name,
             x->status);
    if (tok != NULL && b->len > 0)
        o = json_tokener_parse_ex(tok, b->data, (int)b->len);
    if (o != NULL && json_object_object_get_ex(o, "error", &err)) {
        if (json_object_is_type(err, json_type_object)) {
            if (json_object_object_get_ex(err, "message", &v) &&
                json_object_is_type(v, json_type_string))
                snprintf(msg, sizeof(msg), "%s", json_object_get_string(v));
            if (json_object_object_get_ex(err, "code", &v) &&
                json_object_is_type(v, json_type_string))
                code = json_object_get_string(v);
            if (json_object_object_get_ex(err, "param", &v) &&
                json_object_is_type(v, json_type_string))
                param = json_object_get_string(v);
        } else if (json_object_is_type(err, json_type_string)) {
            snprintf(msg, sizeof(msg), "%s", json_object_get_string(err));
        }
    }
    if (x->status == 401 || x->status == 403) {
        /* the provider refused the hub's credential: say so without quoting it */
        snprintf(msg, sizeof(msg),
                 "Provider '%s' rejected the hub's credential (HTTP %ld); an administrator "
                 "must update it.",
                 a->route->provider->name, x->status);
    }
    redact(msg, strlen(msg), cr ? cr->secret : NULL, cr ? cr->secret_len : 0);
    HUB_WARN("upstream %s answered HTTP %ld", a->route->provider->name, x->status);
    gw_respond_error(x->c, HUB_EUPSTREAM, (int)x->status, msg, param, code);
    if (o != NULL)
        json_object_put(o);
    if (tok != NULL)
        json_tokener_free(tok);
}

/* A complete, successful non-streaming answer: meter and forward verbatim. */
static void pass_body(xfer *x)
{
    gw_attempt *a = x->a;
    hub_buf *b = &x->c->w->upstream;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, b->data ? b->data : "", (int)b->len) : NULL;
    if (o == NULL || !json_object_is_type(o, json_type_object)) {
        a->usage->outcome[0] = '\0';
        snprintf(a->usage->outcome, sizeof(a->usage->outcome), "upstream_error");
        gw_respond_error(x->c, HUB_EUPSTREAM, 0, "The provider returned an invalid response.", NULL,
                         NULL);
        goto end;
    }
    json_object *usage = NULL, *data = NULL;
    if (json_object_object_get_ex(o, "usage", &usage))
        gw_meter_read_usage(usage, a->usage);
    if (strstr(a->endpoint, "images") != NULL && json_object_object_get_ex(o, "data", &data) &&
        json_object_is_type(data, json_type_array))
        a->usage->images = (long long)json_object_array_length(data);
    snprintf(a->usage->outcome, sizeof(a->usage->outcome), "ok");
    gw_respond(x->c, (int)x->status, "application/json", NULL, b->data, b->len);
end:
    if (o != NULL)
        json_object_put(o);
    if (tok != NULL)
        json_tokener_free(tok);
}

bool gw_upstream_url_allowed(const hub_provider *p)
{
    if (strncmp(p->base_url, "https://", 8) == 0)
        return true;
    return p->internal && strncmp(p->base_url, "http://", 7) == 0;
}

void gw_upstream_call(gw_call *c, gw_attempt *a)
{
    gw_worker *w = c->w;
    const hub_provider *p = a->route->provider;
    const hub_credential *cr = a->route->cred;
    struct curl_slist *hdrs = NULL;
    hub_buf url, auth;
    hub_buf_init(&url, 0);
    hub_buf_init(&auth, 0);
    xfer x = {.c = c, .a = a};
    hub_usage *u = a->usage;

    size_t blen = strlen(p->base_url);
    while (blen > 0 && p->base_url[blen - 1] == '/')
        blen--;
    if (!hub_buf_append(&url, p->base_url, blen) || !hub_buf_puts(&url, a->endpoint) ||
        !hub_buf_puts(&auth, "Authorization: Bearer ") ||
        !hub_buf_append(&auth, cr->secret, cr->secret_len)) {
        snprintf(u->outcome, sizeof(u->outcome), "upstream_error");
        gw_respond_error(c, HUB_ENOMEM, 0, NULL, NULL, NULL);
        goto end;
    }
    hdrs = curl_slist_append(hdrs, auth.data);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs,
                             a->stream ? "Accept: text/event-stream" : "Accept: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    hdrs = curl_slist_append(hdrs, "User-Agent: hub-gateway/" PACKAGE_VERSION);

    CURL *h = w->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, p->internal ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, a->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->body_len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)w->ctx->cfg.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)w->ctx->cfg.upstream_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

    hub_buf_reset(&w->upstream);
    w->upstream.cap = MAX_UPSTREAM_BODY;
    CURLcode rc = curl_easy_perform(h);
    if (x.status == 0)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x.status);
    u->status = (int)x.status;
    if (x.first_ms > 0)
        u->ttfb_ms = x.first_ms - c->t0_ms;

    if (x.relaying) {
        if (rc == CURLE_OK && w->upstream.len > 0 && !x.client_gone)
            on_event(&x, w->upstream.data, w->upstream.len); /* unterminated last event */
        if (x.client_gone) {
            snprintf(u->outcome, sizeof(u->outcome), "client_abort");
        } else if (rc != CURLE_OK) {
            bool to = rc == CURLE_OPERATION_TIMEDOUT;
            snprintf(u->outcome, sizeof(u->outcome), to ? "timeout" : "truncated");
            HUB_WARN("upstream %s stream ended early: %s", p->name, curl_easy_strerror(rc));
            stream_error(&x, to ? HUB_ETIMEOUT : HUB_EUPSTREAM,
                         to ? "The provider stopped answering mid-stream (timeout)."
                            : "The provider's stream ended unexpectedly.");
        } else {
            snprintf(u->outcome, sizeof(u->outcome), "ok");
        }
        goto end;
    }
    if (rc != CURLE_OK) {
        bool to = rc == CURLE_OPERATION_TIMEDOUT;
        char msg[256];
        snprintf(msg, sizeof(msg), "Provider '%s' %s: %s.", p->name,
                 to ? "timed out" : "could not be reached", curl_easy_strerror(rc));
        snprintf(u->outcome, sizeof(u->outcome), to ? "timeout" : "upstream_error");
        HUB_WARN("upstream %s: %s", p->name, curl_easy_strerror(rc));
        gw_respond_error(c, to ? HUB_ETIMEOUT : HUB_EUPSTREAM, 0, msg, NULL, NULL);
        goto end;
    }
    if (x.status < 200 || x.status >= 300) {
        snprintf(u->outcome, sizeof(u->outcome), "upstream_error");
        pass_error(&x);
        goto end;
    }
    pass_body(&x);
end:
    curl_slist_free_all(hdrs);
    if (auth.data != NULL)
        memset(auth.data, 0, auth.len);
    hub_buf_free(&auth);
    hub_buf_free(&url);
    if (w->upstream.size > 4 * 1024 * 1024)
        hub_buf_free(&w->upstream); /* do not keep a huge image answer per thread */
}
