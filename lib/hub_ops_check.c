/*
 * hub_ops_check.c — the pure half of hub_ops.h: checks of what an admin types (names,
 * globs, endpoint lists, model kinds, e-mail addresses, dates, integers, base URLs, fallback
 * lists), the provider type
 * and preset tables with the rules that derive a provider's settings from them, and USD
 * formatting. No I/O, no allocation: safe to call from any front end and from tests.
 */
#include "hub_ops.h"

#include "hub_config.h"

#include <stdio.h>
#include <string.h>

const char *const HUB_ENDPOINTS[HUB_NENDPOINTS] = {"chat", "embeddings", "images", "messages"};

/* Per type: the base URL when none is given (NULL: required) and the default API version
 * (NULL: the type has none and giving one is refused). */
typedef struct {
    const char *name;
    const char *base_url;
    const char *api_version;
} ptype;

static const ptype TYPES[] = {
    {"openai", "https://api.openai.com/v1", NULL},
    {"openai-compatible", NULL, NULL},
    {"anthropic", "https://api.anthropic.com", "2023-06-01"},
    {"gemini", "https://generativelanguage.googleapis.com", NULL},
};

/* Presets: openai-compatible services with known settings. */
typedef struct {
    const char *name;
    const char *base_url;    /* NULL: a base URL is required */
    bool internal;           /* an internal host: plain http allowed */
    bool key_optional;       /* an empty key stores HUB_OLLAMA_KEY */
    const char *auth_header; /* NULL: by type (Authorization: Bearer) */
    const char *api_version; /* default; NULL: none and giving one is refused */
} preset;

static const preset PRESETS[] = {
    {"deepseek", "https://api.deepseek.com/v1", false, false, NULL, NULL},
    {"xai", "https://api.x.ai/v1", false, false, NULL, NULL},
    {"openrouter", "https://openrouter.ai/api/v1", false, false, NULL, NULL},
    {"ollama", "http://localhost:11434/v1", true, true, NULL, NULL},
    {"azure", NULL, false, false, "api-key", "2024-10-21"},
};

#define NTYPES   (sizeof(TYPES) / sizeof(TYPES[0]))
#define NPRESETS (sizeof(PRESETS) / sizeof(PRESETS[0]))

bool hub_name_ok(const char *s, size_t maxlen, const char *extra)
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

bool hub_model_name_ok(const char *s)
{
    return hub_name_ok(s, 191, HUB_CHARS_MODEL) && strstr(s, "..") == NULL;
}

bool hub_globs_ok(const char *s)
{
    if (s == NULL || strlen(s) > HUB_GLOBS_MAX)
        return false;
    for (;;) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n > 255)
            return false;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr("._:@/*?-", c) != NULL;
            if (!ok)
                return false;
        }
        if (s[n] == '\0')
            return true;
        s += n + 1;
    }
}

bool hub_email_ok(const char *e)
{
    if (e == NULL)
        return false;
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

bool hub_date_ok(const char *s)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
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
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

bool hub_int_ok(const char *s, long min, long max, long *out)
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

bool hub_endpoints_normalize(const char *in, char *out, size_t outsz)
{
    bool seen[HUB_NENDPOINTS] = {false};
    size_t used = 0;
    const char *s = in;

    if (outsz == 0)
        return false;
    out[0] = '\0';
    if (in == NULL)
        return false;
    for (;;) {
        size_t n = strcspn(s, ",");
        size_t k = 0;
        while (k < HUB_NENDPOINTS &&
               (strlen(HUB_ENDPOINTS[k]) != n || strncmp(HUB_ENDPOINTS[k], s, n) != 0))
            k++;
        if (k == HUB_NENDPOINTS || seen[k])
            return false;
        seen[k] = true;
        if (s[n] == '\0')
            break;
        s += n + 1;
    }
    for (size_t k = 0; k < HUB_NENDPOINTS; k++) {
        if (!seen[k])
            continue;
        int w = snprintf(out + used, outsz - used, "%s%s", used > 0 ? "," : "", HUB_ENDPOINTS[k]);
        if (w < 0 || (size_t)w >= outsz - used)
            return false;
        used += (size_t)w;
    }
    return true;
}

bool hub_model_kind_ok(const char *k)
{
    return k != NULL &&
           (strcmp(k, "chat") == 0 || strcmp(k, "embedding") == 0 || strcmp(k, "image") == 0);
}

bool hub_is_price_vendor(const char *name)
{
    return name != NULL && (strcmp(name, "openai") == 0 || strcmp(name, "anthropic") == 0 ||
                            strcmp(name, "google") == 0);
}

void hub_fmt_usd(long long micro, int min_decimals, char *out, size_t outsz)
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

const char *hub_base_url_problem(const char *url, bool internal)
{
    size_t skip;
    if (url == NULL)
        return "the base URL is missing";
    if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return "the base URL must start with https:// (or http:// for an internal host)";
    if (skip == 7 && !internal)
        return "the base URL is plain http://; use https://, or mark the provider internal "
               "(a host you trust with plain HTTP)";
    if (strlen(url) > HUB_BASE_URL_MAX)
        return "the base URL is longer than 512 characters";
    const char *host = url + skip;
    if (*host == '\0' || *host == '/' || *host == ':')
        return "the base URL has no host";
    size_t alen = strcspn(host, "/?#");
    if (memchr(host, '@', alen) != NULL)
        return "the base URL must not carry credentials (user@host)";
    for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return "the base URL contains spaces, control or non-ASCII characters";
    }
    return NULL;
}

const char *hub_provider_type_name(int i)
{
    return i >= 0 && (size_t)i < NTYPES ? TYPES[i].name : NULL;
}

const char *hub_provider_preset_name(int i)
{
    return i >= 0 && (size_t)i < NPRESETS ? PRESETS[i].name : NULL;
}

static const ptype *find_type(const char *t)
{
    for (size_t i = 0; t != NULL && i < NTYPES; i++) {
        if (strcmp(TYPES[i].name, t) == 0)
            return &TYPES[i];
    }
    return NULL;
}

static const preset *find_preset(const char *p)
{
    for (size_t i = 0; p != NULL && i < NPRESETS; i++) {
        if (strcmp(PRESETS[i].name, p) == 0)
            return &PRESETS[i];
    }
    return NULL;
}

const char *hub_provider_resolve(hub_provider_spec *ps)
{
    const char *url = ps->base_url;
    const char *default_version = NULL;
    const preset *pr = NULL;

    ps->auth_header = NULL;
    ps->key_optional = false;
    ps->url[0] = '\0';
    if (ps->preset != NULL) {
        pr = find_preset(ps->preset);
        if (pr == NULL)
            return "the preset must be deepseek, xai, openrouter, ollama or azure";
        if (ps->type != NULL && strcmp(ps->type, "openai-compatible") != 0)
            return "a preset is an openai-compatible provider: choose type openai-compatible";
        ps->type = "openai-compatible";
        ps->internal = ps->internal || pr->internal;
        ps->auth_header = pr->auth_header;
        ps->key_optional = pr->key_optional;
        default_version = pr->api_version;
        if (url == NULL)
            url = pr->base_url;
        if (url == NULL)
            return "this preset needs a base URL (e.g. https://RESOURCE.openai.azure.com)";
    }
    if (ps->type == NULL)
        return "a type (openai, openai-compatible, anthropic, gemini) or a preset is required";
    const ptype *pt = find_type(ps->type);
    if (pt == NULL)
        return "the type must be openai, openai-compatible, anthropic or gemini";
    if (pr == NULL) {
        default_version = pt->api_version;
        if (url == NULL)
            url = pt->base_url;
        if (url == NULL)
            return "type openai-compatible needs a base URL (or choose a preset)";
    }
    if (ps->api_version != NULL && default_version == NULL)
        return "an API version applies only to anthropic and the azure preset";
    if (ps->api_version == NULL)
        ps->api_version = default_version;
    if (ps->api_version != NULL && !hub_name_ok(ps->api_version, 32, "._-"))
        return "the API version must be 1-32 characters of A-Z a-z 0-9 . _ -";
    if (strlen(url) >= sizeof(ps->url))
        return "the base URL is longer than 512 characters";
    snprintf(ps->url, sizeof(ps->url), "%s", url);
    size_t n = strlen(ps->url);
    while (n > 0 && ps->url[n - 1] == '/')
        ps->url[--n] = '\0';
    return hub_base_url_problem(ps->url, ps->internal);
}

/* s[0..n) with spaces cut at both ends: *start and *len of what is left. */
static void trim_span(const char *s, size_t n, const char **start, size_t *len)
{
    while (n > 0 && *s == ' ') {
        s++;
        n--;
    }
    while (n > 0 && s[n - 1] == ' ')
        n--;
    *start = s;
    *len = n;
}

bool hub_fallbacks_normalize(const char *in, char *out, size_t outsz, char *err, size_t errsz)
{
    const char *item[HUB_FALLBACK_ITEMS];
    size_t ilen[HUB_FALLBACK_ITEMS];
    int n = 0;
    size_t used = 0;
    const char *s = in;
    const char *t;
    size_t tl;

    if (outsz == 0)
        return false;
    out[0] = '\0';
    if (in == NULL)
        return true;
    if (strlen(in) > HUB_FALLBACKS_MAX) {
        snprintf(err, errsz, "the fallback list is longer than %d characters", HUB_FALLBACKS_MAX);
        return false;
    }
    trim_span(in, strlen(in), &t, &tl);
    if (tl == 0)
        return true;
    for (;;) {
        size_t len = strcspn(s, ",");
        char one[HUB_FALLBACKS_MAX + 1];
        trim_span(s, len, &t, &tl);
        if (tl == 0) {
            snprintf(err, errsz, "the fallback list has an empty entry");
            return false;
        }
        memcpy(one, t, tl);
        one[tl] = '\0';
        char *slash = strchr(one, '/');
        if (slash == NULL) {
            snprintf(err, errsz, "fallback '%s' is not PROVIDER/MODEL", one);
            return false;
        }
        *slash = '\0';
        if (!hub_name_ok(one, 64, HUB_CHARS_PROVIDER)) {
            snprintf(err, errsz, "fallback '%s/...': not a valid provider name", one);
            return false;
        }
        if (!hub_model_name_ok(slash + 1)) {
            snprintf(err, errsz,
                     "fallback '%s/...': the model must be up to 191 characters of "
                     "A-Z a-z 0-9 . _ : @ / - without \"..\"",
                     one);
            return false;
        }
        if (n == HUB_FALLBACK_ITEMS) {
            snprintf(err, errsz, "the fallback list has more than %d entries", HUB_FALLBACK_ITEMS);
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (ilen[i] == tl && memcmp(item[i], t, tl) == 0) {
                *slash = '/';
                snprintf(err, errsz, "the fallback list names %s twice", one);
                return false;
            }
        }
        item[n] = t;
        ilen[n] = tl;
        n++;
        if (used + tl + (used > 0 ? 1 : 0) >= outsz) {
            snprintf(err, errsz, "the fallback list is too long");
            return false;
        }
        if (used > 0)
            out[used++] = ',';
        memcpy(out + used, t, tl);
        used += tl;
        out[used] = '\0';
        if (s[len] == '\0')
            break;
        s += len + 1;
    }
    return true;
}
