/*
 * cmd_rotate.c — "hubctl key-rotate": master key rotation.
 *
 * The order is what makes it safe to interrupt at any point:
 *   1. load the keyring, add a fresh key and SAVE the file with old and new keys (with the
 *      original owner, group and 0640/0600 mode restored), so every blob that may exist
 *      after this point can be opened from the file;
 *   2. in one transaction lock every sealed credential and secret setting, open it with its
 *      own key id and "credential:<id>" / "setting:<name>", reseal it with the new key and
 *      update the row; any row that does
 *      not open rolls everything back and names the credential id (never the secret);
 *      the audit row "master_key.rotate" (old and new key id, rows resealed) commits with it;
 *   3. reseal the stored prompts (prompt logging) the same way, in short transactions of a
 *      bounded batch (there may be many), after giving running gateways one catalogue refresh
 *      to start sealing with the new key; a prompt that does not open is left as it was;
 *   4. after that, and only when no credential and no readable prompt is left on an older key,
 *      save the file with just the new key.
 * A failure before 3 leaves a file holding both keys, which opens every row.
 */
#include "hubctl.h"

#include "hub_crypto.h"
#include "hub_prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROMPT_BATCH  200 /* prompts resealed per transaction */
#define PROMPT_PASSES 5

static const char HELP[] =
    "usage: hubctl key-rotate\n\n"
    "Rotates the master key: adds a new key to the master key file, reseals every\n"
    "provider credential and secret setting (the pages' OIDC client secret) with it in one\n"
    "transaction, reseals the stored prompts (prompt\n"
    "logging) in batches, then removes the old key from the\n"
    "file. The file keeps its owner, group and mode (0640 or 0600). If a credential does\n"
    "not open, nothing is changed in the database and the file keeps both keys.\n"
    "Running gateways reload the changed key file on their next catalogue refresh.\n";

/* The sealed secrets that live in the database besides stored prompts: provider credentials
 * (aad "credential:<id>") and secret settings such as the pages' OIDC client secret (aad
 * "setting:<name>"). Column 0 is the row's key (an id or a name), 1 the blob, 2 its key id. */
static const struct {
    const char *what;    /* for messages */
    const char *aad_fmt; /* %s: column 0 */
    const char *select;  /* FOR UPDATE, inside the rotation's transaction */
    const char *update;  /* blob, key id, column 0 */
    const char *left;    /* rows still on another key than ? */
} SEALED[] = {
    {"credential", "credential:%s",
     "SELECT id, secret_enc, key_id FROM credentials WHERE secret_enc IS NOT NULL ORDER BY id "
     "FOR UPDATE",
     "UPDATE credentials SET secret_enc = ?, key_id = ? WHERE id = ?",
     "SELECT COUNT(*) FROM credentials WHERE secret_enc IS NOT NULL AND NOT key_id <=> ?"},
    {"setting", "setting:%s",
     "SELECT name, secret_enc, key_id FROM settings WHERE secret_enc IS NOT NULL ORDER BY name "
     "FOR UPDATE",
     "UPDATE settings SET secret_enc = ?, key_id = ? WHERE name = ?",
     "SELECT COUNT(*) FROM settings WHERE secret_enc IS NOT NULL AND NOT key_id <=> ?"},
};
#define NSEALED (sizeof(SEALED) / sizeof(SEALED[0]))

/* True when this process may give a file the owner and group of orig. */
static bool can_restore(const struct stat *orig)
{
    gid_t groups[256];
    if (geteuid() == 0)
        return true;
    if (orig->st_uid != geteuid())
        return false;
    if (orig->st_gid == getegid())
        return true;
    int n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
    for (int i = 0; i < n; i++) {
        if (groups[i] == orig->st_gid)
            return true;
    }
    return false;
}

/* Gives the freshly saved file path the owner and group of orig, and 0640 when orig was
 * group-readable (else 0600). */
static bool restore_attrs(const char *path, const struct stat *orig, const char *context)
{
    bool rc = false;
    mode_t mode = (orig->st_mode & S_IRGRP) ? 0640 : 0600;
    uid_t uid = orig->st_uid == geteuid() ? (uid_t)-1 : orig->st_uid;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        hc_err("cannot reopen %s: %s%s", path, strerror(errno), context);
        goto end;
    }
    if (fchown(fd, uid, orig->st_gid) != 0 || fchmod(fd, mode) != 0) {
        hc_err("cannot restore owner/group/mode of %s: %s (fix with chown/chmod %04o)%s", path,
               strerror(errno), (unsigned)mode, context);
        goto end;
    }
    rc = true;
end:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Saves kr to path with orig's owner, group and mode; context ends the error line. */
static bool save_ring(const hub_keyring *kr, const char *path, const struct stat *orig,
                      const char *context)
{
    char err[768];
    if (!hub_keyring_save(kr, path, err, sizeof(err))) {
        hc_err("%s%s", err, context);
        return false;
    }
    return restore_attrs(path, orig, context);
}

/* Audits the rotation from key old_id to new_id (count rows resealed). */
static bool audit_rotate(hubctl *h, int old_id, int new_id, long long count, long long settings)
{
    hub_jobj before, after;
    char target[256]; /* the key file; the column holds 255 characters */
    snprintf(target, sizeof(target), "%.255s", h->cfg.master_key_file);
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    hub_jobj_int(&before, "key_id", old_id);
    hub_jobj_int(&after, "key_id", new_id);
    hub_jobj_int(&after, "credentials_resealed", count);
    hub_jobj_int(&after, "settings_resealed", settings);
    bool ok = hc_audit(h, "master_key.rotate", "master_key", target, &before, &after);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return ok;
}

/* Reseals every row of SEALED[t] with the current key of kr (inside the caller's
 * transaction); *count grows by the rows resealed. false after printing the error. */
static bool reseal_table(hubctl *h, const hub_keyring *kr, size_t t, long long *count)
{
    bool rc = false;
    hub_dbres r = {0};
    char *plain = NULL; /* owned: a secret in clear, wiped when freed */
    size_t plen = 0;
    unsigned char *blob = NULL; /* owned: the resealed secret */
    size_t blen = 0;
    if (!hc_exec(h, SEALED[t].select, NULL, 0, &r, NULL, NULL))
        goto end;
    for (int i = 0; i < r.nrows; i++) {
        const char *key = hub_dbres_get(&r, i, 0);
        long long kid = hub_dbres_int(&r, i, 2, -1);
        const char *sealed = hub_dbres_get(&r, i, 1);
        size_t slen = r.lens[(size_t)i * (size_t)r.ncols + 1];
        char aad[160];
        int new_kid = 0;
        long long n = 0;
        snprintf(aad, sizeof(aad), SEALED[t].aad_fmt, key != NULL ? key : "");
        if (kid <= 0 || kid > 0x7fffffff ||
            !hub_open(kr, (int)kid, aad, (const unsigned char *)sealed, slen, &plain, &plen)) {
            hc_err("%s %s does not open with the master key file (sealed with key id %lld); "
                   "nothing was changed and the file keeps the old and new keys",
                   SEALED[t].what, key != NULL ? key : "?", kid);
            goto end;
        }
        if (!hub_seal(kr, aad, (const unsigned char *)plain, plen, &blob, &blen, &new_kid)) {
            hc_err("cannot reseal %s %s; nothing was changed", SEALED[t].what, key);
            goto end;
        }
        hub_secret_free(plain, plen);
        plain = NULL;
        hub_dbp p[3] = {DB_BLOB(blob, blen), DB_INT(new_kid), DB_STR(key)};
        if (!hc_exec(h, SEALED[t].update, p, 3, NULL, &n, NULL))
            goto end;
        free(blob);
        blob = NULL;
        if (n != 1) {
            hc_err("%s %s changed during the rotation; nothing was changed", SEALED[t].what, key);
            goto end;
        }
        (*count)++;
    }
    rc = true;
end:
    hub_secret_free(plain, plen);
    free(blob);
    hub_dbres_free(&r);
    return rc;
}

/* Reseals every credential and secret setting with the current key of kr in one
 * transaction, with its audit row (the rotation from old_id). *count gets the number of
 * credentials resealed, *settings that of settings. false after printing the error (rolled
 * back). */
static bool reseal_all(hubctl *h, const hub_keyring *kr, int old_id, long long *count,
                       long long *settings)
{
    bool rc = false;
    *count = 0;
    *settings = 0;
    if (!hc_tx_begin(h))
        goto end;
    if (!reseal_table(h, kr, 0, count) || !reseal_table(h, kr, 1, settings))
        goto end;
    const hub_master_key *cur = hub_keyring_current(kr);
    if (cur == NULL || !audit_rotate(h, old_id, cur->id, *count, *settings))
        goto end;
    if (!hc_tx_commit(h))
        goto end;
    rc = true;
end:
    if (!rc)
        hc_tx_rollback(h);
    return rc;
}

/* Reseals every stored prompt with the current key of kr: passes over the table in batches
 * until a pass finds nothing left to reseal. *count gets the prompts resealed, *unreadable those
 * that did not open. false after printing the error. */
static bool reseal_prompts(hubctl *h, const hub_keyring *kr, int new_id, long long *count,
                           long long *unreadable)
{
    char err[256];
    long long left = 0;
    *count = *unreadable = 0;
    if (!hub_prompt_count_other_keys(h->db, new_id, &left)) {
        hc_err("database error: %s", hub_db_error(h->db));
        return false;
    }
    if (left == 0)
        return true;
    /* gateways reload the key file on their next catalogue refresh: from then on they seal
     * new prompts with the new key */
    long ms = h->cfg.catalog_refresh_ms + 250L;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    for (int pass = 0; pass < PROMPT_PASSES; pass++) {
        char cursor[HUB_PROMPT_ID_LEN + 1] = "";
        long seen = 0, done = 0, bad = 0;
        long long in_pass = 0;
        do {
            if (!hub_prompt_reseal_batch(h->db, kr, cursor, PROMPT_BATCH, &seen, &done, &bad, err,
                                         sizeof(err))) {
                hc_err("cannot reseal the stored prompts: %s; the master key file keeps the old "
                       "and new keys",
                       err);
                return false;
            }
            in_pass += done;
            if (pass == 0)
                *unreadable += bad;
        } while (seen >= PROMPT_BATCH);
        *count += in_pass;
        if (in_pass == 0)
            break;
    }
    return true;
}

int hc_key_rotate_main(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_keyring kr, only;
    struct stat orig;
    hub_dbres left = {0};
    long long count = 0, settings = 0, prompts = 0, unreadable = 0, prompts_left = 0;
    int new_id, old_id;

    memset(&kr, 0, sizeof(kr));
    memset(&only, 0, sizeof(only));
    if (!hc_simple_args(argc, argv, "key-rotate", HELP, 0, "", &pos, &status))
        return status;
    if (!hc_keyring_load(h, &kr))
        goto end;
    const char *path = h->cfg.master_key_file;
    if (stat(path, &orig) != 0) {
        hc_err("cannot stat %s: %s", path, strerror(errno));
        goto end;
    }
    if (!can_restore(&orig)) {
        hc_err("run key-rotate as root or as the owner of %s (a member of its group): the "
               "rewritten file must keep its owner and group",
               path);
        goto end;
    }
    if (hc_db(h) == NULL)
        goto end;
    old_id = hub_keyring_current(&kr) != NULL ? hub_keyring_current(&kr)->id : 0;
    new_id = hub_keyring_generate(&kr);
    if (new_id < 0) {
        hc_err("cannot add a key to %s (it holds %d keys, the maximum, or no randomness)", path,
               kr.n);
        goto end;
    }
    /* 1. both keys on disk before any row is sealed with the new one */
    if (!save_ring(&kr, path, &orig, "; nothing was changed in the database"))
        goto end;
    /* 2. reseal */
    if (!reseal_all(h, &kr, old_id, &count, &settings))
        goto end;
    /* 3. reseal the stored prompts */
    if (!reseal_prompts(h, &kr, new_id, &prompts, &unreadable))
        goto end;
    /* 4. drop the old keys, unless a row was sealed with one of them meanwhile */
    hub_dbp p[1] = {DB_INT(new_id)};
    long long sealed_left = 0;
    for (size_t t = 0; t < NSEALED; t++) {
        if (!hc_exec(h, SEALED[t].left, p, 1, &left, NULL, NULL))
            goto end;
        sealed_left += hub_dbres_int(&left, 0, 0, 0);
        hub_dbres_free(&left);
    }
    if (!hub_prompt_count_other_keys(h->db, new_id, &prompts_left)) {
        hc_err("database error: %s", hub_db_error(h->db));
        goto end;
    }
    if (prompts_left > unreadable) {
        hc_err("%lld stored prompts were sealed with an old key during the rotation; %s keeps "
               "all keys: run key-rotate again",
               prompts_left - unreadable, path);
        goto end;
    }
    if (sealed_left != 0) {
        hc_err("%lld credentials or settings were sealed with an old key during the rotation; "
               "%s keeps all keys: run key-rotate again",
               sealed_left, path);
        goto end;
    }
    const hub_master_key *cur = hub_keyring_find(&kr, new_id);
    only.keys[0] = *cur;
    only.n = 1;
    if (!save_ring(&only, path, &orig,
                   "; the credentials ARE resealed with the new key, the file may still hold "
                   "the old key too"))
        goto end;
    printf("rotated %lld credentials, %lld secret settings and %lld stored prompts to key id "
           "%d\n",
           count, settings, prompts, new_id);
    if (unreadable > 0)
        printf("%lld stored prompts did not open with any key of the file and were left as they "
               "were\n",
               unreadable);
    status = HC_EXIT_OK;
end:
    hub_dbres_free(&left);
    hub_keyring_wipe(&kr);
    hub_keyring_wipe(&only);
    return status;
}
