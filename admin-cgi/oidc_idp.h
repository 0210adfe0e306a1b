/*
 * oidc_idp.h — oidc.cgi's side of the conversation with the OpenID provider: discovery, the
 * authorization-code exchange, id_token verification (liboauth2 against the JWKS) and
 * userinfo. libcurl, jansson and liboauth2 stay behind this header (oidc_idp.c), so the page
 * code (oidc.c) sees plain strings only.
 */
#ifndef OIDC_IDP_H
#define OIDC_IDP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    /* the client, from the settings (hub_settings.h) */
    char issuer[512];
    char client_id[256];
    char redirect_uri[512];
    char user_claim[64], email_claim[64], groups_claim[64];
    const char *secret; /* borrowed; NULL = a public client (PKCE only) */
    size_t secret_len;
    /* from the discovery document */
    char d_issuer[512];
    char authz_ep[1024], token_ep[1024], userinfo_ep[1024], jwks_uri[1024];
    bool basic_ok; /* the IdP takes client_secret_basic (else client_secret_post) */
} oidc_idp;

/* Who signed in: from the verified id_token, completed from userinfo. "" = absent. */
typedef struct {
    char name[256];
    char email[256];
    char groups[2048]; /* "a,b,c" */
} oidc_identity;

typedef enum {
    OIDC_OK,
    OIDC_EXCHANGE, /* the token endpoint refused the code or could not be reached */
    OIDC_VERIFY,   /* the id_token did not verify */
} oidc_result;

/* liboauth2 and libcurl, once per process. */
bool oidc_idp_init(void);
void oidc_idp_shutdown(void);

/* Fetches ISSUER/.well-known/openid-configuration into p (issuer must match, endpoints must
 * be https). false with a reason for the log in why. */
bool oidc_idp_discover(oidc_idp *p, char *why, size_t whysz);

/* Exchanges code (with the PKCE verifier), verifies the id_token (alg, signature via the
 * JWKS, exp, iat, iss, aud = client_id, azp, nonce) and reads the identity, asking userinfo
 * for claims the id_token lacks. why gets a reason for the log (never a token). */
oidc_result oidc_idp_redeem(const oidc_idp *p, const char *code, const char *verifier,
                            const char *nonce, oidc_identity *out, char *why, size_t whysz);

#endif
