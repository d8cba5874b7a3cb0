/*
 * weir_rest_consumer.h: the consumer half of the REST Proxy - Confluent
 * REST Proxy v2 consumer instances on the broker's HTTP listeners.
 *
 *   POST   /consumers/{group}                          create an instance
 *   DELETE /consumers/{group}/instances/{i}            destroy it
 *   POST|GET|DELETE .../{i}/subscription               topics or topic_pattern
 *   POST|GET .../{i}/assignments                       manual assignment
 *   POST .../{i}/positions, positions/beginning, positions/end   seek
 *   GET  .../{i}/records?timeout=&max_bytes=           long-poll for records
 *   POST|GET .../{i}/offsets                           commit / committed
 *
 * An instance that subscribes is a real member of its consumer group in the
 * broker's coordinator (server/group): it joins with protocol type
 * "consumer" offering the range and roundrobin assignors, runs the chosen
 * one when it leads (over Kafka clients' subscriptions too), heartbeats on
 * a timer while it lives, and leaves the group when it is deleted or
 * expires (consumer.instance.timeout.ms without a request).  Records are
 * read from the partition logs on the worker pool; a GET records with
 * nothing to read waits like a Kafka fetch, up to its timeout.  Keys and
 * values are answered as base64 (binary), JSON (json, jsonschema) or
 * decoded Avro (avro, with the registry's schema named by the record's
 * magic byte 0 + schema id).
 *
 * Authorization is the Kafka path's: the request's principal (Basic auth)
 * needs READ on the group and READ on each topic (403 with 40301, denials
 * audited); an instance belongs to the principal that created it.
 */
#ifndef WEIR_REST_CONSUMER_H
#define WEIR_REST_CONSUMER_H

#include <stddef.h>

typedef struct weir_rest_consumer_s weir_rest_consumer_t;
typedef struct weir_broker_s weir_broker_t;
typedef struct weir_http_server_s weir_http_server_t;

/**
 * @brief Adds the /consumers routes to srv for brk (its coordinator,
 *        topics, authorizer and registry) and starts the instances' timer.
 * @returns the module, or NULL with errstr set.
 */
weir_rest_consumer_t *weir_rest_consumer_register(weir_http_server_t *srv, weir_broker_t *brk,
                                                  char *errstr, size_t errstr_size);

/**
 * @brief Stops before the coordinator does: waiting GET records are
 *        answered with what they have, every instance leaves its group,
 *        the timer is closed.  New requests answer 503.  Safe to call twice.
 */
void weir_rest_consumer_stop(weir_rest_consumer_t *rc);

/** Frees the module and its instances once the loop has finished. */
void weir_rest_consumer_free(weir_rest_consumer_t *rc);

/** Number of live consumer instances (tests, metrics). */
size_t weir_rest_consumer_count(const weir_rest_consumer_t *rc);

#endif
