/*
 * weir_admin_api.h: the admin HTTP API (/admin/v1/...) on the broker's
 * HTTP listeners - tenants, requests (topic, access, schema) with their
 * approval, rejection and cancellation, the field-by-field diff of a schema
 * request (GET requests/{id}/diff), subject policies, topics, consumer
 * groups with lag, ACLs and the audit log - used by weirctl
 * (admin/weirctl.c).
 *
 * A request's requester or an administrator may cancel it while it is
 * pending.  An approval that cannot be carried out (the topic exists, a
 * tenant limit is exceeded, the store fails) leaves the request pending
 * with nothing changed; why is audited ("request.approve", outcome
 * "failed") and shown as the request's "error" while it stays pending.
 *
 * Authorization uses the request's principal (http.auth=basic: the LDAP
 * user and groups): administrators are super.users and members of
 * weir.admin.group; tenant members create requests for their tenant and see
 * their tenant's requests; anything else answers 403 with a JSON message and
 * an audit row.  Reads and changes of weir.db run on the worker pool, one at
 * a time, on the API's own governance store connection; every change is
 * written with its audit row in one transaction (an approval and the ACL it
 * grants commit together), and the authorizer's snapshot is reloaded after.
 */
#ifndef WEIR_ADMIN_API_H
#define WEIR_ADMIN_API_H

#include <stddef.h>

typedef struct weir_admin_api_s weir_admin_api_t;
typedef struct weir_broker_s weir_broker_t;
typedef struct weir_http_server_s weir_http_server_t;

/**
 * @brief Adds the /admin/v1 routes to srv, for brk (its weir.db in
 *        brk->log_dir, its super users, weir.admin.group and authorizer).
 * @returns the API (free with weir_admin_api_free after the HTTP server
 *          stopped), or NULL with errstr set.
 */
weir_admin_api_t *weir_admin_api_register(weir_http_server_t *srv, weir_broker_t *brk,
                                          char *errstr, size_t errstr_size);

/**
 * @brief Frees the API.  A job still running on the worker pool finishes
 *        first: the API frees itself when it returns.
 */
void weir_admin_api_free(weir_admin_api_t *api);

#endif
