/*
 * cmd_key.c — "hubctl key create|list|revoke": the hub API keys clients authenticate with.
 *
 * A new key is generated from the CSPRNG and stored as its SHA-256 and a short display
 * prefix only (hub_key_create, shared with the admin pages). The secret is written to stdout
 * exactly once, alone on its line, before the insert is committed: if stdout cannot take it,
 * nothing is created. Revoking sets revoked_at; the gateway stops accepting the key within
 * key_cache_ms. Both are audited with the key's display prefix, never the key; a created key
 * records its creator ("hubctl:<OS user>") in created_by.
 */
#include "hubctl.h"

#include "hub_apikey.h"

#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

static const char CREATE_HELP[] =
    "usage: hubctl key create --name NAME --user USER [--team TEAM] [--app APP]\n"
    "                         [--models GLOB,GLOB...] [--endpoints LIST] [--expires-days N]\n\n"
    "Creates a hub API key and prints it ONCE on stdout (nothing else goes to stdout).\n"
    "Only its SHA-256 hash and display prefix are stored: keep the printed key.\n\n"
    "  --name NAME         unique key name, 1-128 characters of A-Z a-z 0-9 . _ @ + -\n"
    "  --user USER         the user the key acts for\n"
    "  --team TEAM         the team usage is charged to (default: the user's team)\n"
    "  --app APP           an application label for usage reports\n"
    "                      (1-128 characters of A-Z a-z 0-9 . _ : @ / -)\n"
    "  --models GLOBS      comma-separated model globs the key may use, e.g.\n"
    "                      'gpt-4o*,openai/*' (default: every model)\n"
    "  --endpoints LIST    comma-separated API families the key may call: chat,\n"
    "                      embeddings, images, messages (default: all)\n"
    "  --expires-days N    the key expires N days from now (0-36500; 0 makes an already\n"
    "                      expired key, for tests; default: never)\n"
    "  --help              show this help\n";

static const char LIST_HELP[] =
    "usage: hubctl key list [--user USER]\n\n"
    "Lists API keys: name, display prefix, user, team, app, model globs, endpoints,\n"
    "created, expires, last used (UTC) and status (active, revoked, expired). Never shows\n"
    "secrets.\n\n"
    "  --user USER   only the keys of this user\n"
    "  --help        show this help\n";

static const char REVOKE_HELP[] = "usage: hubctl key revoke NAME\n\n"
                                  "Revokes an API key. The gateway refuses it within its key "
                                  "cache time (key_cache_ms).\n";

static const char SQL_USER[] = "SELECT id, team_id, disabled FROM users WHERE name = ?";
static const char SQL_TEAM[] = "SELECT id FROM teams WHERE name = ?";
static const char SQL_LIST[] =
    "SELECT k.name, k.prefix, u.name, t.name, k.app, k.models, k.endpoints, "
    "DATE_FORMAT(k.created_at, '%Y-%m-%d %H:%i'), DATE_FORMAT(k.expires_at, '%Y-%m-%d %H:%i'), "
    "DATE_FORMAT(k.last_used_at, '%Y-%m-%d %H:%i'), "
    "CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' "
    "WHEN k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP(3) THEN 'expired' "
    "ELSE 'active' END "
    "FROM api_keys k JOIN users u ON u.id = k.user_id LEFT JOIN teams t ON t.id = k.team_id "
    "WHERE (? IS NULL OR u.name = ?) ORDER BY k.created_at, k.id";
static const char SQL_STATE[] =
    "SELECT id, DATE_FORMAT(revoked_at, '%Y-%m-%d %H:%i:%s'), prefix FROM api_keys "
    "WHERE name = ? FOR UPDATE";
static const char SQL_REVOKE[] =
    "UPDATE api_keys SET revoked_at = UTC_TIMESTAMP(3) WHERE id = ? AND revoked_at IS NULL";

/* Audits a new key: its settings and display prefix (the key itself is never written). */
static bool audit_create(hubctl *h, const char *name, const char *shown, const char *user,
                         const char *team, const char *app, const char *models,
                         const char *endpoints, const char *days_s)
{
    hub_jobj after;
    hub_jobj_begin(&after);
    hub_jobj_str(&after, "prefix", shown);
    hub_jobj_str(&after, "user", user);
    hub_jobj_str(&after, "team", team);
    hub_jobj_str(&after, "app", app);
    hub_jobj_str(&after, "models", models);
    hub_jobj_str(&after, "endpoints", endpoints);
    hub_jobj_str(&after, "kind", "service");
    hub_jobj_raw(&after, "expires_days", days_s);
    bool ok = hc_audit(h, "key.create", "api_key", name, NULL, &after);
    hub_jobj_free(&after);
    return ok;
}

/* The options of "key create", borrowed from argv. */
typedef struct {
    const char *name, *user, *team, *app, *models, *days_s, *endpoints_s;
    long days;
    char endpoints[64]; /* --endpoints normalised */
} create_opts;

/* Parses "key create" into o. true to go on; false with *status set. */
static bool parse_create(int argc, char **argv, create_opts *o, int *status)
{
    static const char CMD[] = "key create";
    const hc_opt opts[] = {
        {"name", &o->name, NULL},
        {"user", &o->user, NULL},
        {"team", &o->team, NULL},
        {"app", &o->app, NULL},
        {"models", &o->models, NULL},
        {"expires-days", &o->days_s, NULL},
        {"endpoints", &o->endpoints_s, NULL},
    };
    hc_pos pos;
    if (!hc_args(argc, argv, CMD, CREATE_HELP, opts, 7, 0, "", &pos, status))
        return false;
    if (o->name == NULL || !hub_name_ok(o->name, 128, HUB_CHARS_PRINCIPAL))
        *status = hc_usage(CMD, "--name is required: 1-128 characters of A-Z a-z 0-9 . _ @ + -");
    else if (o->user == NULL || !hub_name_ok(o->user, 128, HUB_CHARS_PRINCIPAL))
        *status = hc_usage(CMD, "--user is required and must be a user name");
    else if (o->team != NULL && !hub_name_ok(o->team, 128, HUB_CHARS_PRINCIPAL))
        *status = hc_usage(CMD, "--team must be a team name");
    else if (o->app != NULL && !hub_name_ok(o->app, 128, HUB_CHARS_APP))
        *status = hc_usage(CMD, "--app must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -");
    else if (o->models != NULL && !hub_globs_ok(o->models))
        *status = hc_usage(CMD, "--models must be comma-separated globs of A-Z a-z 0-9 . _ : @ / "
                                "* ? - (each under 256 characters, 1024 in all)");
    else if (o->days_s != NULL && !hub_parse_long(o->days_s, 0, HUB_KEY_DAYS_MAX, &o->days))
        *status = hc_usage(CMD, "--expires-days must be a whole number of days from 0 to 36500");
    else if (o->endpoints_s != NULL &&
             !hub_endpoints_normalize(o->endpoints_s, o->endpoints, sizeof(o->endpoints)))
        *status = hc_usage(CMD, "--endpoints must be a comma-separated list of chat, embeddings, "
                                "images, messages (each at most once)");
    else
        return true;
    return false;
}

/* The user (enabled) and team of a new key into ks. false after printing the error. */
static bool key_owner(hubctl *h, const create_opts *o, hub_key_spec *ks)
{
    bool rc = false;
    hub_dbres ur = {0};
    hub_dbp up[1] = {DB_STR(o->user)};
    if (!hc_exec(h, SQL_USER, up, 1, &ur, NULL, NULL))
        goto end;
    if (ur.nrows == 0) {
        hc_err("no user named '%s' (see 'hubctl user list')", o->user);
        goto end;
    }
    if (hub_dbres_int(&ur, 0, 2, 0) != 0) {
        hc_err("user '%s' is disabled; enable the user first", o->user);
        goto end;
    }
    ks->user_id = hub_dbres_int(&ur, 0, 0, 0);
    ks->team_id = hub_dbres_int(&ur, 0, 1, 0);
    if (o->team != NULL) {
        if (!hc_lookup_id(h, SQL_TEAM, o->team, &ks->team_id))
            goto end;
        if (ks->team_id == 0) {
            hc_err("no team named '%s' (see 'hubctl team list')", o->team);
            goto end;
        }
    }
    rc = true;
end:
    hub_dbres_free(&ur);
    return rc;
}

static int key_create(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    create_opts o;
    hub_key_spec ks;
    char days_num[24];
    char err[512];
    long long kid = 0;
    char key[HUB_APIKEY_LEN + 1]; /* the secret: wiped at end */
    char shown[HUB_APIKEY_SHOWN + 1];

    memset(&o, 0, sizeof(o));
    memset(key, 0, sizeof(key));
    if (!parse_create(argc, argv, &o, &status))
        return status;
    snprintf(days_num, sizeof(days_num), "%ld", o.days);
    ks = (hub_key_spec){.name = o.name,
                        .app = o.app,
                        .models = o.models,
                        .endpoints = o.endpoints_s != NULL ? o.endpoints : NULL,
                        .expires_days = o.days_s != NULL ? o.days : -1,
                        .kind = "service",
                        .created_by = hc_actor(h)};
    if (!key_owner(h, &o, &ks) || !hc_tx_begin(h))
        goto end;
    if (hub_key_create(h->db, &ks, key, shown, &kid, err, sizeof(err)) != HUB_OK) {
        hc_err("%s", err);
        goto end;
    }
    if (!audit_create(h, o.name, shown, o.user, o.team, o.app, o.models, ks.endpoints,
                      o.days_s != NULL ? days_num : NULL))
        goto end;
    /* The secret, alone, once; only then commit, so a lost secret leaves no live key. */
    if (fputs(key, stdout) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        __fpurge(stdout); /* drop the unwritten secret from the stdio buffer */
        hc_err("cannot write the key to stdout; no key was created");
        goto end;
    }
    if (!hc_tx_commit(h)) {
        hc_err("the key printed above was NOT created; discard it");
        goto end;
    }
    if (isatty(STDOUT_FILENO))
        fprintf(stderr,
                "hubctl: created key '%s' (%s...) for user %s; store it now, it is "
                "not shown again\n",
                o.name, shown, o.user);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(key, sizeof(key));
    return status;
}

/* A row of "key list": what NULL means in the globs, endpoints and date columns. */
static void list_cells(const hub_dbres *r, int i, const char **cells, char (*buf)[HC_CELL_MAX])
{
    (void)r;
    (void)i;
    (void)buf;
    if (cells[5] == NULL)
        cells[5] = "*";
    if (cells[6] == NULL)
        cells[6] = "*";
    if (cells[8] == NULL)
        cells[8] = "never";
    if (cells[9] == NULL)
        cells[9] = "never";
}

static int key_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME",    "PREFIX",    "USER",      "TEAM",
                                        "APP",     "MODELS",    "ENDPOINTS", "CREATED",
                                        "EXPIRES", "LAST_USED", "STATUS"};
    int status = HC_EXIT_FAIL;
    const char *user = NULL;
    const hc_opt opts[] = {{"user", &user, NULL}};
    hc_pos pos;

    if (!hc_args(argc, argv, "key list", LIST_HELP, opts, 1, 0, "", &pos, &status))
        return status;
    hub_dbp p[2] = {DB_STR(user), DB_STR(user)};
    return hc_list(h, SQL_LIST, p, 2, 11, HEADS, 0, list_cells);
}

static int key_revoke(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r = {0};
    long long n = 0;
    hub_jobj before, after;
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    if (!hc_simple_args(argc, argv, "key revoke", REVOKE_HELP, 1, "NAME", &pos, &status))
        goto end;
    status = HC_EXIT_FAIL;
    const char *name = pos.v[0];
    hub_dbp p[1] = {DB_STR(name)};
    if (!hc_tx_begin(h) || !hc_exec(h, SQL_STATE, p, 1, &r, NULL, NULL))
        goto end;
    if (r.nrows == 0) {
        hc_err("no API key named '%s'", name);
        goto end;
    }
    if (hub_dbres_get(&r, 0, 1) != NULL) {
        printf("key %s was already revoked at %s UTC\n", name, hub_dbres_get(&r, 0, 1));
        status = HC_EXIT_OK;
        goto end;
    }
    hub_dbp u[1] = {DB_INT(hub_dbres_int(&r, 0, 0, 0))};
    if (!hc_exec(h, SQL_REVOKE, u, 1, NULL, &n, NULL))
        goto end;
    hub_jobj_str(&before, "prefix", hub_dbres_get(&r, 0, 2));
    hub_jobj_bool(&before, "revoked", false);
    hub_jobj_bool(&after, "revoked", true);
    if (!hc_audit(h, "key.revoke", "api_key", name, &before, &after) || !hc_tx_commit(h))
        goto end;
    printf("revoked key %s\n", name);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return status;
}

int hc_key_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"create", key_create, "create an API key (printed once on stdout)"},
        {"list", key_list, "list API keys (never their secrets)"},
        {"revoke", key_revoke, "revoke an API key"},
    };
    return hc_dispatch(h, "key", "Hub API keys: what clients authenticate with.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
