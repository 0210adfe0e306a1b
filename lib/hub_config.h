/*
 * hub_config.h — the hub configuration file (hub.conf).
 *
 * Format: "key = value" lines, '#' starts a comment line, blank lines ignored.
 * Unknown keys are an error (a typo must not silently fall back to a default).
 * The file is read by hub-gateway, hubctl and the admin pages.
 */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define HUB_PATH_MAX 512

typedef struct {
    char db_socket[HUB_PATH_MAX];
    char db_host[256];
    int db_port;
    char db_user[128];
    char db_password[256];
    char db_name[128];
    char master_key_file[HUB_PATH_MAX];
    char spool_dir[HUB_PATH_MAX];
    char listen[HUB_PATH_MAX]; /* unix socket path or host:port; empty = fd 0 */
    int threads;
    long max_body_bytes;
    int json_max_depth;
    int key_cache_ms;     /* how long a validated key is trusted without a DB look-up */
    int db_grace_seconds; /* during a DB outage, keys validated this recently still work */
    int catalog_refresh_ms;
    int connect_timeout_ms;
    int upstream_timeout_ms;   /* total, per attempt */
    int first_byte_timeout_ms; /* from sending to the provider's first byte */
    int idle_timeout_ms;       /* between bytes of a streaming answer */
    int max_retries;           /* extra attempts (other credential / fallback) */
    int cooldown_seconds;      /* a 429 without Retry-After cools a credential this long */
    int default_max_tokens;    /* for providers that require max_tokens (Anthropic) */
    int spool_flush_ms;
    char log_level[16];
} hub_config;

/* Fills defaults. */
void hub_config_defaults(hub_config *c);
/* Reads path over the defaults. On failure writes "path:line: message" into err. */
bool hub_config_load(hub_config *c, const char *path, char *err, size_t errsz);
/* The config path: explicit (may be NULL), else $HUB_CONF, else SYSCONFDIR/hub.conf. Borrowed. */
const char *hub_config_path(const char *explicit_path);

/* Parses a decimal integer in [min,max] (whole string). */
bool hub_parse_long(const char *s, long min, long max, long *out);

#endif
