/*
 * weir_api.h: Kafka requests, the dispatch table and the response helpers.
 *
 * One table (weir_api.c) is the single record of what Weir serves: for each
 * ApiKey the version range, the first flexible version and the handler.
 * ApiVersions is built from it.
 *
 * Handler contract: parse -> decide -> write -> respond.  A handler returns 0
 * when it answered (weir_req_respond / weir_req_no_response) or deferred the
 * request (it will answer later), and -1 only for a malformed request, which
 * closes the connection.  Business failures go in the response's ErrorCode.
 */
#ifndef WEIR_API_H
#define WEIR_API_H

#include <stdbool.h>
#include <stdint.h>

#include "weir_buf.h"
#include "weir_conn.h"
#include "weir_kerr.h"
#include "weir_msg.h"

enum {
    WEIR_API_Produce = 0,
    WEIR_API_Fetch = 1,
    WEIR_API_ListOffsets = 2,
    WEIR_API_Metadata = 3,
    WEIR_API_OffsetCommit = 8,
    WEIR_API_OffsetFetch = 9,
    WEIR_API_FindCoordinator = 10,
    WEIR_API_JoinGroup = 11,
    WEIR_API_Heartbeat = 12,
    WEIR_API_LeaveGroup = 13,
    WEIR_API_SyncGroup = 14,
    WEIR_API_DescribeGroups = 15,
    WEIR_API_ListGroups = 16,
    WEIR_API_SaslHandshake = 17,
    WEIR_API_ApiVersions = 18,
    WEIR_API_CreateTopics = 19,
    WEIR_API_DeleteTopics = 20,
    WEIR_API_DeleteRecords = 21,
    WEIR_API_InitProducerId = 22,
    WEIR_API_DescribeAcls = 29,
    WEIR_API_CreateAcls = 30,
    WEIR_API_DeleteAcls = 31,
    WEIR_API_DescribeConfigs = 32,
    WEIR_API_AlterConfigs = 33,
    WEIR_API_SaslAuthenticate = 36,
    WEIR_API_CreatePartitions = 37,
    WEIR_API_DeleteGroups = 42,
    WEIR_API_IncrementalAlterConfigs = 44,
    WEIR_API_OffsetDelete = 47,
    WEIR_API__COUNT = 68
};

struct weir_req_s {
    weir_conn_t *conn;       /* NULL once the connection closed (orphaned request) */
    weir_broker_t *brk;
    int16_t ApiKey;
    int16_t ApiVersion;
    int32_t CorrelationId;
    weir_str_t ClientId;
    bool flex;               /* this version uses flexible encoding */
    weir_rbuf_t rd;          /* the body, after the request header */
    uint8_t *alloc;          /* owned allocation holding the frame */
    uint8_t *frame;          /* frame bytes (Size excluded) */
    size_t frame_len;
    int64_t recv_us;
    /* Set by a handler that defers: called if the connection closes first.
     * It must drop every reference to the request; the request is freed
     * after it returns. */
    void (*cancel)(weir_req_t *req);
    void *ctx;
};

typedef int (*weir_api_handler_t)(weir_req_t *req);

typedef struct weir_api_desc_s {
    const char *name;
    int16_t min, max;    /* advertised range */
    int16_t flex_min;    /* first flexible version, -1 never */
    weir_api_handler_t handler;
} weir_api_desc_t;

/* NULL when the key is not served. */
const weir_api_desc_t *weir_api_desc(int16_t api_key);

/* Parses the request header of a complete frame (len bytes at frame, inside
 * the allocation alloc, whose ownership passes to the request) and runs the
 * handler.  Returns 0, or -1 if the connection must close. */
int weir_api_dispatch(weir_conn_t *conn, uint8_t *alloc, uint8_t *frame, size_t len);

/* A response message for req: Size placeholder, CorrelationId and, for
 * flexible versions (except ApiVersions), an empty header tag section.
 * The body writer has req's flex flag. */
weir_msg_t *weir_resp_new(const weir_req_t *req, size_t hint);
/* Sends resp (finishing it) and completes the request. */
void weir_req_respond(weir_req_t *req, weir_msg_t *resp);
/* Completes a request that has no response (Produce acks=0). */
void weir_req_no_response(weir_req_t *req);
/* Frees a request (used by the connection for orphaned requests). */
void weir_req_free(weir_req_t *req);

/* Handlers, one file each under proto/api/. */
int weir_api_ApiVersions(weir_req_t *req);
int weir_api_Metadata(weir_req_t *req);
int weir_api_Produce(weir_req_t *req);
int weir_api_Fetch(weir_req_t *req);
int weir_api_ListOffsets(weir_req_t *req);
int weir_api_FindCoordinator(weir_req_t *req);
int weir_api_InitProducerId(weir_req_t *req);
int weir_api_CreateTopics(weir_req_t *req);
int weir_api_DeleteTopics(weir_req_t *req);
int weir_api_CreatePartitions(weir_req_t *req);
int weir_api_DescribeConfigs(weir_req_t *req);
int weir_api_AlterConfigs(weir_req_t *req);
int weir_api_IncrementalAlterConfigs(weir_req_t *req);
/* Consumer groups (weir_api_group.c) and committed offsets (weir_api_offsets.c). */
int weir_api_JoinGroup(weir_req_t *req);
int weir_api_SyncGroup(weir_req_t *req);
int weir_api_Heartbeat(weir_req_t *req);
int weir_api_LeaveGroup(weir_req_t *req);
int weir_api_ListGroups(weir_req_t *req);
int weir_api_DescribeGroups(weir_req_t *req);
int weir_api_DeleteGroups(weir_req_t *req);
int weir_api_OffsetCommit(weir_req_t *req);
int weir_api_OffsetFetch(weir_req_t *req);
int weir_api_OffsetDelete(weir_req_t *req);
/* ACL management (weir_api_acls.c). */
int weir_api_DescribeAcls(weir_req_t *req);
int weir_api_CreateAcls(weir_req_t *req);
int weir_api_DeleteAcls(weir_req_t *req);

/* SASL sign-on (weir_api_sasl.c). */
int weir_api_SaslHandshake(weir_req_t *req);
int weir_api_SaslAuthenticate(weir_req_t *req);
/* A raw SASL token frame (after SaslHandshake v0); the frame's allocation
 * passes to it.  Returns 0, or -1 if the connection must close. */
int weir_sasl_raw_frame(weir_conn_t *conn, uint8_t *alloc, uint8_t *frame, size_t len);
/* The SASL gate, before any handler: until the sign-on succeeds only
 * ApiVersions, SaslHandshake and SaslAuthenticate are served, and an expired
 * session (connections.max.reauth.ms) only re-authenticates.  Returns 0 if
 * req may be served, -1 after closing the connection. */
int weir_sasl_gate(weir_req_t *req);

/* Writes the ApiVersions v0 error layout (error 35 plus the ranges), used
 * when a client asks for an ApiVersions version Weir does not serve. */
void weir_api_versions_write(weir_wbuf_t *w, int16_t version, weir_kerr_t err);

#endif
