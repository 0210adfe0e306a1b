/*
 * hub_apikey.h — the hub API key format.
 *
 *   hub_ + 40 base62 random characters + 6 base62 characters of CRC32(prefix+random)
 *
 * 40 base62 characters carry ~238 bits of randomness. The checksum lets the gateway
 * refuse a mistyped or forged key without a database query. Only the SHA-256 of the
 * whole key and a short display prefix (the first HUB_APIKEY_SHOWN characters) are stored.
 */
#ifndef HUB_APIKEY_H
#define HUB_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#define HUB_APIKEY_PREFIX   "hub_"
#define HUB_APIKEY_RANDOM   40
#define HUB_APIKEY_CHECK    6
#define HUB_APIKEY_LEN      (4 + HUB_APIKEY_RANDOM + HUB_APIKEY_CHECK) /* 50 */
#define HUB_APIKEY_SHOWN    12
#define HUB_APIKEY_HASH_LEN 32

/* Makes a new key into out (HUB_APIKEY_LEN + 1 bytes). */
bool hub_apikey_generate(char out[HUB_APIKEY_LEN + 1]);
/* True when s (len bytes) has the prefix, the length, the alphabet and a valid checksum. */
bool hub_apikey_check(const char *s, size_t len);
/* SHA-256 of the key bytes. */
void hub_apikey_hash(const char *s, size_t len, unsigned char out[HUB_APIKEY_HASH_LEN]);
/* The display prefix (first HUB_APIKEY_SHOWN chars) into out (HUB_APIKEY_SHOWN + 1 bytes). */
void hub_apikey_display(const char *s, char out[HUB_APIKEY_SHOWN + 1]);
/* Constant-time equality of two hashes. */
bool hub_apikey_hash_equal(const unsigned char *a, const unsigned char *b);

#endif
