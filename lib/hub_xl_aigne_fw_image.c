/*
 * hub_xl_aigne_fw_image.c — AIGNE framework image clients (POST /api/v2/image, what
 * @aigne/aigne-hub's AIGNEHubImageModel sends) ⇄ OpenAI images/generations.
 *   request  {input: {prompt, n?, image? (editing: refused), modelOptions: {model, size,
 *            quality, style, background, outputFormat, responseFormat}, outputFileType}, agent,
 *            options}; unknown fields are ignored.
 *   answer   {images: [{type: "url", url} | {type: "file", data (base64), mimeType}], usage:
 *            {inputTokens, outputTokens}, model}.
 * json_object_* results are new objects owned by the caller; inputs are only read.
 */
#include "hub_xlate_int.h"

#include <stdio.h>
#include <string.h>

static hub_err refuse(const char **param, const char *p, char *err, size_t errsz, const char *msg)
{
    snprintf(err, errsz, "%s", msg);
    if (param != NULL)
        *param = p;
    return HUB_EINVAL;
}

/* o[to] = a copy of from[key] when present. */
static void copy_field(json_object *from, const char *key, json_object *o, const char *to)
{
    json_object *v = NULL, *c = NULL;
    if (json_object_object_get_ex(from, key, &v) && v != NULL &&
        json_object_deep_copy(v, &c, NULL) == 0)
        json_object_object_add(o, to, c);
}

hub_err hub_xl_aigne_fw_image_request(json_object *in, json_object **out, const char **param,
                                      char *err, size_t errsz)
{
    static const char *const MAP[][2] = {
        {"size", "size"},
        {"quality", "quality"},
        {"style", "style"},
        {"background", "background"},
        {"outputFormat", "output_format"},
        {"responseFormat", "response_format"},
    };
    json_object *input = hub_xl_get(in, "input", json_type_object);
    json_object *opts = hub_xl_get(input, "modelOptions", json_type_object);
    const char *model = hub_xl_str(opts, "model"), *prompt = hub_xl_str(input, "prompt");
    json_object *image = NULL;
    *out = NULL;
    if (input == NULL)
        return refuse(param, "input", err, errsz,
                      "The body needs an input object (AIGNE framework image).");
    if (model == NULL || model[0] == '\0')
        return refuse(param, "model", err, errsz, "input.modelOptions.model is required.");
    if (prompt == NULL)
        return refuse(param, "prompt", err, errsz, "input.prompt is required.");
    if (json_object_object_get_ex(input, "image", &image) && image != NULL)
        return refuse(param, "image", err, errsz,
                      "Editing images is not supported: send a prompt only.");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "model", json_object_new_string(model));
    json_object_object_add(o, "prompt", json_object_new_string(prompt));
    copy_field(input, "n", o, "n");
    for (size_t i = 0; i < sizeof(MAP) / sizeof(MAP[0]); i++)
        copy_field(opts, MAP[i][0], o, MAP[i][1]);
    *out = o;
    return HUB_OK;
}

json_object *hub_xl_aigne_fw_image_response(json_object *oai, const char *model)
{
    json_object *data = hub_xl_get(oai, "data", json_type_array);
    json_object *usage = hub_xl_get(oai, "usage", json_type_object);
    json_object *o = json_object_new_object(), *images = json_object_new_array();
    json_object_object_add(o, "images", images);
    for (size_t i = 0; data != NULL && i < json_object_array_length(data); i++) {
        json_object *d = json_object_array_get_idx(data, i), *img = json_object_new_object();
        const char *url = hub_xl_str(d, "url"), *b64 = hub_xl_str(d, "b64_json");
        if (url != NULL) {
            json_object_object_add(img, "type", json_object_new_string("url"));
            json_object_object_add(img, "url", json_object_new_string(url));
        } else {
            json_object_object_add(img, "type", json_object_new_string("file"));
            json_object_object_add(img, "data", json_object_new_string(b64 != NULL ? b64 : ""));
            json_object_object_add(img, "mimeType", json_object_new_string("image/png"));
        }
        json_object_array_add(images, img);
    }
    json_object *in = hub_xl_get(usage, "input_tokens", json_type_int);
    json_object *outp = hub_xl_get(usage, "output_tokens", json_type_int);
    json_object *u = json_object_new_object();
    json_object_object_add(u, "inputTokens",
                           json_object_new_int64(in ? json_object_get_int64(in) : 0));
    json_object_object_add(u, "outputTokens",
                           json_object_new_int64(outp ? json_object_get_int64(outp) : 0));
    json_object_object_add(o, "usage", u);
    json_object_object_add(o, "model", json_object_new_string(model != NULL ? model : ""));
    return o;
}
