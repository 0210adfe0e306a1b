/*
 * hub_catalog.c — loading and querying routing snapshots (see hub_catalog.h).
 */
#include "hub_catalog.h"

#include "hub_log.h"
#include "hub_usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t dsz, const char *src)
{
    snprintf(dst, dsz, "%s", src ? src : "");
}

void hub_catalog_retain(hub_catalog *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
}

void hub_catalog_release(hub_catalog *c)
{
    if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (int i = 0; i < c->ncreds; i++)
        hub_secret_free(c->creds[i].secret, c->creds[i].secret_len);
    free(c->providers);
    free(c->creds);
    free(c->models);
    free(c->prices);
    free(c);
}

static const char SQL_PROVIDERS[] =
    "SELECT id, name, type, base_url, internal, enabled, preset, auth_header, api_version "
    "FROM providers ORDER BY id";
static const char SQL_CREDS[] =
    "SELECT id, provider_id, secret_enc, key_id, weight, status, "
    "COALESCE(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', cooldown_until) DIV 1000, 0) "
    "FROM credentials ORDER BY provider_id, id";
static const char SQL_MODELS[] =
    "SELECT name, provider_id, upstream_model, kind, enabled, priority, "
    "fallbacks FROM models ORDER BY name, priority, id";
static const char SQL_PRICES[] = "SELECT provider, model, input_per_1m_micro, output_per_1m_micro, "
                                 "per_image_micro FROM prices";

static int provider_index(const hub_catalog *c, long long id)
{
    for (int i = 0; i < c->nproviders; i++) {
        if (c->providers[i].id == id)
            return i;
    }
    return -1;
}

static bool load_providers(hub_catalog *c, hub_db *db)
{
    hub_dbres r;
    if (!hub_db_exec(db, SQL_PROVIDERS, NULL, 0, &r, NULL, NULL))
        return false;
    c->providers = calloc((size_t)r.nrows + 1, sizeof(*c->providers));
    bool ok = c->providers != NULL;
    for (int i = 0; ok && i < r.nrows; i++) {
        hub_provider *p = &c->providers[i];
        p->id = hub_dbres_int(&r, i, 0, 0);
        copy(p->name, sizeof(p->name), hub_dbres_get(&r, i, 1));
        copy(p->type, sizeof(p->type), hub_dbres_get(&r, i, 2));
        copy(p->base_url, sizeof(p->base_url), hub_dbres_get(&r, i, 3));
        p->internal = hub_dbres_int(&r, i, 4, 0) != 0;
        p->enabled = hub_dbres_int(&r, i, 5, 0) != 0;
        copy(p->preset, sizeof(p->preset), hub_dbres_get(&r, i, 6));
        copy(p->auth_header, sizeof(p->auth_header), hub_dbres_get(&r, i, 7));
        copy(p->api_version, sizeof(p->api_version), hub_dbres_get(&r, i, 8));
        c->nproviders++;
    }
    hub_dbres_free(&r);
    return ok;
}

static bool load_creds(hub_catalog *c, hub_db *db, const hub_keyring *kr)
{
    hub_dbres r;
    if (!hub_db_exec(db, SQL_CREDS, NULL, 0, &r, NULL, NULL))
        return false;
    c->creds = calloc((size_t)r.nrows + 1, sizeof(*c->creds));
    bool ok = c->creds != NULL;
    for (int i = 0; ok && i < r.nrows; i++) {
        int pi = provider_index(c, hub_dbres_int(&r, i, 1, -1));
        if (pi < 0)
            continue;
        hub_credential *cr = &c->creds[c->ncreds];
        cr->id = hub_dbres_int(&r, i, 0, 0);
        cr->provider = pi;
        cr->weight = (int)hub_dbres_int(&r, i, 4, 1);
        cr->cooldown_until_ms = hub_dbres_int(&r, i, 6, 0);
        const char *st = hub_dbres_get(&r, i, 5);
        cr->active = st != NULL && strcmp(st, "active") == 0;
        const char *blob = hub_dbres_get(&r, i, 2);
        char aad[64];
        snprintf(aad, sizeof(aad), "credential:%lld", cr->id);
        if (blob != NULL &&
            hub_open(kr, (int)hub_dbres_int(&r, i, 3, -1), aad, (const unsigned char *)blob,
                     r.lens[(size_t)i * (size_t)r.ncols + 2], &cr->secret, &cr->secret_len)) {
            cr->readable = true;
        } else {
            HUB_ERROR("catalog: credential %lld of provider %s does not decrypt with the "
                      "master keyring (wrong key file or tampered row)",
                      cr->id, c->providers[pi].name);
        }
        hub_provider *p = &c->providers[pi];
        if (p->ncreds == 0)
            p->cred_first = c->ncreds;
        p->ncreds++;
        c->ncreds++;
    }
    hub_dbres_free(&r);
    return ok;
}

static bool load_models(hub_catalog *c, hub_db *db)
{
    hub_dbres r;
    if (!hub_db_exec(db, SQL_MODELS, NULL, 0, &r, NULL, NULL))
        return false;
    c->models = calloc((size_t)r.nrows + 1, sizeof(*c->models));
    bool ok = c->models != NULL;
    for (int i = 0; ok && i < r.nrows; i++) {
        int pi = provider_index(c, hub_dbres_int(&r, i, 1, -1));
        if (pi < 0)
            continue;
        hub_model *m = &c->models[c->nmodels++];
        copy(m->name, sizeof(m->name), hub_dbres_get(&r, i, 0));
        m->provider = pi;
        copy(m->upstream, sizeof(m->upstream), hub_dbres_get(&r, i, 2));
        copy(m->kind, sizeof(m->kind), hub_dbres_get(&r, i, 3));
        m->enabled = hub_dbres_int(&r, i, 4, 0) != 0;
        m->priority = (int)hub_dbres_int(&r, i, 5, 0);
        copy(m->fallbacks, sizeof(m->fallbacks), hub_dbres_get(&r, i, 6));
    }
    hub_dbres_free(&r);
    return ok;
}

static bool load_prices(hub_catalog *c, hub_db *db)
{
    hub_dbres r;
    if (!hub_db_exec(db, SQL_PRICES, NULL, 0, &r, NULL, NULL))
        return false;
    c->prices = calloc((size_t)r.nrows + 1, sizeof(*c->prices));
    bool ok = c->prices != NULL;
    for (int i = 0; ok && i < r.nrows; i++) {
        hub_price_row *p = &c->prices[c->nprices++];
        copy(p->provider, sizeof(p->provider), hub_dbres_get(&r, i, 0));
        copy(p->model, sizeof(p->model), hub_dbres_get(&r, i, 1));
        p->price.known = true;
        p->price.input_per_1m = hub_dbres_int(&r, i, 2, -1);
        p->price.output_per_1m = hub_dbres_int(&r, i, 3, -1);
        p->price.per_image = hub_dbres_int(&r, i, 4, -1);
    }
    hub_dbres_free(&r);
    return ok;
}

hub_catalog *hub_catalog_load(hub_db *db, const hub_keyring *kr, char *err, size_t errsz)
{
    hub_catalog *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    c->refs = 1;
    c->loaded_ms = hub_now_ms(); /* before reading: changes after this are not in it */
    if (!load_providers(c, db) || !load_creds(c, db, kr) || !load_models(c, db) ||
        !load_prices(c, db)) {
        snprintf(err, errsz, "%s", hub_db_error(db)[0] ? hub_db_error(db) : "out of memory");
        hub_catalog_release(c);
        return NULL;
    }
    return c;
}

const hub_provider *hub_catalog_provider(const hub_catalog *c, const char *name)
{
    for (int i = 0; i < c->nproviders; i++) {
        if (strcmp(c->providers[i].name, name) == 0)
            return &c->providers[i];
    }
    return NULL;
}

const hub_credential *hub_catalog_creds(const hub_catalog *c, const hub_provider *p, int *n)
{
    *n = p->ncreds;
    return p->ncreds > 0 ? &c->creds[p->cred_first] : NULL;
}

/* Adds a target unless the plan is full or it is already there. */
static void add_target(hub_plan *pl, const hub_provider *p, const char *upstream, const char *kind)
{
    if (pl->n >= HUB_PLAN_MAX || strlen(upstream) >= sizeof(pl->t[0].upstream_model))
        return;
    for (int i = 0; i < pl->n; i++) {
        if (pl->t[i].provider == p && strcmp(pl->t[i].upstream_model, upstream) == 0)
            return;
    }
    hub_target *t = &pl->t[pl->n++];
    t->provider = p;
    copy(t->upstream_model, sizeof(t->upstream_model), upstream);
    snprintf(t->canonical, sizeof(t->canonical), "%s/%s", p->name, upstream);
    t->kind = kind;
}

/* Splits "provider/model" and adds it when the provider exists and is enabled. */
static void add_named(const hub_catalog *c, hub_plan *pl, const char *name, size_t n,
                      const char *kind, const char **why)
{
    char buf[300];
    if (n == 0 || n >= sizeof(buf))
        return;
    memcpy(buf, name, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    if (slash == NULL || slash == buf || slash[1] == '\0')
        return;
    *slash = '\0';
    const hub_provider *p = hub_catalog_provider(c, buf);
    if (p == NULL)
        return;
    if (!p->enabled) {
        if (*why == NULL)
            *why = p->name;
        return;
    }
    add_target(pl, p, slash + 1, kind);
}

hub_err hub_catalog_plan(const hub_catalog *c, const char *model, hub_plan *out, const char **why)
{
    bool named = false;
    const hub_model *first = NULL;
    memset(out, 0, sizeof(*out));
    *why = NULL;
    for (int i = 0; i < c->nmodels; i++) { /* rows are ordered by name, priority */
        const hub_model *m = &c->models[i];
        if (strcmp(m->name, model) != 0)
            continue;
        named = true;
        if (first == NULL)
            first = m;
        const hub_provider *p = &c->providers[m->provider];
        if (!m->enabled || !p->enabled) {
            if (*why == NULL)
                *why = !p->enabled ? p->name : m->name;
            continue;
        }
        add_target(out, p, m->upstream, m->kind);
    }
    if (named) {
        out->kind = first->kind;
        for (const char *s = first->fallbacks; *s != '\0';) {
            size_t n = strcspn(s, ",");
            add_named(c, out, s, n, first->kind, why);
            s += n;
            if (*s == ',')
                s++;
        }
    } else {
        const char *slash = strchr(model, '/');
        if (slash == NULL)
            return HUB_ENOTFOUND;
        char pname[65];
        size_t n = (size_t)(slash - model);
        if (n == 0 || n >= sizeof(pname) || slash[1] == '\0')
            return HUB_ENOTFOUND;
        memcpy(pname, model, n);
        pname[n] = '\0';
        if (hub_catalog_provider(c, pname) == NULL)
            return HUB_ENOTFOUND;
        add_named(c, out, model, strlen(model), NULL, why);
    }
    return out->n > 0 ? HUB_OK : HUB_EUNAVAIL;
}

hub_price hub_catalog_price(const hub_catalog *c, const hub_provider *p, const char *model)
{
    hub_price none = {.known = false, .input_per_1m = -1, .output_per_1m = -1, .per_image = -1};
    const char *vendor = hub_price_vendor(p->type);
    const hub_price_row *vendor_row = NULL;
    for (int i = 0; i < c->nprices; i++) {
        const hub_price_row *r = &c->prices[i];
        if (strcmp(r->model, model) != 0)
            continue;
        if (strcmp(r->provider, p->name) == 0)
            return r->price;
        if (vendor != NULL && strcmp(r->provider, vendor) == 0)
            vendor_row = r;
    }
    return vendor_row ? vendor_row->price : none;
}
