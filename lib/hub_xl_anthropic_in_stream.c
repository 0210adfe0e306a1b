/*
 * hub_xl_anthropic_in_stream.c — OpenAI chat.completion.chunk streams answered to Anthropic
 * Messages clients (POST /v1/messages with stream: true) as Anthropic SSE events, in the order
 * the SDK's MessageStream accumulator requires: message_start, content_block_start/delta/stop
 * with consecutive indices from 0, message_delta, message_stop (or a final error event).
 * Requests and whole answers are in hub_xl_anthropic_in.c.
 */
#include "hub_xl_anthropic_in_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- stream: OpenAI chunks → Anthropic SSE events ---- */

enum { OPEN_NONE, OPEN_TEXT, OPEN_TOOL };

struct hub_xl_anthropic_in_stream {
    char id[128];     /* "msg_…" */
    char model[264];  /* as the client named it (hub model names have ≤ 256 bytes) */
    char finish[32];  /* the last finish_reason seen */
    bool started;     /* message_start sent */
    bool done;        /* message_stop or error sent: nothing follows */
    bool saw_tool;    /* a tool_use block was sent */
    int open;         /* OPEN_*: the block at index next - 1 */
    int next;         /* the index of the next block */
    int tool_index;   /* the OpenAI tool_calls index of the open tool_use block */
    long long in_tok; /* usage reported by chunks, -1 = none */
    long long out_tok;
};

hub_xl_anthropic_in_stream *hub_xl_in_anthropic_stream_new(const char *id, const char *model)
{
    hub_xl_anthropic_in_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    hub_xl_ain_msg_id(st->id, sizeof(st->id), id);
    snprintf(st->model, sizeof(st->model), "%s", model ? model : "");
    st->in_tok = st->out_tok = -1;
    return st;
}

void hub_xl_in_anthropic_stream_free(hub_xl_anthropic_in_stream *st)
{
    free(st);
}

/* Appends the event {type, …} (taken) as "event: TYPE\ndata: JSON\n\n". */
static bool emit(hub_buf *out, json_object *ev)
{
    const char *json = ev ? json_object_to_json_string_ext(ev, JSON_FLAGS) : NULL;
    bool ok = json != NULL &&
              hub_buf_printf(out, "event: %s\ndata: %s\n\n", hub_xl_str(ev, "type"), json);
    json_object_put(ev);
    return ok;
}

static bool start(hub_xl_anthropic_in_stream *st, const char *model, hub_buf *out)
{
    model = st->model[0] != '\0' || model == NULL ? st->model : model;
    st->started =
        st->started ||
        emit(out, hub_xl_ain_obj(
                      "type", S("message_start"), "message",
                      hub_xl_ain_obj(
                          "id", S(st->id), "type", S("message"), "role", S("assistant"), "content",
                          json_object_new_array(), "model", S(model), "stop_reason", JNULL,
                          "stop_sequence", JNULL, "usage",
                          hub_xl_ain_obj("input_tokens", I(0), "output_tokens", I(0), NULL), NULL),
                      NULL));
    return st->started;
}

static bool close_block(hub_xl_anthropic_in_stream *st, hub_buf *out)
{
    bool was_open = st->open != OPEN_NONE;
    st->open = OPEN_NONE;
    return !was_open || emit(out, hub_xl_ain_obj("type", S("content_block_stop"), "index",
                                                 I(st->next - 1), NULL));
}

/* Opens block `block` (taken) of kind `open` at the next index. */
static bool open_block(hub_xl_anthropic_in_stream *st, int open, json_object *block, hub_buf *out)
{
    if (!close_block(st, out)) {
        json_object_put(block);
        return false;
    }
    st->open = open;
    return emit(out, hub_xl_ain_obj("type", S("content_block_start"), "index", I(st->next++),
                                    "content_block", block, NULL));
}

static bool delta(hub_xl_anthropic_in_stream *st, const char *type, const char *key, const char *s,
                  hub_buf *out)
{
    return emit(out,
                hub_xl_ain_obj("type", S("content_block_delta"), "index", I(st->next - 1), "delta",
                               hub_xl_ain_obj("type", S(type), key, S(s), NULL), NULL));
}

static bool text(hub_xl_anthropic_in_stream *st, const char *s, hub_buf *out)
{
    if (s == NULL || s[0] == '\0')
        return true;
    if (st->open != OPEN_TEXT &&
        !open_block(st, OPEN_TEXT, hub_xl_ain_obj("type", S("text"), "text", S(""), NULL), out))
        return false;
    return delta(st, "text_delta", "text", s, out);
}

/* One tool_calls[] entry: a new index (or, without index, an id) opens a tool_use block;
 * arguments → partial_json. A missing id is made from the message id. */
static bool tool(hub_xl_anthropic_in_stream *st, json_object *tc, hub_buf *out)
{
    json_object *fn = hub_xl_get(tc, "function", json_type_object);
    json_object *ix = hub_xl_get(tc, "index", json_type_int);
    const char *id = hub_xl_str(tc, "id");
    const char *name = hub_xl_str(fn, "name");
    const char *args = hub_xl_str(fn, "arguments");
    bool has_id = id != NULL && id[0] != '\0';
    int index = ix ? json_object_get_int(ix) : st->tool_index + (has_id ? 1 : 0);
    char gen[64];
    if (st->open != OPEN_TOOL || index != st->tool_index) {
        snprintf(gen, sizeof(gen), "toolu_%.40s_%d", st->id + 4, st->next);
        id = has_id ? id : gen;
        if (!open_block(st, OPEN_TOOL,
                        hub_xl_ain_obj("type", S("tool_use"), "id", S(id), "name",
                                       S(name ? name : ""), "input", json_object_new_object(),
                                       NULL),
                        out))
            return false;
        st->tool_index = index;
        st->saw_tool = true;
    }
    return args == NULL || args[0] == '\0' ||
           delta(st, "input_json_delta", "partial_json", args, out);
}

hub_err hub_xl_in_anthropic_stream_chunk(hub_xl_anthropic_in_stream *st, json_object *chunk,
                                         hub_buf *out)
{
    json_object *choices = hub_xl_get(chunk, "choices", json_type_array);
    json_object *ch = hub_xl_ain_alen(choices) > 0 ? json_object_array_get_idx(choices, 0) : NULL;
    json_object *d = hub_xl_get(ch, "delta", json_type_object);
    json_object *calls = hub_xl_get(d, "tool_calls", json_type_array);
    json_object *usage = hub_xl_get(chunk, "usage", json_type_object);
    const char *fr = hub_xl_str(ch, "finish_reason");
    hub_xl_anthropic_in_stream saved = *st; /* restored with out when a write fails */
    size_t mark = out->len;
    bool ok;
    if (st->done)
        return HUB_OK;
    if (!json_object_is_type(chunk, json_type_object))
        return HUB_EUPSTREAM;
    st->in_tok = hub_xl_ain_tokens(usage, "prompt_tokens", st->in_tok);
    st->out_tok = hub_xl_ain_tokens(usage, "completion_tokens", st->out_tok);
    if (fr != NULL)
        snprintf(st->finish, sizeof(st->finish), "%s", fr);
    ok = start(st, hub_xl_str(chunk, "model"), out) && text(st, hub_xl_str(d, "content"), out) &&
         text(st, hub_xl_str(d, "refusal"), out);
    for (size_t i = 0; ok && i < hub_xl_ain_alen(calls); i++)
        ok = tool(st, json_object_array_get_idx(calls, i), out);
    if (!ok) {
        hub_xl_ain_rollback(out, mark);
        *st = saved;
    }
    return ok ? HUB_OK : HUB_ENOMEM;
}

hub_err hub_xl_in_anthropic_stream_finish(hub_xl_anthropic_in_stream *st, const hub_xl_usage *u,
                                          hub_buf *out)
{
    long long in = u != NULL && u->prompt_tokens >= 0 ? u->prompt_tokens : st->in_tok;
    long long gen = u != NULL && u->completion_tokens >= 0 ? u->completion_tokens : st->out_tok;
    const char *reason = hub_xl_ain_stop_reason(st->finish, st->saw_tool);
    hub_xl_anthropic_in_stream saved = *st;
    size_t mark = out->len;
    bool ok =
        st->done ||
        (start(st, NULL, out) && close_block(st, out) &&
         emit(out,
              hub_xl_ain_obj("type", S("message_delta"), "delta",
                             hub_xl_ain_obj("stop_reason", S(reason), "stop_sequence", JNULL, NULL),
                             "usage",
                             hub_xl_ain_obj("input_tokens", I(in > 0 ? in : 0), "output_tokens",
                                            I(gen > 0 ? gen : 0), NULL),
                             NULL)) &&
         emit(out, hub_xl_ain_obj("type", S("message_stop"), NULL)));
    if (!ok) {
        hub_xl_ain_rollback(out, mark);
        *st = saved;
    }
    st->done = ok;
    return ok ? HUB_OK : HUB_ENOMEM;
}

void hub_xl_in_anthropic_stream_error(hub_xl_anthropic_in_stream *st, const char *message,
                                      hub_buf *out)
{
    size_t mark = out->len;
    if (st != NULL)
        st->done = true;
    if (!hub_buf_puts(out, "event: error\ndata: ") ||
        !hub_xl_ain_error_body(out, "api_error", message) || !hub_buf_puts(out, "\n\n"))
        hub_xl_ain_rollback(out, mark);
}
