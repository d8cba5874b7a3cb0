/*
 * weir_govtool.c: the governance store's typed API from the command line,
 * for the integration tests (the admin API and weirctl come with the admin
 * issue).  It opens weir.db with its own connection, as the broker's tools
 * will; a running broker picks changes up on SIGHUP.
 *
 *   weir_govtool DB tenant-put NAME GROUP [--prefix P]... [--max-partitions-per-topic N]
 *                [--max-total-partitions N] [--max-retention-ms N]
 *                [--produce-byte-rate N] [--fetch-byte-rate N] [--no-direct-create]
 *                [--no-grant]
 *   weir_govtool DB quota-put PRINCIPAL PRODUCE_RATE FETCH_RATE
 *   weir_govtool DB audit-verify      exit 0 "ok rows=N", or 1 "broken row=ID reason=..."
 *   weir_govtool DB audit-list        one row per line: id, principal, action, target,
 *                                     outcome, detail separated by tabs
 *
 * Every change is recorded in the audit log as by "User:weir_govtool".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weir_common.h"
#include "weir_store_governance.h"

#define ACTOR "User:weir_govtool"

static int
usage(void)
{
    fprintf(stderr, "usage: weir_govtool DB tenant-put NAME GROUP [options] | "
            "quota-put PRINCIPAL PRODUCE FETCH | audit-verify | audit-list\n");
    return 2;
}

static int64_t
num(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (*end) {
        fprintf(stderr, "not a number: %s\n", s);
        exit(2);
    }
    return v;
}

static int
tenant_put(weir_govstore_t *gs, int argc, char **argv)
{
    weir_tenant_t t;
    bool grant = true;
    char err[512] = "";
    int rc;

    if (argc < 2)
        return usage();
    weir_tenant_init(&t, argv[0], argv[1]);
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "--no-direct-create") == 0) {
            t.direct_create = false;
            continue;
        }
        if (strcmp(o, "--no-grant") == 0) {
            grant = false;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (strcmp(o, "--prefix") == 0)
            weir_tenant_add_prefix(&t, v);
        else if (strcmp(o, "--max-partitions-per-topic") == 0)
            t.max_partitions_per_topic = (int32_t)num(v);
        else if (strcmp(o, "--max-total-partitions") == 0)
            t.max_total_partitions = (int32_t)num(v);
        else if (strcmp(o, "--max-retention-ms") == 0)
            t.max_retention_ms = num(v);
        else if (strcmp(o, "--produce-byte-rate") == 0)
            t.produce_byte_rate = num(v);
        else if (strcmp(o, "--fetch-byte-rate") == 0)
            t.fetch_byte_rate = num(v);
        else
            return usage();
    }
    rc = weir_govstore_tenant_put(gs, &t, grant, ACTOR, err, sizeof(err));
    weir_tenant_clear(&t);
    if (rc != 0) {
        fprintf(stderr, "tenant-put: %s (%d)\n", err[0] ? err : "failed", rc);
        return 1;
    }
    printf("ok\n");
    return 0;
}

/* Tabs and newlines in a field would break the line format. */
static void
put_field(const char *s)
{
    for (; *s; s++)
        putchar(*s == '\t' || *s == '\n' ? ' ' : *s);
}

static void
print_row(void *arg, const weir_audit_row_t *r)
{
    (void)arg;
    printf("%" PRId64 "\t", r->id);
    put_field(r->principal);
    putchar('\t');
    put_field(r->action);
    putchar('\t');
    put_field(r->target);
    putchar('\t');
    put_field(r->outcome);
    putchar('\t');
    put_field(r->detail);
    putchar('\n');
}

int
main(int argc, char **argv)
{
    weir_govstore_t *gs;
    char err[512];
    int rc = 0;

    if (argc < 3)
        return usage();
    if (weir_govstore_open(argv[1], true, &gs, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (strcmp(argv[2], "tenant-put") == 0) {
        rc = tenant_put(gs, argc - 3, argv + 3);
    } else if (strcmp(argv[2], "quota-put") == 0 && argc == 6) {
        weir_quota_override_t o = {argv[3], num(argv[4]), num(argv[5])};
        rc = weir_govstore_quota_override_put(gs, &o, ACTOR) == 0 ? 0 : 1;
        printf(rc ? "failed\n" : "ok\n");
    } else if (strcmp(argv[2], "audit-verify") == 0) {
        weir_audit_verify_t v;
        if (weir_govstore_audit_verify(gs, &v) != 0) {
            printf("error reading the audit log\n");
            rc = 1;
        } else if (v.ok) {
            printf("ok rows=%" PRId64 "\n", v.rows);
        } else {
            printf("broken row=%" PRId64 " reason=%s\n", v.bad_id, v.reason);
            rc = 1;
        }
    } else if (strcmp(argv[2], "audit-list") == 0) {
        rc = weir_govstore_audit_list(gs, 0, INT64_MAX, print_row, NULL) == 0 ? 0 : 1;
    } else {
        rc = usage();
    }
    weir_govstore_close(gs);
    return rc;
}
