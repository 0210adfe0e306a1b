/*
 * test_crypto.c — unit tests for hub_crypto: AES-256-GCM sealing and the master keyring.
 *
 * Covers the round trip, refusal of every single-byte tamper, of swapped rows (wrong
 * associated data), of wrong or unknown key ids and of truncated blobs; nonce freshness;
 * keyring save/load in a private temp dir (file mode, strict-mode permission rules,
 * malformed lines) and a key-rotation scenario. Prints TAP lines (tap.h).
 */
#include "hub_buf.h"
#include "hub_crypto.h"
#include "hub_prompt.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

/* Joins tmpdir and name into out (size outsz). */
static void tmp_path(char *out, size_t outsz, const char *name)
{
    snprintf(out, outsz, "%s/%s", tmpdir, name);
}

/* Writes text to path with exactly the given mode (fchmod, so umask does not matter). */
static bool write_file(const char *path, const char *text, mode_t mode)
{
    bool rc = false;
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0)
        return false;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n)
        goto end;
    if (fchmod(fd, mode) != 0)
        goto end;
    rc = true;
end:
    close(fd);
    return rc;
}

/* A keyring with one key of id 1. */
static void ring_with_one_key(hub_keyring *kr)
{
    memset(kr, 0, sizeof(*kr));
    if (hub_keyring_generate(kr) != 1)
        kr->n = 0;
}

/* Seals "secret" under aad; returns whether it worked. *blob is malloc'd. */
static bool seal_str(const hub_keyring *kr, const char *aad, const char *s, unsigned char **blob,
                     size_t *blen, int *kid)
{
    return hub_seal(kr, aad, (const unsigned char *)s, strlen(s), blob, blen, kid);
}

/* True when blob opens under (kid, aad) to exactly want. */
static bool opens_to(const hub_keyring *kr, int kid, const char *aad, const unsigned char *blob,
                     size_t blen, const char *want)
{
    char *out = NULL;
    size_t olen = 0;
    bool ok = hub_open(kr, kid, aad, blob, blen, &out, &olen);
    bool same = ok && olen == strlen(want) && memcmp(out, want, olen) == 0 && out[olen] == '\0';
    if (!ok && out != NULL)
        return false; /* a failed open must not hand out a buffer */
    hub_secret_free(out, olen);
    return same;
}

/* True when opening fails and leaves *out NULL. */
static bool refused(const hub_keyring *kr, int kid, const char *aad, const unsigned char *blob,
                    size_t blen)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    size_t olen = 99;
    bool ok = hub_open(kr, kid, aad, blob, blen, &out, &olen);
    if (ok) {
        hub_secret_free(out, olen);
        return false;
    }
    return out == NULL;
}

static void test_seal_open(void)
{
    hub_keyring kr;
    unsigned char *blob = NULL;
    unsigned char *blob2 = NULL;
    unsigned char *blob3 = NULL;
    size_t blen = 0, blen2 = 0, blen3 = 0;
    int kid = 0, kid2 = 0, kid3 = 0;
    const char *secret = "sk-test-0123456789abcdef";

    ring_with_one_key(&kr);
    TAP_CHECK(kr.n == 1 && kr.keys[0].id == 1, "generate on empty ring gives id 1");
    TAP_CHECK(seal_str(&kr, "credential:1", secret, &blob, &blen, &kid), "seal succeeds");
    TAP_CHECK(blen == strlen(secret) + HUB_SEAL_OVERHEAD, "blob length is plen + overhead");
    TAP_CHECK(kid == 1, "seal reports key id 1");
    TAP_CHECK(opens_to(&kr, kid, "credential:1", blob, blen, secret), "round trip");

    bool all = true;
    for (size_t i = 0; i < blen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            blob[i] ^= (unsigned char)(1u << bit);
            if (!refused(&kr, kid, "credential:1", blob, blen))
                all = false;
            blob[i] ^= (unsigned char)(1u << bit);
        }
    }
    TAP_CHECK(all, "every single-bit flip in nonce, ciphertext and tag is refused");
    all = true;
    for (size_t i = 0; i < blen; i++) {
        blob[i] ^= 0xff;
        if (!refused(&kr, kid, "credential:1", blob, blen))
            all = false;
        blob[i] ^= 0xff;
    }
    TAP_CHECK(all, "every whole-byte tamper is refused");
    blob[0] ^= 1;
    TAP_CHECK(refused(&kr, kid, "credential:1", blob, blen), "nonce tamper refused");
    blob[0] ^= 1;
    blob[HUB_NONCE_BYTES] ^= 1;
    TAP_CHECK(refused(&kr, kid, "credential:1", blob, blen), "ciphertext tamper refused");
    blob[HUB_NONCE_BYTES] ^= 1;
    blob[blen - 1] ^= 1;
    TAP_CHECK(refused(&kr, kid, "credential:1", blob, blen), "tag tamper refused");
    blob[blen - 1] ^= 1;
    TAP_CHECK(opens_to(&kr, kid, "credential:1", blob, blen, secret), "restored blob opens");

    TAP_CHECK(seal_str(&kr, "credential:2", "other-secret", &blob2, &blen2, &kid2),
              "seal second row");
    TAP_CHECK(refused(&kr, kid, "credential:2", blob, blen), "row 1 blob refused as row 2");
    TAP_CHECK(refused(&kr, kid2, "credential:1", blob2, blen2), "row 2 blob refused as row 1");
    TAP_CHECK(refused(&kr, kid, "credential:1x", blob, blen), "aad with suffix refused");
    TAP_CHECK(refused(&kr, kid, "", blob, blen), "empty aad refused");

    TAP_CHECK(refused(&kr, 2, "credential:1", blob, blen), "unknown key id refused");
    TAP_CHECK(refused(&kr, 0, "credential:1", blob, blen), "key id 0 refused");
    TAP_CHECK(refused(&kr, -1, "credential:1", blob, blen), "negative key id refused");

    hub_keyring other;
    ring_with_one_key(&other);
    TAP_CHECK(refused(&other, kid, "credential:1", blob, blen),
              "same id, different key (not in ring) refused");
    hub_keyring empty;
    memset(&empty, 0, sizeof(empty));
    TAP_CHECK(refused(&empty, kid, "credential:1", blob, blen), "empty ring refused");

    bool trunc_all = true;
    for (size_t n = 0; n < blen; n++) {
        if (!refused(&kr, kid, "credential:1", blob, n))
            trunc_all = false;
    }
    TAP_CHECK(trunc_all, "every truncation refused");
    TAP_CHECK(refused(&kr, kid, "credential:1", blob, HUB_SEAL_OVERHEAD - 1),
              "blob shorter than overhead refused");

    TAP_CHECK(seal_str(&kr, "credential:1", secret, &blob3, &blen3, &kid3), "seal again");
    TAP_CHECK(blen3 == blen && memcmp(blob3, blob, HUB_NONCE_BYTES) != 0,
              "two seals use different nonces");
    TAP_CHECK(memcmp(blob3, blob, blen) != 0, "two seals of same plaintext differ");

    unsigned char *eb = NULL;
    size_t elen = 0;
    int ekid = 0;
    char *eout = NULL;
    size_t eolen = 99;
    TAP_CHECK(hub_seal(&kr, "credential:9", NULL, 0, &eb, &elen, &ekid), "seal empty plaintext");
    TAP_CHECK(elen == HUB_SEAL_OVERHEAD, "empty plaintext blob is overhead only");
    TAP_CHECK(hub_open(&kr, ekid, "credential:9", eb, elen, &eout, &eolen) && eolen == 0 &&
                  eout != NULL && eout[0] == '\0',
              "empty plaintext round trip");
    hub_secret_free(eout, eolen);
    if (eb != NULL)
        eb[elen - 1] ^= 1;
    TAP_CHECK(eb != NULL && refused(&kr, ekid, "credential:9", eb, elen),
              "empty plaintext tag tamper refused");

    unsigned char *nb = NULL;
    size_t nlen = 0;
    int nkid = 0;
    TAP_CHECK(!hub_seal(&empty, "credential:1", (const unsigned char *)"x", 1, &nb, &nlen, &nkid) &&
                  nb == NULL,
              "seal with empty ring fails");
    TAP_CHECK(!hub_seal(&kr, NULL, (const unsigned char *)"x", 1, &nb, &nlen, &nkid),
              "seal without aad fails");

    free(blob);
    free(blob2);
    free(blob3);
    free(eb);
    hub_keyring_wipe(&kr);
    hub_keyring_wipe(&other);
    unsigned char zero[HUB_KEY_BYTES] = {0};
    TAP_CHECK(kr.n == 0 && memcmp(kr.keys[0].key, zero, HUB_KEY_BYTES) == 0,
              "wipe zeroes key material");
}

static void test_rotation(void)
{
    hub_keyring kr;
    unsigned char *old_blob = NULL;
    unsigned char *new_blob = NULL;
    size_t old_len = 0, new_len = 0;
    int old_kid = 0, new_kid = 0;

    ring_with_one_key(&kr);
    TAP_CHECK(seal_str(&kr, "settings:oauth", "client-secret", &old_blob, &old_len, &old_kid) &&
                  old_kid == 1,
              "rotation: seal with key 1");
    TAP_CHECK(hub_keyring_generate(&kr) == 2, "rotation: generate gives id 2");
    TAP_CHECK(hub_keyring_current(&kr) != NULL && hub_keyring_current(&kr)->id == 2,
              "rotation: current key is 2");
    TAP_CHECK(opens_to(&kr, 1, "settings:oauth", old_blob, old_len, "client-secret"),
              "rotation: old blob still opens with id 1");
    TAP_CHECK(refused(&kr, 2, "settings:oauth", old_blob, old_len),
              "rotation: old blob does not open with id 2");
    TAP_CHECK(seal_str(&kr, "settings:oauth", "client-secret", &new_blob, &new_len, &new_kid) &&
                  new_kid == 2,
              "rotation: new seal uses id 2");
    TAP_CHECK(opens_to(&kr, 2, "settings:oauth", new_blob, new_len, "client-secret"),
              "rotation: new blob opens with id 2");
    TAP_CHECK(hub_keyring_find(&kr, 1) != NULL && hub_keyring_find(&kr, 3) == NULL, "find by id");

    /* Current is the highest id even when it is not the last entry. */
    hub_keyring odd;
    memset(&odd, 0, sizeof(odd));
    odd.keys[0].id = 7;
    odd.keys[1].id = 3;
    odd.n = 2;
    TAP_CHECK(hub_keyring_current(&odd) == &odd.keys[0], "current is highest id, not last");
    TAP_CHECK(hub_keyring_generate(&odd) == 8, "generate after max id 7 gives 8");

    bool full_ok = true;
    while (kr.n < HUB_KEYRING_MAX) {
        if (hub_keyring_generate(&kr) < 0)
            full_ok = false;
    }
    TAP_CHECK(full_ok && hub_keyring_generate(&kr) == -1 && kr.n == HUB_KEYRING_MAX,
              "generate fails (-1) when ring is full");
    free(old_blob);
    free(new_blob);
    hub_keyring_wipe(&kr);
    hub_keyring_wipe(&odd);
}

static void test_keyring_files(void)
{
    hub_keyring kr, loaded;
    char path[128], tmp[128], bad[128];
    char err[256];
    struct stat st;

    tmp_path(path, sizeof(path), "keyring");
    tmp_path(tmp, sizeof(tmp), "keyring.tmp");
    tmp_path(bad, sizeof(bad), "bad");
    ring_with_one_key(&kr);
    hub_keyring_generate(&kr);
    hub_keyring_generate(&kr);

    /* A stale temp file from a crashed save must not block the next save. */
    TAP_CHECK(write_file(tmp, "stale", 0644), "create stale temp file");
    err[0] = '\0';
    TAP_CHECK(hub_keyring_save(&kr, path, err, sizeof(err)), "save keyring");
    TAP_CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "saved keyring has mode 0600");
    TAP_CHECK(access(tmp, F_OK) != 0, "no temp file left after save");

    memset(&loaded, 0xAB, sizeof(loaded));
    TAP_CHECK(hub_keyring_load(&loaded, path, true, err, sizeof(err)),
              "load saved keyring (strict)");
    bool same = loaded.n == kr.n;
    for (int i = 0; same && i < kr.n; i++) {
        const hub_master_key *k = hub_keyring_find(&loaded, kr.keys[i].id);
        same = k != NULL && memcmp(k->key, kr.keys[i].key, HUB_KEY_BYTES) == 0;
    }
    TAP_CHECK(same, "save/load round trip keeps ids and keys");

    /* Blob sealed before save opens with the loaded ring. */
    unsigned char *blob = NULL;
    size_t blen = 0;
    int kid = 0;
    TAP_CHECK(seal_str(&kr, "credential:5", "abc", &blob, &blen, &kid) &&
                  opens_to(&loaded, kid, "credential:5", blob, blen, "abc"),
              "blob sealed before save opens after load");
    free(blob);

    TAP_CHECK(chmod(path, 0644) == 0, "chmod 0644");
    TAP_CHECK(!hub_keyring_load(&loaded, path, true, err, sizeof(err)),
              "mode 0644 refused in strict mode");
    TAP_CHECK(loaded.n == 0, "failed load leaves an empty ring");
    TAP_CHECK(hub_keyring_load(&loaded, path, false, err, sizeof(err)),
              "mode 0644 accepted when not strict");
    TAP_CHECK(chmod(path, 0640) == 0 && hub_keyring_load(&loaded, path, true, err, sizeof(err)),
              "mode 0640 (hub group) accepted in strict mode");
    TAP_CHECK(chmod(path, 0660) == 0 && !hub_keyring_load(&loaded, path, true, err, sizeof(err)),
              "mode 0660 (group-writable) refused in strict mode");
    TAP_CHECK(chmod(path, 0604) == 0 && !hub_keyring_load(&loaded, path, true, err, sizeof(err)),
              "mode 0604 (others can read) refused in strict mode");
    TAP_CHECK(chmod(path, 0601) == 0 && !hub_keyring_load(&loaded, path, true, err, sizeof(err)),
              "mode 0601 (others can execute) refused in strict mode");
    TAP_CHECK(!hub_keyring_load(&loaded, tmpdir, false, err, sizeof(err)), "directory refused");
    TAP_CHECK(!hub_keyring_load(&loaded, bad, false, err, sizeof(err)), "missing file refused");

    const char *k64 = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    char good[512];
    snprintf(good, sizeof(good), "# comment\n\n  # indented comment\n1:%s\r\n\n3:%s  \n", k64, k64);
    TAP_CHECK(write_file(bad, good, 0600) && hub_keyring_load(&loaded, bad, true, err, sizeof(err)),
              "comments, blank lines, CRLF and trailing spaces accepted");
    TAP_CHECK(loaded.n == 2 && hub_keyring_current(&loaded) != NULL &&
                  hub_keyring_current(&loaded)->id == 3 && loaded.keys[0].key[0] == 0x00 &&
                  loaded.keys[0].key[1] == 0x11 && loaded.keys[0].key[31] == 0xff,
              "parsed ids and key bytes are right");

    struct {
        const char *text;
        const char *why;
    } cases[] = {
        {"1:00112233\n", "short hex"},
        {"1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\n", "long hex"},
        {"1:0011223344556677889Xaabbccddeeff00112233445566778899aabbccddeeff\n", "non-hex digit"},
        {"0:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", "id 0"},
        {"-1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", "negative id"},
        {"99999999999:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
         "id overflow"},
        {"x1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
         "id not a number"},
        {"1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", "missing colon"},
        {"1:00112233445566778899aabbccddeeff 00112233445566778899aabbccddeef\n", "space in hex"},
        {"# only a comment\n", "no keys"},
        {"", "empty file"},
    };
    bool all_refused = true;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!write_file(bad, cases[i].text, 0600) ||
            hub_keyring_load(&loaded, bad, true, err, sizeof(err))) {
            printf("# accepted: %s\n", cases[i].why);
            all_refused = false;
        }
    }
    TAP_CHECK(all_refused, "malformed keyring lines refused");

    snprintf(good, sizeof(good), "# header\n1:%s\n2:%s\n", k64, k64);
    TAP_CHECK(write_file(bad, good, 0600) && hub_keyring_load(&loaded, bad, true, err, sizeof(err)),
              "two keys with the same bytes but distinct ids load");
    snprintf(good, sizeof(good), "# header\n1:%s\n\n4:%szz\n", k64, k64);
    err[0] = '\0';
    TAP_CHECK(write_file(bad, good, 0600) &&
                  !hub_keyring_load(&loaded, bad, true, err, sizeof(err)),
              "malformed line 4 refused");
    TAP_CHECK(strstr(err, "line 4") != NULL, "error names the line number");
    TAP_CHECK(strstr(err, "00112233") == NULL && strstr(err, "aabbcc") == NULL,
              "error does not contain key bytes");
    printf("# error was: %s\n", err);
    snprintf(good, sizeof(good), "1:%s\n1:%s\n", k64, k64);
    TAP_CHECK(write_file(bad, good, 0600) &&
                  !hub_keyring_load(&loaded, bad, true, err, sizeof(err)),
              "duplicate key id refused");
    TAP_CHECK(strstr(err, "line 2") != NULL, "duplicate error names line 2");

    hub_keyring empty;
    memset(&empty, 0, sizeof(empty));
    TAP_CHECK(!hub_keyring_save(&empty, path, err, sizeof(err)), "saving an empty ring fails");

    unlink(path);
    unlink(bad);
    unlink(tmp);
    hub_keyring_wipe(&kr);
    hub_keyring_wipe(&loaded);
}

/* Prompt logging's pure helpers (hub_prompt.h): the UTF-8-safe cut and the request id check. */
static void test_prompt_helpers(void)
{
    const char *ascii = "abcdef";
    const char *e2 = "a\xc3\xa9"
                     "b"; /* a é b: é is 2 bytes at 1..2 */
    const char *e3 = "\xe2\x82\xac"
                     "x"; /* € is 3 bytes */
    const char *e4 = "\xf0\x9f\x98\x80"
                     "y";                              /* an emoji is 4 bytes */
    const char *junk = "\x80\x80\x80\x80\x80\x80\x80"; /* continuation bytes only */

    TAP_CHECK(hub_utf8_cut(ascii, 6, 10) == 6 && hub_utf8_cut(ascii, 6, 6) == 6 &&
                  hub_utf8_cut(ascii, 6, 4) == 4 && hub_utf8_cut(ascii, 6, 0) == 0,
              "prompt cut: ASCII is cut at max, a short body is kept whole");
    TAP_CHECK(hub_utf8_cut(e2, 4, 2) == 1 && hub_utf8_cut(e2, 4, 3) == 3 &&
                  hub_utf8_cut(e2, 4, 1) == 1,
              "prompt cut: never inside a 2-byte character");
    TAP_CHECK(hub_utf8_cut(e3, 4, 1) == 0 && hub_utf8_cut(e3, 4, 2) == 0 &&
                  hub_utf8_cut(e3, 4, 3) == 3,
              "prompt cut: never inside a 3-byte character");
    TAP_CHECK(hub_utf8_cut(e4, 5, 1) == 0 && hub_utf8_cut(e4, 5, 3) == 0 &&
                  hub_utf8_cut(e4, 5, 4) == 4,
              "prompt cut: never inside a 4-byte character");
    size_t j = hub_utf8_cut(junk, 7, 6);
    TAP_CHECK(j <= 6 && j >= 2, "prompt cut: invalid UTF-8 steps back at most 4 bytes");

    TAP_CHECK(hub_prompt_id_ok("0b6c1a5e-2f3d-4e7a-9b8c-1d2e3f4a5b6c") &&
                  hub_prompt_id_ok("0B6C1A5E-2F3D-4E7A-9B8C-1D2E3F4A5B6C"),
              "prompt id: a UUID is a request id");
    TAP_CHECK(!hub_prompt_id_ok(NULL) && !hub_prompt_id_ok("") &&
                  !hub_prompt_id_ok("0b6c1a5e-2f3d-4e7a-9b8c-1d2e3f4a5b6") &&
                  !hub_prompt_id_ok("0b6c1a5e-2f3d-4e7a-9b8c-1d2e3f4a5b6c0") &&
                  !hub_prompt_id_ok("0b6c1a5e-2f3d-4e7a-9b8c-1d2e3f4a5b6g") &&
                  !hub_prompt_id_ok("' OR 1=1 -- ------------------------"),
              "prompt id: wrong length, non-hex characters and SQL are refused");
}

int main(void)
{
    char hex[2 * 3 + 1];
    unsigned char in[3] = {0x00, 0xab, 0xff};
    unsigned char r1[32], r2[32];

    hub_hex(in, sizeof(in), hex);
    TAP_CHECK(strcmp(hex, "00abff") == 0, "hex encoding");
    TAP_CHECK(hub_random_bytes(r1, sizeof(r1)) && hub_random_bytes(r2, sizeof(r2)) &&
                  memcmp(r1, r2, sizeof(r1)) != 0,
              "random bytes differ");
    TAP_CHECK(hub_random_bytes(r1, 0), "zero random bytes is fine");

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hub-test-crypto-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        TAP_CHECK(false, "mkdtemp");
        return tap_done();
    }
    test_seal_open();
    test_rotation();
    test_keyring_files();
    test_prompt_helpers();
    TAP_CHECK(rmdir(tmpdir) == 0, "temp dir cleaned up");
    return tap_done();
}
