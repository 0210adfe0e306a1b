-- 004: several providers per model name (in priority order), fallbacks, provider presets and
-- auth styles, credential labels unique per provider.

ALTER TABLE models
  DROP INDEX uq_models_name,
  ADD COLUMN priority  INT          NOT NULL DEFAULT 0 COMMENT 'lower is tried first among rows of the same name',
  ADD COLUMN fallbacks VARCHAR(1024) NULL COMMENT 'comma-separated provider/model tried after these rows',
  ADD UNIQUE KEY uq_models_name_provider (name, provider_id),
  ADD KEY ix_models_name (name, priority);

ALTER TABLE providers
  ADD COLUMN preset      VARCHAR(32) NULL COMMENT 'deepseek, xai, openrouter, ollama, azure',
  ADD COLUMN auth_header VARCHAR(32) NULL COMMENT 'NULL = by type: Authorization Bearer, x-api-key, x-goog-api-key; or api-key, none',
  ADD COLUMN api_version VARCHAR(32) NULL COMMENT 'anthropic-version or Azure api-version';

ALTER TABLE credentials
  ADD UNIQUE KEY uq_credentials_label (provider_id, label);

-- the credential an attempt used (several credentials per provider)
ALTER TABLE usage_log
  ADD COLUMN credential_id BIGINT UNSIGNED NULL AFTER provider;
