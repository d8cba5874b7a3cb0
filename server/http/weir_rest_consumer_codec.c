/*
 * weir_rest_consumer_codec.c: consumer protocol bytes, the range and
 * roundrobin assignors, and Avro binary to Avro JSON for the REST Proxy's
 * consumer instances (weir_rest_consumer_codec.h).
 */
#include "weir_rest_consumer_codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_avro_payload.h"
#include "weir_buf.h"
#include "weir_common.h"
#include "weir_varint.h"

/* ------------------------------------------------------------------ */
/* Topic partition lists                                               */

void
weir_restc_tplist_add(weir_restc_tplist_t *l, const char *topic, int32_t partition)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = weir_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].topic = weir_strdup(topic);
    l->v[l->n].partition = partition;
    l->n++;
}

void
weir_restc_tplist_clear(weir_restc_tplist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].topic);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int
weir_restc_tp_cmp(const void *a, const void *b)
{
    const weir_restc_tp_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);

    if (c)
        return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

void
weir_restc_tplist_sort(weir_restc_tplist_t *l)
{
    size_t o = 0;

    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), weir_restc_tp_cmp);
    for (size_t i = 0; i < l->n; i++) {
        if (o > 0 && weir_restc_tp_cmp(&l->v[o - 1], &l->v[i]) == 0) {
            free(l->v[i].topic);
            continue;
        }
        l->v[o++] = l->v[i];
    }
    l->n = o;
}

/* ------------------------------------------------------------------ */
/* Consumer protocol                                                   */

uint8_t *
weir_restc_subscription_encode(char *const *topics, size_t ntopics, int32_t *len)
{
    weir_wbuf_t w;

    weir_wbuf_init(&w, 64);
    weir_wr_i16(&w, 0);
    weir_wr_array(&w, (int32_t)ntopics);
    for (size_t i = 0; i < ntopics; i++)
        weir_wr_cstr(&w, topics[i]);
    weir_wr_bytes(&w, NULL, -1);
    *len = (int32_t)w.len;
    return w.data;
}

void
weir_restc_topics_free(char **topics, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(topics[i]);
    free(topics);
}

int
weir_restc_subscription_decode(const uint8_t *p, size_t len, char ***topics, size_t *n)
{
    weir_rbuf_t rd;
    int32_t cnt;
    char **v = NULL;
    size_t k = 0;

    *topics = NULL;
    *n = 0;
    weir_rbuf_init(&rd, p, len);
    if (weir_rd_i16(&rd) < 0 || rd.err)
        return -1;
    cnt = weir_rd_array(&rd, 2);
    if (rd.err || cnt < 0)
        return -1;
    if (cnt > 0)
        v = weir_calloc((size_t)cnt, sizeof(*v));
    for (int32_t i = 0; i < cnt; i++) {
        weir_str_t t = weir_rd_str(&rd);
        if (rd.err || t.len < 0 || memchr(t.ptr, '\0', (size_t)t.len)) {
            weir_restc_topics_free(v, k);
            return -1;
        }
        v[k++] = weir_strndup(t.ptr, (size_t)t.len);
    }
    *topics = v;
    *n = k;
    return 0;
}

uint8_t *
weir_restc_assignment_encode(const weir_restc_tplist_t *l, int32_t *len)
{
    weir_wbuf_t w;
    size_t ntopics = 0;

    for (size_t i = 0; i < l->n; i++)
        if (i == 0 || strcmp(l->v[i].topic, l->v[i - 1].topic) != 0)
            ntopics++;
    weir_wbuf_init(&w, 64);
    weir_wr_i16(&w, 0);
    weir_wr_array(&w, (int32_t)ntopics);
    for (size_t i = 0; i < l->n;) {
        size_t j = i;
        while (j < l->n && strcmp(l->v[j].topic, l->v[i].topic) == 0)
            j++;
        weir_wr_cstr(&w, l->v[i].topic);
        weir_wr_array(&w, (int32_t)(j - i));
        for (size_t k = i; k < j; k++)
            weir_wr_i32(&w, l->v[k].partition);
        i = j;
    }
    weir_wr_bytes(&w, NULL, -1);
    *len = (int32_t)w.len;
    return w.data;
}

int
weir_restc_assignment_decode(const uint8_t *p, size_t len, weir_restc_tplist_t *out)
{
    weir_rbuf_t rd;
    int32_t nt;

    if (len == 0)
        return 0;
    weir_rbuf_init(&rd, p, len);
    if (weir_rd_i16(&rd) < 0 || rd.err)
        return -1;
    nt = weir_rd_array(&rd, 6);
    if (rd.err || nt < 0)
        return -1;
    for (int32_t i = 0; i < nt; i++) {
        weir_str_t t = weir_rd_str(&rd);
        int32_t np;
        char *topic;

        if (rd.err || t.len < 0 || memchr(t.ptr, '\0', (size_t)t.len))
            return -1;
        np = weir_rd_array(&rd, 4);
        if (rd.err || np < 0)
            return -1;
        topic = weir_strndup(t.ptr, (size_t)t.len);
        for (int32_t k = 0; k < np && !rd.err; k++) {
            int32_t part = weir_rd_i32(&rd);
            if (!rd.err && part >= 0)
                weir_restc_tplist_add(out, topic, part);
        }
        free(topic);
        if (rd.err)
            return -1;
    }
    weir_restc_tplist_sort(out);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Assignors                                                           */

static int
weir_restc_member_cmp(const void *a, const void *b)
{
    const weir_restc_member_t *const *x = a, *const *y = b;

    return strcmp((*x)->member_id, (*y)->member_id);
}

static bool
weir_restc_subscribes(const weir_restc_member_t *m, const char *topic)
{
    for (size_t i = 0; i < m->ntopics; i++)
        if (strcmp(m->topics[i], topic) == 0)
            return true;
    return false;
}

static int
weir_restc_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every topic some member subscribes to, sorted, each once (views). */
static const char **
weir_restc_all_topics(weir_restc_member_t *const *ms, size_t n, size_t *count)
{
    size_t total = 0, o = 0;
    const char **v;

    for (size_t i = 0; i < n; i++)
        total += ms[i]->ntopics;
    v = weir_calloc(total + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < ms[i]->ntopics; k++)
            v[o++] = ms[i]->topics[k];
    if (o > 1)
        qsort(v, o, sizeof(*v), weir_restc_str_cmp);
    total = o;
    o = 0;
    for (size_t i = 0; i < total; i++)
        if (o == 0 || strcmp(v[o - 1], v[i]) != 0)
            v[o++] = v[i];
    *count = o;
    return v;
}

int
weir_restc_assign(const char *protocol, weir_restc_member_t *members, size_t n,
                  weir_restc_nparts_fn nparts, void *arg)
{
    bool range = strcmp(protocol, "range") == 0;
    weir_restc_member_t **ms;
    const char **topics;
    size_t ntopics;

    if (!range && strcmp(protocol, "roundrobin") != 0)
        return -1;
    if (n == 0)
        return 0;
    ms = weir_calloc(n, sizeof(*ms));
    for (size_t i = 0; i < n; i++)
        ms[i] = &members[i];
    qsort(ms, n, sizeof(*ms), weir_restc_member_cmp);
    topics = weir_restc_all_topics(ms, n, &ntopics);
    if (range) {
        weir_restc_member_t **subs = weir_calloc(n, sizeof(*subs));

        for (size_t t = 0; t < ntopics; t++) {
            int32_t np = nparts(arg, topics[t]);
            size_t c = 0;

            if (np <= 0)
                continue;
            for (size_t i = 0; i < n; i++)
                if (weir_restc_subscribes(ms[i], topics[t]))
                    subs[c++] = ms[i];
            if (c == 0)
                continue;
            for (size_t i = 0; i < c; i++) {
                int32_t per = np / (int32_t)c, extra = np % (int32_t)c;
                int32_t start = per * (int32_t)i + WEIR_MIN((int32_t)i, extra);
                int32_t cnt = per + ((int32_t)i < extra ? 1 : 0);
                for (int32_t p = start; p < start + cnt; p++)
                    weir_restc_tplist_add(&subs[i]->assigned, topics[t], p);
            }
        }
        free(subs);
    } else {
        size_t next = 0;

        for (size_t t = 0; t < ntopics; t++) {
            int32_t np = nparts(arg, topics[t]);

            for (int32_t p = 0; p < np; p++) {
                /* Some member subscribes to every listed topic. */
                while (!weir_restc_subscribes(ms[next], topics[t]))
                    next = (next + 1) % n;
                weir_restc_tplist_add(&ms[next]->assigned, topics[t], p);
                next = (next + 1) % n;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        weir_restc_tplist_sort(&members[i].assigned);
    free(topics);
    free(ms);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Avro binary -> Avro JSON                                            */

typedef struct weir_ajr_s {
    const uint8_t *p;
    size_t len, pos;
    char *err;
    size_t errsz;
    bool failed;
} weir_ajr_t;

static json_t *weir_ajr_fail(weir_ajr_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static json_t *
weir_ajr_fail(weir_ajr_t *r, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (r->failed)
        return NULL;
    r->failed = true;
    if (!r->err || !r->errsz)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errsz, fmt, ap);
    va_end(ap);
    n = strlen(r->err);
    if (n < r->errsz)
        snprintf(r->err + n, r->errsz - n, " (at byte %zu)", r->pos);
    return NULL;
}

static bool
weir_ajr_varint(weir_ajr_t *r, int maxbytes, int64_t *out)
{
    const uint8_t *q;

    if (r->pos < r->len && (q = weir_varint_at(r->p + r->pos, r->p + r->len, maxbytes, out))) {
        r->pos = (size_t)(q - r->p);
        return true;
    }
    /* fewer than maxbytes bytes left, all continued: it ends with them */
    if (r->len - r->pos < (size_t)maxbytes) {
        r->pos = r->len;
        weir_ajr_fail(r, "truncated: the payload ends inside a number");
    } else {
        r->pos += (size_t)maxbytes;
        weir_ajr_fail(r, "a variable-length number is longer than %d bytes", maxbytes);
    }
    return false;
}

/* A length-prefixed byte string: pointer and length, checked. */
static const uint8_t *
weir_ajr_blob(weir_ajr_t *r, size_t *n)
{
    int64_t l;
    const uint8_t *s;

    if (!weir_ajr_varint(r, 10, &l))
        return NULL;
    if (l < 0 || (uint64_t)l > r->len - r->pos) {
        weir_ajr_fail(r, "a length of %lld does not fit the %zu bytes left", (long long)l,
                      r->len - r->pos);
        return NULL;
    }
    s = r->p + r->pos;
    r->pos += (size_t)l;
    *n = (size_t)l;
    return s;
}

/* Bytes as a JSON string of code points 0-255 (Avro's JSON encoding). */
static json_t *
weir_ajr_latin1(const uint8_t *s, size_t n)
{
    char *u = weir_malloc(n * 2 + 1);
    size_t o = 0;
    json_t *j;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            u[o++] = (char)s[i];
        } else {
            u[o++] = (char)(0xc0 | (s[i] >> 6));
            u[o++] = (char)(0x80 | (s[i] & 0x3f));
        }
    }
    j = json_stringn(u, o);
    free(u);
    return j;
}

/* Zero-byte encodings (null, empty record...) could make a block count
 * costless: such items are bounded separately. */
static bool
weir_ajr_zero_size(const weir_avro_node_t *n, int depth)
{
    if (depth > 8)
        return false;
    switch (n->type) {
    case WEIR_AVRO_NULL:
        return true;
    case WEIR_AVRO_FIXED:
        return n->size == 0;
    case WEIR_AVRO_RECORD:
        for (size_t i = 0; i < n->nfields; i++)
            if (!weir_ajr_zero_size(n->fields[i].type, depth + 1))
                return false;
        return true;
    default:
        return false;
    }
}

static const char *
weir_ajr_branch_name(const weir_avro_node_t *b)
{
    if (b->fullname)
        return b->fullname;
    return weir_avro_type_name(b->type);
}

static json_t *weir_ajr_value(weir_ajr_t *r, const weir_avro_node_t *n, int depth);

/* Array items or map values, in blocks. */
static json_t *
weir_ajr_blocks(weir_ajr_t *r, const weir_avro_node_t *n, int depth)
{
    bool map = n->type == WEIR_AVRO_MAP;
    json_t *out = map ? json_object() : json_array();
    bool zero = !map && weir_ajr_zero_size(n->child, 0);
    size_t items = 0;

    for (;;) {
        int64_t cnt;

        if (!weir_ajr_varint(r, 10, &cnt))
            goto fail;
        if (cnt == 0)
            break;
        if (cnt < 0) {
            int64_t bytes;
            if (cnt == INT64_MIN || !weir_ajr_varint(r, 10, &bytes))
                goto fail;
            cnt = -cnt;
        }
        if (zero ? (uint64_t)cnt + items > WEIR_AVRO_MAX_EMPTY_ITEMS
                 : (uint64_t)cnt > r->len - r->pos) {
            weir_ajr_fail(r, "a block of %lld items cannot fit the %zu bytes left", (long long)cnt,
                          r->len - r->pos);
            goto fail;
        }
        items += (size_t)cnt;
        for (int64_t i = 0; i < cnt; i++) {
            json_t *v;
            if (map) {
                size_t kl;
                const uint8_t *k = weir_ajr_blob(r, &kl);
                char *key;
                if (!k)
                    goto fail;
                key = weir_strndup((const char *)k, kl);
                if (strlen(key) != kl) {
                    free(key);
                    weir_ajr_fail(r, "a map key holds a NUL byte");
                    goto fail;
                }
                v = weir_ajr_value(r, n->child, depth + 1);
                if (!v) {
                    free(key);
                    goto fail;
                }
                json_object_set_new(out, key, v);
                free(key);
            } else {
                v = weir_ajr_value(r, n->child, depth + 1);
                if (!v)
                    goto fail;
                json_array_append_new(out, v);
            }
        }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static json_t *
weir_ajr_value(weir_ajr_t *r, const weir_avro_node_t *n, int depth)
{
    int64_t v;
    size_t l;
    const uint8_t *s;
    json_t *j;

    if (r->failed)
        return NULL;
    if (depth > WEIR_AVRO_MAX_VALUE_DEPTH)
        return weir_ajr_fail(r, "values nested deeper than %d", WEIR_AVRO_MAX_VALUE_DEPTH);
    switch (n->type) {
    case WEIR_AVRO_NULL:
        return json_null();
    case WEIR_AVRO_BOOLEAN:
        if (r->pos >= r->len)
            return weir_ajr_fail(r, "truncated: the payload ends inside a boolean");
        if (r->p[r->pos] > 1)
            return weir_ajr_fail(r, "a boolean byte is %u", r->p[r->pos]);
        return json_boolean(r->p[r->pos++]);
    case WEIR_AVRO_INT:
        if (!weir_ajr_varint(r, 5, &v))
            return NULL;
        if (v < INT32_MIN || v > INT32_MAX)
            return weir_ajr_fail(r, "an int is out of range");
        return json_integer(v);
    case WEIR_AVRO_LONG:
        if (!weir_ajr_varint(r, 10, &v))
            return NULL;
        return json_integer(v);
    case WEIR_AVRO_FLOAT: {
        uint32_t b;
        float f;
        if (r->len - r->pos < 4)
            return weir_ajr_fail(r, "truncated: the payload ends inside a float");
        b = (uint32_t)r->p[r->pos] | (uint32_t)r->p[r->pos + 1] << 8 |
            (uint32_t)r->p[r->pos + 2] << 16 | (uint32_t)r->p[r->pos + 3] << 24;
        r->pos += 4;
        memcpy(&f, &b, 4);
        return json_real((double)f);
    }
    case WEIR_AVRO_DOUBLE: {
        uint64_t b = 0;
        double d;
        if (r->len - r->pos < 8)
            return weir_ajr_fail(r, "truncated: the payload ends inside a double");
        for (int i = 7; i >= 0; i--)
            b = b << 8 | r->p[r->pos + (size_t)i];
        r->pos += 8;
        memcpy(&d, &b, 8);
        return json_real(d);
    }
    case WEIR_AVRO_BYTES:
        if (!(s = weir_ajr_blob(r, &l)))
            return NULL;
        return weir_ajr_latin1(s, l);
    case WEIR_AVRO_STRING:
        if (!(s = weir_ajr_blob(r, &l)))
            return NULL;
        j = json_stringn((const char *)s, l);
        if (!j)
            return weir_ajr_fail(r, "a string is not valid UTF-8");
        return j;
    case WEIR_AVRO_FIXED:
        if (n->size < 0 || (size_t)n->size > r->len - r->pos)
            return weir_ajr_fail(r, "truncated: the payload ends inside a fixed of %d bytes",
                                 n->size);
        s = r->p + r->pos;
        r->pos += (size_t)n->size;
        return weir_ajr_latin1(s, (size_t)n->size);
    case WEIR_AVRO_ENUM:
        if (!weir_ajr_varint(r, 5, &v))
            return NULL;
        if (v < 0 || (uint64_t)v >= n->nsymbols)
            return weir_ajr_fail(r, "enum index %lld out of range", (long long)v);
        return json_string(n->symbols[v]);
    case WEIR_AVRO_RECORD:
        j = json_object();
        for (size_t i = 0; i < n->nfields; i++) {
            json_t *f = weir_ajr_value(r, n->fields[i].type, depth + 1);
            if (!f) {
                json_decref(j);
                return NULL;
            }
            json_object_set_new(j, n->fields[i].name, f);
        }
        return j;
    case WEIR_AVRO_ARRAY:
    case WEIR_AVRO_MAP:
        return weir_ajr_blocks(r, n, depth);
    case WEIR_AVRO_UNION: {
        const weir_avro_node_t *b;
        json_t *inner;
        if (!weir_ajr_varint(r, 10, &v))
            return NULL;
        if (v < 0 || (uint64_t)v >= n->nbranches)
            return weir_ajr_fail(r, "union index %lld out of range", (long long)v);
        b = n->branches[v];
        if (b->type == WEIR_AVRO_NULL)
            return json_null();
        inner = weir_ajr_value(r, b, depth + 1);
        if (!inner)
            return NULL;
        j = json_object();
        json_object_set_new(j, weir_ajr_branch_name(b), inner);
        return j;
    }
    }
    return weir_ajr_fail(r, "unknown schema type");
}

json_t *
weir_restc_avro_to_json(const weir_avro_node_t *n, const uint8_t *p, size_t len, char *err,
                        size_t errsz)
{
    weir_ajr_t r = {.p = p, .len = len, .err = err, .errsz = errsz};
    json_t *j;

    if (err && errsz)
        err[0] = '\0';
    j = weir_ajr_value(&r, n, 0);
    if (j && r.pos != r.len) {
        json_decref(j);
        return weir_ajr_fail(&r, "%zu bytes left over after the value", r.len - r.pos);
    }
    return j;
}
