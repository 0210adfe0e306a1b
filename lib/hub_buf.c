/*
 * hub_buf.c — growable byte buffer (see hub_buf.h).
 */
#include "hub_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hub_buf_init(hub_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->cap = cap;
}

void hub_buf_free(hub_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}

void hub_buf_reset(hub_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static bool reserve(hub_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (b->cap != 0 && b->len + extra > b->cap)
        return false;
    if (need <= b->size)
        return true;
    size_t nsize = b->size ? b->size : 256;
    while (nsize < need)
        nsize *= 2;
    char *p = realloc(b->data, nsize);
    if (p == NULL)
        return false;
    b->data = p;
    b->size = nsize;
    return true;
}

bool hub_buf_append(hub_buf *b, const void *p, size_t n)
{
    if (!reserve(b, n))
        return false;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool hub_buf_puts(hub_buf *b, const char *s)
{
    return hub_buf_append(b, s, strlen(s));
}

bool hub_buf_printf(hub_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room = b->size > b->len ? b->size - b->len : 0;
    /* one pass when the text fits in the room there is; a second after growing */
    va_start(ap, fmt);
    int n = vsnprintf(room > 0 ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (b->cap != 0 && b->len + (size_t)n > b->cap)) {
        if (b->data != NULL)
            b->data[b->len] = '\0';
        return false;
    }
    if ((size_t)n >= room) {
        if (!reserve(b, (size_t)n)) {
            if (b->data != NULL)
                b->data[b->len] = '\0';
            return false;
        }
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return true;
}

void hub_buf_consume(hub_buf *b, size_t n)
{
    if (n >= b->len) {
        hub_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

bool hub_buf_json_str(hub_buf *b, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    size_t start = b->len; /* all or nothing: restored on failure */
    if (!hub_buf_append(b, "\"", 1))
        return false;
    const unsigned char *p = (const unsigned char *)s;
    for (;;) {
        /* a run of bytes that need no escape, in one append */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q != '"' && *q != '\\')
            q++;
        if (q > p && !hub_buf_append(b, p, (size_t)(q - p)))
            goto fail;
        if (*q == '\0')
            break;
        char esc[7];
        size_t n = 2;
        esc[0] = '\\';
        switch (*q) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default: /* another control character */
            esc[1] = 'u', esc[2] = '0', esc[3] = '0';
            esc[4] = hexd[*q >> 4], esc[5] = hexd[*q & 15];
            n = 6;
        }
        if (!hub_buf_append(b, esc, n))
            goto fail;
        p = q + 1;
    }
    if (hub_buf_append(b, "\"", 1))
        return true;
fail:
    b->len = start;
    if (b->data != NULL)
        b->data[start] = '\0';
    return false;
}

size_t hub_utf8_cut(const char *p, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* step back over continuation bytes (10xxxxxx) to the start of the split sequence */
    size_t back = 0;
    while (n > 0 && back < 4 && ((unsigned char)p[n] & 0xC0) == 0x80) {
        n--;
        back++;
    }
    return n;
}
