/*
 * hub_rollup.h — keeps the usage rollups (schema/007_rollups.sql) current, exactly.
 *
 * The ledger (usage_log) gets one row per attempt from the spool drain, first 'pending', then
 * final; replays of the same records happen. A rollup step adds final rows that are not yet
 * rolled (usage_log.rolled = 0) into the rollup tables (four families of dimensions, each by
 * UTC hour and by UTC day) and marks them rolled, all in one transaction, so every row is counted
 * exactly once whatever crashes or replays happen around it. Rows still 'pending' long after
 * any upstream time bound (stale_seconds) are added as "unfinished" requests and corrected
 * should their final record still arrive. Rollers on several hosts (each gateway's drain
 * thread, hubctl rollup) are serialised by a row lock; a step that finds the lock taken does
 * nothing.
 *
 * Retention removes raw ledger rows that are rolled and older than N days, in bounded batches
 * (each its own short transaction); the rollups are kept.
 *
 * The measures below are the columns every rollup table has, in this order; hub_report.c and
 * the pages read them by index (HUB_RU_*).
 */
#ifndef HUB_ROLLUP_H
#define HUB_ROLLUP_H

#include "hub_config.h"
#include "hub_db.h"

#include <stdbool.h>

/* Measure indexes (columns of every rollup table, in order). */
enum {
    HUB_RU_REQUESTS,   /* attempts sent upstream (ledger rows) */
    HUB_RU_RETRIES,    /* of which attempt > 0 (retries and fallbacks) */
    HUB_RU_ERRORS,     /* final outcome other than ok and client_abort */
    HUB_RU_ABORTS,     /* client_abort */
    HUB_RU_UNFINISHED, /* never finalised (rolled while pending) */
    HUB_RU_PROMPT,     /* tokens in */
    HUB_RU_COMPLETION, /* tokens out */
    HUB_RU_IMAGES,
    HUB_RU_COST, /* micro-USD */
    HUB_RU_UNPRICED,
    HUB_RU_LAT_N,
    HUB_RU_LAT_SUM,
    HUB_RU_TTFB_N,
    HUB_RU_TTFB_SUM,
    HUB_RU_LAT_HIST, /* HUB_RU_NHIST latency buckets */
};
#define HUB_RU_NHIST     20
#define HUB_RU_TTFB_HIST (HUB_RU_LAT_HIST + HUB_RU_NHIST)
#define HUB_RU_NM        (HUB_RU_TTFB_HIST + HUB_RU_NHIST)

/* Column names of the measures, HUB_RU_NM of them. */
extern const char *const hub_ru_measure[HUB_RU_NM];
/* Upper bounds (ms, exclusive) of the histogram buckets 0..NHIST-2; the last is open. */
extern const int hub_ru_hist_upper[HUB_RU_NHIST - 1];

#define HUB_ROLLUP_BATCH         10000 /* ledger rows per step */
#define HUB_ROLLUP_BATCH_MAX     50000 /* the keys table is a MEMORY table: bounded */
#define HUB_ROLLUP_STALE_SECONDS 7200  /* a 'pending' row this old is rolled as unfinished */
#define HUB_RETENTION_BATCH      10000 /* raw rows deleted per statement */

typedef struct {
    long rows;     /* ledger rows added by the step (0: nothing to do, or another roller) */
    bool busy;     /* another roller held the lock */
    long long ms;  /* how long the step took */
    char err[256]; /* why it failed (the rollback clears hub_db_error) */
} hub_rollup_result;

/*
 * One rollup step: at most batch (≤ HUB_ROLLUP_BATCH_MAX) final rows, and as many stale pending
 * rows and corrections, in one transaction. stale_seconds: a pending row older than this counts as
 * unfinished (HUB_ROLLUP_STALE_SECONDS; tests pass less). false on a database error (nothing
 * changed; hub_db_error says why).
 */
bool hub_rollup_step(hub_db *db, int batch, int stale_seconds, hub_rollup_result *out);

/*
 * Deletes at most batch rolled ledger rows older than days days (one statement, its own
 * transaction). *deleted gets the count; fewer than batch means nothing older is left.
 */
bool hub_rollup_retention_batch(hub_db *db, int days, int batch, long *deleted);

/* What the gateway's drain thread keeps between ticks (zero-initialise). */
typedef struct {
    long long next_retention_ms; /* when to look for old raw rows again */
    bool retention_more;         /* the last batch was full: continue next tick */
    long long last_error_log_ms;
} hub_rollup_ticker;

/*
 * Called by the gateway's drain thread after each spool drain: one bounded rollup step, then
 * (with usage_retention_days set) at most one retention batch when due (every 10 minutes, then
 * every tick while batches come back full). Errors are logged, at most once a minute.
 */
void hub_rollup_tick(hub_rollup_ticker *t, hub_db *db, const hub_config *cfg);

#endif
