/*
 * weir_topic_config.h: topic-level configuration with Kafka's key names
 * (retention.ms, segment.bytes, cleanup.policy, ...).  A topic stores only its
 * overrides; the effective value of every other key comes from the broker
 * configuration, exactly as Kafka resolves it.
 */
#ifndef WEIR_TOPIC_CONFIG_H
#define WEIR_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "weir_conf.h"
#include "weir_kerr.h"
#include "weir_plog.h"

typedef struct weir_kv_s {
    char *key;
    char *value;
} weir_kv_t;

/* A topic's overrides: a small owned array of key/value strings. */
typedef struct weir_kvlist_s {
    weir_kv_t *items;
    size_t count;
} weir_kvlist_t;

void weir_kvlist_set(weir_kvlist_t *l, const char *key, const char *value); /* add or replace */
bool weir_kvlist_remove(weir_kvlist_t *l, const char *key);
const char *weir_kvlist_get(const weir_kvlist_t *l, const char *key);
void weir_kvlist_copy(weir_kvlist_t *dst, const weir_kvlist_t *src);
void weir_kvlist_free(weir_kvlist_t *l);

/* Checks one override.  Unknown keys and bad values answer INVALID_CONFIG with
 * a message naming the key and the rule ("retention.ms: must be -1 or a
 * non-negative integer"). */
weir_kerr_t weir_topic_config_validate(const char *key, const char *value, char *errstr,
                                       size_t errstr_size);

/* Effective partition-log settings for a topic. */
void weir_topic_config_resolve(const weir_conf_t *bc, const weir_kvlist_t *overrides,
                               weir_log_config_t *out);

/* Config sources, with Kafka's DescribeConfigs numbers. */
#define WEIR_CONFIG_SOURCE_TOPIC 1
#define WEIR_CONFIG_SOURCE_STATIC_BROKER 4
#define WEIR_CONFIG_SOURCE_DEFAULT 5

/* Iterates every known topic key with its effective value for DescribeConfigs.
 * Returns false past the end. */
bool weir_topic_config_describe(const weir_conf_t *bc, const weir_kvlist_t *overrides,
                                size_t idx, const char **name, char *value, size_t value_size,
                                int *source, bool *read_only);

/* Prints the topic-level section of docs/CONFIGURATION.md (Markdown table of
 * every key, its default or broker key, valid values and meaning). */
void weir_topic_config_print_markdown(FILE *out);

#endif
