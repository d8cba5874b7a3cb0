/*
 * weir_avro_compat.h: Avro schema resolution (the specification's "Schema
 * Resolution" section, checked the way Avro-Java's SchemaCompatibility
 * does, which is what Confluent runs) over Weir's schema trees:
 *
 *   - the same primitive, or a promotion: int -> long, float, double;
 *     long -> float, double; float -> double; string <-> bytes;
 *   - records, enums and fixed match by unqualified name, or by a reader
 *     alias equal to the writer's full name; fixed sizes must be equal;
 *   - record fields match by name or by a reader field alias; writer-only
 *     fields are skipped; a reader-only field needs a default;
 *   - a writer enum symbol the reader lacks is an error unless the reader
 *     enum has a default;
 *   - arrays and maps match when their items / values match;
 *   - a writer union needs every branch readable; a reader union needs some
 *     branch that reads the writer (the first such branch is used);
 *   - recursive named types: a (reader, writer) pair met again while it is
 *     being checked is assumed to match (cycle detection), as Avro-Java does.
 *
 * Logical types, docs, defaults' values and orders do not affect
 * resolution.
 */
#ifndef WEIR_AVRO_COMPAT_H
#define WEIR_AVRO_COMPAT_H

#include <stdbool.h>

#include "weir_avro_schema.h"
#include "weir_compat.h"

/**
 * Whether data written with writer can be read with reader.  Each
 * incompatibility found is added to msgs (may be NULL) as
 * "{errorType:'...', description:'...', additionalInfo:'...'}", with the path
 * in the reader schema, in the format Confluent returns with verbose=true.
 */
bool weir_avro_can_read(const weir_avro_schema_t *reader, const weir_avro_schema_t *writer,
                        weir_msgs_t *msgs);

/** Node-level form of weir_avro_can_read. */
bool weir_avro_node_can_read(const weir_avro_node_t *reader, const weir_avro_node_t *writer,
                             weir_msgs_t *msgs);

/**
 * Checks a new schema against earlier versions (newest first) at a
 * Confluent level (see weir_compat.h for the directions).
 */
bool weir_avro_compat_check(weir_compat_level_t level, const weir_avro_schema_t *new_schema,
                            const weir_avro_schema_t *const *prev, size_t nprev, weir_msgs_t *msgs);

#endif
