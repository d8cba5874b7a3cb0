/*
 * weir_group_offsets.c: committed offsets - the in-memory table per group,
 * OffsetCommit validation (Kafka's validateOffsetCommit), OffsetDelete,
 * retention, loading at start-up, and every write to weir.db.
 *
 * Writes never block the loop: each becomes an operation in a queue; one
 * libuv worker job at a time runs every queued operation in a single
 * transaction on the coordinator's own SQLite connection (synchronous=FULL,
 * so a commit is on disk when the job ends).  Operations queued while a job
 * runs wait for the next job: concurrent commits share a transaction and an
 * fsync (group commit).  Only when the job has succeeded are the in-memory
 * offsets updated and the requests answered, in queue order; if it failed
 * the memory is unchanged and commits get COORDINATOR_NOT_AVAILABLE, which
 * clients retry.
 *
 * Retention deletes are conditional on the commit time seen when they were
 * decided (a newer commit survives), so they can share the queue with
 * commits in any order.
 */
#include "weir_group_int.h"

#include <inttypes.h>
#include <stdio.h>

#include "weir_common.h"
#include "weir_log.h"

typedef enum weir_oop_kind_e {
    WEIR_OOP_PUT,        /* store an offset */
    WEIR_OOP_DEL,        /* delete an offset (if committed at or before commit_ms) */
    WEIR_OOP_DEL_GROUP,  /* delete a group's offsets and record */
    WEIR_OOP_GROUP_META, /* record protocol type and empty-since */
} weir_oop_kind_t;

struct weir_oop_s {
    weir_oop_kind_t kind;
    char *group_id;
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int32_t metadata_len;
    int64_t commit_ms;
    char *protocol_type;
    int64_t empty_since_ms;
    weir_gwait_t *w; /* completion, or NULL */
    int32_t idx;     /* w->parts[idx] or w->errs[idx] */
};

struct weir_ojob_s {
    uv_work_t work;
    weir_coord_t *co;
    weir_store_t *store;
    weir_oop_t *ops;
    size_t nops;
    int rc;
};

/* ------------------------------------------------------------------ */
/* In-memory offsets                                                  */

/* Key: topic bytes, a NUL, the partition big-endian. */
static size_t
weir_offset_key(uint8_t *buf, const char *topic, size_t tlen, int32_t partition)
{
    memcpy(buf, topic, tlen);
    buf[tlen] = '\0';
    weir_put_be32(buf + tlen + 1, (uint32_t)partition);
    return tlen + 5;
}

static weir_offset_t *
weir_offset_find(const weir_group_t *g, const char *topic, size_t tlen, int32_t partition)
{
    uint8_t small[512], *key = tlen + 5 <= sizeof(small) ? small : weir_malloc(tlen + 5);
    size_t klen = weir_offset_key(key, topic, tlen, partition);
    weir_offset_t *o = weir_gmap_get(&g->offsets, key, klen);

    if (key != small)
        free(key);
    return o;
}

static void
weir_offset_free(weir_offset_t *o)
{
    free(o->key);
    free(o->metadata);
    free(o);
}

static void
weir_offset_set(weir_group_t *g, const char *topic, int32_t partition, int64_t offset,
                int32_t leader_epoch, const char *metadata, int32_t metadata_len, int64_t commit_ms)
{
    size_t tlen = strlen(topic);
    weir_offset_t *o = weir_offset_find(g, topic, tlen, partition);

    if (!o) {
        o = weir_calloc(1, sizeof(*o));
        o->key = weir_malloc(tlen + 5);
        o->klen = weir_offset_key(o->key, topic, tlen, partition);
        o->topic = (const char *)o->key;
        o->partition = partition;
        weir_gmap_put(&g->offsets, o->key, o->klen, o);
    }
    free(o->metadata);
    o->metadata = weir_malloc((size_t)metadata_len + 1);
    if (metadata_len > 0)
        memcpy(o->metadata, metadata, (size_t)metadata_len);
    o->metadata[metadata_len] = '\0';
    o->metadata_len = metadata_len;
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->commit_ms = commit_ms;
}

static void
weir_offset_remove(weir_group_t *g, weir_offset_t *o)
{
    weir_gmap_del(&g->offsets, o->key, o->klen);
    weir_offset_free(o);
}

void
weir__group_offsets_free(weir_group_t *g)
{
    weir_gmap_iter_t it;
    weir_offset_t *o;

    weir_gmap_iter_init(&it, &g->offsets);
    while ((o = weir_gmap_iter_next(&it)) != NULL)
        weir_offset_free(o);
    weir_gmap_free(&g->offsets);
}

const weir_offset_t *
weir_group_offset(const weir_group_t *g, weir_str_t topic, int32_t partition)
{
    if (topic.len < 0)
        return NULL;
    return weir_offset_find(g, topic.ptr, (size_t)topic.len, partition);
}

void
weir_group_offsets_foreach(const weir_group_t *g, void (*cb)(void *arg, const weir_offset_t *o),
                           void *arg)
{
    weir_gmap_iter_t it;
    weir_offset_t *o;

    weir_gmap_iter_init(&it, &g->offsets);
    while ((o = weir_gmap_iter_next(&it)) != NULL)
        cb(arg, o);
}

int64_t
weir_coord_committed_offset(weir_coord_t *co, const char *group_id, const char *topic,
                            int32_t partition)
{
    weir_group_t *g = weir__group_get(co, group_id, strlen(group_id));
    const weir_offset_t *o;

    if (!g || g->state == WEIR_GROUP_DEAD)
        return -1;
    o = weir_offset_find(g, topic, strlen(topic), partition);
    return o ? o->offset : -1;
}

/* ------------------------------------------------------------------ */
/* The write queue                                                    */

static weir_oop_t *
weir_oop_push(weir_coord_t *co, weir_oop_kind_t kind, weir_group_t *g)
{
    weir_oop_t *op;

    if (co->nqueue == co->capqueue) {
        co->capqueue = co->capqueue ? co->capqueue * 2 : 64;
        co->queue = weir_realloc(co->queue, co->capqueue * sizeof(*co->queue));
    }
    op = &co->queue[co->nqueue++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->group_id = weir_strdup(g->id);
    op->commit_ms = -1;
    op->empty_since_ms = -1;
    g->pending_ops++;
    return op;
}

static void
weir_oop_free(weir_oop_t *op)
{
    free(op->group_id);
    free(op->topic);
    free(op->metadata);
    free(op->protocol_type);
}

size_t
weir_coord_pending_writes(const weir_coord_t *co)
{
    return co->nqueue + (co->job ? co->job->nops : 0);
}

void
weir__store_free(weir_coord_t *co)
{
    for (size_t i = 0; i < co->nqueue; i++)
        weir_oop_free(&co->queue[i]);
    free(co->queue);
    co->queue = NULL;
    co->nqueue = co->capqueue = 0;
}

/* Worker thread: the job's operations, one transaction.  Touches nothing
 * but the job and the coordinator's store connection, which no one else
 * uses while the job runs. */
static void
weir_ojob_work(uv_work_t *req)
{
    weir_ojob_t *job = weir_container_of(req, weir_ojob_t, work);
    weir_store_t *st = job->store;
    int rc = weir_store_batch_begin(st);

    for (size_t i = 0; i < job->nops && rc == 0; i++) {
        weir_oop_t *op = &job->ops[i];

        switch (op->kind) {
        case WEIR_OOP_PUT: {
            weir_store_offset_t o = {
                .group_id = op->group_id,
                .topic = op->topic,
                .partition = op->partition,
                .offset = op->offset,
                .leader_epoch = op->leader_epoch,
                .metadata = op->metadata,
                .metadata_len = op->metadata_len,
                .commit_ms = op->commit_ms,
            };
            rc = weir_store_offset_put(st, &o);
            break;
        }
        case WEIR_OOP_DEL:
            rc =
                weir_store_offset_delete(st, op->group_id, op->topic, op->partition, op->commit_ms);
            break;
        case WEIR_OOP_DEL_GROUP:
            rc = weir_store_group_delete(st, op->group_id);
            break;
        case WEIR_OOP_GROUP_META:
            rc = weir_store_group_put(st, op->group_id, op->protocol_type, op->empty_since_ms);
            break;
        }
    }
    if (rc == 0)
        rc = weir_store_batch_commit(st);
    else
        weir_store_batch_rollback(st);
    job->rc = rc;
}

static void
weir_oop_result(weir_oop_t *op, bool ok)
{
    weir_gwait_t *w = op->w;
    weir_kerr_t err = ok ? WEIR_KERR_NONE : WEIR_KERR_COORDINATOR_NOT_AVAILABLE;

    if (!w)
        return;
    if (w->parts)
        w->parts[op->idx].err = err;
    else if (w->errs)
        w->errs[op->idx] = err;
    if (--w->ops_left == 0)
        weir__gwait_complete(w, w->err);
}

/* Applies a written (ok) or failed operation to memory, on the loop. */
static void
weir_oop_apply(weir_coord_t *co, weir_oop_t *op, bool ok)
{
    weir_group_t *g = weir__group_get(co, op->group_id, strlen(op->group_id));

    if (g)
        g->pending_ops--;
    switch (op->kind) {
    case WEIR_OOP_PUT:
        if (ok && !co->stopping) {
            if (!g)
                g = weir__group_create(co, op->group_id, strlen(op->group_id));
            weir_offset_set(g, op->topic, op->partition, op->offset, op->leader_epoch, op->metadata,
                            op->metadata_len, op->commit_ms);
        }
        weir_oop_result(op, ok);
        break;
    case WEIR_OOP_DEL:
        if (ok && g) {
            weir_offset_t *o = weir_offset_find(g, op->topic, strlen(op->topic), op->partition);
            if (o && (op->commit_ms < 0 || o->commit_ms <= op->commit_ms))
                weir_offset_remove(g, o);
        }
        weir_oop_result(op, ok);
        if (g && !op->w && !co->stopping && weir__group_forgettable(g))
            weir__group_retire(g);
        break;
    case WEIR_OOP_DEL_GROUP:
        if (op->w) {
            /* DeleteGroups. */
            if (g && g->state == WEIR_GROUP_DEAD) {
                if (ok) {
                    g->delete_done = true;
                    WEIR_LOG(WEIR_LOG_INFO, "group_deleted", "group=%s", g->id);
                } else {
                    g->state = WEIR_GROUP_EMPTY;
                    g->deleting = NULL;
                }
            }
            weir_oop_result(op, ok);
        } else if (ok && g) {
            /* Retention: the record is gone too. */
            g->meta_stored = WEIR_GMETA_NONE;
            if (!co->stopping && weir__group_forgettable(g)) {
                WEIR_LOG(WEIR_LOG_INFO, "group_expired", "group=%s", g->id);
                weir__group_forget(g);
                g = NULL;
            }
        }
        if (g && g->delete_done && g->pending_ops == 0 && !co->stopping)
            weir__group_forget(g);
        break;
    case WEIR_OOP_GROUP_META:
        if (!ok && g)
            g->meta_stored = -1; /* unknown: written again at the next change */
        break;
    }
}

static void
weir_ojob_done(uv_work_t *req, int status)
{
    weir_ojob_t *job = weir_container_of(req, weir_ojob_t, work);
    weir_coord_t *co = job->co;
    bool ok = status == 0 && job->rc == 0;

    co->job = NULL;
    if (!ok)
        WEIR_LOG(WEIR_LOG_ERROR, "offsets_write_failed",
                 "operations=%zu status=%d rc=%d "
                 "note=\"commits answered COORDINATOR_NOT_AVAILABLE\"",
                 job->nops, status, job->rc);
    weir__coord_enter(co);
    for (size_t i = 0; i < job->nops; i++) {
        weir_oop_apply(co, &job->ops[i], ok);
        weir_oop_free(&job->ops[i]);
    }
    free(job->ops);
    free(job);
    weir__store_kick(co);
    weir__coord_leave(co);
    weir__coord_maybe_free(co);
}

void
weir__store_kick(weir_coord_t *co)
{
    weir_ojob_t *job;
    int rc;

    if (co->job || co->nqueue == 0)
        return;
    job = weir_calloc(1, sizeof(*job));
    job->co = co;
    job->store = co->store;
    job->ops = co->queue;
    job->nops = co->nqueue;
    co->queue = NULL;
    co->nqueue = co->capqueue = 0;
    co->job = job;
    rc = uv_queue_work(co->loop, &job->work, weir_ojob_work, weir_ojob_done);
    if (rc != 0) {
        /* Only fails for invalid arguments; fail the operations loudly. */
        WEIR_LOG(WEIR_LOG_ERROR, "offsets_write_failed", "error=\"%s\"", uv_strerror(rc));
        job->rc = WEIR_ERR;
        weir_ojob_done(&job->work, rc);
    }
}

void
weir__store_delete_group(weir_coord_t *co, weir_group_t *g, weir_gwait_t *w, int32_t idx)
{
    weir_oop_t *op = weir_oop_push(co, WEIR_OOP_DEL_GROUP, g);

    op->w = w;
    op->idx = idx;
}

void
weir__group_meta_update(weir_group_t *g, weir_group_state_t from)
{
    weir_coord_t *co = g->co;
    weir_oop_t *op;

    if (!g->protocol_type || co->stopping)
        return;
    if (g->state == WEIR_GROUP_EMPTY &&
        (from != WEIR_GROUP_EMPTY || g->meta_stored != WEIR_GMETA_EMPTY)) {
        op = weir_oop_push(co, WEIR_OOP_GROUP_META, g);
        op->empty_since_ms = g->empty_since_ms;
        g->meta_stored = WEIR_GMETA_EMPTY;
    } else if (g->state == WEIR_GROUP_COMPLETING_REBALANCE &&
               g->meta_stored != WEIR_GMETA_NONEMPTY) {
        op = weir_oop_push(co, WEIR_OOP_GROUP_META, g);
        op->empty_since_ms = -1;
        g->meta_stored = WEIR_GMETA_NONEMPTY;
    } else {
        return;
    }
    op->protocol_type = weir_strdup(g->protocol_type);
    weir__store_kick(co);
}

void
weir__group_retire(weir_group_t *g)
{
    if (g->meta_stored != WEIR_GMETA_NONE) {
        weir_oop_push(g->co, WEIR_OOP_DEL_GROUP, g);
        g->meta_stored = WEIR_GMETA_NONE;
        weir__store_kick(g->co);
        return;
    }
    WEIR_LOG(WEIR_LOG_DEBUG, "group_expired", "group=%s", g->id);
    weir__group_forget(g);
}

/* ------------------------------------------------------------------ */
/* OffsetCommit                                                       */

/* Kafka's validateOffsetCommit and the state checks of doCommitOffsets. */
static weir_kerr_t
weir_commit_check(weir_group_t *g, int32_t generation, weir_str_t member_id, weir_str_t instance_id)
{
    weir_kerr_t err;

    if (g->state == WEIR_GROUP_DEAD)
        return WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    if (generation >= 0 || member_id.len > 0 || instance_id.len >= 0) {
        err = weir__group_validate_member(g, member_id, instance_id);
        if (err)
            return err;
        if (generation != g->generation)
            return WEIR_KERR_ILLEGAL_GENERATION;
    } else if (g->state != WEIR_GROUP_EMPTY) {
        /* Only members commit to a group that has members. */
        return WEIR_KERR_UNKNOWN_MEMBER_ID;
    }
    switch (g->state) {
    case WEIR_GROUP_COMPLETING_REBALANCE:
        /* The member has its new generation but not its assignment. */
        return WEIR_KERR_REBALANCE_IN_PROGRESS;
    case WEIR_GROUP_STABLE:
    case WEIR_GROUP_PREPARING_REBALANCE: {
        /* A commit is a sign of life, as a heartbeat. */
        weir_member_t *m = weir__group_member(g, member_id);
        if (m)
            m->last_heartbeat = weir__coord_now(g->co);
        return WEIR_KERR_NONE;
    }
    default:
        return WEIR_KERR_NONE;
    }
}

/* Whether any partition is left to commit once the caller has refused
 * some (unknown topics).  Kafka does not reach its coordinator at all when
 * none is, so a group-less commit then creates no group. */
static bool
weir_commit_any(const weir_commit_part_t *parts, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (!parts[i].err)
            return true;
    return false;
}

void
weir_coord_commit(weir_coord_t *co, weir_str_t group_id, int32_t generation, weir_str_t member_id,
                  weir_str_t instance_id, weir_commit_part_t *parts, int32_t n, weir_gwait_t *w)
{
    weir_group_t *g = NULL;
    weir_kerr_t err = WEIR_KERR_NONE;
    int64_t now = weir_wall_ms();
    int32_t queued = 0;

    weir__coord_enter(co);
    w->co = co;
    w->parts = parts;
    w->errs = NULL;
    w->err = WEIR_KERR_NONE;
    w->ops_left = 1; /* guard while queuing */
    if (!weir__group_id_ok(group_id, true)) {
        err = WEIR_KERR_INVALID_GROUP_ID;
    } else if (co->stopping) {
        err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        g = weir__group_get(co, group_id.ptr, (size_t)group_id.len);
        if (!g && generation < 0 && weir_commit_any(parts, n))
            g = weir__group_create(co, group_id.ptr, (size_t)group_id.len);
        if (g)
            err = weir_commit_check(g, generation, member_id, instance_id);
        else if (generation >= 0)
            err = WEIR_KERR_ILLEGAL_GENERATION; /* a commit from an old generation */
        /* else: nothing to commit, every partition keeps its error. */
    }
    for (int32_t i = 0; i < n; i++) {
        weir_commit_part_t *p = &parts[i];
        weir_oop_t *op;

        if (p->err)
            continue;
        if (err) {
            p->err = err;
            continue;
        }
        if (p->metadata.len > co->conf->offset_metadata_max_bytes) {
            p->err = WEIR_KERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        if (p->topic.len <= 0 || memchr(p->topic.ptr, '\0', (size_t)p->topic.len)) {
            p->err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        op = weir_oop_push(co, WEIR_OOP_PUT, g);
        op->topic = weir_strndup(p->topic.ptr, (size_t)p->topic.len);
        op->partition = p->partition;
        op->offset = p->offset;
        op->leader_epoch = p->leader_epoch;
        op->metadata_len = p->metadata.len > 0 ? p->metadata.len : 0;
        op->metadata = weir_malloc((size_t)op->metadata_len + 1);
        if (op->metadata_len)
            memcpy(op->metadata, p->metadata.ptr, (size_t)op->metadata_len);
        op->metadata[op->metadata_len] = '\0';
        op->commit_ms = now;
        op->w = w;
        op->idx = i;
        w->ops_left++;
        queued++;
    }
    if (err && err != WEIR_KERR_INVALID_GROUP_ID && g)
        WEIR_LOG(WEIR_LOG_DEBUG, "offset_commit_rejected", "group=%s generation=%d error=%s", g->id,
                 generation, weir_kerr_name(err));
    if (--w->ops_left == 0)
        weir__gwait_complete(w, WEIR_KERR_NONE);
    if (queued)
        weir__store_kick(co);
    weir__coord_leave(co);
}

/* ------------------------------------------------------------------ */
/* OffsetDelete                                                       */

static bool
weir_group_subscribes(const weir_group_t *g, const char *topic, size_t len)
{
    if (!g->subscribed_known)
        return true; /* unknown: assume it does, as Kafka does */
    return weir_gmap_get(&g->subscribed, topic, len) != NULL;
}

void
weir_coord_offset_delete(weir_coord_t *co, weir_str_t group_id, weir_commit_part_t *parts,
                         int32_t n, weir_gwait_t *w)
{
    weir_group_t *g = NULL;
    bool consumer = false;
    int32_t queued = 0;

    weir__coord_enter(co);
    w->co = co;
    w->parts = parts;
    w->errs = NULL;
    w->err = WEIR_KERR_NONE;
    w->ops_left = 1;
    if (!weir__group_id_ok(group_id, true))
        w->err = WEIR_KERR_INVALID_GROUP_ID;
    else if (co->stopping)
        w->err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    else if (!(g = weir__group_get(co, group_id.ptr, (size_t)group_id.len)) ||
             g->state == WEIR_GROUP_DEAD)
        w->err = WEIR_KERR_GROUP_ID_NOT_FOUND;
    else if (g->state != WEIR_GROUP_EMPTY &&
             !(consumer = g->protocol_type && strcmp(g->protocol_type, "consumer") == 0))
        w->err = WEIR_KERR_NON_EMPTY_GROUP;
    for (int32_t i = 0; i < n && !w->err; i++) {
        weir_commit_part_t *p = &parts[i];
        weir_oop_t *op;

        if (p->err)
            continue;
        if (p->topic.len <= 0 || memchr(p->topic.ptr, '\0', (size_t)p->topic.len)) {
            p->err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        if (g->state != WEIR_GROUP_EMPTY && consumer &&
            weir_group_subscribes(g, p->topic.ptr, (size_t)p->topic.len)) {
            p->err = WEIR_KERR_GROUP_SUBSCRIBED_TO_TOPIC;
            continue;
        }
        op = weir_oop_push(co, WEIR_OOP_DEL, g);
        op->topic = weir_strndup(p->topic.ptr, (size_t)p->topic.len);
        op->partition = p->partition;
        op->commit_ms = -1;
        op->w = w;
        op->idx = i;
        w->ops_left++;
        queued++;
    }
    if (--w->ops_left == 0)
        weir__gwait_complete(w, w->err);
    if (queued)
        weir__store_kick(co);
    weir__coord_leave(co);
}

/* ------------------------------------------------------------------ */
/* Retention                                                          */

void
weir_coord_expire_offsets(weir_coord_t *co, int64_t now_ms)
{
    int64_t retention = (int64_t)co->conf->offsets_retention_minutes * 60000;
    weir_gmap_iter_t git;
    weir_group_t *g;
    size_t expired = 0, groups = 0;

    if (co->stopping)
        return;
    weir__coord_enter(co);
    weir_gmap_iter_init(&git, &co->groups);
    while ((g = weir_gmap_iter_next(&git)) != NULL) {
        weir_gmap_iter_t oit;
        weir_offset_t *o;
        int64_t base = -1;
        bool empty = g->state == WEIR_GROUP_EMPTY;
        bool unsubscribed = g->state == WEIR_GROUP_STABLE && g->subscribed_known;

        if (g->state == WEIR_GROUP_DEAD)
            continue;
        /* A consumer group that became empty: every offset expires with the
         * group.  Offsets committed without membership: each on its own. */
        if (empty && g->protocol_type && g->empty_since_ms >= 0)
            base = g->empty_since_ms;
        if (empty || unsubscribed) {
            weir_gmap_iter_init(&oit, &g->offsets);
            while ((o = weir_gmap_iter_next(&oit)) != NULL) {
                int64_t b = base >= 0 ? base : o->commit_ms;
                weir_oop_t *op;

                if (now_ms - b < retention)
                    continue;
                if (unsubscribed && weir_gmap_get(&g->subscribed, o->topic, strlen(o->topic)))
                    continue;
                op = weir_oop_push(co, WEIR_OOP_DEL, g);
                op->topic = weir_strdup(o->topic);
                op->partition = o->partition;
                op->commit_ms = o->commit_ms;
                expired++;
            }
        }
        if (weir__group_forgettable(g)) {
            groups++;
            weir__group_retire(g);
        }
    }
    if (expired || groups)
        WEIR_LOG(WEIR_LOG_INFO, "offsets_expired", "offsets=%zu empty_groups=%zu", expired, groups);
    weir__store_kick(co);
    weir__coord_leave(co);
}

void
weir_coord_topic_deleted(weir_coord_t *co, const char *topic)
{
    weir_gmap_iter_t git;
    weir_group_t *g;
    size_t n = 0;

    if (co->stopping)
        return;
    weir__coord_enter(co);
    weir_gmap_iter_init(&git, &co->groups);
    while ((g = weir_gmap_iter_next(&git)) != NULL) {
        weir_gmap_iter_t oit;
        weir_offset_t *o;

        weir_gmap_iter_init(&oit, &g->offsets);
        while ((o = weir_gmap_iter_next(&oit)) != NULL) {
            weir_oop_t *op;

            if (strcmp(o->topic, topic) != 0)
                continue;
            op = weir_oop_push(co, WEIR_OOP_DEL, g);
            op->topic = weir_strdup(o->topic);
            op->partition = o->partition;
            op->commit_ms = -1;
            n++;
        }
    }
    if (n)
        WEIR_LOG(WEIR_LOG_INFO, "offsets_deleted_with_topic", "topic=%s offsets=%zu", topic, n);
    weir__store_kick(co);
    weir__coord_leave(co);
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */

typedef struct weir_load_s {
    weir_coord_t *co;
    int64_t now_ms;
    size_t offsets, groups;
} weir_load_t;

static void
weir_load_group(void *arg, const char *group_id, const char *protocol_type, int64_t empty_since_ms)
{
    weir_load_t *ld = arg;
    weir_coord_t *co = ld->co;
    size_t len = strlen(group_id);
    weir_group_t *g = weir__group_get(co, group_id, len);

    if (!g)
        g = weir__group_create(co, group_id, len);
    free(g->protocol_type);
    g->protocol_type = weir_strdup(protocol_type);
    if (empty_since_ms >= 0) {
        g->empty_since_ms = empty_since_ms;
        g->meta_stored = WEIR_GMETA_EMPTY;
    } else {
        /* It had members when the broker stopped: empty since now. */
        weir_oop_t *op = weir_oop_push(co, WEIR_OOP_GROUP_META, g);

        g->empty_since_ms = ld->now_ms;
        op->protocol_type = weir_strdup(protocol_type);
        op->empty_since_ms = ld->now_ms;
        g->meta_stored = WEIR_GMETA_EMPTY;
    }
    ld->groups++;
}

static void
weir_load_offset(void *arg, const weir_store_offset_t *o)
{
    weir_load_t *ld = arg;
    size_t len = strlen(o->group_id);
    weir_group_t *g = weir__group_get(ld->co, o->group_id, len);

    if (!g)
        g = weir__group_create(ld->co, o->group_id, len);
    weir_offset_set(g, o->topic, o->partition, o->offset, o->leader_epoch, o->metadata,
                    o->metadata_len, o->commit_ms);
    ld->offsets++;
}

int
weir__coord_load(weir_coord_t *co, char *errstr, size_t errstr_size)
{
    weir_load_t ld = {.co = co, .now_ms = weir_wall_ms()};

    if (weir_store_groups_load(co->store, weir_load_group, &ld) != 0 ||
        weir_store_offsets_load(co->store, weir_load_offset, &ld) != 0) {
        snprintf(errstr, errstr_size, "cannot read the committed offsets");
        return WEIR_ERR;
    }
    WEIR_LOG(WEIR_LOG_INFO, "offsets_loaded", "groups=%zu offsets=%zu", co->groups.count,
             ld.offsets);
    return 0;
}
