/*
 * hub_json.c — strict RFC 8259 JSON for bytes that come from outside (see hub_json.h).
 *
 * json-c, even with JSON_TOKENER_STRICT, accepts documents RFC 8259 refuses and it keeps only
 * the last of duplicate keys. So every document first goes through validate_doc(), a small
 * iterative scanner (no recursion: its only stack is a bounded array of container kinds, so a
 * body of 100000 '[' is refused after max_depth of them). It checks the grammar (one value,
 * whitespace limited to space/tab/LF/CR, literals, the number grammar, escapes, UTF-8 with no
 * overlongs, surrogates or code points above U+10FFFF), refuses NUL bytes and \u0000, and counts
 * object members. Only then json-c builds the tree; a walk over the tree sums the members of
 * every object, and a smaller sum than the scanner's count means json-c folded a duplicate key
 * (it decodes escapes first, so "a" and "\u0061" collide as they should).
 *
 * Depth: max_depth counts arrays and objects (1 = a top-level container). A value <= 0 means
 * HUB_JSON_DEFAULT_DEPTH; values above HUB_JSON_DEPTH_CEILING are lowered to it, which bounds
 * the scanner's stack array. Error messages are short and never contain input bytes; byte
 * offsets in them are 0-based.
 */
#include "hub_json.h"

#include "hub_buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUB_JSON_DEPTH_CEILING 1024
/* json_tokener_parse_ex takes an int length and needs one extra byte for the terminator. */
#define HUB_JSON_MAX_LEN ((size_t)INT32_MAX - 1)

enum frame_kind { FRAME_ARRAY = 1, FRAME_OBJECT = 2 };

/* What the scanner expects next, after skipping whitespace. */
enum expect {
    EXP_VALUE,          /* a value: document start, after ':' or after ',' in an array */
    EXP_VALUE_OR_CLOSE, /* just after '[' */
    EXP_KEY,            /* after ',' in an object */
    EXP_KEY_OR_CLOSE,   /* just after '{' */
    EXP_COLON,          /* after a key */
    EXP_AFTER_VALUE     /* after a complete value */
};

/* Scanner state. Borrows the input and the caller's error buffer. */
typedef struct {
    const unsigned char *p;
    size_t len;
    size_t pos;
    char *err;
    size_t errsz;
} scanner;

/* Facts the scanner hands to the tree builder. */
typedef struct {
    size_t members;    /* object members in the whole document */
    bool multi_member; /* some object has two or more members (a duplicate is possible) */
} doc_facts;

static void set_err(char *err, size_t errsz, const char *msg)
{
    if (err != NULL && errsz > 0)
        snprintf(err, errsz, "invalid JSON: %s", msg);
}

static bool fail_at(scanner *s, size_t at, const char *why)
{
    if (s->err != NULL && s->errsz > 0)
        snprintf(s->err, s->errsz, "invalid JSON at byte %zu: %s", at, why);
    return false;
}

static bool fail_utf8(scanner *s, size_t at)
{
    if (s->err != NULL && s->errsz > 0)
        snprintf(s->err, s->errsz, "invalid JSON: invalid UTF-8 at byte %zu", at);
    return false;
}

static int clamp_depth(int max_depth)
{
    if (max_depth <= 0)
        return HUB_JSON_DEFAULT_DEPTH;
    if (max_depth > HUB_JSON_DEPTH_CEILING)
        return HUB_JSON_DEPTH_CEILING;
    return max_depth;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static void skip_ws(scanner *s)
{
    while (s->pos < s->len && is_ws(s->p[s->pos]))
        s->pos++;
}

/*
 * Returns the length (2..4) of the well-formed UTF-8 sequence at p (RFC 3629 table: no
 * overlongs, no UTF-16 surrogates, nothing above U+10FFFF), or 0 when it is not one.
 */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    size_t n;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        if (c == 0xED)
            hi = 0x9F; /* U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead or F5..FF */
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    }
    return n;
}

/* Reads 4 hex digits at p into *out; false when fewer than 4 bytes or a non-hex digit. */
static bool read_hex4(const unsigned char *p, size_t avail, unsigned *out)
{
    unsigned v = 0;

    if (avail < 4)
        return false;
    for (size_t k = 0; k < 4; k++) {
        int d = hub_hex_digit(p[k]);
        if (d < 0)
            return false;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return true;
}

/* Checks the escape whose backslash is at *ip; on success moves *ip past it. */
static bool scan_escape(scanner *s, size_t *ip)
{
    size_t i = *ip;
    unsigned cp;
    unsigned lo;

    if (i + 1 >= s->len)
        return fail_at(s, i, "unterminated string");
    switch (s->p[i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        *ip = i + 2;
        return true;
    case 'u':
        break;
    default:
        return fail_at(s, i, "invalid escape");
    }
    if (!read_hex4(s->p + i + 2, s->len - (i + 2), &cp))
        return fail_at(s, i, "invalid \\u escape");
    if (cp == 0)
        return fail_at(s, i, "\\u0000 is not allowed");
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail_at(s, i, "lone surrogate");
    if (cp < 0xD800 || cp > 0xDBFF) {
        *ip = i + 6;
        return true;
    }
    /* A high surrogate must be followed at once by an escaped low surrogate. */
    if (i + 7 >= s->len || s->p[i + 6] != '\\' || s->p[i + 7] != 'u' ||
        !read_hex4(s->p + i + 8, s->len - (i + 8), &lo) || lo < 0xDC00 || lo > 0xDFFF)
        return fail_at(s, i, "lone surrogate");
    *ip = i + 12;
    return true;
}

/* Scans the string whose opening quote is at s->pos; on success s->pos is past the close. */
static bool scan_string(scanner *s)
{
    size_t i = s->pos + 1;

    for (;;) {
        if (i >= s->len)
            return fail_at(s, s->pos, "unterminated string");
        unsigned char c = s->p[i];
        if (c == '"') {
            s->pos = i + 1;
            return true;
        }
        if (c < 0x20)
            return fail_at(s, i, "control character in string");
        if (c == '\\') {
            if (!scan_escape(s, &i))
                return false;
        } else if (c >= 0x80) {
            size_t n = utf8_seq_len(s->p + i, s->len - i);
            if (n == 0)
                return fail_utf8(s, i);
            i += n;
        } else {
            i++;
        }
    }
}

/* Returns the index after the run of digits starting at i (i itself when there is none). */
static size_t skip_digits(const scanner *s, size_t i)
{
    while (i < s->len && is_digit(s->p[i]))
        i++;
    return i;
}

/* Scans a number per RFC 8259 section 6 at s->pos: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(scanner *s)
{
    size_t i = s->pos;
    size_t j;

    if (s->p[i] == '-')
        i++;
    j = skip_digits(s, i);
    if (j == i || (s->p[i] == '0' && j > i + 1))
        return fail_at(s, s->pos, "invalid number"); /* no digit, or a leading zero */
    i = j;
    if (i < s->len && s->p[i] == '.') {
        j = skip_digits(s, i + 1);
        if (j == i + 1)
            return fail_at(s, s->pos, "invalid number");
        i = j;
    }
    if (i < s->len && (s->p[i] == 'e' || s->p[i] == 'E')) {
        i++;
        if (i < s->len && (s->p[i] == '+' || s->p[i] == '-'))
            i++;
        j = skip_digits(s, i);
        if (j == i)
            return fail_at(s, s->pos, "invalid number");
        i = j;
    }
    s->pos = i;
    return true;
}

/* Scans true, false or null at s->pos. */
static bool scan_literal(scanner *s)
{
    static const char *const words[] = {"true", "false", "null"};

    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
        size_t n = strlen(words[k]);
        if (s->len - s->pos >= n && memcmp(s->p + s->pos, words[k], n) == 0) {
            s->pos += n;
            return true;
        }
    }
    return fail_at(s, s->pos, "unexpected character");
}

/* Scans a scalar value (string, number, literal) at s->pos. */
static bool scan_scalar(scanner *s)
{
    unsigned char c = s->p[s->pos];

    if (c == '"')
        return scan_string(s);
    if (c == '-' || is_digit(c))
        return scan_number(s);
    return scan_literal(s);
}

/* Structure state of validate_doc(): the open containers and what comes next. */
typedef struct {
    unsigned char stack[HUB_JSON_DEPTH_CEILING]; /* kind of each open container */
    size_t open;
    size_t depth; /* the (clamped) nesting limit */
    enum expect want;
    doc_facts *facts;
} nesting;

/* A value starts at s->pos (c is its first byte): open a container or scan a scalar. */
static bool step_value(scanner *s, nesting *n, unsigned char c)
{
    if (c != '[' && c != '{') {
        if (!scan_scalar(s))
            return false;
        n->want = EXP_AFTER_VALUE;
        return true;
    }
    if (n->open >= n->depth) {
        if (s->err != NULL && s->errsz > 0)
            snprintf(s->err, s->errsz, "invalid JSON: nesting deeper than %zu", n->depth);
        return false;
    }
    n->stack[n->open++] = c == '[' ? FRAME_ARRAY : FRAME_OBJECT;
    s->pos++;
    n->want = c == '[' ? EXP_VALUE_OR_CLOSE : EXP_KEY_OR_CLOSE;
    return true;
}

/* After a complete value: ',' or the bracket closing the innermost container. */
static bool step_after_value(scanner *s, nesting *n, unsigned char c)
{
    unsigned char top;

    if (n->open == 0)
        return fail_at(s, s->pos, "unexpected data after the value");
    top = n->stack[n->open - 1];
    if (c == ',') {
        if (top == FRAME_OBJECT)
            n->facts->multi_member = true;
        n->want = top == FRAME_OBJECT ? EXP_KEY : EXP_VALUE;
    } else if ((c == ']' && top == FRAME_ARRAY) || (c == '}' && top == FRAME_OBJECT)) {
        n->open--;
    } else {
        return fail_at(s, s->pos, "expected ',' or a closing bracket");
    }
    s->pos++;
    return true;
}

/* Consumes one token at s->pos (c is its first byte), according to n->want. */
static bool step(scanner *s, nesting *n, unsigned char c)
{
    if ((n->want == EXP_VALUE_OR_CLOSE && c == ']') || (n->want == EXP_KEY_OR_CLOSE && c == '}')) {
        n->open--; /* an empty container */
        s->pos++;
        n->want = EXP_AFTER_VALUE;
        return true;
    }
    switch (n->want) {
    case EXP_VALUE:
    case EXP_VALUE_OR_CLOSE:
        return step_value(s, n, c);
    case EXP_KEY:
    case EXP_KEY_OR_CLOSE:
        if (c != '"')
            return fail_at(s, s->pos, "expected a string key");
        n->facts->members++;
        n->want = EXP_COLON;
        return scan_string(s);
    case EXP_COLON:
        if (c != ':')
            return fail_at(s, s->pos, "expected ':'");
        s->pos++;
        n->want = EXP_VALUE;
        return true;
    case EXP_AFTER_VALUE:
        return step_after_value(s, n, c);
    }
    return fail_at(s, s->pos, "unexpected character");
}

/*
 * The whole-document check (no tree). Returns true when text is exactly one RFC 8259 value
 * with optional whitespace around it, nested at most depth deep; fills *facts. On false a
 * message is in err. Allocates nothing; its one stack is a bounded array in n.
 */
static bool validate_doc(const char *text, size_t len, int depth, doc_facts *facts, char *err,
                         size_t errsz)
{
    nesting n = {.open = 0, .depth = (size_t)depth, .want = EXP_VALUE, .facts = facts};
    scanner s = {(const unsigned char *)text, len, 0, err, errsz};
    const void *nul;

    facts->members = 0;
    facts->multi_member = false;
    if (len == 0) {
        set_err(err, errsz, "empty body");
        return false;
    }
    if (text == NULL) {
        set_err(err, errsz, "no input");
        return false;
    }
    if (len > HUB_JSON_MAX_LEN) {
        set_err(err, errsz, "body too large");
        return false;
    }
    nul = memchr(text, 0, len);
    if (nul != NULL)
        return fail_at(&s, (size_t)((const char *)nul - text), "NUL byte");
    skip_ws(&s);
    if (s.pos == len) {
        set_err(err, errsz, "empty body");
        return false;
    }
    for (;;) {
        skip_ws(&s);
        if (s.pos == len)
            break;
        if (!step(&s, &n, s.p[s.pos]))
            return false;
    }
    if (n.open != 0 || n.want != EXP_AFTER_VALUE)
        return fail_at(&s, s.pos, "unexpected end of input");
    return true;
}

/* One open container of the tree walk. Borrows obj. */
typedef struct {
    json_object *obj;
    struct json_object_iterator it;
    struct json_object_iterator end;
    size_t idx;
    size_t n;
} walk_frame;

static bool is_container(json_object *o)
{
    return json_object_is_type(o, json_type_object) || json_object_is_type(o, json_type_array);
}

static void frame_open(walk_frame *f, json_object *o, size_t *sum)
{
    f->obj = o;
    f->idx = 0;
    f->n = 0;
    if (json_object_is_type(o, json_type_object)) {
        *sum += (size_t)json_object_object_length(o);
        f->it = json_object_iter_begin(o);
        f->end = json_object_iter_end(o);
    } else {
        f->n = json_object_array_length(o);
    }
}

/*
 * Sums json_object_object_length() over every object in the tree, without recursion.
 * Returns false (message in err) only when out of memory or the tree is deeper than depth.
 */
static bool sum_members(json_object *root, int depth, size_t *sum, char *err, size_t errsz)
{
    bool rc = false;
    walk_frame *frames = NULL; /* owned: freed at end */
    size_t open = 0;

    *sum = 0;
    if (!is_container(root)) {
        rc = true;
        goto end;
    }
    frames = calloc((size_t)depth + 1, sizeof(*frames));
    if (frames == NULL) {
        set_err(err, errsz, "out of memory");
        goto end;
    }
    frame_open(&frames[open++], root, sum);
    while (open > 0) {
        walk_frame *f = &frames[open - 1];
        json_object *child = NULL;
        if (json_object_is_type(f->obj, json_type_object)) {
            if (json_object_iter_equal(&f->it, &f->end)) {
                open--;
                continue;
            }
            child = json_object_iter_peek_value(&f->it);
            json_object_iter_next(&f->it);
        } else {
            if (f->idx >= f->n) {
                open--;
                continue;
            }
            child = json_object_array_get_idx(f->obj, f->idx++);
        }
        if (!is_container(child))
            continue;
        if (open > (size_t)depth) {
            set_err(err, errsz, "nesting too deep");
            goto end;
        }
        frame_open(&frames[open++], child, sum);
    }
    rc = true;
end:
    free(frames);
    return rc;
}

/*
 * Builds the json-c tree of a document validate_doc() accepted and refuses duplicate keys.
 * On success *out is the new tree (caller owns; NULL for the literal null).
 */
static bool build_tree(const char *text, size_t len, int depth, const doc_facts *facts,
                       json_object **out, char *err, size_t errsz)
{
    bool rc = false;
    struct json_tokener *tok = NULL; /* owned: freed at end */
    json_object *root = NULL;        /* owned until handed to *out */
    enum json_tokener_error jerr;
    size_t sum = 0;

    *out = NULL;
    tok = json_tokener_new_ex(depth + 1);
    if (tok == NULL) {
        set_err(err, errsz, "out of memory");
        goto end;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        /* A top-level scalar has no end of its own: the terminating NUL tells json-c. */
        root = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    } else if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) != len) {
        set_err(err, errsz, "unexpected data after the value");
        goto end;
    }
    if (jerr != json_tokener_success) {
        /* The scanner accepted it: json-c failed to allocate or is stricter than RFC 8259. */
        set_err(err, errsz, "refused by the parser");
        goto end;
    }
    if (facts->multi_member) {
        if (!sum_members(root, depth, &sum, err, errsz))
            goto end;
        if (sum != facts->members) {
            set_err(err, errsz, "duplicate key");
            goto end;
        }
    }
    *out = root;
    root = NULL;
    rc = true;
end:
    json_object_put(root);
    if (tok != NULL)
        json_tokener_free(tok);
    return rc;
}

bool hub_json_parse(const char *text, size_t len, int max_depth, json_object **out, char *err,
                    size_t errsz)
{
    int depth = clamp_depth(max_depth);
    doc_facts facts;

    if (out == NULL) {
        set_err(err, errsz, "no output");
        return false;
    }
    *out = NULL;
    if (!validate_doc(text, len, depth, &facts, err, errsz))
        return false;
    return build_tree(text, len, depth, &facts, out, err, errsz);
}

bool hub_json_validate(const char *text, size_t len, int max_depth, char *err, size_t errsz)
{
    int depth = clamp_depth(max_depth);
    doc_facts facts;
    json_object *tree = NULL; /* owned: only built for the duplicate check, put at once */
    bool rc;

    if (!validate_doc(text, len, depth, &facts, err, errsz))
        return false;
    if (!facts.multi_member)
        return true; /* no object has two members: no duplicate possible, no tree needed */
    rc = build_tree(text, len, depth, &facts, &tree, err, errsz);
    json_object_put(tree);
    return rc;
}
