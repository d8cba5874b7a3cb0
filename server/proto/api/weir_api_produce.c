/*
 * weir_api_produce.c: Produce (ApiKey 0), versions 0-7.
 *
 * The whole request is parsed before anything is appended, so a malformed
 * request appends nothing.  Each partition's batches are validated and
 * appended all-or-nothing by the partition log.  acks=0 gets no response at
 * all; acks=-1 with weir.produce.acks.all.fsync waits for the group-commit
 * fsync of every partition written.  Each topic needs WRITE
 * (TOPIC_AUTHORIZATION_FAILED otherwise); the request counts against the
 * principal's produce quota, whose throttle time the response carries while
 * the connection is muted for it.  Validation and append of each partition
 * are the shared produce path's (proto/weir_produce_path.h), which the REST
 * proxy uses too.
 */
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_produce_path.h"

typedef struct weir_produce_part_s {
    int32_t topic_idx;     /* index into the request's topics */
    int32_t partition;
    weir_str_t records;
    weir_kerr_t err;
    int64_t base_offset;
    int64_t log_append_time;
    int64_t log_start_offset;
} weir_produce_part_t;

typedef struct weir_produce_s {
    weir_req_t *req;
    weir_str_t *topics;
    int32_t *topic_nparts;
    int32_t ntopics;
    weir_produce_part_t *parts;
    int32_t nparts;
    int pending_syncs;
    int32_t throttle_ms;   /* produce quota (governance) */
} weir_produce_t;

static void
weir_produce_free(weir_produce_t *pr)
{
    free(pr->topics);
    free(pr->topic_nparts);
    free(pr->parts);
    free(pr);
}

static void
weir_produce_respond(weir_produce_t *pr)
{
    weir_req_t *req = pr->req;
    int16_t v = req->ApiVersion;
    weir_msg_t *resp = weir_resp_new(req, 64 + (size_t)pr->nparts * 40);
    weir_wbuf_t *w = &resp->buf;
    int32_t k = 0;

    weir_wr_array(w, pr->ntopics);
    for (int32_t t = 0; t < pr->ntopics; t++) {
        weir_wr_kstr(w, pr->topics[t]);
        weir_wr_array(w, pr->topic_nparts[t]);
        for (int32_t i = 0; i < pr->topic_nparts[t]; i++, k++) {
            weir_produce_part_t *p = &pr->parts[k];
            weir_wr_i32(w, p->partition);
            weir_wr_i16(w, (int16_t)p->err);
            weir_wr_i64(w, p->err ? -1 : p->base_offset);
            if (v >= 2)
                weir_wr_i64(w, p->err ? -1 : p->log_append_time);
            if (v >= 5)
                weir_wr_i64(w, p->log_start_offset);
        }
    }
    if (v >= 1)
        weir_wr_i32(w, pr->throttle_ms); /* ThrottleTimeMs */
    weir_req_throttle(req, pr->throttle_ms);
    weir_req_respond(req, resp);
    weir_produce_free(pr);
}

typedef struct weir_produce_sync_s {
    weir_produce_t *pr;
    int32_t part_idx;
} weir_produce_sync_t;

/* One pending fsync finished; answer once all have. */
static void
weir_produce_sync_done(weir_produce_t *pr)
{
    if (--pr->pending_syncs > 0)
        return;
    if (pr->req->conn) {
        weir_produce_respond(pr);
    } else {
        /* The client went away while we waited for the disk. */
        weir_req_free(pr->req);
        weir_produce_free(pr);
    }
}

static void
weir_produce_on_sync(void *arg, int status)
{
    weir_produce_sync_t *ps = arg;
    weir_produce_t *pr = ps->pr;

    if (status != 0)
        pr->parts[ps->part_idx].err = WEIR_KERR_KAFKA_STORAGE_ERROR;
    free(ps);
    weir_produce_sync_done(pr);
}

/* One partition of the request, through the shared produce path. */
static weir_kerr_t
weir_produce_append(weir_req_t *req, weir_produce_part_t *p, weir_str_t topic)
{
    weir_produce_result_t res;
    weir_kerr_t err;

    if (p->records.len <= 0) {
        /* as before the shared path: the start offset still answered */
        weir_partition_t *part = weir_broker_partition(req->brk, topic, p->partition);
        if (!part)
            return WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        p->log_start_offset = weir_plog_start_offset(part->log);
        return WEIR_KERR_CORRUPT_MESSAGE;
    }
    err = weir_produce_path_append(req->brk, req->conn, topic, p->partition,
                                   (uint8_t *)p->records.ptr, (size_t)p->records.len, &res);
    p->log_start_offset = res.log_start_offset;
    if (err)
        return err;
    p->base_offset = res.base_offset;
    p->log_append_time = res.log_append_time;
    return WEIR_KERR_NONE;
}

int
weir_api_Produce(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_produce_t *pr = weir_calloc(1, sizeof(*pr));
    weir_str_t txn_id = WEIR_STR_NULL;
    int16_t acks;
    weir_kerr_t common = WEIR_KERR_NONE;
    int32_t cap = 0;
    bool *denied = NULL;

    pr->req = req;
    if (req->ApiVersion >= 3)
        txn_id = weir_rd_str(rd);
    acks = weir_rd_i16(rd);
    (void)weir_rd_i32(rd); /* TimeoutMs */
    pr->ntopics = weir_rd_array(rd, 6);
    if (pr->ntopics > 0) {
        pr->topics = weir_calloc((size_t)pr->ntopics, sizeof(*pr->topics));
        pr->topic_nparts = weir_calloc((size_t)pr->ntopics, sizeof(*pr->topic_nparts));
    }
    for (int32_t t = 0; t < pr->ntopics && !rd->err; t++) {
        int32_t n;
        pr->topics[t] = weir_rd_str(rd);
        n = weir_rd_array(rd, 8);
        pr->topic_nparts[t] = n < 0 ? 0 : n;
        for (int32_t i = 0; i < n && !rd->err; i++) {
            weir_produce_part_t *p;
            if (pr->nparts == cap) {
                cap = cap ? cap * 2 : 8;
                pr->parts = weir_realloc(pr->parts, (size_t)cap * sizeof(*pr->parts));
            }
            p = &pr->parts[pr->nparts++];
            memset(p, 0, sizeof(*p));
            p->topic_idx = t;
            p->partition = weir_rd_i32(rd);
            p->records = weir_rd_bytes(rd);
            p->base_offset = -1;
            p->log_append_time = -1;
            p->log_start_offset = -1;
        }
    }
    if (rd->err) {
        weir_produce_free(pr);
        return -1;
    }

    if (acks != 0 && acks != 1 && acks != -1)
        common = WEIR_KERR_INVALID_REQUIRED_ACKS;
    else if (txn_id.len >= 0)
        common = WEIR_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED; /* no transactions yet */
    if (!common && pr->ntopics > 0) {
        /* WRITE on each topic, decided once per topic (governance). */
        denied = weir_calloc((size_t)pr->ntopics, sizeof(*denied));
        for (int32_t t = 0; t < pr->ntopics; t++)
            denied[t] =
                !weir_req_allowed(req, WEIR_ACL_RES_TOPIC, pr->topics[t], WEIR_ACL_OP_WRITE);
    }
    for (int32_t k = 0; k < pr->nparts; k++) {
        weir_produce_part_t *p = &pr->parts[k];
        if (common)
            p->err = common;
        else if (denied && denied[p->topic_idx])
            p->err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
        else
            p->err = weir_produce_append(req, p, pr->topics[p->topic_idx]);
    }
    free(denied);
    /* Kafka records the whole request against the produce quota. */
    pr->throttle_ms = weir_req_quota_produce(req, (int64_t)req->frame_len);

    if (acks == 0) {
        weir_req_throttle(req, pr->throttle_ms);
        weir_produce_free(pr);
        weir_req_no_response(req);
        return 0;
    }
    if (acks == -1 && req->brk->conf->acks_all_fsync) {
        /* A guard reference keeps the count above zero while syncs are
         * started, in case one completes at once. */
        pr->pending_syncs = 1;
        for (int32_t k = 0; k < pr->nparts; k++) {
            weir_produce_part_t *p = &pr->parts[k];
            weir_partition_t *part;
            weir_produce_sync_t *ps;
            if (p->err)
                continue;
            part = weir_broker_partition(req->brk, pr->topics[p->topic_idx], p->partition);
            ps = weir_malloc(sizeof(*ps));
            ps->pr = pr;
            ps->part_idx = k;
            pr->pending_syncs++;
            weir_plog_sync(part->log, weir_produce_on_sync, ps);
        }
        /* Drop the guard reference: answers now if no sync is pending. */
        weir_produce_sync_done(pr);
        return 0;
    }
    weir_produce_respond(pr);
    return 0;
}
