/*
 * hub_log.c — see hub_log.h.
 */
#include "hub_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static hub_log_level min_level = HUB_LOG_INFO;
static char prog[32] = "hub";
static _Thread_local char req_id[40];

static const char *const NAMES[] = {"debug", "info", "warn", "error"};

void hub_log_init(const char *program, const char *level_name)
{
    snprintf(prog, sizeof(prog), "%s", program ? program : "hub");
    for (int i = 0; i < 4; i++) {
        if (level_name != NULL && strcmp(level_name, NAMES[i]) == 0)
            min_level = (hub_log_level)i;
    }
}

void hub_log_set_request(const char *request_id)
{
    snprintf(req_id, sizeof(req_id), "%s", request_id ? request_id : "");
}

void hub_log(hub_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n =
        snprintf(line, sizeof(line),
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s%s%s: ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                 prog, (int)getpid(), NAMES[level], req_id[0] ? " req=" : "", req_id);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* one line per record: flatten embedded newlines */
    for (size_t i = (size_t)n; i < len; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

int hub_log_every(long long *last_ms, long interval_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    long long prev = __atomic_load_n(last_ms, __ATOMIC_RELAXED);
    if (prev != 0 && now - prev < interval_ms)
        return 0;
    return __atomic_compare_exchange_n(last_ms, &prev, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
