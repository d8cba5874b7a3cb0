/*
 * weir_json_schema_compat.c: JSON Schema documents for the registry -
 * validation of the keywords' shapes, $ref resolution (JSON pointers,
 * anchors, referenced documents), the schema graph classified as the everit
 * loader does, and Confluent's difference-based compatibility check (see
 * weir_json_schema_compat.h).
 */
#include "weir_json_schema_compat.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "weir_common.h"

/* ------------------------------------------------------------------------ */
/* Difference types (Confluent's Difference.Type) and the compatible set    */
/* ------------------------------------------------------------------------ */

/* clang-format off */
#define WEIR_JS_DIFFS(X) \
    X(ID_CHANGED, 1) \
    X(DESCRIPTION_CHANGED, 1) \
    X(TITLE_CHANGED, 1) \
    X(DEFAULT_CHANGED, 1) \
    X(SCHEMA_ADDED, 0) \
    X(SCHEMA_REMOVED, 1) \
    X(TYPE_EXTENDED, 1) \
    X(TYPE_NARROWED, 0) \
    X(TYPE_CHANGED, 0) \
    X(MAX_LENGTH_ADDED, 0) \
    X(MAX_LENGTH_REMOVED, 1) \
    X(MAX_LENGTH_INCREASED, 1) \
    X(MAX_LENGTH_DECREASED, 0) \
    X(MIN_LENGTH_ADDED, 0) \
    X(MIN_LENGTH_REMOVED, 1) \
    X(MIN_LENGTH_INCREASED, 0) \
    X(MIN_LENGTH_DECREASED, 1) \
    X(PATTERN_ADDED, 0) \
    X(PATTERN_REMOVED, 1) \
    X(PATTERN_CHANGED, 0) \
    X(MAXIMUM_ADDED, 0) \
    X(MAXIMUM_REMOVED, 1) \
    X(MAXIMUM_INCREASED, 1) \
    X(MAXIMUM_DECREASED, 0) \
    X(MINIMUM_ADDED, 0) \
    X(MINIMUM_REMOVED, 1) \
    X(MINIMUM_INCREASED, 0) \
    X(MINIMUM_DECREASED, 1) \
    X(EXCLUSIVE_MAXIMUM_ADDED, 0) \
    X(EXCLUSIVE_MAXIMUM_REMOVED, 1) \
    X(EXCLUSIVE_MAXIMUM_INCREASED, 1) \
    X(EXCLUSIVE_MAXIMUM_DECREASED, 0) \
    X(EXCLUSIVE_MINIMUM_ADDED, 0) \
    X(EXCLUSIVE_MINIMUM_REMOVED, 1) \
    X(EXCLUSIVE_MINIMUM_INCREASED, 0) \
    X(EXCLUSIVE_MINIMUM_DECREASED, 1) \
    X(MULTIPLE_OF_ADDED, 0) \
    X(MULTIPLE_OF_REMOVED, 1) \
    X(MULTIPLE_OF_EXPANDED, 0) \
    X(MULTIPLE_OF_REDUCED, 1) \
    X(MULTIPLE_OF_CHANGED, 0) \
    X(REQUIRED_ATTRIBUTE_ADDED, 0) \
    X(REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED, 1) \
    X(REQUIRED_ATTRIBUTE_REMOVED, 1) \
    X(MAX_PROPERTIES_ADDED, 0) \
    X(MAX_PROPERTIES_REMOVED, 1) \
    X(MAX_PROPERTIES_INCREASED, 1) \
    X(MAX_PROPERTIES_DECREASED, 0) \
    X(MIN_PROPERTIES_ADDED, 0) \
    X(MIN_PROPERTIES_REMOVED, 1) \
    X(MIN_PROPERTIES_INCREASED, 0) \
    X(MIN_PROPERTIES_DECREASED, 1) \
    X(ADDITIONAL_PROPERTIES_ADDED, 1) \
    X(ADDITIONAL_PROPERTIES_REMOVED, 0) \
    X(ADDITIONAL_PROPERTIES_EXTENDED, 1) \
    X(ADDITIONAL_PROPERTIES_NARROWED, 0) \
    X(DEPENDENCY_ARRAY_ADDED, 0) \
    X(DEPENDENCY_ARRAY_REMOVED, 1) \
    X(DEPENDENCY_ARRAY_EXTENDED, 0) \
    X(DEPENDENCY_ARRAY_NARROWED, 1) \
    X(DEPENDENCY_ARRAY_CHANGED, 0) \
    X(DEPENDENCY_SCHEMA_ADDED, 0) \
    X(DEPENDENCY_SCHEMA_REMOVED, 1) \
    X(PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, 0) \
    X(PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, 1) \
    X(REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, 0) \
    X(REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL, 1) \
    X(OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, 1) \
    X(PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, 1) \
    X(PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, 1) \
    X(PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, 0) \
    X(PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 1) \
    X(PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 0) \
    X(PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 1) \
    X(PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 0) \
    X(MAX_ITEMS_ADDED, 0) \
    X(MAX_ITEMS_REMOVED, 1) \
    X(MAX_ITEMS_INCREASED, 1) \
    X(MAX_ITEMS_DECREASED, 0) \
    X(MIN_ITEMS_ADDED, 0) \
    X(MIN_ITEMS_REMOVED, 1) \
    X(MIN_ITEMS_INCREASED, 0) \
    X(MIN_ITEMS_DECREASED, 1) \
    X(MAX_CONTAINS_ADDED, 0) \
    X(MAX_CONTAINS_REMOVED, 0) \
    X(MAX_CONTAINS_INCREASED, 0) \
    X(MAX_CONTAINS_DECREASED, 0) \
    X(MIN_CONTAINS_ADDED, 0) \
    X(MIN_CONTAINS_REMOVED, 0) \
    X(MIN_CONTAINS_INCREASED, 0) \
    X(MIN_CONTAINS_DECREASED, 0) \
    X(UNIQUE_ITEMS_ADDED, 0) \
    X(UNIQUE_ITEMS_REMOVED, 1) \
    X(ADDITIONAL_ITEMS_ADDED, 1) \
    X(ADDITIONAL_ITEMS_REMOVED, 0) \
    X(ADDITIONAL_ITEMS_EXTENDED, 1) \
    X(ADDITIONAL_ITEMS_NARROWED, 0) \
    X(UNEVALUATED_ITEMS_ADDED, 0) \
    X(UNEVALUATED_ITEMS_REMOVED, 0) \
    X(UNEVALUATED_ITEMS_EXTENDED, 0) \
    X(UNEVALUATED_ITEMS_NARROWED, 0) \
    X(ITEM_ADDED_TO_OPEN_CONTENT_MODEL, 0) \
    X(ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, 1) \
    X(ITEM_ADDED_TO_CLOSED_CONTENT_MODEL, 1) \
    X(ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL, 1) \
    X(ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, 1) \
    X(ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL, 0) \
    X(ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 1) \
    X(ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 0) \
    X(ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 1) \
    X(ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL, 0) \
    X(ENUM_ARRAY_EXTENDED, 1) \
    X(ENUM_ARRAY_NARROWED, 0) \
    X(ENUM_ARRAY_CHANGED, 0) \
    X(COMBINED_TYPE_EXTENDED, 1) \
    X(COMBINED_TYPE_CHANGED, 0) \
    X(PRODUCT_TYPE_EXTENDED, 0) \
    X(PRODUCT_TYPE_NARROWED, 1) \
    X(SUM_TYPE_EXTENDED, 1) \
    X(SUM_TYPE_NARROWED, 0) \
    X(COMBINED_TYPE_SUBSCHEMAS_CHANGED, 0) \
    X(NOT_TYPE_EXTENDED, 0) \
    X(NOT_TYPE_NARROWED, 1)
/* clang-format on */

typedef enum weir_jd_e {
#define WEIR_JS_ENUM(name, ok) JD_##name,
    WEIR_JS_DIFFS(WEIR_JS_ENUM)
#undef WEIR_JS_ENUM
        JD__COUNT
} weir_jd_t;

static const struct {
    const char *name;
    bool compatible;
} weir_jd_info[] = {
#define WEIR_JS_INFO(name, ok) {#name, ok},
    WEIR_JS_DIFFS(WEIR_JS_INFO)
#undef WEIR_JS_INFO
};

/* ------------------------------------------------------------------------ */
/* The schema graph                                                         */
/* ------------------------------------------------------------------------ */

typedef enum weir_jk_e {
    JK_EMPTY = 0, /* {} or true: anything */
    JK_FALSE,
    JK_STRING,
    JK_NUMBER,
    JK_BOOLEAN,
    JK_NULL,
    JK_OBJECT,
    JK_ARRAY,
    JK_ENUM,
    JK_CONST,
    JK_COMBINED,
    JK_NOT,
    JK_CONDITIONAL,
} weir_jk_t;

typedef enum weir_jcrit_e { JC_ALL, JC_ANY, JC_ONE } weir_jcrit_t;

typedef struct weir_jsn_s weir_jsn_t;

typedef struct weir_jprop_s {
    const char *key;
    weir_jsn_t *schema;
} weir_jprop_t;

typedef struct weir_jpprop_s {
    const char *pattern;
    pcre2_code *re;
    weir_jsn_t *schema;
} weir_jpprop_t;

typedef struct weir_jpdep_s {
    const char *key;
    const json_t *names; /* array of strings */
} weir_jpdep_t;

struct weir_jsn_s {
    weir_jk_t kind;
    const json_t *src; /* the schema object it comes from */
    bool whole;        /* represents all of src (not one type of a "type" array) */
    /* Annotations (outermost node of a schema object only). */
    const json_t *id, *title, *description, *def;
    /* String. */
    int64_t min_len, max_len; /* -1: absent */
    const char *pattern;
    /* Number. */
    bool integer;
    bool has_max, has_min, has_xmax, has_xmin, has_mult;
    double max, min, xmax, xmin, mult;
    /* Object. */
    weir_jprop_t *props;
    size_t nprops;
    const json_t *required;
    bool permits_additional;
    weir_jsn_t *additional;
    weir_jpprop_t *pprops;
    size_t npprops;
    weir_jpdep_t *pdeps;
    size_t npdeps;
    weir_jprop_t *sdeps;
    size_t nsdeps;
    int64_t min_props, max_props;
    /* Array. */
    weir_jsn_t *all_items;
    weir_jsn_t **item_schemas;
    size_t nitem_schemas;
    bool permits_additional_items;
    weir_jsn_t *additional_items;
    weir_jsn_t *uneval_items;
    int64_t min_items, max_items, min_contains, max_contains;
    bool unique;
    /* Enum / const. */
    const json_t *values;
    const json_t *cvalue;
    /* Combined / not. */
    weir_jcrit_t crit;
    weir_jsn_t **subs;
    size_t nsubs;
    weir_jsn_t *not_schema;
};

typedef struct weir_jdoc_s {
    char *name; /* NULL for the main document */
    json_t *json;
} weir_jdoc_t;

/* Pointer map json_t* -> node. */
typedef struct weir_jmap_s {
    const void **keys;
    void **vals;
    size_t cap, used;
} weir_jmap_t;

struct weir_json_schema_s {
    weir_jdoc_t *docs; /* docs[0] is the schema itself */
    size_t ndocs;
    char *normalized;
    weir_jsn_t **nodes;
    size_t nnodes, nodes_cap;
    weir_jmap_t cache;
    weir_jsn_t *root;
    bool too_deep; /* the graph nests deeper than the build limit */
};

/* How deep subschemas (through $ref too) may nest in the graph. */
#define WEIR_JSON_BUILD_MAX_DEPTH (WEIR_JSON_SCHEMA_MAX_DEPTH * 4)

static size_t
weir_jmap_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;

    return (size_t)(h ^ (h >> 31));
}

static void *
weir_jmap_get(const weir_jmap_t *m, const void *k)
{
    size_t i;

    if (!m->cap)
        return NULL;
    for (i = weir_jmap_hash(k) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == k)
            return m->vals[i];
    return NULL;
}

static void
weir_jmap_put(weir_jmap_t *m, const void *k, void *v)
{
    size_t i;

    if ((m->used + 1) * 2 > m->cap) {
        weir_jmap_t n = {0};

        n.cap = m->cap ? m->cap * 2 : 64;
        n.keys = weir_calloc(n.cap, sizeof(*n.keys));
        n.vals = weir_calloc(n.cap, sizeof(*n.vals));
        for (size_t j = 0; j < m->cap; j++)
            if (m->keys[j])
                weir_jmap_put(&n, m->keys[j], m->vals[j]);
        free(m->keys);
        free(m->vals);
        *m = n;
    }
    for (i = weir_jmap_hash(k) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k) {
            m->vals[i] = v;
            return;
        }
    }
    m->keys[i] = k;
    m->vals[i] = v;
    m->used++;
}

static void
weir_jmap_free(weir_jmap_t *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static void
weir_jsn_free(weir_jsn_t *n)
{
    free(n->props);
    for (size_t i = 0; i < n->npprops; i++)
        pcre2_code_free(n->pprops[i].re);
    free(n->pprops);
    free(n->pdeps);
    free(n->sdeps);
    free(n->item_schemas);
    free(n->subs);
    free(n);
}

void
weir_json_schema_free(weir_json_schema_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        weir_jsn_free(s->nodes[i]);
    free(s->nodes);
    weir_jmap_free(&s->cache);
    for (size_t i = 0; i < s->ndocs; i++) {
        free(s->docs[i].name);
        if (s->docs[i].json)
            json_decref(s->docs[i].json);
    }
    free(s->docs);
    free(s->normalized);
    free(s);
}

const char *
weir_json_schema_normalized(const weir_json_schema_t *s)
{
    return s->normalized;
}

const json_t *
weir_json_schema_doc(const weir_json_schema_t *s)
{
    return s->docs[0].json;
}

/* ------------------------------------------------------------------------ */
/* $ref resolution                                                          */
/* ------------------------------------------------------------------------ */

typedef struct weir_jctx_s {
    weir_json_schema_t *s;
    char *err;
    size_t errsz;
    bool failed;
} weir_jctx_t;

static void weir_jfail(weir_jctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
weir_jfail(weir_jctx_t *c, const char *fmt, ...)
{
    va_list ap;

    if (c->failed)
        return;
    c->failed = true;
    if (!c->err || !c->errsz)
        return;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errsz, fmt, ap);
    va_end(ap);
}

static const char *
weir_last_segment(const char *s, size_t len, size_t *outlen)
{
    const char *p = s + len;

    while (p > s && p[-1] != '/')
        p--;
    *outlen = (size_t)(s + len - p);
    return p;
}

/* Finds the document a $ref's document part names: the current one when
 * empty or equal to a document's $id, else a referenced schema whose name
 * (or whose name's last path segment) matches. */
static int
weir_jref_doc(const weir_json_schema_t *s, int cur, const char *docpart, size_t len)
{
    size_t seglen, nseglen;
    const char *seg;

    if (len == 0)
        return cur;
    for (size_t i = 0; i < s->ndocs; i++) {
        const json_t *id = json_object_get(s->docs[i].json, "$id");

        if (!id)
            id = json_object_get(s->docs[i].json, "id");
        if (json_is_string(id) && strlen(json_string_value(id)) == len &&
            memcmp(json_string_value(id), docpart, len) == 0)
            return (int)i;
    }
    for (size_t i = 1; i < s->ndocs; i++)
        if (strlen(s->docs[i].name) == len && memcmp(s->docs[i].name, docpart, len) == 0)
            return (int)i;
    seg = weir_last_segment(docpart, len, &seglen);
    for (size_t i = 1; i < s->ndocs; i++) {
        const char *nseg = weir_last_segment(s->docs[i].name, strlen(s->docs[i].name), &nseglen);

        if (seglen && seglen == nseglen && memcmp(seg, nseg, seglen) == 0)
            return (int)i;
    }
    return -1;
}

static int
weir_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Follows a JSON pointer ("/a/b~1c/0", percent-encoded as in a URI
 * fragment). */
static json_t *
weir_jpointer(json_t *doc, const char *ptr)
{
    json_t *cur = doc;
    char *tok = weir_malloc(strlen(ptr) + 1);

    while (cur && *ptr == '/') {
        size_t n = 0;

        ptr++;
        while (*ptr && *ptr != '/') {
            char ch = *ptr++;

            if (ch == '%' && weir_hexval(ptr[0]) >= 0 && weir_hexval(ptr[1]) >= 0) {
                ch = (char)(weir_hexval(ptr[0]) * 16 + weir_hexval(ptr[1]));
                ptr += 2;
            }
            if (ch == '~' && (*ptr == '0' || *ptr == '1')) {
                ch = *ptr == '0' ? '~' : '/';
                ptr++;
            }
            tok[n++] = ch;
        }
        tok[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long idx = strtoul(tok, &end, 10);

            cur = (*tok && !*end) ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
    }
    free(tok);
    return *ptr ? NULL : cur;
}

/* Searches a document for {"$anchor": name} or {"$id": "#name"}. */
static json_t *
weir_janchor(json_t *j, const char *name, int depth)
{
    json_t *v, *r;
    const char *k;
    size_t i;

    if (depth > WEIR_JSON_SCHEMA_MAX_DEPTH * 2)
        return NULL;
    if (json_is_object(j)) {
        json_t *a = json_object_get(j, "$anchor"), *id = json_object_get(j, "$id");

        if (json_is_string(a) && strcmp(json_string_value(a), name) == 0)
            return j;
        if (json_is_string(id) && json_string_value(id)[0] == '#' &&
            strcmp(json_string_value(id) + 1, name) == 0)
            return j;
        json_object_foreach(j, k, v)
        {
            if ((r = weir_janchor(v, name, depth + 1)))
                return r;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if ((r = weir_janchor(v, name, depth + 1)))
                return r;
        }
    }
    return NULL;
}

/* Resolves a $ref seen in document cur; sets *doc to the target's document. */
static json_t *
weir_jresolve(const weir_json_schema_t *s, int cur, const char *ref, int *doc)
{
    const char *hash = strchr(ref, '#');
    size_t dlen = hash ? (size_t)(hash - ref) : strlen(ref);
    const char *frag = hash ? hash + 1 : "";
    int d = weir_jref_doc(s, cur, ref, dlen);

    if (d < 0)
        return NULL;
    *doc = d;
    if (!frag[0])
        return s->docs[d].json;
    if (frag[0] == '/')
        return weir_jpointer(s->docs[d].json, frag);
    return weir_janchor(s->docs[d].json, frag, 0);
}

/* ------------------------------------------------------------------------ */
/* Validation of keyword shapes                                             */
/* ------------------------------------------------------------------------ */

static bool weir_jvalidate(weir_jctx_t *c, json_t *j, int doc, const char *path, int depth);

static bool
weir_jis_schema(const json_t *j)
{
    return json_is_object(j) || json_is_boolean(j);
}

static bool
weir_jnonneg_int(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0;
    if (json_is_real(v)) {
        double d = json_real_value(v);

        return d >= 0 && d == floor(d) && d < 9.0e15;
    }
    return false;
}

static bool
weir_jvalid_type_name(const char *t)
{
    static const char *const names[] = {"string", "number", "integer", "boolean",
                                        "null",   "object", "array"};

    for (size_t i = 0; i < WEIR_ARRAY_SIZE(names); i++)
        if (strcmp(t, names[i]) == 0)
            return true;
    return false;
}

static pcre2_code *
weir_jregex(const char *pattern, char *why, size_t whysz)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &errcode,
                                   &erroff, NULL);

    if (!re && why) {
        PCRE2_UCHAR msg[160];

        pcre2_get_error_message(errcode, msg, sizeof(msg));
        snprintf(why, whysz, "%s at offset %zu", (const char *)msg, (size_t)erroff);
    }
    return re;
}

static bool
weir_jvalidate_sub(weir_jctx_t *c, json_t *j, int doc, const char *path, const char *key, int depth)
{
    char sub[512];

    snprintf(sub, sizeof(sub), "%s/%s", path, key);
    if (!weir_jis_schema(j)) {
        weir_jfail(c, "%s must be a schema (an object or a boolean)", sub);
        return false;
    }
    return weir_jvalidate(c, j, doc, sub, depth + 1);
}

/* An object whose values are schemas. */
static bool
weir_jvalidate_schema_map(weir_jctx_t *c, json_t *m, int doc, const char *path, const char *kw,
                          bool regex_keys, int depth)
{
    const char *k;
    json_t *v;
    char sub[512];

    if (!json_is_object(m)) {
        weir_jfail(c, "%s/%s must be an object", path, kw);
        return false;
    }
    json_object_foreach(m, k, v)
    {
        if (regex_keys) {
            char why[200];
            pcre2_code *re = weir_jregex(k, why, sizeof(why));

            if (!re) {
                weir_jfail(c, "%s/%s: invalid pattern \"%s\": %s", path, kw, k, why);
                return false;
            }
            pcre2_code_free(re);
        }
        snprintf(sub, sizeof(sub), "%s/%s", kw, k);
        if (!weir_jvalidate_sub(c, v, doc, path, sub, depth))
            return false;
    }
    return true;
}

static bool
weir_jvalidate_schema_array(weir_jctx_t *c, json_t *a, int doc, const char *path, const char *kw,
                            bool nonempty, int depth)
{
    json_t *v;
    size_t i;
    char sub[512];

    if (!json_is_array(a) || (nonempty && json_array_size(a) == 0)) {
        weir_jfail(c, "%s/%s must be a%s array of schemas", path, kw,
                   nonempty ? " non-empty" : "n");
        return false;
    }
    json_array_foreach(a, i, v)
    {
        snprintf(sub, sizeof(sub), "%s/%zu", kw, i);
        if (!weir_jvalidate_sub(c, v, doc, path, sub, depth))
            return false;
    }
    return true;
}

static bool
weir_jvalidate(weir_jctx_t *c, json_t *j, int doc, const char *path, int depth)
{
    static const char *const single[] = {"additionalItems",
                                         "additionalProperties",
                                         "unevaluatedItems",
                                         "unevaluatedProperties",
                                         "contains",
                                         "propertyNames",
                                         "not",
                                         "if",
                                         "then",
                                         "else"};
    static const char *const maps[] = {"properties", "definitions", "$defs", "dependentSchemas"};
    static const char *const arrays[] = {"allOf", "anyOf", "oneOf", "prefixItems"};
    static const char *const counts[] = {"minLength",   "maxLength",     "minItems",
                                         "maxItems",    "minProperties", "maxProperties",
                                         "minContains", "maxContains"};
    static const char *const strings[] = {"title",   "description", "$id",   "$schema",
                                          "$anchor", "$comment",    "format"};
    json_t *v;

    if (depth > WEIR_JSON_SCHEMA_MAX_DEPTH) {
        weir_jfail(c, "schema nested deeper than %d levels", WEIR_JSON_SCHEMA_MAX_DEPTH);
        return false;
    }
    if (json_is_boolean(j))
        return true;
    if (!json_is_object(j)) {
        weir_jfail(c, "%s must be a schema (an object or a boolean)", path[0] ? path : "#");
        return false;
    }
    if ((v = json_object_get(j, "$ref"))) {
        int d;
        json_t *t;

        if (!json_is_string(v)) {
            weir_jfail(c, "%s/$ref must be a string", path);
            return false;
        }
        t = weir_jresolve(c->s, doc, json_string_value(v), &d);
        if (!t) {
            weir_jfail(c, "%s/$ref: cannot resolve \"%s\"", path, json_string_value(v));
            return false;
        }
        if (!weir_jis_schema(t)) {
            weir_jfail(c, "%s/$ref: \"%s\" is not a schema", path, json_string_value(v));
            return false;
        }
    }
    if ((v = json_object_get(j, "type"))) {
        if (json_is_string(v)) {
            if (!weir_jvalid_type_name(json_string_value(v))) {
                weir_jfail(c, "%s/type: unknown type \"%s\"", path, json_string_value(v));
                return false;
            }
        } else if (json_is_array(v) && json_array_size(v) > 0) {
            json_t *t;
            size_t i;

            json_array_foreach(v, i, t)
            {
                if (!json_is_string(t) || !weir_jvalid_type_name(json_string_value(t))) {
                    weir_jfail(c, "%s/type: entry %zu is not a type name", path, i);
                    return false;
                }
                for (size_t k = 0; k < i; k++) {
                    if (json_equal(t, json_array_get(v, k))) {
                        weir_jfail(c, "%s/type: \"%s\" appears twice", path, json_string_value(t));
                        return false;
                    }
                }
            }
        } else {
            weir_jfail(c, "%s/type must be a type name or a non-empty array of them", path);
            return false;
        }
    }
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(single); i++)
        if ((v = json_object_get(j, single[i])) &&
            !weir_jvalidate_sub(c, v, doc, path, single[i], depth))
            return false;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(maps); i++)
        if ((v = json_object_get(j, maps[i])) &&
            !weir_jvalidate_schema_map(c, v, doc, path, maps[i], false, depth))
            return false;
    if ((v = json_object_get(j, "patternProperties")) &&
        !weir_jvalidate_schema_map(c, v, doc, path, "patternProperties", true, depth))
        return false;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(arrays); i++)
        if ((v = json_object_get(j, arrays[i])) &&
            !weir_jvalidate_schema_array(c, v, doc, path, arrays[i], i < 3, depth))
            return false;
    if ((v = json_object_get(j, "items"))) {
        if (json_is_array(v)) {
            if (!weir_jvalidate_schema_array(c, v, doc, path, "items", false, depth))
                return false;
        } else if (!weir_jvalidate_sub(c, v, doc, path, "items", depth)) {
            return false;
        }
    }
    if ((v = json_object_get(j, "dependencies"))) {
        const char *k;
        json_t *d;
        char sub[512];

        if (!json_is_object(v)) {
            weir_jfail(c, "%s/dependencies must be an object", path);
            return false;
        }
        json_object_foreach(v, k, d)
        {
            snprintf(sub, sizeof(sub), "dependencies/%s", k);
            if (json_is_array(d)) {
                json_t *x;
                size_t i;

                json_array_foreach(d, i, x)
                {
                    if (!json_is_string(x)) {
                        weir_jfail(c, "%s/%s must hold property names", path, sub);
                        return false;
                    }
                }
            } else if (!weir_jvalidate_sub(c, d, doc, path, sub, depth)) {
                return false;
            }
        }
    }
    if ((v = json_object_get(j, "dependentRequired"))) {
        const char *k;
        json_t *d, *x;
        size_t i;

        if (!json_is_object(v)) {
            weir_jfail(c, "%s/dependentRequired must be an object", path);
            return false;
        }
        json_object_foreach(v, k, d)
        {
            if (!json_is_array(d)) {
                weir_jfail(c, "%s/dependentRequired/%s must be an array", path, k);
                return false;
            }
            json_array_foreach(d, i, x)
            {
                if (!json_is_string(x)) {
                    weir_jfail(c, "%s/dependentRequired/%s must hold property names", path, k);
                    return false;
                }
            }
        }
    }
    if ((v = json_object_get(j, "required"))) {
        json_t *x;
        size_t i;

        if (!json_is_array(v)) {
            weir_jfail(c, "%s/required must be an array of property names", path);
            return false;
        }
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x)) {
                weir_jfail(c, "%s/required must be an array of property names", path);
                return false;
            }
        }
    }
    if ((v = json_object_get(j, "enum")) && !json_is_array(v)) {
        weir_jfail(c, "%s/enum must be an array", path);
        return false;
    }
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(counts); i++) {
        if ((v = json_object_get(j, counts[i])) && !weir_jnonneg_int(v)) {
            weir_jfail(c, "%s/%s must be a non-negative integer", path, counts[i]);
            return false;
        }
    }
    if (((v = json_object_get(j, "minimum")) && !json_is_number(v)) ||
        ((v = json_object_get(j, "maximum")) && !json_is_number(v))) {
        weir_jfail(c, "%s: minimum and maximum must be numbers", path);
        return false;
    }
    if (((v = json_object_get(j, "exclusiveMinimum")) && !json_is_number(v) &&
         !json_is_boolean(v)) ||
        ((v = json_object_get(j, "exclusiveMaximum")) && !json_is_number(v) &&
         !json_is_boolean(v))) {
        weir_jfail(c, "%s: exclusiveMinimum and exclusiveMaximum must be numbers", path);
        return false;
    }
    if ((v = json_object_get(j, "multipleOf")) &&
        (!json_is_number(v) || !(json_number_value(v) > 0))) {
        weir_jfail(c, "%s/multipleOf must be a number greater than 0", path);
        return false;
    }
    if ((v = json_object_get(j, "uniqueItems")) && !json_is_boolean(v)) {
        weir_jfail(c, "%s/uniqueItems must be a boolean", path);
        return false;
    }
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(strings); i++) {
        if ((v = json_object_get(j, strings[i])) && !json_is_string(v)) {
            weir_jfail(c, "%s/%s must be a string", path, strings[i]);
            return false;
        }
    }
    if ((v = json_object_get(j, "pattern"))) {
        char why[200];
        pcre2_code *re;

        if (!json_is_string(v)) {
            weir_jfail(c, "%s/pattern must be a string", path);
            return false;
        }
        re = weir_jregex(json_string_value(v), why, sizeof(why));
        if (!re) {
            weir_jfail(c, "%s/pattern: invalid regular expression: %s", path, why);
            return false;
        }
        pcre2_code_free(re);
    }
    return true;
}

/* A chain of $ref-only schemas must end somewhere. */
static bool
weir_jcheck_ref_chains(weir_jctx_t *c, json_t *j, int doc, int depth)
{
    const char *k;
    json_t *v;
    size_t i;

    if (depth > WEIR_JSON_SCHEMA_MAX_DEPTH * 2)
        return true;
    if (json_is_object(j)) {
        json_t *ref = json_object_get(j, "$ref");

        if (json_is_string(ref)) {
            json_t *t = j;
            int d = doc, hops = 0;

            while (json_is_object(t) && json_is_string(json_object_get(t, "$ref"))) {
                int nd;

                t = weir_jresolve(c->s, d, json_string_value(json_object_get(t, "$ref")), &nd);
                d = nd;
                if (++hops > 64 || t == j) {
                    weir_jfail(c, "circular $ref \"%s\"", json_string_value(ref));
                    return false;
                }
            }
        }
        json_object_foreach(j, k, v)
        {
            if (!weir_jcheck_ref_chains(c, v, doc, depth + 1))
                return false;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (!weir_jcheck_ref_chains(c, v, doc, depth + 1))
                return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Building the graph                                                       */
/* ------------------------------------------------------------------------ */

static weir_jsn_t *
weir_jsn_new(weir_json_schema_t *s, weir_jk_t kind, const json_t *src)
{
    weir_jsn_t *n = weir_calloc(1, sizeof(*n));

    n->kind = kind;
    n->src = src;
    n->min_len = n->max_len = -1;
    n->min_props = n->max_props = -1;
    n->min_items = n->max_items = n->min_contains = n->max_contains = -1;
    n->permits_additional = true;
    n->permits_additional_items = true;
    if (s->nnodes == s->nodes_cap) {
        s->nodes_cap = s->nodes_cap ? s->nodes_cap * 2 : 32;
        s->nodes = weir_realloc(s->nodes, s->nodes_cap * sizeof(*s->nodes));
    }
    s->nodes[s->nnodes++] = n;
    return n;
}

static weir_jsn_t *weir_jbuild(weir_json_schema_t *s, json_t *j, int doc, int depth);

static int64_t
weir_jcount(const json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    return v ? (int64_t)json_number_value(v) : -1;
}

static bool
weir_jnum(const json_t *j, const char *key, double *out)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return true;
}

static void
weir_jfill_string(weir_jsn_t *n, const json_t *j)
{
    json_t *p = json_object_get(j, "pattern");

    n->min_len = weir_jcount(j, "minLength");
    n->max_len = weir_jcount(j, "maxLength");
    n->pattern = json_is_string(p) ? json_string_value(p) : NULL;
}

static void
weir_jfill_number(weir_jsn_t *n, const json_t *j, bool integer)
{
    n->integer = integer;
    n->has_max = weir_jnum(j, "maximum", &n->max);
    n->has_min = weir_jnum(j, "minimum", &n->min);
    n->has_xmax = weir_jnum(j, "exclusiveMaximum", &n->xmax);
    n->has_xmin = weir_jnum(j, "exclusiveMinimum", &n->xmin);
    n->has_mult = weir_jnum(j, "multipleOf", &n->mult);
}

static void
weir_jfill_object(weir_json_schema_t *s, weir_jsn_t *n, json_t *j, int doc, int depth)
{
    json_t *v, *x;
    const char *k;
    size_t i;

    if ((v = json_object_get(j, "properties"))) {
        n->props = weir_calloc(json_object_size(v) + 1, sizeof(*n->props));
        json_object_foreach(v, k, x)
        {
            n->props[n->nprops].key = k;
            n->props[n->nprops++].schema = weir_jbuild(s, x, doc, depth + 1);
        }
    }
    n->required = json_object_get(j, "required");
    if ((v = json_object_get(j, "additionalProperties"))) {
        if (json_is_boolean(v))
            n->permits_additional = json_is_true(v);
        else
            n->additional = weir_jbuild(s, v, doc, depth + 1);
    }
    if ((v = json_object_get(j, "patternProperties"))) {
        n->pprops = weir_calloc(json_object_size(v) + 1, sizeof(*n->pprops));
        json_object_foreach(v, k, x)
        {
            n->pprops[n->npprops].pattern = k;
            n->pprops[n->npprops].re = weir_jregex(k, NULL, 0);
            n->pprops[n->npprops++].schema = weir_jbuild(s, x, doc, depth + 1);
        }
    }
    /* "dependencies" (draft 7) and its 2019-09 split forms. */
    for (i = 0; i < 3; i++) {
        static const char *const kws[] = {"dependencies", "dependentRequired", "dependentSchemas"};

        if (!(v = json_object_get(j, kws[i])))
            continue;
        json_object_foreach(v, k, x)
        {
            if (json_is_array(x)) {
                n->pdeps = weir_realloc(n->pdeps, (n->npdeps + 1) * sizeof(*n->pdeps));
                n->pdeps[n->npdeps].key = k;
                n->pdeps[n->npdeps++].names = x;
            } else {
                n->sdeps = weir_realloc(n->sdeps, (n->nsdeps + 1) * sizeof(*n->sdeps));
                n->sdeps[n->nsdeps].key = k;
                n->sdeps[n->nsdeps++].schema = weir_jbuild(s, x, doc, depth + 1);
            }
        }
    }
    n->min_props = weir_jcount(j, "minProperties");
    n->max_props = weir_jcount(j, "maxProperties");
}

static void
weir_jfill_array(weir_json_schema_t *s, weir_jsn_t *n, json_t *j, int doc, int depth)
{
    json_t *items = json_object_get(j, "items"), *prefix = json_object_get(j, "prefixItems");
    json_t *addl = json_object_get(j, "additionalItems"), *x;
    size_t i;

    if (prefix) {
        /* 2020-12: prefixItems is the tuple, items the rest. */
        addl = items;
        items = prefix;
    }
    if (json_is_array(items)) {
        n->item_schemas = weir_calloc(json_array_size(items) + 1, sizeof(*n->item_schemas));
        json_array_foreach(items, i, x) n->item_schemas[n->nitem_schemas++] =
            weir_jbuild(s, x, doc, depth + 1);
    } else if (items) {
        n->all_items = weir_jbuild(s, items, doc, depth + 1);
    }
    if (addl) {
        if (json_is_boolean(addl))
            n->permits_additional_items = json_is_true(addl);
        else
            n->additional_items = weir_jbuild(s, addl, doc, depth + 1);
    }
    if ((x = json_object_get(j, "unevaluatedItems")))
        n->uneval_items = weir_jbuild(s, x, doc, depth + 1);
    n->min_items = weir_jcount(j, "minItems");
    n->max_items = weir_jcount(j, "maxItems");
    n->min_contains = weir_jcount(j, "minContains");
    n->max_contains = weir_jcount(j, "maxContains");
    n->unique = json_is_true(json_object_get(j, "uniqueItems"));
}

static weir_jsn_t *
weir_jtyped(weir_json_schema_t *s, json_t *j, const char *type, int doc, int depth)
{
    weir_jsn_t *n;

    if (strcmp(type, "string") == 0) {
        n = weir_jsn_new(s, JK_STRING, j);
        weir_jfill_string(n, j);
    } else if (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0) {
        n = weir_jsn_new(s, JK_NUMBER, j);
        weir_jfill_number(n, j, type[0] == 'i');
    } else if (strcmp(type, "boolean") == 0) {
        n = weir_jsn_new(s, JK_BOOLEAN, j);
    } else if (strcmp(type, "null") == 0) {
        n = weir_jsn_new(s, JK_NULL, j);
    } else if (strcmp(type, "object") == 0) {
        n = weir_jsn_new(s, JK_OBJECT, j);
        weir_jfill_object(s, n, j, doc, depth);
    } else {
        n = weir_jsn_new(s, JK_ARRAY, j);
        weir_jfill_array(s, n, j, doc, depth);
    }
    return n;
}

static bool
weir_jhas_any(const json_t *j, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_object_get(j, keys[i]))
            return true;
    return false;
}

static weir_jsn_t *
weir_jcombined(weir_json_schema_t *s, json_t *j, weir_jcrit_t crit, json_t *arr, int doc, int depth)
{
    weir_jsn_t *n = weir_jsn_new(s, JK_COMBINED, j);
    json_t *x;
    size_t i;

    n->crit = crit;
    n->subs = weir_calloc(json_array_size(arr) + 1, sizeof(*n->subs));
    json_array_foreach(arr, i, x) n->subs[n->nsubs++] = weir_jbuild(s, x, doc, depth + 1);
    return n;
}

/* The node of a schema object: one per kind of keyword it uses, more than
 * one kind makes a synthetic allOf (as the everit loader does). */
static weir_jsn_t *
weir_jbuild(weir_json_schema_t *s, json_t *j, int doc, int depth)
{
    static const char *const obj_kw[] = {
        "properties",        "required",        "additionalProperties", "patternProperties",
        "dependencies",      "minProperties",   "maxProperties",        "propertyNames",
        "dependentRequired", "dependentSchemas"};
    static const char *const arr_kw[] = {
        "items",    "additionalItems", "minItems",         "maxItems",    "uniqueItems",
        "contains", "prefixItems",     "unevaluatedItems", "minContains", "maxContains"};
    static const char *const str_kw[] = {"minLength", "maxLength", "pattern", "format"};
    static const char *const num_kw[] = {"minimum", "maximum", "exclusiveMinimum",
                                         "exclusiveMaximum", "multipleOf"};
    weir_jsn_t *parts[16], *n;
    size_t np = 0;
    json_t *v, *type;

    if ((n = weir_jmap_get(&s->cache, j)))
        return n;
    if (depth > WEIR_JSON_BUILD_MAX_DEPTH)
        s->too_deep = true; /* the parse fails: never compare a truncated graph */
    if (depth > WEIR_JSON_BUILD_MAX_DEPTH || json_is_true(j) || !json_is_object(j)) {
        n = weir_jsn_new(s, json_is_false(j) ? JK_FALSE : JK_EMPTY, j);
        n->whole = true;
        weir_jmap_put(&s->cache, j, n);
        return n;
    }
    if (json_is_string(v = json_object_get(j, "$ref"))) {
        int d = doc;
        json_t *t = weir_jresolve(s, doc, json_string_value(v), &d);

        /* Validation made sure it resolves and that ref chains end. */
        n = t ? weir_jbuild(s, t, d, depth + 1) : weir_jsn_new(s, JK_EMPTY, j);
        weir_jmap_put(&s->cache, j, n);
        return n;
    }
    /* Nodes are cached before their children are built, so cycles through
     * $ref end at them; a placeholder is updated below. */
    n = weir_jsn_new(s, JK_EMPTY, j);
    n->whole = true;
    weir_jmap_put(&s->cache, j, n);

    if ((v = json_object_get(j, "enum"))) {
        parts[np] = weir_jsn_new(s, JK_ENUM, j);
        parts[np++]->values = v;
    }
    if ((v = json_object_get(j, "const"))) {
        parts[np] = weir_jsn_new(s, JK_CONST, j);
        parts[np++]->cvalue = v;
    }
    if ((v = json_object_get(j, "allOf")))
        parts[np++] = weir_jcombined(s, j, JC_ALL, v, doc, depth);
    if ((v = json_object_get(j, "anyOf")))
        parts[np++] = weir_jcombined(s, j, JC_ANY, v, doc, depth);
    if ((v = json_object_get(j, "oneOf")))
        parts[np++] = weir_jcombined(s, j, JC_ONE, v, doc, depth);
    if ((v = json_object_get(j, "not"))) {
        parts[np] = weir_jsn_new(s, JK_NOT, j);
        parts[np++]->not_schema = weir_jbuild(s, v, doc, depth + 1);
    }
    if (json_object_get(j, "if") || json_object_get(j, "then") || json_object_get(j, "else"))
        parts[np++] = weir_jsn_new(s, JK_CONDITIONAL, j);
    type = json_object_get(j, "type");
    if (json_is_string(type)) {
        parts[np++] = weir_jtyped(s, j, json_string_value(type), doc, depth);
    } else if (json_is_array(type)) {
        weir_jsn_t *any = weir_jsn_new(s, JK_COMBINED, j);
        json_t *t;
        size_t i;

        any->crit = JC_ANY;
        any->subs = weir_calloc(json_array_size(type) + 1, sizeof(*any->subs));
        json_array_foreach(type, i, t) any->subs[any->nsubs++] =
            weir_jtyped(s, j, json_string_value(t), doc, depth);
        parts[np++] = any;
    } else {
        if (weir_jhas_any(j, obj_kw, WEIR_ARRAY_SIZE(obj_kw)))
            parts[np++] = weir_jtyped(s, j, "object", doc, depth);
        if (weir_jhas_any(j, arr_kw, WEIR_ARRAY_SIZE(arr_kw)))
            parts[np++] = weir_jtyped(s, j, "array", doc, depth);
        if (weir_jhas_any(j, str_kw, WEIR_ARRAY_SIZE(str_kw)))
            parts[np++] = weir_jtyped(s, j, "string", doc, depth);
        if (weir_jhas_any(j, num_kw, WEIR_ARRAY_SIZE(num_kw)))
            parts[np++] = weir_jtyped(s, j, "number", doc, depth);
    }

    if (np == 1) {
        /* The placeholder becomes that part: copy it in, so nodes already
         * pointing at the placeholder see the final node. */
        weir_jsn_t *p = parts[0];

        *n = *p;
        memset(p, 0, sizeof(*p)); /* p keeps nothing to free */
        p->kind = JK_EMPTY;
    } else if (np > 1) {
        n->kind = JK_COMBINED;
        n->crit = JC_ALL;
        n->subs = weir_calloc(np, sizeof(*n->subs));
        memcpy(n->subs, parts, np * sizeof(*parts));
        n->nsubs = np;
    }
    n->whole = true;
    n->src = j;
    n->id = json_object_get(j, "$id");
    if (!n->id)
        n->id = json_object_get(j, "id");
    n->title = json_object_get(j, "title");
    n->description = json_object_get(j, "description");
    n->def = json_object_get(j, "default");
    return n;
}

/* ------------------------------------------------------------------------ */
/* Parse entry point                                                        */
/* ------------------------------------------------------------------------ */

int
weir_json_schema_parse(const char *text, size_t len, const char *const *ref_names,
                       const char *const *refs, const size_t *ref_lens, size_t nrefs,
                       weir_json_schema_t **out, char *err, size_t errsz)
{
    weir_json_schema_t *s = weir_calloc(1, sizeof(*s));
    weir_jctx_t c = {.s = s, .err = err, .errsz = errsz};
    json_error_t jerr;

    *out = NULL;
    if (err && errsz)
        err[0] = '\0';
    s->docs = weir_calloc(nrefs + 1, sizeof(*s->docs));
    s->ndocs = nrefs + 1;
    s->docs[0].json = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!s->docs[0].json) {
        weir_jfail(&c, "the schema is not valid JSON: %s (line %d, column %d)", jerr.text,
                   jerr.line, jerr.column);
        goto fail;
    }
    for (size_t i = 0; i < nrefs; i++) {
        s->docs[i + 1].name = weir_strdup(ref_names[i]);
        s->docs[i + 1].json =
            json_loadb(refs[i], ref_lens[i], JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (!s->docs[i + 1].json) {
            weir_jfail(&c, "referenced schema %s is not valid JSON: %s", ref_names[i], jerr.text);
            goto fail;
        }
    }
    for (size_t i = 0; i < s->ndocs; i++) {
        if (!weir_jvalidate(&c, s->docs[i].json, (int)i, i ? s->docs[i].name : "#", 0) ||
            !weir_jcheck_ref_chains(&c, s->docs[i].json, (int)i, 0))
            goto fail;
    }
    s->root = weir_jbuild(s, s->docs[0].json, 0, 0);
    if (s->too_deep) {
        weir_jfail(&c, "subschemas (through $ref) nest deeper than %d levels",
                   WEIR_JSON_BUILD_MAX_DEPTH);
        goto fail;
    }
    s->normalized = json_dumps(s->docs[0].json, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s->normalized)
        abort();
    *out = s;
    return 0;

fail:
    if (!c.failed)
        weir_jfail(&c, "invalid schema");
    weir_json_schema_free(s);
    return WEIR_EPARSE;
}

/* ------------------------------------------------------------------------ */
/* Comparison                                                               */
/* ------------------------------------------------------------------------ */

typedef struct weir_jdiff_s {
    weir_jd_t type;
    char *path;
} weir_jdiff_t;

typedef struct weir_jdiffs_s {
    weir_jdiff_t *v;
    size_t n, cap;
} weir_jdiffs_t;

typedef struct weir_jmemo_s {
    const weir_jsn_t *o, *u;
    bool busy;
    weir_jdiffs_t diffs; /* relative to the pair */
} weir_jmemo_t;

typedef struct weir_jglobal_s {
    weir_jmemo_t *memo;
    size_t nmemo, cap;
    int depth; /* nested weir_jcompare calls */
} weir_jglobal_t;

/* $ref chains can be as long as the document; comparing deeper than this
 * is refused (incompatible) rather than risking the stack. */
#define WEIR_JSON_COMPAT_MAX_DEPTH (2 * WEIR_JSON_BUILD_MAX_DEPTH)

typedef struct weir_jcmp_s {
    weir_jglobal_t *g;
    weir_jdiffs_t diffs;
    char *path; /* "#/properties/a" without the "#/" */
    size_t len, cap;
} weir_jcmp_t;

static void
weir_jdiffs_add(weir_jdiffs_t *d, weir_jd_t type, const char *path)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = weir_realloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n].type = type;
    d->v[d->n++].path = weir_strdup(path);
}

static void
weir_jdiffs_free(weir_jdiffs_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].path);
    free(d->v);
    memset(d, 0, sizeof(*d));
}

static bool
weir_jdiffs_compatible(const weir_jdiffs_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (!weir_jd_info[d->v[i].type].compatible)
            return false;
    return true;
}

static void
weir_jcmp_init(weir_jcmp_t *c, weir_jglobal_t *g, const char *path, size_t len)
{
    memset(c, 0, sizeof(*c));
    c->g = g;
    c->cap = len + 64;
    c->path = weir_malloc(c->cap);
    memcpy(c->path, path, len);
    c->path[len] = '\0';
    c->len = len;
}

static void
weir_jcmp_free(weir_jcmp_t *c)
{
    weir_jdiffs_free(&c->diffs);
    free(c->path);
}

/* A subcontext at the same path. */
static void
weir_jcmp_sub(weir_jcmp_t *sub, const weir_jcmp_t *c)
{
    weir_jcmp_init(sub, c->g, c->path, c->len);
}

static size_t
weir_jpush(weir_jcmp_t *c, const char *seg)
{
    size_t old = c->len, sl = strlen(seg);

    if (c->len + sl + 2 > c->cap) {
        c->cap = (c->len + sl + 2) * 2;
        c->path = weir_realloc(c->path, c->cap);
    }
    if (c->len)
        c->path[c->len++] = '/';
    memcpy(c->path + c->len, seg, sl);
    c->len += sl;
    c->path[c->len] = '\0';
    return old;
}

static void
weir_jpop(weir_jcmp_t *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

static void
weir_jadd(weir_jcmp_t *c, weir_jd_t type)
{
    weir_jdiffs_add(&c->diffs, type, c->path);
}

static void
weir_jadd_at(weir_jcmp_t *c, const char *attr, weir_jd_t type)
{
    size_t old = weir_jpush(c, attr);

    weir_jadd(c, type);
    weir_jpop(c, old);
}

/* Moves the diffs of src into c (paths already absolute). */
static void
weir_jadd_all(weir_jcmp_t *c, weir_jdiffs_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        weir_jdiffs_add(&c->diffs, src->v[i].type, src->v[i].path);
    }
}

/* Adds diffs relative to a pair at the current path. */
static void
weir_jadd_rebased(weir_jcmp_t *c, const weir_jdiffs_t *rel)
{
    for (size_t i = 0; i < rel->n; i++) {
        size_t old = c->len;

        if (rel->v[i].path[0])
            weir_jpush(c, rel->v[i].path);
        weir_jadd(c, rel->v[i].type);
        weir_jpop(c, old);
    }
}

static void weir_jcompare(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u);

static bool
weir_jcompatible_pair(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u, weir_jdiffs_t *out)
{
    weir_jcmp_t sub;
    bool ok;

    weir_jcmp_sub(&sub, c);
    weir_jcompare(&sub, o, u);
    ok = weir_jdiffs_compatible(&sub.diffs);
    if (out) {
        *out = sub.diffs;
        memset(&sub.diffs, 0, sizeof(sub.diffs));
    }
    weir_jcmp_free(&sub);
    return ok;
}

static bool
weir_jrequired(const weir_jsn_t *n, const char *key)
{
    json_t *x;
    size_t i;

    json_array_foreach(n->required, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), key) == 0)
            return true;
    }
    return false;
}

static weir_jsn_t *
weir_jprop(const weir_jsn_t *n, const char *key)
{
    for (size_t i = 0; i < n->nprops; i++)
        if (strcmp(n->props[i].key, key) == 0)
            return n->props[i].schema;
    return NULL;
}

static bool
weir_jobject_open(const weir_jsn_t *n)
{
    return n->npprops == 0 && !n->additional && n->permits_additional;
}

static weir_jsn_t *
weir_jpartial(const weir_jsn_t *n, const char *key)
{
    /* Patterns come from clients: bound the backtracking (a pattern that
     * runs out counts as not matching). */
    static pcre2_match_context *mctx;

    if (!mctx) {
        mctx = pcre2_match_context_create(NULL);
        if (!mctx)
            abort();
        pcre2_set_match_limit(mctx, 100000);
        pcre2_set_depth_limit(mctx, 1000);
    }
    for (size_t i = 0; i < n->npprops; i++) {
        pcre2_match_data *md;
        int rc;

        if (!n->pprops[i].re)
            continue;
        md = pcre2_match_data_create_from_pattern(n->pprops[i].re, NULL);
        rc = pcre2_match(n->pprops[i].re, (PCRE2_SPTR)key, strlen(key), 0, 0, md, mctx);
        pcre2_match_data_free(md);
        if (rc >= 0)
            return n->pprops[i].schema;
    }
    return n->additional;
}

static bool
weir_jhas_default(const weir_jsn_t *n)
{
    return n && json_is_object(n->src) && json_object_get(n->src, "default");
}

static void
weir_jcompare_limit(weir_jcmp_t *c, const char *attr, int64_t o, int64_t u, weir_jd_t added,
                    weir_jd_t removed, weir_jd_t increased, weir_jd_t decreased)
{
    if (o == u)
        return;
    if (o < 0)
        weir_jadd_at(c, attr, added);
    else if (u < 0)
        weir_jadd_at(c, attr, removed);
    else if (o < u)
        weir_jadd_at(c, attr, increased);
    else
        weir_jadd_at(c, attr, decreased);
}

static void
weir_jcompare_dlimit(weir_jcmp_t *c, const char *attr, bool ho, double o, bool hu, double u,
                     weir_jd_t added, weir_jd_t removed, weir_jd_t increased, weir_jd_t decreased)
{
    if (!ho && !hu)
        return;
    if (!ho)
        weir_jadd_at(c, attr, added);
    else if (!hu)
        weir_jadd_at(c, attr, removed);
    else if (o < u)
        weir_jadd_at(c, attr, increased);
    else if (o > u)
        weir_jadd_at(c, attr, decreased);
}

static void
weir_jcompare_string(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    weir_jcompare_limit(c, "maxLength", o->max_len, u->max_len, JD_MAX_LENGTH_ADDED,
                        JD_MAX_LENGTH_REMOVED, JD_MAX_LENGTH_INCREASED, JD_MAX_LENGTH_DECREASED);
    weir_jcompare_limit(c, "minLength", o->min_len, u->min_len, JD_MIN_LENGTH_ADDED,
                        JD_MIN_LENGTH_REMOVED, JD_MIN_LENGTH_INCREASED, JD_MIN_LENGTH_DECREASED);
    if (!o->pattern && u->pattern)
        weir_jadd_at(c, "pattern", JD_PATTERN_ADDED);
    else if (o->pattern && !u->pattern)
        weir_jadd_at(c, "pattern", JD_PATTERN_REMOVED);
    else if (o->pattern && strcmp(o->pattern, u->pattern) != 0)
        weir_jadd_at(c, "pattern", JD_PATTERN_CHANGED);
}

static bool
weir_jmultiple(double a, double b)
{
    double q = a / b;

    return b != 0 && fabs(q - round(q)) < 1e-9;
}

static void
weir_jcompare_number(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    weir_jcompare_dlimit(c, "maximum", o->has_max, o->max, u->has_max, u->max, JD_MAXIMUM_ADDED,
                         JD_MAXIMUM_REMOVED, JD_MAXIMUM_INCREASED, JD_MAXIMUM_DECREASED);
    weir_jcompare_dlimit(c, "minimum", o->has_min, o->min, u->has_min, u->min, JD_MINIMUM_ADDED,
                         JD_MINIMUM_REMOVED, JD_MINIMUM_INCREASED, JD_MINIMUM_DECREASED);
    weir_jcompare_dlimit(c, "exclusiveMaximum", o->has_xmax, o->xmax, u->has_xmax, u->xmax,
                         JD_EXCLUSIVE_MAXIMUM_ADDED, JD_EXCLUSIVE_MAXIMUM_REMOVED,
                         JD_EXCLUSIVE_MAXIMUM_INCREASED, JD_EXCLUSIVE_MAXIMUM_DECREASED);
    weir_jcompare_dlimit(c, "exclusiveMinimum", o->has_xmin, o->xmin, u->has_xmin, u->xmin,
                         JD_EXCLUSIVE_MINIMUM_ADDED, JD_EXCLUSIVE_MINIMUM_REMOVED,
                         JD_EXCLUSIVE_MINIMUM_INCREASED, JD_EXCLUSIVE_MINIMUM_DECREASED);
    if (o->has_mult || u->has_mult) {
        if (!o->has_mult)
            weir_jadd_at(c, "multipleOf", JD_MULTIPLE_OF_ADDED);
        else if (!u->has_mult)
            weir_jadd_at(c, "multipleOf", JD_MULTIPLE_OF_REMOVED);
        else if (o->mult == u->mult)
            ;
        else if (weir_jmultiple(u->mult, o->mult))
            weir_jadd_at(c, "multipleOf", JD_MULTIPLE_OF_EXPANDED);
        else if (weir_jmultiple(o->mult, u->mult))
            weir_jadd_at(c, "multipleOf", JD_MULTIPLE_OF_REDUCED);
        else
            weir_jadd_at(c, "multipleOf", JD_MULTIPLE_OF_CHANGED);
    }
    if (o->integer != u->integer)
        weir_jadd(c, o->integer ? JD_TYPE_EXTENDED : JD_TYPE_NARROWED);
}

/* Whether every element of array a is in array b (JSON equality). */
static bool
weir_jsubset(const json_t *a, const json_t *b)
{
    json_t *x, *y;
    size_t i, k;

    json_array_foreach(a, i, x)
    {
        bool found = false;

        json_array_foreach(b, k, y)
        {
            if (json_equal(x, y)) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

static void
weir_jcompare_object(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    size_t old, old2;

    /* required */
    old = weir_jpush(c, "required");
    for (size_t i = 0; i < o->nprops; i++) {
        const char *k = o->props[i].key;
        bool oreq, ureq;

        if (!weir_jprop(u, k))
            continue;
        oreq = weir_jrequired(o, k);
        ureq = weir_jrequired(u, k);
        old2 = weir_jpush(c, k);
        if (oreq && !ureq)
            weir_jadd(c, JD_REQUIRED_ATTRIBUTE_REMOVED);
        else if (!oreq && ureq)
            weir_jadd(c, weir_jhas_default(weir_jprop(u, k))
                             ? JD_REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                             : JD_REQUIRED_ATTRIBUTE_ADDED);
        weir_jpop(c, old2);
    }
    weir_jpop(c, old);

    /* properties: the original's, then the update's new ones */
    old = weir_jpush(c, "properties");
    for (size_t pass = 0; pass < 2; pass++) {
        const weir_jsn_t *side = pass == 0 ? o : u;

        for (size_t i = 0; i < side->nprops; i++) {
            const char *k = side->props[i].key;
            weir_jsn_t *os = weir_jprop(o, k), *us = weir_jprop(u, k);

            if (pass == 1 && os)
                continue;
            old2 = weir_jpush(c, k);
            if (!us) {
                /* Removed: only the update's content model matters. */
                if (weir_jobject_open(u)) {
                    weir_jadd(c, JD_PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL);
                } else {
                    weir_jsn_t *partial = weir_jpartial(u, k);

                    if (partial) {
                        weir_jdiffs_t d;
                        bool ok = weir_jcompatible_pair(c, os, partial, &d);

                        weir_jadd_all(c, &d);
                        weir_jdiffs_free(&d);
                        weir_jadd(
                            c,
                            ok ? JD_PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                               : JD_PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL);
                    } else {
                        weir_jadd(c, os->kind == JK_FALSE
                                         ? JD_PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                                         : JD_PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL);
                    }
                }
            } else if (!os) {
                /* Added: only the original's content model matters. */
                if (weir_jobject_open(o)) {
                    weir_jadd(c, us->kind == JK_EMPTY
                                     ? JD_PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                                     : JD_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL);
                } else {
                    weir_jsn_t *partial = weir_jpartial(o, k);

                    if (partial) {
                        weir_jdiffs_t d;
                        bool ok = weir_jcompatible_pair(c, partial, us, &d);

                        weir_jadd_all(c, &d);
                        weir_jdiffs_free(&d);
                        weir_jadd(
                            c, ok ? JD_PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                  : JD_PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL);
                    }
                    if (weir_jrequired(u, k))
                        weir_jadd(
                            c, weir_jhas_default(us)
                                   ? JD_REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
                                   : JD_REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL);
                    else
                        weir_jadd(c, JD_OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL);
                }
            } else {
                weir_jcompare(c, os, us);
            }
            weir_jpop(c, old2);
        }
    }
    weir_jpop(c, old);

    /* dependencies */
    old = weir_jpush(c, "dependencies");
    for (size_t pass = 0; pass < 2; pass++) {
        const weir_jsn_t *side = pass == 0 ? o : u;

        for (size_t i = 0; i < side->npdeps; i++) {
            const char *k = side->pdeps[i].key;
            const json_t *od = NULL, *ud = NULL;

            for (size_t x = 0; x < o->npdeps; x++)
                if (strcmp(o->pdeps[x].key, k) == 0)
                    od = o->pdeps[x].names;
            for (size_t x = 0; x < u->npdeps; x++)
                if (strcmp(u->pdeps[x].key, k) == 0)
                    ud = u->pdeps[x].names;
            if (pass == 1 && od)
                continue;
            old2 = weir_jpush(c, k);
            if (!ud)
                weir_jadd(c, JD_DEPENDENCY_ARRAY_REMOVED);
            else if (!od)
                weir_jadd(c, JD_DEPENDENCY_ARRAY_ADDED);
            else if (!(weir_jsubset(od, ud) && weir_jsubset(ud, od)))
                weir_jadd(c, weir_jsubset(od, ud)   ? JD_DEPENDENCY_ARRAY_EXTENDED
                             : weir_jsubset(ud, od) ? JD_DEPENDENCY_ARRAY_NARROWED
                                                    : JD_DEPENDENCY_ARRAY_CHANGED);
            weir_jpop(c, old2);
        }
        for (size_t i = 0; i < side->nsdeps; i++) {
            const char *k = side->sdeps[i].key;
            const weir_jsn_t *od = NULL, *ud = NULL;

            for (size_t x = 0; x < o->nsdeps; x++)
                if (strcmp(o->sdeps[x].key, k) == 0)
                    od = o->sdeps[x].schema;
            for (size_t x = 0; x < u->nsdeps; x++)
                if (strcmp(u->sdeps[x].key, k) == 0)
                    ud = u->sdeps[x].schema;
            if (pass == 1 && od)
                continue;
            old2 = weir_jpush(c, k);
            if (!ud)
                weir_jadd(c, JD_DEPENDENCY_SCHEMA_REMOVED);
            else if (!od)
                weir_jadd(c, JD_DEPENDENCY_SCHEMA_ADDED);
            else
                weir_jcompare(c, od, ud);
            weir_jpop(c, old2);
        }
    }
    weir_jpop(c, old);

    /* additionalProperties */
    old = weir_jpush(c, "additionalProperties");
    if (o->permits_additional != u->permits_additional)
        weir_jadd(c, u->permits_additional ? JD_ADDITIONAL_PROPERTIES_ADDED
                                           : JD_ADDITIONAL_PROPERTIES_REMOVED);
    else if (!o->additional && u->additional)
        weir_jadd(c, JD_ADDITIONAL_PROPERTIES_NARROWED);
    else if (o->additional && !u->additional)
        weir_jadd(c, JD_ADDITIONAL_PROPERTIES_EXTENDED);
    else if (o->additional)
        weir_jcompare(c, o->additional, u->additional);
    weir_jpop(c, old);

    weir_jcompare_limit(c, "maxProperties", o->max_props, u->max_props, JD_MAX_PROPERTIES_ADDED,
                        JD_MAX_PROPERTIES_REMOVED, JD_MAX_PROPERTIES_INCREASED,
                        JD_MAX_PROPERTIES_DECREASED);
    weir_jcompare_limit(c, "minProperties", o->min_props, u->min_props, JD_MIN_PROPERTIES_ADDED,
                        JD_MIN_PROPERTIES_REMOVED, JD_MIN_PROPERTIES_INCREASED,
                        JD_MIN_PROPERTIES_DECREASED);
}

static bool
weir_jarray_open(const weir_jsn_t *n)
{
    if (!n->permits_additional_items || n->additional_items)
        return false;
    return !n->uneval_items || n->uneval_items->kind == JK_EMPTY;
}

static weir_jsn_t *
weir_jarray_partial(const weir_jsn_t *n)
{
    if (n->additional_items)
        return n->additional_items;
    if (n->permits_additional_items && n->uneval_items && n->uneval_items->kind != JK_EMPTY &&
        n->uneval_items->kind != JK_FALSE)
        return n->uneval_items;
    return NULL;
}

static void
weir_jcompare_array(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    size_t old, nmin = WEIR_MIN(o->nitem_schemas, u->nitem_schemas);
    char seg[32];

    old = weir_jpush(c, "items");
    weir_jcompare(c, o->all_items, u->all_items);
    weir_jpop(c, old);

    for (size_t i = 0; i < WEIR_MAX(o->nitem_schemas, u->nitem_schemas); i++) {
        snprintf(seg, sizeof(seg), "items/%zu", i);
        old = weir_jpush(c, seg);
        if (i < nmin) {
            weir_jcompare(c, o->item_schemas[i], u->item_schemas[i]);
        } else if (i < o->nitem_schemas) {
            const weir_jsn_t *os = o->item_schemas[i];
            weir_jsn_t *partial;

            if (weir_jarray_open(u)) {
                weir_jadd(c, JD_ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL);
            } else if ((partial = weir_jarray_partial(u))) {
                weir_jdiffs_t d;
                bool ok = weir_jcompatible_pair(c, os, partial, &d);

                weir_jadd_all(c, &d);
                weir_jdiffs_free(&d);
                weir_jadd(c, ok ? JD_ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                : JD_ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL);
            } else {
                weir_jadd(c, os->kind == JK_FALSE
                                 ? JD_ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                                 : JD_ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL);
            }
        } else {
            const weir_jsn_t *us = u->item_schemas[i];
            weir_jsn_t *partial;

            if (weir_jarray_open(o)) {
                weir_jadd(c, us->kind == JK_EMPTY
                                 ? JD_ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                                 : JD_ITEM_ADDED_TO_OPEN_CONTENT_MODEL);
            } else if ((partial = weir_jarray_partial(o))) {
                weir_jdiffs_t d;
                bool ok = weir_jcompatible_pair(c, partial, us, &d);

                weir_jadd_all(c, &d);
                weir_jdiffs_free(&d);
                weir_jadd(c, ok ? JD_ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                : JD_ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL);
            } else {
                weir_jadd(c, JD_ITEM_ADDED_TO_CLOSED_CONTENT_MODEL);
            }
        }
        weir_jpop(c, old);
    }

    old = weir_jpush(c, "additionalItems");
    if (o->permits_additional_items != u->permits_additional_items)
        weir_jadd(c, o->permits_additional_items ? JD_ADDITIONAL_ITEMS_REMOVED
                                                 : JD_ADDITIONAL_ITEMS_ADDED);
    else if (!o->additional_items && u->additional_items)
        weir_jadd(c, JD_ADDITIONAL_ITEMS_NARROWED);
    else if (o->additional_items && !u->additional_items)
        weir_jadd(c, JD_ADDITIONAL_ITEMS_EXTENDED);
    else if (o->additional_items)
        weir_jcompare(c, o->additional_items, u->additional_items);
    weir_jpop(c, old);

    if (o->uneval_items || u->uneval_items) {
        const weir_jsn_t *ou = o->uneval_items, *uu = u->uneval_items;

        old = weir_jpush(c, "unevaluatedItems");
        if (!ou)
            weir_jadd(c, uu->kind == JK_FALSE ? JD_UNEVALUATED_ITEMS_REMOVED
                                              : JD_UNEVALUATED_ITEMS_NARROWED);
        else if (!uu)
            weir_jadd(c, ou->kind == JK_FALSE ? JD_UNEVALUATED_ITEMS_ADDED
                                              : JD_UNEVALUATED_ITEMS_EXTENDED);
        else if (ou->kind == JK_FALSE && uu->kind != JK_FALSE)
            weir_jadd(c, JD_UNEVALUATED_ITEMS_ADDED);
        else if (ou->kind != JK_FALSE && uu->kind == JK_FALSE)
            weir_jadd(c, JD_UNEVALUATED_ITEMS_REMOVED);
        else if (ou->kind == JK_EMPTY && uu->kind != JK_EMPTY)
            weir_jadd(c, JD_UNEVALUATED_ITEMS_NARROWED);
        else if (ou->kind != JK_EMPTY && uu->kind == JK_EMPTY)
            weir_jadd(c, JD_UNEVALUATED_ITEMS_EXTENDED);
        else
            weir_jcompare(c, ou, uu);
        weir_jpop(c, old);
    }

    weir_jcompare_limit(c, "maxItems", o->max_items, u->max_items, JD_MAX_ITEMS_ADDED,
                        JD_MAX_ITEMS_REMOVED, JD_MAX_ITEMS_INCREASED, JD_MAX_ITEMS_DECREASED);
    weir_jcompare_limit(c, "minItems", o->min_items, u->min_items, JD_MIN_ITEMS_ADDED,
                        JD_MIN_ITEMS_REMOVED, JD_MIN_ITEMS_INCREASED, JD_MIN_ITEMS_DECREASED);
    if (o->unique != u->unique)
        weir_jadd_at(c, "uniqueItems", o->unique ? JD_UNIQUE_ITEMS_REMOVED : JD_UNIQUE_ITEMS_ADDED);
    weir_jcompare_limit(c, "maxContains", o->max_contains, u->max_contains, JD_MAX_CONTAINS_ADDED,
                        JD_MAX_CONTAINS_REMOVED, JD_MAX_CONTAINS_INCREASED,
                        JD_MAX_CONTAINS_DECREASED);
    weir_jcompare_limit(c, "minContains", o->min_contains, u->min_contains, JD_MIN_CONTAINS_ADDED,
                        JD_MIN_CONTAINS_REMOVED, JD_MIN_CONTAINS_INCREASED,
                        JD_MIN_CONTAINS_DECREASED);
}

static const char *const weir_jcrit_names[] = {"allOf", "anyOf", "oneOf"};

/* Same subschema for the purpose of collapsing duplicates. */
static bool
weir_jsame(const weir_jsn_t *a, const weir_jsn_t *b)
{
    if (a == b)
        return true;
    if (a->whole && b->whole)
        return json_equal(a->src, b->src);
    return a->src == b->src && a->kind == b->kind && a->integer == b->integer;
}

/* Kuhn's augmenting path for maximum bipartite matching. */
static bool
weir_jaugment(size_t i, const bool *adj, size_t m, bool *seen, long *match_u)
{
    for (size_t k = 0; k < m; k++) {
        if (!adj[i * m + k] || seen[k])
            continue;
        seen[k] = true;
        if (match_u[k] < 0 || weir_jaugment((size_t)match_u[k], adj, m, seen, match_u)) {
            match_u[k] = (long)i;
            return true;
        }
    }
    return false;
}

static void
weir_jcompare_combined(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    const weir_jsn_t **os, **us;
    size_t no = 0, nu = 0, matched = 0;
    weir_jdiffs_t *edges;
    bool *adj, *seen, changed = false;
    long *match_u;
    char seg[48];

    if (o->crit != u->crit) {
        if (u->crit == JC_ANY)
            weir_jadd(c, JD_COMBINED_TYPE_EXTENDED);
        else if (u->crit == JC_ONE && o->nsubs == 1)
            weir_jadd(c, JD_COMBINED_TYPE_EXTENDED);
        else if (u->crit == JC_ALL && o->nsubs == 1 && u->nsubs == 1)
            weir_jadd(c, JD_COMBINED_TYPE_EXTENDED);
        else {
            weir_jadd(c, JD_COMBINED_TYPE_CHANGED);
            changed = true;
        }
    }
    if (changed)
        return;
    os = weir_calloc(o->nsubs + 1, sizeof(*os));
    us = weir_calloc(u->nsubs + 1, sizeof(*us));
    for (size_t i = 0; i < o->nsubs; i++) {
        bool dup = false;

        for (size_t k = 0; k < no && !dup; k++)
            dup = weir_jsame(os[k], o->subs[i]);
        if (!dup)
            os[no++] = o->subs[i];
    }
    for (size_t i = 0; i < u->nsubs; i++) {
        bool dup = false;

        for (size_t k = 0; k < nu && !dup; k++)
            dup = weir_jsame(us[k], u->subs[i]);
        if (!dup)
            us[nu++] = u->subs[i];
    }
    if (no < nu)
        weir_jadd(c, u->crit == JC_ALL ? JD_PRODUCT_TYPE_EXTENDED : JD_SUM_TYPE_EXTENDED);
    else if (no > nu)
        weir_jadd(c, u->crit == JC_ALL ? JD_PRODUCT_TYPE_NARROWED : JD_SUM_TYPE_NARROWED);

    edges = weir_calloc(no * nu + 1, sizeof(*edges));
    adj = weir_calloc(no * nu + 1, sizeof(*adj));
    for (size_t i = 0; i < no; i++) {
        size_t old;

        snprintf(seg, sizeof(seg), "%s/%zu", weir_jcrit_names[o->crit], i);
        old = weir_jpush(c, seg);
        for (size_t k = 0; k < nu; k++)
            adj[i * nu + k] = weir_jcompatible_pair(c, os[i], us[k], &edges[i * nu + k]);
        weir_jpop(c, old);
    }
    seen = weir_calloc(nu + 1, sizeof(*seen));
    match_u = weir_malloc((nu + 1) * sizeof(*match_u));
    for (size_t k = 0; k < nu; k++)
        match_u[k] = -1;
    for (size_t i = 0; i < no; i++) {
        memset(seen, 0, nu * sizeof(*seen));
        if (weir_jaugment(i, adj, nu, seen, match_u))
            matched++;
    }
    for (size_t k = 0; k < nu; k++)
        if (match_u[k] >= 0)
            weir_jadd_all(c, &edges[(size_t)match_u[k] * nu + k]);
    if (matched < WEIR_MIN(no, nu))
        weir_jadd(c, JD_COMBINED_TYPE_SUBSCHEMAS_CHANGED);
    for (size_t i = 0; i < no * nu; i++)
        weir_jdiffs_free(&edges[i]);
    free(edges);
    free(adj);
    free(seen);
    free(match_u);
    free(os);
    free(us);
}

static bool
weir_jeq(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    return json_equal(a, b);
}

/* The body of the comparison of two nodes of the same kind. */
static void
weir_jcompare_same(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    size_t old;

    if (!weir_jeq(o->id, u->id))
        weir_jadd(c, JD_ID_CHANGED);
    if (!weir_jeq(o->title, u->title))
        weir_jadd(c, JD_TITLE_CHANGED);
    if (!weir_jeq(o->description, u->description))
        weir_jadd(c, JD_DESCRIPTION_CHANGED);
    if (!weir_jeq(o->def, u->def))
        weir_jadd(c, JD_DEFAULT_CHANGED);
    switch (o->kind) {
    case JK_STRING:
        weir_jcompare_string(c, o, u);
        break;
    case JK_NUMBER:
        weir_jcompare_number(c, o, u);
        break;
    case JK_ENUM:
        if (!(weir_jsubset(o->values, u->values) && weir_jsubset(u->values, o->values)))
            weir_jadd_at(c, "enum",
                         weir_jsubset(o->values, u->values)   ? JD_ENUM_ARRAY_EXTENDED
                         : weir_jsubset(u->values, o->values) ? JD_ENUM_ARRAY_NARROWED
                                                              : JD_ENUM_ARRAY_CHANGED);
        break;
    case JK_CONST:
        if (!json_equal(o->cvalue, u->cvalue))
            weir_jadd_at(c, "const", JD_ENUM_ARRAY_CHANGED);
        break;
    case JK_COMBINED:
        weir_jcompare_combined(c, o, u);
        break;
    case JK_NOT: {
        bool ok;

        old = weir_jpush(c, "not");
        /* Reversed: the update may exclude less. */
        ok = weir_jcompatible_pair(c, u->not_schema, o->not_schema, NULL);
        weir_jadd(c, ok ? JD_NOT_TYPE_NARROWED : JD_NOT_TYPE_EXTENDED);
        weir_jpop(c, old);
        break;
    }
    case JK_CONDITIONAL:
        if (!weir_jeq(json_object_get(o->src, "if"), json_object_get(u->src, "if")) ||
            !weir_jeq(json_object_get(o->src, "then"), json_object_get(u->src, "then")) ||
            !weir_jeq(json_object_get(o->src, "else"), json_object_get(u->src, "else")))
            weir_jadd(c, JD_TYPE_CHANGED);
        break;
    case JK_OBJECT:
        weir_jcompare_object(c, o, u);
        break;
    case JK_ARRAY:
        weir_jcompare_array(c, o, u);
        break;
    default:
        break;
    }
}

/* Memoized by pair: a pair met again while being compared is a recursive
 * cycle and assumed compatible. */
static void
weir_jcompare_memo(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    weir_jglobal_t *g = c->g;
    weir_jcmp_t sub;
    size_t i;

    for (i = 0; i < g->nmemo; i++) {
        if (g->memo[i].o == o && g->memo[i].u == u) {
            if (!g->memo[i].busy)
                weir_jadd_rebased(c, &g->memo[i].diffs);
            return;
        }
    }
    if (g->nmemo == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->memo = weir_realloc(g->memo, g->cap * sizeof(*g->memo));
    }
    i = g->nmemo++;
    memset(&g->memo[i], 0, sizeof(g->memo[i]));
    g->memo[i].o = o;
    g->memo[i].u = u;
    g->memo[i].busy = true;
    weir_jcmp_init(&sub, g, "", 0);
    weir_jcompare_same(&sub, o, u);
    /* g->memo may have moved. */
    g->memo[i].diffs = sub.diffs;
    g->memo[i].busy = false;
    memset(&sub.diffs, 0, sizeof(sub.diffs));
    weir_jcmp_free(&sub);
    weir_jadd_rebased(c, &g->memo[i].diffs);
}

static void
weir_jcompare_inner(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    if (!o && !u)
        return;
    if (!o) {
        weir_jadd(c, JD_SCHEMA_ADDED);
        return;
    }
    if (!u) {
        weir_jadd(c, JD_SCHEMA_REMOVED);
        return;
    }
    if (o->kind != JK_COMBINED && u->kind == JK_COMBINED) {
        if (u->nsubs == 1) {
            weir_jdiffs_t d;

            if (weir_jcompatible_pair(c, o, u->subs[0], &d)) {
                weir_jadd_all(c, &d);
                weir_jdiffs_free(&d);
                return;
            }
            weir_jdiffs_free(&d);
        } else if (u->crit == JC_ANY || u->crit == JC_ONE) {
            for (size_t i = 0; i < u->nsubs; i++) {
                weir_jdiffs_t d;

                if (weir_jcompatible_pair(c, o, u->subs[i], &d)) {
                    weir_jadd_all(c, &d);
                    weir_jdiffs_free(&d);
                    weir_jadd(c, JD_SUM_TYPE_EXTENDED);
                    return;
                }
                weir_jdiffs_free(&d);
            }
        }
    } else if (o->kind == JK_COMBINED && u->kind != JK_COMBINED && o->nsubs == 1) {
        weir_jdiffs_t d;

        if (weir_jcompatible_pair(c, o->subs[0], u, &d)) {
            weir_jadd_all(c, &d);
            weir_jdiffs_free(&d);
            return;
        }
        weir_jdiffs_free(&d);
    }
    if (o->kind != u->kind) {
        if (o->kind == JK_FALSE || u->kind == JK_EMPTY)
            return;
        weir_jadd(c, JD_TYPE_CHANGED);
        return;
    }
    weir_jcompare_memo(c, o, u);
}

static void
weir_jcompare(weir_jcmp_t *c, const weir_jsn_t *o, const weir_jsn_t *u)
{
    if (c->g->depth >= WEIR_JSON_COMPAT_MAX_DEPTH) {
        weir_jadd(c, JD_TYPE_CHANGED);
        return;
    }
    c->g->depth++;
    weir_jcompare_inner(c, o, u);
    c->g->depth--;
}

/* Confluent's descriptions; "reader" is the update, "writer" the original. */
static const char *
weir_jdescribe(weir_jd_t t)
{
    switch (t) {
    case JD_MAXIMUM_ADDED:
    case JD_MINIMUM_ADDED:
    case JD_EXCLUSIVE_MAXIMUM_ADDED:
    case JD_EXCLUSIVE_MINIMUM_ADDED:
    case JD_MULTIPLE_OF_ADDED:
    case JD_MAX_LENGTH_ADDED:
    case JD_MIN_LENGTH_ADDED:
    case JD_PATTERN_ADDED:
    case JD_REQUIRED_ATTRIBUTE_ADDED:
    case JD_MAX_PROPERTIES_ADDED:
    case JD_MIN_PROPERTIES_ADDED:
    case JD_DEPENDENCY_ARRAY_ADDED:
    case JD_DEPENDENCY_SCHEMA_ADDED:
    case JD_MAX_ITEMS_ADDED:
    case JD_MIN_ITEMS_ADDED:
    case JD_MAX_CONTAINS_ADDED:
    case JD_MIN_CONTAINS_ADDED:
    case JD_UNIQUE_ITEMS_ADDED:
    case JD_ADDITIONAL_ITEMS_REMOVED:
    case JD_ADDITIONAL_PROPERTIES_REMOVED:
    case JD_UNEVALUATED_ITEMS_REMOVED:
    case JD_SCHEMA_ADDED:
        return "The keyword at path '%s' in the reader schema is not present in the writer schema";
    case JD_MIN_LENGTH_INCREASED:
    case JD_MINIMUM_INCREASED:
    case JD_EXCLUSIVE_MINIMUM_INCREASED:
    case JD_MIN_PROPERTIES_INCREASED:
    case JD_MULTIPLE_OF_EXPANDED:
    case JD_MIN_ITEMS_INCREASED:
    case JD_MIN_CONTAINS_INCREASED:
        return "The value at path '%s' in the reader schema is more than its value in the writer "
               "schema";
    case JD_MAX_LENGTH_DECREASED:
    case JD_MAXIMUM_DECREASED:
    case JD_MAX_ITEMS_DECREASED:
    case JD_MAX_CONTAINS_DECREASED:
    case JD_EXCLUSIVE_MAXIMUM_DECREASED:
    case JD_MAX_PROPERTIES_DECREASED:
        return "The value at path '%s' in the reader schema is less than its value in the writer "
               "schema";
    case JD_PATTERN_CHANGED:
    case JD_MULTIPLE_OF_CHANGED:
    case JD_DEPENDENCY_ARRAY_CHANGED:
        return "The value at path '%s' is different between the reader and writer schema";
    case JD_ADDITIONAL_ITEMS_NARROWED:
    case JD_ENUM_ARRAY_NARROWED:
    case JD_SUM_TYPE_NARROWED:
    case JD_ADDITIONAL_PROPERTIES_NARROWED:
    case JD_UNEVALUATED_ITEMS_NARROWED:
        return "An array or combined type at path '%s' has fewer elements in the reader schema "
               "than the writer schema";
    case JD_DEPENDENCY_ARRAY_EXTENDED:
    case JD_PRODUCT_TYPE_EXTENDED:
    case JD_SUM_TYPE_EXTENDED:
    case JD_NOT_TYPE_EXTENDED:
        return "An array or combined type at path '%s' has more elements in the reader schema "
               "than the writer schema";
    case JD_TYPE_CHANGED:
    case JD_TYPE_NARROWED:
    case JD_COMBINED_TYPE_CHANGED:
    case JD_COMBINED_TYPE_SUBSCHEMAS_CHANGED:
    case JD_ENUM_ARRAY_CHANGED:
        return "A type at path '%s' is different between the reader schema and the writer schema";
    case JD_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL:
    case JD_ITEM_ADDED_TO_OPEN_CONTENT_MODEL:
        return "The reader schema has an open content model and has a property or item at path "
               "'%s' which is missing in the writer schema";
    case JD_REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL:
        return "The reader schema has an unopen content model and has a required property at "
               "path '%s' which is missing in the writer schema";
    case JD_PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL:
    case JD_ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL:
        return "The reader schema has a closed content model and is missing a property or item "
               "present at path '%s' in the writer schema";
    case JD_PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL:
    case JD_ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL:
        return "A property or item is missing in the reader schema but present at path '%s' in "
               "the writer schema and is not covered by its partially open content model";
    case JD_PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL:
    case JD_ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL:
        return "The reader schema has a property or item at path '%s' which is missing in the "
               "writer schema and is not covered by its partially open content model";
    default:
        return "A difference at path '%s' between the reader and writer schema";
    }
}

static bool
weir_jcan_read_nodes(const weir_jsn_t *reader, const weir_jsn_t *writer, weir_msgs_t *msgs)
{
    weir_jglobal_t g = {0};
    weir_jcmp_t c;
    bool ok;

    weir_jcmp_init(&c, &g, "", 0);
    weir_jcompare(&c, writer, reader);
    ok = weir_jdiffs_compatible(&c.diffs);
    for (size_t i = 0; i < c.diffs.n; i++) {
        char path[1200], desc[1600];
        weir_jd_t t = c.diffs.v[i].type;

        if (weir_jd_info[t].compatible)
            continue;
        snprintf(path, sizeof(path), "#/%s", c.diffs.v[i].path);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(desc, sizeof(desc), weir_jdescribe(t), path);
#pragma GCC diagnostic pop
        weir_msgs_add(msgs, "{errorType:\"%s\", description:\"%s\"}", weir_jd_info[t].name, desc);
    }
    weir_jcmp_free(&c);
    for (size_t i = 0; i < g.nmemo; i++)
        weir_jdiffs_free(&g.memo[i].diffs);
    free(g.memo);
    return ok;
}

bool
weir_json_schema_can_read(const weir_json_schema_t *reader, const weir_json_schema_t *writer,
                          weir_msgs_t *msgs)
{
    return weir_jcan_read_nodes(reader->root, writer->root, msgs);
}

static bool
weir_json_can_read_cb(void *arg, const void *r, const void *w, weir_msgs_t *msgs)
{
    WEIR_UNUSED(arg);
    return weir_json_schema_can_read(r, w, msgs);
}

bool
weir_json_schema_compat_check(weir_compat_level_t level, const weir_json_schema_t *new_schema,
                              const weir_json_schema_t *const *prev, size_t nprev,
                              weir_msgs_t *msgs)
{
    return weir_compat_check(level, new_schema, (const void *const *)prev, NULL, nprev,
                             weir_json_can_read_cb, NULL, msgs);
}
