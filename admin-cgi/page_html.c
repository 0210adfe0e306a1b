/*
 * page_html.c — the small HTML builders the admin pages are made of (see page.h): notices,
 * list tables and their pager, form fields, buttons and one-button row actions. Every
 * dynamic value goes through hub_html (escaped); the markup here is constant.
 */
#include "page.h"

#include <stdio.h>
#include <string.h>

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

void pg_notices(pg *p, const char *const *done)
{
    if (done != NULL)
        pg_done_notice(p, done);
    if (p->err[0] != '\0')
        pg_error_notice(p, NULL);
}

void pg_pager_filters(pg *p, const char *lead, const char *const *names, const char *const *vals,
                      int n, long page, bool more)
{
    hub_buf qs;
    hub_buf_init(&qs, 0);
    if (lead != NULL)
        hub_buf_puts(&qs, lead);
    for (int i = 0; i < n; i++) {
        if (vals[i] == NULL)
            continue;
        hub_buf_printf(&qs, "%s%s=", qs.len > 0 ? "&" : "", names[i]);
        hub_cgi_urlencode(&qs, vals[i]);
    }
    pg_pager(p, qs.len > 0 ? qs.data : "", page, more);
    hub_buf_free(&qs);
}
