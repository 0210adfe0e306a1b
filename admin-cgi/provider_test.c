/*
 * provider_test.c — the "test connection" action of providers.cgi: one GET of the
 * provider's model list with a stored credential, reporting only the HTTP status (or why
 * no answer came). The answer's body is read and thrown away (bounded); the credential goes
 * only to the admin-set base URL, never through a redirect, and only over https unless the
 * admin marked the provider internal.
 */
#include "providers.h"

#include "hub_ops.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define PROBE_TIMEOUT_MS 10000
#define PROBE_CONNECT_MS 5000
#define PROBE_MAX_BODY   (256 * 1024)

/* Discards the answer; stops after PROBE_MAX_BODY bytes. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *user)
{
    size_t *seen = user;
    (void)ptr;
    *seen += size * nmemb;
    return *seen > PROBE_MAX_BODY ? 0 : size * nmemb;
}

static bool is(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

/* The URL to probe into url; false when it does not fit. */
static bool probe_url(const pt_target *t, char *url, size_t urlsz)
{
    int n;
    if (is(t->preset, "azure"))
        n = snprintf(url, urlsz, "%s/openai/models?api-version=%s", t->base_url,
                     t->api_version != NULL ? t->api_version : "2024-10-21");
    else if (is(t->type, "anthropic"))
        n = snprintf(url, urlsz, "%s/v1/models", t->base_url);
    else if (is(t->type, "gemini"))
        n = snprintf(url, urlsz, "%s/v1beta/models", t->base_url);
    else
        n = snprintf(url, urlsz, "%s/models", t->base_url);
    return n > 0 && (size_t)n < urlsz;
}

/* The authentication header line for secret into out ("" for none). */
static void auth_line(const pt_target *t, const char *secret, char *out, size_t outsz)
{
    const char *h = t->auth_header;
    if (h == NULL)
        h = is(t->type, "anthropic") ? "x-api-key"
            : is(t->type, "gemini")  ? "x-goog-api-key"
                                     : "Authorization";
    if (is(h, "none"))
        out[0] = '\0';
    else if (is(h, "Authorization"))
        snprintf(out, outsz, "Authorization: Bearer %s", secret);
    else
        snprintf(out, outsz, "%s: %s", h, secret);
}

const char *pt_why(long why)
{
    switch (why) {
    case PT_BREAK:
        return "the stored key contains a line break";
    case PT_URL:
        return "the base URL is too long";
    case PT_INIT:
        return "libcurl could not start";
    case PT_SEAL:
        return "the stored key does not open with the master key";
    default:
        break;
    }
    if (why > 0 && why < CURL_LAST)
        return curl_easy_strerror((CURLcode)why);
    return "unknown error";
}

int pt_probe(const pt_target *t, const char *secret, long *http)
{
    static bool inited;
    char url[1200];
    char auth[HUB_SECRET_MAX + 64];
    char version[96];
    struct curl_slist *hdrs = NULL; /* owned */
    size_t seen = 0;
    CURL *c = NULL;

    *http = 0;
    if (strpbrk(secret, "\r\n") != NULL)
        return PT_BREAK;
    if (!probe_url(t, url, sizeof(url)))
        return PT_URL;
    if (!inited && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return PT_INIT;
    inited = true;
    c = curl_easy_init();
    if (c == NULL)
        return PT_INIT;
    auth_line(t, secret, auth, sizeof(auth));
    if (auth[0] != '\0')
        hdrs = curl_slist_append(hdrs, auth);
    if (is(t->type, "anthropic")) {
        snprintf(version, sizeof(version), "anthropic-version: %s",
                 t->api_version != NULL ? t->api_version : "2023-06-01");
        hdrs = curl_slist_append(hdrs, version);
    }
    explicit_bzero(auth, sizeof(auth));
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, t->internal ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PROBE_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)PROBE_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hub-admin-test/1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (*http == 0)
        return rc != CURLE_OK ? (int)rc : (int)CURLE_GOT_NOTHING;
    return 0;
}
