/*
 * hub_spool.c — append-only usage spool, rotation and idempotent drain (see hub_spool.h).
 */
#include "hub_spool.h"

#include "hub_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_BIG   64
#define BATCH_SMALL 8
#define NCOLS       21

struct hub_spool {
    char dir[512];
    pthread_mutex_t mu; /* guards fd, dirty, bytes, seq */
    int fd;             /* active file, owned */
    bool dirty;
    long bytes;
    long pending_rows;
    unsigned seq;
};

/* The upsert statements for batches of 1, BATCH_SMALL and BATCH_BIG rows, built once. */
static char *upsert_sql[3];
static pthread_once_t upsert_once = PTHREAD_ONCE_INIT;

static const char UPSERT_HEAD[] =
    "INSERT INTO usage_log (request_id, attempt, ts, key_id, user_id, team_id, app, provider, "
    "model, endpoint, stream, status, prompt_tokens, completion_tokens, total_tokens, images, "
    "cost_micro, latency_ms, ttfb_ms, outcome, credential_id) VALUES ";
/* A later 'pending' line never overwrites a final one (files may drain out of order). */
static const char UPSERT_TAIL[] =
    " ON DUPLICATE KEY UPDATE "
    "status = IF(VALUES(outcome) = 'pending', status, VALUES(status)), "
    "prompt_tokens = IF(VALUES(outcome) = 'pending', prompt_tokens, VALUES(prompt_tokens)), "
    "completion_tokens = IF(VALUES(outcome) = 'pending', completion_tokens, "
    "VALUES(completion_tokens)), "
    "total_tokens = IF(VALUES(outcome) = 'pending', total_tokens, VALUES(total_tokens)), "
    "images = IF(VALUES(outcome) = 'pending', images, VALUES(images)), "
    "cost_micro = IF(VALUES(outcome) = 'pending', cost_micro, VALUES(cost_micro)), "
    "latency_ms = IF(VALUES(outcome) = 'pending', latency_ms, VALUES(latency_ms)), "
    "ttfb_ms = IF(VALUES(outcome) = 'pending', ttfb_ms, VALUES(ttfb_ms)), "
    "outcome = IF(VALUES(outcome) = 'pending', outcome, VALUES(outcome))";

static char *build_upsert(int rows)
{
    static const char ROW[] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    hub_buf b;
    hub_buf_init(&b, 0);
    hub_buf_puts(&b, UPSERT_HEAD);
    for (int i = 0; i < rows; i++) {
        if (i > 0)
            hub_buf_puts(&b, ",");
        hub_buf_puts(&b, ROW);
    }
    if (!hub_buf_puts(&b, UPSERT_TAIL)) {
        hub_buf_free(&b);
        return NULL;
    }
    return b.data; /* ownership: kept for the process lifetime */
}

static void init_upsert(void)
{
    upsert_sql[0] = build_upsert(1);
    upsert_sql[1] = build_upsert(BATCH_SMALL);
    upsert_sql[2] = build_upsert(BATCH_BIG);
}

static int open_active(hub_spool *s)
{
    char path[640];
    snprintf(path, sizeof(path), "%s/active-%d.jsonl", s->dir, (int)getpid());
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

/* Renames active files of dead processes to ready files. */
static void adopt_orphans(hub_spool *s)
{
    DIR *d = opendir(s->dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int pid = 0;
        char tail[16];
        if (sscanf(e->d_name, "active-%d.%15s", &pid, tail) != 2 || strcmp(tail, "jsonl") != 0)
            continue;
        if (pid == (int)getpid() || pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        char from[1024], to[1024];
        snprintf(from, sizeof(from), "%s/%s", s->dir, e->d_name);
        snprintf(to, sizeof(to), "%s/ready-%d-%013lld-orphan.jsonl", s->dir, pid, hub_now_ms());
        if (rename(from, to) == 0)
            HUB_INFO("spool: adopted %s left by a process that ended", e->d_name);
    }
    closedir(d);
}

hub_spool *hub_spool_open(const char *dir, char *err, size_t errsz)
{
    hub_spool *s = NULL;
    pthread_once(&upsert_once, init_upsert);
    if (upsert_sql[0] == NULL || upsert_sql[1] == NULL || upsert_sql[2] == NULL) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "spool: cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if (strlen(dir) >= sizeof(s->dir)) {
        snprintf(err, errsz, "spool: directory name too long");
        goto fail;
    }
    memcpy(s->dir, dir, strlen(dir) + 1);
    s->fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = open_active(s);
    if (s->fd < 0) {
        snprintf(err, errsz, "spool: cannot open active file in %s: %s", dir, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(s->fd, &st) == 0)
        s->bytes = (long)st.st_size;
    /* a previous process with our pid may have died mid-line: end that line first */
    if (s->bytes > 0) {
        char last = '\n';
        if (pread(s->fd, &last, 1, (off_t)s->bytes - 1) == 1 && last != '\n' &&
            write(s->fd, "\n", 1) == 1)
            s->bytes++;
    }
    return s;
fail:
    if (s != NULL) {
        if (s->fd > 0)
            close(s->fd);
        free(s); /* the mutex holds no resources (initialised or still zero) */
    }
    return NULL;
}

void hub_spool_close(hub_spool *s)
{
    if (s == NULL)
        return;
    hub_spool_sync(s);
    if (s->fd >= 0)
        close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

bool hub_spool_append(hub_spool *s, const hub_usage *u)
{
    hub_buf b;
    hub_buf_init(&b, 0);
    bool rc = false;
    if (!hub_usage_to_json(u, &b))
        goto end;
    pthread_mutex_lock(&s->mu);
    ssize_t w = write(s->fd, b.data, b.len);
    if (w == (ssize_t)b.len) {
        s->dirty = true;
        s->bytes += (long)w;
        s->pending_rows++;
        rc = true;
    } else if (w > 0) {
        /* a short write (disk full): end the torn line so the next record stays readable */
        if (write(s->fd, "\n", 1) == 1)
            s->bytes += (long)w + 1;
    }
    pthread_mutex_unlock(&s->mu);
    if (!rc)
        HUB_ERROR("spool: write failed: %s", w < 0 ? strerror(errno) : "short write");
end:
    hub_buf_free(&b);
    return rc;
}

void hub_spool_sync(hub_spool *s)
{
    pthread_mutex_lock(&s->mu);
    bool dirty = s->dirty;
    int fd = s->fd;
    s->dirty = false;
    pthread_mutex_unlock(&s->mu);
    /* outside the lock, so appends never wait for the disk; only rotate() (same thread as
     * every sync: the drain thread, or close) replaces and closes fd */
    if (dirty)
        fdatasync(fd);
}

long hub_spool_backlog(hub_spool *s)
{
    pthread_mutex_lock(&s->mu);
    long n = s->pending_rows;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Called by the drain thread only. The old file is synced and closed outside the lock. */
static void rotate(hub_spool *s)
{
    int old = -1;
    pthread_mutex_lock(&s->mu);
    if (s->bytes > 0) {
        char from[640], to[640];
        snprintf(from, sizeof(from), "%s/active-%d.jsonl", s->dir, (int)getpid());
        snprintf(to, sizeof(to), "%s/ready-%d-%013lld-%06u.jsonl", s->dir, (int)getpid(),
                 hub_now_ms(), s->seq++ % 1000000u);
        int nfd = -1;
        if (rename(from, to) == 0) {
            nfd = open_active(s);
            if (nfd >= 0) {
                old = s->fd;
                s->fd = nfd;
                s->bytes = 0;
                s->dirty = false;
            } else {
                /* keep appending to the renamed file: it is drained like any ready file */
                HUB_ERROR("spool: cannot reopen active file: %s", strerror(errno));
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (old >= 0) {
        fdatasync(old);
        close(old);
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of ready-*.jsonl names (caller frees each and the array). */
static int list_ready(const char *dir, char ***out)
{
    int n = 0, cap = 0;
    char **v = NULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "ready-", 6) != 0 || len < 7 ||
            strcmp(e->d_name + len - 6, ".jsonl") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, (size_t)cap * sizeof(*nv));
            if (nv == NULL)
                break;
            v = nv;
        }
        v[n] = strdup(e->d_name);
        if (v[n] != NULL)
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, (size_t)n, sizeof(*v), cmp_names);
    *out = v;
    return n;
}

static void bind_row(hub_dbp *p, const hub_usage *u, char ts[48])
{
    hub_usage_ts_sql(u->ts_ms, ts);
#define OPT(x)   ((x) < 0 ? DB_NULL : DB_INT(x))
#define OPTID(x) ((x) <= 0 ? DB_NULL : DB_INT(x))
    p[0] = DB_STR(u->request_id);
    p[1] = DB_INT(u->attempt);
    p[2] = DB_STR(ts);
    p[3] = OPTID(u->key_id);
    p[4] = OPTID(u->user_id);
    p[5] = OPTID(u->team_id);
    p[6] = u->app[0] ? DB_STR(u->app) : DB_NULL;
    p[7] = DB_STR(u->provider);
    p[8] = DB_STR(u->model);
    p[9] = DB_STR(u->endpoint);
    p[10] = DB_INT(u->stream > 0 ? 1 : 0);
    p[11] = OPT(u->status);
    p[12] = OPT(u->prompt_tokens);
    p[13] = OPT(u->completion_tokens);
    p[14] = OPT(u->total_tokens);
    p[15] = OPT(u->images);
    p[16] = OPT(u->cost_micro);
    p[17] = OPT(u->latency_ms);
    p[18] = OPT(u->ttfb_ms);
    p[19] = DB_STR(u->outcome);
    p[20] = OPTID(u->credential_id);
#undef OPT
#undef OPTID
}

/* Upserts n records in statements of BATCH_BIG, BATCH_SMALL and 1 rows. */
static bool upsert(hub_db *db, const hub_usage *u, int n)
{
    static _Thread_local hub_dbp params[BATCH_BIG * NCOLS];
    static _Thread_local char ts[BATCH_BIG][48];
    int i = 0;
    while (i < n) {
        int k = n - i >= BATCH_BIG ? BATCH_BIG : n - i >= BATCH_SMALL ? BATCH_SMALL : 1;
        const char *sql = upsert_sql[k == BATCH_BIG ? 2 : k == BATCH_SMALL ? 1 : 0];
        for (int j = 0; j < k; j++)
            bind_row(&params[j * NCOLS], &u[i + j], ts[j]);
        if (!hub_db_exec(db, sql, params, k * NCOLS, NULL, NULL, NULL))
            return false;
        i += k;
    }
    return true;
}

static size_t key_hash(const hub_usage *u)
{
    size_t h = 1469598103934665603ULL;
    for (const char *p = u->request_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ^ (size_t)u->attempt;
}

/*
 * Drops each "pending" record whose final record is in the same file (the usual case), so
 * the database writes each attempt once instead of inserting and then updating it. Returns
 * the new count; order is kept. A pending record without its final stays (a crash or a
 * request still in flight): the upsert never lets it overwrite a final row.
 */
static int coalesce(hub_usage *recs, int n)
{
    size_t cap = 64;
    while (cap < (size_t)n * 2)
        cap *= 2;
    int *tab = malloc(cap * sizeof(*tab));
    if (tab == NULL)
        return n; /* correct without it, only slower */
    for (size_t i = 0; i < cap; i++)
        tab[i] = -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(recs[i].outcome, "pending") == 0)
            continue;
        size_t h = key_hash(&recs[i]) & (cap - 1);
        while (tab[h] >= 0)
            h = (h + 1) & (cap - 1);
        tab[h] = i;
    }
    int out = 0;
    for (int i = 0; i < n; i++) {
        bool drop = false;
        if (strcmp(recs[i].outcome, "pending") == 0) {
            for (size_t h = key_hash(&recs[i]) & (cap - 1); tab[h] >= 0; h = (h + 1) & (cap - 1)) {
                const hub_usage *f = &recs[tab[h]];
                if (f->attempt == recs[i].attempt &&
                    strcmp(f->request_id, recs[i].request_id) == 0) {
                    drop = true;
                    break;
                }
            }
        }
        if (!drop)
            recs[out++] = recs[i];
    }
    free(tab);
    return out;
}

/* Reads one ready file and upserts it in one transaction. */
static bool drain_file(hub_spool *s, hub_db *db, const char *name, long *rows)
{
    bool rc = false;
    char path[1024];
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    hub_usage *recs = NULL;
    int n = 0, ncap = 0;
    bool in_tx = false;

    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    f = fopen(path, "r");
    if (f == NULL) {
        rc = errno == ENOENT; /* another process drained it */
        goto end;
    }
    if (flock(fileno(f), LOCK_EX | LOCK_NB) != 0) {
        rc = true; /* another drain owns it */
        goto end;
    }
    ssize_t len;
    long lineno = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 256;
            hub_usage *nr = realloc(recs, (size_t)ncap * sizeof(*nr));
            if (nr == NULL)
                goto end;
            recs = nr;
        }
        if (!hub_usage_from_json(line, (size_t)len, &recs[n])) {
            /* a torn last line from a crash mid-write; everything else is ours */
            HUB_WARN("spool: %s line %ld is not a usage record; skipped", name, lineno);
            continue;
        }
        n++;
    }
    int lines = n; /* records read: what the backlog counts */
    n = coalesce(recs, n);
    if (!hub_db_query(db, "START TRANSACTION"))
        goto end;
    in_tx = true;
    if (!upsert(db, recs, n))
        goto end;
    if (!hub_db_query(db, "COMMIT"))
        goto end;
    in_tx = false;
    if (unlink(path) != 0 && errno != ENOENT)
        HUB_ERROR("spool: cannot remove drained %s: %s", name, strerror(errno));
    *rows += lines;
    rc = true;
end:
    if (in_tx)
        hub_db_query(db, "ROLLBACK");
    if (f != NULL)
        fclose(f);
    free(line);
    free(recs);
    return rc;
}

bool hub_spool_drain(hub_spool *s, hub_db *db, long *rows)
{
    bool rc = true;
    char **names = NULL;
    *rows = 0;
    adopt_orphans(s);
    rotate(s);
    int n = list_ready(s->dir, &names);
    for (int i = 0; i < n; i++) {
        if (rc && !drain_file(s, db, names[i], rows)) {
            HUB_WARN("spool: drain paused (%s); %s kept for retry", hub_db_error(db), names[i]);
            rc = false;
        }
        free(names[i]);
    }
    free(names);
    pthread_mutex_lock(&s->mu);
    s->pending_rows -= *rows;
    if (s->pending_rows < 0)
        s->pending_rows = 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}
