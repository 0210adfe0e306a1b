/*
 * hub_log.h — the one logger: levels, a timestamp, the program name and the current
 * request id on every line, written to stderr with a single write(2) per line.
 * Never pass a secret to it.
 */
#ifndef HUB_LOG_H
#define HUB_LOG_H

typedef enum { HUB_LOG_DEBUG = 0, HUB_LOG_INFO, HUB_LOG_WARN, HUB_LOG_ERROR } hub_log_level;

void hub_log_init(const char *program, const char *level_name);
/* Sets the request id shown on this thread's lines (NULL clears). The string is copied. */
void hub_log_set_request(const char *request_id);
void hub_log(hub_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rate limit for one log site: true at most once per interval_ms (thread-safe). Keep the
 * state in a static at the call site: static long long last; if (hub_log_every(&last, 1000)) */
int hub_log_every(long long *last_ms, long interval_ms);

/* A warning printed at most once a second from this site (floods of upstream failures). */
#define HUB_WARN_RL(...)                                                                           \
    do {                                                                                           \
        static long long hub_rl_last_;                                                             \
        if (hub_log_every(&hub_rl_last_, 1000))                                                    \
            hub_log(HUB_LOG_WARN, __VA_ARGS__);                                                    \
    } while (0)

#define HUB_DEBUG(...) hub_log(HUB_LOG_DEBUG, __VA_ARGS__)
#define HUB_INFO(...)  hub_log(HUB_LOG_INFO, __VA_ARGS__)
#define HUB_WARN(...)  hub_log(HUB_LOG_WARN, __VA_ARGS__)
#define HUB_ERROR(...) hub_log(HUB_LOG_ERROR, __VA_ARGS__)

#endif
