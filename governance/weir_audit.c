/*
 * weir_audit.c: audit row hashing (OpenSSL EVP SHA-256 over the canonical
 * encoding), chain verification, and the denial rate limiter (a bounded
 * open-addressing table of recent keys, emptied when full).
 */
#include "weir_audit.h"

#include <inttypes.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "weir_common.h"

#define WEIR_AUDIT_PREFIX "weir-audit-v1"

void
weir_audit_genesis(char out[WEIR_AUDIT_HASH_HEX])
{
    memset(out, '0', WEIR_AUDIT_HASH_HEX - 1);
    out[WEIR_AUDIT_HASH_HEX - 1] = '\0';
}

static int
weir_audit_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int
weir_audit_unhex(const char *hex, uint8_t out[32])
{
    if (!hex || strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = weir_audit_hexval(hex[2 * i]), lo = weir_audit_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int
weir_audit_update_str(EVP_MD_CTX *ctx, const char *s)
{
    char len[32];
    size_t n = s ? strlen(s) : 0;
    int k = snprintf(len, sizeof(len), "\n%zu:", n);

    return EVP_DigestUpdate(ctx, len, (size_t)k) == 1 &&
                   (n == 0 || EVP_DigestUpdate(ctx, s, n) == 1)
               ? 0
               : -1;
}

int
weir_audit_hash(const char *prev_hex, const weir_audit_row_t *row, char out[WEIR_AUDIT_HASH_HEX])
{
    static const char hexd[] = "0123456789abcdef";
    uint8_t prev[32], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char nums[64];
    EVP_MD_CTX *ctx;
    int ok, k;

    if (weir_audit_unhex(prev_hex, prev) != 0)
        return -1;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -1;
    k = snprintf(nums, sizeof(nums), "\n%" PRId64 "\n%" PRId64, row->id, row->ts_ms);
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, prev, sizeof(prev)) == 1 &&
         EVP_DigestUpdate(ctx, WEIR_AUDIT_PREFIX, strlen(WEIR_AUDIT_PREFIX)) == 1 &&
         EVP_DigestUpdate(ctx, nums, (size_t)k) == 1 &&
         weir_audit_update_str(ctx, row->principal) == 0 &&
         weir_audit_update_str(ctx, row->action) == 0 &&
         weir_audit_update_str(ctx, row->target) == 0 &&
         weir_audit_update_str(ctx, row->outcome) == 0 &&
         weir_audit_update_str(ctx, row->detail) == 0 &&
         EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    for (unsigned int i = 0; i < 32; i++) {
        out[2 * i] = hexd[md[i] >> 4];
        out[2 * i + 1] = hexd[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

/* ------------------------------------------------------------------ */
/* Verification                                                       */

void
weir_audit_verifier_init(weir_audit_verifier_t *v)
{
    memset(v, 0, sizeof(*v));
    weir_audit_genesis(v->prev);
    v->res.ok = true;
}

static bool
weir_audit_fail(weir_audit_verifier_t *v, int64_t id, const char *why)
{
    v->res.ok = false;
    v->res.bad_id = id;
    snprintf(v->res.reason, sizeof(v->res.reason), "%s", why);
    return false;
}

bool
weir_audit_verifier_step(weir_audit_verifier_t *v, const weir_audit_row_t *row,
                         const char *stored_prev, const char *stored_hash)
{
    char h[WEIR_AUDIT_HASH_HEX], why[200];

    if (!v->res.ok)
        return false;
    v->res.rows++;
    if (row->id != v->last_id + 1) {
        snprintf(why, sizeof(why), "row %" PRId64 " follows row %" PRId64 ": rows are missing",
                 row->id, v->last_id);
        return weir_audit_fail(v, row->id, why);
    }
    if (!stored_prev || strcmp(stored_prev, v->prev) != 0)
        return weir_audit_fail(v, row->id, "its previous hash is not the hash of the row "
                                           "before it (a row was changed or removed)");
    if (weir_audit_hash(v->prev, row, h) != 0 || !stored_hash || strcmp(h, stored_hash) != 0)
        return weir_audit_fail(v, row->id, "its content does not match its hash (the row was "
                                           "changed)");
    memcpy(v->prev, h, sizeof(h));
    v->last_id = row->id;
    return true;
}

bool
weir_audit_verifier_finish(weir_audit_verifier_t *v, int64_t head_id, const char *head_hash,
                           weir_audit_verify_t *out)
{
    if (v->res.ok && (head_id != v->last_id || !head_hash || strcmp(head_hash, v->prev) != 0)) {
        char why[200];
        snprintf(why, sizeof(why), "the chain head records row %" PRId64 " but the log ends at "
                 "row %" PRId64 " or with another hash (rows were removed or changed)",
                 head_id, v->last_id);
        weir_audit_fail(v, v->last_id + 1, why);
    }
    *out = v->res;
    return v->res.ok;
}

/* ------------------------------------------------------------------ */
/* Denial rate limiter                                                */

#define WEIR_AUDIT_LIMITER_SLOTS 4096

typedef struct weir_audit_key_s {
    char *key;
    size_t len;
    uint32_t hash;
    int64_t last_ms;
    int64_t suppressed;
} weir_audit_key_t;

struct weir_audit_limiter_s {
    int64_t interval_ms;
    int burst;
    int64_t second;       /* the second the burst count is for */
    int in_second;
    int64_t dropped;
    weir_audit_key_t slots[WEIR_AUDIT_LIMITER_SLOTS];
    size_t used;
};

weir_audit_limiter_t *
weir_audit_limiter_new(int64_t interval_ms, int burst_per_sec)
{
    weir_audit_limiter_t *l = weir_calloc(1, sizeof(*l));

    l->interval_ms = interval_ms;
    l->burst = burst_per_sec;
    l->second = -1;
    return l;
}

static void
weir_audit_limiter_clear(weir_audit_limiter_t *l)
{
    for (size_t i = 0; i < WEIR_AUDIT_LIMITER_SLOTS; i++) {
        free(l->slots[i].key);
        memset(&l->slots[i], 0, sizeof(l->slots[i]));
    }
    l->used = 0;
}

void
weir_audit_limiter_free(weir_audit_limiter_t *l)
{
    if (!l)
        return;
    weir_audit_limiter_clear(l);
    free(l);
}

bool
weir_audit_limiter_admit(weir_audit_limiter_t *l, const char *key, size_t keylen, int64_t now_ms,
                         int64_t *suppressed)
{
    uint32_t h = 2166136261u;
    weir_audit_key_t *s;
    size_t i;

    *suppressed = 0;
    for (size_t k = 0; k < keylen; k++) {
        h ^= (uint8_t)key[k];
        h *= 16777619u;
    }
    for (i = h & (WEIR_AUDIT_LIMITER_SLOTS - 1);; i = (i + 1) & (WEIR_AUDIT_LIMITER_SLOTS - 1)) {
        s = &l->slots[i];
        if (!s->key || (s->hash == h && s->len == keylen && memcmp(s->key, key, keylen) == 0))
            break;
    }
    if (s->key && now_ms - s->last_ms < l->interval_ms) {
        s->suppressed++;
        return false;
    }
    /* A record is due for this key: within the global burst? */
    if (now_ms / 1000 != l->second) {
        l->second = now_ms / 1000;
        l->in_second = 0;
    }
    if (l->in_second >= l->burst) {
        l->dropped++;
        return false;
    }
    l->in_second++;
    if (!s->key) {
        if (l->used * 4 >= WEIR_AUDIT_LIMITER_SLOTS * 3) {
            /* Full: forget every key (each gets a record again). */
            weir_audit_limiter_clear(l);
            for (i = h & (WEIR_AUDIT_LIMITER_SLOTS - 1); l->slots[i].key;
                 i = (i + 1) & (WEIR_AUDIT_LIMITER_SLOTS - 1))
                ;
            s = &l->slots[i];
        }
        s->key = weir_strndup(key, keylen);
        s->len = keylen;
        s->hash = h;
        l->used++;
    }
    *suppressed = s->suppressed;
    s->suppressed = 0;
    s->last_ms = now_ms;
    return true;
}

int64_t
weir_audit_limiter_take_dropped(weir_audit_limiter_t *l)
{
    int64_t d = l->dropped;

    l->dropped = 0;
    return d;
}
