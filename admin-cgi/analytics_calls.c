/*
 * analytics_calls.c — the call log: one line per attempt sent upstream (time, user, team, app,
 * key, model, endpoint, status, tokens, cost, latency, time to first byte, outcome), newest
 * first, 50 a page. The only analytics view that reads usage_log: always inside the chosen
 * period, through one of its (column, ts) indexes in ts order, keyset-paged (before=the last
 * row's ts|request id|attempt, never OFFSET), and bounded by ROWS EXAMINED so a rare filter
 * over a long period cannot scan the whole ledger. Answers are never stored; prompts only with
 * prompt logging on (a link beside the request id then opens one: analytics_prompt.c).
 */
#include "analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALLS_PER_PAGE 50
#define MAX_EXAMINED   "200000"

static const char *const HEADS[] = {"Time",      "User",       "Team",     "App",
                                    "Key",       "Model",      "Endpoint", "Status",
                                    "Tokens in", "Tokens out", "Images",   "Cost (USD)",
                                    "Latency",   "TTFB",       "Outcome",  "Request id"};
#define NHEADS (int)(sizeof(HEADS) / sizeof(HEADS[0]))

static const char *const OUTCOME_OPTS[] = {"",
                                           "any",
                                           "ok",
                                           "ok",
                                           "errors",
                                           "errors (all)",
                                           "upstream_error",
                                           "upstream_error",
                                           "timeout",
                                           "timeout",
                                           "truncated",
                                           "truncated",
                                           "client_abort",
                                           "client_abort",
                                           "pending",
                                           "pending (in flight)"};

typedef struct {
    char ts[32];
    char rid[37];
    long attempt;
} cursor;

/* "YYYY-MM-DD HH:MM:SS[.ffffff]|<uuid>|<attempt>" */
static bool parse_cursor(const char *s, cursor *c)
{
    const char *a = s != NULL ? strchr(s, '|') : NULL;
    const char *b = a != NULL ? strchr(a + 1, '|') : NULL;
    if (b == NULL || a - s < 19 || a - s > 26 || b - a - 1 != 36)
        return false;
    for (const char *p = s; p < a; p++) {
        if (strchr("0123456789-: .", *p) == NULL)
            return false;
    }
    for (const char *p = a + 1; p < b; p++) { /* a UUID from the gateway; any id of the column */
        if (*p == '\0' ||
            strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-", *p) == NULL)
            return false;
    }
    char *end = NULL;
    long at = strtol(b + 1, &end, 10);
    if (end == b + 1 || *end != '\0' || at < 0 || at > 65535)
        return false;
    memcpy(c->ts, s, (size_t)(a - s));
    c->ts[a - s] = '\0';
    memcpy(c->rid, a + 1, 36);
    c->rid[36] = '\0';
    c->attempt = at;
    return true;
}

static void local_time(long long t, char *out, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;
    localtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void filter_form(an_ctx *a)
{
    pg *p = a->p;
    hub_html_printf(&p->body, "<form method=\"get\" action=\"%s\" class=\"filters\">\n", p->self);
    for (int i = 0; i < AQ_N; i++) {
        if (i == AQ_APP || i == AQ_MODEL || i == AQ_OUTCOME || i == AQ_PROVIDER || a->q[i] == NULL)
            continue;
        static const char *const N[] = {"view",  "period",  "from", "to",  "tz",    "stack",
                                        "by",    "user",    "team", "key", "app",   "provider",
                                        "model", "outcome", "sort", "dir", "month", "detail"};
        pg_hidden(p, N[i], a->q[i]);
    }
    pg_input(p, "Provider", "text", "provider", a->q[AQ_PROVIDER], "maxlength=\"64\"", NULL);
    pg_input(p, "Model (upstream name)", "text", "model", a->q[AQ_MODEL], "maxlength=\"191\"",
             NULL);
    pg_input(p, "App", "text", "app", a->q[AQ_APP], "maxlength=\"128\"", NULL);
    pg_select(p, "Outcome", "outcome", OUTCOME_OPTS, 8, a->q[AQ_OUTCOME] ? a->q[AQ_OUTCOME] : "",
              NULL);
    hub_html_raw(&p->body, "<button type=\"submit\" class=\"btn btn-quiet\">Filter</button>"
                           "</form>\n");
}

/* Builds and runs the page query; false after an error page. */
static bool query(an_ctx *a, const cursor *cur, hub_dbres *r, bool *capped)
{
    pg *p = a->p;
    const hub_rfilter *f = &a->f;
    hub_buf q;
    hub_dbp prm[24];
    int np = 0;
    char t0[32], t1[32];
    hub_buf_init(&q, 0);
    hub_report_utc(f->t0, t0);
    hub_report_utc(f->t1, t1);
    hub_buf_puts(&q, "SELECT DATE_FORMAT(l.ts, '%Y-%m-%d %H:%i:%s.%f'), UNIX_TIMESTAMP(l.ts), "
                     "l.request_id, l.attempt, u.name, t.name, l.app, k.name, l.provider, "
                     "l.model, l.endpoint, l.stream, l.status, l.prompt_tokens, "
                     "l.completion_tokens, l.images, l.cost_micro, l.latency_ms, l.ttfb_ms, "
                     "l.outcome FROM usage_log l LEFT JOIN users u ON u.id = l.user_id "
                     "LEFT JOIN teams t ON t.id = l.team_id LEFT JOIN api_keys k ON "
                     "k.id = l.key_id WHERE l.ts >= ? AND l.ts < ?");
    prm[np++] = DB_STR(t0);
    prm[np++] = DB_STR(t1);
    const struct {
        const char *col;
        long long v;
    } ids[] = {{"user_id", f->user_id}, {"team_id", f->team_id}, {"key_id", f->key_id}};
    for (int i = 0; i < 3; i++) {
        if (ids[i].v == HUB_ANY)
            continue;
        if (ids[i].v == 0) {
            hub_buf_printf(&q, " AND l.%s IS NULL", ids[i].col);
        } else {
            hub_buf_printf(&q, " AND l.%s = ?", ids[i].col);
            prm[np++] = DB_INT(ids[i].v);
        }
    }
    if (f->app != NULL && f->app[0] == '\0') {
        hub_buf_puts(&q, " AND (l.app IS NULL OR l.app = '')");
    } else if (f->app != NULL) {
        hub_buf_puts(&q, " AND l.app = ?");
        prm[np++] = DB_STR(f->app);
    }
    if (f->provider != NULL) {
        hub_buf_puts(&q, " AND l.provider = ?");
        prm[np++] = DB_STR(f->provider);
    }
    if (f->model != NULL) {
        hub_buf_puts(&q, " AND l.model = ?");
        prm[np++] = DB_STR(f->model);
    }
    const char *oc = a->q[AQ_OUTCOME];
    if (oc != NULL && strcmp(oc, "errors") == 0) {
        hub_buf_puts(&q, " AND l.outcome NOT IN ('ok', 'client_abort', 'pending')");
    } else if (oc != NULL) {
        hub_buf_puts(&q, " AND l.outcome = ?");
        prm[np++] = DB_STR(oc);
    }
    if (cur != NULL) {
        hub_buf_puts(&q, " AND (l.ts < ? OR (l.ts = ? AND (l.request_id < ? OR "
                         "(l.request_id = ? AND l.attempt < ?))))");
        prm[np++] = DB_STR(cur->ts);
        prm[np++] = DB_STR(cur->ts);
        prm[np++] = DB_STR(cur->rid);
        prm[np++] = DB_STR(cur->rid);
        prm[np++] = DB_INT(cur->attempt);
    }
    hub_buf_puts(&q, " ORDER BY l.ts DESC, l.request_id DESC, l.attempt DESC LIMIT ? "
                     "ROWS EXAMINED " MAX_EXAMINED);
    prm[np++] = DB_INT(CALLS_PER_PAGE + 1);
    const char *sql = q.data != NULL ? hub_report_intern(q.data) : NULL;
    hub_buf_free(&q);
    if (sql == NULL || !hub_db_exec(p->db, sql, prm, np, r, NULL, NULL)) {
        pg_fail_db(p);
        return false;
    }
    MYSQL *m = hub_db_conn(p->db);
    *capped = r->nrows <= CALLS_PER_PAGE && m != NULL && mysql_warning_count(m) > 0;
    return true;
}

static void row(an_ctx *a, const hub_dbres *r, int i, bool has_prompt)
{
    pg *p = a->p;
    char b[64], model[300];
    local_time(hub_dbres_int(r, i, 1, 0), b, sizeof(b));
    hub_html_raw(&p->body, "<tr>");
    hub_html_printf(&p->body, "<td class=\"mono\">%s</td>", b);
    for (int c = 4; c <= 7; c++)
        pg_td(p, hub_dbres_get(r, i, c));
    snprintf(model, sizeof(model), "%s/%s", hub_dbres_get(r, i, 8) ? hub_dbres_get(r, i, 8) : "",
             hub_dbres_get(r, i, 9) ? hub_dbres_get(r, i, 9) : "");
    pg_td(p, model);
    snprintf(b, sizeof(b), "%s%s", hub_dbres_get(r, i, 10) ? hub_dbres_get(r, i, 10) : "",
             hub_dbres_int(r, i, 11, 0) ? " (stream)" : "");
    pg_td(p, b);
    for (int c = 12; c <= 15; c++) {
        if (hub_dbres_get(r, i, c) == NULL)
            pg_td(p, NULL);
        else
            pg_td_num(p, hub_dbres_int(r, i, c, 0));
    }
    if (hub_dbres_get(r, i, 16) == NULL) {
        pg_td(p, NULL);
    } else {
        hub_report_usd(hub_dbres_int(r, i, 16, 0), b, sizeof(b));
        hub_html_printf(&p->body, "<td class=\"num\">%s</td>", b);
    }
    for (int c = 17; c <= 18; c++) {
        if (hub_dbres_get(r, i, c) == NULL) {
            pg_td(p, NULL);
            continue;
        }
        hub_html_printf(&p->body, "<td class=\"num\">%lld ms</td>", hub_dbres_int(r, i, c, 0));
    }
    const char *oc = hub_dbres_get(r, i, 19);
    pg_td_badge(p,
                oc != NULL && strcmp(oc, "ok") == 0             ? "ok"
                : oc != NULL && strcmp(oc, "client_abort") == 0 ? "off"
                : oc != NULL && strcmp(oc, "pending") == 0      ? "off"
                                                                : "warn",
                oc);
    long attempt = (long)hub_dbres_int(r, i, 3, 0);
    snprintf(b, sizeof(b), "%.8s%s", hub_dbres_get(r, i, 2) ? hub_dbres_get(r, i, 2) : "",
             attempt > 0 ? " (retry)" : "");
    hub_html_printf(&p->body, "<td class=\"mono\" title=\"%s #%ld\">%s", hub_dbres_get(r, i, 2),
                    attempt, b);
    an_prompt_link(a, hub_dbres_get(r, i, 2), has_prompt);
    hub_html_raw(&p->body, "</td>");
    hub_html_raw(&p->body, "</tr>\n");
}

void an_calls(an_ctx *a)
{
    pg *p = a->p;
    hub_dbres r = {0};
    cursor cur;
    bool has_cur = false, capped = false;
    const char *before = pg_arg(p, "before");

    if (before != NULL && before[0] != '\0') {
        if (!parse_cursor(before, &cur)) {
            pg_fail(p, 400, "The page position (before=) is malformed.");
            return;
        }
        has_cur = true;
    }
    if (!query(a, has_cur ? &cur : NULL, &r, &capped))
        return;
    an_head(a, "Call log", "calls");
    an_prompt_notice(a);
    filter_form(a);
    pg_table_begin(p, HEADS, NHEADS);
    int shown = r.nrows > CALLS_PER_PAGE ? CALLS_PER_PAGE : r.nrows;
    bool prompts[CALLS_PER_PAGE];
    an_prompt_marks(a, &r, shown, 2, prompts);
    for (int i = 0; i < shown; i++)
        row(a, &r, i, prompts[i]);
    if (shown == 0)
        pg_empty_row(p, NHEADS, "No calls match in this period.");
    pg_table_end(p);
    if (capped)
        hub_html_notice(&p->body, "info",
                        "The search stopped after examining " MAX_EXAMINED " calls of the "
                        "period; narrow the period or filter by user, team, key or model to "
                        "look further back.");
    hub_buf l;
    hub_buf_init(&l, 0);
    hub_html_raw(&p->body, "<nav class=\"pager\" aria-label=\"Pages\">");
    if (has_cur) {
        an_link(a, &l, NULL, NULL, 0);
        hub_html_printf(&p->body, "<a href=\"%s\">« Newest</a> ", l.data);
    }
    if (r.nrows > CALLS_PER_PAGE) {
        char pos[128];
        snprintf(pos, sizeof(pos), "%s|%s|%lld", hub_dbres_get(&r, shown - 1, 0),
                 hub_dbres_get(&r, shown - 1, 2), hub_dbres_int(&r, shown - 1, 3, 0));
        hub_buf_reset(&l);
        an_link(a, &l, NULL, NULL, 0);
        hub_buf_puts(&l, "&before=");
        hub_cgi_urlencode(&l, pos);
        hub_html_printf(&p->body, "<a href=\"%s\" rel=\"next\">Older →</a>", l.data);
    }
    hub_html_raw(&p->body, "</nav>\n");
    hub_buf_free(&l);
    hub_html_printf(&p->body,
                    "<p class=\"muted\">Times in %s. Raw calls are kept for the configured "
                    "retention (usage_retention_days); the totals and breakdowns come from "
                    "rollups that are kept.</p>\n",
                    a->tz.name);
    pg_send(p, 200);
    hub_dbres_free(&r);
}
