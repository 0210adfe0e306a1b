/*
 * util_audit.c — the audit trail of hubctl's changes.
 *
 * Every command that changes the database appends one row per change to audit_log
 * through hub_audit_log, inside the transaction that makes the change, so either both
 * commit or neither does. The actor is "hubctl:" plus the user name of the effective uid:
 * hubctl talks to the database with the configured account, so the OS user is the only
 * trace of who ran it. Before/after values are small JSON objects of non-secret fields
 * written with hc_json; a secret appears only as HC_SEALED, an API key only as its
 * display prefix.
 */
#include "hubctl.h"

#include "hub_audit.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

/* ---- JSON objects ------------------------------------------------------------------ */

void hc_json_begin(hc_json *j)
{
    memset(j, 0, sizeof(*j));
    hub_buf_init(&j->b, 0);
    j->oom = !hub_buf_puts(&j->b, "{");
}

/* Writes the separator and "key": of a new member. */
static void member(hc_json *j, const char *key)
{
    if (j->oom)
        return;
    if (j->b.len > 1 && !hub_buf_puts(&j->b, ","))
        j->oom = true;
    else if (!hub_buf_json_str(&j->b, key) || !hub_buf_puts(&j->b, ":"))
        j->oom = true;
}

void hc_json_str(hc_json *j, const char *key, const char *val)
{
    member(j, key);
    if (j->oom)
        return;
    if (val == NULL ? !hub_buf_puts(&j->b, "null") : !hub_buf_json_str(&j->b, val))
        j->oom = true;
}

void hc_json_int(hc_json *j, const char *key, long long v)
{
    member(j, key);
    if (!j->oom && !hub_buf_printf(&j->b, "%lld", v))
        j->oom = true;
}

void hc_json_bool(hc_json *j, const char *key, bool v)
{
    member(j, key);
    if (!j->oom && !hub_buf_puts(&j->b, v ? "true" : "false"))
        j->oom = true;
}

void hc_json_raw(hc_json *j, const char *key, const char *val)
{
    member(j, key);
    if (!j->oom && !hub_buf_puts(&j->b, val != NULL ? val : "null"))
        j->oom = true;
}

void hc_json_free(hc_json *j)
{
    hub_buf_free(&j->b);
    j->oom = false;
    j->closed = false;
}

/* The finished text of j, or NULL when memory ran out while it was written. */
static const char *json_text(hc_json *j)
{
    if (!j->oom && !j->closed) {
        j->oom = !hub_buf_puts(&j->b, "}");
        j->closed = true;
    }
    return j->oom ? NULL : j->b.data;
}

/* ---- the actor and the row --------------------------------------------------------- */

const char *hc_actor(hubctl *h)
{
    if (h->actor[0] != '\0')
        return h->actor;
    uid_t uid = geteuid();
    struct passwd *pw = getpwuid(uid);
    if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0' && strlen(pw->pw_name) <= 100)
        snprintf(h->actor, sizeof(h->actor), "hubctl:%s", pw->pw_name);
    else
        snprintf(h->actor, sizeof(h->actor), "hubctl:uid-%lu", (unsigned long)uid);
    /* the column holds names, not terminal controls */
    for (char *p = h->actor; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    return h->actor;
}

bool hc_audit(hubctl *h, const char *action, const char *target_type, const char *target,
              hc_json *before, hc_json *after)
{
    const char *b = NULL, *a = NULL;
    if (!h->in_tx || h->db == NULL) {
        hc_err("internal error: audit row for %s outside a transaction; nothing was changed",
               action);
        return false;
    }
    if (before != NULL)
        b = json_text(before);
    if (after != NULL)
        a = json_text(after);
    if ((before != NULL && b == NULL) || (after != NULL && a == NULL)) {
        hc_err("out of memory writing the audit row; nothing was changed");
        return false;
    }
    if (!hub_audit_log(h->db, hc_actor(h), "hubctl", action, target_type, target, b, a)) {
        hc_err("cannot write the audit log: %s; nothing was changed", hub_db_error(h->db));
        return false;
    }
    return true;
}
