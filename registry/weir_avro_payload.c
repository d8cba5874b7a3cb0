/*
 * weir_avro_payload.c: the bounded walk over one Avro binary value with
 * Weir's schema tree (weir_avro_payload.h): every length checked against
 * the bytes left, array and map block counts bounded by what the bytes can
 * hold, nesting depth bounded, enum and union indexes in range, and no byte
 * left over.
 */
#include "weir_avro_payload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weir_common.h"
#include "weir_varint.h"

typedef struct weir_aw_s {
    const uint8_t *p;
    size_t len, pos;
    char *reason;
    size_t reason_size;
    bool failed;
} weir_aw_t;

static int weir_aw_fail(weir_aw_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
weir_aw_fail(weir_aw_t *w, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (w->failed)
        return -1;
    w->failed = true;
    if (!w->reason || !w->reason_size)
        return -1;
    va_start(ap, fmt);
    vsnprintf(w->reason, w->reason_size, fmt, ap);
    va_end(ap);
    n = strlen(w->reason);
    if (n < w->reason_size)
        snprintf(w->reason + n, w->reason_size - n, " (at byte %zu)", w->pos);
    return -1;
}

/* A zig-zag varint of at most maxbytes bytes. */
static int
weir_aw_varint(weir_aw_t *w, int maxbytes, int64_t *out)
{
    const uint8_t *q;

    if (w->pos < w->len && (q = weir_varint_at(w->p + w->pos, w->p + w->len, maxbytes, out))) {
        w->pos = (size_t)(q - w->p);
        return 0;
    }
    *out = 0;
    /* fewer than maxbytes bytes left, all continued: it ends with them */
    if (w->len - w->pos < (size_t)maxbytes) {
        w->pos = w->len;
        return weir_aw_fail(w, "truncated: the payload ends inside a number");
    }
    w->pos += (size_t)maxbytes;
    return weir_aw_fail(w, "a variable-length number is longer than %d bytes", maxbytes);
}

static int
weir_aw_long(weir_aw_t *w, int64_t *out)
{
    return weir_aw_varint(w, 10, out);
}

static int
weir_aw_int(weir_aw_t *w, int64_t *out)
{
    if (weir_aw_varint(w, 5, out) < 0)
        return -1;
    if (*out < INT32_MIN || *out > INT32_MAX)
        return weir_aw_fail(w, "an int is out of the 32-bit range");
    return 0;
}

static int
weir_aw_skip(weir_aw_t *w, int64_t n, const char *what)
{
    if (n < 0)
        return weir_aw_fail(w, "negative length %lld of %s", (long long)n, what);
    if ((uint64_t)n > w->len - w->pos)
        return weir_aw_fail(w, "truncated: %s of %lld bytes but only %zu left", what, (long long)n,
                            w->len - w->pos);
    w->pos += (size_t)n;
    return 0;
}

static size_t
weir_aw_min_size(const weir_avro_node_t *n, int depth)
{
    switch (n->type) {
    case WEIR_AVRO_NULL:
        return 0;
    case WEIR_AVRO_FIXED:
        return n->size > 0 ? 1 : 0;
    case WEIR_AVRO_RECORD:
        if (depth > 16)
            return 0;
        for (size_t i = 0; i < n->nfields; i++)
            if (weir_aw_min_size(n->fields[i].type, depth + 1) > 0)
                return 1;
        return 0;
    default:
        return 1; /* every other encoding has at least one byte */
    }
}

size_t
weir_avro_min_size(const weir_avro_node_t *n)
{
    return weir_aw_min_size(n, 0);
}

static int weir_aw_value(weir_aw_t *w, const weir_avro_node_t *n, int depth);

/* Array items or map entries: blocks of (count, [byte size,] items). */
static int
weir_aw_blocks(weir_aw_t *w, const weir_avro_node_t *n, int depth)
{
    bool map = n->type == WEIR_AVRO_MAP;
    size_t item_min = map ? 1 : weir_avro_min_size(n->child);
    uint64_t total = 0;

    for (;;) {
        int64_t count = 0, size = -1;
        size_t start;

        if (weir_aw_long(w, &count) < 0)
            return -1;
        if (count == 0)
            return 0;
        if (count < 0) {
            if (count == INT64_MIN)
                return weir_aw_fail(w, "invalid block count");
            count = -count;
            if (weir_aw_long(w, &size) < 0)
                return -1;
            if (size < 0 || (uint64_t)size > w->len - w->pos)
                return weir_aw_fail(w, "block byte size %lld does not fit the %zu bytes left",
                                    (long long)size, w->len - w->pos);
        }
        total += (uint64_t)count;
        if (item_min && (uint64_t)count > (w->len - w->pos) / item_min)
            return weir_aw_fail(w, "%s block of %lld items cannot fit the %zu bytes left",
                                map ? "a map" : "an array", (long long)count, w->len - w->pos);
        if (!item_min && total > WEIR_AVRO_MAX_EMPTY_ITEMS)
            return weir_aw_fail(w, "an array block of %lld items of empty values (more than %d)",
                                (long long)count, WEIR_AVRO_MAX_EMPTY_ITEMS);
        start = w->pos;
        for (int64_t i = 0; i < count; i++) {
            if (map) {
                int64_t klen = 0;

                if (weir_aw_long(w, &klen) < 0 || weir_aw_skip(w, klen, "a map key") < 0)
                    return -1;
            }
            if (weir_aw_value(w, n->child, depth + 1) < 0)
                return -1;
        }
        if (size >= 0 && w->pos - start != (size_t)size)
            return weir_aw_fail(w, "block byte size %lld does not match its items (%zu bytes)",
                                (long long)size, w->pos - start);
    }
}

static int
weir_aw_value(weir_aw_t *w, const weir_avro_node_t *n, int depth)
{
    int64_t v = 0;

    if (depth > WEIR_AVRO_MAX_VALUE_DEPTH)
        return weir_aw_fail(w, "values nested deeper than %d levels", WEIR_AVRO_MAX_VALUE_DEPTH);
    switch (n->type) {
    case WEIR_AVRO_NULL:
        return 0;
    case WEIR_AVRO_BOOLEAN:
        if (w->pos >= w->len)
            return weir_aw_fail(w, "truncated: the payload ends before a boolean");
        if (w->p[w->pos] > 1)
            return weir_aw_fail(w, "a boolean byte is %u, not 0 or 1", w->p[w->pos]);
        w->pos++;
        return 0;
    case WEIR_AVRO_INT:
        return weir_aw_int(w, &v);
    case WEIR_AVRO_LONG:
        return weir_aw_long(w, &v);
    case WEIR_AVRO_FLOAT:
        return weir_aw_skip(w, 4, "a float");
    case WEIR_AVRO_DOUBLE:
        return weir_aw_skip(w, 8, "a double");
    case WEIR_AVRO_BYTES:
    case WEIR_AVRO_STRING:
        if (weir_aw_long(w, &v) < 0)
            return -1;
        return weir_aw_skip(w, v, n->type == WEIR_AVRO_BYTES ? "bytes" : "a string");
    case WEIR_AVRO_FIXED:
        return weir_aw_skip(w, n->size, "a fixed");
    case WEIR_AVRO_ENUM:
        if (weir_aw_int(w, &v) < 0)
            return -1;
        if (v < 0 || (uint64_t)v >= n->nsymbols)
            return weir_aw_fail(w, "enum %s index %lld out of range (%zu symbols)", n->fullname,
                                (long long)v, n->nsymbols);
        return 0;
    case WEIR_AVRO_UNION:
        if (weir_aw_long(w, &v) < 0)
            return -1;
        if (v < 0 || (uint64_t)v >= n->nbranches)
            return weir_aw_fail(w, "union branch index %lld out of range (%zu branches)",
                                (long long)v, n->nbranches);
        return weir_aw_value(w, n->branches[v], depth + 1);
    case WEIR_AVRO_RECORD:
        for (size_t i = 0; i < n->nfields; i++)
            if (weir_aw_value(w, n->fields[i].type, depth + 1) < 0)
                return -1;
        return 0;
    case WEIR_AVRO_ARRAY:
    case WEIR_AVRO_MAP:
        return weir_aw_blocks(w, n, depth);
    }
    return weir_aw_fail(w, "unknown type");
}

int
weir_avro_payload_check(const weir_avro_node_t *n, const void *buf, size_t len, char *reason,
                        size_t reason_size)
{
    weir_aw_t w = {.p = buf, .len = len, .reason = reason, .reason_size = reason_size};

    if (weir_aw_value(&w, n, 0) < 0)
        return -1;
    if (w.pos != len) {
        weir_aw_fail(&w, "%zu bytes left over after the value", len - w.pos);
        return -1;
    }
    return 0;
}
