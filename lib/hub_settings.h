/*
 * hub_settings.h — the settings table: named values the admin pages edit at run time (the
 * pages' own OpenID Connect client) as opposed to hub.conf, which needs a restart.
 *
 * A setting has a plain value, or (for secrets) a blob sealed with the master key under
 * the associated data "setting:<name>" and the key id beside it. A sealed value is never
 * shown again: the pages display it masked and replace it only when a new one is typed.
 */
#ifndef HUB_SETTINGS_H
#define HUB_SETTINGS_H

#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_error.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The OpenID Connect client of the pages (admin_auth = oidc), written by settings.cgi and
 * read by oidc.cgi. Unset values mean the defaults:
 *   issuer         (required) the IdP's issuer URL (discovery document at
 *                  ISSUER/.well-known/openid-configuration)
 *   client_secret  sealed, aad "setting:oidc_client_secret"
 *   scopes         "openid profile email"
 *   user_claim     "preferred_username"
 *   email_claim    "email"
 *   groups_claim   "groups"
 *   redirect_uri   scheme://HOST<admin_base>/oidc.cgi of the request
 */
#define HUB_SET_OIDC_ISSUER        "oidc_issuer"
#define HUB_SET_OIDC_CLIENT_ID     "oidc_client_id"
#define HUB_SET_OIDC_CLIENT_SECRET "oidc_client_secret"
#define HUB_SET_OIDC_SCOPES        "oidc_scopes"
#define HUB_SET_OIDC_USER_CLAIM    "oidc_user_claim"
#define HUB_SET_OIDC_EMAIL_CLAIM   "oidc_email_claim"
#define HUB_SET_OIDC_GROUPS_CLAIM  "oidc_groups_claim"
#define HUB_SET_OIDC_REDIRECT_URI  "oidc_redirect_uri"

#define HUB_SETTING_MAX 2048 /* longest plain value accepted */

/* The plain value of name into out (NUL-terminated, "" when unset or NULL); *present (may
 * be NULL) tells whether a non-NULL value is stored. false on a database error. */
bool hub_setting_get(hub_db *db, const char *name, char *out, size_t outsz, bool *present);
/* Stores (upserts) a plain value; NULL clears it. */
bool hub_setting_put(hub_db *db, const char *name, const char *value);
/* *has = a sealed value is stored for name. false on a database error. */
bool hub_setting_has_secret(hub_db *db, const char *name, bool *has);
/* Seals secret[0..len) with the current master key under "setting:<name>" and stores it. */
bool hub_setting_put_secret(hub_db *db, const hub_keyring *kr, const char *name, const char *secret,
                            size_t len, char *err, size_t errsz);
/* Removes a sealed value. */
bool hub_setting_clear_secret(hub_db *db, const char *name);
/*
 * Opens the sealed value of name: *out gets a malloc'd NUL-terminated secret of *len bytes
 * (free with hub_secret_free). HUB_ENOTFOUND when none is stored, HUB_ECRYPTO when it does
 * not open (wrong master key, tampering), HUB_EDB.
 */
hub_err hub_setting_secret(hub_db *db, const hub_keyring *kr, const char *name, char **out,
                           size_t *len);

#endif
