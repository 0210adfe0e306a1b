-- 001: providers, credentials, models, prices, users, teams, API keys.
-- All tables InnoDB, utf8mb4. Secrets are stored sealed (AES-256-GCM, see lib/hub_crypto.h).

CREATE TABLE providers (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(64)  NOT NULL,
  type        VARCHAR(32)  NOT NULL,
  base_url    VARCHAR(512) NOT NULL,
  internal    TINYINT(1)   NOT NULL DEFAULT 0 COMMENT 'admin allowed plain http (internal host)',
  enabled     TINYINT(1)   NOT NULL DEFAULT 1,
  created_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_providers_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE credentials (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  provider_id    INT UNSIGNED    NOT NULL,
  label          VARCHAR(64)     NOT NULL DEFAULT 'default',
  secret_enc     VARBINARY(8192) NULL COMMENT 'nonce || ciphertext || tag, aad = credential:<id>',
  key_id         INT             NULL COMMENT 'master key id that sealed secret_enc',
  weight         INT UNSIGNED    NOT NULL DEFAULT 1,
  status         VARCHAR(16)     NOT NULL DEFAULT 'active',
  last_error     VARCHAR(255)    NULL,
  cooldown_until DATETIME(3)     NULL,
  created_at     DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY ix_credentials_provider (provider_id),
  CONSTRAINT fk_credentials_provider FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE models (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name           VARCHAR(191) NOT NULL,
  provider_id    INT UNSIGNED NOT NULL,
  upstream_model VARCHAR(191) NOT NULL,
  kind           VARCHAR(16)  NOT NULL DEFAULT 'chat',
  enabled        TINYINT(1)   NOT NULL DEFAULT 1,
  created_at     DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_models_name (name),
  CONSTRAINT fk_models_provider FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Prices in integer micro-USD: per 1M tokens, and per image. provider is a provider name
-- or a vendor name (openai, anthropic, google) that applies to every provider of that type.
CREATE TABLE prices (
  id                        INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  provider                  VARCHAR(64)  NOT NULL,
  model                     VARCHAR(191) NOT NULL,
  input_per_1m_micro        BIGINT       NULL,
  output_per_1m_micro       BIGINT       NULL,
  cached_input_per_1m_micro BIGINT       NULL,
  per_image_micro           BIGINT       NULL,
  effective_date            DATE         NOT NULL,
  source                    VARCHAR(255) NULL,
  updated_at                DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_prices (provider, model)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE teams (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name       VARCHAR(128) NOT NULL,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_teams_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE users (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name       VARCHAR(128) NOT NULL,
  email      VARCHAR(255) NULL,
  team_id    INT UNSIGNED NULL COMMENT 'primary team',
  disabled   TINYINT(1)   NOT NULL DEFAULT 0,
  created_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_users_name (name),
  CONSTRAINT fk_users_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE memberships (
  user_id INT UNSIGNED NOT NULL,
  team_id INT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id, team_id),
  CONSTRAINT fk_memberships_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_memberships_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE api_keys (
  id           INT UNSIGNED  NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name         VARCHAR(128)  NOT NULL,
  key_hash     BINARY(32)    NOT NULL COMMENT 'SHA-256 of the whole key; the key itself is never stored',
  prefix       VARCHAR(16)   NOT NULL COMMENT 'display prefix only',
  user_id      INT UNSIGNED  NOT NULL,
  team_id      INT UNSIGNED  NULL,
  app          VARCHAR(128)  NULL,
  models       VARCHAR(1024) NULL COMMENT 'comma-separated globs; NULL = every model',
  expires_at   DATETIME(3)   NULL,
  revoked_at   DATETIME(3)   NULL,
  created_at   DATETIME(3)   NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  last_used_at DATETIME(3)   NULL,
  UNIQUE KEY uq_api_keys_name (name),
  UNIQUE KEY uq_api_keys_hash (key_hash),
  CONSTRAINT fk_api_keys_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT fk_api_keys_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
