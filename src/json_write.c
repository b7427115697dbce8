#include "json_write.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static bool add(think_buf *b, const char *s) { return think_buf_add(b, s, strlen(s)); }

bool json_write_string(think_buf *b, const char *s, size_t n) {
    if (!add(b, "\"")) return false;
    size_t run = 0; /* bytes copied as they are, in one go */
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = (uint8_t)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        if (!think_buf_add(b, s + run, i - run)) return false;
        char esc[8];
        if (ch == '"' || ch == '\\') snprintf(esc, sizeof esc, "\\%c", ch);
        else if (ch == '\n') snprintf(esc, sizeof esc, "\\n");
        else if (ch == '\t') snprintf(esc, sizeof esc, "\\t");
        else if (ch == '\r') snprintf(esc, sizeof esc, "\\r");
        else snprintf(esc, sizeof esc, "\\u%04x", ch);
        if (!add(b, esc)) return false;
        run = i + 1;
    }
    return think_buf_add(b, s + run, n - run) && add(b, "\"");
}

bool json_write(think_buf *b, const json_value *v) {
    char num[40];
    switch (v->type) {
    case JSON_NULL: return add(b, "null");
    case JSON_BOOL: return add(b, v->b ? "true" : "false");
    case JSON_NUMBER:
        /* a number past double's range (1e999 is valid JSON) has no JSON form: null, as JavaScript writes it */
        if (!v->is_int && !isfinite(v->num)) return add(b, "null");
        if (v->is_int) snprintf(num, sizeof num, "%" PRId64, v->i);
        else snprintf(num, sizeof num, "%.17g", v->num);
        return add(b, num);
    case JSON_STRING: return json_write_string(b, v->str, v->len);
    case JSON_ARRAY:
    case JSON_OBJECT:
        if (!add(b, v->type == JSON_ARRAY ? "[" : "{")) return false;
        for (size_t i = 0; i < v->n; i++) {
            if (i && !add(b, ",")) return false;
            if (v->type == JSON_OBJECT && !(json_write_string(b, v->keys[i], v->key_lens[i]) && add(b, ":")))
                return false;
            if (!json_write(b, &v->items[i])) return false;
        }
        return add(b, v->type == JSON_ARRAY ? "]" : "}");
    }
    return false;
}
