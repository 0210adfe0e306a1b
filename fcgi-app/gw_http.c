/*
 * gw_http.c — the FastCGI side of one call: parameters, the bounded request body, and
 * every byte written back to the web server (plain answers and SSE streams).
 */
#include "gw.h"

#include "hub_log.h"
#include "hub_xlate.h"

#include <stdio.h>
#include <string.h>

const char *gw_param(gw_call *c, const char *name)
{
    return FCGX_GetParam(name, c->w->req.envp);
}

hub_err gw_read_body(gw_call *c, char *msg, size_t msgsz)
{
    hub_buf *b = &c->w->body;
    long max = c->w->ctx->cfg.max_body_bytes;
    long n = 0;
    const char *cl = gw_param(c, "CONTENT_LENGTH");
    bool to_eof = cl == NULL || *cl == '\0'; /* a chunked body the web server streams on */
    hub_buf_reset(b);
    if (to_eof)
        cl = "0";
    if (!hub_parse_long(cl, 0, 1L << 40, &n)) {
        snprintf(msg, msgsz, "Invalid Content-Length.");
        return HUB_EINVAL;
    }
    if (n > max) {
        snprintf(msg, msgsz, "Request body is %ld bytes; the limit is %ld bytes.", n, max);
        return HUB_ETOOBIG;
    }
    char chunk[16384];
    long got = 0;
    if (to_eof) {
        /* read to the end, never more than the limit + 1 byte */
        int r;
        while ((r = FCGX_GetStr(chunk, (int)sizeof(chunk), c->w->req.in)) > 0) {
            got += r;
            if (got > max) {
                snprintf(msg, msgsz, "Request body is over the limit of %ld bytes.", max);
                return HUB_ETOOBIG;
            }
            if (!hub_buf_append(b, chunk, (size_t)r)) {
                snprintf(msg, msgsz, "Out of memory reading the request body.");
                return HUB_ENOMEM;
            }
        }
        n = got;
    }
    while (got < n) {
        int want = (int)(n - got > (long)sizeof(chunk) ? (long)sizeof(chunk) : n - got);
        int r = FCGX_GetStr(chunk, want, c->w->req.in);
        if (r <= 0)
            break;
        if (!hub_buf_append(b, chunk, (size_t)r)) {
            snprintf(msg, msgsz, "Out of memory reading the request body.");
            return HUB_ENOMEM;
        }
        got += r;
    }
    if (got < n) {
        snprintf(msg, msgsz, "Request body ended after %ld of %ld bytes.", got, n);
        return HUB_EINVAL;
    }
    /* the web server ends the body with an empty FCGI_STDIN record, sent with the last bytes
     * (usually already in libfcgi's buffer): reading it lets gw_end close without lingering.
     * Bytes beyond CONTENT_LENGTH are ignored, as before. */
    if (!to_eof && !FCGX_HasSeenEOF(c->w->req.in))
        (void)FCGX_GetChar(c->w->req.in);
    if (b->data == NULL)
        hub_buf_append(b, "", 0);
    return HUB_OK;
}

void gw_end(gw_call *c)
{
    FCGX_Request *req = &c->w->req;
    /* libfcgi closes a connection with a lingering close: shutdown(SHUT_WR), then wait up to
     * 2 s for the web server to close its side, reading what it still sends, so that unread
     * input cannot turn the close into a reset that loses the answer. When the request was
     * read to its end there is nothing left to arrive, and a plain close (FCGX_Detach) spares
     * a wake-up and three system calls per request. */
    if (!req->keepConnection && req->in != NULL && FCGX_HasSeenEOF(req->in))
        FCGX_Detach(req);
    FCGX_Finish_r(req);
}

static void head(gw_call *c, int status, const char *content_type, const char *extra)
{
    FCGX_FPrintF(c->w->req.out,
                 "Status: %d %s\r\nContent-Type: %s\r\nX-Request-Id: %s\r\n"
                 "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s%s",
                 status, hub_http_reason(status), content_type, c->request_id, extra ? extra : "",
                 c->limit_headers);
    c->headers_sent = true;
}

void gw_respond(gw_call *c, int status, const char *content_type, const char *extra_headers,
                const char *body, size_t len)
{
    if (c->headers_sent)
        return;
    head(c, status, content_type, extra_headers);
    /* libfcgi has its own printf: no %zu */
    FCGX_FPrintF(c->w->req.out, "Content-Length: %lu\r\n\r\n", (unsigned long)len);
    if (len > 0)
        FCGX_PutStr(body, (int)len, c->w->req.out);
}

void gw_respond_error(gw_call *c, hub_err e, int status_override, const char *message,
                      const char *param, const char *code)
{
    gw_respond_error_h(c, e, status_override, message, param, code, NULL);
}

void gw_respond_error_h(gw_call *c, hub_err e, int status_override, const char *message,
                        const char *param, const char *code, const char *extra_headers)
{
    char body[2048];
    int status = hub_error_http(e, status_override, message, param, code, body, sizeof(body));
    if (c->format != GW_FMT_OPENAI) {
        /* Anthropic and AIGNE clients get their own error shape */
        hub_buf b;
        hub_buf_init(&b, sizeof(body) - 1);
        hub_xl_in_error(gw_format_name(c->format, NULL), status,
                        message ? message : hub_http_reason(status), hub_error_type(e), &b);
        if (b.len > 0)
            memcpy(body, b.data, b.len + 1);
        hub_buf_free(&b);
    }
    if (status >= 500)
        HUB_WARN_RL("%s %s -> %d: %s", c->method ? c->method : "-", c->path, status,
                    message ? message : "");
    else
        HUB_DEBUG("%s %s -> %d: %s", c->method ? c->method : "-", c->path, status,
                  message ? message : "");
    const char *extra = status == 405 ? "Allow: GET, POST\r\n" : extra_headers;
    gw_respond(c, status, "application/json", extra, body, strlen(body));
}

bool gw_stream_begin(gw_call *c)
{
    if (c->headers_sent)
        return false;
    head(c, 200, "text/event-stream; charset=utf-8", "X-Accel-Buffering: no\r\n");
    FCGX_PutS("\r\n", c->w->req.out);
    return FCGX_FFlush(c->w->req.out) == 0;
}

bool gw_stream_write(gw_call *c, const char *p, size_t n)
{
    FCGX_Stream *out = c->w->req.out;
    if (FCGX_GetError(out) != 0)
        return false;
    if (FCGX_PutStr(p, (int)n, out) != (int)n)
        return false;
    return FCGX_FFlush(out) == 0;
}
