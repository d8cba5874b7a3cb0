/*
 * weir_broker.c: start-up (data directory, store, topic catalogue, listeners),
 * topic metadata operations, housekeeping and graceful stop.
 */
#include "weir_broker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "group/weir_group.h"
#include "weir_authz.h"
#include "weir_cleaner.h"
#include "weir_common.h"
#include "weir_http.h"
#include "weir_ldap.h"
#include "weir_log.h"
#include "weir_metrics.h"
#include "weir_principal_map.h"
#include "weir_avro_validate.h"
#include "weir_registry.h"
#include "weir_admin_api.h"
#include "weir_registry_http.h"
#include "weir_rest_proxy.h"
#include "weir_rest_consumer.h"
#include "weir_store_governance.h"
#include "weir_tenant.h"
#include "weir_tls.h"

#define WEIR_CLEAN_SHUTDOWN_FILE ".kafka_cleanshutdown"
#define WEIR_HOUSEKEEPING_MS 1000
#define WEIR_PID_BLOCK 1000
#define WEIR_MAX_PARTITIONS 100000

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

static void
weir_random_id(char out[23])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[16];
    uint32_t acc = 0;
    int bits = 0, o = 0;

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (uint8_t)(rand() ^ (int)weir_mono_us());
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            out[o++] = b64[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits > 0)
        out[o++] = b64[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

static char *
weir_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = weir_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *
weir_partition_dir(weir_broker_t *brk, const char *topic, int32_t id)
{
    size_t n = strlen(brk->log_dir) + strlen(topic) + 16;
    char *p = weir_malloc(n);
    snprintf(p, n, "%s/%s-%d", brk->log_dir, topic, id);
    return p;
}

static int
weir_mkdirs(const char *path)
{
    char *p = weir_strdup(path);
    int rc = 0;

    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0750) != 0 && errno != EEXIST)
            rc = -errno;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0750) != 0 && errno != EEXIST)
        rc = -errno;
    free(p);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Topic catalogue                                                    */

weir_kerr_t
weir_topic_name_validate(const char *name, size_t len, char *errstr, size_t errstr_size)
{
    if (len == 0 || len > 249) {
        snprintf(errstr, errstr_size, "topic name must be 1 to 249 characters long");
        return WEIR_KERR_INVALID_TOPIC_EXCEPTION;
    }
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
        snprintf(errstr, errstr_size, "topic name cannot be \".\" or \"..\"");
        return WEIR_KERR_INVALID_TOPIC_EXCEPTION;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            snprintf(errstr, errstr_size,
                     "topic name contains a character other than ASCII alphanumerics, '.', '_' "
                     "and '-'");
            return WEIR_KERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    return WEIR_KERR_NONE;
}

static int
weir_topic_cmp(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    int c = memcmp(a, b, WEIR_MIN(alen, blen));
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Binary search; returns the index of name or where it would be inserted. */
static size_t
weir_topic_index(weir_broker_t *brk, const char *name, size_t len, bool *found)
{
    size_t lo = 0, hi = brk->ntopics;

    *found = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = weir_topic_cmp(name, len, brk->topics[mid]->name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

weir_topic_t *
weir_broker_topic_find(weir_broker_t *brk, const char *name, size_t len)
{
    bool found;
    size_t i = weir_topic_index(brk, name, len, &found);
    return found ? brk->topics[i] : NULL;
}

weir_partition_t *
weir_broker_partition(weir_broker_t *brk, weir_str_t topic, int32_t partition)
{
    weir_topic_t *t;

    if (topic.len <= 0)
        return NULL;
    t = weir_broker_topic_find(brk, topic.ptr, (size_t)topic.len);
    if (!t || partition < 0 || partition >= t->npartitions)
        return NULL;
    return t->partitions[partition];
}

static void
weir_topic_insert(weir_broker_t *brk, weir_topic_t *t)
{
    bool found;
    size_t i = weir_topic_index(brk, t->name, strlen(t->name), &found);

    if (brk->ntopics == brk->topics_cap) {
        brk->topics_cap = brk->topics_cap ? brk->topics_cap * 2 : 16;
        brk->topics = weir_realloc(brk->topics, brk->topics_cap * sizeof(*brk->topics));
    }
    memmove(&brk->topics[i + 1], &brk->topics[i], (brk->ntopics - i) * sizeof(*brk->topics));
    brk->topics[i] = t;
    brk->ntopics++;
}

static void
weir_topic_unlink(weir_broker_t *brk, weir_topic_t *t)
{
    bool found;
    size_t i = weir_topic_index(brk, t->name, strlen(t->name), &found);

    if (!found)
        return;
    memmove(&brk->topics[i], &brk->topics[i + 1], (brk->ntopics - i - 1) * sizeof(*brk->topics));
    brk->ntopics--;
}

/* The partition is going away: unlink every waiter, then tell it. */
static void
weir_partition_wake_all(weir_partition_t *p, int64_t bytes)
{
    while (p->waiters.next != &p->waiters) {
        weir_waiter_t *w = p->waiters.next;
        w->prev->next = w->next;
        w->next->prev = w->prev;
        w->prev = w->next = w;
        w->on_append(w, bytes);
    }
}

void
weir_broker_notify_append(weir_partition_t *p, int64_t bytes)
{
    weir_waiter_t *w = p->waiters.next;

    while (w != &p->waiters) {
        weir_waiter_t *next = w->next;
        w->on_append(w, bytes);
        w = next;
    }
}

/* Opens partition id of t (its log directory is created if needed). */
static int
weir_partition_open(weir_broker_t *brk, weir_topic_t *t, int32_t id, char *errstr,
                    size_t errstr_size)
{
    weir_partition_t *p = weir_calloc(1, sizeof(*p));
    char *dir = weir_partition_dir(brk, t->name, id);
    int rc;

    p->topic = t;
    p->id = id;
    p->waiters.next = p->waiters.prev = &p->waiters;
    rc = weir_plog_open(brk->loop, dir, &t->lcfg, brk->recover, &p->log, errstr, errstr_size);
    free(dir);
    if (rc != 0) {
        free(p);
        return rc;
    }
    t->partitions[id] = p;
    return 0;
}

static weir_topic_t *
weir_topic_new(weir_broker_t *brk, const char *name, const char *topic_id, int32_t npartitions,
               const weir_kvlist_t *configs)
{
    weir_topic_t *t = weir_calloc(1, sizeof(*t));

    t->name = weir_strdup(name);
    if (topic_id)
        snprintf(t->topic_id, sizeof(t->topic_id), "%s", topic_id);
    else
        weir_random_id(t->topic_id);
    t->npartitions = npartitions;
    t->partitions = weir_calloc((size_t)npartitions, sizeof(*t->partitions));
    if (configs)
        weir_kvlist_copy(&t->configs, configs);
    weir_topic_config_resolve(brk->conf, &t->configs, &t->lcfg);
    return t;
}

/* Frees a topic whose partitions are already closed or deleted. */
static void
weir_topic_free(weir_topic_t *t)
{
    for (int32_t i = 0; i < t->npartitions; i++)
        free(t->partitions[i]);
    free(t->partitions);
    weir_kvlist_free(&t->configs);
    free(t->name);
    free(t);
}

static void
weir_topic_close(weir_topic_t *t)
{
    for (int32_t i = 0; i < t->npartitions; i++) {
        weir_partition_t *p = t->partitions[i];
        if (!p)
            continue;
        weir_partition_wake_all(p, -1);
        if (p->log)
            weir_plog_close(p->log);
        p->log = NULL;
    }
    weir_topic_free(t);
}

static weir_kerr_t
weir_configs_validate(const weir_kvlist_t *configs, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; configs && i < configs->count; i++) {
        weir_kerr_t err = weir_topic_config_validate(configs->items[i].key,
                                                     configs->items[i].value, errstr, errstr_size);
        if (err)
            return err;
    }
    return WEIR_KERR_NONE;
}

weir_kerr_t
weir_broker_topic_create(weir_broker_t *brk, const char *name, int32_t npartitions,
                         const weir_kvlist_t *configs, bool validate_only, char *errstr,
                         size_t errstr_size, weir_topic_t **out)
{
    weir_topic_t *t;
    weir_kerr_t err;
    size_t len = strlen(name);

    if (out)
        *out = NULL;
    err = weir_topic_name_validate(name, len, errstr, errstr_size);
    if (err)
        return err;
    if (weir_broker_topic_find(brk, name, len)) {
        snprintf(errstr, errstr_size, "topic '%s' already exists", name);
        return WEIR_KERR_TOPIC_ALREADY_EXISTS;
    }
    /* Kafka refuses names that collide once '.' and '_' are confused,
     * because metric names cannot tell them apart. */
    for (size_t i = 0; i < brk->ntopics; i++) {
        const char *o = brk->topics[i]->name;
        size_t j;
        if (strlen(o) != len)
            continue;
        for (j = 0; j < len; j++) {
            char a = name[j] == '.' ? '_' : name[j], b = o[j] == '.' ? '_' : o[j];
            if (a != b)
                break;
        }
        if (j == len) {
            snprintf(errstr, errstr_size, "topic '%s' collides with existing topic '%s'", name, o);
            return WEIR_KERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    if (npartitions < 1 || npartitions > WEIR_MAX_PARTITIONS) {
        snprintf(errstr, errstr_size, "number of partitions must be between 1 and %d",
                 WEIR_MAX_PARTITIONS);
        return WEIR_KERR_INVALID_PARTITIONS;
    }
    err = weir_configs_validate(configs, errstr, errstr_size);
    if (err || validate_only)
        return err;

    t = weir_topic_new(brk, name, NULL, npartitions, configs);
    for (int32_t i = 0; i < npartitions; i++) {
        if (weir_partition_open(brk, t, i, errstr, errstr_size) != 0) {
            for (int32_t j = 0; j < i; j++) {
                weir_plog_delete(t->partitions[j]->log);
                t->partitions[j]->log = NULL;
            }
            weir_topic_free(t);
            return WEIR_KERR_KAFKA_STORAGE_ERROR;
        }
    }
    if (weir_store_topic_create(brk->store, t->name, t->topic_id, npartitions, &t->configs) != 0) {
        snprintf(errstr, errstr_size, "could not record topic '%s' in the store", name);
        for (int32_t j = 0; j < npartitions; j++) {
            weir_plog_delete(t->partitions[j]->log);
            t->partitions[j]->log = NULL;
        }
        weir_topic_free(t);
        return WEIR_KERR_KAFKA_STORAGE_ERROR;
    }
    weir_topic_insert(brk, t);
    WEIR_LOG(WEIR_LOG_INFO, "topic_created", "topic=%s partitions=%d topic_id=%s", t->name,
             npartitions, t->topic_id);
    if (out)
        *out = t;
    return WEIR_KERR_NONE;
}

weir_kerr_t
weir_broker_topic_delete(weir_broker_t *brk, weir_topic_t *t, char *errstr, size_t errstr_size)
{
    if (!brk->conf->delete_topic_enable) {
        snprintf(errstr, errstr_size, "topic deletion is disabled (delete.topic.enable=false)");
        return WEIR_KERR_TOPIC_DELETION_DISABLED;
    }
    if (weir_store_topic_delete(brk->store, t->name) != 0) {
        snprintf(errstr, errstr_size, "could not remove topic '%s' from the store", t->name);
        return WEIR_KERR_KAFKA_STORAGE_ERROR;
    }
    weir_topic_unlink(brk, t);
    if (brk->coord)
        weir_coord_topic_deleted(brk->coord, t->name);
    WEIR_LOG(WEIR_LOG_INFO, "topic_deleted", "topic=%s partitions=%d", t->name, t->npartitions);
    for (int32_t i = 0; i < t->npartitions; i++) {
        weir_partition_t *p = t->partitions[i];
        weir_partition_wake_all(p, -1);
        weir_plog_delete(p->log);
        p->log = NULL;
    }
    weir_topic_free(t);
    return WEIR_KERR_NONE;
}

weir_kerr_t
weir_broker_topic_add_partitions(weir_broker_t *brk, weir_topic_t *t, int32_t total,
                                 bool validate_only, char *errstr, size_t errstr_size)
{
    int32_t old = t->npartitions;

    if (total <= old) {
        snprintf(errstr, errstr_size, "topic currently has %d partitions, which is higher than "
                 "or equal to the requested %d", old, total);
        return WEIR_KERR_INVALID_PARTITIONS;
    }
    if (total > WEIR_MAX_PARTITIONS) {
        snprintf(errstr, errstr_size, "number of partitions must be at most %d",
                 WEIR_MAX_PARTITIONS);
        return WEIR_KERR_INVALID_PARTITIONS;
    }
    if (validate_only)
        return WEIR_KERR_NONE;
    t->partitions = weir_realloc(t->partitions, (size_t)total * sizeof(*t->partitions));
    for (int32_t i = old; i < total; i++) {
        t->partitions[i] = NULL;
        if (weir_partition_open(brk, t, i, errstr, errstr_size) != 0) {
            for (int32_t j = old; j < i; j++) {
                weir_plog_delete(t->partitions[j]->log);
                free(t->partitions[j]);
            }
            return WEIR_KERR_KAFKA_STORAGE_ERROR;
        }
    }
    if (weir_store_topic_set_partitions(brk->store, t->name, total) != 0) {
        snprintf(errstr, errstr_size, "could not record the new partition count");
        for (int32_t j = old; j < total; j++) {
            weir_plog_delete(t->partitions[j]->log);
            free(t->partitions[j]);
        }
        return WEIR_KERR_KAFKA_STORAGE_ERROR;
    }
    t->npartitions = total;
    WEIR_LOG(WEIR_LOG_INFO, "partitions_created", "topic=%s partitions=%d previous=%d", t->name,
             total, old);
    return WEIR_KERR_NONE;
}

weir_kerr_t
weir_broker_topic_set_configs(weir_broker_t *brk, weir_topic_t *t, const weir_kvlist_t *configs,
                              bool validate_only, char *errstr, size_t errstr_size)
{
    weir_kerr_t err = weir_configs_validate(configs, errstr, errstr_size);

    if (err || validate_only)
        return err;
    if (weir_store_topic_set_configs(brk->store, t->name, configs) != 0) {
        snprintf(errstr, errstr_size, "could not record the configuration in the store");
        return WEIR_KERR_KAFKA_STORAGE_ERROR;
    }
    weir_kvlist_free(&t->configs);
    weir_kvlist_copy(&t->configs, configs);
    weir_topic_config_resolve(brk->conf, &t->configs, &t->lcfg);
    for (int32_t i = 0; i < t->npartitions; i++)
        weir_plog_set_config(t->partitions[i]->log, &t->lcfg);
    WEIR_LOG(WEIR_LOG_INFO, "topic_configs_altered", "topic=%s overrides=%zu", t->name,
             t->configs.count);
    return WEIR_KERR_NONE;
}

int64_t
weir_broker_next_producer_id(weir_broker_t *brk)
{
    if (brk->pid_next >= brk->pid_end) {
        int64_t first = weir_store_reserve_producer_ids(brk->store, WEIR_PID_BLOCK);
        if (first < 0)
            return -1;
        brk->pid_next = first;
        brk->pid_end = first + WEIR_PID_BLOCK;
    }
    return brk->pid_next++;
}

/* ------------------------------------------------------------------ */
/* Connections                                                        */

void
weir_broker_conn_add(weir_broker_t *brk, weir_conn_t *conn)
{
    conn->prev = NULL;
    conn->next = brk->conns;
    if (brk->conns)
        brk->conns->prev = conn;
    brk->conns = conn;
    brk->nconns++;
}

void
weir_broker_conn_remove(weir_broker_t *brk, weir_conn_t *conn)
{
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        brk->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
    brk->nconns--;
}

const weir_listener_t *
weir_broker_listener(weir_broker_t *brk, size_t idx)
{
    return idx < brk->nlisteners ? &brk->listeners[idx] : NULL;
}

/* ------------------------------------------------------------------ */
/* Start-up                                                           */

/* Reads or creates <log dir>/meta.properties (version, node.id, cluster.id)
 * as Kafka keeps it; a node.id mismatch refuses to start. */
static int
weir_broker_meta_properties(weir_broker_t *brk, char *errstr, size_t errstr_size)
{
    char *path = weir_path(brk->log_dir, "meta.properties");
    FILE *f = fopen(path, "r");
    char line[512];
    int rc = 0;

    brk->cluster_id[0] = '\0';
    if (f) {
        int32_t node = -1;
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (strncmp(line, "cluster.id=", 11) == 0 && strlen(line + 11) < sizeof(brk->cluster_id))
                memcpy(brk->cluster_id, line + 11, strlen(line + 11) + 1);
            else if (strncmp(line, "node.id=", 8) == 0)
                node = (int32_t)atol(line + 8);
        }
        fclose(f);
        if (node != -1 && node != brk->node_id) {
            snprintf(errstr, errstr_size, "%s: stored node.id=%d does not match configured "
                     "node.id=%d", path, node, brk->node_id);
            rc = WEIR_ERR;
        }
    }
    if (rc == 0 && !brk->cluster_id[0]) {
        char *tmp = weir_path(brk->log_dir, "meta.properties.tmp");
        weir_random_id(brk->cluster_id);
        f = fopen(tmp, "w");
        if (!f) {
            snprintf(errstr, errstr_size, "cannot write %s: %s", tmp, strerror(errno));
            rc = WEIR_ERR;
        } else {
            fprintf(f, "#\n#Written by Weir\nversion=1\nnode.id=%d\ncluster.id=%s\n",
                    brk->node_id, brk->cluster_id);
            if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
                rename(tmp, path) != 0) {
                snprintf(errstr, errstr_size, "cannot write %s: %s", path, strerror(errno));
                rc = WEIR_ERR;
            }
        }
        free(tmp);
    }
    free(path);
    return rc;
}

typedef struct weir_load_ctx_s {
    weir_broker_t *brk;
    int rc;
    char *errstr;
    size_t errstr_size;
} weir_load_ctx_t;

static void
weir_broker_load_topic(void *arg, const char *name, const char *topic_id, int32_t partitions,
                       const weir_kvlist_t *configs)
{
    weir_load_ctx_t *ctx = arg;
    weir_broker_t *brk = ctx->brk;
    weir_topic_t *t;

    if (ctx->rc != 0)
        return;
    t = weir_topic_new(brk, name, topic_id, partitions, configs);
    for (int32_t i = 0; i < partitions; i++) {
        if (weir_partition_open(brk, t, i, ctx->errstr, ctx->errstr_size) != 0) {
            ctx->rc = WEIR_ERR;
            for (int32_t j = 0; j < i; j++) {
                weir_plog_close(t->partitions[j]->log);
                t->partitions[j]->log = NULL;
            }
            weir_topic_free(t);
            return;
        }
    }
    weir_topic_insert(brk, t);
}

/* Removes leftovers of deletions interrupted by a crash (<dir>.<id>-delete),
 * and reports partition directories the store does not know. */
static void
weir_broker_scan_log_dir(weir_broker_t *brk)
{
    DIR *d = opendir(brk->log_dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char *dash;
        if (de->d_name[0] == '.')
            continue;
        if (n > 7 && strcmp(de->d_name + n - 7, "-delete") == 0) {
            char *path = weir_path(brk->log_dir, de->d_name);
            DIR *sd = opendir(path);
            if (sd) {
                struct dirent *se;
                while ((se = readdir(sd)) != NULL) {
                    if (se->d_name[0] == '.')
                        continue;
                    char *fp = weir_path(path, se->d_name);
                    unlink(fp);
                    free(fp);
                }
                closedir(sd);
            }
            rmdir(path);
            free(path);
            continue;
        }
        dash = strrchr(de->d_name, '-');
        if (de->d_type == DT_DIR && dash && dash != de->d_name &&
            !weir_broker_topic_find(brk, de->d_name, (size_t)(dash - de->d_name)))
            WEIR_LOG(WEIR_LOG_WARN, "unknown_partition_dir",
                     "dir=%s/%s note=\"not in the topic catalogue; left untouched\"",
                     brk->log_dir, de->d_name);
    }
    closedir(d);
}

int
weir_broker_init(weir_broker_t *brk, uv_loop_t *loop, weir_conf_t *conf, char *errstr,
                 size_t errstr_size)
{
    char *path;
    int rc;
    weir_load_ctx_t ctx;

    memset(brk, 0, sizeof(*brk));
    brk->loop = loop;
    brk->conf = conf;
    brk->node_id = conf->node_id;
    brk->lock_fd = -1;
    brk->log_dir = weir_strdup(conf->log_dirs);

    rc = weir_mkdirs(brk->log_dir);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "cannot create log directory %s: %s", brk->log_dir,
                 strerror(-rc));
        return WEIR_ERR;
    }
    /* One broker per data directory: the lock file holds the owner's pid. */
    path = weir_path(brk->log_dir, ".lock");
    brk->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (brk->lock_fd < 0 || flock(brk->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char owner[32] = "";

        if (brk->lock_fd >= 0) {
            ssize_t n = pread(brk->lock_fd, owner, sizeof(owner) - 1, 0);
            owner[n > 0 ? n : 0] = '\0';
            owner[strcspn(owner, "\r\n")] = '\0';
        }
        if (err == EWOULDBLOCK && owner[0])
            snprintf(errstr, errstr_size, "cannot lock %s: data directory %s is in use by "
                     "another weir (pid %s)", path, brk->log_dir, owner);
        else
            snprintf(errstr, errstr_size, "cannot lock %s: %s (is another weir using %s?)", path,
                     strerror(err), brk->log_dir);
        free(path);
        return WEIR_ERR;
    }
    if (ftruncate(brk->lock_fd, 0) == 0) {
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (pwrite(brk->lock_fd, pid, (size_t)n, 0) != n)
            WEIR_LOG(WEIR_LOG_WARN, "lock_pid_not_written", "path=%s", path);
    }
    free(path);
    if (weir_broker_meta_properties(brk, errstr, errstr_size) != 0)
        return WEIR_ERR;

    path = weir_path(brk->log_dir, WEIR_CLEAN_SHUTDOWN_FILE);
    brk->recover = access(path, F_OK) != 0;
    unlink(path);
    free(path);

    path = weir_path(brk->log_dir, "weir.db");
    rc = weir_store_open(path, &brk->store, errstr, errstr_size);
    free(path);
    if (rc != 0)
        return WEIR_ERR;

    ctx.brk = brk;
    ctx.rc = 0;
    ctx.errstr = errstr;
    ctx.errstr_size = errstr_size;
    if (weir_store_topics_load(brk->store, weir_broker_load_topic, &ctx) != 0 && ctx.rc == 0) {
        snprintf(errstr, errstr_size, "cannot read the topic catalogue");
        return WEIR_ERR;
    }
    if (ctx.rc != 0)
        return WEIR_ERR;
    /* The Schema Registry's subjects and schemas, from the same store. */
    if (weir_registry_open(brk->store, &brk->registry, errstr, errstr_size) != 0)
        return WEIR_ERR;
    brk->schema_validator = weir_schema_validator_new(brk->registry);
    weir_broker_scan_log_dir(brk);
    path = weir_path(brk->log_dir, "weir.db");
    rc = weir_coord_open(loop, conf, path, &brk->coord, errstr, errstr_size);
    free(path);
    if (rc != 0)
        return WEIR_ERR;
    brk->opened = true;
    WEIR_LOG(WEIR_LOG_INFO, "logs_loaded", "log_dir=%s topics=%zu recovery=%s cluster_id=%s",
             brk->log_dir, brk->ntopics, brk->recover ? "yes" : "no", brk->cluster_id);
    return 0;
}

/* The listeners of a listener list (already checked by weir_conf_check). */
static int
weir_listeners_parse(const char *spec, weir_listener_t **out, size_t *n, char *errstr,
                     size_t errstr_size)
{
    weir_conf_listener_t l[WEIR_CONF_MAX_LISTENERS];
    weir_listener_t *arr;
    int cnt = weir_conf_parse_listeners(spec, l, WEIR_CONF_MAX_LISTENERS, errstr, errstr_size);

    if (cnt < 0)
        return WEIR_ERR;
    arr = weir_calloc((size_t)cnt, sizeof(*arr));
    for (int i = 0; i < cnt; i++) {
        arr[i].name = weir_strdup(l[i].name);
        arr[i].host = weir_strdup(l[i].host);
        arr[i].port = l[i].port;
        arr[i].fd = -1;
    }
    *out = arr;
    *n = (size_t)cnt;
    return 0;
}

static void weir_broker_drain_closed(uv_handle_t *h);

static void
weir_broker_housekeeping(uv_timer_t *timer)
{
    weir_broker_t *brk = timer->data;
    int64_t now = weir_wall_ms(), mono = weir_mono_ms();
    bool retention = now - brk->last_retention_ms >= brk->conf->log_retention_check_interval_ms;
    weir_conn_t *c, *next;

    bool clean = brk->cleaner && weir_cleaner_round_begin(brk->cleaner, now);

    if (retention)
        brk->last_retention_ms = now;
    for (size_t i = 0; i < brk->ntopics; i++) {
        weir_topic_t *t = brk->topics[i];
        for (int32_t j = 0; j < t->npartitions; j++) {
            weir_plog_tick(t->partitions[j]->log, now);
            if (retention)
                weir_plog_enforce_retention(t->partitions[j]->log, now);
            if (clean)
                weir_cleaner_offer(brk->cleaner, t->partitions[j]->log, now);
        }
    }
    if (clean)
        weir_cleaner_round_end(brk->cleaner, now);
    /* Idle and request timeouts, per protocol (Kafka: connections.max.idle.ms). */
    for (c = brk->conns; c; c = next) {
        next = c->next;
        weir_conn_tick(c, mono);
    }
}

static weir_tls_client_auth_t
weir_broker_client_auth(const char *v)
{
    if (v && strcmp(v, "requested") == 0)
        return WEIR_TLS_CLIENT_AUTH_REQUESTED;
    if (v && strcmp(v, "required") == 0)
        return WEIR_TLS_CLIENT_AUTH_REQUIRED;
    return WEIR_TLS_CLIENT_AUTH_NONE;
}

/* The TLS settings of the configuration. */
void
weir_broker_tls_conf(const weir_conf_t *conf, weir_tls_conf_t *tc)
{
    memset(tc, 0, sizeof(*tc));
    tc->keystore_location = conf->ssl_keystore_location;
    tc->keystore_certificate_chain = conf->ssl_keystore_certificate_chain;
    tc->keystore_key = conf->ssl_keystore_key;
    tc->key_password = conf->ssl_key_password;
    tc->truststore_location = conf->ssl_truststore_location;
    tc->truststore_certificates = conf->ssl_truststore_certificates;
    tc->enabled_protocols = conf->ssl_enabled_protocols;
    tc->cipher_suites = conf->ssl_cipher_suites;
    tc->client_auth = weir_broker_client_auth(conf->ssl_client_auth);
}

void
weir_broker_listener_tls_conf(const weir_conf_t *conf, const char *listener,
                              weir_tls_conf_t *tc)
{
    memset(tc, 0, sizeof(*tc));
    tc->keystore_location = weir_conf_listener_value(conf, listener, "ssl.keystore.location");
    tc->keystore_certificate_chain =
        weir_conf_listener_value(conf, listener, "ssl.keystore.certificate.chain");
    tc->keystore_key = weir_conf_listener_value(conf, listener, "ssl.keystore.key");
    tc->key_password = weir_conf_listener_value(conf, listener, "ssl.key.password");
    tc->truststore_location = weir_conf_listener_value(conf, listener, "ssl.truststore.location");
    tc->truststore_certificates =
        weir_conf_listener_value(conf, listener, "ssl.truststore.certificates");
    tc->enabled_protocols = weir_conf_listener_value(conf, listener, "ssl.enabled.protocols");
    tc->cipher_suites = weir_conf_listener_value(conf, listener, "ssl.cipher.suites");
    tc->client_auth =
        weir_broker_client_auth(weir_conf_listener_value(conf, listener, "ssl.client.auth"));
}

/* A TLS listener's context and principal mapping rules from conf.  Returns
 * 0, or -1 with the reason in err (nothing is changed then). */
static int
weir_broker_listener_tls(const weir_conf_t *conf, weir_listener_t *l, char *err, size_t errsz)
{
    weir_tls_conf_t tc;
    weir_ssl_ctx_t *ctx;
    weir_principal_map_t *map;
    const char *rules = weir_conf_listener_value(conf, l->name, "ssl.principal.mapping.rules");

    weir_broker_listener_tls_conf(conf, l->name, &tc);
    if (weir_principal_map_parse(rules ? rules : "DEFAULT", &map, err, errsz) != 0)
        return -1;
    ctx = weir_tls_ctx_new(&tc, err, errsz);
    if (!ctx) {
        weir_principal_map_free(map);
        return -1;
    }
    /* Open connections hold their own references to the old context; the
     * rules are only used on the loop thread, when a handshake completes. */
    weir_tls_ctx_free(l->ssl_ctx);
    l->ssl_ctx = ctx;
    weir_principal_map_free(l->principal_map);
    l->principal_map = map;
    return 0;
}

static void
weir_broker_ldap_conf(const weir_conf_t *conf, weir_ldap_conf_t *lc)
{
    memset(lc, 0, sizeof(*lc));
    lc->url = conf->ldap_url;
    lc->starttls = conf->ldap_starttls;
    lc->ca_location = conf->ldap_ca_location;
    lc->user_dn_template = conf->ldap_user_dn_template;
    lc->bind_dn = conf->ldap_bind_dn;
    lc->bind_password = conf->ldap_bind_password;
    lc->user_search_base = conf->ldap_user_search_base;
    lc->user_name_attribute = conf->ldap_user_name_attribute;
    lc->user_object_class = conf->ldap_user_object_class;
    lc->group_search_base = conf->ldap_group_search_base;
    lc->group_object_class = conf->ldap_group_object_class;
    lc->group_member_attribute = conf->ldap_group_member_attribute;
    lc->group_name_attribute = conf->ldap_group_name_attribute;
    lc->timeout_ms = conf->ldap_timeout_ms;
    lc->cache_ttl_ms = conf->ldap_cache_ttl_ms;
    /* Half the worker pool at most, so a slow directory leaves room for
     * fsync and file removal. */
    lc->max_inflight = WEIR_MAX(1, conf->num_io_threads / 2);
}

/* Security protocols of the listeners, TLS contexts, the principal mapping,
 * super.users and, with a SASL listener, the LDAP checker. */
static int
weir_broker_security_init(weir_broker_t *brk, char *errstr, size_t errstr_size)
{
    const weir_conf_t *conf = brk->conf;
    bool sasl = false;

    for (size_t i = 0; i < brk->nlisteners; i++) {
        weir_listener_t *l = &brk->listeners[i];
        int proto = weir_conf_listener_protocol(conf, l->name);

        if (proto < 0) {
            snprintf(errstr, errstr_size, "listener %s: not in listener.security.protocol.map",
                     l->name);
            return WEIR_ERR;
        }
        l->security = proto;
        sasl |= proto == WEIR_SECPROTO_SASL_PLAINTEXT || proto == WEIR_SECPROTO_SASL_SSL;
        if (proto == WEIR_SECPROTO_SSL || proto == WEIR_SECPROTO_SASL_SSL) {
            char err[512];
            if (weir_broker_listener_tls(conf, l, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size, "listener %s: %s", l->name, err);
                return WEIR_ERR;
            }
        }
    }
    if (weir_principal_map_parse(conf->ssl_principal_mapping_rules, &brk->principal_map, errstr,
                                 errstr_size) != 0)
        return WEIR_ERR;
    if (conf->super_users &&
        weir_principal_refs_parse(conf->super_users, &brk->super_users, &brk->nsuper_users,
                                  errstr, errstr_size) != 0)
        return WEIR_ERR;
    /* SASL/PLAIN and HTTP Basic passwords are checked against LDAP. */
    if (sasl || (conf->http_auth && strcmp(conf->http_auth, "basic") == 0)) {
        weir_ldap_conf_t lc;

        weir_broker_ldap_conf(conf, &lc);
        brk->ldap = weir_ldap_new(brk->loop, &lc, errstr, errstr_size);
        if (!brk->ldap)
            return WEIR_ERR;
    }
    return 0;
}

/* SIGHUP: weir.log.level from a fresh read of the configuration file. */
static void
weir_broker_reload_log_level(weir_broker_t *brk, const weir_conf_t *fresh)
{
    int lvl = weir_log_level_parse(fresh->log_level);

    if (lvl >= 0 && strcmp(fresh->log_level, brk->conf->log_level) != 0) {
        weir_log_level = (weir_log_level_t)lvl;
        WEIR_LOG(WEIR_LOG_INFO, "log_level_changed", "from=%s to=%s", brk->conf->log_level,
                 fresh->log_level);
        free(brk->conf->log_level);
        brk->conf->log_level = weir_strdup(fresh->log_level);
    }
}

/* Moves the TLS and LDAP TLS settings of fresh into the running
 * configuration (fresh keeps the previous ones, to be freed with it). */
static void
weir_broker_adopt_tls_settings(weir_conf_t *run, weir_conf_t *fresh)
{
#define WEIR_SWAP(field)                                                                       \
    do {                                                                                       \
        char *t_ = run->field;                                                                 \
        run->field = fresh->field;                                                             \
        fresh->field = t_;                                                                     \
    } while (0)
    WEIR_SWAP(ssl_keystore_location);
    WEIR_SWAP(ssl_keystore_certificate_chain);
    WEIR_SWAP(ssl_keystore_key);
    WEIR_SWAP(ssl_key_password);
    WEIR_SWAP(ssl_truststore_location);
    WEIR_SWAP(ssl_truststore_certificates);
    WEIR_SWAP(ssl_enabled_protocols);
    WEIR_SWAP(ssl_cipher_suites);
    WEIR_SWAP(ssl_client_auth);
    WEIR_SWAP(ssl_principal_mapping_rules);
    WEIR_SWAP(ldap_ca_location);
#undef WEIR_SWAP
    {
        weir_conf_override_t *o = run->listener_overrides;
        size_t n = run->nlistener_overrides;
        bool st = run->ldap_starttls;

        run->listener_overrides = fresh->listener_overrides;
        run->nlistener_overrides = fresh->nlistener_overrides;
        fresh->listener_overrides = o;
        fresh->nlistener_overrides = n;
        run->ldap_starttls = fresh->ldap_starttls;
        fresh->ldap_starttls = st;
    }
}

void
weir_broker_reload(weir_broker_t *brk)
{
    weir_tls_conf_t tc;
    weir_conf_t fresh;
    const weir_conf_t *src = brk->conf;
    bool have_fresh = false;
    size_t ok = 0, failed = 0;
    size_t nhttp = weir_http_server_nlisteners(brk->http);
    char err[1024];

    if (brk->stopping || brk->draining)
        return;
    if (brk->config_path) {
        weir_conf_defaults(&fresh);
        if (weir_conf_load(&fresh, brk->config_path, err, sizeof(err)) != 0) {
            WEIR_LOG(WEIR_LOG_ERROR, "config_reload_failed", "error=\"%s\" note=\"the previous "
                     "weir.log.level, TLS and LDAP TLS settings stay; their files are read "
                     "again\"", err);
            weir_conf_free(&fresh);
        } else if (weir_conf_allow_everyone(&fresh) != weir_conf_allow_everyone(brk->conf)) {
            /* allow.everyone.if.no.acl.found follows the listeners' client
             * authentication when unset, and the authorizer took it at
             * start-up. */
            weir_broker_reload_log_level(brk, &fresh);
            WEIR_LOG(WEIR_LOG_ERROR, "config_reload_failed", "error=\"the new ssl.client.auth "
                     "settings change whether allow.everyone.if.no.acl.found applies; restart "
                     "the broker (or set allow.everyone.if.no.acl.found)\" note=\"the previous "
                     "TLS and LDAP TLS settings stay; their files are read again\"");
            weir_conf_free(&fresh);
        } else {
            weir_broker_reload_log_level(brk, &fresh);
            have_fresh = true;
            src = &fresh;
        }
    }
    /* New contexts and rules for every TLS listener. */
    for (size_t i = 0; i < brk->nlisteners + nhttp; i++) {
        bool kafka = i < brk->nlisteners;
        weir_listener_t *l = kafka ? &brk->listeners[i]
                                   : weir_http_server_listener(brk->http, i - brk->nlisteners);
        weir_ssl_ctx_t *ctx;

        if (!l->ssl_ctx)
            continue;
        if (kafka) {
            if (weir_broker_listener_tls(src, l, err, sizeof(err)) != 0) {
                WEIR_LOG(WEIR_LOG_ERROR, "tls_reload_failed", "listener=%s error=\"%s\" "
                         "note=\"the previous certificate stays in use\"", l->name, err);
                failed++;
                continue;
            }
            ok++;
            continue;
        }
        weir_broker_tls_conf(src, &tc);
        ctx = weir_tls_ctx_new(&tc, err, sizeof(err));
        if (!ctx) {
            WEIR_LOG(WEIR_LOG_ERROR, "tls_reload_failed", "listener=%s error=\"%s\" "
                     "note=\"the previous certificate stays in use\"", l->name, err);
            failed++;
            continue;
        }
        /* Open connections hold their own references to the old context. */
        weir_tls_ctx_free(l->ssl_ctx);
        l->ssl_ctx = ctx;
        ok++;
    }
    {
        weir_principal_map_t *map;
        if (weir_principal_map_parse(src->ssl_principal_mapping_rules, &map, err,
                                     sizeof(err)) == 0) {
            weir_principal_map_free(brk->principal_map);
            brk->principal_map = map;
        }
    }
    if (brk->ldap) {
        if (weir_ldap_reload_tls(brk->ldap, src->ldap_starttls, src->ldap_ca_location, err,
                                 sizeof(err)) != 0) {
            WEIR_LOG(WEIR_LOG_ERROR, "ldap_reload_failed", "error=\"%s\" note=\"the previous "
                     "LDAP TLS settings stay\"", err);
            failed++;
        }
        weir_ldap_cache_clear(brk->ldap);
    }
    /* The running configuration takes the settings now in force, so a later
     * SIGHUP with a broken file falls back to them; only when every context
     * was built from them. */
    if (have_fresh) {
        if (failed == 0)
            weir_broker_adopt_tls_settings(brk->conf, &fresh);
        weir_conf_free(&fresh);
    }
    weir_authz_reload(brk->authz); /* tenants, ACLs, quota overrides from weir.db */
    WEIR_LOG(WEIR_LOG_INFO, "reloaded", "tls_listeners=%zu tls_failed=%zu ldap_cache=%s "
             "config=%s", ok, failed, brk->ldap ? "cleared" : "none",
             have_fresh ? "read" : "previous");
}

/* Governance: the authorizer's snapshot, quotas and audit queue
 * (governance/weir_authz.h), on its own connection to weir.db. */
static int
weir_broker_governance_init(weir_broker_t *brk, char *errstr, size_t errstr_size)
{
    const weir_conf_t *conf = brk->conf;
    char *path = weir_path(brk->log_dir, "weir.db");
    weir_authz_conf_t ac;
    int rc;

    memset(&ac, 0, sizeof(ac));
    ac.loop = brk->loop;
    ac.db_path = path;
    ac.super_users = brk->super_users;
    ac.nsuper_users = brk->nsuper_users;
    ac.admin_group = conf->admin_group;
    ac.allow_everyone = weir_conf_allow_everyone(conf);
    ac.quota_samples = conf->quota_window_num;
    ac.quota_window_ms = (int64_t)conf->quota_window_size_seconds * 1000;
    rc = weir_authz_open(&ac, &brk->authz, errstr, errstr_size);
    free(path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Schema Registry governance hooks (registry/weir_registry_http.h)           */
/*
 * Rule: a subject "<topic>-value" or "<topic>-key" belongs to the tenant
 * owning <topic> (the longest owned prefix, weir_tenant.h); any other
 * subject name is matched against the prefixes as it is.  Reads are open
 * to every principal the HTTP server let in.  Writes under a subject
 * (register, compatibility checks, deletes, per-subject config and mode)
 * are allowed to administrators (super.users, weir.admin.group), to the
 * members of the owning tenant's LDAP group, and, for a subject no tenant
 * owns, to everyone when allow.everyone.if.no.acl.found holds (the open
 * behaviour of a broker without governance).  Global config and mode
 * writes need an administrator, except on a broker with no tenant at all
 * where allow.everyone.if.no.acl.found decides.  With http.auth=none the
 * principal is User:ANONYMOUS (never a tenant member nor an admin unless
 * super.users names it).  Every registration, refusal and change is
 * audited through weir_authz_audit.
 */

static bool
weir_broker_reg_is_admin(void *arg, weir_http_req_t *req)
{
    weir_broker_t *brk = arg;

    if (weir_principal_matches(&req->principal, brk->super_users, brk->nsuper_users))
        return true;
    return brk->conf->admin_group && *brk->conf->admin_group &&
           weir_principal_in_group(&req->principal, brk->conf->admin_group);
}

/* The tenant owning subject (see the rule above), NULL if none. */
static const weir_tenant_t *
weir_broker_subject_owner(weir_broker_t *brk, const char *subject)
{
    const weir_tenants_t *ts = weir_authz_tenants(brk->authz);
    size_t len = strlen(subject);

    if (!ts)
        return NULL;
    if (len > 6 && strcmp(subject + len - 6, "-value") == 0)
        len -= 6;
    else if (len > 4 && strcmp(subject + len - 4, "-key") == 0)
        len -= 4;
    return weir_tenants_owner(ts, subject, len);
}

static void
weir_broker_reg_audit(void *arg, weir_http_req_t *req, const char *action, const char *target,
                      const char *outcome, const char *detail)
{
    weir_broker_t *brk = arg;
    char who[512];

    if (!brk->authz)
        return;
    weir_principal_str(&req->principal, who, sizeof(who));
    weir_authz_audit(brk->authz, who, action, target, outcome, detail);
}

/* What a held-back registration asks for, as the detail of its schema
 * request: {"schema", "schemaType", "references"} from the body, compact and
 * key-sorted so the same registration gives the same text.  NULL if the
 * body has no schema (the registry refused it before). */
static char *
weir_broker_schema_detail(const weir_http_req_t *req)
{
    json_error_t je;
    json_t *b = json_loadb((const char *)req->body, req->body_len, 0, &je);
    json_t *d, *v;
    char *out;

    if (!json_is_object(b) || !json_is_string(json_object_get(b, "schema"))) {
        json_decref(b);
        return NULL;
    }
    d = json_object();
    json_object_set(d, "schema", json_object_get(b, "schema"));
    if (json_is_string(v = json_object_get(b, "schemaType")))
        json_object_set(d, "schemaType", v);
    if (json_is_array(v = json_object_get(b, "references")) && json_array_size(v) > 0)
        json_object_set(d, "references", v);
    out = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    json_decref(b);
    return out;
}

typedef struct weir_broker_pending_find_s {
    const char *subject, *detail;
    int64_t id;
} weir_broker_pending_find_t;

static void
weir_broker_pending_cb(void *arg, const weir_gov_request_t *r)
{
    weir_broker_pending_find_t *f = arg;

    if (!f->id && r->kind == WEIR_GOV_REQUEST_SCHEMA && r->target && r->detail &&
        strcmp(r->target, f->subject) == 0 && strcmp(r->detail, f->detail) == 0)
        f->id = r->id;
}

/* Records (or finds, when the same registration is already waiting) the
 * pending schema-change request for a registration held back by the
 * subject's approval policy.  Blocking SQL on the loop, like the registry's
 * own writes: it happens once per held-back schema.  Returns its id, or a
 * negative error. */
static int64_t
weir_broker_schema_request(weir_broker_t *brk, weir_http_req_t *req, const char *subject,
                           const char *who)
{
    const weir_tenant_t *owner = weir_broker_subject_owner(brk, subject);
    char *path = weir_path(brk->log_dir, "weir.db");
    char *detail = weir_broker_schema_detail(req);
    weir_govstore_t *gs = NULL;
    char errstr[256] = "";
    int64_t id;

    if (!detail) {
        free(path);
        return -EINVAL;
    }
    if (weir_govstore_open(path, true, &gs, errstr, sizeof(errstr)) != 0) {
        WEIR_LOG(WEIR_LOG_ERROR, "registry_request_failed", "subject=%s error=\"%s\"", subject,
                 errstr);
        free(path);
        free(detail);
        return -EIO;
    }
    weir_broker_pending_find_t f = {.subject = subject, .detail = detail};
    if (weir_govstore_requests_list(gs, WEIR_GOV_REQUEST_PENDING, weir_broker_pending_cb, &f)
        != 0)
        id = -EIO;
    else if (f.id)
        id = f.id;
    else
        id = weir_govstore_request_create(gs, WEIR_GOV_REQUEST_SCHEMA, owner ? owner->name : "",
                                          who, subject, detail,
                                          "new schema version registered through the "
                                          "Schema Registry API");
    weir_govstore_close(gs);
    free(path);
    free(detail);
    return id;
}

static int
weir_broker_reg_authorize(void *arg, weir_http_req_t *req, weir_reg_op_t op,
                          const char *subject, const weir_reg_result_t *dry, weir_reg_err_t *err)
{
    weir_broker_t *brk = arg;
    const weir_tenants_t *ts = weir_authz_tenants(brk->authz);
    const weir_tenant_t *owner = NULL;
    bool allowed;
    char who[512], detail[sizeof(err->message) + 16];

    switch (op) {
    case WEIR_REG_OP_GLOBAL_READ:
    case WEIR_REG_OP_SCHEMA_READ:
    case WEIR_REG_OP_SUBJECT_READ:
    case WEIR_REG_OP_SUBJECT_COMPATIBILITY_READ:
    case WEIR_REG_OP_GLOBAL_COMPATIBILITY_READ:
        return 0;
    case WEIR_REG_OP_GLOBAL_COMPATIBILITY_WRITE:
        allowed = weir_broker_reg_is_admin(brk, req) ||
                  ((!ts || weir_tenants_count(ts) == 0) && weir_conf_allow_everyone(brk->conf));
        break;
    default:
        if (!subject || weir_broker_reg_is_admin(brk, req)) {
            allowed = true;
            break;
        }
        owner = weir_broker_subject_owner(brk, subject);
        if (owner)
            allowed = weir_principal_in_group(&req->principal, owner->ldap_group);
        else
            allowed = weir_conf_allow_everyone(brk->conf);
        break;
    }
    weir_principal_str(&req->principal, who, sizeof(who));
    if (allowed && op == WEIR_REG_OP_SUBJECT_WRITE && dry && !dry->existed && subject &&
        !weir_broker_reg_is_admin(brk, req)) {
        /* the subject's approval switch holds new versions back */
        weir_reg_policy_t pol;
        weir_registry_get_policy(brk->registry, subject, &pol);
        if (pol.approval) {
            int64_t id = weir_broker_schema_request(brk, req, subject, who);
            err->status = id > 0 ? 422 : 500;
            err->code = id > 0 ? WEIR_REG_OPERATION_NOT_PERMITTED : WEIR_REG_STORE_ERROR;
            if (id > 0)
                snprintf(err->message, sizeof(err->message),
                         "Subject %s requires approval of new schema versions: the change is "
                         "pending as schema request %" PRId64 "; register again once an "
                         "administrator approved it", subject, id);
            else
                snprintf(err->message, sizeof(err->message),
                         "Subject %s requires approval of new schema versions, and recording "
                         "the request failed (%d)", subject, (int)id);
            WEIR_LOG(WEIR_LOG_INFO, "registry_pending", "principal=%s subject=%s request=%"
                     PRId64, who, subject, id);
            return -1; /* audited as a refusal by the HTTP layer, message included */
        }
    }
    if (allowed)
        return 0;
    err->status = 403;
    err->code = 40301;
    if (owner)
        snprintf(err->message, sizeof(err->message),
                 "User %s is denied operation on subject %s: it belongs to tenant %s", who,
                 subject, owner->name);
    else
        snprintf(err->message, sizeof(err->message),
                 "User %s is denied operation on %s%s", who, subject ? "subject " : "",
                 subject ? subject : "the global configuration");
    /* registrations are audited by the HTTP layer; the rest here */
    if (!(op == WEIR_REG_OP_SUBJECT_WRITE && dry) && brk->authz) {
        snprintf(detail, sizeof(detail), "%d %s", err->code, err->message);
        weir_authz_audit(brk->authz, who, "registry.write", subject ? subject : "__GLOBAL",
                         "denied", detail);
    }
    WEIR_LOG(WEIR_LOG_INFO, "registry_denied", "principal=%s subject=%s op=%d", who,
             subject ? subject : "__GLOBAL", (int)op);
    return -1;
}

int
weir_broker_start(weir_broker_t *brk, char *errstr, size_t errstr_size)
{
    weir_listener_t *adv = NULL;
    size_t nadv = 0;

    if (weir_listeners_parse(brk->conf->listeners, &brk->listeners, &brk->nlisteners, errstr,
                             errstr_size) != 0)
        return WEIR_ERR;
    if (weir_broker_security_init(brk, errstr, errstr_size) != 0)
        return WEIR_ERR;
    if (weir_broker_governance_init(brk, errstr, errstr_size) != 0)
        return WEIR_ERR;
    if (brk->conf->advertised_listeners &&
        weir_listeners_parse(brk->conf->advertised_listeners, &adv, &nadv, errstr,
                             errstr_size) != 0)
        return WEIR_ERR;
    for (size_t i = 0; i < brk->nlisteners; i++) {
        weir_listener_t *l = &brk->listeners[i];
        l->adv_host = NULL;
        for (size_t j = 0; j < nadv; j++) {
            if (strcmp(adv[j].name, l->name) == 0) {
                l->adv_host = weir_strdup(adv[j].host);
                l->adv_port = adv[j].port;
            }
        }
        if (!l->adv_host) {
            /* A wildcard bind address is not something clients can reach. */
            const char *h = l->host;
            if (!h[0] || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0) {
                static char hostname[256];
                if (gethostname(hostname, sizeof(hostname)) != 0)
                    snprintf(hostname, sizeof(hostname), "localhost");
                h = hostname;
            }
            l->adv_host = weir_strdup(h);
            l->adv_port = l->port;
        }
        if (weir_listener_open(brk, l, errstr, errstr_size) != 0)
            goto fail;
        WEIR_LOG(WEIR_LOG_INFO, "listening", "listener=%s host=%s port=%d advertised=%s:%d "
                 "protocol=%s", l->name, l->host, l->port, l->adv_host, l->adv_port,
                 weir_secproto_name(l->security));
    }
    for (size_t j = 0; j < nadv; j++) {
        free(adv[j].name);
        free(adv[j].host);
    }
    free(adv);
    /* HTTP listeners and their built-in routes (/metrics); the registry,
     * admin API and REST proxy add theirs to brk->http. */
    brk->http = weir_http_server_new(brk);
    if (weir_metrics_http_register(brk->http, errstr, errstr_size) != 0)
        return WEIR_ERR;
    {
        weir_registry_hooks_t hooks = {
            .authorize = weir_broker_reg_authorize,
            .is_admin = weir_broker_reg_is_admin,
            .audit = weir_broker_reg_audit,
            .arg = brk,
        };
        brk->registry_http = weir_registry_http_register(brk->http, brk->registry,
                                                         brk->cluster_id, &hooks, errstr,
                                                         errstr_size);
        /* REST proxy produce: inline schemas are governed like registrations */
        if (brk->registry_http)
            brk->rest_proxy = weir_rest_proxy_register(brk->http, brk, &hooks, errstr,
                                                       errstr_size);
    }
    if (!brk->registry_http || !brk->rest_proxy)
        return WEIR_ERR;
    brk->admin_api = weir_admin_api_register(brk->http, brk, errstr, errstr_size);
    if (!brk->admin_api)
        return WEIR_ERR;
    brk->rest_consumer = weir_rest_consumer_register(brk->http, brk, errstr, errstr_size);
    if (!brk->rest_consumer || weir_http_server_listen(brk->http, errstr, errstr_size) != 0)
        return WEIR_ERR;
    brk->start_wall_ms = weir_wall_ms();
    brk->last_retention_ms = weir_wall_ms();
    {
        weir_cleaner_conf_t cc = {
            .enable = brk->conf->log_cleaner_enable,
            .threads = brk->conf->log_cleaner_threads,
            .io_max_bytes_per_sec = brk->conf->log_cleaner_io_max_bytes_per_second,
            .backoff_ms = brk->conf->log_cleaner_backoff_ms,
            .dedupe_buffer_size = brk->conf->log_cleaner_dedupe_buffer_size,
        };
        brk->cleaner = weir_cleaner_new(brk->loop, &cc);
    }
    uv_timer_init(brk->loop, &brk->housekeeping);
    brk->housekeeping.data = brk;
    uv_timer_start(&brk->housekeeping, weir_broker_housekeeping, WEIR_HOUSEKEEPING_MS,
                   WEIR_HOUSEKEEPING_MS);
    return 0;
fail:
    for (size_t j = 0; j < nadv; j++) {
        free(adv[j].name);
        free(adv[j].host);
    }
    free(adv);
    return WEIR_ERR;
}

void
weir_broker_stop(weir_broker_t *brk)
{
    char *path;
    int fd;

    if (brk->stopping)
        return;
    brk->stopping = true;
    brk->draining = false;
    if (brk->drain_timer_open) {
        brk->drain_timer_open = false;
        uv_close((uv_handle_t *)&brk->drain_timer, weir_broker_drain_closed);
    }
    WEIR_LOG(WEIR_LOG_INFO, "stopping", "connections=%zu topics=%zu", brk->nconns, brk->ntopics);
    for (size_t i = 0; i < brk->nlisteners; i++)
        weir_listener_close(&brk->listeners[i]);
    weir_http_server_close(brk->http);
    while (brk->conns)
        weir_conn_close(brk->conns, "broker shutting down");
    /* Sign-on checks still running on the worker pool finish on their own;
     * the checker is freed after the last one. */
    weir_ldap_free(brk->ldap);
    brk->ldap = NULL;
    /* REST consumer instances leave their groups while the coordinator runs. */
    weir_rest_consumer_stop(brk->rest_consumer);
    /* Closes the coordinator's timers; it frees itself once its last offset
     * write has finished. */
    weir_coord_stop(brk->coord);
    brk->coord = NULL;
    /* Queued audit rows are written; it frees itself after a running job. */
    weir_authz_stop(brk->authz);
    brk->authz = NULL;
    if (uv_is_active((uv_handle_t *)&brk->housekeeping) || brk->housekeeping.data)
        uv_close((uv_handle_t *)&brk->housekeeping, NULL);
    for (size_t i = 0; i < brk->ntopics; i++)
        weir_topic_close(brk->topics[i]);
    weir_cleaner_free(brk->cleaner); /* after the logs: their jobs are aborted */
    brk->cleaner = NULL;
    free(brk->topics);
    brk->topics = NULL;
    brk->ntopics = 0;
    weir_schema_validator_free(brk->schema_validator);
    brk->schema_validator = NULL;
    weir_registry_free(brk->registry); /* its statements are on the store's connection */
    brk->registry = NULL;
    if (brk->store)
        weir_store_close(brk->store);
    brk->store = NULL;
    if (!brk->opened)
        return;
    /* Every log is flushed and closed: the next start need not recover. */
    path = weir_path(brk->log_dir, WEIR_CLEAN_SHUTDOWN_FILE);
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(path);
    WEIR_LOG(WEIR_LOG_INFO, "stopped", "log_dir=%s", brk->log_dir);
}

/* ------------------------------------------------------------------ */
/* Graceful stop (SIGTERM)                                            */

static void
weir_broker_drain_closed(uv_handle_t *h)
{
    weir_broker_t *brk = h->data;
    void (*cb)(void *) = brk->on_stopped;

    brk->on_stopped = NULL;
    if (cb)
        cb(brk->on_stopped_arg);
}

static void
weir_broker_drain_finish(weir_broker_t *brk, bool forced)
{
    WEIR_LOG(forced && brk->nconns ? WEIR_LOG_WARN : WEIR_LOG_INFO, "drained",
             "connections_left=%zu elapsed_ms=%lld%s", brk->nconns,
             (long long)(weir_mono_ms() - brk->drain_start_ms),
             forced && brk->nconns ? " note=\"requests still in progress are abandoned\"" : "");
    /* Closes the drain timer (its close callback runs on_stopped). */
    weir_broker_stop(brk);
}

static void
weir_broker_drain_check(uv_timer_t *t)
{
    weir_broker_t *brk = t->data;

    if (brk->nconns == 0)
        weir_broker_drain_finish(brk, false);
    else if (weir_mono_ms() >= brk->drain_deadline_ms)
        weir_broker_drain_finish(brk, true);
}

void
weir_broker_shutdown(weir_broker_t *brk, void (*on_stopped)(void *arg), void *arg)
{
    weir_conn_t *c, *next;

    if (brk->stopping)
        return;
    if (brk->draining) {
        /* Asked again: stop now. */
        weir_broker_drain_finish(brk, true);
        return;
    }
    brk->draining = true;
    brk->on_stopped = on_stopped;
    brk->on_stopped_arg = arg;
    brk->drain_start_ms = weir_mono_ms();
    brk->drain_deadline_ms = brk->drain_start_ms + brk->conf->shutdown_timeout_ms;
    WEIR_LOG(WEIR_LOG_INFO, "draining", "connections=%zu timeout_ms=%lld", brk->nconns,
             (long long)brk->conf->shutdown_timeout_ms);
    /* No new connections. */
    for (size_t i = 0; i < brk->nlisteners; i++)
        weir_listener_close(&brk->listeners[i]);
    weir_http_server_close(brk->http);
    /* No new requests: idle connections close now, the others once the
     * request in service is answered and written. */
    for (c = brk->conns; c; c = next) {
        next = c->next;
        weir_conn_drain(c, "broker shutting down");
    }
    /* Long-polling fetches answer now with what they have (next loop
     * iteration), and parked JoinGroup/SyncGroup get NOT_COORDINATOR; the
     * coordinator still writes the offsets it accepted. */
    for (size_t i = 0; i < brk->ntopics; i++)
        for (int32_t j = 0; j < brk->topics[i]->npartitions; j++)
            if (brk->topics[i]->partitions[j])
                weir_partition_wake_all(brk->topics[i]->partitions[j], -1);
    /* REST consumer instances answer their waiting GET records and leave
     * their groups. */
    weir_rest_consumer_stop(brk->rest_consumer);
    weir_coord_stop(brk->coord);
    brk->coord = NULL;
    uv_timer_init(brk->loop, &brk->drain_timer);
    brk->drain_timer.data = brk;
    brk->drain_timer_open = true;
    uv_timer_start(&brk->drain_timer, weir_broker_drain_check, 0, 20);
}

void
weir_broker_free(weir_broker_t *brk)
{
    weir_http_server_free(brk->http);
    brk->http = NULL;
    weir_registry_http_free(brk->registry_http);
    brk->registry_http = NULL;
    weir_admin_api_free(brk->admin_api);
    brk->admin_api = NULL;
    weir_rest_proxy_free(brk->rest_proxy);
    brk->rest_proxy = NULL;
    weir_rest_consumer_free(brk->rest_consumer);
    brk->rest_consumer = NULL;
    for (size_t i = 0; i < brk->nlisteners; i++) {
        free(brk->listeners[i].name);
        free(brk->listeners[i].host);
        free(brk->listeners[i].adv_host);
        weir_tls_ctx_free(brk->listeners[i].ssl_ctx);
        weir_principal_map_free(brk->listeners[i].principal_map);
    }
    free(brk->listeners);
    weir_principal_map_free(brk->principal_map);
    weir_principal_refs_free(brk->super_users, brk->nsuper_users);
    if (brk->lock_fd >= 0)
        close(brk->lock_fd);
    free(brk->log_dir);
}
