/*
 * hub_prompt.c — opt-in prompt logging (see hub_prompt.h): the setting, sealing and storing a
 * request body, opening it again for the pages, and retention. Key rotation of stored prompts
 * is in hub_prompt_keys.c.
 *
 * Bodies are sealed with hub_seal under "prompt:<request id>", so a blob copied onto another
 * row does not open. Nothing here logs a body or any part of it.
 */
#include "hub_prompt.h"

#include "hub_buf.h"

#include "hub_audit.h"
#include "hub_log.h"
#include "hub_settings.h"
#include "hub_usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_STORE[] =
    "INSERT INTO usage_prompts (request_id, ts, key_id, user_id, team_id, endpoint, body_bytes, "
    "truncated, body_enc, enc_key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE request_id = request_id";
static const char SQL_OWNER[] = "SELECT COALESCE(user_id, 0) FROM usage_prompts "
                                "WHERE request_id = ?";
static const char SQL_LOAD[] =
    "SELECT p.body_enc, p.enc_key_id, COALESCE(p.user_id, 0), COALESCE(p.key_id, 0), "
    "COALESCE(p.team_id, 0), u.name, t.name, k.name, DATE_FORMAT(p.ts, '%Y-%m-%d %H:%i:%s'), "
    "p.endpoint, p.body_bytes, p.truncated FROM usage_prompts p "
    "LEFT JOIN users u ON u.id = p.user_id LEFT JOIN teams t ON t.id = p.team_id "
    "LEFT JOIN api_keys k ON k.id = p.key_id WHERE p.request_id = ?";
static const char SQL_RETENTION[] =
    "DELETE FROM usage_prompts WHERE ts < UTC_TIMESTAMP(3) - INTERVAL ? DAY LIMIT ?";

/* ---- pure helpers ---- */

bool hub_prompt_id_ok(const char *s)
{
    if (s == NULL || strlen(s) != HUB_PROMPT_ID_LEN)
        return false;
    for (const char *c = s; *c != '\0'; c++) {
        if (strchr("0123456789abcdefABCDEF-", *c) == NULL)
            return false;
    }
    return true;
}

/* ---- the setting ---- */

bool hub_prompt_logging_get(hub_db *db, bool *on)
{
    char v[16];
    *on = false;
    if (!hub_setting_get(db, HUB_SET_PROMPT_LOGGING, v, sizeof(v), NULL))
        return false;
    *on = strcmp(v, "on") == 0;
    return true;
}

bool hub_prompt_logging_set(hub_db *db, bool on, const char *actor, const char *via, bool *changed)
{
    bool rc = false, was = false;
    hub_jobj b, a;
    hub_jobj_begin(&b);
    hub_jobj_begin(&a);
    if (changed != NULL)
        *changed = false;
    if (!hub_prompt_logging_get(db, &was))
        goto end;
    if (was == on) {
        rc = true; /* nothing to change, nothing to audit */
        goto end;
    }
    hub_jobj_str(&b, HUB_SET_PROMPT_LOGGING, was ? "on" : "off");
    hub_jobj_str(&a, HUB_SET_PROMPT_LOGGING, on ? "on" : "off");
    const char *bt = hub_jobj_text(&b), *at = hub_jobj_text(&a);
    if (bt == NULL || at == NULL || !hub_setting_put(db, HUB_SET_PROMPT_LOGGING, on ? "on" : "off"))
        goto end;
    if (!hub_audit_log(db, actor, via, "settings.update", "setting", HUB_SET_PROMPT_LOGGING, bt,
                       at))
        goto end;
    if (changed != NULL)
        *changed = true;
    rc = true;
end:
    hub_jobj_free(&b);
    hub_jobj_free(&a);
    return rc;
}

/* ---- storing and reading ---- */

static void prompt_aad(const char *request_id, char out[64])
{
    snprintf(out, 64, "prompt:%s", request_id);
}

bool hub_prompt_store(hub_db *db, const hub_keyring *kr, const hub_prompt_meta *m, const char *body,
                      size_t len, size_t max, char *err, size_t errsz)
{
    bool rc = false;
    unsigned char *blob = NULL; /* owned: the sealed body */
    size_t blen = 0;
    int key_id = 0;
    char aad[64], ts[48];

    if (!hub_prompt_id_ok(m->request_id)) {
        snprintf(err, errsz, "malformed request id");
        goto end;
    }
    size_t keep = hub_utf8_cut(body, len, max);
    prompt_aad(m->request_id, aad);
    if (!hub_seal(kr, aad, (const unsigned char *)body, keep, &blob, &blen, &key_id)) {
        snprintf(err, errsz, "cannot seal the prompt with the master key");
        goto end;
    }
    hub_usage_ts_sql(m->ts_ms, ts);
    hub_dbp p[10] = {
        DB_STR(m->request_id),
        DB_STR(ts),
        m->key_id > 0 ? DB_INT(m->key_id) : DB_NULL,
        m->user_id > 0 ? DB_INT(m->user_id) : DB_NULL,
        m->team_id > 0 ? DB_INT(m->team_id) : DB_NULL,
        DB_STR(m->endpoint != NULL ? m->endpoint : ""),
        DB_INT((long long)len),
        DB_INT(keep < len ? 1 : 0),
        DB_BLOB(blob, blen),
        DB_INT(key_id),
    };
    if (!hub_db_exec(db, SQL_STORE, p, 10, NULL, NULL, NULL)) {
        snprintf(err, errsz, "%s", hub_db_error(db));
        goto end;
    }
    rc = true;
end:
    free(blob); /* ciphertext only */
    return rc;
}

hub_err hub_prompt_owner(hub_db *db, const char *request_id, long long *user_id)
{
    hub_dbres r;
    hub_dbp p[1] = {DB_STR(request_id)};
    *user_id = 0;
    if (!hub_db_exec(db, SQL_OWNER, p, 1, &r, NULL, NULL))
        return HUB_EDB;
    hub_err rc = r.nrows > 0 ? HUB_OK : HUB_ENOTFOUND;
    *user_id = hub_dbres_int(&r, 0, 0, 0);
    hub_dbres_free(&r);
    return rc;
}

static void copy_cell(const hub_dbres *r, int col, char *out, size_t outsz)
{
    const char *v = hub_dbres_get(r, 0, col);
    snprintf(out, outsz, "%s", v != NULL ? v : "");
}

hub_err hub_prompt_load(hub_db *db, const hub_keyring *kr, const char *request_id, hub_prompt *out)
{
    hub_err rc = HUB_ENOTFOUND;
    hub_dbres r;
    char aad[64];
    hub_dbp p[1] = {DB_STR(request_id)};

    memset(out, 0, sizeof(*out));
    if (!hub_db_exec(db, SQL_LOAD, p, 1, &r, NULL, NULL))
        return HUB_EDB;
    const char *blob = r.nrows > 0 ? hub_dbres_get(&r, 0, 0) : NULL;
    if (blob == NULL)
        goto end;
    out->user_id = hub_dbres_int(&r, 0, 2, 0);
    out->key_id = hub_dbres_int(&r, 0, 3, 0);
    out->team_id = hub_dbres_int(&r, 0, 4, 0);
    copy_cell(&r, 5, out->user, sizeof(out->user));
    copy_cell(&r, 6, out->team, sizeof(out->team));
    copy_cell(&r, 7, out->key, sizeof(out->key));
    copy_cell(&r, 8, out->ts, sizeof(out->ts));
    copy_cell(&r, 9, out->endpoint, sizeof(out->endpoint));
    out->body_bytes = hub_dbres_int(&r, 0, 10, 0);
    out->truncated = hub_dbres_int(&r, 0, 11, 0) != 0;
    long long kid = hub_dbres_int(&r, 0, 1, -1);
    prompt_aad(request_id, aad);
    rc = HUB_ECRYPTO;
    if (kid > 0 && kid <= 0x7fffffff &&
        hub_open(kr, (int)kid, aad, (const unsigned char *)blob, r.lens[0] /* row 0, column 0 */,
                 &out->body, &out->len))
        rc = HUB_OK;
end:
    hub_dbres_free(&r);
    return rc;
}

void hub_prompt_free(hub_prompt *p)
{
    if (p == NULL)
        return;
    hub_secret_free(p->body, p->len);
    p->body = NULL;
    p->len = 0;
}

/* ---- retention ---- */

bool hub_prompt_retention_batch(hub_db *db, int days, int batch, long *deleted)
{
    return hub_db_delete_old(db, SQL_RETENTION, days, batch, deleted);
}

void hub_prompt_tick(hub_prompt_ticker *t, hub_db *db, const hub_config *cfg)
{
    long long now = hub_now_ms();
    long deleted = 0;
    if (cfg->prompt_retention_days < 1 || now < t->next_ms)
        return;
    bool ok =
        hub_prompt_retention_batch(db, cfg->prompt_retention_days, HUB_PROMPT_BATCH, &deleted);
    /* a full batch: more are waiting, go on at the next tick */
    t->next_ms = ok && deleted >= HUB_PROMPT_BATCH ? now : now + HUB_PROMPT_RETENTION_MS;
    if (deleted > 0)
        HUB_INFO("retention: removed %ld stored prompts older than %d days", deleted,
                 cfg->prompt_retention_days);
    if (!ok && now - t->last_error_log_ms >= 60000) {
        t->last_error_log_ms = now;
        HUB_WARN("prompt retention: %s (retried in 10 minutes)", hub_db_error(db));
    }
}
