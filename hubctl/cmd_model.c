/*
 * cmd_model.c — "hubctl model add|list|remove": the routing table from the model names
 * clients send to a provider and the provider's own model name.
 *
 * A model row is what lets a client say "gpt-4o" instead of "openai/gpt-4o"; the gateway
 * also routes "PROVIDER/MODEL" without any row. Names are restricted to a conservative
 * character set so that they are safe in URLs, logs and globs.
 */
#include "hubctl.h"

#include <getopt.h>
#include <string.h>

static const char ADD_HELP[] =
    "usage: hubctl model add NAME --provider PROVIDER [--upstream-model MODEL]\n"
    "                             [--kind chat|embedding|image]\n\n"
    "Routes the model name NAME to PROVIDER.\n\n"
    "  NAME                    up to 191 characters of A-Z a-z 0-9 . _ : @ / - (no \"..\")\n"
    "  --provider PROVIDER     a provider added with 'hubctl provider add'\n"
    "  --upstream-model MODEL  the provider's name for the model (default: NAME)\n"
    "  --kind KIND             chat (default), embedding or image\n"
    "  --help                  show this help\n";

static const char LIST_HELP[] = "usage: hubctl model list\n\n"
                                "Lists model routes: name, provider, upstream model, kind, "
                                "enabled.\n";

static const char REMOVE_HELP[] = "usage: hubctl model remove NAME\n\n"
                                  "Removes a model route. Clients can still reach the model as "
                                  "PROVIDER/MODEL.\n";

static const char SQL_PROVIDER[] = "SELECT id FROM providers WHERE name = ?";
static const char SQL_FIND[] = "SELECT id FROM models WHERE name = ?";
static const char SQL_INSERT[] =
    "INSERT INTO models (name, provider_id, upstream_model, kind) VALUES (?, ?, ?, ?)";
static const char SQL_LIST[] =
    "SELECT m.name, p.name, m.upstream_model, m.kind, m.enabled FROM models m "
    "JOIN providers p ON p.id = m.provider_id ORDER BY m.name";
static const char SQL_DELETE[] = "DELETE FROM models WHERE name = ?";

static bool kind_ok(const char *k)
{
    return strcmp(k, "chat") == 0 || strcmp(k, "embedding") == 0 || strcmp(k, "image") == 0;
}

static int model_add(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "model add";
    static const struct option OPTS[] = {
        {"provider", required_argument, NULL, 'p'},
        {"upstream-model", required_argument, NULL, 'u'},
        {"kind", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int status = HC_EXIT_FAIL;
    const char *provider = NULL, *upstream = NULL, *kind = "chat";
    hc_pos pos = {0};
    long long pid = 0, mid = 0;

    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 1:
            hc_pos_add(&pos, optarg);
            break;
        case 'p':
            provider = optarg;
            break;
        case 'u':
            upstream = optarg;
            break;
        case 'k':
            kind = optarg;
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
    if (upstream == NULL)
        upstream = name;
    if (!hc_model_name_ok(name))
        return hc_usage(CMD, "model names are up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
                             "without \"..\"");
    if (!hc_model_name_ok(upstream))
        return hc_usage(CMD, "--upstream-model must be up to 191 characters of "
                             "A-Z a-z 0-9 . _ : @ / - without \"..\"");
    if (provider == NULL)
        return hc_usage(CMD, "--provider is required");
    if (!hc_name_ok(provider, 64, HC_CHARS_PROVIDER))
        return hc_usage(CMD, "--provider is not a valid provider name");
    if (!kind_ok(kind))
        return hc_usage(CMD, "--kind must be chat, embedding or image");

    if (!hc_lookup_id(h, SQL_PROVIDER, provider, &pid))
        return HC_EXIT_FAIL;
    if (pid == 0) {
        hc_err("no provider named '%s' (see 'hubctl provider list')", provider);
        return HC_EXIT_FAIL;
    }
    if (!hc_lookup_id(h, SQL_FIND, name, &mid))
        return HC_EXIT_FAIL;
    if (mid != 0) {
        hc_err("model '%s' already exists (remove it first to change it)", name);
        return HC_EXIT_FAIL;
    }
    hub_dbp p[4] = {DB_STR(name), DB_INT(pid), DB_STR(upstream), DB_STR(kind)};
    if (!hc_exec(h, SQL_INSERT, p, 4, NULL, NULL, NULL))
        return HC_EXIT_FAIL;
    printf("added model %s -> %s/%s (%s)\n", name, provider, upstream, kind);
    return HC_EXIT_OK;
}

static int model_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME", "PROVIDER", "UPSTREAM_MODEL", "KIND", "ENABLED"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r;
    hc_table t;
    if (!hc_simple_args(argc, argv, "model list", LIST_HELP, 0, "", &pos, &status))
        return status;
    if (!hc_exec(h, SQL_LIST, NULL, 0, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    hc_table_init(&t, 5, HEADS, 0);
    for (int i = 0; i < r.nrows; i++) {
        const char *row[5] = {hub_dbres_get(&r, i, 0), hub_dbres_get(&r, i, 1),
                              hub_dbres_get(&r, i, 2), hub_dbres_get(&r, i, 3),
                              hub_dbres_int(&r, i, 4, 0) ? "yes" : "no"};
        hc_table_add(&t, row);
    }
    if (hc_table_print(&t, stdout))
        status = HC_EXIT_OK;
    hc_table_free(&t);
    hub_dbres_free(&r);
    return status;
}

static int model_remove(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    long long n = 0;
    if (!hc_simple_args(argc, argv, "model remove", REMOVE_HELP, 1, "NAME", &pos, &status))
        return status;
    hub_dbp p[1] = {DB_STR(pos.v[0])};
    if (!hc_exec(h, SQL_DELETE, p, 1, NULL, &n, NULL))
        return HC_EXIT_FAIL;
    if (n == 0) {
        hc_err("no model named '%s'", pos.v[0]);
        return HC_EXIT_FAIL;
    }
    printf("removed model %s\n", pos.v[0]);
    return HC_EXIT_OK;
}

int hc_model_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"add", model_add, "route a model name to a provider"},
        {"list", model_list, "list model routes"},
        {"remove", model_remove, "remove a model route"},
    };
    return hc_dispatch(h, "model", "Model routes: the names clients use, mapped to providers.",
                       CMDS, sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
