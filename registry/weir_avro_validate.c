/*
 * weir_avro_validate.c: broker-side validation of record values against
 * the registry (weir_avro_validate.h): the wire-format framing, the subject
 * check, the bounded Avro binary walk, and avro-c decoding with cached
 * generic value classes.
 */
#include "weir_avro_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>

#include "weir_common.h"

/* ------------------------------------------------------------------------ */
/* The validator                                                            */
/* ------------------------------------------------------------------------ */

typedef struct weir_sv_entry_s {
    const weir_reg_schema_t *schema;
    avro_value_iface_t *iface;
    avro_value_t value;
} weir_sv_entry_t;

struct weir_schema_validator_s {
    weir_registry_t *reg;
    avro_reader_t reader;
    weir_sv_entry_t *entries; /* open addressing on the schema pointer */
    size_t cap, used;
};

weir_schema_validator_t *
weir_schema_validator_new(weir_registry_t *reg)
{
    weir_schema_validator_t *v = weir_calloc(1, sizeof(*v));

    v->reg = reg;
    v->reader = avro_reader_memory("", 0);
    if (!v->reader)
        abort();
    return v;
}

void
weir_schema_validator_free(weir_schema_validator_t *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->cap; i++) {
        if (!v->entries[i].schema)
            continue;
        if (v->entries[i].iface) {
            avro_value_decref(&v->entries[i].value);
            avro_value_iface_decref(v->entries[i].iface);
        }
    }
    free(v->entries);
    avro_reader_free(v->reader);
    free(v);
}

static size_t
weir_sv_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;

    return (size_t)(h ^ (h >> 29));
}

/* The cached generic value for a schema (created on first use). */
static weir_sv_entry_t *
weir_sv_entry(weir_schema_validator_t *v, const weir_reg_schema_t *s)
{
    size_t i;

    if ((v->used + 1) * 2 > v->cap) {
        weir_sv_entry_t *old = v->entries;
        size_t oldcap = v->cap;

        v->cap = v->cap ? v->cap * 2 : 16;
        v->entries = weir_calloc(v->cap, sizeof(*v->entries));
        for (size_t k = 0; k < oldcap; k++) {
            if (!old[k].schema)
                continue;
            i = weir_sv_hash(old[k].schema) & (v->cap - 1);
            while (v->entries[i].schema)
                i = (i + 1) & (v->cap - 1);
            v->entries[i] = old[k];
        }
        free(old);
    }
    for (i = weir_sv_hash(s) & (v->cap - 1); v->entries[i].schema; i = (i + 1) & (v->cap - 1))
        if (v->entries[i].schema == s)
            return &v->entries[i];
    v->entries[i].schema = s;
    v->used++;
    v->entries[i].iface = avro_generic_class_from_schema(s->avro->avroc);
    if (v->entries[i].iface &&
        avro_generic_value_new(v->entries[i].iface, &v->entries[i].value) != 0) {
        avro_value_iface_decref(v->entries[i].iface);
        v->entries[i].iface = NULL;
    }
    return &v->entries[i];
}

static weir_sv_result_t __attribute__((format(printf, 4, 5)))
weir_sv_fail(weir_sv_result_t r, char *reason, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (reason && size) {
        va_start(ap, fmt);
        vsnprintf(reason, size, fmt, ap);
        va_end(ap);
    }
    return r;
}

weir_sv_result_t
weir_schema_validate(weir_schema_validator_t *v, const char *subject, const void *value,
                     int64_t len, bool payload, int32_t *id_out, char *reason, size_t reason_size)
{
    const uint8_t *p = value;
    const weir_reg_schema_t *s;
    char why[512];
    int32_t id;

    if (len < 0)
        return WEIR_SV_OK; /* null: tombstones pass */
    if (len < 5)
        return weir_sv_fail(WEIR_SV_NO_ID, reason, reason_size,
                            "%lld bytes cannot hold the schema registry framing (magic byte 0 "
                            "and a 4-byte schema id)",
                            (long long)len);
    if (p[0] != 0)
        return weir_sv_fail(WEIR_SV_NO_ID, reason, reason_size,
                            "magic byte is 0x%02x, not 0x00: not in the schema registry's wire "
                            "format",
                            p[0]);
    id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]);
    if (id_out)
        *id_out = id;
    s = weir_registry_id_in_subject(v->reg, subject, id);
    if (!s)
        return weir_sv_fail(WEIR_SV_UNKNOWN_ID, reason, reason_size,
                            "schema id %d is not registered under subject %s", id, subject);
    if (!payload)
        return WEIR_SV_OK;
    if (s->type == WEIR_SCHEMA_JSON) {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)p + 5, (size_t)len - 5, JSON_DECODE_ANY, &jerr);

        if (!j)
            return weir_sv_fail(WEIR_SV_BAD_PAYLOAD, reason, reason_size,
                                "payload is not valid JSON for schema id %d: %s", id, jerr.text);
        json_decref(j);
        return WEIR_SV_OK;
    }
    if (!s->avro || !s->avro->avroc)
        return WEIR_SV_OK; /* a stored schema that no longer parses: framing only */
    if (weir_avro_payload_check(s->avro->root, p + 5, (size_t)len - 5, why, sizeof(why)) < 0)
        return weir_sv_fail(WEIR_SV_BAD_PAYLOAD, reason, reason_size,
                            "payload does not decode with schema id %d: %s", id, why);
    {
        weir_sv_entry_t *e = weir_sv_entry(v, s);

        if (!e->iface)
            return weir_sv_fail(WEIR_SV_BAD_PAYLOAD, reason, reason_size,
                                "avro-c cannot build a value for schema id %d: %s", id,
                                avro_strerror());
        avro_value_reset(&e->value);
        avro_reader_memory_set_source(v->reader, (const char *)p + 5, len - 5);
        if (avro_value_read(v->reader, &e->value) != 0)
            return weir_sv_fail(WEIR_SV_BAD_PAYLOAD, reason, reason_size,
                                "payload does not decode with schema id %d: avro-c: %s", id,
                                avro_strerror());
        /* avro_reader_is_eof() only works on files: a memory reader at its
         * end refuses to skip a byte. */
        if (avro_skip(v->reader, 1) == 0)
            return weir_sv_fail(WEIR_SV_BAD_PAYLOAD, reason, reason_size,
                                "payload of schema id %d has bytes left over after the value "
                                "(avro-c)",
                                id);
    }
    return WEIR_SV_OK;
}
