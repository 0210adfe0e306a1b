/*
 * hub_xlate.h — translation between the OpenAI chat wire format (the gateway's pivot) and
 * the other formats hub speaks.
 *
 * Outbound (the hub calling a provider):  OpenAI request → provider request, provider
 * answer/stream → OpenAI chat.completion / chat.completion.chunk objects.
 *   provider types: "anthropic" (Messages API), "gemini" (generateContent).
 * Inbound (a client calling the hub in another format): client request → OpenAI request,
 * OpenAI answer/chunks → client answer/stream.
 *   client formats: "anthropic" (POST /v1/messages), "aigne" (POST /api/v2/chat/completions),
 *   "aigne-fw" (AIGNE framework clients, POST /api/v2/chat; "aigne-fw-json" when the request
 *   asked for a JSON answer: the answer is then returned parsed).
 *
 * All functions are pure (no I/O) and thread-safe; stream translators keep their state in an
 * object owned by the caller. json-c ownership: inputs are borrowed (never modified unless
 * said), outputs are new objects the caller puts. Error messages are client-safe.
 */
#ifndef HUB_XLATE_H
#define HUB_XLATE_H

#include "hub_buf.h"
#include "hub_error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Token counts; -1 = unknown. */
typedef struct {
    long long prompt_tokens;
    long long completion_tokens;
    long long total_tokens;
} hub_xl_usage;

void hub_xl_usage_init(hub_xl_usage *u);

/* ================= outbound: OpenAI → provider → OpenAI ================= */

/*
 * The upstream request for an OpenAI chat request `req` (validated: model, messages, …).
 * provider_type: "anthropic" | "gemini". upstream_model: the provider's model name.
 * default_max_tokens: used for Anthropic when the client set neither max_tokens nor
 * max_completion_tokens (e.g. 4096). On success: *body (new) is the JSON to send and path
 * gets the path to append to the provider base URL:
 *   anthropic: "/v1/messages"
 *   gemini:    "/v1beta/models/MODEL:generateContent" or ":streamGenerateContent?alt=sse"
 * HUB_EINVAL with a message for requests the provider cannot serve (e.g. n > 1 on Anthropic,
 * an unsupported content part).
 */
hub_err hub_xl_chat_request(const char *provider_type, json_object *req, const char *upstream_model,
                            bool stream, int default_max_tokens, hub_buf *path, json_object **body,
                            char *err, size_t errsz);

/*
 * A provider's complete (non-streaming) answer → an OpenAI chat.completion object (new):
 * id (given), object, created (now), model (given: what the client asked for), choices with
 * message {role, content, tool_calls} and finish_reason (stop|length|tool_calls|
 * content_filter), usage {prompt_tokens, completion_tokens, total_tokens}. *u gets the usage.
 * HUB_EUPSTREAM when the answer is not what the provider documents.
 */
hub_err hub_xl_chat_response(const char *provider_type, json_object *answer, const char *id,
                             const char *model, json_object **out, hub_xl_usage *u, char *err,
                             size_t errsz);

/*
 * A provider error body (any status) → its message and code (borrowed into the given
 * buffers; empty when absent). Works for OpenAI, Anthropic and Gemini error shapes.
 */
void hub_xl_error_message(json_object *answer, char *msg, size_t msgsz, char *code, size_t codesz);

/*
 * Embeddings (gemini only; OpenAI-type providers take the OpenAI body unchanged): an OpenAI
 * embeddings request → Gemini batchEmbedContents body, path
 * "/v1beta/models/MODEL:batchEmbedContents"; and its answer → an OpenAI embeddings list
 * {object:"list", data:[{object:"embedding", index, embedding:[…]}], model, usage}. Gemini
 * reports no token counts: usage stays unknown (-1).
 */
hub_err hub_xl_embed_request(const char *provider_type, json_object *req,
                             const char *upstream_model, hub_buf *path, json_object **body,
                             char *err, size_t errsz);
hub_err hub_xl_embed_response(const char *provider_type, json_object *answer, const char *model,
                              json_object **out, hub_xl_usage *u, char *err, size_t errsz);

typedef struct hub_xl_stream hub_xl_stream;

/* State for translating one provider stream into OpenAI chunks. id/model as above. */
hub_xl_stream *hub_xl_stream_new(const char *provider_type, const char *id, const char *model);
void hub_xl_stream_free(hub_xl_stream *st);

/*
 * One SSE event from the provider: event is the "event:" field (NULL when absent), data the
 * "data:" payload (len bytes, not NUL-terminated necessarily). Appends zero or more OpenAI
 * chat.completion.chunk objects (new) to the json array `chunks`. Chunks follow OpenAI's
 * shape: the first carries delta.role "assistant"; text arrives as delta.content; tool calls
 * as delta.tool_calls [{index, id, type:"function", function:{name, arguments}}]; the last
 * content chunk has finish_reason. *u is updated whenever the provider reports usage; the
 * caller emits the usage chunk itself. *done becomes true when the provider's stream is
 * complete (Anthropic message_stop; Gemini: the chunk with finishReason). An "error" event
 * returns HUB_EUPSTREAM with the provider's message in err.
 */
hub_err hub_xl_stream_event(hub_xl_stream *st, const char *event, const char *data, size_t len,
                            json_object *chunks, hub_xl_usage *u, bool *done, char *err,
                            size_t errsz);

/* ================= inbound: client format → OpenAI → client format ================= */

/*
 * A client request in format "anthropic" (Messages API body) or "aigne" (AIGNE Hub v2
 * camelCase chat body) → an OpenAI chat request (new). *stream gets the client's stream
 * flag. HUB_EINVAL with a message (and *param, a static string or NULL) on invalid input.
 */
hub_err hub_xl_in_request(const char *format, json_object *in, json_object **out, bool *stream,
                          const char **param, char *err, size_t errsz);

/* An OpenAI chat.completion → the client format's complete answer (new). */
hub_err hub_xl_in_response(const char *format, json_object *oai, json_object **out, char *err,
                           size_t errsz);

/* An OpenAI error (status + message + type) → the client format's error body. */
void hub_xl_in_error(const char *format, int status, const char *message, const char *type,
                     hub_buf *out);

/*
 * AIGNE framework image clients (POST /api/v2/image; hub_xl_aigne_fw_image.c): their
 * {input: {prompt, n, modelOptions: {model, size, quality, …}}} body → an OpenAI
 * images/generations request (new; HUB_EINVAL with a message and *param for a bad body or an
 * edit request), and an OpenAI images answer → {images: [{type: url, url} | {type: file, data,
 * mimeType}], usage: {inputTokens, outputTokens}, model} (new).
 */
hub_err hub_xl_aigne_fw_image_request(json_object *in, json_object **out, const char **param,
                                      char *err, size_t errsz);
json_object *hub_xl_aigne_fw_image_response(json_object *oai, const char *model);

typedef struct hub_xl_in_stream hub_xl_in_stream;

hub_xl_in_stream *hub_xl_in_stream_new(const char *format, const char *id, const char *model);
void hub_xl_in_stream_free(hub_xl_in_stream *st);

/* One OpenAI chunk object → the client format's SSE event bytes appended to out
 * (anthropic: message_start / content_block_start / content_block_delta / … events;
 * aigne: data: {"delta":{…}} events). */
hub_err hub_xl_in_stream_chunk(hub_xl_in_stream *st, json_object *chunk, hub_buf *out);

/* The end of the stream: closing events with the final usage (anthropic: content_block_stop,
 * message_delta with stop_reason and usage, message_stop; aigne: data: {"usage":{…}}). */
hub_err hub_xl_in_stream_finish(hub_xl_in_stream *st, const hub_xl_usage *u, hub_buf *out);

/* A mid-stream error in the client's format (anthropic: event: error; aigne/openai: data:
 * {"error":…}). */
void hub_xl_in_stream_error(hub_xl_in_stream *st, const char *message, hub_buf *out);

#endif
