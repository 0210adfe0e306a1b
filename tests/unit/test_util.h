/*
 * test_util.h — small helpers shared by the unit tests of lib's core modules (temp dir, strict
 * json-c parsing of a whole text, typed member access, string equality).
 */
#ifndef HUB_TEST_UTIL_H
#define HUB_TEST_UTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static inline const char *tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    return (t != NULL && *t != '\0') ? t : "/tmp";
}

/* Parses text (exactly len bytes, nothing after the value) with json-c; NULL when invalid. */
static inline json_object *parse_json(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    if (o != NULL && json_tokener_get_parse_end(tok) != len) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* The string member k of o, or NULL when absent or not a string. Borrowed from o. */
static inline const char *jstr(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static inline bool jnull(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v == NULL;
}

static inline bool streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

#endif
