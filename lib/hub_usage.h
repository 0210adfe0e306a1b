/*
 * hub_usage.h — one usage-ledger record and its spool line format.
 *
 * A record describes one attempt sent upstream: who (key, user, team, app), where
 * (provider, model, endpoint), what came back (status, tokens, images, cost) and how
 * long it took. Unknown numbers are -1 and become SQL NULL, never 0.
 * The spool line is one JSON object per line, written by hub_usage_to_json.
 */
#ifndef HUB_USAGE_H
#define HUB_USAGE_H

#include "hub_buf.h"
#include "hub_uuid.h"

#include <stdbool.h>

typedef struct {
    char request_id[HUB_UUID_LEN + 1];
    int attempt;
    long long ts_ms;                    /* start, Unix epoch milliseconds */
    long long key_id, user_id, team_id; /* 0 = none */
    char app[129];
    char provider[65];
    long long credential_id; /* 0 = none */
    char model[192];
    char endpoint[64];
    int stream;
    int status; /* -1 unknown */
    long long prompt_tokens, completion_tokens, total_tokens, images, cost_micro;
    long long latency_ms, ttfb_ms;
    char outcome[32]; /* pending, ok, upstream_error, client_abort, truncated, timeout */
} hub_usage;

/* Sets every number to "unknown" and strings empty. */
void hub_usage_init(hub_usage *u);
/* Appends the spool line (JSON + '\n'). */
bool hub_usage_to_json(const hub_usage *u, hub_buf *out);
/* Parses one spool line (without the newline). false on anything malformed. */
bool hub_usage_from_json(const char *line, size_t len, hub_usage *u);
/* "YYYY-MM-DD HH:MM:SS.mmm" UTC for a DATETIME(3) column. */
void hub_usage_ts_sql(long long ts_ms, char out[48]);
/* Epoch milliseconds now. */
long long hub_now_ms(void);

#endif
