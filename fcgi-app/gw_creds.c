/*
 * gw_creds.c — which credential an attempt uses, and what the gateway learns about each.
 *
 * Smooth weighted round robin (each pick adds every eligible credential's weight to its
 * running score, takes the highest and subtracts the total from it) spreads load in
 * proportion to the weights without bursts. A credential that answered 429 cools down
 * (Retry-After, else cooldown_seconds); one that answered 401/403 is taken out of
 * rotation. Both are written to MariaDB (status, last_error, cooldown_until) so hubctl and
 * the admin pages show them and other gateway processes skip them after their next
 * catalogue refresh; the in-memory state applies at once.
 */
#include "gw.h"

#include "hub_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024 /* power of two */

typedef struct {
    long long id; /* 0 = free slot */
    long long score;
    long long cooldown_until_ms;
    long long disabled_ms; /* when this gateway disabled it; 0 = not */
} state;

struct gw_credstate {
    pthread_mutex_t mu;
    state slots[SLOTS];
};

gw_credstate *gw_credstate_new(void)
{
    gw_credstate *cs = calloc(1, sizeof(*cs));
    if (cs != NULL)
        pthread_mutex_init(&cs->mu, NULL);
    return cs;
}

void gw_credstate_free(gw_credstate *cs)
{
    if (cs == NULL)
        return;
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}

/* The state of credential id (created on first use); NULL when the table is full. Under mu. */
static state *slot(gw_credstate *cs, long long id)
{
    size_t h = (size_t)id * 2654435761u;
    for (size_t i = 0; i < SLOTS; i++) {
        state *s = &cs->slots[(h + i) & (SLOTS - 1)];
        if (s->id == id)
            return s;
        if (s->id == 0) {
            s->id = id;
            return s;
        }
    }
    return NULL;
}

static bool tried(const gw_tried *t, long long id)
{
    for (int i = 0; t != NULL && i < t->n; i++) {
        if (t->ids[i] == id)
            return true;
    }
    return false;
}

const hub_credential *gw_creds_pick(gw_worker *w, const hub_catalog *cat, const hub_provider *p,
                                    const gw_tried *tr, bool *unreadable, long *cooling_s)
{
    gw_credstate *cs = w->ctx->creds;
    int n = 0;
    const hub_credential *creds = hub_catalog_creds(cat, p, &n);
    const hub_credential *best = NULL;
    state *best_s = NULL;
    long long total = 0, now = hub_now_ms();
    long long soonest = 0;
    *unreadable = false;
    *cooling_s = 0;
    pthread_mutex_lock(&cs->mu);
    for (int i = 0; i < n; i++) {
        const hub_credential *cr = &creds[i];
        if (!cr->active || tried(tr, cr->id))
            continue;
        if (!cr->readable) {
            *unreadable = true;
            continue;
        }
        state *s = slot(cs, cr->id);
        /* a disable counts until a snapshot read after it (the DB then says) */
        bool disabled = s != NULL && s->disabled_ms > 0 && cat->loaded_ms <= s->disabled_ms;
        if (s == NULL || disabled)
            continue;
        long long until = s->cooldown_until_ms > cr->cooldown_until_ms ? s->cooldown_until_ms
                                                                       : cr->cooldown_until_ms;
        if (now < until) {
            if (soonest == 0 || until < soonest)
                soonest = until;
            continue;
        }
        int wgt = cr->weight > 0 ? cr->weight : 1;
        s->score += wgt;
        total += wgt;
        if (best_s == NULL || s->score > best_s->score) {
            best = cr;
            best_s = s;
        }
    }
    if (best_s != NULL)
        best_s->score -= total;
    pthread_mutex_unlock(&cs->mu);
    if (best == NULL && soonest > 0)
        *cooling_s = (long)((soonest - now + 999) / 1000);
    return best;
}

static const char SQL_COOL[] =
    "UPDATE credentials SET cooldown_until = UTC_TIMESTAMP(3) + INTERVAL ? SECOND, "
    "last_error = ? WHERE id = ?";
static const char SQL_DISABLE[] =
    "UPDATE credentials SET status = 'disabled', last_error = ? WHERE id = ?";

void gw_creds_cooldown(gw_worker *w, const hub_credential *cr, long retry_after_s, const char *why)
{
    long secs = retry_after_s > 0 ? retry_after_s : w->ctx->cfg.cooldown_seconds;
    if (secs > 3600)
        secs = 3600;
    pthread_mutex_lock(&w->ctx->creds->mu);
    state *s = slot(w->ctx->creds, cr->id);
    if (s != NULL)
        s->cooldown_until_ms = hub_now_ms() + secs * 1000;
    pthread_mutex_unlock(&w->ctx->creds->mu);
    hub_dbp p[3] = {DB_INT(secs), DB_STR(why), DB_INT(cr->id)};
    if (!hub_db_exec(w->db, SQL_COOL, p, 3, NULL, NULL, NULL))
        HUB_WARN("credential %lld: could not record its cooldown: %s", cr->id, hub_db_error(w->db));
    HUB_INFO("credential %lld cools down for %ld s (%s)", cr->id, secs, why);
}

void gw_creds_disable(gw_worker *w, const hub_credential *cr, const char *why)
{
    pthread_mutex_lock(&w->ctx->creds->mu);
    state *s = slot(w->ctx->creds, cr->id);
    if (s != NULL)
        s->disabled_ms = hub_now_ms();
    pthread_mutex_unlock(&w->ctx->creds->mu);
    hub_dbp p[2] = {DB_STR(why), DB_INT(cr->id)};
    if (!hub_db_exec(w->db, SQL_DISABLE, p, 2, NULL, NULL, NULL))
        HUB_WARN("credential %lld: could not record that it is disabled: %s", cr->id,
                 hub_db_error(w->db));
    HUB_WARN("credential %lld disabled: %s", cr->id, why);
}
