/*
 * weir_broker.h: the broker - the loop's state: listeners, connections, the
 * topic catalogue with each partition's log, and housekeeping timers.  Owned
 * by the loop thread; no locks.
 *
 * Topic metadata changes are explicit operations (create, delete, add
 * partitions, set configs) applied to the catalogue and persisted in the
 * SQLite store, so they can go through a replicated log later.
 */
#ifndef WEIR_BROKER_H
#define WEIR_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "weir_conf.h"
#include "weir_conn.h"
#include "weir_plog.h"
#include "weir_store.h"
#include "weir_topic_config.h"

/* Something waiting for appends to a partition (a long-polling Fetch).
 * on_append gets the bytes appended, or -1 when the partition goes away (the
 * waiter is then already unlinked).  on_append must not link or unlink
 * waiters: it may only schedule work for a later loop iteration. */
typedef struct weir_waiter_s {
    struct weir_waiter_s *prev, *next;
    void (*on_append)(struct weir_waiter_s *w, int64_t bytes);
} weir_waiter_t;

typedef struct weir_topic_s weir_topic_t;
typedef struct weir_principal_map_s weir_principal_map_t;
typedef struct weir_http_server_s weir_http_server_t;
typedef struct weir_tls_conf_s weir_tls_conf_t;
typedef struct weir_ldap_s weir_ldap_t;
typedef struct weir_coord_s weir_coord_t;

typedef struct weir_partition_s {
    weir_topic_t *topic;
    int32_t id;
    weir_plog_t *log;
    weir_waiter_t waiters; /* sentinel of a circular list */
} weir_partition_t;

struct weir_topic_s {
    char *name;
    char topic_id[23];        /* base64url of a random 16-byte UUID */
    int32_t npartitions;
    weir_partition_t **partitions;
    weir_kvlist_t configs;    /* overrides only */
    weir_log_config_t lcfg;   /* effective settings */
    /* Traffic for /metrics (server/metrics), loop thread only: record
     * bytes and records appended by Produce and sent by Fetch. */
    uint64_t bytes_in, bytes_out, records_in, records_out;
};

struct weir_broker_s {
    uv_loop_t *loop;
    weir_conf_t *conf;
    weir_store_t *store;
    char *log_dir;
    char cluster_id[23];
    int32_t node_id;
    int lock_fd;
    bool recover;             /* last shutdown was not clean */
    bool stopping;
    bool opened;              /* init completed: stop may mark a clean shutdown */
    /* Graceful stop (weir_broker_shutdown): requests in progress finish. */
    bool draining;
    bool drain_timer_open;
    uv_timer_t drain_timer;
    int64_t drain_deadline_ms;
    int64_t drain_start_ms;
    void (*on_stopped)(void *arg);
    void *on_stopped_arg;
    const char *config_path;  /* the -c file, re-read on SIGHUP (NULL: embedded defaults) */
    int64_t start_wall_ms;    /* when the broker started (weir_start_time_seconds) */
    weir_http_server_t *http; /* HTTP listeners and routes (server/http) */

    weir_listener_t *listeners;
    size_t nlisteners;

    /* Security (auth/): client-certificate subject mapping, the LDAP checker
     * of SASL/PLAIN sign-ons, and super.users for the authorizer. */
    weir_principal_map_t *principal_map;
    weir_ldap_t *ldap;
    weir_principal_ref_t *super_users;
    size_t nsuper_users;

    weir_conn_t *conns;
    size_t nconns;
    uint64_t conn_seq;

    weir_topic_t **topics;    /* sorted by name */
    size_t ntopics, topics_cap;

    weir_coord_t *coord;      /* consumer groups and offsets (group/weir_group.h) */
    struct weir_authz_s *authz; /* ACLs, tenants, quotas, audit (governance/weir_authz.h) */
    struct weir_registry_s *registry;           /* Schema Registry (registry/weir_registry.h) */
    struct weir_registry_http_s *registry_http; /* its REST routes on http */
    /* broker-side schema validation on Produce (registry/weir_avro_validate.h) */
    struct weir_schema_validator_s *schema_validator;
    struct weir_admin_api_s *admin_api;         /* /admin/v1 routes (http/weir_admin_api.h) */
    struct weir_rest_consumer_s *rest_consumer; /* REST Proxy consumer instances
                                                 * (http/weir_rest_consumer.h) */
    struct weir_rest_proxy_s *rest_proxy;       /* REST proxy produce (http/weir_rest_proxy.h) */

    uv_timer_t housekeeping;
    int64_t last_retention_ms;
    int64_t pid_next, pid_end; /* reserved producer-id block */
    struct weir_cleaner_s *cleaner; /* log compaction (storage/weir_cleaner.h) */
};

/* Opens the data directory (lock, meta.properties, clean-shutdown marker),
 * the store, and every topic's partition logs (recovering them after an
 * unclean shutdown).  Returns 0 or an error with errstr set. */
int weir_broker_init(weir_broker_t *brk, uv_loop_t *loop, weir_conf_t *conf, char *errstr,
                     size_t errstr_size);
/* Binds the listeners and starts housekeeping. */
int weir_broker_start(weir_broker_t *brk, char *errstr, size_t errstr_size);
/* Graceful stop: stop accepting, close connections, flush and close logs,
 * mark the shutdown clean.  The loop then runs to completion. */
void weir_broker_stop(weir_broker_t *brk);
/* SIGTERM: stops accepting connections and taking requests, answers waiting
 * fetches and group joins at once, lets the requests in progress finish for
 * at most weir.shutdown.timeout.ms, then weir_broker_stop().  on_stopped
 * (may be NULL) runs after that.  Called again while draining, it stops at
 * once. */
void weir_broker_shutdown(weir_broker_t *brk, void (*on_stopped)(void *arg), void *arg);
/* Frees what remains after the loop has finished. */
void weir_broker_free(weir_broker_t *brk);
/* SIGHUP: reads the configuration file (brk->config_path) again and, when
 * it reads cleanly, takes weir.log.level, the TLS settings (ssl.*, the
 * listener.name.* overrides) and the LDAP TLS settings (ldap.starttls,
 * ldap.ca.location) from it; then re-reads the certificates, keys and trust
 * stores into new contexts for new connections (open ones keep theirs; on
 * an error the old context stays), rebuilds the principal mapping rules,
 * and empties the LDAP sign-on cache.  A file that does not read cleanly
 * leaves the settings as they were (their files are still re-read). */
void weir_broker_reload(weir_broker_t *brk);
/* The global TLS settings (ssl.*) of a configuration, for server contexts
 * (HTTPS listeners). */
void weir_broker_tls_conf(const weir_conf_t *conf, weir_tls_conf_t *tc);
/* The TLS settings of one Kafka listener: its listener.name.<name>.ssl.*
 * overrides over the global keys.  tc points into conf. */
void weir_broker_listener_tls_conf(const weir_conf_t *conf, const char *listener,
                                   weir_tls_conf_t *tc);

void weir_broker_conn_add(weir_broker_t *brk, weir_conn_t *conn);
void weir_broker_conn_remove(weir_broker_t *brk, weir_conn_t *conn);

/* Kafka's rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
weir_kerr_t weir_topic_name_validate(const char *name, size_t len, char *errstr, size_t errstr_size);

weir_topic_t *weir_broker_topic_find(weir_broker_t *brk, const char *name, size_t len);
weir_partition_t *weir_broker_partition(weir_broker_t *brk, weir_str_t topic, int32_t partition);

/* Creates a topic (validate_only: only checks).  Errors: INVALID_TOPIC_EXCEPTION,
 * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_CONFIG,
 * KAFKA_STORAGE_ERROR; errstr gets a message. */
weir_kerr_t weir_broker_topic_create(weir_broker_t *brk, const char *name, int32_t npartitions,
                                     const weir_kvlist_t *configs, bool validate_only,
                                     char *errstr, size_t errstr_size, weir_topic_t **out);
weir_kerr_t weir_broker_topic_delete(weir_broker_t *brk, weir_topic_t *t, char *errstr,
                                     size_t errstr_size);
weir_kerr_t weir_broker_topic_add_partitions(weir_broker_t *brk, weir_topic_t *t, int32_t total,
                                             bool validate_only, char *errstr, size_t errstr_size);
/* Replaces a topic's overrides (already validated key by key). */
weir_kerr_t weir_broker_topic_set_configs(weir_broker_t *brk, weir_topic_t *t,
                                          const weir_kvlist_t *configs, bool validate_only,
                                          char *errstr, size_t errstr_size);

/* Tells waiters on p that bytes were appended. */
void weir_broker_notify_append(weir_partition_t *p, int64_t bytes);

/* A new producer id, or -1 if the store failed. */
int64_t weir_broker_next_producer_id(weir_broker_t *brk);

/* The listener a connection arrived on, for advertised addresses. */
const weir_listener_t *weir_broker_listener(weir_broker_t *brk, size_t idx);

#endif
