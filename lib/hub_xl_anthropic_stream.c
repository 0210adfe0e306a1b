/*
 * hub_xl_anthropic_stream.c — the hub calling Anthropic, the way back: an Anthropic Messages
 * answer becomes an OpenAI chat.completion, and an Anthropic SSE stream becomes OpenAI
 * chat.completion.chunk objects. The request side is in hub_xl_anthropic_out.c.
 *
 * Answer: text blocks are concatenated into message.content (null when there is no text but
 * there are tool calls), tool_use blocks become tool_calls whose arguments are the compact
 * JSON of their input; thinking and server-tool blocks are not part of the OpenAI shape and
 * are dropped. stop_reason maps to finish_reason; usage counts cache writes and reads as
 * prompt tokens (Anthropic reports them apart from input_tokens).
 *
 * Stream: events are dispatched on their name (or, when the name is missing, on the "type"
 * of the payload). message_start gives the role chunk and the prompt tokens;
 * content_block_start/_delta give text and tool-call chunks — the OpenAI tool-call index is
 * the count of tool_use blocks before this one, kept per Anthropic block index;
 * message_delta gives the finish_reason chunk and the (cumulative) output tokens;
 * message_stop ends the stream; an error event is HUB_EUPSTREAM.
 */
#include "hub_xlate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The highest Anthropic content block index a stream may use (a guard on the map below). */
#define MAX_BLOCKS 4096

struct hub_xl_anthropic_stream {
    char *id;       /* owned */
    char *model;    /* owned */
    bool role_sent; /* the chunk with delta.role went out */
    int tools;      /* tool_use blocks seen so far = the next OpenAI tool-call index */
    int *tool_of;   /* owned: OpenAI tool index per Anthropic block index, -1 = not a tool */
    size_t nblocks; /* entries in tool_of */
};

/* OpenAI finish_reason for an Anthropic stop_reason (NULL or unknown → "stop"). */
static const char *finish_reason(const char *stop)
{
    if (stop == NULL)
        return "stop";
    if (strcmp(stop, "max_tokens") == 0 || strcmp(stop, "model_context_window_exceeded") == 0)
        return "length";
    if (strcmp(stop, "tool_use") == 0)
        return "tool_calls";
    if (strcmp(stop, "refusal") == 0)
        return "content_filter";
    return "stop"; /* end_turn, stop_sequence, pause_turn */
}

/* An integer field, or -1 when absent. */
static long long count_of(json_object *o, const char *key)
{
    json_object *v = hub_xl_get(o, key, json_type_int);
    long long n = v ? json_object_get_int64(v) : -1;
    return n < 0 ? -1 : n;
}

/* Anthropic usage → *u: prompt = input + cache writes + cache reads (when input_tokens is
 * there), completion = output_tokens; fields Anthropic did not send leave *u as it was.
 * *cached gets cache_read_input_tokens (-1 when absent) when cached is not NULL. */
static void read_usage(json_object *usage, hub_xl_usage *u, long long *cached)
{
    long long in = count_of(usage, "input_tokens");
    long long cw = count_of(usage, "cache_creation_input_tokens");
    long long cr = count_of(usage, "cache_read_input_tokens");
    long long out = count_of(usage, "output_tokens");
    if (in >= 0)
        u->prompt_tokens = in + (cw > 0 ? cw : 0) + (cr > 0 ? cr : 0);
    if (out >= 0)
        u->completion_tokens = out;
    if (u->prompt_tokens >= 0 && u->completion_tokens >= 0)
        u->total_tokens = u->prompt_tokens + u->completion_tokens;
    if (cached != NULL)
        *cached = cr;
}

/* A {id, type:"function", function:{name, arguments}} tool call (new); index < 0: none. */
static json_object *tool_call(int index, const char *id, const char *name, const char *args)
{
    json_object *tc = json_object_new_object();
    json_object *fn = json_object_new_object();
    if (index >= 0)
        json_object_object_add(tc, "index", json_object_new_int(index));
    if (id != NULL) {
        json_object_object_add(tc, "id", json_object_new_string(id));
        json_object_object_add(tc, "type", json_object_new_string("function"));
    }
    if (name != NULL)
        json_object_object_add(fn, "name", json_object_new_string(name));
    json_object_object_add(fn, "arguments", json_object_new_string(args));
    json_object_object_add(tc, "function", fn);
    return tc;
}

hub_err hub_xl_anthropic_response(json_object *answer, const char *id, const char *model,
                                  json_object **out, hub_xl_usage *u, char *err, size_t errsz)
{
    hub_err rc = HUB_OK;
    json_object *content = hub_xl_get(answer, "content", json_type_array);
    json_object *calls = NULL;
    json_object *o = NULL;
    long long cached = -1;
    hub_buf text;
    hub_buf_init(&text, 0);
    *out = NULL;
    hub_xl_usage_init(u);
    if (content == NULL) {
        char msg[256];
        char code[64];
        hub_xl_error_message(answer, msg, sizeof(msg), code, sizeof(code));
        snprintf(err, errsz, "The upstream answer is not an Anthropic message%s%s",
                 msg[0] ? ": " : ".", msg);
        rc = HUB_EUPSTREAM;
        goto end;
    }
    calls = json_object_new_array();
    for (size_t k = 0; k < json_object_array_length(content); k++) {
        json_object *b = json_object_array_get_idx(content, k);
        const char *type = hub_xl_str(b, "type");
        if (type == NULL)
            continue;
        if (strcmp(type, "text") == 0 && hub_xl_str(b, "text") != NULL) {
            if (!hub_buf_puts(&text, hub_xl_str(b, "text"))) {
                snprintf(err, errsz, "Out of memory.");
                rc = HUB_ENOMEM;
                goto end;
            }
        } else if (strcmp(type, "tool_use") == 0) {
            json_object *input = hub_xl_get(b, "input", json_type_object);
            const char *args =
                input ? json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE)
                      : "{}";
            const char *tid = hub_xl_str(b, "id");
            const char *name = hub_xl_str(b, "name");
            json_object_array_add(calls, tool_call(-1, tid ? tid : "", name ? name : "", args));
        }
    }
    read_usage(hub_xl_get(answer, "usage", json_type_object), u, &cached);

    size_t ncalls = json_object_array_length(calls);
    json_object *msg = json_object_new_object();
    json_object_object_add(msg, "role", json_object_new_string("assistant"));
    json_object_object_add(
        msg, "content",
        text.len == 0 && ncalls > 0
            ? NULL
            : json_object_new_string_len(text.data ? text.data : "", (int)text.len));
    if (ncalls > 0) {
        json_object_object_add(msg, "tool_calls", calls);
        calls = NULL; /* owned by msg */
    }
    json_object *choice = json_object_new_object();
    json_object_object_add(choice, "index", json_object_new_int(0));
    json_object_object_add(choice, "message", msg);
    json_object_object_add(
        choice, "finish_reason",
        json_object_new_string(finish_reason(hub_xl_str(answer, "stop_reason"))));
    json_object *choices = json_object_new_array();
    json_object_array_add(choices, choice);

    /* unknown counts are reported as 0 to the client; *u keeps them as -1 */
    json_object *usage = json_object_new_object();
    json_object_object_add(usage, "prompt_tokens",
                           json_object_new_int64(u->prompt_tokens > 0 ? u->prompt_tokens : 0));
    json_object_object_add(
        usage, "completion_tokens",
        json_object_new_int64(u->completion_tokens > 0 ? u->completion_tokens : 0));
    json_object_object_add(usage, "total_tokens",
                           json_object_new_int64(u->total_tokens > 0 ? u->total_tokens : 0));
    if (cached >= 0) {
        json_object *details = json_object_new_object();
        json_object_object_add(details, "cached_tokens", json_object_new_int64(cached));
        json_object_object_add(usage, "prompt_tokens_details", details);
    }

    o = hub_xl_completion_new(id, model, choices, usage);
    *out = o; /* ownership passes to the caller */
end:
    json_object_put(calls);
    hub_buf_free(&text);
    return rc;
}

/* ---- streaming ---- */

hub_xl_anthropic_stream *hub_xl_anthropic_stream_new(const char *id, const char *model)
{
    hub_xl_anthropic_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->id = strdup(id ? id : "");
    st->model = strdup(model ? model : "");
    if (st->id == NULL || st->model == NULL) {
        hub_xl_anthropic_stream_free(st);
        return NULL;
    }
    return st;
}

void hub_xl_anthropic_stream_free(hub_xl_anthropic_stream *st)
{
    if (st == NULL)
        return;
    free(st->id);
    free(st->model);
    free(st->tool_of);
    free(st);
}

/* A new chunk appended to chunks; *delta gets its (borrowed) delta. The first chunk of the
 * stream carries role "assistant" whatever the event. */
static json_object *emit(hub_xl_anthropic_stream *st, json_object *chunks, json_object **delta)
{
    json_object *c = hub_xl_chunk_new(st->id, st->model, delta);
    if (!st->role_sent) {
        json_object_object_add(*delta, "role", json_object_new_string("assistant"));
        st->role_sent = true;
    }
    json_object_array_add(chunks, c);
    return c;
}

/* Remembers that Anthropic block `block` is OpenAI tool call `tool` (-1: not a tool). */
static bool map_block(hub_xl_anthropic_stream *st, size_t block, int tool)
{
    if (block >= MAX_BLOCKS)
        return false;
    if (block >= st->nblocks) {
        size_t n = block + 8 < MAX_BLOCKS ? block + 8 : MAX_BLOCKS;
        int *p = realloc(st->tool_of, n * sizeof(*p));
        if (p == NULL)
            return false;
        for (size_t k = st->nblocks; k < n; k++)
            p[k] = -1;
        st->tool_of = p;
        st->nblocks = n;
    }
    st->tool_of[block] = tool;
    return true;
}

/* The OpenAI tool index of Anthropic block `block`, -1 when it is not a tool_use block. */
static int tool_of_block(const hub_xl_anthropic_stream *st, long long block)
{
    if (block < 0 || (size_t)block >= st->nblocks)
        return -1;
    return st->tool_of[block];
}

static hub_err on_block_start(hub_xl_anthropic_stream *st, json_object *ev, json_object *chunks,
                              char *err, size_t errsz)
{
    json_object *cb = hub_xl_get(ev, "content_block", json_type_object);
    json_object *delta = NULL;
    long long index = count_of(ev, "index");
    const char *type = hub_xl_str(cb, "type");
    if (type == NULL)
        return HUB_OK;
    if (strcmp(type, "text") == 0) {
        const char *text = hub_xl_str(cb, "text");
        if (text != NULL && text[0] != '\0') {
            emit(st, chunks, &delta);
            json_object_object_add(delta, "content", json_object_new_string(text));
        }
        return HUB_OK;
    }
    if (strcmp(type, "tool_use") != 0)
        return HUB_OK; /* thinking, server tools, …: not part of the OpenAI shape */
    int k = st->tools++;
    if (index < 0 || !map_block(st, (size_t)index, k)) {
        snprintf(err, errsz, "The upstream stream has a tool_use block with a bad index.");
        return HUB_EUPSTREAM;
    }
    const char *id = hub_xl_str(cb, "id");
    const char *name = hub_xl_str(cb, "name");
    json_object *calls = json_object_new_array();
    json_object_array_add(calls, tool_call(k, id ? id : "", name ? name : "", ""));
    emit(st, chunks, &delta);
    json_object_object_add(delta, "tool_calls", calls);
    return HUB_OK;
}

static void on_block_delta(hub_xl_anthropic_stream *st, json_object *ev, json_object *chunks)
{
    json_object *d = hub_xl_get(ev, "delta", json_type_object);
    json_object *delta = NULL;
    const char *type = hub_xl_str(d, "type");
    if (type == NULL)
        return;
    if (strcmp(type, "text_delta") == 0) {
        const char *text = hub_xl_str(d, "text");
        if (text == NULL || text[0] == '\0')
            return;
        emit(st, chunks, &delta);
        json_object_object_add(delta, "content", json_object_new_string(text));
    } else if (strcmp(type, "input_json_delta") == 0) {
        const char *part = hub_xl_str(d, "partial_json");
        int k = tool_of_block(st, count_of(ev, "index"));
        if (part == NULL || part[0] == '\0' || k < 0)
            return;
        json_object *calls = json_object_new_array();
        json_object_array_add(calls, tool_call(k, NULL, NULL, part));
        emit(st, chunks, &delta);
        json_object_object_add(delta, "tool_calls", calls);
    }
    /* thinking_delta, signature_delta, citations_delta: dropped */
}

static void on_message_delta(hub_xl_anthropic_stream *st, json_object *ev, json_object *chunks,
                             hub_xl_usage *u)
{
    json_object *d = hub_xl_get(ev, "delta", json_type_object);
    json_object *delta = NULL;
    const char *stop = hub_xl_str(d, "stop_reason");
    read_usage(hub_xl_get(ev, "usage", json_type_object), u, NULL);
    json_object *c = emit(st, chunks, &delta);
    json_object *choice = json_object_array_get_idx(hub_xl_get(c, "choices", json_type_array), 0);
    json_object_object_add(choice, "finish_reason", json_object_new_string(finish_reason(stop)));
}

/* Parses the event's payload; NULL (with err set) when it is not a JSON object. */
static json_object *parse_data(const char *data, size_t len, char *err, size_t errsz)
{
    json_object *o = NULL;
    json_tokener *tok = json_tokener_new();
    if (tok == NULL || data == NULL || len == 0 || len > (size_t)0x7fffffff)
        goto end;
    o = json_tokener_parse_ex(tok, data, (int)len);
    if (o != NULL && json_tokener_get_parse_end(tok) < len &&
        strspn(data + json_tokener_get_parse_end(tok), " \t\r\n") <
            len - json_tokener_get_parse_end(tok)) {
        json_object_put(o); /* trailing garbage */
        o = NULL;
    }
    if (o != NULL && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
end:
    if (tok != NULL)
        json_tokener_free(tok);
    if (o == NULL)
        snprintf(err, errsz, "The upstream stream sent an event that is not valid JSON.");
    return o;
}

hub_err hub_xl_anthropic_stream_event(hub_xl_anthropic_stream *st, const char *event,
                                      const char *data, size_t len, json_object *chunks,
                                      hub_xl_usage *u, bool *done, char *err, size_t errsz)
{
    static const char *const known[] = {"message_start",       "content_block_start",
                                        "content_block_delta", "message_delta",
                                        "message_stop",        "error"};
    hub_err rc = HUB_OK;
    json_object *ev = NULL;
    bool handled = event == NULL;
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]) && !handled; k++)
        handled = strcmp(event, known[k]) == 0;
    if (!handled)
        goto end; /* ping, content_block_stop, events added later: nothing to say */
    ev = parse_data(data, len, err, errsz);
    if (ev == NULL) {
        rc = HUB_EUPSTREAM;
        goto end;
    }
    if (event == NULL)
        event = hub_xl_str(ev, "type") ? hub_xl_str(ev, "type") : "";

    if (strcmp(event, "message_start") == 0) {
        json_object *m = hub_xl_get(ev, "message", json_type_object);
        json_object *usage = hub_xl_get(m, "usage", json_type_object);
        json_object *delta = NULL;
        hub_xl_usage mu;
        hub_xl_usage_init(&mu);
        read_usage(usage, &mu, NULL); /* only the prompt: output_tokens here is a placeholder */
        if (mu.prompt_tokens >= 0) {
            u->prompt_tokens = mu.prompt_tokens;
            if (u->completion_tokens >= 0)
                u->total_tokens = u->prompt_tokens + u->completion_tokens;
        }
        emit(st, chunks, &delta);
        json_object_object_add(delta, "content", json_object_new_string(""));
    } else if (strcmp(event, "content_block_start") == 0) {
        rc = on_block_start(st, ev, chunks, err, errsz);
    } else if (strcmp(event, "content_block_delta") == 0) {
        on_block_delta(st, ev, chunks);
    } else if (strcmp(event, "message_delta") == 0) {
        on_message_delta(st, ev, chunks, u);
    } else if (strcmp(event, "message_stop") == 0) {
        *done = true;
    } else if (strcmp(event, "error") == 0) {
        const char *m = hub_xl_str(hub_xl_get(ev, "error", json_type_object), "message");
        snprintf(err, errsz, "%s", m ? m : "The upstream stream reported an error.");
        rc = HUB_EUPSTREAM;
    }
end:
    json_object_put(ev);
    return rc;
}
