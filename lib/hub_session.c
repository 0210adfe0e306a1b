/*
 * hub_session.c — admin page sessions, their CSRF tokens and login throttling
 * (see hub_session.h; tables sessions and login_failures of schema/005_admin.sql).
 *
 * The cookie value is 32 random bytes in hex; the database holds only its SHA-256, so a
 * read of the sessions table does not yield a usable cookie. A session row carries its own
 * expiry: on use (at most once a minute) it slides forward by the session's original length
 * (expires_at - last_seen_at), so no configuration is needed to refresh it. Loading joins
 * the user and skips disabled users, so disabling a user ends their access at once.
 *
 * Throttling keeps one row per subject (a user name or a client address) with a failure
 * count inside a window; reaching the maximum locks the subject. The counting is a single
 * upsert whose assignments are safe under both MariaDB assignment orders (left-to-right
 * and SIMULTANEOUS_ASSIGNMENT). The policy defaults to 5 failures / 300 s window / 300 s
 * lock; hub_login_policy sets it once at start-up from hub.conf.
 */
#include "hub_session.h"

#include "hub_crypto.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define ID_BYTES    32
#define VALUE_LEN   (ID_BYTES * 2)
#define SUBJECT_MAX 191 /* login_failures.subject */

/* Not yet in hub_session.h (proposed there): sets the throttling policy; call it once at
 * start-up, before threads. Values < 1 keep the current setting. */
void hub_login_policy(int max_failures, int window_seconds, int lock_seconds);

static int policy_max = 5;
static int policy_window = 300;
static int policy_lock = 300;

void hub_login_policy(int max_failures, int window_seconds, int lock_seconds)
{
    if (max_failures > 0)
        policy_max = max_failures;
    if (window_seconds > 0)
        policy_window = window_seconds;
    if (lock_seconds > 0)
        policy_lock = lock_seconds;
}

/* True when v is exactly 64 lower-case hex characters (the only shape we ever issue). */
static bool value_ok(const char *v)
{
    if (v == NULL)
        return false;
    size_t i = 0;
    for (; v[i] != '\0'; i++) {
        if (i == VALUE_LEN || !((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return false;
    }
    return i == VALUE_LEN;
}

static bool sha256(const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32;
}

/* Copies at most cap-1 bytes of s into dst. */
static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s != NULL ? s : "");
}

bool hub_session_create(hub_db *db, long long user_id, const char *remote_addr, int ttl_minutes,
                        char cookie_value[65], hub_session *out)
{
    bool rc = false;
    unsigned char id[ID_BYTES]; /* cleansed at end */
    unsigned char id_hash[32];
    unsigned char csrf_raw[32]; /* cleansed at end */
    char csrf[65];
    char value[VALUE_LEN + 1]; /* cleansed at end */
    char addr[64];
    long long affected = 0;

    cookie_value[0] = '\0';
    if (user_id <= 0 || ttl_minutes <= 0 || ttl_minutes > 60 * 24 * 366)
        goto end;
    if (!hub_random_bytes(id, sizeof(id)) || !hub_random_bytes(csrf_raw, sizeof(csrf_raw)))
        goto end;
    hub_hex(id, sizeof(id), value);
    hub_hex(csrf_raw, sizeof(csrf_raw), csrf);
    if (!sha256(value, VALUE_LEN, id_hash))
        goto end;
    copy_str(addr, sizeof(addr), remote_addr);

    /* housekeeping: logins are rare, the table is small */
    static const char sql_sweep[] = "DELETE FROM sessions WHERE expires_at <= UTC_TIMESTAMP(3)";
    if (!hub_db_exec(db, sql_sweep, NULL, 0, NULL, NULL, NULL))
        goto end;
    static const char sql_ins[] =
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, "
        "last_seen_at, remote_addr) SELECT ?, id, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) + "
        "INTERVAL ? MINUTE, UTC_TIMESTAMP(3), ? FROM users WHERE id = ? AND disabled = 0";
    hub_dbp p[] = {DB_BLOB(id_hash, sizeof(id_hash)), DB_STR(csrf), DB_INT(ttl_minutes),
                   DB_STR(addr[0] ? addr : NULL), DB_INT(user_id)};
    if (!hub_db_exec(db, sql_ins, p, 5, NULL, &affected, NULL) || affected != 1)
        goto end;
    /* a new session is a sign-in, whatever the mode (local, oidc, webserver) */
    static const char sql_last[] = "UPDATE users SET last_login_at = UTC_TIMESTAMP(3) WHERE id = ?";
    hub_dbp pl[] = {DB_INT(user_id)};
    hub_db_exec(db, sql_last, pl, 1, NULL, NULL, NULL);
    if (out != NULL && !hub_session_load(db, value, out))
        goto end;
    memcpy(cookie_value, value, sizeof(value));
    rc = true;
end:
    OPENSSL_cleanse(id, sizeof(id));
    OPENSSL_cleanse(csrf_raw, sizeof(csrf_raw));
    OPENSSL_cleanse(value, sizeof(value));
    return rc;
}

bool hub_session_load(hub_db *db, const char *cookie_value, hub_session *out)
{
    bool rc = false;
    unsigned char id_hash[32];
    hub_dbres r = {0};

    memset(out, 0, sizeof(*out));
    if (!value_ok(cookie_value) || !sha256(cookie_value, VALUE_LEN, id_hash))
        goto end;
    static const char sql_sel[] =
        "SELECT u.id, u.name, u.role, u.team_id, s.csrf_token, "
        "s.last_seen_at < UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE "
        "FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.id_hash = ? AND s.expires_at > UTC_TIMESTAMP(3) AND u.disabled = 0";
    hub_dbp p[] = {DB_BLOB(id_hash, sizeof(id_hash))};
    if (!hub_db_exec(db, sql_sel, p, 1, &r, NULL, NULL) || r.nrows != 1)
        goto end;
    const char *csrf = hub_dbres_get(&r, 0, 4);
    if (csrf == NULL || strlen(csrf) != 64)
        goto end;
    out->user_id = hub_dbres_int(&r, 0, 0, 0);
    copy_str(out->user, sizeof(out->user), hub_dbres_get(&r, 0, 1));
    copy_str(out->role, sizeof(out->role), hub_dbres_get(&r, 0, 2));
    out->team_id = hub_dbres_int(&r, 0, 3, 0);
    copy_str(out->csrf, sizeof(out->csrf), csrf);
    if (hub_dbres_int(&r, 0, 5, 0) == 1) {
        /* slide the expiry by the session's own length; expires_at is assigned first and
         * reads the old last_seen_at under either assignment order */
        static const char sql_touch[] =
            "UPDATE sessions SET expires_at = UTC_TIMESTAMP(3) + INTERVAL "
            "TIMESTAMPDIFF(MICROSECOND, last_seen_at, expires_at) MICROSECOND, "
            "last_seen_at = UTC_TIMESTAMP(3) WHERE id_hash = ?";
        if (!hub_db_exec(db, sql_touch, p, 1, NULL, NULL, NULL))
            goto end;
    }
    rc = out->user_id > 0;
end:
    hub_dbres_free(&r);
    if (!rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

bool hub_session_end(hub_db *db, const char *cookie_value)
{
    unsigned char id_hash[32];
    if (!value_ok(cookie_value) || !sha256(cookie_value, VALUE_LEN, id_hash))
        return false;
    static const char sql[] = "DELETE FROM sessions WHERE id_hash = ?";
    hub_dbp p[] = {DB_BLOB(id_hash, sizeof(id_hash))};
    return hub_db_exec(db, sql, p, 1, NULL, NULL, NULL);
}

bool hub_session_end_user(hub_db *db, long long user_id)
{
    static const char sql[] = "DELETE FROM sessions WHERE user_id = ?";
    hub_dbp p[] = {DB_INT(user_id)};
    return hub_db_exec(db, sql, p, 1, NULL, NULL, NULL);
}

bool hub_session_csrf_ok(const hub_session *s, const char *token)
{
    if (s == NULL || token == NULL || strlen(s->csrf) != 64 || strlen(token) != 64)
        return false;
    return CRYPTO_memcmp(s->csrf, token, 64) == 0;
}

void hub_session_cookie_header(char *out, size_t outsz, const char *value, bool secure,
                               int ttl_minutes)
{
    if (out == NULL || outsz == 0)
        return;
    out[0] = '\0';
    if (value != NULL && !value_ok(value))
        return; /* never put anything but our own hex into a header */
    long max_age = (value != NULL && ttl_minutes > 0) ? (long)ttl_minutes * 60 : 0;
    int n = snprintf(out, outsz,
                     "Set-Cookie: " HUB_SESSION_COOKIE
                     "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s\r\n",
                     value != NULL ? value : "", max_age, secure ? "; Secure" : "");
    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0'; /* a cut header line would corrupt the response head */
}

/* ---- login throttling ------------------------------------------------------------------ */

/* The stored subject: itself when short printable ASCII, else "sha256:" + hex. */
static void subject_key(const char *subject, char out[SUBJECT_MAX + 1])
{
    size_t n = strlen(subject);
    bool plain = n <= SUBJECT_MAX;
    for (size_t i = 0; plain && i < n; i++)
        plain = subject[i] >= 0x20 && subject[i] < 0x7F;
    if (plain) {
        memcpy(out, subject, n + 1);
        return;
    }
    unsigned char h[32];
    memcpy(out, "sha256:", 7);
    if (!sha256(subject, n, h))
        memset(h, 0, sizeof(h));
    hub_hex(h, sizeof(h), out + 7);
}

bool hub_login_allowed(hub_db *db, const char *subject, long *retry_s)
{
    bool rc = false;
    char key[SUBJECT_MAX + 1];
    hub_dbres r = {0};
    long retry = 0;

    if (subject == NULL)
        goto end;
    subject_key(subject, key);
    static const char sql[] =
        "SELECT CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), locked_until) / 1000000) "
        "FROM login_failures WHERE subject = ? AND locked_until > UTC_TIMESTAMP(3)";
    hub_dbp p[] = {DB_STR(key)};
    if (!hub_db_exec(db, sql, p, 1, &r, NULL, NULL))
        goto end; /* fail closed, *retry_s 0: the database is down */
    if (r.nrows > 0) {
        retry = (long)hub_dbres_int(&r, 0, 0, 1);
        if (retry < 1)
            retry = 1;
        goto end;
    }
    rc = true;
end:
    if (retry_s != NULL)
        *retry_s = retry;
    hub_dbres_free(&r);
    return rc;
}

void hub_login_failed(hub_db *db, const char *subject)
{
    char key[SUBJECT_MAX + 1];
    if (subject == NULL)
        return;
    subject_key(subject, key);
    /* E = the window has passed. locked_until is assigned first and failures before
     * window_start, so every expression reads old values under either assignment order. */
    static const char sql[] =
        "INSERT INTO login_failures (subject, failures, window_start, locked_until) "
        "VALUES (?, 1, UTC_TIMESTAMP(3), IF(1 >= ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, NULL)) "
        "ON DUPLICATE KEY UPDATE "
        "locked_until = IF(IF(window_start <= UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 1, "
        "failures + 1) >= ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND, "
        "IF(window_start <= UTC_TIMESTAMP(3) - INTERVAL ? SECOND, NULL, locked_until)), "
        "failures = IF(window_start <= UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 1, failures + 1), "
        "window_start = IF(window_start <= UTC_TIMESTAMP(3) - INTERVAL ? SECOND, "
        "UTC_TIMESTAMP(3), window_start)";
    hub_dbp p[] = {DB_STR(key),           DB_INT(policy_max),    DB_INT(policy_lock),
                   DB_INT(policy_window), DB_INT(policy_max),    DB_INT(policy_lock),
                   DB_INT(policy_window), DB_INT(policy_window), DB_INT(policy_window)};
    hub_db_exec(db, sql, p, 9, NULL, NULL, NULL);
    static const char sql_sweep[] =
        "DELETE FROM login_failures WHERE window_start < UTC_TIMESTAMP(3) - INTERVAL 1 DAY "
        "AND (locked_until IS NULL OR locked_until < UTC_TIMESTAMP(3)) LIMIT 100";
    hub_db_exec(db, sql_sweep, NULL, 0, NULL, NULL, NULL);
}

void hub_login_succeeded(hub_db *db, const char *subject)
{
    char key[SUBJECT_MAX + 1];
    if (subject == NULL)
        return;
    subject_key(subject, key);
    /* a success never lifts a running lock */
    static const char sql[] = "DELETE FROM login_failures WHERE subject = ? AND "
                              "(locked_until IS NULL OR locked_until <= UTC_TIMESTAMP(3))";
    hub_dbp p[] = {DB_STR(key)};
    hub_db_exec(db, sql, p, 1, NULL, NULL, NULL);
}
