/*
 * hub_oauth.c — helpers shared by the gateway's JWT verifier and the pages' OIDC sign-in
 * (see hub_oauth.h).
 */
#include "hub_oauth.h"

#include <string.h>

bool hub_b64url_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool hub_oauth_url_ok(const char *url)
{
    static const char *const local[] = {"http://127.0.0.1:", "http://127.0.0.1/",
                                        "http://localhost:", "http://localhost/", "http://[::1]:"};
    if (url == NULL)
        return false;
    if (strncmp(url, "https://", 8) == 0)
        return true;
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        if (strncmp(url, local[i], strlen(local[i])) == 0)
            return true;
    }
    return false;
}

void hub_oauth_scrub(const char *msg, char *out, size_t outsz)
{
    size_t o = 0;
    if (outsz == 0)
        return;
    for (const char *p = msg != NULL ? msg : ""; *p != '\0' && o + 6 < outsz;) {
        if (strncmp(p, "eyJ", 3) == 0) {
            while (hub_b64url_char((unsigned char)*p) || *p == '.')
                p++;
            memcpy(out + o, "[jwt]", 5);
            o += 5;
            continue;
        }
        out[o++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
        p++;
    }
    out[o] = '\0';
}
