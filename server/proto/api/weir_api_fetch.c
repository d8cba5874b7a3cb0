/*
 * weir_api_fetch.c: Fetch (ApiKey 1), versions 0-11.
 *
 * Record batches go out as file ranges (sendfile on plaintext).  When fewer
 * than MinBytes are available the request waits, up to MaxWaitMs, on the
 * partitions it reads: an append that may satisfy it schedules the answer
 * for the next loop iteration (no polling, no re-entrancy into the append
 * path).  Only this connection waits; others are unaffected.  Fetch sessions
 * (KIP-227) are not kept: session id 0 answers every full fetch.  Each
 * topic needs READ (TOPIC_AUTHORIZATION_FAILED otherwise); a response over
 * the principal's fetch quota goes out empty with the throttle time, and
 * the connection is muted for it (Kafka's behaviour).
 */
#include <stdio.h>

#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_metrics.h"

typedef struct weir_fetch_s weir_fetch_t;

typedef struct weir_fetch_part_s {
    int32_t topic_idx;
    int32_t partition;
    int64_t fetch_offset;
    int32_t max_bytes;
    /* Results of the last collection. */
    weir_kerr_t err;
    int64_t high_watermark;
    int64_t log_start_offset;
    weir_slice_t slice;
    /* Waiting. */
    weir_waiter_t waiter;
    weir_fetch_t *fetch;
} weir_fetch_part_t;

struct weir_fetch_s {
    weir_req_t *req;
    weir_str_t *topics;
    int32_t *topic_nparts;
    int32_t ntopics;
    weir_fetch_part_t *parts;
    int32_t nparts;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;
    weir_kerr_t err;      /* top-level ErrorCode (v7+) */
    bool *denied;         /* per topic: READ not granted (governance) */
    int64_t arrived;      /* bytes appended while waiting */
    bool waiting;
    uv_timer_t timer;
};

static void
weir_fetch_free(weir_fetch_t *f)
{
    for (int32_t i = 0; i < f->nparts; i++)
        weir_slice_release(&f->parts[i].slice);
    free(f->topics);
    free(f->topic_nparts);
    free(f->parts);
    free(f->denied);
    free(f);
}

static void
weir_fetch_on_timer_closed(uv_handle_t *h)
{
    weir_fetch_free(h->data);
}

/* Reads what each partition has now.  Returns the record bytes found and
 * whether any partition answered an error. */
static int64_t
weir_fetch_collect(weir_fetch_t *f, bool *any_error)
{
    weir_broker_t *brk = f->req->brk;
    int64_t total = 0;

    *any_error = f->err != WEIR_KERR_NONE;
    for (int32_t i = 0; i < f->nparts; i++) {
        weir_fetch_part_t *p = &f->parts[i];
        weir_partition_t *part = weir_broker_partition(brk, f->topics[p->topic_idx], p->partition);
        int64_t budget = (int64_t)f->max_bytes - total;

        weir_slice_release(&p->slice);
        p->high_watermark = -1;
        p->log_start_offset = -1;
        if (f->err) {
            p->err = f->err;
            continue;
        }
        if (f->denied && f->denied[p->topic_idx]) {
            p->err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
            *any_error = true;
            continue;
        }
        if (!part) {
            p->err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            *any_error = true;
            continue;
        }
        p->high_watermark = weir_plog_end_offset(part->log);
        p->log_start_offset = weir_plog_start_offset(part->log);
        if (p->max_bytes <= 0 || budget <= 0) {
            p->err = WEIR_KERR_NONE;
            continue;
        }
        /* KIP-74: the first batch of the first non-empty partition is
         * returned whole even if it is larger than the limits. */
        p->err = weir_plog_read(part->log, p->fetch_offset, WEIR_MIN((int64_t)p->max_bytes, budget),
                                total == 0, &p->slice);
        if (p->err) {
            *any_error = true;
            continue;
        }
        total += p->slice.len;
    }
    return total;
}

static void
weir_fetch_respond(weir_fetch_t *f)
{
    weir_req_t *req = f->req;
    int16_t v = req->ApiVersion;
    weir_msg_t *resp = weir_resp_new(req, 128 + (size_t)f->nparts * 64);
    weir_wbuf_t *w = &resp->buf;
    int32_t k = 0, throttle_ms;
    int64_t bytes = 0;

    /* Fetch quota: over it, Kafka answers with no data at all and the
     * throttle time (the bytes are not counted then). */
    for (int32_t i = 0; i < f->nparts; i++)
        bytes += (int64_t)f->parts[i].slice.len;
    throttle_ms = weir_req_quota_fetch(req, bytes);
    if (v >= 1)
        weir_wr_i32(w, throttle_ms); /* ThrottleTimeMs */
    if (v >= 7) {
        weir_wr_i16(w, (int16_t)f->err);
        weir_wr_i32(w, 0); /* SessionId: no session kept */
    }
    weir_req_throttle(req, throttle_ms);
    if (throttle_ms > 0) {
        for (int32_t i = 0; i < f->nparts; i++)
            weir_slice_release(&f->parts[i].slice);
        weir_wr_array(w, 0);
        weir_req_respond(req, resp);
        return;
    }
    weir_wr_array(w, f->ntopics);
    for (int32_t t = 0; t < f->ntopics; t++) {
        weir_wr_kstr(w, f->topics[t]);
        weir_wr_array(w, f->topic_nparts[t]);
        for (int32_t i = 0; i < f->topic_nparts[t]; i++, k++) {
            weir_fetch_part_t *p = &f->parts[k];
            weir_wr_i32(w, p->partition);
            weir_wr_i16(w, (int16_t)p->err);
            weir_wr_i64(w, p->high_watermark);
            if (v >= 4) {
                weir_wr_i64(w, p->high_watermark); /* LastStableOffset: no transactions */
                if (v >= 5)
                    weir_wr_i64(w, p->log_start_offset);
                weir_wr_array(w, -1); /* AbortedTransactions: null */
            }
            if (v >= 11)
                weir_wr_i32(w, -1); /* PreferredReadReplica */
            weir_wr_i32(w, (int32_t)p->slice.len);
            if (p->slice.len > 0) {
                weir_partition_t *part =
                    weir_broker_partition(req->brk, f->topics[p->topic_idx], p->partition);
                if (part) {
                    part->topic->bytes_out += (uint64_t)p->slice.len;
                    part->topic->records_out +=
                        weir_metrics_slice_records(&p->slice, p->fetch_offset);
                }
            }
            weir_msg_add_slice(resp, &p->slice);
        }
    }
    weir_req_respond(req, resp);
}

static void
weir_fetch_unlink(weir_fetch_t *f)
{
    for (int32_t i = 0; i < f->nparts; i++) {
        weir_waiter_t *w = &f->parts[i].waiter;
        if (w->next != w) {
            w->prev->next = w->next;
            w->next->prev = w->prev;
            w->prev = w->next = w;
        }
    }
}

/* The wait is over (enough data, timeout, or a partition went away). */
static void
weir_fetch_on_timer(uv_timer_t *timer)
{
    weir_fetch_t *f = timer->data;
    bool any_error;

    weir_fetch_unlink(f);
    f->waiting = false;
    f->req->cancel = NULL;
    weir_fetch_collect(f, &any_error);
    weir_fetch_respond(f);
    uv_close((uv_handle_t *)&f->timer, weir_fetch_on_timer_closed);
}

static void
weir_fetch_on_append(weir_waiter_t *w, int64_t bytes)
{
    weir_fetch_part_t *p = weir_container_of(w, weir_fetch_part_t, waiter);
    weir_fetch_t *f = p->fetch;

    if (bytes >= 0) {
        f->arrived += bytes;
        if (f->arrived < f->min_bytes)
            return;
    }
    /* Answer on the next loop iteration, outside the append path. */
    uv_timer_start(&f->timer, weir_fetch_on_timer, 0, 0);
}

/* The connection closed while the fetch waited. */
static void
weir_fetch_cancel(weir_req_t *req)
{
    weir_fetch_t *f = req->ctx;

    weir_fetch_unlink(f);
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, weir_fetch_on_timer_closed);
}

static void
weir_fetch_wait(weir_fetch_t *f)
{
    weir_broker_t *brk = f->req->brk;

    for (int32_t i = 0; i < f->nparts; i++) {
        weir_fetch_part_t *p = &f->parts[i];
        weir_partition_t *part;
        weir_waiter_t *w;
        bool dup = false;

        weir_slice_release(&p->slice);
        part = weir_broker_partition(brk, f->topics[p->topic_idx], p->partition);
        if (!part)
            continue;
        /* One waiter per partition and fetch, even if the client named the
         * partition twice. */
        for (w = part->waiters.next; w != &part->waiters; w = w->next)
            if (weir_container_of(w, weir_fetch_part_t, waiter)->fetch == f)
                dup = true;
        if (dup)
            continue;
        p->waiter.on_append = weir_fetch_on_append;
        p->waiter.next = &part->waiters;
        p->waiter.prev = part->waiters.prev;
        part->waiters.prev->next = &p->waiter;
        part->waiters.prev = &p->waiter;
    }
    uv_timer_init(brk->loop, &f->timer);
    f->timer.data = f;
    f->waiting = true;
    f->req->ctx = f;
    f->req->cancel = weir_fetch_cancel;
    uv_timer_start(&f->timer, weir_fetch_on_timer, (uint64_t)f->max_wait_ms, 0);
}

int
weir_api_Fetch(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_fetch_t *f = weir_calloc(1, sizeof(*f));
    int32_t cap = 0, session_id = 0;
    bool any_error;
    int64_t total;

    f->req = req;
    (void)weir_rd_i32(rd); /* ReplicaId */
    f->max_wait_ms = weir_rd_i32(rd);
    f->min_bytes = weir_rd_i32(rd);
    f->max_bytes = v >= 3 ? weir_rd_i32(rd) : INT32_MAX;
    if (v >= 4)
        (void)weir_rd_i8(rd); /* IsolationLevel: no transactions, both are the same */
    if (v >= 7) {
        session_id = weir_rd_i32(rd);
        (void)weir_rd_i32(rd); /* SessionEpoch */
    }
    f->ntopics = weir_rd_array(rd, 6);
    if (f->ntopics > 0) {
        f->topics = weir_calloc((size_t)f->ntopics, sizeof(*f->topics));
        f->topic_nparts = weir_calloc((size_t)f->ntopics, sizeof(*f->topic_nparts));
    }
    for (int32_t t = 0; t < f->ntopics && !rd->err; t++) {
        int32_t n;
        f->topics[t] = weir_rd_str(rd);
        n = weir_rd_array(rd, 16);
        f->topic_nparts[t] = n < 0 ? 0 : n;
        for (int32_t i = 0; i < n && !rd->err; i++) {
            weir_fetch_part_t *p;
            if (f->nparts == cap) {
                cap = cap ? cap * 2 : 8;
                f->parts = weir_realloc(f->parts, (size_t)cap * sizeof(*f->parts));
            }
            p = &f->parts[f->nparts++];
            memset(p, 0, sizeof(*p));
            p->fetch = f;
            p->topic_idx = t;
            p->waiter.next = p->waiter.prev = &p->waiter;
            p->partition = weir_rd_i32(rd);
            if (v >= 9)
                (void)weir_rd_i32(rd); /* CurrentLeaderEpoch */
            p->fetch_offset = weir_rd_i64(rd);
            if (v >= 5)
                (void)weir_rd_i64(rd); /* LogStartOffset (followers only) */
            p->max_bytes = weir_rd_i32(rd);
        }
    }
    if (v >= 7) {
        int32_t nforgotten = weir_rd_array(rd, 6);
        for (int32_t t = 0; t < nforgotten && !rd->err; t++) {
            int32_t n;
            (void)weir_rd_str(rd);
            n = weir_rd_array(rd, 4);
            for (int32_t i = 0; i < n && !rd->err; i++)
                (void)weir_rd_i32(rd);
        }
    }
    if (v >= 11)
        (void)weir_rd_str(rd); /* RackId */
    if (rd->err) {
        weir_fetch_free(f);
        return -1;
    }
    if (session_id != 0)
        f->err = WEIR_KERR_FETCH_SESSION_ID_NOT_FOUND;
    if (f->ntopics > 0) {
        /* READ on each topic, decided once per topic (governance). */
        f->denied = weir_calloc((size_t)f->ntopics, sizeof(*f->denied));
        for (int32_t t = 0; t < f->ntopics; t++)
            f->denied[t] = !weir_req_allowed(req, WEIR_ACL_RES_TOPIC, f->topics[t],
                                             WEIR_ACL_OP_READ);
    }
    if (f->max_bytes < 0)
        f->max_bytes = 0;

    total = weir_fetch_collect(f, &any_error);
    if (total >= f->min_bytes || f->max_wait_ms <= 0 || any_error || f->nparts == 0) {
        weir_fetch_respond(f);
        weir_fetch_free(f);
        return 0;
    }
    weir_fetch_wait(f);
    return 0;
}
