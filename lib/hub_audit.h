/*
 * hub_audit.h — the tamper-evident audit log. Every change made through the pages or
 * hubctl appends one row: who, when, via what, action, target, before → after (JSON; secret
 * fields are never passed in: callers write "(sealed)" or a display prefix instead). Each
 * row's hash is SHA-256 over the previous row's hash and the row's canonical text, so
 * editing, deleting or reordering rows is detected by hub_audit_verify.
 */
#ifndef HUB_AUDIT_H
#define HUB_AUDIT_H

#include "hub_db.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Appends a row. Call it inside the caller's transaction, after the change, so the change
 * and its audit row commit together (it locks the chain's last row: appends serialise).
 * before/after may be NULL. via: "pages" or "hubctl".
 */
bool hub_audit_log(hub_db *db, const char *actor, const char *via, const char *action,
                   const char *target_type, const char *target, const char *before_json,
                   const char *after_json);

/* Recomputes the chain. *rows gets the rows checked; on a break *bad_id gets the first bad
 * row's id and msg says why. */
bool hub_audit_verify(hub_db *db, long long *rows, long long *bad_id, char *msg, size_t msgsz);

#endif
