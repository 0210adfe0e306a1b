/*
 * test_xl_gemini_stream.c — unit tests of the Gemini stream translator (hub_xl_gemini_stream.c):
 * Gemini SSE events → OpenAI chat.completion.chunk objects, usage, finish reasons, errors and
 * malformed or truncated events. Answers, requests and embeddings are tested in
 * test_xl_gemini.c. Each mapping is compared with the exact JSON expected (json_object_equal);
 * the "created" stamps are removed first. JSON literals are written with single quotes, turned
 * into double quotes by J() (test_util.h).
 */
#include "hub_xlate_int.h"
#include "tap.h"
#include "gemini_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feeds SSE data payloads to a stream; returns the chunks (new array). */
static json_object *feed(const char *const *events, size_t n, hub_err *rc, hub_xl_usage *u,
                         bool *done, char *err, size_t errsz)
{
    hub_xl_stream *st = hub_xl_stream_new("gemini", "chatcmpl-9", "gem");
    json_object *chunks = json_object_new_array();
    hub_xl_usage_init(u);
    *done = false;
    *rc = HUB_OK;
    for (size_t i = 0; i < n && *rc == HUB_OK; i++) {
        json_object *o = strchr(events[i], '\'') ? J(events[i]) : NULL; /* else raw */
        const char *data =
            o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : events[i];
        *rc = hub_xl_stream_event(st, NULL, data, strlen(data), chunks, u, done, err, errsz);
        json_object_put(o);
    }
    hub_xl_stream_free(st);
    return chunks;
}

static void test_stream(void)
{
    hub_err rc;
    hub_xl_usage u;
    bool done;
    char err[256] = "";
    const char *text[] = {
        "{'candidates':[{'content':{'role':'model','parts':[{'text':'Hel'}]},'index':0}],"
        "'usageMetadata':{'promptTokenCount':7,'totalTokenCount':7}}",
        "{'candidates':[{'content':{'role':'model','parts':[{'text':'lo'}]},'index':0}]}",
        "{'candidates':[{'content':{'role':'model','parts':[{'text':'!'}]},'finishReason':'STOP',"
        "'index':0}],'usageMetadata':{'promptTokenCount':7,'candidatesTokenCount':3,"
        "'thoughtsTokenCount':2,'totalTokenCount':12}}"};
    json_object *c = feed(text, 3, &rc, &u, &done, err, sizeof(err));
    const char *head = "{'id':'chatcmpl-9','object':'chat.completion.chunk','model':'gem',"
                       "'choices':[{'index':0,";
    char want[2048];
    snprintf(want, sizeof(want),
             "[%s'delta':{'role':'assistant','content':''},'finish_reason':null}]},"
             "%s'delta':{'content':'Hel'},'finish_reason':null}]},"
             "%s'delta':{'content':'lo'},'finish_reason':null}]},"
             "%s'delta':{'content':'!'},'finish_reason':null}]},"
             "%s'delta':{},'finish_reason':'stop'}]}]",
             head, head, head, head, head);
    TAP_CHECK(rc == HUB_OK && same(c, want),
              "stream: role chunk, 3 text chunks, finish chunk with empty delta");
    TAP_CHECK(done, "stream: done after finishReason");
    TAP_CHECK(u.prompt_tokens == 7 && u.completion_tokens == 5 && u.total_tokens == 12,
              "stream: usage from the last usageMetadata (thoughts counted)");
    json_object_put(c);

    const char *first_only[] = {text[0]};
    c = feed(first_only, 1, &rc, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && !done && json_object_array_length(c) == 2 && u.prompt_tokens == 7 &&
                  u.completion_tokens == 0,
              "stream: not done before finishReason; partial usage");
    json_object_put(c);

    const char *fc[] = {
        "{'candidates':[{'content':{'role':'model','parts':[{'text':'Checking.'},{'functionCall':"
        "{'name':'get_weather','args':{'city':'Oslo'}}},{'functionCall':{'name':'now','args':{}}"
        "}]},'finishReason':'STOP','index':0}],'usageMetadata':{'promptTokenCount':20,"
        "'candidatesTokenCount':10,'totalTokenCount':30}}"};
    c = feed(fc, 1, &rc, &u, &done, err, sizeof(err));
    json_object *d1 = NULL;
    json_object *d2 = NULL;
    if (json_object_array_length(c) == 5) {
        d1 = hub_xl_get(
            json_object_array_get_idx(
                hub_xl_get(json_object_array_get_idx(c, 2), "choices", json_type_array), 0),
            "delta", json_type_object);
        d2 = hub_xl_get(
            json_object_array_get_idx(
                hub_xl_get(json_object_array_get_idx(c, 3), "choices", json_type_array), 0),
            "delta", json_type_object);
    }
    json_object *t1 = json_object_array_get_idx(hub_xl_get(d1, "tool_calls", json_type_array), 0);
    json_object *t2 = json_object_array_get_idx(hub_xl_get(d2, "tool_calls", json_type_array), 0);
    char w1[512];
    char w2[512];
    snprintf(w1, sizeof(w1),
             "{'index':0,'id':'%s','type':'function','function':{'name':'get_weather',"
             "'arguments':'{\\'city\\':\\'Oslo\\'}'}}",
             t1 ? hub_xl_str(t1, "id") : "");
    snprintf(w2, sizeof(w2),
             "{'index':1,'id':'%s','type':'function','function':{'name':'now','arguments':'{}'}}",
             t2 ? hub_xl_str(t2, "id") : "");
    json_object *last = json_object_array_get_idx(c, 4);
    json_object *lc = json_object_array_get_idx(hub_xl_get(last, "choices", json_type_array), 0);
    json_object *d0 =
        hub_xl_get(json_object_array_get_idx(
                       hub_xl_get(json_object_array_get_idx(c, 1), "choices", json_type_array), 0),
                   "delta", json_type_object);
    TAP_CHECK(rc == HUB_OK && t1 != NULL && t2 != NULL && same(t1, w1) && same(t2, w2) &&
                  strncmp(hub_xl_str(t1, "id"), "call_", 5) == 0 &&
                  strcmp(hub_xl_str(t1, "id"), hub_xl_str(t2, "id")) != 0,
              "stream: functionCall parts → delta.tool_calls with running index, id, full args");
    TAP_CHECK(same(d0, "{'content':'Checking.'}"), "stream: text before the calls kept in order");
    TAP_CHECK(lc != NULL && strcmp(hub_xl_str(lc, "finish_reason"), "tool_calls") == 0 && done &&
                  u.total_tokens == 30,
              "stream: STOP after function calls → finish_reason tool_calls, done, usage");
    json_object_put(c);

    const char *erre[] = {"{'candidates':[{'content':{'parts':[{'text':'a'}]}}]}",
                          "{'error':{'code':503,'message':'The model is overloaded.','status':"
                          "'UNAVAILABLE'}}"};
    c = feed(erre, 2, &rc, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && strcmp(err, "The model is overloaded.") == 0 && !done,
              "stream: error object → EUPSTREAM with error.message");
    json_object_put(c);

    const char *bad[] = {"{\"candidates\":[{\"content\":"};
    c = feed(bad, 1, &rc, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM, "stream: malformed JSON → EUPSTREAM");
    json_object_put(c);

    const char *blocked[] = {"{'promptFeedback':{'blockReason':'PROHIBITED_CONTENT'},"
                             "'usageMetadata':{'promptTokenCount':4,'totalTokenCount':4}}"};
    c = feed(blocked, 1, &rc, &u, &done, err, sizeof(err));
    snprintf(want, sizeof(want),
             "[%s'delta':{'role':'assistant','content':''},'finish_reason':null}]},"
             "%s'delta':{},'finish_reason':'content_filter'}]}]",
             head, head);
    TAP_CHECK(rc == HUB_OK && done && same(c, want) && u.prompt_tokens == 4,
              "stream: blocked prompt → content_filter, done");
    json_object_put(c);

    const char *maxed[] = {"{'candidates':[{'content':{'parts':[{'text':'x','thought':true}]},"
                           "'finishReason':'MAX_TOKENS'}]}"};
    c = feed(maxed, 1, &rc, &u, &done, err, sizeof(err));
    snprintf(want, sizeof(want),
             "[%s'delta':{'role':'assistant','content':''},'finish_reason':null}]},"
             "%s'delta':{},'finish_reason':'length'}]}]",
             head, head);
    TAP_CHECK(rc == HUB_OK && done && same(c, want),
              "stream: thought skipped, MAX_TOKENS → length");
    json_object_put(c);
}

/* Edge cases: several candidates, bounds, raw bytes, truncated events. */
static void test_edges(void)
{
    hub_err rc;
    hub_xl_usage u;
    bool done;
    char err[256] = "";
    const char *two[] = {"{'candidates':[{'index':0,'content':{'parts':[{'text':'a'}]},"
                         "'finishReason':'STOP'},{'index':1,'content':{'parts':[{'text':'b'}]}}]}",
                         "{'candidates':[{'index':1,'content':{'parts':[{'text':'c'}]},"
                         "'finishReason':'MAX_TOKENS'}]}"};
    json_object *c = feed(two, 1, &rc, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && !done && json_object_array_length(c) == 5,
              "stream: two candidates, one finished → not done");
    json_object_put(c);
    c = feed(two, 2, &rc, &u, &done, err, sizeof(err));
    json_object *l = json_object_array_get_idx(
        hub_xl_get(json_object_array_get_idx(c, 6), "choices", json_type_array), 0);
    TAP_CHECK(rc == HUB_OK && done && json_object_array_length(c) == 7 &&
                  same(l, "{'index':1,'delta':{},'finish_reason':'length'}"),
              "stream: second candidate finishes on its own index → done");
    json_object_put(c);
    const char *far[] = {"{'candidates':[{'index':64,'content':{'parts':[{'text':'a'}]}}]}"};
    c = feed(far, 1, &rc, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM, "stream: candidate index out of range → EUPSTREAM");
    json_object_put(c);
    const char *sig[] = {"{'candidates':[{'content':{'parts':[{'functionCall':{'name':'f'},"
                         "'thoughtSignature':'AAA/+B=='}]},'finishReason':'STOP'}]}"};
    c = feed(sig, 1, &rc, &u, &done, err, sizeof(err));
    json_object *d =
        hub_xl_get(json_object_array_get_idx(
                       hub_xl_get(json_object_array_get_idx(c, 1), "choices", json_type_array), 0),
                   "delta", json_type_object);
    const char *id = hub_xl_str(
        json_object_array_get_idx(hub_xl_get(d, "tool_calls", json_type_array), 0), "id");
    TAP_CHECK(rc == HUB_OK && id != NULL && strlen(id) > 11 &&
                  strcmp(id + strlen(id) - 11, "__ts_AAA_-B") == 0,
              "stream: thought signature carried in the tool call id (base64url)");
    json_object_put(c);

    /* data is not NUL-terminated: only len bytes count */
    const char raw[] = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]}}]}GARBAGE";
    hub_xl_stream *st = hub_xl_stream_new("gemini", "i", "m");
    json_object *chunks = json_object_new_array();
    hub_xl_usage_init(&u);
    rc = hub_xl_stream_event(st, NULL, raw, strlen(raw) - 7, chunks, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && json_object_array_length(chunks) == 2,
              "stream: only len bytes of data are read");
    rc = hub_xl_stream_event(st, NULL, " \r\n", 3, chunks, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && json_object_array_length(chunks) == 2, "stream: blank data ignored");
    rc = hub_xl_stream_event(st, NULL, "[1]", 3, chunks, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM, "stream: non-object event → EUPSTREAM");
    json_object_put(chunks);
    hub_xl_stream_free(st);

    /* every truncation of an event: a clean answer, never a crash (run under ASan) */
    const char *full = "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":"
                       "\"x\"},{\"functionCall\":{\"name\":\"f\",\"args\":{\"a\":[1,2]}}}]},"
                       "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":1}}";
    bool clean = true;
    for (size_t n = 1; n < strlen(full); n++) {
        st = hub_xl_stream_new("gemini", "i", "m");
        chunks = json_object_new_array();
        rc = hub_xl_stream_event(st, NULL, full, n, chunks, &u, &done, err, sizeof(err));
        clean = clean && rc == HUB_EUPSTREAM && json_object_array_length(chunks) == 0;
        json_object_put(chunks);
        hub_xl_stream_free(st);
    }
    TAP_CHECK(clean, "stream: every truncated event → EUPSTREAM, no chunk");
}

int main(void)
{
    test_stream();
    test_edges();
    return tap_done();
}
