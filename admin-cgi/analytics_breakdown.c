/*
 * analytics_breakdown.c — breakdowns (by user, team, app, key, model, provider or day) and the
 * monthly chargeback report, as pages and as CSV/JSON downloads of exactly the rows the page
 * shows (same query, same order; hub_report_csv / hub_report_json, the writer `hubctl usage`
 * uses). Each table ends with the totals of all its rows; names link one level down: a team
 * to its users, a user, key or app to its calls, a model to its users, a provider to its models.
 */
#include "analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_PER_PAGE 100
#define TOP_BARS      10

static const struct {
    const char *key; /* the sort key (hub_rtable_sort) */
    const char *head;
    bool pct; /* shown only when the breakdown read the latency histograms */
} COLS[] = {
    {"requests", "Requests", false},   {"errors", "Errors", false},
    {"tokens_in", "Tokens in", false}, {"tokens_out", "Tokens out", false},
    {"images", "Images", false},       {"cost", "Cost (USD)", false},
    {"unpriced", "Unpriced", false},   {"latency", "Avg latency", false},
    {"ttfb", "Avg TTFB", false},       {"p95", "Latency p95 (est.)", true},
};
#define NCOLS (int)(sizeof(COLS) / sizeof(COLS[0]))

static const char *dim_title(hub_dim d, bool by_time)
{
    if (by_time)
        return "Usage by day";
    switch (d) {
    case HUB_DIM_USER:
        return "Usage by user";
    case HUB_DIM_APP:
        return "Usage by app";
    case HUB_DIM_KEY:
        return "Usage by API key";
    case HUB_DIM_MODEL:
        return "Usage by model";
    case HUB_DIM_PROVIDER:
        return "Usage by provider";
    default:
        return "Usage by team";
    }
}

static void th_sort(an_ctx *a, const char *key, const char *head)
{
    bool on = a->sort != NULL && strcmp(a->sort, key) == 0;
    const char *dir = on && a->desc ? "asc" : "desc";
    int idx[] = {AQ_SORT, AQ_DIR};
    const char *val[] = {key, strcmp(key, "name") == 0 && !on ? "asc" : dir};
    hub_html_raw(&a->p->body, "<th scope=\"col\">");
    an_a(a, idx, val, 2, head);
    if (on)
        hub_html_raw(&a->p->body, a->desc ? " ▼" : " ▲");
    hub_html_raw(&a->p->body, "</th>");
}

static void ms_cell(pg *p, long long v)
{
    if (v < 0)
        hub_html_raw(&p->body, "<td class=\"num none\">—</td>");
    else
        hub_html_printf(&p->body, "<td class=\"num\">%lld ms</td>", v);
}

static void num_cells(an_ctx *a, const hub_meas *m, long long total_cost, bool pct)
{
    char b[48];
    pg *p = a->p;
    const int idx[] = {HUB_RU_REQUESTS, HUB_RU_ERRORS, HUB_RU_PROMPT, HUB_RU_COMPLETION,
                       HUB_RU_IMAGES};
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        an_count(m->v[idx[i]], b, sizeof(b));
        hub_html_printf(&p->body, "<td class=\"num\">%s</td>", b);
    }
    hub_report_usd(m->v[HUB_RU_COST], b, sizeof(b));
    hub_html_printf(&p->body, "<td class=\"num\">%s</td>", b);
    an_count(m->v[HUB_RU_UNPRICED], b, sizeof(b));
    hub_html_printf(&p->body, "<td class=\"num\">%s</td>", b);
    ms_cell(p, hub_meas_mean(m, false));
    ms_cell(p, hub_meas_mean(m, true));
    if (pct)
        ms_cell(p, hub_meas_pct(m, false, 0.95));
    long long tenths = total_cost > 0 ? m->v[HUB_RU_COST] * 1000 / total_cost : 0;
    hub_html_printf(&p->body, "<td class=\"num\">%lld.%lld%%</td>", tenths / 10, tenths % 10);
}

/* The name cell with its drill-down link. */
static void name_cell(an_ctx *a, hub_dim d, const hub_rrow *r)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", r->id);
    hub_html_raw(&a->p->body, "<td>");
    switch (d) {
    case HUB_DIM_TEAM: {
        int idx[] = {AQ_BY, AQ_TEAM, AQ_SORT, AQ_DIR};
        const char *val[] = {"user", id, NULL, NULL};
        an_a(a, idx, val, 4, r->label);
        break;
    }
    case HUB_DIM_USER:
    case HUB_DIM_KEY: {
        int idx[] = {AQ_VIEW, d == HUB_DIM_USER ? AQ_USER : AQ_KEY};
        const char *val[] = {"calls", id};
        an_a(a, idx, val, a->member && d == HUB_DIM_USER ? 1 : 2, r->label);
        break;
    }
    case HUB_DIM_APP: {
        int idx[] = {AQ_VIEW, AQ_APP};
        const char *val[] = {"calls", r->str != NULL && r->str[0] != '\0' ? r->str : AN_NONE};
        an_a(a, idx, val, 2, r->label);
        break;
    }
    case HUB_DIM_MODEL: {
        int idx[] = {AQ_BY, AQ_PROVIDER, AQ_MODEL, AQ_SORT, AQ_DIR};
        const char *val[] = {a->member ? "key" : "user", r->provider, r->model, NULL, NULL};
        an_a(a, idx, val, 5, r->label);
        break;
    }
    case HUB_DIM_PROVIDER: {
        int idx[] = {AQ_BY, AQ_PROVIDER, AQ_SORT, AQ_DIR};
        const char *val[] = {"model", r->str, NULL, NULL};
        an_a(a, idx, val, 4, r->label);
        break;
    }
    default:
        hub_html_esc(&a->p->body, r->label);
        break;
    }
    hub_html_raw(&a->p->body, "</td>");
}

static void table(an_ctx *a, const hub_rtable *t, hub_dim d, bool sortable, int first, int last)
{
    pg *p = a->p;
    hub_html_raw(&p->body, "<div class=\"table-wrap\"><table class=\"list report\">\n<thead><tr>");
    if (sortable)
        th_sort(a, "name", d == HUB_DIM_TEAM_MODEL ? "Team" : "Name");
    else
        hub_html_raw(&p->body, "<th scope=\"col\">Name</th>");
    if (d == HUB_DIM_KEY)
        hub_html_raw(&p->body, "<th scope=\"col\">Owner</th>");
    if (d == HUB_DIM_TEAM_MODEL)
        hub_html_raw(&p->body, "<th scope=\"col\">Model</th>");
    for (int i = 0; i < NCOLS; i++) {
        if (COLS[i].pct && !t->has_pct)
            continue;
        if (sortable)
            th_sort(a, COLS[i].key, COLS[i].head);
        else
            hub_html_printf(&p->body, "<th scope=\"col\">%s</th>", COLS[i].head);
    }
    hub_html_raw(&p->body, "<th scope=\"col\">Share of cost</th></tr></thead>\n<tbody>\n");
    for (int i = first; i < last && i < t->n; i++) {
        const hub_rrow *r = &t->rows[i];
        hub_html_raw(&p->body, "<tr>");
        name_cell(a, d == HUB_DIM_TEAM_MODEL ? HUB_DIM_TEAM : d, r);
        if (d == HUB_DIM_KEY || d == HUB_DIM_TEAM_MODEL)
            pg_td(p, r->label2);
        num_cells(a, &r->m, t->total.v[HUB_RU_COST], t->has_pct);
        hub_html_raw(&p->body, "</tr>\n");
    }
    if (t->n == 0)
        pg_empty_row(p, NCOLS + 3, "No usage in this period.");
    hub_html_raw(&p->body, "</tbody>\n<tfoot><tr class=\"total\"><th scope=\"row\">Total</th>");
    if (d == HUB_DIM_KEY || d == HUB_DIM_TEAM_MODEL)
        hub_html_raw(&p->body, "<td></td>");
    num_cells(a, &t->total, t->total.v[HUB_RU_COST], t->has_pct);
    hub_html_raw(&p->body, "</tr></tfoot></table></div>\n");
}

static void export_links(an_ctx *a)
{
    hub_buf l;
    hub_buf_init(&l, 0);
    hub_html_raw(&a->p->body, "<p class=\"actions\">Download: ");
    for (int k = 0; k < 2; k++) {
        hub_buf_reset(&l);
        an_link(a, &l, NULL, NULL, 0);
        hub_buf_puts(&l, k == 0 ? "&format=csv" : "&format=json");
        hub_html_printf(&a->p->body, "%s<a class=\"btn btn-quiet\" href=\"%s\">%s</a>",
                        k ? " " : "", l.data, k == 0 ? "CSV" : "JSON");
    }
    hub_html_raw(&a->p->body, "</p>\n");
    hub_buf_free(&l);
}

static void send_export(an_ctx *a, hub_dim d, const hub_rtable *t, const char *name)
{
    hub_buf b;
    hub_buf_init(&b, 0);
    bool ok = strcmp(a->format, "csv") == 0 ? hub_report_csv(&b, d, t) : hub_report_json(&b, d, t);
    if (ok)
        an_send_file(a, name, &b);
    else
        pg_fail(a->p, 500, "Out of memory.");
    hub_buf_free(&b);
}

static void dim_links(an_ctx *a)
{
    static const char *const BY[] = {"team",     "Team",     "user", "User",  "app",
                                     "App",      "key",      "Key",  "model", "Model",
                                     "provider", "Provider", "day",  "Day"};
    const char *cur = a->by_time ? "day" : hub_dim_name(a->by);
    hub_html_raw(&a->p->body, "<p class=\"tabs\">Group by: ");
    for (size_t i = 0; i < sizeof(BY) / sizeof(BY[0]); i += 2) {
        if (a->member && (strcmp(BY[i], "user") == 0 || strcmp(BY[i], "team") == 0))
            continue;
        if (strcmp(cur, BY[i]) == 0) {
            hub_html_printf(&a->p->body, "<strong>%s</strong> ", BY[i + 1]);
            continue;
        }
        int idx[] = {AQ_BY, AQ_SORT, AQ_DIR};
        const char *val[] = {BY[i], NULL, NULL};
        an_a(a, idx, val, 3, BY[i + 1]);
        hub_html_raw(&a->p->body, " ");
    }
    hub_html_raw(&a->p->body, "</p>\n");
}

static void bars(an_ctx *a, const hub_rtable *t)
{
    const char *labels[TOP_BARS];
    double v[TOP_BARS];
    int n = 0;
    hub_rrow *sorted = malloc(sizeof(*sorted) * (size_t)(t->n > 0 ? t->n : 1));
    if (sorted == NULL)
        return;
    memcpy(sorted, t->rows, sizeof(*sorted) * (size_t)t->n);
    hub_rtable tmp = {.rows = sorted, .n = t->n};
    hub_rtable_sort(&tmp, "cost", true);
    for (int i = 0; i < tmp.n && n < TOP_BARS && sorted[i].m.v[HUB_RU_COST] > 0; i++) {
        labels[n] = sorted[i].label;
        v[n++] = (double)sorted[i].m.v[HUB_RU_COST];
    }
    hub_svg_hbars(&a->p->body, "top", "Largest by estimated cost", n, labels, v,
                  hub_svg_fmt_usd_micro);
    free(sorted);
}

void an_breakdown(an_ctx *a)
{
    pg *p = a->p;
    hub_rtable t = {0};
    hub_series s = {0};
    hub_buckets *bk = NULL;
    char name[96];
    hub_dim d = a->by_time ? HUB_DIM_TIME : a->by;

    if (a->member && (d == HUB_DIM_USER || d == HUB_DIM_TEAM))
        d = a->by = HUB_DIM_MODEL; /* a member's own usage by user or team says nothing new */
    if (a->by_time) {
        bk = malloc(sizeof(*bk));
        if (bk == NULL) {
            pg_fail(p, 500, "Out of memory.");
            return;
        }
        hub_buckets_make(bk, &a->per);
        if (!hub_report_series(p->db, &a->f, HUB_DIM_NONE, bk, &s) ||
            !hub_series_rows(&s, bk, false, &t)) {
            pg_fail_db(p);
            goto end;
        }
    } else {
        if (!hub_report_breakdown(p->db, &a->f, d, &t)) {
            pg_fail_db(p);
            goto end;
        }
        hub_rtable_sort(&t, a->sort != NULL ? a->sort : "cost", a->sort != NULL ? a->desc : true);
    }
    snprintf(name, sizeof(name), "usage-by-%s-%s_%s", a->by_time ? "day" : hub_dim_name(d),
             a->per.from, a->per.to);
    if (a->format != NULL) {
        send_export(a, d, &t, name);
        goto end;
    }
    an_head(a, dim_title(d, a->by_time), "breakdown");
    dim_links(a);
    export_links(a);
    if (!a->by_time)
        bars(a, &t);
    long page = pg_page_no(p);
    int first = (int)((page - 1) * ROWS_PER_PAGE);
    table(a, &t, d, !a->by_time, first, first + ROWS_PER_PAGE);
    if (t.n > ROWS_PER_PAGE) {
        hub_buf l;
        hub_buf_init(&l, 0);
        hub_html_printf(&p->body, "<nav class=\"pager\">Rows %d–%d of %d. ", first + 1,
                        first + ROWS_PER_PAGE < t.n ? first + ROWS_PER_PAGE : t.n, t.n);
        for (int k = 0; k < 2; k++) {
            long to = k == 0 ? page - 1 : page + 1;
            if (to < 1 || (to - 1) * ROWS_PER_PAGE >= t.n)
                continue;
            hub_buf_reset(&l);
            an_link(a, &l, NULL, NULL, 0);
            hub_buf_printf(&l, "&page=%ld", to);
            hub_html_printf(&p->body, " <a href=\"%s\">%s</a>", l.data,
                            k == 0 ? "← Previous" : "Next →");
        }
        hub_html_raw(&p->body, " (the totals cover every row)</nav>\n");
        hub_buf_free(&l);
    }
    hub_html_printf(&p->body,
                    "<p class=\"muted\">From the rollups (%s family). Requests are attempts sent "
                    "upstream. Latency and time to first byte (TTFB) are exact means; p95 is "
                    "estimated from latency buckets, shown for totals and for breakdowns by team, "
                    "model or provider or of one user or key.</p>\n",
                    t.source != NULL ? t.source : "");
    pg_send(p, 200);
end:
    hub_rtable_free(&t);
    hub_series_free(&s);
    free(bk);
}

void an_chargeback(an_ctx *a)
{
    pg *p = a->p;
    hub_rtable t = {0};
    char name[64];
    hub_dim d = a->q[AQ_DETAIL] != NULL ? HUB_DIM_TEAM_MODEL : HUB_DIM_TEAM;

    if (!hub_report_breakdown(p->db, &a->f, d, &t)) {
        pg_fail_db(p);
        return;
    }
    hub_rtable_sort(&t, a->sort != NULL ? a->sort : "name", a->sort != NULL ? a->desc : false);
    snprintf(name, sizeof(name), "chargeback-%s%s", a->per.month,
             d == HUB_DIM_TEAM_MODEL ? "-detail" : "");
    if (a->format != NULL) {
        send_export(a, d, &t, name);
        hub_rtable_free(&t);
        return;
    }
    an_head(a, "Chargeback", "chargeback");
    hub_html_printf(&p->body,
                    "<p>Estimated cost of %s per team, in %s (the team is the one the API key "
                    "or sign-in token charged; \"(none)\" is usage without a team). Team names "
                    "lead to the month's usage by user.</p>\n",
                    a->per.month, a->tz.name);
    export_links(a);
    /* team links open the month as a custom period */
    const char *saved[5];
    int keep[] = {AQ_VIEW, AQ_PERIOD, AQ_FROM, AQ_TO, AQ_MONTH};
    for (int i = 0; i < 5; i++)
        saved[i] = a->q[keep[i]];
    a->q[AQ_VIEW] = "breakdown";
    a->q[AQ_PERIOD] = "custom";
    a->q[AQ_FROM] = a->per.from;
    a->q[AQ_TO] = a->per.to;
    a->q[AQ_MONTH] = NULL;
    table(a, &t, d, false, 0, t.n);
    for (int i = 0; i < 5; i++)
        a->q[keep[i]] = saved[i];
    hub_html_printf(&p->body,
                    "<p class=\"muted\">From the rollups (%s family). Costs are estimates from the "
                    "price table; unpriced requests count as 0.</p>\n",
                    t.source);
    pg_send(p, 200);
    hub_rtable_free(&t);
}
