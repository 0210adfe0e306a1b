/*
 * test_xl_anthropic_out.c — unit tests of the hub calling Anthropic: OpenAI chat requests →
 * Anthropic Messages bodies (hub_xl_anthropic_out.c), Anthropic answers and SSE streams →
 * OpenAI chat.completion / chat.completion.chunk objects (hub_xl_anthropic_stream.c).
 *
 * JSON here is written with ' for " (q() turns it back) and compared as whole values with
 * json_object_equal. Request checks are rows: a request, a path in the body, the value there.
 */
#include "hub_xlate_int.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int modified; /* requests the translator changed (must stay 0) */

/* A copy of s (malloc'd) with every ' turned into ". */
static char *unq(const char *s)
{
    char *t = strdup(s);
    for (char *p = t; *p; p++)
        *p = *p == '\'' ? '"' : *p;
    return t;
}

/* Parses JSON written with ' for " (new), or NULL. */
static json_object *q(const char *s)
{
    char *t = unq(s);
    json_object *o = json_tokener_parse(t);
    if (o == NULL)
        printf("# test JSON does not parse: %s\n", t);
    free(t);
    return o;
}

/* The value at a dotted path ("messages.1.content.0.text"; numbers index arrays), borrowed. */
static json_object *at(json_object *o, const char *path)
{
    char key[128];
    while (o != NULL && *path != '\0') {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, strtoul(key, NULL, 10));
        else if (!json_object_is_type(o, json_type_object) ||
                 !json_object_object_get_ex(o, key, &o))
            return NULL;
        path += n + (dot ? 1 : 0);
    }
    return o;
}

static const char *str_at(json_object *o, const char *path)
{
    json_object *v = at(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Whether the string at path is s. */
static bool str_is(json_object *o, const char *path, const char *s)
{
    return str_at(o, path) != NULL && strcmp(str_at(o, path), s) == 0;
}

/* Whether got equals the JSON `want` (q-notation); prints both when not. */
static bool same(json_object *got, const char *want)
{
    json_object *w = q(want);
    bool ok = w != NULL && got != NULL && json_object_equal(got, w);
    if (!ok)
        printf("# want %s\n#  got %s\n", json_object_to_json_string(w),
               got ? json_object_to_json_string(got) : "(absent)");
    json_object_put(w);
    return ok;
}

/* Translates request `req` (q-notation); returns the body (new) or NULL, rc and err set. */
static json_object *xl(const char *req, bool stream, hub_err *rc, char *err, size_t errsz)
{
    json_object *r = q(req);
    json_object *body = NULL;
    hub_buf path;
    hub_buf_init(&path, 0);
    err[0] = '\0';
    char *before = strdup(json_object_to_json_string(r));
    *rc = hub_xl_anthropic_request(r, "claude-up", stream, 4096, &path, &body, err, errsz);
    if (strcmp(before, json_object_to_json_string(r)) != 0)
        modified++;
    if (*rc == HUB_OK && (path.data == NULL || strcmp(path.data, "/v1/messages") != 0))
        modified++; /* counted with the modifications: both break the contract */
    free(before);
    hub_buf_free(&path);
    json_object_put(r);
    return body;
}

#define U(s)              "{'role':'user','content':" s "}"
#define A(s)              "{'role':'assistant','content':" s "}"
#define REQ(msgs)         "{'model':'m','messages':[" msgs "]}"
#define REQX(msgs, extra) "{'model':'m','messages':[" msgs "]," extra "}"

/* One request mapping: the value at `path` of the body (whole body when ""), "-" = absent;
 * a path of "!" means the request must be refused with a message containing `want`. */
struct row {
    const char *name, *req, *path, *want;
};

static const struct row rows[] = {
    {"minimal request: model, default max_tokens, no stream key", REQ(U("'Hi'")), "",
     "{'model':'claude-up','max_tokens':4096,'messages':[{'role':'user','content':[{'type':'text',"
     "'text':'Hi'}]}]}"},
    {"tool round trip: assistant tool_calls + tool results → tool_use/tool_result blocks",
     "{'model':'gpt-4o','stream':true,'messages':[{'role':'system',"
     "'content':'You are a weather bot.'},{'role':'user','content':'Weather in Paris and Rome?'},"
     "{'role':'assistant','content':'Let me check.','tool_calls':[{'id':'call_1',"
     "'type':'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}},"
     "{'id':'call_2','type':'function','function':{'name':'get_weather',"
     "'arguments':'{\\'city\\':\\'Rome\\',\\'units\\':[\\'C\\']}'}}]},{'role':'tool',"
     "'tool_call_id':'call_1','content':'18C, sunny'},{'role':'tool','tool_call_id':'call_2',"
     "'content':[{'type':'text','text':'21C'}]},{'role':'user',"
     "'content':'Thanks! Which is warmer?'}],'tools':[{'type':'function',"
     "'function':{'name':'get_weather','parameters':{'type':'object',"
     "'properties':{'city':{'type':'string'}}}}}],'tool_choice':'auto'}",
     "",
     "{'model':'claude-up','max_tokens':4096,'stream':true,'system':'You are a weather bot.',"
     "'messages':[{'role':'user','content':[{'type':'text','text':'Weather in Paris and Rome?'}]},"
     "{'role':'assistant','content':[{'type':'text','text':'Let me check.'},{'type':'tool_use',"
     "'id':'call_1','name':'get_weather','input':{'city':'Paris'}},{'type':'tool_use',"
     "'id':'call_2','name':'get_weather','input':{'city':'Rome','units':['C']}}]},{'role':'user',"
     "'content':[{'type':'tool_result','tool_use_id':'call_1','content':'18C, sunny'},"
     "{'type':'tool_result','tool_use_id':'call_2','content':'21C'},{'type':'text',"
     "'text':'Thanks! Which is warmer?'}]}],'tools':[{'name':'get_weather',"
     "'input_schema':{'type':'object','properties':{'city':{'type':'string'}}}}],"
     "'tool_choice':{'type':'auto'}}"},
    {"max_tokens wins", REQX(U("'Hi'"), "'max_tokens':50,'max_completion_tokens':60"), "max_tokens",
     "50"},
    {"max_completion_tokens when no max_tokens", REQX(U("'Hi'"), "'max_completion_tokens':60"),
     "max_tokens", "60"},
    {"system and developer joined into system",
     REQ("{'role':'system','content':'Be brief.'},"
         "{'role':'developer','content':[{'type':'text',"
         "'text':'Say '},{'type':'text','text':'yes.'}]},"
         "{'role':'system','content':''}," U("'Hi'")),
     "system", "'Be brief.\\n\\nSay yes.'"},
    {"a system message later on also goes to system",
     REQ("{'role':'system','content':'A'}," U("'Hi'") ",{'role':'system','content':'B'}"), "",
     "{'model':'claude-up','max_tokens':4096,'system':'A\\n\\nB','messages':[{'role':'user',"
     "'content':[{'type':'text','text':'Hi'}]}]}"},
    {"consecutive user and assistant messages merged",
     REQ(U("'a'") "," U("[{'type':'text','text':'b'}]") "," A("'x'") "," A("'y'") "," U("'c'")),
     "messages",
     "[{'role':'user','content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]},"
     "{'role':'assistant','content':[{'type':'text','text':'x'},{'type':'text','text':'y'}]},"
     "{'role':'user','content':[{'type':'text','text':'c'}]}]"},
    {"empty text skipped; an empty message does not break alternation",
     REQ(U("'a'") "," A("''") "," U("[{'type':'text','text':''},{'type':'text','text':'b'}]")),
     "messages",
     "[{'role':'user','content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]}]"},
    {"leading assistant gets a (continue) user turn", REQ(A("'Hello!'") "," U("'Hi'")), "messages",
     "[{'role':'user','content':[{'type':'text','text':'(continue)'}]},{'role':'assistant',"
     "'content':[{'type':'text','text':'Hello!'}]},{'role':'user','content':[{'type':'text',"
     "'text':'Hi'}]}]"},
    {"final assistant prefill: trailing whitespace trimmed",
     REQ(U("'Hi'") "," A("'The answer is '")), "messages.1.content",
     "[{'type':'text','text':'The answer is'}]"},
    {"image data URL → base64 source",
     REQ(U("[{'type':'text','text':'What is it?'},{'type':'image_url','image_url':{'url':"
           "'data:image/png;base64,iVBORw0KGgo=','detail':'low'}}]")),
     "messages.0.content",
     "[{'type':'text','text':'What is it?'},{'type':'image','source':{'type':'base64',"
     "'media_type':'image/png','data':'iVBORw0KGgo='}}]"},
    {"image/jpg data URL → image/jpeg",
     REQ(U("[{'type':'image_url','image_url':{'url':'data:image/jpg;base64,/9j/4A=='}}]")),
     "messages.0.content.0.source",
     "{'type':'base64','media_type':'image/jpeg','data':'/9j/4A=='}"},
    {"image http URL → url source",
     REQ(U("[{'type':'image_url','image_url':{'url':'https://example.com/cat.webp'}}]")),
     "messages.0.content.0",
     "{'type':'image','source':{'type':'url','url':'https://example.com/cat.webp'}}"},
    {"temperature above 1 clamped", REQX(U("'Hi'"), "'temperature':1.7"), "temperature", "1.0"},
    {"temperature below 0 clamped", REQX(U("'Hi'"), "'temperature':-0.5"), "temperature", "0.0"},
    {"temperature in range kept", REQX(U("'Hi'"), "'temperature':0.3"), "temperature", "0.3"},
    {"top_p kept", REQX(U("'Hi'"), "'top_p':0.9"), "top_p", "0.9"},
    {"stop string → stop_sequences", REQX(U("'Hi'"), "'stop':'END'"), "stop_sequences", "['END']"},
    {"stop array → stop_sequences", REQX(U("'Hi'"), "'stop':['a','b']"), "stop_sequences",
     "['a','b']"},
    {"user → metadata.user_id", REQX(U("'Hi'"), "'user':'u-42'"), "metadata", "{'user_id':'u-42'}"},
    {"n = 1 accepted, not sent", REQX(U("'Hi'"), "'n':1"), "n", "-"},
    {"response_format text ignored", REQX(U("'Hi'"), "'response_format':{'type':'text'}"),
     "response_format", "-"},
    {"response_format json_object ignored (best effort)",
     REQX(U("'Reply in JSON'"), "'response_format':{'type':'json_object'}"), "response_format",
     "-"},
    {"tools: parameters → input_schema, no parameters → {type:object}",
     REQX(U("'Hi'"), "'tools':[{'type':'function','function':{'name':'get_weather','description':"
                     "'Weather now','parameters':{'type':'object','properties':{'city':{'type':"
                     "'string'}},'required':['city']}}},{'type':'function','function':{'name':"
                     "'ping'}}]"),
     "tools",
     "[{'name':'get_weather','description':'Weather now','input_schema':{'type':'object',"
     "'properties':{'city':{'type':'string'}},'required':['city']}},{'name':'ping',"
     "'input_schema':{'type':'object'}}]"},
#define T1 "'tools':[{'type':'function','function':{'name':'f'}}]"
    {"tool_choice auto", REQX(U("'Hi'"), T1 ",'tool_choice':'auto'"), "tool_choice",
     "{'type':'auto'}"},
    {"tool_choice none", REQX(U("'Hi'"), T1 ",'tool_choice':'none'"), "tool_choice",
     "{'type':'none'}"},
    {"tool_choice required → any", REQX(U("'Hi'"), T1 ",'tool_choice':'required'"), "tool_choice",
     "{'type':'any'}"},
    {"tool_choice function → tool",
     REQX(U("'Hi'"), T1 ",'tool_choice':{'type':'function','function':{'name':'f'}}"),
     "tool_choice", "{'type':'tool','name':'f'}"},
    {"parallel_tool_calls false → disable_parallel_tool_use",
     REQX(U("'Hi'"), T1 ",'tool_choice':'required','parallel_tool_calls':false"), "tool_choice",
     "{'type':'any','disable_parallel_tool_use':true}"},
    {"parallel_tool_calls false without tool_choice → auto",
     REQX(U("'Hi'"), T1 ",'parallel_tool_calls':false"), "tool_choice",
     "{'type':'auto','disable_parallel_tool_use':true}"},
    {"no tool_choice by default", REQX(U("'Hi'"), T1), "tool_choice", "-"},
    {"tool_choice without tools not sent", REQX(U("'Hi'"), "'tool_choice':'none'"), "tool_choice",
     "-"},
    {"empty arguments → empty input",
     REQ(U("'Hi'") ",{'role':'assistant','content':null,'tool_calls':[{'id':'c1','type':"
                   "'function','function':{'name':'ping','arguments':''}}]}"),
     "messages.1.content", "[{'type':'tool_use','id':'c1','name':'ping','input':{}}]"},
    {"a tool result after user text still comes first",
     REQ(U("'Hi'") ",{'role':'assistant','content':null,'tool_calls':[{'id':'c1','type':'function',"
                   "'function':{'name':'ping','arguments':'{}'}}]}," U(
                       "'well?'") ",{'role':'tool','tool_call_id':'c1','content':''}"),
     "messages.2.content",
     "[{'type':'tool_result','tool_use_id':'c1'},{'type':'text','text':'well?'}]"},
    /* refused */
    {"refused: n > 1", REQX(U("'Hi'"), "'n':2"), "!",
     "n > 1 is not supported by Anthropic models."},
    {"refused: response_format json_schema",
     REQX(U("'Hi'"), "'response_format':{'type':'json_schema','json_schema':{'name':'x'}}"), "!",
     "response_format 'json_schema' is not supported"},
    {"refused: image media type",
     REQ(U("[{'type':'image_url','image_url':{'url':'data:image/bmp;base64,Qk0='}}]")), "!",
     "image type not supported"},
    {"refused: image data URL without base64",
     REQ(U("[{'type':'image_url','image_url':{'url':'data:image/png,abc'}}]")), "!",
     "data:image/png;base64"},
    {"refused: image URL scheme",
     REQ(U("[{'type':'image_url','image_url':{'url':'ftp://x/y.png'}}]")), "!", "http(s) URL"},
    {"refused: image in an assistant message",
     REQ(U("'Hi'") "," A("[{'type':'image_url','image_url':{'url':'https://x/y.png'}}]")), "!",
     "'image_url' is not supported"},
    {"refused: unknown part type",
     REQ(U("[{'type':'input_audio','input_audio':{'data':'','format':'wav'}}]")), "!",
     "messages[0].content[0]: content part type 'input_audio' is not supported"},
    {"refused: arguments not JSON",
     REQ(U("'Hi'") ",{'role':'assistant','tool_calls':[{'id':'c1','type':'function','function':"
                   "{'name':'f','arguments':'{city: Paris'}}]}"),
     "!", "messages[1].tool_calls[0].function.arguments must be a JSON object"},
    {"refused: arguments with trailing text",
     REQ(U("'Hi'") ",{'role':'assistant','tool_calls':[{'id':'c1','type':'function','function':"
                   "{'name':'f','arguments':'{} x'}}]}"),
     "!", "must be a JSON object"},
    {"refused: arguments not an object",
     REQ(U("'Hi'") ",{'role':'assistant','tool_calls':[{'id':'c1','type':'function','function':"
                   "{'name':'f','arguments':'[1]'}}]}"),
     "!", "must be a JSON object"},
    {"refused: tool message without tool_call_id", REQ(U("'Hi'") ",{'role':'tool','content':'x'}"),
     "!", "tool_call_id"},
    {"refused: unknown role", REQ(U("'Hi'") ",{'role':'function','name':'f','content':'x'}"), "!",
     "role 'function' is not supported"},
    {"refused: only a system message", REQ("{'role':'system','content':'Be brief.'}"), "!",
     "at least one"},
    {"refused: non-function tool", REQX(U("'Hi'"), "'tools':[{'type':'web_search'}]"), "!",
     "only function tools"},
    {"refused: max_tokens 0", REQX(U("'Hi'"), "'max_tokens':0"), "!",
     "max_tokens must be at least 1"},
};

static void test_request_rows(void)
{
    char err[256];
    char name[300];
    hub_err rc;
    for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
        const struct row *r = &rows[k];
        bool refuse = strcmp(r->path, "!") == 0;
        bool stream = strstr(r->req, "'stream':true") != NULL; /* as the gateway would pass */
        json_object *body = xl(r->req, stream, &rc, err, sizeof(err));
        json_object *v = r->path[0] && !refuse ? at(body, r->path) : body;
        bool ok = refuse ? rc == HUB_EINVAL && body == NULL && strstr(err, r->want) != NULL
                         : rc == HUB_OK && body != NULL;
        if (!ok)
            printf("# rc %d: %s\n", (int)rc, err);
        if (ok && !refuse)
            ok = strcmp(r->want, "-") == 0 ? v == NULL : same(v, r->want);
        snprintf(name, sizeof(name), "request: %s", r->name);
        TAP_CHECK(ok, name);
        json_object_put(body);
    }
}

static void test_request_dispatch(void)
{
    char err[256];
    hub_err rc;
    json_object *body = NULL;
    /* the public dispatch reaches the same translator */
    json_object *req = q(REQ(U("'Hi'")));
    hub_buf path;
    hub_buf_init(&path, 0);
    rc = hub_xl_chat_request("anthropic", req, "claude-up", false, 1024, &path, &body, err,
                             sizeof(err));
    TAP_CHECK(rc == HUB_OK && path.data != NULL && strcmp(path.data, "/v1/messages") == 0 &&
                  same(at(body, "max_tokens"), "1024"),
              "hub_xl_chat_request('anthropic'): path and default max_tokens");
    hub_buf_free(&path);
    json_object_put(body);
    json_object_put(req);
}

/* ---- answers ---- */

static json_object *answer(const char *ans, hub_err *rc, hub_xl_usage *u, char *err, size_t errsz)
{
    json_object *a = q(ans);
    json_object *out = NULL;
    err[0] = '\0';
    *rc = hub_xl_anthropic_response(a, "chatcmpl-1", "claude-x", &out, u, err, errsz);
    json_object_put(a);
    if (out != NULL && hub_xl_get(out, "created", json_type_int) != NULL)
        json_object_object_del(out, "created"); /* the clock: checked to exist, then dropped */
    return out;
}

static void test_response(void)
{
    char err[256];
    hub_err rc;
    hub_xl_usage u;
    json_object *o =
        answer("{'id':'msg_01','type':'message','role':'assistant','model':'claude-sonnet-4-5',"
               "'content':[{'type':'thinking','thinking':'hmm','signature':'x'},"
               "{'type':'text','text':'Let me '},{'type':'text','text':'check.'},"
               "{'type':'tool_use','id':'toolu_1','name':'get_weather','input':{'city':'Paris','n':"
               "[1,2]}}],"
               "'stop_reason':'tool_use','stop_sequence':null,'usage':{'input_tokens':10,"
               "'cache_creation_input_tokens':5,'cache_read_input_tokens':3,'output_tokens':7}}",
               &rc, &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK &&
                  same(o,
                       "{'id':'chatcmpl-1','object':'chat.completion','model':'claude-x',"
                       "'choices':[{'index':0,'message':{'role':'assistant','content':'Let me "
                       "check.','tool_calls':[{'id':'toolu_1','type':'function','function':{"
                       "'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\',\\'n\\':[1,2]}'"
                       "}}]},'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':18,"
                       "'completion_tokens':7,'total_tokens':25,'prompt_tokens_details':{"
                       "'cached_tokens':3}}}"),
              "response: text blocks joined, tool_use → tool_calls, cache counted in prompt");
    TAP_CHECK(u.prompt_tokens == 18 && u.completion_tokens == 7 && u.total_tokens == 25,
              "response: *u filled");
    json_object_put(o);

    o = answer("{'type':'message','content':[{'type':'tool_use','id':'t','name':'f','input':{}}],"
               "'stop_reason':'tool_use','usage':{'input_tokens':4,'output_tokens':2}}",
               &rc, &u, err, sizeof(err));
    json_object *content = o;
    bool is_null = json_object_object_get_ex(at(o, "choices.0.message"), "content", &content) &&
                   content == NULL;
    TAP_CHECK(rc == HUB_OK && is_null &&
                  same(at(o, "choices.0.message.tool_calls.0.function.arguments"), "'{}'"),
              "response: only tool_use → content null");
    TAP_CHECK(same(at(o, "usage"), "{'prompt_tokens':4,'completion_tokens':2,'total_tokens':6}") &&
                  u.prompt_tokens == 4,
              "response: no cache fields → prompt = input_tokens");
    json_object_put(o);

    o = answer("{'type':'message','content':[],'stop_reason':'end_turn'}", &rc, &u, err,
               sizeof(err));
    TAP_CHECK(rc == HUB_OK &&
                  same(at(o, "choices.0.message"), "{'role':'assistant','content':''}") &&
                  u.prompt_tokens == -1 && u.completion_tokens == -1 && u.total_tokens == -1,
              "response: no blocks → empty content; usage unknown in *u");
    json_object_put(o);

    /* stop_reason → finish_reason pairs */
    const char *stops = "end_turn stop stop_sequence stop max_tokens length tool_use tool_calls "
                        "refusal content_filter pause_turn stop model_context_window_exceeded "
                        "length new_one stop";
    char stop[64];
    char want[64];
    int used = 0;
    while (sscanf(stops, "%63s %63s%n", stop, want, &used) == 2) {
        char ans[256];
        char name[160];
        stops += used;
        snprintf(ans, sizeof(ans), "{'content':[{'type':'text','text':'x'}],'stop_reason':'%s'}",
                 stop);
        o = answer(ans, &rc, &u, err, sizeof(err));
        snprintf(name, sizeof(name), "response: stop_reason %s → %s", stop, want);
        TAP_CHECK(rc == HUB_OK && str_is(o, "choices.0.finish_reason", want), name);
        json_object_put(o);
    }

    o = answer("{'choices':[]}", &rc, &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && o == NULL, "response: not an Anthropic message → EUPSTREAM");
    o = answer("{'type':'error','error':{'type':'overloaded_error','message':'Overloaded'}}", &rc,
               &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && o == NULL && strstr(err, "Overloaded") != NULL,
              "response: an error body → EUPSTREAM with its message");
}

/* ---- streams ---- */

struct ev {
    const char *event, *data;
};

/* Feeds events to a new stream; chunks (emptied first) collects every chunk. Returns the first
 * error. */
static hub_err feed(const struct ev *evs, size_t n, json_object *chunks, hub_xl_usage *u,
                    bool *done, char *err, size_t errsz)
{
    hub_xl_anthropic_stream *st = hub_xl_anthropic_stream_new("chatcmpl-9", "claude-x");
    hub_err rc = HUB_OK;
    hub_xl_usage_init(u);
    json_object_array_del_idx(chunks, 0, json_object_array_length(chunks));
    *done = false;
    err[0] = '\0';
    for (size_t k = 0; k < n && rc == HUB_OK; k++) {
        char *text = unq(evs[k].data); /* JSON text, as upstream sends it */
        rc = hub_xl_anthropic_stream_event(st, evs[k].event, text, strlen(text), chunks, u, done,
                                           err, errsz);
        free(text);
    }
    hub_xl_anthropic_stream_free(st);
    return rc;
}

static const struct ev recorded[] = {
    {"message_start",
     "{'type':'message_start','message':{'id':'msg_1','type':'message','role':"
     "'assistant','content':[],'model':'claude-sonnet-4-5','stop_reason':null,"
     "'usage':{'input_tokens':20,'cache_read_input_tokens':5,'output_tokens':1}}}"},
    {"content_block_start",
     "{'type':'content_block_start','index':0,'content_block':{'type':'text','text':''}}"},
    {"ping", "{'type':'ping'}"},
    {"content_block_delta",
     "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hello'}}"},
    {"content_block_delta",
     "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':' world'}}"},
    {"content_block_stop", "{'type':'content_block_stop','index':0}"},
    {"content_block_start", "{'type':'content_block_start','index':1,'content_block':{'type':"
                            "'tool_use','id':'toolu_1','name':'get_weather','input':{}}}"},
    {"content_block_delta", "{'type':'content_block_delta','index':1,'delta':{'type':"
                            "'input_json_delta','partial_json':''}}"},
    {"content_block_delta", "{'type':'content_block_delta','index':1,'delta':{'type':"
                            "'input_json_delta','partial_json':'{\\'city\\': '}}"},
    {"content_block_delta", "{'type':'content_block_delta','index':1,'delta':{'type':"
                            "'input_json_delta','partial_json':'\\'Paris\\'}'}}"},
    {"content_block_stop", "{'type':'content_block_stop','index':1}"},
    {"message_delta", "{'type':'message_delta','delta':{'stop_reason':'tool_use','stop_sequence':"
                      "null},'usage':{'output_tokens':42}}"},
    {"message_stop", "{'type':'message_stop'}"},
};

static void test_stream(void)
{
    char err[256];
    hub_xl_usage u;
    bool done;
    json_object *chunks = json_object_new_array();
    hub_err rc =
        feed(recorded, sizeof(recorded) / sizeof(recorded[0]), chunks, &u, &done, err, sizeof(err));
    size_t n = json_object_array_length(chunks);
    TAP_CHECK(rc == HUB_OK && n == 7, "stream: 7 chunks from the recorded stream");
    static const char *const deltas[] = {
        "{'role':'assistant','content':''}",
        "{'content':'Hello'}",
        "{'content':' world'}",
        ("{'tool_calls':[{'index':0,'id':'toolu_1','type':'function','function':{'name':"
         "'get_weather','arguments':''}}]}"),
        "{'tool_calls':[{'index':0,'function':{'arguments':'{\\'city\\': '}}]}",
        "{'tool_calls':[{'index':0,'function':{'arguments':'\\'Paris\\'}'}}]}",
        "{}"};
    bool seq = n == 7;
    bool shape = true;
    hub_buf text, args;
    hub_buf_init(&text, 0);
    hub_buf_init(&args, 0);
    for (size_t k = 0; k < n && k < 7; k++) {
        json_object *c = json_object_array_get_idx(chunks, k);
        seq = seq && same(at(c, "choices.0.delta"), deltas[k]);
        shape = shape && str_is(c, "id", "chatcmpl-9") && str_is(c, "model", "claude-x") &&
                str_is(c, "object", "chat.completion.chunk");
        if (k < 6)
            shape = shape && at(c, "choices.0.finish_reason") == NULL;
        if (str_at(c, "choices.0.delta.content"))
            hub_buf_puts(&text, str_at(c, "choices.0.delta.content"));
        if (str_at(c, "choices.0.delta.tool_calls.0.function.arguments"))
            hub_buf_puts(&args, str_at(c, "choices.0.delta.tool_calls.0.function.arguments"));
    }
    TAP_CHECK(seq, "stream: chunk sequence (role, text, tool call start, arguments, finish)");
    TAP_CHECK(shape, "stream: chunk id/model/object; finish_reason null before the last");
    TAP_CHECK(text.data && strcmp(text.data, "Hello world") == 0, "stream: text reassembled");
    json_object *a = args.data ? json_tokener_parse(args.data) : NULL;
    TAP_CHECK(same(a, "{'city':'Paris'}"), "stream: tool call arguments reassembled");
    json_object_put(a);
    TAP_CHECK(str_is(chunks, "6.choices.0.finish_reason", "tool_calls"),
              "stream: finish_reason tool_calls on the message_delta chunk");
    TAP_CHECK(u.prompt_tokens == 25 && u.completion_tokens == 42 && u.total_tokens == 67,
              "stream: usage prompt 20+5 cached, completion 42, total 67");
    TAP_CHECK(done, "stream: message_stop → done");
    hub_buf_free(&text);
    hub_buf_free(&args);
    json_object_put(chunks);
}

static void test_stream_more(void)
{
    char err[256];
    hub_xl_usage u;
    bool done;
    json_object *chunks = json_object_new_array();
    /* two tool_use blocks after a thinking block; no event names (type from the payload) */
    static const struct ev two[] = {
        {NULL, "{'type':'content_block_start','index':0,'content_block':{'type':'thinking',"
               "'thinking':''}}"},
        {NULL, "{'type':'content_block_delta','index':0,'delta':{'type':'thinking_delta',"
               "'thinking':'hmm'}}"},
        {NULL, "{'type':'content_block_start','index':1,'content_block':{'type':'tool_use','id':"
               "'a','name':'f','input':{}}}"},
        {NULL, "{'type':'content_block_start','index':2,'content_block':{'type':'tool_use','id':"
               "'b','name':'g','input':{}}}"},
        {NULL, "{'type':'content_block_delta','index':2,'delta':{'type':'input_json_delta',"
               "'partial_json':'{}'}}"},
        {NULL, "{'type':'content_block_start','index':3,'content_block':{'type':'text','text':"
               "'Done'}}"},
        {NULL, "{'type':'message_delta','delta':{'stop_reason':'max_tokens'},'usage':{"
               "'output_tokens':3}}"},
    };
    hub_err rc = feed(two, sizeof(two) / sizeof(two[0]), chunks, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && json_object_array_length(chunks) == 5,
              "stream: 5 chunks, thinking dropped");
    TAP_CHECK(same(at(chunks, "0.choices.0.delta"),
                   "{'role':'assistant','tool_calls':[{'index':0,'id':"
                   "'a','type':'function','function':{'name':'f',"
                   "'arguments':''}}]}"),
              "stream: without message_start the first chunk still carries the role");
    TAP_CHECK(same(at(chunks, "1.choices.0.delta.tool_calls.0.index"), "1") &&
                  same(at(chunks, "2.choices.0.delta.tool_calls.0"),
                       "{'index':1,'function':{'arguments':'{}'}}"),
              "stream: second tool_use block is tool call index 1");
    TAP_CHECK(same(at(chunks, "3.choices.0.delta"), "{'content':'Done'}"),
              "stream: initial text of a text block is sent");
    TAP_CHECK(same(at(chunks, "4.choices.0.finish_reason"), "'length'") &&
                  u.completion_tokens == 3 && u.prompt_tokens == -1 && u.total_tokens == -1 &&
                  !done,
              "stream: max_tokens → length; prompt unknown so no total; not done");

    static const struct ev bad[] = {
        {"message_start", "{'type':'message_start','message':{'usage':{'input_tokens':3}}}"},
        {"error", "{'type':'error','error':{'type':'overloaded_error','message':'Overloaded'}}"},
    };
    rc = feed(bad, 2, chunks, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && strcmp(err, "Overloaded") == 0 && u.prompt_tokens == 3,
              "stream: error event → EUPSTREAM with its message");

    static const struct ev junk[] = {
        {"future_event", "not json"},
        {"content_block_delta", "{'type':'content_block_delta',"},
    };
    rc = feed(junk, 2, chunks, &u, &done, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && json_object_array_length(chunks) == 0,
              "stream: unknown event ignored, malformed JSON → EUPSTREAM");

    /* the public wrapper reaches the same translator */
    hub_xl_stream *st = hub_xl_stream_new("anthropic", "id", "m");
    json_object_array_del_idx(chunks, 0, json_object_array_length(chunks));
    const char *stop = "{\"type\":\"message_stop\"}";
    done = false;
    rc = st ? hub_xl_stream_event(st, "message_stop", stop, strlen(stop), chunks, &u, &done, err,
                                  sizeof(err))
            : HUB_ENOMEM;
    TAP_CHECK(rc == HUB_OK && done && json_object_array_length(chunks) == 0,
              "hub_xl_stream_event('anthropic'): message_stop → done, no chunk");
    hub_xl_stream_free(st);
    json_object_put(chunks);
}

int main(void)
{
    test_request_rows();
    test_request_dispatch();
    TAP_CHECK(modified == 0, "request: the client's request is never modified");
    test_response();
    test_stream();
    test_stream_more();
    return tap_done();
}
