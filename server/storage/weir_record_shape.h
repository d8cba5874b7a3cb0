/*
 * weir_record_shape.h: the shape of a magic-v2 record - which of its bytes
 * are structure and which are content - so that runs of records sharing
 * one shape are walked at a few word compares each instead of a varint
 * decode per field.
 *
 * Structure: the record's length, the byte lengths of its timestamp and
 * offset deltas (their continuation bits), the lengths of its key and
 * value, its header count and each header's key and value lengths.
 * Content: the attributes, the deltas' values and the bytes of keys,
 * values and headers.  A record whose structural bytes equal those of a
 * record the exact walk (weir_record_iter_next_kvs()) accepted has the
 * same size, its key and value at the same places, and passes every check
 * of the exact walk too: the deltas' value range is checked against the
 * batch's base offset and timestamp once, when the shape is built.  A
 * caller may count the first bytes of the key and of the value as
 * structure (the schema id framing of schema validation), so that a match
 * also means they equal the template's.
 */
#ifndef WEIR_RECORD_SHAPE_H
#define WEIR_RECORD_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weir_batch.h"

/* Structural bytes are compared in up to this many 8-byte words. */
#define WEIR_RECORD_SHAPE_WORDS 8

typedef struct weir_record_shape_s {
    size_t size;                /* the whole record, its length varint included */
    size_t key_pos, value_pos;  /* from the record's first byte */
    int32_t key_len, value_len; /* -1: null */
    int nwords;
    uint32_t word_pos[WEIR_RECORD_SHAPE_WORDS];
    uint64_t word_mask[WEIR_RECORD_SHAPE_WORDS];
    uint64_t word_want[WEIR_RECORD_SHAPE_WORDS];
} weir_record_shape_t;

/**
 * @brief Builds the shape of the size bytes at rec, one record of the batch
 *        with header hdr that the exact walk accepted, counting the first
 *        key_prefix bytes of a non-null key and value_prefix bytes of a
 *        non-null value as structure.
 * @returns false when records of that shape take the exact walk: shorter
 *          than 8 bytes, more than WEIR_RECORD_SHAPE_WORDS words of
 *          structure, a delta longer than 4 bytes, or a base offset or
 *          timestamp within 2^27 of the int64 limits.
 */
bool weir_record_shape_build(weir_record_shape_t *s, const weir_batch_hdr_t *hdr,
                             const uint8_t *rec, size_t size, size_t key_prefix,
                             size_t value_prefix);

/** Whether the s->size bytes at p are a record of shape s. */
static inline bool
weir_record_shape_match(const weir_record_shape_t *s, const uint8_t *p)
{
    for (int i = 0; i < s->nwords; i++) {
        uint64_t w;

        memcpy(&w, p + s->word_pos[i], 8);
        if ((w & s->word_mask[i]) != s->word_want[i])
            return false;
    }
    return true;
}

#endif /* WEIR_RECORD_SHAPE_H */
