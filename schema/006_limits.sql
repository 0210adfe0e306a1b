-- 006: monthly budgets and rate limits on API keys, users and teams (lib/hub_limits.h).
--
-- limits holds what an admin set (hubctl limit, the "Budgets" page). The gateway keeps a copy of
-- it (reloaded every second) so requests of scopes without limits cost no query.
-- budget_usage and rate_usage are the counters the gateway moves with one conditional UPDATE per
-- scope (WHERE spent + reserved + estimate <= budget; WHERE requests + 1 <= rpm AND tokens + n <=
-- tpm), never SELECT-then-UPDATE, so concurrent requests on any number of hosts cannot overshoot.

CREATE TABLE limits (
  scope_type   VARCHAR(8)      NOT NULL COMMENT 'key, user, team',
  scope_id     INT UNSIGNED    NOT NULL COMMENT 'api_keys.id, users.id or teams.id',
  budget_micro BIGINT          NULL COMMENT 'budget per UTC calendar month in micro-USD; NULL = none',
  rpm          INT UNSIGNED    NULL COMMENT 'requests per minute (fixed UTC minute windows); NULL = none',
  tpm          BIGINT UNSIGNED NULL COMMENT 'tokens per minute (estimate at admission, actual after); NULL = none',
  updated_at   DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  updated_by   VARCHAR(160)    NULL,
  PRIMARY KEY (scope_type, scope_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per scope with a budget and month. spent_micro: settled cost of finished requests
-- (starts from the ledger's spend of the month when the row is created); reserved_micro: the
-- estimates of requests in flight. alert80_at / alert100_at: when spent first reached 80 % / 100 %
-- of the budget this month (set once; logged once).
CREATE TABLE budget_usage (
  scope_type     VARCHAR(8)   NOT NULL,
  scope_id       INT UNSIGNED NOT NULL,
  month          DATE         NOT NULL COMMENT 'first day of the UTC month',
  spent_micro    BIGINT       NOT NULL DEFAULT 0,
  reserved_micro BIGINT       NOT NULL DEFAULT 0,
  reserved_at    DATETIME(3)  NULL COMMENT 'last reservation; older than any request can run = nothing in flight',
  alert80_at     DATETIME(3)  NULL,
  alert100_at    DATETIME(3)  NULL,
  PRIMARY KEY (scope_type, scope_id, month)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per scope with an rpm or tpm limit and UTC minute (fixed window). Old windows are
-- purged by the gateways after an hour.
CREATE TABLE rate_usage (
  scope_type   VARCHAR(8)   NOT NULL,
  scope_id     INT UNSIGNED NOT NULL,
  window_start DATETIME     NOT NULL COMMENT 'UTC minute',
  requests     INT UNSIGNED NOT NULL DEFAULT 0,
  tokens       BIGINT       NOT NULL DEFAULT 0,
  PRIMARY KEY (scope_type, scope_id, window_start),
  KEY ix_rate_usage_window (window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
