/*
 * hub_audit.h — the tamper-evident audit log. Every change made through the pages or
 * hubctl appends one row: who, when, via what, action, target, before → after (JSON; secret
 * fields are never passed in: callers write "(sealed)" or a display prefix instead). Each
 * row's hash is SHA-256 over the previous row's hash and the row's canonical text, so
 * editing, deleting or reordering rows is detected by hub_audit_verify.
 */
#ifndef HUB_AUDIT_H
#define HUB_AUDIT_H

#include "hub_buf.h"
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

/*
 * A small JSON object writer for the before/after values of audit rows, shared by hubctl
 * and the pages: keys are literals, values are escaped. Running out of memory is
 * remembered: hub_jobj_text then returns NULL.
 */
typedef struct {
    hub_buf b;
    bool oom;
    bool closed;
} hub_jobj;

void hub_jobj_begin(hub_jobj *j);
/* "key": "val" (NULL val: null). */
void hub_jobj_str(hub_jobj *j, const char *key, const char *val);
void hub_jobj_int(hub_jobj *j, const char *key, long long v);
void hub_jobj_bool(hub_jobj *j, const char *key, bool v);
/* "key": val, val already a JSON value (a number from MariaDB, ...); NULL val: null. */
void hub_jobj_raw(hub_jobj *j, const char *key, const char *val);
/* Columns 0..n-1 of row `row` of r as strings under keys (NULL cells: null); nothing when
 * r has no such row. */
void hub_jobj_row(hub_jobj *j, const hub_dbres *r, int row, const char *const *keys, int n);
/* Closes the object and returns its text, borrowed from j (valid until hub_jobj_free);
 * NULL when memory ran out while it was written. May be called again. */
const char *hub_jobj_text(hub_jobj *j);
/* Releases j; it may be begun again. */
void hub_jobj_free(hub_jobj *j);

#endif
