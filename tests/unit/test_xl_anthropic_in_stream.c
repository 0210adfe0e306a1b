/*
 * test_xl_anthropic_in_stream.c — unit tests of the Anthropic Messages inbound stream
 * translator (hub_xl_anthropic_in_stream.c) through the public hub_xlate.h dispatch with format
 * "anthropic": OpenAI chunks in, SSE events out, parsed back into (event, data) pairs the way
 * @anthropic-ai/sdk reads them. Requests and answers are tested in test_xl_anthropic_in.c.
 * JSON literals are written with single quotes (J() in test_util.h). Without AddressSanitizer,
 * a torture test (torture.h) fails each allocation in turn and expects a clean HUB_ENOMEM that
 * leaves the output as it was, and no leak, every time.
 */
#include "hub_xlate.h"
#include "tap.h"
#include "test_util.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SSE: "event: NAME\ndata: JSON\n\n" blocks parsed back ---- */

#define MAX_EV 64

typedef struct {
    int n;
    bool well_formed; /* each block: one event line, one single-line data whose type = the name */
    char names[1024]; /* the event names joined with "," */
    json_object *data[MAX_EV]; /* owned */
} events;

static void sse_parse(const char *s, events *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->well_formed = s != NULL;
    while (s != NULL && *s != '\0') {
        const char *endp = strstr(s, "\n\n");
        const char *nl = strchr(s, '\n');
        if (endp == NULL || ev->n == MAX_EV || strncmp(s, "event: ", 7) != 0 ||
            strncmp(nl + 1, "data: ", 6) != 0 || strchr(nl + 1, '\n') != endp) {
            ev->well_formed = false;
            return;
        }
        size_t len = strlen(ev->names);
        snprintf(ev->names + len, sizeof(ev->names) - len, "%s%.*s", ev->n ? "," : "",
                 (int)(nl - s - 7), s + 7);
        char *json = strndup(nl + 7, (size_t)(endp - nl - 7));
        json_object *d = json ? json_tokener_parse(json) : NULL;
        const char *t = json_object_get_string(json_object_object_get(d, "type"));
        free(json);
        if (t == NULL || strlen(t) != (size_t)(nl - s - 7) || strncmp(t, s + 7, strlen(t)) != 0)
            ev->well_formed = false;
        ev->data[ev->n++] = d;
        s = endp + 2;
    }
}

static void events_free(events *ev)
{
    for (int i = 0; i < ev->n; i++)
        json_object_put(ev->data[i]);
}

/* The value at a dotted path ("delta.text") in event i's data, or NULL. */
static json_object *at(const events *ev, int i, const char *path)
{
    json_object *o = i < ev->n ? ev->data[i] : NULL;
    char key[64];
    while (o != NULL && *path != '\0') {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        o = json_object_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

static bool str_at(const events *ev, int i, const char *path, const char *want)
{
    json_object *o = at(ev, i, path);
    return json_object_is_type(o, json_type_string) && strcmp(json_object_get_string(o), want) == 0;
}

static bool int_at(const events *ev, int i, const char *path, long long want)
{
    json_object *o = at(ev, i, path);
    return json_object_is_type(o, json_type_int) && json_object_get_int64(o) == want;
}

static bool names_are(const events *ev, const char *want)
{
    if (strcmp(ev->names, want) != 0)
        printf("# events: %s\n", ev->names);
    return ev->well_formed && strcmp(ev->names, want) == 0;
}

static void feed(hub_xl_in_stream *st, const char *chunk_sq, hub_buf *out, bool *ok)
{
    json_object *c = J(chunk_sq);
    *ok = *ok && st != NULL && c != NULL && hub_xl_in_stream_chunk(st, c, out) == HUB_OK;
    json_object_put(c);
}

#define CHUNK(DELTA, FINISH)                                                                       \
    "{'id':'chatcmpl-abc','object':'chat.completion.chunk','created':1,'model':'up-model',"        \
    "'choices':[{'index':0,'delta':" DELTA ",'finish_reason':" FINISH "}]}"

/* ---- streams ---- */

/* role → 2 text deltas → a tool call (id + name, then 2 argument fragments) → finish chunk →
 * a usage-only chunk → finish with usage. */
static const char *const FULL[] = {
    CHUNK("{'role':'assistant','content':''}", "null"),
    CHUNK("{'content':'Hel'}", "null"),
    CHUNK("{'content':'lo \\'you\\'\\n'}", "null"),
    CHUNK("{'tool_calls':[{'index':0,'id':'call_9','type':'function','function':{'name':"
          "'get_weather','arguments':''}}]}",
          "null"),
    CHUNK("{'tool_calls':[{'index':0,'function':{'arguments':'{\\'ci'}}]}", "null"),
    CHUNK("{'tool_calls':[{'index':0,'function':{'arguments':'ty\\':\\'Paris\\'}'}}]}", "null"),
    CHUNK("{}", "'tool_calls'"),
    "{'id':'chatcmpl-abc','choices':[],'usage':{'prompt_tokens':1,'completion_tokens':2}}",
};

static void test_stream_full(void)
{
    hub_xl_in_stream *st = hub_xl_in_stream_new("anthropic", "chatcmpl-abc", "claude-x");
    hub_xl_usage u = {30, 12, 42};
    hub_buf out;
    events ev;
    bool ok = st != NULL;
    hub_buf_init(&out, 0);
    for (size_t i = 0; i < sizeof(FULL) / sizeof(FULL[0]); i++)
        feed(st, FULL[i], &out, &ok);
    ok = ok && hub_xl_in_stream_finish(st, &u, &out) == HUB_OK;
    size_t len = out.len;
    ok = ok && hub_xl_in_stream_finish(st, &u, &out) == HUB_OK && out.len == len;
    feed(st, CHUNK("{'content':'late'}", "null"), &out, &ok);
    TAP_CHECK(ok && out.len == len, "stream: every call succeeds; nothing after the finish");
    sse_parse(out.data, &ev);
    TAP_CHECK(names_are(&ev, "message_start,content_block_start,content_block_delta,"
                             "content_block_delta,content_block_stop,content_block_start,"
                             "content_block_delta,content_block_delta,content_block_stop,"
                             "message_delta,message_stop"),
              "stream: event sequence, data type = event name, one data line each");
    TAP_CHECK(str_at(&ev, 0, "message.id", "msg_abc") &&
                  str_at(&ev, 0, "message.model", "claude-x") &&
                  str_at(&ev, 0, "message.type", "message") &&
                  str_at(&ev, 0, "message.role", "assistant") &&
                  json_object_array_length(at(&ev, 0, "message.content")) == 0 &&
                  json_object_is_type(at(&ev, 0, "message.stop_reason"), json_type_null) &&
                  int_at(&ev, 0, "message.usage.output_tokens", 0),
              "stream: message_start shape");
    TAP_CHECK(int_at(&ev, 1, "index", 0) && str_at(&ev, 1, "content_block.type", "text") &&
                  str_at(&ev, 1, "content_block.text", ""),
              "stream: text block starts at index 0");
    TAP_CHECK(int_at(&ev, 2, "index", 0) && int_at(&ev, 3, "index", 0) &&
                  str_at(&ev, 2, "delta.type", "text_delta") &&
                  str_at(&ev, 2, "delta.text", "Hel") &&
                  str_at(&ev, 3, "delta.text", "lo \"you\"\n"),
              "stream: two text deltas, escapes intact");
    TAP_CHECK(int_at(&ev, 4, "index", 0) && int_at(&ev, 5, "index", 1) &&
                  str_at(&ev, 5, "content_block.type", "tool_use") &&
                  str_at(&ev, 5, "content_block.id", "call_9") &&
                  str_at(&ev, 5, "content_block.name", "get_weather") &&
                  json_object_is_type(at(&ev, 5, "content_block.input"), json_type_object),
              "stream: text block stops, tool_use block starts at index 1");
    char json[128];
    snprintf(json, sizeof(json), "%s%s", json_object_get_string(at(&ev, 6, "delta.partial_json")),
             json_object_get_string(at(&ev, 7, "delta.partial_json")));
    TAP_CHECK(int_at(&ev, 6, "index", 1) && int_at(&ev, 7, "index", 1) &&
                  str_at(&ev, 6, "delta.type", "input_json_delta") &&
                  strcmp(json, "{\"city\":\"Paris\"}") == 0,
              "stream: partial_json fragments concatenate to the arguments");
    TAP_CHECK(int_at(&ev, 8, "index", 1) && str_at(&ev, 9, "delta.stop_reason", "tool_use") &&
                  json_object_is_type(at(&ev, 9, "delta.stop_sequence"), json_type_null) &&
                  int_at(&ev, 9, "usage.output_tokens", 12) &&
                  int_at(&ev, 9, "usage.input_tokens", 30),
              "stream: message_delta with stop_reason tool_use and the given usage");
    events_free(&ev);
    hub_xl_in_stream_free(st);
    hub_buf_free(&out);
}

static void test_stream_edges(void)
{
    hub_xl_usage unknown;
    hub_buf out;
    events ev;
    bool ok;
    hub_xl_usage_init(&unknown);
    hub_buf_init(&out, 0);

    hub_xl_in_stream *st = hub_xl_in_stream_new("anthropic", "chatcmpl-z", "m");
    ok = st != NULL && hub_xl_in_stream_finish(st, NULL, &out) == HUB_OK;
    sse_parse(out.data, &ev);
    TAP_CHECK(ok && names_are(&ev, "message_start,message_delta,message_stop") &&
                  str_at(&ev, 1, "delta.stop_reason", "end_turn") &&
                  int_at(&ev, 1, "usage.output_tokens", 0),
              "stream: no chunk at all still gives message_start … message_stop");
    events_free(&ev);
    hub_xl_in_stream_free(st);

    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("anthropic", "x", "");
    ok = st != NULL;
    feed(st, CHUNK("{'role':'assistant','content':''}", "null"), &out, &ok);
    feed(st, CHUNK("{}", "'stop'"), &out, &ok);
    json_object *junk = json_object_new_array();
    size_t len = out.len;
    ok = ok && hub_xl_in_stream_chunk(st, junk, &out) == HUB_EUPSTREAM && out.len == len;
    json_object_put(junk);
    ok = ok && hub_xl_in_stream_finish(st, &unknown, &out) == HUB_OK;
    sse_parse(out.data, &ev);
    TAP_CHECK(ok && names_are(&ev, "message_start,message_delta,message_stop") &&
                  str_at(&ev, 0, "message.model", "up-model") &&
                  str_at(&ev, 0, "message.id", "msg_x") &&
                  str_at(&ev, 1, "delta.stop_reason", "end_turn"),
              "stream: zero content (empty deltas) is valid; model from the chunk; a non-object "
              "chunk is HUB_EUPSTREAM");
    events_free(&ev);
    hub_xl_in_stream_free(st);

    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("anthropic", "chatcmpl-l", "m");
    ok = st != NULL;
    feed(st, CHUNK("{'content':'a'}", "'length'"), &out, &ok);
    feed(st, "{'id':'x','choices':[],'usage':{'prompt_tokens':7,'completion_tokens':1}}", &out,
         &ok);
    ok = ok && hub_xl_in_stream_finish(st, &unknown, &out) == HUB_OK;
    sse_parse(out.data, &ev);
    TAP_CHECK(ok && ev.n == 6 && str_at(&ev, 4, "delta.stop_reason", "max_tokens") &&
                  int_at(&ev, 4, "usage.input_tokens", 7) &&
                  int_at(&ev, 4, "usage.output_tokens", 1),
              "stream: length → max_tokens; usage remembered from a chunk");
    events_free(&ev);
    hub_xl_in_stream_free(st);

    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("anthropic", "chatcmpl-t", "m");
    ok = st != NULL;
    feed(st,
         CHUNK("{'tool_calls':[{'index':0,'id':'a','function':{'name':'f','arguments':'{}'}},"
               "{'index':1,'id':'b','function':{'name':'g'}}]}",
               "null"),
         &out, &ok);
    feed(st, CHUNK("{'tool_calls':[{'index':1,'id':'b','function':{'arguments':'{}'}}]}", "'stop'"),
         &out, &ok);
    ok = ok && hub_xl_in_stream_finish(st, NULL, &out) == HUB_OK;
    sse_parse(out.data, &ev);
    TAP_CHECK(ok &&
                  names_are(&ev, "message_start,content_block_start,content_block_delta,"
                                 "content_block_stop,content_block_start,content_block_delta,"
                                 "content_block_stop,message_delta,message_stop") &&
                  int_at(&ev, 4, "index", 1) && str_at(&ev, 4, "content_block.id", "b") &&
                  int_at(&ev, 5, "index", 1) && str_at(&ev, 7, "delta.stop_reason", "tool_use"),
              "stream: two tool calls; a repeated id continues; stop with tools → tool_use");
    events_free(&ev);
    hub_xl_in_stream_free(st);

    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("anthropic", "chatcmpl-e", "m");
    ok = st != NULL;
    feed(st, CHUNK("{'content':'par'}", "null"), &out, &ok);
    if (st != NULL)
        hub_xl_in_stream_error(st, "upstream \"died\"", &out);
    len = out.len;
    ok = ok && hub_xl_in_stream_finish(st, NULL, &out) == HUB_OK && out.len == len;
    sse_parse(out.data, &ev);
    TAP_CHECK(ok && names_are(&ev, "message_start,content_block_start,content_block_delta,error") &&
                  str_at(&ev, 3, "error.type", "api_error") &&
                  str_at(&ev, 3, "error.message", "upstream \"died\""),
              "stream: error event, nothing after it");
    events_free(&ev);
    hub_xl_in_stream_free(st);
    hub_buf_free(&out);
}

/* ---- torture: every allocation fails in turn ---- */

#ifdef TORTURE
/* The FULL stream: each failed call must leave out as it was. */
static int run_stream(json_object *chunks)
{
    hub_xl_in_stream *st = hub_xl_in_stream_new("anthropic", "chatcmpl-abc", "m");
    hub_xl_usage u = {3, 4, 7};
    hub_buf out;
    int r = st != NULL ? 1 : 0;
    hub_buf_init(&out, 0);
    for (size_t i = 0; st != NULL && i <= json_object_array_length(chunks); i++) {
        size_t len = out.len;
        hub_err rc = i < json_object_array_length(chunks)
                         ? hub_xl_in_stream_chunk(st, json_object_array_get_idx(chunks, i), &out)
                         : hub_xl_in_stream_finish(st, &u, &out);
        r = rc == HUB_OK ? r : rc == HUB_ENOMEM && out.len == len && r >= 0 ? 0 : -1;
    }
    hub_xl_in_stream_free(st);
    hub_buf_free(&out);
    return r;
}
#endif

static void test_torture(void)
{
#ifdef TORTURE
    json_object *chunks = json_object_new_array();
    for (size_t i = 0; i < sizeof(FULL) / sizeof(FULL[0]); i++)
        json_object_array_add(chunks, J(FULL[i]));
    torture("torture: full stream", run_stream, chunks);
#else
    printf("# torture test skipped (AddressSanitizer or not glibc)\n");
#endif
}

int main(void)
{
    test_stream_full();
    test_stream_edges();
    test_torture();
    return tap_done();
}
