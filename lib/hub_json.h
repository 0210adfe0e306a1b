/*
 * hub_json.h — strict parsing of JSON from outside (request bodies, upstream answers).
 *
 * hub_json_parse validates the bytes against RFC 8259 first (no trailing garbage, no
 * comments, no NaN, valid UTF-8, no lone surrogates, no \u0000, nesting ≤ max_depth,
 * no duplicate object keys) and only then builds a json-c tree. A document json-c
 * would accept but RFC 8259 refuses is refused.
 */
#ifndef HUB_JSON_H
#define HUB_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define HUB_JSON_DEFAULT_DEPTH 64

/*
 * Parses len bytes of text. On success returns a new json_object (caller owns: json_object_put);
 * NULL for the JSON literal null is reported as success with *out = NULL... so callers that
 * need an object check the type. On failure returns false and writes a short, client-safe
 * reason (no input echoed) into err, e.g. "invalid JSON at byte 17: unexpected character".
 */
bool hub_json_parse(const char *text, size_t len, int max_depth, json_object **out, char *err,
                    size_t errsz);

/* Validation only (no tree). Same rules and messages as hub_json_parse. */
bool hub_json_validate(const char *text, size_t len, int max_depth, char *err, size_t errsz);

#endif
