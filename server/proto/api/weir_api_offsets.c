/*
 * weir_api_offsets.c: committed offsets - OffsetCommit (ApiKey 8) v0-7,
 * OffsetFetch (9) v0-5 and OffsetDelete (47) v0.
 *
 * Partitions of topics this broker does not have are answered
 * UNKNOWN_TOPIC_OR_PARTITION here (OffsetCommit, OffsetDelete); the rest is
 * the coordinator's.  OffsetCommit and OffsetDelete are answered once the
 * change is durable in weir.db; their requests are orphan-safe (the write
 * completes even if the client leaves, and the request is freed then).
 * OffsetFetch reads memory.  OffsetCommit v1's CommitTimestamp and v2-4's
 * RetentionTimeMs are read and ignored: retention is the broker's
 * offsets.retention.minutes, as from v5 on.  Governance, as in Kafka:
 * OffsetCommit needs READ on the group (else every partition answers
 * GROUP_AUTHORIZATION_FAILED) and READ on each topic; OffsetFetch DESCRIBE
 * on the group and on each topic named (topics not describable are left
 * out of an all-topics fetch); OffsetDelete DELETE on the group and READ on
 * each topic.
 */
#include <stdio.h>

#include "group/weir_group.h"
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"

typedef struct weir_oapi_s {
    weir_gwait_t w;
    weir_req_t *req;
    weir_str_t *topics;
    int32_t *topic_nparts;
    int32_t ntopics;
    weir_commit_part_t *parts;
    int32_t nparts;
} weir_oapi_t;

static void
weir_oapi_free(weir_oapi_t *ctx)
{
    weir_gwait_release(&ctx->w);
    free(ctx->topics);
    free(ctx->topic_nparts);
    free(ctx->parts);
    free(ctx);
}

static weir_commit_part_t *
weir_oapi_part(weir_oapi_t *ctx, int32_t *cap)
{
    weir_commit_part_t *p;

    if (ctx->nparts == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        ctx->parts = weir_realloc(ctx->parts, (size_t)*cap * sizeof(*ctx->parts));
    }
    p = &ctx->parts[ctx->nparts++];
    memset(p, 0, sizeof(*p));
    p->leader_epoch = -1;
    p->metadata = WEIR_STR_NULL;
    return p;
}

/* Reads the topic array shared by OffsetCommit and OffsetDelete. */
static void
weir_oapi_read_topics(weir_oapi_t *ctx, weir_rbuf_t *rd, bool commit, int16_t v, bool flex)
{
    int32_t cap = 0;

    ctx->ntopics = weir_rd_array(rd, flex ? 3 : 6);
    if (ctx->ntopics > 0) {
        ctx->topics = weir_calloc((size_t)ctx->ntopics, sizeof(*ctx->topics));
        ctx->topic_nparts = weir_calloc((size_t)ctx->ntopics, sizeof(*ctx->topic_nparts));
    }
    for (int32_t t = 0; t < ctx->ntopics && !rd->err; t++) {
        int32_t n;

        ctx->topics[t] = weir_rd_str(rd);
        /* Smallest partition: PartitionIndex, CommittedOffset and a one-byte
         * compact metadata string (commit), or PartitionIndex (delete). */
        n = weir_rd_array(rd, commit ? 13 : 4);
        ctx->topic_nparts[t] = n > 0 ? n : 0;
        for (int32_t i = 0; i < n && !rd->err; i++) {
            weir_commit_part_t *p = weir_oapi_part(ctx, &cap);

            p->topic = ctx->topics[t];
            p->partition = weir_rd_i32(rd);
            if (commit) {
                p->offset = weir_rd_i64(rd);
                if (v >= 6)
                    p->leader_epoch = weir_rd_i32(rd);
                if (v == 1)
                    (void)weir_rd_i64(rd); /* CommitTimestamp */
                p->metadata = weir_rd_str(rd);
            }
            weir_rd_tags(rd);
        }
        weir_rd_tags(rd);
    }
    if (ctx->ntopics < 0)
        ctx->ntopics = 0;
}

/* Topic/partition results, in request order (OffsetCommit and the body of
 * OffsetDelete). */
static void
weir_oapi_write_topics(weir_wbuf_t *b, const weir_oapi_t *ctx)
{
    int32_t k = 0;

    weir_wr_array(b, ctx->ntopics);
    for (int32_t t = 0; t < ctx->ntopics; t++) {
        weir_wr_kstr(b, ctx->topics[t].len >= 0 ? ctx->topics[t] : (weir_str_t){0, ""});
        weir_wr_array(b, ctx->topic_nparts[t]);
        for (int32_t i = 0; i < ctx->topic_nparts[t]; i++, k++) {
            weir_wr_i32(b, ctx->parts[k].partition);
            weir_wr_i16(b, (int16_t)ctx->parts[k].err);
            weir_wr_tags(b);
        }
        weir_wr_tags(b);
    }
}

/* Marks partitions of topics the principal may not READ (governance) and
 * partitions this broker does not have. */
static void
weir_oapi_check_topics(weir_oapi_t *ctx, weir_req_t *req)
{
    for (int32_t i = 0; i < ctx->nparts; i++) {
        weir_commit_part_t *p = &ctx->parts[i];
        if (!weir_req_allowed(req, WEIR_ACL_RES_TOPIC, p->topic, WEIR_ACL_OP_READ))
            p->err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
        else if (!weir_broker_partition(req->brk, p->topic, p->partition))
            p->err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
}

/* The answer is due; false (request freed) if the client went away. */
static bool
weir_oapi_detach(weir_oapi_t *ctx)
{
    weir_req_t *req = ctx->req;

    req->cancel = NULL;
    req->ctx = NULL;
    if (!req->conn) {
        weir_req_free(req);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* OffsetCommit                                                       */

static void
weir_commit_write(weir_req_t *req, const weir_oapi_t *ctx)
{
    weir_msg_t *resp = weir_resp_new(req, 64 + (size_t)ctx->nparts * 8 + (size_t)ctx->ntopics * 32);

    if (req->ApiVersion >= 3)
        weir_wr_i32(&resp->buf, 0); /* ThrottleTimeMs */
    weir_oapi_write_topics(&resp->buf, ctx);
    weir_wr_tags(&resp->buf);
    weir_req_respond(req, resp);
}

static void
weir_commit_done(weir_gwait_t *w)
{
    weir_oapi_t *ctx = w->opaque;
    weir_req_t *req = ctx->req;

    if (weir_oapi_detach(ctx))
        weir_commit_write(req, ctx);
    weir_oapi_free(ctx);
}

int
weir_api_OffsetCommit(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_coord_t *co = req->brk ? req->brk->coord : NULL;
    weir_str_t group_id, member_id = WEIR_STR_NULL, instance_id = WEIR_STR_NULL;
    int32_t generation = -1;
    weir_oapi_t *ctx = weir_calloc(1, sizeof(*ctx));

    ctx->req = req;
    ctx->w.done = weir_commit_done;
    ctx->w.opaque = ctx;
    group_id = weir_rd_str(rd);
    if (v >= 1) {
        generation = weir_rd_i32(rd);
        member_id = weir_rd_str(rd);
    }
    if (v >= 7)
        instance_id = weir_rd_str(rd);
    if (v >= 2 && v <= 4)
        (void)weir_rd_i64(rd); /* RetentionTimeMs */
    weir_oapi_read_topics(ctx, rd, true, v, req->flex);
    weir_rd_tags(rd);
    if (rd->err) {
        weir_oapi_free(ctx);
        return -1;
    }
    if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, group_id, WEIR_ACL_OP_READ)) {
        /* Kafka: every partition answers GROUP_AUTHORIZATION_FAILED. */
        for (int32_t i = 0; i < ctx->nparts; i++)
            ctx->parts[i].err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
        weir_commit_write(req, ctx);
        weir_oapi_free(ctx);
        return 0;
    }
    weir_oapi_check_topics(ctx, req);
    if (!co) {
        for (int32_t i = 0; i < ctx->nparts; i++)
            if (!ctx->parts[i].err)
                ctx->parts[i].err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
        weir_commit_write(req, ctx);
        weir_oapi_free(ctx);
        return 0;
    }
    weir_coord_commit(co, group_id, generation, member_id, instance_id, ctx->parts, ctx->nparts,
                      &ctx->w);
    return 0;
}

/* ------------------------------------------------------------------ */
/* OffsetFetch                                                        */

typedef struct weir_fetch_all_s {
    const weir_offset_t **v;
    size_t n, cap;
} weir_fetch_all_t;

static void
weir_fetch_collect(void *arg, const weir_offset_t *o)
{
    weir_fetch_all_t *fa = arg;

    if (fa->n == fa->cap) {
        fa->cap = fa->cap ? fa->cap * 2 : 16;
        fa->v = weir_realloc(fa->v, fa->cap * sizeof(*fa->v));
    }
    fa->v[fa->n++] = o;
}

static int
weir_offset_cmp(const void *a, const void *b)
{
    const weir_offset_t *x = *(const weir_offset_t *const *)a;
    const weir_offset_t *y = *(const weir_offset_t *const *)b;
    int c = strcmp(x->topic, y->topic);

    if (c)
        return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

static void
weir_fetch_write_part(weir_wbuf_t *b, int16_t v, int32_t partition, const weir_offset_t *o,
                      weir_kerr_t err)
{
    weir_wr_i32(b, partition);
    weir_wr_i64(b, o ? o->offset : -1);
    if (v >= 5)
        weir_wr_i32(b, o ? o->leader_epoch : -1);
    if (o)
        weir_wr_str(b, o->metadata, o->metadata_len);
    else
        weir_wr_cstr(b, "");
    weir_wr_i16(b, (int16_t)err);
    weir_wr_tags(b);
}

int
weir_api_OffsetFetch(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_coord_t *co = req->brk ? req->brk->coord : NULL;
    weir_str_t group_id;
    weir_group_t *g = NULL;
    weir_kerr_t err = WEIR_KERR_NONE;
    weir_msg_t *resp;
    weir_wbuf_t *b;
    int32_t ntopics;
    size_t topics_pos;

    group_id = weir_rd_str(rd);
    ntopics = weir_rd_array(rd, req->flex ? 2 : 6);
    if (ntopics < 0 && v < 2)
        rd->err = 1; /* null topics only from v2 on */
    /* Validate the whole request before answering: the topic array is
     * walked twice (here, then while writing). */
    {
        weir_rbuf_t scan = *rd;
        for (int32_t t = 0; t < ntopics && !scan.err; t++) {
            int32_t n;
            (void)weir_rd_str(&scan);
            n = weir_rd_array(&scan, 4);
            for (int32_t i = 0; i < n && !scan.err; i++)
                (void)weir_rd_i32(&scan);
            weir_rd_tags(&scan);
        }
        weir_rd_tags(&scan);
        if (scan.err || rd->err)
            return -1;
    }
    if (group_id.len < 0 || (group_id.len > 0 && memchr(group_id.ptr, '\0', (size_t)group_id.len)))
        err = WEIR_KERR_INVALID_GROUP_ID;
    else if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, group_id, WEIR_ACL_OP_DESCRIBE))
        err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
    else if (!co)
        err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    else
        g = weir_coord_group(co, group_id);

    resp = weir_resp_new(req, 256);
    b = &resp->buf;
    if (v >= 3)
        weir_wr_i32(b, 0); /* ThrottleTimeMs */
    if (ntopics < 0) {
        /* Every committed offset of the group, by topic. */
        weir_fetch_all_t fa = {0};
        size_t i = 0;
        int32_t nt = 0;

        if (g && !err)
            weir_group_offsets_foreach(g, weir_fetch_collect, &fa);
        if (fa.n > 1)
            qsort(fa.v, fa.n, sizeof(*fa.v), weir_offset_cmp);
        topics_pos = weir_wr_array_begin(b);
        while (i < fa.n) {
            size_t j = i, ppos;
            weir_str_t tn = {(int32_t)strlen(fa.v[i]->topic), fa.v[i]->topic};
            if (!weir_req_visible(req, WEIR_ACL_RES_TOPIC, tn, WEIR_ACL_OP_DESCRIBE)) {
                /* Left out: the principal may not see this topic. */
                while (j < fa.n && strcmp(fa.v[j]->topic, fa.v[i]->topic) == 0)
                    j++;
                i = j;
                continue;
            }
            weir_wr_cstr(b, fa.v[i]->topic);
            ppos = weir_wr_array_begin(b);
            while (j < fa.n && strcmp(fa.v[j]->topic, fa.v[i]->topic) == 0) {
                weir_fetch_write_part(b, v, fa.v[j]->partition, fa.v[j], WEIR_KERR_NONE);
                j++;
            }
            weir_wr_array_end(b, ppos, (int32_t)(j - i));
            weir_wr_tags(b);
            nt++;
            i = j;
        }
        weir_wr_array_end(b, topics_pos, nt);
        free(fa.v);
    } else {
        weir_wr_array(b, ntopics);
        for (int32_t t = 0; t < ntopics; t++) {
            weir_str_t topic = weir_rd_str(rd);
            int32_t n = weir_rd_array(rd, 4);
            bool denied = !err && n > 0 &&
                          !weir_req_allowed(req, WEIR_ACL_RES_TOPIC, topic, WEIR_ACL_OP_DESCRIBE);

            weir_wr_kstr(b, topic.len >= 0 ? topic : (weir_str_t){0, ""});
            weir_wr_array(b, n > 0 ? n : 0);
            for (int32_t i = 0; i < n; i++) {
                int32_t partition = weir_rd_i32(rd);
                const weir_offset_t *o =
                    g && !err && !denied ? weir_group_offset(g, topic, partition) : NULL;
                /* v0-1 have no top-level error: it goes on each partition. */
                weir_fetch_write_part(b, v, partition, o,
                                      denied ? WEIR_KERR_TOPIC_AUTHORIZATION_FAILED
                                      : v < 2 ? err : WEIR_KERR_NONE);
            }
            weir_rd_tags(rd);
            weir_wr_tags(b);
        }
    }
    if (v >= 2)
        weir_wr_i16(b, (int16_t)err);
    weir_wr_tags(b);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* OffsetDelete                                                       */

static void
weir_offset_delete_write(weir_req_t *req, const weir_oapi_t *ctx, weir_kerr_t err)
{
    weir_msg_t *resp = weir_resp_new(req, 64 + (size_t)ctx->nparts * 8 + (size_t)ctx->ntopics * 32);

    weir_wr_i16(&resp->buf, (int16_t)err);
    weir_wr_i32(&resp->buf, 0); /* ThrottleTimeMs */
    if (err) {
        weir_wr_array(&resp->buf, 0); /* a group error has no partition results */
    } else {
        weir_oapi_write_topics(&resp->buf, ctx);
    }
    weir_wr_tags(&resp->buf);
    weir_req_respond(req, resp);
}

static void
weir_offset_delete_done(weir_gwait_t *w)
{
    weir_oapi_t *ctx = w->opaque;
    weir_req_t *req = ctx->req;

    if (weir_oapi_detach(ctx))
        weir_offset_delete_write(req, ctx, w->err);
    weir_oapi_free(ctx);
}

int
weir_api_OffsetDelete(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_coord_t *co = req->brk ? req->brk->coord : NULL;
    weir_oapi_t *ctx = weir_calloc(1, sizeof(*ctx));
    weir_str_t group_id;

    ctx->req = req;
    ctx->w.done = weir_offset_delete_done;
    ctx->w.opaque = ctx;
    group_id = weir_rd_str(rd);
    weir_oapi_read_topics(ctx, rd, false, req->ApiVersion, req->flex);
    weir_rd_tags(rd);
    if (rd->err) {
        weir_oapi_free(ctx);
        return -1;
    }
    if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, group_id, WEIR_ACL_OP_DELETE)) {
        weir_offset_delete_write(req, ctx, WEIR_KERR_GROUP_AUTHORIZATION_FAILED);
        weir_oapi_free(ctx);
        return 0;
    }
    weir_oapi_check_topics(ctx, req);
    if (!co) {
        weir_offset_delete_write(req, ctx, WEIR_KERR_COORDINATOR_NOT_AVAILABLE);
        weir_oapi_free(ctx);
        return 0;
    }
    weir_coord_offset_delete(co, group_id, ctx->parts, ctx->nparts, &ctx->w);
    return 0;
}
