/*
 * weir_registry_http.c: the Schema Registry's REST endpoints (see
 * weir_registry_http.h): request parsing (path, query and JSON body),
 * authorization and audit hooks, and Confluent's JSON answers.  The model
 * and every rule live in weir_registry.c; handlers only translate.
 */
#include "weir_registry_http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "weir_common.h"
#include "weir_log.h"

struct weir_registry_http_s {
    weir_registry_t *reg;
    char cluster_id[64];
    weir_registry_hooks_t hooks;
};

static weir_registry_http_t *
weir_rh(const weir_http_req_t *req)
{
    return req->route->arg;
}

/* Confluent's boolean query parameters: "true" in any case is true. */
static bool
weir_rh_qbool(const weir_http_req_t *req, const char *name)
{
    const char *v = weir_http_query(req, name);

    return v && strcasecmp(v, "true") == 0;
}

static int
weir_rh_qint(const weir_http_req_t *req, const char *name, long dflt)
{
    const char *v = weir_http_query(req, name);
    char *end;
    long n;

    if (!v || !*v)
        return (int)dflt;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || *end || n < INT32_MIN || n > INT32_MAX)
        return (int)dflt;
    return (int)n;
}

static void weir_rh_audit(weir_http_req_t *req, const char *action, const char *target,
                          const char *outcome, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
weir_rh_audit(weir_http_req_t *req, const char *action, const char *target, const char *outcome,
              const char *fmt, ...)
{
    weir_registry_http_t *rh = weir_rh(req);
    char detail[1024];
    va_list ap;

    if (!rh->hooks.audit)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    rh->hooks.audit(rh->hooks.arg, req, action, target ? target : "__GLOBAL", outcome, detail);
}

/* Answers a registry error (and frees its details). */
static int
weir_rh_error(weir_http_req_t *req, weir_reg_err_t *err)
{
    int status = err->status ? err->status : 500, code = err->code ? err->code : 50001;

    weir_reg_err_clear(err);
    weir_http_respond_error(req, status, code, "%s", err->message);
    return 0;
}

/* Runs the authorize hook; on refusal answers and returns -1. */
static int
weir_rh_authorize(weir_http_req_t *req, weir_reg_op_t op, const char *subject,
                  const weir_reg_result_t *dry)
{
    weir_registry_http_t *rh = weir_rh(req);
    weir_reg_err_t err = {0};

    if (!rh->hooks.authorize ||
        rh->hooks.authorize(rh->hooks.arg, req, op, subject, dry, &err) == 0)
        return 0;
    if (!err.status) {
        err.status = 403;
        err.code = 40301;
        snprintf(err.message, sizeof(err.message), "User is denied operation on this resource");
    }
    /* Audited here, while req is alive: answering frees it. */
    if (op == WEIR_REG_OP_SUBJECT_WRITE && dry)
        weir_rh_audit(req, "schema.register", subject, "denied", "%d %s", err.code, err.message);
    weir_rh_error(req, &err);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* JSON helpers                                                             */
/* ------------------------------------------------------------------------ */

static json_t *
weir_rh_refs_json(const weir_reg_schema_t *s)
{
    json_t *a = json_array();

    for (size_t i = 0; i < s->nrefs; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "name", s->refs[i].name, "subject",
                                           s->refs[i].subject, "version", s->refs[i].version));
    return a;
}

/* Adds "schemaType" (not for Avro) and "references" (when there are some). */
static void
weir_rh_schema_extras(json_t *o, const weir_reg_schema_t *s)
{
    if (s->type != WEIR_SCHEMA_AVRO)
        json_object_set_new(o, "schemaType", json_string(weir_schema_type_name(s->type)));
    if (s->nrefs)
        json_object_set_new(o, "references", weir_rh_refs_json(s));
}

/* Confluent's Schema entity for a subject version. */
static json_t *
weir_rh_version_json(const char *subject, int32_t version, const weir_reg_schema_t *s)
{
    json_t *o = json_object();

    json_object_set_new(o, "subject", json_string(subject));
    json_object_set_new(o, "version", json_integer(version));
    json_object_set_new(o, "id", json_integer(s->id));
    weir_rh_schema_extras(o, s);
    json_object_set_new(o, "schema", json_string(s->text));
    return o;
}

/* The body of register, lookup and compatibility requests.  Strings point
 * into *body, which the caller releases. */
typedef struct weir_rh_body_s {
    json_t *json;
    weir_reg_schema_req_t req;
    weir_reg_ref_t *refs;
} weir_rh_body_t;

static void
weir_rh_body_free(weir_rh_body_t *b)
{
    free(b->refs);
    if (b->json)
        json_decref(b->json);
}

static int __attribute__((format(printf, 4, 5)))
weir_rh_set_err(weir_reg_err_t *err, int status, int code, const char *fmt, ...)
{
    va_list ap;

    err->status = status;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static int
weir_rh_parse_body(weir_http_req_t *req, weir_rh_body_t *b, weir_reg_err_t *err)
{
    char why[256];
    json_t *schema, *type, *refs, *v;
    size_t i;

    memset(b, 0, sizeof(*b));
    b->json = weir_http_body_json(req, why, sizeof(why));
    if (!b->json) {
        weir_rh_set_err(err, 400, 400, "%s", why);
        return -1;
    }
    if (!json_is_object(b->json)) {
        weir_rh_set_err(err, 422, WEIR_REG_INVALID_SCHEMA,
                        "Invalid schema: the request body must be a JSON object");
        return -1;
    }
    schema = json_object_get(b->json, "schema");
    if (!json_is_string(schema)) {
        weir_rh_set_err(err, 422, WEIR_REG_INVALID_SCHEMA,
                        "Invalid schema: \"schema\" (a string) is missing");
        return -1;
    }
    b->req.schema = json_string_value(schema);
    b->req.schema_len = json_string_length(schema);
    type = json_object_get(b->json, "schemaType");
    if (type && !json_is_null(type)) {
        if (!json_is_string(type)) {
            weir_rh_set_err(err, 422, WEIR_REG_INVALID_SCHEMA,
                            "Invalid schema type: \"schemaType\" must be a string");
            return -1;
        }
        b->req.schema_type = json_string_value(type);
    }
    refs = json_object_get(b->json, "references");
    if (refs && !json_is_null(refs)) {
        if (!json_is_array(refs)) {
            weir_rh_set_err(err, 422, WEIR_REG_INVALID_SCHEMA,
                            "Invalid schema: \"references\" must be an array");
            return -1;
        }
        b->refs = weir_calloc(json_array_size(refs) + 1, sizeof(*b->refs));
        json_array_foreach(refs, i, v)
        {
            json_t *ver = json_object_get(v, "version");

            b->refs[i].name = (char *)json_string_value(json_object_get(v, "name"));
            b->refs[i].subject = (char *)json_string_value(json_object_get(v, "subject"));
            b->refs[i].version = json_is_integer(ver) && json_integer_value(ver) >= -1 &&
                                         json_integer_value(ver) <= INT32_MAX
                                     ? (int32_t)json_integer_value(ver)
                                     : 0;
        }
        b->req.refs = b->refs;
        b->req.nrefs = json_array_size(refs);
    }
    v = json_object_get(b->json, "id");
    if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= INT32_MAX)
        b->req.id = (int32_t)json_integer_value(v);
    else if (v && !json_is_null(v)) {
        weir_rh_set_err(err, 422, WEIR_REG_ID_DOES_NOT_MATCH, "Invalid schema id");
        return -1;
    }
    v = json_object_get(b->json, "version");
    if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= INT32_MAX)
        b->req.version = (int32_t)json_integer_value(v);
    else if (v && !json_is_null(v) && !(json_is_integer(v) && json_integer_value(v) == -1)) {
        weir_rh_set_err(err, 422, WEIR_REG_INVALID_VERSION, "Invalid version");
        return -1;
    }
    return 0;
}

static int
weir_rh_version_param(weir_http_req_t *req, int32_t *out)
{
    weir_reg_err_t err = {0};

    if (weir_registry_parse_version(weir_http_param(req, "version"), out, &err) < 0)
        return weir_rh_error(req, &err), -1;
    return 0;
}

static int
weir_rh_id_param(weir_http_req_t *req, int32_t *out)
{
    const char *s = weir_http_param(req, "id");
    char *end;
    long v;

    errno = 0;
    v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < 1 || v > INT32_MAX) {
        weir_http_respond_error(req, 404, WEIR_REG_SCHEMA_NOT_FOUND, "Schema %s not found",
                                s ? s : "");
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Handlers                                                                 */
/* ------------------------------------------------------------------------ */

static int
weir_rh_root(weir_http_req_t *req)
{
    weir_http_respond_json(req, 200, json_object());
    return 0;
}

static int
weir_rh_types(weir_http_req_t *req)
{
    weir_http_respond_json(req, 200, json_pack("[s, s]", "JSON", "AVRO"));
    return 0;
}

static int
weir_rh_contexts(weir_http_req_t *req)
{
    if (weir_rh_authorize(req, WEIR_REG_OP_GLOBAL_READ, NULL, NULL) < 0)
        return 0;
    weir_http_respond_json(req, 200, json_pack("[s]", "."));
    return 0;
}

static int
weir_rh_metadata_id(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);

    weir_http_respond_json(req, 200,
                           json_pack("{s:{s:[], s:{s:s, s:s}}}", "scope", "path", "clusters",
                                     "kafka-cluster", rh->cluster_id, "schema-registry-cluster",
                                     "schema-registry"));
    return 0;
}

/* GET /schemas/ids/{id} */
static int
weir_rh_schema_by_id(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const weir_reg_schema_t *s;
    weir_reg_err_t err = {0};
    json_t *o;
    int32_t id;

    if (weir_rh_id_param(req, &id) < 0 ||
        weir_rh_authorize(req, WEIR_REG_OP_SCHEMA_READ, NULL, NULL) < 0)
        return 0;
    if (weir_registry_schema_by_id(rh->reg, id, &s, &err) < 0)
        return weir_rh_error(req, &err);
    o = json_object();
    json_object_set_new(o, "schema", json_string(s->text));
    weir_rh_schema_extras(o, s);
    if (weir_rh_qbool(req, "fetchMaxId"))
        json_object_set_new(o, "maxId", json_integer(weir_registry_max_id(rh->reg)));
    weir_http_respond_json(req, 200, o);
    return 0;
}

/* GET /schemas/ids/{id}/schema */
static int
weir_rh_schema_raw(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const weir_reg_schema_t *s;
    weir_reg_err_t err = {0};
    int32_t id;

    if (weir_rh_id_param(req, &id) < 0 ||
        weir_rh_authorize(req, WEIR_REG_OP_SCHEMA_READ, NULL, NULL) < 0)
        return 0;
    if (weir_registry_schema_by_id(rh->reg, id, &s, &err) < 0)
        return weir_rh_error(req, &err);
    weir_http_respond(req, 200, NULL, s->text, strlen(s->text));
    return 0;
}

/* GET /schemas/ids/{id}/versions and /subjects */
static int
weir_rh_schema_uses(weir_http_req_t *req, bool subjects_only)
{
    weir_registry_http_t *rh = weir_rh(req);
    weir_reg_subject_version_t *sv;
    weir_reg_err_t err = {0};
    json_t *a;
    size_t n;
    int32_t id;

    if (weir_rh_id_param(req, &id) < 0 ||
        weir_rh_authorize(req, WEIR_REG_OP_SCHEMA_READ, NULL, NULL) < 0)
        return 0;
    if (weir_registry_id_versions(rh->reg, id, weir_rh_qbool(req, "deleted"), &sv, &n, &err) < 0)
        return weir_rh_error(req, &err);
    a = json_array();
    for (size_t i = 0; i < n; i++) {
        if (subjects_only) {
            if (i == 0 || strcmp(sv[i].subject, sv[i - 1].subject) != 0)
                json_array_append_new(a, json_string(sv[i].subject));
        } else {
            json_array_append_new(
                a, json_pack("{s:s, s:i}", "subject", sv[i].subject, "version", sv[i].version));
        }
    }
    free(sv);
    weir_http_respond_json(req, 200, a);
    return 0;
}

static int
weir_rh_schema_versions(weir_http_req_t *req)
{
    return weir_rh_schema_uses(req, false);
}

static int
weir_rh_schema_subjects(weir_http_req_t *req)
{
    return weir_rh_schema_uses(req, true);
}

typedef struct weir_rh_list_s {
    json_t *a;
    long skip, left;
} weir_rh_list_t;

static void
weir_rh_list_cb(void *arg, const char *subject, const weir_reg_version_t *v)
{
    weir_rh_list_t *l = arg;

    if (l->skip > 0) {
        l->skip--;
        return;
    }
    if (l->left == 0)
        return;
    l->left--;
    json_array_append_new(l->a, weir_rh_version_json(subject, v->version, v->schema));
}

/* GET /schemas */
static int
weir_rh_schemas(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    weir_rh_list_t l = {.a = json_array()};
    int limit = weir_rh_qint(req, "limit", -1);

    if (weir_rh_authorize(req, WEIR_REG_OP_GLOBAL_READ, NULL, NULL) < 0) {
        json_decref(l.a);
        return 0;
    }
    l.skip = WEIR_MAX(0, weir_rh_qint(req, "offset", 0));
    l.left = limit < 0 ? -1 : limit;
    weir_registry_foreach_version(rh->reg, weir_http_query(req, "subjectPrefix"),
                                  weir_rh_qbool(req, "deleted"), weir_rh_qbool(req, "latestOnly"),
                                  weir_rh_list_cb, &l);
    weir_http_respond_json(req, 200, l.a);
    return 0;
}

/* GET /subjects */
static int
weir_rh_subjects(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *prefix = weir_http_query(req, "subjectPrefix");
    const char **names;
    json_t *a;
    size_t n;

    if (weir_rh_authorize(req, WEIR_REG_OP_GLOBAL_READ, NULL, NULL) < 0)
        return 0;
    if (prefix && strcmp(prefix, ":*:") == 0)
        prefix = NULL; /* Confluent's "every context" wildcard */
    weir_registry_subjects(rh->reg, prefix, weir_rh_qbool(req, "deleted"),
                           weir_rh_qbool(req, "deletedOnly"), &names, &n);
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    free(names);
    weir_http_respond_json(req, 200, a);
    return 0;
}

/* POST /subjects/{subject}/versions */
static int
weir_rh_register(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    weir_reg_result_t res;
    weir_rh_body_t b;

    if (weir_rh_parse_body(req, &b, &err) < 0) {
        weir_rh_audit(req, "schema.register", subject, "refused", "%d %s", err.code, err.message);
        weir_rh_body_free(&b);
        return weir_rh_error(req, &err);
    }
    if (rh->hooks.authorize) {
        /* Governance sees what the registration would do first. */
        b.req.dry_run = true;
        if (weir_registry_register(rh->reg, subject, &b.req, &res, &err) < 0) {
            weir_rh_audit(req, "schema.register", subject, "refused", "%d %s", err.code,
                          err.message);
            weir_rh_body_free(&b);
            return weir_rh_error(req, &err);
        }
        b.req.dry_run = false;
        if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_WRITE, subject, &res) < 0) {
            weir_rh_body_free(&b); /* answered and audited */
            return 0;
        }
    }
    if (weir_registry_register(rh->reg, subject, &b.req, &res, &err) < 0) {
        weir_rh_audit(req, "schema.register", subject, "refused", "%d %s", err.code, err.message);
        weir_rh_body_free(&b);
        return weir_rh_error(req, &err);
    }
    weir_rh_audit(req, "schema.register", subject, "ok", "id=%d version=%d existed=%s", res.id,
                  res.version, res.existed ? "true" : "false");
    weir_rh_body_free(&b);
    weir_http_respond_json(req, 200, json_pack("{s:i}", "id", res.id));
    return 0;
}

/* POST /subjects/{subject} */
static int
weir_rh_lookup(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    weir_reg_result_t res;
    weir_rh_body_t b;

    if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_READ, subject, NULL) < 0)
        return 0;
    if (weir_rh_parse_body(req, &b, &err) < 0) {
        weir_rh_body_free(&b);
        return weir_rh_error(req, &err);
    }
    if (weir_registry_lookup(rh->reg, subject, &b.req, weir_rh_qbool(req, "deleted"), &res, &err) <
        0) {
        weir_rh_body_free(&b);
        return weir_rh_error(req, &err);
    }
    weir_rh_body_free(&b);
    weir_http_respond_json(req, 200, weir_rh_version_json(subject, res.version, res.schema));
    return 0;
}

/* GET /subjects/{subject}/versions */
static int
weir_rh_versions(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    int32_t *vers;
    json_t *a;
    size_t n;

    if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_READ, subject, NULL) < 0)
        return 0;
    if (weir_registry_versions(rh->reg, subject, weir_rh_qbool(req, "deleted"),
                               weir_rh_qbool(req, "deletedOnly"), &vers, &n, &err) < 0)
        return weir_rh_error(req, &err);
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(vers[i]));
    free(vers);
    weir_http_respond_json(req, 200, a);
    return 0;
}

/* GET /subjects/{subject}/versions/{version}[/schema] */
static int
weir_rh_get_version_common(weir_http_req_t *req, bool raw)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    const weir_reg_version_t *v;
    weir_reg_err_t err = {0};
    int32_t version;

    if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_READ, subject, NULL) < 0 ||
        weir_rh_version_param(req, &version) < 0)
        return 0;
    if (weir_registry_get_version(rh->reg, subject, version, weir_rh_qbool(req, "deleted"), &v,
                                  &err) < 0)
        return weir_rh_error(req, &err);
    if (raw)
        weir_http_respond(req, 200, NULL, v->schema->text, strlen(v->schema->text));
    else
        weir_http_respond_json(req, 200, weir_rh_version_json(subject, v->version, v->schema));
    return 0;
}

static int
weir_rh_get_version(weir_http_req_t *req)
{
    return weir_rh_get_version_common(req, false);
}

static int
weir_rh_get_version_schema(weir_http_req_t *req)
{
    return weir_rh_get_version_common(req, true);
}

/* GET /subjects/{subject}/versions/{version}/referencedby */
static int
weir_rh_referenced_by(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    int32_t version, *ids;
    json_t *a;
    size_t n;

    if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_READ, subject, NULL) < 0 ||
        weir_rh_version_param(req, &version) < 0)
        return 0;
    if (weir_registry_referenced_by(rh->reg, subject, version, &ids, &n, &err) < 0)
        return weir_rh_error(req, &err);
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    free(ids);
    weir_http_respond_json(req, 200, a);
    return 0;
}

/* DELETE /subjects/{subject} */
static int
weir_rh_delete_subject(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    bool permanent = weir_rh_qbool(req, "permanent");
    weir_reg_err_t err = {0};
    int32_t *vers;
    json_t *a;
    size_t n;

    if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_DELETE, subject, NULL) < 0)
        return 0;
    if (weir_registry_delete_subject(rh->reg, subject, permanent, &vers, &n, &err) < 0) {
        weir_rh_audit(req, "subject.delete", subject, "refused", "%d %s", err.code, err.message);
        return weir_rh_error(req, &err);
    }
    weir_rh_audit(req, "subject.delete", subject, "ok", "permanent=%s versions=%zu",
                  permanent ? "true" : "false", n);
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(vers[i]));
    free(vers);
    weir_http_respond_json(req, 200, a);
    return 0;
}

/* DELETE /subjects/{subject}/versions/{version} */
static int
weir_rh_delete_version(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    bool permanent = weir_rh_qbool(req, "permanent");
    weir_reg_err_t err = {0};
    int32_t version, deleted;

    if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_DELETE, subject, NULL) < 0 ||
        weir_rh_version_param(req, &version) < 0)
        return 0;
    if (weir_registry_delete_version(rh->reg, subject, version, permanent, &deleted, &err) < 0) {
        weir_rh_audit(req, "schema.delete", subject, "refused", "%d %s", err.code, err.message);
        return weir_rh_error(req, &err);
    }
    weir_rh_audit(req, "schema.delete", subject, "ok", "version=%d permanent=%s", deleted,
                  permanent ? "true" : "false");
    weir_http_respond_json(req, 200, json_integer(deleted));
    return 0;
}

/* POST /compatibility/subjects/{subject}/versions[/{version}] */
static int
weir_rh_compat_common(weir_http_req_t *req, bool all)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    weir_msgs_t msgs = {0};
    weir_rh_body_t b;
    int32_t version = WEIR_REG_LATEST;
    bool ok;
    json_t *o;

    if (weir_rh_authorize(req, WEIR_REG_OP_SUBJECT_WRITE, subject, NULL) < 0)
        return 0;
    if (!all && weir_rh_version_param(req, &version) < 0)
        return 0;
    if (weir_rh_parse_body(req, &b, &err) < 0) {
        weir_rh_body_free(&b);
        return weir_rh_error(req, &err);
    }
    if (weir_registry_check_compat(rh->reg, subject, version, all, &b.req, &ok, &msgs, &err) < 0) {
        weir_rh_body_free(&b);
        weir_msgs_free(&msgs);
        return weir_rh_error(req, &err);
    }
    weir_rh_body_free(&b);
    o = json_pack("{s:b}", "is_compatible", ok);
    if (weir_rh_qbool(req, "verbose")) {
        json_t *m = json_array();

        for (size_t i = 0; i < msgs.n; i++)
            json_array_append_new(m, json_string(msgs.v[i]));
        json_object_set_new(o, "messages", m);
    }
    weir_msgs_free(&msgs);
    weir_http_respond_json(req, 200, o);
    return 0;
}

static int
weir_rh_compat_version(weir_http_req_t *req)
{
    return weir_rh_compat_common(req, false);
}

static int
weir_rh_compat_all(weir_http_req_t *req)
{
    return weir_rh_compat_common(req, true);
}

/* GET /config[/{subject}] */
static int
weir_rh_get_config(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    weir_compat_level_t l;

    if (weir_rh_authorize(req,
                          subject ? WEIR_REG_OP_SUBJECT_COMPATIBILITY_READ
                                  : WEIR_REG_OP_GLOBAL_COMPATIBILITY_READ,
                          subject, NULL) < 0)
        return 0;
    if (weir_registry_get_config(rh->reg, subject, weir_rh_qbool(req, "defaultToGlobal"), &l,
                                 &err) < 0)
        return weir_rh_error(req, &err);
    weir_http_respond_json(req, 200,
                           json_pack("{s:s}", "compatibilityLevel", weir_compat_level_name(l)));
    return 0;
}

static bool
weir_rh_is_admin(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);

    return rh->hooks.is_admin && rh->hooks.is_admin(rh->hooks.arg, req);
}

/* PUT /config[/{subject}] */
static int
weir_rh_put_config(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    char why[256];
    json_t *body, *level;

    if (weir_rh_authorize(req,
                          subject ? WEIR_REG_OP_SUBJECT_COMPATIBILITY_WRITE
                                  : WEIR_REG_OP_GLOBAL_COMPATIBILITY_WRITE,
                          subject, NULL) < 0)
        return 0;
    body = weir_http_body_json(req, why, sizeof(why));
    if (!body) {
        weir_http_respond_error(req, 400, 400, "%s", why);
        return 0;
    }
    level = json_object_get(body, "compatibility");
    if (weir_registry_set_config(rh->reg, subject,
                                 json_is_string(level) ? json_string_value(level) : NULL,
                                 subject ? weir_rh_is_admin(req) : true, &err) < 0) {
        weir_rh_audit(req, "config.set", subject, "refused", "%d %s", err.code, err.message);
        json_decref(body);
        return weir_rh_error(req, &err);
    }
    weir_rh_audit(req, "config.set", subject, "ok", "compatibility=%s", json_string_value(level));
    weir_http_respond_json(req, 200, json_pack("{s:s}", "compatibility", json_string_value(level)));
    json_decref(body);
    return 0;
}

/* DELETE /config[/{subject}] */
static int
weir_rh_delete_config(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    weir_compat_level_t prev;

    if (weir_rh_authorize(req,
                          subject ? WEIR_REG_OP_SUBJECT_COMPATIBILITY_WRITE
                                  : WEIR_REG_OP_GLOBAL_COMPATIBILITY_WRITE,
                          subject, NULL) < 0)
        return 0;
    if (weir_registry_delete_config(rh->reg, subject, &prev, &err) < 0)
        return weir_rh_error(req, &err);
    weir_rh_audit(req, "config.delete", subject, "ok", "previous=%s", weir_compat_level_name(prev));
    weir_http_respond_json(req, 200,
                           json_pack("{s:s}", "compatibilityLevel", weir_compat_level_name(prev)));
    return 0;
}

/* GET /mode[/{subject}] */
static int
weir_rh_get_mode(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    weir_reg_mode_t m;

    if (weir_rh_authorize(req,
                          subject ? WEIR_REG_OP_SUBJECT_COMPATIBILITY_READ
                                  : WEIR_REG_OP_GLOBAL_COMPATIBILITY_READ,
                          subject, NULL) < 0)
        return 0;
    if (weir_registry_get_mode(rh->reg, subject, weir_rh_qbool(req, "defaultToGlobal"), &m, &err) <
        0)
        return weir_rh_error(req, &err);
    weir_http_respond_json(req, 200, json_pack("{s:s}", "mode", weir_reg_mode_name(m)));
    return 0;
}

/* PUT /mode[/{subject}] */
static int
weir_rh_put_mode(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    char why[256];
    json_t *body, *mode;

    if (weir_rh_authorize(req,
                          subject ? WEIR_REG_OP_SUBJECT_COMPATIBILITY_WRITE
                                  : WEIR_REG_OP_GLOBAL_COMPATIBILITY_WRITE,
                          subject, NULL) < 0)
        return 0;
    body = weir_http_body_json(req, why, sizeof(why));
    if (!body) {
        weir_http_respond_error(req, 400, 400, "%s", why);
        return 0;
    }
    mode = json_object_get(body, "mode");
    if (weir_registry_set_mode(rh->reg, subject,
                               json_is_string(mode) ? json_string_value(mode) : NULL,
                               weir_rh_qbool(req, "force"), &err) < 0) {
        weir_rh_audit(req, "mode.set", subject, "refused", "%d %s", err.code, err.message);
        json_decref(body);
        return weir_rh_error(req, &err);
    }
    weir_rh_audit(req, "mode.set", subject, "ok", "mode=%s", json_string_value(mode));
    weir_http_respond_json(req, 200, json_pack("{s:s}", "mode", json_string_value(mode)));
    json_decref(body);
    return 0;
}

/* DELETE /mode[/{subject}] */
static int
weir_rh_delete_mode(weir_http_req_t *req)
{
    weir_registry_http_t *rh = weir_rh(req);
    const char *subject = weir_http_param(req, "subject");
    weir_reg_err_t err = {0};
    weir_reg_mode_t prev;

    if (weir_rh_authorize(req,
                          subject ? WEIR_REG_OP_SUBJECT_COMPATIBILITY_WRITE
                                  : WEIR_REG_OP_GLOBAL_COMPATIBILITY_WRITE,
                          subject, NULL) < 0)
        return 0;
    if (weir_registry_delete_mode(rh->reg, subject, &prev, &err) < 0)
        return weir_rh_error(req, &err);
    weir_rh_audit(req, "mode.delete", subject, "ok", "previous=%s", weir_reg_mode_name(prev));
    weir_http_respond_json(req, 200, json_pack("{s:s}", "mode", weir_reg_mode_name(prev)));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Routes                                                                   */
/* ------------------------------------------------------------------------ */

#define WEIR_RH_ROUTE(m, p, h)                                                                     \
    {                                                                                              \
        .method = m, .pattern = p, .handler = h, .content_type = WEIR_REGISTRY_CTYPE               \
    }

static const weir_http_route_t weir_registry_routes[] = {
    WEIR_RH_ROUTE("GET", "/", weir_rh_root),
    WEIR_RH_ROUTE("GET", "/schemas", weir_rh_schemas),
    WEIR_RH_ROUTE("GET", "/schemas/types", weir_rh_types),
    WEIR_RH_ROUTE("GET", "/schemas/ids/{id}", weir_rh_schema_by_id),
    WEIR_RH_ROUTE("GET", "/schemas/ids/{id}/schema", weir_rh_schema_raw),
    WEIR_RH_ROUTE("GET", "/schemas/ids/{id}/subjects", weir_rh_schema_subjects),
    WEIR_RH_ROUTE("GET", "/schemas/ids/{id}/versions", weir_rh_schema_versions),
    WEIR_RH_ROUTE("GET", "/subjects", weir_rh_subjects),
    WEIR_RH_ROUTE("POST", "/subjects/{subject}", weir_rh_lookup),
    WEIR_RH_ROUTE("DELETE", "/subjects/{subject}", weir_rh_delete_subject),
    WEIR_RH_ROUTE("GET", "/subjects/{subject}/versions", weir_rh_versions),
    WEIR_RH_ROUTE("POST", "/subjects/{subject}/versions", weir_rh_register),
    WEIR_RH_ROUTE("GET", "/subjects/{subject}/versions/{version}", weir_rh_get_version),
    WEIR_RH_ROUTE("DELETE", "/subjects/{subject}/versions/{version}", weir_rh_delete_version),
    WEIR_RH_ROUTE("GET", "/subjects/{subject}/versions/{version}/schema",
                  weir_rh_get_version_schema),
    WEIR_RH_ROUTE("GET", "/subjects/{subject}/versions/{version}/referencedby",
                  weir_rh_referenced_by),
    WEIR_RH_ROUTE("POST", "/compatibility/subjects/{subject}/versions", weir_rh_compat_all),
    WEIR_RH_ROUTE("POST", "/compatibility/subjects/{subject}/versions/{version}",
                  weir_rh_compat_version),
    WEIR_RH_ROUTE("GET", "/config", weir_rh_get_config),
    WEIR_RH_ROUTE("PUT", "/config", weir_rh_put_config),
    WEIR_RH_ROUTE("DELETE", "/config", weir_rh_delete_config),
    WEIR_RH_ROUTE("GET", "/config/{subject}", weir_rh_get_config),
    WEIR_RH_ROUTE("PUT", "/config/{subject}", weir_rh_put_config),
    WEIR_RH_ROUTE("DELETE", "/config/{subject}", weir_rh_delete_config),
    WEIR_RH_ROUTE("GET", "/mode", weir_rh_get_mode),
    WEIR_RH_ROUTE("PUT", "/mode", weir_rh_put_mode),
    WEIR_RH_ROUTE("DELETE", "/mode", weir_rh_delete_mode),
    WEIR_RH_ROUTE("GET", "/mode/{subject}", weir_rh_get_mode),
    WEIR_RH_ROUTE("PUT", "/mode/{subject}", weir_rh_put_mode),
    WEIR_RH_ROUTE("DELETE", "/mode/{subject}", weir_rh_delete_mode),
    WEIR_RH_ROUTE("GET", "/contexts", weir_rh_contexts),
    WEIR_RH_ROUTE("GET", "/v1/metadata/id", weir_rh_metadata_id),
};

weir_registry_http_t *
weir_registry_http_register(weir_http_server_t *srv, weir_registry_t *reg, const char *cluster_id,
                            const weir_registry_hooks_t *hooks, char *errstr, size_t errstr_size)
{
    weir_registry_http_t *rh = weir_calloc(1, sizeof(*rh));
    weir_http_route_t routes[WEIR_ARRAY_SIZE(weir_registry_routes)];

    rh->reg = reg;
    snprintf(rh->cluster_id, sizeof(rh->cluster_id), "%s", cluster_id ? cluster_id : "");
    if (hooks)
        rh->hooks = *hooks;
    memcpy(routes, weir_registry_routes, sizeof(routes));
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(routes); i++)
        routes[i].arg = rh;
    if (weir_http_route_add(srv, routes, WEIR_ARRAY_SIZE(routes), errstr, errstr_size) != 0) {
        free(rh);
        return NULL;
    }
    return rh;
}

void
weir_registry_http_free(weir_registry_http_t *rh)
{
    free(rh);
}
