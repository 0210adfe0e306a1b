/*
 * providers.h — the parts of providers.cgi: the views (providers.c), the changes
 * (providers_post.c) and the connection test (provider_test.c).
 */
#ifndef PROVIDERS_H
#define PROVIDERS_H

#include "page.h"

/* The list of providers (GET). */
void pv_list(pg *p, int status);
/* The form that adds a provider, with status (400/409 re-shows it with p->err). */
void pv_new(pg *p, int status);
/* One provider: settings, credentials and (for admins) the forms that change them. */
void pv_detail(pg *p, long long id, int status);

/* Handles a POST (field action): create, update, enable, disable, cred_add, cred_enable,
 * cred_disable, cred_remove, test. */
void pp_post(pg *p);

/*
 * The connection test: GET of the provider's model list with the credential (openai types:
 * {base}/models; anthropic: {base}/v1/models; gemini: {base}/v1beta/models; azure preset:
 * {base}/openai/models?api-version=V). No redirects are followed; http only for internal
 * providers; 10 s at most. Returns 0 with *http set to the HTTP status, or a reason code
 * (pt_why gives its text): a libcurl code (> 0) or one of PT_*.
 */
typedef struct {
    const char *type, *preset, *auth_header, *api_version, *base_url;
    bool internal;
} pt_target;

#define PT_BREAK (-1) /* the stored key holds a line break */
#define PT_URL   (-2) /* the URL does not fit */
#define PT_INIT  (-3) /* libcurl could not start */
#define PT_SEAL  (-4) /* the stored key does not open with the master key */

int pt_probe(const pt_target *t, const char *secret, long *http);
/* The text of a reason code from pt_probe (static, never NULL). */
const char *pt_why(long why);

#endif
