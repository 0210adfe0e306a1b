/*
 * util_cred.c — what "provider add" and "credential add" share: checking a credential's
 * label and weight, reading the provider's API key from stdin (optional for an Ollama
 * provider) and storing it sealed under a free label.
 *
 * The sealing itself (insert the row, seal under "credential:<id>", store the blob) is
 * hub_cred_store of lib/hub_ops.h, which the admin pages use too. Nothing here prints a
 * secret.
 */
#include "hubctl.h"

#include <string.h>

bool hc_cred_opts(const char *cmd, const char *label, const char *weight_s, long *weight,
                  int *status)
{
    *weight = 1;
    if (label != NULL && !hub_name_ok(label, 64, HUB_CHARS_LABEL)) {
        *status = hc_usage(cmd, "--label must be 1-64 characters of A-Z a-z 0-9 . _ : @ -");
        return false;
    }
    if (weight_s != NULL && !hub_int_ok(weight_s, HUB_WEIGHT_MIN, HUB_WEIGHT_MAX, weight)) {
        *status = hc_usage(cmd, "--weight must be a whole number from %d to %d", HUB_WEIGHT_MIN,
                           HUB_WEIGHT_MAX);
        return false;
    }
    return true;
}

bool hc_read_provider_key(bool optional, char *secret, size_t secretsz, size_t *len)
{
    char err[256];
    if (!hc_read_secret(optional ? "provider API key (optional)" : "provider API key", "key",
                        secret, secretsz, len, optional, err, sizeof(err))) {
        hc_err("%s", err);
        return false;
    }
    if (*len == 0) {
        memcpy(secret, HUB_OLLAMA_KEY, sizeof(HUB_OLLAMA_KEY));
        *len = sizeof(HUB_OLLAMA_KEY) - 1;
    }
    return true;
}

bool hc_cred_add(hubctl *h, const hub_keyring *kr, long long pid, const char *provider,
                 const char **label, char *label_buf, size_t label_bufsz, long weight,
                 const char *secret, size_t slen, long long *cid, int *key_id)
{
    char err[512];
    bool taken = false;

    if (*label == NULL) {
        if (!hub_cred_default_label(h->db, pid, label_buf, label_bufsz, err, sizeof(err))) {
            hc_err("%s", err);
            return false;
        }
        *label = label_buf;
    } else if (!hub_cred_label_taken(h->db, pid, *label, &taken)) {
        hc_err("database error: %s", hub_db_error(h->db));
        return false;
    } else if (taken) {
        hc_err("provider '%s' already has a credential labelled '%s'", provider, *label);
        return false;
    }
    if (!hub_cred_store(h->db, kr, pid, *label, weight, secret, slen, cid, key_id, err,
                        sizeof(err))) {
        hc_err("%s", err);
        return false;
    }
    return true;
}
