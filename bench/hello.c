/*
 * hello.c — the baseline FastCGI responder for bench/run.sh: the smallest useful libfcgi
 * program. It accepts on a unix socket with N threads (the same accept-under-a-mutex
 * pattern as hub-gateway), reads the request body like the gateway does, and answers
 * every request with 200 and a fixed OpenAI chat.completion JSON body.
 *
 *   hello SOCKET [THREADS]
 *
 * The body comes from $BENCH_BODY when set (bench/run.sh passes the same body nginx
 * serves), otherwise from the built-in default below. SIGTERM/SIGINT end it.
 *
 * Build: gcc -O2 -o hello bench/hello.c -lfcgi -pthread
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char DEFAULT_BODY[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,"
    "\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"hello\"},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";

static const char *body;
static size_t body_len;
static int listen_fd = -1;
static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    FCGX_Request req;
    char buf[16384], head[256];
    if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&accept_mu);
        int rc = FCGX_Accept_r(&req);
        pthread_mutex_unlock(&accept_mu);
        if (rc < 0)
            break;
        /* drain the request body (the gateway reads it too) */
        while (FCGX_GetStr(buf, (int)sizeof(buf), req.in) > 0)
            ;
        /* not FCGX_FPrintF: libfcgi's own printf does not know the z modifier (%zu) */
        int hl = snprintf(head, sizeof(head),
                          "Status: 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          body_len);
        FCGX_PutStr(head, hl, req.out);
        FCGX_PutStr(body, (int)body_len, req.out);
        FCGX_Finish_r(&req);
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: hello SOCKET [THREADS]\n");
        return 2;
    }
    int nthreads = argc == 3 ? (int)strtol(argv[2], NULL, 10) : 4;
    if (nthreads < 1 || nthreads > 1024) {
        fprintf(stderr, "hello: THREADS must be 1..1024\n");
        return 2;
    }
    body = getenv("BENCH_BODY");
    if (body == NULL || *body == '\0')
        body = DEFAULT_BODY;
    body_len = strlen(body);

    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_Init() != 0) {
        fprintf(stderr, "hello: FCGX_Init failed\n");
        return 1;
    }
    unlink(argv[1]);
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0) {
        fprintf(stderr, "hello: cannot listen on %s\n", argv[1]);
        return 1;
    }
    pthread_t *tids = calloc((size_t)nthreads, sizeof(*tids));
    if (tids == NULL)
        return 1;
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "hello: pthread_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(tids[i], NULL);
    return 0;
}
