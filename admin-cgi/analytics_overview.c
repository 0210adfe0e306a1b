/*
 * analytics_overview.c — the overview: the period's totals beside the previous period's, cost
 * and tokens over time (hourly buckets for one day, else daily, in the viewer's zone) stacked
 * by team or model (the seven largest by cost, the rest as "other"), and the top spenders.
 * Four to five rollup queries, whatever the size of the ledger.
 */
#include "analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOP_SERIES   7
#define TOP_SPENDERS 10

static const char SQL_FRESH[] =
    "SELECT DATE_FORMAT(last_roll_at, '%Y-%m-%d %H:%i:%s') FROM usage_rollup_state WHERE id = 1";

typedef void (*fmt_fn)(long long v, char *out, size_t n);

static void fmt_ms(long long v, char *out, size_t n)
{
    if (v < 0)
        snprintf(out, n, "–");
    else
        snprintf(out, n, "%lld ms", v);
}

/* One card: value, label, and the previous period's value with the change in percent. */
static void card(an_ctx *a, const char *label, long long cur, long long prev, bool have_prev,
                 fmt_fn fmt)
{
    char c[48], pv[48], delta[48] = "";
    fmt(cur, c, sizeof(c));
    fmt(prev, pv, sizeof(pv));
    if (have_prev && prev > 0 && cur >= 0) {
        long long tenths = (cur - prev) * 1000 / prev;
        snprintf(delta, sizeof(delta), " (%s%lld.%lld%%)", tenths >= 0 ? "+" : "-",
                 (tenths < 0 ? -tenths : tenths) / 10, (tenths < 0 ? -tenths : tenths) % 10);
    }
    hub_html_printf(&a->p->body,
                    "<div class=\"card\"><span class=\"card-num\">%s</span> "
                    "<span class=\"card-label\">%s</span>",
                    c, label);
    if (have_prev)
        hub_html_printf(&a->p->body, "<span class=\"muted\">previous: %s%s</span>", pv, delta);
    hub_html_raw(&a->p->body, "</div>\n");
}

static void fmt_count(long long v, char *out, size_t n)
{
    an_count(v, out, n);
}

static void kpis(an_ctx *a, const hub_meas *m, const hub_meas *pm, bool have_prev)
{
    char extra[256];
    hub_html_raw(&a->p->body, "<section class=\"cards\" aria-label=\"Totals\">\n");
    card(a, "requests (attempts sent upstream)", m->v[HUB_RU_REQUESTS], pm->v[HUB_RU_REQUESTS],
         have_prev, fmt_count);
    card(a, "tokens in", m->v[HUB_RU_PROMPT], pm->v[HUB_RU_PROMPT], have_prev, fmt_count);
    card(a, "tokens out", m->v[HUB_RU_COMPLETION], pm->v[HUB_RU_COMPLETION], have_prev, fmt_count);
    card(a, "images", m->v[HUB_RU_IMAGES], pm->v[HUB_RU_IMAGES], have_prev, fmt_count);
    card(a, "estimated cost (USD)", m->v[HUB_RU_COST], pm->v[HUB_RU_COST], have_prev, an_usd);
    card(a, "errors", m->v[HUB_RU_ERRORS], pm->v[HUB_RU_ERRORS], have_prev, fmt_count);
    card(a, "latency p50 (est.)", hub_meas_pct(m, false, 0.5), hub_meas_pct(pm, false, 0.5),
         have_prev, fmt_ms);
    card(a, "latency p95 (est.)", hub_meas_pct(m, false, 0.95), hub_meas_pct(pm, false, 0.95),
         have_prev, fmt_ms);
    card(a, "time to first byte p50 (est.)", hub_meas_pct(m, true, 0.5),
         hub_meas_pct(pm, true, 0.5), have_prev, fmt_ms);
    card(a, "time to first byte p95 (est.)", hub_meas_pct(m, true, 0.95),
         hub_meas_pct(pm, true, 0.95), have_prev, fmt_ms);
    hub_html_raw(&a->p->body, "</section>\n");
    if (m->v[HUB_RU_UNPRICED] > 0 || m->v[HUB_RU_UNFINISHED] > 0 || m->v[HUB_RU_ABORTS] > 0) {
        char u[32], f[32], ab[32];
        an_count(m->v[HUB_RU_UNPRICED], u, sizeof(u));
        an_count(m->v[HUB_RU_UNFINISHED], f, sizeof(f));
        an_count(m->v[HUB_RU_ABORTS], ab, sizeof(ab));
        snprintf(extra, sizeof(extra),
                 "%s requests have no price (their cost counts as 0); %s were cancelled by "
                 "the client; %s never finished.",
                 u, ab, f);
        hub_html_notice(&a->p->body, "info", extra);
    }
}

static int by_cost_desc(const void *x, const void *y)
{
    const hub_rrow *a = x, *b = y;
    long long ca = a->m.v[HUB_RU_COST], cb = b->m.v[HUB_RU_COST];
    if (ca != cb)
        return ca > cb ? -1 : 1;
    long long ta = a->m.v[HUB_RU_PROMPT] + a->m.v[HUB_RU_COMPLETION];
    long long tb = b->m.v[HUB_RU_PROMPT] + b->m.v[HUB_RU_COMPLETION];
    if (ta != tb)
        return ta > tb ? -1 : 1;
    return strcmp(a->label, b->label);
}

/* The two stacked charts from one series query. */
static void charts(an_ctx *a, const hub_buckets *bk, const hub_series *s)
{
    int ns = s->ns, order[256];
    int nsh = ns > TOP_SERIES + 1 ? TOP_SERIES + 1 : ns; /* shown series (last: other) */
    const char *labels[TOP_SERIES + 1];
    double *cost =
        calloc((size_t)(bk->n > 0 ? bk->n : 1) * (size_t)(nsh > 0 ? nsh : 1), sizeof(double));
    double *tok =
        calloc((size_t)(bk->n > 0 ? bk->n : 1) * (size_t)(nsh > 0 ? nsh : 1), sizeof(double));
    const char *xl[HUB_MAX_BUCKETS];
    if (cost == NULL || tok == NULL || ns > 256)
        goto end;
    /* rank the series by cost, then tokens */
    hub_rrow *ranked = malloc(sizeof(*ranked) * (size_t)(ns > 0 ? ns : 1));
    if (ranked == NULL)
        goto end;
    for (int i = 0; i < ns; i++) {
        ranked[i] = s->series[i];
        ranked[i].id = i; /* remember the original index */
    }
    qsort(ranked, (size_t)ns, sizeof(*ranked), by_cost_desc);
    for (int i = 0; i < ns; i++)
        order[ranked[i].id] = i < TOP_SERIES || ns <= TOP_SERIES + 1 ? i : TOP_SERIES;
    for (int i = 0; i < nsh; i++)
        labels[i] = i == TOP_SERIES && ns > TOP_SERIES + 1 ? "other" : ranked[i].label;
    for (int b = 0; b < bk->n; b++) {
        xl[b] = bk->label[b];
        for (int i = 0; i < ns; i++) {
            const hub_meas *m = &s->cells[b * ns + i];
            cost[b * nsh + order[i]] += (double)m->v[HUB_RU_COST];
            tok[b * nsh + order[i]] += (double)(m->v[HUB_RU_PROMPT] + m->v[HUB_RU_COMPLETION]);
        }
    }
    const char *by = a->stack == HUB_DIM_MODEL ? "model" : "team";
    char t1[96], t2[96];
    snprintf(t1, sizeof(t1), "Estimated cost per %s, by %s",
             bk->n > 0 && strlen(bk->label[0]) > 10 ? "hour" : "day", by);
    snprintf(t2, sizeof(t2), "Tokens (in + out) per %s, by %s",
             bk->n > 0 && strlen(bk->label[0]) > 10 ? "hour" : "day", by);
    hub_svg_stack c = {.id = "cost",
                       .title = t1,
                       .nx = bk->n,
                       .x_labels = xl,
                       .ns = nsh,
                       .s_labels = labels,
                       .values = cost,
                       .fmt = hub_svg_fmt_usd_micro};
    hub_svg_stacked_bars(&a->p->body, &c);
    c.id = "tokens";
    c.title = t2;
    c.values = tok;
    c.fmt = hub_svg_fmt_count;
    hub_svg_stacked_bars(&a->p->body, &c);
    free(ranked);
end:
    free(cost);
    free(tok);
}

static void top_spenders(an_ctx *a, const hub_rtable *t, const char *title)
{
    const char *labels[TOP_SPENDERS];
    double v[TOP_SPENDERS];
    int n = 0;
    for (int i = 0; i < t->n && n < TOP_SPENDERS; i++) {
        if (t->rows[i].m.v[HUB_RU_COST] <= 0)
            break;
        labels[n] = t->rows[i].label;
        v[n++] = (double)t->rows[i].m.v[HUB_RU_COST];
    }
    hub_svg_hbars(&a->p->body, "top", title, n, labels, v, hub_svg_fmt_usd_micro);
}

void an_overview(an_ctx *a)
{
    pg *p = a->p;
    hub_rtable cur = {0}, prev = {0}, top = {0};
    hub_series s = {0};
    hub_rfilter pf = a->f;
    hub_buckets *bk = malloc(sizeof(*bk));
    hub_dbres fr = {0};

    if (bk == NULL) {
        pg_fail(p, 500, "Out of memory.");
        return;
    }
    pf.t0 = a->per.p0;
    pf.t1 = a->per.p1;
    hub_buckets_make(bk, &a->per);
    if (!hub_report_breakdown(p->db, &a->f, HUB_DIM_NONE, &cur) ||
        !hub_report_breakdown(p->db, &pf, HUB_DIM_NONE, &prev) ||
        !hub_report_series(p->db, &a->f, a->stack, bk, &s) ||
        !hub_report_breakdown(p->db, &a->f, a->member ? HUB_DIM_MODEL : HUB_DIM_USER, &top) ||
        !hub_db_exec(p->db, SQL_FRESH, NULL, 0, &fr, NULL, NULL)) {
        pg_fail_db(p);
        goto end;
    }
    an_head(a, "Analytics", "overview");
    kpis(a, &cur.total, &prev.total, a->per.p1 > a->per.p0);
    charts(a, bk, &s);
    hub_rtable_sort(&top, "cost", true);
    top_spenders(a, &top, a->member ? "Your top models by cost" : "Top spenders (users by cost)");
    hub_html_raw(&p->body, "<p>");
    int idx[] = {AQ_VIEW, AQ_BY};
    const char *v1[] = {"breakdown", "team"}, *v2[] = {"breakdown", "user"},
               *v3[] = {"breakdown", "model"}, *v4[] = {"calls", NULL};
    if (!a->member) {
        an_a(a, idx, v1, 2, "By team");
        hub_html_raw(&p->body, " · ");
        an_a(a, idx, v2, 2, "By user");
        hub_html_raw(&p->body, " · ");
    }
    an_a(a, idx, v3, 2, "By model");
    hub_html_raw(&p->body, " · ");
    an_a(a, idx, v4, 2, "Call log");
    hub_html_raw(&p->body, "</p>\n");
    hub_html_printf(&p->body,
                    "<p class=\"muted\">Every number on this page comes from the usage rollups "
                    "(last rollup %s UTC; the gateway adds new calls within about a second). "
                    "Requests count each attempt sent to a provider, retries included. Costs are "
                    "estimates from the price table; p50/p95 are estimated from latency "
                    "buckets.</p>\n",
                    hub_dbres_get(&fr, 0, 0) != NULL ? hub_dbres_get(&fr, 0, 0) : "never");
    pg_send(p, 200);
end:
    hub_rtable_free(&cur);
    hub_rtable_free(&prev);
    hub_rtable_free(&top);
    hub_series_free(&s);
    hub_dbres_free(&fr);
    free(bk);
}
