/*
 * test_json.c — unit tests of hub_json (strict RFC 8259 parsing of outside bytes).
 *
 * Usage: test_json CORPUS_DIR, where CORPUS_DIR is JSONTestSuite's test_parsing/ folder.
 * Every n_* file must be refused, every y_* file accepted (alone and as the value of a field
 * in an object), and every i_* file must get some answer without crashing. Hub's policy is
 * stricter than RFC 8259 in two documented ways (hub_json.h): \u0000 and duplicate keys are
 * refused. The few y_* files that contain them are listed in policy_refused[] and must be
 * refused instead. One TAP line per category; the names of failing files are printed as
 * comments. The rest of the checks are hand-written edge cases.
 */
#include "hub_json.h"
#include "tap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* y_* files hub refuses on purpose: \u0000 escapes and duplicate keys. */
static const char *const policy_refused[] = {
    "y_object_duplicated_key.json",
    "y_object_duplicated_key_and_value.json",
    "y_object_escaped_null_in_key.json",
    "y_string_null_escape.json",
};

static bool is_policy_refused(const char *name)
{
    for (size_t k = 0; k < sizeof(policy_refused) / sizeof(policy_refused[0]); k++) {
        if (strcmp(name, policy_refused[k]) == 0)
            return true;
    }
    return false;
}

/* Parses with the default depth; frees the tree. Returns whether the text was accepted. */
static bool accepts_n(const char *text, size_t len, int depth)
{
    json_object *o = NULL;
    char err[128];
    bool ok = hub_json_parse(text, len, depth, &o, err, sizeof(err));
    bool ok2 = hub_json_validate(text, len, depth, err, sizeof(err));
    json_object_put(o);
    if (ok != ok2)
        printf("# parse and validate disagree\n");
    return ok && ok2;
}

static bool accepts(const char *text)
{
    return accepts_n(text, strlen(text), HUB_JSON_DEFAULT_DEPTH);
}

/* Reads a whole file. Returns a malloc'd buffer (caller frees) and its length, or NULL. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    size_t n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *p = realloc(buf, ncap);
            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Wraps body as {"v": body}. Returns a malloc'd buffer (caller frees) or NULL. */
static char *wrap_field(const char *body, size_t len, size_t *out_len)
{
    static const char pre[] = "{\"v\": ";
    size_t n = sizeof(pre) - 1 + len + 1;
    char *w = malloc(n);

    if (w == NULL)
        return NULL;
    memcpy(w, pre, sizeof(pre) - 1);
    if (len > 0)
        memcpy(w + sizeof(pre) - 1, body, len);
    w[n - 1] = '}';
    *out_len = n;
    return w;
}

typedef struct {
    int total;
    int failed;
} tally;

static void corpus_file(const char *dir, const char *name, tally *y, tally *yw, tally *n, tally *i)
{
    char path[4096];
    size_t len = 0;
    size_t wlen = 0;
    char *body;
    char *wrapped;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return;
    body = read_file(path, &len);
    if (body == NULL) {
        printf("# cannot read %s\n", name);
        return;
    }
    if (name[0] == 'y') {
        bool want = !is_policy_refused(name);
        y->total++;
        if (accepts_n(body, len, HUB_JSON_DEFAULT_DEPTH) != want) {
            y->failed++;
            printf("# y %s: %s\n", want ? "refused" : "accepted despite policy", name);
        }
        wrapped = wrap_field(body, len, &wlen);
        yw->total++;
        if (wrapped == NULL || accepts_n(wrapped, wlen, HUB_JSON_DEFAULT_DEPTH) != want) {
            yw->failed++;
            printf("# wrapped y %s: %s\n", want ? "refused" : "accepted despite policy", name);
        }
        free(wrapped);
    } else if (name[0] == 'n') {
        n->total++;
        if (accepts_n(body, len, HUB_JSON_DEFAULT_DEPTH)) {
            n->failed++;
            printf("# n accepted: %s\n", name);
        }
    } else if (name[0] == 'i') {
        i->total++;
        bool ok = accepts_n(body, len, HUB_JSON_DEFAULT_DEPTH);
        printf("# i %s: %s\n", ok ? "accepted" : "refused", name);
    }
    free(body);
}

static void check_corpus(const char *dir)
{
    tally y = {0, 0}, yw = {0, 0}, n = {0, 0}, i = {0, 0};
    char name[160];
    DIR *d = dir != NULL ? opendir(dir) : NULL;
    struct dirent *e;

    if (d == NULL) {
        TAP_CHECK(false, "JSONTestSuite corpus directory readable (argv[1])");
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strlen(e->d_name) < 3 || e->d_name[1] != '_')
            continue;
        corpus_file(dir, e->d_name, &y, &yw, &n, &i);
    }
    closedir(d);
    snprintf(name, sizeof(name), "all %d n_* refused", n.total);
    TAP_CHECK(n.total > 0 && n.failed == 0, name);
    snprintf(name, sizeof(name), "all %d y_* accepted (%zu refused by policy)", y.total,
             sizeof(policy_refused) / sizeof(policy_refused[0]));
    TAP_CHECK(y.total > 0 && y.failed == 0, name);
    snprintf(name, sizeof(name), "all %d y_* accepted as {\"v\": ...} field values", yw.total);
    TAP_CHECK(yw.total > 0 && yw.failed == 0, name);
    snprintf(name, sizeof(name), "all %d i_* answered without a crash", i.total);
    TAP_CHECK(i.total > 0, name);
}

/* Returns a malloc'd "[[...]]" of the given depth (caller frees), or NULL. */
static char *nested(size_t depth, bool close, size_t *len)
{
    size_t n = close ? depth * 2 : depth;
    char *s = malloc(n + 1);

    if (s == NULL)
        return NULL;
    memset(s, '[', depth);
    if (close)
        memset(s + depth, ']', depth);
    s[n] = '\0';
    *len = n;
    return s;
}

static void check_depth(void)
{
    size_t len = 0;
    char err[128] = "";
    char *s = nested(64, true, &len);

    TAP_CHECK(s != NULL && accepts_n(s, len, 64), "depth 64 accepted with max_depth 64");
    free(s);
    s = nested(65, true, &len);
    TAP_CHECK(s != NULL && !accepts_n(s, len, 64), "depth 65 refused with max_depth 64");
    if (s != NULL)
        hub_json_validate(s, len, 64, err, sizeof(err));
    TAP_CHECK(strcmp(err, "invalid JSON: nesting deeper than 64") == 0,
              "depth error names the nesting limit");
    free(s);
    TAP_CHECK(accepts("{\"a\":[{\"b\":[1]}]}"), "mixed objects and arrays nest");
    s = nested(100000, false, &len);
    TAP_CHECK(s != NULL && !accepts_n(s, len, 64), "100000 nested '[' refused without crash");
    free(s);
    s = nested(100000, true, &len);
    TAP_CHECK(s != NULL && !accepts_n(s, len, 100000), "huge max_depth is capped, no crash");
    free(s);
}

static void check_strings(void)
{
    static const char nul_in_string[] = "[\"a\0b\"]";
    static const char nul_after[] = "[1]\0";

    TAP_CHECK(!accepts("{\"a\":1,\"a\":2}"), "duplicate key refused");
    TAP_CHECK(!accepts("{\"a\":1,\"\\u0061\":2}"), "\"a\" and \"\\u0061\" are duplicates");
    TAP_CHECK(!accepts("[{\"x\":{}},{\"k\":1,\"j\":2,\"k\":3}]"), "nested duplicate refused");
    TAP_CHECK(accepts("{\"a\":{\"a\":1},\"b\":{\"a\":2}}"), "same key in sibling objects ok");
    TAP_CHECK(!accepts("[\"\\ud800\"]"), "lone high surrogate refused");
    TAP_CHECK(!accepts("[\"\\udc00\"]"), "lone low surrogate refused");
    TAP_CHECK(!accepts("[\"\\ud800\\u0041\"]"), "high surrogate + non-low refused");
    TAP_CHECK(accepts("[\"\\ud83d\\ude00\"]"), "escaped surrogate pair accepted");
    TAP_CHECK(!accepts("[\"\\u0000\"]"), "\\u0000 refused");
    TAP_CHECK(accepts("[\"\\\\u0000\"]"), "escaped backslash then u0000 accepted");
    TAP_CHECK(!accepts_n(nul_in_string, sizeof(nul_in_string) - 1, 64), "raw NUL in string");
    TAP_CHECK(!accepts_n(nul_after, sizeof(nul_after) - 1, 64), "raw NUL after value refused");
    TAP_CHECK(!accepts("[\"\xC0\xAF\"]"), "overlong UTF-8 C0 AF refused");
    TAP_CHECK(!accepts("[\"\xE0\x80\xAF\"]"), "overlong 3-byte UTF-8 refused");
    TAP_CHECK(!accepts("[\"\xED\xA0\x80\"]"), "UTF-8 encoded surrogate refused");
    TAP_CHECK(!accepts("[\"\xF4\x90\x80\x80\"]"), "UTF-8 above U+10FFFF refused");
    TAP_CHECK(!accepts("[\"\xF0\x9F\x98\"]"), "truncated UTF-8 refused");
    TAP_CHECK(accepts("[\"\xF0\x9F\x98\x80\"]"), "4-byte UTF-8 emoji accepted");
    TAP_CHECK(accepts("\"\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF\""), "2- and 3-byte UTF-8 accepted");
    TAP_CHECK(!accepts("[\"\t\"]"), "raw tab in string refused");
    TAP_CHECK(!accepts("[\"\\x\"]"), "invalid escape refused");
}

static void check_values(void)
{
    char err[128] = "";
    json_object *o = NULL;

    TAP_CHECK(!accepts("[1] x"), "trailing garbage refused");
    TAP_CHECK(!accepts("[1][2]"), "two values refused");
    TAP_CHECK(!accepts(""), "empty input refused");
    TAP_CHECK(!accepts(" \n\t\r "), "whitespace only refused");
    hub_json_validate("", 0, 64, err, sizeof(err));
    TAP_CHECK(strcmp(err, "invalid JSON: empty body") == 0, "empty body message");
    TAP_CHECK(!accepts("\f[1]"), "form feed is not whitespace");
    TAP_CHECK(accepts(" \r\n\t[ 1 , 2 ]\r\n "), "the four RFC whitespace bytes accepted");
    TAP_CHECK(!accepts("[01]") && !accepts("[+1]") && !accepts("[.5]") && !accepts("[1.]"),
              "leading zero, +, .5 and 1. refused");
    TAP_CHECK(!accepts("[1e]") && !accepts("[1e+]") && !accepts("[-]") && !accepts("[NaN]"),
              "bad exponents, lone minus and NaN refused");
    TAP_CHECK(accepts("[-0, 0.5, 1e5, 1E-5, -1.5e+10, 10]"), "RFC numbers accepted");
    TAP_CHECK(!accepts("[1,]") && !accepts("{\"a\":1,}") && !accepts("{a:1}"),
              "trailing commas and bare keys refused");
    TAP_CHECK(!accepts("[1]/**/") && !accepts("[tru]") && !accepts("[True]"),
              "comments and bad literals refused");
    TAP_CHECK(hub_json_parse("42", 2, 64, &o, err, sizeof(err)) && o != NULL &&
                  json_object_get_int(o) == 42,
              "top-level number without terminator parsed");
    json_object_put(o);
    o = NULL;
    TAP_CHECK(hub_json_parse("[1]", 2, 64, &o, err, sizeof(err)) == false && o == NULL,
              "only len bytes are read");
    json_object *marker = json_object_new_int(1); /* owned: put below */
    o = marker;                                   /* must be overwritten with NULL */
    TAP_CHECK(hub_json_parse(" null ", 6, 64, &o, err, sizeof(err)) && o == NULL,
              "literal null: success with NULL");
    json_object_put(marker);
    TAP_CHECK(hub_json_parse("{\"a\":1,\"a\":2}", 13, 64, &o, err, sizeof(err)) == false &&
                  strcmp(err, "invalid JSON: duplicate key") == 0 && o == NULL,
              "duplicate key message, no tree");
    TAP_CHECK(!hub_json_parse("[1] x", 5, 64, &o, err, sizeof(err)) &&
                  strcmp(err, "invalid JSON at byte 4: unexpected data after the value") == 0,
              "error message carries the byte offset");
    TAP_CHECK(!hub_json_parse(NULL, 0, 64, &o, NULL, 0), "NULL input and NULL err buffer");
}

/* A ~1 MB array of numbers must parse, and quickly. */
static void check_large(void)
{
    size_t cap = 1024 * 1024 + 64;
    char *s = malloc(cap);
    size_t n = 0;
    json_object *o = NULL;
    char err[128] = "";
    int count = 0;

    if (s == NULL) {
        TAP_CHECK(false, "1 MB array allocated");
        return;
    }
    s[n++] = '[';
    while (n < 1024 * 1024) {
        int w = snprintf(s + n, cap - n, "%s%d", count ? "," : "", count * 7919 % 100000);
        n += (size_t)w;
        count++;
    }
    s[n++] = ']';
    clock_t t0 = clock();
    bool ok = hub_json_parse(s, n, 64, &o, err, sizeof(err));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("# 1 MB array: %d numbers, %zu bytes, %.3f s\n", count, n, secs);
    TAP_CHECK(ok && json_object_array_length(o) == (size_t)count, "1 MB array of numbers parsed");
    TAP_CHECK(secs < 2.0, "1 MB array parsed quickly");
    json_object_put(o);
    free(s);
}

int main(int argc, char **argv)
{
    check_corpus(argc > 1 ? argv[1] : NULL);
    check_depth();
    check_strings();
    check_values();
    check_large();
    return tap_done();
}
