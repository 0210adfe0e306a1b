/*
 * gw_mailer.c — the gateway's budget-alert mailer: a thread of its own (an SMTP relay that
 * hangs must never hold up the ledger drain or a request) with its own MariaDB connection,
 * started only when hub.conf sets smtp_url and alert_email_to. Every MAILER_POLL_MS it mails
 * what hub_alert_mail_pass finds pending; after a relay failure it waits MAILER_BACKOFF_MS.
 */
#include "gw.h"

#include "hub_alert_mail.h"
#include "hub_log.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define MAILER_POLL_MS    2000
#define MAILER_BACKOFF_MS 10000

struct gw_mailer {
    const hub_config *cfg; /* borrowed */
    hub_db *db;            /* owned */
    hub_mail_rcpts to;     /* alert_email_to, parsed at start */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop; /* guarded by mu */
};

/* Waits ms or until stopped; true when stopped. */
static bool nap(gw_mailer *m, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = ts.tv_nsec + (long long)ms * 1000000LL;
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    pthread_mutex_lock(&m->mu);
    if (!m->stop)
        pthread_cond_timedwait(&m->cv, &m->mu, &ts);
    bool stop = m->stop;
    pthread_mutex_unlock(&m->mu);
    return stop;
}

static void *mailer_main(void *arg)
{
    gw_mailer *m = arg;
    int wait = MAILER_POLL_MS;
    while (!nap(m, wait)) {
        char err[300] = "";
        int n = hub_alert_mail_pass(m->db, m->cfg, &m->to, 20, err, sizeof(err));
        wait = MAILER_POLL_MS;
        if (n == -2) {
            HUB_WARN_RL("budget alert mail: %s (retrying)", err);
            wait = MAILER_BACKOFF_MS;
        } else if (n == -1) {
            HUB_WARN_RL("budget alert mail: database: %s", err);
        }
    }
    return NULL;
}

gw_mailer *gw_mailer_start(const hub_config *cfg)
{
    gw_mailer *m = NULL;
    bool ok = false;
    if (!hub_alert_mail_enabled(cfg))
        goto end;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto end;
    m->cfg = cfg;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    char err[200];
    if (!hub_mail_rcpts_parse(cfg->alert_email_to, &m->to, err, sizeof(err))) {
        HUB_ERROR("alert_email_to: %s; budget alerts are not mailed", err);
        goto end;
    }
    m->db = hub_db_new(cfg);
    if (m->db == NULL || pthread_create(&m->tid, NULL, mailer_main, m) != 0) {
        HUB_ERROR("cannot start the budget alert mailer");
        goto end;
    }
    HUB_INFO("budget alerts are mailed through %s", cfg->smtp_url);
    ok = true;
end:
    if (!ok && m != NULL) {
        hub_db_free(m->db);
        pthread_mutex_destroy(&m->mu);
        pthread_cond_destroy(&m->cv);
        free(m);
        m = NULL;
    }
    return m;
}

void gw_mailer_stop(gw_mailer *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->tid, NULL);
    hub_db_free(m->db);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}
