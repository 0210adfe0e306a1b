/*
 * gw_jwt.c — corporate OAuth access tokens (JWT) on the API.
 *
 * A bearer token shaped like a JWT is checked here instead of as a hub key:
 *   1. shape and header, by hand: base64url segments, a non-empty signature, no "crit", and
 *      an "alg" from jwt_algs (asymmetric algorithms only; "none" and HS* never pass);
 *   2. the header's kid must be one the IdP published, and present when all its keys have
 *      one (gw_jwt_kids.c: our own list of the JWKS's key ids, refetched at most every
 *      jwt_jwks_refetch_seconds), so that made-up or missing kids cannot make liboauth2
 *      download the JWKS on every request;
 *   3. liboauth2 (oauth2_token_verify, config built once in main): the signature against the
 *      IdP's JWKS (jwks_uri, refetched on an unknown kid and every JWKS_REFRESH_S), exp
 *      required, iat not in the future; its result cache keeps a verified token for
 *      jwt_cache_seconds at most;
 *   4. by hand again, because liboauth2 1.4.5 has no audience check and skips the claim
 *      checks on a cache hit: exp (again), nbf, iss == jwt_issuer, aud contains jwt_audience;
 *   5. the user (jwt_user_claim) and team (jwt_team_claim) are found or created in MariaDB
 *      (gw_jwt_user.c).
 *
 * jansson (liboauth2's JSON library) is used in this file only; see gw_jwt.h. liboauth2's log
 * lines go to hub_log with anything shaped like a JWT blanked out: a token is never logged.
 */
#include "gw_jwt.h"

#include "hub_log.h"
#include "hub_oauth.h"
#include "hub_usage.h"

#include <oauth2/log.h>
#include <oauth2/mem.h>
#include <oauth2/oauth2.h>
#include <oauth2/util.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* json-c (linked into the same program) exports a json_object_get of its own, and an
 * unversioned reference from this file binds to whichever library the linker sees first:
 * json-c's, which takes one argument and bumps a refcount. jansson's json_object_getn has
 * no such twin. (liboauth2's own references carry jansson's symbol version and are safe.) */
#undef json_object_get
#define json_object_get(o, k) json_object_getn((o), (k), strlen(k))

#define TOKEN_MAX      16384 /* bytes of a bearer token we are willing to look at */
#define SLACK_S        60    /* clock skew allowed for iat and nbf */
#define JWKS_REFRESH_S 300   /* the JWKS is refetched at least this often */
#define ALGS_MAX       9
#define NAME_MAX_LEN   128 /* users.name, teams.name */
#define KID_MAX        128 /* longer key ids are never listed (gw_jwt_kids.c) */

/* the algorithms that may ever be configured: asymmetric signatures only */
static const char *const ALLOWED_ALGS[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                           "PS512", "ES256", "ES384", "ES512"};

struct gw_jwt {
    const hub_config *cfg;
    oauth2_log_t *log;
    oauth2_cfg_token_verify_t *verify;
    char algs[ALGS_MAX][8];
    int nalgs;
    gw_jwt_users *users;
    gw_jwt_kids *kids;
};

/* ---- liboauth2's log, scrubbed ---- */

static void log_sink(oauth2_log_sink_t *sink, const char *filename, unsigned long line,
                     const char *function, oauth2_log_level_t level, const char *msg)
{
    (void)sink;
    (void)filename;
    (void)line;
    char clean[768];
    hub_oauth_scrub(msg, clean, sizeof(clean));
    /* liboauth2 reports each rejected token at ERROR: keep those rare in our log */
    if (level == OAUTH2_LOG_ERROR) {
        static long long last_ms;
        if (hub_log_every(&last_ms, 1000))
            hub_log(HUB_LOG_WARN, "jwt: liboauth2 %s: %s", function, clean);
    } else {
        hub_log(HUB_LOG_DEBUG, "jwt: liboauth2 %s: %s", function, clean);
    }
}

/* ---- set-up ---- */

static bool alg_allowed_ever(const char *a)
{
    for (size_t i = 0; i < sizeof(ALLOWED_ALGS) / sizeof(ALLOWED_ALGS[0]); i++)
        if (strcmp(a, ALLOWED_ALGS[i]) == 0)
            return true;
    return false;
}

/* Parses "RS256,ES256" into j->algs. */
static bool parse_algs(gw_jwt *j, const char *list, char *err, size_t errsz)
{
    const char *s = list;
    j->nalgs = 0;
    while (*s != '\0') {
        size_t n = strcspn(s, ", ");
        if (n > 0) {
            char a[sizeof(j->algs[0])];
            if (n >= sizeof(a) || j->nalgs >= ALGS_MAX) {
                snprintf(err, errsz, "jwt_algs: too many or too long entries");
                return false;
            }
            memcpy(a, s, n);
            a[n] = '\0';
            if (!alg_allowed_ever(a)) {
                snprintf(err, errsz,
                         "jwt_algs: '%s' is not accepted (RS256..512, PS256..512, ES256..512)", a);
                return false;
            }
            memcpy(j->algs[j->nalgs++], a, n + 1);
        }
        s += n;
        while (*s == ',' || *s == ' ')
            s++;
    }
    if (j->nalgs == 0) {
        snprintf(err, errsz, "jwt_algs is empty");
        return false;
    }
    return true;
}

/* https, or plain http to this machine only (keys fetched in clear could be swapped). */
gw_jwt *gw_jwt_new(const hub_config *cfg, char *err, size_t errsz)
{
    gw_jwt *j = NULL;
    char *rv = NULL;
    char options[512];
    bool ok = false;

    if (cfg->jwt_jwks_uri[0] == '\0' || cfg->jwt_issuer[0] == '\0' ||
        cfg->jwt_audience[0] == '\0' || cfg->jwt_user_claim[0] == '\0') {
        snprintf(err, errsz, "jwt_jwks_uri needs jwt_issuer, jwt_audience and jwt_user_claim");
        goto end;
    }
    if (!hub_oauth_url_ok(cfg->jwt_jwks_uri)) {
        snprintf(err, errsz, "jwt_jwks_uri must be an https URL (plain http only to this host)");
        goto end;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        snprintf(err, errsz, "out of memory");
        goto end;
    }
    j->cfg = cfg;
    j->users = gw_jwt_users_new(cfg);
    j->kids = gw_jwt_kids_new(cfg->jwt_jwks_uri, cfg->jwt_jwks_refetch_seconds, JWKS_REFRESH_S);
    if (j->users == NULL || j->kids == NULL) {
        snprintf(err, errsz, "out of memory");
        goto end;
    }
    if (!parse_algs(j, cfg->jwt_algs, err, errsz))
        goto end;
    oauth2_log_sink_t *sink = oauth2_log_sink_create(OAUTH2_LOG_WARN, log_sink, NULL);
    j->log = sink != NULL ? oauth2_init(OAUTH2_LOG_WARN, sink) : NULL;
    if (j->log == NULL) {
        snprintf(err, errsz, "cannot initialise liboauth2");
        goto end;
    }
    /* the default cache (verified tokens, the JWKS): room for a large JWKS */
    rv = oauth2_cfg_set_cache(j->log, NULL, "shm", "max_entries=1000&max_val_size=32768");
    if (rv != NULL) {
        snprintf(err, errsz, "liboauth2 cache: %s", rv);
        goto end;
    }
    /* verify.iss is ours (liboauth2 knows no issuer for a bare jwks_uri); expiry is the
     * result cache in seconds (0 = every request verifies) */
    snprintf(options, sizeof(options),
             "verify.exp=required&verify.iat=optional&verify.iat.slack_after=%d&verify.iss=skip&"
             "expiry=%d&jwks_uri.expiry=%d",
             SLACK_S, cfg->jwt_cache_seconds, JWKS_REFRESH_S);
    rv = oauth2_cfg_token_verify_add_options(j->log, &j->verify, "jwks_uri", cfg->jwt_jwks_uri,
                                             options);
    if (rv != NULL || j->verify == NULL) {
        snprintf(err, errsz, "jwt_jwks_uri: %s", rv != NULL ? rv : "liboauth2 refused it");
        goto end;
    }
    HUB_INFO("jwt: accepting OAuth access tokens from %s (algorithms %s, cache %d s)",
             cfg->jwt_issuer, cfg->jwt_algs, cfg->jwt_cache_seconds);
    ok = true;
end:
    if (rv != NULL)
        oauth2_mem_free(rv);
    if (!ok) {
        gw_jwt_free(j);
        j = NULL;
    }
    return j;
}

void gw_jwt_free(gw_jwt *j)
{
    if (j == NULL)
        return;
    if (j->verify != NULL)
        oauth2_cfg_token_verify_free(j->log, j->verify);
    if (j->log != NULL)
        oauth2_shutdown(j->log);
    gw_jwt_users_free(j->users);
    gw_jwt_kids_free(j->kids);
    free(j);
}

/* ---- token shape and header ---- */

bool gw_jwt_shaped(const char *tok)
{
    if (tok == NULL || strncmp(tok, "eyJ", 3) != 0)
        return false;
    int dots = 0;
    for (const char *p = tok; *p != '\0'; p++)
        if (*p == '.')
            dots++;
    return dots == 2;
}

/* Decodes base64url segment [s, s+n) as a JSON object. NULL when it is not one. */
static json_t *segment_json(oauth2_log_t *log, const char *s, size_t n)
{
    json_t *o = NULL;
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    char *seg = oauth2_strndup(s, n);
    if (seg == NULL || !oauth2_base64url_decode(log, seg, &raw, &rawlen) || raw == NULL)
        goto end;
    o = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
end:
    if (raw != NULL)
        oauth2_mem_free(raw);
    if (seg != NULL)
        oauth2_mem_free(seg);
    return o;
}

/* Checks the shape and the header. HUB_OK or HUB_EAUTH with msg. *payload_at and *payload_len
 * locate the payload segment (for messages about an unverifiable token); kid gets the
 * header's key id ("" when it has none or an unusable one). */
static hub_err check_header(gw_jwt *j, const char *tok, size_t len, size_t *payload_at,
                            size_t *payload_len, char kid[KID_MAX], char *msg, size_t msgsz)
{
    hub_err e = HUB_EAUTH;
    json_t *hdr = NULL;
    size_t dot1 = 0, dot2 = 0;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '.') {
            if (dots == 0)
                dot1 = i;
            else
                dot2 = i;
            dots++;
        } else if (!hub_b64url_char((unsigned char)tok[i])) {
            snprintf(msg, msgsz, "The bearer token is not a well-formed JWT.");
            goto end;
        }
    }
    if (dots != 2 || dot1 == 0 || dot2 == dot1 + 1) {
        snprintf(msg, msgsz, "The bearer token is not a well-formed JWT.");
        goto end;
    }
    *payload_at = dot1 + 1;
    *payload_len = dot2 - dot1 - 1;
    hdr = segment_json(j->log, tok, dot1);
    const char *alg = hdr != NULL ? json_string_value(json_object_get(hdr, "alg")) : NULL;
    if (alg == NULL) {
        snprintf(msg, msgsz, "The bearer token is not a well-formed JWT (no algorithm).");
        goto end;
    }
    if (strcasecmp(alg, "none") == 0) {
        snprintf(msg, msgsz, "Unsigned tokens (alg \"none\") are refused.");
        goto end;
    }
    if (dot2 + 1 == len) {
        snprintf(msg, msgsz, "The bearer token has no signature.");
        goto end;
    }
    bool known = false;
    for (int i = 0; i < j->nalgs && !known; i++)
        known = strcmp(alg, j->algs[i]) == 0;
    if (!known) {
        snprintf(msg, msgsz, "The token's signing algorithm is not accepted (allowed: %s).",
                 j->cfg->jwt_algs);
        goto end;
    }
    if (json_object_get(hdr, "crit") != NULL) {
        snprintf(msg, msgsz, "Tokens with critical header extensions are not supported.");
        goto end;
    }
    const char *k = json_string_value(json_object_get(hdr, "kid"));
    kid[0] = '\0';
    if (k != NULL && strlen(k) < KID_MAX)
        memcpy(kid, k, strlen(k) + 1);
    else if (k != NULL)
        memcpy(kid, "\x01", 2); /* too long to be listed: unknown unless the check is off */
    e = HUB_OK;
end:
    if (hdr != NULL)
        json_decref(hdr);
    return e;
}

/* ---- claims ---- */

static long long now_s(void)
{
    return (long long)time(NULL);
}

/* A numeric claim as whole seconds; false when absent or not a number. */
static bool claim_time(const json_t *claims, const char *name, long long *out)
{
    const json_t *v = json_object_get(claims, name);
    if (json_is_integer(v)) {
        *out = (long long)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = (long long)json_real_value(v);
        return true;
    }
    return false;
}

/* aud is a string equal to want, or an array holding it. */
static bool aud_contains(const json_t *claims, const char *want)
{
    const json_t *aud = json_object_get(claims, "aud");
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (json_is_array(aud)) {
        for (size_t i = 0; i < json_array_size(aud); i++) {
            const char *s = json_string_value(json_array_get(aud, i));
            if (s != NULL && strcmp(s, want) == 0)
                return true;
        }
    }
    return false;
}

/* A usable name: 1..128 bytes, no control characters (jansson guarantees valid UTF-8). */
static bool name_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* The string value of a claim; for an array, its first string. NULL when none. */
static const char *claim_string(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (json_is_string(json_array_get(v, i)))
                return json_string_value(json_array_get(v, i));
        return NULL;
    }
    return json_string_value(v);
}

/* Time, issuer and audience checks on verified claims (again after a cache hit). */
static hub_err check_claims(gw_jwt *j, const json_t *claims, char *msg, size_t msgsz)
{
    long long now = now_s(), exp = 0, nbf = 0;
    if (!claim_time(claims, "exp", &exp)) {
        snprintf(msg, msgsz, "The token has no expiry (exp).");
        return HUB_EAUTH;
    }
    if (now > exp) {
        snprintf(msg, msgsz, "The token has expired.");
        return HUB_EAUTH;
    }
    if (claim_time(claims, "nbf", &nbf) && nbf > now + SLACK_S) {
        snprintf(msg, msgsz, "The token is not valid yet (nbf).");
        return HUB_EAUTH;
    }
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (iss == NULL || strcmp(iss, j->cfg->jwt_issuer) != 0) {
        snprintf(msg, msgsz, "The token was not issued by the configured identity provider.");
        return HUB_EAUTH;
    }
    if (!aud_contains(claims, j->cfg->jwt_audience)) {
        snprintf(msg, msgsz, "The token is not meant for this gateway (audience).");
        return HUB_EAUTH;
    }
    return HUB_OK;
}

/* Why an unverifiable token failed, from its unverified payload (messages only). */
static void explain_failure(gw_jwt *j, const char *tok, size_t at, size_t n, char *msg,
                            size_t msgsz)
{
    json_t *p = segment_json(j->log, tok + at, n);
    long long exp = 0;
    if (p != NULL && claim_time(p, "exp", &exp) && now_s() > exp)
        snprintf(msg, msgsz, "The token has expired.");
    else if (p != NULL && !claim_time(p, "exp", &exp))
        snprintf(msg, msgsz, "The token has no expiry (exp).");
    else
        snprintf(msg, msgsz,
                 "The token could not be verified against the identity provider's keys "
                 "(unknown key id, bad signature or issued in the future).");
    if (p != NULL)
        json_decref(p);
}

/* ---- the request ---- */

hub_err gw_jwt_authenticate(gw_jwt *j, hub_db *db, const char *tok, gw_jwt_identity *out, char *msg,
                            size_t msgsz)
{
    hub_err e = HUB_EAUTH;
    json_t *claims = NULL;
    size_t at = 0, n = 0;
    size_t len = strnlen(tok, TOKEN_MAX + 1);
    char kid[KID_MAX];

    if (len > TOKEN_MAX) {
        snprintf(msg, msgsz, "The bearer token is too long.");
        goto end;
    }
    e = check_header(j, tok, len, &at, &n, kid, msg, msgsz);
    if (e != HUB_OK)
        goto end;
    e = HUB_EAUTH;
    /* a key id the IdP never published (or none, when all its keys have one): refused here,
     * so that liboauth2 does not refetch the JWKS for it (see gw_jwt_kids.c) */
    if (!gw_jwt_kids_known(j->kids, kid)) {
        snprintf(msg, msgsz, "%s",
                 kid[0] != '\0' ? "The token could not be verified: its key id (kid) is not one "
                                  "of the identity provider's keys."
                                : "The token could not be verified: it names no signing key "
                                  "(kid), and every key of the identity provider has one.");
        goto end;
    }
    if (!oauth2_token_verify(j->log, NULL, j->verify, tok, &claims) || claims == NULL) {
        explain_failure(j, tok, at, n, msg, msgsz);
        goto end;
    }
    e = check_claims(j, claims, msg, msgsz);
    if (e != HUB_OK)
        goto end;
    e = HUB_EAUTH;
    const char *user = json_string_value(json_object_get(claims, j->cfg->jwt_user_claim));
    if (!name_ok(user)) {
        snprintf(msg, msgsz, "The token has no usable '%s' claim.", j->cfg->jwt_user_claim);
        goto end;
    }
    const char *team = "";
    if (j->cfg->jwt_team_claim[0] != '\0') {
        const char *t = claim_string(claims, j->cfg->jwt_team_claim);
        if (t != NULL && !name_ok(t)) {
            snprintf(msg, msgsz, "The token's '%s' claim is not a usable team name.",
                     j->cfg->jwt_team_claim);
            goto end;
        }
        if (t != NULL)
            team = t;
    }
    e = gw_jwt_users_resolve(j->users, db, user, team, out, msg, msgsz);
end:
    if (claims != NULL)
        json_decref(claims);
    return e;
}
