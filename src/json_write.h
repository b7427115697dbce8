/* JSON text from values and strings (json.h's parser read them): enum and
 * const values of schemas, tool calls handed to hosts and templates. */
#ifndef HEARTH_JSON_WRITE_H
#define HEARTH_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "think.h"

/* Appends v as compact JSON; false: out of memory. */
bool json_write(think_buf *b, const json_value *v);
/* Appends bytes s as a JSON string literal (quotes included). */
bool json_write_string(think_buf *b, const char *s, size_t n);

#endif
