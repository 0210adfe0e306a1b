/*
 * providers.c — providers.cgi: the upstream providers and their credentials. Admins and
 * viewers read; admins change (providers_post.c).
 *
 *   GET                    the list: name, type, base URL, status, credentials active/total,
 *                          problems (disabled credentials and their last error, cooldowns)
 *   GET ?new=1             (admin) the form that adds a provider with its first credential
 *   GET ?id=N              one provider: its settings, its credentials (secrets never shown:
 *                          "sealed"), and for admins the edit, enable/disable, credential and
 *                          "test connection" forms
 *   POST                   see providers_post.c
 */
#include "providers.h"

#include "hub_ops.h"

#include <stdio.h>
#include <string.h>

static const char SQL_LIST[] =
    "SELECT p.id, p.name, p.type, p.preset, p.base_url, p.enabled, p.internal, "
    "(SELECT COUNT(*) FROM credentials c WHERE c.provider_id = p.id AND c.status = 'active'), "
    "(SELECT COUNT(*) FROM credentials c WHERE c.provider_id = p.id), "
    "(SELECT GROUP_CONCAT(IF(c.status <> 'active', "
    "   CONCAT(c.label, ' ', c.status, IF(c.last_error IS NULL, '', CONCAT(': ', c.last_error))), "
    "   CONCAT(c.label, ' cooling down until ', "
    "          DATE_FORMAT(c.cooldown_until, '%Y-%m-%d %H:%i:%s'), ' UTC')) "
    "   ORDER BY c.label SEPARATOR '; ') FROM credentials c WHERE c.provider_id = p.id "
    "   AND (c.status <> 'active' OR c.cooldown_until > UTC_TIMESTAMP(3))) "
    "FROM providers p ORDER BY p.name LIMIT ? OFFSET ?";
static const char SQL_ONE[] =
    "SELECT id, name, type, preset, base_url, internal, enabled, api_version, auth_header, "
    "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i'), DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i'), "
    "(SELECT COUNT(*) FROM models m WHERE m.provider_id = providers.id) "
    "FROM providers WHERE id = ?";
static const char SQL_CREDS[] =
    "SELECT id, label, weight, status, last_error, "
    "IF(cooldown_until > UTC_TIMESTAMP(3), DATE_FORMAT(cooldown_until, '%Y-%m-%d %H:%i:%s'), "
    "NULL), key_id, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i'), secret_enc IS NOT NULL "
    "FROM credentials WHERE provider_id = ? ORDER BY label";

static const char *const DONE[] = {
    "created",
    "The provider was added; its key is sealed.",
    "updated",
    "The provider's settings were saved.",
    "enabled",
    "The provider is enabled: the gateway routes to it again.",
    "disabled",
    "The provider is disabled: its models answer 503.",
    "cred_added",
    "The credential was added; its key is sealed and will not be shown again.",
    "cred_enabled",
    "The credential is enabled; its last error and cooldown were cleared.",
    "cred_disabled",
    "The credential is disabled.",
    "cred_removed",
    "The credential was removed.",
    NULL,
};

/* The select options for provider types and presets (value, text pairs). */
static int type_options(const char **opts, int max)
{
    int n = 0;
    for (int i = 0; hub_provider_type_name(i) != NULL && n < max; i++, n++) {
        opts[2 * n] = hub_provider_type_name(i);
        opts[2 * n + 1] = NULL;
    }
    return n;
}

static int preset_options(const char **opts, int max)
{
    int n = 1;
    opts[0] = "";
    opts[1] = "(none)";
    for (int i = 0; hub_provider_preset_name(i) != NULL && n < max; i++, n++) {
        opts[2 * n] = hub_provider_preset_name(i);
        opts[2 * n + 1] = NULL;
    }
    return n;
}

/* The fields that add or edit a provider's settings, filled from values (or a re-shown POST). */
static void settings_fields(pg *p, const char *type, const char *preset, const char *url,
                            const char *version, bool internal)
{
    const char *opts[32];
    int n = type_options(opts, 16);
    pg_select(p, "Type", "type", opts, n, pg_prefill(p, "type", type),
              "The wire format: openai, openai-compatible, anthropic or gemini.");
    n = preset_options(opts, 16);
    pg_select(p, "Preset", "preset", opts, n, pg_prefill(p, "preset", preset),
              "A known openai-compatible service; sets the base URL and the way the key is "
              "sent (type must be openai-compatible).");
    pg_input(p, "Base URL", "url", "base_url", pg_prefill(p, "base_url", url),
             "maxlength=\"512\" placeholder=\"default for the type or preset\"",
             "https://… (http:// only for an internal host). Empty: the default.");
    pg_input(p, "API version", "text", "api_version", pg_prefill(p, "api_version", version),
             "maxlength=\"32\"", "anthropic-version, or the Azure api-version. Empty: default.");
    pg_checkbox(p, "Internal host (allow plain http://)", "internal",
                pg_is_post(p) ? pg_in(p, "internal") != NULL : internal,
                "Only for a host inside your network: the key then crosses it unencrypted.");
}

/* The fields of a new credential: label, weight and the secret (never pre-filled). */
static void credential_fields(pg *p, const char *label_hint)
{
    pg_input(p, "Label", "text", "label", pg_prefill(p, "label", NULL),
             "maxlength=\"64\" pattern=\"[A-Za-z0-9._:@-]+\"", label_hint);
    pg_input(p, "Weight", "number", "weight", pg_prefill(p, "weight", "1"),
             "min=\"1\" max=\"1000\"", "Share of requests among the active keys (1-1000).");
    pg_input(p, "API key", "password", "secret", NULL,
             "maxlength=\"4096\" autocomplete=\"new-password\"",
             "Entered once, sealed with the master key, never shown again.");
}

void pv_new(pg *p, int status)
{
    pg_begin(p, "Add a provider");
    hub_html_printf(&p->body, "<p class=\"crumbs\"><a href=\"%s\">Providers</a></p>\n", p->self);
    hub_html_raw(&p->body, "<h1>Add a provider</h1>\n");
    if (p->err[0] != '\0')
        pg_error_notice(p, NULL);
    pg_form_open(p, "stack");
    pg_input(p, "Name", "text", "name", pg_prefill(p, "name", NULL),
             "required maxlength=\"64\" pattern=\"[A-Za-z0-9._-]+\"",
             "1-64 characters of A-Z a-z 0-9 . _ - (clients may write NAME/model).");
    settings_fields(p, "openai", NULL, NULL, NULL, false);
    credential_fields(p, "Default: default.");
    pg_button(p, "create", "Add provider", NULL);
    pg_form_close(p);
    pg_send(p, status);
}

static void status_badge(pg *p, bool enabled, long long active)
{
    if (!enabled)
        pg_td_badge(p, "off", "disabled");
    else if (active == 0)
        pg_td_badge(p, "warn", "no active credential");
    else
        pg_td_badge(p, "ok", "enabled");
}

void pv_list(pg *p, int status)
{
    static const char *const HEADS[] = {"Name",   "Type",        "Base URL",
                                        "Status", "Credentials", "Problems"};
    hub_dbres r;
    long page = 1;

    if (!pg_list(p, SQL_LIST, NULL, 0, &page, &r))
        return;
    pg_begin(p, "Providers");
    hub_html_raw(&p->body, "<h1>Providers</h1>\n");
    pg_notices(p, DONE);
    if (pg_role(p, "admin"))
        hub_html_printf(&p->body,
                        "<p class=\"actions\"><a class=\"btn\" href=\"%s?new=1\">Add a "
                        "provider</a></p>\n",
                        p->self);
    pg_table_begin(p, HEADS, 6);
    int shown = pg_shown(&r);
    for (int i = 0; i < shown; i++) {
        char creds[48], type[80];
        const char *preset = hub_dbres_get(&r, i, 3);
        long long active = hub_dbres_int(&r, i, 7, 0);
        snprintf(type, sizeof(type), "%s%s%s", hub_dbres_get(&r, i, 2), preset ? " · " : "",
                 preset ? preset : "");
        snprintf(creds, sizeof(creds), "%lld/%lld", active, hub_dbres_int(&r, i, 8, 0));
        hub_html_printf(&p->body, "<tr><td><a href=\"%s?id=%lld\">%s</a></td>", p->self,
                        hub_dbres_int(&r, i, 0, 0), hub_dbres_get(&r, i, 1));
        pg_td(p, type);
        pg_td(p, hub_dbres_get(&r, i, 4));
        status_badge(p, hub_dbres_int(&r, i, 5, 0) != 0, active);
        pg_td(p, creds);
        pg_td(p, hub_dbres_get(&r, i, 9));
        hub_html_raw(&p->body, "</tr>\n");
    }
    if (shown == 0)
        pg_empty_row(p, 6, "No providers yet.");
    pg_table_end(p);
    pg_pager(p, "", page, r.nrows > PG_PAGE_SIZE);
    hub_dbres_free(&r);
    pg_send(p, status);
}

/* The result of a connection test, from the redirect's query. */
static void test_notice(pg *p)
{
    const char *done = pg_arg(p, "done");
    const char *label = pg_arg(p, "label");
    long http = 0;
    char msg[300];
    if (done == NULL || strcmp(done, "test") != 0)
        return;
    if (label != NULL && !hub_name_ok(label, 64, HUB_CHARS_LABEL))
        label = NULL;
    if (pg_arg(p, "http") != NULL && hub_int_ok(pg_arg(p, "http"), 100, 599, &http)) {
        snprintf(msg, sizeof(msg),
                 "Connection test with credential %s: the provider answered "
                 "HTTP %ld%s",
                 label != NULL ? label : "?", http,
                 http < 300                   ? " — the key works."
                 : http == 401 || http == 403 ? " — the key was refused."
                                              : ".");
        hub_html_notice(&p->body, http < 300 ? "ok" : "error", msg);
    } else {
        long why = 0;
        if (pg_arg(p, "why") == NULL || !hub_int_ok(pg_arg(p, "why"), -100, 1000, &why))
            why = 0;
        snprintf(msg, sizeof(msg), "Connection test with credential %s: no answer (%s).",
                 label != NULL ? label : "?", pt_why(why));
        hub_html_notice(&p->body, "error", msg);
    }
}

/* The credentials table with, for admins, the actions of each row. */
static void credentials(pg *p, long long id, bool admin)
{
    static const char *const HEADS[] = {"Label",  "Key",        "Weight",
                                        "Status", "Last error", "Cooling down until (UTC)",
                                        "Added",  "Actions"};
    hub_dbres r;
    hub_dbp q[1] = {DB_INT(id)};
    if (!pg_exec(p, SQL_CREDS, q, 1, &r))
        return;
    hub_html_raw(&p->body, "<h2>Credentials</h2>\n");
    pg_table_begin(p, HEADS, admin ? 8 : 7);
    for (int i = 0; i < r.nrows; i++) {
        long long cid = hub_dbres_int(&r, i, 0, 0);
        const char *st = hub_dbres_get(&r, i, 3);
        bool active = st != NULL && strcmp(st, "active") == 0;
        hub_html_raw(&p->body, "<tr>");
        pg_td(p, hub_dbres_get(&r, i, 1));
        pg_td(p, hub_dbres_int(&r, i, 8, 0) ? "•••••••• (sealed)" : "missing");
        pg_td(p, hub_dbres_get(&r, i, 2));
        pg_td_badge(p, active ? (hub_dbres_get(&r, i, 5) ? "warn" : "ok") : "off", st);
        pg_td(p, hub_dbres_get(&r, i, 4));
        pg_td(p, hub_dbres_get(&r, i, 5));
        pg_td(p, hub_dbres_get(&r, i, 7));
        if (admin) {
            hub_html_raw(&p->body, "<td class=\"actions\">");
            pg_row_action(p, "test", "cred", cid, "Test connection", "btn-quiet");
            pg_row_action(p, active ? "cred_disable" : "cred_enable", "cred", cid,
                          active ? "Disable" : "Enable", "btn-quiet");
            pg_row_action(p, "cred_remove", "cred", cid, "Remove", "btn-danger");
            hub_html_raw(&p->body, "</td>");
        }
        hub_html_raw(&p->body, "</tr>\n");
    }
    if (r.nrows == 0)
        pg_empty_row(p, admin ? 8 : 7, "No credentials: the provider cannot be used.");
    pg_table_end(p);
    hub_dbres_free(&r);
}

/* The admin forms of one provider: settings, enable/disable, a new credential. */
static void admin_forms(pg *p, const hub_dbres *r, long long id)
{
    bool enabled = hub_dbres_int(r, 0, 6, 0) != 0;
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Add a credential</h2>\n");
    pg_form_open(p, "stack");
    pg_hidden_id(p, "id", id);
    credential_fields(p, "Default: key-N.");
    pg_button(p, "cred_add", "Add credential", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n<section class=\"panel\"><h2>Settings</h2>\n");
    pg_form_open(p, "stack");
    pg_hidden_id(p, "id", id);
    settings_fields(p, hub_dbres_get(r, 0, 2), hub_dbres_get(r, 0, 3), hub_dbres_get(r, 0, 4),
                    hub_dbres_get(r, 0, 7), hub_dbres_int(r, 0, 5, 0) != 0);
    pg_button(p, "update", "Save settings", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n<section class=\"panel\"><h2>Routing</h2>\n");
    pg_row_action(p, enabled ? "disable" : "enable", "id", id,
                  enabled ? "Disable provider" : "Enable provider", enabled ? "btn-danger" : NULL);
    hub_html_raw(&p->body, "</section>\n");
}

void pv_detail(pg *p, long long id, int status)
{
    hub_dbres r;
    bool admin = pg_role(p, "admin");
    if (!pg_row(p, SQL_ONE, id, &r, "There is no such provider."))
        return;
    bool enabled = hub_dbres_int(&r, 0, 6, 0) != 0;
    pg_begin(p, hub_dbres_get(&r, 0, 1));
    hub_html_printf(&p->body, "<p class=\"crumbs\"><a href=\"%s\">Providers</a></p>\n<h1>%s</h1>\n",
                    p->self, hub_dbres_get(&r, 0, 1));
    pg_done_notice(p, DONE);
    test_notice(p);
    if (p->err[0] != '\0')
        pg_error_notice(p, NULL);
    hub_html_raw(&p->body, "<dl class=\"facts\">");
    hub_html_printf(&p->body, "<dt>Status</dt><dd><span class=\"badge badge-%s\">%s</span></dd>",
                    enabled ? "ok" : "off", enabled ? "enabled" : "disabled");
    hub_html_printf(&p->body, "<dt>Type</dt><dd>%s</dd><dt>Preset</dt><dd>%s</dd>",
                    hub_dbres_get(&r, 0, 2),
                    hub_dbres_get(&r, 0, 3) ? hub_dbres_get(&r, 0, 3) : "—");
    hub_html_printf(&p->body, "<dt>Base URL</dt><dd><code>%s</code>%s</dd>",
                    hub_dbres_get(&r, 0, 4), hub_dbres_int(&r, 0, 5, 0) ? " (internal)" : "");
    hub_html_printf(&p->body, "<dt>API version</dt><dd>%s</dd><dt>Key sent as</dt><dd>%s</dd>",
                    hub_dbres_get(&r, 0, 7) ? hub_dbres_get(&r, 0, 7) : "—",
                    hub_dbres_get(&r, 0, 8) ? hub_dbres_get(&r, 0, 8) : "default for the type");
    hub_html_printf(&p->body,
                    "<dt>Model routes</dt><dd>%lld</dd><dt>Added</dt><dd>%s UTC</dd>"
                    "<dt>Changed</dt><dd>%s UTC</dd></dl>\n",
                    hub_dbres_int(&r, 0, 11, 0), hub_dbres_get(&r, 0, 9), hub_dbres_get(&r, 0, 10));
    credentials(p, id, admin);
    if (admin)
        admin_forms(p, &r, id);
    hub_dbres_free(&r);
    pg_send(p, status);
}

int main(void)
{
    static const pg_app APP = {.program = "providers.cgi",
                               .active = "providers",
                               .read_role = "viewer",
                               .write_role = "admin",
                               .post = pp_post,
                               .new_fn = pv_new,
                               .item = pv_detail,
                               .missing = "There is no such provider.",
                               .list = pv_list};
    return pg_run(&APP);
}
