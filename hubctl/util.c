/*
 * util.c — hubctl's plumbing that does not touch the database: error and usage lines,
 * uniform option parsing (getopt_long with positionals returned in order), sub-command
 * dispatch, validation of names and dates, USD formatting, reading a secret from stdin
 * without echo, aligned tables and RFC 4180 CSV fields.
 *
 * Every message goes to stderr as one "hubctl: ..." line; output meant for scripts goes
 * to stdout. Table cells are copied with control bytes replaced, because some of them
 * (model names in the usage ledger) come from clients and must not drive the terminal.
 */
#include "hubctl.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ---- messages ------------------------------------------------------------------------ */

void hc_err(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "hubctl: %s\n", msg);
}

int hc_usage(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "hubctl: %s: %s (try 'hubctl %s --help')\n", cmd, msg, cmd);
    return HC_EXIT_USAGE;
}

/* ---- options ------------------------------------------------------------------------- */

void hc_getopt_reset(void)
{
    optind = 0; /* GNU: full re-initialisation, reads the "-" of the option string again */
    opterr = 0;
}

int hc_bad_option(const char *cmd, char **argv, int c)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        return hc_usage(cmd, "option '%s' needs a value", arg);
    if (optopt != 0 && optopt < 128 && arg[0] == '-' && arg[1] != '-')
        return hc_usage(cmd, "unknown option '-%c'", optopt);
    return hc_usage(cmd, "unknown option '%s'", arg);
}

void hc_pos_add(hc_pos *p, char *arg)
{
    if (p->n >= HC_MAX_POS) {
        p->overflow = true;
        return;
    }
    p->v[p->n++] = arg;
}

void hc_pos_rest(hc_pos *p, int argc, char **argv)
{
    for (int i = optind; i < argc; i++)
        hc_pos_add(p, argv[i]);
}

bool hc_pos_expect(const hc_pos *p, int want, const char *cmd, const char *what, int *status)
{
    if (!p->overflow && p->n == want)
        return true;
    if (p->n < want)
        *status = hc_usage(cmd, "missing %s", what);
    else if (want >= 0 && want < p->n)
        *status = hc_usage(cmd, "unexpected argument '%s'", p->v[want]);
    else
        *status = hc_usage(cmd, "too many arguments");
    return false;
}

bool hc_simple_args(int argc, char **argv, const char *cmd, const char *help, int want,
                    const char *what, hc_pos *pos, int *status)
{
    static const struct option OPTS[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(pos, 0, sizeof(*pos));
    hc_getopt_reset();
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", OPTS, NULL);
        if (c == -1)
            break;
        if (c == 1) {
            hc_pos_add(pos, optarg);
            continue;
        }
        if (c == 'h') {
            fputs(help, stdout);
            *status = HC_EXIT_OK;
            return false;
        }
        *status = hc_bad_option(cmd, argv, c);
        return false;
    }
    hc_pos_rest(pos, argc, argv);
    if (want < 0) {
        if (!pos->overflow && pos->n <= -want)
            return true;
        *status = pos->overflow ? hc_usage(cmd, "too many arguments")
                                : hc_usage(cmd, "unexpected argument '%s'", pos->v[-want]);
        return false;
    }
    return hc_pos_expect(pos, want, cmd, what, status);
}

static void group_help(const char *group, const char *blurb, const hc_cmd *cmds, size_t n)
{
    printf("usage: hubctl [--config PATH] %s COMMAND [OPTIONS]\n\n%s\n\ncommands:\n", group, blurb);
    for (size_t i = 0; i < n; i++)
        printf("  %-10s %s\n", cmds[i].name, cmds[i].summary);
    printf("\nRun 'hubctl %s COMMAND --help' for the options of a command.\n", group);
}

int hc_dispatch(hubctl *h, const char *group, const char *blurb, const hc_cmd *cmds, size_t n,
                int argc, char **argv)
{
    if (argc < 2)
        return hc_usage(group, "missing command");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        group_help(group, blurb, cmds, n);
        return HC_EXIT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cmds[i].name, sub) == 0)
            return cmds[i].fn(h, argc - 1, argv + 1);
    }
    return hc_usage(group, "unknown command '%s'", sub);
}

/* ---- validation and formatting ------------------------------------------------------- */

bool hc_name_ok(const char *s, size_t maxlen, const char *extra)
{
    size_t n = 0;
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p != '\0'; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(extra, c) != NULL;
        if (!ok || n >= maxlen)
            return false;
    }
    return true;
}

bool hc_model_name_ok(const char *s)
{
    return hc_name_ok(s, 191, HC_CHARS_MODEL) && strstr(s, "..") == NULL;
}

bool hc_date_ok(const char *s)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return false;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

void hc_fmt_usd(long long micro, int min_decimals, char *out, size_t outsz)
{
    const char *sign = micro < 0 ? "-" : "";
    unsigned long long m = micro < 0 ? 0ULL - (unsigned long long)micro : (unsigned long long)micro;
    char frac[8];
    snprintf(frac, sizeof(frac), "%06llu", m % 1000000ULL);
    int keep = 6;
    while (keep > min_decimals && frac[keep - 1] == '0')
        keep--;
    frac[keep] = '\0';
    snprintf(out, outsz, "%s%llu%s%s", sign, m / 1000000ULL, keep > 0 ? "." : "", frac);
}

bool hc_parse_int(const char *s, long min, long max, long *out)
{
    const char *d = s;
    if (s == NULL)
        return false;
    if (*d == '-')
        d++;
    size_t n = strspn(d, "0123456789");
    if (n == 0 || n > 10 || d[n] != '\0')
        return false;
    return hub_parse_long(s, min, max, out);
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

bool hc_email_ok(const char *e)
{
    size_t n = strlen(e);
    const char *at = strchr(e, '@');
    if (n == 0 || n > 255 || at == NULL || at == e || at[1] == '\0' || strchr(at + 1, '@'))
        return false;
    for (const unsigned char *p = (const unsigned char *)e; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),:;<>[\\]", *p) != NULL)
            return false;
    }
    return true;
}

/* ---- secrets from stdin -------------------------------------------------------------- */

/* Reads until a newline, EOF or a full buffer. Returns bytes read, -1 on error. */
static ssize_t read_line_fd(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        bool nl = memchr(buf + n, '\n', (size_t)r) != NULL;
        n += (size_t)r;
        if (nl)
            break;
    }
    return (ssize_t)n;
}

bool hc_read_secret(const char *prompt, const char *what, char *buf, size_t bufsz, size_t *len,
                    bool allow_empty, char *err, size_t errsz)
{
    bool rc = false;
    bool echo_off = false;
    struct termios saved;
    ssize_t got;
    size_t n;

    if (bufsz < HC_SECRET_MAX + 3) {
        snprintf(err, errsz, "internal error: secret buffer too small");
        goto end;
    }
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        fprintf(stderr, "%s: ", prompt);
        fflush(stderr);
        echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    /* room for the longest key, CR, LF; one byte more tells "too long" apart */
    got = read_line_fd(STDIN_FILENO, buf, HC_SECRET_MAX + 2);
    if (got < 0) {
        snprintf(err, errsz, "cannot read the %s from stdin: %s", what, strerror(errno));
        goto end;
    }
    n = (size_t)got;
    char *nl = memchr(buf, '\n', n);
    if (nl == NULL && n == HC_SECRET_MAX + 2) {
        snprintf(err, errsz, "the %s on stdin is longer than %d bytes", what, HC_SECRET_MAX);
        goto end;
    }
    if (nl != NULL)
        n = (size_t)(nl - buf);
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
        n--;
    buf[n] = '\0';
    if (n == 0 && allow_empty) {
        *len = 0;
        rc = true;
        goto end;
    }
    if (n == 0) {
        snprintf(err, errsz, "no %s on stdin (pipe it as the first line)", what);
        goto end;
    }
    if (n > HC_SECRET_MAX) {
        snprintf(err, errsz, "the %s on stdin is longer than %d bytes", what, HC_SECRET_MAX);
        goto end;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errsz, "the %s on stdin contains control characters", what);
            goto end;
        }
    }
    if (buf[0] == ' ' || buf[n - 1] == ' ') {
        snprintf(err, errsz, "the %s on stdin begins or ends with a space", what);
        goto end;
    }
    *len = n;
    rc = true;
end:
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (!rc)
        explicit_bzero(buf, bufsz);
    return rc;
}

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
    size_t w[32];
    if (t->oom || t->ncols > 32) {
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
