/*
 * hub_limits.h — monthly budgets and RPM / TPM limits of API keys, users and teams: the SQL
 * behind them, shared by the gateway (admission and settlement), hubctl and the pages.
 *
 * Admission is one conditional UPDATE per scope and counter (schema/006_limits.sql):
 *   budget  UPDATE budget_usage SET reserved += est WHERE spent + reserved + est <= budget
 *   rate    UPDATE rate_usage SET requests += 1, tokens += est
 *           WHERE requests + 1 <= rpm AND tokens + est <= tpm
 * An UPDATE that matches no row refused the request; nothing is read first, so concurrent
 * requests on any number of gateways cannot overshoot. The rows must exist (the *_ensure
 * calls, once per scope and month or minute). Settlement moves the reservation to spent with
 * the actual cost. Rate windows are fixed UTC minutes.
 *
 * Nothing here prints. Functions return false on a database error (hub_db_error says why).
 */
#ifndef HUB_LIMITS_H
#define HUB_LIMITS_H

#include "hub_audit.h"
#include "hub_db.h"
#include "hub_error.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum { HUB_SCOPE_KEY = 0, HUB_SCOPE_USER = 1, HUB_SCOPE_TEAM = 2 } hub_scope;
#define HUB_NSCOPES 3

/* Highest values accepted for the limits. */
#define HUB_LIMIT_BUDGET_MAX (1000000000LL * 1000000LL) /* $1e9 in micro-USD */
#define HUB_LIMIT_RPM_MAX    10000000LL
#define HUB_LIMIT_TPM_MAX    1000000000LL

/* "key", "user", "team". */
const char *hub_scope_name(hub_scope s);
/* Parses "key", "user", "team". */
bool hub_scope_parse(const char *s, hub_scope *out);

/* What an admin set on one scope; -1 = no such limit. */
typedef struct {
    hub_scope scope;
    long long id;
    long long budget_micro; /* per UTC calendar month */
    long long rpm;
    long long tpm;
    char name[129]; /* the key's, user's or team's name ("" when it no longer exists) */
} hub_limit;

/* Every row of the limits table, sorted by (scope, id). */
typedef struct {
    hub_limit *v; /* owned */
    int n;
} hub_limits;

/* Loads every limit with its scope's name. false on a database error (out untouched). */
bool hub_limits_load(hub_db *db, hub_limits *out);
void hub_limits_free(hub_limits *l);
/* Binary search; NULL when the scope has no limits. */
const hub_limit *hub_limits_find(const hub_limits *l, hub_scope s, long long id);

/* The UTC month of ms as a DATE ("YYYY-MM-01") and the UTC minute as a DATETIME
 * ("YYYY-MM-DD HH:MM:00"). */
void hub_limits_month(long long ms, char out[11]);
void hub_limits_minute(long long ms, char out[20]);

/* ---- budgets -------------------------------------------------------------------------- */

/* Creates the budget row of (scope, id, month) when missing, its spent taken from the usage
 * ledger of that month (so spend before the budget was set counts). *created: this call
 * inserted it (in the caller's transaction, if one is open). */
bool hub_budget_ensure(hub_db *db, hub_scope s, long long id, const char *month, bool *created);
/*
 * Reserves amount (≥ 0) of budget: *ok when spent + reserved + max(amount, 1) ≤ budget (so an
 * exhausted budget admits nothing, even a request estimated at 0). A reservation older than
 * stale_s seconds with no newer one means nothing is in flight any more (a gateway died
 * between reserve and settle): it is dropped. *ok false also when the row does not exist.
 */
bool hub_budget_reserve(hub_db *db, hub_scope s, long long id, const char *month, long long amount,
                        long long budget, long stale_s, bool *ok);
/* Settles a reservation: reserved -= reserved_amount, spent += actual. *spent_after gets the
 * month's new spent (-1 when the row is gone). */
bool hub_budget_settle(hub_db *db, hub_scope s, long long id, const char *month,
                       long long reserved_amount, long long actual, long long *spent_after);
/* Sets the 80 or 100 % alert stamp of the month once; *first when this call set it. */
bool hub_budget_flag(hub_db *db, hub_scope s, long long id, const char *month, int pct,
                     bool *first);

/* ---- rate limits ---------------------------------------------------------------------- */

/* Creates the counter row of (scope, id, window) when missing; *created as above. */
bool hub_rate_ensure(hub_db *db, hub_scope s, long long id, const char *window, bool *created);
/*
 * Counts one request of tokens (estimate) when requests + 1 ≤ rpm and tokens + n ≤ tpm
 * (-1: no such limit). *ok; when admitted *req_after / *tok_after get the window's counts.
 */
bool hub_rate_take(hub_db *db, hub_scope s, long long id, const char *window, long long tokens,
                   long long rpm, long long tpm, bool *ok, long long *req_after,
                   long long *tok_after);
/* Adds dreq requests and dtok tokens (negative: gives back; never below 0). */
bool hub_rate_adjust(hub_db *db, hub_scope s, long long id, const char *window, long long dreq,
                     long long dtok);
/* The window's counts (0, 0 when there is no row). */
bool hub_rate_read(hub_db *db, hub_scope s, long long id, const char *window, long long *req,
                   long long *tok);
/* Deletes counter rows of windows before the given one (at most 10000 a call). */
bool hub_rate_purge(hub_db *db, const char *before_window);

/* ---- administration (hubctl, pages) --------------------------------------------------- */

/* The id of the key, user or team named name: HUB_OK, HUB_ENOTFOUND or HUB_EDB. */
hub_err hub_limits_scope_id(hub_db *db, hub_scope s, const char *name, long long *id);
/* The scope's limit row (locked FOR UPDATE when lock, inside a transaction) into *cur (name
 * not filled); *found false when there is none. */
bool hub_limits_get(hub_db *db, hub_scope s, long long id, bool lock, hub_limit *cur, bool *found);
/* Inserts or replaces the row of l (all three values as given; at least one ≥ 0), by = the
 * actor. When l adds a budget where there was none, the month's budget row starts from the
 * ledger's spend (hub_budget_ensure, and re-read if it existed). Inside the caller's
 * transaction. */
bool hub_limits_put(hub_db *db, const hub_limit *l, bool had_budget, const char *by);
/* Deletes the scope's row (its usage history stays). *deleted. */
bool hub_limits_delete(hub_db *db, hub_scope s, long long id, bool *deleted);

/*
 * Parses a limit value typed by an admin: "none" (or "" when empty_is_none) → -1; budgets as
 * USD ("25", "0.50", at most 6 decimals) into micro-USD; rpm / tpm as whole numbers. NULL when
 * fine, else a static message.
 */
const char *hub_limits_parse(const char *what, const char *s, bool empty_is_none, long long *out);
/* The limit's values as audit JSON members (budget_usd, rpm, tpm; null when none). */
void hub_limits_jobj(hub_jobj *j, const hub_limit *l);

/* One line of the report: the limit, this month's budget counters and alert stamps. */
typedef struct {
    hub_limit l;
    long long spent_micro, reserved_micro; /* -1 when the month has no row yet */
    bool alert80, alert100;
    long long req_now, tok_now; /* counts of the current minute */
} hub_limit_row;

/* Every limit (of scope s, or all when s < 0), with the counters of month and window. *rows
 * owned by the caller (free). */
bool hub_limits_report(hub_db *db, int s, const char *month, const char *window,
                       hub_limit_row **rows, int *n);

#endif
