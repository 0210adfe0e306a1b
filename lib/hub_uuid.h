/*
 * hub_uuid.h — random (version 4) UUIDs for request ids.
 */
#ifndef HUB_UUID_H
#define HUB_UUID_H

#include <stdbool.h>

#define HUB_UUID_LEN 36

/* Writes a new lower-case UUIDv4 into out (37 bytes). */
bool hub_uuid_v4(char out[HUB_UUID_LEN + 1]);

#endif
