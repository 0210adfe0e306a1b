/*
 * keyops.h — what keys.cgi (service keys, admins) and tokens.cgi (personal tokens, every
 * user) share: the limits of the key forms, creating a key in one transaction with its audit
 * row and showing its secret exactly once, revoking a key, and a key's status in SQL.
 */
#ifndef KEYOPS_H
#define KEYOPS_H

#include "page.h"

#include "hub_error.h"
#include "hub_ops.h"

/* A key's status column: active, revoked or expired (table alias k). */
#define KO_STATUS_SQL                                                                              \
    "CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' "                                           \
    "WHEN k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP(3) THEN 'expired' "           \
    "ELSE 'active' END"

/*
 * Creates the key ks (already checked by the caller; owner and team are names for the audit
 * row, team may be NULL) and answers with the page that shows the secret once (200, with a
 * "Done" link to back_rel under the admin base). Returns HUB_OK then. HUB_EINVAL when a key
 * of that name exists: nothing was sent, p->err says why (the caller re-shows its form).
 * Anything else: an error page was sent.
 */
hub_err ko_create(pg *p, const hub_key_spec *ks, const char *owner, const char *team,
                  const char *back_rel);

/*
 * Revokes key id when it belongs to only_user (0: any owner) and has kind (NULL: any). An
 * already revoked key is left as it is. true when done (nothing sent: the caller redirects);
 * false after an error page (404 when there is no such key for this user).
 */
bool ko_revoke(pg *p, long long id, long long only_user, const char *kind);

/* Reads the limits a key form shares (fields models and expires_days) into ks: NULL, or
 * what is wrong with them (a static message). */
const char *ko_limits_from_form(const pg *p, hub_key_spec *ks);

/*
 * The POST of keys.cgi and tokens.cgi: action=create runs create; action=revoke revokes the
 * key of field id (ko_revoke with only_user and kind) and redirects to program?done=revoked;
 * what names a key in messages ("key", "token").
 */
void ko_post(pg *p, void (*create)(pg *p), long long only_user, const char *kind,
             const char *program, const char *what);

/* The badge kind for a status: ok (active), off (revoked), warn (expired). */
const char *ko_badge(const char *status);

#endif
