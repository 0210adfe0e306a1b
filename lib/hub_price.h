/*
 * hub_price.h — cost of a call from the price catalogue, in integer micro-USD.
 */
#ifndef HUB_PRICE_H
#define HUB_PRICE_H

#include <stdbool.h>

typedef struct {
    bool known;
    long long input_per_1m;  /* micro-USD per 1M input tokens, -1 unknown */
    long long output_per_1m; /* micro-USD per 1M output tokens, -1 unknown */
    long long per_image;     /* micro-USD per image, -1 unknown */
} hub_price;

/*
 * Cost in micro-USD (rounded half up), or -1 when the price is unknown or a count the
 * price needs is unknown. Counts of -1 mean unknown; a zero count costs nothing.
 */
long long hub_price_cost(const hub_price *p, long long prompt_tokens, long long completion_tokens,
                         long long images);

/* Parses "2.50" (USD) into micro-USD. Refuses negatives, more than 6 decimals, junk. */
bool hub_price_parse_usd(const char *s, long long *micro);

/* The vendor whose list prices apply to a provider type ("openai" → "openai",
 * "anthropic" → "anthropic", "gemini" → "google"); NULL for other types. */
const char *hub_price_vendor(const char *provider_type);

#endif
