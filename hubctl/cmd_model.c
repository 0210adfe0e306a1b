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

#include <getopt.h>
#include <string.h>

/* Longest fallbacks column value, and most entries in it. */
#define FALLBACKS_MAX  1024
#define FALLBACK_ITEMS 16
/* Priorities accepted by --priority. */
#define PRIORITY_MIN (-1000000L)
#define PRIORITY_MAX 1000000L

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
static const char SQL_OTHERS[] =
    "SELECT p.name, m.kind, m.priority FROM models m JOIN providers p ON p.id = m.provider_id "
    "WHERE m.name = ? AND m.provider_id <> ? ORDER BY m.priority, p.name FOR UPDATE";
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

static bool kind_ok(const char *k)
{
    return strcmp(k, "chat") == 0 || strcmp(k, "embedding") == 0 || strcmp(k, "image") == 0;
}

/* s with the spaces at both ends cut off (in place). */
static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

/*
 * Checks the --fallback list and writes it normalised (no spaces, "" when empty) to out
 * (FALLBACKS_MAX + 1 bytes). Every entry is PROVIDER/MODEL with an existing provider and
 * a valid model name, at most FALLBACK_ITEMS, no duplicates. Returns HC_EXIT_OK, or the
 * exit status after printing what is wrong.
 */
static int fallbacks_check(hubctl *h, const char *list, char *out)
{
    static const char CMD[] = "model add";
    char buf[FALLBACKS_MAX + 1];
    const char *prov[FALLBACK_ITEMS], *model[FALLBACK_ITEMS];
    int n = 0;
    size_t used = 0;

    out[0] = '\0';
    if (strlen(list) > FALLBACKS_MAX)
        return hc_usage(CMD, "--fallback is longer than %d characters", FALLBACKS_MAX);
    snprintf(buf, sizeof(buf), "%s", list);
    if (*trim(buf) == '\0')
        return HC_EXIT_OK;
    for (char *item = buf; item != NULL;) {
        char *comma = strchr(item, ',');
        if (comma != NULL)
            *comma = '\0';
        char *p = trim(item);
        char *slash = strchr(p, '/');
        if (*p == '\0')
            return hc_usage(CMD, "--fallback has an empty entry");
        if (slash == NULL)
            return hc_usage(CMD, "--fallback entry '%s' is not PROVIDER/MODEL", p);
        *slash = '\0';
        if (!hc_name_ok(p, 64, HC_CHARS_PROVIDER))
            return hc_usage(CMD, "--fallback entry '%s/...': not a valid provider name", p);
        if (!hc_model_name_ok(slash + 1))
            return hc_usage(CMD,
                            "--fallback entry '%s/%s': the model must be up to 191 "
                            "characters of A-Z a-z 0-9 . _ : @ / - without \"..\"",
                            p, slash + 1);
        if (n == FALLBACK_ITEMS)
            return hc_usage(CMD, "--fallback has more than %d entries", FALLBACK_ITEMS);
        for (int i = 0; i < n; i++) {
            if (strcmp(prov[i], p) == 0 && strcmp(model[i], slash + 1) == 0)
                return hc_usage(CMD, "--fallback lists %s/%s twice", p, slash + 1);
        }
        prov[n] = p;
        model[n] = slash + 1;
        n++;
        item = comma != NULL ? comma + 1 : NULL;
    }
    for (int i = 0; i < n; i++) {
        long long pid = 0;
        if (!hc_lookup_id(h, SQL_PROVIDER, prov[i], &pid))
            return HC_EXIT_FAIL;
        if (pid == 0) {
            hc_err("--fallback %s/%s: no provider named '%s' (see 'hubctl provider list')", prov[i],
                   model[i], prov[i]);
            return HC_EXIT_FAIL;
        }
        /* normalised text is never longer than the input, which fit in FALLBACKS_MAX */
        int w = snprintf(out + used, FALLBACKS_MAX + 1 - used, "%s%s/%s", i > 0 ? "," : "", prov[i],
                         model[i]);
        if (w < 0 || (size_t)w >= FALLBACKS_MAX + 1 - used)
            return hc_usage(CMD, "--fallback is longer than %d characters", FALLBACKS_MAX);
        used += (size_t)w;
    }
    return HC_EXIT_OK;
}

/* Parses "model add" into o. HC_EXIT_OK to go on, -1 when the help was shown, else a
 * usage status (message printed). */
static int parse_add(int argc, char **argv, add_opts *o)
{
    static const char CMD[] = "model add";
    static const struct option OPTS[] = {
        {"provider", required_argument, NULL, 'p'},
        {"upstream-model", required_argument, NULL, 'u'},
        {"kind", required_argument, NULL, 'k'},
        {"priority", required_argument, NULL, 'n'},
        {"fallback", required_argument, NULL, 'f'},
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
        case 'p':
            o->provider = optarg;
            break;
        case 'u':
            o->upstream = optarg;
            break;
        case 'k':
            o->kind = optarg;
            break;
        case 'n':
            o->priority_s = optarg;
            break;
        case 'f':
            o->fallback = optarg;
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
    if (!hc_model_name_ok(o->name))
        return hc_usage(CMD, "model names are up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
                             "without \"..\"");
    if (o->upstream != NULL && !hc_model_name_ok(o->upstream))
        return hc_usage(CMD, "--upstream-model must be up to 191 characters of "
                             "A-Z a-z 0-9 . _ : @ / - without \"..\"");
    if (o->provider == NULL)
        return hc_usage(CMD, "--provider is required");
    if (!hc_name_ok(o->provider, 64, HC_CHARS_PROVIDER))
        return hc_usage(CMD, "--provider is not a valid provider name");
    if (o->kind != NULL && !kind_ok(o->kind))
        return hc_usage(CMD, "--kind must be chat, embedding or image");
    if (o->priority_s != NULL &&
        !hc_parse_int(o->priority_s, PRIORITY_MIN, PRIORITY_MAX, &o->priority))
        return hc_usage(CMD, "--priority must be a whole number from %ld to %ld", PRIORITY_MIN,
                        PRIORITY_MAX);
    return HC_EXIT_OK;
}

/* Writes the fields of a route to j (the provider and the model name are the target). */
static void route_json(hc_json *j, const char *provider, const char *upstream, const char *kind,
                       long long priority, const char *fallbacks)
{
    hc_json_str(j, "provider", provider);
    hc_json_str(j, "upstream_model", upstream);
    hc_json_str(j, "kind", kind);
    hc_json_int(j, "priority", priority);
    hc_json_str(j, "fallbacks", fallbacks);
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
    int status;
    add_opts o;
    hub_dbres row = {0}, others = {0};
    char fb[FALLBACKS_MAX + 1];
    long long pid = 0, mid = 0;
    hc_json before, after;

    memset(&o, 0, sizeof(o));
    hc_json_begin(&before);
    hc_json_begin(&after);
    status = parse_add(argc, argv, &o);
    if (status != HC_EXIT_OK) {
        status = status < 0 ? HC_EXIT_OK : status;
        goto end;
    }
    status = HC_EXIT_FAIL;
    if (!hc_lookup_id(h, SQL_PROVIDER, o.provider, &pid))
        goto end;
    if (pid == 0) {
        hc_err("no provider named '%s' (see 'hubctl provider list')", o.provider);
        goto end;
    }
    if (o.fallback != NULL) {
        status = fallbacks_check(h, o.fallback, fb);
        if (status != HC_EXIT_OK)
            goto end;
        status = HC_EXIT_FAIL;
    }
    if (!hc_tx_begin(h))
        goto end;
    hub_dbp rp[2] = {DB_STR(o.name), DB_INT(pid)};
    if (!hc_exec(h, SQL_ROW, rp, 2, &row, NULL, NULL) ||
        !hc_exec(h, SQL_OTHERS, rp, 2, &others, NULL, NULL))
        goto end;
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
        if (o.upstream == NULL)
            o.upstream = o.name;
        if (o.kind == NULL)
            o.kind = others.nrows > 0 ? hub_dbres_get(&others, 0, 1) : "chat";
        if (o.priority_s == NULL && others.nrows > 0)
            o.priority = (long)hub_dbres_int(&others, others.nrows - 1, 2, 0) + 1;
    }
    for (int i = 0; i < others.nrows; i++) {
        const char *k = hub_dbres_get(&others, i, 1);
        if (k != NULL && strcmp(k, o.kind) != 0) {
            hc_err("%s is a %s model through %s; every route of a name has the same kind", o.name,
                   k, hub_dbres_get(&others, i, 0));
            goto end;
        }
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
    hc_json_free(&before);
    hc_json_free(&after);
    return status;
}

static int model_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME",     "PROVIDER",  "UPSTREAM_MODEL", "KIND",
                                        "PRIORITY", "FALLBACKS", "ENABLED"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r;
    hc_table t;
    if (!hc_simple_args(argc, argv, "model list", LIST_HELP, 0, "", &pos, &status))
        return status;
    if (!hc_exec(h, SQL_LIST, NULL, 0, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    hc_table_init(&t, 7, HEADS, 0x10u);
    for (int i = 0; i < r.nrows; i++) {
        const char *row[7] = {hub_dbres_get(&r, i, 0),
                              hub_dbres_get(&r, i, 1),
                              hub_dbres_get(&r, i, 2),
                              hub_dbres_get(&r, i, 3),
                              hub_dbres_get(&r, i, 4),
                              hub_dbres_get(&r, i, 5),
                              hub_dbres_int(&r, i, 6, 0) ? "yes" : "no"};
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
    static const char CMD[] = "model remove";
    static const struct option OPTS[] = {
        {"provider", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int status = HC_EXIT_USAGE;
    hc_pos pos = {0};
    const char *provider = NULL;
    hub_dbres r = {0};

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
        case 'h':
            fputs(REMOVE_HELP, stdout);
            return HC_EXIT_OK;
        default:
            return hc_bad_option(CMD, argv, c);
        }
    }
    hc_pos_rest(&pos, argc, argv);
    if (!hc_pos_expect(&pos, 1, CMD, "NAME", &status))
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
        hc_json before;
        long long n = 0;
        hub_dbp d[1] = {DB_INT(hub_dbres_int(&r, i, 0, 0))};
        if (!hc_exec(h, SQL_DELETE_ID, d, 1, NULL, &n, NULL))
            goto end;
        hc_json_begin(&before);
        route_json(&before, hub_dbres_get(&r, i, 1), hub_dbres_get(&r, i, 2),
                   hub_dbres_get(&r, i, 3), hub_dbres_int(&r, i, 4, 0), hub_dbres_get(&r, i, 5));
        hc_json_bool(&before, "enabled", hub_dbres_int(&r, i, 6, 0) != 0);
        bool ok = n == 1 && hc_audit(h, "model.remove", "model", name, &before, NULL);
        hc_json_free(&before);
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
