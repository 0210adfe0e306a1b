/*
 * users_post.c — the changes of users.cgi (admin only, CSRF-checked). Field "action":
 *
 *   create         name, email, role, team (id or empty), password, password2
 *   role           id, role      — ends every session of that user
 *   disable        id            — ends their sessions; the gateway refuses their keys
 *   enable         id
 *   member_add     id, team      member_remove  id, team      primary  id, team (empty: none)
 *   password       id, password, password2  (local accounts only)
 *   team_create    team_name
 *
 * An admin cannot change their own role or disable themselves (so the last admin cannot
 * lock everybody out by accident). Every change is audited in its transaction; passwords
 * appear in audit rows only as "(set)".
 */
#include "users.h"

#include "hub_ops.h"
#include "hub_password.h"

#include <stdio.h>
#include <string.h>

static const char SQL_USER_FIND[] = "SELECT id FROM users WHERE name = ? FOR UPDATE";
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (name, email, team_id, role, password_hash, auth_source) "
    "VALUES (?, ?, ?, ?, ?, 'local')";
static const char SQL_MEMBER_INSERT[] =
    "INSERT IGNORE INTO memberships (user_id, team_id) VALUES (?, ?)";
static const char SQL_MEMBER_DELETE[] = "DELETE FROM memberships WHERE user_id = ? AND team_id = ?";
static const char SQL_TEAM_FIND[] = "SELECT id FROM teams WHERE name = ? FOR UPDATE";
static const char SQL_TEAM_INSERT[] = "INSERT INTO teams (name) VALUES (?)";
static const char SQL_LOCK[] =
    "SELECT name, role, disabled, team_id, auth_source FROM users WHERE id = ? FOR UPDATE";
static const char SQL_SET_ROLE[] = "UPDATE users SET role = ? WHERE id = ?";
static const char SQL_SET_DISABLED[] = "UPDATE users SET disabled = ? WHERE id = ?";
static const char SQL_SET_TEAM[] = "UPDATE users SET team_id = ? WHERE id = ?";
static const char SQL_CLEAR_TEAM[] = "UPDATE users SET team_id = NULL WHERE id = ? AND team_id = ?";
static const char SQL_SET_TEAM_IF_NONE[] =
    "UPDATE users SET team_id = ? WHERE id = ? AND team_id IS NULL";
static const char SQL_SET_PASSWORD[] = "UPDATE users SET password_hash = ? WHERE id = ?";

static bool role_ok(const char *r)
{
    for (int i = 0; r != NULL && i < UV_NROLES; i++) {
        if (strcmp(r, UV_ROLES[2 * i]) == 0)
            return true;
    }
    return false;
}

/* Re-shows the list (id 0), the teams (id -1) or user id with msg. */
static void refuse(pg *p, long long id, int status, const char *msg)
{
    pg_refuse(p, status, msg, id == 0 ? uv_list : id < 0 ? uv_teams : NULL);
    if (id > 0)
        uv_user(p, id, status);
}

/* NULL when the two submitted passwords match and are strong enough, else why not. */
static const char *password_problem(pg *p)
{
    const char *pw = pg_in(p, "password"), *pw2 = pg_in(p, "password2");
    if (pw == NULL)
        return "Enter a password.";
    if (pw2 == NULL || strcmp(pw, pw2) != 0)
        return "The two passwords differ.";
    if (strlen(pw) > 1024)
        return "The password is longer than 1024 characters.";
    const char *weak = hub_password_weak(pw);
    if (weak == NULL)
        return NULL;
    snprintf(p->err, sizeof(p->err), "The password is too weak: %s.", weak);
    return p->err;
}

/* Hashes the submitted password into hash and wipes both password fields; false after an
 * error page. */
static bool hash_password(pg *p, char *hash, size_t hashsz)
{
    bool ok = hub_password_hash(pg_in(p, "password"), hash, hashsz);
    pg_wipe_field(p, "password");
    pg_wipe_field(p, "password2");
    if (!ok)
        pg_fail(p, 500, "The password could not be hashed.");
    return ok;
}

static void do_create(pg *p)
{
    const char *name = pg_in(p, "name"), *email = pg_in(p, "email"), *role = pg_in(p, "role");
    const char *why = NULL;
    char hash[256], team[129] = "";
    long long tid = 0, uid = 0;

    if (name == NULL || !hub_name_ok(name, 128, HUB_CHARS_PRINCIPAL))
        why = "The user name must be 1-128 characters of A-Z a-z 0-9 . _ @ + -.";
    else if (email != NULL && !hub_email_ok(email))
        why = "The e-mail address is not a plain address like name@example.com.";
    else if (!role_ok(role))
        why = "Choose a role.";
    else if (pg_in(p, "team") != NULL && !pg_id(p, "team", &tid))
        why = "Choose a team.";
    if (why == NULL)
        why = password_problem(p);
    if (why != NULL) {
        refuse(p, 0, 400, why);
        return;
    }
    if (tid != 0) {
        if (!pg_team_name(p, tid, team, sizeof(team)))
            return;
        if (team[0] == '\0') {
            refuse(p, 0, 400, "There is no such team.");
            return;
        }
    }
    if (!hash_password(p, hash, sizeof(hash)))
        return;
    if (!pg_tx_begin(p))
        return;
    if (!pg_lookup_id(p, SQL_USER_FIND, name, &uid))
        return;
    if (uid != 0) {
        refuse(p, 0, 409, "A user with this name exists already.");
        return;
    }
    hub_dbp ip[5] = {DB_STR(name), DB_STR(email), tid != 0 ? DB_INT(tid) : DB_NULL, DB_STR(role),
                     DB_STR(hash)};
    bool inserted = hub_db_exec(p->db, SQL_USER_INSERT, ip, 5, NULL, NULL, &uid);
    explicit_bzero(hash, sizeof(hash));
    if (!inserted) {
        pg_fail_db(p);
        return;
    }
    hub_dbp mp[2] = {DB_INT(uid), DB_INT(tid)};
    if (tid != 0 && !pg_exec(p, SQL_MEMBER_INSERT, mp, 2, NULL))
        return;
    pg_json a;
    pg_json_init(&a);
    pg_json_str(&a, "name", name);
    pg_json_str(&a, "email", email);
    pg_json_str(&a, "role", role);
    pg_json_str(&a, "team", tid != 0 ? team : NULL);
    pg_json_str(&a, "auth_source", "local");
    pg_json_str(&a, "password", "(set)");
    bool ok = pg_audit_commit(p, "user.create", "user", name, NULL, &a);
    pg_json_free(&a);
    if (ok)
        pg_redirect_done(p, "users.cgi", uid, "created");
}

static void do_team_create(pg *p)
{
    const char *name = pg_in(p, "team_name");
    if (name == NULL || !hub_name_ok(name, 128, HUB_CHARS_PRINCIPAL)) {
        refuse(p, -1, 400, "The team name must be 1-128 characters of A-Z a-z 0-9 . _ @ + -.");
        return;
    }
    if (!pg_tx_begin(p))
        return;
    long long tid = 0;
    if (!pg_lookup_id(p, SQL_TEAM_FIND, name, &tid))
        return;
    hub_dbp q[1] = {DB_STR(name)};
    if (tid != 0) {
        refuse(p, -1, 409, "A team with this name exists already.");
        return;
    }
    if (!pg_exec(p, SQL_TEAM_INSERT, q, 1, NULL) ||
        !pg_audit(p, "team.create", "team", name, NULL, "{}") || !pg_tx_commit(p))
        return;
    pg_redirect(p, "users.cgi?view=teams&done=team");
}

/* Locks user id into *r (name, role, disabled, team_id, auth_source); false after
 * answering. */
static bool lock_user(pg *p, long long id, hub_dbres *r)
{
    return pg_tx_begin(p) && pg_row(p, SQL_LOCK, id, r, "There is no such user.");
}

/* Commits and redirects to user id with ?done=done. */
static void finish(pg *p, long long id, const char *done)
{
    if (pg_tx_commit(p))
        pg_redirect_done(p, "users.cgi", id, done);
}

/* Audits action on user name with one before → after string field. */
static bool audit1(pg *p, const char *action, const char *name, const char *key, const char *before,
                   const char *after)
{
    pg_json b, a;
    pg_json_init(&b);
    pg_json_init(&a);
    pg_json_str(&b, key, before);
    pg_json_str(&a, key, after);
    bool ok = pg_audit(p, action, "user", name, pg_json_done(&b), pg_json_done(&a));
    pg_json_free(&b);
    pg_json_free(&a);
    return ok;
}

static void do_role(pg *p, long long id)
{
    const char *role = pg_in(p, "role");
    hub_dbres r;
    if (!role_ok(role)) {
        refuse(p, id, 400, "Choose a role.");
        return;
    }
    if (id == p->s.user_id) {
        refuse(p, id, 409, "You cannot change your own role.");
        return;
    }
    if (!lock_user(p, id, &r))
        return;
    hub_dbp q[2] = {DB_STR(role), DB_INT(id)};
    bool ok = pg_exec(p, SQL_SET_ROLE, q, 2, NULL);
    if (ok && !hub_session_end_user(p->db, id)) {
        pg_fail_db(p);
        ok = false;
    }
    ok = ok &&
         audit1(p, "user.role", hub_dbres_get(&r, 0, 0), "role", hub_dbres_get(&r, 0, 1), role);
    hub_dbres_free(&r);
    if (ok)
        finish(p, id, "role");
}

static void do_disable(pg *p, long long id, bool off)
{
    hub_dbres r;
    if (off && id == p->s.user_id) {
        refuse(p, id, 409, "You cannot disable yourself.");
        return;
    }
    if (!lock_user(p, id, &r))
        return;
    hub_dbp q[2] = {DB_INT(off ? 1 : 0), DB_INT(id)};
    bool ok = pg_exec(p, SQL_SET_DISABLED, q, 2, NULL);
    if (ok && off && !hub_session_end_user(p->db, id)) {
        pg_fail_db(p);
        ok = false;
    }
    ok = ok &&
         audit1(p, off ? "user.disable" : "user.enable", hub_dbres_get(&r, 0, 0), "status",
                hub_dbres_int(&r, 0, 2, 0) ? "disabled" : "active", off ? "disabled" : "active");
    hub_dbres_free(&r);
    if (ok)
        finish(p, id, off ? "disabled" : "enabled");
}

typedef enum { M_ADD, M_REMOVE, M_PRIMARY } member_op;

static void do_member(pg *p, long long id, member_op op)
{
    static const char *const ACTIONS[] = {"user.team_add", "user.team_remove", "user.primary_team"};
    long long tid = 0;
    char team[129] = "";
    hub_dbres r;

    if (pg_in(p, "team") != NULL && !pg_id(p, "team", &tid)) {
        refuse(p, id, 400, "Choose a team.");
        return;
    }
    if (tid == 0 && op != M_PRIMARY) {
        refuse(p, id, 400, "Choose a team.");
        return;
    }
    if (tid != 0) {
        if (!pg_team_name(p, tid, team, sizeof(team)))
            return;
        if (team[0] == '\0') {
            refuse(p, id, 400, "There is no such team.");
            return;
        }
    }
    if (!lock_user(p, id, &r))
        return;
    char before[129] = "";
    long long cur = hub_dbres_int(&r, 0, 3, 0);
    if (cur != 0 && op == M_PRIMARY && !pg_team_name(p, cur, before, sizeof(before))) {
        hub_dbres_free(&r);
        return;
    }
    hub_dbp ut[2] = {DB_INT(id), DB_INT(tid)};
    hub_dbp tu[2] = {DB_INT(tid), DB_INT(id)};
    hub_dbp clear[2] = {DB_NULL, DB_INT(id)};
    bool ok;
    if (op == M_ADD)
        ok = pg_exec(p, SQL_MEMBER_INSERT, ut, 2, NULL) &&
             pg_exec(p, SQL_SET_TEAM_IF_NONE, tu, 2, NULL);
    else if (op == M_REMOVE)
        ok = pg_exec(p, SQL_MEMBER_DELETE, ut, 2, NULL) && pg_exec(p, SQL_CLEAR_TEAM, ut, 2, NULL);
    else if (tid != 0)
        ok = pg_exec(p, SQL_MEMBER_INSERT, ut, 2, NULL) && pg_exec(p, SQL_SET_TEAM, tu, 2, NULL);
    else
        ok = pg_exec(p, SQL_SET_TEAM, clear, 2, NULL);
    if (ok) {
        if (op == M_PRIMARY)
            ok = audit1(p, ACTIONS[op], hub_dbres_get(&r, 0, 0), "primary_team",
                        before[0] ? before : NULL, tid ? team : NULL);
        else
            ok = audit1(p, ACTIONS[op], hub_dbres_get(&r, 0, 0), "team", op == M_ADD ? NULL : team,
                        op == M_ADD ? team : NULL);
    }
    hub_dbres_free(&r);
    if (ok)
        finish(p, id, op == M_PRIMARY ? "primary" : "member");
}

static void do_password(pg *p, long long id)
{
    char hash[256];
    hub_dbres r;
    const char *why = password_problem(p);
    if (why != NULL) {
        refuse(p, id, 400, why);
        return;
    }
    if (!hash_password(p, hash, sizeof(hash)))
        return;
    if (!lock_user(p, id, &r))
        return;
    const char *src = hub_dbres_get(&r, 0, 4);
    if (src == NULL || strcmp(src, "local") != 0) {
        hub_dbres_free(&r);
        refuse(p, id, 409,
               "Only local accounts have a password here; this user signs in "
               "through the company sign-in.");
        return;
    }
    hub_dbp q[2] = {DB_STR(hash), DB_INT(id)};
    bool ok = pg_exec(p, SQL_SET_PASSWORD, q, 2, NULL) &&
              audit1(p, "user.password", hub_dbres_get(&r, 0, 0), "password", NULL, "(set)");
    explicit_bzero(hash, sizeof(hash));
    hub_dbres_free(&r);
    if (ok)
        finish(p, id, "password");
}

void up_post(pg *p)
{
    const char *action = pg_in(p, "action");
    long long id = 0;
    if (action == NULL) {
        pg_fail(p, 400, "The form did not say what to do.");
    } else if (strcmp(action, "create") == 0) {
        do_create(p);
    } else if (strcmp(action, "team_create") == 0) {
        do_team_create(p);
    } else if (!pg_id(p, "id", &id)) {
        pg_fail(p, 400, "The form did not say which user.");
    } else if (strcmp(action, "role") == 0) {
        do_role(p, id);
    } else if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
        do_disable(p, id, strcmp(action, "disable") == 0);
    } else if (strcmp(action, "member_add") == 0) {
        do_member(p, id, M_ADD);
    } else if (strcmp(action, "member_remove") == 0) {
        do_member(p, id, M_REMOVE);
    } else if (strcmp(action, "primary") == 0) {
        do_member(p, id, M_PRIMARY);
    } else if (strcmp(action, "password") == 0) {
        do_password(p, id);
    } else {
        pg_fail(p, 400, "Unknown action.");
    }
}
