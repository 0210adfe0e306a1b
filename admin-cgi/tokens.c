/*
 * tokens.c — tokens.cgi, "My tokens" (every role): a user's own personal API tokens and
 * their own usage this month.
 *
 *   GET                    usage this calendar month (UTC) from usage_log: requests, tokens,
 *                          cost, by model; the user's tokens; the form that creates one
 *   POST action=create     label, models, expires_days → 200 with the token shown once.
 *                          The token is kind 'personal', bound to the signed-in user and their
 *                          team; its name is "<user>:<label>" (':' cannot occur in user names,
 *                          so names never collide between users).
 *   POST action=revoke     id → 303 tokens.cgi?done=revoked
 *
 * Every query is filtered by the session's user id, never by an id from the form: changing
 * an id in the form reaches nobody else's token (404).
 */
#include "keyops.h"

#include <stdio.h>
#include <string.h>

#define MAX_LIVE_TOKENS 50 /* active personal tokens per user */

static const char SQL_MINE[] =
    "SELECT k.id, k.name, k.prefix, k.models, DATE_FORMAT(k.created_at, '%Y-%m-%d %H:%i'), "
    "DATE_FORMAT(k.expires_at, '%Y-%m-%d %H:%i'), DATE_FORMAT(k.last_used_at, '%Y-%m-%d "
    "%H:%i'), " KO_STATUS_SQL " FROM api_keys k WHERE k.user_id = ? AND k.kind = 'personal' "
    "ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC, k.id DESC LIMIT ? OFFSET ?";
static const char SQL_LIVE[] =
    "SELECT COUNT(*) FROM api_keys WHERE user_id = ? AND kind = 'personal' "
    "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP(3))";
static const char SQL_USAGE[] =
    "SELECT COUNT(DISTINCT request_id), COALESCE(SUM(prompt_tokens), 0), "
    "COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cost_micro), 0), "
    "COALESCE(SUM(cost_micro IS NULL), 0) FROM usage_log "
    "WHERE user_id = ? AND ts >= DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01')";
static const char SQL_BY_MODEL[] =
    "SELECT model, COUNT(DISTINCT request_id), COALESCE(SUM(total_tokens), 0), "
    "COALESCE(SUM(cost_micro), 0) FROM usage_log "
    "WHERE user_id = ? AND ts >= DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01') "
    "GROUP BY model ORDER BY 4 DESC, 2 DESC LIMIT 20";

static const char *const DONE[] = {"revoked", "The token was revoked. The gateway refuses it now.",
                                   NULL};

static void usage(pg *p)
{
    static const char *const HEADS[] = {"Model", "Requests", "Tokens", "Cost (USD)"};
    hub_dbres u, m;
    char cost[48];
    hub_dbp q[1] = {DB_INT(p->s.user_id)};
    if (!pg_exec(p, SQL_USAGE, q, 1, &u))
        return;
    if (!pg_exec(p, SQL_BY_MODEL, q, 1, &m)) {
        hub_dbres_free(&u);
        return;
    }
    hub_fmt_usd(hub_dbres_int(&u, 0, 3, 0), 2, cost, sizeof(cost));
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>My usage this month (UTC)</h2>\n"
                           "<section class=\"cards\">\n");
    hub_html_printf(&p->body,
                    "<div class=\"card\"><span class=\"card-num\">%lld</span> <span "
                    "class=\"card-label\">requests</span></div>\n"
                    "<div class=\"card\"><span class=\"card-num\">%lld</span> <span "
                    "class=\"card-label\">input tokens</span></div>\n"
                    "<div class=\"card\"><span class=\"card-num\">%lld</span> <span "
                    "class=\"card-label\">output tokens</span></div>\n"
                    "<div class=\"card\"><span class=\"card-num\">$%s</span> <span "
                    "class=\"card-label\">cost</span></div>\n</section>\n",
                    hub_dbres_int(&u, 0, 0, 0), hub_dbres_int(&u, 0, 1, 0),
                    hub_dbres_int(&u, 0, 2, 0), cost);
    if (hub_dbres_int(&u, 0, 4, 0) > 0)
        hub_html_printf(&p->body,
                        "<p class=\"hint\">%lld calls had no known price and are not "
                        "in the cost.</p>\n",
                        hub_dbres_int(&u, 0, 4, 0));
    if (m.nrows > 0) {
        pg_table_begin(p, HEADS, 4);
        for (int i = 0; i < m.nrows; i++) {
            hub_fmt_usd(hub_dbres_int(&m, i, 3, 0), 2, cost, sizeof(cost));
            hub_html_raw(&p->body, "<tr>");
            pg_td(p, hub_dbres_get(&m, i, 0));
            pg_td_num(p, hub_dbres_int(&m, i, 1, 0));
            pg_td_num(p, hub_dbres_int(&m, i, 2, 0));
            hub_html_printf(&p->body, "<td class=\"num\">%s</td></tr>\n", cost);
        }
        pg_table_end(p);
    }
    hub_html_raw(&p->body, "</section>\n");
    hub_dbres_free(&u);
    hub_dbres_free(&m);
}

/* The label part of a personal token's name "<user>:<label>". */
static const char *label_of(const char *name)
{
    const char *c = name != NULL ? strchr(name, ':') : NULL;
    return c != NULL ? c + 1 : name;
}

static void my_tokens(pg *p)
{
    static const char *const HEADS[] = {"Name",          "Token",         "Models",
                                        "Created (UTC)", "Expires (UTC)", "Last used (UTC)",
                                        "Status",        "Actions"};
    hub_dbres r;
    long page = 1;
    char prefix[40];
    hub_dbp q[1] = {DB_INT(p->s.user_id)};
    if (!pg_list(p, SQL_MINE, q, 1, &page, &r))
        return;
    hub_html_raw(&p->body, "<h2>My tokens</h2>\n");
    pg_table_begin(p, HEADS, 8);
    int shown = pg_shown(&r);
    for (int i = 0; i < shown; i++) {
        const char *st = hub_dbres_get(&r, i, 7);
        snprintf(prefix, sizeof(prefix), "%s…", hub_dbres_get(&r, i, 2));
        hub_html_raw(&p->body, "<tr>");
        pg_td(p, label_of(hub_dbres_get(&r, i, 1)));
        hub_html_printf(&p->body, "<td><code>%s</code></td>", prefix);
        pg_td(p, hub_dbres_get(&r, i, 3) ? hub_dbres_get(&r, i, 3) : "every model");
        pg_td(p, hub_dbres_get(&r, i, 4));
        pg_td(p, hub_dbres_get(&r, i, 5) ? hub_dbres_get(&r, i, 5) : "never");
        pg_td(p, hub_dbres_get(&r, i, 6) ? hub_dbres_get(&r, i, 6) : "never");
        pg_td_badge(p, ko_badge(st), st);
        hub_html_raw(&p->body, "<td class=\"actions\">");
        if (st != NULL && strcmp(st, "revoked") != 0)
            pg_row_action(p, "revoke", "id", hub_dbres_int(&r, i, 0, 0), "Revoke", "btn-danger");
        hub_html_raw(&p->body, "</td></tr>\n");
    }
    if (shown == 0)
        pg_empty_row(p, 8, "You have no tokens yet.");
    pg_table_end(p);
    pg_pager(p, "", page, r.nrows > PG_PAGE_SIZE);
    hub_dbres_free(&r);
}

static void create_form(pg *p)
{
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Create a token</h2>\n");
    pg_form_open(p, "stack");
    pg_input(p, "Name", "text", "label", pg_prefill(p, "label", NULL),
             "required maxlength=\"64\" pattern=\"[A-Za-z0-9._@+-]+\"",
             "For you to recognise it, e.g. laptop or notebook-2.");
    pg_input(p, "Allowed models", "text", "models", pg_prefill(p, "models", NULL),
             "maxlength=\"1024\"", "Comma-separated globs, e.g. gpt-4o*. Empty: every model.");
    pg_input(p, "Expires after (days)", "number", "expires_days",
             pg_prefill(p, "expires_days", "90"), "min=\"1\" max=\"36500\"", "Empty: never.");
    pg_button(p, "create", "Create token", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
}

static void show(pg *p, int status)
{
    pg_begin(p, "My tokens");
    hub_html_raw(&p->body, "<h1>My tokens</h1>\n");
    pg_notices(p, DONE);
    usage(p);
    my_tokens(p);
    create_form(p);
    pg_send(p, status);
}

static void do_create(pg *p)
{
    hub_key_spec ks = {.kind = "personal",
                       .expires_days = -1,
                       .user_id = p->s.user_id,
                       .team_id = p->s.team_id,
                       .created_by = p->s.user};
    const char *label = pg_in(p, "label");
    char name[129], team[129] = "";
    hub_dbres r;
    const char *why = NULL;

    if (label == NULL || !hub_name_ok(label, 64, HUB_CHARS_PRINCIPAL))
        why = "The name must be 1-64 characters of A-Z a-z 0-9 . _ @ + -.";
    else if (strlen(p->s.user) + 1 + strlen(label) > 128)
        why = "The name is too long for your user name; choose a shorter one.";
    else
        why = ko_limits_from_form(p, &ks);
    if (why != NULL) {
        pg_refuse(p, 400, why, show);
        return;
    }
    snprintf(name, sizeof(name), "%s:%s", p->s.user, label);
    ks.name = name;
    hub_dbp q[1] = {DB_INT(p->s.user_id)};
    if (!pg_exec(p, SQL_LIVE, q, 1, &r))
        return;
    long long live = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    if (live >= MAX_LIVE_TOKENS) {
        pg_refuse(p, 409, "You have 50 live tokens already; revoke one first.", show);
        return;
    }
    if (ks.team_id != 0 && !pg_team_name(p, ks.team_id, team, sizeof(team)))
        return;
    if (ko_create(p, &ks, p->s.user, team[0] ? team : NULL, "tokens.cgi") == HUB_EINVAL)
        pg_refuse(p, 409, "You already have a token with that name; choose another.", show);
}

static void post(pg *p)
{
    ko_post(p, do_create, p->s.user_id, "personal", "tokens.cgi", "token");
}

int main(void)
{
    static const pg_app APP = {.program = "tokens.cgi",
                               .active = "tokens",
                               .read_role = "member",
                               .write_role = "member",
                               .post = post,
                               .list = show};
    return pg_run(&APP);
}
