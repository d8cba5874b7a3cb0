/*
 * weir_buf.c: bounds-checked reader and growable writer for Kafka wire data.
 */
#include "weir_buf.h"

#include "weir_common.h"

void
weir_rbuf_init(weir_rbuf_t *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->err = 0;
    r->flex = false;
}

const uint8_t *
weir_rd_raw(weir_rbuf_t *r, size_t n)
{
    const uint8_t *p;

    if (r->err || n > r->len - r->pos) {
        r->err = WEIR_EPARSE;
        return NULL;
    }
    p = r->data + r->pos;
    r->pos += n;
    return p;
}

int8_t
weir_rd_i8(weir_rbuf_t *r)
{
    const uint8_t *p = weir_rd_raw(r, 1);
    return p ? (int8_t)p[0] : 0;
}

bool
weir_rd_bool(weir_rbuf_t *r)
{
    return weir_rd_i8(r) != 0;
}

int16_t
weir_rd_i16(weir_rbuf_t *r)
{
    const uint8_t *p = weir_rd_raw(r, 2);
    return p ? (int16_t)weir_be16(p) : 0;
}

int32_t
weir_rd_i32(weir_rbuf_t *r)
{
    const uint8_t *p = weir_rd_raw(r, 4);
    return p ? (int32_t)weir_be32(p) : 0;
}

uint32_t
weir_rd_u32(weir_rbuf_t *r)
{
    const uint8_t *p = weir_rd_raw(r, 4);
    return p ? weir_be32(p) : 0;
}

int64_t
weir_rd_i64(weir_rbuf_t *r)
{
    const uint8_t *p = weir_rd_raw(r, 8);
    return p ? (int64_t)weir_be64(p) : 0;
}

static uint64_t
weir_rd_uvarlong(weir_rbuf_t *r, int max_bytes)
{
    uint64_t v = 0;
    int shift = 0;

    for (int i = 0; i < max_bytes; i++) {
        const uint8_t *p = weir_rd_raw(r, 1);
        if (!p)
            return 0;
        v |= (uint64_t)(p[0] & 0x7f) << shift;
        if (!(p[0] & 0x80))
            return v;
        shift += 7;
    }
    r->err = WEIR_EPARSE; /* too long */
    return 0;
}

uint32_t
weir_rd_uvarint(weir_rbuf_t *r)
{
    uint64_t v = weir_rd_uvarlong(r, 5);
    if (v > UINT32_MAX) {
        r->err = WEIR_EPARSE;
        return 0;
    }
    return (uint32_t)v;
}

int32_t
weir_rd_varint(weir_rbuf_t *r)
{
    uint32_t v = weir_rd_uvarint(r);
    return (int32_t)((v >> 1) ^ (~(v & 1) + 1));
}

int64_t
weir_rd_varlong(weir_rbuf_t *r)
{
    uint64_t v = weir_rd_uvarlong(r, 10);
    return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

static weir_str_t
weir_rd_lenprefixed(weir_rbuf_t *r, int64_t len)
{
    weir_str_t s = WEIR_STR_NULL;
    const uint8_t *p;

    if (r->err || len < -1) {
        r->err = WEIR_EPARSE;
        return s;
    }
    if (len == -1)
        return s;
    p = weir_rd_raw(r, (size_t)len);
    if (!p)
        return s;
    s.len = (int32_t)len;
    s.ptr = (const char *)p;
    return s;
}

weir_str_t
weir_rd_str(weir_rbuf_t *r)
{
    int64_t len = r->flex ? (int64_t)weir_rd_uvarint(r) - 1 : weir_rd_i16(r);
    return weir_rd_lenprefixed(r, len);
}

weir_str_t
weir_rd_bytes(weir_rbuf_t *r)
{
    int64_t len = r->flex ? (int64_t)weir_rd_uvarint(r) - 1 : weir_rd_i32(r);
    return weir_rd_lenprefixed(r, len);
}

int32_t
weir_rd_array(weir_rbuf_t *r, size_t min_elem_size)
{
    int64_t n = r->flex ? (int64_t)weir_rd_uvarint(r) - 1 : weir_rd_i32(r);

    if (r->err)
        return 0;
    if (n < -1) {
        r->err = WEIR_EPARSE;
        return 0;
    }
    if (n > 0 && (uint64_t)n * WEIR_MAX(min_elem_size, 1) > r->len - r->pos) {
        r->err = WEIR_EPARSE;
        return 0;
    }
    return (int32_t)n;
}

void
weir_rd_tags(weir_rbuf_t *r)
{
    uint32_t n;

    if (!r->flex)
        return;
    n = weir_rd_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        uint32_t size;
        (void)weir_rd_uvarint(r); /* tag */
        size = weir_rd_uvarint(r);
        (void)weir_rd_raw(r, size);
    }
}

/* Writer */

void
weir_wbuf_init(weir_wbuf_t *w, size_t cap)
{
    w->cap = cap ? cap : 64;
    w->data = weir_malloc(w->cap);
    w->len = 0;
    w->flex = false;
}

void
weir_wbuf_free(weir_wbuf_t *w)
{
    free(w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

void
weir_wbuf_reserve(weir_wbuf_t *w, size_t more)
{
    if (w->len + more <= w->cap)
        return;
    while (w->len + more > w->cap)
        w->cap *= 2;
    w->data = weir_realloc(w->data, w->cap);
}

void
weir_wr_raw(weir_wbuf_t *w, const void *p, size_t n)
{
    weir_wbuf_reserve(w, n);
    if (n)
        memcpy(w->data + w->len, p, n);
    w->len += n;
}

void
weir_wr_i8(weir_wbuf_t *w, int8_t v)
{
    weir_wbuf_reserve(w, 1);
    w->data[w->len++] = (uint8_t)v;
}

void
weir_wr_bool(weir_wbuf_t *w, bool v)
{
    weir_wr_i8(w, v ? 1 : 0);
}

void
weir_wr_i16(weir_wbuf_t *w, int16_t v)
{
    weir_wbuf_reserve(w, 2);
    weir_put_be16(w->data + w->len, (uint16_t)v);
    w->len += 2;
}

void
weir_wr_i32(weir_wbuf_t *w, int32_t v)
{
    weir_wbuf_reserve(w, 4);
    weir_put_be32(w->data + w->len, (uint32_t)v);
    w->len += 4;
}

void
weir_wr_u32(weir_wbuf_t *w, uint32_t v)
{
    weir_wr_i32(w, (int32_t)v);
}

void
weir_wr_i32_at(weir_wbuf_t *w, size_t pos, int32_t v)
{
    weir_put_be32(w->data + pos, (uint32_t)v);
}

void
weir_wr_i64(weir_wbuf_t *w, int64_t v)
{
    weir_wbuf_reserve(w, 8);
    weir_put_be64(w->data + w->len, (uint64_t)v);
    w->len += 8;
}

static void
weir_wr_uvarlong(weir_wbuf_t *w, uint64_t v)
{
    weir_wbuf_reserve(w, 10);
    while (v >= 0x80) {
        w->data[w->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->data[w->len++] = (uint8_t)v;
}

void
weir_wr_uvarint(weir_wbuf_t *w, uint32_t v)
{
    weir_wr_uvarlong(w, v);
}

void
weir_wr_varint(weir_wbuf_t *w, int32_t v)
{
    weir_wr_uvarlong(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void
weir_wr_varlong(weir_wbuf_t *w, int64_t v)
{
    weir_wr_uvarlong(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void
weir_wr_str(weir_wbuf_t *w, const char *p, int32_t len)
{
    if (!p)
        len = -1;
    if (w->flex)
        weir_wr_uvarint(w, (uint32_t)(len + 1));
    else
        weir_wr_i16(w, (int16_t)len);
    if (len > 0)
        weir_wr_raw(w, p, (size_t)len);
}

void
weir_wr_cstr(weir_wbuf_t *w, const char *s)
{
    weir_wr_str(w, s, s ? (int32_t)strlen(s) : -1);
}

void
weir_wr_kstr(weir_wbuf_t *w, weir_str_t s)
{
    weir_wr_str(w, s.ptr, s.len);
}

void
weir_wr_bytes(weir_wbuf_t *w, const void *p, int32_t len)
{
    if (!p && len <= 0)
        len = -1;
    if (w->flex)
        weir_wr_uvarint(w, (uint32_t)(len + 1));
    else
        weir_wr_i32(w, len);
    if (len > 0)
        weir_wr_raw(w, p, (size_t)len);
}

void
weir_wr_array(weir_wbuf_t *w, int32_t n)
{
    if (w->flex)
        weir_wr_uvarint(w, (uint32_t)(n + 1));
    else
        weir_wr_i32(w, n);
}

size_t
weir_wr_array_begin(weir_wbuf_t *w)
{
    size_t pos = w->len;
    /* Placeholder: 4 bytes for INT32 counts; for compact arrays one byte
     * that weir_wr_array_end() widens if the count needs it. */
    if (w->flex)
        weir_wr_i8(w, 0);
    else
        weir_wr_i32(w, 0);
    return pos;
}

void
weir_wr_array_end(weir_wbuf_t *w, size_t pos, int32_t n)
{
    uint8_t tmp[5];
    size_t tlen = 0;
    uint32_t v;

    if (!w->flex) {
        weir_wr_i32_at(w, pos, n);
        return;
    }
    v = (uint32_t)(n + 1);
    while (v >= 0x80) {
        tmp[tlen++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[tlen++] = (uint8_t)v;
    if (tlen > 1) {
        weir_wbuf_reserve(w, tlen - 1);
        memmove(w->data + pos + tlen, w->data + pos + 1, w->len - pos - 1);
        w->len += tlen - 1;
    }
    memcpy(w->data + pos, tmp, tlen);
}

void
weir_wr_tags(weir_wbuf_t *w)
{
    if (w->flex)
        weir_wr_uvarint(w, 0);
}
