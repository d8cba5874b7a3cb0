/*
 * weir_avro_compat.c: the reader/writer resolution check of
 * weir_avro_compat.h, with a memo of (reader node, writer node) pairs for
 * recursive types, and the Confluent level driver for Avro.
 */
#include "weir_avro_compat.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "weir_common.h"

/* Pair states in the memo. */
#define WEIR_PAIR_BUSY 1
#define WEIR_PAIR_OK 2
#define WEIR_PAIR_BAD 3

typedef struct weir_pair_s {
    const weir_avro_node_t *r, *w;
    int state;
} weir_pair_t;

typedef struct weir_rw_ctx_s {
    weir_pair_t *slots; /* open addressing, power-of-two size */
    size_t cap, used;
    char path[1024]; /* location in the reader schema, "/fields/1/type" */
    size_t pathlen;
    int depth; /* nested weir_rw calls */
} weir_rw_ctx_t;

/* Named types can refer to earlier ones in chains as long as the schema;
 * comparing deeper than this is refused rather than risking the stack. */
#define WEIR_AVRO_COMPAT_MAX_DEPTH 400

static size_t
weir_pair_hash(const weir_avro_node_t *r, const weir_avro_node_t *w)
{
    uint64_t h = (uint64_t)(uintptr_t)r * 0x9e3779b97f4a7c15ULL;

    h ^= (uint64_t)(uintptr_t)w + 0x7f4a7c159e3779b9ULL + (h << 6) + (h >> 2);
    return (size_t)(h ^ (h >> 29));
}

static weir_pair_t *
weir_pair_slot(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w)
{
    size_t i;

    if ((c->used + 1) * 2 > c->cap) {
        weir_pair_t *old = c->slots;
        size_t oldcap = c->cap;

        c->cap = c->cap ? c->cap * 2 : 64;
        c->slots = weir_calloc(c->cap, sizeof(*c->slots));
        c->used = 0;
        for (size_t k = 0; k < oldcap; k++) {
            if (!old[k].state)
                continue;
            i = weir_pair_hash(old[k].r, old[k].w) & (c->cap - 1);
            while (c->slots[i].state)
                i = (i + 1) & (c->cap - 1);
            c->slots[i] = old[k];
            c->used++;
        }
        free(old);
    }
    i = weir_pair_hash(r, w) & (c->cap - 1);
    while (c->slots[i].state && !(c->slots[i].r == r && c->slots[i].w == w))
        i = (i + 1) & (c->cap - 1);
    if (!c->slots[i].state) {
        c->slots[i].r = r;
        c->slots[i].w = w;
        c->used++;
    }
    return &c->slots[i];
}

/* Path handling: push returns the old length to restore. */
static size_t weir_path_push(weir_rw_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
weir_path_push(weir_rw_ctx_t *c, const char *fmt, ...)
{
    size_t old = c->pathlen;
    va_list ap;
    int n;

    if (c->pathlen < sizeof(c->path) - 1) {
        c->path[c->pathlen] = '/';
        va_start(ap, fmt);
        n = vsnprintf(c->path + c->pathlen + 1, sizeof(c->path) - c->pathlen - 1, fmt, ap);
        va_end(ap);
        if (n > 0)
            c->pathlen = WEIR_MIN(sizeof(c->path) - 1, c->pathlen + 1 + (size_t)n);
    }
    return old;
}

static void
weir_path_pop(weir_rw_ctx_t *c, size_t old)
{
    c->pathlen = old;
    c->path[old] = '\0';
}

static const char *
weir_path(const weir_rw_ctx_t *c)
{
    return c->pathlen ? c->path : "/";
}

static void
weir_incompat(weir_rw_ctx_t *c, weir_msgs_t *msgs, const char *type, const char *desc,
              const char *info)
{
    weir_msgs_add(msgs, "{errorType:'%s', description:'%s', additionalInfo:'%s'}", type, desc,
                  info);
    WEIR_UNUSED(c);
}

static const char *
weir_node_label(const weir_avro_node_t *n)
{
    return n->fullname ? n->fullname : weir_avro_type_name(n->type);
}

static bool weir_rw(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w,
                    weir_msgs_t *msgs);

/* Unqualified names equal, or a reader alias is the writer's full name. */
static bool
weir_names_match(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w,
                 weir_msgs_t *msgs)
{
    char desc[1400];
    size_t old;

    if (strcmp(r->name, w->name) == 0)
        return true;
    for (size_t i = 0; i < r->naliases; i++)
        if (strcmp(r->aliases[i], w->fullname) == 0)
            return true;
    old = weir_path_push(c, "name");
    snprintf(desc, sizeof(desc),
             "The name of the schema has changed (path '%s'): the reader's %s matches neither "
             "the writer's %s nor any alias",
             weir_path(c), r->fullname, w->fullname);
    weir_incompat(c, msgs, "NAME_MISMATCH", desc, w->fullname);
    weir_path_pop(c, old);
    return false;
}

static const weir_avro_field_t *
weir_writer_field(const weir_avro_node_t *w, const weir_avro_field_t *rf, bool *ambiguous)
{
    const weir_avro_field_t *found = NULL;

    *ambiguous = false;
    for (size_t i = 0; i < w->nfields; i++) {
        bool match = strcmp(w->fields[i].name, rf->name) == 0;

        for (size_t a = 0; !match && a < rf->naliases; a++)
            match = strcmp(w->fields[i].name, rf->aliases[a]) == 0;
        if (!match)
            continue;
        if (found && found != &w->fields[i])
            *ambiguous = true;
        found = &w->fields[i];
    }
    return found;
}

static bool
weir_rw_record(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w,
               weir_msgs_t *msgs)
{
    bool ok = weir_names_match(c, r, w, msgs);

    for (size_t i = 0; i < r->nfields; i++) {
        const weir_avro_field_t *rf = &r->fields[i];
        bool ambiguous;
        const weir_avro_field_t *wf = weir_writer_field(w, rf, &ambiguous);
        size_t old = weir_path_push(c, "fields/%zu", i);
        char desc[1400];

        if (ambiguous) {
            snprintf(desc, sizeof(desc),
                     "The field '%s' at path '%s' in the reader schema "
                     "matches several writer fields through its aliases",
                     rf->name, weir_path(c));
            weir_incompat(c, msgs, "TYPE_MISMATCH", desc, rf->name);
            ok = false;
        } else if (!wf) {
            if (!rf->default_value) {
                size_t o2 = weir_path_push(c, "name");

                snprintf(desc, sizeof(desc),
                         "The field '%s' at path '%s' in the reader schema "
                         "has no default value and is missing in the writer schema",
                         rf->name, weir_path(c));
                weir_incompat(c, msgs, "READER_FIELD_MISSING_DEFAULT_VALUE", desc, rf->name);
                weir_path_pop(c, o2);
                ok = false;
            }
        } else {
            size_t o2 = weir_path_push(c, "type");

            if (!weir_rw(c, rf->type, wf->type, msgs))
                ok = false;
            weir_path_pop(c, o2);
        }
        weir_path_pop(c, old);
    }
    return ok;
}

static bool
weir_rw_enum(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w,
             weir_msgs_t *msgs)
{
    bool ok = weir_names_match(c, r, w, msgs);
    char missing[1024] = "";
    size_t mlen = 0;

    for (size_t i = 0; i < w->nsymbols; i++) {
        bool found = false;

        for (size_t k = 0; k < r->nsymbols && !found; k++)
            found = strcmp(r->symbols[k], w->symbols[i]) == 0;
        if (!found && mlen < sizeof(missing) - 1) {
            int n = snprintf(missing + mlen, sizeof(missing) - mlen, "%s%s", mlen ? ", " : "",
                             w->symbols[i]);

            mlen = n > 0 ? WEIR_MIN(sizeof(missing) - 1, mlen + (size_t)n) : mlen;
        }
    }
    if (mlen && !r->enum_default) {
        char desc[2200];
        size_t old = weir_path_push(c, "symbols");

        snprintf(desc, sizeof(desc),
                 "The reader schema is missing enum symbols '[%s]' at path "
                 "'%s' in the writer schema, and has no enum default",
                 missing, weir_path(c));
        weir_incompat(c, msgs, "MISSING_ENUM_SYMBOLS", desc, missing);
        weir_path_pop(c, old);
        ok = false;
    }
    return ok;
}

static bool
weir_rw_same_type(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w,
                  weir_msgs_t *msgs)
{
    char desc[1400];
    bool ok = true;
    size_t old;

    switch (r->type) {
    case WEIR_AVRO_NULL:
    case WEIR_AVRO_BOOLEAN:
    case WEIR_AVRO_INT:
    case WEIR_AVRO_LONG:
    case WEIR_AVRO_FLOAT:
    case WEIR_AVRO_DOUBLE:
    case WEIR_AVRO_BYTES:
    case WEIR_AVRO_STRING:
        return true;
    case WEIR_AVRO_ARRAY:
    case WEIR_AVRO_MAP:
        old = weir_path_push(c, r->type == WEIR_AVRO_ARRAY ? "items" : "values");
        ok = weir_rw(c, r->child, w->child, msgs);
        weir_path_pop(c, old);
        return ok;
    case WEIR_AVRO_FIXED:
        ok = weir_names_match(c, r, w, msgs);
        if (r->size != w->size) {
            old = weir_path_push(c, "size");
            snprintf(desc, sizeof(desc),
                     "The size of FIXED type field at path '%s' in the "
                     "reader schema (%d) does not match with the writer schema (%d)",
                     weir_path(c), r->size, w->size);
            weir_incompat(c, msgs, "FIXED_SIZE_MISMATCH", desc, "");
            weir_path_pop(c, old);
            ok = false;
        }
        return ok;
    case WEIR_AVRO_ENUM:
        return weir_rw_enum(c, r, w, msgs);
    case WEIR_AVRO_RECORD:
        return weir_rw_record(c, r, w, msgs);
    case WEIR_AVRO_UNION:
        /* Each writer branch must be readable by the reader union. */
        for (size_t i = 0; i < w->nbranches; i++)
            if (!weir_rw(c, r, w->branches[i], msgs))
                ok = false;
        return ok;
    }
    return false;
}

/* Reader and writer of different types, the writer not a union. */
static bool
weir_rw_other_type(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w,
                   weir_msgs_t *msgs)
{
    weir_avro_type_t wt = w->type;
    char desc[1400];

    switch (r->type) {
    case WEIR_AVRO_LONG:
        if (wt == WEIR_AVRO_INT)
            return true;
        break;
    case WEIR_AVRO_FLOAT:
        if (wt == WEIR_AVRO_INT || wt == WEIR_AVRO_LONG)
            return true;
        break;
    case WEIR_AVRO_DOUBLE:
        if (wt == WEIR_AVRO_INT || wt == WEIR_AVRO_LONG || wt == WEIR_AVRO_FLOAT)
            return true;
        break;
    case WEIR_AVRO_BYTES:
        if (wt == WEIR_AVRO_STRING)
            return true;
        break;
    case WEIR_AVRO_STRING:
        if (wt == WEIR_AVRO_BYTES)
            return true;
        break;
    case WEIR_AVRO_UNION:
        /* Some reader branch must read the writer; the probes' own reasons
         * are not the answer, so they are dropped. */
        for (size_t i = 0; i < r->nbranches; i++) {
            size_t old = weir_path_push(c, "%zu", i);
            bool ok = weir_rw(c, r->branches[i], w, NULL);

            weir_path_pop(c, old);
            if (ok)
                return true;
        }
        snprintf(desc, sizeof(desc),
                 "The reader schema is missing a type inside a union field "
                 "at path '%s': no branch reads the writer's %s",
                 weir_path(c), weir_node_label(w));
        weir_incompat(c, msgs, "MISSING_UNION_BRANCH", desc, weir_avro_type_name(w->type));
        return false;
    default:
        break;
    }
    snprintf(desc, sizeof(desc),
             "The type (path '%s') of a field in the reader schema (%s) "
             "does not match with the writer schema (%s)",
             weir_path(c), weir_node_label(r), weir_node_label(w));
    weir_incompat(c, msgs, "TYPE_MISMATCH", desc, weir_avro_type_name(w->type));
    return false;
}

static bool
weir_rw(weir_rw_ctx_t *c, const weir_avro_node_t *r, const weir_avro_node_t *w, weir_msgs_t *msgs)
{
    weir_pair_t *p = weir_pair_slot(c, r, w);
    bool ok;

    if (p->state == WEIR_PAIR_BUSY || p->state == WEIR_PAIR_OK)
        return true; /* a cycle is assumed to match; a checked pair matched */
    if (p->state == WEIR_PAIR_BAD) {
        char desc[1400];

        /* Its reasons were given where it was first checked, unless that
         * was a union probe; say where it recurs. */
        snprintf(desc, sizeof(desc), "At path '%s' the reader's %s cannot read the writer's %s",
                 weir_path(c), weir_node_label(r), weir_node_label(w));
        weir_incompat(c, msgs, "TYPE_MISMATCH", desc, weir_node_label(w));
        return false;
    }
    if (c->depth >= WEIR_AVRO_COMPAT_MAX_DEPTH) {
        weir_incompat(c, msgs, "TYPE_MISMATCH",
                      "The schemas nest named types too deeply to be compared", "");
        return false;
    }
    p->state = WEIR_PAIR_BUSY;
    c->depth++;
    if (r->type == w->type)
        ok = weir_rw_same_type(c, r, w, msgs);
    else if (w->type == WEIR_AVRO_UNION) {
        ok = true;
        for (size_t i = 0; i < w->nbranches; i++)
            if (!weir_rw(c, r, w->branches[i], msgs))
                ok = false;
    } else {
        ok = weir_rw_other_type(c, r, w, msgs);
    }
    c->depth--;
    /* The slot may have moved when the table grew. */
    weir_pair_slot(c, r, w)->state = ok ? WEIR_PAIR_OK : WEIR_PAIR_BAD;
    return ok;
}

bool
weir_avro_node_can_read(const weir_avro_node_t *reader, const weir_avro_node_t *writer,
                        weir_msgs_t *msgs)
{
    weir_rw_ctx_t c = {0};
    bool ok = weir_rw(&c, reader, writer, msgs);

    free(c.slots);
    return ok;
}

bool
weir_avro_can_read(const weir_avro_schema_t *reader, const weir_avro_schema_t *writer,
                   weir_msgs_t *msgs)
{
    return weir_avro_node_can_read(reader->root, writer->root, msgs);
}

static bool
weir_avro_can_read_cb(void *arg, const void *r, const void *w, weir_msgs_t *msgs)
{
    WEIR_UNUSED(arg);
    return weir_avro_can_read(r, w, msgs);
}

bool
weir_avro_compat_check(weir_compat_level_t level, const weir_avro_schema_t *new_schema,
                       const weir_avro_schema_t *const *prev, size_t nprev, weir_msgs_t *msgs)
{
    return weir_compat_check(level, new_schema, (const void *const *)prev, NULL, nprev,
                             weir_avro_can_read_cb, NULL, msgs);
}
