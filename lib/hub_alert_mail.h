/*
 * hub_alert_mail.h — budget alerts by e-mail. The gateway flags a budget crossing 80 % and
 * 100 % once a month (budget_usage.alert80_at / alert100_at, lib/hub_limits.h) and queues the
 * alert in alert_outbox; this mails each queued alert once to hub.conf alert_email_to through
 * smtp_url, from any gateway process: a row is claimed (mailed_at set where it is NULL) before
 * it is sent and released again when the relay fails, so several gateways never mail it
 * twice and a relay outage only delays it. A 100 % mail covers the scope's pending 80 % one.
 * Only this month's and last month's alerts are mailed. While nothing is pending a pass reads
 * alert_outbox's pending index and nothing else.
 */
#ifndef HUB_ALERT_MAIL_H
#define HUB_ALERT_MAIL_H

#include "hub_config.h"
#include "hub_db.h"
#include "hub_mail.h"

/* True when hub.conf asks for alert mail (smtp_url and alert_email_to set). */
bool hub_alert_mail_enabled(const hub_config *cfg);

/*
 * Mails up to max pending alerts to `to` (alert_email_to, parsed once by the caller with
 * hub_mail_rcpts_parse). Returns how many were mailed, or -1 when the database failed, or -2
 * when the relay failed (err says why; the alert stays pending).
 */
int hub_alert_mail_pass(hub_db *db, const hub_config *cfg, const hub_mail_rcpts *to, int max,
                        char *err, size_t errsz);

#endif
