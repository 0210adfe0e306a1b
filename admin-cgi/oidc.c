/*
 * oidc.c — oidc.cgi: the admin pages' own OpenID Connect sign-in (authorization code flow
 * with PKCE), for hub.conf admin_auth lists containing "oidc". Works behind any CGI server
 * (lighttpd, Apache) with no module of its own.
 *
 *   GET oidc.cgi[?start=1]      loads the client settings (hub_settings.h), fetches the IdP's
 *                               discovery document, stores sha256(state) with the nonce and the
 *                               PKCE verifier in oidc_pending (5 minutes), sets a short cookie
 *                               binding the state to this browser, 303 to the IdP.
 *   GET oidc.cgi?code=…&state=… checks the state (this browser's, single use, not expired),
 *                               exchanges the code (client_secret_basic or _post, or a public
 *                               client), verifies the id_token (signature via the JWKS with
 *                               liboauth2; iss, aud = client_id, azp, nonce, exp), reads name,
 *                               e-mail and groups (userinfo when the id_token lacks them), maps
 *                               groups to a role, provisions the user, creates a session and
 *                               sends the browser to the pages.
 *
 * The last step answers 200 with a tiny page that refreshes to admin_base/ instead of a 303:
 * the session cookie is SameSite=Strict, and browsers do not send such a cookie on a redirect
 * chain that began at another site (the IdP), so a 303 would land on the login page.
 *
 * Errors are readable HTML pages; nothing secret is logged or shown (not the code, the
 * tokens, the client secret nor the state). The IdP side (libcurl, jansson, liboauth2) is
 * oidc_idp.c.
 */
#include "oidc_idp.h"

#include "hub_audit.h"
#include "hub_buf.h"
#include "hub_cgi.h"
#include "hub_config.h"
#include "hub_oauth.h"
#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_html.h"
#include "hub_log.h"
#include "hub_session.h"
#include "hub_settings.h"
#include "hub_webauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_COOKIE "hub_oidc_state"
#define PENDING_S    300

typedef struct {
    hub_config cfg;
    hub_cgi cgi;
    bool cgi_read;
    hub_db *db;
    oidc_idp idp;
    char scopes[512];
    char *secret; /* owned (hub_secret_free) */
    size_t secret_len;
} oidc;

/* ---- answering ----------------------------------------------------------------------------- */

static void clear_state_cookie(const oidc *o, hub_buf *h)
{
    hub_buf_printf(h,
                   "Set-Cookie: " STATE_COOKIE "=; Path=%s/oidc.cgi; HttpOnly; SameSite=Lax; "
                   "Max-Age=0%s\r\n",
                   o->cfg.admin_base, o->cfg.cookie_secure ? "; Secure" : "");
}

/* A complete page: a heading, a notice of kind with text, links; extra header lines may be
 * NULL. Error pages also clear the state cookie. */
static void page(oidc *o, int status, const char *title, const char *text, bool retry,
                 const char *extra)
{
    hub_buf b, h;
    hub_buf_init(&b, 0);
    hub_buf_init(&h, 0);
    hub_page p = {.title = title, .base = o->cfg.admin_base};
    if (extra != NULL)
        hub_buf_puts(&h, extra);
    if (status >= 400)
        clear_state_cookie(o, &h);
    hub_html_begin(&b, &p);
    hub_html_printf(&b, "<h1>%s</h1>\n", title);
    hub_html_notice(&b, status >= 400 ? "error" : "info", text);
    if (retry)
        hub_html_printf(&b,
                        "<p><a href=\"%s/oidc.cgi?start=1\">Sign in again</a> · "
                        "<a href=\"%s/login.cgi\">Other sign-in options</a></p>\n",
                        o->cfg.admin_base, o->cfg.admin_base);
    hub_html_end(&b);
    hub_cgi_head(stdout, status, "text/html; charset=utf-8", h.data);
    if (b.data != NULL)
        fwrite(b.data, 1, b.len, stdout);
    hub_buf_free(&b);
    hub_buf_free(&h);
}

static void fail(oidc *o, int status, const char *msg)
{
    page(o, status, status == 503 ? "Sign-in unavailable" : "Sign-in failed", msg, true, NULL);
}

static void fail_db(oidc *o)
{
    hub_log(HUB_LOG_ERROR, "oidc: database: %s", hub_db_error(o->db));
    fail(o, hub_db_was_down(o->db) ? 503 : 500,
         "The user database is unavailable; try again shortly.");
}

/* ---- small helpers ------------------------------------------------------------------------- */

static void b64url(const unsigned char *in, size_t n, char *out, size_t outsz)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < outsz; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = t[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = t[v & 63];
    }
    out[o] = '\0';
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

/* A usable user name: 1..128 bytes, no control characters. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* ---- settings and the provider ------------------------------------------------------------- */

static bool setting(oidc *o, const char *name, char *out, size_t outsz, const char *dflt)
{
    if (!hub_setting_get(o->db, name, out, outsz, NULL))
        return false;
    if (out[0] == '\0')
        snprintf(out, outsz, "%s", dflt);
    return true;
}

/* The sealed client secret, when one is stored. false after an error page. */
static bool load_secret(oidc *o)
{
    bool has = false;
    hub_keyring kr;
    char err[256];
    memset(&kr, 0, sizeof(kr));
    if (!hub_setting_has_secret(o->db, HUB_SET_OIDC_CLIENT_SECRET, &has)) {
        fail_db(o);
        return false;
    }
    if (!has)
        return true;
    hub_err e = HUB_ECRYPTO;
    if (hub_keyring_load(&kr, o->cfg.master_key_file, true, err, sizeof(err)))
        e = hub_setting_secret(o->db, &kr, HUB_SET_OIDC_CLIENT_SECRET, &o->secret, &o->secret_len);
    else
        hub_log(HUB_LOG_ERROR, "oidc: %s", err);
    hub_keyring_wipe(&kr);
    if (e != HUB_OK) {
        hub_log(HUB_LOG_ERROR, "oidc: the client secret cannot be opened (error %d)", (int)e);
        fail(o, e == HUB_EDB ? 503 : 500,
             "The stored client secret cannot be read; an administrator must enter it again.");
        return false;
    }
    o->idp.secret = o->secret;
    o->idp.secret_len = o->secret_len;
    return true;
}

/* The redirect URI of this program, from the request's host. false after an error page. */
static bool default_redirect(oidc *o)
{
    const char *host = hub_cgi_env("HTTP_HOST");
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";
    if (host == NULL || host[0] == '\0' || strlen(host) > 255 || strspn(host, ok) != strlen(host)) {
        fail(o, 400, "The request has no usable Host header.");
        return false;
    }
    snprintf(o->idp.redirect_uri, sizeof(o->idp.redirect_uri), "%s://%s%s/oidc.cgi",
             o->cgi.https ? "https" : "http", host, o->cfg.admin_base);
    return true;
}

/* Loads the client settings and discovers the provider. false after an error page. */
static bool load_client(oidc *o, bool with_secret)
{
    oidc_idp *p = &o->idp;
    char why[600];
    if (!setting(o, HUB_SET_OIDC_ISSUER, p->issuer, sizeof(p->issuer), "") ||
        !setting(o, HUB_SET_OIDC_CLIENT_ID, p->client_id, sizeof(p->client_id), "") ||
        !setting(o, HUB_SET_OIDC_SCOPES, o->scopes, sizeof(o->scopes), "openid profile email") ||
        !setting(o, HUB_SET_OIDC_USER_CLAIM, p->user_claim, sizeof(p->user_claim),
                 "preferred_username") ||
        !setting(o, HUB_SET_OIDC_EMAIL_CLAIM, p->email_claim, sizeof(p->email_claim), "email") ||
        !setting(o, HUB_SET_OIDC_GROUPS_CLAIM, p->groups_claim, sizeof(p->groups_claim),
                 "groups") ||
        !setting(o, HUB_SET_OIDC_REDIRECT_URI, p->redirect_uri, sizeof(p->redirect_uri), "")) {
        fail_db(o);
        return false;
    }
    if (p->issuer[0] == '\0' || p->client_id[0] == '\0' || !hub_oauth_url_ok(p->issuer)) {
        fail(o, 503,
             "Single sign-on is not set up: an administrator enters the identity provider "
             "(an https issuer URL) and the client id under Settings.");
        return false;
    }
    if (with_secret && !load_secret(o))
        return false;
    if (!oidc_idp_discover(p, why, sizeof(why))) {
        hub_log(HUB_LOG_WARN, "oidc: %s", why);
        fail(o, 502, "The identity provider cannot be reached or does not match the settings.");
        return false;
    }
    return p->redirect_uri[0] != '\0' || default_redirect(o);
}

/* ---- step 1: to the IdP -------------------------------------------------------------------- */

/* The authorization request URL into loc. */
static bool authz_url(const oidc *o, hub_buf *loc, const char *state, const char *nonce,
                      const char *challenge)
{
    const oidc_idp *p = &o->idp;
    return hub_buf_puts(loc, p->authz_ep) &&
           hub_buf_puts(loc, strchr(p->authz_ep, '?') != NULL ? "&" : "?") &&
           hub_buf_puts(loc, "response_type=code&client_id=") &&
           hub_cgi_urlencode(loc, p->client_id) && hub_buf_puts(loc, "&redirect_uri=") &&
           hub_cgi_urlencode(loc, p->redirect_uri) && hub_buf_puts(loc, "&scope=") &&
           hub_cgi_urlencode(loc, o->scopes) && hub_buf_printf(loc, "&state=%s", state) &&
           hub_buf_printf(loc, "&nonce=%s", nonce) &&
           hub_buf_printf(loc, "&code_challenge=%s&code_challenge_method=S256", challenge) &&
           strpbrk(loc->data, "\r\n") == NULL;
}

static void start(oidc *o)
{
    unsigned char r1[32], r2[32], r3[32], h[32];
    char state[65], nonce[64], verifier[64], challenge[64];
    hub_buf loc, hdr;
    hub_buf_init(&loc, 0);
    hub_buf_init(&hdr, 0);
    if (!load_client(o, false))
        goto end;
    if (!hub_random_bytes(r1, sizeof(r1)) || !hub_random_bytes(r2, sizeof(r2)) ||
        !hub_random_bytes(r3, sizeof(r3))) {
        fail(o, 500, "No random numbers are available.");
        goto end;
    }
    hub_hex(r1, sizeof(r1), state);
    b64url(r2, sizeof(r2), nonce, sizeof(nonce));
    b64url(r3, sizeof(r3), verifier, sizeof(verifier));
    sha256(verifier, strlen(verifier), h);
    b64url(h, sizeof(h), challenge, sizeof(challenge));
    sha256(state, strlen(state), h);
    hub_dbp p[3] = {DB_BLOB(h, sizeof(h)), DB_STR(nonce), DB_STR(verifier)};
    if (!hub_db_exec(o->db, "DELETE FROM oidc_pending WHERE expires_at < NOW(3)", NULL, 0, NULL,
                     NULL, NULL) ||
        !hub_db_exec(o->db,
                     "INSERT INTO oidc_pending (state_hash, nonce, code_verifier, expires_at) "
                     "VALUES (?, ?, ?, NOW(3) + INTERVAL 300 SECOND)",
                     p, 3, NULL, NULL, NULL)) {
        fail_db(o);
        goto end;
    }
    if (!authz_url(o, &loc, state, nonce, challenge) ||
        !hub_buf_printf(&hdr, "Location: %s\r\n", loc.data) ||
        !hub_buf_printf(&hdr,
                        "Set-Cookie: " STATE_COOKIE "=%s; Path=%s/oidc.cgi; HttpOnly; "
                        "SameSite=Lax; Max-Age=%d%s\r\n",
                        state, o->cfg.admin_base, PENDING_S,
                        o->cfg.cookie_secure ? "; Secure" : "")) {
        fail(o, 500, "The sign-in address cannot be built.");
        goto end;
    }
    hub_cgi_head(stdout, 303, "text/html; charset=utf-8", hdr.data);
    printf("<!doctype html><title>Signing in</title><p>Continue to your identity provider.</p>\n");
end:
    OPENSSL_cleanse(state, sizeof(state));
    OPENSSL_cleanse(verifier, sizeof(verifier));
    hub_buf_free(&loc);
    hub_buf_free(&hdr);
}

/* ---- step 2: back from the IdP ------------------------------------------------------------- */

/* Takes the pending login of state: this browser's (cookie), known, not expired, and only
 * once. false after an error page. */
static bool take_pending(oidc *o, const char *state, char *nonce, size_t nsz, char *verifier,
                         size_t vsz)
{
    unsigned char h[32];
    hub_dbres r;
    long long gone = 0;
    const char *cookie = hub_cgi_cookie(&o->cgi, STATE_COOKIE);
    if (strlen(state) != 64 || cookie == NULL || strlen(cookie) != 64 ||
        CRYPTO_memcmp(cookie, state, 64) != 0) {
        fail(o, 400,
             "This sign-in was not started in this browser, or it took too long. Please sign "
             "in again.");
        return false;
    }
    sha256(state, 64, h);
    hub_dbp p[1] = {DB_BLOB(h, sizeof(h))};
    if (!hub_db_exec(o->db,
                     "SELECT nonce, code_verifier FROM oidc_pending WHERE state_hash = ? AND "
                     "expires_at > NOW(3)",
                     p, 1, &r, NULL, NULL)) {
        fail_db(o);
        return false;
    }
    bool found = r.nrows == 1;
    if (found) {
        snprintf(nonce, nsz, "%s", hub_dbres_get(&r, 0, 0));
        snprintf(verifier, vsz, "%s", hub_dbres_get(&r, 0, 1));
    }
    hub_dbres_free(&r);
    /* the DELETE decides: of two concurrent callbacks only one removes the row */
    if (!hub_db_exec(o->db, "DELETE FROM oidc_pending WHERE state_hash = ?", p, 1, NULL, &gone,
                     NULL)) {
        fail_db(o);
        return false;
    }
    if (!found || gone != 1) {
        fail(o, 400, "This sign-in link has expired or was already used. Please sign in again.");
        return false;
    }
    return true;
}

/* The user of id: provisioned with the role of its groups, enabled. 0 after an error page. */
static long long provision(oidc *o, const oidc_identity *id, const char **role)
{
    hub_dbres r;
    *role = hub_webauth_role_for_groups(&o->cfg, id->groups);
    long long uid =
        hub_webauth_provision(o->db, id->name, id->email[0] ? id->email : NULL, *role, "oidc");
    if (uid <= 0) {
        fail_db(o);
        return 0;
    }
    hub_dbp p[1] = {DB_INT(uid)};
    if (!hub_db_exec(o->db, "SELECT disabled FROM users WHERE id = ?", p, 1, &r, NULL, NULL)) {
        fail_db(o);
        return 0;
    }
    bool disabled = r.nrows != 1 || hub_dbres_int(&r, 0, 0, 1) != 0;
    hub_dbres_free(&r);
    if (disabled) {
        fail(o, 403, "Your hub account is disabled. Ask an administrator.");
        return 0;
    }
    return uid;
}

/* Signed in: the session cookie and a page that moves on to the pages (see the top). */
static void signed_in(oidc *o, const char *name, const char *role, const char *cookie)
{
    char setc[512];
    hub_buf b, h, after;
    hub_buf_init(&b, 0);
    hub_buf_init(&h, 0);
    hub_buf_init(&after, 0);
    hub_buf_puts(&after, "{\"via\":\"oidc\",\"role\":");
    hub_buf_json_str(&after, role);
    hub_buf_puts(&after, "}");
    if (!hub_audit_log(o->db, name, "pages", "login", "user", name, NULL, after.data))
        hub_log(HUB_LOG_WARN, "oidc: the sign-in of '%s' was not audited", name);
    hub_log(HUB_LOG_INFO, "oidc: '%s' signed in (role %s)", name, role);
    hub_session_cookie_header(setc, sizeof(setc), cookie, o->cfg.cookie_secure != 0,
                              o->cfg.session_ttl_minutes);
    hub_buf_puts(&h, setc);
    clear_state_cookie(o, &h);
    hub_html_printf(&b,
                    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"refresh\" content=\"0; url=%s/\">\n"
                    "<title>Signed in · hub</title>\n"
                    "<link rel=\"stylesheet\" href=\"%s/static/hub.css\">\n</head>\n<body>\n"
                    "<main><p>Signed in as %s. <a href=\"%s/\">Continue</a></p></main>\n"
                    "</body>\n</html>\n",
                    o->cfg.admin_base, o->cfg.admin_base, name, o->cfg.admin_base);
    hub_cgi_head(stdout, 200, "text/html; charset=utf-8", h.data);
    if (b.data != NULL)
        fwrite(b.data, 1, b.len, stdout);
    OPENSSL_cleanse(setc, sizeof(setc));
    if (h.data != NULL)
        OPENSSL_cleanse(h.data, h.len);
    hub_buf_free(&b);
    hub_buf_free(&h);
    hub_buf_free(&after);
}

static void callback(oidc *o)
{
    char nonce[129] = "", verifier[129] = "", cookie[65] = "", why[600] = "";
    oidc_identity id;
    hub_session s;
    const char *role = NULL;
    const char *err = hub_cgi_query(&o->cgi, "error");
    const char *code = hub_cgi_query(&o->cgi, "code"), *state = hub_cgi_query(&o->cgi, "state");
    if (err != NULL) {
        const char *d = hub_cgi_query(&o->cgi, "error_description");
        char msg[600];
        snprintf(msg, sizeof(msg), "The identity provider did not sign you in (%.100s%s%.400s).",
                 err, d != NULL ? ": " : "", d != NULL ? d : "");
        fail(o, 400, msg);
        goto end;
    }
    if (code == NULL || state == NULL || strlen(code) > 4096) {
        fail(o, 400, "The sign-in answer is incomplete. Please sign in again.");
        goto end;
    }
    if (!take_pending(o, state, nonce, sizeof(nonce), verifier, sizeof(verifier)) ||
        !load_client(o, true))
        goto end;
    oidc_result rc = oidc_idp_redeem(&o->idp, code, verifier, nonce, &id, why, sizeof(why));
    if (rc != OIDC_OK) {
        hub_log(HUB_LOG_WARN, "oidc: sign-in refused: %s", why);
        fail(o, rc == OIDC_EXCHANGE ? 502 : 401,
             rc == OIDC_EXCHANGE ? "The identity provider did not accept the sign-in code. "
                                   "Please sign in again."
                                 : "The identity provider's answer could not be verified.");
        goto end;
    }
    if (!name_ok(id.name)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Your account has no usable '%s' claim.", o->idp.user_claim);
        fail(o, 403, msg);
        goto end;
    }
    long long uid = provision(o, &id, &role);
    if (uid <= 0)
        goto end;
    if (!hub_session_create(o->db, uid, o->cgi.remote_addr, o->cfg.session_ttl_minutes, cookie,
                            &s)) {
        fail_db(o);
        goto end;
    }
    signed_in(o, s.user[0] != '\0' ? s.user : id.name, role, cookie);
end:
    OPENSSL_cleanse(verifier, sizeof(verifier));
    OPENSSL_cleanse(cookie, sizeof(cookie));
}

int main(void)
{
    oidc o;
    char err[512];
    memset(&o, 0, sizeof(o));
    hub_config_defaults(&o.cfg);
    if (!hub_config_load(&o.cfg, hub_config_path(NULL), err, sizeof(err))) {
        hub_log_init("oidc.cgi", "info");
        hub_log(HUB_LOG_ERROR, "%s", err);
        fail(&o, 500, "The hub configuration cannot be read.");
        return 0;
    }
    hub_log_init("oidc.cgi", o.cfg.log_level);
    if (!hub_webauth_mode(&o.cfg, "oidc")) {
        page(&o, 404, "Not found", "Single sign-on is not enabled on this hub.", false, NULL);
        return 0;
    }
    o.cgi_read = hub_cgi_read(&o.cgi, err, sizeof(err));
    if (!o.cgi_read) {
        fail(&o, 400, err);
        goto end;
    }
    if (o.cgi.method == NULL || strcmp(o.cgi.method, "GET") != 0) {
        page(&o, 405, "Method not allowed", "Use GET.", false, "Allow: GET\r\n");
        goto end;
    }
    o.db = hub_db_new(&o.cfg);
    if (o.db == NULL || !oidc_idp_init()) {
        fail(&o, 500, "The sign-in service cannot start.");
        goto end;
    }
    if (hub_cgi_query(&o.cgi, "code") != NULL || hub_cgi_query(&o.cgi, "error") != NULL)
        callback(&o);
    else
        start(&o);
end:
    fflush(stdout);
    oidc_idp_shutdown();
    if (o.secret != NULL)
        hub_secret_free(o.secret, o.secret_len);
    if (o.cgi_read)
        hub_cgi_free(&o.cgi);
    hub_db_free(o.db);
    return 0;
}
