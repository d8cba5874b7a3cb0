/*
 * weir_api.c: the dispatch table (the single record of the APIs and versions
 * Weir serves), request-header parsing, response helpers and ApiVersions.
 */
#include "weir_api.h"

#include <stdio.h>

#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_metrics.h"

/*
 * Advertised ranges follow ../shared/kafka-protocol.md: every minimum is 0
 * (librdkafka 2.0.2 turns features off otherwise), maxima are the versions
 * whose behaviour is implemented.  Produce v0-v2 and Fetch v0-v3 are
 * advertised for that reason only: Weir stores record batches (magic v2)
 * and neither converts old message formats up on produce (answered with
 * UNSUPPORTED_FOR_MESSAGE_FORMAT) nor down on fetch.
 */
static const weir_api_desc_t weir_api_table[WEIR_API__COUNT] = {
    [WEIR_API_Produce] = {"Produce", 0, 7, 9, weir_api_Produce},
    [WEIR_API_Fetch] = {"Fetch", 0, 11, 12, weir_api_Fetch},
    [WEIR_API_ListOffsets] = {"ListOffsets", 0, 2, 6, weir_api_ListOffsets},
    [WEIR_API_Metadata] = {"Metadata", 0, 5, 9, weir_api_Metadata},
    [WEIR_API_FindCoordinator] = {"FindCoordinator", 0, 2, 3, weir_api_FindCoordinator},
    [WEIR_API_ApiVersions] = {"ApiVersions", 0, 3, 3, weir_api_ApiVersions},
    [WEIR_API_InitProducerId] = {"InitProducerId", 0, 1, 2, weir_api_InitProducerId},
    [WEIR_API_CreateTopics] = {"CreateTopics", 0, 4, 5, weir_api_CreateTopics},
    [WEIR_API_DeleteTopics] = {"DeleteTopics", 0, 3, 4, weir_api_DeleteTopics},
    [WEIR_API_DescribeConfigs] = {"DescribeConfigs", 0, 2, 4, weir_api_DescribeConfigs},
    /* ACLs (governance): v2 is the first flexible version, not served. */
    [WEIR_API_DescribeAcls] = {"DescribeAcls", 0, 1, 2, weir_api_DescribeAcls},
    [WEIR_API_CreateAcls] = {"CreateAcls", 0, 1, 2, weir_api_CreateAcls},
    [WEIR_API_DeleteAcls] = {"DeleteAcls", 0, 1, 2, weir_api_DeleteAcls},
    [WEIR_API_AlterConfigs] = {"AlterConfigs", 0, 1, 2, weir_api_AlterConfigs},
    [WEIR_API_CreatePartitions] = {"CreatePartitions", 0, 1, 2, weir_api_CreatePartitions},
    [WEIR_API_IncrementalAlterConfigs] = {"IncrementalAlterConfigs", 0, 1, 1,
                                          weir_api_IncrementalAlterConfigs},
    /* SASL: v0 handshakes are followed by raw tokens, v1 by SaslAuthenticate. */
    [WEIR_API_SaslHandshake] = {"SaslHandshake", 0, 1, -1, weir_api_SaslHandshake},
    [WEIR_API_SaslAuthenticate] = {"SaslAuthenticate", 0, 1, 2, weir_api_SaslAuthenticate},
    /* Consumer groups: JoinGroup v5 because static membership is implemented. */
    [WEIR_API_OffsetCommit] = {"OffsetCommit", 0, 7, 8, weir_api_OffsetCommit},
    [WEIR_API_OffsetFetch] = {"OffsetFetch", 0, 5, 6, weir_api_OffsetFetch},
    [WEIR_API_JoinGroup] = {"JoinGroup", 0, 5, 6, weir_api_JoinGroup},
    [WEIR_API_Heartbeat] = {"Heartbeat", 0, 3, 4, weir_api_Heartbeat},
    [WEIR_API_LeaveGroup] = {"LeaveGroup", 0, 3, 4, weir_api_LeaveGroup},
    [WEIR_API_SyncGroup] = {"SyncGroup", 0, 3, 4, weir_api_SyncGroup},
    [WEIR_API_DescribeGroups] = {"DescribeGroups", 0, 4, 5, weir_api_DescribeGroups},
    [WEIR_API_ListGroups] = {"ListGroups", 0, 2, 3, weir_api_ListGroups},
    [WEIR_API_DeleteGroups] = {"DeleteGroups", 0, 1, 2, weir_api_DeleteGroups},
    [WEIR_API_OffsetDelete] = {"OffsetDelete", 0, 0, -1, weir_api_OffsetDelete},
};

const weir_api_desc_t *
weir_api_desc(int16_t api_key)
{
    if (api_key < 0 || api_key >= WEIR_API__COUNT || !weir_api_table[api_key].handler)
        return NULL;
    return &weir_api_table[api_key];
}

void
weir_req_free(weir_req_t *req)
{
    free(req->alloc);
    free(req);
}

weir_msg_t *
weir_resp_new(const weir_req_t *req, size_t hint)
{
    weir_msg_t *msg = weir_msg_new(hint);

    weir_wr_i32(&msg->buf, req->CorrelationId);
    /* Response header v1 (tags) for flexible versions, except ApiVersions,
     * whose response header stays v0 so that any client can parse it. */
    if (req->flex && req->ApiKey != WEIR_API_ApiVersions)
        weir_wr_uvarint(&msg->buf, 0);
    msg->buf.flex = req->flex;
    return msg;
}

static void
weir_req_complete(weir_req_t *req)
{
    weir_conn_t *conn = req->conn;

    weir_metrics_request_done(req->ApiKey, weir_mono_us() - req->recv_us);
    weir_req_free(req);
    if (conn)
        weir_conn_request_done(conn);
}

void
weir_req_respond(weir_req_t *req, weir_msg_t *resp)
{
    weir_msg_finish(resp);
    if (req->conn)
        weir_conn_send(req->conn, resp);
    else
        weir_msg_free(resp);
    weir_req_complete(req);
}

void
weir_req_no_response(weir_req_t *req)
{
    weir_req_complete(req);
}

int
weir_api_dispatch(weir_conn_t *conn, uint8_t *alloc, uint8_t *frame, size_t len)
{
    weir_req_t *req = weir_calloc(1, sizeof(*req));
    const weir_api_desc_t *desc;

    req->conn = conn;
    req->brk = conn->brk;
    req->alloc = alloc;
    req->frame = frame;
    req->frame_len = len;
    req->recv_us = weir_mono_us();
    weir_rbuf_init(&req->rd, frame, len);
    req->ApiKey = weir_rd_i16(&req->rd);
    req->ApiVersion = weir_rd_i16(&req->rd);
    req->CorrelationId = weir_rd_i32(&req->rd);

    desc = weir_api_desc(req->ApiKey);
    if (!desc) {
        WEIR_LOG(WEIR_LOG_WARN, "unknown_api_key", "conn=%llu peer=%s api_key=%d version=%d",
                 (unsigned long long)conn->id, conn->peer, req->ApiKey, req->ApiVersion);
        weir_req_free(req);
        return -1;
    }
    if (req->ApiVersion < desc->min || req->ApiVersion > desc->max) {
        if (req->ApiKey == WEIR_API_ApiVersions) {
            /* Answer in the v0 layout, as Kafka does, so that the client can
             * read the supported range and retry with a version we serve. */
            weir_msg_t *resp;
            conn->cur = req;
            resp = weir_resp_new(req, 512);
            weir_api_versions_write(&resp->buf, 0, WEIR_KERR_UNSUPPORTED_VERSION);
            weir_req_respond(req, resp);
            return 0;
        }
        WEIR_LOG(WEIR_LOG_WARN, "unsupported_version", "conn=%llu peer=%s api=%s version=%d "
                 "supported=%d-%d", (unsigned long long)conn->id, conn->peer, desc->name,
                 req->ApiVersion, desc->min, desc->max);
        weir_req_free(req);
        return -1;
    }
    /* Request header v1: ClientId is a classic nullable string even in
     * flexible versions (header v2), followed there by tagged fields. */
    req->ClientId = weir_rd_str(&req->rd);
    req->flex = desc->flex_min >= 0 && req->ApiVersion >= desc->flex_min;
    if (req->flex) {
        req->rd.flex = true;
        weir_rd_tags(&req->rd);
    }
    if (req->rd.err) {
        WEIR_LOG(WEIR_LOG_WARN, "malformed_request_header", "conn=%llu peer=%s api=%s version=%d",
                 (unsigned long long)conn->id, conn->peer, desc->name, req->ApiVersion);
        weir_req_free(req);
        return -1;
    }
    if (conn->sasl_state != WEIR_SASL_NONE && weir_sasl_gate(req) != 0) {
        weir_req_free(req);
        return -1;
    }
    conn->cur = req;
    if (desc->handler(req) != 0) {
        WEIR_LOG(WEIR_LOG_WARN, "malformed_request", "conn=%llu peer=%s api=%s version=%d "
                 "offset=%zu size=%zu", (unsigned long long)conn->id, conn->peer, desc->name,
                 req->ApiVersion, req->rd.pos, req->frame_len);
        if (conn->cur == req) {
            conn->cur = NULL;
            weir_req_free(req);
        }
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* ApiVersions                                                        */

void
weir_api_versions_write(weir_wbuf_t *w, int16_t version, weir_kerr_t err)
{
    size_t pos;
    int32_t n = 0;

    weir_wr_i16(w, (int16_t)err);
    pos = weir_wr_array_begin(w);
    for (int16_t k = 0; k < WEIR_API__COUNT; k++) {
        const weir_api_desc_t *d = weir_api_desc(k);
        if (!d)
            continue;
        weir_wr_i16(w, k);
        weir_wr_i16(w, d->min);
        weir_wr_i16(w, d->max);
        weir_wr_tags(w);
        n++;
    }
    weir_wr_array_end(w, pos, n);
    if (version >= 1)
        weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_tags(w);
}

int
weir_api_ApiVersions(weir_req_t *req)
{
    weir_msg_t *resp;

    if (req->ApiVersion >= 3) {
        (void)weir_rd_str(&req->rd); /* ClientSoftwareName */
        (void)weir_rd_str(&req->rd); /* ClientSoftwareVersion */
        weir_rd_tags(&req->rd);
        if (req->rd.err)
            return -1;
    }
    resp = weir_resp_new(req, 512);
    weir_api_versions_write(&resp->buf, req->ApiVersion, WEIR_KERR_NONE);
    weir_req_respond(req, resp);
    return 0;
}
