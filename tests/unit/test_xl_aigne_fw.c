/*
 * test_xl_aigne_fw.c — unit tests of the AIGNE framework translator (lib/hub_xl_aigne_fw.c)
 * through hub_xlate.h with formats "aigne-fw" / "aigne-fw-json": the request body
 * {input, options} → OpenAI (exact JSON), validation, answers (text, JSON, tool calls with
 * object arguments, usage), error bodies, and the exact stream of "data: {delta…}" events.
 * (The official @aigne/aigne-hub client is run against the gateway in tests/node.)
 */
#include "hub_xlate.h"
#include "tap.h"
#include "test_util.h"

static void ok_req(const char *name, const char *in_text, const char *want, bool want_stream)
{
    json_object *in = J(in_text), *out = NULL;
    bool stream = !want_stream;
    const char *param = NULL;
    char err[256] = "";
    hub_err rc = hub_xl_in_request("aigne-fw", in, &out, &stream, &param, err, sizeof(err));
    if (rc != HUB_OK)
        printf("# error: %s\n", err);
    TAP_CHECK(rc == HUB_OK && same_json(out, want) && stream == want_stream, name);
    json_object_put(in);
    json_object_put(out);
}

static void bad_req(const char *name, const char *in_text, const char *want_param,
                    const char *want_words)
{
    json_object *in = J(in_text), *out = NULL;
    bool stream = false;
    const char *param = NULL;
    char err[256] = "";
    hub_err rc = hub_xl_in_request("aigne-fw", in, &out, &stream, &param, err, sizeof(err));
    TAP_CHECK(rc == HUB_EINVAL && out == NULL && streq(param, want_param) &&
                  strstr(err, want_words) != NULL,
              name);
    if (rc != HUB_EINVAL || !streq(param, want_param))
        printf("# rc=%d param=%s err=%s\n", (int)rc, param ? param : "(null)", err);
    json_object_put(in);
    json_object_put(out);
}

static void requests(void)
{
    ok_req("a plain chat: messages, model from modelOptions, not streamed",
           "{'input':{'messages':[{'role':'system','content':'be brief'},"
           "{'role':'user','content':'hi'}],'modelOptions':{'model':'openai/gpt-4o-mini'}},"
           "'agent':'$CHAT_MODEL','options':{'userContext':{},'memories':[]}}",
           "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":"
           "\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]}",
           false);
    ok_req("options.streaming asks for a stream with usage",
           "{'input':{'messages':[{'role':'user','content':'hi'}],'modelOptions':{'model':'m'}},"
           "'options':{'streaming':true}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
           "\"stream_options\":{\"include_usage\":true}}",
           true);
    ok_req(
        "modelOptions map to OpenAI's fields",
        "{'input':{'messages':[{'role':'user','content':'x'}],'modelOptions':{'model':'m',"
        "'temperature':0.5,'topP':0.9,'frequencyPenalty':0.1,'presencePenalty':0.2,"
        "'parallelToolCalls':false,'maxTokens':64,'reasoningEffort':'low','cacheConfig':{}}}}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":0.5,"
        "\"top_p\":0.9,\"frequency_penalty\":0.1,\"presence_penalty\":0.2,"
        "\"parallel_tool_calls\":false,\"max_tokens\":64,\"reasoning_effort\":\"low\"}",
        false);
    ok_req("agent messages with tool calls (object arguments) and tool results",
           "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':'user','content':'w?'},"
           "{'role':'agent','toolCalls':[{'id':'c1','type':'function','function':{'name':'wx',"
           "'arguments':{'city':'Paris'}}}]},{'role':'tool','toolCallId':'c1','content':'sunny'},"
           "{'role':'agent','content':'It is sunny.','name':'bot'}]}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"w?\"},{\"role\":"
           "\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
           "\"function\":{\"name\":\"wx\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
           "{\"role\":\"tool\",\"content\":\"sunny\",\"tool_call_id\":\"c1\"},{\"role\":"
           "\"assistant\",\"content\":\"It is sunny.\",\"name\":\"bot\"}]}",
           false);
    ok_req("content parts: text, an image url, a base64 image file",
           "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':'user','content':["
           "{'type':'text','text':'what is this?'},{'type':'url','url':'https://x.test/a.png'},"
           "{'type':'file','data':'iVBO','mimeType':'image/png'}]}]}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
           "\"text\":\"what is this?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
           "\"https://x.test/a.png\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":"
           "\"data:image/png;base64,iVBO\"}}]}]}",
           false);
    ok_req("tools, a named tool choice and a JSON schema answer format",
           "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':'user','content':'x'}],"
           "'tools':[{'type':'function','function':{'name':'wx','description':'weather',"
           "'parameters':{'type':'object'}},'metadata':{'a':1}}],'toolChoice':{'type':"
           "'function','function':{'name':'wx','parameters':{}}},'responseFormat':{'type':"
           "'json_schema','jsonSchema':{'name':'out','schema':{'type':'object'},'strict':true}}}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{"
           "\"type\":\"function\",\"function\":{\"name\":\"wx\",\"description\":\"weather\","
           "\"parameters\":{\"type\":\"object\"}}}],\"tool_choice\":{\"type\":\"function\","
           "\"function\":{\"name\":\"wx\"}},\"response_format\":{\"type\":\"json_schema\","
           "\"json_schema\":{\"name\":\"out\",\"schema\":{\"type\":\"object\"},\"strict\":true}}}",
           false);
    ok_req("toolChoice required; responseFormat text is the default",
           "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':'user','content':'x'}],"
           "'toolChoice':'required','responseFormat':{'type':'text'}}}",
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
           "\"tool_choice\":\"required\"}",
           false);

    bad_req("no input object", "{'messages':[]}", "input", "input object");
    bad_req("no model", "{'input':{'messages':[{'role':'user','content':'x'}]}}", "model",
            "modelOptions.model");
    bad_req("no messages", "{'input':{'modelOptions':{'model':'m'},'messages':[]}}", "messages",
            "non-empty");
    bad_req("an unknown role",
            "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':"
            "'assistant','content':'x'}]}}",
            "messages", "system, user, agent or tool");
    bad_req("a local file part",
            "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':"
            "'user','content':[{'type':'local','path':'/etc/passwd'}]}]}}",
            "messages", "Local files");
    bad_req("a non-image file",
            "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':"
            "'user','content':[{'type':'file','data':'eA==','mimeType':'application/pdf'}]}]}}",
            "messages", "Only images");
    bad_req("a tool message without toolCallId",
            "{'input':{'modelOptions':{'model':'m'},"
            "'messages':[{'role':'tool','content':'x'}]}}",
            "messages", "toolCallId");
    bad_req("a tool call without a name",
            "{'input':{'modelOptions':{'model':'m'},'messages':[{"
            "'role':'agent','toolCalls':[{'id':'c','type':'function','function':{}}]}]}}",
            "messages", "function.name");
    bad_req("a bad toolChoice",
            "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':"
            "'user','content':'x'}],'toolChoice':'sometimes'}}",
            "toolChoice", "auto, none, required");
    bad_req("a bad responseFormat",
            "{'input':{'modelOptions':{'model':'m'},'messages':[{'role':"
            "'user','content':'x'}],'responseFormat':{'type':'json_schema'}}}",
            "responseFormat", "jsonSchema");
    bad_req("a content of another type",
            "{'input':{'modelOptions':{'model':'m'},'messages':[{"
            "'role':'user','content':42}]}}",
            "messages", "string or a list");
}

static void answer(const char *name, const char *format, const char *oai_text, const char *want)
{
    json_object *oai = J(oai_text), *out = NULL;
    char err[256] = "";
    hub_err rc = hub_xl_in_response(format, oai, &out, err, sizeof(err));
    TAP_CHECK(rc == HUB_OK && same_json(out, want), name);
    json_object_put(oai);
    json_object_put(out);
}

static void answers(void)
{
    answer("a text answer with usage and model", "aigne-fw",
           "{'id':'x','model':'gpt-4o-mini','choices':[{'index':0,'message':{'role':'assistant',"
           "'content':'echo: hi'},'finish_reason':'stop'}],'usage':{'prompt_tokens':9,"
           "'completion_tokens':2,'total_tokens':11}}",
           "{\"text\":\"echo: hi\",\"usage\":{\"inputTokens\":9,\"outputTokens\":2},"
           "\"model\":\"gpt-4o-mini\"}");
    answer("tool calls come back with object arguments", "aigne-fw",
           "{'model':'m','choices':[{'message':{'role':'assistant','content':null,'tool_calls':[{"
           "'id':'c1','type':'function','function':{'name':'wx','arguments':'{\\'city\\':"
           "\\'Paris\\'}'}},{'type':'function','function':{'name':'t2','arguments':'not json'}}]}}"
           "],'usage':{'prompt_tokens':1,'completion_tokens':1}}",
           "{\"toolCalls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"wx\","
           "\"arguments\":{\"city\":\"Paris\"}}},{\"id\":\"call_1\",\"type\":\"function\","
           "\"function\":{\"name\":\"t2\",\"arguments\":{}}}],\"usage\":{\"inputTokens\":1,"
           "\"outputTokens\":1},\"model\":\"m\"}");
    answer("a JSON answer is returned parsed under json", "aigne-fw-json",
           "{'model':'m','choices':[{'message':{'role':'assistant','content':'{\\'a\\':1}'}}],"
           "'usage':{'prompt_tokens':3,'completion_tokens':4}}",
           "{\"json\":{\"a\":1},\"usage\":{\"inputTokens\":3,\"outputTokens\":4},\"model\":\"m\"}");
    hub_buf b;
    hub_buf_init(&b, 0);
    hub_xl_in_error("aigne-fw", 404, "The model x does not exist.", "invalid_request_error", &b);
    TAP_CHECK(streq(b.data, "{\"error\":{\"message\":\"The model x does not exist.\",\"type\":"
                            "\"invalid_request_error\"}}"),
              "errors: {error: {message, type}} (what the client throws)");
    hub_buf_free(&b);
}

static void feed(hub_xl_in_stream *st, const char *chunk, hub_buf *out)
{
    json_object *c = J(chunk);
    TAP_CHECK(hub_xl_in_stream_chunk(st, c, out) == HUB_OK, "a chunk is accepted");
    json_object_put(c);
}

static void streams(void)
{
    hub_buf out;
    hub_xl_usage u = {.prompt_tokens = 5, .completion_tokens = 3, .total_tokens = 8};
    hub_buf_init(&out, 0);
    hub_xl_in_stream *st = hub_xl_in_stream_new("aigne-fw", "id", "gpt-4o-mini");
    feed(st, "{'model':'gpt-4o-mini-2024','choices':[{'delta':{'role':'assistant'}}]}", &out);
    feed(st, "{'choices':[{'delta':{'content':'echo'}}]}", &out);
    feed(st, "{'choices':[{'delta':{'content':': hi'}}]}", &out);
    feed(st,
         "{'choices':[{'delta':{'tool_calls':[{'index':0,'id':'c1','function':{'name':'wx',"
         "'arguments':'{\\'ci'}}]}}]}",
         &out);
    feed(st,
         "{'choices':[{'delta':{'tool_calls':[{'index':0,'function':{'arguments':"
         "'ty\\':\\'Paris\\'}'}}]},'finish_reason':'tool_calls'}]}",
         &out);
    TAP_CHECK(hub_xl_in_stream_finish(st, &u, &out) == HUB_OK, "the stream finishes");
    TAP_CHECK(streq(out.data, "data: {\"delta\":{\"json\":{\"model\":\"gpt-4o-mini-2024\"}}}\n\n"
                              "data: {\"delta\":{\"text\":{\"text\":\"echo\"}}}\n\n"
                              "data: {\"delta\":{\"text\":{\"text\":\": hi\"}}}\n\n"
                              "data: {\"delta\":{\"json\":{\"toolCalls\":[{\"id\":\"c1\",\"type\":"
                              "\"function\",\"function\":{\"name\":\"wx\",\"arguments\":{\"city\":"
                              "\"Paris\"}}}]}}}\n\n"
                              "data: {\"delta\":{\"json\":{\"usage\":{\"inputTokens\":5,"
                              "\"outputTokens\":3}}}}\n\n"),
              "stream: model, text pieces, the tool calls whole, usage");
    if (out.data != NULL && strstr(out.data, "usage") == NULL)
        printf("# got: %s\n", out.data);
    hub_buf_reset(&out);
    hub_xl_in_stream_error(st, "upstream went away", &out);
    TAP_CHECK(streq(out.data, "event: error\ndata: {\"message\":\"upstream went away\"}\n\n"),
              "stream: an error event the client throws");
    hub_xl_in_stream_free(st);

    hub_buf_reset(&out);
    st = hub_xl_in_stream_new("aigne-fw-json", "id", "m");
    feed(st, "{'model':'m','choices':[{'delta':{'content':'{\\'a\\''}}]}", &out);
    feed(st, "{'choices':[{'delta':{'content':':[1,2]}'}}]}", &out);
    hub_xl_in_stream_finish(st, NULL, &out);
    TAP_CHECK(streq(out.data, "data: {\"delta\":{\"json\":{\"model\":\"m\"}}}\n\n"
                              "data: {\"delta\":{\"json\":{\"json\":{\"a\":[1,2]}}}}\n\n"),
              "stream with a JSON answer: no text events, the object whole at the end");
    hub_xl_in_stream_free(st);
    hub_buf_free(&out);
}

static void images(void)
{
    json_object *in = J("{'input':{'prompt':'a red square','n':2,'outputFileType':'url',"
                        "'modelOptions':{'model':'dall-e-3','size':'1024x1024','quality':'hd',"
                        "'responseFormat':'b64_json','seed':7}},'agent':'$IMAGE_MODEL'}");
    json_object *out = NULL;
    const char *param = NULL;
    char err[256] = "";
    TAP_CHECK(hub_xl_aigne_fw_image_request(in, &out, &param, err, sizeof(err)) == HUB_OK &&
                  same_json(out, "{\"model\":\"dall-e-3\",\"prompt\":\"a red square\",\"n\":2,"
                                 "\"size\":\"1024x1024\",\"quality\":\"hd\","
                                 "\"response_format\":\"b64_json\"}"),
              "image request: prompt, n and the known model options");
    json_object_put(in);
    json_object_put(out);
    out = NULL;
    in = J("{'input':{'prompt':'x','image':[{'type':'url','url':'https://x.test/a.png'}],"
           "'modelOptions':{'model':'m'}}}");
    TAP_CHECK(hub_xl_aigne_fw_image_request(in, &out, &param, err, sizeof(err)) == HUB_EINVAL &&
                  out == NULL && streq(param, "image") && strstr(err, "Editing") != NULL,
              "image editing is refused with a clear message");
    json_object_put(in);
    in = J("{'input':{'modelOptions':{'model':'m'}}}");
    TAP_CHECK(hub_xl_aigne_fw_image_request(in, &out, &param, err, sizeof(err)) == HUB_EINVAL &&
                  streq(param, "prompt"),
              "an image request without a prompt is refused");
    json_object_put(in);
    in = J("{'created':1,'data':[{'url':'http://x.test/0.png'},{'b64_json':'iVBO'}],"
           "'usage':{'input_tokens':5,'output_tokens':200}}");
    out = hub_xl_aigne_fw_image_response(in, "dall-e-3");
    TAP_CHECK(same_json(out, "{\"images\":[{\"type\":\"url\",\"url\":\"http://x.test/0.png\"},"
                             "{\"type\":\"file\",\"data\":\"iVBO\",\"mimeType\":\"image/png\"}],"
                             "\"usage\":{\"inputTokens\":5,\"outputTokens\":200},\"model\":"
                             "\"dall-e-3\"}"),
              "image answer: urls and base64 files, usage, model");
    json_object_put(in);
    json_object_put(out);
}

int main(void)
{
    requests();
    answers();
    streams();
    images();
    return tap_done();
}
