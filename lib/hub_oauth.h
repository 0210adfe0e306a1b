/*
 * hub_oauth.h — small pieces shared by the two OAuth/OIDC clients of the hub: the gateway's
 * JWT verifier (fcgi-app/gw_jwt*.c) and the pages' OIDC sign-in (admin-cgi/oidc*.c).
 * Pure functions, no JSON library (each side has its own: jansson vs json-c).
 */
#ifndef HUB_OAUTH_H
#define HUB_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

/* A character of base64url (RFC 4648 §5: A-Z a-z 0-9 - _). */
bool hub_b64url_char(int c);
/* An identity provider URL we accept: https, or plain http to this machine (a test IdP). */
bool hub_oauth_url_ok(const char *url);
/* Copies msg into out (outsz bytes, NUL-terminated) for a log line: every run that starts with
 * "eyJ" (a JWT or a JWT part) becomes "[jwt]" and CR/LF become spaces, so no token and no
 * forged line reaches the log. */
void hub_oauth_scrub(const char *msg, char *out, size_t outsz);

#endif
