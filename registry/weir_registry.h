/*
 * weir_registry.h: the Schema Registry model - subjects, their versions,
 * global schema ids, compatibility configuration, modes and the
 * governance policy of each subject - in memory on the loop thread, with
 * every change written to weir.db (governance/weir_store_registry.h).
 *
 * Semantics are Confluent's (fact sheet A1-A8):
 *   - registering a schema already registered (and not soft-deleted) under
 *     the subject answers its id and creates no version; the same schema
 *     under another subject reuses the global id; two texts are the same
 *     schema when their normalized forms (weir_avro_schema.h,
 *     weir_json_schema_compat.h) and their references are equal;
 *   - ids are global, stable and never given to another schema, even after
 *     a permanent delete (the id row stays; registering the same schema
 *     again gets the same id back);
 *   - a new version number is the highest of the subject's versions,
 *     soft-deleted ones included, plus one (numbering restarts at 1 only
 *     after every version was deleted permanently);
 *   - soft-deleted versions are ignored by compatibility checks and
 *     listings unless asked for, and their ids stay readable by id; a
 *     subject soft delete also drops its compatibility and mode settings;
 *     a permanent delete needs a soft delete first;
 *   - compatibility: BACKWARD by default, global or per subject; a
 *     subject's governance floor (if set) raises the level in force to at
 *     least the floor;
 *   - modes READWRITE, READONLY, READONLY_OVERRIDE, IMPORT, global or per
 *     subject: writes need READWRITE, or IMPORT with an explicit id.
 * Not supported: schema contexts (a ":.ctx:" prefix is an ordinary subject
 * name), metadata and rule sets, PROTOBUF.
 *
 * Every call answers a Confluent (HTTP status, error code, message) triple
 * in weir_reg_err_t so HTTP handlers stay thin.  Store writes are short
 * transactions on the loop thread: schema changes are rare, and the store
 * connection runs WAL with synchronous=NORMAL, so a commit does not wait
 * for fsync.  A process crash loses nothing; an operating-system crash or
 * power loss may lose the last registrations (the database stays
 * consistent).  If the store fails, the change is undone in memory and the
 * call answers 500/50001.
 */
#ifndef WEIR_REGISTRY_H
#define WEIR_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_avro_schema.h"
#include "weir_compat.h"
#include "weir_json_schema_compat.h"

/* The store connection (governance/weir_store.h). */
typedef struct weir_store_s weir_store_t;

typedef struct weir_registry_s weir_registry_t;

typedef enum weir_schema_type_e {
    WEIR_SCHEMA_AVRO = 0,
    WEIR_SCHEMA_JSON,
} weir_schema_type_t;

typedef enum weir_reg_mode_e {
    WEIR_MODE_READWRITE = 0,
    WEIR_MODE_READONLY,
    WEIR_MODE_READONLY_OVERRIDE,
    WEIR_MODE_IMPORT,
} weir_reg_mode_t;

/* Confluent's error codes (Errors.java, fact sheet A4). */
#define WEIR_REG_SUBJECT_NOT_FOUND 40401
#define WEIR_REG_VERSION_NOT_FOUND 40402
#define WEIR_REG_SCHEMA_NOT_FOUND 40403
#define WEIR_REG_SUBJECT_SOFT_DELETED 40404
#define WEIR_REG_SUBJECT_NOT_SOFT_DELETED 40405
#define WEIR_REG_VERSION_SOFT_DELETED 40406
#define WEIR_REG_VERSION_NOT_SOFT_DELETED 40407
#define WEIR_REG_SUBJECT_CONFIG_NOT_FOUND 40408
#define WEIR_REG_SUBJECT_MODE_NOT_FOUND 40409
#define WEIR_REG_INCOMPATIBLE 409
#define WEIR_REG_INVALID_SCHEMA 42201
#define WEIR_REG_INVALID_VERSION 42202
#define WEIR_REG_INVALID_COMPATIBILITY 42203
#define WEIR_REG_INVALID_MODE 42204
#define WEIR_REG_OPERATION_NOT_PERMITTED 42205
#define WEIR_REG_REFERENCE_EXISTS 42206
#define WEIR_REG_ID_DOES_NOT_MATCH 42207
#define WEIR_REG_INVALID_SUBJECT 42208
#define WEIR_REG_SCHEMA_TOO_LARGE 42209
#define WEIR_REG_STORE_ERROR 50001

/** Default largest schema text accepted (42209 above). */
#define WEIR_REG_DEFAULT_MAX_SCHEMA_BYTES (1024 * 1024)

/** An error answer: HTTP status, Confluent error code, message. */
typedef struct weir_reg_err_s {
    int status;
    int code;
    char message[2048];
    weir_msgs_t details; /* incompatibility reasons (409), for verbose answers */
} weir_reg_err_t;

/** Frees err->details (the rest needs no freeing). */
void weir_reg_err_clear(weir_reg_err_t *err);

/** A schema reference {"name", "subject", "version"}. */
typedef struct weir_reg_ref_s {
    char *name;
    char *subject;
    int32_t version;
} weir_reg_ref_t;

/** A schema with a global id.  Owned by the registry. */
typedef struct weir_reg_schema_s {
    int32_t id;
    weir_schema_type_t type;
    char *text; /* the original text, as registered */
    weir_reg_ref_t *refs;
    size_t nrefs;
    char identity[65];        /* hex SHA-256 of type, normalized form and references */
    weir_avro_schema_t *avro; /* the parsed form (one of the two) */
    weir_json_schema_t *json;
    size_t nversions; /* version rows using it (soft-deleted included) */
} weir_reg_schema_t;

/** One version of a subject. */
typedef struct weir_reg_version_s {
    int32_t version;
    weir_reg_schema_t *schema;
    bool deleted;
} weir_reg_version_t;

/** What a registration, lookup or compatibility check is given. */
typedef struct weir_reg_schema_req_s {
    const char *schema; /* the text */
    size_t schema_len;
    const char *schema_type; /* "AVRO" (or NULL), "JSON"; anything else is 42201 */
    const weir_reg_ref_t *refs;
    size_t nrefs;
    int32_t id;      /* IMPORT mode: the id to use; 0 = none */
    int32_t version; /* IMPORT mode: the version to use; 0 = next */
    bool dry_run;    /* register: check everything, write nothing */
} weir_reg_schema_req_t;

/** The outcome of a registration or lookup. */
typedef struct weir_reg_result_s {
    int32_t id;
    int32_t version;
    bool existed; /* register: already registered under the subject */
    const weir_reg_schema_t *schema;
} weir_reg_result_t;

/** Version selectors in addition to 1..2^31-1. */
#define WEIR_REG_LATEST (-1)

/**
 * @brief Creates a registry; with st it loads everything stored there and
 *        writes every change to it (st must outlive the registry).  st may
 *        be NULL (memory only, for tests).
 * @returns 0, or an error with errstr set (a stored schema that no longer
 *          parses is logged and kept, readable but not checked against).
 */
int weir_registry_open(weir_store_t *st, weir_registry_t **out, char *errstr, size_t errstr_size);
void weir_registry_free(weir_registry_t *reg);

/** Largest schema text accepted (default WEIR_REG_DEFAULT_MAX_SCHEMA_BYTES). */
void weir_registry_set_max_schema_bytes(weir_registry_t *reg, size_t max);

/* ------------------------------------------------------------------ */
/* Parsing request values                                              */

/**
 * @brief Parses a {version} path value: 1..2^31-1, "latest" or "-1"
 *        (WEIR_REG_LATEST).
 * @returns 0, or -1 with 422/42202 in err.
 */
int weir_registry_parse_version(const char *s, int32_t *out, weir_reg_err_t *err);

/** Checks a subject name (42208: empty, control characters, reserved names). */
int weir_registry_check_subject(const char *subject, weir_reg_err_t *err);

/** Mode names. */
const char *weir_reg_mode_name(weir_reg_mode_t m);
int weir_reg_mode_parse(const char *s);
/** Schema type names ("AVRO", "JSON"). */
const char *weir_schema_type_name(weir_schema_type_t t);

/* ------------------------------------------------------------------ */
/* Schemas                                                             */

/**
 * @brief POST /subjects/{subject}/versions.  Validates the schema (42201),
 *        checks the mode (42205, 42207 in IMPORT), answers the existing id
 *        when already registered, else checks compatibility (409 with the
 *        reasons in err->details) and adds a version.
 * @returns 0 with *res filled, or -1 with err filled.
 */
int weir_registry_register(weir_registry_t *reg, const char *subject,
                           const weir_reg_schema_req_t *req, weir_reg_result_t *res,
                           weir_reg_err_t *err);

/**
 * @brief POST /subjects/{subject}: the version of the subject holding this
 *        schema (40401 no subject, 40403 not under it; deleted: soft-deleted
 *        versions count too).
 */
int weir_registry_lookup(weir_registry_t *reg, const char *subject,
                         const weir_reg_schema_req_t *req, bool deleted, weir_reg_result_t *res,
                         weir_reg_err_t *err);

/** GET /schemas/ids/{id}: 40403 unless some version (soft-deleted too) uses it. */
int weir_registry_schema_by_id(weir_registry_t *reg, int32_t id, const weir_reg_schema_t **out,
                               weir_reg_err_t *err);

/** A (subject, version) pair. */
typedef struct weir_reg_subject_version_s {
    const char *subject;
    int32_t version;
    bool deleted;
} weir_reg_subject_version_t;

/**
 * @brief GET /schemas/ids/{id}/versions and /subjects: every (subject,
 *        version) using the id, subject then version order; soft-deleted
 *        ones only when deleted.  *out is malloc'ed (strings belong to the
 *        registry until its next change).
 */
int weir_registry_id_versions(weir_registry_t *reg, int32_t id, bool deleted,
                              weir_reg_subject_version_t **out, size_t *n, weir_reg_err_t *err);

/* ------------------------------------------------------------------ */
/* Subjects and versions                                               */

/**
 * @brief GET /subjects: names in order (malloc'ed array of registry-owned
 *        strings).  A subject is listed when it has a version that is not
 *        soft-deleted, or any version with deleted; deleted_only lists the
 *        subjects that have soft-deleted versions.  prefix may be NULL.
 */
void weir_registry_subjects(weir_registry_t *reg, const char *prefix, bool deleted,
                            bool deleted_only, const char ***out, size_t *n);

/** GET /subjects/{s}/versions: version numbers (malloc'ed); 40401 when none. */
int weir_registry_versions(weir_registry_t *reg, const char *subject, bool deleted,
                           bool deleted_only, int32_t **out, size_t *n, weir_reg_err_t *err);

/**
 * @brief GET /subjects/{s}/versions/{v}: 40401, 40402.  WEIR_REG_LATEST is
 *        the newest version (not soft-deleted unless deleted).
 */
int weir_registry_get_version(weir_registry_t *reg, const char *subject, int32_t version,
                              bool deleted, const weir_reg_version_t **out, weir_reg_err_t *err);

/** GET .../versions/{v}/referencedby: ids of schemas referencing it (malloc'ed). */
int weir_registry_referenced_by(weir_registry_t *reg, const char *subject, int32_t version,
                                int32_t **out, size_t *n, weir_reg_err_t *err);

/**
 * @brief DELETE /subjects/{s}[?permanent=true]: the versions deleted
 *        (malloc'ed).  40401, 40404, 40405, 42205, 42206.
 */
int weir_registry_delete_subject(weir_registry_t *reg, const char *subject, bool permanent,
                                 int32_t **out, size_t *n, weir_reg_err_t *err);

/** DELETE /subjects/{s}/versions/{v}[?permanent=true]: 40401, 40402, 40406, 40407, 42205, 42206. */
int weir_registry_delete_version(weir_registry_t *reg, const char *subject, int32_t version,
                                 bool permanent, int32_t *deleted_version, weir_reg_err_t *err);

/**
 * @brief POST /compatibility/subjects/{s}/versions[/{v}]: checks the schema
 *        against version v (WEIR_REG_LATEST) or, with all, against every
 *        version the subject's level requires; reasons go to msgs (may be
 *        NULL).  40401/40402 for an unknown subject or version given
 *        explicitly; a subject with no versions is compatible.
 */
int weir_registry_check_compat(weir_registry_t *reg, const char *subject, int32_t version, bool all,
                               const weir_reg_schema_req_t *req, bool *compatible,
                               weir_msgs_t *msgs, weir_reg_err_t *err);

/* ------------------------------------------------------------------ */
/* Configuration, modes and policy                                     */

/**
 * @brief GET /config[/{s}]: subject NULL for the global level.  A subject
 *        without its own level is 40408 unless default_to_global.
 */
int weir_registry_get_config(weir_registry_t *reg, const char *subject, bool default_to_global,
                             weir_compat_level_t *out, weir_reg_err_t *err);

/**
 * @brief PUT /config[/{s}] (42203 for an unknown level).  A level below the
 *        subject's floor is refused with 42205 unless may_lower_floor.
 */
int weir_registry_set_config(weir_registry_t *reg, const char *subject, const char *level,
                             bool may_lower_floor, weir_reg_err_t *err);

/** DELETE /config[/{s}]: the level in force before (40401 unknown subject). */
int weir_registry_delete_config(weir_registry_t *reg, const char *subject,
                                weir_compat_level_t *previous, weir_reg_err_t *err);

/** The level registrations under subject are checked at. */
weir_compat_level_t weir_registry_effective_compat(weir_registry_t *reg, const char *subject);

/** GET /mode[/{s}]: 40409 for a subject without its own mode unless default_to_global. */
int weir_registry_get_mode(weir_registry_t *reg, const char *subject, bool default_to_global,
                           weir_reg_mode_t *out, weir_reg_err_t *err);

/** PUT /mode[/{s}]: 42204 unknown mode; IMPORT over existing subjects needs force (42205). */
int weir_registry_set_mode(weir_registry_t *reg, const char *subject, const char *mode, bool force,
                           weir_reg_err_t *err);

/** DELETE /mode[/{s}]: the mode in force before. */
int weir_registry_delete_mode(weir_registry_t *reg, const char *subject, weir_reg_mode_t *previous,
                              weir_reg_err_t *err);

/** The governance policy of a subject. */
typedef struct weir_reg_policy_s {
    bool has_floor;
    weir_compat_level_t floor; /* the lowest level the subject may run at */
    bool approval;             /* new versions need an admin's approval */
} weir_reg_policy_t;

/** The policy of a subject (all unset when none). */
void weir_registry_get_policy(weir_registry_t *reg, const char *subject, weir_reg_policy_t *out);
/** Sets the policy of a subject (admins; the caller authorizes and audits). */
int weir_registry_set_policy(weir_registry_t *reg, const char *subject,
                             const weir_reg_policy_t *policy, weir_reg_err_t *err);

/* ------------------------------------------------------------------ */
/* Listing and broker-side validation                                  */

/**
 * @brief GET /schemas: calls cb for the versions of subjects starting with
 *        prefix (NULL: all), subject then version order, soft-deleted ones
 *        when deleted, the latest only with latest_only.
 */
void weir_registry_foreach_version(
    weir_registry_t *reg, const char *prefix, bool deleted, bool latest_only,
    void (*cb)(void *arg, const char *subject, const weir_reg_version_t *v), void *arg);

/**
 * @brief Whether schema id is registered under subject with a version that
 *        is not soft-deleted (what broker-side validation requires); the
 *        schema when it is.
 */
const weir_reg_schema_t *weir_registry_id_in_subject(weir_registry_t *reg, const char *subject,
                                                     int32_t id);

/** The highest id that some version (soft-deleted too) uses; 0 if none. */
int32_t weir_registry_max_id(const weir_registry_t *reg);

/** A change counter, bumped by every change (for caches). */
uint64_t weir_registry_generation(const weir_registry_t *reg);

#endif
