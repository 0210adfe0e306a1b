/*
 * util_cred.c — what "provider add" and "credential add" share: checking a credential's
 * label and weight, choosing a free default label, and storing a sealed credential.
 *
 * A credential is stored in two statements inside the caller's transaction: the row is
 * inserted without a secret to learn its id, then the secret is sealed with the current
 * master key under the associated data "credential:<id>" (so a blob copied onto another
 * row does not open) and the blob and key id are written. Nothing here prints a secret.
 */
#include "hubctl.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_COUNT[] = "SELECT COUNT(*) FROM credentials WHERE provider_id = ?";
static const char SQL_TAKEN[] =
    "SELECT id FROM credentials WHERE provider_id = ? AND label = ? FOR UPDATE";
static const char SQL_INSERT[] = "INSERT INTO credentials (provider_id, label, weight, secret_enc) "
                                 "VALUES (?, ?, ?, NULL)";
static const char SQL_SEAL[] = "UPDATE credentials SET secret_enc = ?, key_id = ? WHERE id = ?";

/* Most "key-<n>" labels tried before giving up (each try is one indexed lookup). */
#define LABEL_TRIES 1000

bool hc_label_ok(const char *s)
{
    return hc_name_ok(s, 64, HC_CHARS_LABEL);
}

bool hc_weight_parse(const char *s, long *w)
{
    return hc_parse_int(s, HC_WEIGHT_MIN, HC_WEIGHT_MAX, w);
}

bool hc_cred_label_taken(hubctl *h, long long pid, const char *label, bool *taken)
{
    hub_dbres r;
    hub_dbp p[2] = {DB_INT(pid), DB_STR(label)};
    *taken = false;
    if (!hc_exec(h, SQL_TAKEN, p, 2, &r, NULL, NULL))
        return false;
    *taken = r.nrows > 0;
    hub_dbres_free(&r);
    return true;
}

bool hc_cred_default_label(hubctl *h, long long pid, char *out, size_t outsz)
{
    bool rc = false;
    hub_dbres r;
    bool have_r = false;
    long long n;
    hub_dbp p[1] = {DB_INT(pid)};

    if (!hc_exec(h, SQL_COUNT, p, 1, &r, NULL, NULL))
        goto end;
    have_r = true;
    n = hub_dbres_int(&r, 0, 0, 0) + 1;
    for (int i = 0; i < LABEL_TRIES; i++, n++) {
        bool taken = false;
        snprintf(out, outsz, "key-%lld", n);
        if (!hc_cred_label_taken(h, pid, out, &taken))
            goto end;
        if (!taken) {
            rc = true;
            goto end;
        }
    }
    hc_err("no free label key-<n> found; give one with --label");
end:
    if (have_r)
        hub_dbres_free(&r);
    return rc;
}

bool hc_cred_store(hubctl *h, const hub_keyring *kr, long long pid, const char *label, long weight,
                   const char *secret, size_t slen, long long *cid, int *key_id)
{
    bool rc = false;
    unsigned char *blob = NULL; /* owned: the sealed secret */
    size_t blen = 0;
    char aad[64];
    long long n = 0;

    *cid = 0;
    *key_id = 0;
    hub_dbp ip[3] = {DB_INT(pid), DB_STR(label), DB_INT(weight)};
    if (!hc_exec(h, SQL_INSERT, ip, 3, NULL, NULL, cid))
        goto end;
    snprintf(aad, sizeof(aad), "credential:%lld", *cid);
    if (!hub_seal(kr, aad, (const unsigned char *)secret, slen, &blob, &blen, key_id)) {
        hc_err("cannot seal the key with the master key");
        goto end;
    }
    hub_dbp sp[3] = {DB_BLOB(blob, blen), DB_INT(*key_id), DB_INT(*cid)};
    if (!hc_exec(h, SQL_SEAL, sp, 3, NULL, &n, NULL))
        goto end;
    if (n != 1) {
        hc_err("the new credential row %lld disappeared; nothing was added", *cid);
        goto end;
    }
    rc = true;
end:
    free(blob);
    return rc;
}
