/*
 * weir_group_map.h: a hash map from byte-string keys to pointers, used by the
 * group coordinator for groups (by group id), members (by member id), static
 * members (by group.instance.id) and committed offsets (by topic and
 * partition).
 *
 * Keys are chosen by clients (group ids, topic names), so buckets are picked
 * with SipHash-2-4 under a random per-process key: a client cannot make
 * every key collide.  The map does not own keys or values: a key's bytes
 * must stay valid while its entry exists (normally they live in the value).
 */
#ifndef WEIR_GROUP_MAP_H
#define WEIR_GROUP_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_gmap_ent_s {
    struct weir_gmap_ent_s *next;
    uint64_t hash;
    const void *key;
    size_t klen;
    void *val;
} weir_gmap_ent_t;

typedef struct weir_gmap_s {
    weir_gmap_ent_t **buckets;
    size_t nbuckets; /* a power of two, or 0 before the first insert */
    size_t count;
} weir_gmap_t;

/* Iteration state.  While iterating, only the entry last returned may be
 * deleted, and nothing may be inserted. */
typedef struct weir_gmap_iter_s {
    const weir_gmap_t *map;
    size_t bucket;
    weir_gmap_ent_t *next;
} weir_gmap_iter_t;

/** Frees the map's own memory (not keys or values) and empties it. */
void weir_gmap_free(weir_gmap_t *m);

/** The value stored under key, or NULL. */
void *weir_gmap_get(const weir_gmap_t *m, const void *key, size_t klen);

/**
 * Stores val under key, replacing (and returning) any previous value.
 * key must stay valid while the entry exists.
 */
void *weir_gmap_put(weir_gmap_t *m, const void *key, size_t klen, void *val);

/** Removes key; returns its value, or NULL if it was absent. */
void *weir_gmap_del(weir_gmap_t *m, const void *key, size_t klen);

/** Starts an iteration (order unspecified). */
void weir_gmap_iter_init(weir_gmap_iter_t *it, const weir_gmap_t *m);

/** The next value, or NULL at the end. */
void *weir_gmap_iter_next(weir_gmap_iter_t *it);

/** SipHash-2-4 of data under the random process key. */
uint64_t weir_gmap_hash(const void *data, size_t len);

/** SipHash-2-4 of data under the key (k0, k1) (little-endian key halves). */
uint64_t weir_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len);

#endif
