/*
 * hub_xlate_int.h — private: the per-format translators behind hub_xlate.h's dispatch.
 * Each format lives in its own file:
 *   hub_xl_anthropic_out.c  OpenAI ⇄ Anthropic Messages (the hub calling Anthropic)
 *   hub_xl_gemini.c         OpenAI ⇄ Gemini generateContent / batchEmbedContents
 *   hub_xl_anthropic_in.c   Anthropic Messages clients (POST /v1/messages) ⇄ OpenAI
 *                           (streams in hub_xl_anthropic_in_stream.c, shared helpers in
 *                           hub_xl_anthropic_in_int.h)
 *   hub_xl_aigne.c          AIGNE Hub v2 clients (POST /api/v2/…) ⇄ OpenAI
 *   hub_xl_aigne_fw.c       AIGNE framework clients (POST /api/v2/chat) ⇄ OpenAI
 * Shared helpers for all of them are in hub_xlate.c.
 */
#ifndef HUB_XLATE_INT_H
#define HUB_XLATE_INT_H

#include "hub_xlate.h"

/* ---- hub_xlate.c helpers ---- */

/* The text of an OpenAI message "content": a string, or the text parts of an array joined
 * (no separator). NULL content → "". Returns false for a content of any other type. Appends
 * to out. */
bool hub_xl_content_text(json_object *content, hub_buf *out);
/* json_object_object_get_ex that also checks the type; NULL when absent or of another type. */
json_object *hub_xl_get(json_object *o, const char *key, json_type t);
/* A string field or NULL. */
const char *hub_xl_str(json_object *o, const char *key);
/* Seconds since the epoch. */
long long hub_xl_now(void);
/* An OpenAI chat.completion {id, object, created, model, choices, usage} (new; takes choices
 * and usage; usage NULL: none). */
json_object *hub_xl_completion_new(const char *id, const char *model, json_object *choices,
                                   json_object *usage);
/* Builds an OpenAI chat.completion.chunk skeleton {id, object, created, model, choices:[{index:0,
 * delta:{}, finish_reason:null}]} (new); *delta gets the (borrowed) delta object. */
json_object *hub_xl_chunk_new(const char *id, const char *model, json_object **delta);

/* Tool calls assembled from OpenAI stream fragments ({index, id?, function:{name?,
 * arguments?}}), by index; every field capped at HUB_XL_CALL_BYTES. */
#define HUB_XL_MAX_CALLS  64
#define HUB_XL_CALL_BYTES (4u << 20) /* per tool call field, against a runaway stream */
typedef struct {
    hub_buf f[HUB_XL_MAX_CALLS][3]; /* id, name, arguments; owned */
    size_t n;
} hub_xl_calls;
void hub_xl_calls_init(hub_xl_calls *c);
void hub_xl_calls_free(hub_xl_calls *c);
/* Adds one fragment. HUB_EUPSTREAM for an index out of range or a field over the cap. */
hub_err hub_xl_calls_add(hub_xl_calls *c, json_object *frag);
/* Call k's id, or "call_<k>" in fallback when the provider sent none. */
const char *hub_xl_calls_id(const hub_xl_calls *c, size_t k, char fallback[32]);

/* ---- per-format entry points (same contracts as the public functions) ----
 * Each format keeps its stream state in its own opaque type; hub_xlate.c wraps them in the
 * public hub_xl_stream / hub_xl_in_stream. */

typedef struct hub_xl_anthropic_stream hub_xl_anthropic_stream;
typedef struct hub_xl_gemini_stream hub_xl_gemini_stream;
typedef struct hub_xl_anthropic_in_stream hub_xl_anthropic_in_stream;
typedef struct hub_xl_aigne_in_stream hub_xl_aigne_in_stream;
typedef struct hub_xl_aigne_fw_stream hub_xl_aigne_fw_stream;

hub_err hub_xl_anthropic_request(json_object *req, const char *upstream_model, bool stream,
                                 int default_max_tokens, hub_buf *path, json_object **body,
                                 char *err, size_t errsz);
hub_err hub_xl_anthropic_response(json_object *answer, const char *id, const char *model,
                                  json_object **out, hub_xl_usage *u, char *err, size_t errsz);
hub_xl_anthropic_stream *hub_xl_anthropic_stream_new(const char *id, const char *model);
hub_err hub_xl_anthropic_stream_event(hub_xl_anthropic_stream *st, const char *event,
                                      const char *data, size_t len, json_object *chunks,
                                      hub_xl_usage *u, bool *done, char *err, size_t errsz);
void hub_xl_anthropic_stream_free(hub_xl_anthropic_stream *st);

hub_err hub_xl_gemini_request(json_object *req, const char *upstream_model, bool stream,
                              hub_buf *path, json_object **body, char *err, size_t errsz);
hub_err hub_xl_gemini_response(json_object *answer, const char *id, const char *model,
                               json_object **out, hub_xl_usage *u, char *err, size_t errsz);
hub_xl_gemini_stream *hub_xl_gemini_stream_new(const char *id, const char *model);
hub_err hub_xl_gemini_stream_event(hub_xl_gemini_stream *st, const char *event, const char *data,
                                   size_t len, json_object *chunks, hub_xl_usage *u, bool *done,
                                   char *err, size_t errsz);
void hub_xl_gemini_stream_free(hub_xl_gemini_stream *st);
hub_err hub_xl_gemini_embed_request(json_object *req, const char *upstream_model, hub_buf *path,
                                    json_object **body, char *err, size_t errsz);
hub_err hub_xl_gemini_embed_response(json_object *answer, const char *model, json_object **out,
                                     hub_xl_usage *u, char *err, size_t errsz);

/* inbound formats: "anthropic" and "aigne" */
hub_err hub_xl_in_anthropic_request(json_object *in, json_object **out, bool *stream,
                                    const char **param, char *err, size_t errsz);
hub_err hub_xl_in_anthropic_response(json_object *oai, json_object **out, char *err, size_t errsz);
void hub_xl_in_anthropic_error(int status, const char *message, const char *type, hub_buf *out);
hub_xl_anthropic_in_stream *hub_xl_in_anthropic_stream_new(const char *id, const char *model);
hub_err hub_xl_in_anthropic_stream_chunk(hub_xl_anthropic_in_stream *st, json_object *chunk,
                                         hub_buf *out);
hub_err hub_xl_in_anthropic_stream_finish(hub_xl_anthropic_in_stream *st, const hub_xl_usage *u,
                                          hub_buf *out);
void hub_xl_in_anthropic_stream_error(hub_xl_anthropic_in_stream *st, const char *message,
                                      hub_buf *out);
void hub_xl_in_anthropic_stream_free(hub_xl_anthropic_in_stream *st);

hub_err hub_xl_in_aigne_request(json_object *in, json_object **out, bool *stream,
                                const char **param, char *err, size_t errsz);
hub_err hub_xl_in_aigne_response(json_object *oai, json_object **out, char *err, size_t errsz);
void hub_xl_in_aigne_error(int status, const char *message, const char *type, hub_buf *out);
hub_xl_aigne_in_stream *hub_xl_in_aigne_stream_new(const char *id, const char *model);
hub_err hub_xl_in_aigne_stream_chunk(hub_xl_aigne_in_stream *st, json_object *chunk, hub_buf *out);
hub_err hub_xl_in_aigne_stream_finish(hub_xl_aigne_in_stream *st, const hub_xl_usage *u,
                                      hub_buf *out);
void hub_xl_in_aigne_stream_error(hub_xl_aigne_in_stream *st, const char *message, hub_buf *out);
void hub_xl_in_aigne_stream_free(hub_xl_aigne_in_stream *st);

/* inbound format "aigne-fw" (AIGNE framework clients, POST /api/v2/chat; hub_xl_aigne_fw.c);
 * json: the request asked for a JSON answer (responseFormat json_schema) */
hub_err hub_xl_in_aigne_fw_request(json_object *in, json_object **out, bool *stream,
                                   const char **param, char *err, size_t errsz);
hub_err hub_xl_in_aigne_fw_response(json_object *oai, bool json, json_object **out, char *err,
                                    size_t errsz);
void hub_xl_in_aigne_fw_error(int status, const char *message, const char *type, hub_buf *out);
hub_xl_aigne_fw_stream *hub_xl_in_aigne_fw_stream_new(const char *model, bool json);
hub_err hub_xl_in_aigne_fw_stream_chunk(hub_xl_aigne_fw_stream *st, json_object *chunk,
                                        hub_buf *out);
hub_err hub_xl_in_aigne_fw_stream_finish(hub_xl_aigne_fw_stream *st, const hub_xl_usage *u,
                                         hub_buf *out);
void hub_xl_in_aigne_fw_stream_error(hub_xl_aigne_fw_stream *st, const char *message, hub_buf *out);
void hub_xl_in_aigne_fw_stream_free(hub_xl_aigne_fw_stream *st);

#endif
