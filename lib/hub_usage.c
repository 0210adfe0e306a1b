/*
 * hub_usage.c — usage records and their spool lines (see hub_usage.h).
 */
#include "hub_usage.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void hub_usage_init(hub_usage *u)
{
    memset(u, 0, sizeof(*u));
    u->status = -1;
    u->prompt_tokens = u->completion_tokens = u->total_tokens = -1;
    u->images = u->cost_micro = u->latency_ms = u->ttfb_ms = -1;
    snprintf(u->outcome, sizeof(u->outcome), "pending");
}

long long hub_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hub_usage_ts_sql(long long ts_ms, char out[48])
{
    time_t s = (time_t)(ts_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 48, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
}

static bool num(hub_buf *b, const char *name, long long v)
{
    return v < 0 ? hub_buf_printf(b, ",\"%s\":null", name)
                 : hub_buf_printf(b, ",\"%s\":%lld", name, v);
}

static bool str(hub_buf *b, const char *name, const char *v)
{
    return hub_buf_printf(b, ",\"%s\":", name) && hub_buf_json_str(b, v);
}

bool hub_usage_to_json(const hub_usage *u, hub_buf *out)
{
    return hub_buf_puts(out, "{\"v\":1") && str(out, "request_id", u->request_id) &&
           num(out, "attempt", u->attempt) && num(out, "ts_ms", u->ts_ms) &&
           num(out, "key_id", u->key_id) && num(out, "user_id", u->user_id) &&
           num(out, "team_id", u->team_id) && str(out, "app", u->app) &&
           str(out, "provider", u->provider) && num(out, "credential_id", u->credential_id) &&
           str(out, "model", u->model) && str(out, "endpoint", u->endpoint) &&
           num(out, "stream", u->stream) && num(out, "status", u->status) &&
           num(out, "prompt_tokens", u->prompt_tokens) &&
           num(out, "completion_tokens", u->completion_tokens) &&
           num(out, "total_tokens", u->total_tokens) && num(out, "images", u->images) &&
           num(out, "cost_micro", u->cost_micro) && num(out, "latency_ms", u->latency_ms) &&
           num(out, "ttfb_ms", u->ttfb_ms) && str(out, "outcome", u->outcome) &&
           hub_buf_puts(out, "}\n");
}

static long long get_num(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || v == NULL)
        return -1;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    return (long long)json_object_get_int64(v);
}

static bool get_str(json_object *o, const char *k, char *out, size_t outsz, bool required)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return !required;
    const char *s = json_object_get_string(v);
    size_t n = strlen(s);
    if (n >= outsz)
        return false;
    memcpy(out, s, n + 1);
    return true;
}

bool hub_usage_from_json(const char *line, size_t len, hub_usage *u)
{
    bool rc = false;
    json_tokener *tok = json_tokener_new();
    json_object *o = NULL;
    hub_usage_init(u);
    if (tok == NULL)
        goto end;
    o = json_tokener_parse_ex(tok, line, (int)len);
    if (o == NULL || !json_object_is_type(o, json_type_object))
        goto end;
    /* one object per line: nothing but whitespace after it */
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            goto end;
    }
    if (!get_str(o, "request_id", u->request_id, sizeof(u->request_id), true) ||
        strlen(u->request_id) != HUB_UUID_LEN)
        goto end;
    if (!get_str(o, "app", u->app, sizeof(u->app), false) ||
        !get_str(o, "provider", u->provider, sizeof(u->provider), true) ||
        !get_str(o, "model", u->model, sizeof(u->model), true) ||
        !get_str(o, "endpoint", u->endpoint, sizeof(u->endpoint), true) ||
        !get_str(o, "outcome", u->outcome, sizeof(u->outcome), true))
        goto end;
    long long attempt = get_num(o, "attempt"), status = get_num(o, "status");
    u->ts_ms = get_num(o, "ts_ms");
    if (attempt < 0 || attempt > 65535 || status > 999 || u->ts_ms < 0)
        goto end;
    u->attempt = (int)attempt;
    u->key_id = get_num(o, "key_id");
    u->user_id = get_num(o, "user_id");
    u->team_id = get_num(o, "team_id");
    u->credential_id = get_num(o, "credential_id");
    u->stream = (int)get_num(o, "stream");
    u->status = (int)status;
    u->prompt_tokens = get_num(o, "prompt_tokens");
    u->completion_tokens = get_num(o, "completion_tokens");
    u->total_tokens = get_num(o, "total_tokens");
    u->images = get_num(o, "images");
    u->cost_micro = get_num(o, "cost_micro");
    u->latency_ms = get_num(o, "latency_ms");
    u->ttfb_ms = get_num(o, "ttfb_ms");
    rc = true;
end:
    if (o != NULL)
        json_object_put(o);
    if (tok != NULL)
        json_tokener_free(tok);
    return rc;
}
