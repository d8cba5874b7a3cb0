/*
 * test_group.c: the consumer-group coordinator (server/group/) driven
 * directly on a real libuv loop with real timers and a real weir.db in a
 * temp directory: the keyed hash map, JoinGroup (MEMBER_ID_REQUIRED, pending
 * member expiry, protocol selection and INCONSISTENT_GROUP_PROTOCOL, the
 * initial delay and its extension), SyncGroup parking, heartbeat errors,
 * session expiry, the rebalance timeout removing laggards, static
 * membership (rejoin without rebalance, fencing, leave by instance id),
 * LeaveGroup, cancellation of parked requests, re-entrant callbacks,
 * OffsetCommit (group-less commits, generation and member checks, metadata
 * size, batching of concurrent commits, durability before the answer),
 * OffsetDelete, DeleteGroups, retention, persistence across a reopen, and
 * a clean stop that leaves no handle on the loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "group/weir_group.h"
#include "group/weir_group_map.h"
#include "weir_common.h"
#include "weir_conf.h"
#include "weir_log.h"

static char tmpdir[64];
static int db_seq;

/* ------------------------------------------------------------------ */
/* Fixture: a loop, a configuration, a coordinator on a fresh database */

typedef struct fx_s {
    uv_loop_t loop;
    weir_conf_t conf;
    char db[128];
    weir_coord_t *co;
} fx_t;

static void
fx_open_co(fx_t *f)
{
    char err[256] = "";

    if (weir_coord_open(&f->loop, &f->conf, f->db, &f->co, err, sizeof(err)) != 0)
        fail_msg("weir_coord_open: %s", err);
}

static fx_t *
fx_new(void)
{
    fx_t *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    weir_conf_defaults(&f->conf);
    f->conf.group_min_session_timeout_ms = 10;
    f->conf.group_initial_rebalance_delay_ms = 30;
    snprintf(f->db, sizeof(f->db), "%s/weir-%d.db", tmpdir, ++db_seq);
    fx_open_co(f);
    return f;
}

/* uv_run(UV_RUN_ONCE) runs due timers before it polls: when this timer is
 * already due as the iteration starts, the poll that follows would block
 * until the next unrelated event (a session timer seconds away), so the
 * timer also stops the loop, which makes that poll return at once. */
static void
fx_on_tick(uv_timer_t *t)
{
    *(int *)t->data = 1;
    uv_stop(t->loop);
}

/* Runs the loop for about ms milliseconds. */
static void
run_for(fx_t *f, uint64_t ms)
{
    uv_timer_t t;
    int fired = 0;

    uv_timer_init(&f->loop, &t);
    t.data = &fired;
    uv_timer_start(&t, fx_on_tick, ms, 0);
    while (!fired)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* Runs the loop until *flag becomes non-zero (at most max_ms). */
static void
run_until(fx_t *f, const int *flag, uint64_t max_ms)
{
    uint64_t start;

    uv_update_time(&f->loop);
    start = uv_now(&f->loop);
    while (!*flag) {
        run_for(f, 2);
        if (uv_now(&f->loop) - start > max_ms)
            fail_msg("condition not reached within %llu ms", (unsigned long long)max_ms);
    }
}

/* Runs the loop until the coordinator has no store write queued or in
 * flight (at most max_ms), writes queued by the completion of others
 * included.  Writes are fsynced by a worker thread: how long they take
 * depends on the disk and the machine's load, so a test waits for them to
 * be done, never for a fixed time. */
static void
run_until_written(fx_t *f, uint64_t max_ms)
{
    uint64_t start;

    uv_update_time(&f->loop);
    start = uv_now(&f->loop);
    while (weir_coord_pending_writes(f->co) != 0) {
        run_for(f, 2);
        if (uv_now(&f->loop) - start > max_ms)
            fail_msg("store writes not done within %llu ms", (unsigned long long)max_ms);
    }
}

static void
fx_stop_co(fx_t *f)
{
    weir_coord_stop(f->co);
    f->co = NULL;
    /* The coordinator frees itself once its handles are closed and its
     * last write is done: the loop then has nothing left. */
    while (uv_run(&f->loop, UV_RUN_DEFAULT) != 0)
        ;
}

static void
fx_free(fx_t *f)
{
    if (f->co)
        fx_stop_co(f);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    weir_conf_free(&f->conf);
    free(f);
}

static weir_str_t
S(const char *s)
{
    return s ? (weir_str_t){(int32_t)strlen(s), s} : WEIR_STR_NULL;
}

/* ------------------------------------------------------------------ */
/* A waiter that records its result                                   */

typedef struct tw_s {
    weir_gwait_t w;
    int done;
    weir_kerr_t err;
    int32_t generation;
    char member_id[256];
    char leader_id[256];
    char protocol[64];
    int nmembers;
    char members[8][256];
    char instances[8][64];
    char metadata[8][64];
    char assignment[256];
    int32_t assignment_len;
    /* Re-entrancy: called from the done callback, if set. */
    void (*then)(struct tw_s *tw);
    void *then_arg;
} tw_t;

static void
tw_done(weir_gwait_t *w)
{
    tw_t *tw = w->opaque;

    tw->done++;
    tw->err = w->err;
    tw->generation = w->generation_id;
    snprintf(tw->member_id, sizeof(tw->member_id), "%s", w->member_id ? w->member_id : "");
    snprintf(tw->leader_id, sizeof(tw->leader_id), "%s", w->leader_id ? w->leader_id : "");
    snprintf(tw->protocol, sizeof(tw->protocol), "%s", w->protocol_name ? w->protocol_name : "");
    tw->nmembers = w->nmembers;
    for (int i = 0; i < w->nmembers && i < 8; i++) {
        snprintf(tw->members[i], sizeof(tw->members[i]), "%s", w->members[i].member_id);
        snprintf(tw->instances[i], sizeof(tw->instances[i]), "%s",
                 w->members[i].instance_id ? w->members[i].instance_id : "");
        snprintf(tw->metadata[i], sizeof(tw->metadata[i]), "%.*s", (int)w->members[i].metadata_len,
                 (const char *)w->members[i].metadata);
    }
    tw->assignment_len = w->assignment ? w->assignment_len : -1;
    snprintf(tw->assignment, sizeof(tw->assignment), "%.*s", (int)w->assignment_len,
             w->assignment ? (const char *)w->assignment : "");
    weir_gwait_release(w);
    if (tw->then)
        tw->then(tw);
}

static void
tw_init(tw_t *tw)
{
    memset(tw, 0, sizeof(*tw));
    tw->w.done = tw_done;
    tw->w.opaque = tw;
    tw->generation = -99;
}

/* JoinGroup with protocols "name=metadata,name=metadata" (protocol type
 * "consumer" unless ptype is given). */
typedef struct join_s {
    const char *group;
    const char *member;
    const char *instance;
    const char *client;
    const char *ptype;
    const char *protos;
    int32_t session;
    int32_t rebalance;
    bool require_known;
} join_t;

static void
do_join(fx_t *f, tw_t *tw, join_t j)
{
    weir_join_args_t a;
    weir_str_t names[8], mds[8];
    char buf[512], *save = NULL, *tok;
    int n = 0;

    tw_init(tw);
    snprintf(buf, sizeof(buf), "%s", j.protos ? j.protos : "range=m");
    for (tok = strtok_r(buf, ",", &save); tok && n < 8; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        names[n] = S(tok);
        mds[n] = eq ? S(eq + 1) : S("");
        n++;
    }
    memset(&a, 0, sizeof(a));
    a.group_id = S(j.group);
    a.member_id = S(j.member ? j.member : "");
    a.instance_id = S(j.instance);
    a.protocol_type = S(j.ptype ? j.ptype : "consumer");
    a.client_id = S(j.client ? j.client : "cli");
    a.client_host = "/127.0.0.1";
    a.session_timeout_ms = j.session ? j.session : 10000;
    a.rebalance_timeout_ms = j.rebalance ? j.rebalance : 10000;
    a.require_known_member_id = j.require_known;
    a.nprotocols = n;
    a.protocol_names = names;
    a.protocol_metadata = mds;
    weir_coord_join(f->co, &a, &tw->w);
}

static void
do_sync(fx_t *f, tw_t *tw, const char *group, int32_t gen, const char *member, const char *instance,
        int n, const char **ids, const char **assigns)
{
    weir_str_t mi[8], as[8];

    tw_init(tw);
    for (int i = 0; i < n; i++) {
        mi[i] = S(ids[i]);
        as[i] = S(assigns[i]);
    }
    weir_coord_sync(f->co, S(group), gen, S(member), S(instance), mi, as, n, &tw->w);
}

static weir_kerr_t
hb(fx_t *f, const char *group, int32_t gen, const char *member, const char *instance)
{
    return weir_coord_heartbeat(f->co, S(group), gen, S(member), S(instance));
}

static weir_group_t *
grp(fx_t *f, const char *id)
{
    return weir_coord_group(f->co, S(id));
}

/* Two members joined and synced into a Stable group; ids returned. */
static void
two_stable(fx_t *f, const char *group, char *m1, char *m2, int32_t *gen)
{
    tw_t a, b, sa, sb;
    const char *ids[2], *as[2] = {"A1", "A2"};

    do_join(f, &a, (join_t){.group = group, .client = "c1"});
    do_join(f, &b, (join_t){.group = group, .client = "c2"});
    run_until(f, &b.done, 2000);
    assert_int_equal(a.err, WEIR_KERR_NONE);
    assert_int_equal(b.err, WEIR_KERR_NONE);
    strcpy(m1, a.member_id);
    strcpy(m2, b.member_id);
    *gen = a.generation;
    ids[0] = m1;
    ids[1] = m2;
    do_sync(f, &sb, group, *gen, m2, NULL, 0, NULL, NULL);
    do_sync(f, &sa, group, *gen, m1, NULL, 2, ids, as);
    assert_int_equal(sa.done, 1);
    assert_int_equal(sb.done, 1);
    assert_int_equal(grp(f, group)->state, WEIR_GROUP_STABLE);
}

/* ------------------------------------------------------------------ */
/* The hash map                                                        */

static void
test_map(void **state)
{
    static const uint8_t msg[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    uint64_t k0 = UINT64_C(0x0706050403020100), k1 = UINT64_C(0x0f0e0d0c0b0a0908);
    weir_gmap_t m = {0};
    weir_gmap_iter_t it;
    char keys[2000][16];
    int seen[2000] = {0}, n = 0;
    intptr_t v;

    (void)state;
    /* SipHash-2-4 reference values (key 00..0f). */
    assert_true(weir_siphash24(k0, k1, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
    assert_true(weir_siphash24(k0, k1, msg, 15) == UINT64_C(0xa129ca6149be45e5));
    assert_true(weir_siphash24(k0, k1, msg, 8) == UINT64_C(0x93f5f5799a932462));

    for (int i = 0; i < 2000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
        assert_null(weir_gmap_put(&m, keys[i], strlen(keys[i]), (void *)(intptr_t)(i + 1)));
    }
    assert_int_equal(m.count, 2000);
    assert_int_equal((intptr_t)weir_gmap_put(&m, keys[7], strlen(keys[7]), (void *)(intptr_t)8), 8);
    for (int i = 0; i < 2000; i++)
        assert_int_equal((intptr_t)weir_gmap_get(&m, keys[i], strlen(keys[i])), i + 1);
    assert_null(weir_gmap_get(&m, "key-2000", 8));
    assert_null(weir_gmap_get(&m, "key-1", 4)); /* a prefix is another key */
    /* Delete the odd keys while iterating. */
    weir_gmap_iter_init(&it, &m);
    while ((v = (intptr_t)weir_gmap_iter_next(&it)) != 0) {
        seen[v - 1]++;
        n++;
        if ((v - 1) % 2)
            assert_int_equal((intptr_t)weir_gmap_del(&m, keys[v - 1], strlen(keys[v - 1])), v);
    }
    assert_int_equal(n, 2000);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(m.count, 1000);
    assert_null(weir_gmap_get(&m, keys[1], strlen(keys[1])));
    assert_int_equal((intptr_t)weir_gmap_get(&m, keys[2], strlen(keys[2])), 3);
    assert_null(weir_gmap_del(&m, keys[1], strlen(keys[1])));
    weir_gmap_free(&m);
    assert_int_equal(m.count, 0);
    assert_null(weir_gmap_get(&m, keys[2], strlen(keys[2])));
}

/* ------------------------------------------------------------------ */
/* JoinGroup                                                           */

static void
test_join_single_member(void **state)
{
    fx_t *f = fx_new();
    tw_t j, s;
    const char *ids[1];
    const char *as[1] = {"ASSIGN"};
    weir_group_t *g;

    (void)state;
    do_join(f, &j, (join_t){.group = "g1", .client = "myclient", .protos = "range=MD"});
    /* The first rebalance of an empty group waits for the initial delay. */
    assert_int_equal(j.done, 0);
    g = grp(f, "g1");
    assert_non_null(g);
    assert_int_equal(g->state, WEIR_GROUP_PREPARING_REBALANCE);
    run_until(f, &j.done, 2000);
    assert_int_equal(j.err, WEIR_KERR_NONE);
    assert_int_equal(j.generation, 1);
    assert_string_equal(j.protocol, "range");
    assert_true(strncmp(j.member_id, "myclient-", 9) == 0);
    assert_int_equal(strlen(j.member_id), 9 + 36);
    assert_string_equal(j.leader_id, j.member_id);
    /* The leader's answer lists the members with their metadata. */
    assert_int_equal(j.nmembers, 1);
    assert_string_equal(j.members[0], j.member_id);
    assert_string_equal(j.metadata[0], "MD");
    assert_int_equal(g->state, WEIR_GROUP_COMPLETING_REBALANCE);

    ids[0] = j.member_id;
    do_sync(f, &s, "g1", 1, j.member_id, NULL, 1, ids, as);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.err, WEIR_KERR_NONE);
    assert_string_equal(s.assignment, "ASSIGN");
    assert_int_equal(g->state, WEIR_GROUP_STABLE);
    assert_int_equal(hb(f, "g1", 1, j.member_id, NULL), WEIR_KERR_NONE);
    /* DescribeGroups' view. */
    assert_string_equal(weir_group_state_name(g->state), "Stable");
    assert_string_equal(g->head->client_id, "myclient");
    assert_string_equal(g->protocol_type, "consumer");
    fx_free(f);
}

static void
test_join_errors(void **state)
{
    fx_t *f = fx_new();
    tw_t j;

    (void)state;
    do_join(f, &j, (join_t){.group = ""});
    assert_int_equal(j.done, 1);
    assert_int_equal(j.err, WEIR_KERR_INVALID_GROUP_ID);
    do_join(f, &j, (join_t){.group = "g", .session = 5});
    assert_int_equal(j.err, WEIR_KERR_INVALID_SESSION_TIMEOUT);
    do_join(f, &j, (join_t){.group = "g", .session = 1800001});
    assert_int_equal(j.err, WEIR_KERR_INVALID_SESSION_TIMEOUT);
    /* A member id the group does not know, group or not. */
    do_join(f, &j, (join_t){.group = "nogroup", .member = "x-1"});
    assert_int_equal(j.err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(j.generation, -1);
    /* No protocol type or no protocols. */
    do_join(f, &j, (join_t){.group = "g", .ptype = ""});
    assert_int_equal(j.err, WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
    do_join(f, &j, (join_t){.group = "g", .protos = ""});
    assert_int_equal(j.err, WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
    /* An empty group.instance.id. */
    do_join(f, &j, (join_t){.group = "g", .instance = ""});
    assert_int_equal(j.err, WEIR_KERR_INVALID_REQUEST);
    fx_free(f);
}

static void
test_member_id_required(void **state)
{
    fx_t *f = fx_new();
    tw_t j, j2, o;
    char id[256];
    weir_group_t *g;

    (void)state;
    /* v4+: a new member first gets its id with MEMBER_ID_REQUIRED. */
    do_join(f, &j, (join_t){.group = "g", .client = "rdk", .require_known = true, .session = 200});
    assert_int_equal(j.done, 1);
    assert_int_equal(j.err, WEIR_KERR_MEMBER_ID_REQUIRED);
    assert_true(strncmp(j.member_id, "rdk-", 4) == 0);
    g = grp(f, "g");
    assert_int_equal(g->pending.count, 1);
    assert_int_equal(g->nmembers, 0);
    strcpy(id, j.member_id);
    /* Rejoining with it makes it a member. */
    do_join(f, &j2, (join_t){.group = "g", .member = id, .require_known = true});
    assert_int_equal(g->pending.count, 0);
    assert_int_equal(g->nmembers, 1);
    run_until(f, &j2.done, 2000);
    assert_int_equal(j2.err, WEIR_KERR_NONE);
    assert_string_equal(j2.member_id, id);
    assert_string_equal(j2.leader_id, id);

    /* A pending member that never comes back expires after its session
     * timeout; meanwhile it holds the rebalance back. */
    do_join(f, &o, (join_t){.group = "g", .client = "late", .require_known = true, .session = 80});
    assert_int_equal(o.err, WEIR_KERR_MEMBER_ID_REQUIRED);
    assert_int_equal(g->pending.count, 1);
    run_for(f, 40);
    assert_int_equal(g->pending.count, 1);
    run_for(f, 120);
    assert_int_equal(g->pending.count, 0);
    /* An unknown member id that is neither pending nor a member. */
    do_join(f, &o, (join_t){.group = "g", .member = "late-0000"});
    assert_int_equal(o.err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    fx_free(f);
}

static void
test_protocol_selection(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, c, d;

    (void)state;
    /* Candidates are the protocols every member supports: range is not
     * supported by c, so roundrobin wins although a prefers range. */
    do_join(f, &a, (join_t){.group = "g1", .protos = "range=a,roundrobin=a"});
    do_join(f, &b, (join_t){.group = "g1", .protos = "roundrobin=b,range=b"});
    do_join(f, &c, (join_t){.group = "g1", .protos = "roundrobin=c"});
    run_until(f, &c.done, 2000);
    assert_int_equal(a.err, WEIR_KERR_NONE);
    assert_string_equal(a.protocol, "roundrobin");
    assert_string_equal(c.protocol, "roundrobin");
    /* The leader gets each member's metadata for the chosen protocol. */
    assert_int_equal(a.nmembers, 3);
    assert_string_equal(a.metadata[0], "a");
    assert_string_equal(a.metadata[1], "b");
    assert_string_equal(a.metadata[2], "c");
    assert_int_equal(b.nmembers, 0);

    /* Most votes wins: two prefer range, one roundrobin. */
    do_join(f, &a, (join_t){.group = "g2", .protos = "range=,roundrobin="});
    do_join(f, &b, (join_t){.group = "g2", .protos = "roundrobin=,range="});
    do_join(f, &c, (join_t){.group = "g2", .protos = "range=,roundrobin="});
    run_until(f, &c.done, 2000);
    assert_string_equal(b.protocol, "range");

    /* A tie goes to the protocol voted for first (the earliest member). */
    do_join(f, &a, (join_t){.group = "g4", .protos = "x=,y="});
    do_join(f, &b, (join_t){.group = "g4", .protos = "y=,x="});
    run_until(f, &b.done, 2000);
    assert_string_equal(b.protocol, "x");

    /* librdkafka's range,roundrobin against kafkajs' RoundRobinAssigner
     * alone: nothing in common. */
    do_join(f, &a, (join_t){.group = "g3", .protos = "RoundRobinAssigner=x"});
    do_join(f, &b, (join_t){.group = "g3", .protos = "range=,roundrobin="});
    assert_int_equal(b.done, 1);
    assert_int_equal(b.err, WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
    /* Another protocol type. */
    do_join(f, &d, (join_t){.group = "g3", .ptype = "connect", .protos = "RoundRobinAssigner="});
    assert_int_equal(d.err, WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
    /* kafkajs members together are fine. */
    do_join(f, &c, (join_t){.group = "g3", .protos = "RoundRobinAssigner=y"});
    run_until(f, &c.done, 2000);
    assert_int_equal(c.err, WEIR_KERR_NONE);
    assert_string_equal(c.protocol, "RoundRobinAssigner");
    assert_int_equal(grp(f, "g3")->nmembers, 2);
    fx_free(f);
}

static void
test_initial_delay(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, c;
    weir_group_t *g;

    (void)state;
    /* Delay 100 ms, extended by the same while members keep joining, up to
     * the rebalance timeout (Kafka's InitialDelayedJoin). */
    f->conf.group_initial_rebalance_delay_ms = 100;
    do_join(f, &a, (join_t){.group = "g", .rebalance = 1000});
    g = grp(f, "g");
    assert_true(g->join_initial);
    assert_int_equal(g->join_delay_ms, 100);
    assert_int_equal(g->join_remaining_ms, 900);
    run_for(f, 50);
    do_join(f, &b, (join_t){.group = "g", .rebalance = 1000});
    assert_true(g->new_member_added);
    /* Everyone has joined, but the initial delay never ends early. */
    assert_int_equal(a.done, 0);
    while (g->join_remaining_ms == 900 && !a.done)
        run_for(f, 5);
    /* First delay over with a newcomer: extended by another 100 ms. */
    assert_int_equal(a.done, 0);
    assert_int_equal(g->join_delay_ms, 100);
    assert_int_equal(g->join_remaining_ms, 800);
    assert_false(g->new_member_added);
    run_until(f, &a.done, 1000);
    assert_int_equal(a.err, WEIR_KERR_NONE);
    assert_int_equal(b.err, WEIR_KERR_NONE);
    assert_int_equal(a.nmembers + b.nmembers, 2);

    /* Capped by the rebalance timeout: 150 - 100 leaves 50 ms. */
    do_join(f, &a, (join_t){.group = "h", .rebalance = 150});
    g = grp(f, "h");
    assert_int_equal(g->join_remaining_ms, 50);
    run_for(f, 30);
    do_join(f, &b, (join_t){.group = "h", .rebalance = 150});
    while (g->join_remaining_ms == 50 && !a.done)
        run_for(f, 5);
    assert_int_equal(a.done, 0);
    assert_int_equal(g->join_delay_ms, 50);
    assert_int_equal(g->join_remaining_ms, 0);
    /* A newcomer now cannot extend it any more. */
    do_join(f, &c, (join_t){.group = "h", .rebalance = 150});
    run_until(f, &a.done, 1000);
    assert_int_equal(a.err, WEIR_KERR_NONE);
    assert_int_equal(a.nmembers, 3);

    /* Without newcomers the delay is not extended. */
    do_join(f, &a, (join_t){.group = "k", .rebalance = 1000});
    g = grp(f, "k");
    run_until(f, &a.done, 1000);
    assert_int_equal(g->join_remaining_ms, 900);
    assert_int_equal(g->generation, 1);
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* SyncGroup and Heartbeat                                             */

static void
test_sync(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, sa, sb, x;
    const char *ids[3], *as[3];
    char m1[256], m2[256];

    (void)state;
    do_join(f, &a, (join_t){.group = "g", .client = "a"});
    do_join(f, &b, (join_t){.group = "g", .client = "b"});
    run_until(f, &b.done, 2000);
    strcpy(m1, a.member_id);
    strcpy(m2, b.member_id);
    assert_string_equal(a.leader_id, m1);
    assert_string_equal(b.leader_id, m1);
    assert_int_equal(a.nmembers, 2);
    assert_int_equal(b.nmembers, 0);

    /* Errors first. */
    do_sync(f, &x, "g", a.generation, "nobody", NULL, 0, NULL, NULL);
    assert_int_equal(x.err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    do_sync(f, &x, "g", a.generation + 1, m2, NULL, 0, NULL, NULL);
    assert_int_equal(x.err, WEIR_KERR_ILLEGAL_GENERATION);
    do_sync(f, &x, "unknown-group", 1, m2, NULL, 0, NULL, NULL);
    assert_int_equal(x.err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    do_sync(f, &x, "", 1, m2, NULL, 0, NULL, NULL);
    assert_int_equal(x.err, WEIR_KERR_INVALID_GROUP_ID);

    /* The follower waits for the leader's assignment. */
    do_sync(f, &sb, "g", a.generation, m2, NULL, 0, NULL, NULL);
    assert_int_equal(sb.done, 0);
    run_for(f, 20);
    assert_int_equal(sb.done, 0);
    /* A member of the assignment that is not in the group is ignored; the
     * last entry of a member wins. */
    ids[0] = "ghost";
    as[0] = "G";
    ids[1] = m2;
    as[1] = "old";
    ids[2] = m2;
    as[2] = "B-PARTS";
    do_sync(f, &sa, "g", a.generation, m1, NULL, 3, ids, as);
    assert_int_equal(sa.done, 1);
    assert_int_equal(sb.done, 1);
    assert_int_equal(sb.err, WEIR_KERR_NONE);
    assert_string_equal(sb.assignment, "B-PARTS");
    /* The leader left itself out: an empty assignment. */
    assert_int_equal(sa.err, WEIR_KERR_NONE);
    assert_int_equal(sa.assignment_len, 0);
    assert_int_equal(grp(f, "g")->state, WEIR_GROUP_STABLE);
    /* Stable: a SyncGroup returns the current assignment at once. */
    do_sync(f, &x, "g", a.generation, m2, NULL, 0, NULL, NULL);
    assert_int_equal(x.done, 1);
    assert_string_equal(x.assignment, "B-PARTS");

    /* A third member triggers a rebalance: syncs are refused meanwhile. */
    do_join(f, &x, (join_t){.group = "g", .client = "c"});
    assert_int_equal(grp(f, "g")->state, WEIR_GROUP_PREPARING_REBALANCE);
    do_sync(f, &sb, "g", a.generation, m2, NULL, 0, NULL, NULL);
    assert_int_equal(sb.err, WEIR_KERR_REBALANCE_IN_PROGRESS);
    fx_free(f);
}

static void
test_sync_interrupted_by_rebalance(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, sb, c;

    (void)state;
    do_join(f, &a, (join_t){.group = "g"});
    do_join(f, &b, (join_t){.group = "g"});
    run_until(f, &b.done, 2000);
    /* The follower is parked in SyncGroup when a new member arrives: it is
     * told REBALANCE_IN_PROGRESS, so it rejoins. */
    do_sync(f, &sb, "g", b.generation, b.member_id, NULL, 0, NULL, NULL);
    assert_int_equal(sb.done, 0);
    do_join(f, &c, (join_t){.group = "g"});
    assert_int_equal(sb.done, 1);
    assert_int_equal(sb.err, WEIR_KERR_REBALANCE_IN_PROGRESS);
    fx_free(f);
}

static void
test_heartbeat(void **state)
{
    fx_t *f = fx_new();
    char m1[256], m2[256];
    int32_t gen;
    tw_t c, a2, b2, s1, s2;

    (void)state;
    assert_int_equal(hb(f, "", 1, "x", NULL), WEIR_KERR_INVALID_GROUP_ID);
    assert_int_equal(hb(f, "nope", 1, "x", NULL), WEIR_KERR_UNKNOWN_MEMBER_ID);
    two_stable(f, "g", m1, m2, &gen);
    assert_int_equal(hb(f, "g", gen, m1, NULL), WEIR_KERR_NONE);
    assert_int_equal(hb(f, "g", gen, "other", NULL), WEIR_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(hb(f, "g", gen - 1, m1, NULL), WEIR_KERR_ILLEGAL_GENERATION);
    /* A static instance id the group does not know. */
    assert_int_equal(hb(f, "g", gen, m1, "inst"), WEIR_KERR_UNKNOWN_MEMBER_ID);
    /* A rebalance: heartbeats say so, so members rejoin. */
    do_join(f, &c, (join_t){.group = "g"});
    assert_int_equal(hb(f, "g", gen, m1, NULL), WEIR_KERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(hb(f, "g", gen, m2, NULL), WEIR_KERR_REBALANCE_IN_PROGRESS);
    do_join(f, &a2, (join_t){.group = "g", .member = m1});
    do_join(f, &b2, (join_t){.group = "g", .member = m2});
    /* Everyone rejoined: done without waiting for the timeout. */
    assert_int_equal(c.done, 1);
    assert_int_equal(a2.done, 1);
    assert_int_equal(a2.generation, gen + 1);
    assert_string_equal(a2.leader_id, m1); /* the leader stays the leader */
    assert_int_equal(a2.nmembers, 3);
    /* CompletingRebalance: heartbeats are fine. */
    assert_int_equal(hb(f, "g", gen + 1, m2, NULL), WEIR_KERR_NONE);
    do_sync(f, &s2, "g", gen + 1, m2, NULL, 0, NULL, NULL);
    do_sync(f, &s1, "g", gen + 1, m1, NULL, 0, NULL, NULL);
    assert_int_equal(s2.done, 1);
    assert_int_equal(hb(f, "g", gen + 1, c.member_id, NULL), WEIR_KERR_NONE);
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* Timers: session expiry, rebalance timeout                           */

static void
test_session_expiry(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, a2, s;
    weir_group_t *g;
    int32_t gen;

    (void)state;
    do_join(f, &a, (join_t){.group = "g", .session = 100});
    do_join(f, &b, (join_t){.group = "g", .session = 100});
    run_until(f, &b.done, 2000);
    gen = a.generation;
    do_sync(f, &s, "g", gen, a.member_id, NULL, 0, NULL, NULL);
    do_sync(f, &s, "g", gen, b.member_id, NULL, 0, NULL, NULL);
    g = grp(f, "g");
    assert_int_equal(g->state, WEIR_GROUP_STABLE);
    /* a keeps heartbeating, b does not. */
    for (int i = 0; i < 6; i++) {
        weir_kerr_t err;
        run_for(f, 30);
        err = hb(f, "g", gen, a.member_id, NULL);
        assert_true(err == WEIR_KERR_NONE || err == WEIR_KERR_REBALANCE_IN_PROGRESS);
    }
    assert_int_equal(g->nmembers, 1);
    assert_int_equal(g->state, WEIR_GROUP_PREPARING_REBALANCE);
    assert_int_equal(hb(f, "g", gen, b.member_id, NULL), WEIR_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(hb(f, "g", gen, a.member_id, NULL), WEIR_KERR_REBALANCE_IN_PROGRESS);
    do_join(f, &a2, (join_t){.group = "g", .member = a.member_id, .session = 100});
    assert_int_equal(a2.done, 1);
    assert_int_equal(a2.generation, gen + 1);
    assert_int_equal(a2.nmembers, 1);
    /* The last member's session ends too: the group is empty. */
    run_for(f, 250);
    assert_int_equal(g->nmembers, 0);
    assert_int_equal(g->state, WEIR_GROUP_EMPTY);
    fx_free(f);
}

static void
test_rebalance_timeout(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, c, a2;
    weir_group_t *g;
    int32_t gen;
    char m2[256];

    (void)state;
    do_join(f, &a, (join_t){.group = "g", .rebalance = 150});
    do_join(f, &b, (join_t){.group = "g", .rebalance = 150});
    run_until(f, &b.done, 2000);
    gen = a.generation;
    strcpy(m2, b.member_id);
    g = grp(f, "g");
    /* c joins; a rejoins; b only heartbeats (alive, but never rejoins). */
    do_join(f, &c, (join_t){.group = "g", .rebalance = 150});
    do_join(f, &a2, (join_t){.group = "g", .member = a.member_id, .rebalance = 150});
    run_for(f, 60);
    assert_int_equal(hb(f, "g", gen, m2, NULL), WEIR_KERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(c.done, 0);
    run_until(f, &c.done, 400);
    assert_int_equal(c.err, WEIR_KERR_NONE);
    assert_int_equal(a2.generation, gen + 1);
    assert_int_equal(g->nmembers, 2);
    assert_int_equal(a2.nmembers, 2);
    assert_int_equal(hb(f, "g", gen + 1, m2, NULL), WEIR_KERR_UNKNOWN_MEMBER_ID);
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* Static membership                                                   */

static void
test_static_member(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, s, s2, r, r2, x;
    const char *ids[2], *as[2] = {"ASSIGN-A", "ASSIGN-B"};
    char old_a[256], mb[256];
    weir_group_t *g;
    int32_t gen;
    weir_leave_member_t lm;

    (void)state;
    /* A static leader (a) and a dynamic member (b). */
    do_join(f, &a, (join_t){.group = "g", .instance = "inst-a", .protos = "range=A"});
    do_join(f, &b, (join_t){.group = "g", .protos = "range=B"});
    run_until(f, &b.done, 2000);
    assert_true(strncmp(a.member_id, "inst-a-", 7) == 0);
    assert_string_equal(a.leader_id, a.member_id);
    assert_string_equal(a.instances[0], "inst-a");
    assert_string_equal(a.instances[1], "");
    gen = a.generation;
    strcpy(old_a, a.member_id);
    strcpy(mb, b.member_id);
    ids[0] = old_a;
    ids[1] = mb;
    do_sync(f, &s, "g", gen, mb, NULL, 0, NULL, NULL);
    do_sync(f, &s2, "g", gen, old_a, "inst-a", 2, ids, as);
    assert_int_equal(s.done, 1);
    assert_string_equal(s.assignment, "ASSIGN-B");
    g = grp(f, "g");
    assert_int_equal(g->state, WEIR_GROUP_STABLE);

    /* a restarts: same instance, unknown member id, same protocols.  No
     * rebalance: the current generation, the old leader id (so it does not
     * act as leader), and its assignment stays. */
    do_join(f, &r, (join_t){.group = "g", .instance = "inst-a", .protos = "range=A"});
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, WEIR_KERR_NONE);
    assert_int_equal(r.generation, gen);
    assert_string_not_equal(r.member_id, old_a);
    assert_string_equal(r.leader_id, old_a);
    assert_int_equal(r.nmembers, 0);
    assert_int_equal(g->state, WEIR_GROUP_STABLE);
    assert_int_equal(g->nmembers, 2);
    do_sync(f, &x, "g", gen, r.member_id, "inst-a", 0, NULL, NULL);
    assert_int_equal(x.err, WEIR_KERR_NONE);
    assert_string_equal(x.assignment, "ASSIGN-A");
    /* The old incarnation is fenced. */
    assert_int_equal(hb(f, "g", gen, old_a, "inst-a"), WEIR_KERR_FENCED_INSTANCE_ID);
    assert_int_equal(hb(f, "g", gen, r.member_id, "inst-a"), WEIR_KERR_NONE);
    assert_int_equal(hb(f, "g", gen, mb, NULL), WEIR_KERR_NONE);
    do_join(f, &x,
            (join_t){.group = "g", .member = old_a, .instance = "inst-a", .protos = "range=A"});
    assert_int_equal(x.err, WEIR_KERR_FENCED_INSTANCE_ID);
    {
        weir_commit_part_t p = {.topic = S("t"),
                                .partition = 0,
                                .offset = 1,
                                .leader_epoch = -1,
                                .metadata = WEIR_STR_NULL};
        tw_t cw;
        tw_init(&cw);
        weir_coord_commit(f->co, S("g"), gen, S(old_a), S("inst-a"), &p, 1, &cw.w);
        assert_int_equal(cw.done, 1);
        assert_int_equal(p.err, WEIR_KERR_FENCED_INSTANCE_ID);
    }

    /* A restart with other metadata does rebalance. */
    do_join(f, &r2, (join_t){.group = "g", .instance = "inst-a", .protos = "range=A2"});
    assert_int_equal(r2.done, 0);
    assert_int_equal(g->state, WEIR_GROUP_PREPARING_REBALANCE);
    assert_int_equal(hb(f, "g", gen, r.member_id, "inst-a"), WEIR_KERR_FENCED_INSTANCE_ID);
    do_join(f, &x, (join_t){.group = "g", .member = mb, .protos = "range=B"});
    assert_int_equal(r2.done, 1);
    assert_int_equal(r2.generation, gen + 1);
    assert_string_equal(r2.leader_id, r2.member_id); /* still the leader */
    assert_int_equal(r2.nmembers, 2);

    /* A static member that stops heartbeating is not removed by the next
     * rebalance's deadline, only by its session; it leaves by LeaveGroup
     * with its instance id. */
    memset(&lm, 0, sizeof(lm));
    lm.member_id = S("");
    lm.instance_id = S("inst-a");
    assert_int_equal(weir_coord_leave(f->co, S("g"), &lm, 1), WEIR_KERR_NONE);
    assert_int_equal(lm.err, WEIR_KERR_NONE);
    assert_int_equal(g->nmembers, 1);
    lm.instance_id = S("inst-zz");
    assert_int_equal(weir_coord_leave(f->co, S("g"), &lm, 1), WEIR_KERR_NONE);
    assert_int_equal(lm.err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    fx_free(f);
}

static void
test_static_member_survives_rebalance_timeout(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, c, b2;
    weir_group_t *g;

    (void)state;
    do_join(f, &a, (join_t){.group = "g", .instance = "s1", .rebalance = 100, .session = 1000});
    do_join(f, &b, (join_t){.group = "g", .rebalance = 100, .session = 1000});
    run_until(f, &b.done, 2000);
    g = grp(f, "g");
    /* A new member: b rejoins, the static a does not, yet it stays. */
    do_join(f, &c, (join_t){.group = "g", .rebalance = 100, .session = 1000});
    do_join(f, &b2,
            (join_t){.group = "g", .member = b.member_id, .rebalance = 100, .session = 1000});
    run_until(f, &c.done, 500);
    assert_int_equal(g->nmembers, 3);
    assert_int_equal(b2.generation, a.generation + 1);
    /* The static member was the leader and did not rejoin: a member that
     * did is elected. */
    assert_string_not_equal(b2.leader_id, a.member_id);
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* LeaveGroup, cancellation, re-entrancy, size limit                   */

static void
test_leave(void **state)
{
    fx_t *f = fx_new();
    char m1[256], m2[256];
    int32_t gen;
    weir_leave_member_t lm[2];
    weir_group_t *g;
    tw_t a2;

    (void)state;
    memset(lm, 0, sizeof(lm));
    lm[0].member_id = S("x");
    lm[0].instance_id = WEIR_STR_NULL;
    assert_int_equal(weir_coord_leave(f->co, S(""), lm, 1), WEIR_KERR_INVALID_GROUP_ID);
    assert_int_equal(weir_coord_leave(f->co, S("nope"), lm, 1), WEIR_KERR_NONE);
    assert_int_equal(lm[0].err, WEIR_KERR_UNKNOWN_MEMBER_ID);

    two_stable(f, "g", m1, m2, &gen);
    g = grp(f, "g");
    /* v3 batch: one known, one unknown. */
    lm[0].member_id = S(m2);
    lm[1].member_id = S("ghost");
    lm[1].instance_id = WEIR_STR_NULL;
    assert_int_equal(weir_coord_leave(f->co, S("g"), lm, 2), WEIR_KERR_NONE);
    assert_int_equal(lm[0].err, WEIR_KERR_NONE);
    assert_int_equal(lm[1].err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(g->nmembers, 1);
    assert_int_equal(g->state, WEIR_GROUP_PREPARING_REBALANCE);
    do_join(f, &a2, (join_t){.group = "g", .member = m1});
    assert_int_equal(a2.done, 1);
    assert_int_equal(a2.nmembers, 1);
    /* The last one leaves: Empty. */
    lm[0].member_id = S(m1);
    assert_int_equal(weir_coord_leave(f->co, S("g"), lm, 1), WEIR_KERR_NONE);
    assert_int_equal(lm[0].err, WEIR_KERR_NONE);
    assert_int_equal(g->state, WEIR_GROUP_EMPTY);
    assert_int_equal(g->generation, gen + 2);
    fx_free(f);
}

static void
test_cancel(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, c, x, y, sx, sy, s, j;
    weir_group_t *g;

    (void)state;
    do_join(f, &a, (join_t){.group = "g"});
    do_join(f, &b, (join_t){.group = "g"});
    g = grp(f, "g");
    assert_int_equal(g->nmembers, 2);
    /* b's connection closes before the join completes: as a new dynamic
     * member it leaves, and its callback never runs. */
    weir_gwait_cancel(&b.w);
    assert_int_equal(g->nmembers, 1);
    run_until(f, &a.done, 2000);
    assert_int_equal(a.nmembers, 1);
    assert_int_equal(b.done, 0);
    /* A lost JoinGroup answer, retried with the same metadata while the
     * group completes: the same generation again, at once. */
    do_join(f, &c, (join_t){.group = "g", .member = a.member_id});
    assert_int_equal(c.done, 1);
    assert_int_equal(c.generation, a.generation);
    assert_int_equal(c.nmembers, 1);

    /* A parked SyncGroup cancelled: the member stays, and the leader's
     * assignment still makes the group Stable. */
    do_join(f, &x, (join_t){.group = "h"});
    do_join(f, &y, (join_t){.group = "h"});
    run_until(f, &y.done, 2000);
    do_sync(f, &sy, "h", y.generation, y.member_id, NULL, 0, NULL, NULL);
    assert_int_equal(sy.done, 0);
    weir_gwait_cancel(&sy.w);
    assert_int_equal(grp(f, "h")->nmembers, 2);
    do_sync(f, &sx, "h", x.generation, x.member_id, NULL, 0, NULL, NULL);
    assert_int_equal(sx.done, 1);
    assert_int_equal(sy.done, 0);
    assert_int_equal(grp(f, "h")->state, WEIR_GROUP_STABLE);
    do_sync(f, &s, "h", y.generation, y.member_id, NULL, 0, NULL, NULL);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.err, WEIR_KERR_NONE);

    /* A known member's JoinGroup cancelled: it stays until it rejoins or
     * its session ends; the rebalance waits for it meanwhile. */
    do_join(f, &j, (join_t){.group = "h", .member = x.member_id, .protos = "range=new"});
    assert_int_equal(grp(f, "h")->state, WEIR_GROUP_PREPARING_REBALANCE);
    weir_gwait_cancel(&j.w);
    assert_int_equal(grp(f, "h")->nmembers, 2);
    assert_int_equal(j.done, 0);
    fx_free(f);
}

static tw_t reent_sync;
static weir_kerr_t reent_hb;

static void
reenter_sync(tw_t *tw)
{
    fx_t *f = tw->then_arg;
    const char *ids[1] = {tw->member_id};
    const char *as[1] = {"X"};

    /* As a pipelined client would: the next request arrives while the
     * coordinator is answering.  Its answer is due once this callback
     * has returned. */
    tw->then = NULL;
    assert_int_equal(tw->err, WEIR_KERR_NONE);
    assert_string_equal(tw->leader_id, tw->member_id);
    do_sync(f, &reent_sync, "g", tw->generation, tw->member_id, NULL, 1, ids, as);
    assert_int_equal(reent_sync.done, 0);
    reent_hb = hb(f, "g", tw->generation, tw->member_id, NULL);
}

static void
test_reentrant_callback(void **state)
{
    fx_t *f = fx_new();
    tw_t a;

    (void)state;
    do_join(f, &a, (join_t){.group = "g"});
    a.then = reenter_sync;
    a.then_arg = f;
    run_until(f, &a.done, 2000);
    assert_int_equal(reent_sync.done, 1);
    assert_int_equal(reent_sync.err, WEIR_KERR_NONE);
    assert_string_equal(reent_sync.assignment, "X");
    assert_int_equal(reent_hb, WEIR_KERR_NONE);
    assert_int_equal(grp(f, "g")->state, WEIR_GROUP_STABLE);
    fx_free(f);
}

static void
test_max_size(void **state)
{
    fx_t *f = fx_new();
    tw_t a, b, c, d;

    (void)state;
    f->conf.group_max_size = 2;
    do_join(f, &a, (join_t){.group = "g"});
    do_join(f, &b, (join_t){.group = "g", .require_known = true}); /* pending counts */
    do_join(f, &c, (join_t){.group = "g"});
    assert_int_equal(b.err, WEIR_KERR_MEMBER_ID_REQUIRED);
    assert_int_equal(c.done, 1);
    assert_int_equal(c.err, WEIR_KERR_GROUP_MAX_SIZE_REACHED);
    assert_string_equal(c.member_id, "");
    /* The pending member itself still gets in. */
    do_join(f, &d, (join_t){.group = "g", .member = b.member_id});
    run_until(f, &d.done, 2000);
    assert_int_equal(d.err, WEIR_KERR_NONE);
    assert_int_equal(grp(f, "g")->nmembers, 2);
    fx_free(f);
}

static void
test_stop_answers_parked(void **state)
{
    fx_t *f = fx_new();
    tw_t a;

    (void)state;
    do_join(f, &a, (join_t){.group = "g"});
    assert_int_equal(a.done, 0);
    weir_coord_stop(f->co);
    assert_int_equal(a.done, 1);
    assert_int_equal(a.err, WEIR_KERR_NOT_COORDINATOR);
    f->co = NULL;
    while (uv_run(&f->loop, UV_RUN_DEFAULT) != 0)
        ;
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* Offsets                                                             */

typedef struct commit_s {
    tw_t tw;
    weir_commit_part_t parts[4];
} commit_t;

static void
do_commit(fx_t *f, commit_t *c, const char *group, int32_t gen, const char *member,
          const char *instance, const char *topic, int32_t partition, int64_t offset,
          const char *metadata)
{
    memset(c->parts, 0, sizeof(c->parts));
    tw_init(&c->tw);
    c->parts[0].topic = S(topic);
    c->parts[0].partition = partition;
    c->parts[0].offset = offset;
    c->parts[0].leader_epoch = 7;
    c->parts[0].metadata = S(metadata);
    weir_coord_commit(f->co, S(group), gen, S(member), S(instance), c->parts, 1, &c->tw.w);
}

static int64_t
committed(fx_t *f, const char *group, const char *topic, int32_t partition)
{
    return weir_coord_committed_offset(f->co, group, topic, partition);
}

static int64_t
db_int(fx_t *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t v = -12345;

    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void
test_simple_commit(void **state)
{
    fx_t *f = fx_new();
    commit_t c;
    const weir_offset_t *o;
    weir_group_t *g;

    (void)state;
    /* Generation -1, no member, unknown group: a group-less commit.  It is
     * answered, and visible, only once written. */
    do_commit(f, &c, "simple", -1, "", NULL, "t", 0, 42, "meta");
    assert_int_equal(c.tw.done, 0);
    assert_int_equal(committed(f, "simple", "t", 0), -1);
    assert_int_equal(weir_coord_pending_writes(f->co), 1);
    run_until(f, &c.tw.done, 2000);
    assert_int_equal(c.parts[0].err, WEIR_KERR_NONE);
    assert_int_equal(committed(f, "simple", "t", 0), 42);
    g = grp(f, "simple");
    o = weir_group_offset(g, S("t"), 0);
    assert_non_null(o);
    assert_int_equal(o->leader_epoch, 7);
    assert_string_equal(o->metadata, "meta");
    assert_true(o->commit_ms > 0);
    assert_null(g->protocol_type);
    assert_int_equal(db_int(f, "SELECT committed_offset FROM offsets WHERE group_id = 'simple' "
                               "AND topic = 't' AND partition = 0"),
                     42);
    assert_int_equal(db_int(f, "SELECT leader_epoch FROM offsets WHERE group_id = 'simple'"), 7);
    /* A null metadata is stored as "". */
    do_commit(f, &c, "simple", -1, NULL, NULL, "t", 0, 43, NULL);
    run_until(f, &c.tw.done, 2000);
    assert_string_equal(weir_group_offset(g, S("t"), 0)->metadata, "");
    /* A commit from a generation of a group this coordinator does not know. */
    do_commit(f, &c, "other", 3, "m", NULL, "t", 0, 1, "");
    assert_int_equal(c.tw.done, 1);
    assert_int_equal(c.parts[0].err, WEIR_KERR_ILLEGAL_GENERATION);
    /* Metadata too long. */
    f->conf.offset_metadata_max_bytes = 4;
    do_commit(f, &c, "simple", -1, "", NULL, "t", 1, 5, "12345");
    assert_int_equal(c.tw.done, 1);
    assert_int_equal(c.parts[0].err, WEIR_KERR_OFFSET_METADATA_TOO_LARGE);
    assert_int_equal(committed(f, "simple", "t", 1), -1);
    /* A partition the caller already refused is left alone. */
    do_commit(f, &c, "simple", -1, "", NULL, "t", 2, 5, "");
    assert_int_equal(c.tw.done, 0);
    run_until(f, &c.tw.done, 2000);
    {
        weir_commit_part_t p[2];
        tw_t w;
        memset(p, 0, sizeof(p));
        p[0].topic = S("gone");
        p[0].err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        p[1].topic = S("t");
        p[1].partition = 3;
        p[1].offset = 9;
        tw_init(&w);
        weir_coord_commit(f->co, S("simple"), -1, S(""), WEIR_STR_NULL, p, 2, &w.w);
        run_until(f, &w.done, 2000);
        assert_int_equal(p[0].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        assert_int_equal(p[1].err, WEIR_KERR_NONE);
        assert_int_equal(committed(f, "simple", "t", 3), 9);
    }
    fx_free(f);
}

/* A group-less commit whose partitions the caller all refused (unknown
 * topics) writes nothing and creates no group: in Kafka it never reaches
 * the coordinator.  (It used to leave an empty group that ListGroups showed
 * until the next retention check.) */
static void
test_commit_refused_creates_no_group(void **state)
{
    fx_t *f = fx_new();
    weir_commit_part_t p[2];
    tw_t w;

    (void)state;
    memset(p, 0, sizeof(p));
    p[0].topic = S("gone");
    p[0].err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    p[1].topic = S("gone");
    p[1].partition = 1;
    p[1].err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    tw_init(&w);
    weir_coord_commit(f->co, S("phantom"), -1, S(""), WEIR_STR_NULL, p, 2, &w.w);
    assert_int_equal(w.done, 1); /* nothing to write: answered at once */
    assert_int_equal(p[0].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(p[1].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_null(weir_coord_group(f->co, S("phantom")));
    assert_int_equal(weir_coord_pending_writes(f->co), 0);
    /* No partitions at all: the same. */
    tw_init(&w);
    weir_coord_commit(f->co, S("phantom"), -1, S(""), WEIR_STR_NULL, p, 0, &w.w);
    assert_int_equal(w.done, 1);
    assert_null(weir_coord_group(f->co, S("phantom")));
    /* One partition left to commit: the group is made. */
    p[1].err = WEIR_KERR_NONE;
    p[1].topic = S("t");
    p[1].offset = 3;
    tw_init(&w);
    weir_coord_commit(f->co, S("phantom"), -1, S(""), WEIR_STR_NULL, p, 2, &w.w);
    run_until(f, &w.done, 2000);
    assert_int_equal(p[0].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(p[1].err, WEIR_KERR_NONE);
    assert_non_null(weir_coord_group(f->co, S("phantom")));
    assert_int_equal(committed(f, "phantom", "t", 1), 3);
    fx_free(f);
}

static void
test_commit_checks(void **state)
{
    fx_t *f = fx_new();
    char m1[256], m2[256];
    int32_t gen;
    commit_t c;
    tw_t x;

    (void)state;
    two_stable(f, "g", m1, m2, &gen);
    do_commit(f, &c, "g", gen, m1, NULL, "t", 0, 10, "");
    run_until(f, &c.tw.done, 2000);
    assert_int_equal(c.parts[0].err, WEIR_KERR_NONE);
    assert_int_equal(committed(f, "g", "t", 0), 10);
    do_commit(f, &c, "g", gen + 1, m1, NULL, "t", 0, 11, "");
    assert_int_equal(c.parts[0].err, WEIR_KERR_ILLEGAL_GENERATION);
    do_commit(f, &c, "g", gen, "stranger", NULL, "t", 0, 11, "");
    assert_int_equal(c.parts[0].err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    /* Group-less commits are for empty groups only. */
    do_commit(f, &c, "g", -1, "", NULL, "t", 0, 11, "");
    assert_int_equal(c.parts[0].err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    do_commit(f, &c, "", -1, "", NULL, "t", 0, 11, "");
    run_until(f, &c.tw.done, 2000);
    assert_int_equal(c.parts[0].err, WEIR_KERR_NONE); /* "" is a valid group for offsets */
    /* PreparingRebalance: members may still commit. */
    do_join(f, &x, (join_t){.group = "g"});
    do_commit(f, &c, "g", gen, m2, NULL, "t", 1, 20, "");
    run_until(f, &c.tw.done, 2000);
    assert_int_equal(c.parts[0].err, WEIR_KERR_NONE);
    /* CompletingRebalance: not before the assignment. */
    {
        tw_t a2, b2;
        do_join(f, &a2, (join_t){.group = "g", .member = m1});
        do_join(f, &b2, (join_t){.group = "g", .member = m2});
        assert_int_equal(b2.done, 1);
        assert_int_equal(grp(f, "g")->state, WEIR_GROUP_COMPLETING_REBALANCE);
        do_commit(f, &c, "g", gen + 1, m2, NULL, "t", 1, 21, "");
        assert_int_equal(c.parts[0].err, WEIR_KERR_REBALANCE_IN_PROGRESS);
    }
    fx_free(f);
}

static void
test_commit_batching(void **state)
{
    fx_t *f = fx_new();
    commit_t *c = calloc(50, sizeof(*c));
    int all = 0;

    (void)state;
    /* 50 commits arrive while the first write is in flight: they wait and
     * share the next transaction. */
    for (int i = 0; i < 50; i++)
        do_commit(f, &c[i], "b", -1, "", NULL, "t", i, 100 + i, "");
    assert_int_equal(weir_coord_pending_writes(f->co), 50);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(c[i].tw.done, 0);
        assert_int_equal(committed(f, "b", "t", i), -1);
    }
    while (!all) {
        run_for(f, 2);
        all = 1;
        for (int i = 0; i < 50; i++)
            all &= c[i].tw.done == 1;
    }
    for (int i = 0; i < 50; i++) {
        assert_int_equal(c[i].parts[0].err, WEIR_KERR_NONE);
        assert_int_equal(committed(f, "b", "t", i), 100 + i);
    }
    assert_int_equal(weir_coord_pending_writes(f->co), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM offsets WHERE group_id = 'b'"), 50);
    /* The same partition twice: the later commit wins. */
    do_commit(f, &c[0], "b", -1, "", NULL, "t", 0, 1, "");
    do_commit(f, &c[1], "b", -1, "", NULL, "t", 0, 2, "");
    run_until(f, &c[1].tw.done, 2000);
    assert_int_equal(committed(f, "b", "t", 0), 2);
    assert_int_equal(db_int(f, "SELECT committed_offset FROM offsets WHERE group_id = 'b' AND "
                               "partition = 0"),
                     2);
    free(c);
    fx_free(f);
}

static void
test_commit_write_failure(void **state)
{
    fx_t *f = fx_new();
    commit_t c;
    sqlite3 *db;

    (void)state;
    /* Another connection holds the write lock past the busy timeout... is
     * too slow for a unit test; instead make the table refuse writes. */
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_offsets BEFORE INSERT ON offsets "
                                  "BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    do_commit(f, &c, "x", -1, "", NULL, "t", 0, 5, "");
    run_until(f, &c.tw.done, 2000);
    assert_int_equal(c.parts[0].err, WEIR_KERR_COORDINATOR_NOT_AVAILABLE);
    assert_int_equal(committed(f, "x", "t", 0), -1);
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_offsets", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    do_commit(f, &c, "x", -1, "", NULL, "t", 0, 6, "");
    run_until(f, &c.tw.done, 2000);
    assert_int_equal(c.parts[0].err, WEIR_KERR_NONE);
    assert_int_equal(committed(f, "x", "t", 0), 6);
    fx_free(f);
}

/* ConsumerProtocolSubscription v0: version, topics, user data. */
static size_t
subscription(uint8_t *buf, const char *const *topics, int n)
{
    size_t o = 0;

    buf[o++] = 0;
    buf[o++] = 0;
    buf[o++] = 0;
    buf[o++] = 0;
    buf[o++] = 0;
    buf[o++] = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(topics[i]);
        buf[o++] = 0;
        buf[o++] = (uint8_t)l;
        memcpy(buf + o, topics[i], l);
        o += l;
    }
    memset(buf + o, 0xff, 4); /* null user data */
    return o + 4;
}

/* A one-member consumer group subscribed to topics, Stable. */
static void
consumer_stable(fx_t *f, const char *group, const char *const *topics, int n, char *member,
                int32_t *gen)
{
    uint8_t md[128];
    size_t mdlen = subscription(md, topics, n);
    weir_join_args_t a;
    weir_str_t name = S("range"), meta = {(int32_t)mdlen, (const char *)md};
    tw_t j, s;

    memset(&a, 0, sizeof(a));
    tw_init(&j);
    a.group_id = S(group);
    a.member_id = S("");
    a.instance_id = WEIR_STR_NULL;
    a.protocol_type = S("consumer");
    a.client_id = S("c");
    a.client_host = "/h";
    a.session_timeout_ms = 10000;
    a.rebalance_timeout_ms = 10000;
    a.nprotocols = 1;
    a.protocol_names = &name;
    a.protocol_metadata = &meta;
    weir_coord_join(f->co, &a, &j.w);
    run_until(f, &j.done, 2000);
    assert_int_equal(j.err, WEIR_KERR_NONE);
    strcpy(member, j.member_id);
    *gen = j.generation;
    do_sync(f, &s, group, j.generation, member, NULL, 0, NULL, NULL);
    assert_int_equal(s.done, 1);
}

static void
test_offset_delete(void **state)
{
    fx_t *f = fx_new();
    const char *topics[] = {"a"};
    char m[256];
    int32_t gen;
    commit_t c;
    weir_commit_part_t p[3];
    tw_t w, j;
    weir_group_t *g;

    (void)state;
    consumer_stable(f, "g", topics, 1, m, &gen);
    g = grp(f, "g");
    assert_true(g->subscribed_known);
    do_commit(f, &c, "g", gen, m, NULL, "a", 0, 5, "");
    run_until(f, &c.tw.done, 2000);
    do_commit(f, &c, "g", gen, m, NULL, "b", 0, 6, "");
    run_until(f, &c.tw.done, 2000);
    memset(p, 0, sizeof(p));
    p[0].topic = S("a");
    p[1].topic = S("b");
    p[2].topic = S("unknown");
    p[2].err = WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    tw_init(&w);
    weir_coord_offset_delete(f->co, S("g"), p, 3, &w.w);
    run_until(f, &w.done, 2000);
    assert_int_equal(w.err, WEIR_KERR_NONE);
    assert_int_equal(p[0].err, WEIR_KERR_GROUP_SUBSCRIBED_TO_TOPIC);
    assert_int_equal(p[1].err, WEIR_KERR_NONE);
    assert_int_equal(p[2].err, WEIR_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(committed(f, "g", "a", 0), 5);
    assert_int_equal(committed(f, "g", "b", 0), -1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM offsets WHERE group_id = 'g'"), 1);
    /* Unknown group. */
    tw_init(&w);
    weir_coord_offset_delete(f->co, S("nope"), p, 1, &w.w);
    assert_int_equal(w.done, 1);
    assert_int_equal(w.err, WEIR_KERR_GROUP_ID_NOT_FOUND);
    /* Non-consumer protocol with members: NON_EMPTY_GROUP. */
    {
        do_join(f, &j, (join_t){.group = "conn", .ptype = "connect"});
        tw_init(&w);
        weir_coord_offset_delete(f->co, S("conn"), p, 1, &w.w);
        assert_int_equal(w.err, WEIR_KERR_NON_EMPTY_GROUP);
    }
    /* Once empty, everything may go. */
    {
        weir_leave_member_t lm = {.member_id = S(m), .instance_id = WEIR_STR_NULL};
        assert_int_equal(weir_coord_leave(f->co, S("g"), &lm, 1), WEIR_KERR_NONE);
        assert_int_equal(g->state, WEIR_GROUP_EMPTY);
        memset(p, 0, sizeof(p));
        p[0].topic = S("a");
        tw_init(&w);
        weir_coord_offset_delete(f->co, S("g"), p, 1, &w.w);
        run_until(f, &w.done, 2000);
        assert_int_equal(p[0].err, WEIR_KERR_NONE);
        assert_int_equal(committed(f, "g", "a", 0), -1);
    }
    fx_free(f);
}

static void
test_delete_groups(void **state)
{
    fx_t *f = fx_new();
    char m1[256], m2[256];
    int32_t gen;
    commit_t c;
    weir_str_t ids[5];
    weir_kerr_t errs[5];
    tw_t w;

    (void)state;
    two_stable(f, "busy", m1, m2, &gen);
    do_commit(f, &c, "idle", -1, "", NULL, "t", 0, 1, "");
    run_until(f, &c.tw.done, 2000);
    do_commit(f, &c, "idle", -1, "", NULL, "t", 1, 2, "");
    run_until(f, &c.tw.done, 2000);
    ids[0] = S("busy");
    ids[1] = S("idle");
    ids[2] = S("nope");
    ids[3] = S("idle"); /* twice */
    ids[4] = WEIR_STR_NULL;
    tw_init(&w);
    weir_coord_delete_groups(f->co, ids, errs, 5, &w.w);
    assert_int_equal(w.done, 0); /* waits for the deletion to be durable */
    /* Meanwhile the group is Dead: commits are refused. */
    do_commit(f, &c, "idle", -1, "", NULL, "t", 0, 3, "");
    assert_int_equal(c.parts[0].err, WEIR_KERR_COORDINATOR_NOT_AVAILABLE);
    assert_null(grp(f, "idle"));
    run_until(f, &w.done, 2000);
    assert_int_equal(errs[0], WEIR_KERR_NON_EMPTY_GROUP);
    assert_int_equal(errs[1], WEIR_KERR_NONE);
    assert_int_equal(errs[2], WEIR_KERR_GROUP_ID_NOT_FOUND);
    assert_int_equal(errs[3], WEIR_KERR_NONE);
    assert_int_equal(errs[4], WEIR_KERR_INVALID_GROUP_ID);
    assert_null(grp(f, "idle"));
    assert_int_equal(committed(f, "idle", "t", 0), -1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM offsets WHERE group_id = 'idle'"), 0);
    /* The id can be used again. */
    do_commit(f, &c, "idle", -1, "", NULL, "t", 0, 4, "");
    run_until(f, &c.tw.done, 2000);
    assert_int_equal(committed(f, "idle", "t", 0), 4);
    fx_free(f);
}

static void
test_retention(void **state)
{
    fx_t *f = fx_new();
    const char *topics[] = {"a"};
    char m[256];
    int32_t gen;
    commit_t c;
    int64_t t, empty_since, minute = 60000;
    weir_group_t *g;

    (void)state;
    f->conf.offsets_retention_minutes = 1;
    /* Group-less commits: each expires a retention after its commit.  The
     * expiry times are relative to the commit time the coordinator
     * recorded, and each expiry's deletes are waited for until written
     * (an fsync, as long as the disk takes). */
    do_commit(f, &c, "simple", -1, "", NULL, "t", 0, 1, "");
    run_until(f, &c.tw.done, 2000);
    g = grp(f, "simple");
    assert_non_null(g);
    t = weir_group_offset(g, S("t"), 0)->commit_ms;
    weir_coord_expire_offsets(f->co, t + minute - 1);
    assert_int_equal(weir_coord_pending_writes(f->co), 0); /* nothing to delete */
    assert_int_equal(committed(f, "simple", "t", 0), 1);
    weir_coord_expire_offsets(f->co, t + minute);
    assert_int_equal(weir_coord_pending_writes(f->co), 1);
    run_until_written(f, 2000);
    assert_int_equal(committed(f, "simple", "t", 0), -1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM offsets WHERE group_id = 'simple'"), 0);
    /* ... and the group, left with nothing, is forgotten. */
    assert_null(grp(f, "simple"));

    /* A stable consumer group keeps the offsets of topics it subscribes to;
     * others expire from their commit time. */
    consumer_stable(f, "cg", topics, 1, m, &gen);
    g = grp(f, "cg");
    do_commit(f, &c, "cg", gen, m, NULL, "a", 0, 5, "");
    run_until(f, &c.tw.done, 2000);
    do_commit(f, &c, "cg", gen, m, NULL, "b", 0, 6, "");
    run_until(f, &c.tw.done, 2000);
    run_until_written(f, 2000); /* the group's record */
    t = weir_group_offset(g, S("b"), 0)->commit_ms;
    weir_coord_expire_offsets(f->co, t + minute);
    run_until_written(f, 2000);
    assert_int_equal(committed(f, "cg", "a", 0), 5);
    assert_int_equal(committed(f, "cg", "b", 0), -1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM offsets WHERE group_id = 'cg'"), 1);
    /* Once empty, all its offsets expire a retention after it became
     * empty, whatever their commit time: made to have become empty half a
     * retention before "a" was committed, the group loses "a" half a
     * retention after that commit. */
    {
        weir_leave_member_t lm = {.member_id = S(m), .instance_id = WEIR_STR_NULL};
        assert_int_equal(weir_coord_leave(f->co, S("cg"), &lm, 1), WEIR_KERR_NONE);
    }
    assert_int_equal(g->state, WEIR_GROUP_EMPTY);
    run_until_written(f, 2000); /* the record of its emptiness */
    t = weir_group_offset(g, S("a"), 0)->commit_ms;
    empty_since = t - minute / 2; /* became empty half a retention before "a" */
    g->empty_since_ms = empty_since;
    weir_coord_expire_offsets(f->co, empty_since + minute - 1);
    assert_int_equal(weir_coord_pending_writes(f->co), 0); /* nothing to delete */
    assert_int_equal(committed(f, "cg", "a", 0), 5);
    weir_coord_expire_offsets(f->co, empty_since + minute);
    assert_int_equal(weir_coord_pending_writes(f->co), 1);
    /* The offset's delete, then that of the group's record. */
    run_until_written(f, 2000);
    assert_int_equal(committed(f, "cg", "a", 0), -1);
    assert_null(grp(f, "cg"));
    assert_int_equal(db_int(f, "SELECT count(*) FROM offsets WHERE group_id = 'cg'"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM consumer_groups WHERE group_id = 'cg'"), 0);
    fx_free(f);
}

static void
test_persistence(void **state)
{
    fx_t *f = fx_new();
    char m1[256], m2[256];
    int32_t gen;
    commit_t c;
    weir_group_t *g;
    tw_t j;
    const weir_offset_t *o;

    (void)state;
    two_stable(f, "g", m1, m2, &gen);
    do_commit(f, &c, "g", gen, m1, NULL, "t", 0, 77, "hello");
    run_until(f, &c.tw.done, 2000);
    do_commit(f, &c, "s", -1, "", NULL, "t", 1, 88, "");
    run_until(f, &c.tw.done, 2000);
    /* The group's record says it has members. */
    assert_int_equal(db_int(f, "SELECT empty_since_ms IS NULL FROM consumer_groups "
                               "WHERE group_id = 'g'"),
                     1);
    fx_stop_co(f);

    /* A new coordinator on the same database: offsets are back, groups are
     * Empty, old members are unknown and rejoin. */
    fx_open_co(f);
    g = grp(f, "g");
    assert_non_null(g);
    assert_int_equal(g->state, WEIR_GROUP_EMPTY);
    assert_int_equal(g->nmembers, 0);
    assert_string_equal(g->protocol_type, "consumer");
    assert_true(g->empty_since_ms > 0);
    o = weir_group_offset(g, S("t"), 0);
    assert_non_null(o);
    assert_int_equal(o->offset, 77);
    assert_string_equal(o->metadata, "hello");
    assert_int_equal(o->leader_epoch, 7);
    assert_int_equal(committed(f, "s", "t", 1), 88);
    assert_null(grp(f, "s")->protocol_type);
    assert_int_equal(hb(f, "g", gen, m1, NULL), WEIR_KERR_UNKNOWN_MEMBER_ID);
    do_commit(f, &c, "g", gen, m1, NULL, "t", 0, 78, "");
    assert_int_equal(c.parts[0].err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    do_join(f, &j, (join_t){.group = "g", .member = m1});
    assert_int_equal(j.err, WEIR_KERR_UNKNOWN_MEMBER_ID);
    do_join(f, &j, (join_t){.group = "g"});
    run_until(f, &j.done, 2000);
    assert_int_equal(j.err, WEIR_KERR_NONE);
    assert_int_equal(j.generation, 1);
    /* The restart counted as the moment it became empty. */
    run_until_written(f, 2000);
    assert_int_equal(db_int(f, "SELECT count(*) FROM consumer_groups WHERE group_id = 'g'"), 1);
    fx_free(f);
}

static void
test_topic_deleted(void **state)
{
    fx_t *f = fx_new();
    commit_t c;

    (void)state;
    do_commit(f, &c, "a", -1, "", NULL, "gone", 0, 1, "");
    run_until(f, &c.tw.done, 2000);
    do_commit(f, &c, "a", -1, "", NULL, "kept", 0, 2, "");
    run_until(f, &c.tw.done, 2000);
    weir_coord_topic_deleted(f->co, "gone");
    run_until_written(f, 2000);
    assert_int_equal(committed(f, "a", "gone", 0), -1);
    assert_int_equal(committed(f, "a", "kept", 0), 2);
    assert_int_equal(db_int(f, "SELECT count(*) FROM offsets WHERE topic = 'gone'"), 0);
    fx_free(f);
}

/* ------------------------------------------------------------------ */

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir-test-group-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    weir_log_level = WEIR_LOG_WARN;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_join_single_member),
        cmocka_unit_test(test_join_errors),
        cmocka_unit_test(test_member_id_required),
        cmocka_unit_test(test_protocol_selection),
        cmocka_unit_test(test_initial_delay),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_sync_interrupted_by_rebalance),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_rebalance_timeout),
        cmocka_unit_test(test_static_member),
        cmocka_unit_test(test_static_member_survives_rebalance_timeout),
        cmocka_unit_test(test_leave),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_reentrant_callback),
        cmocka_unit_test(test_max_size),
        cmocka_unit_test(test_stop_answers_parked),
        cmocka_unit_test(test_simple_commit),
        cmocka_unit_test(test_commit_refused_creates_no_group),
        cmocka_unit_test(test_commit_checks),
        cmocka_unit_test(test_commit_batching),
        cmocka_unit_test(test_commit_write_failure),
        cmocka_unit_test(test_offset_delete),
        cmocka_unit_test(test_delete_groups),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_topic_deleted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
