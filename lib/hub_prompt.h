/*
 * hub_prompt.h — opt-in prompt logging: the request bodies of API calls, sealed at rest.
 *
 * Off by default. The admin turns it on or off at run time (settings.cgi, "hubctl settings
 * prompt-logging on|off"): the setting "prompt_logging" ("on" / "off"; unset = off) in the
 * settings table, audited as "settings.update" of setting "prompt_logging". The gateway learns
 * it on its catalogue refresh. How much is kept and for how long are operator decisions in
 * hub.conf: prompt_log_max_bytes (a longer body is stored cut at a UTF-8 boundary and marked
 * truncated) and prompt_retention_days (older prompts are deleted in bounded batches by the
 * gateway's drain thread and by "hubctl retention").
 *
 * One row of usage_prompts (schema/008_prompts.sql) per request id: when, key, user, team,
 * endpoint, the body's size as received, whether it was cut, and the body sealed with the
 * master keyring (AES-256-GCM, associated data "prompt:<request id>", the key id beside it).
 * The body is never written anywhere in plain text, never logged.
 */
#ifndef HUB_PROMPT_H
#define HUB_PROMPT_H

#include "hub_config.h"
#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_error.h"

#include <stdbool.h>
#include <stddef.h>

#define HUB_SET_PROMPT_LOGGING  "prompt_logging"   /* settings.name: "on" / "off" */
#define HUB_PROMPT_ID_LEN       36                 /* a request id: a UUID */
#define HUB_PROMPT_BATCH        1000               /* rows deleted / resealed per statement */
#define HUB_PROMPT_RETENTION_MS (10LL * 60 * 1000) /* the gateway's retention interval */

/* ---- pure helpers ---- */

/* True when s looks like a request id: 36 characters of 0-9 a-f A-F and '-'. NULL: false. */
bool hub_prompt_id_ok(const char *s);

/* ---- the setting ---- */

/* *on = prompt logging is on. false on a database error (*on is false then). */
bool hub_prompt_logging_get(hub_db *db, bool *on);
/*
 * Turns prompt logging on or off inside the caller's open transaction and, when that
 * changes it, appends the audit row ("settings.update", setting "prompt_logging", before →
 * after) for actor via "pages" or "hubctl". *changed (may be NULL) says whether it changed.
 * false on a database error (the caller rolls back).
 */
bool hub_prompt_logging_set(hub_db *db, bool on, const char *actor, const char *via, bool *changed);

/* ---- storing and reading ---- */

/* Who made the call a stored prompt belongs to (ids 0: none). */
typedef struct {
    const char *request_id; /* borrowed */
    long long ts_ms;        /* when the request arrived (the ledger's ts) */
    long long key_id, user_id, team_id;
    const char *endpoint; /* the client's path, borrowed */
} hub_prompt_meta;

/*
 * Seals body[0..len) — cut to max bytes (hub_utf8_cut) — with the current key of kr under
 * "prompt:<request id>" and inserts it (a second store of the same id changes nothing).
 * false on a sealing or database error; err (no body content) says why.
 */
bool hub_prompt_store(hub_db *db, const hub_keyring *kr, const hub_prompt_meta *m, const char *body,
                      size_t len, size_t max, char *err, size_t errsz);

/* A stored prompt, opened. */
typedef struct {
    char *body; /* owned, NUL-terminated plain text of len bytes (hub_prompt_free wipes it) */
    size_t len;
    long long user_id, key_id, team_id;  /* 0: none */
    char user[192], team[192], key[192]; /* names ("" when none) */
    char ts[32];                         /* "YYYY-MM-DD HH:MM:SS" UTC */
    char endpoint[65];
    long long body_bytes; /* the size of the body as received */
    bool truncated;
} hub_prompt;

/* Who owns a stored prompt, without opening it: *user_id (0: none); HUB_ENOTFOUND when none is
 * stored for request_id, HUB_EDB. */
hub_err hub_prompt_owner(hub_db *db, const char *request_id, long long *user_id);
/* Loads and opens the prompt of request_id into *out (zeroed first). HUB_OK, HUB_ENOTFOUND,
 * HUB_ECRYPTO (it does not open: wrong master key or tampering), HUB_EDB. */
hub_err hub_prompt_load(hub_db *db, const hub_keyring *kr, const char *request_id, hub_prompt *out);
/* Wipes and frees the body; p may be zeroed or NULL. */
void hub_prompt_free(hub_prompt *p);

/* ---- retention and key rotation ---- */

/* Deletes at most batch prompts older than days days (one statement). *deleted gets the
 * count; fewer than batch means nothing older is left. */
bool hub_prompt_retention_batch(hub_db *db, int days, int batch, long *deleted);

/* What the gateway's drain thread keeps between ticks (zero-initialise). */
typedef struct {
    long long next_ms; /* when to delete again */
    long long last_error_log_ms;
} hub_prompt_ticker;
/* Called after each spool drain: every HUB_PROMPT_RETENTION_MS (at once again while batches
 * come back full) deletes one batch of prompts older than prompt_retention_days. */
void hub_prompt_tick(hub_prompt_ticker *t, hub_db *db, const hub_config *cfg);

/*
 * One step of resealing the stored prompts with the current key of kr (hubctl key-rotate):
 * in one transaction, at most batch rows sealed with another key whose request id sorts after
 * cursor (a string of HUB_PROMPT_ID_LEN + 1 bytes, "" to start; advanced to the last row
 * seen) are opened with their own key id and sealed again. *seen gets the rows looked at
 * (fewer than batch: the pass is complete), *resealed those sealed again; a row that does not
 * open is left as it is, counted in *unreadable. false on a database or sealing error (rolled
 * back; hub_db_error or err says why).
 */
bool hub_prompt_reseal_batch(hub_db *db, const hub_keyring *kr, char *cursor, int batch, long *seen,
                             long *resealed, long *unreadable, char *err, size_t errsz);
/* *n = stored prompts sealed with a key other than key_id. */
bool hub_prompt_count_other_keys(hub_db *db, int key_id, long long *n);

#endif
