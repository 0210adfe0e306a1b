/*
 * cmd_provider.c — "hubctl provider add|list|enable|disable": the upstream providers
 * and their first sealed API key (more keys: cmd_credential.c).
 *
 * "provider add" works out the provider's settings from --type, --preset and the other
 * options (base URL defaults per type and preset, the auth header of Azure, the API
 * version of Anthropic and Azure), checks the base URL (https, or http only for a host
 * the admin marks internal) — the rules of hub_provider_resolve, which the admin pages
 * use too — reads the API key from stdin (never from the command line, where it would land
 * in shell history and the process list), then in one transaction inserts the provider and
 * its sealed credential (util_cred.c). The key is wiped from memory as soon as it is sealed
 * and is never printed.
 */
#include "hubctl.h"

#include <string.h>

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
    const char *name, *label, *weight_s;
    long weight;
    hub_provider_spec ps; /* type, preset, base URL, API version, internal; resolved */
} add_opts;

/* Parses the command line of "provider add" into o and works out the provider's settings
 * (hub_provider_resolve). true to go on; false with *status set (help or usage error). */
static bool parse_add(int argc, char **argv, add_opts *o, int *status)
{
    static const char CMD[] = "provider add";
    const hc_opt opts[] = {
        {"type", &o->ps.type, NULL},         {"base-url", &o->ps.base_url, NULL},
        {"preset", &o->ps.preset, NULL},     {"api-version", &o->ps.api_version, NULL},
        {"internal", NULL, &o->ps.internal}, {"label", &o->label, NULL},
        {"weight", &o->weight_s, NULL},
    };
    hc_pos pos;

    if (!hc_args(argc, argv, CMD, ADD_HELP, opts, 7, 1, "NAME", &pos, status))
        return false;
    o->name = pos.v[0];
    if (!hub_name_ok(o->name, 64, HUB_CHARS_PROVIDER)) {
        *status = hc_usage(CMD, "provider names are 1-64 characters of A-Z a-z 0-9 . _ -");
        return false;
    }
    const char *problem = hub_provider_resolve(&o->ps);
    if (problem != NULL) {
        *status = hc_usage(CMD, "%s", problem);
        return false;
    }
    if (o->label == NULL)
        o->label = "default";
    return hc_cred_opts(CMD, o->label, o->weight_s, &o->weight, status);
}

/* Audits "provider add": the provider's settings and its first credential (sealed). */
static bool audit_add(hubctl *h, const add_opts *o, long long pid, long long cid, int key_id)
{
    hub_jobj after;
    hub_jobj_begin(&after);
    hub_jobj_int(&after, "id", pid);
    hub_jobj_str(&after, "type", o->ps.type);
    hub_jobj_str(&after, "preset", o->ps.preset);
    hub_jobj_str(&after, "base_url", o->ps.url);
    hub_jobj_bool(&after, "internal", o->ps.internal);
    hub_jobj_str(&after, "auth_header", o->ps.auth_header);
    hub_jobj_str(&after, "api_version", o->ps.api_version);
    hub_jobj_bool(&after, "enabled", true);
    hub_jobj_int(&after, "credential_id", cid);
    hub_jobj_str(&after, "credential_label", o->label);
    hub_jobj_int(&after, "credential_weight", o->weight);
    hub_jobj_str(&after, "secret", HC_SEALED);
    hub_jobj_int(&after, "key_id", key_id);
    bool ok = hc_audit(h, "provider.add", "provider", o->name, NULL, &after);
    hub_jobj_free(&after);
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
    long long pid = 0, cid = 0;

    memset(&o, 0, sizeof(o));
    memset(&kr, 0, sizeof(kr));
    memset(secret, 0, sizeof(secret));
    if (!parse_add(argc, argv, &o, &status))
        return status;
    if (!hc_keyring_load(h, &kr) || hc_db(h) == NULL ||
        !hc_read_provider_key(o.ps.key_optional, secret, sizeof(secret), &slen))
        goto end;
    if (!hc_tx_begin(h))
        goto end;
    if (!hc_lookup_id(h, SQL_FIND, o.name, &pid))
        goto end;
    if (pid != 0) {
        hc_err("provider '%s' already exists (more keys: 'hubctl credential add %s')", o.name,
               o.name);
        goto end;
    }
    hub_dbp pp[7] = {DB_STR(o.name),          DB_STR(o.ps.type),   DB_STR(o.ps.url),
                     DB_INT(o.ps.internal),   DB_STR(o.ps.preset), DB_STR(o.ps.auth_header),
                     DB_STR(o.ps.api_version)};
    if (!hc_exec(h, SQL_INSERT, pp, 7, NULL, NULL, &pid))
        goto end;
    if (!hc_cred_add(h, &kr, pid, o.name, &o.label, NULL, 0, o.weight, secret, slen, &cid, &key_id))
        goto end;
    explicit_bzero(secret, sizeof(secret));
    if (!audit_add(h, &o, pid, cid, key_id))
        goto end;
    if (!hc_tx_commit(h))
        goto end;
    printf("added provider %s (%s%s%s, %s%s); credential %s (id %lld) sealed with master key %d\n",
           o.name, o.ps.type, o.ps.preset != NULL ? ", preset " : "",
           o.ps.preset != NULL ? o.ps.preset : "", o.ps.url, o.ps.internal ? ", internal" : "",
           o.label, cid, key_id);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(secret, sizeof(secret));
    hub_keyring_wipe(&kr);
    return status;
}

/* A row of "provider list": yes/no, credentials active/total and the problems. */
static void list_cells(const hub_dbres *r, int i, const char **cells, char (*buf)[HC_CELL_MAX])
{
    long long active = hc_llval(hub_dbres_get(r, i, 5));
    const char *listed = hub_dbres_get(r, i, 8);
    bool enabled = hub_dbres_int(r, i, 4, 0) != 0;
    snprintf(buf[5], HC_CELL_MAX, "%lld/%lld", active, hc_llval(hub_dbres_get(r, i, 6)));
    if (enabled && active == 0)
        snprintf(buf[7], HC_CELL_MAX, "no active credential%s%s", listed != NULL ? "; " : "",
                 listed != NULL ? listed : "");
    else
        snprintf(buf[7], HC_CELL_MAX, "%s", listed != NULL ? listed : "-");
    cells[4] = enabled ? "yes" : "no";
    cells[5] = buf[5];
    cells[6] = hub_dbres_int(r, i, 7, 0) ? "yes" : "no";
    cells[7] = buf[7];
}

static int provider_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME",    "TYPE",        "PRESET",   "BASE_URL",
                                        "ENABLED", "CREDENTIALS", "INTERNAL", "PROBLEMS"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    if (!hc_simple_args(argc, argv, "provider list", LIST_HELP, 0, "", &pos, &status))
        return status;
    return hc_list(h, SQL_LIST, NULL, 0, 8, HEADS, 0, list_cells);
}

static int set_enabled(hubctl *h, int argc, char **argv, bool on)
{
    const char *cmd = on ? "provider enable" : "provider disable";
    const char *word = on ? "enabled" : "disabled";
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r = {0};
    hub_jobj before, after;
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
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
    hub_jobj_bool(&before, "enabled", !on);
    hub_jobj_bool(&after, "enabled", on);
    if (!hc_audit(h, on ? "provider.enable" : "provider.disable", "provider", name, &before,
                  &after) ||
        !hc_tx_commit(h))
        goto end;
    printf("provider %s %s\n", name, word);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
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
