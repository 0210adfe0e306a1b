/*
 * hub_crypto.h — sealing secrets at rest with AES-256-GCM (OpenSSL EVP) and the master keyring.
 *
 * Keyring file format (mode 0600): one key per line, "ID:HEX64" where ID is a positive
 * integer and HEX64 is 32 random bytes in hex; '#' lines are comments. The key with the
 * highest ID is the current one (used to seal); the others only open older rows.
 *
 * Sealed blob layout: 12-byte random nonce || ciphertext || 16-byte tag. The key id is
 * stored beside the blob (its own DB column) and the associated data binds the blob to
 * its row and purpose, e.g. "credential:42", so swapping two rows' blobs fails to open.
 */
#ifndef HUB_CRYPTO_H
#define HUB_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HUB_KEY_BYTES     32
#define HUB_NONCE_BYTES   12
#define HUB_TAG_BYTES     16
#define HUB_SEAL_OVERHEAD (HUB_NONCE_BYTES + HUB_TAG_BYTES)
#define HUB_KEYRING_MAX   16

typedef struct {
    int id;
    unsigned char key[HUB_KEY_BYTES];
} hub_master_key;

typedef struct {
    hub_master_key keys[HUB_KEYRING_MAX];
    int n;
} hub_keyring;

/* Loads a keyring file. With strict_mode refuses a file that others may access or that
 * group/others may write (0600 and 0640 pass).
 * On failure returns false and writes a message (no key material) to err. */
bool hub_keyring_load(hub_keyring *kr, const char *path, bool strict_mode, char *err, size_t errsz);
/* Writes the keyring atomically (temp file + rename), mode 0600. */
bool hub_keyring_save(const hub_keyring *kr, const char *path, char *err, size_t errsz);
/* Appends a fresh random key with id = max id + 1; returns its id or -1. */
int hub_keyring_generate(hub_keyring *kr);
/* The current key (highest id) or NULL when empty. Borrowed. */
const hub_master_key *hub_keyring_current(const hub_keyring *kr);
const hub_master_key *hub_keyring_find(const hub_keyring *kr, int id);
/* Wipes key material. */
void hub_keyring_wipe(hub_keyring *kr);

/*
 * Seals plain (plen bytes) with the current key. aad is the associated data
 * (purpose + row id, e.g. "credential:42"). On success *out is a malloc'd blob of
 * *outlen = plen + HUB_SEAL_OVERHEAD bytes (caller frees) and *key_id the key used.
 */
bool hub_seal(const hub_keyring *kr, const char *aad, const unsigned char *plain, size_t plen,
              unsigned char **out, size_t *outlen, int *key_id);

/*
 * Opens a blob sealed under key_id with the same aad. On success *out is a malloc'd,
 * NUL-terminated plaintext of *outlen bytes (caller frees with hub_secret_free).
 * Fails (false) on unknown key id, wrong aad, or any tampering.
 */
bool hub_open(const hub_keyring *kr, int key_id, const char *aad, const unsigned char *blob,
              size_t blen, char **out, size_t *outlen);

/* Zeroes and frees a secret returned by hub_open. NULL is fine. */
void hub_secret_free(char *s, size_t len);

/* Fills buf with n cryptographically random bytes. */
bool hub_random_bytes(void *buf, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hub_hex(const unsigned char *in, size_t n, char *out);

#endif
