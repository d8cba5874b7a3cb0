/*
 * weir_conf.h: broker configuration.  One table (weir_conf.c) describes every
 * key - name, type, default, bounds, meaning - and drives parsing of Kafka-style
 * .properties files, `weir --help-config` and docs/CONFIGURATION.md.  Kafka's
 * key names are used wherever the meaning matches; Weir's own keys start with
 * "weir.".
 */
#ifndef WEIR_CONF_H
#define WEIR_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct weir_conf_s {
    char *listeners;              /* listeners */
    char *advertised_listeners;   /* advertised.listeners (NULL: same as listeners) */
    char *log_dirs;               /* log.dirs / log.dir (one directory) */
    int32_t node_id;              /* node.id / broker.id */
    int32_t num_partitions;       /* num.partitions */
    int16_t default_replication_factor; /* default.replication.factor (1 only) */
    int64_t log_retention_ms;     /* log.retention.ms|minutes|hours, -1 forever */
    int64_t log_retention_bytes;  /* log.retention.bytes, -1 unlimited */
    int64_t log_segment_bytes;    /* log.segment.bytes */
    int64_t log_roll_ms;          /* log.roll.ms|hours */
    int32_t log_index_interval_bytes;     /* log.index.interval.bytes */
    int64_t log_retention_check_interval_ms; /* log.retention.check.interval.ms */
    int64_t log_segment_delete_delay_ms;  /* log.segment.delete.delay.ms */
    int64_t log_flush_interval_messages;  /* log.flush.interval.messages */
    int64_t log_flush_interval_ms;        /* log.flush.interval.ms (INT64_MAX unset) */
    bool log_message_timestamp_log_append; /* log.message.timestamp.type */
    bool auto_create_topics_enable;       /* auto.create.topics.enable */
    bool delete_topic_enable;             /* delete.topic.enable */
    int32_t message_max_bytes;            /* message.max.bytes */
    int32_t socket_request_max_bytes;     /* socket.request.max.bytes */
    int64_t connections_max_idle_ms;      /* connections.max.idle.ms */
    int32_t num_io_threads;               /* num.io.threads: worker pool size */
    bool acks_all_fsync;                  /* weir.produce.acks.all.fsync */
    char *log_level;                      /* weir.log.level */
} weir_conf_t;

/* Fills conf with every default (the embedded default config). */
void weir_conf_defaults(weir_conf_t *conf);
void weir_conf_free(weir_conf_t *conf);

/* Sets one key; returns 0, or -1 with a message ("unknown key", "must be an
 * integer between 1 and 2147483647", ...) in errstr. */
int weir_conf_set(weir_conf_t *conf, const char *key, const char *value, char *errstr,
                  size_t errstr_size);

/* Reads a .properties file (Java properties syntax: '#'/'!' comments, '=' or
 * ':' separators, trailing-backslash continuation).  Returns 0, or -1 with
 * "FILE:LINE: KEY: reason" in errstr.  Applies cross-key checks at the end. */
int weir_conf_load(weir_conf_t *conf, const char *path, char *errstr, size_t errstr_size);

/* Cross-key checks (called by weir_conf_load, and after weir_conf_set calls). */
int weir_conf_check(const weir_conf_t *conf, char *errstr, size_t errstr_size);

/* Prints every key with its default and meaning (weir --help-config). */
void weir_conf_print_help(FILE *out);
/* Prints docs/CONFIGURATION.md (Markdown table) from the same table. */
void weir_conf_print_markdown(FILE *out);

/* Iterates the effective broker settings for DescribeConfigs (resource type
 * BROKER): returns false past the end.  *is_default is true when the value is
 * the built-in default. */
bool weir_conf_describe(const weir_conf_t *conf, size_t idx, const char **name, char *value,
                        size_t value_size, bool *is_default, bool *sensitive);

#endif
