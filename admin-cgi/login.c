/*
 * login.c — login.cgi: signing in and out of the admin pages.
 *
 *   GET                      the sign-in page: the local account form (admin_auth lists
 *                            "local") and/or the "Sign in with your company account" button
 *                            (admin_auth lists "oidc": BASE/oidc.cgi?start=1). In webserver
 *                            mode, and when already signed in, it redirects to the start page.
 *   POST action=login        user, password, csrf. The form's CSRF token is a pre-session
 *                            double-submit token (cookie hub_login + hidden field), so a
 *                            cross-site page cannot sign a browser in to another account.
 *                            Throttled per user name and per client address; every failure
 *                            says only "wrong user name or password".
 *   POST action=logout       csrf of the session: ends the session, clears the cookie.
 *
 * Sign-ins and sign-outs are audited ("login", "logout") in the transaction that creates or
 * ends the session.
 */
#include "page.h"

#include "hub_log.h"
#include "hub_password.h"
#include "hub_webauth.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define PRE_COOKIE "hub_login"
#define GENERIC    "wrong user name or password"

static const char SQL_USER[] =
    "SELECT id, password_hash, disabled FROM users WHERE name = ? AND password_hash IS NOT NULL";
static const char SQL_LAST_LOGIN[] = "UPDATE users SET last_login_at = UTC_TIMESTAMP(3) "
                                     "WHERE id = ?";

static const char *const DONE[] = {
    "logout", "You have signed out.", "expired", "Your session has ended. Sign in again.", NULL,
};

/* Messages oidc.cgi may ask for with ?error=CODE (never echoed verbatim). */
static const char *const ERRORS[] = {
    "oidc",     "Company sign-in failed. Try again, or ask an administrator.",
    "denied",   "Company sign-in was cancelled or refused.",
    "disabled", "Your account is disabled. Ask an administrator to enable it.",
    "config",   "Company sign-in is not configured yet. Ask an administrator.",
    NULL,
};

/* A Set-Cookie line for the pre-session token (value NULL clears it). */
static void pre_cookie(pg *p, const char *value)
{
    char line[300];
    snprintf(line, sizeof(line),
             "Set-Cookie: " PRE_COOKIE "=%s; Path=%s/login.cgi; HttpOnly; "
             "SameSite=Strict; Max-Age=%d%s",
             value != NULL ? value : "", p->cfg.admin_base, value != NULL ? 3600 : 0,
             p->cfg.cookie_secure ? "; Secure" : "");
    pg_header(p, line);
}

/* Sends the sign-in page with status; error (may be NULL) as an error notice. */
static void show_form(pg *p, int status, const char *error)
{
    unsigned char raw[32];
    char token[65];
    bool local = hub_webauth_mode(&p->cfg, "local");
    bool oidc = hub_webauth_mode(&p->cfg, "oidc");

    pg_begin(p, "Sign in");
    hub_html_raw(&p->body, "<section class=\"panel signin\">\n<h1>Sign in to hub</h1>\n");
    pg_done_notice(p, DONE);
    const char *code = pg_arg(p, "error");
    for (int i = 0; code != NULL && ERRORS[i] != NULL; i += 2) {
        if (strcmp(code, ERRORS[i]) == 0)
            hub_html_notice(&p->body, "error", ERRORS[i + 1]);
    }
    if (error != NULL)
        hub_html_notice(&p->body, "error", error);
    if (local) {
        if (!hub_random_bytes(raw, sizeof(raw))) {
            pg_fail(p, 500, "No randomness available.");
            return;
        }
        hub_hex(raw, sizeof(raw), token);
        pre_cookie(p, token);
        hub_html_form_open(&p->body, p->self, token);
        hub_html_raw(&p->body, "<div class=\"stack\">\n");
        pg_input(p, "User name", "text", "user", pg_prefill(p, "user", NULL),
                 "required maxlength=\"128\" autocomplete=\"username\" autofocus", NULL);
        pg_input(p, "Password", "password", "password", NULL,
                 "required maxlength=\"1024\" autocomplete=\"current-password\"", NULL);
        pg_button(p, "login", "Sign in", NULL);
        pg_form_close(p);
    }
    if (oidc)
        hub_html_printf(&p->body,
                        "<p class=\"sso\"><a class=\"btn\" href=\"%s/oidc.cgi?start=1\">Sign in "
                        "with your company account</a></p>\n",
                        p->cfg.admin_base);
    if (!local && !oidc && hub_cgi_env(p->cfg.webserver_user_var) != NULL)
        hub_html_printf(&p->body,
                        "<p>Your company sign-in at the web server is still active. "
                        "<a class=\"btn\" href=\"%s/\">Continue to hub</a></p>\n",
                        p->cfg.admin_base);
    else if (!local && !oidc)
        hub_html_notice(&p->body, "info",
                        "Sign-in is handled by the web server, and it did not identify you. "
                        "Ask an administrator.");
    hub_html_raw(&p->body, "</section>\n");
    explicit_bzero(raw, sizeof(raw));
    pg_send(p, status);
}

static void get_page(pg *p)
{
    hub_session s;
    const char *cookie = hub_cgi_cookie(&p->cgi, HUB_SESSION_COOKIE);
    const char *done = pg_arg(p, "done");
    bool after_logout = done != NULL && strcmp(done, "logout") == 0;

    if (hub_webauth_mode(&p->cfg, "webserver") && !after_logout &&
        hub_cgi_env(p->cfg.webserver_user_var) != NULL) {
        pg_redirect(p, "");
        return;
    }
    if (cookie != NULL && hub_session_load(p->db, cookie, &s)) {
        explicit_bzero(&s, sizeof(s));
        pg_redirect(p, "");
        return;
    }
    show_form(p, 200, NULL);
}

/* True when the form's pre-session token matches its cookie (constant time). */
static bool pre_token_ok(const pg *p)
{
    const char *c = hub_cgi_cookie(&p->cgi, PRE_COOKIE);
    const char *f = hub_cgi_form(&p->cgi, PG_CSRF_FIELD);
    if (c == NULL || f == NULL || strlen(c) != 64 || strlen(f) != 64)
        return false;
    return CRYPTO_memcmp(c, f, 64) == 0;
}

/* Checks user/password; on success *uid gets the user's id. Constant work whether or not
 * the user exists (a missing user costs one password hash too). false + p->err on DB error. */
static bool check_password(pg *p, const char *user, const char *pw, long long *uid, bool *ok)
{
    hub_dbres r;
    hub_dbp q[1] = {DB_STR(user)};
    *uid = 0;
    *ok = false;
    if (!hub_db_exec(p->db, SQL_USER, q, 1, &r, NULL, NULL))
        return false;
    if (r.nrows == 1) {
        bool match = hub_password_verify(pw, hub_dbres_get(&r, 0, 1));
        *ok = match && hub_dbres_int(&r, 0, 2, 1) == 0;
        *uid = hub_dbres_int(&r, 0, 0, 0);
    } else {
        char waste[256];
        (void)hub_password_hash(pw, waste, sizeof(waste));
    }
    hub_dbres_free(&r);
    return true;
}

static void do_login(pg *p)
{
    const char *user = pg_in(p, "user");
    const char *pw = pg_in(p, "password");
    char subj_user[200], subj_addr[100];
    char cookie[65], line[512];
    long retry = 0, retry2 = 0;
    long long uid = 0;
    bool ok = false;

    if (!hub_webauth_mode(&p->cfg, "local")) {
        pg_fail(p, 403, "Sign-in with a local account is turned off.");
        return;
    }
    if (!pre_token_ok(p)) {
        show_form(p, 403, "The sign-in form expired. Try again.");
        return;
    }
    if (user == NULL || pw == NULL) {
        show_form(p, 400, "Enter your user name and password.");
        return;
    }
    snprintf(subj_user, sizeof(subj_user), "user:%.128s", user);
    snprintf(subj_addr, sizeof(subj_addr), "addr:%.64s", p->cgi.remote_addr);
    if (!hub_login_allowed(p->db, subj_user, &retry) ||
        !hub_login_allowed(p->db, subj_addr, &retry2)) {
        char msg[160];
        long wait = retry > retry2 ? retry : retry2;
        snprintf(msg, sizeof(msg), "Too many failed sign-ins. Try again in %ld minute%s.",
                 (wait + 59) / 60, (wait + 59) / 60 == 1 ? "" : "s");
        show_form(p, 429, msg);
        return;
    }
    if (strlen(user) <= 128 && !check_password(p, user, pw, &uid, &ok)) {
        pg_fail_db(p);
        return;
    }
    if (!ok) {
        hub_login_failed(p->db, subj_user);
        hub_login_failed(p->db, subj_addr);
        HUB_WARN("failed sign-in from %s", p->cgi.remote_addr);
        show_form(p, 403, GENERIC);
        return;
    }
    /* only the account's count is reset: a valid login must not clear the address's
     * failures (one known account would otherwise reset guessing at others) */
    hub_login_succeeded(p->db, subj_user);
    if (!pg_tx_begin(p))
        return;
    hub_dbp q[1] = {DB_INT(uid)};
    if (!hub_db_exec(p->db, SQL_LAST_LOGIN, q, 1, NULL, NULL, NULL) ||
        !hub_session_create(p->db, uid, p->cgi.remote_addr, p->cfg.session_ttl_minutes, cookie,
                            &p->s)) {
        pg_fail_db(p);
        return;
    }
    p->signed_in = true;
    pg_json after;
    pg_json_init(&after);
    pg_json_str(&after, "remote_addr", p->cgi.remote_addr);
    pg_json_str(&after, "method", "local");
    bool audited = pg_audit(p, "login", "user", p->s.user, NULL, pg_json_done(&after));
    pg_json_free(&after);
    if (!audited || !pg_tx_commit(p)) {
        explicit_bzero(cookie, sizeof(cookie));
        return;
    }
    hub_session_cookie_header(line, sizeof(line), cookie, p->cfg.cookie_secure != 0,
                              p->cfg.session_ttl_minutes);
    line[strcspn(line, "\r\n")] = '\0';
    pg_header(p, line);
    pre_cookie(p, NULL);
    explicit_bzero(cookie, sizeof(cookie));
    explicit_bzero(line, sizeof(line));
    pg_redirect(p, "");
}

static void do_logout(pg *p)
{
    char line[512];
    const char *cookie = hub_cgi_cookie(&p->cgi, HUB_SESSION_COOKIE);

    if (cookie != NULL && hub_session_load(p->db, cookie, &p->s)) {
        p->signed_in = true;
        if (!hub_session_csrf_ok(&p->s, hub_cgi_form(&p->cgi, PG_CSRF_FIELD))) {
            pg_fail(p, 403,
                    "This form has expired or did not come from this site, so you are "
                    "still signed in. Reload the page and try again.");
            return;
        }
        if (!pg_tx_begin(p))
            return;
        if (!hub_session_end(p->db, cookie)) {
            pg_fail_db(p);
            return;
        }
        if (!pg_audit(p, "logout", "user", p->s.user, NULL, NULL) || !pg_tx_commit(p))
            return;
        p->signed_in = false;
    }
    hub_session_cookie_header(line, sizeof(line), NULL, p->cfg.cookie_secure != 0, 0);
    line[strcspn(line, "\r\n")] = '\0';
    pg_header(p, line);
    pg_redirect(p, "login.cgi?done=logout");
}

int main(void)
{
    pg p;
    if (pg_start(&p, "login.cgi", NULL, true)) {
        const char *action = pg_in(&p, "action");
        if (!pg_is_post(&p))
            get_page(&p);
        else if (action != NULL && strcmp(action, "logout") == 0)
            do_logout(&p);
        else if (action == NULL || strcmp(action, "login") == 0)
            do_login(&p);
        else
            pg_fail(&p, 400, "Unknown action.");
    }
    return pg_finish(&p);
}
