/*
 * weir_schema_diff.c: field-by-field differences between two schemas, Avro
 * (parsed trees) and JSON Schema (documents), for reviewing schema-change
 * requests (weir_schema_diff.h).
 */
#include "weir_schema_diff.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_common.h"

/* Deepest walk (Avro nesting and JSON Schema nesting are bounded by their
 * parsers at 128; $ref chains are bounded here). */
#define WEIR_DIFF_MAX_DEPTH 64

/* A growing string. */
typedef struct weir_diff_str_s {
    char *p;
    size_t len, cap;
} weir_diff_str_t;

static void
weir_diff_cat(weir_diff_str_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
weir_diff_cat(weir_diff_str_t *s, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (s->len + (size_t)n + 1 > s->cap) {
        s->cap = (s->len + (size_t)n + 1) * 2;
        s->p = weir_realloc(s->p, s->cap);
    }
    va_start(ap, fmt);
    vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

static char *
weir_diff_take(weir_diff_str_t *s)
{
    if (!s->p)
        return weir_strdup("");
    return s->p;
}

static char *
weir_diff_path(const char *base, const char *elem)
{
    weir_diff_str_t s = {0};

    if (!base || !*base)
        weir_diff_cat(&s, "%s", elem);
    else if (elem[0] == '[' || elem[0] == '{')
        weir_diff_cat(&s, "%s%s", base, elem);
    else
        weir_diff_cat(&s, "%s.%s", base, elem);
    return weir_diff_take(&s);
}

/* Appends {"path", "change"} plus the members of extra (stolen). */
static void
weir_diff_add(json_t *out, const char *path, const char *change, json_t *extra)
{
    json_t *c = json_pack("{s:s, s:s}", "path", path ? path : "", "change", change);

    if (extra) {
        json_object_update(c, extra);
        json_decref(extra);
    }
    json_array_append_new(out, c);
}

/* ------------------------------------------------------------------ */
/* Avro                                                                */

static void
weir_avro_type_str(const weir_avro_node_t *n, weir_diff_str_t *s, int depth)
{
    if (!n || depth > WEIR_DIFF_MAX_DEPTH) {
        weir_diff_cat(s, "...");
        return;
    }
    switch (n->type) {
    case WEIR_AVRO_RECORD:
    case WEIR_AVRO_ENUM:
    case WEIR_AVRO_FIXED:
        weir_diff_cat(s, "%s", n->fullname ? n->fullname : weir_avro_type_name(n->type));
        break;
    case WEIR_AVRO_ARRAY:
    case WEIR_AVRO_MAP:
        weir_diff_cat(s, "%s<", n->type == WEIR_AVRO_ARRAY ? "array" : "map");
        weir_avro_type_str(n->child, s, depth + 1);
        weir_diff_cat(s, ">");
        break;
    case WEIR_AVRO_UNION:
        for (size_t i = 0; i < n->nbranches; i++) {
            if (i)
                weir_diff_cat(s, "|");
            weir_avro_type_str(n->branches[i], s, depth + 1);
        }
        break;
    default:
        weir_diff_cat(s, "%s", weir_avro_type_name(n->type));
        break;
    }
    if (n->logical_type)
        weir_diff_cat(s, "(%s)", n->logical_type);
}

static json_t *
weir_avro_type_json(const weir_avro_node_t *n)
{
    weir_diff_str_t s = {0};

    weir_avro_type_str(n, &s, 0);
    json_t *v = json_string(s.p ? s.p : "");
    free(s.p);
    return v;
}

/* A type at this level only: named types by full name, "array", "map",
 * unions as their branches' shallow forms (insides are walked apart). */
static void
weir_avro_shallow(const weir_avro_node_t *n, weir_diff_str_t *s)
{
    switch (n->type) {
    case WEIR_AVRO_ARRAY:
    case WEIR_AVRO_MAP:
        weir_diff_cat(s, "%s", weir_avro_type_name(n->type));
        break;
    case WEIR_AVRO_UNION:
        for (size_t i = 0; i < n->nbranches; i++) {
            if (i)
                weir_diff_cat(s, "|");
            weir_avro_shallow(n->branches[i], s);
        }
        break;
    default:
        weir_diff_cat(s, "%s", n->fullname ? n->fullname : weir_avro_type_name(n->type));
        break;
    }
    if (n->logical_type)
        weir_diff_cat(s, "(%s)", n->logical_type);
}

/* Whether two nodes are the same type at this level. */
static bool
weir_avro_same_shape(const weir_avro_node_t *a, const weir_avro_node_t *b)
{
    weir_diff_str_t sa = {0}, sb = {0};
    bool same;

    if (a->type != b->type)
        return false;
    weir_avro_shallow(a, &sa);
    weir_avro_shallow(b, &sb);
    same = strcmp(sa.p ? sa.p : "", sb.p ? sb.p : "") == 0;
    free(sa.p);
    free(sb.p);
    return same;
}

/* Pairs of named nodes already walked (recursive types). */
typedef struct weir_avro_diff_s {
    json_t *out;
    const weir_avro_node_t **seen; /* pairs */
    size_t nseen, cap;
} weir_avro_diff_t;

static bool
weir_avro_seen(weir_avro_diff_t *d, const weir_avro_node_t *a, const weir_avro_node_t *b)
{
    for (size_t i = 0; i < d->nseen; i++)
        if (d->seen[2 * i] == a && d->seen[2 * i + 1] == b)
            return true;
    if (d->nseen == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->seen = weir_realloc(d->seen, d->cap * 2 * sizeof(*d->seen));
    }
    d->seen[2 * d->nseen] = a;
    d->seen[2 * d->nseen + 1] = b;
    d->nseen++;
    return false;
}

static json_t *
weir_diff_names(char **v, size_t n, char **other, size_t nother)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < nother && !found; k++)
            found = strcmp(v[i], other[k]) == 0;
        if (!found)
            json_array_append_new(a, json_string(v[i]));
    }
    return a;
}

static void weir_avro_diff_node(weir_avro_diff_t *d, const char *path,
                                const weir_avro_node_t *a, const weir_avro_node_t *b,
                                int depth);

static const weir_avro_field_t *
weir_avro_field(const weir_avro_node_t *rec, const char *name)
{
    for (size_t i = 0; i < rec->nfields; i++)
        if (strcmp(rec->fields[i].name, name) == 0)
            return &rec->fields[i];
    return NULL;
}

static bool
weir_avro_has_alias(const weir_avro_field_t *f, const char *name)
{
    for (size_t i = 0; i < f->naliases; i++)
        if (strcmp(f->aliases[i], name) == 0)
            return true;
    return false;
}

static json_t *
weir_avro_field_info(const weir_avro_field_t *f)
{
    json_t *e = json_pack("{s:o}", "type", weir_avro_type_json(f->type));

    if (f->default_value)
        json_object_set(e, "default", f->default_value);
    return e;
}

static void
weir_avro_diff_record(weir_avro_diff_t *d, const char *path, const weir_avro_node_t *a,
                      const weir_avro_node_t *b, int depth)
{
    /* removed (unless renamed), then changed, then added, in field order */
    for (size_t i = 0; i < a->nfields; i++) {
        const weir_avro_field_t *fa = &a->fields[i];
        if (weir_avro_field(b, fa->name))
            continue;
        const weir_avro_field_t *renamed = NULL;
        for (size_t k = 0; k < b->nfields && !renamed; k++)
            if (!weir_avro_field(a, b->fields[k].name) && weir_avro_has_alias(&b->fields[k],
                                                                              fa->name))
                renamed = &b->fields[k];
        char *p = weir_diff_path(path, renamed ? renamed->name : fa->name);
        if (renamed) {
            weir_diff_add(d->out, p, "renamed", json_pack("{s:s}", "old_name", fa->name));
            weir_avro_diff_node(d, p, fa->type, renamed->type, depth + 1);
        } else {
            weir_diff_add(d->out, p, "removed", weir_avro_field_info(fa));
        }
        free(p);
    }
    for (size_t i = 0; i < b->nfields; i++) {
        const weir_avro_field_t *fb = &b->fields[i];
        const weir_avro_field_t *fa = weir_avro_field(a, fb->name);
        char *p = weir_diff_path(path, fb->name);
        if (!fa) {
            bool renamed = false;
            for (size_t k = 0; k < fb->naliases && !renamed; k++)
                renamed = weir_avro_field(a, fb->aliases[k]) &&
                          !weir_avro_field(b, fb->aliases[k]);
            if (!renamed)
                weir_diff_add(d->out, p, "added", weir_avro_field_info(fb));
            free(p);
            continue;
        }
        if (fa->default_value && !fb->default_value)
            weir_diff_add(d->out, p, "default_removed",
                          json_pack("{s:O}", "old_default", fa->default_value));
        else if (!fa->default_value && fb->default_value)
            weir_diff_add(d->out, p, "default_added",
                          json_pack("{s:O}", "new_default", fb->default_value));
        else if (fa->default_value && !json_equal(fa->default_value, fb->default_value))
            weir_diff_add(d->out, p, "default_changed",
                          json_pack("{s:O, s:O}", "old_default", fa->default_value,
                                    "new_default", fb->default_value));
        weir_avro_diff_node(d, p, fa->type, fb->type, depth + 1);
        free(p);
    }
}

/* The branch of union u matching n (same kind; named types by full name). */
static const weir_avro_node_t *
weir_avro_branch(const weir_avro_node_t *u, const weir_avro_node_t *n)
{
    for (size_t i = 0; i < u->nbranches; i++) {
        const weir_avro_node_t *br = u->branches[i];
        if (br->type != n->type)
            continue;
        if (br->fullname && n->fullname && strcmp(br->fullname, n->fullname) != 0)
            continue;
        return br;
    }
    return NULL;
}

static void
weir_avro_diff_node(weir_avro_diff_t *d, const char *path, const weir_avro_node_t *a,
                    const weir_avro_node_t *b, int depth)
{
    if (depth > WEIR_DIFF_MAX_DEPTH)
        return;
    if (!weir_avro_same_shape(a, b)) {
        weir_diff_add(d->out, path, "type_changed",
                      json_pack("{s:o, s:o}", "old_type", weir_avro_type_json(a), "new_type",
                                weir_avro_type_json(b)));
        /* still walk what both sides share: a union gaining null around a
         * record, a record moved into a union, the items of two arrays */
        if (a->type == WEIR_AVRO_UNION && b->type == WEIR_AVRO_UNION) {
            for (size_t i = 0; i < b->nbranches; i++) {
                const weir_avro_node_t *ba = weir_avro_branch(a, b->branches[i]);
                if (ba && ba->type == WEIR_AVRO_RECORD)
                    weir_avro_diff_node(d, path, ba, b->branches[i], depth + 1);
            }
        } else if (a->type == WEIR_AVRO_UNION || b->type == WEIR_AVRO_UNION) {
            const weir_avro_node_t *u = a->type == WEIR_AVRO_UNION ? a : b;
            const weir_avro_node_t *o = u == a ? b : a;
            const weir_avro_node_t *br = o->type == WEIR_AVRO_RECORD ? weir_avro_branch(u, o)
                                                                     : NULL;
            if (br)
                weir_avro_diff_node(d, path, u == a ? br : o, u == a ? o : br, depth + 1);
        } else if (a->type == b->type && a->type == WEIR_AVRO_RECORD) {
            if (!weir_avro_seen(d, a, b))
                weir_avro_diff_record(d, path, a, b, depth);
        }
        return;
    }
    switch (a->type) {
    case WEIR_AVRO_RECORD:
        if (!weir_avro_seen(d, a, b))
            weir_avro_diff_record(d, path, a, b, depth);
        break;
    case WEIR_AVRO_ENUM: {
        if (weir_avro_seen(d, a, b))
            break;
        json_t *add = weir_diff_names(b->symbols, b->nsymbols, a->symbols, a->nsymbols);
        json_t *rem = weir_diff_names(a->symbols, a->nsymbols, b->symbols, b->nsymbols);
        if (json_array_size(add) || json_array_size(rem))
            weir_diff_add(d->out, path, "symbols_changed",
                          json_pack("{s:o, s:o}", "added_symbols", add, "removed_symbols", rem));
        else {
            json_decref(add);
            json_decref(rem);
        }
        if ((a->enum_default == NULL) != (b->enum_default == NULL) ||
            (a->enum_default && strcmp(a->enum_default, b->enum_default) != 0))
            weir_diff_add(d->out, path, "enum_default_changed",
                          json_pack("{s:o, s:o}", "old_default",
                                    a->enum_default ? json_string(a->enum_default) : json_null(),
                                    "new_default",
                                    b->enum_default ? json_string(b->enum_default)
                                                    : json_null()));
        break;
    }
    case WEIR_AVRO_FIXED:
        if (weir_avro_seen(d, a, b))
            break;
        if (a->size != b->size)
            weir_diff_add(d->out, path, "size_changed",
                          json_pack("{s:i, s:i}", "old_size", (int)a->size, "new_size",
                                    (int)b->size));
        break;
    case WEIR_AVRO_ARRAY:
    case WEIR_AVRO_MAP: {
        char *p = weir_diff_path(path, a->type == WEIR_AVRO_ARRAY ? "[]" : "{}");
        weir_avro_diff_node(d, p, a->child, b->child, depth + 1);
        free(p);
        break;
    }
    case WEIR_AVRO_UNION:
        for (size_t i = 0; i < a->nbranches && i < b->nbranches; i++)
            weir_avro_diff_node(d, path, a->branches[i], b->branches[i], depth + 1);
        break;
    default:
        break;
    }
}

json_t *
weir_schema_diff_avro(const weir_avro_schema_t *old_schema, const weir_avro_schema_t *new_schema)
{
    weir_avro_diff_t d = {.out = json_array()};

    if (!new_schema || !new_schema->root)
        return d.out;
    if (!old_schema || !old_schema->root) {
        const weir_avro_node_t *r = new_schema->root;
        if (r->type == WEIR_AVRO_RECORD) {
            for (size_t i = 0; i < r->nfields; i++)
                weir_diff_add(d.out, r->fields[i].name, "added",
                              weir_avro_field_info(&r->fields[i]));
        } else {
            weir_diff_add(d.out, "", "added", json_pack("{s:o}", "type",
                                                        weir_avro_type_json(r)));
        }
        return d.out;
    }
    weir_avro_diff_node(&d, "", old_schema->root, new_schema->root, 0);
    free(d.seen);
    return d.out;
}

/* ------------------------------------------------------------------ */
/* JSON Schema                                                         */

/* Follows a local "$ref" ("#/definitions/X", "#/$defs/X", any JSON
 * pointer into the document); NULL when not local or not found. */
static const json_t *
weir_json_deref(const json_t *root, const json_t *node)
{
    for (int hops = 0; hops < WEIR_DIFF_MAX_DEPTH && json_is_object(node); hops++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (!ref)
            return node;
        if (ref[0] != '#')
            return node; /* external: compared as written */
        const json_t *cur = root;
        const char *p = ref + 1;
        while (*p == '/' && cur) {
            p++;
            size_t n = strcspn(p, "/");
            char *tok = weir_strndup(p, n);
            /* JSON pointer escapes ~1 '/' and ~0 '~' */
            char *w = tok;
            for (char *r = tok; *r; r++) {
                if (r[0] == '~' && (r[1] == '0' || r[1] == '1')) {
                    *w++ = r[1] == '0' ? '~' : '/';
                    r++;
                } else {
                    *w++ = *r;
                }
            }
            *w = '\0';
            cur = json_is_object(cur) ? json_object_get(cur, tok) : NULL;
            free(tok);
            p += n;
        }
        if (!cur || cur == node)
            return node;
        node = cur;
    }
    return node;
}

static void
weir_json_type_str(const json_t *root, const json_t *n, weir_diff_str_t *s, int depth)
{
    const json_t *t, *ref;

    if (depth > 4) {
        weir_diff_cat(s, "...");
        return;
    }
    if (json_is_true(n) || (json_is_object(n) && json_object_size(n) == 0)) {
        weir_diff_cat(s, "any");
        return;
    }
    if (json_is_false(n)) {
        weir_diff_cat(s, "nothing");
        return;
    }
    if (!json_is_object(n)) {
        weir_diff_cat(s, "?");
        return;
    }
    ref = json_object_get(n, "$ref");
    if (json_is_string(ref)) {
        const char *r = json_string_value(ref);
        const char *slash = strrchr(r, '/');
        weir_diff_cat(s, "%s", slash && r[0] == '#' ? slash + 1 : r);
        return;
    }
    t = json_object_get(n, "type");
    if (json_is_string(t)) {
        weir_diff_cat(s, "%s", json_string_value(t));
    } else if (json_is_array(t)) {
        size_t i;
        json_t *e;
        json_array_foreach(t, i, e) {
            weir_diff_cat(s, "%s%s", i ? "|" : "", json_is_string(e) ? json_string_value(e)
                                                                     : "?");
        }
    } else {
        static const char *const combos[] = {"anyOf", "oneOf", "allOf"};
        for (size_t c = 0; c < WEIR_ARRAY_SIZE(combos); c++) {
            const json_t *a = json_object_get(n, combos[c]);
            if (!json_is_array(a))
                continue;
            size_t i;
            json_t *e;
            weir_diff_cat(s, "%s(", combos[c]);
            json_array_foreach(a, i, e) {
                if (i)
                    weir_diff_cat(s, ", ");
                weir_json_type_str(root, e, s, depth + 1);
            }
            weir_diff_cat(s, ")");
            return;
        }
        if (json_object_get(n, "properties"))
            weir_diff_cat(s, "object");
        else if (json_object_get(n, "enum"))
            weir_diff_cat(s, "enum");
        else if (json_object_get(n, "const"))
            weir_diff_cat(s, "const");
        else
            weir_diff_cat(s, "any");
    }
    const char *fmt = json_string_value(json_object_get(n, "format"));
    if (fmt)
        weir_diff_cat(s, "(%s)", fmt);
    if (json_is_string(t) && strcmp(json_string_value(t), "array") == 0 &&
        json_is_object(json_object_get(n, "items"))) {
        weir_diff_cat(s, "<");
        weir_json_type_str(root, json_object_get(n, "items"), s, depth + 1);
        weir_diff_cat(s, ">");
    }
}

static json_t *
weir_json_type_json(const json_t *root, const json_t *n)
{
    weir_diff_str_t s = {0};

    weir_json_type_str(root, n, &s, 0);
    json_t *v = json_string(s.p ? s.p : "");
    free(s.p);
    return v;
}

static bool
weir_json_required(const json_t *n, const char *name)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(n, "required"), i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), name) == 0)
            return true;
    }
    return false;
}

typedef struct weir_json_diff_s {
    json_t *out;
    const json_t *root_a, *root_b;
} weir_json_diff_t;

static json_t *
weir_json_prop_info(const json_t *root, const json_t *parent, const char *name,
                    const json_t *prop)
{
    const json_t *p = weir_json_deref(root, prop);
    json_t *e = json_pack("{s:o, s:b}", "type", weir_json_type_json(root, prop), "required",
                          weir_json_required(parent, name));
    const json_t *dv = json_is_object(p) ? json_object_get(p, "default") : NULL;

    if (dv)
        json_object_set(e, "default", (json_t *)dv);
    return e;
}

static void weir_json_diff_member(weir_json_diff_t *d, const char *path, const json_t *a,
                                  const json_t *b, const char *key, const char *seg, int depth);

static void
weir_json_diff_node(weir_json_diff_t *d, const char *path, const json_t *a, const json_t *b,
                    int depth)
{
    json_t *ta, *tb;
    const json_t *pa, *pb, *va, *vb;

    if (depth > WEIR_DIFF_MAX_DEPTH)
        return;
    a = weir_json_deref(d->root_a, a);
    b = weir_json_deref(d->root_b, b);
    ta = weir_json_type_json(d->root_a, a);
    tb = weir_json_type_json(d->root_b, b);
    if (!json_equal(ta, tb)) {
        weir_diff_add(d->out, path, "type_changed",
                      json_pack("{s:o, s:o}", "old_type", ta, "new_type", tb));
    } else {
        json_decref(ta);
        json_decref(tb);
    }
    if (!json_is_object(a) || !json_is_object(b))
        return;
    va = json_object_get(a, "default");
    vb = json_object_get(b, "default");
    if (va && !vb)
        weir_diff_add(d->out, path, "default_removed", json_pack("{s:O}", "old_default", va));
    else if (!va && vb)
        weir_diff_add(d->out, path, "default_added", json_pack("{s:O}", "new_default", vb));
    else if (va && !json_equal(va, vb))
        weir_diff_add(d->out, path, "default_changed",
                      json_pack("{s:O, s:O}", "old_default", va, "new_default", vb));
    va = json_object_get(a, "enum");
    vb = json_object_get(b, "enum");
    if ((va || vb) && !(va && vb && json_equal(va, vb))) {
        json_t *add = json_array(), *rem = json_array();
        size_t i, k;
        json_t *e, *f;
        json_array_foreach(vb, i, e) {
            bool found = false;
            json_array_foreach(va, k, f) {
                found = found || json_equal(e, f);
            }
            if (!found)
                json_array_append(add, e);
        }
        json_array_foreach(va, i, e) {
            bool found = false;
            json_array_foreach(vb, k, f) {
                found = found || json_equal(e, f);
            }
            if (!found)
                json_array_append(rem, e);
        }
        weir_diff_add(d->out, path, "enum_changed",
                      json_pack("{s:o, s:o}", "added_symbols", add, "removed_symbols", rem));
    }
    pa = json_object_get(a, "properties");
    pb = json_object_get(b, "properties");
    if (json_is_object(pa) || json_is_object(pb)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)pa, k, v) {
            if (json_object_get(pb, k))
                continue;
            char *p = weir_diff_path(path, k);
            weir_diff_add(d->out, p, "removed", weir_json_prop_info(d->root_a, a, k, v));
            free(p);
        }
        json_object_foreach((json_t *)pb, k, v) {
            char *p = weir_diff_path(path, k);
            const json_t *old = json_object_get(pa, k);
            if (!old) {
                weir_diff_add(d->out, p, "added", weir_json_prop_info(d->root_b, b, k, v));
            } else {
                bool ra = weir_json_required(a, k), rb = weir_json_required(b, k);
                if (ra != rb)
                    weir_diff_add(d->out, p, rb ? "required_added" : "required_removed", NULL);
                weir_json_diff_node(d, p, old, v, depth + 1);
            }
            free(p);
        }
    }
    weir_json_diff_member(d, path, a, b, "items", "[]", depth);
    weir_json_diff_member(d, path, a, b, "additionalProperties", "{}", depth);
}

/* Compares member key of a and b, when both are schemas (objects), at
 * path + seg. */
static void
weir_json_diff_member(weir_json_diff_t *d, const char *path, const json_t *a, const json_t *b,
                      const char *key, const char *seg, int depth)
{
    const json_t *va = json_object_get(a, key), *vb = json_object_get(b, key);

    if (json_is_object(va) && json_is_object(vb)) {
        char *p = weir_diff_path(path, seg);
        weir_json_diff_node(d, p, va, vb, depth + 1);
        free(p);
    }
}

json_t *
weir_schema_diff_json(const json_t *old_doc, const json_t *new_doc)
{
    weir_json_diff_t d = {.out = json_array(), .root_a = old_doc, .root_b = new_doc};

    if (!new_doc)
        return d.out;
    if (!old_doc) {
        const json_t *n = weir_json_deref(new_doc, new_doc);
        const json_t *props = json_is_object(n) ? json_object_get(n, "properties") : NULL;
        if (json_is_object(props)) {
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)props, k, v) {
                weir_diff_add(d.out, k, "added", weir_json_prop_info(new_doc, n, k, v));
            }
        } else {
            weir_diff_add(d.out, "", "added", json_pack("{s:o}", "type",
                                                        weir_json_type_json(new_doc, n)));
        }
        return d.out;
    }
    weir_json_diff_node(&d, "", old_doc, new_doc, 0);
    return d.out;
}

/* ------------------------------------------------------------------ */
/* Text                                                                */

static void
weir_diff_cat_json(weir_diff_str_t *s, const json_t *v)
{
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    weir_diff_cat(s, "%s", t ? t : "-");
    free(t);
}

static void
weir_diff_cat_list(weir_diff_str_t *s, const json_t *a)
{
    size_t i;
    json_t *e;

    json_array_foreach(a, i, e) {
        if (i)
            weir_diff_cat(s, ", ");
        if (json_is_string(e))
            weir_diff_cat(s, "%s", json_string_value(e));
        else
            weir_diff_cat_json(s, e);
    }
}

char *
weir_schema_diff_line(const json_t *c)
{
    const char *path = json_string_value(json_object_get(c, "path"));
    const char *change = json_string_value(json_object_get(c, "change"));
    const char *type = json_string_value(json_object_get(c, "type"));
    weir_diff_str_t s = {0};

    if (!path || !*path)
        path = "(root)";
    if (!change)
        change = "?";
    if (strcmp(change, "added") == 0 || strcmp(change, "removed") == 0) {
        weir_diff_cat(&s, "%c %s: %s", change[0] == 'a' ? '+' : '-', path, type ? type : "?");
        if (json_is_true(json_object_get(c, "required")))
            weir_diff_cat(&s, ", required");
        if (json_object_get(c, "default")) {
            weir_diff_cat(&s, ", default ");
            weir_diff_cat_json(&s, json_object_get(c, "default"));
        } else if (change[0] == 'a' && !json_object_get(c, "required")) {
            weir_diff_cat(&s, ", no default");
        }
    } else if (strcmp(change, "renamed") == 0) {
        weir_diff_cat(&s, "~ %s: renamed from %s", path,
                      json_string_value(json_object_get(c, "old_name")));
    } else if (strcmp(change, "type_changed") == 0) {
        weir_diff_cat(&s, "~ %s: type %s -> %s", path,
                      json_string_value(json_object_get(c, "old_type")),
                      json_string_value(json_object_get(c, "new_type")));
    } else if (strcmp(change, "default_added") == 0) {
        weir_diff_cat(&s, "~ %s: default added: ", path);
        weir_diff_cat_json(&s, json_object_get(c, "new_default"));
    } else if (strcmp(change, "default_removed") == 0) {
        weir_diff_cat(&s, "~ %s: default removed (was ", path);
        weir_diff_cat_json(&s, json_object_get(c, "old_default"));
        weir_diff_cat(&s, ")");
    } else if (strcmp(change, "default_changed") == 0 ||
               strcmp(change, "enum_default_changed") == 0) {
        weir_diff_cat(&s, "~ %s: %sdefault ", path, change[0] == 'e' ? "enum " : "");
        weir_diff_cat_json(&s, json_object_get(c, "old_default"));
        weir_diff_cat(&s, " -> ");
        weir_diff_cat_json(&s, json_object_get(c, "new_default"));
    } else if (strcmp(change, "symbols_changed") == 0 || strcmp(change, "enum_changed") == 0) {
        const json_t *add = json_object_get(c, "added_symbols");
        const json_t *rem = json_object_get(c, "removed_symbols");
        weir_diff_cat(&s, "~ %s: %s", path, change[0] == 's' ? "symbols" : "enum values");
        if (json_array_size(add)) {
            weir_diff_cat(&s, " added ");
            weir_diff_cat_list(&s, add);
            if (json_array_size(rem))
                weir_diff_cat(&s, ";");
        }
        if (json_array_size(rem)) {
            weir_diff_cat(&s, " removed ");
            weir_diff_cat_list(&s, rem);
        }
    } else if (strcmp(change, "size_changed") == 0) {
        weir_diff_cat(&s, "~ %s: fixed size %lld -> %lld", path,
                      (long long)json_integer_value(json_object_get(c, "old_size")),
                      (long long)json_integer_value(json_object_get(c, "new_size")));
    } else if (strcmp(change, "required_added") == 0) {
        weir_diff_cat(&s, "~ %s: now required", path);
    } else if (strcmp(change, "required_removed") == 0) {
        weir_diff_cat(&s, "~ %s: no longer required", path);
    } else {
        weir_diff_cat(&s, "~ %s: %s", path, change);
    }
    return weir_diff_take(&s);
}
