/*
 * hub_buf.h — a growable byte buffer with an explicit length (always NUL-terminated).
 * The buffer owns its data; hub_buf_free releases it. Appends fail only on ENOMEM
 * or when the buffer would grow past its cap (cap 0 = unlimited).
 */
#ifndef HUB_BUF_H
#define HUB_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data; /* owned; NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t size; /* allocated bytes */
    size_t cap;  /* hard limit on len, 0 = none */
} hub_buf;

void hub_buf_init(hub_buf *b, size_t cap);
void hub_buf_free(hub_buf *b);
void hub_buf_reset(hub_buf *b); /* len = 0, keeps memory */
bool hub_buf_append(hub_buf *b, const void *p, size_t n);
bool hub_buf_puts(hub_buf *b, const char *s);
bool hub_buf_printf(hub_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void hub_buf_consume(hub_buf *b, size_t n);
/* The value of one hex digit (either case), or -1. */
static inline int hub_hex_digit(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}
/* How many bytes of p[0..len) to keep so that at most max are kept and no UTF-8 sequence is
 * split (len when len <= max). */
size_t hub_utf8_cut(const char *p, size_t len, size_t max);
/* Appends s as a JSON string literal (with quotes, escaped). */
bool hub_buf_json_str(hub_buf *b, const char *s);

#endif
