/*
 * hub_settings.c — reading and writing the settings table (see hub_settings.h). Plain
 * values are upserted by name; sealed values are AES-256-GCM blobs bound to their name
 * by the associated data "setting:<name>", so a blob copied onto another row does not open.
 */
#include "hub_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_GET[] = "SELECT value FROM settings WHERE name = ?";
static const char SQL_PUT[] = "INSERT INTO settings (name, value) VALUES (?, ?) "
                              "ON DUPLICATE KEY UPDATE value = VALUES(value)";
static const char SQL_HAS[] = "SELECT secret_enc IS NOT NULL FROM settings WHERE name = ?";
static const char SQL_PUT_SECRET[] =
    "INSERT INTO settings (name, secret_enc, key_id) VALUES (?, ?, ?) "
    "ON DUPLICATE KEY UPDATE secret_enc = VALUES(secret_enc), key_id = VALUES(key_id)";
static const char SQL_CLEAR_SECRET[] =
    "UPDATE settings SET secret_enc = NULL, key_id = NULL WHERE name = ?";
static const char SQL_SECRET[] = "SELECT secret_enc, key_id FROM settings WHERE name = ?";

bool hub_setting_get(hub_db *db, const char *name, char *out, size_t outsz, bool *present)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_STR(name)};
    if (outsz > 0)
        out[0] = '\0';
    if (present != NULL)
        *present = false;
    if (!hub_db_exec(db, SQL_GET, p, 1, &r, NULL, NULL))
        return false;
    const char *v = r.nrows > 0 ? hub_dbres_get(&r, 0, 0) : NULL;
    if (v != NULL) {
        snprintf(out, outsz, "%s", v);
        if (present != NULL)
            *present = true;
    }
    hub_dbres_free(&r);
    return true;
}

bool hub_setting_put(hub_db *db, const char *name, const char *value)
{
    hub_dbp p[2] = {DB_STR(name), DB_STR(value)};
    return hub_db_exec(db, SQL_PUT, p, 2, NULL, NULL, NULL);
}

bool hub_setting_has_secret(hub_db *db, const char *name, bool *has)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_STR(name)};
    *has = false;
    if (!hub_db_exec(db, SQL_HAS, p, 1, &r, NULL, NULL))
        return false;
    *has = r.nrows > 0 && hub_dbres_int(&r, 0, 0, 0) != 0;
    hub_dbres_free(&r);
    return true;
}

bool hub_setting_put_secret(hub_db *db, const hub_keyring *kr, const char *name, const char *secret,
                            size_t len, char *err, size_t errsz)
{
    bool rc = false;
    unsigned char *blob = NULL; /* owned */
    size_t blen = 0;
    int key_id = 0;
    char aad[96];

    snprintf(aad, sizeof(aad), "setting:%s", name);
    if (!hub_seal(kr, aad, (const unsigned char *)secret, len, &blob, &blen, &key_id)) {
        snprintf(err, errsz, "cannot seal the value with the master key");
        goto end;
    }
    hub_dbp p[3] = {DB_STR(name), DB_BLOB(blob, blen), DB_INT(key_id)};
    if (!hub_db_exec(db, SQL_PUT_SECRET, p, 3, NULL, NULL, NULL)) {
        snprintf(err, errsz, "database error: %s", hub_db_error(db));
        goto end;
    }
    rc = true;
end:
    free(blob);
    return rc;
}

bool hub_setting_clear_secret(hub_db *db, const char *name)
{
    hub_dbp p[1] = {DB_STR(name)};
    return hub_db_exec(db, SQL_CLEAR_SECRET, p, 1, NULL, NULL, NULL);
}

hub_err hub_setting_secret(hub_db *db, const hub_keyring *kr, const char *name, char **out,
                           size_t *len)
{
    hub_err rc = HUB_ENOTFOUND;
    hub_dbres r;
    char aad[96];
    hub_dbp p[1] = {DB_STR(name)};

    *out = NULL;
    *len = 0;
    if (!hub_db_exec(db, SQL_SECRET, p, 1, &r, NULL, NULL))
        return HUB_EDB;
    const char *blob = r.nrows > 0 ? hub_dbres_get(&r, 0, 0) : NULL;
    if (blob == NULL)
        goto end;
    snprintf(aad, sizeof(aad), "setting:%s", name);
    rc = HUB_ECRYPTO;
    if (hub_open(kr, (int)hub_dbres_int(&r, 0, 1, -1), aad, (const unsigned char *)blob,
                 r.lens[0] /* row 0, column 0 */, out, len))
        rc = HUB_OK;
end:
    hub_dbres_free(&r);
    return rc;
}
