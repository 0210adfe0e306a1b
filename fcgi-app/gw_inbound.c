/*
 * gw_inbound.c — the API in other clients' wire formats, translated to the OpenAI pivot and
 * back (lib/hub_xlate.h), so they reach any provider with the same routing, keys, retries
 * and metering:
 *   POST /v1/messages                 Anthropic Messages (the official @anthropic-ai/sdk)
 *   POST /api/v2/chat/completions     AIGNE Hub v2 chat (camelCase body, delta/usage stream)
 *   POST /api/v2/chat                 AIGNE framework chat (@aigne/aigne-hub: {input, options})
 *   POST /api/v2/image                AIGNE framework images ({input: {prompt, modelOptions}})
 *   GET  /__blocklet__.js?type=json   where AIGNE framework clients find the hub's routes
 *   POST /api/v2/embeddings           AIGNE Hub v2 embeddings
 *   POST /api/v2/image/generations    AIGNE Hub v2 images
 *   GET  /api/v2/status               AIGNE Hub v2 status
 */
#include "gw.h"

#include "hub_xlate.h"

#include <stdio.h>
#include <string.h>

/* Translates the client's body to an OpenAI chat request and runs it. */
static void translated_chat(gw_call *c, const char *format, const char *ledger_endpoint)
{
    json_object *in = NULL;
    gw_job job = {.ep = GW_EP_CHAT, .ledger_endpoint = ledger_endpoint};
    const char *param = NULL;
    char err[256];
    if (!gw_parse_json_body(c, &in))
        return;
    if (hub_xl_in_request(format, in, &job.req, &job.stream, &param, err, sizeof(err)) != HUB_OK) {
        gw_respond_error(c, HUB_EINVAL, 0, err, param, NULL);
        goto end;
    }
    if (c->format == GW_FMT_AIGNE && !job.stream) {
        /* AIGNE clients ask for a stream with Accept: text/event-stream, not a body field */
        const char *accept = gw_param(c, "HTTP_ACCEPT");
        if (accept != NULL && strstr(accept, "text/event-stream") != NULL) {
            json_object *so = json_object_new_object();
            json_object_object_add(so, "include_usage", json_object_new_boolean(1));
            json_object_object_add(job.req, "stream", json_object_new_boolean(1));
            json_object_object_add(job.req, "stream_options", so);
            job.stream = true;
        }
    }
    if (!gw_validate_openai(c, GW_EP_CHAT, job.req, &job.model))
        goto end;
    job.client_usage = false; /* these formats carry usage in their own closing events */
    gw_proxy(c, &job);
end:
    if (job.req != NULL)
        json_object_put(job.req);
    json_object_put(in);
}

void gw_handle_anthropic(gw_call *c)
{
    translated_chat(c, "anthropic", "/v1/messages");
}

/* AIGNE embeddings and images use OpenAI's field names (images also accept the camelCase
 * responseFormat): validated and proxied; the answer is OpenAI's, a superset of AIGNE's for
 * embeddings; for images gw_relay adds AIGNE's "images" list. */
static void aigne_openai_shaped(gw_call *c, gw_endpoint ep, const char *ledger_endpoint)
{
    gw_job job = {.ep = ep, .ledger_endpoint = ledger_endpoint};
    json_object *rf = NULL;
    if (!gw_parse_json_body(c, &job.req))
        return;
    if (ep == GW_EP_IMAGES && json_object_object_get_ex(job.req, "responseFormat", &rf)) {
        json_object_object_add(job.req, "response_format", json_object_get(rf));
        json_object_object_del(job.req, "responseFormat");
    }
    if (gw_validate_openai(c, ep, job.req, &job.model))
        gw_proxy(c, &job);
    json_object_put(job.req);
}

/* POST /api/v2/image (AIGNE framework image clients): translated to an OpenAI images
 * request; gw_relay translates the answer back (hub_xl_aigne_fw_image_response). */
static void aigne_fw_image(gw_call *c)
{
    json_object *in = NULL;
    gw_job job = {.ep = GW_EP_IMAGES, .ledger_endpoint = "/api/v2/image"};
    const char *param = NULL;
    char err[256];
    if (!gw_parse_json_body(c, &in))
        return;
    if (hub_xl_aigne_fw_image_request(in, &job.req, &param, err, sizeof(err)) != HUB_OK) {
        gw_respond_error(c, HUB_EINVAL, 0, err, param, NULL);
        goto end;
    }
    if (gw_validate_openai(c, GW_EP_IMAGES, job.req, &job.model))
        gw_proxy(c, &job);
end:
    if (job.req != NULL)
        json_object_put(job.req);
    json_object_put(in);
}

/* GET /api/v2/status[?model=NAME]: {"available":true} or {"available":false,"error":…}. */
static void aigne_status(gw_call *c)
{
    char model[257] = "";
    const char *qs = gw_param(c, "QUERY_STRING");
    const char *m = qs ? strstr(qs, "model=") : NULL;
    if (m != NULL && (m == qs || m[-1] == '&')) {
        size_t n = strcspn(m + 6, "&");
        size_t k = 0;
        for (size_t i = 0; i < n && k < sizeof(model) - 1; i++) {
            const char *p = m + 6 + i;
            if (*p == '%' && i + 2 < n && p[1] == '2' && (p[2] == 'F' || p[2] == 'f')) {
                model[k++] = '/';
                i += 2;
            } else {
                model[k++] = *p;
            }
        }
        model[k] = '\0';
    }
    hub_buf b;
    hub_buf_init(&b, 0);
    bool ok = true;
    if (model[0] != '\0') {
        hub_plan plan;
        const char *why = NULL;
        hub_catalog *cat = gw_catalog_get(c->w, false);
        ok = cat != NULL && hub_catalog_plan(cat, model, &plan, &why) == HUB_OK &&
             gw_model_allowed(&c->who, model, plan.t[0].canonical);
        hub_catalog_release(cat);
    }
    if (ok) {
        hub_buf_puts(&b, "{\"available\":true}");
    } else {
        hub_buf_puts(&b, "{\"available\":false,\"error\":");
        hub_buf_json_str(&b, "This model is not available to this key.");
        hub_buf_puts(&b, "}");
    }
    gw_respond(c, 200, "application/json", NULL, b.data, b.len);
    hub_buf_free(&b);
}

/*
 * GET /__blocklet__.js?type=json: AIGNE framework clients (@aigne/aigne-hub) first ask the
 * server where the AIGNE Hub component is mounted (its well-known component DID), then call
 * <origin><mountPoint>/api/v2/chat. The hub answers "/" (its /api/v2 routes are at the
 * root). Public: it names no secret; other types than json are not served.
 */
void gw_handle_blocklet(gw_call *c)
{
    static const char BODY[] = "{\"componentMountPoints\":[{\"did\":"
                               "\"z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ\",\"name\":\"ai-kit\","
                               "\"title\":\"AIGNE Hub (served by hub)\",\"mountPoint\":\"/\"}]}";
    const char *qs = gw_param(c, "QUERY_STRING");
    if (strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0) {
        gw_respond_error(c, HUB_EMETHOD, 0, "Use GET.", NULL, NULL);
        return;
    }
    if (qs == NULL || strstr(qs, "type=json") == NULL) {
        gw_respond_error(c, HUB_ENOTFOUND, 0, "Only /__blocklet__.js?type=json is served.", NULL,
                         "not_found");
        return;
    }
    gw_respond(c, 200, "application/json", NULL, BODY, sizeof(BODY) - 1);
}

void gw_handle_aigne(gw_call *c, const char *route)
{
    if (strcmp(route, "status") == 0) {
        aigne_status(c);
    } else if (strcmp(route, "chat/completions") == 0) {
        translated_chat(c, "aigne", "/api/v2/chat/completions");
    } else if (strcmp(route, "chat") == 0) {
        translated_chat(c, "aigne-fw", "/api/v2/chat");
    } else if (strcmp(route, "image") == 0) {
        aigne_fw_image(c);
    } else if (strcmp(route, "embeddings") == 0) {
        aigne_openai_shaped(c, GW_EP_EMBED, "/api/v2/embeddings");
    } else {
        aigne_openai_shaped(c, GW_EP_IMAGES, "/api/v2/image/generations");
    }
}
