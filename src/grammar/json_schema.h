/* JSON Schema to a GBNF grammar (grammar.h) whose every sentence is JSON
 * that validates against the schema. Supported: type (one or a list),
 * object properties with required and optional members (written in the
 * schema's order; additionalProperties false or true, no extra members are
 * generated either way), arrays with items, minItems and maxItems, strings
 * with minLength/maxLength, number, integer, boolean, null, enum, const,
 * anyOf, nested schemas, and $ref to "#" or "#/..." inside the document
 * (a list's items by index).
 * Annotations (title, description, default, examples, $schema, $id,
 * $comment) are ignored. Any other keyword is refused with an error that
 * names it, so a schema never constrains less than it says.
 * Whitespace between tokens is bounded, and so are numbers' digits, so an
 * answer cannot spin forever inside one value. */
#ifndef HEARTH_GRAMMAR_JSON_SCHEMA_H
#define HEARTH_GRAMMAR_JSON_SCHEMA_H

#include <stddef.h>

#include "error.h"
#include "json.h"

enum { JSON_SCHEMA_MAX_DEPTH = 64, JSON_SCHEMA_MAX_PROPERTIES = 256 };

/* *out (malloc'ed, NUL-terminated, *len bytes) is the grammar; its start rule is root. */
hearth_status json_schema_to_gbnf(const json_value *schema, char **out, size_t *len, hearth_error *err);
/* The same, the JSON between the literal texts before and after (tool-call
 * markup). documents: subschemas of schema (n_documents of them, pointers
 * into it) that are documents of their own: a $ref inside one is resolved
 * against it, not against schema (each tool's parameters inside the schema
 * of a call to any of the tools). */
hearth_status json_schema_to_gbnf_wrapped(const json_value *schema, const json_value *const *documents,
                                          size_t n_documents, const char *before, const char *after, char **out,
                                          size_t *len, hearth_error *err);
/* The grammar of any JSON object (response_format json_object). */
const char *json_object_gbnf(void);

#endif
