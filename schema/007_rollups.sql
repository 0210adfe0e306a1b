-- 007: usage rollups for the analytics pages and reports (lib/hub_rollup.c keeps them current;
-- lib/hub_report.c reads them). Every page answers from these tables; only the call log reads
-- usage_log, through an index and with a bounded page.
--
-- usage_log.rolled says whether a ledger row has been added into the rollups:
--   0 not yet (a final row waits for the next rollup step; a 'pending' row is in flight)
--   1 added (a final row)
--   3 added while still 'pending' (never finalised for hours: a crash between the pending and
--     the final record); counted as an unfinished request. Should its final record still arrive,
--     the next step swaps the pending contribution for the final one.
--   2, 4, 5 only inside the rollup transaction (the batch being added), never committed.
-- The drain's upsert never touches rolled, and a final record is never changed by a replay
-- (a pending line never overwrites a final row), so each row is added exactly once.
ALTER TABLE usage_log
  ADD COLUMN rolled TINYINT UNSIGNED NOT NULL DEFAULT 0
    COMMENT '0 not rolled up, 1 rolled (final), 3 rolled while pending; see 007_rollups.sql',
  ADD KEY ix_usage_rollup (rolled, outcome);

-- The measures, the same in every rollup table. Counts of attempts sent upstream (one ledger
-- row each): requests (all), retries (attempt > 0), errors (final outcome other than ok and
-- client_abort), aborts (client_abort), unfinished (rolled while pending). Sums: tokens in and
-- out, images, cost in micro-USD (NULL costs add 0 and count in unpriced). Latency and time to
-- first byte: count of known values, their sum, and a histogram of 20 buckets with the upper
-- bounds (ms) 5 10 25 50 100 200 350 500 750 1000 1500 2000 3000 5000 7500 10000 15000 30000
-- 60000 and above (lh00..lh19, th00..th19) for p50/p95 estimates. All signed: a correction of a
-- row rolled while pending adds -1 to unfinished.
-- Dimensions: 0 / '' = none (a NULL in the ledger).

CREATE TABLE usage_hourly (
  ts_hour           DATETIME     NOT NULL COMMENT 'UTC hour the attempts started in',
  user_id           INT UNSIGNED NOT NULL DEFAULT 0,
  team_id           INT UNSIGNED NOT NULL DEFAULT 0,
  key_id            INT UNSIGNED NOT NULL DEFAULT 0,
  app               VARCHAR(128) NOT NULL DEFAULT '',
  provider          VARCHAR(64)  NOT NULL,
  model             VARCHAR(191) NOT NULL,
  requests BIGINT NOT NULL DEFAULT 0, retries BIGINT NOT NULL DEFAULT 0,
  errors BIGINT NOT NULL DEFAULT 0, aborts BIGINT NOT NULL DEFAULT 0,
  unfinished BIGINT NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0, completion_tokens BIGINT NOT NULL DEFAULT 0,
  images BIGINT NOT NULL DEFAULT 0, cost_micro BIGINT NOT NULL DEFAULT 0,
  unpriced BIGINT NOT NULL DEFAULT 0,
  lat_n BIGINT NOT NULL DEFAULT 0, lat_sum BIGINT NOT NULL DEFAULT 0,
  ttfb_n BIGINT NOT NULL DEFAULT 0, ttfb_sum BIGINT NOT NULL DEFAULT 0,
  lh00 INT NOT NULL DEFAULT 0, lh01 INT NOT NULL DEFAULT 0, lh02 INT NOT NULL DEFAULT 0,
  lh03 INT NOT NULL DEFAULT 0, lh04 INT NOT NULL DEFAULT 0, lh05 INT NOT NULL DEFAULT 0,
  lh06 INT NOT NULL DEFAULT 0, lh07 INT NOT NULL DEFAULT 0, lh08 INT NOT NULL DEFAULT 0,
  lh09 INT NOT NULL DEFAULT 0, lh10 INT NOT NULL DEFAULT 0, lh11 INT NOT NULL DEFAULT 0,
  lh12 INT NOT NULL DEFAULT 0, lh13 INT NOT NULL DEFAULT 0, lh14 INT NOT NULL DEFAULT 0,
  lh15 INT NOT NULL DEFAULT 0, lh16 INT NOT NULL DEFAULT 0, lh17 INT NOT NULL DEFAULT 0,
  lh18 INT NOT NULL DEFAULT 0, lh19 INT NOT NULL DEFAULT 0,
  th00 INT NOT NULL DEFAULT 0, th01 INT NOT NULL DEFAULT 0, th02 INT NOT NULL DEFAULT 0,
  th03 INT NOT NULL DEFAULT 0, th04 INT NOT NULL DEFAULT 0, th05 INT NOT NULL DEFAULT 0,
  th06 INT NOT NULL DEFAULT 0, th07 INT NOT NULL DEFAULT 0, th08 INT NOT NULL DEFAULT 0,
  th09 INT NOT NULL DEFAULT 0, th10 INT NOT NULL DEFAULT 0, th11 INT NOT NULL DEFAULT 0,
  th12 INT NOT NULL DEFAULT 0, th13 INT NOT NULL DEFAULT 0, th14 INT NOT NULL DEFAULT 0,
  th15 INT NOT NULL DEFAULT 0, th16 INT NOT NULL DEFAULT 0, th17 INT NOT NULL DEFAULT 0,
  th18 INT NOT NULL DEFAULT 0, th19 INT NOT NULL DEFAULT 0,
  PRIMARY KEY (ts_hour, user_id, team_id, key_id, app, provider, model),
  KEY ix_hourly_user (user_id, ts_hour),
  KEY ix_hourly_team (team_id, ts_hour)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Narrower families of the same measures, each by UTC hour and by UTC day. A report reads the
-- narrowest family that has its dimensions and filters: whole UTC days from the daily table,
-- the hours at a period's edges from the hourly one (periods in the viewer's time zone start at
-- any hour).
--   usage_hourly / usage_daily            every dimension (user, team, key, app, provider, model)
--   usage_hourly_key / usage_daily_key    key, user, team, app (no model): by user, key, app
--   usage_hourly_team / usage_daily_team  team: whole-hub totals and charts, by team
--   usage_hourly_model / usage_daily_model provider, model: by model and provider
--   usage_hourly_team_model / usage_daily_team_model  team, provider, model: a team's models,
--                                         the chargeback per team and model
CREATE TABLE usage_daily LIKE usage_hourly;
ALTER TABLE usage_daily
  CHANGE ts_hour ts_day DATE NOT NULL COMMENT 'UTC day the attempts started in',
  DROP KEY ix_hourly_user, DROP KEY ix_hourly_team,
  ADD KEY ix_daily_user (user_id, ts_day),
  ADD KEY ix_daily_team (team_id, ts_day),
  ADD KEY ix_daily_model (provider, model, ts_day);
ALTER TABLE usage_hourly ADD KEY ix_hourly_model (provider, model, ts_hour);

CREATE TABLE usage_hourly_key LIKE usage_hourly;
ALTER TABLE usage_hourly_key
  DROP PRIMARY KEY, DROP KEY ix_hourly_model, DROP COLUMN provider, DROP COLUMN model,
  ADD PRIMARY KEY (ts_hour, key_id, user_id, team_id, app);
CREATE TABLE usage_daily_key LIKE usage_hourly_key;
ALTER TABLE usage_daily_key
  CHANGE ts_hour ts_day DATE NOT NULL COMMENT 'UTC day the attempts started in',
  DROP KEY ix_hourly_user, DROP KEY ix_hourly_team,
  ADD KEY ix_daily_key_user (user_id, ts_day),
  ADD KEY ix_daily_key_team (team_id, ts_day);

CREATE TABLE usage_hourly_team LIKE usage_hourly;
ALTER TABLE usage_hourly_team
  DROP PRIMARY KEY, DROP KEY ix_hourly_user, DROP KEY ix_hourly_team, DROP KEY ix_hourly_model,
  DROP COLUMN user_id, DROP COLUMN key_id, DROP COLUMN app, DROP COLUMN provider,
  DROP COLUMN model,
  ADD PRIMARY KEY (ts_hour, team_id);
CREATE TABLE usage_daily_team LIKE usage_hourly_team;
ALTER TABLE usage_daily_team CHANGE ts_hour ts_day DATE NOT NULL;

CREATE TABLE usage_hourly_model LIKE usage_hourly;
ALTER TABLE usage_hourly_model
  DROP PRIMARY KEY, DROP KEY ix_hourly_user, DROP KEY ix_hourly_team, DROP KEY ix_hourly_model,
  DROP COLUMN user_id, DROP COLUMN team_id, DROP COLUMN key_id, DROP COLUMN app,
  ADD PRIMARY KEY (ts_hour, provider, model);
CREATE TABLE usage_daily_model LIKE usage_hourly_model;
ALTER TABLE usage_daily_model CHANGE ts_hour ts_day DATE NOT NULL;

CREATE TABLE usage_hourly_team_model LIKE usage_hourly;
ALTER TABLE usage_hourly_team_model
  DROP PRIMARY KEY, DROP KEY ix_hourly_user, DROP KEY ix_hourly_team, DROP KEY ix_hourly_model,
  DROP COLUMN user_id, DROP COLUMN key_id, DROP COLUMN app,
  ADD PRIMARY KEY (ts_hour, team_id, provider, model);
CREATE TABLE usage_daily_team_model LIKE usage_hourly_team_model;
ALTER TABLE usage_daily_team_model CHANGE ts_hour ts_day DATE NOT NULL;

-- One row: the rollup's lock (SELECT … FOR UPDATE SKIP LOCKED serialises the gateways' drain
-- threads and hubctl rollup) and its counters.
CREATE TABLE usage_rollup_state (
  id                TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  rows_rolled       BIGINT       NOT NULL DEFAULT 0,
  batches           BIGINT       NOT NULL DEFAULT 0,
  last_roll_at      DATETIME(3)  NULL,
  rows_deleted      BIGINT       NOT NULL DEFAULT 0 COMMENT 'raw rows removed by retention',
  last_retention_at DATETIME(3)  NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO usage_rollup_state (id) VALUES (1);
