/*
 * hub_limits.c — the SQL of budgets and rate limits (see hub_limits.h).
 *
 * Every statement is a literal chosen by scope from a table (never built from input). The
 * admission UPDATEs report the counters they wrote through LAST_INSERT_ID(expr), which the
 * server returns with the OK packet: the gateway learns the remaining allowance without a
 * second round trip.
 */
#include "hub_limits.h"

#include "hub_log.h"

#include "hub_ops.h"
#include "hub_price.h"
#include "hub_usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NO_RPM  (1LL << 40) /* "no limit" as a bound the counters never reach */
#define NO_TPM  (1LL << 62)
#define PACK    4294967296LL /* requests and tokens share one LAST_INSERT_ID value */
#define TOK_CAP 4294967295LL

static const char *const SCOPES[HUB_NSCOPES] = {"key", "user", "team"};

const char *hub_scope_name(hub_scope s)
{
    return (unsigned)s < HUB_NSCOPES ? SCOPES[s] : "?";
}

bool hub_scope_parse(const char *s, hub_scope *out)
{
    for (int i = 0; s != NULL && i < HUB_NSCOPES; i++) {
        if (strcmp(s, SCOPES[i]) == 0) {
            *out = (hub_scope)i;
            return true;
        }
    }
    return false;
}

/* ---- the limits table ------------------------------------------------------------------ */

#define NAME_JOINS                                                                                 \
    "LEFT JOIN api_keys k ON l.scope_type = 'key' AND k.id = l.scope_id "                          \
    "LEFT JOIN users u ON l.scope_type = 'user' AND u.id = l.scope_id "                            \
    "LEFT JOIN teams t ON l.scope_type = 'team' AND t.id = l.scope_id "

static const char SQL_LOAD[] = "SELECT l.scope_type, l.scope_id, l.budget_micro, l.rpm, l.tpm, "
                               "COALESCE(k.name, u.name, t.name, '') FROM limits l " NAME_JOINS;

static int cmp_limit(const void *a, const void *b)
{
    const hub_limit *x = a, *y = b;
    if (x->scope != y->scope)
        return x->scope < y->scope ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Fills l from columns col.. of row i: type, id, budget, rpm, tpm, name. false for a row of an
 * unknown scope type. */
static bool row_limit(const hub_dbres *r, int i, int col, hub_limit *l)
{
    memset(l, 0, sizeof(*l));
    if (!hub_scope_parse(hub_dbres_get(r, i, col), &l->scope))
        return false;
    l->id = hub_dbres_int(r, i, col + 1, 0);
    l->budget_micro = hub_dbres_int(r, i, col + 2, -1);
    l->rpm = hub_dbres_int(r, i, col + 3, -1);
    l->tpm = hub_dbres_int(r, i, col + 4, -1);
    const char *name = hub_dbres_get(r, i, col + 5);
    snprintf(l->name, sizeof(l->name), "%s", name != NULL ? name : "");
    return true;
}

bool hub_limits_load(hub_db *db, hub_limits *out)
{
    hub_dbres r;
    if (!hub_db_exec(db, SQL_LOAD, NULL, 0, &r, NULL, NULL))
        return false;
    hub_limits l = {.v = NULL, .n = 0};
    if (r.nrows > 0) {
        l.v = calloc((size_t)r.nrows, sizeof(*l.v));
        if (l.v == NULL) {
            hub_dbres_free(&r);
            return false;
        }
    }
    for (int i = 0; i < r.nrows; i++) {
        if (row_limit(&r, i, 0, &l.v[l.n]))
            l.n++;
    }
    hub_dbres_free(&r);
    if (l.n > 1)
        qsort(l.v, (size_t)l.n, sizeof(*l.v), cmp_limit);
    *out = l;
    return true;
}

void hub_limits_free(hub_limits *l)
{
    if (l == NULL)
        return;
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

const hub_limit *hub_limits_find(const hub_limits *l, hub_scope s, long long id)
{
    if (l == NULL || l->n == 0 || id <= 0)
        return NULL;
    hub_limit key = {.scope = s, .id = id};
    return bsearch(&key, l->v, (size_t)l->n, sizeof(*l->v), cmp_limit);
}

void hub_limits_month(long long ms, char out[11])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 11, "%04u-%02u-01", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u);
}

void hub_limits_minute(long long ms, char out[20])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 20, "%04u-%02u-%02u %02u:%02u:00", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u);
}

/* ---- budgets --------------------------------------------------------------------------- */

/* The month's ledger spend of a scope: one statement per scope (the column is not a
 * parameter). The ranges use the ledger's (key_id|user_id|team_id, ts) indexes. */
static const char *const SQL_LEDGER[HUB_NSCOPES] = {
    "SELECT COALESCE(SUM(cost_micro), 0) FROM usage_log WHERE key_id = ? AND ts >= ? "
    "AND ts < DATE_ADD(?, INTERVAL 1 MONTH)",
    "SELECT COALESCE(SUM(cost_micro), 0) FROM usage_log WHERE user_id = ? AND ts >= ? "
    "AND ts < DATE_ADD(?, INTERVAL 1 MONTH)",
    "SELECT COALESCE(SUM(cost_micro), 0) FROM usage_log WHERE team_id = ? AND ts >= ? "
    "AND ts < DATE_ADD(?, INTERVAL 1 MONTH)",
};
static const char SQL_BUDGET_INSERT[] = "INSERT IGNORE INTO budget_usage (scope_type, scope_id, "
                                        "month, spent_micro) VALUES (?, ?, ?, ?)";
static const char SQL_BUDGET_RESYNC[] = "UPDATE budget_usage SET spent_micro = ? "
                                        "WHERE scope_type = ? AND scope_id = ? AND month = ?";
static const char SQL_RESERVE[] =
    "UPDATE budget_usage SET "
    "reserved_micro = IF(reserved_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 0, reserved_micro) "
    "+ ?, reserved_at = UTC_TIMESTAMP(3) "
    "WHERE scope_type = ? AND scope_id = ? AND month = ? AND spent_micro + "
    "IF(reserved_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 0, reserved_micro) + GREATEST(?, 1) "
    "<= ?";
static const char SQL_SETTLE[] =
    "UPDATE budget_usage SET spent_micro = LAST_INSERT_ID(spent_micro + ?), "
    "reserved_micro = GREATEST(reserved_micro - ?, 0) "
    "WHERE scope_type = ? AND scope_id = ? AND month = ?";
static const char SQL_SPENT[] = "SELECT spent_micro FROM budget_usage "
                                "WHERE scope_type = ? AND scope_id = ? AND month = ?";
static const char SQL_FLAG80[] = "UPDATE budget_usage SET alert80_at = UTC_TIMESTAMP(3) "
                                 "WHERE scope_type = ? AND scope_id = ? AND month = ? "
                                 "AND alert80_at IS NULL";
static const char SQL_OUTBOX[] = "INSERT IGNORE INTO alert_outbox (scope_type, scope_id, month, "
                                 "pct) VALUES (?, ?, ?, ?)";
static const char SQL_FLAG100[] = "UPDATE budget_usage SET alert100_at = UTC_TIMESTAMP(3) "
                                  "WHERE scope_type = ? AND scope_id = ? AND month = ? "
                                  "AND alert100_at IS NULL";

static bool ledger_spend(hub_db *db, hub_scope s, long long id, const char *month, long long *spent)
{
    hub_dbres r;
    hub_dbp p[3] = {DB_INT(id), DB_STR(month), DB_STR(month)};
    if (!hub_db_exec(db, SQL_LEDGER[s], p, 3, &r, NULL, NULL))
        return false;
    *spent = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    return true;
}

bool hub_budget_ensure(hub_db *db, hub_scope s, long long id, const char *month, bool *created)
{
    long long spent = 0, n = 0;
    hub_dbres r;
    *created = false;
    if ((unsigned)s >= HUB_NSCOPES)
        return false;
    hub_dbp k[3] = {DB_STR(hub_scope_name(s)), DB_INT(id), DB_STR(month)};
    if (!hub_db_exec(db, SQL_SPENT, k, 3, &r, NULL, NULL))
        return false;
    bool exists = r.nrows > 0;
    hub_dbres_free(&r);
    if (exists) /* the ledger sum below is the expensive part: only for a new row */
        return true;
    if (!ledger_spend(db, s, id, month, &spent))
        return false;
    hub_dbp p[4] = {DB_STR(hub_scope_name(s)), DB_INT(id), DB_STR(month), DB_INT(spent)};
    if (!hub_db_exec(db, SQL_BUDGET_INSERT, p, 4, NULL, &n, NULL))
        return false;
    *created = n > 0;
    return true;
}

bool hub_budget_reserve(hub_db *db, hub_scope s, long long id, const char *month, long long amount,
                        long long budget, long stale_s, bool *ok)
{
    long long n = 0;
    *ok = false;
    if (amount < 0)
        amount = 0;
    hub_dbp p[8] = {DB_INT(stale_s), DB_INT(amount), DB_STR(hub_scope_name(s)),
                    DB_INT(id),      DB_STR(month),  DB_INT(stale_s),
                    DB_INT(amount),  DB_INT(budget)};
    if (!hub_db_exec(db, SQL_RESERVE, p, 8, NULL, &n, NULL))
        return false;
    *ok = n > 0;
    return true;
}

bool hub_budget_settle(hub_db *db, hub_scope s, long long id, const char *month,
                       long long reserved_amount, long long actual, long long *spent_after)
{
    long long n = 0, v = 0;
    *spent_after = -1;
    hub_dbp p[5] = {DB_INT(actual < 0 ? 0 : actual),
                    DB_INT(reserved_amount < 0 ? 0 : reserved_amount), DB_STR(hub_scope_name(s)),
                    DB_INT(id), DB_STR(month)};
    if (!hub_db_exec(db, SQL_SETTLE, p, 5, NULL, &n, &v))
        return false;
    if (n > 0 && v > 0) {
        *spent_after = v;
        return true;
    }
    /* nothing changed (or spent is 0): LAST_INSERT_ID is not reliable then; read it */
    hub_dbres r;
    if (!hub_db_exec(db, SQL_SPENT, p + 2, 3, &r, NULL, NULL))
        return false;
    if (r.nrows > 0)
        *spent_after = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    return true;
}

bool hub_budget_flag(hub_db *db, hub_scope s, long long id, const char *month, int pct, bool *first)
{
    long long n = 0;
    *first = false;
    hub_dbp p[4] = {DB_STR(hub_scope_name(s)), DB_INT(id), DB_STR(month),
                    DB_INT(pct >= 100 ? 100 : 80)};
    if (!hub_db_exec(db, pct >= 100 ? SQL_FLAG100 : SQL_FLAG80, p, 3, NULL, &n, NULL))
        return false;
    *first = n > 0;
    /* the mail outbox (hub_alert_mail.h); a failure here loses the mail, never the flag */
    if (*first && !hub_db_exec(db, SQL_OUTBOX, p, 4, NULL, NULL, NULL))
        HUB_WARN_RL("limits: cannot queue the budget alert mail: %s", hub_db_error(db));
    return true;
}

/* ---- rate limits ----------------------------------------------------------------------- */

static const char SQL_RATE_INSERT[] = "INSERT IGNORE INTO rate_usage (scope_type, scope_id, "
                                      "window_start) VALUES (?, ?, ?)";
/* requests is assigned first, from the old requests and tokens under either assignment
 * order (sql_mode SIMULTANEOUS_ASSIGNMENT or not), and carries both new counts out */
static const char SQL_RATE_TAKE[] =
    "UPDATE rate_usage SET requests = LAST_INSERT_ID((requests + 1) * 4294967296 + "
    "LEAST(GREATEST(tokens + ?, 0), 4294967295)) DIV 4294967296, tokens = tokens + ? "
    "WHERE scope_type = ? AND scope_id = ? AND window_start = ? AND requests + 1 <= ? "
    "AND tokens + ? <= ?";
static const char SQL_RATE_ADJUST[] =
    "UPDATE rate_usage SET requests = GREATEST(CAST(requests AS SIGNED) + ?, 0), "
    "tokens = GREATEST(tokens + ?, 0) WHERE scope_type = ? AND scope_id = ? AND window_start = ?";
static const char SQL_RATE_READ[] = "SELECT requests, tokens FROM rate_usage "
                                    "WHERE scope_type = ? AND scope_id = ? AND window_start = ?";
static const char SQL_RATE_PURGE[] = "DELETE FROM rate_usage WHERE window_start < ? LIMIT 10000";

bool hub_rate_ensure(hub_db *db, hub_scope s, long long id, const char *window, bool *created)
{
    long long n = 0;
    hub_dbp p[3] = {DB_STR(hub_scope_name(s)), DB_INT(id), DB_STR(window)};
    *created = false;
    if (!hub_db_exec(db, SQL_RATE_INSERT, p, 3, NULL, &n, NULL))
        return false;
    *created = n > 0;
    return true;
}

bool hub_rate_take(hub_db *db, hub_scope s, long long id, const char *window, long long tokens,
                   long long rpm, long long tpm, bool *ok, long long *req_after,
                   long long *tok_after)
{
    long long n = 0, v = 0;
    *ok = false;
    *req_after = *tok_after = 0;
    if (tokens < 0)
        tokens = 0;
    hub_dbp p[8] = {DB_INT(tokens),
                    DB_INT(tokens),
                    DB_STR(hub_scope_name(s)),
                    DB_INT(id),
                    DB_STR(window),
                    DB_INT(rpm >= 0 ? rpm : NO_RPM),
                    DB_INT(tokens),
                    DB_INT(tpm >= 0 ? tpm : NO_TPM)};
    if (!hub_db_exec(db, SQL_RATE_TAKE, p, 8, NULL, &n, &v))
        return false;
    *ok = n > 0;
    if (*ok) {
        unsigned long long u = (unsigned long long)v;
        *req_after = (long long)(u / (unsigned long long)PACK);
        *tok_after = (long long)(u % (unsigned long long)PACK);
        if (*tok_after == TOK_CAP)
            *tok_after = -1; /* more than the packing holds: unknown */
    }
    return true;
}

bool hub_rate_adjust(hub_db *db, hub_scope s, long long id, const char *window, long long dreq,
                     long long dtok)
{
    hub_dbp p[5] = {DB_INT(dreq), DB_INT(dtok), DB_STR(hub_scope_name(s)), DB_INT(id),
                    DB_STR(window)};
    return hub_db_exec(db, SQL_RATE_ADJUST, p, 5, NULL, NULL, NULL);
}

bool hub_rate_read(hub_db *db, hub_scope s, long long id, const char *window, long long *req,
                   long long *tok)
{
    hub_dbres r;
    hub_dbp p[3] = {DB_STR(hub_scope_name(s)), DB_INT(id), DB_STR(window)};
    *req = *tok = 0;
    if (!hub_db_exec(db, SQL_RATE_READ, p, 3, &r, NULL, NULL))
        return false;
    if (r.nrows > 0) {
        *req = hub_dbres_int(&r, 0, 0, 0);
        *tok = hub_dbres_int(&r, 0, 1, 0);
    }
    hub_dbres_free(&r);
    return true;
}

bool hub_rate_purge(hub_db *db, const char *before_window)
{
    hub_dbp p[1] = {DB_STR(before_window)};
    return hub_db_exec(db, SQL_RATE_PURGE, p, 1, NULL, NULL, NULL);
}

/* ---- administration -------------------------------------------------------------------- */

static const char *const SQL_SCOPE_ID[HUB_NSCOPES] = {
    "SELECT id FROM api_keys WHERE name = ?",
    "SELECT id FROM users WHERE name = ?",
    "SELECT id FROM teams WHERE name = ?",
};
static const char SQL_GET[] = "SELECT scope_type, scope_id, budget_micro, rpm, tpm, '' FROM "
                              "limits WHERE scope_type = ? AND scope_id = ?";
static const char SQL_GET_LOCK[] = "SELECT scope_type, scope_id, budget_micro, rpm, tpm, '' FROM "
                                   "limits WHERE scope_type = ? AND scope_id = ? FOR UPDATE";
static const char SQL_PUT[] =
    "INSERT INTO limits (scope_type, scope_id, budget_micro, rpm, tpm, updated_by) "
    "VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE budget_micro = VALUES(budget_micro), "
    "rpm = VALUES(rpm), tpm = VALUES(tpm), updated_by = VALUES(updated_by), "
    "updated_at = UTC_TIMESTAMP(3)";
static const char SQL_DELETE[] = "DELETE FROM limits WHERE scope_type = ? AND scope_id = ?";

hub_err hub_limits_scope_id(hub_db *db, hub_scope s, const char *name, long long *id)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_STR(name)};
    *id = 0;
    if ((unsigned)s >= HUB_NSCOPES)
        return HUB_EINVAL;
    if (!hub_db_exec(db, SQL_SCOPE_ID[s], p, 1, &r, NULL, NULL))
        return HUB_EDB;
    if (r.nrows > 0)
        *id = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    return *id > 0 ? HUB_OK : HUB_ENOTFOUND;
}

bool hub_limits_get(hub_db *db, hub_scope s, long long id, bool lock, hub_limit *cur, bool *found)
{
    hub_dbres r;
    hub_dbp p[2] = {DB_STR(hub_scope_name(s)), DB_INT(id)};
    *found = false;
    memset(cur, 0, sizeof(*cur));
    cur->scope = s;
    cur->id = id;
    cur->budget_micro = cur->rpm = cur->tpm = -1;
    if (!hub_db_exec(db, lock ? SQL_GET_LOCK : SQL_GET, p, 2, &r, NULL, NULL))
        return false;
    if (r.nrows > 0)
        *found = row_limit(&r, 0, 0, cur);
    hub_dbres_free(&r);
    return true;
}

static hub_dbp opt_int(long long v)
{
    return v >= 0 ? DB_INT(v) : DB_NULL;
}

bool hub_limits_put(hub_db *db, const hub_limit *l, bool had_budget, const char *by)
{
    hub_dbp p[6] = {DB_STR(hub_scope_name(l->scope)),
                    DB_INT(l->id),
                    opt_int(l->budget_micro),
                    opt_int(l->rpm),
                    opt_int(l->tpm),
                    DB_STR(by)};
    if ((unsigned)l->scope >= HUB_NSCOPES || !hub_db_exec(db, SQL_PUT, p, 6, NULL, NULL, NULL))
        return false;
    if (l->budget_micro < 0 || had_budget)
        return true;
    /* a new budget: this month's spend so far counts against it */
    char month[11];
    long long spent = 0, n = 0;
    hub_limits_month(hub_now_ms(), month);
    if (!ledger_spend(db, l->scope, l->id, month, &spent))
        return false;
    hub_dbp q[4] = {DB_STR(hub_scope_name(l->scope)), DB_INT(l->id), DB_STR(month), DB_INT(spent)};
    if (!hub_db_exec(db, SQL_BUDGET_INSERT, q, 4, NULL, &n, NULL))
        return false;
    if (n > 0)
        return true;
    hub_dbp u[4] = {DB_INT(spent), DB_STR(hub_scope_name(l->scope)), DB_INT(l->id), DB_STR(month)};
    return hub_db_exec(db, SQL_BUDGET_RESYNC, u, 4, NULL, NULL, NULL);
}

bool hub_limits_delete(hub_db *db, hub_scope s, long long id, bool *deleted)
{
    long long n = 0;
    hub_dbp p[2] = {DB_STR(hub_scope_name(s)), DB_INT(id)};
    *deleted = false;
    if (!hub_db_exec(db, SQL_DELETE, p, 2, NULL, &n, NULL))
        return false;
    *deleted = n > 0;
    return true;
}

const char *hub_limits_parse(const char *what, const char *s, bool empty_is_none, long long *out)
{
    long v = 0;
    bool budget = strcmp(what, "budget") == 0;
    bool rpm = strcmp(what, "rpm") == 0;
    *out = -1;
    if (s == NULL || (empty_is_none && s[0] == '\0') || strcmp(s, "none") == 0)
        return NULL;
    if (budget) {
        if (s[0] == '$')
            s++;
        if (!hub_price_parse_usd(s, out) || *out > HUB_LIMIT_BUDGET_MAX) {
            *out = -1;
            return "the budget must be a USD amount like 25 or 0.50 (at most 6 decimals), or "
                   "none";
        }
        return NULL;
    }
    if (!hub_int_ok(s, 1, rpm ? (long)HUB_LIMIT_RPM_MAX : (long)HUB_LIMIT_TPM_MAX, &v))
        return rpm ? "rpm must be a whole number of requests per minute from 1 to 10000000, "
                     "or none"
                   : "tpm must be a whole number of tokens per minute from 1 to 1000000000, "
                     "or none";
    *out = v;
    return NULL;
}

void hub_limits_jobj(hub_jobj *j, const hub_limit *l)
{
    char usd[48];
    if (l->budget_micro >= 0) {
        hub_fmt_usd(l->budget_micro, 2, usd, sizeof(usd));
        hub_jobj_str(j, "budget_usd", usd);
    } else {
        hub_jobj_str(j, "budget_usd", NULL);
    }
    if (l->rpm >= 0)
        hub_jobj_int(j, "rpm", l->rpm);
    else
        hub_jobj_raw(j, "rpm", NULL);
    if (l->tpm >= 0)
        hub_jobj_int(j, "tpm", l->tpm);
    else
        hub_jobj_raw(j, "tpm", NULL);
}

static const char SQL_REPORT[] =
    "SELECT l.scope_type, l.scope_id, l.budget_micro, l.rpm, l.tpm, "
    "COALESCE(k.name, u.name, t.name, ''), b.spent_micro, b.reserved_micro, "
    "b.alert80_at IS NOT NULL, b.alert100_at IS NOT NULL, r.requests, r.tokens "
    "FROM limits l " NAME_JOINS
    "LEFT JOIN budget_usage b ON b.scope_type = l.scope_type AND b.scope_id = l.scope_id "
    "AND b.month = ? "
    "LEFT JOIN rate_usage r ON r.scope_type = l.scope_type AND r.scope_id = l.scope_id "
    "AND r.window_start = ? "
    "WHERE (? IS NULL OR l.scope_type = ?) "
    "ORDER BY FIELD(l.scope_type, 'team', 'user', 'key'), COALESCE(k.name, u.name, t.name, ''), "
    "l.scope_id LIMIT 10000";

bool hub_limits_report(hub_db *db, int s, const char *month, const char *window,
                       hub_limit_row **rows, int *n)
{
    hub_dbres r;
    const char *type = s >= 0 && s < HUB_NSCOPES ? SCOPES[s] : NULL;
    hub_dbp p[4] = {DB_STR(month), DB_STR(window), DB_STR(type), DB_STR(type)};
    *rows = NULL;
    *n = 0;
    if (!hub_db_exec(db, SQL_REPORT, p, 4, &r, NULL, NULL))
        return false;
    hub_limit_row *v = calloc((size_t)(r.nrows > 0 ? r.nrows : 1), sizeof(*v));
    if (v == NULL) {
        hub_dbres_free(&r);
        return false;
    }
    int k = 0;
    for (int i = 0; i < r.nrows; i++) {
        if (!row_limit(&r, i, 0, &v[k].l))
            continue;
        v[k].spent_micro = hub_dbres_int(&r, i, 6, -1);
        v[k].reserved_micro = hub_dbres_int(&r, i, 7, -1);
        v[k].alert80 = hub_dbres_int(&r, i, 8, 0) != 0;
        v[k].alert100 = hub_dbres_int(&r, i, 9, 0) != 0;
        v[k].req_now = hub_dbres_int(&r, i, 10, 0);
        v[k].tok_now = hub_dbres_int(&r, i, 11, 0);
        k++;
    }
    hub_dbres_free(&r);
    *rows = v;
    *n = k;
    return true;
}
