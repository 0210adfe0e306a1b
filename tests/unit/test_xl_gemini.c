/*
 * test_xl_gemini.c — unit tests of the Gemini translators (hub_xl_gemini.c and
 * hub_xl_gemini_stream.c) without streams: OpenAI chat requests → generateContent bodies and
 * paths, complete Gemini answers → OpenAI objects, embeddings both ways. SSE streams are tested
 * in test_xl_gemini_stream.c.
 * Each mapping is compared with the exact JSON expected (json_object_equal); the "created"
 * stamps are removed first. JSON literals are written with single quotes, turned into double
 * quotes by J() (test_util.h).
 */
#include "hub_xlate_int.h"
#include "tap.h"
#include "gemini_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs the request translator on a literal. Returns the body (new, or NULL); *rc and path. */
static json_object *req(const char *lit, bool stream, const char *model, hub_err *rc, hub_buf *path)
{
    json_object *r = J(lit);
    json_object *body = NULL;
    char err[256] = "";
    hub_buf_reset(path);
    *rc = hub_xl_chat_request("gemini", r, model, stream, 4096, path, &body, err, sizeof(err));
    if (*rc != HUB_OK)
        printf("# error %d: %s\n", (int)*rc, err);
    json_object_put(r);
    return body;
}

/* Whether the request is refused with HUB_EINVAL and no body. */
static bool refused(const char *lit, const char *model)
{
    hub_buf path;
    hub_err rc;
    hub_buf_init(&path, 0);
    json_object *b = req(lit, false, model, &rc, &path);
    bool ok = rc == HUB_EINVAL && b == NULL;
    json_object_put(b);
    hub_buf_free(&path);
    return ok;
}

/* Whether the request translates to exactly `want`. */
static bool maps(const char *lit, const char *want)
{
    hub_buf path;
    hub_err rc;
    hub_buf_init(&path, 0);
    json_object *b = req(lit, false, "gemini-2.5-flash", &rc, &path);
    bool ok = rc == HUB_OK && same(b, want);
    json_object_put(b);
    hub_buf_free(&path);
    return ok;
}

/* Requests Gemini cannot serve: each is refused with HUB_EINVAL and no body. */
static const struct {
    const char *what;
    const char *body; /* the request without {'model':'g', … } */
} refusals[] = {
    {"ftp image URL", "'messages':[{'role':'user','content':[{'type':'image_url',"
                      "'image_url':{'url':'ftp://x.test/a.png'}}]}]"},
    {"data URL without base64", "'messages':[{'role':'user','content':[{'type':'image_url',"
                                "'image_url':{'url':'data:image/png,abc'}}]}]"},
    {"unsupported content part", "'messages':[{'role':'user','content':[{'type':'input_audio',"
                                 "'input_audio':{'data':'AAA','format':'wav'}}]}]"},
    {"system-only conversation", "'messages':[{'role':'system','content':'only'}]"},
    {"unknown role", "'messages':[{'role':'critic','content':'x'}]"},
    {"unknown tool_choice",
     "'messages':[{'role':'user','content':'x'}],"
     "'tools':[{'type':'function','function':{'name':'f'}}],'tool_choice':'sometimes'"},
    {"non-function tool",
     "'messages':[{'role':'user','content':'x'}],'tools':[{'type':'web_search'}]"},
    {"tool result for an unknown call", "'messages':[{'role':'user','content':'x'},"
                                        "{'role':'tool','tool_call_id':'nope','content':'1'}]"},
    {"tool call with bad JSON arguments",
     "'messages':[{'role':'user','content':'x'},{'role':'assistant','tool_calls':"
     "[{'id':'a','type':'function','function':{'name':'f','arguments':'{bad'}}]}]"},
    {"tool call with non-object arguments",
     "'messages':[{'role':'user','content':'x'},{'role':'assistant','tool_calls':"
     "[{'id':'a','type':'function','function':{'name':'f','arguments':'[1]'}}]}]"},
    {"unknown response_format",
     "'messages':[{'role':'user','content':'x'}],'response_format':{'type':'yaml'}"},
};

static void test_request(void)
{
    hub_buf path;
    hub_err rc;
    hub_buf_init(&path, 0);

    TAP_CHECK(maps("{'model':'g','messages':[{'role':'system','content':'Be brief.'},"
                   "{'role':'developer','content':[{'type':'text','text':'Use French.'}]},"
                   "{'role':'system','content':''},{'role':'user','content':'Hi'}]}",
                   "{'systemInstruction':{'parts':[{'text':'Be brief.\\n\\nUse French.'}]},"
                   "'contents':[{'role':'user','parts':[{'text':'Hi'}]}]}"),
              "request: system + developer joined into systemInstruction");
    TAP_CHECK(
        maps("{'model':'g','messages':[{'role':'user','content':'a'},"
             "{'role':'user','content':[{'type':'text','text':'b'},{'type':'text','text':''}]},"
             "{'role':'assistant','content':'c'},{'role':'assistant','content':''},"
             "{'role':'assistant','content':'d'},{'role':'user','content':'e'}]}",
             "{'contents':[{'role':'user','parts':[{'text':'a'},{'text':'b'}]},"
             "{'role':'model','parts':[{'text':'c'},{'text':'d'}]},"
             "{'role':'user','parts':[{'text':'e'}]}]}"),
        "request: user/model roles, same-role merge, empty text skipped");
    TAP_CHECK(
        maps("{'model':'g','messages':[{'role':'user','content':[{'type':'text','text':'see'},"
             "{'type':'image_url','image_url':{'url':'data:image/png;base64,iVBORw0KGgo='}},"
             "{'type':'image_url','image_url':{'url':'https://x.test/a/cat.WEBP?sig=1'}},"
             "{'type':'image_url','image_url':{'url':'http://x.test/pic.gif#f'}},"
             "{'type':'image_url','image_url':{'url':'https://x.test/v1.2/photo'}}]}]}",
             "{'contents':[{'role':'user','parts':[{'text':'see'},"
             "{'inlineData':{'mimeType':'image/png','data':'iVBORw0KGgo='}},"
             "{'fileData':{'mimeType':'image/webp','fileUri':'https://x.test/a/cat.WEBP?sig=1'}},"
             "{'fileData':{'mimeType':'image/gif','fileUri':'http://x.test/pic.gif#f'}},"
             "{'fileData':{'mimeType':'image/jpeg','fileUri':'https://x.test/v1.2/photo'}}]}]}"),
        "request: images as inlineData (data URL) and fileData (http URL, mime guessed)");

    const char *tools = "'tools':[{'type':'function','function':{'name':'get_weather',"
                        "'description':'Weather now','parameters':{'type':'object','properties':"
                        "{'city':{'type':'string'}},'required':['city']}}},"
                        "{'type':'function','function':{'name':'now','parameters':"
                        "{'type':'object','properties':{}}}}]";
    const char *decls = "'tools':[{'functionDeclarations':[{'name':'get_weather','description':"
                        "'Weather now','parameters':{'type':'object','properties':{'city':"
                        "{'type':'string'}},'required':['city']}},{'name':'now'}]}]";
    const struct {
        const char *choice;
        const char *config;
    } tc[] = {
        {"", ""},
        {",'tool_choice':'auto'", ",'toolConfig':{'functionCallingConfig':{'mode':'AUTO'}}"},
        {",'tool_choice':'none'", ",'toolConfig':{'functionCallingConfig':{'mode':'NONE'}}"},
        {",'tool_choice':'required'", ",'toolConfig':{'functionCallingConfig':{'mode':'ANY'}}"},
        {",'tool_choice':{'type':'function','function':{'name':'now'}}",
         ",'toolConfig':{'functionCallingConfig':{'mode':'ANY','allowedFunctionNames':['now']}}"},
    };
    for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
        char in[1024];
        char want[1024];
        char name[128];
        snprintf(in, sizeof(in), "{'model':'g','messages':[{'role':'user','content':'x'}],%s%s}",
                 tools, tc[i].choice);
        snprintf(want, sizeof(want), "{'contents':[{'role':'user','parts':[{'text':'x'}]}],%s%s}",
                 decls, tc[i].config);
        snprintf(name, sizeof(name), "request: tools (no params → no parameters) + tool_choice %s",
                 tc[i].choice[0] ? tc[i].choice + 15 : "absent");
        TAP_CHECK(maps(in, want), name);
    }

    /* a full tool round trip: calls (one id carrying a thought signature) and their results */
    TAP_CHECK(
        maps("{'model':'g','messages':[{'role':'user','content':'Weather in Paris and time?'},"
             "{'role':'assistant','content':null,'tool_calls':["
             "{'id':'call_0123456789abcdef_0__ts_q-_w','type':'function','function':"
             "{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}},"
             "{'id':'xyz','type':'function','function':{'name':'now','arguments':''}}]},"
             "{'role':'tool','tool_call_id':'xyz','content':'12:00'},"
             "{'role':'tool','tool_call_id':'call_0123456789abcdef_0__ts_q-_w','content':"
             "'{\\'temp\\':21}'},{'role':'user','content':'Thanks'}]}",
             "{'contents':[{'role':'user','parts':[{'text':'Weather in Paris and time?'}]},"
             "{'role':'model','parts':[{'functionCall':{'name':'get_weather','args':"
             "{'city':'Paris'}},'thoughtSignature':'q+/w'},"
             "{'functionCall':{'name':'now','args':{}}}]},"
             "{'role':'user','parts':[{'functionResponse':{'name':'now','response':"
             "{'content':'12:00'}}},{'functionResponse':{'name':'get_weather','response':"
             "{'content':{'temp':21}}}},{'text':'Thanks'}]}]}"),
        "request: tool round trip → functionCall + functionResponse with the call's name");

    TAP_CHECK(maps("{'model':'g','messages':[{'role':'user','content':'x'}],'temperature':0.5,"
                   "'top_p':1,'max_tokens':10,'max_completion_tokens':20,'stop':'END','n':2,"
                   "'presence_penalty':0.1,'frequency_penalty':-0.2,'seed':7,"
                   "'response_format':{'type':'json_object'},'user':'u1'}",
                   "{'contents':[{'role':'user','parts':[{'text':'x'}]}],'generationConfig':"
                   "{'temperature':0.5,'topP':1,'maxOutputTokens':20,'stopSequences':['END'],"
                   "'candidateCount':2,'presencePenalty':0.1,'frequencyPenalty':-0.2,'seed':7,"
                   "'responseMimeType':'application/json'}}"),
              "request: generationConfig fields, max_completion_tokens wins, json_object");
    TAP_CHECK(maps("{'model':'g','messages':[{'role':'user','content':'x'}],'max_tokens':5,"
                   "'stop':['a','b'],'response_format':{'type':'json_schema','json_schema':"
                   "{'name':'r','schema':{'type':'object','properties':{'a':{'type':'string'}}}}}}",
                   "{'contents':[{'role':'user','parts':[{'text':'x'}]}],'generationConfig':"
                   "{'maxOutputTokens':5,'stopSequences':['a','b'],'responseMimeType':"
                   "'application/json','responseSchema':{'type':'object','properties':{'a':"
                   "{'type':'string'}}}}}"),
              "request: max_tokens, stop array, json_schema → responseSchema");

    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        char lit[512];
        char name[160];
        snprintf(lit, sizeof(lit), "{'model':'g',%s}", refusals[i].body);
        snprintf(name, sizeof(name), "request: refused: %s", refusals[i].what);
        TAP_CHECK(refused(lit, "gemini-2.5-flash"), name);
    }

    json_object *b = req("{'model':'g','messages':[{'role':'user','content':'x'}]}", false,
                         "gemini-2.5-flash", &rc, &path);
    TAP_CHECK(rc == HUB_OK &&
                  strcmp(path.data, "/v1beta/models/gemini-2.5-flash:generateContent") == 0,
              "request: non-stream path");
    json_object_put(b);
    b = req("{'model':'g','messages':[{'role':'user','content':'x'}]}", true,
            "gemini-2.0-flash-001", &rc, &path);
    TAP_CHECK(rc == HUB_OK && strcmp(path.data, "/v1beta/models/gemini-2.0-flash-001:"
                                                "streamGenerateContent?alt=sse") == 0,
              "request: stream path");
    json_object_put(b);
    const char *bad[] = {"",    "../secret",         "a/b",  "m?key=1",
                         "m#x", "m:generateContent", "m%2f", "m n"};
    bool all = true;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        all = all && refused("{'model':'g','messages':[{'role':'user','content':'x'}]}", bad[i]);
    TAP_CHECK(all, "request: model names with characters outside [A-Za-z0-9._-] refused");
    hub_buf_free(&path);
}

/* Runs the response translator on a literal; *u gets the usage. */
static json_object *resp(const char *lit, hub_err *rc, hub_xl_usage *u)
{
    json_object *a = J(lit);
    json_object *out = NULL;
    char err[256] = "";
    *rc = hub_xl_chat_response("gemini", a, "chatcmpl-1", "gem", &out, u, err, sizeof(err));
    json_object_put(a);
    return out;
}

static void test_response(void)
{
    hub_err rc;
    hub_xl_usage u;
    json_object *o = resp("{'candidates':[{'content':{'role':'model','parts':[{'text':'Let me "
                          "think','thought':true},{'text':'Hello'},{'text':' world'}]},"
                          "'finishReason':'STOP','index':0}],'usageMetadata':{'promptTokenCount'"
                          ":12,'candidatesTokenCount':87,'thoughtsTokenCount':156,"
                          "'totalTokenCount':255,'cachedContentTokenCount':4}}",
                          &rc, &u);
    TAP_CHECK(rc == HUB_OK &&
                  same(o, "{'id':'chatcmpl-1','object':'chat.completion','model':'gem','choices':"
                          "[{'index':0,'message':{'role':'assistant','content':'Hello world'},"
                          "'finish_reason':'stop'}],'usage':{'prompt_tokens':12,"
                          "'completion_tokens':243,'total_tokens':255,'prompt_tokens_details':"
                          "{'cached_tokens':4},'completion_tokens_details':{'reasoning_tokens':"
                          "156}}}"),
              "response: text (thought skipped), usage with thoughts");
    TAP_CHECK(u.prompt_tokens == 12 && u.completion_tokens == 243 && u.total_tokens == 255,
              "response: *u filled (completion = candidates + thoughts)");
    json_object_put(o);

    o = resp("{'candidates':[{'content':{'role':'model','parts':[{'functionCall':{'name':"
             "'get_weather','args':{'city':'Paris','unit':'c/f'}},'thoughtSignature':'ab+/cd=='},"
             "{'functionCall':{'name':'now'}}]},'finishReason':'STOP'}],'usageMetadata':"
             "{'promptTokenCount':5}}",
             &rc, &u);
    json_object *msg = NULL;
    json_object *calls = NULL;
    const char *id0 = NULL;
    const char *id1 = NULL;
    if (o != NULL) {
        msg = hub_xl_get(json_object_array_get_idx(hub_xl_get(o, "choices", json_type_array), 0),
                         "message", json_type_object);
        calls = hub_xl_get(msg, "tool_calls", json_type_array);
        id0 = hub_xl_str(json_object_array_get_idx(calls, 0), "id");
        id1 = hub_xl_str(json_object_array_get_idx(calls, 1), "id");
    }
    TAP_CHECK(id0 != NULL && id1 != NULL && strncmp(id0, "call_", 5) == 0 &&
                  strlen(id1) == strlen("call_0123456789abcdef_1") && strcmp(id1 + 21, "_1") == 0 &&
                  strncmp(id0, id1, 21) == 0 && strcmp(id0 + 21, "_0__ts_ab-_cd") == 0,
              "response: tool call ids call_<hash>_<n>, thought signature kept in base64url");
    char want[1024];
    snprintf(want, sizeof(want),
             "{'id':'chatcmpl-1','object':'chat.completion','model':'gem','choices':[{'index':0,"
             "'message':{'role':'assistant','content':null,'tool_calls':[{'id':'%s','type':"
             "'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\',"
             "\\'unit\\':\\'c/f\\'}'}},{'id':'%s','type':'function','function':{'name':'now',"
             "'arguments':'{}'}}]},'finish_reason':'tool_calls'}],'usage':{'prompt_tokens':5,"
             "'completion_tokens':0,'total_tokens':5}}",
             id0 ? id0 : "", id1 ? id1 : "");
    TAP_CHECK(rc == HUB_OK && same(o, want),
              "response: functionCall → tool_calls, content null, finish tool_calls");

    /* the minted id, replayed by the client, brings the signature back */
    hub_buf path;
    hub_buf_init(&path, 0);
    char in[1024];
    snprintf(in, sizeof(in),
             "{'model':'g','messages':[{'role':'user','content':'x'},{'role':'assistant',"
             "'tool_calls':[{'id':'%s','type':'function','function':{'name':'now','arguments':"
             "'{}'}}]},{'role':'tool','tool_call_id':'%s','content':'noon'}]}",
             id0 ? id0 : "", id0 ? id0 : "");
    json_object *b = req(in, false, "gemini-3-pro-preview", &rc, &path);
    TAP_CHECK(rc == HUB_OK &&
                  same(b, "{'contents':[{'role':'user','parts':[{'text':'x'}]},{'role':'model',"
                          "'parts':[{'functionCall':{'name':'now','args':{}},'thoughtSignature':"
                          "'ab+/cd=='}]},{'role':'user','parts':[{'functionResponse':{'name':"
                          "'now','response':{'content':'noon'}}}]}]}"),
              "request: thought signature restored from the minted tool call id");
    json_object_put(b);
    hub_buf_free(&path);
    json_object_put(o);

    o = resp("{'promptFeedback':{'blockReason':'SAFETY'},'usageMetadata':{'promptTokenCount':9,"
             "'totalTokenCount':9}}",
             &rc, &u);
    TAP_CHECK(rc == HUB_OK &&
                  same(o, "{'id':'chatcmpl-1','object':'chat.completion','model':'gem','choices':"
                          "[{'index':0,'message':{'role':'assistant','content':null},"
                          "'finish_reason':'content_filter'}],'usage':{'prompt_tokens':9,"
                          "'completion_tokens':0,'total_tokens':9}}"),
              "response: blocked prompt → content null, content_filter");
    json_object_put(o);

    const char *fr[][2] = {{"STOP", "stop"},
                           {"MAX_TOKENS", "length"},
                           {"SAFETY", "content_filter"},
                           {"RECITATION", "content_filter"},
                           {"BLOCKLIST", "content_filter"},
                           {"PROHIBITED_CONTENT", "content_filter"},
                           {"SPII", "content_filter"},
                           {"IMAGE_SAFETY", "content_filter"},
                           {"MALFORMED_FUNCTION_CALL", "stop"},
                           {"LANGUAGE", "stop"},
                           {"OTHER", "stop"},
                           {"FINISH_REASON_UNSPECIFIED", "stop"}};
    for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
        char lit[256];
        char name[128];
        snprintf(lit, sizeof(lit),
                 "{'candidates':[{'content':{'parts':[{'text':'t'}]},'finishReason':'%s'}]}",
                 fr[i][0]);
        o = resp(lit, &rc, &u);
        json_object *c = json_object_array_get_idx(hub_xl_get(o, "choices", json_type_array), 0);
        const char *got = hub_xl_str(c, "finish_reason");
        snprintf(name, sizeof(name), "response: finishReason %s → %s", fr[i][0], fr[i][1]);
        TAP_CHECK(rc == HUB_OK && got != NULL && strcmp(got, fr[i][1]) == 0, name);
        json_object_put(o);
    }

    o = resp("{'candidates':[{'index':1,'content':{'parts':[{'text':'B'}]},'finishReason':'STOP'},"
             "{'index':0,'content':{'parts':[]},'finishReason':'SAFETY'}]}",
             &rc, &u);
    TAP_CHECK(rc == HUB_OK && u.prompt_tokens == -1 && u.total_tokens == -1 &&
                  same(o, "{'id':'chatcmpl-1','object':'chat.completion','model':'gem','choices':"
                          "[{'index':0,'message':{'role':'assistant','content':''},"
                          "'finish_reason':'content_filter'},{'index':1,'message':{'role':"
                          "'assistant','content':'B'},'finish_reason':'stop'}]}"),
              "response: two candidates in index order, no usageMetadata → no usage, *u unknown");
    json_object_put(o);

    o = resp("{'object':'chat.completion','choices':[]}", &rc, &u);
    TAP_CHECK(rc == HUB_EUPSTREAM && o == NULL,
              "response: not a GenerateContentResponse → EUPSTREAM");
    o = resp("{'error':{'code':400,'message':'API key not valid','status':'INVALID_ARGUMENT'}}",
             &rc, &u);
    TAP_CHECK(rc == HUB_EUPSTREAM && o == NULL, "response: error object → EUPSTREAM");
    o = resp("{'candidates':[]}", &rc, &u);
    TAP_CHECK(rc == HUB_EUPSTREAM && o == NULL, "response: no candidates, no block → EUPSTREAM");
}

/* Edge cases of answers and requests: odd shapes, an error body, the legacy function role. */
static void test_edges(void)
{
    hub_err rc;
    hub_xl_usage u;
    char err[256] = "";
    json_object *a = J("{'candidates':[1,'x',{'content':5,'finishReason':7},{'content':{'parts':"
                       "[null,{'functionCall':'f'},{'text':3}]}}],'usageMetadata':[]}");
    json_object *out = NULL;
    rc = hub_xl_chat_response("gemini", a, "i", "m", &out, &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK &&
                  json_object_array_length(hub_xl_get(out, "choices", json_type_array)) == 4 &&
                  u.prompt_tokens == -1,
              "response: odd shapes answered without a crash");
    json_object_put(out);
    json_object_put(a);
    a = J("{'error':{'code':400,'message':'API key not valid.','status':'INVALID_ARGUMENT'}}");
    rc = hub_xl_chat_response("gemini", a, "i", "m", &out, &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && strcmp(err, "API key not valid.") == 0,
              "response: error body → EUPSTREAM with its message");
    json_object_put(a);

    TAP_CHECK(maps("{'model':'g','messages':[{'role':'user','content':'x'},{'role':'assistant',"
                   "'content':'calling'},{'role':'function','name':'f','content':[{'type':'text',"
                   "'text':'[1,2]'}]}]}",
                   "{'contents':[{'role':'user','parts':[{'text':'x'}]},{'role':'model','parts':"
                   "[{'text':'calling'}]},{'role':'user','parts':[{'functionResponse':{'name':'f',"
                   "'response':{'content':'[1,2]'}}}]}]}"),
              "request: legacy function role, text-part content, non-object JSON kept as text");
}

static void test_embeddings(void)
{
    hub_buf path;
    json_object *body = NULL;
    json_object *out = NULL;
    hub_xl_usage u;
    char err[256] = "";
    hub_buf_init(&path, 0);

    json_object *r = J("{'model':'emb','input':['one','two'],'dimensions':256,"
                       "'encoding_format':'float'}");
    hub_err rc =
        hub_xl_embed_request("gemini", r, "gemini-embedding-001", &path, &body, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && strcmp(path.data, "/v1beta/models/gemini-embedding-001:"
                                                "batchEmbedContents") == 0,
              "embeddings: path");
    TAP_CHECK(same(body, "{'requests':[{'model':'models/gemini-embedding-001','content':{'parts':"
                         "[{'text':'one'}]},'outputDimensionality':256},{'model':"
                         "'models/gemini-embedding-001','content':{'parts':[{'text':'two'}]},"
                         "'outputDimensionality':256}]}"),
              "embeddings: request body for an array input with dimensions");
    json_object_put(body);
    json_object_put(r);

    r = J("{'model':'emb','input':'solo'}");
    rc = hub_xl_embed_request("gemini", r, "text-embedding-004", &path, &body, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && same(body, "{'requests':[{'model':'models/text-embedding-004',"
                                         "'content':{'parts':[{'text':'solo'}]}}]}"),
              "embeddings: request body for a string input");
    json_object_put(body);
    json_object_put(r);

    const char *refuse[] = {
        "{'model':'e','input':[1,2,3]}",  "{'model':'e','input':[[1,2]]}",
        "{'model':'e','input':[]}",       "{'model':'e'}",
        "{'model':'e','input':['a','']}", "{'model':'e','input':'x','encoding_format':'base64'}"};
    bool all = true;
    for (size_t i = 0; i < sizeof(refuse) / sizeof(refuse[0]); i++) {
        r = J(refuse[i]);
        body = NULL;
        rc =
            hub_xl_embed_request("gemini", r, "text-embedding-004", &path, &body, err, sizeof(err));
        all = all && rc == HUB_EINVAL && body == NULL;
        json_object_put(r);
    }
    TAP_CHECK(all, "embeddings: token arrays, empty/missing input, empty string, base64 refused");
    r = J("{'model':'e','input':'x'}");
    rc = hub_xl_embed_request("gemini", r, "a/b", &path, &body, err, sizeof(err));
    TAP_CHECK(rc == HUB_EINVAL && body == NULL, "embeddings: bad model name refused");
    json_object_put(r);

    json_object *a = J("{'embeddings':[{'values':[0.013,-0.25,1]},{'values':[0.5,0,-1e-3]}]}");
    rc = hub_xl_embed_response("gemini", a, "my-emb", &out, &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK &&
                  same(out, "{'object':'list','data':[{'object':'embedding','index':0,'embedding':"
                            "[0.013,-0.25,1]},{'object':'embedding','index':1,'embedding':"
                            "[0.5,0,-1e-3]}],'model':'my-emb'}"),
              "embeddings: response → OpenAI list without usage numbers");
    TAP_CHECK(u.prompt_tokens == -1 && u.completion_tokens == -1 && u.total_tokens == -1,
              "embeddings: usage unknown (-1)");
    json_object_put(out);
    json_object_put(a);

    a = J("{'embedding':{'values':[1]}}");
    out = NULL;
    rc = hub_xl_embed_response("gemini", a, "m", &out, &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && out == NULL, "embeddings: unexpected answer → EUPSTREAM");
    json_object_put(a);
    a = J("{'embeddings':[{'values':['x']}]}");
    rc = hub_xl_embed_response("gemini", a, "m", &out, &u, err, sizeof(err));
    TAP_CHECK(rc == HUB_EUPSTREAM && out == NULL, "embeddings: non-numeric values → EUPSTREAM");
    json_object_put(a);
    hub_buf_free(&path);
}

int main(void)
{
    test_request();
    test_response();
    test_edges();
    test_embeddings();
    return tap_done();
}
