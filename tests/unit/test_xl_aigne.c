/*
 * test_xl_aigne.c — unit tests of the AIGNE Hub v2 translator (lib/hub_xl_aigne.c) through the
 * public hub_xlate.h entry points with format "aigne": each request field's mapping to the
 * OpenAI pivot (exact JSON), validation errors, the answer and error bodies, and the stream
 * (the exact sequence of "data: …" events, no [DONE]).
 */
#include "hub_xlate.h"
#include "tap.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Translates an AIGNE request; *out is new (or NULL). */
static hub_err xl_req(const char *in_text, json_object **out, bool *stream, const char **param,
                      char *err, size_t errsz)
{
    json_object *in = json_tokener_parse(in_text);
    err[0] = '\0';
    *param = NULL;
    hub_err rc = hub_xl_in_request("aigne", in, out, stream, param, err, errsz);
    json_object_put(in);
    return rc;
}

/* A request that must translate to exactly `want` with the given stream flag. */
static void ok_req(const char *name, const char *in_text, const char *want, bool want_stream)
{
    json_object *out = NULL;
    bool stream = !want_stream;
    const char *param = NULL;
    char err[256];
    hub_err rc = xl_req(in_text, &out, &stream, &param, err, sizeof(err));
    if (rc != HUB_OK)
        printf("# error: %s\n", err);
    TAP_CHECK(rc == HUB_OK && same_json(out, want) && stream == want_stream, name);
    json_object_put(out);
}

/* A request that must be refused with HUB_EINVAL, the given param and a message containing
 * `needle`. */
static void bad_req(const char *name, const char *in_text, const char *want_param,
                    const char *needle)
{
    json_object *out = NULL;
    bool stream = false;
    const char *param = NULL;
    char err[256];
    hub_err rc = xl_req(in_text, &out, &stream, &param, err, sizeof(err));
    bool param_ok = want_param == NULL ? param == NULL : param && strcmp(param, want_param) == 0;
    if (rc != HUB_EINVAL || !param_ok || strstr(err, needle) == NULL)
        printf("# rc=%d param=%s err=%s\n", (int)rc, param ? param : "(null)", err);
    TAP_CHECK(rc == HUB_EINVAL && out == NULL && param_ok && strstr(err, needle) != NULL, name);
    json_object_put(out);
}

static void test_request_fields(void)
{
    ok_req("request: model and a user message",
           "{\"model\":\"openai/gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
           "{\"model\":\"openai/gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
           false);
    ok_req("request: default model as AIGNE Hub",
           "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"model\":\"\"}",
           "{\"model\":\"gpt-3.5-turbo\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
           false);
    ok_req("request: sampling options camelCase → snake_case",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"temperature\":0.7,\"topP\":0.9,\"presencePenalty\":0.5,\"frequencyPenalty\":-1.5,"
           "\"maxTokens\":256}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"temperature\":0.7,\"top_p\":0.9,\"presence_penalty\":0.5,"
           "\"frequency_penalty\":-1.5,\"max_tokens\":256}",
           false);
    ok_req("request: numeric strings converted, null and empty ignored",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"temperature\":\"0.25\",\"maxTokens\":\"64\",\"topP\":null,\"presencePenalty\":\"\","
           "\"stream\":null,\"tools\":null,\"responseFormat\":null}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"temperature\":0.25,\"max_tokens\":64}",
           false);
    ok_req("request: modelOptions is not part of this route and is ignored, as AIGNE Hub does",
           "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"modelOptions\":{\"model\":\"openai/gpt-4o-mini\",\"temperature\":1,\"topP\":0.5}}",
           "{\"model\":\"gpt-3.5-turbo\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
           false);
    ok_req("request: prompt becomes one user message", "{\"model\":\"m\",\"prompt\":\"Tell me\"}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me\"}]}", false);
    ok_req(
        "request: stream true adds stream_options.include_usage",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        true);
    ok_req("request: stream \"false\" string, unknown fields ignored",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"stream\":\"false\",\"user\":\"x\",\"seed\":3}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", false);
    ok_req(
        "request: every message role and part",
        "{\"model\":\"m\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Be brief.\",\"name\":\"sys\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
        "{\"type\":\"image_url\",\"imageUrl\":{\"url\":\"https://x.test/a.png\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"\",\"toolCalls\":[{\"id\":\"c1\","
        "\"type\":\"function\",\"function\":{\"name\":\"look\",\"arguments\":\"{\\\"q\\\":1}\"}},"
        "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"zoom\","
        "\"arguments\":{\"level\":2}}}]},"
        "{\"role\":\"tool\",\"content\":\"a cat\",\"toolCallId\":\"c1\"},"
        "{\"role\":\"tool\",\"content\":\"\",\"toolCallId\":\"c2\"},"
        "{\"role\":\"assistant\",\"content\":null,\"name\":\"\"}]}",
        "{\"model\":\"m\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Be brief.\",\"name\":\"sys\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x.test/a.png\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c1\","
        "\"type\":\"function\",\"function\":{\"name\":\"look\",\"arguments\":\"{\\\"q\\\":1}\"}},"
        "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"zoom\","
        "\"arguments\":\"{\\\"level\\\":2}\"}}]},"
        "{\"role\":\"tool\",\"content\":\"a cat\",\"tool_call_id\":\"c1\"},"
        "{\"role\":\"tool\",\"content\":\"\",\"tool_call_id\":\"c2\"},"
        "{\"role\":\"assistant\",\"content\":\"\"}]}",
        false);
    ok_req("request: assistant with only toolCalls has null content",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"w?\"},"
           "{\"role\":\"assistant\",\"toolCalls\":[{\"id\":\"c\",\"type\":\"function\","
           "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
           "{\"role\":\"tool\",\"content\":\"ok\",\"toolCallId\":\"c\"}]}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"w?\"},"
           "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c\","
           "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
           "{\"role\":\"tool\",\"content\":\"ok\",\"tool_call_id\":\"c\"}]}",
           false);
    ok_req("request: tools, toolChoice auto, parallelToolCalls",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
           "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\",\"properties\":"
           "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}],"
           "\"toolChoice\":\"auto\",\"parallelToolCalls\":false}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
           "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\",\"properties\":"
           "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}],"
           "\"tool_choice\":\"auto\",\"parallel_tool_calls\":false}",
           false);
    ok_req("request: toolChoice naming a function; empty tools and lone parallelToolCalls dropped",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"tools\":[],"
           "\"toolChoice\":{\"type\":\"function\",\"function\":{\"name\":\"f\","
           "\"description\":\"d\"}},\"parallelToolCalls\":true}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}}",
           false);
    ok_req("request: toolChoice none and required",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"toolChoice\":\"required\"}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"tool_choice\":\"required\"}",
           false);
}

static void test_response_format(void)
{
    ok_req("responseFormat json_schema → response_format.json_schema",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"responseFormat\":{\"type\":\"json_schema\",\"jsonSchema\":{\"name\":\"out\","
           "\"description\":\"The answer\",\"schema\":{\"type\":\"object\",\"properties\":"
           "{\"a\":{\"type\":\"number\"}}},\"strict\":true}}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"out\","
           "\"description\":\"The answer\",\"schema\":{\"type\":\"object\",\"properties\":"
           "{\"a\":{\"type\":\"number\"}}},\"strict\":true}}}",
           false);
    ok_req("responseFormat text sends nothing",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"responseFormat\":{\"type\":\"text\"}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", false);
    ok_req("responseFormat json_object sends nothing (as AIGNE Hub)",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
           "\"responseFormat\":{\"type\":\"json_object\"}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", false);
}

#define HI "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]"

static void test_validation(void)
{
    bad_req("invalid: body not an object", "[1]", NULL, "JSON object");
    bad_req("invalid: neither messages nor prompt", "{\"model\":\"m\"}", "messages", "either");
    bad_req("invalid: both messages and prompt", "{\"prompt\":\"x\"," HI "}", "prompt", "either");
    bad_req("invalid: empty messages", "{\"messages\":[]}", "messages", "non-empty");
    bad_req("invalid: messages not an array", "{\"messages\":{}}", "messages", "non-empty");
    bad_req("invalid: model not a string", "{\"model\":42," HI "}", "model", "model");
    bad_req("invalid: unknown role", "{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}",
            "messages", "messages[0].role");
    bad_req("invalid: user message without content", "{\"messages\":[{\"role\":\"user\"}]}",
            "messages", "messages[0].content is required");
    bad_req("invalid: tool message without toolCallId",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
            "{\"role\":\"tool\",\"content\":\"r\"}]}",
            "messages", "messages[1].toolCallId");
    bad_req("invalid: tool message with null content",
            "{\"messages\":[{\"role\":\"tool\",\"content\":null,\"toolCallId\":\"c\"}]}",
            "messages", "messages[0].content");
    bad_req("invalid: toolCalls entry without id",
            "{\"messages\":[{\"role\":\"assistant\",\"toolCalls\":[{\"type\":\"function\","
            "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]}",
            "messages", "messages[0].toolCalls[0]");
    bad_req("invalid: second toolCalls entry bad after content and a good one",
            "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\",\"toolCalls\":[{\"id\":\"a\","
            "\"type\":\"function\",\"function\":{\"name\":\"f\"}},{\"id\":\"b\","
            "\"type\":\"retrieval\",\"function\":{\"name\":\"g\"}}]}]}",
            "messages", "messages[0].toolCalls[1]");
    bad_req("invalid: toolCalls not an array",
            "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\",\"toolCalls\":{}}]}",
            "messages", "messages[0].toolCalls");
    bad_req("invalid: bad part after a good one",
            "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
            "{\"type\":\"image_url\",\"imageUrl\":{}}]}]}",
            "messages", "messages[0].content[1]");
    bad_req("invalid: part of unknown type",
            "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}", "messages",
            "messages[0].content[0]");
    bad_req("invalid: image in a system message",
            "{\"messages\":[{\"role\":\"system\",\"content\":[{\"type\":\"image_url\","
            "\"imageUrl\":{\"url\":\"u\"}}]}]}",
            "messages", "messages[0].content[0]");
    bad_req("invalid: content of another type",
            "{\"messages\":[{\"role\":\"user\",\"content\":7}]}", "messages", "string or an array");
    bad_req("invalid: temperature out of range", "{" HI ",\"temperature\":3}", "temperature",
            "between 0 and 2");
    bad_req("invalid: temperature not a number", "{" HI ",\"temperature\":\"hot\"}", "temperature",
            "temperature must be a number");
    bad_req("invalid: topP below AIGNE's 0.1", "{" HI ",\"topP\":0}", "topP", "between 0.1 and 1");
    bad_req("invalid: presencePenalty out of range", "{" HI ",\"presencePenalty\":-3}",
            "presencePenalty", "between -2 and 2");
    bad_req("invalid: frequencyPenalty a boolean", "{" HI ",\"frequencyPenalty\":true}",
            "frequencyPenalty", "frequencyPenalty");
    bad_req("invalid: maxTokens zero", "{" HI ",\"maxTokens\":0}", "maxTokens", "integer");
    bad_req("invalid: maxTokens fractional", "{" HI ",\"maxTokens\":1.5}", "maxTokens", "integer");
    bad_req("invalid: stream not a boolean", "{" HI ",\"stream\":\"yes\"}", "stream", "boolean");
    bad_req("invalid: tools not an array", "{" HI ",\"tools\":{}}", "tools", "array");
    bad_req("invalid: tool without a name",
            "{" HI ",\"tools\":[{\"type\":\"function\",\"function\":{\"parameters\":{}}}]}",
            "tools", "tools[0]");
    bad_req("invalid: tool parameters not an object",
            "{" HI ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
            "\"parameters\":[]}}]}",
            "tools", "tools[0]");
    bad_req("invalid: toolChoice unknown", "{" HI ",\"toolChoice\":\"sometimes\"}", "toolChoice",
            "toolChoice");
    bad_req("invalid: parallelToolCalls not a boolean", "{" HI ",\"parallelToolCalls\":2}",
            "parallelToolCalls", "boolean");
    bad_req("invalid: responseFormat type unknown",
            "{" HI ",\"responseFormat\":{\"type\":\"xml\"}}", "responseFormat", "json_schema");
    bad_req("invalid: json_schema without jsonSchema",
            "{" HI ",\"responseFormat\":{\"type\":\"json_schema\"}}", "responseFormat",
            "jsonSchema");
    bad_req("invalid: jsonSchema without schema",
            "{" HI
            ",\"responseFormat\":{\"type\":\"json_schema\",\"jsonSchema\":{\"name\":\"n\"}}}",
            "responseFormat", "jsonSchema");
    bad_req("invalid: responseFormat not an object", "{" HI ",\"responseFormat\":\"json\"}",
            "responseFormat", "responseFormat");
}

/* Translates an OpenAI answer (text) to the AIGNE answer; *out new. */
static hub_err xl_resp(const char *oai_text, json_object **out)
{
    json_object *oai = json_tokener_parse(oai_text);
    char err[256] = "";
    hub_err rc = hub_xl_in_response("aigne", oai, out, err, sizeof(err));
    json_object_put(oai);
    return rc;
}

static void test_response(void)
{
    json_object *out = NULL;
    hub_err rc = xl_resp(
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello!\"},"
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,"
        "\"total_tokens\":12}}",
        &out);
    TAP_CHECK(rc == HUB_OK && same_json(out, "{\"role\":\"assistant\",\"text\":\"Hello!\","
                                             "\"content\":\"Hello!\",\"model\":\"gpt-4o\","
                                             "\"usage\":{\"promptTokens\":9,"
                                             "\"completionTokens\":3,\"totalTokens\":12}}"),
              "response: text answer");
    json_object_put(out);
    out = NULL;
    rc = xl_resp("{\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                 "\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
                 "\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
                 "\"{\\\"city\\\":\\\"Paris\\\"}\"}},{\"id\":\"call_2\",\"type\":\"function\","
                 "\"function\":{\"name\":\"now\",\"arguments\":\"\"}}]},"
                 "\"finish_reason\":\"tool_calls\"}]}",
                 &out);
    TAP_CHECK(rc == HUB_OK &&
                  same_json(out, "{\"role\":\"assistant\",\"text\":\"\",\"content\":\"\","
                                 "\"toolCalls\":[{\"id\":\"call_1\",\"type\":\"function\","
                                 "\"function\":{\"name\":\"get_weather\",\"arguments\":"
                                 "\"{\\\"city\\\":\\\"Paris\\\"}\"}},{\"id\":\"call_2\","
                                 "\"type\":\"function\",\"function\":{\"name\":\"now\","
                                 "\"arguments\":\"{}\"}}],\"model\":\"gpt-4o\"}"),
              "response: tool calls with string arguments");
    json_object_put(out);
    out = NULL;
    rc = xl_resp("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,"
                 "\"refusal\":\"I can't.\"}}]}",
                 &out);
    TAP_CHECK(rc == HUB_OK && same_json(out, "{\"role\":\"assistant\",\"text\":\"I can't.\","
                                             "\"content\":\"I can't.\"}"),
              "response: refusal becomes the text");
    json_object_put(out);
    out = NULL;
    rc = xl_resp("{\"choices\":[]}", &out);
    TAP_CHECK(rc == HUB_EUPSTREAM && out == NULL, "response: no choices is an upstream error");
    rc = xl_resp("{\"error\":{\"message\":\"x\"}}", &out);
    TAP_CHECK(rc == HUB_EUPSTREAM && out == NULL, "response: error object is an upstream error");

    hub_buf b;
    hub_buf_init(&b, 0);
    hub_xl_in_error("aigne", 429, "Too many \"requests\"", "rate_limit_error", &b);
    hub_buf b2;
    hub_buf_init(&b2, 0);
    hub_xl_in_error("aigne", 500, NULL, NULL, &b2);
    TAP_CHECK(b2.data && strcmp(b2.data, "{\"error\":{\"message\":\"\"}}") == 0,
              "error body: NULL message is empty");
    hub_buf_free(&b2);
    TAP_CHECK(b.data &&
                  strcmp(b.data, "{\"error\":{\"message\":\"Too many \\\"requests\\\"\"}}") == 0,
              "error body: {\"error\":{\"message\"}}");
    hub_buf_free(&b);
}

static void test_tool_round_trip(void)
{
    /* 1. the client offers a tool; 2. the model calls it; 3. the client sends the result. */
    json_object *out = NULL, *answer = NULL;
    bool stream = false;
    const char *param = NULL;
    char err[256];
    hub_err rc =
        xl_req("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Paris?\"}],"
               "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
               "\"parameters\":{\"type\":\"object\"}}}]}",
               &out, &stream, &param, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK, "round trip: tool offered");
    json_object_put(out);
    rc = xl_resp("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,"
                 "\"tool_calls\":[{\"id\":\"call_9\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}}]}",
                 &answer);
    json_object *tcs = NULL;
    TAP_CHECK(rc == HUB_OK && json_object_object_get_ex(answer, "toolCalls", &tcs),
              "round trip: answer has toolCalls");
    /* the client puts the answer's toolCalls into its next request unchanged */
    json_object *next = json_object_new_object();
    json_object *msgs = json_object_new_array();
    json_object *am = json_object_new_object();
    json_object *tm = json_tokener_parse("{\"role\":\"tool\",\"content\":\"18C\","
                                         "\"toolCallId\":\"call_9\"}");
    json_object_object_add(am, "role", json_object_new_string("assistant"));
    json_object_object_add(am, "toolCalls", json_object_get(tcs));
    json_object_array_add(msgs, json_tokener_parse("{\"role\":\"user\",\"content\":\"Paris?\"}"));
    json_object_array_add(msgs, am);
    json_object_array_add(msgs, tm);
    json_object_object_add(next, "model", json_object_new_string("m"));
    json_object_object_add(next, "messages", msgs);
    out = NULL;
    rc = hub_xl_in_request("aigne", next, &out, &stream, &param, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK &&
                  same_json(out, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                                 "\"Paris?\"},{\"role\":\"assistant\",\"content\":null,"
                                 "\"tool_calls\":[{\"id\":\"call_9\",\"type\":\"function\","
                                 "\"function\":{\"name\":\"get_weather\",\"arguments\":"
                                 "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},{\"role\":\"tool\","
                                 "\"content\":\"18C\",\"tool_call_id\":\"call_9\"}]}"),
              "round trip: result goes back as tool message");
    json_object_put(out);
    json_object_put(next);
    json_object_put(answer);
}

/* Splits SSE bytes into events; each must be "data: JSON". Returns the count, -1 if malformed;
 * events[k] get canonical JSON (caller frees). */
static int split_events(const char *s, char **events, int max)
{
    int n = 0;
    while (*s != '\0') {
        const char *end = strstr(s, "\n\n");
        if (end == NULL || strncmp(s, "data: ", 6) != 0 || n == max)
            return -1;
        char *payload = strndup(s + 6, (size_t)(end - s - 6));
        events[n] = canon(payload);
        free(payload);
        if (events[n] == NULL)
            return -1;
        n++;
        s = end + 2;
    }
    return n;
}

static bool events_are(const char *sse, const char *const *want, int nwant)
{
    char *got[16];
    int n = split_events(sse, got, 16);
    bool ok = n == nwant;
    for (int k = 0; k < n; k++) {
        char *w = k < nwant ? canon(want[k]) : NULL;
        if (w == NULL || strcmp(got[k], w) != 0) {
            printf("# event %d: %s\n#   want: %s\n", k, got[k], w ? w : "(none)");
            ok = false;
        }
        free(w);
        free(got[k]);
    }
    if (n != nwant)
        printf("# %d events, want %d\n", n, nwant);
    return ok && strstr(sse, "[DONE]") == NULL;
}

static hub_err feed(hub_xl_in_stream *st, const char *chunk_text, hub_buf *out)
{
    json_object *c = json_tokener_parse(chunk_text);
    hub_err rc = hub_xl_in_stream_chunk(st, c, out);
    json_object_put(c);
    return rc;
}

#define CHUNK(delta, fin)                                                                          \
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","       \
    "\"choices\":[{\"index\":0,\"delta\":" delta ",\"finish_reason\":" fin "}]}"

static void test_stream(void)
{
    hub_buf out;
    hub_buf_init(&out, 0);
    hub_xl_in_stream *st = hub_xl_in_stream_new("aigne", "chatcmpl-1", "openai/gpt-4o");
    hub_err rc = HUB_OK;
    const char *chunks[] = {
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null"),
        CHUNK("{\"content\":\"Hel\"}", "null"),
        CHUNK("{\"content\":\"lo\"}", "null"),
        CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
              "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}",
              "null"),
        CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}",
              "null"),
        CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}",
              "null"),
        CHUNK("{}", "\"tool_calls\""),
        "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
        "\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,"
        "\"total_tokens\":18}}",
    };
    TAP_CHECK(st != NULL, "stream: created");
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]) && rc == HUB_OK; k++)
        rc = feed(st, chunks[k], &out);
    hub_xl_usage u = {11, 7, 18};
    if (rc == HUB_OK)
        rc = hub_xl_in_stream_finish(st, &u, &out);
    const char *want[] = {
        "{\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\",\"toolCalls\":[]}}",
        "{\"delta\":{\"role\":\"assistant\",\"content\":\"lo\",\"toolCalls\":[]}}",
        "{\"delta\":{\"role\":\"assistant\",\"toolCalls\":[{\"id\":\"call_1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
        "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}}",
        "{\"usage\":{\"promptTokens\":11,\"completionTokens\":7,\"totalTokens\":18}}",
    };
    TAP_CHECK(rc == HUB_OK && out.data && events_are(out.data, want, 4),
              "stream: text deltas, one whole tool call, usage, no [DONE]");
    hub_xl_in_stream_free(st);

    /* two parallel calls, interleaved, no finish_reason: flushed by finish; total computed */
    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("aigne", "id", "m");
    rc = feed(st,
              CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"f\","
                    "\"arguments\":\"{\\\"x\\\"\"}},{\"index\":1,\"id\":\"b\",\"function\":"
                    "{\"name\":\"g\"}}]}",
                    "null"),
              &out);
    if (rc == HUB_OK)
        rc = feed(st,
                  CHUNK("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{}\"}},"
                        "{\"index\":0,\"function\":{\"arguments\":\":1}\"}}]}",
                        "null"),
                  &out);
    if (rc == HUB_OK)
        rc = feed(st, "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}",
                  &out); /* a usage-only chunk sends nothing */
    hub_xl_usage partial = {5, 2, -1}, unknown = {-1, -1, -1};
    if (rc == HUB_OK)
        rc = hub_xl_in_stream_finish(st, &partial, &out);
    const char *want2[] = {
        "{\"delta\":{\"role\":\"assistant\",\"toolCalls\":[{\"id\":\"a\",\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}},{\"id\":\"b\","
        "\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}}",
        "{\"usage\":{\"promptTokens\":5,\"completionTokens\":2,\"totalTokens\":7}}",
    };
    TAP_CHECK(rc == HUB_OK && out.data && events_are(out.data, want2, 2),
              "stream: parallel calls assembled by index, total tokens computed");
    hub_xl_in_stream_free(st);

    /* no usage known at all: no usage event; text only */
    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("aigne", "id", "m");
    rc = feed(st, CHUNK("{\"content\":\"a/b\"}", "\"stop\""), &out);
    if (rc == HUB_OK)
        rc = hub_xl_in_stream_finish(st, &unknown, &out);
    const char *want3[] = {
        "{\"delta\":{\"role\":\"assistant\",\"content\":\"a/b\",\"toolCalls\":[]}}",
    };
    TAP_CHECK(rc == HUB_OK && out.data && events_are(out.data, want3, 1),
              "stream: without usage no usage event");

    hub_buf_reset(&out);
    hub_xl_in_stream_error(st, "upstream \"failed\"", &out);
    TAP_CHECK(out.data &&
                  strcmp(out.data,
                         "data: {\"error\":{\"message\":\"upstream \\\"failed\\\"\"}}\n\n") == 0,
              "stream: error event");
    hub_xl_in_stream_free(st);

    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("aigne", "id", "m");
    rc = feed(st, CHUNK("{\"tool_calls\":[{\"index\":100000,\"id\":\"x\"}]}", "null"), &out);
    TAP_CHECK(rc == HUB_EUPSTREAM && out.len == 0, "stream: absurd tool call index refused");
    hub_xl_in_stream_free(st);

    /* a refusal streams as text; fragments without index append new calls */
    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("aigne", "id", "m");
    rc = feed(st, CHUNK("{\"refusal\":\"No.\"}", "null"), &out);
    if (rc == HUB_OK)
        rc = feed(st, CHUNK("{\"tool_calls\":[{\"function\":{\"name\":\"f\"}}]}", "\"tool_calls\""),
                  &out);
    if (rc == HUB_OK)
        rc = hub_xl_in_stream_finish(st, NULL, &out);
    const char *want4[] = {
        "{\"delta\":{\"role\":\"assistant\",\"content\":\"No.\",\"toolCalls\":[]}}",
        "{\"delta\":{\"role\":\"assistant\",\"toolCalls\":[{\"id\":\"call_0\",\"type\":"
        "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}",
    };
    TAP_CHECK(rc == HUB_OK && out.data && events_are(out.data, want4, 2),
              "stream: refusal as text, call without id or index gets one");
    hub_xl_in_stream_free(st);
    hub_buf_free(&out);

    /* an event that does not fit the buffer leaves it as it was */
    hub_buf_init(&out, 16);
    st = hub_xl_in_stream_new("aigne", "id", "m");
    hub_buf_puts(&out, "kept");
    rc = feed(st, CHUNK("{\"content\":\"far too long for sixteen bytes\"}", "null"), &out);
    TAP_CHECK(rc == HUB_ENOMEM && out.len == 4 && strcmp(out.data, "kept") == 0,
              "stream: an event that does not fit is not half-written");
    hub_xl_in_stream_free(st);
    hub_buf_free(&out);
}

int main(void)
{
    test_request_fields();
    test_response_format();
    test_validation();
    test_response();
    test_tool_round_trip();
    test_stream();
    return tap_done();
}
