/*
 * gw_catalog.c — keeps the routing snapshot fresh. Any worker that finds it older than
 * catalog_refresh_ms reloads it with its own DB connection (one at a time); the others
 * keep using the previous snapshot, which also carries the gateway through a DB outage.
 */
#include "gw.h"

#include "hub_log.h"

hub_catalog *gw_catalog_get(gw_worker *w, bool force)
{
    gw_ctx *ctx = w->ctx;
    long long now = hub_now_ms();
    pthread_mutex_lock(&ctx->cat_mu);
    long long age = now - ctx->cat_loaded_ms;
    bool have = ctx->cat != NULL;
    pthread_mutex_unlock(&ctx->cat_mu);

    bool stale = !have || age >= ctx->cfg.catalog_refresh_ms || (force && age >= 250);
    /* without any snapshot, wait for the refresher; otherwise only try */
    if (stale && (have ? pthread_mutex_trylock(&ctx->refresh_mu) == 0
                       : pthread_mutex_lock(&ctx->refresh_mu) == 0)) {
        pthread_mutex_lock(&ctx->cat_mu);
        bool still = ctx->cat == NULL || hub_now_ms() - ctx->cat_loaded_ms >= 250;
        pthread_mutex_unlock(&ctx->cat_mu);
        if (still) {
            char err[256];
            hub_catalog *fresh = hub_catalog_load(w->db, &ctx->kr, err, sizeof(err));
            pthread_mutex_lock(&ctx->cat_mu);
            if (fresh != NULL) {
                hub_catalog *old = ctx->cat;
                ctx->cat = fresh;
                ctx->cat_loaded_ms = hub_now_ms();
                pthread_mutex_unlock(&ctx->cat_mu);
                hub_catalog_release(old);
            } else {
                /* keep the old snapshot; try again after another interval */
                if (ctx->cat != NULL)
                    ctx->cat_loaded_ms = hub_now_ms();
                pthread_mutex_unlock(&ctx->cat_mu);
                HUB_WARN("catalog: reload failed (%s); using the previous snapshot", err);
            }
        }
        pthread_mutex_unlock(&ctx->refresh_mu);
    }
    pthread_mutex_lock(&ctx->cat_mu);
    hub_catalog *c = ctx->cat;
    if (c != NULL)
        hub_catalog_retain(c);
    pthread_mutex_unlock(&ctx->cat_mu);
    return c;
}
