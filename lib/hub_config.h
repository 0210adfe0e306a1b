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
    int usage_retention_days; /* raw ledger rows older than this are removed once rolled up; 0 =
                                 kept */
    int prompt_log_max_bytes; /* prompt logging: longer request bodies are stored cut (hub_prompt.h)
                               */
    int prompt_retention_days; /* stored prompts older than this are deleted */
    char log_level[16];
    /* admin pages */
    char admin_auth[64]; /* comma list: local, oidc, webserver */
    char admin_base[64]; /* URL prefix of the pages, "/admin" */
    int cookie_secure;   /* 1: Secure cookies (0 only for plain-HTTP localhost) */
    int session_ttl_minutes;
    char webserver_user_var[64];   /* REMOTE_USER */
    char webserver_groups_var[64]; /* e.g. OIDC_CLAIM_groups */
    char role_map[512];            /* "group=role,group=role" */
    char default_role[16];         /* member */
    int login_max_failures;        /* per window, per user name and per client address */
    int login_window_seconds;
    int login_lock_seconds;
    /* corporate OAuth access tokens on the API (JWT, verified against the IdP's JWKS) */
    char jwt_jwks_uri[HUB_PATH_MAX];
    char jwt_issuer[256];
    char jwt_audience[256];
    char jwt_user_claim[64];      /* preferred_username */
    char jwt_team_claim[64];      /* e.g. team; "" = none */
    char jwt_algs[64];            /* RS256,ES256 */
    int jwt_cache_seconds;        /* ≤ 5 */
    int jwt_jwks_refetch_seconds; /* an unknown kid refetches the JWKS at most this often */
    /* budget alerts by e-mail (lib/hub_alert_mail.h): off while smtp_url is empty */
    char smtp_url[256];  /* smtp://relay[:port] (STARTTLS when offered) or smtps://… */
    char smtp_from[256]; /* sender address */
    char smtp_user[128]; /* SMTP AUTH; empty = none */
    char smtp_password[256];
    char alert_email_to[1024]; /* comma-separated recipients */
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
