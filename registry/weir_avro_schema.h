/*
 * weir_avro_schema.h: Avro schemas for the Schema Registry, parsed from the
 * original schema text with jansson into Weir's own tree (avro-c drops
 * defaults, aliases and logical types on parse, see the fact sheet B5).
 *
 * The tree keeps every attribute the Avro specification defines (named types
 * with namespaces resolved to full names, aliases, docs, field defaults and
 * order, enum defaults, fixed sizes, logical types and any other property),
 * references between named types point to the one defining node (so
 * recursive types are cycles in the graph), and schemas given as Confluent
 * references are parsed into the same name table first.
 *
 * Validation follows the specification and Avro-Java's parser (which is what
 * Confluent runs): a schema that fails is answered with 42201.  A schema that
 * passes is also given to avro-c (avro_schema_from_json_length) in a
 * self-contained, fully-qualified form, because avro-c is what decodes
 * payloads for broker-side validation; avro-c refusing it is also a 42201.
 *
 * Three serialisations are produced at parse time:
 *   - the Parsing Canonical Form of the specification and its 64-bit Rabin
 *     fingerprint (CRC-64-AVRO), for interoperability;
 *   - the normalized form, which decides when two schema texts are the same
 *     schema (they then share one global id): full names everywhere, a fixed
 *     attribute order, no whitespace, primitives without properties written
 *     as bare names, field order "ascending" written as absent, aliases as a
 *     sorted set - but docs, defaults, aliases, logical types and every
 *     other property kept.  This is the equivalence of Avro-Java's
 *     Schema.equals plus Confluent's metaEqual (docs, aliases, enum default),
 *     which Confluent uses to answer "already registered";
 *   - the form given to avro-c.
 */
#ifndef WEIR_AVRO_SCHEMA_H
#define WEIR_AVRO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <avro.h>
#include <jansson.h>

/** Deepest nesting of schemas inside one another that a schema may have. */
#define WEIR_AVRO_MAX_DEPTH 128

typedef enum weir_avro_type_e {
    WEIR_AVRO_NULL = 0,
    WEIR_AVRO_BOOLEAN,
    WEIR_AVRO_INT,
    WEIR_AVRO_LONG,
    WEIR_AVRO_FLOAT,
    WEIR_AVRO_DOUBLE,
    WEIR_AVRO_BYTES,
    WEIR_AVRO_STRING,
    WEIR_AVRO_RECORD,
    WEIR_AVRO_ENUM,
    WEIR_AVRO_FIXED,
    WEIR_AVRO_ARRAY,
    WEIR_AVRO_MAP,
    WEIR_AVRO_UNION,
} weir_avro_type_t;

typedef struct weir_avro_node_s weir_avro_node_t;

/** One field of a record. */
typedef struct weir_avro_field_s {
    char *name;
    weir_avro_node_t *type;
    json_t *default_value; /* NULL: no default; a JSON null default is json_null() */
    char *doc;             /* NULL when absent */
    char *order;           /* "ascending", "descending", "ignore"; NULL when absent */
    char **aliases;        /* as written (field aliases have no namespace) */
    size_t naliases;
    json_t *props; /* other attributes (object), NULL when none */
} weir_avro_field_t;

/** One schema node.  Named types exist once per schema; references to them
 * are pointers to the defining node. */
struct weir_avro_node_s {
    weir_avro_type_t type;
    bool is_error; /* a record declared as "error" */
    bool from_ref; /* defined by a referenced schema, not by this one */
    int named_idx; /* index in the schema's named-type table, -1 if unnamed */
    /* Named types (record, enum, fixed). */
    char *fullname;
    char *name;     /* the simple name */
    char *space;    /* NULL: the null namespace */
    char **aliases; /* full names */
    size_t naliases;
    char *doc;
    /* Record. */
    weir_avro_field_t *fields;
    size_t nfields;
    /* Enum. */
    char **symbols;
    size_t nsymbols;
    char *enum_default; /* NULL when absent */
    /* Fixed. */
    int32_t size;
    /* Array items or map values. */
    weir_avro_node_t *child;
    /* Union. */
    weir_avro_node_t **branches;
    size_t nbranches;
    /* Any schema: the logicalType attribute (points into props) and every
     * attribute the specification does not reserve. */
    const char *logical_type;
    json_t *props;
};

/** A parsed schema.  Immutable once parsed. */
typedef struct weir_avro_schema_s {
    weir_avro_node_t *root;
    weir_avro_node_t **nodes; /* every node, owned */
    size_t nnodes, nodes_cap;
    weir_avro_node_t **named; /* named types by definition order */
    size_t nnamed, named_cap;
    char *canonical;     /* Parsing Canonical Form */
    uint64_t rabin;      /* CRC-64-AVRO of canonical */
    char *normalized;    /* the equivalence form (see above) */
    char *avroc_json;    /* the text avro-c parsed */
    avro_schema_t avroc; /* NULL if parsed with WEIR_AVRO_NO_AVROC */
} weir_avro_schema_t;

/** Parse flags. */
#define WEIR_AVRO_VALIDATE_DEFAULTS 0x1 /* check field defaults against their types */
#define WEIR_AVRO_NO_AVROC 0x2          /* skip avro-c (unit tests of odd schemas) */

/**
 * Parses and validates a schema.
 *
 * @param text, len   the schema text (JSON)
 * @param refs, ref_lens, nrefs  texts of the schemas this one references
 *                    (Confluent references), in dependency order: each may
 *                    use names defined by the ones before it.  May be NULL/0.
 * @param flags       WEIR_AVRO_* flags.  Confluent validates defaults of new
 *                    schemas only, so register passes VALIDATE_DEFAULTS and
 *                    loading stored schemas does not.
 * @returns 0 with *out set, or WEIR_EPARSE with a message in err (what the
 *          registry answers with 42201).
 */
int weir_avro_schema_parse(const char *text, size_t len, const char *const *refs,
                           const size_t *ref_lens, size_t nrefs, unsigned flags,
                           weir_avro_schema_t **out, char *err, size_t errsz);

/** Frees a schema (NULL is fine). */
void weir_avro_schema_free(weir_avro_schema_t *s);

/** Looks a named type up by full name; NULL if the schema has none. */
weir_avro_node_t *weir_avro_schema_find(const weir_avro_schema_t *s, const char *fullname);

/** The specification's name of a type ("record", "int", ...). */
const char *weir_avro_type_name(weir_avro_type_t t);

/** True for null, boolean, int, long, float, double, bytes and string. */
bool weir_avro_type_is_primitive(weir_avro_type_t t);

/** CRC-64-AVRO (the specification's 64-bit Rabin fingerprint) of bytes. */
uint64_t weir_avro_rabin(const void *buf, size_t len);

/**
 * The specification's other fingerprints of the Parsing Canonical Form:
 * MD5 (16 bytes) and SHA-256 (32 bytes).  Returns 0 or WEIR_ERR.
 */
int weir_avro_fingerprint_md5(const weir_avro_schema_t *s, unsigned char out[16]);
int weir_avro_fingerprint_sha256(const weir_avro_schema_t *s, unsigned char out[32]);

/**
 * Checks that a JSON value is a valid default for a schema node (Avro-Java's
 * rules: a union's default belongs to its first branch, a record's default
 * is an object whose missing fields have defaults of their own).
 */
bool weir_avro_default_valid(const weir_avro_node_t *n, const json_t *v);

#endif
