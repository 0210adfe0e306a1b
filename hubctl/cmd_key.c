/*
 * cmd_key.c — "hubctl key create|list|revoke": the hub API keys clients authenticate with.
 *
 * A new key is generated from the CSPRNG (hub_apikey_generate); only its SHA-256 and a
 * short display prefix are stored. The secret is written to stdout exactly once, alone on
 * its line, before the insert is committed: if stdout cannot take it, nothing is created.
 * Revoking sets revoked_at; the gateway stops accepting the key within key_cache_ms.
 * Both are audited with the key's display prefix, never the key; a created key records
 * its creator ("hubctl:<OS user>") in created_by.
 */
#include "hubctl.h"

#include "hub_apikey.h"

#include <getopt.h>
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
static const char SQL_FIND[] = "SELECT id FROM api_keys WHERE name = ? FOR UPDATE";
static const char SQL_INSERT[] =
    "INSERT INTO api_keys (name, key_hash, prefix, user_id, team_id, app, models, endpoints, "
    "kind, created_by, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'service', ?, UTC_TIMESTAMP(3) + INTERVAL ? DAY)";
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

/* Comma-separated globs (letters, digits and . _ : @ / * ? -), each under 256 characters (the
 * gateway's limit), at most 1024 in all (the column). */
static bool globs_ok(const char *s)
{
    if (strlen(s) > 1024)
        return false;
    while (true) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n > 255)
            return false;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr("._:@/*?-", c) != NULL;
            if (!ok)
                return false;
        }
        if (s[n] == '\0')
            return true;
        s += n + 1;
    }
}

/* The API families a key may be limited to (api_keys.endpoints), in their stored order. */
static const char *const ENDPOINTS[] = {"chat", "embeddings", "images", "messages"};
#define NENDPOINTS (sizeof(ENDPOINTS) / sizeof(ENDPOINTS[0]))

/*
 * Checks a comma-separated --endpoints list (names of ENDPOINTS, no empty entries or
 * repeats) and writes it to out in the order of ENDPOINTS. false when s is not such a list.
 */
static bool endpoints_parse(const char *s, char *out, size_t outsz)
{
    bool seen[NENDPOINTS] = {false};
    size_t used = 0;
    out[0] = '\0';
    while (true) {
        size_t n = strcspn(s, ",");
        size_t k = 0;
        while (k < NENDPOINTS && (strlen(ENDPOINTS[k]) != n || strncmp(ENDPOINTS[k], s, n) != 0))
            k++;
        if (k == NENDPOINTS || seen[k])
            return false;
        seen[k] = true;
        if (s[n] == '\0')
            break;
        s += n + 1;
    }
    for (size_t k = 0; k < NENDPOINTS; k++) {
        if (!seen[k])
            continue;
        int w = snprintf(out + used, outsz - used, "%s%s", used > 0 ? "," : "", ENDPOINTS[k]);
        if (w < 0 || (size_t)w >= outsz - used)
            return false;
        used += (size_t)w;
    }
    return true;
}

/* Audits a new key: its settings and display prefix (the key itself is never written). */
static bool audit_create(hubctl *h, const char *name, const char *shown, const char *user,
                         const char *team, const char *app, const char *models,
                         const char *endpoints, const char *days_s)
{
    hc_json after;
    hc_json_begin(&after);
    hc_json_str(&after, "prefix", shown);
    hc_json_str(&after, "user", user);
    hc_json_str(&after, "team", team);
    hc_json_str(&after, "app", app);
    hc_json_str(&after, "models", models);
    hc_json_str(&after, "endpoints", endpoints);
    hc_json_str(&after, "kind", "service");
    hc_json_raw(&after, "expires_days", days_s);
    bool ok = hc_audit(h, "key.create", "api_key", name, NULL, &after);
    hc_json_free(&after);
    return ok;
}

static int key_create(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "key create";
    static const struct option OPTS[] = {
        {"name", required_argument, NULL, 'n'},
        {"user", required_argument, NULL, 'u'},
        {"team", required_argument, NULL, 't'},
        {"app", required_argument, NULL, 'a'},
        {"models", required_argument, NULL, 'm'},
        {"expires-days", required_argument, NULL, 'e'},
        {"endpoints", required_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int status = HC_EXIT_FAIL;
    const char *name = NULL, *user = NULL, *team = NULL, *app = NULL, *models = NULL;
    const char *days_s = NULL, *endpoints_s = NULL;
    char endpoints[64];
    char days_num[24];
    long days = 0;
    hc_pos pos = {0};
    hub_dbres ur;
    bool have_ur = false;
    long long uid = 0, tid = 0, kid = 0;
    char key[HUB_APIKEY_LEN + 1]; /* the secret: wiped at end */
    unsigned char hash[HUB_APIKEY_HASH_LEN];
    char shown[HUB_APIKEY_SHOWN + 1];

    memset(key, 0, sizeof(key));
    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            hc_pos_add(&pos, optarg);
            break;
        case 'n':
            name = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 't':
            team = optarg;
            break;
        case 'a':
            app = optarg;
            break;
        case 'm':
            models = optarg;
            break;
        case 'e':
            days_s = optarg;
            break;
        case 'E':
            endpoints_s = optarg;
            break;
        case 'h':
            fputs(CREATE_HELP, stdout);
            return HC_EXIT_OK;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 0, CMD, "", &status))
        return status;
    if (name == NULL || !hc_name_ok(name, 128, HC_CHARS_PRINCIPAL))
        return hc_usage(CMD, "--name is required: 1-128 characters of A-Z a-z 0-9 . _ @ + -");
    if (user == NULL || !hc_name_ok(user, 128, HC_CHARS_PRINCIPAL))
        return hc_usage(CMD, "--user is required and must be a user name");
    if (team != NULL && !hc_name_ok(team, 128, HC_CHARS_PRINCIPAL))
        return hc_usage(CMD, "--team must be a team name");
    if (app != NULL && !hc_name_ok(app, 128, HC_CHARS_APP))
        return hc_usage(CMD, "--app must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -");
    if (models != NULL && !globs_ok(models))
        return hc_usage(CMD, "--models must be comma-separated globs of A-Z a-z 0-9 . _ : @ / "
                             "* ? - (each under 256 characters, 1024 in all)");
    if (days_s != NULL && !hub_parse_long(days_s, 0, 36500, &days))
        return hc_usage(CMD, "--expires-days must be a whole number of days from 0 to 36500");
    if (endpoints_s != NULL && !endpoints_parse(endpoints_s, endpoints, sizeof(endpoints)))
        return hc_usage(CMD, "--endpoints must be a comma-separated list of chat, embeddings, "
                             "images, messages (each at most once)");
    snprintf(days_num, sizeof(days_num), "%ld", days);

    hub_dbp up[1] = {DB_STR(user)};
    if (!hc_exec(h, SQL_USER, up, 1, &ur, NULL, NULL))
        goto end;
    have_ur = true;
    if (ur.nrows == 0) {
        hc_err("no user named '%s' (see 'hubctl user list')", user);
        goto end;
    }
    if (hub_dbres_int(&ur, 0, 2, 0) != 0) {
        hc_err("user '%s' is disabled; enable the user first", user);
        goto end;
    }
    uid = hub_dbres_int(&ur, 0, 0, 0);
    tid = hub_dbres_int(&ur, 0, 1, 0);
    if (team != NULL) {
        if (!hc_lookup_id(h, SQL_TEAM, team, &tid))
            goto end;
        if (tid == 0) {
            hc_err("no team named '%s' (see 'hubctl team list')", team);
            goto end;
        }
    }
    if (!hc_tx_begin(h))
        goto end;
    if (!hc_lookup_id(h, SQL_FIND, name, &kid))
        goto end;
    if (kid != 0) {
        hc_err("an API key named '%s' already exists", name);
        goto end;
    }
    if (!hub_apikey_generate(key)) {
        hc_err("cannot generate a key (no randomness available)");
        goto end;
    }
    hub_apikey_hash(key, strlen(key), hash);
    hub_apikey_display(key, shown);
    const char *eps = endpoints_s != NULL ? endpoints : NULL;
    hub_dbp ip[10] = {DB_STR(name),
                      DB_BLOB(hash, sizeof(hash)),
                      DB_STR(shown),
                      DB_INT(uid),
                      tid != 0 ? DB_INT(tid) : DB_NULL,
                      DB_STR(app),
                      DB_STR(models),
                      DB_STR(eps),
                      DB_STR(hc_actor(h)),
                      days_s != NULL ? DB_INT(days) : DB_NULL};
    if (!hc_exec(h, SQL_INSERT, ip, 10, NULL, NULL, NULL))
        goto end;
    if (!audit_create(h, name, shown, user, team, app, models, eps,
                      days_s != NULL ? days_num : NULL))
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
                name, shown, user);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(key, sizeof(key));
    if (have_ur)
        hub_dbres_free(&ur);
    return status;
}

static int key_list(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "key list";
    static const struct option OPTS[] = {
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const HEADS[] = {"NAME",    "PREFIX",    "USER",      "TEAM",
                                        "APP",     "MODELS",    "ENDPOINTS", "CREATED",
                                        "EXPIRES", "LAST_USED", "STATUS"};
    int status = HC_EXIT_FAIL;
    const char *user = NULL;
    hc_pos pos = {0};
    hub_dbres r;
    hc_table t;

    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            hc_pos_add(&pos, optarg);
            break;
        case 'u':
            user = optarg;
            break;
        case 'h':
            fputs(LIST_HELP, stdout);
            return HC_EXIT_OK;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 0, CMD, "", &status))
        return status;
    hub_dbp p[2] = {DB_STR(user), DB_STR(user)};
    if (!hc_exec(h, SQL_LIST, p, 2, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    hc_table_init(&t, 11, HEADS, 0);
    for (int i = 0; i < r.nrows; i++) {
        const char *row[11];
        for (int c = 0; c < 11; c++)
            row[c] = hub_dbres_get(&r, i, c);
        if (row[5] == NULL)
            row[5] = "*";
        if (row[6] == NULL)
            row[6] = "*";
        if (row[8] == NULL)
            row[8] = "never";
        if (row[9] == NULL)
            row[9] = "never";
        hc_table_add(&t, row);
    }
    if (hc_table_print(&t, stdout))
        status = HC_EXIT_OK;
    hc_table_free(&t);
    hub_dbres_free(&r);
    return status;
}

static int key_revoke(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r = {0};
    long long n = 0;
    hc_json before, after;
    hc_json_begin(&before);
    hc_json_begin(&after);
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
    hc_json_str(&before, "prefix", hub_dbres_get(&r, 0, 2));
    hc_json_bool(&before, "revoked", false);
    hc_json_bool(&after, "revoked", true);
    if (!hc_audit(h, "key.revoke", "api_key", name, &before, &after) || !hc_tx_commit(h))
        goto end;
    printf("revoked key %s\n", name);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    hc_json_free(&before);
    hc_json_free(&after);
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
