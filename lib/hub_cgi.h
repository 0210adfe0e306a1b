/*
 * hub_cgi.h — one CGI request of the admin pages: the environment, the query string, a
 * bounded urlencoded form body, cookies, and the web server's authentication variables;
 * and the response head every page sends (security headers included).
 *
 * Ownership: a hub_cgi owns copies of everything it parsed; hub_cgi_free releases them.
 * Values returned by the getters are borrowed from it. Parsing never trusts a byte:
 * invalid %-escapes, NUL bytes, over-long names/values or bodies are refused (the caller
 * answers 400 with a readable page).
 */
#ifndef HUB_CGI_H
#define HUB_CGI_H

#include "hub_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HUB_CGI_MAX_BODY (1024 * 1024)

typedef struct {
    char *name;
    char *value;
} hub_kv;

typedef struct {
    const char *method;      /* REQUEST_METHOD (borrowed from the environment) */
    const char *script;      /* SCRIPT_NAME, e.g. "/admin/keys" */
    const char *path_info;   /* PATH_INFO or "" */
    const char *remote_addr; /* REMOTE_ADDR or "" */
    bool https;              /* HTTPS=on or REQUEST_SCHEME=https */
    hub_kv *query;           /* owned */
    int nquery;
    hub_kv *form; /* owned; POST application/x-www-form-urlencoded only */
    int nform;
    hub_kv *cookies; /* owned */
    int ncookies;
} hub_cgi;

/*
 * Reads the request from the environment and (for POST) stdin. On failure returns false
 * and writes a short human-readable reason into err (the page answers 400 with it).
 */
bool hub_cgi_read(hub_cgi *c, char *err, size_t errsz);
void hub_cgi_free(hub_cgi *c);

/* First value of a query / form parameter / cookie, or NULL. */
const char *hub_cgi_query(const hub_cgi *c, const char *name);
const char *hub_cgi_form(const hub_cgi *c, const char *name);
const char *hub_cgi_cookie(const hub_cgi *c, const char *name);
/* An environment variable, or NULL (for REMOTE_USER and the groups variable). */
const char *hub_cgi_env(const char *name);

/* Decodes application/x-www-form-urlencoded text into an array (exposed for tests). */
bool hub_cgi_parse_urlencoded(const char *s, size_t len, hub_kv **out, int *n);
/* Parses a Cookie header value (exposed for tests). */
bool hub_cgi_parse_cookies(const char *s, hub_kv **out, int *n);
void hub_kv_free(hub_kv *kv, int n);

/*
 * Writes the response head to out: Status, Content-Type, Cache-Control: no-store and the
 * security headers (Content-Security-Policy: default-src 'self'; X-Frame-Options: DENY;
 * X-Content-Type-Options: nosniff; Referrer-Policy: no-referrer), plus extra header lines
 * ("Name: value\r\n"…, may be NULL), then the blank line.
 */
void hub_cgi_head(FILE *out, int status, const char *content_type, const char *extra);

/* Appends s percent-encoded for a URL query value. */
bool hub_cgi_urlencode(hub_buf *b, const char *s);

#endif
