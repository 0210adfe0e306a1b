/*
 * settings.c — settings.cgi (admin only): the security settings that live in the database,
 * i.e. the pages' own OpenID Connect client (used when hub.conf admin_auth lists "oidc"),
 * and a read-only view of the sign-in settings of hub.conf.
 *
 *   GET                  the form: issuer, client_id, client_secret (never shown: "stored"
 *                        or "not set"), scopes, user_claim, email_claim, groups_claim,
 *                        redirect_uri (empty: derived); the hub.conf facts
 *   POST action=save     the same fields plus clear_secret. The client secret is sealed with
 *                        the master key (aad "setting:oidc_client_secret") and replaced only
 *                        when a new value is typed (or removed with clear_secret).
 *
 * One audit row ("settings.update", target setting:oidc) holds the plain values before →
 * after; the secret appears only as "(sealed)".
 *
 *   POST action=prompts_on|prompts_off   prompt logging on or off (settings_prompts.c)
 */
#include "settings.h"

#include "hub_ops.h"
#include "hub_settings.h"
#include "hub_webauth.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *field;   /* form field */
    const char *setting; /* settings.name */
    const char *label;
    const char *hint;
    const char *dflt; /* shown as placeholder; oidc.cgi applies it when unset */
    size_t max;
} field;

static const field FIELDS[] = {
    {"issuer", HUB_SET_OIDC_ISSUER, "Issuer",
     "The IdP's issuer URL; hub reads ISSUER/.well-known/openid-configuration.", NULL, 512},
    {"client_id", HUB_SET_OIDC_CLIENT_ID, "Client ID", NULL, NULL, 255},
    {"scopes", HUB_SET_OIDC_SCOPES, "Scopes", "Space-separated.", "openid profile email", 255},
    {"user_claim", HUB_SET_OIDC_USER_CLAIM, "User name claim", NULL, "preferred_username", 64},
    {"email_claim", HUB_SET_OIDC_EMAIL_CLAIM, "E-mail claim", NULL, "email", 64},
    {"groups_claim", HUB_SET_OIDC_GROUPS_CLAIM, "Groups claim",
     "Groups map to roles through role_map in hub.conf.", "groups", 64},
    {"redirect_uri", HUB_SET_OIDC_REDIRECT_URI, "Redirect URI",
     "Register this at the IdP. Empty: the address shown.", NULL, 512},
};
#define NFIELDS (sizeof(FIELDS) / sizeof(FIELDS[0]))

/* The redirect URI derived from this request: scheme://host<admin_base>/oidc.cgi. */
static void derived_redirect(const pg *p, char *out, size_t outsz)
{
    const char *host = hub_cgi_env("HTTP_HOST");
    if (host == NULL || strpbrk(host, "\"<>\\ ") != NULL)
        host = "HOST";
    snprintf(out, outsz, "%s://%s%s/oidc.cgi", p->cgi.https ? "https" : "http", host,
             p->cfg.admin_base);
}

static void conf_facts(pg *p)
{
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Sign-in settings in hub.conf "
                           "(read-only)</h2>\n<dl class=\"facts\">");
    hub_html_printf(&p->body, "<dt>admin_auth</dt><dd><code>%s</code></dd>", p->cfg.admin_auth);
    hub_html_printf(&p->body, "<dt>admin_base</dt><dd><code>%s</code></dd>", p->cfg.admin_base);
    hub_html_printf(&p->body,
                    "<dt>cookie_secure</dt><dd>%d</dd><dt>session_ttl_minutes</dt>"
                    "<dd>%d</dd>",
                    p->cfg.cookie_secure, p->cfg.session_ttl_minutes);
    hub_html_printf(&p->body,
                    "<dt>webserver_user_var</dt><dd><code>%s</code></dd>"
                    "<dt>webserver_groups_var</dt><dd><code>%s</code></dd>",
                    p->cfg.webserver_user_var, p->cfg.webserver_groups_var);
    hub_html_printf(&p->body,
                    "<dt>role_map</dt><dd><code>%s</code></dd><dt>default_role</dt>"
                    "<dd>%s</dd>",
                    p->cfg.role_map[0] ? p->cfg.role_map : "(none)", p->cfg.default_role);
    hub_html_printf(&p->body,
                    "<dt>login throttling</dt><dd>%d failures per %d s, then locked "
                    "%d s</dd></dl>\n",
                    p->cfg.login_max_failures, p->cfg.login_window_seconds,
                    p->cfg.login_lock_seconds);
    if (!hub_webauth_mode(&p->cfg, "oidc"))
        hub_html_notice(&p->body, "info",
                        "admin_auth does not list oidc: the settings below "
                        "take effect once it does.");
    hub_html_raw(&p->body, "</section>\n");
}

static void show(pg *p, int status)
{
    char val[NFIELDS][HUB_SETTING_MAX + 1];
    char redirect[700];
    bool has_secret = false;

    for (size_t i = 0; i < NFIELDS; i++) {
        if (!hub_setting_get(p->db, FIELDS[i].setting, val[i], sizeof(val[i]), NULL)) {
            pg_fail_db(p);
            return;
        }
    }
    if (!hub_setting_has_secret(p->db, HUB_SET_OIDC_CLIENT_SECRET, &has_secret)) {
        pg_fail_db(p);
        return;
    }
    derived_redirect(p, redirect, sizeof(redirect));
    pg_begin(p, "Security settings");
    hub_html_raw(&p->body, "<h1>Security settings</h1>\n");
    if (pg_arg(p, "done") != NULL && strcmp(pg_arg(p, "done"), "saved") == 0)
        hub_html_notice(&p->body, "ok", "The settings were saved.");
    pg_done_notice(p, ST_PROMPTS_DONE);
    if (p->err[0] != '\0')
        pg_error_notice(p, NULL);
    conf_facts(p);
    hub_html_raw(&p->body, "<section class=\"panel\"><h2>Company sign-in (OpenID "
                           "Connect)</h2>\n");
    pg_form_open(p, "stack");
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *ph = FIELDS[i].dflt;
        if (strcmp(FIELDS[i].field, "redirect_uri") == 0)
            ph = redirect;
        hub_html_printf(&p->body,
                        "<label>%s <input type=\"text\" name=\"%s\" value=\"%s\" "
                        "maxlength=\"%zu\" placeholder=\"%s\">",
                        FIELDS[i].label, FIELDS[i].field, pg_prefill(p, FIELDS[i].field, val[i]),
                        FIELDS[i].max, ph ? ph : "");
        if (FIELDS[i].hint != NULL)
            hub_html_printf(&p->body, "<small class=\"hint\">%s</small>", FIELDS[i].hint);
        hub_html_raw(&p->body, "</label>\n");
        if (strcmp(FIELDS[i].field, "client_id") == 0) {
            pg_input(p, "Client secret", "password", "client_secret", NULL,
                     has_secret ? "maxlength=\"1024\" autocomplete=\"new-password\" "
                                  "placeholder=\"•••••••• stored — type to replace\""
                                : "maxlength=\"1024\" autocomplete=\"new-password\" "
                                  "placeholder=\"not set\"",
                     has_secret ? "Stored sealed; never shown. Leave empty to keep it."
                                : "Sealed with the master key when saved.");
            if (has_secret)
                pg_checkbox(p, "Remove the stored client secret", "clear_secret", false, NULL);
        }
    }
    pg_button(p, "save", "Save settings", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
    st_prompts_section(p);
    pg_send(p, status);
}

/* True when a URL is https://, or http:// to this machine (a test IdP). */
static bool url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) == 0)
        return strlen(u) > 8 && strpbrk(u, " \"<>\\") == NULL;
    return strncmp(u, "http://localhost", 16) == 0 || strncmp(u, "http://127.0.0.1", 16) == 0 ||
           strncmp(u, "http://[::1]", 12) == 0;
}

/* NULL when value (may be NULL) suits field f, else why not. */
static const char *value_problem(const field *f, const char *v)
{
    if (v == NULL)
        return NULL;
    if (strlen(v) > f->max)
        return "A value is too long.";
    for (const unsigned char *c = (const unsigned char *)v; *c != '\0'; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return "A value contains control characters.";
    }
    if ((strcmp(f->field, "issuer") == 0 || strcmp(f->field, "redirect_uri") == 0) && !url_ok(v))
        return "The issuer and redirect URI must be https:// addresses (http:// only for "
               "localhost).";
    if (strstr(f->field, "_claim") != NULL && !hub_name_ok(v, 64, "_.:-"))
        return "Claim names are 1-64 characters of A-Z a-z 0-9 _ . : -.";
    if (strcmp(f->field, "scopes") == 0 && !hub_name_ok(v, 255, " _.:/-"))
        return "Scopes are words of A-Z a-z 0-9 _ . : / - separated by spaces.";
    return NULL;
}

static void save(pg *p)
{
    char old[HUB_SETTING_MAX + 1];
    const char *secret = pg_in(p, "client_secret");
    bool clear = pg_in(p, "clear_secret") != NULL;
    hub_keyring kr;
    bool ok = false;
    pg_json b, a;

    memset(&kr, 0, sizeof(kr));
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *why = value_problem(&FIELDS[i], pg_in(p, FIELDS[i].field));
        if (why != NULL) {
            pg_refuse(p, 400, why, show);
            return;
        }
    }
    if (secret != NULL && (strlen(secret) > 1024 || strpbrk(secret, "\r\n") != NULL)) {
        pg_refuse(p, 400, "The client secret is too long or holds a line break.", show);
        return;
    }
    if (secret != NULL && !pg_keyring(p, &kr))
        return;
    pg_json_init(&b);
    pg_json_init(&a);
    if (!pg_tx_begin(p))
        goto end;
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *v = pg_in(p, FIELDS[i].field);
        if (!hub_setting_get(p->db, FIELDS[i].setting, old, sizeof(old), NULL) ||
            !hub_setting_put(p->db, FIELDS[i].setting, v)) {
            pg_fail_db(p);
            goto end;
        }
        pg_json_str(&b, FIELDS[i].setting, old[0] ? old : NULL);
        pg_json_str(&a, FIELDS[i].setting, v);
    }
    if (secret != NULL) {
        if (!hub_setting_put_secret(p->db, &kr, HUB_SET_OIDC_CLIENT_SECRET, secret, strlen(secret),
                                    p->err, sizeof(p->err))) {
            pg_fail(p, 500, p->err);
            goto end;
        }
        pg_json_str(&a, HUB_SET_OIDC_CLIENT_SECRET, "(sealed, replaced)");
    } else if (clear) {
        if (!hub_setting_clear_secret(p->db, HUB_SET_OIDC_CLIENT_SECRET)) {
            pg_fail_db(p);
            goto end;
        }
        pg_json_str(&a, HUB_SET_OIDC_CLIENT_SECRET, "(removed)");
    }
    pg_wipe_field(p, "client_secret");
    ok = pg_audit(p, "settings.update", "setting", "oidc", pg_json_done(&b), pg_json_done(&a)) &&
         pg_tx_commit(p);
end:
    pg_wipe_field(p, "client_secret");
    pg_json_free(&b);
    pg_json_free(&a);
    hub_keyring_wipe(&kr);
    if (ok)
        pg_redirect(p, "settings.cgi?done=saved");
}

static void post(pg *p)
{
    const char *action = pg_in(p, "action");
    if (action != NULL && strcmp(action, "save") == 0)
        save(p);
    else if (action != NULL && strcmp(action, "prompts_on") == 0)
        st_prompts_post(p, true);
    else if (action != NULL && strcmp(action, "prompts_off") == 0)
        st_prompts_post(p, false);
    else
        pg_fail(p, 400, "Unknown action.");
}

int main(void)
{
    static const pg_app APP = {.program = "settings.cgi",
                               .active = "settings",
                               .read_role = "admin",
                               .write_role = "admin",
                               .post = post,
                               .list = show};
    return pg_run(&APP);
}
