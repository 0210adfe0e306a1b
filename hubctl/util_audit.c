/*
 * util_audit.c — the audit trail of hubctl's changes.
 *
 * Every command that changes the database appends one row per change to audit_log
 * through hub_audit_log, inside the transaction that makes the change, so either both
 * commit or neither does. The actor is "hubctl:" plus the user name of the effective uid:
 * hubctl talks to the database with the configured account, so the OS user is the only
 * trace of who ran it. Before/after values are small JSON objects of non-secret fields
 * written with hub_jobj (hub_audit.h, shared with the pages); a secret appears only as
 * HC_SEALED, an API key only as its display prefix.
 */
#include "hubctl.h"

#include "hub_audit.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

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
              hub_jobj *before, hub_jobj *after)
{
    const char *b = NULL, *a = NULL;
    if (!h->in_tx || h->db == NULL) {
        hc_err("internal error: audit row for %s outside a transaction; nothing was changed",
               action);
        return false;
    }
    if (before != NULL)
        b = hub_jobj_text(before);
    if (after != NULL)
        a = hub_jobj_text(after);
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
