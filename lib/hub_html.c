/*
 * hub_html.c — the one HTML writer of the admin pages (see hub_html.h).
 *
 * Dynamic text reaches a page only through hub_html_esc or the %s of hub_html_printf, which
 * escape & < > " ' — enough for element content and for double-quoted attribute values,
 * the only two places pages put data. hub_html_printf knows a deliberately small set of
 * conversions; anything else (a width, %x, %n, …) writes nothing and fails, so a format
 * typo cannot smuggle an argument out unescaped. The layout has no inline script or style
 * (the pages run under Content-Security-Policy: default-src 'self') and works without
 * JavaScript: the navigation is plain links, sign-out a small POST form with the CSRF token.
 */
#include "hub_html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Restores b to len (used to make an append all or nothing). */
static void truncate_to(hub_buf *b, size_t len)
{
    b->len = len;
    if (b->data != NULL)
        b->data[len] = '\0';
}

bool hub_html_esc(hub_buf *b, const char *s)
{
    size_t start = b->len;
    if (s == NULL)
        return true;
    const char *run = s; /* start of the pending run of plain bytes */
    for (const char *p = s;; p++) {
        const char *ent = NULL;
        switch (*p) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            break;
        }
        if (ent == NULL && *p != '\0')
            continue;
        if (!hub_buf_append(b, run, (size_t)(p - run)))
            goto fail;
        if (*p == '\0')
            return true;
        if (!hub_buf_puts(b, ent))
            goto fail;
        run = p + 1;
    }
fail:
    truncate_to(b, start);
    return false;
}

bool hub_html_raw(hub_buf *b, const char *markup)
{
    return markup == NULL || hub_buf_puts(b, markup);
}

/* ---- hub_html_printf ------------------------------------------------------------------- */

typedef enum { C_BAD, C_PCT, C_S, C_D, C_LD, C_LLD, C_U, C_LU, C_ZU } conv;

/* The conversion at fmt (just after '%'); *used gets the characters it spans. */
static conv conversion(const char *f, size_t *used)
{
    static const struct {
        const char *spec;
        conv c;
    } known[] = {
        {"%", C_PCT},   {"s", C_S},   {"d", C_D},   {"u", C_U},
        {"lld", C_LLD}, {"ld", C_LD}, {"lu", C_LU}, {"zu", C_ZU},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        size_t n = strlen(known[i].spec);
        if (strncmp(f, known[i].spec, n) == 0) {
            *used = n;
            return known[i].c;
        }
    }
    *used = 0;
    return C_BAD;
}

/* True when every conversion in fmt is one hub_html_printf knows. */
static bool format_ok(const char *fmt)
{
    for (const char *p = strchr(fmt, '%'); p != NULL; p = strchr(p, '%')) {
        size_t used = 0;
        if (conversion(p + 1, &used) == C_BAD)
            return false;
        p += 1 + used;
    }
    return true;
}

bool hub_html_printf(hub_buf *b, const char *fmt, ...)
{
    bool rc = false;
    size_t start = b->len;
    va_list ap;

    if (fmt == NULL || !format_ok(fmt))
        return false;
    va_start(ap, fmt);
    const char *p = fmt;
    while (*p != '\0') {
        const char *pct = strchr(p, '%');
        size_t lit = pct ? (size_t)(pct - p) : strlen(p);
        if (!hub_buf_append(b, p, lit))
            goto end;
        if (pct == NULL)
            break;
        size_t used = 0;
        bool ok = true;
        switch (conversion(pct + 1, &used)) {
        case C_PCT:
            ok = hub_buf_append(b, "%", 1);
            break;
        case C_S:
            ok = hub_html_esc(b, va_arg(ap, const char *));
            break;
        case C_D:
            ok = hub_buf_printf(b, "%d", va_arg(ap, int));
            break;
        case C_LD:
            ok = hub_buf_printf(b, "%ld", va_arg(ap, long));
            break;
        case C_LLD:
            ok = hub_buf_printf(b, "%lld", va_arg(ap, long long));
            break;
        case C_U:
            ok = hub_buf_printf(b, "%u", va_arg(ap, unsigned));
            break;
        case C_LU:
            ok = hub_buf_printf(b, "%lu", va_arg(ap, unsigned long));
            break;
        case C_ZU:
            ok = hub_buf_printf(b, "%zu", va_arg(ap, size_t));
            break;
        case C_BAD:
            ok = false; /* not reached: format_ok checked the whole format */
            break;
        }
        if (!ok)
            goto end;
        p = pct + 1 + used;
    }
    rc = true;
end:
    va_end(ap);
    if (!rc)
        truncate_to(b, start);
    return rc;
}

/* ---- the layout ------------------------------------------------------------------------ */

enum { R_ADMIN = 1, R_VIEWER = 2, R_MEMBER = 4 };

static const struct {
    const char *key;   /* hub_page.active */
    const char *label; /* markup constant */
    const char *file;  /* under base */
    int roles;
} NAV[] = {
    {"providers", "Providers", "/providers.cgi", R_ADMIN | R_VIEWER},
    {"models", "Models &amp; prices", "/models.cgi", R_ADMIN},
    {"keys", "API keys", "/keys.cgi", R_ADMIN | R_VIEWER},
    {"analytics", "Analytics", "/analytics.cgi", R_ADMIN | R_VIEWER | R_MEMBER},
    {"users", "Users &amp; teams", "/users.cgi", R_ADMIN},
    {"tokens", "My tokens", "/tokens.cgi", R_ADMIN | R_VIEWER | R_MEMBER},
    {"limits", "Budgets", "/limits.cgi", R_ADMIN | R_VIEWER},
    {"audit", "Audit log", "/audit.cgi", R_ADMIN | R_VIEWER},
    {"settings", "Security settings", "/settings.cgi", R_ADMIN},
};

static int role_bit(const char *role)
{
    if (role == NULL)
        return 0;
    if (strcmp(role, "admin") == 0)
        return R_ADMIN;
    if (strcmp(role, "viewer") == 0)
        return R_VIEWER;
    if (strcmp(role, "member") == 0)
        return R_MEMBER;
    return 0;
}

static bool nav(hub_buf *b, const hub_page *p, const char *base)
{
    int bit = role_bit(p->role);
    if (bit == 0)
        return true;
    if (!hub_html_raw(b, "<nav class=\"nav\" aria-label=\"Main\"><ul>\n"))
        return false;
    for (size_t i = 0; i < sizeof(NAV) / sizeof(NAV[0]); i++) {
        if ((NAV[i].roles & bit) == 0)
            continue;
        bool on = p->active != NULL && strcmp(p->active, NAV[i].key) == 0;
        if (!hub_html_printf(b, "<li><a href=\"%s%s\"", base, NAV[i].file) ||
            !hub_html_raw(b, on ? " class=\"active\" aria-current=\"page\">" : ">") ||
            !hub_html_raw(b, NAV[i].label) || !hub_html_raw(b, "</a></li>\n"))
            return false;
    }
    return hub_html_raw(b, "</ul></nav>\n");
}

static bool user_box(hub_buf *b, const hub_page *p, const char *base)
{
    if (p->user == NULL)
        return true;
    if (!hub_html_printf(b, "<div class=\"who\"><span class=\"who-name\">%s</span>", p->user))
        return false;
    if (role_bit(p->role) != 0 &&
        !hub_html_printf(b, " <span class=\"badge badge-role\">%s</span>", p->role))
        return false;
    if (p->csrf != NULL &&
        !hub_html_printf(b,
                         "<form method=\"post\" action=\"%s/login.cgi\" class=\"logout\">"
                         "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                         "<input type=\"hidden\" name=\"action\" value=\"logout\">"
                         "<button type=\"submit\" class=\"btn btn-quiet\">Sign out</button>"
                         "</form>",
                         base, p->csrf))
        return false;
    return hub_html_raw(b, "</div>\n");
}

bool hub_html_begin(hub_buf *b, const hub_page *p)
{
    size_t start = b->len;
    const char *base = (p->base != NULL) ? p->base : "";
    const char *title = (p->title != NULL) ? p->title : "";
    bool ok = hub_html_raw(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
                              "<meta charset=\"utf-8\">\n"
                              "<meta name=\"viewport\" content=\"width=device-width, "
                              "initial-scale=1\">\n"
                              "<meta name=\"referrer\" content=\"no-referrer\">\n") &&
              hub_html_printf(b, "<title>%s%shub</title>\n", title, *title ? " · " : "") &&
              hub_html_printf(b, "<link rel=\"stylesheet\" href=\"%s/static/hub.css\">\n", base) &&
              hub_html_raw(b, "</head>\n<body>\n<header class=\"topbar\">\n") &&
              hub_html_printf(b, "<a class=\"brand\" href=\"%s/\">hub</a>\n", base) &&
              nav(b, p, base) && user_box(b, p, base) &&
              hub_html_raw(b, "</header>\n<main class=\"main\">\n");
    if (!ok)
        truncate_to(b, start);
    return ok;
}

bool hub_html_end(hub_buf *b)
{
    return hub_html_raw(b,
                        "</main>\n<footer class=\"footer\">hub · enterprise AI gateway</footer>\n"
                        "</body>\n</html>\n");
}

bool hub_html_notice(hub_buf *b, const char *kind, const char *text)
{
    const char *k = "info";
    if (kind != NULL && (strcmp(kind, "ok") == 0 || strcmp(kind, "error") == 0))
        k = kind;
    size_t start = b->len;
    bool ok = hub_html_printf(b, "<div class=\"notice notice-%s\" role=\"%s\">%s</div>\n", k,
                              strcmp(k, "error") == 0 ? "alert" : "status", text);
    if (!ok)
        truncate_to(b, start);
    return ok;
}

bool hub_html_form_open(hub_buf *b, const char *action, const char *csrf)
{
    return hub_html_printf(b,
                           "<form method=\"post\" action=\"%s\">"
                           "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
                           action != NULL ? action : "", csrf != NULL ? csrf : "");
}
