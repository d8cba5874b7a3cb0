/*
 * weir_acl.c: ACL names, validation, filters, and the in-memory index that
 * evaluates requests (see weir_acl.h for the rules).
 *
 * The index keeps, per resource type, a hash map from literal names to the
 * bindings naming them (the literal "*" is an ordinary key) and another
 * from prefixes to the bindings with that prefix, plus a count of prefixed
 * bindings per prefix length, so a lookup costs one probe for the name,
 * one for "*" and one per prefix length in use.  Map keys whose last
 * binding went away stay as empty slots (the maps never shrink; a key costs
 * a few dozen bytes).
 */
#include "weir_acl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "weir_common.h"

/* ------------------------------------------------------------------ */
/* Names                                                              */

static const char *const weir_acl_res_names[] = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN",
    "USER",
};
static const char *const weir_acl_pat_names[] = {"UNKNOWN", "ANY", "MATCH", "LITERAL",
                                                 "PREFIXED"};
static const char *const weir_acl_op_names[] = {
    "UNKNOWN",  "ANY",      "ALL",     "READ",           "WRITE",
    "CREATE",   "DELETE",   "ALTER",   "DESCRIBE",       "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS",
    "DESCRIBE_TOKENS",
};
static const char *const weir_acl_perm_names[] = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

#define WEIR_ACL_NAME(tab, code) \
    ((code) >= 0 && (size_t)(code) < WEIR_ARRAY_SIZE(tab) ? (tab)[code] : "UNKNOWN")

const char *
weir_acl_res_name(int code)
{
    return WEIR_ACL_NAME(weir_acl_res_names, code);
}

const char *
weir_acl_pat_name(int code)
{
    return WEIR_ACL_NAME(weir_acl_pat_names, code);
}

const char *
weir_acl_op_name(int code)
{
    return WEIR_ACL_NAME(weir_acl_op_names, code);
}

const char *
weir_acl_perm_name(int code)
{
    return WEIR_ACL_NAME(weir_acl_perm_names, code);
}

static int
weir_acl_parse_name(const char *const *tab, size_t n, const char *s)
{
    for (size_t i = 1; s && i < n; i++)
        if (strcasecmp(s, tab[i]) == 0)
            return (int)i;
    return -1;
}

int
weir_acl_res_parse(const char *s)
{
    return weir_acl_parse_name(weir_acl_res_names, WEIR_ARRAY_SIZE(weir_acl_res_names), s);
}

int
weir_acl_pat_parse(const char *s)
{
    return weir_acl_parse_name(weir_acl_pat_names, WEIR_ARRAY_SIZE(weir_acl_pat_names), s);
}

int
weir_acl_op_parse(const char *s)
{
    return weir_acl_parse_name(weir_acl_op_names, WEIR_ARRAY_SIZE(weir_acl_op_names), s);
}

int
weir_acl_perm_parse(const char *s)
{
    return weir_acl_parse_name(weir_acl_perm_names, WEIR_ARRAY_SIZE(weir_acl_perm_names), s);
}

/* ------------------------------------------------------------------ */
/* Validation and filters                                             */

static bool
weir_acl_res_concrete(int t)
{
    return t >= WEIR_ACL_RES_TOPIC && t <= WEIR_ACL_RES_USER;
}

static bool
weir_acl_op_concrete(int op)
{
    return op >= WEIR_ACL_OP_ALL && op <= WEIR_ACL_OP_DESCRIBE_TOKENS;
}

/* Splits "Type:name" (type User or Group, name non-empty).  Returns 0 with
 * *is_group and *name set, or -1. */
static int
weir_acl_principal_split(const char *p, bool *is_group, const char **name)
{
    if (strncmp(p, "User:", 5) == 0) {
        *is_group = false;
        *name = p + 5;
    } else if (strncmp(p, "Group:", 6) == 0) {
        *is_group = true;
        *name = p + 6;
    } else {
        return -1;
    }
    return **name ? 0 : -1;
}

int
weir_acl_binding_validate(const weir_acl_binding_t *b, char *err, size_t errsz)
{
    bool is_group;
    const char *pname;

    if (!weir_acl_res_concrete(b->res_type)) {
        snprintf(err, errsz, "invalid resource type %d", b->res_type);
        return -1;
    }
    if (b->pattern != WEIR_ACL_PAT_LITERAL && b->pattern != WEIR_ACL_PAT_PREFIXED) {
        snprintf(err, errsz, "invalid pattern type %d: a binding is LITERAL or PREFIXED",
                 b->pattern);
        return -1;
    }
    if (!weir_acl_op_concrete(b->op)) {
        snprintf(err, errsz, "invalid operation %d", b->op);
        return -1;
    }
    if (b->perm != WEIR_ACL_PERM_ALLOW && b->perm != WEIR_ACL_PERM_DENY) {
        snprintf(err, errsz, "invalid permission type %d: ALLOW or DENY", b->perm);
        return -1;
    }
    if (!b->name || !b->name[0]) {
        snprintf(err, errsz, "invalid empty resource name");
        return -1;
    }
    if (!b->principal || !b->host || !b->host[0]) {
        snprintf(err, errsz, "invalid empty host");
        return -1;
    }
    if (strlen(b->name) > WEIR_ACL_MAX_FIELD || strlen(b->principal) > WEIR_ACL_MAX_FIELD ||
        strlen(b->host) > WEIR_ACL_MAX_FIELD) {
        snprintf(err, errsz, "resource name, principal and host are limited to %d bytes",
                 WEIR_ACL_MAX_FIELD);
        return -1;
    }
    if (weir_acl_principal_split(b->principal, &is_group, &pname) != 0) {
        snprintf(err, errsz, "invalid principal: expected User:<name> or Group:<name>");
        return -1;
    }
    if (b->res_type == WEIR_ACL_RES_CLUSTER && strcmp(b->name, WEIR_ACL_CLUSTER_NAME) != 0) {
        snprintf(err, errsz, "the only valid name for the CLUSTER resource is %s",
                 WEIR_ACL_CLUSTER_NAME);
        return -1;
    }
    return 0;
}

int
weir_acl_filter_validate(const weir_acl_filter_t *f, char *err, size_t errsz)
{
    if (f->res_type < WEIR_ACL_RES_ANY || f->res_type > WEIR_ACL_RES_USER) {
        snprintf(err, errsz, "invalid resource type filter %d", f->res_type);
        return -1;
    }
    if (f->pattern < WEIR_ACL_PAT_ANY || f->pattern > WEIR_ACL_PAT_PREFIXED) {
        snprintf(err, errsz, "invalid pattern type filter %d", f->pattern);
        return -1;
    }
    if (f->op < WEIR_ACL_OP_ANY || f->op > WEIR_ACL_OP_DESCRIBE_TOKENS) {
        snprintf(err, errsz, "invalid operation filter %d", f->op);
        return -1;
    }
    if (f->perm < WEIR_ACL_PERM_ANY || f->perm > WEIR_ACL_PERM_ALLOW) {
        snprintf(err, errsz, "invalid permission type filter %d", f->perm);
        return -1;
    }
    return 0;
}

bool
weir_acl_filter_matches(const weir_acl_filter_t *f, const weir_acl_binding_t *b)
{
    /* ResourcePatternFilter.matches */
    if (f->res_type != WEIR_ACL_RES_ANY && f->res_type != b->res_type)
        return false;
    if (f->pattern != WEIR_ACL_PAT_ANY && f->pattern != WEIR_ACL_PAT_MATCH &&
        f->pattern != b->pattern)
        return false;
    if (f->name) {
        if (f->pattern == WEIR_ACL_PAT_ANY || f->pattern == b->pattern) {
            if (strcmp(f->name, b->name) != 0)
                return false;
        } else if (b->pattern == WEIR_ACL_PAT_LITERAL) {
            /* MATCH */
            if (strcmp(f->name, b->name) != 0 && strcmp(b->name, "*") != 0)
                return false;
        } else {
            /* MATCH against a prefixed binding */
            if (strncmp(f->name, b->name, strlen(b->name)) != 0)
                return false;
        }
    }
    /* AccessControlEntryFilter.matches */
    if (f->principal && strcmp(f->principal, b->principal) != 0)
        return false;
    if (f->host && strcmp(f->host, b->host) != 0)
        return false;
    if (f->op != WEIR_ACL_OP_ANY && f->op != b->op)
        return false;
    if (f->perm != WEIR_ACL_PERM_ANY && f->perm != b->perm)
        return false;
    return true;
}

void
weir_acl_binding_copy(weir_acl_binding_t *dst, const weir_acl_binding_t *src)
{
    *dst = *src;
    dst->name = weir_strdup(src->name ? src->name : "");
    dst->principal = weir_strdup(src->principal ? src->principal : "");
    dst->host = weir_strdup(src->host ? src->host : "");
}

void
weir_acl_binding_clear(weir_acl_binding_t *b)
{
    free(b->name);
    free(b->principal);
    free(b->host);
    b->name = b->principal = b->host = NULL;
}

void
weir_acl_binding_format(const weir_acl_binding_t *b, char *out, size_t size)
{
    snprintf(out, size, "%s:%s:%s %s@%s %s %s", weir_acl_res_name(b->res_type),
             weir_acl_pat_name(b->pattern), b->name ? b->name : "",
             b->principal ? b->principal : "", b->host ? b->host : "",
             weir_acl_perm_name(b->perm), weir_acl_op_name(b->op));
}

/* ------------------------------------------------------------------ */
/* Hash map: string -> vector of entries                              */

typedef struct weir_acl_entry_s {
    weir_acl_binding_t b;
    size_t name_len;
    bool p_group;        /* principal is Group:<p_name> */
    bool p_wild;         /* principal is User:* */
    const char *p_name;  /* into b.principal */
    bool host_any;       /* host is "*" */
} weir_acl_entry_t;

typedef struct weir_acl_vec_s {
    weir_acl_entry_t **v;
    size_t n, cap;
} weir_acl_vec_t;

typedef struct weir_acl_slot_s {
    char *key;            /* NULL: empty slot */
    size_t klen;
    uint32_t hash;
    weir_acl_vec_t vec;
} weir_acl_slot_t;

typedef struct weir_acl_map_s {
    weir_acl_slot_t *slots;
    size_t cap;           /* power of two, or 0 */
    size_t used;
} weir_acl_map_t;

static uint32_t
weir_acl_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static weir_acl_slot_t *
weir_acl_map_find(const weir_acl_map_t *m, const char *key, size_t klen, uint32_t h)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        weir_acl_slot_t *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
            return s;
    }
}

static void weir_acl_map_grow(weir_acl_map_t *m);

static weir_acl_slot_t *
weir_acl_map_get_or_add(weir_acl_map_t *m, const char *key, size_t klen)
{
    uint32_t h = weir_acl_hash(key, klen);
    weir_acl_slot_t *s = weir_acl_map_find(m, key, klen, h);
    size_t i;

    if (s)
        return s;
    if ((m->used + 1) * 4 >= m->cap * 3)
        weir_acl_map_grow(m);
    for (i = h & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1))
        ;
    s = &m->slots[i];
    s->key = weir_strndup(key, klen);
    s->klen = klen;
    s->hash = h;
    m->used++;
    return s;
}

static void
weir_acl_map_grow(weir_acl_map_t *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    weir_acl_slot_t *old = m->slots, *ns = weir_calloc(ncap, sizeof(*ns));

    for (size_t i = 0; i < m->cap; i++) {
        size_t j;
        if (!old[i].key)
            continue;
        for (j = old[i].hash & (ncap - 1); ns[j].key; j = (j + 1) & (ncap - 1))
            ;
        ns[j] = old[i];
    }
    free(old);
    m->slots = ns;
    m->cap = ncap;
}

static void
weir_acl_map_free(weir_acl_map_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
        free(m->slots[i].vec.v);
    }
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static void
weir_acl_vec_push(weir_acl_vec_t *v, weir_acl_entry_t *e)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->v = weir_realloc(v->v, v->cap * sizeof(*v->v));
    }
    v->v[v->n++] = e;
}

static void
weir_acl_vec_remove(weir_acl_vec_t *v, const weir_acl_entry_t *e)
{
    for (size_t i = 0; i < v->n; i++) {
        if (v->v[i] == e) {
            memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(*v->v));
            v->n--;
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Index                                                              */

#define WEIR_ACL_NTYPES (WEIR_ACL_RES_USER + 1)

typedef struct weir_acl_type_s {
    weir_acl_map_t literal;
    weir_acl_map_t prefixed;
    size_t *plen_count;      /* prefixed bindings per prefix length */
    size_t plen_cap;         /* entries in plen_count */
    size_t plen_max;         /* longest prefix in use (0: none) */
    size_t count;            /* bindings of this type */
} weir_acl_type_t;

struct weir_acl_index_s {
    weir_acl_entry_t **entries; /* sorted by id */
    size_t n, cap;
    weir_acl_type_t types[WEIR_ACL_NTYPES];
};

weir_acl_index_t *
weir_acl_index_new(void)
{
    return weir_calloc(1, sizeof(weir_acl_index_t));
}

static void
weir_acl_entry_free(weir_acl_entry_t *e)
{
    weir_acl_binding_clear(&e->b);
    free(e);
}

void
weir_acl_index_free(weir_acl_index_t *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->n; i++)
        weir_acl_entry_free(idx->entries[i]);
    free(idx->entries);
    for (int t = 0; t < WEIR_ACL_NTYPES; t++) {
        weir_acl_map_free(&idx->types[t].literal);
        weir_acl_map_free(&idx->types[t].prefixed);
        free(idx->types[t].plen_count);
    }
    free(idx);
}

/* Position of id in the sorted entry array (or where it would go). */
static size_t
weir_acl_index_pos(const weir_acl_index_t *idx, int64_t id, bool *found)
{
    size_t lo = 0, hi = idx->n;

    *found = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int64_t m = idx->entries[mid]->b.id;
        if (m == id) {
            *found = true;
            return mid;
        }
        if (m < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
weir_acl_index_add(weir_acl_index_t *idx, const weir_acl_binding_t *b)
{
    weir_acl_entry_t *e;
    weir_acl_type_t *ty;
    weir_acl_slot_t *s;
    bool found;
    size_t pos;

    if (b->res_type < 0 || b->res_type >= WEIR_ACL_NTYPES || b->id <= 0)
        return -EINVAL;
    pos = weir_acl_index_pos(idx, b->id, &found);
    if (found)
        return -EEXIST;
    e = weir_calloc(1, sizeof(*e));
    weir_acl_binding_copy(&e->b, b);
    e->name_len = strlen(e->b.name);
    e->host_any = strcmp(e->b.host, "*") == 0;
    if (weir_acl_principal_split(e->b.principal, &e->p_group, &e->p_name) != 0) {
        /* Not a valid principal: it can never match anyone. */
        e->p_group = true;
        e->p_name = "";
    }
    e->p_wild = !e->p_group && strcmp(e->p_name, "*") == 0;

    if (idx->n == idx->cap) {
        idx->cap = idx->cap ? idx->cap * 2 : 64;
        idx->entries = weir_realloc(idx->entries, idx->cap * sizeof(*idx->entries));
    }
    memmove(&idx->entries[pos + 1], &idx->entries[pos], (idx->n - pos) * sizeof(*idx->entries));
    idx->entries[pos] = e;
    idx->n++;

    ty = &idx->types[e->b.res_type];
    ty->count++;
    if (e->b.pattern == WEIR_ACL_PAT_PREFIXED) {
        s = weir_acl_map_get_or_add(&ty->prefixed, e->b.name, e->name_len);
        if (e->name_len >= ty->plen_cap) {
            size_t ncap = WEIR_MAX(e->name_len + 1, ty->plen_cap * 2);
            ty->plen_count = weir_realloc(ty->plen_count, ncap * sizeof(*ty->plen_count));
            memset(ty->plen_count + ty->plen_cap, 0,
                   (ncap - ty->plen_cap) * sizeof(*ty->plen_count));
            ty->plen_cap = ncap;
        }
        ty->plen_count[e->name_len]++;
        ty->plen_max = WEIR_MAX(ty->plen_max, e->name_len);
    } else {
        s = weir_acl_map_get_or_add(&ty->literal, e->b.name, e->name_len);
    }
    weir_acl_vec_push(&s->vec, e);
    return 0;
}

int
weir_acl_index_remove(weir_acl_index_t *idx, int64_t id)
{
    weir_acl_entry_t *e;
    weir_acl_type_t *ty;
    weir_acl_slot_t *s;
    bool found;
    size_t pos = weir_acl_index_pos(idx, id, &found);

    if (!found)
        return -ENOENT;
    e = idx->entries[pos];
    memmove(&idx->entries[pos], &idx->entries[pos + 1], (idx->n - pos - 1) * sizeof(*idx->entries));
    idx->n--;
    ty = &idx->types[e->b.res_type];
    ty->count--;
    if (e->b.pattern == WEIR_ACL_PAT_PREFIXED) {
        s = weir_acl_map_find(&ty->prefixed, e->b.name, e->name_len,
                              weir_acl_hash(e->b.name, e->name_len));
        ty->plen_count[e->name_len]--;
        while (ty->plen_max > 0 && ty->plen_count[ty->plen_max] == 0)
            ty->plen_max--;
    } else {
        s = weir_acl_map_find(&ty->literal, e->b.name, e->name_len,
                              weir_acl_hash(e->b.name, e->name_len));
    }
    if (s)
        weir_acl_vec_remove(&s->vec, e);
    weir_acl_entry_free(e);
    return 0;
}

size_t
weir_acl_index_count(const weir_acl_index_t *idx)
{
    return idx ? idx->n : 0;
}

const weir_acl_binding_t *
weir_acl_index_get(const weir_acl_index_t *idx, int64_t id)
{
    bool found;
    size_t pos = weir_acl_index_pos(idx, id, &found);

    return found ? &idx->entries[pos]->b : NULL;
}

void
weir_acl_index_foreach(const weir_acl_index_t *idx, const weir_acl_filter_t *f,
                       void (*cb)(void *arg, const weir_acl_binding_t *b), void *arg)
{
    for (size_t i = 0; i < idx->n; i++)
        if (!f || weir_acl_filter_matches(f, &idx->entries[i]->b))
            cb(arg, &idx->entries[i]->b);
}

static bool
weir_acl_same(const weir_acl_binding_t *a, const weir_acl_binding_t *b)
{
    return a->res_type == b->res_type && a->pattern == b->pattern && a->op == b->op &&
           a->perm == b->perm && strcmp(a->name, b->name) == 0 &&
           strcmp(a->principal, b->principal) == 0 && strcmp(a->host, b->host) == 0;
}

int64_t
weir_acl_index_find(const weir_acl_index_t *idx, const weir_acl_binding_t *b)
{
    const weir_acl_type_t *ty;
    const weir_acl_map_t *m;
    const weir_acl_slot_t *s;
    size_t len;

    if (b->res_type < 0 || b->res_type >= WEIR_ACL_NTYPES || !b->name)
        return 0;
    ty = &idx->types[b->res_type];
    m = b->pattern == WEIR_ACL_PAT_PREFIXED ? &ty->prefixed : &ty->literal;
    len = strlen(b->name);
    s = weir_acl_map_find(m, b->name, len, weir_acl_hash(b->name, len));
    for (size_t i = 0; s && i < s->vec.n; i++)
        if (weir_acl_same(&s->vec.v[i]->b, b))
            return s->vec.v[i]->b.id;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                         */

static bool
weir_acl_principal_matches(const weir_acl_entry_t *e, const weir_acl_subject_t *s)
{
    if (e->p_wild)
        return true;
    if (!e->p_group)
        return s->user && strcmp(e->p_name, s->user) == 0;
    for (size_t i = 0; i < s->ngroups; i++)
        if (strcmp(e->p_name, s->groups[i]) == 0)
            return true;
    return false;
}

static bool
weir_acl_entry_applies(const weir_acl_entry_t *e, const weir_acl_subject_t *s)
{
    return (e->host_any || (s->host && strcmp(e->b.host, s->host) == 0)) &&
           weir_acl_principal_matches(e, s);
}

/* Whether an ALLOW for binding operation bop grants op (implied DESCRIBE
 * and DESCRIBE_CONFIGS). */
static bool
weir_acl_allow_grants(int bop, int op)
{
    if (bop == WEIR_ACL_OP_ALL || bop == op)
        return true;
    if (op == WEIR_ACL_OP_DESCRIBE)
        return bop == WEIR_ACL_OP_READ || bop == WEIR_ACL_OP_WRITE ||
               bop == WEIR_ACL_OP_DELETE || bop == WEIR_ACL_OP_ALTER;
    if (op == WEIR_ACL_OP_DESCRIBE_CONFIGS)
        return bop == WEIR_ACL_OP_ALTER_CONFIGS;
    return false;
}

/* The lists of bindings that apply to a resource: at most 2 + one per
 * prefix length. */
typedef struct weir_acl_cands_s {
    const weir_acl_vec_t *lists[64];
    size_t n;
    const weir_acl_vec_t **more; /* when more than 64 */
    size_t nmore, capmore;
} weir_acl_cands_t;

static void
weir_acl_cands_add(weir_acl_cands_t *c, const weir_acl_vec_t *v)
{
    if (!v || v->n == 0)
        return;
    if (c->n < WEIR_ARRAY_SIZE(c->lists)) {
        c->lists[c->n++] = v;
        return;
    }
    if (c->nmore == c->capmore) {
        c->capmore = c->capmore ? c->capmore * 2 : 64;
        c->more = weir_realloc(c->more, c->capmore * sizeof(*c->more));
    }
    c->more[c->nmore++] = v;
}

static const weir_acl_vec_t *
weir_acl_cands_at(const weir_acl_cands_t *c, size_t i)
{
    return i < c->n ? c->lists[i] : c->more[i - c->n];
}

static void
weir_acl_collect(const weir_acl_index_t *idx, int res_type, const char *name, size_t len,
                 weir_acl_cands_t *c)
{
    const weir_acl_type_t *ty = &idx->types[res_type];
    const weir_acl_slot_t *s;
    size_t maxl;

    memset(c, 0, sizeof(*c));
    if (ty->count == 0)
        return;
    s = weir_acl_map_find(&ty->literal, name, len, weir_acl_hash(name, len));
    if (s)
        weir_acl_cands_add(c, &s->vec);
    if (!(len == 1 && name[0] == '*')) {
        s = weir_acl_map_find(&ty->literal, "*", 1, weir_acl_hash("*", 1));
        if (s)
            weir_acl_cands_add(c, &s->vec);
    }
    maxl = WEIR_MIN(len, ty->plen_max);
    for (size_t l = 1; l <= maxl; l++) {
        if (ty->plen_count[l] == 0)
            continue;
        s = weir_acl_map_find(&ty->prefixed, name, l, weir_acl_hash(name, l));
        if (s)
            weir_acl_cands_add(c, &s->vec);
    }
}

weir_acl_result_t
weir_acl_evaluate(const weir_acl_index_t *idx, const weir_acl_subject_t *s, int res_type,
                  const char *name, size_t len, int op)
{
    weir_acl_cands_t c;
    weir_acl_result_t res = WEIR_ACL_NO_MATCH;
    size_t total;

    if (!idx || res_type < 0 || res_type >= WEIR_ACL_NTYPES)
        return WEIR_ACL_NONE;
    weir_acl_collect(idx, res_type, name, len, &c);
    total = c.n + c.nmore;
    if (total == 0) {
        free(c.more);
        return WEIR_ACL_NONE;
    }
    /* Any matching DENY wins. */
    for (size_t i = 0; i < total; i++) {
        const weir_acl_vec_t *v = weir_acl_cands_at(&c, i);
        for (size_t j = 0; j < v->n; j++) {
            const weir_acl_entry_t *e = v->v[j];
            if (e->b.perm == WEIR_ACL_PERM_DENY &&
                (e->b.op == op || e->b.op == WEIR_ACL_OP_ALL) && weir_acl_entry_applies(e, s)) {
                free(c.more);
                return WEIR_ACL_DENIED;
            }
        }
    }
    for (size_t i = 0; i < total && res != WEIR_ACL_ALLOWED; i++) {
        const weir_acl_vec_t *v = weir_acl_cands_at(&c, i);
        for (size_t j = 0; j < v->n; j++) {
            const weir_acl_entry_t *e = v->v[j];
            if (e->b.perm == WEIR_ACL_PERM_ALLOW && weir_acl_allow_grants(e->b.op, op) &&
                weir_acl_entry_applies(e, s)) {
                res = WEIR_ACL_ALLOWED;
                break;
            }
        }
    }
    free(c.more);
    return res;
}

/* Whether the DENY binding d covers every resource the ALLOW binding a could
 * apply to (so a grants nothing). */
static bool
weir_acl_deny_covers(const weir_acl_entry_t *d, const weir_acl_entry_t *a)
{
    if (d->b.pattern == WEIR_ACL_PAT_LITERAL) {
        if (strcmp(d->b.name, "*") == 0)
            return true;
        return a->b.pattern == WEIR_ACL_PAT_LITERAL && strcmp(d->b.name, a->b.name) == 0;
    }
    /* A deny prefix covers an allow literal or prefix that starts with it. */
    return a->name_len >= d->name_len && memcmp(a->b.name, d->b.name, d->name_len) == 0 &&
           !(a->b.pattern == WEIR_ACL_PAT_LITERAL && strcmp(a->b.name, "*") == 0);
}

weir_acl_result_t
weir_acl_evaluate_any(const weir_acl_index_t *idx, const weir_acl_subject_t *s, int res_type,
                      int op)
{
    const weir_acl_entry_t **denies = NULL;
    size_t ndeny = 0;
    weir_acl_result_t res = WEIR_ACL_NO_MATCH;

    if (!idx || res_type < 0 || res_type >= WEIR_ACL_NTYPES || idx->types[res_type].count == 0)
        return WEIR_ACL_NONE;
    for (size_t i = 0; i < idx->n; i++) {
        const weir_acl_entry_t *e = idx->entries[i];
        if (e->b.res_type == res_type && e->b.perm == WEIR_ACL_PERM_DENY &&
            (e->b.op == op || e->b.op == WEIR_ACL_OP_ALL) && weir_acl_entry_applies(e, s)) {
            if (e->b.pattern == WEIR_ACL_PAT_LITERAL && strcmp(e->b.name, "*") == 0) {
                free(denies);
                return WEIR_ACL_DENIED;
            }
            denies = weir_realloc(denies, (ndeny + 1) * sizeof(*denies));
            denies[ndeny++] = e;
        }
    }
    for (size_t i = 0; i < idx->n && res != WEIR_ACL_ALLOWED; i++) {
        const weir_acl_entry_t *e = idx->entries[i];
        bool covered = false;

        if (e->b.res_type != res_type || e->b.perm != WEIR_ACL_PERM_ALLOW ||
            !weir_acl_allow_grants(e->b.op, op) || !weir_acl_entry_applies(e, s))
            continue;
        for (size_t j = 0; j < ndeny && !covered; j++)
            covered = weir_acl_deny_covers(denies[j], e);
        if (!covered)
            res = WEIR_ACL_ALLOWED;
    }
    free(denies);
    return res;
}
