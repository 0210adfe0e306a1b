/*
 * hub_spool.h — the local, append-only usage spool and its drain to MariaDB.
 *
 * Every usage record is first appended (one write(2) per line, O_APPEND) to
 * SPOOL_DIR/active-<pid>.jsonl and synced to disk in small groups (hub_spool_sync).
 * The drain rotates the active file to ready-<pid>-<ms>-<seq>.jsonl and upserts each
 * ready file into usage_log in batches (INSERT … ON DUPLICATE KEY UPDATE on
 * request_id + attempt), deleting a file only after its rows are committed. A database
 * outage therefore loses nothing, and replaying a file never double-counts.
 * Files left by a process that died are picked up by the next drain of any process.
 */
#ifndef HUB_SPOOL_H
#define HUB_SPOOL_H

#include "hub_db.h"
#include "hub_usage.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hub_spool hub_spool;

/* Opens (creating dir, mode 0700) the spool. NULL + message on failure. */
hub_spool *hub_spool_open(const char *dir, char *err, size_t errsz);
void hub_spool_close(hub_spool *s);
/* Appends a record. Thread-safe. false when the disk refused the write. */
bool hub_spool_append(hub_spool *s, const hub_usage *u);
/* fdatasync the active file if anything was appended since the last sync. */
void hub_spool_sync(hub_spool *s);
/*
 * Rotates the active file (when not empty) and drains every ready file into the DB.
 * *rows gets the number of records written. Returns false when the DB failed (the
 * files stay and are retried later).
 */
bool hub_spool_drain(hub_spool *s, hub_db *db, long *rows);
/* Number of records appended but not yet drained (approximate; for health output). */
long hub_spool_backlog(hub_spool *s);

#endif
