/*
 * gw_jwt.h — corporate OAuth access tokens (JWT) on the API, verified with liboauth2 against
 * the identity provider's JWKS (hub.conf jwt_*).
 *
 * Deliberately free of jansson and json-c: gw_jwt.c is the only file that sees jansson
 * (liboauth2's JSON library), the rest of the gateway uses json-c, and the two cannot share
 * a translation unit. gw_auth.c maps the identity into the request's gw_principal.
 */
#ifndef HUB_GW_JWT_H
#define HUB_GW_JWT_H

#include "hub_config.h"
#include "hub_db.h"
#include "hub_error.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_jwt gw_jwt;

/*
 * Builds the verifier once, in main before any thread: liboauth2's log, the token-verify
 * configuration (jwks_uri, exp required, iat/nbf slack, result cache of jwt_cache_seconds),
 * the accepted algorithms. cfg is borrowed and must outlive the verifier. Returns NULL and
 * a message in err when the jwt_* settings are incomplete or invalid (jwt_issuer and
 * jwt_audience are required: liboauth2 does not check the audience).
 */
gw_jwt *gw_jwt_new(const hub_config *cfg, char *err, size_t errsz);
void gw_jwt_free(gw_jwt *j);

/* True when tok has the shape of a JWT: starts with "eyJ" and has exactly two dots.
 * Hub keys start with "hub_" and have no dot, so the two never overlap. */
bool gw_jwt_shaped(const char *tok);

/* Who a verified token speaks for. */
typedef struct {
    long long user_id;
    long long team_id; /* 0 = none */
} gw_jwt_identity;

/*
 * Verifies tok (signature with an accepted algorithm, exp/iat/nbf, iss == jwt_issuer, aud
 * contains jwt_audience), then finds or creates the user of jwt_user_claim (auth_source
 * 'oidc', role member) and the team of jwt_team_claim. db is the calling thread's handle.
 * HUB_EAUTH with a client-safe message (never the token) for any bad token or a disabled
 * user; HUB_EDB when the database is down and the identity was not seen recently.
 */
hub_err gw_jwt_authenticate(gw_jwt *j, hub_db *db, const char *tok, gw_jwt_identity *out, char *msg,
                            size_t msgsz);

/* ---- gw_jwt_kids.c: the key ids of the IdP's JWKS (used by gw_jwt.c) ---- */

typedef struct gw_jwt_kids gw_jwt_kids;

/* The key-id list of jwks_uri (copied): fetched on first use, refreshed every refresh_s,
 * refetched on an unknown kid at most once per refetch_s. NULL on ENOMEM. */
gw_jwt_kids *gw_jwt_kids_new(const char *jwks_uri, int refetch_s, int refresh_s);
void gw_jwt_kids_free(gw_jwt_kids *k);
/* Whether kid ("" for a token without one) may be one of the IdP's keys: it is listed in the
 * JWKS (fetched first when due and allowed), or the JWKS has keys without a kid, or it could
 * never be fetched (then liboauth2 decides). Thread-safe; may block for one fetch (≤ 5 s). */
bool gw_jwt_kids_known(gw_jwt_kids *k, const char *kid);

/* ---- gw_jwt_user.c: users and teams of verified tokens (used by gw_jwt.c) ---- */

typedef struct gw_jwt_users gw_jwt_users;

gw_jwt_users *gw_jwt_users_new(const hub_config *cfg);
void gw_jwt_users_free(gw_jwt_users *u);
/* The identity of user (1..128 bytes) and team ("" = none: the user's primary team), found
 * or created, from the cache when fresh. HUB_EAUTH for a disabled user or an unusable name,
 * HUB_EDB when the database is down (outside the grace period). */
hub_err gw_jwt_users_resolve(gw_jwt_users *u, hub_db *db, const char *user, const char *team,
                             gw_jwt_identity *out, char *msg, size_t msgsz);

#endif
