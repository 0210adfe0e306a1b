/*
 * hub_rollup.c — exact, idempotent rollup maintenance and retention (see hub_rollup.h).
 *
 * One step, in one READ COMMITTED transaction:
 *   1. lock usage_rollup_state row 1 (FOR UPDATE SKIP LOCKED: a second roller skips);
 *   2. collect the batch's keys in a session temporary table, found through ix_usage_rollup:
 *      kind 2 = final rows not rolled yet; kind 4 = rows rolled while pending that are final
 *      now; kind 5 = stale pending rows (the last two with FOR UPDATE: the drain may finalise
 *      them any moment; final rows never change again, and rollers are serialised by 1.);
 *   3. aggregate those ledger rows once into a second temporary table by UTC hour and every
 *      dimension (a kind-4 row contributes its final values minus the pending contribution
 *      already counted: one request, one unpriced, one unfinished);
 *   4. add that into the ten rollup tables: the five families (every dimension; key, user,
 *      team, app; team; provider, model; team, provider, model) by hour and by day
 *      (INSERT … SELECT … ON DUPLICATE KEY UPDATE m = m + VALUES(m));
 *   5. mark the rows (kinds 2, 4 → rolled 1; 5 → 3), count them in the state row, COMMIT.
 * Anything failing rolls the whole step back: the rows stay unrolled and the next step takes
 * them again.
 * The SQL is built once from the measure table (pthread_once) and kept for the process, so
 * hub_db's statement cache (keyed by the text's address) reuses each prepared statement.
 */
#include "hub_rollup.h"

#include "hub_buf.h"
#include "hub_log.h"
#include "hub_usage.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const hub_ru_measure[HUB_RU_NM] = {
    "requests",
    "retries",
    "errors",
    "aborts",
    "unfinished",
    "prompt_tokens",
    "completion_tokens",
    "images",
    "cost_micro",
    "unpriced",
    "lat_n",
    "lat_sum",
    "ttfb_n",
    "ttfb_sum",
    "lh00",
    "lh01",
    "lh02",
    "lh03",
    "lh04",
    "lh05",
    "lh06",
    "lh07",
    "lh08",
    "lh09",
    "lh10",
    "lh11",
    "lh12",
    "lh13",
    "lh14",
    "lh15",
    "lh16",
    "lh17",
    "lh18",
    "lh19",
    "th00",
    "th01",
    "th02",
    "th03",
    "th04",
    "th05",
    "th06",
    "th07",
    "th08",
    "th09",
    "th10",
    "th11",
    "th12",
    "th13",
    "th14",
    "th15",
    "th16",
    "th17",
    "th18",
    "th19",
};

const int hub_ru_hist_upper[HUB_RU_NHIST - 1] = {5,    10,    25,    50,    100,  200,  350,
                                                 500,  750,   1000,  1500,  2000, 3000, 5000,
                                                 7500, 10000, 15000, 30000, 60000};

/* The ledger expression of each measure over the batch (l = usage_log, k = the keys with
 * their kind; see the file comment). */
static const char *const LEDGER_EXPR[HUB_RU_LAT_HIST] = {
    "SUM(k.kind <> 4)",
    "SUM(k.kind <> 4 AND l.attempt > 0)",
    "SUM(l.outcome NOT IN ('ok', 'client_abort', 'pending'))",
    "SUM(l.outcome = 'client_abort')",
    "SUM(k.kind = 5) - SUM(k.kind = 4)",
    "COALESCE(SUM(l.prompt_tokens), 0)",
    "COALESCE(SUM(l.completion_tokens), 0)",
    "COALESCE(SUM(l.images), 0)",
    "COALESCE(SUM(l.cost_micro), 0)",
    "SUM(l.cost_micro IS NULL) - SUM(k.kind = 4)",
    "SUM(l.latency_ms IS NOT NULL)",
    "COALESCE(SUM(l.latency_ms), 0)",
    "SUM(l.ttfb_ms IS NOT NULL)",
    "COALESCE(SUM(l.ttfb_ms), 0)",
};

#define DIMS "user_id, team_id, key_id, app, provider, model"

static const char SQL_TMP_BATCH[] = "CREATE TEMPORARY TABLE IF NOT EXISTS hub_rollup_batch LIKE "
                                    "usage_hourly";
static const char SQL_TMP_KEYS[] =
    "CREATE TEMPORARY TABLE IF NOT EXISTS hub_rollup_keys (request_id CHAR(36) NOT NULL, "
    "attempt SMALLINT UNSIGNED NOT NULL, kind TINYINT NOT NULL, PRIMARY KEY (request_id, "
    "attempt)) ENGINE=MEMORY";
static const char SQL_ISOLATION[] = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED";
static const char SQL_LOCK[] =
    "SELECT id FROM usage_rollup_state WHERE id = 1 FOR UPDATE SKIP LOCKED";
static const char SQL_CLEAR_KEYS[] = "DELETE FROM hub_rollup_keys";
static const char SQL_CLEAR_BATCH[] = "DELETE FROM hub_rollup_batch";
/* ix_usage_rollup is forced: when most rows are unrolled (after an upgrade or a bulk load) the
 * optimizer would rather scan the table in key order, wading through the rows rolled already,
 * batch after batch. */
#define KEYS(kind, cond, lock)                                                                     \
    "INSERT INTO hub_rollup_keys SELECT request_id, attempt, " kind " FROM usage_log FORCE INDEX " \
    "(ix_usage_rollup) WHERE " cond " LIMIT ?" lock
static const char SQL_KEYS_FINAL[] = KEYS("2", "rolled = 0 AND outcome <> 'pending'", "");
static const char SQL_KEYS_FIX[] = KEYS("4", "rolled = 3 AND outcome <> 'pending'", " FOR UPDATE");
static const char SQL_KEYS_STALE[] =
    KEYS("5", "rolled = 0 AND outcome = 'pending' AND ts < UTC_TIMESTAMP(3) - INTERVAL ? SECOND",
         " FOR UPDATE");
/* The idle check, outside any transaction: one indexed probe per kind of work. */
static const char SQL_ANY[] =
    "SELECT EXISTS (SELECT 1 FROM usage_log FORCE INDEX (ix_usage_rollup) WHERE rolled = 0 AND "
    "outcome <> 'pending') OR EXISTS (SELECT 1 FROM usage_log FORCE INDEX (ix_usage_rollup) "
    "WHERE rolled = 3 AND outcome <> 'pending') OR EXISTS (SELECT 1 FROM usage_log FORCE INDEX "
    "(ix_usage_rollup) WHERE rolled = 0 AND outcome = 'pending' AND ts < UTC_TIMESTAMP(3) - "
    "INTERVAL ? SECOND)";
static const char SQL_DONE[] =
    "UPDATE hub_rollup_keys k STRAIGHT_JOIN usage_log u ON u.request_id = k.request_id AND "
    "u.attempt = k.attempt SET u.rolled = IF(k.kind = 5, 3, 1)";
static const char SQL_STATE[] =
    "UPDATE usage_rollup_state SET rows_rolled = rows_rolled + ?, batches = batches + 1, "
    "last_roll_at = UTC_TIMESTAMP(3) WHERE id = 1";
static const char SQL_RETENTION[] =
    "DELETE FROM usage_log WHERE ts < UTC_TIMESTAMP(3) - INTERVAL ? DAY AND rolled IN (1, 3) "
    "LIMIT ?";
static const char SQL_RETENTION_STATE[] =
    "UPDATE usage_rollup_state SET rows_deleted = rows_deleted + ?, "
    "last_retention_at = UTC_TIMESTAMP(3) WHERE id = 1";

/* Built once: the aggregation into the temporary table and the upserts of the ten rollup
 * tables (five families, each by hour and by day; schema/007_rollups.sql). */
#define NUPSERT 10
static char *sql_batch, *sql_upsert[NUPSERT];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

/* A statement being built; ok turns false on the first failed append. */
typedef struct {
    hub_buf b;
    bool ok;
} sqlb;

static void put(sqlb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sqlb *s, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp) || !hub_buf_puts(&s->b, tmp))
        s->ok = false;
}

/* The finished text (kept for the process lifetime), or NULL. */
static char *finish(sqlb *s)
{
    if (!s->ok) {
        hub_buf_free(&s->b);
        return NULL;
    }
    return s->b.data;
}

static void measure_list(sqlb *s, const char *wrap)
{
    for (int i = 0; i < HUB_RU_NM; i++) {
        if (wrap != NULL)
            put(s, "%s%s(%s)", i ? ", " : "", wrap, hub_ru_measure[i]);
        else
            put(s, "%s%s", i ? ", " : "", hub_ru_measure[i]);
    }
}

/* INSERT INTO table (cols, measures) SELECT sel, [SUM](measures) FROM the batch [GROUP BY
 * grp] ON DUPLICATE KEY UPDATE m = m + VALUES(m), … */
static char *build_upsert(const char *table, const char *cols, const char *sel, const char *grp)
{
    sqlb s = {.ok = true};
    hub_buf_init(&s.b, 0);
    put(&s, "INSERT INTO %s (%s, ", table, cols);
    measure_list(&s, NULL);
    put(&s, ") SELECT %s, ", sel);
    measure_list(&s, grp != NULL ? "SUM" : NULL);
    put(&s, " FROM hub_rollup_batch");
    if (grp != NULL)
        put(&s, " GROUP BY %s", grp);
    put(&s, " ON DUPLICATE KEY UPDATE ");
    for (int i = 0; i < HUB_RU_NM; i++)
        put(&s, "%s%s.%s = %s.%s + VALUES(%s)", i ? ", " : "", table, hub_ru_measure[i], table,
            hub_ru_measure[i], hub_ru_measure[i]);
    return finish(&s);
}

static char *build_batch(void)
{
    sqlb s = {.ok = true};
    hub_buf_init(&s.b, 0);
    put(&s, "INSERT INTO hub_rollup_batch (ts_hour, %s, ", DIMS);
    measure_list(&s, NULL);
    put(&s, "%s",
        ") SELECT DATE_FORMAT(l.ts, '%Y-%m-%d %H:00:00'), COALESCE(l.user_id, 0), "
        "COALESCE(l.team_id, 0), COALESCE(l.key_id, 0), COALESCE(l.app, ''), "
        "l.provider, l.model");
    for (int i = 0; i < HUB_RU_LAT_HIST; i++)
        put(&s, ", %s", LEDGER_EXPR[i]);
    for (int h = 0; h < 2; h++) {
        for (int k = 0; k < HUB_RU_NHIST; k++)
            put(&s, ", SUM(l.%s = %d)", h == 0 ? "lb" : "tb", k);
    }
    /* the bucket of each latency and ttfb, computed once per row (NULL stays NULL) */
    put(&s, " FROM hub_rollup_keys k STRAIGHT_JOIN (SELECT *");
    for (int h = 0; h < 2; h++) {
        put(&s, ", INTERVAL(%s", h == 0 ? "latency_ms" : "ttfb_ms");
        for (int j = 0; j < HUB_RU_NHIST - 1; j++)
            put(&s, ", %d", hub_ru_hist_upper[j]);
        put(&s, ") AS %s", h == 0 ? "lb" : "tb");
    }
    put(&s, " FROM usage_log) l ON l.request_id = k.request_id AND l.attempt = k.attempt "
            "GROUP BY 1, 2, 3, 4, 5, 6, 7");
    return finish(&s);
}

static void build_all(void)
{
    static const struct {
        const char *table, *cols; /* the hourly table's key columns after ts_hour */
    } FAMILIES[] = {
        {"usage_hourly", DIMS},
        {"usage_hourly_key", "key_id, user_id, team_id, app"},
        {"usage_hourly_team", "team_id"},
        {"usage_hourly_model", "provider, model"},
        {"usage_hourly_team_model", "team_id, provider, model"},
    };
    char cols[160], sel[160], daily[96];
    sql_batch = build_batch();
    for (int i = 0; i < NUPSERT / 2; i++) {
        const char *keys = FAMILIES[i].cols;
        snprintf(cols, sizeof(cols), "ts_hour, %s", keys);
        /* the full family has the batch's own key: no grouping */
        sql_upsert[2 * i] = build_upsert(FAMILIES[i].table, cols, cols, i == 0 ? NULL : cols);
        snprintf(daily, sizeof(daily), "usage_daily%s", FAMILIES[i].table + strlen("usage_hourly"));
        snprintf(cols, sizeof(cols), "ts_day, %s", keys);
        snprintf(sel, sizeof(sel), "DATE(ts_hour), %s", keys);
        sql_upsert[2 * i + 1] = build_upsert(daily, cols, sel, sel);
    }
}

static bool collect(hub_db *db, const char *sql, const hub_dbp *p, int np, long *rows)
{
    long long n = 0;
    if (!hub_db_exec(db, sql, p, np, NULL, &n, NULL))
        return false;
    *rows += (long)n;
    return true;
}

bool hub_rollup_step(hub_db *db, int batch, int stale_seconds, hub_rollup_result *out)
{
    bool rc = false, in_tx = false;
    hub_dbres lock = {0};
    long long t0 = hub_now_ms();
    long rows = 0, fixes = 0;

    memset(out, 0, sizeof(*out));
    pthread_once(&sql_once, build_all);
    for (int i = 0; i < NUPSERT; i++) {
        if (sql_upsert[i] == NULL)
            goto end;
    }
    if (sql_batch == NULL)
        goto end;
    if (batch < 1 || batch > HUB_ROLLUP_BATCH_MAX)
        batch = batch < 1 ? HUB_ROLLUP_BATCH : HUB_ROLLUP_BATCH_MAX;
    hub_dbp pa[1] = {DB_INT(stale_seconds)};
    hub_dbres any = {0};
    if (!hub_db_exec(db, SQL_ANY, pa, 1, &any, NULL, NULL))
        goto end;
    bool work = hub_dbres_int(&any, 0, 0, 1) != 0;
    hub_dbres_free(&any);
    if (!work) {
        rc = true; /* idle: the common case of a gateway's tick costs one query */
        goto end;
    }
    if (!hub_db_query(db, SQL_TMP_BATCH) || !hub_db_query(db, SQL_TMP_KEYS) ||
        !hub_db_query(db, SQL_ISOLATION) || !hub_db_query(db, "START TRANSACTION"))
        goto end;
    in_tx = true;
    if (!hub_db_exec(db, SQL_LOCK, NULL, 0, &lock, NULL, NULL))
        goto end;
    if (lock.nrows == 0) {
        out->busy = true; /* another roller is at work (or the state row is missing) */
        rc = true;
        goto end;
    }
    hub_dbp pb[1] = {DB_INT(batch)};
    hub_dbp ps[2] = {DB_INT(stale_seconds), DB_INT(batch)};
    if (!hub_db_exec(db, SQL_CLEAR_KEYS, NULL, 0, NULL, NULL, NULL) ||
        !collect(db, SQL_KEYS_FINAL, pb, 1, &rows) || !collect(db, SQL_KEYS_FIX, pb, 1, &fixes) ||
        !collect(db, SQL_KEYS_STALE, ps, 2, &rows))
        goto end;
    if (rows + fixes == 0) {
        rc = true; /* nothing to add: the ROLLBACK below ends the empty transaction */
        goto end;
    }
    hub_dbp pr[1] = {DB_INT(rows)};
    if (!hub_db_exec(db, SQL_CLEAR_BATCH, NULL, 0, NULL, NULL, NULL) ||
        !hub_db_exec(db, sql_batch, NULL, 0, NULL, NULL, NULL))
        goto end;
    for (int i = 0; i < NUPSERT; i++) {
        if (!hub_db_exec(db, sql_upsert[i], NULL, 0, NULL, NULL, NULL))
            goto end;
    }
    if (!hub_db_exec(db, SQL_DONE, NULL, 0, NULL, NULL, NULL) ||
        !hub_db_exec(db, SQL_STATE, pr, 1, NULL, NULL, NULL))
        goto end;
    in_tx = false;
    if (!hub_db_query(db, "COMMIT"))
        goto end;
    out->rows = rows + fixes;
    rc = true;
end:
    if (!rc)
        snprintf(out->err, sizeof(out->err), "%s",
                 hub_db_error(db)[0] ? hub_db_error(db) : "out of memory");
    if (in_tx)
        hub_db_query(db, "ROLLBACK");
    hub_dbres_free(&lock);
    out->ms = hub_now_ms() - t0;
    return rc;
}

bool hub_rollup_retention_batch(hub_db *db, int days, int batch, long *deleted)
{
    if (!hub_db_delete_old(db, SQL_RETENTION, days, batch, deleted))
        return false;
    hub_dbp q[1] = {DB_INT(*deleted)};
    if (*deleted > 0 && !hub_db_exec(db, SQL_RETENTION_STATE, q, 1, NULL, NULL, NULL))
        return false;
    return true;
}

#define RETENTION_EVERY_MS (10LL * 60 * 1000)

void hub_rollup_tick(hub_rollup_ticker *t, hub_db *db, const hub_config *cfg)
{
    hub_rollup_result r;
    long long now = hub_now_ms();
    bool ok = hub_rollup_step(db, HUB_ROLLUP_BATCH, HUB_ROLLUP_STALE_SECONDS, &r);
    if (ok && r.rows > 0)
        HUB_DEBUG("rollup: %ld ledger rows added in %lld ms", r.rows, r.ms);
    if (ok && cfg->usage_retention_days > 0 && r.rows < HUB_ROLLUP_BATCH &&
        (t->retention_more || now >= t->next_retention_ms)) {
        long deleted = 0;
        ok = hub_rollup_retention_batch(db, cfg->usage_retention_days, HUB_RETENTION_BATCH,
                                        &deleted);
        t->retention_more = ok && deleted >= HUB_RETENTION_BATCH;
        if (!t->retention_more)
            t->next_retention_ms = now + RETENTION_EVERY_MS;
        if (deleted > 0)
            HUB_INFO("retention: removed %ld ledger rows older than %d days (rollups kept)",
                     deleted, cfg->usage_retention_days);
    }
    if (!ok && now - t->last_error_log_ms >= 60000) {
        t->last_error_log_ms = now;
        HUB_WARN("rollup: %s (the step is retried on the next drain)",
                 r.err[0] ? r.err : hub_db_error(db));
    }
}
