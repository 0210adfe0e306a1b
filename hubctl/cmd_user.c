/*
 * cmd_user.c — "hubctl team add|list" and "hubctl user add|list|enable|disable": the
 * people and groups that API keys and usage are attributed to.
 *
 * "user add --team T" creates the team when it does not exist yet, sets it as the user's
 * primary team and records the membership, all in one transaction. Disabling a user
 * makes every API key of that user stop working (the gateway checks users.disabled) and
 * ends the user's admin page sessions. Every change is audited (util_audit.c). Roles and
 * passwords: cmd_account.c.
 */
#include "hubctl.h"

#include "hub_session.h"

#include <string.h>

static const char TEAM_ADD_HELP[] = "usage: hubctl team add NAME\n\n"
                                    "Adds a team. NAME: 1-128 characters of A-Z a-z 0-9 . _ @ + "
                                    "-\n";
static const char TEAM_LIST_HELP[] = "usage: hubctl team list\n\n"
                                     "Lists teams with their number of members.\n";
static const char USER_ADD_HELP[] =
    "usage: hubctl user add NAME [--team TEAM] [--email EMAIL]\n\n"
    "Adds a user. NAME: 1-128 characters of A-Z a-z 0-9 . _ @ + -\n\n"
    "  --team TEAM     primary team (created when missing); the user becomes a member\n"
    "  --email EMAIL   contact address (informational)\n"
    "  --help          show this help\n";
static const char USER_LIST_HELP[] =
    "usage: hubctl user list\n\n"
    "Lists users: name, email, primary team, teams, status, active API keys, created (UTC).\n";
static const char USER_ENABLE_HELP[] = "usage: hubctl user enable NAME\n\n"
                                       "Enables a user: their API keys work again.\n";
static const char USER_DISABLE_HELP[] = "usage: hubctl user disable NAME\n\n"
                                        "Disables a user: every API key of the user stops "
                                        "working and their admin page sessions end.\n";

static const char SQL_TEAM_FIND[] = "SELECT id FROM teams WHERE name = ? FOR UPDATE";
static const char SQL_TEAM_INSERT[] = "INSERT INTO teams (name) VALUES (?)";
static const char SQL_TEAM_ENSURE[] =
    "INSERT INTO teams (name) VALUES (?) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)";
static const char SQL_TEAM_LIST[] =
    "SELECT t.name, COUNT(m.user_id), DATE_FORMAT(t.created_at, '%Y-%m-%d %H:%i') "
    "FROM teams t LEFT JOIN memberships m ON m.team_id = t.id "
    "GROUP BY t.id, t.name, t.created_at ORDER BY t.name";
static const char SQL_USER_FIND[] = "SELECT id FROM users WHERE name = ? FOR UPDATE";
static const char SQL_USER_INSERT[] = "INSERT INTO users (name, email, team_id) VALUES (?, ?, ?)";
static const char SQL_MEMBER_INSERT[] = "INSERT INTO memberships (user_id, team_id) VALUES (?, ?)";
static const char SQL_USER_LIST[] =
    "SELECT u.name, u.email, t.name, "
    "(SELECT GROUP_CONCAT(t2.name ORDER BY t2.name SEPARATOR ',') FROM memberships m "
    " JOIN teams t2 ON t2.id = m.team_id WHERE m.user_id = u.id), u.disabled, "
    "(SELECT COUNT(*) FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL "
    " AND (k.expires_at IS NULL OR k.expires_at > UTC_TIMESTAMP(3))), "
    "DATE_FORMAT(u.created_at, '%Y-%m-%d %H:%i') "
    "FROM users u LEFT JOIN teams t ON t.id = u.team_id ORDER BY u.name";
static const char SQL_USER_STATE[] = "SELECT id, disabled FROM users WHERE name = ? FOR UPDATE";
static const char SQL_USER_SET[] = "UPDATE users SET disabled = ? WHERE id = ?";

static const char NAME_RULE[] = "names are 1-128 characters of A-Z a-z 0-9 . _ @ + -";

/* Audits the creation of team name (id). */
static bool audit_team(hubctl *h, const char *name, long long id)
{
    hub_jobj after;
    hub_jobj_begin(&after);
    hub_jobj_int(&after, "id", id);
    bool ok = hc_audit(h, "team.add", "team", name, NULL, &after);
    hub_jobj_free(&after);
    return ok;
}

static int team_add(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    long long id = 0;
    if (!hc_simple_args(argc, argv, "team add", TEAM_ADD_HELP, 1, "NAME", &pos, &status))
        return status;
    const char *name = pos.v[0];
    if (!hub_name_ok(name, 128, HUB_CHARS_PRINCIPAL))
        return hc_usage("team add", "team %s", NAME_RULE);
    if (!hc_tx_begin(h) || !hc_lookup_id(h, SQL_TEAM_FIND, name, &id))
        goto end;
    if (id != 0) {
        hc_err("team '%s' already exists", name);
        goto end;
    }
    hub_dbp p[1] = {DB_STR(name)};
    if (!hc_exec(h, SQL_TEAM_INSERT, p, 1, NULL, NULL, &id) || !audit_team(h, name, id) ||
        !hc_tx_commit(h))
        goto end;
    printf("added team %s\n", name);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    return status;
}

static int team_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME", "MEMBERS", "CREATED"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    if (!hc_simple_args(argc, argv, "team list", TEAM_LIST_HELP, 0, "", &pos, &status))
        return status;
    return hc_list(h, SQL_TEAM_LIST, NULL, 0, 3, HEADS, 0x2u, NULL);
}

static int user_add(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "user add";
    int status = HC_EXIT_FAIL;
    const char *team = NULL, *email = NULL;
    hc_pos pos;
    long long uid = 0, tid = 0, created = 0;
    hub_jobj after = {0};
    const hc_opt opts[] = {{"team", &team, NULL}, {"email", &email, NULL}};

    if (!hc_args(argc, argv, CMD, USER_ADD_HELP, opts, 2, 1, "NAME", &pos, &status))
        return status;
    const char *name = pos.v[0];
    if (!hub_name_ok(name, 128, HUB_CHARS_PRINCIPAL))
        return hc_usage(CMD, "user %s", NAME_RULE);
    if (team != NULL && !hub_name_ok(team, 128, HUB_CHARS_PRINCIPAL))
        return hc_usage(CMD, "team %s", NAME_RULE);
    if (email != NULL && !hub_email_ok(email))
        return hc_usage(CMD, "--email is not a plain address like name@example.com");

    if (!hc_tx_begin(h))
        goto end;
    if (!hc_lookup_id(h, SQL_USER_FIND, name, &uid))
        goto end;
    if (uid != 0) {
        hc_err("user '%s' already exists", name);
        goto end;
    }
    if (team != NULL) {
        hub_dbp tp[1] = {DB_STR(team)};
        if (!hc_exec(h, SQL_TEAM_ENSURE, tp, 1, NULL, &created, &tid))
            goto end;
        if (tid == 0) {
            hc_err("could not create or find team '%s'", team);
            goto end;
        }
        if (created == 1 && !audit_team(h, team, tid))
            goto end;
    }
    hub_dbp up[3] = {DB_STR(name), DB_STR(email), tid != 0 ? DB_INT(tid) : DB_NULL};
    if (!hc_exec(h, SQL_USER_INSERT, up, 3, NULL, NULL, &uid))
        goto end;
    if (tid != 0) {
        hub_dbp mp[2] = {DB_INT(uid), DB_INT(tid)};
        if (!hc_exec(h, SQL_MEMBER_INSERT, mp, 2, NULL, NULL, NULL))
            goto end;
    }
    hub_jobj_begin(&after);
    hub_jobj_int(&after, "id", uid);
    hub_jobj_str(&after, "email", email);
    hub_jobj_str(&after, "team", team);
    hub_jobj_str(&after, "role", "member");
    hub_jobj_bool(&after, "disabled", false);
    if (!hc_audit(h, "user.add", "user", name, NULL, &after) || !hc_tx_commit(h))
        goto end;
    if (team != NULL)
        printf("added user %s (team %s%s)\n", name, team, created == 1 ? ", new team" : "");
    else
        printf("added user %s (no team)\n", name);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_jobj_free(&after);
    return status;
}

/* A row of "user list": the status in words. */
static void user_cells(const hub_dbres *r, int i, const char **cells, char (*buf)[HC_CELL_MAX])
{
    (void)buf;
    cells[4] = hub_dbres_int(r, i, 4, 0) ? "disabled" : "active";
}

static int user_list(hubctl *h, int argc, char **argv)
{
    static const char *const HEADS[] = {"NAME",   "EMAIL",       "TEAM",   "TEAMS",
                                        "STATUS", "ACTIVE_KEYS", "CREATED"};
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    if (!hc_simple_args(argc, argv, "user list", USER_LIST_HELP, 0, "", &pos, &status))
        return status;
    return hc_list(h, SQL_USER_LIST, NULL, 0, 7, HEADS, 0x20u, user_cells);
}

static int user_set(hubctl *h, int argc, char **argv, bool disable)
{
    const char *cmd = disable ? "user disable" : "user enable";
    const char *word = disable ? "disabled" : "enabled";
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r = {0};
    hub_jobj before, after;
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    if (!hc_simple_args(argc, argv, cmd, disable ? USER_DISABLE_HELP : USER_ENABLE_HELP, 1, "NAME",
                        &pos, &status))
        goto end;
    status = HC_EXIT_FAIL;
    const char *name = pos.v[0];
    hub_dbp p[1] = {DB_STR(name)};
    if (!hc_tx_begin(h) || !hc_exec(h, SQL_USER_STATE, p, 1, &r, NULL, NULL))
        goto end;
    if (r.nrows == 0) {
        hc_err("no user named '%s'", name);
        goto end;
    }
    if ((hub_dbres_int(&r, 0, 1, 0) != 0) == disable) {
        printf("user %s was already %s\n", name, word);
        status = HC_EXIT_OK;
        goto end;
    }
    long long uid = hub_dbres_int(&r, 0, 0, 0);
    hub_dbp u[2] = {DB_INT(disable ? 1 : 0), DB_INT(uid)};
    if (!hc_exec(h, SQL_USER_SET, u, 2, NULL, NULL, NULL))
        goto end;
    if (disable && !hub_session_end_user(h->db, uid)) {
        hc_err("cannot end the sessions of user '%s': %s; nothing was changed", name,
               hub_db_error(h->db));
        goto end;
    }
    hub_jobj_bool(&before, "disabled", !disable);
    hub_jobj_bool(&after, "disabled", disable);
    if (!hc_audit(h, disable ? "user.disable" : "user.enable", "user", name, &before, &after) ||
        !hc_tx_commit(h))
        goto end;
    printf("user %s %s\n", name, word);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return status;
}

static int user_enable(hubctl *h, int argc, char **argv)
{
    return user_set(h, argc, argv, false);
}

static int user_disable(hubctl *h, int argc, char **argv)
{
    return user_set(h, argc, argv, true);
}

int hc_team_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"add", team_add, "add a team"},
        {"list", team_list, "list teams"},
    };
    return hc_dispatch(h, "team", "Teams that users, API keys and usage belong to.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}

int hc_user_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"add", user_add, "add a user (and its team when missing)"},
        {"list", user_list, "list users"},
        {"enable", user_enable, "let a user's API keys work again"},
        {"disable", user_disable, "stop every API key and page session of a user"},
        {"role", hc_user_role, "set a user's role on the admin pages (ends their sessions)"},
        {"passwd", hc_user_passwd, "set a local account's password, read from stdin"},
    };
    return hc_dispatch(h, "user", "Users: API key owners and admin page accounts.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
