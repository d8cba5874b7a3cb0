/*
 * weir_schema_diff.h: what changes between a subject's current schema and a
 * proposed one, field by field, for people deciding on a schema-change
 * request (the admin API's GET /admin/v1/requests/{id}/diff and
 * `weirctl schema diff`).
 *
 * The result is a JSON array of changes, each an object with
 *   "path"    where: field names from the root joined by '.', "[]" for
 *             array items, "{}" for map values ("" is the root);
 *   "change"  one of "added", "removed", "renamed", "type_changed",
 *             "default_added", "default_removed", "default_changed",
 *             "symbols_changed", "enum_default_changed", "size_changed",
 *             "required_added", "required_removed" (JSON Schema) and
 *             "enum_changed" (JSON Schema);
 * and what applies of "type" (of an added or removed field), "old_type",
 * "new_type", "default", "old_default", "new_default" (JSON values),
 * "added_symbols", "removed_symbols" (arrays), "old_name", "old_size",
 * "new_size".  Types are written readably: primitives by name, named types
 * by full name, "array<T>", "map<T>", unions as "null|string", a logical
 * type after its base type as "long(timestamp-millis)".
 *
 * Records are matched by field name (a new field naming the old one among
 * its aliases is "renamed"); nested records, array items, map values and
 * the record branches of unions (matched by full name) are walked, each
 * pair of named types once, so recursive schemas end.  These are pure
 * functions of the two schemas: no registry, no I/O.
 */
#ifndef WEIR_SCHEMA_DIFF_H
#define WEIR_SCHEMA_DIFF_H

#include <jansson.h>

#include "weir_avro_schema.h"

/**
 * @brief The changes from old_schema to new_schema (Avro, parsed).
 * @param old_schema the current schema, or NULL when the subject has none:
 *        every field of the new one (or its root) is then "added".
 * @returns a new JSON array (never NULL).
 */
json_t *weir_schema_diff_avro(const weir_avro_schema_t *old_schema,
                              const weir_avro_schema_t *new_schema);

/**
 * @brief The changes from old_doc to new_doc (JSON Schema documents):
 *        "properties" (added/removed with their type and default, type,
 *        default and "enum" changes), "required", nested objects and
 *        "items"; local "$ref"s ("#/definitions/X", "#/$defs/X") are
 *        followed, others compared as written.
 * @param old_doc NULL when the subject has no schema yet.
 * @returns a new JSON array (never NULL).
 */
json_t *weir_schema_diff_json(const json_t *old_doc, const json_t *new_doc);

/**
 * @brief One change as a line of text for people ("+ note: string,
 *        default \"\"", "~ qty: type int -> long", ...).
 * @returns a malloc'ed string.
 */
char *weir_schema_diff_line(const json_t *change);

#endif
