/*
 * gemini_util.h — helpers shared by the Gemini translator tests (test_xl_gemini.c and
 * test_xl_gemini_stream.c): compact printing and comparison with an expected literal.
 */
#ifndef HUB_GEMINI_UTIL_H
#define HUB_GEMINI_UTIL_H

#include "test_util.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

static inline const char *str(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "NULL";
}

/* Whether got equals the literal; prints both when not. Removes "created" stamps first. */
static inline bool same(json_object *got, const char *want)
{
    json_object *w = J(want);
    if (got != NULL && json_object_is_type(got, json_type_object))
        json_object_object_del(got, "created");
    for (size_t i = 0; got != NULL && json_object_is_type(got, json_type_array) &&
                       i < json_object_array_length(got);
         i++)
        json_object_object_del(json_object_array_get_idx(got, i), "created");
    bool ok = w != NULL && got != NULL && json_object_equal(got, w);
    if (!ok)
        printf("# got:  %s\n# want: %s\n", str(got), str(w));
    json_object_put(w);
    return ok;
}

#endif
