/*
 * hub_webauth.h — who is signed in to the admin pages, in the three sign-in modes of
 * hub.conf admin_auth (a comma-separated list):
 *   local     — a local account (password, hub_password.h), for first start and break-glass;
 *   oidc      — the pages' own OpenID Connect authorization-code flow (admin-cgi/oidc.c);
 *   webserver — the web server authenticated the user (mod_auth_openidc, Kerberos, …): the
 *               pages trust the webserver_user_var / webserver_groups_var variables, and ONLY
 *               in this mode; groups map to roles through role_map.
 * Whatever the mode, a signed-in user has a session (hub_session.h) and so a CSRF token:
 * in webserver mode the session is created on the first page view (Set-Cookie in *set_cookie).
 * Roles: admin (everything), viewer (read-only), member (own tokens and own usage).
 */
#ifndef HUB_WEBAUTH_H
#define HUB_WEBAUTH_H

#include "hub_cgi.h"
#include "hub_config.h"
#include "hub_db.h"
#include "hub_error.h"
#include "hub_session.h"

#include <stdbool.h>

/* True when admin_auth lists mode ("local", "oidc", "webserver"). */
bool hub_webauth_mode(const hub_config *cfg, const char *mode);

/*
 * The signed-in user of this request into *s. HUB_EAUTH when nobody is signed in (the page
 * redirects to the login page), HUB_EFORBIDDEN for a disabled user, HUB_EDB when the
 * database is down. set_cookie (may be NULL) gets a Set-Cookie line when a session was
 * created (webserver mode), else "".
 */
hub_err hub_webauth_current(hub_db *db, const hub_config *cfg, const hub_cgi *c, hub_session *s,
                            char *set_cookie, size_t set_cookie_sz);

/* The role for a list of groups (separated by , or ; or space) per cfg->role_map; the
 * highest matching role wins; cfg->default_role when none matches. */
const char *hub_webauth_role_for_groups(const hub_config *cfg, const char *groups);

/* Finds or creates (auth_source src, role) the user `name` and returns its id (0 on error).
 * An existing user's role follows role (webserver/oidc users: their groups decide). */
long long hub_webauth_provision(hub_db *db, const char *name, const char *email, const char *role,
                                const char *src);

/* Role order: admin > viewer > member. True when have ≥ need. */
bool hub_role_at_least(const char *have, const char *need);

#endif
