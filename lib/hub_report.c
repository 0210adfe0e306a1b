/*
 * hub_report.c — breakdowns and time series read from the rollups (see hub_report.h).
 *
 * Which tables answer: the narrowest rollup family that has the report's dimension and
 * filters (schema/007_rollups.sql) — team (whole hub, one team, by team), model (whole hub, by
 * model or provider), key (by user, key or app; a user, key, team or app filter), else the
 * full family. Within a family a period [t0, t1) is read as whole UTC days from the daily table
 * plus the hours at its two edges from the hourly table; an edge of more populated hours than
 * the rest of its UTC day is read the other way round (that day from the daily table minus the
 * hours outside the period), so a period costs at most about 12 hourly slices per edge however
 * long it is. Sums stay exact: every term is a sum of whole rollup rows.
 *
 * Statements are assembled from the fixed fragments below (the dimension and family tables,
 * the filter columns) — never from input; every value is a parameter. hub_db caches prepared
 * statements by the text's address, so each distinct text is interned once for the process (a
 * page or a hubctl run builds a handful). Not thread-safe (the CGI pages and hubctl are
 * single-threaded).
 */
#include "hub_report.h"

#include "hub_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LABEL_COLS 6            /* id, str, provider, model, label, label2 before the measures */
#define SERIES_NM  HUB_RU_LAT_N /* measures a series carries: counts, tokens, cost */

typedef struct {
    hub_dim d;
    const char *name;
    const char *gcols;  /* grouping columns of the rollup tables (NULL: none) */
    const char *outkey; /* the same on the derived table x */
    const char *cols;   /* id, str, provider, model, label, label2 */
    const char *joins;
} dimdef;

#define TEAM_LABEL                                                                                 \
    "CASE WHEN x.team_id = 0 THEN '(none)' ELSE COALESCE(t.name, CONCAT('#', x.team_id)) END"

static const dimdef DIMS[] = {
    {HUB_DIM_NONE, "none", NULL, NULL, "0, NULL, NULL, NULL, 'all usage', NULL", ""},
    {HUB_DIM_USER, "user", "user_id", "x.user_id",
     "x.user_id, NULL, NULL, NULL, CASE WHEN x.user_id = 0 THEN '(none)' ELSE "
     "COALESCE(u.name, CONCAT('#', x.user_id)) END, NULL",
     "LEFT JOIN users u ON u.id = x.user_id"},
    {HUB_DIM_TEAM, "team", "team_id", "x.team_id",
     "x.team_id, NULL, NULL, NULL, " TEAM_LABEL ", NULL", "LEFT JOIN teams t ON t.id = x.team_id"},
    {HUB_DIM_KEY, "key", "key_id", "x.key_id",
     "x.key_id, NULL, NULL, NULL, CASE WHEN x.key_id = 0 THEN '(no key: OAuth token)' ELSE "
     "COALESCE(k.name, CONCAT('#', x.key_id)) END, ku.name",
     "LEFT JOIN api_keys k ON k.id = x.key_id LEFT JOIN users ku ON ku.id = k.user_id"},
    {HUB_DIM_APP, "app", "app", "x.app",
     "0, x.app, NULL, NULL, IF(x.app = '', '(none)', x.app), NULL", ""},
    {HUB_DIM_MODEL, "model", "provider, model", "x.provider, x.model",
     "0, CONCAT(x.provider, '/', x.model), x.provider, x.model, CONCAT(x.provider, '/', "
     "x.model), NULL",
     ""},
    {HUB_DIM_PROVIDER, "provider", "provider", "x.provider",
     "0, x.provider, x.provider, NULL, x.provider, NULL", ""},
    {HUB_DIM_TEAM_MODEL, "team_model", "team_id, provider, model", "x.team_id, x.provider, x.model",
     "x.team_id, NULL, x.provider, x.model, " TEAM_LABEL ", CONCAT(x.provider, '/', x.model)",
     "LEFT JOIN teams t ON t.id = x.team_id"},
};
#define NDIMS (sizeof(DIMS) / sizeof(DIMS[0]))

static const dimdef *dimdef_of(hub_dim d)
{
    for (size_t i = 0; i < NDIMS; i++) {
        if (DIMS[i].d == d)
            return &DIMS[i];
    }
    return &DIMS[0];
}

bool hub_dim_parse(const char *s, hub_dim *out)
{
    for (size_t i = 0; s != NULL && i < NDIMS; i++) {
        if (strcmp(s, DIMS[i].name) == 0) {
            *out = DIMS[i].d;
            return true;
        }
    }
    *out = HUB_DIM_NONE;
    return false;
}

const char *hub_dim_name(hub_dim d)
{
    return dimdef_of(d)->name;
}

void hub_rfilter_init(hub_rfilter *f, long long t0, long long t1)
{
    memset(f, 0, sizeof(*f));
    f->t0 = t0;
    f->t1 = t1;
    f->user_id = f->team_id = f->key_id = HUB_ANY;
    f->now_end = ((long long)time(NULL) / 3600 + 1) * 3600;
}

void hub_report_utc(long long t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- statement assembly ----------------------------------------------------------------- */

typedef struct {
    hub_buf b;
    bool ok;
    hub_dbp p[64];
    int np;
    char ts[24][32]; /* time parameters (borrowed by p) */
    int nts;
} q_t;

static void q_init(q_t *q)
{
    memset(q, 0, sizeof(*q));
    hub_buf_init(&q->b, 0);
    q->ok = true;
}

static void put(q_t *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(q_t *q, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp) || !hub_buf_puts(&q->b, tmp))
        q->ok = false;
}

static void param(q_t *q, hub_dbp v)
{
    if (q->np == (int)(sizeof(q->p) / sizeof(q->p[0]))) {
        q->ok = false;
        return;
    }
    q->p[q->np++] = v;
}

/* A time parameter: UTC "YYYY-MM-DD HH:MM:SS", or only the date. */
static void param_time(q_t *q, long long t, bool date_only)
{
    if (q->nts == (int)(sizeof(q->ts) / sizeof(q->ts[0]))) {
        q->ok = false;
        return;
    }
    char *s = q->ts[q->nts++];
    hub_report_utc(t, s);
    if (date_only)
        s[10] = '\0';
    param(q, DB_STR(s));
}

const char *hub_report_intern(const char *sql)
{
    static struct node {
        struct node *next;
        char *s;
    } * head;
    for (struct node *n = head; n != NULL; n = n->next) {
        if (strcmp(n->s, sql) == 0)
            return n->s;
    }
    struct node *n = malloc(sizeof(*n));
    char *s = strdup(sql);
    if (n == NULL || s == NULL) {
        free(n);
        free(s);
        return NULL;
    }
    n->s = s;
    n->next = head;
    head = n;
    return s;
}

static bool q_exec(hub_db *db, q_t *q, hub_dbres *res)
{
    const char *sql = q->ok ? hub_report_intern(q->b.data) : NULL;
    bool rc = sql != NULL && hub_db_exec(db, sql, q->p, q->np, res, NULL, NULL);
    hub_buf_free(&q->b);
    return rc;
}

/* " AND r.col = ?" for each filter set. */
static void filters(q_t *q, const hub_rfilter *f)
{
    const struct {
        const char *col;
        long long v;
    } ids[] = {{"user_id", f->user_id}, {"team_id", f->team_id}, {"key_id", f->key_id}};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        if (ids[i].v == HUB_ANY)
            continue;
        put(q, " AND r.%s = ?", ids[i].col);
        param(q, DB_INT(ids[i].v));
    }
    const struct {
        const char *col;
        const char *v;
    } strs[] = {{"app", f->app}, {"provider", f->provider}, {"model", f->model}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i].v == NULL)
            continue;
        put(q, " AND r.%s = ?", strs[i].col);
        param(q, DB_STR(strs[i].v));
    }
}

static void sums(q_t *q, const char *prefix, int nm, bool alias)
{
    for (int i = 0; i < nm; i++)
        put(q, ", SUM(%s%s)%s%s", prefix, hub_ru_measure[i], alias ? " AS " : "",
            alias ? hub_ru_measure[i] : "");
}

static void sums_neg(q_t *q, int nm)
{
    for (int i = 0; i < nm; i++)
        put(q, ", -SUM(r.%s) AS %s", hub_ru_measure[i], hub_ru_measure[i]);
}

/* ---- rollup families and the reading plan ------------------------------------------------ */

/* The families, narrowest first (schema/007_rollups.sql). */
enum { F_TEAM = 1, F_USER = 2, F_KEY = 4, F_APP = 8, F_PROVIDER = 16, F_MODEL = 32 };

typedef struct {
    const char *name;   /* for the page footer */
    const char *hourly; /* table by UTC hour (ts_hour) */
    const char *daily;  /* table by UTC day (ts_day) */
    unsigned cols;      /* the dimension columns it has */
} family;

static const family FAMILIES[] = {
    {"team", "usage_hourly_team", "usage_daily_team", F_TEAM},
    {"model", "usage_hourly_model", "usage_daily_model", F_PROVIDER | F_MODEL},
    {"team and model", "usage_hourly_team_model", "usage_daily_team_model",
     F_TEAM | F_PROVIDER | F_MODEL},
    {"key", "usage_hourly_key", "usage_daily_key", F_TEAM | F_USER | F_KEY | F_APP},
    {"full", "usage_hourly", "usage_daily", F_TEAM | F_USER | F_KEY | F_APP | F_PROVIDER | F_MODEL},
};
#define NFAMILIES (sizeof(FAMILIES) / sizeof(FAMILIES[0]))

/* The narrowest family that has the dimension's and the filters' columns. */
static const family *pick(const hub_rfilter *f, hub_dim d)
{
    unsigned need = 0;
    need |= f->team_id != HUB_ANY ? F_TEAM : 0;
    need |= f->user_id != HUB_ANY ? F_USER : 0;
    need |= f->key_id != HUB_ANY ? F_KEY : 0;
    need |= f->app != NULL ? F_APP : 0;
    need |= f->provider != NULL ? F_PROVIDER : 0;
    need |= f->model != NULL ? F_MODEL : 0;
    switch (d) {
    case HUB_DIM_USER:
        need |= F_USER;
        break;
    case HUB_DIM_TEAM:
        need |= F_TEAM;
        break;
    case HUB_DIM_KEY:
        need |= F_KEY;
        break;
    case HUB_DIM_APP:
        need |= F_APP;
        break;
    case HUB_DIM_MODEL:
    case HUB_DIM_PROVIDER:
        need |= F_PROVIDER | F_MODEL;
        break;
    case HUB_DIM_TEAM_MODEL:
        need |= F_TEAM | F_PROVIDER | F_MODEL;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < NFAMILIES; i++) {
        if ((FAMILIES[i].cols & need) == need)
            return &FAMILIES[i];
    }
    return &FAMILIES[NFAMILIES - 1];
}

typedef struct {
    long long a, b;
} span;

/* [t0, t1) as daily [d0, d1) + hourly pos − hourly neg (UTC epoch seconds). */
typedef struct {
    long long d0, d1;
    span pos[2], neg[2];
    int npos, nneg;
} plan;

#define DAY 86400LL

/* Hours of [a, b) that can hold usage (before now_end). */
static long long populated(long long a, long long b, long long now_end)
{
    long long e = b < now_end ? b : now_end;
    return e > a ? (e - a) / 3600 : 0;
}

static void add_span(span *v, int *n, long long a, long long b)
{
    if (a < b) {
        v[*n].a = a;
        v[*n].b = b;
        (*n)++;
    }
}

static void make_plan(long long t0, long long t1, long long now_end, plan *pl)
{
    memset(pl, 0, sizeof(*pl));
    if (t0 >= t1)
        return;
    long long day0 = t0 / DAY * DAY;
    if (day0 == (t1 - 1) / DAY * DAY) { /* within one UTC day */
        if (t0 == day0 && t1 == day0 + DAY) {
            pl->d0 = day0;
            pl->d1 = day0 + DAY;
        } else if (populated(day0, t0, now_end) + populated(t1, day0 + DAY, now_end) <
                   populated(t0, t1, now_end)) {
            pl->d0 = day0;
            pl->d1 = day0 + DAY;
            add_span(pl->neg, &pl->nneg, day0, t0);
            add_span(pl->neg, &pl->nneg, t1, day0 + DAY);
        } else {
            add_span(pl->pos, &pl->npos, t0, t1);
        }
        return;
    }
    long long D0 = (t0 + DAY - 1) / DAY * DAY, D1 = t1 / DAY * DAY;
    pl->d0 = D0;
    pl->d1 = D1;
    if (t0 < D0) {
        if (populated(D0 - DAY, t0, now_end) < populated(t0, D0, now_end)) {
            pl->d0 = D0 - DAY;
            add_span(pl->neg, &pl->nneg, D0 - DAY, t0);
        } else {
            add_span(pl->pos, &pl->npos, t0, D0);
        }
    }
    if (D1 < t1) {
        if (populated(t1, D1 + DAY, now_end) < populated(D1, t1, now_end)) {
            pl->d1 = D1 + DAY;
            add_span(pl->neg, &pl->nneg, t1, D1 + DAY);
        } else {
            add_span(pl->pos, &pl->npos, D1, t1);
        }
    }
}

/* One grouped branch: SELECT gcols, [-]SUM(m) AS m … FROM table r WHERE <spans> <filters>. */
static void branch(q_t *q, const char *gcols, int nm, const char *table, bool day, const span *sp,
                   int nsp, bool negative, const hub_rfilter *f)
{
    const char *col = day ? "ts_day" : "ts_hour";
    put(q, "SELECT %s", gcols != NULL ? gcols : "0 AS g");
    if (negative)
        sums_neg(q, nm);
    else
        sums(q, "r.", nm, true);
    put(q, " FROM %s r WHERE (", table);
    for (int i = 0; i < nsp; i++) {
        put(q, "%s(r.%s >= ? AND r.%s < ?)", i ? " OR " : "", col, col);
        param_time(q, sp[i].a, day);
        param_time(q, sp[i].b, day);
    }
    put(q, ")");
    filters(q, f);
    if (gcols != NULL)
        put(q, " GROUP BY %s", gcols);
}

/* The branches of a plan over a family, joined by UNION ALL. */
static void plan_branches(q_t *q, const plan *pl, const family *fam, const char *gcols, int nm,
                          const hub_rfilter *f)
{
    bool any = false;
    if (pl->d0 < pl->d1) {
        span d = {pl->d0, pl->d1};
        branch(q, gcols, nm, fam->daily, true, &d, 1, false, f);
        any = true;
    }
    if (pl->npos > 0) {
        put(q, "%s", any ? " UNION ALL " : "");
        branch(q, gcols, nm, fam->hourly, false, pl->pos, pl->npos, false, f);
        any = true;
    }
    if (pl->nneg > 0) {
        put(q, "%s", any ? " UNION ALL " : "");
        branch(q, gcols, nm, fam->hourly, false, pl->neg, pl->nneg, true, f);
        any = true;
    }
    if (!any) { /* an empty period: a branch that matches nothing */
        span e = {f->t0, f->t0};
        branch(q, gcols, nm, fam->hourly, false, &e, 1, false, f);
    }
}

/* ---- results ----------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void read_labels(const hub_dbres *r, int i, int c0, hub_rrow *row)
{
    row->id = hub_dbres_int(r, i, c0, 0);
    row->str = dup_or_null(hub_dbres_get(r, i, c0 + 1));
    row->provider = dup_or_null(hub_dbres_get(r, i, c0 + 2));
    row->model = dup_or_null(hub_dbres_get(r, i, c0 + 3));
    const char *l = hub_dbres_get(r, i, c0 + 4);
    row->label = strdup(l != NULL ? l : "(none)");
    row->label2 = dup_or_null(hub_dbres_get(r, i, c0 + 5));
}

static void read_meas(const hub_dbres *r, int i, int c0, int nm, hub_meas *m)
{
    memset(m, 0, sizeof(*m));
    for (int k = 0; k < nm; k++)
        m->v[k] = hub_dbres_int(r, i, c0 + k, 0);
}

bool hub_report_breakdown(hub_db *db, const hub_rfilter *f, hub_dim by, hub_rtable *out)
{
    const dimdef *dd = dimdef_of(by);
    const family *fam = pick(f, by);
    hub_dbres r = {0};
    plan pl;
    q_t q;
    bool rc = false;

    memset(out, 0, sizeof(*out));
    out->source = fam->name;
    /* histograms where the groups are few: totals, by team, model or provider, one user/key */
    out->has_pct = by == HUB_DIM_NONE || by == HUB_DIM_TEAM || by == HUB_DIM_MODEL ||
                   by == HUB_DIM_PROVIDER || f->user_id > 0 || f->key_id > 0;
    int nm = out->has_pct ? HUB_RU_NM : HUB_RU_LAT_HIST;
    make_plan(f->t0, f->t1, f->now_end, &pl);
    q_init(&q);
    put(&q, "SELECT %s", dd->cols);
    sums(&q, "x.", nm, false);
    put(&q, " FROM (");
    plan_branches(&q, &pl, fam, dd->gcols, nm, f);
    put(&q, ") x %s", dd->joins);
    if (dd->outkey != NULL)
        put(&q, " GROUP BY %s", dd->outkey);
    if (!q_exec(db, &q, &r))
        goto end;
    out->rows = calloc((size_t)(r.nrows > 0 ? r.nrows : 1), sizeof(*out->rows));
    if (out->rows == NULL)
        goto end;
    for (int i = 0; i < r.nrows; i++) {
        hub_rrow *row = &out->rows[out->n];
        read_meas(&r, i, LABEL_COLS, nm, &row->m);
        /* a group only in the subtracted hours nets to zero: not part of the period */
        if (by == HUB_DIM_NONE || row->m.v[HUB_RU_REQUESTS] != 0 ||
            row->m.v[HUB_RU_UNFINISHED] != 0) {
            read_labels(&r, i, 0, row);
            hub_meas_add(&out->total, &row->m);
            out->n++;
        }
    }
    rc = true;
end:
    hub_dbres_free(&r);
    if (!rc)
        hub_rtable_free(out);
    return rc;
}

/* ---- time series ------------------------------------------------------------------------- */

static int series_index(hub_series *s, hub_dim stack, const hub_rrow *key)
{
    for (int i = 0; i < s->ns; i++) {
        const hub_rrow *x = &s->series[i];
        if (stack == HUB_DIM_MODEL ? strcmp(x->str, key->str) == 0 : x->id == key->id)
            return i;
    }
    return -1;
}

bool hub_report_series(hub_db *db, const hub_rfilter *f, hub_dim stack, const hub_buckets *b,
                       hub_series *out)
{
    if (stack != HUB_DIM_TEAM && stack != HUB_DIM_MODEL)
        stack = HUB_DIM_NONE;
    const dimdef *dd = dimdef_of(stack);
    const family *fam = pick(f, stack);
    /* one series carries every measure (percentiles per bucket); stacks the counts only */
    int nm = stack == HUB_DIM_NONE ? HUB_RU_NM : SERIES_NM;
    /* buckets that are whole UTC days (UTC, or a zone at +0 all period) read the daily table */
    bool daily = b->n > 0;
    for (int i = 0; daily && i <= b->n; i++)
        daily = b->start[i] % DAY == 0;
    const char *col = daily ? "ts_day" : "ts_hour";
    hub_dbres r = {0};
    q_t q;
    bool rc = false;

    memset(out, 0, sizeof(*out));
    q_init(&q);
    put(&q, "SELECT x.bk, %s", dd->cols);
    for (int i = 0; i < nm; i++)
        put(&q, ", x.%s", hub_ru_measure[i]);
    /* the bucket index of each row: INTERVAL(t, start1, start2, …) */
    put(&q, " FROM (SELECT INTERVAL(UNIX_TIMESTAMP(r.%s)", col);
    for (int i = 1; i < b->n; i++)
        put(&q, ", %lld", b->start[i]);
    put(&q, ") AS bk%s%s", dd->gcols ? ", " : "", dd->gcols ? dd->gcols : "");
    sums(&q, "r.", nm, true);
    put(&q, " FROM %s r WHERE r.%s >= ? AND r.%s < ?", daily ? fam->daily : fam->hourly, col, col);
    param_time(&q, b->n > 0 ? b->start[0] : f->t0, daily);
    param_time(&q, b->n > 0 ? b->start[b->n] : f->t0, daily);
    filters(&q, f);
    put(&q, " GROUP BY bk%s%s) x %s", dd->gcols ? ", " : "", dd->gcols ? dd->gcols : "", dd->joins);
    if (!q_exec(db, &q, &r))
        goto end;
    out->nb = b->n;
    out->series = calloc((size_t)(r.nrows > 0 ? r.nrows : 1), sizeof(*out->series));
    if (out->series == NULL)
        goto end;
    for (int i = 0; i < r.nrows; i++) { /* first the stack values */
        hub_rrow key;
        memset(&key, 0, sizeof(key));
        read_labels(&r, i, 1, &key);
        if (series_index(out, stack, &key) >= 0) {
            hub_rrow_free(&key);
            continue;
        }
        out->series[out->ns++] = key;
    }
    out->cells = calloc((size_t)(out->nb > 0 ? out->nb : 1) * (size_t)(out->ns > 0 ? out->ns : 1),
                        sizeof(*out->cells));
    if (out->cells == NULL)
        goto end;
    for (int i = 0; i < r.nrows; i++) {
        hub_rrow key;
        hub_meas m;
        memset(&key, 0, sizeof(key));
        key.id = hub_dbres_int(&r, i, 1, 0);
        key.str = (char *)hub_dbres_get(&r, i, 2);
        int si = series_index(out, stack, &key);
        long long bi = hub_dbres_int(&r, i, 0, -1);
        if (si < 0 || bi < 0 || bi >= out->nb)
            continue;
        read_meas(&r, i, 1 + LABEL_COLS, nm, &m);
        hub_meas_add(&out->cells[bi * out->ns + si], &m);
        hub_meas_add(&out->series[si].m, &m);
    }
    rc = true;
end:
    hub_dbres_free(&r);
    if (!rc)
        hub_series_free(out);
    return rc;
}
