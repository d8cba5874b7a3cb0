/*
 * weir_api_topics.c: CreateTopics (ApiKey 19) v0-4, DeleteTopics (20) v0-3
 * and CreatePartitions (37) v0-1.
 *
 * Each handler reads the whole request first (a malformed one closes the
 * connection before anything changes), then decides topic by topic: an
 * error for one topic never affects another.  Changes go through the
 * broker's topic operations (weir_broker_topic_create/_delete/
 * _add_partitions), which persist them.  This is a one-node cluster: a
 * replication factor other than 1 (or -1, the default) is refused, and a
 * manual replica assignment is accepted only when every replica is this
 * node.  Governance: CreateTopics needs CREATE on the cluster or the topic,
 * DeleteTopics DELETE and CreatePartitions ALTER on the topic
 * (TOPIC_AUTHORIZATION_FAILED); topics in a tenant's prefixes follow its
 * policy (POLICY_VIOLATION naming the limit); changes are audited.
 */
#include <stdio.h>
#include <stdlib.h>

#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"

#define WEIR_TOPICS_ERRSTR 512
/* Initial response buffer size for n items: it grows as needed, so the
 * guess is capped (n comes from the client). */
#define WEIR_RESP_HINT(base, n, each) \
    ((size_t)(base) + WEIR_MIN((size_t)(n), (size_t)1024) * (size_t)(each))

/* Smallest encoding of one array element, in the classic or compact form. */
#define WEIR_MINSZ(rd, classic, compact) ((rd)->flex ? (size_t)(compact) : (size_t)(classic))

/* ------------------------------------------------------------------ */
/* Helpers shared by the three handlers                               */

typedef struct weir_named_s {
    weir_str_t name;
    int32_t idx;
} weir_named_t;

static int
weir_named_cmp(const void *a, const void *b)
{
    const weir_named_t *x = a, *y = b;
    int32_t xl = x->name.len < 0 ? 0 : x->name.len, yl = y->name.len < 0 ? 0 : y->name.len;
    int c = memcmp(x->name.ptr ? x->name.ptr : "", y->name.ptr ? y->name.ptr : "",
                   (size_t)WEIR_MIN(xl, yl));

    if (c)
        return c;
    if (xl != yl)
        return xl < yl ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sets dup[i] for every names[i] that occurs more than once.  O(n log n):
 * n is bounded only by the frame size. */
static void
weir_mark_duplicates(const weir_str_t *names, int32_t n, bool *dup)
{
    weir_named_t *v;

    if (n < 2)
        return;
    v = weir_malloc((size_t)n * sizeof(*v));
    for (int32_t i = 0; i < n; i++) {
        v[i].name = names[i];
        v[i].idx = i;
    }
    qsort(v, (size_t)n, sizeof(*v), weir_named_cmp);
    for (int32_t i = 1; i < n; i++) {
        if (v[i].name.len == v[i - 1].name.len &&
            memcmp(v[i].name.ptr, v[i - 1].name.ptr, (size_t)v[i].name.len) == 0) {
            dup[v[i].idx] = true;
            dup[v[i - 1].idx] = true;
        }
    }
    free(v);
}

/* A copy of len bytes of s fit for a key=value log line: at most size - 1
 * bytes, with control characters, quotes and backslashes replaced by '?'
 * (names and messages come from clients). */
static const char *
weir_log_safe(const char *s, size_t len, char *out, size_t size)
{
    size_t n = WEIR_MIN(len, size - 1);

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
    }
    out[n] = '\0';
    return out;
}

/* A NUL-terminated copy of a validated topic name (no NUL inside). */
static char *
weir_name_dup(weir_str_t s)
{
    return weir_strndup(s.ptr, (size_t)s.len);
}

/* A manual replica assignment as read from a request: only whether it is
 * acceptable on a one-node cluster is kept. */
typedef struct weir_assign_s {
    int32_t n;           /* entries (-1: null) */
    int32_t *index;      /* CreateTopics: each entry's PartitionIndex */
    bool foreign;        /* some replica is not this node */
    bool bad;            /* an empty replica list or a replica named twice */
} weir_assign_t;

/* Reads one BrokerIds array and folds it into a. */
static void
weir_assign_read_replicas(weir_rbuf_t *rd, int32_t node_id, weir_assign_t *a)
{
    int32_t n = weir_rd_array(rd, 4), local = 0;

    if (n < 0) {
        rd->err = WEIR_EPARSE; /* not nullable */
        return;
    }
    if (n == 0)
        a->bad = true;
    for (int32_t i = 0; i < n && !rd->err; i++) {
        if (weir_rd_i32(rd) == node_id)
            local++;
        else
            a->foreign = true;
    }
    if (local > 1)
        a->bad = true;
}

static void
weir_assign_free(weir_assign_t *a)
{
    free(a->index);
    a->index = NULL;
}

static int
weir_i32_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ */
/* CreateTopics                                                       */

typedef struct weir_ct_config_s {
    weir_str_t name;
    weir_str_t value;
} weir_ct_config_t;

typedef struct weir_ct_topic_s {
    weir_str_t name;
    int32_t num_partitions;
    int16_t replication_factor;
    weir_assign_t assign;
    weir_ct_config_t *configs;
    int32_t nconfigs;
    bool dup;
    weir_kerr_t err;
    char errstr[WEIR_TOPICS_ERRSTR];
} weir_ct_topic_t;

static void
weir_ct_free(weir_ct_topic_t *topics, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        weir_assign_free(&topics[i].assign);
        free(topics[i].configs);
    }
    free(topics);
}

/* Reads the request body into topics; returns -1 if it is malformed. */
static int
weir_ct_parse(weir_req_t *req, weir_ct_topic_t **out, int32_t *nout, bool *validate_only)
{
    weir_rbuf_t *rd = &req->rd;
    weir_ct_topic_t *topics = NULL;
    int32_t n;

    *out = NULL;
    *nout = 0;
    n = weir_rd_array(rd, WEIR_MINSZ(rd, 16, 10));
    if (n < 0)
        return -1;
    if (n > 0)
        topics = weir_calloc((size_t)n, sizeof(*topics));
    *out = topics;
    *nout = n;
    for (int32_t i = 0; i < n && !rd->err; i++) {
        weir_ct_topic_t *t = &topics[i];
        int32_t na, nc;

        t->name = weir_rd_str(rd);
        t->num_partitions = weir_rd_i32(rd);
        t->replication_factor = weir_rd_i16(rd);
        if (t->name.len < 0)
            return -1;
        na = weir_rd_array(rd, WEIR_MINSZ(rd, 8, 6));
        if (na < 0)
            return -1;
        t->assign.n = na;
        if (na > 0)
            t->assign.index = weir_calloc((size_t)na, sizeof(*t->assign.index));
        for (int32_t j = 0; j < na && !rd->err; j++) {
            t->assign.index[j] = weir_rd_i32(rd);
            weir_assign_read_replicas(rd, req->brk->node_id, &t->assign);
            weir_rd_tags(rd);
        }
        nc = weir_rd_array(rd, WEIR_MINSZ(rd, 4, 3));
        if (nc < 0)
            return -1;
        t->nconfigs = nc;
        if (nc > 0)
            t->configs = weir_calloc((size_t)nc, sizeof(*t->configs));
        for (int32_t j = 0; j < nc && !rd->err; j++) {
            t->configs[j].name = weir_rd_str(rd);
            t->configs[j].value = weir_rd_str(rd);
            if (t->configs[j].name.len < 0)
                return -1;
            weir_rd_tags(rd);
        }
        weir_rd_tags(rd);
    }
    (void)weir_rd_i32(rd); /* timeoutMs: creation is synchronous */
    *validate_only = req->ApiVersion >= 1 ? weir_rd_bool(rd) : false;
    weir_rd_tags(rd);
    return rd->err ? -1 : 0;
}

/* Checks a manual assignment; returns the partition count it implies, or
 * -1 with t->err set. */
static int32_t
weir_ct_check_assignment(weir_broker_t *brk, weir_ct_topic_t *t)
{
    weir_assign_t *a = &t->assign;

    if (t->num_partitions != -1 || t->replication_factor != -1) {
        t->err = WEIR_KERR_INVALID_REQUEST;
        snprintf(t->errstr, sizeof(t->errstr), "NumPartitions and ReplicationFactor must be -1 "
                 "when a manual replica assignment is given");
        return -1;
    }
    if (a->foreign) {
        t->err = WEIR_KERR_INVALID_REQUEST;
        snprintf(t->errstr, sizeof(t->errstr), "manual replica assignment is not supported: "
                 "this cluster has one broker (node %d), every replica must be on it",
                 brk->node_id);
        return -1;
    }
    if (a->bad) {
        t->err = WEIR_KERR_INVALID_REPLICA_ASSIGNMENT;
        snprintf(t->errstr, sizeof(t->errstr), "each partition's replica list must name node "
                 "%d exactly once", brk->node_id);
        return -1;
    }
    qsort(a->index, (size_t)a->n, sizeof(*a->index), weir_i32_cmp);
    for (int32_t i = 0; i < a->n; i++) {
        if (a->index[i] != i) {
            t->err = WEIR_KERR_INVALID_REPLICA_ASSIGNMENT;
            snprintf(t->errstr, sizeof(t->errstr), "partition indices of a manual assignment "
                     "must be 0 to %d, each once", a->n - 1);
            return -1;
        }
    }
    return a->n;
}

/* Builds the overrides of t into kv; returns false with t->err set. */
static bool
weir_ct_configs(weir_ct_topic_t *t, weir_kvlist_t *kv)
{
    weir_str_t *names;
    bool *dup, ok = true;

    if (t->nconfigs == 0)
        return true;
    names = weir_malloc((size_t)t->nconfigs * sizeof(*names));
    dup = weir_calloc((size_t)t->nconfigs, sizeof(*dup));
    for (int32_t i = 0; i < t->nconfigs; i++)
        names[i] = t->configs[i].name;
    weir_mark_duplicates(names, t->nconfigs, dup);
    for (int32_t i = 0; i < t->nconfigs && ok; i++) {
        weir_ct_config_t *c = &t->configs[i];
        char *key, *value;

        if (dup[i]) {
            t->err = WEIR_KERR_INVALID_REQUEST;
            snprintf(t->errstr, sizeof(t->errstr), "config %.*s is given more than once",
                     c->name.len, c->name.ptr);
            ok = false;
        } else if (c->value.len < 0) {
            t->err = WEIR_KERR_INVALID_REQUEST;
            snprintf(t->errstr, sizeof(t->errstr), "null value not supported for topic "
                     "config %.*s", c->name.len, c->name.ptr);
            ok = false;
        } else if (memchr(c->name.ptr, '\0', (size_t)c->name.len) ||
                   memchr(c->value.ptr, '\0', (size_t)c->value.len)) {
            t->err = WEIR_KERR_INVALID_CONFIG;
            snprintf(t->errstr, sizeof(t->errstr), "config names and values cannot contain "
                     "NUL bytes");
            ok = false;
        } else {
            key = weir_strndup(c->name.ptr, (size_t)c->name.len);
            value = weir_strndup(c->value.ptr, (size_t)c->value.len);
            t->err = weir_topic_config_validate(key, value, t->errstr, sizeof(t->errstr));
            if (t->err)
                ok = false;
            else
                weir_kvlist_set(kv, key, value);
            free(key);
            free(value);
        }
    }
    free(names);
    free(dup);
    return ok;
}

static void
weir_ct_create(weir_req_t *req, weir_ct_topic_t *t, bool validate_only, bool cluster_create)
{
    weir_broker_t *brk = req->brk;
    int32_t partitions;
    weir_kvlist_t kv = {NULL, 0};
    char *name;

    if (t->dup) {
        t->err = WEIR_KERR_INVALID_REQUEST;
        snprintf(t->errstr, sizeof(t->errstr), "topic %.*s is named more than once in the "
                 "request", t->name.len, t->name.ptr);
        return;
    }
    /* CREATE on the cluster or on the topic (Kafka), before anything about
     * the topic is revealed; a tenant member is told its prefixes. */
    if (!cluster_create &&
        !weir_req_allowed(req, WEIR_ACL_RES_TOPIC, t->name, WEIR_ACL_OP_CREATE)) {
        name = weir_strndup(t->name.ptr, (size_t)t->name.len);
        t->err = weir_req_topic_create_denied(req, name, t->errstr, sizeof(t->errstr));
        free(name);
        return;
    }
    t->err = weir_topic_name_validate(t->name.ptr, (size_t)t->name.len, t->errstr,
                                      sizeof(t->errstr));
    if (t->err)
        return;
    if (weir_broker_topic_find(brk, t->name.ptr, (size_t)t->name.len)) {
        t->err = WEIR_KERR_TOPIC_ALREADY_EXISTS;
        snprintf(t->errstr, sizeof(t->errstr), "topic '%.*s' already exists", t->name.len,
                 t->name.ptr);
        return;
    }
    if (t->assign.n > 0) {
        partitions = weir_ct_check_assignment(brk, t);
        if (partitions < 0)
            return;
    } else {
        partitions = t->num_partitions == -1 ? brk->conf->num_partitions : t->num_partitions;
        if (t->num_partitions == 0 || t->num_partitions < -1) {
            t->err = WEIR_KERR_INVALID_PARTITIONS;
            snprintf(t->errstr, sizeof(t->errstr), "number of partitions must be larger than "
                     "0, or -1 to use the default (num.partitions=%d)",
                     brk->conf->num_partitions);
            return;
        }
        if (t->replication_factor == 0 || t->replication_factor < -1) {
            t->err = WEIR_KERR_INVALID_REPLICATION_FACTOR;
            snprintf(t->errstr, sizeof(t->errstr), "replication factor must be larger than 0, "
                     "or -1 to use the default");
            return;
        }
        if (t->replication_factor > 1) {
            t->err = WEIR_KERR_INVALID_REPLICATION_FACTOR;
            snprintf(t->errstr, sizeof(t->errstr), "replication factor %d is larger than the "
                     "number of brokers: this cluster has one broker, use 1 or -1",
                     t->replication_factor);
            return;
        }
    }
    if (!weir_ct_configs(t, &kv)) {
        weir_kvlist_free(&kv);
        return;
    }
    name = weir_name_dup(t->name);
    t->err = weir_req_topic_create_policy(req, name, partitions, &kv, t->errstr,
                                          sizeof(t->errstr));
    if (t->err == WEIR_KERR_POLICY_VIOLATION)
        weir_req_audit(req, "topic.create", name, "denied", t->errstr);
    if (!t->err)
        t->err = weir_broker_topic_create(brk, name, partitions, &kv, validate_only, t->errstr,
                                          sizeof(t->errstr), NULL);
    if (!t->err && !validate_only) {
        char detail[64];
        snprintf(detail, sizeof(detail), "partitions=%d", partitions);
        weir_req_audit(req, "topic.create", name, "ok", detail);
    }
    free(name);
    weir_kvlist_free(&kv);
}

int
weir_api_CreateTopics(weir_req_t *req)
{
    int16_t v = req->ApiVersion;
    weir_ct_topic_t *topics;
    int32_t n;
    bool validate_only = false, cluster_create;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    if (weir_ct_parse(req, &topics, &n, &validate_only) != 0) {
        weir_ct_free(topics, n);
        return -1;
    }
    if (n > 1) {
        weir_str_t *names = weir_malloc((size_t)n * sizeof(*names));
        bool *dup = weir_calloc((size_t)n, sizeof(*dup));
        for (int32_t i = 0; i < n; i++)
            names[i] = topics[i].name;
        weir_mark_duplicates(names, n, dup);
        for (int32_t i = 0; i < n; i++)
            topics[i].dup = dup[i];
        free(names);
        free(dup);
    }
    cluster_create = n > 0 && weir_req_visible(req, WEIR_ACL_RES_CLUSTER,
                                               (weir_str_t){(int32_t)strlen(WEIR_ACL_CLUSTER_NAME),
                                                            WEIR_ACL_CLUSTER_NAME},
                                               WEIR_ACL_OP_CREATE);
    for (int32_t i = 0; i < n; i++) {
        weir_ct_topic_t *t = &topics[i];
        weir_ct_create(req, t, validate_only, cluster_create);
        if (t->err && WEIR_LOG_INFO <= weir_log_level) {
            char ln[96], lr[WEIR_TOPICS_ERRSTR];
            WEIR_LOG(WEIR_LOG_INFO, "create_topic_refused", "conn=%llu topic=%s error=%s "
                     "validate_only=%s reason=\"%s\"",
                     (unsigned long long)(req->conn ? req->conn->id : 0),
                     weir_log_safe(t->name.ptr, (size_t)t->name.len, ln, sizeof(ln)),
                     weir_kerr_name(t->err), validate_only ? "true" : "false",
                     weir_log_safe(t->errstr, strlen(t->errstr), lr, sizeof(lr)));
        }
    }

    resp = weir_resp_new(req, WEIR_RESP_HINT(64, n, 64));
    w = &resp->buf;
    if (v >= 2)
        weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, n);
    for (int32_t i = 0; i < n; i++) {
        weir_ct_topic_t *t = &topics[i];
        weir_wr_kstr(w, t->name);
        weir_wr_i16(w, (int16_t)t->err);
        if (v >= 1)
            weir_wr_cstr(w, t->err ? t->errstr : NULL); /* ErrorMessage */
    }
    weir_ct_free(topics, n);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* DeleteTopics                                                       */

int
weir_api_DeleteTopics(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_broker_t *brk = req->brk;
    int16_t v = req->ApiVersion;
    weir_str_t *names = NULL;
    weir_kerr_t *errs = NULL;
    bool *dup = NULL;
    int32_t n;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    n = weir_rd_array(rd, WEIR_MINSZ(rd, 2, 1));
    if (n > 0) {
        names = weir_calloc((size_t)n, sizeof(*names));
        errs = weir_calloc((size_t)n, sizeof(*errs));
        dup = weir_calloc((size_t)n, sizeof(*dup));
    }
    for (int32_t i = 0; i < n && !rd->err; i++) {
        names[i] = weir_rd_str(rd);
        if (names[i].len < 0)
            rd->err = WEIR_EPARSE;
    }
    (void)weir_rd_i32(rd); /* TimeoutMs: deletion is synchronous */
    weir_rd_tags(rd);
    if (rd->err || n < 0) {
        free(names);
        free(errs);
        free(dup);
        return -1;
    }
    weir_mark_duplicates(names, n, dup);
    for (int32_t i = 0; i < n; i++) {
        char errstr[WEIR_TOPICS_ERRSTR] = "";
        weir_topic_t *t;

        if (dup[i]) {
            errs[i] = WEIR_KERR_INVALID_REQUEST;
            snprintf(errstr, sizeof(errstr), "topic is named more than once in the request");
        } else if (!weir_req_allowed(req, WEIR_ACL_RES_TOPIC, names[i], WEIR_ACL_OP_DELETE)) {
            errs[i] = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
            snprintf(errstr, sizeof(errstr), "not authorized to delete the topic");
        } else if (!brk->conf->delete_topic_enable) {
            /* Before v3 clients do not know TOPIC_DELETION_DISABLED. */
            errs[i] = v >= 3 ? WEIR_KERR_TOPIC_DELETION_DISABLED : WEIR_KERR_INVALID_REQUEST;
            snprintf(errstr, sizeof(errstr), "topic deletion is disabled "
                     "(delete.topic.enable=false)");
        } else if (!(t = weir_broker_topic_find(brk, names[i].ptr, (size_t)names[i].len))) {
            errs[i] = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            snprintf(errstr, sizeof(errstr), "no such topic");
        } else {
            errs[i] = weir_broker_topic_delete(brk, t, errstr, sizeof(errstr));
            if (!errs[i]) {
                char *name = weir_name_dup(names[i]);
                weir_req_audit(req, "topic.delete", name, "ok", "");
                free(name);
            }
        }
        if (errs[i] && WEIR_LOG_INFO <= weir_log_level) {
            char ln[96], lr[WEIR_TOPICS_ERRSTR];
            WEIR_LOG(WEIR_LOG_INFO, "delete_topic_refused", "conn=%llu topic=%s error=%s "
                     "reason=\"%s\"", (unsigned long long)(req->conn ? req->conn->id : 0),
                     weir_log_safe(names[i].ptr, (size_t)names[i].len, ln, sizeof(ln)),
                     weir_kerr_name(errs[i]), weir_log_safe(errstr, strlen(errstr), lr,
                                                            sizeof(lr)));
        }
    }

    resp = weir_resp_new(req, WEIR_RESP_HINT(64, n, 32));
    w = &resp->buf;
    if (v >= 1)
        weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, n);
    for (int32_t i = 0; i < n; i++) {
        weir_wr_kstr(w, names[i]);
        weir_wr_i16(w, (int16_t)errs[i]);
        weir_wr_tags(w);
    }
    weir_wr_tags(w);
    free(names);
    free(errs);
    free(dup);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* CreatePartitions                                                   */

typedef struct weir_cp_topic_s {
    weir_str_t name;
    int32_t count;
    weir_assign_t assign;
    weir_kerr_t err;
    char errstr[WEIR_TOPICS_ERRSTR];
} weir_cp_topic_t;

static void
weir_cp_add(weir_req_t *req, weir_cp_topic_t *t, bool dup, bool validate_only)
{
    weir_broker_t *brk = req->brk;
    weir_topic_t *topic;

    if (dup) {
        t->err = WEIR_KERR_INVALID_REQUEST;
        snprintf(t->errstr, sizeof(t->errstr), "topic %.*s is named more than once in the "
                 "request", t->name.len, t->name.ptr);
        return;
    }
    if (!weir_req_allowed(req, WEIR_ACL_RES_TOPIC, t->name, WEIR_ACL_OP_ALTER)) {
        t->err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
        snprintf(t->errstr, sizeof(t->errstr), "not authorized to alter topic '%.*s'",
                 t->name.len, t->name.ptr);
        return;
    }
    topic = t->name.len > 0 ? weir_broker_topic_find(brk, t->name.ptr, (size_t)t->name.len)
                            : NULL;
    if (!topic) {
        t->err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        snprintf(t->errstr, sizeof(t->errstr), "topic '%.*s' does not exist", t->name.len,
                 t->name.ptr);
        return;
    }
    if (t->assign.n >= 0 && t->count > topic->npartitions) {
        if (t->assign.n != t->count - topic->npartitions) {
            t->err = WEIR_KERR_INVALID_REPLICA_ASSIGNMENT;
            snprintf(t->errstr, sizeof(t->errstr), "attempted to add %d partition(s), but %d "
                     "assignment(s) were given", t->count - topic->npartitions, t->assign.n);
            return;
        }
        if (t->assign.foreign) {
            t->err = WEIR_KERR_INVALID_REQUEST;
            snprintf(t->errstr, sizeof(t->errstr), "manual replica assignment is not "
                     "supported: this cluster has one broker (node %d), every replica must be "
                     "on it", brk->node_id);
            return;
        }
        if (t->assign.bad) {
            t->err = WEIR_KERR_INVALID_REPLICA_ASSIGNMENT;
            snprintf(t->errstr, sizeof(t->errstr), "each partition's replica list must name "
                     "node %d exactly once", brk->node_id);
            return;
        }
    }
    if (t->count > topic->npartitions) {
        t->err = weir_req_topic_partitions_policy(req, topic, t->count, t->errstr,
                                                  sizeof(t->errstr));
        if (t->err) {
            weir_req_audit(req, "topic.partitions", topic->name, "denied", t->errstr);
            return;
        }
    }
    t->err = weir_broker_topic_add_partitions(brk, topic, t->count, validate_only, t->errstr,
                                              sizeof(t->errstr));
    if (!t->err && !validate_only) {
        char detail[64];
        snprintf(detail, sizeof(detail), "partitions=%d", t->count);
        weir_req_audit(req, "topic.partitions", topic->name, "ok", detail);
    }
}

int
weir_api_CreatePartitions(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_cp_topic_t *topics = NULL;
    bool validate_only, *dup = NULL;
    int32_t n;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    n = weir_rd_array(rd, WEIR_MINSZ(rd, 10, 7));
    if (n > 0)
        topics = weir_calloc((size_t)n, sizeof(*topics));
    for (int32_t i = 0; i < n && !rd->err; i++) {
        weir_cp_topic_t *t = &topics[i];
        int32_t na;

        t->name = weir_rd_str(rd);
        t->count = weir_rd_i32(rd);
        if (t->name.len < 0)
            rd->err = WEIR_EPARSE;
        na = weir_rd_array(rd, WEIR_MINSZ(rd, 4, 2)); /* nullable */
        /* An empty list is taken as null (no manual assignment), as some
         * clients send it that way. */
        t->assign.n = na == 0 ? -1 : na;
        for (int32_t j = 0; j < na && !rd->err; j++) {
            weir_assign_read_replicas(rd, req->brk->node_id, &t->assign);
            weir_rd_tags(rd);
        }
        weir_rd_tags(rd);
    }
    (void)weir_rd_i32(rd); /* TimeoutMs */
    validate_only = weir_rd_bool(rd);
    weir_rd_tags(rd);
    if (rd->err || n < 0) {
        free(topics);
        return -1;
    }
    if (n > 1) {
        weir_str_t *names = weir_malloc((size_t)n * sizeof(*names));
        dup = weir_calloc((size_t)n, sizeof(*dup));
        for (int32_t i = 0; i < n; i++)
            names[i] = topics[i].name;
        weir_mark_duplicates(names, n, dup);
        free(names);
    }
    for (int32_t i = 0; i < n; i++) {
        weir_cp_topic_t *t = &topics[i];
        weir_cp_add(req, t, dup && dup[i], validate_only);
        if (t->err && WEIR_LOG_INFO <= weir_log_level) {
            char ln[96], lr[WEIR_TOPICS_ERRSTR];
            WEIR_LOG(WEIR_LOG_INFO, "create_partitions_refused", "conn=%llu topic=%s "
                     "count=%d error=%s reason=\"%s\"",
                     (unsigned long long)(req->conn ? req->conn->id : 0),
                     weir_log_safe(t->name.ptr, (size_t)t->name.len, ln, sizeof(ln)), t->count,
                     weir_kerr_name(t->err), weir_log_safe(t->errstr, strlen(t->errstr), lr,
                                                           sizeof(lr)));
        }
    }
    free(dup);

    resp = weir_resp_new(req, WEIR_RESP_HINT(64, n, 64));
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, n);
    for (int32_t i = 0; i < n; i++) {
        weir_wr_kstr(w, topics[i].name);
        weir_wr_i16(w, (int16_t)topics[i].err);
        weir_wr_cstr(w, topics[i].err ? topics[i].errstr : NULL);
        weir_wr_tags(w);
    }
    weir_wr_tags(w);
    free(topics);
    weir_req_respond(req, resp);
    return 0;
}
