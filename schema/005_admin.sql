-- 005: the admin pages: roles and local passwords on users, sessions, login throttling,
-- the hash-chained audit log, settings (OIDC client, sealed secret), key permissions.

ALTER TABLE users
  ADD COLUMN role          VARCHAR(16)  NOT NULL DEFAULT 'member' COMMENT 'admin, viewer, member',
  ADD COLUMN password_hash VARCHAR(255) NULL COMMENT 'local accounts only: pbkdf2-sha256$iter$salt$hash',
  ADD COLUMN auth_source   VARCHAR(16)  NOT NULL DEFAULT 'local' COMMENT 'local, webserver, oidc, hubctl',
  ADD COLUMN last_login_at DATETIME(3)  NULL;

CREATE TABLE sessions (
  id_hash      BINARY(32)   NOT NULL PRIMARY KEY COMMENT 'SHA-256 of the cookie value; the value is never stored',
  user_id      INT UNSIGNED NOT NULL,
  csrf_token   CHAR(64)     NOT NULL,
  created_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  expires_at   DATETIME(3)  NOT NULL,
  last_seen_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  remote_addr  VARCHAR(64)  NULL,
  KEY ix_sessions_user (user_id),
  CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- pending OIDC authorization-code logins (state → nonce, PKCE verifier), short-lived
CREATE TABLE oidc_pending (
  state_hash    BINARY(32)   NOT NULL PRIMARY KEY,
  nonce         VARCHAR(64)  NOT NULL,
  code_verifier VARCHAR(128) NOT NULL,
  return_to     VARCHAR(255) NULL,
  expires_at    DATETIME(3)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE login_failures (
  subject      VARCHAR(191) NOT NULL PRIMARY KEY COMMENT 'user name or client address',
  failures     INT UNSIGNED NOT NULL DEFAULT 0,
  window_start DATETIME(3)  NOT NULL,
  locked_until DATETIME(3)  NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Append-only: every change made through the pages or hubctl. hash = SHA-256(prev_hash ||
-- the row's canonical text), so editing or deleting a row breaks the chain (hubctl audit verify).
CREATE TABLE audit_log (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ts          DATETIME(3)     NOT NULL,
  actor       VARCHAR(128)    NOT NULL,
  via         VARCHAR(16)     NOT NULL COMMENT 'pages, hubctl',
  action      VARCHAR(64)     NOT NULL,
  target_type VARCHAR(32)     NOT NULL,
  target      VARCHAR(255)    NOT NULL,
  before_json TEXT            NULL,
  after_json  TEXT            NULL,
  prev_hash   BINARY(32)      NOT NULL,
  hash        BINARY(32)      NOT NULL,
  KEY ix_audit_ts (ts),
  KEY ix_audit_actor (actor, ts),
  KEY ix_audit_target (target_type, target)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE settings (
  name       VARCHAR(64)     NOT NULL PRIMARY KEY,
  value      TEXT            NULL,
  secret_enc VARBINARY(4096) NULL COMMENT 'sealed like credentials, aad = setting:<name>',
  key_id     INT             NULL,
  updated_at DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE api_keys
  ADD COLUMN endpoints  VARCHAR(255) NULL COMMENT 'comma-separated: chat, embeddings, images, messages; NULL = all',
  ADD COLUMN kind       VARCHAR(16)  NOT NULL DEFAULT 'service' COMMENT 'service (admin-made) or personal (self-service)',
  ADD COLUMN created_by VARCHAR(128) NULL;
