/*
 * fuzz_json.c — libFuzzer target for hub_json (strict JSON from outside).
 *
 * Build: clang -g -fsanitize=fuzzer,address,undefined -Ilib lib/hub_json.c
 *        tests/unit/fuzz_json.c $(pkg-config --cflags --libs json-c)
 * Checks beyond "no crash": hub_json_parse and hub_json_validate agree, and whatever is
 * accepted serialises (json-c) to text that is accepted again.
 */
#include "hub_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *o = NULL;     /* owned: put at the end */
    json_object *again = NULL; /* owned: put at the end */
    char err[128];
    const char *text = (const char *)data;
    bool parsed = hub_json_parse(text, size, 16, &o, err, sizeof(err));
    bool valid = hub_json_validate(text, size, 16, err, sizeof(err));

    if (parsed != valid)
        abort();
    if (parsed && o != NULL) {
        const char *out = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if (!hub_json_parse(out, strlen(out), 16, &again, err, sizeof(err)))
            abort();
    }
    json_object_put(again);
    json_object_put(o);
    return 0;
}
