/*
 * test_core.c — unit tests of hub's small core modules: hub_price (cost arithmetic and USD
 * parsing), hub_usage (the spool line format and its round trip), hub_error (the one
 * error-to-HTTP mapping), hub_buf and hub_uuid. hub_config and hub_spool are in
 * test_config_spool.c.
 *
 * Usage: test_core (no arguments). Output is TAP-style, one line per check (see tap.h).
 */
#include "hub_buf.h"
#include "hub_config.h"
#include "hub_error.h"
#include "hub_price.h"
#include "hub_spool.h"
#include "hub_usage.h"
#include "hub_uuid.h"
#include "hub_oauth.h"
#include "tap.h"
#include "usage_util.h"
#include "test_util.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- hub_price ---------------------------------------------------------------------- */

static void test_price_cost(void)
{
    hub_price p = {true, 150000, 600000, -1};
    /* 1234 * 150000 = 185,100,000 / 1e6 = 185.1   -> 185
     *  567 * 600000 = 340,200,000 / 1e6 = 340.2   -> 340     total 525 micro-USD */
    TAP_CHECK(hub_price_cost(&p, 1234, 567, 0) == 525, "price: 1234+567 tokens cost 525");
    TAP_CHECK(hub_price_cost(&p, 1234, 567, -1) == 525, "price: images ignored when per-token");

    /* half up: 1 * 500000 / 1e6 = 0.5 -> 1; 1 * 499999 / 1e6 = 0.499999 -> 0;
     * 3 * 500000 / 1e6 = 1.5 -> 2 */
    hub_price half = {true, 500000, 499999, -1};
    TAP_CHECK(hub_price_cost(&half, 1, 0, 0) == 1, "price: 0.5 micro rounds up to 1");
    TAP_CHECK(hub_price_cost(&half, 0, 1, 0) == 0, "price: 0.499999 micro rounds down to 0");
    TAP_CHECK(hub_price_cost(&half, 3, 0, 0) == 2, "price: 1.5 micro rounds up to 2");

    hub_price unknown = {false, 150000, 600000, -1};
    TAP_CHECK(hub_price_cost(&unknown, 10, 10, 0) == -1, "price: unknown price -> -1");
    TAP_CHECK(hub_price_cost(NULL, 10, 10, 0) == -1, "price: NULL price -> -1");
    TAP_CHECK(hub_price_cost(&p, -1, 567, 0) == -1, "price: unknown prompt count -> -1");
    TAP_CHECK(hub_price_cost(&p, 1234, -1, 0) == -1, "price: unknown completion count -> -1");

    hub_price no_out = {true, 150000, -1, -1};
    TAP_CHECK(hub_price_cost(&no_out, 10, 5, 0) == -1,
              "price: unpriced component with positive count -> -1");
    TAP_CHECK(hub_price_cost(&p, 0, 0, 0) == 0, "price: zero counts cost 0");

    /* per image: 2 * 40000 = 80000; token prices unknown and counts unknown */
    hub_price img = {true, -1, -1, 40000};
    TAP_CHECK(hub_price_cost(&img, -1, -1, 2) == 80000, "price: 2 images x 40000 = 80000");
    TAP_CHECK(hub_price_cost(&img, -1, -1, -1) == -1, "price: per-image with unknown images");
    /* per image plus priced tokens: 80000 + 1000 * 5000000 / 1e6 (= 5000) = 85000 */
    hub_price img_tok = {true, 5000000, -1, 40000};
    TAP_CHECK(hub_price_cost(&img_tok, 1000, -1, 2) == 85000, "price: images + priced tokens");
    TAP_CHECK(hub_price_cost(&img_tok, -1, -1, 2) == 80000,
              "price: images priced although token counts unknown");

    /* embeddings: 20000 micro per 1M input, output unpriced; 123456 * 20000 / 1e6 =
     * 2469.12 -> 2469 */
    hub_price emb = {true, 20000, -1, -1};
    TAP_CHECK(hub_price_cost(&emb, 123456, 0, 0) == 2469, "price: embeddings, completion 0");
    TAP_CHECK(hub_price_cost(&emb, 123456, -1, 0) == 2469, "price: embeddings, completion -1");

    /* 2^31 tokens * 75,000,000 micro per 1M = 2147483648 * 75 = 161,061,273,600 (the product
     * 1.6e17 overflows 32 bits by far and is exact in 64) */
    hub_price big = {true, 75000000, 75000000, -1};
    TAP_CHECK(hub_price_cost(&big, 2147483648LL, 0, 0) == 161061273600LL,
              "price: 2^31 tokens at 75,000,000 without overflow");
    /* 10^12 tokens each side: 10^12 * 75e6 = 7.5e19 > INT64_MAX before the division */
    TAP_CHECK(hub_price_cost(&big, 1000000000000LL, 1000000000000LL, 0) == 150000000000000LL,
              "price: 10^12 tokens each side (intermediate > 2^63)");
}

static void test_price_parse(void)
{
    static const struct {
        const char *s;
        long long micro;
    } good[] = {
        {"2.50", 2500000}, {"0.000001", 1},  {"15", 15000000},      {"0", 0},
        {"0.1", 100000},   {"007", 7000000}, {"1.123456", 1123456},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        long long m = -42;
        char name[96];
        snprintf(name, sizeof(name), "parse_usd: \"%s\" -> %lld", good[i].s, good[i].micro);
        TAP_CHECK(hub_price_parse_usd(good[i].s, &m) && m == good[i].micro, name);
    }
    static const char *const bad[] = {"",    "-1", "1.", ".5", "1.0000001", "abc", "1e3",
                                      "1,5", " 1", "1 ", "+1", "1.2.3",     "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long m = -42;
        char name[96];
        snprintf(name, sizeof(name), "parse_usd: \"%s\" refused, output untouched", bad[i]);
        TAP_CHECK(!hub_price_parse_usd(bad[i], &m) && m == -42, name);
    }
    long long m = -42;
    TAP_CHECK(!hub_price_parse_usd(NULL, &m), "parse_usd: NULL refused");
}

static void test_price_vendor(void)
{
    TAP_CHECK(streq(hub_price_vendor("openai"), "openai"), "vendor: openai");
    TAP_CHECK(streq(hub_price_vendor("anthropic"), "anthropic"), "vendor: anthropic");
    TAP_CHECK(streq(hub_price_vendor("gemini"), "google"), "vendor: gemini -> google");
    TAP_CHECK(hub_price_vendor("azure") == NULL, "vendor: azure -> NULL");
    TAP_CHECK(hub_price_vendor("OpenAI") == NULL, "vendor: case-sensitive");
    TAP_CHECK(hub_price_vendor("") == NULL, "vendor: empty -> NULL");
    TAP_CHECK(hub_price_vendor(NULL) == NULL, "vendor: NULL -> NULL");
}

/* to_json then from_json; true when the line is one JSON line and parses back equal. */
static bool usage_roundtrip(const hub_usage *u, hub_usage *back)
{
    hub_buf b;
    hub_buf_init(&b, 0);
    bool ok = hub_usage_to_json(u, &b) && b.len > 1 && b.data[b.len - 1] == '\n' &&
              memchr(b.data, '\n', b.len - 1) == NULL &&
              hub_usage_from_json(b.data, b.len - 1, back) && usage_equal(u, back);
    hub_buf_free(&b);
    return ok;
}

static void test_usage(void)
{
    hub_usage u, back;
    hub_usage_init(&u);
    TAP_CHECK(u.status == -1 && u.prompt_tokens == -1 && u.completion_tokens == -1 &&
                  u.total_tokens == -1 && u.images == -1 && u.cost_micro == -1 &&
                  u.latency_ms == -1 && u.ttfb_ms == -1 && u.key_id == 0 && u.app[0] == '\0' &&
                  strcmp(u.outcome, "pending") == 0,
              "usage: init sets unknowns to -1, outcome pending");

    usage_full(&u);
    TAP_CHECK(usage_roundtrip(&u, &back), "usage: full record round trip");
    TAP_CHECK(strcmp(back.app, u.app) == 0 && strchr(back.app, '\n') != NULL,
              "usage: quotes, backslash, newline, control char, UTF-8 survive");

    /* unknowns stay unknown (-1), zero ids stay 0 */
    hub_usage_init(&u);
    snprintf(u.request_id, sizeof(u.request_id), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    snprintf(u.provider, sizeof(u.provider), "p");
    snprintf(u.model, sizeof(u.model), "m");
    snprintf(u.endpoint, sizeof(u.endpoint), "/v1/embeddings");
    TAP_CHECK(usage_roundtrip(&u, &back) && back.status == -1 && back.cost_micro == -1 &&
                  back.ttfb_ms == -1 && back.key_id == 0 && back.app[0] == '\0',
              "usage: -1 fields stay -1, 0 ids stay 0");

    /* the line itself: unknown numbers are JSON null, not 0 or -1 */
    hub_buf b;
    hub_buf_init(&b, 0);
    TAP_CHECK(hub_usage_to_json(&u, &b) && strstr(b.data, "\"cost_micro\":null") != NULL &&
                  strstr(b.data, "\"v\":1") != NULL && strstr(b.data, ":-1") == NULL,
              "usage: unknowns written as null");
    hub_buf_free(&b);

    /* refusals */
    usage_full(&u);
    hub_buf_init(&b, 0);
    TAP_CHECK(hub_usage_to_json(&u, &b), "usage: to_json of full record");
    TAP_CHECK(!hub_usage_from_json(b.data, b.len / 2, &back), "usage: truncated line refused");
    TAP_CHECK(!hub_usage_from_json(b.data, b.len - 2, &back),
              "usage: line missing its last brace refused");
    hub_buf_free(&b);

    usage_full(&u);
    u.request_id[35] = '\0';
    hub_buf_init(&b, 0);
    TAP_CHECK(hub_usage_to_json(&u, &b) && !hub_usage_from_json(b.data, b.len - 1, &back),
              "usage: 35-char request_id refused");
    hub_buf_free(&b);

    usage_full(&u);
    memset(u.model, 'm', sizeof(u.model) - 1);
    u.model[sizeof(u.model) - 1] = '\0';
    TAP_CHECK(usage_roundtrip(&u, &back), "usage: model of 191 chars accepted");

    static const char with_provider[] =
        "{\"v\":1,\"request_id\":\"0123abcd-4567-4def-8901-23456789abcd\",\"attempt\":0,"
        "\"ts_ms\":5,\"provider\":\"p\",\"model\":\"m\",\"endpoint\":\"/e\",\"outcome\":\"ok\"}";
    static const char no_provider[] =
        "{\"v\":1,\"request_id\":\"0123abcd-4567-4def-8901-23456789abcd\",\"attempt\":0,"
        "\"ts_ms\":5,\"model\":\"m\",\"endpoint\":\"/e\",\"outcome\":\"ok\"}";
    static const char null_attempt[] =
        "{\"v\":1,\"request_id\":\"0123abcd-4567-4def-8901-23456789abcd\",\"attempt\":null,"
        "\"ts_ms\":5,\"provider\":\"p\",\"model\":\"m\",\"endpoint\":\"/e\",\"outcome\":\"ok\"}";
    TAP_CHECK(hub_usage_from_json(with_provider, strlen(with_provider), &back) &&
                  strcmp(back.provider, "p") == 0 && back.ts_ms == 5 && back.status == -1,
              "usage: minimal line accepted, absent numbers -1");
    TAP_CHECK(!hub_usage_from_json(no_provider, strlen(no_provider), &back),
              "usage: missing provider refused");
    TAP_CHECK(!hub_usage_from_json(null_attempt, strlen(null_attempt), &back),
              "usage: null attempt refused");
    TAP_CHECK(!hub_usage_from_json("hello world", 11, &back), "usage: non-JSON refused");
    TAP_CHECK(!hub_usage_from_json("[1,2,3]", 7, &back), "usage: JSON array refused");
    TAP_CHECK(!hub_usage_from_json("", 0, &back), "usage: empty line refused");

    /* the writer's own spelling (read by the fast path) and other spellings of the same
     * record (read by json-c) give the same record */
    static const char own[] =
        "{\"v\":1,\"request_id\":\"0123abcd-4567-4def-8901-23456789abcd\",\"attempt\":1,"
        "\"ts_ms\":1700000000123,\"key_id\":7,\"user_id\":8,\"team_id\":0,\"app\":\"a\xc3\xa9\","
        "\"provider\":\"p\",\"credential_id\":3,\"model\":\"m\",\"endpoint\":\"/v1/chat/"
        "completions\","
        "\"stream\":0,\"status\":200,\"prompt_tokens\":1,\"completion_tokens\":2,"
        "\"total_tokens\":3,\"images\":null,\"cost_micro\":40,\"latency_ms\":5,\"ttfb_ms\":null,"
        "\"outcome\":\"ok\"} \r";
    static const char other[] =
        "{ \"outcome\": \"ok\", \"request_id\": \"0123abcd-4567-4def-8901-23456789abcd\","
        "\"attempt\": 1, \"ts_ms\": 1700000000123, \"key_id\": 7, \"user_id\": 8, \"team_id\": 0,"
        "\"app\": \"a\\u00e9\", \"provider\": \"\\u0070\", \"credential_id\": 3, \"model\": \"m\","
        "\"endpoint\": \"\\/v1\\/chat\\/completions\", \"stream\": 0, \"status\": 200,"
        "\"prompt_tokens\": 1, \"completion_tokens\": 2, \"total_tokens\": 3, \"cost_micro\": 40,"
        "\"latency_ms\": 5, \"v\": 1}";
    hub_usage fast, slow;
    TAP_CHECK(hub_usage_from_json(own, strlen(own), &fast) &&
                  hub_usage_from_json(other, strlen(other), &slow) && usage_equal(&fast, &slow) &&
                  fast.ts_ms == 1700000000123LL && fast.status == 200 && fast.images == -1 &&
                  fast.ttfb_ms == -1 && fast.team_id == 0 && strcmp(fast.app, "a\xc3\xa9") == 0,
              "usage: the writer's spelling and another one read the same");
    static const char *const bad_tails[] = {"x", ",", "}", "\n{}"};
    for (size_t i = 0; i < sizeof(bad_tails) / sizeof(bad_tails[0]); i++) {
        char line[1024];
        snprintf(line, sizeof(line), "%s%s", own, bad_tails[i]);
        TAP_CHECK(!hub_usage_from_json(line, strlen(line), &back),
                  "usage: bytes after the object refused");
    }
    static const char big_status[] =
        "{\"v\":1,\"request_id\":\"0123abcd-4567-4def-8901-23456789abcd\",\"attempt\":0,"
        "\"ts_ms\":5,\"key_id\":0,\"user_id\":0,\"team_id\":0,\"app\":\"\",\"provider\":\"p\","
        "\"credential_id\":0,\"model\":\"m\",\"endpoint\":\"/e\",\"stream\":0,\"status\":1000,"
        "\"prompt_tokens\":null,\"completion_tokens\":null,\"total_tokens\":null,\"images\":null,"
        "\"cost_micro\":null,\"latency_ms\":null,\"ttfb_ms\":null,\"outcome\":\"ok\"}";
    TAP_CHECK(!hub_usage_from_json(big_status, strlen(big_status), &back),
              "usage: status over 999 refused (fast path)");

    char ts[48];
    hub_usage_ts_sql(1700000000123LL, ts);
    TAP_CHECK(strcmp(ts, "2023-11-14 22:13:20.123") == 0, "usage: ts_sql of 1700000000123");
    hub_usage_ts_sql(0, ts);
    TAP_CHECK(strcmp(ts, "1970-01-01 00:00:00.000") == 0, "usage: ts_sql of 0");
    long long now = hub_now_ms();
    TAP_CHECK(now > 1600000000000LL && now < 4102444800000LL, "usage: hub_now_ms plausible");
}

/* ---- hub_error ---------------------------------------------------------------------- */

/* Checks that body is {"error":{message,type,param,code}} with the expected values
 * (param/code NULL = JSON null). */
static bool error_body_is(const char *body, const char *message, const char *type,
                          const char *param, const char *code)
{
    json_object *o = parse_json(body, strlen(body));
    json_object *e = NULL;
    bool ok = o != NULL && json_object_object_get_ex(o, "error", &e) &&
              json_object_is_type(e, json_type_object) && json_object_object_length(e) == 4 &&
              streq(jstr(e, "message"), message) && streq(jstr(e, "type"), type) &&
              (param == NULL ? jnull(e, "param") : streq(jstr(e, "param"), param)) &&
              (code == NULL ? jnull(e, "code") : streq(jstr(e, "code"), code));
    if (o != NULL)
        json_object_put(o);
    return ok;
}

static void test_error(void)
{
    static const struct {
        hub_err e;
        int status;
        const char *type;
    } map[] = {
        {HUB_OK, 200, "none"},
        {HUB_EINVAL, 400, "invalid_request_error"},
        {HUB_EAUTH, 401, "authentication_error"},
        {HUB_EFORBIDDEN, 403, "permission_error"},
        {HUB_ENOTFOUND, 404, "invalid_request_error"},
        {HUB_EMETHOD, 405, "invalid_request_error"},
        {HUB_ETOOBIG, 413, "invalid_request_error"},
        {HUB_EMEDIA, 415, "invalid_request_error"},
        {HUB_ELIMIT, 429, "rate_limit_error"},
        {HUB_EUPSTREAM, 502, "upstream_error"},
        {HUB_ETIMEOUT, 504, "upstream_error"},
        {HUB_ECRYPTO, 500, "server_error"},
        {HUB_EDB, 503, "server_error"},
        {HUB_ENOMEM, 500, "server_error"},
        {HUB_EINTERNAL, 500, "server_error"},
        {HUB_EUNAVAIL, 503, "server_error"},
    };
    char out[512];
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        char name[96];
        int st = hub_error_http(map[i].e, 0, "m", "p", "c", out, sizeof(out));
        snprintf(name, sizeof(name), "error: hub_err %d -> %d %s", (int)map[i].e, map[i].status,
                 map[i].type);
        TAP_CHECK(st == map[i].status && hub_error_status(map[i].e) == map[i].status &&
                      error_body_is(out, "m", map[i].type, "p", "c"),
                  name);
    }
    TAP_CHECK(hub_error_status((hub_err)999) == 500, "error: out-of-range hub_err -> 500");

    /* default code and NULL param */
    int st = hub_error_http(HUB_EAUTH, 0, "bad key", NULL, NULL, out, sizeof(out));
    TAP_CHECK(st == 401 &&
                  error_body_is(out, "bad key", "authentication_error", NULL, "invalid_api_key"),
              "error: param NULL -> null, default code");
    TAP_CHECK(strstr(out, "\"param\":null") != NULL, "error: param rendered as literal null");
    st = hub_error_http(HUB_EINVAL, 0, NULL, NULL, NULL, out, sizeof(out));
    TAP_CHECK(st == 400 && error_body_is(out, "Bad Request", "invalid_request_error", NULL, NULL),
              "error: NULL message -> reason phrase, EINVAL code null");

    /* escaping */
    static const char nasty[] = "say \"hi\"\\ \n\r\t\x01\x1f end \xc3\xa9";
    st = hub_error_http(HUB_EINVAL, 0, nasty, "messages[0].\"content\"", NULL, out, sizeof(out));
    TAP_CHECK(st == 400 && error_body_is(out, nasty, "invalid_request_error",
                                         "messages[0].\"content\"", NULL),
              "error: quotes and control chars survive a JSON parse");
    TAP_CHECK(strstr(out, "\\\"hi\\\"\\\\ \\n\\r\\t\\u0001\\u001f end") != NULL &&
                  strchr(out, '\n') == NULL && strchr(out, '\x01') == NULL,
              "error: control chars escaped in the raw body");

    /* status override passes an upstream status through */
    st = hub_error_http(HUB_EUPSTREAM, 429, "slow down", NULL, NULL, out, sizeof(out));
    TAP_CHECK(st == 429 && error_body_is(out, "slow down", "rate_limit_error", NULL, NULL),
              "error: override 429 -> rate_limit_error");
    st = hub_error_http(HUB_EUPSTREAM, 401, "no", NULL, NULL, out, sizeof(out));
    TAP_CHECK(st == 401 && error_body_is(out, "no", "authentication_error", NULL, NULL),
              "error: override 401 -> authentication_error");
    st = hub_error_http(HUB_EUPSTREAM, 422, "bad", NULL, NULL, out, sizeof(out));
    TAP_CHECK(st == 422 && error_body_is(out, "bad", "invalid_request_error", NULL, NULL),
              "error: override 422 -> invalid_request_error");
    st = hub_error_http(HUB_EUPSTREAM, 529, NULL, NULL, NULL, out, sizeof(out));
    TAP_CHECK(st == 529 && error_body_is(out, "Server Error", "server_error", NULL, NULL),
              "error: override 529 -> server_error");

    /* long message: valid JSON, falls back to the reason phrase */
    char longmsg[4096];
    memset(longmsg, 'x', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    char small[200];
    st = hub_error_http(HUB_ELIMIT, 0, longmsg, NULL, NULL, small, sizeof(small));
    TAP_CHECK(st == 429 &&
                  error_body_is(small, "Too Many Requests", "rate_limit_error", NULL, NULL),
              "error: message longer than buffer -> valid fallback body");

    /* every message length around the buffer size: valid JSON, nothing written past outsz */
    enum { OUTSZ = 160, GUARD = 64 };
    char guarded[OUTSZ + GUARD];
    bool all_ok = true;
    for (size_t n = 0; n < 300 && all_ok; n++) {
        memset(guarded, 0x5a, sizeof(guarded));
        longmsg[n] = '\0';
        st = hub_error_http(HUB_EINVAL, 0, longmsg, "x", NULL, guarded, OUTSZ);
        longmsg[n] = 'x';
        json_object *o = parse_json(guarded, strnlen(guarded, OUTSZ));
        all_ok = st == 400 && o != NULL && strnlen(guarded, OUTSZ) < OUTSZ;
        if (o != NULL)
            json_object_put(o);
        for (size_t g = OUTSZ; g < sizeof(guarded) && all_ok; g++)
            all_ok = guarded[g] == 0x5a;
        if (!all_ok)
            printf("# failed at message length %zu\n", n);
    }
    TAP_CHECK(all_ok, "error: message lengths 0..299 into 160 bytes: valid JSON, no overrun");

    TAP_CHECK(strcmp(hub_http_reason(404), "Not Found") == 0 &&
                  strcmp(hub_http_reason(418), "Bad Request") == 0 &&
                  strcmp(hub_http_reason(599), "Server Error") == 0,
              "error: reason phrases");
}

/* ---- hub_buf ------------------------------------------------------------------------ */

static void test_buf(void)
{
    hub_buf b;
    hub_buf_init(&b, 0);
    TAP_CHECK(hub_buf_puts(&b, "") && b.data != NULL && b.len == 0 && b.data[0] == '\0',
              "buf: empty append NUL-terminates");
    TAP_CHECK(hub_buf_append(&b, "abcdef", 3) && b.len == 3 && strcmp(b.data, "abc") == 0,
              "buf: append 3 bytes");
    TAP_CHECK(hub_buf_printf(&b, "%d-%s", 42, "x") && b.len == 7 && strcmp(b.data, "abc42-x") == 0,
              "buf: printf appends");
    hub_buf_consume(&b, 2);
    TAP_CHECK(b.len == 5 && strcmp(b.data, "c42-x") == 0, "buf: consume 2");
    hub_buf_consume(&b, 100);
    TAP_CHECK(b.len == 0 && b.data[0] == '\0', "buf: consume past end empties");

    bool ok = true;
    for (int i = 0; i < 1000 && ok; i++)
        ok = hub_buf_printf(&b, "%04d;", i);
    ok = ok && b.len == 5000 && memcmp(b.data, "0000;0001;", 10) == 0 &&
         memcmp(b.data + 4995, "0999;", 5) == 0 && b.data[5000] == '\0';
    TAP_CHECK(ok, "buf: grows across many appends, content intact");
    size_t size = b.size;
    hub_buf_reset(&b);
    TAP_CHECK(b.len == 0 && b.size == size && b.data[0] == '\0', "buf: reset keeps memory");
    hub_buf_free(&b);
    TAP_CHECK(b.data == NULL && b.len == 0, "buf: free");

    hub_buf_init(&b, 8);
    TAP_CHECK(hub_buf_puts(&b, "12345678") && b.len == 8, "buf: append up to cap");
    TAP_CHECK(!hub_buf_puts(&b, "9") && b.len == 8 && strcmp(b.data, "12345678") == 0,
              "buf: append beyond cap fails, len unchanged");
    hub_buf_consume(&b, 4);
    TAP_CHECK(!hub_buf_printf(&b, "%s", "abcde") && b.len == 4 && strcmp(b.data, "5678") == 0,
              "buf: printf beyond cap fails, len unchanged");
    TAP_CHECK(hub_buf_printf(&b, "%s", "abcd") && b.len == 8 && strcmp(b.data, "5678abcd") == 0,
              "buf: printf up to cap");
    hub_buf_free(&b);

    hub_buf_init(&b, 0);
    TAP_CHECK(hub_buf_json_str(&b, "\"\\\n\t\x01") &&
                  strcmp(b.data, "\"\\\"\\\\\\n\\t\\u0001\"") == 0,
              "buf: json_str escapes quote, backslash, newline, tab, 0x01");
    hub_buf_reset(&b);
    TAP_CHECK(hub_buf_json_str(&b, "\r\x1f\x7f/\xc3\xa9") &&
                  strcmp(b.data, "\"\\r\\u001f\x7f/\xc3\xa9\"") == 0,
              "buf: json_str escapes CR and 0x1f, passes DEL, '/' and UTF-8");
    hub_buf_reset(&b);
    TAP_CHECK(hub_buf_json_str(&b, "") && strcmp(b.data, "\"\"") == 0, "buf: json_str empty");
    hub_buf_free(&b);
    hub_buf_init(&b, 4);
    TAP_CHECK(!hub_buf_json_str(&b, "abcdef"), "buf: json_str beyond cap fails");
    hub_buf_free(&b);
}

/* ---- hub_uuid ----------------------------------------------------------------------- */

static bool uuid_well_formed(const char *u)
{
    if (strlen(u) != HUB_UUID_LEN)
        return false;
    for (int i = 0; i < HUB_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (u[i] == '-'))
            return false;
        if (!dash && strchr("0123456789abcdef", u[i]) == NULL)
            return false;
    }
    return u[14] == '4' && strchr("89ab", u[19]) != NULL;
}

static int cmp_uuid(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_uuid(void)
{
    enum { N = 1000 };
    static char ids[N][HUB_UUID_LEN + 1];
    bool gen = true, fmt = true;
    for (int i = 0; i < N; i++) {
        gen = gen && hub_uuid_v4(ids[i]);
        fmt = fmt && uuid_well_formed(ids[i]);
    }
    TAP_CHECK(gen, "uuid: 1000 generated");
    TAP_CHECK(fmt, "uuid: 8-4-4-4-12 lower-case hex, version 4, variant [89ab]");
    qsort(ids, N, sizeof(ids[0]), cmp_uuid);
    bool distinct = true;
    for (int i = 1; i < N; i++)
        distinct = distinct && strcmp(ids[i - 1], ids[i]) != 0;
    TAP_CHECK(distinct, "uuid: 1000 are distinct");
    TAP_CHECK(!uuid_well_formed("0123ABCD-4567-4def-8901-23456789abcd") &&
                  !uuid_well_formed("0123abcd-4567-3def-8901-23456789abcd") &&
                  !uuid_well_formed("0123abcd-4567-4def-c901-23456789abcd"),
              "uuid: checker refuses upper case, version 3, variant c");
}

static void test_oauth(void)
{
    char out[64];
    hub_oauth_scrub("bad token eyJhbGciOiJSUzI1NiJ9.e30.sig-_x here\r\nforged", out, sizeof(out));
    TAP_CHECK(strcmp(out, "bad token [jwt] here  forged") == 0,
              "oauth: a JWT in a log message becomes [jwt], CR/LF become spaces");
    hub_oauth_scrub("0123456789abcdefghij", out, 10);
    TAP_CHECK(strlen(out) < 10, "oauth: the scrubbed copy fits its buffer");
    TAP_CHECK(hub_oauth_url_ok("https://idp.example.test/") &&
                  hub_oauth_url_ok("http://127.0.0.1:8080/jwks") &&
                  !hub_oauth_url_ok("http://idp.example.test/") &&
                  !hub_oauth_url_ok("http://127.0.0.1.evil.test/") && !hub_oauth_url_ok(NULL),
              "oauth: https, or plain http only to this machine");
    TAP_CHECK(hub_b64url_char('-') && hub_b64url_char('_') && !hub_b64url_char('+') &&
                  !hub_b64url_char('/') && !hub_b64url_char('='),
              "oauth: base64url characters");
}

int main(void)
{
    test_oauth();
    test_price_cost();
    test_price_parse();
    test_price_vendor();
    test_usage();
    test_error();
    test_buf();
    test_uuid();
    return tap_done();
}
