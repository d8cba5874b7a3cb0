/*
 * weir_buf.h: the one reader and one writer over byte buffers used for every
 * Kafka wire structure (big-endian integers, varints, strings, arrays, tagged
 * fields).
 *
 * Reader contract: every read is bounds-checked.  A failed read sets the
 * sticky r->err, returns a zero value and makes every later read fail too, so
 * a handler may read a whole message and check r->err once at the end.  The
 * only exception is a loop over an array: weir_rd_array() refuses counts that
 * the remaining bytes cannot hold (given the smallest encoding of one
 * element), so a loop bounded by its result is always bounded by the frame.
 *
 * Flexible versions (KIP-482) are a flag on the buffer (r->flex / w->flex):
 * strings, bytes and arrays switch to their compact forms, and
 * weir_rd_tags()/weir_wr_tags() read or write tagged-field sections.
 */
#ifndef WEIR_BUF_H
#define WEIR_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A view of a string or byte array, usually into a request buffer.
 * len == -1 means null.  Not NUL-terminated. */
typedef struct weir_str_s {
    int32_t len;
    const char *ptr;
} weir_str_t;

#define WEIR_STR_NULL ((weir_str_t){-1, NULL})

static inline bool
weir_str_eq(weir_str_t s, const char *c)
{
    size_t n = strlen(c);
    return s.len >= 0 && (size_t)s.len == n && memcmp(s.ptr, c, n) == 0;
}

typedef struct weir_rbuf_s {
    const uint8_t *data;
    size_t len;
    size_t pos;
    int err;  /* sticky: set by the first failed read */
    bool flex;
} weir_rbuf_t;

void weir_rbuf_init(weir_rbuf_t *r, const void *data, size_t len);

static inline size_t
weir_rbuf_remaining(const weir_rbuf_t *r)
{
    return r->err ? 0 : r->len - r->pos;
}

int8_t weir_rd_i8(weir_rbuf_t *r);
int16_t weir_rd_i16(weir_rbuf_t *r);
int32_t weir_rd_i32(weir_rbuf_t *r);
int64_t weir_rd_i64(weir_rbuf_t *r);
uint32_t weir_rd_u32(weir_rbuf_t *r);
bool weir_rd_bool(weir_rbuf_t *r);
uint32_t weir_rd_uvarint(weir_rbuf_t *r);
int32_t weir_rd_varint(weir_rbuf_t *r);   /* zig-zag */
int64_t weir_rd_varlong(weir_rbuf_t *r);  /* zig-zag */
/* Returns a pointer to n raw bytes inside the buffer, or NULL. */
const uint8_t *weir_rd_raw(weir_rbuf_t *r, size_t n);
/* STRING / NULLABLE_STRING, or COMPACT_ variants when r->flex. */
weir_str_t weir_rd_str(weir_rbuf_t *r);
/* BYTES / NULLABLE_BYTES, or COMPACT_ variants when r->flex. */
weir_str_t weir_rd_bytes(weir_rbuf_t *r);
/* Array count (-1 = null).  min_elem_size is the smallest encoded size of one
 * element (at least 1); counts the remaining bytes cannot hold fail. */
int32_t weir_rd_array(weir_rbuf_t *r, size_t min_elem_size);
/* Skips a tagged-field section when r->flex; no-op otherwise. */
void weir_rd_tags(weir_rbuf_t *r);

typedef struct weir_wbuf_s {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool flex;
} weir_wbuf_t;

void weir_wbuf_init(weir_wbuf_t *w, size_t cap);
void weir_wbuf_free(weir_wbuf_t *w);
void weir_wbuf_reserve(weir_wbuf_t *w, size_t more);

void weir_wr_raw(weir_wbuf_t *w, const void *p, size_t n);
void weir_wr_i8(weir_wbuf_t *w, int8_t v);
void weir_wr_i16(weir_wbuf_t *w, int16_t v);
void weir_wr_i32(weir_wbuf_t *w, int32_t v);
void weir_wr_i64(weir_wbuf_t *w, int64_t v);
void weir_wr_u32(weir_wbuf_t *w, uint32_t v);
void weir_wr_bool(weir_wbuf_t *w, bool v);
void weir_wr_uvarint(weir_wbuf_t *w, uint32_t v);
void weir_wr_varint(weir_wbuf_t *w, int32_t v);
void weir_wr_varlong(weir_wbuf_t *w, int64_t v);
/* String of len bytes (len -1 or p NULL writes null); flex-aware. */
void weir_wr_str(weir_wbuf_t *w, const char *p, int32_t len);
/* NUL-terminated string, NULL writes null. */
void weir_wr_cstr(weir_wbuf_t *w, const char *s);
void weir_wr_kstr(weir_wbuf_t *w, weir_str_t s);
void weir_wr_bytes(weir_wbuf_t *w, const void *p, int32_t len);
/* Array count (-1 = null); flex-aware. */
void weir_wr_array(weir_wbuf_t *w, int32_t n);
/* Reserve an array count whose value is known only later; patch it with
 * weir_wr_array_end().  Works for both normal and compact arrays. */
size_t weir_wr_array_begin(weir_wbuf_t *w);
void weir_wr_array_end(weir_wbuf_t *w, size_t pos, int32_t n);
/* An empty tagged-field section when w->flex; no-op otherwise. */
void weir_wr_tags(weir_wbuf_t *w);
/* Overwrite 4 bytes at pos with a big-endian int32. */
void weir_wr_i32_at(weir_wbuf_t *w, size_t pos, int32_t v);

/* Big-endian helpers for fixed layouts (record batches, index files). */
static inline uint32_t
weir_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
weir_be64(const uint8_t *p)
{
    return ((uint64_t)weir_be32(p) << 32) | weir_be32(p + 4);
}

static inline uint16_t
weir_be16(const uint8_t *p)
{
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}

static inline void
weir_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void
weir_put_be64(uint8_t *p, uint64_t v)
{
    weir_put_be32(p, (uint32_t)(v >> 32));
    weir_put_be32(p + 4, (uint32_t)v);
}

static inline void
weir_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

#endif
