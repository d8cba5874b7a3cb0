/*
 * weir_avro_schema.c: the Avro schema parser and validator over the jansson
 * tree of the original text, the named-type table, the Parsing Canonical
 * Form with its Rabin/MD5/SHA-256 fingerprints, the normalized (equivalence)
 * form, and the fully-qualified form handed to avro-c.  See
 * weir_avro_schema.h for the rules.
 */
#include "weir_avro_schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "weir_common.h"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static const char *const weir_avro_type_names[] = {
    [WEIR_AVRO_NULL] = "null",   [WEIR_AVRO_BOOLEAN] = "boolean", [WEIR_AVRO_INT] = "int",
    [WEIR_AVRO_LONG] = "long",   [WEIR_AVRO_FLOAT] = "float",     [WEIR_AVRO_DOUBLE] = "double",
    [WEIR_AVRO_BYTES] = "bytes", [WEIR_AVRO_STRING] = "string",   [WEIR_AVRO_RECORD] = "record",
    [WEIR_AVRO_ENUM] = "enum",   [WEIR_AVRO_FIXED] = "fixed",     [WEIR_AVRO_ARRAY] = "array",
    [WEIR_AVRO_MAP] = "map",     [WEIR_AVRO_UNION] = "union",
};

const char *
weir_avro_type_name(weir_avro_type_t t)
{
    if ((size_t)t < WEIR_ARRAY_SIZE(weir_avro_type_names))
        return weir_avro_type_names[t];
    return "?";
}

bool
weir_avro_type_is_primitive(weir_avro_type_t t)
{
    return t <= WEIR_AVRO_STRING;
}

/* The primitive type called s, or -1. */
static int
weir_avro_primitive(const char *s)
{
    for (int t = WEIR_AVRO_NULL; t <= WEIR_AVRO_STRING; t++)
        if (strcmp(s, weir_avro_type_names[t]) == 0)
            return t;
    return -1;
}

/* The specification's names: [A-Za-z_][A-Za-z0-9_]* (ASCII only, as avro-c). */
static bool
weir_avro_valid_name(const char *s)
{
    if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static char *
weir_avro_qualify(const char *name, const char *space)
{
    size_t ln, ls;
    char *r;

    if (strchr(name, '.') || !space || !space[0])
        return weir_strdup(name);
    ln = strlen(name);
    ls = strlen(space);
    r = weir_malloc(ls + 1 + ln + 1);
    memcpy(r, space, ls);
    r[ls] = '.';
    memcpy(r + ls + 1, name, ln + 1);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Schema object                                                            */
/* ------------------------------------------------------------------------ */

static void
weir_avro_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
weir_avro_node_free(weir_avro_node_t *n)
{
    free(n->fullname);
    free(n->name);
    free(n->space);
    weir_avro_strv_free(n->aliases, n->naliases);
    free(n->doc);
    for (size_t i = 0; i < n->nfields; i++) {
        weir_avro_field_t *f = &n->fields[i];

        free(f->name);
        if (f->default_value)
            json_decref(f->default_value);
        free(f->doc);
        free(f->order);
        weir_avro_strv_free(f->aliases, f->naliases);
        if (f->props)
            json_decref(f->props);
    }
    free(n->fields);
    weir_avro_strv_free(n->symbols, n->nsymbols);
    free(n->enum_default);
    free(n->branches);
    if (n->props)
        json_decref(n->props);
    free(n);
}

void
weir_avro_schema_free(weir_avro_schema_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        weir_avro_node_free(s->nodes[i]);
    free(s->nodes);
    free(s->named);
    free(s->canonical);
    free(s->normalized);
    free(s->avroc_json);
    if (s->avroc)
        avro_schema_decref(s->avroc);
    free(s);
}

static weir_avro_node_t *
weir_avro_node_new(weir_avro_schema_t *s, weir_avro_type_t type)
{
    weir_avro_node_t *n = weir_calloc(1, sizeof(*n));

    n->type = type;
    n->named_idx = -1;
    if (s->nnodes == s->nodes_cap) {
        s->nodes_cap = s->nodes_cap ? s->nodes_cap * 2 : 16;
        s->nodes = weir_realloc(s->nodes, s->nodes_cap * sizeof(*s->nodes));
    }
    s->nodes[s->nnodes++] = n;
    return n;
}

weir_avro_node_t *
weir_avro_schema_find(const weir_avro_schema_t *s, const char *fullname)
{
    for (size_t i = 0; i < s->nnamed; i++)
        if (strcmp(s->named[i]->fullname, fullname) == 0)
            return s->named[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct weir_avro_pctx_s {
    weir_avro_schema_t *s;
    unsigned flags;
    bool in_ref;
    int depth;
    char *err;
    size_t errsz;
    bool failed;
} weir_avro_pctx_t;

static void __attribute__((format(printf, 2, 3)))
weir_avro_fail(weir_avro_pctx_t *c, const char *fmt, ...)
{
    va_list ap;

    if (c->failed)
        return; /* keep the first, innermost reason */
    c->failed = true;
    if (!c->err || !c->errsz)
        return;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errsz, fmt, ap);
    va_end(ap);
}

static weir_avro_node_t *weir_avro_parse_node(weir_avro_pctx_t *c, json_t *j, const char *space);

/* Attributes that are part of the schema grammar and never properties. */
static bool
weir_avro_reserved_key(const char *k)
{
    static const char *const keys[] = {"type",    "name",  "namespace", "doc",  "aliases", "fields",
                                       "symbols", "items", "values",    "size", "default"};

    for (size_t i = 0; i < WEIR_ARRAY_SIZE(keys); i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

static bool
weir_avro_field_reserved_key(const char *k)
{
    static const char *const keys[] = {"name", "type", "default", "order", "aliases", "doc"};

    for (size_t i = 0; i < WEIR_ARRAY_SIZE(keys); i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

/* The non-reserved attributes of obj as a new object, or NULL if none. */
static json_t *
weir_avro_collect_props(json_t *obj, bool (*reserved)(const char *))
{
    json_t *props = NULL, *v;
    const char *k;

    json_object_foreach(obj, k, v)
    {
        if (reserved(k))
            continue;
        if (!props)
            props = json_object();
        json_object_set(props, k, v);
    }
    return props;
}

static void
weir_avro_set_logical(weir_avro_node_t *n)
{
    json_t *lt = n->props ? json_object_get(n->props, "logicalType") : NULL;

    n->logical_type = json_is_string(lt) ? json_string_value(lt) : NULL;
}

/* An optional string attribute: true if absent or a string (copied to *out). */
static bool
weir_avro_opt_string(weir_avro_pctx_t *c, json_t *obj, const char *key, const char *what,
                     char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v)
        return true;
    if (!json_is_string(v)) {
        weir_avro_fail(c, "\"%s\" of %s must be a string", key, what);
        return false;
    }
    *out = weir_strdup(json_string_value(v));
    return true;
}

/* aliases: an array of names; qualify them with space when given (named
 * types) or validate them as plain names (fields). */
static bool
weir_avro_parse_aliases(weir_avro_pctx_t *c, json_t *obj, const char *space, bool named,
                        const char *what, char ***out, size_t *nout)
{
    json_t *a = json_object_get(obj, "aliases"), *v;
    size_t i;

    *out = NULL;
    *nout = 0;
    if (!a)
        return true;
    if (!json_is_array(a)) {
        weir_avro_fail(c, "aliases of %s must be an array of names", what);
        return false;
    }
    *out = weir_calloc(json_array_size(a) + 1, sizeof(char *));
    json_array_foreach(a, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        const char *simple = s ? strrchr(s, '.') : NULL;

        simple = simple ? simple + 1 : s;
        if (!s || !weir_avro_valid_name(simple) || (!named && strchr(s, '.'))) {
            weir_avro_fail(c, "invalid alias %s%s%s of %s", s ? "\"" : "", s ? s : "(not a string)",
                           s ? "\"" : "", what);
            return false;
        }
        (*out)[(*nout)++] = named ? weir_avro_qualify(s, space) : weir_strdup(s);
    }
    return true;
}

/* Registers a named type: its name, namespace and full name, and checks it
 * is not a redefinition. */
static bool
weir_avro_define(weir_avro_pctx_t *c, weir_avro_node_t *n, json_t *obj, const char *enclosing)
{
    weir_avro_schema_t *s = c->s;
    json_t *jname = json_object_get(obj, "name");
    json_t *jspace = json_object_get(obj, "namespace");
    const char *name, *dot;

    if (!json_is_string(jname)) {
        weir_avro_fail(c, "a %s needs a \"name\" (string)", weir_avro_type_name(n->type));
        return false;
    }
    name = json_string_value(jname);
    if (jspace && !json_is_string(jspace) && !json_is_null(jspace)) {
        weir_avro_fail(c, "\"namespace\" of %s must be a string", name);
        return false;
    }
    dot = strrchr(name, '.');
    if (dot) {
        n->name = weir_strdup(dot + 1);
        n->space = weir_strndup(name, (size_t)(dot - name));
    } else {
        const char *sp = json_is_string(jspace) ? json_string_value(jspace) : enclosing;

        n->name = weir_strdup(name);
        n->space = sp && sp[0] ? weir_strdup(sp) : NULL;
    }
    if (n->space && !n->space[0]) {
        free(n->space);
        n->space = NULL;
    }
    if (!weir_avro_valid_name(n->name)) {
        weir_avro_fail(c,
                       "invalid name \"%s\": names start with [A-Za-z_] and contain only "
                       "[A-Za-z0-9_]",
                       name);
        return false;
    }
    if (!n->space && weir_avro_primitive(n->name) >= 0) {
        weir_avro_fail(c, "a named type may not be called \"%s\" (a primitive type)", n->name);
        return false;
    }
    n->fullname = weir_avro_qualify(n->name, n->space);
    if (weir_avro_schema_find(s, n->fullname)) {
        weir_avro_fail(c, "can't redefine: %s", n->fullname);
        return false;
    }
    if (!weir_avro_parse_aliases(c, obj, n->space, true, n->fullname, &n->aliases, &n->naliases))
        return false;
    if (!weir_avro_opt_string(c, obj, "doc", n->fullname, &n->doc))
        return false;
    n->from_ref = c->in_ref;
    n->named_idx = (int)s->nnamed;
    if (s->nnamed == s->named_cap) {
        s->named_cap = s->named_cap ? s->named_cap * 2 : 8;
        s->named = weir_realloc(s->named, s->named_cap * sizeof(*s->named));
    }
    s->named[s->nnamed++] = n;
    return true;
}

/* A name used as a type: the enclosing namespace first, then the null
 * namespace (Avro-Java's lookup order). */
static weir_avro_node_t *
weir_avro_resolve(weir_avro_pctx_t *c, const char *name, const char *space)
{
    char *full = weir_avro_qualify(name, space);
    weir_avro_node_t *n = weir_avro_schema_find(c->s, full);

    free(full);
    if (!n && !strchr(name, '.'))
        n = weir_avro_schema_find(c->s, name);
    if (!n)
        weir_avro_fail(c, "undefined name: \"%s\"", name);
    return n;
}

static bool
weir_avro_parse_fields(weir_avro_pctx_t *c, weir_avro_node_t *n, json_t *obj)
{
    json_t *fields = json_object_get(obj, "fields"), *jf;
    size_t i;

    if (!json_is_array(fields)) {
        weir_avro_fail(c, "record %s needs \"fields\" (an array)", n->fullname);
        return false;
    }
    n->fields = weir_calloc(json_array_size(fields) + 1, sizeof(*n->fields));
    json_array_foreach(fields, i, jf)
    {
        weir_avro_field_t *f = &n->fields[n->nfields];
        json_t *jname = json_object_get(jf, "name"), *jtype, *jorder, *jdef;

        if (!json_is_object(jf) || !json_is_string(jname)) {
            weir_avro_fail(c, "field %zu of %s needs a \"name\" (string)", i, n->fullname);
            return false;
        }
        f->name = weir_strdup(json_string_value(jname));
        n->nfields++;
        if (!weir_avro_valid_name(f->name)) {
            weir_avro_fail(c, "invalid field name \"%s\" in %s", f->name, n->fullname);
            return false;
        }
        for (size_t k = 0; k + 1 < n->nfields; k++) {
            if (strcmp(n->fields[k].name, f->name) == 0) {
                weir_avro_fail(c, "duplicate field %s in record %s", f->name, n->fullname);
                return false;
            }
        }
        jtype = json_object_get(jf, "type");
        if (!jtype) {
            weir_avro_fail(c, "field %s of %s has no \"type\"", f->name, n->fullname);
            return false;
        }
        f->type = weir_avro_parse_node(c, jtype, n->space);
        if (!f->type)
            return false;
        jdef = json_object_get(jf, "default");
        if (jdef)
            f->default_value = json_incref(jdef);
        jorder = json_object_get(jf, "order");
        if (jorder) {
            const char *o = json_is_string(jorder) ? json_string_value(jorder) : "";

            if (strcmp(o, "ascending") != 0 && strcmp(o, "descending") != 0 &&
                strcmp(o, "ignore") != 0) {
                weir_avro_fail(c,
                               "field %s of %s: \"order\" must be ascending, descending "
                               "or ignore",
                               f->name, n->fullname);
                return false;
            }
            f->order = weir_strdup(o);
        }
        if (!weir_avro_opt_string(c, jf, "doc", f->name, &f->doc))
            return false;
        if (!weir_avro_parse_aliases(c, jf, NULL, false, f->name, &f->aliases, &f->naliases))
            return false;
        f->props = weir_avro_collect_props(jf, weir_avro_field_reserved_key);
    }
    return true;
}

static bool
weir_avro_parse_enum(weir_avro_pctx_t *c, weir_avro_node_t *n, json_t *obj)
{
    json_t *syms = json_object_get(obj, "symbols"), *v, *def;
    size_t i;

    if (!json_is_array(syms)) {
        weir_avro_fail(c, "enum %s needs \"symbols\" (an array)", n->fullname);
        return false;
    }
    n->symbols = weir_calloc(json_array_size(syms) + 1, sizeof(char *));
    json_array_foreach(syms, i, v)
    {
        const char *sym = json_is_string(v) ? json_string_value(v) : NULL;

        if (!sym || !weir_avro_valid_name(sym)) {
            weir_avro_fail(c, "invalid symbol %s%s%s in enum %s", sym ? "\"" : "",
                           sym ? sym : "(not a string)", sym ? "\"" : "", n->fullname);
            return false;
        }
        for (size_t k = 0; k < n->nsymbols; k++) {
            if (strcmp(n->symbols[k], sym) == 0) {
                weir_avro_fail(c, "duplicate enum symbol %s in %s", sym, n->fullname);
                return false;
            }
        }
        n->symbols[n->nsymbols++] = weir_strdup(sym);
    }
    def = json_object_get(obj, "default");
    if (def) {
        bool found = false;

        if (json_is_string(def))
            for (size_t k = 0; k < n->nsymbols && !found; k++)
                found = strcmp(n->symbols[k], json_string_value(def)) == 0;
        if (!found) {
            weir_avro_fail(c, "the default of enum %s is not one of its symbols", n->fullname);
            return false;
        }
        n->enum_default = weir_strdup(json_string_value(def));
    }
    return true;
}

static bool
weir_avro_parse_fixed(weir_avro_pctx_t *c, weir_avro_node_t *n, json_t *obj)
{
    json_t *size = json_object_get(obj, "size");

    if (!json_is_integer(size) || json_integer_value(size) < 0 ||
        json_integer_value(size) > INT32_MAX) {
        weir_avro_fail(c, "fixed %s needs a \"size\" (a non-negative integer)", n->fullname);
        return false;
    }
    n->size = (int32_t)json_integer_value(size);
    return true;
}

/* Two union branches that the specification forbids together: the same
 * unnamed type twice, or the same named type twice. */
static bool
weir_avro_union_clash(const weir_avro_node_t *a, const weir_avro_node_t *b)
{
    if (a->type != b->type)
        return false;
    if (a->named_idx >= 0)
        return strcmp(a->fullname, b->fullname) == 0;
    return true;
}

static weir_avro_node_t *
weir_avro_parse_union(weir_avro_pctx_t *c, json_t *j, const char *space)
{
    weir_avro_node_t *n = weir_avro_node_new(c->s, WEIR_AVRO_UNION);
    json_t *v;
    size_t i;

    n->branches = weir_calloc(json_array_size(j) + 1, sizeof(*n->branches));
    json_array_foreach(j, i, v)
    {
        weir_avro_node_t *b = weir_avro_parse_node(c, v, space);

        if (!b)
            return NULL;
        if (b->type == WEIR_AVRO_UNION) {
            weir_avro_fail(c, "unions may not immediately contain other unions");
            return NULL;
        }
        for (size_t k = 0; k < n->nbranches; k++) {
            if (weir_avro_union_clash(n->branches[k], b)) {
                weir_avro_fail(c, "duplicate in union: %s",
                               b->fullname ? b->fullname : weir_avro_type_name(b->type));
                return NULL;
            }
        }
        n->branches[n->nbranches++] = b;
    }
    return n;
}

static weir_avro_node_t *
weir_avro_parse_object(weir_avro_pctx_t *c, json_t *j, const char *space)
{
    json_t *jtype = json_object_get(j, "type");
    const char *type;
    weir_avro_node_t *n;
    int prim;

    if (!json_is_string(jtype)) {
        weir_avro_fail(c, "a schema object needs a \"type\" (string)");
        return NULL;
    }
    type = json_string_value(jtype);
    prim = weir_avro_primitive(type);
    if (prim >= 0) {
        n = weir_avro_node_new(c->s, (weir_avro_type_t)prim);
        n->props = weir_avro_collect_props(j, weir_avro_reserved_key);
        weir_avro_set_logical(n);
        return n;
    }
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        n = weir_avro_node_new(c->s, WEIR_AVRO_RECORD);
        n->is_error = type[0] == 'e';
        /* Defined before the fields are parsed, so they may refer to it. */
        if (!weir_avro_define(c, n, j, space) || !weir_avro_parse_fields(c, n, j))
            return NULL;
    } else if (strcmp(type, "enum") == 0) {
        n = weir_avro_node_new(c->s, WEIR_AVRO_ENUM);
        if (!weir_avro_define(c, n, j, space) || !weir_avro_parse_enum(c, n, j))
            return NULL;
    } else if (strcmp(type, "fixed") == 0) {
        n = weir_avro_node_new(c->s, WEIR_AVRO_FIXED);
        if (!weir_avro_define(c, n, j, space) || !weir_avro_parse_fixed(c, n, j))
            return NULL;
    } else if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
        bool arr = type[0] == 'a';
        json_t *child = json_object_get(j, arr ? "items" : "values");

        if (!child) {
            weir_avro_fail(c, "%s needs \"%s\"", type, arr ? "items" : "values");
            return NULL;
        }
        n = weir_avro_node_new(c->s, arr ? WEIR_AVRO_ARRAY : WEIR_AVRO_MAP);
        n->child = weir_avro_parse_node(c, child, space);
        if (!n->child)
            return NULL;
    } else {
        /* {"type": "SomeName"}: a reference to a defined named type. */
        return weir_avro_resolve(c, type, space);
    }
    n->props = weir_avro_collect_props(j, weir_avro_reserved_key);
    weir_avro_set_logical(n);
    return n;
}

static weir_avro_node_t *
weir_avro_parse_node(weir_avro_pctx_t *c, json_t *j, const char *space)
{
    weir_avro_node_t *n = NULL;

    if (++c->depth > WEIR_AVRO_MAX_DEPTH) {
        weir_avro_fail(c, "schema nested deeper than %d levels", WEIR_AVRO_MAX_DEPTH);
        c->depth--;
        return NULL;
    }
    if (json_is_string(j)) {
        int prim = weir_avro_primitive(json_string_value(j));

        n = prim >= 0 ? weir_avro_node_new(c->s, (weir_avro_type_t)prim)
                      : weir_avro_resolve(c, json_string_value(j), space);
    } else if (json_is_array(j)) {
        n = weir_avro_parse_union(c, j, space);
    } else if (json_is_object(j)) {
        n = weir_avro_parse_object(c, j, space);
    } else {
        weir_avro_fail(c, "a schema is a type name (string), an object or a union (array)");
    }
    c->depth--;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Defaults                                                                 */
/* ------------------------------------------------------------------------ */

static bool
weir_avro_default_valid_depth(const weir_avro_node_t *n, const json_t *v, int depth)
{
    const char *k;
    json_t *item;
    size_t i;

    if (!v || depth > 2 * WEIR_AVRO_MAX_DEPTH)
        return false;
    switch (n->type) {
    case WEIR_AVRO_NULL:
        return json_is_null(v);
    case WEIR_AVRO_BOOLEAN:
        return json_is_boolean(v);
    case WEIR_AVRO_INT:
        return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
               json_integer_value(v) <= INT32_MAX;
    case WEIR_AVRO_LONG:
        return json_is_integer(v);
    case WEIR_AVRO_FLOAT:
    case WEIR_AVRO_DOUBLE:
        return json_is_number(v);
    case WEIR_AVRO_BYTES:
    case WEIR_AVRO_STRING:
    case WEIR_AVRO_FIXED:
        return json_is_string(v);
    case WEIR_AVRO_ENUM:
        if (!json_is_string(v))
            return false;
        for (i = 0; i < n->nsymbols; i++)
            if (strcmp(n->symbols[i], json_string_value(v)) == 0)
                return true;
        return false;
    case WEIR_AVRO_ARRAY:
        if (!json_is_array(v))
            return false;
        json_array_foreach(v, i, item)
        {
            if (!weir_avro_default_valid_depth(n->child, item, depth + 1))
                return false;
        }
        return true;
    case WEIR_AVRO_MAP:
        if (!json_is_object(v))
            return false;
        json_object_foreach((json_t *)v, k, item)
        {
            if (!weir_avro_default_valid_depth(n->child, item, depth + 1))
                return false;
        }
        return true;
    case WEIR_AVRO_UNION:
        return n->nbranches > 0 && weir_avro_default_valid_depth(n->branches[0], v, depth + 1);
    case WEIR_AVRO_RECORD:
        if (!json_is_object(v))
            return false;
        for (i = 0; i < n->nfields; i++) {
            const weir_avro_field_t *f = &n->fields[i];
            json_t *fv = json_object_get(v, f->name);

            if (!weir_avro_default_valid_depth(f->type, fv ? fv : f->default_value, depth + 1))
                return false;
        }
        return true;
    }
    return false;
}

bool
weir_avro_default_valid(const weir_avro_node_t *n, const json_t *v)
{
    return weir_avro_default_valid_depth(n, v, 0);
}

static bool
weir_avro_check_defaults(weir_avro_pctx_t *c)
{
    for (size_t i = 0; i < c->s->nnamed; i++) {
        const weir_avro_node_t *n = c->s->named[i];

        if (n->type != WEIR_AVRO_RECORD || n->from_ref)
            continue;
        for (size_t k = 0; k < n->nfields; k++) {
            const weir_avro_field_t *f = &n->fields[k];

            if (f->default_value && !weir_avro_default_valid(f->type, f->default_value)) {
                char *d = json_dumps(f->default_value, JSON_COMPACT | JSON_ENCODE_ANY);

                weir_avro_fail(c, "invalid default for field %s of %s: %.80s not a %s", f->name,
                               n->fullname, d ? d : "?", weir_avro_type_name(f->type->type));
                free(d);
                return false;
            }
        }
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Serialisations                                                           */
/* ------------------------------------------------------------------------ */

typedef enum weir_avro_form_e {
    WEIR_AVRO_FORM_CANONICAL, /* Parsing Canonical Form (references inlined) */
    WEIR_AVRO_FORM_NORMAL,    /* equivalence form (referenced types by name) */
    WEIR_AVRO_FORM_AVROC,     /* for avro-c: structure only, full names, inlined */
} weir_avro_form_t;

typedef struct weir_avro_wctx_s {
    const weir_avro_schema_t *s;
    weir_avro_form_t form;
    bool *defined;     /* per named type: already written once */
    bool mixed_spaces; /* AVROC: null-namespace names need a prefix */
} weir_avro_wctx_t;

/* The name a named type is written with in a form. */
static json_t *
weir_avro_name_json(const weir_avro_wctx_t *w, const weir_avro_node_t *n)
{
    if (w->form == WEIR_AVRO_FORM_AVROC && w->mixed_spaces && !n->space) {
        /* avro-c resolves a dotless name inside a namespace against that
         * namespace only (Avro-Java falls back to the null namespace), so
         * the null namespace gets a name of its own in avro-c's copy.  Names
         * do not change the binary encoding. */
        char buf[512];

        snprintf(buf, sizeof(buf), "weir_null_namespace.%s", n->name);
        return json_string(buf);
    }
    return json_string(n->fullname);
}

static int
weir_avro_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted, de-duplicated JSON array of strings. */
static json_t *
weir_avro_sorted_set(char **v, size_t n)
{
    char **tmp = weir_malloc((n + 1) * sizeof(*tmp));
    json_t *a = json_array();

    memcpy(tmp, v, n * sizeof(*tmp));
    qsort(tmp, n, sizeof(*tmp), weir_avro_strcmp_p);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(tmp[i], tmp[i - 1]) != 0)
            json_array_append_new(a, json_string(tmp[i]));
    free(tmp);
    return a;
}

/* Appends props to o in key order. */
static void
weir_avro_put_props(json_t *o, const json_t *props)
{
    const char **keys;
    size_t n = 0, i = 0;
    const char *k;
    json_t *v;

    if (!props || !json_object_size(props))
        return;
    keys = weir_malloc(json_object_size(props) * sizeof(*keys));
    json_object_foreach((json_t *)props, k, v) keys[n++] = k;
    qsort(keys, n, sizeof(*keys), weir_avro_strcmp_p);
    for (i = 0; i < n; i++)
        json_object_set(o, keys[i], json_object_get(props, keys[i]));
    free(keys);
}

static json_t *weir_avro_write(weir_avro_wctx_t *w, const weir_avro_node_t *n);

static json_t *
weir_avro_write_field(weir_avro_wctx_t *w, const weir_avro_field_t *f)
{
    json_t *o = json_object();

    json_object_set_new(o, "name", json_string(f->name));
    if (w->form == WEIR_AVRO_FORM_NORMAL && f->doc)
        json_object_set_new(o, "doc", json_string(f->doc));
    json_object_set_new(o, "type", weir_avro_write(w, f->type));
    if (w->form == WEIR_AVRO_FORM_NORMAL) {
        if (f->default_value)
            json_object_set(o, "default", f->default_value);
        if (f->order && strcmp(f->order, "ascending") != 0)
            json_object_set_new(o, "order", json_string(f->order));
        if (f->naliases)
            json_object_set_new(o, "aliases", weir_avro_sorted_set(f->aliases, f->naliases));
        weir_avro_put_props(o, f->props);
    }
    return o;
}

static json_t *
weir_avro_write(weir_avro_wctx_t *w, const weir_avro_node_t *n)
{
    bool normal = w->form == WEIR_AVRO_FORM_NORMAL;
    const char *tname;
    json_t *o;

    if (weir_avro_type_is_primitive(n->type)) {
        if (!normal || !n->props)
            return json_string(weir_avro_type_name(n->type));
        o = json_object();
        json_object_set_new(o, "type", json_string(weir_avro_type_name(n->type)));
        weir_avro_put_props(o, n->props);
        return o;
    }
    if (n->type == WEIR_AVRO_UNION) {
        o = json_array();
        for (size_t i = 0; i < n->nbranches; i++)
            json_array_append_new(o, weir_avro_write(w, n->branches[i]));
        return o;
    }
    if (n->type == WEIR_AVRO_ARRAY || n->type == WEIR_AVRO_MAP) {
        bool arr = n->type == WEIR_AVRO_ARRAY;

        o = json_object();
        json_object_set_new(o, "type", json_string(arr ? "array" : "map"));
        json_object_set_new(o, arr ? "items" : "values", weir_avro_write(w, n->child));
        if (normal)
            weir_avro_put_props(o, n->props);
        return o;
    }
    /* Named: defined once, then written by name. */
    if (w->defined[n->named_idx] || (normal && n->from_ref))
        return weir_avro_name_json(w, n);
    w->defined[n->named_idx] = true;
    /* avro-c knows no "error" type; it is a record to it. */
    tname = n->is_error && w->form != WEIR_AVRO_FORM_AVROC ? "error" : weir_avro_type_name(n->type);
    o = json_object();
    if (w->form == WEIR_AVRO_FORM_CANONICAL) {
        /* The specification's order: name, type, fields, symbols, items,
         * values, size. */
        json_object_set_new(o, "name", weir_avro_name_json(w, n));
        json_object_set_new(o, "type", json_string(tname));
    } else {
        json_object_set_new(o, "type", json_string(tname));
        json_object_set_new(o, "name", weir_avro_name_json(w, n));
    }
    if (normal && n->doc)
        json_object_set_new(o, "doc", json_string(n->doc));
    if (normal && n->naliases)
        json_object_set_new(o, "aliases", weir_avro_sorted_set(n->aliases, n->naliases));
    if (n->type == WEIR_AVRO_RECORD) {
        json_t *fields = json_array();

        for (size_t i = 0; i < n->nfields; i++)
            json_array_append_new(fields, weir_avro_write_field(w, &n->fields[i]));
        json_object_set_new(o, "fields", fields);
    } else if (n->type == WEIR_AVRO_ENUM) {
        json_t *syms = json_array();

        for (size_t i = 0; i < n->nsymbols; i++)
            json_array_append_new(syms, json_string(n->symbols[i]));
        json_object_set_new(o, "symbols", syms);
        if (normal && n->enum_default)
            json_object_set_new(o, "default", json_string(n->enum_default));
    } else {
        json_object_set_new(o, "size", json_integer(n->size));
    }
    if (normal)
        weir_avro_put_props(o, n->props);
    return o;
}

static char *
weir_avro_serialize(const weir_avro_schema_t *s, weir_avro_form_t form)
{
    weir_avro_wctx_t w = {.s = s, .form = form};
    json_t *j;
    char *out;

    w.defined = weir_calloc(s->nnamed + 1, sizeof(bool));
    if (form == WEIR_AVRO_FORM_AVROC) {
        bool some_null = false, some_space = false;

        for (size_t i = 0; i < s->nnamed; i++) {
            some_null |= s->named[i]->space == NULL;
            some_space |= s->named[i]->space != NULL;
        }
        w.mixed_spaces = some_null && some_space;
    }
    j = weir_avro_write(&w, s->root);
    /* Keys are inserted in the order wanted; values keep their own order
     * except defaults and properties, whose object keys are sorted so that
     * equal values serialise equally. */
    out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (!out)
        abort(); /* jansson fails only on out-of-memory here */
    json_decref(j);
    free(w.defined);
    return out;
}

/* Default values and properties are compared as values: sort the keys of
 * nested objects in them so equal values serialise equally. */
static json_t *
weir_avro_sorted_copy(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object(), *x;
        const char **keys = weir_malloc((json_object_size(v) + 1) * sizeof(*keys));
        size_t n = 0;
        const char *k;

        json_object_foreach((json_t *)v, k, x) keys[n++] = k;
        qsort(keys, n, sizeof(*keys), weir_avro_strcmp_p);
        for (size_t i = 0; i < n; i++)
            json_object_set_new(o, keys[i], weir_avro_sorted_copy(json_object_get(v, keys[i])));
        free(keys);
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array(), *x;
        size_t i;

        json_array_foreach(v, i, x) json_array_append_new(a, weir_avro_sorted_copy(x));
        return a;
    }
    return json_deep_copy(v);
}

static void
weir_avro_sort_values(weir_avro_schema_t *s)
{
    for (size_t i = 0; i < s->nnodes; i++) {
        weir_avro_node_t *n = s->nodes[i];

        if (n->props) {
            json_t *p = weir_avro_sorted_copy(n->props);

            json_decref(n->props);
            n->props = p;
            weir_avro_set_logical(n);
        }
        for (size_t k = 0; k < n->nfields; k++) {
            weir_avro_field_t *f = &n->fields[k];

            if (f->default_value) {
                json_t *d = weir_avro_sorted_copy(f->default_value);

                json_decref(f->default_value);
                f->default_value = d;
            }
            if (f->props) {
                json_t *p = weir_avro_sorted_copy(f->props);

                json_decref(f->props);
                f->props = p;
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Fingerprints                                                             */
/* ------------------------------------------------------------------------ */

#define WEIR_AVRO_RABIN_EMPTY 0xc15d213aa4d7a795ULL

uint64_t
weir_avro_rabin(const void *buf, size_t len)
{
    static uint64_t table[256];
    static bool ready;
    const unsigned char *p = buf;
    uint64_t fp = WEIR_AVRO_RABIN_EMPTY;

    if (!ready) {
        for (int i = 0; i < 256; i++) {
            uint64_t f = (uint64_t)i;

            for (int j = 0; j < 8; j++)
                f = (f >> 1) ^ (WEIR_AVRO_RABIN_EMPTY & (uint64_t)(-(int64_t)(f & 1)));
            table[i] = f;
        }
        ready = true;
    }
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ table[(fp ^ p[i]) & 0xff];
    return fp;
}

static int
weir_avro_digest(const EVP_MD *md, const char *text, unsigned char *out)
{
    unsigned int outlen = 0;

    return EVP_Digest(text, strlen(text), out, &outlen, md, NULL) == 1 ? 0 : WEIR_ERR;
}

int
weir_avro_fingerprint_md5(const weir_avro_schema_t *s, unsigned char out[16])
{
    return weir_avro_digest(EVP_md5(), s->canonical, out);
}

int
weir_avro_fingerprint_sha256(const weir_avro_schema_t *s, unsigned char out[32])
{
    return weir_avro_digest(EVP_sha256(), s->canonical, out);
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                              */
/* ------------------------------------------------------------------------ */

static json_t *
weir_avro_load(weir_avro_pctx_t *c, const char *text, size_t len, const char *what)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);

    if (!j)
        weir_avro_fail(c, "%s is not valid JSON: %s (line %d, column %d)", what, jerr.text,
                       jerr.line, jerr.column);
    return j;
}

int
weir_avro_schema_parse(const char *text, size_t len, const char *const *refs,
                       const size_t *ref_lens, size_t nrefs, unsigned flags,
                       weir_avro_schema_t **out, char *err, size_t errsz)
{
    weir_avro_schema_t *s = weir_calloc(1, sizeof(*s));
    weir_avro_pctx_t c = {.s = s, .flags = flags, .err = err, .errsz = errsz};
    json_t *j;

    *out = NULL;
    if (err && errsz)
        err[0] = '\0';
    /* Referenced schemas first: their named types become known names. */
    c.in_ref = true;
    for (size_t i = 0; i < nrefs; i++) {
        char what[48];

        snprintf(what, sizeof(what), "referenced schema %zu", i + 1);
        j = weir_avro_load(&c, refs[i], ref_lens[i], what);
        if (!j)
            goto fail;
        if (!weir_avro_parse_node(&c, j, NULL)) {
            json_decref(j);
            goto fail;
        }
        json_decref(j);
    }
    c.in_ref = false;
    j = weir_avro_load(&c, text, len, "the schema");
    if (!j)
        goto fail;
    s->root = weir_avro_parse_node(&c, j, NULL);
    json_decref(j);
    if (!s->root)
        goto fail;
    if ((flags & WEIR_AVRO_VALIDATE_DEFAULTS) && !weir_avro_check_defaults(&c))
        goto fail;

    weir_avro_sort_values(s);
    s->canonical = weir_avro_serialize(s, WEIR_AVRO_FORM_CANONICAL);
    s->rabin = weir_avro_rabin(s->canonical, strlen(s->canonical));
    s->normalized = weir_avro_serialize(s, WEIR_AVRO_FORM_NORMAL);
    s->avroc_json = weir_avro_serialize(s, WEIR_AVRO_FORM_AVROC);
    if (!(flags & WEIR_AVRO_NO_AVROC)) {
        if (avro_schema_from_json_length(s->avroc_json, strlen(s->avroc_json), &s->avroc) != 0) {
            s->avroc = NULL;
            weir_avro_fail(&c, "avro-c rejects the schema: %s", avro_strerror());
            goto fail;
        }
    }
    *out = s;
    return 0;

fail:
    if (!c.failed)
        weir_avro_fail(&c, "invalid schema");
    weir_avro_schema_free(s);
    return WEIR_EPARSE;
}
