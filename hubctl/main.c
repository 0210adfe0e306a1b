/*
 * main.c — hubctl's entry point: global options (--config), the top-level command
 * table and the overall help.
 *
 * hubctl [--config PATH] COMMAND [ARGS]. Global options must come before the command;
 * everything after it belongs to the command, which parses its own options. The exit
 * status is 0 on success, 1 on a runtime error and 2 on a usage error.
 */
#include "config.h"

#include "hub_log.h"
#include "hubctl.h"

#include <getopt.h>
#include <mysql.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const hc_cmd COMMANDS[] = {
    {"migrate", hc_migrate_main, "apply the schema/NNN_*.sql files not applied yet"},
    {"init-keys", hc_init_keys_main, "create the master key file if it does not exist"},
    {"key-rotate", hc_key_rotate_main, "rotate the master key and reseal every credential"},
    {"provider", hc_provider_main, "add, list, enable and disable upstream providers"},
    {"credential", hc_credential_main, "add, list, enable, disable, remove provider API keys"},
    {"model", hc_model_main, "add, list and remove model routes"},
    {"price", hc_price_main, "set and list model prices"},
    {"team", hc_team_main, "add and list teams"},
    {"user", hc_user_main, "add, list, enable, disable users; roles and passwords"},
    {"admin", hc_admin_main, "create a local admin account for the admin pages"},
    {"key", hc_key_main, "create, list and revoke hub API keys"},
    {"usage", hc_usage_main, "usage, cost and chargeback reports (from the rollups)"},
    {"rollup", hc_rollup_main, "catch up the usage rollups the analytics pages read"},
    {"retention", hc_retention_main, "remove old raw usage rows (rollups kept) and old prompts"},
    {"spool", hc_spool_main, "drain the local usage spool into the database"},
    {"audit", hc_audit_main, "verify and list the audit log of every change"},
    {"limit", hc_limit_main, "monthly budgets and requests / tokens per minute limits"},
    {"settings", hc_settings_main, "run-time settings: prompt logging on or off"},
};
#define NCOMMANDS (sizeof(COMMANDS) / sizeof(COMMANDS[0]))

static void help(void)
{
    printf("usage: hubctl [--config PATH] COMMAND [ARGS]\n\n"
           "Administers a hub AI gateway: schema, master key, providers and their\n"
           "credentials, models, prices, users, teams, admin accounts, API keys, usage\n"
           "reports and the audit log. Every change is recorded in the audit log with the\n"
           "actor \"hubctl:<OS user>\".\n\n"
           "global options:\n"
           "  --config PATH   configuration file (default: $HUB_CONF, else the system\n"
           "                  hub.conf; now: %s)\n"
           "  --help          show this help\n"
           "  --version       show the version\n\n"
           "commands:\n",
           hub_config_path(NULL));
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-11s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    printf("\nRun 'hubctl COMMAND --help' for the options of a command.\n"
           "Exit status: 0 success, 1 runtime error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    static const struct option OPTS[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    hubctl h;
    int status = HC_EXIT_USAGE;

    memset(&h, 0, sizeof(h));
    hub_log_init("hubctl", "warn");
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "+:c:hV", OPTS, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'c':
            h.config_arg = optarg;
            break;
        case 'h':
            help();
            return HC_EXIT_OK;
        case 'V':
            printf("hubctl (hub) %s\n", PACKAGE_VERSION);
            return HC_EXIT_OK;
        default:
            if (c == ':')
                hc_err("option '%s' needs a value (try 'hubctl --help')", argv[optind - 1]);
            else
                hc_err("unknown option '%s' (try 'hubctl --help')", argv[optind - 1]);
            return HC_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        hc_err("missing command (try 'hubctl --help')");
        return HC_EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    if (strcmp(cmd, "help") == 0) {
        help();
        return HC_EXIT_OK;
    }
    const hc_cmd *found = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(COMMANDS[i].name, cmd) == 0)
            found = &COMMANDS[i];
    }
    if (found == NULL) {
        hc_err("unknown command '%s' (try 'hubctl --help')", cmd);
        return HC_EXIT_USAGE;
    }
    if (mysql_library_init(0, NULL, NULL) != 0) {
        hc_err("cannot initialise the MariaDB client library");
        return HC_EXIT_FAIL;
    }
    status = found->fn(&h, argc - optind, argv + optind);
    hc_close(&h);
    mysql_library_end();
    if ((fflush(stdout) != 0 || ferror(stdout)) && status == HC_EXIT_OK) {
        hc_err("cannot write to stdout");
        status = HC_EXIT_FAIL;
    }
    return status;
}
