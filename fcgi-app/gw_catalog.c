/*
 * gw_catalog.c — keeps the routing snapshot fresh. Any worker that finds it older than
 * catalog_refresh_ms reloads it with its own DB connection (one at a time); the others
 * keep using the previous snapshot, which also carries the gateway through a DB outage.
 */
#include "gw.h"

#include <string.h>

#include "hub_log.h"

#include <sys/stat.h>

/* A stamp of the key file's identity; changes when hubctl key-rotate replaces it. */
static long long key_file_stamp(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (long long)st.st_ino * 1000003LL + (long long)st.st_mtim.tv_sec * 1000LL +
           st.st_mtim.tv_nsec / 1000000 + (long long)st.st_size;
}

/* Reloads the master keyring when the file changed (called under refresh_mu). */
static void reload_keyring(gw_ctx *ctx)
{
    long long stamp = key_file_stamp(ctx->cfg.master_key_file);
    if (stamp == ctx->kr_stamp || stamp < 0)
        return;
    hub_keyring fresh;
    char err[256];
    memset(&fresh, 0, sizeof(fresh));
    if (!hub_keyring_load(&fresh, ctx->cfg.master_key_file, true, err, sizeof(err))) {
        HUB_ERROR("keyring: reload failed (%s); keeping the loaded keys", err);
        hub_keyring_wipe(&fresh);
        return;
    }
    hub_keyring_wipe(&ctx->kr);
    ctx->kr = fresh;
    hub_keyring_wipe(&fresh);
    ctx->kr_stamp = stamp;
    HUB_INFO("keyring: reloaded %s (%d keys)", ctx->cfg.master_key_file, ctx->kr.n);
}

void gw_keyring_loaded(gw_ctx *ctx)
{
    ctx->kr_stamp = key_file_stamp(ctx->cfg.master_key_file);
}

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
            reload_keyring(ctx);
            hub_catalog *fresh = hub_catalog_load(w->db, &ctx->kr, err, sizeof(err));
            pthread_mutex_lock(&ctx->cat_mu);
            if (fresh != NULL) {
                hub_catalog *old = ctx->cat;
                ctx->cat = fresh;
                ctx->cat_loaded_ms = hub_now_ms();
                pthread_mutex_unlock(&ctx->cat_mu);
                hub_catalog_release(old);
                gw_prompt_refresh(ctx, w->db);
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
