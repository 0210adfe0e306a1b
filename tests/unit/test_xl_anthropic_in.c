/*
 * test_xl_anthropic_in.c — unit tests of the Anthropic Messages inbound translator
 * (hub_xl_anthropic_in.c) through the public hub_xlate.h dispatch with format "anthropic":
 * request mapping (exact JSON), validation errors and their param, answers, error bodies, and
 * streams parsed back into (event, data) pairs the way @anthropic-ai/sdk reads them. JSON
 * literals are written with single quotes (turned into double quotes before parsing). Without
 * AddressSanitizer, a torture test fails each allocation in turn and expects HUB_ENOMEM (or a
 * clean stream error) and no leak every time.
 */
#include "hub_xlate.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation failure injection (glibc allows replacing malloc) ---- */

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define TORTURE 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
static bool counting;      /* inside a tortured call */
static long fail_at = -1;  /* the allocation (0-based) that fails */
static long nallocs, live; /* attempts and live blocks while counting */

static bool fail_now(void)
{
    return counting && nallocs++ == fail_at;
}

void *malloc(size_t n)
{
    void *p = fail_now() ? NULL : __libc_malloc(n);
    live += counting && p != NULL;
    return p;
}

void *calloc(size_t n, size_t m)
{
    void *p = fail_now() ? NULL : __libc_calloc(n, m);
    live += counting && p != NULL;
    return p;
}

void *realloc(void *p, size_t n)
{
    void *q = fail_now() ? NULL : __libc_realloc(p, n);
    live += counting && p == NULL && q != NULL;
    return q;
}

void free(void *p)
{
    live -= counting && p != NULL;
    __libc_free(p);
}
#endif

/* ---- helpers ---- */

/* Parses a single-quoted JSON literal (new object or NULL). */
static json_object *J(const char *sq)
{
    char *s = strdup(sq);
    for (char *p = s; p && *p; p++)
        *p = *p == '\'' ? '"' : *p;
    json_object *o = s ? json_tokener_parse(s) : NULL;
    free(s);
    return o;
}

/* Compares got with a single-quoted literal; prints both on a mismatch. */
static bool same(json_object *got, const char *want_sq)
{
    json_object *want = J(want_sq);
    bool ok = want != NULL && got != NULL && json_object_equal(got, want);
    if (!ok) {
        printf("# got:  %s\n", got ? json_object_to_json_string(got) : "(null)");
        printf("# want: %s\n", want ? json_object_to_json_string(want) : "(bad literal)");
    }
    json_object_put(want);
    return ok;
}

static void req_ok(const char *in_sq, const char *want_sq, bool want_stream, const char *name)
{
    json_object *in = J(in_sq), *out = NULL;
    bool stream = !want_stream;
    const char *param = "unset";
    char err[256] = "";
    hub_err rc = hub_xl_in_request("anthropic", in, &out, &stream, &param, err, sizeof(err));
    if (rc != HUB_OK)
        printf("# rc %d: %s\n", (int)rc, err);
    TAP_CHECK(in != NULL && rc == HUB_OK && same(out, want_sq) && stream == want_stream &&
                  param == NULL,
              name);
    json_object_put(in);
    json_object_put(out);
}

/* Expects HUB_EINVAL with want_param (NULL allowed) and a message. */
static void req_bad(const char *in_sq, const char *want_param, const char *name)
{
    json_object *in = J(in_sq), *out = NULL;
    bool stream = true;
    const char *param = "unset";
    char err[256] = "";
    hub_err rc = hub_xl_in_request("anthropic", in, &out, &stream, &param, err, sizeof(err));
    bool param_ok = want_param ? param && strcmp(param, want_param) == 0 : param == NULL;
    if (!param_ok || rc != HUB_EINVAL)
        printf("# rc %d param %s err %s\n", (int)rc, param ? param : "(null)", err);
    TAP_CHECK(in != NULL && rc == HUB_EINVAL && param_ok && err[0] != '\0' && out == NULL &&
                  !stream,
              name);
    json_object_put(in);
    json_object_put(out);
}

static void resp_ok(const char *oai_sq, const char *want_sq, const char *name)
{
    json_object *oai = J(oai_sq), *out = NULL;
    char err[256] = "";
    hub_err rc = hub_xl_in_response("anthropic", oai, &out, err, sizeof(err));
    TAP_CHECK(oai != NULL && rc == HUB_OK && same(out, want_sq), name);
    json_object_put(oai);
    json_object_put(out);
}

/* The stop_reason of the answer to a completion with finish_reason fr (JSON text). */
static bool stop_is(const char *fr, const char *want)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{'id':'x','model':'m','choices':[{'message':{'content':'a'},'finish_reason':%s}]}",
             fr);
    json_object *oai = J(text), *out = NULL;
    char err[128];
    bool ok = hub_xl_in_response("anthropic", oai, &out, err, sizeof(err)) == HUB_OK &&
              strcmp(json_object_get_string(json_object_object_get(out, "stop_reason")), want) == 0;
    json_object_put(oai);
    json_object_put(out);
    return ok;
}

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
#define USER_HI "'messages':[{'role':'user','content':'hi'}]"

/* ---- requests ---- */

static const char ROUND_TRIP[] =
    "{'model':'m','max_tokens':50,'messages':["
    "{'role':'user','content':'Weather in Paris and Rome?'},"
    "{'role':'assistant','content':[{'type':'text','text':'Checking.'},{'type':'tool_use','id':"
    "'toolu_1','name':'get_weather','input':{'city':'Paris','url':'a/b'}},{'type':'tool_use',"
    "'id':'toolu_2','name':'get_weather','input':{'city':'Rome'}}]},"
    "{'role':'user','content':[{'type':'tool_result','tool_use_id':'toolu_1','content':'18C'},"
    "{'type':'tool_result','tool_use_id':'toolu_2','content':[{'type':'text','text':'21C'},"
    "{'type':'text','text':'sunny'}]},{'type':'text','text':'Thanks'}]},"
    "{'role':'assistant','content':[{'type':'tool_use','id':'toolu_3','name':'now','input':{}}]},"
    "{'role':'user','content':[{'type':'tool_result','tool_use_id':'toolu_3','is_error':true},"
    "{'type':'tool_result','tool_use_id':'toolu_3','content':[{'type':'image','source':{'type':"
    "'url','url':'https://x.test/p.png'}}]}]}]}";

static void test_requests(void)
{
    req_ok("{'model':'m','max_tokens':100," USER_HI "}",
           "{'model':'m','max_tokens':100," USER_HI "}", false, "request: minimal body");
    req_ok("{'model':'m','max_tokens':5,'system':'Be brief.','stop_sequences':['END','STOP'],"
           "'temperature':0.5,'top_p':0.9,'top_k':40,'stream':true,'metadata':{'user_id':'u-1'},"
           "'messages':[{'role':'user','content':'hi'},{'role':'assistant','content':'hello'}]}",
           "{'model':'m','max_tokens':5,'messages':[{'role':'system','content':'Be brief.'},"
           "{'role':'user','content':'hi'},{'role':'assistant','content':'hello'}],'stop':['END',"
           "'STOP'],'temperature':0.5,'top_p':0.9,'stream':true,'stream_options':{'include_usage':"
           "true},'user':'u-1'}",
           true, "request: system, stop, temperature, top_p, stream, user; top_k dropped");
    req_ok("{'model':'m','max_tokens':5,'stream':false,'temperature':1,'stop_sequences':[],"
           "'system':[{'type':'text','text':'A','cache_control':{'type':'ephemeral'}},{'type':"
           "'text','text':'B'}],'messages':[{'role':'user','content':[{'type':'text','text':'one'},"
           "{'type':'text','text':'two'}]},{'role':'assistant','content':[{'type':'thinking',"
           "'thinking':'hm','signature':'s'},{'type':'text','text':'ok'},{'type':"
           "'redacted_thinking','data':'x'}]}]}",
           "{'model':'m','max_tokens':5,'temperature':1,'messages':[{'role':'system','content':"
           "'A\\n\\nB'},{'role':'user','content':'one\\n\\ntwo'},{'role':'assistant','content':"
           "'ok'}]}",
           false, "request: system blocks and text-only blocks join; thinking dropped");
    req_ok("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'text',"
           "'text':'look'},{'type':'image','source':{'type':'base64','media_type':'image/png',"
           "'data':'iVBO'}},{'type':'image','source':{'type':'url','url':'https://x.test/a.jpg'}}"
           "]}]}",
           "{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'text',"
           "'text':'look'},{'type':'image_url','image_url':{'url':'data:image/png;base64,iVBO'}},"
           "{'type':'image_url','image_url':{'url':'https://x.test/a.jpg'}}]}]}",
           false, "request: base64 and url images become image_url parts");
    req_ok(ROUND_TRIP,
           "{'model':'m','max_tokens':50,'messages':["
           "{'role':'user','content':'Weather in Paris and Rome?'},"
           "{'role':'assistant','content':'Checking.','tool_calls':[{'id':'toolu_1','type':"
           "'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\',"
           "\\'url\\':\\'a/b\\'}'}},{'id':'toolu_2','type':'function','function':{'name':"
           "'get_weather','arguments':'{\\'city\\':\\'Rome\\'}'}}]},"
           "{'role':'tool','tool_call_id':'toolu_1','content':'18C'},"
           "{'role':'tool','tool_call_id':'toolu_2','content':'21C\\n\\nsunny'},"
           "{'role':'user','content':'Thanks'},"
           "{'role':'assistant','content':null,'tool_calls':[{'id':'toolu_3','type':'function',"
           "'function':{'name':'now','arguments':'{}'}}]},"
           "{'role':'tool','tool_call_id':'toolu_3','content':'Tool call failed.'},"
           "{'role':'tool','tool_call_id':'toolu_3','content':''},"
           "{'role':'user','content':[{'type':'image_url','image_url':{'url':"
           "'https://x.test/p.png'}}]}]}",
           false, "request: tool_use → tool_calls, tool_result → tool messages first, in order");
}

static void test_request_tools(void)
{
#define TOOLS                                                                                      \
    "'tools':[{'name':'get_weather','description':'Weather','input_schema':{'type':'object',"      \
    "'properties':{'city':{'type':'string'}}}},{'type':'custom','name':'noop','input_schema':{"    \
    "'type':'object'}}]"
#define OTOOLS                                                                                     \
    "'tools':[{'type':'function','function':{'name':'get_weather','description':'Weather',"        \
    "'parameters':{'type':'object','properties':{'city':{'type':'string'}}}}},{'type':"            \
    "'function','function':{'name':'noop','parameters':{'type':'object'}}}]"
    static const char *const choices[][3] = {
        {"{'type':'auto'}", "'auto'", "auto"},
        {"{'type':'any'}", "'required'", "any → required"},
        {"{'type':'none'}", "'none'", "none"},
        {"{'type':'tool','name':'noop'}", "{'type':'function','function':{'name':'noop'}}",
         "tool → function"},
        {"{'type':'any','disable_parallel_tool_use':true}",
         "'required','parallel_tool_calls':false", "disable_parallel_tool_use"},
    };
    char in[1024], want[1024], name[128];
    for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
        snprintf(in, sizeof(in),
                 "{'model':'m','max_tokens':5," USER_HI "," TOOLS ",'tool_choice':%s}",
                 choices[i][0]);
        snprintf(want, sizeof(want),
                 "{'model':'m','max_tokens':5," USER_HI "," OTOOLS ",'tool_choice':%s}",
                 choices[i][1]);
        snprintf(name, sizeof(name), "request: tools and tool_choice %s", choices[i][2]);
        req_ok(in, want, false, name);
    }
    req_ok("{'model':'m','max_tokens':5," USER_HI
           ",'tools':[],'tool_choice':{'type':'auto','disable_parallel_tool_use':true}}",
           "{'model':'m','max_tokens':5," USER_HI "}", false,
           "request: tool_choice without tools is dropped");
}

static void test_request_errors(void)
{
#define MSG(X) "{'model':'m','max_tokens':5,'messages':[" X "]}"
#define UB(B)  MSG("{'role':'user','content':[" B "]}")
#define AB(B)  MSG("{'role':'assistant','content':[" B "]}")
    static const char *const bad[][3] = {
        {"[1]", NULL, "body not an object"},
        {"{'max_tokens':5," USER_HI "}", "model", "missing model"},
        {"{'model':7,'max_tokens':5," USER_HI "}", "model", "model not a string"},
        {"{'model':'m'," USER_HI "}", "max_tokens", "missing max_tokens"},
        {"{'model':'m','max_tokens':0," USER_HI "}", "max_tokens", "max_tokens 0"},
        {"{'model':'m','max_tokens':'9'," USER_HI "}", "max_tokens", "max_tokens a string"},
        {"{'model':'m','max_tokens':1.5," USER_HI "}", "max_tokens", "max_tokens 1.5"},
        {"{'model':'m','max_tokens':5}", "messages", "missing messages"},
        {MSG(""), "messages", "empty messages"},
        {MSG("{'role':'system','content':'x'}"), "messages", "role system"},
        {MSG("{'content':'x'}"), "messages", "missing role"},
        {MSG("{'role':'user','content':3}"), "messages", "content a number"},
        {UB("{'type':'document','source':{}}"), "messages", "unknown block type"},
        {UB("{'text':'no type'}"), "messages", "block without type"},
        {UB("{'type':'tool_use','id':'a','name':'b','input':{}}"), "messages", "user tool_use"},
        {AB("{'type':'tool_result','tool_use_id':'a'}"), "messages", "assistant tool_result"},
        {AB("{'type':'image','source':{'type':'url','url':'u'}}"), "messages", "assistant image"},
        {AB("{'type':'tool_use','name':'b','input':{}}"), "messages", "tool_use without id"},
        {AB("{'type':'tool_use','id':'a','name':'b','input':[1]}"), "messages",
         "tool_use input not an object"},
        {UB("{'type':'image','source':{'type':'file','file_id':'f'}}"), "messages",
         "image file source"},
        {UB("{'type':'image','source':{'type':'base64','data':'x'}}"), "messages",
         "base64 image without media_type"},
        {UB("{'type':'tool_result','content':'x'}"), "messages", "tool_result without id"},
        {UB("{'type':'tool_result','tool_use_id':'a','content':[{'type':'doc'}]}"), "messages",
         "tool_result unknown block"},
        {UB("{'type':'tool_result','tool_use_id':'a','content':5}"), "messages",
         "tool_result content a number"},
        {"{'model':'m','max_tokens':5," USER_HI ",'system':5}", "system", "system a number"},
    };
    static const char *const opt[][3] = {
        {"'system':[{'type':'image'}]", "system", "system block not text"},
        {"'stop_sequences':'END'", "stop_sequences", "stop_sequences a string"},
        {"'stop_sequences':[1]", "stop_sequences", "stop_sequences of numbers"},
        {"'temperature':'hot'", "temperature", "temperature a string"},
        {"'top_p':true", "top_p", "top_p a boolean"},
        {"'stream':'yes'", "stream", "stream a string"},
        {"'metadata':{'user_id':5}", "metadata", "metadata.user_id a number"},
        {"'tools':{}", "tools", "tools an object"},
        {"'tools':[{'name':'t'}]", "tools", "tool without input_schema"},
        {"'tools':[{'type':'web_search_20250305','name':'web_search'}]", "tools", "server tool"},
        {"'tool_choice':{'type':'maybe'}", "tool_choice", "tool_choice unknown type"},
        {"'tool_choice':{'type':'tool'}", "tool_choice", "tool_choice tool without name"},
        {"'tool_choice':'auto'", "tool_choice", "tool_choice a string"},
    };
    char in[512], name[160];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(name, sizeof(name), "request refused: %s", bad[i][2]);
        req_bad(bad[i][0], bad[i][1], name);
    }
    for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
        /* stream:true first: a refused request must still report *stream false */
        snprintf(in, sizeof(in), "{'model':'m','max_tokens':5,'stream':true," USER_HI ",%s}",
                 opt[i][0]);
        snprintf(name, sizeof(name), "request refused: %s", opt[i][2]);
        req_bad(in, opt[i][1], name);
    }
}

/* ---- answers and errors ---- */

static void test_responses(void)
{
    resp_ok("{'id':'chatcmpl-42','object':'chat.completion','created':1,'model':'gpt-x',"
            "'choices':[{'index':0,'message':{'role':'assistant','content':'Hello!'},"
            "'finish_reason':'stop'}],'usage':{'prompt_tokens':12,'completion_tokens':3,"
            "'total_tokens':15}}",
            "{'id':'msg_42','type':'message','role':'assistant','model':'gpt-x','content':[{"
            "'type':'text','text':'Hello!'}],'stop_reason':'end_turn','stop_sequence':null,"
            "'usage':{'input_tokens':12,'output_tokens':3}}",
            "response: text answer");
    resp_ok("{'id':'abc','model':'gpt-x','choices':[{'index':0,'message':{'role':'assistant',"
            "'content':null,'tool_calls':[{'id':'call_1','type':'function','function':{'name':"
            "'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}},{'id':'call_2','type':"
            "'function','function':{'name':'broken','arguments':'{not json'}},{'type':"
            "'function','function':{'name':'arr','arguments':'[1]'}}]},'finish_reason':"
            "'tool_calls'}]}",
            "{'id':'msg_abc','type':'message','role':'assistant','model':'gpt-x','content':[{"
            "'type':'tool_use','id':'call_1','name':'get_weather','input':{'city':'Paris'}},{"
            "'type':'tool_use','id':'call_2','name':'broken','input':{}},{'type':'tool_use','id':"
            "'toolu_2','name':'arr','input':{}}],'stop_reason':'tool_use','stop_sequence':null,"
            "'usage':{'input_tokens':0,'output_tokens':0}}",
            "response: tool calls (bad arguments → {}), no usage → 0");
    resp_ok("{'id':'chatcmpl-1','model':'m','choices':[{'message':{'content':[{'type':'text',"
            "'text':'a'},{'type':'text','text':'b'}],'tool_calls':[{'id':'c','function':{'name':"
            "'f','arguments':'{}'}}]},'finish_reason':'stop'}]}",
            "{'id':'msg_1','type':'message','role':'assistant','model':'m','content':[{'type':"
            "'text','text':'ab'},{'type':'tool_use','id':'c','name':'f','input':{}}],"
            "'stop_reason':'tool_use','stop_sequence':null,'usage':{'input_tokens':0,"
            "'output_tokens':0}}",
            "response: content parts; tool calls with finish stop → tool_use");
    resp_ok("{'id':'chatcmpl-2','model':'m','choices':[{'message':{'content':'','refusal':"
            "'No.'},'finish_reason':'content_filter'}]}",
            "{'id':'msg_2','type':'message','role':'assistant','model':'m','content':[{'type':"
            "'text','text':'No.'}],'stop_reason':'refusal','stop_sequence':null,'usage':{"
            "'input_tokens':0,'output_tokens':0}}",
            "response: refusal text, content_filter → refusal");
    TAP_CHECK(stop_is("'stop'", "end_turn"), "response: stop → end_turn");
    TAP_CHECK(stop_is("'length'", "max_tokens"), "response: length → max_tokens");
    TAP_CHECK(stop_is("'tool_calls'", "tool_use"), "response: tool_calls → tool_use");
    TAP_CHECK(stop_is("'content_filter'", "refusal"), "response: content_filter → refusal");
    TAP_CHECK(stop_is("null", "end_turn"), "response: null → end_turn");
    json_object *bad = J("{'id':'x','choices':[]}"), *out = NULL;
    char err[128] = "";
    TAP_CHECK(hub_xl_in_response("anthropic", bad, &out, err, sizeof(err)) == HUB_EUPSTREAM &&
                  out == NULL && err[0] != '\0',
              "response: no choices → HUB_EUPSTREAM");
    json_object_put(bad);
}

static void test_errors(void)
{
    static const struct {
        int status;
        const char *type;
    } cases[] = {{400, "invalid_request_error"},
                 {401, "authentication_error"},
                 {403, "permission_error"},
                 {404, "not_found_error"},
                 {413, "request_too_large"},
                 {429, "rate_limit_error"},
                 {500, "api_error"},
                 {502, "api_error"},
                 {503, "api_error"},
                 {504, "api_error"},
                 {529, "overloaded_error"},
                 {405, "invalid_request_error"}};
    char want[256], name[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hub_buf b;
        hub_buf_init(&b, 0);
        hub_xl_in_error("anthropic", cases[i].status, "m \"q\"\n", "whatever", &b);
        json_object *got = b.data ? json_tokener_parse(b.data) : NULL;
        snprintf(want, sizeof(want),
                 "{'type':'error','error':{'type':'%s','message':'m \\'q\\'\\n'}}", cases[i].type);
        snprintf(name, sizeof(name), "error body: %d → %s", cases[i].status, cases[i].type);
        TAP_CHECK(same(got, want), name);
        json_object_put(got);
        hub_buf_free(&b);
    }
}

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
/* One run: 1 = success, 0 = a clean ENOMEM, -1 = anything else. Frees what it made. */
static int run_request(json_object *in)
{
    json_object *out = NULL;
    bool stream;
    const char *param;
    char err[128];
    hub_err rc = hub_xl_in_request("anthropic", in, &out, &stream, &param, err, sizeof(err));
    json_object_put(out);
    return rc == HUB_OK ? 1 : rc == HUB_ENOMEM && out == NULL && param == NULL ? 0 : -1;
}

static int run_response(json_object *oai)
{
    json_object *out = NULL;
    char err[128];
    hub_err rc = hub_xl_in_response("anthropic", oai, &out, err, sizeof(err));
    json_object_put(out);
    return rc == HUB_OK ? 1 : rc == HUB_ENOMEM && out == NULL ? 0 : -1;
}

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

static void torture(const char *name, int (*run)(json_object *), json_object *arg)
{
    bool clean = arg != NULL;
    run(arg); /* warm-up: json-c caches a print buffer inside borrowed inputs */
    for (long n = 0; clean; n++) {
        fail_at = n;
        nallocs = live = 0;
        counting = true;
        int r = run(arg);
        counting = false;
        if (r < 0 || live != 0 || (nallocs <= n && r != 1)) {
            printf("# %s: allocation %ld: result %d, %ld blocks left\n", name, n, r, live);
            clean = false;
        }
        if (nallocs <= n) /* nothing failed: the run was complete */
            break;
    }
    TAP_CHECK(clean, name);
    json_object_put(arg);
}
#endif

static void test_torture(void)
{
#ifdef TORTURE
    json_object *chunks = json_object_new_array();
    for (size_t i = 0; i < sizeof(FULL) / sizeof(FULL[0]); i++)
        json_object_array_add(chunks, J(FULL[i]));
    torture("torture: request with tools round trip", run_request, J(ROUND_TRIP));
    torture("torture: request with options and tools", run_request,
            J("{'model':'m','max_tokens':5,'system':[{'type':'text','text':'s'}],'stream':true,"
              "'stop_sequences':['x'],'temperature':0.1,'metadata':{'user_id':'u'}," USER_HI
              "," TOOLS ",'tool_choice':{'type':'tool','name':'noop',"
              "'disable_parallel_tool_use':true}}"));
    /* json-c 0.16's tokener crashes when an allocation fails inside an object key: the
     * arguments here have none */
    torture("torture: response with text and tool calls", run_response,
            J("{'id':'chatcmpl-1','model':'m','choices':[{'message':{'content':'hi','tool_calls':"
              "[{'id':'c','function':{'name':'f','arguments':'[1,2]'}}]},"
              "'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':1,'completion_tokens':2}}"));
    torture("torture: full stream", run_stream, chunks);
#else
    printf("# torture test skipped (AddressSanitizer or not glibc)\n");
#endif
}

int main(void)
{
    test_requests();
    test_request_tools();
    test_request_errors();
    test_responses();
    test_errors();
    test_stream_full();
    test_stream_edges();
    test_torture();
    return tap_done();
}
