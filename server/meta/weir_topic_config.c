/*
 * weir_topic_config.c: Kafka's topic-level configuration keys - one table of
 * rows giving each key's type and rules, the broker key it defaults from,
 * and where it lands in a partition log's settings (weir_log_config_t).  The
 * table drives validation of overrides (CreateTopics, AlterConfigs),
 * resolution of a topic's effective settings, DescribeConfigs for topics and
 * the topic section of docs/CONFIGURATION.md.  Also the small key/value list
 * a topic keeps its overrides in.
 */
#include "weir_topic_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weir_common.h"
#include "weir_log.h"

/* ------------------------------------------------------------------------ */
/* Key/value lists                                                          */
/* ------------------------------------------------------------------------ */

void
weir_kvlist_set(weir_kvlist_t *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            char *v = weir_strdup(value);

            free(l->items[i].value);
            l->items[i].value = v;
            return;
        }
    }
    l->items = weir_realloc(l->items, (l->count + 1) * sizeof(*l->items));
    l->items[l->count].key = weir_strdup(key);
    l->items[l->count].value = weir_strdup(value);
    l->count++;
}

bool
weir_kvlist_remove(weir_kvlist_t *l, const char *key)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            free(l->items[i].key);
            free(l->items[i].value);
            memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(*l->items));
            l->count--;
            return true;
        }
    }
    return false;
}

const char *
weir_kvlist_get(const weir_kvlist_t *l, const char *key)
{
    if (!l)
        return NULL;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

/* dst is treated as uninitialised: it is overwritten, not freed. */
void
weir_kvlist_copy(weir_kvlist_t *dst, const weir_kvlist_t *src)
{
    dst->count = 0;
    dst->items = NULL;
    if (!src || src->count == 0)
        return;
    dst->items = weir_calloc(src->count, sizeof(*dst->items));
    for (size_t i = 0; i < src->count; i++) {
        dst->items[i].key = weir_strdup(src->items[i].key);
        dst->items[i].value = weir_strdup(src->items[i].value);
    }
    dst->count = src->count;
}

void
weir_kvlist_free(weir_kvlist_t *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

typedef enum weir_tc_type_e {
    TC_LONG,
    TC_INT,
    TC_BOOL,
    TC_ENUM, /* one of accepted (or a known Kafka value not supported yet) */
    TC_LIST, /* comma-separated list of accepted values */
    TC_DOUBLE, /* a decimal number in [dmin, dmax] */
} weir_tc_type_t;

/* Where a key lands in weir_log_config_t. */
typedef enum weir_tc_target_e {
    TC_TO_NONE, /* accepted and described, no effect on the partition log */
    TC_TO_I64,
    TC_TO_I32,
    TC_TO_TSTYPE, /* message.timestamp.type -> log_append_time */
    TC_TO_DBL,
    TC_TO_POLICY, /* cleanup.policy -> compact, no_delete */
} weir_tc_target_t;

#define TC_F_MINUS_ONE 0x01 /* -1 accepted besides [min, max] */

typedef struct weir_tc_row_s {
    const char *name;
    weir_tc_type_t type;
    int64_t min, max;
    double dmin, dmax;           /* TC_DOUBLE bounds */
    unsigned flags;
    const char *broker_key;      /* Kafka's broker key holding the default */
    const char *fixed_default;   /* the default when weir_conf has no such key */
    const char *const *accepted; /* enums and lists: values Weir implements */
    const char *const *known;    /* enums and lists: Kafka's other values (not yet supported) */
    const char *unsupported_why; /* why a known value or a bool 'true' is refused */
    weir_tc_target_t target;
    size_t log_off;
    const char *doc;
} weir_tc_row_t;

static const char *const weir_tc_policies[] = {"delete", "compact", NULL};
static const char *const weir_tc_producer[] = {"producer", NULL};
static const char *const weir_tc_codecs[] = {"uncompressed", "gzip", "snappy", "lz4", "zstd",
                                             NULL};
static const char *const weir_tc_ts_types[] = {"CreateTime", "LogAppendTime", NULL};

#define LOFF(field) offsetof(weir_log_config_t, field)

static const weir_tc_row_t weir_tc_rows[] = {
    {.name = "cleanup.policy", .type = TC_LIST, .broker_key = "log.cleanup.policy",
     .fixed_default = "delete", .accepted = weir_tc_policies, .target = TC_TO_POLICY,
     .doc = "What happens to old segments: delete removes them by retention.ms and "
            "retention.bytes; compact keeps the newest record of each key (log compaction; "
            "records without a key are refused with INVALID_RECORD); compact,delete does "
            "both."},
    {.name = "compression.type", .type = TC_ENUM, .broker_key = "compression.type",
     .fixed_default = "producer", .accepted = weir_tc_producer, .known = weir_tc_codecs,
     .unsupported_why = "only producer is implemented (batches are stored as the producer "
                        "sent them)",
     .doc = "Compression of stored batches. Only producer is implemented: batches are "
            "stored exactly as the producer compressed them."},
    {.name = "delete.retention.ms", .type = TC_LONG, .min = 0, .max = INT64_MAX,
     .broker_key = "log.cleaner.delete.retention.ms", .fixed_default = "86400000",
     .target = TC_TO_I64, .log_off = LOFF(delete_retention_ms),
     .doc = "How long a tombstone (a record with a null value) is kept after the cleaner "
            "first compacted it, so that consumers reading from the start see the delete."},
    {.name = "file.delete.delay.ms", .type = TC_LONG, .min = 0, .max = INT64_MAX,
     .broker_key = "log.segment.delete.delay.ms", .target = TC_TO_I64,
     .log_off = LOFF(file_delete_delay_ms),
     .doc = "How long the files of a deleted segment are kept before they are removed."},
    {.name = "flush.messages", .type = TC_LONG, .min = 1, .max = INT64_MAX,
     .broker_key = "log.flush.interval.messages", .target = TC_TO_I64,
     .log_off = LOFF(flush_messages),
     .doc = "Number of messages appended after which the partition log is fsynced."},
    {.name = "flush.ms", .type = TC_LONG, .min = 0, .max = INT64_MAX,
     .broker_key = "log.flush.interval.ms", .target = TC_TO_I64, .log_off = LOFF(flush_ms),
     .doc = "Longest time appended data may stay unflushed before the partition log is "
            "fsynced (9223372036854775807: never)."},
    {.name = "index.interval.bytes", .type = TC_INT, .min = 0, .max = INT32_MAX,
     .broker_key = "log.index.interval.bytes", .target = TC_TO_I32,
     .log_off = LOFF(index_interval_bytes),
     .doc = "Bytes of log between two entries of the offset index."},
    {.name = "max.compaction.lag.ms", .type = TC_LONG, .min = 1, .max = INT64_MAX,
     .broker_key = "log.cleaner.max.compaction.lag.ms", .fixed_default = "9223372036854775807",
     .target = TC_TO_I64, .log_off = LOFF(max_compaction_lag_ms),
     .doc = "Longest time a record may stay uncompacted: a dirty segment older than this is "
            "cleaned whatever the dirty ratio, and the active segment rolls at this age."},
    {.name = "max.message.bytes", .type = TC_INT, .min = 0, .max = INT32_MAX,
     .broker_key = "message.max.bytes", .target = TC_TO_I32,
     .log_off = LOFF(max_message_bytes),
     .doc = "Largest record batch accepted for this topic."},
    {.name = "message.timestamp.type", .type = TC_ENUM,
     .broker_key = "log.message.timestamp.type", .accepted = weir_tc_ts_types,
     .target = TC_TO_TSTYPE,
     .doc = "CreateTime keeps the producer's timestamps; LogAppendTime replaces them with the "
            "broker's clock at append."},
    {.name = "min.cleanable.dirty.ratio", .type = TC_DOUBLE, .dmin = 0, .dmax = 1,
     .broker_key = "log.cleaner.min.cleanable.ratio", .fixed_default = "0.5",
     .target = TC_TO_DBL, .log_off = LOFF(min_cleanable_ratio),
     .doc = "A compacted log is cleaned once the bytes not yet cleaned exceed this share of "
            "its closed segments."},
    {.name = "min.compaction.lag.ms", .type = TC_LONG, .min = 0, .max = INT64_MAX,
     .broker_key = "log.cleaner.min.compaction.lag.ms", .fixed_default = "0",
     .target = TC_TO_I64, .log_off = LOFF(min_compaction_lag_ms),
     .doc = "Shortest time a record stays uncompacted: segments holding newer records are "
            "not cleaned yet."},
    {.name = "min.insync.replicas", .type = TC_INT, .min = 1, .max = 1,
     .broker_key = "min.insync.replicas", .fixed_default = "1",
     .unsupported_why = "each partition has one replica until replication lands",
     .doc = "Replicas that must acknowledge an acks=all produce. Must be 1: each partition has "
            "one replica."},
    {.name = "retention.bytes", .type = TC_LONG, .min = 0, .max = INT64_MAX,
     .flags = TC_F_MINUS_ONE, .broker_key = "log.retention.bytes", .target = TC_TO_I64,
     .log_off = LOFF(retention_bytes),
     .doc = "Largest size of a partition log before its oldest closed segments are deleted; "
            "-1 means no limit."},
    {.name = "retention.ms", .type = TC_LONG, .min = 0, .max = INT64_MAX,
     .flags = TC_F_MINUS_ONE, .broker_key = "log.retention.ms", .target = TC_TO_I64,
     .log_off = LOFF(retention_ms),
     .doc = "How long a closed segment is kept before it is deleted; -1 keeps data forever."},
    {.name = "segment.bytes", .type = TC_INT, .min = 14, .max = INT32_MAX,
     .broker_key = "log.segment.bytes", .target = TC_TO_I64, .log_off = LOFF(segment_bytes),
     .doc = "Size at which the active segment is closed and a new one started."},
    {.name = "segment.ms", .type = TC_LONG, .min = 1, .max = INT64_MAX,
     .broker_key = "log.roll.ms", .target = TC_TO_I64, .log_off = LOFF(segment_ms),
     .doc = "Age after which the active segment is closed even if it is not full."},
    {.name = "segment.index.bytes", .type = TC_INT, .min = 4, .max = INT32_MAX,
     .broker_key = "log.index.size.max.bytes", .fixed_default = "10485760",
     .doc = "Largest size of a segment's offset index in Kafka. Accepted for compatibility; "
            "Weir's index files grow as needed and segments roll by segment.bytes."},
    {.name = "message.timestamp.difference.max.ms", .type = TC_LONG, .min = 0,
     .max = INT64_MAX, .broker_key = "log.message.timestamp.difference.max.ms",
     .fixed_default = "9223372036854775807",
     .doc = "Largest allowed difference between a record's CreateTime and the broker's "
            "clock. Accepted and described; not enforced yet."},
    {.name = "unclean.leader.election.enable", .type = TC_BOOL,
     .broker_key = "unclean.leader.election.enable", .fixed_default = "false",
     .doc = "Whether an out-of-sync replica may become leader. No effect with one replica per "
            "partition."},
    {.name = "confluent.key.schema.validation", .type = TC_BOOL, .fixed_default = "false",
     .doc = "Broker-side schema id validation of record keys: every record of a produced "
            "batch must have a null key, or a key in Confluent's wire format (magic byte 0 "
            "and the id of a schema registered, not soft-deleted, under the subject "
            "<topic>-key); otherwise the whole batch is refused with INVALID_RECORD and "
            "nothing of it is appended."},
    {.name = "confluent.value.schema.validation", .type = TC_BOOL, .fixed_default = "false",
     .doc = "Broker-side schema id validation of record values, as for keys with the subject "
            "<topic>-value; null values (tombstones) pass. The refusal's message names the "
            "record index; Produce v0-7 have no record_errors, so it is logged by the broker "
            "(event produce_schema_invalid)."},
    {.name = "weir.value.schema.validation.payload", .type = TC_BOOL, .fixed_default = "false",
     .doc = "With confluent.value.schema.validation=true, also decode every Avro value "
            "payload with the schema its id names: a payload that does not decode, or leaves "
            "bytes over, refuses the batch with INVALID_RECORD. JSON Schema ids are checked "
            "for the id only."},
    {.name = "preallocate", .type = TC_BOOL, .broker_key = "log.preallocate",
     .fixed_default = "false", .unsupported_why = "segment files are not preallocated",
     .doc = "Preallocate segment files. Only false is supported."},
};

#define WEIR_TC_NROWS WEIR_ARRAY_SIZE(weir_tc_rows)

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
weir_tc_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    if (!err || errsz == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static const weir_tc_row_t *
weir_tc_find(const char *name)
{
    for (size_t i = 0; i < WEIR_TC_NROWS; i++)
        if (strcmp(weir_tc_rows[i].name, name) == 0)
            return &weir_tc_rows[i];
    return NULL;
}

static bool
weir_tc_in(const char *const *list, const char *s, size_t len)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strlen(list[i]) == len && strncmp(list[i], s, len) == 0)
            return true;
    return false;
}

/* "a, b or c" from one or two lists. */
static void
weir_tc_choices(const char *const *a, const char *const *b, char *buf, size_t size)
{
    const char *all[16];
    size_t n = 0, len = 0;

    for (size_t i = 0; a && a[i] && n < WEIR_ARRAY_SIZE(all); i++)
        all[n++] = a[i];
    for (size_t i = 0; b && b[i] && n < WEIR_ARRAY_SIZE(all); i++)
        all[n++] = b[i];
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                i == 0 ? "" : i + 1 == n ? " or " : ", ", all[i]);
}

/* Describes the range of an integer key ("-1 or a non-negative integer"). */
static void
weir_tc_range(const weir_tc_row_t *row, char *buf, size_t size)
{
    const char *m1 = row->flags & TC_F_MINUS_ONE ? "-1 or " : "";
    bool unbounded = row->type == TC_LONG && row->max == INT64_MAX;

    if (row->type == TC_DOUBLE)
        snprintf(buf, size, "a number between %g and %g", row->dmin, row->dmax);
    else if (row->min == row->max)
        snprintf(buf, size, "%s%" PRId64, m1, row->min);
    else if (unbounded && row->min == 0)
        snprintf(buf, size, "%sa non-negative integer", m1);
    else if (unbounded)
        snprintf(buf, size, "%san integer of at least %" PRId64, m1, row->min);
    else
        snprintf(buf, size, "%san integer between %" PRId64 " and %" PRId64, m1, row->min,
                 row->max);
}

static int
weir_tc_parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    char *end;
    long long v;

    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Parses a whole decimal number (Java's Double syntax without hex or
 * infinities). */
static int
weir_tc_parse_double(const char *s, double *out)
{
    char *end;
    double v;

    if (!*s || strchr(s, 'x') || strchr(s, 'X') || strchr(s, 'n') || strchr(s, 'N') ||
        strchr(s, 'i') || strchr(s, 'I'))
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE)
        return -EINVAL;
    *out = v;
    return 0;
}

static weir_kerr_t
weir_tc_validate_row(const weir_tc_row_t *row, const char *value, char *errstr,
                     size_t errstr_size)
{
    char text[256];

    switch (row->type) {
    case TC_LONG:
    case TC_INT: {
        int64_t n, top = row->type == TC_INT ? INT32_MAX : INT64_MAX;

        if (weir_tc_parse_int(value, &n) == 0 &&
            ((n >= row->min && n <= WEIR_MIN(row->max, top)) ||
             (n == -1 && row->flags & TC_F_MINUS_ONE)))
            return WEIR_KERR_NONE;
        weir_tc_range(row, text, sizeof(text));
        if (row->unsupported_why && weir_tc_parse_int(value, &n) == 0)
            weir_tc_err(errstr, errstr_size, "%s: must be %s: %s (got \"%s\")", row->name, text,
                        row->unsupported_why, value);
        else
            weir_tc_err(errstr, errstr_size, "%s: must be %s (got \"%s\")", row->name, text,
                        value);
        return WEIR_KERR_INVALID_CONFIG;
    }
    case TC_DOUBLE: {
        double d;

        if (weir_tc_parse_double(value, &d) == 0 && d >= row->dmin && d <= row->dmax)
            return WEIR_KERR_NONE;
        weir_tc_range(row, text, sizeof(text));
        weir_tc_err(errstr, errstr_size, "%s: must be %s (got \"%s\")", row->name, text, value);
        return WEIR_KERR_INVALID_CONFIG;
    }
    case TC_BOOL:
        if (strcmp(value, "false") == 0)
            return WEIR_KERR_NONE;
        if (strcmp(value, "true") == 0) {
            if (!row->unsupported_why)
                return WEIR_KERR_NONE;
            weir_tc_err(errstr, errstr_size, "%s=true is not supported: %s", row->name,
                        row->unsupported_why);
            return WEIR_KERR_INVALID_CONFIG;
        }
        weir_tc_err(errstr, errstr_size, "%s: must be true or false (got \"%s\")", row->name,
                    value);
        return WEIR_KERR_INVALID_CONFIG;
    case TC_ENUM:
        if (weir_tc_in(row->accepted, value, strlen(value)))
            return WEIR_KERR_NONE;
        if (weir_tc_in(row->known, value, strlen(value))) {
            weir_tc_err(errstr, errstr_size, "%s=%s is not supported yet: %s", row->name, value,
                        row->unsupported_why);
            return WEIR_KERR_INVALID_CONFIG;
        }
        weir_tc_choices(row->accepted, row->known, text, sizeof(text));
        weir_tc_err(errstr, errstr_size, "%s: must be %s (got \"%s\")", row->name, text, value);
        return WEIR_KERR_INVALID_CONFIG;
    case TC_LIST: {
        const char *p = value;
        bool any = false;

        for (;;) {
            const char *end = strchr(p, ',');
            size_t len;

            if (!end)
                end = p + strlen(p);
            while (p < end && *p == ' ')
                p++;
            len = (size_t)(end - p);
            while (len > 0 && p[len - 1] == ' ')
                len--;
            if (len > 0) {
                any = true;
                if (weir_tc_in(row->known, p, len)) {
                    weir_tc_err(errstr, errstr_size, "%s=%.*s is not supported yet: %s",
                                row->name, (int)len, p, row->unsupported_why);
                    return WEIR_KERR_INVALID_CONFIG;
                }
                if (!weir_tc_in(row->accepted, p, len)) {
                    weir_tc_choices(row->accepted, row->known, text, sizeof(text));
                    weir_tc_err(errstr, errstr_size, "%s: must be a list of %s (got \"%s\")",
                                row->name, text, value);
                    return WEIR_KERR_INVALID_CONFIG;
                }
            }
            if (*end == '\0')
                break;
            p = end + 1;
        }
        if (!any) {
            weir_tc_choices(row->accepted, NULL, text, sizeof(text));
            weir_tc_err(errstr, errstr_size, "%s: must be %s (got an empty list)", row->name,
                        text);
            return WEIR_KERR_INVALID_CONFIG;
        }
        return WEIR_KERR_NONE;
    }
    }
    return WEIR_KERR_INVALID_CONFIG;
}

weir_kerr_t
weir_topic_config_validate(const char *key, const char *value, char *errstr,
                           size_t errstr_size)
{
    const weir_tc_row_t *row = weir_tc_find(key);

    if (!row) {
        weir_tc_err(errstr, errstr_size, "Unknown topic config name: %s", key);
        return WEIR_KERR_INVALID_CONFIG;
    }
    if (!value) {
        weir_tc_err(errstr, errstr_size, "%s: a value is required", key);
        return WEIR_KERR_INVALID_CONFIG;
    }
    return weir_tc_validate_row(row, value, errstr, errstr_size);
}

/* ------------------------------------------------------------------------ */
/* Resolution and description                                               */
/* ------------------------------------------------------------------------ */

/* The broker's value for a broker key: true if weir_conf has the key. */
static bool
weir_tc_broker_value(const weir_conf_t *bc, const char *key, char *value, size_t size,
                     bool *is_default)
{
    const char *name;
    bool sensitive;

    if (!key)
        return false; /* a topic key without a broker-level counterpart */
    for (size_t i = 0; weir_conf_describe(bc, i, &name, value, size, is_default, &sensitive);
         i++)
        if (strcmp(name, key) == 0)
            return true;
    return false;
}

/* Effective value of row: the override, else the broker's, else the fixed
 * default.  A stored override that no longer validates (written by another
 * version) is ignored with a warning. */
static void
weir_tc_effective(const weir_conf_t *bc, const weir_kvlist_t *overrides, const weir_tc_row_t *row,
                  char *value, size_t size, int *source)
{
    const char *ov = weir_kvlist_get(overrides, row->name);
    bool is_default;
    char err[256];

    if (ov) {
        if (weir_tc_validate_row(row, ov, err, sizeof(err)) == WEIR_KERR_NONE) {
            snprintf(value, size, "%s", ov);
            *source = WEIR_CONFIG_SOURCE_TOPIC;
            return;
        }
        WEIR_LOG(WEIR_LOG_WARN, "topic_config_invalid_override_ignored", "key=%s", row->name);
    }
    if (weir_tc_broker_value(bc, row->broker_key, value, size, &is_default)) {
        *source = is_default ? WEIR_CONFIG_SOURCE_DEFAULT : WEIR_CONFIG_SOURCE_STATIC_BROKER;
        return;
    }
    snprintf(value, size, "%s", row->fixed_default ? row->fixed_default : "");
    *source = WEIR_CONFIG_SOURCE_DEFAULT;
}

/* Whether the comma-separated list holds item. */
static bool
weir_tc_list_has(const char *list, const char *item)
{
    const char *p = list;
    size_t n = strlen(item);

    for (;;) {
        const char *end = strchr(p, ',');
        size_t len;

        if (!end)
            end = p + strlen(p);
        while (p < end && *p == ' ')
            p++;
        len = (size_t)(end - p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        if (*end == '\0')
            return false;
        p = end + 1;
    }
}

void
weir_topic_config_resolve(const weir_conf_t *bc, const weir_kvlist_t *overrides,
                          weir_log_config_t *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < WEIR_TC_NROWS; i++) {
        const weir_tc_row_t *row = &weir_tc_rows[i];
        char value[256];
        int64_t n = 0;
        int source;

        if (row->target == TC_TO_NONE)
            continue;
        weir_tc_effective(bc, overrides, row, value, sizeof(value), &source);
        if (row->target == TC_TO_TSTYPE) {
            out->log_append_time = strcmp(value, "LogAppendTime") == 0;
            continue;
        }
        if (row->target == TC_TO_DBL) {
            double d = 0;
            (void)weir_tc_parse_double(value, &d);
            *(double *)((char *)out + row->log_off) = d;
            continue;
        }
        if (row->target == TC_TO_POLICY) {
            out->compact = weir_tc_list_has(value, "compact");
            out->no_delete = !weir_tc_list_has(value, "delete");
            continue;
        }
        /* Both sources were validated against the same bounds. */
        (void)weir_tc_parse_int(value, &n);
        if (row->target == TC_TO_I64)
            *(int64_t *)((char *)out + row->log_off) = n;
        else
            *(int32_t *)((char *)out + row->log_off) = (int32_t)n;
    }
}

bool
weir_topic_config_describe(const weir_conf_t *bc, const weir_kvlist_t *overrides, size_t idx,
                           const char **name, char *value, size_t value_size, int *source,
                           bool *read_only)
{
    const weir_tc_row_t *row;

    if (idx >= WEIR_TC_NROWS)
        return false;
    row = &weir_tc_rows[idx];
    *name = row->name;
    *read_only = false;
    weir_tc_effective(bc, overrides, row, value, value_size, source);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Documentation                                                            */
/* ------------------------------------------------------------------------ */

static void
weir_tc_md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '*' || *s == '_' || *s == '<' || *s == '[')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static const char *
weir_tc_type_name(const weir_tc_row_t *row)
{
    switch (row->type) {
    case TC_LONG:
        return "long";
    case TC_INT:
        return "int";
    case TC_BOOL:
        return "boolean";
    case TC_ENUM:
        return "string";
    case TC_LIST:
        return "list";
    case TC_DOUBLE:
        return "double";
    }
    return "?";
}

void
weir_topic_config_print_markdown(FILE *out)
{
    weir_conf_t defs;

    weir_conf_defaults(&defs);
    fprintf(out,
            "## Topic configuration\n"
            "\n"
            "A topic stores only the keys set for it (with `kafka-topics.sh --create --config`,\n"
            "`kafka-configs.sh --alter`, or any client's CreateTopics and AlterConfigs); every\n"
            "other key takes the broker's value, as in Kafka. DescribeConfigs reports each\n"
            "key's source: TOPIC for an override, STATIC\\_BROKER when the broker file changed\n"
            "the broker key, DEFAULT otherwise. An unknown key or a value Weir does not\n"
            "support is refused with INVALID\\_CONFIG and a message naming the key and the "
            "rule.\n"
            "\n"
            "| Key | Type | Default | Valid values | Description |\n"
            "|---|---|---|---|---|\n");
    for (size_t i = 0; i < WEIR_TC_NROWS; i++) {
        const weir_tc_row_t *row = &weir_tc_rows[i];
        char value[256], valid[256];
        bool is_default;

        fprintf(out, "| `%s` | %s | ", row->name, weir_tc_type_name(row));
        if (weir_tc_broker_value(&defs, row->broker_key, value, sizeof(value), &is_default))
            fprintf(out, "broker `%s`", row->broker_key);
        else
            fprintf(out, "`%s`", row->fixed_default);
        fprintf(out, " | ");
        switch (row->type) {
        case TC_LONG:
        case TC_INT:
        case TC_DOUBLE:
            weir_tc_range(row, valid, sizeof(valid));
            break;
        case TC_BOOL:
            snprintf(valid, sizeof(valid), "%s", row->unsupported_why ? "false" : "true, false");
            break;
        case TC_ENUM:
        case TC_LIST:
            weir_tc_choices(row->accepted, NULL, valid, sizeof(valid));
            break;
        }
        weir_tc_md_cell(out, valid);
        fprintf(out, " | ");
        weir_tc_md_cell(out, row->doc);
        fprintf(out, " |\n");
    }
    weir_conf_free(&defs);
}
