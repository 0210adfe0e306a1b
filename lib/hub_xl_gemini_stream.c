/*
 * hub_xl_gemini_stream.c — Google Gemini answers → OpenAI objects: a complete
 * GenerateContentResponse → chat.completion, a streamGenerateContent?alt=sse stream (one
 * GenerateContentResponse per "data:" event) → chat.completion.chunk objects, and a
 * batchEmbedContents answer → an embeddings list. Requests are built in hub_xl_gemini.c.
 *
 * Complete and streamed answers share the reading of a candidate: text parts are the message
 * text ("thought" parts are left out), functionCall parts become tool calls, finishReason maps
 * to OpenAI's finish_reason, usageMetadata to the usage numbers (thinking tokens count as
 * completion tokens).
 *
 * Tool-call ids are minted here: "call_" + 16 hex digits of a hash of the answer's id + "_" +
 * the running number of the call. When Gemini put a thoughtSignature on the functionCall part,
 * SIG_MARK and the signature in base64url follow; hub_xl_gemini.c puts it back on the part
 * when the client replays the call (Gemini 3 refuses function calls without it).
 *
 * json-c ownership: inputs are borrowed and never modified; every output is new.
 */
#include "hub_json.h"
#include "hub_xlate_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_MARK  "__ts_" /* same literal in hub_xl_gemini.c */
#define MAX_CANDS 64      /* candidate indexes tracked by a stream (bit sets below) */

struct hub_xl_gemini_stream {
    char *id;    /* owned */
    char *model; /* owned */
    bool started;
    uint64_t seen;     /* bit i: candidate i got its role chunk */
    uint64_t finished; /* bit i: candidate i got its finish_reason */
    uint64_t called;   /* bit i: candidate i made a function call */
    int ncalls;        /* tool calls so far (running index and id number) */
};

/* A deep copy of o (new), or NULL. Also used before printing: json-c caches the printed text
 * in the object, and inputs are borrowed. */
static json_object *copy_json(json_object *o)
{
    json_object *c = NULL;
    if (o == NULL || json_object_deep_copy(o, &c, NULL) != 0)
        return NULL;
    return c;
}

/* OpenAI finish_reason for a Gemini finishReason. */
static const char *finish_reason(const char *fr, bool has_calls)
{
    static const char *const filtered[] = {"SAFETY",
                                           "RECITATION",
                                           "BLOCKLIST",
                                           "PROHIBITED_CONTENT",
                                           "SPII",
                                           "IMAGE_SAFETY",
                                           "IMAGE_PROHIBITED_CONTENT",
                                           "IMAGE_RECITATION"};
    if (fr == NULL || strcmp(fr, "STOP") == 0)
        return has_calls ? "tool_calls" : "stop";
    if (strcmp(fr, "MAX_TOKENS") == 0)
        return "length";
    for (size_t k = 0; k < sizeof(filtered) / sizeof(filtered[0]); k++) {
        if (strcmp(fr, filtered[k]) == 0)
            return "content_filter";
    }
    return "stop";
}

static long long int_field(json_object *o, const char *key)
{
    json_object *v = hub_xl_get(o, key, json_type_int);
    return v ? (long long)json_object_get_int64(v) : -1;
}

/* usageMetadata → *u; returns whether it held counts. Missing candidate/thought counts are 0
 * when promptTokenCount is present; totalTokenCount wins over the sum. */
static bool read_usage(json_object *um, hub_xl_usage *u)
{
    long long p = int_field(um, "promptTokenCount");
    long long c = int_field(um, "candidatesTokenCount");
    long long t = int_field(um, "thoughtsTokenCount");
    long long tot = int_field(um, "totalTokenCount");
    if (p < 0 && c < 0 && t < 0 && tot < 0)
        return false;
    u->prompt_tokens = p;
    u->completion_tokens = (p >= 0 || c >= 0 || t >= 0) ? (c > 0 ? c : 0) + (t > 0 ? t : 0) : -1;
    u->total_tokens = tot >= 0                                ? tot
                      : (p >= 0 && u->completion_tokens >= 0) ? p + u->completion_tokens
                                                              : -1;
    return true;
}

/* The OpenAI usage object (new), or NULL when a count is unknown. */
static json_object *usage_object(json_object *um, const hub_xl_usage *u)
{
    if (u->prompt_tokens < 0 || u->completion_tokens < 0 || u->total_tokens < 0)
        return NULL;
    json_object *o = json_object_new_object();
    long long cached = int_field(um, "cachedContentTokenCount");
    long long thoughts = int_field(um, "thoughtsTokenCount");
    json_object_object_add(o, "prompt_tokens", json_object_new_int64(u->prompt_tokens));
    json_object_object_add(o, "completion_tokens", json_object_new_int64(u->completion_tokens));
    json_object_object_add(o, "total_tokens", json_object_new_int64(u->total_tokens));
    if (cached >= 0) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "cached_tokens", json_object_new_int64(cached));
        json_object_object_add(o, "prompt_tokens_details", d);
    }
    if (thoughts >= 0) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "reasoning_tokens", json_object_new_int64(thoughts));
        json_object_object_add(o, "completion_tokens_details", d);
    }
    return o;
}

/* The tool-call id for call number n of answer `id` (new string; see the top comment). */
static json_object *call_id(const char *id, int n, const char *sig)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)(id ? id : ""); *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    hub_buf b;
    hub_buf_init(&b, 0);
    bool ok = hub_buf_printf(&b, "call_%016llx_%d", (unsigned long long)h, n);
    if (sig != NULL && sig[0] != '\0' &&
        strspn(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_") ==
            strlen(sig)) {
        ok = ok && hub_buf_puts(&b, SIG_MARK);
        for (const char *p = sig; ok && *p != '\0' && *p != '='; p++) {
            char c = *p == '+' ? '-' : *p == '/' ? '_' : *p;
            ok = hub_buf_append(&b, &c, 1);
        }
    }
    json_object *s = ok ? json_object_new_string_len(b.data, (int)b.len) : NULL;
    hub_buf_free(&b);
    return s;
}

/* An OpenAI tool call (new) for a Gemini part holding a functionCall. */
static json_object *tool_call(const char *id, int n, json_object *part, json_object *fc)
{
    json_object *args = copy_json(hub_xl_get(fc, "args", json_type_object));
    const char *name = hub_xl_str(fc, "name");
    json_object *tc = json_object_new_object();
    json_object *fn = json_object_new_object();
    if (args == NULL)
        args = json_object_new_object();
    json_object_object_add(fn, "name", json_object_new_string(name ? name : ""));
    json_object_object_add(fn, "arguments",
                           json_object_new_string(json_object_to_json_string_ext(
                               args, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
    json_object_put(args);
    json_object_object_add(tc, "id", call_id(id, n, hub_xl_str(part, "thoughtSignature")));
    json_object_object_add(tc, "type", json_object_new_string("function"));
    json_object_object_add(tc, "function", fn);
    return tc;
}

/* Whether a part is model "thinking" that is not part of the answer. */
static bool is_thought(json_object *part)
{
    json_object *t = hub_xl_get(part, "thought", json_type_boolean);
    return t != NULL && json_object_get_boolean(t);
}

/* The candidate's index ("index", else its position). */
static long long cand_index(json_object *cand, size_t pos)
{
    json_object *v = hub_xl_get(cand, "index", json_type_int);
    return v ? (long long)json_object_get_int64(v) : (long long)pos;
}

/* ---- complete answers ---- */

/* One candidate → an OpenAI choice (new). *ncalls counts tool calls across the answer. */
static json_object *choice_of(json_object *cand, size_t pos, const char *id, int *ncalls)
{
    json_object *parts =
        hub_xl_get(hub_xl_get(cand, "content", json_type_object), "parts", json_type_array);
    size_t n = parts ? json_object_array_length(parts) : 0;
    json_object *calls = json_object_new_array();
    json_object *msg = json_object_new_object();
    json_object *choice = json_object_new_object();
    hub_buf text;
    hub_buf_init(&text, 0);
    for (size_t k = 0; k < n; k++) {
        json_object *part = json_object_array_get_idx(parts, k);
        json_object *fc = hub_xl_get(part, "functionCall", json_type_object);
        const char *t = hub_xl_str(part, "text");
        if (is_thought(part))
            continue;
        if (fc != NULL)
            json_object_array_add(calls, tool_call(id, (*ncalls)++, part, fc));
        else if (t != NULL)
            hub_buf_puts(&text, t);
    }
    bool has_calls = json_object_array_length(calls) > 0;
    json_object_object_add(msg, "role", json_object_new_string("assistant"));
    json_object_object_add(msg, "content",
                           text.len > 0 ? json_object_new_string_len(text.data, (int)text.len)
                           : has_calls  ? NULL
                                        : json_object_new_string(""));
    if (has_calls)
        json_object_object_add(msg, "tool_calls", calls);
    else
        json_object_put(calls);
    json_object_object_add(choice, "index", json_object_new_int64(cand_index(cand, pos)));
    json_object_object_add(choice, "message", msg);
    json_object_object_add(
        choice, "finish_reason",
        json_object_new_string(finish_reason(hub_xl_str(cand, "finishReason"), has_calls)));
    hub_buf_free(&text);
    return choice;
}

static int by_index(const void *a, const void *b)
{
    long long ia = int_field(*(json_object *const *)a, "index");
    long long ib = int_field(*(json_object *const *)b, "index");
    return ia < ib ? -1 : ia > ib;
}

/* The choice of an answer whose prompt was blocked: no content, content_filter. */
static json_object *blocked_choice(void)
{
    json_object *msg = json_object_new_object();
    json_object *choice = json_object_new_object();
    json_object_object_add(msg, "role", json_object_new_string("assistant"));
    json_object_object_add(msg, "content", NULL);
    json_object_object_add(choice, "index", json_object_new_int(0));
    json_object_object_add(choice, "message", msg);
    json_object_object_add(choice, "finish_reason", json_object_new_string("content_filter"));
    return choice;
}

hub_err hub_xl_gemini_response(json_object *answer, const char *id, const char *model,
                               json_object **out, hub_xl_usage *u, char *err, size_t errsz)
{
    hub_err rc = HUB_EUPSTREAM;
    json_object *cands = hub_xl_get(answer, "candidates", json_type_array);
    json_object *pf = hub_xl_get(answer, "promptFeedback", json_type_object);
    json_object *um = hub_xl_get(answer, "usageMetadata", json_type_object);
    json_object *choices = NULL;
    json_object *o = NULL;
    size_t n = cands ? json_object_array_length(cands) : 0;
    int ncalls = 0;
    *out = NULL;
    hub_xl_usage_init(u);
    if (n == 0 && hub_xl_str(pf, "blockReason") == NULL) {
        char msg[256];
        char code[64];
        hub_xl_error_message(answer, msg, sizeof(msg), code, sizeof(code));
        snprintf(err, errsz, "%s",
                 msg[0]        ? msg
                 : cands || pf ? "The Gemini answer has no candidates."
                               : "The answer is not a Gemini GenerateContentResponse.");
        goto end;
    }
    choices = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(choices,
                              choice_of(json_object_array_get_idx(cands, i), i, id, &ncalls));
    if (n == 0)
        json_object_array_add(choices, blocked_choice());
    json_object_array_sort(choices, by_index);
    read_usage(um, u);
    json_object *usage = usage_object(um, u);
    o = hub_xl_completion_new(id, model, choices, usage);
    choices = NULL; /* owned by o */
    *out = o;       /* ownership to the caller */
    rc = HUB_OK;
end:
    json_object_put(choices);
    return rc;
}

/* ---- streams ---- */

hub_xl_gemini_stream *hub_xl_gemini_stream_new(const char *id, const char *model)
{
    hub_xl_gemini_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->id = strdup(id ? id : "");
    st->model = strdup(model ? model : "");
    if (st->id == NULL || st->model == NULL) {
        hub_xl_gemini_stream_free(st);
        return NULL;
    }
    return st;
}

void hub_xl_gemini_stream_free(hub_xl_gemini_stream *st)
{
    if (st == NULL)
        return;
    free(st->id);
    free(st->model);
    free(st);
}

/* A chunk (added to chunks) for choice idx; *delta gets its delta (borrowed). */
static json_object *add_chunk(hub_xl_gemini_stream *st, json_object *chunks, long long idx,
                              json_object **delta)
{
    json_object *c = hub_xl_chunk_new(st->id, st->model, delta);
    json_object *choice = json_object_array_get_idx(hub_xl_get(c, "choices", json_type_array), 0);
    if (idx != 0)
        json_object_object_add(choice, "index", json_object_new_int64(idx));
    json_object_array_add(chunks, c);
    return choice;
}

static void role_chunk(hub_xl_gemini_stream *st, json_object *chunks, long long idx)
{
    json_object *delta = NULL;
    add_chunk(st, chunks, idx, &delta);
    json_object_object_add(delta, "role", json_object_new_string("assistant"));
    json_object_object_add(delta, "content", json_object_new_string(""));
    st->seen |= 1ULL << idx;
}

static void finish_chunk(hub_xl_gemini_stream *st, json_object *chunks, long long idx,
                         const char *reason)
{
    json_object *delta = NULL;
    json_object *choice = add_chunk(st, chunks, idx, &delta);
    json_object_object_add(choice, "finish_reason", json_object_new_string(reason));
    st->finished |= 1ULL << idx;
}

/* Emits the text gathered so far (if any) as one content chunk and empties the buffer. */
static void flush_text(hub_xl_gemini_stream *st, json_object *chunks, long long idx, hub_buf *text)
{
    json_object *delta = NULL;
    if (text->len == 0)
        return;
    add_chunk(st, chunks, idx, &delta);
    json_object_object_add(delta, "content",
                           json_object_new_string_len(text->data, (int)text->len));
    hub_buf_reset(text);
}

/* One candidate of a stream event → chunks, in the order of its parts. */
static hub_err stream_candidate(hub_xl_gemini_stream *st, json_object *cand, size_t pos,
                                json_object *chunks, char *err, size_t errsz)
{
    long long idx = cand_index(cand, pos);
    json_object *parts =
        hub_xl_get(hub_xl_get(cand, "content", json_type_object), "parts", json_type_array);
    size_t n = parts ? json_object_array_length(parts) : 0;
    const char *fr = hub_xl_str(cand, "finishReason");
    hub_buf text;
    if (idx < 0 || idx >= MAX_CANDS) {
        snprintf(err, errsz, "The Gemini stream has an unexpected candidate index.");
        return HUB_EUPSTREAM;
    }
    if ((st->seen & (1ULL << idx)) == 0)
        role_chunk(st, chunks, idx);
    hub_buf_init(&text, 0);
    for (size_t k = 0; k < n; k++) {
        json_object *part = json_object_array_get_idx(parts, k);
        json_object *fc = hub_xl_get(part, "functionCall", json_type_object);
        const char *t = hub_xl_str(part, "text");
        json_object *delta = NULL;
        if (is_thought(part))
            continue;
        if (t != NULL && fc == NULL && !hub_buf_puts(&text, t)) {
            hub_buf_free(&text);
            snprintf(err, errsz, "Out of memory.");
            return HUB_ENOMEM;
        }
        if (fc == NULL)
            continue;
        flush_text(st, chunks, idx, &text);
        add_chunk(st, chunks, idx, &delta);
        json_object *tc = tool_call(st->id, st->ncalls, part, fc);
        json_object *arr = json_object_new_array();
        json_object_object_add(tc, "index", json_object_new_int(st->ncalls++));
        json_object_array_add(arr, tc);
        json_object_object_add(delta, "tool_calls", arr);
        st->called |= 1ULL << idx;
    }
    flush_text(st, chunks, idx, &text);
    hub_buf_free(&text);
    if (fr != NULL && (st->finished & (1ULL << idx)) == 0)
        finish_chunk(st, chunks, idx, finish_reason(fr, (st->called & (1ULL << idx)) != 0));
    return HUB_OK;
}

hub_err hub_xl_gemini_stream_event(hub_xl_gemini_stream *st, const char *event, const char *data,
                                   size_t len, json_object *chunks, hub_xl_usage *u, bool *done,
                                   char *err, size_t errsz)
{
    hub_err rc = HUB_EUPSTREAM;
    json_object *o = NULL;
    char jerr[128];
    char msg[256];
    char code[64];
    size_t ws = 0;
    (void)event; /* Gemini names no events */
    while (ws < len &&
           (data[ws] == ' ' || data[ws] == '\t' || data[ws] == '\r' || data[ws] == '\n'))
        ws++;
    if (ws == len)
        return HUB_OK; /* an empty data field carries nothing */
    if (!hub_json_parse(data, len, HUB_JSON_DEFAULT_DEPTH, &o, jerr, sizeof(jerr)) ||
        !json_object_is_type(o, json_type_object)) {
        snprintf(err, errsz, "The Gemini stream sent malformed JSON.");
        goto end;
    }
    if (hub_xl_get(o, "error", json_type_object) != NULL ||
        hub_xl_get(o, "error", json_type_string) != NULL) {
        hub_xl_error_message(o, msg, sizeof(msg), code, sizeof(code));
        snprintf(err, errsz, "%s", msg[0] ? msg : "The Gemini stream reported an error.");
        goto end;
    }
    if (!st->started) {
        role_chunk(st, chunks, 0);
        st->started = true;
    }
    read_usage(hub_xl_get(o, "usageMetadata", json_type_object), u);
    json_object *cands = hub_xl_get(o, "candidates", json_type_array);
    size_t n = cands ? json_object_array_length(cands) : 0;
    for (size_t i = 0; i < n; i++) {
        rc = stream_candidate(st, json_object_array_get_idx(cands, i), i, chunks, err, errsz);
        if (rc != HUB_OK)
            goto end;
    }
    if (n == 0 && hub_xl_str(hub_xl_get(o, "promptFeedback", json_type_object), "blockReason") &&
        (st->finished & 1ULL) == 0)
        finish_chunk(st, chunks, 0, "content_filter");
    if (st->finished != 0 && (st->seen & ~st->finished) == 0)
        *done = true;
    rc = HUB_OK;
end:
    json_object_put(o);
    return rc;
}

/* ---- embeddings ---- */

hub_err hub_xl_gemini_embed_response(json_object *answer, const char *model, json_object **out,
                                     hub_xl_usage *u, char *err, size_t errsz)
{
    hub_err rc = HUB_EUPSTREAM;
    json_object *embs = hub_xl_get(answer, "embeddings", json_type_array);
    json_object *data = NULL;
    json_object *o = NULL;
    *out = NULL;
    hub_xl_usage_init(u); /* Gemini reports no token counts */
    if (embs == NULL) {
        snprintf(err, errsz, "The Gemini answer has no embeddings.");
        goto end;
    }
    data = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(embs); i++) {
        json_object *values =
            hub_xl_get(json_object_array_get_idx(embs, i), "values", json_type_array);
        size_t nv = values ? json_object_array_length(values) : 0;
        for (size_t k = 0; values != NULL && k < nv; k++) {
            json_object *v = json_object_array_get_idx(values, k);
            if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
                values = NULL;
        }
        if (values == NULL) {
            snprintf(err, errsz, "The Gemini answer has an embedding without numeric values.");
            goto end;
        }
        json_object *item = json_object_new_object();
        json_object_object_add(item, "object", json_object_new_string("embedding"));
        json_object_object_add(item, "index", json_object_new_int64((int64_t)i));
        json_object_object_add(item, "embedding", copy_json(values));
        json_object_array_add(data, item);
    }
    o = json_object_new_object();
    json_object_object_add(o, "object", json_object_new_string("list"));
    json_object_object_add(o, "data", data);
    data = NULL;
    json_object_object_add(o, "model", json_object_new_string(model ? model : ""));
    *out = o; /* no "usage": the counts are unknown, and 0 would be a lie */
    rc = HUB_OK;
end:
    json_object_put(data);
    return rc;
}
