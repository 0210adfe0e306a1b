/*
 * analytics.c — analytics.cgi (see analytics.h): the request's parameters, checked against
 * allow-lists and character sets before anything uses them; who may see what; the shared
 * page head (tabs, period form, filters); links that keep the current view's parameters;
 * downloads. GET and HEAD only: nothing here changes anything.
 */
#include "analytics.h"

#include "hub_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const NAMES[AQ_N] = {"view",  "period",  "from", "to",  "tz",    "stack",
                                        "by",    "user",    "team", "key", "app",   "provider",
                                        "model", "outcome", "sort", "dir", "month", "detail"};

static const char *const VIEWS[] = {"overview", "breakdown", "calls", "chargeback", NULL};
static const char *const PERIODS[] = {
    "today",        "Today", "7d",         "Last 7 days", "30d",
    "Last 30 days", "month", "This month", "custom",      "Custom (from – to)"};
static const char *const STACKS[] = {"team", "By team", "model", "By model"};
static const char *const OUTCOMES[] = {"ok",      "upstream_error", "client_abort", "truncated",
                                       "timeout", "pending",        "errors",       NULL};
static const char *const BYS[] = {"user", "team", "app", "key", "model", "provider", "day", NULL};

static const char SQL_NAMES[] = "SELECT (SELECT name FROM users WHERE id = ?), "
                                "(SELECT name FROM teams WHERE id = ?), "
                                "(SELECT name FROM api_keys WHERE id = ?)";
/* a member sees the names of their own team and keys only (other ids show as numbers) */
static const char SQL_NAMES_MEMBER[] =
    "SELECT NULL, (SELECT t.name FROM teams t JOIN users u ON u.team_id = t.id "
    "WHERE t.id = ? AND u.id = ?), (SELECT name FROM api_keys WHERE id = ? AND user_id = ?)";

static bool in_list(const char *v, const char *const *list)
{
    for (int i = 0; v != NULL && list[i] != NULL; i++) {
        if (strcmp(v, list[i]) == 0)
            return true;
    }
    return false;
}

/* ---- links ------------------------------------------------------------------------------ */

void an_link(an_ctx *a, hub_buf *out, const int *idx, const char *const *val, int n)
{
    const char *v[AQ_N];
    bool any = false;
    memcpy(v, a->q, sizeof(v));
    for (int i = 0; i < n; i++)
        v[idx[i]] = val[i];
    hub_buf_puts(out, a->p->self);
    for (int i = 0; i < AQ_N; i++) {
        if (v[i] == NULL)
            continue;
        hub_buf_printf(out, "%s%s=", any ? "&" : "?", NAMES[i]);
        hub_cgi_urlencode(out, v[i]);
        any = true;
    }
}

void an_a(an_ctx *a, const int *idx, const char *const *val, int n, const char *text)
{
    hub_buf l;
    hub_buf_init(&l, 0);
    an_link(a, &l, idx, val, n);
    hub_html_printf(&a->p->body, "<a href=\"%s\">%s</a>", l.data != NULL ? l.data : "", text);
    hub_buf_free(&l);
}

/* ---- numbers ---------------------------------------------------------------------------- */

void an_count(long long v, char *out, size_t outsz)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%lld", v < 0 ? -v : v);
    size_t o = 0;
    if (v < 0 && o + 1 < outsz)
        out[o++] = '-';
    for (int i = 0; i < n && o + 2 < outsz; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

void an_usd(long long micro, char *out, size_t outsz)
{
    char whole[32];
    long long a = micro < 0 ? -micro : micro;
    an_count(a / 1000000, whole, sizeof(whole));
    if (a >= 100000000) /* $100 and more: cents */
        snprintf(out, outsz, "%s$%s.%02lld", micro < 0 ? "-" : "", whole, a % 1000000 / 10000);
    else
        snprintf(out, outsz, "%s$%s.%04lld", micro < 0 ? "-" : "", whole, a % 1000000 / 100);
}

/* ---- the head ----------------------------------------------------------------------------- */

static void tab(an_ctx *a, const char *view, const char *text, const char *active)
{
    if (strcmp(view, active) == 0) {
        hub_html_printf(&a->p->body, "<strong>%s</strong>", text);
        return;
    }
    int idx[] = {AQ_VIEW, AQ_SORT, AQ_DIR};
    const char *val[] = {view, NULL, NULL};
    an_a(a, idx, val, 3, text);
}

static void hidden_params(an_ctx *a)
{
    for (int i = 0; i < AQ_N; i++) {
        if (a->q[i] == NULL || i == AQ_PERIOD || i == AQ_FROM || i == AQ_TO || i == AQ_TZ ||
            i == AQ_STACK || i == AQ_MONTH || i == AQ_DETAIL)
            continue;
        pg_hidden(a->p, NAMES[i], a->q[i]);
    }
}

static void period_form(an_ctx *a, const char *active)
{
    pg *p = a->p;
    const char *tzopts[2 * 40];
    int ntz = 0;
    static const char *const OFFS[] = {"UTC-8", "UTC-5", "UTC-3", "UTC+1",  "UTC+2", "UTC+3",
                                       "UTC+4", "UTC+8", "UTC+9", "UTC+10", NULL};
    tzopts[ntz * 2] = "UTC";
    tzopts[ntz * 2 + 1] = "UTC";
    ntz++;
    for (int i = 0; hub_tz_names[i] != NULL; i++, ntz++)
        tzopts[ntz * 2] = tzopts[ntz * 2 + 1] = hub_tz_names[i];
    for (int i = 0; OFFS[i] != NULL; i++, ntz++)
        tzopts[ntz * 2] = tzopts[ntz * 2 + 1] = OFFS[i];
    bool listed = false;
    for (int i = 0; i < ntz; i++)
        listed = listed || strcmp(tzopts[2 * i], a->tz.name) == 0;
    if (!listed) {
        tzopts[ntz * 2] = tzopts[ntz * 2 + 1] = a->tz.name;
        ntz++;
    }
    hub_html_printf(&p->body, "<form method=\"get\" action=\"%s\" class=\"filters\">\n", p->self);
    hidden_params(a);
    if (strcmp(active, "chargeback") == 0) {
        pg_input(p, "Month", "month", "month", a->per.month, "pattern=\"[0-9]{4}-[0-9]{2}\"",
                 "YYYY-MM");
        pg_checkbox(p, "Per team and model", "detail", a->q[AQ_DETAIL] != NULL, NULL);
    } else {
        pg_select(p, "Period", "period", PERIODS, 5, a->q[AQ_PERIOD], NULL);
        pg_input(p, "From", "date", "from", a->q[AQ_FROM] ? a->q[AQ_FROM] : a->per.from, NULL,
                 NULL);
        pg_input(p, "To", "date", "to", a->q[AQ_TO] ? a->q[AQ_TO] : a->per.to, NULL,
                 "From/to apply to Custom");
    }
    pg_select(p, "Time zone", "tz", tzopts, ntz, a->tz.name, NULL);
    if (strcmp(active, "overview") == 0)
        pg_select(p, "Charts", "stack", STACKS, 2, a->stack == HUB_DIM_MODEL ? "model" : "team",
                  NULL);
    hub_html_raw(&p->body,
                 "<button type=\"submit\" class=\"btn btn-quiet\">Show</button></form>\n");
}

/* "Filtered to …" with a link that drops each filter. */
static void filter_line(an_ctx *a)
{
    pg *p = a->p;
    hub_dbres r = {0};
    const hub_rfilter *f = &a->f;
    bool any = (!a->member && f->user_id != HUB_ANY) || f->team_id != HUB_ANY ||
               f->key_id != HUB_ANY || f->app != NULL || f->provider != NULL || f->model != NULL ||
               a->q[AQ_OUTCOME] != NULL;
    if (!any)
        return;
    hub_dbp q[4] = {DB_INT(f->user_id), DB_INT(f->team_id), DB_INT(f->key_id), DB_NULL};
    hub_dbp qm[4] = {DB_INT(f->team_id), DB_INT(p->s.user_id), DB_INT(f->key_id),
                     DB_INT(p->s.user_id)};
    bool ok = a->member ? hub_db_exec(p->db, SQL_NAMES_MEMBER, qm, 4, &r, NULL, NULL)
                        : hub_db_exec(p->db, SQL_NAMES, q, 3, &r, NULL, NULL);
    if (!ok)
        memset(&r, 0, sizeof(r));
    hub_html_raw(&p->body, "<p class=\"filters-on\">Filtered to ");
    const struct {
        int idx;
        const char *what;
        const char *name;
    } fl[] = {
        {AQ_USER, "user", f->user_id == 0 ? "(none)" : hub_dbres_get(&r, 0, 0)},
        {AQ_TEAM, "team", f->team_id == 0 ? "(none)" : hub_dbres_get(&r, 0, 1)},
        {AQ_KEY, "key", f->key_id == 0 ? "(no key)" : hub_dbres_get(&r, 0, 2)},
        {AQ_APP, "app", f->app != NULL && f->app[0] == '\0' ? AN_NONE : f->app},
        {AQ_PROVIDER, "provider", f->provider},
        {AQ_MODEL, "model", f->model},
        {AQ_OUTCOME, "outcome", a->q[AQ_OUTCOME]},
    };
    bool first = true;
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
        if (a->q[fl[i].idx] == NULL || (fl[i].idx == AQ_USER && a->member))
            continue;
        hub_html_printf(&p->body, "%s%s <strong>%s</strong> (", first ? "" : ", ", fl[i].what,
                        fl[i].name != NULL ? fl[i].name : a->q[fl[i].idx]);
        int idx[] = {fl[i].idx};
        const char *val[] = {NULL};
        an_a(a, idx, val, 1, "remove");
        hub_html_raw(&p->body, ")");
        first = false;
    }
    hub_html_raw(&p->body, ".</p>\n");
    hub_dbres_free(&r);
}

void an_head(an_ctx *a, const char *title, const char *active)
{
    pg *p = a->p;
    pg_begin(p, title);
    hub_html_printf(&p->body, "<h1>%s</h1>\n", title);
    if (a->member)
        hub_html_printf(&p->body,
                        "<p class=\"muted\">Your own usage (%s): calls made with your keys and "
                        "your sign-in tokens.</p>\n",
                        p->s.user);
    hub_html_raw(&p->body, "<p class=\"tabs\">");
    tab(a, "overview", "Overview", active);
    hub_html_raw(&p->body, " · ");
    tab(a, "breakdown", "Breakdowns", active);
    hub_html_raw(&p->body, " · ");
    tab(a, "calls", "Call log", active);
    hub_html_raw(&p->body, " · ");
    tab(a, "chargeback", "Chargeback", active);
    hub_html_raw(&p->body, "</p>\n");
    period_form(a, active);
    hub_html_printf(&p->body, "<p class=\"muted\">%s to %s (whole days in %s).", a->per.from,
                    a->per.to, a->tz.name);
    if (strcmp(active, "overview") == 0 && a->per.p1 > a->per.p0)
        hub_html_printf(&p->body, " Compared with %s to %s.", a->per.pfrom, a->per.pto);
    hub_html_raw(&p->body, "</p>\n");
    filter_line(a);
}

void an_send_file(an_ctx *a, const char *name, const hub_buf *body)
{
    pg *p = a->p;
    char hdr[256];
    bool csv = a->format != NULL && strcmp(a->format, "csv") == 0;
    snprintf(hdr, sizeof(hdr), "Content-Disposition: attachment; filename=\"hub-%s.%s\"", name,
             csv ? "csv" : "json");
    pg_header(p, hdr);
    hub_cgi_head(stdout, 200, csv ? "text/csv; charset=utf-8" : "application/json", p->headers);
    const char *m = getenv("REQUEST_METHOD");
    if ((m == NULL || strcmp(m, "HEAD") != 0) && body->len > 0)
        fwrite(body->data, 1, body->len, stdout);
    fflush(stdout);
    p->sent = true;
}

/* ---- parameters --------------------------------------------------------------------------- */

/* An id parameter: absent → HUB_ANY; "0" = none; else 1..2^32-1. */
static bool id_param(an_ctx *a, int idx, long long *out)
{
    const char *s = pg_arg(a->p, NAMES[idx]);
    long v = 0;
    *out = HUB_ANY;
    if (s == NULL || s[0] == '\0')
        return true;
    if (!hub_int_ok(s, 0, 4294967295L, &v))
        return false;
    *out = v;
    snprintf(a->idbuf[idx - AQ_USER], sizeof(a->idbuf[0]), "%ld", v);
    a->q[idx] = a->idbuf[idx - AQ_USER];
    return true;
}

/*
 * A string filter: absent or empty (a form's blank field) → NULL, no filter. With none_ok,
 * AN_NONE (which no name can be: names have no parentheses) → "" = usage without one.
 */
static bool str_param(an_ctx *a, int idx, size_t max, const char *chars, bool none_ok,
                      const char **out)
{
    const char *s = pg_arg(a->p, NAMES[idx]);
    *out = NULL;
    if (s == NULL || s[0] == '\0')
        return true;
    if (none_ok && strcmp(s, AN_NONE) == 0) {
        *out = "";
        a->q[idx] = s;
        return true;
    }
    if (!hub_name_ok(s, max, chars) || strstr(s, "..") != NULL)
        return false;
    *out = s;
    a->q[idx] = s;
    return true;
}

/* Reads and checks every parameter; false after a 400 / 403 page. */
static bool params(an_ctx *a)
{
    pg *p = a->p;
    char err[200];
    const char *v;

    v = pg_arg(p, "view");
    a->q[AQ_VIEW] = in_list(v, VIEWS) ? v : "overview";
    v = pg_arg(p, "tz");
    if (!hub_tz_parse(v, &a->tz)) {
        pg_fail(p, 400, "Unknown time zone: choose one from the list, UTC+H or UTC-H.");
        return false;
    }
    if (v != NULL && v[0] != '\0')
        a->q[AQ_TZ] = a->tz.name;
    hub_tz_use(&a->tz);

    v = pg_arg(p, "period");
    a->q[AQ_PERIOD] =
        v != NULL && (strcmp(v, "today") == 0 || strcmp(v, "7d") == 0 || strcmp(v, "30d") == 0 ||
                      strcmp(v, "month") == 0 || strcmp(v, "custom") == 0)
            ? v
            : "7d";
    time_t now = time(NULL);
    bool cb = strcmp(a->q[AQ_VIEW], "chargeback") == 0;
    if (cb) {
        v = pg_arg(p, "month");
        if (v == NULL || v[0] == '\0') {
            /* default: the last whole month */
            struct tm tm;
            localtime_r(&now, &tm);
            tm.tm_mday = 1;
            tm.tm_mon -= 1;
            tm.tm_isdst = -1;
            time_t t = mktime(&tm);
            localtime_r(&t, &tm);
            strftime(a->monthbuf, sizeof(a->monthbuf), "%Y-%m", &tm);
            v = a->monthbuf;
        }
        if (!hub_period_make(&a->per, "chargeback", v, NULL, now, err, sizeof(err))) {
            pg_fail(p, 400, "The month must look like 2025-09.");
            return false;
        }
        a->q[AQ_MONTH] = a->per.month;
        if (pg_arg(p, "detail") != NULL && strcmp(pg_arg(p, "detail"), "1") == 0)
            a->q[AQ_DETAIL] = "1";
    } else {
        const char *from = pg_arg(p, "from"), *to = pg_arg(p, "to");
        bool custom = strcmp(a->q[AQ_PERIOD], "custom") == 0;
        if (!hub_period_make(&a->per, a->q[AQ_PERIOD], from, to, now, err, sizeof(err)) ||
            (custom && a->per.t1 - a->per.t0 > 401LL * 86400)) {
            pg_fail(p, 400,
                    custom ? "A custom period needs From and To dates (YYYY-MM-DD), From not "
                             "after To, at most 400 days."
                           : err);
            return false;
        }
        if (custom) {
            a->q[AQ_FROM] = from;
            a->q[AQ_TO] = to;
        }
    }
    hub_rfilter_init(&a->f, a->per.t0, a->per.t1);

    v = pg_arg(p, "stack");
    a->stack = a->member ? HUB_DIM_MODEL : HUB_DIM_TEAM;
    if (v != NULL && (strcmp(v, "team") == 0 || strcmp(v, "model") == 0)) {
        a->stack = v[0] == 't' ? HUB_DIM_TEAM : HUB_DIM_MODEL;
        a->q[AQ_STACK] = v;
    }
    v = pg_arg(p, "by");
    a->by = a->member ? HUB_DIM_MODEL : HUB_DIM_TEAM;
    if (v != NULL && in_list(v, BYS)) {
        a->q[AQ_BY] = v;
        a->by_time = strcmp(v, "day") == 0;
        if (!a->by_time)
            hub_dim_parse(v, &a->by);
    }
    v = pg_arg(p, "sort");
    if (v != NULL && hub_sort_key_ok(v)) {
        a->sort = a->q[AQ_SORT] = v;
        v = pg_arg(p, "dir");
        a->desc = v == NULL || strcmp(v, "asc") != 0;
        if (v != NULL && (strcmp(v, "asc") == 0 || strcmp(v, "desc") == 0))
            a->q[AQ_DIR] = v;
    }
    v = pg_arg(p, "outcome");
    if (v != NULL && in_list(v, OUTCOMES))
        a->q[AQ_OUTCOME] = v;
    v = pg_arg(p, "format");
    if (v != NULL && (strcmp(v, "csv") == 0 || strcmp(v, "json") == 0))
        a->format = v;

    if (!id_param(a, AQ_USER, &a->f.user_id) || !id_param(a, AQ_TEAM, &a->f.team_id) ||
        !id_param(a, AQ_KEY, &a->f.key_id) ||
        !str_param(a, AQ_APP, 128, HUB_CHARS_APP, true, &a->f.app) ||
        !str_param(a, AQ_PROVIDER, 64, HUB_CHARS_PROVIDER, false, &a->f.provider) ||
        !str_param(a, AQ_MODEL, 191, HUB_CHARS_MODEL, false, &a->f.model)) {
        pg_fail(p, 400,
                "A filter is malformed: user, team and key are numbers; app, provider "
                "and model are names.");
        return false;
    }
    if (a->member) {
        if (a->f.user_id != HUB_ANY && a->f.user_id != p->s.user_id) {
            pg_fail(p, 403, "Members see only their own usage.");
            return false;
        }
        a->f.user_id = p->s.user_id; /* every query of this request carries it */
        a->q[AQ_USER] = NULL;
    }
    return true;
}

int main(void)
{
    pg p;
    an_ctx a;
    memset(&a, 0, sizeof(a));
    a.p = &p;
    if (pg_start(&p, "analytics.cgi", "analytics", false) && pg_auth(&p, "member", NULL)) {
        a.member = !pg_role(&p, "viewer");
        const char *v = pg_arg(&p, "view");
        if (v != NULL && strcmp(v, "prompt") == 0)
            an_prompt(&a);
        else if (params(&a)) {
            const char *view = a.q[AQ_VIEW];
            if (strcmp(view, "breakdown") == 0)
                an_breakdown(&a);
            else if (strcmp(view, "calls") == 0)
                an_calls(&a);
            else if (strcmp(view, "chargeback") == 0)
                an_chargeback(&a);
            else
                an_overview(&a);
        }
    }
    return pg_finish(&p);
}
