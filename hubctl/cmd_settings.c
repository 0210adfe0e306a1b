/*
 * cmd_settings.c — "hubctl settings prompt-logging on|off|status": the run-time settings an
 * admin also changes on settings.cgi. Prompt logging (lib/hub_prompt.h) is off by default; a
 * change is written with its audit row ("settings.update", setting prompt_logging, before →
 * after) in one transaction, and running gateways apply it on their next catalogue refresh
 * (catalog_refresh_ms). status prints the state and hub.conf's prompt_log_max_bytes and
 * prompt_retention_days.
 */
#include "hubctl.h"

#include "hub_prompt.h"

#include <string.h>

static const char PROMPT_HELP[] =
    "usage: hubctl settings prompt-logging on|off|status\n\n"
    "Prompt logging stores the request body of every API call the gateways send upstream,\n"
    "sealed with the master key, so that admins (and each member, for their own calls) can\n"
    "read it from the call log. Off by default. 'on' and 'off' change it (recorded in the\n"
    "audit log; gateways apply it within catalog_refresh_ms); 'status' shows it with the\n"
    "hub.conf keys prompt_log_max_bytes (longer bodies are stored cut and marked so) and\n"
    "prompt_retention_days (older prompts are deleted).\n";

static int prompt_status(hubctl *h, hub_db *db)
{
    bool on = false;
    long long n = 0;
    if (!hub_prompt_logging_get(db, &on) || !hub_prompt_count_other_keys(db, 0, &n)) {
        hc_err("database error: %s", hub_db_error(db));
        return HC_EXIT_FAIL;
    }
    printf("prompt logging:        %s\n", on ? "on" : "off");
    printf("prompt_log_max_bytes:  %d\n", h->cfg.prompt_log_max_bytes);
    printf("prompt_retention_days: %d\n", h->cfg.prompt_retention_days);
    printf("stored prompts:        %lld\n", n);
    return HC_EXIT_OK;
}

static int prompt_logging(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    bool changed = false;
    if (!hc_simple_args(argc, argv, "settings prompt-logging", PROMPT_HELP, 1, "on, off or status",
                        &pos, &status))
        return status;
    const char *what = pos.v[0];
    bool on = strcmp(what, "on") == 0;
    if (!on && strcmp(what, "off") != 0 && strcmp(what, "status") != 0)
        return hc_usage("settings prompt-logging", "say on, off or status, not '%s'", what);
    if (!hc_config(h))
        return HC_EXIT_FAIL;
    hub_db *db = hc_db(h);
    if (db == NULL)
        return HC_EXIT_FAIL;
    if (strcmp(what, "status") == 0)
        return prompt_status(h, db);
    if (!hc_tx_begin(h))
        return HC_EXIT_FAIL;
    if (!hub_prompt_logging_set(db, on, hc_actor(h), "hubctl", &changed)) {
        hc_err("cannot change the setting: %s; nothing was changed", hub_db_error(db));
        hc_tx_rollback(h);
        return HC_EXIT_FAIL;
    }
    if (!hc_tx_commit(h)) {
        hc_tx_rollback(h);
        return HC_EXIT_FAIL;
    }
    printf("prompt logging %s%s\n", changed ? "is now " : "was already ", on ? "on" : "off");
    return HC_EXIT_OK;
}

int hc_settings_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"prompt-logging", prompt_logging, "turn prompt logging on or off, or show it"},
    };
    return hc_dispatch(h, "settings", "Run-time settings (also on the admin settings page).", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
