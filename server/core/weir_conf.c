/*
 * weir_conf.c: the broker configuration table and everything it drives -
 * defaults, setting one key, the Java .properties file reader, cross-key
 * checks, `weir --help-config`, the Markdown in docs/CONFIGURATION.md and
 * the per-key iteration used by DescribeConfigs.
 *
 * Every key is one row of weir_conf_rows[].  Kafka's synonyms (log.dir for
 * log.dirs, broker.id for node.id, log.retention.hours/minutes for
 * log.retention.ms, log.roll.hours for log.roll.ms) are rows of their own
 * that store into the canonical key's field, scaled to milliseconds where
 * needed; in a file the more precise synonym wins whatever the line order,
 * as in Kafka.
 */
#include "weir_conf.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "weir_auth.h"
#include "weir_common.h"
#include "weir_http.h"
#include "weir_principal_map.h"
#include "weir_tls.h"

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

typedef enum weir_conf_type_e {
    CONF_INT16,
    CONF_INT32,
    CONF_INT64,
    CONF_BOOL,
    CONF_STRING,
    CONF_LIST,      /* a string holding a comma-separated list */
    CONF_ENUM_STR,  /* char *, one of choices */
    CONF_ENUM_BOOL, /* bool, true when the value is choices[1] */
    CONF_DOUBLE,    /* double within [dmin, dmax] */
} weir_conf_type_t;

#define CONF_F_MINUS_ONE 0x01 /* -1 is accepted besides [min, max] */
#define CONF_F_NULLABLE 0x02  /* strings: an empty value means unset (NULL) */
#define CONF_F_SYNONYM 0x04   /* another spelling of `canonical`; not described alone */
#define CONF_F_SENSITIVE 0x08 /* value never shown (passwords) */

/* A parsed value, before it is stored. */
typedef struct weir_conf_val_s {
    int64_t num; /* integers (already scaled), booleans, enum-bool index */
    double dnum; /* doubles */
    char *str;   /* strings (owned) */
} weir_conf_val_t;

typedef int (*weir_conf_check_fn)(const char *value, int64_t num, char *err, size_t errsz);

typedef struct weir_conf_row_s {
    const char *name;
    weir_conf_type_t type;
    size_t offset;              /* into weir_conf_t */
    int64_t min, max;           /* integers: bounds of the value as written */
    int64_t scale;              /* integers: stored = written * scale (hours -> ms) */
    double dmin, dmax;          /* doubles: bounds */
    const char *def;            /* applied by weir_conf_defaults; NULL: none */
    const char *shown_def;      /* default as documented; NULL: def */
    const char *const *choices; /* enums, NULL-terminated */
    const char *valid;          /* strings: valid values as documented */
    const char *doc;
    unsigned flags;
    const char *canonical;      /* synonyms: the key they set */
    int precedence;             /* among a key and its synonyms: higher wins in a file */
    const char *unset_from;     /* nullable: key whose value applies when unset */
    weir_conf_check_fn check;   /* extra per-value check, or NULL */
} weir_conf_row_t;

static int weir_conf_check_listeners(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_advertised(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_log_dirs(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_replication(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_protocol_map(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_tls_protocols(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_mapping_rules(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_pem_certs(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_pem_key(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_sasl_mechanisms(const char *value, int64_t num, char *err,
                                           size_t errsz);
static int weir_conf_check_super_users(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_bool_text(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_ldap_url(const char *value, int64_t num, char *err, size_t errsz);
static int weir_conf_check_http_listeners(const char *value, int64_t num, char *err,
                                          size_t errsz);

static void weir_conf_overrides_copy(weir_conf_t *dst, const weir_conf_t *src);
static void weir_conf_overrides_free(weir_conf_t *conf);

static const char *const weir_conf_ts_types[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const weir_conf_log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const weir_conf_pem_only[] = {"PEM", NULL};
static const char *const weir_conf_client_auth[] = {"none", "requested", "required", NULL};
static const char *const weir_conf_http_auth[] = {"none", "basic", NULL};

#define OFF(field) offsetof(weir_conf_t, field)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_MINUTE INT64_C(60000)

static const weir_conf_row_t weir_conf_rows[] = {
    {.name = "listeners", .type = CONF_LIST, .offset = OFF(listeners),
     .def = "PLAINTEXT://127.0.0.1:9092",
     .valid = "comma-separated NAME://host:port (NAME: a listener name of "
              "listener.security.protocol.map; host empty = all interfaces, [::1] for IPv6; "
              "port 0 = ephemeral)",
     .doc = "Addresses the broker listens on for Kafka clients, each named by its listener "
            "name: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, or a name that "
            "listener.security.protocol.map maps to one of them.",
     .check = weir_conf_check_listeners},
    {.name = "advertised.listeners", .type = CONF_LIST, .offset = OFF(advertised_listeners),
     .shown_def = "(unset: same as listeners)", .flags = CONF_F_NULLABLE,
     .unset_from = "listeners",
     .valid = "comma-separated NAME://host:port; every NAME must be one of listeners",
     .doc = "Addresses given to clients in Metadata responses, when they differ from "
            "listeners (NAT, containers, a DNS name).",
     .check = weir_conf_check_advertised},
    {.name = "log.dirs", .type = CONF_LIST, .offset = OFF(log_dirs), .def = "./var/data",
     .precedence = 1, .valid = "one directory",
     .doc = "Directory holding the partition logs and weir.db. Only one directory is "
            "supported.",
     .check = weir_conf_check_log_dirs},
    {.name = "log.dir", .type = CONF_LIST, .offset = OFF(log_dirs), .shown_def = "(unset)",
     .flags = CONF_F_SYNONYM, .canonical = "log.dirs", .precedence = 0, .valid = "one directory",
     .doc = "Synonym of log.dirs; log.dirs wins when both are set.",
     .check = weir_conf_check_log_dirs},
    {.name = "node.id", .type = CONF_INT32, .offset = OFF(node_id), .min = 0, .max = INT32_MAX,
     .def = "1", .precedence = 1,
     .doc = "This broker's id, as given to clients in Metadata responses."},
    {.name = "broker.id", .type = CONF_INT32, .offset = OFF(node_id), .min = 0,
     .max = INT32_MAX, .shown_def = "(unset)", .flags = CONF_F_SYNONYM, .canonical = "node.id",
     .precedence = 1,
     .doc = "Synonym of node.id; when both are set they must be equal."},
    {.name = "num.partitions", .type = CONF_INT32, .offset = OFF(num_partitions), .min = 1,
     .max = INT32_MAX, .def = "1",
     .doc = "Number of partitions of an automatically created topic, and of a topic created "
            "without a partition count."},
    {.name = "default.replication.factor", .type = CONF_INT16,
     .offset = OFF(default_replication_factor), .min = 1, .max = 1, .def = "1",
     .doc = "Replication factor of automatically created topics. Only 1 is supported until "
            "replication lands.",
     .check = weir_conf_check_replication},
    {.name = "log.retention.ms", .type = CONF_INT64, .offset = OFF(log_retention_ms), .min = 0,
     .max = INT64_MAX, .scale = 1, .flags = CONF_F_MINUS_ONE, .precedence = 2,
     .shown_def = "(unset: log.retention.minutes or log.retention.hours applies)",
     .doc = "How long a closed log segment is kept before it is deleted, in milliseconds; -1 "
            "keeps data forever. Wins over log.retention.minutes and log.retention.hours."},
    {.name = "log.retention.minutes", .type = CONF_INT32, .offset = OFF(log_retention_ms),
     .min = 0, .max = INT32_MAX, .scale = MS_PER_MINUTE, .shown_def = "(unset)",
     .flags = CONF_F_MINUS_ONE | CONF_F_SYNONYM, .canonical = "log.retention.ms",
     .precedence = 1,
     .doc = "Retention time in minutes; -1 keeps data forever. Wins over "
            "log.retention.hours."},
    {.name = "log.retention.hours", .type = CONF_INT32, .offset = OFF(log_retention_ms),
     .min = 0, .max = INT32_MAX, .scale = MS_PER_HOUR, .def = "168",
     .flags = CONF_F_MINUS_ONE | CONF_F_SYNONYM, .canonical = "log.retention.ms",
     .precedence = 0,
     .doc = "Retention time in hours; -1 keeps data forever. Used when neither "
            "log.retention.ms nor log.retention.minutes is set."},
    {.name = "log.retention.bytes", .type = CONF_INT64, .offset = OFF(log_retention_bytes),
     .min = 0, .max = INT64_MAX, .scale = 1, .def = "-1", .flags = CONF_F_MINUS_ONE,
     .doc = "Largest size a partition log may reach before its oldest closed segments are "
            "deleted; -1 means no size limit."},
    {.name = "log.segment.bytes", .type = CONF_INT64, .offset = OFF(log_segment_bytes),
     .min = 14, .max = INT32_MAX, .scale = 1, .def = "1073741824",
     .doc = "Size at which the active segment of a partition is closed and a new one "
            "started."},
    {.name = "log.roll.ms", .type = CONF_INT64, .offset = OFF(log_roll_ms), .min = 1,
     .max = INT64_MAX, .scale = 1, .precedence = 1,
     .shown_def = "(unset: log.roll.hours applies)",
     .doc = "Age in milliseconds after which the active segment is closed even if it is not "
            "full. Wins over log.roll.hours."},
    {.name = "log.roll.hours", .type = CONF_INT32, .offset = OFF(log_roll_ms), .min = 1,
     .max = INT32_MAX, .scale = MS_PER_HOUR, .def = "168", .flags = CONF_F_SYNONYM,
     .canonical = "log.roll.ms", .precedence = 0,
     .doc = "Age in hours after which the active segment is closed; used when log.roll.ms is "
            "not set."},
    {.name = "log.index.interval.bytes", .type = CONF_INT32,
     .offset = OFF(log_index_interval_bytes), .min = 0, .max = INT32_MAX, .def = "4096",
     .doc = "Bytes of log between two entries of the offset index."},
    {.name = "log.retention.check.interval.ms", .type = CONF_INT64,
     .offset = OFF(log_retention_check_interval_ms), .min = 1, .max = INT64_MAX, .scale = 1,
     .def = "300000",
     .doc = "How often the broker checks every partition for segments to roll or delete."},
    {.name = "log.segment.delete.delay.ms", .type = CONF_INT64,
     .offset = OFF(log_segment_delete_delay_ms), .min = 0, .max = INT64_MAX, .scale = 1,
     .def = "60000",
     .doc = "How long the files of a deleted segment are kept before they are removed, so "
            "reads in progress can finish."},
    {.name = "log.flush.interval.messages", .type = CONF_INT64,
     .offset = OFF(log_flush_interval_messages), .min = 1, .max = INT64_MAX, .scale = 1,
     .def = "9223372036854775807",
     .doc = "Number of messages appended to a partition after which its log is fsynced. The "
            "default leaves flushing to the operating system."},
    {.name = "log.flush.interval.ms", .type = CONF_INT64, .offset = OFF(log_flush_interval_ms),
     .min = 0, .max = INT64_MAX, .scale = 1, .def = "9223372036854775807",
     .shown_def = "(unset: never)",
     .doc = "Longest time in milliseconds appended data may stay unflushed before its "
            "partition log is fsynced. Unset, the broker never forces a flush on a timer."},
    {.name = "log.message.timestamp.type", .type = CONF_ENUM_BOOL,
     .offset = OFF(log_message_timestamp_log_append), .def = "CreateTime",
     .choices = weir_conf_ts_types,
     .doc = "Whether record timestamps are the producer's (CreateTime) or replaced by the "
            "broker's clock at append (LogAppendTime)."},
    {.name = "log.cleaner.enable", .type = CONF_BOOL, .offset = OFF(log_cleaner_enable),
     .def = "true",
     .doc = "Run the log cleaner, which compacts topics with cleanup.policy=compact. When "
            "false, compacted topics keep every record."},
    {.name = "log.cleaner.threads", .type = CONF_INT32, .offset = OFF(log_cleaner_threads),
     .min = 1, .max = 64, .def = "1",
     .doc = "Most partitions cleaned at once; each cleaning occupies one worker-pool thread "
            "(num.io.threads) while it works, and none while it waits for its I/O budget."},
    {.name = "log.cleaner.io.max.bytes.per.second", .type = CONF_DOUBLE,
     .offset = OFF(log_cleaner_io_max_bytes_per_second), .dmin = 1, .dmax = DBL_MAX,
     .def = "1.7976931348623157E308",
     .doc = "Bytes per second all cleaner threads together may read and write; the cleaner "
            "waits between its steps to keep under it. The default is unlimited."},
    {.name = "log.cleaner.dedupe.buffer.size", .type = CONF_INT64,
     .offset = OFF(log_cleaner_dedupe_buffer_size), .min = 1024, .max = INT64_MAX, .scale = 1,
     .def = "134217728",
     .doc = "Memory for the cleaners' key-to-offset maps, shared among log.cleaner.threads (24 "
            "bytes per key). A cleaning whose dirty keys do not fit cleans up to the offset "
            "reached and leaves the rest for the next one."},
    {.name = "log.cleaner.min.cleanable.ratio", .type = CONF_DOUBLE,
     .offset = OFF(log_cleaner_min_cleanable_ratio), .dmin = 0, .dmax = 1, .def = "0.5",
     .doc = "Default min.cleanable.dirty.ratio of compacted topics: the share of a log's "
            "closed segments not yet cleaned above which it is cleaned."},
    {.name = "log.cleaner.delete.retention.ms", .type = CONF_INT64,
     .offset = OFF(log_cleaner_delete_retention_ms), .min = 0, .max = INT64_MAX, .scale = 1,
     .def = "86400000",
     .doc = "Default delete.retention.ms: how long a tombstone is kept after the cleaner "
            "first compacted it."},
    {.name = "log.cleaner.min.compaction.lag.ms", .type = CONF_INT64,
     .offset = OFF(log_cleaner_min_compaction_lag_ms), .min = 0, .max = INT64_MAX, .scale = 1,
     .def = "0",
     .doc = "Default min.compaction.lag.ms: the shortest time a record stays uncompacted."},
    {.name = "log.cleaner.max.compaction.lag.ms", .type = CONF_INT64,
     .offset = OFF(log_cleaner_max_compaction_lag_ms), .min = 1, .max = INT64_MAX, .scale = 1,
     .def = "9223372036854775807",
     .doc = "Default max.compaction.lag.ms: the longest time a record may stay uncompacted."},
    {.name = "log.cleaner.backoff.ms", .type = CONF_INT64, .offset = OFF(log_cleaner_backoff_ms),
     .min = 0, .max = INT64_MAX, .scale = 1, .def = "15000",
     .doc = "How long the cleaner waits before looking again when no log needed cleaning."},
    {.name = "auto.create.topics.enable", .type = CONF_BOOL,
     .offset = OFF(auto_create_topics_enable), .def = "true",
     .doc = "Create a topic when a client asks for its metadata or produces to it and it does "
            "not exist."},
    {.name = "delete.topic.enable", .type = CONF_BOOL, .offset = OFF(delete_topic_enable),
     .def = "true",
     .doc = "Allow DeleteTopics; when false it answers TOPIC_DELETION_DISABLED."},
    {.name = "message.max.bytes", .type = CONF_INT32, .offset = OFF(message_max_bytes),
     .min = 0, .max = INT32_MAX, .def = "1048588",
     .doc = "Largest record batch the broker accepts (topic override: max.message.bytes)."},
    {.name = "socket.request.max.bytes", .type = CONF_INT32,
     .offset = OFF(socket_request_max_bytes), .min = 1, .max = INT32_MAX, .def = "104857600",
     .doc = "Largest request the broker reads; a bigger size prefix closes the connection."},
    {.name = "connections.max.idle.ms", .type = CONF_INT64, .offset = OFF(connections_max_idle_ms),
     .min = 1, .max = INT64_MAX, .scale = 1, .def = "600000", .flags = CONF_F_MINUS_ONE,
     .doc = "Idle client connections are closed after this many milliseconds; -1 never closes "
            "them."},
    {.name = "num.io.threads", .type = CONF_INT32, .offset = OFF(num_io_threads), .min = 1,
     .max = 1024, .def = "8",
     .doc = "Size of the worker pool that runs blocking work (fsync, segment deletion, "
            "database writes) off the event loop."},
    {.name = "group.min.session.timeout.ms", .type = CONF_INT32,
     .offset = OFF(group_min_session_timeout_ms), .min = 0, .max = INT32_MAX, .def = "6000",
     .doc = "Smallest session timeout a consumer group member may ask for in JoinGroup; a "
            "smaller one is refused with INVALID_SESSION_TIMEOUT."},
    {.name = "group.max.session.timeout.ms", .type = CONF_INT32,
     .offset = OFF(group_max_session_timeout_ms), .min = 0, .max = INT32_MAX, .def = "1800000",
     .doc = "Largest session timeout a consumer group member may ask for in JoinGroup; a "
            "larger one is refused with INVALID_SESSION_TIMEOUT. At least "
            "group.min.session.timeout.ms."},
    {.name = "group.initial.rebalance.delay.ms", .type = CONF_INT32,
     .offset = OFF(group_initial_rebalance_delay_ms), .min = 0, .max = INT32_MAX, .def = "3000",
     .doc = "How long the first rebalance of an empty group waits for more members to join; "
            "extended by the same delay while members keep joining, up to the members' "
            "rebalance timeout."},
    {.name = "group.max.size", .type = CONF_INT32, .offset = OFF(group_max_size), .min = 1,
     .max = INT32_MAX, .def = "2147483647",
     .doc = "Largest number of members (including members asked to rejoin with their new "
            "member id) one consumer group may have; a member joining a full group gets "
            "GROUP_MAX_SIZE_REACHED."},
    {.name = "offsets.retention.minutes", .type = CONF_INT32,
     .offset = OFF(offsets_retention_minutes), .min = 1, .max = INT32_MAX, .def = "10080",
     .doc = "Committed offsets of a group that has no members are deleted this long after it "
            "became empty; offsets committed without group membership are deleted this long "
            "after their last commit; a stable consumer group's offsets for topics it no "
            "longer subscribes to, this long after their last commit."},
    {.name = "offsets.retention.check.interval.ms", .type = CONF_INT64,
     .offset = OFF(offsets_retention_check_interval_ms), .min = 1, .max = INT64_MAX, .scale = 1,
     .def = "600000",
     .doc = "How often the group coordinator looks for committed offsets past "
            "offsets.retention.minutes (and for empty groups without offsets to forget)."},
    {.name = "offset.metadata.max.bytes", .type = CONF_INT32,
     .offset = OFF(offset_metadata_max_bytes), .min = 0, .max = INT32_MAX, .def = "4096",
     .doc = "Longest metadata string a client may store with a committed offset; a longer "
            "one is refused for that partition with OFFSET_METADATA_TOO_LARGE."},
    {.name = "weir.produce.acks.all.fsync", .type = CONF_BOOL, .offset = OFF(acks_all_fsync),
     .def = "false",
     .doc = "When true, a produce request with acks=all is answered only once its data is "
            "fsynced; concurrent requests share one fsync (group commit)."},
    {.name = "weir.log.level", .type = CONF_ENUM_STR, .offset = OFF(log_level), .def = "info",
     .choices = weir_conf_log_levels,
     .doc = "Lowest level of the broker's diagnostic log lines written to stderr."},
    /* ---- Security: listener protocols, TLS, SASL, LDAP ---- */
    {.name = "listener.security.protocol.map", .type = CONF_LIST,
     .offset = OFF(listener_security_protocol_map),
     .def = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
     .valid = "comma-separated NAME:PROTOCOL, PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, "
              "SASL_SSL",
     .doc = "Security protocol of each listener name. A listener whose name is not in the map "
            "is refused.",
     .check = weir_conf_check_protocol_map},
    {.name = "ssl.keystore.type", .type = CONF_ENUM_STR, .offset = OFF(ssl_keystore_type),
     .def = "PEM", .choices = weir_conf_pem_only,
     .doc = "Format of ssl.keystore.location. Only PEM is supported."},
    {.name = "ssl.keystore.location", .type = CONF_STRING, .offset = OFF(ssl_keystore_location),
     .flags = CONF_F_NULLABLE, .valid = "path of a PEM file",
     .doc = "The broker's private key followed by its certificate chain (leaf first) in one "
            "PEM file, as Kafka's PEM key store. SSL and SASL_SSL listeners need this or "
            "ssl.keystore.certificate.chain with ssl.keystore.key (not both). Re-read on "
            "SIGHUP; connections already open keep their certificate."},
    {.name = "ssl.key.password", .type = CONF_STRING, .offset = OFF(ssl_key_password),
     .flags = CONF_F_NULLABLE | CONF_F_SENSITIVE, .valid = "any string",
     .doc = "Password of the encrypted private key in ssl.keystore.location; unset when the "
            "key is not encrypted. Never logged or shown by DescribeConfigs."},
    {.name = "ssl.truststore.type", .type = CONF_ENUM_STR, .offset = OFF(ssl_truststore_type),
     .def = "PEM", .choices = weir_conf_pem_only,
     .doc = "Format of ssl.truststore.location. Only PEM is supported."},
    {.name = "ssl.truststore.location", .type = CONF_STRING,
     .offset = OFF(ssl_truststore_location), .flags = CONF_F_NULLABLE,
     .valid = "path of a PEM file",
     .doc = "CA certificates (PEM) that client certificates must chain to. Required (or "
            "ssl.truststore.certificates, not both) when ssl.client.auth is requested or "
            "required. Re-read on SIGHUP."},
    {.name = "ssl.enabled.protocols", .type = CONF_LIST, .offset = OFF(ssl_enabled_protocols),
     .def = "TLSv1.2,TLSv1.3", .valid = "comma-separated: TLSv1.2, TLSv1.3",
     .doc = "TLS versions accepted on SSL and SASL_SSL listeners.",
     .check = weir_conf_check_tls_protocols},
    {.name = "ssl.cipher.suites", .type = CONF_LIST, .offset = OFF(ssl_cipher_suites),
     .flags = CONF_F_NULLABLE,
     .shown_def = "(unset: OpenSSL's defaults; for TLS 1.3 TLS_AES_128_GCM_SHA256 first)",
     .valid = "comma-separated IANA (as in Kafka) or OpenSSL cipher suite names",
     .doc = "Cipher suites accepted. A list naming only TLS 1.3 suites turns TLS 1.2 off, and "
            "the other way round."},
    {.name = "ssl.client.auth", .type = CONF_ENUM_STR, .offset = OFF(ssl_client_auth),
     .def = "none", .choices = weir_conf_client_auth,
     .doc = "Client certificates on SSL and SASL_SSL listeners (mutual TLS): none, requested "
            "(verified when sent) or required. On SSL listeners a verified certificate's "
            "subject gives the connection's principal through ssl.principal.mapping.rules."},
    {.name = "ssl.principal.mapping.rules", .type = CONF_STRING,
     .offset = OFF(ssl_principal_mapping_rules), .def = "DEFAULT",
     .valid = "comma-separated DEFAULT or RULE:pattern/replacement/[LU]",
     .doc = "How a client certificate's subject (RFC 2253, e.g. CN=alice,OU=eng,O=Campus) "
            "becomes a user name, first applicable rule wins: DEFAULT keeps the subject; "
            "RULE:pattern/replacement/ applies when the regular expression (PCRE2) matches the "
            "whole subject and gives the replacement with $1..$9, lower- or upper-cased with "
            "L or U. When no rule applies the connection is refused.",
     .check = weir_conf_check_mapping_rules},
    {.name = "ssl.keystore.certificate.chain", .type = CONF_STRING,
     .offset = OFF(ssl_keystore_certificate_chain), .flags = CONF_F_NULLABLE,
     .valid = "PEM certificates, leaf first (may be on one line)",
     .doc = "The broker's certificate chain as PEM text in the configuration itself (Kafka's "
            "PEM key store, ssl.keystore.type=PEM), an alternative to ssl.keystore.location; "
            "needs ssl.keystore.key. The value may be on one line, \"-----BEGIN CERTIFICATE"
            "----- MIIC... -----END CERTIFICATE-----\", or continued over lines with a "
            "trailing backslash. Taken from the file again on SIGHUP.",
     .check = weir_conf_check_pem_certs},
    {.name = "ssl.keystore.key", .type = CONF_STRING, .offset = OFF(ssl_keystore_key),
     .flags = CONF_F_NULLABLE | CONF_F_SENSITIVE,
     .valid = "one PEM private key, PKCS#8 (encrypted with ssl.key.password, or not)",
     .doc = "The private key of ssl.keystore.certificate.chain as PEM text (\"-----BEGIN "
            "ENCRYPTED PRIVATE KEY----- ... -----END ENCRYPTED PRIVATE KEY-----\", on one line "
            "or several). A secret: never logged or shown by DescribeConfigs.",
     .check = weir_conf_check_pem_key},
    {.name = "ssl.truststore.certificates", .type = CONF_STRING,
     .offset = OFF(ssl_truststore_certificates), .flags = CONF_F_NULLABLE,
     .valid = "PEM certificates (may be on one line)",
     .doc = "CA certificates that client certificates must chain to, as PEM text in the "
            "configuration: an alternative to ssl.truststore.location (not both).",
     .check = weir_conf_check_pem_certs},
    {.name = "sasl.enabled.mechanisms", .type = CONF_LIST, .offset = OFF(sasl_enabled_mechanisms),
     .def = "PLAIN", .valid = "PLAIN",
     .doc = "SASL mechanisms offered on SASL_PLAINTEXT and SASL_SSL listeners. PLAIN only: the "
            "user name and password are checked against LDAP (ldap.*).",
     .check = weir_conf_check_sasl_mechanisms},
    {.name = "connections.max.reauth.ms", .type = CONF_INT64,
     .offset = OFF(connections_max_reauth_ms), .min = 0, .max = INT64_MAX, .scale = 1,
     .def = "0",
     .doc = "When positive, SaslAuthenticate v1 gives clients this session lifetime and a SASL "
            "connection used after it for anything but re-authentication is closed (KIP-368). "
            "0: sessions never expire."},
    {.name = "super.users", .type = CONF_STRING, .offset = OFF(super_users),
     .flags = CONF_F_NULLABLE, .valid = "semicolon-separated User:name or Group:name",
     .doc = "Principals allowed every operation, e.g. User:weiradmin;Group:weir-admins.",
     .check = weir_conf_check_super_users},
    {.name = "allow.everyone.if.no.acl.found", .type = CONF_STRING,
     .offset = OFF(allow_everyone_if_no_acl_found), .flags = CONF_F_NULLABLE,
     .shown_def = "(unset: false when any listener authenticates clients - SASL_PLAINTEXT, "
                  "SASL_SSL, or SSL with ssl.client.auth requested or required - else true)",
     .valid = "true or false",
     .doc = "Whether a resource that no ACL binding applies to is open to every principal "
            "(Kafka's rule). When false, only super.users, weir.admin.group members and "
            "principals granted by ACLs (CreateAcls, tenant prefixes) may use it.",
     .check = weir_conf_check_bool_text},
    {.name = "weir.admin.group", .type = CONF_STRING, .offset = OFF(admin_group),
     .flags = CONF_F_NULLABLE, .shown_def = "(unset: none)", .valid = "an LDAP group name",
     .doc = "LDAP group of Weir's administrators: its members (principal Group:<name>) are "
            "allowed every operation, like super.users, and bypass tenant limits."},
    {.name = "quota.window.num", .type = CONF_INT32, .offset = OFF(quota_window_num), .min = 2,
     .max = 1000, .def = "11",
     .doc = "Samples kept to measure a client's byte rate against its tenant's (or its own) "
            "produce and fetch quota, as Kafka's quota.window.num."},
    {.name = "quota.window.size.seconds", .type = CONF_INT32,
     .offset = OFF(quota_window_size_seconds), .min = 1, .max = 3600, .def = "1",
     .doc = "Length of each quota sample. A client over its quota gets a throttle time of "
            "(rate - quota) / quota times the measured span, and its connection is not read "
            "for that long."},
    {.name = "ldap.url", .type = CONF_STRING, .offset = OFF(ldap_url), .flags = CONF_F_NULLABLE,
     .valid = "ldap://host:port or ldaps://host:port (several separated by spaces)",
     .doc = "The LDAP directory SASL/PLAIN passwords are checked against. Required by "
            "SASL_PLAINTEXT and SASL_SSL listeners.",
     .check = weir_conf_check_ldap_url},
    {.name = "ldap.starttls", .type = CONF_BOOL, .offset = OFF(ldap_starttls), .def = "false",
     .doc = "Upgrade ldap:// connections with StartTLS before sending credentials. Taken "
            "from the configuration file again on SIGHUP."},
    {.name = "ldap.ca.location", .type = CONF_STRING, .offset = OFF(ldap_ca_location),
     .flags = CONF_F_NULLABLE, .shown_def = "(unset: the system's CAs)",
     .valid = "path of a PEM file",
     .doc = "CA certificates (PEM) the directory's certificate must chain to, for ldaps:// "
            "and StartTLS. Re-read on SIGHUP (with ldap.starttls, from the configuration "
            "file); sign-ons already under way finish with the previous settings."},
    {.name = "ldap.user.dn.template", .type = CONF_STRING, .offset = OFF(ldap_user_dn_template),
     .flags = CONF_F_NULLABLE, .valid = "a DN containing {user}",
     .doc = "The user's DN with {user} standing for the (escaped) user name, e.g. "
            "uid={user},ou=people,dc=campus,dc=edu. Set this or ldap.user.search.base."},
    {.name = "ldap.bind.dn", .type = CONF_STRING, .offset = OFF(ldap_bind_dn),
     .flags = CONF_F_NULLABLE, .valid = "a DN",
     .doc = "Service account used to search for users and groups when the user's DN is found "
            "by search (ldap.user.search.base); unset: anonymous searches."},
    {.name = "ldap.bind.password", .type = CONF_STRING, .offset = OFF(ldap_bind_password),
     .flags = CONF_F_NULLABLE | CONF_F_SENSITIVE, .valid = "any string",
     .doc = "Password of ldap.bind.dn. Never logged or shown by DescribeConfigs."},
    {.name = "ldap.user.search.base", .type = CONF_STRING, .offset = OFF(ldap_user_search_base),
     .flags = CONF_F_NULLABLE, .valid = "a DN",
     .doc = "Base DN under which the user's entry is searched (subtree) by "
            "ldap.user.name.attribute and ldap.user.object.class. Set this or "
            "ldap.user.dn.template."},
    {.name = "ldap.user.name.attribute", .type = CONF_STRING,
     .offset = OFF(ldap_user_name_attribute), .def = "uid", .valid = "an attribute name",
     .doc = "Attribute holding the user name, for the user search."},
    {.name = "ldap.user.object.class", .type = CONF_STRING, .offset = OFF(ldap_user_object_class),
     .def = "person", .valid = "an object class",
     .doc = "Object class of user entries, for the user search (inetOrgPerson entries are "
            "also person)."},
    {.name = "ldap.group.search.base", .type = CONF_STRING, .offset = OFF(ldap_group_search_base),
     .flags = CONF_F_NULLABLE, .shown_def = "(unset: no groups)", .valid = "a DN",
     .doc = "Base DN under which the user's groups are searched (subtree); each gives the "
            "principal Group:<name>."},
    {.name = "ldap.group.object.class", .type = CONF_STRING,
     .offset = OFF(ldap_group_object_class), .def = "groupOfNames", .valid = "an object class",
     .doc = "Object class of group entries."},
    {.name = "ldap.group.member.attribute", .type = CONF_STRING,
     .offset = OFF(ldap_group_member_attribute), .def = "member", .valid = "an attribute name",
     .doc = "Attribute of a group listing its members: by DN (member, uniqueMember), or by user "
            "name when it is memberUid (posixGroup)."},
    {.name = "ldap.group.name.attribute", .type = CONF_STRING,
     .offset = OFF(ldap_group_name_attribute), .def = "cn", .valid = "an attribute name",
     .doc = "Attribute holding a group's name."},
    {.name = "ldap.timeout.ms", .type = CONF_INT64, .offset = OFF(ldap_timeout_ms), .min = 100,
     .max = 600000, .scale = 1, .def = "5000",
     .doc = "Longest time one sign-on may spend on LDAP, all steps together (connect, StartTLS, "
            "searches, binds, waiting for a free slot); past it the sign-on fails as "
            "\"LDAP unavailable\"."},
    {.name = "ldap.cache.ttl.ms", .type = CONF_INT64, .offset = OFF(ldap_cache_ttl_ms), .min = 0,
     .max = INT64_MAX, .scale = 1, .def = "60000",
     .doc = "How long a successful sign-on is remembered (keyed by a salted hash of user name "
            "and password; the password itself is not kept), so reconnecting clients do not "
            "wait for LDAP; 0 disables the cache. A changed or revoked password may still work "
            "for this long; SIGHUP empties the cache."},
    /* ---- HTTP listeners (Schema Registry, admin API, REST proxy, /metrics) ---- */
    {.name = "http.listeners", .type = CONF_LIST, .offset = OFF(http_listeners),
     .flags = CONF_F_NULLABLE,
     .shown_def = "(unset: no HTTP listener; weir started without -c opens "
                  "http://127.0.0.1:8081)",
     .valid = "comma-separated http://host:port or https://host:port (host empty = all "
              "interfaces, [::1] for IPv6; port 0 = ephemeral)",
     .doc = "Addresses of the HTTP/1.1 listeners serving /metrics (Prometheus), the Schema "
            "Registry, the admin API and the REST proxy. https uses the ssl.* key store "
            "settings of the Kafka SSL listeners (ssl.keystore.location, ssl.client.auth, ...) "
            "and is reloaded with them on SIGHUP.",
     .check = weir_conf_check_http_listeners},
    {.name = "http.auth", .type = CONF_ENUM_STR, .offset = OFF(http_auth), .def = "none",
     .choices = weir_conf_http_auth,
     .doc = "Authentication on the HTTP listeners: none (principal User:ANONYMOUS, or the "
            "client certificate's on https with ssl.client.auth), or basic (HTTP Basic "
            "credentials checked against LDAP like SASL/PLAIN, with the same ldap.* settings "
            "and cache; principal User:<name> and Group:<g> per LDAP group; 401 otherwise)."},
    {.name = "http.max.request.bytes", .type = CONF_INT32, .offset = OFF(http_max_request_bytes),
     .min = 0, .max = INT32_MAX, .def = "1048576",
     .doc = "Largest HTTP request body accepted; a larger one is answered 413 and the "
            "connection closed."},
    {.name = "http.max.header.bytes", .type = CONF_INT32, .offset = OFF(http_max_header_bytes),
     .min = 1024, .max = 1048576, .def = "16384",
     .doc = "Largest request line plus headers of an HTTP request; a larger one is answered "
            "431 and the connection closed."},
    {.name = "http.keepalive.timeout.ms", .type = CONF_INT64,
     .offset = OFF(http_keepalive_timeout_ms), .min = 1, .max = INT64_MAX, .scale = 1,
     .def = "30000",
     .doc = "An HTTP connection idle between requests for this long is closed."},
    {.name = "http.request.timeout.ms", .type = CONF_INT64,
     .offset = OFF(http_request_timeout_ms), .min = 100, .max = INT64_MAX, .scale = 1,
     .def = "60000",
     .doc = "Longest time a client may take to send one whole HTTP request (headers and "
            "body); past it the request is answered 408 and the connection closed."},
    {.name = "weir.shutdown.timeout.ms", .type = CONF_INT64, .offset = OFF(shutdown_timeout_ms),
     .min = 0, .max = 600000, .scale = 1, .def = "5000",
     .doc = "On SIGTERM the broker stops accepting connections and requests, answers waiting "
            "fetches at once with what they have, and lets requests in progress finish for at "
            "most this long before it closes the remaining connections, flushes and fsyncs the "
            "logs and exits."},
    /* ---- REST Proxy consumer instances (Confluent's key names) ---- */
    {.name = "consumer.instance.timeout.ms", .type = CONF_INT64,
     .offset = OFF(consumer_instance_timeout_ms), .min = 1000, .max = INT64_MAX, .scale = 1,
     .def = "300000",
     .doc = "A REST Proxy consumer instance that has seen no request for this long is "
            "destroyed: it leaves its consumer group (its partitions go to the other members) "
            "and its URLs answer 404 (40403)."},
    {.name = "consumer.request.timeout.ms", .type = CONF_INT64,
     .offset = OFF(consumer_request_timeout_ms), .min = 0, .max = 600000, .scale = 1,
     .def = "1000",
     .doc = "Longest time a REST Proxy GET .../records waits for records when it names no "
            "timeout (a consumer instance may set its own when it is created); a request "
            "asking for longer is cut to the larger of this and 30000."},
    {.name = "consumer.request.max.bytes", .type = CONF_INT64,
     .offset = OFF(consumer_request_max_bytes), .min = 1, .max = 1073741824, .scale = 1,
     .def = "67108864",
     .doc = "Most bytes of record keys and values one REST Proxy GET .../records answers "
            "(max_bytes may ask for less); at least one record is always returned."},
};

#define WEIR_CONF_NROWS WEIR_ARRAY_SIZE(weir_conf_rows)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
weir_conf_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    if (!err || errsz == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static const weir_conf_row_t *
weir_conf_find(const char *name)
{
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++)
        if (strcmp(weir_conf_rows[i].name, name) == 0)
            return &weir_conf_rows[i];
    return NULL;
}

/* Index of the canonical row of a row (itself unless a synonym). */
static size_t
weir_conf_group(const weir_conf_row_t *row)
{
    const weir_conf_row_t *c = row->canonical ? weir_conf_find(row->canonical) : row;

    return (size_t)(c - weir_conf_rows);
}

static void *
weir_conf_field(weir_conf_t *conf, const weir_conf_row_t *row)
{
    return (char *)conf + row->offset;
}

static const void *
weir_conf_cfield(const weir_conf_t *conf, const weir_conf_row_t *row)
{
    return (const char *)conf + row->offset;
}

static bool
weir_conf_is_int(const weir_conf_row_t *row)
{
    return row->type == CONF_INT16 || row->type == CONF_INT32 || row->type == CONF_INT64;
}

static bool
weir_conf_is_str(const weir_conf_row_t *row)
{
    return row->type == CONF_STRING || row->type == CONF_LIST || row->type == CONF_ENUM_STR;
}

/* Describes the accepted values of an integer row, as a phrase for error
 * messages ("an integer between 1 and 2147483647") or, with brief, for the
 * documentation tables ("1 .. 2147483647"). */
static void
weir_conf_range_text(const weir_conf_row_t *row, bool brief, char *buf, size_t size)
{
    const char *m1 = row->flags & CONF_F_MINUS_ONE ? (brief ? "-1, " : "-1 or ") : "";

    if (row->type == CONF_DOUBLE) {
        if (row->dmax == DBL_MAX)
            snprintf(buf, size, brief ? "%g .. %s" : "a number of at least %g%s", row->dmin,
                     brief ? "1.7976931348623157E308" : "");
        else
            snprintf(buf, size, brief ? "%g .. %g" : "a number between %g and %g", row->dmin,
                     row->dmax);
        return;
    }
    if (row->min == row->max)
        snprintf(buf, size, "%s%" PRId64, m1, row->min);
    else if (brief)
        snprintf(buf, size, "%s%" PRId64 " .. %" PRId64, m1, row->min, row->max);
    else
        snprintf(buf, size, "%san integer between %" PRId64 " and %" PRId64, m1, row->min,
                 row->max);
}

/* Parses a whole decimal integer: optional sign, digits, nothing else. */
static int
weir_conf_parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    char *end;
    long long v;

    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    *out = v;
    return 0;
}

/* Parses and checks one value for row; on success *val holds it (strings
 * owned by the caller).  Returns 0 or -1 with the reason in err. */
static int
weir_conf_parse(const weir_conf_row_t *row, const char *value, weir_conf_val_t *val,
                char *err, size_t errsz)
{
    char range[96];
    int64_t n;

    val->num = 0;
    val->str = NULL;
    switch (row->type) {
    case CONF_INT16:
    case CONF_INT32:
    case CONF_INT64: {
        int rc = weir_conf_parse_int(value, &n);
        bool ok = rc == 0 &&
                  ((n >= row->min && n <= row->max) || (n == -1 && row->flags & CONF_F_MINUS_ONE));

        if (!ok) {
            if (row->check && rc == 0) {
                /* A key with its own wording for bad values (replication). */
                if (row->check(value, n, err, errsz) < 0)
                    return -1;
            }
            weir_conf_range_text(row, false, range, sizeof(range));
            weir_conf_err(err, errsz, "must be %s (got \"%s\")", range, value);
            return -1;
        }
        if (n != -1 && row->scale > 1) {
            if (n > INT64_MAX / row->scale) {
                weir_conf_err(err, errsz, "out of range: %s is too large", value);
                return -1;
            }
            n *= row->scale;
        }
        val->num = n;
        break;
    }
    case CONF_DOUBLE: {
        char *end;
        double d;

        errno = 0;
        d = value[0] && !strpbrk(value, "xXnNiI") ? strtod(value, &end) : 0;
        if (!value[0] || strpbrk(value, "xXnNiI") || *end != '\0' || errno == ERANGE ||
            d < row->dmin || d > row->dmax) {
            weir_conf_range_text(row, false, range, sizeof(range));
            weir_conf_err(err, errsz, "must be %s (got \"%s\")", range, value);
            return -1;
        }
        val->dnum = d;
        break;
    }
    case CONF_BOOL:
        if (strcmp(value, "true") == 0)
            val->num = 1;
        else if (strcmp(value, "false") == 0)
            val->num = 0;
        else {
            weir_conf_err(err, errsz, "must be true or false (got \"%s\")", value);
            return -1;
        }
        break;
    case CONF_ENUM_STR:
    case CONF_ENUM_BOOL: {
        size_t i, len = 0;
        char list[256];

        for (i = 0; row->choices[i]; i++)
            if (strcmp(value, row->choices[i]) == 0)
                break;
        if (!row->choices[i]) {
            list[0] = '\0';
            for (i = 0; row->choices[i]; i++)
                len += (size_t)snprintf(list + len, sizeof(list) - WEIR_MIN(len, sizeof(list)),
                                        "%s%s", i ? ", " : "", row->choices[i]);
            weir_conf_err(err, errsz, "must be one of %s (got \"%s\")", list, value);
            return -1;
        }
        val->num = (int64_t)i;
        if (row->type == CONF_ENUM_STR)
            val->str = weir_strdup(value);
        break;
    }
    case CONF_STRING:
    case CONF_LIST:
        if (value[0] == '\0' && !(row->flags & CONF_F_NULLABLE)) {
            weir_conf_err(err, errsz, "must not be empty");
            return -1;
        }
        if (value[0] != '\0' && row->check && row->check(value, 0, err, errsz) < 0)
            return -1;
        if (value[0] != '\0')
            val->str = weir_strdup(value);
        break;
    }
    return 0;
}

/* Stores a parsed value (takes ownership of val->str). */
static void
weir_conf_store(weir_conf_t *conf, const weir_conf_row_t *row, weir_conf_val_t *val)
{
    void *f = weir_conf_field(conf, row);

    switch (row->type) {
    case CONF_INT16:
        *(int16_t *)f = (int16_t)val->num;
        break;
    case CONF_INT32:
        /* Scaled synonyms (hours) are INT32 as written but store into an int64. */
        if (row->scale > 1)
            *(int64_t *)f = val->num;
        else
            *(int32_t *)f = (int32_t)val->num;
        break;
    case CONF_INT64:
        *(int64_t *)f = val->num;
        break;
    case CONF_DOUBLE:
        *(double *)f = val->dnum;
        break;
    case CONF_BOOL:
    case CONF_ENUM_BOOL:
        *(bool *)f = val->num != 0;
        break;
    case CONF_STRING:
    case CONF_LIST:
    case CONF_ENUM_STR:
        free(*(char **)f);
        *(char **)f = val->str;
        val->str = NULL;
        break;
    }
}

/* Formats the stored value of a canonical row. */
static void
weir_conf_format(const weir_conf_t *conf, const weir_conf_row_t *row, char *buf, size_t size)
{
    const void *f = weir_conf_cfield(conf, row);

    switch (row->type) {
    case CONF_INT16:
        snprintf(buf, size, "%d", (int)*(const int16_t *)f);
        break;
    case CONF_INT32:
        if (row->scale > 1)
            snprintf(buf, size, "%" PRId64, *(const int64_t *)f);
        else
            snprintf(buf, size, "%" PRId32, *(const int32_t *)f);
        break;
    case CONF_INT64:
        snprintf(buf, size, "%" PRId64, *(const int64_t *)f);
        break;
    case CONF_DOUBLE: {
        double d = *(const double *)f;

        /* Whole numbers as integers, others as the shortest text that reads
         * back as the same double. */
        if (d > -1e15 && d < 1e15 && (double)(int64_t)d == d) {
            snprintf(buf, size, "%" PRId64, (int64_t)d);
            break;
        }
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, size, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        break;
    }
    case CONF_BOOL:
        snprintf(buf, size, "%s", *(const bool *)f ? "true" : "false");
        break;
    case CONF_ENUM_BOOL:
        snprintf(buf, size, "%s", row->choices[*(const bool *)f ? 1 : 0]);
        break;
    case CONF_STRING:
    case CONF_LIST:
    case CONF_ENUM_STR: {
        const char *s = *(char *const *)f;

        if (!s && row->unset_from) {
            weir_conf_format(conf, weir_conf_find(row->unset_from), buf, size);
            return;
        }
        snprintf(buf, size, "%s", s ? s : "");
        break;
    }
    }
}

/* Deep copy (strings duplicated). */
static void
weir_conf_copy(weir_conf_t *dst, const weir_conf_t *src)
{
    *dst = *src;
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++) {
        const weir_conf_row_t *row = &weir_conf_rows[i];
        char **f;

        if (!weir_conf_is_str(row) || row->canonical)
            continue;
        f = weir_conf_field(dst, row);
        if (*f)
            *f = weir_strdup(*f);
    }
    weir_conf_overrides_copy(dst, src);
}

/* ------------------------------------------------------------------------ */
/* Listener lists                                                           */
/* ------------------------------------------------------------------------ */

int
weir_conf_parse_listeners(const char *value, weir_conf_listener_t *out, int max, char *err,
                          size_t errsz)
{
    const char *p = value;
    int n = 0;

    for (;;) {
        const char *end = strchr(p, ',');
        const char *sep, *hs, *he, *ps;
        size_t len;
        weir_conf_listener_t l;
        int64_t port;
        char item[512], portbuf[16];

        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0 || len >= sizeof(item)) {
            weir_conf_err(err, errsz, "%s listener in \"%s\"", len ? "overlong" : "empty", value);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        sep = strstr(item, "://");
        if (!sep || sep == item || (size_t)(sep - item) >= sizeof(l.name)) {
            weir_conf_err(err, errsz, "\"%s\" is not NAME://host:port", item);
            return -1;
        }
        memcpy(l.name, item, (size_t)(sep - item));
        l.name[sep - item] = '\0';
        for (const char *c = l.name; *c; c++) {
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) {
                weir_conf_err(err, errsz, "\"%s\": bad listener name", item);
                return -1;
            }
        }
        hs = sep + 3;
        if (*hs == '[') {
            he = strchr(hs, ']');
            if (!he || he[1] != ':') {
                weir_conf_err(err, errsz, "\"%s\": bad IPv6 address (use [addr]:port)", item);
                return -1;
            }
            ps = he + 2;
            hs++;
        } else {
            he = strrchr(hs, ':');
            if (!he) {
                weir_conf_err(err, errsz, "\"%s\" has no port (NAME://host:port)", item);
                return -1;
            }
            ps = he + 1;
            for (const char *c = hs; c < he; c++) {
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_')) {
                    weir_conf_err(err, errsz, "\"%s\": bad host name", item);
                    return -1;
                }
            }
        }
        if ((size_t)(he - hs) >= sizeof(l.host)) {
            weir_conf_err(err, errsz, "\"%s\": host name too long", item);
            return -1;
        }
        memcpy(l.host, hs, (size_t)(he - hs));
        l.host[he - hs] = '\0';
        if (strlen(ps) >= sizeof(portbuf) || ps[0] == '+' || ps[0] == '-' ||
            weir_conf_parse_int(ps, &port) < 0 || port < 0 || port > 65535) {
            weir_conf_err(err, errsz, "\"%s\": port must be an integer in 0 .. 65535", item);
            return -1;
        }
        l.port = (int)port;
        /* Whether the name has a security protocol depends on
         * listener.security.protocol.map: checked by weir_conf_check(). */
        for (int i = 0; i < n; i++) {
            if (strcmp(out[i].name, l.name) == 0) {
                weir_conf_err(err, errsz, "listener name %s appears twice", l.name);
                return -1;
            }
        }
        if (n == max) {
            weir_conf_err(err, errsz, "more than %d listeners", max);
            return -1;
        }
        out[n++] = l;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return n;
}


static int
weir_conf_check_listeners(const char *value, int64_t num, char *err, size_t errsz)
{
    weir_conf_listener_t l[WEIR_CONF_MAX_LISTENERS];

    WEIR_UNUSED(num);
    return weir_conf_parse_listeners(value, l, WEIR_CONF_MAX_LISTENERS, err, errsz) < 0 ? -1 : 0;
}

static int
weir_conf_check_advertised(const char *value, int64_t num, char *err, size_t errsz)
{
    weir_conf_listener_t l[WEIR_CONF_MAX_LISTENERS];
    int n = weir_conf_parse_listeners(value, l, WEIR_CONF_MAX_LISTENERS, err, errsz);

    WEIR_UNUSED(num);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(l[i].host, "0.0.0.0") == 0 || strcmp(l[i].host, "::") == 0) {
            weir_conf_err(err, errsz, "%s: cannot advertise the non-routable address %s",
                          l[i].name, l[i].host);
            return -1;
        }
        if (l[i].port == 0) {
            weir_conf_err(err, errsz, "%s: cannot advertise port 0", l[i].name);
            return -1;
        }
    }
    return 0;
}

static int
weir_conf_check_log_dirs(const char *value, int64_t num, char *err, size_t errsz)
{
    WEIR_UNUSED(num);
    if (strchr(value, ',')) {
        weir_conf_err(err, errsz, "only one log directory is supported");
        return -1;
    }
    return 0;
}

static int
weir_conf_check_replication(const char *value, int64_t num, char *err, size_t errsz)
{
    WEIR_UNUSED(value);
    if (num != 1) {
        weir_conf_err(err, errsz, "only 1 is supported until replication lands");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Security keys                                                            */
/* ------------------------------------------------------------------------ */

static const char *const weir_secproto_names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT",
                                                  "SASL_SSL"};

const char *
weir_secproto_name(int proto)
{
    if (proto < 0 || proto >= (int)WEIR_ARRAY_SIZE(weir_secproto_names))
        return "?";
    return weir_secproto_names[proto];
}

/* Calls fn for each NAME:PROTOCOL of a map; returns -1 with err set on a
 * malformed entry or when fn returns non-zero (then its value). */
static int
weir_conf_map_walk(const char *map, int (*fn)(void *arg, const char *name, size_t len, int proto),
                   void *arg, char *err, size_t errsz)
{
    const char *p = map;

    while (*p) {
        const char *end = strchr(p, ','), *colon;
        size_t len;
        int proto = -1, rc;

        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        colon = memchr(p, ':', len);
        if (!colon || colon == p) {
            weir_conf_err(err, errsz, "\"%.*s\" is not NAME:PROTOCOL", (int)len, p);
            return -1;
        }
        for (int i = 0; i < (int)WEIR_ARRAY_SIZE(weir_secproto_names); i++) {
            size_t plen = len - (size_t)(colon + 1 - p);
            if (strlen(weir_secproto_names[i]) == plen &&
                memcmp(weir_secproto_names[i], colon + 1, plen) == 0)
                proto = i;
        }
        if (proto < 0) {
            weir_conf_err(err, errsz, "\"%.*s\": security protocol must be PLAINTEXT, SSL, "
                          "SASL_PLAINTEXT or SASL_SSL", (int)len, p);
            return -1;
        }
        rc = fn ? fn(arg, p, (size_t)(colon - p), proto) : 0;
        if (rc != 0)
            return rc;
        if (!*end)
            break;
        p = end + 1;
    }
    return 0;
}

typedef struct weir_conf_map_find_s {
    const char *name;
    int proto;
    int seen;
} weir_conf_map_find_t;

static int
weir_conf_map_find_cb(void *arg, const char *name, size_t len, int proto)
{
    weir_conf_map_find_t *f = arg;

    if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
        f->proto = proto;
        f->seen++;
    }
    return 0;
}

int
weir_conf_listener_protocol(const weir_conf_t *conf, const char *name)
{
    weir_conf_map_find_t f = {name, -1, 0};

    if (!conf->listener_security_protocol_map ||
        weir_conf_map_walk(conf->listener_security_protocol_map, weir_conf_map_find_cb, &f, NULL,
                           0) != 0)
        return -1;
    return f.proto;
}

typedef struct weir_conf_map_dup_s {
    char names[32][64];
    int n;
    char *err;
    size_t errsz;
} weir_conf_map_dup_t;

static int
weir_conf_map_dup_cb(void *arg, const char *name, size_t len, int proto)
{
    weir_conf_map_dup_t *d = arg;

    WEIR_UNUSED(proto);
    for (int i = 0; i < d->n; i++) {
        if (strlen(d->names[i]) == len && memcmp(d->names[i], name, len) == 0) {
            weir_conf_err(d->err, d->errsz, "listener name %.*s appears twice", (int)len, name);
            return -1;
        }
    }
    if (d->n == 32 || len >= sizeof(d->names[0])) {
        weir_conf_err(d->err, d->errsz, "too many or too long listener names");
        return -1;
    }
    memcpy(d->names[d->n], name, len);
    d->names[d->n][len] = '\0';
    d->n++;
    return 0;
}

static int
weir_conf_check_protocol_map(const char *value, int64_t num, char *err, size_t errsz)
{
    weir_conf_map_dup_t d;

    WEIR_UNUSED(num);
    d.n = 0;
    d.err = err;
    d.errsz = errsz;
    return weir_conf_map_walk(value, weir_conf_map_dup_cb, &d, err, errsz) != 0 ? -1 : 0;
}

static int
weir_conf_check_tls_protocols(const char *value, int64_t num, char *err, size_t errsz)
{
    WEIR_UNUSED(num);
    return weir_tls_protocols_parse(value, NULL, NULL, err, errsz);
}

static int
weir_conf_check_mapping_rules(const char *value, int64_t num, char *err, size_t errsz)
{
    weir_principal_map_t *map;

    WEIR_UNUSED(num);
    if (weir_principal_map_parse(value, &map, err, errsz) != 0)
        return -1;
    weir_principal_map_free(map);
    return 0;
}

/* PEM text values: checked for whole blocks here, parsed by OpenSSL when
 * the listeners' contexts are built.  Messages never quote the value. */
static int
weir_conf_check_pem_certs(const char *value, int64_t num, char *err, size_t errsz)
{
    char *pem = weir_tls_pem_normalize(value, "CERTIFICATE", NULL, err, errsz);

    WEIR_UNUSED(num);
    if (!pem)
        return -1;
    free(pem);
    return 0;
}

static int
weir_conf_check_pem_key(const char *value, int64_t num, char *err, size_t errsz)
{
    int n = 0;
    char *pem = weir_tls_pem_normalize(value, "PRIVATE KEY", &n, err, errsz);

    WEIR_UNUSED(num);
    if (!pem)
        return -1;
    memset(pem, 0, strlen(pem));
    free(pem);
    if (n != 1) {
        weir_conf_err(err, errsz, "expected one private key, found %d", n);
        return -1;
    }
    return 0;
}

/* ---- listener.name.<listener>.<key> ---- */

#define WEIR_CONF_LISTENER_PREFIX "listener.name."

/* The keys a listener may override (Kafka's listener-prefixed ssl.* and
 * sasl.enabled.mechanisms). */
static const char *const weir_conf_listener_keys[] = {
    "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.certificate.chain",
    "ssl.keystore.key", "ssl.key.password", "ssl.truststore.type", "ssl.truststore.location",
    "ssl.truststore.certificates", "ssl.enabled.protocols", "ssl.cipher.suites",
    "ssl.client.auth", "ssl.principal.mapping.rules", "sasl.enabled.mechanisms",
};

/* The key store's and the trust store's keys: each store is taken whole
 * from the listener's overrides or from the global keys. */
static const char *const weir_conf_keystore_keys[] = {
    "ssl.keystore.location", "ssl.keystore.certificate.chain", "ssl.keystore.key", NULL};
static const char *const weir_conf_truststore_keys[] = {
    "ssl.truststore.location", "ssl.truststore.certificates", NULL};

static bool
weir_conf_in_list(const char *const *list, const char *key)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

static const weir_conf_override_t *
weir_conf_override_find(const weir_conf_t *conf, const char *listener, const char *key)
{
    for (size_t i = 0; i < conf->nlistener_overrides; i++) {
        const weir_conf_override_t *o = &conf->listener_overrides[i];
        if (strcasecmp(o->listener, listener) == 0 && strcmp(o->key, key) == 0)
            return o;
    }
    return NULL;
}

/* True if the listener overrides key with a value (not with an empty one). */
static bool
weir_conf_override_valued(const weir_conf_t *conf, const char *listener, const char *key)
{
    const weir_conf_override_t *o = weir_conf_override_find(conf, listener, key);

    return o && o->value;
}

bool
weir_conf_listener_has_overrides(const weir_conf_t *conf, const char *listener)
{
    for (size_t i = 0; i < conf->nlistener_overrides; i++)
        if (strcasecmp(conf->listener_overrides[i].listener, listener) == 0)
            return true;
    return false;
}

const char *
weir_conf_listener_value(const weir_conf_t *conf, const char *listener, const char *key)
{
    const weir_conf_override_t *o = weir_conf_override_find(conf, listener, key);
    const weir_conf_row_t *row;
    const char *const *group = NULL;

    if (o)
        return o->value;
    if (weir_conf_in_list(weir_conf_keystore_keys, key))
        group = weir_conf_keystore_keys;
    else if (weir_conf_in_list(weir_conf_truststore_keys, key))
        group = weir_conf_truststore_keys;
    for (size_t i = 0; group && group[i]; i++)
        if (weir_conf_override_find(conf, listener, group[i]))
            return NULL; /* the listener has its own store */
    row = weir_conf_find(key);
    if (!row || !weir_conf_is_str(row))
        return NULL;
    return *(char *const *)weir_conf_cfield(conf, row);
}

/* Records listener.name.<listener>.<suffix> = value (checked like the
 * global key).  Returns 0, or -1 with the reason in err. */
static int
weir_conf_override_set(weir_conf_t *conf, const char *key, const char *value, int line,
                       char *err, size_t errsz)
{
    const char *rest = key + strlen(WEIR_CONF_LISTENER_PREFIX), *dot = strchr(rest, '.');
    const weir_conf_row_t *row;
    weir_conf_override_t *o;
    weir_conf_val_t val;
    size_t i;

    if (!dot || dot == rest) {
        weir_conf_err(err, errsz, "unknown key (per-listener keys are "
                      "listener.name.<listener name, lower-cased>.<key>)");
        return -1;
    }
    for (const char *c = rest; c < dot; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            char lower[64];
            size_t n = WEIR_MIN((size_t)(dot - rest), sizeof(lower) - 1);

            for (size_t k = 0; k < n; k++)
                lower[k] = (char)(rest[k] >= 'A' && rest[k] <= 'Z' ? rest[k] - 'A' + 'a'
                                                                   : rest[k]);
            lower[n] = '\0';
            weir_conf_err(err, errsz, "listener names are lower-cased in listener.name.* keys, "
                          "as in Kafka: listener.name.%s.%s", lower, dot + 1);
            return -1;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) {
            weir_conf_err(err, errsz, "unknown key (bad listener name \"%.*s\")",
                          (int)(dot - rest), rest);
            return -1;
        }
    }
    for (i = 0; i < WEIR_ARRAY_SIZE(weir_conf_listener_keys); i++)
        if (strcmp(weir_conf_listener_keys[i], dot + 1) == 0)
            break;
    if (i == WEIR_ARRAY_SIZE(weir_conf_listener_keys)) {
        weir_conf_err(err, errsz, "unknown key (a listener may set ssl.keystore.location, "
                      "ssl.keystore.certificate.chain, ssl.keystore.key, ssl.key.password, "
                      "ssl.truststore.location, ssl.truststore.certificates, "
                      "ssl.enabled.protocols, ssl.cipher.suites, ssl.client.auth, "
                      "ssl.principal.mapping.rules, ssl.keystore.type, ssl.truststore.type and "
                      "sasl.enabled.mechanisms)");
        return -1;
    }
    row = weir_conf_find(dot + 1);
    if (weir_conf_parse(row, value, &val, err, errsz) < 0)
        return -1;
    o = NULL;
    for (i = 0; i < conf->nlistener_overrides; i++) {
        weir_conf_override_t *x = &conf->listener_overrides[i];
        if (strlen(x->listener) == (size_t)(dot - rest) &&
            memcmp(x->listener, rest, (size_t)(dot - rest)) == 0 && strcmp(x->key, dot + 1) == 0)
            o = x;
    }
    if (!o) {
        conf->listener_overrides = weir_realloc(conf->listener_overrides,
                                                (conf->nlistener_overrides + 1) * sizeof(*o));
        o = &conf->listener_overrides[conf->nlistener_overrides++];
        o->listener = weir_strndup(rest, (size_t)(dot - rest));
        o->key = weir_strdup(dot + 1);
        o->value = NULL;
    }
    if (o->value) {
        memset(o->value, 0, strlen(o->value)); /* may be a key or a password */
        free(o->value);
    }
    /* Empty: unset for this listener (nullable keys). */
    o->value = val.str;
    o->line = line;
    return 0;
}

static void
weir_conf_overrides_free(weir_conf_t *conf)
{
    for (size_t i = 0; i < conf->nlistener_overrides; i++) {
        weir_conf_override_t *o = &conf->listener_overrides[i];
        free(o->listener);
        free(o->key);
        if (o->value) {
            memset(o->value, 0, strlen(o->value));
            free(o->value);
        }
    }
    free(conf->listener_overrides);
    conf->listener_overrides = NULL;
    conf->nlistener_overrides = 0;
}

static void
weir_conf_overrides_copy(weir_conf_t *dst, const weir_conf_t *src)
{
    dst->listener_overrides = NULL;
    dst->nlistener_overrides = src->nlistener_overrides;
    if (!src->nlistener_overrides)
        return;
    dst->listener_overrides = weir_calloc(src->nlistener_overrides,
                                          sizeof(*dst->listener_overrides));
    for (size_t i = 0; i < src->nlistener_overrides; i++) {
        const weir_conf_override_t *o = &src->listener_overrides[i];
        dst->listener_overrides[i].listener = weir_strdup(o->listener);
        dst->listener_overrides[i].key = weir_strdup(o->key);
        dst->listener_overrides[i].value = o->value ? weir_strdup(o->value) : NULL;
        dst->listener_overrides[i].line = o->line;
    }
}

/* Formats an override's error: "FILE:LINE: listener.name.L.KEY: reason". */
static void __attribute__((format(printf, 5, 6)))
weir_conf_override_err(char *errstr, size_t errstr_size, const char *path,
                       const weir_conf_override_t *o, const char *fmt, ...)
{
    char why[512], where[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (path && o->line > 0)
        snprintf(where, sizeof(where), "%s:%d: ", path, o->line);
    else
        where[0] = '\0';
    weir_conf_err(errstr, errstr_size, "%s" WEIR_CONF_LISTENER_PREFIX "%s.%s: %s", where,
                  o->listener, o->key, why);
}

/* The overrides against the listeners: each names a listener of
 * `listeners` whose protocol the key applies to, and sets at most one
 * form of key store and of trust store.  path (may be NULL) prefixes the
 * messages with the file and line. */
static int
weir_conf_check_overrides(const weir_conf_t *conf, const char *path, char *errstr,
                          size_t errstr_size)
{
    weir_conf_listener_t l[WEIR_CONF_MAX_LISTENERS];
    char err[256];
    int nl;

    if (!conf->nlistener_overrides)
        return 0;
    nl = weir_conf_parse_listeners(conf->listeners, l, WEIR_CONF_MAX_LISTENERS, err, sizeof(err));
    if (nl < 0)
        nl = 0; /* reported by weir_conf_check */
    for (size_t i = 0; i < conf->nlistener_overrides; i++) {
        const weir_conf_override_t *o = &conf->listener_overrides[i];
        int j, proto;
        bool ssl_key = strncmp(o->key, "ssl.", 4) == 0;

        for (j = 0; j < nl; j++)
            if (strcasecmp(l[j].name, o->listener) == 0)
                break;
        if (j == nl) {
            weir_conf_override_err(errstr, errstr_size, path, o, "no listener named %s in "
                                   "listeners", o->listener);
            return -1;
        }
        proto = weir_conf_listener_protocol(conf, l[j].name);
        if (proto < 0)
            continue; /* reported by weir_conf_check */
        if (ssl_key && proto != WEIR_SECPROTO_SSL && proto != WEIR_SECPROTO_SASL_SSL) {
            weir_conf_override_err(errstr, errstr_size, path, o, "listener %s is %s: ssl.* "
                                   "settings apply only to SSL and SASL_SSL listeners",
                                   l[j].name, weir_secproto_name(proto));
            return -1;
        }
        if (!ssl_key && proto != WEIR_SECPROTO_SASL_PLAINTEXT &&
            proto != WEIR_SECPROTO_SASL_SSL) {
            weir_conf_override_err(errstr, errstr_size, path, o, "listener %s is %s: SASL "
                                   "settings apply only to SASL_PLAINTEXT and SASL_SSL "
                                   "listeners", l[j].name, weir_secproto_name(proto));
            return -1;
        }
        if (strcmp(o->key, "ssl.keystore.location") == 0 && o->value &&
            (weir_conf_override_valued(conf, o->listener, "ssl.keystore.certificate.chain") ||
             weir_conf_override_valued(conf, o->listener, "ssl.keystore.key"))) {
            weir_conf_override_err(errstr, errstr_size, path, o, "set either "
                                   "ssl.keystore.location or ssl.keystore.certificate.chain with "
                                   "ssl.keystore.key for listener %s, not both", l[j].name);
            return -1;
        }
        if (strcmp(o->key, "ssl.truststore.location") == 0 && o->value &&
            weir_conf_override_valued(conf, o->listener, "ssl.truststore.certificates")) {
            weir_conf_override_err(errstr, errstr_size, path, o, "set either "
                                   "ssl.truststore.location or ssl.truststore.certificates for "
                                   "listener %s, not both", l[j].name);
            return -1;
        }
    }
    return 0;
}

static int
weir_conf_check_sasl_mechanisms(const char *value, int64_t num, char *err, size_t errsz)
{
    const char *p = value;

    WEIR_UNUSED(num);
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len;

        if (!end)
            end = p + strlen(p);
        while (p < end && *p == ' ')
            p++;
        len = (size_t)(end - p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len != 5 || memcmp(p, "PLAIN", 5) != 0) {
            weir_conf_err(err, errsz, "mechanism \"%.*s\" is not supported (only PLAIN)",
                          (int)len, p);
            return -1;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    return 0;
}

static int
weir_conf_check_bool_text(const char *value, int64_t num, char *err, size_t errsz)
{
    WEIR_UNUSED(num);
    if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
        weir_conf_err(err, errsz, "must be true or false (got \"%s\")", value);
        return -1;
    }
    return 0;
}

bool
weir_conf_allow_everyone(const weir_conf_t *conf)
{
    weir_conf_listener_t l[WEIR_CONF_MAX_LISTENERS];
    char err[256];
    int n;

    if (conf->allow_everyone_if_no_acl_found)
        return strcmp(conf->allow_everyone_if_no_acl_found, "true") == 0;
    n = weir_conf_parse_listeners(conf->listeners, l, WEIR_CONF_MAX_LISTENERS, err, sizeof(err));
    for (int i = 0; i < n; i++) {
        int proto = weir_conf_listener_protocol(conf, l[i].name);
        const char *auth = weir_conf_listener_value(conf, l[i].name, "ssl.client.auth");
        if (proto == WEIR_SECPROTO_SASL_PLAINTEXT || proto == WEIR_SECPROTO_SASL_SSL ||
            (proto == WEIR_SECPROTO_SSL && auth && strcmp(auth, "none") != 0))
            return false;
    }
    return true;
}

static int
weir_conf_check_super_users(const char *value, int64_t num, char *err, size_t errsz)
{
    weir_principal_ref_t *refs;
    size_t n;

    WEIR_UNUSED(num);
    if (weir_principal_refs_parse(value, &refs, &n, err, errsz) != 0)
        return -1;
    weir_principal_refs_free(refs, n);
    return 0;
}

static int
weir_conf_check_ldap_url(const char *value, int64_t num, char *err, size_t errsz)
{
    const char *p = value;

    WEIR_UNUSED(num);
    while (*p) {
        size_t len;

        while (*p == ' ')
            p++;
        if (!*p)
            break;
        len = strcspn(p, " ");
        if (!((len > 7 && strncmp(p, "ldap://", 7) == 0) ||
              (len > 8 && strncmp(p, "ldaps://", 8) == 0))) {
            weir_conf_err(err, errsz, "\"%.*s\" is not an ldap:// or ldaps:// URL", (int)len, p);
            return -1;
        }
        p += len;
    }
    return 0;
}

#define WEIR_CONF_MAX_HTTP_LISTENERS 8

static int
weir_conf_check_http_listeners(const char *value, int64_t num, char *err, size_t errsz)
{
    weir_http_listener_spec_t l[WEIR_CONF_MAX_HTTP_LISTENERS];

    WEIR_UNUSED(num);
    return weir_http_listeners_parse(value, l, WEIR_CONF_MAX_HTTP_LISTENERS, err, errsz) < 0 ? -1
                                                                                          : 0;
}

/* Cross-key checks of the HTTP settings; l/nl are the Kafka listeners. */
static int
weir_conf_check_http(const weir_conf_t *conf, const weir_conf_listener_t *l, int nl,
                     char *errstr, size_t errstr_size)
{
    weir_http_listener_spec_t h[WEIR_CONF_MAX_HTTP_LISTENERS];
    char err[256];
    int nh = 0;

    if (conf->http_listeners) {
        nh = weir_http_listeners_parse(conf->http_listeners, h, WEIR_CONF_MAX_HTTP_LISTENERS, err,
                                       sizeof(err));
        if (nh < 0) {
            weir_conf_err(errstr, errstr_size, "http.listeners: %s", err);
            return -1;
        }
    }
    for (int i = 0; i < nh; i++) {
        if (h[i].tls && !conf->ssl_keystore_location && !conf->ssl_keystore_certificate_chain) {
            weir_conf_err(errstr, errstr_size,
                          "ssl.keystore.location: must be set for https listeners");
            return -1;
        }
        if (h[i].tls && strcmp(conf->ssl_client_auth, "none") != 0 &&
            !conf->ssl_truststore_location && !conf->ssl_truststore_certificates) {
            weir_conf_err(errstr, errstr_size,
                          "ssl.truststore.location: must be set when ssl.client.auth is %s",
                          conf->ssl_client_auth);
            return -1;
        }
        for (int j = 0; j < nh + nl; j++) {
            const char *host = j < nh ? h[j].host : l[j - nh].host;
            int port = j < nh ? h[j].port : l[j - nh].port;

            if (j != i && h[i].port != 0 && port == h[i].port && strcmp(host, h[i].host) == 0) {
                weir_conf_err(errstr, errstr_size, "http.listeners: %s:%d is used twice (by %s)",
                              h[i].host, h[i].port, j < nh ? "http.listeners" : "listeners");
                return -1;
            }
        }
    }
    if (strcmp(conf->http_auth, "basic") == 0 &&
        (!conf->ldap_url || (!conf->ldap_user_dn_template && !conf->ldap_user_search_base))) {
        weir_conf_err(errstr, errstr_size, "http.auth: basic needs ldap.url and "
                      "ldap.user.dn.template or ldap.user.search.base (passwords are checked "
                      "against LDAP)");
        return -1;
    }
    return 0;
}

/* Cross-key checks of the security settings; l/nl are the listeners. */
static int
weir_conf_check_security(const weir_conf_t *conf, const weir_conf_listener_t *l, int nl,
                         char *errstr, size_t errstr_size)
{
    bool tls = false, sasl = false;

    for (int i = 0; i < nl; i++) {
        int proto = weir_conf_listener_protocol(conf, l[i].name);

        if (proto < 0) {
            weir_conf_err(errstr, errstr_size,
                          "listeners: listener name %s is not in listener.security.protocol.map",
                          l[i].name);
            return -1;
        }
        tls |= proto == WEIR_SECPROTO_SSL || proto == WEIR_SECPROTO_SASL_SSL;
        sasl |= proto == WEIR_SECPROTO_SASL_PLAINTEXT || proto == WEIR_SECPROTO_SASL_SSL;
    }
    if (conf->ssl_keystore_location &&
        (conf->ssl_keystore_certificate_chain || conf->ssl_keystore_key)) {
        weir_conf_err(errstr, errstr_size, "ssl.keystore.location and "
                      "ssl.keystore.certificate.chain/ssl.keystore.key: set only one form of "
                      "key store");
        return -1;
    }
    if (conf->ssl_truststore_location && conf->ssl_truststore_certificates) {
        weir_conf_err(errstr, errstr_size, "ssl.truststore.location and "
                      "ssl.truststore.certificates: set only one form of trust store");
        return -1;
    }
    if (weir_conf_check_overrides(conf, NULL, errstr, errstr_size) != 0)
        return -1;
    /* Every TLS listener's own key store and trust store (its overrides, or
     * the global keys). */
    for (int i = 0; tls && i < nl; i++) {
        int proto = weir_conf_listener_protocol(conf, l[i].name);
        const char *n = l[i].name, *ks, *chain, *key, *auth;
        bool own = weir_conf_listener_has_overrides(conf, n);
        char who[96];

        if (proto != WEIR_SECPROTO_SSL && proto != WEIR_SECPROTO_SASL_SSL)
            continue;
        snprintf(who, sizeof(who), own ? " (listener %s)" : "", n);
        ks = weir_conf_listener_value(conf, n, "ssl.keystore.location");
        chain = weir_conf_listener_value(conf, n, "ssl.keystore.certificate.chain");
        key = weir_conf_listener_value(conf, n, "ssl.keystore.key");
        auth = weir_conf_listener_value(conf, n, "ssl.client.auth");
        if (!ks && !chain && !key) {
            weir_conf_err(errstr, errstr_size, "ssl.keystore.location: must be set for SSL and "
                          "SASL_SSL listeners%s", who);
            return -1;
        }
        if (!ks && (!chain || !key)) {
            weir_conf_err(errstr, errstr_size, "ssl.keystore.certificate.chain and "
                          "ssl.keystore.key: must be set together%s", who);
            return -1;
        }
        if (auth && strcmp(auth, "none") != 0 &&
            !weir_conf_listener_value(conf, n, "ssl.truststore.location") &&
            !weir_conf_listener_value(conf, n, "ssl.truststore.certificates")) {
            weir_conf_err(errstr, errstr_size,
                          "ssl.truststore.location: must be set when ssl.client.auth is %s%s",
                          auth, who);
            return -1;
        }
    }
    if (conf->ldap_user_dn_template && conf->ldap_user_search_base) {
        weir_conf_err(errstr, errstr_size, "ldap.user.dn.template and ldap.user.search.base: "
                      "set only one (the user's DN comes from the template or from a search)");
        return -1;
    }
    if (conf->ldap_user_dn_template && !strstr(conf->ldap_user_dn_template, "{user}")) {
        weir_conf_err(errstr, errstr_size, "ldap.user.dn.template: must contain {user}");
        return -1;
    }
    if (conf->ldap_bind_password && !conf->ldap_bind_dn) {
        weir_conf_err(errstr, errstr_size, "ldap.bind.password: set without ldap.bind.dn");
        return -1;
    }
    if (sasl && !conf->ldap_url) {
        weir_conf_err(errstr, errstr_size, "ldap.url: must be set for SASL_PLAINTEXT and "
                      "SASL_SSL listeners (PLAIN passwords are checked against LDAP)");
        return -1;
    }
    if (sasl && !conf->ldap_user_dn_template && !conf->ldap_user_search_base) {
        weir_conf_err(errstr, errstr_size, "ldap.user.dn.template or ldap.user.search.base: "
                      "one must be set for SASL listeners");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */
/* ------------------------------------------------------------------------ */

void
weir_conf_defaults(weir_conf_t *conf)
{
    memset(conf, 0, sizeof(*conf));
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++) {
        const weir_conf_row_t *row = &weir_conf_rows[i];
        weir_conf_val_t val;
        char err[256];

        if (!row->def)
            continue;
        /* The defaults are constants checked by the unit tests; a failure
         * here is a bug in the table. */
        if (weir_conf_parse(row, row->def, &val, err, sizeof(err)) < 0) {
            fprintf(stderr, "level=fatal event=conf_bad_default key=%s reason=\"%s\"\n",
                    row->name, err);
            abort();
        }
        weir_conf_store(conf, row, &val);
    }
}

void
weir_conf_free(weir_conf_t *conf)
{
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++) {
        const weir_conf_row_t *row = &weir_conf_rows[i];
        char **f;

        if (!weir_conf_is_str(row) || row->canonical)
            continue;
        f = weir_conf_field(conf, row);
        free(*f);
        *f = NULL;
    }
    weir_conf_overrides_free(conf);
}

int
weir_conf_set(weir_conf_t *conf, const char *key, const char *value, char *errstr,
              size_t errstr_size)
{
    const weir_conf_row_t *row = weir_conf_find(key);
    weir_conf_val_t val;

    if (!row && strncmp(key, WEIR_CONF_LISTENER_PREFIX, strlen(WEIR_CONF_LISTENER_PREFIX)) == 0)
        return weir_conf_override_set(conf, key, value, 0, errstr, errstr_size);
    if (!row) {
        weir_conf_err(errstr, errstr_size, "unknown key");
        return -1;
    }
    if (weir_conf_parse(row, value, &val, errstr, errstr_size) < 0)
        return -1;
    weir_conf_store(conf, row, &val);
    return 0;
}

int
weir_conf_check(const weir_conf_t *conf, char *errstr, size_t errstr_size)
{
    weir_conf_listener_t l[WEIR_CONF_MAX_LISTENERS], a[WEIR_CONF_MAX_LISTENERS];
    char err[512], buf[1024];
    int nl, na;

    /* Every canonical value within its row's rules: catches values assigned
     * directly to the struct. */
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++) {
        const weir_conf_row_t *row = &weir_conf_rows[i];
        weir_conf_val_t val;
        const char *text = buf;

        if (row->canonical)
            continue;
        if (weir_conf_is_str(row) && !*(char *const *)weir_conf_cfield(conf, row)) {
            if (row->flags & CONF_F_NULLABLE)
                continue;
            weir_conf_err(errstr, errstr_size, "%s: must be set", row->name);
            return -1;
        }
        /* Strings as stored (PEM values are longer than buf). */
        if (weir_conf_is_str(row))
            text = *(char *const *)weir_conf_cfield(conf, row);
        else
            weir_conf_format(conf, row, buf, sizeof(buf));
        if (weir_conf_parse(row, text, &val, err, sizeof(err)) < 0) {
            weir_conf_err(errstr, errstr_size, "%s: %s", row->name, err);
            return -1;
        }
        free(val.str);
    }

    nl = weir_conf_parse_listeners(conf->listeners, l, WEIR_CONF_MAX_LISTENERS, err, sizeof(err));
    if (nl < 0) {
        weir_conf_err(errstr, errstr_size, "listeners: %s", err);
        return -1;
    }
    for (int i = 0; i < nl; i++) {
        for (int j = 0; j < i; j++) {
            if (l[i].port != 0 && l[i].port == l[j].port && strcmp(l[i].host, l[j].host) == 0) {
                weir_conf_err(errstr, errstr_size, "listeners: %s and %s both use %s:%d",
                              l[j].name, l[i].name, l[i].host, l[i].port);
                return -1;
            }
        }
    }
    if (weir_conf_check_security(conf, l, nl, errstr, errstr_size) != 0)
        return -1;
    if (weir_conf_check_http(conf, l, nl, errstr, errstr_size) != 0)
        return -1;
    if (conf->advertised_listeners) {
        na = weir_conf_parse_listeners(conf->advertised_listeners, a, WEIR_CONF_MAX_LISTENERS,
                                       err, sizeof(err));
        if (na < 0) {
            weir_conf_err(errstr, errstr_size, "advertised.listeners: %s", err);
            return -1;
        }
        for (int i = 0; i < na; i++) {
            int j;

            for (j = 0; j < nl; j++)
                if (strcmp(a[i].name, l[j].name) == 0)
                    break;
            if (j == nl) {
                weir_conf_err(errstr, errstr_size,
                              "advertised.listeners: listener name %s is not in listeners",
                              a[i].name);
                return -1;
            }
        }
    }
    /* Retention and roll times, whichever spelling set them, end up in
     * milliseconds: -1 (forever) or a non-negative time, and a roll time of
     * at least 1 ms. */
    if (conf->log_retention_ms < -1) {
        weir_conf_err(errstr, errstr_size,
                      "log.retention.ms: must be -1 (forever) or a non-negative time");
        return -1;
    }
    if (conf->log_roll_ms < 1) {
        weir_conf_err(errstr, errstr_size, "log.roll.ms: must be at least 1");
        return -1;
    }
    if (conf->group_max_session_timeout_ms < conf->group_min_session_timeout_ms) {
        weir_conf_err(errstr, errstr_size,
                      "group.max.session.timeout.ms: must be at least "
                      "group.min.session.timeout.ms (%d)",
                      (int)conf->group_min_session_timeout_ms);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* .properties reader                                                       */
/* ------------------------------------------------------------------------ */

typedef struct weir_conf_sbuf_s {
    char *p;
    size_t len, cap;
} weir_conf_sbuf_t;

static void
weir_conf_sbuf_add(weir_conf_sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = WEIR_MAX(b->cap * 2, b->len + n + 1);
        b->p = weir_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static bool
weir_conf_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

static int
weir_conf_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends s[0..n) to out with Java's escapes resolved (\t \n \r \f, \uXXXX,
 * any other \c is c).  Returns 0 or -1 on a malformed \u escape. */
static int
weir_conf_unescape(const char *s, size_t n, weir_conf_sbuf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c != '\\') {
            weir_conf_sbuf_add(out, &c, 1);
            continue;
        }
        if (++i == n)
            break; /* a lone trailing backslash is dropped, as Java does */
        c = s[i];
        switch (c) {
        case 't':
            c = '\t';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 'f':
            c = '\f';
            break;
        case 'u': {
            unsigned cp = 0;
            char utf8[3];
            size_t len;

            if (i + 4 >= n)
                return -1;
            for (int k = 1; k <= 4; k++) {
                int h = weir_conf_hex(s[i + (size_t)k]);

                if (h < 0)
                    return -1;
                cp = cp << 4 | (unsigned)h;
            }
            i += 4;
            if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                return -1; /* NUL or a UTF-16 surrogate half */
            if (cp < 0x80) {
                utf8[0] = (char)cp;
                len = 1;
            } else if (cp < 0x800) {
                utf8[0] = (char)(0xc0 | cp >> 6);
                utf8[1] = (char)(0x80 | (cp & 0x3f));
                len = 2;
            } else {
                utf8[0] = (char)(0xe0 | cp >> 12);
                utf8[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                utf8[2] = (char)(0x80 | (cp & 0x3f));
                len = 3;
            }
            weir_conf_sbuf_add(out, utf8, len);
            continue;
        }
        default:
            break;
        }
        weir_conf_sbuf_add(out, &c, 1);
    }
    if (!out->p)
        weir_conf_sbuf_add(out, "", 0);
    return 0;
}

/* Splits one logical line into key and value (escapes resolved). */
static int
weir_conf_split(const char *line, size_t len, weir_conf_sbuf_t *key, weir_conf_sbuf_t *value)
{
    size_t i = 0, kend, vstart;

    while (i < len && line[i] != '=' && line[i] != ':' && !weir_conf_is_ws(line[i])) {
        if (line[i] == '\\' && i + 1 < len)
            i++;
        i++;
    }
    kend = i;
    while (i < len && weir_conf_is_ws(line[i]))
        i++;
    if (i < len && (line[i] == '=' || line[i] == ':'))
        i++;
    while (i < len && weir_conf_is_ws(line[i]))
        i++;
    vstart = i;
    /* Trim trailing whitespace unless it is escaped ("a\ "). */
    while (len > vstart && weir_conf_is_ws(line[len - 1])) {
        size_t bs = 0;

        while (len - 1 - bs > vstart && line[len - 2 - bs] == '\\')
            bs++;
        if (bs % 2 == 1)
            break;
        len--;
    }
    if (weir_conf_unescape(line, kend, key) < 0)
        return -1;
    if (weir_conf_unescape(line + vstart, len - vstart, value) < 0)
        return -1;
    return 0;
}

/* What a file did to a key and its synonyms so far. */
typedef struct weir_conf_seen_s {
    const weir_conf_row_t *row; /* NULL: not set by the file */
    int line;
    int64_t num;                /* parsed number (integer keys) */
    char value[512];            /* as written, for conflict messages */
} weir_conf_seen_t;

/* Applies one key=value line to conf.  Returns 0 or -1 with "FILE:LINE: KEY:
 * reason" in errstr. */
static int
weir_conf_apply_line(weir_conf_t *conf, weir_conf_seen_t *seen, const char *path, int lineno,
                     const char *key, const char *value, char *errstr, size_t errstr_size)
{
    const weir_conf_row_t *row = weir_conf_find(key);
    weir_conf_seen_t *s;
    weir_conf_val_t val;
    char err[512];

    if (!row && strncmp(key, WEIR_CONF_LISTENER_PREFIX, strlen(WEIR_CONF_LISTENER_PREFIX)) == 0) {
        if (weir_conf_override_set(conf, key, value, lineno, err, sizeof(err)) < 0) {
            weir_conf_err(errstr, errstr_size, "%s:%d: %s: %s", path, lineno, key, err);
            return -1;
        }
        return 0;
    }
    if (!row) {
        weir_conf_err(errstr, errstr_size, "%s:%d: %s: unknown key", path, lineno, key);
        return -1;
    }
    if (weir_conf_parse(row, value, &val, err, sizeof(err)) < 0) {
        weir_conf_err(errstr, errstr_size, "%s:%d: %s: %s", path, lineno, key, err);
        return -1;
    }
    s = &seen[weir_conf_group(row)];
    if (s->row && s->row != row) {
        if (row->precedence < s->row->precedence) {
            /* A less precise synonym after the one that wins: checked, ignored. */
            free(val.str);
            return 0;
        }
        if (row->precedence == s->row->precedence &&
            (weir_conf_is_int(row) ? s->num != val.num : strcmp(s->value, value) != 0)) {
            weir_conf_err(errstr, errstr_size, "%s:%d: %s: conflicts with %s=%s at line %d",
                          path, lineno, key, s->row->name, s->value, s->line);
            free(val.str);
            return -1;
        }
    }
    s->row = row;
    s->line = lineno;
    s->num = val.num;
    snprintf(s->value, sizeof(s->value), "%s", value);
    weir_conf_store(conf, row, &val);
    return 0;
}

int
weir_conf_load(weir_conf_t *conf, const char *path, char *errstr, size_t errstr_size)
{
    weir_conf_seen_t seen[WEIR_CONF_NROWS];
    weir_conf_sbuf_t file = {0}, logical = {0};
    weir_conf_t tmp;
    char chunk[4096];
    const char *p, *end;
    bool continuing = false;
    int lineno = 0, start_line = 0, rc = -1;
    size_t n;
    FILE *fp;

    fp = fopen(path, "r");
    if (!fp) {
        weir_conf_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        weir_conf_sbuf_add(&file, chunk, n);
    if (ferror(fp)) {
        weir_conf_err(errstr, errstr_size, "%s: read error", path);
        fclose(fp);
        free(file.p);
        return -1;
    }
    fclose(fp);
    weir_conf_sbuf_add(&file, "", 0);

    if (memchr(file.p, '\0', file.len)) {
        const char *nul = memchr(file.p, '\0', file.len);

        for (p = file.p; p < nul; p++)
            lineno += *p == '\n';
        weir_conf_err(errstr, errstr_size, "%s:%d: NUL byte in file", path, lineno + 1);
        free(file.p);
        return -1;
    }
    memset(seen, 0, sizeof(seen));
    weir_conf_copy(&tmp, conf);
    p = file.p;
    end = file.p + file.len;
    while (p < end || continuing) {
        const char *ls = p, *le;
        size_t bs = 0;
        bool cont, at_eof = p >= end;

        if (!at_eof) {
            le = memchr(p, '\n', (size_t)(end - p));
            if (!le)
                le = end;
            p = le < end ? le + 1 : end;
            if (le > ls && le[-1] == '\r')
                le--;
            lineno++;
            while (ls < le && weir_conf_is_ws(*ls))
                ls++;
            if (!continuing) {
                if (ls == le || *ls == '#' || *ls == '!')
                    continue;
                start_line = lineno;
                logical.len = 0;
            }
            while (le - bs > ls && le[-1 - (ptrdiff_t)bs] == '\\')
                bs++;
            cont = bs % 2 == 1;
            weir_conf_sbuf_add(&logical, ls, (size_t)(le - ls) - (cont ? 1 : 0));
            if (cont && p < end) {
                continuing = true;
                continue;
            }
        }
        continuing = false;
        {
            weir_conf_sbuf_t key = {0}, value = {0};
            int r;

            if (weir_conf_split(logical.p, logical.len, &key, &value) < 0) {
                weir_conf_err(errstr, errstr_size, "%s:%d: malformed \\u escape", path,
                              start_line);
                free(key.p);
                free(value.p);
                goto out;
            }
            r = weir_conf_apply_line(&tmp, seen, path, start_line, key.p, value.p, errstr,
                                     errstr_size);
            free(key.p);
            free(value.p);
            if (r < 0)
                goto out;
        }
        if (at_eof)
            break;
    }

    {
        char err[512];

        if (weir_conf_check_overrides(&tmp, path, errstr, errstr_size) < 0)
            goto out;
        if (weir_conf_check(&tmp, err, sizeof(err)) < 0) {
            weir_conf_err(errstr, errstr_size, "%s: %s", path, err);
            goto out;
        }
    }
    weir_conf_free(conf);
    *conf = tmp;
    memset(&tmp, 0, sizeof(tmp));
    rc = 0;
out:
    weir_conf_free(&tmp);
    free(file.p);
    free(logical.p);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Documentation                                                            */
/* ------------------------------------------------------------------------ */

static const char *
weir_conf_type_name(const weir_conf_row_t *row)
{
    switch (row->type) {
    case CONF_INT16:
        return "short";
    case CONF_INT32:
        return "int";
    case CONF_INT64:
        return "long";
    case CONF_DOUBLE:
        return "double";
    case CONF_BOOL:
        return "boolean";
    case CONF_STRING:
        return "string";
    case CONF_LIST:
        return "list";
    case CONF_ENUM_STR:
    case CONF_ENUM_BOOL:
        return "string";
    }
    return "?";
}

static void
weir_conf_valid_text(const weir_conf_row_t *row, char *buf, size_t size)
{
    size_t len = 0;

    if (weir_conf_is_int(row) || row->type == CONF_DOUBLE) {
        weir_conf_range_text(row, true, buf, size);
    } else if (row->type == CONF_BOOL) {
        snprintf(buf, size, "true, false");
    } else if (row->choices) {
        buf[0] = '\0';
        for (size_t i = 0; row->choices[i] && len < size; i++)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                    row->choices[i]);
    } else {
        snprintf(buf, size, "%s", row->valid ? row->valid : "");
    }
}

static const char *
weir_conf_shown_default(const weir_conf_row_t *row)
{
    if (row->shown_def)
        return row->shown_def;
    return row->def ? row->def : "(unset)";
}

/* Prints text word-wrapped to 78 columns: the first line after first, the
 * others after cont. */
static void
weir_conf_wrap(FILE *out, const char *first, const char *cont, const char *text)
{
    size_t col = strlen(first);
    bool line_start = true;

    fputs(first, out);
    while (*text) {
        size_t w = strcspn(text, " ");

        if (!line_start && col + 1 + w > 78) {
            fprintf(out, "\n%s", cont);
            col = strlen(cont);
        } else if (!line_start) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, w, out);
        col += w;
        line_start = false;
        text += w;
        while (*text == ' ')
            text++;
    }
    fputc('\n', out);
}

static const char *const weir_conf_listener_doc =
    "Per-listener settings (Kafka's convention): listener.name.<listener>.<key>, with the "
    "listener's name lower-cased (listener.name.sasl_ssl.ssl.keystore.location, "
    "listener.name.clients.ssl.client.auth), sets <key> for that listener only; its other "
    "keys come from the global ones. <key> is one of ssl.keystore.location, "
    "ssl.keystore.certificate.chain, ssl.keystore.key, ssl.key.password, "
    "ssl.truststore.location, ssl.truststore.certificates, ssl.enabled.protocols, "
    "ssl.cipher.suites, ssl.client.auth, ssl.principal.mapping.rules, ssl.keystore.type, "
    "ssl.truststore.type (SSL and SASL_SSL listeners) or sasl.enabled.mechanisms (SASL "
    "listeners), with the same values as the global key. The key store is taken whole: a "
    "listener that sets ssl.keystore.location or ssl.keystore.certificate.chain with "
    "ssl.keystore.key uses none of the global key store keys (the same for the trust store). "
    "An unknown listener name, a key not in this list, or a key that does not apply to the "
    "listener's protocol stops start-up with FILE:LINE: KEY: reason. Overrides are taken from "
    "the file again and their files re-read on SIGHUP, like the global ssl.* keys.";

void
weir_conf_print_help(FILE *out)
{
    char valid[512], line[256];

    fprintf(out, "Weir broker configuration keys (Java .properties syntax: key=value,\n"
                 "'#' or '!' starts a comment line, a trailing backslash continues a line).\n\n");
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++) {
        const weir_conf_row_t *row = &weir_conf_rows[i];

        weir_conf_valid_text(row, valid, sizeof(valid));
        fprintf(out, "%s\n", row->name);
        weir_conf_wrap(out, "    ", "    ", row->doc);
        snprintf(line, sizeof(line), "type: %s; default: %s", weir_conf_type_name(row),
                 weir_conf_shown_default(row));
        weir_conf_wrap(out, "    ", "        ", line);
        weir_conf_wrap(out, "    valid: ", "        ", valid);
        fputc('\n', out);
    }
    fprintf(out, "listener.name.<listener>.<key>\n");
    weir_conf_wrap(out, "    ", "    ", weir_conf_listener_doc);
}

/* Writes s with Markdown table cell metacharacters escaped. */
static void
weir_conf_md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '*' || *s == '_' || *s == '<' || *s == '[')
            fputc('\\', out);
        fputc(*s, out);
    }
}

void
weir_conf_print_markdown(FILE *out)
{
    char valid[512];

    fprintf(out,
            "# Weir configuration\n"
            "\n"
            "<!-- Generated from the tables in server/core/weir_conf.c and\n"
            "     server/meta/weir_topic_config.c by weir_conf_print_markdown() and\n"
            "     weir_topic_config_print_markdown(). Do not edit by hand: regenerate with\n"
            "     build/tests/test_conf --write-docs docs/CONFIGURATION.md -->\n"
            "\n"
            "This page is generated from the configuration tables in the source, the same\n"
            "tables that parse the configuration file and print `weir --help-config`, so it\n"
            "always matches the code.\n"
            "\n"
            "## Broker configuration\n"
            "\n"
            "The broker reads a Kafka-style `.properties` file. Key names are Kafka's wherever\n"
            "the meaning is the same; Weir's own keys start with `weir.`.\n"
            "\n"
            "- One `key=value` per line; `key: value` and `key value` work too. Whitespace\n"
            "  around keys and values is ignored.\n"
            "- Lines starting with `#` or `!` are comments.\n"
            "- A line ending in a backslash continues on the next line (leading whitespace\n"
            "  of the continuation is dropped).\n"
            "- Integers are decimal and must be within the key's range; booleans are `true`\n"
            "  or `false`; enumerated values are case-sensitive.\n"
            "- An unknown key or a bad value stops start-up with `FILE:LINE: KEY: reason`.\n"
            "- Synonyms follow Kafka's precedence: `log.retention.ms` over\n"
            "  `log.retention.minutes` over `log.retention.hours`, `log.roll.ms` over\n"
            "  `log.roll.hours`, `log.dirs` over `log.dir`, whatever their order in the file.\n"
            "\n"
            "| Key | Type | Default | Valid values | Description |\n"
            "|---|---|---|---|---|\n");
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++) {
        const weir_conf_row_t *row = &weir_conf_rows[i];

        weir_conf_valid_text(row, valid, sizeof(valid));
        fprintf(out, "| `%s` | %s | ", row->name, weir_conf_type_name(row));
        if (row->def && !row->shown_def)
            fprintf(out, "`%s`", row->def);
        else
            weir_conf_md_cell(out, weir_conf_shown_default(row));
        fprintf(out, " | ");
        weir_conf_md_cell(out, valid);
        fprintf(out, " | ");
        weir_conf_md_cell(out, row->doc);
        fprintf(out, " |\n");
    }
    fprintf(out, "\n### Per-listener settings: `listener.name.<listener>.<key>`\n\n");
    weir_conf_md_cell(out, weir_conf_listener_doc);
    fputc('\n', out);
}

/* Formats the built-in default of a canonical row, which may come from one
 * of its synonyms (log.retention.ms from log.retention.hours). */
static void
weir_conf_default_text(const weir_conf_row_t *row, char *buf, size_t size)
{
    const weir_conf_row_t *src = row->def ? row : NULL;
    weir_conf_t tmp;
    weir_conf_val_t val;
    char err[256];

    for (size_t i = 0; !src && i < WEIR_CONF_NROWS; i++)
        if (weir_conf_rows[i].def && weir_conf_rows[i].canonical &&
            strcmp(weir_conf_rows[i].canonical, row->name) == 0)
            src = &weir_conf_rows[i];
    if (!src || weir_conf_parse(src, src->def, &val, err, sizeof(err)) < 0) {
        snprintf(buf, size, "%s", "");
        return;
    }
    memset(&tmp, 0, sizeof(tmp));
    weir_conf_store(&tmp, src, &val);
    weir_conf_format(&tmp, row, buf, size);
    weir_conf_free(&tmp);
}

bool
weir_conf_describe(const weir_conf_t *conf, size_t idx, const char **name, char *value,
                   size_t value_size, bool *is_default, bool *sensitive)
{
    const weir_conf_row_t *row = NULL;
    size_t k = 0;

    /* Synonyms are spellings of their canonical key, described once under it. */
    for (size_t i = 0; i < WEIR_CONF_NROWS; i++) {
        if (weir_conf_rows[i].canonical)
            continue;
        if (k++ == idx) {
            row = &weir_conf_rows[i];
            break;
        }
    }
    if (!row)
        return false;
    *name = row->name;
    *sensitive = (row->flags & CONF_F_SENSITIVE) != 0;
    if (*sensitive) {
        /* Never the value; whether it is set at all is no secret. */
        if (value_size)
            value[0] = '\0';
        *is_default = weir_conf_is_str(row) && !*(char *const *)weir_conf_cfield(conf, row);
        return true;
    }
    weir_conf_format(conf, row, value, value_size);
    if (weir_conf_is_str(row) && !*(char *const *)weir_conf_cfield(conf, row) &&
        (row->flags & CONF_F_NULLABLE)) {
        *is_default = !row->def;
    } else {
        char dv[1024];

        weir_conf_default_text(row, dv, sizeof(dv));
        *is_default = strcmp(dv, value) == 0;
    }
    return true;
}
