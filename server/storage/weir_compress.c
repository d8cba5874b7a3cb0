/*
 * weir_compress.c: the four Kafka compression codecs as record batches frame
 * them (gzip streams, snappy raw or xerial-framed, LZ4 frames, zstd frames).
 *
 * Decompression input comes from the network, so every decoder here is bounded
 * twice: by the input (truncated or corrupt data is an error, never a crash or
 * an over-read) and by the caller's max_out (the output never grows past
 * max_out + 1 bytes, and producing more than max_out bytes fails with
 * WEIR_ELIMIT).  Compression output is what librdkafka produces: a gzip
 * stream, raw snappy, an LZ4 frame with independent 64 KiB blocks (the only
 * kind Kafka's Java LZ4 reader accepts) and a zstd frame.
 */
#include "weir_records.h"

#include <errno.h>
#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "weir_common.h"

/* Largest max_out honoured; keeps max_out + 1 and doubling free of overflow. */
#define WEIR_DECOMP_HARD_MAX ((size_t)SIZE_MAX / 4)
/* First output allocation when the compressed data gives no size hint. */
#define WEIR_DECOMP_MIN_CAP 4096
/* Largest single chunk handed to zlib, whose counters are 32-bit. */
#define WEIR_ZCHUNK ((size_t)1 << 30)

static const uint8_t weir_xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00};
#define WEIR_XERIAL_HDR_SIZE 16 /* magic + int32 version + int32 compatible version */

/* ---------------------------------------------------------------------------
 * Bounded output buffer
 * ------------------------------------------------------------------------- */

typedef struct weir_obuf_s {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t limit; /* max_out: producing more is WEIR_ELIMIT */
} weir_obuf_t;

static void
weir_obuf_init(weir_obuf_t *o, size_t limit, size_t hint)
{
    size_t cap = hint ? hint : WEIR_DECOMP_MIN_CAP;

    o->limit = WEIR_MIN(limit, WEIR_DECOMP_HARD_MAX);
    /* One byte over the limit is enough to tell "exactly limit" from "more". */
    o->cap = WEIR_MIN(cap, o->limit + 1);
    o->buf = weir_malloc(o->cap);
    o->len = 0;
}

/* Makes room for at least one more byte without passing limit + 1.  Fails
 * with WEIR_ELIMIT once more than limit bytes have been produced. */
static int
weir_obuf_reserve(weir_obuf_t *o)
{
    size_t ncap;

    if (o->len > o->limit)
        return WEIR_ELIMIT;
    if (o->len < o->cap)
        return 0;
    ncap = WEIR_MIN(o->cap * 2, o->limit + 1);
    if (ncap <= o->len)
        return WEIR_ELIMIT;
    o->buf = weir_realloc(o->buf, ncap);
    o->cap = ncap;
    return 0;
}

static int
weir_obuf_finish(weir_obuf_t *o, int rc, uint8_t **out, size_t *out_len)
{
    if (rc == 0 && o->len > o->limit)
        rc = WEIR_ELIMIT;
    if (rc != 0) {
        free(o->buf);
        *out = NULL;
        *out_len = 0;
        return rc;
    }
    *out = o->buf;
    *out_len = o->len;
    return 0;
}

/* ---------------------------------------------------------------------------
 * gzip
 * ------------------------------------------------------------------------- */

static int
weir_gzip_decompress(const uint8_t *src, size_t len, weir_obuf_t *o)
{
    z_stream zs;
    size_t ipos = 0;
    int rc = 0;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -ENOMEM;

    for (;;) {
        size_t in_chunk, out_chunk, consumed, produced;
        int zret;

        rc = weir_obuf_reserve(o);
        if (rc)
            break;
        in_chunk = WEIR_MIN(len - ipos, WEIR_ZCHUNK);
        out_chunk = WEIR_MIN(o->cap - o->len, WEIR_ZCHUNK);
        zs.next_in = (Bytef *)(uintptr_t)(src + ipos);
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = o->buf + o->len;
        zs.avail_out = (uInt)out_chunk;
        zret = inflate(&zs, Z_NO_FLUSH);
        consumed = in_chunk - zs.avail_in;
        produced = out_chunk - zs.avail_out;
        ipos += consumed;
        o->len += produced;

        if (zret == Z_STREAM_END) {
            if (ipos == len)
                break;
            /* Kafka's reader (GZIPInputStream) accepts concatenated members. */
            if (len - ipos >= 2 && src[ipos] == 0x1f && src[ipos + 1] == 0x8b) {
                if (inflateReset(&zs) != Z_OK) {
                    rc = WEIR_EPARSE;
                    break;
                }
                continue;
            }
            rc = WEIR_EPARSE; /* trailing garbage */
            break;
        }
        if (zret == Z_OK || (zret == Z_BUF_ERROR && (consumed || produced)))
            continue;
        if (zret == Z_MEM_ERROR)
            rc = -ENOMEM;
        else
            rc = WEIR_EPARSE; /* data error, dictionary needed, or truncated */
        break;
    }
    inflateEnd(&zs);
    return rc;
}

static int
weir_gzip_compress(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    size_t cap;
    uint8_t *buf;
    int zret;

    if (len > WEIR_ZCHUNK)
        return WEIR_ELIMIT;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -ENOMEM;
    cap = deflateBound(&zs, (uLong)len);
    buf = weir_malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    zret = deflate(&zs, Z_FINISH);
    deflateEnd(&zs);
    if (zret != Z_STREAM_END) {
        free(buf);
        return WEIR_ERR;
    }
    *out = buf;
    *out_len = cap - zs.avail_out;
    return 0;
}

/* ---------------------------------------------------------------------------
 * snappy
 * ------------------------------------------------------------------------- */

/* Checks one raw snappy block and returns its uncompressed size. */
static int
weir_snappy_block_len(const uint8_t *src, size_t len, size_t *n)
{
    if (snappy_uncompressed_length((const char *)src, len, n) != SNAPPY_OK)
        return WEIR_EPARSE;
    /* Validation walks the tags without writing, so junk is refused before
     * anything is allocated for it. */
    if (snappy_validate_compressed_buffer((const char *)src, len) != SNAPPY_OK)
        return WEIR_EPARSE;
    return 0;
}

static bool
weir_is_xerial(const uint8_t *src, size_t len)
{
    return len >= sizeof(weir_xerial_magic) &&
           memcmp(src, weir_xerial_magic, sizeof(weir_xerial_magic)) == 0;
}

/*
 * Walks a xerial stream: header, then [int32 BE length][snappy block]...
 * A further header may appear between blocks (concatenated streams, which the
 * Java reader accepts).  With dst NULL only validates and sums the sizes;
 * otherwise decompresses into dst, which holds exactly total bytes.
 */
static int
weir_xerial_walk(const uint8_t *src, size_t len, size_t limit, uint8_t *dst, size_t *total)
{
    size_t pos = 0, sum = 0;

    while (pos < len) {
        const uint8_t *blk;
        uint32_t blen;
        size_t n;
        int rc;

        if (weir_is_xerial(src + pos, len - pos)) {
            if (len - pos < WEIR_XERIAL_HDR_SIZE)
                return WEIR_EPARSE;
            pos += WEIR_XERIAL_HDR_SIZE;
            continue;
        }
        if (len - pos < 4)
            return WEIR_EPARSE;
        blen = weir_be32(src + pos);
        pos += 4;
        if (blen == 0 || blen > INT32_MAX || blen > len - pos)
            return WEIR_EPARSE;
        blk = src + pos;
        pos += blen;

        if (!dst) {
            rc = weir_snappy_block_len(blk, blen, &n);
            if (rc)
                return rc;
            if (n > limit - sum)
                return WEIR_ELIMIT;
            sum += n;
        } else {
            if (snappy_uncompressed_length((const char *)blk, blen, &n) != SNAPPY_OK ||
                n > *total - sum)
                return WEIR_EPARSE;
            if (snappy_uncompress((const char *)blk, blen, (char *)dst + sum, &n) != SNAPPY_OK)
                return WEIR_EPARSE;
            sum += n;
        }
    }
    if (dst && sum != *total)
        return WEIR_EPARSE;
    *total = sum;
    return 0;
}

static int
weir_snappy_decompress(const uint8_t *src, size_t len, size_t max_out, uint8_t **out,
                       size_t *out_len)
{
    uint8_t *buf;
    size_t n;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (weir_is_xerial(src, len)) {
        if (len < WEIR_XERIAL_HDR_SIZE)
            return WEIR_EPARSE;
        /* Pass 1 validates every block and sums the sizes against max_out;
         * pass 2 decompresses into one exact allocation. */
        rc = weir_xerial_walk(src, len, max_out, NULL, &n);
        if (rc)
            return rc;
        buf = weir_malloc(n);
        rc = weir_xerial_walk(src, len, max_out, buf, &n);
    } else {
        rc = weir_snappy_block_len(src, len, &n);
        if (rc)
            return rc;
        if (n > max_out)
            return WEIR_ELIMIT;
        buf = weir_malloc(n);
        if (snappy_uncompress((const char *)src, len, (char *)buf, &n) != SNAPPY_OK)
            rc = WEIR_EPARSE;
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

static int
weir_snappy_compress(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len)
{
    size_t cap = snappy_max_compressed_length(len);
    uint8_t *buf = weir_malloc(cap);

    if (snappy_compress((const char *)src, len, (char *)buf, &cap) != SNAPPY_OK) {
        free(buf);
        return WEIR_ERR;
    }
    *out = buf;
    *out_len = cap;
    return 0;
}

/* ---------------------------------------------------------------------------
 * LZ4 frame
 * ------------------------------------------------------------------------- */

static int
weir_lz4_decompress(const uint8_t *src, size_t len, weir_obuf_t *o)
{
    LZ4F_dctx *dctx;
    size_t ipos = 0, hint = 1;
    int rc = 0;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return -ENOMEM;
    for (;;) {
        size_t in_sz, out_sz;

        rc = weir_obuf_reserve(o);
        if (rc)
            break;
        in_sz = len - ipos;
        out_sz = o->cap - o->len;
        hint = LZ4F_decompress(dctx, o->buf + o->len, &out_sz, src + ipos, &in_sz, NULL);
        if (LZ4F_isError(hint)) {
            rc = WEIR_EPARSE;
            break;
        }
        ipos += in_sz;
        o->len += out_sz;
        /* hint 0: a frame ended; further input is the next frame. */
        if (ipos == len && hint == 0)
            break;
        if (ipos == len && o->len < o->cap) {
            /* Out of input with room left: the frame is incomplete. */
            rc = WEIR_EPARSE;
            break;
        }
        if (in_sz == 0 && out_sz == 0 && o->len < o->cap) {
            rc = WEIR_EPARSE; /* no progress possible */
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int
weir_lz4_compress(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len)
{
    LZ4F_preferences_t prefs;
    size_t cap, n;
    uint8_t *buf;

    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.frameType = LZ4F_frame;
    cap = LZ4F_compressFrameBound(len, &prefs);
    buf = weir_malloc(cap);
    n = LZ4F_compressFrame(buf, cap, src, len, &prefs);
    if (LZ4F_isError(n)) {
        free(buf);
        return WEIR_ERR;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* ---------------------------------------------------------------------------
 * zstd
 * ------------------------------------------------------------------------- */

static int
weir_zstd_window_log_max(size_t limit)
{
    int wlog = 10;

    while (wlog < 27 && ((size_t)1 << wlog) < limit)
        wlog++;
    return WEIR_MAX(wlog, 23);
}

static int
weir_zstd_decompress(const uint8_t *src, size_t len, weir_obuf_t *o)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    ZSTD_inBuffer in = {src, len, 0};
    int rc = 0;

    if (!dctx)
        return -ENOMEM;
    /* The frame header chooses the window the decoder allocates.  Never allow
     * more than zstd's own default limit, nor more than the output could use,
     * but keep room for what ordinary producers (levels up to 19) declare. */
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, weir_zstd_window_log_max(o->limit));
    for (;;) {
        ZSTD_outBuffer ob;
        size_t zret;

        rc = weir_obuf_reserve(o);
        if (rc)
            break;
        ob.dst = o->buf;
        ob.size = o->cap;
        ob.pos = o->len;
        zret = ZSTD_decompressStream(dctx, &ob, &in);
        o->len = ob.pos;
        if (ZSTD_isError(zret)) {
            rc = WEIR_EPARSE;
            break;
        }
        /* 0: a frame is complete and flushed; more input is another frame. */
        if (zret == 0 && in.pos == in.size)
            break;
        if (in.pos == in.size && ob.pos < ob.size) {
            rc = WEIR_EPARSE; /* truncated frame */
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return rc;
}

static int
weir_zstd_compress(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *buf = weir_malloc(cap);
    size_t n = ZSTD_compress(buf, cap, src, len, ZSTD_CLEVEL_DEFAULT);

    if (ZSTD_isError(n)) {
        free(buf);
        return WEIR_ERR;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Public entry points
 * ------------------------------------------------------------------------- */

/* An initial output size from the frame header, when it records one.  Only a
 * hint: decoding still enforces the limit on what is actually produced. */
static size_t
weir_decomp_hint(weir_codec_t codec, const uint8_t *src, size_t len)
{
    if (codec == WEIR_CODEC_ZSTD) {
        unsigned long long n = ZSTD_getFrameContentSize(src, len);
        if (n != ZSTD_CONTENTSIZE_UNKNOWN && n != ZSTD_CONTENTSIZE_ERROR && n < SIZE_MAX / 4)
            return (size_t)n + 1;
    } else if (codec == WEIR_CODEC_GZIP && len >= 18) {
        /* ISIZE trailer: the last member's size mod 2^32. */
        uint32_t isize = (uint32_t)src[len - 4] | ((uint32_t)src[len - 3] << 8) |
                         ((uint32_t)src[len - 2] << 16) | ((uint32_t)src[len - 1] << 24);
        return (size_t)isize + 1;
    }
    return len < SIZE_MAX / 8 ? WEIR_MAX(len * 4, (size_t)WEIR_DECOMP_MIN_CAP) : 0;
}

/* The hint clamped to what len input bytes can plausibly expand to, so a tiny
 * forged header cannot make us allocate max_out up front. */
static size_t
weir_decomp_initial_cap(weir_codec_t codec, const uint8_t *src, size_t len)
{
    size_t hint = weir_decomp_hint(codec, src, len);
    size_t plausible = len < SIZE_MAX / 2048 ? len * 1024 + 65536 : SIZE_MAX / 2;

    return WEIR_MIN(hint, plausible);
}

int
weir_decompress(weir_codec_t codec, const uint8_t *src, size_t len, size_t max_out, uint8_t **out,
                size_t *out_len)
{
    weir_obuf_t o;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (len == 0)
        return WEIR_EPARSE;

    switch (codec) {
    case WEIR_CODEC_NONE:
        if (len > max_out)
            return WEIR_ELIMIT;
        *out = weir_malloc(len);
        memcpy(*out, src, len);
        *out_len = len;
        return 0;
    case WEIR_CODEC_SNAPPY:
        return weir_snappy_decompress(src, len, max_out, out, out_len);
    case WEIR_CODEC_GZIP:
    case WEIR_CODEC_LZ4:
    case WEIR_CODEC_ZSTD:
        break;
    default:
        return WEIR_EPARSE;
    }

    weir_obuf_init(&o, max_out, weir_decomp_initial_cap(codec, src, len));
    if (codec == WEIR_CODEC_GZIP)
        rc = weir_gzip_decompress(src, len, &o);
    else if (codec == WEIR_CODEC_LZ4)
        rc = weir_lz4_decompress(src, len, &o);
    else
        rc = weir_zstd_decompress(src, len, &o);
    return weir_obuf_finish(&o, rc, out, out_len);
}

int
weir_compress(weir_codec_t codec, const uint8_t *src, size_t len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    switch (codec) {
    case WEIR_CODEC_NONE:
        *out = weir_malloc(len);
        if (len)
            memcpy(*out, src, len);
        *out_len = len;
        return 0;
    case WEIR_CODEC_GZIP:
        return weir_gzip_compress(src, len, out, out_len);
    case WEIR_CODEC_SNAPPY:
        return weir_snappy_compress(src, len, out, out_len);
    case WEIR_CODEC_LZ4:
        return weir_lz4_compress(src, len, out, out_len);
    case WEIR_CODEC_ZSTD:
        return weir_zstd_compress(src, len, out, out_len);
    }
    return WEIR_EPARSE;
}
