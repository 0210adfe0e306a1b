/*
 * keyops.c — creating and revoking API keys for keys.cgi and tokens.cgi, and the limits
 * their forms share (see keyops.h).
 *
 * The secret is generated, hashed and stored inside one transaction with the audit row; it
 * is rendered only after the commit succeeded, on the answer to the POST that created it
 * (Cache-Control: no-store), and wiped from memory right after. It is never stored, logged,
 * audited or shown again: the list shows the 12-character display prefix only.
 */
#include "keyops.h"

#include <stdio.h>
#include <string.h>

static const char SQL_LOCK[] =
    "SELECT id, name, user_id, kind, DATE_FORMAT(revoked_at, '%Y-%m-%d %H:%i:%s') FROM api_keys "
    "WHERE id = ? FOR UPDATE";
static const char SQL_REVOKE[] =
    "UPDATE api_keys SET revoked_at = UTC_TIMESTAMP(3) WHERE id = ? AND revoked_at IS NULL";

/* The page that shows the new key once. */
static void show_once(pg *p, const char *name, const char *key, const char *back_rel)
{
    pg_begin(p, "New key");
    hub_html_raw(&p->body, "<h1>New key</h1>\n");
    hub_html_notice(&p->body, "ok",
                    "The key was created. Copy it now: it is shown only this once, and hub "
                    "keeps only its hash.");
    hub_html_printf(&p->body,
                    "<section class=\"panel secret-once\"><h2>%s</h2>\n"
                    "<label>Key <input type=\"text\" class=\"secret\" name=\"new_key\" "
                    "value=\"%s\" readonly size=\"56\" autocomplete=\"off\" spellcheck=\"false\">"
                    "</label>\n<p class=\"hint\">Send it as <code>Authorization: Bearer "
                    "&lt;key&gt;</code>.</p>\n</section>\n",
                    name, key);
    hub_html_printf(&p->body, "<p><a class=\"btn\" href=\"%s/%s\">Done</a></p>\n",
                    p->cfg.admin_base, back_rel);
    pg_send(p, 200);
    /* the page buffer held the secret */
    explicit_bzero(p->body.data, p->body.size);
    p->body.len = 0;
}

hub_err ko_create(pg *p, const hub_key_spec *ks, const char *owner, const char *team,
                  const char *back_rel)
{
    char key[HUB_APIKEY_LEN + 1];
    char shown[HUB_APIKEY_SHOWN + 1];
    long long kid = 0;
    hub_err e;

    memset(key, 0, sizeof(key));
    if (!pg_tx_begin(p))
        return HUB_EDB;
    e = hub_key_create(p->db, ks, key, shown, &kid, p->err, sizeof(p->err));
    if (e == HUB_EINVAL) {
        pg_tx_rollback(p);
        return e;
    }
    if (e != HUB_OK) {
        pg_fail(p, e == HUB_EDB ? (hub_db_was_down(p->db) ? 503 : 500) : 500, p->err);
        goto end;
    }
    pg_json after;
    pg_json_init(&after);
    pg_json_str(&after, "name", ks->name);
    pg_json_str(&after, "prefix", shown);
    pg_json_str(&after, "kind", ks->kind);
    pg_json_str(&after, "user", owner);
    pg_json_str(&after, "team", team);
    pg_json_str(&after, "app", ks->app);
    pg_json_str(&after, "models", ks->models);
    pg_json_str(&after, "endpoints", ks->endpoints);
    if (ks->expires_days >= 0)
        pg_json_int(&after, "expires_days", ks->expires_days);
    else
        pg_json_str(&after, "expires_days", NULL);
    bool ok = pg_audit(
        p, ks->kind != NULL && strcmp(ks->kind, "personal") == 0 ? "token.create" : "key.create",
        "api_key", ks->name, NULL, pg_json_done(&after));
    pg_json_free(&after);
    if (!ok || !pg_tx_commit(p)) {
        e = HUB_EDB;
        goto end;
    }
    show_once(p, ks->name, key, back_rel);
    e = HUB_OK;
end:
    explicit_bzero(key, sizeof(key));
    return e;
}

bool ko_revoke(pg *p, long long id, long long only_user, const char *kind)
{
    hub_dbres r;
    hub_dbp q[1] = {DB_INT(id)};
    if (!pg_tx_begin(p))
        return false;
    if (!hub_db_exec(p->db, SQL_LOCK, q, 1, &r, NULL, NULL)) {
        pg_fail_db(p);
        return false;
    }
    const char *k = hub_dbres_get(&r, 0, 3);
    if (r.nrows == 0 || (only_user != 0 && hub_dbres_int(&r, 0, 2, 0) != only_user) ||
        (kind != NULL && (k == NULL || strcmp(k, kind) != 0))) {
        hub_dbres_free(&r);
        pg_fail(p, 404, "There is no such key.");
        return false;
    }
    bool ok = true;
    if (hub_dbres_get(&r, 0, 4) == NULL) {
        ok = hub_db_exec(p->db, SQL_REVOKE, q, 1, NULL, NULL, NULL);
        if (!ok) {
            pg_fail_db(p);
        } else {
            const char *action = strcmp(k, "personal") == 0 ? "token.revoke" : "key.revoke";
            ok = pg_audit(p, action, "api_key", hub_dbres_get(&r, 0, 1), "{\"status\":\"active\"}",
                          "{\"status\":\"revoked\"}");
        }
    }
    hub_dbres_free(&r);
    return ok && pg_tx_commit(p);
}

void ko_post(pg *p, void (*create)(pg *p), long long only_user, const char *kind,
             const char *program, const char *what)
{
    const char *action = pg_in(p, "action");
    long long id = 0;
    char msg[80];
    if (action != NULL && strcmp(action, "create") == 0) {
        create(p);
    } else if (action != NULL && strcmp(action, "revoke") == 0) {
        snprintf(msg, sizeof(msg), "The form did not say which %s.", what);
        if (!pg_id(p, "id", &id))
            pg_fail(p, 400, msg);
        else if (ko_revoke(p, id, only_user, kind))
            pg_redirect_done(p, program, 0, "revoked");
    } else {
        pg_fail(p, 400, "Unknown action.");
    }
}

const char *ko_limits_from_form(const pg *p, hub_key_spec *ks)
{
    const char *days_s = pg_in(p, "expires_days");
    long days = 0;
    ks->models = pg_in(p, "models");
    if (ks->models != NULL && !hub_globs_ok(ks->models))
        return "Allowed models must be comma-separated globs of A-Z a-z 0-9 . _ : @ / * ? - "
               "(no spaces).";
    if (days_s != NULL && !hub_int_ok(days_s, 1, HUB_KEY_DAYS_MAX, &days))
        return "Expires after must be a whole number of days, 1-36500.";
    if (days_s != NULL)
        ks->expires_days = days;
    return NULL;
}

const char *ko_badge(const char *status)
{
    if (status == NULL || strcmp(status, "revoked") == 0)
        return "off";
    return strcmp(status, "active") == 0 ? "ok" : "warn";
}
