/*
 * hubctl.h — shared state and helpers of hubctl, the hub administration command.
 *
 * hubctl is a short-lived, single-threaded program: main.c parses the global options,
 * then hands argv to one command function through a dispatch table. Every command
 * returns an exit status (HC_EXIT_OK, HC_EXIT_FAIL for runtime errors, HC_EXIT_USAGE for
 * bad command lines) after printing at most one "hubctl: ..." line on stderr.
 * The helpers here (util*.c) load the configuration and open the database lazily, parse
 * options uniformly, read a secret from stdin, print aligned tables, JSON arrays and CSV,
 * and store sealed credentials and audit rows. What hubctl shares with the admin pages
 * (checks of names, globs, dates and URLs, provider presets, transactions, credentials, API
 * keys, model routes, prices) is in lib/hub_ops.h. No helper ever prints a secret.
 */
#ifndef HUBCTL_H
#define HUBCTL_H

#include "hub_audit.h"
#include "hub_buf.h"
#include "hub_config.h"
#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_ops.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HC_EXIT_OK    0
#define HC_EXIT_FAIL  1
#define HC_EXIT_USAGE 2

/* Longest secret (provider credential, password) accepted on stdin. */
#define HC_SECRET_MAX HUB_SECRET_MAX
/* Most positional arguments any command takes. */
#define HC_MAX_POS 4
/* Most options a command takes besides --help. */
#define HC_MAX_OPTS 12

typedef struct {
    const char *config_arg; /* --config value, borrowed from argv; NULL = default */
    hub_config cfg;
    bool cfg_loaded;
    hub_db *db; /* owned; created on first use */
    bool in_tx;
    unsigned long tx_thread; /* server thread id of the connection that began the tx */
    char actor[160];         /* "hubctl:<OS user>", filled on first use (util_audit.c) */
} hubctl;

/* A command: argv[0] is the command's own name. Returns an HC_EXIT_* status. */
typedef int (*hc_fn)(hubctl *h, int argc, char **argv);

typedef struct {
    const char *name;
    hc_fn fn;
    const char *summary;
} hc_cmd;

/* Positional arguments collected while parsing options (pointers borrow argv). */
typedef struct {
    char *v[HC_MAX_POS];
    int n;
    bool overflow;
} hc_pos;

/* One option of a command besides --help: "--name" with a value, or a flag. */
typedef struct {
    const char *name;
    const char **val; /* takes a value: stored here (borrowed from argv); else NULL */
    bool *flag;       /* takes no value: set to true */
} hc_opt;

/* ---- util.c: messages, options, dispatch, secrets ------------------------------------ */

/* Prints "hubctl: <message>" on stderr (one line). */
void hc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "hubctl: CMD: <message> (try 'hubctl CMD --help')" and returns HC_EXIT_USAGE. */
int hc_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parses the command line of command cmd (argv[0] is the command's own name): the nopts
 * options of opts (may be NULL), --help (prints help) and positionals into pos, in any
 * order; "--" ends the options. Then wants exactly want positionals (what names them in the
 * message), or at most -want of them when want is negative. true to go on; false with
 * *status set: HC_EXIT_OK after the help, else a usage status after its message.
 */
bool hc_args(int argc, char **argv, const char *cmd, const char *help, const hc_opt *opts,
             int nopts, int want, const char *what, hc_pos *pos, int *status);
/* hc_args for a command whose only option is --help. */
bool hc_simple_args(int argc, char **argv, const char *cmd, const char *help, int want,
                    const char *what, hc_pos *pos, int *status);

/* Runs the sub-command named by argv[1] from cmds (group = "provider", ...). */
int hc_dispatch(hubctl *h, const char *group, const char *blurb, const hc_cmd *cmds, size_t n,
                int argc, char **argv);

/*
 * Reads the first line of stdin (prompting without echo on a terminal) into buf
 * (HC_SECRET_MAX + 3 bytes). Strips trailing CR/LF; refuses an empty value, one over
 * HC_SECRET_MAX, control characters and surrounding spaces. An empty first line (or no
 * input at all) is accepted only with allow_empty, as *len = 0. what names the value in
 * messages ("key", "password"). On failure writes a message (without the secret) to err.
 * The caller wipes buf with explicit_bzero.
 */
bool hc_read_secret(const char *prompt, const char *what, char *buf, size_t bufsz, size_t *len,
                    bool allow_empty, char *err, size_t errsz);

/* ---- util_out.c: aligned tables, JSON arrays, CSV ------------------------------------ */

typedef struct {
    int ncols;
    const char *const *heads; /* borrowed */
    unsigned right;           /* bit i set: right-align column i */
    char **cells;             /* owned, nrows * ncols, sanitised copies */
    int nrows;
    int cap;
    bool oom;
} hc_table;

/* Most columns of a table, and room for one cell a row function computes. */
#define HC_TABLE_COLS 32
#define HC_CELL_MAX   1024

void hc_table_init(hc_table *t, int ncols, const char *const *heads, unsigned right);
/* Copies one row of ncols cells (NULL prints as "-"); control bytes become '?'. */
void hc_table_add(hc_table *t, const char *const *row);
/* Prints the table; false (after the message) when it ran out of memory while being filled. */
bool hc_table_print(const hc_table *t, FILE *f);
void hc_table_free(hc_table *t);

/* Makes the ncols cells of one table row from row i of r; computed text goes into buf
 * (one HC_CELL_MAX slot per cell). */
typedef void (*hc_cells_fn)(const hub_dbres *r, int i, const char **cells,
                            char (*buf)[HC_CELL_MAX]);
/* Prints the rows of r as a table on stdout: columns 0..ncols-1 of r, or the cells fn makes
 * (fn may be NULL). HC_EXIT_OK, or HC_EXIT_FAIL after the message. */
int hc_print_table(const hub_dbres *r, int ncols, const char *const *heads, unsigned right,
                   hc_cells_fn fn);
/* Runs the query sql (hc_exec) and prints its rows with hc_print_table. An exit status. */
int hc_list(hubctl *h, const char *sql, const hub_dbp *params, int nparams, int ncols,
            const char *const *heads, unsigned right, hc_cells_fn fn);

/* Appends the JSON object of row i of r to b; false when memory ran out. */
typedef bool (*hc_json_fn)(hub_buf *b, const hub_dbres *r, int i);
/* Prints the rows of r as a JSON array on stdout, one object a line. HC_EXIT_OK, or
 * HC_EXIT_FAIL after the message. */
int hc_print_json(const hub_dbres *r, hc_json_fn fn);

/* Writes s as one CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180). */
void hc_csv_field(FILE *f, const char *s);
/* Parses a whole decimal integer as produced by MariaDB (SUM, COUNT); NULL is 0. */
long long hc_llval(const char *s);

/* ---- util_db.c: configuration, database, transactions -------------------------------- */

/* Loads the configuration once. false after printing the error. */
bool hc_config(hubctl *h);
/* The connected database handle, or NULL after printing the error. */
hub_db *hc_db(hubctl *h);
/* hub_db_exec that prints "hubctl: database error: ..." on failure. */
bool hc_exec(hubctl *h, const char *sql, const hub_dbp *params, int nparams, hub_dbres *res,
             long long *affected, long long *insert_id);
/* Looks up "SELECT id ... WHERE name = ?" style statements: *id = first column of the
 * first row, 0 when there is no row. false on a database error (printed). */
bool hc_lookup_id(hubctl *h, const char *sql, const char *name, long long *id);
/* START TRANSACTION. */
bool hc_tx_begin(hubctl *h);
/* COMMIT, refused when the connection was replaced since hc_tx_begin. */
bool hc_tx_commit(hubctl *h);
/* ROLLBACK when a transaction is open; never fails loudly. */
void hc_tx_rollback(hubctl *h);
/* Loads the master keyring (strict mode check) into kr. false after printing the error. */
bool hc_keyring_load(hubctl *h, hub_keyring *kr);
/* Releases the database handle. */
void hc_close(hubctl *h);

/* ---- util_cred.c: what "provider add" and "credential add" share -------------------- */

/* Parses a credential's --label (NULL: none given) and --weight (NULL: 1) for cmd. false
 * with *status set after a usage message. */
bool hc_cred_opts(const char *cmd, const char *label, const char *weight_s, long *weight,
                  int *status);
/* Reads a provider's API key from stdin into secret (HC_SECRET_MAX + 3 bytes); optional:
 * an empty line stores HUB_OLLAMA_KEY. false after printing the error. */
bool hc_read_provider_key(bool optional, char *secret, size_t secretsz, size_t *len);
/*
 * Inside the caller's transaction, with provider pid locked: checks label (NULL: the first
 * free "key-<n>", written to label_buf) is free, stores the sealed credential (hub_cred_store)
 * and writes *cid and *key_id. provider names the provider in messages. false after
 * printing the error (the caller rolls back).
 */
bool hc_cred_add(hubctl *h, const hub_keyring *kr, long long pid, const char *provider,
                 const char **label, char *label_buf, size_t label_bufsz, long weight,
                 const char *secret, size_t slen, long long *cid, int *key_id);

/* ---- util_audit.c: the audit trail of every change ----------------------------------- */

/* Secret fields appear in audit values only as this word. */
#define HC_SEALED "(sealed)"

/* "hubctl:<user name of the effective uid>" ("hubctl:uid-N" without a passwd entry). */
const char *hc_actor(hubctl *h);
/*
 * Appends one audit row (via "hubctl") for a change made in the open transaction, so the
 * change and its row commit together. before/after (hub_audit.h) may be NULL (nothing
 * before: an add; nothing after: a removal). false after printing the error: the caller
 * rolls back.
 */
bool hc_audit(hubctl *h, const char *action, const char *target_type, const char *target,
              hub_jobj *before, hub_jobj *after);

/* ---- command groups ----------------------------------------------------------------- */

int hc_provider_main(hubctl *h, int argc, char **argv);
int hc_credential_main(hubctl *h, int argc, char **argv);
int hc_model_main(hubctl *h, int argc, char **argv);
int hc_price_main(hubctl *h, int argc, char **argv);
int hc_user_main(hubctl *h, int argc, char **argv);
int hc_team_main(hubctl *h, int argc, char **argv);
int hc_key_main(hubctl *h, int argc, char **argv);
int hc_usage_main(hubctl *h, int argc, char **argv);
int hc_rollup_main(hubctl *h, int argc, char **argv);    /* cmd_rollup.c */
int hc_retention_main(hubctl *h, int argc, char **argv); /* cmd_rollup.c */
int hc_migrate_main(hubctl *h, int argc, char **argv);
int hc_init_keys_main(hubctl *h, int argc, char **argv);
int hc_key_rotate_main(hubctl *h, int argc, char **argv);
int hc_spool_main(hubctl *h, int argc, char **argv);
int hc_admin_main(hubctl *h, int argc, char **argv);
int hc_audit_main(hubctl *h, int argc, char **argv);
int hc_limit_main(hubctl *h, int argc, char **argv);    /* cmd_limits.c */
int hc_settings_main(hubctl *h, int argc, char **argv); /* cmd_settings.c */
/* cmd_account.c: "user role" and "user passwd" (dispatched from cmd_user.c) */
int hc_user_role(hubctl *h, int argc, char **argv);
int hc_user_passwd(hubctl *h, int argc, char **argv);

#endif
