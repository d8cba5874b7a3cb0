/*
 * weir_store.h: Weir's SQLite database (<data dir>/weir.db, WAL mode).  All SQL
 * lives in governance/ behind this typed API; prepared statements only; schema
 * changes are numbered migrations tracked with PRAGMA user_version.
 *
 * This part holds the topic catalogue (names, partition counts, config
 * overrides) and producer-id allocation.  Calls are synchronous and short
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

#endif
