/*
 * test_config_spool.c — unit tests of hub_config (hub.conf and hub_parse_long) and the
 * database-free half of hub_spool (open, append and the file it writes, also under
 * concurrent appends from several threads). hub_spool_drain needs MariaDB and is covered
 * by the integration tests instead.
 *
 * Usage: test_config_spool (no arguments). Temporary files go under $TMPDIR (default /tmp)
 * and are removed at the end. Output is TAP-style, one line per check (see tap.h).
 */
#include "hub_buf.h"
#include "hub_config.h"
#include "hub_error.h"
#include "hub_price.h"
#include "hub_spool.h"
#include "hub_usage.h"
#include "hub_uuid.h"
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

/* ---- hub_config --------------------------------------------------------------------- */

/* Writes text to a new temp file; its path goes to path (removed by the caller). */
static bool write_conf(const char *text, char *path, size_t pathsz)
{
    snprintf(path, pathsz, "%s/hub-test-conf-XXXXXX", tmpdir());
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    close(fd);
    return ok;
}

/* Loads text as a config file over the defaults; err gets the message. */
static bool load_text(const char *text, hub_config *c, char *err, size_t errsz, char *path,
                      size_t pathsz)
{
    hub_config_defaults(c);
    err[0] = '\0';
    if (!write_conf(text, path, pathsz))
        return false;
    bool ok = hub_config_load(c, path, err, errsz);
    unlink(path);
    return ok;
}

/* True when err starts with "path:line:". */
static bool err_at(const char *err, const char *path, int line)
{
    char want[600];
    snprintf(want, sizeof(want), "%s:%d:", path, line);
    return strncmp(err, want, strlen(want)) == 0;
}

static void test_config(void)
{
    hub_config c;
    char err[1024], path[512];

    bool ok = load_text("# only comments\n\n   \n\t# indented comment\n", &c, err, sizeof(err),
                        path, sizeof(path));
    TAP_CHECK(ok && c.db_port == 3306 && c.threads == 32 && strcmp(c.db_host, "localhost") == 0 &&
                  strcmp(c.log_level, "info") == 0 && c.max_body_bytes == 8L * 1024 * 1024 &&
                  c.key_cache_ms == 500 && c.listen[0] == '\0',
              "config: comments and blank lines, defaults kept");

    ok = load_text("db_host = db.example.org\n"
                   "  threads=8  \n"
                   "# a comment\n"
                   "\n"
                   "max_body_bytes = 2048\n"
                   "listen = 127.0.0.1:9000\n"
                   "db_password = a=b#c\n"
                   "key_cache_ms = 0\n"
                   "db_port = 65535", /* no final newline */
                   &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(ok, "config: file with values loads");
    TAP_CHECK(strcmp(c.db_host, "db.example.org") == 0 && c.threads == 8 &&
                  c.max_body_bytes == 2048 && strcmp(c.listen, "127.0.0.1:9000") == 0 &&
                  c.key_cache_ms == 0 && c.db_port == 65535,
              "config: values set, spaces trimmed, max boundary accepted");
    TAP_CHECK(strcmp(c.db_password, "a=b#c") == 0, "config: value split at the first '='");
    TAP_CHECK(strcmp(c.db_user, "hub") == 0 && c.json_max_depth == 64,
              "config: unset keys keep defaults");

    ok = load_text("threads = 4\n# x\nthreds = 8\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 3) && strstr(err, "threds") != NULL,
              "config: unknown key refused with path:line:");

    ok = load_text("db_port = 65536\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 1), "config: db_port 65536 refused");
    ok = load_text("\nthreads = 0\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 2), "config: threads 0 refused");
    ok = load_text("threads = 8x\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 1), "config: threads 8x refused");
    ok = load_text("threads =\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 1), "config: empty int refused");

    /* log_level holds 15 chars + NUL */
    ok = load_text("log_level = 0123456789abcde\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(ok && strcmp(c.log_level, "0123456789abcde") == 0,
              "config: value of field size - 1 accepted");
    ok = load_text("log_level = 0123456789abcdef\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 1) && strcmp(c.log_level, "info") == 0,
              "config: too-long value refused, field untouched");

    ok = load_text("threads = 4\nthreads 8\n", &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 2), "config: missing '=' refused");

    char longline[1500];
    memset(longline, 'a', sizeof(longline) - 2);
    memcpy(longline, "db_host = ", 10);
    longline[sizeof(longline) - 2] = '\n';
    longline[sizeof(longline) - 1] = '\0';
    ok = load_text(longline, &c, err, sizeof(err), path, sizeof(path));
    TAP_CHECK(!ok && err_at(err, path, 1), "config: line over 1023 bytes refused");

    hub_config_defaults(&c);
    snprintf(path, sizeof(path), "%s/hub-test-no-such-file.conf", tmpdir());
    TAP_CHECK(!hub_config_load(&c, path, err, sizeof(err)) && strstr(err, path) != NULL,
              "config: missing file refused, path in message");

    setenv("HUB_CONF", "/from/env.conf", 1);
    TAP_CHECK(streq(hub_config_path("/x.conf"), "/x.conf"), "config: explicit path wins");
    TAP_CHECK(streq(hub_config_path(NULL), "/from/env.conf"), "config: $HUB_CONF used");
    unsetenv("HUB_CONF");
    const char *def = hub_config_path("");
    TAP_CHECK(def != NULL && strstr(def, "/hub.conf") != NULL, "config: default path");

    long v = 77;
    TAP_CHECK(!hub_parse_long("", 0, 10, &v) && v == 77, "parse_long: \"\" refused");
    TAP_CHECK(!hub_parse_long(NULL, 0, 10, &v) && v == 77, "parse_long: NULL refused");
    TAP_CHECK(!hub_parse_long("12a", 0, 100, &v) && v == 77, "parse_long: \"12a\" refused");
    TAP_CHECK(!hub_parse_long("-5", 0, 100, &v) && v == 77, "parse_long: -5 below min 0");
    TAP_CHECK(hub_parse_long("-5", -10, 100, &v) && v == -5, "parse_long: -5 within [-10,100]");
    TAP_CHECK(hub_parse_long("100", 0, 100, &v) && v == 100, "parse_long: max boundary ok");
    TAP_CHECK(hub_parse_long("0", 0, 100, &v) && v == 0, "parse_long: min boundary ok");
    v = 77;
    TAP_CHECK(!hub_parse_long("101", 0, 100, &v) && v == 77, "parse_long: max + 1 refused");
    TAP_CHECK(!hub_parse_long("99999999999999999999", 0, 100, &v) && v == 77,
              "parse_long: overflow refused");
}

/* ---- hub_spool ---------------------------------------------------------------------- */

/* Reads every line of path; calls fn(line, len, ctx) for each (len without '\n').
 * Returns the number of lines, -1 when the file is unreadable or the last line has no
 * newline. */
static long each_line(const char *path, void (*fn)(const char *, size_t, void *), void *ctx)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long n = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') {
            n = -1;
            break;
        }
        fn(line, (size_t)len - 1, ctx);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

typedef struct {
    hub_usage want[4];
    int nwant;
    int idx;
    bool all_equal;
} three_ctx;

/* Line idx must parse back to want[idx]. */
static void check_three(const char *line, size_t len, void *p)
{
    three_ctx *c = p;
    hub_usage u;
    if (c->idx >= c->nwant || !hub_usage_from_json(line, len, &u) ||
        !usage_equal(&u, &c->want[c->idx]))
        c->all_equal = false;
    c->idx++;
}

enum { THREADS = 4, PER_THREAD = 1000 };

typedef struct {
    hub_spool *s;
    int id;
    int failures;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    hub_usage u;
    usage_full(&u);
    /* a long model name makes each line ~500 bytes, beyond PIPE_BUF-ish small writes */
    memset(u.model, 'a' + a->id, 190);
    u.model[190] = '\0';
    u.attempt = a->id;
    for (int i = 0; i < PER_THREAD; i++) {
        u.ts_ms = i;
        if (!hub_uuid_v4(u.request_id) || !hub_spool_append(a->s, &u))
            a->failures++;
    }
    return NULL;
}

typedef struct {
    long next[THREADS]; /* next expected ts_ms per thread */
    long bad;
} many_ctx;

static void check_many(const char *line, size_t len, void *p)
{
    many_ctx *c = p;
    hub_usage u;
    if (!hub_usage_from_json(line, len, &u) || u.attempt < 0 || u.attempt >= THREADS ||
        u.ts_ms != c->next[u.attempt] || strspn(u.model, "abcd") != 190 ||
        u.model[0] != 'a' + u.attempt || u.model[189] != 'a' + u.attempt) {
        c->bad++;
        return;
    }
    c->next[u.attempt]++;
}

static void test_spool(void)
{
    char dir[512], err[512], active[700];
    snprintf(dir, sizeof(dir), "%s/hub-test-spool-XXXXXX", tmpdir());
    if (mkdtemp(dir) == NULL) {
        TAP_CHECK(false, "spool: mkdtemp");
        return;
    }
    snprintf(active, sizeof(active), "%s/active-%d.jsonl", dir, (int)getpid());

    hub_spool *s = hub_spool_open(dir, err, sizeof(err));
    TAP_CHECK(s != NULL, "spool: open on an existing directory");
    if (s == NULL) {
        printf("# %s\n", err);
        rmdir(dir);
        return;
    }
    struct stat st;
    TAP_CHECK(stat(active, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600 &&
                  st.st_size == 0,
              "spool: active-<pid>.jsonl created empty, mode 0600");

    three_ctx three = {.nwant = 3, .idx = 0, .all_equal = true};
    bool appended = true;
    for (int i = 0; i < 3; i++) {
        usage_full(&three.want[i]);
        appended = appended && hub_uuid_v4(three.want[i].request_id);
        three.want[i].attempt = i;
        three.want[i].cost_micro = i == 1 ? -1 : 100 + i;
        appended = appended && hub_spool_append(s, &three.want[i]);
    }
    TAP_CHECK(appended && hub_spool_backlog(s) == 3, "spool: 3 appends, backlog 3");
    hub_spool_sync(s);
    long n = each_line(active, check_three, &three);
    TAP_CHECK(n == 3 && three.idx == 3 && three.all_equal,
              "spool: 3 lines that parse back to the 3 records in order");
    hub_spool_close(s);

    /* a second open appends to the same file */
    s = hub_spool_open(dir, err, sizeof(err));
    three.want[3] = three.want[0];
    three.want[3].attempt = 3;
    three.nwant = 4;
    three.idx = 0;
    bool again = s != NULL && hub_spool_append(s, &three.want[3]);
    hub_spool_close(s);
    TAP_CHECK(again && each_line(active, check_three, &three) == 4 && three.all_equal &&
                  three.idx == 4,
              "spool: reopening appends after the existing lines");
    unlink(active);

    /* concurrent appends into a directory hub_spool_open creates */
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    snprintf(active, sizeof(active), "%s/active-%d.jsonl", sub, (int)getpid());
    s = hub_spool_open(sub, err, sizeof(err));
    TAP_CHECK(s != NULL && stat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
                  (st.st_mode & 0777) == 0700,
              "spool: missing directory created with mode 0700");
    if (s != NULL) {
        pthread_t th[THREADS];
        worker_arg args[THREADS];
        int started = 0;
        for (int i = 0; i < THREADS; i++) {
            args[i] = (worker_arg){s, i, 0};
            if (pthread_create(&th[i], NULL, worker, &args[i]) == 0)
                started++;
        }
        int failures = 0;
        for (int i = 0; i < started; i++) {
            pthread_join(th[i], NULL);
            failures += args[i].failures;
        }
        TAP_CHECK(started == THREADS && failures == 0 &&
                      hub_spool_backlog(s) == THREADS * PER_THREAD,
                  "spool: 4 threads x 1000 appends succeed");
        hub_spool_close(s);
        many_ctx many = {.bad = 0};
        n = each_line(active, check_many, &many);
        bool complete = true;
        for (int i = 0; i < THREADS; i++)
            complete = complete && many.next[i] == PER_THREAD;
        TAP_CHECK(n == THREADS * PER_THREAD && many.bad == 0 && complete,
                  "spool: exactly 4000 well-formed lines, each thread's in order");
        unlink(active);
    }
    rmdir(sub);

    snprintf(sub, sizeof(sub), "%s/no/such/parent", dir);
    err[0] = '\0';
    s = hub_spool_open(sub, err, sizeof(err));
    TAP_CHECK(s == NULL && err[0] != '\0', "spool: open under a missing parent fails");
    hub_spool_close(s);
    TAP_CHECK(rmdir(dir) == 0, "spool: test directory left clean");
}

int main(void)
{
    test_config();
    test_spool();
    return tap_done();
}
