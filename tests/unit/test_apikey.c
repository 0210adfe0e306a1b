/*
 * test_apikey.c — unit tests for hub_apikey: key format, checksum, hashing, display prefix.
 *
 * Generated keys must pass the check, be distinct and have the documented shape; every
 * single-character change to a valid key, and every wrong length, prefix or character,
 * must fail it. Known-answer keys (checksum computed with zlib's crc32) pin the CRC and
 * base62 encoding. Prints TAP lines (tap.h).
 */
#include "hub_apikey.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Checksums computed independently: python3 zlib.crc32 + base62, big-endian, width 6. */
static const char *known_good[] = {
    "hub_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA30LIXz", /* crc 0xa41eb07b */
    "hub_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcd2yHxOC", /* crc 0xa24f99c0 */
};

static bool check_str(const char *s)
{
    return hub_apikey_check(s, strlen(s));
}

static bool all_alphabet(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr(alphabet, s[i]) == NULL || s[i] == '\0')
            return false;
    }
    return true;
}

static int cmp_keys(const void *a, const void *b)
{
    return memcmp(a, b, HUB_APIKEY_LEN);
}

static void test_generate(void)
{
    char key[HUB_APIKEY_LEN + 1];
    enum { N = 1000 };
    char(*keys)[HUB_APIKEY_LEN + 1] = calloc(N, sizeof(*keys));

    TAP_CHECK(hub_apikey_generate(key), "generate succeeds");
    TAP_CHECK(strlen(key) == 50 && HUB_APIKEY_LEN == 50, "key length is 50");
    TAP_CHECK(strncmp(key, "hub_", 4) == 0, "key has prefix hub_");
    TAP_CHECK(all_alphabet(key + 4, 46), "key body is base62");
    TAP_CHECK(hub_apikey_check(key, strlen(key)), "generated key passes check");

    if (keys == NULL) {
        TAP_CHECK(false, "allocate key array");
        return;
    }
    bool all_pass = true;
    int counts[62] = {0};
    for (int i = 0; i < N; i++) {
        if (!hub_apikey_generate(keys[i]) || !check_str(keys[i]))
            all_pass = false;
        for (int j = 4; j < 44; j++) {
            const char *p = strchr(alphabet, keys[i][j]);
            if (p != NULL && *p != '\0')
                counts[p - alphabet]++;
        }
    }
    TAP_CHECK(all_pass, "1000 generated keys all pass the check");
    qsort(keys, N, sizeof(*keys), cmp_keys);
    bool distinct = true;
    for (int i = 1; i < N; i++) {
        if (memcmp(keys[i - 1], keys[i], HUB_APIKEY_LEN) == 0)
            distinct = false;
    }
    TAP_CHECK(distinct, "1000 generated keys are all distinct");

    /* 40000 draws, 645 expected per character; a biased or broken sampler (e.g. one that
     * never emits some characters) lands far outside this wide band. */
    bool spread = true;
    for (int c = 0; c < 62; c++) {
        if (counts[c] < 450 || counts[c] > 850) {
            printf("# char %c seen %d times\n", alphabet[c], counts[c]);
            spread = false;
        }
    }
    TAP_CHECK(spread, "every base62 character appears at a plausible rate");
    free(keys);
}

static void test_check(void)
{
    char key[HUB_APIKEY_LEN + 1];
    char buf[HUB_APIKEY_LEN + 8];

    for (size_t i = 0; i < sizeof(known_good) / sizeof(known_good[0]); i++)
        TAP_CHECK(check_str(known_good[i]), "known-answer key (zlib crc32) passes");

    TAP_CHECK(hub_apikey_generate(key), "generate key for mutation tests");
    bool all_fail = true;
    for (size_t pos = 0; pos < HUB_APIKEY_LEN; pos++) {
        for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
            if (alphabet[a] == key[pos])
                continue;
            memcpy(buf, key, sizeof(key));
            buf[pos] = alphabet[a];
            if (hub_apikey_check(buf, HUB_APIKEY_LEN)) {
                printf("# accepted change at %zu to %c\n", pos, alphabet[a]);
                all_fail = false;
            }
        }
    }
    TAP_CHECK(all_fail, "every single-character change at every position fails the check");

    memcpy(buf, key, sizeof(key));
    memcpy(buf, "hab_", 4);
    TAP_CHECK(!check_str(buf), "wrong prefix fails");
    memcpy(buf, key, sizeof(key));
    memcpy(buf, "HUB_", 4);
    TAP_CHECK(!check_str(buf), "upper-case prefix fails");
    memcpy(buf, key, sizeof(key));
    memcpy(buf, "sk-_", 4);
    TAP_CHECK(!check_str(buf), "foreign prefix fails");

    TAP_CHECK(!hub_apikey_check(key, HUB_APIKEY_LEN - 1), "short (length 49) fails");
    TAP_CHECK(!hub_apikey_check(key, 0), "empty fails");
    TAP_CHECK(!hub_apikey_check(NULL, HUB_APIKEY_LEN), "NULL fails");
    TAP_CHECK(!check_str("hub_"), "prefix only fails");
    memcpy(buf, key, sizeof(key));
    buf[HUB_APIKEY_LEN] = 'A';
    buf[HUB_APIKEY_LEN + 1] = '\0';
    TAP_CHECK(!hub_apikey_check(buf, HUB_APIKEY_LEN + 1), "long (length 51) fails");

    const char bad_chars[] = {'-', '_', '+', '/', '=', ' ', '\n', '\0', '\x80', '\xff', '.'};
    bool bad_fail = true;
    for (size_t pos = 4; pos < HUB_APIKEY_LEN; pos++) {
        for (size_t c = 0; c < sizeof(bad_chars); c++) {
            memcpy(buf, key, sizeof(key));
            buf[pos] = bad_chars[c];
            if (hub_apikey_check(buf, HUB_APIKEY_LEN))
                bad_fail = false;
        }
    }
    TAP_CHECK(bad_fail, "non-alphabet characters fail at every position");

    /* Swapping two different adjacent random characters must also be caught. */
    bool swap_fail = true;
    for (size_t pos = 4; pos + 1 < 44; pos++) {
        if (key[pos] == key[pos + 1])
            continue;
        memcpy(buf, key, sizeof(key));
        buf[pos] = key[pos + 1];
        buf[pos + 1] = key[pos];
        if (hub_apikey_check(buf, HUB_APIKEY_LEN))
            swap_fail = false;
    }
    TAP_CHECK(swap_fail, "adjacent transpositions fail the check");
}

static void test_hash_display(void)
{
    char k1[HUB_APIKEY_LEN + 1], k2[HUB_APIKEY_LEN + 1];
    unsigned char h1[HUB_APIKEY_HASH_LEN], h1b[HUB_APIKEY_HASH_LEN], h2[HUB_APIKEY_HASH_LEN];
    char shown[HUB_APIKEY_SHOWN + 1];

    TAP_CHECK(hub_apikey_generate(k1) && hub_apikey_generate(k2), "generate two keys");
    hub_apikey_hash(k1, strlen(k1), h1);
    hub_apikey_hash(k1, strlen(k1), h1b);
    hub_apikey_hash(k2, strlen(k2), h2);
    TAP_CHECK(memcmp(h1, h1b, sizeof(h1)) == 0, "hash is deterministic");
    TAP_CHECK(memcmp(h1, h2, sizeof(h1)) != 0, "hashes of different keys differ");
    TAP_CHECK(hub_apikey_hash_equal(h1, h1b), "hash_equal true for equal hashes");
    TAP_CHECK(!hub_apikey_hash_equal(h1, h2), "hash_equal false for different hashes");
    h1b[HUB_APIKEY_HASH_LEN - 1] ^= 1;
    TAP_CHECK(!hub_apikey_hash_equal(h1, h1b), "hash_equal false when last byte differs");

    /* SHA-256("abc"), FIPS 180-2 test vector. */
    static const unsigned char abc[HUB_APIKEY_HASH_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char habc[HUB_APIKEY_HASH_LEN];
    hub_apikey_hash("abc", 3, habc);
    TAP_CHECK(memcmp(habc, abc, sizeof(abc)) == 0, "hash is SHA-256 (abc test vector)");

    hub_apikey_display(k1, shown);
    TAP_CHECK(strlen(shown) == 12 && memcmp(shown, k1, 12) == 0,
              "display prefix is the first 12 chars");
    TAP_CHECK(strncmp(shown, "hub_", 4) == 0, "display prefix starts with hub_");
    hub_apikey_display("hub_ab", shown);
    TAP_CHECK(strcmp(shown, "hub_ab") == 0, "display of a short string copies what is there");
}

int main(void)
{
    test_generate();
    test_check();
    test_hash_display();
    return tap_done();
}
