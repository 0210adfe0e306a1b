/*
 * hub_apikey.c — making, checking and hashing hub API keys (see hub_apikey.h).
 *
 * A key is "hub_" + 40 uniformly random base62 characters + 6 base62 characters that
 * encode the CRC32 (zlib polynomial, computed here) of the first 44 characters. The
 * checksum lets the gateway drop a mistyped or made-up key before any database query;
 * it is not a security property — the 238 random bits are. Only the SHA-256 of a key
 * and its display prefix are ever stored; hashes are compared in constant time.
 */
#include "hub_apikey.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define PREFIX_LEN (sizeof(HUB_APIKEY_PREFIX) - 1)
#define BODY_LEN   (PREFIX_LEN + HUB_APIKEY_RANDOM) /* the part the checksum covers */

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Bytes below this are accepted and reduced mod 62: 248 = 4 * 62, so every character is
 * equally likely. */
#define ACCEPT_BELOW 248

_Static_assert(HUB_APIKEY_LEN == 50, "key layout");
_Static_assert(sizeof(HUB_APIKEY_PREFIX) - 1 == 4, "prefix length");

/* CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, init and final xor ~0). */
static uint32_t crc32_bytes(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* Big-endian base62 of v in exactly HUB_APIKEY_CHECK characters (62^6 > 2^32). */
static void encode_check(uint32_t v, char out[HUB_APIKEY_CHECK])
{
    for (int i = HUB_APIKEY_CHECK - 1; i >= 0; i--) {
        out[i] = alphabet[v % 62];
        v /= 62;
    }
}

static bool in_alphabet(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool hub_apikey_generate(char out[HUB_APIKEY_LEN + 1])
{
    bool rc = false;
    unsigned char pool[64]; /* random bytes; cleansed at end */
    size_t used = sizeof(pool);
    size_t filled = 0;

    if (out == NULL)
        goto end;
    memcpy(out, HUB_APIKEY_PREFIX, PREFIX_LEN);
    filled = PREFIX_LEN;
    while (filled < BODY_LEN) {
        if (used == sizeof(pool)) {
            if (RAND_bytes(pool, (int)sizeof(pool)) != 1)
                goto end;
            used = 0;
        }
        unsigned char b = pool[used++];
        if (b >= ACCEPT_BELOW)
            continue;
        out[filled++] = alphabet[b % 62];
    }
    encode_check(crc32_bytes((const unsigned char *)out, BODY_LEN), out + BODY_LEN);
    out[HUB_APIKEY_LEN] = '\0';
    rc = true;
end:
    OPENSSL_cleanse(pool, sizeof(pool));
    if (!rc && out != NULL)
        OPENSSL_cleanse(out, HUB_APIKEY_LEN + 1);
    return rc;
}

bool hub_apikey_check(const char *s, size_t len)
{
    char want[HUB_APIKEY_CHECK];

    if (s == NULL || len != HUB_APIKEY_LEN)
        return false;
    if (memcmp(s, HUB_APIKEY_PREFIX, PREFIX_LEN) != 0)
        return false;
    for (size_t i = PREFIX_LEN; i < HUB_APIKEY_LEN; i++) {
        if (!in_alphabet(s[i]))
            return false;
    }
    encode_check(crc32_bytes((const unsigned char *)s, BODY_LEN), want);
    return memcmp(want, s + BODY_LEN, HUB_APIKEY_CHECK) == 0;
}

void hub_apikey_hash(const char *s, size_t len, unsigned char out[HUB_APIKEY_HASH_LEN])
{
    unsigned int olen = 0;

    if (s != NULL && EVP_Digest(s, len, out, &olen, EVP_sha256(), NULL) == 1 &&
        olen == HUB_APIKEY_HASH_LEN)
        return;
    /* The API has no way to report a failure. Fail closed: a random value matches no
     * stored hash (and no other failed hash), where zeros would all match each other. */
    if (RAND_bytes(out, HUB_APIKEY_HASH_LEN) != 1)
        abort();
}

void hub_apikey_display(const char *s, char out[HUB_APIKEY_SHOWN + 1])
{
    size_t n = s != NULL ? strnlen(s, HUB_APIKEY_SHOWN) : 0;

    if (n > 0)
        memcpy(out, s, n);
    out[n] = '\0';
}

bool hub_apikey_hash_equal(const unsigned char *a, const unsigned char *b)
{
    if (a == NULL || b == NULL)
        return false;
    return CRYPTO_memcmp(a, b, HUB_APIKEY_HASH_LEN) == 0;
}
