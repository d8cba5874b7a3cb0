/*
 * weir_avro_payload.h: checking that bytes are exactly one Avro binary
 * value of a schema (weir_avro_schema.h), without trusting any length or
 * count in them: the pre-check that keeps hostile payloads away from
 * avro-c's decoder (which would allocate a claimed length or loop over a
 * claimed count) in broker-side validation (weir_avro_validate.h).
 */
#ifndef WEIR_AVRO_PAYLOAD_H
#define WEIR_AVRO_PAYLOAD_H

#include <stddef.h>

#include "weir_avro_schema.h"

/** Deepest nesting of values in one payload (recursive schemas). */
#define WEIR_AVRO_MAX_VALUE_DEPTH 256
/** Most items of zero-byte encoding (null, empty records) in one array or map. */
#define WEIR_AVRO_MAX_EMPTY_ITEMS 65536

/**
 * @brief The fewest bytes a value of schema node n can take: 0 (null, a
 *        zero-size fixed, a record of only such fields) or 1 (any other
 *        value; all that matters when bounding item counts by bytes left).
 */
size_t weir_avro_min_size(const weir_avro_node_t *n);

/**
 * @brief Checks that buf is exactly one Avro binary value of schema node n:
 *        lengths fit the bytes left, array and map blocks hold no more
 *        items than the bytes can encode (WEIR_AVRO_MAX_EMPTY_ITEMS for
 *        zero-byte items), nesting stays within WEIR_AVRO_MAX_VALUE_DEPTH,
 *        booleans are 0 or 1, enum and union indexes are in range, varints
 *        are at most 5 (int) or 10 (long) bytes, and nothing is left over.
 * @returns 0, or -1 with the reason and byte offset in reason.
 */
int weir_avro_payload_check(const weir_avro_node_t *n, const void *buf, size_t len, char *reason,
                            size_t reason_size);

#endif
