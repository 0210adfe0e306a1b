/*
 * cmd_admin.c — installation and maintenance commands: "hubctl migrate" (apply the
 * numbered schema files), "hubctl init-keys" (create the master key file) and
 * "hubctl spool drain" (push a usage spool into the ledger once).
 *
 * migrate records each applied file in schema_migrations and applies only newer ones,
 * in numeric order, under a server-side named lock so two runs cannot interleave. Once
 * the audit_log table exists (schema 005), each applied file gets an audit row. The DDL
 * of a file commits by itself, so its record is committed first: a failed audit write
 * then never makes the next run apply the file twice.
 * init-keys never replaces an existing key file: the file is written under a private
 * name and then hard-linked into place, which fails if anything is already there.
 */
#include "hubctl.h"

#include "hub_crypto.h"
#include "hub_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HUB_SCHEMADIR
#define HUB_SCHEMADIR "/usr/local/share/hub/schema"
#endif

#define SCRIPT_MAX (16L * 1024 * 1024)
#define MAX_FILES  1000

static const char MIGRATE_HELP[] =
    "usage: hubctl migrate [--dir DIR]\n\n"
    "Applies the schema files NNN_name.sql of DIR that are not recorded in the\n"
    "schema_migrations table yet, in numeric order, and records each one.\n\n"
    "  --dir DIR   the schema directory (default: " HUB_SCHEMADIR ")\n"
    "  --help      show this help\n";

static const char INIT_KEYS_HELP[] =
    "usage: hubctl init-keys\n\n"
    "Creates the master key file (master_key_file in the configuration) with one fresh\n"
    "random key, mode 0600. Does nothing when the file already exists. To let a gateway\n"
    "running as group G read it: chgrp G FILE && chmod 0640 FILE.\n";

static const char SPOOL_DRAIN_HELP[] =
    "usage: hubctl spool drain\n\n"
    "Drains the usage spool (spool_dir) into the usage_log table once, e.g. after a\n"
    "gateway crash. Replaying is idempotent. Run it as the gateway's user.\n";

static const char SQL_CREATE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, "
    "name VARCHAR(200) NOT NULL, applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) "
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
static const char SQL_LOCK[] = "SELECT GET_LOCK('hub.migrate', 30)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('hub.migrate')";
static const char SQL_APPLIED[] = "SELECT version FROM schema_migrations";
static const char SQL_RECORD[] = "INSERT INTO schema_migrations (version, name) VALUES (?, ?)";
static const char SQL_HAS_AUDIT[] = "SELECT COUNT(*) FROM information_schema.tables "
                                    "WHERE table_schema = DATABASE() AND table_name = 'audit_log'";

typedef struct {
    int version;
    char name[200];
} migration;

static int cmp_migration(const void *a, const void *b)
{
    const migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* Version of "NNN_name.sql" or 0 when name is not a migration file. */
static int migration_version(const char *name)
{
    char digits[11];
    size_t n = strspn(name, "0123456789");
    size_t len = strlen(name);
    long v = 0;
    if (n == 0 || n >= sizeof(digits) || name[n] != '_' || len >= sizeof(((migration *)0)->name))
        return 0;
    if (len < n + 5 || strcmp(name + len - 4, ".sql") != 0)
        return 0;
    memcpy(digits, name, n);
    digits[n] = '\0';
    if (!hub_parse_long(digits, 1, INT_MAX, &v))
        return 0;
    return (int)v;
}

/* Lists and sorts the migration files of dir into *out (caller frees). -1 on error. */
static int list_migrations(const char *dir, migration **out)
{
    int n = 0;
    migration *v = calloc(MAX_FILES, sizeof(*v)); /* owned until handed to *out */
    DIR *d = opendir(dir);
    *out = NULL;
    if (v == NULL || d == NULL) {
        hc_err("cannot read schema directory %s: %s", dir,
               v == NULL ? "out of memory" : strerror(errno));
        n = -1;
        goto end;
    }
    for (;;) {
        struct dirent *e = readdir(d);
        if (e == NULL)
            break;
        int ver = migration_version(e->d_name);
        if (ver == 0)
            continue;
        if (n == MAX_FILES) {
            hc_err("more than %d schema files in %s", MAX_FILES, dir);
            n = -1;
            goto end;
        }
        v[n].version = ver;
        snprintf(v[n].name, sizeof(v[n].name), "%s", e->d_name);
        n++;
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_migration);
    for (int i = 1; i < n; i++) {
        if (v[i].version == v[i - 1].version) {
            hc_err("%s and %s have the same version number", v[i - 1].name, v[i].name);
            n = -1;
            goto end;
        }
    }
    *out = v;
    v = NULL;
end:
    if (d != NULL)
        closedir(d);
    free(v);
    return n;
}

/* Reads a whole SQL file into a NUL-terminated malloc'd buffer (caller frees). */
static char *read_script(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        hc_err("cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > SCRIPT_MAX) {
        hc_err("%s is not a regular file of at most %ld bytes", path, SCRIPT_MAX);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        hc_err("out of memory reading %s", path);
        goto fail;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            hc_err("cannot read %s: %s", path, r < 0 ? strerror(errno) : "file shrank");
            goto fail;
        }
        len += (size_t)r;
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        hc_err("%s contains a NUL byte", path);
        goto fail;
    }
    close(fd);
    return buf;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static bool is_applied(const hub_dbres *r, int version)
{
    for (int i = 0; i < r->nrows; i++) {
        if (hub_dbres_int(r, i, 0, -1) == version)
            return true;
    }
    return false;
}

/* Records migration m as applied, then audits it once the audit log exists. false after
 * printing the error. */
static bool record(hubctl *h, const migration *m)
{
    bool rc = false;
    hub_dbres has = {0};
    hub_jobj after;
    hub_dbp p[2] = {DB_INT(m->version), DB_STR(m->name)};
    hub_jobj_begin(&after);
    if (!hc_exec(h, SQL_RECORD, p, 2, NULL, NULL, NULL))
        goto end;
    if (!hc_tx_begin(h) || !hc_exec(h, SQL_HAS_AUDIT, NULL, 0, &has, NULL, NULL))
        goto end;
    if (hub_dbres_int(&has, 0, 0, 0) > 0) {
        hub_jobj_int(&after, "version", m->version);
        if (!hc_audit(h, "schema.migrate", "schema", m->name, NULL, &after))
            goto end;
    }
    rc = hc_tx_commit(h);
end:
    hc_tx_rollback(h);
    hub_dbres_free(&has);
    hub_jobj_free(&after);
    return rc;
}

int hc_migrate_main(hubctl *h, int argc, char **argv)
{
    static const char CMD[] = "migrate";
    int status = HC_EXIT_FAIL;
    const char *dir = HUB_SCHEMADIR;
    hc_pos pos;
    migration *files = NULL; /* owned */
    hub_dbres applied = {0}, lock = {0};
    bool locked = false;
    int nfiles, done = 0;
    hub_db *db;
    const hc_opt opts[] = {{"dir", &dir, NULL}};

    if (!hc_args(argc, argv, CMD, MIGRATE_HELP, opts, 1, 0, "", &pos, &status))
        return status;

    nfiles = list_migrations(dir, &files);
    if (nfiles < 0)
        goto end;
    if (nfiles == 0) {
        hc_err("no NNN_name.sql files in %s", dir);
        goto end;
    }
    db = hc_db(h);
    if (db == NULL)
        goto end;
    if (!hc_exec(h, SQL_LOCK, NULL, 0, &lock, NULL, NULL))
        goto end;
    if (hub_dbres_int(&lock, 0, 0, 0) != 1) {
        hc_err("another 'hubctl migrate' holds the migration lock; try again later");
        goto end;
    }
    locked = true;
    if (!hub_db_query(db, SQL_CREATE)) {
        hc_err("cannot create schema_migrations: %s", hub_db_error(db));
        goto end;
    }
    if (!hc_exec(h, SQL_APPLIED, NULL, 0, &applied, NULL, NULL))
        goto end;
    for (int i = 0; i < nfiles; i++) {
        char path[PATH_MAX];
        if (is_applied(&applied, files[i].version))
            continue;
        int n = snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            hc_err("schema path too long: %s", dir);
            goto end;
        }
        char *script = read_script(path);
        if (script == NULL)
            goto end;
        bool ok = hub_db_query(db, script);
        free(script);
        if (!ok) {
            hc_err("%s failed: %s (statements before the failing one may have been applied)",
                   files[i].name, hub_db_error(db));
            goto end;
        }
        if (!record(h, &files[i]))
            goto end;
        printf("applied %s\n", files[i].name);
        done++;
    }
    if (done == 0)
        printf("schema up to date\n");
    status = HC_EXIT_OK;
end:
    if (locked) {
        hub_dbres un;
        if (hub_db_exec(h->db, SQL_UNLOCK, NULL, 0, &un, NULL, NULL))
            hub_dbres_free(&un);
    }
    hub_dbres_free(&lock);
    hub_dbres_free(&applied);
    free(files);
    return status;
}

/* The directory part of path into dir ("." when none). false when it does not fit. */
static bool parent_dir(const char *path, char *dir, size_t dirsz)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (size_t)(slash - path);
    if (slash == path)
        n = 1;
    if (n + 2 > dirsz)
        return false;
    if (n == 0) {
        memcpy(dir, ".", 2);
    } else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return true;
}

/* fsync of a directory (best effort). */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int hc_init_keys_main(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    hub_keyring kr;
    struct stat st;
    char tmp[PATH_MAX];
    char dir[PATH_MAX];
    char err[768];
    bool tmp_written = false;
    int id;

    memset(&kr, 0, sizeof(kr));
    if (!hc_simple_args(argc, argv, "init-keys", INIT_KEYS_HELP, 0, "", &pos, &status))
        return status;
    if (!hc_config(h))
        goto end;
    const char *path = h->cfg.master_key_file;
    if (lstat(path, &st) == 0) {
        printf("master key file %s already exists; nothing done\n", path);
        status = HC_EXIT_OK;
        goto end;
    }
    if (errno != ENOENT) {
        hc_err("cannot check %s: %s", path, strerror(errno));
        goto end;
    }
    int n = snprintf(tmp, sizeof(tmp), "%s.new-%d", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp) - 8 || !parent_dir(path, dir, sizeof(dir))) {
        hc_err("master_key_file path too long");
        goto end;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        hc_err("cannot create %s: directory %s does not exist", path, dir);
        goto end;
    }
    id = hub_keyring_generate(&kr);
    if (id < 0) {
        hc_err("cannot generate a master key (no randomness available)");
        goto end;
    }
    if (!hub_keyring_save(&kr, tmp, err, sizeof(err))) {
        hc_err("%s", err);
        goto end;
    }
    tmp_written = true;
    /* link(2) never replaces: a key file that appeared meanwhile is kept */
    if (link(tmp, path) != 0) {
        int e = errno;
        if (e == EEXIST) {
            printf("master key file %s already exists; nothing done\n", path);
            status = HC_EXIT_OK;
        } else {
            hc_err("cannot create %s: %s", path, strerror(e));
        }
        goto end;
    }
    sync_dir(dir);
    printf("created master key file %s (key id %d, mode 0600)\n", path, id);
    status = HC_EXIT_OK;
end:
    if (tmp_written)
        unlink(tmp);
    hub_keyring_wipe(&kr);
    return status;
}

static int spool_drain(hubctl *h, int argc, char **argv)
{
    int status = HC_EXIT_FAIL;
    hc_pos pos;
    char err[768];
    char active[PATH_MAX];
    hub_spool *s = NULL;
    long rows = 0;
    struct stat st;

    if (!hc_simple_args(argc, argv, "spool drain", SPOOL_DRAIN_HELP, 0, "", &pos, &status))
        return status;
    hub_db *db = hc_db(h);
    if (db == NULL)
        goto end;
    s = hub_spool_open(h->cfg.spool_dir, err, sizeof(err));
    if (s == NULL) {
        hc_err("%s", err);
        goto end;
    }
    bool ok = hub_spool_drain(s, db, &rows);
    if (!ok) {
        hc_err("drain stopped after %ld rows: %s; the remaining spool files are kept", rows,
               hub_db_error(db));
        goto end;
    }
    printf("drained %ld rows\n", rows);
    status = HC_EXIT_OK;
end:
    if (s != NULL) {
        hub_spool_close(s);
        /* hub_spool_open created an active file for this process: remove it if empty */
        int n =
            snprintf(active, sizeof(active), "%s/active-%d.jsonl", h->cfg.spool_dir, (int)getpid());
        if (n > 0 && (size_t)n < sizeof(active) && stat(active, &st) == 0 && st.st_size == 0)
            unlink(active);
    }
    return status;
}

int hc_spool_main(hubctl *h, int argc, char **argv)
{
    static const hc_cmd CMDS[] = {
        {"drain", spool_drain, "drain the usage spool into the database once"},
    };
    return hc_dispatch(h, "spool", "The local usage spool of the gateway.", CMDS,
                       sizeof(CMDS) / sizeof(CMDS[0]), argc, argv);
}
