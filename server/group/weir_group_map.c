/*
 * weir_group_map.c: the coordinator's hash map (chained buckets, doubled
 * when the load passes 1) and its keyed hash, SipHash-2-4 (Aumasson and
 * Bernstein), written from the published description.
 */
#include "weir_group_map.h"

#include <string.h>
#include <sys/random.h>

#include "weir_common.h"

static uint64_t weir_gmap_k0, weir_gmap_k1;
static bool weir_gmap_keyed;

static void
weir_gmap_key_init(void)
{
    uint64_t k[2];

    if (weir_gmap_keyed)
        return;
    if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        k[0] = (uint64_t)weir_mono_us() * UINT64_C(0x9e3779b97f4a7c15);
        k[1] = (uint64_t)weir_wall_ms() ^ (uint64_t)(uintptr_t)&k;
    }
    weir_gmap_k0 = k[0];
    weir_gmap_k1 = k[1];
    weir_gmap_keyed = true;
}

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3)                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = ROTL64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = ROTL64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = ROTL64(v2, 32);                                                                       \
    } while (0)

static uint64_t
weir_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t
weir_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t v0, v1, v2, v3, m, last;
    size_t i, blocks = len / 8, left = len % 8;

    v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    v3 = k1 ^ UINT64_C(0x7465646279746573);
    for (i = 0; i < blocks; i++) {
        m = weir_le64(p + i * 8);
        v3 ^= m;
        SIPROUND(v0, v1, v2, v3);
        SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    /* Last block: the remaining bytes, little-endian, with the length in the
     * top byte. */
    last = (uint64_t)(len & 0xff) << 56;
    for (i = 0; i < left; i++)
        last |= (uint64_t)p[blocks * 8 + i] << (8 * i);
    v3 ^= last;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (i = 0; i < 4; i++)
        SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
weir_gmap_hash(const void *data, size_t len)
{
    weir_gmap_key_init();
    return weir_siphash24(weir_gmap_k0, weir_gmap_k1, data, len);
}

void
weir_gmap_free(weir_gmap_t *m)
{
    for (size_t b = 0; b < m->nbuckets; b++) {
        weir_gmap_ent_t *e = m->buckets[b], *n;
        for (; e; e = n) {
            n = e->next;
            free(e);
        }
    }
    free(m->buckets);
    memset(m, 0, sizeof(*m));
}

static weir_gmap_ent_t **
weir_gmap_slot(const weir_gmap_t *m, uint64_t h, const void *key, size_t klen)
{
    weir_gmap_ent_t **pp;

    if (m->nbuckets == 0)
        return NULL;
    for (pp = &m->buckets[h & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
        weir_gmap_ent_t *e = *pp;
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return pp;
    }
    return pp;
}

void *
weir_gmap_get(const weir_gmap_t *m, const void *key, size_t klen)
{
    weir_gmap_ent_t **pp;

    if (m->count == 0)
        return NULL;
    pp = weir_gmap_slot(m, weir_gmap_hash(key, klen), key, klen);
    return pp && *pp ? (*pp)->val : NULL;
}

static void
weir_gmap_grow(weir_gmap_t *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    weir_gmap_ent_t **b = weir_calloc(n, sizeof(*b));

    for (size_t i = 0; i < m->nbuckets; i++) {
        weir_gmap_ent_t *e = m->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void *
weir_gmap_put(weir_gmap_t *m, const void *key, size_t klen, void *val)
{
    uint64_t h = weir_gmap_hash(key, klen);
    weir_gmap_ent_t **pp, *e;

    if (m->count >= m->nbuckets)
        weir_gmap_grow(m);
    pp = weir_gmap_slot(m, h, key, klen);
    if (*pp) {
        void *old = (*pp)->val;
        (*pp)->val = val;
        (*pp)->key = key;
        return old;
    }
    e = weir_malloc(sizeof(*e));
    e->next = NULL;
    e->hash = h;
    e->key = key;
    e->klen = klen;
    e->val = val;
    *pp = e;
    m->count++;
    return NULL;
}

void *
weir_gmap_del(weir_gmap_t *m, const void *key, size_t klen)
{
    weir_gmap_ent_t **pp, *e;
    void *val;

    if (m->count == 0)
        return NULL;
    pp = weir_gmap_slot(m, weir_gmap_hash(key, klen), key, klen);
    if (!pp || !*pp)
        return NULL;
    e = *pp;
    *pp = e->next;
    val = e->val;
    free(e);
    m->count--;
    return val;
}

void
weir_gmap_iter_init(weir_gmap_iter_t *it, const weir_gmap_t *m)
{
    it->map = m;
    it->bucket = 0;
    it->next = NULL;
}

void *
weir_gmap_iter_next(weir_gmap_iter_t *it)
{
    const weir_gmap_t *m = it->map;
    weir_gmap_ent_t *e = it->next;

    while (!e) {
        if (it->bucket >= m->nbuckets)
            return NULL;
        e = m->buckets[it->bucket++];
    }
    /* Remember the successor now, so the caller may delete e. */
    it->next = e->next;
    return e->val;
}
