/*
 * hub_error.c — the single mapping from hub_err to an HTTP status and an
 * OpenAI-shaped error body. Nothing else in hub writes error bodies.
 */
#include "hub_error.h"

#include "hub_buf.h"

#include <stdio.h>
#include <string.h>

static const struct {
    int status;
    const char *type;
    const char *code;
} MAP[] = {
    [HUB_OK] = {200, "none", NULL},
    [HUB_EINVAL] = {400, "invalid_request_error", NULL},
    [HUB_EAUTH] = {401, "authentication_error", "invalid_api_key"},
    [HUB_EFORBIDDEN] = {403, "permission_error", "model_not_allowed"},
    [HUB_ENOTFOUND] = {404, "invalid_request_error", "model_not_found"},
    [HUB_EMETHOD] = {405, "invalid_request_error", "method_not_allowed"},
    [HUB_ETOOBIG] = {413, "invalid_request_error", "request_too_large"},
    [HUB_EMEDIA] = {415, "invalid_request_error", "unsupported_media_type"},
    [HUB_ELIMIT] = {429, "rate_limit_error", "rate_limit_exceeded"},
    [HUB_EUPSTREAM] = {502, "upstream_error", "bad_gateway"},
    [HUB_ETIMEOUT] = {504, "upstream_error", "upstream_timeout"},
    [HUB_ECRYPTO] = {500, "server_error", "credential_unreadable"},
    [HUB_EDB] = {503, "server_error", "database_unavailable"},
    [HUB_ENOMEM] = {500, "server_error", "out_of_memory"},
    [HUB_EINTERNAL] = {500, "server_error", "internal_error"},
    [HUB_EUNAVAIL] = {503, "server_error", "provider_unavailable"},
    [HUB_EQUOTA] = {402, "insufficient_quota", "budget_exceeded"},
};

#define MAP_N (sizeof(MAP) / sizeof(MAP[0]))

int hub_error_status(hub_err e)
{
    if ((size_t)e >= MAP_N)
        return 500;
    return MAP[e].status;
}

const char *hub_error_type(hub_err e)
{
    if ((size_t)e >= MAP_N)
        return "server_error";
    return MAP[e].type;
}

const char *hub_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Server Error";
    }
}

/* Type for a passed-on upstream status: OpenAI's own categories. */
static const char *type_for_status(int status)
{
    if (status == 401)
        return "authentication_error";
    if (status == 403)
        return "permission_error";
    if (status == 404 || (status >= 400 && status < 429))
        return "invalid_request_error";
    if (status == 429)
        return "rate_limit_error";
    return "server_error";
}

int hub_error_http(hub_err e, int status_override, const char *message, const char *param,
                   const char *code, char *out, size_t outsz)
{
    int status = status_override > 0 ? status_override : hub_error_status(e);
    const char *type = status_override > 0 ? type_for_status(status) : hub_error_type(e);
    if (code == NULL && (size_t)e < MAP_N && status_override <= 0)
        code = MAP[e].code;
    if (message == NULL)
        message = hub_http_reason(status);
    if (outsz <= 1) {
        if (outsz == 1)
            out[0] = '\0';
        return status;
    }

    hub_buf b;
    hub_buf_init(&b, outsz - 1);
    bool ok = hub_buf_puts(&b, "{\"error\":{\"message\":") && hub_buf_json_str(&b, message) &&
              hub_buf_puts(&b, ",\"type\":") && hub_buf_json_str(&b, type) &&
              hub_buf_puts(&b, ",\"param\":") &&
              (param ? hub_buf_json_str(&b, param) : hub_buf_puts(&b, "null")) &&
              hub_buf_puts(&b, ",\"code\":") &&
              (code ? hub_buf_json_str(&b, code) : hub_buf_puts(&b, "null")) &&
              hub_buf_puts(&b, "}}");
    if (!ok) {
        /* message too long for out: fall back to a fixed body (valid JSON when outsz >= 100) */
        snprintf(out, outsz,
                 "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"param\":null,\"code\":null}}",
                 hub_http_reason(status), type);
    } else {
        memcpy(out, b.data, b.len + 1);
    }
    hub_buf_free(&b);
    return status;
}
