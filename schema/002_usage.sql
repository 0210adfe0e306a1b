-- 002: the usage ledger. One row per request id and attempt sent upstream, written by the
-- gateway's spool drain with INSERT ... ON DUPLICATE KEY UPDATE (idempotent replay).
-- Unknown counts are NULL, never 0.

CREATE TABLE usage_log (
  request_id        CHAR(36)     NOT NULL,
  attempt           SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  ts                DATETIME(3)  NOT NULL,
  key_id            INT UNSIGNED NULL,
  user_id           INT UNSIGNED NULL,
  team_id           INT UNSIGNED NULL,
  app               VARCHAR(128) NULL,
  provider          VARCHAR(64)  NOT NULL,
  model             VARCHAR(191) NOT NULL,
  endpoint          VARCHAR(64)  NOT NULL,
  stream            TINYINT(1)   NOT NULL DEFAULT 0,
  status            SMALLINT     NULL,
  prompt_tokens     INT UNSIGNED NULL,
  completion_tokens INT UNSIGNED NULL,
  total_tokens      INT UNSIGNED NULL,
  images            INT UNSIGNED NULL,
  cost_micro        BIGINT       NULL,
  latency_ms        INT UNSIGNED NULL,
  ttfb_ms           INT UNSIGNED NULL,
  outcome           VARCHAR(32)  NOT NULL COMMENT 'pending, ok, upstream_error, client_abort, truncated, timeout',
  PRIMARY KEY (request_id, attempt),
  KEY ix_usage_ts (ts),
  KEY ix_usage_key (key_id, ts),
  KEY ix_usage_user (user_id, ts),
  KEY ix_usage_team (team_id, ts),
  KEY ix_usage_model (model, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
