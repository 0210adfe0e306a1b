/*
 * hubctl.h — shared state and helpers of hubctl, the hub administration command.
 *
 * hubctl is a short-lived, single-threaded program: main.c parses the global options,
 * then hands argv to one command function through a dispatch table. Every command
 * returns an exit status (HC_EXIT_OK, HC_EXIT_FAIL for runtime errors, HC_EXIT_USAGE for
 * bad command lines) after printing at most one "hubctl: ..." line on stderr.
 * The helpers here (util.c, util_db.c) load the configuration and open the database
 * lazily, parse options uniformly, validate names, read a secret from stdin, print
 * aligned tables and quote CSV. No helper ever prints a secret.
 */
#ifndef HUBCTL_H
#define HUBCTL_H

#include "hub_buf.h"
#include "hub_config.h"
#include "hub_crypto.h"
#include "hub_db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HC_EXIT_OK    0
#define HC_EXIT_FAIL  1
#define HC_EXIT_USAGE 2

/* Longest provider credential accepted on stdin. */
#define HC_SECRET_MAX 4096
/* Most positional arguments any command takes. */
#define HC_MAX_POS 4

/* Character sets of the names hubctl accepts (besides ASCII letters and digits). */
#define HC_CHARS_PROVIDER  "._-"
#define HC_CHARS_MODEL     "._:@/-"
#define HC_CHARS_PRINCIPAL "._@+-" /* users, teams, API key names */
#define HC_CHARS_APP       "._:@/-"
#define HC_CHARS_LABEL     "._:@-" /* credential labels, at most 64 */

/* Credential weights (weighted choice among a provider's active credentials). */
#define HC_WEIGHT_MIN 1
#define HC_WEIGHT_MAX 1000

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

/* ---- util.c: messages, options, validation, output ------------------------------------ */

/* Prints "hubctl: <message>" on stderr (one line). */
void hc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "hubctl: CMD: <message> (try 'hubctl CMD --help')" and returns HC_EXIT_USAGE. */
int hc_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets getopt for a new argv (GNU full re-initialisation) and silences its messages.
 * Commands use the option string "-:..." so that positionals arrive as option 1. */
void hc_getopt_reset(void);
/* Reports the getopt result c ('?' or ':') as a usage error for cmd. */
int hc_bad_option(const char *cmd, char **argv, int c);
/* Adds one positional (getopt option 1). */
void hc_pos_add(hc_pos *p, char *arg);
/* Adds the arguments left after "--". */
void hc_pos_rest(hc_pos *p, int argc, char **argv);
/* Usage error unless exactly want positionals were given; what names them ("NAME"). */
bool hc_pos_expect(const hc_pos *p, int want, const char *cmd, const char *what, int *status);

/*
 * Parses a command whose only option is --help and that takes exactly want positionals
 * (what names them in the message), or at most -want of them when want is negative.
 * Returns true to go on; false with *status set when help was shown or the command line
 * was wrong.
 */
bool hc_simple_args(int argc, char **argv, const char *cmd, const char *help, int want,
                    const char *what, hc_pos *pos, int *status);

/* Runs the sub-command named by argv[1] from cmds (group = "provider", ...). */
int hc_dispatch(hubctl *h, const char *group, const char *blurb, const hc_cmd *cmds, size_t n,
                int argc, char **argv);

/* True when s is 1..maxlen characters of ASCII letters, digits and the bytes of extra. */
bool hc_name_ok(const char *s, size_t maxlen, const char *extra);
/* A model name: HC_CHARS_MODEL, at most 191 characters, no "..". */
bool hc_model_name_ok(const char *s);
/* A plain e-mail address: local@domain, printable ASCII without spaces or specials, at most
 * 255 characters. */
bool hc_email_ok(const char *e);
/* Strict YYYY-MM-DD naming a real calendar day. */
bool hc_date_ok(const char *s);
/* Formats micro-USD as USD: 6 decimals, trailing zeros trimmed down to min_decimals. */
void hc_fmt_usd(long long micro, int min_decimals, char *out, size_t outsz);
/* Strict decimal integer in [min, max]: an optional '-' and digits only (no spaces, no
 * '+'). false when s is anything else. */
bool hc_parse_int(const char *s, long min, long max, long *out);
/* Parses a whole decimal integer as produced by MariaDB (SUM, COUNT); NULL is 0. */
long long hc_llval(const char *s);

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

/* ---- util.c: aligned tables and CSV ------------------------------------------------- */

typedef struct {
    int ncols;
    const char *const *heads; /* borrowed */
    unsigned right;           /* bit i set: right-align column i */
    char **cells;             /* owned, nrows * ncols, sanitised copies */
    int nrows;
    int cap;
    bool oom;
} hc_table;

void hc_table_init(hc_table *t, int ncols, const char *const *heads, unsigned right);
/* Copies one row of ncols cells (NULL prints as "-"); control bytes become '?'. */
void hc_table_add(hc_table *t, const char *const *row);
/* Prints the table; false when it ran out of memory while being filled. */
bool hc_table_print(const hc_table *t, FILE *f);
void hc_table_free(hc_table *t);

/* Writes s as one CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180). */
void hc_csv_field(FILE *f, const char *s);

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

/* ---- util_cred.c: credentials shared by "provider add" and "credential add" ---------- */

/* A credential label: 1-64 characters of A-Z a-z 0-9 and HC_CHARS_LABEL. */
bool hc_label_ok(const char *s);
/* Parses a credential weight (HC_WEIGHT_MIN..HC_WEIGHT_MAX). */
bool hc_weight_parse(const char *s, long *w);
/*
 * Picks the first free label "key-<n>" of provider pid, n counting on from the number of
 * its credentials + 1, into out. Call inside the transaction that inserts it, with the
 * provider row locked. false after printing the error.
 */
bool hc_cred_default_label(hubctl *h, long long pid, char *out, size_t outsz);
/* *taken = provider pid already has a credential labelled label. false on a DB error. */
bool hc_cred_label_taken(hubctl *h, long long pid, const char *label, bool *taken);
/*
 * Inside the caller's transaction: inserts credential (pid, label, weight), seals
 * secret[0..slen) with the current master key under "credential:<id>" and stores the
 * blob and key id. *cid and *key_id get the new row's id and the key used. The secret is
 * not copied; the caller wipes it. false after printing the error (caller rolls back).
 */
bool hc_cred_store(hubctl *h, const hub_keyring *kr, long long pid, const char *label, long weight,
                   const char *secret, size_t slen, long long *cid, int *key_id);

/* ---- util_audit.c: the audit trail of every change ----------------------------------- */

/* Secret fields appear in audit values only as this word. */
#define HC_SEALED "(sealed)"

/*
 * A small JSON object writer for audit before/after values: keys are literals, values
 * are escaped. Memory exhaustion is remembered and reported by hc_audit.
 */
typedef struct {
    hub_buf b;
    bool oom;
    bool closed;
} hc_json;

void hc_json_begin(hc_json *j);
/* "key": "val" (NULL val: null). */
void hc_json_str(hc_json *j, const char *key, const char *val);
void hc_json_int(hc_json *j, const char *key, long long v);
void hc_json_bool(hc_json *j, const char *key, bool v);
/* "key": <val>, val already a JSON value (a number from MariaDB...); NULL: null. */
void hc_json_raw(hc_json *j, const char *key, const char *val);
void hc_json_free(hc_json *j);

/* "hubctl:<user name of the effective uid>" ("hubctl:uid-N" without a passwd entry). */
const char *hc_actor(hubctl *h);
/*
 * Appends one audit row (via "hubctl") for a change made in the open transaction, so the
 * change and its row commit together. before/after may be NULL (nothing before: an add;
 * nothing after: a removal). false after printing the error: the caller rolls back.
 */
bool hc_audit(hubctl *h, const char *action, const char *target_type, const char *target,
              hc_json *before, hc_json *after);

/* ---- command groups ----------------------------------------------------------------- */

int hc_provider_main(hubctl *h, int argc, char **argv);
int hc_credential_main(hubctl *h, int argc, char **argv);
int hc_model_main(hubctl *h, int argc, char **argv);
int hc_price_main(hubctl *h, int argc, char **argv);
int hc_user_main(hubctl *h, int argc, char **argv);
int hc_team_main(hubctl *h, int argc, char **argv);
int hc_key_main(hubctl *h, int argc, char **argv);
int hc_usage_main(hubctl *h, int argc, char **argv);
int hc_migrate_main(hubctl *h, int argc, char **argv);
int hc_init_keys_main(hubctl *h, int argc, char **argv);
int hc_key_rotate_main(hubctl *h, int argc, char **argv);
int hc_spool_main(hubctl *h, int argc, char **argv);
int hc_admin_main(hubctl *h, int argc, char **argv);
int hc_audit_main(hubctl *h, int argc, char **argv);
/* cmd_account.c: "user role" and "user passwd" (dispatched from cmd_user.c) */
int hc_user_role(hubctl *h, int argc, char **argv);
int hc_user_passwd(hubctl *h, int argc, char **argv);

#endif
