/*
 * hub_report.h — usage reports read from the rollups (schema/007_rollups.sql), shared by the
 * analytics pages and `hubctl usage`: periods in the viewer's time zone, breakdowns by user,
 * team, key, app, model or provider with totals, time series in hourly or daily buckets, and
 * p50/p95 estimates from the rollups' latency histograms.
 *
 * Nothing here reads usage_log: whole UTC days come from usage_daily, the hours at a period's
 * edges from usage_hourly, whole-hub views from the narrow usage_hourly_team /
 * usage_hourly_model tables. Every value reaches SQL as a parameter; the statement text is
 * assembled from the fixed fragments of the allow-listed dimension and filter tables only.
 *
 * Time zones: UTC, a fixed offset "UTC+H" / "UTC-H" (whole hours, -12..+14) or one of the
 * IANA zones of hub_tz_names (daylight saving included, from the system's tzdata). Rollups are
 * kept per UTC hour, so zones whose offset is not a whole number of hours are not offered.
 * hub_tz_use sets the process's TZ: for single-threaded programs (CGI pages, hubctl) only.
 */
#ifndef HUB_REPORT_H
#define HUB_REPORT_H

#include "hub_buf.h"
#include "hub_db.h"
#include "hub_rollup.h"

#include <stdbool.h>
#include <time.h>

/* ---- time zones and periods ------------------------------------------------------------ */

typedef struct {
    char name[48];  /* as shown and passed in URLs: "UTC", "UTC+2", "Europe/Berlin" */
    char posix[64]; /* the TZ value */
} hub_tz;

/* The IANA zones offered (NULL-terminated). */
extern const char *const hub_tz_names[];

/* Parses a zone name (see above); false for anything else (or tzdata missing). */
bool hub_tz_parse(const char *s, hub_tz *out);
/* Makes tz the process's local time zone (TZ + tzset). */
void hub_tz_use(const hub_tz *tz);

typedef enum { HUB_BUCKET_HOUR, HUB_BUCKET_DAY } hub_bucket;

#define HUB_PERIOD_MAX_DAYS 3700 /* ten years; the pages allow 400 */
#define HUB_MAX_BUCKETS     (HUB_PERIOD_MAX_DAYS + 2)

typedef struct {
    char kind[16];         /* today, 7d, 30d, month, custom, chargeback */
    long long t0, t1;      /* the whole period [t0, t1), UTC epoch s, whole hours */
    long long p0, p1;      /* the previous period, as far into it as now is into this one */
    hub_bucket bucket;     /* hours for a one-day period, else days */
    char from[11], to[11]; /* local dates, inclusive: "2025-09-01" */
    char pfrom[11], pto[11];
    char month[8]; /* chargeback: "2025-09" */
} hub_period;

/*
 * Fills *p for kind "today", "7d", "30d", "month" (this calendar month), "custom" (from, to:
 * local dates YYYY-MM-DD, inclusive, at most HUB_PERIOD_MAX_DAYS) or "chargeback" (from =
 * "YYYY-MM": that whole month), in the time zone in use (hub_tz_use), at time now. false with
 * a message in err for anything malformed.
 */
bool hub_period_make(hub_period *p, const char *kind, const char *from, const char *to, time_t now,
                     char *err, size_t errsz);

typedef struct {
    int n;
    long long start[HUB_MAX_BUCKETS + 1]; /* UTC start of each bucket; start[n] = the end */
    char label[HUB_MAX_BUCKETS][20];      /* "2025-09-01" or "2025-09-01 14:00", local */
} hub_buckets;

/* The buckets of [t0, t1): local hours for a one-day period, else local days (at most
 * HUB_MAX_BUCKETS; about 100 KB: allocate it). */
void hub_buckets_make(hub_buckets *b, const hub_period *p);
/* The index of the bucket holding UTC time t, or -1. */
int hub_buckets_find(const hub_buckets *b, long long t);

/* ---- measures --------------------------------------------------------------------------- */

typedef struct {
    long long v[HUB_RU_NM];
} hub_meas;

void hub_meas_add(hub_meas *to, const hub_meas *m);
/* Estimated percentile (0 < q < 1) of latency (ttfb false) or time to first byte, in ms,
 * by linear interpolation in the histogram; -1 when nothing is known. */
long long hub_meas_pct(const hub_meas *m, bool ttfb, double q);
/* Mean latency / ttfb in ms, -1 when unknown. */
long long hub_meas_mean(const hub_meas *m, bool ttfb);

/* ---- breakdowns ------------------------------------------------------------------------- */

typedef enum {
    HUB_DIM_NONE,
    HUB_DIM_USER,
    HUB_DIM_TEAM,
    HUB_DIM_KEY,
    HUB_DIM_APP,
    HUB_DIM_MODEL,
    HUB_DIM_PROVIDER,
    HUB_DIM_TEAM_MODEL, /* chargeback detail: team, then provider/model */
    HUB_DIM_TIME,       /* rows are time buckets (hub_series_rows); not a query dimension */
} hub_dim;

/* "user", "team", … ↔ hub_dim (NULL / HUB_DIM_NONE when unknown). */
bool hub_dim_parse(const char *s, hub_dim *out);
const char *hub_dim_name(hub_dim d);

#define HUB_ANY (-1LL)

/* Which usage a report covers: attempts that started in [t0, t1). Ids: HUB_ANY, 0 = none
 * (NULL in the ledger), or an id. Strings: NULL = any; app "" = none. now_end: the end of the
 * current hour (no usage later than that is expected: edges are read from the cheaper side). */
typedef struct {
    long long t0, t1;
    long long user_id, team_id, key_id;
    const char *app, *provider, *model;
    long long now_end;
} hub_rfilter;

/* A filter that matches everything in [t0, t1); now_end from the clock. */
void hub_rfilter_init(hub_rfilter *f, long long t0, long long t1);

typedef struct {
    long long id;   /* user, team or key id (0 = none); the team for TEAM_MODEL */
    char *str;      /* app, provider or "provider/model"; NULL for id dimensions */
    char *provider; /* MODEL, TEAM_MODEL */
    char *model;
    char *label;  /* what to show: a name, "(none)", "provider/model" */
    char *label2; /* TEAM_MODEL: "provider/model"; KEY: the owner's name */
    hub_meas m;
} hub_rrow;

typedef struct {
    hub_rrow *rows;
    int n;
    hub_meas total;
    const char *source; /* which rollup family answered (for the page footer) */
    bool has_pct;       /* the latency histograms were read (p50/p95 available) */
} hub_rtable;

/* Releases what a row owns (its strings). */
void hub_rrow_free(hub_rrow *row);

/*
 * Usage grouped by dim (HUB_DIM_NONE: one row with the totals). The latency histograms (for
 * p50/p95) are read for totals, by team, model or provider, and when the filter names a user
 * or key; wide breakdowns (every user, key, app, team × model) carry the means only, which
 * keeps them fast at any scale. false on a DB error.
 */
bool hub_report_breakdown(hub_db *db, const hub_rfilter *f, hub_dim by, hub_rtable *out);
void hub_rtable_free(hub_rtable *t);

/* Sort keys for hub_rtable_sort (the pages' and hubctl's allow-list). */
bool hub_sort_key_ok(const char *key);
/* Sorts by key ("name", "requests", "tokens_in", "tokens_out", "tokens", "images", "cost",
 * "errors", "unpriced", "latency" (mean), "ttfb" (mean), "p50", "p95"), descending when desc;
 * ties by label. */
void hub_rtable_sort(hub_rtable *t, const char *key, bool desc);

/* ---- time series ------------------------------------------------------------------------ */

/* Per bucket and per stack value: every measure when not stacked, else the first HUB_RU_LAT_N
 * (counts, tokens, cost). */
typedef struct {
    int nb, ns;
    hub_rrow *series; /* ns stack values (labels; m = totals over the period) */
    hub_meas *cells;  /* nb * ns, cells[b * ns + s] */
} hub_series;

/* Usage in the buckets of b, stacked by stack (NONE, TEAM or MODEL). false on a DB error. */
bool hub_report_series(hub_db *db, const hub_rfilter *f, hub_dim stack, const hub_buckets *b,
                       hub_series *out);
void hub_series_free(hub_series *s);

/* The buckets of a series (stacked by NONE) as table rows, label = bucket label; empty
 * buckets left out unless keep_empty. false when out of memory. */
bool hub_series_rows(const hub_series *s, const hub_buckets *b, bool keep_empty, hub_rtable *out);

/* A copy of a statement text that lives as long as the process, the same pointer for the same
 * text: hub_db caches prepared statements by the text's address, so assembled statements
 * must not be freed and reused (NULL when out of memory). Not thread-safe. */
const char *hub_report_intern(const char *sql);

/* "YYYY-MM-DD HH:MM:SS" (UTC) of epoch seconds t, for SQL parameters. */
void hub_report_utc(long long t, char out[32]);

/* ---- export (hub_report_out.c) ----------------------------------------------------------- */

/*
 * CSV (RFC 4180, header line, no total row) or JSON (an array of objects, one a line) of a
 * breakdown: the pages' exports and `hubctl usage --format csv|json` are the same bytes.
 * Columns: group (the label), then per dimension its key columns (user_id, team_id, key_id +
 * owner, provider + model, team_id + model), then requests, errors, aborts, retries,
 * unfinished, prompt_tokens, completion_tokens, images, cost_usd (6 decimals),
 * unpriced_requests, latency_avg_ms, ttfb_avg_ms (exact means), latency_p50_ms, latency_p95_ms,
 * ttfb_p50_ms, ttfb_p95_ms (estimates from the rollup histograms; empty / null when unknown or
 * not read for this breakdown, see hub_report_breakdown). A CSV text cell that starts with
 * = + - @ TAB or CR gets a leading ' so spreadsheets do not run it as a formula.
 */
bool hub_report_csv(hub_buf *b, hub_dim dim, const hub_rtable *t);
bool hub_report_json(hub_buf *b, hub_dim dim, const hub_rtable *t);
/* micro-USD as "12.345678" (6 decimals, exact). */
void hub_report_usd(long long micro, char *out, size_t outsz);

#endif
