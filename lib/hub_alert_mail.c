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

/* Alerts of this month and the last that wait for mail: 100 % before 80 % (a 100 % mail
 * covers the scope's pending 80 % one). Reads alert_outbox only (its pending index). */
static const char SQL_PENDING[] =
    "SELECT id, scope_type, scope_id, DATE_FORMAT(month, '%Y-%m-%d'), "
    "DATE_FORMAT(month, '%Y-%m'), pct FROM alert_outbox WHERE mailed_at IS NULL "
    "AND month >= DATE_FORMAT(UTC_DATE() - INTERVAL 1 MONTH, '%Y-%m-01') "
    "ORDER BY pct DESC, id LIMIT ?";
/* What the message says: spend, budget and the scope's name. */
static const char SQL_DETAIL[] =
    "SELECT b.spent_micro, l.budget_micro, "
    "CASE b.scope_type WHEN 'team' THEN (SELECT name FROM teams WHERE id = b.scope_id) "
    "WHEN 'user' THEN (SELECT name FROM users WHERE id = b.scope_id) "
    "ELSE (SELECT name FROM api_keys WHERE id = b.scope_id) END "
    "FROM budget_usage b LEFT JOIN limits l ON l.scope_type = b.scope_type "
    "AND l.scope_id = b.scope_id WHERE b.scope_type = ? AND b.scope_id = ? AND b.month = ?";
/* claim / release one alert's mail; the WHERE makes a claim exclusive */
static const char SQL_CLAIM[] = "UPDATE alert_outbox SET mailed_at = UTC_TIMESTAMP(3) "
                                "WHERE id = ? AND mailed_at IS NULL";
static const char SQL_RELEASE[] = "UPDATE alert_outbox SET mailed_at = NULL WHERE id = ?";
static const char SQL_COVER80[] = "UPDATE alert_outbox SET mailed_at = UTC_TIMESTAMP(3) "
                                  "WHERE scope_type = ? AND scope_id = ? AND month = ? "
                                  "AND pct = 80 AND mailed_at IS NULL";

bool hub_alert_mail_enabled(const hub_config *cfg)
{
    return cfg->smtp_url[0] != '\0' && cfg->alert_email_to[0] != '\0';
}

/* One alert: from the outbox row and its budget row. */
typedef struct {
    const char *scope, *id, *month, *name; /* borrowed from the results */
    long long spent, budget;
    int pct;
} alert;

/* The alert's subject and body. */
static void compose(const alert *a, char *subject, size_t ssz, hub_buf *body)
{
    char who[200], sp[48], bu[48];
    if (a->name != NULL)
        snprintf(who, sizeof(who), "%s \"%s\"", a->scope, a->name);
    else
        snprintf(who, sizeof(who), "%s #%s", a->scope, a->id);
    hub_fmt_usd(a->spent, 2, sp, sizeof(sp));
    hub_fmt_usd(a->budget, 2, bu, sizeof(bu));
    snprintf(subject, ssz, "[hub] Budget alert: %s reached %d%% of its %s budget", who, a->pct,
             a->month);
    hub_buf_printf(body,
                   "The %s has used %d%% of its monthly budget for %s (UTC):\n\n"
                   "  spent so far   $%s\n  budget        $%s\n\n",
                   who, a->budget > 0 ? (int)(a->spent * 100 / a->budget) : a->pct, a->month, sp,
                   bu);
    if (a->pct >= 100)
        hub_buf_printf(body,
                       "The hub now refuses its requests with HTTP 402 (budget_exceeded) until "
                       "the month ends or an admin raises the budget: on the Budgets page, or\n"
                       "  hubctl limit set %s %s --budget USD\n\n",
                       a->scope, a->name != NULL ? a->name : "NAME");
    else
        hub_buf_puts(body, "At 100 % the hub refuses its requests with HTTP 402 until the month "
                           "ends or an admin raises the budget.\n\n");
    hub_buf_puts(body, "This message is sent once per threshold (80 % and 100 %) and month.\n"
                       "-- \nhub, the AI gateway\n");
}

/* Mails row i of the pending list (claimed already). false + err when the relay failed. */
static bool mail_one(hub_db *db, const hub_dbres *r, int i, const hub_mail_relay *relay,
                     const hub_mail_rcpts *to, char *err, size_t errsz)
{
    hub_dbres d = {0};
    alert a = {
        hub_dbres_get(r, i, 1),         hub_dbres_get(r, i, 2), hub_dbres_get(r, i, 4), NULL, 0, 0,
        (int)hub_dbres_int(r, i, 5, 80)};
    hub_dbp key[3] = {DB_STR(a.scope), DB_INT(hub_dbres_int(r, i, 2, 0)),
                      DB_STR(hub_dbres_get(r, i, 3))};
    char subject[300];
    hub_buf body;
    hub_buf_init(&body, 0);
    if (hub_db_exec(db, SQL_DETAIL, key, 3, &d, NULL, NULL) && d.nrows > 0) {
        a.spent = hub_dbres_int(&d, 0, 0, 0);
        a.budget = hub_dbres_int(&d, 0, 1, 0);
        a.name = hub_dbres_get(&d, 0, 2);
    }
    compose(&a, subject, sizeof(subject), &body);
    bool sent = body.data != NULL && hub_mail_send(relay, to, subject, body.data, err, errsz);
    if (sent && a.pct >= 100) /* the 100 % mail covers a pending 80 % one */
        hub_db_exec(db, SQL_COVER80, key, 3, NULL, NULL, NULL);
    hub_buf_free(&body);
    hub_dbres_free(&d);
    return sent;
}

int hub_alert_mail_pass(hub_db *db, const hub_config *cfg, const hub_mail_rcpts *to, int max,
                        char *err, size_t errsz)
{
    hub_dbres r = {0};
    hub_mail_relay relay = {cfg->smtp_url, cfg->smtp_from, cfg->smtp_user, cfg->smtp_password};
    int mailed = -1;
    hub_dbp lim = DB_INT(max < 1 || max > ROWS_MAX ? ROWS_MAX : max);
    if (!hub_db_exec(db, SQL_PENDING, &lim, 1, &r, NULL, NULL)) {
        snprintf(err, errsz, "%s", hub_db_error(db));
        goto end;
    }
    mailed = 0;
    for (int i = 0; i < r.nrows; i++) {
        hub_dbp id = DB_INT(hub_dbres_int(&r, i, 0, 0));
        long long claimed = 0;
        if (!hub_db_exec(db, SQL_CLAIM, &id, 1, NULL, &claimed, NULL)) {
            snprintf(err, errsz, "%s", hub_db_error(db));
            mailed = -1;
            goto end;
        }
        if (claimed == 0)
            continue; /* another gateway has it, or a 100 % mail covered it */
        if (!mail_one(db, &r, i, &relay, to, err, errsz)) {
            /* give it back: the next pass (of any gateway) retries */
            hub_db_exec(db, SQL_RELEASE, &id, 1, NULL, NULL, NULL);
            mailed = -2;
            goto end;
        }
        HUB_INFO("budget alert mailed: %s #%s reached %s%% (%s, %d recipients)",
                 hub_dbres_get(&r, i, 1), hub_dbres_get(&r, i, 2), hub_dbres_get(&r, i, 5),
                 hub_dbres_get(&r, i, 4), to->n);
        mailed++;
    }
end:
    hub_dbres_free(&r);
    return mailed;
}
