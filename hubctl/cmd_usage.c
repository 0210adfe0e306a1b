/*
 * cmd_usage.c — "hubctl usage": requests, tokens, images, cost, errors and latency from the
 * usage rollups, grouped by user, team, app, key, model, provider, day or hour, for a period
 * in a time zone, as a table, CSV or JSON; and the monthly chargeback report per team.
 *
 * The numbers come from lib/hub_report.h, the same code the analytics pages use, so a CSV
 * from here and the CSV export of the page are the same bytes. Before reporting, usage the
 * gateway has written but not yet rolled up is added (at most HC_CATCHUP_STEPS rollup steps;
 * `hubctl rollup` catches up any backlog). Every attempt sent upstream counts once it is final
 * (and attempts left 'pending' for hours, as unfinished); attempts in flight do not yet.
 * Requests without a known cost add 0 to cost_usd and are counted in unpriced_requests.
 * The --by value only selects an entry of the dimension allow-list.
 *
 * Only getopt_long and the stable hubctl helpers (messages, database, table) are used.
 */
#include "hubctl.h"

#include "hub_report.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HC_CATCHUP_STEPS 10

static const char HELP[] =
    "usage: hubctl usage [--by GROUP] [--period today|7d|30d|month] [--since DATE]\n"
    "                    [--until DATE] [--tz ZONE] [--user NAME] [--team NAME]\n"
    "                    [--sort KEY] [--format table|csv|json]\n"
    "       hubctl usage --chargeback YYYY-MM [--detail] [--tz ZONE] [--format table|csv|json]\n\n"
    "Reports usage from the rollups: requests (attempts sent upstream), errors, prompt and\n"
    "completion tokens, images, cost in USD and latency (mean; p95 where the histograms are\n"
    "read: totals, by team, model or provider, or one user) per group. Requests without a\n"
    "known cost add 0 to cost_usd and are counted as unpriced.\n\n"
    "  --by GROUP        user, team, app, key, model (default), provider, day or hour\n"
    "  --period P        today, 7d, 30d or month (this calendar month)\n"
    "  --since DATE      first day included (YYYY-MM-DD, in --tz); default: the first usage\n"
    "  --until DATE      last day included; default: today\n"
    "  --tz ZONE         UTC (default), UTC+H, UTC-H or an IANA zone such as Europe/Berlin\n"
    "  --user NAME       only this user's usage\n"
    "  --team NAME       only usage charged to this team\n"
    "  --sort KEY        name (default), requests, tokens, cost, errors, latency, p95, ...\n"
    "  --format FMT      table (default, with a TOTAL row), csv or json (no total row)\n"
    "  --chargeback M    the chargeback report of month M per team (YYYY-MM)\n"
    "  --detail          with --chargeback: one line per team and model\n"
    "  --help            show this help\n";

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON } fmt;

static const char SQL_USER[] = "SELECT id FROM users WHERE name = ?";
static const char SQL_TEAM[] = "SELECT id FROM teams WHERE name = ?";
static const char SQL_FIRST_DAY[] = "SELECT DATE_FORMAT(MIN(ts_day), '%Y-%m-%d') FROM usage_daily";

typedef struct {
    const char *by, *period, *since, *until, *tz, *user, *team, *sort, *format, *chargeback;
    bool detail;
} opts;

static void usd(long long micro, char *out, size_t n)
{
    hub_report_usd(micro, out, n);
    /* trim to at least 2 decimals for the table: 1.230000 → 1.23 */
    size_t len = strlen(out);
    while (len >= 4 && out[len - 1] == '0' && out[len - 3] != '.')
        out[--len] = '\0';
}

static void pct(long long v, char *out, size_t n)
{
    if (v < 0)
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%lld", v);
}

static bool print_table(const hub_rtable *t, const char *group, bool share)
{
    char head[24];
    size_t n = 0;
    for (; group[n] != '\0' && n < sizeof(head) - 1; n++)
        head[n] = (char)toupper((unsigned char)group[n]);
    head[n] = '\0';
    const char *const heads[] = {
        head,     "REQUESTS", "ERRORS",   "PROMPT_TOKENS", "COMPLETION_TOKENS",
        "IMAGES", "COST_USD", "UNPRICED", "AVG_MS",        "P95_MS",
        "SHARE"};
    int ncols = share ? 11 : 10;
    hc_table tb;
    hc_table_init(&tb, ncols, heads, 0x7feu);
    for (int i = 0; i <= t->n; i++) {
        const hub_meas *m = i < t->n ? &t->rows[i].m : &t->total;
        char lab[300], num[10][40];
        if (i == t->n)
            snprintf(lab, sizeof(lab), "TOTAL");
        else if (t->rows[i].label2 != NULL)
            snprintf(lab, sizeof(lab), "%s %s", t->rows[i].label, t->rows[i].label2);
        else
            snprintf(lab, sizeof(lab), "%s", t->rows[i].label);
        snprintf(num[0], sizeof(num[0]), "%lld", m->v[HUB_RU_REQUESTS]);
        snprintf(num[1], sizeof(num[1]), "%lld", m->v[HUB_RU_ERRORS]);
        snprintf(num[2], sizeof(num[2]), "%lld", m->v[HUB_RU_PROMPT]);
        snprintf(num[3], sizeof(num[3]), "%lld", m->v[HUB_RU_COMPLETION]);
        snprintf(num[4], sizeof(num[4]), "%lld", m->v[HUB_RU_IMAGES]);
        usd(m->v[HUB_RU_COST], num[5], sizeof(num[5]));
        snprintf(num[6], sizeof(num[6]), "%lld", m->v[HUB_RU_UNPRICED]);
        pct(hub_meas_mean(m, false), num[7], sizeof(num[7]));
        pct(hub_meas_pct(m, false, 0.95), num[8], sizeof(num[8]));
        long long tc = t->total.v[HUB_RU_COST];
        snprintf(num[9], sizeof(num[9]), "%.1f%%",
                 tc > 0 ? 100.0 * (double)m->v[HUB_RU_COST] / (double)tc : 0.0);
        const char *cells[11] = {lab,    num[0], num[1], num[2], num[3], num[4],
                                 num[5], num[6], num[7], num[8], num[9]};
        hc_table_add(&tb, cells);
    }
    bool ok = hc_table_print(&tb, stdout);
    hc_table_free(&tb);
    return ok;
}

static bool print_rows(const hub_rtable *t, hub_dim dim, const char *group, fmt f, bool share)
{
    if (f == FMT_TABLE)
        return print_table(t, group, share);
    hub_buf b;
    hub_buf_init(&b, 0);
    bool ok = f == FMT_CSV ? hub_report_csv(&b, dim, t) : hub_report_json(&b, dim, t);
    if (ok)
        fwrite(b.data, 1, b.len, stdout);
    else
        hc_err("out of memory while building the report");
    hub_buf_free(&b);
    return ok;
}

/* Adds what the gateway wrote but did not roll up yet (bounded); warns when more is left. */
static void catch_up(hub_db *db)
{
    for (int i = 0; i < HC_CATCHUP_STEPS; i++) {
        hub_rollup_result r;
        if (!hub_rollup_step(db, HUB_ROLLUP_BATCH, HUB_ROLLUP_STALE_SECONDS, &r)) {
            hc_err("warning: rollup step failed (%s); the report may miss recent usage", r.err);
            return;
        }
        if (r.busy || r.rows < HUB_ROLLUP_BATCH)
            return;
    }
    hc_err("warning: more than %d ledger rows are not rolled up yet; run 'hubctl rollup'",
           HC_CATCHUP_STEPS * HUB_ROLLUP_BATCH);
}

static bool lookup(hubctl *h, const char *sql, const char *what, const char *name, long long *id)
{
    if (!hc_lookup_id(h, sql, name, id))
        return false;
    if (*id == 0) {
        hc_err("there is no %s named '%s'", what, name);
        return false;
    }
    return true;
}

static int parse(int argc, char **argv, opts *o)
{
    static const struct option OPTS[] = {
        {"by", required_argument, NULL, 'b'},
        {"period", required_argument, NULL, 'p'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"tz", required_argument, NULL, 'z'},
        {"user", required_argument, NULL, 'U'},
        {"team", required_argument, NULL, 'T'},
        {"sort", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"chargeback", required_argument, NULL, 'c'},
        {"detail", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 0; /* GNU: full re-initialisation for this argv */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'b':
            o->by = optarg;
            break;
        case 'p':
            o->period = optarg;
            break;
        case 's':
            o->since = optarg;
            break;
        case 'u':
            o->until = optarg;
            break;
        case 'z':
            o->tz = optarg;
            break;
        case 'U':
            o->user = optarg;
            break;
        case 'T':
            o->team = optarg;
            break;
        case 'o':
            o->sort = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'c':
            o->chargeback = optarg;
            break;
        case 'd':
            o->detail = true;
            break;
        case 'h':
            fputs(HELP, stdout);
            return HC_EXIT_OK;
        case ':':
            return hc_usage("usage", "option '%s' needs a value", argv[optind - 1]);
        default:
            return hc_usage("usage", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return hc_usage("usage", "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* The period of the options; "since"/"until" default to the first usage and today. */
static int make_period(hubctl *h, const opts *o, hub_period *p)
{
    char err[160], first[16] = "", today[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    if (o->chargeback != NULL) {
        if (!hub_period_make(p, "chargeback", o->chargeback, NULL, now, err, sizeof(err)))
            return hc_usage("usage", "--chargeback: %s", err);
        return -1;
    }
    if (o->period != NULL && (o->since != NULL || o->until != NULL))
        return hc_usage("usage", "--period and --since/--until exclude each other");
    if (o->period != NULL) {
        if (strcmp(o->period, "custom") == 0 ||
            !hub_period_make(p, o->period, NULL, NULL, now, err, sizeof(err)))
            return hc_usage("usage", "--period must be today, 7d, 30d or month");
        return -1;
    }
    const char *since = o->since, *until = o->until != NULL ? o->until : today;
    hub_dbres r;
    if (!hc_exec(h, SQL_FIRST_DAY, NULL, 0, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    const char *d = hub_dbres_get(&r, 0, 0);
    snprintf(first, sizeof(first), "%s", d != NULL ? d : today);
    hub_dbres_free(&r);
    /* a UTC day starts up to 14 hours before or after the local one: one day earlier */
    struct tm ft;
    memset(&ft, 0, sizeof(ft));
    if (strptime(first, "%Y-%m-%d", &ft) != NULL) {
        ft.tm_mday -= 1;
        ft.tm_isdst = -1;
        time_t t = mktime(&ft);
        localtime_r(&t, &ft);
        strftime(first, sizeof(first), "%Y-%m-%d", &ft);
    }
    /* nothing is older than the first usage: start there (keeps day lists short) */
    if (since == NULL || (strlen(since) == 10 && strcmp(since, first) < 0))
        since = first;
    if (strlen(until) == 10 && strcmp(since, until) > 0 && strcmp(first, since) == 0)
        since = until; /* a period before any usage: empty */
    if (!hub_period_make(p, "custom", since, until, now, err, sizeof(err)))
        return hc_usage("usage", "--since/--until: %s", err);
    return -1;
}

int hc_usage_main(hubctl *h, int argc, char **argv)
{
    opts o = {.by = "model", .tz = "UTC", .format = "table"};
    int status = parse(argc, argv, &o);
    hub_tz tz;
    hub_period per;
    hub_rfilter f;
    hub_rtable t = {0};
    hub_series s = {0};
    hub_buckets *bk = NULL;
    hub_dim dim = HUB_DIM_NONE;
    bool time_rows = false;
    fmt ff;

    if (status >= 0)
        return status;
    status = HC_EXIT_FAIL;
    if (o.chargeback != NULL) {
        dim = o.detail ? HUB_DIM_TEAM_MODEL : HUB_DIM_TEAM;
    } else if (o.detail) {
        return hc_usage("usage", "--detail goes with --chargeback");
    } else if (strcmp(o.by, "day") == 0 || strcmp(o.by, "hour") == 0) {
        time_rows = true;
        dim = HUB_DIM_TIME;
    } else if (!hub_dim_parse(o.by, &dim) || dim == HUB_DIM_NONE || dim == HUB_DIM_TEAM_MODEL) {
        return hc_usage("usage", "--by must be user, team, app, key, model, provider, day or hour");
    }
    if (strcmp(o.format, "table") == 0)
        ff = FMT_TABLE;
    else if (strcmp(o.format, "csv") == 0)
        ff = FMT_CSV;
    else if (strcmp(o.format, "json") == 0)
        ff = FMT_JSON;
    else
        return hc_usage("usage", "--format must be table, csv or json");
    if (o.sort != NULL && !hub_sort_key_ok(o.sort))
        return hc_usage("usage", "--sort must be name, requests, tokens_in, tokens_out, tokens, "
                                 "images, cost, errors, unpriced, p50 or p95");
    if (!hub_tz_parse(o.tz, &tz))
        return hc_usage("usage", "--tz must be UTC, UTC+H, UTC-H or a zone such as Europe/Berlin");
    hub_tz_use(&tz);
    hub_db *db = hc_db(h);
    if (db == NULL)
        return HC_EXIT_FAIL;
    int ps = make_period(h, &o, &per);
    if (ps >= 0)
        return ps;
    hub_rfilter_init(&f, per.t0, per.t1);
    if (o.user != NULL && !lookup(h, SQL_USER, "user", o.user, &f.user_id))
        return HC_EXIT_FAIL;
    if (o.team != NULL && !lookup(h, SQL_TEAM, "team", o.team, &f.team_id))
        return HC_EXIT_FAIL;
    catch_up(db);
    if (time_rows) {
        hub_period hp = per;
        hp.bucket = strcmp(o.by, "hour") == 0 ? HUB_BUCKET_HOUR : HUB_BUCKET_DAY;
        if (hp.bucket == HUB_BUCKET_HOUR && per.t1 - per.t0 > 31LL * 86400)
            return hc_usage("usage", "--by hour covers at most 31 days");
        bk = malloc(sizeof(*bk));
        if (bk == NULL) {
            hc_err("out of memory");
            return HC_EXIT_FAIL;
        }
        hub_buckets_make(bk, &hp);
        if (bk->n == HUB_MAX_BUCKETS && bk->start[bk->n] < hp.t1) {
            hc_err("too many %ss in the period; narrow it with --since/--until", o.by);
            goto end;
        }
        if (!hub_report_series(db, &f, HUB_DIM_NONE, bk, &s) ||
            !hub_series_rows(&s, bk, false, &t)) {
            hc_err("database error: %s", hub_db_error(db));
            goto end;
        }
    } else {
        if (!hub_report_breakdown(db, &f, dim, &t)) {
            hc_err("database error: %s", hub_db_error(db));
            goto end;
        }
        hub_rtable_sort(&t, o.sort != NULL ? o.sort : "name",
                        o.sort != NULL && strcmp(o.sort, "name") != 0);
    }
    if (print_rows(&t, dim, o.chargeback != NULL ? "team" : o.by, ff, o.chargeback != NULL))
        status = HC_EXIT_OK;
end:
    hub_rtable_free(&t);
    hub_series_free(&s);
    free(bk);
    return status;
}
