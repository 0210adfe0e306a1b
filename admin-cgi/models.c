/*
 * models.c — models.cgi (admin only): the routing table from the model names clients send
 * to the providers that serve them, and (prices.c) the price catalogue.
 *
 *   GET                  the routes, in the order the gateway tries them, and the add form
 *   GET ?id=N            one route: edit (upstream model, kind, priority, fallbacks),
 *                        enable/disable, remove
 *   GET ?view=prices     the price catalogue (prices.c)
 *   POST action=create   name, provider (id), upstream_model, kind, priority, fallbacks
 *   POST action=update   id, upstream_model, kind, priority, fallbacks
 *   POST action=enable|disable|remove   id
 *   POST action=price_set|price_remove  (prices.c)
 *
 * The rules are hubctl's: one row per (name, provider), tried by priority (lower first),
 * then the fallbacks (provider/model, comma-separated) of the first row; every row of a
 * name has the same kind. Every change is audited in its transaction.
 */
#include "models.h"

#include "hub_ops.h"

#include <stdio.h>
#include <string.h>

static const char SQL_LIST[] =
    "SELECT m.id, m.name, p.name, m.upstream_model, m.kind, m.priority, m.fallbacks, m.enabled "
    "FROM models m JOIN providers p ON p.id = m.provider_id "
    "ORDER BY m.name, m.priority, p.name LIMIT ? OFFSET ?";
static const char SQL_PROVIDERS[] = "SELECT id, name FROM providers ORDER BY name";
static const char SQL_ONE[] =
    "SELECT m.id, m.name, p.name, m.upstream_model, m.kind, m.priority, m.fallbacks, m.enabled, "
    "m.provider_id FROM models m JOIN providers p ON p.id = m.provider_id WHERE m.id = ?";
static const char SQL_LOCK[] =
    "SELECT m.name, p.name, m.upstream_model, m.kind, m.priority, m.fallbacks, m.enabled, "
    "m.provider_id FROM models m JOIN providers p ON p.id = m.provider_id WHERE m.id = ? "
    "FOR UPDATE";
static const char SQL_PROVIDER[] = "SELECT name FROM providers WHERE id = ?";
static const char SQL_ROW[] = "SELECT id FROM models WHERE name = ? AND provider_id = ? FOR UPDATE";
static const char SQL_INSERT[] = "INSERT INTO models (name, provider_id, upstream_model, kind, "
                                 "priority, fallbacks) VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_UPDATE[] = "UPDATE models SET upstream_model = ?, kind = ?, priority = ?, "
                                 "fallbacks = ? WHERE id = ?";
static const char SQL_SET_ENABLED[] = "UPDATE models SET enabled = ? WHERE id = ?";
static const char SQL_DELETE[] = "DELETE FROM models WHERE id = ?";

static const char *const KINDS[] = {"chat", NULL, "embedding", NULL, "image", NULL};
static const char *const KEYS[] = {"name",     "provider",  "upstream_model", "kind",
                                   "priority", "fallbacks", "enabled"};

static const char *const DONE[] = {
    "created", "The route was added.",   "updated",  "The route was saved.",
    "enabled", "The route is enabled.",  "disabled", "The route is disabled.",
    "removed", "The route was removed.", NULL,
};

/* The route fields shared by the add and edit forms. */
static void route_fields(pg *p, const char *upstream, const char *kind, const char *priority,
                         const char *fallbacks)
{
    pg_input(p, "Upstream model", "text", "upstream_model",
             pg_prefill(p, "upstream_model", upstream), "maxlength=\"191\"",
             "The provider's own name for the model. Empty: the same as the name.");
    pg_select(p, "Kind", "kind", KINDS, 3, pg_prefill(p, "kind", kind),
              "Every route of a name has the same kind.");
    pg_input(p, "Priority", "number", "priority", pg_prefill(p, "priority", priority),
             "min=\"-1000000\" max=\"1000000\"",
             "Lower is tried first. Empty: after the existing routes of the name.");
    pg_input(p, "Fallbacks", "text", "fallbacks", pg_prefill(p, "fallbacks", fallbacks),
             "maxlength=\"1024\"",
             "provider/model, … tried after every route of the name (from its first route).");
}

static void show_list(pg *p, int status)
{
    static const char *const HEADS[] = {"Name",     "Provider",  "Upstream model", "Kind",
                                        "Priority", "Fallbacks", "Status"};
    hub_dbres r, prov;
    long page = 1;

    if (!pg_list(p, SQL_LIST, NULL, 0, &page, &r))
        return;
    if (!pg_exec(p, SQL_PROVIDERS, NULL, 0, &prov)) {
        hub_dbres_free(&r);
        return;
    }
    pg_begin(p, "Models");
    hub_html_printf(&p->body,
                    "<h1>Models</h1>\n<p class=\"tabs\"><strong>Routes</strong> · "
                    "<a href=\"%s?view=prices\">Prices</a></p>\n",
                    p->self);
    pg_notices(p, DONE);
    pg_table_begin(p, HEADS, 7);
    int shown = pg_shown(&r);
    for (int i = 0; i < shown; i++) {
        bool on = hub_dbres_int(&r, i, 7, 0) != 0;
        hub_html_printf(&p->body, "<tr><td><a href=\"%s?id=%lld\">%s</a></td>", p->self,
                        hub_dbres_int(&r, i, 0, 0), hub_dbres_get(&r, i, 1));
        for (int c = 2; c <= 6; c++)
            pg_td(p, hub_dbres_get(&r, i, c));
        pg_td_badge(p, on ? "ok" : "off", on ? "enabled" : "disabled");
        hub_html_raw(&p->body, "</tr>\n");
    }
    if (shown == 0)
        pg_empty_row(p, 7, "No model routes yet. Clients can still call provider/model.");
    pg_table_end(p);
    pg_pager(p, "", page, r.nrows > PG_PAGE_SIZE);
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Add a route</h2>\n");
    pg_form_open(p, "stack");
    pg_input(p, "Name", "text", "name", pg_prefill(p, "name", NULL), "required maxlength=\"191\"",
             "The model name clients send, e.g. gpt-4o.");
    pg_select_res(p, "Provider", "provider", &prov, pg_prefill(p, "provider", NULL), NULL, NULL);
    route_fields(p, NULL, "chat", NULL, NULL);
    pg_button(p, "create", "Add route", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
    hub_dbres_free(&r);
    hub_dbres_free(&prov);
    pg_send(p, status);
}

static void show_route(pg *p, long long id, int status)
{
    hub_dbres r;
    if (!pg_row(p, SQL_ONE, id, &r, "There is no such model route."))
        return;
    bool on = hub_dbres_int(&r, 0, 7, 0) != 0;
    char title[300];
    snprintf(title, sizeof(title), "%s via %s", hub_dbres_get(&r, 0, 1), hub_dbres_get(&r, 0, 2));
    pg_begin(p, title);
    hub_html_printf(&p->body, "<p class=\"crumbs\"><a href=\"%s\">Models</a></p>\n<h1>%s</h1>\n",
                    p->self, title);
    pg_notices(p, DONE);
    hub_html_printf(&p->body, "<p>Status: <span class=\"badge badge-%s\">%s</span></p>\n",
                    on ? "ok" : "off", on ? "enabled" : "disabled");
    pg_form_open(p, "stack");
    pg_hidden_id(p, "id", id);
    route_fields(p, hub_dbres_get(&r, 0, 3), hub_dbres_get(&r, 0, 4), hub_dbres_get(&r, 0, 5),
                 hub_dbres_get(&r, 0, 6));
    pg_button(p, "update", "Save route", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "<div class=\"actions\">");
    pg_row_action(p, on ? "disable" : "enable", "id", id, on ? "Disable route" : "Enable route",
                  "btn-quiet");
    pg_row_action(p, "remove", "id", id, "Remove route", "btn-danger");
    hub_html_raw(&p->body, "</div>\n");
    hub_dbres_free(&r);
    pg_send(p, status);
}

/* Re-shows the list (id 0) or route id with msg. */
static void refuse(pg *p, long long id, int status, const char *msg)
{
    pg_refuse(p, status, msg, id == 0 ? show_list : NULL);
    if (id != 0)
        show_route(p, id, status);
}

/* The submitted route fields, checked: upstream (NULL = keep/default), kind (NULL = keep),
 * priority (*has_prio), fallbacks normalised into fb. NULL or what is wrong; HUB_EDB is
 * reported as *db_down. */
typedef struct {
    const char *upstream, *kind;
    long priority;
    bool has_prio;
    char fb[HUB_FALLBACKS_MAX + 1];
} route_in;

static const char *route_from_form(pg *p, route_in *in, bool *db_error)
{
    *db_error = false;
    memset(in, 0, sizeof(*in));
    in->upstream = pg_in(p, "upstream_model");
    in->kind = pg_in(p, "kind");
    if (in->upstream != NULL && !hub_model_name_ok(in->upstream))
        return "The upstream model must be up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
               "without \"..\".";
    if (in->kind != NULL && !hub_model_kind_ok(in->kind))
        return "The kind must be chat, embedding or image.";
    if (pg_in(p, "priority") != NULL) {
        if (!hub_int_ok(pg_in(p, "priority"), HUB_PRIORITY_MIN, HUB_PRIORITY_MAX, &in->priority))
            return "The priority must be a whole number from -1000000 to 1000000.";
        in->has_prio = true;
    }
    hub_err e = hub_fallbacks_check(p->db, pg_in(p, "fallbacks"), in->fb, sizeof(in->fb), p->err,
                                    sizeof(p->err));
    if (e == HUB_EDB)
        *db_error = true;
    return e == HUB_OK ? NULL : p->err;
}

/* The other routes of name (not through provider pid), locked (hub_route_others); false
 * after answering. */
static bool others_of(pg *p, const char *name, long long pid, hub_dbres *o)
{
    if (!hub_route_others(p->db, name, pid, o)) {
        pg_fail_db(p);
        return false;
    }
    return true;
}

static void route_json(pg_json *j, const char *name, const char *prov, const route_in *in,
                       long priority, const char *fb)
{
    pg_json_str(j, "name", name);
    pg_json_str(j, "provider", prov);
    pg_json_str(j, "upstream_model", in->upstream);
    pg_json_str(j, "kind", in->kind);
    pg_json_int(j, "priority", priority);
    pg_json_str(j, "fallbacks", fb);
}

static void do_create(pg *p)
{
    route_in in;
    bool dberr = false;
    long long pid = 0, mid = 0;
    hub_dbres o = {0}, r = {0};
    char msg[512], target[300];
    const char *name = pg_in(p, "name");

    if (name == NULL || !hub_model_name_ok(name)) {
        refuse(p, 0, 400,
               "The name must be up to 191 characters of A-Z a-z 0-9 . _ : @ / - "
               "without \"..\".");
        return;
    }
    if (!pg_id(p, "provider", &pid)) {
        refuse(p, 0, 400, "Choose a provider.");
        return;
    }
    const char *why = route_from_form(p, &in, &dberr);
    if (dberr) {
        pg_fail_db(p);
        return;
    }
    if (why != NULL) {
        refuse(p, 0, 400, why);
        return;
    }
    if (!pg_tx_begin(p))
        return;
    hub_dbp pq[1] = {DB_INT(pid)};
    hub_dbp rq[2] = {DB_STR(name), DB_INT(pid)};
    if (!pg_exec(p, SQL_PROVIDER, pq, 1, &r))
        return;
    if (r.nrows == 0) {
        hub_dbres_free(&r);
        refuse(p, 0, 400, "There is no such provider.");
        return;
    }
    snprintf(target, sizeof(target), "%s via %s", name, hub_dbres_get(&r, 0, 0));
    hub_dbres rowr;
    if (!pg_exec(p, SQL_ROW, rq, 2, &rowr)) {
        hub_dbres_free(&r);
        return;
    }
    bool exists = rowr.nrows > 0;
    hub_dbres_free(&rowr);
    if (exists) {
        hub_dbres_free(&r);
        refuse(p, 0, 409, "This name is already routed through this provider; edit that route.");
        return;
    }
    if (!others_of(p, name, pid, &o)) {
        hub_dbres_free(&r);
        return;
    }
    hub_route_new_defaults(&o, name, &in.upstream, &in.kind, &in.priority, in.has_prio);
    why = hub_route_kind_clash(&o, name, in.kind, msg, sizeof(msg));
    if (why != NULL) {
        hub_dbres_free(&o);
        hub_dbres_free(&r);
        refuse(p, 0, 400, why);
        return;
    }
    const char *fb = in.fb[0] != '\0' ? in.fb : NULL;
    hub_dbp ip[6] = {DB_STR(name),    DB_INT(pid),         DB_STR(in.upstream),
                     DB_STR(in.kind), DB_INT(in.priority), DB_STR(fb)};
    pg_json after;
    pg_json_init(&after);
    route_json(&after, name, hub_dbres_get(&r, 0, 0), &in, in.priority, fb);
    bool ok = hub_db_exec(p->db, SQL_INSERT, ip, 6, NULL, NULL, &mid);
    if (!ok)
        pg_fail_db(p);
    else
        ok = pg_audit_commit(p, "model.create", "model", target, NULL, &after);
    pg_json_free(&after);
    hub_dbres_free(&o);
    hub_dbres_free(&r);
    if (ok)
        pg_redirect_done(p, "models.cgi", mid, "created");
}

/* Locks route id into *r; false after answering. */
static bool lock_route(pg *p, long long id, hub_dbres *r)
{
    return pg_row(p, SQL_LOCK, id, r, "There is no such model route.");
}

static void do_update(pg *p, long long id)
{
    route_in in;
    bool dberr = false;
    hub_dbres r, o = {0};
    char msg[512], target[300];

    const char *why = route_from_form(p, &in, &dberr);
    if (dberr) {
        pg_fail_db(p);
        return;
    }
    if (why != NULL) {
        refuse(p, id, 400, why);
        return;
    }
    if (!pg_tx_begin(p) || !lock_route(p, id, &r))
        return;
    const char *name = hub_dbres_get(&r, 0, 0);
    snprintf(target, sizeof(target), "%s via %s", name, hub_dbres_get(&r, 0, 1));
    if (!others_of(p, name, hub_dbres_int(&r, 0, 7, 0), &o)) {
        hub_dbres_free(&r);
        return;
    }
    if (in.upstream == NULL)
        in.upstream = name;
    if (in.kind == NULL)
        in.kind = hub_dbres_get(&r, 0, 3);
    if (!in.has_prio)
        in.priority = (long)hub_dbres_int(&r, 0, 4, 0);
    why = hub_route_kind_clash(&o, name, in.kind, msg, sizeof(msg));
    if (why != NULL) {
        hub_dbres_free(&o);
        hub_dbres_free(&r);
        refuse(p, id, 400, why);
        return;
    }
    const char *fb = in.fb[0] != '\0' ? in.fb : NULL;
    hub_dbp up[5] = {DB_STR(in.upstream), DB_STR(in.kind), DB_INT(in.priority), DB_STR(fb),
                     DB_INT(id)};
    pg_json before, after;
    pg_json_init(&before);
    pg_json_init(&after);
    pg_json_row(&before, &r, 0, KEYS, 6);
    route_json(&after, name, hub_dbres_get(&r, 0, 1), &in, in.priority, fb);
    bool ok = pg_exec(p, SQL_UPDATE, up, 5, NULL) &&
              pg_audit_commit(p, "model.update", "model", target, &before, &after);
    pg_json_free(&before);
    pg_json_free(&after);
    hub_dbres_free(&o);
    hub_dbres_free(&r);
    if (ok)
        pg_redirect_done(p, "models.cgi", id, "updated");
}

/* enable (1), disable (0) or remove (-1) route id. */
static void do_change(pg *p, long long id, int op)
{
    hub_dbres r;
    char target[300];
    static const char *const ACTIONS[] = {"model.remove", "model.disable", "model.enable"};
    if (!pg_tx_begin(p) || !lock_route(p, id, &r))
        return;
    snprintf(target, sizeof(target), "%s via %s", hub_dbres_get(&r, 0, 0), hub_dbres_get(&r, 0, 1));
    hub_dbp sp[2] = {DB_INT(op), DB_INT(id)};
    hub_dbp dp[1] = {DB_INT(id)};
    pg_json before, after;
    pg_json_init(&before);
    pg_json_init(&after);
    pg_json_row(&before, &r, 0, KEYS, 7);
    pg_json_bool(&after, "enabled", op == 1);
    bool ok =
        (op < 0 ? pg_exec(p, SQL_DELETE, dp, 1, NULL) : pg_exec(p, SQL_SET_ENABLED, sp, 2, NULL)) &&
        pg_audit_commit(p, ACTIONS[op + 1], "model", target, &before, op < 0 ? NULL : &after);
    pg_json_free(&before);
    pg_json_free(&after);
    hub_dbres_free(&r);
    if (ok)
        pg_redirect_done(p, "models.cgi", op < 0 ? 0 : id,
                         op < 0 ? "removed"
                         : op   ? "enabled"
                                : "disabled");
}

static void post(pg *p)
{
    const char *action = pg_in(p, "action");
    long long id = 0;
    if (action == NULL) {
        pg_fail(p, 400, "The form did not say what to do.");
    } else if (strncmp(action, "price_", 6) == 0) {
        pr_post(p, action);
    } else if (strcmp(action, "create") == 0) {
        do_create(p);
    } else if (!pg_id(p, "id", &id)) {
        pg_fail(p, 400, "The form did not say which route.");
    } else if (strcmp(action, "update") == 0) {
        do_update(p, id);
    } else if (strcmp(action, "enable") == 0) {
        do_change(p, id, 1);
    } else if (strcmp(action, "disable") == 0) {
        do_change(p, id, 0);
    } else if (strcmp(action, "remove") == 0) {
        do_change(p, id, -1);
    } else {
        pg_fail(p, 400, "Unknown action.");
    }
}

int main(void)
{
    static const pg_app APP = {.program = "models.cgi",
                               .active = "models",
                               .read_role = "admin",
                               .write_role = "admin",
                               .post = post,
                               .view = "prices",
                               .view_fn = pr_view,
                               .item = show_route,
                               .missing = "There is no such model route.",
                               .list = show_list};
    return pg_run(&APP);
}
