/*
 * weir_registry.c: the Schema Registry model of weir_registry.h - subjects
 * (sorted by name), schemas (sorted by id, and by identity in a hash
 * table), configuration and modes, the Confluent semantics of every
 * operation, and loading from / writing to the registry tables.
 */
#include "weir_registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "weir_avro_compat.h"
#include "weir_common.h"
#include "weir_log.h"
#include "weir_store_registry.h"

typedef struct weir_reg_subject_s {
    char *name;
    weir_reg_version_t *versions; /* ascending version numbers */
    size_t nversions, cap;
    int compat; /* -1: not set */
    int mode;   /* -1: not set */
    weir_reg_policy_t policy;
} weir_reg_subject_t;

struct weir_registry_s {
    weir_regstore_t *rs;           /* NULL: memory only */
    weir_reg_subject_t **subjects; /* sorted by name */
    size_t nsubjects, subjects_cap;
    weir_reg_schema_t **schemas; /* sorted by id */
    size_t nschemas, schemas_cap;
    weir_reg_schema_t **by_identity; /* open addressing on identity */
    size_t ident_cap, ident_used;
    int32_t next_id;
    int compat; /* global; -1: default */
    int mode;   /* global; -1: default */
    size_t max_schema_bytes;
    uint64_t gen;
};

/* ------------------------------------------------------------------------ */
/* Errors and names                                                         */
/* ------------------------------------------------------------------------ */

static int __attribute__((format(printf, 4, 5)))
weir_reg_fail(weir_reg_err_t *err, int status, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    err->status = status;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

void
weir_reg_err_clear(weir_reg_err_t *err)
{
    if (err)
        weir_msgs_free(&err->details);
}

static const char *const weir_reg_mode_names[] = {
    [WEIR_MODE_READWRITE] = "READWRITE",
    [WEIR_MODE_READONLY] = "READONLY",
    [WEIR_MODE_READONLY_OVERRIDE] = "READONLY_OVERRIDE",
    [WEIR_MODE_IMPORT] = "IMPORT",
};

const char *
weir_reg_mode_name(weir_reg_mode_t m)
{
    return (size_t)m < WEIR_ARRAY_SIZE(weir_reg_mode_names) ? weir_reg_mode_names[m] : "?";
}

int
weir_reg_mode_parse(const char *s)
{
    for (size_t i = 0; s && i < WEIR_ARRAY_SIZE(weir_reg_mode_names); i++)
        if (strcmp(s, weir_reg_mode_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *
weir_schema_type_name(weir_schema_type_t t)
{
    return t == WEIR_SCHEMA_JSON ? "JSON" : "AVRO";
}

static int
weir_schema_type_parse(const char *s)
{
    if (!s || !s[0] || strcmp(s, "AVRO") == 0)
        return WEIR_SCHEMA_AVRO;
    if (strcmp(s, "JSON") == 0)
        return WEIR_SCHEMA_JSON;
    return -1;
}

int
weir_registry_parse_version(const char *s, int32_t *out, weir_reg_err_t *err)
{
    char *end;
    long long v;

    if (s && (strcmp(s, "latest") == 0 || strcmp(s, "-1") == 0)) {
        *out = WEIR_REG_LATEST;
        return 0;
    }
    if (!s || !*s || *s == '+' || *s == ' ')
        goto bad;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < 1 || v > INT32_MAX)
        goto bad;
    *out = (int32_t)v;
    return 0;
bad:
    return weir_reg_fail(err, 422, WEIR_REG_INVALID_VERSION,
                         "The specified version '%s' is not a valid version id. Allowed values "
                         "are between [1, 2^31-1] and the string \"latest\"",
                         s ? s : "");
}

int
weir_registry_check_subject(const char *subject, weir_reg_err_t *err)
{
    if (!subject || !subject[0] || strcmp(subject, "__GLOBAL") == 0 ||
        strcmp(subject, "__EMPTY") == 0)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_SUBJECT, "Invalid subject %s",
                             subject ? subject : "");
    for (const unsigned char *p = (const unsigned char *)subject; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return weir_reg_fail(err, 422, WEIR_REG_INVALID_SUBJECT,
                                 "Invalid subject: it contains control characters");
    if (strlen(subject) > 4096)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_SUBJECT,
                             "Invalid subject: longer than 4096 bytes");
    return 0;
}

static int
weir_reg_store_error(weir_reg_err_t *err)
{
    return weir_reg_fail(err, 500, WEIR_REG_STORE_ERROR, "Error while storing the change");
}

/* ------------------------------------------------------------------------ */
/* Schemas: by id and by identity                                           */
/* ------------------------------------------------------------------------ */

static void
weir_reg_schema_free(weir_reg_schema_t *s)
{
    if (!s)
        return;
    free(s->text);
    for (size_t i = 0; i < s->nrefs; i++) {
        free(s->refs[i].name);
        free(s->refs[i].subject);
    }
    free(s->refs);
    weir_avro_schema_free(s->avro);
    weir_json_schema_free(s->json);
    free(s);
}

static size_t
weir_reg_ident_hash(const char *ident)
{
    uint64_t h = 0;

    /* The identity is a hex digest: its first 16 digits are a good hash. */
    for (int i = 0; i < 16 && ident[i]; i++)
        h = h * 16 + (uint64_t)(ident[i] <= '9' ? ident[i] - '0' : ident[i] - 'a' + 10);
    return (size_t)h;
}

static weir_reg_schema_t *
weir_reg_by_identity(const weir_registry_t *reg, const char *ident)
{
    if (!reg->ident_cap)
        return NULL;
    for (size_t i = weir_reg_ident_hash(ident) & (reg->ident_cap - 1); reg->by_identity[i];
         i = (i + 1) & (reg->ident_cap - 1))
        if (strcmp(reg->by_identity[i]->identity, ident) == 0)
            return reg->by_identity[i];
    return NULL;
}

/* Adds s to the identity table unless a schema with its identity is there. */
static void
weir_reg_ident_add(weir_registry_t *reg, weir_reg_schema_t *s)
{
    size_t i;

    if (weir_reg_by_identity(reg, s->identity))
        return;
    if ((reg->ident_used + 1) * 2 > reg->ident_cap) {
        weir_reg_schema_t **old = reg->by_identity;
        size_t oldcap = reg->ident_cap;

        reg->ident_cap = reg->ident_cap ? reg->ident_cap * 2 : 64;
        reg->by_identity = weir_calloc(reg->ident_cap, sizeof(*reg->by_identity));
        reg->ident_used = 0;
        for (size_t k = 0; k < oldcap; k++)
            if (old[k])
                weir_reg_ident_add(reg, old[k]);
        free(old);
    }
    i = weir_reg_ident_hash(s->identity) & (reg->ident_cap - 1);
    while (reg->by_identity[i])
        i = (i + 1) & (reg->ident_cap - 1);
    reg->by_identity[i] = s;
    reg->ident_used++;
}

/* Removes s from the identity table (only when it is the entry there). */
static void
weir_reg_ident_remove(weir_registry_t *reg, weir_reg_schema_t *s)
{
    size_t i, j;

    if (!reg->ident_cap)
        return;
    for (i = weir_reg_ident_hash(s->identity) & (reg->ident_cap - 1); reg->by_identity[i];
         i = (i + 1) & (reg->ident_cap - 1))
        if (reg->by_identity[i] == s)
            break;
    if (!reg->by_identity[i])
        return;
    reg->by_identity[i] = NULL;
    reg->ident_used--;
    /* Re-insert the rest of the cluster. */
    for (j = (i + 1) & (reg->ident_cap - 1); reg->by_identity[j];
         j = (j + 1) & (reg->ident_cap - 1)) {
        weir_reg_schema_t *x = reg->by_identity[j];

        reg->by_identity[j] = NULL;
        reg->ident_used--;
        weir_reg_ident_add(reg, x);
    }
}

static size_t
weir_reg_schema_pos(const weir_registry_t *reg, int32_t id, bool *found)
{
    size_t lo = 0, hi = reg->nschemas;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (reg->schemas[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < reg->nschemas && reg->schemas[lo]->id == id;
    return lo;
}

static weir_reg_schema_t *
weir_reg_schema_find(const weir_registry_t *reg, int32_t id)
{
    bool found;
    size_t pos = weir_reg_schema_pos(reg, id, &found);

    return found ? reg->schemas[pos] : NULL;
}

static void
weir_reg_schema_insert(weir_registry_t *reg, weir_reg_schema_t *s)
{
    bool found;
    size_t pos = weir_reg_schema_pos(reg, s->id, &found);

    if (reg->nschemas == reg->schemas_cap) {
        reg->schemas_cap = reg->schemas_cap ? reg->schemas_cap * 2 : 32;
        reg->schemas = weir_realloc(reg->schemas, reg->schemas_cap * sizeof(*reg->schemas));
    }
    memmove(&reg->schemas[pos + 1], &reg->schemas[pos],
            (reg->nschemas - pos) * sizeof(*reg->schemas));
    reg->schemas[pos] = s;
    reg->nschemas++;
    if (s->id >= reg->next_id)
        reg->next_id = s->id + 1;
    weir_reg_ident_add(reg, s);
}

/* Undoes weir_reg_schema_insert of a schema that was just added. */
static void
weir_reg_schema_unlink(weir_registry_t *reg, weir_reg_schema_t *s)
{
    bool found;
    size_t pos = weir_reg_schema_pos(reg, s->id, &found);

    if (!found || reg->schemas[pos] != s)
        return;
    memmove(&reg->schemas[pos], &reg->schemas[pos + 1],
            (reg->nschemas - pos - 1) * sizeof(*reg->schemas));
    reg->nschemas--;
    weir_reg_ident_remove(reg, s);
}

/* ------------------------------------------------------------------------ */
/* Subjects                                                                 */
/* ------------------------------------------------------------------------ */

static size_t
weir_reg_subject_pos(const weir_registry_t *reg, const char *name, bool *found)
{
    size_t lo = 0, hi = reg->nsubjects;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (strcmp(reg->subjects[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < reg->nsubjects && strcmp(reg->subjects[lo]->name, name) == 0;
    return lo;
}

static weir_reg_subject_t *
weir_reg_subject_find(const weir_registry_t *reg, const char *name)
{
    bool found;
    size_t pos = weir_reg_subject_pos(reg, name, &found);

    return found ? reg->subjects[pos] : NULL;
}

static weir_reg_subject_t *
weir_reg_subject_get(weir_registry_t *reg, const char *name)
{
    bool found;
    size_t pos = weir_reg_subject_pos(reg, name, &found);
    weir_reg_subject_t *sub;

    if (found)
        return reg->subjects[pos];
    sub = weir_calloc(1, sizeof(*sub));
    sub->name = weir_strdup(name);
    sub->compat = -1;
    sub->mode = -1;
    if (reg->nsubjects == reg->subjects_cap) {
        reg->subjects_cap = reg->subjects_cap ? reg->subjects_cap * 2 : 32;
        reg->subjects = weir_realloc(reg->subjects, reg->subjects_cap * sizeof(*reg->subjects));
    }
    memmove(&reg->subjects[pos + 1], &reg->subjects[pos],
            (reg->nsubjects - pos) * sizeof(*reg->subjects));
    reg->subjects[pos] = sub;
    reg->nsubjects++;
    return sub;
}

static bool
weir_reg_subject_empty(const weir_reg_subject_t *sub)
{
    return sub->nversions == 0 && sub->compat < 0 && sub->mode < 0 && !sub->policy.has_floor &&
           !sub->policy.approval;
}

/* Drops a subject that holds nothing any more. */
static void
weir_reg_subject_gc(weir_registry_t *reg, weir_reg_subject_t *sub)
{
    bool found;
    size_t pos;

    if (!weir_reg_subject_empty(sub))
        return;
    pos = weir_reg_subject_pos(reg, sub->name, &found);
    if (!found)
        return;
    memmove(&reg->subjects[pos], &reg->subjects[pos + 1],
            (reg->nsubjects - pos - 1) * sizeof(*reg->subjects));
    reg->nsubjects--;
    free(sub->versions);
    free(sub->name);
    free(sub);
}

static size_t
weir_reg_live_count(const weir_reg_subject_t *sub)
{
    size_t n = 0;

    for (size_t i = 0; sub && i < sub->nversions; i++)
        n += !sub->versions[i].deleted;
    return n;
}

static weir_reg_version_t *
weir_reg_version_find(weir_reg_subject_t *sub, int32_t version, bool deleted)
{
    if (!sub)
        return NULL;
    if (version == WEIR_REG_LATEST) {
        for (size_t i = sub->nversions; i > 0; i--)
            if (deleted || !sub->versions[i - 1].deleted)
                return &sub->versions[i - 1];
        return NULL;
    }
    for (size_t i = 0; i < sub->nversions; i++)
        if (sub->versions[i].version == version)
            return (deleted || !sub->versions[i].deleted) ? &sub->versions[i] : NULL;
    return NULL;
}

static void
weir_reg_version_add(weir_reg_subject_t *sub, int32_t version, weir_reg_schema_t *s, bool deleted)
{
    size_t pos = sub->nversions;

    if (sub->nversions == sub->cap) {
        sub->cap = sub->cap ? sub->cap * 2 : 4;
        sub->versions = weir_realloc(sub->versions, sub->cap * sizeof(*sub->versions));
    }
    while (pos > 0 && sub->versions[pos - 1].version > version)
        pos--;
    memmove(&sub->versions[pos + 1], &sub->versions[pos],
            (sub->nversions - pos) * sizeof(*sub->versions));
    sub->versions[pos].version = version;
    sub->versions[pos].schema = s;
    sub->versions[pos].deleted = deleted;
    sub->nversions++;
    s->nversions++;
}

static void
weir_reg_version_remove(weir_reg_subject_t *sub, weir_reg_version_t *v)
{
    size_t pos = (size_t)(v - sub->versions);

    v->schema->nversions--;
    memmove(&sub->versions[pos], &sub->versions[pos + 1],
            (sub->nversions - pos - 1) * sizeof(*sub->versions));
    sub->nversions--;
}

static int32_t
weir_reg_next_version(const weir_reg_subject_t *sub)
{
    return sub && sub->nversions ? sub->versions[sub->nversions - 1].version + 1 : 1;
}

/* ------------------------------------------------------------------------ */
/* Store                                                                    */
/* ------------------------------------------------------------------------ */

static char *
weir_reg_refs_json(const weir_reg_ref_t *refs, size_t n)
{
    json_t *a = json_array();
    char *s;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "name", refs[i].name, "subject",
                                           refs[i].subject, "version", refs[i].version));
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!s)
        abort();
    return s;
}

static int
weir_reg_store_config(weir_registry_t *reg, const char *subject)
{
    weir_regstore_config_t c = {.subject = subject ? subject : WEIR_REGSTORE_GLOBAL};

    if (!reg->rs)
        return 0;
    if (!subject) {
        c.compatibility = reg->compat >= 0 ? weir_compat_level_name(reg->compat) : NULL;
        c.mode = reg->mode >= 0 ? weir_reg_mode_name(reg->mode) : NULL;
    } else {
        weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);

        if (sub) {
            c.compatibility = sub->compat >= 0 ? weir_compat_level_name(sub->compat) : NULL;
            c.mode = sub->mode >= 0 ? weir_reg_mode_name(sub->mode) : NULL;
            c.compat_floor =
                sub->policy.has_floor ? weir_compat_level_name(sub->policy.floor) : NULL;
            c.approval = sub->policy.approval;
        }
    }
    return weir_regstore_config_put(reg->rs, &c) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Parsing requests                                                         */
/* ------------------------------------------------------------------------ */

typedef struct weir_reg_parsed_s {
    weir_schema_type_t type;
    weir_avro_schema_t *avro;
    weir_json_schema_t *json;
    weir_reg_ref_t *refs; /* resolved (versions made explicit), owned */
    size_t nrefs;
    char identity[65];
} weir_reg_parsed_t;

static void
weir_reg_parsed_free(weir_reg_parsed_t *p)
{
    weir_avro_schema_free(p->avro);
    weir_json_schema_free(p->json);
    for (size_t i = 0; i < p->nrefs; i++) {
        free(p->refs[i].name);
        free(p->refs[i].subject);
    }
    free(p->refs);
    memset(p, 0, sizeof(*p));
}

static void
weir_reg_identity(weir_schema_type_t type, const char *normalized, const weir_reg_ref_t *refs,
                  size_t nrefs, char out[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char dig[32];
    unsigned int len = 0;
    char *rj = weir_reg_refs_json(refs, nrefs);
    const char *tn = weir_schema_type_name(type);

    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, tn, strlen(tn) + 1) != 1 ||
        EVP_DigestUpdate(md, normalized, strlen(normalized) + 1) != 1 ||
        EVP_DigestUpdate(md, rj, strlen(rj)) != 1 || EVP_DigestFinal_ex(md, dig, &len) != 1)
        abort(); /* only out-of-memory makes these fail */
    EVP_MD_CTX_free(md);
    free(rj);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", dig[i]);
}

/* The texts (and names) of the schemas a list of references needs, in
 * dependency order (a reference's own references first). */
typedef struct weir_reg_deps_s {
    const char **names;
    const char **texts;
    size_t *lens;
    const weir_reg_schema_t **seen;
    size_t n, cap;
} weir_reg_deps_t;

static int
weir_reg_collect_deps(weir_registry_t *reg, const weir_reg_ref_t *refs, size_t nrefs,
                      weir_reg_deps_t *d, int depth, weir_reg_err_t *err)
{
    if (depth > 32)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_SCHEMA,
                             "Invalid schema: references nested deeper than 32 levels");
    for (size_t i = 0; i < nrefs; i++) {
        weir_reg_version_t *v = weir_reg_version_find(weir_reg_subject_find(reg, refs[i].subject),
                                                      refs[i].version, false);
        bool dup = false;

        if (!v)
            return weir_reg_fail(err, 422, WEIR_REG_INVALID_SCHEMA,
                                 "Invalid schema: reference %s (subject %s, version %d) not found",
                                 refs[i].name, refs[i].subject, refs[i].version);
        for (size_t k = 0; k < d->n && !dup; k++)
            dup = d->seen[k] == v->schema;
        if (dup)
            continue;
        if (weir_reg_collect_deps(reg, v->schema->refs, v->schema->nrefs, d, depth + 1, err) < 0)
            return -1;
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 4;
            d->names = weir_realloc(d->names, d->cap * sizeof(*d->names));
            d->texts = weir_realloc(d->texts, d->cap * sizeof(*d->texts));
            d->lens = weir_realloc(d->lens, d->cap * sizeof(*d->lens));
            d->seen = weir_realloc(d->seen, d->cap * sizeof(*d->seen));
        }
        d->names[d->n] = refs[i].name;
        d->texts[d->n] = v->schema->text;
        d->lens[d->n] = strlen(v->schema->text);
        d->seen[d->n++] = v->schema;
    }
    return 0;
}

static void
weir_reg_deps_free(weir_reg_deps_t *d)
{
    free(d->names);
    free(d->texts);
    free(d->lens);
    free(d->seen);
}

/* Parses a schema text of a type with its (already resolved) references. */
static int
weir_reg_parse_text(weir_registry_t *reg, weir_schema_type_t type, const char *text, size_t len,
                    const weir_reg_ref_t *refs, size_t nrefs, bool is_new, weir_reg_parsed_t *p,
                    weir_reg_err_t *err)
{
    weir_reg_deps_t d = {0};
    char why[1024];
    const char *normalized;
    int rc;

    p->type = type;
    if (weir_reg_collect_deps(reg, refs, nrefs, &d, 0, err) < 0) {
        weir_reg_deps_free(&d);
        return -1;
    }
    if (type == WEIR_SCHEMA_AVRO) {
        rc = weir_avro_schema_parse(text, len, d.texts, d.lens, d.n,
                                    is_new ? WEIR_AVRO_VALIDATE_DEFAULTS : 0, &p->avro, why,
                                    sizeof(why));
    } else {
        rc = weir_json_schema_parse(text, len, d.names, d.texts, d.lens, d.n, &p->json, why,
                                    sizeof(why));
    }
    weir_reg_deps_free(&d);
    if (rc != 0)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_SCHEMA, "Invalid schema: %s", why);
    normalized =
        type == WEIR_SCHEMA_AVRO ? p->avro->normalized : weir_json_schema_normalized(p->json);
    weir_reg_identity(type, normalized, refs, nrefs, p->identity);
    return 0;
}

/* Parses a request: type, size, references (resolved to explicit
 * versions), the schema itself. */
static int
weir_reg_parse_req(weir_registry_t *reg, const weir_reg_schema_req_t *req, weir_reg_parsed_t *p,
                   weir_reg_err_t *err)
{
    int type = weir_schema_type_parse(req->schema_type);
    size_t len = req->schema ? req->schema_len : 0;

    memset(p, 0, sizeof(*p));
    if (type < 0)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_SCHEMA, "Invalid schema type %s",
                             req->schema_type);
    if (!req->schema || len == 0)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_SCHEMA,
                             "Invalid schema: the schema is empty");
    if (len > reg->max_schema_bytes)
        return weir_reg_fail(err, 422, WEIR_REG_SCHEMA_TOO_LARGE,
                             "Schema too large: %zu bytes, at most %zu", len,
                             reg->max_schema_bytes);
    p->refs = weir_calloc(req->nrefs + 1, sizeof(*p->refs));
    for (size_t i = 0; i < req->nrefs; i++) {
        const weir_reg_ref_t *r = &req->refs[i];
        weir_reg_version_t *v;

        if (!r->name || !r->name[0] || !r->subject || !r->subject[0] ||
            (r->version < 1 && r->version != WEIR_REG_LATEST)) {
            weir_reg_parsed_free(p);
            return weir_reg_fail(err, 422, WEIR_REG_INVALID_SCHEMA,
                                 "Invalid schema: reference %zu needs a name, a subject and a "
                                 "version",
                                 i + 1);
        }
        v = weir_reg_version_find(weir_reg_subject_find(reg, r->subject), r->version, false);
        if (!v) {
            int rc = weir_reg_fail(err, 422, WEIR_REG_INVALID_SCHEMA,
                                   "Invalid schema: reference %s (subject %s, version %d) not "
                                   "found",
                                   r->name, r->subject, r->version);

            weir_reg_parsed_free(p);
            return rc;
        }
        p->refs[i].name = weir_strdup(r->name);
        p->refs[i].subject = weir_strdup(r->subject);
        p->refs[i].version = v->version;
        p->nrefs++;
    }
    if (weir_reg_parse_text(reg, (weir_schema_type_t)type, req->schema, len, p->refs, p->nrefs,
                            true, p, err) < 0) {
        weir_reg_parsed_free(p);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Open / load                                                              */
/* ------------------------------------------------------------------------ */

typedef struct weir_reg_load_s {
    weir_registry_t *reg;
    char **refs_json; /* per loaded schema, by position in reg->schemas at load */
    weir_reg_schema_t **loaded;
    size_t nloaded, cap;
    bool failed;
} weir_reg_load_t;

static void
weir_reg_load_schema(void *arg, const weir_regstore_schema_t *row)
{
    weir_reg_load_t *l = arg;
    weir_reg_schema_t *s = weir_calloc(1, sizeof(*s));

    s->id = row->id;
    s->type = weir_schema_type_parse(row->schema_type) == WEIR_SCHEMA_JSON ? WEIR_SCHEMA_JSON
                                                                           : WEIR_SCHEMA_AVRO;
    s->text = weir_strdup(row->schema_text ? row->schema_text : "");
    snprintf(s->identity, sizeof(s->identity), "%s", row->identity ? row->identity : "");
    if (l->nloaded == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->loaded = weir_realloc(l->loaded, l->cap * sizeof(*l->loaded));
        l->refs_json = weir_realloc(l->refs_json, l->cap * sizeof(*l->refs_json));
    }
    l->refs_json[l->nloaded] = weir_strdup(row->refs ? row->refs : "[]");
    l->loaded[l->nloaded++] = s;
}

static void
weir_reg_load_version(void *arg, const weir_regstore_version_t *row)
{
    weir_reg_load_t *l = arg;
    weir_reg_schema_t *s = NULL;

    for (size_t i = 0; i < l->nloaded && !s; i++)
        if (l->loaded[i]->id == row->schema_id)
            s = l->loaded[i];
    if (!s) {
        WEIR_LOG(WEIR_LOG_ERROR, "registry_load",
                 "reason=\"version of a missing schema\" "
                 "subject=\"%s\" version=%d id=%d",
                 row->subject, row->version, row->schema_id);
        return;
    }
    weir_reg_version_add(weir_reg_subject_get(l->reg, row->subject), row->version, s, row->deleted);
}

static void
weir_reg_load_config(void *arg, const weir_regstore_config_t *row)
{
    weir_reg_load_t *l = arg;
    int compat = weir_compat_level_parse(row->compatibility);
    int mode = weir_reg_mode_parse(row->mode);

    if (strcmp(row->subject, WEIR_REGSTORE_GLOBAL) == 0) {
        l->reg->compat = compat;
        l->reg->mode = mode;
    } else {
        weir_reg_subject_t *sub = weir_reg_subject_get(l->reg, row->subject);
        int floor = weir_compat_level_parse(row->compat_floor);

        sub->compat = compat;
        sub->mode = mode;
        sub->policy.has_floor = floor >= 0;
        sub->policy.floor = floor >= 0 ? (weir_compat_level_t)floor : WEIR_COMPAT_NONE;
        sub->policy.approval = row->approval;
    }
}

/* Parses stored references. */
static void
weir_reg_load_refs(weir_reg_schema_t *s, const char *refs_json)
{
    json_t *a = json_loads(refs_json, 0, NULL), *r;
    size_t i;

    if (!json_is_array(a)) {
        json_decref(a);
        return;
    }
    s->refs = weir_calloc(json_array_size(a) + 1, sizeof(*s->refs));
    json_array_foreach(a, i, r)
    {
        const char *name = json_string_value(json_object_get(r, "name"));
        const char *subj = json_string_value(json_object_get(r, "subject"));

        if (!name || !subj)
            continue;
        s->refs[s->nrefs].name = weir_strdup(name);
        s->refs[s->nrefs].subject = weir_strdup(subj);
        s->refs[s->nrefs++].version = (int32_t)json_integer_value(json_object_get(r, "version"));
    }
    json_decref(a);
}

/* Parses a loaded schema (its references' schemas first). */
static void
weir_reg_load_parse(weir_registry_t *reg, weir_reg_schema_t *s, int depth)
{
    weir_reg_parsed_t p = {0};
    weir_reg_err_t err = {0};

    if (s->avro || s->json || depth > 32)
        return;
    for (size_t i = 0; i < s->nrefs; i++) {
        weir_reg_version_t *v = weir_reg_version_find(
            weir_reg_subject_find(reg, s->refs[i].subject), s->refs[i].version, true);

        if (v && v->schema != s)
            weir_reg_load_parse(reg, v->schema, depth + 1);
    }
    if (weir_reg_parse_text(reg, s->type, s->text, strlen(s->text), s->refs, s->nrefs, false, &p,
                            &err) < 0) {
        WEIR_LOG(WEIR_LOG_WARN, "registry_load",
                 "id=%d reason=\"stored schema does not parse: "
                 "%s\"",
                 s->id, err.message);
        return;
    }
    s->avro = p.avro;
    s->json = p.json;
    memcpy(s->identity, p.identity, sizeof(s->identity));
    p.avro = NULL;
    p.json = NULL;
    weir_reg_parsed_free(&p);
}

int
weir_registry_open(weir_store_t *st, weir_registry_t **out, char *errstr, size_t errstr_size)
{
    weir_registry_t *reg = weir_calloc(1, sizeof(*reg));
    weir_reg_load_t l = {.reg = reg};

    *out = NULL;
    reg->next_id = 1;
    reg->compat = -1;
    reg->mode = -1;
    reg->max_schema_bytes = WEIR_REG_DEFAULT_MAX_SCHEMA_BYTES;
    if (!st) {
        *out = reg;
        return 0;
    }
    if (weir_regstore_open(st, &reg->rs, errstr, errstr_size) < 0) {
        weir_registry_free(reg);
        return WEIR_ERR;
    }
    if (weir_regstore_load(reg->rs, weir_reg_load_schema, weir_reg_load_version,
                           weir_reg_load_config, &l) < 0) {
        snprintf(errstr, errstr_size, "registry: loading the stored schemas failed");
        l.failed = true;
    }
    /* Schemas in id order; references resolve through subjects, so all
     * versions are in place before anything is parsed. */
    for (size_t i = 0; i < l.nloaded; i++) {
        bool found;
        size_t pos;

        weir_reg_load_refs(l.loaded[i], l.refs_json[i]);
        free(l.refs_json[i]);
        pos = weir_reg_schema_pos(reg, l.loaded[i]->id, &found);
        if (reg->nschemas == reg->schemas_cap) {
            reg->schemas_cap = reg->schemas_cap ? reg->schemas_cap * 2 : 32;
            reg->schemas = weir_realloc(reg->schemas, reg->schemas_cap * sizeof(*reg->schemas));
        }
        memmove(&reg->schemas[pos + 1], &reg->schemas[pos],
                (reg->nschemas - pos) * sizeof(*reg->schemas));
        reg->schemas[pos] = l.loaded[i];
        reg->nschemas++;
        if (l.loaded[i]->id >= reg->next_id)
            reg->next_id = l.loaded[i]->id + 1;
    }
    free(l.refs_json);
    free(l.loaded);
    if (l.failed) {
        weir_registry_free(reg);
        return WEIR_ERR;
    }
    for (size_t i = 0; i < reg->nschemas; i++) {
        weir_reg_load_parse(reg, reg->schemas[i], 0);
        weir_reg_ident_add(reg, reg->schemas[i]);
    }
    WEIR_LOG(WEIR_LOG_INFO, "registry_loaded", "schemas=%zu subjects=%zu next_id=%d", reg->nschemas,
             reg->nsubjects, reg->next_id);
    *out = reg;
    return 0;
}

void
weir_registry_free(weir_registry_t *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->nsubjects; i++) {
        free(reg->subjects[i]->versions);
        free(reg->subjects[i]->name);
        free(reg->subjects[i]);
    }
    free(reg->subjects);
    for (size_t i = 0; i < reg->nschemas; i++)
        weir_reg_schema_free(reg->schemas[i]);
    free(reg->schemas);
    free(reg->by_identity);
    weir_regstore_close(reg->rs);
    free(reg);
}

void
weir_registry_set_max_schema_bytes(weir_registry_t *reg, size_t max)
{
    reg->max_schema_bytes = max;
}

uint64_t
weir_registry_generation(const weir_registry_t *reg)
{
    return reg->gen;
}

/* ------------------------------------------------------------------------ */
/* Modes and levels in force                                                */
/* ------------------------------------------------------------------------ */

static weir_reg_mode_t
weir_reg_effective_mode(weir_registry_t *reg, const weir_reg_subject_t *sub)
{
    if (sub && sub->mode >= 0)
        return (weir_reg_mode_t)sub->mode;
    return reg->mode >= 0 ? (weir_reg_mode_t)reg->mode : WEIR_MODE_READWRITE;
}

weir_compat_level_t
weir_registry_effective_compat(weir_registry_t *reg, const char *subject)
{
    weir_reg_subject_t *sub = subject ? weir_reg_subject_find(reg, subject) : NULL;
    weir_compat_level_t level;

    if (sub && sub->compat >= 0)
        level = (weir_compat_level_t)sub->compat;
    else
        level = reg->compat >= 0 ? (weir_compat_level_t)reg->compat : WEIR_COMPAT_DEFAULT;
    if (sub && sub->policy.has_floor && !weir_compat_level_satisfies(level, sub->policy.floor))
        level = sub->policy.floor;
    return level;
}

/* Writes (deletes) need READWRITE. */
static int
weir_reg_check_writable(weir_registry_t *reg, const weir_reg_subject_t *sub, const char *subject,
                        weir_reg_err_t *err)
{
    weir_reg_mode_t m = weir_reg_effective_mode(reg, sub);

    if (m == WEIR_MODE_READONLY || m == WEIR_MODE_READONLY_OVERRIDE)
        return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                             "Subject %s is in read-only mode", subject);
    if (m == WEIR_MODE_IMPORT)
        return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                             "Subject %s is in import mode", subject);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Compatibility                                                            */
/* ------------------------------------------------------------------------ */

static bool
weir_reg_can_read(void *arg, const void *r, const void *w, weir_msgs_t *msgs)
{
    const weir_reg_schema_t *rs = r, *ws = w;

    WEIR_UNUSED(arg);
    if (rs->type != ws->type) {
        weir_msgs_add(msgs, "Incompatible because of different schema type");
        return false;
    }
    if (rs->type == WEIR_SCHEMA_AVRO)
        return rs->avro && ws->avro ? weir_avro_can_read(rs->avro, ws->avro, msgs) : true;
    return rs->json && ws->json ? weir_json_schema_can_read(rs->json, ws->json, msgs) : true;
}

/*
 * Checks cand against the subject's versions that are not soft-deleted
 * (newest first), or against one version, at level.  Stored schemas that
 * no longer parse are skipped.
 */
static bool
weir_reg_check(weir_registry_t *reg, weir_reg_subject_t *sub, const weir_reg_version_t *only,
               weir_compat_level_t level, const weir_reg_schema_t *cand, weir_msgs_t *msgs)
{
    const void **prev = weir_calloc((sub ? sub->nversions : 0) + 1, sizeof(*prev));
    char **labels = weir_calloc((sub ? sub->nversions : 0) + 1, sizeof(*labels));
    size_t n = 0;
    bool ok;

    WEIR_UNUSED(reg);
    for (size_t i = sub ? sub->nversions : 0; i > 0; i--) {
        const weir_reg_version_t *v = &sub->versions[i - 1];

        if (v->deleted || (only && v != only))
            continue;
        if (!v->schema->avro && !v->schema->json)
            continue;
        labels[n] = NULL;
        if (asprintf(&labels[n], "version %d (id %d)", v->version, v->schema->id) < 0)
            abort();
        prev[n++] = v->schema;
    }
    if (only) {
        /* One explicit version: the level's directions against it alone. */
        level = level == WEIR_COMPAT_BACKWARD_TRANSITIVE  ? WEIR_COMPAT_BACKWARD
                : level == WEIR_COMPAT_FORWARD_TRANSITIVE ? WEIR_COMPAT_FORWARD
                : level == WEIR_COMPAT_FULL_TRANSITIVE    ? WEIR_COMPAT_FULL
                                                          : level;
    }
    ok = weir_compat_check(level, cand, prev, (const char *const *)labels, n, weir_reg_can_read,
                           NULL, msgs);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(prev);
    return ok;
}

/* A temporary schema record around a parsed request, for the checks. */
static void
weir_reg_candidate(const weir_reg_parsed_t *p, weir_reg_schema_t *cand)
{
    memset(cand, 0, sizeof(*cand));
    cand->type = p->type;
    cand->avro = p->avro;
    cand->json = p->json;
}

/* ------------------------------------------------------------------------ */
/* Register and lookup                                                      */
/* ------------------------------------------------------------------------ */

static weir_reg_version_t *
weir_reg_find_identity(weir_reg_subject_t *sub, const char *identity, bool deleted)
{
    for (size_t i = sub ? sub->nversions : 0; i > 0; i--) {
        weir_reg_version_t *v = &sub->versions[i - 1];

        if ((deleted || !v->deleted) && strcmp(v->schema->identity, identity) == 0)
            return v;
    }
    return NULL;
}

int
weir_registry_register(weir_registry_t *reg, const char *subject, const weir_reg_schema_req_t *req,
                       weir_reg_result_t *res, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub;
    weir_reg_schema_t *s, cand;
    weir_reg_version_t *existing;
    weir_reg_parsed_t p;
    weir_reg_mode_t mode;
    weir_compat_level_t level;
    int32_t version, id;
    bool new_schema = false, new_subject;

    memset(res, 0, sizeof(*res));
    if (weir_registry_check_subject(subject, err) < 0)
        return -1;
    sub = weir_reg_subject_find(reg, subject);
    mode = weir_reg_effective_mode(reg, sub);
    if (mode == WEIR_MODE_READONLY || mode == WEIR_MODE_READONLY_OVERRIDE)
        return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                             "Subject %s is in read-only mode", subject);
    if (mode == WEIR_MODE_IMPORT && req->id <= 0)
        return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                             "Subject %s is in import mode: registering needs an id", subject);
    if (mode != WEIR_MODE_IMPORT && (req->id > 0 || req->version > 0))
        return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                             "Subject %s is not in import mode", subject);
    if (weir_reg_parse_req(reg, req, &p, err) < 0)
        return -1;

    /* Already registered under the subject: the same id, no new version. */
    existing = weir_reg_find_identity(sub, p.identity, false);
    if (existing && (mode != WEIR_MODE_IMPORT || existing->schema->id == req->id)) {
        res->id = existing->schema->id;
        res->version = existing->version;
        res->existed = true;
        res->schema = existing->schema;
        weir_reg_parsed_free(&p);
        return 0;
    }
    s = weir_reg_by_identity(reg, p.identity);
    if (mode == WEIR_MODE_IMPORT) {
        weir_reg_schema_t *at = weir_reg_schema_find(reg, req->id);

        if ((at && strcmp(at->identity, p.identity) != 0) || (s && s->id != req->id) || existing) {
            weir_reg_parsed_free(&p);
            return weir_reg_fail(err, 422, WEIR_REG_ID_DOES_NOT_MATCH,
                                 "Overwrite new schema with id %d is not permitted.", req->id);
        }
        s = at;
        if (req->version > 0 && weir_reg_version_find(sub, req->version, true)) {
            weir_reg_parsed_free(&p);
            return weir_reg_fail(err, 422, WEIR_REG_ID_DOES_NOT_MATCH,
                                 "Version %d of subject %s already exists", req->version, subject);
        }
    } else {
        level = weir_registry_effective_compat(reg, subject);
        weir_reg_candidate(&p, &cand);
        if (!weir_reg_check(reg, sub, NULL, level, &cand, &err->details)) {
            size_t off;

            weir_reg_fail(err, 409, WEIR_REG_INCOMPATIBLE,
                          "Schema being registered is incompatible with an earlier schema for "
                          "subject \"%s\", details: [",
                          subject);
            off = strlen(err->message);
            for (size_t i = 0; i < err->details.n && off < sizeof(err->message) - 1; i++) {
                int k = snprintf(err->message + off, sizeof(err->message) - off, "%s%s",
                                 i ? ", " : "", err->details.v[i]);

                off = k > 0 ? WEIR_MIN(sizeof(err->message) - 1, off + (size_t)k) : off;
            }
            if (off < sizeof(err->message) - 1)
                snprintf(err->message + off, sizeof(err->message) - off, "%s{compatibility: '%s'}]",
                         err->details.n ? ", " : "", weir_compat_level_name(level));
            weir_reg_parsed_free(&p);
            return -1;
        }
    }

    id = s ? s->id : (mode == WEIR_MODE_IMPORT ? req->id : reg->next_id);
    version =
        mode == WEIR_MODE_IMPORT && req->version > 0 ? req->version : weir_reg_next_version(sub);
    if (req->dry_run) {
        res->id = s ? s->id : 0;
        res->version = version;
        res->schema = s;
        weir_reg_parsed_free(&p);
        return 0;
    }
    if (id <= 0 || id == INT32_MAX) {
        weir_reg_parsed_free(&p);
        return weir_reg_fail(err, 500, WEIR_REG_STORE_ERROR, "Schema id space exhausted");
    }

    /* Apply in memory, then store; undo on a store failure. */
    if (!s) {
        s = weir_calloc(1, sizeof(*s));
        s->id = id;
        s->type = p.type;
        s->text = weir_strndup(req->schema, req->schema_len);
        s->refs = p.refs;
        s->nrefs = p.nrefs;
        memcpy(s->identity, p.identity, sizeof(s->identity));
        s->avro = p.avro;
        s->json = p.json;
        p.refs = NULL;
        p.nrefs = 0;
        p.avro = NULL;
        p.json = NULL;
        weir_reg_schema_insert(reg, s);
        new_schema = true;
    }
    weir_reg_parsed_free(&p);
    new_subject = sub == NULL;
    sub = weir_reg_subject_get(reg, subject);
    weir_reg_version_add(sub, version, s, false);

    if (reg->rs) {
        weir_regstore_version_t vrow = {
            .subject = subject, .version = version, .schema_id = s->id, .deleted = false};
        int rc = weir_regstore_begin(reg->rs);

        if (rc == 0 && new_schema) {
            char *refs = weir_reg_refs_json(s->refs, s->nrefs);
            weir_regstore_schema_t srow = {.id = s->id,
                                           .schema_type = weir_schema_type_name(s->type),
                                           .schema_text = s->text,
                                           .refs = refs,
                                           .identity = s->identity};

            rc = weir_regstore_schema_insert(reg->rs, &srow);
            free(refs);
        }
        if (rc == 0)
            rc = weir_regstore_version_insert(reg->rs, &vrow);
        if (rc == 0)
            rc = weir_regstore_commit(reg->rs);
        else
            weir_regstore_rollback(reg->rs);
        if (rc != 0) {
            weir_reg_version_remove(sub, weir_reg_version_find(sub, version, true));
            if (new_subject)
                weir_reg_subject_gc(reg, sub);
            if (new_schema) {
                weir_reg_schema_unlink(reg, s);
                if (reg->next_id == s->id + 1)
                    reg->next_id = s->id;
                weir_reg_schema_free(s);
            }
            return weir_reg_store_error(err);
        }
    }
    reg->gen++;
    res->id = s->id;
    res->version = version;
    res->schema = s;
    WEIR_LOG(WEIR_LOG_INFO, "schema_registered", "subject=\"%s\" version=%d id=%d type=%s new=%d",
             subject, version, s->id, weir_schema_type_name(s->type), new_schema);
    return 0;
}

int
weir_registry_lookup(weir_registry_t *reg, const char *subject, const weir_reg_schema_req_t *req,
                     bool deleted, weir_reg_result_t *res, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);
    weir_reg_version_t *v;
    weir_reg_parsed_t p;

    memset(res, 0, sizeof(*res));
    if (!sub || (deleted ? sub->nversions == 0 : weir_reg_live_count(sub) == 0))
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_FOUND, "Subject '%s' not found.",
                             subject);
    if (weir_reg_parse_req(reg, req, &p, err) < 0)
        return -1;
    v = weir_reg_find_identity(sub, p.identity, deleted);
    weir_reg_parsed_free(&p);
    if (!v)
        return weir_reg_fail(err, 404, WEIR_REG_SCHEMA_NOT_FOUND, "Schema not found");
    res->id = v->schema->id;
    res->version = v->version;
    res->existed = true;
    res->schema = v->schema;
    return 0;
}

int
weir_registry_schema_by_id(weir_registry_t *reg, int32_t id, const weir_reg_schema_t **out,
                           weir_reg_err_t *err)
{
    weir_reg_schema_t *s = weir_reg_schema_find(reg, id);

    if (!s || s->nversions == 0)
        return weir_reg_fail(err, 404, WEIR_REG_SCHEMA_NOT_FOUND, "Schema %d not found", id);
    *out = s;
    return 0;
}

int
weir_registry_id_versions(weir_registry_t *reg, int32_t id, bool deleted,
                          weir_reg_subject_version_t **out, size_t *n, weir_reg_err_t *err)
{
    weir_reg_schema_t *s = weir_reg_schema_find(reg, id);
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (!s || s->nversions == 0)
        return weir_reg_fail(err, 404, WEIR_REG_SCHEMA_NOT_FOUND, "Schema %d not found", id);
    for (size_t i = 0; i < reg->nsubjects; i++) {
        weir_reg_subject_t *sub = reg->subjects[i];

        for (size_t k = 0; k < sub->nversions; k++) {
            if (sub->versions[k].schema != s || (!deleted && sub->versions[k].deleted))
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 4;
                *out = weir_realloc(*out, cap * sizeof(**out));
            }
            (*out)[*n].subject = sub->name;
            (*out)[*n].version = sub->versions[k].version;
            (*out)[(*n)++].deleted = sub->versions[k].deleted;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Subjects and versions                                                    */
/* ------------------------------------------------------------------------ */

void
weir_registry_subjects(weir_registry_t *reg, const char *prefix, bool deleted, bool deleted_only,
                       const char ***out, size_t *n)
{
    size_t plen = prefix ? strlen(prefix) : 0;

    *out = weir_calloc(reg->nsubjects + 1, sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < reg->nsubjects; i++) {
        weir_reg_subject_t *sub = reg->subjects[i];
        size_t live = weir_reg_live_count(sub);
        bool listed;

        if (plen && strncmp(sub->name, prefix, plen) != 0)
            continue;
        if (deleted_only)
            listed = sub->nversions > live;
        else
            listed = deleted ? sub->nversions > 0 : live > 0;
        if (listed)
            (*out)[(*n)++] = sub->name;
    }
}

int
weir_registry_versions(weir_registry_t *reg, const char *subject, bool deleted, bool deleted_only,
                       int32_t **out, size_t *n, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);

    *out = NULL;
    *n = 0;
    if (sub) {
        *out = weir_calloc(sub->nversions + 1, sizeof(**out));
        for (size_t i = 0; i < sub->nversions; i++) {
            bool del = sub->versions[i].deleted;

            if (deleted_only ? del : (deleted || !del))
                (*out)[(*n)++] = sub->versions[i].version;
        }
    }
    if (*n == 0) {
        free(*out);
        *out = NULL;
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_FOUND, "Subject '%s' not found.",
                             subject);
    }
    return 0;
}

int
weir_registry_get_version(weir_registry_t *reg, const char *subject, int32_t version, bool deleted,
                          const weir_reg_version_t **out, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);
    weir_reg_version_t *v;

    if (!sub || (deleted ? sub->nversions == 0 : weir_reg_live_count(sub) == 0))
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_FOUND, "Subject '%s' not found.",
                             subject);
    v = weir_reg_version_find(sub, version, deleted);
    if (!v) {
        if (version == WEIR_REG_LATEST)
            return weir_reg_fail(err, 404, WEIR_REG_VERSION_NOT_FOUND, "Version latest not found.");
        return weir_reg_fail(err, 404, WEIR_REG_VERSION_NOT_FOUND, "Version %d not found.",
                             version);
    }
    *out = v;
    return 0;
}

/* Schemas that reference (subject, version); live_only: only those with a
 * version that is not soft-deleted. */
static size_t
weir_reg_referrers(weir_registry_t *reg, const char *subject, int32_t version, bool live_only,
                   int32_t **out)
{
    size_t n = 0;

    if (out)
        *out = weir_calloc(reg->nschemas + 1, sizeof(**out));
    for (size_t i = 0; i < reg->nschemas; i++) {
        weir_reg_schema_t *s = reg->schemas[i];
        bool refers = false;

        if (s->nversions == 0)
            continue;
        for (size_t k = 0; k < s->nrefs && !refers; k++)
            refers = s->refs[k].version == version && strcmp(s->refs[k].subject, subject) == 0;
        if (!refers)
            continue;
        if (live_only) {
            bool live = false;

            for (size_t j = 0; j < reg->nsubjects && !live; j++)
                for (size_t k = 0; k < reg->subjects[j]->nversions && !live; k++)
                    live = reg->subjects[j]->versions[k].schema == s &&
                           !reg->subjects[j]->versions[k].deleted;
            if (!live)
                continue;
        }
        if (out)
            (*out)[n] = s->id;
        n++;
    }
    return n;
}

int
weir_registry_referenced_by(weir_registry_t *reg, const char *subject, int32_t version,
                            int32_t **out, size_t *n, weir_reg_err_t *err)
{
    const weir_reg_version_t *v;

    *out = NULL;
    *n = 0;
    if (weir_registry_get_version(reg, subject, version, false, &v, err) < 0)
        return -1;
    *n = weir_reg_referrers(reg, subject, v->version, false, out);
    return 0;
}

int
weir_registry_delete_subject(weir_registry_t *reg, const char *subject, bool permanent,
                             int32_t **out, size_t *n, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);
    size_t live = weir_reg_live_count(sub);
    int saved_compat, saved_mode;

    *out = NULL;
    *n = 0;
    if (!sub || sub->nversions == 0)
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_FOUND, "Subject '%s' not found.",
                             subject);
    if (weir_reg_check_writable(reg, sub, subject, err) < 0)
        return -1;
    if (!permanent && live == 0)
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_SOFT_DELETED,
                             "Subject '%s' was soft deleted.Set permanent=true to delete "
                             "permanently",
                             subject);
    if (permanent && live > 0)
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_SOFT_DELETED,
                             "Subject '%s' was not deleted first before being permanently "
                             "deleted",
                             subject);
    for (size_t i = 0; i < sub->nversions; i++) {
        weir_reg_version_t *v = &sub->versions[i];

        if ((!permanent && v->deleted) ||
            weir_reg_referrers(reg, subject, v->version, !permanent, NULL) == 0)
            continue;
        return weir_reg_fail(err, 422, WEIR_REG_REFERENCE_EXISTS,
                             "One or more references exist to the schema {subject=%s, "
                             "version=%d}",
                             subject, v->version);
    }
    *out = weir_calloc(sub->nversions + 1, sizeof(**out));
    for (size_t i = 0; i < sub->nversions; i++)
        if (permanent || !sub->versions[i].deleted)
            (*out)[(*n)++] = sub->versions[i].version;

    /* Store first (one transaction), then apply. */
    saved_compat = sub->compat;
    saved_mode = sub->mode;
    if (reg->rs) {
        int rc = weir_regstore_begin(reg->rs);

        for (size_t i = 0; rc == 0 && i < *n; i++)
            rc = permanent ? weir_regstore_version_delete(reg->rs, subject, (*out)[i])
                           : weir_regstore_version_set_deleted(reg->rs, subject, (*out)[i], true);
        if (rc == 0 && !permanent) {
            sub->compat = -1;
            sub->mode = -1;
            rc = weir_reg_store_config(reg, subject);
        }
        if (rc == 0)
            rc = weir_regstore_commit(reg->rs);
        else
            weir_regstore_rollback(reg->rs);
        if (rc != 0) {
            sub->compat = saved_compat;
            sub->mode = saved_mode;
            free(*out);
            *out = NULL;
            *n = 0;
            return weir_reg_store_error(err);
        }
    }
    if (permanent) {
        while (sub->nversions)
            weir_reg_version_remove(sub, &sub->versions[sub->nversions - 1]);
        weir_reg_subject_gc(reg, sub);
    } else {
        for (size_t i = 0; i < sub->nversions; i++)
            sub->versions[i].deleted = true;
        /* A soft delete also drops the subject's level and mode. */
        sub->compat = -1;
        sub->mode = -1;
    }
    reg->gen++;
    WEIR_LOG(WEIR_LOG_INFO, "subject_deleted", "subject=\"%s\" permanent=%d versions=%zu", subject,
             permanent, *n);
    return 0;
}

int
weir_registry_delete_version(weir_registry_t *reg, const char *subject, int32_t version,
                             bool permanent, int32_t *deleted_version, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);
    weir_reg_version_t *v;
    int32_t num;

    if (!sub || sub->nversions == 0)
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_FOUND, "Subject '%s' not found.",
                             subject);
    if (weir_reg_check_writable(reg, sub, subject, err) < 0)
        return -1;
    v = weir_reg_version_find(sub, version, permanent);
    if (!v) {
        /* A soft-deleted version asked for by number. */
        weir_reg_version_t *d =
            version != WEIR_REG_LATEST ? weir_reg_version_find(sub, version, true) : NULL;

        if (d && !permanent)
            return weir_reg_fail(err, 404, WEIR_REG_VERSION_SOFT_DELETED,
                                 "Subject '%s' Version %d was soft deleted.Set permanent=true "
                                 "to delete permanently",
                                 subject, version);
        if (version == WEIR_REG_LATEST)
            return weir_reg_fail(err, 404, WEIR_REG_VERSION_NOT_FOUND, "Version latest not found.");
        return weir_reg_fail(err, 404, WEIR_REG_VERSION_NOT_FOUND, "Version %d not found.",
                             version);
    }
    if (permanent && !v->deleted)
        return weir_reg_fail(err, 404, WEIR_REG_VERSION_NOT_SOFT_DELETED,
                             "Subject '%s' Version %d was not deleted first before being "
                             "permanently deleted",
                             subject, v->version);
    num = v->version;
    if (weir_reg_referrers(reg, subject, num, !permanent, NULL) > 0)
        return weir_reg_fail(err, 422, WEIR_REG_REFERENCE_EXISTS,
                             "One or more references exist to the schema {subject=%s, "
                             "version=%d}",
                             subject, num);
    if (reg->rs) {
        int rc = permanent ? weir_regstore_version_delete(reg->rs, subject, num)
                           : weir_regstore_version_set_deleted(reg->rs, subject, num, true);

        if (rc != 0)
            return weir_reg_store_error(err);
    }
    if (permanent) {
        weir_reg_version_remove(sub, v);
        weir_reg_subject_gc(reg, sub);
    } else {
        v->deleted = true;
    }
    reg->gen++;
    *deleted_version = num;
    WEIR_LOG(WEIR_LOG_INFO, "schema_version_deleted", "subject=\"%s\" version=%d permanent=%d",
             subject, num, permanent);
    return 0;
}

int
weir_registry_check_compat(weir_registry_t *reg, const char *subject, int32_t version, bool all,
                           const weir_reg_schema_req_t *req, bool *compatible, weir_msgs_t *msgs,
                           weir_reg_err_t *err)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);
    const weir_reg_version_t *only = NULL;
    weir_reg_schema_t cand;
    weir_reg_parsed_t p;

    *compatible = false;
    if (!all) {
        if (weir_registry_get_version(reg, subject, version, false, &only, err) < 0)
            return -1;
    }
    if (weir_reg_parse_req(reg, req, &p, err) < 0)
        return -1;
    weir_reg_candidate(&p, &cand);
    *compatible =
        weir_reg_check(reg, sub, only, weir_registry_effective_compat(reg, subject), &cand, msgs);
    weir_reg_parsed_free(&p);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Configuration, modes, policy                                             */
/* ------------------------------------------------------------------------ */

int
weir_registry_get_config(weir_registry_t *reg, const char *subject, bool default_to_global,
                         weir_compat_level_t *out, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub;

    if (!subject) {
        *out = reg->compat >= 0 ? (weir_compat_level_t)reg->compat : WEIR_COMPAT_DEFAULT;
        return 0;
    }
    sub = weir_reg_subject_find(reg, subject);
    if (sub && sub->compat >= 0) {
        *out = (weir_compat_level_t)sub->compat;
        return 0;
    }
    if (default_to_global) {
        *out = weir_registry_effective_compat(reg, subject);
        return 0;
    }
    return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_CONFIG_NOT_FOUND,
                         "Subject '%s' does not have subject-level compatibility configured",
                         subject);
}

/* Puts one setting of the registry (sub NULL) or of a subject - its
 * compatibility or mode, -1 for "inherit" - and stores it.  A store failure
 * puts the old value back.  A subject left holding nothing is dropped (one
 * made for this call whose store failed, or one whose last setting was
 * deleted), so sub must not be used after the call. */
static int
weir_reg_put_setting(weir_registry_t *reg, weir_reg_subject_t *sub, int *slot, int value,
                     weir_reg_err_t *err)
{
    int old = *slot;
    int rc;

    *slot = value;
    rc = weir_reg_store_config(reg, sub ? sub->name : NULL);
    if (rc < 0)
        *slot = old;
    if (sub)
        weir_reg_subject_gc(reg, sub);
    if (rc < 0)
        return weir_reg_store_error(err);
    reg->gen++;
    return 0;
}

int
weir_registry_set_config(weir_registry_t *reg, const char *subject, const char *level,
                         bool may_lower_floor, weir_reg_err_t *err)
{
    int l = weir_compat_level_parse(level);
    weir_reg_subject_t *sub;

    if (l < 0)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_COMPATIBILITY,
                             "Invalid compatibility level. Valid values are none, backward, "
                             "forward, full, backward_transitive, forward_transitive, and "
                             "full_transitive");
    if (!subject)
        return weir_reg_put_setting(reg, NULL, &reg->compat, l, err);
    if (weir_registry_check_subject(subject, err) < 0)
        return -1;
    sub = weir_reg_subject_find(reg, subject);
    if (sub && sub->policy.has_floor && !may_lower_floor &&
        !weir_compat_level_satisfies((weir_compat_level_t)l, sub->policy.floor))
        return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                             "Compatibility %s is below the floor %s of subject %s; only an "
                             "administrator may lower it",
                             level, weir_compat_level_name(sub->policy.floor), subject);
    sub = weir_reg_subject_get(reg, subject);
    return weir_reg_put_setting(reg, sub, &sub->compat, l, err);
}

int
weir_registry_delete_config(weir_registry_t *reg, const char *subject,
                            weir_compat_level_t *previous, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub;

    if (!subject) {
        *previous = reg->compat >= 0 ? (weir_compat_level_t)reg->compat : WEIR_COMPAT_DEFAULT;
        return weir_reg_put_setting(reg, NULL, &reg->compat, -1, err);
    }
    sub = weir_reg_subject_find(reg, subject);
    if (!sub || (sub->nversions == 0 && sub->compat < 0))
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_FOUND, "Subject '%s' not found.",
                             subject);
    *previous = weir_registry_effective_compat(reg, subject);
    return weir_reg_put_setting(reg, sub, &sub->compat, -1, err);
}

int
weir_registry_get_mode(weir_registry_t *reg, const char *subject, bool default_to_global,
                       weir_reg_mode_t *out, weir_reg_err_t *err)
{
    weir_reg_subject_t *sub;

    if (!subject) {
        *out = weir_reg_effective_mode(reg, NULL);
        return 0;
    }
    sub = weir_reg_subject_find(reg, subject);
    if (sub && sub->mode >= 0) {
        *out = (weir_reg_mode_t)sub->mode;
        return 0;
    }
    if (default_to_global) {
        *out = weir_reg_effective_mode(reg, NULL);
        return 0;
    }
    return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_MODE_NOT_FOUND,
                         "Subject '%s' does not have subject-level mode configured", subject);
}

int
weir_registry_set_mode(weir_registry_t *reg, const char *subject, const char *mode, bool force,
                       weir_reg_err_t *err)
{
    int m = weir_reg_mode_parse(mode);
    weir_reg_subject_t *sub;

    if (m < 0)
        return weir_reg_fail(err, 422, WEIR_REG_INVALID_MODE,
                             "Invalid mode. Valid values are READWRITE, READONLY, "
                             "READONLY_OVERRIDE, IMPORT");
    if (!subject) {
        if (m == WEIR_MODE_IMPORT && !force) {
            for (size_t i = 0; i < reg->nsubjects; i++)
                if (reg->subjects[i]->nversions)
                    return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                                         "Cannot import since found existing subjects");
        }
        return weir_reg_put_setting(reg, NULL, &reg->mode, m, err);
    }
    if (weir_registry_check_subject(subject, err) < 0)
        return -1;
    sub = weir_reg_subject_find(reg, subject);
    if (m == WEIR_MODE_IMPORT && !force && sub && sub->nversions)
        return weir_reg_fail(err, 422, WEIR_REG_OPERATION_NOT_PERMITTED,
                             "Cannot import since found existing subjects");
    sub = weir_reg_subject_get(reg, subject);
    return weir_reg_put_setting(reg, sub, &sub->mode, m, err);
}

int
weir_registry_delete_mode(weir_registry_t *reg, const char *subject, weir_reg_mode_t *previous,
                          weir_reg_err_t *err)
{
    weir_reg_subject_t *sub;

    if (!subject) {
        *previous = weir_reg_effective_mode(reg, NULL);
        return weir_reg_put_setting(reg, NULL, &reg->mode, -1, err);
    }
    sub = weir_reg_subject_find(reg, subject);
    if (!sub || (sub->nversions == 0 && sub->mode < 0))
        return weir_reg_fail(err, 404, WEIR_REG_SUBJECT_NOT_FOUND, "Subject '%s' not found.",
                             subject);
    *previous = weir_reg_effective_mode(reg, sub);
    return weir_reg_put_setting(reg, sub, &sub->mode, -1, err);
}

void
weir_registry_get_policy(weir_registry_t *reg, const char *subject, weir_reg_policy_t *out)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);

    memset(out, 0, sizeof(*out));
    if (sub)
        *out = sub->policy;
}

int
weir_registry_set_policy(weir_registry_t *reg, const char *subject, const weir_reg_policy_t *policy,
                         weir_reg_err_t *err)
{
    weir_reg_subject_t *sub;
    weir_reg_policy_t old;
    bool created;

    if (weir_registry_check_subject(subject, err) < 0)
        return -1;
    created = weir_reg_subject_find(reg, subject) == NULL;
    sub = weir_reg_subject_get(reg, subject);
    old = sub->policy;
    sub->policy = *policy;
    if (!sub->policy.has_floor)
        sub->policy.floor = WEIR_COMPAT_NONE;
    if (weir_reg_store_config(reg, subject) < 0) {
        sub->policy = old;
        if (created)
            weir_reg_subject_gc(reg, sub);
        return weir_reg_store_error(err);
    }
    weir_reg_subject_gc(reg, sub);
    reg->gen++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Listing and validation                                                   */
/* ------------------------------------------------------------------------ */

void
weir_registry_foreach_version(
    weir_registry_t *reg, const char *prefix, bool deleted, bool latest_only,
    void (*cb)(void *arg, const char *subject, const weir_reg_version_t *v), void *arg)
{
    size_t plen = prefix ? strlen(prefix) : 0;

    for (size_t i = 0; i < reg->nsubjects; i++) {
        weir_reg_subject_t *sub = reg->subjects[i];

        if (plen && strncmp(sub->name, prefix, plen) != 0)
            continue;
        if (latest_only) {
            weir_reg_version_t *v = weir_reg_version_find(sub, WEIR_REG_LATEST, deleted);

            if (v)
                cb(arg, sub->name, v);
            continue;
        }
        for (size_t k = 0; k < sub->nversions; k++)
            if (deleted || !sub->versions[k].deleted)
                cb(arg, sub->name, &sub->versions[k]);
    }
}

const weir_reg_schema_t *
weir_registry_id_in_subject(weir_registry_t *reg, const char *subject, int32_t id)
{
    weir_reg_subject_t *sub = weir_reg_subject_find(reg, subject);

    for (size_t i = sub ? sub->nversions : 0; i > 0; i--) {
        const weir_reg_version_t *v = &sub->versions[i - 1];

        if (!v->deleted && v->schema->id == id)
            return v->schema;
    }
    return NULL;
}

int32_t
weir_registry_max_id(const weir_registry_t *reg)
{
    for (size_t i = reg->nschemas; i > 0; i--)
        if (reg->schemas[i - 1]->nversions)
            return reg->schemas[i - 1]->id;
    return 0;
}
