/*
 * hub_prompt_keys.c — stored prompts and master key rotation (see hub_prompt.h): "hubctl
 * key-rotate" reseals every stored prompt with the new key before it removes the old one, in
 * short transactions of a bounded batch, walking the table in request id order so that a row
 * that does not open (tampered, or sealed with a key no longer in the file) is passed over
 * instead of being looked at again and again.
 */
#include "hub_prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_BATCH[] =
    "SELECT request_id, body_enc, enc_key_id FROM usage_prompts WHERE enc_key_id <> ? AND "
    "request_id > ? ORDER BY request_id LIMIT ? FOR UPDATE";
static const char SQL_RESEAL[] = "UPDATE usage_prompts SET body_enc = ?, enc_key_id = ? "
                                 "WHERE request_id = ? AND enc_key_id = ?";
static const char SQL_OTHER[] = "SELECT COUNT(*) FROM usage_prompts WHERE enc_key_id <> ?";

/* Reseals row i of r with the current key; *opened says whether it opened. false on a
 * sealing or database error. */
static bool reseal_row(hub_db *db, const hub_keyring *kr, const hub_dbres *r, int i, bool *opened)
{
    bool rc = false;
    char *plain = NULL; /* owned: the body in clear, wiped when freed */
    size_t plen = 0;
    unsigned char *blob = NULL; /* owned: the new sealed body */
    size_t blen = 0;
    int new_kid = 0;
    char aad[64];
    const char *rid = hub_dbres_get(r, i, 0);
    const char *sealed = hub_dbres_get(r, i, 1);
    long long kid = hub_dbres_int(r, i, 2, -1);

    *opened = false;
    snprintf(aad, sizeof(aad), "prompt:%s", rid != NULL ? rid : "");
    if (rid == NULL || sealed == NULL || kid <= 0 || kid > 0x7fffffff ||
        !hub_open(kr, (int)kid, aad, (const unsigned char *)sealed,
                  r->lens[(size_t)i * (size_t)r->ncols + 1], &plain, &plen)) {
        rc = true; /* left as it is */
        goto end;
    }
    *opened = true;
    if (!hub_seal(kr, aad, (const unsigned char *)plain, plen, &blob, &blen, &new_kid))
        goto end;
    hub_dbp p[4] = {DB_BLOB(blob, blen), DB_INT(new_kid), DB_STR(rid), DB_INT(kid)};
    rc = hub_db_exec(db, SQL_RESEAL, p, 4, NULL, NULL, NULL);
end:
    hub_secret_free(plain, plen);
    free(blob);
    return rc;
}

bool hub_prompt_reseal_batch(hub_db *db, const hub_keyring *kr, char *cursor, int batch, long *seen,
                             long *resealed, long *unreadable, char *err, size_t errsz)
{
    bool rc = false, in_tx = false;
    hub_dbres r = {0};
    const hub_master_key *cur = hub_keyring_current(kr);

    *seen = *resealed = *unreadable = 0;
    err[0] = '\0';
    if (cur == NULL || batch < 1) {
        snprintf(err, errsz, "no current master key");
        goto end;
    }
    if (!hub_db_query(db, "START TRANSACTION"))
        goto end;
    in_tx = true;
    hub_dbp p[3] = {DB_INT(cur->id), DB_STR(cursor), DB_INT(batch)};
    if (!hub_db_exec(db, SQL_BATCH, p, 3, &r, NULL, NULL))
        goto end;
    for (int i = 0; i < r.nrows; i++) {
        bool opened = false;
        if (!reseal_row(db, kr, &r, i, &opened)) {
            snprintf(err, errsz, "cannot reseal the prompt of request %s", hub_dbres_get(&r, i, 0));
            goto end;
        }
        if (opened)
            (*resealed)++;
        else
            (*unreadable)++;
    }
    if (!hub_db_query(db, "COMMIT"))
        goto end;
    in_tx = false;
    *seen = r.nrows;
    if (r.nrows > 0)
        snprintf(cursor, HUB_PROMPT_ID_LEN + 1, "%s", hub_dbres_get(&r, r.nrows - 1, 0));
    rc = true;
end:
    if (!rc && err[0] == '\0')
        snprintf(err, errsz, "%s", hub_db_error(db));
    if (in_tx)
        hub_db_query(db, "ROLLBACK");
    hub_dbres_free(&r);
    return rc;
}

bool hub_prompt_count_other_keys(hub_db *db, int key_id, long long *n)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_INT(key_id)};
    *n = 0;
    if (!hub_db_exec(db, SQL_OTHER, p, 1, &r, NULL, NULL))
        return false;
    *n = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    return true;
}
