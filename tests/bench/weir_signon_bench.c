/*
 * weir_signon_bench.c: SASL/PLAIN sign-ons per second against a SASL_PLAINTEXT
 * listener (tests/bench/run-security runs it with a cold and a warm LDAP
 * cache).
 *
 * Each sign-on is what librdkafka does on a new connection: TCP connect,
 * SaslHandshake v1 "PLAIN", SaslAuthenticate v0 with the PLAIN token, then
 * close.  C threads (-c) sign on in a loop for -d seconds; the run prints
 * sign-ons/s and latency percentiles, ending with one "RESULT key=value ..."
 * line.  A refused sign-on counts as a failure and makes the exit status 1.
 *
 * The password comes from the WEIR_BENCH_PASSWORD environment variable (not
 * the command line, which other users can see).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SB_MAX_THREADS 256
#define SB_MAX_SAMPLES 4000000

typedef struct sb_opts_s {
    char host[256];
    char port[16];
    const char *user;
    const char *password;
    int threads;
    double seconds;
} sb_opts_t;

typedef struct sb_thread_s {
    pthread_t tid;
    const sb_opts_t *o;
    double deadline;
    long ok, failed;
    char first_error[256];
    double *lat;       /* seconds per sign-on */
    long nlat, caplat;
} sb_thread_t;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
read_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Sends a request (header v1, client id "sb") and reads the response body
 * after the correlation id into buf; returns its length or -1. */
static int
request(int fd, int16_t key, int16_t version, int32_t corr, const uint8_t *body, size_t blen,
        uint8_t *buf, size_t cap)
{
    uint8_t hdr[16];
    uint8_t len4[4];
    uint32_t n;

    put32(hdr, (uint32_t)(10 + 2 + blen));
    put16(hdr + 4, (uint16_t)key);
    put16(hdr + 6, (uint16_t)version);
    put32(hdr + 8, (uint32_t)corr);
    put16(hdr + 12, 2);
    hdr[14] = 's';
    hdr[15] = 'b';
    if (write_all(fd, hdr, 16) != 0 || write_all(fd, body, blen) != 0)
        return -1;
    if (read_all(fd, len4, 4) != 0)
        return -1;
    n = ((uint32_t)len4[0] << 24) | ((uint32_t)len4[1] << 16) | ((uint32_t)len4[2] << 8) |
        len4[3];
    if (n < 4 || n - 4 > cap || read_all(fd, len4, 4) != 0 || read_all(fd, buf, n - 4) != 0)
        return -1;
    return (int)(n - 4);
}

/* One sign-on; returns 0, or -1 with why set. */
static int
sign_on(const sb_opts_t *o, const struct addrinfo *ai, char *why, size_t whysz)
{
    uint8_t body[1024], resp[1024];
    size_t ulen = strlen(o->user), plen = strlen(o->password), tlen = 2 + ulen + plen;
    int fd, one = 1, n, rc = -1;

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(why, whysz, "connect: %s", strerror(errno));
        goto out;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    put16(body, 5);
    memcpy(body + 2, "PLAIN", 5);
    n = request(fd, 17, 1, 1, body, 7, resp, sizeof(resp));
    if (n < 2 || resp[0] != 0 || resp[1] != 0) {
        snprintf(why, whysz, "SaslHandshake failed");
        goto out;
    }
    put32(body, (uint32_t)tlen);
    body[4] = '\0';
    memcpy(body + 5, o->user, ulen);
    body[5 + ulen] = '\0';
    memcpy(body + 6 + ulen, o->password, plen);
    n = request(fd, 36, 0, 2, body, 4 + tlen, resp, sizeof(resp));
    if (n < 2) {
        snprintf(why, whysz, "SaslAuthenticate: no answer");
        goto out;
    }
    if (resp[0] != 0 || resp[1] != 0) {
        int16_t err = (int16_t)((resp[0] << 8) | resp[1]);
        int16_t mlen = n >= 4 ? (int16_t)((resp[2] << 8) | resp[3]) : -1;
        snprintf(why, whysz, "SaslAuthenticate error %d: %.*s", err,
                 mlen > 0 && mlen <= n - 4 ? mlen : 0, (const char *)resp + 4);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static void *
worker(void *arg)
{
    sb_thread_t *t = arg;
    struct addrinfo hints, *ai = NULL;
    char why[256];

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(t->o->host, t->o->port, &hints, &ai) != 0) {
        snprintf(t->first_error, sizeof(t->first_error), "cannot resolve %.200s", t->o->host);
        t->failed++;
        return NULL;
    }
    while (now_s() < t->deadline) {
        double t0 = now_s();
        if (sign_on(t->o, ai, why, sizeof(why)) == 0) {
            t->ok++;
            if (t->nlat == t->caplat && t->caplat < SB_MAX_SAMPLES) {
                t->caplat = t->caplat ? t->caplat * 2 : 4096;
                t->lat = realloc(t->lat, (size_t)t->caplat * sizeof(double));
                if (!t->lat)
                    abort();
            }
            if (t->nlat < t->caplat)
                t->lat[t->nlat++] = now_s() - t0;
        } else {
            if (t->failed++ == 0)
                snprintf(t->first_error, sizeof(t->first_error), "%s", why);
            if (t->failed > 1000)
                break;
        }
    }
    freeaddrinfo(ai);
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: weir_signon_bench -b HOST:PORT -u USER [-c THREADS] [-d SECONDS]\n"
            "\n"
            "Signs on with SASL/PLAIN (SaslHandshake v1 + SaslAuthenticate v0, a new TCP\n"
            "connection each time) from THREADS threads (default 8) for SECONDS\n"
            "(default 5) and prints sign-ons/s and latency percentiles.  The password is\n"
            "read from WEIR_BENCH_PASSWORD.  Exit status: 0, 1 if a sign-on failed, 2 bad\n"
            "usage.\n");
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bootstrap", required_argument, NULL, 'b'}, {"user", required_argument, NULL, 'u'},
        {"threads", required_argument, NULL, 'c'},   {"duration", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    sb_opts_t o;
    sb_thread_t *th;
    long ok = 0, failed = 0, n = 0;
    double *all, elapsed, start;
    const char *colon, *first_error = NULL;
    int c;

    memset(&o, 0, sizeof(o));
    o.threads = 8;
    o.seconds = 5;
    while ((c = getopt_long(argc, argv, "b:u:c:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            colon = strrchr(optarg, ':');
            if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof(o.host) ||
                strlen(colon + 1) >= sizeof(o.port)) {
                fprintf(stderr, "weir_signon_bench: -b wants HOST:PORT\n");
                return 2;
            }
            memcpy(o.host, optarg, (size_t)(colon - optarg));
            snprintf(o.port, sizeof(o.port), "%s", colon + 1);
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'c':
            o.threads = atoi(optarg);
            break;
        case 'd':
            o.seconds = atof(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    o.password = getenv("WEIR_BENCH_PASSWORD");
    if (!o.host[0] || !o.user || !o.password || o.threads < 1 || o.threads > SB_MAX_THREADS ||
        o.seconds <= 0 || strlen(o.user) + strlen(o.password) > 900) {
        usage(stderr);
        return 2;
    }
    th = calloc((size_t)o.threads, sizeof(*th));
    if (!th)
        return 1;
    start = now_s();
    for (int i = 0; i < o.threads; i++) {
        th[i].o = &o;
        th[i].deadline = start + o.seconds;
        if (pthread_create(&th[i].tid, NULL, worker, &th[i]) != 0) {
            fprintf(stderr, "weir_signon_bench: pthread_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < o.threads; i++)
        pthread_join(th[i].tid, NULL);
    elapsed = now_s() - start;
    for (int i = 0; i < o.threads; i++) {
        ok += th[i].ok;
        failed += th[i].failed;
        n += th[i].nlat;
        if (!first_error && th[i].first_error[0])
            first_error = th[i].first_error;
    }
    all = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!all)
        return 1;
    n = 0;
    for (int i = 0; i < o.threads; i++) {
        memcpy(all + n, th[i].lat, (size_t)th[i].nlat * sizeof(double));
        n += th[i].nlat;
        free(th[i].lat);
    }
    qsort(all, (size_t)n, sizeof(double), cmp_double);
    printf("%ld sign-ons in %.2f s from %d threads: %.0f/s; latency p50 %.2f ms, p99 %.2f ms; "
           "%ld failed%s%s\n",
           ok, elapsed, o.threads, (double)ok / elapsed, n ? all[n / 2] * 1e3 : 0.0,
           n ? all[(n * 99) / 100] * 1e3 : 0.0, failed, first_error ? ": " : "",
           first_error ? first_error : "");
    printf("RESULT signons=%ld seconds=%.3f signons_per_s=%.1f p50_ms=%.3f p99_ms=%.3f "
           "failed=%ld\n",
           ok, elapsed, (double)ok / elapsed, n ? all[n / 2] * 1e3 : 0.0,
           n ? all[(n * 99) / 100] * 1e3 : 0.0, failed);
    free(all);
    free(th);
    return failed ? 1 : 0;
}
