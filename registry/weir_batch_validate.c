/*
 * weir_batch_validate.c: the Produce path's schema validation loop over a
 * partition's batches (weir_batch_validate.h): batch framing, the record
 * walk, per-call id caches and the failure report.
 */
#include "weir_batch_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weir_batch.h"
#include "weir_common.h"
#include "weir_record_shape.h"
#include "weir_records.h"
#include "weir_registry.h"

/* Records decoded per weir_record_iter_next_kvs() call off the shapes. */
#define WEIR_BV_CHUNK 64
/* Shapes in a row that no record followed before the exact walk takes
 * the rest of a batch. */
#define WEIR_BV_MISSES 4

/* The last id found registered under one subject in this call: the
 * registry cannot change while the loop thread runs the call, so a record
 * framed with the same 5 bytes passes the id check without a lookup. */
typedef struct weir_bv_subject_s {
    char name[300];
    int32_t id;
    const weir_reg_schema_t *schema;
    const weir_sv_checker_t *checker; /* the schema's compiled checker, if any */
} weir_bv_subject_t;

static weir_kerr_t __attribute__((format(printf, 4, 5)))
weir_bv_fail(weir_batch_failure_t *fail, weir_kerr_t err, const char *what, const char *fmt, ...)
{
    va_list ap;

    if (!fail)
        return err;
    fail->what = what;
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(fail->reason, sizeof(fail->reason), fmt, ap);
        va_end(ap);
    }
    return err;
}

/* Checks one key or value of subject sub the slow way (the first record
 * of an id, or a failure); WEIR_SV_OK or why not in reason. */
static weir_sv_result_t
weir_bv_check(weir_schema_validator_t *v, weir_bv_subject_t *sub, weir_str_t b, bool payload,
              char *reason, size_t reason_size)
{
    const uint8_t *p = (const uint8_t *)b.ptr;
    int32_t id;

    if (b.len < 0)
        return WEIR_SV_OK; /* null: tombstones pass */
    if (b.len < 5 || p[0] != 0)
        /* the sentence, from the one-value check */
        return weir_schema_validate(v, sub->name, p, b.len, false, NULL, reason, reason_size);
    id = (int32_t)weir_be32(p + 1);
    if (!sub->schema || id != sub->id) {
        const weir_reg_schema_t *s =
            weir_registry_id_in_subject(weir_schema_validator_registry(v), sub->name, id);

        if (!s) {
            snprintf(reason, reason_size, "schema id %d is not registered under subject %s", id,
                     sub->name);
            return WEIR_SV_UNKNOWN_ID;
        }
        sub->id = id;
        sub->schema = s;
        sub->checker = payload ? weir_schema_validator_checker(v, s) : NULL;
    }
    if (!payload)
        return WEIR_SV_OK;
    if (sub->checker && weir_sv_checker_run(sub->checker, p + 5, (size_t)b.len - 5))
        return WEIR_SV_OK;
    /* JSON, framing only, or a failure: the full check, with its reason */
    return weir_schema_validate_payload(v, sub->schema, p + 5, (size_t)b.len - 5, reason,
                                        reason_size);
}

/* The common case inline: null, or framed with the id the last record of
 * the subject had (and, with payload, a payload the compiled checker
 * takes). */
static inline bool
weir_bv_fast(const weir_bv_subject_t *sub, weir_str_t b, bool payload)
{
    const uint8_t *p = (const uint8_t *)b.ptr;

    if (b.len < 0)
        return true;
    if (b.len < 5 || !sub->schema || p[0] != 0 || (int32_t)weir_be32(p + 1) != sub->id)
        return false;
    return !payload ||
           (sub->checker && weir_sv_checker_run(sub->checker, p + 5, (size_t)b.len - 5));
}

/* Checks one record's key and value (kv): WEIR_KERR_NONE, or
 * INVALID_RECORD with fail filled in. */
static weir_kerr_t
weir_bv_record(weir_schema_validator_t *v, weir_bv_subject_t *ksub, weir_bv_subject_t *vsub,
               bool vkey, bool vval, bool payload, const weir_record_kv_t *kv, int64_t index,
               weir_batch_failure_t *fail, char *reason, size_t reason_size)
{
    weir_sv_result_t r = WEIR_SV_OK;
    const char *what = "key";

    if (vkey && !weir_bv_fast(ksub, kv->key, false))
        r = weir_bv_check(v, ksub, kv->key, false, reason, reason_size);
    if (r == WEIR_SV_OK && vval && !weir_bv_fast(vsub, kv->value, payload)) {
        what = "value";
        r = weir_bv_check(v, vsub, kv->value, payload, reason, reason_size);
    }
    if (r == WEIR_SV_OK)
        return WEIR_KERR_NONE;
    if (fail) {
        fail->index = index;
        fail->offset_delta = kv->offset_delta;
        fail->result = r;
    }
    return weir_bv_fail(fail, WEIR_KERR_INVALID_RECORD, what, NULL);
}

/* The records of one batch (iterator it), counted on from *index.  Runs of
 * records with the shape of the last record checked the exact way
 * (weir_record_shape.h, with the 5 framing bytes of the checked key and
 * value as structure) pass at a few word compares each, plus the compiled
 * payload checker; a record off the shape is checked the exact way and
 * gives the next shape.  After WEIR_BV_MISSES shapes in a row that no
 * record followed (or that could not be built) the rest of the batch goes
 * the exact way, WEIR_BV_CHUNK records a step: its records differ. */
static weir_kerr_t
weir_bv_records(weir_schema_validator_t *v, weir_record_iter_t *it, weir_bv_subject_t *ksub,
                weir_bv_subject_t *vsub, bool vkey, bool vval, bool payload, int64_t *index,
                weir_batch_failure_t *fail, char *reason, size_t reason_size)
{
    weir_record_kv_t kvs[WEIR_BV_CHUNK];
    weir_record_shape_t shape;
    bool have_shape = false;
    int misses = 0;

    while (!it->err) {
        size_t start, n, want;

        if (have_shape) {
            const uint8_t *p = it->rd.data + it->rd.pos, *end = it->rd.data + it->rd.len;
            int32_t run = 0;

            while (run < it->remaining && (size_t)(end - p) >= shape.size &&
                   weir_record_shape_match(&shape, p) &&
                   (!payload || shape.value_len < 0 ||
                    (shape.value_len >= 5 && vsub->checker &&
                     weir_sv_checker_run(vsub->checker, p + shape.value_pos + 5,
                                         (size_t)shape.value_len - 5)))) {
                p += shape.size;
                run++;
            }
            it->rd.pos = (size_t)(p - it->rd.data);
            it->remaining -= run;
            *index += run;
            misses = run > 0 ? 0 : misses + 1;
        }
        want = misses < WEIR_BV_MISSES ? 1 : WEIR_BV_CHUNK;
        start = it->rd.pos;
        n = weir_record_iter_next_kvs(it, kvs, want);
        for (size_t i = 0; i < n; i++, (*index)++) {
            weir_kerr_t err = weir_bv_record(v, ksub, vsub, vkey, vval, payload, &kvs[i], *index,
                                             fail, reason, reason_size);
            if (err != WEIR_KERR_NONE)
                return err;
        }
        if (n < want)
            break; /* the end, or it->err */
        if (want == 1) {
            have_shape = weir_record_shape_build(&shape, &it->hdr, it->rd.data + start,
                                                 it->rd.pos - start, vkey ? 5 : 0,
                                                 vval ? 5 : 0);
            misses += !have_shape;
        }
    }
    return WEIR_KERR_NONE;
}

weir_kerr_t
weir_batch_schema_validate(weir_schema_validator_t *v, weir_str_t topic,
                           const weir_batch_checks_t *checks, const uint8_t *records, size_t len,
                           weir_batch_failure_t *fail)
{
    bool vkey = checks->key, vval = checks->value, payload = checks->value && checks->payload;
    weir_bv_subject_t ksub, vsub;
    char scratch[400];
    char *reason = fail ? fail->reason : scratch;
    size_t reason_size = fail ? sizeof(fail->reason) : sizeof(scratch);
    int64_t index = 0;
    size_t off = 0;

    if (fail) {
        fail->index = -1;
        fail->offset_delta = -1;
        fail->what = NULL;
        fail->result = WEIR_SV_OK;
        fail->reason[0] = '\0';
    }
    if (!vkey && !vval)
        return WEIR_KERR_NONE;
    if (!v)
        return weir_bv_fail(fail, WEIR_KERR_INVALID_RECORD, "batch",
                            "schema validation is impossible: the broker has no schema "
                            "registry");
    memset(&ksub, 0, sizeof(ksub));
    memset(&vsub, 0, sizeof(vsub));
    snprintf(ksub.name, sizeof(ksub.name), "%.*s-key", topic.len, topic.ptr);
    snprintf(vsub.name, sizeof(vsub.name), "%.*s-value", topic.len, topic.ptr);
    while (off + WEIR_BATCH_LOG_OVERHEAD <= len) {
        int32_t blen = (int32_t)weir_be32(records + off + WEIR_BATCH_OFF_LENGTH);
        weir_record_iter_t it;
        weir_kerr_t err;
        size_t total;

        if (fail)
            fail->index = index; /* if this batch cannot be decoded */
        if (blen < 0 || (size_t)blen > len - off - WEIR_BATCH_LOG_OVERHEAD)
            return weir_bv_fail(fail, WEIR_KERR_CORRUPT_MESSAGE, "batch",
                                "the batch at byte %zu claims %d bytes, more than the %zu left",
                                off, blen, len - off - WEIR_BATCH_LOG_OVERHEAD);
        total = WEIR_BATCH_LOG_OVERHEAD + (size_t)blen;
        if (weir_record_iter_init(&it, records + off, total, WEIR_RECORDS_SCAN_MAX_DECOMPRESSED) !=
            0) {
            weir_record_iter_free(&it);
            return weir_bv_fail(fail, WEIR_KERR_CORRUPT_MESSAGE, "batch",
                                "the batch at byte %zu cannot be decoded", off);
        }
        if (it.hdr.attributes & WEIR_BATCH_ATTR_CONTROL) {
            weir_record_iter_free(&it);
            off += total;
            continue;
        }
        err = weir_bv_records(v, &it, &ksub, &vsub, vkey, vval, payload, &index, fail, reason,
                              reason_size);
        if (err != WEIR_KERR_NONE) {
            weir_record_iter_free(&it);
            return err;
        }
        if (it.err) {
            weir_record_iter_free(&it);
            if (fail)
                fail->index = index;
            return weir_bv_fail(fail, WEIR_KERR_CORRUPT_MESSAGE, "batch",
                                "record %lld (in the batch at byte %zu) cannot be decoded",
                                (long long)index, off);
        }
        weir_record_iter_free(&it);
        off += total;
    }
    if (fail)
        fail->index = -1;
    return WEIR_KERR_NONE;
}
