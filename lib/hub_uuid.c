/*
 * hub_uuid.c — UUIDv4 from OpenSSL's CSPRNG.
 */
#include "hub_uuid.h"

#include "hub_crypto.h"

#include <stdio.h>

bool hub_uuid_v4(char out[HUB_UUID_LEN + 1])
{
    unsigned char r[16];
    if (!hub_random_bytes(r, sizeof(r)))
        return false;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, HUB_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    return true;
}
