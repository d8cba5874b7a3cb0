/*
 * test_api_roundtrip.c: the Kafka protocol end to end against a real
 * in-process broker (weir_broker_init/start on a libuv loop in its own
 * thread, a blocking TCP client on the loopback).
 *
 * For every API key and every version in the dispatch table a request of
 * that version is encoded here, sent, and the response decoded field by
 * field after Kafka's message definitions with a codec written for the test
 * (independent of weir_buf), asserting that the decoder consumed the
 * response exactly and that the key fields are right.  An API served
 * without a round-trip case here fails the test.  Also: ApiVersions with an
 * unknown version, unknown keys and malformed requests (the connection
 * closes, nothing changes), a record batch fetched back byte for byte, and
 * the admin APIs' Kafka semantics (CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <uv.h>

#include "weir_api.h"
#include "weir_batch.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_conf.h"
#include "weir_log.h"

/* ---------------------------------------------------------------------------
 * Test-side codec: a writer and a reader of Kafka's primitive types, kept
 * separate from the broker's own codec so that the two check each other.
 * ------------------------------------------------------------------------- */

typedef struct tw_s {
    uint8_t *d;
    size_t len, cap;
    bool flex;
} tw_t;

static void
tw_init(tw_t *w, bool flex)
{
    w->cap = 256;
    w->d = malloc(w->cap);
    assert_non_null(w->d);
    w->len = 0;
    w->flex = flex;
}

static void
tw_free(tw_t *w)
{
    free(w->d);
    w->d = NULL;
    w->len = w->cap = 0;
}

static void
tw_raw(tw_t *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        while (w->len + n > w->cap)
            w->cap *= 2;
        w->d = realloc(w->d, w->cap);
        assert_non_null(w->d);
    }
    if (n)
        memcpy(w->d + w->len, p, n);
    w->len += n;
}

static void
tw_be(tw_t *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    tw_raw(w, b, (size_t)bytes);
}

static void
tw_i8(tw_t *w, int8_t v)
{
    tw_be(w, (uint8_t)v, 1);
}

static void
tw_i16(tw_t *w, int16_t v)
{
    tw_be(w, (uint16_t)v, 2);
}

static void
tw_i32(tw_t *w, int32_t v)
{
    tw_be(w, (uint32_t)v, 4);
}

static void
tw_i64(tw_t *w, int64_t v)
{
    tw_be(w, (uint64_t)v, 8);
}

static void
tw_uvarint(tw_t *w, uint64_t v)
{
    while (v >= 0x80) {
        uint8_t b = (uint8_t)(v | 0x80);
        tw_raw(w, &b, 1);
        v >>= 7;
    }
    uint8_t b = (uint8_t)v;
    tw_raw(w, &b, 1);
}

static void
tw_varint(tw_t *w, int64_t v)
{
    tw_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void
tw_strn(tw_t *w, const char *s, int32_t n)
{
    if (!s)
        n = -1;
    if (w->flex)
        tw_uvarint(w, (uint64_t)(n + 1));
    else
        tw_i16(w, (int16_t)n);
    if (n > 0)
        tw_raw(w, s, (size_t)n);
}

static void
tw_str(tw_t *w, const char *s)
{
    tw_strn(w, s, s ? (int32_t)strlen(s) : -1);
}

static void
tw_bytes(tw_t *w, const void *p, int32_t n)
{
    if (w->flex)
        tw_uvarint(w, (uint64_t)(n + 1));
    else
        tw_i32(w, n);
    if (n > 0)
        tw_raw(w, p, (size_t)n);
}

static void
tw_arr(tw_t *w, int32_t n)
{
    if (w->flex)
        tw_uvarint(w, (uint64_t)(n + 1));
    else
        tw_i32(w, n);
}

static void
tw_tags(tw_t *w)
{
    if (w->flex)
        tw_uvarint(w, 0);
}

typedef struct tr_s {
    const uint8_t *d;
    size_t len, pos;
    bool flex;
    bool err;
} tr_t;

static const uint8_t *
tr_raw(tr_t *r, size_t n)
{
    const uint8_t *p;
    if (r->err || n > r->len - r->pos) {
        r->err = true;
        return NULL;
    }
    p = r->d + r->pos;
    r->pos += n;
    return p;
}

static uint64_t
tr_be(tr_t *r, int bytes)
{
    const uint8_t *p = tr_raw(r, (size_t)bytes);
    uint64_t v = 0;
    if (!p)
        return 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

static int8_t
tr_i8(tr_t *r)
{
    return (int8_t)tr_be(r, 1);
}

static int16_t
tr_i16(tr_t *r)
{
    return (int16_t)tr_be(r, 2);
}

static int32_t
tr_i32(tr_t *r)
{
    return (int32_t)tr_be(r, 4);
}

static int64_t
tr_i64(tr_t *r)
{
    return (int64_t)tr_be(r, 8);
}

static bool
tr_bool(tr_t *r)
{
    int8_t b = tr_i8(r);
    assert_true(b == 0 || b == 1);
    return b == 1;
}

static uint64_t
tr_uvarint(tr_t *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const uint8_t *p = tr_raw(r, 1);
        if (!p)
            return 0;
        v |= (uint64_t)(p[0] & 0x7f) << shift;
        if (!(p[0] & 0x80))
            return v;
    }
    r->err = true;
    return 0;
}

/* Length-prefixed string or bytes; returns the length (-1: null). */
static int32_t
tr_lenp(tr_t *r, bool bytes, const uint8_t **p)
{
    int64_t n = r->flex ? (int64_t)tr_uvarint(r) - 1 : bytes ? tr_i32(r) : tr_i16(r);
    *p = NULL;
    if (r->err)
        return -1;
    if (n < -1) {
        r->err = true;
        return -1;
    }
    if (n >= 0)
        *p = tr_raw(r, (size_t)n);
    return r->err ? -1 : (int32_t)n;
}

/* A string copied into buf (truncated to fit); returns false for null. */
static bool
tr_str(tr_t *r, char *buf, size_t size)
{
    const uint8_t *p;
    int32_t n = tr_lenp(r, false, &p);
    if (n < 0) {
        buf[0] = '\0';
        return false;
    }
    snprintf(buf, size, "%.*s", n, (const char *)p);
    return true;
}

static void
tr_expect_str(tr_t *r, const char *want)
{
    const uint8_t *p;
    int32_t n = tr_lenp(r, false, &p);
    if (!want) {
        assert_int_equal(n, -1);
        return;
    }
    assert_int_equal(n, (int32_t)strlen(want));
    assert_memory_equal(p, want, (size_t)n);
}

static int32_t
tr_bytes(tr_t *r, const uint8_t **p)
{
    return tr_lenp(r, true, p);
}

/* An array count (-1: null), refusing counts the rest cannot hold. */
static int32_t
tr_arr(tr_t *r)
{
    int64_t n = r->flex ? (int64_t)tr_uvarint(r) - 1 : tr_i32(r);
    if (r->err)
        return 0;
    assert_true(n >= -1);
    assert_true(n <= (int64_t)(r->len - r->pos));
    return (int32_t)n;
}

static void
tr_tags(tr_t *r)
{
    uint64_t n;
    if (!r->flex)
        return;
    n = tr_uvarint(r);
    for (uint64_t i = 0; i < n && !r->err; i++) {
        (void)tr_uvarint(r);
        (void)tr_raw(r, (size_t)tr_uvarint(r));
    }
}

/* The decoder must have read the whole response, no more and no less. */
/* The exchange under test, for failure messages. */
static char rt_where[64] = "(none)";

static void
tr_done(const tr_t *r)
{
    if (r->err)
        fail_msg("%s: the response is shorter than its fields (read %zu of %zu bytes)",
                 rt_where, r->pos, r->len);
    if (r->pos != r->len)
        fail_msg("%s: %zu bytes left over after the last field (read %zu of %zu)", rt_where,
                 r->len - r->pos, r->pos, r->len);
}

/* ---------------------------------------------------------------------------
 * An in-process broker on a loop thread
 * ------------------------------------------------------------------------- */

typedef struct rt_broker_s {
    char dir[64];
    weir_conf_t conf;
    uv_loop_t loop;
    weir_broker_t brk;
    uv_async_t stop;
    pthread_t thread;
    int port;
    int32_t node_id;
} rt_broker_t;

static void *
rt_loop_main(void *arg)
{
    rt_broker_t *b = arg;
    uv_run(&b->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void
rt_on_stop(uv_async_t *a)
{
    rt_broker_t *b = a->data;
    weir_broker_stop(&b->brk);
    uv_close((uv_handle_t *)a, NULL);
}

static void
rt_set(rt_broker_t *b, const char *key, const char *value)
{
    char err[256];
    if (weir_conf_set(&b->conf, key, value, err, sizeof(err)) != 0)
        fail_msg("weir_conf_set %s=%s: %s", key, value, err);
}

/* Starts a broker in a new temporary directory; extra is a NULL-terminated
 * list of key, value pairs. */
static rt_broker_t *
rt_broker_start(const char *const *extra)
{
    rt_broker_t *b = calloc(1, sizeof(*b));
    char err[512];

    assert_non_null(b);
    snprintf(b->dir, sizeof(b->dir), "/tmp/weir-rt-XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    weir_conf_defaults(&b->conf);
    rt_set(b, "listeners", "PLAINTEXT://127.0.0.1:0");
    rt_set(b, "log.dirs", b->dir);
    for (size_t i = 0; extra && extra[i]; i += 2)
        rt_set(b, extra[i], extra[i + 1]);
    assert_int_equal(uv_loop_init(&b->loop), 0);
    if (weir_broker_init(&b->brk, &b->loop, &b->conf, err, sizeof(err)) != 0)
        fail_msg("weir_broker_init: %s", err);
    if (weir_broker_start(&b->brk, err, sizeof(err)) != 0)
        fail_msg("weir_broker_start: %s", err);
    assert_true(b->brk.nlisteners >= 1);
    b->port = b->brk.listeners[0].port;
    assert_true(b->port > 0);
    b->node_id = b->brk.node_id;
    assert_int_equal(uv_async_init(&b->loop, &b->stop, rt_on_stop), 0);
    b->stop.data = b;
    /* From here on the broker belongs to the loop thread. */
    assert_int_equal(pthread_create(&b->thread, NULL, rt_loop_main, b), 0);
    return b;
}

static int
rt_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
rt_broker_stop(rt_broker_t *b)
{
    assert_int_equal(uv_async_send(&b->stop), 0);
    assert_int_equal(pthread_join(b->thread, NULL), 0);
    weir_broker_free(&b->brk);
    assert_int_equal(uv_loop_close(&b->loop), 0);
    weir_conf_free(&b->conf);
    nftw(b->dir, rt_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(b);
}

/* ---------------------------------------------------------------------------
 * A blocking client
 * ------------------------------------------------------------------------- */

typedef struct rt_client_s {
    int fd;
    int32_t corr;
    uint8_t *resp;
    size_t resp_len;
    rt_broker_t *b;
} rt_client_t;

static void
rt_connect(rt_client_t *c, rt_broker_t *b)
{
    struct sockaddr_in sa;
    struct timeval tv = {20, 0};
    int one = 1;

    memset(c, 0, sizeof(*c));
    c->b = b;
    c->corr = 1000;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)b->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void
rt_close(rt_client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->resp);
    c->resp = NULL;
}

static void
rt_send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        assert_true(k > 0);
        p += k;
        n -= (size_t)k;
    }
}

/* Reads exactly n bytes; false on end of stream or a reset. */
static bool
rt_recv_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            fail_msg("timed out waiting for the broker");
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Sends a framed request: header v1 (v2 when flex) and body. */
static void
rt_send(rt_client_t *c, int16_t key, int16_t ver, bool flex, const uint8_t *body, size_t n)
{
    tw_t f;

    tw_init(&f, false);
    tw_i32(&f, 0); /* Size, patched below */
    tw_i16(&f, key);
    tw_i16(&f, ver);
    tw_i32(&f, ++c->corr);
    tw_str(&f, "weir-roundtrip"); /* ClientId: always a classic string */
    if (flex)
        tw_uvarint(&f, 0);        /* header tags */
    tw_raw(&f, body, n);
    for (int i = 0; i < 4; i++)
        f.d[i] = (uint8_t)((f.len - 4) >> (8 * (3 - i)));
    rt_send_all(c->fd, f.d, f.len);
    tw_free(&f);
}

/* Receives one response frame; false if the broker closed the connection. */
static bool
rt_recv(rt_client_t *c)
{
    uint8_t sz[4];
    uint32_t n;

    free(c->resp);
    c->resp = NULL;
    if (!rt_recv_all(c->fd, sz, 4))
        return false;
    n = ((uint32_t)sz[0] << 24) | ((uint32_t)sz[1] << 16) | ((uint32_t)sz[2] << 8) | sz[3];
    assert_true(n >= 4 && n < 64 * 1024 * 1024);
    c->resp = malloc(n);
    assert_non_null(c->resp);
    assert_true(rt_recv_all(c->fd, c->resp, n));
    c->resp_len = n;
    return true;
}

static bool
rt_is_flex(int16_t key, int16_t ver)
{
    const weir_api_desc_t *d = weir_api_desc(key);
    return d && d->flex_min >= 0 && ver >= d->flex_min;
}

/* One request/response exchange; r reads the response body (after the
 * response header, whose correlation id is checked). */
static void
rt_call(rt_client_t *c, int16_t key, int16_t ver, const tw_t *body, tr_t *r)
{
    bool flex = rt_is_flex(key, ver);
    const weir_api_desc_t *d = weir_api_desc(key);

    snprintf(rt_where, sizeof(rt_where), "%s v%d", d ? d->name : "?", ver);
    rt_send(c, key, ver, flex, body->d, body->len);
    if (!rt_recv(c))
        fail_msg("api %d v%d: the broker closed the connection", key, ver);
    memset(r, 0, sizeof(*r));
    r->d = c->resp;
    r->len = c->resp_len;
    assert_int_equal(tr_i32(r), c->corr);
    r->flex = flex;
    /* Response header v1 (tags) for flexible versions, except ApiVersions
     * whose response header is always v0. */
    if (flex && key != WEIR_API_ApiVersions)
        tr_tags(r);
}

/* The connection must be closed by the broker (end of stream or reset). */
static void
rt_expect_closed(rt_client_t *c)
{
    uint8_t b;
    ssize_t k;

    do {
        k = recv(c->fd, &b, 1, 0);
    } while (k < 0 && errno == EINTR);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        fail_msg("the broker did not close the connection");
    assert_true(k == 0 || (k < 0 && errno == ECONNRESET));
}

/* ---------------------------------------------------------------------------
 * Record batches
 * ------------------------------------------------------------------------- */

/* A magic-v2 batch of n uncompressed records "<prefix>-<i>", base offset 0,
 * PartitionLeaderEpoch -1 (as producers send it), CRC-32C computed here. */
static void
rt_build_batch(tw_t *out, const char *prefix, int n, int64_t ts)
{
    tw_t recs;
    size_t start = out->len, crc_from;
    uint32_t crc;

    tw_init(&recs, false);
    for (int i = 0; i < n; i++) {
        tw_t rec;
        char value[64];
        int vl = snprintf(value, sizeof(value), "%s-%d", prefix, i);

        tw_init(&rec, false);
        tw_i8(&rec, 0);        /* attributes */
        tw_varint(&rec, i);    /* timestampDelta */
        tw_varint(&rec, i);    /* offsetDelta */
        tw_varint(&rec, -1);   /* key: null */
        tw_varint(&rec, vl);
        tw_raw(&rec, value, (size_t)vl);
        tw_varint(&rec, 0);    /* headers */
        tw_varint(&recs, (int64_t)rec.len);
        tw_raw(&recs, rec.d, rec.len);
        tw_free(&rec);
    }
    tw_i64(out, 0);                                       /* BaseOffset */
    tw_i32(out, (int32_t)(WEIR_BATCH_HDR_SIZE - 12 + recs.len)); /* BatchLength */
    tw_i32(out, -1);                                      /* PartitionLeaderEpoch */
    tw_i8(out, 2);                                        /* Magic */
    tw_i32(out, 0);                                       /* CRC, patched below */
    crc_from = out->len;
    tw_i16(out, 0);                                       /* Attributes */
    tw_i32(out, n - 1);                                   /* LastOffsetDelta */
    tw_i64(out, ts);                                      /* BaseTimestamp */
    tw_i64(out, ts + n - 1);                              /* MaxTimestamp */
    tw_i64(out, -1);                                      /* ProducerId */
    tw_i16(out, -1);                                      /* ProducerEpoch */
    tw_i32(out, -1);                                      /* BaseSequence */
    tw_i32(out, n);                                       /* RecordsCount */
    tw_raw(out, recs.d, recs.len);
    assert_int_equal(out->len - start, WEIR_BATCH_HDR_SIZE + recs.len);
    tw_free(&recs);
    crc = weir_crc32c(0, out->d + crc_from, out->len - crc_from);
    weir_put_be32(out->d + start + WEIR_BATCH_OFF_CRC, crc);
}

/* The batch as the broker stores it: BaseOffset assigned, leader epoch 0. */
static void
rt_stamp(uint8_t *batch, int64_t base_offset)
{
    weir_put_be64(batch + WEIR_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
    weir_put_be32(batch + WEIR_BATCH_OFF_LEADER_EPOCH, 0);
}

/* A legacy (magic 1) message set of one message, as pre-0.11 clients send. */
static void
rt_build_legacy(tw_t *out)
{
    tw_t m;
    char value[80];

    memset(value, 'x', sizeof(value));
    tw_init(&m, false);
    tw_i8(&m, 1);          /* magic */
    tw_i8(&m, 0);          /* attributes */
    tw_i64(&m, 1700000000000LL);
    tw_bytes(&m, NULL, -1); /* key */
    tw_bytes(&m, value, (int32_t)sizeof(value));
    tw_i64(out, 0);
    tw_i32(out, (int32_t)(4 + m.len));
    tw_i32(out, (int32_t)crc32(0, m.d, (uInt)m.len));
    tw_raw(out, m.d, m.len);
    tw_free(&m);
}

/* Walks v2 batch framing: consecutive [BaseOffset][BatchLength][...] that
 * cover exactly len bytes; returns the number of batches. */
static int
rt_walk_batches(const uint8_t *p, size_t len, int64_t first_offset)
{
    size_t pos = 0;
    int n = 0;
    int64_t expect = first_offset;

    while (pos < len) {
        int64_t base;
        int32_t blen, count;
        assert_true(len - pos >= WEIR_BATCH_HDR_SIZE);
        base = (int64_t)weir_be64(p + pos);
        blen = (int32_t)weir_be32(p + pos + WEIR_BATCH_OFF_LENGTH);
        assert_int_equal(p[pos + WEIR_BATCH_OFF_MAGIC], 2);
        assert_int_equal(base, expect);
        count = (int32_t)weir_be32(p + pos + WEIR_BATCH_OFF_RECORDS_COUNT);
        expect += count;
        assert_true(blen >= WEIR_BATCH_HDR_SIZE - 12);
        assert_true((size_t)blen + 12 <= len - pos);
        pos += (size_t)blen + 12;
        n++;
    }
    assert_int_equal(pos, len);
    return n;
}

/* ---------------------------------------------------------------------------
 * Request encoders and response decoders, one pair per API, following
 * Kafka's message definitions (clients/src/main/resources/common/message).
 * ------------------------------------------------------------------------- */

/* Per-item results the checks look at. */
typedef struct rt_cfg_s {
    char name[96];
    char value[512];
    bool value_null;
    bool read_only;
    bool is_default;   /* v0 */
    int8_t source;     /* v1+ */
    bool sensitive;
} rt_cfg_t;

typedef struct rt_item_s {
    char name[256];
    int16_t err;
    char msg[512];
    bool msg_null;
    int8_t type;
    rt_cfg_t *cfg;
    int ncfg;
} rt_item_t;

#define RT_MAX_ITEMS 16

typedef struct rt_res_s {
    int n;
    rt_item_t item[RT_MAX_ITEMS];
} rt_res_t;

static void
rt_res_reset(rt_res_t *res)
{
    for (int i = 0; i < RT_MAX_ITEMS; i++)
        free(res->item[i].cfg);
    memset(res, 0, sizeof(*res));
}

static const rt_cfg_t *
rt_find_cfg(const rt_item_t *it, const char *name)
{
    for (int i = 0; i < it->ncfg; i++)
        if (strcmp(it->cfg[i].name, name) == 0)
            return &it->cfg[i];
    return NULL;
}

static rt_item_t *
rt_res_add(rt_res_t *res)
{
    assert_true(res->n < RT_MAX_ITEMS);
    return &res->item[res->n++];
}

static void
rt_read_msg(tr_t *r, rt_item_t *it)
{
    it->msg_null = !tr_str(r, it->msg, sizeof(it->msg));
}

/* --- CreateTopics (19) --- */

typedef struct rt_ct_spec_s {
    const char *name;
    int32_t partitions;
    int16_t rf;
    int nassign;                 /* manual assignment entries */
    const int32_t *assign_index; /* their partition indices */
    const int32_t *assign_broker; /* one replica each */
    int nconfigs;
    const char *const *configs;  /* key, value pairs (value may be NULL) */
} rt_ct_spec_t;

static void
enc_create_topics(tw_t *w, int16_t v, const rt_ct_spec_t *t, int n, bool validate_only)
{
    tw_arr(w, n);
    for (int i = 0; i < n; i++) {
        tw_str(w, t[i].name);
        tw_i32(w, t[i].partitions);
        tw_i16(w, t[i].rf);
        tw_arr(w, t[i].nassign);
        for (int j = 0; j < t[i].nassign; j++) {
            tw_i32(w, t[i].assign_index[j]);
            tw_arr(w, 1);
            tw_i32(w, t[i].assign_broker[j]);
            tw_tags(w);
        }
        tw_arr(w, t[i].nconfigs);
        for (int j = 0; j < t[i].nconfigs; j++) {
            tw_str(w, t[i].configs[2 * j]);
            tw_str(w, t[i].configs[2 * j + 1]);
            tw_tags(w);
        }
        tw_tags(w);
    }
    tw_i32(w, 10000); /* timeoutMs */
    if (v >= 1)
        tw_i8(w, validate_only);
    tw_tags(w);
}

static void
dec_create_topics(tr_t *r, int16_t v, rt_res_t *res)
{
    int32_t n;

    if (v >= 2)
        assert_int_equal(tr_i32(r), 0); /* ThrottleTimeMs */
    n = tr_arr(r);
    for (int32_t i = 0; i < n; i++) {
        rt_item_t *it = rt_res_add(res);
        assert_true(tr_str(r, it->name, sizeof(it->name)));
        it->err = tr_i16(r);
        if (v >= 1)
            rt_read_msg(r, it);
        else
            it->msg_null = true;
        tr_tags(r);
    }
    tr_tags(r);
}

/* --- DeleteTopics (20) --- */

static void
enc_delete_topics(tw_t *w, int16_t v, const char *const *names, int n)
{
    (void)v;
    tw_arr(w, n);
    for (int i = 0; i < n; i++)
        tw_str(w, names[i]);
    tw_i32(w, 10000);
    tw_tags(w);
}

static void
dec_delete_topics(tr_t *r, int16_t v, rt_res_t *res)
{
    int32_t n;

    if (v >= 1)
        assert_int_equal(tr_i32(r), 0);
    n = tr_arr(r);
    for (int32_t i = 0; i < n; i++) {
        rt_item_t *it = rt_res_add(res);
        assert_true(tr_str(r, it->name, sizeof(it->name)));
        it->err = tr_i16(r);
        it->msg_null = true;
        tr_tags(r);
    }
    tr_tags(r);
}

/* --- CreatePartitions (37) --- */

static void
enc_create_partitions(tw_t *w, int16_t v, const char *name, int32_t count, int nassign,
                      const int32_t *assign_broker, bool validate_only)
{
    (void)v;
    tw_arr(w, 1);
    tw_str(w, name);
    tw_i32(w, count);
    tw_arr(w, nassign); /* -1: null */
    for (int j = 0; j < nassign; j++) {
        tw_arr(w, 1);
        tw_i32(w, assign_broker[j]);
    }
    tw_i32(w, 10000);
    tw_i8(w, validate_only);
}

static void
dec_create_partitions(tr_t *r, int16_t v, rt_res_t *res)
{
    int32_t n;

    (void)v;
    assert_int_equal(tr_i32(r), 0);
    n = tr_arr(r);
    for (int32_t i = 0; i < n; i++) {
        rt_item_t *it = rt_res_add(res);
        assert_true(tr_str(r, it->name, sizeof(it->name)));
        it->err = tr_i16(r);
        rt_read_msg(r, it);
    }
}

/* --- DescribeConfigs (32) --- */

typedef struct rt_dc_spec_s {
    int8_t type;
    const char *name;
    int nkeys;                /* -1: null (all) */
    const char *const *keys;
} rt_dc_spec_t;

static void
enc_describe_configs(tw_t *w, int16_t v, const rt_dc_spec_t *s, int n)
{
    tw_arr(w, n);
    for (int i = 0; i < n; i++) {
        tw_i8(w, s[i].type);
        tw_str(w, s[i].name);
        tw_arr(w, s[i].nkeys);
        for (int j = 0; j < s[i].nkeys; j++)
            tw_str(w, s[i].keys[j]);
    }
    if (v >= 1)
        tw_i8(w, 1); /* IncludeSynonyms */
}

static void
dec_describe_configs(tr_t *r, int16_t v, rt_res_t *res)
{
    int32_t n;

    assert_int_equal(tr_i32(r), 0);
    n = tr_arr(r);
    for (int32_t i = 0; i < n; i++) {
        rt_item_t *it = rt_res_add(res);
        int32_t nc;

        it->err = tr_i16(r);
        rt_read_msg(r, it);
        it->type = tr_i8(r);
        assert_true(tr_str(r, it->name, sizeof(it->name)));
        nc = tr_arr(r);
        assert_true(nc >= 0);
        it->cfg = calloc((size_t)nc + 1, sizeof(*it->cfg));
        assert_non_null(it->cfg);
        it->ncfg = nc;
        for (int32_t j = 0; j < nc; j++) {
            rt_cfg_t *c = &it->cfg[j];
            assert_true(tr_str(r, c->name, sizeof(c->name)));
            c->value_null = !tr_str(r, c->value, sizeof(c->value));
            c->read_only = tr_bool(r);
            if (v == 0)
                c->is_default = tr_bool(r);
            else
                c->source = tr_i8(r);
            c->sensitive = tr_bool(r);
            if (v >= 1) {
                int32_t ns = tr_arr(r);
                for (int32_t k = 0; k < ns; k++) {
                    char buf[512];
                    assert_true(tr_str(r, buf, sizeof(buf)));
                    (void)tr_str(r, buf, sizeof(buf));
                    (void)tr_i8(r);
                }
            }
        }
    }
}

/* --- AlterConfigs (33) and IncrementalAlterConfigs (44) --- */

typedef struct rt_ac_spec_s {
    int8_t type;
    const char *name;
    int nconfigs;
    const char *const *configs; /* key, value pairs (value may be NULL) */
    const int8_t *ops;          /* IncrementalAlterConfigs */
} rt_ac_spec_t;

static void
enc_alter_configs(tw_t *w, bool incremental, const rt_ac_spec_t *s, int n, bool validate_only)
{
    tw_arr(w, n);
    for (int i = 0; i < n; i++) {
        tw_i8(w, s[i].type);
        tw_str(w, s[i].name);
        tw_arr(w, s[i].nconfigs);
        for (int j = 0; j < s[i].nconfigs; j++) {
            tw_str(w, s[i].configs[2 * j]);
            if (incremental)
                tw_i8(w, s[i].ops[j]);
            tw_str(w, s[i].configs[2 * j + 1]);
            tw_tags(w);
        }
        tw_tags(w);
    }
    tw_i8(w, validate_only);
    tw_tags(w);
}

static void
dec_alter_configs(tr_t *r, rt_res_t *res)
{
    int32_t n;

    assert_int_equal(tr_i32(r), 0);
    n = tr_arr(r);
    for (int32_t i = 0; i < n; i++) {
        rt_item_t *it = rt_res_add(res);
        it->err = tr_i16(r);
        rt_read_msg(r, it);
        it->type = tr_i8(r);
        assert_true(tr_str(r, it->name, sizeof(it->name)));
        tr_tags(r);
    }
    tr_tags(r);
}

/* --- Metadata (3) --- */

typedef struct rt_md_s {
    int16_t err;
    int32_t npartitions;
} rt_md_t;

static void
enc_metadata(tw_t *w, int16_t v, const char *topic)
{
    tw_arr(w, 1);
    tw_str(w, topic);
    if (v >= 4)
        tw_i8(w, 0); /* AllowAutoTopicCreation */
}

static void
dec_metadata(tr_t *r, int16_t v, rt_broker_t *b, const char *topic, rt_md_t *out)
{
    char buf[256];
    int32_t n;

    if (v >= 3)
        assert_int_equal(tr_i32(r), 0);
    assert_int_equal(tr_arr(r), 1); /* Brokers */
    assert_int_equal(tr_i32(r), b->node_id);
    tr_expect_str(r, "127.0.0.1");
    assert_int_equal(tr_i32(r), b->port);
    if (v >= 1)
        tr_expect_str(r, NULL); /* Rack */
    if (v >= 2)
        assert_true(tr_str(r, buf, sizeof(buf)) && buf[0]); /* ClusterId */
    if (v >= 1)
        assert_int_equal(tr_i32(r), b->node_id); /* ControllerId */
    assert_int_equal(tr_arr(r), 1);
    out->err = tr_i16(r);
    tr_expect_str(r, topic);
    if (v >= 1)
        assert_false(tr_bool(r)); /* IsInternal */
    n = tr_arr(r);
    out->npartitions = n;
    for (int32_t i = 0; i < n; i++) {
        assert_int_equal(tr_i16(r), 0);
        assert_int_equal(tr_i32(r), i);
        assert_int_equal(tr_i32(r), b->node_id); /* LeaderId */
        assert_int_equal(tr_arr(r), 1);
        assert_int_equal(tr_i32(r), b->node_id);
        assert_int_equal(tr_arr(r), 1);
        assert_int_equal(tr_i32(r), b->node_id);
        if (v >= 5)
            assert_int_equal(tr_arr(r), 0); /* OfflineReplicas */
    }
}

/* --- Produce (0) --- */

typedef struct rt_prod_s {
    int16_t err;
    int64_t base_offset, log_append_time, log_start;
} rt_prod_t;

static void
enc_produce(tw_t *w, int16_t v, const char *topic, int32_t part, const uint8_t *rec,
            size_t reclen)
{
    if (v >= 3)
        tw_str(w, NULL); /* TransactionalId */
    tw_i16(w, 1);        /* Acks */
    tw_i32(w, 10000);
    tw_arr(w, 1);
    tw_str(w, topic);
    tw_arr(w, 1);
    tw_i32(w, part);
    tw_bytes(w, rec, (int32_t)reclen);
}

static void
dec_produce(tr_t *r, int16_t v, const char *topic, int32_t part, rt_prod_t *out)
{
    assert_int_equal(tr_arr(r), 1);
    tr_expect_str(r, topic);
    assert_int_equal(tr_arr(r), 1);
    assert_int_equal(tr_i32(r), part);
    out->err = tr_i16(r);
    out->base_offset = tr_i64(r);
    out->log_append_time = v >= 2 ? tr_i64(r) : -1;
    out->log_start = v >= 5 ? tr_i64(r) : -1;
    if (v >= 1)
        assert_int_equal(tr_i32(r), 0);
}

/* --- Fetch (1) --- */

typedef struct rt_fetch_s {
    int16_t err;
    int64_t hw, lso, log_start;
    int32_t nrec;
    const uint8_t *rec;
} rt_fetch_t;

static void
enc_fetch(tw_t *w, int16_t v, const char *topic, int32_t part, int64_t offset)
{
    tw_i32(w, -1); /* ReplicaId */
    tw_i32(w, 0);  /* MaxWaitMs */
    tw_i32(w, 0);  /* MinBytes */
    if (v >= 3)
        tw_i32(w, 4 << 20);
    if (v >= 4)
        tw_i8(w, 0);
    if (v >= 7) {
        tw_i32(w, 0);  /* SessionId */
        tw_i32(w, -1); /* SessionEpoch */
    }
    tw_arr(w, 1);
    tw_str(w, topic);
    tw_arr(w, 1);
    tw_i32(w, part);
    if (v >= 9)
        tw_i32(w, -1); /* CurrentLeaderEpoch */
    tw_i64(w, offset);
    if (v >= 5)
        tw_i64(w, -1); /* LogStartOffset */
    tw_i32(w, 1 << 20);
    if (v >= 7)
        tw_arr(w, 0); /* ForgottenTopicsData */
    if (v >= 11)
        tw_str(w, ""); /* RackId */
}

static void
dec_fetch(tr_t *r, int16_t v, const char *topic, int32_t part, rt_fetch_t *out)
{
    if (v >= 1)
        assert_int_equal(tr_i32(r), 0);
    if (v >= 7) {
        assert_int_equal(tr_i16(r), 0);
        assert_int_equal(tr_i32(r), 0); /* SessionId */
    }
    assert_int_equal(tr_arr(r), 1);
    tr_expect_str(r, topic);
    assert_int_equal(tr_arr(r), 1);
    assert_int_equal(tr_i32(r), part);
    out->err = tr_i16(r);
    out->hw = tr_i64(r);
    out->lso = v >= 4 ? tr_i64(r) : -1;
    out->log_start = v >= 5 ? tr_i64(r) : -1;
    if (v >= 4) {
        int32_t na = tr_arr(r); /* AbortedTransactions, nullable */
        for (int32_t i = 0; i < na; i++) {
            (void)tr_i64(r);
            (void)tr_i64(r);
        }
    }
    if (v >= 11)
        assert_int_equal(tr_i32(r), -1); /* PreferredReadReplica */
    out->nrec = tr_bytes(r, &out->rec);
}

/* ---------------------------------------------------------------------------
 * The every-API, every-version sweep
 * ------------------------------------------------------------------------- */

#define RT_TOPIC "rt"
#define RT_CP_TOPIC "cp"
#define RT_GROUP "rt-group"         /* the consumer group the group cases follow */
#define RT_SIMPLE_GROUP "rt-simple" /* offsets committed without membership */
#define RT_SESSION_MS 10000
#define RT_ID_MAX 96
#define RT_MAX_MEMBERS 4
#define RT_MAX_GROUPS 16

typedef struct rt_groups_s {
    int n;
    char id[RT_MAX_GROUPS][32];
    char ptype[RT_MAX_GROUPS][16];
} rt_groups_t;

typedef struct rt_ctx_s {
    rt_broker_t *b;
    rt_client_t cl;
    tw_t log;          /* what partition 0 of RT_TOPIC holds, as stored */
    int64_t next_offset;
    int produced;      /* batches */
    rt_res_t res;
    /* The group cases: RT_GROUP's member ("" when none), its generation and
     * assignment, its last committed offset of RT_TOPIC[0], and the groups
     * ListGroups should show. */
    char member[RT_ID_MAX];
    int32_t gen;
    uint8_t assign[64];
    int32_t assign_len;
    int64_t committed;
    int32_t committed_epoch;
    char committed_md[32];
    rt_groups_t groups;
} rt_ctx_t;

typedef void (*rt_case_fn)(rt_ctx_t *c, int16_t v);

static void
case_produce(rt_ctx_t *c, int16_t v)
{
    tw_t body, batch;
    tr_t r;
    rt_prod_t p;

    tw_init(&batch, false);
    if (v >= 3)
        rt_build_batch(&batch, "rec", 2, weir_wall_ms());
    else
        rt_build_legacy(&batch); /* what a client speaking v0-v2 sends */
    tw_init(&body, rt_is_flex(WEIR_API_Produce, v));
    enc_produce(&body, v, RT_TOPIC, 0, batch.d, batch.len);
    rt_call(&c->cl, WEIR_API_Produce, v, &body, &r);
    dec_produce(&r, v, RT_TOPIC, 0, &p);
    tr_done(&r);
    if (v >= 3) {
        assert_int_equal(p.err, 0);
        assert_int_equal(p.base_offset, c->next_offset);
        if (v >= 2)
            assert_int_equal(p.log_append_time, -1); /* CreateTime topic */
        if (v >= 5)
            assert_int_equal(p.log_start, 0);
        rt_stamp(batch.d, c->next_offset);
        tw_raw(&c->log, batch.d, batch.len);
        c->next_offset += 2;
        c->produced++;
    } else {
        /* Weir stores record batches (magic 2) only. */
        assert_int_equal(p.err, WEIR_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
        assert_int_equal(p.base_offset, -1);
    }
    tw_free(&body);
    tw_free(&batch);
}

static void
case_fetch(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;
    rt_fetch_t f;

    assert_true(c->produced > 0);
    tw_init(&body, rt_is_flex(WEIR_API_Fetch, v));
    enc_fetch(&body, v, RT_TOPIC, 0, 0);
    rt_call(&c->cl, WEIR_API_Fetch, v, &body, &r);
    dec_fetch(&r, v, RT_TOPIC, 0, &f);
    tr_done(&r);
    assert_int_equal(f.err, 0);
    assert_int_equal(f.hw, c->next_offset);
    if (v >= 4)
        assert_int_equal(f.lso, c->next_offset);
    if (v >= 5)
        assert_int_equal(f.log_start, 0);
    if (v >= 4) {
        /* Byte for byte what was produced, with the offsets assigned. */
        assert_int_equal(f.nrec, (int32_t)c->log.len);
        assert_memory_equal(f.rec, c->log.d, c->log.len);
    } else {
        assert_true(f.nrec > 0);
        assert_int_equal(rt_walk_batches(f.rec, (size_t)f.nrec, 0), c->produced);
    }
    tw_free(&body);
}

static void
case_list_offsets(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;
    const int64_t ts[2] = {-1, -2};
    const int64_t want[2] = {c->next_offset, 0};

    tw_init(&body, rt_is_flex(WEIR_API_ListOffsets, v));
    tw_i32(&body, -1); /* ReplicaId */
    if (v >= 2)
        tw_i8(&body, 0);
    tw_arr(&body, 1);
    tw_str(&body, RT_TOPIC);
    tw_arr(&body, 2);
    for (int i = 0; i < 2; i++) {
        tw_i32(&body, 0);
        tw_i64(&body, ts[i]);
        if (v == 0)
            tw_i32(&body, 1); /* MaxNumOffsets */
    }
    rt_call(&c->cl, WEIR_API_ListOffsets, v, &body, &r);
    if (v >= 2)
        assert_int_equal(tr_i32(&r), 0);
    assert_int_equal(tr_arr(&r), 1);
    tr_expect_str(&r, RT_TOPIC);
    assert_int_equal(tr_arr(&r), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tr_i32(&r), 0);
        assert_int_equal(tr_i16(&r), 0);
        if (v == 0) {
            assert_int_equal(tr_arr(&r), 1); /* OldStyleOffsets */
            assert_int_equal(tr_i64(&r), want[i]);
        } else {
            assert_int_equal(tr_i64(&r), -1); /* Timestamp */
            assert_int_equal(tr_i64(&r), want[i]);
        }
    }
    tr_done(&r);
    tw_free(&body);
}

static void
case_metadata(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;
    rt_md_t md;

    tw_init(&body, rt_is_flex(WEIR_API_Metadata, v));
    enc_metadata(&body, v, RT_TOPIC);
    rt_call(&c->cl, WEIR_API_Metadata, v, &body, &r);
    dec_metadata(&r, v, c->b, RT_TOPIC, &md);
    tr_done(&r);
    assert_int_equal(md.err, 0);
    assert_int_equal(md.npartitions, 1);
    tw_free(&body);
}

static void
case_find_coordinator(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_FindCoordinator, v));
    tw_str(&body, "rt-group");
    if (v >= 1)
        tw_i8(&body, 0); /* KeyType: group */
    rt_call(&c->cl, WEIR_API_FindCoordinator, v, &body, &r);
    if (v >= 1)
        assert_int_equal(tr_i32(&r), 0);
    assert_int_equal(tr_i16(&r), 0);
    if (v >= 1)
        tr_expect_str(&r, NULL); /* ErrorMessage */
    assert_int_equal(tr_i32(&r), c->b->node_id);
    tr_expect_str(&r, "127.0.0.1");
    assert_int_equal(tr_i32(&r), c->b->port);
    tr_done(&r);
    tw_free(&body);
}

/* Decodes an ApiVersions body of version v (v0 layout for errors) and
 * checks it lists exactly the dispatch table. */
static void
rt_check_api_versions(tr_t *r, int16_t v, int16_t want_err)
{
    int32_t n, served = 0;

    for (int16_t k = 0; k < WEIR_API__COUNT; k++)
        served += weir_api_desc(k) != NULL;
    assert_int_equal(tr_i16(r), want_err);
    n = tr_arr(r);
    assert_int_equal(n, served);
    for (int32_t i = 0; i < n; i++) {
        int16_t key = tr_i16(r), min = tr_i16(r), max = tr_i16(r);
        const weir_api_desc_t *d = weir_api_desc(key);
        assert_non_null(d);
        assert_int_equal(min, d->min);
        assert_int_equal(max, d->max);
        assert_int_equal(min, 0); /* librdkafka 2.0.2 needs every minimum at 0 */
        tr_tags(r);
    }
    if (v >= 1)
        assert_int_equal(tr_i32(r), 0);
    tr_tags(r);
    tr_done(r);
}

static void
case_api_versions(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_ApiVersions, v));
    if (v >= 3) {
        tw_str(&body, "weir-roundtrip");
        tw_str(&body, "1.0");
        tw_tags(&body);
    }
    rt_call(&c->cl, WEIR_API_ApiVersions, v, &body, &r);
    rt_check_api_versions(&r, v, 0);
    tw_free(&body);
}

static void
case_init_producer_id(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_InitProducerId, v));
    tw_str(&body, NULL); /* TransactionalId */
    tw_i32(&body, 60000);
    tw_tags(&body);
    rt_call(&c->cl, WEIR_API_InitProducerId, v, &body, &r);
    assert_int_equal(tr_i32(&r), 0);
    assert_int_equal(tr_i16(&r), 0);
    assert_true(tr_i64(&r) >= 0);
    assert_int_equal(tr_i16(&r), 0);
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
}

static void
case_create_topics(rt_ctx_t *c, int16_t v)
{
    static const char *const cfg[] = {"retention.ms", "12345"};
    char name[32];
    rt_ct_spec_t t[2];
    tw_t body;
    tr_t r;

    snprintf(name, sizeof(name), "ct-v%d", v);
    memset(t, 0, sizeof(t));
    t[0] = (rt_ct_spec_t){.name = name, .partitions = 3, .rf = 1, .nconfigs = 1, .configs = cfg};
    t[1] = (rt_ct_spec_t){.name = RT_TOPIC, .partitions = 1, .rf = -1};
    tw_init(&body, rt_is_flex(WEIR_API_CreateTopics, v));
    enc_create_topics(&body, v, t, 2, false);
    rt_call(&c->cl, WEIR_API_CreateTopics, v, &body, &r);
    rt_res_reset(&c->res);
    dec_create_topics(&r, v, &c->res);
    tr_done(&r);
    assert_int_equal(c->res.n, 2);
    assert_string_equal(c->res.item[0].name, name);
    assert_int_equal(c->res.item[0].err, 0);
    assert_true(c->res.item[0].msg_null);
    assert_string_equal(c->res.item[1].name, RT_TOPIC);
    assert_int_equal(c->res.item[1].err, WEIR_KERR_TOPIC_ALREADY_EXISTS);
    if (v >= 1)
        assert_false(c->res.item[1].msg_null);
    tw_free(&body);
}

static void
case_delete_topics(rt_ctx_t *c, int16_t v)
{
    char name[32], missing[32];
    const char *names[2] = {name, missing};
    tw_t body;
    tr_t r;

    snprintf(name, sizeof(name), "ct-v%d", v);
    snprintf(missing, sizeof(missing), "missing-v%d", v);
    tw_init(&body, rt_is_flex(WEIR_API_DeleteTopics, v));
    enc_delete_topics(&body, v, names, 2);
    rt_call(&c->cl, WEIR_API_DeleteTopics, v, &body, &r);
    rt_res_reset(&c->res);
    dec_delete_topics(&r, v, &c->res);
    tr_done(&r);
    assert_int_equal(c->res.n, 2);
    assert_string_equal(c->res.item[0].name, name);
    assert_int_equal(c->res.item[0].err, 0);
    assert_string_equal(c->res.item[1].name, missing);
    assert_int_equal(c->res.item[1].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    tw_free(&body);
}

static void
case_describe_configs(rt_ctx_t *c, int16_t v)
{
    static const char *const keys[] = {"num.partitions", "log.dirs", "no.such.key"};
    char node[16];
    rt_dc_spec_t s[2];
    const rt_cfg_t *cf;
    tw_t body;
    tr_t r;

    snprintf(node, sizeof(node), "%d", c->b->node_id);
    s[0] = (rt_dc_spec_t){2, RT_TOPIC, -1, NULL};
    s[1] = (rt_dc_spec_t){4, node, 3, keys};
    tw_init(&body, rt_is_flex(WEIR_API_DescribeConfigs, v));
    enc_describe_configs(&body, v, s, 2);
    rt_call(&c->cl, WEIR_API_DescribeConfigs, v, &body, &r);
    rt_res_reset(&c->res);
    dec_describe_configs(&r, v, &c->res);
    tr_done(&r);
    assert_int_equal(c->res.n, 2);

    assert_int_equal(c->res.item[0].err, 0);
    assert_true(c->res.item[0].msg_null);
    assert_int_equal(c->res.item[0].type, 2);
    assert_string_equal(c->res.item[0].name, RT_TOPIC);
    assert_true(c->res.item[0].ncfg >= 10);
    cf = rt_find_cfg(&c->res.item[0], "cleanup.policy");
    assert_non_null(cf);
    assert_string_equal(cf->value, "delete");
    assert_false(cf->read_only);
    assert_false(cf->sensitive);
    assert_non_null(rt_find_cfg(&c->res.item[0], "retention.ms"));
    assert_non_null(rt_find_cfg(&c->res.item[0], "segment.bytes"));

    assert_int_equal(c->res.item[1].err, 0);
    assert_int_equal(c->res.item[1].type, 4);
    assert_string_equal(c->res.item[1].name, node);
    assert_int_equal(c->res.item[1].ncfg, 2); /* unknown keys are left out */
    cf = rt_find_cfg(&c->res.item[1], "log.dirs");
    assert_non_null(cf);
    assert_string_equal(cf->value, c->b->dir);
    assert_true(cf->read_only);
    if (v == 0)
        assert_false(cf->is_default);
    else
        assert_int_equal(cf->source, WEIR_CONFIG_SOURCE_STATIC_BROKER);
    cf = rt_find_cfg(&c->res.item[1], "num.partitions");
    assert_non_null(cf);
    assert_string_equal(cf->value, "1");
    if (v == 0)
        assert_true(cf->is_default);
    else
        assert_int_equal(cf->source, WEIR_CONFIG_SOURCE_DEFAULT);
    tw_free(&body);
}

static void
case_alter_configs(rt_ctx_t *c, int16_t v)
{
    static const char *const cfg[] = {"retention.ms", "86400000", "cleanup.policy", "delete"};
    rt_ac_spec_t s = {2, RT_TOPIC, 2, cfg, NULL};
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_AlterConfigs, v));
    enc_alter_configs(&body, false, &s, 1, false);
    rt_call(&c->cl, WEIR_API_AlterConfigs, v, &body, &r);
    rt_res_reset(&c->res);
    dec_alter_configs(&r, &c->res);
    tr_done(&r);
    assert_int_equal(c->res.n, 1);
    assert_int_equal(c->res.item[0].err, 0);
    assert_true(c->res.item[0].msg_null);
    assert_int_equal(c->res.item[0].type, 2);
    assert_string_equal(c->res.item[0].name, RT_TOPIC);
    tw_free(&body);
}

static void
case_incremental_alter_configs(rt_ctx_t *c, int16_t v)
{
    static const char *const cfg[] = {"retention.bytes", "1048576", "retention.ms", NULL};
    static const int8_t ops[] = {0, 1};
    rt_ac_spec_t s = {2, RT_TOPIC, 2, cfg, ops};
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_IncrementalAlterConfigs, v));
    enc_alter_configs(&body, true, &s, 1, false);
    rt_call(&c->cl, WEIR_API_IncrementalAlterConfigs, v, &body, &r);
    rt_res_reset(&c->res);
    dec_alter_configs(&r, &c->res);
    tr_done(&r);
    assert_int_equal(c->res.n, 1);
    assert_int_equal(c->res.item[0].err, 0);
    assert_true(c->res.item[0].msg_null);
    assert_string_equal(c->res.item[0].name, RT_TOPIC);
    tw_free(&body);
}

static void
case_create_partitions(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_CreatePartitions, v));
    enc_create_partitions(&body, v, RT_CP_TOPIC, 2 + v, -1, NULL, false);
    rt_call(&c->cl, WEIR_API_CreatePartitions, v, &body, &r);
    rt_res_reset(&c->res);
    dec_create_partitions(&r, v, &c->res);
    tr_done(&r);
    assert_int_equal(c->res.n, 1);
    assert_string_equal(c->res.item[0].name, RT_CP_TOPIC);
    assert_int_equal(c->res.item[0].err, 0);
    assert_true(c->res.item[0].msg_null);
    tw_free(&body);
}

/* SASL on a PLAINTEXT listener: ILLEGAL_SASL_STATE, the connection stays
 * (tests/integration/test_security_sasl covers SASL listeners). */
static void
case_sasl_handshake(rt_ctx_t *c, int16_t v)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_SaslHandshake, v));
    tw_str(&body, "PLAIN");
    rt_call(&c->cl, WEIR_API_SaslHandshake, v, &body, &r);
    assert_int_equal(tr_i16(&r), WEIR_KERR_ILLEGAL_SASL_STATE);
    assert_int_equal(tr_arr(&r), 0); /* Mechanisms */
    tr_done(&r);
    tw_free(&body);
}

static void
case_sasl_authenticate(rt_ctx_t *c, int16_t v)
{
    static const char token[] = "\0alice\0secret";
    const uint8_t *p;
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_SaslAuthenticate, v));
    tw_bytes(&body, token, sizeof(token) - 1);
    tw_tags(&body);
    rt_call(&c->cl, WEIR_API_SaslAuthenticate, v, &body, &r);
    assert_int_equal(tr_i16(&r), WEIR_KERR_ILLEGAL_SASL_STATE);
    tr_expect_str(&r, "SaslAuthenticate on a listener without SASL");
    assert_int_equal(tr_bytes(&r, &p), 0); /* AuthBytes */
    if (v >= 1)
        assert_int_equal(tr_i64(&r), 0); /* SessionLifetimeMs */
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
}

/* ---------------------------------------------------------------------------
 * Consumer groups: JoinGroup (11), SyncGroup (14), Heartbeat (12),
 * LeaveGroup (13), OffsetCommit (8), OffsetFetch (9), DescribeGroups (15),
 * ListGroups (16), DeleteGroups (42), OffsetDelete (47).
 *
 * The codecs below know the versions Weir serves (none of them flexible
 * yet; the tags are written and read where flexible versions have them).
 * Each case asserts the highest version it knows, so that advertising a
 * newer one fails here until its layout is added.
 * ------------------------------------------------------------------------- */

/* A member id Weir made for this client: "weir-roundtrip-" and a UUID. */
static bool
rt_is_member_id(const char *id, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(id, prefix, n) == 0 && id[n] == '-' && strlen(id) == n + 1 + 36;
}

/* ConsumerProtocolSubscription v0: the topic RT_TOPIC, user data ud (NULL:
 * null).  Members offer "range" with ud NULL and "roundrobin" with "rr". */
static void
rt_subscription(tw_t *w, const char *ud)
{
    tw_init(w, false);
    tw_i16(w, 0);
    tw_i32(w, 1);
    tw_str(w, RT_TOPIC);
    tw_bytes(w, ud, ud ? (int32_t)strlen(ud) : -1);
}

/* ConsumerProtocolAssignment v0: n partitions of RT_TOPIC. */
static void
rt_assignment(tw_t *w, const int32_t *parts, int n)
{
    tw_init(w, false);
    tw_i16(w, 0);
    tw_i32(w, 1);
    tw_str(w, RT_TOPIC);
    tw_i32(w, n);
    for (int i = 0; i < n; i++)
        tw_i32(w, parts[i]);
    tw_bytes(w, NULL, -1);
}

/* Sends a request and returns at once (the answer is read by rt_end). */
static void
rt_begin(rt_client_t *c, int16_t key, int16_t ver, const tw_t *body)
{
    rt_send(c, key, ver, rt_is_flex(key, ver), body->d, body->len);
}

/* The second half of rt_call. */
static void
rt_end(rt_client_t *c, int16_t key, int16_t ver, tr_t *r)
{
    bool flex = rt_is_flex(key, ver);
    const weir_api_desc_t *d = weir_api_desc(key);

    snprintf(rt_where, sizeof(rt_where), "%s v%d", d ? d->name : "?", ver);
    if (!rt_recv(c))
        fail_msg("api %d v%d: the broker closed the connection", key, ver);
    memset(r, 0, sizeof(*r));
    r->d = c->resp;
    r->len = c->resp_len;
    assert_int_equal(tr_i32(r), c->corr);
    r->flex = flex;
    if (flex)
        tr_tags(r);
}

/* The broker has not answered yet (a request parked by the coordinator). */
static void
rt_expect_pending(rt_client_t *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int k;

    do {
        k = poll(&p, 1, 200);
    } while (k < 0 && errno == EINTR);
    if (k != 0)
        fail_msg("%s: answered (or closed) while it should wait for other members", rt_where);
}

/* --- JoinGroup (11) --- */

typedef struct rt_join_s {
    int16_t err;
    int32_t gen;
    char proto[32];
    char leader[RT_ID_MAX];
    char member[RT_ID_MAX];
    int32_t n;
    struct {
        char id[RT_ID_MAX];
        char inst[RT_ID_MAX];
        bool inst_null;
        uint8_t md[64];
        int32_t mdlen;
    } m[RT_MAX_MEMBERS];
} rt_join_t;

static void
enc_join_group(tw_t *w, int16_t v, const char *group, const char *member, const char *instance,
               const char *ptype)
{
    tw_t range, rr;

    rt_subscription(&range, NULL);
    rt_subscription(&rr, "rr");
    tw_str(w, group);
    tw_i32(w, RT_SESSION_MS);
    if (v >= 1)
        tw_i32(w, RT_SESSION_MS); /* RebalanceTimeoutMs */
    tw_str(w, member);
    if (v >= 5)
        tw_str(w, instance);
    tw_str(w, ptype);
    tw_arr(w, 2);
    tw_str(w, "range");
    tw_bytes(w, range.d, (int32_t)range.len);
    tw_tags(w);
    tw_str(w, "roundrobin");
    tw_bytes(w, rr.d, (int32_t)rr.len);
    tw_tags(w);
    tw_tags(w);
    tw_free(&range);
    tw_free(&rr);
}

static void
dec_join_group(tr_t *r, int16_t v, rt_join_t *out)
{
    memset(out, 0, sizeof(*out));
    if (v >= 2)
        assert_int_equal(tr_i32(r), 0); /* ThrottleTimeMs */
    out->err = tr_i16(r);
    out->gen = tr_i32(r);
    assert_true(tr_str(r, out->proto, sizeof(out->proto))); /* not nullable before v7 */
    assert_true(tr_str(r, out->leader, sizeof(out->leader)));
    assert_true(tr_str(r, out->member, sizeof(out->member)));
    out->n = tr_arr(r);
    assert_true(out->n >= 0 && out->n <= RT_MAX_MEMBERS);
    for (int32_t i = 0; i < out->n; i++) {
        const uint8_t *p;

        assert_true(tr_str(r, out->m[i].id, sizeof(out->m[i].id)));
        out->m[i].inst_null = true;
        if (v >= 5)
            out->m[i].inst_null = !tr_str(r, out->m[i].inst, sizeof(out->m[i].inst));
        out->m[i].mdlen = tr_bytes(r, &p);
        assert_true(out->m[i].mdlen >= 0 && out->m[i].mdlen <= (int32_t)sizeof(out->m[i].md));
        if (out->m[i].mdlen > 0)
            memcpy(out->m[i].md, p, (size_t)out->m[i].mdlen);
        tr_tags(r);
    }
    tr_tags(r);
}

static void
rt_join_begin(rt_client_t *cl, int16_t v, const char *group, const char *member,
              const char *instance, const char *ptype)
{
    tw_t body;

    tw_init(&body, rt_is_flex(WEIR_API_JoinGroup, v));
    enc_join_group(&body, v, group, member, instance, ptype);
    rt_begin(cl, WEIR_API_JoinGroup, v, &body);
    tw_free(&body);
}

static void
rt_join_end(rt_client_t *cl, int16_t v, rt_join_t *out)
{
    tr_t r;

    rt_end(cl, WEIR_API_JoinGroup, v, &r);
    dec_join_group(&r, v, out);
    tr_done(&r);
}

static void
rt_join(rt_client_t *cl, int16_t v, const char *group, const char *member, const char *instance,
        const char *ptype, rt_join_t *out)
{
    rt_join_begin(cl, v, group, member, instance, ptype);
    rt_join_end(cl, v, out);
}

/* A failed JoinGroup: no generation, protocol or leader, no members. */
static void
rt_check_join_error(const rt_join_t *j, int16_t err)
{
    assert_int_equal(j->err, err);
    assert_int_equal(j->gen, -1);
    assert_string_equal(j->proto, "");
    assert_string_equal(j->leader, "");
    assert_int_equal(j->n, 0);
}

/* A successful JoinGroup of generation gen with "range" elected; the
 * leader also gets the members (nmembers; the others get none), each with
 * its "range" metadata. */
static void
rt_check_joined(const rt_join_t *j, int32_t gen, const char *leader, int nmembers)
{
    tw_t range;

    assert_int_equal(j->err, 0);
    assert_int_equal(j->gen, gen);
    assert_string_equal(j->proto, "range");
    assert_string_equal(j->leader, leader);
    if (strcmp(j->member, leader) != 0) {
        assert_int_equal(j->n, 0);
        return;
    }
    assert_int_equal(j->n, nmembers);
    rt_subscription(&range, NULL);
    for (int32_t i = 0; i < j->n; i++) {
        assert_int_equal(j->m[i].mdlen, (int32_t)range.len);
        assert_memory_equal(j->m[i].md, range.d, range.len);
    }
    tw_free(&range);
}

/* --- SyncGroup (14) --- */

typedef struct rt_sync_s {
    int16_t err;
    uint8_t assign[64];
    int32_t alen;
} rt_sync_t;

static void
rt_sync_begin(rt_client_t *cl, int16_t v, const char *group, int32_t gen, const char *member, int n,
              const char *const *ids, const tw_t *assigns)
{
    tw_t body;

    tw_init(&body, rt_is_flex(WEIR_API_SyncGroup, v));
    tw_str(&body, group);
    tw_i32(&body, gen);
    tw_str(&body, member);
    if (v >= 3)
        tw_str(&body, NULL); /* GroupInstanceId */
    tw_arr(&body, n);
    for (int i = 0; i < n; i++) {
        tw_str(&body, ids[i]);
        tw_bytes(&body, assigns[i].d, (int32_t)assigns[i].len);
        tw_tags(&body);
    }
    tw_tags(&body);
    rt_begin(cl, WEIR_API_SyncGroup, v, &body);
    tw_free(&body);
}

static void
rt_sync_end(rt_client_t *cl, int16_t v, rt_sync_t *out)
{
    const uint8_t *p;
    tr_t r;

    rt_end(cl, WEIR_API_SyncGroup, v, &r);
    memset(out, 0, sizeof(*out));
    if (v >= 1)
        assert_int_equal(tr_i32(&r), 0);
    out->err = tr_i16(&r);
    out->alen = tr_bytes(&r, &p);
    assert_true(out->alen >= 0 && out->alen <= (int32_t)sizeof(out->assign));
    if (out->alen > 0)
        memcpy(out->assign, p, (size_t)out->alen);
    tr_tags(&r);
    tr_done(&r);
}

static void
rt_sync(rt_client_t *cl, int16_t v, const char *group, int32_t gen, const char *member, int n,
        const char *const *ids, const tw_t *assigns, rt_sync_t *out)
{
    rt_sync_begin(cl, v, group, gen, member, n, ids, assigns);
    rt_sync_end(cl, v, out);
}

/* --- Heartbeat (12) --- */

static int16_t
rt_heartbeat(rt_client_t *cl, int16_t v, const char *group, int32_t gen, const char *member,
             const char *instance)
{
    tw_t body;
    tr_t r;
    int16_t err;

    tw_init(&body, rt_is_flex(WEIR_API_Heartbeat, v));
    tw_str(&body, group);
    tw_i32(&body, gen);
    tw_str(&body, member);
    if (v >= 3)
        tw_str(&body, instance);
    tw_tags(&body);
    rt_call(cl, WEIR_API_Heartbeat, v, &body, &r);
    if (v >= 1)
        assert_int_equal(tr_i32(&r), 0);
    err = tr_i16(&r);
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
    return err;
}

/* --- LeaveGroup (13) --- */

/* v0-2 take one member (ids[0]); errs[i] gets each member's error (v3+
 * answers per member; before, the one error is the member's).  Returns
 * the top-level error. */
static int16_t
rt_leave(rt_client_t *cl, int16_t v, const char *group, int n, const char *const *ids,
         const char *const *instances, int16_t *errs)
{
    tw_t body;
    tr_t r;
    int16_t err;

    tw_init(&body, rt_is_flex(WEIR_API_LeaveGroup, v));
    tw_str(&body, group);
    if (v < 3) {
        assert_int_equal(n, 1);
        tw_str(&body, ids[0]);
    } else {
        tw_arr(&body, n);
        for (int i = 0; i < n; i++) {
            tw_str(&body, ids[i]);
            tw_str(&body, instances ? instances[i] : NULL);
            tw_tags(&body);
        }
    }
    tw_tags(&body);
    rt_call(cl, WEIR_API_LeaveGroup, v, &body, &r);
    if (v >= 1)
        assert_int_equal(tr_i32(&r), 0);
    err = tr_i16(&r);
    if (v < 3) {
        errs[0] = err;
    } else {
        int32_t k = tr_arr(&r);

        assert_int_equal(k, err ? 0 : n);
        for (int32_t i = 0; i < k; i++) {
            char id[RT_ID_MAX], inst[RT_ID_MAX];
            bool inst_set;

            assert_true(tr_str(&r, id, sizeof(id)));
            assert_string_equal(id, ids[i]);
            inst_set = tr_str(&r, inst, sizeof(inst));
            if (instances && instances[i]) {
                assert_true(inst_set);
                assert_string_equal(inst, instances[i]);
            } else {
                assert_false(inst_set);
            }
            errs[i] = tr_i16(&r);
            tr_tags(&r);
        }
    }
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
    return err;
}

/* --- OffsetCommit (8) --- */

/* Commits offsets[i] for partitions parts[i] of topic with one metadata
 * string and leader epoch (v6+); errs[i] gets each partition's error. */
static void
rt_commit(rt_client_t *cl, int16_t v, const char *group, int32_t gen, const char *member,
          const char *instance, const char *topic, int n, const int32_t *parts,
          const int64_t *offsets, int32_t epoch, const char *md, int16_t *errs)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_OffsetCommit, v));
    tw_str(&body, group);
    if (v >= 1) {
        tw_i32(&body, gen);
        tw_str(&body, member);
    }
    if (v >= 7)
        tw_str(&body, instance);
    if (v >= 2 && v <= 4)
        tw_i64(&body, -1); /* RetentionTimeMs: the broker's */
    tw_arr(&body, 1);
    tw_str(&body, topic);
    tw_arr(&body, n);
    for (int i = 0; i < n; i++) {
        tw_i32(&body, parts[i]);
        tw_i64(&body, offsets[i]);
        if (v >= 6)
            tw_i32(&body, epoch);
        if (v == 1)
            tw_i64(&body, -1); /* CommitTimestamp */
        tw_str(&body, md);
        tw_tags(&body);
    }
    tw_tags(&body);
    tw_tags(&body);
    rt_call(cl, WEIR_API_OffsetCommit, v, &body, &r);
    if (v >= 3)
        assert_int_equal(tr_i32(&r), 0);
    assert_int_equal(tr_arr(&r), 1);
    tr_expect_str(&r, topic);
    assert_int_equal(tr_arr(&r), n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(tr_i32(&r), parts[i]);
        errs[i] = tr_i16(&r);
        tr_tags(&r);
    }
    tr_tags(&r);
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
}

/* --- OffsetFetch (9) --- */

typedef struct rt_ofs_s {
    char topic[32];
    int32_t part;
    int64_t offset;
    int32_t epoch;
    char md[64];
    bool md_null;
    int16_t err;
} rt_ofs_t;

/* Fetches partitions parts of topic (topic NULL: every committed offset,
 * v2+).  Returns the number of partitions answered (at most max) and the
 * top-level error in *top (v2+; 0 before). */
static int
rt_offset_fetch(rt_client_t *cl, int16_t v, const char *group, const char *topic, int n,
                const int32_t *parts, rt_ofs_t *out, int max, int16_t *top)
{
    tw_t body;
    tr_t r;
    int32_t nt;
    int k = 0;

    tw_init(&body, rt_is_flex(WEIR_API_OffsetFetch, v));
    tw_str(&body, group);
    if (!topic) {
        tw_arr(&body, -1);
    } else {
        tw_arr(&body, 1);
        tw_str(&body, topic);
        tw_arr(&body, n);
        for (int i = 0; i < n; i++)
            tw_i32(&body, parts[i]);
        tw_tags(&body);
    }
    tw_tags(&body);
    rt_call(cl, WEIR_API_OffsetFetch, v, &body, &r);
    if (v >= 3)
        assert_int_equal(tr_i32(&r), 0);
    nt = tr_arr(&r);
    assert_true(nt >= 0);
    for (int32_t t = 0; t < nt; t++) {
        char name[32];
        int32_t np;

        assert_true(tr_str(&r, name, sizeof(name)));
        np = tr_arr(&r);
        assert_true(np >= 0);
        for (int32_t i = 0; i < np; i++) {
            rt_ofs_t *o;

            assert_true(k < max);
            o = &out[k++];
            snprintf(o->topic, sizeof(o->topic), "%s", name);
            o->part = tr_i32(&r);
            o->offset = tr_i64(&r);
            o->epoch = v >= 5 ? tr_i32(&r) : -1;
            o->md_null = !tr_str(&r, o->md, sizeof(o->md));
            o->err = tr_i16(&r);
            tr_tags(&r);
        }
        tr_tags(&r);
    }
    *top = v >= 2 ? tr_i16(&r) : 0;
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
    return k;
}

/* The committed offset of one partition (OffsetFetch v1): -1 for none. */
static int64_t
rt_committed(rt_client_t *cl, const char *group, int32_t part)
{
    rt_ofs_t o[1];
    int16_t top;

    assert_int_equal(rt_offset_fetch(cl, 1, group, RT_TOPIC, 1, &part, o, 1, &top), 1);
    assert_int_equal(o[0].err, 0);
    return o[0].offset;
}

/* --- DescribeGroups (15) --- */

typedef struct rt_dg_s {
    int16_t err;
    char id[32];
    char state[32];
    char ptype[32];
    char pdata[32];
    int32_t n;
    struct {
        char id[RT_ID_MAX];
        char inst[RT_ID_MAX];
        bool inst_null;
        char client[32];
        char host[64];
        uint8_t md[64];
        int32_t mdlen;
        uint8_t assign[64];
        int32_t alen;
    } m[RT_MAX_MEMBERS];
    int32_t ops;
} rt_dg_t;

static void
rt_describe(rt_client_t *cl, int16_t v, int n, const char *const *ids, bool include_ops,
            rt_dg_t *out)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_DescribeGroups, v));
    tw_arr(&body, n);
    for (int i = 0; i < n; i++)
        tw_str(&body, ids[i]);
    if (v >= 3)
        tw_i8(&body, include_ops ? 1 : 0);
    tw_tags(&body);
    rt_call(cl, WEIR_API_DescribeGroups, v, &body, &r);
    if (v >= 1)
        assert_int_equal(tr_i32(&r), 0);
    assert_int_equal(tr_arr(&r), n);
    for (int i = 0; i < n; i++) {
        rt_dg_t *g = &out[i];

        memset(g, 0, sizeof(*g));
        g->err = tr_i16(&r);
        assert_true(tr_str(&r, g->id, sizeof(g->id)));
        assert_true(tr_str(&r, g->state, sizeof(g->state)));
        assert_true(tr_str(&r, g->ptype, sizeof(g->ptype)));
        assert_true(tr_str(&r, g->pdata, sizeof(g->pdata)));
        g->n = tr_arr(&r);
        assert_true(g->n >= 0 && g->n <= RT_MAX_MEMBERS);
        for (int32_t k = 0; k < g->n; k++) {
            const uint8_t *p;

            assert_true(tr_str(&r, g->m[k].id, sizeof(g->m[k].id)));
            g->m[k].inst_null = true;
            if (v >= 4)
                g->m[k].inst_null = !tr_str(&r, g->m[k].inst, sizeof(g->m[k].inst));
            assert_true(tr_str(&r, g->m[k].client, sizeof(g->m[k].client)));
            assert_true(tr_str(&r, g->m[k].host, sizeof(g->m[k].host)));
            g->m[k].mdlen = tr_bytes(&r, &p);
            assert_true(g->m[k].mdlen >= 0 && g->m[k].mdlen <= (int32_t)sizeof(g->m[k].md));
            if (g->m[k].mdlen > 0)
                memcpy(g->m[k].md, p, (size_t)g->m[k].mdlen);
            g->m[k].alen = tr_bytes(&r, &p);
            assert_true(g->m[k].alen >= 0 && g->m[k].alen <= (int32_t)sizeof(g->m[k].assign));
            if (g->m[k].alen > 0)
                memcpy(g->m[k].assign, p, (size_t)g->m[k].alen);
            tr_tags(&r);
        }
        g->ops = v >= 3 ? tr_i32(&r) : INT32_MIN;
        tr_tags(&r);
    }
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
}

/* --- ListGroups (16) --- */

static void
rt_list_groups(rt_client_t *cl, int16_t v, rt_groups_t *out)
{
    tw_t body;
    tr_t r;
    int32_t n;

    tw_init(&body, rt_is_flex(WEIR_API_ListGroups, v));
    tw_tags(&body);
    rt_call(cl, WEIR_API_ListGroups, v, &body, &r);
    if (v >= 1)
        assert_int_equal(tr_i32(&r), 0);
    assert_int_equal(tr_i16(&r), 0);
    n = tr_arr(&r);
    assert_true(n >= 0 && n <= RT_MAX_GROUPS);
    memset(out, 0, sizeof(*out));
    out->n = n;
    for (int32_t i = 0; i < n; i++) {
        assert_true(tr_str(&r, out->id[i], sizeof(out->id[i])));
        assert_true(tr_str(&r, out->ptype[i], sizeof(out->ptype[i])));
        tr_tags(&r);
    }
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
}

/* --- DeleteGroups (42) --- */

static void
rt_delete_groups(rt_client_t *cl, int16_t v, int n, const char *const *ids, int16_t *errs)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_DeleteGroups, v));
    tw_arr(&body, n);
    for (int i = 0; i < n; i++)
        tw_str(&body, ids[i]);
    tw_tags(&body);
    rt_call(cl, WEIR_API_DeleteGroups, v, &body, &r);
    assert_int_equal(tr_i32(&r), 0);
    assert_int_equal(tr_arr(&r), n);
    for (int i = 0; i < n; i++) {
        tr_expect_str(&r, ids[i]);
        errs[i] = tr_i16(&r);
        tr_tags(&r);
    }
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
}

/* --- OffsetDelete (47) --- */

/* Deletes the committed offsets of partitions parts of topic; errs[i]
 * gets each partition's error.  Returns the group-level error (which
 * comes with no partitions). */
static int16_t
rt_offset_delete(rt_client_t *cl, int16_t v, const char *group, const char *topic, int n,
                 const int32_t *parts, int16_t *errs)
{
    tw_t body;
    tr_t r;
    int16_t err;
    int32_t nt;

    tw_init(&body, rt_is_flex(WEIR_API_OffsetDelete, v));
    tw_str(&body, group);
    tw_arr(&body, 1);
    tw_str(&body, topic);
    tw_arr(&body, n);
    for (int i = 0; i < n; i++) {
        tw_i32(&body, parts[i]);
        tw_tags(&body);
    }
    tw_tags(&body);
    tw_tags(&body);
    rt_call(cl, WEIR_API_OffsetDelete, v, &body, &r);
    err = tr_i16(&r);
    assert_int_equal(tr_i32(&r), 0);
    nt = tr_arr(&r);
    assert_int_equal(nt, err ? 0 : 1);
    if (nt == 1) {
        tr_expect_str(&r, topic);
        assert_int_equal(tr_arr(&r), n);
        for (int i = 0; i < n; i++) {
            assert_int_equal(tr_i32(&r), parts[i]);
            errs[i] = tr_i16(&r);
            tr_tags(&r);
        }
        tr_tags(&r);
    }
    tr_tags(&r);
    tr_done(&r);
    tw_free(&body);
    return err;
}

/* --- The group's life, one case per key and version --- */

/* What the group cases expect ListGroups to show. */
static void
rt_group_known(rt_ctx_t *c, const char *id, const char *ptype)
{
    for (int i = 0; i < c->groups.n; i++)
        if (strcmp(c->groups.id[i], id) == 0)
            return;
    assert_true(c->groups.n < RT_MAX_GROUPS);
    snprintf(c->groups.id[c->groups.n], sizeof(c->groups.id[0]), "%s", id);
    snprintf(c->groups.ptype[c->groups.n], sizeof(c->groups.ptype[0]), "%s", ptype);
    c->groups.n++;
}

static void
rt_group_gone(rt_ctx_t *c, const char *id)
{
    for (int i = 0; i < c->groups.n; i++) {
        if (strcmp(c->groups.id[i], id) == 0) {
            c->groups.n--;
            memmove(c->groups.id[i], c->groups.id[c->groups.n], sizeof(c->groups.id[0]));
            memmove(c->groups.ptype[i], c->groups.ptype[c->groups.n], sizeof(c->groups.ptype[0]));
            return;
        }
    }
    fail_msg("group %s was not expected to exist", id);
}

/* ListGroups shows exactly the groups the cases made and did not delete. */
static void
rt_check_list(rt_ctx_t *c, int16_t v)
{
    rt_groups_t got;

    rt_list_groups(&c->cl, v, &got);
    assert_int_equal(got.n, c->groups.n);
    for (int i = 0; i < c->groups.n; i++) {
        int k;

        for (k = 0; k < got.n; k++)
            if (strcmp(got.id[k], c->groups.id[i]) == 0)
                break;
        if (k == got.n)
            fail_msg("ListGroups v%d does not list %s", v, c->groups.id[i]);
        assert_string_equal(got.ptype[k], c->groups.ptype[i]);
    }
}

/* RT_GROUP's member (re)joins with JoinGroup v5: a new member learns its id
 * first (MEMBER_ID_REQUIRED), then joins; either way it is alone, so the
 * join completes at once, as leader, with the next generation. */
static void
rt_member_join(rt_ctx_t *c)
{
    rt_join_t j;

    if (!c->member[0]) {
        rt_join(&c->cl, 5, RT_GROUP, "", NULL, "consumer", &j);
        assert_int_equal(j.err, WEIR_KERR_MEMBER_ID_REQUIRED);
        assert_true(rt_is_member_id(j.member, "weir-roundtrip"));
        snprintf(c->member, sizeof(c->member), "%s", j.member);
    }
    rt_join(&c->cl, 5, RT_GROUP, c->member, NULL, "consumer", &j);
    assert_string_equal(j.member, c->member);
    assert_true(j.gen > c->gen);
    rt_check_joined(&j, j.gen, c->member, 1);
    assert_true(j.m[0].inst_null);
    c->gen = j.gen;
    rt_group_known(c, RT_GROUP, "consumer");
}

/* The leader assigns partition 0 to itself (SyncGroup v), the group is
 * Stable. */
static void
rt_member_sync(rt_ctx_t *c, int16_t v)
{
    static const int32_t p0 = 0;
    const char *ids[1] = {c->member};
    rt_sync_t s;
    tw_t a;

    rt_assignment(&a, &p0, 1);
    rt_sync(&c->cl, v, RT_GROUP, c->gen, c->member, 1, ids, &a, &s);
    assert_int_equal(s.err, 0);
    assert_int_equal(s.alen, (int32_t)a.len);
    assert_memory_equal(s.assign, a.d, a.len);
    assert_true(a.len <= sizeof(c->assign));
    memcpy(c->assign, a.d, a.len);
    c->assign_len = (int32_t)a.len;
    tw_free(&a);
}

/* RT_GROUP has its member, Stable. */
static void
rt_member_ensure(rt_ctx_t *c)
{
    if (c->member[0])
        return;
    rt_member_join(c);
    rt_member_sync(c, 3);
}

/* The member leaves (LeaveGroup v0): the group is Empty. */
static void
rt_member_leave(rt_ctx_t *c)
{
    const char *ids[1] = {c->member};
    int16_t err;

    assert_int_equal(rt_leave(&c->cl, 0, RT_GROUP, 1, ids, NULL, &err), 0);
    c->member[0] = '\0';
}

static void
case_join_group(rt_ctx_t *c, int16_t v)
{
    char group[32], id[RT_ID_MAX];
    const char *ids[1] = {id};
    rt_join_t j;
    int16_t err;

    assert_true(v <= 5); /* the codec knows JoinGroup v0-5 */
    snprintf(group, sizeof(group), "rt-join-v%d", v);
    rt_join(&c->cl, v, group, "", NULL, "consumer", &j);
    if (v >= 4) {
        /* A new member is given its id first and joins with it (KIP-394). */
        rt_check_join_error(&j, WEIR_KERR_MEMBER_ID_REQUIRED);
        assert_true(rt_is_member_id(j.member, "weir-roundtrip"));
        snprintf(id, sizeof(id), "%s", j.member);
        rt_join(&c->cl, v, group, id, NULL, "consumer", &j);
        assert_string_equal(j.member, id);
    } else {
        assert_true(rt_is_member_id(j.member, "weir-roundtrip"));
        snprintf(id, sizeof(id), "%s", j.member);
    }
    /* Alone in a new group (group.initial.rebalance.delay.ms=0): leader of
     * generation 1, "range" elected (both members' first choice). */
    rt_check_joined(&j, 1, id, 1);
    assert_string_equal(j.m[0].id, id);
    assert_true(j.m[0].inst_null);
    rt_group_known(c, group, "consumer");

    /* A JoinGroup retried before SyncGroup (its answer lost) gets the same
     * generation again. */
    rt_join(&c->cl, v, group, id, NULL, "consumer", &j);
    assert_string_equal(j.member, id);
    rt_check_joined(&j, 1, id, 1);

    /* Refused: another protocol type, an unknown member id. */
    rt_join(&c->cl, v, group, "", NULL, "connect", &j);
    rt_check_join_error(&j, WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
    assert_string_equal(j.member, "");
    rt_join(&c->cl, v, group, "weir-roundtrip-unknown", NULL, "consumer", &j);
    rt_check_join_error(&j, WEIR_KERR_UNKNOWN_MEMBER_ID);
    assert_string_equal(j.member, "weir-roundtrip-unknown");

    assert_int_equal(rt_leave(&c->cl, 0, group, 1, ids, NULL, &err), 0);

    if (v >= 5) {
        const char *inst[1] = {"rt-inst"};
        char old[RT_ID_MAX];

        /* Static membership: no MEMBER_ID_REQUIRED; the same
         * group.instance.id joining again without its member id (a
         * restarted consumer) gets a new id and fences the old one. */
        rt_join(&c->cl, v, "rt-static", "", "rt-inst", "consumer", &j);
        assert_true(rt_is_member_id(j.member, "rt-inst"));
        rt_check_joined(&j, 1, j.member, 1);
        assert_false(j.m[0].inst_null);
        assert_string_equal(j.m[0].inst, "rt-inst");
        snprintf(old, sizeof(old), "%s", j.member);
        rt_join(&c->cl, v, "rt-static", "", "rt-inst", "consumer", &j);
        assert_true(rt_is_member_id(j.member, "rt-inst"));
        assert_string_not_equal(j.member, old);
        rt_check_joined(&j, 2, j.member, 1);
        snprintf(id, sizeof(id), "%s", j.member);
        rt_join(&c->cl, v, "rt-static", old, "rt-inst", "consumer", &j);
        rt_check_join_error(&j, WEIR_KERR_FENCED_INSTANCE_ID);
        assert_string_equal(j.member, old);
        rt_group_known(c, "rt-static", "consumer");
        assert_int_equal(rt_leave(&c->cl, 3, "rt-static", 1, ids, inst, &err), 0);
        assert_int_equal(err, 0);
    }
}

static void
case_sync_group(rt_ctx_t *c, int16_t v)
{
    static const int32_t p0 = 0;
    char follower[RT_ID_MAX];
    const char *ids[2] = {c->member, follower};
    rt_client_t cl2;
    rt_join_t j, jf;
    rt_sync_t s, sf;
    tw_t a[2];
    int16_t err;

    assert_true(v <= 3); /* the codec knows SyncGroup v0-3 */
    rt_member_join(c);
    /* Another generation's SyncGroup is refused. */
    rt_sync(&c->cl, v, RT_GROUP, c->gen + 1, c->member, 0, NULL, NULL, &s);
    assert_int_equal(s.err, WEIR_KERR_ILLEGAL_GENERATION);
    assert_int_equal(s.alen, 0);
    rt_member_sync(c, v);
    /* Stable: a SyncGroup again returns the assignment. */
    rt_sync(&c->cl, v, RT_GROUP, c->gen, c->member, 0, NULL, NULL, &s);
    assert_int_equal(s.err, 0);
    assert_int_equal(s.alen, c->assign_len);
    assert_memory_equal(s.assign, c->assign, (size_t)c->assign_len);

    /* A second member on its own connection: its JoinGroup waits until the
     * leader has rejoined, its SyncGroup until the leader has sent the
     * assignments (partition 0 to the leader, nothing to it). */
    rt_connect(&cl2, c->b);
    rt_join(&cl2, 5, RT_GROUP, "", NULL, "consumer", &jf);
    assert_int_equal(jf.err, WEIR_KERR_MEMBER_ID_REQUIRED);
    snprintf(follower, sizeof(follower), "%s", jf.member);
    rt_join_begin(&cl2, 5, RT_GROUP, follower, NULL, "consumer");
    rt_expect_pending(&cl2);
    rt_join(&c->cl, 5, RT_GROUP, c->member, NULL, "consumer", &j);
    rt_check_joined(&j, c->gen + 1, c->member, 2);
    assert_string_equal(j.m[0].id, c->member); /* join order */
    assert_string_equal(j.m[1].id, follower);
    rt_join_end(&cl2, 5, &jf);
    assert_string_equal(jf.member, follower);
    rt_check_joined(&jf, c->gen + 1, c->member, 2);
    c->gen++;
    rt_sync_begin(&cl2, v, RT_GROUP, c->gen, follower, 0, NULL, NULL);
    rt_expect_pending(&cl2);
    rt_assignment(&a[0], &p0, 1);
    rt_assignment(&a[1], NULL, 0);
    rt_sync(&c->cl, v, RT_GROUP, c->gen, c->member, 2, ids, a, &s);
    assert_int_equal(s.err, 0);
    assert_int_equal(s.alen, (int32_t)a[0].len);
    assert_memory_equal(s.assign, a[0].d, a[0].len);
    rt_sync_end(&cl2, v, &sf);
    assert_int_equal(sf.err, 0);
    assert_int_equal(sf.alen, (int32_t)a[1].len);
    assert_memory_equal(sf.assign, a[1].d, a[1].len);
    tw_free(&a[0]);
    tw_free(&a[1]);

    /* The follower leaves: the leader's heartbeat says so and it rejoins
     * alone. */
    assert_int_equal(rt_leave(&cl2, 0, RT_GROUP, 1, &ids[1], NULL, &err), 0);
    rt_close(&cl2);
    assert_int_equal(rt_heartbeat(&c->cl, 0, RT_GROUP, c->gen, c->member, NULL),
                     WEIR_KERR_REBALANCE_IN_PROGRESS);
    rt_member_join(c);
    rt_member_sync(c, v);
}

static void
case_heartbeat(rt_ctx_t *c, int16_t v)
{
    rt_client_t *cl = &c->cl;

    assert_true(v <= 3); /* the codec knows Heartbeat v0-3 */
    assert_int_equal(rt_heartbeat(cl, v, RT_GROUP, c->gen, c->member, NULL), 0);
    assert_int_equal(rt_heartbeat(cl, v, RT_GROUP, c->gen - 1, c->member, NULL),
                     WEIR_KERR_ILLEGAL_GENERATION);
    assert_int_equal(rt_heartbeat(cl, v, RT_GROUP, c->gen, "weir-roundtrip-nobody", NULL),
                     WEIR_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(rt_heartbeat(cl, v, "rt-no-such-group", 1, c->member, NULL),
                     WEIR_KERR_UNKNOWN_MEMBER_ID);
    if (v >= 3) /* a group.instance.id the group does not know */
        assert_int_equal(rt_heartbeat(cl, v, RT_GROUP, c->gen, c->member, "rt-inst-x"),
                         WEIR_KERR_UNKNOWN_MEMBER_ID);
}

static void
case_offset_commit(rt_ctx_t *c, int16_t v)
{
    static const int32_t parts[2] = {0, 99};
    rt_client_t *cl = &c->cl;
    int64_t offs[2];
    char md[32], big[5000];
    int16_t e[2];
    int32_t epoch = v >= 6 ? 40 + v : -1;

    assert_true(v <= 7); /* the codec knows OffsetCommit v0-7 */
    if (v == 0) {
        /* No generation in v0: a commit without group membership, as a
         * simple consumer (assign()) makes; partition 99 does not exist. */
        offs[0] = 100;
        offs[1] = 5;
        rt_commit(cl, v, RT_SIMPLE_GROUP, -1, NULL, NULL, RT_TOPIC, 2, parts, offs, -1, "simple",
                  e);
        assert_int_equal(e[0], 0);
        assert_int_equal(e[1], WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        rt_group_known(c, RT_SIMPLE_GROUP, "");
        /* Not to a group that has members, nor to a missing topic. */
        rt_commit(cl, v, RT_GROUP, -1, NULL, NULL, RT_TOPIC, 1, parts, offs, -1, NULL, e);
        assert_int_equal(e[0], WEIR_KERR_UNKNOWN_MEMBER_ID);
        rt_commit(cl, v, RT_SIMPLE_GROUP, -1, NULL, NULL, "rt-missing", 1, parts, offs, -1, NULL,
                  e);
        assert_int_equal(e[0], WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        return;
    }
    snprintf(md, sizeof(md), "md-v%d", v);
    offs[0] = 1000 + v;
    rt_commit(cl, v, RT_GROUP, c->gen, c->member, NULL, RT_TOPIC, 1, parts, offs, epoch, md, e);
    assert_int_equal(e[0], 0);
    c->committed = offs[0];
    c->committed_epoch = epoch;
    snprintf(c->committed_md, sizeof(c->committed_md), "%s", md);

    /* Refused, the committed offset unchanged: another generation, an
     * unknown member, an unknown group (a commit from an old generation),
     * metadata over offset.metadata.max.bytes. */
    offs[0] = 1;
    rt_commit(cl, v, RT_GROUP, c->gen + 1, c->member, NULL, RT_TOPIC, 1, parts, offs, epoch, md, e);
    assert_int_equal(e[0], WEIR_KERR_ILLEGAL_GENERATION);
    rt_commit(cl, v, RT_GROUP, c->gen, "weir-roundtrip-nobody", NULL, RT_TOPIC, 1, parts, offs,
              epoch, md, e);
    assert_int_equal(e[0], WEIR_KERR_UNKNOWN_MEMBER_ID);
    rt_commit(cl, v, "rt-no-such-group", 3, "weir-roundtrip-nobody", NULL, RT_TOPIC, 1, parts, offs,
              epoch, md, e);
    assert_int_equal(e[0], WEIR_KERR_ILLEGAL_GENERATION);
    if (v >= 7) {
        rt_commit(cl, v, RT_GROUP, c->gen, c->member, "rt-inst-x", RT_TOPIC, 1, parts, offs, epoch,
                  md, e);
        assert_int_equal(e[0], WEIR_KERR_UNKNOWN_MEMBER_ID);
    }
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rt_commit(cl, v, RT_GROUP, c->gen, c->member, NULL, RT_TOPIC, 1, parts, offs, epoch, big, e);
    assert_int_equal(e[0], WEIR_KERR_OFFSET_METADATA_TOO_LARGE);
    assert_int_equal(rt_committed(cl, RT_GROUP, 0), c->committed);
}

static void
case_offset_fetch(rt_ctx_t *c, int16_t v)
{
    static const int32_t parts[2] = {0, 5};
    rt_client_t *cl = &c->cl;
    rt_ofs_t o[4];
    int16_t top;

    assert_true(v <= 5); /* the codec knows OffsetFetch v0-5 */
    /* The member's last commit; nothing for partition 5 (offset -1, no
     * metadata, no error). */
    assert_int_equal(rt_offset_fetch(cl, v, RT_GROUP, RT_TOPIC, 2, parts, o, 4, &top), 2);
    assert_int_equal(top, 0);
    assert_string_equal(o[0].topic, RT_TOPIC);
    assert_int_equal(o[0].part, 0);
    assert_int_equal(o[0].offset, c->committed);
    assert_int_equal(o[0].epoch, v >= 5 ? c->committed_epoch : -1);
    assert_false(o[0].md_null);
    assert_string_equal(o[0].md, c->committed_md);
    assert_int_equal(o[0].err, 0);
    assert_int_equal(o[1].part, 5);
    assert_int_equal(o[1].offset, -1);
    assert_int_equal(o[1].epoch, -1);
    assert_false(o[1].md_null);
    assert_string_equal(o[1].md, "");
    assert_int_equal(o[1].err, 0);

    /* The group-less commit (OffsetCommit v0), and a group never seen. */
    assert_int_equal(rt_offset_fetch(cl, v, RT_SIMPLE_GROUP, RT_TOPIC, 1, parts, o, 4, &top), 1);
    assert_int_equal(o[0].offset, 100);
    assert_string_equal(o[0].md, "simple");
    assert_int_equal(o[0].err, 0);
    assert_int_equal(rt_offset_fetch(cl, v, "rt-no-such-group", RT_TOPIC, 1, parts, o, 4, &top), 1);
    assert_int_equal(o[0].offset, -1);
    assert_int_equal(o[0].err, 0);
    assert_int_equal(top, 0);

    if (v >= 2) {
        /* Null topics: every committed offset of the group. */
        assert_int_equal(rt_offset_fetch(cl, v, RT_GROUP, NULL, 0, NULL, o, 4, &top), 1);
        assert_int_equal(top, 0);
        assert_string_equal(o[0].topic, RT_TOPIC);
        assert_int_equal(o[0].part, 0);
        assert_int_equal(o[0].offset, c->committed);
        assert_string_equal(o[0].md, c->committed_md);
    }
}

/* Kafka's AclOperation bits READ (3), DELETE (6) and DESCRIBE (8). */
#define RT_GROUP_OPS ((1 << 3) | (1 << 6) | (1 << 8))

static void
case_describe_groups(rt_ctx_t *c, int16_t v)
{
    const char *ids[2] = {RT_GROUP, "rt-no-such-group"};
    bool include = v == 3; /* v4 leaves the operations out */
    rt_dg_t g[2];
    tw_t range;

    assert_true(v <= 4); /* the codec knows DescribeGroups v0-4 */
    rt_describe(&c->cl, v, 2, ids, include, g);
    assert_int_equal(g[0].err, 0);
    assert_string_equal(g[0].id, RT_GROUP);
    assert_string_equal(g[0].state, "Stable");
    assert_string_equal(g[0].ptype, "consumer");
    assert_string_equal(g[0].pdata, "range");
    assert_int_equal(g[0].n, 1);
    assert_string_equal(g[0].m[0].id, c->member);
    assert_true(g[0].m[0].inst_null);
    assert_string_equal(g[0].m[0].client, "weir-roundtrip");
    assert_string_equal(g[0].m[0].host, "/127.0.0.1");
    rt_subscription(&range, NULL);
    assert_int_equal(g[0].m[0].mdlen, (int32_t)range.len);
    assert_memory_equal(g[0].m[0].md, range.d, range.len);
    tw_free(&range);
    assert_int_equal(g[0].m[0].alen, c->assign_len);
    assert_memory_equal(g[0].m[0].assign, c->assign, (size_t)c->assign_len);
    assert_int_equal(g[0].ops, include ? RT_GROUP_OPS : INT32_MIN);
    /* A group the coordinator does not know is Dead, without error. */
    assert_int_equal(g[1].err, 0);
    assert_string_equal(g[1].id, "rt-no-such-group");
    assert_string_equal(g[1].state, "Dead");
    assert_string_equal(g[1].ptype, "");
    assert_string_equal(g[1].pdata, "");
    assert_int_equal(g[1].n, 0);
    assert_int_equal(g[1].ops, include ? RT_GROUP_OPS : INT32_MIN);
}

static void
case_list_groups(rt_ctx_t *c, int16_t v)
{
    assert_true(v <= 2); /* the codec knows ListGroups v0-2 */
    /* Every group made so far, Empty ones (with or without offsets) too;
     * the group-less one has no protocol type. */
    rt_check_list(c, v);
}

static void
case_leave_group(rt_ctx_t *c, int16_t v)
{
    const char *ids[2], *none[1] = {"weir-roundtrip-nobody"};
    char member[RT_ID_MAX];
    int16_t errs[2];

    assert_true(v <= 3); /* the codec knows LeaveGroup v0-3 */
    rt_member_ensure(c);
    snprintf(member, sizeof(member), "%s", c->member);
    ids[0] = member;
    ids[1] = "weir-roundtrip-nobody";
    if (v < 3) {
        assert_int_equal(rt_leave(&c->cl, v, RT_GROUP, 1, ids, NULL, errs), 0);
        /* Gone: leaving again is an unknown member. */
        assert_int_equal(rt_leave(&c->cl, v, RT_GROUP, 1, ids, NULL, errs),
                         WEIR_KERR_UNKNOWN_MEMBER_ID);
    } else {
        /* One result per member. */
        assert_int_equal(rt_leave(&c->cl, v, RT_GROUP, 2, ids, NULL, errs), 0);
        assert_int_equal(errs[0], 0);
        assert_int_equal(errs[1], WEIR_KERR_UNKNOWN_MEMBER_ID);
        assert_int_equal(rt_leave(&c->cl, v, "rt-no-such-group", 1, none, NULL, errs), 0);
        assert_int_equal(errs[0], WEIR_KERR_UNKNOWN_MEMBER_ID);
    }
    c->member[0] = '\0';
    assert_int_equal(rt_heartbeat(&c->cl, 0, RT_GROUP, c->gen, ids[0], NULL),
                     WEIR_KERR_UNKNOWN_MEMBER_ID);
}

static void
case_offset_delete(rt_ctx_t *c, int16_t v)
{
    static const int32_t parts[2] = {0, 99};
    int16_t e[2];

    assert_true(v == 0); /* the codec knows OffsetDelete v0 */
    /* While a member subscribes to the topic, its offsets stay. */
    rt_member_ensure(c);
    assert_int_equal(rt_offset_delete(&c->cl, v, RT_GROUP, RT_TOPIC, 1, parts, e), 0);
    assert_int_equal(e[0], WEIR_KERR_GROUP_SUBSCRIBED_TO_TOPIC);
    assert_int_equal(rt_committed(&c->cl, RT_GROUP, 0), c->committed);
    /* Once the group is Empty they go. */
    rt_member_leave(c);
    assert_int_equal(rt_offset_delete(&c->cl, v, RT_GROUP, RT_TOPIC, 2, parts, e), 0);
    assert_int_equal(e[0], 0);
    assert_int_equal(e[1], WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(rt_committed(&c->cl, RT_GROUP, 0), -1);
    assert_int_equal(rt_offset_delete(&c->cl, v, "rt-no-such-group", RT_TOPIC, 1, parts, e),
                     WEIR_KERR_GROUP_ID_NOT_FOUND);
}

static void
case_delete_groups(rt_ctx_t *c, int16_t v)
{
    static const int32_t p0 = 0;
    static const int64_t off = 7;
    const char *ids[RT_MAX_GROUPS] = {NULL};
    int16_t errs[RT_MAX_GROUPS] = {0};
    rt_dg_t g[1];
    int n;

    assert_true(v <= 1); /* the codec knows DeleteGroups v0-1 */
    if (v == 0) {
        /* Not while it has members. */
        rt_member_ensure(c);
        ids[0] = RT_GROUP;
        ids[1] = "rt-no-such-group";
        rt_delete_groups(&c->cl, v, 1, ids, errs);
        assert_int_equal(errs[0], WEIR_KERR_NON_EMPTY_GROUP);
        rt_member_leave(c);
        /* Empty: an offset committed without membership (as an admin
         * resetting offsets does), then the group and that offset go. */
        rt_commit(&c->cl, 2, RT_GROUP, -1, "", NULL, RT_TOPIC, 1, &p0, &off, -1, NULL, errs);
        assert_int_equal(errs[0], 0);
        assert_int_equal(rt_committed(&c->cl, RT_GROUP, 0), 7);
        rt_delete_groups(&c->cl, v, 2, ids, errs);
        assert_int_equal(errs[0], 0);
        assert_int_equal(errs[1], WEIR_KERR_GROUP_ID_NOT_FOUND);
        rt_group_gone(c, RT_GROUP);
        assert_int_equal(rt_committed(&c->cl, RT_GROUP, 0), -1);
        rt_describe(&c->cl, 0, 1, ids, false, g);
        assert_string_equal(g[0].state, "Dead");
        rt_check_list(c, 2);
        return;
    }
    /* Every other group (the group-less one's offsets with it). */
    n = c->groups.n;
    assert_true(n >= 2);
    for (int i = 0; i < n; i++)
        ids[i] = c->groups.id[i];
    rt_delete_groups(&c->cl, v, n, ids, errs);
    for (int i = 0; i < n; i++)
        if (errs[i] != 0)
            fail_msg("DeleteGroups v%d %s: error %d", v, ids[i], errs[i]);
    c->groups.n = 0;
    rt_check_list(c, 2);
    assert_int_equal(rt_committed(&c->cl, RT_SIMPLE_GROUP, 0), -1);
}

/* ---------------------------------------------------------------------------
 * ACLs: DescribeAcls (29), CreateAcls (30), DeleteAcls (31), v0-1
 * ------------------------------------------------------------------------- */

#define RT_ACL_MAX 16

/* A binding or filter as it travels (strings NULL: null in a filter). */
typedef struct rt_acl_s {
    int8_t type;
    const char *name;
    int8_t pattern;
    const char *principal;
    const char *host;
    int8_t op;
    int8_t perm;
} rt_acl_t;

/* What a response listed: bindings with their strings copied. */
typedef struct rt_acls_s {
    int16_t err;
    char msg[256];
    int n;
    int nresources;
    struct {
        int8_t type, pattern, op, perm;
        char name[64], principal[64], host[64];
    } v[RT_ACL_MAX];
} rt_acls_t;

static void
enc_acl(tw_t *w, int16_t v, const rt_acl_t *a)
{
    tw_i8(w, a->type);
    tw_str(w, a->name);
    if (v >= 1)
        tw_i8(w, a->pattern);
    tw_str(w, a->principal);
    tw_str(w, a->host);
    tw_i8(w, a->op);
    tw_i8(w, a->perm);
}

/* CreateAcls: errs[i] and msgs[i] per creation. */
static void
rt_create_acls(rt_client_t *cl, int16_t v, const rt_acl_t *a, int n, int16_t *errs,
               char (*msgs)[128])
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_CreateAcls, v));
    tw_arr(&body, n);
    for (int i = 0; i < n; i++)
        enc_acl(&body, v, &a[i]);
    rt_call(cl, WEIR_API_CreateAcls, v, &body, &r);
    assert_int_equal(tr_i32(&r), 0); /* ThrottleTimeMs */
    assert_int_equal(tr_arr(&r), n);
    for (int i = 0; i < n; i++) {
        errs[i] = tr_i16(&r);
        tr_str(&r, msgs ? msgs[i] : (char[128]){0}, 128);
    }
    tr_done(&r);
    tw_free(&body);
}

/* CreateAcls v1 of bindings that must all succeed. */
static void
rt_create_acls_ok(rt_client_t *cl, const rt_acl_t *a, int n)
{
    int16_t errs[RT_ACL_MAX];
    char msgs[RT_ACL_MAX][128];

    rt_create_acls(cl, 1, a, n, errs, msgs);
    for (int i = 0; i < n; i++)
        if (errs[i] != 0)
            fail_msg("CreateAcls %s: error %d: %s", a[i].name, errs[i], msgs[i]);
}

static void
rt_describe_acls(rt_client_t *cl, int16_t v, const rt_acl_t *f, rt_acls_t *out)
{
    tw_t body;
    tr_t r;
    int32_t nres;

    memset(out, 0, sizeof(*out));
    tw_init(&body, rt_is_flex(WEIR_API_DescribeAcls, v));
    enc_acl(&body, v, f);
    rt_call(cl, WEIR_API_DescribeAcls, v, &body, &r);
    assert_int_equal(tr_i32(&r), 0); /* ThrottleTimeMs */
    out->err = tr_i16(&r);
    tr_str(&r, out->msg, sizeof(out->msg));
    nres = tr_arr(&r);
    out->nresources = nres;
    for (int32_t i = 0; i < nres; i++) {
        int8_t type = tr_i8(&r), pattern = 3;
        char name[64];
        int32_t na;

        tr_str(&r, name, sizeof(name));
        if (v >= 1)
            pattern = tr_i8(&r);
        na = tr_arr(&r);
        assert_true(na >= 1); /* a resource is listed with its bindings */
        for (int32_t j = 0; j < na; j++) {
            assert_true(out->n < RT_ACL_MAX);
            out->v[out->n].type = type;
            out->v[out->n].pattern = pattern;
            snprintf(out->v[out->n].name, sizeof(out->v[0].name), "%s", name);
            tr_str(&r, out->v[out->n].principal, sizeof(out->v[0].principal));
            tr_str(&r, out->v[out->n].host, sizeof(out->v[0].host));
            out->v[out->n].op = tr_i8(&r);
            out->v[out->n].perm = tr_i8(&r);
            out->n++;
        }
    }
    tr_done(&r);
    tw_free(&body);
}

/* DeleteAcls: per filter, its error and what it deleted (out[i]). */
static void
rt_delete_acls(rt_client_t *cl, int16_t v, const rt_acl_t *f, int n, rt_acls_t *out)
{
    tw_t body;
    tr_t r;

    tw_init(&body, rt_is_flex(WEIR_API_DeleteAcls, v));
    tw_arr(&body, n);
    for (int i = 0; i < n; i++)
        enc_acl(&body, v, &f[i]);
    rt_call(cl, WEIR_API_DeleteAcls, v, &body, &r);
    assert_int_equal(tr_i32(&r), 0); /* ThrottleTimeMs */
    assert_int_equal(tr_arr(&r), n);
    for (int i = 0; i < n; i++) {
        int32_t nm;

        memset(&out[i], 0, sizeof(out[i]));
        out[i].err = tr_i16(&r);
        tr_str(&r, out[i].msg, sizeof(out[i].msg));
        nm = tr_arr(&r);
        for (int32_t j = 0; j < nm; j++) {
            assert_true(out[i].n < RT_ACL_MAX);
            assert_int_equal(tr_i16(&r), 0); /* ErrorCode */
            tr_expect_str(&r, NULL);         /* ErrorMessage */
            out[i].v[out[i].n].type = tr_i8(&r);
            tr_str(&r, out[i].v[out[i].n].name, sizeof(out[i].v[0].name));
            out[i].v[out[i].n].pattern = v >= 1 ? tr_i8(&r) : 3;
            tr_str(&r, out[i].v[out[i].n].principal, sizeof(out[i].v[0].principal));
            tr_str(&r, out[i].v[out[i].n].host, sizeof(out[i].v[0].host));
            out[i].v[out[i].n].op = tr_i8(&r);
            out[i].v[out[i].n].perm = tr_i8(&r);
            out[i].n++;
        }
    }
    tr_done(&r);
    tw_free(&body);
}

/* Removes every TOPIC binding whose name starts "rt-acl" (left by a case). */
static void
rt_acls_clean(rt_client_t *cl)
{
    const rt_acl_t all = {2, NULL, 1, NULL, NULL, 1, 1}; /* TOPIC, ANY, ..., ANY, ANY */
    rt_acls_t res, left;

    rt_delete_acls(cl, 1, &all, 1, &res);
    assert_int_equal(res.err, 0);
    rt_describe_acls(cl, 1, &all, &left);
    assert_int_equal(left.err, 0);
    assert_int_equal(left.n, 0);
}

static void
case_describe_acls(rt_ctx_t *c, int16_t v)
{
    const rt_acl_t made[3] = {
        {2, "rt-acl-d", 3, "User:alice", "*", 3, 3},        /* READ ALLOW */
        {2, "rt-acl-d", 3, "User:bob", "10.0.0.1", 4, 2},   /* WRITE DENY */
        {2, "rt-acl-dp", 4, "Group:team", "*", 2, 3},       /* PREFIXED ALL ALLOW */
    };
    rt_acl_t f = {2, NULL, v >= 1 ? 1 : 3, NULL, NULL, 1, 1};
    rt_acls_t got;

    rt_create_acls_ok(&c->cl, made, 3);
    /* Every topic binding: v0 sees the LITERAL ones only. */
    rt_describe_acls(&c->cl, v, &f, &got);
    assert_int_equal(got.err, 0);
    assert_int_equal(got.nresources, v >= 1 ? 2 : 1);
    assert_int_equal(got.n, v >= 1 ? 3 : 2);
    assert_string_equal(got.v[0].name, "rt-acl-d");
    assert_int_equal(got.v[0].pattern, 3);
    assert_string_equal(got.v[0].principal, "User:alice");
    assert_string_equal(got.v[0].host, "*");
    assert_int_equal(got.v[0].op, 3);
    assert_int_equal(got.v[0].perm, 3);
    assert_string_equal(got.v[1].principal, "User:bob");
    assert_string_equal(got.v[1].host, "10.0.0.1");
    assert_int_equal(got.v[1].perm, 2);
    if (v >= 1) {
        assert_string_equal(got.v[2].name, "rt-acl-dp");
        assert_int_equal(got.v[2].pattern, 4);
        /* MATCH: what applies to a topic named rt-acl-dpx. */
        f.pattern = 2;
        f.name = "rt-acl-dpx";
        rt_describe_acls(&c->cl, v, &f, &got);
        assert_int_equal(got.n, 1);
        assert_string_equal(got.v[0].principal, "Group:team");
        f.pattern = 1;
        f.name = NULL;
    }
    /* By principal and by permission. */
    f.principal = "User:bob";
    rt_describe_acls(&c->cl, v, &f, &got);
    assert_int_equal(got.n, 1);
    f.principal = NULL;
    f.perm = 3;
    rt_describe_acls(&c->cl, v, &f, &got);
    assert_int_equal(got.n, v >= 1 ? 2 : 1);
    /* An invalid filter: INVALID_REQUEST with a message, nothing listed. */
    f.op = 0;
    rt_describe_acls(&c->cl, v, &f, &got);
    assert_int_equal(got.err, WEIR_KERR_INVALID_REQUEST);
    assert_true(got.msg[0] != '\0');
    assert_int_equal(got.n, 0);
    rt_acls_clean(&c->cl);
}

static void
case_create_acls(rt_ctx_t *c, int16_t v)
{
    const rt_acl_t a[4] = {
        {2, "rt-acl-c", 4, "User:carol", "*", 4, 3},      /* v1: PREFIXED */
        {2, "rt-acl-c", 3, "carol", "*", 4, 3},           /* not Type:name */
        {4, "not-the-cluster", 3, "User:carol", "*", 7, 3},
        {3, "rt-acl-group", 3, "User:carol", "*", 3, 3},  /* GROUP READ */
    };
    const rt_acl_t fall = {1, NULL, 1, NULL, NULL, 1, 1}; /* any type, any pattern */
    int16_t errs[4];
    char msgs[4][128];
    rt_acls_t got, del;

    rt_create_acls(&c->cl, v, a, 4, errs, msgs);
    assert_int_equal(errs[0], 0);
    assert_int_equal(errs[1], WEIR_KERR_INVALID_REQUEST);
    assert_non_null(strstr(msgs[1], "principal"));
    assert_int_equal(errs[2], WEIR_KERR_INVALID_REQUEST);
    assert_non_null(strstr(msgs[2], "kafka-cluster"));
    assert_int_equal(errs[3], 0);
    rt_describe_acls(&c->cl, 1, &fall, &got);
    assert_int_equal(got.err, 0);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.v[0].name, "rt-acl-c");
    assert_int_equal(got.v[0].pattern, v >= 1 ? 4 : 3); /* v0 creates LITERAL */
    assert_int_equal(got.v[1].type, 3);
    /* Creating the same binding again succeeds and adds nothing. */
    rt_create_acls(&c->cl, v, a, 1, errs, NULL);
    assert_int_equal(errs[0], 0);
    rt_describe_acls(&c->cl, 1, &fall, &got);
    assert_int_equal(got.n, 2);
    rt_delete_acls(&c->cl, 1, &fall, 1, &del);
    assert_int_equal(del.n, 2);
    rt_acls_clean(&c->cl);
}

static void
case_delete_acls(rt_ctx_t *c, int16_t v)
{
    const rt_acl_t made[3] = {
        {2, "rt-acl-x", 3, "User:a", "*", 3, 3},
        {2, "rt-acl-x", 3, "User:b", "*", 3, 3},
        {2, "rt-acl-y", 4, "User:a", "*", 3, 3},
    };
    const rt_acl_t f[3] = {
        {2, "rt-acl-x", 3, "User:a", NULL, 1, 1},
        {2, NULL, 3, NULL, NULL, 0, 1}, /* operation UNKNOWN: invalid */
        {2, NULL, 3, NULL, NULL, 1, 1}, /* every LITERAL topic binding */
    };
    rt_acls_t del[3], got;
    const rt_acl_t all = {2, NULL, 1, NULL, NULL, 1, 1};

    rt_create_acls_ok(&c->cl, made, 3);
    rt_delete_acls(&c->cl, v, f, 3, del);
    assert_int_equal(del[0].err, 0);
    assert_int_equal(del[0].n, 1);
    assert_string_equal(del[0].v[0].principal, "User:a");
    assert_string_equal(del[0].v[0].name, "rt-acl-x");
    assert_int_equal(del[1].err, WEIR_KERR_INVALID_REQUEST);
    assert_int_equal(del[1].n, 0);
    /* A binding counts for the first filter matching it. */
    assert_int_equal(del[2].err, 0);
    assert_int_equal(del[2].n, 1);
    assert_string_equal(del[2].v[0].principal, "User:b");
    /* The PREFIXED one is left (a LITERAL filter does not match it). */
    rt_describe_acls(&c->cl, 1, &all, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0].name, "rt-acl-y");
    rt_acls_clean(&c->cl);
}

static const rt_case_fn rt_cases[WEIR_API__COUNT] = {
    [WEIR_API_Produce] = case_produce,
    [WEIR_API_Fetch] = case_fetch,
    [WEIR_API_ListOffsets] = case_list_offsets,
    [WEIR_API_Metadata] = case_metadata,
    [WEIR_API_FindCoordinator] = case_find_coordinator,
    [WEIR_API_ApiVersions] = case_api_versions,
    [WEIR_API_InitProducerId] = case_init_producer_id,
    [WEIR_API_CreateTopics] = case_create_topics,
    [WEIR_API_DeleteTopics] = case_delete_topics,
    [WEIR_API_DescribeConfigs] = case_describe_configs,
    [WEIR_API_AlterConfigs] = case_alter_configs,
    [WEIR_API_IncrementalAlterConfigs] = case_incremental_alter_configs,
    [WEIR_API_CreatePartitions] = case_create_partitions,
    [WEIR_API_SaslHandshake] = case_sasl_handshake,
    [WEIR_API_SaslAuthenticate] = case_sasl_authenticate,
    [WEIR_API_JoinGroup] = case_join_group,
    [WEIR_API_SyncGroup] = case_sync_group,
    [WEIR_API_Heartbeat] = case_heartbeat,
    [WEIR_API_OffsetCommit] = case_offset_commit,
    [WEIR_API_OffsetFetch] = case_offset_fetch,
    [WEIR_API_DescribeGroups] = case_describe_groups,
    [WEIR_API_ListGroups] = case_list_groups,
    [WEIR_API_LeaveGroup] = case_leave_group,
    [WEIR_API_OffsetDelete] = case_offset_delete,
    [WEIR_API_DeleteGroups] = case_delete_groups,
    [WEIR_API_DescribeAcls] = case_describe_acls,
    [WEIR_API_CreateAcls] = case_create_acls,
    [WEIR_API_DeleteAcls] = case_delete_acls,
};

/* The group cases run last, in the order a consumer's life uses the APIs;
 * the others in ascending key order. */
static const int16_t rt_group_order[] = {
    WEIR_API_JoinGroup,    WEIR_API_SyncGroup,   WEIR_API_Heartbeat,
    WEIR_API_OffsetCommit, WEIR_API_OffsetFetch, WEIR_API_DescribeGroups,
    WEIR_API_ListGroups,   WEIR_API_LeaveGroup,  WEIR_API_OffsetDelete,
    WEIR_API_DeleteGroups,
};
#define RT_NGROUP_ORDER ((int)(sizeof(rt_group_order) / sizeof(rt_group_order[0])))

/* Quick group rebalances for the sweep. */
static const char *const rt_sweep_conf[] = {
    "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000", NULL,
};

/* Creates a topic with CreateTopics v4 and checks it worked. */
static void
rt_create_topic(rt_client_t *cl, const char *name, int32_t partitions)
{
    rt_ct_spec_t t = {.name = name, .partitions = partitions, .rf = 1};
    rt_res_t *res = calloc(1, sizeof(*res));
    tw_t body;
    tr_t r;

    tw_init(&body, false);
    enc_create_topics(&body, 4, &t, 1, false);
    rt_call(cl, WEIR_API_CreateTopics, 4, &body, &r);
    dec_create_topics(&r, 4, res);
    tr_done(&r);
    assert_int_equal(res->n, 1);
    if (res->item[0].err != 0)
        fail_msg("create %s: error %d: %s", name, res->item[0].err, res->item[0].msg);
    rt_res_reset(res);
    free(res);
    tw_free(&body);
}

static void
test_every_api_every_version(void **state)
{
    rt_ctx_t *c = calloc(1, sizeof(*c));
    int16_t order[WEIR_API__COUNT];
    char missing[512] = "";
    int ncases = 0, norder = 0;

    (void)state;
    assert_non_null(c);
    c->b = rt_broker_start(rt_sweep_conf);
    rt_connect(&c->cl, c->b);
    tw_init(&c->log, false);
    rt_create_topic(&c->cl, RT_TOPIC, 1);
    rt_create_topic(&c->cl, RT_CP_TOPIC, 1);

    /* Ascending key order: Produce fills the log Fetch and ListOffsets
     * read; CreateTopics makes the topics DeleteTopics removes.  Then the
     * group cases, in rt_group_order. */
    for (int16_t k = 0; k < WEIR_API__COUNT; k++) {
        bool group = false;
        for (int i = 0; i < RT_NGROUP_ORDER; i++)
            group |= rt_group_order[i] == k;
        if (!group)
            order[norder++] = k;
    }
    for (int i = 0; i < RT_NGROUP_ORDER; i++)
        order[norder++] = rt_group_order[i];
    assert_int_equal(norder, WEIR_API__COUNT);
    for (int i = 0; i < norder; i++) {
        int16_t k = order[i];
        const weir_api_desc_t *d = weir_api_desc(k);
        if (!d)
            continue;
        if (!rt_cases[k]) {
            /* Reported once the cases that exist have run. */
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof(missing) - len, "%s%s (key %d)", len ? ", " : "",
                     d->name, k);
            continue;
        }
        for (int16_t v = d->min; v <= d->max; v++) {
            rt_cases[k](c, v);
            ncases++;
        }
    }
    if (missing[0])
        fail_msg("served but without a round-trip case in this test: %s", missing);
    assert_true(ncases >= 40);
    assert_int_equal(c->produced, 5); /* Produce v3-v7 */

    rt_res_reset(&c->res);
    tw_free(&c->log);
    rt_close(&c->cl);
    rt_broker_stop(c->b);
    free(c);
}

/* ---------------------------------------------------------------------------
 * Edge cases of the dispatcher
 * ------------------------------------------------------------------------- */

static void
test_api_versions_unsupported(void **state)
{
    rt_broker_t *b;
    rt_client_t cl;
    tr_t r;

    (void)state;
    b = rt_broker_start(NULL);
    rt_connect(&cl, b);
    /* An ApiVersions version from the future: error 35 in the v0 layout,
     * listing every key, so the client can pick a version and retry. */
    rt_send(&cl, WEIR_API_ApiVersions, 99, true, (const uint8_t *)"\0\0\0", 3);
    assert_true(rt_recv(&cl));
    memset(&r, 0, sizeof(r));
    r.d = cl.resp;
    r.len = cl.resp_len;
    assert_int_equal(tr_i32(&r), cl.corr);
    rt_check_api_versions(&r, 0, WEIR_KERR_UNSUPPORTED_VERSION);

    /* The connection stays usable. */
    {
        tw_t body;
        tw_init(&body, false);
        rt_call(&cl, WEIR_API_ApiVersions, 2, &body, &r);
        rt_check_api_versions(&r, 2, 0);
        tw_free(&body);
    }
    rt_close(&cl);
    rt_broker_stop(b);
}

static void
test_unknown_key_and_version_close(void **state)
{
    static const int16_t keys[] = {67, 1000, -1};
    rt_broker_t *b;
    rt_client_t cl;

    (void)state;
    b = rt_broker_start(NULL);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(keys); i++) {
        rt_connect(&cl, b);
        assert_null(weir_api_desc(keys[i]));
        rt_send(&cl, keys[i], 0, false, NULL, 0);
        rt_expect_closed(&cl);
        rt_close(&cl);
    }
    /* A version outside the advertised range of a served key. */
    rt_connect(&cl, b);
    rt_send(&cl, WEIR_API_Metadata, 99, false, (const uint8_t *)"\0\0\0\0", 4);
    rt_expect_closed(&cl);
    rt_close(&cl);
    rt_broker_stop(b);
}

/* ---------------------------------------------------------------------------
 * Produce and fetch a batch byte for byte at every Fetch version
 * ------------------------------------------------------------------------- */

static void
test_fetch_byte_for_byte(void **state)
{
    rt_broker_t *b;
    rt_client_t cl;
    tw_t batch, batch2, body, want;
    tr_t r;
    rt_prod_t p;
    const weir_api_desc_t *fd = weir_api_desc(WEIR_API_Fetch);

    (void)state;
    assert_non_null(fd);
    b = rt_broker_start(NULL);
    rt_connect(&cl, b);
    rt_create_topic(&cl, "fb", 2);

    tw_init(&batch, false);
    rt_build_batch(&batch, "hello", 3, 1700000000000LL);
    tw_init(&batch2, false);
    rt_build_batch(&batch2, "world", 5, 1700000001000LL);
    tw_init(&want, false);

    /* Two produces to partition 1: offsets 0 and 3. */
    tw_init(&body, false);
    enc_produce(&body, 7, "fb", 1, batch.d, batch.len);
    rt_call(&cl, WEIR_API_Produce, 7, &body, &r);
    dec_produce(&r, 7, "fb", 1, &p);
    tr_done(&r);
    assert_int_equal(p.err, 0);
    assert_int_equal(p.base_offset, 0);
    tw_free(&body);
    tw_init(&body, false);
    enc_produce(&body, 7, "fb", 1, batch2.d, batch2.len);
    rt_call(&cl, WEIR_API_Produce, 7, &body, &r);
    dec_produce(&r, 7, "fb", 1, &p);
    tr_done(&r);
    assert_int_equal(p.err, 0);
    assert_int_equal(p.base_offset, 3);
    tw_free(&body);
    rt_stamp(batch.d, 0);
    rt_stamp(batch2.d, 3);
    tw_raw(&want, batch.d, batch.len);
    tw_raw(&want, batch2.d, batch2.len);

    for (int16_t v = fd->min; v <= fd->max; v++) {
        rt_fetch_t f;

        /* From offset 0: both batches. */
        tw_init(&body, rt_is_flex(WEIR_API_Fetch, v));
        enc_fetch(&body, v, "fb", 1, 0);
        rt_call(&cl, WEIR_API_Fetch, v, &body, &r);
        dec_fetch(&r, v, "fb", 1, &f);
        tr_done(&r);
        tw_free(&body);
        assert_int_equal(f.err, 0);
        assert_int_equal(f.hw, 8);
        if (v >= 4) {
            assert_int_equal(f.nrec, (int32_t)want.len);
            assert_memory_equal(f.rec, want.d, want.len);
        } else {
            assert_int_equal(rt_walk_batches(f.rec, (size_t)f.nrec, 0), 2);
        }

        /* From offset 4 (inside the second batch): the second batch whole. */
        tw_init(&body, rt_is_flex(WEIR_API_Fetch, v));
        enc_fetch(&body, v, "fb", 1, 4);
        rt_call(&cl, WEIR_API_Fetch, v, &body, &r);
        dec_fetch(&r, v, "fb", 1, &f);
        tr_done(&r);
        tw_free(&body);
        assert_int_equal(f.err, 0);
        if (v >= 4) {
            assert_int_equal(f.nrec, (int32_t)batch2.len);
            assert_memory_equal(f.rec, batch2.d, batch2.len);
        } else {
            assert_int_equal(rt_walk_batches(f.rec, (size_t)f.nrec, 3), 1);
        }

        /* Partition 0 is empty; an unknown partition is an error. */
        tw_init(&body, rt_is_flex(WEIR_API_Fetch, v));
        enc_fetch(&body, v, "fb", 0, 0);
        rt_call(&cl, WEIR_API_Fetch, v, &body, &r);
        dec_fetch(&r, v, "fb", 0, &f);
        tr_done(&r);
        tw_free(&body);
        assert_int_equal(f.err, 0);
        assert_int_equal(f.hw, 0);
        assert_true(f.nrec <= 0);
        tw_init(&body, rt_is_flex(WEIR_API_Fetch, v));
        enc_fetch(&body, v, "fb", 7, 0);
        rt_call(&cl, WEIR_API_Fetch, v, &body, &r);
        dec_fetch(&r, v, "fb", 7, &f);
        tr_done(&r);
        tw_free(&body);
        assert_int_equal(f.err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    }
    tw_free(&want);
    tw_free(&batch);
    tw_free(&batch2);
    rt_close(&cl);
    rt_broker_stop(b);
}

/* ---------------------------------------------------------------------------
 * Admin API semantics
 * ------------------------------------------------------------------------- */

static void
rt_ct(rt_client_t *cl, int16_t v, const rt_ct_spec_t *t, int n, bool validate_only,
      rt_res_t *res)
{
    tw_t body;
    tr_t r;

    rt_res_reset(res);
    tw_init(&body, rt_is_flex(WEIR_API_CreateTopics, v));
    enc_create_topics(&body, v, t, n, validate_only);
    rt_call(cl, WEIR_API_CreateTopics, v, &body, &r);
    dec_create_topics(&r, v, res);
    tr_done(&r);
    assert_int_equal(res->n, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(res->item[i].name, t[i].name);
    tw_free(&body);
}

static void
rt_md(rt_client_t *cl, const char *topic, rt_md_t *md)
{
    tw_t body;
    tr_t r;

    tw_init(&body, false);
    enc_metadata(&body, 5, topic);
    rt_call(cl, WEIR_API_Metadata, 5, &body, &r);
    dec_metadata(&r, 5, cl->b, topic, md);
    tr_done(&r);
    tw_free(&body);
}

static void
rt_dc(rt_client_t *cl, int16_t v, const rt_dc_spec_t *s, int n, rt_res_t *res)
{
    tw_t body;
    tr_t r;

    rt_res_reset(res);
    tw_init(&body, rt_is_flex(WEIR_API_DescribeConfigs, v));
    enc_describe_configs(&body, v, s, n);
    rt_call(cl, WEIR_API_DescribeConfigs, v, &body, &r);
    dec_describe_configs(&r, v, res);
    tr_done(&r);
    assert_int_equal(res->n, n);
    tw_free(&body);
}

/* The value and source of one topic key, through DescribeConfigs v1. */
static void
rt_topic_cfg(rt_client_t *cl, const char *topic, const char *key, char *value, size_t size,
             int8_t *source)
{
    rt_res_t *res = calloc(1, sizeof(*res));
    const char *keys[1] = {key};
    rt_dc_spec_t s = {2, topic, 1, keys};
    const rt_cfg_t *cf;

    rt_dc(cl, 1, &s, 1, res);
    assert_int_equal(res->item[0].err, 0);
    cf = rt_find_cfg(&res->item[0], key);
    if (!cf)
        fail_msg("DescribeConfigs did not list %s", key);
    assert_int_equal(res->item[0].ncfg, 1);
    snprintf(value, size, "%s", cf->value);
    *source = cf->source;
    rt_res_reset(res);
    free(res);
}

static void
rt_ac(rt_client_t *cl, int16_t key, int16_t v, const rt_ac_spec_t *s, int n, bool validate_only,
      rt_res_t *res)
{
    tw_t body;
    tr_t r;

    rt_res_reset(res);
    tw_init(&body, rt_is_flex(key, v));
    enc_alter_configs(&body, key == WEIR_API_IncrementalAlterConfigs, s, n, validate_only);
    rt_call(cl, key, v, &body, &r);
    dec_alter_configs(&r, res);
    tr_done(&r);
    assert_int_equal(res->n, n);
    tw_free(&body);
}

static void
test_create_topics_semantics(void **state)
{
    static const char *const good_cfg[] = {"retention.ms", "3600000", "cleanup.policy",
                                           "delete"};
    static const char *const bad_cfg[] = {"retention.ms", "-7"};
    static const char *const unknown_cfg[] = {"no.such.config", "1"};
    static const char *const null_cfg[] = {"retention.ms", NULL};
    static const char *const dup_cfg[] = {"retention.ms", "1", "retention.ms", "2"};
    const int32_t idx[2] = {1, 0}, gap[2] = {0, 2};
    rt_broker_t *b;
    rt_client_t cl;
    rt_res_t *res = calloc(1, sizeof(*res));
    rt_md_t md;
    char value[512];
    int8_t source;

    (void)state;
    b = rt_broker_start((const char *const[]){"num.partitions", "3",
                                              "auto.create.topics.enable", "false", NULL});
    const int32_t local[2] = {b->node_id, b->node_id};
    const int32_t foreign[2] = {b->node_id, b->node_id + 7};
    rt_connect(&cl, b);

    /* Defaults (-1), configs, and errors that do not affect the others. */
    {
        rt_ct_spec_t t[] = {
            {.name = "dflt", .partitions = -1, .rf = -1, .nconfigs = 2, .configs = good_cfg},
            {.name = "rf3", .partitions = 1, .rf = 3},
            {.name = "rf0", .partitions = 1, .rf = 0},
            {.name = "p0", .partitions = 0, .rf = 1},
            {.name = "badcfg", .partitions = 1, .rf = 1, .nconfigs = 1, .configs = bad_cfg},
            {.name = "unkcfg", .partitions = 1, .rf = 1, .nconfigs = 1, .configs = unknown_cfg},
            {.name = "nullcfg", .partitions = 1, .rf = 1, .nconfigs = 1, .configs = null_cfg},
            {.name = "dupcfg", .partitions = 1, .rf = 1, .nconfigs = 2, .configs = dup_cfg},
            {.name = "bad/name", .partitions = 1, .rf = 1},
            {.name = "twice", .partitions = 1, .rf = 1},
            {.name = "twice", .partitions = 2, .rf = 1},
            {.name = "ok2", .partitions = 2, .rf = 1},
        };
        rt_ct(&cl, 4, t, (int)WEIR_ARRAY_SIZE(t), false, res);
        assert_int_equal(res->item[0].err, 0);
        assert_true(res->item[0].msg_null);
        assert_int_equal(res->item[1].err, WEIR_KERR_INVALID_REPLICATION_FACTOR);
        assert_non_null(strstr(res->item[1].msg, "one broker"));
        assert_int_equal(res->item[2].err, WEIR_KERR_INVALID_REPLICATION_FACTOR);
        assert_int_equal(res->item[3].err, WEIR_KERR_INVALID_PARTITIONS);
        assert_int_equal(res->item[4].err, WEIR_KERR_INVALID_CONFIG);
        assert_non_null(strstr(res->item[4].msg, "retention.ms"));
        assert_int_equal(res->item[5].err, WEIR_KERR_INVALID_CONFIG);
        assert_non_null(strstr(res->item[5].msg, "no.such.config"));
        assert_int_equal(res->item[6].err, WEIR_KERR_INVALID_REQUEST);
        assert_int_equal(res->item[7].err, WEIR_KERR_INVALID_REQUEST);
        assert_int_equal(res->item[8].err, WEIR_KERR_INVALID_TOPIC_EXCEPTION);
        assert_int_equal(res->item[9].err, WEIR_KERR_INVALID_REQUEST);
        assert_int_equal(res->item[10].err, WEIR_KERR_INVALID_REQUEST);
        assert_int_equal(res->item[11].err, 0);
        for (int i = 1; i <= 10; i++)
            assert_false(res->item[i].msg_null);
    }
    rt_md(&cl, "dflt", &md);
    assert_int_equal(md.err, 0);
    assert_int_equal(md.npartitions, 3); /* num.partitions */
    rt_topic_cfg(&cl, "dflt", "retention.ms", value, sizeof(value), &source);
    assert_string_equal(value, "3600000");
    assert_int_equal(source, WEIR_CONFIG_SOURCE_TOPIC);
    rt_md(&cl, "ok2", &md);
    assert_int_equal(md.npartitions, 2);
    for (size_t i = 0; i < 3; i++) {
        static const char *const gone[] = {"rf3", "twice", "badcfg"};
        rt_md(&cl, gone[i], &md);
        assert_int_equal(md.err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    }

    /* ValidateOnly (v1+) checks without creating. */
    {
        rt_ct_spec_t t[] = {{.name = "vo", .partitions = 4, .rf = 1},
                            {.name = "dflt", .partitions = 1, .rf = 1}};
        rt_ct(&cl, 1, t, 2, true, res);
        assert_int_equal(res->item[0].err, 0);
        assert_int_equal(res->item[1].err, WEIR_KERR_TOPIC_ALREADY_EXISTS);
        rt_md(&cl, "vo", &md);
        assert_int_equal(md.err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    }

    /* Manual assignments: accepted when every replica is this node. */
    {
        rt_ct_spec_t t[] = {
            {.name = "man", .partitions = -1, .rf = -1, .nassign = 2, .assign_index = idx,
             .assign_broker = local},
            {.name = "manfar", .partitions = -1, .rf = -1, .nassign = 2, .assign_index = idx,
             .assign_broker = foreign},
            {.name = "mangap", .partitions = -1, .rf = -1, .nassign = 2, .assign_index = gap,
             .assign_broker = local},
            {.name = "manboth", .partitions = 2, .rf = 1, .nassign = 2, .assign_index = idx,
             .assign_broker = local},
        };
        rt_ct(&cl, 3, t, 4, false, res);
        assert_int_equal(res->item[0].err, 0);
        assert_int_equal(res->item[1].err, WEIR_KERR_INVALID_REQUEST);
        assert_non_null(strstr(res->item[1].msg, "manual replica assignment is not supported"));
        assert_int_equal(res->item[2].err, WEIR_KERR_INVALID_REPLICA_ASSIGNMENT);
        assert_int_equal(res->item[3].err, WEIR_KERR_INVALID_REQUEST);
        rt_md(&cl, "man", &md);
        assert_int_equal(md.err, 0);
        assert_int_equal(md.npartitions, 2);
        rt_md(&cl, "manfar", &md);
        assert_int_equal(md.err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    }

    /* v0 has no ErrorMessage; the error code is still there. */
    {
        rt_ct_spec_t t[] = {{.name = "dflt", .partitions = 1, .rf = 1}};
        rt_ct(&cl, 0, t, 1, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_TOPIC_ALREADY_EXISTS);
        assert_true(res->item[0].msg_null);
    }

    /* A malformed request (cut short) closes the connection and creates
     * nothing, not even the topics before the cut. */
    {
        rt_ct_spec_t t[] = {{.name = "cut1", .partitions = 1, .rf = 1},
                            {.name = "cut2", .partitions = 1, .rf = 1}};
        tw_t body;
        tw_init(&body, false);
        enc_create_topics(&body, 4, t, 2, false);
        rt_send(&cl, WEIR_API_CreateTopics, 4, false, body.d, body.len - 7);
        rt_expect_closed(&cl);
        rt_close(&cl);
        tw_free(&body);
        rt_connect(&cl, b);
        rt_md(&cl, "cut1", &md);
        assert_int_equal(md.err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    }
    rt_res_reset(res);
    free(res);
    rt_close(&cl);
    rt_broker_stop(b);
}

static void
test_delete_and_partitions_semantics(void **state)
{
    rt_broker_t *b;
    rt_client_t cl;
    rt_res_t *res = calloc(1, sizeof(*res));
    rt_md_t md;
    tw_t body;
    tr_t r;

    (void)state;
    b = rt_broker_start((const char *const[]){"auto.create.topics.enable", "false", NULL});
    const int32_t local[3] = {b->node_id, b->node_id, b->node_id};
    const int32_t foreign[2] = {b->node_id, b->node_id + 1};
    rt_connect(&cl, b);
    rt_create_topic(&cl, "d1", 2);
    rt_create_topic(&cl, "grow", 2);

    /* DeleteTopics: unknown, duplicate, deleted. */
    {
        const char *names[] = {"d1", "nope", "grow", "grow"};
        tw_init(&body, false);
        enc_delete_topics(&body, 3, names, 4);
        rt_call(&cl, WEIR_API_DeleteTopics, 3, &body, &r);
        rt_res_reset(res);
        dec_delete_topics(&r, 3, res);
        tr_done(&r);
        tw_free(&body);
        assert_int_equal(res->n, 4);
        assert_int_equal(res->item[0].err, 0);
        assert_int_equal(res->item[1].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        assert_int_equal(res->item[2].err, WEIR_KERR_INVALID_REQUEST);
        assert_int_equal(res->item[3].err, WEIR_KERR_INVALID_REQUEST);
        rt_md(&cl, "d1", &md);
        assert_int_equal(md.err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        rt_md(&cl, "grow", &md);
        assert_int_equal(md.err, 0);
    }
    /* The name can be used again at once. */
    rt_create_topic(&cl, "d1", 1);

    /* CreatePartitions. */
#define RT_CP(tname, count, nassign, brokers, vo, want)                                   \
    do {                                                                                 \
        tw_init(&body, false);                                                           \
        enc_create_partitions(&body, 1, tname, count, nassign, brokers, vo);              \
        rt_call(&cl, WEIR_API_CreatePartitions, 1, &body, &r);                           \
        rt_res_reset(res);                                                               \
        dec_create_partitions(&r, 1, res);                                               \
        tr_done(&r);                                                                     \
        tw_free(&body);                                                                  \
        assert_int_equal(res->n, 1);                                                     \
        assert_string_equal(res->item[0].name, tname);                                    \
        assert_int_equal(res->item[0].err, want);                                        \
        assert_true(res->item[0].msg_null == ((want) == 0));                             \
    } while (0)

    RT_CP("grow", 2, -1, NULL, false, WEIR_KERR_INVALID_PARTITIONS);
    RT_CP("grow", 1, -1, NULL, false, WEIR_KERR_INVALID_PARTITIONS);
    RT_CP("nope", 5, -1, NULL, false, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    RT_CP("grow", 4, 2, foreign, false, WEIR_KERR_INVALID_REQUEST);
    RT_CP("grow", 4, 3, local, false, WEIR_KERR_INVALID_REPLICA_ASSIGNMENT);
    RT_CP("grow", 5, -1, NULL, true, 0); /* ValidateOnly */
    rt_md(&cl, "grow", &md);
    assert_int_equal(md.npartitions, 2);
    RT_CP("grow", 4, 2, local, false, 0);
    rt_md(&cl, "grow", &md);
    assert_int_equal(md.npartitions, 4);
    RT_CP("grow", 5, -1, NULL, false, 0);
    rt_md(&cl, "grow", &md);
    assert_int_equal(md.npartitions, 5);
#undef RT_CP

    rt_res_reset(res);
    free(res);
    rt_close(&cl);
    rt_broker_stop(b);
}

static void
test_delete_disabled(void **state)
{
    rt_broker_t *b;
    rt_client_t cl;
    rt_res_t *res = calloc(1, sizeof(*res));
    const char *names[] = {"keep", "nope"};
    rt_md_t md;

    (void)state;
    b = rt_broker_start((const char *const[]){"delete.topic.enable", "false", NULL});
    rt_connect(&cl, b);
    rt_create_topic(&cl, "keep", 1);
    for (int16_t v = 0; v <= 3; v++) {
        tw_t body;
        tr_t r;
        tw_init(&body, false);
        enc_delete_topics(&body, v, names, 2);
        rt_call(&cl, WEIR_API_DeleteTopics, v, &body, &r);
        rt_res_reset(res);
        dec_delete_topics(&r, v, res);
        tr_done(&r);
        tw_free(&body);
        /* TOPIC_DELETION_DISABLED exists from v3; older clients get
         * INVALID_REQUEST, as Kafka answers. */
        for (int i = 0; i < 2; i++)
            assert_int_equal(res->item[i].err, v >= 3 ? WEIR_KERR_TOPIC_DELETION_DISABLED
                                                      : WEIR_KERR_INVALID_REQUEST);
    }
    rt_md(&cl, "keep", &md);
    assert_int_equal(md.err, 0);
    rt_res_reset(res);
    free(res);
    rt_close(&cl);
    rt_broker_stop(b);
}

static void
test_configs_semantics(void **state)
{
    rt_broker_t *b;
    rt_client_t cl;
    rt_res_t *res = calloc(1, sizeof(*res));
    char node[16], other[16], value[512];
    int8_t source;

    (void)state;
    b = rt_broker_start((const char *const[]){"auto.create.topics.enable", "false", NULL});
    snprintf(node, sizeof(node), "%d", b->node_id);
    snprintf(other, sizeof(other), "%d", b->node_id + 1);
    rt_connect(&cl, b);
    rt_create_topic(&cl, "cfg", 1);

    /* DescribeConfigs: unknown topic, bad broker ids, the cluster default,
     * unsupported types, per resource. */
    {
        static const char *const one[] = {"retention.ms"};
        rt_dc_spec_t s[] = {{2, "missing", -1, NULL}, {4, other, -1, NULL},
                            {4, "", -1, NULL},        {4, "abc", -1, NULL},
                            {3, "group", -1, NULL},   {2, "cfg", 1, one},
                            {2, "cfg", 0, NULL},      {4, node, -1, NULL}};
        for (int16_t v = 0; v <= 2; v++) {
            rt_dc(&cl, v, s, (int)WEIR_ARRAY_SIZE(s), res);
            assert_int_equal(res->item[0].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
            assert_false(res->item[0].msg_null);
            assert_int_equal(res->item[0].ncfg, 0);
            assert_int_equal(res->item[1].err, WEIR_KERR_INVALID_REQUEST);
            assert_int_equal(res->item[2].err, 0);
            assert_int_equal(res->item[2].ncfg, 0); /* no dynamic cluster defaults */
            assert_int_equal(res->item[3].err, WEIR_KERR_INVALID_REQUEST);
            assert_int_equal(res->item[4].err, WEIR_KERR_INVALID_REQUEST);
            assert_int_equal(res->item[4].type, 3);
            assert_int_equal(res->item[5].err, 0);
            assert_int_equal(res->item[5].ncfg, 1);
            assert_string_equal(res->item[5].cfg[0].name, "retention.ms");
            assert_int_equal(res->item[6].err, 0);
            /* An empty key list asks for every key, like null (kafkajs). */
            assert_true(res->item[6].ncfg >= 10);
            assert_int_equal(res->item[7].err, 0);
            assert_true(res->item[7].ncfg >= 10);
            for (int i = 0; i < res->item[7].ncfg; i++) {
                const rt_cfg_t *cf = &res->item[7].cfg[i];
                assert_true(cf->read_only);
                assert_true(cf->value_null == cf->sensitive);
            }
            assert_non_null(rt_find_cfg(&res->item[7], "listeners"));
        }
    }

    /* AlterConfigs replaces every override with the given set. */
    {
        static const char *const both[] = {"retention.ms", "1000", "segment.bytes", "1048576"};
        static const char *const only[] = {"segment.bytes", "2097152"};
        static const char *const bad[] = {"retention.ms", "soon"};
        rt_ac_spec_t s1 = {2, "cfg", 2, both, NULL};
        rt_ac_spec_t s2 = {2, "cfg", 1, only, NULL};
        rt_ac_spec_t s3[] = {{2, "cfg", 1, bad, NULL},
                             {4, node, 1, only, NULL},
                             {2, "missing", 1, only, NULL}};

        rt_ac(&cl, WEIR_API_AlterConfigs, 0, &s1, 1, false, res);
        assert_int_equal(res->item[0].err, 0);
        rt_topic_cfg(&cl, "cfg", "retention.ms", value, sizeof(value), &source);
        assert_string_equal(value, "1000");
        assert_int_equal(source, WEIR_CONFIG_SOURCE_TOPIC);

        rt_ac(&cl, WEIR_API_AlterConfigs, 1, &s2, 1, true, res); /* ValidateOnly */
        assert_int_equal(res->item[0].err, 0);
        rt_topic_cfg(&cl, "cfg", "segment.bytes", value, sizeof(value), &source);
        assert_string_equal(value, "1048576");

        rt_ac(&cl, WEIR_API_AlterConfigs, 1, &s2, 1, false, res);
        assert_int_equal(res->item[0].err, 0);
        rt_topic_cfg(&cl, "cfg", "segment.bytes", value, sizeof(value), &source);
        assert_string_equal(value, "2097152");
        assert_int_equal(source, WEIR_CONFIG_SOURCE_TOPIC);
        rt_topic_cfg(&cl, "cfg", "retention.ms", value, sizeof(value), &source);
        assert_int_not_equal(source, WEIR_CONFIG_SOURCE_TOPIC); /* override dropped */

        rt_ac(&cl, WEIR_API_AlterConfigs, 1, s3, 3, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_INVALID_CONFIG);
        assert_non_null(strstr(res->item[0].msg, "retention.ms"));
        assert_int_equal(res->item[1].err, WEIR_KERR_INVALID_REQUEST);
        assert_non_null(strstr(res->item[1].msg, "static"));
        assert_int_equal(res->item[1].type, 4);
        assert_int_equal(res->item[2].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        rt_topic_cfg(&cl, "cfg", "segment.bytes", value, sizeof(value), &source);
        assert_string_equal(value, "2097152"); /* unchanged by the failed alter */
    }

    /* IncrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT. */
    for (int16_t v = 0; v <= 1; v++) {
        static const char *const set[] = {"retention.ms", "5000", "segment.bytes", NULL};
        static const int8_t set_ops[] = {0, 1};
        static const char *const app_bad[] = {"retention.ms", "1"};
        static const int8_t app_ops[] = {2};
        static const char *const app_list[] = {"cleanup.policy", "delete"};
        static const int8_t sub_ops[] = {3};
        static const char *const unk[] = {"no.such", "1"};
        static const int8_t set_op[] = {0};
        static const int8_t bad_op[] = {9};
        static const char *const dup[] = {"retention.ms", "1", "retention.ms", "2"};
        static const int8_t dup_ops[] = {0, 0};
        rt_ac_spec_t s;

        s = (rt_ac_spec_t){2, "cfg", 2, set, set_ops};
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, 0);
        rt_topic_cfg(&cl, "cfg", "retention.ms", value, sizeof(value), &source);
        assert_string_equal(value, "5000");
        assert_int_equal(source, WEIR_CONFIG_SOURCE_TOPIC);
        rt_topic_cfg(&cl, "cfg", "segment.bytes", value, sizeof(value), &source);
        assert_int_not_equal(source, WEIR_CONFIG_SOURCE_TOPIC);

        s = (rt_ac_spec_t){2, "cfg", 1, app_bad, app_ops};
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_INVALID_CONFIG);
        assert_non_null(strstr(res->item[0].msg, "not a list"));

        s = (rt_ac_spec_t){2, "cfg", 1, app_list, app_ops}; /* already there: no change */
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, 0);
        rt_topic_cfg(&cl, "cfg", "cleanup.policy", value, sizeof(value), &source);
        assert_string_equal(value, "delete");
        assert_int_equal(source, WEIR_CONFIG_SOURCE_TOPIC);

        s = (rt_ac_spec_t){2, "cfg", 1, app_list, sub_ops}; /* empty list: refused */
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_INVALID_CONFIG);

        s = (rt_ac_spec_t){2, "cfg", 1, unk, set_op};
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_INVALID_CONFIG);
        assert_non_null(strstr(res->item[0].msg, "no.such"));

        s = (rt_ac_spec_t){2, "cfg", 1, unk, bad_op};
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_INVALID_REQUEST);

        s = (rt_ac_spec_t){2, "cfg", 2, dup, dup_ops};
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_INVALID_REQUEST);

        s = (rt_ac_spec_t){4, node, 1, unk, set_op};
        rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
        assert_int_equal(res->item[0].err, WEIR_KERR_INVALID_REQUEST);

        /* ValidateOnly changes nothing. */
        {
            static const char *const vo[] = {"retention.ms", "7777"};
            s = (rt_ac_spec_t){2, "cfg", 1, vo, set_op};
            rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, true, res);
            assert_int_equal(res->item[0].err, 0);
            rt_topic_cfg(&cl, "cfg", "retention.ms", value, sizeof(value), &source);
            assert_string_equal(value, "5000");
        }
        /* Back to no overrides for the next round. */
        {
            static const char *const del[] = {"retention.ms", NULL, "cleanup.policy", NULL};
            static const int8_t del_ops[] = {1, 1};
            s = (rt_ac_spec_t){2, "cfg", 2, del, del_ops};
            rt_ac(&cl, WEIR_API_IncrementalAlterConfigs, v, &s, 1, false, res);
            assert_int_equal(res->item[0].err, 0);
            rt_topic_cfg(&cl, "cfg", "cleanup.policy", value, sizeof(value), &source);
            assert_int_not_equal(source, WEIR_CONFIG_SOURCE_TOPIC);
        }
    }

    /* A malformed IncrementalAlterConfigs (the second resource cut short)
     * closes the connection and applies nothing, not even the first. */
    {
        static const char *const set[] = {"retention.ms", "4242"};
        static const int8_t set_op[] = {0};
        rt_ac_spec_t s[] = {{2, "cfg", 1, set, set_op}, {2, "cfg2", 1, set, set_op}};
        tw_t body;
        tw_init(&body, true);
        enc_alter_configs(&body, true, s, 2, false);
        rt_send(&cl, WEIR_API_IncrementalAlterConfigs, 1, true, body.d, body.len - 6);
        rt_expect_closed(&cl);
        rt_close(&cl);
        tw_free(&body);
        rt_connect(&cl, b);
        rt_topic_cfg(&cl, "cfg", "retention.ms", value, sizeof(value), &source);
        assert_string_not_equal(value, "4242");
        assert_int_not_equal(source, WEIR_CONFIG_SOURCE_TOPIC);
    }
    rt_res_reset(res);
    free(res);
    rt_close(&cl);
    rt_broker_stop(b);
}

/* ---------------------------------------------------------------------------
 * Authorization on the wire (governance): a PLAINTEXT client is
 * User:ANONYMOUS; with no binding every resource is open
 * (allow.everyone.if.no.acl.found is true when no listener authenticates),
 * and bindings then decide with Kafka's rules.
 * ------------------------------------------------------------------------- */

static int16_t
rt_produce_err(rt_client_t *cl, const char *topic)
{
    tw_t body, batch;
    tr_t r;
    rt_prod_t p;

    tw_init(&batch, false);
    rt_build_batch(&batch, "acl", 1, weir_wall_ms());
    tw_init(&body, false);
    enc_produce(&body, 7, topic, 0, batch.d, batch.len);
    rt_call(cl, WEIR_API_Produce, 7, &body, &r);
    dec_produce(&r, 7, topic, 0, &p);
    tr_done(&r);
    tw_free(&body);
    tw_free(&batch);
    return p.err;
}

static int16_t
rt_fetch_err(rt_client_t *cl, const char *topic)
{
    tw_t body;
    tr_t r;
    rt_fetch_t f;

    tw_init(&body, false);
    enc_fetch(&body, 11, topic, 0, 0);
    rt_call(cl, WEIR_API_Fetch, 11, &body, &r);
    dec_fetch(&r, 11, topic, 0, &f);
    tr_done(&r);
    tw_free(&body);
    return f.err;
}

static int16_t
rt_metadata_err(rt_client_t *cl, rt_broker_t *b, const char *topic)
{
    tw_t body;
    tr_t r;
    rt_md_t md;

    tw_init(&body, false);
    enc_metadata(&body, 5, topic);
    rt_call(cl, WEIR_API_Metadata, 5, &body, &r);
    dec_metadata(&r, 5, b, topic, &md);
    tr_done(&r);
    tw_free(&body);
    return md.err;
}

/* Metadata v1 for all topics (null list): how many are shown, and whether
 * name is among them. */
static int
rt_metadata_all(rt_client_t *cl, const char *name, bool *found)
{
    tw_t body;
    tr_t r;
    char buf[256];
    int32_t n, nb;

    tw_init(&body, false);
    tw_arr(&body, -1);
    rt_call(cl, WEIR_API_Metadata, 1, &body, &r);
    nb = tr_arr(&r);
    for (int32_t i = 0; i < nb; i++) {
        (void)tr_i32(&r);
        tr_str(&r, buf, sizeof(buf));
        (void)tr_i32(&r);
        tr_str(&r, buf, sizeof(buf)); /* Rack */
    }
    (void)tr_i32(&r); /* ControllerId */
    n = tr_arr(&r);
    *found = false;
    for (int32_t i = 0; i < n; i++) {
        int32_t np;
        assert_int_equal(tr_i16(&r), 0);
        tr_str(&r, buf, sizeof(buf));
        *found |= strcmp(buf, name) == 0;
        (void)tr_bool(&r);
        np = tr_arr(&r);
        for (int32_t j = 0; j < np; j++) {
            (void)tr_i16(&r);
            (void)tr_i32(&r);
            (void)tr_i32(&r);
            for (int k = 0; k < 2; k++) {
                int32_t nn = tr_arr(&r);
                for (int32_t x = 0; x < nn; x++)
                    (void)tr_i32(&r);
            }
        }
    }
    tr_done(&r);
    tw_free(&body);
    return n;
}

static void
test_acl_semantics(void **state)
{
    rt_broker_t *b = rt_broker_start(NULL);
    rt_client_t cl;
    const rt_acl_t deny_write = {2, "sec", 3, "User:ANONYMOUS", "*", 4, 2};
    const rt_acl_t allow_read = {2, "sec", 3, "User:*", "*", 3, 3};
    const rt_acl_t lock_cluster = {4, "kafka-cluster", 3, "User:nobody", "*", 2, 3};
    const rt_acl_t any = {1, NULL, 1, NULL, NULL, 1, 1};
    int16_t errs[1];
    rt_acls_t got;
    bool found;
    int total;

    (void)state;
    rt_connect(&cl, b);
    rt_create_topic(&cl, "sec", 1);
    rt_create_topic(&cl, "open", 1);
    assert_int_equal(rt_produce_err(&cl, "sec"), 0);
    total = rt_metadata_all(&cl, "sec", &found);
    assert_true(found);

    /* A DENY WRITE on sec: produce refused; and as sec now has bindings and
     * none allows ANONYMOUS anything, it cannot even DESCRIBE it: Metadata
     * by name says TOPIC_AUTHORIZATION_FAILED and a listing leaves it out. */
    rt_create_acls_ok(&cl, &deny_write, 1);
    assert_int_equal(rt_produce_err(&cl, "sec"), WEIR_KERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(rt_fetch_err(&cl, "sec"), WEIR_KERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(rt_metadata_err(&cl, b, "sec"), WEIR_KERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(rt_metadata_all(&cl, "sec", &found), total - 1);
    assert_false(found);
    /* Other topics have no bindings: still open. */
    assert_int_equal(rt_produce_err(&cl, "open"), 0);

    /* READ for everyone: READ implies DESCRIBE; the DENY still beats WRITE. */
    rt_create_acls_ok(&cl, &allow_read, 1);
    assert_int_equal(rt_fetch_err(&cl, "sec"), 0);
    assert_int_equal(rt_metadata_err(&cl, b, "sec"), 0);
    assert_int_equal(rt_produce_err(&cl, "sec"), WEIR_KERR_TOPIC_AUTHORIZATION_FAILED);

    /* Without the DENY, WRITE is still refused: sec has a binding (READ
     * for User:*) and none grants WRITE (Kafka's rule). */
    {
        rt_acls_t del;
        rt_delete_acls(&cl, 1, &deny_write, 1, &del);
        assert_int_equal(del.err, 0);
        assert_int_equal(del.n, 1);
    }
    assert_int_equal(rt_produce_err(&cl, "sec"), WEIR_KERR_TOPIC_AUTHORIZATION_FAILED);
    /* With no binding left the default rule opens it again, at once, on
     * the same connection. */
    {
        rt_acls_t del;
        rt_delete_acls(&cl, 1, &allow_read, 1, &del);
        assert_int_equal(del.n, 1);
    }
    assert_int_equal(rt_produce_err(&cl, "sec"), 0);

    /* Once the cluster has a binding that does not allow ANONYMOUS, the ACL
     * APIs themselves are refused with CLUSTER_AUTHORIZATION_FAILED. */
    rt_create_acls_ok(&cl, &lock_cluster, 1);
    rt_create_acls(&cl, 1, &deny_write, 1, errs, NULL);
    assert_int_equal(errs[0], WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED);
    rt_describe_acls(&cl, 1, &any, &got);
    assert_int_equal(got.err, WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_int_equal(got.n, 0);
    {
        rt_acls_t del;
        rt_delete_acls(&cl, 1, &any, 1, &del);
        assert_int_equal(del.err, WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED);
    }
    /* CreateTopics: CREATE on the cluster is gone, but a topic with no
     * binding is still open to CREATE by the default rule. */
    rt_create_topic(&cl, "sec2", 1);
    rt_close(&cl);
    rt_broker_stop(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_api_every_version),
        cmocka_unit_test(test_api_versions_unsupported),
        cmocka_unit_test(test_unknown_key_and_version_close),
        cmocka_unit_test(test_fetch_byte_for_byte),
        cmocka_unit_test(test_create_topics_semantics),
        cmocka_unit_test(test_delete_and_partitions_semantics),
        cmocka_unit_test(test_delete_disabled),
        cmocka_unit_test(test_configs_semantics),
        cmocka_unit_test(test_acl_semantics),
    };

    weir_log_level = WEIR_LOG_WARN;
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
