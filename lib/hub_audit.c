/*
 * hub_audit.c — the hash-chained audit log (see hub_audit.h, table audit_log).
 *
 * Each row's hash is SHA-256(prev_hash || canonical text), prev_hash being the previous
 * row's hash (32 zero bytes for the first row). The canonical text is unambiguous: a
 * version line, then every field on its own line as "LENGTH:VALUE" (LENGTH in bytes, so a
 * value may hold newlines or colons), or "-" for SQL NULL, in a fixed order:
 *
 *   hub-audit-v1\n ts\n actor\n via\n action\n target_type\n target\n before_json\n after_json\n
 *
 * The timestamp is read from the server first, in the same fixed text form that
 * verification reads back (DATE_FORMAT with microseconds), so what is hashed is what is
 * stored. Appends serialise inside the caller's transaction: they first take the lock of a
 * fixed settings row ("audit_chain_lock"), then read the chain's last row with a locking
 * read (SELECT … FOR UPDATE, which sees the latest commit). Locking only the last row
 * would let two appenders share the gap after it and deadlock on their INSERTs.
 * Verification walks the table in id order in batches.
 */
#include "hub_audit.h"

#include "hub_buf.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#define HASH_LEN  32
#define BATCH_STR "500" /* rows per verification query */

/* Appends "LEN:VALUE\n" (value n bytes) or "-\n" for NULL. */
static bool field(hub_buf *b, const char *v, size_t n)
{
    if (v == NULL)
        return hub_buf_append(b, "-\n", 2);
    return hub_buf_printf(b, "%zu:", n) && hub_buf_append(b, v, n) && hub_buf_append(b, "\n", 1);
}

/* The row hash from prev (32 bytes) and the 8 fields (values with their byte lengths). */
static bool row_hash(const unsigned char *prev, const char *const v[8], const size_t n[8],
                     unsigned char out[HASH_LEN])
{
    bool rc = false;
    hub_buf b;
    EVP_MD_CTX *ctx = NULL;
    unsigned int len = 0;

    hub_buf_init(&b, 0);
    if (!hub_buf_puts(&b, "hub-audit-v1\n"))
        goto end;
    for (int i = 0; i < 8; i++) {
        if (!field(&b, v[i], n[i]))
            goto end;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, prev, HASH_LEN) != 1 || EVP_DigestUpdate(ctx, b.data, b.len) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != HASH_LEN)
        goto end;
    rc = true;
end:
    EVP_MD_CTX_free(ctx);
    hub_buf_free(&b);
    return rc;
}

static size_t slen(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

bool hub_audit_log(hub_db *db, const char *actor, const char *via, const char *action,
                   const char *target_type, const char *target, const char *before_json,
                   const char *after_json)
{
    bool rc = false;
    hub_dbres last = {0};
    hub_dbres now = {0};
    unsigned char prev[HASH_LEN] = {0};
    unsigned char hash[HASH_LEN];

    if (actor == NULL || via == NULL || action == NULL || target_type == NULL || target == NULL)
        goto end;
    /* Appenders queue on one settings row (an exclusive record lock, no gap lock), so two
     * appends never hold gap locks on audit_log at once — which would deadlock their INSERTs. */
    static const char sql_queue[] =
        "INSERT INTO settings (name, value) VALUES ('audit_chain_lock', 'serialises audit "
        "appends') ON DUPLICATE KEY UPDATE name = name";
    static const char sql_last[] = "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1 FOR UPDATE";
    if (!hub_db_exec(db, sql_queue, NULL, 0, NULL, NULL, NULL) ||
        !hub_db_exec(db, sql_last, NULL, 0, &last, NULL, NULL))
        goto end;
    if (last.nrows == 1) {
        const char *h = hub_dbres_get(&last, 0, 0);
        if (h == NULL || last.lens[0] != HASH_LEN)
            goto end; /* a damaged chain head: refuse to extend it */
        memcpy(prev, h, HASH_LEN);
    }
    static const char sql_now[] = "SELECT DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%d %H:%i:%s.%f')";
    if (!hub_db_exec(db, sql_now, NULL, 0, &now, NULL, NULL) || now.nrows != 1)
        goto end;
    const char *ts = hub_dbres_get(&now, 0, 0);
    if (ts == NULL)
        goto end;
    const char *v[8] = {ts, actor, via, action, target_type, target, before_json, after_json};
    size_t n[8];
    for (int i = 0; i < 8; i++)
        n[i] = slen(v[i]);
    if (!row_hash(prev, v, n, hash))
        goto end;
    static const char sql_ins[] =
        "INSERT INTO audit_log (ts, actor, via, action, target_type, target, before_json, "
        "after_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    hub_dbp p[] = {DB_STR(ts),
                   DB_STR(actor),
                   DB_STR(via),
                   DB_STR(action),
                   DB_STR(target_type),
                   DB_STR(target),
                   DB_STR(before_json),
                   DB_STR(after_json),
                   DB_BLOB(prev, HASH_LEN),
                   DB_BLOB(hash, HASH_LEN)};
    if (!hub_db_exec(db, sql_ins, p, 10, NULL, NULL, NULL))
        goto end;
    rc = true;
end:
    hub_dbres_free(&last);
    hub_dbres_free(&now);
    return rc;
}

static void say(char *msg, size_t msgsz, const char *text, long long id)
{
    if (msg != NULL && msgsz > 0)
        snprintf(msg, msgsz, text, id);
}

/*
 * Checks one batch of rows (columns: id, ts, 6 fields, prev_hash, hash). prev carries the
 * expected prev_hash across batches. Returns 1 when all rows are good, 0 on a break (with
 * *bad_id and msg set), -1 when the batch is unreadable.
 */
static int check_batch(const hub_dbres *r, unsigned char prev[HASH_LEN], long long *rows,
                       long long *bad_id, long long *last_id, char *msg, size_t msgsz)
{
    for (int row = 0; row < r->nrows; row++) {
        size_t base = (size_t)row * (size_t)r->ncols;
        long long id = hub_dbres_int(r, row, 0, 0);
        const char *v[8];
        size_t n[8];
        for (int i = 0; i < 8; i++) {
            v[i] = r->cells[base + 1 + (size_t)i];
            n[i] = r->lens[base + 1 + (size_t)i];
        }
        const char *ph = r->cells[base + 9];
        const char *h = r->cells[base + 10];
        unsigned char want[HASH_LEN];
        *last_id = id;
        (*rows)++;
        if (ph == NULL || h == NULL || r->lens[base + 9] != HASH_LEN ||
            r->lens[base + 10] != HASH_LEN) {
            *bad_id = id;
            say(msg, msgsz, "row %lld: hash columns damaged", id);
            return 0;
        }
        if (memcmp(ph, prev, HASH_LEN) != 0) {
            *bad_id = id;
            say(msg, msgsz,
                "row %lld: prev_hash does not match the row before it (a row was deleted, "
                "inserted or reordered)",
                id);
            return 0;
        }
        if (!row_hash(prev, v, n, want))
            return -1;
        if (memcmp(want, h, HASH_LEN) != 0) {
            *bad_id = id;
            say(msg, msgsz, "row %lld: content does not match its hash (the row was edited)", id);
            return 0;
        }
        memcpy(prev, h, HASH_LEN);
    }
    return 1;
}

bool hub_audit_verify(hub_db *db, long long *rows, long long *bad_id, char *msg, size_t msgsz)
{
    bool rc = false;
    unsigned char prev[HASH_LEN] = {0};
    long long last_id = 0;
    long long nrows = 0;
    long long bad = 0;
    hub_dbres r = {0};

    say(msg, msgsz, "", 0);
    static const char sql[] =
        "SELECT id, DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), actor, via, action, target_type, "
        "target, before_json, after_json, prev_hash, hash FROM audit_log WHERE id > ? "
        "ORDER BY id LIMIT " BATCH_STR;
    for (;;) {
        hub_dbp p[] = {DB_INT(last_id)};
        hub_dbres_free(&r);
        if (!hub_db_exec(db, sql, p, 1, &r, NULL, NULL) || r.ncols != 11) {
            say(msg, msgsz, "cannot read the audit log", 0);
            goto end;
        }
        if (r.nrows == 0)
            break;
        int st = check_batch(&r, prev, &nrows, &bad, &last_id, msg, msgsz);
        if (st < 0) {
            say(msg, msgsz, "out of memory", 0);
            goto end;
        }
        if (st == 0)
            goto end;
    }
    rc = true;
end:
    hub_dbres_free(&r);
    if (rows != NULL)
        *rows = nrows;
    if (bad_id != NULL)
        *bad_id = bad;
    return rc;
}

/* ---- the before/after writer ------------------------------------------------------- */

void hub_jobj_begin(hub_jobj *j)
{
    memset(j, 0, sizeof(*j));
    hub_buf_init(&j->b, 0);
    j->oom = !hub_buf_puts(&j->b, "{");
}

/* Writes the separator and "key": of a new member. */
static void member(hub_jobj *j, const char *key)
{
    if (j->oom || j->closed)
        return;
    if (j->b.len > 1 && !hub_buf_puts(&j->b, ","))
        j->oom = true;
    else if (!hub_buf_json_str(&j->b, key) || !hub_buf_puts(&j->b, ":"))
        j->oom = true;
}

/* Appends the JSON text v of a member just started by member(). */
static void value(hub_jobj *j, const char *v)
{
    if (!j->oom && !j->closed && !hub_buf_puts(&j->b, v))
        j->oom = true;
}

void hub_jobj_str(hub_jobj *j, const char *key, const char *val)
{
    member(j, key);
    if (val == NULL)
        value(j, "null");
    else if (!j->oom && !j->closed && !hub_buf_json_str(&j->b, val))
        j->oom = true;
}

void hub_jobj_int(hub_jobj *j, const char *key, long long v)
{
    member(j, key);
    if (!j->oom && !j->closed && !hub_buf_printf(&j->b, "%lld", v))
        j->oom = true;
}

void hub_jobj_bool(hub_jobj *j, const char *key, bool v)
{
    member(j, key);
    value(j, v ? "true" : "false");
}

void hub_jobj_raw(hub_jobj *j, const char *key, const char *val)
{
    member(j, key);
    value(j, val != NULL ? val : "null");
}

void hub_jobj_row(hub_jobj *j, const hub_dbres *r, int row, const char *const *keys, int n)
{
    for (int i = 0; i < n && row < r->nrows; i++)
        hub_jobj_str(j, keys[i], hub_dbres_get(r, row, i));
}

const char *hub_jobj_text(hub_jobj *j)
{
    if (!j->oom && !j->closed) {
        j->oom = !hub_buf_puts(&j->b, "}");
        j->closed = true;
    }
    return j->oom ? NULL : j->b.data;
}

void hub_jobj_free(hub_jobj *j)
{
    hub_buf_free(&j->b);
    memset(j, 0, sizeof(*j));
}
