/*
 * hub_password.c — local account passwords (see hub_password.h).
 *
 * Hashing is PBKDF2-HMAC-SHA256 (OpenSSL PKCS5_PBKDF2_HMAC) with a fresh 16-byte salt and
 * HUB_PASSWORD_ITER iterations, stored as "pbkdf2-sha256$ITER$SALT_B64$HASH_B64" in standard
 * padded base64. Verification parses the stored string strictly (a bounded iteration count,
 * canonical base64, exact lengths) so a damaged or hostile value fails closed instead of
 * costing a billion iterations, and compares with CRYPTO_memcmp. Every buffer that held
 * derived key material is cleansed. hub_password_weak is a small, explainable policy:
 * length first, then obviously guessable shapes (one repeated character, a run such as
 * "abcdefghijkl", a common word with digits appended).
 */
#include "hub_password.h"

#include "hub_crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define PREFIX    "pbkdf2-sha256$"
#define SALT_LEN  16
#define HASH_LEN  32
#define ITER_MIN  1000L
#define ITER_MAX  10000000L
#define SALT_MAX  64
#define MAX_BYTES 1024 /* longer passwords are refused by hub_password_weak */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard padded base64 of n bytes into out (4*ceil(n/3)+1 bytes). */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int b64_value(char c)
{
    const char *p = (c != '\0') ? strchr(B64, c) : NULL;
    return p != NULL ? (int)(p - B64) : -1;
}

/*
 * Strict decoding of s[0..len) (padded, no whitespace, canonical: unused bits zero) into
 * out (at most outcap bytes). *outlen gets the length. False on anything else.
 */
static bool b64_decode(const char *s, size_t len, unsigned char *out, size_t outcap, size_t *outlen)
{
    size_t o = 0;
    if (len == 0 || len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + (size_t)k];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0)
                return false; /* data after padding */
            v[k] = b64_value(c);
            if (v[k] < 0)
                return false;
        }
        unsigned long w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
                          ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        if ((pad == 1 && (w & 0xFFu) != 0) || (pad == 2 && (w & 0xFFFFu) != 0))
            return false; /* non-canonical trailing bits */
        size_t nbytes = 3 - (size_t)pad;
        if (o + nbytes > outcap)
            return false;
        unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                                  (unsigned char)w};
        memcpy(out + o, bytes, nbytes);
        o += nbytes;
    }
    *outlen = o;
    return true;
}

static bool derive(const char *pw, const unsigned char *salt, size_t saltlen, long iter,
                   unsigned char out[HASH_LEN])
{
    size_t pwlen = strlen(pw);
    if (pwlen > MAX_BYTES * 4)
        return false;
    return PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)saltlen, (int)iter, EVP_sha256(), HASH_LEN,
                             out) == 1;
}

bool hub_password_hash(const char *pw, char *out, size_t outsz)
{
    bool rc = false;
    unsigned char salt[SALT_LEN];
    unsigned char dk[HASH_LEN]; /* cleansed at end */
    char salt64[((SALT_LEN + 2) / 3) * 4 + 1];
    char dk64[((HASH_LEN + 2) / 3) * 4 + 1]; /* cleansed at end */

    if (out == NULL || outsz == 0)
        goto end;
    out[0] = '\0';
    if (pw == NULL || !hub_random_bytes(salt, sizeof(salt)))
        goto end;
    if (!derive(pw, salt, sizeof(salt), HUB_PASSWORD_ITER, dk))
        goto end;
    b64_encode(salt, sizeof(salt), salt64);
    b64_encode(dk, sizeof(dk), dk64);
    int n = snprintf(out, outsz, "%s%d$%s$%s", PREFIX, HUB_PASSWORD_ITER, salt64, dk64);
    if (n < 0 || (size_t)n >= outsz) {
        OPENSSL_cleanse(out, outsz);
        out[0] = '\0';
        goto end;
    }
    rc = true;
end:
    OPENSSL_cleanse(dk, sizeof(dk));
    OPENSSL_cleanse(dk64, sizeof(dk64));
    return rc;
}

/* The iteration count: 4 to 8 decimal digits, no sign or leading zero, in bounds. */
static bool parse_iter(const char *s, size_t len, long *out)
{
    long v = 0;
    if (len == 0 || len > 8 || s[0] == '0')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < ITER_MIN || v > ITER_MAX)
        return false;
    *out = v;
    return true;
}

bool hub_password_verify(const char *pw, const char *stored)
{
    bool rc = false;
    unsigned char salt[SALT_MAX];
    unsigned char want[HASH_LEN + 3];
    unsigned char got[HASH_LEN]; /* cleansed at end */
    size_t saltlen = 0;
    size_t wantlen = 0;
    long iter = 0;

    if (pw == NULL || stored == NULL || strncmp(stored, PREFIX, sizeof(PREFIX) - 1) != 0)
        goto end;
    const char *it = stored + sizeof(PREFIX) - 1;
    const char *d1 = strchr(it, '$');
    const char *d2 = d1 ? strchr(d1 + 1, '$') : NULL;
    if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '$') != NULL)
        goto end;
    if (!parse_iter(it, (size_t)(d1 - it), &iter))
        goto end;
    if (!b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), salt, sizeof(salt), &saltlen) ||
        saltlen < SALT_LEN)
        goto end;
    if (!b64_decode(d2 + 1, strlen(d2 + 1), want, sizeof(want), &wantlen) || wantlen != HASH_LEN)
        goto end;
    if (!derive(pw, salt, saltlen, iter, got))
        goto end;
    rc = CRYPTO_memcmp(got, want, HASH_LEN) == 0;
end:
    OPENSSL_cleanse(got, sizeof(got));
    return rc;
}

/* ---- policy ------------------------------------------------------------------------- */

/* Characters (UTF-8 code points, counted by their lead bytes) in pw. */
static size_t char_count(const char *pw)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            n++;
    }
    return n;
}

/* True when every byte differs from the previous by the same +1 or -1 ("abcd…", "9876…"). */
static bool is_sequence(const char *pw)
{
    size_t n = strlen(pw);
    int step = (int)(unsigned char)pw[1] - (int)(unsigned char)pw[0];
    if (step != 1 && step != -1)
        return false;
    for (size_t i = 2; i < n; i++) {
        if ((int)(unsigned char)pw[i] - (int)(unsigned char)pw[i - 1] != step)
            return false;
    }
    return true;
}

/* True when pw is a well-known password stem followed only by digits and punctuation
 * ("Password2024!", "qwertyuiop123"), or consists of digits and punctuation alone. */
static bool common_stem(const char *pw)
{
    static const char *const stems[] = {
        "password", "passwort", "passw0rd", "qwertyuiop",    "qwertzuiop", "azertyuiop",
        "letmein",  "welcome",  "admin",    "administrator", "changeme",   "iloveyou",
        "hub",      "secret",   "default",  "login",         "monkey",     "dragon",
    };
    char low[64];
    size_t n = strlen(pw);
    while (n > 0 && (isdigit((unsigned char)pw[n - 1]) || ispunct((unsigned char)pw[n - 1]) ||
                     pw[n - 1] == ' '))
        n--;
    if (n == 0)
        return true;
    if (n >= sizeof(low))
        return false;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)pw[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
        if (strcmp(low, stems[i]) == 0)
            return true;
    }
    return false;
}

const char *hub_password_weak(const char *pw)
{
    if (pw == NULL || char_count(pw) < HUB_PASSWORD_MIN)
        return "at least 12 characters";
    if (strlen(pw) > MAX_BYTES)
        return "at most 1024 bytes";
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return "no control characters";
    }
    bool same = true;
    for (const char *p = pw + 1; *p && same; p++)
        same = *p == pw[0];
    if (same)
        return "not one character repeated";
    int distinct = 0;
    bool seen[256] = {false};
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        if (!seen[*p])
            distinct++;
        seen[*p] = true;
    }
    if (distinct < 5)
        return "at least 5 different characters";
    if (is_sequence(pw))
        return "not a simple sequence such as abcdefghijkl";
    if (common_stem(pw))
        return "not a common password or only digits";
    return NULL;
}
