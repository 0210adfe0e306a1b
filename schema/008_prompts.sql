-- 008: opt-in prompt logging (lib/hub_prompt.h). Off by default: the setting prompt_logging
-- ('on' / 'off', unset = off) in settings, changed on settings.cgi or with
-- "hubctl settings prompt-logging on|off" (audited). While it is on, the gateway stores the
-- request body of every API call it sends upstream, after the answer is finished, one row per
-- request id: sealed with the master keyring (AES-256-GCM, associated data
-- "prompt:<request_id>", the key id beside it), never in plain text; cut to hub.conf
-- prompt_log_max_bytes (truncated = 1, body_bytes = the size as received). Rows older than
-- prompt_retention_days are deleted in bounded batches (the gateway's drain thread, hubctl
-- retention) through ix_prompts_ts; hubctl key-rotate reseals them (ix_prompts_key).

CREATE TABLE usage_prompts (
  request_id  CHAR(36)     NOT NULL PRIMARY KEY COMMENT 'the ledger''s request id (usage_log)',
  ts          DATETIME(3)  NOT NULL COMMENT 'UTC, when the request arrived (usage_log.ts)',
  key_id      INT UNSIGNED NULL,
  user_id     INT UNSIGNED NULL COMMENT 'the owner: members see only their own prompts',
  team_id     INT UNSIGNED NULL,
  endpoint    VARCHAR(64)  NOT NULL COMMENT 'the client''s path, e.g. /v1/chat/completions',
  body_bytes  INT UNSIGNED NOT NULL COMMENT 'size of the body as received',
  truncated   TINYINT(1)   NOT NULL DEFAULT 0 COMMENT '1: only the first prompt_log_max_bytes are stored',
  body_enc    MEDIUMBLOB   NOT NULL COMMENT 'nonce || ciphertext || tag, aad prompt:<request_id>',
  enc_key_id  INT          NOT NULL COMMENT 'master key id that sealed body_enc',
  KEY ix_prompts_ts (ts),
  KEY ix_prompts_key (enc_key_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
