/*
 * hub_report_rows.c — what a report's rows go through after the query (see hub_report.h):
 * sorting by an allow-listed key, a series turned into table rows, and freeing.
 */
#include "hub_report.h"

#include <stdlib.h>
#include <string.h>

void hub_rrow_free(hub_rrow *row)
{
    free(row->str);
    free(row->provider);
    free(row->model);
    free(row->label);
    free(row->label2);
}

void hub_rtable_free(hub_rtable *t)
{
    for (int i = 0; t->rows != NULL && i < t->n; i++)
        hub_rrow_free(&t->rows[i]);
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

void hub_series_free(hub_series *s)
{
    for (int i = 0; s->series != NULL && i < s->ns; i++)
        hub_rrow_free(&s->series[i]);
    free(s->series);
    free(s->cells);
    memset(s, 0, sizeof(*s));
}

/* ---- sorting ----------------------------------------------------------------------------- */

static const struct {
    const char *key;
    int measure; /* -1 name, -2 p50, -3 p95, -4 tokens in + out, -5/-6 mean latency/ttfb */
} SORTS[] = {
    {"name", -1},
    {"requests", HUB_RU_REQUESTS},
    {"tokens_in", HUB_RU_PROMPT},
    {"tokens_out", HUB_RU_COMPLETION},
    {"tokens", -4},
    {"images", HUB_RU_IMAGES},
    {"cost", HUB_RU_COST},
    {"errors", HUB_RU_ERRORS},
    {"unpriced", HUB_RU_UNPRICED},
    {"latency", -5},
    {"ttfb", -6},
    {"p50", -2},
    {"p95", -3},
};

static int sort_measure; /* the comparator's key: the callers are single-threaded */
static bool sort_desc;

bool hub_sort_key_ok(const char *key)
{
    for (size_t i = 0; key != NULL && i < sizeof(SORTS) / sizeof(SORTS[0]); i++) {
        if (strcmp(key, SORTS[i].key) == 0)
            return true;
    }
    return false;
}

static long long sort_value(const hub_rrow *r)
{
    switch (sort_measure) {
    case -2:
        return hub_meas_pct(&r->m, false, 0.5);
    case -3:
        return hub_meas_pct(&r->m, false, 0.95);
    case -4:
        return r->m.v[HUB_RU_PROMPT] + r->m.v[HUB_RU_COMPLETION];
    case -5:
        return hub_meas_mean(&r->m, false);
    case -6:
        return hub_meas_mean(&r->m, true);
    default:
        return r->m.v[sort_measure];
    }
}

static int by_label(const hub_rrow *a, const hub_rrow *b)
{
    int c = strcmp(a->label, b->label);
    if (c == 0)
        c = strcmp(a->label2 != NULL ? a->label2 : "", b->label2 != NULL ? b->label2 : "");
    return c;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const hub_rrow *a = pa, *b = pb;
    int c = 0;
    if (sort_measure == -1) {
        c = by_label(a, b);
        return sort_desc ? -c : c;
    }
    long long va = sort_value(a), vb = sort_value(b);
    c = va < vb ? -1 : va > vb ? 1 : 0;
    if (sort_desc)
        c = -c;
    return c != 0 ? c : by_label(a, b);
}

void hub_rtable_sort(hub_rtable *t, const char *key, bool desc)
{
    sort_measure = HUB_RU_COST;
    for (size_t i = 0; key != NULL && i < sizeof(SORTS) / sizeof(SORTS[0]); i++) {
        if (strcmp(key, SORTS[i].key) == 0)
            sort_measure = SORTS[i].measure;
    }
    sort_desc = desc;
    if (t->n > 1)
        qsort(t->rows, (size_t)t->n, sizeof(*t->rows), cmp_rows);
}

bool hub_series_rows(const hub_series *s, const hub_buckets *b, bool keep_empty, hub_rtable *out)
{
    memset(out, 0, sizeof(*out));
    out->source = s->nb > 0 ? "series" : "";
    out->has_pct = s->ns <= 1;
    out->rows = calloc((size_t)(b->n > 0 ? b->n : 1), sizeof(*out->rows));
    if (out->rows == NULL)
        return false;
    for (int i = 0; i < b->n && i < s->nb; i++) {
        hub_meas m;
        memset(&m, 0, sizeof(m));
        for (int k = 0; k < s->ns; k++)
            hub_meas_add(&m, &s->cells[i * s->ns + k]);
        if (!keep_empty && m.v[HUB_RU_REQUESTS] == 0 && m.v[HUB_RU_UNFINISHED] == 0)
            continue;
        hub_rrow *row = &out->rows[out->n];
        row->label = strdup(b->label[i]);
        if (row->label == NULL) {
            hub_rtable_free(out);
            return false;
        }
        row->m = m;
        hub_meas_add(&out->total, &m);
        out->n++;
    }
    return true;
}
