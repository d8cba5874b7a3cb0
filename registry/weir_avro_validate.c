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
#include "weir_varint.h"

/* ------------------------------------------------------------------------ */
/* The validator                                                            */
/* ------------------------------------------------------------------------ */

typedef weir_sv_checker_t weir_avp_t;

typedef struct weir_sv_entry_s {
    const weir_reg_schema_t *schema;
    avro_value_iface_t *iface; /* avro-c's generic value class (weir_schema_validate) */
    avro_value_t value;
    bool tried_iface;
    weir_avp_t *prog; /* the compiled checker (weir_schema_validate_payload) */
} weir_sv_entry_t;

static void weir_avp_free(weir_avp_t *prog);

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
        weir_avp_free(v->entries[i].prog);
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

/* The cache entry of a schema (created empty on first use). */
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
    return &v->entries[i];
}

/* The entry of s with avro-c's generic value made (first use). */
static weir_sv_entry_t *
weir_sv_entry_avroc(weir_schema_validator_t *v, const weir_reg_schema_t *s)
{
    weir_sv_entry_t *e = weir_sv_entry(v, s);

    if (e->tried_iface)
        return e;
    e->tried_iface = true;
    e->iface = avro_generic_class_from_schema(s->avro->avroc);
    if (e->iface && avro_generic_value_new(e->iface, &e->value) != 0) {
        avro_value_iface_decref(e->iface);
        e->iface = NULL;
    }
    return e;
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
        weir_sv_entry_t *e = weir_sv_entry_avroc(v, s);

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

/* ------------------------------------------------------------------------ */
/* The compiled checker                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Weir's schema tree compiled once per schema into routines of flat ops, so
 * a payload check is a loop over an array instead of a walk over nodes.  A
 * routine checks one value: a record's routine holds one op per field
 * (nested records are calls, so recursive schemas work), any other value's
 * routine holds its one op.  The rules are exactly those of
 * weir_avro_payload_check() (the unit tests compare the two verdicts on
 * generated and mutated payloads); on a failure the walk is run once more
 * for its reason, so the compiled form only answers yes or no.
 */
typedef enum weir_avp_code_e {
    WEIR_AVP_NULL = 0,
    WEIR_AVP_BOOLEAN,
    WEIR_AVP_INT,
    WEIR_AVP_LONG,
    WEIR_AVP_SKIP,   /* a fixed number of bytes: float, double, fixed (a) */
    WEIR_AVP_BYTES,  /* bytes and string */
    WEIR_AVP_ENUM,   /* a symbols */
    WEIR_AVP_UNION,  /* a branches, b: first of them in prog->branches */
    WEIR_AVP_ARRAY,  /* a: smallest item size (0 or 1), b: the items' routine */
    WEIR_AVP_MAP,    /* b: the values' routine */
    WEIR_AVP_RECORD, /* b: the record's routine */
} weir_avp_code_t;

typedef struct weir_avp_op_s {
    uint8_t code;
    uint32_t a, b;
} weir_avp_op_t;

typedef struct weir_avp_routine_s {
    weir_avp_op_t *ops;
    uint32_t nops;
    bool record; /* the ops are fields, one level deeper than the value */
} weir_avp_routine_t;

struct weir_avp_s {
    weir_avp_routine_t *routines;
    uint32_t nroutines, routines_cap;
    uint32_t *branches; /* routines of union branches */
    uint32_t nbranches, branches_cap;
    uint32_t root;
    /* compile time only: routines of record nodes */
    const weir_avro_node_t **rec_nodes;
    uint32_t *rec_routines;
    uint32_t nrec, rec_cap;
};

static void
weir_avp_free(weir_avp_t *prog)
{
    if (!prog)
        return;
    for (uint32_t i = 0; i < prog->nroutines; i++)
        free(prog->routines[i].ops);
    free(prog->routines);
    free(prog->branches);
    free(prog->rec_nodes);
    free(prog->rec_routines);
    free(prog);
}

static uint32_t
weir_avp_new_routine(weir_avp_t *prog, bool record, uint32_t nops)
{
    weir_avp_routine_t *r;

    if (prog->nroutines == prog->routines_cap) {
        prog->routines_cap = prog->routines_cap ? prog->routines_cap * 2 : 8;
        prog->routines = weir_realloc(prog->routines, prog->routines_cap * sizeof(*prog->routines));
    }
    r = &prog->routines[prog->nroutines];
    r->record = record;
    r->nops = nops;
    r->ops = nops ? weir_calloc(nops, sizeof(*r->ops)) : NULL;
    return prog->nroutines++;
}

static uint32_t weir_avp_compile_value(weir_avp_t *prog, const weir_avro_node_t *n);

/* The op checking a value of n (compiling the routines it refers to). */
static weir_avp_op_t
weir_avp_compile_op(weir_avp_t *prog, const weir_avro_node_t *n)
{
    weir_avp_op_t op = {0, 0, 0};

    switch (n->type) {
    case WEIR_AVRO_NULL:
        op.code = WEIR_AVP_NULL;
        break;
    case WEIR_AVRO_BOOLEAN:
        op.code = WEIR_AVP_BOOLEAN;
        break;
    case WEIR_AVRO_INT:
        op.code = WEIR_AVP_INT;
        break;
    case WEIR_AVRO_LONG:
        op.code = WEIR_AVP_LONG;
        break;
    case WEIR_AVRO_FLOAT:
        op.code = WEIR_AVP_SKIP;
        op.a = 4;
        break;
    case WEIR_AVRO_DOUBLE:
        op.code = WEIR_AVP_SKIP;
        op.a = 8;
        break;
    case WEIR_AVRO_FIXED:
        op.code = WEIR_AVP_SKIP;
        op.a = n->size > 0 ? (uint32_t)n->size : 0;
        break;
    case WEIR_AVRO_BYTES:
    case WEIR_AVRO_STRING:
        op.code = WEIR_AVP_BYTES;
        break;
    case WEIR_AVRO_ENUM:
        op.code = WEIR_AVP_ENUM;
        op.a = (uint32_t)n->nsymbols;
        break;
    case WEIR_AVRO_UNION: {
        uint32_t first;

        op.code = WEIR_AVP_UNION;
        op.a = (uint32_t)n->nbranches;
        if (prog->nbranches + op.a > prog->branches_cap) {
            while (prog->nbranches + op.a > prog->branches_cap)
                prog->branches_cap = prog->branches_cap ? prog->branches_cap * 2 : 16;
            prog->branches =
                weir_realloc(prog->branches, prog->branches_cap * sizeof(*prog->branches));
        }
        first = prog->nbranches;
        prog->nbranches += op.a;
        op.b = first;
        for (uint32_t i = 0; i < op.a; i++) {
            uint32_t r = weir_avp_compile_value(prog, n->branches[i]);

            prog->branches[first + i] = r;
        }
        break;
    }
    case WEIR_AVRO_ARRAY:
        op.code = WEIR_AVP_ARRAY;
        op.a = (uint32_t)weir_avro_min_size(n->child);
        op.b = weir_avp_compile_value(prog, n->child);
        break;
    case WEIR_AVRO_MAP:
        op.code = WEIR_AVP_MAP;
        op.b = weir_avp_compile_value(prog, n->child);
        break;
    case WEIR_AVRO_RECORD:
        op.code = WEIR_AVP_RECORD;
        op.b = weir_avp_compile_value(prog, n);
        break;
    }
    return op;
}

/* The routine checking one value of n. */
static uint32_t
weir_avp_compile_value(weir_avp_t *prog, const weir_avro_node_t *n)
{
    uint32_t r;

    if (n->type != WEIR_AVRO_RECORD) {
        weir_avp_op_t op = weir_avp_compile_op(prog, n);

        r = weir_avp_new_routine(prog, false, 1);
        prog->routines[r].ops[0] = op;
        return r;
    }
    for (uint32_t i = 0; i < prog->nrec; i++)
        if (prog->rec_nodes[i] == n)
            return prog->rec_routines[i];
    r = weir_avp_new_routine(prog, true, (uint32_t)n->nfields);
    if (prog->nrec == prog->rec_cap) {
        prog->rec_cap = prog->rec_cap ? prog->rec_cap * 2 : 8;
        prog->rec_nodes = weir_realloc(prog->rec_nodes, prog->rec_cap * sizeof(*prog->rec_nodes));
        prog->rec_routines =
            weir_realloc(prog->rec_routines, prog->rec_cap * sizeof(*prog->rec_routines));
    }
    prog->rec_nodes[prog->nrec] = n;
    prog->rec_routines[prog->nrec++] = r;
    for (size_t i = 0; i < n->nfields; i++) {
        /* compile first: the routines array may move */
        weir_avp_op_t op = weir_avp_compile_op(prog, n->fields[i].type);

        prog->routines[r].ops[i] = op;
    }
    return r;
}

static weir_avp_t *
weir_avp_compile(const weir_avro_node_t *root)
{
    weir_avp_t *prog = weir_calloc(1, sizeof(*prog));

    prog->root = weir_avp_compile_value(prog, root);
    free(prog->rec_nodes);
    free(prog->rec_routines);
    prog->rec_nodes = NULL;
    prog->rec_routines = NULL;
    prog->nrec = prog->rec_cap = 0;
    return prog;
}

static const uint8_t *weir_avp_run(const weir_avp_t *prog, uint32_t r, const uint8_t *p,
                                   const uint8_t *end, int depth);

/* Array items or map entries (weir_aw_blocks). */
static const uint8_t *
weir_avp_blocks(const weir_avp_t *prog, const weir_avp_op_t *op, const uint8_t *p,
                const uint8_t *end, int depth)
{
    bool map = op->code == WEIR_AVP_MAP;
    uint64_t item_min = map ? 1 : op->a, total = 0;

    for (;;) {
        int64_t count, size = -1;
        const uint8_t *start;

        if (!(p = weir_varint_at(p, end, 10, &count)))
            return NULL;
        if (count == 0)
            return p;
        if (count < 0) {
            if (count == INT64_MIN)
                return NULL;
            count = -count;
            if (!(p = weir_varint_at(p, end, 10, &size)))
                return NULL;
            if (size < 0 || (uint64_t)size > (uint64_t)(end - p))
                return NULL;
        }
        total += (uint64_t)count;
        if (item_min && (uint64_t)count > (uint64_t)(end - p) / item_min)
            return NULL;
        if (!item_min && total > WEIR_AVRO_MAX_EMPTY_ITEMS)
            return NULL;
        start = p;
        for (int64_t i = 0; i < count; i++) {
            if (map) {
                int64_t klen;

                if (!(p = weir_varint_at(p, end, 10, &klen)) || klen < 0 ||
                    (uint64_t)klen > (uint64_t)(end - p))
                    return NULL;
                p += klen;
            }
            if (!(p = weir_avp_run(prog, op->b, p, end, depth)))
                return NULL;
        }
        if (size >= 0 && p - start != size)
            return NULL;
    }
}

/* Checks one value with routine r at nesting depth; the bytes after it or
 * NULL. */
static const uint8_t *
weir_avp_run(const weir_avp_t *prog, uint32_t r, const uint8_t *p, const uint8_t *end, int depth)
{
    const weir_avp_routine_t *rt = &prog->routines[r];
    int d = depth + (rt->record ? 1 : 0); /* the depth of the ops' values */

    if (depth > WEIR_AVRO_MAX_VALUE_DEPTH || (rt->nops && d > WEIR_AVRO_MAX_VALUE_DEPTH))
        return NULL;
    for (uint32_t i = 0; i < rt->nops; i++) {
        const weir_avp_op_t *op = &rt->ops[i];
        int64_t v;

        switch ((weir_avp_code_t)op->code) {
        case WEIR_AVP_NULL:
            break;
        case WEIR_AVP_BOOLEAN:
            if (p >= end || *p > 1)
                return NULL;
            p++;
            break;
        case WEIR_AVP_INT:
            if (!(p = weir_varint_at(p, end, 5, &v)) || v < INT32_MIN || v > INT32_MAX)
                return NULL;
            break;
        case WEIR_AVP_LONG:
            if (!(p = weir_varint_at(p, end, 10, &v)))
                return NULL;
            break;
        case WEIR_AVP_SKIP:
            if (op->a > (uint64_t)(end - p))
                return NULL;
            p += op->a;
            break;
        case WEIR_AVP_BYTES:
            if (!(p = weir_varint_at(p, end, 10, &v)) || v < 0 || (uint64_t)v > (uint64_t)(end - p))
                return NULL;
            p += v;
            break;
        case WEIR_AVP_ENUM:
            if (!(p = weir_varint_at(p, end, 5, &v)) || v < INT32_MIN || v > INT32_MAX || v < 0 ||
                (uint64_t)v >= op->a)
                return NULL;
            break;
        case WEIR_AVP_UNION:
            if (!(p = weir_varint_at(p, end, 10, &v)) || v < 0 || (uint64_t)v >= op->a)
                return NULL;
            if (!(p = weir_avp_run(prog, prog->branches[op->b + (uint32_t)v], p, end, d + 1)))
                return NULL;
            break;
        case WEIR_AVP_ARRAY:
        case WEIR_AVP_MAP:
            if (!(p = weir_avp_blocks(prog, op, p, end, d + 1)))
                return NULL;
            break;
        case WEIR_AVP_RECORD:
            if (!(p = weir_avp_run(prog, op->b, p, end, d)))
                return NULL;
            break;
        }
    }
    return p;
}

weir_registry_t *
weir_schema_validator_registry(const weir_schema_validator_t *v)
{
    return v->reg;
}

const weir_sv_checker_t *
weir_schema_validator_checker(weir_schema_validator_t *v, const weir_reg_schema_t *s)
{
    weir_sv_entry_t *e;

    if (s->type != WEIR_SCHEMA_AVRO || !s->avro || !s->avro->avroc)
        return NULL;
    e = weir_sv_entry(v, s);
    if (!e->prog)
        e->prog = weir_avp_compile(s->avro->root);
    return e->prog;
}

bool
weir_sv_checker_run(const weir_sv_checker_t *c, const void *payload, size_t len)
{
    const uint8_t *p = payload;

    return weir_avp_run(c, c->root, p, p + len, 0) == p + len;
}

weir_sv_result_t
weir_schema_validate_payload(weir_schema_validator_t *v, const weir_reg_schema_t *s,
                             const void *payload, size_t len, char *reason, size_t reason_size)
{
    const uint8_t *p = payload;
    char why[512];

    if (s->type == WEIR_SCHEMA_JSON) {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)p, len, JSON_DECODE_ANY, &jerr);

        if (!j)
            return weir_sv_fail(WEIR_SV_BAD_PAYLOAD, reason, reason_size,
                                "payload is not valid JSON for schema id %d: %s", s->id, jerr.text);
        json_decref(j);
        return WEIR_SV_OK;
    }
    if (!s->avro || !s->avro->avroc)
        return WEIR_SV_OK; /* as weir_schema_validate: framing only */
    if (weir_sv_checker_run(weir_schema_validator_checker(v, s), p, len))
        return WEIR_SV_OK;
    /* the reason, from the walk */
    if (weir_avro_payload_check(s->avro->root, p, len, why, sizeof(why)) == 0)
        snprintf(why, sizeof(why), "rejected by the compiled checker");
    return weir_sv_fail(WEIR_SV_BAD_PAYLOAD, reason, reason_size,
                        "payload does not decode with schema id %d: %s", s->id, why);
}
