/*
 * hub_catalog.h — an immutable snapshot of the routing tables: providers, their
 * credentials (decrypted, held only in memory), models and prices.
 *
 * The gateway loads a snapshot, shares it between threads by reference count and
 * swaps in a fresh one every catalog_refresh_ms. A snapshot is never modified after
 * hub_catalog_load returns.
 */
#ifndef HUB_CATALOG_H
#define HUB_CATALOG_H

#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_error.h"
#include "hub_price.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    long long id;
    char name[65];
    char type[33];
    char base_url[513];
    bool internal; /* admin allowed plain http */
    bool enabled;
    char preset[33];        /* "" or deepseek, xai, openrouter, ollama, azure */
    char auth_header[33];   /* "" = by type; "api-key" (Azure), "none" */
    char api_version[33];   /* anthropic-version or Azure api-version; "" = default */
    int cred_first, ncreds; /* slice of hub_catalog.creds */
} hub_provider;

typedef struct {
    long long id;
    int provider; /* index into providers */
    int weight;
    long long cooldown_until_ms; /* from the database; 0 = none */
    bool active;                 /* status = active */
    bool readable;               /* secret decrypted */
    char *secret;                /* owned by the snapshot, zeroed on free; NULL when unreadable */
    size_t secret_len;
} hub_credential;

typedef struct {
    char name[192];
    int provider; /* index into providers */
    char upstream[192];
    char kind[17];
    bool enabled;
    int priority;
    char fallbacks[1025]; /* "provider/model,…" */
} hub_model;

typedef struct {
    char provider[65];
    char model[192];
    hub_price price;
} hub_price_row;

typedef struct {
    int refs; /* atomic */
    long long loaded_ms;
    hub_provider *providers;
    int nproviders;
    hub_credential *creds;
    int ncreds;
    hub_model *models;
    int nmodels;
    hub_price_row *prices;
    int nprices;
} hub_catalog;

/* One place a request may go: a provider and the model name it knows. Borrows from the
 * snapshot. */
typedef struct {
    const hub_provider *provider;
    char upstream_model[192];
    char canonical[260]; /* "provider/upstream_model" */
    const char *kind;    /* "chat", "embedding", "image" or NULL when routed by provider name */
} hub_target;

#define HUB_PLAN_MAX 8

/* Where a request may go, in order: the rows of its model name by priority, then the first
 * row's fallbacks. Disabled providers and models are left out. */
typedef struct {
    hub_target t[HUB_PLAN_MAX];
    int n;
    const char *kind; /* the kind of the model name (first row), NULL for provider/model */
} hub_plan;

/* Loads a snapshot (refs = 1). NULL + message on failure. */
hub_catalog *hub_catalog_load(hub_db *db, const hub_keyring *kr, char *err, size_t errsz);
void hub_catalog_retain(hub_catalog *c);
void hub_catalog_release(hub_catalog *c);

const hub_provider *hub_catalog_provider(const hub_catalog *c, const char *name);

/*
 * Resolves a client's model name into a plan: the models table first (several rows of one
 * name are tried by priority, then the fallbacks), else "PROVIDER/MODEL" with PROVIDER a
 * provider name. HUB_ENOTFOUND when neither; HUB_EUNAVAIL when every target is disabled
 * (*why then names the first disabled provider or model, borrowed).
 */
hub_err hub_catalog_plan(const hub_catalog *c, const char *model, hub_plan *out, const char **why);

/* The credentials of a provider (a slice of c->creds). */
const hub_credential *hub_catalog_creds(const hub_catalog *c, const hub_provider *p, int *n);

/* The price for (provider name, model), falling back to the provider type's vendor. */
hub_price hub_catalog_price(const hub_catalog *c, const hub_provider *p, const char *model);

#endif
