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

/* Appends ,"name": — name is one of the literal keys below. */
static bool key(hub_buf *b, const char *name)
{
    char tmp[40];
    size_t k = strlen(name);
    if (k + 4 > sizeof(tmp))
        return false;
    tmp[0] = ',';
    tmp[1] = '"';
    memcpy(tmp + 2, name, k);
    tmp[k + 2] = '"';
    tmp[k + 3] = ':';
    return hub_buf_append(b, tmp, k + 4);
}

/* Appends ,"name":v (null when v < 0). Digits by hand: the two records a request spools
 * take about six times fewer instructions than with printf. */
static bool num(hub_buf *b, const char *name, long long v)
{
    char d[24];
    size_t i = sizeof(d);
    if (!key(b, name))
        return false;
    if (v < 0)
        return hub_buf_append(b, "null", 4);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return hub_buf_append(b, d + i, sizeof(d) - i);
}

static bool str(hub_buf *b, const char *name, const char *v)
{
    return key(b, name) && hub_buf_json_str(b, v);
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

/* ---- reading ------------------------------------------------------------------------ */

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

/* Any JSON spelling of a record, through json-c. Fills u; attempt and status are returned
 * apart for the range checks. */
static bool parse_json(const char *line, size_t len, hub_usage *u, long long *attempt,
                       long long *status)
{
    bool rc = false;
    json_tokener *tok = json_tokener_new();
    json_object *o = NULL;
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
        !get_str(o, "app", u->app, sizeof(u->app), false) ||
        !get_str(o, "provider", u->provider, sizeof(u->provider), true) ||
        !get_str(o, "model", u->model, sizeof(u->model), true) ||
        !get_str(o, "endpoint", u->endpoint, sizeof(u->endpoint), true) ||
        !get_str(o, "outcome", u->outcome, sizeof(u->outcome), true))
        goto end;
    *attempt = get_num(o, "attempt");
    *status = get_num(o, "status");
    u->ts_ms = get_num(o, "ts_ms");
    u->key_id = get_num(o, "key_id");
    u->user_id = get_num(o, "user_id");
    u->team_id = get_num(o, "team_id");
    u->credential_id = get_num(o, "credential_id");
    u->stream = (int)get_num(o, "stream");
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

/* A cursor over one line for the fast path. */
typedef struct {
    const char *p, *end;
} cursor;

static bool lit(cursor *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* ,"name": */
static bool fast_key(cursor *c, const char *name)
{
    return lit(c, ",\"") && lit(c, name) && lit(c, "\":");
}

/* ,"name":digits or null (-1): at most 18 digits, no leading zero, no fraction. */
static bool fast_num(cursor *c, const char *name, long long *out)
{
    if (!fast_key(c, name))
        return false;
    if (lit(c, "null")) {
        *out = -1;
        return true;
    }
    const char *s = c->p;
    long long v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && c->p - s < 18)
        v = v * 10 + (*c->p++ - '0');
    size_t n = (size_t)(c->p - s);
    if (n == 0 || (n > 1 && *s == '0') || c->p == c->end || (*c->p != ',' && *c->p != '}'))
        return false;
    *out = v;
    return true;
}

/* ,"name":"bytes" with no escape, no control character, shorter than outsz. */
static bool fast_str(cursor *c, const char *name, char *out, size_t outsz)
{
    if (!fast_key(c, name) || !lit(c, "\""))
        return false;
    const char *s = c->p;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20 || ch == '\\')
            return false;
        c->p++;
    }
    size_t n = (size_t)(c->p - s);
    if (c->p == c->end || n >= outsz)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    c->p++;
    return true;
}

/*
 * The fast path: a line exactly as hub_usage_to_json writes it (its keys in its order,
 * numbers as plain digits or null, strings without escapes). Anything else returns false
 * and goes through json-c, which reads every valid spelling; for each line this accepts,
 * the result is the one json-c gives. It spares the drain thread json-c's tokenizer and
 * object tree, which cost more than everything else a proxied request does.
 */
static bool parse_fast(const char *line, size_t len, hub_usage *u, long long *attempt,
                       long long *status)
{
    cursor c = {line, line + len};
    long long stream = -1;
    if (!(lit(&c, "{\"v\":1") && fast_str(&c, "request_id", u->request_id, sizeof(u->request_id)) &&
          fast_num(&c, "attempt", attempt) && fast_num(&c, "ts_ms", &u->ts_ms) &&
          fast_num(&c, "key_id", &u->key_id) && fast_num(&c, "user_id", &u->user_id) &&
          fast_num(&c, "team_id", &u->team_id) && fast_str(&c, "app", u->app, sizeof(u->app)) &&
          fast_str(&c, "provider", u->provider, sizeof(u->provider)) &&
          fast_num(&c, "credential_id", &u->credential_id) &&
          fast_str(&c, "model", u->model, sizeof(u->model)) &&
          fast_str(&c, "endpoint", u->endpoint, sizeof(u->endpoint)) &&
          fast_num(&c, "stream", &stream) && fast_num(&c, "status", status) &&
          fast_num(&c, "prompt_tokens", &u->prompt_tokens) &&
          fast_num(&c, "completion_tokens", &u->completion_tokens) &&
          fast_num(&c, "total_tokens", &u->total_tokens) && fast_num(&c, "images", &u->images) &&
          fast_num(&c, "cost_micro", &u->cost_micro) &&
          fast_num(&c, "latency_ms", &u->latency_ms) && fast_num(&c, "ttfb_ms", &u->ttfb_ms) &&
          fast_str(&c, "outcome", u->outcome, sizeof(u->outcome)) && lit(&c, "}")))
        return false;
    for (; c.p < c.end; c.p++) {
        if (*c.p != ' ' && *c.p != '\t' && *c.p != '\r')
            return false;
    }
    u->stream = (int)stream;
    return true;
}

bool hub_usage_from_json(const char *line, size_t len, hub_usage *u)
{
    long long attempt = -1, status = -1;
    hub_usage_init(u);
    if (!parse_fast(line, len, u, &attempt, &status)) {
        hub_usage_init(u);
        if (!parse_json(line, len, u, &attempt, &status))
            return false;
    }
    if (strlen(u->request_id) != HUB_UUID_LEN || attempt < 0 || attempt > 65535 || status > 999 ||
        u->ts_ms < 0)
        return false;
    u->attempt = (int)attempt;
    u->status = (int)status;
    return true;
}
