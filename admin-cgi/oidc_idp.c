/*
 * oidc_idp.c — talking to the OpenID provider for oidc.cgi (see oidc_idp.h).
 *
 * HTTP goes through libcurl with short time bounds, no redirects, http/https only and a
 * bounded answer; every URL is https unless it points at this machine. The id_token is
 * verified with liboauth2 against the IdP's JWKS (signature, exp, iat) and then here, since
 * liboauth2 1.4.5 checks no audience: iss equals the discovered issuer, aud holds the client
 * id (azp too when there are several audiences), the nonce is ours, the alg asymmetric.
 *
 * Only jansson JSON here. json-c, linked into every page, exports a json_object_get of its
 * own (one argument, a refcount bump) that an unversioned reference from this file would bind
 * to; jansson's json_object_getn has no twin, so json_object_get is mapped onto it. liboauth2's
 * own references carry jansson's symbol version and are safe. Nothing secret is logged: not
 * the code, the tokens or the client secret; liboauth2's lines are scrubbed of anything
 * shaped like a JWT.
 */
#include "oidc_idp.h"

#include "hub_buf.h"
#include "hub_cgi.h"
#include "hub_log.h"
#include "hub_oauth.h"

#include <curl/curl.h>
#include <jansson.h>
#include <oauth2/log.h>
#include <oauth2/mem.h>
#include <oauth2/oauth2.h>
#include <oauth2/util.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#undef json_object_get
#define json_object_get(o, k) json_object_getn((o), (k), strlen(k))

#define HTTP_MAX (1024 * 1024)

static oauth2_log_t *g_log;

/* ---- set-up -------------------------------------------------------------------------------- */

static void log_sink(oauth2_log_sink_t *sink, const char *filename, unsigned long line,
                     const char *function, oauth2_log_level_t level, const char *msg)
{
    (void)sink;
    (void)filename;
    (void)line;
    char clean[512];
    hub_oauth_scrub(msg, clean, sizeof(clean)); /* never a token in the log */
    hub_log(level == OAUTH2_LOG_ERROR ? HUB_LOG_WARN : HUB_LOG_DEBUG, "oidc: liboauth2 %s: %s",
            function, clean);
}

bool oidc_idp_init(void)
{
    oauth2_log_sink_t *sink = oauth2_log_sink_create(OAUTH2_LOG_WARN, log_sink, NULL);
    g_log = sink != NULL ? oauth2_init(OAUTH2_LOG_WARN, sink) : NULL;
    if (g_log == NULL)
        return false;
    /* one request per process: a small cache (the JWKS may be large) */
    char *err = oauth2_cfg_set_cache(g_log, NULL, "shm", "max_entries=8&max_val_size=65536");
    if (err != NULL) {
        hub_log(HUB_LOG_WARN, "oidc: liboauth2 cache: %s", err);
        oauth2_mem_free(err);
    }
    return true;
}

void oidc_idp_shutdown(void)
{
    if (g_log != NULL)
        oauth2_shutdown(g_log);
    g_log = NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
    return k[0] != '\0' ? json_string_value(json_object_get(o, k)) : NULL;
}

/* ---- HTTP (libcurl) ------------------------------------------------------------------------ */

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return hub_buf_append(ud, p, sz * n) ? sz * n : 0;
}

/* GET (form NULL) or POST form to url; a JSON object answer into *out (caller decrefs).
 * basic: the client's credentials as HTTP Basic; bearer: an access token. */
static bool http_json(const oidc_idp *p, const char *url, const char *form, bool basic,
                      const char *bearer, json_t **out, long *status)
{
    bool rc = false;
    hub_buf body;
    hub_buf_init(&body, HTTP_MAX);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    char auth[4096] = "", *user = NULL, *pass = NULL;
    CURL *c = curl_easy_init();
    *out = NULL;
    *status = 0;
    if (c == NULL || hdrs == NULL || !hub_oauth_url_ok(url))
        goto end;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hub-oidc/1");
    if (bearer != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
        struct curl_slist *h2 = curl_slist_append(hdrs, auth);
        if (h2 == NULL)
            goto end;
        hdrs = h2;
    }
    if (basic) { /* RFC 6749 2.3.1: form-encode, then Basic */
        user = curl_easy_escape(c, p->client_id, 0);
        pass = curl_easy_escape(c, p->secret, (int)p->secret_len);
        if (user == NULL || pass == NULL)
            goto end;
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
    }
    if (form != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        hub_log(HUB_LOG_WARN, "oidc: %s: %s", url, curl_easy_strerror(cc));
        goto end;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    *out = json_loadb(body.data != NULL ? body.data : "", body.len, JSON_REJECT_DUPLICATES, NULL);
    rc = *out != NULL && json_is_object(*out);
end:
    OPENSSL_cleanse(auth, sizeof(auth));
    if (pass != NULL)
        OPENSSL_cleanse(pass, strlen(pass));
    curl_free(user);
    curl_free(pass);
    curl_slist_free_all(hdrs);
    if (c != NULL)
        curl_easy_cleanup(c);
    hub_buf_free(&body);
    if (!rc && *out != NULL) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- discovery ----------------------------------------------------------------------------- */

static bool same_issuer(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 0 && a[na - 1] == '/')
        na--;
    if (nb > 0 && b[nb - 1] == '/')
        nb--;
    return na == nb && strncmp(a, b, na) == 0;
}

/* Copies the endpoint k of d into out: present, https (or local), fits. */
static bool endpoint(const json_t *d, const char *k, char *out, size_t outsz, bool required)
{
    const char *v = jstr(d, k);
    out[0] = '\0';
    if (v == NULL)
        return !required;
    if (!hub_oauth_url_ok(v) || strlen(v) >= outsz)
        return false;
    memcpy(out, v, strlen(v) + 1);
    return true;
}

bool oidc_idp_discover(oidc_idp *p, char *why, size_t whysz)
{
    json_t *d = NULL;
    long st = 0;
    bool rc = false;
    char url[700];
    size_t n = strlen(p->issuer);
    snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
             (int)(n > 0 && p->issuer[n - 1] == '/' ? n - 1 : n), p->issuer);
    if (!hub_oauth_url_ok(url) || !http_json(p, url, NULL, false, NULL, &d, &st) || st != 200) {
        snprintf(why, whysz, "discovery %s failed (HTTP %ld)", url, st);
        goto end;
    }
    const char *iss = jstr(d, "issuer");
    if (iss == NULL || !same_issuer(iss, p->issuer) || strlen(iss) >= sizeof(p->d_issuer)) {
        snprintf(why, whysz, "the discovery document names another issuer");
        goto end;
    }
    memcpy(p->d_issuer, iss, strlen(iss) + 1);
    if (!endpoint(d, "authorization_endpoint", p->authz_ep, sizeof(p->authz_ep), true) ||
        !endpoint(d, "token_endpoint", p->token_ep, sizeof(p->token_ep), true) ||
        !endpoint(d, "jwks_uri", p->jwks_uri, sizeof(p->jwks_uri), true) ||
        !endpoint(d, "userinfo_endpoint", p->userinfo_ep, sizeof(p->userinfo_ep), false)) {
        snprintf(why, whysz, "an endpoint of %s is missing, too long or plain http", p->issuer);
        goto end;
    }
    const json_t *methods = json_object_get(d, "token_endpoint_auth_methods_supported");
    p->basic_ok = !json_is_array(methods); /* absent: client_secret_basic is the default */
    for (size_t i = 0; json_is_array(methods) && i < json_array_size(methods); i++) {
        const char *m = json_string_value(json_array_get(methods, i));
        if (m != NULL && strcmp(m, "client_secret_basic") == 0)
            p->basic_ok = true;
    }
    rc = true;
end:
    if (d != NULL)
        json_decref(d);
    return rc;
}

/* ---- the id_token -------------------------------------------------------------------------- */

/* The header's alg is an asymmetric signature (never none or HS*) and there is no crit. */
static bool alg_ok(const char *idt)
{
    const char *dot = strchr(idt, '.');
    uint8_t *raw = NULL;
    size_t n = 0;
    bool ok = false;
    char *seg = dot != NULL ? oauth2_strndup(idt, (size_t)(dot - idt)) : NULL;
    if (seg != NULL && oauth2_base64url_decode(g_log, seg, &raw, &n) && raw != NULL) {
        json_t *h = json_loadb((const char *)raw, n, 0, NULL);
        const char *a = json_is_object(h) ? jstr(h, "alg") : NULL;
        ok =
            a != NULL && strlen(a) == 5 &&
            (strncmp(a, "RS", 2) == 0 || strncmp(a, "PS", 2) == 0 || strncmp(a, "ES", 2) == 0) &&
            (strcmp(a + 2, "256") == 0 || strcmp(a + 2, "384") == 0 || strcmp(a + 2, "512") == 0) &&
            json_object_get(h, "crit") == NULL;
        json_decref(h);
    }
    if (raw != NULL)
        oauth2_mem_free(raw);
    if (seg != NULL)
        oauth2_mem_free(seg);
    return ok;
}

static bool aud_ok(const oidc_idp *p, const json_t *claims)
{
    const json_t *aud = json_object_get(claims, "aud");
    const char *azp = jstr(claims, "azp");
    bool found = json_is_string(aud) && strcmp(json_string_value(aud), p->client_id) == 0;
    for (size_t i = 0; json_is_array(aud) && i < json_array_size(aud); i++) {
        const char *a = json_string_value(json_array_get(aud, i));
        found = found || (a != NULL && strcmp(a, p->client_id) == 0);
    }
    if (json_is_array(aud) && json_array_size(aud) > 1 && azp == NULL)
        return false;
    return found && (azp == NULL || strcmp(azp, p->client_id) == 0);
}

/* Verifies idt into *claims (caller decrefs). false with the reason in why. */
static bool verify_id_token(const oidc_idp *p, const char *idt, const char *nonce, json_t **claims,
                            char *why, size_t whysz)
{
    oauth2_cfg_token_verify_t *v = NULL;
    char *rv = NULL;
    bool rc = false;
    *claims = NULL;
    snprintf(why, whysz, "id_token: unsupported signing algorithm");
    if (!alg_ok(idt))
        goto end;
    snprintf(why, whysz, "id_token: signature or time claims");
    rv = oauth2_cfg_token_verify_add_options(g_log, &v, "jwks_uri", p->jwks_uri,
                                             "verify.exp=required&verify.iat=required&"
                                             "verify.iat.slack_after=60&verify.iss=skip&"
                                             "expiry=0&jwks_uri.expiry=0");
    if (rv != NULL || v == NULL || !oauth2_token_verify(g_log, NULL, v, idt, claims) ||
        *claims == NULL)
        goto end;
    const char *iss = jstr(*claims, "iss"), *nc = jstr(*claims, "nonce");
    json_int_t exp = json_integer_value(json_object_get(*claims, "exp"));
    if (iss == NULL || strcmp(iss, p->d_issuer) != 0)
        snprintf(why, whysz, "id_token: issuer");
    else if (!aud_ok(p, *claims))
        snprintf(why, whysz, "id_token: audience");
    else if (nc == NULL || strlen(nc) != strlen(nonce) ||
             CRYPTO_memcmp(nc, nonce, strlen(nonce)) != 0)
        snprintf(why, whysz, "id_token: nonce");
    else if ((long long)exp < (long long)time(NULL))
        snprintf(why, whysz, "id_token: expired");
    else if (jstr(*claims, "sub") == NULL)
        snprintf(why, whysz, "id_token: no subject");
    else
        rc = true;
end:
    if (rv != NULL)
        oauth2_mem_free(rv);
    if (v != NULL)
        oauth2_cfg_token_verify_free(g_log, v);
    if (!rc && *claims != NULL) {
        json_decref(*claims);
        *claims = NULL;
    }
    return rc;
}

/* ---- the identity -------------------------------------------------------------------------- */

/* Fills claims the id_token lacks from userinfo (same subject only). */
static void from_userinfo(const oidc_idp *p, json_t *claims, const char *access_token)
{
    json_t *ui = NULL;
    long st = 0;
    const char *names[3] = {p->user_claim, p->email_claim, p->groups_claim};
    bool missing = false;
    for (int i = 0; i < 3; i++)
        missing = missing || (names[i][0] != '\0' && json_object_get(claims, names[i]) == NULL);
    if (!missing || access_token == NULL || p->userinfo_ep[0] == '\0')
        return;
    if (!http_json(p, p->userinfo_ep, NULL, false, access_token, &ui, &st) || st != 200 ||
        jstr(ui, "sub") == NULL || strcmp(jstr(ui, "sub"), jstr(claims, "sub")) != 0) {
        hub_log(HUB_LOG_WARN, "oidc: userinfo unusable (HTTP %ld or another subject)", st);
    } else {
        for (int i = 0; i < 3; i++)
            if (names[i][0] != '\0' && json_object_get(claims, names[i]) == NULL &&
                json_object_get(ui, names[i]) != NULL)
                json_object_set(claims, names[i], json_object_get(ui, names[i]));
    }
    if (ui != NULL)
        json_decref(ui);
}

/* The groups claim as "a,b,c" (an array of strings, or one string). */
static void groups_of(const json_t *claims, const char *name, char *out, size_t outsz)
{
    const json_t *g = name[0] != '\0' ? json_object_get(claims, name) : NULL;
    size_t n = 0;
    out[0] = '\0';
    if (json_is_string(g)) {
        snprintf(out, outsz, "%s", json_string_value(g));
        return;
    }
    for (size_t i = 0; json_is_array(g) && i < json_array_size(g); i++) {
        const char *s = json_string_value(json_array_get(g, i));
        if (s == NULL || strlen(s) + 2 > outsz - n || strpbrk(s, ",; ") != NULL)
            continue;
        n += (size_t)snprintf(out + n, outsz - n, "%s%s", n > 0 ? "," : "", s);
    }
}

static void copy_claim(const json_t *claims, const char *name, char *out, size_t outsz)
{
    const char *v = jstr(claims, name);
    out[0] = '\0';
    if (v != NULL && strlen(v) < outsz)
        memcpy(out, v, strlen(v) + 1);
}

oidc_result oidc_idp_redeem(const oidc_idp *p, const char *code, const char *verifier,
                            const char *nonce, oidc_identity *out, char *why, size_t whysz)
{
    oidc_result rc = OIDC_EXCHANGE;
    json_t *tok = NULL, *claims = NULL;
    long st = 0;
    bool basic = p->secret != NULL && p->basic_ok;
    hub_buf f;
    hub_buf_init(&f, 0);
    memset(out, 0, sizeof(*out));
    bool ok = hub_buf_puts(&f, "grant_type=authorization_code&code=") &&
              hub_cgi_urlencode(&f, code) && hub_buf_puts(&f, "&redirect_uri=") &&
              hub_cgi_urlencode(&f, p->redirect_uri) && hub_buf_puts(&f, "&code_verifier=") &&
              hub_cgi_urlencode(&f, verifier);
    if (ok && !basic) /* a public client, or client_secret_post */
        ok = hub_buf_puts(&f, "&client_id=") && hub_cgi_urlencode(&f, p->client_id);
    if (ok && !basic && p->secret != NULL)
        ok = hub_buf_puts(&f, "&client_secret=") && hub_cgi_urlencode(&f, p->secret);
    if (!ok || !http_json(p, p->token_ep, f.data, basic, NULL, &tok, &st) || st != 200) {
        const char *e = tok != NULL ? jstr(tok, "error") : NULL;
        snprintf(why, whysz, "token endpoint answered HTTP %ld (%s)", st,
                 e != NULL ? e : "no OAuth error");
        goto end;
    }
    rc = OIDC_VERIFY;
    const char *idt = jstr(tok, "id_token");
    if (idt == NULL) {
        snprintf(why, whysz, "no id_token in the token response");
        goto end;
    }
    if (!verify_id_token(p, idt, nonce, &claims, why, whysz))
        goto end;
    from_userinfo(p, claims, jstr(tok, "access_token"));
    copy_claim(claims, p->user_claim, out->name, sizeof(out->name));
    copy_claim(claims, p->email_claim, out->email, sizeof(out->email));
    groups_of(claims, p->groups_claim, out->groups, sizeof(out->groups));
    rc = OIDC_OK;
end:
    if (f.data != NULL)
        OPENSSL_cleanse(f.data, f.len);
    hub_buf_free(&f);
    if (tok != NULL)
        json_decref(tok);
    if (claims != NULL)
        json_decref(claims);
    return rc;
}
