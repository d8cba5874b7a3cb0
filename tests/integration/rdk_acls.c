/*
 * rdk_acls.c: librdkafka's admin ACL API against a broker, for
 * test_governance_acls.
 *
 *   rdk_acls -b HOST:PORT [-X key=value]... PRINCIPAL TOPIC
 *
 * Creates three bindings for PRINCIPAL - READ ALLOW on the LITERAL TOPIC,
 * WRITE DENY on the PREFIXED "TOPIC-", and one on the CLUSTER resource
 * wrongly named (refused by the broker) - then describes PRINCIPAL's topic
 * bindings, deletes them, and describes again.  Prints one line per result:
 *
 *   create 0 err=0
 *   create 2 err=42 msg=...
 *   describe n=2
 *   acl TOPIC LITERAL <name> <principal> <host> READ ALLOW
 *   delete err=0 matched=2
 *   describe n=0
 *
 * Exit status 0 when every admin call returned a result (per-binding errors
 * are printed, not fatal), 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define TIMEOUT_MS 20000

static rd_kafka_event_t *
wait_result(rd_kafka_queue_t *q, rd_kafka_event_type_t type)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TIMEOUT_MS + 5000);

    if (!ev || rd_kafka_event_type(ev) != type) {
        fprintf(stderr, "no result of type %d (%s)\n", (int)type,
                ev ? rd_kafka_event_name(ev) : "timeout");
        if (ev)
            rd_kafka_event_destroy(ev);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "%s: %s\n", rd_kafka_event_name(ev), rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static int
describe(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *principal)
{
    char errstr[256];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_TOPIC, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, principal, NULL,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
    rd_kafka_event_t *ev;
    const rd_kafka_AclBinding_t **acls;
    size_t n;

    if (!f) {
        fprintf(stderr, "filter: %s\n", errstr);
        return -1;
    }
    rd_kafka_DescribeAcls(rk, f, NULL, q);
    rd_kafka_AclBinding_destroy(f);
    ev = wait_result(q, RD_KAFKA_EVENT_DESCRIBEACLS_RESULT);
    if (!ev)
        return -1;
    acls = rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
    printf("describe n=%zu\n", n);
    for (size_t i = 0; i < n; i++)
        printf("acl %s %s %s %s %s %s %s\n",
               rd_kafka_ResourceType_name(rd_kafka_AclBinding_restype(acls[i])),
               rd_kafka_ResourcePatternType_name(
                   rd_kafka_AclBinding_resource_pattern_type(acls[i])),
               rd_kafka_AclBinding_name(acls[i]), rd_kafka_AclBinding_principal(acls[i]),
               rd_kafka_AclBinding_host(acls[i]),
               rd_kafka_AclOperation_name(rd_kafka_AclBinding_operation(acls[i])),
               rd_kafka_AclPermissionType_name(rd_kafka_AclBinding_permission_type(acls[i])));
    rd_kafka_event_destroy(ev);
    return 0;
}

int
main(int argc, char **argv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512], prefixed[512];
    const char *principal, *topic;
    rd_kafka_AclBinding_t *acls[3];
    rd_kafka_AclBindingFilter_t *del;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    rd_kafka_t *rk;
    int i, rc = 0;

    for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        const char *k = argv[i + 1];
        char *eq;

        if (strcmp(argv[i], "-b") == 0) {
            k = "bootstrap.servers";
            eq = argv[i + 1];
        } else if (strcmp(argv[i], "-X") == 0 && (eq = strchr(argv[i + 1], '='))) {
            *eq++ = '\0';
        } else {
            break;
        }
        if (rd_kafka_conf_set(conf, k, eq, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s\n", errstr);
            return 2;
        }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: rdk_acls -b HOST:PORT [-X key=value]... PRINCIPAL TOPIC\n");
        return 2;
    }
    principal = argv[i];
    topic = argv[i + 1];
    snprintf(prefixed, sizeof(prefixed), "%s-", topic);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    q = rd_kafka_queue_new(rk);

    acls[0] = rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_TOPIC, topic,
                                      RD_KAFKA_RESOURCE_PATTERN_LITERAL, principal, "*",
                                      RD_KAFKA_ACL_OPERATION_READ,
                                      RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr));
    acls[1] = rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_TOPIC, prefixed,
                                      RD_KAFKA_RESOURCE_PATTERN_PREFIXED, principal, "*",
                                      RD_KAFKA_ACL_OPERATION_WRITE,
                                      RD_KAFKA_ACL_PERMISSION_TYPE_DENY, errstr, sizeof(errstr));
    acls[2] = rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_BROKER, "not-the-cluster",
                                      RD_KAFKA_RESOURCE_PATTERN_LITERAL, principal, "*",
                                      RD_KAFKA_ACL_OPERATION_ALTER,
                                      RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr));
    for (i = 0; i < 3; i++) {
        if (!acls[i]) {
            fprintf(stderr, "binding %d: %s\n", i, errstr);
            return 1;
        }
    }
    rd_kafka_CreateAcls(rk, acls, 3, NULL, q);
    rd_kafka_AclBinding_destroy_array(acls, 3);
    ev = wait_result(q, RD_KAFKA_EVENT_CREATEACLS_RESULT);
    if (!ev) {
        rc = 1;
    } else {
        size_t n;
        const rd_kafka_acl_result_t **res =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
        for (size_t k = 0; k < n; k++) {
            const rd_kafka_error_t *e = rd_kafka_acl_result_error(res[k]);
            if (e)
                printf("create %zu err=%d msg=%s\n", k, (int)rd_kafka_error_code(e),
                       rd_kafka_error_string(e));
            else
                printf("create %zu err=0\n", k);
        }
        rd_kafka_event_destroy(ev);
    }
    if (rc == 0 && describe(rk, q, principal) != 0)
        rc = 1;

    del = rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_TOPIC, NULL,
                                        RD_KAFKA_RESOURCE_PATTERN_ANY, principal, NULL,
                                        RD_KAFKA_ACL_OPERATION_ANY,
                                        RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
    if (rc == 0 && del) {
        rd_kafka_DeleteAcls(rk, &del, 1, NULL, q);
        ev = wait_result(q, RD_KAFKA_EVENT_DELETEACLS_RESULT);
        if (!ev) {
            rc = 1;
        } else {
            size_t n, m = 0;
            const rd_kafka_DeleteAcls_result_response_t **r =
                rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &n);
            const rd_kafka_error_t *e = n ? rd_kafka_DeleteAcls_result_response_error(r[0]) : NULL;
            if (n)
                rd_kafka_DeleteAcls_result_response_matching_acls(r[0], &m);
            printf("delete err=%d matched=%zu\n", e ? (int)rd_kafka_error_code(e) : 0, m);
            rd_kafka_event_destroy(ev);
        }
    }
    if (del)
        rd_kafka_AclBinding_destroy(del);
    if (rc == 0 && describe(rk, q, principal) != 0)
        rc = 1;
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}
