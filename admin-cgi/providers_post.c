/*
 * providers_post.c — the changes of providers.cgi (admin only, CSRF-checked by pg_auth).
 * The form field "action" selects one:
 *
 *   create        name, type, preset, base_url, api_version, internal, label, weight, secret
 *   update        id, type, preset, base_url, api_version, internal
 *   enable        id                       disable      id
 *   cred_add      id, label, weight, secret
 *   cred_enable   cred                     cred_disable cred          cred_remove cred
 *   test          cred   (changes nothing: reports the HTTP status of a model-list GET)
 *
 * Each change runs in one transaction with its audit row and ends in a 303 to the provider
 * (?id=N&done=...). A refused change re-shows its form with the reason (400, 404 or 409).
 * Secrets are sealed with the master key at once, wiped from memory, and appear in audit
 * rows only as "(sealed)".
 */
#include "providers.h"

#include "hub_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_FIND_NAME[] = "SELECT id FROM providers WHERE name = ? FOR UPDATE";
static const char SQL_INSERT[] = "INSERT INTO providers (name, type, base_url, internal, preset, "
                                 "auth_header, api_version) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char SQL_LOCK[] =
    "SELECT name, type, preset, base_url, internal, api_version, auth_header, enabled "
    "FROM providers WHERE id = ? FOR UPDATE";
static const char SQL_UPDATE[] = "UPDATE providers SET type = ?, preset = ?, base_url = ?, "
                                 "internal = ?, auth_header = ?, api_version = ? WHERE id = ?";
static const char SQL_SET_ENABLED[] = "UPDATE providers SET enabled = ? WHERE id = ?";
static const char SQL_CRED[] =
    "SELECT c.id, c.label, c.weight, c.status, c.provider_id, p.name, c.secret_enc, c.key_id, "
    "p.type, p.preset, p.auth_header, p.api_version, p.base_url, p.internal "
    "FROM credentials c JOIN providers p ON p.id = c.provider_id WHERE c.id = ? FOR UPDATE";
static const char SQL_CRED_ENABLE[] = "UPDATE credentials SET status = 'active', last_error = "
                                      "NULL, cooldown_until = NULL WHERE id = ?";
static const char SQL_CRED_DISABLE[] = "UPDATE credentials SET status = 'disabled' WHERE id = ?";
static const char SQL_CRED_DELETE[] = "DELETE FROM credentials WHERE id = ?";

static const char *const PROVIDER_KEYS[] = {"name",     "type",        "preset",      "base_url",
                                            "internal", "api_version", "auth_header", "enabled"};

/* Re-shows provider id with msg. */
static void refuse_detail(pg *p, long long id, int status, const char *msg)
{
    pg_refuse(p, status, msg, NULL);
    pv_detail(p, id, status);
}

/* NULL when the submitted secret can be stored, else why not. */
static const char *secret_problem(const char *s, bool optional)
{
    if (s == NULL || s[0] == '\0')
        return optional ? NULL : "Enter the provider's API key.";
    size_t n = strlen(s);
    if (n > HUB_SECRET_MAX)
        return "The API key is longer than 4096 characters.";
    if (s[0] == ' ' || s[n - 1] == ' ')
        return "The API key starts or ends with a space; paste it again without spaces.";
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return "The API key contains control characters.";
    }
    return NULL;
}

/* Reads the label/weight fields; label NULL = caller picks a default. */
static const char *cred_fields(pg *p, const char **label, long *weight)
{
    *label = pg_in(p, "label");
    *weight = 1;
    if (*label != NULL && !hub_name_ok(*label, 64, HUB_CHARS_LABEL))
        return "The label must be 1-64 characters of A-Z a-z 0-9 . _ : @ -.";
    if (pg_in(p, "weight") != NULL &&
        !hub_int_ok(pg_in(p, "weight"), HUB_WEIGHT_MIN, HUB_WEIGHT_MAX, weight))
        return "The weight must be a whole number from 1 to 1000.";
    return NULL;
}

/* The provider settings of the form into ps; NULL or what is wrong. */
static const char *settings_from_form(pg *p, hub_provider_spec *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->type = pg_in(p, "type");
    ps->preset = pg_in(p, "preset");
    ps->base_url = pg_in(p, "base_url");
    ps->api_version = pg_in(p, "api_version");
    ps->internal = pg_in(p, "internal") != NULL;
    return hub_provider_resolve(ps);
}

/* Stores the submitted secret sealed as credential label of provider pid (hub_cred_store)
 * and wipes the form field; false after an error page. */
static bool seal(pg *p, const hub_keyring *kr, long long pid, const char *label, long weight,
                 const char *secret, long long *cid, int *key_id)
{
    bool ok = hub_cred_store(p->db, kr, pid, label, weight, secret, strlen(secret), cid, key_id,
                             p->err, sizeof(p->err));
    pg_wipe_field(p, "secret");
    if (!ok)
        pg_fail(p, 500, p->err);
    return ok;
}

static void settings_json(pg_json *j, const char *name, const hub_provider_spec *ps)
{
    pg_json_str(j, "name", name);
    pg_json_str(j, "type", ps->type);
    pg_json_str(j, "preset", ps->preset);
    pg_json_str(j, "base_url", ps->url);
    pg_json_bool(j, "internal", ps->internal);
    pg_json_str(j, "api_version", ps->api_version);
    pg_json_str(j, "auth_header", ps->auth_header);
}

static void do_create(pg *p)
{
    hub_provider_spec ps;
    hub_keyring kr;
    const char *name = pg_in(p, "name");
    const char *secret = pg_in(p, "secret");
    const char *label = NULL, *why = NULL;
    long weight = 1;
    long long pid = 0, cid = 0;
    int key_id = 0;

    memset(&kr, 0, sizeof(kr));
    if (name == NULL || !hub_name_ok(name, 64, HUB_CHARS_PROVIDER))
        why = "The name must be 1-64 characters of A-Z a-z 0-9 . _ -.";
    if (why == NULL)
        why = settings_from_form(p, &ps);
    if (why == NULL)
        why = cred_fields(p, &label, &weight);
    if (why == NULL)
        why = secret_problem(secret, ps.key_optional);
    if (why != NULL) {
        pg_refuse(p, 400, why, pv_new);
        goto end;
    }
    if (secret == NULL)
        secret = HUB_OLLAMA_KEY;
    if (label == NULL)
        label = "default";
    if (!pg_keyring(p, &kr) || !pg_tx_begin(p))
        goto end;
    if (!pg_lookup_id(p, SQL_FIND_NAME, name, &pid))
        goto end;
    if (pid != 0) {
        pg_refuse(p, 409, "A provider with this name exists already.", pv_new);
        goto end;
    }
    hub_dbp ip[7] = {DB_STR(name),          DB_STR(ps.type),
                     DB_STR(ps.url),        DB_INT(ps.internal ? 1 : 0),
                     DB_STR(ps.preset),     DB_STR(ps.auth_header),
                     DB_STR(ps.api_version)};
    if (!hub_db_exec(p->db, SQL_INSERT, ip, 7, NULL, NULL, &pid)) {
        pg_fail_db(p);
        goto end;
    }
    if (!seal(p, &kr, pid, label, weight, secret, &cid, &key_id))
        goto end;
    pg_json after;
    pg_json_init(&after);
    settings_json(&after, name, &ps);
    pg_json_str(&after, "credential", label);
    pg_json_int(&after, "weight", weight);
    pg_json_str(&after, "secret", "(sealed)");
    bool ok = pg_audit_commit(p, "provider.create", "provider", name, NULL, &after);
    pg_json_free(&after);
    if (ok)
        pg_redirect_done(p, "providers.cgi", pid, "created");
end:
    pg_wipe_field(p, "secret");
    hub_keyring_wipe(&kr);
}

/* Locks provider id and returns its row in *r (caller frees); false after answering. */
static bool lock_provider(pg *p, long long id, hub_dbres *r)
{
    return pg_row(p, SQL_LOCK, id, r, "There is no such provider.");
}

static void do_update(pg *p, long long id)
{
    hub_provider_spec ps;
    hub_dbres r;
    const char *why = settings_from_form(p, &ps);
    if (why != NULL) {
        refuse_detail(p, id, 400, why);
        return;
    }
    if (!pg_tx_begin(p) || !lock_provider(p, id, &r))
        return;
    hub_dbp up[7] = {
        DB_STR(ps.type),        DB_STR(ps.preset),      DB_STR(ps.url), DB_INT(ps.internal ? 1 : 0),
        DB_STR(ps.auth_header), DB_STR(ps.api_version), DB_INT(id)};
    pg_json before, after;
    pg_json_init(&before);
    pg_json_init(&after);
    pg_json_row(&before, &r, 0, PROVIDER_KEYS, 7);
    settings_json(&after, hub_dbres_get(&r, 0, 0), &ps);
    bool ok =
        pg_exec(p, SQL_UPDATE, up, 7, NULL) &&
        pg_audit_commit(p, "provider.update", "provider", hub_dbres_get(&r, 0, 0), &before, &after);
    pg_json_free(&before);
    pg_json_free(&after);
    hub_dbres_free(&r);
    if (ok)
        pg_redirect_done(p, "providers.cgi", id, "updated");
}

static void do_set_enabled(pg *p, long long id, bool on)
{
    hub_dbres r;
    if (!pg_tx_begin(p) || !lock_provider(p, id, &r))
        return;
    bool same = (hub_dbres_int(&r, 0, 7, 0) != 0) == on;
    bool ok = true;
    if (!same) {
        hub_dbp u[2] = {DB_INT(on ? 1 : 0), DB_INT(id)};
        pg_json before, after;
        pg_json_init(&before);
        pg_json_init(&after);
        pg_json_bool(&before, "enabled", !on);
        pg_json_bool(&after, "enabled", on);
        ok = pg_exec(p, SQL_SET_ENABLED, u, 2, NULL) &&
             pg_audit(p, on ? "provider.enable" : "provider.disable", "provider",
                      hub_dbres_get(&r, 0, 0), pg_json_done(&before), pg_json_done(&after));
        pg_json_free(&before);
        pg_json_free(&after);
    }
    hub_dbres_free(&r);
    if (ok && pg_tx_commit(p))
        pg_redirect_done(p, "providers.cgi", id, on ? "enabled" : "disabled");
}

static void do_cred_add(pg *p, long long id)
{
    hub_keyring kr;
    hub_dbres r = {0};
    const char *label = NULL;
    const char *secret = pg_in(p, "secret");
    char label_buf[65], target[140];
    long weight = 1;
    long long cid = 0;
    int key_id = 0;

    memset(&kr, 0, sizeof(kr));
    const char *why = cred_fields(p, &label, &weight);
    if (why != NULL) {
        refuse_detail(p, id, 400, why);
        goto end;
    }
    if (!pg_keyring(p, &kr) || !pg_tx_begin(p) || !lock_provider(p, id, &r))
        goto end;
    const char *preset = hub_dbres_get(&r, 0, 2);
    why = secret_problem(secret, preset != NULL && strcmp(preset, "ollama") == 0);
    if (why != NULL) {
        refuse_detail(p, id, 400, why);
        goto end;
    }
    if (secret == NULL)
        secret = HUB_OLLAMA_KEY;
    if (label == NULL) {
        if (!hub_cred_default_label(p->db, id, label_buf, sizeof(label_buf), p->err,
                                    sizeof(p->err))) {
            pg_fail(p, 500, p->err);
            goto end;
        }
        label = label_buf;
    } else {
        bool taken = false;
        if (!hub_cred_label_taken(p->db, id, label, &taken)) {
            pg_fail_db(p);
            goto end;
        }
        if (taken) {
            refuse_detail(p, id, 409, "This provider already has a credential with that label.");
            goto end;
        }
    }
    if (!seal(p, &kr, id, label, weight, secret, &cid, &key_id))
        goto end;
    snprintf(target, sizeof(target), "%s/%s", hub_dbres_get(&r, 0, 0), label);
    pg_json after;
    pg_json_init(&after);
    pg_json_str(&after, "provider", hub_dbres_get(&r, 0, 0));
    pg_json_str(&after, "label", label);
    pg_json_int(&after, "weight", weight);
    pg_json_str(&after, "secret", "(sealed)");
    pg_json_int(&after, "master_key_id", key_id);
    bool ok = pg_audit_commit(p, "credential.add", "credential", target, NULL, &after);
    pg_json_free(&after);
    if (ok)
        pg_redirect_done(p, "providers.cgi", id, "cred_added");
end:
    pg_wipe_field(p, "secret");
    hub_dbres_free(&r);
    hub_keyring_wipe(&kr);
}

/* Locks credential cid (with its provider) into *r; false after answering. */
static bool lock_cred(pg *p, long long cid, hub_dbres *r)
{
    return pg_row(p, SQL_CRED, cid, r, "There is no such credential.");
}

typedef enum { CRED_ENABLE, CRED_DISABLE, CRED_REMOVE } cred_op;

static void do_cred_change(pg *p, long long cid, cred_op op)
{
    static const char *const SQLS[] = {SQL_CRED_ENABLE, SQL_CRED_DISABLE, SQL_CRED_DELETE};
    static const char *const ACTIONS[] = {"credential.enable", "credential.disable",
                                          "credential.remove"};
    static const char *const DONE[] = {"cred_enabled", "cred_disabled", "cred_removed"};
    static const char *const KEYS[] = {"id", "label", "weight", "status"};
    hub_dbres r;
    char target[140];

    if (!pg_tx_begin(p) || !lock_cred(p, cid, &r))
        return;
    long long pid = hub_dbres_int(&r, 0, 4, 0);
    snprintf(target, sizeof(target), "%s/%s", hub_dbres_get(&r, 0, 5), hub_dbres_get(&r, 0, 1));
    hub_dbp q[1] = {DB_INT(cid)};
    pg_json before, after;
    pg_json_init(&before);
    pg_json_init(&after);
    pg_json_row(&before, &r, 0, KEYS, 4);
    if (op != CRED_REMOVE)
        pg_json_str(&after, "status", op == CRED_ENABLE ? "active" : "disabled");
    bool ok = pg_exec(p, SQLS[op], q, 1, NULL) &&
              pg_audit_commit(p, ACTIONS[op], "credential", target, &before,
                              op == CRED_REMOVE ? NULL : &after);
    pg_json_free(&before);
    pg_json_free(&after);
    hub_dbres_free(&r);
    if (ok)
        pg_redirect_done(p, "providers.cgi", pid, DONE[op]);
}

static void do_test(pg *p, long long cid)
{
    hub_keyring kr;
    hub_dbres r;
    char *secret = NULL; /* owned, wiped */
    size_t slen = 0;
    char aad[64];
    long http = 0;
    int why;

    if (!pg_keyring(p, &kr))
        return;
    if (!lock_cred(p, cid, &r)) {
        hub_keyring_wipe(&kr);
        return;
    }
    snprintf(aad, sizeof(aad), "credential:%lld", cid);
    const char *blob = hub_dbres_get(&r, 0, 6);
    pt_target t = {.type = hub_dbres_get(&r, 0, 8),
                   .preset = hub_dbres_get(&r, 0, 9),
                   .auth_header = hub_dbres_get(&r, 0, 10),
                   .api_version = hub_dbres_get(&r, 0, 11),
                   .base_url = hub_dbres_get(&r, 0, 12),
                   .internal = hub_dbres_int(&r, 0, 13, 0) != 0};
    if (blob == NULL || !hub_open(&kr, (int)hub_dbres_int(&r, 0, 7, -1), aad,
                                  (const unsigned char *)blob, r.lens[6], &secret, &slen))
        why = PT_SEAL;
    else
        why = pt_probe(&t, secret, &http);
    hub_secret_free(secret, slen);
    hub_keyring_wipe(&kr);
    hub_buf b;
    hub_buf_init(&b, 0);
    hub_buf_printf(&b, "providers.cgi?id=%lld&done=test&label=", hub_dbres_int(&r, 0, 4, 0));
    hub_cgi_urlencode(&b, hub_dbres_get(&r, 0, 1));
    if (why == 0)
        hub_buf_printf(&b, "&http=%ld", http);
    else
        hub_buf_printf(&b, "&why=%d", why);
    pg_redirect(p, b.data);
    hub_buf_free(&b);
    hub_dbres_free(&r);
}

void pp_post(pg *p)
{
    const char *action = pg_in(p, "action");
    long long id = 0;
    if (action == NULL) {
        pg_fail(p, 400, "The form did not say what to do.");
        return;
    }
    if (strcmp(action, "create") == 0) {
        do_create(p);
        return;
    }
    bool cred = (strncmp(action, "cred_", 5) == 0 && strcmp(action, "cred_add") != 0) ||
                strcmp(action, "test") == 0;
    if (!pg_id(p, cred ? "cred" : "id", &id)) {
        pg_fail(p, 400,
                cred ? "The form did not say which credential."
                     : "The form did not say which provider.");
        return;
    }
    if (strcmp(action, "update") == 0)
        do_update(p, id);
    else if (strcmp(action, "enable") == 0 || strcmp(action, "disable") == 0)
        do_set_enabled(p, id, strcmp(action, "enable") == 0);
    else if (strcmp(action, "cred_add") == 0)
        do_cred_add(p, id);
    else if (strcmp(action, "cred_enable") == 0)
        do_cred_change(p, id, CRED_ENABLE);
    else if (strcmp(action, "cred_disable") == 0)
        do_cred_change(p, id, CRED_DISABLE);
    else if (strcmp(action, "cred_remove") == 0)
        do_cred_change(p, id, CRED_REMOVE);
    else if (strcmp(action, "test") == 0)
        do_test(p, id);
    else
        pg_fail(p, 400, "Unknown action.");
}
