/*
 * hub_crypto.c — sealing secrets at rest and the master keyring (see hub_crypto.h).
 *
 * Secrets (provider credentials, the OAuth client secret) are sealed with AES-256-GCM
 * through OpenSSL 3 EVP: a fresh 12-byte random nonce per seal, the row's purpose and id
 * as associated data, and the 16-byte tag appended. Opening fails closed on an unknown
 * key id, a wrong associated data, a short blob or any flipped byte.
 *
 * The keyring is a small text file of "ID:HEX64" lines. Loading reads it in one go from
 * an opened descriptor (so the permission check and the read see the same file), parses
 * it strictly and wipes every buffer that held key bytes. Error messages name the file
 * and line, never key material. Saving writes a 0600 temp file, fsyncs it and renames it
 * over the old one so a crash leaves either the old or the new keyring, never half of one.
 */
#include "hub_crypto.h"

#include "hub_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* A keyring holds at most 16 keys of ~80 bytes per line; anything far larger is not one. */
#define KEYRING_MAX_FILE (64 * 1024)
/* "ID:HEX64\n": ID up to 10 digits. */
#define KEYRING_LINE_MAX (10 + 1 + 2 * HUB_KEY_BYTES + 1)

static void set_err(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
    if (err == NULL || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* ---- random bytes and hex ------------------------------------------------------------- */

bool hub_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1)
            return false;
        p += chunk;
        n -= (size_t)chunk;
    }
    return true;
}

void hub_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* ---- keyring in memory ---------------------------------------------------------------- */

const hub_master_key *hub_keyring_current(const hub_keyring *kr)
{
    const hub_master_key *best = NULL;
    if (kr == NULL)
        return NULL;
    for (int i = 0; i < kr->n && i < HUB_KEYRING_MAX; i++) {
        if (best == NULL || kr->keys[i].id > best->id)
            best = &kr->keys[i];
    }
    return best;
}

const hub_master_key *hub_keyring_find(const hub_keyring *kr, int id)
{
    if (kr == NULL || id <= 0)
        return NULL;
    for (int i = 0; i < kr->n && i < HUB_KEYRING_MAX; i++) {
        if (kr->keys[i].id == id)
            return &kr->keys[i];
    }
    return NULL;
}

void hub_keyring_wipe(hub_keyring *kr)
{
    if (kr == NULL)
        return;
    OPENSSL_cleanse(kr, sizeof(*kr));
    kr->n = 0;
}

int hub_keyring_generate(hub_keyring *kr)
{
    if (kr == NULL || kr->n < 0 || kr->n >= HUB_KEYRING_MAX)
        return -1;
    const hub_master_key *cur = hub_keyring_current(kr);
    int max_id = cur != NULL ? cur->id : 0;
    if (max_id == INT_MAX)
        return -1;
    hub_master_key *slot = &kr->keys[kr->n];
    if (!hub_random_bytes(slot->key, sizeof(slot->key))) {
        OPENSSL_cleanse(slot, sizeof(*slot));
        return -1;
    }
    slot->id = max_id + 1;
    kr->n++;
    return slot->id;
}

/* ---- keyring file: load --------------------------------------------------------------- */

/* Parses one line (len bytes, no newline) into out. Returns 1 for a key, 0 for a blank or
 * comment line, -1 when malformed. Key bytes land only in out. */
static int parse_key_line(const char *line, size_t len, hub_master_key *out)
{
    size_t i = 0;
    /* Trailing whitespace (including a CR from a CRLF file) is tolerated. */
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#')
        return 0;

    int id = 0;
    size_t digits = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9') {
        int d = line[i] - '0';
        if (id > (INT_MAX - d) / 10)
            return -1;
        id = id * 10 + d;
        digits++;
        i++;
    }
    if (digits == 0 || id <= 0)
        return -1;
    if (i >= len || line[i] != ':')
        return -1;
    i++;
    if (len - i != 2 * HUB_KEY_BYTES)
        return -1;
    for (size_t k = 0; k < HUB_KEY_BYTES; k++) {
        int hi = hub_hex_digit((unsigned char)line[i + 2 * k]);
        int lo = hub_hex_digit((unsigned char)line[i + 2 * k + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out->key[k] = (unsigned char)((hi << 4) | lo);
    }
    out->id = id;
    return 1;
}

/* Parses the whole file text (len bytes) into kr. */
static bool parse_keyring(const char *text, size_t len, const char *path, hub_keyring *kr,
                          char *err, size_t errsz)
{
    size_t pos = 0;
    int lineno = 0;
    hub_master_key tmp;
    bool rc = false;

    kr->n = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl != NULL ? 1 : 0);
        lineno++;

        if (memchr(line, '\0', llen) != NULL) {
            set_err(err, errsz, "keyring %s line %d: NUL byte", path, lineno);
            goto end;
        }
        int r = parse_key_line(line, llen, &tmp);
        if (r == 0)
            continue;
        if (r < 0) {
            set_err(err, errsz, "keyring %s line %d: malformed (expected ID:HEX64)", path, lineno);
            goto end;
        }
        if (hub_keyring_find(kr, tmp.id) != NULL) {
            set_err(err, errsz, "keyring %s line %d: duplicate key id %d", path, lineno, tmp.id);
            goto end;
        }
        if (kr->n >= HUB_KEYRING_MAX) {
            set_err(err, errsz, "keyring %s line %d: more than %d keys", path, lineno,
                    HUB_KEYRING_MAX);
            goto end;
        }
        kr->keys[kr->n] = tmp;
        kr->n++;
    }
    if (kr->n == 0) {
        set_err(err, errsz, "keyring %s: no keys", path);
        goto end;
    }
    rc = true;
end:
    OPENSSL_cleanse(&tmp, sizeof(tmp));
    return rc;
}

bool hub_keyring_load(hub_keyring *kr, const char *path, bool strict_mode, char *err, size_t errsz)
{
    bool rc = false;
    int fd = -1;
    char *text = NULL; /* owned: file contents (key material), cleansed and freed at end */
    size_t tlen = 0;
    hub_keyring tmp;
    struct stat st;

    memset(&tmp, 0, sizeof(tmp));
    if (kr == NULL || path == NULL) {
        set_err(err, errsz, "keyring: invalid argument");
        goto end;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        set_err(err, errsz, "keyring %s: %s", path, strerror(errno));
        goto end;
    }
    if (fstat(fd, &st) != 0) {
        set_err(err, errsz, "keyring %s: %s", path, strerror(errno));
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errsz, "keyring %s: not a regular file", path);
        goto end;
    }
    /* Deployment shares the key with a "hub" group at 0640: refuse any permission for
     * others and any write permission beyond the owner. */
    if (strict_mode && ((st.st_mode & 007) != 0 || (st.st_mode & 022) != 0)) {
        set_err(err, errsz,
                "keyring %s: mode %04o is too open (others must have no access, only the "
                "owner may write; use 0600 or 0640)",
                path, (unsigned)(st.st_mode & 07777));
        goto end;
    }
    if (st.st_size > KEYRING_MAX_FILE) {
        set_err(err, errsz, "keyring %s: file too large", path);
        goto end;
    }
    text = malloc(KEYRING_MAX_FILE + 1);
    if (text == NULL) {
        set_err(err, errsz, "keyring %s: out of memory", path);
        goto end;
    }
    for (;;) {
        ssize_t r = read(fd, text + tlen, KEYRING_MAX_FILE + 1 - tlen);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_err(err, errsz, "keyring %s: %s", path, strerror(errno));
            goto end;
        }
        if (r == 0)
            break;
        tlen += (size_t)r;
        if (tlen > KEYRING_MAX_FILE) {
            set_err(err, errsz, "keyring %s: file too large", path);
            goto end;
        }
    }
    if (!parse_keyring(text, tlen, path, &tmp, err, errsz))
        goto end;
    *kr = tmp;
    rc = true;
end:
    if (!rc && kr != NULL)
        hub_keyring_wipe(kr);
    OPENSSL_cleanse(&tmp, sizeof(tmp));
    if (text != NULL) {
        OPENSSL_cleanse(text, KEYRING_MAX_FILE + 1);
        free(text);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- keyring file: save --------------------------------------------------------------- */

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return false;
        if (w == 0) {
            errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Best effort: makes the rename durable by syncing the directory that holds path. */
static void sync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        memcpy(dir, ".", 2);
    } else if (slash == path) {
        memcpy(dir, "/", 2);
    } else {
        size_t dlen = (size_t)(slash - path);
        if (dlen >= sizeof(dir))
            return;
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    (void)fsync(dfd);
    close(dfd);
}

bool hub_keyring_save(const hub_keyring *kr, const char *path, char *err, size_t errsz)
{
    bool rc = false;
    bool tmp_created = false;
    int fd = -1;
    char tmp_path[PATH_MAX];
    /* Holds every line of the file; cleansed at end. */
    char text[64 + HUB_KEYRING_MAX * (KEYRING_LINE_MAX + 1)];
    char hex[2 * HUB_KEY_BYTES + 1];
    size_t tlen = 0;
    int n;
    int cr;

    if (kr == NULL || path == NULL || kr->n <= 0 || kr->n > HUB_KEYRING_MAX) {
        set_err(err, errsz, "keyring: nothing to save");
        goto end;
    }
    n = snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp_path)) {
        set_err(err, errsz, "keyring: path too long");
        goto end;
    }
    n = snprintf(text, sizeof(text), "# hub master keyring: ID:HEX64, highest id seals\n");
    if (n < 0 || (size_t)n >= sizeof(text)) {
        set_err(err, errsz, "keyring: internal buffer too small");
        goto end;
    }
    tlen = (size_t)n;
    for (int i = 0; i < kr->n; i++) {
        const hub_master_key *k = &kr->keys[i];
        if (k->id <= 0 || hub_keyring_find(kr, k->id) != k) {
            set_err(err, errsz, "keyring: invalid or duplicate key id %d", k->id);
            goto end;
        }
        hub_hex(k->key, sizeof(k->key), hex);
        n = snprintf(text + tlen, sizeof(text) - tlen, "%d:%s\n", k->id, hex);
        if (n < 0 || (size_t)n >= sizeof(text) - tlen) {
            set_err(err, errsz, "keyring: internal buffer too small");
            goto end;
        }
        tlen += (size_t)n;
    }

    if (unlink(tmp_path) != 0 && errno != ENOENT) {
        set_err(err, errsz, "keyring %s: cannot remove stale temp file: %s", tmp_path,
                strerror(errno));
        goto end;
    }
    fd = open(tmp_path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        set_err(err, errsz, "keyring %s: %s", tmp_path, strerror(errno));
        goto end;
    }
    tmp_created = true;
    if (!write_all(fd, text, tlen)) {
        set_err(err, errsz, "keyring %s: write failed: %s", tmp_path, strerror(errno));
        goto end;
    }
    if (fsync(fd) != 0) {
        set_err(err, errsz, "keyring %s: fsync failed: %s", tmp_path, strerror(errno));
        goto end;
    }
    cr = close(fd);
    fd = -1;
    if (cr != 0) {
        set_err(err, errsz, "keyring %s: close failed: %s", tmp_path, strerror(errno));
        goto end;
    }
    if (rename(tmp_path, path) != 0) {
        set_err(err, errsz, "keyring %s: rename failed: %s", path, strerror(errno));
        goto end;
    }
    tmp_created = false;
    sync_parent_dir(path);
    rc = true;
end:
    if (fd >= 0)
        close(fd);
    if (tmp_created)
        unlink(tmp_path);
    OPENSSL_cleanse(text, sizeof(text));
    OPENSSL_cleanse(hex, sizeof(hex));
    return rc;
}

/* ---- seal / open ---------------------------------------------------------------------- */

bool hub_seal(const hub_keyring *kr, const char *aad, const unsigned char *plain, size_t plen,
              unsigned char **out, size_t *outlen, int *key_id)
{
    bool rc = false;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *blob = NULL; /* owned until handed to *out */
    const hub_master_key *k;
    unsigned char *nonce;
    unsigned char *ct;
    unsigned char *tag;
    size_t alen;
    int len = 0;

    if (out != NULL)
        *out = NULL;
    if (kr == NULL || aad == NULL || out == NULL || outlen == NULL || key_id == NULL)
        goto end;
    if (plain == NULL && plen != 0)
        goto end;
    alen = strlen(aad);
    if (plen > (size_t)INT_MAX - HUB_SEAL_OVERHEAD || alen > (size_t)INT_MAX)
        goto end;
    k = hub_keyring_current(kr);
    if (k == NULL)
        goto end;

    blob = malloc(plen + HUB_SEAL_OVERHEAD);
    if (blob == NULL)
        goto end;
    nonce = blob;
    ct = blob + HUB_NONCE_BYTES;
    tag = ct + plen;
    if (!hub_random_bytes(nonce, HUB_NONCE_BYTES))
        goto end;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto end;
    if (EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), k->key, nonce, NULL) != 1)
        goto end;
    if (alen > 0 && EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)alen) != 1)
        goto end;
    if (plen > 0) {
        if (EVP_EncryptUpdate(ctx, ct, &len, plain, (int)plen) != 1 || (size_t)len != plen)
            goto end;
    }
    if (EVP_EncryptFinal_ex(ctx, ct + plen, &len) != 1 || len != 0)
        goto end;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, HUB_TAG_BYTES, tag) != 1)
        goto end;

    *out = blob;
    blob = NULL;
    *outlen = plen + HUB_SEAL_OVERHEAD;
    *key_id = k->id;
    rc = true;
end:
    EVP_CIPHER_CTX_free(ctx);
    if (blob != NULL) {
        OPENSSL_cleanse(blob, plen + HUB_SEAL_OVERHEAD);
        free(blob);
    }
    return rc;
}

bool hub_open(const hub_keyring *kr, int key_id, const char *aad, const unsigned char *blob,
              size_t blen, char **out, size_t *outlen)
{
    bool rc = false;
    EVP_CIPHER_CTX *ctx = NULL;
    char *plain = NULL; /* owned until handed to *out; cleansed on failure */
    const hub_master_key *k;
    const unsigned char *ct;
    unsigned char tag[HUB_TAG_BYTES];
    size_t clen = 0;
    size_t alen;
    int len = 0;

    if (out != NULL)
        *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (kr == NULL || aad == NULL || blob == NULL || out == NULL || outlen == NULL)
        goto end;
    if (blen < HUB_SEAL_OVERHEAD || blen > (size_t)INT_MAX)
        goto end;
    alen = strlen(aad);
    if (alen > (size_t)INT_MAX)
        goto end;
    k = hub_keyring_find(kr, key_id);
    if (k == NULL)
        goto end;

    clen = blen - HUB_SEAL_OVERHEAD;
    ct = blob + HUB_NONCE_BYTES;
    memcpy(tag, ct + clen, HUB_TAG_BYTES);

    plain = malloc(clen + 1);
    if (plain == NULL)
        goto end;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto end;
    if (EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), k->key, blob, NULL) != 1)
        goto end;
    if (alen > 0 && EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)alen) != 1)
        goto end;
    if (clen > 0) {
        if (EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len, ct, (int)clen) != 1 ||
            (size_t)len != clen)
            goto end;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, HUB_TAG_BYTES, tag) != 1)
        goto end;
    /* The tag check: anything but a positive result means the blob is not authentic. */
    if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + clen, &len) <= 0)
        goto end;
    plain[clen] = '\0';

    *out = plain;
    plain = NULL;
    *outlen = clen;
    rc = true;
end:
    EVP_CIPHER_CTX_free(ctx);
    if (plain != NULL) {
        OPENSSL_cleanse(plain, clen + 1);
        free(plain);
    }
    return rc;
}

void hub_secret_free(char *s, size_t len)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, len);
    free(s);
}
