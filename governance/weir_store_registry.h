/*
 * weir_store_registry.h: the Schema Registry's tables in weir.db behind a
 * typed API (registry/weir_registry.c is its only user).
 *
 *   registry_schemas   one row per global schema id, kept for ever so an id
 *                      is never given to another schema: type, the original
 *                      text, references, identity (SHA-256 of the type, the
 *                      normalized form and the references);
 *   registry_versions  (subject, version) -> schema id, soft-deleted flag;
 *                      a permanent delete removes the row;
 *   registry_config    per subject (and '__GLOBAL'): compatibility level
 *                      and mode when set, and the governance policy (the
 *                      compatibility floor and the approval switch).
 *
 * The statements are prepared on a weir_store_t connection (migrated by
 * weir_store_open) and used by one thread.  Each write is its own short
 * transaction unless made between weir_regstore_begin and _commit, which
 * the registry does so that a registration (schema row + version row) is
 * one transaction.  The connection's synchronous setting applies: the
 * broker's store runs WAL with synchronous=NORMAL, so commits do not wait
 * for fsync (see registry/weir_registry.h).
 */
#ifndef WEIR_STORE_REGISTRY_H
#define WEIR_STORE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_store.h"

typedef struct weir_regstore_s weir_regstore_t;

/** The subject name under which the global settings are kept. */
#define WEIR_REGSTORE_GLOBAL "__GLOBAL"

/*
 * The migration that creates the tables (weir_store.c runs it in its list;
 * it is defined here so the registry's schema lives next to its API).
 */
#define WEIR_STORE_REGISTRY_MIGRATION                                                              \
    "CREATE TABLE registry_schemas ("                                                              \
    "  id          INTEGER PRIMARY KEY NOT NULL CHECK (id > 0),"                                   \
    "  schema_type TEXT NOT NULL,"                                                                 \
    "  schema_text TEXT NOT NULL,"                                                                 \
    "  refs        TEXT NOT NULL,"                                                                 \
    "  identity    TEXT NOT NULL,"                                                                 \
    "  created_ms  INTEGER NOT NULL"                                                               \
    ");"                                                                                           \
    "CREATE TABLE registry_versions ("                                                             \
    "  subject    TEXT NOT NULL,"                                                                  \
    "  version    INTEGER NOT NULL CHECK (version > 0),"                                           \
    "  schema_id  INTEGER NOT NULL REFERENCES registry_schemas(id),"                               \
    "  deleted    INTEGER NOT NULL DEFAULT 0,"                                                     \
    "  created_ms INTEGER NOT NULL,"                                                               \
    "  PRIMARY KEY (subject, version)"                                                             \
    ");"                                                                                           \
    "CREATE INDEX registry_versions_by_schema ON registry_versions (schema_id);"                   \
    "CREATE TABLE registry_config ("                                                               \
    "  subject       TEXT PRIMARY KEY NOT NULL,"                                                   \
    "  compatibility TEXT,"                                                                        \
    "  mode          TEXT,"                                                                        \
    "  compat_floor  TEXT,"                                                                        \
    "  approval      INTEGER NOT NULL DEFAULT 0"                                                   \
    ");"

/** One stored schema (strings valid during the callback only). */
typedef struct weir_regstore_schema_s {
    int32_t id;
    const char *schema_type;
    const char *schema_text;
    const char *refs; /* JSON array of {"name","subject","version"} */
    const char *identity;
} weir_regstore_schema_t;

/** One stored subject version. */
typedef struct weir_regstore_version_s {
    const char *subject;
    int32_t version;
    int32_t schema_id;
    bool deleted;
} weir_regstore_version_t;

/** One stored subject (or global) configuration; NULL strings are unset. */
typedef struct weir_regstore_config_s {
    const char *subject;
    const char *compatibility;
    const char *mode;
    const char *compat_floor;
    bool approval;
} weir_regstore_config_t;

/**
 * @brief Prepares the registry statements on an open store connection (the
 *        store must outlive the regstore).
 * @returns 0, or an error with errstr set.
 */
int weir_regstore_open(weir_store_t *st, weir_regstore_t **out, char *errstr, size_t errstr_size);
void weir_regstore_close(weir_regstore_t *rs);

/**
 * @brief Calls the callbacks for every schema (id order), then every version
 *        (subject, version order), then every configuration.
 * @returns 0 or WEIR_ERR.
 */
int weir_regstore_load(weir_regstore_t *rs,
                       void (*on_schema)(void *arg, const weir_regstore_schema_t *s),
                       void (*on_version)(void *arg, const weir_regstore_version_t *v),
                       void (*on_config)(void *arg, const weir_regstore_config_t *c), void *arg);

/** Transactions spanning several calls (otherwise each call is its own). */
int weir_regstore_begin(weir_regstore_t *rs);
int weir_regstore_commit(weir_regstore_t *rs);
void weir_regstore_rollback(weir_regstore_t *rs);

/** Inserts a schema row; -EEXIST if the id exists. */
int weir_regstore_schema_insert(weir_regstore_t *rs, const weir_regstore_schema_t *s);
/** Inserts a version row; -EEXIST if (subject, version) exists. */
int weir_regstore_version_insert(weir_regstore_t *rs, const weir_regstore_version_t *v);
/** Sets or clears the soft-deleted flag; -ENOENT if there is no such row. */
int weir_regstore_version_set_deleted(weir_regstore_t *rs, const char *subject, int32_t version,
                                      bool deleted);
/** Removes a version row (permanent delete); -ENOENT if there is none. */
int weir_regstore_version_delete(weir_regstore_t *rs, const char *subject, int32_t version);
/** Writes a subject's configuration; a row with nothing set is removed. */
int weir_regstore_config_put(weir_regstore_t *rs, const weir_regstore_config_t *c);

#endif
