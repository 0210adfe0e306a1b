/*
 * cmd_provider.c — "hubctl provider add|list|enable|disable": the upstream providers
 * and their sealed API keys.
 *
 * "provider add" reads the provider's API key from stdin (never from the command line,
 * where it would land in shell history and the process list), then in one transaction
 * inserts the provider, inserts its credential row, seals the key with the current
 * master key under the associated data "credential:<id>" and stores the blob. The key
 * is wiped from memory as soon as it is sealed and is never printed.
 */
#include "hubctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *const TYPES[] = {"openai", "openai-compatible", "anthropic", "gemini"};

static const char ADD_HELP[] =
    "usage: hubctl provider add NAME --type TYPE --base-url URL [--internal] < KEYFILE\n\n"
    "Adds an upstream provider with one credential. The provider's API key is read from\n"
    "the first line of stdin (a hidden prompt on a terminal), sealed with the master key\n"
    "and never printed.\n\n"
    "  NAME             1-64 characters of A-Z a-z 0-9 . _ -\n"
    "  --type TYPE      openai, openai-compatible, anthropic or gemini\n"
    "  --base-url URL   the API base URL; must be https://...\n"
    "  --internal       an internal host the admin trusts with plain HTTP: also allows an\n"
    "                   http:// base URL (the key then crosses the network unencrypted)\n"
    "  --help           show this help\n\n"
    "example:\n"
    "  printf '%s\\n' \"$OPENAI_KEY\" | hubctl provider add openai --type openai \\\n"
    "      --base-url https://api.openai.com/v1\n";

static const char LIST_HELP[] =
    "usage: hubctl provider list\n\n"
    "Lists providers: name, type, base URL, enabled, credentials (active/total), internal.\n";

static const char ENABLE_HELP[] = "usage: hubctl provider enable NAME\n\n"
                                  "Enables a provider: the gateway routes to it again.\n";

static const char DISABLE_HELP[] =
    "usage: hubctl provider disable NAME\n\n"
    "Disables a provider: the gateway stops routing to it (its models answer 503).\n";

static const char SQL_FIND[] = "SELECT id FROM providers WHERE name = ? FOR UPDATE";
static const char SQL_INSERT[] =
    "INSERT INTO providers (name, type, base_url, internal) VALUES (?, ?, ?, ?)";
static const char SQL_INSERT_CRED[] =
    "INSERT INTO credentials (provider_id, label, secret_enc) VALUES (?, 'default', NULL)";
static const char SQL_SEAL_CRED[] =
    "UPDATE credentials SET secret_enc = ?, key_id = ? WHERE id = ?";
static const char SQL_LIST[] =
    "SELECT p.name, p.type, p.base_url, p.enabled, COALESCE(SUM(c.status = 'active'), 0), "
    "COUNT(c.id), p.internal FROM providers p LEFT JOIN credentials c ON c.provider_id = p.id "
    "GROUP BY p.id, p.name, p.type, p.base_url, p.enabled, p.internal ORDER BY p.name";
static const char SQL_STATE[] = "SELECT id, enabled FROM providers WHERE name = ?";
static const char SQL_SET_ENABLED[] = "UPDATE providers SET enabled = ? WHERE id = ?";

static bool type_ok(const char *t)
{
    for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
        if (strcmp(TYPES[i], t) == 0)
            return true;
    }
    return false;
}

/* NULL when url is acceptable, else what is wrong with it. */
static const char *url_problem(const char *url, bool internal)
{
    size_t skip;
    if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return "--base-url must start with https:// (or http:// with --internal)";
    if (skip == 7 && !internal)
        return "--base-url is plain http://; use https://, or --internal for an internal host "
               "you trust with plain HTTP";
    if (strlen(url) > 512)
        return "--base-url is longer than 512 characters";
    const char *host = url + skip;
    if (*host == '\0' || *host == '/' || *host == ':')
        return "--base-url has no host";
    size_t alen = strcspn(host, "/?#");
    if (memchr(host, '@', alen) != NULL)
        return "--base-url must not carry credentials (user@host); the key goes on stdin";
    for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return "--base-url contains spaces, control or non-ASCII characters";
    }
    return NULL;
}

static int provider_add(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "provider add";
    static const struct option OPTS[] = {
        {"type", required_argument, NULL, 't'},
        {"base-url", required_argument, NULL, 'u'},
        {"internal", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int status = HC_EXIT_FAIL;
    const char *type = NULL, *url = NULL;
    bool internal = false;
    hc_pos pos = {0};
    hub_keyring kr;
    char secret[HC_SECRET_MAX + 3]; /* wiped at end */
    size_t slen = 0;
    unsigned char *blob = NULL; /* owned: sealed secret */
    size_t blen = 0;
    int key_id = 0;
    char err[256];
    char aad[64];
    long long pid = 0, cid = 0, n = 0;

    memset(&kr, 0, sizeof(kr));
    memset(secret, 0, sizeof(secret));
    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            hc_pos_add(&pos, optarg);
            break;
        case 't':
            type = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'i':
            internal = true;
            break;
        case 'h':
            fputs(ADD_HELP, stdout);
            return HC_EXIT_OK;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 1, CMD, "NAME", &status))
        return status;
    const char *name = pos.v[0];
    if (!hc_name_ok(name, 64, HC_CHARS_PROVIDER))
        return hc_usage(CMD, "provider names are 1-64 characters of A-Z a-z 0-9 . _ -");
    if (type == NULL || !type_ok(type))
        return hc_usage(CMD, "--type must be openai, openai-compatible, anthropic or gemini");
    if (url == NULL)
        return hc_usage(CMD, "--base-url is required");
    const char *problem = url_problem(url, internal);
    if (problem != NULL)
        return hc_usage(CMD, "%s", problem);

    if (!hc_keyring_load(h, &kr))
        goto end;
    if (hc_db(h) == NULL)
        goto end;
    if (!hc_read_secret("provider API key", secret, sizeof(secret), &slen, err, sizeof(err))) {
        hc_err("%s", err);
        goto end;
    }
    if (!hc_tx_begin(h))
        goto end;
    if (!hc_lookup_id(h, SQL_FIND, name, &pid))
        goto end;
    if (pid != 0) {
        hc_err("provider '%s' already exists", name);
        goto end;
    }
    hub_dbp pp[4] = {DB_STR(name), DB_STR(type), DB_STR(url), DB_INT(internal ? 1 : 0)};
    if (!hc_exec(h, SQL_INSERT, pp, 4, NULL, NULL, &pid))
        goto end;
    hub_dbp cp[1] = {DB_INT(pid)};
    if (!hc_exec(h, SQL_INSERT_CRED, cp, 1, NULL, NULL, &cid))
        goto end;
    snprintf(aad, sizeof(aad), "credential:%lld", cid);
    if (!hub_seal(&kr, aad, (const unsigned char *)secret, slen, &blob, &blen, &key_id)) {
        hc_err("cannot seal the key with the master key");
        goto end;
    }
    explicit_bzero(secret, sizeof(secret));
    hub_dbp sp[3] = {DB_BLOB(blob, blen), DB_INT(key_id), DB_INT(cid)};
    if (!hc_exec(h, SQL_SEAL_CRED, sp, 3, NULL, &n, NULL))
        goto end;
    if (n != 1) {
        hc_err("the new credential row %lld disappeared; nothing was added", cid);
        goto end;
    }
    if (!hc_tx_commit(h))
        goto end;
    printf("added provider %s (%s, %s%s); credential %lld sealed with master key %d\n", name, type,
           url, internal ? ", internal" : "", cid, key_id);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(secret, sizeof(secret));
    free(blob);
    hub_keyring_wipe(&kr);
    return status;
}

static int provider_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME",    "TYPE",        "BASE_URL",
                                        "ENABLED", "CREDENTIALS", "INTERNAL"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r;
    hc_table t;
    if (!hc_simple_args(argc, argv, "provider list", LIST_HELP, 0, "", &pos, &status))
        return status;
    if (!hc_exec(h, SQL_LIST, NULL, 0, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    hc_table_init(&t, 6, HEADS, 0);
    for (int i = 0; i < r.nrows; i++) {
        char creds[48];
        snprintf(creds, sizeof(creds), "%lld/%lld", hc_llval(hub_dbres_get(&r, i, 4)),
                 hc_llval(hub_dbres_get(&r, i, 5)));
        const char *row[6] = {hub_dbres_get(&r, i, 0),
                              hub_dbres_get(&r, i, 1),
                              hub_dbres_get(&r, i, 2),
                              hub_dbres_int(&r, i, 3, 0) ? "yes" : "no",
                              creds,
                              hub_dbres_int(&r, i, 6, 0) ? "yes" : "no"};
        hc_table_add(&t, row);
    }
    if (hc_table_print(&t, stdout))
        status = HC_EXIT_OK;
    hc_table_free(&t);
    hub_dbres_free(&r);
    return status;
}

static int set_enabled(hubctl *h, int argc, char **argv, bool on)
{
    const char *cmd = on ? "provider enable" : "provider disable";
    const char *word = on ? "enabled" : "disabled";
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r;
    if (!hc_simple_args(argc, argv, cmd, on ? ENABLE_HELP : DISABLE_HELP, 1, "NAME", &pos, &status))
        return status;
    const char *name = pos.v[0];
    hub_dbp p[1] = {DB_STR(name)};
    if (!hc_exec(h, SQL_STATE, p, 1, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    if (r.nrows == 0) {
        hc_err("no provider named '%s'", name);
        goto end;
    }
    if ((hub_dbres_int(&r, 0, 1, 0) != 0) == on) {
        printf("provider %s was already %s\n", name, word);
        status = HC_EXIT_OK;
        goto end;
    }
    hub_dbp u[2] = {DB_INT(on ? 1 : 0), DB_INT(hub_dbres_int(&r, 0, 0, 0))};
    if (!hc_exec(h, SQL_SET_ENABLED, u, 2, NULL, NULL, NULL))
        goto end;
    printf("provider %s %s\n", name, word);
    status = HC_EXIT_OK;
end:
    hub_dbres_free(&r);
    return status;
}

static int provider_enable(hubctl *h, int argc, char **argv)
{
    return set_enabled(h, argc, argv, true);
}

static int provider_disable(hubctl *h, int argc, char **argv)
{
    return set_enabled(h, argc, argv, false);
}

int hc_provider_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"add", provider_add, "add a provider; its API key is read from stdin"},
        {"list", provider_list, "list providers"},
        {"enable", provider_enable, "route to a provider again"},
        {"disable", provider_disable, "stop routing to a provider"},
    };
    return hc_dispatch(h, "provider", "Upstream providers and their sealed API keys.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
