/*
 * weir_api_metadata.c: Metadata (ApiKey 3), versions 0-5.
 *
 * One broker (this node, at the advertised address of the listener the
 * client connected to), which is also the controller.  Topics asked for by
 * name that do not exist are created when auto.create.topics.enable is on
 * (and, from v4, the client allows it); creation is synchronous, so the
 * answer already describes the new topic.  Governance: a listing of all
 * topics leaves out those the principal may not DESCRIBE; a topic asked for
 * by name without DESCRIBE gets TOPIC_AUTHORIZATION_FAILED whether it exists
 * or not; auto-creation needs CREATE and passes the tenant policy.
 */
#include <stdio.h>

#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"

static void
weir_metadata_write_topic(weir_wbuf_t *w, int16_t version, weir_broker_t *brk, weir_kerr_t err,
                          weir_str_t name, const weir_topic_t *t)
{
    weir_wr_i16(w, (int16_t)err);
    weir_wr_kstr(w, name);
    if (version >= 1)
        weir_wr_bool(w, false); /* IsInternal */
    if (!t) {
        weir_wr_array(w, 0);
        return;
    }
    weir_wr_array(w, t->npartitions);
    for (int32_t i = 0; i < t->npartitions; i++) {
        weir_wr_i16(w, 0);          /* ErrorCode */
        weir_wr_i32(w, i);          /* PartitionIndex */
        weir_wr_i32(w, brk->node_id); /* LeaderId */
        weir_wr_array(w, 1);        /* ReplicaNodes */
        weir_wr_i32(w, brk->node_id);
        weir_wr_array(w, 1);        /* IsrNodes */
        weir_wr_i32(w, brk->node_id);
        if (version >= 5)
            weir_wr_array(w, 0);    /* OfflineReplicas */
    }
}

static int
weir_metadata_name_cmp(const void *a, const void *b)
{
    const weir_str_t *x = a, *y = b;
    int c;

    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    c = x->len > 0 ? memcmp(x->ptr, y->ptr, (size_t)x->len) : 0;
    return c;
}

/* Sorts the asked names and drops repeats (Kafka treats them as a set), so a
 * request naming one topic many times cannot multiply the response. */
static int32_t
weir_metadata_unique(weir_str_t *names, int32_t n)
{
    int32_t k = 0;

    qsort(names, (size_t)n, sizeof(*names), weir_metadata_name_cmp);
    for (int32_t i = 0; i < n; i++)
        if (k == 0 || weir_metadata_name_cmp(&names[k - 1], &names[i]) != 0)
            names[k++] = names[i];
    return k;
}

/* Auto-creation of a topic asked for by name: CREATE on the cluster or on
 * the topic (TOPIC_AUTHORIZATION_FAILED otherwise, as Kafka), then the
 * tenant policy, then the broker. */
static weir_kerr_t
weir_metadata_auto_create(weir_req_t *req, const char *name, weir_topic_t **t, char *errstr,
                          size_t errstr_size)
{
    weir_broker_t *brk = req->brk;
    weir_str_t n = {(int32_t)strlen(name), name};
    weir_kvlist_t configs = {NULL, 0};
    weir_kerr_t err;

    if (!weir_req_visible(req, WEIR_ACL_RES_CLUSTER,
                          (weir_str_t){(int32_t)strlen(WEIR_ACL_CLUSTER_NAME),
                                       WEIR_ACL_CLUSTER_NAME},
                          WEIR_ACL_OP_CREATE) &&
        !weir_req_allowed(req, WEIR_ACL_RES_TOPIC, n, WEIR_ACL_OP_CREATE)) {
        snprintf(errstr, errstr_size, "not authorized to create topic '%s'", name);
        return WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
    }
    err = weir_req_topic_create_policy(req, name, brk->conf->num_partitions, &configs, errstr,
                                       errstr_size);
    if (!err)
        err = weir_broker_topic_create(brk, name, brk->conf->num_partitions, &configs, false,
                                       errstr, errstr_size, t);
    if (!err)
        weir_req_audit(req, "topic.create", name, "ok", "auto-created by Metadata");
    else if (err == WEIR_KERR_POLICY_VIOLATION)
        weir_req_audit(req, "topic.create", name, "denied", errstr);
    weir_kvlist_free(&configs);
    return err;
}

int
weir_api_Metadata(weir_req_t *req)
{
    weir_broker_t *brk = req->brk;
    int16_t v = req->ApiVersion;
    weir_rbuf_t *rd = &req->rd;
    const weir_listener_t *lst = req->conn->lst;
    int32_t ntopics;
    weir_str_t *names = NULL;
    bool allow_auto = true;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    ntopics = weir_rd_array(rd, 2);
    if (ntopics > 0) {
        names = weir_calloc((size_t)ntopics, sizeof(*names));
        for (int32_t i = 0; i < ntopics; i++)
            names[i] = weir_rd_str(rd);
    }
    if (v >= 4)
        allow_auto = weir_rd_bool(rd);
    if (rd->err) {
        free(names);
        return -1;
    }
    /* v0: an empty list means all topics; v1+: null means all. */
    if (v == 0 && ntopics == 0)
        ntopics = -1;
    if (ntopics > 1)
        ntopics = weir_metadata_unique(names, ntopics);

    resp = weir_resp_new(req, 1024);
    w = &resp->buf;
    if (v >= 3)
        weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, 1);   /* Brokers */
    weir_wr_i32(w, brk->node_id);
    weir_wr_cstr(w, lst->adv_host);
    weir_wr_i32(w, lst->adv_port);
    if (v >= 1)
        weir_wr_cstr(w, NULL); /* Rack */
    if (v >= 2)
        weir_wr_cstr(w, brk->cluster_id);
    if (v >= 1)
        weir_wr_i32(w, brk->node_id); /* ControllerId */

    if (ntopics < 0) {
        /* Every topic the principal may DESCRIBE; the others are left out. */
        size_t pos = weir_wr_array_begin(w);
        int32_t shown = 0;
        for (size_t i = 0; i < brk->ntopics; i++) {
            weir_topic_t *t = brk->topics[i];
            weir_str_t n = {(int32_t)strlen(t->name), t->name};
            if (!weir_req_visible(req, WEIR_ACL_RES_TOPIC, n, WEIR_ACL_OP_DESCRIBE))
                continue;
            weir_metadata_write_topic(w, v, brk, WEIR_KERR_NONE, n, t);
            shown++;
        }
        weir_wr_array_end(w, pos, shown);
    } else {
        weir_wr_array(w, ntopics);
        for (int32_t i = 0; i < ntopics; i++) {
            weir_str_t n = names[i];
            weir_topic_t *t = NULL;
            weir_kerr_t err = WEIR_KERR_NONE;
            char errstr[256], name[256];

            if (n.len <= 0 || n.len > 249) {
                err = WEIR_KERR_INVALID_TOPIC_EXCEPTION;
            } else if (!weir_req_allowed(req, WEIR_ACL_RES_TOPIC, n, WEIR_ACL_OP_DESCRIBE)) {
                /* Whether it exists or not: nothing is revealed. */
                err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
            } else {
                t = weir_broker_topic_find(brk, n.ptr, (size_t)n.len);
                if (!t) {
                    err = weir_topic_name_validate(n.ptr, (size_t)n.len, errstr, sizeof(errstr));
                    if (!err && brk->conf->auto_create_topics_enable && allow_auto) {
                        memcpy(name, n.ptr, (size_t)n.len);
                        name[n.len] = '\0';
                        err = weir_metadata_auto_create(req, name, &t, errstr, sizeof(errstr));
                        if (err)
                            WEIR_LOG(WEIR_LOG_WARN, "auto_create_failed", "topic=%s error=%s "
                                     "reason=\"%s\"", name, weir_kerr_name(err), errstr);
                    } else if (!err) {
                        err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                    }
                }
            }
            weir_metadata_write_topic(w, v, brk, err, n, err ? NULL : t);
        }
    }
    free(names);
    weir_req_respond(req, resp);
    return 0;
}
