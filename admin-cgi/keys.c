/*
 * keys.c — keys.cgi: the hub API keys. Admins and viewers read the list; admins create
 * long-lived service keys and revoke any key.
 *
 *   GET [?status=active|revoked|expired][&kind=service|personal][&user=NAME][&q=TEXT][&page=N]
 *                          the list, newest first: name, display prefix, kind, owner, team,
 *                          app, models, endpoints, expires, last used, status
 *   GET ?new=1             (admin) the form that creates a service key
 *   POST action=create     name, user, team, app, models, ep_chat, ep_embeddings, ep_images,
 *                          ep_messages (no box ticked: every endpoint), expires_days.
 *                          Answers 200 with the page that shows the secret once.
 *   POST action=revoke     id → 303 keys.cgi?done=revoked
 */
#include "keyops.h"

#include <stdio.h>
#include <string.h>

static const char SQL_LIST[] =
    "SELECT k.id, k.name, k.prefix, k.kind, u.name, t.name, k.app, k.models, k.endpoints, "
    "DATE_FORMAT(k.expires_at, '%Y-%m-%d %H:%i'), DATE_FORMAT(k.last_used_at, '%Y-%m-%d "
    "%H:%i'), " KO_STATUS_SQL " "
    "FROM api_keys k JOIN users u ON u.id = k.user_id LEFT JOIN teams t ON t.id = k.team_id "
    "WHERE (? IS NULL OR u.name = ?) AND (? IS NULL OR k.kind = ?) "
    "AND (? IS NULL OR LOCATE(?, k.name) > 0) "
    "AND (? IS NULL "
    " OR (? = 'active' AND k.revoked_at IS NULL "
    "     AND (k.expires_at IS NULL OR k.expires_at > UTC_TIMESTAMP(3))) "
    " OR (? = 'revoked' AND k.revoked_at IS NOT NULL) "
    " OR (? = 'expired' AND k.revoked_at IS NULL AND k.expires_at <= UTC_TIMESTAMP(3))) "
    "ORDER BY k.created_at DESC, k.id DESC LIMIT ? OFFSET ?";
static const char SQL_USER[] = "SELECT id, team_id, disabled FROM users WHERE name = ?";
static const char SQL_TEAM[] = "SELECT id FROM teams WHERE name = ?";

static const char *const DONE[] = {"revoked", "The key was revoked. The gateway refuses it now.",
                                   NULL};
static const char *const STATUSES[] = {"", "any", "active", NULL, "revoked", NULL, "expired", NULL};
static const char *const KINDS[] = {"", "any", "service", NULL, "personal", NULL};

/* An allow-listed filter value (NULL for "any" or anything not in opts). */
static const char *allowed(const char *v, const char *const *opts, int n)
{
    for (int i = 1; v != NULL && i < n; i++) {
        if (strcmp(v, opts[2 * i]) == 0)
            return opts[2 * i];
    }
    return NULL;
}

static void filters(pg *p, const char *status, const char *kind, const char *user, const char *q)
{
    hub_html_printf(&p->body, "<form method=\"get\" action=\"%s\" class=\"filters\">\n", p->self);
    pg_select(p, "Status", "status", STATUSES, 4, status != NULL ? status : "", NULL);
    pg_select(p, "Kind", "kind", KINDS, 3, kind != NULL ? kind : "", NULL);
    pg_input(p, "Owner", "text", "user", user, "maxlength=\"128\"", NULL);
    pg_input(p, "Name contains", "search", "q", q, "maxlength=\"128\"", NULL);
    hub_html_raw(&p->body, "<button type=\"submit\" class=\"btn btn-quiet\">Filter</button>"
                           "</form>\n");
}

static void show_list(pg *p, int http_status)
{
    static const char *const HEADS[] = {
        "Name",   "Key",       "Kind",          "Owner",           "Team",   "App",
        "Models", "Endpoints", "Expires (UTC)", "Last used (UTC)", "Status", "Actions"};
    hub_dbres r;
    const char *status = allowed(pg_arg(p, "status"), STATUSES, 4);
    const char *kind = allowed(pg_arg(p, "kind"), KINDS, 3);
    const char *user = pg_arg(p, "user");
    const char *q = pg_arg(p, "q");
    long page = 1;
    bool admin = pg_role(p, "admin");
    char prefix[40];

    if (user != NULL && user[0] == '\0')
        user = NULL;
    if (q != NULL && q[0] == '\0')
        q = NULL;
    hub_dbp qp[10] = {DB_STR(user), DB_STR(user),   DB_STR(kind),   DB_STR(kind),   DB_STR(q),
                      DB_STR(q),    DB_STR(status), DB_STR(status), DB_STR(status), DB_STR(status)};
    if (!pg_list(p, SQL_LIST, qp, 10, &page, &r))
        return;
    pg_begin(p, "API keys");
    hub_html_raw(&p->body, "<h1>API keys</h1>\n");
    pg_done_notice(p, DONE);
    if (admin)
        hub_html_printf(&p->body,
                        "<p class=\"actions\"><a class=\"btn\" href=\"%s?new=1\">Create "
                        "a service key</a></p>\n",
                        p->self);
    filters(p, status, kind, user, q);
    pg_table_begin(p, HEADS, admin ? 12 : 11);
    int shown = pg_shown(&r);
    for (int i = 0; i < shown; i++) {
        const char *st = hub_dbres_get(&r, i, 11);
        snprintf(prefix, sizeof(prefix), "%s…", hub_dbres_get(&r, i, 2));
        hub_html_raw(&p->body, "<tr>");
        pg_td(p, hub_dbres_get(&r, i, 1));
        hub_html_printf(&p->body, "<td><code>%s</code></td>", prefix);
        for (int c = 3; c <= 6; c++)
            pg_td(p, hub_dbres_get(&r, i, c));
        pg_td(p, hub_dbres_get(&r, i, 7) ? hub_dbres_get(&r, i, 7) : "every model");
        pg_td(p, hub_dbres_get(&r, i, 8) ? hub_dbres_get(&r, i, 8) : "all");
        pg_td(p, hub_dbres_get(&r, i, 9) ? hub_dbres_get(&r, i, 9) : "never");
        pg_td(p, hub_dbres_get(&r, i, 10) ? hub_dbres_get(&r, i, 10) : "never");
        pg_td_badge(p, ko_badge(st), st);
        if (admin) {
            hub_html_raw(&p->body, "<td class=\"actions\">");
            if (st != NULL && strcmp(st, "revoked") != 0)
                pg_row_action(p, "revoke", "id", hub_dbres_int(&r, i, 0, 0), "Revoke",
                              "btn-danger");
            hub_html_raw(&p->body, "</td>");
        }
        hub_html_raw(&p->body, "</tr>\n");
    }
    if (shown == 0)
        pg_empty_row(p, admin ? 12 : 11, "No keys match.");
    pg_table_end(p);
    const char *names[4] = {"status", "kind", "user", "q"};
    const char *vals[4] = {status, kind, user, q};
    pg_pager_filters(p, NULL, names, vals, 4, page, r.nrows > PG_PAGE_SIZE);
    hub_dbres_free(&r);
    pg_send(p, http_status);
}

static void show_new(pg *p, int status)
{
    pg_begin(p, "Create a service key");
    hub_html_printf(&p->body,
                    "<p class=\"crumbs\"><a href=\"%s\">API keys</a></p>\n"
                    "<h1>Create a service key</h1>\n",
                    p->self);
    if (p->err[0] != '\0')
        pg_error_notice(p, NULL);
    pg_form_open(p, "stack");
    pg_input(p, "Name", "text", "name", pg_prefill(p, "name", NULL),
             "required maxlength=\"128\" pattern=\"[A-Za-z0-9._@+-]+\"",
             "Unique; 1-128 characters of A-Z a-z 0-9 . _ @ + -");
    pg_input(p, "Owner (user name)", "text", "user", pg_prefill(p, "user", NULL),
             "required maxlength=\"128\"", "The user the key acts for; usage is theirs.");
    pg_input(p, "Team", "text", "team", pg_prefill(p, "team", NULL), "maxlength=\"128\"",
             "Usage is charged to this team. Empty: the owner's team.");
    pg_input(p, "App", "text", "app", pg_prefill(p, "app", NULL), "maxlength=\"128\"",
             "An application label for usage reports.");
    pg_input(p, "Allowed models", "text", "models", pg_prefill(p, "models", NULL),
             "maxlength=\"1024\"",
             "Comma-separated globs, e.g. gpt-4o*,openai/*. Empty: every "
             "model.");
    hub_html_raw(&p->body, "<fieldset><legend>Allowed endpoints (none ticked: all)</legend>\n");
    for (int i = 0; i < HUB_NENDPOINTS; i++) {
        char field[32];
        snprintf(field, sizeof(field), "ep_%s", HUB_ENDPOINTS[i]);
        pg_checkbox(p, HUB_ENDPOINTS[i], field, pg_in(p, field) != NULL, NULL);
    }
    hub_html_raw(&p->body, "</fieldset>\n");
    pg_input(p, "Expires after (days)", "number", "expires_days",
             pg_prefill(p, "expires_days", NULL), "min=\"1\" max=\"36500\"", "Empty: never.");
    pg_button(p, "create", "Create key", NULL);
    pg_form_close(p);
    pg_send(p, status);
}

static void do_create(pg *p)
{
    hub_key_spec ks = {.kind = "service", .expires_days = -1, .created_by = p->s.user};
    const char *user = pg_in(p, "user"), *team = pg_in(p, "team");
    char eps[64] = "";
    char team_name[129] = "";
    hub_dbres ur = {0};

    ks.name = pg_in(p, "name");
    ks.app = pg_in(p, "app");
    for (int i = 0; i < HUB_NENDPOINTS; i++) {
        char field[32];
        snprintf(field, sizeof(field), "ep_%s", HUB_ENDPOINTS[i]);
        if (pg_in(p, field) != NULL)
            snprintf(eps + strlen(eps), sizeof(eps) - strlen(eps), "%s%s", eps[0] ? "," : "",
                     HUB_ENDPOINTS[i]);
    }
    ks.endpoints = eps[0] != '\0' ? eps : NULL;
    const char *why = NULL;
    if (ks.name == NULL || !hub_name_ok(ks.name, 128, HUB_CHARS_PRINCIPAL))
        why = "The name must be 1-128 characters of A-Z a-z 0-9 . _ @ + -.";
    else if (user == NULL || !hub_name_ok(user, 128, HUB_CHARS_PRINCIPAL))
        why = "Enter the owner's user name.";
    else if (team != NULL && !hub_name_ok(team, 128, HUB_CHARS_PRINCIPAL))
        why = "That is not a team name.";
    else if (ks.app != NULL && !hub_name_ok(ks.app, 128, HUB_CHARS_APP))
        why = "The app must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -.";
    else
        why = ko_limits_from_form(p, &ks);
    if (why != NULL) {
        pg_refuse(p, 400, why, show_new);
        return;
    }
    hub_dbp uq[1] = {DB_STR(user)};
    if (!pg_exec(p, SQL_USER, uq, 1, &ur))
        return;
    if (ur.nrows == 0 || hub_dbres_int(&ur, 0, 2, 0) != 0) {
        pg_refuse(p, 400,
                  ur.nrows == 0 ? "There is no user with that name."
                                : "That user is disabled; enable the user first.",
                  show_new);
        goto end;
    }
    ks.user_id = hub_dbres_int(&ur, 0, 0, 0);
    ks.team_id = hub_dbres_int(&ur, 0, 1, 0);
    if (team != NULL) {
        if (!pg_lookup_id(p, SQL_TEAM, team, &ks.team_id))
            goto end;
        if (ks.team_id == 0) {
            pg_refuse(p, 400, "There is no team with that name.", show_new);
            goto end;
        }
        snprintf(team_name, sizeof(team_name), "%s", team);
    } else if (ks.team_id != 0 && !pg_team_name(p, ks.team_id, team_name, sizeof(team_name))) {
        goto end;
    }
    if (ko_create(p, &ks, user, team_name[0] ? team_name : NULL, "keys.cgi") == HUB_EINVAL)
        pg_refuse(p, 409, p->err, show_new);
end:
    hub_dbres_free(&ur);
}

static void post(pg *p)
{
    ko_post(p, do_create, 0, NULL, "keys.cgi", "key");
}

int main(void)
{
    static const pg_app APP = {.program = "keys.cgi",
                               .active = "keys",
                               .read_role = "viewer",
                               .write_role = "admin",
                               .post = post,
                               .new_fn = show_new,
                               .list = show_list};
    return pg_run(&APP);
}
