/*
 * util.c — hubctl's plumbing that does not touch the database: error and usage lines,
 * uniform option parsing (one table of options per command, getopt_long underneath, with
 * positionals returned in order), sub-command dispatch and reading a secret from stdin
 * without echo. Output helpers: util_out.c.
 *
 * Every message goes to stderr as one "hubctl: ..." line; output meant for scripts goes
 * to stdout.
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

/* getopt_long's value for opts[i] (above every character it returns otherwise). */
#define OPT_BASE 256

/* Reports the getopt result c ('?' or ':') as a usage error for cmd. */
static int bad_option(const char *cmd, char **argv, int c)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        return hc_usage(cmd, "option '%s' needs a value", arg);
    if (optopt != 0 && optopt < 128 && arg[0] == '-' && arg[1] != '-')
        return hc_usage(cmd, "unknown option '-%c'", optopt);
    return hc_usage(cmd, "unknown option '%s'", arg);
}

static void pos_add(hc_pos *p, char *arg)
{
    if (p->n >= HC_MAX_POS) {
        p->overflow = true;
        return;
    }
    p->v[p->n++] = arg;
}

/* Usage error unless the positionals fit want (see hc_args). */
static bool pos_expect(const hc_pos *p, int want, const char *cmd, const char *what, int *status)
{
    if (want < 0) {
        if (!p->overflow && p->n <= -want)
            return true;
        *status = p->overflow ? hc_usage(cmd, "too many arguments")
                              : hc_usage(cmd, "unexpected argument '%s'", p->v[-want]);
        return false;
    }
    if (!p->overflow && p->n == want)
        return true;
    if (p->n < want)
        *status = hc_usage(cmd, "missing %s", what);
    else if (want < p->n)
        *status = hc_usage(cmd, "unexpected argument '%s'", p->v[want]);
    else
        *status = hc_usage(cmd, "too many arguments");
    return false;
}

bool hc_args(int argc, char **argv, const char *cmd, const char *help, const hc_opt *opts,
             int nopts, int want, const char *what, hc_pos *pos, int *status)
{
    struct option lo[HC_MAX_OPTS + 2];
    int n = 0;

    memset(pos, 0, sizeof(*pos));
    if (nopts > HC_MAX_OPTS) {
        hc_err("internal error: %s has too many options", cmd);
        *status = HC_EXIT_FAIL;
        return false;
    }
    for (; n < nopts; n++)
        lo[n] = (struct option){opts[n].name, opts[n].val != NULL ? required_argument : no_argument,
                                NULL, OPT_BASE + n};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    optind = 0; /* GNU: full re-initialisation, reads the "-" of the option string again */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "-:h", lo, NULL);
        if (c == -1)
            break;
        if (c == 1) {
            pos_add(pos, optarg);
        } else if (c == 'h') {
            fputs(help, stdout);
            *status = HC_EXIT_OK;
            return false;
        } else if (c >= OPT_BASE && c < OPT_BASE + nopts) {
            const hc_opt *o = &opts[c - OPT_BASE];
            if (o->val != NULL)
                *o->val = optarg;
            else
                *o->flag = true;
        } else {
            *status = bad_option(cmd, argv, c);
            return false;
        }
    }
    for (int i = optind; i < argc; i++)
        pos_add(pos, argv[i]);
    return pos_expect(pos, want, cmd, what, status);
}

bool hc_simple_args(int argc, char **argv, const char *cmd, const char *help, int want,
                    const char *what, hc_pos *pos, int *status)
{
    return hc_args(argc, argv, cmd, help, NULL, 0, want, what, pos, status);
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
