/*
 * gw_limits.c — monthly budgets and RPM / TPM limits of the key, user and team of a request.
 *
 * The gateway keeps a snapshot of the limits table (reloaded every half second by whichever
 * worker finds it stale, and never used when older than a second): a request whose key, user
 * and team have no limit costs no query at all. For the others, before the first attempt:
 *   1. rate limits: one conditional UPDATE per scope of the current UTC minute (fixed window)
 *      counting 1 request and the estimated tokens;
 *   2. budgets: one conditional UPDATE per scope reserving the estimated cost in the current UTC
 *      month (spent + reserved + estimate <= budget).
 * Several UPDATEs run in one transaction (one log flush; a refusal rolls back what the earlier
 * ones took). After the last attempt the reservation is settled to the cost the attempts
 * metered (an answered attempt whose usage is unknown is charged the estimate; failed attempts
 * nothing), TPM is corrected to the actual tokens, and a budget crossing 80 % / 100 % is flagged
 * once a month (budget_usage.alert*_at, one log line per threshold).
 *
 * The estimate: prompt tokens ≈ request body bytes / 4, plus max_completion_tokens or
 * max_tokens (× n) or 1024 when the request sets neither; priced at the dearest target of the
 * plan. A model without a price reserves nothing (budgets still refuse once used up); TPM
 * still counts its tokens.
 * The process remembers which budget month and rate minute rows exist, so the rows are created
 * (INSERT IGNORE, autocommit) once per scope per month or minute, and a refusal costs one
 * statement.
 */
#include "gw.h"

#include "hub_limits.h"
#include "hub_log.h"
#include "hub_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOFT_MS         500  /* the snapshot is reloaded by one worker from this age */
#define HARD_MS         1000 /* ... and waited for from this age: changes apply within 1 s */
#define PURGE_MS        60000
#define KEEP_WINDOWS_MS 3600000LL /* rate rows older than an hour are deleted */
#define DEFAULT_OUT     1024      /* completion tokens assumed without max_tokens */
#define BYTES_PER_TOKEN 4

typedef struct {
    hub_limit l;
    int budget_month;      /* yyyymm whose budget row is known to exist; 0 = not known */
    long long rate_minute; /* epoch minute whose counter row is known to exist */
    int alert80, alert100; /* yyyymm flagged already */
} entry;

static struct {
    pthread_mutex_t mu;         /* guards everything below */
    pthread_mutex_t refresh_mu; /* one loader at a time */
    entry *v;                   /* sorted like hub_limits */
    int n;
    bool loaded;
    long long loaded_ms, tried_ms, purged_ms;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER, .refresh_mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the snapshot ---------------------------------------------------------------------- */

static int cmp_entry(const entry *a, const entry *b)
{
    if (a->l.scope != b->l.scope)
        return a->l.scope < b->l.scope ? -1 : 1;
    return (a->l.id > b->l.id) - (a->l.id < b->l.id);
}

/* Under G.mu: the entry of (s, id) or NULL. */
static entry *find(hub_scope s, long long id)
{
    int lo = 0, hi = G.n - 1;
    entry key = {.l = {.scope = s, .id = id}};
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_entry(&G.v[mid], &key);
        if (c == 0)
            return &G.v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Installs a freshly loaded table, carrying the hints of scopes that stay over. */
static void install(hub_limits *l, long long now)
{
    entry *v = calloc((size_t)(l->n > 0 ? l->n : 1), sizeof(*v));
    if (v == NULL)
        return;
    pthread_mutex_lock(&G.mu);
    for (int i = 0; i < l->n; i++) {
        v[i].l = l->v[i];
        entry *old = find(l->v[i].scope, l->v[i].id);
        if (old != NULL) {
            v[i].budget_month = old->budget_month;
            v[i].rate_minute = old->rate_minute;
            v[i].alert80 = old->alert80;
            v[i].alert100 = old->alert100;
        }
    }
    entry *old = G.v;
    G.v = v;
    G.n = l->n;
    G.loaded = true;
    G.loaded_ms = now;
    pthread_mutex_unlock(&G.mu);
    free(old);
}

/* Keeps the snapshot fresh (see SOFT_MS, HARD_MS). */
static void refresh(gw_worker *w)
{
    long long now = hub_now_ms();
    pthread_mutex_lock(&G.mu);
    bool loaded = G.loaded;
    long long age = now - G.loaded_ms, tried = now - G.tried_ms;
    pthread_mutex_unlock(&G.mu);
    if (loaded && age < SOFT_MS)
        return;
    /* a snapshot past HARD_MS (or none yet) is waited for: after a quiet spell the first
     * requests do not run on limits older than a second; a fresher one is reloaded by one
     * worker while the others go on. When the load fails (database down, schema without the
     * limits table) it is tried again after SOFT_MS and the previous snapshot stays. */
    bool wait = !loaded || age >= HARD_MS;
    if (!wait && tried < SOFT_MS)
        return; /* being reloaded, or the last try failed a moment ago */
    if (wait ? pthread_mutex_lock(&G.refresh_mu) != 0 : pthread_mutex_trylock(&G.refresh_mu) != 0)
        return;
    now = hub_now_ms();
    pthread_mutex_lock(&G.mu);
    bool stale = now - G.loaded_ms >= SOFT_MS && now - G.tried_ms >= SOFT_MS;
    if (stale)
        G.tried_ms = now;
    pthread_mutex_unlock(&G.mu);
    if (stale) {
        hub_limits l;
        if (hub_limits_load(w->db, &l)) {
            install(&l, now);
            hub_limits_free(&l);
        } else {
            HUB_WARN_RL("limits: cannot load the limits table (%s); %s", hub_db_error(w->db),
                        loaded ? "using the previous copy" : "no limits are enforced yet");
        }
        if (now - G.purged_ms >= PURGE_MS) {
            char before[20];
            G.purged_ms = now;
            hub_limits_minute(now - KEEP_WINDOWS_MS, before);
            if (!hub_rate_purge(w->db, before))
                HUB_WARN_RL("limits: purging old rate windows failed: %s", hub_db_error(w->db));
        }
    }
    pthread_mutex_unlock(&G.refresh_mu);
}

/* Stores a hint of (s, id): which = 'b' budget month, 'r' rate minute, '8' / '1' alerts. */
static void hint(hub_scope s, long long id, char which, long long v)
{
    pthread_mutex_lock(&G.mu);
    entry *e = find(s, id);
    if (e != NULL) {
        if (which == 'b')
            e->budget_month = (int)v;
        else if (which == 'r')
            e->rate_minute = v;
        else if (which == '8')
            e->alert80 = (int)v;
        else
            e->alert100 = (int)v;
    }
    pthread_mutex_unlock(&G.mu);
}

/* ---- the estimate ---------------------------------------------------------------------- */

static long long int_field(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    long long n = (long long)json_object_get_int64(v);
    return n > 0 ? n : -1;
}

/* Estimated tokens and the dearest cost of the plan's targets (0 when none is priced). */
static void estimate(gw_call *c, const gw_job *job, const hub_catalog *cat, const hub_plan *plan,
                     gw_hold *h)
{
    long long prompt = ((long long)c->w->body.len + BYTES_PER_TOKEN - 1) / BYTES_PER_TOKEN;
    long long out = 0, images = -1;
    long long n = int_field(job->req, "n");
    if (n < 1)
        n = 1;
    if (job->ep == GW_EP_CHAT) {
        out = int_field(job->req, "max_completion_tokens");
        if (out < 0)
            out = int_field(job->req, "max_tokens");
        if (out < 0)
            out = DEFAULT_OUT;
        out *= n;
    } else if (job->ep == GW_EP_IMAGES) {
        images = n;
    }
    h->est_tokens = prompt + out;
    h->est_micro = 0;
    for (int i = 0; i < plan->n; i++) {
        const hub_target *t = &plan->t[i];
        hub_price pr = hub_catalog_price(cat, t->provider, t->upstream_model);
        long long cost;
        if (job->ep == GW_EP_IMAGES && pr.per_image < 0) /* token-priced images */
            cost = hub_price_cost(&pr, prompt, DEFAULT_OUT * n, -1);
        else
            cost = hub_price_cost(&pr, prompt, out, images);
        if (cost > h->est_micro)
            h->est_micro = cost;
    }
}

/* ---- answers --------------------------------------------------------------------------- */

static void scope_label(const hub_limit *l, char *out, size_t outsz)
{
    if (l->name[0] != '\0')
        snprintf(out, outsz, "%s '%s'", hub_scope_name(l->scope), l->name);
    else
        snprintf(out, outsz, "%s #%lld", hub_scope_name(l->scope), l->id);
}

static long secs_to_next_minute(long long now)
{
    long s = (long)(60 - (now / 1000) % 60);
    return s < 1 ? 1 : s;
}

static void refuse_rate(gw_call *c, const gw_hold *h, const hub_limit *l, const char *window,
                        long long now)
{
    char who[200], msg[512], hdr[400];
    long long req = 0, tok = 0;
    long wait = secs_to_next_minute(now);
    if (!hub_rate_read(c->w->db, l->scope, l->id, window, &req, &tok))
        req = tok = 0;
    scope_label(l, who, sizeof(who));
    bool too_big = l->tpm >= 0 && h->est_tokens > l->tpm;
    bool by_requests = l->rpm >= 0 && req + 1 > l->rpm;
    if (too_big && !by_requests)
        snprintf(msg, sizeof(msg),
                 "This request counts about %lld tokens (body size / 4 plus max_tokens), more than "
                 "the limit of %s: %lld tokens per minute. Lower max_tokens or send less.",
                 h->est_tokens, who, l->tpm);
    else if (by_requests)
        snprintf(msg, sizeof(msg),
                 "Rate limit reached for %s: %lld requests per minute. Retry in %ld s.", who,
                 l->rpm, wait);
    else
        snprintf(msg, sizeof(msg),
                 "Rate limit reached for %s: %lld tokens per minute (this request counts about "
                 "%lld: body size / 4 plus max_tokens). Retry in %ld s.",
                 who, l->tpm, h->est_tokens, wait);
    int k = 0;
    hdr[0] = '\0';
    if (!too_big || by_requests)
        k += snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n", wait);
    if (l->rpm >= 0)
        k += snprintf(hdr + k, sizeof(hdr) - (size_t)k,
                      "x-ratelimit-limit-requests: %lld\r\nx-ratelimit-remaining-requests: %lld\r\n"
                      "x-ratelimit-reset-requests: %lds\r\n",
                      l->rpm, req < l->rpm ? l->rpm - req : 0, wait);
    if (l->tpm >= 0 && k < (int)sizeof(hdr))
        snprintf(hdr + k, sizeof(hdr) - (size_t)k,
                 "x-ratelimit-limit-tokens: %lld\r\nx-ratelimit-remaining-tokens: %lld\r\n"
                 "x-ratelimit-reset-tokens: %lds\r\n",
                 l->tpm, tok < l->tpm ? l->tpm - tok : 0, wait);
    gw_respond_error_h(c, HUB_ELIMIT, 0, msg, NULL, "rate_limit_exceeded", hdr);
}

static void refuse_budget(gw_call *c, const gw_hold *h, const hub_limit *l)
{
    char who[200], msg[640], budget[48], est[48], next[16];
    int y = 0, m = 0;
    scope_label(l, who, sizeof(who));
    hub_fmt_usd(l->budget_micro, 2, budget, sizeof(budget));
    hub_fmt_usd(h->est_micro, 2, est, sizeof(est));
    if (sscanf(h->month, "%4d-%2d", &y, &m) != 2)
        y = m = 0;
    snprintf(next, sizeof(next), "%04u-%02u-01", (unsigned)(m == 12 ? y + 1 : y) % 10000u,
             (unsigned)(m == 12 ? 1 : m + 1) % 100u);
    snprintf(msg, sizeof(msg),
             "The monthly budget of %s ($%s) for %.7s (UTC) is used up or does not cover this "
             "request (estimated at $%s: body size / 4 plus max_tokens at the model's price). "
             "It renews on %s; an administrator can raise it.",
             who, budget, h->month, est, next);
    gw_respond_error(c, HUB_EQUOTA, 0, msg, NULL, "budget_exceeded");
}

static void refuse_db(gw_call *c)
{
    HUB_ERROR("limits: database error: %s", hub_db_error(c->w->db));
    gw_respond_error(c, HUB_EDB, 0,
                     "Budgets and rate limits cannot be checked: the database is unavailable. "
                     "Try again shortly.",
                     NULL, NULL);
}

/* ---- admission ------------------------------------------------------------------------- */

/* Creates the month's budget rows and the minute's counter rows this worker does not know to
 * exist yet, each in its own autocommit statement (once per scope and month or minute): the
 * admission transaction then only UPDATEs existing rows by primary key — record locks taken
 * in one global order (rate rows, then budget rows; key, user, team), so concurrent
 * admissions and settlements cannot deadlock. */
static bool ensure_rows(gw_worker *w, const entry *found, int nf, const gw_hold *h,
                        long long minute, int yyyymm)
{
    bool created = false;
    for (int i = 0; i < nf; i++) {
        const hub_limit *l = &found[i].l;
        if ((l->rpm >= 0 || l->tpm >= 0) && found[i].rate_minute != minute) {
            if (!hub_rate_ensure(w->db, l->scope, l->id, h->window, &created))
                return false;
            hint(l->scope, l->id, 'r', minute);
        }
        if (l->budget_micro >= 0 && found[i].budget_month != yyyymm) {
            if (!hub_budget_ensure(w->db, l->scope, l->id, h->month, &created))
                return false;
            hint(l->scope, l->id, 'b', yyyymm);
        }
    }
    return true;
}

static int yyyymm_of(const char *month)
{
    int y = 0, m = 0;
    return sscanf(month, "%4d-%2d", &y, &m) == 2 ? y * 100 + m : 0;
}

/* The x-ratelimit-* headers of the tightest limits. */
static void set_headers(gw_call *c, long long now, long long rl, long long rr, long long tl,
                        long long tr)
{
    long wait = secs_to_next_minute(now);
    int k = 0;
    size_t sz = sizeof(c->limit_headers);
    c->limit_headers[0] = '\0';
    if (rl >= 0)
        k = snprintf(c->limit_headers, sz,
                     "x-ratelimit-limit-requests: %lld\r\nx-ratelimit-remaining-requests: %lld\r\n"
                     "x-ratelimit-reset-requests: %lds\r\n",
                     rl, rr > 0 ? rr : 0, wait);
    if (tl >= 0 && k >= 0 && (size_t)k < sz)
        snprintf(c->limit_headers + k, sz - (size_t)k,
                 "x-ratelimit-limit-tokens: %lld\r\nx-ratelimit-remaining-tokens: %lld\r\n"
                 "x-ratelimit-reset-tokens: %lds\r\n",
                 tl, tr > 0 ? tr : 0, wait);
}

/* Runs the conditional UPDATEs of h's scopes. *why: 0 admitted, 1 database error, 2 rate
 * limit of found[*who], 3 budget of found[*who]. Fills the header values. */
static void take_all(gw_worker *w, const entry *found, gw_hold *h, int *why, int *who,
                     long long hv[4])
{
    long long req = 0, tok = 0;
    bool ok = false;
    hv[0] = hv[1] = hv[2] = hv[3] = -1;
    for (int i = 0; i < h->n && *why == 0; i++) { /* 1. rate limits: count this request */
        const hub_limit *l = &found[i].l;
        if (l->rpm < 0 && l->tpm < 0)
            continue;
        if (!hub_rate_take(w->db, l->scope, l->id, h->window, h->est_tokens, l->rpm, l->tpm, &ok,
                           &req, &tok))
            *why = 1;
        else if (!ok)
            *why = 2;
        if (*why != 0) {
            *who = i;
            break;
        }
        h->s[i].rate = true;
        if (l->rpm >= 0 && (hv[0] < 0 || l->rpm - req < hv[1])) {
            hv[0] = l->rpm;
            hv[1] = l->rpm - req;
        }
        if (l->tpm >= 0 && tok >= 0 && (hv[2] < 0 || l->tpm - tok < hv[3])) {
            hv[2] = l->tpm;
            hv[3] = l->tpm - tok;
        }
    }
    /* no request runs longer than this: an older reservation was left by a dead gateway */
    const hub_config *cfg = &w->ctx->cfg;
    long stale_s = (long)((long long)cfg->upstream_timeout_ms * (1 + cfg->max_retries) / 1000) + 60;
    for (int i = 0; i < h->n && *why == 0; i++) { /* 2. budgets: reserve the estimate */
        const hub_limit *l = &found[i].l;
        if (l->budget_micro < 0)
            continue;
        if (!hub_budget_reserve(w->db, l->scope, l->id, h->month, h->est_micro, l->budget_micro,
                                stale_s, &ok))
            *why = 1;
        else if (!ok)
            *why = 3;
        if (*why != 0) {
            *who = i;
            break;
        }
        h->s[i].budget_micro = l->budget_micro;
    }
}

bool gw_limits_admit(gw_call *c, const gw_job *job, const hub_catalog *cat, const hub_plan *plan,
                     gw_hold *h)
{
    entry found[HUB_NSCOPES];
    int nf = 0, nstmt = 0;
    const long long ids[HUB_NSCOPES] = {c->who.key_id, c->who.user_id, c->who.team_id};
    memset(h, 0, sizeof(*h));
    refresh(c->w);
    pthread_mutex_lock(&G.mu);
    for (int s = 0; G.n > 0 && s < HUB_NSCOPES; s++) {
        entry *e = ids[s] > 0 ? find((hub_scope)s, ids[s]) : NULL;
        if (e != NULL)
            found[nf++] = *e;
    }
    pthread_mutex_unlock(&G.mu);
    if (nf == 0)
        return true; /* the common case: no query */

    hub_db *db = c->w->db;
    long long now = hub_now_ms(), minute = now / 60000, hv[4];
    int why = 0, who = 0;
    estimate(c, job, cat, plan, h);
    hub_limits_month(now, h->month);
    hub_limits_minute(now, h->window);
    int yyyymm = yyyymm_of(h->month);
    for (int i = 0; i < nf; i++) {
        h->s[i].scope = (int)found[i].l.scope;
        h->s[i].id = found[i].l.id;
        h->s[i].budget_micro = -1;
        h->s[i].tpm = found[i].l.tpm >= 0;
        nstmt += (found[i].l.rpm >= 0 || found[i].l.tpm >= 0) + (found[i].l.budget_micro >= 0);
    }
    h->n = nf;
    if (!ensure_rows(c->w, found, nf, h, minute, yyyymm)) {
        h->n = 0;
        refuse_db(c);
        return false;
    }
    /* several UPDATEs: one transaction, so all or none count and the server syncs its log
     * once (a commit costs a disk flush) */
    bool tx = nstmt > 1;
    if (tx && !hub_db_query(db, "START TRANSACTION"))
        why = 1;
    if (why == 0)
        take_all(c->w, found, h, &why, &who, hv);
    if (why == 0 && tx && !hub_db_query(db, "COMMIT"))
        why = 1;
    if (why != 0 && tx)
        hub_db_query(db, "ROLLBACK");
    if (why != 0) {
        h->n = 0; /* nothing is held */
        if (why == 1)
            refuse_db(c);
        else if (why == 2)
            refuse_rate(c, h, &found[who].l, h->window, now);
        else
            refuse_budget(c, h, &found[who].l);
        return false;
    }
    if (hv[0] >= 0 || hv[2] >= 0)
        set_headers(c, now, hv[0], hv[1], hv[2], hv[3]);
    return true;
}

/* ---- settlement ------------------------------------------------------------------------ */

void gw_limits_add(gw_hold *h, const hub_usage *u)
{
    if (h->n == 0 || u->request_id[0] == '\0')
        return; /* no limits, or the attempt never went upstream */
    bool answered = u->status >= 200 && u->status < 300;
    if (u->cost_micro >= 0)
        h->cost_micro += u->cost_micro;
    else if (answered)
        h->cost_micro += h->est_micro; /* an answer whose usage is unknown: the estimate */
    if (u->total_tokens >= 0)
        h->tokens += u->total_tokens;
    else if (answered)
        h->tokens += h->est_tokens;
}

/* Logs and flags 80 % / 100 % of a budget, once a month per threshold. */
static void alerts(gw_call *c, const gw_hold *h, int i, long long spent)
{
    long long budget = h->s[i].budget_micro;
    hub_scope s = (hub_scope)h->s[i].scope;
    int yyyymm = yyyymm_of(h->month);
    int done80 = 0, done100 = 0;
    hub_limit l = {.scope = s, .id = h->s[i].id};
    if (budget <= 0 || spent * 10 < budget * 8)
        return;
    pthread_mutex_lock(&G.mu);
    entry *e = find(s, h->s[i].id);
    if (e != NULL) {
        done80 = e->alert80;
        done100 = e->alert100;
        l = e->l;
    }
    pthread_mutex_unlock(&G.mu);
    const int pcts[2] = {80, 100};
    for (int k = 0; k < 2; k++) {
        int pct = pcts[k];
        bool first = false;
        if ((pct == 80 ? done80 : done100) == yyyymm || spent * 100 < budget * pct)
            continue;
        if (!hub_budget_flag(c->w->db, s, h->s[i].id, h->month, pct, &first)) {
            HUB_WARN_RL("limits: cannot flag a budget alert: %s", hub_db_error(c->w->db));
            return;
        }
        hint(s, h->s[i].id, pct == 80 ? '8' : '1', yyyymm);
        if (first) {
            char who[200], sp[48], bu[48];
            scope_label(&l, who, sizeof(who));
            hub_fmt_usd(spent, 2, sp, sizeof(sp));
            hub_fmt_usd(budget, 2, bu, sizeof(bu));
            HUB_WARN("budget alert: %s reached %d%% of its monthly budget for %.7s: $%s of $%s",
                     who, pct, h->month, sp, bu);
        }
    }
}

void gw_limits_settle(gw_call *c, gw_hold *h)
{
    hub_db *db = c->w->db;
    char window[20];
    long long spent[HUB_NSCOPES] = {-1, -1, -1};
    bool budget[HUB_NSCOPES] = {false}, tokens[HUB_NSCOPES] = {false};
    int nstmt = 0;
    if (h->n == 0)
        return; /* no limited scope (the common case): nothing to settle */
    hub_limits_minute(hub_now_ms(), window);
    for (int i = 0; i < h->n; i++) {
        /* the reservation becomes the cost (nothing to do when both are 0) */
        budget[i] = h->s[i].budget_micro >= 0 && (h->est_micro > 0 || h->cost_micro > 0);
        /* TPM: the actual tokens instead of the estimate, while the window still counts */
        tokens[i] = h->s[i].rate && h->s[i].tpm && h->tokens != h->est_tokens &&
                    strcmp(window, h->window) == 0;
        nstmt += budget[i] + tokens[i];
    }
    bool tx = nstmt > 1, ok = true;
    if (nstmt == 0)
        goto end;
    if (tx)
        ok = hub_db_query(db, "START TRANSACTION");
    /* the admission's lock order: rate rows, then budget rows */
    for (int i = 0; ok && i < h->n; i++) {
        if (tokens[i])
            ok = hub_rate_adjust(db, (hub_scope)h->s[i].scope, h->s[i].id, h->window, 0,
                                 h->tokens - h->est_tokens);
    }
    for (int i = 0; ok && i < h->n; i++) {
        if (budget[i])
            ok = hub_budget_settle(db, (hub_scope)h->s[i].scope, h->s[i].id, h->month, h->est_micro,
                                   h->cost_micro, &spent[i]);
    }
    if (ok && tx)
        ok = hub_db_query(db, "COMMIT");
    if (!ok) {
        if (tx)
            hub_db_query(db, "ROLLBACK");
        /* the reservation stays until no request of the scope has run for a while (stale_s) */
        HUB_ERROR("limits: settling failed (reserved %lld micro-USD stay held): %s", h->est_micro,
                  hub_db_error(db));
        goto end;
    }
    for (int i = 0; i < h->n; i++) {
        if (spent[i] >= 0)
            alerts(c, h, i, spent[i]);
    }
end:
    h->n = 0;
}
