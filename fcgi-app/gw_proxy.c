/*
 * gw_proxy.c — one request from plan to answer: resolve the model into targets (the model's
 * providers by priority, then its fallbacks), check the key may use it, then attempt:
 * credential by credential (weighted round robin, skipping those cooling down) and target by
 * target, retrying on connect errors, timeouts, 429, 5xx and refused credentials — only while
 * nothing has reached the client, and at most max_retries extra attempts. Every attempt that
 * goes upstream is metered under the request id with its own attempt number.
 */
#include "gw.h"

#include "hub_log.h"

#include <stdio.h>
#include <string.h>

static const char *const KINDS[] = {
    [GW_EP_CHAT] = "chat",
    [GW_EP_EMBED] = "embedding",
    [GW_EP_IMAGES] = "image",
};

/* Answers a plan that cannot run, or the last attempt's failure. */
static void fail(gw_call *c, const gw_result *r)
{
    if (r->retry_after_s > 0 && (r->err == HUB_ELIMIT || r->status == 429)) {
        char h[64];
        snprintf(h, sizeof(h), "Retry-After: %ld\r\n", r->retry_after_s);
        gw_respond_error_h(c, r->err, r->status, r->msg, r->param[0] ? r->param : NULL,
                           r->code[0] ? r->code : NULL, h);
        return;
    }
    gw_respond_error(c, r->err, r->status, r->msg, r->param[0] ? r->param : NULL,
                     r->code[0] ? r->code : NULL);
}

void gw_proxy(gw_call *c, gw_job *job)
{
    char msg[512];
    const char *why = NULL;
    hub_plan plan;
    /* job->model borrows from job->req, whose "model" each attempt rewrites: keep a copy */
    char model[260];
    snprintf(model, sizeof(model), "%s", job->model);
    job->model = model;
    hub_catalog *cat = gw_catalog_get(c->w, false);
    if (cat == NULL) {
        gw_respond_error(c, HUB_EDB, 0, "The model catalogue is not available yet.", NULL, NULL);
        return;
    }
    hub_err e = hub_catalog_plan(cat, job->model, &plan, &why);
    if (e == HUB_ENOTFOUND) { /* maybe added a moment ago: reload once */
        hub_catalog_release(cat);
        cat = gw_catalog_get(c->w, true);
        e = cat ? hub_catalog_plan(cat, job->model, &plan, &why) : HUB_EDB;
    }
    if (e != HUB_OK) {
        if (e == HUB_ENOTFOUND)
            snprintf(msg, sizeof(msg),
                     "The model '%s' does not exist or is not routed by this hub.", job->model);
        else
            snprintf(msg, sizeof(msg), "The model '%s' is unavailable: '%s' is disabled.",
                     job->model, why ? why : job->model);
        gw_respond_error(c, e, 0, msg, "model", NULL);
        goto end;
    }
    if (!gw_model_allowed(&c->who, job->model, plan.t[0].canonical)) {
        snprintf(msg, sizeof(msg), "This API key may not use the model '%s'.", job->model);
        gw_respond_error(c, HUB_EFORBIDDEN, 0, msg, "model", NULL);
        goto end;
    }
    if (plan.kind != NULL && strcmp(plan.kind, KINDS[job->ep]) != 0) {
        snprintf(msg, sizeof(msg), "The model '%s' is a %s model; it cannot serve %s.", job->model,
                 plan.kind, job->ledger_endpoint);
        gw_respond_error(c, HUB_EINVAL, 0, msg, "model", "unsupported_model");
        goto end;
    }

    gw_hold hold; /* budgets and rate limits: reserved before the first attempt */
    if (!gw_limits_admit(c, job, cat, &plan, &hold))
        goto end;

    gw_result last = {.err = HUB_EUNAVAIL};
    snprintf(last.msg, sizeof(last.msg), "No provider of the model '%s' has a usable credential.",
             job->model);
    int attempts = 0, max = 1 + c->w->ctx->cfg.max_retries;
    bool answered = false;
    for (int ti = 0; ti < plan.n && !answered && attempts < max; ti++) {
        const hub_target *t = &plan.t[ti];
        gw_tried tried = {.n = 0};
        if (!gw_upstream_url_allowed(t->provider)) {
            snprintf(last.msg, sizeof(last.msg),
                     "Provider '%s' has a base URL that is not allowed (https only, or http "
                     "for a provider marked internal).",
                     t->provider->name);
            continue;
        }
        while (!answered && attempts < max && tried.n < GW_TRIED_MAX) {
            bool unreadable = false;
            long cooling = 0;
            const hub_credential *cr =
                gw_creds_pick(c->w, cat, t->provider, &tried, &unreadable, &cooling);
            if (cr == NULL && cooling > 0 && attempts == 0 && last.err == HUB_EUNAVAIL) {
                /* every credential is resting after a 429: say when to come back */
                last.err = HUB_ELIMIT;
                last.status = 0;
                last.retry_after_s = cooling;
                snprintf(last.msg, sizeof(last.msg),
                         "Provider '%s' is rate limited; retry in %ld s.", t->provider->name,
                         cooling);
            }
            if (cr == NULL) {
                if (unreadable && attempts == 0) {
                    HUB_ERROR("a credential of provider %s cannot be decrypted; skipped",
                              t->provider->name);
                    last.err = HUB_ECRYPTO;
                    last.status = 0;
                    snprintf(last.msg, sizeof(last.msg),
                             "The stored credential of provider '%s' cannot be decrypted; an "
                             "administrator must re-enter it or restore the master key.",
                             t->provider->name);
                }
                break;
            }
            tried.ids[tried.n++] = cr->id;
            hub_usage u;
            hub_usage_init(&u);
            gw_attempt a = {
                .c = c,
                .job = job,
                .t = t,
                .cred = cr,
                .number = attempts,
                .price = hub_catalog_price(cat, t->provider, t->upstream_model),
                .usage = &u,
            };
            gw_attempt_run(&a); /* meters itself once the attempt goes upstream */
            gw_limits_add(&hold, &u);
            attempts++;
            if (a.res.answered) {
                answered = true;
                break;
            }
            last = a.res;
            if (!a.res.retryable) {
                attempts = max; /* a request error: another provider would refuse it too */
                break;
            }
            /* a provider-side failure (5xx, unreachable, timeout) moves on to the next target
             * when there is one; a credential's fault (429, 401, 403) to the next credential */
            if (!a.res.credential_fault && ti + 1 < plan.n)
                break;
            if (attempts < max)
                HUB_INFO("attempt %d on %s failed (%s); trying again", attempts, t->canonical,
                         a.res.msg);
        }
    }
    if (!answered)
        fail(c, &last);
    gw_limits_settle(c, &hold); /* after the last attempt (a stream has ended by now) */
end:
    hub_catalog_release(cat);
}
