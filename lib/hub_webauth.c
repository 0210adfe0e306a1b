/*
 * hub_webauth.c — who is signed in to the admin pages (see hub_webauth.h).
 *
 * Every signed-in request ends in a session (hub_session.h). In webserver mode — and only
 * when admin_auth lists "webserver" — the variable named by webserver_user_var is trusted
 * as the user's name and the groups variable decides the role through role_map; the user
 * is provisioned (created, or their role brought in line) and gets a session whose cookie
 * is handed back in set_cookie. A valid session cookie of the same user with the same role
 * is reused, so provisioning runs once per session, not on every page. A role change ends
 * every old session of the user. Without a web server identity, the session cookie alone
 * decides (local and OIDC sign-ins create it on their login pages).
 */
#include "hub_webauth.h"

#include "hub_audit.h"
#include "hub_buf.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#define NAME_MAX_BYTES 128 /* users.name */

static int role_rank(const char *role)
{
    if (role == NULL)
        return 0;
    if (strcmp(role, "admin") == 0)
        return 3;
    if (strcmp(role, "viewer") == 0)
        return 2;
    if (strcmp(role, "member") == 0)
        return 1;
    return 0;
}

bool hub_role_at_least(const char *have, const char *need)
{
    int h = role_rank(have);
    int n = role_rank(need);
    return h > 0 && n > 0 && h >= n;
}

/* The canonical static name of a role rank. */
static const char *role_name(int rank)
{
    return rank == 3 ? "admin" : rank == 2 ? "viewer" : "member";
}

/* Calls fn(item, len, arg) for each item of s split on any of seps, blanks trimmed;
 * stops early when fn returns false. */
static void each_item(const char *s, const char *seps, bool (*fn)(const char *, size_t, void *),
                      void *arg)
{
    while (s != NULL && *s != '\0') {
        size_t n = strcspn(s, seps);
        const char *item = s;
        size_t len = n;
        while (len > 0 && (*item == ' ' || *item == '\t'))
            item++, len--;
        while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
            len--;
        if (len > 0 && !fn(item, len, arg))
            return;
        s += n;
        if (*s != '\0')
            s++;
    }
}

typedef struct {
    const char *want;
    bool found;
} mode_probe;

static bool mode_item(const char *item, size_t len, void *arg)
{
    mode_probe *m = arg;
    if (strlen(m->want) == len && strncmp(item, m->want, len) == 0)
        m->found = true;
    return !m->found;
}

bool hub_webauth_mode(const hub_config *cfg, const char *mode)
{
    mode_probe m = {.want = mode, .found = false};
    if (cfg == NULL || mode == NULL || *mode == '\0')
        return false;
    each_item(cfg->admin_auth, ",", mode_item, &m);
    return m.found;
}

/* ---- role_map ------------------------------------------------------------------------- */

typedef struct {
    const char *group; /* one group of the user */
    size_t glen;
    int best; /* highest rank found so far */
} map_probe;

/* One "group=role" entry of role_map against the group in the probe. */
static bool map_item(const char *item, size_t len, void *arg)
{
    map_probe *m = arg;
    const char *eq = memchr(item, '=', len);
    if (eq == NULL)
        return true;
    size_t glen = (size_t)(eq - item);
    while (glen > 0 && (item[glen - 1] == ' ' || item[glen - 1] == '\t'))
        glen--;
    const char *role = eq + 1;
    size_t rlen = len - (size_t)(role - item);
    while (rlen > 0 && (*role == ' ' || *role == '\t'))
        role++, rlen--;
    char rbuf[16];
    if (rlen == 0 || rlen >= sizeof(rbuf))
        return true;
    memcpy(rbuf, role, rlen);
    rbuf[rlen] = '\0';
    int rank = role_rank(rbuf);
    if (glen == m->glen && strncmp(item, m->group, glen) == 0 && rank > m->best)
        m->best = rank;
    return true;
}

typedef struct {
    const hub_config *cfg;
    int best;
} groups_probe;

static bool group_item(const char *item, size_t len, void *arg)
{
    groups_probe *g = arg;
    map_probe m = {.group = item, .glen = len, .best = g->best};
    each_item(g->cfg->role_map, ",", map_item, &m);
    g->best = m.best;
    return g->best < 3; /* admin cannot be beaten */
}

const char *hub_webauth_role_for_groups(const hub_config *cfg, const char *groups)
{
    groups_probe g = {.cfg = cfg, .best = 0};
    each_item(groups, ",; \t", group_item, &g);
    if (g.best > 0)
        return role_name(g.best);
    int dflt = role_rank(cfg->default_role);
    return role_name(dflt > 0 ? dflt : 1); /* an unknown default is the least privilege */
}

/* ---- provisioning ---------------------------------------------------------------------- */

long long hub_webauth_provision(hub_db *db, const char *name, const char *email, const char *role,
                                const char *src)
{
    long long id = 0;
    long long found = 0;
    hub_dbres r = {0};
    hub_buf after; /* owned: the audit row's after_json */
    bool in_tx = false;

    hub_buf_init(&after, 1024);

    if (name == NULL || *name == '\0' || strlen(name) > NAME_MAX_BYTES || role_rank(role) == 0 ||
        src == NULL || *src == '\0')
        goto end;
    if (!hub_db_query(db, "START TRANSACTION"))
        goto end;
    in_tx = true;
    static const char sql_sel[] = "SELECT id, role FROM users WHERE name = ? FOR UPDATE";
    static const char sql_ins[] = "INSERT INTO users (name, email, role, auth_source) "
                                  "VALUES (?, ?, ?, ?)";
    static const char sql_role[] = "UPDATE users SET role = ? WHERE id = ?";
    hub_dbp ps[] = {DB_STR(name)};
    if (!hub_db_exec(db, sql_sel, ps, 1, &r, NULL, NULL))
        goto end;
    if (r.nrows == 0) {
        hub_dbp pi[] = {DB_STR(name), DB_STR(email), DB_STR(role), DB_STR(src)};
        if (!hub_db_exec(db, sql_ins, pi, 4, NULL, NULL, &found) || found <= 0)
            goto end;
        if (!hub_buf_printf(&after, "{\"role\":\"%s\",\"auth_source\":", role) ||
            !hub_buf_json_str(&after, src) || !hub_buf_puts(&after, "}"))
            goto end;
        if (!hub_audit_log(db, src, "pages", "user.provision", "user", name, NULL, after.data))
            goto end;
    } else {
        found = hub_dbres_int(&r, 0, 0, 0);
        const char *old = hub_dbres_get(&r, 0, 1);
        if (found <= 0)
            goto end;
        if (old == NULL || strcmp(old, role) != 0) {
            hub_dbp pu[] = {DB_STR(role), DB_INT(found)};
            char before[64];
            char now[64];
            snprintf(before, sizeof(before), "{\"role\":\"%s\"}", role_name(role_rank(old)));
            snprintf(now, sizeof(now), "{\"role\":\"%s\"}", role_name(role_rank(role)));
            if (!hub_db_exec(db, sql_role, pu, 2, NULL, NULL, NULL) ||
                !hub_session_end_user(db, found) ||
                !hub_audit_log(db, src, "pages", "user.role_sync", "user", name, before, now))
                goto end;
        }
    }
    if (!hub_db_query(db, "COMMIT"))
        goto end;
    in_tx = false;
    id = found;
end:
    if (in_tx)
        hub_db_query(db, "ROLLBACK");
    hub_dbres_free(&r);
    hub_buf_free(&after);
    return id;
}

/* ---- the current user ------------------------------------------------------------------- */

/* HUB_EDB when the last statement failed, else HUB_EAUTH. */
static hub_err no_session(hub_db *db)
{
    return hub_db_error(db)[0] != '\0' ? HUB_EDB : HUB_EAUTH;
}

/* Whether the session of cookie (that did not load) belongs to a disabled user. */
static hub_err why_no_session(hub_db *db, const char *cookie)
{
    unsigned char h[32];
    unsigned int hl = 0;
    hub_dbres r = {0};
    hub_err e = no_session(db);
    if (e != HUB_EAUTH || EVP_Digest(cookie, strlen(cookie), h, &hl, EVP_sha256(), NULL) != 1)
        return e;
    static const char sql[] = "SELECT u.disabled FROM sessions s JOIN users u ON u.id = s.user_id "
                              "WHERE s.id_hash = ? AND s.expires_at > UTC_TIMESTAMP(3)";
    hub_dbp p[] = {DB_BLOB(h, sizeof(h))};
    if (!hub_db_exec(db, sql, p, 1, &r, NULL, NULL))
        e = HUB_EDB;
    else if (r.nrows == 1 && hub_dbres_int(&r, 0, 0, 0) != 0)
        e = HUB_EFORBIDDEN;
    hub_dbres_free(&r);
    return e;
}

/* The session cookie's shape: 64 lower-case hex characters. */
static bool cookie_shape_ok(const char *v)
{
    size_t n = v != NULL ? strlen(v) : 0;
    if (n != 64)
        return false;
    return strspn(v, "0123456789abcdef") == n;
}

/* Webserver mode: the web server's user (already checked non-empty) gets a session. */
static hub_err webserver_user(hub_db *db, const hub_config *cfg, const hub_cgi *c, const char *user,
                              const char *cookie, hub_session *s, char *set_cookie,
                              size_t set_cookie_sz)
{
    hub_err e = HUB_EDB;
    char value[65] = "";
    hub_dbres r = {0};
    const char *groups = hub_cgi_env(cfg->webserver_groups_var);
    const char *role = hub_webauth_role_for_groups(cfg, groups);

    bool name_ok = strlen(user) <= NAME_MAX_BYTES;
    for (const unsigned char *u = (const unsigned char *)user; name_ok && *u; u++)
        name_ok = *u >= 0x20 && *u != 0x7F;
    if (!name_ok) {
        e = HUB_EFORBIDDEN; /* not a name we can store or show */
        goto end;
    }
    if (cookie_shape_ok(cookie) && hub_session_load(db, cookie, s)) {
        if (strcmp(s->user, user) == 0 && strcmp(s->role, role) == 0) {
            e = HUB_OK;
            goto end;
        }
        if (strcmp(s->user, user) != 0)
            hub_session_end(db, cookie); /* another user's session in this browser */
    }
    memset(s, 0, sizeof(*s));
    long long id = hub_webauth_provision(db, user, NULL, role, "webserver");
    if (id <= 0 && !hub_db_was_down(db)) /* two first page views raced: the loser retries */
        id = hub_webauth_provision(db, user, NULL, role, "webserver");
    if (id <= 0)
        goto end;
    static const char sql[] = "SELECT disabled FROM users WHERE id = ?";
    hub_dbp p[] = {DB_INT(id)};
    if (!hub_db_exec(db, sql, p, 1, &r, NULL, NULL) || r.nrows != 1)
        goto end;
    if (hub_dbres_int(&r, 0, 0, 1) != 0) {
        e = HUB_EFORBIDDEN;
        goto end;
    }
    if (!hub_session_create(db, id, c->remote_addr, cfg->session_ttl_minutes, value, s))
        goto end;
    if (set_cookie != NULL)
        hub_session_cookie_header(set_cookie, set_cookie_sz, value, cfg->cookie_secure != 0,
                                  cfg->session_ttl_minutes);
    e = HUB_OK;
end:
    hub_dbres_free(&r);
    if (e != HUB_OK)
        memset(s, 0, sizeof(*s));
    return e;
}

hub_err hub_webauth_current(hub_db *db, const hub_config *cfg, const hub_cgi *c, hub_session *s,
                            char *set_cookie, size_t set_cookie_sz)
{
    if (set_cookie != NULL && set_cookie_sz > 0)
        set_cookie[0] = '\0';
    memset(s, 0, sizeof(*s));
    const char *cookie = hub_cgi_cookie(c, HUB_SESSION_COOKIE);
    if (hub_webauth_mode(cfg, "webserver")) {
        const char *user = hub_cgi_env(cfg->webserver_user_var);
        if (user != NULL)
            return webserver_user(db, cfg, c, user, cookie, s, set_cookie, set_cookie_sz);
    }
    if (!cookie_shape_ok(cookie))
        return HUB_EAUTH;
    if (hub_session_load(db, cookie, s))
        return HUB_OK;
    return why_no_session(db, cookie);
}
