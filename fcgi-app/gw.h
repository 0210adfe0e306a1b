/*
 * gw.h — hub-gateway's shared types: the process context (config, keyring, spool,
 * routing snapshot, key cache), one worker thread, and one API call in flight.
 *
 * Ownership: gw_ctx is created by main and outlives every thread. A gw_worker belongs
 * to its thread (its CURL*, hub_db and buffers are never shared). A gw_call lives on the
 * worker's stack for one request; everything it points to from FCGX_GetParam is dropped
 * at FCGX_Finish_r.
 */
#ifndef HUB_GW_H
#define HUB_GW_H

#include "hub_buf.h"
#include "hub_catalog.h"
#include "hub_config.h"
#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_error.h"
#include "hub_spool.h"
#include "hub_usage.h"

#include <curl/curl.h>
#include <fcgiapp.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

/* ---- authentication (gw_auth.c) ---- */

typedef struct {
    long long key_id, user_id, team_id;
    char app[129];
    char models[1025]; /* comma-separated globs, "" = every model */
} gw_principal;

typedef struct gw_keycache gw_keycache;

gw_keycache *gw_keycache_new(void);
void gw_keycache_free(gw_keycache *kc);

typedef struct gw_credstate gw_credstate;

/* ---- process context ---- */

typedef struct {
    hub_config cfg;
    hub_keyring kr;     /* guarded by refresh_mu after start-up */
    long long kr_stamp; /* inode + mtime of the key file when kr was loaded */
    hub_spool *spool;
    gw_keycache *keys;
    pthread_mutex_t cat_mu;     /* guards cat */
    pthread_mutex_t refresh_mu; /* one refresher at a time */
    hub_catalog *cat;           /* current snapshot, owned (one reference) */
    gw_credstate *creds;        /* credential rotation, cooldowns, disables */
    struct gw_jwt *jwt;         /* OAuth access-token verifier (gw_jwt.h); NULL: jwt_* unset */
    long long cat_loaded_ms;
    /* prompt logging (gw_prompt.c), learnt on each catalogue refresh; guarded by cat_mu */
    int prompt_max;            /* bytes of a request body to store; 0: prompt logging is off */
    hub_master_key prompt_key; /* the current master key, to seal prompts with (id 0: none) */
    int listen_fd;
    volatile sig_atomic_t stopping;
    long long started_ms;
} gw_ctx;

typedef struct {
    gw_ctx *ctx;
    int idx;
    FCGX_Request req;
    CURL *curl;       /* owned: keeps upstream connections alive */
    hub_db *db;       /* owned */
    hub_buf body;     /* request body */
    hub_buf upstream; /* upstream answer (non-streaming) or SSE carry-over */
} gw_worker;

typedef enum { GW_FMT_OPENAI, GW_FMT_ANTHROPIC, GW_FMT_AIGNE, GW_FMT_AIGNE_FW } gw_format;

typedef struct {
    gw_worker *w;
    gw_format format; /* the wire format the client speaks (errors are answered in it) */
    char request_id[HUB_UUID_LEN + 1];
    const char *method; /* borrowed from FCGX params */
    char path[256];
    long long t0_ms;
    gw_principal who;
    bool headers_sent;
    char limit_headers[400]; /* x-ratelimit-* lines for every answer (gw_limits.c); "" = none */
    int prompt_max; /* > 0: store the body (this many bytes at most) once answered (gw_prompt.c) */
} gw_call;

/* ---- gw_http.c: reading the request, writing the answer ---- */

const char *gw_param(gw_call *c, const char *name);
/* Reads the body into w->body. HUB_ETOOBIG / HUB_EINVAL with a message. */
hub_err gw_read_body(gw_call *c, char *msg, size_t msgsz);
/* Ends the call: flushes the answer and closes (or keeps) the web server's connection. */
void gw_end(gw_call *c);
/* Writes a complete response. extra_headers may be NULL ("Name: v\r\n" lines). */
void gw_respond(gw_call *c, int status, const char *content_type, const char *extra_headers,
                const char *body, size_t len);
/* Writes the one error answer for e (see hub_error_http). */
void gw_respond_error(gw_call *c, hub_err e, int status_override, const char *message,
                      const char *param, const char *code);
/* The same with extra header lines ("Name: v\r\n"…, e.g. Retry-After), may be NULL. */
void gw_respond_error_h(gw_call *c, hub_err e, int status_override, const char *message,
                        const char *param, const char *code, const char *extra_headers);
/* Starts a streaming answer (status 200, text/event-stream). false when the client is gone. */
bool gw_stream_begin(gw_call *c);
/* Writes and flushes bytes of a started stream. false when the client is gone. */
bool gw_stream_write(gw_call *c, const char *p, size_t n);

/* ---- gw_auth.c ---- */

/* Authenticates the call's bearer token into c->who. On failure writes msg. */
hub_err gw_authenticate(gw_call *c, char *msg, size_t msgsz);
/* True when the principal may use the model (requested or canonical name). */
bool gw_model_allowed(const gw_principal *p, const char *requested, const char *canonical);

/* ---- gw_catalog.c ---- */

/* The current snapshot with a reference the caller releases (hub_catalog_release);
 * refreshes it when stale (force: reload now unless loaded within 250 ms). NULL when
 * none could ever be loaded. */
hub_catalog *gw_catalog_get(gw_worker *w, bool force);
/* Records the identity of the key file just loaded (so a rotation is noticed). */
void gw_keyring_loaded(gw_ctx *ctx);

/* ---- gw_prompt.c: opt-in prompt logging (lib/hub_prompt.h) ---- */

/* Re-reads the prompt_logging setting and the current master key (called by the catalogue
 * refresher, under refresh_mu, after a successful load); keeps the old state on a DB error. */
void gw_prompt_refresh(gw_ctx *ctx, hub_db *db);
/* Marks the call for prompt logging when it is on (called as its first attempt is metered). */
void gw_prompt_capture(gw_call *c);
/* After FCGX_Finish_r: seals and stores the request body of a marked call with the worker's
 * DB connection. A failure loses only this prompt (a rate-limited warning). */
void gw_prompt_store(gw_call *c);

/* ---- one proxied request (gw_proxy.c) ---- */

typedef enum { GW_EP_CHAT, GW_EP_EMBED, GW_EP_IMAGES } gw_endpoint;

/* What a client asked for, in the pivot (OpenAI) format, whatever format it spoke. */
typedef struct {
    gw_endpoint ep;
    json_object *req;  /* OpenAI-shaped request; owned by the handler */
    const char *model; /* as requested; gw_proxy keeps its own copy (req changes) */
    bool stream;
    bool client_usage;           /* an OpenAI client asked for stream_options.include_usage */
    const char *ledger_endpoint; /* the client's path, for the ledger */
} gw_job;

/* Routes, authorises and runs a job: attempts over credentials and fallbacks, answers the
 * client in its format, meters every attempt. */
void gw_proxy(gw_call *c, gw_job *job);

/* ---- gw_creds.c: credential choice and health ---- */

gw_credstate *gw_credstate_new(void);
void gw_credstate_free(gw_credstate *cs);

#define GW_TRIED_MAX 32
typedef struct {
    long long ids[GW_TRIED_MAX];
    int n;
} gw_tried;

/* Smooth weighted round robin over the provider's active, readable credentials that are
 * not cooling down, not disabled and not yet tried by this request. NULL when none;
 * *unreadable is set when an active credential was skipped because it does not decrypt, and
 * *cooling_s to the seconds until the first cooling credential is usable again (0: none). */
const hub_credential *gw_creds_pick(gw_worker *w, const hub_catalog *cat, const hub_provider *p,
                                    const gw_tried *tried, bool *unreadable, long *cooling_s);
/* After a 429: cool the credential down for retry_after_s (default when ≤ 0). */
void gw_creds_cooldown(gw_worker *w, const hub_credential *cr, long retry_after_s, const char *why);
/* After a 401/403: take the credential out of rotation and record why. */
void gw_creds_disable(gw_worker *w, const hub_credential *cr, const char *why);

/* ---- gw_attempt.c: one attempt against a provider ---- */

/* The outcome of an attempt, for the retry decision. */
typedef struct {
    bool answered;         /* the client got a complete answer (or a stream was started) */
    bool retryable;        /* connect error, timeout before the first byte, 429, 5xx, 401/403 */
    bool credential_fault; /* 429, 401, 403: another credential of the provider may work */
    int status;            /* the HTTP status for the client when not answered */
    hub_err err;
    char msg[512]; /* client-safe message when not answered */
    char code[64];
    char param[64];
    long retry_after_s;
    int upstream_status;
} gw_result;

typedef struct {
    gw_call *c;
    const gw_job *job;
    const hub_target *t;
    const hub_credential *cred;
    int number; /* attempt number of this request, from 0 */
    hub_price price;
    hub_usage *usage; /* filled and spooled by gw_attempt_run once the attempt goes upstream */
    gw_result res;
} gw_attempt;

/* Sends one attempt. Answers the client only on success or a non-retryable failure after
 * bytes went out; otherwise leaves the decision to the caller through a->res. */
void gw_attempt_run(gw_attempt *a);
/* https always; plain http only for providers an admin marked internal. */
bool gw_upstream_url_allowed(const hub_provider *p);
/* True for provider types that speak the OpenAI wire format. */
bool gw_provider_is_openai(const hub_provider *p);

/* ---- gw_relay.c: answers to the client ---- */

typedef struct gw_relay gw_relay;
/* Relay state for a streamed attempt (the provider's events → the client's format). */
gw_relay *gw_relay_new(gw_attempt *a);
void gw_relay_free(gw_relay *r);
/* Feeds raw upstream bytes of a 2xx stream. false when the relay must abort the transfer
 * (event too large). */
bool gw_relay_feed(gw_relay *r, const char *p, size_t n);
/* Ends the stream: ok = the upstream finished cleanly. Writes closing events or a final error
 * event and sets the usage outcome. */
void gw_relay_end(gw_relay *r, bool ok, bool timeout, const char *why);
bool gw_relay_started(const gw_relay *r);
bool gw_relay_client_gone(const gw_relay *r, long long *since_ms);
/* A complete 2xx answer (non-streaming): translate, meter and send it. false when the
 * provider's answer could not be understood (a->res is set). */
bool gw_relay_answer(gw_attempt *a, const char *body, size_t len);

/* ---- gw_openai.c, gw_inbound.c: the routes ---- */

void gw_handle(gw_call *c);
/* POST /v1/messages (Anthropic clients) and /api/v2/… (AIGNE clients). */
void gw_handle_anthropic(gw_call *c);
void gw_handle_aigne(gw_call *c, const char *route);
/* GET /__blocklet__.js?type=json: where AIGNE framework clients find /api/v2 (no auth). */
void gw_handle_blocklet(gw_call *c);
/* Shared by the handlers: parse the body as strict JSON (400 on failure). */
bool gw_parse_json_body(gw_call *c, json_object **out);
/* Checks an OpenAI-shaped request for ep; answers 400 and returns false when invalid.
 * *model borrows from o. */
bool gw_validate_openai(gw_call *c, gw_endpoint ep, json_object *o, const char **model);
/* Sets job->stream and job->client_usage from job->req. */
void gw_job_stream_flags(gw_job *job);

/* ---- gw_limits.c: monthly budgets and RPM / TPM limits (lib/hub_limits.h) ---- */

/* What a request holds against the limits of its key, user and team, from admission to
 * settlement. n = 0: no limit applies (nothing to settle). */
typedef struct {
    int n;
    struct {
        int scope; /* hub_scope */
        long long id;
        long long budget_micro; /* -1: no budget (nothing reserved) */
        bool rate;              /* counted in `window` */
        bool tpm;               /* the scope has a TPM limit (settle corrects the estimate) */
    } s[3];
    char month[11];  /* the budget month reserved in */
    char window[20]; /* the rate window counted in */
    long long est_micro, est_tokens;
    long long cost_micro, tokens; /* what the attempts metered (gw_limits_add) */
} gw_hold;

/* Admits the job against the budgets (reserve est) and rate limits of c->who; the estimate
 * uses the dearest price of the plan. Costs no query when no scope has a limit. On refusal
 * answers the client (402 budget_exceeded, 429 with Retry-After, 503 when the database cannot
 * tell) and returns false. Sets c->limit_headers when a rate limit applies. */
bool gw_limits_admit(gw_call *c, const gw_job *job, const hub_catalog *cat, const hub_plan *plan,
                     gw_hold *h);
/* Adds the metered record of one attempt (hub_usage_init'ed before the attempt). */
void gw_limits_add(gw_hold *h, const hub_usage *u);
/* Settles: the reservation becomes the attempts' cost (0 when nothing was charged), TPM
 * counts the actual tokens; flags 80 / 100 % of a budget once a month in the log. */
void gw_limits_settle(gw_call *c, gw_hold *h);

/* ---- gw_meter.c ---- */

/* Starts a usage record for this attempt (outcome pending) and spools it. */
void gw_meter_begin(gw_call *c, const hub_target *t, const hub_credential *cr, int attempt,
                    const char *endpoint, bool stream, hub_usage *u);
/* Reads an OpenAI "usage" object (chat, embeddings or images) into u. */
void gw_meter_read_usage(json_object *usage, hub_usage *u);
/* Computes cost and latency, and spools the final record. */
void gw_meter_end(gw_call *c, const hub_price *price, hub_usage *u);

/* ---- gw_relay.c ---- */

/* The hub_xlate client format of a call: "openai", "anthropic", "aigne", "aigne-fw" or
 * "aigne-fw-json" (the OpenAI request req asks for a JSON answer; req may be NULL). */
const char *gw_format_name(gw_format f, json_object *req);

/* ---- gw_mailer.c ---- */

typedef struct gw_mailer gw_mailer;

/* Starts the budget-alert mailer thread when hub.conf sets smtp_url and alert_email_to
 * (cfg borrowed, outlives it); NULL when it is off or could not start (logged). */
gw_mailer *gw_mailer_start(const hub_config *cfg);
/* Stops and joins the thread (a send in progress ends within the relay timeouts). */
void gw_mailer_stop(gw_mailer *m);

#endif
