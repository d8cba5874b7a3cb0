/*
 * weir_api_acls.c: DescribeAcls (ApiKey 29), CreateAcls (30) and
 * DeleteAcls (31), versions 0-1, over the governance snapshot
 * (governance/weir_authz.h).
 *
 * Kafka's rules: DescribeAcls needs DESCRIBE on the cluster, the other two
 * ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED); v0 knows only
 * LITERAL patterns (a v0 filter matches LITERAL bindings, a v0 creation is
 * LITERAL); an invalid binding or filter is refused on its own with
 * INVALID_REQUEST and a message.  DescribeAcls reads memory and answers at
 * once; CreateAcls and DeleteAcls are answered once their change and its
 * audit rows are committed by the governance worker (the request waits;
 * if the client leaves first the change still happens and the request is
 * freed then).
 */
#include <stdio.h>
#include <stdlib.h>

#include "weir_acl.h"
#include "weir_api.h"
#include "weir_authz.h"
#include "weir_broker.h"
#include "weir_common.h"
#include "weir_log.h"

#define WEIR_ACLS_ERRSTR 256

/* A NUL-terminated copy of a request string; NULL for a null string when
 * nullable.  Returns -1 with err set for a string Weir will not store
 * (embedded NUL, too long, null where not allowed). */
static int
weir_acls_cstr(weir_str_t s, bool nullable, char **out, char *err, size_t errsz)
{
    *out = NULL;
    if (s.len < 0) {
        if (nullable)
            return 0;
        snprintf(err, errsz, "a null string where a value is required");
        return -1;
    }
    if (s.len > WEIR_ACL_MAX_FIELD) {
        snprintf(err, errsz, "resource name, principal and host are limited to %d bytes",
                 WEIR_ACL_MAX_FIELD);
        return -1;
    }
    if (s.len > 0 && memchr(s.ptr, '\0', (size_t)s.len)) {
        snprintf(err, errsz, "names cannot contain NUL bytes");
        return -1;
    }
    *out = weir_strndup(s.ptr ? s.ptr : "", (size_t)s.len);
    return 0;
}

static void
weir_acls_actor(const weir_req_t *req, char *out, size_t size)
{
    if (req->conn)
        weir_principal_str(&req->conn->principal, out, size);
    else
        snprintf(out, size, "unknown");
}

/* ------------------------------------------------------------------ */
/* DescribeAcls                                                       */

typedef struct weir_acls_list_s {
    weir_acl_binding_t *v;
    size_t n, cap;
} weir_acls_list_t;

static void
weir_acls_collect(void *arg, const weir_acl_binding_t *b)
{
    weir_acls_list_t *l = arg;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = weir_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = *b; /* borrowed: valid until the snapshot changes (not during this call) */
}

static int
weir_acls_resource_cmp(const void *a, const void *b)
{
    const weir_acl_binding_t *x = a, *y = b;
    int c;

    if (x->res_type != y->res_type)
        return x->res_type < y->res_type ? -1 : 1;
    if (x->pattern != y->pattern)
        return x->pattern < y->pattern ? -1 : 1;
    c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

static bool
weir_acls_same_resource(const weir_acl_binding_t *x, const weir_acl_binding_t *y)
{
    return x->res_type == y->res_type && x->pattern == y->pattern && strcmp(x->name, y->name) == 0;
}

/* Reads a filter (DescribeAcls body, DeleteAcls element); -1 if malformed
 * (the reader's error is set), else 0 with the strings copied into *f (NULL
 * for null) or an error message in err when the filter is invalid. */
static int
weir_acls_read_filter(weir_rbuf_t *rd, int16_t v, weir_acl_filter_t *f, char *err, size_t errsz,
                      bool *invalid)
{
    weir_str_t name, principal, host;
    char *n = NULL, *p = NULL, *h = NULL;

    *invalid = false;
    memset(f, 0, sizeof(*f));
    f->res_type = weir_rd_i8(rd);
    name = weir_rd_str(rd);
    f->pattern = v >= 1 ? weir_rd_i8(rd) : WEIR_ACL_PAT_LITERAL;
    principal = weir_rd_str(rd);
    host = weir_rd_str(rd);
    f->op = weir_rd_i8(rd);
    f->perm = weir_rd_i8(rd);
    if (rd->err)
        return -1;
    if (weir_acls_cstr(name, true, &n, err, errsz) != 0 ||
        weir_acls_cstr(principal, true, &p, err, errsz) != 0 ||
        weir_acls_cstr(host, true, &h, err, errsz) != 0 ||
        weir_acl_filter_validate(f, err, errsz) != 0) {
        free(n);
        free(p);
        free(h);
        *invalid = true;
        return 0;
    }
    f->name = n;
    f->principal = p;
    f->host = h;
    return 0;
}

static void
weir_acls_filter_clear(weir_acl_filter_t *f)
{
    free((char *)f->name);
    free((char *)f->principal);
    free((char *)f->host);
    f->name = f->principal = f->host = NULL;
}

int
weir_api_DescribeAcls(weir_req_t *req)
{
    int16_t v = req->ApiVersion;
    weir_acl_filter_t f;
    weir_acls_list_t l = {0};
    char err[WEIR_ACLS_ERRSTR] = "";
    weir_kerr_t ec = WEIR_KERR_NONE;
    bool invalid;
    weir_msg_t *resp;
    weir_wbuf_t *w;
    size_t pos;
    int32_t nres = 0;

    if (weir_acls_read_filter(&req->rd, v, &f, err, sizeof(err), &invalid) != 0)
        return -1;
    if (!weir_req_allowed_cluster(req, WEIR_ACL_OP_DESCRIBE)) {
        ec = WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED;
        snprintf(err, sizeof(err), "not authorized to describe ACLs (DESCRIBE on the cluster)");
    } else if (invalid) {
        ec = WEIR_KERR_INVALID_REQUEST;
    } else if (!req->brk->authz) {
        ec = WEIR_KERR_SECURITY_DISABLED;
        snprintf(err, sizeof(err), "no authorizer is configured");
    } else {
        weir_authz_acls_describe(req->brk->authz, &f, weir_acls_collect, &l);
        if (l.n > 1)
            qsort(l.v, l.n, sizeof(*l.v), weir_acls_resource_cmp);
    }
    resp = weir_resp_new(req, 128 + l.n * 64);
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_i16(w, (int16_t)ec);
    weir_wr_cstr(w, ec ? err : NULL);
    pos = weir_wr_array_begin(w);
    for (size_t i = 0; i < l.n;) {
        size_t j = i, apos;

        weir_wr_i8(w, l.v[i].res_type);
        weir_wr_cstr(w, l.v[i].name);
        if (v >= 1)
            weir_wr_i8(w, l.v[i].pattern);
        apos = weir_wr_array_begin(w);
        while (j < l.n && weir_acls_same_resource(&l.v[i], &l.v[j])) {
            weir_wr_cstr(w, l.v[j].principal);
            weir_wr_cstr(w, l.v[j].host);
            weir_wr_i8(w, l.v[j].op);
            weir_wr_i8(w, l.v[j].perm);
            j++;
        }
        weir_wr_array_end(w, apos, (int32_t)(j - i));
        nres++;
        i = j;
    }
    weir_wr_array_end(w, pos, nres);
    free(l.v);
    weir_acls_filter_clear(&f);
    weir_req_respond(req, resp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* CreateAcls                                                         */

typedef struct weir_acls_create_s {
    weir_req_t *req;
    int32_t n;
    weir_kerr_t *errs;
    char **msgs;              /* per creation, or NULL */
    weir_acl_binding_t *valid; /* the creations handed to the worker */
    int32_t *valid_idx;       /* their index in the request */
    size_t nvalid;
} weir_acls_create_t;

static void
weir_acls_create_free(weir_acls_create_t *c)
{
    for (int32_t i = 0; i < c->n; i++)
        free(c->msgs[i]);
    for (size_t i = 0; i < c->nvalid; i++)
        weir_acl_binding_clear(&c->valid[i]);
    free(c->msgs);
    free(c->errs);
    free(c->valid);
    free(c->valid_idx);
    free(c);
}

static void
weir_acls_create_respond(weir_acls_create_t *c)
{
    weir_req_t *req = c->req;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    if (!req->conn) {
        /* The client left; the change happened anyway. */
        weir_req_free(req);
        return;
    }
    resp = weir_resp_new(req, 64 + (size_t)c->n * 16);
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, c->n);
    for (int32_t i = 0; i < c->n; i++) {
        weir_wr_i16(w, (int16_t)c->errs[i]);
        weir_wr_cstr(w, c->errs[i] ? c->msgs[i] : NULL);
    }
    weir_req_respond(req, resp);
}

static void
weir_acls_created(void *arg, const int *results, size_t n)
{
    weir_acls_create_t *c = arg;

    for (size_t i = 0; i < n; i++) {
        int32_t k = c->valid_idx[i];
        if (results[i] != 0) {
            c->errs[k] = WEIR_KERR_UNKNOWN_SERVER_ERROR;
            free(c->msgs[k]);
            c->msgs[k] = weir_strdup("the ACL could not be stored");
        }
    }
    weir_acls_create_respond(c);
    weir_acls_create_free(c);
}

int
weir_api_CreateAcls(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_acls_create_t *c = weir_calloc(1, sizeof(*c));
    bool authorized;
    char actor[160];
    int32_t n;

    c->req = req;
    n = weir_rd_array(rd, v >= 1 ? 10 : 9);
    c->n = n > 0 ? n : 0;
    c->errs = weir_calloc((size_t)c->n + 1, sizeof(*c->errs));
    c->msgs = weir_calloc((size_t)c->n + 1, sizeof(*c->msgs));
    c->valid = weir_calloc((size_t)c->n + 1, sizeof(*c->valid));
    c->valid_idx = weir_calloc((size_t)c->n + 1, sizeof(*c->valid_idx));
    authorized = weir_req_allowed_cluster(req, WEIR_ACL_OP_ALTER);
    for (int32_t i = 0; i < c->n && !rd->err; i++) {
        weir_acl_binding_t b;
        weir_str_t name, principal, host;
        char err[WEIR_ACLS_ERRSTR];

        memset(&b, 0, sizeof(b));
        b.res_type = weir_rd_i8(rd);
        name = weir_rd_str(rd);
        b.pattern = v >= 1 ? weir_rd_i8(rd) : WEIR_ACL_PAT_LITERAL;
        principal = weir_rd_str(rd);
        host = weir_rd_str(rd);
        b.op = weir_rd_i8(rd);
        b.perm = weir_rd_i8(rd);
        if (rd->err)
            break;
        if (!authorized) {
            c->errs[i] = WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED;
            c->msgs[i] = weir_strdup("not authorized to create ACLs (ALTER on the cluster)");
            continue;
        }
        if (!req->brk->authz) {
            c->errs[i] = WEIR_KERR_SECURITY_DISABLED;
            c->msgs[i] = weir_strdup("no authorizer is configured");
            continue;
        }
        if (weir_acls_cstr(name, false, &b.name, err, sizeof(err)) != 0 ||
            weir_acls_cstr(principal, false, &b.principal, err, sizeof(err)) != 0 ||
            weir_acls_cstr(host, false, &b.host, err, sizeof(err)) != 0 ||
            weir_acl_binding_validate(&b, err, sizeof(err)) != 0) {
            c->errs[i] = WEIR_KERR_INVALID_REQUEST;
            c->msgs[i] = weir_strdup(err);
            weir_acl_binding_clear(&b);
            continue;
        }
        c->valid_idx[c->nvalid] = i;
        c->valid[c->nvalid++] = b;
    }
    if (rd->err || n < 0) {
        weir_acls_create_free(c);
        return -1;
    }
    if (c->nvalid == 0) {
        weir_acls_create_respond(c);
        weir_acls_create_free(c);
        return 0;
    }
    /* No cancel hook: the change goes through even if the client leaves. */
    weir_acls_actor(req, actor, sizeof(actor));
    weir_authz_acls_create(req->brk->authz, c->valid, c->nvalid, actor, weir_acls_created, c);
    return 0;
}

/* ------------------------------------------------------------------ */
/* DeleteAcls                                                         */

typedef struct weir_acls_delete_s {
    weir_req_t *req;
    int32_t n;
    weir_kerr_t *errs;
    char **msgs;
    weir_acl_filter_t *valid;
    int32_t *valid_idx;
    size_t nvalid;
} weir_acls_delete_t;

static void
weir_acls_delete_free(weir_acls_delete_t *d)
{
    for (int32_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    for (size_t i = 0; i < d->nvalid; i++)
        weir_acls_filter_clear(&d->valid[i]);
    free(d->msgs);
    free(d->errs);
    free(d->valid);
    free(d->valid_idx);
    free(d);
}

static void
weir_acls_delete_respond(weir_acls_delete_t *d, const weir_authz_deleted_t *deleted)
{
    weir_req_t *req = d->req;
    int16_t v = req->ApiVersion;
    size_t k = 0;
    weir_msg_t *resp;
    weir_wbuf_t *w;

    if (!req->conn) {
        weir_req_free(req);
        return;
    }
    resp = weir_resp_new(req, 128 + (size_t)d->n * 64);
    w = &resp->buf;
    weir_wr_i32(w, 0); /* ThrottleTimeMs */
    weir_wr_array(w, d->n);
    for (int32_t i = 0; i < d->n; i++) {
        const weir_authz_deleted_t *m = NULL;

        if (k < d->nvalid && d->valid_idx[k] == i) {
            if (!d->errs[i] && deleted)
                m = &deleted[k];
            k++;
        }
        weir_wr_i16(w, (int16_t)d->errs[i]);
        weir_wr_cstr(w, d->errs[i] ? d->msgs[i] : NULL);
        weir_wr_array(w, m ? (int32_t)m->n : 0);
        for (size_t j = 0; m && j < m->n; j++) {
            const weir_acl_binding_t *b = &m->v[j];
            weir_wr_i16(w, 0);          /* ErrorCode */
            weir_wr_cstr(w, NULL);      /* ErrorMessage */
            weir_wr_i8(w, b->res_type);
            weir_wr_cstr(w, b->name);
            if (v >= 1)
                weir_wr_i8(w, b->pattern);
            weir_wr_cstr(w, b->principal);
            weir_wr_cstr(w, b->host);
            weir_wr_i8(w, b->op);
            weir_wr_i8(w, b->perm);
        }
    }
    weir_req_respond(req, resp);
}

static void
weir_acls_deleted(void *arg, int status, const weir_authz_deleted_t *deleted, size_t nfilters)
{
    weir_acls_delete_t *d = arg;

    WEIR_UNUSED(nfilters);
    if (status != 0) {
        for (size_t i = 0; i < d->nvalid; i++) {
            int32_t k = d->valid_idx[i];
            d->errs[k] = WEIR_KERR_UNKNOWN_SERVER_ERROR;
            d->msgs[k] = weir_strdup("the ACLs could not be deleted");
        }
        deleted = NULL;
    }
    weir_acls_delete_respond(d, deleted);
    weir_acls_delete_free(d);
}

int
weir_api_DeleteAcls(weir_req_t *req)
{
    weir_rbuf_t *rd = &req->rd;
    int16_t v = req->ApiVersion;
    weir_acls_delete_t *d = weir_calloc(1, sizeof(*d));
    bool authorized;
    char actor[160];
    int32_t n;

    d->req = req;
    n = weir_rd_array(rd, v >= 1 ? 10 : 9);
    d->n = n > 0 ? n : 0;
    d->errs = weir_calloc((size_t)d->n + 1, sizeof(*d->errs));
    d->msgs = weir_calloc((size_t)d->n + 1, sizeof(*d->msgs));
    d->valid = weir_calloc((size_t)d->n + 1, sizeof(*d->valid));
    d->valid_idx = weir_calloc((size_t)d->n + 1, sizeof(*d->valid_idx));
    authorized = weir_req_allowed_cluster(req, WEIR_ACL_OP_ALTER);
    for (int32_t i = 0; i < d->n && !rd->err; i++) {
        weir_acl_filter_t f;
        char err[WEIR_ACLS_ERRSTR];
        bool invalid;

        if (weir_acls_read_filter(rd, v, &f, err, sizeof(err), &invalid) != 0)
            break;
        if (!authorized || invalid || !req->brk->authz) {
            if (!authorized) {
                d->errs[i] = WEIR_KERR_CLUSTER_AUTHORIZATION_FAILED;
                d->msgs[i] = weir_strdup("not authorized to delete ACLs (ALTER on the cluster)");
            } else if (invalid) {
                d->errs[i] = WEIR_KERR_INVALID_REQUEST;
                d->msgs[i] = weir_strdup(err);
            } else {
                d->errs[i] = WEIR_KERR_SECURITY_DISABLED;
                d->msgs[i] = weir_strdup("no authorizer is configured");
            }
            weir_acls_filter_clear(&f);
            continue;
        }
        d->valid_idx[d->nvalid] = i;
        d->valid[d->nvalid++] = f;
    }
    if (rd->err || n < 0) {
        weir_acls_delete_free(d);
        return -1;
    }
    if (d->nvalid == 0) {
        weir_acls_delete_respond(d, NULL);
        weir_acls_delete_free(d);
        return 0;
    }
    weir_acls_actor(req, actor, sizeof(actor));
    weir_authz_acls_delete(req->brk->authz, d->valid, d->nvalid, actor, weir_acls_deleted, d);
    return 0;
}
