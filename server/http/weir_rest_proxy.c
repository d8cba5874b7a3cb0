/*
 * weir_rest_proxy.c: Confluent REST Proxy produce and topic endpoints (v2)
 * and v3 produce (see weir_rest_proxy.h): request parsing, embedded-format
 * conversion, schema resolution through the registry's governance, the
 * record batch builder, partitioning, and Confluent's answers.  Appends go
 * through proto/weir_produce_path.h like Kafka Produce.
 */
#include "weir_rest_proxy.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "weir_acl.h"
#include "weir_avro_payload.h"
#include "weir_api.h"
#include "weir_batch.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_produce_path.h"
#include "weir_registry.h"
#include "weir_rest_format.h"

#define WEIR_RP_V2_CTYPE "application/vnd.kafka.v2+json"
#define WEIR_RP_V3_CTYPE "application/json"

/* Confluent's REST Proxy error codes (kafka-rest Errors.java). */
#define WEIR_RP_TOPIC_NOT_FOUND 40401
#define WEIR_RP_PARTITION_NOT_FOUND 40402
#define WEIR_RP_AUTHORIZATION_FAILED 40301
#define WEIR_RP_KEY_SCHEMA_MISSING 42201
#define WEIR_RP_VALUE_SCHEMA_MISSING 42202
#define WEIR_RP_JSON_AVRO_CONVERSION 42203
#define WEIR_RP_INVALID_SCHEMA 42205
#define WEIR_RP_KAFKA_ERROR 50002

struct weir_rest_proxy_s {
    weir_broker_t *brk;
    weir_registry_hooks_t hooks;
    uint32_t sticky; /* the partition of the next request's unkeyed records */
};

/* ------------------------------------------------------------------------ */
/* Partitioner and batch builder                                            */
/* ------------------------------------------------------------------------ */

int32_t
weir_rest_murmur2(const void *data, size_t len)
{
    const uint8_t *d = data;
    const uint32_t m = 0x5bd1e995u;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t n4 = len / 4;

    for (size_t i = 0; i < n4; i++) {
        const uint8_t *p = d + i * 4;
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len % 4) {
    case 3:
        h ^= (uint32_t)d[(len & ~(size_t)3) + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[(len & ~(size_t)3) + 1] << 8;
        /* fall through */
    case 1:
        h ^= (uint32_t)d[len & ~(size_t)3];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t
weir_rest_key_partition(const void *key, size_t len, int32_t npartitions)
{
    uint32_t h = (uint32_t)weir_rest_murmur2(key, len) & 0x7fffffffu;

    return npartitions > 0 ? (int32_t)(h % (uint32_t)npartitions) : 0;
}

static void
weir_rest_wr_blob(weir_wbuf_t *w, const void *p, int32_t len)
{
    if (len < 0 || (!p && len > 0)) {
        weir_wr_varint(w, -1);
        return;
    }
    weir_wr_varint(w, len);
    if (len > 0)
        weir_wr_raw(w, p, (size_t)len);
}

void
weir_rest_batch_build(weir_wbuf_t *w, const weir_rest_record_t *recs, size_t n)
{
    size_t start = w->len, len_pos, crc_pos;
    int64_t base_ts = n ? recs[0].timestamp : 0, max_ts = base_ts;
    weir_wbuf_t body;

    for (size_t i = 0; i < n; i++)
        if (recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;
    weir_wr_i64(w, 0);                 /* BaseOffset (the log assigns it) */
    len_pos = w->len;
    weir_wr_i32(w, 0);                 /* BatchLength, patched below */
    weir_wr_i32(w, -1);                /* PartitionLeaderEpoch */
    weir_wr_i8(w, 2);                  /* Magic */
    crc_pos = w->len;
    weir_wr_u32(w, 0);                 /* CRC, patched below */
    weir_wr_i16(w, 0);                 /* Attributes: no compression, CreateTime */
    weir_wr_i32(w, (int32_t)n - 1);    /* LastOffsetDelta */
    weir_wr_i64(w, base_ts);
    weir_wr_i64(w, max_ts);
    weir_wr_i64(w, -1);                /* ProducerId */
    weir_wr_i16(w, -1);                /* ProducerEpoch */
    weir_wr_i32(w, -1);                /* BaseSequence */
    weir_wr_i32(w, (int32_t)n);        /* RecordsCount */
    weir_wbuf_init(&body, 256);
    for (size_t i = 0; i < n; i++) {
        const weir_rest_record_t *r = &recs[i];
        body.len = 0;
        weir_wr_i8(&body, 0); /* attributes */
        weir_wr_varlong(&body, r->timestamp - base_ts);
        weir_wr_varint(&body, (int32_t)i);
        weir_rest_wr_blob(&body, r->key, r->key_len);
        weir_rest_wr_blob(&body, r->value, r->value_len);
        weir_wr_varint(&body, (int32_t)r->nheaders);
        for (size_t k = 0; k < r->nheaders; k++) {
            const weir_rest_header_t *h = &r->headers[k];
            weir_rest_wr_blob(&body, h->name, (int32_t)h->name_len);
            weir_rest_wr_blob(&body, h->value, h->value_len);
        }
        weir_wr_varint(w, (int32_t)body.len);
        weir_wr_raw(w, body.data, body.len);
    }
    weir_wbuf_free(&body);
    weir_put_be32(w->data + len_pos, (uint32_t)(w->len - start - WEIR_BATCH_LOG_OVERHEAD));
    weir_put_be32(w->data + crc_pos,
                  weir_crc32c(0, w->data + start + WEIR_BATCH_OFF_ATTRIBUTES,
                              w->len - start - WEIR_BATCH_OFF_ATTRIBUTES));
}

/* ------------------------------------------------------------------------ */
/* JSON to Avro                                                             */
/* ------------------------------------------------------------------------ */

static int weir_rest_avro_enc(const weir_avro_node_t *n, const json_t *v, weir_wbuf_t *w,
                              bool dflt, int depth, char *err, size_t errsz);

/* Avro's JSON encoding of bytes and fixed: each code point 0-255 is a byte. */
static int
weir_rest_avro_bytes(const json_t *v, weir_wbuf_t *out, size_t *count, char *err, size_t errsz)
{
    const uint8_t *s = (const uint8_t *)json_string_value(v);
    size_t len = json_string_length(v), n = 0;

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (s[i] < 0x80) {
            cp = s[i];
            i++;
        } else if ((s[i] & 0xe0) == 0xc0 && i + 1 < len) {
            cp = (uint32_t)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f);
            i += 2;
        } else {
            snprintf(err, errsz, "bytes: a character above \\u00ff");
            return -1;
        }
        if (cp > 0xff) {
            snprintf(err, errsz, "bytes: a character above \\u00ff");
            return -1;
        }
        if (out)
            weir_wr_i8(out, (int8_t)(uint8_t)cp);
        n++;
    }
    *count = n;
    return 0;
}

/* The branch name of a union member in Avro's JSON encoding. */
static const char *
weir_rest_avro_branch_name(const weir_avro_node_t *b)
{
    return b->fullname ? b->fullname : weir_avro_type_name(b->type);
}

static int
weir_rest_avro_enc(const weir_avro_node_t *n, const json_t *v, weir_wbuf_t *w, bool dflt,
                   int depth, char *err, size_t errsz)
{
    if (depth > WEIR_AVRO_MAX_VALUE_DEPTH) {
        snprintf(err, errsz, "value nested too deeply");
        return -1;
    }
    switch (n->type) {
    case WEIR_AVRO_NULL:
        if (!json_is_null(v))
            goto mismatch;
        return 0;
    case WEIR_AVRO_BOOLEAN:
        if (!json_is_boolean(v))
            goto mismatch;
        weir_wr_i8(w, json_is_true(v) ? 1 : 0);
        return 0;
    case WEIR_AVRO_INT:
        if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
            json_integer_value(v) > INT32_MAX)
            goto mismatch;
        weir_wr_varint(w, (int32_t)json_integer_value(v));
        return 0;
    case WEIR_AVRO_LONG:
        if (!json_is_integer(v))
            goto mismatch;
        weir_wr_varlong(w, (int64_t)json_integer_value(v));
        return 0;
    case WEIR_AVRO_FLOAT: {
        float f;
        uint32_t u;
        if (!json_is_number(v))
            goto mismatch;
        f = (float)json_number_value(v);
        memcpy(&u, &f, 4);
        for (int i = 0; i < 4; i++)
            weir_wr_i8(w, (int8_t)(uint8_t)(u >> (8 * i)));
        return 0;
    }
    case WEIR_AVRO_DOUBLE: {
        double d;
        uint64_t u;
        if (!json_is_number(v))
            goto mismatch;
        d = json_number_value(v);
        memcpy(&u, &d, 8);
        for (int i = 0; i < 8; i++)
            weir_wr_i8(w, (int8_t)(uint8_t)(u >> (8 * i)));
        return 0;
    }
    case WEIR_AVRO_BYTES: {
        size_t cnt;
        if (!json_is_string(v))
            goto mismatch;
        if (weir_rest_avro_bytes(v, NULL, &cnt, err, errsz) < 0)
            return -1;
        weir_wr_varlong(w, (int64_t)cnt);
        return weir_rest_avro_bytes(v, w, &cnt, err, errsz);
    }
    case WEIR_AVRO_FIXED: {
        size_t cnt;
        if (!json_is_string(v))
            goto mismatch;
        if (weir_rest_avro_bytes(v, NULL, &cnt, err, errsz) < 0)
            return -1;
        if (cnt != (size_t)n->size) {
            snprintf(err, errsz, "fixed %s needs %d bytes, not %zu", n->fullname, n->size, cnt);
            return -1;
        }
        return weir_rest_avro_bytes(v, w, &cnt, err, errsz);
    }
    case WEIR_AVRO_STRING:
        if (!json_is_string(v))
            goto mismatch;
        weir_wr_varlong(w, (int64_t)json_string_length(v));
        weir_wr_raw(w, json_string_value(v), json_string_length(v));
        return 0;
    case WEIR_AVRO_RECORD:
        if (!json_is_object(v))
            goto mismatch;
        for (size_t i = 0; i < n->nfields; i++) {
            const weir_avro_field_t *f = &n->fields[i];
            const json_t *fv = json_object_get(v, f->name);
            bool fd = dflt;
            if (!fv) {
                if (!f->default_value) {
                    snprintf(err, errsz, "field %s of %s is missing and has no default",
                             f->name, n->fullname);
                    return -1;
                }
                fv = f->default_value;
                fd = true;
            }
            if (weir_rest_avro_enc(f->type, fv, w, fd, depth + 1, err, errsz) < 0) {
                size_t l = strlen(err);
                if (l + strlen(f->name) + 8 < errsz && strncmp(err, "field ", 6) != 0) {
                    memmove(err + strlen(f->name) + 8, err, l + 1);
                    memcpy(err, "field ", 6);
                    memcpy(err + 6, f->name, strlen(f->name));
                    memcpy(err + 6 + strlen(f->name), ": ", 2);
                }
                return -1;
            }
        }
        return 0;
    case WEIR_AVRO_ENUM:
        if (!json_is_string(v))
            goto mismatch;
        for (size_t i = 0; i < n->nsymbols; i++) {
            if (strcmp(n->symbols[i], json_string_value(v)) == 0) {
                weir_wr_varint(w, (int32_t)i);
                return 0;
            }
        }
        snprintf(err, errsz, "\"%.100s\" is not a symbol of enum %s", json_string_value(v),
                 n->fullname);
        return -1;
    case WEIR_AVRO_ARRAY: {
        size_t cnt;
        if (!json_is_array(v))
            goto mismatch;
        cnt = json_array_size(v);
        if (cnt > 0) {
            weir_wr_varlong(w, (int64_t)cnt);
            for (size_t i = 0; i < cnt; i++)
                if (weir_rest_avro_enc(n->child, json_array_get(v, i), w, dflt, depth + 1, err,
                                       errsz) < 0)
                    return -1;
        }
        weir_wr_varlong(w, 0);
        return 0;
    }
    case WEIR_AVRO_MAP: {
        const char *k;
        json_t *mv;
        if (!json_is_object(v))
            goto mismatch;
        if (json_object_size(v) > 0) {
            weir_wr_varlong(w, (int64_t)json_object_size(v));
            json_object_foreach((json_t *)v, k, mv) {
                weir_wr_varlong(w, (int64_t)strlen(k));
                weir_wr_raw(w, k, strlen(k));
                if (weir_rest_avro_enc(n->child, mv, w, dflt, depth + 1, err, errsz) < 0)
                    return -1;
            }
        }
        weir_wr_varlong(w, 0);
        return 0;
    }
    case WEIR_AVRO_UNION:
        if (dflt) { /* a default belongs to the first branch, unwrapped */
            if (n->nbranches == 0) {
                snprintf(err, errsz, "empty union");
                return -1;
            }
            weir_wr_varint(w, 0);
            return weir_rest_avro_enc(n->branches[0], v, w, true, depth + 1, err, errsz);
        }
        if (json_is_null(v)) {
            for (size_t i = 0; i < n->nbranches; i++) {
                if (n->branches[i]->type == WEIR_AVRO_NULL) {
                    weir_wr_varint(w, (int32_t)i);
                    return 0;
                }
            }
            snprintf(err, errsz, "null is not allowed by the union");
            return -1;
        }
        if (json_is_object(v) && json_object_size(v) == 1) {
            const char *k = json_object_iter_key(json_object_iter((json_t *)v));
            for (size_t i = 0; i < n->nbranches; i++) {
                const weir_avro_node_t *b = n->branches[i];
                if (strcmp(weir_rest_avro_branch_name(b), k) == 0 ||
                    (b->name && strcmp(b->name, k) == 0)) {
                    weir_wr_varint(w, (int32_t)i);
                    return weir_rest_avro_enc(b, json_object_get(v, k), w, false, depth + 1,
                                              err, errsz);
                }
            }
            snprintf(err, errsz, "union has no branch \"%.100s\"", k);
            return -1;
        }
        snprintf(err, errsz, "a union value must be null or {\"<type>\": value}");
        return -1;
    }
mismatch:
    snprintf(err, errsz, "expected %s", weir_avro_type_name(n->type));
    return -1;
}

int
weir_rest_avro_encode(const weir_avro_node_t *n, const json_t *v, weir_wbuf_t *w, char *err,
                      size_t errsz)
{
    size_t start = w->len;

    err[0] = 0;
    if (weir_rest_avro_enc(n, v, w, false, 0, err, errsz) < 0) {
        w->len = start;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

static weir_rest_proxy_t *
weir_rp(const weir_http_req_t *req)
{
    return req->route->arg;
}

/* Answers a JSON value with content type ctype (takes the reference). */
static int
weir_rp_json(weir_http_req_t *req, int status, const char *ctype, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    json_decref(v);
    weir_http_respond(req, status, ctype, text, strlen(text));
    free(text);
    return 0;
}

/* The body as JSON; strings may hold \u0000 (Avro bytes in JSON). */
static json_t *
weir_rp_body_json(const weir_http_req_t *req, char *errstr, size_t errstr_size)
{
    char je[200];
    json_t *j;

    if (req->body_len == 0) {
        snprintf(errstr, errstr_size, "the request has no body (JSON expected)");
        return NULL;
    }
    j = weir_rest_json_parse((const char *)req->body, req->body_len, NULL, je, sizeof(je));
    if (!j)
        snprintf(errstr, errstr_size, "malformed JSON: %s", je);
    else if (!json_is_object(j) && !json_is_array(j)) {
        snprintf(errstr, errstr_size, "malformed JSON: an object was expected");
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* Parses a non-negative int32 path or JSON value. */
static int
weir_rp_parse_i32(const char *s, int32_t *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static weir_topic_t *
weir_rp_topic(weir_broker_t *brk, const char *name)
{
    for (size_t i = 0; i < brk->ntopics; i++)
        if (strcmp(brk->topics[i]->name, name) == 0)
            return brk->topics[i];
    return NULL;
}

static weir_str_t
weir_rp_str(const char *s)
{
    return (weir_str_t){(int32_t)strlen(s), s};
}

/* Whether the principal may op on topic (quiet: a listing, not audited). */
static bool
weir_rp_may(weir_http_req_t *req, int16_t api, int op, const char *topic, bool quiet)
{
    return weir_produce_path_authorized(req->brk, req->conn, &req->principal, api, op,
                                        weir_rp_str(topic), quiet);
}

/* The Accept check of every route: 406 when nothing acceptable. */
static const char *
weir_rp_accept(weir_http_req_t *req, bool v3)
{
    const char *accept = weir_http_header(req, "Accept");
    const char *t;

    if (v3) {
        weir_rest_ctype_t ct;
        const char *p = accept;
        if (!accept || !*accept)
            return WEIR_RP_V3_CTYPE;
        while (p && *p) {
            const char *c = strchr(p, ',');
            size_t l = c ? (size_t)(c - p) : strlen(p);
            if (weir_rest_ctype_parse(p, l, true, &ct) == 0 && (!ct.kafka || !ct.fmt))
                return WEIR_RP_V3_CTYPE;
            p = c ? c + 1 : NULL;
        }
        t = NULL;
    } else {
        t = weir_rest_accept(accept, WEIR_REST_FMT_NONE);
    }
    if (!t)
        weir_http_respond_error(req, 406, 406, "HTTP 406 Not Acceptable");
    return t;
}

static void
weir_rp_wr(weir_wbuf_t *w, const char *s)
{
    weir_wr_raw(w, s, strlen(s));
}

/* A decimal integer (snprintf costs more than the rest of a record). */
static void
weir_rp_wr_int(weir_wbuf_t *w, int64_t v)
{
    char buf[24], *e = buf + sizeof(buf), *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    weir_wr_raw(w, p, (size_t)(e - p));
}

/* A JSON string literal of s. */
static void
weir_rp_wr_jstr(weir_wbuf_t *w, const char *s)
{
    json_t *j = json_string(s);
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

    weir_rp_wr(w, t ? t : "\"\"");
    free(t);
    json_decref(j);
}

/* ------------------------------------------------------------------------ */
/* Topics (v2)                                                              */
/* ------------------------------------------------------------------------ */

static json_t *
weir_rp_partition_json(const weir_broker_t *brk, int32_t p)
{
    return json_pack("{s:i, s:i, s:[{s:i, s:b, s:b}]}", "partition", p, "leader", brk->node_id,
                     "replicas", "broker", brk->node_id, "leader", 1, "in_sync", 1);
}

/* GET /topics */
static int
weir_rp_topics(weir_http_req_t *req)
{
    weir_broker_t *brk = req->brk;
    const char *ct = weir_rp_accept(req, false);
    json_t *a;

    if (!ct)
        return 0;
    a = json_array();
    for (size_t i = 0; i < brk->ntopics; i++)
        if (weir_rp_may(req, WEIR_API_Metadata, WEIR_ACL_OP_DESCRIBE, brk->topics[i]->name, true))
            json_array_append_new(a, json_string(brk->topics[i]->name));
    return weir_rp_json(req, 200, ct, a);
}

/* The topic of {topic} when the principal may DESCRIBE it; else answers. */
static weir_topic_t *
weir_rp_described(weir_http_req_t *req)
{
    const char *name = weir_http_param(req, "topic");
    weir_topic_t *t;

    if (!weir_rp_may(req, WEIR_API_Metadata, WEIR_ACL_OP_DESCRIBE, name, false)) {
        weir_http_respond_error(req, 403, WEIR_RP_AUTHORIZATION_FAILED,
                                "Not authorized to access topics: [%s]", name);
        return NULL;
    }
    t = weir_rp_topic(req->brk, name);
    if (!t)
        weir_http_respond_error(req, 404, WEIR_RP_TOPIC_NOT_FOUND, "Topic not found.");
    return t;
}

/* GET /topics/{topic} */
static int
weir_rp_topic_get(weir_http_req_t *req)
{
    weir_broker_t *brk = req->brk;
    const char *ct = weir_rp_accept(req, false);
    weir_topic_t *t;
    json_t *o, *cfg, *parts;

    if (!ct || !(t = weir_rp_described(req)))
        return 0;
    cfg = json_object();
    for (size_t i = 0;; i++) {
        char value[1024];
        const char *name;
        int source;
        bool ro;
        if (!weir_topic_config_describe(brk->conf, &t->configs, i, &name, value, sizeof(value),
                                        &source, &ro))
            break;
        json_object_set_new(cfg, name, json_string(value));
    }
    parts = json_array();
    for (int32_t p = 0; p < t->npartitions; p++)
        json_array_append_new(parts, weir_rp_partition_json(brk, p));
    o = json_pack("{s:s, s:o, s:o}", "name", t->name, "configs", cfg, "partitions", parts);
    return weir_rp_json(req, 200, ct, o);
}

/* GET /topics/{topic}/partitions */
static int
weir_rp_partitions(weir_http_req_t *req)
{
    const char *ct = weir_rp_accept(req, false);
    weir_topic_t *t;
    json_t *a;

    if (!ct || !(t = weir_rp_described(req)))
        return 0;
    a = json_array();
    for (int32_t p = 0; p < t->npartitions; p++)
        json_array_append_new(a, weir_rp_partition_json(req->brk, p));
    return weir_rp_json(req, 200, ct, a);
}

/* GET /topics/{topic}/partitions/{partition} */
static int
weir_rp_partition_get(weir_http_req_t *req)
{
    const char *ct = weir_rp_accept(req, false);
    weir_topic_t *t;
    int32_t p;

    if (!ct || !(t = weir_rp_described(req)))
        return 0;
    if (weir_rp_parse_i32(weir_http_param(req, "partition"), &p) < 0 || p >= t->npartitions) {
        weir_http_respond_error(req, 404, WEIR_RP_PARTITION_NOT_FOUND, "Partition not found.");
        return 0;
    }
    return weir_rp_json(req, 200, ct, weir_rp_partition_json(req->brk, p));
}

/* ------------------------------------------------------------------------ */
/* Records being produced                                                   */
/* ------------------------------------------------------------------------ */

typedef struct weir_rp_rec_s {
    uint8_t *key;        /* owned; NULL with key_len -1 */
    int32_t key_len;
    uint8_t *value;      /* owned */
    int32_t value_len;
    weir_rest_header_t *headers; /* values owned, names point into the request's JSON */
    size_t nheaders;
    int64_t timestamp;
    int32_t partition;   /* -1: not chosen yet */
    const char *key_type, *value_type; /* v3 answers: "BINARY", ... NULL when null */
    int32_t key_schema_id, value_schema_id;
    /* outcome */
    int status;          /* 200, or the HTTP-like status of a refused record (v3) */
    weir_kerr_t kerr;
    int64_t offset;
    char *message;       /* owned, for errors */
} weir_rp_rec_t;

static void
weir_rp_recs_free(weir_rp_rec_t *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(recs[i].key);
        free(recs[i].value);
        for (size_t k = 0; k < recs[i].nheaders; k++)
            free((void *)recs[i].headers[k].value);
        free(recs[i].headers);
        free(recs[i].message);
    }
    free(recs);
}

static void weir_rp_fail(weir_rp_rec_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
weir_rp_fail(weir_rp_rec_t *r, int status, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    r->status = status;
    free(r->message);
    r->message = weir_strdup(buf);
}

static void
weir_rp_wbuf_take(weir_wbuf_t *w, uint8_t **out, int32_t *len)
{
    *out = w->data;
    *len = (int32_t)w->len;
    w->data = NULL;
    w->len = w->cap = 0;
}

/* A resolved schema: its id and Avro root. */
typedef struct weir_rp_schema_s {
    int32_t id;
    const weir_reg_schema_t *schema;
} weir_rp_schema_t;

/*
 * Registers text under subject as a registration through the Schema
 * Registry API would be: dry run, the governance hook (tenant ownership,
 * approval: a held-back schema names its pending request), registration,
 * audit.  The hooks see a request made of the caller's principal and a
 * registration body {"schema": text}.
 */
static int
weir_rp_register(weir_http_req_t *req, const char *subject, const char *text,
                 weir_rp_schema_t *out, weir_reg_err_t *err)
{
    weir_rest_proxy_t *rp = weir_rp(req);
    weir_registry_t *reg = req->brk->registry;
    weir_reg_schema_req_t sr = {.schema = text, .schema_len = strlen(text),
                                .schema_type = "AVRO"};
    weir_reg_result_t res;
    weir_http_req_t shim;
    json_t *body = json_pack("{s:s}", "schema", text);
    char *body_text = json_dumps(body, JSON_COMPACT);
    char detail[2200];
    int rc = -1;

    json_decref(body);
    memset(&shim, 0, sizeof(shim));
    shim.conn = req->conn;
    shim.brk = req->brk;
    shim.srv = req->srv;
    shim.method = "POST";
    shim.target = shim.path = shim.raw_path = (char *)"/subjects";
    shim.body = (uint8_t *)body_text;
    shim.body_len = strlen(body_text);
    shim.principal = req->principal; /* shallow: read only */
    shim.recv_us = req->recv_us;
    if (!reg) {
        err->status = 500;
        err->code = 50001;
        snprintf(err->message, sizeof(err->message), "the broker has no schema registry");
        goto out;
    }
    if (weir_registry_check_subject(subject, err) < 0)
        goto refused;
    if (rp->hooks.authorize) {
        sr.dry_run = true;
        if (weir_registry_register(reg, subject, &sr, &res, err) < 0)
            goto refused;
        sr.dry_run = false;
        if (rp->hooks.authorize(rp->hooks.arg, &shim, WEIR_REG_OP_SUBJECT_WRITE, subject, &res,
                                err) != 0) {
            if (!err->status) {
                err->status = 403;
                err->code = 40301;
                snprintf(err->message, sizeof(err->message),
                         "User is denied operation on this resource");
            }
            if (rp->hooks.audit) {
                snprintf(detail, sizeof(detail), "%d %s", err->code, err->message);
                rp->hooks.audit(rp->hooks.arg, &shim, "schema.register", subject, "denied",
                                detail);
            }
            goto out;
        }
    }
    if (weir_registry_register(reg, subject, &sr, &res, err) < 0)
        goto refused;
    if (rp->hooks.audit) {
        snprintf(detail, sizeof(detail), "id=%d version=%d existed=%s via=rest-proxy", res.id,
                 res.version, res.existed ? "true" : "false");
        rp->hooks.audit(rp->hooks.arg, &shim, "schema.register", subject, "ok", detail);
    }
    out->id = res.id;
    out->schema = res.schema;
    if (!out->schema && weir_registry_schema_by_id(reg, res.id, &out->schema, err) < 0)
        goto out;
    rc = 0;
    goto out;
refused:
    if (rp->hooks.audit) {
        snprintf(detail, sizeof(detail), "%d %s", err->code, err->message);
        rp->hooks.audit(rp->hooks.arg, &shim, "schema.register", subject, "refused", detail);
    }
out:
    free(body_text);
    return rc;
}

/* The schema with id id (must be Avro). */
static int
weir_rp_schema_id(weir_http_req_t *req, int32_t id, weir_rp_schema_t *out, weir_reg_err_t *err)
{
    if (!req->brk->registry) {
        err->status = 500;
        err->code = 50001;
        snprintf(err->message, sizeof(err->message), "the broker has no schema registry");
        return -1;
    }
    if (weir_registry_schema_by_id(req->brk->registry, id, &out->schema, err) < 0)
        return -1;
    if (out->schema->type != WEIR_SCHEMA_AVRO || !out->schema->avro) {
        err->status = 422;
        err->code = WEIR_RP_INVALID_SCHEMA;
        snprintf(err->message, sizeof(err->message), "Schema %d is not an Avro schema", id);
        return -1;
    }
    out->id = id;
    return 0;
}

/* Confluent's wire format of an Avro value: 0, the schema id, the binary. */
static int
weir_rp_avro_value(const weir_rp_schema_t *s, const json_t *data, uint8_t **out, int32_t *len,
                   char *err, size_t errsz)
{
    weir_wbuf_t w;

    weir_wbuf_init(&w, 64);
    weir_wr_i8(&w, 0);
    weir_wr_i32(&w, s->id);
    if (weir_rest_avro_encode(s->schema->avro->root, data, &w, err, errsz) < 0) {
        weir_wbuf_free(&w);
        return -1;
    }
    weir_rp_wbuf_take(&w, out, len);
    return 0;
}

/* JSON text of a value (Confluent's json embedded format). */
static void
weir_rp_json_bytes(const json_t *v, uint8_t **out, int32_t *len)
{
    weir_wbuf_t w;

    weir_wbuf_init(&w, 64);
    weir_rest_json_write(&w, v);
    weir_rp_wbuf_take(&w, out, len);
}

/* ------------------------------------------------------------------------ */
/* Appending                                                                */
/* ------------------------------------------------------------------------ */

static bool
weir_rp_retriable(weir_kerr_t e)
{
    return e == WEIR_KERR_CORRUPT_MESSAGE || e == WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION ||
           e == WEIR_KERR_KAFKA_STORAGE_ERROR || e == WEIR_KERR_REQUEST_TIMED_OUT;
}

/* The v3 status of a Kafka error. */
static int
weir_rp_kerr_status(weir_kerr_t e)
{
    switch (e) {
    case WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION:
        return 404;
    case WEIR_KERR_MESSAGE_TOO_LARGE:
        return 413;
    case WEIR_KERR_INVALID_RECORD:
    case WEIR_KERR_CORRUPT_MESSAGE:
        return 422;
    case WEIR_KERR_TOPIC_AUTHORIZATION_FAILED:
        return 403;
    default:
        return 500;
    }
}

typedef struct weir_rp_sort_s {
    int32_t partition;
    size_t idx;
} weir_rp_sort_t;

static int
weir_rp_sort_cmp(const void *a, const void *b)
{
    const weir_rp_sort_t *x = a, *y = b;

    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Appends every record still at status 200: one batch per partition, in
 * record order, through the shared produce path.  Fills offsets or errors. */
static void
weir_rp_append(weir_http_req_t *req, const weir_topic_t *t, weir_rp_rec_t *recs, size_t n)
{
    weir_rp_sort_t *order = weir_calloc(n ? n : 1, sizeof(*order));
    weir_rest_record_t *br = weir_calloc(n ? n : 1, sizeof(*br));
    weir_str_t topic = weir_rp_str(t->name);
    size_t m = 0;
    weir_wbuf_t w;

    for (size_t i = 0; i < n; i++)
        if (recs[i].status == 200)
            order[m++] = (weir_rp_sort_t){recs[i].partition, i};
    qsort(order, m, sizeof(*order), weir_rp_sort_cmp);
    weir_wbuf_init(&w, 1024);
    for (size_t s = 0; s < m;) {
        size_t e = s, k = 0;
        weir_produce_result_t res;
        weir_kerr_t err;

        while (e < m && order[e].partition == order[s].partition)
            e++;
        for (size_t j = s; j < e; j++) {
            const weir_rp_rec_t *r = &recs[order[j].idx];
            br[k++] = (weir_rest_record_t){.key = r->key, .key_len = r->key_len,
                                           .value = r->value, .value_len = r->value_len,
                                           .headers = r->headers, .nheaders = r->nheaders,
                                           .timestamp = r->timestamp};
        }
        w.len = 0;
        weir_rest_batch_build(&w, br, k);
        err = weir_produce_path_append(req->brk, req->conn, topic, order[s].partition, w.data,
                                       w.len, &res);
        for (size_t j = s; j < e; j++) {
            weir_rp_rec_t *r = &recs[order[j].idx];
            r->kerr = err;
            if (!err) {
                r->offset = res.base_offset + (int64_t)(j - s);
                if (res.log_append_time >= 0)
                    r->timestamp = res.log_append_time;
            } else if (err == WEIR_KERR_INVALID_RECORD && res.record_index >= 0) {
                weir_rp_fail(r, weir_rp_kerr_status(err), "%s: record %" PRId64 " of the "
                             "partition's batch was refused by schema validation: %s",
                             weir_kerr_name(err), res.record_index, res.message);
            } else {
                weir_rp_fail(r, weir_rp_kerr_status(err), "%s%s%s", weir_kerr_name(err),
                             res.message[0] ? ": " : "", res.message);
            }
        }
        s = e;
    }
    weir_wbuf_free(&w);
    free(br);
    free(order);
}

/* The produce quota of the request (Kafka counts the request's size): the
 * connection is muted for the throttle time once answered. */
static void
weir_rp_quota(weir_http_req_t *req)
{
    int32_t ms = weir_produce_path_quota(req->brk, req->conn, &req->principal,
                                         (int64_t)req->body_len);

    if (ms > 0 && req->conn) {
        char v[16];
        snprintf(v, sizeof(v), "%d", ms);
        weir_http_set_header(req, "X-Weir-Throttle-Ms", v);
        weir_conn_mute(req->conn, ms);
    }
}

/* Chooses the partition of records without one: the key's (murmur2), or,
 * for unkeyed records, one partition per request taken in turn (Kafka's
 * sticky partitioner spreads unkeyed records the same way). */
static void
weir_rp_partition(weir_rest_proxy_t *rp, const weir_topic_t *t, weir_rp_rec_t *recs, size_t n)
{
    int32_t sticky = (int32_t)(rp->sticky++ % (uint32_t)t->npartitions);

    for (size_t i = 0; i < n; i++) {
        weir_rp_rec_t *r = &recs[i];
        if (r->status != 200 || r->partition >= 0)
            continue;
        if (r->key_len >= 0)
            r->partition = weir_rest_key_partition(r->key, (size_t)r->key_len, t->npartitions);
        else
            r->partition = sticky;
    }
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                  */
/* ------------------------------------------------------------------------ */

/* ms since the epoch as ISO-8601 in UTC with milliseconds. */
static void
weir_rp_iso_time(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* {"type", "size"[, "schema_id"]} of a v3 key or value, or null. */
static void
weir_rp_wr_part(weir_wbuf_t *w, const char *type, int32_t len, int32_t schema_id)
{
    if (!type) {
        weir_rp_wr(w, "null");
        return;
    }
    weir_rp_wr(w, "{\"type\":\"");
    weir_rp_wr(w, type);
    weir_rp_wr(w, "\",\"size\":");
    weir_rp_wr_int(w, len < 0 ? 0 : len);
    if (schema_id > 0) {
        weir_rp_wr(w, ",\"schema_id\":");
        weir_rp_wr_int(w, schema_id);
    }
    weir_rp_wr(w, "}");
}


/* The outcome of a produce request once appended: the records' results,
 * answered now or, with weir.produce.acks.all.fsync (the REST proxy
 * produces as an acks=all producer), once every partition written is on
 * stable storage - as Kafka Produce with acks=-1 does. */
typedef struct weir_rp_outcome_s {
    weir_http_req_t *req; /* NULL once the connection closed */
    bool v3;
    const char *resp_ct;  /* a static string */
    char *topic;
    char cluster_id[24];
    weir_rp_rec_t *recs;  /* key, value and headers already released */
    size_t n;
    int32_t key_schema_id, value_schema_id; /* v2; 0: none */
    int pending;          /* syncs in flight, plus a guard while starting them */
} weir_rp_outcome_t;

typedef struct weir_rp_sync_s {
    weir_rp_outcome_t *o;
    int32_t partition;
} weir_rp_sync_t;

static void
weir_rp_outcome_free(weir_rp_outcome_t *o)
{
    weir_rp_recs_free(o->recs, o->n);
    free(o->topic);
    free(o);
}

/* Takes recs (releasing what only the append needed). */
static weir_rp_outcome_t *
weir_rp_outcome(weir_http_req_t *req, bool v3, const char *resp_ct, const weir_topic_t *t,
                weir_rp_rec_t *recs, size_t n, int32_t key_schema_id, int32_t value_schema_id)
{
    weir_rp_outcome_t *o = weir_calloc(1, sizeof(*o));

    for (size_t i = 0; i < n; i++) {
        free(recs[i].key);
        free(recs[i].value);
        recs[i].key = recs[i].value = NULL;
        for (size_t k = 0; k < recs[i].nheaders; k++)
            free((void *)recs[i].headers[k].value);
        free(recs[i].headers);
        recs[i].headers = NULL;
        recs[i].nheaders = 0;
    }
    o->req = req;
    o->v3 = v3;
    o->resp_ct = resp_ct;
    o->topic = weir_strdup(t->name);
    snprintf(o->cluster_id, sizeof(o->cluster_id), "%s", req->brk->cluster_id);
    o->recs = recs;
    o->n = n;
    o->key_schema_id = key_schema_id;
    o->value_schema_id = value_schema_id;
    return o;
}

/* Confluent v2: {"offsets":[...],"key_schema_id","value_schema_id"}.  The
 * answer is written directly: json_pack per record costs more than the
 * append. */
static void
weir_rp_answer_v2(weir_rp_outcome_t *o, weir_wbuf_t *out)
{
    weir_rp_wr(out, "{\"offsets\":[");
    for (size_t i = 0; i < o->n; i++) {
        weir_rp_rec_t *r = &o->recs[i];
        weir_rp_wr(out, i > 0 ? ",{\"partition\":" : "{\"partition\":");
        weir_rp_wr_int(out, r->partition);
        if (r->kerr) {
            weir_rp_wr(out, weir_rp_retriable(r->kerr) ? ",\"offset\":null,\"error_code\":2,"
                                                         "\"error\":"
                                                       : ",\"offset\":null,\"error_code\":1,"
                                                         "\"error\":");
            weir_rp_wr_jstr(out, r->message ? r->message : weir_kerr_name(r->kerr));
            weir_rp_wr(out, "}");
        } else {
            weir_rp_wr(out, ",\"offset\":");
            weir_rp_wr_int(out, r->offset);
            weir_rp_wr(out, ",\"error_code\":null,\"error\":null}");
        }
    }
    weir_rp_wr(out, "],\"key_schema_id\":");
    if (o->key_schema_id > 0)
        weir_rp_wr_int(out, o->key_schema_id);
    else
        weir_rp_wr(out, "null");
    weir_rp_wr(out, ",\"value_schema_id\":");
    if (o->value_schema_id > 0)
        weir_rp_wr_int(out, o->value_schema_id);
    else
        weir_rp_wr(out, "null");
    weir_rp_wr(out, "}");
}

/* Confluent v3: one result per record, newline-separated. */
static void
weir_rp_answer_v3(weir_rp_outcome_t *o, weir_wbuf_t *out)
{
    int64_t iso_ms = INT64_MIN;
    char iso[64] = "";
    weir_wbuf_t head;

    /* topic names and cluster ids need no escaping ([A-Za-z0-9._-]) */
    weir_wbuf_init(&head, 128);
    weir_rp_wr(&head, "{\"error_code\":200,\"cluster_id\":\"");
    weir_rp_wr(&head, o->cluster_id);
    weir_rp_wr(&head, "\",\"topic_name\":\"");
    weir_rp_wr(&head, o->topic);
    weir_rp_wr(&head, "\",\"partition_id\":");
    for (size_t i = 0; i < o->n; i++) {
        weir_rp_rec_t *r = &o->recs[i];
        if (i > 0)
            weir_wr_raw(out, "\n", 1);
        if (r->status != 200) {
            weir_rp_wr(out, "{\"error_code\":");
            weir_rp_wr_int(out, r->status);
            weir_rp_wr(out, ",\"message\":");
            weir_rp_wr_jstr(out, r->message ? r->message : "error");
            weir_rp_wr(out, "}");
            continue;
        }
        weir_wr_raw(out, head.data, head.len);
        weir_rp_wr_int(out, r->partition);
        weir_rp_wr(out, ",\"offset\":");
        weir_rp_wr_int(out, r->offset);
        weir_rp_wr(out, ",\"timestamp\":\"");
        if (r->timestamp != iso_ms) { /* records of a request mostly share one */
            iso_ms = r->timestamp;
            weir_rp_iso_time(iso_ms, iso, sizeof(iso));
        }
        weir_rp_wr(out, iso);
        weir_rp_wr(out, "\",\"key\":");
        weir_rp_wr_part(out, r->key_type, r->key_len, r->key_schema_id);
        weir_rp_wr(out, ",\"value\":");
        weir_rp_wr_part(out, r->value_type, r->value_len, r->value_schema_id);
        weir_rp_wr(out, "}");
    }
    weir_wbuf_free(&head);
}

/* Answers (unless the connection went away) and frees o. */
static void
weir_rp_answer(weir_rp_outcome_t *o)
{
    weir_wbuf_t out;
    int status = 200;

    if (o->req) {
        o->req->cancel = NULL;
        o->req->ctx = NULL;
        weir_wbuf_init(&out, 64 + (o->v3 ? 200 : 64) * o->n);
        if (o->v3) {
            weir_rp_answer_v3(o, &out);
            if (o->n == 1) /* one record: its status is the answer's; a stream's is 200 */
                status = o->recs[0].status;
        } else {
            weir_rp_answer_v2(o, &out);
        }
        weir_http_respond(o->req, status, o->resp_ct, out.data, out.len);
        weir_wbuf_free(&out);
    }
    weir_rp_outcome_free(o);
}

static void
weir_rp_sync_done(weir_rp_outcome_t *o)
{
    if (--o->pending == 0)
        weir_rp_answer(o);
}

static void
weir_rp_on_sync(void *arg, int status)
{
    weir_rp_sync_t *sy = arg;
    weir_rp_outcome_t *o = sy->o;

    if (status != 0) {
        for (size_t i = 0; i < o->n; i++) {
            weir_rp_rec_t *r = &o->recs[i];
            if (r->partition == sy->partition && r->status == 200 && !r->kerr) {
                r->kerr = WEIR_KERR_KAFKA_STORAGE_ERROR;
                weir_rp_fail(r, weir_rp_kerr_status(r->kerr), "%s: the append could not be "
                             "made durable", weir_kerr_name(r->kerr));
            }
        }
    }
    free(sy);
    weir_rp_sync_done(o);
}

/* The connection closed while fsyncs were pending: answer nobody. */
static void
weir_rp_on_cancel(weir_http_req_t *req)
{
    weir_rp_outcome_t *o = req->ctx;

    o->req = NULL;
}

/* Answers now, or once the partitions written are synced when
 * weir.produce.acks.all.fsync asks for it. */
static void
weir_rp_commit(weir_rp_outcome_t *o)
{
    weir_broker_t *brk = o->req->brk;
    weir_topic_t *t = weir_rp_topic(brk, o->topic);
    bool *synced;

    if (!brk->conf->acks_all_fsync || !t) {
        weir_rp_answer(o);
        return;
    }
    o->pending = 1; /* a guard while the syncs start: one may complete at once */
    o->req->cancel = weir_rp_on_cancel;
    o->req->ctx = o;
    synced = weir_calloc((size_t)t->npartitions, sizeof(*synced));
    for (size_t i = 0; i < o->n; i++) {
        weir_rp_rec_t *r = &o->recs[i];
        weir_rp_sync_t *sy;
        if (r->status != 200 || r->kerr || r->partition < 0 ||
            r->partition >= t->npartitions || synced[r->partition])
            continue;
        synced[r->partition] = true;
        sy = weir_malloc(sizeof(*sy));
        sy->o = o;
        sy->partition = r->partition;
        o->pending++;
        weir_plog_sync(t->partitions[r->partition]->log, weir_rp_on_sync, sy);
    }
    free(synced);
    weir_rp_sync_done(o);
}

/* ------------------------------------------------------------------------ */
/* v2 produce                                                               */
/* ------------------------------------------------------------------------ */

/* One key or value of a v2 record in the request's embedded format. */
static int
weir_rp_v2_field(weir_http_req_t *req, weir_rest_fmt_t fmt, const json_t *v,
                 const weir_rp_schema_t *schema, uint8_t **out, int32_t *len, int *code,
                 char *err, size_t errsz)
{
    size_t n;

    (void)req;
    *out = NULL;
    *len = -1;
    if (!v || json_is_null(v))
        return 0;
    switch (fmt) {
    case WEIR_REST_FMT_BINARY:
        if (!json_is_string(v) ||
            weir_base64_decode(json_string_value(v), json_string_length(v), out, &n) < 0) {
            *code = 422;
            snprintf(err, errsz, "binary keys and values must be base64 strings");
            return -1;
        }
        *len = (int32_t)n;
        return 0;
    case WEIR_REST_FMT_JSON:
        weir_rp_json_bytes(v, out, len);
        return 0;
    default: {
        char why[600];
        if (weir_rp_avro_value(schema, v, out, len, why, sizeof(why)) < 0) {
            *code = WEIR_RP_JSON_AVRO_CONVERSION;
            snprintf(err, errsz, "Conversion of JSON to Avro failed: %s", why);
            return -1;
        }
        return 0;
    }
    }
}

/* key_schema / key_schema_id (or the value's) of a v2 Avro request. */
static int
weir_rp_v2_schema(weir_http_req_t *req, const json_t *body, const char *topic, bool key,
                  bool needed, weir_rp_schema_t *out, bool *have)
{
    const json_t *text = json_object_get(body, key ? "key_schema" : "value_schema");
    const json_t *id = json_object_get(body, key ? "key_schema_id" : "value_schema_id");
    weir_reg_err_t err = {0};
    char subject[300];

    *have = false;
    if (id && !json_is_null(id)) {
        if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
            json_integer_value(id) > INT32_MAX) {
            weir_http_respond_error(req, 422, 422, "%s must be a positive integer",
                                    key ? "key_schema_id" : "value_schema_id");
            return -1;
        }
        if (weir_rp_schema_id(req, (int32_t)json_integer_value(id), out, &err) < 0)
            goto fail;
        *have = true;
        return 0;
    }
    if (text && !json_is_null(text)) {
        if (!json_is_string(text)) {
            weir_http_respond_error(req, 422, 422, "%s must be a string",
                                    key ? "key_schema" : "value_schema");
            return -1;
        }
        snprintf(subject, sizeof(subject), "%s-%s", topic, key ? "key" : "value");
        if (weir_rp_register(req, subject, json_string_value(text), out, &err) < 0)
            goto fail;
        *have = true;
        return 0;
    }
    if (needed) {
        weir_http_respond_error(req, 422, key ? WEIR_RP_KEY_SCHEMA_MISSING
                                              : WEIR_RP_VALUE_SCHEMA_MISSING,
                                key ? "Request includes keys but does not include key schema"
                                    : "Request includes values but does not include value "
                                      "schema");
        return -1;
    }
    return 0;
fail:
    weir_reg_err_clear(&err);
    weir_http_respond_error(req, err.status ? err.status : 500, err.code ? err.code : 50001,
                            "%s", err.message);
    return -1;
}

/* The checks every produce route makes first: media types, WRITE, the
 * topic.  Answers and returns NULL on failure. */
static weir_topic_t *
weir_rp_produce_prologue(weir_http_req_t *req, bool v3, weir_rest_ctype_t *ct,
                         const char **resp_ctype)
{
    const char *name = weir_http_param(req, "topic");
    const char *ctv = weir_http_header(req, "Content-Type");
    weir_topic_t *t;

    if (weir_rest_content_type(ctv, ct) < 0 || (v3 && ct->kafka)) {
        weir_http_respond_error(req, 415, 415, "HTTP 415 Unsupported Media Type");
        return NULL;
    }
    if (!(*resp_ctype = weir_rp_accept(req, v3)))
        return NULL;
    if (!weir_produce_path_allowed(req->brk, req->conn, &req->principal, weir_rp_str(name))) {
        weir_http_respond_error(req, 403, WEIR_RP_AUTHORIZATION_FAILED,
                                "Not authorized to access topics: [%s]", name);
        return NULL;
    }
    t = weir_rp_topic(req->brk, name);
    if (!t)
        weir_http_respond_error(req, 404, v3 ? 404 : WEIR_RP_TOPIC_NOT_FOUND,
                                v3 ? "This server does not host this topic-partition."
                                   : "Topic not found.");
    return t;
}

/* POST /topics/{topic} and /topics/{topic}/partitions/{partition} */
static int
weir_rp_v2_produce(weir_http_req_t *req)
{
    weir_rest_proxy_t *rp = weir_rp(req);
    const char *pstr = weir_http_param(req, "partition");
    weir_rest_ctype_t ct;
    const char *resp_ct;
    weir_topic_t *t;
    weir_rest_fmt_t fmt;
    json_t *body = NULL, *records;
    weir_rp_schema_t ks = {0}, vs = {0};
    bool have_ks = false, have_vs = false, any_key = false, any_value = false;
    weir_rp_rec_t *recs = NULL;
    int32_t path_part = -1;
    size_t n;
    int64_t now = weir_wall_ms();
    char errstr[700];

    if (!(t = weir_rp_produce_prologue(req, false, &ct, &resp_ct)))
        return 0;
    if (pstr && (weir_rp_parse_i32(pstr, &path_part) < 0 || path_part >= t->npartitions)) {
        weir_http_respond_error(req, 404, WEIR_RP_PARTITION_NOT_FOUND, "Partition not found.");
        return 0;
    }
    fmt = ct.fmt == WEIR_REST_FMT_NONE ? WEIR_REST_FMT_BINARY : ct.fmt;
    if (fmt == WEIR_REST_FMT_JSONSCHEMA) {
        weir_http_respond_error(req, 422, 422, "The jsonschema embedded format is not supported "
                                "by Weir's REST proxy (use json, binary or avro)");
        return 0;
    }
    if (!(body = weir_rp_body_json(req, errstr, sizeof(errstr)))) {
        weir_http_respond_error(req, 400, 400, "%s", errstr);
        return 0;
    }
    records = json_object_get(body, "records");
    if (!json_is_object(body) || !json_is_array(records)) {
        weir_http_respond_error(req, 422, 422, "the body must be an object with a \"records\" "
                                "array");
        goto done;
    }
    n = json_array_size(records);
    if (n == 0) {
        weir_http_respond_error(req, 422, 422, "records may not be empty");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(records, i);
        if (!json_is_object(r)) {
            weir_http_respond_error(req, 422, 422, "record %zu is not an object", i);
            goto done;
        }
        if (json_object_get(r, "key") && !json_is_null(json_object_get(r, "key")))
            any_key = true;
        if (json_object_get(r, "value") && !json_is_null(json_object_get(r, "value")))
            any_value = true;
    }
    if (fmt == WEIR_REST_FMT_AVRO &&
        (weir_rp_v2_schema(req, body, t->name, true, any_key, &ks, &have_ks) < 0 ||
         weir_rp_v2_schema(req, body, t->name, false, any_value, &vs, &have_vs) < 0))
        goto done;
    recs = weir_calloc(n, sizeof(*recs));
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(records, i);
        json_t *jp = json_object_get(r, "partition");
        weir_rp_rec_t *rec = &recs[i];
        int code = 422;

        rec->status = 200;
        rec->timestamp = now;
        rec->partition = path_part;
        rec->key_len = rec->value_len = -1;
        if (!pstr && jp && !json_is_null(jp)) { /* the path's partition wins */
            if (!json_is_integer(jp) || json_integer_value(jp) < 0 ||
                json_integer_value(jp) >= t->npartitions) {
                weir_http_respond_error(req, 404, WEIR_RP_PARTITION_NOT_FOUND,
                                        "Partition not found.");
                goto done;
            }
            rec->partition = (int32_t)json_integer_value(jp);
        }
        if (weir_rp_v2_field(req, fmt, json_object_get(r, "key"), &ks, &rec->key, &rec->key_len,
                             &code, errstr, sizeof(errstr)) < 0 ||
            weir_rp_v2_field(req, fmt, json_object_get(r, "value"), &vs, &rec->value,
                             &rec->value_len, &code, errstr, sizeof(errstr)) < 0) {
            weir_http_respond_error(req, 422, code, "record %zu: %s", i, errstr);
            goto done;
        }
    }
    /* Everything parsed: nothing refused so far was appended. */
    weir_rp_partition(rp, t, recs, n);
    weir_rp_append(req, t, recs, n);
    weir_rp_quota(req);
    weir_rp_commit(weir_rp_outcome(req, false, resp_ct, t, recs, n, have_ks ? ks.id : 0,
                                   have_vs ? vs.id : 0));
    recs = NULL; /* the outcome's now */
done:
    if (recs)
        weir_rp_recs_free(recs, n);
    json_decref(body);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* v3 produce                                                               */
/* ------------------------------------------------------------------------ */

/* Parses an ISO-8601 date-time ("2021-02-05T19:14:42.123Z", offsets
 * allowed) into ms since the epoch. */
static int
weir_rp_parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0;
    int64_t ms = 0, off = 0;
    const char *p;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n < 19)
        return -1;
    p = s + n;
    if (*p == '.') {
        int digits = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return -1;
        off = ((int64_t)oh * 60 + om) * 60000 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) * 1000 + ms - off;
    return 0;
}

/* One v3 key or value: {"type", "data", "schema_id" | "schema" |
 * "schema_version" (+ "subject")}. */
static int
weir_rp_v3_data(weir_http_req_t *req, const weir_topic_t *t, const json_t *o, bool key,
                uint8_t **out, int32_t *len, const char **type, int32_t *schema_id,
                weir_rp_rec_t *rec)
{
    const json_t *jt = json_object_get(o, "type"), *data = json_object_get(o, "data");
    const json_t *sid = json_object_get(o, "schema_id"), *stext = json_object_get(o, "schema");
    const json_t *sver = json_object_get(o, "schema_version");
    const json_t *subj = json_object_get(o, "subject");
    const char *ty = json_is_string(jt) ? json_string_value(jt) : NULL;
    const char *what = key ? "key" : "value";
    bool schema = (sid && !json_is_null(sid)) || (stext && !json_is_null(stext)) ||
                  (sver && !json_is_null(sver));
    char errstr[700];
    size_t n;

    *out = NULL;
    *len = -1;
    *type = NULL;
    *schema_id = 0;
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o)) {
        weir_rp_fail(rec, 400, "%s must be an object {\"type\", \"data\"}", what);
        return -1;
    }
    if (jt && !json_is_null(jt) && !ty) {
        weir_rp_fail(rec, 400, "%s.type must be a string", what);
        return -1;
    }
    if (!ty)
        ty = schema ? "AVRO" : (json_is_string(data) || !data) ? "BINARY" : "JSON";
    if (strcasecmp(ty, "BINARY") == 0) {
        *type = "BINARY";
        if (!data || json_is_null(data))
            return 0;
        if (!json_is_string(data) ||
            weir_base64_decode(json_string_value(data), json_string_length(data), out, &n) < 0) {
            weir_rp_fail(rec, 400, "%s.data of type BINARY must be a base64 string", what);
            return -1;
        }
        *len = (int32_t)n;
        return 0;
    }
    if (strcasecmp(ty, "JSON") == 0) {
        *type = "JSON";
        if (!data || json_is_null(data))
            return 0;
        weir_rp_json_bytes(data, out, len);
        return 0;
    }
    if (strcasecmp(ty, "STRING") == 0) {
        *type = "STRING";
        if (!data || json_is_null(data))
            return 0;
        if (!json_is_string(data)) {
            weir_rp_fail(rec, 400, "%s.data of type STRING must be a string", what);
            return -1;
        }
        *len = (int32_t)json_string_length(data);
        *out = weir_malloc((size_t)*len + 1);
        memcpy(*out, json_string_value(data), (size_t)*len + 1);
        return 0;
    }
    if (strcasecmp(ty, "AVRO") == 0) {
        weir_rp_schema_t s = {0};
        weir_reg_err_t err = {0};
        char subject[300];
        int rc;

        *type = "AVRO";
        if (subj && json_is_string(subj))
            snprintf(subject, sizeof(subject), "%s", json_string_value(subj));
        else
            snprintf(subject, sizeof(subject), "%s-%s", t->name, what);
        if (sid && !json_is_null(sid)) {
            if (!json_is_integer(sid) || json_integer_value(sid) <= 0 ||
                json_integer_value(sid) > INT32_MAX) {
                weir_rp_fail(rec, 400, "%s.schema_id must be a positive integer", what);
                return -1;
            }
            rc = weir_rp_schema_id(req, (int32_t)json_integer_value(sid), &s, &err);
        } else if (stext && json_is_string(stext)) {
            rc = weir_rp_register(req, subject, json_string_value(stext), &s, &err);
        } else if (sver && json_is_integer(sver) && req->brk->registry) {
            const weir_reg_version_t *v;
            rc = weir_registry_get_version(req->brk->registry, subject,
                                           (int32_t)json_integer_value(sver), false, &v, &err);
            if (rc == 0 && v->schema->type != WEIR_SCHEMA_AVRO) {
                err.status = 422;
                err.code = WEIR_RP_INVALID_SCHEMA;
                snprintf(err.message, sizeof(err.message), "not an Avro schema");
                rc = -1;
            } else if (rc == 0) {
                s.id = v->schema->id;
                s.schema = v->schema;
            }
        } else if (req->brk->registry) {
            /* Confluent: the latest version of the subject */
            const weir_reg_version_t *v;
            rc = weir_registry_get_version(req->brk->registry, subject, WEIR_REG_LATEST, false,
                                           &v, &err);
            if (rc == 0 && v->schema->type == WEIR_SCHEMA_AVRO) {
                s.id = v->schema->id;
                s.schema = v->schema;
            } else if (rc == 0) {
                err.status = 422;
                err.code = WEIR_RP_INVALID_SCHEMA;
                snprintf(err.message, sizeof(err.message), "not an Avro schema");
                rc = -1;
            }
        } else {
            err.status = 500;
            err.code = 50001;
            snprintf(err.message, sizeof(err.message), "the broker has no schema registry");
            rc = -1;
        }
        if (rc < 0) {
            weir_reg_err_clear(&err);
            weir_rp_fail(rec, err.status ? err.status : 500, "%s", err.message);
            return -1;
        }
        *schema_id = s.id;
        if (!data || json_is_null(data))
            return 0;
        if (weir_rp_avro_value(&s, data, out, len, errstr, sizeof(errstr)) < 0) {
            weir_rp_fail(rec, 422, "Conversion of JSON to Avro failed: %s: %s", what, errstr);
            return -1;
        }
        return 0;
    }
    weir_rp_fail(rec, 400, "%s.type %.40s is not supported (BINARY, JSON, STRING, AVRO)", what,
                 ty);
    return -1;
}

/* One v3 record object into rec (errors leave rec->status != 200). */
static void
weir_rp_v3_record(weir_http_req_t *req, const weir_topic_t *t, const json_t *o, int64_t now,
                  weir_rp_rec_t *rec)
{
    const json_t *jp = json_object_get(o, "partition_id"), *hs = json_object_get(o, "headers");
    const json_t *ts = json_object_get(o, "timestamp");

    rec->status = 200;
    rec->partition = -1;
    rec->key_len = rec->value_len = -1;
    rec->timestamp = now;
    if (!json_is_object(o)) {
        weir_rp_fail(rec, 400, "a record must be a JSON object");
        return;
    }
    if (jp && !json_is_null(jp)) {
        if (!json_is_integer(jp) || json_integer_value(jp) < 0) {
            weir_rp_fail(rec, 400, "partition_id must be a non-negative integer");
            return;
        }
        if (json_integer_value(jp) >= t->npartitions) {
            weir_rp_fail(rec, 404, "This server does not host this topic-partition.");
            return;
        }
        rec->partition = (int32_t)json_integer_value(jp);
    }
    if (ts && !json_is_null(ts)) {
        if (json_is_integer(ts)) {
            rec->timestamp = (int64_t)json_integer_value(ts);
        } else if (!json_is_string(ts) ||
                   weir_rp_parse_time(json_string_value(ts), &rec->timestamp) < 0) {
            weir_rp_fail(rec, 400, "timestamp must be an ISO-8601 date-time");
            return;
        }
    }
    if (hs && !json_is_null(hs)) {
        if (!json_is_array(hs)) {
            weir_rp_fail(rec, 400, "headers must be an array");
            return;
        }
        rec->headers = weir_calloc(json_array_size(hs) + 1, sizeof(*rec->headers));
        for (size_t i = 0; i < json_array_size(hs); i++) {
            const json_t *h = json_array_get(hs, i);
            const json_t *hn = json_object_get(h, "name"), *hv = json_object_get(h, "value");
            weir_rest_header_t *d = &rec->headers[rec->nheaders];
            size_t n;
            if (!json_is_string(hn)) {
                weir_rp_fail(rec, 400, "header %zu has no name", i);
                return;
            }
            d->name = json_string_value(hn);
            d->name_len = json_string_length(hn);
            d->value_len = -1;
            rec->nheaders++;
            if (hv && !json_is_null(hv)) {
                uint8_t *b;
                if (!json_is_string(hv) ||
                    weir_base64_decode(json_string_value(hv), json_string_length(hv), &b,
                                       &n) < 0) {
                    weir_rp_fail(rec, 400, "header %s: value must be base64", d->name);
                    return;
                }
                d->value = b;
                d->value_len = (int32_t)n;
            }
        }
    }
    if (weir_rp_v3_data(req, t, json_object_get(o, "key"), true, &rec->key, &rec->key_len,
                        &rec->key_type, &rec->key_schema_id, rec) < 0)
        return;
    weir_rp_v3_data(req, t, json_object_get(o, "value"), false, &rec->value, &rec->value_len,
                    &rec->value_type, &rec->value_schema_id, rec);
}

/* POST /v3/clusters/{cluster_id}/topics/{topic}/records */
static int
weir_rp_v3_produce(weir_http_req_t *req)
{
    weir_rest_proxy_t *rp = weir_rp(req);
    const char *cluster = weir_http_param(req, "cluster_id");
    const char *resp_ct;
    weir_rest_ctype_t ct;
    weir_topic_t *t;
    json_t **objs = NULL;
    weir_rp_rec_t *recs = NULL;
    size_t n = 0, cap = 0, off = 0;
    int64_t now = weir_wall_ms();

    if (strcmp(cluster, req->brk->cluster_id) != 0) {
        weir_http_respond_error(req, 404, 404, "Cluster %s cannot be found.", cluster);
        return 0;
    }
    if (!(t = weir_rp_produce_prologue(req, true, &ct, &resp_ct)))
        return 0;
    /* Concatenated JSON: one or more objects, whitespace between. */
    for (;;) {
        char je[200];
        size_t used = 0;
        json_t *o;
        while (off < req->body_len && (req->body[off] == ' ' || req->body[off] == '\t' ||
                                       req->body[off] == '\r' || req->body[off] == '\n'))
            off++;
        if (off >= req->body_len)
            break;
        o = weir_rest_json_parse((const char *)req->body + off, req->body_len - off, &used, je,
                                 sizeof(je));
        if (!o) {
            weir_http_respond_error(req, 400, 400, "malformed JSON in record %zu: %s", n, je);
            goto done;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            objs = weir_realloc(objs, cap * sizeof(*objs));
        }
        objs[n++] = o;
        off += used;
    }
    if (n == 0) {
        weir_http_respond_error(req, 400, 400, "the request has no record");
        goto done;
    }
    recs = weir_calloc(n, sizeof(*recs));
    for (size_t i = 0; i < n; i++)
        weir_rp_v3_record(req, t, objs[i], now, &recs[i]);
    weir_rp_partition(rp, t, recs, n);
    weir_rp_append(req, t, recs, n);
    weir_rp_quota(req);
    weir_rp_commit(weir_rp_outcome(req, true, resp_ct, t, recs, n, 0, 0));
    recs = NULL; /* the outcome's now */
done:
    for (size_t i = 0; i < n; i++)
        json_decref(objs[i]);
    free(objs);
    if (recs)
        weir_rp_recs_free(recs, n);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Registration                                                             */
/* ------------------------------------------------------------------------ */

weir_rest_proxy_t *
weir_rest_proxy_register(weir_http_server_t *srv, weir_broker_t *brk,
                         const weir_registry_hooks_t *hooks, char *errstr, size_t errstr_size)
{
    weir_rest_proxy_t *rp = weir_calloc(1, sizeof(*rp));
    const weir_http_route_t routes[] = {
        {"GET", "/topics", weir_rp_topics, WEIR_RP_V2_CTYPE, "rest.topics", 0, rp},
        {"GET", "/topics/{topic}", weir_rp_topic_get, WEIR_RP_V2_CTYPE, "rest.topic", 0, rp},
        {"GET", "/topics/{topic}/partitions", weir_rp_partitions, WEIR_RP_V2_CTYPE,
         "rest.partitions", 0, rp},
        {"GET", "/topics/{topic}/partitions/{partition}", weir_rp_partition_get,
         WEIR_RP_V2_CTYPE, "rest.partition", 0, rp},
        {"POST", "/topics/{topic}", weir_rp_v2_produce, WEIR_RP_V2_CTYPE, "rest.produce", 0, rp},
        {"POST", "/topics/{topic}/partitions/{partition}", weir_rp_v2_produce, WEIR_RP_V2_CTYPE,
         "rest.produce_partition", 0, rp},
        {"POST", "/v3/clusters/{cluster_id}/topics/{topic}/records", weir_rp_v3_produce,
         WEIR_RP_V3_CTYPE, "rest.v3.produce", 0, rp},
    };

    rp->brk = brk;
    if (hooks)
        rp->hooks = *hooks;
    rp->sticky = (uint32_t)weir_wall_ms();
    if (weir_http_route_add(srv, routes, sizeof(routes) / sizeof(*routes), errstr,
                            errstr_size) != 0) {
        free(rp);
        return NULL;
    }
    return rp;
}

void
weir_rest_proxy_free(weir_rest_proxy_t *rp)
{
    free(rp);
}
