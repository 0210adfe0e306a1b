/*
 * util_out.c — what hubctl prints for scripts and people: aligned tables (straight from a
 * query result, or with cells a command computes), JSON arrays of one object per row, and
 * RFC 4180 CSV fields.
 *
 * Table cells are copied with control bytes replaced, because some of them (model names in
 * the usage ledger) come from clients and must not drive the terminal. Running out of
 * memory while building output prints one message and fails the command.
 */
#include "hubctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables and CSV ------------------------------------------------------------------ */

void hc_table_init(hc_table *t, int ncols, const char *const *heads, unsigned right)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    t->heads = heads;
    t->right = right;
}

/* A copy of s with control bytes replaced by '?'; NULL when out of memory. */
static char *clean_copy(const char *s)
{
    char *c = strdup(s != NULL ? s : "-");
    if (c == NULL)
        return NULL;
    for (char *p = c; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    return c;
}

void hc_table_add(hc_table *t, const char *const *row)
{
    if (t->oom)
        return;
    if (t->nrows == t->cap) {
        int ncap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, (size_t)ncap * (size_t)t->ncols * sizeof(char *));
        if (nc == NULL) {
            t->oom = true;
            return;
        }
        t->cells = nc;
        t->cap = ncap;
    }
    char **dst = t->cells + (size_t)t->nrows * (size_t)t->ncols;
    for (int i = 0; i < t->ncols; i++) {
        dst[i] = clean_copy(row[i]);
        if (dst[i] == NULL)
            t->oom = true;
    }
    t->nrows++;
}

/* Display width: UTF-8 code points (continuation bytes do not count). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p & 0xc0) != 0x80)
            w++;
    }
    return w;
}

static void print_cell(FILE *f, const char *s, size_t w, bool right, bool last)
{
    size_t pad = w - width(s);
    if (right) {
        fprintf(f, "%*s%s", (int)pad, "", s);
    } else if (last) {
        fputs(s, f);
    } else {
        fprintf(f, "%s%*s", s, (int)pad, "");
    }
}

bool hc_table_print(const hc_table *t, FILE *f)
{
    size_t w[HC_TABLE_COLS];
    if (t->oom || t->ncols > HC_TABLE_COLS) {
        hc_err("out of memory while building the table");
        return false;
    }
    for (int c = 0; c < t->ncols; c++)
        w[c] = width(t->heads[c]);
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            size_t cw = width(t->cells[(size_t)r * (size_t)t->ncols + (size_t)c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (int r = -1; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s =
                r < 0 ? t->heads[c] : t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            if (c > 0)
                fputs("  ", f);
            print_cell(f, s, w[c], (t->right >> c) & 1u, c == t->ncols - 1);
        }
        fputc('\n', f);
    }
    return true;
}

void hc_table_free(hc_table *t)
{
    if (t->cells != NULL) {
        for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++)
            free(t->cells[i]);
    }
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void hc_csv_field(FILE *f, const char *s)
{
    if (s == NULL)
        s = "";
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

long long hc_llval(const char *s)
{
    if (s == NULL)
        return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s)
        return 0;
    return v;
}

int hc_print_table(const hub_dbres *r, int ncols, const char *const *heads, unsigned right,
                   hc_cells_fn fn)
{
    char buf[HC_TABLE_COLS][HC_CELL_MAX]; /* cells fn computes */
    hc_table t;
    int status = HC_EXIT_FAIL;

    hc_table_init(&t, ncols, heads, right);
    for (int i = 0; i < r->nrows && ncols <= HC_TABLE_COLS; i++) {
        const char *cells[HC_TABLE_COLS];
        for (int c = 0; c < ncols; c++)
            cells[c] = hub_dbres_get(r, i, c);
        if (fn != NULL)
            fn(r, i, cells, buf);
        hc_table_add(&t, cells);
    }
    if (hc_table_print(&t, stdout))
        status = HC_EXIT_OK;
    hc_table_free(&t);
    return status;
}

int hc_list(hubctl *h, const char *sql, const hub_dbp *params, int nparams, int ncols,
            const char *const *heads, unsigned right, hc_cells_fn fn)
{
    hub_dbres r;
    if (!hc_exec(h, sql, params, nparams, &r, NULL, NULL))
        return HC_EXIT_FAIL;
    int status = hc_print_table(&r, ncols, heads, right, fn);
    hub_dbres_free(&r);
    return status;
}

int hc_print_json(const hub_dbres *r, hc_json_fn fn)
{
    int status = HC_EXIT_FAIL;
    hub_buf b;
    hub_buf_init(&b, 0);
    if (!hub_buf_puts(&b, "["))
        goto end;
    for (int i = 0; i < r->nrows; i++) {
        if (!hub_buf_puts(&b, i > 0 ? ",\n  " : "\n  ") || !fn(&b, r, i))
            goto end;
    }
    if (!hub_buf_puts(&b, r->nrows > 0 ? "\n]\n" : "]\n"))
        goto end;
    fwrite(b.data, 1, b.len, stdout);
    status = HC_EXIT_OK;
end:
    if (status != HC_EXIT_OK)
        hc_err("out of memory while building the JSON output");
    hub_buf_free(&b);
    return status;
}
