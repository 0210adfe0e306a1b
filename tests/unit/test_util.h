/*
 * test_util.h — small helpers shared by the unit tests (temp dir, strict json-c parsing of a
 * whole text, JSON literals written with single quotes, typed member access, string equality).
 */
#ifndef HUB_TEST_UTIL_H
#define HUB_TEST_UTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
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

/* Parses a JSON literal written with ' for " (tests keep their literals readable that way).
 * Returns a new object, or NULL (and says so) when the literal is not valid JSON. */
static inline json_object *J(const char *s)
{
    char *t = strdup(s);
    json_object *o = NULL;
    if (t == NULL)
        return NULL;
    for (char *p = t; *p != '\0'; p++) {
        if (*p == '\'')
            *p = '"';
    }
    o = json_tokener_parse(t);
    if (o == NULL)
        printf("# bad test literal: %s\n", t);
    free(t);
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

/* Canonical compact text of a JSON document (so expectations need not match spacing); new. */
static inline char *canon(const char *text)
{
    json_object *o = json_tokener_parse(text);
    char *s = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE))
                : NULL;
    json_object_put(o);
    return s;
}

/* o equals the JSON text expected (canonically); prints both when not. */
static inline bool same_json(json_object *o, const char *expected)
{
    char *want = canon(expected);
    const char *got = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE)
                        : "(null)";
    bool ok = want != NULL && strcmp(got, want) == 0;
    if (!ok)
        printf("# got:  %s\n# want: %s\n", got, want ? want : "(invalid expectation)");
    free(want);
    return ok;
}

#endif
