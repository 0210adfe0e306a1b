/*
 * cmd_rollup.c — "hubctl rollup" (catch up the usage rollups, show their state) and
 * "hubctl retention" (remove old raw ledger rows that are rolled up; the rollups stay).
 *
 * The gateways' drain threads keep the rollups current on their own (lib/hub_rollup.h);
 * these commands are for catch-up after an upgrade, a bulk import or a long outage, and for
 * cron. Both use the same library calls as the gateway, so they are safe to run while it
 * works: rollers serialise on a row lock, every step is one transaction, and retention
 * deletes in short batches of already-rolled rows. Retention also deletes stored prompts older
 * than prompt_retention_days (hub_prompt.h). Retention is recorded in the audit log.
 */
#include "hubctl.h"

#include "hub_audit.h"
#include "hub_prompt.h"
#include "hub_rollup.h"
#include "hub_usage.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char ROLLUP_HELP[] =
    "usage: hubctl rollup [--batch N] [--stale-after SECONDS] [--status]\n\n"
    "Adds final usage-ledger rows that are not rolled up yet into the rollup tables the\n"
    "analytics pages and 'hubctl usage' read, batch by batch until none is left, and\n"
    "prints how many rows it added and how fast. Safe while gateways run (they do the same\n"
    "after every spool drain).\n\n"
    "  --batch N              ledger rows per transaction (default 10000, at most 50000)\n"
    "  --stale-after SECONDS  roll rows still 'pending' after this long as unfinished\n"
    "                         (default 7200)\n"
    "  --status               only show the rollup state and the backlog\n"
    "  --help                 show this help\n";

static const char RETENTION_HELP[] =
    "usage: hubctl retention [--days N] [--prompt-days N] [--batch N]\n\n"
    "Removes raw usage-ledger rows older than N days that are rolled up, in batches (each\n"
    "its own short transaction), and keeps the rollups: reports and analytics stay complete,\n"
    "the call log reaches back N days. Without --days, usage_retention_days of hub.conf\n"
    "applies; with neither, the raw rows are kept. Also removes stored prompts (prompt\n"
    "logging) older than prompt_retention_days of hub.conf (default 30), in batches. The\n"
    "gateway does both on its own every 10 minutes.\n\n"
    "  --days N         keep this many days of raw rows (1-36500)\n"
    "  --prompt-days N  keep this many days of stored prompts (1-36500)\n"
    "  --batch N        rows per delete (default 10000)\n"
    "  --help           show this help\n";

static const char SQL_STATE[] =
    "SELECT rows_rolled, batches, DATE_FORMAT(last_roll_at, '%Y-%m-%d %H:%i:%s'), rows_deleted, "
    "DATE_FORMAT(last_retention_at, '%Y-%m-%d %H:%i:%s') FROM usage_rollup_state WHERE id = 1";
/* bounded: counting a huge backlog exactly would read it all */
static const char SQL_BACKLOG[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM usage_log WHERE rolled = 0 AND outcome <> 'pending' "
    "LIMIT 1000001) b";
static const char SQL_PENDING[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM usage_log WHERE rolled = 0 AND outcome = 'pending' "
    "LIMIT 1000001) b";

/* getopt_long over argv; 'h' prints help. Returns -1 to go on, else an exit status. */
static int getopts(int argc, char **argv, const char *cmd, const char *help,
                   const struct option *opts, const char **vals, bool *flag)
{
    optind = 0; /* GNU: full re-initialisation */
    opterr = 0;
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, ":h", opts, &idx);
        if (c == -1)
            break;
        if (c == 'h') {
            fputs(help, stdout);
            return HC_EXIT_OK;
        }
        if (c == 0 && idx >= 0) {
            if (opts[idx].has_arg == no_argument)
                *flag = true;
            else
                vals[idx] = optarg;
            continue;
        }
        if (c == ':')
            return hc_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        return hc_usage(cmd, "unknown option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return hc_usage(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

static bool int_arg(const char *s, long min, long max, long *out)
{
    return s == NULL || hub_parse_long(s, min, max, out);
}

static int status(hubctl *h)
{
    hub_dbres st = {0}, bl = {0}, pe = {0};
    int rc = HC_EXIT_FAIL;
    if (!hc_exec(h, SQL_STATE, NULL, 0, &st, NULL, NULL) ||
        !hc_exec(h, SQL_BACKLOG, NULL, 0, &bl, NULL, NULL) ||
        !hc_exec(h, SQL_PENDING, NULL, 0, &pe, NULL, NULL))
        goto end;
    long long backlog = hc_llval(hub_dbres_get(&bl, 0, 0));
    long long pending = hc_llval(hub_dbres_get(&pe, 0, 0));
    printf("rows rolled up:       %lld in %lld batches\n", hc_llval(hub_dbres_get(&st, 0, 0)),
           hc_llval(hub_dbres_get(&st, 0, 1)));
    printf("last rollup (UTC):    %s\n",
           hub_dbres_get(&st, 0, 2) ? hub_dbres_get(&st, 0, 2) : "never");
    printf("waiting (final rows): %s%lld\n", backlog > 1000000 ? "more than " : "",
           backlog > 1000000 ? 1000000LL : backlog);
    printf("in flight (pending):  %s%lld\n", pending > 1000000 ? "more than " : "",
           pending > 1000000 ? 1000000LL : pending);
    printf("raw rows removed:     %lld (last %s)\n", hc_llval(hub_dbres_get(&st, 0, 3)),
           hub_dbres_get(&st, 0, 4) ? hub_dbres_get(&st, 0, 4) : "never");
    rc = HC_EXIT_OK;
end:
    hub_dbres_free(&st);
    hub_dbres_free(&bl);
    hub_dbres_free(&pe);
    return rc;
}

int hc_rollup_main(hubctl *h, int argc, char **argv)
{
    static const struct option OPTS[] = {
        {"batch", required_argument, NULL, 0},
        {"stale-after", required_argument, NULL, 0},
        {"status", no_argument, NULL, 0},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *vals[4] = {NULL, NULL, NULL, NULL};
    bool only_status = false;
    long batch = HUB_ROLLUP_BATCH, stale = HUB_ROLLUP_STALE_SECONDS;
    int st = getopts(argc, argv, "rollup", ROLLUP_HELP, OPTS, vals, &only_status);
    if (st >= 0)
        return st;
    if (!int_arg(vals[0], 1, HUB_ROLLUP_BATCH_MAX, &batch))
        return hc_usage("rollup", "--batch must be 1-%d", HUB_ROLLUP_BATCH_MAX);
    if (!int_arg(vals[1], 0, 30L * 86400, &stale))
        return hc_usage("rollup", "--stale-after must be 0-2592000 seconds");
    hub_db *db = hc_db(h);
    if (db == NULL)
        return HC_EXIT_FAIL;
    if (only_status)
        return status(h);
    long long total = 0, t0 = hub_now_ms();
    int busy = 0;
    for (;;) {
        hub_rollup_result r;
        if (!hub_rollup_step(db, (int)batch, (int)stale, &r)) {
            hc_err("rollup failed after %lld rows: %s", total, r.err);
            return HC_EXIT_FAIL;
        }
        total += r.rows;
        if (r.busy) {
            if (++busy > 600) {
                hc_err("another roller has held the lock for a minute; try again later");
                return HC_EXIT_FAIL;
            }
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        busy = 0;
        if (r.rows < batch)
            break;
    }
    long long ms = hub_now_ms() - t0;
    printf("rolled up %lld ledger rows in %lld ms (%lld rows/s)\n", total, ms,
           ms > 0 ? total * 1000 / ms : total);
    return HC_EXIT_OK;
}

/* Appends the audit row of a retention run that removed total rows of table. false after
 * printing the error. */
static bool audit_retention(hubctl *h, const char *action, const char *table, const char *what,
                            long days, long long total)
{
    char after[96];
    snprintf(after, sizeof(after), "{\"days\":%ld,\"rows_deleted\":%lld}", days, total);
    if (!hc_tx_begin(h))
        return false;
    if (!hub_audit_log(hc_db(h), hc_actor(h), "hubctl", action, table, what, NULL, after) ||
        !hc_tx_commit(h)) {
        hc_tx_rollback(h);
        hc_err("the rows were removed but the audit row failed: %s", hub_db_error(hc_db(h)));
        return false;
    }
    return true;
}

/* Deletes batch after batch with fn until a batch comes back short; *total gets the count.
 * false after printing the error. */
static bool delete_old(hubctl *h, bool (*fn)(hub_db *, int, int, long *), const char *what,
                       long days, long batch, long long *total)
{
    long n = 0;
    *total = 0;
    do {
        if (!fn(hc_db(h), (int)days, (int)batch, &n)) {
            hc_err("retention of %s failed after %lld rows: %s", what, *total,
                   hub_db_error(hc_db(h)));
            return false;
        }
        *total += n;
    } while (n >= batch);
    return true;
}

int hc_retention_main(hubctl *h, int argc, char **argv)
{
    static const struct option OPTS[] = {
        {"days", required_argument, NULL, 0},
        {"batch", required_argument, NULL, 0},
        {"prompt-days", required_argument, NULL, 0},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *vals[4] = {NULL, NULL, NULL, NULL};
    bool unused = false;
    long days = 0, batch = HUB_RETENTION_BATCH, pdays = 0;
    long long total = 0, ptotal = 0;
    int st = getopts(argc, argv, "retention", RETENTION_HELP, OPTS, vals, &unused);
    if (st >= 0)
        return st;
    if (!int_arg(vals[0], 1, 36500, &days))
        return hc_usage("retention", "--days must be 1-36500");
    if (!int_arg(vals[1], 1, 1000000, &batch))
        return hc_usage("retention", "--batch must be 1-1000000");
    if (!int_arg(vals[2], 1, 36500, &pdays))
        return hc_usage("retention", "--prompt-days must be 1-36500");
    if (!hc_config(h))
        return HC_EXIT_FAIL;
    if (vals[0] == NULL)
        days = h->cfg.usage_retention_days;
    if (vals[2] == NULL)
        pdays = h->cfg.prompt_retention_days;
    if (hc_db(h) == NULL)
        return HC_EXIT_FAIL;
    long long t0 = hub_now_ms();
    if (days >= 1) {
        if (!delete_old(h, hub_rollup_retention_batch, "raw ledger rows", days, batch, &total) ||
            (total > 0 &&
             !audit_retention(h, "usage.retention", "usage_log", "raw rows", days, total)))
            return HC_EXIT_FAIL;
        printf("removed %lld raw ledger rows older than %ld days in %lld ms (rollups kept)\n",
               total, days, hub_now_ms() - t0);
    } else {
        printf("raw ledger rows kept (no --days, usage_retention_days is not set)\n");
    }
    t0 = hub_now_ms();
    if (!delete_old(h, hub_prompt_retention_batch, "stored prompts", pdays,
                    batch < HUB_PROMPT_BATCH ? batch : HUB_PROMPT_BATCH, &ptotal) ||
        (ptotal > 0 &&
         !audit_retention(h, "prompt.retention", "usage_prompts", "stored prompts", pdays, ptotal)))
        return HC_EXIT_FAIL;
    printf("removed %lld stored prompts older than %ld days in %lld ms\n", ptotal, pdays,
           hub_now_ms() - t0);
    return HC_EXIT_OK;
}
