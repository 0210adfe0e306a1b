/*
 * cmd_credential.c — "hubctl credential add|list|disable|enable|remove": the API keys of a
 * provider beyond the first one, which the gateway picks by weight among the active ones
 * that are not in cooldown.
 *
 * "credential add" reads the key from stdin like "provider add" and stores it sealed in
 * one transaction (util_cred.c), with the provider row locked so that two concurrent adds
 * cannot pick the same default label. The list shows labels, weights, states, the
 * gateway's last error and cooldown and the master key id — never the secret, which this
 * file never decrypts. A credential is named by its provider and label.
 */
#include "hubctl.h"

#include <string.h>

static const char ADD_HELP[] =
    "usage: hubctl credential add PROVIDER [--label L] [--weight N] < KEYFILE\n\n"
    "Adds one more API key to a provider. The key is read from the first line of stdin\n"
    "(a hidden prompt on a terminal), sealed with the master key and never printed. For\n"
    "a provider added with --preset ollama the key is optional (empty stdin stores\n"
    "\"ollama\").\n\n"
    "  PROVIDER     a provider added with 'hubctl provider add'\n"
    "  --label L    a name for the key, unique per provider: 1-64 characters of\n"
    "               A-Z a-z 0-9 . _ : @ - (default: key-<n>, the first free n from the\n"
    "               number of credentials + 1)\n"
    "  --weight N   share of requests among the provider's active keys, 1-1000 (default 1)\n"
    "  --help       show this help\n";

static const char LIST_HELP[] =
    "usage: hubctl credential list [PROVIDER]\n\n"
    "Lists credentials (of every provider, or of PROVIDER): id, provider, label, weight,\n"
    "status, the gateway's last error, cooldown end (UTC, while in the future) and the\n"
    "master key id that sealed it. Secrets are never shown.\n";

static const char DISABLE_HELP[] =
    "usage: hubctl credential disable PROVIDER LABEL\n\n"
    "Disables one credential: the gateway stops using it. Its row and sealed key stay.\n";

static const char ENABLE_HELP[] =
    "usage: hubctl credential enable PROVIDER LABEL\n\n"
    "Enables one credential and clears its last error and cooldown: the gateway uses it\n"
    "again at once (e.g. after the key was renewed at the provider).\n";

static const char REMOVE_HELP[] =
    "usage: hubctl credential remove PROVIDER LABEL\n\n"
    "Deletes one credential and its sealed key. Removing the last active credential of an\n"
    "enabled provider is allowed (with a warning): its models then answer 503.\n";

static const char SQL_PROVIDER[] = "SELECT id, preset FROM providers WHERE name = ?";
static const char SQL_LOCK[] = "SELECT id FROM providers WHERE name = ? FOR UPDATE";
static const char SQL_FIND[] =
    "SELECT c.id, c.status, p.enabled, c.weight, c.key_id FROM credentials c "
    "JOIN providers p ON p.id = c.provider_id WHERE p.name = ? AND c.label = ? FOR UPDATE";
static const char SQL_COUNTS[] =
    "SELECT COUNT(*), COALESCE(SUM(c.status = 'active'), 0) FROM credentials c "
    "JOIN providers p ON p.id = c.provider_id WHERE p.name = ?";
static const char SQL_DISABLE[] = "UPDATE credentials SET status = 'disabled' WHERE id = ?";
static const char SQL_ENABLE[] = "UPDATE credentials SET status = 'active', last_error = NULL, "
                                 "cooldown_until = NULL WHERE id = ?";
static const char SQL_DELETE[] = "DELETE FROM credentials WHERE id = ?";

#define LIST_COLS                                                                                  \
    "SELECT c.id, p.name, c.label, c.weight, c.status, c.last_error, "                             \
    "IF(c.cooldown_until > UTC_TIMESTAMP(3), "                                                     \
    "DATE_FORMAT(c.cooldown_until, '%Y-%m-%d %H:%i:%s'), NULL), c.key_id "                         \
    "FROM credentials c JOIN providers p ON p.id = c.provider_id "
static const char SQL_LIST_ALL[] = LIST_COLS "ORDER BY p.name, c.label";
static const char SQL_LIST_ONE[] = LIST_COLS "WHERE p.name = ? ORDER BY c.label";

/* "PROVIDER/LABEL", the audit target of a credential, into out. */
static void cred_target(const char *provider, const char *label, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%s", provider, label);
}

static int cred_add(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "credential add";
    int status = HC_EXIT_FAIL;
    const char *label = NULL, *weight_s = NULL;
    const hc_opt opts[] = {{"label", &label, NULL}, {"weight", &weight_s, NULL}};
    long weight = 1;
    hc_pos pos;
    hub_keyring kr;
    hub_dbres r = {0};
    char secret[HC_SECRET_MAX + 3]; /* wiped at end */
    char label_buf[64];
    char target[160];
    hub_jobj after;
    size_t slen = 0;
    long long pid = 0, locked = 0, cid = 0;
    int key_id = 0;

    memset(&kr, 0, sizeof(kr));
    memset(secret, 0, sizeof(secret));
    hub_jobj_begin(&after);
    if (!hc_args(argc, argv, CMD, ADD_HELP, opts, 2, 1, "PROVIDER", &pos, &status))
        goto end;
    const char *provider = pos.v[0];
    if (!hub_name_ok(provider, 64, HUB_CHARS_PROVIDER)) {
        status = hc_usage(CMD, "PROVIDER is not a valid provider name");
        goto end;
    }
    if (!hc_cred_opts(CMD, label, weight_s, &weight, &status))
        goto end;
    status = HC_EXIT_FAIL;

    if (!hc_keyring_load(h, &kr))
        goto end;
    hub_dbp pp[1] = {DB_STR(provider)};
    if (!hc_exec(h, SQL_PROVIDER, pp, 1, &r, NULL, NULL))
        goto end;
    if (r.nrows == 0) {
        hc_err("no provider named '%s' (see 'hubctl provider list')", provider);
        goto end;
    }
    pid = hub_dbres_int(&r, 0, 0, 0);
    const char *preset = hub_dbres_get(&r, 0, 1);
    if (!hc_read_provider_key(preset != NULL && strcmp(preset, "ollama") == 0, secret,
                              sizeof(secret), &slen))
        goto end;
    if (!hc_tx_begin(h))
        goto end;
    if (!hc_lookup_id(h, SQL_LOCK, provider, &locked))
        goto end;
    if (locked != pid) {
        hc_err("provider '%s' was removed or replaced meanwhile; nothing was added", provider);
        goto end;
    }
    if (!hc_cred_add(h, &kr, pid, provider, &label, label_buf, sizeof(label_buf), weight, secret,
                     slen, &cid, &key_id))
        goto end;
    explicit_bzero(secret, sizeof(secret));
    cred_target(provider, label, target, sizeof(target));
    hub_jobj_int(&after, "id", cid);
    hub_jobj_int(&after, "weight", weight);
    hub_jobj_str(&after, "status", "active");
    hub_jobj_str(&after, "secret", HC_SEALED);
    hub_jobj_int(&after, "key_id", key_id);
    if (!hc_audit(h, "credential.add", "credential", target, NULL, &after))
        goto end;
    if (!hc_tx_commit(h))
        goto end;
    printf("added credential %s (id %lld, weight %ld) to provider %s; sealed with master key %d\n",
           label, cid, weight, provider, key_id);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(secret, sizeof(secret));
    hub_dbres_free(&r);
    hub_keyring_wipe(&kr);
    hub_jobj_free(&after);
    return status;
}

static int cred_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"ID",     "PROVIDER",   "LABEL",          "WEIGHT",
                                        "STATUS", "LAST_ERROR", "COOLDOWN_UNTIL", "KEY_ID"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    long long pid = 0;

    if (!hc_simple_args(argc, argv, "credential list", LIST_HELP, -1, "", &pos, &status))
        return status;
    if (pos.n == 0)
        return hc_list(h, SQL_LIST_ALL, NULL, 0, 8, HEADS, 0x1u | 0x8u | 0x80u, NULL);
    if (!hc_lookup_id(h, SQL_PROVIDER, pos.v[0], &pid))
        return HC_EXIT_FAIL;
    if (pid == 0) {
        hc_err("no provider named '%s' (see 'hubctl provider list')", pos.v[0]);
        return HC_EXIT_FAIL;
    }
    hub_dbp p[1] = {DB_STR(pos.v[0])};
    return hc_list(h, SQL_LIST_ONE, p, 1, 8, HEADS, 0x1u | 0x8u | 0x80u, NULL);
}

/* Warns on stderr when the enabled provider has no (active) credential left. */
static void warn_if_unusable(hubctl *h, const char *provider)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_STR(provider)};
    if (!hc_exec(h, SQL_COUNTS, p, 1, &r, NULL, NULL))
        return;
    long long total = hub_dbres_int(&r, 0, 0, 0), active = hub_dbres_int(&r, 0, 1, 0);
    if (total == 0)
        hc_err("warning: provider %s has no credential left; its models answer 503 until "
               "'hubctl credential add %s'",
               provider, provider);
    else if (active == 0)
        hc_err("warning: provider %s has no active credential left; its models answer 503 "
               "until one is enabled or added",
               provider);
    hub_dbres_free(&r);
}

typedef enum { OP_DISABLE, OP_ENABLE, OP_REMOVE } cred_op;

static int cred_change(hubctl *h, int argc, char **argv, cred_op op)
{
    static const char *const CMDS[] = {"credential disable", "credential enable",
                                       "credential remove"};
    static const char *const HELPS[] = {DISABLE_HELP, ENABLE_HELP, REMOVE_HELP};
    static const char *const SQLS[] = {SQL_DISABLE, SQL_ENABLE, SQL_DELETE};
    static const char *const DONE[] = {"disabled", "enabled (last error and cooldown cleared)",
                                       "removed"};
    static const char *const ACTIONS[] = {"credential.disable", "credential.enable",
                                          "credential.remove"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r = {0};
    long long n = 0;
    char target[160];
    hub_jobj before, after;

    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    if (!hc_simple_args(argc, argv, CMDS[op], HELPS[op], 2, "PROVIDER and LABEL", &pos, &status))
        goto end;
    status = HC_EXIT_FAIL;
    const char *provider = pos.v[0], *label = pos.v[1];
    hub_dbp fp[2] = {DB_STR(provider), DB_STR(label)};
    if (!hc_tx_begin(h) || !hc_exec(h, SQL_FIND, fp, 2, &r, NULL, NULL))
        goto end;
    if (r.nrows == 0) {
        hc_err("provider '%s' has no credential labelled '%s' (see 'hubctl credential list %s')",
               provider, label, provider);
        goto end;
    }
    long long cid = hub_dbres_int(&r, 0, 0, 0);
    bool provider_on = hub_dbres_int(&r, 0, 2, 0) != 0;
    const char *cur = hub_dbres_get(&r, 0, 1);
    if (op == OP_DISABLE && cur != NULL && strcmp(cur, "disabled") == 0) {
        printf("credential %s of provider %s was already disabled\n", label, provider);
        status = HC_EXIT_OK;
        goto end;
    }
    hub_dbp up[1] = {DB_INT(cid)};
    if (!hc_exec(h, SQLS[op], up, 1, NULL, &n, NULL))
        goto end;
    if (n == 0 && op == OP_REMOVE) {
        hc_err("credential %s of provider %s was removed meanwhile", label, provider);
        goto end;
    }
    cred_target(provider, label, target, sizeof(target));
    hub_jobj_int(&before, "id", cid);
    hub_jobj_raw(&before, "weight", hub_dbres_get(&r, 0, 3));
    hub_jobj_str(&before, "status", cur);
    hub_jobj_str(&before, "secret", HC_SEALED);
    hub_jobj_raw(&before, "key_id", hub_dbres_get(&r, 0, 4));
    hub_jobj_str(&after, "status", op == OP_DISABLE ? "disabled" : "active");
    if (!hc_audit(h, ACTIONS[op], "credential", target, &before, op == OP_REMOVE ? NULL : &after) ||
        !hc_tx_commit(h))
        goto end;
    printf("credential %s (id %lld) of provider %s %s\n", label, cid, provider, DONE[op]);
    if (op != OP_ENABLE && provider_on)
        warn_if_unusable(h, provider);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return status;
}

static int cred_disable(hubctl *h, int argc, char **argv)
{
    return cred_change(h, argc, argv, OP_DISABLE);
}

static int cred_enable(hubctl *h, int argc, char **argv)
{
    return cred_change(h, argc, argv, OP_ENABLE);
}

static int cred_remove(hubctl *h, int argc, char **argv)
{
    return cred_change(h, argc, argv, OP_REMOVE);
}

int hc_credential_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"add", cred_add, "add an API key to a provider; read from stdin"},
        {"list", cred_list, "list credentials (never their secrets)"},
        {"disable", cred_disable, "stop using one credential"},
        {"enable", cred_enable, "use a credential again; clears its error and cooldown"},
        {"remove", cred_remove, "delete one credential"},
    };
    return hc_dispatch(h, "credential", "A provider's API keys, sealed with the master key.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
