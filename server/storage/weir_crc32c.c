/*
 * weir_crc32c.c: CRC-32C (Castagnoli), see weir_crc32c.h.
 */
#include "weir_crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define WEIR_CRC32C_HAVE_SSE42 1
#include <immintrin.h>
#endif

/* Reflected Castagnoli polynomial. */
#define WEIR_CRC32C_POLY 0x82F63B78u

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static inline uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void
crc32c_build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ WEIR_CRC32C_POLY : c >> 1;
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = crc32c_table[t - 1][i];
            crc32c_table[t][i] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
    }
}

/* The table implementation: any CPU. */
static uint32_t
crc32c_table_fn(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~crc;

    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo = c ^ le32(p);
        uint32_t hi = le32(p + 4);
        c = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
            crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
            crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
            crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
        len--;
    }
    return ~c;
}

#ifdef WEIR_CRC32C_HAVE_SSE42
/*
 * The crc32 instruction has a latency of three cycles but a throughput of
 * one per cycle, so long buffers are cut into three stripes of
 * WEIR_CRC32C_STRIPE bytes whose CRCs are computed side by side and then
 * joined.  Joining uses linearity: running the register over n zero bytes
 * is a linear map ("shift"), and crc(A||B) = shift(crc(A), |B|) ^ crc0(B),
 * where crc0 starts from a zero register.  The shift by one stripe is a
 * table lookup built once from the 32 basis vectors.
 */
#define WEIR_CRC32C_STRIPE 2048

static uint32_t crc32c_shift_table[4][256];

__attribute__((target("sse4.2"))) static uint32_t
crc32c_shift_slow(uint32_t c, size_t n)
{
    uint64_t r = c;

    for (size_t i = 0; i < n / 8; i++)
        r = _mm_crc32_u64(r, 0);
    return (uint32_t)r;
}

__attribute__((target("sse4.2"))) static void
crc32c_build_shift_table(void)
{
    uint32_t basis[32];

    for (int i = 0; i < 32; i++)
        basis[i] = crc32c_shift_slow(1u << i, WEIR_CRC32C_STRIPE);
    for (int k = 0; k < 4; k++) {
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int j = 0; j < 8; j++)
                if (b & (1u << j))
                    v ^= basis[8 * k + j];
            crc32c_shift_table[k][b] = v;
        }
    }
}

static inline uint32_t
crc32c_shift(uint32_t c)
{
    return crc32c_shift_table[0][c & 0xff] ^ crc32c_shift_table[1][(c >> 8) & 0xff] ^
           crc32c_shift_table[2][(c >> 16) & 0xff] ^ crc32c_shift_table[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t c = ~crc;

    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    while (len >= 3 * WEIR_CRC32C_STRIPE) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *p1 = p + WEIR_CRC32C_STRIPE, *p2 = p + 2 * WEIR_CRC32C_STRIPE;

        for (size_t i = 0; i < WEIR_CRC32C_STRIPE; i += 8) {
            uint64_t v0, v1, v2;
            memcpy(&v0, p + i, 8);
            memcpy(&v1, p1 + i, 8);
            memcpy(&v2, p2 + i, 8);
            c = _mm_crc32_u64(c, v0);
            c1 = _mm_crc32_u64(c1, v1);
            c2 = _mm_crc32_u64(c2, v2);
        }
        c = crc32c_shift(crc32c_shift((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
        p += 3 * WEIR_CRC32C_STRIPE;
        len -= 3 * WEIR_CRC32C_STRIPE;
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    return ~(uint32_t)c;
}

/*
 * Folding with carry-less multiplication (AVX-512 VPCLMULQDQ), after
 * Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ".
 * A 128-bit lane read from memory is, bit i being message bit i, the
 * polynomial sum of b_i x^(127-i) (reflected, as CRC-32C is).  Moving a
 * lane A = L x^64 + H (L its low, H its high quadword) D bits further
 * down the message multiplies it by x^D; with constants C1 = x^(63+D) and
 * C2 = x^(D-1) mod P, clmul(L, C1) ^ clmul(H, C2) is congruent to A x^D
 * (the reflected product carries one extra factor x, hence the -1) and
 * fits a lane again.  Sixteen lanes (four 512-bit registers, 256 bytes)
 * are each moved 2048 bits per step and the next 256 bytes added; at the
 * end every lane is moved onto the last one, and the crc32 instruction
 * reduces that lane and the tail: CRC-32C is linear, so a lane congruent
 * to everything before it gives the same CRC as everything before it.
 * The initial register enters as an xor into the first four bytes.
 */
#define WEIR_CRC32C_FOLD_BYTES 256
#define WEIR_CRC32C_FOLD_MIN 1024 /* shorter buffers: crc32c_sse42 */

/* crc32c_fold_k[m]: {C1, C2} moving a lane 128 * m bits (m = 1..16). */
static uint64_t crc32c_fold_k[17][2] __attribute__((aligned(16)));

/* x^n mod P, P = x^32 + 0x1EDC6F41 (bit d: coefficient of x^d). */
static uint32_t
crc32c_xpow_mod(unsigned n)
{
    uint32_t r = 1;

    for (unsigned i = 0; i < n; i++)
        r = (r & 0x80000000u) ? (r << 1) ^ 0x1EDC6F41u : r << 1;
    return r;
}

/* A remainder as a reflected quadword: coefficient of x^d at bit 63 - d. */
static uint64_t
crc32c_reflect64(uint32_t r)
{
    uint64_t v = 0;

    for (int d = 0; d < 32; d++)
        if (r & (1u << d))
            v |= 1ull << (63 - d);
    return v;
}

static void
crc32c_build_fold_constants(void)
{
    for (unsigned m = 1; m <= 16; m++) {
        crc32c_fold_k[m][0] = crc32c_reflect64(crc32c_xpow_mod(128 * m + 63));
        crc32c_fold_k[m][1] = crc32c_reflect64(crc32c_xpow_mod(128 * m - 1));
    }
}

__attribute__((target("avx512f,vpclmulqdq"))) static inline __m512i
crc32c_fold512(__m512i a, __m512i k, __m512i next)
{
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(a, k, 0x00),
                                     _mm512_clmulepi64_epi128(a, k, 0x11), next, 0x96);
}

__attribute__((target("pclmul"))) static inline __m128i
crc32c_fold128(__m128i a, unsigned m)
{
    __m128i k = _mm_load_si128((const __m128i *)crc32c_fold_k[m]);

    return _mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00), _mm_clmulepi64_si128(a, k, 0x11));
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) static uint32_t
crc32c_vpclmul(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    __m512i a0, a1, a2, a3, k;
    __m128i lanes[16], last;
    uint64_t r, lo, hi;

    if (len < WEIR_CRC32C_FOLD_MIN)
        return crc32c_sse42(crc, buf, len);
    k = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)crc32c_fold_k[16]));
    a0 = _mm512_xor_si512(_mm512_loadu_si512(p),
                          _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (int)~crc));
    a1 = _mm512_loadu_si512(p + 64);
    a2 = _mm512_loadu_si512(p + 128);
    a3 = _mm512_loadu_si512(p + 192);
    p += WEIR_CRC32C_FOLD_BYTES;
    len -= WEIR_CRC32C_FOLD_BYTES;
    while (len >= WEIR_CRC32C_FOLD_BYTES) {
        a0 = crc32c_fold512(a0, k, _mm512_loadu_si512(p));
        a1 = crc32c_fold512(a1, k, _mm512_loadu_si512(p + 64));
        a2 = crc32c_fold512(a2, k, _mm512_loadu_si512(p + 128));
        a3 = crc32c_fold512(a3, k, _mm512_loadu_si512(p + 192));
        p += WEIR_CRC32C_FOLD_BYTES;
        len -= WEIR_CRC32C_FOLD_BYTES;
    }
    _mm512_storeu_si512(lanes, a0);
    _mm512_storeu_si512(lanes + 4, a1);
    _mm512_storeu_si512(lanes + 8, a2);
    _mm512_storeu_si512(lanes + 12, a3);
    last = lanes[15];
    for (unsigned q = 0; q < 15; q++)
        last = _mm_xor_si128(last, crc32c_fold128(lanes[q], 15 - q));
    lo = (uint64_t)_mm_cvtsi128_si64(last);
    hi = (uint64_t)_mm_extract_epi64(last, 1);
    r = _mm_crc32_u64(0, lo);
    r = _mm_crc32_u64(r, hi);
    return crc32c_sse42(~(uint32_t)r, p, len);
}
#endif

static weir_crc32c_impl_t crc32c_impls[3] = {{"table", crc32c_table_fn}};
static size_t crc32c_nimpls = 1;

static void
crc32c_init(void)
{
    crc32c_build_tables();
#ifdef WEIR_CRC32C_HAVE_SSE42
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        crc32c_build_shift_table();
        crc32c_impls[crc32c_nimpls++] = (weir_crc32c_impl_t){"sse4.2", crc32c_sse42};
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq") &&
            __builtin_cpu_supports("pclmul")) {
            crc32c_build_fold_constants();
            crc32c_impls[crc32c_nimpls++] =
                (weir_crc32c_impl_t){"avx512-vpclmulqdq", crc32c_vpclmul};
        }
    }
#endif
}

size_t
weir_crc32c_impls(const weir_crc32c_impl_t **impls)
{
    pthread_once(&crc32c_once, crc32c_init);
    *impls = crc32c_impls;
    return crc32c_nimpls;
}

uint32_t
weir_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc32c_once, crc32c_init);
    return crc32c_impls[crc32c_nimpls - 1].fn(crc, buf, len);
}
