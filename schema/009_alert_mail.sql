-- 009: budget alerts by e-mail (hub.conf smtp_url, alert_email_to; lib/hub_alert_mail.h).
--
-- alert_outbox: one row per budget alert the gateway flagged (budget_usage.alert80_at /
-- alert100_at set for the first time), written in the same moment. The mailer of every
-- gateway reads only this table while nothing is pending (the request path and the budget
-- counters see no extra work), claims a row (mailed_at set where it is NULL) before sending
-- and releases it when the relay fails, so each alert is mailed once by one gateway.
-- Alerts flagged before this migration are not in it: turning e-mail on sends no old news.

CREATE TABLE alert_outbox (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  scope_type VARCHAR(8)      NOT NULL COMMENT 'key, user, team',
  scope_id   INT UNSIGNED    NOT NULL,
  month      DATE            NOT NULL COMMENT 'first day of the UTC month',
  pct        SMALLINT        NOT NULL COMMENT '80 or 100',
  flagged_at DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  mailed_at  DATETIME(3)     NULL COMMENT 'claimed (and then sent) by a mailer; NULL = pending',
  UNIQUE KEY ux_alert_outbox (scope_type, scope_id, month, pct),
  KEY ix_alert_outbox_pending (mailed_at, month)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
