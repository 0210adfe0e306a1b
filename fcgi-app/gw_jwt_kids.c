/*
 * gw_jwt_kids.c — the key ids (kid) of the identity provider's JWKS, kept by the gateway
 * itself so that a token naming a key id the IdP never published is refused before liboauth2
 * sees it. liboauth2 refetches the JWKS on every unknown kid: without this list, a flood of
 * tokens with made-up kids makes one JWKS download per request — load on the IdP and a slow
 * path for every JWT request.
 *
 * The list is fetched on first use, refreshed every refresh_s (keys an IdP publishes ahead
 * of a rotation are known before anything is signed with them), and refetched on an unknown
 * kid at most once per refetch_s (jwt_jwks_refetch_seconds): a flood of made-up kids costs
 * the IdP one download per refetch_s, and delays a key the IdP did not publish ahead by at
 * most that. A token without a kid counts as an unknown kid (liboauth2 would refetch for it
 * too) unless the JWKS has a key without one. While one thread fetches, the others use the list
 * they have; a thread whose kid is not in it waits for the fetch (bounded by the fetch timeout) and
 * looks again. A JWKS with a key without "kid" turns the check off (liboauth2 then tries every
 * key), as does an IdP that never answered: liboauth2 decides.
 *
 * json-c only (no jansson here: see gw_jwt.h).
 */
#include "gw_jwt.h"

#include "hub_buf.h"
#include "hub_log.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KIDS_MAX         64
#define KID_LEN          128
#define JWKS_MAX_BYTES   (256 * 1024)
#define FETCH_TIMEOUT_MS 5000

typedef struct {
    char kid[KIDS_MAX][KID_LEN];
    int n;
    bool anonymous; /* a key without kid: no check possible */
} kid_list;

struct gw_jwt_kids {
    char *uri; /* owned */
    long long refetch_ms, refresh_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled when a fetch ends */
    kid_list list;     /* guarded by mu */
    bool loaded;       /* list came from a successful fetch */
    bool fetching;
    long long tried_ms;  /* start of the last fetch (monotonic), 0 = never */
    long long miss_ms;   /* start of the last fetch for an unknown kid, 0 = never */
    long long loaded_ms; /* end of the last successful one */
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

gw_jwt_kids *gw_jwt_kids_new(const char *jwks_uri, int refetch_s, int refresh_s)
{
    gw_jwt_kids *k = calloc(1, sizeof(*k));
    pthread_condattr_t ca;
    bool ok = false;
    if (k == NULL)
        goto end;
    k->uri = strdup(jwks_uri);
    if (k->uri == NULL)
        goto end;
    k->refetch_ms = (long long)refetch_s * 1000;
    k->refresh_ms = (long long)refresh_s * 1000;
    pthread_mutex_init(&k->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->cv, &ca);
    pthread_condattr_destroy(&ca);
    ok = true;
end:
    if (!ok && k != NULL) {
        free(k->uri);
        free(k);
        k = NULL;
    }
    return k;
}

void gw_jwt_kids_free(gw_jwt_kids *k)
{
    if (k == NULL)
        return;
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k->uri);
    free(k);
}

/* ---- the fetch (no lock held) ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    hub_buf *b = ud;
    size_t len = size * n;
    if (b->len + len > JWKS_MAX_BYTES || !hub_buf_append(b, p, len))
        return 0; /* too large: curl fails the transfer */
    return len;
}

/* Parses a JWK Set's key ids into *out. false when it is not a JWK Set. */
static bool parse_jwks(const char *text, size_t len, kid_list *out)
{
    json_tokener *tk = json_tokener_new();
    json_object *root = NULL, *keys = NULL;
    bool ok = false;
    memset(out, 0, sizeof(*out));
    if (tk == NULL)
        goto end;
    root = json_tokener_parse_ex(tk, text, (int)len);
    if (root == NULL || !json_object_object_get_ex(root, "keys", &keys) ||
        !json_object_is_type(keys, json_type_array))
        goto end;
    size_t nkeys = json_object_array_length(keys);
    for (size_t i = 0; i < nkeys; i++) {
        json_object *kid = NULL;
        if (!json_object_object_get_ex(json_object_array_get_idx(keys, i), "kid", &kid) ||
            !json_object_is_type(kid, json_type_string)) {
            out->anonymous = true;
            continue;
        }
        const char *s = json_object_get_string(kid);
        size_t sl = strlen(s);
        if (sl == 0 || sl >= KID_LEN || out->n == KIDS_MAX) {
            out->anonymous = true; /* cannot keep it: do not refuse tokens for it */
            continue;
        }
        memcpy(out->kid[out->n++], s, sl + 1);
    }
    ok = true;
end:
    if (root != NULL)
        json_object_put(root);
    if (tk != NULL)
        json_tokener_free(tk);
    return ok;
}

/* Downloads and parses the JWKS. false (and a log line) on any failure. */
static bool fetch(const char *uri, kid_list *out)
{
    CURL *h = curl_easy_init();
    hub_buf body = {0};
    long status = 0;
    bool ok = false;
    if (h == NULL)
        goto end;
    curl_easy_setopt(h, CURLOPT_URL, uri);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
        HUB_WARN_RL("jwks: fetching the key ids failed (%s, HTTP %ld)",
                    rc != CURLE_OK ? curl_easy_strerror(rc) : "status", status);
        goto end;
    }
    ok = parse_jwks(body.data != NULL ? body.data : "", body.len, out);
    if (!ok)
        HUB_WARN_RL("jwks: the answer is not a JWK Set");
end:
    hub_buf_free(&body);
    if (h != NULL)
        curl_easy_cleanup(h);
    return ok;
}

/* ---- lookups ---- */

static bool listed(const gw_jwt_kids *k, const char *kid)
{
    for (int i = 0; i < k->list.n; i++) {
        if (strcmp(k->list.kid[i], kid) == 0)
            return true;
    }
    return false;
}

/* With mu held: fetches (releasing mu meanwhile) and installs the list. miss: the fetch is
 * for an unknown kid (and counts against refetch_ms). */
static void refetch(gw_jwt_kids *k, bool miss)
{
    kid_list *fresh = malloc(sizeof(*fresh));
    k->fetching = true;
    k->tried_ms = mono_ms();
    if (miss)
        k->miss_ms = k->tried_ms;
    pthread_mutex_unlock(&k->mu);
    bool ok = fresh != NULL && fetch(k->uri, fresh);
    pthread_mutex_lock(&k->mu);
    if (ok) {
        k->list = *fresh;
        k->loaded = true;
        k->loaded_ms = mono_ms();
    }
    k->fetching = false;
    pthread_cond_broadcast(&k->cv);
    free(fresh);
}

bool gw_jwt_kids_known(gw_jwt_kids *k, const char *kid)
{
    bool known = false, waited = false;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        long long now = mono_ms();
        bool have = !k->loaded || k->list.anonymous || listed(k, kid);
        bool stale = !k->loaded || now - k->loaded_ms >= k->refresh_ms;
        /* a due refresh is retried once per refetch_ms (an IdP that is down is not hammered);
         * an unknown kid refetches once per refetch_ms, however many arrive */
        bool may_refresh = k->tried_ms == 0 || now - k->tried_ms >= k->refetch_ms;
        bool may_miss = k->miss_ms == 0 || now - k->miss_ms >= k->refetch_ms;
        if (have && !stale) {
            known = true;
            break;
        }
        if (k->fetching) {
            if (have || waited) { /* the list in hand is good enough / looked once more */
                known = have;
                break;
            }
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += FETCH_TIMEOUT_MS / 1000 + 1;
            while (k->fetching && pthread_cond_timedwait(&k->cv, &k->mu, &until) != ETIMEDOUT) {
            }
            waited = true;
            continue;
        }
        if ((stale && may_refresh) || (!have && may_miss)) {
            refetch(k, !have);
            known = !k->loaded || k->list.anonymous || listed(k, kid);
            break;
        }
        known = have; /* refetched too recently: the list stands */
        break;
    }
    pthread_mutex_unlock(&k->mu);
    return known;
}
