/*
 * hub_alert_mail.c — budget alerts by e-mail (see hub_alert_mail.h).
 */
#include "hub_alert_mail.h"

#include "hub_log.h"
#include "hub_mail.h"
#include "hub_ops.h"

#include <stdio.h>
#include <string.h>

#define ROWS_MAX 50

/* Flags of this month and the last that wait for mail, with what the message needs. */
static const char SQL_PENDING[] =
    "SELECT b.scope_type, b.scope_id, DATE_FORMAT(b.month, '%Y-%m-%d'), "
    "DATE_FORMAT(b.month, '%Y-%m'), b.spent_micro, l.budget_micro, "
    "b.alert80_at IS NOT NULL AND b.alert80_mailed_at IS NULL, "
    "b.alert100_at IS NOT NULL AND b.alert100_mailed_at IS NULL, "
    "CASE b.scope_type WHEN 'team' THEN (SELECT name FROM teams WHERE id = b.scope_id) "
    "WHEN 'user' THEN (SELECT name FROM users WHERE id = b.scope_id) "
    "ELSE (SELECT name FROM api_keys WHERE id = b.scope_id) END "
    "FROM budget_usage b JOIN limits l ON l.scope_type = b.scope_type "
    "AND l.scope_id = b.scope_id AND l.budget_micro > 0 "
    "WHERE b.month >= DATE_FORMAT(UTC_DATE() - INTERVAL 1 MONTH, '%Y-%m-01') "
    "AND ((b.alert80_at IS NOT NULL AND b.alert80_mailed_at IS NULL) "
    "OR (b.alert100_at IS NOT NULL AND b.alert100_mailed_at IS NULL)) "
    "ORDER BY b.month, b.scope_type, b.scope_id LIMIT ?";

/* claim / release one threshold's mail; the WHERE makes a claim exclusive */
static const char SQL_CLAIM80[] =
    "UPDATE budget_usage SET alert80_mailed_at = UTC_TIMESTAMP(3) WHERE scope_type = ? "
    "AND scope_id = ? AND month = ? AND alert80_at IS NOT NULL AND alert80_mailed_at IS NULL";
static const char SQL_CLAIM100[] =
    "UPDATE budget_usage SET alert100_mailed_at = UTC_TIMESTAMP(3) WHERE scope_type = ? "
    "AND scope_id = ? AND month = ? AND alert100_at IS NOT NULL AND alert100_mailed_at IS NULL";
static const char SQL_RELEASE80[] = "UPDATE budget_usage SET alert80_mailed_at = NULL "
                                    "WHERE scope_type = ? AND scope_id = ? AND month = ?";
static const char SQL_RELEASE100[] = "UPDATE budget_usage SET alert100_mailed_at = NULL "
                                     "WHERE scope_type = ? AND scope_id = ? AND month = ?";

bool hub_alert_mail_enabled(const hub_config *cfg)
{
    return cfg->smtp_url[0] != '\0' && cfg->alert_email_to[0] != '\0';
}

/* The alert's subject and body. */
static void compose(const hub_dbres *r, int i, int pct, char *subject, size_t ssz, hub_buf *body)
{
    const char *scope = hub_dbres_get(r, i, 0), *month = hub_dbres_get(r, i, 3);
    const char *name = hub_dbres_get(r, i, 8);
    long long spent = hub_dbres_int(r, i, 4, 0), budget = hub_dbres_int(r, i, 5, 0);
    char who[200], sp[48], bu[48];
    if (name != NULL)
        snprintf(who, sizeof(who), "%s \"%s\"", scope, name);
    else
        snprintf(who, sizeof(who), "%s #%s", scope, hub_dbres_get(r, i, 1));
    hub_fmt_usd(spent, 2, sp, sizeof(sp));
    hub_fmt_usd(budget, 2, bu, sizeof(bu));
    snprintf(subject, ssz, "[hub] Budget alert: %s reached %d%% of its %s budget", who, pct, month);
    hub_buf_printf(body,
                   "The %s has used %d%% of its monthly budget for %s (UTC):\n\n"
                   "  spent so far   $%s\n  budget        $%s\n\n",
                   who, budget > 0 ? (int)(spent * 100 / budget) : 0, month, sp, bu);
    if (pct >= 100)
        hub_buf_printf(body,
                       "The hub now refuses its requests with HTTP 402 (budget_exceeded) until "
                       "the month ends or an admin raises the budget: on the Budgets page, or\n"
                       "  hubctl limit set %s %s --budget USD\n\n",
                       scope, name != NULL ? name : "NAME");
    else
        hub_buf_puts(body, "At 100 % the hub refuses its requests with HTTP 402 until the month "
                           "ends or an admin raises the budget.\n\n");
    hub_buf_puts(body, "This message is sent once per threshold (80 % and 100 %) and month.\n"
                       "-- \nhub, the AI gateway\n");
}

int hub_alert_mail_pass(hub_db *db, const hub_config *cfg, int max, char *err, size_t errsz)
{
    hub_dbres r = {0};
    hub_mail_rcpts to;
    hub_mail_relay relay = {cfg->smtp_url, cfg->smtp_from, cfg->smtp_user, cfg->smtp_password};
    int mailed = -1;
    if (!hub_mail_rcpts_parse(cfg->alert_email_to, &to, err, errsz)) {
        mailed = -2;
        goto end;
    }
    hub_dbp lim = DB_INT(max < 1 || max > ROWS_MAX ? ROWS_MAX : max);
    if (!hub_db_exec(db, SQL_PENDING, &lim, 1, &r, NULL, NULL)) {
        snprintf(err, errsz, "%s", hub_db_error(db));
        goto end;
    }
    mailed = 0;
    for (int i = 0; i < r.nrows; i++) {
        bool p80 = hub_dbres_int(&r, i, 6, 0) != 0, p100 = hub_dbres_int(&r, i, 7, 0) != 0;
        int pct = p100 ? 100 : 80;
        hub_dbp key[3] = {DB_STR(hub_dbres_get(&r, i, 0)), DB_INT(hub_dbres_int(&r, i, 1, 0)),
                          DB_STR(hub_dbres_get(&r, i, 2))};
        long long claimed = 0;
        if (!hub_db_exec(db, pct == 100 ? SQL_CLAIM100 : SQL_CLAIM80, key, 3, NULL, &claimed,
                         NULL)) {
            snprintf(err, errsz, "%s", hub_db_error(db));
            mailed = -1;
            goto end;
        }
        if (claimed == 0)
            continue; /* another gateway has it */
        char subject[300];
        hub_buf body;
        hub_buf_init(&body, 0);
        compose(&r, i, pct, subject, sizeof(subject), &body);
        bool sent = body.data != NULL && hub_mail_send(&relay, &to, subject, body.data, err, errsz);
        hub_buf_free(&body);
        if (!sent) {
            /* give it back: the next pass (of any gateway) retries */
            hub_db_exec(db, pct == 100 ? SQL_RELEASE100 : SQL_RELEASE80, key, 3, NULL, NULL, NULL);
            mailed = -2;
            goto end;
        }
        if (pct == 100 && p80) /* the 100 % mail covers a pending 80 % one */
            hub_db_exec(db, SQL_CLAIM80, key, 3, NULL, NULL, NULL);
        HUB_INFO("budget alert mailed: %s #%s reached %d%% (%s, %d recipients)",
                 hub_dbres_get(&r, i, 0), hub_dbres_get(&r, i, 1), pct, hub_dbres_get(&r, i, 3),
                 to.n);
        mailed++;
    }
end:
    hub_dbres_free(&r);
    return mailed;
}
