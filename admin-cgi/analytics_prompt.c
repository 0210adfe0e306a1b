/*
 * analytics_prompt.c — stored prompts in analytics.cgi (prompt logging, lib/hub_prompt.h):
 *
 *   view=prompt&request=ID   the request body stored for a call, opened with the master key
 *                            and shown HTML-escaped, with who made the call and when.
 *
 * Prompts are personal data. Admins may open any; a member only the prompts of their own
 * calls; viewers none (403). Every view is written to the audit log ("prompt.view", target
 * the request id) before the prompt is opened: when the audit row cannot be written, nothing
 * is shown. A malformed id answers 400, an id without a stored prompt 404 — readable pages,
 * never a 5xx. The call log (analytics_calls.c) uses the helpers below for its notice and for
 * the link beside each call whose prompt is stored.
 */
#include "analytics.h"

#include "hub_prompt.h"

#include <stdio.h>
#include <string.h>

/* Who may open stored prompts: admins and members (theirs); viewers never. */
static bool may_open(const an_ctx *a)
{
    return pg_role(a->p, "admin") || a->member;
}

void an_prompt_notice(an_ctx *a)
{
    pg *p = a->p;
    bool on = false;
    if (!hub_prompt_logging_get(p->db, &on) || !on) {
        hub_html_raw(&p->body,
                     "<p class=\"notice notice-info\" role=\"status\">Prompt logging is off: "
                     "the hub does not store prompts or answers — not in the database, not in "
                     "logs. This log shows only what each call was — who, which model, how many "
                     "tokens, what it cost, how long it took.</p>\n");
        return;
    }
    hub_html_printf(&p->body,
                    "<p class=\"notice notice-info\" role=\"status\">Prompt logging is on: the "
                    "request body of each call is stored, sealed, for %d days. %s Every view is "
                    "recorded in the audit log. Answers are not stored.</p>\n",
                    p->cfg.prompt_retention_days,
                    !may_open(a) ? "Viewers cannot open stored prompts."
                    : a->member  ? "Open the prompt of one of your calls from its request id."
                                 : "Open a call's prompt from its request id.");
}

bool an_prompt_marks(an_ctx *a, const hub_dbres *r, int n, int rid_col, bool *has)
{
    pg *p = a->p;
    hub_buf q;
    hub_dbp prm[64];
    hub_dbres found = {0};
    bool rc = false;
    int np = 0;

    memset(has, 0, (size_t)n * sizeof(*has));
    if (n <= 0 || !may_open(a))
        return true;
    hub_buf_init(&q, 0);
    hub_buf_puts(&q, "SELECT request_id FROM usage_prompts WHERE request_id IN (");
    for (int i = 0; i < n && np < (int)(sizeof(prm) / sizeof(prm[0])); i++) {
        hub_buf_puts(&q, np > 0 ? ", ?" : "?");
        prm[np++] = DB_STR(hub_dbres_get(r, i, rid_col));
    }
    if (!hub_buf_puts(&q, ")"))
        goto end;
    const char *sql = hub_report_intern(q.data);
    if (sql == NULL || !hub_db_exec(p->db, sql, prm, np, &found, NULL, NULL))
        goto end;
    for (int i = 0; i < n; i++) {
        const char *rid = hub_dbres_get(r, i, rid_col);
        for (int j = 0; rid != NULL && j < found.nrows; j++) {
            if (strcmp(rid, hub_dbres_get(&found, j, 0)) == 0)
                has[i] = true;
        }
    }
    rc = true;
end:
    hub_buf_free(&q);
    hub_dbres_free(&found);
    return rc; /* false: the links are left out, the log itself still shows */
}

void an_prompt_link(an_ctx *a, const char *rid, bool has)
{
    pg *p = a->p;
    if (!has || rid == NULL)
        return;
    hub_html_printf(&p->body, " <a href=\"%s?view=prompt&amp;request=%s\">prompt</a>", p->self,
                    rid);
}

/* The facts of a stored prompt and its body, escaped. */
static void show(an_ctx *a, const char *rid, const hub_prompt *pr, bool on)
{
    pg *p = a->p;
    char size[96];
    pg_begin(p, "Stored prompt");
    hub_html_raw(&p->body, "<h1>Stored prompt</h1>\n");
    if (!on)
        hub_html_notice(&p->body, "info",
                        "Prompt logging is off now; this prompt was stored while it was on "
                        "and is kept until prompt_retention_days have passed.");
    hub_html_printf(&p->body,
                    "<dl class=\"facts\"><dt>Request id</dt><dd class=\"mono\">%s</dd>"
                    "<dt>Time (UTC)</dt><dd>%s</dd><dt>User</dt><dd>%s</dd><dt>Team</dt>"
                    "<dd>%s</dd><dt>Key</dt><dd>%s</dd><dt>Endpoint</dt><dd>%s</dd>",
                    rid, pr->ts, pr->user[0] ? pr->user : "—", pr->team[0] ? pr->team : "—",
                    pr->key[0] ? pr->key : "—", pr->endpoint);
    snprintf(size, sizeof(size), "%lld bytes", pr->body_bytes);
    hub_html_printf(&p->body, "<dt>Size as received</dt><dd>%s</dd></dl>\n", size);
    if (pr->truncated) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Truncated: only the first %zu of %lld bytes are stored "
                 "(prompt_log_max_bytes).",
                 pr->len, pr->body_bytes);
        hub_html_notice(&p->body, "info", msg);
    }
    hub_html_raw(&p->body, "<pre class=\"prompt\">");
    hub_html_esc(&p->body, pr->body);
    hub_html_raw(&p->body, "</pre>\n");
    hub_html_printf(&p->body,
                    "<p class=\"muted\">This view is recorded in the audit log. <a "
                    "href=\"%s?view=calls\">Back to the call log</a></p>\n",
                    p->self);
    pg_send(p, 200);
}

/* Writes the audit row of one view of rid's prompt (owned by owner). false after an error
 * page: nothing may be shown then. */
static bool audit_view(pg *p, const char *rid, long long owner)
{
    pg_json after;
    pg_json_init(&after);
    pg_json_int(&after, "owner_user_id", owner);
    bool ok = pg_tx_begin(p) &&
              pg_audit(p, "prompt.view", "prompt", rid, NULL, pg_json_done(&after)) &&
              pg_tx_commit(p);
    pg_json_free(&after);
    return ok;
}

void an_prompt(an_ctx *a)
{
    pg *p = a->p;
    const char *rid = pg_arg(p, "request");
    long long owner = 0;
    bool on = false;
    hub_keyring kr;
    hub_prompt pr;

    memset(&kr, 0, sizeof(kr));
    memset(&pr, 0, sizeof(pr));
    if (!may_open(a)) {
        pg_fail(p, 403, "Viewers cannot open stored prompts: prompts are personal data.");
        goto end;
    }
    if (!hub_prompt_id_ok(rid)) {
        pg_fail(p, 400, "The request id is malformed: it is the 36-character id of a call.");
        goto end;
    }
    if (!hub_prompt_logging_get(p->db, &on)) {
        pg_fail_db(p);
        goto end;
    }
    hub_err e = hub_prompt_owner(p->db, rid, &owner);
    if (e == HUB_ENOTFOUND) {
        pg_fail(p, 404,
                on ? "No prompt is stored for this request id (it may be older than "
                     "prompt_retention_days, or the call was made before prompt logging was "
                     "turned on)."
                   : "No prompt is stored for this request id: prompt logging is off.");
        goto end;
    }
    if (e != HUB_OK) {
        pg_fail_db(p);
        goto end;
    }
    if (a->member && owner != p->s.user_id) {
        pg_fail(p, 403, "Members can open only the prompts of their own calls.");
        goto end;
    }
    if (!audit_view(p, rid, owner) || !pg_keyring(p, &kr))
        goto end;
    e = hub_prompt_load(p->db, &kr, rid, &pr);
    if (e == HUB_ENOTFOUND) { /* deleted a moment ago by retention */
        pg_fail(p, 404, "No prompt is stored for this request id.");
        goto end;
    }
    if (e == HUB_ECRYPTO) {
        pg_fail(p, 500,
                "The stored prompt does not open with the master key file (a replaced master "
                "key or a changed row).");
        goto end;
    }
    if (e != HUB_OK) {
        pg_fail_db(p);
        goto end;
    }
    show(a, rid, &pr, on);
end:
    hub_prompt_free(&pr);
    hub_keyring_wipe(&kr);
}
