/*
 * weir_api_configs.c: DescribeConfigs (ApiKey 32) v0-2, AlterConfigs (33)
 * v0-1 and IncrementalAlterConfigs (44) v0-1 (v1 is flexible).
 *
 * Resources: TOPIC (2), whose overrides are stored with the topic and
 * changed through weir_broker_topic_set_configs, and BROKER (4), whose
 * settings come from the properties file only: they are described
 * (read-only, sensitive values as null) but never altered.  The broker
 * resource is named by this node's id; the empty name is Kafka's
 * cluster-wide dynamic default, of which Weir has none, so it describes an
 * empty list.  Each handler reads the whole request before acting; a
 * malformed one closes the connection with nothing changed.  Governance,
 * as in Kafka: describing needs DESCRIBE_CONFIGS and altering
 * ALTER_CONFIGS, on the topic (TOPIC_AUTHORIZATION_FAILED) or on the cluster
 * for the broker (CLUSTER_AUTHORIZATION_FAILED); a tenant's topics keep
 * retention.ms within its limit (POLICY_VIOLATION); changes are audited.
 */
#include <stdio.h>
#include <stdlib.h>

#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"

#define WEIR_CFG_ERRSTR 512
#define WEIR_CFG_VALUE 1024
/* Initial response buffer size for n items: it grows as needed, so the
 * guess is capped (n comes from the client). */
#define WEIR_RESP_HINT(base, n, each) \
    ((size_t)(base) + WEIR_MIN((size_t)(n), (size_t)1024) * (size_t)(each))

/* Kafka's ConfigResource types. */
#define WEIR_RES_TOPIC 2
#define WEIR_RES_BROKER 4
#define WEIR_RES_BROKER_LOGGER 8

/* IncrementalAlterConfigs operations. */
#define WEIR_OP_SET 0
#define WEIR_OP_DELETE 1
#define WEIR_OP_APPEND 2
#define WEIR_OP_SUBTRACT 3

/* Smallest encoding of one array element, in the classic or compact form. */
#define WEIR_MINSZ(rd, classic, compact) ((rd)->flex ? (size_t)(compact) : (size_t)(classic))

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static int
weir_str_cmp(weir_str_t a, weir_str_t b)
{
    int32_t al = a.len < 0 ? 0 : a.len, bl = b.len < 0 ? 0 : b.len;
    int c = memcmp(a.ptr ? a.ptr : "", b.ptr ? b.ptr : "", (size_t)WEIR_MIN(al, bl));

    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

typedef struct weir_cfg_key_s {
    int32_t tag;      /* resource type, or 0 */
    weir_str_t name;
    int32_t idx;
} weir_cfg_key_t;

static int
weir_cfg_key_cmp(const void *a, const void *b)
{
    const weir_cfg_key_t *x = a, *y = b;
    int c;

    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    c = weir_str_cmp(x->name, y->name);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sets dup[i] for every (tags[i], names[i]) that occurs more than once
 * (tags may be NULL).  O(n log n). */
static void
weir_cfg_mark_duplicates(const int8_t *tags, const weir_str_t *names, int32_t n, bool *dup)
{
    weir_cfg_key_t *v;

    if (n < 2)
        return;
    v = weir_malloc((size_t)n * sizeof(*v));
    for (int32_t i = 0; i < n; i++) {
        v[i].tag = tags ? tags[i] : 0;
        v[i].name = names[i];
        v[i].idx = i;
    }
    qsort(v, (size_t)n, sizeof(*v), weir_cfg_key_cmp);
    for (int32_t i = 1; i < n; i++) {
        if (v[i].tag == v[i - 1].tag && weir_str_cmp(v[i].name, v[i - 1].name) == 0) {
            dup[v[i].idx] = true;
            dup[v[i - 1].idx] = true;
        }
    }
    free(v);
}

static bool
weir_has_nul(weir_str_t s)
{
    return s.len > 0 && memchr(s.ptr, '\0', (size_t)s.len) != NULL;
}

/* A copy of len bytes of s fit for a key=value log line: at most size - 1
 * bytes, with control characters, quotes and backslashes replaced by '?'
 * (names and messages come from clients). */
static const char *
weir_log_safe(const char *s, size_t len, char *out, size_t size)
{
    size_t n = WEIR_MIN(len, size - 1);

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
    }
    out[n] = '\0';
    return out;
}

/* Finds the topic a resource names; sets err/errstr when there is none. */
static weir_topic_t *
weir_cfg_topic(weir_broker_t *brk, weir_str_t name, weir_kerr_t *err, char *errstr,
               size_t errstr_size)
{
    weir_topic_t *t;

    *err = weir_topic_name_validate(name.ptr, (size_t)name.len, errstr, errstr_size);
    if (*err)
        return NULL;
    t = weir_broker_topic_find(brk, name.ptr, (size_t)name.len);
    if (!t) {
        *err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        snprintf(errstr, errstr_size, "topic '%.*s' does not exist", name.len, name.ptr);
    }
    return t;
}

/* The error for a resource that cannot be altered (anything but a topic). */
static weir_kerr_t
weir_cfg_not_alterable(int8_t type, char *errstr, size_t errstr_size)
{
    if (type == WEIR_RES_BROKER)
        snprintf(errstr, errstr_size, "broker configuration is static: edit the broker's "
                 "properties file and restart it");
    else if (type == WEIR_RES_BROKER_LOGGER)
        snprintf(errstr, errstr_size, "broker loggers cannot be altered: the log level is "
                 "weir.log.level in the properties file");
    else
        snprintf(errstr, errstr_size, "unsupported resource type %d", type);
    return WEIR_KERR_INVALID_REQUEST;
}

static void
weir_cfg_log_refused(weir_req_t *req, const char *api, int8_t type, weir_str_t name,
                     weir_kerr_t err, const char *errstr)
{
    char ln[96], lr[WEIR_CFG_ERRSTR];

    if (WEIR_LOG_INFO > weir_log_level)
        return;
    WEIR_LOG(WEIR_LOG_INFO, "configs_refused", "conn=%llu api=%s resource_type=%d "
             "resource=%s error=%s reason=\"%s\"",
             (unsigned long long)(req->conn ? req->conn->id : 0), api, type,
             weir_log_safe(name.ptr ? name.ptr : "", name.len < 0 ? 0 : (size_t)name.len, ln,
                           sizeof(ln)),
             weir_kerr_name(err), weir_log_safe(errstr, strlen(errstr), lr, sizeof(lr)));
}

/* ------------------------------------------------------------------ */
/* DescribeConfigs                                                    */

typedef struct weir_dc_res_s {
    int8_t type;
    weir_str_t name;
    int32_t nkeys;       /* -1 (null) or 0: all keys */
    weir_str_t *keys;    /* sorted, for lookups */
} weir_dc_res_t;

static int
weir_str_qcmp(const void *a, const void *b)
{
    return weir_str_cmp(*(const weir_str_t *)a, *(const weir_str_t *)b);
}

/* Whether the resource asked for key name. */
static bool
weir_dc_wanted(const weir_dc_res_t *r, const char *name)
{
    weir_str_t k = {(int32_t)strlen(name), name};

    /* Null or empty: every key (kafkajs sends an empty list for "all"). */
    if (r->nkeys <= 0)
        return true;
    return bsearch(&k, r->keys, (size_t)r->nkeys, sizeof(*r->keys), weir_str_qcmp) != NULL;
}

static void
weir_dc_entry(weir_wbuf_t *w, int16_t v, const char *name, const char *value, bool read_only,
              bool is_default, int source, bool sensitive)
{
    weir_wr_cstr(w, name);
    weir_wr_cstr(w, value);
    weir_wr_bool(w, read_only);
    if (v == 0)
        weir_wr_bool(w, is_default);
    else
        weir_wr_i8(w, (int8_t)source);
    weir_wr_bool(w, sensitive);
    if (v >= 1)
        weir_wr_array(w, 0); /* Synonyms: none listed */
}

static void
weir_dc_topic(weir_req_t *req, weir_wbuf_t *w, const weir_dc_res_t *r)
{
    weir_broker_t *brk = req->brk;
    int16_t v = req->ApiVersion;
    char errstr[WEIR_CFG_ERRSTR];
    weir_kerr_t err;
    weir_topic_t *t = NULL;
    size_t pos;
    int32_t n = 0;

    if (!weir_req_allowed(req, WEIR_ACL_RES_TOPIC, r->name, WEIR_ACL_OP_DESCRIBE_CONFIGS)) {
        err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
        snprintf(errstr, sizeof(errstr), "not authorized to describe the topic's configuration");
    } else {
        t = weir_cfg_topic(brk, r->name, &err, errstr, sizeof(errstr));
    }

    weir_wr_i16(w, (int16_t)err);
    weir_wr_cstr(w, err ? errstr : NULL);
    weir_wr_i8(w, r->type);
    weir_wr_kstr(w, r->name);
    pos = weir_wr_array_begin(w);
    for (size_t i = 0; t; i++) {
        char value[WEIR_CFG_VALUE];
        const char *name;
        int source;
        bool read_only;

        if (!weir_topic_config_describe(brk->conf, &t->configs, i, &name, value, sizeof(value),
                                        &source, &read_only))
            break;
        if (!weir_dc_wanted(r, name))
            continue;
        weir_dc_entry(w, v, name, value, read_only, source == WEIR_CONFIG_SOURCE_DEFAULT,
                      source, false);
        n++;
    }
    weir_wr_array_end(w, pos, n);
}

static void
weir_dc_broker(weir_req_t *req, weir_wbuf_t *w, const weir_dc_res_t *r)
{
    weir_broker_t *brk = req->brk;
    int16_t v = req->ApiVersion;
    char id[16], errstr[WEIR_CFG_ERRSTR];
    weir_kerr_t err = WEIR_KERR_NONE;
    bool all;
    size_t pos;
    int32_t n = 0;

    snprintf(id, sizeof(id), "%d", brk->node_id);
    all = weir_str_eq(r->name, id);
    if (!weir_req_allowed_cluster(req, WEIR_ACL_OP_DESCRIBE_CONFIGS)) {
        all = false;
        err = WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED;
        snprintf(errstr, sizeof(errstr), "not authorized to describe the broker's "
                 "configuration");
    } else if (!all && r->name.len != 0) {
        err = WEIR_KERR_INVALID_REQUEST;
        snprintf(errstr, sizeof(errstr), "unexpected broker id '%.*s': expected %d (this "
                 "broker) or the empty string", r->name.len, r->name.ptr, brk->node_id);
    }
    weir_wr_i16(w, (int16_t)err);
    weir_wr_cstr(w, err ? errstr : NULL);
    weir_wr_i8(w, r->type);
    weir_wr_kstr(w, r->name);
    pos = weir_wr_array_begin(w);
    for (size_t i = 0; all; i++) {
        char value[WEIR_CFG_VALUE];
        const char *name;
        bool is_default, sensitive;

        if (!weir_conf_describe(brk->conf, i, &name, value, sizeof(value), &is_default,
                                &sensitive))
            break;
        if (!weir_dc_wanted(r, name))
            continue;
        weir_dc_entry(w, v, name, sensitive ? NULL : value, true, is_default,
                      is_default ? WEIR_CONFIG_SOURCE_DEFAULT : WEIR_CONFIG_SOURCE_STATIC_BROKER,
                      sensitive);
        n++;
    }
    weir_wr_array_end(w, pos, n);
}

static void
weir_dc_free(weir_dc_res_t *res, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        free(res[i].keys);
    free(res);
}

int
weir_api_DescribeConfigs(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    weir_dc_res_t *res = NULL;
    int32_t n;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    n = weir_rd_array(rd, WEIR_MINSZ(rd, 7, 4));
    if (n > 0)
        res = weir_calloc((size_t)n, sizeof(*res));
    for (int32_t i = 0; i < n && !rd->err; i++) {
        weir_dc_res_t *r = &res[i];

        r->type = weir_rd_i8(rd);
        r->name = weir_rd_str(rd);
        if (r->name.len < 0)
            rd->err = WEIR_EPARSE;
        r->nkeys = weir_rd_array(rd, WEIR_MINSZ(rd, 2, 1)); /* nullable */
        if (r->nkeys > 0)
            r->keys = weir_calloc((size_t)r->nkeys, sizeof(*r->keys));
        for (int32_t j = 0; j < r->nkeys && !rd->err; j++) {
            r->keys[j] = weir_rd_str(rd);
            if (r->keys[j].len < 0)
                rd->err = WEIR_EPARSE;
        }
        if (r->nkeys > 1 && !rd->err)
            qsort(r->keys, (size_t)r->nkeys, sizeof(*r->keys), weir_str_qcmp);
        weir_rd_tags(rd);
    }
    if (req->ApiVersion >= 1)
        (void)weir_rd_bool(rd); /* IncludeSynonyms: no synonyms are listed */
    weir_rd_tags(rd);
    if (rd->err || n < 0) {
        weir_dc_free(res, n < 0 ? 0 : n);
        return -1;
    }

    resp = weir_resp_new(req, WEIR_RESP_HINT(256, n, 1024));
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, n);
    for (int32_t i = 0; i < n; i++) {
        weir_dc_res_t *r = &res[i];

        if (r->type == WEIR_RES_TOPIC) {
            weir_dc_topic(req, w, r);
        } else if (r->type == WEIR_RES_BROKER) {
            weir_dc_broker(req, w, r);
        } else {
            char errstr[WEIR_CFG_ERRSTR];
            snprintf(errstr, sizeof(errstr), "unsupported resource type %d", r->type);
            weir_wr_i16(w, WEIR_KERR_INVALID_REQUEST);
            weir_wr_cstr(w, errstr);
            weir_wr_i8(w, r->type);
            weir_wr_kstr(w, r->name);
            weir_wr_array(w, 0);
        }
        weir_wr_tags(w);
    }
    weir_wr_tags(w);
    weir_dc_free(res, n);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* AlterConfigs and IncrementalAlterConfigs                           */

typedef struct weir_ac_config_s {
    weir_str_t name;
    int8_t op;           /* IncrementalAlterConfigs only */
    weir_str_t value;
} weir_ac_config_t;

typedef struct weir_ac_res_s {
    int8_t type;
    weir_str_t name;
    weir_ac_config_t *configs;
    int32_t nconfigs;
    weir_kerr_t err;
    char errstr[WEIR_CFG_ERRSTR];
} weir_ac_res_t;

static void
weir_ac_free(weir_ac_res_t *res, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        free(res[i].configs);
    free(res);
}

/* Reads either request (incremental: with ConfigOperation); -1 if malformed. */
static int
weir_ac_parse(weir_req_t *req, bool incremental, weir_ac_res_t **out, int32_t *nout,
              bool *validate_only)
{
    weir_rbuf_t *rd = &req->rd;
    weir_ac_res_t *res = NULL;
    int32_t n;

    *out = NULL;
    *nout = 0;
    n = weir_rd_array(rd, WEIR_MINSZ(rd, 7, 4));
    if (n < 0)
        return -1;
    if (n > 0)
        res = weir_calloc((size_t)n, sizeof(*res));
    *out = res;
    *nout = n;
    for (int32_t i = 0; i < n && !rd->err; i++) {
        weir_ac_res_t *r = &res[i];
        int32_t nc;

        r->type = weir_rd_i8(rd);
        r->name = weir_rd_str(rd);
        if (r->name.len < 0)
            return -1;
        nc = weir_rd_array(rd, incremental ? WEIR_MINSZ(rd, 5, 4) : WEIR_MINSZ(rd, 4, 3));
        if (nc < 0)
            return -1;
        r->nconfigs = nc;
        if (nc > 0)
            r->configs = weir_calloc((size_t)nc, sizeof(*r->configs));
        for (int32_t j = 0; j < nc && !rd->err; j++) {
            weir_ac_config_t *c = &r->configs[j];
            c->name = weir_rd_str(rd);
            if (incremental)
                c->op = weir_rd_i8(rd);
            c->value = weir_rd_str(rd);
            if (c->name.len < 0)
                return -1;
            weir_rd_tags(rd);
        }
        weir_rd_tags(rd);
    }
    *validate_only = weir_rd_bool(rd);
    weir_rd_tags(rd);
    return rd->err ? -1 : 0;
}

/* Marks resources named twice (same type and name) in one request. */
static void
weir_ac_mark_duplicates(weir_ac_res_t *res, int32_t n)
{
    int8_t *types;
    weir_str_t *names;
    bool *dup;

    if (n < 2)
        return;
    types = weir_malloc((size_t)n);
    names = weir_malloc((size_t)n * sizeof(*names));
    dup = weir_calloc((size_t)n, sizeof(*dup));
    for (int32_t i = 0; i < n; i++) {
        types[i] = res[i].type;
        names[i] = res[i].name;
    }
    weir_cfg_mark_duplicates(types, names, n, dup);
    for (int32_t i = 0; i < n; i++) {
        if (dup[i]) {
            res[i].err = WEIR_KERR_INVALID_REQUEST;
            snprintf(res[i].errstr, sizeof(res[i].errstr), "resource named more than once in "
                     "the request");
        }
    }
    free(types);
    free(names);
    free(dup);
}

/* Checks that no config key of r is given twice and none has a NUL byte. */
static bool
weir_ac_check_keys(weir_ac_res_t *r)
{
    weir_str_t *names;
    bool *dup, ok = true;

    for (int32_t i = 0; i < r->nconfigs; i++) {
        if (weir_has_nul(r->configs[i].name) || weir_has_nul(r->configs[i].value)) {
            r->err = WEIR_KERR_INVALID_CONFIG;
            snprintf(r->errstr, sizeof(r->errstr), "config names and values cannot contain "
                     "NUL bytes");
            return false;
        }
    }
    if (r->nconfigs < 2)
        return true;
    names = weir_malloc((size_t)r->nconfigs * sizeof(*names));
    dup = weir_calloc((size_t)r->nconfigs, sizeof(*dup));
    for (int32_t i = 0; i < r->nconfigs; i++)
        names[i] = r->configs[i].name;
    weir_cfg_mark_duplicates(NULL, names, r->nconfigs, dup);
    for (int32_t i = 0; i < r->nconfigs && ok; i++) {
        if (dup[i]) {
            r->err = WEIR_KERR_INVALID_REQUEST;
            snprintf(r->errstr, sizeof(r->errstr), "config %.*s is given more than once",
                     r->configs[i].name.len, r->configs[i].name.ptr);
            ok = false;
        }
    }
    free(names);
    free(dup);
    return ok;
}

/* ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED otherwise). */
static bool
weir_cfg_alter_allowed(weir_req_t *req, weir_ac_res_t *r)
{
    if (weir_req_allowed(req, WEIR_ACL_RES_TOPIC, r->name, WEIR_ACL_OP_ALTER_CONFIGS))
        return true;
    r->err = WEIR_KERR_TOPIC_AUTHORIZATION_FAILED;
    snprintf(r->errstr, sizeof(r->errstr), "not authorized to alter the topic's configuration");
    return false;
}

/* Replaces t's overrides with kv after the tenant policy (retention), unless
 * r already failed; audits the change. */
static void
weir_cfg_apply(weir_req_t *req, weir_ac_res_t *r, weir_topic_t *t, const weir_kvlist_t *kv,
               bool validate_only)
{
    if (r->err)
        return;
    r->err = weir_req_topic_configs_policy(req, t, kv, r->errstr, sizeof(r->errstr));
    if (r->err) {
        weir_req_audit(req, "topic.configs", t->name, "denied", r->errstr);
        return;
    }
    r->err = weir_broker_topic_set_configs(req->brk, t, kv, validate_only, r->errstr,
                                           sizeof(r->errstr));
    if (!r->err && !validate_only) {
        char detail[64];
        snprintf(detail, sizeof(detail), "overrides=%zu", kv->count);
        weir_req_audit(req, "topic.configs", t->name, "ok", detail);
    }
}

/* The error for altering a resource that is not a topic: the cluster's
 * ALTER_CONFIGS first (CLUSTER_AUTHORIZATION_FAILED), then not alterable. */
static weir_kerr_t
weir_cfg_not_alterable_auth(weir_req_t *req, int8_t type, char *errstr, size_t errstr_size)
{
    if ((type == WEIR_RES_BROKER || type == WEIR_RES_BROKER_LOGGER) &&
        !weir_req_allowed_cluster(req, WEIR_ACL_OP_ALTER_CONFIGS)) {
        snprintf(errstr, errstr_size, "not authorized to alter the broker's configuration");
        return WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED;
    }
    return weir_cfg_not_alterable(type, errstr, errstr_size);
}

/* AlterConfigs on a topic: the given set replaces every override (a null
 * value leaves the key unset). */
static void
weir_ac_topic_replace(weir_req_t *req, weir_ac_res_t *r, bool validate_only)
{
    weir_broker_t *brk = req->brk;
    weir_topic_t *t;
    weir_kvlist_t kv = {NULL, 0};

    if (!weir_cfg_alter_allowed(req, r))
        return;
    t = weir_cfg_topic(brk, r->name, &r->err, r->errstr, sizeof(r->errstr));
    if (!t || !weir_ac_check_keys(r))
        return;
    for (int32_t i = 0; i < r->nconfigs; i++) {
        weir_ac_config_t *c = &r->configs[i];
        char *key, *value;

        if (c->value.len < 0)
            continue;
        key = weir_strndup(c->name.ptr, (size_t)c->name.len);
        value = weir_strndup(c->value.ptr, (size_t)c->value.len);
        r->err = weir_topic_config_validate(key, value, r->errstr, sizeof(r->errstr));
        if (!r->err)
            weir_kvlist_set(&kv, key, value);
        free(key);
        free(value);
        if (r->err)
            break;
    }
    weir_cfg_apply(req, r, t, &kv, validate_only);
    weir_kvlist_free(&kv);
}

int
weir_api_AlterConfigs(weir_req_t *req)
{
    weir_ac_res_t *res;
    int32_t n;
    bool validate_only = false;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    if (weir_ac_parse(req, false, &res, &n, &validate_only) != 0) {
        weir_ac_free(res, n);
        return -1;
    }
    weir_ac_mark_duplicates(res, n);
    for (int32_t i = 0; i < n; i++) {
        weir_ac_res_t *r = &res[i];

        if (r->err)
            ; /* named twice */
        else if (r->type == WEIR_RES_TOPIC)
            weir_ac_topic_replace(req, r, validate_only);
        else
            r->err = weir_cfg_not_alterable_auth(req, r->type, r->errstr, sizeof(r->errstr));
        if (r->err)
            weir_cfg_log_refused(req, "AlterConfigs", r->type, r->name, r->err, r->errstr);
    }

    resp = weir_resp_new(req, WEIR_RESP_HINT(64, n, 128));
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, n);
    for (int32_t i = 0; i < n; i++) {
        weir_wr_i16(w, (int16_t)res[i].err);
        weir_wr_cstr(w, res[i].err ? res[i].errstr : NULL);
        weir_wr_i8(w, res[i].type);
        weir_wr_kstr(w, res[i].name);
        weir_wr_tags(w);
    }
    weir_wr_tags(w);
    weir_ac_free(res, n);
    weir_req_respond(req, resp);
    return 0;
}

/* Topic keys whose type is a comma-separated list (APPEND and SUBTRACT
 * apply to these only).  Kafka's other list-typed topic keys, the
 * replication throttles, are unknown to Weir and refused by validation. */
static bool
weir_cfg_is_list(const char *key)
{
    return strcmp(key, "cleanup.policy") == 0 ||
           strcmp(key, "leader.replication.throttled.replicas") == 0 ||
           strcmp(key, "follower.replication.throttled.replicas") == 0;
}

/* The current value of key for t (its override, else the effective value);
 * false if the key is not a topic config. */
static bool
weir_cfg_current(weir_broker_t *brk, const weir_kvlist_t *overrides, const char *key,
                 char *value, size_t size)
{
    const char *ov = weir_kvlist_get(overrides, key);

    if (ov) {
        snprintf(value, size, "%s", ov);
        return true;
    }
    for (size_t i = 0;; i++) {
        const char *name;
        int source;
        bool read_only;

        if (!weir_topic_config_describe(brk->conf, overrides, i, &name, value, size, &source,
                                        &read_only))
            return false;
        if (strcmp(name, key) == 0)
            return true;
    }
}

/* Next list item of *p (trimmed); false at the end. */
static bool
weir_list_next(const char **p, const char **item, size_t *len)
{
    while (**p) {
        const char *s = *p, *e = strchr(s, ',');
        size_t n;

        if (!e)
            e = s + strlen(s);
        *p = *e ? e + 1 : e;
        while (s < e && *s == ' ')
            s++;
        n = (size_t)(e - s);
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (n > 0) {
            *item = s;
            *len = n;
            return true;
        }
    }
    return false;
}

static bool
weir_list_contains(const char *list, const char *item, size_t len)
{
    const char *p = list, *it;
    size_t n;

    while (weir_list_next(&p, &it, &n))
        if (n == len && memcmp(it, item, len) == 0)
            return true;
    return false;
}

/* Appends item to the list in out (len bytes so far, always NUL-terminated);
 * false if it does not fit. */
static bool
weir_list_push(char *out, size_t size, size_t *len, const char *item, size_t n)
{
    size_t need = n + (*len ? 1 : 0);

    if (*len + need >= size)
        return false;
    if (*len)
        out[(*len)++] = ',';
    memcpy(out + *len, item, n);
    *len += n;
    out[*len] = '\0';
    return true;
}

/* APPEND (items of value not yet present are added at the end) or SUBTRACT
 * (items of value are removed) applied to the list cur, into out; false if
 * the result does not fit. */
static bool
weir_list_apply(const char *cur, const char *value, bool append, char *out, size_t size)
{
    const char *p, *it;
    size_t n, len = 0;

    out[0] = '\0';
    p = cur;
    while (weir_list_next(&p, &it, &n)) {
        if (!append && weir_list_contains(value, it, n))
            continue;
        if (!weir_list_push(out, size, &len, it, n))
            return false;
    }
    if (!append)
        return true;
    p = value;
    while (weir_list_next(&p, &it, &n)) {
        if (weir_list_contains(out, it, n))
            continue;
        if (!weir_list_push(out, size, &len, it, n))
            return false;
    }
    return true;
}

/* Applies one operation to the overrides kv; false with r->err set. */
static bool
weir_iac_apply(weir_broker_t *brk, weir_ac_res_t *r, const weir_ac_config_t *c,
               weir_kvlist_t *kv)
{
    char key[256], cur[WEIR_CFG_VALUE], value[WEIR_CFG_VALUE], next[WEIR_CFG_VALUE];
    static const char *const ops[] = {"SET", "DELETE", "APPEND", "SUBTRACT"};

    if (c->op < WEIR_OP_SET || c->op > WEIR_OP_SUBTRACT) {
        r->err = WEIR_KERR_INVALID_REQUEST;
        snprintf(r->errstr, sizeof(r->errstr), "unknown config operation %d for %.*s", c->op,
                 c->name.len, c->name.ptr);
        return false;
    }
    if ((size_t)c->name.len >= sizeof(key) ||
        (c->value.len >= 0 && (size_t)c->value.len >= sizeof(value))) {
        r->err = WEIR_KERR_INVALID_CONFIG;
        snprintf(r->errstr, sizeof(r->errstr), "config %.*s: name or value too long",
                 WEIR_MIN(c->name.len, 64), c->name.ptr);
        return false;
    }
    snprintf(key, sizeof(key), "%.*s", c->name.len, c->name.ptr);
    if (!weir_cfg_current(brk, kv, key, cur, sizeof(cur))) {
        r->err = WEIR_KERR_INVALID_CONFIG;
        snprintf(r->errstr, sizeof(r->errstr), "Unknown topic config name: %s", key);
        return false;
    }
    if (c->op == WEIR_OP_DELETE) {
        weir_kvlist_remove(kv, key);
        return true;
    }
    if (c->value.len < 0) {
        r->err = WEIR_KERR_INVALID_CONFIG;
        snprintf(r->errstr, sizeof(r->errstr), "%s: %s needs a value", key, ops[c->op]);
        return false;
    }
    snprintf(value, sizeof(value), "%.*s", c->value.len, c->value.ptr);
    if (c->op == WEIR_OP_SET) {
        r->err = weir_topic_config_validate(key, value, r->errstr, sizeof(r->errstr));
        if (r->err)
            return false;
        weir_kvlist_set(kv, key, value);
        return true;
    }
    if (!weir_cfg_is_list(key)) {
        r->err = WEIR_KERR_INVALID_CONFIG;
        snprintf(r->errstr, sizeof(r->errstr), "%s applies only to list configs such as "
                 "cleanup.policy; %s is not a list", ops[c->op], key);
        return false;
    }
    if (!weir_list_apply(cur, value, c->op == WEIR_OP_APPEND, next, sizeof(next))) {
        r->err = WEIR_KERR_INVALID_CONFIG;
        snprintf(r->errstr, sizeof(r->errstr), "%s: the resulting list is too long", key);
        return false;
    }
    r->err = weir_topic_config_validate(key, next, r->errstr, sizeof(r->errstr));
    if (r->err)
        return false;
    weir_kvlist_set(kv, key, next);
    return true;
}

/* IncrementalAlterConfigs on a topic: the operations apply, in order, to a
 * copy of the overrides, which then replaces them. */
static void
weir_iac_topic(weir_req_t *req, weir_ac_res_t *r, bool validate_only)
{
    weir_broker_t *brk = req->brk;
    weir_topic_t *t;
    weir_kvlist_t kv;

    if (!weir_cfg_alter_allowed(req, r))
        return;
    t = weir_cfg_topic(brk, r->name, &r->err, r->errstr, sizeof(r->errstr));
    if (!t || !weir_ac_check_keys(r))
        return;
    weir_kvlist_copy(&kv, &t->configs);
    for (int32_t i = 0; i < r->nconfigs; i++)
        if (!weir_iac_apply(brk, r, &r->configs[i], &kv))
            break;
    weir_cfg_apply(req, r, t, &kv, validate_only);
    weir_kvlist_free(&kv);
}

int
weir_api_IncrementalAlterConfigs(weir_req_t *req)
{
    weir_ac_res_t *res;
    int32_t n;
    bool validate_only = false;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    if (weir_ac_parse(req, true, &res, &n, &validate_only) != 0) {
        weir_ac_free(res, n);
        return -1;
    }
    weir_ac_mark_duplicates(res, n);
    for (int32_t i = 0; i < n; i++) {
        weir_ac_res_t *r = &res[i];

        if (r->err)
            ; /* named twice */
        else if (r->type == WEIR_RES_TOPIC)
            weir_iac_topic(req, r, validate_only);
        else
            r->err = weir_cfg_not_alterable_auth(req, r->type, r->errstr, sizeof(r->errstr));
        if (r->err)
            weir_cfg_log_refused(req, "IncrementalAlterConfigs", r->type, r->name, r->err,
                                 r->errstr);
    }

    resp = weir_resp_new(req, WEIR_RESP_HINT(64, n, 128));
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, n);
    for (int32_t i = 0; i < n; i++) {
        weir_wr_i16(w, (int16_t)res[i].err);
        weir_wr_cstr(w, res[i].err ? res[i].errstr : NULL);
        weir_wr_i8(w, res[i].type);
        weir_wr_kstr(w, res[i].name);
        weir_wr_tags(w);
    }
    weir_wr_tags(w);
    weir_ac_free(res, n);
    weir_req_respond(req, resp);
    return 0;
}
