/*
 * cmd_provider.c — "hubctl provider add|list|enable|disable": the upstream providers
 * and their first sealed API key (more keys: cmd_credential.c).
 *
 * "provider add" works out the provider's settings from --type, --preset and the other
 * options (base URL defaults per type and preset, the auth header of Azure, the API
 * version of Anthropic and Azure), checks the base URL (https, or http only for a host
 * the admin marks internal), reads the API key from stdin (never from the command line,
 * where it would land in shell history and the process list), then in one transaction
 * inserts the provider and its sealed credential (util_cred.c). The key is wiped from
 * memory as soon as it is sealed and is never printed.
 */
#include "hubctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Per type: the base URL when --base-url is absent (NULL: required) and the default API
 * version (NULL: the type has none and --api-version is refused). */
typedef struct {
    const char *name;
    const char *base_url;
    const char *api_version;
} ptype;

static const ptype TYPES[] = {
    {"openai", "https://api.openai.com/v1", NULL},
    {"openai-compatible", NULL, NULL},
    {"anthropic", "https://api.anthropic.com", "2023-06-01"},
    {"gemini", "https://generativelanguage.googleapis.com", NULL},
};

/* Presets: openai-compatible providers with known settings. */
typedef struct {
    const char *name;
    const char *base_url;    /* NULL: --base-url required */
    bool internal;           /* an internal host: plain http allowed */
    bool key_optional;       /* empty stdin stores OLLAMA_KEY */
    const char *auth_header; /* NULL: by type (Authorization: Bearer) */
    const char *api_version; /* default; NULL: none and --api-version refused */
} preset;

static const preset PRESETS[] = {
    {"deepseek", "https://api.deepseek.com/v1", false, false, NULL, NULL},
    {"xai", "https://api.x.ai/v1", false, false, NULL, NULL},
    {"openrouter", "https://openrouter.ai/api/v1", false, false, NULL, NULL},
    {"ollama", "http://localhost:11434/v1", true, true, NULL, NULL},
    {"azure", NULL, false, false, "api-key", "2024-10-21"},
};

/* The secret stored for an ollama provider added without a key (Ollama ignores it). */
static const char OLLAMA_KEY[] = "ollama";

static const char ADD_HELP[] =
    "usage: hubctl provider add NAME --type TYPE [--base-url URL] [--internal]\n"
    "                                [--api-version V] [--label L] [--weight N] < KEYFILE\n"
    "       hubctl provider add NAME --preset PRESET [--base-url URL] [--api-version V]\n"
    "                                [--internal] [--label L] [--weight N] < KEYFILE\n\n"
    "Adds an upstream provider with one credential. The provider's API key is read from\n"
    "the first line of stdin (a hidden prompt on a terminal), sealed with the master key\n"
    "and never printed. More keys: 'hubctl credential add'.\n\n"
    "  NAME               1-64 characters of A-Z a-z 0-9 . _ -\n"
    "  --type TYPE        openai, openai-compatible, anthropic or gemini\n"
    "  --base-url URL     the API base URL, https://... (trailing '/' removed). Defaults:\n"
    "                       openai     https://api.openai.com/v1\n"
    "                       anthropic  https://api.anthropic.com (hub adds /v1/messages)\n"
    "                       gemini     https://generativelanguage.googleapis.com\n"
    "                       openai-compatible: required, or use --preset\n"
    "  --preset PRESET    an openai-compatible service (implies --type openai-compatible):\n"
    "                       deepseek    https://api.deepseek.com/v1\n"
    "                       xai         https://api.x.ai/v1\n"
    "                       openrouter  https://openrouter.ai/api/v1\n"
    "                       ollama      http://localhost:11434/v1, internal; the key is\n"
    "                                   optional (empty stdin stores \"ollama\")\n"
    "                       azure       --base-url https://RESOURCE.openai.azure.com is\n"
    "                                   required; key sent as 'api-key'\n"
    "                     --base-url overrides a preset's URL (checked the same way).\n"
    "  --api-version V    anthropic-version (anthropic, default 2023-06-01) or Azure\n"
    "                     api-version (--preset azure, default 2024-10-21)\n"
    "  --internal         an internal host the admin trusts with plain HTTP: also allows an\n"
    "                     http:// base URL (the key then crosses the network unencrypted)\n"
    "  --label L          the credential's label (default \"default\"; 1-64 characters of\n"
    "                     A-Z a-z 0-9 . _ : @ -)\n"
    "  --weight N         the credential's weight, 1-1000 (default 1)\n"
    "  --help             show this help\n\n"
    "examples:\n"
    "  printf '%s\\n' \"$OPENAI_KEY\" | hubctl provider add openai --type openai\n"
    "  printf '%s\\n' \"$AZ_KEY\" | hubctl provider add az --preset azure \\\n"
    "      --base-url https://myres.openai.azure.com\n"
    "  hubctl provider add local --preset ollama < /dev/null\n";

static const char LIST_HELP[] =
    "usage: hubctl provider list\n\n"
    "Lists providers: name, type, preset, base URL, enabled, credentials (active/total),\n"
    "internal, and problems: disabled credentials with their last error, credentials in\n"
    "cooldown (until when, UTC), or no active credential at all.\n";

static const char ENABLE_HELP[] = "usage: hubctl provider enable NAME\n\n"
                                  "Enables a provider: the gateway routes to it again.\n";

static const char DISABLE_HELP[] =
    "usage: hubctl provider disable NAME\n\n"
    "Disables a provider: the gateway stops routing to it (its models answer 503).\n";

static const char SQL_FIND[] = "SELECT id FROM providers WHERE name = ? FOR UPDATE";
static const char SQL_INSERT[] = "INSERT INTO providers (name, type, base_url, internal, preset, "
                                 "auth_header, api_version) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char SQL_LIST[] =
    "SELECT p.name, p.type, p.preset, p.base_url, p.enabled, "
    "(SELECT COUNT(*) FROM credentials c WHERE c.provider_id = p.id AND c.status = 'active'), "
    "(SELECT COUNT(*) FROM credentials c WHERE c.provider_id = p.id), p.internal, "
    "(SELECT GROUP_CONCAT(IF(c.status <> 'active', "
    "   CONCAT(c.label, ' ', c.status, IF(c.last_error IS NULL, '', CONCAT(': ', c.last_error))), "
    "   CONCAT(c.label, ' cooldown until ', DATE_FORMAT(c.cooldown_until, '%Y-%m-%d %H:%i:%s'), ' "
    "UTC')) "
    "   ORDER BY c.label SEPARATOR '; ') FROM credentials c WHERE c.provider_id = p.id "
    "   AND (c.status <> 'active' OR c.cooldown_until > UTC_TIMESTAMP(3))) "
    "FROM providers p ORDER BY p.name";
static const char SQL_STATE[] = "SELECT id, enabled FROM providers WHERE name = ? FOR UPDATE";
static const char SQL_SET_ENABLED[] = "UPDATE providers SET enabled = ? WHERE id = ?";

/* The options of "provider add" (borrowed from argv) and what they resolve to. */
typedef struct {
    const char *name, *type, *url, *preset, *api_version, *label, *weight_s;
    bool internal;
    long weight;
    const preset *ps;        /* the preset, NULL when none */
    const char *auth_header; /* NULL = by type */
    char url_buf[513];       /* the base URL to store, trailing '/' removed */
} add_opts;

static const ptype *find_type(const char *t)
{
    for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
        if (strcmp(TYPES[i].name, t) == 0)
            return &TYPES[i];
    }
    return NULL;
}

static const preset *find_preset(const char *p)
{
    for (size_t i = 0; i < sizeof(PRESETS) / sizeof(PRESETS[0]); i++) {
        if (strcmp(PRESETS[i].name, p) == 0)
            return &PRESETS[i];
    }
    return NULL;
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

/* Works out type, preset, URL, auth header and API version of o. Returns a usage
 * status (after printing the message), or HC_EXIT_OK when o is complete and valid. */
static int resolve_add(add_opts *o)
{
    static const char CMD[] = "provider add";
    const ptype *pt = NULL;
    const char *url = o->url;
    const char *default_version = NULL;

    if (!hc_name_ok(o->name, 64, HC_CHARS_PROVIDER))
        return hc_usage(CMD, "provider names are 1-64 characters of A-Z a-z 0-9 . _ -");
    if (o->preset != NULL) {
        o->ps = find_preset(o->preset);
        if (o->ps == NULL)
            return hc_usage(CMD, "--preset must be deepseek, xai, openrouter, ollama or azure");
        if (o->type != NULL && strcmp(o->type, "openai-compatible") != 0)
            return hc_usage(CMD, "--preset %s is an openai-compatible provider; drop --type",
                            o->preset);
        o->type = "openai-compatible";
        o->internal = o->internal || o->ps->internal;
        o->auth_header = o->ps->auth_header;
        default_version = o->ps->api_version;
        if (url == NULL)
            url = o->ps->base_url;
        if (url == NULL)
            return hc_usage(CMD,
                            "--preset %s needs --base-url (e.g. https://RESOURCE.openai.azure.com)",
                            o->preset);
    }
    if (o->type == NULL)
        return hc_usage(CMD, "--type (openai, openai-compatible, anthropic, gemini) or --preset is "
                             "required");
    pt = find_type(o->type);
    if (pt == NULL)
        return hc_usage(CMD, "--type must be openai, openai-compatible, anthropic or gemini");
    if (o->ps == NULL) {
        default_version = pt->api_version;
        if (url == NULL)
            url = pt->base_url;
        if (url == NULL)
            return hc_usage(CMD, "--base-url is required for type %s (or use --preset)", o->type);
    }
    if (o->api_version != NULL && default_version == NULL)
        return hc_usage(CMD, "--api-version applies only to anthropic and --preset azure");
    if (o->api_version == NULL)
        o->api_version = default_version;
    if (o->api_version != NULL && !hc_name_ok(o->api_version, 32, "._-"))
        return hc_usage(CMD, "--api-version must be 1-32 characters of A-Z a-z 0-9 . _ -");
    if (strlen(url) >= sizeof(o->url_buf))
        return hc_usage(CMD, "--base-url is longer than 512 characters");
    snprintf(o->url_buf, sizeof(o->url_buf), "%s", url);
    size_t n = strlen(o->url_buf);
    while (n > 0 && o->url_buf[n - 1] == '/')
        o->url_buf[--n] = '\0';
    const char *problem = url_problem(o->url_buf, o->internal);
    if (problem != NULL)
        return hc_usage(CMD, "%s", problem);
    if (o->label == NULL)
        o->label = "default";
    if (!hc_label_ok(o->label))
        return hc_usage(CMD, "--label must be 1-64 characters of A-Z a-z 0-9 . _ : @ -");
    o->weight = 1;
    if (o->weight_s != NULL && !hc_weight_parse(o->weight_s, &o->weight))
        return hc_usage(CMD, "--weight must be a whole number from %d to %d", HC_WEIGHT_MIN,
                        HC_WEIGHT_MAX);
    return HC_EXIT_OK;
}

/* Parses the command line of "provider add" into o. Returns HC_EXIT_OK to go on, -1 when
 * the help was shown, else a usage status (message printed). */
static int parse_add(int argc, char **argv, add_opts *o)
{
    static const char CMD[] = "provider add";
    static const struct option OPTS[] = {
        {"type", required_argument, NULL, 't'},
        {"base-url", required_argument, NULL, 'u'},
        {"preset", required_argument, NULL, 'p'},
        {"api-version", required_argument, NULL, 'v'},
        {"internal", no_argument, NULL, 'i'},
        {"label", required_argument, NULL, 'l'},
        {"weight", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int status = HC_EXIT_USAGE;
    hc_pos pos = {0};

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
            o->type = optarg;
            break;
        case 'u':
            o->url = optarg;
            break;
        case 'p':
            o->preset = optarg;
            break;
        case 'v':
            o->api_version = optarg;
            break;
        case 'i':
            o->internal = true;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'w':
            o->weight_s = optarg;
            break;
        case 'h':
            fputs(ADD_HELP, stdout);
            return -1;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 1, CMD, "NAME", &status))
        return status;
    o->name = pos.v[0];
    return resolve_add(o);
}

/* Audits "provider add": the provider's settings and its first credential (sealed). */
static bool audit_add(hubctl *h, const add_opts *o, long long pid, long long cid, int key_id)
{
    hc_json after;
    hc_json_begin(&after);
    hc_json_int(&after, "id", pid);
    hc_json_str(&after, "type", o->type);
    hc_json_str(&after, "preset", o->preset);
    hc_json_str(&after, "base_url", o->url_buf);
    hc_json_bool(&after, "internal", o->internal);
    hc_json_str(&after, "auth_header", o->auth_header);
    hc_json_str(&after, "api_version", o->api_version);
    hc_json_bool(&after, "enabled", true);
    hc_json_int(&after, "credential_id", cid);
    hc_json_str(&after, "credential_label", o->label);
    hc_json_int(&after, "credential_weight", o->weight);
    hc_json_str(&after, "secret", HC_SEALED);
    hc_json_int(&after, "key_id", key_id);
    bool ok = hc_audit(h, "provider.add", "provider", o->name, NULL, &after);
    hc_json_free(&after);
    return ok;
}

static int provider_add(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    add_opts o;
    hub_keyring kr;
    char secret[HC_SECRET_MAX + 3]; /* wiped at end */
    size_t slen = 0;
    int key_id = 0;
    char err[256];
    long long pid = 0, cid = 0;

    memset(&o, 0, sizeof(o));
    memset(&kr, 0, sizeof(kr));
    memset(secret, 0, sizeof(secret));
    status = parse_add(argc, argv, &o);
    if (status != HC_EXIT_OK)
        return status < 0 ? HC_EXIT_OK : status;
    status = HC_EXIT_FAIL;
    bool key_optional = o.ps != NULL && o.ps->key_optional;

    if (!hc_keyring_load(h, &kr))
        goto end;
    if (hc_db(h) == NULL)
        goto end;
    if (!hc_read_secret(key_optional ? "provider API key (optional)" : "provider API key", "key",
                        secret, sizeof(secret), &slen, key_optional, err, sizeof(err))) {
        hc_err("%s", err);
        goto end;
    }
    if (slen == 0) {
        memcpy(secret, OLLAMA_KEY, sizeof(OLLAMA_KEY));
        slen = sizeof(OLLAMA_KEY) - 1;
    }
    if (!hc_tx_begin(h))
        goto end;
    if (!hc_lookup_id(h, SQL_FIND, o.name, &pid))
        goto end;
    if (pid != 0) {
        hc_err("provider '%s' already exists (more keys: 'hubctl credential add %s')", o.name,
               o.name);
        goto end;
    }
    hub_dbp pp[7] = {
        DB_STR(o.name),   DB_STR(o.type),        DB_STR(o.url_buf),    DB_INT(o.internal ? 1 : 0),
        DB_STR(o.preset), DB_STR(o.auth_header), DB_STR(o.api_version)};
    if (!hc_exec(h, SQL_INSERT, pp, 7, NULL, NULL, &pid))
        goto end;
    if (!hc_cred_store(h, &kr, pid, o.label, o.weight, secret, slen, &cid, &key_id))
        goto end;
    explicit_bzero(secret, sizeof(secret));
    if (!audit_add(h, &o, pid, cid, key_id))
        goto end;
    if (!hc_tx_commit(h))
        goto end;
    printf("added provider %s (%s%s%s, %s%s); credential %s (id %lld) sealed with master key %d\n",
           o.name, o.type, o.preset != NULL ? ", preset " : "", o.preset != NULL ? o.preset : "",
           o.url_buf, o.internal ? ", internal" : "", o.label, cid, key_id);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(secret, sizeof(secret));
    hub_keyring_wipe(&kr);
    return status;
}

static int provider_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME",    "TYPE",        "PRESET",   "BASE_URL",
                                        "ENABLED", "CREDENTIALS", "INTERNAL", "PROBLEMS"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r;
    hc_table t;
    if (!hc_simple_args(argc, argv, "provider list", LIST_HELP, 0, "", &pos, &status))
        return status;
    if (!hc_exec(h, SQL_LIST, NULL, 0, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    hc_table_init(&t, 8, HEADS, 0);
    for (int i = 0; i < r.nrows; i++) {
        char creds[48];
        char problems[1024];
        long long active = hc_llval(hub_dbres_get(&r, i, 5));
        const char *listed = hub_dbres_get(&r, i, 8);
        bool enabled = hub_dbres_int(&r, i, 4, 0) != 0;
        snprintf(creds, sizeof(creds), "%lld/%lld", active, hc_llval(hub_dbres_get(&r, i, 6)));
        if (enabled && active == 0)
            snprintf(problems, sizeof(problems), "no active credential%s%s",
                     listed != NULL ? "; " : "", listed != NULL ? listed : "");
        else
            snprintf(problems, sizeof(problems), "%s", listed != NULL ? listed : "-");
        const char *row[8] = {hub_dbres_get(&r, i, 0),
                              hub_dbres_get(&r, i, 1),
                              hub_dbres_get(&r, i, 2),
                              hub_dbres_get(&r, i, 3),
                              enabled ? "yes" : "no",
                              creds,
                              hub_dbres_int(&r, i, 7, 0) ? "yes" : "no",
                              problems};
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
    hub_dbres r = {0};
    hc_json before, after;
    hc_json_begin(&before);
    hc_json_begin(&after);
    if (!hc_simple_args(argc, argv, cmd, on ? ENABLE_HELP : DISABLE_HELP, 1, "NAME", &pos, &status))
        goto end;
    status = HC_EXIT_FAIL;
    const char *name = pos.v[0];
    hub_dbp p[1] = {DB_STR(name)};
    if (!hc_tx_begin(h) || !hc_exec(h, SQL_STATE, p, 1, &r, NULL, NULL))
        goto end;
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
    hc_json_bool(&before, "enabled", !on);
    hc_json_bool(&after, "enabled", on);
    if (!hc_audit(h, on ? "provider.enable" : "provider.disable", "provider", name, &before,
                  &after) ||
        !hc_tx_commit(h))
        goto end;
    printf("provider %s %s\n", name, word);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    hc_json_free(&before);
    hc_json_free(&after);
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
        {"list", provider_list, "list providers, their credentials and problems"},
        {"enable", provider_enable, "route to a provider again"},
        {"disable", provider_disable, "stop routing to a provider"},
    };
    return hc_dispatch(h, "provider", "Upstream providers and their sealed API keys.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
