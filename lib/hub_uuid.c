/*
 * hub_uuid.c — UUIDv4 request ids. Each thread seeds a xoshiro256** generator once from
 * OpenSSL's CSPRNG and draws from it: ids must be unique, not secret (they are shown to
 * clients), and RAND_bytes per request costs more than the rest of the id.
 */
#include "hub_uuid.h"

#include "hub_crypto.h"

#include <stdint.h>
#include <stdio.h>

static _Thread_local uint64_t st[4];
static _Thread_local int seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(void)
{
    uint64_t r = rotl(st[1] * 5, 7) * 9;
    uint64_t t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    return r;
}

bool hub_uuid_v4(char out[HUB_UUID_LEN + 1])
{
    if (!seeded) {
        if (!hub_random_bytes(st, sizeof(st)))
            return false;
        if ((st[0] | st[1] | st[2] | st[3]) == 0)
            st[0] = 1;
        seeded = 1;
    }
    uint64_t a = next(), b = next();
    unsigned char r[16];
    for (int i = 0; i < 8; i++) {
        r[i] = (unsigned char)(a >> (8 * i));
        r[8 + i] = (unsigned char)(b >> (8 * i));
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hx[r[i] >> 4];
        out[o++] = hx[r[i] & 15];
    }
    out[o] = '\0';
    return true;
}
