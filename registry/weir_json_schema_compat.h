/*
 * weir_json_schema_compat.h: JSON Schema as the registry's second schema
 * type ("JSON"): parsing and validating a schema document (42201 when
 * invalid), resolving $ref within the document and to referenced schemas,
 * the normalized form that decides when two texts are the same schema
 * (equal JSON values: key order and whitespace do not matter), and the
 * compatibility check Confluent uses for JSON Schema (fact sheet A5; its
 * json/diff classes).
 *
 * The check compares an original schema (what the writer used) with an
 * update (what the reader uses) and classifies every difference; the
 * update can read what the original allowed when every difference is in
 * Confluent's compatible set (SchemaDiff.COMPATIBLE_CHANGES).  The central
 * idea is the content model of objects (and arrays): open (any extra
 * property allowed), closed (additionalProperties: false) or partially
 * open (patternProperties or an additionalProperties schema).  Examples:
 *   - adding an optional property is compatible only if the original was
 *     closed (an open original may already have had that property with any
 *     value); removing a property only if the update is open;
 *   - making a property required is compatible only when it has a default;
 *   - maxLength increased, minLength decreased, maximum increased, enum
 *     extended, anyOf extended, "integer" widened to "number",
 *     additionalProperties false -> true: compatible; the opposite
 *     directions are not;
 *   - a type change is incompatible unless the original was false or the
 *     update accepts anything ({} or true).
 * Schemas are classified the way the everit loader Confluent uses does: a
 * "type" array is an anyOf of one schema per type; several kinds of
 * keywords in one object (say "type": "string" and "enum") make a
 * synthetic allOf; an object with no "type" is typed by the keywords it
 * uses.  Recursive $ref cycles are assumed compatible while being checked.
 * Weir adds one rule: if/then/else must be unchanged (Confluent ignores
 * them).
 */
#ifndef WEIR_JSON_SCHEMA_COMPAT_H
#define WEIR_JSON_SCHEMA_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "weir_compat.h"

/** Deepest nesting of subschemas a JSON schema may have. */
#define WEIR_JSON_SCHEMA_MAX_DEPTH 128

typedef struct weir_json_schema_s weir_json_schema_t;

/**
 * Parses and validates a JSON schema.
 *
 * @param ref_names, refs, ref_lens, nrefs  referenced schemas (Confluent
 *        references): a "$ref" whose document part equals a name (or the
 *        name's last path segment) resolves into that schema.  May be 0.
 * @returns 0 with *out set, or WEIR_EPARSE with a message in err.
 */
int weir_json_schema_parse(const char *text, size_t len, const char *const *ref_names,
                           const char *const *refs, const size_t *ref_lens, size_t nrefs,
                           weir_json_schema_t **out, char *err, size_t errsz);

void weir_json_schema_free(weir_json_schema_t *s);

/** The normalized text (compact JSON, object keys sorted). */
const char *weir_json_schema_normalized(const weir_json_schema_t *s);

/** The parsed document (owned by s). */
const json_t *weir_json_schema_doc(const weir_json_schema_t *s);

/**
 * Whether a reader with schema `reader` accepts everything a writer with
 * schema `writer` could produce, by Confluent's rules; the incompatible
 * differences are added to msgs (may be NULL) as
 * {errorType:"...", description:"..."}.
 */
bool weir_json_schema_can_read(const weir_json_schema_t *reader, const weir_json_schema_t *writer,
                               weir_msgs_t *msgs);

/** Checks a new schema against earlier versions (newest first) at a level. */
bool weir_json_schema_compat_check(weir_compat_level_t level, const weir_json_schema_t *new_schema,
                                   const weir_json_schema_t *const *prev, size_t nprev,
                                   weir_msgs_t *msgs);

#endif
