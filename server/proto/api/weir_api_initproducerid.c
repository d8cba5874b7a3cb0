/*
 * weir_api_initproducerid.c: InitProducerId (ApiKey 22), versions 0-1, for
 * idempotent producers.  Producer ids come from blocks reserved in the
 * store, so they are never reused across restarts.  Transactional producers
 * are refused: transactions are not offered.  An idempotent producer needs
 * IDEMPOTENT_WRITE on the cluster or, as in Kafka since KIP-679, WRITE on
 * some topic (CLUSTER_AUTHORIZATION_FAILED otherwise).
 */
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_log.h"

int
weir_api_InitProducerId(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_str_t txn_id;
    weir_kerr_t err = WEIR_KERR_NONE;
    int64_t pid = -1;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    txn_id = weir_rd_str(rd);
    (void)weir_rd_i32(rd); /* TransactionTimeoutMs */
    if (rd->err)
        return -1;
    if (txn_id.len >= 0) {
        err = WEIR_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        WEIR_LOG(WEIR_LOG_WARN, "transactions_unsupported", "conn=%llu peer=%s",
                 (unsigned long long)req->conn->id, req->conn->peer);
    } else if (!weir_req_allowed_idempotent(req)) {
        err = WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED;
    } else {
        pid = weir_broker_next_producer_id(req->brk);
        if (pid < 0)
            err = WEIR_KERR_KAFKA_STORAGE_ERROR;
    }
    resp = weir_resp_new(req, 64);
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_i16(w, (int16_t)err);
    weir_wr_i64(w, pid);
    weir_wr_i16(w, err ? -1 : 0); /* ProducerEpoch */
    weir_req_respond(req, resp);
    return 0;
}
