-- 009: budget alerts by e-mail (hub.conf smtp_url, alert_email_to; lib/hub_alert_mail.h).
--
-- alert80_mailed_at / alert100_mailed_at: when the gateway that claimed the alert mailed it
-- (set before sending, cleared again when the relay failed, so every alert is mailed once by
-- one gateway). Alerts flagged before this migration count as mailed: turning e-mail on does
-- not send old news.

ALTER TABLE budget_usage
  ADD COLUMN alert80_mailed_at  DATETIME(3) NULL AFTER alert100_at,
  ADD COLUMN alert100_mailed_at DATETIME(3) NULL AFTER alert80_mailed_at;

UPDATE budget_usage SET alert80_mailed_at = alert80_at, alert100_mailed_at = alert100_at;
