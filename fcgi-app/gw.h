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
    long long cat_loaded_ms;
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

typedef struct {
    gw_worker *w;
    char request_id[HUB_UUID_LEN + 1];
    const char *method; /* borrowed from FCGX params */
    char path[256];
    long long t0_ms;
    gw_principal who;
    bool headers_sent;
} gw_call;

/* ---- gw_http.c: reading the request, writing the answer ---- */

const char *gw_param(gw_call *c, const char *name);
/* Reads the body into w->body. HUB_ETOOBIG / HUB_EINVAL with a message. */
hub_err gw_read_body(gw_call *c, char *msg, size_t msgsz);
/* Writes a complete response. extra_headers may be NULL ("Name: v\r\n" lines). */
void gw_respond(gw_call *c, int status, const char *content_type, const char *extra_headers,
                const char *body, size_t len);
/* Writes the one error answer for e (see hub_error_http). */
void gw_respond_error(gw_call *c, hub_err e, int status_override, const char *message,
                      const char *param, const char *code);
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

/* ---- gw_openai.c: the /v1 endpoints ---- */

void gw_handle(gw_call *c);

/* ---- gw_upstream.c: one attempt against a provider ---- */

typedef struct {
    const hub_route *route;
    const char *endpoint; /* "/chat/completions", ... appended to base_url */
    const char *body;     /* JSON sent upstream */
    size_t body_len;
    bool stream;            /* relay SSE */
    bool strip_usage_chunk; /* the client did not ask for the usage chunk */
    hub_price price;
    hub_usage *usage; /* filled: status, tokens, images, timings, outcome */
} gw_attempt;

/* Sends one attempt and answers the client. Never fails silently: every path writes a
 * response (or a final SSE error event) and fills usage->outcome. */
void gw_upstream_call(gw_call *c, gw_attempt *a);
/* https always; plain http only for providers an admin marked internal. */
bool gw_upstream_url_allowed(const hub_provider *p);

/* ---- gw_meter.c ---- */

/* Starts a usage record for this call and route (outcome pending) and spools it. */
void gw_meter_begin(gw_call *c, const hub_route *r, const char *endpoint, bool stream,
                    hub_usage *u);
/* Reads an OpenAI "usage" object (chat, embeddings or images) into u. */
void gw_meter_read_usage(json_object *usage, hub_usage *u);
/* Computes cost and latency, and spools the final record. */
void gw_meter_end(gw_call *c, const hub_price *price, hub_usage *u);

#endif
