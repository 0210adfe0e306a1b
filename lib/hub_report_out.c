/*
 * hub_report_out.c — CSV and JSON of a breakdown (see hub_report.h): one writer for the
 * analytics pages' exports and for `hubctl usage`, so both give the same bytes.
 */
#include "hub_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hub_report_usd(long long micro, char *out, size_t outsz)
{
    const char *sign = micro < 0 ? "-" : "";
    unsigned long long a = micro < 0 ? 0ULL - (unsigned long long)micro : (unsigned long long)micro;
    snprintf(out, outsz, "%s%llu.%06llu", sign, a / 1000000ULL, a % 1000000ULL);
}

/* The key columns of each dimension (after "group"). */
static int key_cols(hub_dim d, const char **names)
{
    switch (d) {
    case HUB_DIM_USER:
        names[0] = "user_id";
        return 1;
    case HUB_DIM_TEAM:
        names[0] = "team_id";
        return 1;
    case HUB_DIM_KEY:
        names[0] = "key_id";
        names[1] = "owner";
        return 2;
    case HUB_DIM_MODEL:
        names[0] = "provider";
        names[1] = "model";
        return 2;
    case HUB_DIM_TEAM_MODEL:
        names[0] = "team_id";
        names[1] = "model";
        return 2;
    default:
        return 0;
    }
}

/* The value of key column k of row r (NULL = empty / null); num: print it unquoted. */
static const char *key_val(hub_dim d, const hub_rrow *r, int k, char *buf, size_t bufsz, bool *num)
{
    *num = false;
    switch (d) {
    case HUB_DIM_USER:
    case HUB_DIM_TEAM:
        *num = true;
        snprintf(buf, bufsz, "%lld", r->id);
        return buf;
    case HUB_DIM_KEY:
        if (k == 0) {
            *num = true;
            snprintf(buf, bufsz, "%lld", r->id);
            return buf;
        }
        return r->label2;
    case HUB_DIM_MODEL:
        return k == 0 ? r->provider : r->model;
    case HUB_DIM_TEAM_MODEL:
        if (k == 0) {
            *num = true;
            snprintf(buf, bufsz, "%lld", r->id);
            return buf;
        }
        return r->label2;
    default:
        return NULL;
    }
}

static const char *const MEASURE_HEADS[] = {
    "requests",          "errors",         "aborts",
    "retries",           "unfinished",     "prompt_tokens",
    "completion_tokens", "images",         "cost_usd",
    "unpriced_requests", "latency_avg_ms", "ttfb_avg_ms",
    "latency_p50_ms",    "latency_p95_ms", "ttfb_p50_ms",
    "ttfb_p95_ms",
};
#define NMH (sizeof(MEASURE_HEADS) / sizeof(MEASURE_HEADS[0]))

/* The measure columns of a row as text; "" for an unknown percentile. */
static void measure_vals(const hub_meas *m, char v[NMH][32])
{
    static const int idx[] = {HUB_RU_REQUESTS,   HUB_RU_ERRORS, HUB_RU_ABORTS,     HUB_RU_RETRIES,
                              HUB_RU_UNFINISHED, HUB_RU_PROMPT, HUB_RU_COMPLETION, HUB_RU_IMAGES};
    size_t i = 0;
    for (; i < sizeof(idx) / sizeof(idx[0]); i++)
        snprintf(v[i], 32, "%lld", m->v[idx[i]]);
    hub_report_usd(m->v[HUB_RU_COST], v[i++], 32);
    snprintf(v[i++], 32, "%lld", m->v[HUB_RU_UNPRICED]);
    for (int t = 0; t < 2; t++, i++) {
        long long x = hub_meas_mean(m, t == 1);
        if (x < 0)
            v[i][0] = '\0';
        else
            snprintf(v[i], 32, "%lld", x);
    }
    const struct {
        bool ttfb;
        double q;
    } pc[] = {{false, 0.5}, {false, 0.95}, {true, 0.5}, {true, 0.95}};
    for (size_t k = 0; k < 4; k++, i++) {
        long long x = hub_meas_pct(m, pc[k].ttfb, pc[k].q);
        if (x < 0)
            v[i][0] = '\0';
        else
            snprintf(v[i], 32, "%lld", x);
    }
}

static bool csv_cell(hub_buf *b, const char *s)
{
    if (s == NULL)
        return true;
    bool formula =
        s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    bool ok = !quote || hub_buf_puts(b, "\"");
    if (ok && formula)
        ok = hub_buf_puts(b, "'");
    for (const char *p = s; ok && *p != '\0'; p++)
        ok = *p == '"' ? hub_buf_puts(b, "\"\"") : hub_buf_append(b, p, 1);
    return ok && (!quote || hub_buf_puts(b, "\""));
}

bool hub_report_csv(hub_buf *b, hub_dim dim, const hub_rtable *t)
{
    const char *kn[4];
    int nk = key_cols(dim, kn);
    bool ok = hub_buf_puts(b, "group");
    for (int k = 0; ok && k < nk; k++)
        ok = hub_buf_printf(b, ",%s", kn[k]);
    for (size_t i = 0; ok && i < NMH; i++)
        ok = hub_buf_printf(b, ",%s", MEASURE_HEADS[i]);
    ok = ok && hub_buf_puts(b, "\r\n");
    for (int r = 0; ok && r < t->n; r++) {
        const hub_rrow *row = &t->rows[r];
        char v[NMH][32], kb[32];
        bool num;
        ok = csv_cell(b, row->label);
        for (int k = 0; ok && k < nk; k++) {
            const char *s = key_val(dim, row, k, kb, sizeof(kb), &num);
            ok = hub_buf_puts(b, ",") && (num ? hub_buf_puts(b, s) : csv_cell(b, s));
        }
        measure_vals(&row->m, v);
        for (size_t i = 0; ok && i < NMH; i++)
            ok = hub_buf_printf(b, ",%s", v[i]);
        ok = ok && hub_buf_puts(b, "\r\n");
    }
    return ok;
}

bool hub_report_json(hub_buf *b, hub_dim dim, const hub_rtable *t)
{
    const char *kn[4];
    int nk = key_cols(dim, kn);
    bool ok = hub_buf_puts(b, "[");
    for (int r = 0; ok && r < t->n; r++) {
        const hub_rrow *row = &t->rows[r];
        char v[NMH][32], kb[32];
        bool num;
        ok = hub_buf_puts(b, r > 0 ? ",\n  {\"group\":" : "\n  {\"group\":") &&
             hub_buf_json_str(b, row->label);
        for (int k = 0; ok && k < nk; k++) {
            const char *s = key_val(dim, row, k, kb, sizeof(kb), &num);
            ok = hub_buf_printf(b, ",\"%s\":", kn[k]) && (s == NULL ? hub_buf_puts(b, "null")
                                                          : num     ? hub_buf_puts(b, s)
                                                                    : hub_buf_json_str(b, s));
        }
        measure_vals(&row->m, v);
        for (size_t i = 0; ok && i < NMH; i++)
            ok = hub_buf_printf(b, ",\"%s\":%s", MEASURE_HEADS[i], v[i][0] ? v[i] : "null");
        ok = ok && hub_buf_puts(b, "}");
    }
    return ok && hub_buf_puts(b, t->n > 0 ? "\n]\n" : "]\n");
}
