/*
 * weir_avro_validate.h: broker-side schema validation of produced record
 * keys and values (Confluent's confluent.{key,value}.schema.validation,
 * plus Weir's payload check).
 *
 * A validated value must be in the registry's wire format - magic byte 0,
 * a 4-byte big-endian schema id, then the payload - and the id must be
 * registered (not soft-deleted) under the subject (TopicNameStrategy:
 * <topic>-value / <topic>-key).  Null values and keys (tombstones) pass.
 * With the payload check on, an Avro payload must decode with that schema
 * and use every byte: Weir's own bounded walk over its schema tree goes
 * first (every length checked against the bytes left, array block counts
 * bounded, nesting depth bounded, enum and union indexes in range), so a
 * hostile payload never reaches avro-c, which then decodes it into a
 * generic value (avro_value_read) as the second opinion.  A JSON-schema
 * payload must be valid JSON.  Produced batches are checked through
 * weir_schema_validate_payload() instead (weir_batch_validate.h): the same
 * rules as the walk, compiled once per schema into flat routines, without
 * avro-c's allocating decode.
 *
 * The validator caches avro-c's value classes and the compiled checkers
 * per schema; it belongs to the loop thread like the registry it reads.
 */
#ifndef WEIR_AVRO_VALIDATE_H
#define WEIR_AVRO_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_avro_payload.h"
#include "weir_avro_schema.h"
#include "weir_registry.h"

typedef enum weir_sv_result_e {
    WEIR_SV_OK = 0,
    WEIR_SV_NO_ID,       /* not magic byte 0 + 4-byte id */
    WEIR_SV_UNKNOWN_ID,  /* the id is not registered under the subject */
    WEIR_SV_BAD_PAYLOAD, /* the payload does not decode with the schema */
} weir_sv_result_t;

typedef struct weir_schema_validator_s weir_schema_validator_t;

/** A validator over a registry (which must outlive it). */
weir_schema_validator_t *weir_schema_validator_new(weir_registry_t *reg);
void weir_schema_validator_free(weir_schema_validator_t *v);

/**
 * @brief Validates one record value (or key) for subject.
 * @param value, len  the bytes; len < 0 is a null value (passes)
 * @param payload     also decode the payload with the schema
 * @param id_out      set to the schema id when the framing is valid (may be NULL)
 * @returns WEIR_SV_OK, or why not with a sentence in reason.
 */
weir_sv_result_t weir_schema_validate(weir_schema_validator_t *v, const char *subject,
                                      const void *value, int64_t len, bool payload, int32_t *id_out,
                                      char *reason, size_t reason_size);

/** A payload checker compiled from one Avro schema (owned by the validator). */
typedef struct weir_avp_s weir_sv_checker_t;

/**
 * @brief The compiled checker of schema s (compiled on first use, kept
 *        while v lives), or NULL when s has none: a JSON schema, or a
 *        stored schema that no longer parses (framing only).
 */
const weir_sv_checker_t *weir_schema_validator_checker(weir_schema_validator_t *v,
                                                       const weir_reg_schema_t *s);

/** Whether payload is exactly one value of the checker's schema (no reason). */
bool weir_sv_checker_run(const weir_sv_checker_t *c, const void *payload, size_t len);

/** The registry v reads. */
weir_registry_t *weir_schema_validator_registry(const weir_schema_validator_t *v);

/**
 * @brief Checks a payload (the bytes after the 5-byte framing) against
 *        schema s, which the caller found registered under the subject.
 *        Avro: a checker compiled once per schema from Weir's schema tree
 *        (cached in v) with exactly the rules of weir_avro_payload_check();
 *        avro-c is not used.  JSON schema: the payload must be JSON.  A
 *        stored schema that no longer parses: framing only (as
 *        weir_schema_validate).  The path broker-side validation of
 *        produced batches takes (weir_batch_validate.h).
 * @returns WEIR_SV_OK or WEIR_SV_BAD_PAYLOAD with a sentence in reason.
 */
weir_sv_result_t weir_schema_validate_payload(weir_schema_validator_t *v,
                                              const weir_reg_schema_t *s, const void *payload,
                                              size_t len, char *reason, size_t reason_size);

#endif
