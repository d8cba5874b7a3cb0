/*
 * weir_rest_consumer_codec.h: the pure parts of the REST Proxy's consumer
 * instances (weir_rest_consumer.h) - Kafka's consumer protocol bytes
 * (ConsumerProtocolSubscription and ConsumerProtocolAssignment, versions
 * 0-3 read, version 0 written), the range and roundrobin assignors the
 * proxy runs when its member leads a group, and the decoding of one Avro
 * binary value into Avro's JSON encoding (unions as {"type": value}), as
 * Confluent's REST Proxy answers avro records.
 *
 * Nothing here touches the loop or the broker: unit-tested in
 * tests/unit/test_rest_consumer.c.
 */
#ifndef WEIR_REST_CONSUMER_CODEC_H
#define WEIR_REST_CONSUMER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "weir_avro_schema.h"

/** One topic partition. */
typedef struct weir_restc_tp_s {
    char *topic;
    int32_t partition;
} weir_restc_tp_t;

/** A growable list of topic partitions (owns the topic strings). */
typedef struct weir_restc_tplist_s {
    weir_restc_tp_t *v;
    size_t n, cap;
} weir_restc_tplist_t;

/** Appends (topic, partition), copying topic. */
void weir_restc_tplist_add(weir_restc_tplist_t *l, const char *topic, int32_t partition);
/** Frees the list's entries (the list itself may be reused). */
void weir_restc_tplist_clear(weir_restc_tplist_t *l);
/** Sorts by topic, then partition, and drops duplicates. */
void weir_restc_tplist_sort(weir_restc_tplist_t *l);

/**
 * @brief Encodes a ConsumerProtocolSubscription version 0 (topics, null
 *        user data).
 * @returns a malloc'ed buffer of *len bytes.
 */
uint8_t *weir_restc_subscription_encode(char *const *topics, size_t ntopics, int32_t *len);

/**
 * @brief Decodes the topics of a ConsumerProtocolSubscription (versions
 *        0-3; later fields ignored).
 * @returns 0 with *topics (malloc'ed array of malloc'ed strings) and *n, or
 *          -1 if the bytes are malformed.
 */
int weir_restc_subscription_decode(const uint8_t *p, size_t len, char ***topics, size_t *n);

/** Frees what weir_restc_subscription_decode() returned. */
void weir_restc_topics_free(char **topics, size_t n);

/**
 * @brief Encodes a ConsumerProtocolAssignment version 0 (partitions grouped
 *        by topic, null user data).  l must be sorted.
 * @returns a malloc'ed buffer of *len bytes.
 */
uint8_t *weir_restc_assignment_encode(const weir_restc_tplist_t *l, int32_t *len);

/**
 * @brief Decodes a ConsumerProtocolAssignment (any version; an empty buffer
 *        is an empty assignment) into out (appended, then sorted).
 * @returns 0, or -1 if the bytes are malformed.
 */
int weir_restc_assignment_decode(const uint8_t *p, size_t len, weir_restc_tplist_t *out);

/** One member as an assignor sees it. */
typedef struct weir_restc_member_s {
    const char *member_id;
    char **topics; /* its subscription */
    size_t ntopics;
    weir_restc_tplist_t assigned; /* the result */
} weir_restc_member_t;

/** The partition count of a topic, or -1 when it does not exist. */
typedef int32_t (*weir_restc_nparts_fn)(void *arg, const char *topic);

/**
 * @brief Runs Kafka's "range" or "roundrobin" assignor over members (any
 *        order: they are considered in member id order, as Kafka does).
 *        Topics that do not exist are skipped.
 * @returns 0, or -1 for another protocol name.
 */
int weir_restc_assign(const char *protocol, weir_restc_member_t *members, size_t n,
                      weir_restc_nparts_fn nparts, void *arg);

/**
 * @brief Decodes exactly one Avro binary value of schema node n (bounded:
 *        lengths and counts are checked against the bytes left, nesting
 *        depth is limited) into Avro's JSON encoding: records as objects,
 *        enums as their symbol, bytes and fixed as strings of code points
 *        0-255, non-null union branches as {"<type name>": value}.
 * @returns the value, or NULL with the reason in err.
 */
json_t *weir_restc_avro_to_json(const weir_avro_node_t *n, const uint8_t *p, size_t len, char *err,
                                size_t errsz);

#endif
