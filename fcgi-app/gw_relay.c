/*
 * gw_relay.c — what the client receives from a successful attempt, in the client's format.
 *
 * Streams: the provider's SSE bytes are split into events. OpenAI provider → OpenAI client
 * is the fast path: events are forwarded as they are (usage read on the way, the usage
 * chunk the hub asked for dropped). Otherwise each event becomes OpenAI chunks (Anthropic,
 * Gemini: hub_xlate) and each chunk becomes the client's events (OpenAI, Anthropic
 * Messages, AIGNE). The stream ends with the format's closing events, or a final error
 * event when the provider broke off; the ledger gets the outcome.
 * Plain answers are translated the same way, and forwarded byte for byte on the fast path.
 */
#include "gw.h"

#include "hub_log.h"
#include "hub_xlate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SSE_EVENT (16L * 1024 * 1024)

struct gw_relay {
    gw_attempt *a;
    bool passthrough;       /* OpenAI provider, OpenAI client */
    bool strip_usage;       /* passthrough: drop the usage chunk the client did not ask for */
    hub_xl_stream *up;      /* provider events → OpenAI chunks; NULL for OpenAI providers */
    hub_xl_in_stream *down; /* OpenAI chunks → client events; NULL for OpenAI clients */
    bool started;
    bool client_gone;
    long long gone_ms;
    bool upstream_error; /* the provider sent an error event */
    char error_msg[256];
    hub_xl_usage xu; /* usage seen in translated streams */
    hub_buf carry;   /* bytes of an unfinished event */
    hub_buf out;     /* client bytes being assembled */
    char id[64];
};

const char *gw_format_name(gw_format f, json_object *req)
{
    json_object *rf = NULL, *type = NULL;
    bool json = req != NULL && json_object_object_get_ex(req, "response_format", &rf) &&
                json_object_object_get_ex(rf, "type", &type) &&
                strcmp(json_object_get_string(type), "text") != 0;
    return f == GW_FMT_ANTHROPIC  ? "anthropic"
           : f == GW_FMT_AIGNE    ? "aigne"
           : f == GW_FMT_AIGNE_FW ? (json ? "aigne-fw-json" : "aigne-fw")
                                  : "openai";
}

gw_relay *gw_relay_new(gw_attempt *a)
{
    gw_relay *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    gw_call *c = a->c;
    bool oai_up = gw_provider_is_openai(a->t->provider);
    r->a = a;
    r->passthrough = oai_up && c->format == GW_FMT_OPENAI;
    r->strip_usage = r->passthrough && !a->job->client_usage;
    hub_xl_usage_init(&r->xu);
    hub_buf_init(&r->carry, 0);
    hub_buf_init(&r->out, 0);
    snprintf(r->id, sizeof(r->id), "chatcmpl-%s", c->request_id);
    if (!oai_up)
        r->up = hub_xl_stream_new(a->t->provider->type, r->id, a->job->model);
    if (c->format != GW_FMT_OPENAI)
        r->down =
            hub_xl_in_stream_new(gw_format_name(c->format, a->job->req), r->id, a->job->model);
    if ((!oai_up && r->up == NULL) || (c->format != GW_FMT_OPENAI && r->down == NULL)) {
        gw_relay_free(r);
        return NULL;
    }
    return r;
}

void gw_relay_free(gw_relay *r)
{
    if (r == NULL)
        return;
    hub_xl_stream_free(r->up);
    hub_xl_in_stream_free(r->down);
    hub_buf_free(&r->carry);
    hub_buf_free(&r->out);
    free(r);
}

bool gw_relay_started(const gw_relay *r)
{
    return r->started;
}

bool gw_relay_client_gone(const gw_relay *r, long long *since_ms)
{
    *since_ms = r->gone_ms;
    return r->client_gone;
}

/* Sends bytes to the client (starting the stream first). */
static void emit(gw_relay *r, const char *p, size_t n)
{
    if (r->client_gone || n == 0)
        return;
    if (!r->started) {
        r->started = true;
        if (!gw_stream_begin(r->a->c)) {
            r->client_gone = true;
            r->gone_ms = hub_now_ms();
            return;
        }
    }
    if (!gw_stream_write(r->a->c, p, n)) {
        r->client_gone = true;
        r->gone_ms = hub_now_ms();
        HUB_INFO("client went away mid-stream; reading the upstream on for its usage");
    }
}

static void redact(gw_relay *r, char *s, size_t len)
{
    const hub_credential *cr = r->a->cred;
    if (cr == NULL || cr->secret == NULL || cr->secret_len < 4)
        return;
    char *p = s;
    while ((p = memmem(p, len - (size_t)(p - s), cr->secret, cr->secret_len)) != NULL) {
        memset(p, '*', cr->secret_len);
        p += cr->secret_len;
    }
}

/* One OpenAI chunk (owned by the caller) to the client. */
static void send_chunk(gw_relay *r, json_object *chunk)
{
    json_object *usage = NULL;
    if (json_object_object_get_ex(chunk, "usage", &usage) && usage != NULL &&
        json_object_is_type(usage, json_type_object)) {
        gw_meter_read_usage(usage, r->a->usage);
        json_object *ch = NULL;
        if (json_object_object_get_ex(chunk, "choices", &ch) &&
            json_object_is_type(ch, json_type_array) && json_object_array_length(ch) == 0 &&
            (r->down != NULL || !r->a->job->client_usage))
            return; /* the usage chunk: re-emitted at the end in the client's format */
    }
    hub_buf_reset(&r->out);
    if (r->down != NULL) {
        hub_xl_in_stream_chunk(r->down, chunk, &r->out);
    } else {
        hub_buf_puts(&r->out, "data: ");
        hub_buf_puts(&r->out, json_object_to_json_string_ext(
                                  chunk, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        hub_buf_puts(&r->out, "\n\n");
    }
    emit(r, r->out.data, r->out.len);
}

/* Fast path: an OpenAI event forwarded as it is, its usage read on the way. */
static void passthrough_event(gw_relay *r, char *ev, size_t len, const char *data, size_t dlen)
{
    bool forward = true;
    if (data != NULL && memmem(data, dlen, "\"usage\"", 7) != NULL) {
        json_tokener *tok = json_tokener_new();
        json_object *o = tok ? json_tokener_parse_ex(tok, data, (int)dlen) : NULL;
        json_object *usage = NULL, *choices = NULL;
        if (o != NULL && json_object_object_get_ex(o, "usage", &usage) && usage != NULL &&
            json_object_is_type(usage, json_type_object)) {
            gw_meter_read_usage(usage, r->a->usage);
            if (r->strip_usage && json_object_object_get_ex(o, "choices", &choices) &&
                json_object_is_type(choices, json_type_array) &&
                json_object_array_length(choices) == 0)
                forward = false;
        }
        if (o != NULL)
            json_object_put(o);
        if (tok != NULL)
            json_tokener_free(tok);
    }
    if (forward)
        emit(r, ev, len);
}

/* A translated event: provider event → OpenAI chunks → client. */
static void translated_event(gw_relay *r, const char *event, const char *data, size_t dlen)
{
    json_object *chunks = json_object_new_array();
    char err[256] = "";
    bool done = false;
    if (r->up != NULL) {
        if (hub_xl_stream_event(r->up, event, data, dlen, chunks, &r->xu, &done, err,
                                sizeof(err)) != HUB_OK) {
            r->upstream_error = true;
            snprintf(r->error_msg, sizeof(r->error_msg), "%s", err);
        }
    } else if (!(dlen >= 6 && memcmp(data, "[DONE]", 6) == 0)) {
        json_tokener *tok = json_tokener_new();
        json_object *o = tok ? json_tokener_parse_ex(tok, data, (int)dlen) : NULL;
        json_object *e = NULL;
        if (o != NULL && json_object_object_get_ex(o, "error", &e)) {
            r->upstream_error = true;
            snprintf(r->error_msg, sizeof(r->error_msg), "The provider reported an error.");
            json_object_put(o);
        } else if (o != NULL) {
            json_object_array_add(chunks, o);
        }
        if (tok != NULL)
            json_tokener_free(tok);
    }
    for (size_t i = 0; i < json_object_array_length(chunks); i++)
        send_chunk(r, json_object_array_get_idx(chunks, i));
    json_object_put(chunks);
}

static void on_event(gw_relay *r, char *ev, size_t len)
{
    redact(r, ev, len);
    /* fields: "event: X" and "data: Y" lines (several data lines are joined) */
    char event[64] = "";
    hub_buf data;
    hub_buf_init(&data, 0);
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && ev[e] != '\n')
            e++;
        size_t l = e - i;
        if (l > 0 && ev[i + l - 1] == '\r')
            l--;
        const char *line = ev + i;
        if (l >= 5 && memcmp(line, "data:", 5) == 0) {
            size_t off = 5 + (l > 5 && line[5] == ' ');
            if (data.len > 0)
                hub_buf_append(&data, "\n", 1);
            hub_buf_append(&data, line + off, l - off);
        } else if (l >= 6 && memcmp(line, "event:", 6) == 0) {
            size_t off = 6 + (l > 6 && line[6] == ' ');
            snprintf(event, sizeof(event), "%.*s", (int)(l - off), line + off);
        }
        i = e + 1;
    }
    if (r->upstream_error) {
        /* nothing after a provider error event */
    } else if (r->passthrough) {
        passthrough_event(r, ev, len, data.data, data.len);
    } else if (data.len > 0) {
        translated_event(r, event[0] ? event : NULL, data.data, data.len);
    }
    hub_buf_free(&data);
}

bool gw_relay_feed(gw_relay *r, const char *p, size_t n)
{
    hub_buf *b = &r->carry;
    if (!hub_buf_append(b, p, n))
        return false;
    size_t start = 0;
    for (size_t i = 0; i + 1 < b->len; i++) {
        size_t end = 0;
        if (b->data[i] == '\n' && b->data[i + 1] == '\n')
            end = i + 2;
        else if (i + 3 < b->len && memcmp(b->data + i, "\r\n\r\n", 4) == 0)
            end = i + 4;
        if (end == 0)
            continue;
        on_event(r, b->data + start, end - start);
        start = end;
        i = end - 1;
    }
    hub_buf_consume(b, start);
    return b->len <= (size_t)MAX_SSE_EVENT;
}

/* The final error event in the client's format. */
static void stream_error(gw_relay *r, hub_err e, const char *msg)
{
    hub_buf_reset(&r->out);
    if (r->down != NULL) {
        hub_xl_in_stream_error(r->down, msg, &r->out);
    } else {
        char body[1024];
        hub_error_http(e, 0, msg, NULL, NULL, body, sizeof(body));
        hub_buf_printf(&r->out, "data: %s\n\n", body);
    }
    emit(r, r->out.data, r->out.len);
}

void gw_relay_end(gw_relay *r, bool ok, bool timeout, const char *why)
{
    hub_usage *u = r->a->usage;
    if (ok && r->carry.len > 0)
        on_event(r, r->carry.data, r->carry.len); /* an unterminated last event */
    if (!r->passthrough) {
        if (r->xu.prompt_tokens >= 0)
            u->prompt_tokens = r->xu.prompt_tokens;
        if (r->xu.completion_tokens >= 0)
            u->completion_tokens = r->xu.completion_tokens;
        if (r->xu.total_tokens >= 0)
            u->total_tokens = r->xu.total_tokens;
        else if (u->prompt_tokens >= 0 && u->completion_tokens >= 0)
            u->total_tokens = u->prompt_tokens + u->completion_tokens;
    }
    if (r->client_gone) {
        snprintf(u->outcome, sizeof(u->outcome), "client_abort");
        return;
    }
    if (!ok || r->upstream_error) {
        snprintf(u->outcome, sizeof(u->outcome), timeout ? "timeout" : "truncated");
        HUB_WARN_RL("upstream %s stream ended early: %s", r->a->t->provider->name,
                    r->upstream_error ? r->error_msg : why);
        stream_error(r, timeout ? HUB_ETIMEOUT : HUB_EUPSTREAM,
                     r->upstream_error ? r->error_msg
                     : timeout         ? "The provider stopped answering mid-stream (timeout)."
                                       : "The provider's stream ended unexpectedly.");
        return;
    }
    snprintf(u->outcome, sizeof(u->outcome), "ok");
    if (r->passthrough)
        return; /* the provider's own [DONE] went through */
    hub_buf_reset(&r->out);
    if (r->down != NULL) {
        hub_xl_usage fin = {u->prompt_tokens, u->completion_tokens, u->total_tokens};
        hub_xl_in_stream_finish(r->down, &fin, &r->out);
    } else {
        if (r->a->job->client_usage) {
            hub_buf_printf(
                &r->out,
                "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\",\"created\":%lld,"
                "\"model\":",
                r->id, hub_now_ms() / 1000);
            hub_buf_json_str(&r->out, r->a->job->model);
            hub_buf_printf(&r->out,
                           ",\"choices\":[],\"usage\":{\"prompt_tokens\":%lld,"
                           "\"completion_tokens\":%lld,\"total_tokens\":%lld}}\n\n",
                           u->prompt_tokens < 0 ? 0 : u->prompt_tokens,
                           u->completion_tokens < 0 ? 0 : u->completion_tokens,
                           u->total_tokens < 0 ? 0 : u->total_tokens);
        }
        hub_buf_puts(&r->out, "data: [DONE]\n\n");
    }
    emit(r, r->out.data, r->out.len);
}

/*
 * The "usage" object of an OpenAI answer, read without parsing the whole answer (the fast
 * path forwards the bytes anyway). A literal "usage" key cannot occur inside a string
 * without its quotes being escaped, so the last unescaped one is the answer's. NULL when
 * absent. Caller puts the result.
 */
static json_object *sniff_usage(const char *body, size_t len)
{
    const char *hit = NULL;
    for (const char *p = body; (p = memmem(p, len - (size_t)(p - body), "\"usage\"", 7)) != NULL;
         p += 7) {
        if (p == body || p[-1] != '\\')
            hit = p;
    }
    if (hit == NULL)
        return NULL;
    const char *p = hit + 7, *end = body + len;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ':'))
        p++;
    if (p >= end || *p != '{')
        return NULL;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, p, (int)(end - p)) : NULL;
    if (tok != NULL)
        json_tokener_free(tok);
    return o;
}

/* A 2xx answer that looks like one JSON object (the fast path does not parse it whole). */
static bool looks_like_object(const char *body, size_t len)
{
    size_t i = 0, j = len;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    while (j > i && (body[j - 1] == ' ' || body[j - 1] == '\n' || body[j - 1] == '\r' ||
                     body[j - 1] == '\t'))
        j--;
    return j - i >= 2 && body[i] == '{' && body[j - 1] == '}';
}

bool gw_relay_answer(gw_attempt *a, const char *body, size_t len)
{
    if (a->c->format == GW_FMT_OPENAI && gw_provider_is_openai(a->t->provider) &&
        a->job->ep != GW_EP_IMAGES && looks_like_object(body, len)) {
        json_object *usage = sniff_usage(body, len);
        if (usage != NULL) {
            gw_meter_read_usage(usage, a->usage);
            json_object_put(usage);
        }
        snprintf(a->usage->outcome, sizeof(a->usage->outcome), "ok");
        gw_respond(a->c, 200, "application/json", NULL, body, len); /* byte for byte */
        return true;
    }
    gw_call *c = a->c;
    const hub_provider *p = a->t->provider;
    hub_usage *u = a->usage;
    bool rc = false;
    char err[256] = "The provider returned an invalid response.";
    char id[64];
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
    json_object *oai = NULL, *out = NULL;
    hub_xl_usage xu;
    hub_xl_usage_init(&xu);
    snprintf(id, sizeof(id), "chatcmpl-%s", c->request_id);
    if (o == NULL || !json_object_is_type(o, json_type_object))
        goto end;
    if (gw_provider_is_openai(p)) {
        oai = json_object_get(o);
    } else {
        hub_err e =
            a->job->ep == GW_EP_EMBED
                ? hub_xl_embed_response(p->type, o, a->job->model, &oai, &xu, err, sizeof(err))
                : hub_xl_chat_response(p->type, o, id, a->job->model, &oai, &xu, err, sizeof(err));
        if (e != HUB_OK)
            goto end;
    }
    json_object *usage = NULL, *data = NULL;
    if (json_object_object_get_ex(oai, "usage", &usage))
        gw_meter_read_usage(usage, u);
    if (xu.prompt_tokens >= 0)
        u->prompt_tokens = xu.prompt_tokens;
    if (xu.completion_tokens >= 0)
        u->completion_tokens = xu.completion_tokens;
    if (xu.total_tokens >= 0)
        u->total_tokens = xu.total_tokens;
    if (a->job->ep == GW_EP_IMAGES && json_object_object_get_ex(oai, "data", &data) &&
        json_object_is_type(data, json_type_array))
        u->images = (long long)json_object_array_length(data);
    snprintf(u->outcome, sizeof(u->outcome), "ok");
    if (c->format == GW_FMT_OPENAI && gw_provider_is_openai(p)) {
        gw_respond(c, 200, "application/json", NULL, body, len); /* byte for byte */
    } else if (c->format == GW_FMT_AIGNE_FW && a->job->ep == GW_EP_IMAGES) {
        out = hub_xl_aigne_fw_image_response(oai, a->job->model);
        size_t n = 0;
        const char *s = json_object_to_json_string_length(
            out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        gw_respond(c, 200, "application/json", NULL, s, n);
    } else if (c->format == GW_FMT_AIGNE && a->job->ep != GW_EP_CHAT) {
        /* AIGNE embeddings: OpenAI's list is a superset; images: AIGNE reads "images" */
        if (a->job->ep == GW_EP_IMAGES && data != NULL)
            json_object_object_add(oai, "images", json_object_get(data));
        size_t n = 0;
        const char *s = json_object_to_json_string_length(
            oai, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        gw_respond(c, 200, "application/json", NULL, s, n);
    } else {
        json_object *send = oai;
        if (c->format != GW_FMT_OPENAI) {
            if (hub_xl_in_response(gw_format_name(c->format, a->job->req), oai, &out, err,
                                   sizeof(err)) != HUB_OK)
                goto end;
            send = out;
        }
        size_t n = 0;
        const char *s = json_object_to_json_string_length(
            send, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        gw_respond(c, 200, "application/json", NULL, s, n);
    }
    rc = true;
end:
    if (!rc) {
        snprintf(u->outcome, sizeof(u->outcome), "upstream_error");
        a->res.err = HUB_EUPSTREAM;
        a->res.status = 502;
        a->res.retryable = false;
        snprintf(a->res.msg, sizeof(a->res.msg), "%s", err);
        HUB_WARN_RL("upstream %s: %s", p->name, err);
    }
    if (out != NULL)
        json_object_put(out);
    if (oai != NULL)
        json_object_put(oai);
    if (o != NULL)
        json_object_put(o);
    if (tok != NULL)
        json_tokener_free(tok);
    return rc;
}
