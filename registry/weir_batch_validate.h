/*
 * weir_batch_validate.h: broker-side schema validation of one partition's
 * produced record data (Confluent's confluent.{key,value}.schema.validation
 * topic configs, plus weir.value.schema.validation.payload): the loop over
 * every record of every batch the Produce path runs before appending.
 *
 * Every record's key (key validation) and value (value validation) must be
 * null or framed as the registry's wire format (magic byte 0, a 4-byte
 * big-endian schema id) with an id registered, not soft-deleted, under
 * <topic>-key / <topic>-value; with payload validation the value's bytes
 * after the framing must decode with that schema
 * (weir_schema_validate_payload).  Control batches are skipped.  The walk
 * uses weir_record_iter_next_kv() (only keys and values, varints inline),
 * looks each distinct id up once per call, and compares the framing of the
 * next records against the last id found.
 */
#ifndef WEIR_BATCH_VALIDATE_H
#define WEIR_BATCH_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_avro_validate.h"
#include "weir_buf.h"
#include "weir_kerr.h"

/** What to check (from the topic's configs). */
typedef struct weir_batch_checks_s {
    bool key;     /* confluent.key.schema.validation */
    bool value;   /* confluent.value.schema.validation */
    bool payload; /* weir.value.schema.validation.payload (with value) */
} weir_batch_checks_t;

/** Why a partition's data was refused. */
typedef struct weir_batch_failure_s {
    int64_t index;        /* the record, counted from 0 over all the batches (CORRUPT_MESSAGE:
                           * the first one that could not be decoded); -1 if none */
    int64_t offset_delta; /* its offset delta in its batch; -1 if none */
    const char *what;     /* "key", "value", or "batch" (CORRUPT_MESSAGE) */
    weir_sv_result_t result;
    char reason[400];
} weir_batch_failure_t;

/**
 * @brief Validates every record of the batches in records[0..len) (one
 *        partition's data of a Produce request) for topic.
 * @param v       the broker's validator (NULL: validation impossible)
 * @param fail    filled when the answer is not NONE (may be NULL)
 * @returns WEIR_KERR_NONE when every record passes (or nothing is to be
 *          checked); WEIR_KERR_INVALID_RECORD with fail naming the first
 *          record that does not (or v is NULL); WEIR_KERR_CORRUPT_MESSAGE
 *          when a batch or record cannot be decoded (a batch length beyond
 *          the data, a bad header, malformed records, a codec failure).
 *          Nothing is changed either way.
 */
weir_kerr_t weir_batch_schema_validate(weir_schema_validator_t *v, weir_str_t topic,
                                       const weir_batch_checks_t *checks, const uint8_t *records,
                                       size_t len, weir_batch_failure_t *fail);

#endif
