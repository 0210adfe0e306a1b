/*
 * page.c — the shared plumbing of the admin page programs (see page.h): the request's
 * start (method, hub.conf, database, parsed request), sign-in, role and CSRF checks, the
 * responses (a page in the shared layout, error pages, 303 redirects), transactions with
 * their audit rows, reading rows and list pages, and the routing of a program's GET and
 * POST requests. The small HTML builders the pages are made of: page_html.c.
 *
 * Convention: a pg_* function that returns false has already answered the request (an error
 * page or a redirect); the caller only cleans up. Everything dynamic goes into the page
 * through hub_html (escaped); markup here is constant.
 */
#include "page.h"

#include "hub_session.h"

#include "hub_audit.h"
#include "hub_error.h"
#include "hub_log.h"
#include "hub_ops.h"
#include "hub_webauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *method(void)
{
    const char *m = getenv("REQUEST_METHOD");
    return m != NULL ? m : "GET";
}

bool pg_is_post(const pg *p)
{
    (void)p;
    return strcmp(method(), "POST") == 0;
}

/* ---- the request ------------------------------------------------------------------------ */

bool pg_start(pg *p, const char *program, const char *active, bool post_ok)
{
    char err[768];
    const char *m = method();

    memset(p, 0, sizeof(*p));
    hub_buf_init(&p->body, 0);
    hub_config_defaults(&p->cfg);
    p->program = program;
    p->active = active;
    hub_log_init(program, "info");
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && !(post_ok && strcmp(m, "POST") == 0)) {
        pg_header(p, post_ok ? "Allow: GET, HEAD, POST" : "Allow: GET, HEAD");
        pg_fail(p, 405, "This page does not accept that kind of request.");
        return false;
    }
    if (!hub_config_load(&p->cfg, hub_config_path(NULL), err, sizeof(err))) {
        HUB_ERROR("config: %s", err);
        pg_fail(p, 500,
                "The hub configuration cannot be read. The administrator should check "
                "hub.conf and the server's error log.");
        return false;
    }
    hub_log_init(program, p->cfg.log_level);
    hub_login_policy(p->cfg.login_max_failures, p->cfg.login_window_seconds,
                     p->cfg.login_lock_seconds);
    snprintf(p->self, sizeof(p->self), "%s/%s", p->cfg.admin_base, program);
    p->db = hub_db_new(&p->cfg);
    if (p->db == NULL) {
        pg_fail(p, 500, "Out of memory.");
        return false;
    }
    if (!hub_db_ensure(p->db)) {
        HUB_ERROR("database: %s", hub_db_error(p->db));
        pg_fail(p, 503, "The database is not reachable right now. Try again in a moment.");
        return false;
    }
    if (!hub_cgi_read(&p->cgi, err, sizeof(err))) {
        char msg[900];
        snprintf(msg, sizeof(msg), "The request could not be read: %s.", err);
        pg_fail(p, 400, msg);
        return false;
    }
    p->cgi_read = true;
    return true;
}

bool pg_auth(pg *p, const char *read_role, const char *write_role)
{
    char cookie[512] = "";
    hub_err e = hub_webauth_current(p->db, &p->cfg, &p->cgi, &p->s, cookie, sizeof(cookie));

    if (cookie[0] != '\0') {
        size_t n = strcspn(cookie, "\r\n");
        cookie[n] = '\0';
        pg_header(p, cookie);
    }
    switch (e) {
    case HUB_OK:
        break;
    case HUB_EAUTH:
        pg_redirect(p, "login.cgi");
        return false;
    case HUB_EFORBIDDEN:
        pg_fail(p, 403, "Your account is disabled. Ask an administrator to enable it.");
        return false;
    case HUB_EDB:
        pg_fail_db(p);
        return false;
    default:
        pg_fail(p, 500, "Signing in failed. The administrator should check the server's log.");
        return false;
    }
    p->signed_in = true;
    const char *need = pg_is_post(p) ? write_role : read_role;
    if (need == NULL || !hub_role_at_least(p->s.role, need)) {
        pg_fail(p, 403, "You do not have access to this page.");
        return false;
    }
    if (pg_is_post(p) && !hub_session_csrf_ok(&p->s, hub_cgi_form(&p->cgi, PG_CSRF_FIELD))) {
        pg_fail(p, 403,
                "This form has expired or did not come from this site, so nothing was "
                "changed. Reload the page and try again.");
        return false;
    }
    return true;
}

int pg_finish(pg *p)
{
    if (!p->sent)
        pg_fail(p, 500, "The page produced no answer.");
    pg_tx_rollback(p);
    if (p->cgi_read)
        hub_cgi_free(&p->cgi);
    hub_db_free(p->db);
    p->db = NULL;
    hub_buf_free(&p->body);
    explicit_bzero(&p->s, sizeof(p->s));
    return 0;
}

const char *pg_arg(const pg *p, const char *name)
{
    return p->cgi_read ? hub_cgi_query(&p->cgi, name) : NULL;
}

const char *pg_in(const pg *p, const char *name)
{
    const char *v = p->cgi_read ? hub_cgi_form(&p->cgi, name) : NULL;
    return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *pg_prefill(const pg *p, const char *name, const char *dflt)
{
    const char *v = pg_is_post(p) && p->cgi_read ? hub_cgi_form(&p->cgi, name) : NULL;
    return v != NULL ? v : dflt;
}

void pg_wipe_field(pg *p, const char *name)
{
    for (int i = 0; p->cgi_read && i < p->cgi.nform; i++) {
        if (strcmp(p->cgi.form[i].name, name) == 0)
            explicit_bzero(p->cgi.form[i].value, strlen(p->cgi.form[i].value));
    }
}

bool pg_id(const pg *p, const char *name, long long *id)
{
    long v = 0;
    const char *s = pg_is_post(p) ? pg_in(p, name) : pg_arg(p, name);
    *id = 0;
    if (s == NULL || !hub_int_ok(s, 1, 4294967295L, &v))
        return false;
    *id = v;
    return true;
}

long pg_page_no(const pg *p)
{
    long v = 1;
    const char *s = pg_arg(p, "page");
    if (s == NULL || !hub_int_ok(s, 1, PG_MAX_PAGE, &v))
        return 1;
    return v;
}

bool pg_role(const pg *p, const char *need)
{
    return p->signed_in && hub_role_at_least(p->s.role, need);
}

/* ---- answering -------------------------------------------------------------------------- */

void pg_header(pg *p, const char *line)
{
    size_t used = strlen(p->headers);
    if (strpbrk(line, "\r\n") != NULL)
        return;
    if (used + strlen(line) + 3 > sizeof(p->headers))
        return;
    snprintf(p->headers + used, sizeof(p->headers) - used, "%s\r\n", line);
}

void pg_begin(pg *p, const char *title)
{
    hub_page pv = {
        .title = title,
        .user = p->signed_in ? p->s.user : NULL,
        .role = p->signed_in ? p->s.role : NULL,
        .active = p->active,
        .csrf = p->signed_in ? p->s.csrf : NULL,
        .base = p->cfg.admin_base,
    };
    hub_html_begin(&p->body, &pv);
}

void pg_send(pg *p, int status)
{
    if (p->sent)
        return;
    hub_html_end(&p->body);
    hub_cgi_head(stdout, status, "text/html; charset=utf-8", p->headers);
    if (strcmp(method(), "HEAD") != 0 && p->body.len > 0)
        fwrite(p->body.data, 1, p->body.len, stdout);
    fflush(stdout);
    p->sent = true;
}

void pg_fail(pg *p, int status, const char *msg)
{
    if (p->sent)
        return;
    pg_tx_rollback(p);
    hub_buf_reset(&p->body);
    if (p->body.data != NULL)
        p->body.data[0] = '\0';
    pg_begin(p, hub_http_reason(status));
    hub_html_printf(&p->body, "<h1>%s</h1>\n", hub_http_reason(status));
    hub_html_notice(&p->body, "error", msg);
    if (status == 403 && !p->signed_in)
        hub_html_printf(&p->body, "<p><a href=\"%s/login.cgi\">Sign in</a></p>\n",
                        p->cfg.admin_base);
    else
        hub_html_printf(&p->body, "<p><a href=\"%s/\">Back to the start page</a></p>\n",
                        p->cfg.admin_base);
    pg_send(p, status);
}

void pg_fail_db(pg *p)
{
    bool down = p->db != NULL && hub_db_was_down(p->db);
    HUB_ERROR("database: %s", p->db != NULL ? hub_db_error(p->db) : "no handle");
    if (down)
        pg_fail(p, 503,
                "The database is not reachable right now. Nothing was changed; try "
                "again in a moment.");
    else
        pg_fail(p, 500,
                "A database error occurred and nothing was changed. The administrator "
                "can find the details in the server's error log.");
}

void pg_redirect(pg *p, const char *rel)
{
    char loc[1200];
    if (p->sent)
        return;
    if (strpbrk(rel, "\r\n") != NULL || strlen(rel) > 1000) {
        pg_fail(p, 500, "Bad redirect.");
        return;
    }
    snprintf(loc, sizeof(loc), "Location: %s/%s", p->cfg.admin_base, rel);
    pg_header(p, loc);
    hub_buf_reset(&p->body);
    hub_cgi_head(stdout, 303, "text/html; charset=utf-8", p->headers);
    if (strcmp(method(), "HEAD") != 0) {
        hub_html_printf(&p->body,
                        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<title>See Other</title></head><body><p><a href=\"%s/%s\">Continue"
                        "</a></p></body></html>\n",
                        p->cfg.admin_base, rel);
        fwrite(p->body.data, 1, p->body.len, stdout);
    }
    fflush(stdout);
    p->sent = true;
}

/* ---- changing things -------------------------------------------------------------------- */

bool pg_tx_begin(pg *p)
{
    if (!hub_tx_begin(p->db, &p->tx_thread)) {
        pg_fail_db(p);
        return false;
    }
    p->in_tx = true;
    return true;
}

bool pg_tx_commit(pg *p)
{
    if (!p->in_tx)
        return true;
    p->in_tx = false;
    if (!hub_tx_commit(p->db, p->tx_thread, p->err, sizeof(p->err))) {
        HUB_ERROR("commit: %s", p->err);
        pg_fail(p, 503, p->err);
        return false;
    }
    return true;
}

void pg_tx_rollback(pg *p)
{
    if (!p->in_tx)
        return;
    p->in_tx = false;
    hub_tx_rollback(p->db);
}

bool pg_audit(pg *p, const char *action, const char *target_type, const char *target,
              const char *before, const char *after)
{
    if (!hub_audit_log(p->db, p->s.user, "pages", action, target_type, target, before, after)) {
        pg_fail_db(p);
        return false;
    }
    return true;
}

void pg_refuse(pg *p, int status, const char *msg, void (*show)(pg *p, int status))
{
    pg_tx_rollback(p);
    pg_set_err(p, msg);
    if (show != NULL)
        show(p, status);
}

bool pg_audit_commit(pg *p, const char *action, const char *target_type, const char *target,
                     hub_jobj *before, hub_jobj *after)
{
    return pg_audit(p, action, target_type, target, before != NULL ? hub_jobj_text(before) : NULL,
                    after != NULL ? hub_jobj_text(after) : NULL) &&
           pg_tx_commit(p);
}

void pg_redirect_done(pg *p, const char *program, long long id, const char *done)
{
    char rel[160];
    if (id != 0)
        snprintf(rel, sizeof(rel), "%s?id=%lld&done=%s", program, id, done);
    else
        snprintf(rel, sizeof(rel), "%s?done=%s", program, done);
    pg_redirect(p, rel);
}

bool pg_keyring(pg *p, hub_keyring *kr)
{
    char err[768];
    memset(kr, 0, sizeof(*kr));
    if (!hub_keyring_load(kr, p->cfg.master_key_file, true, err, sizeof(err))) {
        HUB_ERROR("master key: %s", err);
        pg_fail(p, 500,
                "The master key cannot be read, so secrets cannot be sealed or opened. "
                "The administrator should check master_key_file in hub.conf.");
        return false;
    }
    return true;
}

/* ---- reading the database --------------------------------------------------------------- */

bool pg_exec(pg *p, const char *sql, const hub_dbp *q, int n, hub_dbres *r)
{
    if (!hub_db_exec(p->db, sql, q, n, r, NULL, NULL)) {
        pg_fail_db(p);
        return false;
    }
    return true;
}

bool pg_lookup_id(pg *p, const char *sql, const char *name, long long *id)
{
    hub_dbres r;
    hub_dbp q[1] = {DB_STR(name)};
    *id = 0;
    if (!pg_exec(p, sql, q, 1, &r))
        return false;
    if (r.nrows > 0)
        *id = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    return true;
}

bool pg_row(pg *p, const char *sql, long long id, hub_dbres *r, const char *missing)
{
    hub_dbp q[1] = {DB_INT(id)};
    if (!pg_exec(p, sql, q, 1, r))
        return false;
    if (r->nrows == 0) {
        hub_dbres_free(r);
        pg_fail(p, 404, missing);
        return false;
    }
    return true;
}

bool pg_list(pg *p, const char *sql, const hub_dbp *q, int n, long *page, hub_dbres *r)
{
    hub_dbp all[PG_LIST_PARAMS + 2];
    if (n > PG_LIST_PARAMS) {
        pg_fail(p, 500, "Too many list filters.");
        return false;
    }
    *page = pg_page_no(p);
    for (int i = 0; i < n; i++)
        all[i] = q[i];
    all[n] = DB_INT(PG_PAGE_SIZE + 1);
    all[n + 1] = DB_INT((*page - 1) * PG_PAGE_SIZE);
    return pg_exec(p, sql, all, n + 2, r);
}

int pg_shown(const hub_dbres *r)
{
    return r->nrows > PG_PAGE_SIZE ? PG_PAGE_SIZE : r->nrows;
}

bool pg_team_name(pg *p, long long tid, char *out, size_t outsz)
{
    static const char SQL_TEAM_NAME[] = "SELECT name FROM teams WHERE id = ?";
    hub_dbres r;
    hub_dbp q[1] = {DB_INT(tid)};
    out[0] = '\0';
    if (!pg_exec(p, SQL_TEAM_NAME, q, 1, &r))
        return false;
    if (r.nrows > 0 && hub_dbres_get(&r, 0, 0) != NULL)
        snprintf(out, outsz, "%s", hub_dbres_get(&r, 0, 0));
    hub_dbres_free(&r);
    return true;
}

/* ---- the program ------------------------------------------------------------------------ */

int pg_run(const pg_app *a)
{
    pg p;
    long long id = 0;
    if (pg_start(&p, a->program, a->active, a->post != NULL) &&
        pg_auth(&p, a->read_role, a->write_role)) {
        const char *view = pg_arg(&p, "view");
        if (pg_is_post(&p))
            a->post(&p);
        else if (a->view != NULL && view != NULL && strcmp(view, a->view) == 0)
            a->view_fn(&p, 200);
        else if (a->new_fn != NULL && pg_arg(&p, "new") != NULL && pg_role(&p, a->write_role))
            a->new_fn(&p, 200);
        else if (a->new_fn != NULL && pg_arg(&p, "new") != NULL)
            pg_fail(&p, 403, "You do not have access to this page.");
        else if (a->item != NULL && pg_arg(&p, "id") != NULL && pg_id(&p, "id", &id))
            a->item(&p, id, 200);
        else if (a->item != NULL && pg_arg(&p, "id") != NULL)
            pg_fail(&p, 404, a->missing);
        else
            a->list(&p, 200);
    }
    return pg_finish(&p);
}
