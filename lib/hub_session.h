/*
 * hub_session.h — admin page sessions and their CSRF tokens, login throttling.
 *
 * A session id is 32 random bytes, sent as a 64-hex-character cookie "hub_session" and
 * stored only as its SHA-256. Each session has its own random CSRF token that every
 * state-changing form carries and the server compares in constant time. Logout and role
 * changes delete sessions. Sessions expire (session_ttl_minutes) and are refreshed on use.
 */
#ifndef HUB_SESSION_H
#define HUB_SESSION_H

#include "hub_db.h"

#include <stdbool.h>

#define HUB_SESSION_COOKIE "hub_session"

typedef struct {
    long long user_id;
    char user[129];
    char role[17];
    char csrf[65];
    long long team_id; /* 0 = none */
} hub_session;

/* Creates a session for user_id. cookie_value gets the 64-hex secret (65 bytes). */
bool hub_session_create(hub_db *db, long long user_id, const char *remote_addr, int ttl_minutes,
                        char cookie_value[65], hub_session *out);
/* Loads the session of a cookie value (NULL/garbage → false). Refreshes last_seen. Disabled
 * users have no session. */
bool hub_session_load(hub_db *db, const char *cookie_value, hub_session *out);
/* Deletes the session of a cookie value. */
bool hub_session_end(hub_db *db, const char *cookie_value);
/* Deletes every session of a user (role change, disable). */
bool hub_session_end_user(hub_db *db, long long user_id);
/* True when the form's token equals the session's (constant time). */
bool hub_session_csrf_ok(const hub_session *s, const char *token);

/* The Set-Cookie header line ("Set-Cookie: …\r\n") for a session value, or for clearing it
 * (value NULL). secure adds the Secure attribute. */
void hub_session_cookie_header(char *out, size_t outsz, const char *value, bool secure,
                               int ttl_minutes);

/*
 * Login throttling per subject (user name, and separately client address): at most
 * max_failures failures per window_seconds, then locked for lock_seconds. *retry_s gets
 * the seconds left when locked.
 */
bool hub_login_allowed(hub_db *db, const char *subject, long *retry_s);
/* Sets the throttling policy (from hub.conf login_*); defaults 5 failures / 300 s / 300 s. */
void hub_login_policy(int max_failures, int window_seconds, int lock_seconds);
void hub_login_failed(hub_db *db, const char *subject);
void hub_login_succeeded(hub_db *db, const char *subject);

#endif
