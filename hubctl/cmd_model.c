/*
 * cmd_model.c — "hubctl model add|list|remove": the routing table from the model names
 * clients send to the providers that serve them and the providers' own model names.
 *
 * A model name may have several rows, one per provider; the gateway tries them in
 * priority order (lower first), then the fallbacks ("provider/model", comma-separated)
 * of the first row. "model add" with a NAME and PROVIDER that already have a row updates
 * that row: only the options given change. The gateway also routes "PROVIDER/MODEL"
 * without any row. Names are restricted to a conservative character set so that they
 * are safe in URLs, logs and globs.
 */
#include "hubctl.h"

#include <string.h>

static const char ADD_HELP[] =
    "usage: hubctl model add NAME --provider PROVIDER [--upstream-model MODEL]\n"
    "                             [--kind chat|embedding|image] [--priority N]\n"
    "                             [--fallback PROVIDER/MODEL,...]\n\n"
    "Routes the model name NAME to PROVIDER. Several providers may serve one NAME (one row\n"
    "each): the gateway tries them by priority, lower first, then the fallbacks of the\n"
    "first row. With a NAME and PROVIDER that already have a row, the row is updated:\n"
    "only the options given change.\n\n"
    "  NAME                    up to 191 characters of A-Z a-z 0-9 . _ : @ / - (no \"..\")\n"
    "  --provider PROVIDER     a provider added with 'hubctl provider add'\n"
    "  --upstream-model MODEL  the provider's name for the model (default: NAME)\n"
    "  --kind KIND             chat (default), embedding or image; every row of a NAME\n"
    "                          has the same kind\n"
    "  --priority N            -1000000..1000000, lower is tried first (default: 0 for the\n"
    "                          first row of NAME, else one more than the highest so far)\n"
    "  --fallback LIST         comma-separated PROVIDER/MODEL routes tried after the rows of\n"
    "                          NAME (used from the first row); each provider must exist,\n"
    "                          MODEL is the provider's own name; \"\" clears the list\n"
    "  --help                  show this help\n\n"
    "example:\n"
    "  hubctl model add gpt-4o --provider openai --priority 0 \\\n"
    "      --fallback az/gpt-4o,openrouter/openai/gpt-4o\n"
    "  hubctl model add gpt-4o --provider az --priority 1\n";

static const char LIST_HELP[] = "usage: hubctl model list\n\n"
                                "Lists model routes in the order the gateway tries them: name,\n"
                                "provider, upstream model, kind, priority, fallbacks, enabled.\n";

static const char REMOVE_HELP[] =
    "usage: hubctl model remove NAME [--provider PROVIDER]\n\n"
    "Removes the route of NAME through PROVIDER, or without --provider every route of\n"
    "NAME. Clients can still reach a model as PROVIDER/MODEL.\n";

static const char SQL_PROVIDER[] = "SELECT id FROM providers WHERE name = ?";
static const char SQL_ROW[] = "SELECT id, upstream_model, kind, priority, fallbacks FROM models "
                              "WHERE name = ? AND provider_id = ? FOR UPDATE";
static const char SQL_INSERT[] = "INSERT INTO models (name, provider_id, upstream_model, kind, "
                                 "priority, fallbacks) VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_UPDATE[] = "UPDATE models SET upstream_model = ?, kind = ?, priority = ?, "
                                 "fallbacks = ? WHERE id = ?";
static const char SQL_LIST[] =
    "SELECT m.name, p.name, m.upstream_model, m.kind, m.priority, m.fallbacks, m.enabled "
    "FROM models m JOIN providers p ON p.id = m.provider_id ORDER BY m.name, m.priority, p.name";
static const char SQL_ROUTES[] =
    "SELECT m.id, p.name, m.upstream_model, m.kind, m.priority, m.fallbacks, m.enabled "
    "FROM models m JOIN providers p ON p.id = m.provider_id "
    "WHERE m.name = ? AND (? IS NULL OR p.name = ?) ORDER BY m.priority, p.name FOR UPDATE";
static const char SQL_DELETE_ID[] = "DELETE FROM models WHERE id = ?";

/* The options of "model add", borrowed from argv. */
typedef struct {
    const char *name, *provider, *upstream, *kind, *priority_s, *fallback;
    long priority;
} add_opts;

/*
 * Checks the --fallback list (hub_fallbacks_normalize: PROVIDER/MODEL entries, at most
 * HUB_FALLBACK_ITEMS, no duplicates) and that every provider named exists, and writes it
 * normalised (no spaces, "" when empty) to out. Returns HC_EXIT_OK, or the exit status
 * after printing what is wrong.
 */
static int fallbacks_check(hubctl *h, const char *list, char *out, size_t outsz)
{
    char err[512];
    if (!hub_fallbacks_normalize(list, out, outsz, err, sizeof(err)))
        return hc_usage("model add", "%s", err);
    hub_err e = hub_fallbacks_check(h->db, list, out, outsz, err, sizeof(err));
    if (e == HUB_OK)
        return HC_EXIT_OK;
    hc_err("%s%s", err, e == HUB_EINVAL ? " (see 'hubctl provider list')" : "");
    return HC_EXIT_FAIL;
}

/* Parses "model add" into o. true to go on; false with *status set. */
static bool parse_add(int argc, char **argv, add_opts *o, int *status)
{
    static const char CMD[] = "model add";
    const hc_opt opts[] = {
        {"provider", &o->provider, NULL}, {"upstream-model", &o->upstream, NULL},
        {"kind", &o->kind, NULL},         {"priority", &o->priority_s, NULL},
        {"fallback", &o->fallback, NULL},
    };
    hc_pos pos;
    if (!hc_args(argc, argv, CMD, ADD_HELP, opts, 5, 1, "NAME", &pos, status))
        return false;
    o->name = pos.v[0];
    if (!hub_model_name_ok(o->name))
        *status = hc_usage(CMD, "model names are up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
                                "without \"..\"");
    else if (o->upstream != NULL && !hub_model_name_ok(o->upstream))
        *status = hc_usage(CMD, "--upstream-model must be up to 191 characters of "
                                "A-Z a-z 0-9 . _ : @ / - without \"..\"");
    else if (o->provider == NULL)
        *status = hc_usage(CMD, "--provider is required");
    else if (!hub_name_ok(o->provider, 64, HUB_CHARS_PROVIDER))
        *status = hc_usage(CMD, "--provider is not a valid provider name");
    else if (o->kind != NULL && !hub_model_kind_ok(o->kind))
        *status = hc_usage(CMD, "--kind must be chat, embedding or image");
    else if (o->priority_s != NULL &&
             !hub_int_ok(o->priority_s, HUB_PRIORITY_MIN, HUB_PRIORITY_MAX, &o->priority))
        *status = hc_usage(CMD, "--priority must be a whole number from %ld to %ld",
                           HUB_PRIORITY_MIN, HUB_PRIORITY_MAX);
    else
        return true;
    return false;
}

/* Writes the fields of a route to j (the provider and the model name are the target). */
static void route_json(hub_jobj *j, const char *provider, const char *upstream, const char *kind,
                       long long priority, const char *fallbacks)
{
    hub_jobj_str(j, "provider", provider);
    hub_jobj_str(j, "upstream_model", upstream);
    hub_jobj_str(j, "kind", kind);
    hub_jobj_int(j, "priority", priority);
    hub_jobj_str(j, "fallbacks", fallbacks);
}

/* Warnings about the order of o's row among the other rows of its name (others: name,
 * kind, priority of every other row, by priority). */
static void order_notes(const add_opts *o, const hub_dbres *others, long priority,
                        const char *fallbacks)
{
    for (int i = 0; i < others->nrows; i++) {
        long long p = hub_dbres_int(others, i, 2, 0);
        if (p == priority)
            hc_err("warning: %s through %s has the same priority %ld; their order is "
                   "unspecified",
                   o->name, hub_dbres_get(others, i, 0), priority);
    }
    if (fallbacks != NULL && others->nrows > 0 && hub_dbres_int(others, 0, 2, 0) < priority)
        hc_err("note: only the fallbacks of the first row of %s (now %s) are used", o->name,
               hub_dbres_get(others, 0, 0));
}

static int model_add(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    add_opts o;
    hub_dbres row = {0}, others = {0};
    char fb[HUB_FALLBACKS_MAX + 1];
    char msg[512];
    long long pid = 0, mid = 0;
    hub_jobj before, after;

    memset(&o, 0, sizeof(o));
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    if (!parse_add(argc, argv, &o, &status))
        goto end;
    status = HC_EXIT_FAIL;
    if (!hc_lookup_id(h, SQL_PROVIDER, o.provider, &pid))
        goto end;
    if (pid == 0) {
        hc_err("no provider named '%s' (see 'hubctl provider list')", o.provider);
        goto end;
    }
    if (o.fallback != NULL) {
        status = fallbacks_check(h, o.fallback, fb, sizeof(fb));
        if (status != HC_EXIT_OK)
            goto end;
        status = HC_EXIT_FAIL;
    }
    if (!hc_tx_begin(h))
        goto end;
    hub_dbp rp[2] = {DB_STR(o.name), DB_INT(pid)};
    if (!hc_exec(h, SQL_ROW, rp, 2, &row, NULL, NULL))
        goto end;
    if (!hub_route_others(h->db, o.name, pid, &others)) {
        hc_err("database error: %s", hub_db_error(h->db));
        goto end;
    }
    bool exists = row.nrows > 0;
    if (exists) {
        mid = hub_dbres_int(&row, 0, 0, 0);
        if (o.upstream == NULL)
            o.upstream = hub_dbres_get(&row, 0, 1);
        if (o.kind == NULL)
            o.kind = hub_dbres_get(&row, 0, 2);
        if (o.priority_s == NULL)
            o.priority = (long)hub_dbres_int(&row, 0, 3, 0);
    } else {
        hub_route_new_defaults(&others, o.name, &o.upstream, &o.kind, &o.priority,
                               o.priority_s != NULL);
    }
    if (hub_route_kind_clash(&others, o.name, o.kind, msg, sizeof(msg)) != NULL) {
        hc_err("%s", msg);
        goto end;
    }
    const char *fallbacks = o.fallback != NULL ? (fb[0] != '\0' ? fb : NULL)
                                               : (exists ? hub_dbres_get(&row, 0, 4) : NULL);
    if (exists)
        route_json(&before, o.provider, hub_dbres_get(&row, 0, 1), hub_dbres_get(&row, 0, 2),
                   hub_dbres_int(&row, 0, 3, 0), hub_dbres_get(&row, 0, 4));
    route_json(&after, o.provider, o.upstream, o.kind, o.priority, fallbacks);
    if (exists) {
        hub_dbp up[5] = {DB_STR(o.upstream), DB_STR(o.kind), DB_INT(o.priority), DB_STR(fallbacks),
                         DB_INT(mid)};
        if (!hc_exec(h, SQL_UPDATE, up, 5, NULL, NULL, NULL))
            goto end;
    } else {
        hub_dbp ip[6] = {DB_STR(o.name), DB_INT(pid),        DB_STR(o.upstream),
                         DB_STR(o.kind), DB_INT(o.priority), DB_STR(fallbacks)};
        if (!hc_exec(h, SQL_INSERT, ip, 6, NULL, NULL, NULL))
            goto end;
    }
    if (!hc_audit(h, exists ? "model.update" : "model.add", "model", o.name,
                  exists ? &before : NULL, &after) ||
        !hc_tx_commit(h))
        goto end;
    printf("%s model %s -> %s/%s (%s, priority %ld, fallbacks %s)\n", exists ? "updated" : "added",
           o.name, o.provider, o.upstream, o.kind, o.priority, fallbacks != NULL ? fallbacks : "-");
    order_notes(&o, &others, o.priority, fallbacks);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&row);
    hub_dbres_free(&others);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return status;
}

/* A row of "model list": enabled as yes/no. */
static void list_cells(const hub_dbres *r, int i, const char **cells, char (*buf)[HC_CELL_MAX])
{
    (void)buf;
    cells[6] = hub_dbres_int(r, i, 6, 0) ? "yes" : "no";
}

static int model_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME",     "PROVIDER",  "UPSTREAM_MODEL", "KIND",
                                        "PRIORITY", "FALLBACKS", "ENABLED"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    if (!hc_simple_args(argc, argv, "model list", LIST_HELP, 0, "", &pos, &status))
        return status;
    return hc_list(h, SQL_LIST, NULL, 0, 7, HEADS, 0x10u, list_cells);
}

static int model_remove(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "model remove";
    int status = HC_EXIT_USAGE;
    hc_pos pos;
    const char *provider = NULL;
    hub_dbres r = {0};
    const hc_opt opts[] = {{"provider", &provider, NULL}};

    if (!hc_args(argc, argv, CMD, REMOVE_HELP, opts, 1, 1, "NAME", &pos, &status))
        return status;
    status = HC_EXIT_FAIL;
    const char *name = pos.v[0];
    hub_dbp p[3] = {DB_STR(name), DB_STR(provider), DB_STR(provider)};
    if (!hc_tx_begin(h) || !hc_exec(h, SQL_ROUTES, p, 3, &r, NULL, NULL))
        goto end;
    if (r.nrows == 0) {
        if (provider != NULL)
            hc_err("model '%s' has no route through provider '%s'", name, provider);
        else
            hc_err("no model named '%s'", name);
        goto end;
    }
    /* one audit row per route removed */
    for (int i = 0; i < r.nrows; i++) {
        hub_jobj before;
        long long n = 0;
        hub_dbp d[1] = {DB_INT(hub_dbres_int(&r, i, 0, 0))};
        if (!hc_exec(h, SQL_DELETE_ID, d, 1, NULL, &n, NULL))
            goto end;
        hub_jobj_begin(&before);
        route_json(&before, hub_dbres_get(&r, i, 1), hub_dbres_get(&r, i, 2),
                   hub_dbres_get(&r, i, 3), hub_dbres_int(&r, i, 4, 0), hub_dbres_get(&r, i, 5));
        hub_jobj_bool(&before, "enabled", hub_dbres_int(&r, i, 6, 0) != 0);
        bool ok = n == 1 && hc_audit(h, "model.remove", "model", name, &before, NULL);
        hub_jobj_free(&before);
        if (!ok) {
            if (n != 1)
                hc_err("a route of model '%s' changed meanwhile; nothing was removed", name);
            goto end;
        }
    }
    if (!hc_tx_commit(h))
        goto end;
    if (provider != NULL)
        printf("removed model %s through %s\n", name, provider);
    else
        printf("removed model %s (%d route%s)\n", name, r.nrows, r.nrows == 1 ? "" : "s");
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    return status;
}

int hc_model_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"add", model_add, "route a model name to a provider, or update that route"},
        {"list", model_list, "list model routes in the order they are tried"},
        {"remove", model_remove, "remove a model's routes"},
    };
    return hc_dispatch(h, "model", "Model routes: the names clients use, mapped to providers.",
                       CMDS, sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
