/*
 * weir_rest_proxy.h: the produce half of Confluent's REST Proxy on the
 * broker's HTTP listeners - topic metadata (v2), produce with embedded
 * formats binary, json and avro (v2) and v3 produce with per-record
 * results - plus the pieces it is made of: the Kafka default partitioner,
 * the record batch builder and the JSON-to-Avro encoder.
 *
 * Routes (v2 answers application/vnd.kafka.v2+json, v3 application/json):
 *   GET  /topics                         names the principal may DESCRIBE
 *   GET  /topics/{topic}                 name, configs, partitions
 *   GET  /topics/{topic}/partitions[/{partition}]
 *   POST /topics/{topic}                 {"records":[{"key","value","partition"}],
 *   POST /topics/{topic}/partitions/{p}   "key_schema[_id]","value_schema[_id]"}
 *   POST /v3/clusters/{cluster_id}/topics/{topic}/records   one or more
 *        concatenated JSON records {"partition_id","headers","key","value",
 *        "timestamp"}, one result per record in order
 *
 * Records produced over HTTP become ordinary magic-2 record batches (one
 * per partition and request, CreateTime, CRC-32C, no producer id) and go
 * through the same path as Kafka Produce (proto/weir_produce_path.h): WRITE
 * on the topic for the request's principal (denials audited as Produce's:
 * 403/40301), the principal's produce quota (the throttle time is sent in
 * X-Weir-Throttle-Ms and the connection is muted for it after the answer),
 * broker-side schema validation, append, metrics and the wake-up of waiting
 * fetches; with weir.produce.acks.all.fsync the answer waits for the fsync
 * of every partition written (the proxy produces as an acks=all producer).
 * Keyed records go to Kafka's default partition (murmur2), unkeyed ones to
 * one partition per request, taken in turn.  A request whose body or
 * records are malformed appends nothing.  Avro schemas given inline are
 * registered under <topic>-key / <topic>-value through the registry's
 * governance hooks (tenant ownership, compatibility, approval: the error
 * names the pending schema request).  Bodies are parsed with
 * weir_rest_json_parse() and answers written directly, both for speed.
 */
#ifndef WEIR_REST_PROXY_H
#define WEIR_REST_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "weir_avro_schema.h"
#include "weir_buf.h"
#include "weir_http.h"
#include "weir_registry_http.h"

typedef struct weir_rest_proxy_s weir_rest_proxy_t;

/**
 * @brief Adds the REST proxy's produce and topic routes to srv.  hooks are
 *        the Schema Registry's governance hooks (copied; NULL: none).
 * @returns the routes' context (free it after the server), or NULL with
 *          errstr set.
 */
weir_rest_proxy_t *weir_rest_proxy_register(weir_http_server_t *srv, weir_broker_t *brk,
                                            const weir_registry_hooks_t *hooks, char *errstr,
                                            size_t errstr_size);
void weir_rest_proxy_free(weir_rest_proxy_t *rp);

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2). */
int32_t weir_rest_murmur2(const void *data, size_t len);

/** The partition Kafka's default partitioner gives a non-null key. */
int32_t weir_rest_key_partition(const void *key, size_t len, int32_t npartitions);

/** One header of a record to build (value_len -1: null). */
typedef struct weir_rest_header_s {
    const char *name;
    size_t name_len;
    const uint8_t *value;
    int32_t value_len;
} weir_rest_header_t;

/** One record to build (key_len / value_len -1: null). */
typedef struct weir_rest_record_s {
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len;
    const weir_rest_header_t *headers;
    size_t nheaders;
    int64_t timestamp; /* CreateTime, ms */
} weir_rest_record_t;

/**
 * @brief Appends one uncompressed magic-2 record batch holding recs[0..n)
 *        (n >= 1) to w: base offset 0, leader epoch -1, CreateTime, the
 *        first record's timestamp as the base, no producer id (-1/-1/-1),
 *        CRC-32C over attributes..end.
 */
void weir_rest_batch_build(weir_wbuf_t *w, const weir_rest_record_t *recs, size_t n);

/**
 * @brief Encodes a JSON value in Avro's JSON encoding (unions as
 *        {"<branch>": value} or null, bytes and fixed as strings of code
 *        points 0-255) as Avro binary of schema node n, appended to w.
 *        Missing record fields take their defaults.
 * @returns 0, or -1 with the reason (and the path of the value) in err.
 */
int weir_rest_avro_encode(const weir_avro_node_t *n, const json_t *v, weir_wbuf_t *w, char *err,
                          size_t errsz);

#endif
