/*
 * weir_group_int.h: what weir_group.c (membership) and weir_group_offsets.c
 * (committed offsets and their store writes) share.  Not for other modules.
 */
#ifndef WEIR_GROUP_INT_H
#define WEIR_GROUP_INT_H

#include "weir_group.h"

/* What the consumer_groups table holds for a group. */
enum {
    WEIR_GMETA_NONE = 0, /* no row */
    WEIR_GMETA_NONEMPTY, /* a row saying the group has members */
    WEIR_GMETA_EMPTY,    /* a row with the time it became empty */
};

typedef struct weir_oop_s weir_oop_t;
typedef struct weir_ojob_s weir_ojob_t;

struct weir_coord_s {
    uv_loop_t *loop;
    const weir_conf_t *conf;
    weir_store_t *store; /* used only by the one worker job in flight */
    weir_gmap_t groups;  /* group id -> weir_group_t */
    /* Waiters whose done callback is due, run when the coordinator is
     * consistent again (weir__coord_leave). */
    weir_gwait_t *done_head, *done_tail;
    int depth;
    bool draining;
    bool stopping;
    int open_handles; /* group timers + the retention timer */
    uv_timer_t retention_timer;
    /* Store writes not started yet, and the job in flight. */
    weir_oop_t *queue;
    size_t nqueue, capqueue;
    weir_ojob_t *job;
};

/* Loop time in ms, refreshed. */
uint64_t weir__coord_now(weir_coord_t *co);
/* Brackets every entry point; the outermost leave runs due callbacks. */
void weir__coord_enter(weir_coord_t *co);
void weir__coord_leave(weir_coord_t *co);
/* Frees the coordinator once stopped, idle and with its handles closed. */
void weir__coord_maybe_free(weir_coord_t *co);

/* Queues w's done callback with err (w must not be parked). */
void weir__gwait_complete(weir_gwait_t *w, weir_kerr_t err);

/* A group id usable as a key: not null, no NUL byte, and not empty unless
 * allow_empty (the offset APIs and DescribeGroups accept ""). */
bool weir__group_id_ok(weir_str_t id, bool allow_empty);
weir_group_t *weir__group_get(weir_coord_t *co, const char *id, size_t len);
weir_group_t *weir__group_create(weir_coord_t *co, const char *id, size_t len);
/* Unlinks the group and frees it once its timer is closed. */
void weir__group_forget(weir_group_t *g);
/* Empty with nothing left: no members, pending members, offsets or writes. */
bool weir__group_forgettable(const weir_group_t *g);
/* Kafka's validateCurrentMember: FENCED_INSTANCE_ID / UNKNOWN_MEMBER_ID. */
weir_kerr_t weir__group_validate_member(weir_group_t *g, weir_str_t member_id,
                                        weir_str_t instance_id);
weir_member_t *weir__group_member(weir_group_t *g, weir_str_t member_id);

/* Offsets side. */
void weir__group_offsets_free(weir_group_t *g);
/* Records the group's state in consumer_groups after a transition from
 * `from`, if what is stored changes. */
void weir__group_meta_update(weir_group_t *g, weir_group_state_t from);
/* Queues the deletion of a group's offsets and record for DeleteGroups
 * (result in w->errs[idx]). */
void weir__store_delete_group(weir_coord_t *co, weir_group_t *g, weir_gwait_t *w, int32_t idx);
/* Forgets the group, first deleting its consumer_groups row if it has one. */
void weir__group_retire(weir_group_t *g);
/* Starts the next store write if none is in flight. */
void weir__store_kick(weir_coord_t *co);
/* Loads offsets and group records through co->store. */
int weir__coord_load(weir_coord_t *co, char *errstr, size_t errstr_size);
/* Frees store ops not written (only when the coordinator is freed). */
void weir__store_free(weir_coord_t *co);

#endif
