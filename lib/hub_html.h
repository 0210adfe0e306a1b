/*
 * hub_html.h — the one HTML writer of the admin pages. Every dynamic value goes through
 * hub_html_esc (or the %s of hub_html_printf, which escapes); markup constants are written
 * as they are. Pages share one layout (header, navigation by role, footer) and one
 * stylesheet (served from /admin/static/hub.css). Forms carry the CSRF token.
 */
#ifndef HUB_HTML_H
#define HUB_HTML_H

#include "hub_buf.h"

#include <stdbool.h>

/* Appends s with & < > " ' escaped. NULL appends nothing. */
bool hub_html_esc(hub_buf *b, const char *s);
/* printf where every %s argument is HTML-escaped (%d, %ld, %lld, %u, %% as usual). */
bool hub_html_printf(hub_buf *b, const char *fmt, ...);
/* Appends literal markup (no escaping: constants only, never data). */
bool hub_html_raw(hub_buf *b, const char *markup);

typedef struct {
    const char *title;  /* page title */
    const char *user;   /* signed-in user name or NULL */
    const char *role;   /* admin, viewer, member or NULL */
    const char *active; /* nav entry to highlight: "providers", "models", "keys", "users",
                         * "tokens", "audit", "settings", "analytics" */
    const char *csrf;   /* the session's CSRF token, for the logout form; may be NULL */
    const char *base;   /* URL prefix of the pages, e.g. "/admin" */
} hub_page;

/* <!doctype html> … <main>: head, stylesheet link, header with navigation for the role. */
bool hub_html_begin(hub_buf *b, const hub_page *p);
/* </main> footer </body></html>. */
bool hub_html_end(hub_buf *b);
/* A notice box: kind "ok", "error" or "info"; text is escaped. */
bool hub_html_notice(hub_buf *b, const char *kind, const char *text);
/* <form method="post" action="…"> with the hidden csrf field. Close with hub_html_raw(b,
 * "</form>"). */
bool hub_html_form_open(hub_buf *b, const char *action, const char *csrf);

#endif
