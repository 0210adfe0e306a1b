/*
 * hub_db.c — MariaDB Connector/C through prepared statements (see hub_db.h).
 */
#include "hub_db.h"

#include "hub_log.h"

#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STMT_CACHE 48

struct hub_db {
    const hub_config *cfg; /* borrowed */
    MYSQL *m;              /* owned, NULL when disconnected */
    struct {
        const char *sql; /* borrowed literal: the cache key */
        MYSQL_STMT *st;  /* owned */
    } cache[STMT_CACHE];
    int ncache;
    char err[256];
    bool down;
    bool in_tx;            /* between START TRANSACTION and COMMIT/ROLLBACK */
    bool tx_broken;        /* the connection was lost inside that transaction */
    long long retry_at_ms; /* after a failed connect, fail fast until then */
};

#define RECONNECT_BACKOFF_MS 500

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

hub_db *hub_db_new(const hub_config *cfg)
{
    hub_db *db = calloc(1, sizeof(*db));
    if (db != NULL)
        db->cfg = cfg;
    return db;
}

static void drop(hub_db *db)
{
    if (db->in_tx)
        db->tx_broken = true; /* what the transaction wrote is gone with the connection */
    for (int i = 0; i < db->ncache; i++)
        mysql_stmt_close(db->cache[i].st);
    db->ncache = 0;
    if (db->m != NULL)
        mysql_close(db->m);
    db->m = NULL;
}

void hub_db_free(hub_db *db)
{
    if (db == NULL)
        return;
    drop(db);
    free(db);
}

const char *hub_db_error(const hub_db *db)
{
    return db->err;
}

bool hub_db_was_down(const hub_db *db)
{
    return db->down;
}

MYSQL *hub_db_conn(hub_db *db)
{
    return db->m;
}

static bool is_conn_error(unsigned int e)
{
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_CONNECTION_ERROR ||
           e == CR_CONN_HOST_ERROR || e == CR_SERVER_LOST_EXTENDED || e == 1927 /* killed */ ||
           e == 1053 /* shutdown in progress */ || e == CR_COMMANDS_OUT_OF_SYNC;
}

bool hub_db_ensure(hub_db *db)
{
    bool rc = false;
    if (db->m != NULL)
        return true;
    db->down = false;
    if (now_ms() < db->retry_at_ms) {
        /* the server was unreachable a moment ago: do not stall every request on it */
        db->down = true;
        if (db->err[0] == '\0')
            snprintf(db->err, sizeof(db->err), "MariaDB unreachable (retrying shortly)");
        goto end;
    }
    db->m = mysql_init(NULL);
    if (db->m == NULL) {
        snprintf(db->err, sizeof(db->err), "out of memory");
        goto end;
    }
    unsigned int ct = 2, rt = 30, wt = 30;
    my_bool off = 0;
    mysql_optionsv(db->m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_optionsv(db->m, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_optionsv(db->m, MYSQL_OPT_WRITE_TIMEOUT, &wt);
    mysql_optionsv(db->m, MYSQL_OPT_RECONNECT, &off);
    mysql_optionsv(db->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* every DATETIME hub writes or compares is UTC */
    mysql_optionsv(db->m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    const hub_config *c = db->cfg;
    const char *sock = c->db_socket[0] ? c->db_socket : NULL;
    if (mysql_real_connect(db->m, sock ? NULL : c->db_host, c->db_user,
                           c->db_password[0] ? c->db_password : NULL, c->db_name,
                           (unsigned)c->db_port, sock, CLIENT_MULTI_STATEMENTS) == NULL) {
        snprintf(db->err, sizeof(db->err), "cannot connect to MariaDB: %s", mysql_error(db->m));
        db->down = true;
        db->retry_at_ms = now_ms() + RECONNECT_BACKOFF_MS;
        mysql_close(db->m);
        db->m = NULL;
        goto end;
    }
    db->retry_at_ms = 0;
    rc = true;
end:
    return rc;
}

static MYSQL_STMT *prepared(hub_db *db, const char *sql)
{
    for (int i = 0; i < db->ncache; i++) {
        if (db->cache[i].sql == sql)
            return db->cache[i].st;
    }
    MYSQL_STMT *st = mysql_stmt_init(db->m);
    if (st == NULL)
        return NULL;
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        snprintf(db->err, sizeof(db->err), "prepare failed: %s", mysql_stmt_error(st));
        db->down = is_conn_error(mysql_stmt_errno(st));
        mysql_stmt_close(st);
        return NULL;
    }
    my_bool one = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &one);
    if (db->ncache == STMT_CACHE) {
        mysql_stmt_close(db->cache[0].st);
        memmove(&db->cache[0], &db->cache[1], sizeof(db->cache[0]) * (STMT_CACHE - 1));
        db->ncache--;
    }
    db->cache[db->ncache].sql = sql;
    db->cache[db->ncache].st = st;
    db->ncache++;
    return st;
}

static bool fetch_all(hub_db *db, MYSQL_STMT *st, hub_dbres *res)
{
    bool rc = false;
    MYSQL_RES *meta = NULL;
    MYSQL_BIND *b = NULL;
    unsigned long *lens = NULL;
    my_bool *nulls = NULL;
    size_t cap = 0;

    memset(res, 0, sizeof(*res));
    if (mysql_stmt_store_result(st) != 0)
        goto end;
    meta = mysql_stmt_result_metadata(st);
    if (meta == NULL) {
        rc = true;
        goto end;
    }
    int nc = (int)mysql_num_fields(meta);
    MYSQL_FIELD *f = mysql_fetch_fields(meta);
    b = calloc((size_t)nc, sizeof(*b));
    lens = calloc((size_t)nc, sizeof(*lens));
    nulls = calloc((size_t)nc, sizeof(*nulls));
    if (b == NULL || lens == NULL || nulls == NULL)
        goto end;
    for (int i = 0; i < nc; i++) {
        size_t sz = f[i].max_length + 1;
        b[i].buffer_type = MYSQL_TYPE_STRING;
        b[i].buffer = malloc(sz);
        b[i].buffer_length = (unsigned long)sz;
        b[i].length = &lens[i];
        b[i].is_null = &nulls[i];
        if (b[i].buffer == NULL)
            goto end;
    }
    if (mysql_stmt_bind_result(st, b) != 0)
        goto end;
    res->ncols = nc;
    for (;;) {
        int r = mysql_stmt_fetch(st);
        if (r == MYSQL_NO_DATA)
            break;
        if (r == 1)
            goto end;
        if ((size_t)(res->nrows + 1) * (size_t)nc > cap) {
            size_t ncap = cap ? cap * 2 : (size_t)nc * 8;
            char **nc2 = realloc(res->cells, ncap * sizeof(char *));
            if (nc2 == NULL)
                goto end;
            res->cells = nc2;
            size_t *nl = realloc(res->lens, ncap * sizeof(size_t));
            if (nl == NULL)
                goto end;
            res->lens = nl;
            cap = ncap;
        }
        size_t base = (size_t)res->nrows * (size_t)nc;
        for (int i = 0; i < nc; i++) {
            res->cells[base + (size_t)i] = NULL;
            res->lens[base + (size_t)i] = 0;
        }
        res->nrows++;
        for (int i = 0; i < nc; i++) {
            size_t k = base + (size_t)i;
            if (nulls[i])
                continue;
            char *cell = malloc(lens[i] + 1);
            if (cell == NULL)
                goto end;
            memcpy(cell, b[i].buffer, lens[i]);
            cell[lens[i]] = '\0';
            res->cells[k] = cell;
            res->lens[k] = lens[i];
        }
    }
    rc = true;
end:
    if (!rc) {
        snprintf(db->err, sizeof(db->err), "fetch failed: %s", mysql_stmt_error(st));
        hub_dbres_free(res);
    }
    if (b != NULL) {
        for (int i = 0; meta != NULL && i < (int)mysql_num_fields(meta); i++)
            free(b[i].buffer);
    }
    free(b);
    free(lens);
    free(nulls);
    if (meta != NULL)
        mysql_free_result(meta);
    mysql_stmt_free_result(st);
    return rc;
}

static bool exec_once(hub_db *db, const char *sql, const hub_dbp *params, int nparams,
                      hub_dbres *res, long long *affected, long long *insert_id)
{
    bool rc = false;
    MYSQL_BIND *b = NULL;
    MYSQL_STMT *st = NULL;
    if (!hub_db_ensure(db))
        goto end;
    st = prepared(db, sql);
    if (st == NULL) {
        if (db->err[0] == '\0')
            snprintf(db->err, sizeof(db->err), "out of memory");
        goto end;
    }
    if ((int)mysql_stmt_param_count(st) != nparams) {
        snprintf(db->err, sizeof(db->err), "statement expects %lu parameters, got %d",
                 mysql_stmt_param_count(st), nparams);
        goto end;
    }
    if (nparams > 0) {
        b = calloc((size_t)nparams, sizeof(*b));
        if (b == NULL)
            goto end;
        for (int i = 0; i < nparams; i++) {
            switch (params[i].t) {
            case HUB_DBP_NULL:
                b[i].buffer_type = MYSQL_TYPE_NULL;
                break;
            case HUB_DBP_STR:
                b[i].buffer_type = MYSQL_TYPE_STRING;
                b[i].buffer = (void *)params[i].s;
                b[i].buffer_length = (unsigned long)params[i].len;
                break;
            case HUB_DBP_BLOB:
                b[i].buffer_type = MYSQL_TYPE_BLOB;
                b[i].buffer = (void *)params[i].s;
                b[i].buffer_length = (unsigned long)params[i].len;
                break;
            case HUB_DBP_INT:
                b[i].buffer_type = MYSQL_TYPE_LONGLONG;
                b[i].buffer = (void *)&params[i].i;
                break;
            }
        }
        if (mysql_stmt_bind_param(st, b) != 0)
            goto fail;
    }
    if (mysql_stmt_execute(st) != 0)
        goto fail;
    if (affected != NULL)
        *affected = (long long)mysql_stmt_affected_rows(st);
    if (insert_id != NULL)
        *insert_id = (long long)mysql_stmt_insert_id(st);
    if (res != NULL) {
        if (!fetch_all(db, st, res))
            goto fail;
    } else {
        mysql_stmt_free_result(st);
    }
    rc = true;
    goto end;
fail:
    snprintf(db->err, sizeof(db->err), "statement failed: %s", mysql_stmt_error(st));
    db->down = is_conn_error(mysql_stmt_errno(st));
end:
    if (!rc && db->m != NULL && (db->down || mysql_errno(db->m) != 0)) {
        if (db->down || is_conn_error(mysql_errno(db->m)))
            drop(db);
    }
    free(b);
    return rc;
}

bool hub_db_exec(hub_db *db, const char *sql, const hub_dbp *params, int nparams, hub_dbres *res,
                 long long *affected, long long *insert_id)
{
    db->err[0] = '\0';
    db->down = false;
    bool was_connected = db->m != NULL;
    if (exec_once(db, sql, params, nparams, res, affected, insert_id))
        return true;
    /* A connection that died while idle (server restart): reconnect once and retry. Only
     * safe because every write hub makes is idempotent — and never inside a transaction,
     * whose earlier statements died with the old connection. */
    if (was_connected && db->down && db->m == NULL && !db->in_tx)
        return exec_once(db, sql, params, nparams, res, affected, insert_id);
    return false;
}

bool hub_db_delete_old(hub_db *db, const char *sql, int days, int batch, long *deleted)
{
    long long n = 0;
    *deleted = 0;
    if (days < 1 || batch < 1)
        return false;
    hub_dbp p[2] = {DB_INT(days), DB_INT(batch)};
    if (!hub_db_exec(db, sql, p, 2, NULL, &n, NULL))
        return false;
    *deleted = (long)n;
    return true;
}

bool hub_db_query(hub_db *db, const char *sql)
{
    db->err[0] = '\0';
    db->down = false;
    bool begin =
        strncasecmp(sql, "START TRANSACTION", 17) == 0 || strncasecmp(sql, "BEGIN", 5) == 0;
    bool end = strncasecmp(sql, "COMMIT", 6) == 0 || strncasecmp(sql, "ROLLBACK", 8) == 0;
    if (end && db->in_tx) {
        bool broken = db->tx_broken;
        db->in_tx = false;
        db->tx_broken = false;
        if (broken) {
            snprintf(db->err, sizeof(db->err), "connection lost inside the transaction");
            if (db->m != NULL && strncasecmp(sql, "COMMIT", 6) == 0)
                mysql_query(db->m, "ROLLBACK"); /* whatever ran after the reconnect */
            return false;
        }
    }
    if (begin) {
        db->in_tx = false; /* set again below once the server has started it */
        db->tx_broken = false;
    }
    if (!hub_db_ensure(db))
        return false;
    if (mysql_query(db->m, sql) != 0) {
        snprintf(db->err, sizeof(db->err), "query failed: %s", mysql_error(db->m));
        if (is_conn_error(mysql_errno(db->m))) {
            db->down = true;
            drop(db);
        }
        return false;
    }
    /* consume every result of a multi-statement script */
    do {
        MYSQL_RES *r = mysql_store_result(db->m);
        if (r != NULL)
            mysql_free_result(r);
    } while (mysql_next_result(db->m) == 0);
    if (mysql_errno(db->m) != 0) {
        snprintf(db->err, sizeof(db->err), "query failed: %s", mysql_error(db->m));
        return false;
    }
    if (begin)
        db->in_tx = true;
    return true;
}

const char *hub_dbres_get(const hub_dbres *r, int row, int col)
{
    if (r == NULL || row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
        return NULL;
    return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}

long long hub_dbres_int(const hub_dbres *r, int row, int col, long long dflt)
{
    const char *s = hub_dbres_get(r, row, col);
    if (s == NULL)
        return dflt;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s)
        return dflt;
    return v;
}

void hub_dbres_free(hub_dbres *r)
{
    if (r == NULL)
        return;
    if (r->cells != NULL) {
        for (size_t i = 0; i < (size_t)r->nrows * (size_t)r->ncols; i++)
            free(r->cells[i]);
    }
    free(r->cells);
    free(r->lens);
    memset(r, 0, sizeof(*r));
}
