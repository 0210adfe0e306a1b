/*
 * hub_xl_anthropic_in_int.h — private to the Anthropic Messages inbound translator: what
 * hub_xl_anthropic_in.c (requests, answers, error bodies) and hub_xl_anthropic_in_stream.c
 * (chunk streams → SSE events) both use. All of it is defined in hub_xl_anthropic_in.c.
 */
#ifndef HUB_XL_ANTHROPIC_IN_INT_H
#define HUB_XL_ANTHROPIC_IN_INT_H

#include "hub_xlate_int.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define S(s)       json_object_new_string(s)
#define I(n)       json_object_new_int64(n)

/* ---- json-c builder: values passed in are taken; a NULL value is a failed allocation ---- */

extern char hub_xl_ain_jnull_tag;
#define JNULL                                                                                      \
    ((json_object *)&hub_xl_ain_jnull_tag) /* an explicit JSON null for hub_xl_ain_obj() */

/* A new object from key, value pairs up to a NULL key. When any value is NULL, all are
 * released and NULL is returned. */
json_object *__attribute__((sentinel)) hub_xl_ain_obj(const char *key, ...);

/* The length of array a; 0 when a is not an array. */
size_t hub_xl_ain_alen(json_object *a);

/* ---- mappings shared by answers and streams ---- */

/* An OpenAI finish_reason → Anthropic stop_reason (static); tool calls make a plain stop
 * "tool_use". */
const char *hub_xl_ain_stop_reason(const char *finish, bool tool_calls);
/* "msg_" + the OpenAI id without its "chatcmpl-" prefix into dst (truncated to fit n bytes). */
void hub_xl_ain_msg_id(char *dst, size_t n, const char *id);
/* The usage count usage[key]; fallback when absent or negative. */
long long hub_xl_ain_tokens(json_object *usage, const char *key, long long fallback);

/* ---- error bodies ---- */

/* Drops what was appended to b after mark (half-written events). */
void hub_xl_ain_rollback(hub_buf *b, size_t mark);
/* Appends {"type":"error","error":{"type":TYPE,"message":MESSAGE}}; false when out of memory
 * (b may then hold part of it: roll back). */
bool hub_xl_ain_error_body(hub_buf *out, const char *type, const char *message);

#endif
