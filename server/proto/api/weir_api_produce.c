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
 * the connection is muted for it.
 */
#include <stdio.h>
#include <strings.h>

#include "weir_api.h"
#include "weir_avro_validate.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_metrics.h"
#include "weir_records.h"
#include "weir_topic_config.h"

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

/* Whether topic override key is "true". */
static bool
weir_produce_flag(const weir_topic_t *t, const char *key)
{
    const char *v = weir_kvlist_get(&t->configs, key);

    return v && strcasecmp(v, "true") == 0;
}

/* Whether b is framed (magic 0) with schema id id (known registered). */
static bool
weir_produce_same_id(weir_str_t b, int32_t id)
{
    return id > 0 && b.len >= 5 && b.ptr[0] == 0 &&
           (int32_t)weir_be32((const uint8_t *)b.ptr + 1) == id;
}

/* Broker-side schema validation (topic configs confluent.key/value.schema.
 * validation, weir.value.schema.validation.payload): every record of every
 * batch in p must carry a registered id under <topic>-key / <topic>-value
 * (and with payload, an Avro value that decodes).  Runs before anything of
 * the partition's data is appended, so a refused batch leaves the log as it
 * was.  Produce v0-7 have no record_errors: the message naming the record
 * index is logged. */
static weir_kerr_t
weir_produce_validate(weir_req_t *req, const weir_topic_t *t, weir_str_t topic,
                      const weir_produce_part_t *p)
{
    bool vkey = weir_produce_flag(t, "confluent.key.schema.validation");
    bool vval = weir_produce_flag(t, "confluent.value.schema.validation");
    bool payload = vval && weir_produce_flag(t, "weir.value.schema.validation.payload");
    const uint8_t *b = (const uint8_t *)p->records.ptr;
    size_t len = (size_t)p->records.len, off = 0;
    char ksubj[300], vsubj[300], reason[512];
    int64_t index = 0;
    /* the last id found registered for keys / values: the registry cannot
     * change during this call, so the next record with the same id passes
     * the id check without asking again (payload checks still run) */
    int32_t kid = 0, vid = 0;

    if (!vkey && !vval)
        return WEIR_KERR_NONE;
    if (!req->brk->schema_validator)
        return WEIR_KERR_INVALID_RECORD; /* validation asked for and impossible: refuse */
    snprintf(ksubj, sizeof(ksubj), "%.*s-key", topic.len, topic.ptr);
    snprintf(vsubj, sizeof(vsubj), "%.*s-value", topic.len, topic.ptr);
    while (off + WEIR_BATCH_LOG_OVERHEAD <= len) {
        int32_t blen = (int32_t)weir_be32(b + off + WEIR_BATCH_OFF_LENGTH);
        size_t total;
        weir_record_iter_t it;
        weir_record_t rec;
        bool control;

        if (blen < 0 || (size_t)blen > len - off - WEIR_BATCH_LOG_OVERHEAD)
            return WEIR_KERR_CORRUPT_MESSAGE;
        total = WEIR_BATCH_LOG_OVERHEAD + (size_t)blen;
        if (weir_record_iter_init(&it, b + off, total, WEIR_RECORDS_SCAN_MAX_DECOMPRESSED) != 0)
            return WEIR_KERR_CORRUPT_MESSAGE;
        control = (it.hdr.attributes & WEIR_BATCH_ATTR_CONTROL) != 0;
        while (!control && weir_record_iter_next(&it, &rec)) {
            weir_sv_result_t r = WEIR_SV_OK;
            const char *what = "key";
            if (vkey && !weir_produce_same_id(rec.key, kid))
                r = weir_schema_validate(req->brk->schema_validator, ksubj, rec.key.ptr,
                                         rec.key.len, false, &kid, reason, sizeof(reason));
            if (r == WEIR_SV_OK && vval && (payload || !weir_produce_same_id(rec.value, vid))) {
                what = "value";
                r = weir_schema_validate(req->brk->schema_validator, vsubj, rec.value.ptr,
                                         rec.value.len, payload, &vid, reason, sizeof(reason));
            }
            if (r != WEIR_SV_OK) {
                WEIR_LOG(WEIR_LOG_WARN, "produce_schema_invalid", "conn=%llu peer=%s topic=%.*s "
                         "partition=%d error=INVALID_RECORD message=\"record %lld of the batch "
                         "(offset delta %lld): %s %s\"", (unsigned long long)req->conn->id,
                         req->conn->peer, topic.len, topic.ptr, p->partition, (long long)index,
                         (long long)(rec.offset - it.hdr.base_offset), what, reason);
                weir_record_iter_free(&it);
                return WEIR_KERR_INVALID_RECORD;
            }
            index++;
        }
        if (!control && it.err) {
            weir_record_iter_free(&it);
            return WEIR_KERR_CORRUPT_MESSAGE;
        }
        weir_record_iter_free(&it);
        off += total;
    }
    return WEIR_KERR_NONE;
}

static weir_kerr_t
weir_produce_append(weir_req_t *req, weir_produce_part_t *p, weir_str_t topic)
{
    weir_partition_t *part = weir_broker_partition(req->brk, topic, p->partition);
    weir_append_result_t res;
    weir_kerr_t err;

    if (!part)
        return WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    p->log_start_offset = weir_plog_start_offset(part->log);
    if (p->records.len <= 0)
        return WEIR_KERR_CORRUPT_MESSAGE;
    err = weir_produce_validate(req, part->topic, topic, p);
    if (err)
        return err;
    err = weir_plog_append(part->log, (uint8_t *)p->records.ptr, (size_t)p->records.len,
                           weir_wall_ms(), &res);
    if (err) {
        WEIR_LOG(WEIR_LOG_WARN, "produce_rejected", "conn=%llu peer=%s topic=%.*s partition=%d "
                 "bytes=%d error=%s", (unsigned long long)req->conn->id, req->conn->peer,
                 topic.len, topic.ptr, p->partition, p->records.len, weir_kerr_name(err));
        return err;
    }
    p->base_offset = res.base_offset;
    p->log_append_time = res.log_append_time;
    p->log_start_offset = weir_plog_start_offset(part->log);
    if (!res.duplicate) {
        part->topic->bytes_in += (uint64_t)p->records.len;
        part->topic->records_in +=
            weir_metrics_batch_records((const uint8_t *)p->records.ptr, (size_t)p->records.len);
        weir_broker_notify_append(part, p->records.len);
    }
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
