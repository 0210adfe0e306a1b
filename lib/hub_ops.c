/*
 * hub_ops.c — the database half of hub_ops.h: transactions that notice a replaced
 * connection, fallback lists checked against the providers table, sealed provider
 * credentials, the other routes of a model name, prices and new API keys.
 *
 * A credential is stored in two statements inside the caller's transaction: the row is
 * inserted without a secret to learn its id, then the secret is sealed with the current
 * master key under the associated data "credential:<id>" (a blob copied onto another row
 * does not open) and the blob and key id are written. An API key is generated from the
 * CSPRNG; only its SHA-256 and display prefix are stored. Nothing here logs or prints.
 */
#include "hub_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_PROVIDER[] = "SELECT id FROM providers WHERE name = ?";
static const char SQL_CRED_COUNT[] = "SELECT COUNT(*) FROM credentials WHERE provider_id = ?";
static const char SQL_CRED_TAKEN[] =
    "SELECT id FROM credentials WHERE provider_id = ? AND label = ? FOR UPDATE";
static const char SQL_CRED_INSERT[] =
    "INSERT INTO credentials (provider_id, label, weight, secret_enc) VALUES (?, ?, ?, NULL)";
static const char SQL_CRED_SEAL[] =
    "UPDATE credentials SET secret_enc = ?, key_id = ? WHERE id = ?";
static const char SQL_ROUTE_OTHERS[] =
    "SELECT p.name, m.kind, m.priority FROM models m JOIN providers p ON p.id = m.provider_id "
    "WHERE m.name = ? AND m.provider_id <> ? ORDER BY m.priority, p.name FOR UPDATE";
static const char SQL_PRICE_LOCK[] =
    "SELECT provider, model, input_per_1m_micro, output_per_1m_micro, "
    "cached_input_per_1m_micro, per_image_micro, effective_date, source FROM prices "
    "WHERE provider = ? AND model = ? FOR UPDATE";
static const char SQL_PRICE_UPSERT[] =
    "INSERT INTO prices (provider, model, input_per_1m_micro, output_per_1m_micro, "
    "cached_input_per_1m_micro, per_image_micro, effective_date, source) "
    "VALUES (?, ?, ?, ?, ?, ?, UTC_DATE(), ?) ON DUPLICATE KEY UPDATE "
    "input_per_1m_micro = VALUES(input_per_1m_micro), "
    "output_per_1m_micro = VALUES(output_per_1m_micro), "
    "cached_input_per_1m_micro = VALUES(cached_input_per_1m_micro), "
    "per_image_micro = VALUES(per_image_micro), effective_date = VALUES(effective_date), "
    "source = VALUES(source)";
static const char SQL_KEY_FIND[] = "SELECT id FROM api_keys WHERE name = ? FOR UPDATE";
static const char SQL_KEY_INSERT[] =
    "INSERT INTO api_keys (name, key_hash, prefix, user_id, team_id, app, models, endpoints, "
    "kind, created_by, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? DAY)";

/* Most "key-<n>" labels tried before giving up (each try is one indexed lookup). */
#define LABEL_TRIES 1000

bool hub_tx_begin(hub_db *db, unsigned long *thread)
{
    *thread = 0;
    if (!hub_db_ensure(db) || !hub_db_query(db, "START TRANSACTION"))
        return false;
    *thread = mysql_thread_id(hub_db_conn(db));
    return true;
}

bool hub_tx_commit(hub_db *db, unsigned long thread, char *err, size_t errsz)
{
    MYSQL *m = hub_db_conn(db);
    if (m == NULL || mysql_thread_id(m) != thread) {
        snprintf(err, errsz,
                 "the database connection was lost during the change; nothing "
                 "was saved");
        hub_tx_rollback(db);
        return false;
    }
    if (!hub_db_query(db, "COMMIT")) {
        snprintf(err, errsz, "the database refused to save the change: %s", hub_db_error(db));
        hub_tx_rollback(db);
        return false;
    }
    return true;
}

void hub_tx_rollback(hub_db *db)
{
    if (db != NULL && hub_db_conn(db) != NULL)
        (void)hub_db_query(db, "ROLLBACK");
}

hub_err hub_fallbacks_check(hub_db *db, const char *in, char *out, size_t outsz, char *err,
                            size_t errsz)
{
    if (!hub_fallbacks_normalize(in, out, outsz, err, errsz))
        return HUB_EINVAL;
    for (const char *s = out; *s != '\0';) {
        size_t len = strcspn(s, ",");
        size_t plen = strcspn(s, "/");
        char prov[65];
        hub_dbres r;
        if (plen >= sizeof(prov))
            plen = sizeof(prov) - 1;
        memcpy(prov, s, plen);
        prov[plen] = '\0';
        hub_dbp p[1] = {DB_STR(prov)};
        if (!hub_db_exec(db, SQL_PROVIDER, p, 1, &r, NULL, NULL)) {
            snprintf(err, errsz, "database error: %s", hub_db_error(db));
            return HUB_EDB;
        }
        bool found = r.nrows > 0;
        hub_dbres_free(&r);
        if (!found) {
            snprintf(err, errsz, "fallback %.*s: no provider named '%s'", (int)len, s, prov);
            return HUB_EINVAL;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    return HUB_OK;
}

bool hub_cred_label_taken(hub_db *db, long long pid, const char *label, bool *taken)
{
    hub_dbres r;
    hub_dbp p[2] = {DB_INT(pid), DB_STR(label)};
    *taken = false;
    if (!hub_db_exec(db, SQL_CRED_TAKEN, p, 2, &r, NULL, NULL))
        return false;
    *taken = r.nrows > 0;
    hub_dbres_free(&r);
    return true;
}

bool hub_cred_default_label(hub_db *db, long long pid, char *out, size_t outsz, char *err,
                            size_t errsz)
{
    bool rc = false;
    hub_dbres r;
    hub_dbp p[1] = {DB_INT(pid)};

    if (!hub_db_exec(db, SQL_CRED_COUNT, p, 1, &r, NULL, NULL)) {
        snprintf(err, errsz, "database error: %s", hub_db_error(db));
        return false;
    }
    long long n = hub_dbres_int(&r, 0, 0, 0) + 1;
    hub_dbres_free(&r);
    for (int i = 0; i < LABEL_TRIES; i++, n++) {
        bool taken = false;
        snprintf(out, outsz, "key-%lld", n);
        if (!hub_cred_label_taken(db, pid, out, &taken)) {
            snprintf(err, errsz, "database error: %s", hub_db_error(db));
            goto end;
        }
        if (!taken) {
            rc = true;
            goto end;
        }
    }
    snprintf(err, errsz, "no free label key-<n> found; give the credential a label");
end:
    return rc;
}

bool hub_cred_store(hub_db *db, const hub_keyring *kr, long long pid, const char *label,
                    long weight, const char *secret, size_t slen, long long *cid, int *key_id,
                    char *err, size_t errsz)
{
    bool rc = false;
    unsigned char *blob = NULL; /* owned: the sealed secret */
    size_t blen = 0;
    char aad[64];
    long long n = 0;

    *cid = 0;
    *key_id = 0;
    hub_dbp ip[3] = {DB_INT(pid), DB_STR(label), DB_INT(weight)};
    if (!hub_db_exec(db, SQL_CRED_INSERT, ip, 3, NULL, NULL, cid)) {
        snprintf(err, errsz, "database error: %s", hub_db_error(db));
        goto end;
    }
    snprintf(aad, sizeof(aad), "credential:%lld", *cid);
    if (!hub_seal(kr, aad, (const unsigned char *)secret, slen, &blob, &blen, key_id)) {
        snprintf(err, errsz, "cannot seal the key with the master key");
        goto end;
    }
    hub_dbp sp[3] = {DB_BLOB(blob, blen), DB_INT(*key_id), DB_INT(*cid)};
    if (!hub_db_exec(db, SQL_CRED_SEAL, sp, 3, NULL, &n, NULL)) {
        snprintf(err, errsz, "database error: %s", hub_db_error(db));
        goto end;
    }
    if (n != 1) {
        snprintf(err, errsz, "the new credential row %lld disappeared; nothing was added", *cid);
        goto end;
    }
    rc = true;
end:
    free(blob);
    return rc;
}

bool hub_route_others(hub_db *db, const char *name, long long pid, hub_dbres *others)
{
    hub_dbp q[2] = {DB_STR(name), DB_INT(pid)};
    memset(others, 0, sizeof(*others));
    return hub_db_exec(db, SQL_ROUTE_OTHERS, q, 2, others, NULL, NULL);
}

const char *hub_route_kind_clash(const hub_dbres *others, const char *name, const char *kind,
                                 char *msg, size_t msgsz)
{
    for (int i = 0; i < others->nrows; i++) {
        const char *k = hub_dbres_get(others, i, 1);
        if (k != NULL && strcmp(k, kind) != 0) {
            snprintf(msg, msgsz,
                     "model name %s is a %s model through %s; every route of a name has "
                     "the same kind",
                     name, k, hub_dbres_get(others, i, 0));
            return msg;
        }
    }
    return NULL;
}

void hub_route_new_defaults(const hub_dbres *others, const char *name, const char **upstream,
                            const char **kind, long *priority, bool has_priority)
{
    if (*upstream == NULL)
        *upstream = name;
    if (*kind == NULL)
        *kind = others->nrows > 0 ? hub_dbres_get(others, 0, 1) : "chat";
    if (!has_priority && others->nrows > 0)
        *priority = (long)hub_dbres_int(others, others->nrows - 1, 2, 0) + 1;
}

bool hub_price_owner_ok(hub_db *db, const char *name, bool *ok)
{
    hub_dbres r;
    hub_dbp q[1] = {DB_STR(name)};
    *ok = hub_is_price_vendor(name);
    if (*ok)
        return true;
    if (!hub_db_exec(db, SQL_PROVIDER, q, 1, &r, NULL, NULL))
        return false;
    *ok = r.nrows > 0;
    hub_dbres_free(&r);
    return true;
}

/* A micro-USD amount as a parameter: NULL when unknown (negative). */
static hub_dbp micro_param(long long v)
{
    return v < 0 ? DB_NULL : DB_INT(v);
}

bool hub_price_set(hub_db *db, const char *provider, const char *model, const long long micro[4],
                   const char *source, hub_dbres *before)
{
    hub_dbp lq[2] = {DB_STR(provider), DB_STR(model)};
    hub_dbp up[7] = {DB_STR(provider),      DB_STR(model),         micro_param(micro[0]),
                     micro_param(micro[1]), micro_param(micro[2]), micro_param(micro[3]),
                     DB_STR(source)};
    memset(before, 0, sizeof(*before));
    return hub_db_exec(db, SQL_PRICE_LOCK, lq, 2, before, NULL, NULL) &&
           hub_db_exec(db, SQL_PRICE_UPSERT, up, 7, NULL, NULL, NULL);
}

hub_err hub_key_create(hub_db *db, const hub_key_spec *ks, char key[HUB_APIKEY_LEN + 1],
                       char shown[HUB_APIKEY_SHOWN + 1], long long *kid, char *err, size_t errsz)
{
    hub_dbres r;
    unsigned char hash[HUB_APIKEY_HASH_LEN];
    hub_dbp fp[1] = {DB_STR(ks->name)};

    *kid = 0;
    key[0] = '\0';
    shown[0] = '\0';
    if (!hub_db_exec(db, SQL_KEY_FIND, fp, 1, &r, NULL, NULL)) {
        snprintf(err, errsz, "database error: %s", hub_db_error(db));
        return HUB_EDB;
    }
    bool exists = r.nrows > 0;
    hub_dbres_free(&r);
    if (exists) {
        snprintf(err, errsz, "an API key named '%s' already exists", ks->name);
        return HUB_EINVAL;
    }
    if (!hub_apikey_generate(key)) {
        snprintf(err, errsz, "cannot generate a key (no randomness available)");
        return HUB_EINTERNAL;
    }
    hub_apikey_hash(key, strlen(key), hash);
    hub_apikey_display(key, shown);
    hub_dbp ip[11] = {DB_STR(ks->name),
                      DB_BLOB(hash, sizeof(hash)),
                      DB_STR(shown),
                      DB_INT(ks->user_id),
                      ks->team_id != 0 ? DB_INT(ks->team_id) : DB_NULL,
                      DB_STR(ks->app),
                      DB_STR(ks->models),
                      DB_STR(ks->endpoints),
                      DB_STR(ks->kind != NULL ? ks->kind : "service"),
                      DB_STR(ks->created_by),
                      ks->expires_days >= 0 ? DB_INT(ks->expires_days) : DB_NULL};
    if (!hub_db_exec(db, SQL_KEY_INSERT, ip, 11, NULL, NULL, kid)) {
        explicit_bzero(key, HUB_APIKEY_LEN + 1);
        snprintf(err, errsz, "database error: %s", hub_db_error(db));
        return HUB_EDB;
    }
    return HUB_OK;
}
