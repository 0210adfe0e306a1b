/*
 * hub_xl_anthropic_out.c — the hub calling Anthropic: an OpenAI chat request becomes a new
 * Anthropic Messages body (POST /v1/messages); the client's request is never touched. Answers
 * and streams coming back are translated in hub_xl_anthropic_stream.c.
 *   - system/developer messages, wherever they are → the top-level "system", joined by "\n\n";
 *   - user/assistant/tool messages → alternating turns of content blocks: consecutive messages
 *     of one role are merged, tool results are tool_result blocks at the head of a user turn
 *     (Anthropic requires both), tool_calls are tool_use blocks after the assistant's text;
 *   - a conversation not starting with a user turn gets a "(continue)" user turn first:
 *     Anthropic's API takes an assistant first, but Bedrock, Vertex and older endpoints refuse;
 *   - empty text and messages left without blocks are dropped (Anthropic refuses them), and so
 *     is trailing whitespace at the end of a final assistant (prefill) text;
 *   - what Anthropic cannot serve faithfully (n > 1, response_format json_schema, other part
 *     types) is a clear HUB_EINVAL; options with no Anthropic meaning (seed, logprobs,
 *     penalties, stream_options, …) are left out.
 */
#include "hub_xlate_int.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CONTINUE_TURN                                                                              \
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"(continue)\"}]}"

/* The turn being assembled: consecutive OpenAI messages of one role go into it. */
typedef struct {
    const char *role;     /* "user" | "assistant" (static), NULL before the first turn */
    json_object *results; /* owned: tool_result blocks; they come first in a user turn */
    json_object *blocks;  /* owned: every other block */
} turn;

/* Writes the message and returns HUB_EINVAL. */
static hub_err __attribute__((format(printf, 3, 4)))
invalid(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return HUB_EINVAL;
}

static hub_err nomem(char *err, size_t errsz)
{
    snprintf(err, errsz, "Out of memory.");
    return HUB_ENOMEM;
}

/* A new {type:"text", text} block. */
static json_object *text_block(const char *text, size_t len)
{
    json_object *b = json_object_new_object();
    json_object_object_add(b, "type", json_object_new_string("text"));
    json_object_object_add(b, "text", json_object_new_string_len(text, (int)len));
    return b;
}

/* Parses text that must be exactly one JSON object (new; blank text: {}), or NULL. */
static json_object *parse_object(const char *s)
{
    size_t len = strlen(s);
    if (strspn(s, " \t\r\n") == len)
        return json_object_new_object(); /* no arguments: an empty input */
    json_tokener *tok = len < INT_MAX ? json_tokener_new() : NULL;
    json_object *o = tok ? json_tokener_parse_ex(tok, s, (int)len) : NULL;
    size_t end = tok ? json_tokener_get_parse_end(tok) : 0;
    if (o != NULL &&
        (!json_object_is_type(o, json_type_object) || end + strspn(s + end, " \t\r\n") != len)) {
        json_object_put(o); /* not an object, or something after it */
        o = NULL;
    }
    if (tok != NULL)
        json_tokener_free(tok);
    return o;
}

/* A deep copy of a borrowed value (new), or NULL on failure. */
static json_object *copy_of(json_object *v)
{
    json_object *c = NULL;
    if (json_object_deep_copy(v, &c, NULL) != 0)
        return NULL;
    return c;
}

/* The Anthropic media type for a data URL's media type, or NULL when Anthropic has none. */
static const char *image_media_type(const char *s, size_t n)
{
    static const char *const types[] = {"image/jpeg", "image/png", "image/gif", "image/webp"};
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        if (strlen(types[k]) == n && strncasecmp(s, types[k], n) == 0)
            return types[k];
    }
    if (n == 9 && strncasecmp(s, "image/jpg", n) == 0)
        return "image/jpeg";
    return NULL;
}

/* An image_url part of messages[i] → an image block (new) in *out. */
static hub_err image_block(json_object *part, size_t i, json_object **out, char *err, size_t errsz)
{
    json_object *iu = hub_xl_get(part, "image_url", json_type_object);
    const char *url = iu ? hub_xl_str(iu, "url") : hub_xl_str(part, "image_url");
    const char *semi = NULL;
    const char *mt = NULL;
    bool data = url != NULL && strncmp(url, "data:", 5) == 0;
    *out = NULL;
    if (data) {
        semi = strchr(url + 5, ';');
        if (semi == NULL || strncmp(semi, ";base64,", 8) != 0 || semi[8] == '\0')
            return invalid(err, errsz,
                           "messages[%zu]: image data URLs must look like "
                           "data:image/png;base64,<data>.",
                           i);
        mt = image_media_type(url + 5, (size_t)(semi - url - 5));
        if (mt == NULL)
            return invalid(err, errsz,
                           "messages[%zu]: image type not supported by Anthropic models (use "
                           "image/jpeg, image/png, image/gif or image/webp).",
                           i);
    } else if (url == NULL ||
               (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)) {
        return invalid(err, errsz,
                       "messages[%zu]: image_url.url must be an http(s) URL or a base64 data URL.",
                       i);
    }
    json_object *src = json_object_new_object();
    json_object_object_add(src, "type", json_object_new_string(data ? "base64" : "url"));
    if (data) {
        json_object_object_add(src, "media_type", json_object_new_string(mt));
        json_object_object_add(src, "data", json_object_new_string(semi + 8));
    } else {
        json_object_object_add(src, "url", json_object_new_string(url));
    }
    *out = json_object_new_object();
    json_object_object_add(*out, "type", json_object_new_string("image"));
    json_object_object_add(*out, "source", src);
    return HUB_OK;
}

/* The content of messages[i] (string, array of parts or null) → text and image blocks appended
 * to blocks. Images only where Anthropic takes them (user turns). */
static hub_err content_blocks(json_object *content, size_t i, bool images, json_object *blocks,
                              char *err, size_t errsz)
{
    if (content == NULL || json_object_is_type(content, json_type_null))
        return HUB_OK;
    if (json_object_is_type(content, json_type_string)) {
        if (json_object_get_string_len(content) > 0)
            json_object_array_add(blocks, text_block(json_object_get_string(content),
                                                     (size_t)json_object_get_string_len(content)));
        return HUB_OK;
    }
    if (!json_object_is_type(content, json_type_array))
        return invalid(err, errsz, "messages[%zu].content must be a string or an array.", i);
    size_t n = json_object_array_length(content);
    for (size_t k = 0; k < n; k++) {
        json_object *part = json_object_array_get_idx(content, k);
        const char *type = hub_xl_str(part, "type") ? hub_xl_str(part, "type") : "(none)";
        const char *text = hub_xl_str(part, "text");
        if (strcmp(type, "refusal") == 0)
            text = hub_xl_str(part, "refusal"); /* an earlier answer's refusal: its text */
        if (strcmp(type, "text") == 0 || strcmp(type, "refusal") == 0) {
            if (text != NULL && text[0] != '\0')
                json_object_array_add(blocks, text_block(text, strlen(text)));
        } else if (strcmp(type, "image_url") == 0 && images) {
            json_object *img = NULL;
            hub_err rc = image_block(part, i, &img, err, errsz);
            if (rc != HUB_OK)
                return rc;
            json_object_array_add(blocks, img);
        } else {
            return invalid(err, errsz,
                           "messages[%zu].content[%zu]: content part type '%s' is not supported "
                           "by Anthropic models in this message.",
                           i, k, type);
        }
    }
    return HUB_OK;
}

/* The tool_calls of assistant messages[i] → tool_use blocks appended to blocks. */
static hub_err tool_use_blocks(json_object *calls, size_t i, json_object *blocks, char *err,
                               size_t errsz)
{
    size_t n = json_object_array_length(calls);
    for (size_t k = 0; k < n; k++) {
        json_object *call = json_object_array_get_idx(calls, k);
        json_object *fn = hub_xl_get(call, "function", json_type_object);
        const char *id = hub_xl_str(call, "id");
        const char *type = hub_xl_str(call, "type");
        const char *name = hub_xl_str(fn, "name");
        const char *args = hub_xl_str(fn, "arguments");
        if (id == NULL || name == NULL || (type != NULL && strcmp(type, "function") != 0))
            return invalid(err, errsz,
                           "messages[%zu].tool_calls[%zu] must be a function call with an id "
                           "and a function name.",
                           i, k);
        json_object *input = args ? parse_object(args) : json_object_new_object();
        if (input == NULL)
            return invalid(err, errsz,
                           "messages[%zu].tool_calls[%zu].function.arguments must be a JSON "
                           "object.",
                           i, k);
        json_object *b = json_object_new_object();
        json_object_object_add(b, "type", json_object_new_string("tool_use"));
        json_object_object_add(b, "id", json_object_new_string(id));
        json_object_object_add(b, "name", json_object_new_string(name));
        json_object_object_add(b, "input", input);
        json_object_array_add(blocks, b);
    }
    return HUB_OK;
}

/* Tool message messages[i] → a tool_result block appended to results. */
static hub_err tool_result_block(json_object *msg, size_t i, json_object *results, char *err,
                                 size_t errsz)
{
    const char *id = hub_xl_str(msg, "tool_call_id");
    json_object *content = NULL;
    hub_buf text;
    hub_buf_init(&text, 0);
    if (id == NULL)
        return invalid(err, errsz, "messages[%zu]: a tool message needs a tool_call_id.", i);
    json_object_object_get_ex(msg, "content", &content);
    if (!hub_xl_content_text(content, &text)) {
        hub_buf_free(&text);
        return invalid(err, errsz, "messages[%zu].content must be a string or text parts.", i);
    }
    json_object *b = json_object_new_object();
    json_object_object_add(b, "type", json_object_new_string("tool_result"));
    json_object_object_add(b, "tool_use_id", json_object_new_string(id));
    if (text.len > 0) /* an empty content is left out rather than sent as empty text */
        json_object_object_add(b, "content", json_object_new_string_len(text.data, (int)text.len));
    json_object_array_add(results, b);
    hub_buf_free(&text);
    return HUB_OK;
}

/* Moves every element of from (emptied) to the end of to. */
static void move_all(json_object *from, json_object *to)
{
    size_t n = json_object_array_length(from);
    for (size_t k = 0; k < n; k++)
        json_object_array_add(to, json_object_get(json_object_array_get_idx(from, k)));
    json_object_array_del_idx(from, 0, n);
}

/* Appends the open turn (if it has blocks) to messages as {role, content}; the turn is emptied.
 * A first turn that is not a user turn gets a "(continue)" user turn before it. */
static void turn_flush(turn *t, json_object *messages)
{
    if (t->role == NULL ||
        json_object_array_length(t->results) + json_object_array_length(t->blocks) == 0)
        return;
    if (json_object_array_length(messages) == 0 && strcmp(t->role, "user") != 0)
        json_object_array_add(messages, json_tokener_parse(CONTINUE_TURN));
    json_object *m = json_object_new_object();
    json_object *content = json_object_new_array();
    move_all(t->results, content);
    move_all(t->blocks, content);
    json_object_object_add(m, "role", json_object_new_string(t->role));
    json_object_object_add(m, "content", content);
    json_object_array_add(messages, m);
}

/* Trims trailing whitespace off the last text block of a final assistant turn (Anthropic
 * refuses it), dropping the block — and the turn — when nothing is left. */
static void trim_final_assistant(json_object *messages)
{
    size_t n = json_object_array_length(messages);
    json_object *last = n ? json_object_array_get_idx(messages, n - 1) : NULL;
    const char *role = hub_xl_str(last, "role");
    json_object *content = hub_xl_get(last, "content", json_type_array);
    if (role == NULL || strcmp(role, "assistant") != 0 || content == NULL)
        return;
    size_t nb = json_object_array_length(content);
    json_object *b = json_object_array_get_idx(content, nb - 1);
    const char *type = hub_xl_str(b, "type");
    const char *text = hub_xl_str(b, "text");
    if (type == NULL || strcmp(type, "text") != 0 || text == NULL)
        return;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len == strlen(text))
        return;
    if (len > 0) {
        json_object_object_add(b, "text", json_object_new_string_len(text, (int)len));
        return;
    }
    json_object_array_del_idx(content, nb - 1, 1);
    if (nb == 1)
        json_object_array_del_idx(messages, n - 1, 1);
}

/* One non-system message → its blocks in res (tool results) and blk, *role its turn's role. */
static hub_err message_blocks(json_object *msg, size_t i, const char *role, const char **trole,
                              json_object *res, json_object *blk, char *err, size_t errsz)
{
    json_object *content = NULL;
    json_object_object_get_ex(msg, "content", &content);
    if (strcmp(role, "user") == 0) {
        *trole = "user";
        return content_blocks(content, i, true, blk, err, errsz);
    }
    if (strcmp(role, "tool") == 0) {
        *trole = "user";
        return tool_result_block(msg, i, res, err, errsz);
    }
    if (strcmp(role, "assistant") == 0) {
        json_object *calls = hub_xl_get(msg, "tool_calls", json_type_array);
        *trole = "assistant";
        hub_err rc = content_blocks(content, i, false, blk, err, errsz);
        if (rc == HUB_OK && calls != NULL)
            rc = tool_use_blocks(calls, i, blk, err, errsz);
        return rc;
    }
    return invalid(err, errsz, "messages[%zu]: role '%s' is not supported by Anthropic models.", i,
                   role);
}

/* The text of system/developer messages[i] appended to sys, after a blank line when sys
 * already holds some; empty text adds nothing. */
static hub_err system_text(json_object *msg, size_t i, hub_buf *sys, char *err, size_t errsz)
{
    hub_err rc = HUB_OK;
    json_object *content = NULL;
    hub_buf text;
    hub_buf_init(&text, 0);
    json_object_object_get_ex(msg, "content", &content);
    if (!hub_xl_content_text(content, &text)) {
        rc = invalid(err, errsz, "messages[%zu].content must be a string or text parts.", i);
        goto end;
    }
    if (text.len == 0)
        goto end;
    if ((sys->len > 0 && !hub_buf_puts(sys, "\n\n")) || !hub_buf_append(sys, text.data, text.len))
        rc = nomem(err, errsz);
end:
    hub_buf_free(&text);
    return rc;
}

/* req.messages → body.system and body.messages. */
static hub_err add_messages(json_object *req, json_object *body, char *err, size_t errsz)
{
    hub_err rc = HUB_OK;
    json_object *msgs = hub_xl_get(req, "messages", json_type_array);
    json_object *out = json_object_new_array();
    json_object *res = json_object_new_array();
    json_object *blk = json_object_new_array();
    turn t = {NULL, json_object_new_array(), json_object_new_array()};
    hub_buf sys;
    hub_buf_init(&sys, 0);
    size_t n = msgs ? json_object_array_length(msgs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *msg = json_object_array_get_idx(msgs, i);
        const char *role = hub_xl_str(msg, "role");
        const char *trole = NULL;
        if (role == NULL) {
            rc = invalid(err, errsz, "messages[%zu] needs a role.", i);
            goto end;
        }
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            rc = system_text(msg, i, &sys, err, errsz);
            if (rc != HUB_OK)
                goto end;
            continue;
        }
        rc = message_blocks(msg, i, role, &trole, res, blk, err, errsz);
        if (rc != HUB_OK)
            goto end;
        if (json_object_array_length(res) + json_object_array_length(blk) == 0)
            continue; /* nothing left: the message does not break the alternation */
        if (t.role == NULL || strcmp(t.role, trole) != 0) {
            turn_flush(&t, out);
            t.role = trole;
        }
        move_all(res, t.results);
        move_all(blk, t.blocks);
    }
    turn_flush(&t, out);
    trim_final_assistant(out);
    if (json_object_array_length(out) == 0) {
        rc = invalid(err, errsz,
                     "messages must hold at least one non-empty user or assistant message for "
                     "Anthropic models.");
        goto end;
    }
    if (sys.len > 0)
        json_object_object_add(body, "system", json_object_new_string_len(sys.data, (int)sys.len));
    json_object_object_add(body, "messages", out);
    out = NULL; /* now owned by body */
end:
    json_object_put(out);
    json_object_put(res);
    json_object_put(blk);
    json_object_put(t.results);
    json_object_put(t.blocks);
    hub_buf_free(&sys);
    return rc;
}

static bool is_number(json_object *v)
{
    return v != NULL &&
           (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

/* max_tokens, temperature, top_p, stop, user. */
static hub_err add_sampling(json_object *req, int default_max_tokens, json_object *body, char *err,
                            size_t errsz)
{
    json_object *mt = hub_xl_get(req, "max_tokens", json_type_int);
    json_object *temp = NULL;
    json_object *top_p = NULL;
    json_object *stop = NULL;
    const char *user = hub_xl_str(req, "user");
    long long max_tokens = default_max_tokens;
    if (mt == NULL)
        mt = hub_xl_get(req, "max_completion_tokens", json_type_int);
    if (mt != NULL)
        max_tokens = json_object_get_int64(mt);
    if (max_tokens < 1)
        return invalid(err, errsz, "max_tokens must be at least 1.");
    json_object_object_add(body, "max_tokens", json_object_new_int64(max_tokens));

    json_object_object_get_ex(req, "temperature", &temp);
    if (is_number(temp)) {
        double v = json_object_get_double(temp);
        /* Anthropic's range is [0, 1]; the client's own number is kept when it fits */
        if (v < 0.0)
            json_object_object_add(body, "temperature", json_object_new_double(0.0));
        else if (v > 1.0)
            json_object_object_add(body, "temperature", json_object_new_double(1.0));
        else
            json_object_object_add(body, "temperature", copy_of(temp));
    }
    json_object_object_get_ex(req, "top_p", &top_p);
    if (is_number(top_p))
        json_object_object_add(body, "top_p", copy_of(top_p));

    json_object_object_get_ex(req, "stop", &stop);
    bool one = stop != NULL && json_object_is_type(stop, json_type_string);
    size_t ns = one                                          ? 1
                : json_object_is_type(stop, json_type_array) ? json_object_array_length(stop)
                                                             : 0;
    json_object *seqs = json_object_new_array();
    for (size_t k = 0; k < ns; k++) {
        json_object *s = one ? stop : json_object_array_get_idx(stop, k);
        if (s == NULL || !json_object_is_type(s, json_type_string)) {
            json_object_put(seqs);
            return invalid(err, errsz, "stop must be a string or an array of strings.");
        }
        if (json_object_get_string_len(s) > 0) /* an empty one would never match */
            json_object_array_add(seqs, json_object_new_string(json_object_get_string(s)));
    }
    if (json_object_array_length(seqs) > 0)
        json_object_object_add(body, "stop_sequences", seqs);
    else
        json_object_put(seqs);

    if (user != NULL && user[0] != '\0') {
        json_object *meta = json_object_new_object();
        json_object_object_add(meta, "user_id", json_object_new_string(user));
        json_object_object_add(body, "metadata", meta);
    }
    return HUB_OK;
}

/* tools, tool_choice and parallel_tool_calls. */
static hub_err add_tools(json_object *req, json_object *body, char *err, size_t errsz)
{
    json_object *tools = hub_xl_get(req, "tools", json_type_array);
    json_object *choice = NULL;
    json_object *par = hub_xl_get(req, "parallel_tool_calls", json_type_boolean);
    json_object *out = NULL;
    json_object *tc = NULL;
    if (tools == NULL || json_object_array_length(tools) == 0)
        return HUB_OK; /* without tools, tool_choice has no meaning for Anthropic */
    out = json_object_new_array();
    json_object_object_add(body, "tools", out);
    for (size_t k = 0; k < json_object_array_length(tools); k++) {
        json_object *tool = json_object_array_get_idx(tools, k);
        json_object *fn = hub_xl_get(tool, "function", json_type_object);
        const char *type = hub_xl_str(tool, "type");
        const char *name = hub_xl_str(fn, "name");
        const char *desc = hub_xl_str(fn, "description");
        json_object *params = hub_xl_get(fn, "parameters", json_type_object);
        if (type == NULL || strcmp(type, "function") != 0 || name == NULL)
            return invalid(err, errsz,
                           "tools[%zu]: only function tools with a name are supported by "
                           "Anthropic models.",
                           k);
        json_object *t = json_object_new_object();
        json_object_object_add(t, "name", json_object_new_string(name));
        if (desc != NULL)
            json_object_object_add(t, "description", json_object_new_string(desc));
        json_object_object_add(t, "input_schema",
                               params ? copy_of(params)
                                      : json_tokener_parse("{\"type\":\"object\"}"));
        json_object_array_add(out, t);
    }

    json_object_object_get_ex(req, "tool_choice", &choice);
    const char *mode = NULL;
    const char *name = NULL;
    if (choice != NULL && json_object_is_type(choice, json_type_string)) {
        const char *s = json_object_get_string(choice);
        mode = strcmp(s, "auto") == 0       ? "auto"
               : strcmp(s, "none") == 0     ? "none"
               : strcmp(s, "required") == 0 ? "any"
                                            : NULL;
        if (mode == NULL)
            return invalid(err, errsz, "tool_choice '%s' is not supported.", s);
    } else if (choice != NULL && json_object_is_type(choice, json_type_object)) {
        name = hub_xl_str(hub_xl_get(choice, "function", json_type_object), "name");
        if (name == NULL)
            return invalid(err, errsz,
                           "tool_choice must name a function: "
                           "{\"type\":\"function\",\"function\":{\"name\":…}}.");
        mode = "tool";
    }
    if (par != NULL && !json_object_get_boolean(par) && mode == NULL)
        mode = "auto"; /* the switch lives inside tool_choice */
    if (mode == NULL)
        return HUB_OK;
    tc = json_object_new_object();
    json_object_object_add(tc, "type", json_object_new_string(mode));
    if (name != NULL)
        json_object_object_add(tc, "name", json_object_new_string(name));
    if (par != NULL && !json_object_get_boolean(par) && strcmp(mode, "none") != 0)
        json_object_object_add(tc, "disable_parallel_tool_use", json_object_new_boolean(1));
    json_object_object_add(body, "tool_choice", tc);
    return HUB_OK;
}

/* Options Anthropic cannot honour: a clear refusal rather than a different answer. */
static hub_err check_unsupported(json_object *req, char *err, size_t errsz)
{
    json_object *n = hub_xl_get(req, "n", json_type_int);
    json_object *rf = hub_xl_get(req, "response_format", json_type_object);
    const char *rft = hub_xl_str(rf, "type");
    if (n != NULL && json_object_get_int64(n) > 1)
        return invalid(err, errsz, "n > 1 is not supported by Anthropic models.");
    /* json_object is best effort: OpenAI already requires the prompt to ask for JSON, which
     * Anthropic models follow; a schema, though, cannot be guaranteed. */
    if (rft != NULL && strcmp(rft, "text") != 0 && strcmp(rft, "json_object") != 0)
        return invalid(err, errsz,
                       "response_format '%s' is not supported by Anthropic models; describe the "
                       "expected JSON in the prompt or use a tool instead.",
                       rft);
    return HUB_OK;
}

hub_err hub_xl_anthropic_request(json_object *req, const char *upstream_model, bool stream,
                                 int default_max_tokens, hub_buf *path, json_object **body,
                                 char *err, size_t errsz)
{
    hub_err rc = HUB_OK;
    json_object *b = json_object_new_object();
    *body = NULL;
    if (b == NULL) {
        rc = nomem(err, errsz);
        goto end;
    }
    rc = check_unsupported(req, err, errsz);
    if (rc != HUB_OK)
        goto end;
    json_object_object_add(b, "model",
                           json_object_new_string(upstream_model ? upstream_model : ""));
    rc = add_messages(req, b, err, errsz);
    if (rc != HUB_OK)
        goto end;
    rc = add_sampling(req, default_max_tokens, b, err, errsz);
    if (rc != HUB_OK)
        goto end;
    rc = add_tools(req, b, err, errsz);
    if (rc != HUB_OK)
        goto end;
    if (stream)
        json_object_object_add(b, "stream", json_object_new_boolean(1));
    hub_buf_reset(path);
    if (!hub_buf_puts(path, "/v1/messages")) {
        rc = nomem(err, errsz);
        goto end;
    }
    *body = b; /* ownership passes to the caller */
    b = NULL;
end:
    json_object_put(b);
    return rc;
}
