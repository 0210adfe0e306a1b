/*
 * users.c — users.cgi (admin only): users, their roles and teams. The views; the changes
 * are in users_post.c.
 *
 *   GET [?q=TEXT][&role=R][&page=N]   the users (name, e-mail, role, sign-in source, team,
 *                                     teams, status, last sign-in, live keys) and the form
 *                                     that adds a local user with a password
 *   GET ?id=N                         one user: role, enable/disable, teams, primary team,
 *                                     password (local accounts)
 *   GET ?view=teams                   the teams and the form that adds one
 */
#include "users.h"

#include "hub_ops.h"

#include <stdio.h>
#include <string.h>

const char *const UV_ROLES[] = {"admin", NULL, "viewer", NULL, "member", NULL};

static const char SQL_LIST[] =
    "SELECT u.id, u.name, u.email, u.role, u.auth_source, t.name, "
    "(SELECT GROUP_CONCAT(t2.name ORDER BY t2.name SEPARATOR ', ') FROM memberships m "
    " JOIN teams t2 ON t2.id = m.team_id WHERE m.user_id = u.id), u.disabled, "
    "DATE_FORMAT(u.last_login_at, '%Y-%m-%d %H:%i'), "
    "(SELECT COUNT(*) FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL "
    " AND (k.expires_at IS NULL OR k.expires_at > UTC_TIMESTAMP(3))) "
    "FROM users u LEFT JOIN teams t ON t.id = u.team_id "
    "WHERE (? IS NULL OR LOCATE(?, u.name) > 0) AND (? IS NULL OR u.role = ?) "
    "ORDER BY u.name LIMIT ? OFFSET ?";
static const char SQL_TEAMS[] = "SELECT id, name FROM teams ORDER BY name LIMIT 1000";
/* with the team's monthly budget, this month's spend and the 80 / 100 % alerts (limits.cgi) */
static const char SQL_TEAM_LIST[] =
    "SELECT t.name, COUNT(m.user_id), DATE_FORMAT(t.created_at, '%Y-%m-%d %H:%i'), "
    "l.budget_micro, b.spent_micro, b.alert80_at IS NOT NULL, b.alert100_at IS NOT NULL "
    "FROM teams t LEFT JOIN memberships m ON m.team_id = t.id "
    "LEFT JOIN limits l ON l.scope_type = 'team' AND l.scope_id = t.id "
    "LEFT JOIN budget_usage b ON b.scope_type = 'team' AND b.scope_id = t.id "
    "AND b.month = DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01') "
    "GROUP BY t.id, t.name, t.created_at, l.budget_micro, b.spent_micro, b.alert80_at, "
    "b.alert100_at ORDER BY t.name LIMIT ? OFFSET ?";
static const char SQL_ONE[] =
    "SELECT u.id, u.name, u.email, u.role, u.auth_source, u.team_id, t.name, u.disabled, "
    "DATE_FORMAT(u.created_at, '%Y-%m-%d %H:%i'), DATE_FORMAT(u.last_login_at, '%Y-%m-%d %H:%i'), "
    "u.password_hash IS NOT NULL "
    "FROM users u LEFT JOIN teams t ON t.id = u.team_id WHERE u.id = ?";
static const char SQL_MEMBER_OF[] =
    "SELECT t.id, t.name FROM memberships m JOIN teams t ON t.id = m.team_id "
    "WHERE m.user_id = ? ORDER BY t.name";

static const char *const DONE[] = {
    "created",  "The user was added.",
    "role",     "The role was changed; the user's sessions were ended.",
    "disabled", "The user is disabled: signed out, and their keys stop working.",
    "enabled",  "The user is enabled.",
    "member",   "The team membership was changed.",
    "primary",  "The primary team was changed.",
    "password", "The password was set.",
    "team",     "The team was added.",
    NULL,
};

static void tabs(pg *p, bool teams)
{
    if (teams)
        hub_html_printf(&p->body,
                        "<p class=\"tabs\"><a href=\"%s\">Users</a> · <strong>Teams"
                        "</strong></p>\n",
                        p->self);
    else
        hub_html_printf(&p->body,
                        "<p class=\"tabs\"><strong>Users</strong> · <a href=\"%s?view="
                        "teams\">Teams</a></p>\n",
                        p->self);
}

static void add_user_form(pg *p, const hub_dbres *teams)
{
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Add a local user</h2>\n");
    pg_form_open(p, "stack");
    pg_input(p, "User name", "text", "name", pg_prefill(p, "name", NULL),
             "required maxlength=\"128\" pattern=\"[A-Za-z0-9._@+-]+\"",
             "1-128 characters of A-Z a-z 0-9 . _ @ + -");
    pg_input(p, "E-mail", "email", "email", pg_prefill(p, "email", NULL), "maxlength=\"255\"",
             NULL);
    pg_select(p, "Role", "role", UV_ROLES, UV_NROLES, pg_prefill(p, "role", "member"),
              "admin: everything; viewer: read-only; member: own tokens and usage.");
    pg_select_res(p, "Team", "team", teams, pg_prefill(p, "team", ""), "(none)", NULL);
    pg_input(p, "Password", "password", "password", NULL,
             "required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\"",
             "At least 12 characters.");
    pg_input(p, "Password again", "password", "password2", NULL,
             "required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\"", NULL);
    pg_button(p, "create", "Add user", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
}

void uv_list(pg *p, int status)
{
    static const char *const HEADS[] = {"Name",     "E-mail", "Role",   "Sign-in",
                                        "Team",     "Teams",  "Status", "Last sign-in (UTC)",
                                        "Live keys"};
    hub_dbres r, teams;
    const char *q = pg_arg(p, "q");
    const char *role = pg_arg(p, "role");
    long page = 1;

    if (q != NULL && q[0] == '\0')
        q = NULL;
    if (role != NULL && !hub_name_ok(role, 16, ""))
        role = NULL;
    hub_dbp qp[4] = {DB_STR(q), DB_STR(q), DB_STR(role), DB_STR(role)};
    if (!pg_list(p, SQL_LIST, qp, 4, &page, &r))
        return;
    if (!pg_exec(p, SQL_TEAMS, NULL, 0, &teams)) {
        hub_dbres_free(&r);
        return;
    }
    pg_begin(p, "Users");
    hub_html_raw(&p->body, "<h1>Users &amp; teams</h1>\n");
    tabs(p, false);
    pg_notices(p, DONE);
    hub_html_printf(&p->body, "<form method=\"get\" action=\"%s\" class=\"filters\">\n", p->self);
    pg_input(p, "Name contains", "search", "q", q, "maxlength=\"128\"", NULL);
    const char *roles[8] = {"", "any", "admin", NULL, "viewer", NULL, "member", NULL};
    pg_select(p, "Role", "role", roles, 4, role != NULL ? role : "", NULL);
    hub_html_raw(&p->body, "<button type=\"submit\" class=\"btn btn-quiet\">Filter</button>"
                           "</form>\n");
    pg_table_begin(p, HEADS, 9);
    int shown = pg_shown(&r);
    for (int i = 0; i < shown; i++) {
        bool off = hub_dbres_int(&r, i, 7, 0) != 0;
        hub_html_printf(&p->body, "<tr><td><a href=\"%s?id=%lld\">%s</a></td>", p->self,
                        hub_dbres_int(&r, i, 0, 0), hub_dbres_get(&r, i, 1));
        for (int c = 2; c <= 6; c++)
            pg_td(p, hub_dbres_get(&r, i, c));
        pg_td_badge(p, off ? "off" : "ok", off ? "disabled" : "active");
        pg_td(p, hub_dbres_get(&r, i, 8) ? hub_dbres_get(&r, i, 8) : "never");
        pg_td_num(p, hub_dbres_int(&r, i, 9, 0));
        hub_html_raw(&p->body, "</tr>\n");
    }
    if (shown == 0)
        pg_empty_row(p, 9, "No users match.");
    pg_table_end(p);
    const char *names[2] = {"q", "role"}, *vals[2] = {q, role};
    pg_pager_filters(p, NULL, names, vals, 2, page, r.nrows > PG_PAGE_SIZE);
    add_user_form(p, &teams);
    hub_dbres_free(&r);
    hub_dbres_free(&teams);
    pg_send(p, status);
}

/* The "Budget this month" cell of row i of SQL_TEAM_LIST: spend of budget, alert badge. */
static void budget_cell(pg *p, const hub_dbres *r, int i)
{
    char spent[48], budget[48];
    if (hub_dbres_get(r, i, 3) == NULL) {
        pg_td(p, NULL);
        return;
    }
    hub_fmt_usd(hub_dbres_int(r, i, 4, 0), 2, spent, sizeof(spent));
    hub_fmt_usd(hub_dbres_int(r, i, 3, 0), 2, budget, sizeof(budget));
    bool a100 = hub_dbres_int(r, i, 6, 0) != 0, a80 = hub_dbres_int(r, i, 5, 0) != 0;
    hub_html_printf(&p->body, "<td><a href=\"%s/limits.cgi\">$%s of $%s</a>", p->cfg.admin_base,
                    spent, budget);
    if (a100 || a80)
        hub_html_printf(&p->body, " <span class=\"badge badge-%s\">%s</span>",
                        a100 ? "off" : "warn", a100 ? "100 % reached" : "80 % reached");
    hub_html_raw(&p->body, "</td>");
}

void uv_teams(pg *p, int status)
{
    static const char *const HEADS[] = {"Team", "Members", "Created (UTC)", "Budget this month"};
    hub_dbres r;
    long page = 1;
    if (!pg_list(p, SQL_TEAM_LIST, NULL, 0, &page, &r))
        return;
    pg_begin(p, "Teams");
    hub_html_raw(&p->body, "<h1>Users &amp; teams</h1>\n");
    tabs(p, true);
    pg_notices(p, DONE);
    pg_table_begin(p, HEADS, 4);
    int shown = pg_shown(&r);
    for (int i = 0; i < shown; i++) {
        hub_html_raw(&p->body, "<tr>");
        pg_td(p, hub_dbres_get(&r, i, 0));
        pg_td_num(p, hub_dbres_int(&r, i, 1, 0));
        pg_td(p, hub_dbres_get(&r, i, 2));
        budget_cell(p, &r, i);
        hub_html_raw(&p->body, "</tr>\n");
    }
    if (shown == 0)
        pg_empty_row(p, 4, "No teams yet.");
    pg_table_end(p);
    pg_pager(p, "view=teams", page, r.nrows > PG_PAGE_SIZE);
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Add a team</h2>\n");
    pg_form_open(p, "stack");
    pg_input(p, "Team name", "text", "team_name", pg_prefill(p, "team_name", NULL),
             "required maxlength=\"128\" pattern=\"[A-Za-z0-9._@+-]+\"",
             "1-128 characters of A-Z a-z 0-9 . _ @ + -");
    pg_button(p, "team_create", "Add team", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
    hub_dbres_free(&r);
    pg_send(p, status);
}

/* The team forms of user id: memberships with remove buttons, add, primary team. */
static void team_forms(pg *p, long long id, const hub_dbres *u)
{
    hub_dbres mine, all;
    hub_dbp q[1] = {DB_INT(id)};
    if (!pg_exec(p, SQL_MEMBER_OF, q, 1, &mine))
        return;
    if (!pg_exec(p, SQL_TEAMS, NULL, 0, &all)) {
        hub_dbres_free(&mine);
        return;
    }
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Teams</h2>\n<ul class=\"plain\">\n");
    for (int i = 0; i < mine.nrows; i++) {
        hub_html_printf(&p->body, "<li>%s ", hub_dbres_get(&mine, i, 1));
        pg_form_open(p, "inline");
        pg_hidden_id(p, "id", id);
        pg_hidden(p, "team", hub_dbres_get(&mine, i, 0));
        pg_button(p, "member_remove", "Remove from team", "btn-quiet");
        pg_form_close(p);
        hub_html_raw(&p->body, "</li>\n");
    }
    if (mine.nrows == 0)
        hub_html_raw(&p->body, "<li class=\"none\">In no team.</li>\n");
    hub_html_raw(&p->body, "</ul>\n");
    pg_form_open(p, "inline");
    pg_hidden_id(p, "id", id);
    pg_select_res(p, "Team", "team", &all, NULL, NULL, NULL);
    pg_button(p, "member_add", "Add to team", NULL);
    pg_form_close(p);
    pg_form_open(p, "inline");
    pg_hidden_id(p, "id", id);
    pg_select_res(p, "Primary team (usage is charged to it)", "team", &mine, hub_dbres_get(u, 0, 5),
                  "(none)", NULL);
    pg_button(p, "primary", "Set primary team", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
    hub_dbres_free(&mine);
    hub_dbres_free(&all);
}

static void facts(pg *p, const hub_dbres *r)
{
    bool off = hub_dbres_int(r, 0, 7, 0) != 0;
    hub_html_printf(&p->body,
                    "<dl class=\"facts\"><dt>E-mail</dt><dd>%s</dd><dt>Role</dt><dd>%s</dd>"
                    "<dt>Sign-in</dt><dd>%s</dd><dt>Primary team</dt><dd>%s</dd>",
                    hub_dbres_get(r, 0, 2) ? hub_dbres_get(r, 0, 2) : "—", hub_dbres_get(r, 0, 3),
                    hub_dbres_get(r, 0, 4), hub_dbres_get(r, 0, 6) ? hub_dbres_get(r, 0, 6) : "—");
    hub_html_printf(&p->body,
                    "<dt>Status</dt><dd><span class=\"badge badge-%s\">%s</span></dd>"
                    "<dt>Added</dt><dd>%s UTC</dd><dt>Last sign-in</dt><dd>%s</dd></dl>\n",
                    off ? "off" : "ok", off ? "disabled" : "active", hub_dbres_get(r, 0, 8),
                    hub_dbres_get(r, 0, 9) ? hub_dbres_get(r, 0, 9) : "never");
}

void uv_user(pg *p, long long id, int status)
{
    hub_dbres r;
    if (!pg_row(p, SQL_ONE, id, &r, "There is no such user."))
        return;
    bool self = id == p->s.user_id;
    bool off = hub_dbres_int(&r, 0, 7, 0) != 0;
    const char *src = hub_dbres_get(&r, 0, 4);
    pg_begin(p, hub_dbres_get(&r, 0, 1));
    hub_html_printf(&p->body, "<p class=\"crumbs\"><a href=\"%s\">Users</a></p>\n<h1>%s</h1>\n",
                    p->self, hub_dbres_get(&r, 0, 1));
    pg_notices(p, DONE);
    facts(p, &r);
    hub_html_printf(&p->body, "<p><a href=\"%s/keys.cgi?user=", p->cfg.admin_base);
    hub_buf enc;
    hub_buf_init(&enc, 0);
    hub_cgi_urlencode(&enc, hub_dbres_get(&r, 0, 1));
    hub_html_printf(&p->body, "%s\">API keys of this user</a></p>\n", enc.data ? enc.data : "");
    hub_buf_free(&enc);
    if (self) {
        hub_html_notice(&p->body, "info",
                        "This is you: another admin changes your role or "
                        "disables your account.");
    } else {
        hub_html_raw(&p->body, "<section class=\"panel\"><h2>Role and status</h2>\n");
        pg_form_open(p, "inline");
        pg_hidden_id(p, "id", id);
        pg_select(p, "Role", "role", UV_ROLES, UV_NROLES, hub_dbres_get(&r, 0, 3), NULL);
        pg_button(p, "role", "Change role", NULL);
        pg_form_close(p);
        pg_row_action(p, off ? "enable" : "disable", "id", id, off ? "Enable user" : "Disable user",
                      off ? NULL : "btn-danger");
        hub_html_raw(&p->body, "</section>\n");
    }
    team_forms(p, id, &r);
    if (src != NULL && strcmp(src, "local") == 0) {
        hub_html_raw(&p->body, "<section class=\"panel\"><h2>Password</h2>\n");
        pg_form_open(p, "stack");
        pg_hidden_id(p, "id", id);
        pg_input(p, "New password", "password", "password", NULL,
                 "required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\"",
                 "At least 12 characters.");
        pg_input(p, "New password again", "password", "password2", NULL,
                 "required minlength=\"12\" maxlength=\"1024\" autocomplete=\"new-password\"",
                 NULL);
        pg_button(p, "password", "Set password", NULL);
        pg_form_close(p);
        hub_html_raw(&p->body, "</section>\n");
    }
    hub_dbres_free(&r);
    pg_send(p, status);
}

int main(void)
{
    static const pg_app APP = {.program = "users.cgi",
                               .active = "users",
                               .read_role = "admin",
                               .write_role = "admin",
                               .post = up_post,
                               .view = "teams",
                               .view_fn = uv_teams,
                               .item = uv_user,
                               .missing = "There is no such user.",
                               .list = uv_list};
    return pg_run(&APP);
}
