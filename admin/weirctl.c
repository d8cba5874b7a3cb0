/*
 * weirctl.c: the command-line client of Weir's admin HTTP API
 * (/admin/v1/...): tenants, topics, requests and their approval, ACLs,
 * consumer groups with lag, and the audit log.
 *
 * weirctl talks only to the admin API over HTTP(S) with libcurl; it never
 * opens the broker's database.  The server URL and credentials come from
 * flags, else the environment (WEIR_URL, WEIR_USER, WEIR_PASSWORD,
 * WEIR_CACERT), else ~/.config/weir/weirctl.conf, which is refused when
 * group or other may read or write it (it holds a password).  Answers are
 * printed as aligned tables, or as the server's JSON with --json.
 *
 * Exit codes (WEIRCTL_EXIT_*): 0 success, 1 other failure (server error,
 * bad answer), 2 usage error, 3 denied (401/403), 4 not found (404),
 * 5 conflict (409: e.g. a request that is no longer pending), 6 server
 * unreachable, 7 configuration error (unsafe or unreadable config file).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "weir_common.h"
#include "weir_schema_diff.h"

enum {
    WEIRCTL_EXIT_OK = 0,
    WEIRCTL_EXIT_FAILURE = 1,
    WEIRCTL_EXIT_USAGE = 2,
    WEIRCTL_EXIT_DENIED = 3,
    WEIRCTL_EXIT_NOT_FOUND = 4,
    WEIRCTL_EXIT_CONFLICT = 5,
    WEIRCTL_EXIT_UNREACHABLE = 6,
    WEIRCTL_EXIT_CONFIG = 7,
};

#define WEIRCTL_DEFAULT_URL "http://127.0.0.1:8081"
#define WEIRCTL_MAX_ANSWER (64u * 1024u * 1024u)
#define WEIRCTL_API "/admin/v1"

/** Where to connect and how (flags > environment > config file). */
typedef struct weirctl_s {
    char *url;
    char *user;
    char *password;
    char *cacert;
    bool insecure;
    bool json;
    long timeout_s;
} weirctl_t;

/** A growing answer body. */
typedef struct weirctl_buf_s {
    char *p;
    size_t len;
    bool too_big;
} weirctl_buf_t;

static const char *prog = "weirctl";

static void
die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see '%s help')\n", prog);
    exit(WEIRCTL_EXIT_USAGE);
}

static void
die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void
die(int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

static void
set_str(char **dst, const char *v)
{
    if (*dst || !v || !*v)
        return;
    *dst = weir_strdup(v);
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Reads "key = value" lines (# comments) of the config file; only fills
 * what flags and the environment left unset.  A missing default file is
 * fine; an explicit one must exist. */
static void
load_config(weirctl_t *c, const char *path, bool explicit_path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && !explicit_path)
            return;
        die(WEIRCTL_EXIT_CONFIG, "cannot read config file %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        die(WEIRCTL_EXIT_CONFIG, "config file %s is not a regular file", path);
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))
        die(WEIRCTL_EXIT_CONFIG,
            "config file %s is readable or writable by group or others (mode %03o); it may "
            "hold a password: run 'chmod 600 %s'", path, (unsigned)(st.st_mode & 0777), path);
    FILE *f = fopen(path, "r");
    if (!f)
        die(WEIRCTL_EXIT_CONFIG, "cannot open config file %s: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fclose(f);
            die(WEIRCTL_EXIT_CONFIG, "%s:%d: expected 'key = value'", path, lineno);
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        if (strcmp(k, "url") == 0)
            set_str(&c->url, v);
        else if (strcmp(k, "user") == 0)
            set_str(&c->user, v);
        else if (strcmp(k, "password") == 0)
            set_str(&c->password, v);
        else if (strcmp(k, "cacert") == 0)
            set_str(&c->cacert, v);
        else {
            fclose(f);
            die(WEIRCTL_EXIT_CONFIG, "%s:%d: unknown key '%s' (url, user, password, cacert)",
                path, lineno, k);
        }
    }
    fclose(f);
}

static void
default_config_path(char *out, size_t outsz)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, outsz, "%s/weir/weirctl.conf", xdg);
    else if (home && *home)
        snprintf(out, outsz, "%s/.config/weir/weirctl.conf", home);
    else
        out[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Units                                                               */

/** "7d", "12h", "30m", "45s", "500ms" or plain milliseconds; -1 if malformed. */
static int64_t
parse_duration_ms(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    int64_t mul;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else if (strcmp(end, "d") == 0)
        mul = 86400000;
    else if (strcmp(end, "w") == 0)
        mul = 7 * 86400000LL;
    else
        return -1;
    if (v > INT64_MAX / mul)
        return -1;
    return v * mul;
}

/** "512MiB", "1GiB", "64KiB", "10MB" (decimal), "4096" or "4096B"; -1 if malformed. */
static int64_t
parse_size_bytes(const char *s)
{
    static const struct { const char *unit; int64_t mul; } units[] = {
        {"", 1}, {"B", 1},
        {"K", 1024LL}, {"KiB", 1024LL}, {"KB", 1000LL}, {"k", 1000LL}, {"kB", 1000LL},
        {"M", 1024LL * 1024}, {"MiB", 1024LL * 1024}, {"MB", 1000LL * 1000},
        {"G", 1024LL * 1024 * 1024}, {"GiB", 1024LL * 1024 * 1024}, {"GB", 1000LL * 1000 * 1000},
        {"T", 1024LL * 1024 * 1024 * 1024}, {"TiB", 1024LL * 1024 * 1024 * 1024},
        {"TB", 1000LL * 1000 * 1000 * 1000},
    };
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(units); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (v > INT64_MAX / units[i].mul)
                return -1;
            return v * units[i].mul;
        }
    }
    return -1;
}

static void
fmt_duration(int64_t ms, char *out, size_t outsz)
{
    static const struct { int64_t ms; const char *unit; } units[] = {
        {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"},
    };
    if (ms < 0) {
        snprintf(out, outsz, "forever");
        return;
    }
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(units); i++) {
        if (ms >= units[i].ms && ms % units[i].ms == 0) {
            snprintf(out, outsz, "%" PRId64 "%s", ms / units[i].ms, units[i].unit);
            return;
        }
    }
    snprintf(out, outsz, "%" PRId64 "ms", ms);
}

static void
fmt_size(int64_t bytes, char *out, size_t outsz)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 0) {
        snprintf(out, outsz, "unlimited");
        return;
    }
    double v = (double)bytes;
    size_t u = 0;
    int64_t div = 1;
    while (v >= 1024.0 && u + 1 < WEIR_ARRAY_SIZE(units)) {
        v /= 1024.0;
        div *= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, outsz, "%" PRId64 "B", bytes);
    else if (bytes % div == 0)
        snprintf(out, outsz, "%" PRId64 "%s", bytes / div, units[u]);
    else
        snprintf(out, outsz, "%.1f%s", v, units[u]);
}

static void
fmt_time_ms(int64_t ms, char *out, size_t outsz)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&t, &tm)) {
        snprintf(out, outsz, "-");
        return;
    }
    strftime(out, outsz, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* "2026-11-26T15:00:00Z", "2026-11-26" or a duration ago ("1h"): ms since the epoch. */
static int64_t
parse_since(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%d", &tm);
    }
    if (end && (*end == '\0' || strcmp(end, "Z") == 0))
        return (int64_t)timegm(&tm) * 1000;
    int64_t ago = parse_duration_ms(s);
    if (ago < 0)
        return -1;
    return (int64_t)time(NULL) * 1000 - ago;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    weirctl_buf_t *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > WEIRCTL_MAX_ANSWER) {
        b->too_big = true;
        return 0;
    }
    b->p = weir_realloc(b->p, b->len + n + 1);
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* Percent-encodes one path segment or query value. */
static char *
esc(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e)
        die(WEIRCTL_EXIT_FAILURE, "out of memory");
    char *r = weir_strdup(e);
    curl_free(e);
    return r;
}

static int
exit_for_status(long status)
{
    switch (status) {
    case 401:
    case 403:
        return WEIRCTL_EXIT_DENIED;
    case 404:
        return WEIRCTL_EXIT_NOT_FOUND;
    case 409:
        return WEIRCTL_EXIT_CONFLICT;
    default:
        return WEIRCTL_EXIT_FAILURE;
    }
}

/**
 * Sends method path (under the server URL) with an optional JSON body and
 * returns the parsed JSON answer of a 2xx status.  Any failure ends the
 * program with a message naming the problem and its exit code.
 */
static json_t *
api_call(const weirctl_t *c, const char *method, const char *path, json_t *body)
{
    CURL *h = curl_easy_init();
    if (!h)
        die(WEIRCTL_EXIT_FAILURE, "cannot initialise libcurl");
    size_t ulen = strlen(c->url);
    while (ulen > 0 && c->url[ulen - 1] == '/')
        ulen--;
    size_t urlsz = ulen + strlen(path) + 1;
    char *url = weir_malloc(urlsz);
    snprintf(url, urlsz, "%.*s%s", (int)ulen, c->url, path);

    char errbuf[CURL_ERROR_SIZE] = "";
    weirctl_buf_t ans = {0};
    char *payload = NULL;
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        if (!payload)
            die(WEIRCTL_EXIT_FAILURE, "cannot encode the request as JSON");
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "weirctl/" WEIR_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(payload);

    if (rc != CURLE_OK) {
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        int code = WEIRCTL_EXIT_FAILURE;
        switch (rc) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
            code = WEIRCTL_EXIT_UNREACHABLE;
            break;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            code = WEIRCTL_EXIT_CONFIG;
            break;
        default:
            if (ans.too_big)
                why = "answer larger than 64 MiB";
            break;
        }
        fprintf(stderr, "%s: %s %s: %s\n", prog, method, url, why);
        free(url);
        free(ans.p);
        exit(code);
    }

    json_error_t jerr;
    json_t *v = ans.len ? json_loadb(ans.p, ans.len, 0, &jerr) : NULL;
    if (status < 200 || status > 299) {
        const char *msg = NULL;
        if (json_is_object(v))
            msg = json_string_value(json_object_get(v, "message"));
        if (status == 401)
            fprintf(stderr, "%s: authentication failed at %s: %s\n", prog, url,
                    c->user ? (msg ? msg : "bad user name or password")
                            : "no credentials given (--user, WEIR_USER or weirctl.conf)");
        else if (status == 403)
            fprintf(stderr, "%s: denied: %s\n", prog, msg ? msg : "not authorized");
        else if (status == 404)
            fprintf(stderr, "%s: not found: %s\n", prog, msg ? msg : path);
        else
            fprintf(stderr, "%s: %s %s failed with HTTP %ld: %s\n", prog, method, path, status,
                    msg ? msg : (ans.p && ans.len < 512 ? ans.p : "(no message)"));
        json_decref(v);
        free(url);
        free(ans.p);
        exit(exit_for_status(status));
    }
    if (!v && ans.len) {
        fprintf(stderr, "%s: %s %s: the server's answer is not JSON: %s\n", prog, method, url,
                jerr.text);
        free(url);
        free(ans.p);
        exit(WEIRCTL_EXIT_FAILURE);
    }
    free(url);
    free(ans.p);
    return v ? v : json_null();
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

#define WEIRCTL_MAX_COLS 12

/** A table of strings printed with aligned columns. */
typedef struct weirctl_table_s {
    size_t ncols;
    const char *head[WEIRCTL_MAX_COLS];
    char **cells; /* rows * ncols */
    size_t nrows;
} weirctl_table_t;

static void
table_init(weirctl_table_t *t, size_t ncols, const char *const *head)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++)
        t->head[i] = head[i];
}

/* Adds a row of ncols strings (copied; NULL prints "-"). */
static void
table_row(weirctl_table_t *t, const char *const *cells)
{
    t->cells = weir_realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
    for (size_t i = 0; i < t->ncols; i++) {
        const char *s = cells[i] && *cells[i] ? cells[i] : "-";
        char *d = weir_strdup(s);
        for (char *p = d; *p; p++) /* keep one row on one line */
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        t->cells[t->nrows * t->ncols + i] = d;
    }
    t->nrows++;
}

static void
table_print(weirctl_table_t *t, const char *empty)
{
    if (t->nrows == 0) {
        printf("%s\n", empty);
    } else {
        size_t w[WEIRCTL_MAX_COLS];
        for (size_t i = 0; i < t->ncols; i++) {
            w[i] = strlen(t->head[i]);
            for (size_t r = 0; r < t->nrows; r++) {
                size_t l = strlen(t->cells[r * t->ncols + i]);
                if (l > w[i])
                    w[i] = l;
            }
        }
        for (size_t i = 0; i < t->ncols; i++)
            printf("%-*s%s", i + 1 < t->ncols ? (int)w[i] : 0, t->head[i],
                   i + 1 < t->ncols ? "  " : "\n");
        for (size_t r = 0; r < t->nrows; r++)
            for (size_t i = 0; i < t->ncols; i++)
                printf("%-*s%s", i + 1 < t->ncols ? (int)w[i] : 0, t->cells[r * t->ncols + i],
                       i + 1 < t->ncols ? "  " : "\n");
    }
    for (size_t k = 0; k < t->nrows * t->ncols; k++)
        free(t->cells[k]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
}

/* A JSON member as text into buf ("" when absent or null). */
static const char *
jtext(json_t *obj, const char *key, char *buf, size_t bufsz)
{
    json_t *v = json_object_get(obj, key);
    buf[0] = '\0';
    if (json_is_string(v))
        snprintf(buf, bufsz, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, bufsz, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, bufsz, "%s", json_is_true(v) ? "yes" : "no");
    else if (json_is_array(v)) {
        size_t i, off = 0;
        json_t *e;
        json_array_foreach(v, i, e) {
            const char *s = json_string_value(e);
            if (s && off < bufsz)
                off += (size_t)snprintf(buf + off, bufsz - off, "%s%s", i ? "," : "", s);
        }
    } else if (v && !json_is_null(v)) {
        char *d = json_dumps(v, JSON_COMPACT);
        snprintf(buf, bufsz, "%s", d ? d : "");
        free(d);
    }
    return buf;
}

static int64_t
jint(json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* Prints v as JSON (for --json) and frees it. */
static int
print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    printf("%s\n", s ? s : "null");
    free(s);
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

/* The array member key of an answer object (or the answer itself). */
static json_t *
jlist(json_t *v, const char *key)
{
    if (json_is_array(v))
        return v;
    json_t *a = json_object_get(v, key);
    if (!json_is_array(a))
        die(WEIRCTL_EXIT_FAILURE, "unexpected answer from the server: no '%s' list", key);
    return a;
}

/* Prints "key: value" lines of an object's scalar members, in the order given. */
static void
print_fields(json_t *obj, const char *const *keys, const char *const *labels, size_t n)
{
    char buf[1024];
    for (size_t i = 0; i < n; i++) {
        jtext(obj, keys[i], buf, sizeof(buf));
        printf("%-18s %s\n", labels[i], buf[0] ? buf : "-");
    }
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

/* Option parsing for subcommands: argv[0] is the subcommand. */
#define OPTS_BEGIN(longopts)                                                    \
    optind = 0; /* GNU: full re-initialisation, options may follow operands */ \
    for (;;) {                                                                  \
        int o_ = getopt_long(argc, argv, "", longopts, NULL);                   \
        if (o_ == -1)                                                           \
            break;                                                              \
        switch (o_)
#define OPTS_END                                                                \
    }

static char *
path_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
path_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = weir_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static json_t *
get(const weirctl_t *c, char *path)
{
    json_t *v = api_call(c, "GET", path, NULL);
    free(path);
    return v;
}

static json_t *
send_json(const weirctl_t *c, const char *method, char *path, json_t *body)
{
    json_t *v = api_call(c, method, path, body);
    free(path);
    json_decref(body);
    return v;
}

static int64_t
parse_id(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        die_usage("%s must be a positive number, not '%s'", what, s);
    return v;
}

static int32_t
parse_count(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < -1 || v > INT32_MAX || v == 0)
        die_usage("%s must be a positive number (or -1 for unlimited), not '%s'", what, s);
    return (int32_t)v;
}

/* A byte rate per second: a size (10MiB) or "unlimited" (-1). */
static int64_t
parse_rate(const char *s, const char *what)
{
    if (strcmp(s, "unlimited") == 0)
        return -1;
    int64_t v = parse_size_bytes(s);
    if (v <= 0)
        die_usage("%s: '%s' is not a size per second like 10MiB, 512KiB or unlimited", what, s);
    return v;
}

/* --produce-rate (produce) or --fetch-rate arg into a tenant body. */
static void
set_rate(json_t *body, bool produce, const char *arg)
{
    json_object_set_new(body, produce ? "produce_byte_rate" : "fetch_byte_rate",
                        json_integer(parse_rate(arg, produce ? "--produce-rate" : "--fetch-rate")));
}

/* tenant list|show|create */
static int
cmd_tenant(const weirctl_t *c, int argc, char **argv)
{
    if (argc < 1)
        die_usage("tenant: expected list, show NAME or create NAME");
    const char *sub = argv[0];
    char b1[512], b2[512], b3[64], b4[64], b5[64];
    if (strcmp(sub, "list") == 0) {
        if (argc != 1)
            die_usage("tenant list takes no arguments");
        json_t *v = get(c, path_fmt(WEIRCTL_API "/tenants"));
        if (c->json)
            return print_json(v);
        static const char *const head[] = {"NAME", "LDAP GROUP", "PREFIXES", "DIRECT CREATE",
                                           "MAX PARTITIONS", "MAX RETENTION"};
        weirctl_table_t t;
        table_init(&t, 6, head);
        size_t i;
        json_t *e;
        json_array_foreach(jlist(v, "tenants"), i, e) {
            char part[160];
            int64_t mp = jint(e, "max_partitions_per_topic", -1);
            int64_t mt = jint(e, "max_total_partitions", -1);
            snprintf(part, sizeof(part), "%s/topic, %s total",
                     mp < 0 ? "unlimited" : (snprintf(b3, sizeof(b3), "%" PRId64, mp), b3),
                     mt < 0 ? "unlimited" : (snprintf(b4, sizeof(b4), "%" PRId64, mt), b4));
            fmt_duration(jint(e, "max_retention_ms", -1), b5, sizeof(b5));
            const char *row[] = {jtext(e, "name", b1, sizeof(b1)),
                                 jtext(e, "ldap_group", b2, sizeof(b2)),
                                 jtext(e, "prefixes", (char[1024]){0}, 1024),
                                 json_is_true(json_object_get(e, "direct_create")) ? "yes" : "no",
                                 part, b5};
            table_row(&t, row);
        }
        table_print(&t, "No tenants.");
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    if (strcmp(sub, "show") == 0) {
        if (argc != 2)
            die_usage("usage: tenant show NAME");
        char *n = esc(argv[1]);
        json_t *v = get(c, path_fmt(WEIRCTL_API "/tenants/%s", n));
        free(n);
        if (c->json)
            return print_json(v);
        static const char *const keys[] = {"name", "ldap_group", "prefixes", "direct_create"};
        static const char *const labels[] = {"Name:", "LDAP group:", "Prefixes:",
                                             "Direct create:"};
        print_fields(v, keys, labels, WEIR_ARRAY_SIZE(keys));
        int64_t mp = jint(v, "max_partitions_per_topic", -1);
        int64_t mt = jint(v, "max_total_partitions", -1);
        snprintf(b1, sizeof(b1), "%" PRId64, mp);
        snprintf(b2, sizeof(b2), "%" PRId64, mt);
        printf("%-18s %s\n", "Partitions/topic:", mp < 0 ? "unlimited" : b1);
        printf("%-18s %s\n", "Partitions total:", mt < 0 ? "unlimited" : b2);
        fmt_duration(jint(v, "max_retention_ms", -1), b5, sizeof(b5));
        printf("%-18s %s\n", "Max retention:", b5);
        fmt_size(jint(v, "produce_byte_rate", -1), b3, sizeof(b3));
        printf("%-18s %s%s\n", "Produce rate:", b3,
               jint(v, "produce_byte_rate", -1) < 0 ? "" : "/s");
        fmt_size(jint(v, "fetch_byte_rate", -1), b4, sizeof(b4));
        printf("%-18s %s%s\n", "Fetch rate:", b4,
               jint(v, "fetch_byte_rate", -1) < 0 ? "" : "/s");
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    if (strcmp(sub, "create") == 0) {
        static const struct option lo[] = {
            {"group", required_argument, NULL, 'g'},
            {"prefix", required_argument, NULL, 'p'},
            {"max-partitions", required_argument, NULL, 'm'},
            {"max-total-partitions", required_argument, NULL, 'M'},
            {"max-retention", required_argument, NULL, 'r'},
            {"requests-only", no_argument, NULL, 'q'},
            {"produce-rate", required_argument, NULL, 'w'},
            {"fetch-rate", required_argument, NULL, 'f'},
            {NULL, 0, NULL, 0},
        };
        json_t *body = json_object();
        json_t *prefixes = json_array();
        const char *group = NULL;
        OPTS_BEGIN(lo) {
        case 'g': group = optarg; break;
        case 'p': json_array_append_new(prefixes, json_string(optarg)); break;
        case 'm':
            json_object_set_new(body, "max_partitions_per_topic",
                                json_integer(parse_count(optarg, "--max-partitions")));
            break;
        case 'M':
            json_object_set_new(body, "max_total_partitions",
                                json_integer(parse_count(optarg, "--max-total-partitions")));
            break;
        case 'r': {
            int64_t ms = parse_duration_ms(optarg);
            if (ms <= 0)
                die_usage("--max-retention: '%s' is not a duration like 7d, 12h or 30m", optarg);
            json_object_set_new(body, "max_retention_ms", json_integer(ms));
            break;
        }
        case 'q': json_object_set_new(body, "direct_create", json_false()); break;
        case 'w':
        case 'f':
            set_rate(body, o_ == 'w', optarg);
            break;
        default: die_usage("tenant create: bad option");
        } OPTS_END
        if (optind + 1 != argc)
            die_usage("usage: tenant create NAME --group LDAP_GROUP --prefix P [--prefix P]...");
        if (!group)
            die_usage("tenant create: --group LDAP_GROUP is required");
        if (json_array_size(prefixes) == 0)
            die_usage("tenant create: at least one --prefix is required");
        json_object_set_new(body, "name", json_string(argv[optind]));
        json_object_set_new(body, "ldap_group", json_string(group));
        json_object_set_new(body, "prefixes", prefixes);
        json_t *v = send_json(c, "POST", path_fmt(WEIRCTL_API "/tenants"), body);
        if (c->json)
            return print_json(v);
        printf("Tenant %s created.\n", argv[optind]);
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    if (strcmp(sub, "set") == 0) {
        static const struct option lo[] = {
            {"add-prefix", required_argument, NULL, 'p'},
            {"max-partitions", required_argument, NULL, 'm'},
            {"max-total-partitions", required_argument, NULL, 'M'},
            {"max-retention", required_argument, NULL, 'r'},
            {"requests-only", no_argument, NULL, 'q'},
            {"produce-rate", required_argument, NULL, 'w'},
            {"fetch-rate", required_argument, NULL, 'f'},
            {"direct-create", no_argument, NULL, 'd'},
            {NULL, 0, NULL, 0},
        };
        json_t *body = json_object();
        json_t *prefixes = json_array();
        OPTS_BEGIN(lo) {
        case 'p': json_array_append_new(prefixes, json_string(optarg)); break;
        case 'm':
            json_object_set_new(body, "max_partitions_per_topic",
                                json_integer(parse_count(optarg, "--max-partitions")));
            break;
        case 'M':
            json_object_set_new(body, "max_total_partitions",
                                json_integer(parse_count(optarg, "--max-total-partitions")));
            break;
        case 'r': {
            int64_t ms = strcmp(optarg, "forever") == 0 ? -1 : parse_duration_ms(optarg);
            if (ms == 0 || (ms < 0 && strcmp(optarg, "forever") != 0))
                die_usage("--max-retention: '%s' is not a duration like 7d, 12h, 30m or "
                          "forever", optarg);
            json_object_set_new(body, "max_retention_ms", json_integer(ms));
            break;
        }
        case 'q':
        case 'd':
            json_object_set_new(body, "direct_create", o_ == 'd' ? json_true() : json_false());
            break;
        case 'w':
        case 'f':
            set_rate(body, o_ == 'w', optarg);
            break;
        default: die_usage("tenant set: bad option");
        } OPTS_END
        if (optind + 1 != argc)
            die_usage("usage: tenant set NAME [--requests-only|--direct-create] "
                      "[--max-partitions N] [--max-total-partitions N] [--max-retention D] "
                      "[--add-prefix P]...");
        if (json_array_size(prefixes) > 0)
            json_object_set_new(body, "add_prefixes", prefixes);
        else
            json_decref(prefixes);
        if (json_object_size(body) == 0)
            die_usage("tenant set: nothing to change");
        char *n = esc(argv[optind]);
        json_t *v = send_json(c, "PATCH", path_fmt(WEIRCTL_API "/tenants/%s", n), body);
        free(n);
        if (c->json)
            return print_json(v);
        printf("Tenant %s updated.\n", argv[optind]);
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    die_usage("tenant: unknown subcommand '%s' (list, show, create, set)", sub);
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool
all_digits(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Sets configs[k] to n as the string of its digits (the broker's form). */
static void
set_config_num(json_t *configs, const char *k, int64_t n)
{
    char num[32];

    snprintf(num, sizeof(num), "%" PRId64, n);
    json_object_set_new(configs, k, json_string(num));
}

/* Adds k=v to a configs object; false if malformed.  Values of *.ms keys
 * may be durations (7d, 12h) and of *.bytes keys sizes (512MiB): they are
 * sent as the plain numbers the broker stores. */
static bool
add_config(json_t *configs, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return false;
    char *k = weir_strndup(kv, (size_t)(eq - kv));
    const char *v = eq + 1;
    if (!all_digits(v) && (ends_with(k, ".ms") || ends_with(k, ".bytes"))) {
        int64_t n = ends_with(k, ".ms") ? parse_duration_ms(v) : parse_size_bytes(v);
        if (n < 0)
            die_usage("--config %s: '%s' is not a %s", k, v,
                      ends_with(k, ".ms") ? "duration like 7d, 12h or 500ms"
                                          : "size like 512MiB, 1GiB or 4096");
        set_config_num(configs, k, n);
    } else {
        json_object_set_new(configs, k, json_string(v));
    }
    free(k);
    return true;
}

/* A config value with its human form: "604800000 (7d)", "536870912 (512MiB)". */
static void
fmt_config(const char *k, const char *v, char *out, size_t outsz)
{
    char h[64] = "";
    if (all_digits(v) && ends_with(k, ".ms"))
        fmt_duration(strtoll(v, NULL, 10), h, sizeof(h));
    else if (all_digits(v) && ends_with(k, ".bytes"))
        fmt_size(strtoll(v, NULL, 10), h, sizeof(h));
    if (h[0] && strcmp(h, v) != 0)
        snprintf(out, outsz, "%s (%s)", v, h);
    else
        snprintf(out, outsz, "%s", v);
}

/* topic list|describe|request */
static int
cmd_topic(const weirctl_t *c, int argc, char **argv)
{
    if (argc < 1)
        die_usage("topic: expected list, describe NAME or request NAME");
    const char *sub = argv[0];
    char b1[512], b2[256], b3[64], b4[64], b5[64], b6[64];
    if (strcmp(sub, "list") == 0) {
        if (argc != 1)
            die_usage("topic list takes no arguments");
        json_t *v = get(c, path_fmt(WEIRCTL_API "/topics"));
        if (c->json)
            return print_json(v);
        static const char *const head[] = {"TOPIC", "OWNER", "PARTITIONS", "SIZE", "RETENTION"};
        weirctl_table_t t;
        table_init(&t, 5, head);
        size_t i;
        json_t *e;
        json_array_foreach(jlist(v, "topics"), i, e) {
            fmt_size(jint(e, "size_bytes", 0), b4, sizeof(b4));
            fmt_duration(jint(e, "retention_ms", -1), b5, sizeof(b5));
            const char *row[] = {jtext(e, "name", b1, sizeof(b1)),
                                 jtext(e, "owner", b2, sizeof(b2)),
                                 jtext(e, "partitions", b3, sizeof(b3)), b4, b5};
            table_row(&t, row);
        }
        table_print(&t, "No topics.");
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    if (strcmp(sub, "describe") == 0 || strcmp(sub, "show") == 0) {
        if (argc != 2)
            die_usage("usage: topic describe NAME");
        char *n = esc(argv[1]);
        json_t *v = get(c, path_fmt(WEIRCTL_API "/topics/%s", n));
        free(n);
        if (c->json)
            return print_json(v);
        printf("%-12s %s\n", "Topic:", jtext(v, "name", b1, sizeof(b1)));
        printf("%-12s %s\n", "Owner:", jtext(v, "owner", b2, sizeof(b2))[0] ? b2 : "-");
        printf("%-12s %s\n", "Partitions:", jtext(v, "partition_count", b3, sizeof(b3)));
        fmt_size(jint(v, "size_bytes", 0), b4, sizeof(b4));
        printf("%-12s %s\n", "Size:", b4);
        fmt_duration(jint(v, "retention_ms", -1), b5, sizeof(b5));
        printf("%-12s %s\n", "Retention:", b5);
        json_t *cfg = json_object_get(v, "configs");
        if (json_object_size(cfg) > 0) {
            printf("Configs:\n");
            const char *k;
            json_t *cv;
            json_object_foreach(cfg, k, cv) {
                char hv[600];
                fmt_config(k, jtext(cfg, k, b1, sizeof(b1)), hv, sizeof(hv));
                printf("  %s=%s\n", k, hv);
            }
        }
        static const char *const head[] = {"PARTITION", "START OFFSET", "END OFFSET", "SIZE"};
        weirctl_table_t t;
        table_init(&t, 4, head);
        size_t i;
        json_t *e;
        json_t *parts = json_object_get(v, "partitions");
        json_array_foreach(parts, i, e) {
            fmt_size(jint(e, "size_bytes", 0), b6, sizeof(b6));
            const char *row[] = {jtext(e, "partition", b3, sizeof(b3)),
                                 jtext(e, "log_start_offset", b4, sizeof(b4)),
                                 jtext(e, "high_watermark", b5, sizeof(b5)), b6};
            table_row(&t, row);
        }
        printf("\n");
        table_print(&t, "No partitions.");
        static const char *const ghead[] = {"CONSUMER GROUP", "LAG"};
        table_init(&t, 2, ghead);
        json_array_foreach(json_object_get(v, "consumer_groups"), i, e) {
            const char *row[] = {jtext(e, "group", b1, sizeof(b1)),
                                 jtext(e, "lag", b3, sizeof(b3))};
            table_row(&t, row);
        }
        printf("\n");
        table_print(&t, "No consumer group has committed offsets on it.");
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    if (strcmp(sub, "request") == 0) {
        static const struct option lo[] = {
            {"partitions", required_argument, NULL, 'p'},
            {"retention", required_argument, NULL, 'r'},
            {"retention-bytes", required_argument, NULL, 'b'},
            {"config", required_argument, NULL, 'c'},
            {"reason", required_argument, NULL, 'R'},
            {NULL, 0, NULL, 0},
        };
        json_t *body = json_object();
        json_t *configs = json_object();
        int32_t partitions = 1;
        const char *reason = NULL;
        OPTS_BEGIN(lo) {
        case 'p': partitions = parse_count(optarg, "--partitions"); break;
        case 'r': {
            int64_t ms = parse_duration_ms(optarg);
            if (ms <= 0)
                die_usage("--retention: '%s' is not a duration like 7d, 12h or 30m", optarg);
            set_config_num(configs, "retention.ms", ms);
            break;
        }
        case 'b': {
            int64_t bytes = parse_size_bytes(optarg);
            if (bytes <= 0)
                die_usage("--retention-bytes: '%s' is not a size like 512MiB or 10GiB", optarg);
            set_config_num(configs, "retention.bytes", bytes);
            break;
        }
        case 'c':
            if (!add_config(configs, optarg))
                die_usage("--config expects key=value, not '%s'", optarg);
            break;
        case 'R': reason = optarg; break;
        default: die_usage("topic request: bad option");
        } OPTS_END
        if (optind + 1 != argc)
            die_usage("usage: topic request NAME [--partitions N] [--retention 7d] "
                      "[--retention-bytes 10GiB] [--config k=v]... --reason TEXT");
        if (partitions < 1)
            die_usage("--partitions must be at least 1");
        if (!reason || !*reason)
            die_usage("topic request: --reason TEXT is required (say why the topic is needed)");
        json_object_set_new(body, "kind", json_string("topic"));
        json_object_set_new(body, "topic", json_string(argv[optind]));
        json_object_set_new(body, "partitions", json_integer(partitions));
        json_object_set_new(body, "configs", configs);
        json_object_set_new(body, "reason", json_string(reason));
        json_t *v = send_json(c, "POST", path_fmt(WEIRCTL_API "/requests"), body);
        if (c->json)
            return print_json(v);
        printf("Request %" PRId64 " created: topic %s (pending approval).\n", jint(v, "id", 0),
               argv[optind]);
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    die_usage("topic: unknown subcommand '%s' (list, describe, request)", sub);
}

/* access request TOPIC --read|--write --reason TEXT */
static int
cmd_access(const weirctl_t *c, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "request") != 0)
        die_usage("usage: access request TOPIC --read|--write --reason TEXT");
    static const struct option lo[] = {
        {"read", no_argument, NULL, 'r'},
        {"write", no_argument, NULL, 'w'},
        {"reason", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    const char *op = NULL, *reason = NULL;
    OPTS_BEGIN(lo) {
    case 'r':
    case 'w':
        if (op)
            die_usage("access request: give one of --read or --write");
        op = o_ == 'r' ? "READ" : "WRITE";
        break;
    case 'R': reason = optarg; break;
    default: die_usage("access request: bad option");
    } OPTS_END
    if (optind + 1 != argc)
        die_usage("usage: access request TOPIC --read|--write --reason TEXT");
    if (!op)
        die_usage("access request: --read or --write is required");
    if (!reason || !*reason)
        die_usage("access request: --reason TEXT is required");
    json_t *body = json_object();
    json_object_set_new(body, "kind", json_string("access"));
    json_object_set_new(body, "topic", json_string(argv[optind]));
    json_object_set_new(body, "operation", json_string(op));
    json_object_set_new(body, "reason", json_string(reason));
    json_t *v = send_json(c, "POST", path_fmt(WEIRCTL_API "/requests"), body);
    if (c->json)
        return print_json(v);
    printf("Request %" PRId64 " created: %s access to %s (pending approval).\n",
           jint(v, "id", 0), op, argv[optind]);
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

static void
print_requests(json_t *list)
{
    static const char *const head[] = {"ID", "KIND", "STATE", "TENANT", "REQUESTER", "TARGET",
                                       "CREATED", "REASON"};
    weirctl_table_t t;
    table_init(&t, 8, head);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        char id[32], kind[32], state[32], tenant[256], who[256], target[512], when[64],
            reason[512];
        fmt_time_ms(jint(e, "created_ms", 0), when, sizeof(when));
        jtext(e, "reason", reason, sizeof(reason));
        if (strlen(reason) > 60)
            memcpy(reason + 57, "...", 4);
        const char *row[] = {jtext(e, "id", id, sizeof(id)), jtext(e, "kind", kind, sizeof(kind)),
                             jtext(e, "state", state, sizeof(state)),
                             jtext(e, "tenant", tenant, sizeof(tenant)),
                             jtext(e, "requester", who, sizeof(who)),
                             jtext(e, "target", target, sizeof(target)), when, reason};
        table_row(&t, row);
    }
    table_print(&t, "No requests.");
}

static void
print_request(json_t *v)
{
    static const char *const keys[] = {"id", "kind", "state", "tenant", "requester", "target",
                                       "detail", "reason", "error"};
    static const char *const labels[] = {"Request:", "Kind:", "State:", "Tenant:",
                                         "Requested by:", "Target:", "Detail:", "Reason:",
                                         "Last error:"};
    print_fields(v, keys, labels, WEIR_ARRAY_SIZE(keys));
    char when[64];
    fmt_time_ms(jint(v, "created_ms", 0), when, sizeof(when));
    printf("%-18s %s\n", "Created:", when);
    fmt_time_ms(jint(v, "updated_ms", 0), when, sizeof(when));
    printf("%-18s %s\n", "Updated:", when);
    json_t *dec = json_object_get(v, "decisions");
    if (json_array_size(dec) > 0) {
        printf("Decisions:\n");
        size_t i;
        json_t *d;
        json_array_foreach(dec, i, d) {
            char who[256], st[32], why[512];
            fmt_time_ms(jint(d, "decided_ms", 0), when, sizeof(when));
            printf("  %s  %s by %s: %s\n", when, jtext(d, "state", st, sizeof(st)),
                   jtext(d, "decider", who, sizeof(who)), jtext(d, "reason", why, sizeof(why)));
        }
    }
}

/* Lists requests (kind NULL: all kinds). */
static int
list_requests(const weirctl_t *c, const char *kind, bool pending_only)
{
    char q[128] = "";
    size_t off = 0;
    if (pending_only)
        off += (size_t)snprintf(q + off, sizeof(q) - off, "%sstate=pending", off ? "&" : "?");
    if (kind)
        snprintf(q + off, sizeof(q) - off, "%skind=%s", off ? "&" : "?", kind);
    json_t *v = get(c, path_fmt(WEIRCTL_API "/requests%s", q));
    if (c->json)
        return print_json(v);
    print_requests(jlist(v, "requests"));
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

static int
decide_request(const weirctl_t *c, int argc, char **argv, bool approve)
{
    static const struct option lo[] = {
        {"comment", required_argument, NULL, 'c'},
        {"reason", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    const char *why = NULL;
    OPTS_BEGIN(lo) {
    case 'c':
    case 'R': why = optarg; break;
    default: die_usage("%s: bad option", approve ? "approve" : "reject");
    } OPTS_END
    if (optind + 1 != argc)
        die_usage("usage: request %s", approve ? "approve ID [--comment TEXT]"
                                               : "reject ID --reason TEXT");
    if (!approve && (!why || !*why))
        die_usage("reject: --reason TEXT is required (the requester will read it)");
    int64_t id = parse_id(argv[optind], "the request id");
    json_t *body = json_object();
    json_object_set_new(body, approve ? "comment" : "reason", json_string(why ? why : ""));
    json_t *v = send_json(c, "POST", path_fmt(WEIRCTL_API "/requests/%" PRId64 "/%s", id,
                                              approve ? "approve" : "reject"), body);
    if (c->json)
        return print_json(v);
    printf("Request %" PRId64 " %s.\n", id, approve ? "approved" : "rejected");
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

/* request cancel ID [--reason TEXT]: the requester or an administrator. */
static int
cancel_request(const weirctl_t *c, int argc, char **argv)
{
    static const struct option lo[] = {
        {"reason", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    const char *why = NULL;
    OPTS_BEGIN(lo) {
    case 'R': why = optarg; break;
    default: die_usage("cancel: bad option");
    } OPTS_END
    if (optind + 1 != argc)
        die_usage("usage: request cancel ID [--reason TEXT]");
    int64_t id = parse_id(argv[optind], "the request id");
    json_t *body = json_object();
    if (why)
        json_object_set_new(body, "reason", json_string(why));
    json_t *v = send_json(c, "POST", path_fmt(WEIRCTL_API "/requests/%" PRId64 "/cancel", id),
                          body);
    if (c->json)
        return print_json(v);
    printf("Request %" PRId64 " cancelled.\n", id);
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

/* schema diff ID: the change a schema request proposes, field by field. */
static int
diff_request(const weirctl_t *c, const char *ids)
{
    int64_t id = parse_id(ids, "the request id");
    json_t *v = get(c, path_fmt(WEIRCTL_API "/requests/%" PRId64 "/diff", id));
    if (c->json)
        return print_json(v);
    char subject[512], type[32], state[32];
    json_t *cur = json_object_get(v, "current");
    json_t *changes = json_object_get(v, "changes");
    printf("Schema request %" PRId64 " on subject %s (%s, %s)\n", id,
           jtext(v, "subject", subject, sizeof(subject)), jtext(v, "schema_type", type,
                                                                sizeof(type)),
           jtext(v, "state", state, sizeof(state)));
    if (json_is_object(cur))
        printf("Current: version %" PRId64 " (schema id %" PRId64 ")\n", jint(cur, "version", 0),
               jint(cur, "id", 0));
    else
        printf("Current: none (the subject has no schema yet)\n");
    size_t n = json_array_size(changes), i;
    if (n == 0) {
        printf("No field changes: the proposed schema differs only in docs, aliases, field "
               "order or other attributes.\n");
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    size_t added = 0, removed = 0;
    json_t *e;
    printf("\n");
    json_array_foreach(changes, i, e) {
        const char *ch = json_string_value(json_object_get(e, "change"));
        if (ch && strcmp(ch, "added") == 0)
            added++;
        else if (ch && strcmp(ch, "removed") == 0)
            removed++;
        char *line = weir_schema_diff_line(e);
        printf("  %s\n", line);
        free(line);
    }
    printf("\n%zu change%s: %zu added, %zu removed, %zu changed\n", n, n == 1 ? "" : "s", added,
           removed, n - added - removed);
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

static void
print_policy(json_t *v)
{
    char b1[512], b2[64];
    printf("%-21s %s\n", "Subject:", jtext(v, "subject", b1, sizeof(b1)));
    printf("%-21s %s\n", "Approval required:",
           json_is_true(json_object_get(v, "approval")) ? "yes" : "no");
    jtext(v, "compatibility_floor", b2, sizeof(b2));
    printf("%-21s %s\n", "Compatibility floor:", b2[0] ? b2 : "none");
}

/* schema policy SUBJECT [--floor LEVEL|none] [--approval on|off] */
static int
policy_cmd(const weirctl_t *c, int argc, char **argv)
{
    static const char *const levels[] = {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
                                         "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"};
    static const struct option lo[] = {
        {"floor", required_argument, NULL, 'f'},
        {"approval", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    json_t *body = json_object();
    OPTS_BEGIN(lo) {
    case 'f': {
        if (strcasecmp(optarg, "none") == 0 || strcasecmp(optarg, "unset") == 0) {
            json_object_set_new(body, "compatibility_floor", json_null());
            break;
        }
        char *u = weir_strdup(optarg);
        for (char *q = u; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        bool ok = false;
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(levels) && !ok; i++)
            ok = strcmp(u, levels[i]) == 0 && i > 0;
        if (!ok)
            die_usage("--floor is BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, "
                      "FULL, FULL_TRANSITIVE or none, not '%s'", optarg);
        json_object_set_new(body, "compatibility_floor", json_string(u));
        free(u);
        break;
    }
    case 'a':
        if (strcmp(optarg, "on") == 0 || strcmp(optarg, "yes") == 0 ||
            strcmp(optarg, "true") == 0)
            json_object_set_new(body, "approval", json_true());
        else if (strcmp(optarg, "off") == 0 || strcmp(optarg, "no") == 0 ||
                 strcmp(optarg, "false") == 0)
            json_object_set_new(body, "approval", json_false());
        else
            die_usage("--approval is on or off, not '%s'", optarg);
        break;
    default: die_usage("schema policy: bad option");
    } OPTS_END
    if (optind + 1 != argc)
        die_usage("usage: schema policy SUBJECT [--floor LEVEL|none] [--approval on|off]");
    char *subj = esc(argv[optind]);
    json_t *v;
    bool change = json_object_size(body) > 0;
    if (change) {
        v = send_json(c, "PUT", path_fmt(WEIRCTL_API "/subjects/%s/policy", subj), body);
    } else {
        json_decref(body);
        v = get(c, path_fmt(WEIRCTL_API "/subjects/%s/policy", subj));
    }
    free(subj);
    if (c->json)
        return print_json(v);
    if (change)
        printf("Policy of %s updated.\n", argv[optind]);
    print_policy(v);
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

static int
show_request(const weirctl_t *c, const char *ids)
{
    int64_t id = parse_id(ids, "the request id");
    json_t *v = get(c, path_fmt(WEIRCTL_API "/requests/%" PRId64, id));
    if (c->json)
        return print_json(v);
    print_request(v);
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

/* request list [--pending]|show ID|approve ID|reject ID */
static int
cmd_request(const weirctl_t *c, int argc, char **argv)
{
    if (argc < 1)
        die_usage("request: expected list, show, approve, reject or cancel");
    const char *sub = argv[0];
    if (strcmp(sub, "list") == 0) {
        static const struct option lo[] = {
            {"pending", no_argument, NULL, 'p'},
            {"kind", required_argument, NULL, 'k'},
            {NULL, 0, NULL, 0},
        };
        bool pending = false;
        const char *kind = NULL;
        OPTS_BEGIN(lo) {
        case 'p': pending = true; break;
        case 'k':
            if (strcmp(optarg, "topic") && strcmp(optarg, "access") && strcmp(optarg, "schema"))
                die_usage("--kind is topic, access or schema, not '%s'", optarg);
            kind = optarg;
            break;
        default: die_usage("request list: bad option");
        } OPTS_END
        if (optind != argc)
            die_usage("usage: request list [--pending] [--kind topic|access|schema]");
        return list_requests(c, kind, pending);
    }
    if (strcmp(sub, "show") == 0) {
        if (argc != 2)
            die_usage("usage: request show ID");
        return show_request(c, argv[1]);
    }
    if (strcmp(sub, "approve") == 0)
        return decide_request(c, argc, argv, true);
    if (strcmp(sub, "reject") == 0)
        return decide_request(c, argc, argv, false);
    if (strcmp(sub, "cancel") == 0)
        return cancel_request(c, argc, argv);
    if (strcmp(sub, "create") == 0)
        die_usage("requests are created with 'topic request' or 'access request'");
    die_usage("request: unknown subcommand '%s' (list, show, approve, reject, cancel)", sub);
}

/* schema pending|show ID|diff ID|approve ID|reject ID|cancel ID|policy SUBJECT */
static int
cmd_schema(const weirctl_t *c, int argc, char **argv)
{
    if (argc < 1)
        die_usage("schema: expected pending, show, diff, approve, reject, cancel or policy");
    const char *sub = argv[0];
    if (strcmp(sub, "pending") == 0) {
        if (argc != 1)
            die_usage("schema pending takes no arguments");
        return list_requests(c, "schema", true);
    }
    if (strcmp(sub, "show") == 0) {
        if (argc != 2)
            die_usage("usage: schema show ID");
        return show_request(c, argv[1]);
    }
    if (strcmp(sub, "diff") == 0) {
        if (argc != 2)
            die_usage("usage: schema diff ID");
        return diff_request(c, argv[1]);
    }
    if (strcmp(sub, "approve") == 0)
        return decide_request(c, argc, argv, true);
    if (strcmp(sub, "reject") == 0)
        return decide_request(c, argc, argv, false);
    if (strcmp(sub, "cancel") == 0)
        return cancel_request(c, argc, argv);
    if (strcmp(sub, "policy") == 0)
        return policy_cmd(c, argc, argv);
    die_usage("schema: unknown subcommand '%s' (pending, show, diff, approve, reject, cancel, "
              "policy)", sub);
}

/* Fills an ACL binding object from options; argv[0] is the subcommand. */
static json_t *
acl_from_opts(int argc, char **argv, bool need_all)
{
    static const struct option lo[] = {
        {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"cluster", no_argument, NULL, 'c'},
        {"transactional-id", required_argument, NULL, 'x'},
        {"prefixed", no_argument, NULL, 'p'},
        {"principal", required_argument, NULL, 'P'},
        {"operation", required_argument, NULL, 'o'},
        {"host", required_argument, NULL, 'h'},
        {"deny", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    json_t *b = json_object();
    int nres = 0;
    OPTS_BEGIN(lo) {
    case 't':
    case 'g':
    case 'x':
        nres++;
        json_object_set_new(b, "resource_type", json_string(o_ == 't' ? "TOPIC"
                                                            : o_ == 'g' ? "GROUP"
                                                                        : "TRANSACTIONAL_ID"));
        json_object_set_new(b, "name", json_string(optarg));
        break;
    case 'c':
        nres++;
        json_object_set_new(b, "resource_type", json_string("CLUSTER"));
        json_object_set_new(b, "name", json_string("kafka-cluster"));
        break;
    case 'p': json_object_set_new(b, "pattern_type", json_string("PREFIXED")); break;
    case 'P':
        if (!strchr(optarg, ':'))
            die_usage("--principal is TYPE:NAME (User:alice, Group:team-a), not '%s'", optarg);
        json_object_set_new(b, "principal", json_string(optarg));
        break;
    case 'o': {
        char *u = weir_strdup(optarg);
        for (char *q = u; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        json_object_set_new(b, "operation", json_string(u));
        free(u);
        break;
    }
    case 'h': json_object_set_new(b, "host", json_string(optarg)); break;
    case 'd': json_object_set_new(b, "permission", json_string("DENY")); break;
    default: die_usage("%s: bad option", argv[0]);
    } OPTS_END
    if (optind != argc)
        die_usage("%s: unexpected argument '%s'", argv[0], argv[optind]);
    if (nres > 1)
        die_usage("%s: give one resource (--topic, --group, --cluster or --transactional-id)",
                  argv[0]);
    if (need_all) {
        if (nres == 0)
            die_usage("%s: a resource is required (--topic, --group, --cluster or "
                      "--transactional-id)", argv[0]);
        if (!json_object_get(b, "principal"))
            die_usage("%s: --principal TYPE:NAME is required", argv[0]);
        if (!json_object_get(b, "operation"))
            die_usage("%s: --operation OP is required (READ, WRITE, DESCRIBE, ...)", argv[0]);
    }
    if (need_all && !json_object_get(b, "pattern_type"))
        json_object_set_new(b, "pattern_type", json_string("LITERAL"));
    if (need_all && !json_object_get(b, "permission"))
        json_object_set_new(b, "permission", json_string("ALLOW"));
    if (need_all && !json_object_get(b, "host"))
        json_object_set_new(b, "host", json_string("*"));
    return b;
}

static void
print_acls(json_t *list)
{
    static const char *const head[] = {"ID", "RESOURCE", "PATTERN", "NAME", "PRINCIPAL", "HOST",
                                       "OPERATION", "PERMISSION"};
    weirctl_table_t t;
    table_init(&t, 8, head);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        char id[32], rt[32], pt[32], nm[512], pr[512], ho[256], op[32], pe[16];
        const char *row[] = {jtext(e, "id", id, sizeof(id)),
                             jtext(e, "resource_type", rt, sizeof(rt)),
                             jtext(e, "pattern_type", pt, sizeof(pt)),
                             jtext(e, "name", nm, sizeof(nm)),
                             jtext(e, "principal", pr, sizeof(pr)),
                             jtext(e, "host", ho, sizeof(ho)),
                             jtext(e, "operation", op, sizeof(op)),
                             jtext(e, "permission", pe, sizeof(pe))};
        table_row(&t, row);
    }
    table_print(&t, "No ACLs.");
}

/* acl list [filters]|grant|revoke */
static int
cmd_acl(const weirctl_t *c, int argc, char **argv)
{
    if (argc < 1)
        die_usage("acl: expected list, grant or revoke");
    const char *sub = argv[0];
    if (strcmp(sub, "list") == 0) {
        json_t *f = acl_from_opts(argc, argv, false);
        /* the filter as query parameters */
        size_t cap = 1024, off = 0;
        char *q = weir_malloc(cap);
        q[0] = '\0';
        const char *k;
        json_t *fv;
        json_object_foreach(f, k, fv) {
            char *e = esc(json_string_value(fv));
            size_t need = strlen(k) + strlen(e) + 3;
            if (off + need >= cap) {
                cap = (off + need) * 2;
                q = weir_realloc(q, cap);
            }
            off += (size_t)snprintf(q + off, cap - off, "%c%s=%s", off ? '&' : '?', k, e);
            free(e);
        }
        json_decref(f);
        json_t *v = get(c, path_fmt(WEIRCTL_API "/acls%s", q));
        free(q);
        if (c->json)
            return print_json(v);
        print_acls(jlist(v, "acls"));
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    if (strcmp(sub, "grant") == 0 || strcmp(sub, "revoke") == 0) {
        bool grant = sub[0] == 'g';
        json_t *b = acl_from_opts(argc, argv, true);
        char *desc = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *v = send_json(c, "POST", path_fmt(WEIRCTL_API "/acls/%s", grant ? "grant"
                                                                                : "revoke"), b);
        if (c->json) {
            free(desc);
            return print_json(v);
        }
        if (grant)
            printf("ACL granted: %s\n", desc);
        else
            printf("ACLs revoked: %" PRId64 "\n", jint(v, "deleted", 0));
        free(desc);
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    die_usage("acl: unknown subcommand '%s' (list, grant, revoke)", sub);
}

/* group list|describe GROUP */
static int
cmd_group(const weirctl_t *c, int argc, char **argv)
{
    if (argc < 1)
        die_usage("group: expected list or describe GROUP");
    const char *sub = argv[0];
    char b1[512], b2[64], b3[64], b4[64], b5[512], b6[64];
    if (strcmp(sub, "list") == 0) {
        if (argc != 1)
            die_usage("group list takes no arguments");
        json_t *v = get(c, path_fmt(WEIRCTL_API "/groups"));
        if (c->json)
            return print_json(v);
        static const char *const head[] = {"GROUP", "STATE", "MEMBERS", "TOPICS", "LAG"};
        weirctl_table_t t;
        table_init(&t, 5, head);
        size_t i;
        json_t *e;
        json_array_foreach(jlist(v, "groups"), i, e) {
            const char *row[] = {jtext(e, "group", b1, sizeof(b1)),
                                 jtext(e, "state", b2, sizeof(b2)),
                                 jtext(e, "members", b3, sizeof(b3)),
                                 jtext(e, "topics", b5, sizeof(b5)),
                                 jtext(e, "lag", b4, sizeof(b4))};
            table_row(&t, row);
        }
        table_print(&t, "No consumer groups.");
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    if (strcmp(sub, "describe") == 0 || strcmp(sub, "show") == 0) {
        if (argc != 2)
            die_usage("usage: group describe GROUP");
        char *n = esc(argv[1]);
        json_t *v = get(c, path_fmt(WEIRCTL_API "/groups/%s", n));
        free(n);
        if (c->json)
            return print_json(v);
        printf("%-10s %s\n", "Group:", jtext(v, "group", b1, sizeof(b1)));
        printf("%-10s %s\n", "State:", jtext(v, "state", b2, sizeof(b2)));
        printf("%-10s %s\n\n", "Lag:", jtext(v, "lag", b3, sizeof(b3)));
        static const char *const head[] = {"TOPIC", "PARTITION", "COMMITTED", "END OFFSET",
                                           "LAG"};
        weirctl_table_t t;
        table_init(&t, 5, head);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(v, "partitions"), i, e) {
            const char *row[] = {jtext(e, "topic", b5, sizeof(b5)),
                                 jtext(e, "partition", b2, sizeof(b2)),
                                 jtext(e, "committed", b3, sizeof(b3)),
                                 jtext(e, "high_watermark", b4, sizeof(b4)),
                                 jtext(e, "lag", b6, sizeof(b6))};
            table_row(&t, row);
        }
        table_print(&t, "No committed offsets.");
        json_decref(v);
        return WEIRCTL_EXIT_OK;
    }
    die_usage("group: unknown subcommand '%s' (list, describe)", sub);
}

/* audit [--since T] [--principal P] [--limit N] | audit verify */
static int
cmd_audit(const weirctl_t *c, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
        if (argc != 1)
            die_usage("audit verify takes no arguments");
        json_t *v = get(c, path_fmt(WEIRCTL_API "/audit/verify"));
        bool ok = json_is_true(json_object_get(v, "ok"));
        if (c->json) {
            print_json(v);
            return ok ? WEIRCTL_EXIT_OK : WEIRCTL_EXIT_FAILURE;
        }
        char why[512];
        if (ok)
            printf("Audit log intact: %" PRId64 " rows verified.\n", jint(v, "rows", 0));
        else
            printf("Audit log BROKEN at row %" PRId64 " (after %" PRId64 " rows): %s\n",
                   jint(v, "bad_id", 0), jint(v, "rows", 0), jtext(v, "reason", why, sizeof(why)));
        json_decref(v);
        return ok ? WEIRCTL_EXIT_OK : WEIRCTL_EXIT_FAILURE;
    }
    const char *cmdname = "audit";
    char **av = argv;
    int ac = argc;
    if (ac >= 1 && strcmp(av[0], "list") == 0) {
        av++;
        ac--;
    }
    /* getopt wants argv[0] to be the command name */
    char **args = weir_calloc((size_t)ac + 2, sizeof(char *));
    args[0] = (char *)cmdname;
    for (int i = 0; i < ac; i++)
        args[i + 1] = av[i];
    argc = ac + 1;
    argv = args;
    static const struct option lo[] = {
        {"since", required_argument, NULL, 's'},
        {"principal", required_argument, NULL, 'P'},
        {"action", required_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    char q[1024] = "";
    size_t off = 0;
    OPTS_BEGIN(lo) {
    case 's': {
        int64_t ms = parse_since(optarg);
        if (ms < 0)
            die_usage("--since: '%s' is neither a time (2026-11-26T15:00:00Z) nor a duration "
                      "ago (1h)", optarg);
        off += (size_t)snprintf(q + off, sizeof(q) - off, "%csince_ms=%" PRId64,
                                off ? '&' : '?', ms);
        break;
    }
    case 'P':
    case 'a': {
        char *e = esc(optarg);
        if (strlen(e) + off + 16 >= sizeof(q))
            die_usage("audit: filter too long");
        off += (size_t)snprintf(q + off, sizeof(q) - off, "%c%s=%s", off ? '&' : '?',
                                o_ == 'P' ? "principal" : "action", e);
        free(e);
        break;
    }
    case 'l':
        off += (size_t)snprintf(q + off, sizeof(q) - off, "%climit=%" PRId64, off ? '&' : '?',
                                parse_id(optarg, "--limit"));
        break;
    default: die_usage("audit: bad option");
    } OPTS_END
    if (optind != argc)
        die_usage("usage: audit [--since T] [--principal P] [--action A] [--limit N] | "
                  "audit verify");
    free(args);
    json_t *v = get(c, path_fmt(WEIRCTL_API "/audit%s", q));
    if (c->json)
        return print_json(v);
    static const char *const head[] = {"ID", "TIME", "PRINCIPAL", "ACTION", "TARGET", "OUTCOME",
                                       "DETAIL"};
    weirctl_table_t t;
    table_init(&t, 7, head);
    size_t i;
    json_t *e;
    json_array_foreach(jlist(v, "rows"), i, e) {
        char id[32], when[64], who[256], act[64], tgt[512], out[32], det[1024];
        fmt_time_ms(jint(e, "ts_ms", 0), when, sizeof(when));
        const char *row[] = {jtext(e, "id", id, sizeof(id)), when,
                             jtext(e, "principal", who, sizeof(who)),
                             jtext(e, "action", act, sizeof(act)),
                             jtext(e, "target", tgt, sizeof(tgt)),
                             jtext(e, "outcome", out, sizeof(out)),
                             jtext(e, "detail", det, sizeof(det))};
        table_row(&t, row);
    }
    table_print(&t, "No audit rows.");
    json_decref(v);
    return WEIRCTL_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Help                                                                */

typedef struct weirctl_cmd_s {
    const char *name;
    const char *alias;
    int (*run)(const weirctl_t *c, int argc, char **argv);
    const char *help;
} weirctl_cmd_t;

static const weirctl_cmd_t commands[] = {
    {"tenant", "tenants", cmd_tenant,
     "tenant list\n"
     "tenant show NAME\n"
     "tenant create NAME --group LDAP_GROUP --prefix P [--prefix P]...\n"
     "       [--max-partitions N] [--max-total-partitions N] [--max-retention 7d]\n"
     "       [--produce-rate 10MiB] [--fetch-rate 50MiB] [--requests-only]\n"
     "tenant set NAME [--requests-only|--direct-create] [--max-partitions N]\n"
     "       [--max-total-partitions N] [--max-retention 7d|forever] [--add-prefix P]...\n"
     "       [--produce-rate SIZE|unlimited] [--fetch-rate SIZE|unlimited]\n"
     "  Tenants are campus teams: an LDAP group owning topic prefixes, with limits.\n"
     "  --requests-only: members may not create topics directly, only request them.\n"
     "  Creating tenants and changing their policy is for administrators.\n"},
    {"topic", "topics", cmd_topic,
     "topic list\n"
     "topic describe NAME\n"
     "topic request NAME [--partitions N] [--retention 7d] [--retention-bytes 10GiB]\n"
     "              [--config k=v]... --reason TEXT\n"
     "  list/describe show owner, partitions, size, retention and configs.\n"
     "  request asks an administrator for a new topic in your tenant; values of\n"
     "  *.ms configs may be durations (7d, 12h) and of *.bytes configs sizes (512MiB).\n"},
    {"access", NULL, cmd_access,
     "access request TOPIC --read|--write --reason TEXT\n"
     "  Asks for READ or WRITE access to another tenant's topic.\n"},
    {"request", "requests", cmd_request,
     "request list [--pending] [--kind topic|access|schema]\n"
     "request show ID\n"
     "request approve ID [--comment TEXT]\n"
     "request reject ID --reason TEXT\n"
     "request cancel ID [--reason TEXT]\n"
     "  Members see their tenant's requests; administrators see and decide all.\n"
     "  A requester may cancel their own pending request (administrators any).\n"
     "  An approval that cannot be carried out leaves the request pending; show\n"
     "  prints the error as 'Last error'.\n"},
    {"schema", NULL, cmd_schema,
     "schema pending\n"
     "schema show ID\n"
     "schema diff ID\n"
     "schema approve ID [--comment TEXT]\n"
     "schema reject ID --reason TEXT\n"
     "schema cancel ID [--reason TEXT]\n"
     "schema policy SUBJECT [--floor LEVEL|none] [--approval on|off]\n"
     "  Schema changes waiting for approval (requests of kind schema).\n"
     "  diff shows the change from the subject's latest version to the proposed\n"
     "  schema field by field: + added, - removed, ~ changed (type, default, enum\n"
     "  symbols, renames), nested fields by path (address.zip, lines[].sku).\n"
     "  policy shows a subject's governance policy, or sets it (administrators):\n"
     "  --approval on holds new versions back for approval; --floor is the lowest\n"
     "  compatibility level the subject may be set to (BACKWARD, FULL, ...).\n"},
    {"acl", "acls", cmd_acl,
     "acl list [--topic T|--group G|--cluster|--transactional-id X] [--principal P] ...\n"
     "acl grant (--topic T|--group G|--cluster|--transactional-id X) [--prefixed]\n"
     "          --principal TYPE:NAME --operation OP [--host H] [--deny]\n"
     "acl revoke (same options as grant)\n"
     "  Operations: READ WRITE CREATE DELETE ALTER DESCRIBE CLUSTER_ACTION\n"
     "  DESCRIBE_CONFIGS ALTER_CONFIGS IDEMPOTENT_WRITE ALL.\n"},
    {"group", "groups", cmd_group,
     "group list\n"
     "group describe GROUP\n"
     "  Consumer groups with their lag (end offset minus committed offset).\n"},
    {"audit", NULL, cmd_audit,
     "audit [list] [--since 2026-11-26T15:00:00Z|1h] [--principal User:alice]\n"
     "      [--action A] [--limit N]\n"
     "audit verify\n"
     "  The audit log, and a check of its hash chain (exit 1 when broken).\n"},
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: weirctl [OPTIONS] COMMAND [ARGS]\n"
            "\n"
            "Options:\n"
            "  -u, --url URL         admin API (WEIR_URL; default " WEIRCTL_DEFAULT_URL ")\n"
            "  -U, --user NAME       LDAP user (WEIR_USER)\n"
            "  -P, --password PW     password (WEIR_PASSWORD; prefer the config file)\n"
            "      --cacert FILE     CA bundle for https (WEIR_CACERT)\n"
            "  -k, --insecure        do not verify the server's certificate\n"
            "  -c, --config FILE     config file (default ~/.config/weir/weirctl.conf)\n"
            "  -j, --json            print the server's JSON answer\n"
            "  -t, --timeout SEC     give up after SEC seconds (default 30)\n"
            "  -h, --help            this help; 'weirctl help COMMAND' for a command\n"
            "  -V, --version\n"
            "\n"
            "Commands: tenant, topic, access, request, schema, acl, group, audit, help\n"
            "\n"
            "Exit codes: 0 ok, 1 failure, 2 usage, 3 denied, 4 not found, 5 conflict,\n"
            "            6 server unreachable, 7 configuration error\n");
}

static const weirctl_cmd_t *
find_cmd(const char *name)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, name) == 0 ||
            (commands[i].alias && strcmp(commands[i].alias, name) == 0))
            return &commands[i];
    return NULL;
}

static int
cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return WEIRCTL_EXIT_OK;
    }
    const weirctl_cmd_t *cmd = find_cmd(argv[1]);
    if (!cmd)
        die_usage("help: unknown command '%s'", argv[1]);
    fputs(cmd->help, stdout);
    return WEIRCTL_EXIT_OK;
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"url", required_argument, NULL, 'u'},
        {"user", required_argument, NULL, 'U'},
        {"password", required_argument, NULL, 'P'},
        {"cacert", required_argument, NULL, 'C'},
        {"insecure", no_argument, NULL, 'k'},
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    weirctl_t c = {.timeout_s = 30};
    const char *config = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "+u:U:P:kc:jt:hV", lo, NULL)) != -1) {
        switch (o) {
        case 'u': set_str(&c.url, optarg); break;
        case 'U': set_str(&c.user, optarg); break;
        case 'P': set_str(&c.password, optarg); break;
        case 'C': set_str(&c.cacert, optarg); break;
        case 'k': c.insecure = true; break;
        case 'c': config = optarg; break;
        case 'j': c.json = true; break;
        case 't': {
            char *end;
            c.timeout_s = strtol(optarg, &end, 10);
            if (*end || c.timeout_s <= 0 || c.timeout_s > 86400)
                die_usage("--timeout must be 1 to 86400 seconds, not '%s'", optarg);
            break;
        }
        case 'h': usage(stdout); return WEIRCTL_EXIT_OK;
        case 'V': printf("weirctl %s\n", WEIR_VERSION); return WEIRCTL_EXIT_OK;
        default: usage(stderr); return WEIRCTL_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return WEIRCTL_EXIT_USAGE;
    }
    int cargc = argc - optind;
    char **cargv = argv + optind;
    if (strcmp(cargv[0], "help") == 0)
        return cmd_help(cargc, cargv);
    const weirctl_cmd_t *cmd = find_cmd(cargv[0]);
    if (!cmd)
        die_usage("unknown command '%s'", cargv[0]);
    if (cargc >= 2 && (strcmp(cargv[1], "--help") == 0 || strcmp(cargv[1], "-h") == 0)) {
        fputs(cmd->help, stdout);
        return WEIRCTL_EXIT_OK;
    }

    set_str(&c.url, getenv("WEIR_URL"));
    set_str(&c.user, getenv("WEIR_USER"));
    set_str(&c.password, getenv("WEIR_PASSWORD"));
    set_str(&c.cacert, getenv("WEIR_CACERT"));
    if (config) {
        load_config(&c, config, true);
    } else {
        char path[4096];
        default_config_path(path, sizeof(path));
        if (path[0])
            load_config(&c, path, false);
    }
    set_str(&c.url, WEIRCTL_DEFAULT_URL);
    if (strncmp(c.url, "http://", 7) != 0 && strncmp(c.url, "https://", 8) != 0)
        die(WEIRCTL_EXIT_CONFIG, "server URL '%s' must start with http:// or https://", c.url);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        die(WEIRCTL_EXIT_FAILURE, "cannot initialise libcurl");
    /* subcommands parse their own options from cargv[1..] */
    int rc = cmd->run(&c, cargc - 1, cargv + 1);
    curl_global_cleanup();
    free(c.url);
    free(c.user);
    free(c.password);
    free(c.cacert);
    return rc;
}
