/*
 * util_db.c — hubctl's configuration and database helpers.
 *
 * The configuration is read once, on first use (commands such as --help never need it).
 * The database handle is created and connected on first use too. Transactions are those
 * of hub_ops.h on the one connection: because hub_db reconnects by itself after a lost
 * connection (and would then run later statements outside the transaction), hc_tx_begin
 * remembers the server thread id and hc_tx_commit refuses to commit on a different
 * connection.
 */
#include "hubctl.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

bool hc_config(hubctl *h)
{
    char err[768];
    if (h->cfg_loaded)
        return true;
    hub_config_defaults(&h->cfg);
    const char *path = hub_config_path(h->config_arg);
    if (!hub_config_load(&h->cfg, path, err, sizeof(err))) {
        hc_err("config: %s", err);
        return false;
    }
    h->cfg_loaded = true;
    return true;
}

hub_db *hc_db(hubctl *h)
{
    if (!hc_config(h))
        return NULL;
    if (h->db == NULL) {
        h->db = hub_db_new(&h->cfg);
        if (h->db == NULL) {
            hc_err("out of memory");
            return NULL;
        }
    }
    if (!hub_db_ensure(h->db)) {
        hc_err("%s", hub_db_error(h->db));
        return NULL;
    }
    return h->db;
}

bool hc_exec(hubctl *h, const char *sql, const hub_dbp *params, int nparams, hub_dbres *res,
             long long *affected, long long *insert_id)
{
    hub_db *db = hc_db(h);
    if (db == NULL)
        return false;
    if (!hub_db_exec(db, sql, params, nparams, res, affected, insert_id)) {
        hc_err("database error: %s", hub_db_error(db));
        return false;
    }
    return true;
}

bool hc_lookup_id(hubctl *h, const char *sql, const char *name, long long *id)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_STR(name)};
    *id = 0;
    if (!hc_exec(h, sql, p, 1, &r, NULL, NULL))
        return false;
    if (r.nrows > 0)
        *id = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    return true;
}

bool hc_tx_begin(hubctl *h)
{
    hub_db *db = hc_db(h);
    if (db == NULL)
        return false;
    if (!hub_tx_begin(db, &h->tx_thread)) {
        hc_err("database error: %s", hub_db_error(db));
        return false;
    }
    h->in_tx = true;
    return true;
}

bool hc_tx_commit(hubctl *h)
{
    char err[512];
    if (!h->in_tx)
        return true;
    h->in_tx = false;
    if (!hub_tx_commit(h->db, h->tx_thread, err, sizeof(err))) {
        hc_err("%s", err);
        return false;
    }
    return true;
}

void hc_tx_rollback(hubctl *h)
{
    if (!h->in_tx)
        return;
    h->in_tx = false;
    hub_tx_rollback(h->db);
}

void hc_close(hubctl *h)
{
    hc_tx_rollback(h);
    hub_db_free(h->db);
    h->db = NULL;
}

bool hc_keyring_load(hubctl *h, hub_keyring *kr)
{
    char err[768];
    memset(kr, 0, sizeof(*kr));
    if (!hc_config(h))
        return false;
    if (!hub_keyring_load(kr, h->cfg.master_key_file, true, err, sizeof(err))) {
        bool missing = access(h->cfg.master_key_file, F_OK) != 0 && errno == ENOENT;
        hc_err("%s%s", err, missing ? " (create it with 'hubctl init-keys')" : "");
        return false;
    }
    return true;
}
