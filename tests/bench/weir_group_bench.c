/*
 * weir_group_bench.c: consumer-group benchmark for Weir (and for librdkafka's
 * in-process mock cluster, as a baseline on the same machine).
 *
 * Rebalance: in each of R rounds, M consumers (librdkafka's classic
 * protocol, "range" assignor, one thread each) subscribe to a topic of P
 * partitions in a new group.  "join" is the time from the first subscribe()
 * to the moment the members' latest assignments together cover the P
 * partitions exactly once (every member assigned); "leave" is the time from
 * one member's close() (LeaveGroup) until the other M-1 cover them again.
 * The handles are created and connected (metadata fetched) before the clock
 * starts; finding the coordinator and connecting to it are part of "join".
 *
 * Offset commits: synchronous commits by one member (each waits for its
 * answer: latency-bound), asynchronous ones by one member with up to W in
 * flight, and synchronous commits by all M members at once; commits/s and
 * offsets/s.  One member commits one partition per commit, the M members
 * their whole assignments.  Every commit must succeed and the last committed
 * offsets are read back (committed()) and compared.
 *
 * Figures only: a run fails on an error or a stall (-T), never on time.
 * The last line is "RESULT key=value ..." for tests/bench/run.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define GB_MAX_MEMBERS 100
#define GB_MAX_PARTS 1000
#define GB_MAX_ROUNDS 100
#define GB_RPC_TIMEOUT_MS 10000

typedef struct gb_opts_s {
    const char *bootstrap; /* NULL in --mock mode */
    bool mock;
    int members;
    int parts;
    int rounds;
    int commit_s; /* seconds per commit phase */
    int window;   /* asynchronous commits in flight */
    int timeout_s;
    const char *debug; /* librdkafka debug contexts of member 0, or NULL */
} gb_opts_t;

typedef enum gb_phase_e {
    GB_IDLE = 0,
    GB_COMMIT_ASYNC, /* member 0 only */
    GB_COMMIT_SYNC,  /* every active member */
    GB_STOP,
} gb_phase_t;

struct gb_s;

typedef struct gb_member_s {
    struct gb_s *b;
    int idx;
    rd_kafka_t *rk;
    pthread_t thread;
    bool started;
    /* Under b->lock. */
    bool active;   /* subscribed and not closed */
    bool assigned; /* has its assignment of the current generation */
    int nparts;
    int32_t parts[GB_MAX_PARTS];
    long commits;  /* completed by this member in the current phase */
    double t_end;  /* when its last commit of the phase was answered */
    int64_t last;  /* last offset committed */
    int inflight;  /* asynchronous commits not answered */
    char err[256]; /* first error */
} gb_member_t;

typedef struct gb_s {
    const gb_opts_t *o;
    const char *bootstrap;
    char topic[64];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    gb_phase_t phase;
    double deadline;
    gb_member_t m[GB_MAX_MEMBERS];
} gb_t;

static const char *progname = "weir_group_bench";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: %s (-b HOST:PORT | --mock) [options]\n"
            "  -b, --bootstrap HOST:PORT  the broker\n"
            "  -m, --mock                 an in-process librdkafka mock cluster instead\n"
            "  -n, --members N            group members (default 10)\n"
            "  -p, --partitions N         partitions of the topic (default 20)\n"
            "  -r, --rounds N             rebalance rounds (default 5)\n"
            "  -d, --commit-seconds N     length of each commit phase (default 5)\n"
            "  -w, --window N             asynchronous commits in flight (default 64)\n"
            "  -T, --timeout N            seconds before a stalled phase fails (default 60)\n"
            "  -D, --debug CONTEXTS       librdkafka debug contexts for member 0 (stderr)\n"
            "  -V, --version              print librdkafka's version\n"
            "Prints each phase and a final line\n"
            "  RESULT target=... members=N partitions=N join_ms_median=... join_ms_min=...\n"
            "         join_ms_max=... leave_ms_median=... leave_ms_min=... leave_ms_max=...\n"
            "         sync1_cps=... async1_cps=... syncn_cps=... syncn_ops=...\n",
            progname);
}

static int
parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int
parse_args(int argc, char **argv, gb_opts_t *o)
{
    static const struct option longopts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"mock", no_argument, NULL, 'm'},
        {"members", required_argument, NULL, 'n'},
        {"partitions", required_argument, NULL, 'p'},
        {"rounds", required_argument, NULL, 'r'},
        {"commit-seconds", required_argument, NULL, 'd'},
        {"window", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 'T'},
        {"debug", required_argument, NULL, 'D'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->members = 10;
    o->parts = 20;
    o->rounds = 5;
    o->commit_s = 5;
    o->window = 64;
    o->timeout_s = 60;
    while ((c = getopt_long(argc, argv, "b:mn:p:r:d:w:T:D:Vh", longopts, NULL)) != -1) {
        int bad = 0;

        switch (c) {
        case 'b':
            o->bootstrap = optarg;
            break;
        case 'm':
            o->mock = true;
            break;
        case 'n':
            bad = parse_int(optarg, 2, GB_MAX_MEMBERS, &o->members);
            break;
        case 'p':
            bad = parse_int(optarg, 1, GB_MAX_PARTS, &o->parts);
            break;
        case 'r':
            bad = parse_int(optarg, 1, GB_MAX_ROUNDS, &o->rounds);
            break;
        case 'd':
            bad = parse_int(optarg, 1, 3600, &o->commit_s);
            break;
        case 'w':
            bad = parse_int(optarg, 1, 100000, &o->window);
            break;
        case 'T':
            bad = parse_int(optarg, 1, 3600, &o->timeout_s);
            break;
        case 'D':
            o->debug = optarg;
            break;
        case 'V':
            printf("librdkafka %s\n", rd_kafka_version_str());
            return 1;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
        if (bad) {
            fail("bad value for -%c: %s", c, optarg);
            return -1;
        }
    }
    if (optind != argc || o->mock == (o->bootstrap != NULL)) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Clients                                                            */

static int
conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fail("config %s=%s: %s", key, value, errstr);
        return -1;
    }
    return 0;
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    /* Transport errors at close are expected; anything else is worth seeing. */
    if (err != RD_KAFKA_RESP_ERR__TRANSPORT && err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        fprintf(stderr, "%s: %s: %s: %s\n", progname, rd_kafka_name(rk),
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void member_error(gb_member_t *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
member_error(gb_member_t *m, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&m->b->lock);
    if (!m->err[0]) {
        va_start(ap, fmt);
        vsnprintf(m->err, sizeof(m->err), fmt, ap);
        va_end(ap);
    }
    pthread_cond_broadcast(&m->b->cond);
    pthread_mutex_unlock(&m->b->lock);
}

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
             void *opaque)
{
    gb_member_t *m = opaque;
    gb_t *b = m->b;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);

        if (e)
            member_error(m, "assign: %s", rd_kafka_err2str(e));
        pthread_mutex_lock(&b->lock);
        m->nparts = 0;
        for (int i = 0; i < parts->cnt && i < GB_MAX_PARTS; i++)
            m->parts[m->nparts++] = parts->elems[i].partition;
        m->assigned = true;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
    } else {
        rd_kafka_assign(rk, NULL);
        pthread_mutex_lock(&b->lock);
        m->nparts = 0;
        m->assigned = false;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
    }
}

/* The result of an asynchronous commit (rd_kafka_commit_queue). */
static void
async_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                void *opaque)
{
    gb_member_t *m = opaque;

    (void)rk;
    if (!err) {
        for (int i = 0; i < offsets->cnt && !err; i++)
            err = offsets->elems[i].err;
    }
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        member_error(m, "asynchronous commit: %s", rd_kafka_err2str(err));
    pthread_mutex_lock(&m->b->lock);
    m->inflight--;
    if (!err)
        m->commits++;
    pthread_mutex_unlock(&m->b->lock);
}

static rd_kafka_t *
member_new(gb_t *b, gb_member_t *m, const char *group)
{
    char errstr[512], id[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;

    snprintf(id, sizeof(id), "weir-group-bench-%d", m->idx);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, m);
    if (conf_set(conf, "bootstrap.servers", b->bootstrap) != 0 ||
        conf_set(conf, "client.id", id) != 0 || conf_set(conf, "group.id", group) != 0 ||
        conf_set(conf, "session.timeout.ms", "6000") != 0 ||
        conf_set(conf, "heartbeat.interval.ms", "100") != 0 ||
        conf_set(conf, "partition.assignment.strategy", "range") != 0 ||
        conf_set(conf, "enable.auto.commit", "false") != 0 ||
        conf_set(conf, "enable.auto.offset.store", "false") != 0 ||
        conf_set(conf, "auto.offset.reset", "earliest") != 0 ||
        conf_set(conf, "log_level", "3") != 0 ||
        (m->idx == 0 && b->o->debug && conf_set(conf, "debug", b->o->debug) != 0)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fail("rd_kafka_new: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    /* Connected before any clock starts. */
    err = rd_kafka_metadata(rk, 0, NULL, &md, GB_RPC_TIMEOUT_MS);
    if (err) {
        fail("metadata: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return NULL;
    }
    rd_kafka_metadata_destroy(md);
    return rk;
}

/* Synchronous commits of the member's assignment (all of it, or one
 * partition when one) until the phase ends. */
static void
member_commit_sync(gb_member_t *m, bool one)
{
    gb_t *b = m->b;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(GB_MAX_PARTS);
    int64_t off = m->last;

    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < m->nparts && (!one || i < 1); i++)
        rd_kafka_topic_partition_list_add(l, b->topic, m->parts[i]);
    pthread_mutex_unlock(&b->lock);
    if (l->cnt == 0) {
        member_error(m, "nothing assigned to commit");
        rd_kafka_topic_partition_list_destroy(l);
        return;
    }
    while (now_s() < b->deadline) {
        rd_kafka_resp_err_t err;

        off++;
        for (int i = 0; i < l->cnt; i++)
            l->elems[i].offset = off;
        err = rd_kafka_commit(m->rk, l, 0);
        for (int i = 0; i < l->cnt && !err; i++)
            err = l->elems[i].err;
        if (err) {
            member_error(m, "commit: %s", rd_kafka_err2str(err));
            break;
        }
        pthread_mutex_lock(&b->lock);
        m->commits++;
        m->last = off;
        pthread_mutex_unlock(&b->lock);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Asynchronous commits of one partition, up to o->window in flight; their
 * results come on a queue of their own. */
static void
member_commit_async(gb_member_t *m)
{
    gb_t *b = m->b;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_queue_t *q = rd_kafka_queue_new(m->rk);
    int64_t off = m->last;
    double drain;

    pthread_mutex_lock(&b->lock);
    rd_kafka_topic_partition_list_add(l, b->topic, m->parts[0]);
    pthread_mutex_unlock(&b->lock);
    while (now_s() < b->deadline && !m->err[0]) {
        for (;;) {
            rd_kafka_resp_err_t err;

            pthread_mutex_lock(&b->lock);
            if (m->inflight >= b->o->window) {
                pthread_mutex_unlock(&b->lock);
                break;
            }
            m->inflight++;
            pthread_mutex_unlock(&b->lock);
            l->elems[0].offset = ++off;
            err = rd_kafka_commit_queue(m->rk, l, q, async_commit_cb, m);
            if (err) {
                member_error(m, "asynchronous commit: %s", rd_kafka_err2str(err));
                pthread_mutex_lock(&b->lock);
                m->inflight--;
                pthread_mutex_unlock(&b->lock);
                break;
            }
        }
        rd_kafka_queue_poll_callback(q, 1);
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(m->rk, 0);
        if (msg)
            rd_kafka_message_destroy(msg);
    }
    /* Every commit is answered before the phase ends. */
    drain = now_s() + b->o->timeout_s;
    for (;;) {
        rd_kafka_message_t *msg;

        pthread_mutex_lock(&b->lock);
        if (m->inflight == 0) {
            m->last = off;
            pthread_mutex_unlock(&b->lock);
            break;
        }
        pthread_mutex_unlock(&b->lock);
        if (now_s() > drain) {
            member_error(m, "asynchronous commits not answered after %d s", b->o->timeout_s);
            break;
        }
        rd_kafka_queue_poll_callback(q, 10);
        msg = rd_kafka_consumer_poll(m->rk, 0);
        if (msg)
            rd_kafka_message_destroy(msg);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_partition_list_destroy(l);
}

static void *
member_main(void *arg)
{
    gb_member_t *m = arg;
    gb_t *b = m->b;

    for (;;) {
        rd_kafka_message_t *msg;
        gb_phase_t phase;
        bool active, fresh;

        pthread_mutex_lock(&b->lock);
        phase = b->phase;
        active = m->active;
        fresh = m->commits == 0 && m->t_end == 0 && now_s() < b->deadline;
        pthread_mutex_unlock(&b->lock);
        if (phase == GB_STOP || !active)
            break;
        if (phase == GB_COMMIT_SYNC && fresh) {
            member_commit_sync(m, b->o->members == 1);
            pthread_mutex_lock(&b->lock);
            m->t_end = now_s();
            pthread_mutex_unlock(&b->lock);
            continue;
        }
        if (phase == GB_COMMIT_ASYNC && m->idx == 0 && fresh) {
            member_commit_async(m);
            pthread_mutex_lock(&b->lock);
            m->t_end = now_s();
            pthread_mutex_unlock(&b->lock);
            continue;
        }
        msg = rd_kafka_consumer_poll(m->rk, 20);
        if (msg) {
            if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                member_error(m, "consumer: %s", rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Phases                                                             */

/* Under b->lock: every active member assigned and the assignments cover
 * the partitions exactly once.  Returns -1 on a member error. */
static int
covered(gb_t *b)
{
    static unsigned char seen[GB_MAX_PARTS];
    int total = 0;

    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < b->o->members; i++) {
        gb_member_t *m = &b->m[i];

        if (m->err[0])
            return -1;
        if (!m->active)
            continue;
        if (!m->assigned)
            return 0;
        for (int k = 0; k < m->nparts; k++) {
            int32_t p = m->parts[k];
            if (p < 0 || p >= b->o->parts || seen[p])
                return 0;
            seen[p] = 1;
            total++;
        }
    }
    return total == b->o->parts;
}

/* Waits until covered(); returns the seconds since t0, or -1. */
static double
wait_covered(gb_t *b, double t0, const char *what)
{
    double t = -1;
    int c;

    pthread_mutex_lock(&b->lock);
    while ((c = covered(b)) == 0) {
        struct timespec ts;
        double left = t0 + b->o->timeout_s - now_s();

        if (left <= 0)
            break;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000; /* re-check every 2 ms at most */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    if (c == 1)
        t = now_s() - t0;
    pthread_mutex_unlock(&b->lock);
    if (c == 0)
        fail("%s: the members did not cover the %d partitions within %d s", what, b->o->parts,
             b->o->timeout_s);
    return t;
}

static const char *
member_errors(gb_t *b)
{
    for (int i = 0; i < b->o->members; i++)
        if (b->m[i].err[0])
            return b->m[i].err;
    return NULL;
}

static void
stop_members(gb_t *b)
{
    pthread_mutex_lock(&b->lock);
    b->phase = GB_STOP;
    pthread_mutex_unlock(&b->lock);
    for (int i = 0; i < b->o->members; i++) {
        gb_member_t *m = &b->m[i];

        if (m->started)
            pthread_join(m->thread, NULL);
        m->started = false;
        if (m->rk) {
            rd_kafka_consumer_close(m->rk);
            rd_kafka_destroy(m->rk);
            m->rk = NULL;
        }
    }
    pthread_mutex_lock(&b->lock);
    b->phase = GB_IDLE;
    pthread_mutex_unlock(&b->lock);
}

/* Creates n members of group and subscribes them; t0 gets the time of the
 * first subscribe. */
static int
start_members(gb_t *b, int n, const char *group, double *t0)
{
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    int rc = 0;

    rd_kafka_topic_partition_list_add(sub, b->topic, RD_KAFKA_PARTITION_UA);
    for (int i = 0; i < b->o->members; i++) {
        gb_member_t *m = &b->m[i];

        memset(m, 0, sizeof(*m));
        m->b = b;
        m->idx = i;
        if (i < n && !(m->rk = member_new(b, m, group)))
            rc = -1;
    }
    *t0 = now_s();
    for (int i = 0; i < n && rc == 0; i++) {
        gb_member_t *m = &b->m[i];
        rd_kafka_resp_err_t err = rd_kafka_subscribe(m->rk, sub);

        if (err) {
            fail("subscribe: %s", rd_kafka_err2str(err));
            rc = -1;
            break;
        }
        m->active = true;
        if (pthread_create(&m->thread, NULL, member_main, m) != 0) {
            fail("pthread_create failed");
            m->active = false;
            rc = -1;
            break;
        }
        m->started = true;
    }
    rd_kafka_topic_partition_list_destroy(sub);
    return rc;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct gb_stats_s {
    double median, min, max;
} gb_stats_t;

static gb_stats_t
stats_of(double *v, int n)
{
    gb_stats_t s;

    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

static int
run_rebalance(gb_t *b, gb_stats_t *join, gb_stats_t *leave)
{
    const gb_opts_t *o = b->o;
    double joins[GB_MAX_ROUNDS], leaves[GB_MAX_ROUNDS];

    for (int r = 0; r < o->rounds; r++) {
        char group[96];
        double t0, tj, tl;
        gb_member_t *last;

        snprintf(group, sizeof(group), "weir-group-bench-%ld-r%d", (long)getpid(), r);
        if (start_members(b, o->members, group, &t0) != 0) {
            stop_members(b);
            return -1;
        }
        tj = wait_covered(b, t0, "join");
        if (tj < 0) {
            fail("round %d: %s", r, member_errors(b) ? member_errors(b) : "join stalled");
            stop_members(b);
            return -1;
        }
        /* The last member leaves. */
        last = &b->m[o->members - 1];
        pthread_mutex_lock(&b->lock);
        last->active = false;
        pthread_mutex_unlock(&b->lock);
        pthread_join(last->thread, NULL);
        last->started = false;
        t0 = now_s();
        rd_kafka_consumer_close(last->rk);
        tl = wait_covered(b, t0, "leave");
        rd_kafka_destroy(last->rk);
        last->rk = NULL;
        if (tl < 0) {
            fail("round %d: %s", r, member_errors(b) ? member_errors(b) : "rebalance stalled");
            stop_members(b);
            return -1;
        }
        printf("round %d: %d members joined, all assigned in %.1f ms; one left, %d reassigned "
               "in %.1f ms\n",
               r + 1, o->members, tj * 1000, o->members - 1, tl * 1000);
        fflush(stdout);
        joins[r] = tj * 1000;
        leaves[r] = tl * 1000;
        stop_members(b);
    }
    *join = stats_of(joins, o->rounds);
    *leave = stats_of(leaves, o->rounds);
    return 0;
}

/* Reads back the last committed offset of member m's first partition. */
static int
check_committed(gb_t *b, gb_member_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err;
    int rc = 0;

    rd_kafka_topic_partition_list_add(l, b->topic, m->parts[0]);
    err = rd_kafka_committed(m->rk, l, GB_RPC_TIMEOUT_MS);
    if (err || l->elems[0].err) {
        fail("committed(): %s", rd_kafka_err2str(err ? err : l->elems[0].err));
        rc = -1;
    } else if (l->elems[0].offset != m->last) {
        fail("member %d partition %d: committed offset %" PRId64 ", last commit was %" PRId64,
             m->idx, m->parts[0], l->elems[0].offset, m->last);
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* One commit phase: members [0, n) (already assigned) commit until the
 * deadline.  Returns commits/s (and offsets/s in *ops), or -1. */
static double
commit_phase(gb_t *b, gb_phase_t phase, int n, double *ops)
{
    double t0, secs;
    long commits = 0, offsets = 0;

    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < n; i++) {
        b->m[i].commits = 0;
        b->m[i].t_end = 0;
    }
    t0 = now_s();
    b->deadline = t0 + b->o->commit_s;
    b->phase = phase;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    /* Wait until every committing member has had its last answer. */
    for (;;) {
        bool busy = false;

        usleep(20000);
        pthread_mutex_lock(&b->lock);
        for (int i = 0; i < n; i++)
            busy |= (phase == GB_COMMIT_SYNC || i == 0) && b->m[i].t_end == 0 && !b->m[i].err[0];
        pthread_mutex_unlock(&b->lock);
        if (!busy)
            break;
        if (now_s() > b->deadline + b->o->timeout_s) {
            fail("commits: not finished %d s after the end of the phase", b->o->timeout_s);
            return -1;
        }
    }
    pthread_mutex_lock(&b->lock);
    secs = 0;
    for (int i = 0; i < n; i++)
        if (b->m[i].t_end - t0 > secs)
            secs = b->m[i].t_end - t0;
    b->phase = GB_IDLE;
    for (int i = 0; i < n; i++) {
        commits += b->m[i].commits;
        offsets += b->m[i].commits * (phase == GB_COMMIT_ASYNC || n == 1 ? 1 : b->m[i].nparts);
    }
    pthread_mutex_unlock(&b->lock);
    if (member_errors(b)) {
        fail("commits: %s", member_errors(b));
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (check_committed(b, &b->m[i]) != 0)
            return -1;
    *ops = (double)offsets / secs;
    return (double)commits / secs;
}

static int
run_commits(gb_t *b, double *sync1, double *async1, double *syncn, double *syncn_ops)
{
    const gb_opts_t *o = b->o;
    gb_opts_t one = *o;
    char group[96];
    double t0, ops;
    int rc = -1;

    /* One member. */
    one.members = 1;
    b->o = &one;
    snprintf(group, sizeof(group), "weir-group-bench-%ld-c1", (long)getpid());
    if (start_members(b, 1, group, &t0) != 0 || wait_covered(b, t0, "commit group") < 0)
        goto out;
    *sync1 = commit_phase(b, GB_COMMIT_SYNC, 1, &ops);
    if (*sync1 < 0)
        goto out;
    printf("commits, 1 member, synchronous: %.0f commits/s (1 offset each)\n", *sync1);
    fflush(stdout);
    *async1 = commit_phase(b, GB_COMMIT_ASYNC, 1, &ops);
    if (*async1 < 0)
        goto out;
    printf("commits, 1 member, asynchronous (%d in flight): %.0f commits/s\n", o->window, *async1);
    fflush(stdout);
    stop_members(b);

    /* All members at once. */
    b->o = o;
    snprintf(group, sizeof(group), "weir-group-bench-%ld-cn", (long)getpid());
    if (start_members(b, o->members, group, &t0) != 0 || wait_covered(b, t0, "commit group") < 0)
        goto out;
    *syncn = commit_phase(b, GB_COMMIT_SYNC, o->members, syncn_ops);
    if (*syncn < 0)
        goto out;
    printf("commits, %d members at once, synchronous: %.0f commits/s, %.0f offsets/s\n", o->members,
           *syncn, *syncn_ops);
    fflush(stdout);
    rc = 0;
out:
    if (rc != 0 && member_errors(b))
        fail("%s", member_errors(b));
    stop_members(b);
    b->o = o;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Topic                                                              */

static int
create_topic(const char *bootstrap, const char *topic, int parts)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nt;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    int rc = -1;

    if (conf_set(conf, "bootstrap.servers", bootstrap) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fail("rd_kafka_new: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    nt = rd_kafka_NewTopic_new(topic, parts, 1, errstr, sizeof(errstr));
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, GB_RPC_TIMEOUT_MS, errstr, sizeof(errstr));
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, GB_RPC_TIMEOUT_MS + 5000);
    if (!ev) {
        fail("CreateTopics %s: no result", topic);
    } else if (rd_kafka_event_error(ev)) {
        fail("CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    } else {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);

        if (cnt != 1 || rd_kafka_topic_result_error(tr[0]))
            fail("CreateTopics %s: %s", topic,
                 cnt == 1 ? rd_kafka_err2name(rd_kafka_topic_result_error(tr[0]))
                          : "no topic result");
        else
            rc = 0;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
    return rc;
}

int
main(int argc, char **argv)
{
    static gb_t b;
    gb_opts_t o;
    gb_stats_t join, leave;
    double sync1 = 0, async1 = 0, syncn = 0, syncn_ops = 0;
    rd_kafka_t *mock_rk = NULL;
    rd_kafka_mock_cluster_t *mcluster = NULL;
    int rc;

    if (argc > 0 && argv[0] && argv[0][0]) {
        const char *slash = strrchr(argv[0], '/');
        progname = slash ? slash + 1 : argv[0];
    }
    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    memset(&b, 0, sizeof(b));
    b.o = &o;
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    snprintf(b.topic, sizeof(b.topic), "weir-group-bench-%ld", (long)getpid());

    if (o.mock) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        if (conf_set(conf, "log_level", "3") != 0) {
            rd_kafka_conf_destroy(conf);
            return 1;
        }
        mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!mock_rk) {
            fail("rd_kafka_new: %s", errstr);
            rd_kafka_conf_destroy(conf);
            return 1;
        }
        mcluster = rd_kafka_mock_cluster_new(mock_rk, 1);
        if (!mcluster || rd_kafka_mock_topic_create(mcluster, b.topic, o.parts, 1) !=
                             RD_KAFKA_RESP_ERR_NO_ERROR) {
            fail("mock cluster or topic failed");
            if (mcluster)
                rd_kafka_mock_cluster_destroy(mcluster);
            rd_kafka_destroy(mock_rk);
            return 1;
        }
        b.bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster);
    } else {
        b.bootstrap = o.bootstrap;
        if (create_topic(b.bootstrap, b.topic, o.parts) != 0)
            return 1;
    }
    printf("target=%s bootstrap=%s topic=%s partitions=%d members=%d rounds=%d librdkafka=%s\n",
           o.mock ? "mock" : "broker", b.bootstrap, b.topic, o.parts, o.members, o.rounds,
           rd_kafka_version_str());
    fflush(stdout);

    rc = run_rebalance(&b, &join, &leave);
    if (rc == 0) {
        printf("rebalance, %d members: join -> all assigned %.1f ms (median; %.1f..%.1f); "
               "one leaves -> reassigned %.1f ms (median; %.1f..%.1f)\n",
               o.members, join.median, join.min, join.max, leave.median, leave.min, leave.max);
        fflush(stdout);
        rc = run_commits(&b, &sync1, &async1, &syncn, &syncn_ops);
    }
    if (rc == 0)
        printf("RESULT target=%s members=%d partitions=%d join_ms_median=%.1f join_ms_min=%.1f "
               "join_ms_max=%.1f leave_ms_median=%.1f leave_ms_min=%.1f leave_ms_max=%.1f "
               "sync1_cps=%.1f async1_cps=%.1f syncn_cps=%.1f syncn_ops=%.1f\n",
               o.mock ? "mock" : "broker", o.members, o.parts, join.median, join.min, join.max,
               leave.median, leave.min, leave.max, sync1, async1, syncn, syncn_ops);
    fflush(stdout);
    if (mcluster)
        rd_kafka_mock_cluster_destroy(mcluster);
    if (mock_rk)
        rd_kafka_destroy(mock_rk);
    return rc == 0 ? 0 : 1;
}
