/*
 * weir_api_listoffsets.c: ListOffsets (ApiKey 2), versions 0-2.
 *
 * Timestamp -1 is the latest offset (the high watermark), -2 the earliest
 * (the log start offset); any other timestamp finds the earliest offset
 * whose record timestamp is at least that, through the time index.  Each
 * topic needs DESCRIBE (TOPIC_AUTHORIZATION_FAILED otherwise).
 */
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"

#define WEIR_LIST_LATEST (-1)
#define WEIR_LIST_EARLIEST (-2)

int
weir_api_ListOffsets(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_msg_t *resp;
    weir_wbuf_t *w;
    int32_t ntopics;

    (void)weir_rd_i32(rd); /* ReplicaId */
    if (v >= 2)
        (void)weir_rd_i8(rd); /* IsolationLevel */
    ntopics = weir_rd_array(rd, 6);
    if (rd->err)
        return -1;

    /* The request is walked twice: once to check it is well formed, once
     * while answering, so a malformed request gets no partial answer. */
    {
        weir_rbuf_t chk = *rd;
        for (int32_t t = 0; t < ntopics && !chk.err; t++) {
            int32_t n;
            (void)weir_rd_str(&chk);
            n = weir_rd_array(&chk, 12);
            for (int32_t i = 0; i < n && !chk.err; i++) {
                (void)weir_rd_i32(&chk);
                (void)weir_rd_i64(&chk);
                if (v == 0)
                    (void)weir_rd_i32(&chk);
            }
        }
        if (chk.err)
            return -1;
    }

    resp = weir_resp_new(req, 256);
    w = &resp->buf;
    if (v >= 2)
        weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, ntopics < 0 ? 0 : ntopics);
    for (int32_t t = 0; t < ntopics; t++) {
        weir_str_t name = weir_rd_str(rd);
        int32_t n = weir_rd_array(rd, 12);
        bool denied = !weir_req_allowed(req, WEIR_ACL_RES_TOPIC, name, WEIR_ACL_OP_DESCRIBE);
        weir_wr_kstr(w, name);
        weir_wr_array(w, n < 0 ? 0 : n);
        for (int32_t i = 0; i < n; i++) {
            int32_t partition = weir_rd_i32(rd);
            int64_t ts = weir_rd_i64(rd), offset = -1, found_ts = -1;
            weir_partition_t *part = weir_broker_partition(req->brk, name, partition);
            weir_kerr_t err = WEIR_KERR_NONE;

            if (v == 0)
                (void)weir_rd_i32(rd); /* MaxNumOffsets */
            if (denied) {
                err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
            } else if (!part) {
                err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (ts == WEIR_LIST_LATEST) {
                offset = weir_plog_end_offset(part->log);
            } else if (ts == WEIR_LIST_EARLIEST) {
                offset = weir_plog_start_offset(part->log);
            } else if (ts < 0) {
                err = WEIR_KERR_INVALID_REQUEST;
            } else {
                offset = weir_plog_offset_for_time(part->log, ts, &found_ts);
            }
            weir_wr_i32(w, partition);
            weir_wr_i16(w, (int16_t)err);
            if (v == 0) {
                /* OldStyleOffsets */
                if (!err && offset >= 0) {
                    weir_wr_array(w, 1);
                    weir_wr_i64(w, offset);
                } else {
                    weir_wr_array(w, 0);
                }
            } else {
                weir_wr_i64(w, ts >= 0 ? found_ts : -1);
                weir_wr_i64(w, offset);
            }
        }
    }
    weir_req_respond(req, resp);
    return 0;
}
