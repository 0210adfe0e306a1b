/*
 * settings_prompts.c — the "Prompt logging" section of settings.cgi (admin only).
 *
 * Prompt logging (lib/hub_prompt.h) stores the request body of every API call sent upstream,
 * sealed with the master key, for prompt_retention_days; off by default. This section shows
 * whether it is on, the hub.conf keys that bound it (prompt_log_max_bytes,
 * prompt_retention_days: read-only here), and one button that turns it on or off. The change
 * and its audit row ("settings.update", setting prompt_logging, before → after) commit
 * together; gateways apply it on their next catalogue refresh (catalog_refresh_ms).
 */
#include "settings.h"

#include "hub_prompt.h"

#include <stdio.h>
#include <string.h>

const char *const ST_PROMPTS_DONE[] = {
    "prompts_on",
    "Prompt logging is on: the gateways store request bodies (sealed) from their next "
    "catalogue refresh.",
    "prompts_off",
    "Prompt logging is off: no further request bodies are stored.",
    NULL,
};

void st_prompts_section(pg *p)
{
    bool on = false;
    hub_html_raw(&p->body, "<section class=\"panel\" id=\"prompt-logging\"><h2>Prompt "
                           "logging</h2>\n");
    if (!hub_prompt_logging_get(p->db, &on)) {
        hub_html_notice(&p->body, "error", "The prompt logging setting cannot be read now.");
        hub_html_raw(&p->body, "</section>\n");
        return;
    }
    hub_html_printf(&p->body,
                    "<p>Prompt logging is <strong>%s</strong>. When it is on, the gateways "
                    "store the request body of every API call they send to a provider, sealed "
                    "with the master key, so that admins — and each member, for their own calls "
                    "— can read it from the call log. Every view is written to the audit log. "
                    "Viewers never see prompts. Answers are never stored.</p>\n",
                    on ? "on" : "off");
    hub_html_printf(&p->body,
                    "<dl class=\"facts\"><dt>prompt_log_max_bytes</dt><dd>%d (longer bodies are "
                    "stored cut and marked as truncated)</dd><dt>prompt_retention_days</dt>"
                    "<dd>%d (older prompts are deleted)</dd></dl>\n"
                    "<p class=\"muted\">Both are set in hub.conf.</p>\n",
                    p->cfg.prompt_log_max_bytes, p->cfg.prompt_retention_days);
    pg_form_open(p, "inline");
    if (on)
        pg_button(p, "prompts_off", "Turn prompt logging off", "btn-danger");
    else
        pg_button(p, "prompts_on", "Turn prompt logging on", NULL);
    pg_form_close(p);
    hub_html_raw(&p->body, "</section>\n");
}

void st_prompts_post(pg *p, bool on)
{
    bool changed = false;
    if (!pg_tx_begin(p))
        return;
    if (!hub_prompt_logging_set(p->db, on, p->s.user, "pages", &changed)) {
        pg_fail_db(p);
        return;
    }
    if (!pg_tx_commit(p))
        return; /* the error page is sent */
    pg_redirect(p, on ? "settings.cgi?done=prompts_on#prompt-logging"
                      : "settings.cgi?done=prompts_off#prompt-logging");
}
