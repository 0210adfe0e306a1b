/*
 * hub_xl_gemini.c — OpenAI requests → Google Gemini (v1beta) requests: chat completions to
 * generateContent / streamGenerateContent, embeddings to batchEmbedContents. Reading Gemini's
 * answers (chat, complete and streamed, and embeddings) is in hub_xl_gemini_stream.c.
 *
 * The chat request keeps the conversation's meaning in Gemini's terms: system and developer
 * messages become one systemInstruction; user → "user", assistant → "model", tool results →
 * "user" contents with functionResponse parts named after the call they answer; consecutive
 * contents of one role are merged (Gemini wants the roles to alternate). Sampling options go
 * to generationConfig, tools to functionDeclarations, tool_choice to toolConfig.
 *
 * Tool-call ids: Gemini has none; hub_xl_gemini_stream.c mints "call_<16 hex>_<n>" and, when
 * Gemini attached a thoughtSignature to the functionCall part, appends SIG_MARK and the
 * signature in base64url. Here the signature is put back on the replayed functionCall part:
 * Gemini 3 models refuse a conversation whose function calls lost their signatures.
 *
 * json-c ownership: inputs are borrowed and never modified; every output is new.
 */
#include "hub_json.h"
#include "hub_xlate_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SIG_MARK      "__ts_" /* same literal in hub_xl_gemini_stream.c */
#define MODEL_MAX_LEN 200
#define MODEL_CHARS   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* Writes a message into err and returns e. */
__attribute__((format(printf, 4, 5))) static hub_err fail(char *err, size_t errsz, hub_err e,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return e;
}

/* A deep copy of o (new), or NULL. */
static json_object *dup_json(json_object *o)
{
    json_object *c = NULL;
    if (o == NULL || json_object_deep_copy(o, &c, NULL) != 0)
        return NULL;
    return c;
}

/* The model goes into the URL path: only [A-Za-z0-9._-], not empty, bounded. */
static bool model_ok(const char *m)
{
    size_t n = m ? strlen(m) : 0;
    return n > 0 && n <= MODEL_MAX_LEN && strspn(m, MODEL_CHARS) == n;
}

static void add_text_part(json_object *parts, const char *text, size_t len)
{
    if (len == 0)
        return;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "text", json_object_new_string_len(text, (int)len));
    json_object_array_add(parts, p);
}

/* MIME type of an image URL from its extension; image/jpeg when unknown. */
static const char *guess_mime(const char *url)
{
    static const char *const ext[] = {"jpg", "jpeg", "png", "gif", "webp"};
    static const char *const mime[] = {"image/jpeg", "image/jpeg", "image/png", "image/gif",
                                       "image/webp"};
    size_t end = strcspn(url, "?#");
    size_t dot = end;
    while (dot > 0 && url[dot - 1] != '.' && url[dot - 1] != '/')
        dot--;
    if (dot == 0 || url[dot - 1] != '.')
        return "image/jpeg";
    for (size_t k = 0; k < sizeof(ext) / sizeof(ext[0]); k++) {
        if (strlen(ext[k]) == end - dot && strncasecmp(url + dot, ext[k], end - dot) == 0)
            return mime[k];
    }
    return "image/jpeg";
}

/* An OpenAI image_url part → inlineData (data: URL) or fileData (http/https URL). */
static hub_err image_part(json_object *part, json_object *parts, size_t mi, size_t k, char *err,
                          size_t errsz)
{
    json_object *iu = hub_xl_get(part, "image_url", json_type_object);
    const char *url = iu ? hub_xl_str(iu, "url") : hub_xl_str(part, "image_url");
    const char *mime = url != NULL && strncmp(url, "data:", 5) == 0 ? url + 5 : NULL;
    const char *semi = mime ? strchr(mime, ';') : NULL;
    bool web = url != NULL &&
               (strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0);
    if (mime != NULL && (semi == NULL || semi == mime || semi - mime > 255 ||
                         strncmp(semi, ";base64,", 8) != 0 || semi[8] == '\0'))
        return fail(err, errsz, HUB_EINVAL,
                    "messages[%zu].content[%zu]: a data URL must be data:<mime>;base64,<data>.", mi,
                    k);
    if (mime == NULL && !web)
        return fail(err, errsz, HUB_EINVAL,
                    "messages[%zu].content[%zu]: image_url must be a data: or http(s) URL.", mi, k);
    json_object *d = json_object_new_object();
    json_object *p = json_object_new_object();
    json_object_object_add(d, "mimeType",
                           mime ? json_object_new_string_len(mime, (int)(semi - mime))
                                : json_object_new_string(guess_mime(url)));
    json_object_object_add(d, mime ? "data" : "fileUri",
                           json_object_new_string(mime ? semi + 8 : url));
    json_object_object_add(p, mime ? "inlineData" : "fileData", d);
    json_object_array_add(parts, p);
    return HUB_OK;
}

/* The text of message m's content (string, text parts or null) into tmp, emptied first. */
static hub_err text_of(json_object *m, hub_buf *tmp, size_t mi, char *err, size_t errsz)
{
    json_object *content = NULL;
    json_object_object_get_ex(m, "content", &content);
    hub_buf_reset(tmp);
    if (!hub_xl_content_text(content, tmp))
        return fail(err, errsz, HUB_EINVAL, "messages[%zu].content must be a string or an array.",
                    mi);
    return HUB_OK;
}

/* A user message's content (string, array of parts, or null) → Gemini parts. */
static hub_err user_parts(json_object *m, json_object *parts, size_t mi, char *err, size_t errsz)
{
    json_object *content = NULL;
    if (!json_object_object_get_ex(m, "content", &content) || content == NULL)
        return HUB_OK;
    if (json_object_is_type(content, json_type_string)) {
        add_text_part(parts, json_object_get_string(content),
                      (size_t)json_object_get_string_len(content));
        return HUB_OK;
    }
    if (!json_object_is_type(content, json_type_array))
        return fail(err, errsz, HUB_EINVAL, "messages[%zu].content must be a string or an array.",
                    mi);
    size_t n = json_object_array_length(content);
    for (size_t k = 0; k < n; k++) {
        json_object *part = json_object_array_get_idx(content, k);
        const char *type = hub_xl_str(part, "type");
        const char *text = hub_xl_str(part, "text");
        if (type != NULL && strcmp(type, "text") == 0 && text != NULL) {
            add_text_part(parts, text, strlen(text));
        } else if (type != NULL && strcmp(type, "image_url") == 0) {
            hub_err rc = image_part(part, parts, mi, k, err, errsz);
            if (rc != HUB_OK)
                return rc;
        } else {
            return fail(err, errsz, HUB_EINVAL,
                        "messages[%zu].content[%zu]: part type '%.40s' is not supported by Gemini.",
                        mi, k, type ? type : "");
        }
    }
    return HUB_OK;
}

/* The signature hidden in a tool-call id minted by hub_xl_gemini_stream.c, back in standard
 * base64 (new string), or NULL when the id carries none. */
static json_object *sig_from_id(const char *id)
{
    if (id == NULL || strncmp(id, "call_", 5) != 0 || strspn(id + 5, "0123456789abcdef") != 16 ||
        id[21] != '_')
        return NULL;
    const char *sig = id + 22 + strspn(id + 22, "0123456789");
    if (strncmp(sig, SIG_MARK, strlen(SIG_MARK)) != 0 || sig[strlen(SIG_MARK)] == '\0')
        return NULL;
    hub_buf b;
    hub_buf_init(&b, 0);
    bool ok = true;
    for (const char *p = sig + strlen(SIG_MARK); ok && *p != '\0'; p++) {
        char c = *p == '-' ? '+' : *p == '_' ? '/' : *p;
        ok = hub_buf_append(&b, &c, 1);
    }
    while (ok && b.len % 4 != 0)
        ok = hub_buf_puts(&b, "=");
    json_object *s = ok ? json_object_new_string_len(b.data, (int)b.len) : NULL;
    hub_buf_free(&b);
    return s;
}

/* An assistant message → "model" parts: its text, then one functionCall per tool call. */
static hub_err model_parts(json_object *m, json_object *parts, size_t mi, hub_buf *tmp, char *err,
                           size_t errsz)
{
    hub_err rc = text_of(m, tmp, mi, err, errsz);
    if (rc != HUB_OK)
        return rc;
    add_text_part(parts, tmp->data, tmp->len);
    json_object *calls = hub_xl_get(m, "tool_calls", json_type_array);
    size_t n = calls ? json_object_array_length(calls) : 0;
    for (size_t k = 0; k < n; k++) {
        json_object *fn =
            hub_xl_get(json_object_array_get_idx(calls, k), "function", json_type_object);
        const char *name = hub_xl_str(fn, "name");
        const char *args = hub_xl_str(fn, "arguments");
        json_object *obj = NULL;
        char jerr[96];
        if (name == NULL)
            return fail(err, errsz, HUB_EINVAL, "messages[%zu].tool_calls[%zu] has no name.", mi,
                        k);
        if (args == NULL || args[strspn(args, " \t\r\n")] == '\0')
            obj = json_object_new_object();
        else if (!hub_json_parse(args, strlen(args), HUB_JSON_DEFAULT_DEPTH, &obj, jerr,
                                 sizeof(jerr)) ||
                 !json_object_is_type(obj, json_type_object)) {
            json_object_put(obj);
            return fail(err, errsz, HUB_EINVAL,
                        "messages[%zu].tool_calls[%zu].function.arguments is not a JSON object.",
                        mi, k);
        }
        json_object *fc = json_object_new_object();
        json_object *p = json_object_new_object();
        json_object *sig = sig_from_id(hub_xl_str(json_object_array_get_idx(calls, k), "id"));
        json_object_object_add(fc, "name", json_object_new_string(name));
        json_object_object_add(fc, "args", obj);
        json_object_object_add(p, "functionCall", fc);
        if (sig != NULL)
            json_object_object_add(p, "thoughtSignature", sig);
        json_object_array_add(parts, p);
    }
    return HUB_OK;
}

/* The function name of the tool call `id` in an assistant message before messages[mi]. */
static const char *call_name(json_object *msgs, size_t mi, const char *id)
{
    for (size_t j = mi; j > 0; j--) {
        json_object *m = json_object_array_get_idx(msgs, j - 1);
        json_object *calls = hub_xl_get(m, "tool_calls", json_type_array);
        const char *role = hub_xl_str(m, "role");
        size_t n = calls ? json_object_array_length(calls) : 0;
        for (size_t k = 0; role != NULL && strcmp(role, "assistant") == 0 && k < n; k++) {
            json_object *tc = json_object_array_get_idx(calls, k);
            const char *tid = hub_xl_str(tc, "id");
            if (tid != NULL && strcmp(tid, id) == 0)
                return hub_xl_str(hub_xl_get(tc, "function", json_type_object), "name");
        }
    }
    return NULL;
}

/* A tool result → {"functionResponse":{"name","response":{"content": text or JSON object}}}. */
static hub_err response_part(json_object *m, const char *name, json_object *parts, size_t mi,
                             hub_buf *tmp, char *err, size_t errsz)
{
    json_object *value = NULL;
    char jerr[96];
    hub_err rc = text_of(m, tmp, mi, err, errsz);
    if (rc != HUB_OK)
        return rc;
    const char *text = tmp->data ? tmp->data : "";
    if (text[strspn(text, " \t\r\n")] == '{' &&
        hub_json_parse(text, tmp->len, HUB_JSON_DEFAULT_DEPTH, &value, jerr, sizeof(jerr)) &&
        !json_object_is_type(value, json_type_object)) {
        json_object_put(value);
        value = NULL;
    }
    if (value == NULL)
        value = json_object_new_string_len(text, (int)tmp->len);
    json_object *resp = json_object_new_object();
    json_object *fr = json_object_new_object();
    json_object *p = json_object_new_object();
    json_object_object_add(resp, "content", value);
    json_object_object_add(fr, "name", json_object_new_string(name));
    json_object_object_add(fr, "response", resp);
    json_object_object_add(p, "functionResponse", fr);
    json_object_array_add(parts, p);
    return HUB_OK;
}

/* Adds parts (taken) as a content of `role`, merged into the last content when the role
 * repeats. An empty parts array is dropped. */
static void push_content(json_object *contents, const char *role, json_object *parts)
{
    size_t n = json_object_array_length(parts);
    size_t nc = json_object_array_length(contents);
    json_object *last = nc > 0 ? json_object_array_get_idx(contents, nc - 1) : NULL;
    json_object *lparts = hub_xl_get(last, "parts", json_type_array);
    const char *lrole = hub_xl_str(last, "role");
    if (n > 0 && lparts != NULL && lrole != NULL && strcmp(lrole, role) == 0) {
        for (size_t i = 0; i < n; i++)
            json_object_array_add(lparts, json_object_get(json_object_array_get_idx(parts, i)));
    } else if (n > 0) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "role", json_object_new_string(role));
        json_object_object_add(c, "parts", json_object_get(parts));
        json_object_array_add(contents, c);
    }
    json_object_put(parts);
}

/* One non-system message → Gemini parts (added to `parts`) and its role (*grole). */
static hub_err message_parts(json_object *msgs, size_t i, const char *role, json_object *parts,
                             const char **grole, hub_buf *tmp, char *err, size_t errsz)
{
    json_object *m = json_object_array_get_idx(msgs, i);
    *grole = "user";
    if (strcmp(role, "user") == 0)
        return user_parts(m, parts, i, err, errsz);
    if (strcmp(role, "assistant") == 0) {
        *grole = "model";
        return model_parts(m, parts, i, tmp, err, errsz);
    }
    if (strcmp(role, "tool") == 0) {
        const char *id = hub_xl_str(m, "tool_call_id");
        const char *name = id ? call_name(msgs, i, id) : NULL;
        if (name == NULL)
            return fail(err, errsz, HUB_EINVAL,
                        "messages[%zu].tool_call_id does not match a tool call of an earlier "
                        "assistant message.",
                        i);
        return response_part(m, name, parts, i, tmp, err, errsz);
    }
    if (strcmp(role, "function") == 0 && hub_xl_str(m, "name") != NULL) /* legacy OpenAI */
        return response_part(m, hub_xl_str(m, "name"), parts, i, tmp, err, errsz);
    return fail(err, errsz, HUB_EINVAL, "messages[%zu].role '%.20s' is not supported.", i, role);
}

/* messages → "systemInstruction" and "contents" of body. */
static hub_err add_contents(json_object *req, json_object *body, char *err, size_t errsz)
{
    hub_err rc = HUB_EINVAL;
    hub_buf sys;
    hub_buf tmp;
    json_object *contents = json_object_new_array();
    json_object *msgs = hub_xl_get(req, "messages", json_type_array);
    size_t n = msgs ? json_object_array_length(msgs) : 0;
    hub_buf_init(&sys, 0);
    hub_buf_init(&tmp, 0);
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(msgs, i);
        const char *role = hub_xl_str(m, "role");
        const char *grole = NULL;
        if (role == NULL) {
            rc = fail(err, errsz, HUB_EINVAL, "messages[%zu] has no role.", i);
            goto end;
        }
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            rc = text_of(m, &tmp, i, err, errsz);
            if (rc != HUB_OK)
                goto end;
            if (tmp.len > 0 && ((sys.len > 0 && !hub_buf_puts(&sys, "\n\n")) ||
                                !hub_buf_append(&sys, tmp.data, tmp.len))) {
                rc = fail(err, errsz, HUB_ENOMEM, "Out of memory.");
                goto end;
            }
            continue;
        }
        json_object *parts = json_object_new_array();
        rc = message_parts(msgs, i, role, parts, &grole, &tmp, err, errsz);
        if (rc != HUB_OK) {
            json_object_put(parts);
            goto end;
        }
        push_content(contents, grole, parts);
    }
    if (json_object_array_length(contents) == 0) {
        rc = fail(err, errsz, HUB_EINVAL,
                  "Gemini needs at least one user, assistant or tool message with content.");
        goto end;
    }
    if (sys.len > 0) {
        json_object *si = json_object_new_object();
        json_object *parts = json_object_new_array();
        add_text_part(parts, sys.data, sys.len);
        json_object_object_add(si, "parts", parts);
        json_object_object_add(body, "systemInstruction", si);
    }
    json_object_object_add(body, "contents", contents);
    contents = NULL;
    rc = HUB_OK;
end:
    json_object_put(contents);
    hub_buf_free(&sys);
    hub_buf_free(&tmp);
    return rc;
}

/* Copies req[skey] to gc[dkey] when it is a number (an integer when `integer`). */
static void copy_num(json_object *gc, const char *dkey, json_object *req, const char *skey,
                     bool integer)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(req, skey, &v) || v == NULL)
        return;
    if (json_object_is_type(v, json_type_int) ||
        (!integer && json_object_is_type(v, json_type_double)))
        json_object_object_add(gc, dkey, dup_json(v));
}

/* Sampling options and response_format → "generationConfig" (only when not empty). */
static hub_err add_generation_config(json_object *req, json_object *body, char *err, size_t errsz)
{
    json_object *stop = NULL;
    json_object *rf = hub_xl_get(req, "response_format", json_type_object);
    const char *rft = hub_xl_str(rf, "type");
    if (rft != NULL && strcmp(rft, "text") != 0 && strcmp(rft, "json_object") != 0 &&
        strcmp(rft, "json_schema") != 0)
        return fail(err, errsz, HUB_EINVAL, "response_format type '%.40s' is not supported.", rft);
    json_object *gc = json_object_new_object();
    copy_num(gc, "temperature", req, "temperature", false);
    copy_num(gc, "topP", req, "top_p", false);
    if (hub_xl_get(req, "max_completion_tokens", json_type_int) != NULL)
        copy_num(gc, "maxOutputTokens", req, "max_completion_tokens", true);
    else
        copy_num(gc, "maxOutputTokens", req, "max_tokens", true);
    json_object_object_get_ex(req, "stop", &stop);
    if (stop != NULL && json_object_is_type(stop, json_type_string)) {
        json_object *a = json_object_new_array();
        json_object_array_add(a, dup_json(stop));
        json_object_object_add(gc, "stopSequences", a);
    } else if (stop != NULL && json_object_is_type(stop, json_type_array) &&
               json_object_array_length(stop) > 0) {
        json_object_object_add(gc, "stopSequences", dup_json(stop));
    }
    copy_num(gc, "candidateCount", req, "n", true);
    copy_num(gc, "presencePenalty", req, "presence_penalty", false);
    copy_num(gc, "frequencyPenalty", req, "frequency_penalty", false);
    copy_num(gc, "seed", req, "seed", true);
    if (rft != NULL && strcmp(rft, "json_object") == 0) {
        json_object_object_add(gc, "responseMimeType", json_object_new_string("application/json"));
    } else if (rft != NULL && strcmp(rft, "json_schema") == 0) {
        json_object *js = hub_xl_get(rf, "json_schema", json_type_object);
        json_object *schema = hub_xl_get(js, "schema", json_type_object);
        json_object_object_add(gc, "responseMimeType", json_object_new_string("application/json"));
        if (schema != NULL)
            json_object_object_add(gc, "responseSchema", dup_json(schema));
    }
    if (json_object_object_length(gc) > 0)
        json_object_object_add(body, "generationConfig", gc);
    else
        json_object_put(gc);
    return HUB_OK;
}

/* A function's parameters schema, or NULL for a function without parameters (Gemini refuses
 * an OBJECT schema with empty "properties"). */
static json_object *parameters_of(json_object *fn)
{
    json_object *params = hub_xl_get(fn, "parameters", json_type_object);
    json_object *props = hub_xl_get(params, "properties", json_type_object);
    if (props == NULL || json_object_object_length(props) == 0)
        return NULL;
    return dup_json(params);
}

/* tool_choice → "toolConfig" (added to body). */
static hub_err add_tool_config(json_object *req, json_object *body, char *err, size_t errsz)
{
    json_object *tc = NULL;
    const char *mode = NULL;
    const char *only = NULL;
    json_object_object_get_ex(req, "tool_choice", &tc);
    if (tc == NULL)
        return HUB_OK;
    if (json_object_is_type(tc, json_type_string)) {
        const char *s = json_object_get_string(tc);
        mode = strcmp(s, "auto") == 0       ? "AUTO"
               : strcmp(s, "none") == 0     ? "NONE"
               : strcmp(s, "required") == 0 ? "ANY"
                                            : NULL;
    } else {
        const char *type = hub_xl_str(tc, "type");
        only = hub_xl_str(hub_xl_get(tc, "function", json_type_object), "name");
        mode = type != NULL && strcmp(type, "function") == 0 && only != NULL ? "ANY" : NULL;
    }
    if (mode == NULL)
        return fail(err, errsz, HUB_EINVAL, "tool_choice is not supported by Gemini.");
    json_object *fcc = json_object_new_object();
    json_object *cfg = json_object_new_object();
    json_object_object_add(fcc, "mode", json_object_new_string(mode));
    if (only != NULL) {
        json_object *names = json_object_new_array();
        json_object_array_add(names, json_object_new_string(only));
        json_object_object_add(fcc, "allowedFunctionNames", names);
    }
    json_object_object_add(cfg, "functionCallingConfig", fcc);
    json_object_object_add(body, "toolConfig", cfg);
    return HUB_OK;
}

/* tools → "tools":[{"functionDeclarations":[…]}] and tool_choice → "toolConfig". */
static hub_err add_tools(json_object *req, json_object *body, char *err, size_t errsz)
{
    json_object *tools = hub_xl_get(req, "tools", json_type_array);
    size_t n = tools ? json_object_array_length(tools) : 0;
    if (n == 0)
        return HUB_OK;
    json_object *decls = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(tools, i);
        const char *type = hub_xl_str(t, "type");
        json_object *fn = hub_xl_get(t, "function", json_type_object);
        const char *name = hub_xl_str(fn, "name");
        const char *desc = hub_xl_str(fn, "description");
        if ((type != NULL && strcmp(type, "function") != 0) || name == NULL) {
            json_object_put(decls);
            return fail(err, errsz, HUB_EINVAL,
                        "tools[%zu]: only function tools with a name are supported by Gemini.", i);
        }
        json_object *d = json_object_new_object();
        json_object *params = parameters_of(fn);
        json_object_object_add(d, "name", json_object_new_string(name));
        if (desc != NULL)
            json_object_object_add(d, "description", json_object_new_string(desc));
        if (params != NULL)
            json_object_object_add(d, "parameters", params);
        json_object_array_add(decls, d);
    }
    json_object *tool = json_object_new_object();
    json_object *arr = json_object_new_array();
    json_object_object_add(tool, "functionDeclarations", decls);
    json_object_array_add(arr, tool);
    json_object_object_add(body, "tools", arr);
    return add_tool_config(req, body, err, errsz);
}

hub_err hub_xl_gemini_request(json_object *req, const char *upstream_model, bool stream,
                              hub_buf *path, json_object **body, char *err, size_t errsz)
{
    *body = NULL;
    if (!model_ok(upstream_model))
        return fail(err, errsz, HUB_EINVAL, "The upstream model name is not valid for Gemini.");
    json_object *b = json_object_new_object();
    hub_err rc = add_contents(req, b, err, errsz);
    if (rc == HUB_OK)
        rc = add_generation_config(req, b, err, errsz);
    if (rc == HUB_OK)
        rc = add_tools(req, b, err, errsz);
    if (rc != HUB_OK)
        goto end;
    hub_buf_reset(path);
    if (!hub_buf_printf(path, "/v1beta/models/%s:%s", upstream_model,
                        stream ? "streamGenerateContent?alt=sse" : "generateContent")) {
        rc = fail(err, errsz, HUB_ENOMEM, "Out of memory.");
        goto end;
    }
    *body = b; /* ownership to the caller */
    b = NULL;
    rc = HUB_OK;
end:
    json_object_put(b);
    return rc;
}

/* ---- embeddings ---- */

hub_err hub_xl_gemini_embed_request(json_object *req, const char *upstream_model, hub_buf *path,
                                    json_object **body, char *err, size_t errsz)
{
    json_object *input = hub_xl_get(req, "input", json_type_string);
    json_object *arr = hub_xl_get(req, "input", json_type_array);
    json_object *dims = hub_xl_get(req, "dimensions", json_type_int);
    const char *enc = hub_xl_str(req, "encoding_format");
    char mname[MODEL_MAX_LEN + 8];
    *body = NULL;
    if (!model_ok(upstream_model))
        return fail(err, errsz, HUB_EINVAL, "The upstream model name is not valid for Gemini.");
    if (enc != NULL && strcmp(enc, "float") != 0)
        return fail(err, errsz, HUB_EINVAL,
                    "encoding_format '%.20s' is not supported for this model; use \"float\".", enc);
    size_t n = input ? 1 : arr ? json_object_array_length(arr) : 0;
    bool ok = n > 0;
    for (size_t i = 0; ok && i < n; i++) {
        json_object *s = input ? input : json_object_array_get_idx(arr, i);
        ok = json_object_is_type(s, json_type_string) && json_object_get_string_len(s) > 0;
    }
    if (!ok)
        return fail(err, errsz, HUB_EINVAL,
                    "input must be a non-empty string or array of non-empty strings for this "
                    "model (token arrays are not supported).");
    hub_buf_reset(path);
    if (!hub_buf_printf(path, "/v1beta/models/%s:batchEmbedContents", upstream_model))
        return fail(err, errsz, HUB_ENOMEM, "Out of memory.");
    snprintf(mname, sizeof(mname), "models/%s", upstream_model);
    json_object *requests = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *s = input ? input : json_object_array_get_idx(arr, i);
        json_object *r = json_object_new_object();
        json_object *c = json_object_new_object();
        json_object *parts = json_object_new_array();
        add_text_part(parts, json_object_get_string(s), (size_t)json_object_get_string_len(s));
        json_object_object_add(c, "parts", parts);
        json_object_object_add(r, "model", json_object_new_string(mname));
        json_object_object_add(r, "content", c);
        if (dims != NULL)
            json_object_object_add(r, "outputDimensionality", dup_json(dims));
        json_object_array_add(requests, r);
    }
    *body = json_object_new_object(); /* ownership to the caller */
    json_object_object_add(*body, "requests", requests);
    return HUB_OK;
}
