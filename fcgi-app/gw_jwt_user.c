/*
 * gw_jwt_user.c — who a verified corporate token speaks for: the user named by jwt_user_claim
 * and the team named by jwt_team_claim, found or created in MariaDB (user: auth_source
 * 'oidc', role member; team: created, the user made a member, and its primary team when it
 * had none). Idempotent under concurrency (unique names, INSERT IGNORE, then SELECT).
 *
 * Results are cached per (user, team) for key_cache_ms, so a disabled user is refused within
 * that time on every worker; during a database outage an identity seen within
 * db_grace_seconds keeps working, anything else fails closed (HUB_EDB). No JSON here.
 */
#include "gw_jwt.h"

#include "hub_log.h"
#include "hub_usage.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS  256 /* power of two */
#define PROBES 8

typedef struct {
    bool used;
    unsigned char hash[32]; /* SHA-256 of user '\0' team */
    long long checked_ms;
    bool disabled;
    gw_jwt_identity id;
} ident_entry;

struct gw_jwt_users {
    const hub_config *cfg;
    pthread_mutex_t mu; /* guards slots */
    ident_entry slots[SLOTS];
};

gw_jwt_users *gw_jwt_users_new(const hub_config *cfg)
{
    gw_jwt_users *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return NULL;
    u->cfg = cfg;
    pthread_mutex_init(&u->mu, NULL);
    return u;
}

void gw_jwt_users_free(gw_jwt_users *u)
{
    if (u == NULL)
        return;
    pthread_mutex_destroy(&u->mu);
    free(u);
}

static void ident_hash(const char *user, const char *team, unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    memset(out, 0, 32);
    if (md == NULL)
        return;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(md, user, strlen(user) + 1) == 1 &&
        EVP_DigestUpdate(md, team, strlen(team)) == 1)
        EVP_DigestFinal_ex(md, out, &n);
    EVP_MD_CTX_free(md);
}

static size_t slot_of(const unsigned char *h)
{
    size_t v = 0;
    memcpy(&v, h, sizeof(v));
    return v & (SLOTS - 1);
}

static bool cache_get(gw_jwt_users *j, const unsigned char *h, ident_entry *out)
{
    bool hit = false;
    size_t s = slot_of(h);
    pthread_mutex_lock(&j->mu);
    for (int i = 0; i < PROBES && !hit; i++) {
        const ident_entry *e = &j->slots[(s + (size_t)i) & (SLOTS - 1)];
        if (e->used && memcmp(e->hash, h, 32) == 0) {
            *out = *e;
            hit = true;
        }
    }
    pthread_mutex_unlock(&j->mu);
    return hit;
}

static void cache_put(gw_jwt_users *j, const ident_entry *in)
{
    size_t s = slot_of(in->hash);
    pthread_mutex_lock(&j->mu);
    ident_entry *victim = &j->slots[s];
    for (int i = 0; i < PROBES; i++) {
        ident_entry *e = &j->slots[(s + (size_t)i) & (SLOTS - 1)];
        if (!e->used || memcmp(e->hash, in->hash, 32) == 0) {
            victim = e;
            break;
        }
        if (e->checked_ms < victim->checked_ms)
            victim = e;
    }
    *victim = *in;
    victim->used = true;
    pthread_mutex_unlock(&j->mu);
}

static const char SQL_USER[] = "SELECT id, disabled, team_id FROM users WHERE name = ?";
static const char SQL_USER_ADD[] =
    "INSERT IGNORE INTO users (name, role, auth_source) VALUES (?, 'member', 'oidc')";
static const char SQL_TEAM[] = "SELECT id FROM teams WHERE name = ?";
static const char SQL_TEAM_ADD[] = "INSERT IGNORE INTO teams (name) VALUES (?)";
static const char SQL_MEMBER_ADD[] =
    "INSERT IGNORE INTO memberships (user_id, team_id) VALUES (?, ?)";
static const char SQL_PRIMARY_TEAM[] =
    "UPDATE users SET team_id = ? WHERE id = ? AND team_id IS NULL";

/* Finds (or creates with add_sql) the row named name; *id gets its id, *r keeps the row. */
static bool find_or_add(hub_db *db, const char *find_sql, const char *add_sql, const char *name,
                        hub_dbres *r, bool *created)
{
    hub_dbp p[1] = {DB_STR(name)};
    *created = false;
    if (!hub_db_exec(db, find_sql, p, 1, r, NULL, NULL))
        return false;
    if (r->nrows == 1)
        return true;
    hub_dbres_free(r);
    long long added = 0;
    if (!hub_db_exec(db, add_sql, p, 1, NULL, &added, NULL))
        return false;
    *created = added > 0;
    return hub_db_exec(db, find_sql, p, 1, r, NULL, NULL) && r->nrows == 1;
}

/* Looks the identity up in MariaDB, creating user, team and membership as needed. */
static bool db_identity(hub_db *db, const char *user, const char *team, ident_entry *e)
{
    hub_dbres r;
    bool created = false;
    memset(&r, 0, sizeof(r));
    if (!find_or_add(db, SQL_USER, SQL_USER_ADD, user, &r, &created))
        goto fail;
    if (created)
        HUB_INFO("jwt: provisioned user '%s' (auth_source oidc)", user);
    e->id.user_id = hub_dbres_int(&r, 0, 0, 0);
    e->disabled = hub_dbres_int(&r, 0, 1, 1) != 0;
    e->id.team_id = hub_dbres_int(&r, 0, 2, 0);
    hub_dbres_free(&r);
    if (team[0] != '\0') {
        if (!find_or_add(db, SQL_TEAM, SQL_TEAM_ADD, team, &r, &created))
            goto fail;
        if (created)
            HUB_INFO("jwt: created team '%s'", team);
        long long primary = e->id.team_id;
        e->id.team_id = hub_dbres_int(&r, 0, 0, 0);
        hub_dbres_free(&r);
        hub_dbp mp[2] = {DB_INT(e->id.user_id), DB_INT(e->id.team_id)};
        if (!hub_db_exec(db, SQL_MEMBER_ADD, mp, 2, NULL, NULL, NULL))
            goto fail;
        hub_dbp pp[2] = {DB_INT(e->id.team_id), DB_INT(e->id.user_id)};
        if (primary == 0 && !hub_db_exec(db, SQL_PRIMARY_TEAM, pp, 2, NULL, NULL, NULL))
            goto fail;
    }
    return e->id.user_id > 0;
fail:
    hub_dbres_free(&r);
    return false;
}

hub_err gw_jwt_users_resolve(gw_jwt_users *j, hub_db *db, const char *user, const char *team,
                             gw_jwt_identity *out, char *msg, size_t msgsz)
{
    ident_entry e;
    unsigned char h[32];
    long long now = hub_now_ms();
    ident_hash(user, team, h);
    bool cached = cache_get(j, h, &e);
    if (!cached || now - e.checked_ms >= j->cfg->key_cache_ms) {
        ident_entry fresh;
        memset(&fresh, 0, sizeof(fresh));
        memcpy(fresh.hash, h, sizeof(h));
        fresh.checked_ms = now;
        if (db_identity(db, user, team, &fresh)) {
            e = fresh;
            cache_put(j, &e);
        } else if (!hub_db_was_down(db)) {
            HUB_WARN("jwt: cannot provision the token's user or team: %s", hub_db_error(db));
            snprintf(msg, msgsz, "The token's user or team name cannot be used.");
            return HUB_EAUTH;
        } else if (!(cached && now - e.checked_ms < (long long)j->cfg->db_grace_seconds * 1000)) {
            HUB_ERROR("jwt: database unavailable: %s", hub_db_error(db));
            snprintf(msg, msgsz, "The user database is unavailable; try again shortly.");
            return HUB_EDB;
        }
    }
    if (e.disabled) {
        snprintf(msg, msgsz, "The user of this token is disabled.");
        return HUB_EAUTH;
    }
    *out = e.id;
    return HUB_OK;
}
