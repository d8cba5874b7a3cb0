/*
 * weir_registry_http.h: Confluent's Schema Registry REST API (v7.x, fact
 * sheet A1-A3) on the broker's HTTP server, over weir_registry.h.
 *
 * Every endpoint of the fact sheet's table except the 7.6+ tag and
 * metadata ones: subjects, versions, register, lookup, schemas by id (and
 * their subjects and versions), latest, soft and permanent deletes,
 * referenced-by, global and per-subject /config and /mode, /compatibility,
 * /schemas, /schemas/types, /contexts and /v1/metadata/id.  Answers use
 * application/vnd.schemaregistry.v1+json, errors {"error_code", "message"}
 * with Confluent's codes; "schemaType" is left out for Avro as Confluent
 * does.  ?normalize is accepted and changes nothing: Weir always compares
 * normalized forms (weir_registry.h); ?format and ?subject on /schemas/ids
 * are accepted and ignored (no contexts).  Handlers answer at once (the
 * registry lives on the loop).
 *
 * Governance plugs in through hooks: authorize() decides every request
 * (the principal is req->principal) and may answer it with an error, and
 * audit() hears every registration, refusal and configuration change.
 * Without hooks everything is allowed.
 */
#ifndef WEIR_REGISTRY_HTTP_H
#define WEIR_REGISTRY_HTTP_H

#include "weir_http.h"
#include "weir_registry.h"

#define WEIR_REGISTRY_CTYPE "application/vnd.schemaregistry.v1+json"

/** What a request does, for authorization (Confluent's operation names). */
typedef enum weir_reg_op_e {
    WEIR_REG_OP_GLOBAL_READ,                 /* GET /subjects, /schemas, /contexts */
    WEIR_REG_OP_SCHEMA_READ,                 /* GET /schemas/ids/... */
    WEIR_REG_OP_SUBJECT_READ,                /* GET /subjects/{s}/..., lookup */
    WEIR_REG_OP_SUBJECT_WRITE,               /* register, compatibility check */
    WEIR_REG_OP_SUBJECT_DELETE,              /* the DELETEs of subjects and versions */
    WEIR_REG_OP_SUBJECT_COMPATIBILITY_READ,  /* GET /config/{s}, /mode/{s} */
    WEIR_REG_OP_SUBJECT_COMPATIBILITY_WRITE, /* PUT/DELETE /config/{s}, /mode/{s} */
    WEIR_REG_OP_GLOBAL_COMPATIBILITY_READ,   /* GET /config, /mode */
    WEIR_REG_OP_GLOBAL_COMPATIBILITY_WRITE,  /* PUT/DELETE /config, /mode */
} weir_reg_op_t;

/** Governance hooks (all optional). */
typedef struct weir_registry_hooks_s {
    /**
     * Decides a request before it runs; subject is NULL for global ones.
     * Returns 0 to go on, or -1 having filled err (status, code, message)
     * to refuse it.  For SUBJECT_WRITE on a registration, dry is the
     * outcome of a dry run (a new version would be made, or the id it
     * would answer), so an approval policy can hold new versions back.
     */
    int (*authorize)(void *arg, weir_http_req_t *req, weir_reg_op_t op, const char *subject,
                     const weir_reg_result_t *dry, weir_reg_err_t *err);
    /** Whether the request's principal is an administrator (may lower a
     *  subject's compatibility below its floor).  Without it: nobody. */
    bool (*is_admin)(void *arg, weir_http_req_t *req);
    /** Hears what happened: action ("schema.register", ...), target, outcome, detail. */
    void (*audit)(void *arg, weir_http_req_t *req, const char *action, const char *target,
                  const char *outcome, const char *detail);
    void *arg;
} weir_registry_hooks_t;

typedef struct weir_registry_http_s weir_registry_http_t;

/**
 * @brief Adds the registry's routes to srv.  reg (and hooks' arg) must
 *        outlive the server's use of the routes.  cluster_id is answered by
 *        /v1/metadata/id.
 * @returns the routes' context (free it after the server), or NULL with
 *          errstr set.
 */
weir_registry_http_t *weir_registry_http_register(weir_http_server_t *srv, weir_registry_t *reg,
                                                  const char *cluster_id,
                                                  const weir_registry_hooks_t *hooks, char *errstr,
                                                  size_t errstr_size);
void weir_registry_http_free(weir_registry_http_t *rh);

#endif
