/*
 * page.h — what every admin page program shares, one function per concern:
 *
 *   starting a request   pg_start: method allowed?, hub.conf, database, the request itself;
 *   who is asking        pg_auth: signed in? (else 303 to login.cgi), role, CSRF on POST;
 *   answering            pg_begin/pg_send (a page in the shared layout), pg_fail (a readable
 *                        error page: 400/403/404/405/409/500/503), pg_redirect (303 after POST);
 *   changing things      pg_tx_begin/commit/rollback and pg_audit (the audit row goes into the
 *                        same transaction as the change), pg_keyring (sealing secrets);
 *   reading              pg_exec, pg_row (one row or 404), pg_list (a page of a list);
 *   writing HTML         tables, form fields, badges, notices, the pager — every value
 *                        escaped by hub_html (page_html.c).
 *
 * A program's main() is pg_run (or by hand: pg_start → pg_auth → GET shows, POST changes
 * then redirects → pg_finish). Every function that answers the request sets p->sent; later calls
 * are no-ops, and pg_finish answers 500 if nothing was sent (never a blank page).
 *
 * Memory: a pg owns its config, database handle, parsed request and page buffer; pg_finish
 * releases them. Strings returned by pg_arg / pg_in are borrowed from the request.
 */
#ifndef PAGE_H
#define PAGE_H

#include "hub_audit.h"
#include "hub_buf.h"
#include "hub_cgi.h"
#include "hub_config.h"
#include "hub_crypto.h"
#include "hub_db.h"
#include "hub_html.h"
#include "hub_session.h"

#include <stdbool.h>
#include <stddef.h>

#define PG_PAGE_SIZE  50    /* rows per page of every list */
#define PG_MAX_PAGE   10000 /* highest page number accepted */
#define PG_CSRF_FIELD "csrf"

typedef struct {
    hub_config cfg;
    hub_db *db;  /* owned */
    hub_cgi cgi; /* owned contents */
    bool cgi_read;
    hub_session s; /* the signed-in user, valid when signed_in */
    bool signed_in;
    const char *program; /* "providers.cgi" */
    const char *active;  /* navigation entry to highlight */
    char self[128];      /* URL path of this program: admin_base + "/" + program */
    char headers[1024];  /* extra response header lines (Set-Cookie), "Name: v\r\n"... */
    hub_buf body;        /* the page being written */
    bool sent;           /* a response went out */
    bool in_tx;
    unsigned long tx_thread;
    char err[512]; /* why the last operation failed (shown on the page) */
} pg;

/* ---- the request ------------------------------------------------------------------------ */

/*
 * Starts a request of program (e.g. "keys.cgi"; active = its navigation entry): refuses
 * methods other than GET, HEAD and (when post_ok) POST with 405, loads hub.conf, connects
 * to the database and reads the request (400 when malformed). false when an error page
 * was sent.
 */
bool pg_start(pg *p, const char *program, const char *active, bool post_ok);
/*
 * Finds the signed-in user (not signed in: 303 to login.cgi), checks the role: read_role
 * for GET, write_role for POST (403 "You do not have access to this page"), and on POST the
 * CSRF token (403, nothing changed). false when a response was sent.
 */
bool pg_auth(pg *p, const char *read_role, const char *write_role);
/* Sends what is pending (500 if nothing was), releases everything. Returns main's status. */
int pg_finish(pg *p);

bool pg_is_post(const pg *p);
/* A query parameter, or NULL. */
const char *pg_arg(const pg *p, const char *name);
/* A form field (POST) with a non-empty value, or NULL. */
const char *pg_in(const pg *p, const char *name);
/* The submitted value of a form field when this is a POST being shown again, else dflt:
 * for refilling a form after a refused change (never use it for secret fields). */
const char *pg_prefill(const pg *p, const char *name, const char *dflt);
/* Overwrites every submitted value of form field name with zero bytes (secrets, once used). */
void pg_wipe_field(pg *p, const char *name);
/* A positive id from the form (POST) or the query (GET) field name. false when absent or
 * malformed. */
bool pg_id(const pg *p, const char *name, long long *id);
/* The list page number from ?page= (1 when absent or malformed). */
long pg_page_no(const pg *p);
/* True when role (the signed-in user's) is at least need. */
bool pg_role(const pg *p, const char *need);

/* ---- answering -------------------------------------------------------------------------- */

/* Starts the page body in the shared layout with this title. */
void pg_begin(pg *p, const char *title);
/* Ends the layout and sends head (status, security headers, p->headers) and body. */
void pg_send(pg *p, int status);
/* A complete error page: title from the status, msg as an error notice, a link home. */
void pg_fail(pg *p, int status, const char *msg);
/* The error page for a failed database call: 503 when the server is down, else 500. */
void pg_fail_db(pg *p);
/* 303 to admin_base + "/" + rel (rel: "keys.cgi?done=revoked", built from constants,
 * numbers and hub_cgi_urlencode'd values; refused with 500 when it holds CR, LF or NUL). */
void pg_redirect(pg *p, const char *rel);
/* Adds a response header line ("Name: value", no CRLF) to the next response. */
void pg_header(pg *p, const char *line);

/* ---- changing things -------------------------------------------------------------------- */

bool pg_tx_begin(pg *p);
/* false with p->err set when the commit failed (rolled back). */
bool pg_tx_commit(pg *p);
void pg_tx_rollback(pg *p);
/* Appends the audit row of a change made by the signed-in user (via "pages"), inside the
 * current transaction. before/after: JSON objects or NULL; never a secret. */
bool pg_audit(pg *p, const char *action, const char *target_type, const char *target,
              const char *before, const char *after);
/* Refuses a change: rolls the transaction back, sets p->err to msg and shows its form
 * again with show and status (400, 404, 409); show NULL: the caller shows it. */
void pg_refuse(pg *p, int status, const char *msg, void (*show)(pg *p, int status));
/* The end of a change made in the open transaction: its audit row (pg_audit; before and
 * after may be NULL, neither is freed here) and COMMIT. false after an error page. */
bool pg_audit_commit(pg *p, const char *action, const char *target_type, const char *target,
                     hub_jobj *before, hub_jobj *after);
/* 303 to program?id=ID&done=DONE after a change (id 0: program?done=DONE). */
void pg_redirect_done(pg *p, const char *program, long long id, const char *done);
/* Loads the master keyring; false (after a 500 page) when it cannot be read. Wipe with
 * hub_keyring_wipe. */
bool pg_keyring(pg *p, hub_keyring *kr);

/* The JSON objects of audit before/after values: hub_jobj of hub_audit.h (shared with
 * hubctl) under the pages' names. pg_json_done closes the object and returns its text,
 * borrowed from j until pg_json_free (NULL when memory ran out). */
typedef hub_jobj pg_json;

static inline void pg_json_init(pg_json *j)
{
    hub_jobj_begin(j);
}
static inline void pg_json_str(pg_json *j, const char *key, const char *value)
{
    hub_jobj_str(j, key, value); /* NULL → null */
}
static inline void pg_json_int(pg_json *j, const char *key, long long value)
{
    hub_jobj_int(j, key, value);
}
static inline void pg_json_bool(pg_json *j, const char *key, bool value)
{
    hub_jobj_bool(j, key, value);
}
/* Adds columns 0..n-1 of row of r under keys (NULL cells → null). */
static inline void pg_json_row(pg_json *j, const hub_dbres *r, int row, const char *const *keys,
                               int n)
{
    hub_jobj_row(j, r, row, keys, n);
}
static inline const char *pg_json_done(pg_json *j)
{
    return hub_jobj_text(j);
}
static inline void pg_json_free(pg_json *j)
{
    hub_jobj_free(j);
}

/* ---- reading the database (each returns false after an error page) ---------------------- */

/* Most filter parameters of a list statement (pg_list). */
#define PG_LIST_PARAMS 16

/* hub_db_exec of sql with the n parameters q into r (may be NULL); on failure the error
 * page of pg_fail_db. */
bool pg_exec(pg *p, const char *sql, const hub_dbp *q, int n, hub_dbres *r);
/* "SELECT id ... WHERE name = ?" statements: *id = the first column of the first row, 0
 * when there is none. */
bool pg_lookup_id(pg *p, const char *sql, const char *name, long long *id);
/* The row of sql ("... WHERE id = ?") for id into *r (the caller frees it); 404 with the
 * text missing when there is none. */
bool pg_row(pg *p, const char *sql, long long id, hub_dbres *r, const char *missing);
/* The rows of list page ?page= (*page gets its number) of sql, which ends in "LIMIT ?
 * OFFSET ?": the n filter parameters q come first. Show pg_shown(r) rows; one more than
 * PG_PAGE_SIZE means there is a next page. */
bool pg_list(pg *p, const char *sql, const hub_dbp *q, int n, long *page, hub_dbres *r);
/* How many rows of a pg_list result to show. */
int pg_shown(const hub_dbres *r);
/* The name of team tid into out ("" when there is no such team). */
bool pg_team_name(pg *p, long long tid, char *out, size_t outsz);

/* ---- the program ------------------------------------------------------------------------ */

/*
 * What a page program answers. pg_run starts the request (pg_start, pg_auth with
 * read_role and write_role) and then shows, by the request:
 *   POST                  post (NULL: POST is refused with 405)
 *   GET ?view=VIEW        view_fn (view NULL: none)
 *   GET ?new=1            new_fn for write_role, else 403 (new_fn NULL: none)
 *   GET ?id=N             item, or 404 with missing when N is malformed (item NULL: none)
 *   any other GET         list
 */
typedef struct {
    const char *program, *active;
    const char *read_role, *write_role;
    void (*post)(pg *p);
    const char *view;
    void (*view_fn)(pg *p, int status);
    void (*new_fn)(pg *p, int status);
    void (*item)(pg *p, long long id, int status);
    const char *missing;
    void (*list)(pg *p, int status);
} pg_app;

/* Answers the request as a describes and releases everything; main's return value. */
int pg_run(const pg_app *a);

/* ---- writing HTML (into p->body; every value escaped) ------------------------------------ */

/* An ok notice for ?done=CODE when CODE is in msgs (pairs: code, text; NULL-terminated). */
void pg_done_notice(pg *p, const char *const *msgs);
/* Sets p->err to msg (msg may be p->err itself). */
void pg_set_err(pg *p, const char *msg);
/* An error notice with p->err, or msg when p->err is empty. */
void pg_error_notice(pg *p, const char *msg);
/* The notices of a page: the ok notice of ?done= (from done, may be NULL) and p->err. */
void pg_notices(pg *p, const char *const *done);

/* <table class="list"><thead>…</thead><tbody>; heads are markup constants. */
void pg_table_begin(pg *p, const char *const *heads, int n);
void pg_table_end(pg *p);
/* <td>value</td>; NULL shows an em dash. */
void pg_td(pg *p, const char *value);
void pg_td_num(pg *p, long long value);
/* <span class="badge badge-KIND">text</span> in a cell; kind: ok, warn, off. */
void pg_td_badge(pg *p, const char *kind, const char *text);
/* An empty-list row spanning ncols. */
void pg_empty_row(pg *p, int ncols, const char *text);

/* Opens a POST form to this program (hidden CSRF field) with a layout class
 * ("stack" for a form of fields, "inline" for a row of buttons). */
void pg_form_open(pg *p, const char *layout);
void pg_form_close(pg *p);
void pg_hidden(pg *p, const char *name, const char *value);
void pg_hidden_id(pg *p, const char *name, long long id);
/* <label>Label <input type name value attrs></label> with an optional hint; attrs is a
 * markup constant (e.g. "required maxlength=\"64\""), may be NULL. */
void pg_input(pg *p, const char *label, const char *type, const char *name, const char *value,
              const char *attrs, const char *hint);
/* A select of options (value/text pairs; text NULL = value), selected may be NULL. */
void pg_select(pg *p, const char *label, const char *name, const char *const *opts, int nopts,
               const char *selected, const char *hint);
/* The same, options from column 0 (value) and 1 (text) of r; with an empty first option
 * empty_text when not NULL. */
void pg_select_res(pg *p, const char *label, const char *name, const hub_dbres *r,
                   const char *selected, const char *empty_text, const char *hint);
void pg_checkbox(pg *p, const char *label, const char *name, bool checked, const char *hint);
/* <button type="submit" name="action" value="action" class="btn CLS">text</button>;
 * cls: NULL, "btn-danger" or "btn-quiet". */
void pg_button(pg *p, const char *action, const char *text, const char *cls);
/* A one-button form posting action with the hidden id field (row actions). */
void pg_row_action(pg *p, const char *action, const char *id_name, long long id, const char *text,
                   const char *cls);
/* "← Newer" / "Older →" links: this program with query (already encoded, may be "") plus
 * page=N. */
void pg_pager(pg *p, const char *query, long page, bool more);
/* pg_pager with the query built from lead (already encoded, may be NULL) and the filters
 * names[i]=vals[i] whose value is not NULL (encoded here). */
void pg_pager_filters(pg *p, const char *lead, const char *const *names, const char *const *vals,
                      int n, long page, bool more);

#endif
