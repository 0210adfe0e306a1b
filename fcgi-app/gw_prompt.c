/*
 * gw_prompt.c — opt-in prompt logging in the gateway (lib/hub_prompt.h).
 *
 * The catalogue refresher (gw_catalog.c, every catalog_refresh_ms) reads the setting
 * prompt_logging and copies the current master key into the process context; a request reads
 * neither the database nor the setting. When prompt logging is on, the first metered attempt of
 * a call marks it (gw_prompt_capture); once the answer is finished (after FCGX_Finish_r, so the
 * client waits for none of it) the worker seals the request body as received, cut to
 * prompt_log_max_bytes, and stores it with its own DB connection (gw_prompt_store). A failure
 * loses only that prompt — never the answer or the usage ledger — and logs a rate-limited
 * warning without any of the body. When prompt logging is off a call costs one integer read.
 */
#include "gw.h"

#include "hub_log.h"
#include "hub_prompt.h"

#include <stdio.h>
#include <string.h>

void gw_prompt_refresh(gw_ctx *ctx, hub_db *db)
{
    bool on = false;
    if (!hub_prompt_logging_get(db, &on)) {
        HUB_WARN_RL("prompt logging: cannot read the setting (%s); keeping the previous state",
                    hub_db_error(db));
        return;
    }
    const hub_master_key *cur = hub_keyring_current(&ctx->kr); /* kr: refresh_mu is held */
    int max = on && cur != NULL ? ctx->cfg.prompt_log_max_bytes : 0;
    pthread_mutex_lock(&ctx->cat_mu);
    bool was = ctx->prompt_max > 0;
    __atomic_store_n(&ctx->prompt_max, max, __ATOMIC_RELAXED);
    if (cur != NULL)
        ctx->prompt_key = *cur;
    pthread_mutex_unlock(&ctx->cat_mu);
    if (was != (max > 0))
        HUB_INFO("prompt logging is %s", max > 0 ? "on: request bodies are stored sealed" : "off");
    if (on && cur == NULL)
        HUB_WARN_RL("prompt logging is on but the keyring has no key: nothing is stored");
}

void gw_prompt_capture(gw_call *c)
{
    c->prompt_max = __atomic_load_n(&c->w->ctx->prompt_max, __ATOMIC_RELAXED);
}

void gw_prompt_store(gw_call *c)
{
    gw_ctx *ctx = c->w->ctx;
    hub_keyring kr; /* one key: the current one; wiped below */
    char err[256];

    memset(&kr, 0, sizeof(kr));
    pthread_mutex_lock(&ctx->cat_mu);
    kr.keys[0] = ctx->prompt_key;
    pthread_mutex_unlock(&ctx->cat_mu);
    kr.n = kr.keys[0].id > 0 ? 1 : 0;
    hub_prompt_meta m = {
        .request_id = c->request_id,
        .ts_ms = c->t0_ms,
        .key_id = c->who.key_id,
        .user_id = c->who.user_id,
        .team_id = c->who.team_id,
        .endpoint = c->path,
    };
    const hub_buf *b = &c->w->body;
    if (kr.n == 0 || !hub_prompt_store(c->w->db, &kr, &m, b->data != NULL ? b->data : "", b->len,
                                       (size_t)c->prompt_max, err, sizeof(err)))
        HUB_WARN_RL("prompt logging: the prompt of this request was not stored (%s)",
                    kr.n == 0 ? "no master key" : err);
    hub_keyring_wipe(&kr);
}
