/*
 * weir_acl.h: ACL bindings in Apache Kafka's model and their evaluation.
 *
 * A binding reads "principal P is ALLOWed/DENYed operation O from host H on
 * resource pattern R", R being a resource type (TOPIC, GROUP, CLUSTER,
 * TRANSACTIONAL_ID) with a LITERAL name ("*" matching every name of the
 * type) or a PREFIXED name.  The numeric codes are Kafka's, as they travel
 * in CreateAcls/DescribeAcls/DeleteAcls.
 *
 * Evaluation follows Kafka's authorizer exactly:
 *   - the bindings that apply to a resource are its literal ones, the
 *     literal "*" ones of its type and the prefixed ones whose prefix starts
 *     its name;
 *   - a principal matches a binding naming it (User:<name>), one of its
 *     groups (Group:<name>, Weir's LDAP groups as in Confluent's LDAP
 *     authorizer) or User:*; the host matches "*" or the exact client address;
 *   - any matching DENY for the operation (or ALL) wins;
 *   - otherwise any matching ALLOW for the operation (or ALL) allows, where
 *     READ, WRITE, DELETE and ALTER also allow DESCRIBE and ALTER_CONFIGS
 *     also allows DESCRIBE_CONFIGS (implication applies to ALLOW only: a
 *     DENY READ does not deny DESCRIBE);
 *   - otherwise, if bindings exist for the resource, it is denied, and if
 *     none exist the caller applies allow.everyone.if.no.acl.found.
 * Super users and the admin group are the caller's business (weir_authz.h).
 *
 * Nothing here touches SQL or the loop: the index is a plain in-memory
 * structure owned by one thread.
 */
#ifndef WEIR_ACL_H
#define WEIR_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's ResourceType codes. */
typedef enum weir_acl_res_e {
    WEIR_ACL_RES_UNKNOWN = 0,
    WEIR_ACL_RES_ANY = 1, /* filters only */
    WEIR_ACL_RES_TOPIC = 2,
    WEIR_ACL_RES_GROUP = 3,
    WEIR_ACL_RES_CLUSTER = 4,
    WEIR_ACL_RES_TRANSACTIONAL_ID = 5,
    WEIR_ACL_RES_DELEGATION_TOKEN = 6,
    WEIR_ACL_RES_USER = 7,
} weir_acl_res_t;

/* Kafka's PatternType codes. */
typedef enum weir_acl_pat_e {
    WEIR_ACL_PAT_UNKNOWN = 0,
    WEIR_ACL_PAT_ANY = 1,   /* filters only: any pattern type, name compared exactly */
    WEIR_ACL_PAT_MATCH = 2, /* filters only: the bindings that would apply to the name */
    WEIR_ACL_PAT_LITERAL = 3,
    WEIR_ACL_PAT_PREFIXED = 4,
} weir_acl_pat_t;

/* Kafka's AclOperation codes. */
typedef enum weir_acl_op_e {
    WEIR_ACL_OP_UNKNOWN = 0,
    WEIR_ACL_OP_ANY = 1, /* filters only */
    WEIR_ACL_OP_ALL = 2,
    WEIR_ACL_OP_READ = 3,
    WEIR_ACL_OP_WRITE = 4,
    WEIR_ACL_OP_CREATE = 5,
    WEIR_ACL_OP_DELETE = 6,
    WEIR_ACL_OP_ALTER = 7,
    WEIR_ACL_OP_DESCRIBE = 8,
    WEIR_ACL_OP_CLUSTER_ACTION = 9,
    WEIR_ACL_OP_DESCRIBE_CONFIGS = 10,
    WEIR_ACL_OP_ALTER_CONFIGS = 11,
    WEIR_ACL_OP_IDEMPOTENT_WRITE = 12,
    WEIR_ACL_OP_CREATE_TOKENS = 13,
    WEIR_ACL_OP_DESCRIBE_TOKENS = 14,
} weir_acl_op_t;

/* Kafka's AclPermissionType codes. */
typedef enum weir_acl_perm_e {
    WEIR_ACL_PERM_UNKNOWN = 0,
    WEIR_ACL_PERM_ANY = 1, /* filters only */
    WEIR_ACL_PERM_DENY = 2,
    WEIR_ACL_PERM_ALLOW = 3,
} weir_acl_perm_t;

/** The name of the CLUSTER resource, as in Kafka. */
#define WEIR_ACL_CLUSTER_NAME "kafka-cluster"
/** Longest resource name, principal or host accepted in a binding. */
#define WEIR_ACL_MAX_FIELD 4096

/** One ACL binding.  Strings are NUL-terminated and contain no NUL. */
typedef struct weir_acl_binding_s {
    int64_t id;          /* row id in the store; 0 before it is stored */
    int8_t res_type;     /* weir_acl_res_t */
    int8_t pattern;      /* LITERAL or PREFIXED */
    char *name;          /* resource name or prefix */
    char *principal;     /* "User:alice", "Group:stream-team", "User:*" */
    char *host;          /* "*" or a client address */
    int8_t op;           /* weir_acl_op_t */
    int8_t perm;         /* ALLOW or DENY */
} weir_acl_binding_t;

/**
 * A binding filter (DescribeAcls, DeleteAcls): NULL strings match anything;
 * res_type ANY, pattern ANY/MATCH, op ANY and perm ANY match anything of
 * their kind.
 */
typedef struct weir_acl_filter_s {
    int8_t res_type;
    int8_t pattern;
    const char *name;
    const char *principal;
    const char *host;
    int8_t op;
    int8_t perm;
} weir_acl_filter_t;

/** Who is asking: a user, its groups and the client address. */
typedef struct weir_acl_subject_s {
    const char *user;          /* without "User:" */
    char *const *groups;       /* without "Group:" */
    size_t ngroups;
    const char *host;
} weir_acl_subject_t;

/** The outcome of evaluating the bindings for one request. */
typedef enum weir_acl_result_e {
    WEIR_ACL_NONE = 0,     /* no binding applies to the resource: the default rule decides */
    WEIR_ACL_ALLOWED,      /* a matching ALLOW and no matching DENY */
    WEIR_ACL_DENIED,       /* a matching DENY */
    WEIR_ACL_NO_MATCH,     /* bindings apply to the resource, none allows this principal */
} weir_acl_result_t;

/* ------------------------------------------------------------------ */
/* Names and validation                                               */

/** Kafka's upper-case names ("TOPIC", "LITERAL", "DESCRIBE_CONFIGS", "ALLOW"). */
const char *weir_acl_res_name(int code);
const char *weir_acl_pat_name(int code);
const char *weir_acl_op_name(int code);
const char *weir_acl_perm_name(int code);
/** Parses those names (case-insensitive); returns the code or -1. */
int weir_acl_res_parse(const char *s);
int weir_acl_pat_parse(const char *s);
int weir_acl_op_parse(const char *s);
int weir_acl_perm_parse(const char *s);

/**
 * @brief Checks that a binding may be stored: concrete resource type,
 *        pattern LITERAL or PREFIXED, concrete operation valid for the
 *        resource type and permission, principal "User:<name>",
 *        "Group:<name>" or "User:*", non-empty host and name, the CLUSTER
 *        resource named kafka-cluster, every field at most
 *        WEIR_ACL_MAX_FIELD bytes.
 * @returns 0, or -1 with the reason in err (Kafka answers INVALID_REQUEST).
 */
int weir_acl_binding_validate(const weir_acl_binding_t *b, char *err, size_t errsz);

/** Checks the enum fields of a filter (no UNKNOWN codes); 0 or -1 with err. */
int weir_acl_filter_validate(const weir_acl_filter_t *f, char *err, size_t errsz);

/** Kafka's filter semantics (ResourcePatternFilter + AccessControlEntryFilter). */
bool weir_acl_filter_matches(const weir_acl_filter_t *f, const weir_acl_binding_t *b);

/** Deep copy (dst's previous contents are not freed). */
void weir_acl_binding_copy(weir_acl_binding_t *dst, const weir_acl_binding_t *src);
/** Frees the strings of b (b itself is not freed). */
void weir_acl_binding_clear(weir_acl_binding_t *b);
/**
 * @brief Formats b for logs and the audit log, e.g.
 *        "TOPIC:LITERAL:orders User:alice@* ALLOW READ" (fields as stored).
 */
void weir_acl_binding_format(const weir_acl_binding_t *b, char *out, size_t size);

/* ------------------------------------------------------------------ */
/* The index                                                          */

typedef struct weir_acl_index_s weir_acl_index_t;

weir_acl_index_t *weir_acl_index_new(void);
void weir_acl_index_free(weir_acl_index_t *idx);

/**
 * @brief Adds a copy of b (b->id must be unique and positive).
 * @returns 0, or -EEXIST if a binding with that id is already present
 *          (nothing changes: adding is idempotent by id).
 */
int weir_acl_index_add(weir_acl_index_t *idx, const weir_acl_binding_t *b);
/** Removes the binding with this id; -ENOENT if there is none. */
int weir_acl_index_remove(weir_acl_index_t *idx, int64_t id);
/** Number of bindings. */
size_t weir_acl_index_count(const weir_acl_index_t *idx);
/** The binding with this id, or NULL. */
const weir_acl_binding_t *weir_acl_index_get(const weir_acl_index_t *idx, int64_t id);
/** Calls cb for every binding matching f (NULL: all), in id order. */
void weir_acl_index_foreach(const weir_acl_index_t *idx, const weir_acl_filter_t *f,
                            void (*cb)(void *arg, const weir_acl_binding_t *b), void *arg);
/** The id of a binding equal to b in every field but the id, or 0. */
int64_t weir_acl_index_find(const weir_acl_index_t *idx, const weir_acl_binding_t *b);

/**
 * @brief Evaluates op on the resource (res_type, name[0..len)) for s, with
 *        Kafka's rules (see the file comment).  Cost: one hash lookup for
 *        the literal name, one for "*", one per distinct prefix length.
 */
weir_acl_result_t weir_acl_evaluate(const weir_acl_index_t *idx, const weir_acl_subject_t *s,
                                    int res_type, const char *name, size_t len, int op);

/**
 * @brief Kafka's authorizeByResourceType (KIP-679): whether s would be
 *        allowed op on at least one resource of res_type - an ALLOW for it
 *        (or ALL) that no DENY of the same principal covers.  Used for
 *        IDEMPOTENT_WRITE, which WRITE on any topic implies.
 * @returns WEIR_ACL_ALLOWED, WEIR_ACL_DENIED (a literal "*" DENY), or
 *          WEIR_ACL_NONE when the type has no bindings at all, else
 *          WEIR_ACL_NO_MATCH.
 */
weir_acl_result_t weir_acl_evaluate_any(const weir_acl_index_t *idx,
                                        const weir_acl_subject_t *s, int res_type, int op);

#endif
