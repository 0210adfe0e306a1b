/*
 * cmd_account.c — admin page accounts from the shell: "hubctl admin create" (a local admin
 * account, for the first start and as break-glass), "hubctl user role" and
 * "hubctl user passwd".
 *
 * Passwords are hashed with hub_password_hash (PBKDF2) before any transaction starts, so
 * the slow hash never holds a row lock; weak ones are refused with hub_password_weak. A
 * password comes from stdin (never from the command line) or, for "admin create" without
 * one, is generated (HC_GEN_PASSWORD base62 characters from the CSPRNG) and printed once,
 * alone on stdout, before COMMIT: if stdout cannot take it, nothing is changed. Every
 * password or role change ends the user's page sessions (hub_session_end_user) in the same
 * transaction, and is audited without the password (HC_SEALED).
 */
#include "hubctl.h"

#include "hub_password.h"
#include "hub_session.h"

#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

/* Length of a generated password (base62: about 119 bits). */
#define HC_GEN_PASSWORD 20
/* Room for a stored password hash. */
#define HASH_MAX 256

static const char ADMIN_CREATE_HELP[] =
    "usage: hubctl admin create NAME [--email EMAIL] [--reset-password] [< PASSWORD_FILE]\n\n"
    "Creates a local admin account for the admin pages (role admin, signs in with a\n"
    "password). The password is the first line of stdin when stdin is not a terminal and\n"
    "that line is not empty; otherwise a strong one (20 characters A-Z a-z 0-9) is\n"
    "generated and printed ONCE on stdout, alone on its line (nothing else goes to stdout).\n"
    "Weak passwords (fewer than 12 characters, ...) are refused.\n\n"
    "  NAME               1-128 characters of A-Z a-z 0-9 . _ @ + -\n"
    "  --email EMAIL      contact address\n"
    "  --reset-password   when NAME exists: set a new password, make it a local admin\n"
    "                     account and end its sessions (without it an existing NAME is\n"
    "                     refused)\n"
    "  --help             show this help\n\n"
    "examples:\n"
    "  hubctl admin create root < /dev/null           # prints a generated password\n"
    "  printf '%s\\n' \"$PW\" | hubctl admin create ops --email ops@example.com\n";

static const char ROLE_HELP[] =
    "usage: hubctl user role NAME admin|viewer|member\n\n"
    "Sets the role of a user on the admin pages: admin (everything), viewer (read-only),\n"
    "member (own keys and usage). Ends the user's page sessions. For users who sign in\n"
    "through OIDC or the web server, the role map may set the role again at sign-in.\n";

static const char PASSWD_HELP[] =
    "usage: hubctl user passwd NAME < PASSWORD_FILE\n\n"
    "Sets the password of a local account (the first line of stdin; a hidden prompt on a\n"
    "terminal). Weak passwords are refused. Ends the user's page sessions. Users who sign\n"
    "in through OIDC or the web server have no password.\n";

static const char SQL_USER[] =
    "SELECT id, role, auth_source, password_hash IS NOT NULL, email, disabled FROM users "
    "WHERE name = ? FOR UPDATE";
static const char SQL_INSERT[] = "INSERT INTO users (name, email, role, password_hash, "
                                 "auth_source) VALUES (?, ?, 'admin', ?, 'local')";
static const char SQL_RESET[] =
    "UPDATE users SET password_hash = ?, role = 'admin', auth_source = 'local', "
    "email = COALESCE(?, email) WHERE id = ?";
static const char SQL_SET_ROLE[] = "UPDATE users SET role = ? WHERE id = ?";
static const char SQL_SET_PW[] =
    "UPDATE users SET password_hash = ?, auth_source = 'local' WHERE id = ?";
static const char SQL_ADMINS[] = "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0";

static const char NAME_RULE[] = "NAME must be 1-128 characters of A-Z a-z 0-9 . _ @ + -";

/* True for the users whose sign-in (and role) another system decides. */
static bool external(const char *auth_source)
{
    return auth_source != NULL &&
           (strcmp(auth_source, "oidc") == 0 || strcmp(auth_source, "webserver") == 0);
}

/* Fills pw with HC_GEN_PASSWORD base62 characters (unbiased) and a NUL. */
static bool generate(char *pw)
{
    static const char B62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[64];
    int n = 0;
    while (n < HC_GEN_PASSWORD) {
        if (!hub_random_bytes(r, sizeof(r)))
            return false;
        for (size_t i = 0; i < sizeof(r) && n < HC_GEN_PASSWORD; i++) {
            if (r[i] < 248) /* 248 = 4 * 62: keeps every character equally likely */
                pw[n++] = B62[r[i] % 62];
        }
    }
    pw[n] = '\0';
    explicit_bzero(r, sizeof(r));
    return true;
}

/* Refuses a weak password pw, else hashes it into hash (HASH_MAX bytes). false after
 * printing the error. */
static bool hash_password(const char *pw, char *hash)
{
    const char *weak = hub_password_weak(pw);
    if (weak != NULL) {
        hc_err("password refused: %s; nothing was changed", weak);
        return false;
    }
    if (!hub_password_hash(pw, hash, HASH_MAX)) {
        hc_err("cannot hash the password; nothing was changed");
        return false;
    }
    return true;
}

/*
 * Gets the password of "admin create": from stdin (not a terminal, first line not empty)
 * or generated (*generated). Checks its strength and hashes it into hash. false after
 * printing the error.
 */
static bool admin_password(char *pw, size_t pwsz, bool *generated, char *hash)
{
    size_t len = 0;
    char err[256];
    *generated = false;
    if (!isatty(STDIN_FILENO) &&
        !hc_read_secret("password", "password", pw, pwsz, &len, true, err, sizeof(err))) {
        hc_err("%s", err);
        return false;
    }
    if (len == 0) {
        if (!generate(pw)) {
            hc_err("cannot generate a password (no randomness available)");
            return false;
        }
        *generated = true;
    }
    return hash_password(pw, hash);
}

/* Writes the generated password alone on stdout. false (and nothing left in the stdio
 * buffer) when stdout cannot take it. */
static bool show_password(const char *pw)
{
    if (fputs(pw, stdout) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        __fpurge(stdout);
        hc_err("cannot write the password to stdout; nothing was changed");
        return false;
    }
    return true;
}

/* Begins the transaction and locks user name's row into *r (SQL_USER). false after printing
 * the error (no such user, database). */
static bool lock_user(hubctl *h, const char *name, hub_dbres *r)
{
    hub_dbp p[1] = {DB_STR(name)};
    if (!hc_tx_begin(h) || !hc_exec(h, SQL_USER, p, 1, r, NULL, NULL))
        return false;
    if (r->nrows == 0) {
        hc_err("no user named '%s' (see 'hubctl user list')", name);
        return false;
    }
    return true;
}

/* Ends every page session of user uid inside the open transaction. */
static bool end_sessions(hubctl *h, long long uid, const char *name)
{
    if (hub_session_end_user(h->db, uid))
        return true;
    hc_err("cannot end the sessions of '%s': %s; nothing was changed", name, hub_db_error(h->db));
    return false;
}

/*
 * The transaction of "admin create": inserts NAME, or with reset updates the existing
 * row (ur, locked) and ends its sessions; then the audit row. *existed tells which.
 */
static bool admin_write(hubctl *h, const char *name, const char *email, const char *hash,
                        bool reset, hub_dbres *ur, bool *existed)
{
    bool rc = false;
    long long uid = 0;
    hub_jobj before, after;
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    hub_dbp p[1] = {DB_STR(name)};
    if (!hc_exec(h, SQL_USER, p, 1, ur, NULL, NULL))
        goto end;
    *existed = ur->nrows > 0;
    if (*existed && !reset) {
        hc_err("user '%s' already exists (to give it a new password and make it a local admin: "
               "--reset-password)",
               name);
        goto end;
    }
    if (*existed) {
        uid = hub_dbres_int(ur, 0, 0, 0);
        hub_dbp u[3] = {DB_STR(hash), DB_STR(email), DB_INT(uid)};
        if (!hc_exec(h, SQL_RESET, u, 3, NULL, NULL, NULL) || !end_sessions(h, uid, name))
            goto end;
        hub_jobj_str(&before, "role", hub_dbres_get(ur, 0, 1));
        hub_jobj_str(&before, "auth_source", hub_dbres_get(ur, 0, 2));
        hub_jobj_str(&before, "password", hub_dbres_int(ur, 0, 3, 0) ? HC_SEALED : NULL);
        hub_jobj_str(&before, "email", hub_dbres_get(ur, 0, 4));
    } else {
        hub_dbp ip[3] = {DB_STR(name), DB_STR(email), DB_STR(hash)};
        if (!hc_exec(h, SQL_INSERT, ip, 3, NULL, NULL, &uid))
            goto end;
        hub_jobj_int(&after, "id", uid);
    }
    hub_jobj_str(&after, "role", "admin");
    hub_jobj_str(&after, "auth_source", "local");
    hub_jobj_str(&after, "password", HC_SEALED);
    hub_jobj_str(&after, "email", email != NULL || !*existed ? email : hub_dbres_get(ur, 0, 4));
    rc = hc_audit(h, *existed ? "admin.reset_password" : "admin.create", "user", name,
                  *existed ? &before : NULL, &after);
end:
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return rc;
}

static int admin_create(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "admin create";
    int status = HC_EXIT_USAGE;
    hc_pos pos;
    const char *email = NULL;
    bool reset = false, generated = false, existed = false;
    const hc_opt opts[] = {{"email", &email, NULL}, {"reset-password", NULL, &reset}};
    char pw[HC_SECRET_MAX + 3]; /* wiped at end */
    char hash[HASH_MAX];
    hub_dbres ur = {0};

    memset(pw, 0, sizeof(pw));

    if (!hc_args(argc, argv, CMD, ADMIN_CREATE_HELP, opts, 2, 1, "NAME", &pos, &status))
        return status;
    const char *name = pos.v[0];
    if (!hub_name_ok(name, 128, HUB_CHARS_PRINCIPAL))
        return hc_usage(CMD, "%s", NAME_RULE);
    if (email != NULL && !hub_email_ok(email))
        return hc_usage(CMD, "--email is not a plain address like name@example.com");
    status = HC_EXIT_FAIL;

    if (hc_db(h) == NULL || !admin_password(pw, sizeof(pw), &generated, hash))
        goto end;
    if (!hc_tx_begin(h) || !admin_write(h, name, email, hash, reset, &ur, &existed))
        goto end;
    /* a generated password, alone, once; only then commit, so a lost one changes nothing */
    if (generated && !show_password(pw))
        goto end;
    if (!hc_tx_commit(h)) {
        if (generated)
            hc_err("the password printed above was NOT set; discard it");
        goto end;
    }
    if (existed && hub_dbres_int(&ur, 0, 5, 0) != 0)
        hc_err("warning: user '%s' is disabled; 'hubctl user enable %s' lets it sign in", name,
               name);
    if (!generated)
        printf("%s admin account %s (local password%s)\n",
               existed ? "reset the password of" : "created", name,
               existed ? "; its sessions were ended" : "");
    else if (isatty(STDOUT_FILENO))
        fprintf(stderr,
                "hubctl: %s admin account '%s'; store the password now, it is not shown "
                "again\n",
                existed ? "reset" : "created", name);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(pw, sizeof(pw));
    explicit_bzero(hash, sizeof(hash));
    hub_dbres_free(&ur);
    return status;
}

int hc_user_role(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "user role";
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r = {0}, admins = {0};
    hub_jobj before, after;
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    if (!hc_simple_args(argc, argv, CMD, ROLE_HELP, 2, "NAME and ROLE", &pos, &status))
        goto end;
    const char *name = pos.v[0], *role = pos.v[1];
    if (strcmp(role, "admin") != 0 && strcmp(role, "viewer") != 0 && strcmp(role, "member") != 0) {
        status = hc_usage(CMD, "ROLE must be admin, viewer or member");
        goto end;
    }
    status = HC_EXIT_FAIL;
    if (!lock_user(h, name, &r))
        goto end;
    long long uid = hub_dbres_int(&r, 0, 0, 0);
    const char *old = hub_dbres_get(&r, 0, 1);
    if (old != NULL && strcmp(old, role) == 0) {
        printf("user %s already has role %s\n", name, role);
        status = HC_EXIT_OK;
        goto end;
    }
    hub_dbp u[2] = {DB_STR(role), DB_INT(uid)};
    if (!hc_exec(h, SQL_SET_ROLE, u, 2, NULL, NULL, NULL) || !end_sessions(h, uid, name) ||
        !hc_exec(h, SQL_ADMINS, NULL, 0, &admins, NULL, NULL))
        goto end;
    hub_jobj_str(&before, "role", old);
    hub_jobj_str(&after, "role", role);
    if (!hc_audit(h, "user.role", "user", name, &before, &after) || !hc_tx_commit(h))
        goto end;
    printf("user %s: role %s -> %s (sessions ended)\n", name, old != NULL ? old : "-", role);
    if (external(hub_dbres_get(&r, 0, 2)))
        hc_err("note: %s signs in through %s; the role map may set the role again at sign-in", name,
               hub_dbres_get(&r, 0, 2));
    if (hub_dbres_int(&admins, 0, 0, 0) == 0)
        hc_err("warning: no enabled admin is left; 'hubctl admin create NAME' makes one");
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_dbres_free(&r);
    hub_dbres_free(&admins);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return status;
}

int hc_user_passwd(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "user passwd";
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_dbres r = {0};
    char pw[HC_SECRET_MAX + 3]; /* wiped at end */
    char hash[HASH_MAX];
    char err[256];
    size_t len = 0;
    hub_jobj before, after;

    memset(pw, 0, sizeof(pw));
    memset(hash, 0, sizeof(hash));
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    if (!hc_simple_args(argc, argv, CMD, PASSWD_HELP, 1, "NAME", &pos, &status))
        goto end;
    status = HC_EXIT_FAIL;
    const char *name = pos.v[0];
    if (!hub_name_ok(name, 128, HUB_CHARS_PRINCIPAL)) {
        status = hc_usage(CMD, "%s", NAME_RULE);
        goto end;
    }
    if (hc_db(h) == NULL)
        goto end;
    if (!hc_read_secret("new password", "password", pw, sizeof(pw), &len, false, err,
                        sizeof(err))) {
        hc_err("%s", err);
        goto end;
    }
    if (!hash_password(pw, hash))
        goto end;
    if (!lock_user(h, name, &r))
        goto end;
    const char *src = hub_dbres_get(&r, 0, 2);
    if (external(src)) {
        hc_err("user '%s' signs in through %s and has no password (a local break-glass admin: "
               "'hubctl admin create NAME')",
               name, src);
        goto end;
    }
    long long uid = hub_dbres_int(&r, 0, 0, 0);
    hub_dbp u[2] = {DB_STR(hash), DB_INT(uid)};
    if (!hc_exec(h, SQL_SET_PW, u, 2, NULL, NULL, NULL) || !end_sessions(h, uid, name))
        goto end;
    hub_jobj_str(&before, "password", hub_dbres_int(&r, 0, 3, 0) ? HC_SEALED : NULL);
    hub_jobj_str(&before, "auth_source", src);
    hub_jobj_str(&after, "password", HC_SEALED);
    hub_jobj_str(&after, "auth_source", "local");
    if (!hc_audit(h, "user.passwd", "user", name, &before, &after) || !hc_tx_commit(h))
        goto end;
    printf("password of %s set (sessions ended)\n", name);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    explicit_bzero(pw, sizeof(pw));
    explicit_bzero(hash, sizeof(hash));
    hub_dbres_free(&r);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return status;
}

int hc_admin_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"create", admin_create, "create a local admin account (or --reset-password)"},
    };
    return hc_dispatch(h, "admin", "Local admin accounts for the admin pages.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
