/*
 * gw_meter.c — the usage ledger from the gateway's side: a "pending" record is spooled
 * before an attempt goes upstream, the final record (tokens, images, cost, timings,
 * outcome) after. The drain's upsert merges the two, so a crash in between still leaves
 * exactly one row for the attempt.
 */
#include "gw.h"

#include "hub_log.h"

#include <stdio.h>
#include <string.h>

void gw_meter_begin(gw_call *c, const hub_target *t, const hub_credential *cr, int attempt,
                    const char *endpoint, bool stream, hub_usage *u)
{
    hub_usage_init(u);
    memcpy(u->request_id, c->request_id, sizeof(u->request_id));
    u->attempt = attempt;
    u->credential_id = cr != NULL ? cr->id : 0;
    u->ts_ms = c->t0_ms;
    u->key_id = c->who.key_id;
    u->user_id = c->who.user_id;
    u->team_id = c->who.team_id;
    snprintf(u->app, sizeof(u->app), "%s", c->who.app);
    snprintf(u->provider, sizeof(u->provider), "%s", t->provider->name);
    snprintf(u->model, sizeof(u->model), "%s", t->upstream_model);
    snprintf(u->endpoint, sizeof(u->endpoint), "%s", endpoint);
    u->stream = stream ? 1 : 0;
    if (attempt == 0)
        gw_prompt_capture(c);
    if (!hub_spool_append(c->w->ctx->spool, u))
        HUB_ERROR("meter: could not spool the pending record");
}

static long long field(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    long long n = (long long)json_object_get_int64(v);
    return n < 0 ? -1 : n;
}

void gw_meter_read_usage(json_object *usage, hub_usage *u)
{
    if (usage == NULL || !json_object_is_type(usage, json_type_object))
        return;
    long long p = field(usage, "prompt_tokens");
    long long q = field(usage, "completion_tokens");
    long long t = field(usage, "total_tokens");
    if (p < 0)
        p = field(usage, "input_tokens"); /* images (gpt-image) */
    if (q < 0)
        q = field(usage, "output_tokens");
    if (p >= 0)
        u->prompt_tokens = p;
    if (q >= 0)
        u->completion_tokens = q;
    else if (p >= 0 && u->completion_tokens < 0 && strstr(u->endpoint, "embeddings") != NULL)
        u->completion_tokens = 0; /* embeddings produce no output tokens */
    if (t >= 0)
        u->total_tokens = t;
    else if (u->prompt_tokens >= 0 && u->completion_tokens >= 0)
        u->total_tokens = u->prompt_tokens + u->completion_tokens;
}

void gw_meter_end(gw_call *c, const hub_price *price, hub_usage *u)
{
    u->latency_ms = hub_now_ms() - c->t0_ms;
    u->cost_micro = hub_price_cost(price, u->prompt_tokens, u->completion_tokens, u->images);
    if (!hub_spool_append(c->w->ctx->spool, u))
        HUB_ERROR("meter: could not spool the final record");
}
