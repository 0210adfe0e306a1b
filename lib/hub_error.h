/*
 * hub_error.h — the one error type of hub and its single mapping to HTTP.
 *
 * Every runtime function reports failure as a hub_err value plus, where useful,
 * a message. hub_error_http() is the only place that turns an error into an
 * HTTP status and an OpenAI-shaped body {"error":{"message","type","param","code"}}.
 */
#ifndef HUB_ERROR_H
#define HUB_ERROR_H

#include <stddef.h>

typedef enum {
    HUB_OK = 0,
    HUB_EINVAL,     /* malformed or invalid request: 400 invalid_request_error */
    HUB_EAUTH,      /* missing/bad/expired/revoked credential: 401 */
    HUB_EFORBIDDEN, /* authenticated but not allowed (model, endpoint): 403 */
    HUB_ENOTFOUND,  /* unknown model or route: 404 */
    HUB_EMETHOD,    /* method not allowed: 405 */
    HUB_ETOOBIG,    /* body over the limit: 413 */
    HUB_EMEDIA,     /* wrong Content-Type: 415 */
    HUB_ELIMIT,     /* rate limit or budget: 429 */
    HUB_EUPSTREAM,  /* upstream unreachable or answered garbage: 502 */
    HUB_ETIMEOUT,   /* upstream timed out: 504 */
    HUB_ECRYPTO,    /* a sealed secret did not decrypt: 500 */
    HUB_EDB,        /* database unavailable: 503 */
    HUB_ENOMEM,     /* out of memory: 500 */
    HUB_EINTERNAL,  /* anything else: 500 */
    HUB_EUNAVAIL,   /* provider disabled / no usable credential: 503 */
    HUB_EQUOTA,     /* a monthly budget is used up: 402 insufficient_quota */
} hub_err;

/* HTTP status for an error (HUB_OK → 200). */
int hub_error_status(hub_err e);

/* The reason phrase for an HTTP status ("Not Found"); never NULL. */
const char *hub_http_reason(int status);

/*
 * Writes the OpenAI-shaped error body for `e` into out (NUL-terminated, truncated
 * to outsz). message is shown to the client (must hold no secret); param and code
 * may be NULL (rendered as JSON null; code defaults to a name derived from e).
 * Returns the HTTP status. status_override > 0 replaces the status (used to pass on
 * an upstream status unchanged).
 */
int hub_error_http(hub_err e, int status_override, const char *message, const char *param,
                   const char *code, char *out, size_t outsz);

/* Short stable name of an error ("invalid_request_error", …). */
const char *hub_error_type(hub_err e);

#endif
