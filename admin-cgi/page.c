/*
 * page.c — the shared plumbing of the admin page programs (see page.h): the request's
 * start (method, hub.conf, database, parsed request), sign-in, role and CSRF checks, the
 * responses (a page in the shared layout, error pages, 303 redirects), transactions with
 * their audit rows, and the small HTML builders the pages are made of.
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

void pg_json_init(pg_json *j)
{
    hub_buf_init(&j->b, 0);
    j->any = false;
    hub_buf_puts(&j->b, "{");
}

static void json_key(pg_json *j, const char *key)
{
    if (j->any)
        hub_buf_puts(&j->b, ",");
    j->any = true;
    hub_buf_json_str(&j->b, key);
    hub_buf_puts(&j->b, ":");
}

void pg_json_str(pg_json *j, const char *key, const char *value)
{
    json_key(j, key);
    if (value == NULL)
        hub_buf_puts(&j->b, "null");
    else
        hub_buf_json_str(&j->b, value);
}

void pg_json_int(pg_json *j, const char *key, long long value)
{
    json_key(j, key);
    hub_buf_printf(&j->b, "%lld", value);
}

void pg_json_bool(pg_json *j, const char *key, bool value)
{
    json_key(j, key);
    hub_buf_puts(&j->b, value ? "true" : "false");
}

void pg_json_row(pg_json *j, const hub_dbres *r, int row, const char *const *keys, int n)
{
    for (int i = 0; i < n && row < r->nrows; i++)
        pg_json_str(j, keys[i], hub_dbres_get(r, row, i));
}

const char *pg_json_done(pg_json *j)
{
    hub_buf_puts(&j->b, "}");
    return j->b.data;
}

void pg_json_free(pg_json *j)
{
    hub_buf_free(&j->b);
}

/* ---- writing HTML ----------------------------------------------------------------------- */

void pg_done_notice(pg *p, const char *const *msgs)
{
    const char *done = pg_arg(p, "done");
    for (int i = 0; done != NULL && msgs[i] != NULL; i += 2) {
        if (strcmp(msgs[i], done) == 0) {
            hub_html_notice(&p->body, "ok", msgs[i + 1]);
            return;
        }
    }
}

void pg_set_err(pg *p, const char *msg)
{
    if (msg != p->err)
        snprintf(p->err, sizeof(p->err), "%s", msg != NULL ? msg : "");
    if (p->err[0] >= 'a' && p->err[0] <= 'z')
        p->err[0] = (char)(p->err[0] - 'a' + 'A'); /* lib messages start in lower case */
}

void pg_error_notice(pg *p, const char *msg)
{
    hub_html_notice(&p->body, "error", p->err[0] != '\0' ? p->err : msg);
}

void pg_table_begin(pg *p, const char *const *heads, int n)
{
    hub_html_raw(&p->body, "<div class=\"table-wrap\"><table class=\"list\">\n<thead><tr>");
    for (int i = 0; i < n; i++) {
        hub_html_raw(&p->body, "<th scope=\"col\">");
        hub_html_raw(&p->body, heads[i]);
        hub_html_raw(&p->body, "</th>");
    }
    hub_html_raw(&p->body, "</tr></thead>\n<tbody>\n");
}

void pg_table_end(pg *p)
{
    hub_html_raw(&p->body, "</tbody></table></div>\n");
}

void pg_td(pg *p, const char *value)
{
    if (value == NULL || value[0] == '\0')
        hub_html_raw(&p->body, "<td class=\"none\">—</td>");
    else
        hub_html_printf(&p->body, "<td>%s</td>", value);
}

void pg_td_num(pg *p, long long value)
{
    hub_html_printf(&p->body, "<td class=\"num\">%lld</td>", value);
}

void pg_td_badge(pg *p, const char *kind, const char *text)
{
    hub_html_printf(&p->body, "<td><span class=\"badge badge-%s\">%s</span></td>", kind, text);
}

void pg_empty_row(pg *p, int ncols, const char *text)
{
    hub_html_printf(&p->body, "<tr><td colspan=\"%d\" class=\"empty\">%s</td></tr>\n", ncols, text);
}

void pg_form_open(pg *p, const char *layout)
{
    hub_html_form_open(&p->body, p->self, p->signed_in ? p->s.csrf : "");
    hub_html_printf(&p->body, "<div class=\"%s\">\n", layout != NULL ? layout : "stack");
}

void pg_form_close(pg *p)
{
    hub_html_raw(&p->body, "</div></form>\n");
}

void pg_hidden(pg *p, const char *name, const char *value)
{
    hub_html_printf(&p->body, "<input type=\"hidden\" name=\"%s\" value=\"%s\">", name,
                    value != NULL ? value : "");
}

void pg_hidden_id(pg *p, const char *name, long long id)
{
    hub_html_printf(&p->body, "<input type=\"hidden\" name=\"%s\" value=\"%lld\">", name, id);
}

static void hint(pg *p, const char *text)
{
    if (text != NULL)
        hub_html_printf(&p->body, "<small class=\"hint\">%s</small>", text);
}

void pg_input(pg *p, const char *label, const char *type, const char *name, const char *value,
              const char *attrs, const char *hint_text)
{
    hub_html_printf(&p->body, "<label>%s <input type=\"%s\" name=\"%s\"", label, type, name);
    if (value != NULL)
        hub_html_printf(&p->body, " value=\"%s\"", value);
    if (attrs != NULL) {
        hub_html_raw(&p->body, " ");
        hub_html_raw(&p->body, attrs);
    }
    hub_html_raw(&p->body, ">");
    hint(p, hint_text);
    hub_html_raw(&p->body, "</label>\n");
}

static void option(pg *p, const char *value, const char *text, const char *selected)
{
    bool on = selected != NULL && value != NULL && strcmp(selected, value) == 0;
    hub_html_printf(&p->body, "<option value=\"%s\"", value != NULL ? value : "");
    hub_html_raw(&p->body, on ? " selected>" : ">");
    hub_html_printf(&p->body, "%s</option>", text != NULL ? text : value);
}

void pg_select(pg *p, const char *label, const char *name, const char *const *opts, int nopts,
               const char *selected, const char *hint_text)
{
    hub_html_printf(&p->body, "<label>%s <select name=\"%s\">", label, name);
    for (int i = 0; i < nopts; i++)
        option(p, opts[2 * i], opts[2 * i + 1], selected);
    hub_html_raw(&p->body, "</select>");
    hint(p, hint_text);
    hub_html_raw(&p->body, "</label>\n");
}

void pg_select_res(pg *p, const char *label, const char *name, const hub_dbres *r,
                   const char *selected, const char *empty_text, const char *hint_text)
{
    hub_html_printf(&p->body, "<label>%s <select name=\"%s\">", label, name);
    if (empty_text != NULL)
        option(p, "", empty_text, selected);
    for (int i = 0; i < r->nrows; i++)
        option(p, hub_dbres_get(r, i, 0), hub_dbres_get(r, i, r->ncols > 1 ? 1 : 0), selected);
    hub_html_raw(&p->body, "</select>");
    hint(p, hint_text);
    hub_html_raw(&p->body, "</label>\n");
}

void pg_checkbox(pg *p, const char *label, const char *name, bool checked, const char *hint_text)
{
    hub_html_printf(&p->body,
                    "<label class=\"check\"><input type=\"checkbox\" name=\"%s\" "
                    "value=\"1\"",
                    name);
    hub_html_raw(&p->body, checked ? " checked> " : "> ");
    hub_html_printf(&p->body, "%s", label);
    hint(p, hint_text);
    hub_html_raw(&p->body, "</label>\n");
}

void pg_button(pg *p, const char *action, const char *text, const char *cls)
{
    hub_html_printf(&p->body,
                    "<button type=\"submit\" name=\"action\" value=\"%s\" class=\"btn%s%s\">%s"
                    "</button>\n",
                    action, cls != NULL ? " " : "", cls != NULL ? cls : "", text);
}

void pg_row_action(pg *p, const char *action, const char *id_name, long long id, const char *text,
                   const char *cls)
{
    pg_form_open(p, "inline");
    pg_hidden_id(p, id_name, id);
    pg_button(p, action, text, cls);
    pg_form_close(p);
}

void pg_pager(pg *p, const char *query, long page, bool more)
{
    const char *sep = query != NULL && query[0] != '\0' ? "&" : "";
    if (query == NULL)
        query = "";
    if (page <= 1 && !more)
        return;
    hub_html_raw(&p->body, "<nav class=\"pager\" aria-label=\"Pages\">");
    if (page > 1)
        hub_html_printf(&p->body, "<a href=\"%s?%s%spage=%ld\" rel=\"prev\">← Previous</a> ",
                        p->self, query, sep, page - 1);
    hub_html_printf(&p->body, "<span class=\"page-no\">Page %ld</span>", page);
    if (more)
        hub_html_printf(&p->body, " <a href=\"%s?%s%spage=%ld\" rel=\"next\">Next →</a>", p->self,
                        query, sep, page + 1);
    hub_html_raw(&p->body, "</nav>\n");
}
