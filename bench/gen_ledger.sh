#!/usr/bin/env bash
# bench/gen_ledger.sh — fills the usage ledger of a quickstart hub with synthetic calls, fast:
# MariaDB generates the rows itself (INSERT … SELECT over the Sequence engine's seq_1_to_N, in
# chunks of 500,000), no client round trip per row.
#
#   bench/gen_ledger.sh [ROWS] [DAYS]     default 10000000 rows over the last 90 days
#
# Random numbers come from MD5 of the row number (reproducible; CRC32s of similar strings are
# correlated). Environment: HUB_HOME (default ./var of the source tree; its MariaDB socket and root access
# over the socket are used, as the quickstart sets them up).
#
# What it makes (all names start with "bench-", so it can be told apart and run again):
# 40 teams, 500 users (members), 800 API keys (revoked: they only own usage) over 25 apps, 20
# users calling with OAuth tokens (no key, app "oauth"), 16 models of 5 providers with the
# catalogue's prices (one provider unpriced, one embedding and one image model). Usage is skewed:
# a few keys make most calls, each key mostly uses one model. Per call: tokens, images, cost in
# micro-USD, latency and time to first byte, outcomes (97 % ok, upstream errors, client aborts,
# timeouts), 2 % retries. Timestamps rise evenly over DAYS days up to now; request ids are
# "bench000-…" + the row number, so a rerun adds nothing twice (INSERT IGNORE).
# The rows are final and not yet rolled up: a running gateway rolls them up as they arrive,
# `hubctl rollup` does the rest (bench/pages.sh runs it).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HUB_HOME=${HUB_HOME:-$SRC/var}
ROWS=${1:-10000000}
DAYS=${2:-90}
CHUNK=500000
SOCK=$HUB_HOME/run/mysqld.sock
DB=(mariadb --no-defaults -S "$SOCK" -u root hub)

[ -S "$SOCK" ] || { echo "gen_ledger: no MariaDB at $SOCK (run deploy/quickstart.sh first)" >&2; exit 1; }

"${DB[@]}" <<'SQL'
SET time_zone = '+00:00';
INSERT IGNORE INTO teams (name) SELECT CONCAT('bench-team-', LPAD(seq, 2, '0')) FROM seq_1_to_40;
INSERT IGNORE INTO users (name, team_id, role, auth_source)
  SELECT CONCAT('bench-user-', LPAD(s.seq, 3, '0')), t.id, 'member', 'hubctl'
  FROM seq_1_to_520 s JOIN teams t ON t.name = CONCAT('bench-team-', LPAD(1 + s.seq % 40, 2, '0'));
INSERT IGNORE INTO api_keys (name, key_hash, prefix, user_id, team_id, app, kind, created_by, revoked_at)
  SELECT CONCAT('bench-key-', LPAD(s.seq, 3, '0')), UNHEX(SHA2(CONCAT('bench-key-', s.seq), 256)),
         'hub_bench', u.id, u.team_id, CONCAT('app-', LPAD(1 + s.seq % 25, 2, '0')), 'service',
         'bench', UTC_TIMESTAMP(3)
  FROM seq_1_to_800 s JOIN users u ON u.name = CONCAT('bench-user-', LPAD(1 + s.seq % 500, 3, '0'));

-- the callers: n 1..800 keys, 801..820 OAuth users without a key
CREATE TABLE IF NOT EXISTS bench_callers (
  n INT PRIMARY KEY, key_id INT UNSIGNED NULL, user_id INT UNSIGNED NOT NULL,
  team_id INT UNSIGNED NULL, app VARCHAR(128) NULL, model0 INT NOT NULL) ENGINE=InnoDB;
INSERT IGNORE INTO bench_callers
  SELECT CAST(SUBSTRING(k.name, 11) AS UNSIGNED), k.id, k.user_id, k.team_id, k.app, CRC32(k.name) % 16
  FROM api_keys k WHERE k.name LIKE 'bench-key-%';
INSERT IGNORE INTO bench_callers
  SELECT 800 + s.seq, NULL, u.id, u.team_id, 'oauth', CRC32(u.name) % 16
  FROM seq_1_to_20 s JOIN users u ON u.name = CONCAT('bench-user-', LPAD(500 + s.seq, 3, '0'));

CREATE TABLE IF NOT EXISTS bench_models (
  n INT PRIMARY KEY, provider VARCHAR(64), model VARCHAR(191), kind VARCHAR(16),
  pin BIGINT NULL, pout BIGINT NULL, pimg BIGINT NULL) ENGINE=InnoDB;
INSERT IGNORE INTO bench_models VALUES
  (0, 'openai', 'gpt-4o', 'chat', 2500000, 10000000, NULL),
  (1, 'openai', 'gpt-4o-mini', 'chat', 150000, 600000, NULL),
  (2, 'openai', 'gpt-4.1', 'chat', 2000000, 8000000, NULL),
  (3, 'openai', 'gpt-4.1-mini', 'chat', 400000, 1600000, NULL),
  (4, 'openai', 'o4-mini', 'chat', 1100000, 4400000, NULL),
  (5, 'openai', 'gpt-5-mini', 'chat', 250000, 2000000, NULL),
  (6, 'anthropic', 'claude-sonnet-4', 'chat', 3000000, 15000000, NULL),
  (7, 'anthropic', 'claude-haiku-4-5', 'chat', 1000000, 5000000, NULL),
  (8, 'anthropic', 'claude-opus-4-1', 'chat', 15000000, 75000000, NULL),
  (9, 'google', 'gemini-2.5-pro', 'chat', 1250000, 10000000, NULL),
  (10, 'google', 'gemini-2.5-flash', 'chat', 300000, 2500000, NULL),
  (11, 'google', 'gemini-2.0-flash', 'chat', 100000, 400000, NULL),
  (12, 'openai', 'text-embedding-3-small', 'embedding', 20000, NULL, NULL),
  (13, 'openai', 'dall-e-3', 'image', NULL, NULL, 40000),
  (14, 'deepseek', 'deepseek-chat', 'chat', NULL, NULL, NULL),
  (15, 'ollama', 'llama3.1:8b', 'chat', 0, 0, NULL);
SQL

start=$(date +%s)
have=$("${DB[@]}" -N -e "SELECT COUNT(*) FROM usage_log WHERE request_id LIKE 'bench000-%'")
echo "gen_ledger: $have bench rows present; generating up to $ROWS over $DAYS days"
t0=$(date +%s)
for ((c = 0; c * CHUNK < ROWS; c++)); do
    n=$((ROWS - c * CHUNK < CHUNK ? ROWS - c * CHUNK : CHUNK))
    "${DB[@]}" <<SQL
SET time_zone = '+00:00';
SET @rows = $ROWS, @end_ms = $start * 1000, @span_ms = $DAYS * 86400 * 1000, @base = $c * $CHUNK;
INSERT IGNORE INTO usage_log (request_id, attempt, ts, key_id, user_id, team_id, app, provider,
  credential_id, model, endpoint, stream, status, prompt_tokens, completion_tokens, total_tokens,
  images, cost_micro, latency_ms, ttfb_ms, outcome)
SELECT CONCAT('bench000-0000-4000-8000-', LPAD(HEX(y.n), 12, '0')), y.attempt, y.ts, y.key_id,
  y.user_id, y.team_id, y.app, y.provider, NULL, y.model, y.endpoint, y.stream, y.status,
  y.pt, y.ct, y.pt + y.ct, y.im,
  CASE WHEN y.failed THEN NULL
       WHEN y.kind = 'image' THEN y.im * y.pimg
       WHEN y.pin IS NULL THEN NULL
       ELSE ROUND((y.pt * y.pin + y.ct * COALESCE(y.pout, 0)) / 1000000) END,
  y.lat, 80 + FLOOR(y.lat * 0.3 * y.r9), y.outcome
FROM (
SELECT x.n, IF(x.r5 < 0.02, 1, 0) AS attempt,
  FROM_UNIXTIME((@end_ms - @span_ms + (x.n - 1) * (@span_ms DIV @rows)) / 1000) AS ts,
  c.key_id, c.user_id, c.team_id, c.app, m.provider, m.model, m.kind, m.pin, m.pout, m.pimg,
  CASE m.kind WHEN 'embedding' THEN 'embeddings' WHEN 'image' THEN 'images/generations'
              ELSE 'chat/completions' END AS endpoint,
  m.kind = 'chat' AND x.r9 < 0.5 AS stream,
  CASE WHEN x.r7 < 0.015 THEN IF(x.r6 < 0.5, 500, 429) WHEN x.r7 >= 0.025 AND x.r7 < 0.03 THEN NULL
       ELSE 200 END AS status,
  x.r7 < 0.015 AS failed,
  CASE WHEN x.r7 < 0.015 OR m.kind = 'image' THEN NULL
       WHEN m.kind = 'embedding' THEN 20 + FLOOR(x.r4 * 500)
       ELSE 50 + FLOOR(x.r4 * x.r4 * 4000) END AS pt,
  CASE WHEN x.r7 < 0.015 OR m.kind = 'image' THEN NULL WHEN m.kind = 'embedding' THEN 0
       ELSE 10 + FLOOR(x.r6 * 1200) END AS ct,
  IF(m.kind = 'image' AND x.r7 >= 0.015, 1 + FLOOR(x.r8 * 3), NULL) AS im,
  150 + FLOOR(x.r8 * x.r8 * 9000) AS lat, x.r9,
  CASE WHEN x.r7 < 0.015 THEN 'upstream_error' WHEN x.r7 < 0.025 THEN 'client_abort'
       WHEN x.r7 < 0.03 THEN 'timeout' ELSE 'ok' END AS outcome
FROM (SELECT h.n,
             CONV(SUBSTRING(h.a, 1, 8), 16, 10) / 4294967296 AS r1,
             CONV(SUBSTRING(h.a, 9, 8), 16, 10) / 4294967296 AS r2,
             CONV(SUBSTRING(h.a, 17, 8), 16, 10) / 4294967296 AS r3,
             CONV(SUBSTRING(h.a, 25, 8), 16, 10) / 4294967296 AS r4,
             CONV(SUBSTRING(h.b, 1, 8), 16, 10) / 4294967296 AS r5,
             CONV(SUBSTRING(h.b, 9, 8), 16, 10) / 4294967296 AS r6,
             CONV(SUBSTRING(h.b, 17, 8), 16, 10) / 4294967296 AS r7,
             CONV(SUBSTRING(h.b, 25, 8), 16, 10) / 4294967296 AS r8,
             CONV(SUBSTRING(MD5(CONCAT('c', h.n)), 1, 8), 16, 10) / 4294967296 AS r9
      FROM (SELECT @base + seq AS n, MD5(CONCAT('a', @base + seq)) AS a,
                   MD5(CONCAT('b', @base + seq)) AS b
            FROM seq_1_to_$n) h) x
JOIN bench_callers c ON c.n = 1 + FLOOR(820 * x.r1 * x.r1)
JOIN bench_models m ON m.n = (c.model0 + IF(x.r2 < 0.75, 0, FLOOR(x.r3 * 4))) % 16
) y;
SQL
    printf '\rgen_ledger: %d rows (%d s)' $((c * CHUNK + n)) $(($(date +%s) - t0))
done
echo
echo "gen_ledger: done in $(($(date +%s) - t0)) s; $("${DB[@]}" -N -e "SELECT COUNT(*) FROM usage_log") ledger rows in all"
