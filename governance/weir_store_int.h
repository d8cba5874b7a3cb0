/*
 * weir_store_int.h: what the governance/ files share about weir.db beyond
 * the public weir_store.h - the SQLite handle of a store connection (so
 * weir_store_governance.c, weir_store_registry.c and the like prepare their
 * own statements on a connection that weir_store_open has migrated) and the
 * schema of the governance tables, which weir_store.c runs as migration 3.
 * Not for use outside governance/.
 */
#ifndef WEIR_STORE_INT_H
#define WEIR_STORE_INT_H

#include <sqlite3.h>

#include "weir_store.h"

/** The connection's SQLite handle (owned by the store). */
sqlite3 *weir__store_db(weir_store_t *st);

/*
 * Migration 3.  ACL bindings are unique in every field, so creating an
 * existing binding is a no-op as in Kafka.  The audit log's ids are
 * assigned by the writer (last id + 1: no gaps), its rows can be neither
 * updated nor deleted (triggers), and audit_head keeps the last id and hash
 * so truncation is detected.  Requests and decisions serve the admin API.
 */
#define WEIR_STORE_GOVERNANCE_MIGRATION_3                                                   \
    "CREATE TABLE acl_bindings ("                                                           \
    "  id            INTEGER PRIMARY KEY AUTOINCREMENT,"                                    \
    "  resource_type INTEGER NOT NULL,"                                                     \
    "  pattern_type  INTEGER NOT NULL,"                                                     \
    "  resource_name TEXT NOT NULL,"                                                        \
    "  principal     TEXT NOT NULL,"                                                        \
    "  host          TEXT NOT NULL,"                                                        \
    "  operation     INTEGER NOT NULL,"                                                     \
    "  permission    INTEGER NOT NULL,"                                                     \
    "  created_ms    INTEGER NOT NULL,"                                                     \
    "  created_by    TEXT NOT NULL,"                                                        \
    "  UNIQUE (resource_type, pattern_type, resource_name, principal, host, operation,"     \
    "          permission)"                                                                 \
    ");"                                                                                    \
    "CREATE TABLE tenants ("                                                                \
    "  name                     TEXT PRIMARY KEY NOT NULL,"                                 \
    "  ldap_group               TEXT NOT NULL,"                                             \
    "  max_partitions_per_topic INTEGER NOT NULL,"                                          \
    "  max_total_partitions     INTEGER NOT NULL,"                                          \
    "  max_retention_ms         INTEGER NOT NULL,"                                          \
    "  produce_byte_rate        INTEGER NOT NULL,"                                          \
    "  fetch_byte_rate          INTEGER NOT NULL,"                                          \
    "  direct_create            INTEGER NOT NULL,"                                          \
    "  updated_ms               INTEGER NOT NULL"                                           \
    ");"                                                                                    \
    "CREATE TABLE tenant_prefixes ("                                                        \
    "  prefix TEXT PRIMARY KEY NOT NULL,"                                                   \
    "  tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE"                     \
    ");"                                                                                    \
    "CREATE TABLE quota_overrides ("                                                        \
    "  principal         TEXT PRIMARY KEY NOT NULL,"                                        \
    "  produce_byte_rate INTEGER NOT NULL,"                                                 \
    "  fetch_byte_rate   INTEGER NOT NULL"                                                  \
    ");"                                                                                    \
    "CREATE TABLE requests ("                                                               \
    "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"                                       \
    "  kind       TEXT NOT NULL CHECK (kind IN ('topic', 'access', 'schema')),"             \
    "  tenant     TEXT NOT NULL,"                                                           \
    "  requester  TEXT NOT NULL,"                                                           \
    "  target     TEXT NOT NULL,"                                                           \
    "  detail     TEXT NOT NULL,"                                                           \
    "  reason     TEXT NOT NULL,"                                                           \
    "  state      TEXT NOT NULL"                                                            \
    "             CHECK (state IN ('pending', 'approved', 'rejected', 'cancelled')),"       \
    "  created_ms INTEGER NOT NULL,"                                                        \
    "  updated_ms INTEGER NOT NULL"                                                         \
    ");"                                                                                    \
    "CREATE INDEX requests_by_state ON requests (state, id);"                               \
    "CREATE TABLE decisions ("                                                              \
    "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"                                       \
    "  request_id INTEGER NOT NULL REFERENCES requests(id),"                                \
    "  decider    TEXT NOT NULL,"                                                           \
    "  decision   TEXT NOT NULL CHECK (decision IN ('approved', 'rejected', 'cancelled')),"  \
    "  reason     TEXT NOT NULL,"                                                           \
    "  decided_ms INTEGER NOT NULL"                                                         \
    ");"                                                                                    \
    "CREATE TABLE audit_log ("                                                              \
    "  id        INTEGER PRIMARY KEY NOT NULL,"                                             \
    "  ts_ms     INTEGER NOT NULL,"                                                         \
    "  principal TEXT NOT NULL,"                                                            \
    "  action    TEXT NOT NULL,"                                                            \
    "  target    TEXT NOT NULL,"                                                            \
    "  outcome   TEXT NOT NULL,"                                                            \
    "  detail    TEXT NOT NULL,"                                                            \
    "  prev_hash TEXT NOT NULL,"                                                            \
    "  hash      TEXT NOT NULL"                                                             \
    ");"                                                                                    \
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"                         \
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"                          \
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"                         \
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"                          \
    "CREATE TABLE audit_head ("                                                             \
    "  one     INTEGER PRIMARY KEY CHECK (one = 1),"                                        \
    "  last_id INTEGER NOT NULL,"                                                           \
    "  hash    TEXT NOT NULL"                                                               \
    ");"                                                                                    \
    "INSERT INTO audit_head (one, last_id, hash) VALUES (1, 0,"                             \
    " '0000000000000000000000000000000000000000000000000000000000000000');"

#endif
