/*
 * usage_util.h — shared helpers of the unit tests that build and compare hub_usage records.
 */
#ifndef HUB_TEST_USAGE_UTIL_H
#define HUB_TEST_USAGE_UTIL_H

#include "hub_usage.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- hub_usage ---------------------------------------------------------------------- */

static inline bool usage_equal(const hub_usage *a, const hub_usage *b)
{
    return strcmp(a->request_id, b->request_id) == 0 && a->attempt == b->attempt &&
           a->ts_ms == b->ts_ms && a->key_id == b->key_id && a->user_id == b->user_id &&
           a->team_id == b->team_id && strcmp(a->app, b->app) == 0 &&
           strcmp(a->provider, b->provider) == 0 && strcmp(a->model, b->model) == 0 &&
           strcmp(a->endpoint, b->endpoint) == 0 && a->stream == b->stream &&
           a->status == b->status && a->prompt_tokens == b->prompt_tokens &&
           a->completion_tokens == b->completion_tokens && a->total_tokens == b->total_tokens &&
           a->images == b->images && a->cost_micro == b->cost_micro &&
           a->latency_ms == b->latency_ms && a->ttfb_ms == b->ttfb_ms &&
           strcmp(a->outcome, b->outcome) == 0;
}

/* A record with every field set to a distinct value. */
static inline void usage_full(hub_usage *u)
{
    hub_usage_init(u);
    snprintf(u->request_id, sizeof(u->request_id), "0123abcd-4567-4def-8901-23456789abcd");
    u->attempt = 2;
    u->ts_ms = 1700000000123LL;
    u->key_id = 11;
    u->user_id = 22;
    u->team_id = 33;
    snprintf(u->app, sizeof(u->app),
             "app \"quoted\" back\\slash\nnew\tline \x01 \xc3\xa9 \xe2\x9c\x93");
    snprintf(u->provider, sizeof(u->provider), "openai-main");
    snprintf(u->model, sizeof(u->model), "gpt-4o-mini \"v\\2\"");
    snprintf(u->endpoint, sizeof(u->endpoint), "/v1/chat/completions");
    u->stream = 1;
    u->status = 200;
    u->prompt_tokens = 1234;
    u->completion_tokens = 567;
    u->total_tokens = 1801;
    u->images = 0;
    u->cost_micro = 525;
    u->latency_ms = 812;
    u->ttfb_ms = 95;
    snprintf(u->outcome, sizeof(u->outcome), "ok");
}

#endif
