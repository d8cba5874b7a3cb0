/*
 * fuzz_records.c: libFuzzer target for record-batch parsing and the batch
 * codecs (weir_records.c, weir_compress.c).  Not part of ctest.
 *
 * The first input byte picks a mode:
 *   0: the rest is a whole batch, fed to weir_record_iter_init/next and
 *      weir_records_first_offset_at as it arrives from the network;
 *   1: the rest (after a control byte choosing codec, LogAppendTime and
 *      record count) is a records section wrapped in a well-formed header,
 *      so the fuzzer spends its time inside the records and the codecs;
 *   2: the rest is compressed data for weir_decompress; whatever decodes
 *      must survive a weir_compress/weir_decompress round trip unchanged.
 * Invariants checked beyond "no crash": records come out in count order,
 * every record's header section walks cleanly to its declared count, and
 * output never exceeds the decompression limit.
 *
 * Build and run (from the repository root):
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Iserver/core -Iserver/storage tests/fuzz/fuzz_records.c \
 *     server/storage/weir_records.c server/storage/weir_compress.c \
 *     server/storage/weir_batch.c server/core/weir_buf.c server/core/weir_common.c \
 *     -lz -lsnappy -llz4 -lzstd -lpthread -o fuzz_records
 *   ./fuzz_records -max_len=65536 -rss_limit_mb=1024 corpus_dir/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weir_batch.h"
#include "weir_buf.h"
#include "weir_common.h"
#include "weir_records.h"

#define FUZZ_MAX_DECOMPRESSED ((size_t)4 << 20)

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void
fuzz_iterate(const uint8_t *batch, size_t len)
{
    weir_record_iter_t it;
    weir_record_t rec;
    int32_t n = 0;
    int rc = weir_record_iter_init(&it, batch, len, FUZZ_MAX_DECOMPRESSED);

    if (rc == 0) {
        while (weir_record_iter_next(&it, &rec)) {
            weir_header_t h;
            size_t pos = 0;
            int32_t nh = 0;
            int r;

            FUZZ_CHECK(n < it.hdr.records_count);
            FUZZ_CHECK(rec.key.len >= -1 && rec.value.len >= -1);
            while ((r = weir_record_header_next(&rec, &pos, &h)) == 1) {
                FUZZ_CHECK(h.key.len >= 0 && h.value.len >= -1);
                nh++;
            }
            FUZZ_CHECK(r == 0 && nh == rec.header_count && pos == rec.headers_len);
            n++;
        }
        FUZZ_CHECK(it.err != 0 || n == it.hdr.records_count);
    } else {
        FUZZ_CHECK(it.owned == NULL);
        FUZZ_CHECK(!weir_record_iter_next(&it, &rec));
    }
    weir_record_iter_free(&it);
    (void)weir_records_first_offset_at(batch, len, 0, NULL);
}

static void
fuzz_wrapped(const uint8_t *data, size_t size)
{
    uint8_t ctl;
    size_t total;
    uint8_t *b;

    if (size < 1)
        return;
    ctl = data[0];
    data++;
    size--;
    total = WEIR_BATCH_HDR_SIZE + size;
    if (total - WEIR_BATCH_LOG_OVERHEAD > INT32_MAX)
        return;
    b = calloc(1, total);
    if (!b)
        return;
    weir_put_be64(b + WEIR_BATCH_OFF_BASE_OFFSET, 1000);
    weir_put_be32(b + WEIR_BATCH_OFF_LENGTH, (uint32_t)(total - WEIR_BATCH_LOG_OVERHEAD));
    b[WEIR_BATCH_OFF_MAGIC] = 2;
    weir_put_be16(b + WEIR_BATCH_OFF_ATTRIBUTES,
                  (uint16_t)((ctl % 5) | (ctl & 0x08 ? WEIR_BATCH_ATTR_LOG_APPEND_TIME : 0)));
    weir_put_be64(b + WEIR_BATCH_OFF_BASE_TIMESTAMP, 1700000000000ull);
    weir_put_be64(b + WEIR_BATCH_OFF_MAX_TIMESTAMP, 1700000005000ull);
    weir_put_be32(b + WEIR_BATCH_OFF_RECORDS_COUNT, (uint32_t)(ctl >> 4));
    memcpy(b + WEIR_BATCH_HDR_SIZE, data, size);
    fuzz_iterate(b, total);
    free(b);
}

static void
fuzz_codec(const uint8_t *data, size_t size)
{
    weir_codec_t codec;
    uint8_t *out, *comp, *back;
    size_t out_len, comp_len, back_len;

    if (size < 1)
        return;
    codec = (weir_codec_t)(data[0] % 5);
    if (weir_decompress(codec, data + 1, size - 1, FUZZ_MAX_DECOMPRESSED, &out, &out_len) != 0) {
        FUZZ_CHECK(out == NULL);
        return;
    }
    FUZZ_CHECK(out_len <= FUZZ_MAX_DECOMPRESSED);
    FUZZ_CHECK(weir_compress(codec, out, out_len, &comp, &comp_len) == 0);
    if (comp_len > 0) {
        FUZZ_CHECK(weir_decompress(codec, comp, comp_len, out_len, &back, &back_len) == 0);
        FUZZ_CHECK(back_len == out_len && memcmp(back, out, out_len) == 0);
        free(back);
    }
    free(comp);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_iterate(data + 1, size - 1);
        break;
    case 1:
        fuzz_wrapped(data + 1, size - 1);
        break;
    default:
        fuzz_codec(data + 1, size - 1);
        break;
    }
    return 0;
}
