/*
 * weir_producer_state.c: the idempotent-producer table of one partition (a
 * small open-addressing hash map keyed by producer id) and Kafka's sequence
 * and epoch rules.
 */
#include "weir_producer_state.h"

#include <string.h>

#include "weir_buf.h"
#include "weir_common.h"

void
weir_pstate_init(weir_pstate_t *ps)
{
    memset(ps, 0, sizeof(*ps));
}

void
weir_pstate_free(weir_pstate_t *ps)
{
    free(ps->slots);
    memset(ps, 0, sizeof(*ps));
}

static size_t
pid_hash(int64_t pid)
{
    uint64_t x = (uint64_t)pid;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static weir_producer_t *
slot_for(const weir_pstate_t *ps, int64_t pid)
{
    size_t mask = ps->cap - 1;
    size_t i = pid_hash(pid) & mask;

    while (ps->slots[i].pid != -1 && ps->slots[i].pid != pid)
        i = (i + 1) & mask;
    return &ps->slots[i];
}

const weir_producer_t *
weir_pstate_find(const weir_pstate_t *ps, int64_t pid)
{
    const weir_producer_t *p;

    if (ps->cap == 0)
        return NULL;
    p = slot_for(ps, pid);
    return p->pid == pid ? p : NULL;
}

static void
pstate_grow(weir_pstate_t *ps)
{
    weir_producer_t *old = ps->slots;
    size_t old_cap = ps->cap;

    ps->cap = old_cap ? old_cap * 2 : 16;
    ps->slots = weir_malloc(ps->cap * sizeof(*ps->slots));
    for (size_t i = 0; i < ps->cap; i++)
        ps->slots[i].pid = -1;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].pid != -1)
            *slot_for(ps, old[i].pid) = old[i];
    free(old);
}

void
weir_pstate_put(weir_pstate_t *ps, const weir_producer_t *p)
{
    weir_producer_t *s;

    if ((ps->count + 1) * 4 > ps->cap * 3)
        pstate_grow(ps);
    s = slot_for(ps, p->pid);
    if (s->pid == -1)
        ps->count++;
    *s = *p;
}

size_t
weir_pstate_expire(weir_pstate_t *ps, int64_t expire_before_ms)
{
    size_t removed = 0;

    for (size_t i = 0; i < ps->cap; i++) {
        if (ps->slots[i].pid != -1 && ps->slots[i].last_ms < expire_before_ms) {
            ps->slots[i].pid = -1;
            removed++;
        }
    }
    if (removed > 0) {
        /* Linear probing cannot leave holes in a chain: re-insert all. */
        weir_producer_t *old = ps->slots;
        size_t cap = ps->cap;
        ps->slots = weir_malloc(cap * sizeof(*ps->slots));
        for (size_t i = 0; i < cap; i++)
            ps->slots[i].pid = -1;
        for (size_t i = 0; i < cap; i++)
            if (old[i].pid != -1)
                *slot_for(ps, old[i].pid) = old[i];
        ps->count -= removed;
        free(old);
    }
    return removed;
}

int32_t
weir_pstate_seq_add(int32_t seq, int32_t delta)
{
    if (seq > INT32_MAX - delta)
        return delta - (INT32_MAX - seq) - 1;
    return seq + delta;
}

static void
producer_push(weir_producer_t *p, const weir_batch_hdr_t *h, int64_t base_offset, int64_t max_ts)
{
    weir_pbatch_t *b;

    if (p->nbatches == WEIR_PRODUCER_CACHED_BATCHES) {
        memmove(&p->batches[0], &p->batches[1],
                (WEIR_PRODUCER_CACHED_BATCHES - 1) * sizeof(p->batches[0]));
        p->nbatches--;
    }
    b = &p->batches[p->nbatches++];
    b->first_seq = h->base_sequence;
    b->last_seq = weir_pstate_seq_add(h->base_sequence, h->last_offset_delta);
    b->first_offset = base_offset;
    b->timestamp = max_ts;
}

weir_kerr_t
weir_pstate_check(weir_producer_t *p, const weir_batch_hdr_t *h, int64_t base_offset,
                  int64_t max_ts, int64_t now_ms, const weir_pbatch_t **dup)
{
    int32_t last_seq = weir_pstate_seq_add(h->base_sequence, h->last_offset_delta);

    *dup = NULL;
    if (p->epoch >= 0 && h->producer_epoch < p->epoch)
        return WEIR_KERR_INVALID_PRODUCER_EPOCH;

    if (h->producer_epoch == p->epoch) {
        for (int i = 0; i < p->nbatches; i++) {
            if (p->batches[i].first_seq == h->base_sequence &&
                p->batches[i].last_seq == last_seq) {
                *dup = &p->batches[i];
                return WEIR_KERR_NONE;
            }
        }
        if (p->nbatches == 0) {
            if (h->base_sequence != 0)
                return WEIR_KERR_UNKNOWN_PRODUCER_ID;
        } else {
            int32_t cur = p->batches[p->nbatches - 1].last_seq;
            bool in_seq = (int64_t)h->base_sequence == (int64_t)cur + 1 ||
                          (h->base_sequence == 0 && cur == INT32_MAX);
            if (!in_seq)
                return WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        }
    } else {
        /* A new epoch (or the first batch of an unknown producer). */
        if (h->base_sequence != 0)
            return p->epoch >= 0 ? WEIR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER
                                 : WEIR_KERR_UNKNOWN_PRODUCER_ID;
        p->epoch = h->producer_epoch;
        p->nbatches = 0;
    }
    producer_push(p, h, base_offset, max_ts);
    p->last_ms = now_ms;
    return WEIR_KERR_NONE;
}

void
weir_pstate_apply(weir_pstate_t *ps, const weir_batch_hdr_t *h, int64_t now_ms)
{
    const weir_producer_t *cur;
    weir_producer_t p;

    if (h->producer_id < 0)
        return;
    cur = weir_pstate_find(ps, h->producer_id);
    if (cur) {
        p = *cur;
    } else {
        memset(&p, 0, sizeof(p));
        p.pid = h->producer_id;
        p.epoch = -1;
    }
    if (h->producer_epoch != p.epoch) {
        p.epoch = h->producer_epoch;
        p.nbatches = 0;
    }
    producer_push(&p, h, h->base_offset, h->max_timestamp);
    p.last_ms = h->max_timestamp >= 0 ? h->max_timestamp : now_ms;
    weir_pstate_put(ps, &p);
}

/* ------------------------------------------------------------------------
 * Snapshots
 * ------------------------------------------------------------------------ */

#define PSNAP_MAGIC "WPS1"
#define PSNAP_HDR 12
#define PSNAP_PRODUCER 19
#define PSNAP_BATCH 24

void
weir_pstate_encode(const weir_pstate_t *ps, uint8_t **out, size_t *len)
{
    weir_wbuf_t w;

    weir_wbuf_init(&w, PSNAP_HDR + ps->count * (PSNAP_PRODUCER + 2 * PSNAP_BATCH));
    weir_wr_raw(&w, PSNAP_MAGIC, 4);
    weir_wr_u32(&w, 0);
    weir_wr_i32(&w, (int32_t)ps->count);
    for (size_t i = 0; i < ps->cap; i++) {
        const weir_producer_t *p = &ps->slots[i];
        if (p->pid == -1)
            continue;
        weir_wr_i64(&w, p->pid);
        weir_wr_i16(&w, p->epoch);
        weir_wr_i64(&w, p->last_ms);
        weir_wr_i8(&w, (int8_t)p->nbatches);
        for (int k = 0; k < p->nbatches; k++) {
            weir_wr_i32(&w, p->batches[k].first_seq);
            weir_wr_i32(&w, p->batches[k].last_seq);
            weir_wr_i64(&w, p->batches[k].first_offset);
            weir_wr_i64(&w, p->batches[k].timestamp);
        }
    }
    weir_put_be32(w.data + 4, weir_crc32c(0, w.data + 8, w.len - 8));
    *out = w.data;
    *len = w.len;
}

int
weir_pstate_decode(weir_pstate_t *ps, const uint8_t *data, size_t len)
{
    weir_rbuf_t r;
    int32_t count;

    if (len < PSNAP_HDR || memcmp(data, PSNAP_MAGIC, 4) != 0 ||
        weir_be32(data + 4) != weir_crc32c(0, data + 8, len - 8))
        return WEIR_ECORRUPT;
    weir_rbuf_init(&r, data + 8, len - 8);
    count = weir_rd_i32(&r);
    if (count < 0 || (size_t)count > weir_rbuf_remaining(&r) / PSNAP_PRODUCER)
        return WEIR_ECORRUPT;
    for (int32_t i = 0; i < count && !r.err; i++) {
        weir_producer_t p;
        int8_t n;

        memset(&p, 0, sizeof(p));
        p.pid = weir_rd_i64(&r);
        p.epoch = weir_rd_i16(&r);
        p.last_ms = weir_rd_i64(&r);
        n = weir_rd_i8(&r);
        if (p.pid < 0 || n < 0 || n > WEIR_PRODUCER_CACHED_BATCHES ||
            weir_pstate_find(ps, p.pid) != NULL) {
            r.err = WEIR_ECORRUPT;
            break;
        }
        p.nbatches = (uint8_t)n;
        for (int k = 0; k < n; k++) {
            p.batches[k].first_seq = weir_rd_i32(&r);
            p.batches[k].last_seq = weir_rd_i32(&r);
            p.batches[k].first_offset = weir_rd_i64(&r);
            p.batches[k].timestamp = weir_rd_i64(&r);
        }
        if (!r.err)
            weir_pstate_put(ps, &p);
    }
    if (r.err || weir_rbuf_remaining(&r) != 0) {
        weir_pstate_free(ps);
        return WEIR_ECORRUPT;
    }
    return 0;
}
