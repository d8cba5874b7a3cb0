/*
 * weir_produce_path.h: the one path by which produced record batches enter
 * a partition log, shared by Kafka Produce (proto/api/weir_api_produce.c)
 * and the REST proxy (http/weir_rest_proxy.c).
 *
 * Per partition: find it (UNKNOWN_TOPIC_OR_PARTITION), broker-side schema
 * validation of every record when the topic asks for it
 * (confluent.key.schema.validation, confluent.value.schema.validation,
 * weir.value.schema.validation.payload; INVALID_RECORD), the all-or-nothing
 * append of weir_plog_append(), the topic's byte and record counters and
 * the append notification that wakes waiting fetches.  Nothing is appended
 * when validation refuses a record.
 *
 * Authorization (WRITE on the topic, a denial logged and audited as the
 * Produce API's) and the produce quota belong to the caller, who decides
 * them once per topic and once per request: Kafka Produce uses its
 * request's connection (weir_req_allowed, weir_req_quota_produce); callers
 * whose principal is not the connection's (HTTP Basic auth) use
 * weir_produce_path_allowed() and weir_produce_path_quota(), which decide
 * for a given principal through the same governance session machinery.
 */
#ifndef WEIR_PRODUCE_PATH_H
#define WEIR_PRODUCE_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_auth.h"
#include "weir_buf.h"
#include "weir_kerr.h"

typedef struct weir_broker_s weir_broker_t;
typedef struct weir_conn_s weir_conn_t;

/** The outcome of one partition's append. */
typedef struct weir_produce_result_s {
    int64_t base_offset;      /* of the first batch appended, -1 on error */
    int64_t log_append_time;  /* -1 unless the topic uses LogAppendTime */
    int64_t log_start_offset; /* -1 when the partition is unknown */
    int64_t record_index;     /* INVALID_RECORD by validation: the refused record, else -1 */
    char message[512];        /* INVALID_RECORD by validation: why ("value: ...") */
} weir_produce_result_t;

/**
 * @brief Validates and appends the batches in records (len bytes, stamped in
 *        place) to topic's partition, then counts and notifies.  conn names
 *        the producer in logs (may be NULL).
 * @returns WEIR_KERR_NONE with res filled, or the error (nothing appended).
 */
weir_kerr_t weir_produce_path_append(weir_broker_t *brk, const weir_conn_t *conn,
                                     weir_str_t topic, int32_t partition, uint8_t *records,
                                     size_t len, weir_produce_result_t *res);

/**
 * @brief Whether principal may WRITE to topic, decided through conn's
 *        governance session (host from conn's peer) exactly as for a Kafka
 *        Produce; a denial is logged and audited ("Produce:WRITE",
 *        "Topic:<name>").  principal NULL: conn's own.  Allowed when the
 *        broker has no governance.
 */
bool weir_produce_path_allowed(weir_broker_t *brk, weir_conn_t *conn,
                               const weir_principal_t *principal, weir_str_t topic);

/**
 * @brief The general form: whether principal may do op (WEIR_ACL_OP_*) on
 *        topic, a denial audited as API api_key's unless quiet (filtering a
 *        listing).
 */
bool weir_produce_path_authorized(weir_broker_t *brk, weir_conn_t *conn,
                                  const weir_principal_t *principal, int16_t api_key, int op,
                                  weir_str_t topic, bool quiet);

/**
 * @brief Records bytes against principal's produce quota (its override or
 *        its tenant's rate), as a Kafka Produce of that size would.
 * @returns the throttle time in ms (0 within quota or without one).
 */
int32_t weir_produce_path_quota(weir_broker_t *brk, weir_conn_t *conn,
                                const weir_principal_t *principal, int64_t bytes);

#endif
