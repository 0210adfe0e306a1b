/*
 * test_web2.c — unit tests of the database-backed parts of the admin pages' library:
 * sessions (create, load, sliding expiry, end, end per user, disabled users), login
 * throttling, the hash-chained audit log (append, verify, edits and deletions detected,
 * concurrent appends) and hub_webauth (webserver mode, session reuse, role changes,
 * disabled users, database down).
 *
 * Usage: test_web2 (no arguments). Runs only when HUB_TEST_DB_SOCKET names a MariaDB socket
 * (with HUB_TEST_DB_USER, HUB_TEST_DB_PASSWORD, HUB_TEST_DB_NAME; the schema applied);
 * otherwise prints one "ok - skipped: no database". Rows it creates are named
 * "webtest-PID-…" and removed at the end; audit rows stay (the log is append-only) and the
 * chain is left intact (tampered rows are restored).
 */
#include "hub_audit.h"
#include "hub_cgi.h"
#include "hub_config.h"
#include "hub_db.h"
#include "hub_session.h"
#include "hub_webauth.h"
#include "tap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Not yet in hub_session.h (proposed): the throttling policy setter of hub_session.c. */

static hub_config cfg;
static hub_db *db;
static char prefix[64]; /* "webtest-PID-" */

/* ---- helpers ------------------------------------------------------------------------ */

static bool x(const char *sql, const hub_dbp *p, int n)
{
    bool ok = hub_db_exec(db, sql, p, n, NULL, NULL, NULL);
    if (!ok)
        fprintf(stderr, "# SQL failed: %s\n", hub_db_error(db));
    return ok;
}

/* The first cell of a one-row query as a number, or -1. */
static long long q_int(const char *sql, const hub_dbp *p, int n)
{
    hub_dbres r = {0};
    long long v = -1;
    if (hub_db_exec(db, sql, p, n, &r, NULL, NULL) && r.nrows > 0)
        v = hub_dbres_int(&r, 0, 0, -1);
    hub_dbres_free(&r);
    return v;
}

static void uname(char *out, size_t sz, const char *who)
{
    snprintf(out, sz, "%s%s", prefix, who);
}

static long long make_user(const char *who, const char *role)
{
    char name[128];
    long long id = 0;
    uname(name, sizeof(name), who);
    hub_dbp p[] = {DB_STR(name), DB_STR(role)};
    if (!hub_db_exec(db, "INSERT INTO users (name, role) VALUES (?, ?)", p, 2, NULL, NULL, &id))
        return 0;
    return id;
}

/* Seconds from now to the session's expires_at. */
static long long expires_in(const char *cookie)
{
    hub_dbp p[] = {DB_STR(cookie)};
    return q_int("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), expires_at) FROM sessions "
                 "WHERE id_hash = UNHEX(SHA2(?, 256))",
                 p, 1);
}

static bool is_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* ---- sessions ----------------------------------------------------------------------- */

static void test_sessions(void)
{
    char c1[65], c2[65], c3[65];
    hub_session s, t;
    long long u1 = make_user("alice", "admin");
    long long u2 = make_user("bob", "member");
    TAP_CHECK(u1 > 0 && u2 > 0, "session: test users");

    bool ok = hub_session_create(db, u1, "192.0.2.1", 10, c1, &s);
    TAP_CHECK(ok && is_hex64(c1) && is_hex64(s.csrf) && s.user_id == u1 &&
                  strcmp(s.role, "admin") == 0 && strncmp(s.user, prefix, strlen(prefix)) == 0,
              "session: create fills cookie, csrf, user");
    hub_dbp pc[] = {DB_STR(c1)};
    TAP_CHECK(q_int("SELECT COUNT(*) FROM sessions WHERE id_hash = UNHEX(SHA2(?, 256))", pc, 1) ==
                  1,
              "session: only the SHA-256 of the cookie is stored");
    TAP_CHECK(hub_session_load(db, c1, &t) && t.user_id == u1 && strcmp(t.csrf, s.csrf) == 0,
              "session: load");
    TAP_CHECK(expires_in(c1) >= 595 && expires_in(c1) <= 600, "session: expires after ttl");

    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)((c1[i] >= 'a' && c1[i] <= 'f') ? c1[i] - 32 : c1[i]);
    char other[65];
    memcpy(other, c1, 65);
    other[0] = other[0] == '0' ? '1' : '0';
    TAP_CHECK(!hub_session_load(db, NULL, &t) && !hub_session_load(db, "abc", &t) &&
                  !hub_session_load(db, other, &t) &&
                  (strpbrk(c1, "abcdef") == NULL || !hub_session_load(db, upper, &t)) &&
                  t.user_id == 0,
              "session: garbage, unknown, upper-case cookies load nothing");

    x("UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(3) - INTERVAL 30 SECOND, expires_at = "
      "UTC_TIMESTAMP(3) + INTERVAL 5 MINUTE WHERE id_hash = UNHEX(SHA2(?, 256))",
      pc, 1);
    TAP_CHECK(hub_session_load(db, c1, &t) && expires_in(c1) >= 295 && expires_in(c1) <= 300,
              "session: not refreshed within a minute");
    x("UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(3) - INTERVAL 2 MINUTE, expires_at = "
      "UTC_TIMESTAMP(3) + INTERVAL 8 MINUTE WHERE id_hash = UNHEX(SHA2(?, 256))",
      pc, 1);
    TAP_CHECK(hub_session_load(db, c1, &t) && expires_in(c1) >= 595 && expires_in(c1) <= 600,
              "session: refreshed on use by its own length");
    x("UPDATE sessions SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id_hash = "
      "UNHEX(SHA2(?, 256))",
      pc, 1);
    TAP_CHECK(!hub_session_load(db, c1, &t), "session: expired session does not load");

    ok = hub_session_create(db, u1, NULL, 10, c2, &s) && hub_session_create(db, u1, "", 10, c3, &t);
    TAP_CHECK(ok && strcmp(c2, c3) != 0 && strcmp(s.csrf, t.csrf) != 0,
              "session: each session has its own secret and csrf");
    TAP_CHECK(hub_session_csrf_ok(&s, s.csrf) && !hub_session_csrf_ok(&s, t.csrf),
              "session: csrf compared with the session's own");
    TAP_CHECK(hub_session_end(db, c2) && !hub_session_load(db, c2, &s) &&
                  hub_session_load(db, c3, &t),
              "session: end deletes only that session");
    TAP_CHECK(hub_session_end(db, c2) && !hub_session_end(db, "nope"),
              "session: ending twice is fine, garbage is refused");
    hub_session_create(db, u1, NULL, 10, c2, NULL);
    TAP_CHECK(hub_session_end_user(db, u1) && !hub_session_load(db, c2, &s) &&
                  !hub_session_load(db, c3, &s),
              "session: end_user deletes every session of the user");

    hub_dbp pu[] = {DB_INT(u2)};
    x("UPDATE users SET disabled = 1 WHERE id = ?", pu, 1);
    TAP_CHECK(!hub_session_create(db, u2, NULL, 10, c1, &s) && c1[0] == '\0',
              "session: a disabled user gets no session");
    x("UPDATE users SET disabled = 0 WHERE id = ?", pu, 1);
    ok = hub_session_create(db, u2, NULL, 10, c1, &s);
    x("UPDATE users SET disabled = 1 WHERE id = ?", pu, 1);
    TAP_CHECK(ok && !hub_session_load(db, c1, &s), "session: disabling a user ends access");
    TAP_CHECK(!hub_session_create(db, 999999999, NULL, 10, c1, &s) &&
                  !hub_session_create(db, u1, NULL, 0, c1, &s),
              "session: unknown user, zero ttl refused");
}

/* ---- throttling -------------------------------------------------------------------------- */

static void test_throttle(void)
{
    char subj[128];
    long retry = -1;
    uname(subj, sizeof(subj), "throttle");
    hub_login_policy(3, 300, 2);
    TAP_CHECK(hub_login_allowed(db, subj, &retry) && retry == 0, "throttle: fresh subject allowed");
    hub_login_failed(db, subj);
    hub_login_failed(db, subj);
    TAP_CHECK(hub_login_allowed(db, subj, &retry), "throttle: below the maximum allowed");
    hub_login_failed(db, subj);
    TAP_CHECK(!hub_login_allowed(db, subj, &retry) && retry >= 1 && retry <= 2,
              "throttle: locked after max failures, retry seconds given");
    hub_login_succeeded(db, subj);
    TAP_CHECK(!hub_login_allowed(db, subj, &retry), "throttle: a success does not lift a lock");
    usleep(2200 * 1000);
    TAP_CHECK(hub_login_allowed(db, subj, &retry), "throttle: unlocked after the lock time");
    hub_login_succeeded(db, subj);
    hub_login_failed(db, subj);
    TAP_CHECK(hub_login_allowed(db, subj, &retry), "throttle: success resets the count");

    char other[128];
    uname(other, sizeof(other), "throttle-window");
    hub_login_policy(2, 1, 2);
    hub_login_failed(db, other);
    usleep(1200 * 1000);
    hub_login_failed(db, other);
    TAP_CHECK(hub_login_allowed(db, other, &retry), "throttle: failures outside the window reset");
    hub_login_failed(db, other);
    TAP_CHECK(!hub_login_allowed(db, other, &retry), "throttle: two in the window lock");

    char longsubj[400];
    memset(longsubj, 'z', sizeof(longsubj) - 1);
    longsubj[sizeof(longsubj) - 1] = '\0';
    hub_login_policy(1, 300, 60);
    hub_login_failed(db, longsubj);
    TAP_CHECK(!hub_login_allowed(db, longsubj, &retry) && retry > 50,
              "throttle: long subjects work (stored hashed)");
    hub_dbp pl[] = {DB_STR(longsubj)};
    x("DELETE FROM login_failures WHERE subject = CONCAT('sha256:', SHA2(?, 256))", pl, 1);
    hub_login_policy(5, 300, 300);
}

/* ---- audit ---------------------------------------------------------------------------- */

static bool verify(long long *bad, char *msg, size_t msgsz)
{
    long long rows = 0;
    return hub_audit_verify(db, &rows, bad, msg, msgsz);
}

static bool append_tx(hub_db *h, const char *actor, const char *after)
{
    if (!hub_db_query(h, "START TRANSACTION"))
        return false;
    if (hub_audit_log(h, actor, "pages", "key.create", "api_key", "7", NULL, after) &&
        hub_db_query(h, "COMMIT"))
        return true;
    hub_db_query(h, "ROLLBACK");
    return false;
}

static void *appender(void *arg)
{
    const char *actor = arg;
    hub_db *h = hub_db_new(&cfg);
    for (int i = 0; h != NULL && i < 15; i++) {
        if (!append_tx(h, actor, "{\"n\":1}")) /* no retries: appends must not deadlock */
            fprintf(stderr, "# append failed: %s\n", hub_db_error(h));
    }
    hub_db_free(h);
    return NULL;
}

static void test_audit(void)
{
    char actor[128], msg[256];
    long long rows = 0, bad = -1;
    uname(actor, sizeof(actor), "auditor");
    TAP_CHECK(hub_audit_verify(db, &rows, &bad, msg, sizeof(msg)) && bad == 0,
              "audit: chain intact before the test");

    bool ok = hub_db_query(db, "START TRANSACTION") &&
              hub_audit_log(db, actor, "pages", "user.create", "user", "x", NULL, "{\"a\":1}") &&
              hub_audit_log(db, actor, "hubctl", "user.edit", "user", "x\ny", "{\"a\":1}",
                            "{\"b\":\"2:\\n3\"}") &&
              hub_audit_log(db, actor, "pages", "user.delete", "user", "x", "{}", NULL) &&
              hub_db_query(db, "COMMIT");
    TAP_CHECK(ok, "audit: three appends in a transaction");
    TAP_CHECK(!hub_audit_log(db, NULL, "pages", "a", "t", "x", NULL, NULL),
              "audit: missing actor refused");
    long long rows2 = 0;
    ok = hub_audit_verify(db, &rows2, &bad, msg, sizeof(msg));
    TAP_CHECK(ok && rows2 == rows + 3 && bad == 0, "audit: verify counts the rows");

    hub_dbp pa[] = {DB_STR(actor)};
    long long first = q_int("SELECT MIN(id) FROM audit_log WHERE actor = ?", pa, 1);
    long long mid =
        q_int("SELECT MIN(id) FROM audit_log WHERE actor = ? AND action = 'user.edit'", pa, 1);
    long long last = q_int("SELECT MAX(id) FROM audit_log WHERE actor = ?", pa, 1);
    hub_dbp pm[] = {DB_INT(mid)};
    TAP_CHECK(first > 0 && mid > first && last > mid, "audit: rows found");

    x("UPDATE audit_log SET after_json = '{\"b\":\"evil\"}' WHERE id = ?", pm, 1);
    ok = verify(&bad, msg, sizeof(msg));
    TAP_CHECK(!ok && bad == mid && strstr(msg, "edited") != NULL, "audit: edited row detected");
    x("UPDATE audit_log SET after_json = '{\"b\":\"2:\\\\n3\"}' WHERE id = ?", pm, 1);
    TAP_CHECK(verify(&bad, msg, sizeof(msg)), "audit: restored row verifies");

    x("UPDATE audit_log SET ts = ts + INTERVAL 1 SECOND WHERE id = ?", pm, 1);
    ok = verify(&bad, msg, sizeof(msg));
    x("UPDATE audit_log SET ts = ts - INTERVAL 1 SECOND WHERE id = ?", pm, 1);
    TAP_CHECK(!ok && bad == mid, "audit: changed timestamp detected");
    x("UPDATE audit_log SET target = 'x' WHERE id = ?", pm, 1);
    ok = verify(&bad, msg, sizeof(msg));
    x("UPDATE audit_log SET target = 'x\ny' WHERE id = ?", pm, 1);
    TAP_CHECK(!ok && bad == mid, "audit: changed target detected");

    x("CREATE TEMPORARY TABLE audit_saved AS SELECT * FROM audit_log WHERE id = ?", pm, 1);
    x("DELETE FROM audit_log WHERE id = ?", pm, 1);
    ok = verify(&bad, msg, sizeof(msg));
    TAP_CHECK(!ok && bad == last && strstr(msg, "deleted") != NULL,
              "audit: deleted row detected at the next row");
    x("INSERT INTO audit_log SELECT * FROM audit_saved", NULL, 0);
    x("DROP TEMPORARY TABLE audit_saved", NULL, 0);
    TAP_CHECK(verify(&bad, msg, sizeof(msg)), "audit: chain intact again");

    pthread_t th[3];
    char actors[3][128];
    for (int i = 0; i < 3; i++) {
        snprintf(actors[i], sizeof(actors[i]), "%sconc%d", prefix, i);
        pthread_create(&th[i], NULL, appender, actors[i]);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    hub_dbp pl[] = {DB_STR(prefix)};
    long long n =
        q_int("SELECT COUNT(*) FROM audit_log WHERE actor LIKE CONCAT(?, 'conc%')", pl, 1);
    TAP_CHECK(n == 45 && verify(&bad, msg, sizeof(msg)),
              "audit: 3 x 15 concurrent appends, no deadlock, one chain");
}

/* ---- webauth ------------------------------------------------------------------------ */

/* The cookie value of a Set-Cookie line into out (65 bytes); false when absent. */
static bool cookie_of(const char *line, char out[65])
{
    const char *p = strstr(line, "hub_session=");
    if (p == NULL || strlen(p + 12) < 64)
        return false;
    memcpy(out, p + 12, 64);
    out[64] = '\0';
    return true;
}

static hub_err current(const char *cookie, hub_session *s, char *setc, size_t setsz)
{
    hub_cgi c;
    char hdr[128];
    memset(&c, 0, sizeof(c));
    c.remote_addr = "198.51.100.4";
    snprintf(hdr, sizeof(hdr), "hub_session=%s", cookie != NULL ? cookie : "");
    if (cookie != NULL)
        hub_cgi_parse_cookies(hdr, &c.cookies, &c.ncookies);
    hub_err e = hub_webauth_current(db, &cfg, &c, s, setc, setsz);
    hub_cgi_free(&c);
    return e;
}

static void test_webauth(void)
{
    hub_session s;
    char setc[256], ck[65], ck2[65], carol[128], dave[128];
    uname(carol, sizeof(carol), "carol");
    uname(dave, sizeof(dave), "dave");
    snprintf(cfg.admin_auth, sizeof(cfg.admin_auth), "local,webserver");
    snprintf(cfg.webserver_user_var, sizeof(cfg.webserver_user_var), "HUB_TEST_WEB_USER");
    snprintf(cfg.webserver_groups_var, sizeof(cfg.webserver_groups_var), "HUB_TEST_WEB_GROUPS");
    snprintf(cfg.role_map, sizeof(cfg.role_map), "wt-admins=admin,wt-viewers=viewer");
    cfg.cookie_secure = 1;
    cfg.session_ttl_minutes = 30;
    unsetenv("HUB_TEST_WEB_USER");

    TAP_CHECK(current(NULL, &s, setc, sizeof(setc)) == HUB_EAUTH && setc[0] == '\0',
              "webauth: nobody signed in");
    setenv("HUB_TEST_WEB_USER", carol, 1);
    setenv("HUB_TEST_WEB_GROUPS", "staff wt-admins", 1);
    hub_err e = current(NULL, &s, setc, sizeof(setc));
    TAP_CHECK(e == HUB_OK && strcmp(s.user, carol) == 0 && strcmp(s.role, "admin") == 0 &&
                  cookie_of(setc, ck) && strstr(setc, "; Secure\r\n") != NULL &&
                  strstr(setc, "Max-Age=1800") != NULL,
              "webauth: web server user provisioned with a session cookie");
    hub_dbp pn[] = {DB_STR(carol)};
    TAP_CHECK(q_int("SELECT COUNT(*) FROM users WHERE name = ? AND auth_source = 'webserver' "
                    "AND role = 'admin'",
                    pn, 1) == 1 &&
                  q_int("SELECT COUNT(*) FROM audit_log WHERE target = ? AND action = "
                        "'user.provision'",
                        pn, 1) == 1,
              "webauth: user row and audit row");
    char csrf[65];
    memcpy(csrf, s.csrf, sizeof(csrf));
    e = current(ck, &s, setc, sizeof(setc));
    TAP_CHECK(e == HUB_OK && setc[0] == '\0' && strcmp(s.csrf, csrf) == 0,
              "webauth: the session is reused");
    setenv("HUB_TEST_WEB_GROUPS", "wt-viewers", 1);
    e = current(ck, &s, setc, sizeof(setc));
    TAP_CHECK(e == HUB_OK && strcmp(s.role, "viewer") == 0 && cookie_of(setc, ck2) &&
                  strcmp(ck, ck2) != 0 && !hub_session_load(db, ck, &s),
              "webauth: a role change ends old sessions and starts a new one");
    setenv("HUB_TEST_WEB_USER", dave, 1);
    e = current(ck2, &s, setc, sizeof(setc));
    TAP_CHECK(e == HUB_OK && strcmp(s.user, dave) == 0 && strcmp(s.role, "viewer") == 0 &&
                  cookie_of(setc, ck) && !hub_session_load(db, ck2, &s),
              "webauth: another user's cookie is replaced and ended");

    snprintf(cfg.admin_auth, sizeof(cfg.admin_auth), "local");
    TAP_CHECK(current(NULL, &s, setc, sizeof(setc)) == HUB_EAUTH,
              "webauth: the user variable is ignored unless webserver mode is on");
    TAP_CHECK(current(ck, &s, setc, sizeof(setc)) == HUB_OK && strcmp(s.user, dave) == 0,
              "webauth: cookie session in local mode");
    TAP_CHECK(current("0123", &s, setc, sizeof(setc)) == HUB_EAUTH,
              "webauth: malformed cookie is not signed in");
    hub_dbp pd[] = {DB_STR(dave)};
    x("UPDATE users SET disabled = 1 WHERE name = ?", pd, 1);
    TAP_CHECK(current(ck, &s, setc, sizeof(setc)) == HUB_EFORBIDDEN,
              "webauth: disabled user's cookie is forbidden");
    snprintf(cfg.admin_auth, sizeof(cfg.admin_auth), "webserver");
    TAP_CHECK(current(NULL, &s, setc, sizeof(setc)) == HUB_EFORBIDDEN && setc[0] == '\0',
              "webauth: disabled web server user is forbidden");
    setenv("HUB_TEST_WEB_USER", "evil\nname", 1);
    TAP_CHECK(current(NULL, &s, setc, sizeof(setc)) == HUB_EFORBIDDEN,
              "webauth: a web server name with control characters is refused");
    unsetenv("HUB_TEST_WEB_USER");
    unsetenv("HUB_TEST_WEB_GROUPS");

    char erin[128];
    uname(erin, sizeof(erin), "erin");
    long long id = hub_webauth_provision(db, erin, "erin@example.org", "viewer", "oidc");
    char ce[65];
    bool ok = id > 0 && hub_session_create(db, id, NULL, 10, ce, NULL);
    long long id2 = hub_webauth_provision(db, erin, NULL, "admin", "oidc");
    hub_dbp pe[] = {DB_STR(erin)};
    TAP_CHECK(ok && id2 == id && !hub_session_load(db, ce, &s) &&
                  q_int("SELECT COUNT(*) FROM users WHERE name = ? AND role = 'admin' AND "
                        "email = 'erin@example.org' AND auth_source = 'oidc'",
                        pe, 1) == 1,
              "webauth: provision updates the role and ends sessions");
    TAP_CHECK(hub_webauth_provision(db, erin, NULL, "root", "oidc") == 0 &&
                  hub_webauth_provision(db, "", NULL, "member", "oidc") == 0,
              "webauth: provision refuses unknown roles and empty names");

    hub_config down = cfg;
    snprintf(down.db_socket, sizeof(down.db_socket), "/nonexistent/hub-test.sock");
    hub_db *dead = hub_db_new(&down);
    hub_cgi c;
    memset(&c, 0, sizeof(c));
    char hdr[80];
    snprintf(hdr, sizeof(hdr), "hub_session=%s", ck);
    hub_cgi_parse_cookies(hdr, &c.cookies, &c.ncookies);
    snprintf(down.admin_auth, sizeof(down.admin_auth), "local");
    long retry = -1;
    TAP_CHECK(hub_webauth_current(dead, &down, &c, &s, setc, sizeof(setc)) == HUB_EDB &&
                  !hub_login_allowed(dead, "x", &retry) && retry == 0,
              "webauth: database down is HUB_EDB; throttling fails closed");
    hub_cgi_free(&c);
    hub_db_free(dead);
}

int main(void)
{
    const char *sock = getenv("HUB_TEST_DB_SOCKET");
    if (sock == NULL || *sock == '\0') {
        printf("ok - skipped: no database\n");
        return 0;
    }
    hub_config_defaults(&cfg);
    snprintf(cfg.db_socket, sizeof(cfg.db_socket), "%s", sock);
    snprintf(cfg.db_user, sizeof(cfg.db_user), "%s",
             getenv("HUB_TEST_DB_USER") ? getenv("HUB_TEST_DB_USER") : "root");
    snprintf(cfg.db_password, sizeof(cfg.db_password), "%s",
             getenv("HUB_TEST_DB_PASSWORD") ? getenv("HUB_TEST_DB_PASSWORD") : "");
    snprintf(cfg.db_name, sizeof(cfg.db_name), "%s",
             getenv("HUB_TEST_DB_NAME") ? getenv("HUB_TEST_DB_NAME") : "hub");
    snprintf(prefix, sizeof(prefix), "webtest-%ld-", (long)getpid());
    mysql_library_init(0, NULL, NULL);
    db = hub_db_new(&cfg);
    bool up = db != NULL && hub_db_ensure(db);
    TAP_CHECK(up, "database reachable");
    if (up) {
        test_sessions();
        test_throttle();
        test_audit();
        test_webauth();
        hub_dbp pl[] = {DB_STR(prefix)};
        x("DELETE FROM users WHERE name LIKE CONCAT(?, '%')", pl, 1);
        x("DELETE FROM login_failures WHERE subject LIKE CONCAT(?, '%')", pl, 1);
    }
    hub_db_free(db);
    mysql_library_end();
    return tap_done();
}
