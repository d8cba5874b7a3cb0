/*
 * weir_api_group.c: the group membership APIs - JoinGroup (ApiKey 11) v0-5,
 * SyncGroup (14) v0-3, Heartbeat (12) v0-3, LeaveGroup (13) v0-3,
 * ListGroups (16) v0-2, DescribeGroups (15) v0-4 and DeleteGroups (42)
 * v0-1 - decoded here and decided by the coordinator (group/weir_group.h).
 *
 * JoinGroup and SyncGroup may wait for other members: the request stays
 * with the coordinator, with a cancel hook so a closed connection takes it
 * back.  DeleteGroups waits for the deletion to be durable; its request is
 * orphan-safe (answered if the connection is still there, freed if not).
 * Governance, as in Kafka: Join/Sync/Heartbeat/Leave need READ on the
 * group, DescribeGroups DESCRIBE, DeleteGroups DELETE
 * (GROUP_AUTHORIZATION_FAILED); ListGroups lists every group with DESCRIBE
 * on the cluster, else the groups the principal may DESCRIBE.
 */
#include <stdio.h>

#include "group/weir_group.h"
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"

typedef struct weir_gapi_s {
    weir_gwait_t w;
    weir_req_t *req;
    weir_str_t *ids; /* DeleteGroups */
    weir_kerr_t *errs;
    int32_t n;
    /* DeleteGroups: the groups the principal may delete, handed to the
     * coordinator, and where each sits in ids. */
    weir_str_t *sub_ids;
    weir_kerr_t *sub_errs;
    int32_t *sub_idx;
    int32_t nsub;
} weir_gapi_t;

/* The group operations (Kafka's AclOperation bits READ, DELETE, DESCRIBE)
 * the principal may do on a group, for DescribeGroups v3+. */
static int32_t
weir_group_authorized_ops(weir_req_t *req, weir_str_t id)
{
    static const int ops[] = {WEIR_ACL_OP_READ, WEIR_ACL_OP_DELETE, WEIR_ACL_OP_DESCRIBE};
    int32_t bits = 0;

    for (size_t i = 0; i < WEIR_ARRAY_SIZE(ops); i++)
        if (weir_req_visible(req, WEIR_ACL_RES_GROUP, id, ops[i]))
            bits |= (int32_t)1 << ops[i];
    return bits;
}

static weir_gapi_t *
weir_gapi_new(weir_req_t *req, void (*done)(weir_gwait_t *w))
{
    weir_gapi_t *ctx = weir_calloc(1, sizeof(*ctx));

    ctx->req = req;
    ctx->w.done = done;
    ctx->w.opaque = ctx;
    return ctx;
}

static void
weir_gapi_free(weir_gapi_t *ctx)
{
    weir_gwait_release(&ctx->w);
    free(ctx->ids);
    free(ctx->errs);
    free(ctx->sub_ids);
    free(ctx->sub_errs);
    free(ctx->sub_idx);
    free(ctx);
}

/* The connection closed while a JoinGroup or SyncGroup waited. */
static void
weir_gapi_cancel(weir_req_t *req)
{
    weir_gapi_t *ctx = req->ctx;

    weir_gwait_cancel(&ctx->w);
    weir_gapi_free(ctx);
    req->ctx = NULL;
}

/* Detaches the context from its request; false when the connection went
 * away meanwhile (the request is then freed). */
static bool
weir_gapi_detach(weir_gapi_t *ctx)
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

/* "/ip" from the connection's "ip:port", as Kafka reports client hosts. */
static void
weir_client_host(const weir_req_t *req, char *out, size_t size)
{
    const char *peer = req->conn ? req->conn->peer : "";
    const char *colon = strrchr(peer, ':');
    int n = colon ? (int)(colon - peer) : (int)strlen(peer);

    snprintf(out, size, "/%.*s", n, peer);
}

static weir_coord_t *
weir_api_coord(const weir_req_t *req)
{
    return req->brk ? req->brk->coord : NULL;
}

/* ------------------------------------------------------------------ */
/* JoinGroup                                                          */

static void
weir_join_write(weir_req_t *req, const weir_gwait_t *w)
{
    int16_t v = req->ApiVersion;
    size_t hint = 128;
    weir_msg_t *resp;
    weir_wbuf_t *b;

    for (int32_t i = 0; i < w->nmembers; i++)
        hint += 64 + (size_t)w->members[i].metadata_len;
    resp = weir_resp_new(req, hint);
    b = &resp->buf;
    if (v >= 2)
        weir_wr_i32(b, 0); /* ThrottleTimeMs */
    weir_wr_i16(b, (int16_t)w->err);
    weir_wr_i32(b, w->generation_id);
    weir_wr_cstr(b, w->protocol_name ? w->protocol_name : "");
    weir_wr_cstr(b, w->leader_id ? w->leader_id : "");
    weir_wr_cstr(b, w->member_id ? w->member_id : "");
    weir_wr_array(b, w->nmembers);
    for (int32_t i = 0; i < w->nmembers; i++) {
        weir_wr_cstr(b, w->members[i].member_id);
        if (v >= 5)
            weir_wr_cstr(b, w->members[i].instance_id);
        weir_wr_bytes(b, w->members[i].metadata, w->members[i].metadata_len);
        weir_wr_tags(b);
    }
    weir_wr_tags(b);
    weir_req_respond(req, resp);
}

static void
weir_join_done(weir_gwait_t *w)
{
    weir_gapi_t *ctx = w->opaque;
    weir_req_t *req = ctx->req;

    if (weir_gapi_detach(ctx))
        weir_join_write(req, w);
    weir_gapi_free(ctx);
}

int
weir_api_JoinGroup(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_join_args_t a;
    weir_str_t *names = NULL, *mds = NULL;
    weir_coord_t *co = weir_api_coord(req);
    weir_gapi_t *ctx;
    char host[80];
    int32_t n;

    memset(&a, 0, sizeof(a));
    a.group_id = weir_rd_str(rd);
    a.session_timeout_ms = weir_rd_i32(rd);
    a.rebalance_timeout_ms = v >= 1 ? weir_rd_i32(rd) : a.session_timeout_ms;
    a.member_id = weir_rd_str(rd);
    a.instance_id = v >= 5 ? weir_rd_str(rd) : WEIR_STR_NULL;
    a.protocol_type = weir_rd_str(rd);
    n = weir_rd_array(rd, req->flex ? 3 : 6);
    if (n > 0) {
        names = weir_calloc((size_t)n, sizeof(*names));
        mds = weir_calloc((size_t)n, sizeof(*mds));
    }
    for (int32_t i = 0; i < n && !rd->err; i++) {
        names[i] = weir_rd_str(rd);
        mds[i] = weir_rd_bytes(rd);
        weir_rd_tags(rd);
    }
    weir_rd_tags(rd);
    if (rd->err) {
        free(names);
        free(mds);
        return -1;
    }
    a.nprotocols = n > 0 ? n : 0;
    a.protocol_names = names;
    a.protocol_metadata = mds;
    a.client_id = req->ClientId;
    weir_client_host(req, host, sizeof(host));
    a.client_host = host;
    a.require_known_member_id = v >= 4 && a.instance_id.len < 0;
    if (a.rebalance_timeout_ms < 0)
        a.rebalance_timeout_ms = a.session_timeout_ms;

    ctx = weir_gapi_new(req, weir_join_done);
    if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, a.group_id, WEIR_ACL_OP_READ)) {
        ctx->w.err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
        ctx->w.generation_id = -1;
        weir_join_write(req, &ctx->w);
        weir_gapi_free(ctx);
    } else if (!co) {
        ctx->w.err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
        ctx->w.generation_id = -1;
        weir_join_write(req, &ctx->w);
        weir_gapi_free(ctx);
    } else {
        /* The answer may come during the call: the hook is set first. */
        req->ctx = ctx;
        req->cancel = weir_gapi_cancel;
        weir_coord_join(co, &a, &ctx->w);
    }
    free(names);
    free(mds);
    return 0;
}

/* ------------------------------------------------------------------ */
/* SyncGroup                                                          */

static void
weir_sync_write(weir_req_t *req, const weir_gwait_t *w)
{
    weir_msg_t *resp = weir_resp_new(req, 64 + (size_t)w->assignment_len);
    weir_wbuf_t *b = &resp->buf;

    if (req->ApiVersion >= 1)
        weir_wr_i32(b, 0); /* ThrottleTimeMs */
    weir_wr_i16(b, (int16_t)w->err);
    weir_wr_bytes(b, w->assignment ? w->assignment : (const uint8_t *)"", w->assignment_len);
    weir_wr_tags(b);
    weir_req_respond(req, resp);
}

static void
weir_sync_done(weir_gwait_t *w)
{
    weir_gapi_t *ctx = w->opaque;
    weir_req_t *req = ctx->req;

    if (weir_gapi_detach(ctx))
        weir_sync_write(req, w);
    weir_gapi_free(ctx);
}

int
weir_api_SyncGroup(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_str_t group_id, member_id, instance_id = WEIR_STR_NULL;
    weir_str_t *ids = NULL, *assigns = NULL;
    weir_coord_t *co = weir_api_coord(req);
    weir_gapi_t *ctx;
    int32_t generation, n;

    group_id = weir_rd_str(rd);
    generation = weir_rd_i32(rd);
    member_id = weir_rd_str(rd);
    if (v >= 3)
        instance_id = weir_rd_str(rd);
    n = weir_rd_array(rd, req->flex ? 3 : 6);
    if (n > 0) {
        ids = weir_calloc((size_t)n, sizeof(*ids));
        assigns = weir_calloc((size_t)n, sizeof(*assigns));
    }
    for (int32_t i = 0; i < n && !rd->err; i++) {
        ids[i] = weir_rd_str(rd);
        assigns[i] = weir_rd_bytes(rd);
        weir_rd_tags(rd);
    }
    weir_rd_tags(rd);
    if (rd->err) {
        free(ids);
        free(assigns);
        return -1;
    }
    ctx = weir_gapi_new(req, weir_sync_done);
    if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, group_id, WEIR_ACL_OP_READ)) {
        ctx->w.err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
        weir_sync_write(req, &ctx->w);
        weir_gapi_free(ctx);
    } else if (!co) {
        ctx->w.err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
        weir_sync_write(req, &ctx->w);
        weir_gapi_free(ctx);
    } else {
        req->ctx = ctx;
        req->cancel = weir_gapi_cancel;
        weir_coord_sync(co, group_id, generation, member_id, instance_id, ids, assigns,
                        n > 0 ? n : 0, &ctx->w);
    }
    free(ids);
    free(assigns);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Heartbeat                                                          */

int
weir_api_Heartbeat(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_str_t group_id, member_id, instance_id = WEIR_STR_NULL;
    weir_coord_t *co = weir_api_coord(req);
    int32_t generation;
    weir_kerr_t err;
    weir_msg_t *resp;

    group_id = weir_rd_str(rd);
    generation = weir_rd_i32(rd);
    member_id = weir_rd_str(rd);
    if (v >= 3)
        instance_id = weir_rd_str(rd);
    weir_rd_tags(rd);
    if (rd->err)
        return -1;
    if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, group_id, WEIR_ACL_OP_READ))
        err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
    else
        err = co ? weir_coord_heartbeat(co, group_id, generation, member_id, instance_id)
                 : WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    resp = weir_resp_new(req, 32);
    if (v >= 1)
        weir_wr_i32(&resp->buf, 0); /* ThrottleTimeMs */
    weir_wr_i16(&resp->buf, (int16_t)err);
    weir_wr_tags(&resp->buf);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* LeaveGroup                                                         */

int
weir_api_LeaveGroup(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_str_t group_id;
    weir_leave_member_t one, *members = &one;
    weir_coord_t *co = weir_api_coord(req);
    int32_t n = 1;
    weir_kerr_t err;
    weir_msg_t *resp;
    weir_wbuf_t *b;

    group_id = weir_rd_str(rd);
    memset(&one, 0, sizeof(one));
    if (v < 3) {
        one.member_id = weir_rd_str(rd);
        one.instance_id = WEIR_STR_NULL;
    } else {
        n = weir_rd_array(rd, req->flex ? 3 : 4);
        members = n > 0 ? weir_calloc((size_t)n, sizeof(*members)) : NULL;
        for (int32_t i = 0; i < n && !rd->err; i++) {
            members[i].member_id = weir_rd_str(rd);
            members[i].instance_id = weir_rd_str(rd);
            weir_rd_tags(rd);
        }
        if (n < 0)
            n = 0;
    }
    weir_rd_tags(rd);
    if (rd->err) {
        if (members != &one)
            free(members);
        return -1;
    }
    if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, group_id, WEIR_ACL_OP_READ))
        err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
    else
        err = co ? weir_coord_leave(co, group_id, members, n)
                 : WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    resp = weir_resp_new(req, 64 + (size_t)n * 64);
    b = &resp->buf;
    if (v >= 1)
        weir_wr_i32(b, 0); /* ThrottleTimeMs */
    if (v < 3) {
        /* One member: its error is the request's. */
        weir_wr_i16(b, (int16_t)(err ? err : one.err));
    } else {
        weir_wr_i16(b, (int16_t)err);
        weir_wr_array(b, err ? 0 : n);
        for (int32_t i = 0; i < n && !err; i++) {
            weir_wr_kstr(b, members[i].member_id.len >= 0 ? members[i].member_id
                                                          : (weir_str_t){0, ""});
            weir_wr_kstr(b, members[i].instance_id);
            weir_wr_i16(b, (int16_t)members[i].err);
            weir_wr_tags(b);
        }
    }
    weir_wr_tags(b);
    if (members != &one)
        free(members);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* ListGroups                                                         */

typedef struct weir_list_ctx_s {
    weir_wbuf_t *b;
    int32_t n;
    weir_req_t *req;
    bool all;        /* DESCRIBE on the cluster: every group */
} weir_list_ctx_t;

static void
weir_list_one(void *arg, weir_group_t *g)
{
    weir_list_ctx_t *lc = arg;

    /* Without DESCRIBE on the cluster, only groups the principal may
     * DESCRIBE are listed (Kafka). */
    if (!lc->all &&
        !weir_req_visible(lc->req, WEIR_ACL_RES_GROUP, (weir_str_t){(int32_t)strlen(g->id), g->id},
                          WEIR_ACL_OP_DESCRIBE))
        return;

    weir_wr_cstr(lc->b, g->id);
    weir_wr_cstr(lc->b, g->protocol_type ? g->protocol_type : "");
    weir_wr_tags(lc->b);
    lc->n++;
}

int
weir_api_ListGroups(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_coord_t *co = weir_api_coord(req);
    weir_list_ctx_t lc;
    weir_msg_t *resp;
    size_t pos;

    weir_rd_tags(rd);
    if (rd->err)
        return -1;
    resp = weir_resp_new(req, 256);
    lc.b = &resp->buf;
    lc.n = 0;
    lc.req = req;
    lc.all = weir_req_visible(req, WEIR_ACL_RES_CLUSTER,
                              (weir_str_t){(int32_t)strlen(WEIR_ACL_CLUSTER_NAME),
                                           WEIR_ACL_CLUSTER_NAME},
                              WEIR_ACL_OP_DESCRIBE);
    if (req->ApiVersion >= 1)
        weir_wr_i32(lc.b, 0); /* ThrottleTimeMs */
    weir_wr_i16(lc.b, (int16_t)(co ? WEIR_KERR_NONE : WEIR_KERR_COORDINATOR_NOT_AVAILABLE));
    pos = weir_wr_array_begin(lc.b);
    if (co)
        weir_coord_groups_foreach(co, weir_list_one, &lc);
    weir_wr_array_end(lc.b, pos, lc.n);
    weir_wr_tags(lc.b);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* DescribeGroups                                                     */

static void
weir_describe_one(weir_req_t *req, weir_wbuf_t *b, int16_t v, weir_coord_t *co, weir_str_t id,
                  bool include_ops)
{
    weir_group_t *g = NULL;
    weir_kerr_t err = WEIR_KERR_NONE;
    bool stable;

    if (id.len < 0)
        err = WEIR_KERR_INVALID_GROUP_ID;
    else if (!weir_req_allowed(req, WEIR_ACL_RES_GROUP, id, WEIR_ACL_OP_DESCRIBE))
        err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
    else if (!co)
        err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    else
        g = weir_coord_group(co, id);
    weir_wr_i16(b, (int16_t)err);
    weir_wr_kstr(b, id.len >= 0 ? id : (weir_str_t){0, ""});
    if (err) {
        weir_wr_cstr(b, "");
        weir_wr_cstr(b, "");
        weir_wr_cstr(b, "");
        weir_wr_array(b, 0);
    } else if (!g) {
        /* An unknown group is described as Dead, without error (v0-4). */
        weir_wr_cstr(b, weir_group_state_name(WEIR_GROUP_DEAD));
        weir_wr_cstr(b, "");
        weir_wr_cstr(b, "");
        weir_wr_array(b, 0);
    } else {
        /* Protocol, metadata and assignments only when Stable, as Kafka. */
        stable = g->state == WEIR_GROUP_STABLE;
        weir_wr_cstr(b, weir_group_state_name(g->state));
        weir_wr_cstr(b, g->protocol_type ? g->protocol_type : "");
        weir_wr_cstr(b, stable && g->protocol_name ? g->protocol_name : "");
        weir_wr_array(b, g->nmembers);
        for (weir_member_t *m = g->head; m; m = m->next) {
            const uint8_t *md = NULL;
            int32_t mdlen = 0;

            if (stable)
                md = weir_member_metadata(m, g->protocol_name, &mdlen);
            weir_wr_cstr(b, m->member_id);
            if (v >= 4)
                weir_wr_cstr(b, m->instance_id);
            weir_wr_cstr(b, m->client_id);
            weir_wr_cstr(b, m->client_host);
            weir_wr_bytes(b, md ? md : (const uint8_t *)"", md ? mdlen : 0);
            weir_wr_bytes(b, stable && m->assignment ? m->assignment : (const uint8_t *)"",
                          stable && m->assignment ? m->assignment_len : 0);
            weir_wr_tags(b);
        }
    }
    if (v >= 3)
        weir_wr_i32(b, include_ops && !err ? weir_group_authorized_ops(req, id) : INT32_MIN);
    weir_wr_tags(b);
}

int
weir_api_DescribeGroups(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_coord_t *co = weir_api_coord(req);
    weir_str_t *ids = NULL;
    bool include_ops = false;
    weir_msg_t *resp;
    int32_t n;

    n = weir_rd_array(rd, req->flex ? 1 : 2);
    if (n > 0)
        ids = weir_calloc((size_t)n, sizeof(*ids));
    for (int32_t i = 0; i < n && !rd->err; i++)
        ids[i] = weir_rd_str(rd);
    if (v >= 3)
        include_ops = weir_rd_bool(rd);
    weir_rd_tags(rd);
    if (rd->err) {
        free(ids);
        return -1;
    }
    resp = weir_resp_new(req, 256);
    if (v >= 1)
        weir_wr_i32(&resp->buf, 0); /* ThrottleTimeMs */
    weir_wr_array(&resp->buf, n > 0 ? n : 0);
    for (int32_t i = 0; i < n; i++)
        weir_describe_one(req, &resp->buf, v, co, ids[i], include_ops);
    weir_wr_tags(&resp->buf);
    free(ids);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* DeleteGroups                                                       */

static void
weir_delete_groups_write(weir_req_t *req, const weir_gapi_t *ctx)
{
    weir_msg_t *resp = weir_resp_new(req, 64 + (size_t)ctx->n * 32);
    weir_wbuf_t *b = &resp->buf;

    weir_wr_i32(b, 0); /* ThrottleTimeMs */
    weir_wr_array(b, ctx->n);
    for (int32_t i = 0; i < ctx->n; i++) {
        weir_wr_kstr(b, ctx->ids[i].len >= 0 ? ctx->ids[i] : (weir_str_t){0, ""});
        weir_wr_i16(b, (int16_t)ctx->errs[i]);
        weir_wr_tags(b);
    }
    weir_wr_tags(b);
    weir_req_respond(req, resp);
}

static void
weir_delete_groups_done(weir_gwait_t *w)
{
    weir_gapi_t *ctx = w->opaque;
    weir_req_t *req = ctx->req;

    for (int32_t k = 0; ctx->sub_idx && k < ctx->nsub; k++)
        ctx->errs[ctx->sub_idx[k]] = ctx->sub_errs[k];

    if (weir_gapi_detach(ctx))
        weir_delete_groups_write(req, ctx);
    weir_gapi_free(ctx);
}

int
weir_api_DeleteGroups(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_coord_t *co = weir_api_coord(req);
    weir_gapi_t *ctx = weir_gapi_new(req, weir_delete_groups_done);
    int32_t n;

    n = weir_rd_array(rd, req->flex ? 1 : 2);
    ctx->n = n > 0 ? n : 0;
    ctx->ids = weir_calloc((size_t)ctx->n + 1, sizeof(*ctx->ids));
    ctx->errs = weir_calloc((size_t)ctx->n + 1, sizeof(*ctx->errs));
    for (int32_t i = 0; i < n && !rd->err; i++)
        ctx->ids[i] = weir_rd_str(rd);
    weir_rd_tags(rd);
    if (rd->err) {
        weir_gapi_free(ctx);
        return -1;
    }
    if (!co) {
        for (int32_t i = 0; i < ctx->n; i++)
            ctx->errs[i] = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
        weir_delete_groups_write(req, ctx);
        weir_gapi_free(ctx);
        return 0;
    }
    /* DELETE on each group (GROUP_AUTHORIZATION_FAILED); the coordinator
     * sees only the groups the principal may delete. */
    ctx->sub_ids = weir_calloc((size_t)ctx->n + 1, sizeof(*ctx->sub_ids));
    ctx->sub_errs = weir_calloc((size_t)ctx->n + 1, sizeof(*ctx->sub_errs));
    ctx->sub_idx = weir_calloc((size_t)ctx->n + 1, sizeof(*ctx->sub_idx));
    for (int32_t i = 0; i < ctx->n; i++) {
        if (ctx->ids[i].len >= 0 &&
            !weir_req_allowed(req, WEIR_ACL_RES_GROUP, ctx->ids[i], WEIR_ACL_OP_DELETE)) {
            ctx->errs[i] = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }
        ctx->sub_ids[ctx->nsub] = ctx->ids[i];
        ctx->sub_idx[ctx->nsub++] = i;
    }
    /* No cancel hook: a deletion goes through even if the client leaves;
     * the done callback frees an orphaned request. */
    weir_coord_delete_groups(co, ctx->sub_ids, ctx->sub_errs, ctx->nsub, &ctx->w);
    return 0;
}
