/*
 * limits.c — limits.cgi, "Budgets & limits": monthly USD budgets and requests / tokens per
 * minute limits of API keys, users and teams (lib/hub_limits.h). Admins and viewers read;
 * admins set and clear.
 *
 *   GET [?month=YYYY-MM]                every limit with the month's spend: budget, spent,
 *                                       reserved by requests in flight, % used, the 80 % / 100 %
 *                                       alerts (flagged by the gateway once a month), RPM and
 *                                       TPM with the counts of the current minute; the budgets
 *                                       at or over 80 % first; (admin) the form
 *   GET ?type=T&name=N                  the same with the form filled for that scope
 *   POST action=set     type, name, budget (USD), rpm, tpm — empty = no such limit
 *   POST action=clear   type, name
 *
 * The gateway applies a change within a second. Every change is audited (before and after).
 */
#include "page.h"

#include "hub_limits.h"
#include "hub_ops.h"
#include "hub_usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const DONE[] = {
    "set",     "The limits were saved. The gateway applies them within a second.",
    "cleared", "The limits were removed.",
    NULL,
};
static const char *const TYPES[] = {"team", "team", "user", "user", "key", "API key"};

/* The month to show (?month=YYYY-MM, else this UTC month) as YYYY-MM-01 into out. */
static void month_arg(const pg *p, char out[11])
{
    const char *m = pg_arg(p, "month");
    char day[11];
    hub_limits_month(hub_now_ms(), out);
    if (m == NULL || strlen(m) != 7)
        return;
    snprintf(day, sizeof(day), "%.7s-01", m);
    if (hub_date_ok(day))
        memcpy(out, day, sizeof(day));
}

static void usd(long long micro, char *out, size_t outsz)
{
    out[0] = '$';
    hub_fmt_usd(micro > 0 ? micro : 0, 2, out + 1, outsz - 1);
}

static int pct_used(const hub_limit_row *r)
{
    if (r->l.budget_micro <= 0)
        return r->l.budget_micro == 0 ? 100 : -1;
    long long s = r->spent_micro > 0 ? r->spent_micro : 0;
    return (int)(s * 100 / r->l.budget_micro);
}

/* The alert cell: 100 % / 80 % as flagged by the gateway (or reached by now). */
static void alert_cell(pg *p, const hub_limit_row *r)
{
    int pct = pct_used(r);
    if (r->alert100 || (pct >= 100 && r->l.budget_micro > 0))
        pg_td_badge(p, "off", "100 % reached");
    else if (r->alert80 || pct >= 80)
        pg_td_badge(p, "warn", "80 % reached");
    else if (r->l.budget_micro >= 0)
        pg_td_badge(p, "ok", "under 80 %");
    else
        pg_td(p, NULL);
}

static void limit_cell(pg *p, long long limit, long long now)
{
    char buf[64];
    if (limit < 0) {
        pg_td(p, NULL);
        return;
    }
    snprintf(buf, sizeof(buf), "%lld (now %lld)", limit, now);
    pg_td(p, buf);
}

static void row(pg *p, const hub_limit_row *r)
{
    char b[48], s[48], res[48], pct[16];
    const char *type = hub_scope_name(r->l.scope);
    hub_html_raw(&p->body, "<tr>");
    pg_td(p, type);
    if (r->l.name[0] == '\0') {
        pg_td(p, "(deleted)");
    } else {
        hub_buf enc;
        hub_buf_init(&enc, 0);
        hub_cgi_urlencode(&enc, r->l.name);
        hub_html_printf(&p->body, "<td><a href=\"%s?type=%s&amp;name=%s\">%s</a></td>", p->self,
                        type, enc.data ? enc.data : "", r->l.name);
        hub_buf_free(&enc);
    }
    if (r->l.budget_micro >= 0) {
        usd(r->l.budget_micro, b, sizeof(b));
        usd(r->spent_micro, s, sizeof(s));
        usd(r->reserved_micro, res, sizeof(res));
        snprintf(pct, sizeof(pct), "%d %%", pct_used(r));
        pg_td(p, b);
        pg_td(p, s);
        pg_td(p, res);
        pg_td(p, r->l.budget_micro > 0 ? pct : "—");
    } else {
        for (int i = 0; i < 4; i++)
            pg_td(p, NULL);
    }
    alert_cell(p, r);
    limit_cell(p, r->l.rpm, r->req_now);
    limit_cell(p, r->l.tpm, r->tok_now);
    if (pg_role(p, "admin") && r->l.name[0] != '\0') {
        hub_html_raw(&p->body, "<td>");
        pg_form_open(p, "inline");
        pg_hidden(p, "type", type);
        pg_hidden(p, "name", r->l.name);
        pg_button(p, "clear", "Clear", "btn-quiet");
        pg_form_close(p);
        hub_html_raw(&p->body, "</td>");
    } else if (pg_role(p, "admin")) {
        pg_td(p, NULL);
    }
    hub_html_raw(&p->body, "</tr>\n");
}

/* The set form, filled from the scope of ?type=&name= (or what was just submitted). */
static void form(pg *p, const hub_limit_row *rows, int n)
{
    const char *type = pg_prefill(p, "type", pg_arg(p, "type"));
    const char *name = pg_prefill(p, "name", pg_arg(p, "name"));
    char b[48] = "", rpm[24] = "", tpm[24] = "";
    hub_scope s;
    for (int i = 0; type != NULL && name != NULL && hub_scope_parse(type, &s) && i < n; i++) {
        const hub_limit *l = &rows[i].l;
        if (l->scope != s || strcmp(l->name, name) != 0)
            continue;
        if (l->budget_micro >= 0)
            hub_fmt_usd(l->budget_micro, 2, b, sizeof(b));
        if (l->rpm >= 0)
            snprintf(rpm, sizeof(rpm), "%lld", l->rpm);
        if (l->tpm >= 0)
            snprintf(tpm, sizeof(tpm), "%lld", l->tpm);
    }
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Set limits</h2>\n"
                           "<p>A request must pass the limits of its API key, its user and its "
                           "team. An empty field means no such limit.</p>\n");
    pg_form_open(p, "stack");
    pg_select(p, "Applies to", "type", TYPES, 3, type != NULL ? type : "team", NULL);
    pg_input(p, "Name", "text", "name", name,
             "required maxlength=\"128\" pattern=\"[A-Za-z0-9._@+\\-]+\"",
             "The team's, user's or API key's name.");
    pg_input(p, "Monthly budget (USD)", "text", "budget", pg_prefill(p, "budget", b),
             "maxlength=\"20\" inputmode=\"decimal\" pattern=\"\\$?[0-9]+(\\.[0-9]{1,6})?\"",
             "Per UTC calendar month, e.g. 25 or 0.50; spend so far this month counts. Over "
             "budget the gateway answers 402.");
    pg_input(p, "Requests per minute", "text", "rpm", pg_prefill(p, "rpm", rpm),
             "maxlength=\"9\" inputmode=\"numeric\" pattern=\"[0-9]*\"",
             "Fixed UTC minutes; over the limit the gateway answers 429 with Retry-After.");
    pg_input(p, "Tokens per minute", "text", "tpm", pg_prefill(p, "tpm", tpm),
             "maxlength=\"12\" inputmode=\"numeric\" pattern=\"[0-9]*\"",
             "A request counts its body size / 4 plus max_tokens (1024 when unset) when "
             "admitted, its actual tokens afterwards.");
    pg_button(p, "set", "Save limits", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
}

static void show(pg *p, int status)
{
    static const char *const HEADS[] = {
        "Type", "Name", "Budget / month", "Spent", "In flight", "Used", "Alert", "RPM", "TPM", "",
    };
    char month[11], window[20];
    hub_limit_row *rows = NULL;
    int n = 0, alerts = 0;
    bool admin = pg_role(p, "admin");
    month_arg(p, month);
    hub_limits_minute(hub_now_ms(), window);
    if (!hub_limits_report(p->db, -1, month, window, &rows, &n)) {
        pg_fail_db(p);
        return;
    }
    pg_begin(p, "Budgets & limits");
    hub_html_raw(&p->body, "<h1>Budgets &amp; limits</h1>\n");
    pg_done_notice(p, DONE);
    if (p->err[0] != '\0')
        pg_error_notice(p, NULL);
    hub_html_printf(&p->body, "<form method=\"get\" action=\"%s\" class=\"filters\">\n", p->self);
    char shown[8];
    snprintf(shown, sizeof(shown), "%.7s", month);
    pg_input(p, "Month (UTC)", "month", "month", shown, "pattern=\"[0-9]{4}-[0-9]{2}\"", NULL);
    hub_html_raw(&p->body, "<button type=\"submit\" class=\"btn btn-quiet\">Show</button>"
                           "</form>\n");
    for (int i = 0; i < n; i++) {
        int pct = pct_used(&rows[i]);
        if (rows[i].l.budget_micro > 0 && (rows[i].alert80 || rows[i].alert100 || pct >= 80))
            alerts++;
    }
    if (alerts > 0) {
        hub_html_raw(&p->body, "<section class=\"panel\"><h2>Budget alerts</h2>\n"
                               "<ul class=\"plain\">\n");
        for (int i = 0; i < n; i++) {
            const hub_limit_row *r = &rows[i];
            int pct = pct_used(r);
            char s[48], b[48];
            if (r->l.budget_micro <= 0 || !(r->alert80 || r->alert100 || pct >= 80))
                continue;
            usd(r->spent_micro, s, sizeof(s));
            usd(r->l.budget_micro, b, sizeof(b));
            hub_html_printf(&p->body,
                            "<li><span class=\"badge badge-%s\">%s</span> %s %s: %s of %s "
                            "(%d %%)</li>\n",
                            pct >= 100 || r->alert100 ? "off" : "warn",
                            pct >= 100 || r->alert100 ? "100 %" : "80 %",
                            hub_scope_name(r->l.scope), r->l.name[0] ? r->l.name : "(deleted)", s,
                            b, pct);
        }
        hub_html_raw(&p->body, "</ul>\n</section>\n");
    }
    pg_table_begin(p, HEADS, admin ? 10 : 9);
    for (int i = 0; i < n; i++)
        row(p, &rows[i]);
    if (n == 0)
        pg_empty_row(p, admin ? 10 : 9, "No limits are set.");
    pg_table_end(p);
    if (admin)
        form(p, rows, n);
    free(rows);
    pg_send(p, status);
}

/* Re-shows the page with msg (status 400/404/409), nothing changed. */
static void refuse(pg *p, int status, const char *msg)
{
    pg_tx_rollback(p);
    pg_set_err(p, msg);
    show(p, status);
}

/* The scope named by the form's type and name: false after answering. */
static bool scope_of(pg *p, hub_scope *s, long long *id, const char **name)
{
    *name = pg_in(p, "name");
    if (!hub_scope_parse(pg_in(p, "type"), s)) {
        refuse(p, 400, "Choose a team, a user or an API key.");
        return false;
    }
    if (*name == NULL || !hub_name_ok(*name, 128, HUB_CHARS_PRINCIPAL)) {
        refuse(p, 400, "The name must be 1-128 characters of A-Z a-z 0-9 . _ @ + -.");
        return false;
    }
    hub_err e = hub_limits_scope_id(p->db, *s, *name, id);
    if (e == HUB_EDB) {
        pg_fail_db(p);
        return false;
    }
    if (e != HUB_OK) {
        snprintf(p->err, sizeof(p->err), "There is no %s named '%s'.",
                 *s == HUB_SCOPE_KEY ? "API key" : hub_scope_name(*s), *name);
        refuse(p, 404, p->err);
        return false;
    }
    return true;
}

static void do_set(pg *p)
{
    hub_scope s;
    long long id = 0;
    const char *name, *why;
    hub_limit cur, next;
    bool found = false;
    long long budget, rpm, tpm;
    if ((why = hub_limits_parse("budget", pg_in(p, "budget"), true, &budget)) != NULL ||
        (why = hub_limits_parse("rpm", pg_in(p, "rpm"), true, &rpm)) != NULL ||
        (why = hub_limits_parse("tpm", pg_in(p, "tpm"), true, &tpm)) != NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Not saved: %s.", why);
        refuse(p, 400, msg);
        return;
    }
    if (budget < 0 && rpm < 0 && tpm < 0) {
        refuse(p, 400, "Fill in at least one limit (to remove them all, use Clear).");
        return;
    }
    if (!scope_of(p, &s, &id, &name) || !pg_tx_begin(p))
        return;
    if (!hub_limits_get(p->db, s, id, true, &cur, &found)) {
        pg_fail_db(p);
        return;
    }
    next = cur;
    next.budget_micro = budget;
    next.rpm = rpm;
    next.tpm = tpm;
    if (!hub_limits_put(p->db, &next, found && cur.budget_micro >= 0, p->s.user)) {
        pg_fail_db(p);
        return;
    }
    pg_json before, after;
    pg_json_init(&before);
    pg_json_init(&after);
    hub_limits_jobj(&before, &cur);
    hub_limits_jobj(&after, &next);
    bool ok = pg_audit(p, "limit.set", hub_scope_name(s), name,
                       found ? pg_json_done(&before) : NULL, pg_json_done(&after)) &&
              pg_tx_commit(p);
    pg_json_free(&before);
    pg_json_free(&after);
    if (ok)
        pg_redirect(p, "limits.cgi?done=set");
}

static void do_clear(pg *p)
{
    hub_scope s;
    long long id = 0;
    const char *name;
    hub_limit cur;
    bool found = false, deleted = false;
    if (!scope_of(p, &s, &id, &name) || !pg_tx_begin(p))
        return;
    if (!hub_limits_get(p->db, s, id, true, &cur, &found) ||
        (found && !hub_limits_delete(p->db, s, id, &deleted))) {
        pg_fail_db(p);
        return;
    }
    if (!found) {
        refuse(p, 404, "That scope has no limits.");
        return;
    }
    pg_json before;
    pg_json_init(&before);
    hub_limits_jobj(&before, &cur);
    bool ok = pg_audit(p, "limit.clear", hub_scope_name(s), name, pg_json_done(&before), NULL) &&
              pg_tx_commit(p);
    pg_json_free(&before);
    if (ok)
        pg_redirect(p, "limits.cgi?done=cleared");
}

static void post(pg *p)
{
    const char *action = pg_in(p, "action");
    if (action != NULL && strcmp(action, "set") == 0)
        do_set(p);
    else if (action != NULL && strcmp(action, "clear") == 0)
        do_clear(p);
    else
        pg_fail(p, 400, "Unknown action.");
}

int main(void)
{
    static const pg_app APP = {
        .program = "limits.cgi",
        .active = "limits",
        .read_role = "viewer",
        .write_role = "admin",
        .post = post,
        .list = show,
    };
    return pg_run(&APP);
}
