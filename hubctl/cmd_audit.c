/*
 * cmd_audit.c — "hubctl audit verify|list": checking and reading the hash-chained audit log
 * that every change through the admin pages or hubctl appends to (hub_audit.h).
 *
 * verify recomputes the chain (hub_audit_verify) and names the first row that does not
 * match: an edited, deleted or reordered row breaks the chain from that point. list shows
 * the latest rows, oldest first, as a table or as JSON (util_out.c; the stored before/after
 * values are embedded as JSON when they are valid JSON, else as strings).
 */
#include "hubctl.h"

#include "hub_audit.h"
#include "hub_json.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

#define LIST_DEFAULT 50
#define LIST_MAX     100000

static const char VERIFY_HELP[] =
    "usage: hubctl audit verify [--anchor ID:HASH]\n\n"
    "Recomputes the hash chain of the audit log. Prints \"audit log intact: N rows\" and\n"
    "\"head: row ID sha256 HASH\" (the newest row) and exits 0, or \"audit log broken at row\n"
    "ID: REASON\" and exits 1 when a row was edited, deleted or reordered (ID is the first row\n"
    "whose hash does not match).\n\n"
    "The chain alone cannot show that its newest rows were cut off, or that someone with\n"
    "write access to the database rewrote all of it: keep the head line somewhere else (a\n"
    "ticket, a chat, a printout) and pass it back later:\n\n"
    "  --anchor ID:HASH  also require row ID to exist with exactly this hash (64 hex digits)\n";

static const char LIST_HELP[] =
    "usage: hubctl audit list [--limit N] [--actor ACTOR] [--format table|json]\n\n"
    "Shows the latest audit rows, oldest first: id, time (UTC), actor (\"hubctl:<OS user>\" or\n"
    "the page user), via (hubctl, pages), action, target and the values before and after\n"
    "(secrets appear only as \"" HC_SEALED "\", API keys only as their display prefix).\n\n"
    "  --limit N         the latest N rows (1-100000, default 50)\n"
    "  --actor ACTOR     only the rows of this actor (exact match)\n"
    "  --format FMT      table (default) or json\n"
    "  --help            show this help\n";

/* The latest rows (of actor), oldest first. */
static const char SQL_LIST[] =
    "SELECT id, ts, actor, via, action, target_type, target, before_json, after_json FROM "
    "(SELECT id, DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s') AS ts, actor, via, action, target_type, "
    "target, before_json, after_json FROM audit_log WHERE (? IS NULL OR actor = ?) "
    "ORDER BY id DESC LIMIT ?) latest ORDER BY id";

#define NCOLS 9

static const char SQL_HEAD[] =
    "SELECT id, LOWER(HEX(hash)) FROM audit_log ORDER BY id DESC LIMIT 1";
static const char SQL_ROW_HASH[] = "SELECT LOWER(HEX(hash)) FROM audit_log WHERE id = ?";

/* "ID:HASH" → *id, hash (64 lower-case hex digits + NUL). */
static bool parse_anchor(const char *s, long long *id, char hash[65])
{
    const char *colon = strchr(s, ':');
    char num[24];
    long v = 0;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(num) ||
        strlen(colon + 1) != 64)
        return false;
    memcpy(num, s, (size_t)(colon - s));
    num[colon - s] = '\0';
    if (!hub_parse_long(num, 1, LONG_MAX, &v))
        return false;
    for (int i = 0; i < 64; i++) {
        char c = (char)tolower((unsigned char)colon[1 + i]);
        if (!isxdigit((unsigned char)c))
            return false;
        hash[i] = c;
    }
    hash[64] = '\0';
    *id = v;
    return true;
}

/* After an intact chain: prints the head; checks the anchor row (anchor_id 0 = none). */
static int show_head_and_anchor(hub_db *db, long long anchor_id, const char *anchor_hash)
{
    hub_dbres r = {0};
    int status = HC_EXIT_FAIL;
    if (!hub_db_exec(db, SQL_HEAD, NULL, 0, &r, NULL, NULL)) {
        hc_err("cannot read the audit log: %s", hub_db_error(db));
        goto end;
    }
    if (r.nrows > 0)
        printf("head: row %s sha256 %s\n", hub_dbres_get(&r, 0, 0), hub_dbres_get(&r, 0, 1));
    hub_dbres_free(&r);
    if (anchor_id > 0) {
        hub_dbp p = DB_INT(anchor_id);
        if (!hub_db_exec(db, SQL_ROW_HASH, &p, 1, &r, NULL, NULL)) {
            hc_err("cannot read the audit log: %s", hub_db_error(db));
            goto end;
        }
        const char *got = r.nrows > 0 ? hub_dbres_get(&r, 0, 0) : NULL;
        if (got == NULL || strcmp(got, anchor_hash) != 0) {
            printf("audit log does not match the anchor: row %lld %s\n", anchor_id,
                   got == NULL ? "is gone (rows were cut off or the log was replaced)"
                               : "has another hash (the log was rewritten)");
            goto end;
        }
        printf("anchor row %lld matches\n", anchor_id);
    }
    status = HC_EXIT_OK;
end:
    hub_dbres_free(&r);
    return status;
}

static int audit_verify(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    long long rows = 0, bad = 0, anchor_id = 0;
    char msg[512] = "", anchor_hash[65] = "";
    const char *anchor = NULL;
    const hc_opt opts[] = {{"anchor", &anchor, NULL}};
    if (!hc_args(argc, argv, "audit verify", VERIFY_HELP, opts, 1, 0, "", &pos, &status))
        return status;
    if (anchor != NULL && !parse_anchor(anchor, &anchor_id, anchor_hash))
        return hc_usage("audit verify", "--anchor wants ID:HASH (a row id, 64 hex digits)");
    hub_db *db = hc_db(h);
    if (db == NULL)
        return HC_EXIT_FAIL;
    if (hub_audit_verify(db, &rows, &bad, msg, sizeof(msg))) {
        printf("audit log intact: %lld rows\n", rows);
        return show_head_and_anchor(db, anchor != NULL ? anchor_id : 0, anchor_hash);
    }
    if (bad > 0) {
        /* hub_audit_verify's message may itself begin with "row ID: " */
        char lead[48];
        const char *why = msg;
        int n = snprintf(lead, sizeof(lead), "row %lld: ", bad);
        if (n > 0 && strncmp(why, lead, (size_t)n) == 0)
            why += n;
        printf("audit log broken at row %lld: %s\n", bad, why[0] != '\0' ? why : "hash mismatch");
    } else
        hc_err("cannot verify the audit log: %s", msg[0] != '\0' ? msg : hub_db_error(db));
    return HC_EXIT_FAIL;
}

/* Appends "key":value to b: value embedded when it is valid JSON, else as a string. */
static bool put_json_value(hub_buf *b, const char *key, const char *value)
{
    char err[128];
    if (!hub_buf_printf(b, ",\"%s\":", key))
        return false;
    if (value == NULL)
        return hub_buf_puts(b, "null");
    if (hub_json_validate(value, strlen(value), HUB_JSON_DEFAULT_DEPTH, err, sizeof(err)))
        return hub_buf_puts(b, value);
    return hub_buf_json_str(b, value);
}

/* Appends the JSON object of audit row i of r to b. */
static bool row_json(hub_buf *b, const hub_dbres *r, int i)
{
    static const char *const KEYS[] = {"ts", "actor", "via", "action", "target_type", "target"};
    if (!hub_buf_printf(b, "{\"id\":%lld", hub_dbres_int(r, i, 0, 0)))
        return false;
    for (int k = 0; k < 6; k++) {
        const char *v = hub_dbres_get(r, i, 1 + k);
        if (!hub_buf_printf(b, ",\"%s\":", KEYS[k]) ||
            !(v != NULL ? hub_buf_json_str(b, v) : hub_buf_puts(b, "null")))
            return false;
    }
    return put_json_value(b, "before", hub_dbres_get(r, i, 7)) &&
           put_json_value(b, "after", hub_dbres_get(r, i, 8)) && hub_buf_puts(b, "}");
}

static int audit_list(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "audit list";
    static const char *const HEADS[NCOLS] = {"ID",   "TIME_UTC", "ACTOR",  "VIA",  "ACTION",
                                             "TYPE", "TARGET",   "BEFORE", "AFTER"};
    int status = HC_EXIT_USAGE;
    hc_pos pos;
    const char *limit_s = NULL, *actor = NULL, *format = "table";
    const hc_opt opts[] = {
        {"limit", &limit_s, NULL}, {"actor", &actor, NULL}, {"format", &format, NULL}};
    long limit = LIST_DEFAULT;
    hub_dbres r = {0};

    if (!hc_args(argc, argv, CMD, LIST_HELP, opts, 3, 0, "", &pos, &status))
        return status;
    if (limit_s != NULL && !hub_int_ok(limit_s, 1, LIST_MAX, &limit))
        return hc_usage(CMD, "--limit must be a whole number from 1 to %d", LIST_MAX);
    if (actor != NULL && (actor[0] == '\0' || strlen(actor) > 128))
        return hc_usage(CMD, "--actor must be 1-128 characters");
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "table") != 0)
        return hc_usage(CMD, "--format must be table or json");

    hub_dbp p[3] = {DB_STR(actor), DB_STR(actor), DB_INT(limit)};
    if (!hc_exec(h, SQL_LIST, p, 3, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    status = json ? hc_print_json(&r, row_json) : hc_print_table(&r, NCOLS, HEADS, 0x1u, NULL);
    hub_dbres_free(&r);
    return status;
}

int hc_audit_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"verify", audit_verify, "check the hash chain of the audit log"},
        {"list", audit_list, "show the latest audit rows"},
    };
    return hc_dispatch(h, "audit", "The tamper-evident audit log of every change.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
