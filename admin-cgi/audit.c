/*
 * audit.c — audit.cgi (admins and viewers, read-only): the audit log, newest first, 50 rows
 * a page, filtered by actor, action, target type and date range (UTC days).
 *
 *   GET [?actor=A][&action=X][&target_type=T][&from=YYYY-MM-DD][&to=YYYY-MM-DD][&page=N]
 *   GET ?verify=1      recomputes the hash chain (hub_audit_verify) and reports the result
 *
 * Each row shows before → after as the JSON that was stored, escaped. Secrets never reach
 * the log: writers store "(sealed)" or "(set)" instead.
 */
#include "page.h"

#include "hub_audit.h"
#include "hub_ops.h"

#include <stdio.h>
#include <string.h>

static const char SQL_LIST[] =
    "SELECT id, DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s'), actor, via, action, target_type, target, "
    "before_json, after_json FROM audit_log "
    "WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR action = ?) "
    "AND (? IS NULL OR target_type = ?) "
    "AND (? IS NULL OR ts >= CAST(? AS DATE)) "
    "AND (? IS NULL OR ts < CAST(? AS DATE) + INTERVAL 1 DAY) "
    "ORDER BY id DESC LIMIT ? OFFSET ?";

static const char *const TYPES[] = {
    "",   "any",     "provider", NULL,   "credential", NULL,   "model", NULL,      "price",
    NULL, "api_key", NULL,       "user", NULL,         "team", NULL,    "setting", NULL,
};
#define NTYPES 9

/* A filter value from the query: NULL when absent or empty. */
static const char *filter(const pg *p, const char *name)
{
    const char *v = pg_arg(p, name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void verify(pg *p)
{
    long long rows = 0, bad = 0;
    char msg[300], text[400];
    if (hub_audit_verify(p->db, &rows, &bad, msg, sizeof(msg)) && bad == 0) {
        snprintf(text, sizeof(text), "The audit chain is intact: %lld rows checked.", rows);
        hub_html_notice(&p->body, "ok", text);
    } else if (bad == 0) {
        snprintf(text, sizeof(text), "The audit chain could not be checked: %s", msg);
        hub_html_notice(&p->body, "error", text);
    } else {
        snprintf(text, sizeof(text), "The audit chain is broken at row %lld: %s", bad, msg);
        hub_html_notice(&p->body, "error", text);
    }
}

static void form(pg *p, const char *const *v)
{
    hub_html_printf(&p->body, "<form method=\"get\" action=\"%s\" class=\"filters\">\n", p->self);
    pg_input(p, "Actor", "text", "actor", v[0], "maxlength=\"128\"", NULL);
    pg_input(p, "Action", "text", "action", v[1],
             "maxlength=\"64\" placeholder=\"e.g. key.revoke\"", NULL);
    pg_select(p, "Target type", "target_type", TYPES, NTYPES, v[2] != NULL ? v[2] : "", NULL);
    pg_input(p, "From (UTC day)", "date", "from", v[3], NULL, NULL);
    pg_input(p, "To (UTC day)", "date", "to", v[4], NULL, NULL);
    hub_html_raw(&p->body, "<button type=\"submit\" class=\"btn btn-quiet\">Filter</button>"
                           "</form>\n");
    hub_html_printf(&p->body,
                    "<p class=\"actions\"><a href=\"%s?verify=1\">Verify the hash "
                    "chain</a></p>\n",
                    p->self);
}

static void rows(pg *p, const hub_dbres *r, int shown)
{
    static const char *const HEADS[] = {"Time (UTC)", "Actor", "Action", "Target",
                                        "Before → after"};
    pg_table_begin(p, HEADS, 5);
    for (int i = 0; i < shown; i++) {
        const char *before = hub_dbres_get(r, i, 7), *after = hub_dbres_get(r, i, 8);
        hub_html_raw(&p->body, "<tr>");
        pg_td(p, hub_dbres_get(r, i, 1));
        hub_html_printf(&p->body, "<td>%s <small class=\"hint\">via %s</small></td>",
                        hub_dbres_get(r, i, 2), hub_dbres_get(r, i, 3));
        hub_html_printf(&p->body, "<td><code>%s</code></td>", hub_dbres_get(r, i, 4));
        hub_html_printf(&p->body, "<td>%s: %s</td>", hub_dbres_get(r, i, 5),
                        hub_dbres_get(r, i, 6));
        hub_html_printf(&p->body,
                        "<td class=\"change\"><code class=\"json\">%s</code> → "
                        "<code class=\"json\">%s</code></td></tr>\n",
                        before != NULL ? before : "—", after != NULL ? after : "—");
    }
    if (shown == 0)
        pg_empty_row(p, 5, "No audit rows match.");
    pg_table_end(p);
}

static void show(pg *p, int status)
{
    static const char *const NAMES[] = {"actor", "action", "target_type", "from", "to"};
    const char *v[5];
    hub_dbres r;
    long page = 1;
    const char *bad = NULL;

    for (int i = 0; i < 5; i++)
        v[i] = filter(p, NAMES[i]);
    for (int i = 3; i < 5; i++) {
        if (v[i] != NULL && !hub_date_ok(v[i])) {
            bad = "Dates are YYYY-MM-DD; the date filter was ignored.";
            v[i] = NULL;
            status = 400;
        }
    }
    hub_dbp q[10];
    for (int i = 0; i < 5; i++)
        q[2 * i] = q[2 * i + 1] = DB_STR(v[i]);
    if (!pg_list(p, SQL_LIST, q, 10, &page, &r))
        return;
    pg_begin(p, "Audit log");
    hub_html_raw(&p->body, "<h1>Audit log</h1>\n");
    if (bad != NULL)
        hub_html_notice(&p->body, "error", bad);
    if (pg_arg(p, "verify") != NULL)
        verify(p);
    form(p, v);
    rows(p, &r, pg_shown(&r));
    pg_pager_filters(p, NULL, NAMES, v, 5, page, r.nrows > PG_PAGE_SIZE);
    hub_dbres_free(&r);
    pg_send(p, status);
}

int main(void)
{
    static const pg_app APP = {
        .program = "audit.cgi", .active = "audit", .read_role = "viewer", .list = show};
    return pg_run(&APP);
}
