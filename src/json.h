/* A small strict JSON parser (RFC 8259) for chat messages and tool
 * definitions: UTF-8 validated, nesting bounded, trailing garbage refused.
 * Errors name the line and column. */
#ifndef HEARTH_JSON_H
#define HEARTH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    bool b;
    bool is_int;   /* a number that is an integer within +-2^53 (as JavaScript sees it) */
    int64_t i;
    double num;
    char *str;     /* string (NUL-terminated; may contain NUL) */
    size_t len;
    json_value *items; /* array elements or object values */
    char **keys;       /* object keys (NUL-terminated) */
    size_t *key_lens;
    size_t n;
};

enum { JSON_MAX_DEPTH = 128 };

/* JSON's whitespace: space, tab, newline, carriage return. */
static inline bool json_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Parses text (len bytes); *out is freed with json_free. */
hearth_status json_parse(const char *text, size_t len, json_value **out, hearth_error *err);
void json_free(json_value *v);
/* An object's member, NULL when absent (or v is not an object). */
const json_value *json_get(const json_value *v, const char *key);

#endif
