/*
 * cmd_usage.c — "hubctl usage": requests, tokens, images and cost from the usage ledger,
 * grouped by user, team, app, model, provider, day or key, as a table, CSV or JSON.
 *
 * Every usage_log row counts (failed and aborted attempts too: they were sent upstream).
 * The grouping is chosen from a fixed table of complete SQL statements — the --by value
 * only selects an entry and never reaches the SQL text. Unknown counts (NULL) add 0;
 * rows without a cost add 0 to cost_usd and are counted in unpriced_requests, so a
 * report never silently presents an incomplete total as complete. Cost is summed in
 * integer micro-USD and printed with 6 decimals.
 */
#include "hubctl.h"

#include "hub_buf.h"

#include <ctype.h>
#include <getopt.h>
#include <string.h>

static const char HELP[] =
    "usage: hubctl usage [--by user|team|app|model|provider|day|key]\n"
    "                    [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--format table|csv|json]\n\n"
    "Reports usage from the ledger: requests, prompt and completion tokens, images and\n"
    "cost in USD per group. Every attempt sent upstream counts, whatever its outcome.\n"
    "Requests without a known cost add 0 to cost_usd and are counted as unpriced.\n\n"
    "  --by GROUP      user, team, app, model (default), provider, day or key\n"
    "  --since DATE    first day included (UTC)\n"
    "  --until DATE    last day included (UTC)\n"
    "  --format FMT    table (default, with a TOTAL row), csv or json\n"
    "  --help          show this help\n";

#define USAGE_SQL(label, joins)                                                                    \
    "SELECT " label ", COUNT(*), COALESCE(SUM(u.prompt_tokens), 0), "                              \
    "COALESCE(SUM(u.completion_tokens), 0), COALESCE(SUM(u.images), 0), "                          \
    "COALESCE(SUM(u.cost_micro), 0), COALESCE(SUM(u.cost_micro IS NULL), 0) "                      \
    "FROM usage_log u " joins " WHERE (? IS NULL OR u.ts >= CAST(? AS DATE)) "                     \
    "AND (? IS NULL OR u.ts < CAST(? AS DATE) + INTERVAL 1 DAY) GROUP BY 1 ORDER BY 1"

/* The allow-list: --by value → complete statement (a string literal: hub_db caches it). */
static const struct {
    const char *by;
    const char *sql;
} GROUPS[] = {
    {"user", USAGE_SQL("COALESCE(us.name, '(none)')", "LEFT JOIN users us ON us.id = u.user_id")},
    {"team", USAGE_SQL("COALESCE(t.name, '(none)')", "LEFT JOIN teams t ON t.id = u.team_id")},
    {"app", USAGE_SQL("COALESCE(NULLIF(u.app, ''), '(none)')", "")},
    {"model", USAGE_SQL("CONCAT(u.provider, '/', u.model)", "")},
    {"provider", USAGE_SQL("u.provider", "")},
    {"day", USAGE_SQL("DATE_FORMAT(u.ts, '%Y-%m-%d')", "")},
    {"key", USAGE_SQL("COALESCE(k.name, '(none)')", "LEFT JOIN api_keys k ON k.id = u.key_id")},
};

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON } fmt;

typedef struct {
    const char *group; /* borrowed from the result */
    long long requests, prompt, completion, images, cost_micro, unpriced;
} row;

static void read_row(const hub_dbres *r, int i, row *out)
{
    out->group = hub_dbres_get(r, i, 0);
    if (out->group == NULL)
        out->group = "(none)";
    out->requests = hc_llval(hub_dbres_get(r, i, 1));
    out->prompt = hc_llval(hub_dbres_get(r, i, 2));
    out->completion = hc_llval(hub_dbres_get(r, i, 3));
    out->images = hc_llval(hub_dbres_get(r, i, 4));
    out->cost_micro = hc_llval(hub_dbres_get(r, i, 5));
    out->unpriced = hc_llval(hub_dbres_get(r, i, 6));
}

static bool print_table(const hub_dbres *r, const char *by)
{
    char head[16];
    size_t n = 0;
    for (; by[n] != '\0' && n < sizeof(head) - 1; n++)
        head[n] = (char)toupper((unsigned char)by[n]);
    head[n] = '\0';
    const char *const heads[] = {head,     "REQUESTS", "PROMPT_TOKENS", "COMPLETION_TOKENS",
                                 "IMAGES", "COST_USD", "UNPRICED"};
    row total = {.group = "TOTAL"};
    hc_table t;
    bool ok;
    hc_table_init(&t, 7, heads, 0x7eu);
    for (int i = 0; i <= r->nrows; i++) {
        row x;
        char num[6][32];
        if (i < r->nrows) {
            read_row(r, i, &x);
            total.requests += x.requests;
            total.prompt += x.prompt;
            total.completion += x.completion;
            total.images += x.images;
            total.cost_micro += x.cost_micro;
            total.unpriced += x.unpriced;
        } else {
            x = total;
        }
        snprintf(num[0], sizeof(num[0]), "%lld", x.requests);
        snprintf(num[1], sizeof(num[1]), "%lld", x.prompt);
        snprintf(num[2], sizeof(num[2]), "%lld", x.completion);
        snprintf(num[3], sizeof(num[3]), "%lld", x.images);
        hc_fmt_usd(x.cost_micro, 6, num[4], sizeof(num[4]));
        snprintf(num[5], sizeof(num[5]), "%lld", x.unpriced);
        const char *cells[7] = {x.group, num[0], num[1], num[2], num[3], num[4], num[5]};
        hc_table_add(&t, cells);
    }
    ok = hc_table_print(&t, stdout);
    hc_table_free(&t);
    return ok;
}

static bool print_csv(const hub_dbres *r)
{
    fputs("group,requests,prompt_tokens,completion_tokens,images,cost_usd,unpriced_requests\n",
          stdout);
    for (int i = 0; i < r->nrows; i++) {
        row x;
        char usd[32];
        read_row(r, i, &x);
        hc_fmt_usd(x.cost_micro, 6, usd, sizeof(usd));
        hc_csv_field(stdout, x.group);
        printf(",%lld,%lld,%lld,%lld,%s,%lld\n", x.requests, x.prompt, x.completion, x.images, usd,
               x.unpriced);
    }
    return true;
}

static bool print_json(const hub_dbres *r)
{
    bool rc = false;
    hub_buf b;
    hub_buf_init(&b, 0);
    if (!hub_buf_puts(&b, "["))
        goto end;
    for (int i = 0; i < r->nrows; i++) {
        row x;
        char usd[32];
        read_row(r, i, &x);
        hc_fmt_usd(x.cost_micro, 6, usd, sizeof(usd));
        if (!hub_buf_puts(&b, i > 0 ? ",\n  {\"group\":" : "\n  {\"group\":") ||
            !hub_buf_json_str(&b, x.group) ||
            !hub_buf_printf(&b,
                            ",\"requests\":%lld,\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
                            "\"images\":%lld,\"cost_usd\":%s,\"unpriced_requests\":%lld}",
                            x.requests, x.prompt, x.completion, x.images, usd, x.unpriced))
            goto end;
    }
    if (!hub_buf_puts(&b, r->nrows > 0 ? "\n]\n" : "]\n"))
        goto end;
    fwrite(b.data, 1, b.len, stdout);
    rc = true;
end:
    if (!rc)
        hc_err("out of memory while building the JSON report");
    hub_buf_free(&b);
    return rc;
}

int hc_usage_main(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "usage";
    static const struct option OPTS[] = {
        {"by", required_argument, NULL, 'b'},    {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    int status = HC_EXIT_FAIL;
    const char *by = "model", *since = NULL, *until = NULL, *format = "table";
    const char *sql = NULL;
    fmt f;
    hc_pos pos = {0};
    hub_dbres r;

    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            hc_pos_add(&pos, optarg);
            break;
        case 'b':
            by = optarg;
            break;
        case 's':
            since = optarg;
            break;
        case 'u':
            until = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'h':
            fputs(HELP, stdout);
            return HC_EXIT_OK;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 0, CMD, "", &status))
        return status;
    for (size_t i = 0; i < sizeof(GROUPS) / sizeof(GROUPS[0]); i++) {
        if (strcmp(GROUPS[i].by, by) == 0)
            sql = GROUPS[i].sql;
    }
    if (sql == NULL)
        return hc_usage(CMD, "--by must be user, team, app, model, provider, day or key");
    if (since != NULL && !hc_date_ok(since))
        return hc_usage(CMD, "--since must be a date like 2025-09-01");
    if (until != NULL && !hc_date_ok(until))
        return hc_usage(CMD, "--until must be a date like 2025-09-30");
    if (since != NULL && until != NULL && strcmp(since, until) > 0)
        return hc_usage(CMD, "--since is after --until");
    if (strcmp(format, "table") == 0)
        f = FMT_TABLE;
    else if (strcmp(format, "csv") == 0)
        f = FMT_CSV;
    else if (strcmp(format, "json") == 0)
        f = FMT_JSON;
    else
        return hc_usage(CMD, "--format must be table, csv or json");

    hub_dbp p[4] = {DB_STR(since), DB_STR(since), DB_STR(until), DB_STR(until)};
    if (!hc_exec(h, sql, p, 4, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    bool ok = f == FMT_TABLE ? print_table(&r, by) : f == FMT_CSV ? print_csv(&r) : print_json(&r);
    if (ok)
        status = HC_EXIT_OK;
    hub_dbres_free(&r);
    return status;
}
