/*
 * hub_cgi.c — one CGI request of the admin pages (see hub_cgi.h).
 *
 * Everything that comes from the client is parsed strictly and bounded before any page
 * sees it: the query string and a POST body of type application/x-www-form-urlencoded
 * (read as exactly CONTENT_LENGTH bytes, at most HUB_CGI_MAX_BODY) are decoded by one
 * decoder that refuses invalid %-escapes, NUL and control bytes, over-long names or
 * values, too many pairs and invalid UTF-8. Cookies are split leniently (a browser sends
 * cookies of other applications on the same host): malformed pairs are skipped, but the
 * count is capped. The response head always carries the security headers.
 */
#include "hub_cgi.h"

#include "hub_buf.h"

#include "hub_error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_NAME         64
#define MAX_VALUE        (64 * 1024)
#define MAX_PAIRS        256
#define MAX_COOKIES      50
#define MAX_COOKIE_VALUE 4096

/* ---- UTF-8 and small helpers --------------------------------------------------------- */

/* True when p[0..n) is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF). */
static bool utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t extra = 0;
        uint32_t cp = 0;
        uint32_t min = 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1, cp = c & 0x1Fu, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2, cp = c & 0x0Fu, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += extra + 1;
    }
    return true;
}

static void set_err(char *err, size_t errsz, const char *msg)
{
    if (err != NULL && errsz > 0)
        snprintf(err, errsz, "%s", msg);
}

void hub_kv_free(hub_kv *kv, int n)
{
    if (kv == NULL)
        return;
    for (int i = 0; i < n; i++) {
        free(kv[i].name);
        free(kv[i].value);
    }
    free(kv);
}

/* Appends a copy of name/value (lengths given) to *arr. Returns false on ENOMEM. */
static bool kv_push(hub_kv **arr, int *n, const char *name, size_t nlen, const char *value,
                    size_t vlen)
{
    bool rc = false;
    char *nm = malloc(nlen + 1);
    char *val = malloc(vlen + 1);
    if (nm == NULL || val == NULL)
        goto end;
    memcpy(nm, name, nlen);
    nm[nlen] = '\0';
    memcpy(val, value, vlen);
    val[vlen] = '\0';
    hub_kv *grown = realloc(*arr, sizeof(hub_kv) * (size_t)(*n + 1));
    if (grown == NULL)
        goto end;
    *arr = grown;
    grown[*n].name = nm;
    grown[*n].value = val;
    (*n)++;
    nm = NULL;
    val = NULL;
    rc = true;
end:
    free(nm);
    free(val);
    return rc;
}

/* ---- application/x-www-form-urlencoded ------------------------------------------------- */

/*
 * Decodes one component s[0..len) into dst (at least len bytes): '+' is a space, %XX a byte.
 * Names may hold no control byte at all; values may hold TAB, CR and LF (text areas) but no
 * other control byte. *outlen gets the decoded length. NULL on success, else the reason.
 */
static const char *decode_part(const char *s, size_t len, bool is_name, char *dst, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F)
            return "control character in form data";
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return "truncated %-escape";
            int hi = hub_hex_digit((unsigned char)s[i + 1]);
            int lo = hub_hex_digit((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return "invalid %-escape";
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c == 0)
                return "NUL byte in form data";
            bool text_ws = !is_name && (c == '\t' || c == '\r' || c == '\n');
            if ((c < 0x20 && !text_ws) || c == 0x7F)
                return "control character in form data";
        }
        dst[o++] = (char)c;
    }
    if (!utf8_valid((const unsigned char *)dst, o))
        return "form data is not valid UTF-8";
    *outlen = o;
    return NULL;
}

/* The decoder behind hub_cgi_parse_urlencoded; why holds the reason on failure. */
static bool parse_urlencoded(const char *s, size_t len, hub_kv **out, int *n, const char **why)
{
    bool rc = false;
    hub_kv *arr = NULL; /* owned until handed to *out */
    int cnt = 0;
    char *nbuf = NULL;
    char *vbuf = NULL;

    *out = NULL;
    *n = 0;
    *why = "out of memory";
    if (s == NULL)
        len = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *seg = s + pos;
        const char *amp = memchr(seg, '&', len - pos);
        size_t seglen = amp ? (size_t)(amp - seg) : len - pos;
        pos += seglen + (amp ? 1 : 0);
        if (seglen == 0)
            continue; /* "a=1&&b=2", a trailing '&' */
        const char *eq = memchr(seg, '=', seglen);
        size_t rawn = eq ? (size_t)(eq - seg) : seglen;
        size_t rawv = eq ? seglen - rawn - 1 : 0;
        if (rawn == 0) {
            *why = "form field without a name";
            goto end;
        }
        if (rawn > MAX_NAME * 3 || rawv > (size_t)MAX_VALUE * 3) {
            *why = rawn > MAX_NAME * 3 ? "form field name too long" : "form field value too long";
            goto end;
        }
        if (cnt == MAX_PAIRS) {
            *why = "too many form fields";
            goto end;
        }
        nbuf = malloc(rawn + 1);
        vbuf = malloc(rawv + 1);
        if (nbuf == NULL || vbuf == NULL) {
            *why = "out of memory";
            goto end;
        }
        size_t dn = 0;
        size_t dv = 0;
        const char *e = decode_part(seg, rawn, true, nbuf, &dn);
        if (e == NULL && eq != NULL)
            e = decode_part(eq + 1, rawv, false, vbuf, &dv);
        if (e != NULL) {
            *why = e;
            goto end;
        }
        if (dn > MAX_NAME || dv > MAX_VALUE) {
            *why = dn > MAX_NAME ? "form field name too long" : "form field value too long";
            goto end;
        }
        if (!kv_push(&arr, &cnt, nbuf, dn, vbuf, dv)) {
            *why = "out of memory";
            goto end;
        }
        free(nbuf);
        free(vbuf);
        nbuf = NULL;
        vbuf = NULL;
    }
    *out = arr;
    *n = cnt;
    arr = NULL;
    *why = NULL;
    rc = true;
end:
    free(nbuf);
    free(vbuf);
    hub_kv_free(arr, cnt);
    return rc;
}

bool hub_cgi_parse_urlencoded(const char *s, size_t len, hub_kv **out, int *n)
{
    const char *why = NULL;
    return parse_urlencoded(s, len, out, n, &why);
}

/* ---- cookies --------------------------------------------------------------------------- */

/* RFC 6265 token characters (cookie names). */
static bool cookie_name_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7F)
        return false;
    return strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* RFC 6265 cookie-octet (values; the surrounding quotes are stripped by the caller). */
static bool cookie_value_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
           (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

/*
 * Splits "a=b; c=d". Pairs that are malformed (no '=', empty or invalid name, invalid
 * value bytes, over-long) are skipped: they may belong to another application on the host.
 * More than MAX_COOKIES well-formed pairs is refused (false).
 */
bool hub_cgi_parse_cookies(const char *s, hub_kv **out, int *n)
{
    bool rc = false;
    hub_kv *arr = NULL; /* owned until handed to *out */
    int cnt = 0;

    *out = NULL;
    *n = 0;
    if (s == NULL)
        s = "";
    while (*s != '\0') {
        while (*s == ' ' || *s == '\t' || *s == ';')
            s++;
        if (*s == '\0')
            break;
        const char *semi = strchr(s, ';');
        size_t seglen = semi ? (size_t)(semi - s) : strlen(s);
        const char *seg = s;
        s += seglen;
        while (seglen > 0 && (seg[seglen - 1] == ' ' || seg[seglen - 1] == '\t'))
            seglen--;
        const char *eq = memchr(seg, '=', seglen);
        if (eq == NULL || eq == seg)
            continue;
        size_t nlen = (size_t)(eq - seg);
        const char *val = eq + 1;
        size_t vlen = seglen - nlen - 1;
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
            val++;
            vlen -= 2;
        }
        bool ok = nlen <= MAX_NAME && vlen <= MAX_COOKIE_VALUE;
        for (size_t i = 0; ok && i < nlen; i++)
            ok = cookie_name_char((unsigned char)seg[i]);
        for (size_t i = 0; ok && i < vlen; i++)
            ok = cookie_value_char((unsigned char)val[i]);
        if (!ok)
            continue;
        if (cnt == MAX_COOKIES)
            goto end;
        if (!kv_push(&arr, &cnt, seg, nlen, val, vlen))
            goto end;
    }
    *out = arr;
    *n = cnt;
    arr = NULL;
    rc = true;
end:
    hub_kv_free(arr, cnt);
    return rc;
}

/* ---- the request ----------------------------------------------------------------------- */

const char *hub_cgi_env(const char *name)
{
    if (name == NULL || *name == '\0')
        return NULL;
    const char *v = getenv(name);
    return (v != NULL && *v != '\0') ? v : NULL;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = hub_cgi_env(name);
    return v != NULL ? v : dflt;
}

/* CONTENT_LENGTH: digits only (no sign, no blanks), at most max. */
static bool parse_length(const char *s, size_t max, size_t *out, bool *too_big)
{
    size_t v = 0;
    *too_big = false;
    if (s == NULL || *s == '\0' || strlen(s) > 19)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (size_t)(*p - '0');
    }
    if (v > max) {
        *too_big = true;
        return false;
    }
    *out = v;
    return true;
}

/* True when the media type (before any ';' parameters) is application/x-www-form-urlencoded. */
static bool is_urlencoded(const char *ct)
{
    static const char want[] = "application/x-www-form-urlencoded";
    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = sizeof(want) - 1;
    if (strncasecmp(ct, want, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* Reads exactly len bytes of stdin into a new buffer (*out, caller frees). */
static bool read_body(size_t len, char **out)
{
    bool rc = false;
    char *buf = malloc(len + 1);
    size_t got = 0;
    if (buf == NULL)
        goto end;
    while (got < len) {
        size_t r = fread(buf + got, 1, len - got, stdin);
        if (r == 0)
            goto end;
        got += r;
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
    rc = true;
end:
    free(buf);
    return rc;
}

bool hub_cgi_read(hub_cgi *c, char *err, size_t errsz)
{
    bool rc = false;
    char *body = NULL; /* owned */
    const char *why = NULL;

    memset(c, 0, sizeof(*c));
    c->method = env_or("REQUEST_METHOD", "GET");
    c->script = env_or("SCRIPT_NAME", "");
    c->path_info = env_or("PATH_INFO", "");
    c->remote_addr = env_or("REMOTE_ADDR", "");
    const char *https = hub_cgi_env("HTTPS");
    const char *scheme = hub_cgi_env("REQUEST_SCHEME");
    c->https = (https != NULL && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0)) ||
               (scheme != NULL && strcasecmp(scheme, "https") == 0);

    const char *qs = env_or("QUERY_STRING", "");
    size_t qlen = strlen(qs);
    if (qlen > (size_t)MAX_VALUE) {
        set_err(err, errsz, "query string too long");
        goto end;
    }
    if (!parse_urlencoded(qs, qlen, &c->query, &c->nquery, &why)) {
        set_err(err, errsz, why);
        goto end;
    }
    if (!hub_cgi_parse_cookies(hub_cgi_env("HTTP_COOKIE"), &c->cookies, &c->ncookies)) {
        set_err(err, errsz, "too many cookies");
        goto end;
    }

    const char *cl = hub_cgi_env("CONTENT_LENGTH");
    size_t blen = 0;
    bool too_big = false;
    if (cl != NULL && !parse_length(cl, HUB_CGI_MAX_BODY, &blen, &too_big)) {
        set_err(err, errsz, too_big ? "request body too large" : "invalid Content-Length");
        goto end;
    }
    if (blen == 0) {
        rc = true;
        goto end;
    }
    if (strcmp(c->method, "POST") != 0) {
        set_err(err, errsz, "unexpected request body");
        goto end;
    }
    if (!is_urlencoded(hub_cgi_env("CONTENT_TYPE"))) {
        set_err(err, errsz, "unsupported form encoding");
        goto end;
    }
    if (!read_body(blen, &body)) {
        set_err(err, errsz, "truncated request body");
        goto end;
    }
    if (memchr(body, '\0', blen) != NULL) {
        set_err(err, errsz, "NUL byte in form data");
        goto end;
    }
    if (!parse_urlencoded(body, blen, &c->form, &c->nform, &why)) {
        set_err(err, errsz, why);
        goto end;
    }
    rc = true;
end:
    free(body);
    if (!rc)
        hub_cgi_free(c);
    return rc;
}

void hub_cgi_free(hub_cgi *c)
{
    if (c == NULL)
        return;
    hub_kv_free(c->query, c->nquery);
    hub_kv_free(c->form, c->nform);
    hub_kv_free(c->cookies, c->ncookies);
    c->query = NULL;
    c->form = NULL;
    c->cookies = NULL;
    c->nquery = 0;
    c->nform = 0;
    c->ncookies = 0;
}

static const char *kv_find(const hub_kv *kv, int n, const char *name)
{
    if (kv == NULL || name == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(kv[i].name, name) == 0)
            return kv[i].value;
    }
    return NULL;
}

const char *hub_cgi_query(const hub_cgi *c, const char *name)
{
    return kv_find(c->query, c->nquery, name);
}

const char *hub_cgi_form(const hub_cgi *c, const char *name)
{
    return kv_find(c->form, c->nform, name);
}

const char *hub_cgi_cookie(const hub_cgi *c, const char *name)
{
    return kv_find(c->cookies, c->ncookies, name);
}

/* ---- the response ---------------------------------------------------------------------- */

/* The reason phrase of status: hub_http_reason's, and 307 Temporary Redirect. */
static const char *reason(int status)
{
    return status == 307 ? "Temporary Redirect" : hub_http_reason(status);
}

void hub_cgi_head(FILE *out, int status, const char *content_type, const char *extra)
{
    if (content_type == NULL)
        content_type = "text/html; charset=utf-8";
    fprintf(out,
            "Status: %d %s\r\n"
            "Content-Type: %s\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Security-Policy: default-src 'self'\r\n"
            "X-Frame-Options: DENY\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Referrer-Policy: no-referrer\r\n"
            "%s\r\n",
            status, reason(status), content_type, extra != NULL ? extra : "");
}

bool hub_cgi_urlencode(hub_buf *b, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t start = b->len; /* all or nothing */
    if (s == NULL)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        char esc[3] = {'%', hexd[c >> 4], hexd[c & 15]};
        bool ok = plain ? hub_buf_append(b, p, 1) : hub_buf_append(b, esc, 3);
        if (!ok) {
            b->len = start;
            if (b->data != NULL)
                b->data[start] = '\0';
            return false;
        }
    }
    return true;
}
