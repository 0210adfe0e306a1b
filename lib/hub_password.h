/*
 * hub_password.h — local account passwords: PBKDF2-HMAC-SHA256 through OpenSSL.
 * Stored as "pbkdf2-sha256$ITER$SALT_B64$HASH_B64" (16-byte random salt, 32-byte hash).
 */
#ifndef HUB_PASSWORD_H
#define HUB_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define HUB_PASSWORD_ITER 210000
#define HUB_PASSWORD_MIN  12 /* characters */

/* Hashes pw into out (NUL-terminated). */
bool hub_password_hash(const char *pw, char *out, size_t outsz);
/* Constant-time check of pw against a stored string; false for malformed stored values. */
bool hub_password_verify(const char *pw, const char *stored);
/* NULL when pw is acceptable, else a static message ("at least 12 characters"). */
const char *hub_password_weak(const char *pw);

#endif
