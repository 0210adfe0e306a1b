/*
 * hub_db.h — MariaDB access through prepared statements only.
 *
 * A hub_db is one connection plus a cache of prepared statements keyed by the SQL
 * text's address (callers pass string literals), so every statement is prepared once
 * per connection and reused. A hub_db belongs to one thread. On a lost connection the
 * handle drops its statements and reconnects on the next call (never auto-reconnect in
 * the middle of a statement); writes must therefore be idempotent.
 *
 * Parameters are passed as an array of hub_dbp; results come back as strings (NULL for
 * SQL NULL) with lengths, so BLOB columns are byte-exact.
 */
#ifndef HUB_DB_H
#define HUB_DB_H

#include "hub_config.h"
#include "hub_error.h"

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef enum { HUB_DBP_NULL, HUB_DBP_STR, HUB_DBP_INT, HUB_DBP_BLOB } hub_dbp_type;

typedef struct {
    hub_dbp_type t;
    const char *s; /* STR / BLOB, borrowed */
    size_t len;
    long long i;
} hub_dbp;

/* A string parameter; NULL becomes SQL NULL. (A function, so arrays pass without warnings.) */
static inline hub_dbp hub_dbp_str(const char *x)
{
    hub_dbp p = {.t = x ? HUB_DBP_STR : HUB_DBP_NULL, .s = x, .len = x ? strlen(x) : 0};
    return p;
}
#define DB_STR(x)     hub_dbp_str(x)
#define DB_BLOB(p, n) ((hub_dbp){.t = HUB_DBP_BLOB, .s = (const char *)(p), .len = (n)})
#define DB_INT(x)     ((hub_dbp){.t = HUB_DBP_INT, .i = (long long)(x)})
#define DB_NULL       ((hub_dbp){.t = HUB_DBP_NULL})

typedef struct {
    int ncols;
    int nrows;
    char **cells; /* nrows * ncols, owned; NULL entry = SQL NULL */
    size_t *lens; /* byte lengths, same shape */
} hub_dbres;

typedef struct hub_db hub_db;

/* Creates a handle (does not connect yet). cfg is borrowed and must outlive the handle. */
hub_db *hub_db_new(const hub_config *cfg);
void hub_db_free(hub_db *db);
/* Connects if needed. false + message when the server cannot be reached. */
bool hub_db_ensure(hub_db *db);
/* The last error message (client-safe: no parameters echoed). Borrowed. */
const char *hub_db_error(const hub_db *db);
/* True when the last failure was a lost/unreachable server (vs. a statement error). */
bool hub_db_was_down(const hub_db *db);
/* The raw connection for transactions and multi-statement scripts (may be NULL). */
MYSQL *hub_db_conn(hub_db *db);

/*
 * Runs a statement. res may be NULL for statements without a result set.
 * *affected (may be NULL) gets affected rows; *insert_id (may be NULL) the last id.
 */
bool hub_db_exec(hub_db *db, const char *sql, const hub_dbp *params, int nparams, hub_dbres *res,
                 long long *affected, long long *insert_id);

/* Runs a bounded retention statement "DELETE … < … - INTERVAL ? DAY … LIMIT ?" with days and
 * batch (both ≥ 1, else false); *deleted gets the rows it removed. */
bool hub_db_delete_old(hub_db *db, const char *sql, int days, int batch, long *deleted);

/* Plain query without parameters (BEGIN, COMMIT, ROLLBACK, DDL). */
bool hub_db_query(hub_db *db, const char *sql);

const char *hub_dbres_get(const hub_dbres *r, int row, int col);
long long hub_dbres_int(const hub_dbres *r, int row, int col, long long dflt);
void hub_dbres_free(hub_dbres *r);

#endif
