/*
 * weir_group.h: the consumer-group coordinator - Kafka's classic rebalance
 * protocol (JoinGroup / SyncGroup / Heartbeat / LeaveGroup, static
 * membership) and committed offsets, for every group of this broker.
 *
 * Everything here runs on the loop thread.  Group membership lives in
 * memory only: after a restart every group comes back Empty (generation 0)
 * with its committed offsets, and members rejoin (their heartbeats and
 * commits get UNKNOWN_MEMBER_ID, their JoinGroup works).  Committed offsets
 * are loaded from weir.db at start and written back on the libuv worker pool
 * through the coordinator's own SQLite connection (see weir_group_offsets.c).
 *
 * Timing: one uv_timer per group, armed at the group's earliest deadline
 * (member session expiry, pending member expiry, end of the join phase).
 *
 * Results of operations that may wait (JoinGroup, SyncGroup, OffsetCommit,
 * DeleteGroups, OffsetDelete) arrive through a waiter (weir_gwait_t) owned by
 * the caller: its done callback runs once, either before the call returns or
 * later, and never while the coordinator is in the middle of a state change,
 * so it may call back into the coordinator (answering a request lets the
 * connection process its next one).  Results written into the waiter are
 * owned by it until weir_gwait_release().
 */
#ifndef WEIR_GROUP_H
#define WEIR_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "weir_buf.h"
#include "weir_conf.h"
#include "weir_group_map.h"
#include "weir_kerr.h"
#include "weir_store.h"

/* How long a new member may wait in its first JoinGroup (Kafka's
 * NewMemberJoinTimeoutMs). */
#define WEIR_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS 300000

typedef enum weir_group_state_e {
    WEIR_GROUP_EMPTY = 0,
    WEIR_GROUP_PREPARING_REBALANCE,
    WEIR_GROUP_COMPLETING_REBALANCE,
    WEIR_GROUP_STABLE,
    WEIR_GROUP_DEAD,
} weir_group_state_t;

typedef struct weir_coord_s weir_coord_t;
typedef struct weir_group_s weir_group_t;
typedef struct weir_member_s weir_member_t;
typedef struct weir_gwait_s weir_gwait_t;

typedef struct weir_protocol_s {
    char *name;
    uint8_t *metadata;
    int32_t metadata_len;
} weir_protocol_t;

struct weir_member_s {
    weir_group_t *group;
    char *member_id;
    char *instance_id; /* group.instance.id; NULL for a dynamic member */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    char *protocol_type;
    weir_protocol_t *protocols; /* in the member's order of preference */
    int32_t nprotocols;
    uint8_t *assignment; /* from the leader's SyncGroup */
    int32_t assignment_len;
    weir_gwait_t *join_wait;           /* parked JoinGroup */
    weir_gwait_t *sync_wait;           /* parked SyncGroup */
    bool is_new;                       /* has not completed a join yet */
    uint64_t last_heartbeat;           /* uv_now() */
    struct weir_member_s *prev, *next; /* join order */
};

/* A committed offset.  key holds the topic, a NUL and the partition. */
typedef struct weir_offset_s {
    uint8_t *key;
    size_t klen;
    const char *topic; /* points into key */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch; /* -1: none */
    char *metadata;       /* metadata_len bytes, NUL-terminated */
    int32_t metadata_len;
    int64_t commit_ms; /* wall clock */
} weir_offset_t;

struct weir_group_s {
    weir_coord_t *co;
    char *id;
    weir_group_state_t state;
    int64_t empty_since_ms; /* wall clock the group became empty; -1: unknown */
    int32_t generation;
    char *protocol_type; /* NULL: the group never had members (offsets only) */
    char *protocol_name; /* selected protocol; NULL unless members */
    weir_member_t *leader;
    weir_member_t *head, *tail; /* members in join order */
    int32_t nmembers;
    int32_t nawaiting_join;
    weir_gmap_t members;      /* member id -> weir_member_t */
    weir_gmap_t statics;      /* group.instance.id -> weir_member_t */
    weir_gmap_t pending;      /* member id -> pending member (MEMBER_ID_REQUIRED) */
    weir_gmap_t proto_counts; /* protocol name -> members supporting it */
    weir_gmap_t subscribed;   /* consumer protocol: topics the members subscribe to */
    bool subscribed_known;
    /* Join phase (PreparingRebalance). */
    uint64_t join_deadline;
    bool join_initial; /* Kafka's InitialDelayedJoin */
    bool new_member_added;
    int32_t join_delay_ms;
    int64_t join_remaining_ms;
    uv_timer_t timer;
    uint64_t timer_due; /* 0: not armed */
    bool skip_rearm;    /* the timer is already right (this JoinGroup) */
    /* Offsets. */
    weir_gmap_t offsets;    /* topic+partition -> weir_offset_t */
    int32_t pending_ops;    /* store writes queued or in flight naming this group */
    weir_gwait_t *deleting; /* DeleteGroups in progress (state Dead) */
    bool delete_done;
    int meta_stored; /* what consumer_groups holds for the group */
};

/* One committed offset of an OffsetCommit, or one partition of an
 * OffsetDelete.  err: set by the caller beforehand to skip the partition
 * (e.g. UNKNOWN_TOPIC_OR_PARTITION), otherwise filled in with the result. */
typedef struct weir_commit_part_s {
    weir_str_t topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    weir_str_t metadata; /* null is stored as "" */
    weir_kerr_t err;
} weir_commit_part_t;

/* A member of a JoinGroup result (the leader's view of the group). */
typedef struct weir_join_member_s {
    char *member_id;
    char *instance_id; /* NULL for a dynamic member */
    uint8_t *metadata;
    int32_t metadata_len;
} weir_join_member_t;

struct weir_gwait_s {
    /* Set by the caller before the call. */
    void (*done)(weir_gwait_t *w);
    void *opaque;
    /* Results. */
    weir_kerr_t err;             /* JoinGroup, SyncGroup; OffsetDelete's group error */
    int32_t generation_id;       /* JoinGroup: -1 on error */
    char *member_id;             /* JoinGroup: the member's id (new id with MEMBER_ID_REQUIRED) */
    char *leader_id;             /* JoinGroup */
    char *protocol_name;         /* JoinGroup: NULL on error */
    weir_join_member_t *members; /* JoinGroup: leader only */
    int32_t nmembers;
    uint8_t *assignment; /* SyncGroup */
    int32_t assignment_len;
    /* Private to the coordinator. */
    weir_coord_t *co;
    weir_member_t *parked_on;
    bool queued;
    weir_gwait_t *qnext;
    int32_t ops_left;
    weir_commit_part_t *parts;
    weir_kerr_t *errs;
};

/* JoinGroup, decoded.  Strings are views valid during the call. */
typedef struct weir_join_args_s {
    weir_str_t group_id;
    weir_str_t member_id;   /* "" (or null) for a new member */
    weir_str_t instance_id; /* null for a dynamic member */
    weir_str_t protocol_type;
    weir_str_t client_id;
    const char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    bool require_known_member_id; /* JoinGroup v4+ without an instance id */
    int32_t nprotocols;
    const weir_str_t *protocol_names;
    const weir_str_t *protocol_metadata;
} weir_join_args_t;

/* One member of a LeaveGroup (v3+ lists several); err is the result. */
typedef struct weir_leave_member_s {
    weir_str_t member_id;
    weir_str_t instance_id;
    weir_kerr_t err;
} weir_leave_member_t;

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

/**
 * Opens the coordinator: its own connection to the database at db_path
 * (schema already migrated by the broker's store, or migrated here), the
 * committed offsets and group records loaded into memory, the retention
 * timer started.  conf must outlive the coordinator.
 *
 * @returns 0, or WEIR_ERR with errstr set.
 */
int weir_coord_open(uv_loop_t *loop, const weir_conf_t *conf, const char *db_path,
                    weir_coord_t **out, char *errstr, size_t errstr_size);

/**
 * Stops the coordinator: parked JoinGroup/SyncGroup waiters are answered
 * NOT_COORDINATOR, offsets not yet written are written, the timers are
 * closed.  The coordinator frees itself once the last write has finished and
 * its handles are closed (the loop keeps running until then).
 */
void weir_coord_stop(weir_coord_t *co);

/** Frees the results held by a waiter (safe to call twice). */
void weir_gwait_release(weir_gwait_t *w);

/**
 * The requester of w went away before its JoinGroup/SyncGroup was answered:
 * w is forgotten and its done callback will not run.  A new dynamic member
 * whose first JoinGroup is cancelled leaves the group (it never learned its
 * member id, or will rejoin); other members stay until they rejoin or their
 * session expires.  Only for JoinGroup and SyncGroup waiters.
 */
void weir_gwait_cancel(weir_gwait_t *w);

/* ------------------------------------------------------------------ */
/* Membership (weir_group.c)                                           */

/** JoinGroup.  w->done gets err, generation_id, member_id, leader_id,
 *  protocol_name and (leader only) members. */
void weir_coord_join(weir_coord_t *co, const weir_join_args_t *a, weir_gwait_t *w);

/** SyncGroup.  The leader passes the assignments (n entries, member_ids[i]
 *  gets assignments[i]).  w->done gets err and assignment. */
void weir_coord_sync(weir_coord_t *co, weir_str_t group_id, int32_t generation,
                     weir_str_t member_id, weir_str_t instance_id, const weir_str_t *member_ids,
                     const weir_str_t *assignments, int32_t n, weir_gwait_t *w);

/** Heartbeat. */
weir_kerr_t weir_coord_heartbeat(weir_coord_t *co, weir_str_t group_id, int32_t generation,
                                 weir_str_t member_id, weir_str_t instance_id);

/**
 * LeaveGroup for n members (v0-2: one, by member id; v3+: by member id
 * and/or group.instance.id).  Per-member results go to members[i].err.
 * @returns the top-level error.
 */
weir_kerr_t weir_coord_leave(weir_coord_t *co, weir_str_t group_id, weir_leave_member_t *members,
                             int32_t n);

/**
 * DeleteGroups: errs[i] gets the result for group_ids[i] (GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP, ...); deleted groups lose their committed offsets.
 * w->done runs once every deletion is durable.
 */
void weir_coord_delete_groups(weir_coord_t *co, const weir_str_t *group_ids, weir_kerr_t *errs,
                              int32_t n, weir_gwait_t *w);

/** The group, or NULL if the coordinator does not know it (state Dead). */
weir_group_t *weir_coord_group(weir_coord_t *co, weir_str_t group_id);

/** Calls cb for every group that is not Dead (ListGroups). */
void weir_coord_groups_foreach(weir_coord_t *co, void (*cb)(void *arg, weir_group_t *g), void *arg);

/** "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead". */
const char *weir_group_state_name(weir_group_state_t state);

/** The member's metadata for protocol name, or NULL (len 0). */
const uint8_t *weir_member_metadata(const weir_member_t *m, const char *name, int32_t *len);

/* ------------------------------------------------------------------ */
/* Committed offsets (weir_group_offsets.c)                            */

/**
 * OffsetCommit.  generation -1 with an empty member id on an Empty or
 * unknown group is a commit without group membership.  parts[] must stay
 * valid until w->done runs; each part's err is filled in.  A partition is
 * answered only once its offset is durable in weir.db; a failed write gives
 * COORDINATOR_NOT_AVAILABLE (retriable: clients retry the commit).
 */
void weir_coord_commit(weir_coord_t *co, weir_str_t group_id, int32_t generation,
                       weir_str_t member_id, weir_str_t instance_id, weir_commit_part_t *parts,
                       int32_t n, weir_gwait_t *w);

/** The committed offset of (group, topic, partition), or NULL. */
const weir_offset_t *weir_group_offset(const weir_group_t *g, weir_str_t topic, int32_t partition);

/** Calls cb for every committed offset of the group (any order). */
void weir_group_offsets_foreach(const weir_group_t *g,
                                void (*cb)(void *arg, const weir_offset_t *o), void *arg);

/**
 * The committed offset of (group, topic, partition), or -1 when there is
 * none: consumer lag is the partition's high watermark minus this.
 */
int64_t weir_coord_committed_offset(weir_coord_t *co, const char *group_id, const char *topic,
                                    int32_t partition);

/**
 * OffsetDelete.  w->err gets the group error (GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP, ...); without one, each part's err (GROUP_SUBSCRIBED_TO_TOPIC
 * for topics a consumer group member subscribes to).  w->done runs once
 * the deletions are durable.
 */
void weir_coord_offset_delete(weir_coord_t *co, weir_str_t group_id, weir_commit_part_t *parts,
                              int32_t n, weir_gwait_t *w);

/**
 * Applies offsets.retention.minutes now (the retention timer calls this
 * every offsets.retention.check.interval.ms): expired offsets are deleted,
 * and Empty groups left with nothing are forgotten.  now_ms: wall clock.
 */
void weir_coord_expire_offsets(weir_coord_t *co, int64_t now_ms);

/**
 * A topic was deleted: every group's committed offsets for it are deleted
 * (as Kafka does), so a topic created again with the same name starts
 * without stale positions.
 */
void weir_coord_topic_deleted(weir_coord_t *co, const char *topic);

/** Number of store writes queued or in flight (tests, metrics). */
size_t weir_coord_pending_writes(const weir_coord_t *co);

#endif
