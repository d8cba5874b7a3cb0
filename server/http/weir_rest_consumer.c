/*
 * weir_rest_consumer.c: REST Proxy v2 consumer instances (weir_rest_consumer.h)
 * - the routes, the instances and their group membership through the
 * coordinator's request-independent calls, long-polling GET records with
 * log reads on the worker pool, offset commits, and idle expiry.
 *
 * Everything runs on the loop thread except the read job (restc_read_work),
 * which only touches its own fetch: the file ranges (slices, each holding
 * its segment open) and the records it copies out.
 */
#include "weir_rest_consumer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <uv.h>

#include "group/weir_group.h"
#include "weir_acl.h"
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_conf.h"
#include "weir_http.h"
#include "weir_log.h"
#include "weir_records.h"
#include "weir_registry.h"
#include "weir_rest_consumer_codec.h"
#include "weir_rest_format.h"
#include "weir_tenant.h"

#define RESTC_TICK_MS 250
#define RESTC_HEARTBEAT_MS 1000
#define RESTC_SESSION_TIMEOUT_MS 30000
#define RESTC_REBALANCE_TIMEOUT_MS 60000
#define RESTC_AUTO_COMMIT_MS 5000
#define RESTC_RETRY_MS 500
#define RESTC_MAX_TIMEOUT_MS 30000
#define RESTC_CTYPE "application/vnd.kafka.v2+json"

/* Confluent's error codes. */
#define RESTC_E_NOT_FOUND 40403
#define RESTC_E_FORMAT 40601
#define RESTC_E_SUBSCRIBED 40901
#define RESTC_E_EXISTS 40902
#define RESTC_E_STATE 40903
#define RESTC_E_DENIED 40301
#define RESTC_E_INVALID 42202
#define RESTC_E_KAFKA 50001
#define RESTC_E_UNAVAILABLE 50003

enum { RESTC_RESET_LATEST = 0, RESTC_RESET_EARLIEST, RESTC_RESET_NONE };
enum { RESTC_G_NONE = 0, RESTC_G_JOINING, RESTC_G_SYNCING, RESTC_G_STABLE };

typedef struct restc_inst_s restc_inst_t;
typedef struct restc_fetch_s restc_fetch_t;

/* An assigned partition and where the instance reads it. */
typedef struct restc_part_s {
    char *topic;
    int32_t partition;
    int64_t position; /* next offset to read; -1: not known yet */
} restc_part_t;

/* A JoinGroup or SyncGroup in flight. */
typedef struct restc_gop_s {
    weir_gwait_t w;
    restc_inst_t *inst; /* NULL once the instance went away */
} restc_gop_t;

struct restc_inst_s {
    weir_rest_consumer_t *rc;
    restc_inst_t *prev, *next;
    char *group, *name;
    weir_principal_t owner; /* who created it (requests must come from the same user) */
    char peer[64];
    weir_rest_fmt_t fmt;
    int reset;
    bool auto_commit;
    int64_t fetch_min_bytes;
    int64_t request_timeout_ms; /* -1: consumer.request.timeout.ms */
    int64_t last_used_ms;       /* monotonic */
    /* Subscription (group mode) or manual assignment. */
    char **topics; /* explicit topics, sorted */
    size_t ntopics;
    char *pattern;
    pcre2_code *re;
    char **subscribed; /* what the member joined with (pattern resolved) */
    size_t nsubscribed;
    bool manual;
    restc_part_t *parts;
    size_t nparts;
    size_t rr;  /* first partition of the next read (fairness) */
    bool dirty; /* positions moved since the last auto commit */
    int64_t last_commit_ms;
    /* Group membership. */
    int gstate;
    char *member_id;
    int32_t generation;
    restc_gop_t *gop;
    bool rejoin;
    int64_t next_heartbeat_ms, retry_ms;
    /* The GET records in service. */
    restc_fetch_t *fetch;
    bool dead;
    /* As leader: the partition counts the assignment was computed with
     * (a topic created or grown later makes the leader rejoin, as Kafka's
     * leader does on a metadata change). */
    char **lead_topics;
    int32_t *lead_nparts;
    size_t nlead;
};

struct weir_rest_consumer_s {
    weir_broker_t *brk;
    restc_inst_t *head;
    size_t count;
    uv_timer_t timer;
    bool timer_open;
    bool stopped;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int64_t
restc_now(void)
{
    return weir_mono_ms();
}

static weir_str_t
restc_s(const char *s)
{
    weir_str_t r = {.len = s ? (int32_t)strlen(s) : -1, .ptr = s};
    return r;
}

static void
restc_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int
restc_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether principal p (from peer) may do op on a resource: the Kafka
 * path's decision (ACLs, super users, admin group), denials logged and
 * audited as RestConsumer:<OP> unless quiet.  The authorizer decides per
 * connection, and an HTTP connection's requests may carry different Basic
 * credentials, so a connection-shaped stand-in carries this principal. */
static bool
restc_allowed(weir_broker_t *brk, const weir_principal_t *p, const char *peer, int res_type,
              const char *name, int op, bool quiet)
{
    weir_conn_t *c;
    bool ok;

    if (!brk->authz)
        return true;
    c = weir_calloc(1, sizeof(*c));
    snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "");
    weir_principal_set(&c->principal, p->method, p->user, p->groups, p->ngroups);
    ok = weir_authz_allowed(brk->authz, c, "RestConsumer", res_type, name, strlen(name), op, quiet);
    weir_authz_session_free(c->authz);
    weir_principal_clear(&c->principal);
    free(c);
    return ok;
}

static const char *
restc_peer(const weir_http_req_t *req)
{
    return req->conn ? req->conn->peer : "";
}

static int
restc_deny(weir_http_req_t *req, const char *what, const char *name)
{
    char who[256];

    weir_principal_str(&req->principal, who, sizeof(who));
    weir_http_respond_error(req, 403, RESTC_E_DENIED, "Not authorized to access %s %s (%s)", what,
                            name, who);
    return 0;
}

static weir_partition_t *
restc_partition(weir_broker_t *brk, const char *topic, int32_t partition)
{
    return weir_broker_partition(brk, restc_s(topic), partition);
}

static restc_part_t *
restc_part_find(restc_inst_t *in, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < in->nparts; i++)
        if (in->parts[i].partition == partition && strcmp(in->parts[i].topic, topic) == 0)
            return &in->parts[i];
    return NULL;
}

/* Replaces the assignment with l (sorted), keeping the positions of
 * partitions that stay. */
static void
restc_set_parts(restc_inst_t *in, const weir_restc_tplist_t *l)
{
    restc_part_t *np = l->n ? weir_calloc(l->n, sizeof(*np)) : NULL;

    for (size_t i = 0; i < l->n; i++) {
        restc_part_t *old = restc_part_find(in, l->v[i].topic, l->v[i].partition);
        np[i].topic = weir_strdup(l->v[i].topic);
        np[i].partition = l->v[i].partition;
        np[i].position = old ? old->position : -1;
    }
    for (size_t i = 0; i < in->nparts; i++)
        free(in->parts[i].topic);
    free(in->parts);
    in->parts = np;
    in->nparts = l->n;
    in->rr = 0;
}

static void
restc_clear_parts(restc_inst_t *in)
{
    weir_restc_tplist_t empty = {0};
    restc_set_parts(in, &empty);
}

/* ------------------------------------------------------------------ */
/* Offsets                                                             */

typedef struct restc_commit_s {
    weir_gwait_t w;
    weir_http_req_t *req; /* NULL: an automatic commit, or the client went away */
    weir_commit_part_t *parts;
    int32_t n;
    char **topics; /* the strings parts[] point to */
    char **md;
} restc_commit_t;

static void
restc_commit_free(restc_commit_t *c)
{
    restc_strv_free(c->topics, (size_t)c->n);
    restc_strv_free(c->md, (size_t)c->n);
    free(c->parts);
    free(c);
}

static void
restc_commit_cancel(weir_http_req_t *req)
{
    restc_commit_t *c = req->ctx;
    c->req = NULL;
}

static void
restc_commit_done(weir_gwait_t *w)
{
    restc_commit_t *c = w->opaque;
    weir_http_req_t *req = c->req;
    weir_kerr_t err = WEIR_KERR_NONE;
    const char *what = "";

    for (int32_t i = 0; i < c->n && !err; i++) {
        if (c->parts[i].err) {
            err = c->parts[i].err;
            what = c->topics[i];
        }
    }
    if (err && !req)
        WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_autocommit_failed", "topic=%s err=%s", what,
                 weir_kerr_name(err));
    if (req) {
        req->cancel = NULL;
        req->ctx = NULL;
        if (!err)
            weir_http_respond(req, 200, NULL, "", 0);
        else if (err == WEIR_KERR_UNKNOWN_MEMBER_ID || err == WEIR_KERR_ILLEGAL_GENERATION ||
                 err == WEIR_KERR_REBALANCE_IN_PROGRESS)
            weir_http_respond_error(req, 409, RESTC_E_STATE,
                                    "Commit failed: the consumer group rebalanced (%s); read "
                                    "again and commit after the rebalance",
                                    weir_kerr_name(err));
        else
            weir_http_respond_error(req, 500, RESTC_E_KAFKA, "Commit failed for topic %s: %s", what,
                                    weir_kerr_name(err));
    }
    restc_commit_free(c);
}

/* Commits offsets[i] for each (topic, partition) of l, with metadata[i]
 * (may be NULL); answers req when given (deferred), else logs failures. */
static void
restc_commit(restc_inst_t *in, weir_http_req_t *req, const weir_restc_tplist_t *l,
             const int64_t *offsets, char *const *metadata)
{
    weir_coord_t *co = in->rc->brk->coord;
    restc_commit_t *c;
    bool member = !in->manual && in->member_id && in->gstate != RESTC_G_NONE;

    if (!co) {
        if (req)
            weir_http_respond_error(req, 503, RESTC_E_UNAVAILABLE,
                                    "The group coordinator is not available");
        return;
    }
    if (l->n == 0) {
        if (req)
            weir_http_respond(req, 200, NULL, "", 0);
        return;
    }
    c = weir_calloc(1, sizeof(*c));
    c->req = req;
    c->n = (int32_t)l->n;
    c->parts = weir_calloc(l->n, sizeof(*c->parts));
    c->topics = weir_calloc(l->n, sizeof(*c->topics));
    c->md = weir_calloc(l->n, sizeof(*c->md));
    for (size_t i = 0; i < l->n; i++) {
        c->topics[i] = weir_strdup(l->v[i].topic);
        c->md[i] = weir_strdup(metadata && metadata[i] ? metadata[i] : "");
        c->parts[i].topic = restc_s(c->topics[i]);
        c->parts[i].partition = l->v[i].partition;
        c->parts[i].offset = offsets[i];
        c->parts[i].leader_epoch = -1;
        c->parts[i].metadata = restc_s(c->md[i]);
    }
    c->w.done = restc_commit_done;
    c->w.opaque = c;
    if (req) {
        req->ctx = c;
        req->cancel = restc_commit_cancel;
    }
    in->last_commit_ms = restc_now();
    /* done may run before this returns */
    weir_coord_commit(co, restc_s(in->group), member ? in->generation : -1,
                      restc_s(member ? in->member_id : ""), WEIR_STR_NULL, c->parts, c->n, &c->w);
}

/* The positions of every assigned partition that has one. */
static void
restc_commit_positions(restc_inst_t *in, weir_http_req_t *req)
{
    weir_restc_tplist_t l = {0};
    int64_t *offs = weir_calloc(in->nparts + 1, sizeof(*offs));

    for (size_t i = 0; i < in->nparts; i++) {
        if (in->parts[i].position < 0)
            continue;
        offs[l.n] = in->parts[i].position;
        weir_restc_tplist_add(&l, in->parts[i].topic, in->parts[i].partition);
    }
    in->dirty = false;
    restc_commit(in, req, &l, offs, NULL);
    weir_restc_tplist_clear(&l);
    free(offs);
}

/* ------------------------------------------------------------------ */
/* Group membership                                                    */

static void restc_join(restc_inst_t *in);
static void restc_fetch_kick(restc_fetch_t *f);

static int32_t
restc_nparts(void *arg, const char *topic)
{
    weir_broker_t *brk = arg;
    weir_topic_t *t = weir_broker_topic_find(brk, topic, strlen(topic));

    return t ? t->npartitions : -1;
}

/* The topics a pattern subscription covers now: existing topics matching
 * the whole pattern that the owner may read (quietly, as Kafka filters). */
static void
restc_resolve_pattern(restc_inst_t *in, char ***out, size_t *n)
{
    weir_broker_t *brk = in->rc->brk;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(in->re, NULL);
    char **v = weir_calloc(brk->ntopics + 1, sizeof(*v));
    size_t k = 0;

    for (size_t i = 0; i < brk->ntopics; i++) {
        const char *name = brk->topics[i]->name;
        int rc = pcre2_match(in->re, (PCRE2_SPTR)name, strlen(name), 0,
                             PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
        if (rc < 0)
            continue;
        if (!restc_allowed(brk, &in->owner, in->peer, WEIR_ACL_RES_TOPIC, name, WEIR_ACL_OP_READ,
                           true))
            continue;
        v[k++] = weir_strdup(name);
    }
    pcre2_match_data_free(md);
    *out = v;
    *n = k;
}

static bool
restc_same_topics(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

static void
restc_set_subscribed(restc_inst_t *in, char **v, size_t n)
{
    restc_strv_free(in->subscribed, in->nsubscribed);
    in->subscribed = v;
    in->nsubscribed = n;
}

/* The leader's SyncGroup assignments from a JoinGroup result. */
static void
restc_leader_assign(restc_inst_t *in, weir_gwait_t *w, weir_str_t **ids_out, weir_str_t **as_out,
                    uint8_t ***bufs_out, int32_t *n_out)
{
    int32_t n = w->nmembers;
    weir_restc_member_t *ms = weir_calloc((size_t)n + 1, sizeof(*ms));
    weir_str_t *ids = weir_calloc((size_t)n + 1, sizeof(*ids));
    weir_str_t *as = weir_calloc((size_t)n + 1, sizeof(*as));
    uint8_t **bufs = weir_calloc((size_t)n + 1, sizeof(*bufs));

    for (int32_t i = 0; i < n; i++) {
        ms[i].member_id = w->members[i].member_id;
        if (weir_restc_subscription_decode(w->members[i].metadata,
                                           (size_t)w->members[i].metadata_len, &ms[i].topics,
                                           &ms[i].ntopics) != 0)
            WEIR_LOG(WEIR_LOG_WARN, "rest_consumer_bad_subscription",
                     "group=%s member=%s note=\"assigned nothing\"", in->group,
                     w->members[i].member_id);
    }
    restc_strv_free(in->lead_topics, in->nlead);
    free(in->lead_nparts);
    in->lead_topics = NULL;
    in->lead_nparts = NULL;
    in->nlead = 0;
    for (int32_t i = 0; i < n; i++) {
        for (size_t k = 0; k < ms[i].ntopics; k++) {
            size_t j;
            for (j = 0; j < in->nlead && strcmp(in->lead_topics[j], ms[i].topics[k]); j++)
                ;
            if (j < in->nlead)
                continue;
            in->lead_topics = weir_realloc(in->lead_topics, (j + 1) * sizeof(char *));
            in->lead_nparts = weir_realloc(in->lead_nparts, (j + 1) * sizeof(int32_t));
            in->lead_topics[j] = weir_strdup(ms[i].topics[k]);
            in->lead_nparts[j] = restc_nparts(in->rc->brk, ms[i].topics[k]);
            in->nlead++;
        }
    }
    if (weir_restc_assign(w->protocol_name ? w->protocol_name : "", ms, (size_t)n, restc_nparts,
                          in->rc->brk) != 0)
        WEIR_LOG(WEIR_LOG_WARN, "rest_consumer_unknown_assignor", "group=%s protocol=%s", in->group,
                 w->protocol_name ? w->protocol_name : "");
    for (int32_t i = 0; i < n; i++) {
        int32_t len;
        bufs[i] = weir_restc_assignment_encode(&ms[i].assigned, &len);
        ids[i] = restc_s(w->members[i].member_id);
        as[i].ptr = (const char *)bufs[i];
        as[i].len = len;
        weir_restc_tplist_clear(&ms[i].assigned);
        weir_restc_topics_free(ms[i].topics, ms[i].ntopics);
    }
    free(ms);
    *ids_out = ids;
    *as_out = as;
    *bufs_out = bufs;
    *n_out = n;
}

static bool
restc_retriable_now(weir_kerr_t err)
{
    return err == WEIR_KERR_UNKNOWN_MEMBER_ID || err == WEIR_KERR_MEMBER_ID_REQUIRED ||
           err == WEIR_KERR_REBALANCE_IN_PROGRESS || err == WEIR_KERR_ILLEGAL_GENERATION;
}

static void
restc_group_failed(restc_inst_t *in, weir_kerr_t err, const char *step)
{
    in->gstate = RESTC_G_NONE;
    if (err == WEIR_KERR_UNKNOWN_MEMBER_ID) {
        free(in->member_id);
        in->member_id = NULL;
    }
    if (in->rc->stopped || !in->rc->brk->coord)
        return;
    if (restc_retriable_now(err)) {
        restc_join(in);
        return;
    }
    WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_group_error", "group=%s instance=%s step=%s err=%s",
             in->group, in->name, step, weir_kerr_name(err));
    in->retry_ms = restc_now() + RESTC_RETRY_MS;
}

/* Starts a group operation of in: its waiter, now in->gop, calls done;
 * in->gstate becomes gstate. */
static restc_gop_t *
restc_gop_start(restc_inst_t *in, void (*done)(weir_gwait_t *w), int gstate)
{
    restc_gop_t *op = weir_calloc(1, sizeof(*op));

    op->inst = in;
    op->w.done = done;
    op->w.opaque = op;
    in->gop = op;
    in->gstate = gstate;
    return op;
}

static void
restc_sync_done(weir_gwait_t *w)
{
    restc_gop_t *op = w->opaque;
    restc_inst_t *in = op->inst;
    weir_restc_tplist_t l = {0};

    if (!in)
        goto out;
    in->gop = NULL;
    if (w->err) {
        restc_group_failed(in, w->err, "sync");
        goto out;
    }
    if (in->rejoin) {
        restc_join(in);
        goto out;
    }
    if (weir_restc_assignment_decode(w->assignment, (size_t)w->assignment_len, &l) != 0) {
        WEIR_LOG(WEIR_LOG_WARN, "rest_consumer_bad_assignment", "group=%s instance=%s", in->group,
                 in->name);
        weir_restc_tplist_clear(&l);
    }
    restc_set_parts(in, &l);
    weir_restc_tplist_clear(&l);
    in->gstate = RESTC_G_STABLE;
    in->next_heartbeat_ms = restc_now() + RESTC_HEARTBEAT_MS;
    WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_assigned",
             "group=%s instance=%s member=%s generation=%d partitions=%zu", in->group, in->name,
             in->member_id, in->generation, in->nparts);
    if (in->fetch)
        restc_fetch_kick(in->fetch);
out:
    weir_gwait_release(w);
    free(op);
}

static void
restc_join_done(weir_gwait_t *w)
{
    restc_gop_t *op = w->opaque;
    restc_inst_t *in = op->inst;
    weir_coord_t *co;
    weir_str_t *ids = NULL, *as = NULL;
    uint8_t **bufs = NULL;
    int32_t n = 0;
    restc_gop_t *sop;

    if (!in)
        goto out;
    in->gop = NULL;
    if (w->member_id && *w->member_id) {
        free(in->member_id);
        in->member_id = weir_strdup(w->member_id);
    }
    co = in->rc->brk->coord;
    if (w->err || !co) {
        restc_group_failed(in, w->err ? w->err : WEIR_KERR_COORDINATOR_NOT_AVAILABLE, "join");
        goto out;
    }
    in->generation = w->generation_id;
    if (in->rejoin) {
        restc_join(in);
        goto out;
    }
    if (w->leader_id && strcmp(w->leader_id, in->member_id) == 0)
        restc_leader_assign(in, w, &ids, &as, &bufs, &n);
    sop = restc_gop_start(in, restc_sync_done, RESTC_G_SYNCING);
    weir_coord_sync(co, restc_s(in->group), in->generation, restc_s(in->member_id), WEIR_STR_NULL,
                    ids, as, n, &sop->w);
    for (int32_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(ids);
    free(as);
out:
    weir_gwait_release(w);
    free(op);
}

/* Joins (or rejoins) the group with the current subscription. */
static void
restc_join(restc_inst_t *in)
{
    weir_coord_t *co = in->rc->brk->coord;
    static const char *const names[] = {"range", "roundrobin"};
    weir_str_t pnames[2], pmeta[2];
    weir_join_args_t a;
    restc_gop_t *op;
    uint8_t *md;
    int32_t mdlen;
    char client_id[300];

    if (in->dead || in->manual || in->rc->stopped || !co)
        return;
    if (in->gop) {
        in->rejoin = true;
        return;
    }
    in->rejoin = false;
    restc_strv_free(in->lead_topics, in->nlead);
    free(in->lead_nparts);
    in->lead_topics = NULL;
    in->lead_nparts = NULL;
    in->nlead = 0;
    if (in->re) {
        char **v;
        size_t n;
        restc_resolve_pattern(in, &v, &n);
        restc_set_subscribed(in, v, n);
    }
    md = weir_restc_subscription_encode(in->subscribed, in->nsubscribed, &mdlen);
    for (int i = 0; i < 2; i++) {
        pnames[i] = restc_s(names[i]);
        pmeta[i].ptr = (const char *)md;
        pmeta[i].len = mdlen;
    }
    snprintf(client_id, sizeof(client_id), "rest-proxy-%s", in->name);
    memset(&a, 0, sizeof(a));
    a.group_id = restc_s(in->group);
    a.member_id = in->member_id ? restc_s(in->member_id) : restc_s("");
    a.instance_id = WEIR_STR_NULL;
    a.protocol_type = restc_s("consumer");
    a.client_id = restc_s(client_id);
    a.client_host = in->peer;
    a.session_timeout_ms =
        WEIR_MAX(RESTC_SESSION_TIMEOUT_MS, in->rc->brk->conf->group_min_session_timeout_ms);
    a.session_timeout_ms =
        WEIR_MIN(a.session_timeout_ms, in->rc->brk->conf->group_max_session_timeout_ms);
    a.rebalance_timeout_ms = RESTC_REBALANCE_TIMEOUT_MS;
    a.require_known_member_id = false;
    a.nprotocols = 2;
    a.protocol_names = pnames;
    a.protocol_metadata = pmeta;
    op = restc_gop_start(in, restc_join_done, RESTC_G_JOINING);
    weir_coord_join(co, &a, &op->w); /* may complete before it returns */
    free(md);
}

/* Leaves the group (after an automatic commit when enabled). */
static void
restc_leave(restc_inst_t *in, bool commit)
{
    weir_coord_t *co = in->rc->brk->coord;

    if (in->gop) {
        in->gop->inst = NULL;
        if (co)
            weir_gwait_cancel(&in->gop->w);
        /* A cancelled waiter's done callback does not run: free it here. */
        if (co) {
            weir_gwait_release(&in->gop->w);
            free(in->gop);
        }
        in->gop = NULL;
    }
    if (commit && in->auto_commit && in->nparts && co)
        restc_commit_positions(in, NULL);
    if (co && in->member_id) {
        weir_leave_member_t lm = {.member_id = restc_s(in->member_id),
                                  .instance_id = WEIR_STR_NULL};
        weir_coord_leave(co, restc_s(in->group), &lm, 1);
    }
    free(in->member_id);
    in->member_id = NULL;
    in->gstate = RESTC_G_NONE;
    in->generation = -1;
    in->rejoin = false;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

enum { RESTC_F_WAIT = 0, RESTC_F_READ, RESTC_F_DONE };

typedef struct restc_slice_s {
    char *topic;
    int32_t partition;
    int64_t start; /* the position it was read from */
    weir_slice_t slice;
    int64_t bytes; /* slice.len (kept after the slice is released) */
    int64_t next;  /* out: the position after what was returned */
    size_t nrecs;
} restc_slice_t;

typedef struct restc_rec_s {
    uint32_t sidx;
    int64_t offset;
    uint8_t *key; /* NULL with klen -1: null */
    int64_t klen;
    uint8_t *value;
    int64_t vlen;
} restc_rec_t;

typedef struct restc_fwait_s {
    weir_waiter_t w;
    restc_fetch_t *f;
} restc_fwait_t;

struct restc_fetch_s {
    restc_inst_t *inst;
    weir_http_req_t *req;
    char ctype[80];
    int64_t deadline_ms;
    int64_t max_bytes;
    int state;
    uv_timer_t timer;
    restc_fwait_t *waits;
    size_t nwaits;
    uv_work_t work;
    restc_slice_t *slices;
    size_t nslices;
    restc_rec_t *recs;
    size_t nrecs, caprecs;
    int io_err;
};

static void restc_fetch_step(restc_fetch_t *f);

static void
restc_fetch_unlink(restc_fetch_t *f)
{
    for (size_t i = 0; i < f->nwaits; i++) {
        weir_waiter_t *w = &f->waits[i].w;
        if (w->next != w) {
            w->prev->next = w->next;
            w->next->prev = w->prev;
            w->prev = w->next = w;
        }
    }
    free(f->waits);
    f->waits = NULL;
    f->nwaits = 0;
}

static void
restc_fetch_release(restc_fetch_t *f)
{
    for (size_t i = 0; i < f->nslices; i++) {
        weir_slice_release(&f->slices[i].slice);
        free(f->slices[i].topic);
    }
    free(f->slices);
    f->slices = NULL;
    f->nslices = 0;
    for (size_t i = 0; i < f->nrecs; i++) {
        free(f->recs[i].key);
        free(f->recs[i].value);
    }
    free(f->recs);
    f->recs = NULL;
    f->nrecs = f->caprecs = 0;
}

static void restc_inst_free(restc_inst_t *in);

static void
restc_fetch_closed(uv_handle_t *h)
{
    restc_fetch_t *f = h->data;

    restc_fetch_release(f);
    free(f);
}

/* Ends the fetch (already answered or abandoned): the instance forgets it,
 * and a dead instance it kept alive is freed. */
static void
restc_fetch_finish(restc_fetch_t *f)
{
    restc_inst_t *in = f->inst;

    f->state = RESTC_F_DONE;
    restc_fetch_unlink(f);
    if (f->req) {
        f->req->cancel = NULL;
        f->req->ctx = NULL;
    }
    f->req = NULL;
    if (in && in->fetch == f) {
        in->fetch = NULL;
        if (in->dead)
            restc_inst_free(in);
    }
    f->inst = NULL;
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, restc_fetch_closed);
}

static void
restc_fetch_on_timer(uv_timer_t *t)
{
    restc_fetch_step(t->data);
}

static void
restc_fetch_kick(restc_fetch_t *f)
{
    if (f->state == RESTC_F_WAIT)
        uv_timer_start(&f->timer, restc_fetch_on_timer, 0, 0);
}

static void
restc_fetch_on_append(weir_waiter_t *w, int64_t bytes)
{
    restc_fwait_t *fw = weir_container_of(w, restc_fwait_t, w);

    (void)bytes;
    /* Next loop iteration, outside the append path. */
    restc_fetch_kick(fw->f);
}

static void
restc_fetch_cancel(weir_http_req_t *req)
{
    restc_fetch_t *f = req->ctx;

    f->req = NULL;
    if (f->state == RESTC_F_WAIT)
        restc_fetch_finish(f);
    /* RESTC_F_READ: the job's completion sees no request and finishes. */
}

/* Answers the fetch's request with records (taking arr) and ends the
 * fetch - first: answering may start the connection's next request at once
 * (it may already be read), which may be a GET records of this instance. */
static void
restc_respond_records(restc_fetch_t *f, json_t *arr)
{
    weir_http_req_t *req = f->req;
    char *body = json_dumps(arr, JSON_COMPACT);
    char ctype[sizeof(f->ctype)];

    json_decref(arr);
    memcpy(ctype, f->ctype, sizeof(ctype));
    restc_fetch_finish(f);
    if (req)
        weir_http_respond(req, 200, ctype, body, strlen(body));
    free(body);
}

static void restc_fetch_error(restc_fetch_t *f, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers the fetch's request with an error and ends the fetch (first, as
 * above). */
static void
restc_fetch_error(restc_fetch_t *f, int status, int code, const char *fmt, ...)
{
    weir_http_req_t *req = f->req;
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    restc_fetch_finish(f);
    if (req)
        weir_http_respond_error(req, status, code, "%s", msg);
}

/* Where a partition without a position starts: the committed offset, else
 * auto.offset.reset.  Returns false (with msg) for reset "none". */
static bool
restc_resolve_position(restc_inst_t *in, restc_part_t *p, weir_partition_t *part, char *msg,
                       size_t msgsz)
{
    weir_coord_t *co = in->rc->brk->coord;
    int64_t c = co ? weir_coord_committed_offset(co, in->group, p->topic, p->partition) : -1;

    if (c >= 0) {
        p->position = c;
        return true;
    }
    if (in->reset == RESTC_RESET_NONE) {
        snprintf(msg, msgsz, "No committed offset for %s-%d and auto.offset.reset is none",
                 p->topic, p->partition);
        return false;
    }
    p->position = in->reset == RESTC_RESET_EARLIEST ? weir_plog_start_offset(part->log)
                                                    : weir_plog_end_offset(part->log);
    return true;
}

static void restc_read_work(uv_work_t *w);
static void restc_read_done(uv_work_t *w, int status);

/* Looks for records: starts the read job, answers, or waits. */
static void
restc_fetch_step(restc_fetch_t *f)
{
    restc_inst_t *in = f->inst;
    weir_broker_t *brk;
    int64_t total = 0, now = restc_now(), budget;
    bool ready;
    char msg[256];

    restc_fetch_unlink(f);
    if (!f->req) {
        restc_fetch_finish(f);
        return;
    }
    if (!in || in->dead) {
        restc_fetch_error(f, 404, RESTC_E_NOT_FOUND, "Consumer instance not found.");
        return;
    }
    brk = in->rc->brk;
    in->last_used_ms = now;
    ready = !in->rc->stopped && (in->manual || in->gstate == RESTC_G_STABLE);
    budget = f->max_bytes;
    for (size_t k = 0; ready && k < in->nparts && total < budget; k++) {
        size_t i = (in->rr + k) % in->nparts;
        restc_part_t *p = &in->parts[i];
        weir_partition_t *part = restc_partition(brk, p->topic, p->partition);
        weir_slice_t s;
        weir_kerr_t err;

        if (!part || !part->log)
            continue;
        if (p->position < 0 && !restc_resolve_position(in, p, part, msg, sizeof(msg))) {
            restc_fetch_release(f);
            restc_fetch_error(f, 409, RESTC_E_STATE, "%s", msg);
            return;
        }
        err = weir_plog_read(part->log, p->position, budget - total, total == 0, &s);
        if (err == WEIR_KERR_OFFSET_OUT_OF_RANGE) {
            WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_offset_reset",
                     "group=%s instance=%s topic=%s partition=%d position=%" PRId64, in->group,
                     in->name, p->topic, p->partition, p->position);
            p->position = -1;
            if (in->reset == RESTC_RESET_NONE ||
                !restc_resolve_position(in, p, part, msg, sizeof(msg)))
                continue;
            /* A committed offset out of range: the reset policy. */
            err = weir_plog_read(part->log, p->position, budget - total, total == 0, &s);
            if (err == WEIR_KERR_OFFSET_OUT_OF_RANGE) {
                p->position = in->reset == RESTC_RESET_EARLIEST ? weir_plog_start_offset(part->log)
                                                                : weir_plog_end_offset(part->log);
                err = weir_plog_read(part->log, p->position, budget - total, total == 0, &s);
            }
        }
        if (err || s.len == 0) {
            weir_slice_release(&s);
            continue;
        }
        f->slices = weir_realloc(f->slices, (f->nslices + 1) * sizeof(*f->slices));
        memset(&f->slices[f->nslices], 0, sizeof(f->slices[0]));
        f->slices[f->nslices].topic = weir_strdup(p->topic);
        f->slices[f->nslices].partition = p->partition;
        f->slices[f->nslices].start = p->position;
        f->slices[f->nslices].next = p->position;
        f->slices[f->nslices].slice = s;
        f->slices[f->nslices].bytes = s.len;
        f->nslices++;
        total += s.len;
    }
    if (total > 0 && (total >= in->fetch_min_bytes || now >= f->deadline_ms || in->rc->stopped)) {
        if (in->nparts)
            in->rr = (in->rr + 1) % in->nparts;
        f->state = RESTC_F_READ;
        f->work.data = f;
        uv_queue_work(brk->loop, &f->work, restc_read_work, restc_read_done);
        return;
    }
    restc_fetch_release(f);
    if (now >= f->deadline_ms || in->rc->stopped) {
        restc_respond_records(f, json_array());
        return;
    }
    /* Wait for appends to any assigned partition, an assignment, or the
     * deadline. */
    f->waits = in->nparts ? weir_calloc(in->nparts, sizeof(*f->waits)) : NULL;
    for (size_t i = 0; ready && i < in->nparts; i++) {
        weir_partition_t *part = restc_partition(brk, in->parts[i].topic, in->parts[i].partition);
        restc_fwait_t *fw = &f->waits[f->nwaits];

        if (!part)
            continue;
        fw->f = f;
        fw->w.on_append = restc_fetch_on_append;
        fw->w.next = &part->waiters;
        fw->w.prev = part->waiters.prev;
        part->waiters.prev->next = &fw->w;
        part->waiters.prev = &fw->w;
        f->nwaits++;
    }
    uv_timer_start(&f->timer, restc_fetch_on_timer, (uint64_t)(f->deadline_ms - now), 0);
}

static bool
restc_pread_all(int fd, uint8_t *buf, size_t len, int64_t pos)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = pread(fd, buf + done, len - done, (off_t)(pos + (int64_t)done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

static uint8_t *
restc_dup(const char *p, int32_t len)
{
    uint8_t *b;

    if (len < 0)
        return NULL;
    b = weir_malloc((size_t)len + 1);
    if (len)
        memcpy(b, p, (size_t)len);
    b[len] = 0;
    return b;
}

/* Worker pool: reads the slices and copies out the records at or after
 * each start position, up to max_bytes of keys and values (at least one
 * record). */
static void
restc_read_work(uv_work_t *w)
{
    restc_fetch_t *f = w->data;
    int64_t used = 0;
    bool full = false;

    for (size_t si = 0; si < f->nslices && !full; si++) {
        restc_slice_t *s = &f->slices[si];
        uint8_t *buf = weir_malloc((size_t)s->slice.len + 1);
        size_t off = 0;

        if (!restc_pread_all(s->slice.fd, buf, (size_t)s->slice.len, s->slice.pos)) {
            f->io_err = errno ? errno : EIO;
            free(buf);
            break;
        }
        while (off + WEIR_BATCH_HDR_SIZE <= (size_t)s->slice.len && !full) {
            weir_batch_hdr_t h;
            weir_record_iter_t it;
            weir_record_t rec;
            size_t size;

            weir_batch_hdr_decode(buf + off, &h);
            size = weir_batch_total_size(&h);
            if (h.batch_length < 0 || size > (size_t)s->slice.len - off)
                break;
            if (!(h.attributes & WEIR_BATCH_ATTR_CONTROL) &&
                h.base_offset + h.last_offset_delta >= s->start) {
                if (weir_record_iter_init(&it, buf + off, size,
                                          WEIR_RECORDS_SCAN_MAX_DECOMPRESSED) != 0) {
                    f->io_err = EILSEQ;
                    full = true;
                    break;
                }
                while (weir_record_iter_next(&it, &rec)) {
                    int64_t sz;
                    restc_rec_t *r;

                    if (rec.offset < s->start)
                        continue;
                    sz = (rec.key.len > 0 ? rec.key.len : 0) +
                         (rec.value.len > 0 ? rec.value.len : 0);
                    if (f->nrecs > 0 && used + sz > f->max_bytes) {
                        full = true;
                        break;
                    }
                    if (f->nrecs == f->caprecs) {
                        f->caprecs = f->caprecs ? f->caprecs * 2 : 64;
                        f->recs = weir_realloc(f->recs, f->caprecs * sizeof(*f->recs));
                    }
                    r = &f->recs[f->nrecs++];
                    r->sidx = (uint32_t)si;
                    r->offset = rec.offset;
                    r->key = restc_dup(rec.key.ptr, rec.key.len);
                    r->klen = rec.key.len;
                    r->value = restc_dup(rec.value.ptr, rec.value.len);
                    r->vlen = rec.value.len;
                    used += sz;
                    s->next = rec.offset + 1;
                    s->nrecs++;
                }
                if (!full && it.err) {
                    f->io_err = EILSEQ;
                    full = true;
                }
                weir_record_iter_free(&it);
            }
            if (!full && h.base_offset + h.last_offset_delta + 1 > s->next)
                s->next = h.base_offset + h.last_offset_delta + 1;
            off += size;
        }
        free(buf);
    }
}

/* A key or value in the instance's format; NULL with msg on failure. */
static json_t *
restc_render(restc_inst_t *in, const uint8_t *p, int64_t len, char *msg, size_t msgsz)
{
    weir_registry_t *reg = in->rc->brk->registry;
    const weir_reg_schema_t *sch;
    weir_reg_err_t rerr;
    json_error_t je;
    json_t *j;
    char *b64;
    int32_t id;

    if (len < 0 || !p)
        return json_null();
    switch (in->fmt) {
    case WEIR_REST_FMT_BINARY:
        b64 = weir_malloc(weir_base64_encoded_len((size_t)len) + 1);
        weir_base64_encode(p, (size_t)len, b64);
        j = json_string(b64);
        free(b64);
        return j;
    case WEIR_REST_FMT_JSON:
        j = json_loadb((const char *)p, (size_t)len, JSON_DECODE_ANY, &je);
        if (!j)
            snprintf(msg, msgsz, "not JSON: %s", je.text);
        return j;
    case WEIR_REST_FMT_JSONSCHEMA:
    case WEIR_REST_FMT_AVRO:
        if (len < 5 || p[0] != 0) {
            snprintf(msg, msgsz,
                     "not in the Schema Registry's format (magic byte 0 and a "
                     "schema id)");
            return NULL;
        }
        id = (int32_t)weir_be32(p + 1);
        if (in->fmt == WEIR_REST_FMT_JSONSCHEMA) {
            j = json_loadb((const char *)p + 5, (size_t)len - 5, JSON_DECODE_ANY, &je);
            if (!j)
                snprintf(msg, msgsz, "not JSON after the schema id: %s", je.text);
            return j;
        }
        memset(&rerr, 0, sizeof(rerr));
        if (!reg || weir_registry_schema_by_id(reg, id, &sch, &rerr) != 0 || !sch->avro) {
            snprintf(msg, msgsz, "schema id %d is not a registered Avro schema", id);
            weir_reg_err_clear(&rerr);
            return NULL;
        }
        return weir_restc_avro_to_json(sch->avro->root, p + 5, (size_t)len - 5, msg, msgsz);
    default:
        snprintf(msg, msgsz, "no embedded format");
        return NULL;
    }
}

/* Records bytes read for the request's principal against its fetch quota
 * (its override or its tenant's rate), as a Kafka Fetch of that size would.
 * Returns the throttle time in ms; over the quota the bytes are taken back
 * and, as Kafka answers a throttled fetch, the answer carries no records.
 * The authorizer keeps quota sessions per connection: the connection stands
 * in for the request's principal while the quota is recorded. */
static int32_t
restc_quota_fetch(weir_http_req_t *req, int64_t bytes)
{
    weir_principal_t saved;
    weir_req_t shim;
    int32_t ms;

    if (!req->brk->authz || !req->conn)
        return 0;
    memset(&shim, 0, sizeof(shim));
    shim.brk = req->brk;
    shim.conn = req->conn;
    shim.ApiKey = WEIR_API_Fetch;
    saved = req->conn->principal;
    req->conn->principal = req->principal;
    ms = weir_req_quota_fetch(&shim, bytes);
    req->conn->principal = saved;
    return ms;
}

static void
restc_read_done(uv_work_t *w, int status)
{
    restc_fetch_t *f = w->data;
    restc_inst_t *in = f->inst;
    weir_broker_t *brk;
    json_t *arr;
    char msg[512];

    (void)status;
    for (size_t i = 0; i < f->nslices; i++)
        weir_slice_release(&f->slices[i].slice);
    f->state = RESTC_F_WAIT;
    if (!f->req || !in || in->dead || in->rc->stopped) {
        if (f->req && in && !in->rc->stopped)
            restc_fetch_error(f, 404, RESTC_E_NOT_FOUND, "Consumer instance not found.");
        else if (f->req)
            restc_respond_records(f, json_array());
        else
            restc_fetch_finish(f);
        return;
    }
    brk = in->rc->brk;
    if (f->io_err && f->nrecs == 0) {
        const char *why =
            f->io_err == EILSEQ ? "a record batch could not be decoded" : strerror(f->io_err);
        WEIR_LOG(WEIR_LOG_ERROR, "rest_consumer_read_failed", "group=%s instance=%s err=\"%s\"",
                 in->group, in->name, why);
        restc_fetch_error(f, 500, RESTC_E_KAFKA, "Reading the partition log failed: %s", why);
        return;
    }
    {
        int64_t bytes = 0;
        int32_t ms;

        for (size_t i = 0; i < f->nslices; i++)
            bytes += f->slices[i].bytes;
        ms = restc_quota_fetch(f->req, bytes);
        if (ms > 0) {
            char v[16];
            weir_conn_t *conn = f->req->conn;

            snprintf(v, sizeof(v), "%d", ms);
            weir_http_set_header(f->req, "X-Weir-Throttle-Ms", v);
            if (conn)
                weir_conn_mute(conn, ms);
            restc_respond_records(f, json_array());
            return;
        }
    }
    arr = json_array();
    for (size_t i = 0; i < f->nrecs; i++) {
        restc_rec_t *r = &f->recs[i];
        restc_slice_t *s = &f->slices[r->sidx];
        json_t *k, *v, *o;

        msg[0] = '\0';
        k = restc_render(in, r->key, r->klen, msg, sizeof(msg));
        v = k ? restc_render(in, r->value, r->vlen, msg, sizeof(msg)) : NULL;
        if (!k || !v) {
            json_decref(k);
            json_decref(arr);
            restc_fetch_error(f, 500, RESTC_E_KAFKA,
                              "The %s of the record at %s-%d offset %" PRId64
                              " cannot be read as %s: %s",
                              k ? "value" : "key", s->topic, s->partition, r->offset,
                              weir_rest_fmt_name(in->fmt), msg);
            return;
        }
        o = json_object();
        json_object_set_new(o, "topic", json_string(s->topic));
        json_object_set_new(o, "key", k);
        json_object_set_new(o, "value", v);
        json_object_set_new(o, "partition", json_integer(s->partition));
        json_object_set_new(o, "offset", json_integer(r->offset));
        json_array_append_new(arr, o);
    }
    /* The positions move past what is answered (partitions still assigned
     * and not moved by a seek meanwhile). */
    for (size_t i = 0; i < f->nslices; i++) {
        restc_slice_t *s = &f->slices[i];
        restc_part_t *p = restc_part_find(in, s->topic, s->partition);
        weir_topic_t *t = weir_broker_topic_find(brk, s->topic, strlen(s->topic));

        if (p && p->position == s->start && s->next > s->start) {
            p->position = s->next;
            in->dirty = true;
        }
        if (t) {
            t->bytes_out += (uint64_t)s->bytes;
            t->records_out += s->nrecs;
        }
    }
    in->last_used_ms = restc_now();
    restc_respond_records(f, arr);
}

/* ------------------------------------------------------------------ */
/* Instances                                                           */

static void
restc_inst_free(restc_inst_t *in)
{
    free(in->group);
    free(in->name);
    weir_principal_clear(&in->owner);
    restc_strv_free(in->topics, in->ntopics);
    restc_strv_free(in->subscribed, in->nsubscribed);
    free(in->pattern);
    if (in->re)
        pcre2_code_free(in->re);
    for (size_t i = 0; i < in->nparts; i++)
        free(in->parts[i].topic);
    free(in->parts);
    free(in->member_id);
    restc_strv_free(in->lead_topics, in->nlead);
    free(in->lead_nparts);
    free(in);
}

/* Removes an instance: leaves its group, answers its waiting GET records,
 * and frees it (once a read job in flight has finished). */
static void
restc_inst_destroy(restc_inst_t *in, bool commit, const char *why)
{
    weir_rest_consumer_t *rc = in->rc;

    WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_destroyed", "group=%s instance=%s reason=\"%s\"",
             in->group, in->name, why);
    restc_leave(in, commit);
    in->dead = true;
    if (in->prev)
        in->prev->next = in->next;
    else
        rc->head = in->next;
    if (in->next)
        in->next->prev = in->prev;
    in->prev = in->next = NULL;
    rc->count--;
    if (in->fetch) {
        restc_fetch_t *f = in->fetch;
        if (f->state == RESTC_F_WAIT) {
            /* Answered now: [] when the broker stops, 404 when deleted. */
            /* Each ends the fetch, which frees in. */
            if (f->req && rc->stopped)
                restc_respond_records(f, json_array());
            else if (f->req)
                restc_fetch_error(f, 404, RESTC_E_NOT_FOUND, "Consumer instance not found.");
            else
                restc_fetch_finish(f);
        }
        return; /* a read job in flight frees it when it returns */
    }
    restc_inst_free(in);
}

static restc_inst_t *
restc_inst_get(weir_rest_consumer_t *rc, const char *group, const char *name)
{
    for (restc_inst_t *in = rc->head; in; in = in->next)
        if (strcmp(in->group, group) == 0 && strcmp(in->name, name) == 0)
            return in;
    return NULL;
}

/* The instance of the request's path, or NULL after answering 404/403. */
static restc_inst_t *
restc_lookup(weir_http_req_t *req)
{
    weir_rest_consumer_t *rc = req->route->arg;
    const char *group = weir_http_param(req, "group");
    const char *name = weir_http_param(req, "instance");
    restc_inst_t *in;

    if (rc->stopped) {
        weir_http_respond_error(req, 503, RESTC_E_UNAVAILABLE, "The broker is shutting down");
        return NULL;
    }
    in = group && name ? restc_inst_get(rc, group, name) : NULL;
    if (!in) {
        weir_http_respond_error(req, 404, RESTC_E_NOT_FOUND, "Consumer instance not found.");
        return NULL;
    }
    if (strcmp(in->owner.user ? in->owner.user : "",
               req->principal.user ? req->principal.user : "") != 0) {
        char who[256], target[600];
        weir_principal_str(&req->principal, who, sizeof(who));
        snprintf(target, sizeof(target), "RestConsumer:%s/%s", in->group, in->name);
        if (rc->brk->authz)
            weir_authz_audit(rc->brk->authz, who, "RestConsumer:USE", target, "denied",
                             "the instance belongs to another principal");
        weir_http_respond_error(req, 403, RESTC_E_DENIED,
                                "Consumer instance %s belongs to another principal", in->name);
        return NULL;
    }
    in->last_used_ms = restc_now();
    return in;
}

static bool
restc_group_allowed(weir_http_req_t *req, const char *group)
{
    return restc_allowed(req->brk, &req->principal, restc_peer(req), WEIR_ACL_RES_GROUP, group,
                         WEIR_ACL_OP_READ, false);
}

static bool
restc_topic_allowed(weir_http_req_t *req, const char *topic)
{
    return restc_allowed(req->brk, &req->principal, restc_peer(req), WEIR_ACL_RES_TOPIC, topic,
                         WEIR_ACL_OP_READ, false);
}

/* A body that may be empty: {} then.  NULL after answering 422/400. */
static json_t *
restc_body(weir_http_req_t *req, bool allow_empty)
{
    char err[256];
    weir_rest_ctype_t ct;
    json_t *b;

    if (weir_rest_content_type(weir_http_header(req, "Content-Type"), &ct) != 0 ||
        ct.fmt != WEIR_REST_FMT_NONE) {
        weir_http_respond_error(req, 415, 415,
                                "Unsupported Content-Type: consumer requests "
                                "take application/vnd.kafka.v2+json or application/json");
        return NULL;
    }
    if (req->body_len == 0 && allow_empty)
        return json_object();
    b = weir_http_body_json(req, err, sizeof(err));
    if (!b) {
        weir_http_respond_error(req, 400, 400, "%s", err);
        return NULL;
    }
    if (!json_is_object(b)) {
        json_decref(b);
        weir_http_respond_error(req, 422, RESTC_E_INVALID,
                                "The request body must be a JSON "
                                "object");
        return NULL;
    }
    return b;
}

/* An integer setting given as a number or a decimal string. */
static bool
restc_int_field(json_t *v, int64_t *out)
{
    char *end;
    long long x;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    errno = 0;
    x = strtoll(json_string_value(v), &end, 10);
    if (errno || end == json_string_value(v) || *end)
        return false;
    *out = x;
    return true;
}

/* POST /consumers/{group} */
static int
restc_create(weir_http_req_t *req)
{
    weir_rest_consumer_t *rc = req->route->arg;
    const char *group = weir_http_param(req, "group");
    json_t *b, *v;
    restc_inst_t *in;
    char name[256], uri[1024];
    const char *host;
    int64_t x;
    int fmt = WEIR_REST_FMT_BINARY, reset = RESTC_RESET_LATEST;
    bool auto_commit = true;
    int64_t min_bytes = -1, rto = -1;
    const char *bad;

    if (rc->stopped) {
        weir_http_respond_error(req, 503, RESTC_E_UNAVAILABLE, "The broker is shutting down");
        return 0;
    }
    if (!group || !*group || strlen(group) > 249) {
        weir_http_respond_error(req, 422, RESTC_E_INVALID, "Invalid consumer group name");
        return 0;
    }
    if (!(b = restc_body(req, true)))
        return 0;
    if ((v = json_object_get(b, "name")) && !json_is_null(v)) {
        if (!json_is_string(v) || !weir_kafka_name_ok(json_string_value(v), 200)) {
            bad = "name must be 1 to 200 characters of [a-zA-Z0-9._-]";
            goto invalid;
        }
        snprintf(name, sizeof(name), "%s", json_string_value(v));
    } else {
        uint8_t r[8];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            memset(r, 0, sizeof(r));
        snprintf(name, sizeof(name), "rest-consumer-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
                 r[2], r[3], r[4], r[5], r[6], r[7]);
    }
    if ((v = json_object_get(b, "format")) && !json_is_null(v)) {
        fmt = json_is_string(v)
                  ? weir_rest_fmt_parse(json_string_value(v), strlen(json_string_value(v)))
                  : -1;
        if (fmt <= WEIR_REST_FMT_NONE) {
            bad = "format must be binary, json, avro or jsonschema";
            goto invalid;
        }
    }
    if ((v = json_object_get(b, "auto.offset.reset")) && !json_is_null(v)) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(s, "earliest") == 0 || strcmp(s, "smallest") == 0)
            reset = RESTC_RESET_EARLIEST;
        else if (strcmp(s, "latest") == 0 || strcmp(s, "largest") == 0)
            reset = RESTC_RESET_LATEST;
        else if (strcmp(s, "none") == 0)
            reset = RESTC_RESET_NONE;
        else {
            bad = "auto.offset.reset must be earliest, latest or none";
            goto invalid;
        }
    }
    if ((v = json_object_get(b, "auto.commit.enable")) && !json_is_null(v)) {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (json_is_boolean(v))
            auto_commit = json_is_true(v);
        else if (s && strcasecmp(s, "true") == 0)
            auto_commit = true;
        else if (s && strcasecmp(s, "false") == 0)
            auto_commit = false;
        else {
            bad = "auto.commit.enable must be true or false";
            goto invalid;
        }
    }
    if ((v = json_object_get(b, "fetch.min.bytes")) && !json_is_null(v)) {
        if (!restc_int_field(v, &x) || x < -1 || x > INT32_MAX) {
            bad = "fetch.min.bytes must be an integer from -1 to 2147483647";
            goto invalid;
        }
        min_bytes = x;
    }
    if ((v = json_object_get(b, "consumer.request.timeout.ms")) && !json_is_null(v)) {
        if (!restc_int_field(v, &x) || x < 0 || x > RESTC_MAX_TIMEOUT_MS * 10) {
            bad = "consumer.request.timeout.ms must be an integer from 0 to 300000";
            goto invalid;
        }
        rto = x;
    }
    json_decref(b);
    if (!restc_group_allowed(req, group))
        return restc_deny(req, "group", group);
    if (restc_inst_get(rc, group, name)) {
        weir_http_respond_error(req, 409, RESTC_E_EXISTS,
                                "Consumer with specified consumer ID already exists in the "
                                "specified consumer group.");
        return 0;
    }
    in = weir_calloc(1, sizeof(*in));
    in->rc = rc;
    in->group = weir_strdup(group);
    in->name = weir_strdup(name);
    weir_principal_set(&in->owner, req->principal.method, req->principal.user,
                       req->principal.groups, req->principal.ngroups);
    snprintf(in->peer, sizeof(in->peer), "%s", restc_peer(req));
    in->fmt = (weir_rest_fmt_t)fmt;
    in->reset = reset;
    in->auto_commit = auto_commit;
    in->fetch_min_bytes = min_bytes;
    in->request_timeout_ms = rto;
    in->last_used_ms = restc_now();
    in->last_commit_ms = restc_now();
    in->generation = -1;
    in->next = rc->head;
    if (rc->head)
        rc->head->prev = in;
    rc->head = in;
    rc->count++;
    host = weir_http_header(req, "Host");
    if (host && (strchr(host, '/') || strchr(host, ' ')))
        host = NULL;
    if (host)
        snprintf(uri, sizeof(uri), "%s://%s/consumers/%s/instances/%s",
                 req->conn && req->conn->tls ? "https" : "http", host, group, name);
    else
        snprintf(uri, sizeof(uri), "/consumers/%s/instances/%s", group, name);
    WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_created",
             "group=%s instance=%s format=%s principal=User:%s", group, name,
             weir_rest_fmt_name(in->fmt), in->owner.user ? in->owner.user : "");
    weir_http_respond_json(req, 200, json_pack("{s:s, s:s}", "instance_id", name, "base_uri", uri));
    return 0;
invalid:
    json_decref(b);
    weir_http_respond_error(req, 422, RESTC_E_INVALID, "%s", bad);
    return 0;
}

/* DELETE /consumers/{group}/instances/{instance} */
static int
restc_delete(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);

    if (!in)
        return 0;
    restc_inst_destroy(in, true, "deleted");
    weir_http_respond(req, 204, NULL, NULL, 0);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Subscription and assignment                                         */

static int
restc_subscribe(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);
    json_t *b, *topics, *pat, *v;
    char **tv = NULL;
    size_t n = 0, i;
    pcre2_code *re = NULL;
    char err[300];

    if (!in || !(b = restc_body(req, false)))
        return 0;
    topics = json_object_get(b, "topics");
    pat = json_object_get(b, "topic_pattern");
    if ((topics && pat) || (!topics && !pat) || (topics && !json_is_array(topics)) ||
        (pat && !json_is_string(pat)) || (topics && json_array_size(topics) == 0)) {
        json_decref(b);
        weir_http_respond_error(req, 422, RESTC_E_INVALID,
                                "Give either topics (a non-empty array of topic names) or "
                                "topic_pattern (a regular expression)");
        return 0;
    }
    if (in->manual) {
        json_decref(b);
        weir_http_respond_error(req, 409, RESTC_E_STATE,
                                "Subscription to topics, partitions "
                                "and pattern are mutually exclusive.");
        return 0;
    }
    if (topics) {
        tv = weir_calloc(json_array_size(topics), sizeof(*tv));
        json_array_foreach(topics, i, v)
        {
            const char *t = json_string_value(v);
            if (!t || weir_topic_name_validate(t, strlen(t), err, sizeof(err)) != WEIR_KERR_NONE) {
                restc_strv_free(tv, n);
                json_decref(b);
                weir_http_respond_error(req, 422, RESTC_E_INVALID, "Invalid topic name: %s",
                                        t ? err : "not a string");
                return 0;
            }
            tv[n++] = weir_strdup(t);
        }
        qsort(tv, n, sizeof(*tv), restc_strcmp);
        for (i = 0; i < n; i++) {
            if (!restc_topic_allowed(req, tv[i])) {
                restc_deny(req, "topic", tv[i]);
                restc_strv_free(tv, n);
                json_decref(b);
                return 0;
            }
        }
    } else {
        int ec;
        PCRE2_SIZE eo;
        const char *p = json_string_value(pat);
        re = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
        if (!re) {
            PCRE2_UCHAR m[160];
            pcre2_get_error_message(ec, m, sizeof(m));
            json_decref(b);
            weir_http_respond_error(req, 422, RESTC_E_INVALID,
                                    "topic_pattern is not a valid regular expression: %s at "
                                    "%zu",
                                    (const char *)m, (size_t)eo);
            return 0;
        }
    }
    if (!restc_group_allowed(req, in->group)) {
        restc_strv_free(tv, n);
        if (re)
            pcre2_code_free(re);
        json_decref(b);
        return restc_deny(req, "group", in->group);
    }
    restc_strv_free(in->topics, in->ntopics);
    in->topics = tv;
    in->ntopics = n;
    free(in->pattern);
    in->pattern = pat ? weir_strdup(json_string_value(pat)) : NULL;
    if (in->re)
        pcre2_code_free(in->re);
    in->re = re;
    json_decref(b);
    if (!in->re) {
        char **copy = weir_calloc(n + 1, sizeof(*copy));
        for (i = 0; i < n; i++)
            copy[i] = weir_strdup(tv[i]);
        restc_set_subscribed(in, copy, n);
    }
    if (in->gstate == RESTC_G_STABLE && in->auto_commit && in->nparts)
        restc_commit_positions(in, NULL);
    restc_join(in);
    weir_http_respond(req, 204, NULL, NULL, 0);
    return 0;
}

static int
restc_subscription_get(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);
    json_t *a;

    if (!in)
        return 0;
    a = json_array();
    for (size_t i = 0; i < in->nsubscribed; i++)
        json_array_append_new(a, json_string(in->subscribed[i]));
    weir_http_respond_json(req, 200, json_pack("{s:o}", "topics", a));
    return 0;
}

static void
restc_unsubscribe_inst(restc_inst_t *in)
{
    restc_leave(in, true);
    restc_strv_free(in->topics, in->ntopics);
    in->topics = NULL;
    in->ntopics = 0;
    restc_set_subscribed(in, NULL, 0);
    free(in->pattern);
    in->pattern = NULL;
    if (in->re)
        pcre2_code_free(in->re);
    in->re = NULL;
    restc_clear_parts(in);
}

static int
restc_unsubscribe(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);

    if (!in)
        return 0;
    if (!in->manual)
        restc_unsubscribe_inst(in);
    weir_http_respond(req, 204, NULL, NULL, 0);
    return 0;
}

/* Parses [{"topic": t, "partition": p}, ...] (field name given) into l.
 * Answers 422 and returns false on a malformed list. */
static bool
restc_parse_tps(weir_http_req_t *req, json_t *b, const char *field, bool with_offset,
                weir_restc_tplist_t *l, int64_t **offsets, char ***metadata)
{
    json_t *arr = json_object_get(b, field), *v;
    size_t i;

    if (!json_is_array(arr)) {
        weir_http_respond_error(req, 422, RESTC_E_INVALID, "%s must be an array", field);
        return false;
    }
    if (offsets)
        *offsets = weir_calloc(json_array_size(arr) + 1, sizeof(**offsets));
    if (metadata)
        *metadata = weir_calloc(json_array_size(arr) + 1, sizeof(**metadata));
    json_array_foreach(arr, i, v)
    {
        json_t *t = json_object_get(v, "topic"), *p = json_object_get(v, "partition");
        json_t *o = json_object_get(v, "offset"), *m = json_object_get(v, "metadata");
        if (!json_is_string(t) || !json_is_integer(p) || json_integer_value(p) < 0 ||
            json_integer_value(p) > INT32_MAX ||
            (with_offset && (!json_is_integer(o) || json_integer_value(o) < -1)) ||
            (m && !json_is_null(m) && !json_is_string(m))) {
            weir_http_respond_error(req, 422, RESTC_E_INVALID,
                                    "%s[%zu] must be {\"topic\": name, \"partition\": n%s}", field,
                                    i, with_offset ? ", \"offset\": n" : "");
            return false;
        }
        if (offsets)
            (*offsets)[l->n] = with_offset ? json_integer_value(o) : 0;
        if (metadata)
            (*metadata)[l->n] = json_is_string(m) ? weir_strdup(json_string_value(m)) : NULL;
        weir_restc_tplist_add(l, json_string_value(t), (int32_t)json_integer_value(p));
    }
    return true;
}

static int
restc_assign(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);
    weir_restc_tplist_t l = {0};
    json_t *b;

    if (!in || !(b = restc_body(req, false)))
        return 0;
    if (!restc_parse_tps(req, b, "partitions", false, &l, NULL, NULL))
        goto out;
    if (in->re || in->ntopics) {
        weir_http_respond_error(req, 409, RESTC_E_STATE,
                                "Subscription to topics, partitions "
                                "and pattern are mutually exclusive.");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (!restc_topic_allowed(req, l.v[i].topic)) {
            restc_deny(req, "topic", l.v[i].topic);
            goto out;
        }
    }
    weir_restc_tplist_sort(&l);
    restc_set_parts(in, &l);
    in->manual = l.n > 0;
    if (in->fetch)
        restc_fetch_kick(in->fetch);
    weir_http_respond(req, 204, NULL, NULL, 0);
out:
    weir_restc_tplist_clear(&l);
    json_decref(b);
    return 0;
}

static json_t *
restc_parts_json(restc_inst_t *in)
{
    json_t *a = json_array();

    for (size_t i = 0; i < in->nparts; i++)
        json_array_append_new(a, json_pack("{s:s, s:i}", "topic", in->parts[i].topic, "partition",
                                           in->parts[i].partition));
    return a;
}

static int
restc_assignments_get(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);

    if (!in)
        return 0;
    weir_http_respond_json(req, 200, json_pack("{s:o}", "partitions", restc_parts_json(in)));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Positions                                                           */

/* The assigned partition tp of in, or NULL after answering 409. */
static restc_part_t *
restc_assigned(weir_http_req_t *req, restc_inst_t *in, const weir_restc_tp_t *tp)
{
    restc_part_t *p = restc_part_find(in, tp->topic, tp->partition);

    if (!p)
        weir_http_respond_error(req, 409, RESTC_E_STATE,
                                "No current assignment for partition %s-%d", tp->topic,
                                tp->partition);
    return p;
}

static int
restc_seek(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);
    weir_restc_tplist_t l = {0};
    int64_t *offs = NULL;
    json_t *b;

    if (!in || !(b = restc_body(req, false)))
        return 0;
    if (!restc_parse_tps(req, b, "offsets", true, &l, &offs, NULL))
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        if (offs[i] < 0) {
            weir_http_respond_error(req, 422, RESTC_E_INVALID,
                                    "offsets[%zu]: offset must be "
                                    "at least 0",
                                    i);
            goto out;
        }
        if (!restc_assigned(req, in, &l.v[i]))
            goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        restc_part_find(in, l.v[i].topic, l.v[i].partition)->position = offs[i];
    in->dirty = true;
    weir_http_respond(req, 204, NULL, NULL, 0);
out:
    free(offs);
    weir_restc_tplist_clear(&l);
    json_decref(b);
    return 0;
}

static int
restc_seek_edge(weir_http_req_t *req, bool end)
{
    restc_inst_t *in = restc_lookup(req);
    weir_restc_tplist_t l = {0};
    json_t *b;

    if (!in || !(b = restc_body(req, false)))
        return 0;
    if (!restc_parse_tps(req, b, "partitions", false, &l, NULL, NULL))
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        if (!restc_assigned(req, in, &l.v[i]))
            goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        restc_part_t *p = restc_part_find(in, l.v[i].topic, l.v[i].partition);
        weir_partition_t *part = restc_partition(in->rc->brk, p->topic, p->partition);
        if (part && part->log)
            p->position = end ? weir_plog_end_offset(part->log) : weir_plog_start_offset(part->log);
    }
    in->dirty = true;
    weir_http_respond(req, 204, NULL, NULL, 0);
out:
    weir_restc_tplist_clear(&l);
    json_decref(b);
    return 0;
}

static int
restc_seek_beginning(weir_http_req_t *req)
{
    return restc_seek_edge(req, false);
}

static int
restc_seek_end(weir_http_req_t *req)
{
    return restc_seek_edge(req, true);
}

/* ------------------------------------------------------------------ */
/* GET records                                                         */

static int
restc_records(weir_http_req_t *req)
{
    weir_rest_consumer_t *rc = req->route->arg;
    const weir_conf_t *conf = rc->brk->conf;
    restc_inst_t *in = restc_lookup(req); /* req is answered when NULL */
    const char *ct, *q;
    int64_t timeout, max_bytes = conf->consumer_request_max_bytes;
    restc_fetch_t *f;
    char *end;

    if (!in)
        return 0;
    ct = weir_rest_accept(weir_http_header(req, "Accept"), in->fmt);
    if (!ct) {
        weir_http_respond_error(req, 406, RESTC_E_FORMAT,
                                "The requested embedded data format does not match the "
                                "deserializer for this consumer instance (%s)",
                                weir_rest_fmt_name(in->fmt));
        return 0;
    }
    timeout =
        in->request_timeout_ms >= 0 ? in->request_timeout_ms : conf->consumer_request_timeout_ms;
    if ((q = weir_http_query(req, "timeout"))) {
        long long x;
        errno = 0;
        x = strtoll(q, &end, 10);
        if (errno || end == q || *end || x < -1) {
            weir_http_respond_error(req, 400, 400, "timeout must be an integer");
            return 0;
        }
        if (x >= 0)
            timeout = x;
    }
    timeout = WEIR_MIN(timeout, WEIR_MAX(conf->consumer_request_timeout_ms, RESTC_MAX_TIMEOUT_MS));
    if ((q = weir_http_query(req, "max_bytes"))) {
        long long x;
        errno = 0;
        x = strtoll(q, &end, 10);
        if (errno || end == q || *end || x < 0) {
            weir_http_respond_error(req, 400, 400, "max_bytes must be a non-negative integer");
            return 0;
        }
        max_bytes = WEIR_MIN(max_bytes, (int64_t)x);
    }
    if (!in->manual && (in->ntopics || in->re) && !restc_group_allowed(req, in->group))
        return restc_deny(req, "group", in->group);
    for (size_t i = 0; i < in->nparts; i++)
        if (!restc_topic_allowed(req, in->parts[i].topic))
            return restc_deny(req, "topic", in->parts[i].topic);
    if (in->fetch) {
        weir_http_respond_error(req, 409, RESTC_E_STATE,
                                "Another GET records is in progress for this consumer instance");
        return 0;
    }
    if (!in->manual && !in->ntopics && !in->re) {
        weir_http_respond_error(req, 409, RESTC_E_STATE,
                                "Consumer is not subscribed to any "
                                "topics or assigned any partitions");
        return 0;
    }
    f = weir_calloc(1, sizeof(*f));
    f->inst = in;
    f->req = req;
    if (strcmp(ct, "application/vnd.kafka.v2+json") == 0 || strcmp(ct, "application/json") == 0)
        snprintf(f->ctype, sizeof(f->ctype), "application/vnd.kafka.%s.v2+json",
                 weir_rest_fmt_name(in->fmt));
    else
        snprintf(f->ctype, sizeof(f->ctype), "%s", ct);
    f->deadline_ms = restc_now() + timeout;
    f->max_bytes = WEIR_MAX(max_bytes, 1);
    f->state = RESTC_F_WAIT;
    uv_timer_init(rc->brk->loop, &f->timer);
    f->timer.data = f;
    in->fetch = f;
    req->ctx = f;
    req->cancel = restc_fetch_cancel;
    restc_fetch_step(f);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Offsets                                                             */

static int
restc_offsets_commit(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);
    weir_restc_tplist_t l = {0};
    int64_t *offs = NULL;
    char **md = NULL;
    json_t *b;

    if (!in || !(b = restc_body(req, true)))
        return 0;
    if (!restc_group_allowed(req, in->group)) {
        restc_deny(req, "group", in->group);
        goto out;
    }
    if (!json_object_get(b, "offsets")) {
        /* Everything consumed: the positions. */
        for (size_t i = 0; i < in->nparts; i++) {
            if (!restc_topic_allowed(req, in->parts[i].topic)) {
                restc_deny(req, "topic", in->parts[i].topic);
                goto out;
            }
        }
        restc_commit_positions(in, req);
        goto out;
    }
    if (!restc_parse_tps(req, b, "offsets", true, &l, &offs, &md))
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        if (!restc_topic_allowed(req, l.v[i].topic)) {
            restc_deny(req, "topic", l.v[i].topic);
            goto out;
        }
        /* Confluent's v2: the offset of the last record processed, so the
         * next one is committed. */
        offs[i] = offs[i] + 1;
    }
    restc_commit(in, req, &l, offs, md);
out:
    if (md)
        restc_strv_free(md, l.n);
    free(offs);
    weir_restc_tplist_clear(&l);
    json_decref(b);
    return 0;
}

static int
restc_offsets_get(weir_http_req_t *req)
{
    restc_inst_t *in = restc_lookup(req);
    weir_coord_t *co;
    weir_restc_tplist_t l = {0};
    weir_group_t *g;
    json_t *b, *a;

    if (!in || !(b = restc_body(req, true)))
        return 0;
    co = in->rc->brk->coord;
    if (!restc_group_allowed(req, in->group)) {
        restc_deny(req, "group", in->group);
        goto out;
    }
    if (json_object_get(b, "partitions")) {
        if (!restc_parse_tps(req, b, "partitions", false, &l, NULL, NULL))
            goto out;
    } else {
        for (size_t i = 0; i < in->nparts; i++)
            weir_restc_tplist_add(&l, in->parts[i].topic, in->parts[i].partition);
    }
    for (size_t i = 0; i < l.n; i++) {
        if (!restc_topic_allowed(req, l.v[i].topic)) {
            restc_deny(req, "topic", l.v[i].topic);
            goto out;
        }
    }
    a = json_array();
    g = co ? weir_coord_group(co, restc_s(in->group)) : NULL;
    for (size_t i = 0; g && i < l.n; i++) {
        const weir_offset_t *o = weir_group_offset(g, restc_s(l.v[i].topic), l.v[i].partition);
        if (!o)
            continue;
        json_array_append_new(a,
                              json_pack("{s:s, s:i, s:I, s:s}", "topic", l.v[i].topic, "partition",
                                        l.v[i].partition, "offset", (json_int_t)o->offset,
                                        "metadata", o->metadata ? o->metadata : ""));
    }
    weir_http_respond_json(req, 200, json_pack("{s:o}", "offsets", a));
out:
    weir_restc_tplist_clear(&l);
    json_decref(b);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Timer: heartbeats, pattern refresh, automatic commits, expiry       */

static void
restc_tick_inst(restc_inst_t *in, int64_t now)
{
    weir_broker_t *brk = in->rc->brk;
    weir_coord_t *co = brk->coord;

    if (now - in->last_used_ms > brk->conf->consumer_instance_timeout_ms &&
        !(in->fetch && in->fetch->req)) {
        WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_expired", "group=%s instance=%s idle_ms=%" PRId64,
                 in->group, in->name, now - in->last_used_ms);
        restc_inst_destroy(in, true, "expired");
        return;
    }
    if (!co)
        return;
    if (in->auto_commit && in->dirty && now - in->last_commit_ms >= RESTC_AUTO_COMMIT_MS &&
        (in->manual || in->gstate == RESTC_G_STABLE))
        restc_commit_positions(in, NULL);
    if (in->manual || (!in->ntopics && !in->re))
        return;
    if (in->gstate == RESTC_G_NONE) {
        if (now >= in->retry_ms)
            restc_join(in);
        return;
    }
    if (in->gstate != RESTC_G_STABLE || now < in->next_heartbeat_ms)
        return;
    in->next_heartbeat_ms = now + RESTC_HEARTBEAT_MS;
    if (in->re) {
        char **v;
        size_t n;
        restc_resolve_pattern(in, &v, &n);
        if (!restc_same_topics(v, n, in->subscribed, in->nsubscribed)) {
            restc_strv_free(v, n);
            if (in->auto_commit && in->nparts)
                restc_commit_positions(in, NULL);
            restc_join(in);
            return;
        }
        restc_strv_free(v, n);
    }
    for (size_t i = 0; i < in->nlead; i++) {
        if (restc_nparts(brk, in->lead_topics[i]) != in->lead_nparts[i]) {
            WEIR_LOG(WEIR_LOG_INFO, "rest_consumer_metadata_changed",
                     "group=%s instance=%s topic=%s note=\"the leader rejoins\"", in->group,
                     in->name, in->lead_topics[i]);
            if (in->auto_commit && in->nparts)
                restc_commit_positions(in, NULL);
            restc_join(in);
            return;
        }
    }
    switch (weir_coord_heartbeat(co, restc_s(in->group), in->generation, restc_s(in->member_id),
                                 WEIR_STR_NULL)) {
    case WEIR_KERR_NONE:
        break;
    case WEIR_KERR_REBALANCE_IN_PROGRESS:
        if (in->auto_commit && in->nparts)
            restc_commit_positions(in, NULL);
        restc_join(in);
        break;
    case WEIR_KERR_UNKNOWN_MEMBER_ID:
        free(in->member_id);
        in->member_id = NULL;
        restc_join(in);
        break;
    default:
        restc_join(in);
        break;
    }
}

static void
restc_on_tick(uv_timer_t *t)
{
    weir_rest_consumer_t *rc = t->data;
    int64_t now = restc_now();
    restc_inst_t *in, *next;

    for (in = rc->head; in; in = next) {
        next = in->next;
        restc_tick_inst(in, now);
    }
}

/* ------------------------------------------------------------------ */
/* Routes and life cycle                                               */

#define RESTC_I "/consumers/{group}/instances/{instance}"

static const weir_http_route_t restc_routes[] = {
    {"POST", "/consumers/{group}", restc_create, RESTC_CTYPE, "rest_consumer_create", 0, NULL},
    {"DELETE", RESTC_I, restc_delete, RESTC_CTYPE, "rest_consumer_delete", 0, NULL},
    {"POST", RESTC_I "/subscription", restc_subscribe, RESTC_CTYPE, "rest_consumer_subscribe", 0,
     NULL},
    {"GET", RESTC_I "/subscription", restc_subscription_get, RESTC_CTYPE,
     "rest_consumer_subscription", 0, NULL},
    {"DELETE", RESTC_I "/subscription", restc_unsubscribe, RESTC_CTYPE, "rest_consumer_unsubscribe",
     0, NULL},
    {"POST", RESTC_I "/assignments", restc_assign, RESTC_CTYPE, "rest_consumer_assign", 0, NULL},
    {"GET", RESTC_I "/assignments", restc_assignments_get, RESTC_CTYPE, "rest_consumer_assignments",
     0, NULL},
    {"POST", RESTC_I "/positions", restc_seek, RESTC_CTYPE, "rest_consumer_seek", 0, NULL},
    {"POST", RESTC_I "/positions/beginning", restc_seek_beginning, RESTC_CTYPE,
     "rest_consumer_seek_beginning", 0, NULL},
    {"POST", RESTC_I "/positions/end", restc_seek_end, RESTC_CTYPE, "rest_consumer_seek_end", 0,
     NULL},
    {"GET", RESTC_I "/records", restc_records, RESTC_CTYPE, "rest_consumer_records", 0, NULL},
    {"POST", RESTC_I "/offsets", restc_offsets_commit, RESTC_CTYPE, "rest_consumer_commit", 0,
     NULL},
    {"GET", RESTC_I "/offsets", restc_offsets_get, RESTC_CTYPE, "rest_consumer_committed", 0, NULL},
};

weir_rest_consumer_t *
weir_rest_consumer_register(weir_http_server_t *srv, weir_broker_t *brk, char *errstr,
                            size_t errstr_size)
{
    weir_rest_consumer_t *rc = weir_calloc(1, sizeof(*rc));
    weir_http_route_t routes[WEIR_ARRAY_SIZE(restc_routes)];

    rc->brk = brk;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(restc_routes); i++) {
        routes[i] = restc_routes[i];
        routes[i].arg = rc;
    }
    if (weir_http_route_add(srv, routes, WEIR_ARRAY_SIZE(routes), errstr, errstr_size) != 0) {
        free(rc);
        return NULL;
    }
    uv_timer_init(brk->loop, &rc->timer);
    rc->timer.data = rc;
    rc->timer_open = true;
    uv_timer_start(&rc->timer, restc_on_tick, RESTC_TICK_MS, RESTC_TICK_MS);
    return rc;
}

void
weir_rest_consumer_stop(weir_rest_consumer_t *rc)
{
    if (!rc || rc->stopped)
        return;
    rc->stopped = true;
    while (rc->head)
        restc_inst_destroy(rc->head, true, "broker stopping");
    if (rc->timer_open) {
        rc->timer_open = false;
        uv_timer_stop(&rc->timer);
        uv_close((uv_handle_t *)&rc->timer, NULL);
    }
}

void
weir_rest_consumer_free(weir_rest_consumer_t *rc)
{
    if (!rc)
        return;
    /* Normally stopped already; instances left would be freed here. */
    while (rc->head) {
        restc_inst_t *in = rc->head;
        rc->head = in->next;
        if (!in->fetch)
            restc_inst_free(in);
    }
    free(rc);
}

size_t
weir_rest_consumer_count(const weir_rest_consumer_t *rc)
{
    return rc ? rc->count : 0;
}
