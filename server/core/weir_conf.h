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

/* A per-listener setting, Kafka's listener.name.<listener>.<key> (the
 * listener name lower-cased): <key> is one of the ssl.* keys or
 * sasl.enabled.mechanisms and applies to that listener instead of the
 * global value. */
typedef struct weir_conf_override_s {
    char *listener;  /* as written: the lower-cased listener name */
    char *key;       /* the key it overrides, e.g. ssl.keystore.location */
    char *value;
    int line;        /* line of the configuration file (0: not from a file) */
} weir_conf_override_t;

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
    bool log_cleaner_enable;              /* log.cleaner.enable */
    int32_t log_cleaner_threads;          /* log.cleaner.threads */
    double log_cleaner_io_max_bytes_per_second; /* log.cleaner.io.max.bytes.per.second */
    int64_t log_cleaner_dedupe_buffer_size;   /* log.cleaner.dedupe.buffer.size */
    double log_cleaner_min_cleanable_ratio;   /* log.cleaner.min.cleanable.ratio */
    int64_t log_cleaner_delete_retention_ms;  /* log.cleaner.delete.retention.ms */
    int64_t log_cleaner_min_compaction_lag_ms; /* log.cleaner.min.compaction.lag.ms */
    int64_t log_cleaner_max_compaction_lag_ms; /* log.cleaner.max.compaction.lag.ms */
    int64_t log_cleaner_backoff_ms;           /* log.cleaner.backoff.ms */
    bool auto_create_topics_enable;       /* auto.create.topics.enable */
    bool delete_topic_enable;             /* delete.topic.enable */
    int32_t message_max_bytes;            /* message.max.bytes */
    int32_t socket_request_max_bytes;     /* socket.request.max.bytes */
    int64_t connections_max_idle_ms;      /* connections.max.idle.ms */
    int32_t num_io_threads;               /* num.io.threads: worker pool size */
    int32_t group_min_session_timeout_ms; /* group.min.session.timeout.ms */
    int32_t group_max_session_timeout_ms; /* group.max.session.timeout.ms */
    int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
    int32_t group_max_size;               /* group.max.size */
    int32_t offsets_retention_minutes;    /* offsets.retention.minutes */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms */
    int32_t offset_metadata_max_bytes;    /* offset.metadata.max.bytes */
    bool acks_all_fsync;                  /* weir.produce.acks.all.fsync */
    char *log_level;                      /* weir.log.level */
    /* Security: listeners' protocols, TLS, SASL and LDAP (auth/). */
    char *listener_security_protocol_map; /* listener.security.protocol.map */
    char *ssl_keystore_type;              /* ssl.keystore.type (PEM) */
    char *ssl_keystore_location;          /* ssl.keystore.location: key + chain (PEM) */
    char *ssl_key_password;               /* ssl.key.password (NULL: key not encrypted) */
    char *ssl_truststore_type;            /* ssl.truststore.type (PEM) */
    char *ssl_truststore_location;        /* ssl.truststore.location: CA certs (PEM) */
    char *ssl_enabled_protocols;          /* ssl.enabled.protocols */
    char *ssl_cipher_suites;              /* ssl.cipher.suites (NULL: OpenSSL defaults) */
    char *ssl_client_auth;                /* ssl.client.auth: none|requested|required */
    char *ssl_principal_mapping_rules;    /* ssl.principal.mapping.rules */
    char *ssl_keystore_certificate_chain; /* ssl.keystore.certificate.chain (PEM text) */
    char *ssl_keystore_key;               /* ssl.keystore.key (PEM text; a secret) */
    char *ssl_truststore_certificates;    /* ssl.truststore.certificates (PEM text) */
    weir_conf_override_t *listener_overrides; /* listener.name.<listener>.<key> */
    size_t nlistener_overrides;
    char *sasl_enabled_mechanisms;        /* sasl.enabled.mechanisms (PLAIN) */
    int64_t connections_max_reauth_ms;    /* connections.max.reauth.ms (0: never) */
    char *super_users;                    /* super.users: User:a;Group:b */
    /* Governance (governance/weir_authz.h). */
    char *allow_everyone_if_no_acl_found; /* "true"/"false"; NULL: by the listeners */
    char *admin_group;                    /* weir.admin.group (NULL: none) */
    int32_t quota_window_num;             /* quota.window.num */
    int32_t quota_window_size_seconds;    /* quota.window.size.seconds */
    char *ldap_url;                       /* ldap.url */
    bool ldap_starttls;                   /* ldap.starttls */
    char *ldap_ca_location;               /* ldap.ca.location */
    char *ldap_user_dn_template;          /* ldap.user.dn.template */
    char *ldap_bind_dn;                   /* ldap.bind.dn */
    char *ldap_bind_password;             /* ldap.bind.password */
    char *ldap_user_search_base;          /* ldap.user.search.base */
    char *ldap_user_name_attribute;       /* ldap.user.name.attribute */
    char *ldap_user_object_class;         /* ldap.user.object.class */
    char *ldap_group_search_base;         /* ldap.group.search.base */
    char *ldap_group_object_class;        /* ldap.group.object.class */
    char *ldap_group_member_attribute;    /* ldap.group.member.attribute */
    char *ldap_group_name_attribute;      /* ldap.group.name.attribute */
    int64_t ldap_timeout_ms;              /* ldap.timeout.ms */
    int64_t ldap_cache_ttl_ms;            /* ldap.cache.ttl.ms */
    /* HTTP listeners (server/http) and the graceful stop. */
    char *http_listeners;                 /* http.listeners (NULL: no HTTP listener) */
    char *http_auth;                      /* http.auth: none|basic */
    int32_t http_max_request_bytes;       /* http.max.request.bytes */
    int32_t http_max_header_bytes;        /* http.max.header.bytes */
    int64_t http_keepalive_timeout_ms;    /* http.keepalive.timeout.ms */
    int64_t http_request_timeout_ms;      /* http.request.timeout.ms */
    int64_t shutdown_timeout_ms;          /* weir.shutdown.timeout.ms */
    /* REST Proxy consumer instances (server/http/weir_rest_consumer.c). */
    int64_t consumer_instance_timeout_ms; /* consumer.instance.timeout.ms */
    int64_t consumer_request_timeout_ms;  /* consumer.request.timeout.ms */
    int64_t consumer_request_max_bytes;   /* consumer.request.max.bytes */
} weir_conf_t;

/* Kafka's security protocols, the values of listener.security.protocol.map. */
typedef enum weir_secproto_e {
    WEIR_SECPROTO_PLAINTEXT = 0,
    WEIR_SECPROTO_SSL,
    WEIR_SECPROTO_SASL_PLAINTEXT,
    WEIR_SECPROTO_SASL_SSL,
} weir_secproto_t;

/* The security protocol of a listener name according to
 * listener.security.protocol.map, or -1 if the map does not name it. */
int weir_conf_listener_protocol(const weir_conf_t *conf, const char *name);
/* "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL". */
const char *weir_secproto_name(int proto);
/* allow.everyone.if.no.acl.found as it applies: the value set, else false
 * when any listener authenticates its clients (SASL_PLAINTEXT, SASL_SSL, or
 * SSL with ssl.client.auth requested or required) and true otherwise. */
bool weir_conf_allow_everyone(const weir_conf_t *conf);

/* One entry of a listener list ("NAME://host:port"; IPv6 hosts in brackets). */
typedef struct weir_conf_listener_s {
    char name[64];
    char host[256];
    int port;
} weir_conf_listener_t;

#define WEIR_CONF_MAX_LISTENERS 8

/* Parses "NAME://host:port,..." (listeners, advertised.listeners) into at
 * most max entries.  Returns the count, or -1 with the reason in err. */
int weir_conf_parse_listeners(const char *value, weir_conf_listener_t *out, int max, char *err,
                              size_t errsz);

/* The value of a string key for one listener: its
 * listener.name.<lower-cased name>.<key> override if set, else the global
 * key's value (NULL when unset).  The key store and the trust store are
 * each taken as a whole: a listener that sets ssl.keystore.location or the
 * PEM key store keys (ssl.keystore.certificate.chain, ssl.keystore.key)
 * gets none of the other form from the global keys, and the same for
 * ssl.truststore.location and ssl.truststore.certificates. */
const char *weir_conf_listener_value(const weir_conf_t *conf, const char *listener,
                                     const char *key);
/* True if the listener has at least one listener.name.* override. */
bool weir_conf_listener_has_overrides(const weir_conf_t *conf, const char *listener);

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
