/*
 * weir_api_findcoordinator.c: FindCoordinator (ApiKey 10), versions 0-2.
 *
 * This broker coordinates every consumer group.  Transactions are not
 * offered, so a transaction coordinator lookup answers
 * COORDINATOR_NOT_AVAILABLE with a message saying so.  Looking up a group's
 * coordinator needs DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED).
 */
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"

int
weir_api_FindCoordinator(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    const weir_listener_t *lst = req->conn->lst;
    int8_t key_type = 0;
    weir_str_t key;
    weir_kerr_t err = WEIR_KERR_NONE;
    const char *msg = NULL;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    key = weir_rd_str(rd);
    if (v >= 1)
        key_type = weir_rd_i8(rd);
    if (rd->err)
        return -1;
    if (key_type == 0 && !weir_req_allowed(req, WEIR_ACL_RES_GROUP, key, WEIR_ACL_OP_DESCRIBE)) {
        err = WEIR_KERR_GROUP_AUTHORIZATION_FAILED;
        msg = "not authorized to describe the group";
    } else if (key_type == 1 &&
               !weir_req_allowed(req, WEIR_ACL_RES_TRANSACTIONAL_ID, key, WEIR_ACL_OP_DESCRIBE)) {
        err = WEIR_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        msg = "not authorized to describe the transactional id";
    } else if (key_type == 1) {
        err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
        msg = "transactions are not supported by this broker";
    } else if (key_type != 0) {
        err = WEIR_KERR_INVALID_REQUEST;
        msg = "unknown coordinator key type";
    }
    resp = weir_resp_new(req, 128);
    w = &resp->buf;
    if (v >= 1)
        weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_i16(w, (int16_t)err);
    if (v >= 1)
        weir_wr_cstr(w, msg);
    weir_wr_i32(w, err ? -1 : req->brk->node_id);
    weir_wr_cstr(w, err ? "" : lst->adv_host);
    weir_wr_i32(w, err ? -1 : lst->adv_port);
    weir_req_respond(req, resp);
    return 0;
}
