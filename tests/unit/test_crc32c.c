/*
 * test_crc32c.c: server/storage/weir_crc32c.c.  Known answers (RFC 3720
 * B.4) for every implementation the CPU runs, and each of them against the
 * table implementation on pseudo-random data: every alignment and every
 * length around the paths' thresholds and block sizes, buffers of a
 * megabyte, and chaining (crc(a||b) == crc(crc(a), b)) with cuts anywhere,
 * so a non-zero starting register goes through every path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "weir_crc32c.h"

#define BUF_SIZE ((1u << 20) + 64)

static uint8_t *buf;

static int
setup(void **state)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;

    (void)state;
    buf = malloc(BUF_SIZE);
    for (size_t i = 0; i < BUF_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    free(buf);
    return 0;
}

/* The table implementation, the reference for the others. */
static uint32_t
ref(uint32_t crc, const void *p, size_t len)
{
    const weir_crc32c_impl_t *impls;

    weir_crc32c_impls(&impls);
    assert_string_equal(impls[0].name, "table");
    return impls[0].fn(crc, p, len);
}

static void
test_known_answers(void **state)
{
    const weir_crc32c_impl_t *impls;
    size_t n = weir_crc32c_impls(&impls);
    uint8_t z[32] = {0}, f[32], inc[32], dec[32];

    (void)state;
    memset(f, 0xff, sizeof(f));
    for (int i = 0; i < 32; i++) {
        inc[i] = (uint8_t)i;
        dec[i] = (uint8_t)(31 - i);
    }
    for (size_t i = 0; i < n; i++) {
        print_message("crc32c implementation: %s\n", impls[i].name);
        assert_int_equal(impls[i].fn(0, "123456789", 9), 0xE3069283u);
        assert_int_equal(impls[i].fn(0, "", 0), 0);
        assert_int_equal(impls[i].fn(0, z, sizeof(z)), 0x8A9136AAu);
        assert_int_equal(impls[i].fn(0, f, sizeof(f)), 0x62A8AB43u);
        assert_int_equal(impls[i].fn(0, inc, sizeof(inc)), 0x46DD794Eu);
        assert_int_equal(impls[i].fn(0, dec, sizeof(dec)), 0x113FDB5Cu);
    }
    assert_int_equal(weir_crc32c(0, "123456789", 9), 0xE3069283u);
    /* weir_crc32c() is the last (fastest) one. */
    assert_int_equal(weir_crc32c(0, buf, 100000), impls[n - 1].fn(0, buf, 100000));
}

static void
test_lengths_and_alignments(void **state)
{
    const weir_crc32c_impl_t *impls;
    size_t n = weir_crc32c_impls(&impls);

    (void)state;
    for (size_t i = 1; i < n; i++) {
        /* Every length up to past the folding threshold, at 3 alignments. */
        for (size_t align = 0; align < 64; align += 21)
            for (size_t len = 0; len <= 2600; len++)
                assert_int_equal(impls[i].fn(0, buf + align, len), ref(0, buf + align, len));
        /* Around multiples of the 256-byte fold and the 6144-byte stripes,
         * at every alignment. */
        for (size_t align = 0; align < 64; align++) {
            const size_t lens[] = {1023, 1024,  1025,  1279,  1280,  1281,  6143, 6144,
                                   6145, 12287, 12288, 12296, 40000, 65536, 65537};
            for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
                assert_int_equal(impls[i].fn(0, buf + align, lens[j]),
                                 ref(0, buf + align, lens[j]));
        }
        /* A megabyte, as a produced batch can be. */
        assert_int_equal(impls[i].fn(0, buf + 3, BUF_SIZE - 64), ref(0, buf + 3, BUF_SIZE - 64));
    }
}

static void
test_chaining(void **state)
{
    const weir_crc32c_impl_t *impls;
    size_t n = weir_crc32c_impls(&impls);
    const size_t total = 20000;

    (void)state;
    for (size_t i = 0; i < n; i++) {
        uint32_t whole = impls[i].fn(0, buf, total);
        assert_int_equal(whole, ref(0, buf, total));
        for (size_t cut = 0; cut <= total; cut += 97) {
            uint32_t head = impls[i].fn(0, buf, cut);
            assert_int_equal(impls[i].fn(head, buf + cut, total - cut), whole);
        }
        /* A starting register of all ones and of a single bit. */
        assert_int_equal(impls[i].fn(0xffffffffu, buf, 5000), ref(0xffffffffu, buf, 5000));
        assert_int_equal(impls[i].fn(1, buf + 1, 5000), ref(1, buf + 1, 5000));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_lengths_and_alignments),
        cmocka_unit_test(test_chaining),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
