/*
 * main.c — hub-gateway: reads the config, initialises libcurl, MariaDB, OpenSSL and
 * libfcgi once, opens the FastCGI socket (or uses fd 0 when a web server spawned us),
 * then runs N worker threads and one spool-drain thread. SIGTERM/SIGINT stop accepting,
 * let in-flight requests finish, drain the spool once more and exit.
 */
#include "gw.h"
#include "gw_jwt.h"

#include "hub_log.h"
#include "hub_prompt.h"
#include "hub_rollup.h"
#include "hub_uuid.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static gw_ctx g_ctx;
static pthread_mutex_t drain_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drain_cv = PTHREAD_COND_INITIALIZER;
static volatile int drain_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_ctx.stopping = 1;
    /* wake the threads blocked in accept(2) */
    if (g_ctx.listen_fd >= 0)
        shutdown(g_ctx.listen_fd, SHUT_RDWR);
}

static void path_of(gw_call *c)
{
    const char *uri = gw_param(c, "REQUEST_URI");
    if (uri == NULL)
        uri = gw_param(c, "SCRIPT_NAME");
    if (uri == NULL)
        uri = "/";
    size_t n = strcspn(uri, "?");
    if (n >= sizeof(c->path))
        n = sizeof(c->path) - 1;
    memcpy(c->path, uri, n);
    c->path[n] = '\0';
    /* tolerate one trailing slash */
    if (n > 1 && c->path[n - 1] == '/')
        c->path[n - 1] = '\0';
}

static void *worker_main(void *arg)
{
    gw_worker *w = arg;
    for (;;) {
        /* every idle thread blocks in accept(2) on the shared socket: Linux wakes exactly one
         * of them per connection, and libfcgi keeps all accept state in the request, so no
         * lock is needed (one cost a futex hand-off per request and serialised the reading
         * of every request's parameters). A connection the web server keeps open
         * (FCGI_KEEP_CONN, e.g. mod_proxy_fcgi enablereuse) is read on by its own thread. */
        int rc = g_ctx.stopping ? -1 : FCGX_Accept_r(&w->req);
        if (rc < 0)
            break;
        gw_call c;
        memset(&c, 0, sizeof(c));
        c.w = w;
        c.t0_ms = hub_now_ms();
        if (!hub_uuid_v4(c.request_id))
            snprintf(c.request_id, sizeof(c.request_id), "00000000-0000-4000-8000-000000000000");
        hub_log_set_request(c.request_id);
        c.method = gw_param(&c, "REQUEST_METHOD");
        if (c.method == NULL)
            c.method = "GET";
        path_of(&c);
        gw_handle(&c);
        gw_end(&c);
        if (c.prompt_max > 0) /* after the answer: the client waits for none of it */
            gw_prompt_store(&c);
        hub_log_set_request(NULL);
        if (w->body.size > 1024 * 1024)
            hub_buf_free(&w->body);
    }
    return NULL;
}

static void *drain_main(void *arg)
{
    hub_db *db = arg;
    hub_rollup_ticker rollup = {0};
    hub_prompt_ticker prompts = {0};
    int backoff_ms = g_ctx.cfg.spool_flush_ms;
    bool last = false;
    while (!last) {
        pthread_mutex_lock(&drain_mu);
        if (!drain_stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long ns = ts.tv_nsec + (long long)backoff_ms * 1000000LL;
            ts.tv_sec += (time_t)(ns / 1000000000LL);
            ts.tv_nsec = (long)(ns % 1000000000LL);
            pthread_cond_timedwait(&drain_cv, &drain_mu, &ts);
        }
        last = drain_stop != 0;
        pthread_mutex_unlock(&drain_mu);
        hub_spool_sync(g_ctx.spool);
        long rows = 0;
        if (hub_spool_drain(g_ctx.spool, db, &rows)) {
            backoff_ms = g_ctx.cfg.spool_flush_ms;
            hub_rollup_tick(&rollup, db, &g_ctx.cfg);  /* analytics rollups, retention */
            hub_prompt_tick(&prompts, db, &g_ctx.cfg); /* stored prompts' retention */
        } else {
            backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
        }
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: hub-gateway [--config PATH] [--threads N] [--listen SOCKET]\n"
                    "  --config PATH    hub.conf (default: $HUB_CONF, then the installed one)\n"
                    "  --threads N      worker threads (default from config: 32)\n"
                    "  --listen SOCKET  unix socket path or host:port; '-' = fd 0 (mod_fcgid)\n");
}

int main(int argc, char **argv)
{
    int rc = 1;
    const char *cfg_path = NULL, *listen_arg = NULL;
    long threads = 0;
    char err[512];
    gw_worker *workers = NULL;
    pthread_t *tids = NULL;
    pthread_t drain_tid;
    bool drain_started = false;
    hub_db *drain_db = NULL;
    gw_mailer *mailer = NULL;
    int nstarted = 0;

    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "c:t:l:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            cfg_path = optarg;
            break;
        case 't':
            if (!hub_parse_long(optarg, 1, 1024, &threads)) {
                fprintf(stderr, "hub-gateway: --threads must be 1..1024\n");
                return 2;
            }
            break;
        case 'l':
            listen_arg = optarg;
            break;
        case 'h':
            usage();
            return 0;
        default:
            usage();
            return 2;
        }
    }
    hub_config_defaults(&g_ctx.cfg);
    cfg_path = hub_config_path(cfg_path);
    if (!hub_config_load(&g_ctx.cfg, cfg_path, err, sizeof(err))) {
        fprintf(stderr, "hub-gateway: %s\n", err);
        return 2;
    }
    if (threads > 0)
        g_ctx.cfg.threads = (int)threads;
    if (listen_arg != NULL)
        snprintf(g_ctx.cfg.listen, sizeof(g_ctx.cfg.listen), "%s",
                 strcmp(listen_arg, "-") == 0 ? "" : listen_arg);
    hub_log_init("hub-gateway", g_ctx.cfg.log_level);
    g_ctx.listen_fd = -1;
    g_ctx.started_ms = hub_now_ms();

    if (!hub_keyring_load(&g_ctx.kr, g_ctx.cfg.master_key_file, true, err, sizeof(err))) {
        HUB_ERROR("%s", err);
        goto end;
    }
    gw_keyring_loaded(&g_ctx);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || mysql_library_init(0, NULL, NULL) != 0) {
        HUB_ERROR("cannot initialise libcurl or the MariaDB client library");
        goto end;
    }
    g_ctx.spool = hub_spool_open(g_ctx.cfg.spool_dir, err, sizeof(err));
    g_ctx.keys = gw_keycache_new();
    g_ctx.creds = gw_credstate_new();
    if (g_ctx.spool == NULL || g_ctx.keys == NULL || g_ctx.creds == NULL) {
        HUB_ERROR("%s", g_ctx.spool == NULL ? err : "out of memory");
        goto end;
    }
    if (g_ctx.cfg.jwt_jwks_uri[0] != '\0') {
        g_ctx.jwt = gw_jwt_new(&g_ctx.cfg, err, sizeof(err));
        if (g_ctx.jwt == NULL) {
            HUB_ERROR("%s", err);
            goto end;
        }
    }
    pthread_mutex_init(&g_ctx.cat_mu, NULL);
    pthread_mutex_init(&g_ctx.refresh_mu, NULL);

    if (FCGX_Init() != 0) {
        HUB_ERROR("FCGX_Init failed");
        goto end;
    }
    if (g_ctx.cfg.listen[0] != '\0') {
        if (g_ctx.cfg.listen[0] == '/')
            unlink(g_ctx.cfg.listen);
        g_ctx.listen_fd = FCGX_OpenSocket(g_ctx.cfg.listen, 1024);
        if (g_ctx.listen_fd < 0) {
            HUB_ERROR("cannot listen on %s: %s", g_ctx.cfg.listen, strerror(errno));
            goto end;
        }
        if (g_ctx.cfg.listen[0] == '/')
            chmod(g_ctx.cfg.listen, 0660);
    } else {
        g_ctx.listen_fd = 0;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    int n = g_ctx.cfg.threads;
    workers = calloc((size_t)n, sizeof(*workers));
    tids = calloc((size_t)n, sizeof(*tids));
    drain_db = hub_db_new(&g_ctx.cfg);
    if (workers == NULL || tids == NULL || drain_db == NULL) {
        HUB_ERROR("out of memory");
        goto end;
    }
    for (int i = 0; i < n; i++) {
        gw_worker *w = &workers[i];
        w->ctx = &g_ctx;
        w->idx = i;
        w->curl = curl_easy_init();
        w->db = hub_db_new(&g_ctx.cfg);
        hub_buf_init(&w->body, 0);
        hub_buf_init(&w->upstream, 0);
        if (w->curl == NULL || w->db == NULL ||
            FCGX_InitRequest(&w->req, g_ctx.listen_fd, 0) != 0) {
            HUB_ERROR("cannot set up worker %d", i);
            goto end;
        }
    }
    /* a first routing snapshot before traffic, when the database is up */
    hub_catalog_release(gw_catalog_get(&workers[0], false));

    if (pthread_create(&drain_tid, NULL, drain_main, drain_db) != 0)
        goto end;
    drain_started = true;
    mailer = gw_mailer_start(&g_ctx.cfg);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&tids[i], NULL, worker_main, &workers[i]) != 0) {
            HUB_ERROR("cannot start thread %d", i);
            on_signal(SIGTERM);
            break;
        }
        nstarted++;
    }
    HUB_INFO("listening on %s with %d threads", g_ctx.cfg.listen[0] ? g_ctx.cfg.listen : "fd 0",
             nstarted);
    rc = 0;
end:
    for (int i = 0; i < nstarted; i++)
        pthread_join(tids[i], NULL);
    if (drain_started) {
        pthread_mutex_lock(&drain_mu);
        drain_stop = 1;
        pthread_cond_signal(&drain_cv);
        pthread_mutex_unlock(&drain_mu);
        pthread_join(drain_tid, NULL);
    }
    gw_mailer_stop(mailer);
    if (workers != NULL) {
        for (int i = 0; i < g_ctx.cfg.threads; i++) {
            if (workers[i].curl != NULL)
                curl_easy_cleanup(workers[i].curl);
            hub_db_free(workers[i].db);
            hub_buf_free(&workers[i].body);
            hub_buf_free(&workers[i].upstream);
        }
    }
    free(workers);
    free(tids);
    hub_db_free(drain_db);
    if (g_ctx.cat != NULL)
        hub_catalog_release(g_ctx.cat);
    hub_spool_close(g_ctx.spool);
    gw_keycache_free(g_ctx.keys);
    gw_credstate_free(g_ctx.creds);
    gw_jwt_free(g_ctx.jwt);
    hub_keyring_wipe(&g_ctx.kr);
    if (g_ctx.cfg.listen[0] == '/')
        unlink(g_ctx.cfg.listen);
    mysql_library_end();
    curl_global_cleanup();
    if (rc == 0)
        HUB_INFO("stopped");
    return rc;
}
