/*
 * weir_produce_path.c: per-partition validation and append of produced
 * batches, shared by Kafka Produce and the REST proxy (see
 * weir_produce_path.h).
 */
#include "weir_produce_path.h"

#include <stdio.h>
#include <strings.h>

#include "weir_api.h"
#include "weir_authz.h"
#include "weir_batch_validate.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_metrics.h"
#include "weir_records.h"
#include "weir_topic_config.h"

/* Whether topic override key is "true". */
static bool
weir_produce_flag(const weir_topic_t *t, const char *key)
{
    const char *v = weir_kvlist_get(&t->configs, key);

    return v && strcasecmp(v, "true") == 0;
}

/* Broker-side schema validation (topic configs confluent.key/value.schema.
 * validation, weir.value.schema.validation.payload): every record of every
 * batch must carry a registered id under <topic>-key / <topic>-value (and
 * with payload, an Avro value that decodes).  Runs before anything of the
 * partition's data is appended, so a refused batch leaves the log as it
 * was.  Produce v0-7 have no record_errors: the message naming the record
 * index is logged (and handed to the caller in res). */
static weir_kerr_t
weir_produce_validate(weir_broker_t *brk, const weir_conn_t *conn, const weir_topic_t *t,
                      weir_str_t topic, int32_t partition, const uint8_t *b, size_t len,
                      weir_produce_result_t *res)
{
    weir_batch_checks_t checks = {
        .key = weir_produce_flag(t, "confluent.key.schema.validation"),
        .value = weir_produce_flag(t, "confluent.value.schema.validation"),
        .payload = weir_produce_flag(t, "weir.value.schema.validation.payload"),
    };
    weir_batch_failure_t fail;
    weir_kerr_t err;

    if (!checks.key && !checks.value)
        return WEIR_KERR_NONE;
    err = weir_batch_schema_validate(brk->schema_validator, topic, &checks, b, len, &fail);
    if (err != WEIR_KERR_INVALID_RECORD)
        return err;
    if (fail.index < 0) {
        snprintf(res->message, sizeof(res->message), "%s", fail.reason);
        return err;
    }
    WEIR_LOG(WEIR_LOG_WARN, "produce_schema_invalid", "conn=%llu peer=%s topic=%.*s "
             "partition=%d error=INVALID_RECORD message=\"record %lld of the batch "
             "(offset delta %lld): %s %s\"",
             (unsigned long long)(conn ? conn->id : 0), conn ? conn->peer : "-",
             topic.len, topic.ptr, partition, (long long)fail.index,
             (long long)fail.offset_delta, fail.what, fail.reason);
    res->record_index = fail.index;
    snprintf(res->message, sizeof(res->message), "%s: %s", fail.what, fail.reason);
    return err;
}

weir_kerr_t
weir_produce_path_append(weir_broker_t *brk, const weir_conn_t *conn, weir_str_t topic,
                         int32_t partition, uint8_t *records, size_t len,
                         weir_produce_result_t *res)
{
    weir_partition_t *part = weir_broker_partition(brk, topic, partition);
    weir_append_result_t ar;
    weir_kerr_t err;

    res->base_offset = -1;
    res->log_append_time = -1;
    res->log_start_offset = -1;
    res->record_index = -1;
    res->message[0] = 0;
    if (!part)
        return WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    res->log_start_offset = weir_plog_start_offset(part->log);
    if (len == 0 || len > INT32_MAX)
        return WEIR_KERR_CORRUPT_MESSAGE;
    err = weir_produce_validate(brk, conn, part->topic, topic, partition, records, len, res);
    if (err)
        return err;
    err = weir_plog_append(part->log, records, len, weir_wall_ms(), &ar);
    if (err) {
        WEIR_LOG(WEIR_LOG_WARN, "produce_rejected", "conn=%llu peer=%s topic=%.*s partition=%d "
                 "bytes=%zu error=%s", (unsigned long long)(conn ? conn->id : 0),
                 conn ? conn->peer : "-", topic.len, topic.ptr, partition, len,
                 weir_kerr_name(err));
        return err;
    }
    res->base_offset = ar.base_offset;
    res->log_append_time = ar.log_append_time;
    res->log_start_offset = weir_plog_start_offset(part->log);
    if (!ar.duplicate) {
        part->topic->bytes_in += (uint64_t)len;
        part->topic->records_in += weir_metrics_batch_records(records, len);
        weir_broker_notify_append(part, (int64_t)len);
    }
    return WEIR_KERR_NONE;
}

/* Runs fn with conn's principal temporarily replaced by principal: the
 * governance session of the connection follows its principal (it refreshes
 * when the principal changes), so decisions and quota sensors are those of
 * principal, with the connection's host. */
typedef struct weir_produce_as_s {
    weir_conn_t *conn;
    weir_principal_t saved;
    bool swapped;
} weir_produce_as_t;

static void
weir_produce_as_begin(weir_produce_as_t *as, weir_conn_t *conn, const weir_principal_t *p)
{
    as->conn = conn;
    as->swapped = false;
    if (conn && p && p != &conn->principal) {
        as->saved = conn->principal;
        conn->principal = *p;
        as->swapped = true;
    }
}

static void
weir_produce_as_end(weir_produce_as_t *as)
{
    if (as->swapped)
        as->conn->principal = as->saved;
}

bool
weir_produce_path_authorized(weir_broker_t *brk, weir_conn_t *conn,
                             const weir_principal_t *principal, int16_t api_key, int op,
                             weir_str_t topic, bool quiet)
{
    weir_req_t shim;
    weir_produce_as_t as;
    bool ok;

    if (!brk->authz)
        return true;
    memset(&shim, 0, sizeof(shim));
    shim.brk = brk;
    shim.conn = conn;
    shim.ApiKey = api_key; /* names the API in the denial's log line and audit row */
    weir_produce_as_begin(&as, conn, principal);
    ok = quiet ? weir_req_visible(&shim, WEIR_ACL_RES_TOPIC, topic, op)
               : weir_req_allowed(&shim, WEIR_ACL_RES_TOPIC, topic, op);
    weir_produce_as_end(&as);
    return ok;
}

bool
weir_produce_path_allowed(weir_broker_t *brk, weir_conn_t *conn,
                          const weir_principal_t *principal, weir_str_t topic)
{
    return weir_produce_path_authorized(brk, conn, principal, WEIR_API_Produce,
                                        WEIR_ACL_OP_WRITE, topic, false);
}

int32_t
weir_produce_path_quota(weir_broker_t *brk, weir_conn_t *conn, const weir_principal_t *principal,
                        int64_t bytes)
{
    weir_req_t shim;
    weir_produce_as_t as;
    int32_t ms;

    if (!brk->authz)
        return 0;
    memset(&shim, 0, sizeof(shim));
    shim.brk = brk;
    shim.conn = conn;
    shim.ApiKey = WEIR_API_Produce;
    weir_produce_as_begin(&as, conn, principal);
    ms = weir_req_quota_produce(&shim, bytes);
    weir_produce_as_end(&as);
    return ms;
}
