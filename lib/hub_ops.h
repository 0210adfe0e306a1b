/*
 * hub_ops.h — the administrative operations that hubctl and the admin pages both perform,
 * written once: checking what an admin types (names, model names, globs, endpoint lists,
 * e-mail addresses, dates, provider base URLs, fallback lists), working out a provider's
 * settings from its type and preset, formatting micro-USD, and, against the database,
 * transactions that refuse to commit on a replaced connection, storing a sealed provider
 * credential, the rules of model routes, setting a price and creating an API key.
 *
 * Nothing here prints. Failures come back as false (or a hub_err) plus a short message in
 * err that never holds a secret. The checks (hub_ops_check.c) are pure functions; the
 * database operations (hub_ops.c) run inside the caller's transaction.
 */
#ifndef HUB_OPS_H
#define HUB_OPS_H

#include "hub_apikey.h"
#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_error.h"

#include <stdbool.h>
#include <stddef.h>

/* Characters names may hold besides ASCII letters and digits. */
#define HUB_CHARS_PROVIDER  "._-"
#define HUB_CHARS_MODEL     "._:@/-"
#define HUB_CHARS_PRINCIPAL "._@+-" /* users, teams, API key names */
#define HUB_CHARS_APP       "._:@/-"
#define HUB_CHARS_LABEL     "._:@-" /* credential labels, at most 64 */

#define HUB_WEIGHT_MIN     1
#define HUB_WEIGHT_MAX     1000
#define HUB_PRIORITY_MIN   (-1000000L)
#define HUB_PRIORITY_MAX   1000000L
#define HUB_FALLBACKS_MAX  1024 /* the models.fallbacks column */
#define HUB_FALLBACK_ITEMS 16
#define HUB_GLOBS_MAX      1024 /* the api_keys.models column */
#define HUB_BASE_URL_MAX   512
#define HUB_SECRET_MAX     4096 /* longest provider credential accepted */
#define HUB_KEY_DAYS_MAX   36500

/* ---- checks (hub_ops_check.c) -------------------------------------------------------- */

/* True when s is 1..maxlen characters of ASCII letters, digits and the bytes of extra. */
bool hub_name_ok(const char *s, size_t maxlen, const char *extra);
/* A model name: HUB_CHARS_MODEL, at most 191 characters, no "..". */
bool hub_model_name_ok(const char *s);
/* Comma-separated model globs (letters, digits, . _ : @ / * ? -), each under 256
 * characters, at most HUB_GLOBS_MAX in all. */
bool hub_globs_ok(const char *s);
/* A plain address like name@example.com (no spaces, quotes or brackets), ≤ 255 bytes. */
bool hub_email_ok(const char *s);
/* Strict YYYY-MM-DD naming a real calendar day from 1970 on. */
bool hub_date_ok(const char *s);
/* Strict decimal integer in [min, max]: an optional '-' and digits only. */
bool hub_int_ok(const char *s, long min, long max, long *out);
/* The API endpoint families a key may be limited to, in canonical order. */
extern const char *const HUB_ENDPOINTS[];
#define HUB_NENDPOINTS 4
/* Checks a comma-separated list of HUB_ENDPOINTS names (no empty entry, none twice) and
 * writes it to out in the order of HUB_ENDPOINTS. false when in is not such a list. */
bool hub_endpoints_normalize(const char *in, char *out, size_t outsz);
/* A model route's kind: chat, embedding or image. */
bool hub_model_kind_ok(const char *k);
/* A vendor whose prices apply to every provider of its type: openai, anthropic, google. */
bool hub_is_price_vendor(const char *name);
/* Formats micro-USD as USD: 6 decimals, trailing zeros trimmed down to min_decimals. */
void hub_fmt_usd(long long micro, int min_decimals, char *out, size_t outsz);

/* NULL when url is an acceptable provider base URL (https, or http only when internal; a
 * host; no user@; printable ASCII; ≤ HUB_BASE_URL_MAX), else what is wrong with it. */
const char *hub_base_url_problem(const char *url, bool internal);

/* Provider types and presets, for forms: the i-th name, NULL past the end. */
const char *hub_provider_type_name(int i);
const char *hub_provider_preset_name(int i);

/*
 * A provider's settings: fill the inputs (type and/or preset, base_url, api_version may be
 * NULL for "the default"), call hub_provider_resolve. On success it returns NULL and fills
 * the outputs (type is set from a preset, internal may be switched on by the preset); else
 * it returns a static message saying what is wrong.
 */
typedef struct {
    const char *type;               /* in/out: openai, openai-compatible, anthropic, gemini */
    const char *preset;             /* in: deepseek, xai, openrouter, ollama, azure or NULL */
    const char *base_url;           /* in: NULL = the type's or preset's default */
    const char *api_version;        /* in/out: NULL = the default (anthropic, azure) */
    bool internal;                  /* in/out: plain http allowed */
    const char *auth_header;        /* out: NULL = by type */
    bool key_optional;              /* out: an empty key stores HUB_OLLAMA_KEY */
    char url[HUB_BASE_URL_MAX + 1]; /* out: the base URL to store, trailing '/' removed */
} hub_provider_spec;

#define HUB_OLLAMA_KEY "ollama"

const char *hub_provider_resolve(hub_provider_spec *ps);

/*
 * Checks a fallback list ("PROVIDER/MODEL,...", spaces around entries allowed) and writes
 * it normalised to out (no spaces, "" when empty). At most HUB_FALLBACK_ITEMS entries, no
 * duplicates. Does not look providers up (hub_fallbacks_check does).
 */
bool hub_fallbacks_normalize(const char *in, char *out, size_t outsz, char *err, size_t errsz);

/* ---- database operations (hub_ops.c) ------------------------------------------------- */

/* START TRANSACTION; *thread gets the connection's server thread id. */
bool hub_tx_begin(hub_db *db, unsigned long *thread);
/* COMMIT, refused (and rolled back) when the connection was replaced since hub_tx_begin. */
bool hub_tx_commit(hub_db *db, unsigned long thread, char *err, size_t errsz);
/* ROLLBACK; never fails loudly. */
void hub_tx_rollback(hub_db *db);

/* hub_fallbacks_normalize plus: every provider named exists. HUB_EINVAL (bad list or
 * unknown provider; err says which) or HUB_EDB. */
hub_err hub_fallbacks_check(hub_db *db, const char *in, char *out, size_t outsz, char *err,
                            size_t errsz);

/* *taken = provider pid already has a credential labelled label. false on a DB error. */
bool hub_cred_label_taken(hub_db *db, long long pid, const char *label, bool *taken);
/* The first free label "key-<n>" of provider pid (n from its number of credentials + 1).
 * Call inside the transaction that inserts it, with the provider row locked. */
bool hub_cred_default_label(hub_db *db, long long pid, char *out, size_t outsz, char *err,
                            size_t errsz);
/*
 * Inside the caller's transaction: inserts credential (pid, label, weight), seals
 * secret[0..slen) with the current master key under "credential:<id>" and stores the blob
 * and key id. *cid and *key_id get the new row's id and the key used. The secret is not
 * copied; the caller wipes it. false with err on failure (the caller rolls back).
 */
bool hub_cred_store(hub_db *db, const hub_keyring *kr, long long pid, const char *label,
                    long weight, const char *secret, size_t slen, long long *cid, int *key_id,
                    char *err, size_t errsz);

/* The other routes of model name (not through provider pid), locked: columns provider
 * name, kind, priority, in the order the gateway tries them. false on a database error. */
bool hub_route_others(hub_db *db, const char *name, long long pid, hub_dbres *others);
/* NULL when kind is the kind of every route in others, else msg, which says which route of
 * name has another kind (every route of a name has the same kind). */
const char *hub_route_kind_clash(const hub_dbres *others, const char *name, const char *kind,
                                 char *msg, size_t msgsz);
/* What a new route of name leaves open, from the other routes: *upstream (NULL) becomes
 * name, *kind (NULL) theirs or "chat", and *priority, unless has_priority, one more than
 * their highest (no other route: unchanged). */
void hub_route_new_defaults(const hub_dbres *others, const char *name, const char **upstream,
                            const char **kind, long *priority, bool has_priority);

/* *ok = name can own a price: a vendor (hub_is_price_vendor) or an existing provider. false
 * on a database error. */
bool hub_price_owner_ok(hub_db *db, const char *name, bool *ok);
/*
 * Inside the caller's transaction: locks the price of provider/model and returns it in
 * *before (no row or one: provider, model, the four amounts, effective_date, source; the
 * caller frees it), then sets micro (micro-USD per 1M input, output, cached input tokens
 * and per image; negative: unknown) effective today (UTC) with source ("hubctl", "pages").
 * false on a database error.
 */
bool hub_price_set(hub_db *db, const char *provider, const char *model, const long long micro[4],
                   const char *source, hub_dbres *before);

/* A new API key's properties (strings borrowed; NULL = none / every). */
typedef struct {
    const char *name;
    long long user_id;
    long long team_id; /* 0 = none */
    const char *app;
    const char *models;    /* comma-separated globs */
    const char *endpoints; /* comma-separated HUB_ENDPOINTS */
    long expires_days;     /* -1 = never */
    const char *kind;      /* "service" or "personal" */
    const char *created_by;
} hub_key_spec;

/*
 * Inside the caller's transaction: generates a key, stores its SHA-256 and display prefix.
 * key gets the secret (the caller shows it once, then wipes it), shown the display prefix,
 * *kid the row id. HUB_EINVAL when a key of that name exists (err says so), HUB_EDB,
 * HUB_EINTERNAL (no randomness).
 */
hub_err hub_key_create(hub_db *db, const hub_key_spec *ks, char key[HUB_APIKEY_LEN + 1],
                       char shown[HUB_APIKEY_SHOWN + 1], long long *kid, char *err, size_t errsz);

#endif
