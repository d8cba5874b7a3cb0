/*
 * weir_store.h: Weir's SQLite database (<data dir>/weir.db, WAL mode).  All SQL
 * lives in governance/ behind this typed API; prepared statements only; schema
 * changes are numbered migrations tracked with PRAGMA user_version.
 *
 * It holds the topic catalogue (names, partition counts, config overrides),
 * producer-id allocation and consumer-group committed offsets.  Calls are synchronous and short
 * (no fsync on commit: synchronous=NORMAL in WAL mode); the broker calls them
 * only for rare metadata changes.
 */
#ifndef WEIR_STORE_H
#define WEIR_STORE_H

#include <stdint.h>

#include "weir_topic_config.h"

typedef struct weir_store_s weir_store_t;

int weir_store_open(const char *path, weir_store_t **out, char *errstr, size_t errstr_size);
void weir_store_close(weir_store_t *st);

typedef void (*weir_store_topic_cb)(void *arg, const char *name, const char *topic_id,
                                    int32_t partitions, const weir_kvlist_t *configs);
/* Calls cb for every topic.  Returns 0 or a negative error. */
int weir_store_topics_load(weir_store_t *st, weir_store_topic_cb cb, void *arg);
/* topic_id: 22-character base64url of the topic's 16-byte UUID. */
int weir_store_topic_create(weir_store_t *st, const char *name, const char *topic_id,
                            int32_t partitions, const weir_kvlist_t *configs);
int weir_store_topic_delete(weir_store_t *st, const char *name);
int weir_store_topic_set_partitions(weir_store_t *st, const char *name, int32_t partitions);
/* Replaces all overrides of the topic. */
int weir_store_topic_set_configs(weir_store_t *st, const char *name, const weir_kvlist_t *configs);

/* Reserves count producer ids, unique for the life of the database; returns
 * the first, or a negative error. */
int64_t weir_store_reserve_producer_ids(weir_store_t *st, int32_t count);

/*
 * Consumer-group offsets (schema version 2).  The group coordinator keeps
 * its own connection for these: it loads everything once at start-up, then
 * writes only from one libuv worker job at a time, several commits per
 * transaction (weir_store_batch_begin ... weir_store_batch_commit).
 */

/** One committed offset.  metadata is metadata_len bytes (may hold NULs). */
typedef struct weir_store_offset_s {
    const char *group_id;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;  /* -1: none */
    const char *metadata;
    int32_t metadata_len;
    int64_t commit_ms;     /* wall clock of the commit */
} weir_store_offset_t;

typedef void (*weir_store_offset_cb)(void *arg, const weir_store_offset_t *o);
/* empty_since_ms is -1 when the group had members when last recorded. */
typedef void (*weir_store_group_cb)(void *arg, const char *group_id, const char *protocol_type,
                                    int64_t empty_since_ms);

/** Makes every commit of this connection wait for fsync (synchronous=FULL). */
int weir_store_set_durable(weir_store_t *st);

/** Calls cb for every stored offset (strings valid during the call only). */
int weir_store_offsets_load(weir_store_t *st, weir_store_offset_cb cb, void *arg);
/** Calls cb for every recorded consumer group. */
int weir_store_groups_load(weir_store_t *st, weir_store_group_cb cb, void *arg);

/** Starts a write transaction for the calls below. */
int weir_store_batch_begin(weir_store_t *st);
/** Commits it; on failure it is rolled back.  Returns 0 or a negative error. */
int weir_store_batch_commit(weir_store_t *st);
/** Abandons it. */
void weir_store_batch_rollback(weir_store_t *st);

/** Inserts or replaces the offset of (group, topic, partition). */
int weir_store_offset_put(weir_store_t *st, const weir_store_offset_t *o);
/**
 * Deletes the offset of (group, topic, partition); with if_commit_ms >= 0
 * only if it was committed at or before that time (retention: a newer
 * commit survives).
 */
int weir_store_offset_delete(weir_store_t *st, const char *group_id, const char *topic,
                             int32_t partition, int64_t if_commit_ms);
/** Deletes every offset of a group and its record. */
int weir_store_group_delete(weir_store_t *st, const char *group_id);
/** Records a group's protocol type and since when it is empty (-1: not empty). */
int weir_store_group_put(weir_store_t *st, const char *group_id, const char *protocol_type,
                         int64_t empty_since_ms);

#endif
