/*
 * hub_config.c — reads hub.conf (see hub_config.h for the format).
 */
#include "hub_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HUB_SYSCONFDIR
#define HUB_SYSCONFDIR "/etc/hub"
#endif

void hub_config_defaults(hub_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->db_host, sizeof(c->db_host), "localhost");
    snprintf(c->db_user, sizeof(c->db_user), "hub");
    snprintf(c->db_name, sizeof(c->db_name), "hub");
    snprintf(c->spool_dir, sizeof(c->spool_dir), "/var/spool/hub");
    snprintf(c->master_key_file, sizeof(c->master_key_file), "%s/master.key", HUB_SYSCONFDIR);
    snprintf(c->log_level, sizeof(c->log_level), "info");
    c->db_port = 3306;
    c->threads = 32;
    c->max_body_bytes = 8L * 1024 * 1024;
    c->json_max_depth = 64;
    c->key_cache_ms = 500;
    c->db_grace_seconds = 60;
    c->catalog_refresh_ms = 1000;
    c->connect_timeout_ms = 5000;
    c->upstream_timeout_ms = 600000;
    c->first_byte_timeout_ms = 120000;
    c->idle_timeout_ms = 120000;
    c->max_retries = 2;
    c->cooldown_seconds = 30;
    c->default_max_tokens = 4096;
    snprintf(c->admin_auth, sizeof(c->admin_auth), "local");
    snprintf(c->admin_base, sizeof(c->admin_base), "/admin");
    c->cookie_secure = 1;
    c->session_ttl_minutes = 480;
    snprintf(c->webserver_user_var, sizeof(c->webserver_user_var), "REMOTE_USER");
    snprintf(c->webserver_groups_var, sizeof(c->webserver_groups_var), "OIDC_CLAIM_groups");
    snprintf(c->default_role, sizeof(c->default_role), "member");
    c->login_max_failures = 5;
    c->login_window_seconds = 300;
    c->login_lock_seconds = 300;
    snprintf(c->jwt_user_claim, sizeof(c->jwt_user_claim), "preferred_username");
    snprintf(c->jwt_algs, sizeof(c->jwt_algs), "RS256,ES256");
    c->jwt_cache_seconds = 5;
    c->jwt_jwks_refetch_seconds = 5;
    snprintf(c->smtp_from, sizeof(c->smtp_from), "hub@localhost");
    c->spool_flush_ms = 100;
    c->prompt_log_max_bytes = 32768;
    c->prompt_retention_days = 30;
}

bool hub_parse_long(const char *s, long min, long max, long *out)
{
    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

const char *hub_config_path(const char *explicit_path)
{
    if (explicit_path != NULL && *explicit_path != '\0')
        return explicit_path;
    const char *env = getenv("HUB_CONF");
    if (env != NULL && *env != '\0')
        return env;
    return HUB_SYSCONFDIR "/hub.conf";
}

typedef enum { T_STR, T_INT, T_LONG } ktype;

typedef struct {
    const char *name;
    ktype type;
    size_t off;
    size_t size;
    long min, max;
} kdef;

#define S(f)                                                                                       \
    {                                                                                              \
#f, T_STR, offsetof(hub_config, f), sizeof(((hub_config *)0)->f), 0, 0                     \
    }
#define I(f, lo, hi)                                                                               \
    {                                                                                              \
#f, T_INT, offsetof(hub_config, f), 0, lo, hi                                              \
    }
#define L(f, lo, hi)                                                                               \
    {                                                                                              \
#f, T_LONG, offsetof(hub_config, f), 0, lo, hi                                             \
    }

static const kdef KEYS[] = {
    S(db_socket),
    S(db_host),
    I(db_port, 1, 65535),
    S(db_user),
    S(db_password),
    S(db_name),
    S(master_key_file),
    S(spool_dir),
    S(listen),
    I(threads, 1, 1024),
    L(max_body_bytes, 1024, 1L << 30),
    I(json_max_depth, 2, 1000),
    I(key_cache_ms, 0, 1000),
    I(db_grace_seconds, 0, 3600),
    I(catalog_refresh_ms, 100, 60000),
    I(connect_timeout_ms, 100, 600000),
    I(upstream_timeout_ms, 100, 3600000),
    I(first_byte_timeout_ms, 100, 3600000),
    I(idle_timeout_ms, 100, 3600000),
    I(max_retries, 0, 10),
    I(cooldown_seconds, 1, 86400),
    I(default_max_tokens, 1, 1000000),
    I(spool_flush_ms, 1, 10000),
    I(usage_retention_days, 0, 36500),
    I(prompt_log_max_bytes, 256, 8388608),
    I(prompt_retention_days, 1, 36500),
    S(log_level),
    S(admin_auth),
    S(admin_base),
    I(cookie_secure, 0, 1),
    I(session_ttl_minutes, 5, 10080),
    S(webserver_user_var),
    S(webserver_groups_var),
    S(role_map),
    S(default_role),
    I(login_max_failures, 1, 1000),
    I(login_window_seconds, 1, 86400),
    I(login_lock_seconds, 1, 86400),
    S(jwt_jwks_uri),
    S(jwt_issuer),
    S(jwt_audience),
    S(jwt_user_claim),
    S(jwt_team_claim),
    S(jwt_algs),
    I(jwt_cache_seconds, 0, 5),
    I(jwt_jwks_refetch_seconds, 1, 3600),
    S(smtp_url),
    S(smtp_from),
    S(smtp_user),
    S(smtp_password),
    S(alert_email_to),
};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static bool set_key(hub_config *c, const char *k, const char *v, char *err, size_t errsz)
{
    for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
        const kdef *d = &KEYS[i];
        if (strcmp(d->name, k) != 0)
            continue;
        char *field = (char *)c + d->off;
        long n = 0;
        switch (d->type) {
        case T_STR:
            if (strlen(v) >= d->size) {
                snprintf(err, errsz, "value of %s is too long", k);
                return false;
            }
            memcpy(field, v, strlen(v) + 1);
            return true;
        case T_INT:
        case T_LONG:
            if (!hub_parse_long(v, d->min, d->max, &n)) {
                snprintf(err, errsz, "%s must be an integer in [%ld, %ld]", k, d->min, d->max);
                return false;
            }
            if (d->type == T_INT)
                *(int *)(void *)field = (int)n;
            else
                *(long *)(void *)field = n;
            return true;
        }
    }
    snprintf(err, errsz, "unknown setting '%s'", k);
    return false;
}

bool hub_config_load(hub_config *c, const char *path, char *err, size_t errsz)
{
    bool rc = false;
    char line[1024];
    char msg[256];
    int lineno = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        goto end;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errsz, "%s:%d: line too long", path, lineno);
            goto end;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, errsz, "%s:%d: expected 'key = value'", path, lineno);
            goto end;
        }
        *eq = '\0';
        if (!set_key(c, trim(s), trim(eq + 1), msg, sizeof(msg))) {
            snprintf(err, errsz, "%s:%d: %s", path, lineno, msg);
            goto end;
        }
    }
    rc = true;
end:
    if (f != NULL)
        fclose(f);
    return rc;
}
