/*
 * test_registry.c: unit tests of registry/weir_registry.c - Confluent's
 * registration semantics (same schema same id, global ids shared across
 * subjects and never reused, version numbering after deletes), lookups,
 * soft and permanent deletes, compatibility configuration and checks,
 * modes, references, the governance policy floor, persistence in weir.db
 * across a reopen, and rollback when the store fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "weir_registry.h"
#include "weir_store.h"
#include "weir_test_tmp.h"

#define REC_A                                                                                      \
    "{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}"
/* REC_A plus a field with a default: BACKWARD and FORWARD compatible. */
#define REC_B                                                                                      \
    "{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"       \
    "{\"name\":\"email\",\"type\":\"string\",\"default\":\"\"}]}"
/* REC_A plus a field without a default: not BACKWARD compatible. */
#define REC_C                                                                                      \
    "{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"       \
    "{\"name\":\"age\",\"type\":\"int\"}]}"
/* REC_A written differently. */
#define REC_A2                                                                                     \
    "{ \"fields\": [ {\"type\": {\"type\":\"int\"}, \"name\": \"id\"} ], \"name\": \"User\", "     \
    "\"type\": \"record\" }"

static char tmpdir[64];

static int
setup(void **state)
{
    (void)state;
    weir_test_mkdtemp(tmpdir, sizeof(tmpdir), "registry");
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    return weir_test_rmtree(tmpdir);
}

static weir_registry_t *
mem_registry(void)
{
    weir_registry_t *reg;
    char err[256];

    assert_int_equal(weir_registry_open(NULL, &reg, err, sizeof(err)), 0);
    return reg;
}

static weir_reg_schema_req_t
avro(const char *text)
{
    weir_reg_schema_req_t r = {.schema = text, .schema_len = strlen(text)};

    return r;
}

/* Registers and expects success; returns the id. */
static int32_t
reg_ok(weir_registry_t *reg, const char *subject, const char *text, int32_t want_version)
{
    weir_reg_schema_req_t r = avro(text);
    weir_reg_result_t res;
    weir_reg_err_t err = {0};

    if (weir_registry_register(reg, subject, &r, &res, &err) != 0)
        fail_msg("register %s failed: %d %d %s", subject, err.status, err.code, err.message);
    if (want_version)
        assert_int_equal(res.version, want_version);
    assert_non_null(res.schema);
    assert_int_equal(res.schema->id, res.id);
    weir_reg_err_clear(&err);
    return res.id;
}

static void
reg_fails(weir_registry_t *reg, const char *subject, const weir_reg_schema_req_t *r, int status,
          int code)
{
    weir_reg_result_t res;
    weir_reg_err_t err = {0};

    assert_int_equal(weir_registry_register(reg, subject, r, &res, &err), -1);
    if (err.status != status || err.code != code)
        fail_msg("register %s: got %d/%d (%s), want %d/%d", subject, err.status, err.code,
                 err.message, status, code);
    weir_reg_err_clear(&err);
}

static void
test_register_ids(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r;
    weir_reg_result_t res;
    weir_reg_err_t err = {0};
    const weir_reg_schema_t *s;

    (void)state;
    assert_int_equal(reg_ok(reg, "users-value", REC_A, 1), 1);
    /* The same schema again: same id, no new version. */
    r = avro(REC_A);
    assert_int_equal(weir_registry_register(reg, "users-value", &r, &res, &err), 0);
    assert_int_equal(res.id, 1);
    assert_int_equal(res.version, 1);
    assert_true(res.existed);
    /* Written differently: still the same schema. */
    r = avro(REC_A2);
    assert_int_equal(weir_registry_register(reg, "users-value", &r, &res, &err), 0);
    assert_int_equal(res.id, 1);
    assert_true(res.existed);
    /* Under another subject: the same global id, version 1 there. */
    assert_int_equal(reg_ok(reg, "other-value", REC_A2, 1), 1);
    /* A compatible change: a new id and version 2. */
    assert_int_equal(reg_ok(reg, "users-value", REC_B, 2), 2);
    /* The stored text is the original. */
    assert_int_equal(weir_registry_schema_by_id(reg, 1, &s, &err), 0);
    assert_string_equal(s->text, REC_A);
    assert_int_equal(s->type, WEIR_SCHEMA_AVRO);

    /* Incompatible at BACKWARD: 409 with reasons. */
    r = avro(REC_C);
    assert_int_equal(weir_registry_register(reg, "users-value", &r, &res, &err), -1);
    assert_int_equal(err.status, 409);
    assert_int_equal(err.code, 409);
    assert_non_null(strstr(err.message, "Schema being registered is incompatible with an earlier "
                                        "schema for subject \"users-value\""));
    assert_non_null(strstr(err.message, "READER_FIELD_MISSING_DEFAULT_VALUE"));
    assert_non_null(strstr(err.message, "{compatibility: 'BACKWARD'}"));
    assert_true(err.details.n > 0);
    weir_reg_err_clear(&err);

    /* Invalid schemas, types, sizes and subjects. */
    r = avro("{\"type\":\"record\",\"name\":\"X\"}");
    reg_fails(reg, "users-value", &r, 422, WEIR_REG_INVALID_SCHEMA);
    r = avro("not json");
    reg_fails(reg, "users-value", &r, 422, WEIR_REG_INVALID_SCHEMA);
    r = avro("");
    reg_fails(reg, "users-value", &r, 422, WEIR_REG_INVALID_SCHEMA);
    r = avro(REC_A);
    r.schema_type = "PROTOBUF";
    reg_fails(reg, "users-value", &r, 422, WEIR_REG_INVALID_SCHEMA);
    r = avro(REC_A);
    weir_registry_set_max_schema_bytes(reg, 10);
    reg_fails(reg, "users-value", &r, 422, WEIR_REG_SCHEMA_TOO_LARGE);
    weir_registry_set_max_schema_bytes(reg, WEIR_REG_DEFAULT_MAX_SCHEMA_BYTES);
    reg_fails(reg, "", &r, 422, WEIR_REG_INVALID_SUBJECT);
    reg_fails(reg, "__GLOBAL", &r, 422, WEIR_REG_INVALID_SUBJECT);
    reg_fails(reg, "a\nb", &r, 422, WEIR_REG_INVALID_SUBJECT);

    /* A JSON schema: its own type, and a different type is incompatible. */
    r.schema = "{\"type\":\"object\"}";
    r.schema_len = strlen(r.schema);
    r.schema_type = "JSON";
    reg_fails(reg, "users-value", &r, 409, WEIR_REG_INCOMPATIBLE);
    assert_int_equal(weir_registry_register(reg, "json-value", &r, &res, &err), 0);
    assert_int_equal(res.id, 3);
    assert_int_equal(res.schema->type, WEIR_SCHEMA_JSON);
    /* Key order does not make another JSON schema; the type is part of the
     * identity. */
    r.schema = "{ \"type\" : \"object\" }";
    r.schema_len = strlen(r.schema);
    assert_int_equal(weir_registry_register(reg, "json-value", &r, &res, &err), 0);
    assert_int_equal(res.id, 3);
    assert_true(res.existed);

    /* Ids map to subjects and versions. */
    {
        weir_reg_subject_version_t *sv;
        size_t n;

        assert_int_equal(weir_registry_id_versions(reg, 1, false, &sv, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(sv[0].subject, "other-value");
        assert_string_equal(sv[1].subject, "users-value");
        assert_int_equal(sv[1].version, 1);
        free(sv);
        assert_int_equal(weir_registry_id_versions(reg, 99, false, &sv, &n, &err), -1);
        assert_int_equal(err.code, WEIR_REG_SCHEMA_NOT_FOUND);
        assert_string_equal(err.message, "Schema 99 not found");
    }
    assert_int_equal(weir_registry_schema_by_id(reg, 99, &s, &err), -1);
    assert_int_equal(err.status, 404);
    assert_int_equal(err.code, WEIR_REG_SCHEMA_NOT_FOUND);
    assert_ptr_equal(weir_registry_id_in_subject(reg, "users-value", 2),
                     weir_registry_id_in_subject(reg, "users-value", 2));
    assert_non_null(weir_registry_id_in_subject(reg, "users-value", 1));
    assert_null(weir_registry_id_in_subject(reg, "users-value", 3));
    assert_null(weir_registry_id_in_subject(reg, "nope", 1));
    weir_registry_free(reg);
}

static void
test_dry_run(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r = avro(REC_B);
    weir_reg_result_t res;
    weir_reg_err_t err = {0};
    uint64_t gen;

    (void)state;
    reg_ok(reg, "s", REC_A, 1);
    gen = weir_registry_generation(reg);
    r.dry_run = true;
    assert_int_equal(weir_registry_register(reg, "s", &r, &res, &err), 0);
    assert_false(res.existed);
    assert_int_equal(res.id, 0); /* would be new */
    assert_int_equal(res.version, 2);
    assert_int_equal(weir_registry_generation(reg), gen);
    /* Nothing was written: the real registration gets id 2 version 2. */
    assert_int_equal(reg_ok(reg, "s", REC_B, 2), 2);
    /* A dry run of an incompatible schema fails like the real one. */
    r = avro(REC_C);
    r.dry_run = true;
    reg_fails(reg, "s", &r, 409, WEIR_REG_INCOMPATIBLE);
    weir_registry_free(reg);
}

static void
test_lookup_and_versions(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r = avro(REC_A2);
    weir_reg_result_t res;
    weir_reg_err_t err = {0};
    const weir_reg_version_t *v;
    int32_t *vers, ver;
    const char **names;
    size_t n;

    (void)state;
    reg_ok(reg, "a-value", REC_A, 1);
    reg_ok(reg, "a-value", REC_B, 2);
    reg_ok(reg, "b-value", REC_A, 1);
    assert_int_equal(weir_registry_lookup(reg, "a-value", &r, false, &res, &err), 0);
    assert_int_equal(res.id, 1);
    assert_int_equal(res.version, 1);
    r = avro(REC_C);
    assert_int_equal(weir_registry_lookup(reg, "a-value", &r, false, &res, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SCHEMA_NOT_FOUND);
    assert_int_equal(weir_registry_lookup(reg, "zzz", &r, false, &res, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_FOUND);
    assert_string_equal(err.message, "Subject 'zzz' not found.");

    assert_int_equal(weir_registry_get_version(reg, "a-value", WEIR_REG_LATEST, false, &v, &err),
                     0);
    assert_int_equal(v->version, 2);
    assert_int_equal(v->schema->id, 2);
    assert_int_equal(weir_registry_get_version(reg, "a-value", 1, false, &v, &err), 0);
    assert_int_equal(v->schema->id, 1);
    assert_int_equal(weir_registry_get_version(reg, "a-value", 7, false, &v, &err), -1);
    assert_int_equal(err.code, WEIR_REG_VERSION_NOT_FOUND);
    assert_int_equal(weir_registry_get_version(reg, "zz", 1, false, &v, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_FOUND);

    assert_int_equal(weir_registry_versions(reg, "a-value", false, false, &vers, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(vers[0], 1);
    assert_int_equal(vers[1], 2);
    free(vers);
    assert_int_equal(weir_registry_versions(reg, "zz", false, false, &vers, &n, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_FOUND);

    weir_registry_subjects(reg, NULL, false, false, &names, &n);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "a-value");
    assert_string_equal(names[1], "b-value");
    free(names);
    weir_registry_subjects(reg, "b", false, false, &names, &n);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "b-value");
    free(names);

    /* Version strings. */
    assert_int_equal(weir_registry_parse_version("latest", &ver, &err), 0);
    assert_int_equal(ver, WEIR_REG_LATEST);
    assert_int_equal(weir_registry_parse_version("-1", &ver, &err), 0);
    assert_int_equal(ver, WEIR_REG_LATEST);
    assert_int_equal(weir_registry_parse_version("2147483647", &ver, &err), 0);
    assert_int_equal(ver, 2147483647);
    assert_int_equal(weir_registry_parse_version("3", &ver, &err), 0);
    assert_int_equal(ver, 3);
    {
        const char *bad[] = {"0", "-2", "2147483648", "abc", "1.5", "", " 1", "+1", "1x"};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(weir_registry_parse_version(bad[i], &ver, &err), -1);
            assert_int_equal(err.status, 422);
            assert_int_equal(err.code, WEIR_REG_INVALID_VERSION);
        }
    }
    weir_registry_free(reg);
}

static void
test_deletes(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r;
    weir_reg_result_t res;
    weir_reg_err_t err = {0};
    const weir_reg_schema_t *s;
    const weir_reg_version_t *v;
    int32_t *vers, dv;
    const char **names;
    size_t n;

    (void)state;
    reg_ok(reg, "s", REC_A, 1);
    reg_ok(reg, "s", REC_B, 2);
    /* Permanent before soft: 40407. */
    assert_int_equal(weir_registry_delete_version(reg, "s", 2, true, &dv, &err), -1);
    assert_int_equal(err.code, WEIR_REG_VERSION_NOT_SOFT_DELETED);
    /* Soft-delete the latest. */
    assert_int_equal(weir_registry_delete_version(reg, "s", WEIR_REG_LATEST, false, &dv, &err), 0);
    assert_int_equal(dv, 2);
    assert_int_equal(weir_registry_delete_version(reg, "s", 2, false, &dv, &err), -1);
    assert_int_equal(err.code, WEIR_REG_VERSION_SOFT_DELETED);
    assert_int_equal(weir_registry_delete_version(reg, "s", 9, false, &dv, &err), -1);
    assert_int_equal(err.code, WEIR_REG_VERSION_NOT_FOUND);
    /* Hidden from listings and latest, visible with deleted; the id stays
     * readable. */
    assert_int_equal(weir_registry_versions(reg, "s", false, false, &vers, &n, &err), 0);
    assert_int_equal(n, 1);
    free(vers);
    assert_int_equal(weir_registry_versions(reg, "s", true, false, &vers, &n, &err), 0);
    assert_int_equal(n, 2);
    free(vers);
    assert_int_equal(weir_registry_versions(reg, "s", false, true, &vers, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(vers[0], 2);
    free(vers);
    assert_int_equal(weir_registry_get_version(reg, "s", WEIR_REG_LATEST, false, &v, &err), 0);
    assert_int_equal(v->version, 1);
    assert_int_equal(weir_registry_get_version(reg, "s", 2, false, &v, &err), -1);
    assert_int_equal(weir_registry_get_version(reg, "s", 2, true, &v, &err), 0);
    assert_true(v->deleted);
    assert_int_equal(weir_registry_schema_by_id(reg, 2, &s, &err), 0);
    assert_null(weir_registry_id_in_subject(reg, "s", 2));
    /* Lookup ignores it unless asked. */
    r = avro(REC_B);
    assert_int_equal(weir_registry_lookup(reg, "s", &r, false, &res, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SCHEMA_NOT_FOUND);
    assert_int_equal(weir_registry_lookup(reg, "s", &r, true, &res, &err), 0);
    assert_int_equal(res.version, 2);
    /* Registering it again makes version 3 with the same id (numbering
     * continues past soft-deleted versions). */
    r = avro(REC_B);
    assert_int_equal(weir_registry_register(reg, "s", &r, &res, &err), 0);
    assert_int_equal(res.id, 2);
    assert_int_equal(res.version, 3);
    assert_false(res.existed);

    /* Subject deletes: soft returns the live versions, twice is 40404,
     * permanent needs soft first (40405). */
    assert_int_equal(weir_registry_delete_subject(reg, "s", true, &vers, &n, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_SOFT_DELETED);
    assert_int_equal(weir_registry_set_config(reg, "s", "FULL", false, &err), 0);
    assert_int_equal(weir_registry_delete_subject(reg, "s", false, &vers, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(vers[0], 1);
    assert_int_equal(vers[1], 3);
    free(vers);
    {
        weir_compat_level_t l;

        /* The subject's level went with it. */
        assert_int_equal(weir_registry_get_config(reg, "s", false, &l, &err), -1);
        assert_int_equal(err.code, WEIR_REG_SUBJECT_CONFIG_NOT_FOUND);
    }
    assert_int_equal(weir_registry_delete_subject(reg, "s", false, &vers, &n, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_SOFT_DELETED);
    weir_registry_subjects(reg, NULL, false, false, &names, &n);
    assert_int_equal(n, 0);
    free(names);
    weir_registry_subjects(reg, NULL, true, false, &names, &n);
    assert_int_equal(n, 1);
    free(names);
    weir_registry_subjects(reg, NULL, false, true, &names, &n);
    assert_int_equal(n, 1);
    free(names);
    assert_int_equal(weir_registry_versions(reg, "s", false, false, &vers, &n, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_FOUND);
    assert_int_equal(weir_registry_delete_subject(reg, "s", true, &vers, &n, &err), 0);
    assert_int_equal(n, 3);
    free(vers);
    assert_int_equal(weir_registry_delete_subject(reg, "s", true, &vers, &n, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_FOUND);
    /* Gone by id, but ids are never reused: the same schema gets its id
     * back and numbering restarts at 1; a new schema gets a new id. */
    assert_int_equal(weir_registry_schema_by_id(reg, 2, &s, &err), -1);
    assert_int_equal(reg_ok(reg, "s", REC_B, 1), 2);
    assert_int_equal(reg_ok(reg, "t", REC_C, 1), 3);
    weir_registry_free(reg);
}

static void
test_soft_deleted_not_checked(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r = avro(REC_C);
    weir_reg_err_t err = {0};
    int32_t dv;

    (void)state;
    reg_ok(reg, "s", REC_A, 1);
    reg_fails(reg, "s", &r, 409, WEIR_REG_INCOMPATIBLE);
    assert_int_equal(weir_registry_delete_version(reg, "s", 1, false, &dv, &err), 0);
    /* Only soft-deleted versions left: nothing to be compatible with. */
    assert_int_equal(reg_ok(reg, "s", REC_C, 2), 2);
    weir_registry_free(reg);
}

static void
test_config(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r = avro(REC_C);
    weir_reg_err_t err = {0};
    weir_compat_level_t l;

    (void)state;
    assert_int_equal(weir_registry_get_config(reg, NULL, false, &l, &err), 0);
    assert_int_equal(l, WEIR_COMPAT_BACKWARD);
    assert_int_equal(weir_registry_get_config(reg, "s", false, &l, &err), -1);
    assert_int_equal(err.status, 404);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_CONFIG_NOT_FOUND);
    assert_int_equal(weir_registry_get_config(reg, "s", true, &l, &err), 0);
    assert_int_equal(l, WEIR_COMPAT_BACKWARD);
    assert_int_equal(weir_registry_set_config(reg, NULL, "FULL", false, &err), 0);
    assert_int_equal(weir_registry_get_config(reg, "s", true, &l, &err), 0);
    assert_int_equal(l, WEIR_COMPAT_FULL);
    assert_int_equal(weir_registry_set_config(reg, NULL, "SIDEWAYS", false, &err), -1);
    assert_int_equal(err.code, WEIR_REG_INVALID_COMPATIBILITY);
    assert_int_equal(err.status, 422);
    assert_int_equal(weir_registry_set_config(reg, "s", "full", false, &err), -1);
    assert_int_equal(err.code, WEIR_REG_INVALID_COMPATIBILITY);

    /* A subject-level NONE lets the incompatible change in; a subject that
     * does not exist yet may be configured. */
    reg_ok(reg, "s", REC_A, 1);
    reg_fails(reg, "s", &r, 409, WEIR_REG_INCOMPATIBLE);
    assert_int_equal(weir_registry_set_config(reg, "s", "NONE", false, &err), 0);
    assert_int_equal(reg_ok(reg, "s", REC_C, 2), 2);
    assert_int_equal(weir_registry_set_config(reg, "new-subject", "FORWARD", false, &err), 0);
    assert_int_equal(weir_registry_get_config(reg, "new-subject", false, &l, &err), 0);
    assert_int_equal(l, WEIR_COMPAT_FORWARD);
    /* Delete answers the level in force before. */
    assert_int_equal(weir_registry_delete_config(reg, "s", &l, &err), 0);
    assert_int_equal(l, WEIR_COMPAT_NONE);
    assert_int_equal(weir_registry_get_config(reg, "s", false, &l, &err), -1);
    assert_int_equal(weir_registry_delete_config(reg, "nobody", &l, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_FOUND);
    assert_int_equal(weir_registry_delete_config(reg, NULL, &l, &err), 0);
    assert_int_equal(l, WEIR_COMPAT_FULL);
    assert_int_equal(weir_registry_get_config(reg, NULL, false, &l, &err), 0);
    assert_int_equal(l, WEIR_COMPAT_BACKWARD);
    weir_registry_free(reg);
}

static void
test_levels_through_registry(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r;
    weir_reg_err_t err = {0};
    const char *v1 = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"string\"}]}";
    const char *v2 = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"b\",\"type\":"
                     "\"int\",\"default\":0}]}";
    const char *v3 = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"int\",\"default\":0},{\"name\":\"b\",\"type\":\"int\",\"default\":0}]}";

    (void)state;
    assert_int_equal(weir_registry_set_config(reg, "bt", "NONE", false, &err), 0);
    reg_ok(reg, "bt", v1, 1);
    reg_ok(reg, "bt", v2, 2);
    assert_int_equal(weir_registry_set_config(reg, "bt", "BACKWARD_TRANSITIVE", false, &err), 0);
    r = avro(v3);
    reg_fails(reg, "bt", &r, 409, WEIR_REG_INCOMPATIBLE); /* v3 cannot read v1's string a */
    assert_int_equal(weir_registry_set_config(reg, "bt", "BACKWARD", false, &err), 0);
    assert_int_equal(reg_ok(reg, "bt", v3, 3), 3);

    /* FORWARD: removing a field without a default breaks old readers. */
    assert_int_equal(weir_registry_set_config(reg, "fw", "FORWARD", false, &err), 0);
    reg_ok(reg, "fw", REC_C, 1);
    r = avro(REC_A);
    reg_fails(reg, "fw", &r, 409, WEIR_REG_INCOMPATIBLE);
    /* Adding a field is fine for FORWARD. */
    weir_registry_free(reg);
    reg = mem_registry();
    assert_int_equal(weir_registry_set_config(reg, "fw", "FORWARD", false, &err), 0);
    reg_ok(reg, "fw", REC_A, 1);
    reg_ok(reg, "fw", REC_C, 2);
    /* FULL refuses REC_C after REC_A, accepts REC_B. */
    assert_int_equal(weir_registry_set_config(reg, "full", "FULL", false, &err), 0);
    reg_ok(reg, "full", REC_A, 1);
    r = avro(REC_C);
    reg_fails(reg, "full", &r, 409, WEIR_REG_INCOMPATIBLE);
    reg_ok(reg, "full", REC_B, 2);
    weir_registry_free(reg);
}

static void
test_check_compat(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r = avro(REC_C);
    weir_reg_err_t err = {0};
    weir_msgs_t msgs = {0};
    bool ok;

    (void)state;
    /* No subject: compatible (nothing to compare with) for "all", 40401 for
     * a version. */
    assert_int_equal(weir_registry_check_compat(reg, "s", 0, true, &r, &ok, &msgs, &err), 0);
    assert_true(ok);
    assert_int_equal(
        weir_registry_check_compat(reg, "s", WEIR_REG_LATEST, false, &r, &ok, &msgs, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_NOT_FOUND);
    reg_ok(reg, "s", REC_A, 1);
    assert_int_equal(
        weir_registry_check_compat(reg, "s", WEIR_REG_LATEST, false, &r, &ok, &msgs, &err), 0);
    assert_false(ok);
    assert_true(msgs.n > 0);
    assert_non_null(strstr(msgs.v[0], "READER_FIELD_MISSING_DEFAULT_VALUE"));
    weir_msgs_free(&msgs);
    r = avro(REC_B);
    assert_int_equal(weir_registry_check_compat(reg, "s", 1, false, &r, &ok, &msgs, &err), 0);
    assert_true(ok);
    assert_int_equal(msgs.n, 0);
    assert_int_equal(weir_registry_check_compat(reg, "s", 5, false, &r, &ok, &msgs, &err), -1);
    assert_int_equal(err.code, WEIR_REG_VERSION_NOT_FOUND);
    r = avro("{\"type\":\"nope\"}");
    assert_int_equal(weir_registry_check_compat(reg, "s", 1, false, &r, &ok, &msgs, &err), -1);
    assert_int_equal(err.code, WEIR_REG_INVALID_SCHEMA);
    /* Checking registers nothing. */
    {
        int32_t *vers;
        size_t n;

        assert_int_equal(weir_registry_versions(reg, "s", true, false, &vers, &n, &err), 0);
        assert_int_equal(n, 1);
        free(vers);
    }
    weir_registry_free(reg);
}

static void
test_modes(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_schema_req_t r;
    weir_reg_result_t res;
    weir_reg_err_t err = {0};
    weir_reg_mode_t m;
    int32_t *vers, dv;
    size_t n;

    (void)state;
    reg_ok(reg, "s", REC_A, 1);
    assert_int_equal(weir_registry_get_mode(reg, NULL, false, &m, &err), 0);
    assert_int_equal(m, WEIR_MODE_READWRITE);
    assert_int_equal(weir_registry_get_mode(reg, "s", false, &m, &err), -1);
    assert_int_equal(err.code, WEIR_REG_SUBJECT_MODE_NOT_FOUND);
    assert_int_equal(weir_registry_set_mode(reg, NULL, "WRITEONLY", false, &err), -1);
    assert_int_equal(err.code, WEIR_REG_INVALID_MODE);

    /* Read-only: registrations (even of a known schema) and deletes fail. */
    assert_int_equal(weir_registry_set_mode(reg, NULL, "READONLY", false, &err), 0);
    r = avro(REC_A);
    reg_fails(reg, "s", &r, 422, WEIR_REG_OPERATION_NOT_PERMITTED);
    assert_int_equal(weir_registry_delete_version(reg, "s", 1, false, &dv, &err), -1);
    assert_int_equal(err.code, WEIR_REG_OPERATION_NOT_PERMITTED);
    assert_int_equal(weir_registry_delete_subject(reg, "s", false, &vers, &n, &err), -1);
    assert_int_equal(err.code, WEIR_REG_OPERATION_NOT_PERMITTED);
    assert_string_equal(err.message, "Subject s is in read-only mode");
    /* A subject mode overrides the global one. */
    assert_int_equal(weir_registry_set_mode(reg, "s", "READWRITE", false, &err), 0);
    assert_int_equal(reg_ok(reg, "s", REC_B, 2), 2);
    assert_int_equal(weir_registry_get_mode(reg, "s", false, &m, &err), 0);
    assert_int_equal(m, WEIR_MODE_READWRITE);
    assert_int_equal(weir_registry_delete_mode(reg, "s", &m, &err), 0);
    assert_int_equal(m, WEIR_MODE_READWRITE);
    assert_int_equal(weir_registry_get_mode(reg, "s", true, &m, &err), 0);
    assert_int_equal(m, WEIR_MODE_READONLY);
    assert_int_equal(weir_registry_delete_mode(reg, NULL, &m, &err), 0);
    assert_int_equal(m, WEIR_MODE_READONLY);

    /* An id outside IMPORT mode is refused. */
    r = avro(REC_C);
    r.id = 100;
    reg_fails(reg, "other", &r, 422, WEIR_REG_OPERATION_NOT_PERMITTED);

    /* IMPORT over existing subjects needs force. */
    assert_int_equal(weir_registry_set_mode(reg, NULL, "IMPORT", false, &err), -1);
    assert_int_equal(err.code, WEIR_REG_OPERATION_NOT_PERMITTED);
    assert_string_equal(err.message, "Cannot import since found existing subjects");
    assert_int_equal(weir_registry_set_mode(reg, "s", "IMPORT", false, &err), -1);
    assert_int_equal(weir_registry_set_mode(reg, "imp", "IMPORT", false, &err), 0);
    /* In IMPORT: the given id and version, no compatibility check. */
    r = avro(REC_C);
    r.id = 100;
    r.version = 5;
    assert_int_equal(weir_registry_register(reg, "imp", &r, &res, &err), 0);
    assert_int_equal(res.id, 100);
    assert_int_equal(res.version, 5);
    r = avro("\"int\""); /* incompatible with REC_C under BACKWARD: not checked */
    r.id = 101;
    assert_int_equal(weir_registry_register(reg, "imp", &r, &res, &err), 0);
    assert_int_equal(res.id, 101);
    assert_int_equal(res.version, 6);
    /* Without an id: refused; an id already used by another schema: 42207. */
    r = avro(REC_B);
    reg_fails(reg, "imp", &r, 422, WEIR_REG_OPERATION_NOT_PERMITTED);
    r.id = 100;
    reg_fails(reg, "imp", &r, 422, WEIR_REG_ID_DOES_NOT_MATCH);
    /* REC_A already has id 1: importing it as 102 does not match. */
    r = avro(REC_A);
    r.id = 102;
    reg_fails(reg, "imp2", &r, 422, WEIR_REG_OPERATION_NOT_PERMITTED); /* imp2 is READWRITE */
    assert_int_equal(weir_registry_set_mode(reg, "imp2", "IMPORT", false, &err), 0);
    reg_fails(reg, "imp2", &r, 422, WEIR_REG_ID_DOES_NOT_MATCH);
    /* Back to READWRITE: new ids continue above the imported ones. */
    assert_int_equal(weir_registry_set_mode(reg, "imp", "READWRITE", false, &err), 0);
    assert_int_equal(reg_ok(reg, "fresh", "\"string\"", 1), 102);
    weir_registry_free(reg);
}

static void
test_references(void **state)
{
    weir_registry_t *reg = mem_registry();
    const char *addr = "{\"type\":\"record\",\"name\":\"edu.Address\",\"fields\":[{\"name\":"
                       "\"street\",\"type\":\"string\"}]}";
    const char *person = "{\"type\":\"record\",\"name\":\"edu.Person\",\"fields\":[{\"name\":"
                         "\"home\",\"type\":\"Address\"}]}";
    weir_reg_ref_t refs[] = {{"edu.Address", "address-value", 1}};
    weir_reg_ref_t bad[] = {{"edu.Address", "address-value", 9}};
    weir_reg_ref_t latest[] = {{"edu.Address", "address-value", WEIR_REG_LATEST}};
    weir_reg_schema_req_t r = avro(person);
    weir_reg_result_t res;
    weir_reg_err_t err = {0};
    int32_t *ids, dv, *vers;
    size_t n;

    (void)state;
    reg_ok(reg, "address-value", addr, 1);
    /* Without references the name is unknown. */
    reg_fails(reg, "person-value", &r, 422, WEIR_REG_INVALID_SCHEMA);
    r.refs = bad;
    r.nrefs = 1;
    reg_fails(reg, "person-value", &r, 422, WEIR_REG_INVALID_SCHEMA);
    r.refs = refs;
    assert_int_equal(weir_registry_register(reg, "person-value", &r, &res, &err), 0);
    assert_int_equal(res.id, 2);
    assert_int_equal(res.schema->nrefs, 1);
    assert_string_equal(res.schema->refs[0].subject, "address-value");
    /* "latest" resolves to version 1: the same schema. */
    r.refs = latest;
    assert_int_equal(weir_registry_register(reg, "person-value", &r, &res, &err), 0);
    assert_int_equal(res.id, 2);
    assert_true(res.existed);
    assert_int_equal(weir_registry_lookup(reg, "person-value", &r, false, &res, &err), 0);
    assert_int_equal(res.id, 2);
    /* The same text with no references is another (invalid) schema. */
    r.refs = NULL;
    r.nrefs = 0;
    assert_int_equal(weir_registry_lookup(reg, "person-value", &r, false, &res, &err), -1);

    assert_int_equal(weir_registry_referenced_by(reg, "address-value", 1, &ids, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 2);
    free(ids);
    assert_int_equal(weir_registry_referenced_by(reg, "address-value", 2, &ids, &n, &err), -1);
    assert_int_equal(err.code, WEIR_REG_VERSION_NOT_FOUND);
    /* A referenced version cannot be deleted (42206) until its referrer is. */
    assert_int_equal(weir_registry_delete_version(reg, "address-value", 1, false, &dv, &err), -1);
    assert_int_equal(err.code, WEIR_REG_REFERENCE_EXISTS);
    assert_int_equal(weir_registry_delete_subject(reg, "address-value", false, &vers, &n, &err),
                     -1);
    assert_int_equal(err.code, WEIR_REG_REFERENCE_EXISTS);
    assert_int_equal(weir_registry_delete_subject(reg, "person-value", false, &vers, &n, &err), 0);
    free(vers);
    assert_int_equal(weir_registry_delete_version(reg, "address-value", 1, false, &dv, &err), 0);
    /* Permanently only once the referrer is gone for good. */
    assert_int_equal(weir_registry_delete_version(reg, "address-value", 1, true, &dv, &err), -1);
    assert_int_equal(err.code, WEIR_REG_REFERENCE_EXISTS);
    assert_int_equal(weir_registry_delete_subject(reg, "person-value", true, &vers, &n, &err), 0);
    free(vers);
    assert_int_equal(weir_registry_delete_version(reg, "address-value", 1, true, &dv, &err), 0);

    /* JSON Schema references by name. */
    {
        const char *item = "{\"type\":\"object\",\"properties\":{\"sku\":{\"type\":\"string\"}}}";
        const char *order = "{\"type\":\"object\",\"properties\":{\"item\":{\"$ref\":"
                            "\"item.json\"}}}";
        weir_reg_ref_t jrefs[] = {{"item.json", "item-value", 1}};
        weir_reg_schema_req_t j = {
            .schema = item, .schema_len = strlen(item), .schema_type = "JSON"};

        assert_int_equal(weir_registry_register(reg, "item-value", &j, &res, &err), 0);
        j.schema = order;
        j.schema_len = strlen(order);
        reg_fails(reg, "order-value", &j, 422, WEIR_REG_INVALID_SCHEMA);
        j.refs = jrefs;
        j.nrefs = 1;
        assert_int_equal(weir_registry_register(reg, "order-value", &j, &res, &err), 0);
        assert_int_equal(res.version, 1);
    }
    weir_registry_free(reg);
}

static void
test_policy(void **state)
{
    weir_registry_t *reg = mem_registry();
    weir_reg_policy_t p = {.has_floor = true, .floor = WEIR_COMPAT_FULL, .approval = true};
    weir_reg_policy_t got;
    weir_reg_schema_req_t r = avro(REC_C);
    weir_reg_err_t err = {0};

    (void)state;
    reg_ok(reg, "s", REC_A, 1);
    assert_int_equal(weir_registry_set_config(reg, "s", "NONE", false, &err), 0);
    assert_int_equal(weir_registry_set_policy(reg, "s", &p, &err), 0);
    weir_registry_get_policy(reg, "s", &got);
    assert_true(got.has_floor);
    assert_int_equal(got.floor, WEIR_COMPAT_FULL);
    assert_true(got.approval);
    /* The floor raises the level in force above the subject's NONE. */
    assert_int_equal(weir_registry_effective_compat(reg, "s"), WEIR_COMPAT_FULL);
    reg_fails(reg, "s", &r, 409, WEIR_REG_INCOMPATIBLE);
    /* Setting a level below the floor needs an administrator. */
    assert_int_equal(weir_registry_set_config(reg, "s", "BACKWARD", false, &err), -1);
    assert_int_equal(err.code, WEIR_REG_OPERATION_NOT_PERMITTED);
    assert_int_equal(weir_registry_set_config(reg, "s", "FULL_TRANSITIVE", false, &err), 0);
    assert_int_equal(weir_registry_set_config(reg, "s", "BACKWARD", true, &err), 0);
    /* Lowering the floor itself lets BACKWARD rule again. */
    p.floor = WEIR_COMPAT_BACKWARD;
    assert_int_equal(weir_registry_set_policy(reg, "s", &p, &err), 0);
    assert_int_equal(weir_registry_effective_compat(reg, "s"), WEIR_COMPAT_BACKWARD);
    weir_registry_get_policy(reg, "nobody", &got);
    assert_false(got.has_floor);
    assert_false(got.approval);
    weir_registry_free(reg);
}

static weir_store_t *
open_store(const char *path)
{
    weir_store_t *st;
    char err[256];

    if (weir_store_open(path, &st, err, sizeof(err)) != 0)
        fail_msg("store: %s", err);
    return st;
}

static void
test_persistence(void **state)
{
    char path[128], err[256];
    weir_store_t *st;
    weir_registry_t *reg;
    weir_reg_err_t e = {0};
    weir_reg_schema_req_t r;
    weir_reg_result_t res;
    weir_reg_policy_t p = {.has_floor = true, .floor = WEIR_COMPAT_FORWARD, .approval = true};
    const weir_reg_schema_t *s;
    const weir_reg_version_t *v;
    weir_compat_level_t l;
    weir_reg_mode_t m;
    int32_t *vers, dv;
    size_t n;
    weir_reg_ref_t refs[] = {{"User", "a-value", 1}};

    (void)state;
    snprintf(path, sizeof(path), "%s/persist.db", tmpdir);
    st = open_store(path);
    assert_int_equal(weir_registry_open(st, &reg, err, sizeof(err)), 0);
    reg_ok(reg, "a-value", REC_A, 1);
    reg_ok(reg, "a-value", REC_B, 2);
    reg_ok(reg, "b-value", REC_A2, 1);
    r = avro("{\"type\":\"record\",\"name\":\"Holder\",\"fields\":[{\"name\":\"u\",\"type\":"
             "\"User\"}]}");
    r.refs = refs;
    r.nrefs = 1;
    assert_int_equal(weir_registry_register(reg, "holder-value", &r, &res, &e), 0);
    assert_int_equal(res.id, 3);
    assert_int_equal(weir_registry_delete_version(reg, "a-value", 2, false, &dv, &e), 0);
    assert_int_equal(weir_registry_set_config(reg, NULL, "FULL", false, &e), 0);
    assert_int_equal(weir_registry_set_config(reg, "b-value", "NONE", false, &e), 0);
    assert_int_equal(weir_registry_set_mode(reg, "b-value", "READONLY", false, &e), 0);
    assert_int_equal(weir_registry_set_policy(reg, "c-value", &p, &e), 0);
    /* A permanently deleted schema: its id must not come back for another. */
    reg_ok(reg, "gone", "\"bytes\"", 1);
    assert_int_equal(weir_registry_delete_subject(reg, "gone", false, &vers, &n, &e), 0);
    free(vers);
    assert_int_equal(weir_registry_delete_subject(reg, "gone", true, &vers, &n, &e), 0);
    free(vers);
    weir_registry_free(reg);
    weir_store_close(st);

    /* Reopen: everything is back. */
    st = open_store(path);
    assert_int_equal(weir_registry_open(st, &reg, err, sizeof(err)), 0);
    assert_int_equal(weir_registry_schema_by_id(reg, 1, &s, &e), 0);
    assert_string_equal(s->text, REC_A);
    assert_non_null(s->avro);
    assert_int_equal(weir_registry_get_version(reg, "a-value", WEIR_REG_LATEST, false, &v, &e), 0);
    assert_int_equal(v->version, 1);
    assert_int_equal(weir_registry_get_version(reg, "a-value", 2, true, &v, &e), 0);
    assert_true(v->deleted);
    assert_int_equal(weir_registry_get_version(reg, "holder-value", 1, false, &v, &e), 0);
    assert_int_equal(v->schema->nrefs, 1);
    assert_non_null(v->schema->avro); /* parsed with its reference */
    assert_int_equal(weir_registry_get_config(reg, NULL, false, &l, &e), 0);
    assert_int_equal(l, WEIR_COMPAT_FULL);
    assert_int_equal(weir_registry_get_config(reg, "b-value", false, &l, &e), 0);
    assert_int_equal(l, WEIR_COMPAT_NONE);
    assert_int_equal(weir_registry_get_mode(reg, "b-value", false, &m, &e), 0);
    assert_int_equal(m, WEIR_MODE_READONLY);
    weir_registry_get_policy(reg, "c-value", &p);
    assert_true(p.has_floor);
    assert_int_equal(p.floor, WEIR_COMPAT_FORWARD);
    assert_true(p.approval);
    assert_int_equal(weir_registry_schema_by_id(reg, 4, &s, &e), -1);
    /* The same text registers to the same ids; a new schema gets id 5. */
    r = avro(REC_A2);
    assert_int_equal(weir_registry_register(reg, "a-value", &r, &res, &e), 0);
    assert_true(res.existed);
    assert_int_equal(res.id, 1);
    assert_int_equal(reg_ok(reg, "again", "\"bytes\"", 1), 4);
    assert_int_equal(reg_ok(reg, "new", "\"long\"", 1), 5);
    /* Numbering continues past the soft-deleted version 2. */
    assert_int_equal(weir_registry_set_config(reg, "a-value", "NONE", false, &e), 0);
    r = avro(REC_C);
    assert_int_equal(weir_registry_register(reg, "a-value", &r, &res, &e), 0);
    assert_int_equal(res.version, 3);
    weir_registry_free(reg);
    weir_store_close(st);
}

/* When the store fails, nothing changes in memory and the answer is 500. */
static void
test_store_failure(void **state)
{
    char path[128], err[256];
    weir_store_t *st;
    weir_registry_t *reg;
    weir_reg_err_t e = {0};
    weir_reg_schema_req_t r = avro(REC_B);
    weir_reg_result_t res;
    const weir_reg_schema_t *s;
    sqlite3 *db;
    int32_t *vers;
    size_t n;

    (void)state;
    snprintf(path, sizeof(path), "%s/fail.db", tmpdir);
    st = open_store(path);
    assert_int_equal(weir_registry_open(st, &reg, err, sizeof(err)), 0);
    reg_ok(reg, "s", REC_A, 1);
    /* Break the table behind the registry's back. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_versions BEFORE INSERT ON "
                                  "registry_versions BEGIN SELECT RAISE(ABORT, 'no'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(weir_registry_register(reg, "s", &r, &res, &e), -1);
    assert_int_equal(e.status, 500);
    assert_int_equal(e.code, WEIR_REG_STORE_ERROR);
    assert_int_equal(weir_registry_schema_by_id(reg, 2, &s, &e), -1);
    assert_int_equal(weir_registry_versions(reg, "s", true, false, &vers, &n, &e), 0);
    assert_int_equal(n, 1);
    free(vers);
    assert_int_equal(weir_registry_register(reg, "t", &r, &res, &e), -1);
    assert_int_equal(weir_registry_versions(reg, "t", true, false, &vers, &n, &e), -1);
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_versions", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* The id was not consumed. */
    assert_int_equal(reg_ok(reg, "s", REC_B, 2), 2);
    weir_registry_free(reg);
    weir_store_close(st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_ids),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_lookup_and_versions),
        cmocka_unit_test(test_deletes),
        cmocka_unit_test(test_soft_deleted_not_checked),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_levels_through_registry),
        cmocka_unit_test(test_check_compat),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_store_failure),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
