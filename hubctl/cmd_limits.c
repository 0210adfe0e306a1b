/*
 * cmd_limits.c — "hubctl limit set|list|clear": monthly USD budgets and requests / tokens per
 * minute limits on API keys, users and teams (lib/hub_limits.h).
 *
 * The gateway enforces them within a second of a change: a budget with one conditional
 * UPDATE per scope that reserves each request's estimated cost before the call and settles it
 * to the actual cost after; RPM and TPM per fixed UTC minute. "set" changes only the values
 * given (the others stay); "none" removes one limit; "clear" removes all three (the month's
 * spend stays recorded). Every change is audited with the values before and after.
 */
#include "hubctl.h"

#include "hub_limits.h"
#include "hub_usage.h"

#include <stdlib.h>
#include <string.h>

static const char SET_HELP[] =
    "usage: hubctl limit set key|user|team NAME [--budget USD] [--rpm N] [--tpm N]\n\n"
    "Sets limits on an API key, a user (all their keys and OAuth tokens) or a team (every\n"
    "request charged to it). Options not given keep their current value; 'none' removes\n"
    "that one limit. A request must pass the limits of its key, its user and its team.\n\n"
    "  --budget USD   budget per UTC calendar month, e.g. 25 or 0.50 (spend so far this\n"
    "                 month counts). Over budget the gateway answers 402 budget_exceeded.\n"
    "  --rpm N        requests per minute (fixed UTC minutes); over it: 429 + Retry-After\n"
    "  --tpm N        tokens per minute: each request counts its body size / 4 plus its\n"
    "                 max_tokens (1024 when unset) on admission, its actual tokens after\n"
    "  --help         show this help\n\n"
    "Budgets reserve each request's estimated cost (the same token estimate at the model's\n"
    "price) before the call and settle to the actual cost after, so concurrent requests\n"
    "cannot overshoot. A team crossing 80 % and 100 % of its budget is flagged in the\n"
    "gateway's log and on the Budgets page.\n";
static const char LIST_HELP[] =
    "usage: hubctl limit list [--type key|user|team] [--month YYYY-MM]\n\n"
    "Lists the limits with the month's spend (default: this UTC month): budget, spent,\n"
    "reserved by requests in flight, percentage used, 80 % / 100 % alerts, RPM and TPM with\n"
    "the counts of the current minute.\n\n"
    "  --type T        only limits of keys, users or teams\n"
    "  --month YYYY-MM the month whose spend to show\n"
    "  --help          show this help\n";
static const char CLEAR_HELP[] =
    "usage: hubctl limit clear key|user|team NAME\n\n"
    "Removes every limit of the key, user or team. The spend recorded for the month stays\n"
    "(a budget set again later counts it).\n";

static const char SCOPE_RULE[] = "the first argument must be key, user or team";

/* Parses "key|user|team NAME" into *s and the scope's id; false with *status set. */
static bool scope_args(hubctl *h, const char *cmd, const hc_pos *pos, hub_scope *s, long long *id,
                       int *status)
{
    if (!hub_scope_parse(pos->v[0], s)) {
        *status = hc_usage(cmd, "%s", SCOPE_RULE);
        return false;
    }
    if (!hub_name_ok(pos->v[1], 128, HUB_CHARS_PRINCIPAL)) {
        *status = hc_usage(cmd, "'%s' is not a valid %s name", pos->v[1], pos->v[0]);
        return false;
    }
    hub_db *db = hc_db(h);
    if (db == NULL) {
        *status = HC_EXIT_FAIL;
        return false;
    }
    hub_err e = hub_limits_scope_id(db, *s, pos->v[1], id);
    if (e == HUB_ENOTFOUND) {
        hc_err("no %s named '%s' (see 'hubctl %s list')", pos->v[0], pos->v[1], pos->v[0]);
        *status = HC_EXIT_FAIL;
        return false;
    }
    if (e != HUB_OK) {
        hc_err("database error: %s", hub_db_error(db));
        *status = HC_EXIT_FAIL;
        return false;
    }
    return true;
}

/* "budget $25, rpm 60, tpm none" into out. */
static void describe(const hub_limit *l, char *out, size_t outsz)
{
    char usd[64] = "budget none", rpm[24] = "none", tpm[24] = "none", amount[48];
    if (l->budget_micro >= 0) {
        hub_fmt_usd(l->budget_micro, 2, amount, sizeof(amount));
        snprintf(usd, sizeof(usd), "budget $%s a month", amount);
    }
    if (l->rpm >= 0)
        snprintf(rpm, sizeof(rpm), "%lld", l->rpm);
    if (l->tpm >= 0)
        snprintf(tpm, sizeof(tpm), "%lld", l->tpm);
    snprintf(out, outsz, "%s, rpm %s, tpm %s", usd, rpm, tpm);
}

static int limit_set(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "limit set";
    const char *budget_s = NULL, *rpm_s = NULL, *tpm_s = NULL;
    const hc_opt OPTS[] = {
        {"budget", &budget_s, NULL},
        {"rpm", &rpm_s, NULL},
        {"tpm", &tpm_s, NULL},
    };
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_scope s;
    long long id = 0, budget = -1, rpm = -1, tpm = -1;
    const char *why;
    char what[200];

    if (!hc_args(argc, argv, CMD, SET_HELP, OPTS, 3, 2, "key|user|team NAME", &pos, &status))
        return status;
    if (budget_s == NULL && rpm_s == NULL && tpm_s == NULL)
        return hc_usage(CMD, "give at least one of --budget, --rpm, --tpm");
    if ((why = hub_limits_parse("budget", budget_s, false, &budget)) != NULL ||
        (why = hub_limits_parse("rpm", rpm_s, false, &rpm)) != NULL ||
        (why = hub_limits_parse("tpm", tpm_s, false, &tpm)) != NULL)
        return hc_usage(CMD, "%s", why);
    if (!scope_args(h, CMD, &pos, &s, &id, &status))
        return status;

    hub_limit cur, next;
    bool found = false;
    hub_jobj before, after;
    hub_jobj_begin(&before);
    hub_jobj_begin(&after);
    if (!hc_tx_begin(h))
        goto end;
    if (!hub_limits_get(h->db, s, id, true, &cur, &found)) {
        hc_err("database error: %s", hub_db_error(h->db));
        goto end;
    }
    next = cur;
    if (budget_s != NULL)
        next.budget_micro = budget;
    if (rpm_s != NULL)
        next.rpm = rpm;
    if (tpm_s != NULL)
        next.tpm = tpm;
    if (next.budget_micro < 0 && next.rpm < 0 && next.tpm < 0) {
        hc_err("that leaves no limit on %s '%s'; use 'hubctl limit clear %s %s'", pos.v[0],
               pos.v[1], pos.v[0], pos.v[1]);
        goto end;
    }
    if (!hub_limits_put(h->db, &next, found && cur.budget_micro >= 0, hc_actor(h))) {
        hc_err("database error: %s", hub_db_error(h->db));
        goto end;
    }
    hub_limits_jobj(&before, &cur);
    hub_limits_jobj(&after, &next);
    if (!hc_audit(h, "limit.set", pos.v[0], pos.v[1], found ? &before : NULL, &after) ||
        !hc_tx_commit(h))
        goto end;
    describe(&next, what, sizeof(what));
    printf("limits of %s '%s': %s\n", pos.v[0], pos.v[1], what);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_jobj_free(&before);
    hub_jobj_free(&after);
    return status;
}

static int limit_clear(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "limit clear";
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_scope s;
    long long id = 0;
    hub_limit cur;
    bool found = false, deleted = false;
    hub_jobj before;

    if (!hc_simple_args(argc, argv, CMD, CLEAR_HELP, 2, "key|user|team NAME", &pos, &status))
        return status;
    if (!scope_args(h, CMD, &pos, &s, &id, &status))
        return status;
    hub_jobj_begin(&before);
    if (!hc_tx_begin(h))
        goto end;
    if (!hub_limits_get(h->db, s, id, true, &cur, &found) ||
        (found && !hub_limits_delete(h->db, s, id, &deleted))) {
        hc_err("database error: %s", hub_db_error(h->db));
        goto end;
    }
    if (!found) {
        hc_err("%s '%s' has no limits", pos.v[0], pos.v[1]);
        goto end;
    }
    hub_limits_jobj(&before, &cur);
    if (!hc_audit(h, "limit.clear", pos.v[0], pos.v[1], &before, NULL) || !hc_tx_commit(h))
        goto end;
    printf("limits of %s '%s' removed\n", pos.v[0], pos.v[1]);
    status = HC_EXIT_OK;
end:
    hc_tx_rollback(h);
    hub_jobj_free(&before);
    return status;
}

static void usd_cell(long long micro, char *out, size_t outsz)
{
    if (micro < 0) {
        snprintf(out, outsz, "-");
        return;
    }
    out[0] = '$';
    hub_fmt_usd(micro, 2, out + 1, outsz - 1);
}

static int limit_list(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "limit list";
    static const char *const HEADS[] = {"TYPE",  "NAME", "BUDGET",  "SPENT", "RESERVED", "USED",
                                        "ALERT", "RPM",  "REQ_NOW", "TPM",   "TOK_NOW"};
    const char *type_s = NULL, *month_s = NULL;
    const hc_opt OPTS[] = {
        {"type", &type_s, NULL},
        {"month", &month_s, NULL},
    };
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_scope s = HUB_SCOPE_KEY;
    char month[16], window[20], day[16];
    hub_limit_row *rows = NULL;
    int n = 0;
    hc_table t;

    if (!hc_args(argc, argv, CMD, LIST_HELP, OPTS, 2, 0, "", &pos, &status))
        return status;
    if (type_s != NULL && !hub_scope_parse(type_s, &s))
        return hc_usage(CMD, "--type must be key, user or team");
    long long now = hub_now_ms();
    hub_limits_month(now, month);
    hub_limits_minute(now, window);
    if (month_s != NULL) {
        snprintf(day, sizeof(day), "%.7s-01", month_s);
        if (strlen(month_s) != 7 || !hub_date_ok(day))
            return hc_usage(CMD, "--month must be YYYY-MM");
        snprintf(month, sizeof(month), "%s", day);
    }
    hub_db *db = hc_db(h);
    if (db == NULL)
        return HC_EXIT_FAIL;
    if (!hub_limits_report(db, type_s != NULL ? (int)s : -1, month, window, &rows, &n)) {
        hc_err("database error: %s", hub_db_error(db));
        return HC_EXIT_FAIL;
    }
    hc_table_init(&t, 11, HEADS, 0x7fcu);
    for (int i = 0; i < n; i++) {
        const hub_limit_row *r = &rows[i];
        char c[11][48];
        const char *row[11];
        snprintf(c[0], sizeof(c[0]), "%s", hub_scope_name(r->l.scope));
        usd_cell(r->l.budget_micro, c[2], sizeof(c[2]));
        usd_cell(r->l.budget_micro >= 0 ? (r->spent_micro > 0 ? r->spent_micro : 0) : -1, c[3],
                 sizeof(c[3]));
        usd_cell(r->l.budget_micro >= 0 ? (r->reserved_micro > 0 ? r->reserved_micro : 0) : -1,
                 c[4], sizeof(c[4]));
        if (r->l.budget_micro > 0)
            snprintf(c[5], sizeof(c[5]), "%lld%%",
                     (r->spent_micro > 0 ? r->spent_micro : 0) * 100 / r->l.budget_micro);
        else
            snprintf(c[5], sizeof(c[5]), "-");
        snprintf(c[6], sizeof(c[6]), "%s", r->alert100 ? "100%" : r->alert80 ? "80%" : "-");
        snprintf(c[7], sizeof(c[7]), "%lld", r->l.rpm);
        snprintf(c[8], sizeof(c[8]), "%lld", r->req_now);
        snprintf(c[9], sizeof(c[9]), "%lld", r->l.tpm);
        snprintf(c[10], sizeof(c[10]), "%lld", r->tok_now);
        for (int k = 0; k < 11; k++)
            row[k] = c[k];
        row[1] = r->l.name[0] != '\0' ? r->l.name : "(deleted)";
        if (r->l.rpm < 0)
            row[7] = row[8] = NULL;
        if (r->l.tpm < 0)
            row[9] = row[10] = NULL;
        hc_table_add(&t, row);
    }
    if (hc_table_print(&t, stdout))
        status = HC_EXIT_OK;
    hc_table_free(&t);
    free(rows);
    return status;
}

int hc_limit_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"set", limit_set, "set budgets and rate limits of a key, user or team"},
        {"list", limit_list, "list limits with this month's spend"},
        {"clear", limit_clear, "remove the limits of a key, user or team"},
    };
    return hc_dispatch(h, "limit",
                       "Monthly USD budgets and requests / tokens per minute limits on API keys, "
                       "users and teams.",
                       CMDS, sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
