/*
 * gw_auth.c — bearer-token authentication for the API, with a short-lived key cache.
 *
 * A token is checked for format and checksum first (a bad checksum never reaches the
 * database). A valid-looking key is looked up by the SHA-256 of the whole key. Results
 * (also "unknown key") are cached for key_cache_ms (≤ 1 s, so a revocation is honoured
 * within a second on every worker). When the database is down, a key validated within
 * db_grace_seconds keeps working; anything else fails closed.
 */
#include "gw.h"
#include "gw_jwt.h"

#include "hub_apikey.h"
#include "hub_log.h"
#include "hub_usage.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS  4096 /* power of two */
#define PROBES 8

typedef struct {
    bool used;
    bool found; /* false: the key is unknown (negative entry) */
    bool revoked, expired, disabled;
    unsigned char hash[HUB_APIKEY_HASH_LEN];
    long long checked_ms;
    long long expires_ms; /* -1 = never */
    gw_principal who;
} entry;

struct gw_keycache {
    pthread_mutex_t mu;
    entry slots[SLOTS];
};

gw_keycache *gw_keycache_new(void)
{
    gw_keycache *kc = calloc(1, sizeof(*kc));
    if (kc != NULL)
        pthread_mutex_init(&kc->mu, NULL);
    return kc;
}

void gw_keycache_free(gw_keycache *kc)
{
    if (kc == NULL)
        return;
    pthread_mutex_destroy(&kc->mu);
    free(kc);
}

static size_t slot_of(const unsigned char *h)
{
    size_t v = 0;
    memcpy(&v, h, sizeof(v));
    return v & (SLOTS - 1);
}

/* Copies the cached entry for h into out; false when absent. */
static bool cache_get(gw_keycache *kc, const unsigned char *h, entry *out)
{
    bool hit = false;
    size_t s = slot_of(h);
    pthread_mutex_lock(&kc->mu);
    for (int i = 0; i < PROBES; i++) {
        entry *e = &kc->slots[(s + (size_t)i) & (SLOTS - 1)];
        if (e->used && hub_apikey_hash_equal(e->hash, h)) {
            *out = *e;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&kc->mu);
    return hit;
}

static void cache_put(gw_keycache *kc, const entry *in)
{
    size_t s = slot_of(in->hash);
    pthread_mutex_lock(&kc->mu);
    entry *victim = &kc->slots[s];
    for (int i = 0; i < PROBES; i++) {
        entry *e = &kc->slots[(s + (size_t)i) & (SLOTS - 1)];
        if (!e->used || hub_apikey_hash_equal(e->hash, in->hash)) {
            victim = e;
            break;
        }
        if (e->checked_ms < victim->checked_ms)
            victim = e;
    }
    *victim = *in;
    victim->used = true;
    pthread_mutex_unlock(&kc->mu);
}

static const char SQL_KEY[] =
    "SELECT k.id, k.user_id, k.team_id, k.app, k.models, k.revoked_at IS NOT NULL, "
    "COALESCE(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', k.expires_at) DIV 1000, -1), "
    "u.disabled, k.key_hash FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?";

/* Looks the key up in MariaDB into e. false when the database could not answer. */
static bool lookup(gw_worker *w, const unsigned char *h, entry *e)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_BLOB(h, HUB_APIKEY_HASH_LEN)};
    if (!hub_db_exec(w->db, SQL_KEY, p, 1, &r, NULL, NULL))
        return false;
    memset(e, 0, sizeof(*e));
    memcpy(e->hash, h, HUB_APIKEY_HASH_LEN);
    e->checked_ms = hub_now_ms();
    /* the index found the row; compare the stored hash in constant time as well */
    if (r.nrows == 1 && r.lens[8] == HUB_APIKEY_HASH_LEN &&
        hub_apikey_hash_equal((const unsigned char *)hub_dbres_get(&r, 0, 8), h)) {
        e->found = true;
        e->who.key_id = hub_dbres_int(&r, 0, 0, 0);
        e->who.user_id = hub_dbres_int(&r, 0, 1, 0);
        e->who.team_id = hub_dbres_int(&r, 0, 2, 0);
        snprintf(e->who.app, sizeof(e->who.app), "%s",
                 hub_dbres_get(&r, 0, 3) ? hub_dbres_get(&r, 0, 3) : "");
        snprintf(e->who.models, sizeof(e->who.models), "%s",
                 hub_dbres_get(&r, 0, 4) ? hub_dbres_get(&r, 0, 4) : "");
        e->revoked = hub_dbres_int(&r, 0, 5, 1) != 0;
        e->expires_ms = hub_dbres_int(&r, 0, 6, -1);
        e->disabled = hub_dbres_int(&r, 0, 7, 1) != 0;
    }
    hub_dbres_free(&r);
    return true;
}

/* A corporate OAuth access token (JWT): verified by gw_jwt.c, metered with no key. */
static hub_err authenticate_jwt(gw_call *c, const char *tok, char *msg, size_t msgsz)
{
    gw_jwt_identity id;
    if (c->w->ctx->jwt == NULL) {
        snprintf(msg, msgsz, "OAuth access tokens are not accepted here: use a hub key.");
        return HUB_EAUTH;
    }
    hub_err e = gw_jwt_authenticate(c->w->ctx->jwt, c->w->db, tok, &id, msg, msgsz);
    if (e != HUB_OK)
        return e;
    memset(&c->who, 0, sizeof(c->who));
    c->who.user_id = id.user_id;
    c->who.team_id = id.team_id;
    snprintf(c->who.app, sizeof(c->who.app), "oauth");
    return HUB_OK;
}

hub_err gw_authenticate(gw_call *c, char *msg, size_t msgsz)
{
    gw_ctx *ctx = c->w->ctx;
    const char *auth = gw_param(c, "HTTP_AUTHORIZATION");
    const char *xkey = gw_param(c, "HTTP_X_API_KEY"); /* what Anthropic SDKs send */
    const char *tok = NULL;
    if (auth != NULL && *auth != '\0') {
        if (strncasecmp(auth, "Bearer ", 7) != 0) {
            snprintf(msg, msgsz, "The Authorization header must use the Bearer scheme.");
            return HUB_EAUTH;
        }
        tok = auth + 7;
    } else if (xkey != NULL && *xkey != '\0') {
        tok = xkey;
    } else {
        snprintf(msg, msgsz, "Missing API key: send 'Authorization: Bearer <hub key>'.");
        return HUB_EAUTH;
    }
    while (*tok == ' ')
        tok++;
    if (gw_jwt_shaped(tok))
        return authenticate_jwt(c, tok, msg, msgsz);
    size_t len = strnlen(tok, 4096);
    /* format + checksum: no hashing of huge headers, no DB query for forgeries */
    if (!hub_apikey_check(tok, len)) {
        snprintf(msg, msgsz, "Invalid API key.");
        return HUB_EAUTH;
    }
    unsigned char h[HUB_APIKEY_HASH_LEN];
    hub_apikey_hash(tok, len, h);

    long long now = hub_now_ms();
    entry e;
    bool cached = cache_get(ctx->keys, h, &e);
    if (!cached || now - e.checked_ms >= ctx->cfg.key_cache_ms) {
        entry fresh;
        if (lookup(c->w, h, &fresh)) {
            e = fresh;
            cache_put(ctx->keys, &e);
        } else if (cached && e.found &&
                   now - e.checked_ms < (long long)ctx->cfg.db_grace_seconds * 1000) {
            static long long last_warn_ms; /* at most one such line per second */
            long long prev = __atomic_load_n(&last_warn_ms, __ATOMIC_RELAXED);
            if (now - prev >= 1000 &&
                __atomic_compare_exchange_n(&last_warn_ms, &prev, now, false, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                HUB_WARN("auth: database unavailable (%s); serving keys validated in the last "
                         "%d s",
                         hub_db_error(c->w->db), ctx->cfg.db_grace_seconds);
        } else {
            HUB_ERROR("auth: database unavailable: %s", hub_db_error(c->w->db));
            snprintf(msg, msgsz, "The key database is unavailable; try again shortly.");
            return HUB_EDB;
        }
    }
    if (!e.found) {
        snprintf(msg, msgsz, "Invalid API key.");
        return HUB_EAUTH;
    }
    if (e.revoked) {
        snprintf(msg, msgsz, "This API key has been revoked.");
        return HUB_EAUTH;
    }
    if (e.expires_ms >= 0 && now >= e.expires_ms) {
        snprintf(msg, msgsz, "This API key has expired.");
        return HUB_EAUTH;
    }
    if (e.disabled) {
        snprintf(msg, msgsz, "The user of this API key is disabled.");
        return HUB_EAUTH;
    }
    c->who = e.who;
    return HUB_OK;
}

bool gw_model_allowed(const gw_principal *p, const char *requested, const char *canonical)
{
    if (p->models[0] == '\0')
        return true;
    const char *s = p->models;
    while (*s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char glob[256];
        if (n > 0 && n < sizeof(glob)) {
            memcpy(glob, s, n);
            glob[n] = '\0';
            if (fnmatch(glob, requested, 0) == 0 ||
                (canonical != NULL && fnmatch(glob, canonical, 0) == 0))
                return true;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return false;
}
