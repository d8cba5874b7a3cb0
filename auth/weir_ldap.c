/*
 * weir_ldap.c: sign-on checks against LDAP on the worker pool, the sign-on
 * cache and outage tracking (see weir_ldap.h).
 *
 * One check, on a worker thread, with libldap's synchronous API:
 *   connect (ldap:// or ldaps://), StartTLS if ldap.starttls;
 *   the user's DN: from ldap.user.dn.template, or by a search under
 *   ldap.user.search.base (bound as ldap.bind.dn when set);
 *   a simple bind as the user with the password (asking for the password
 *   policy control, so a locked account is reported as such);
 *   the groups: a search under ldap.group.search.base for entries of
 *   ldap.group.object.class whose ldap.group.member.attribute holds the
 *   user's DN (or the user name when that attribute is memberUid).
 * Every step gets only what is left of ldap.timeout.ms.
 */
#define LDAP_DEPRECATED 0
#include "weir_ldap.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "weir_common.h"
#include "weir_log.h"

#define WEIR_LDAP_CACHE_BUCKETS 4096
#define WEIR_LDAP_CACHE_MAX 100000
#define WEIR_LDAP_MAX_GROUPS 1024
#define WEIR_LDAP_WATCHDOG_MS 100
#define WEIR_LDAP_GRACE_MS 100

typedef struct weir_ldap_cache_ent_s {
    uint8_t key[WEIR_LDAP_KEY_LEN];
    int64_t expires_ms;
    char *user;
    char **groups;
    size_t ngroups;
    struct weir_ldap_cache_ent_s *hnext;       /* bucket chain */
    struct weir_ldap_cache_ent_s *prev, *next; /* insertion order, oldest first */
} weir_ldap_cache_ent_t;

typedef enum weir_ldap_health_e {
    LDAP_HEALTH_OK = 0,
    LDAP_HEALTH_UNAVAILABLE,
    LDAP_HEALTH_ERROR,
} weir_ldap_health_t;

struct weir_ldap_s {
    uv_loop_t *loop;
    weir_ldap_conf_t conf;        /* strings owned; read-only once created */
    uint8_t salt[32];
    weir_ldap_cache_ent_t *buckets[WEIR_LDAP_CACHE_BUCKETS];
    weir_ldap_cache_ent_t *oldest, *newest;
    size_t cache_n;
    weir_ldap_job_t *queue_head, *queue_tail; /* waiting for a worker slot */
    int inflight;
    weir_ldap_job_t *running;     /* checks on the worker pool */
    uv_timer_t watchdog;          /* cuts off checks past their deadline */
    weir_ldap_health_t health;
    bool closing;
};

struct weir_ldap_job_s {
    uv_work_t work;
    weir_ldap_t *ld;
    char *user;
    char *password;
    size_t plen;
    uint8_t key[WEIR_LDAP_KEY_LEN];
    weir_ldap_cb_t cb;            /* NULL once cancelled */
    void *arg;
    int64_t queued_ms;
    weir_ldap_result_t res;
    struct weir_ldap_job_s *next; /* queue */
    struct weir_ldap_job_s *run_prev, *run_next; /* ld->running */
    bool queued;
    /* Shared by the worker and the loop's watchdog, under lock: a duplicate
     * of the directory socket (closed on the loop after the check, so its
     * number cannot be reused while the watchdog may shut it down) and
     * whether the watchdog did. */
    uv_mutex_t lock;
    int sock_dup;
    bool cut_off;
    /* The TLS settings when the sign-on was asked for (SIGHUP may change
     * ld's while the check runs on a worker). */
    bool starttls;
    char *ca_location;
};

/* ------------------------------------------------------------------ */
/* Escaping                                                           */

char *
weir_ldap_escape_filter(const char *value)
{
    size_t n = strlen(value);
    char *out = weir_malloc(n * 3 + 1), *o = out;

    for (const char *p = value; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '*' || c == '(' || c == ')' || c == '\\') {
            o += sprintf(o, "\\%02x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

char *
weir_ldap_escape_dn(const char *value)
{
    size_t n = strlen(value);
    char *out = weir_malloc(n * 3 + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        bool esc = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                   c == ';' || c == '=' || (i == 0 && (c == ' ' || c == '#')) ||
                   (i == n - 1 && c == ' ');
        if (c < 0x20 || c == 0x7f)
            o += sprintf(o, "\\%02x", c);
        else if (esc) {
            *o++ = '\\';
            *o++ = (char)c;
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

char *
weir_ldap_dn_from_template(const char *tmpl, const char *user)
{
    char *esc = weir_ldap_escape_dn(user);
    size_t elen = strlen(esc), cap = strlen(tmpl) + 1, len = 0;
    char *out;
    const char *p = tmpl;

    for (const char *q = tmpl; (q = strstr(q, "{user}")) != NULL; q += 6)
        cap += elen;
    out = weir_malloc(cap);
    while (*p) {
        if (strncmp(p, "{user}", 6) == 0) {
            memcpy(out + len, esc, elen);
            len += elen;
            p += 6;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    free(esc);
    return out;
}

/* ------------------------------------------------------------------ */
/* Results                                                            */

void
weir_ldap_result_clear(weir_ldap_result_t *res)
{
    for (size_t i = 0; i < res->ngroups; i++)
        free(res->groups[i]);
    free(res->groups);
    free(res->user);
    res->groups = NULL;
    res->ngroups = 0;
    res->user = NULL;
}

static void __attribute__((format(printf, 3, 4)))
weir_ldap_fail(weir_ldap_result_t *res, weir_ldap_status_t status, const char *fmt, ...)
{
    va_list ap;

    res->status = status;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Cache (loop thread only)                                           */

void
weir_ldap_cache_key(const weir_ldap_t *ld, const char *user, const char *password, size_t plen,
                    uint8_t key[WEIR_LDAP_KEY_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    static const uint8_t zero = 0;

    if (!md)
        abort();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, ld->salt, sizeof(ld->salt));
    EVP_DigestUpdate(md, user, strlen(user));
    EVP_DigestUpdate(md, &zero, 1);
    EVP_DigestUpdate(md, password, plen);
    EVP_DigestFinal_ex(md, key, &n);
    EVP_MD_CTX_free(md);
}

static size_t
weir_ldap_bucket(const uint8_t key[WEIR_LDAP_KEY_LEN])
{
    uint32_t h;
    memcpy(&h, key, sizeof(h));
    return h % WEIR_LDAP_CACHE_BUCKETS;
}

static void
weir_ldap_cache_unlink(weir_ldap_t *ld, weir_ldap_cache_ent_t *e)
{
    weir_ldap_cache_ent_t **pp = &ld->buckets[weir_ldap_bucket(e->key)];

    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        ld->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        ld->newest = e->prev;
    for (size_t i = 0; i < e->ngroups; i++)
        free(e->groups[i]);
    free(e->groups);
    free(e->user);
    OPENSSL_cleanse(e->key, sizeof(e->key));
    free(e);
    ld->cache_n--;
}

bool
weir_ldap_cache_get(weir_ldap_t *ld, const uint8_t key[WEIR_LDAP_KEY_LEN], int64_t now_ms,
                    weir_ldap_result_t *res)
{
    weir_ldap_cache_ent_t *e;

    for (e = ld->buckets[weir_ldap_bucket(key)]; e; e = e->hnext)
        if (CRYPTO_memcmp(e->key, key, WEIR_LDAP_KEY_LEN) == 0)
            break;
    if (!e)
        return false;
    if (now_ms >= e->expires_ms) {
        weir_ldap_cache_unlink(ld, e);
        return false;
    }
    memset(res, 0, sizeof(*res));
    res->status = WEIR_LDAP_OK;
    res->cached = true;
    res->user = weir_strdup(e->user);
    if (e->ngroups) {
        res->groups = weir_calloc(e->ngroups, sizeof(char *));
        for (size_t i = 0; i < e->ngroups; i++)
            res->groups[i] = weir_strdup(e->groups[i]);
    }
    res->ngroups = e->ngroups;
    snprintf(res->reason, sizeof(res->reason), "cached sign-on");
    return true;
}

void
weir_ldap_cache_put(weir_ldap_t *ld, const uint8_t key[WEIR_LDAP_KEY_LEN],
                    const weir_ldap_result_t *res, int64_t now_ms)
{
    weir_ldap_cache_ent_t *e;
    size_t b;

    if (ld->conf.cache_ttl_ms <= 0 || res->status != WEIR_LDAP_OK)
        return;
    for (e = ld->buckets[weir_ldap_bucket(key)]; e; e = e->hnext) {
        if (CRYPTO_memcmp(e->key, key, WEIR_LDAP_KEY_LEN) == 0) {
            weir_ldap_cache_unlink(ld, e);
            break;
        }
    }
    /* Drop expired entries from the old end, then the oldest if full. */
    while (ld->oldest && (ld->oldest->expires_ms <= now_ms || ld->cache_n >= WEIR_LDAP_CACHE_MAX))
        weir_ldap_cache_unlink(ld, ld->oldest);
    e = weir_calloc(1, sizeof(*e));
    memcpy(e->key, key, WEIR_LDAP_KEY_LEN);
    e->expires_ms = now_ms + ld->conf.cache_ttl_ms;
    e->user = weir_strdup(res->user ? res->user : "");
    if (res->ngroups) {
        e->groups = weir_calloc(res->ngroups, sizeof(char *));
        for (size_t i = 0; i < res->ngroups; i++)
            e->groups[i] = weir_strdup(res->groups[i]);
    }
    e->ngroups = res->ngroups;
    b = weir_ldap_bucket(key);
    e->hnext = ld->buckets[b];
    ld->buckets[b] = e;
    e->prev = ld->newest;
    if (ld->newest)
        ld->newest->next = e;
    else
        ld->oldest = e;
    ld->newest = e;
    ld->cache_n++;
}

size_t
weir_ldap_cache_size(const weir_ldap_t *ld)
{
    return ld->cache_n;
}

void
weir_ldap_cache_clear(weir_ldap_t *ld)
{
    while (ld->oldest)
        weir_ldap_cache_unlink(ld, ld->oldest);
}

/* ------------------------------------------------------------------ */
/* The check (worker thread)                                          */

/* Applies what is left of the deadline to the handle's timeouts; false when
 * nothing is left. */
static bool
weir_ldap_timeouts(LDAP *l, int64_t deadline, struct timeval *tv)
{
    int64_t left = deadline - weir_mono_ms();

    if (left <= 0)
        return false;
    tv->tv_sec = (time_t)(left / 1000);
    tv->tv_usec = (suseconds_t)((left % 1000) * 1000);
    ldap_set_option(l, LDAP_OPT_NETWORK_TIMEOUT, tv);
    ldap_set_option(l, LDAP_OPT_TIMEOUT, tv);
    return true;
}

/* Connection callback: keeps a duplicate of the directory's socket for the
 * watchdog.  libldap's own timeouts do not cover everything: an ldaps://
 * TLS handshake with a server that accepted the connection but never
 * answers blocks for ever; shutting the socket down ends it. */
static int
weir_ldap_on_connect(LDAP *l, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
                     struct ldap_conncb *ctx)
{
    weir_ldap_job_t *job = ctx->lc_arg;
    int fd = -1;

    WEIR_UNUSED(l);
    WEIR_UNUSED(srv);
    WEIR_UNUSED(addr);
    if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0)
        return 0;
    uv_mutex_lock(&job->lock);
    if (job->sock_dup >= 0)
        close(job->sock_dup);
    job->sock_dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    /* Cut off already (the connect itself took the whole time). */
    if (job->cut_off && job->sock_dup >= 0)
        shutdown(job->sock_dup, SHUT_RDWR);
    uv_mutex_unlock(&job->lock);
    return 0;
}

static void
weir_ldap_on_disconnect(LDAP *l, Sockbuf *sb, struct ldap_conncb *ctx)
{
    WEIR_UNUSED(l);
    WEIR_UNUSED(sb);
    WEIR_UNUSED(ctx);
}

static bool
weir_ldap_rc_unavailable(int rc)
{
    return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
           rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED;
}

/* Classifies a failed step; "what" names it for the log. */
static void
weir_ldap_step_failed(weir_ldap_result_t *res, const char *url, const char *what, int rc)
{
    if (weir_ldap_rc_unavailable(rc))
        weir_ldap_fail(res, WEIR_LDAP_UNAVAILABLE, "%s: %s: %s", url, what, ldap_err2string(rc));
    else
        weir_ldap_fail(res, WEIR_LDAP_ERROR, "%s: %s: %s", url, what, ldap_err2string(rc));
}

static int
weir_ldap_simple_bind(LDAP *l, const char *dn, const char *pw, size_t plen)
{
    struct berval cred;

    cred.bv_val = (char *)pw;
    cred.bv_len = plen;
    return ldap_sasl_bind_s(l, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* Binds as the user, asking for the password policy control.  Returns the
 * LDAP result code; *locked tells a locked account. */
static int
weir_ldap_user_bind(LDAP *l, const char *dn, const char *pw, size_t plen, struct timeval *tv,
                    bool *locked)
{
    LDAPControl *ppctrl = NULL, *ctrls[2] = {NULL, NULL}, **sctrls = NULL;
    LDAPMessage *msg = NULL;
    struct berval cred;
    int msgid, rc, err = LDAP_OTHER;

    *locked = false;
    cred.bv_val = (char *)pw;
    cred.bv_len = plen;
    if (ldap_create_passwordpolicy_control(l, &ppctrl) == LDAP_SUCCESS)
        ctrls[0] = ppctrl;
    rc = ldap_sasl_bind(l, dn, LDAP_SASL_SIMPLE, &cred, ctrls[0] ? ctrls : NULL, NULL, &msgid);
    if (ppctrl)
        ldap_control_free(ppctrl);
    if (rc != LDAP_SUCCESS)
        return rc;
    rc = ldap_result(l, msgid, LDAP_MSG_ALL, tv, &msg);
    if (rc == 0) {
        ldap_abandon_ext(l, msgid, NULL, NULL);
        return LDAP_TIMEOUT;
    }
    if (rc < 0) {
        ldap_get_option(l, LDAP_OPT_RESULT_CODE, &err);
        return err ? err : LDAP_SERVER_DOWN;
    }
    rc = ldap_parse_result(l, msg, &err, NULL, NULL, NULL, &sctrls, 1);
    if (rc != LDAP_SUCCESS)
        return rc;
    if (sctrls) {
        LDAPControl *c = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, sctrls, NULL);
        if (c) {
            ber_int_t expire = -1, grace = -1;
            LDAPPasswordPolicyError pperr = PP_noError;
            if (ldap_parse_passwordpolicy_control(l, c, &expire, &grace, &pperr) ==
                    LDAP_SUCCESS &&
                pperr == PP_accountLocked)
                *locked = true;
        }
        ldap_controls_free(sctrls);
    }
    return err;
}

/* Looks the user up under ldap.user.search.base; fills *dn. */
static int
weir_ldap_find_user(const weir_ldap_conf_t *c, LDAP *l, const char *user, struct timeval *tv,
                    char **dn, weir_ldap_result_t *res)
{
    char *esc = weir_ldap_escape_filter(user), *filter;
    char *attrs[] = {LDAP_NO_ATTRS, NULL};
    LDAPMessage *msg = NULL, *e;
    size_t flen;
    int rc, n;

    flen = strlen(esc) + strlen(c->user_name_attribute) + strlen(c->user_object_class) + 32;
    filter = weir_malloc(flen);
    snprintf(filter, flen, "(&(objectClass=%s)(%s=%s))", c->user_object_class,
             c->user_name_attribute, esc);
    free(esc);
    rc = ldap_search_ext_s(l, c->user_search_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                           NULL, tv, 2, &msg);
    free(filter);
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
        if (msg)
            ldap_msgfree(msg);
        weir_ldap_step_failed(res, c->url, "user search", rc);
        return -1;
    }
    n = ldap_count_entries(l, msg);
    if (n == 0 || rc == LDAP_SIZELIMIT_EXCEEDED || n > 1) {
        ldap_msgfree(msg);
        weir_ldap_fail(res, WEIR_LDAP_INVALID, n == 0 ? "unknown user" :
                       "user name matches more than one entry");
        return -1;
    }
    e = ldap_first_entry(l, msg);
    {
        char *d = e ? ldap_get_dn(l, e) : NULL;
        if (!d) {
            ldap_msgfree(msg);
            weir_ldap_fail(res, WEIR_LDAP_ERROR, "user entry without a DN");
            return -1;
        }
        *dn = weir_strdup(d);
        ldap_memfree(d);
    }
    ldap_msgfree(msg);
    return 0;
}

static void
weir_ldap_find_groups(const weir_ldap_conf_t *c, LDAP *l, const char *user, const char *dn,
                      struct timeval *tv, weir_ldap_result_t *res)
{
    bool by_name = strcasecmp(c->group_member_attribute, "memberUid") == 0;
    char *esc = weir_ldap_escape_filter(by_name ? user : dn), *filter;
    char *attrs[] = {(char *)c->group_name_attribute, NULL};
    LDAPMessage *msg = NULL, *e;
    size_t flen;
    int rc;

    flen = strlen(esc) + strlen(c->group_member_attribute) + strlen(c->group_object_class) + 32;
    filter = weir_malloc(flen);
    snprintf(filter, flen, "(&(objectClass=%s)(%s=%s))", c->group_object_class,
             c->group_member_attribute, esc);
    free(esc);
    rc = ldap_search_ext_s(l, c->group_search_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                           NULL, tv, WEIR_LDAP_MAX_GROUPS, &msg);
    free(filter);
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
        if (msg)
            ldap_msgfree(msg);
        weir_ldap_step_failed(res, c->url, "group search", rc);
        return;
    }
    for (e = ldap_first_entry(l, msg); e; e = ldap_next_entry(l, e)) {
        struct berval **vals = ldap_get_values_len(l, e, c->group_name_attribute);
        if (vals && vals[0] && vals[0]->bv_len > 0) {
            res->groups = weir_realloc(res->groups, (res->ngroups + 1) * sizeof(char *));
            res->groups[res->ngroups++] = weir_strndup(vals[0]->bv_val, vals[0]->bv_len);
        }
        if (vals)
            ldap_value_free_len(vals);
    }
    ldap_msgfree(msg);
}

static void
weir_ldap_wipe_password(weir_ldap_job_t *job)
{
    if (job->password) {
        OPENSSL_cleanse(job->password, job->plen);
        free(job->password);
        job->password = NULL;
        job->plen = 0;
    }
}

static void
weir_ldap_check(weir_ldap_job_t *job)
{
    const weir_ldap_conf_t *c = &job->ld->conf;
    weir_ldap_result_t *res = &job->res;
    int64_t deadline = job->queued_ms + c->timeout_ms;
    LDAP *l = NULL;
    struct timeval tv;
    struct ldap_conncb cb;
    char *dn = NULL;
    int rc, version = LDAP_VERSION3;
    bool locked;

    rc = ldap_initialize(&l, c->url);
    if (rc != LDAP_SUCCESS) {
        weir_ldap_step_failed(res, c->url, "initialize", rc);
        return;
    }
    ldap_set_option(l, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(l, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    /* The handle keeps a pointer to cb: it lives until the unbind below. */
    cb.lc_add = weir_ldap_on_connect;
    cb.lc_del = weir_ldap_on_disconnect;
    cb.lc_arg = job;
    ldap_set_option(l, LDAP_OPT_CONNECT_CB, &cb);
    if (job->ca_location) {
        /* This handle's own TLS context from ldap.ca.location as it was
         * when the sign-on was asked for: a SIGHUP that changes the file or
         * the setting applies to the next check without touching libldap's
         * global options under running checks. */
        int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
        rc = ldap_set_option(l, LDAP_OPT_X_TLS_CACERTFILE, job->ca_location);
        if (rc == LDAP_OPT_SUCCESS)
            rc = ldap_set_option(l, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
        if (rc == LDAP_OPT_SUCCESS)
            rc = ldap_set_option(l, LDAP_OPT_X_TLS_NEWCTX, &zero);
        if (rc != LDAP_OPT_SUCCESS) {
            weir_ldap_fail(res, WEIR_LDAP_ERROR, "ldap.ca.location: cannot use %s: %s",
                           job->ca_location, ldap_err2string(rc));
            goto out;
        }
    }
    if (!weir_ldap_timeouts(l, deadline, &tv))
        goto timeout;
    if (job->starttls) {
        rc = ldap_start_tls_s(l, NULL, NULL);
        if (rc != LDAP_SUCCESS) {
            weir_ldap_step_failed(res, c->url, "StartTLS", rc);
            goto out;
        }
        if (!weir_ldap_timeouts(l, deadline, &tv))
            goto timeout;
    }
    if (c->user_dn_template) {
        dn = weir_ldap_dn_from_template(c->user_dn_template, job->user);
    } else {
        if (c->bind_dn) {
            rc = weir_ldap_simple_bind(l, c->bind_dn, c->bind_password ? c->bind_password : "",
                                       c->bind_password ? strlen(c->bind_password) : 0);
            if (rc != LDAP_SUCCESS) {
                if (rc == LDAP_INVALID_CREDENTIALS)
                    weir_ldap_fail(res, WEIR_LDAP_ERROR, "%s: bind as ldap.bind.dn refused: %s",
                                   c->url, ldap_err2string(rc));
                else
                    weir_ldap_step_failed(res, c->url, "bind as ldap.bind.dn", rc);
                goto out;
            }
            if (!weir_ldap_timeouts(l, deadline, &tv))
                goto timeout;
        }
        if (weir_ldap_find_user(c, l, job->user, &tv, &dn, res) != 0)
            goto out;
        if (!weir_ldap_timeouts(l, deadline, &tv))
            goto timeout;
    }
    rc = weir_ldap_user_bind(l, dn, job->password, job->plen, &tv, &locked);
    weir_ldap_wipe_password(job);
    if (rc != LDAP_SUCCESS) {
        if (rc == LDAP_INVALID_CREDENTIALS)
            weir_ldap_fail(res, WEIR_LDAP_INVALID, "%s", locked ? "account locked" :
                           c->user_dn_template ? "invalid credentials (wrong password or "
                           "unknown user)" : "invalid credentials");
        else
            weir_ldap_step_failed(res, c->url, "user bind", rc);
        goto out;
    }
    if (c->group_search_base) {
        if (!weir_ldap_timeouts(l, deadline, &tv))
            goto timeout;
        if (c->bind_dn && !c->user_dn_template) {
            /* Search groups with the service account's rights. */
            rc = weir_ldap_simple_bind(l, c->bind_dn, c->bind_password ? c->bind_password : "",
                                       c->bind_password ? strlen(c->bind_password) : 0);
            if (rc != LDAP_SUCCESS) {
                weir_ldap_step_failed(res, c->url, "bind as ldap.bind.dn for the group search",
                                      rc);
                goto out;
            }
        }
        weir_ldap_find_groups(c, l, job->user, dn, &tv, res);
        if (res->reason[0])
            goto out;
    }
    res->status = WEIR_LDAP_OK;
    res->user = weir_strdup(job->user);
    goto out;
timeout:
    weir_ldap_fail(res, WEIR_LDAP_UNAVAILABLE, "%s: no answer within ldap.timeout.ms (%lld ms)",
                   c->url, (long long)c->timeout_ms);
out:
    weir_ldap_wipe_password(job);
    free(dn);
    if (l)
        ldap_unbind_ext_s(l, NULL, NULL);
    uv_mutex_lock(&job->lock);
    if (job->cut_off && res->status != WEIR_LDAP_OK) {
        weir_ldap_result_clear(res);
        weir_ldap_fail(res, WEIR_LDAP_UNAVAILABLE, "%s: no answer within ldap.timeout.ms "
                       "(%lld ms)", c->url, (long long)c->timeout_ms);
    }
    uv_mutex_unlock(&job->lock);
}

static void
weir_ldap_work(uv_work_t *w)
{
    weir_ldap_job_t *job = w->data;

    weir_ldap_check(job);
}

/* ------------------------------------------------------------------ */
/* Scheduling (loop thread)                                           */

static void weir_ldap_after_work(uv_work_t *w, int status);

static void
weir_ldap_job_free(weir_ldap_job_t *job)
{
    if (job->sock_dup >= 0)
        close(job->sock_dup);
    uv_mutex_destroy(&job->lock);
    weir_ldap_wipe_password(job);
    weir_ldap_result_clear(&job->res);
    free(job->user);
    free(job->ca_location);
    OPENSSL_cleanse(job->key, sizeof(job->key));
    free(job);
}

static void
weir_ldap_on_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Frees everything; the checker itself goes once its timer is closed. */
static void
weir_ldap_final_free(weir_ldap_t *ld)
{
    weir_ldap_cache_clear(ld);
    free((char *)ld->conf.url);
    free((char *)ld->conf.ca_location);
    free((char *)ld->conf.user_dn_template);
    free((char *)ld->conf.bind_dn);
    if (ld->conf.bind_password) {
        OPENSSL_cleanse((char *)ld->conf.bind_password, strlen(ld->conf.bind_password));
        free((char *)ld->conf.bind_password);
    }
    free((char *)ld->conf.user_search_base);
    free((char *)ld->conf.user_name_attribute);
    free((char *)ld->conf.user_object_class);
    free((char *)ld->conf.group_search_base);
    free((char *)ld->conf.group_object_class);
    free((char *)ld->conf.group_member_attribute);
    free((char *)ld->conf.group_name_attribute);
    OPENSSL_cleanse(ld->salt, sizeof(ld->salt));
    ld->watchdog.data = ld;
    uv_close((uv_handle_t *)&ld->watchdog, weir_ldap_on_closed);
}

/* Tracks the directory's health; logs once per change. */
static void
weir_ldap_health(weir_ldap_t *ld, const weir_ldap_result_t *res)
{
    weir_ldap_health_t h;

    switch (res->status) {
    case WEIR_LDAP_OK:
    case WEIR_LDAP_INVALID:
        h = LDAP_HEALTH_OK;
        break;
    case WEIR_LDAP_UNAVAILABLE:
        h = LDAP_HEALTH_UNAVAILABLE;
        break;
    default:
        h = LDAP_HEALTH_ERROR;
        break;
    }
    if (h == ld->health)
        return;
    if (h == LDAP_HEALTH_OK)
        WEIR_LOG(WEIR_LOG_INFO, "ldap_available", "url=\"%s\" note=\"sign-ons are checked "
                 "again\"", ld->conf.url);
    else if (h == LDAP_HEALTH_UNAVAILABLE)
        WEIR_LOG(WEIR_LOG_WARN, "ldap_unavailable", "url=\"%s\" reason=\"%s\" note=\"new "
                 "sign-ons fail until the directory answers; signed-on sessions continue\"",
                 ld->conf.url, res->reason);
    else
        WEIR_LOG(WEIR_LOG_ERROR, "ldap_error", "url=\"%s\" reason=\"%s\" note=\"new sign-ons "
                 "fail until this is fixed\"", ld->conf.url, res->reason);
    ld->health = h;
}

static void
weir_ldap_deliver(weir_ldap_job_t *job)
{
    if (job->cb)
        job->cb(job->arg, &job->res);
    weir_ldap_job_free(job);
}

/* Shuts down the socket of every check past its deadline (plus a grace
 * for libldap's own timeouts to act first), which ends any read it is
 * blocked in. */
static void
weir_ldap_on_watchdog(uv_timer_t *t)
{
    weir_ldap_t *ld = t->data;
    int64_t now = weir_mono_ms();

    for (weir_ldap_job_t *job = ld->running; job; job = job->run_next) {
        if (job->cut_off || now < job->queued_ms + ld->conf.timeout_ms + WEIR_LDAP_GRACE_MS)
            continue;
        uv_mutex_lock(&job->lock);
        job->cut_off = true;
        if (job->sock_dup >= 0)
            shutdown(job->sock_dup, SHUT_RDWR);
        uv_mutex_unlock(&job->lock);
    }
}

/* Starts queued checks while worker slots are free. */
static void
weir_ldap_pump(weir_ldap_t *ld)
{
    while (ld->queue_head && ld->inflight < ld->conf.max_inflight) {
        weir_ldap_job_t *job = ld->queue_head;

        ld->queue_head = job->next;
        if (!ld->queue_head)
            ld->queue_tail = NULL;
        job->next = NULL;
        job->queued = false;
        if (!job->cb) {
            weir_ldap_job_free(job);
            continue;
        }
        if (weir_mono_ms() - job->queued_ms >= ld->conf.timeout_ms) {
            weir_ldap_fail(&job->res, WEIR_LDAP_UNAVAILABLE, "%s: every LDAP check slot busy "
                           "for ldap.timeout.ms (%lld ms)", ld->conf.url,
                           (long long)ld->conf.timeout_ms);
            weir_ldap_health(ld, &job->res);
            weir_ldap_deliver(job);
            continue;
        }
        job->work.data = job;
        ld->inflight++;
        if (uv_queue_work(ld->loop, &job->work, weir_ldap_work, weir_ldap_after_work) != 0) {
            ld->inflight--;
            weir_ldap_fail(&job->res, WEIR_LDAP_ERROR, "cannot queue the LDAP check");
            weir_ldap_deliver(job);
            continue;
        }
        job->run_prev = NULL;
        job->run_next = ld->running;
        if (ld->running)
            ld->running->run_prev = job;
        ld->running = job;
        if (!uv_is_active((uv_handle_t *)&ld->watchdog))
            uv_timer_start(&ld->watchdog, weir_ldap_on_watchdog, WEIR_LDAP_WATCHDOG_MS,
                           WEIR_LDAP_WATCHDOG_MS);
    }
}

static void
weir_ldap_after_work(uv_work_t *w, int status)
{
    weir_ldap_job_t *job = w->data;
    weir_ldap_t *ld = job->ld;

    WEIR_UNUSED(status);
    ld->inflight--;
    if (job->run_prev)
        job->run_prev->run_next = job->run_next;
    else
        ld->running = job->run_next;
    if (job->run_next)
        job->run_next->run_prev = job->run_prev;
    if (!ld->running)
        uv_timer_stop(&ld->watchdog);
    if (!ld->closing) {
        weir_ldap_health(ld, &job->res);
        if (job->res.status == WEIR_LDAP_OK)
            weir_ldap_cache_put(ld, job->key, &job->res, weir_mono_ms());
    }
    weir_ldap_deliver(job);
    if (ld->closing) {
        if (ld->inflight == 0)
            weir_ldap_final_free(ld);
        return;
    }
    weir_ldap_pump(ld);
}

weir_ldap_job_t *
weir_ldap_authenticate(weir_ldap_t *ld, const char *user, char *password, size_t plen,
                       weir_ldap_cb_t cb, void *arg, weir_ldap_result_t *cached)
{
    weir_ldap_job_t *job = weir_calloc(1, sizeof(*job));

    if (uv_mutex_init(&job->lock) != 0)
        abort();
    job->sock_dup = -1;
    job->ld = ld;
    job->user = weir_strdup(user);
    job->starttls = ld->conf.starttls;
    job->ca_location = ld->conf.ca_location ? weir_strdup(ld->conf.ca_location) : NULL;
    job->password = password;
    job->plen = plen;
    job->cb = cb;
    job->arg = arg;
    job->queued_ms = weir_mono_ms();
    weir_ldap_cache_key(ld, user, password, plen, job->key);
    if (weir_ldap_cache_get(ld, job->key, job->queued_ms, cached)) {
        weir_ldap_job_free(job);
        return NULL;
    }
    job->queued = true;
    if (ld->queue_tail)
        ld->queue_tail->next = job;
    else
        ld->queue_head = job;
    ld->queue_tail = job;
    weir_ldap_pump(ld);
    return job;
}

void
weir_ldap_cancel(weir_ldap_job_t *job)
{
    /* A queued job is dropped when it reaches the head of the queue; a
     * running one when it completes.  Either way the caller hears nothing
     * more; the password goes now. */
    job->cb = NULL;
    job->arg = NULL;
    if (job->queued)
        weir_ldap_wipe_password(job);
}

bool
weir_ldap_is_down(const weir_ldap_t *ld)
{
    return ld->health != LDAP_HEALTH_OK;
}

static char *
weir_ldap_dup(const char *s)
{
    return s ? weir_strdup(s) : NULL;
}

/* ldap.ca.location must hold at least one PEM certificate (libldap
 * reads it again for each check: see weir_ldap_check). */
static int
weir_ldap_check_ca(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    if (!f) {
        snprintf(errstr, errstr_size, "ldap.ca.location: cannot read %s: %s", path,
                 strerror(errno));
        return -1;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (!x) {
        snprintf(errstr, errstr_size, "ldap.ca.location: %s holds no PEM certificate", path);
        return -1;
    }
    X509_free(x);
    return 0;
}

int
weir_ldap_reload_tls(weir_ldap_t *ld, bool starttls, const char *ca_location, char *errstr,
                     size_t errstr_size)
{
    if (ca_location && weir_ldap_check_ca(ca_location, errstr, errstr_size) != 0)
        return -1;
    ld->conf.starttls = starttls;
    free((char *)ld->conf.ca_location);
    ld->conf.ca_location = weir_ldap_dup(ca_location);
    return 0;
}

weir_ldap_t *
weir_ldap_new(uv_loop_t *loop, const weir_ldap_conf_t *conf, char *errstr, size_t errstr_size)
{
    weir_ldap_t *ld;
    LDAPURLDesc *lud = NULL;
    int rc;

    if (!conf->url || !conf->url[0]) {
        snprintf(errstr, errstr_size, "ldap.url is not set");
        return NULL;
    }
    /* Check every URL of the list parses (ldap_initialize would only fail
     * later, on the worker). */
    {
        char *copy = weir_strdup(conf->url), *save = NULL, *tok;
        for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            rc = ldap_url_parse(tok, &lud);
            if (rc != LDAP_URL_SUCCESS) {
                snprintf(errstr, errstr_size, "ldap.url: \"%s\" is not an LDAP URL", tok);
                free(copy);
                return NULL;
            }
            if (strcmp(lud->lud_scheme, "ldap") != 0 && strcmp(lud->lud_scheme, "ldaps") != 0) {
                snprintf(errstr, errstr_size, "ldap.url: \"%s\": scheme must be ldap or ldaps",
                         tok);
                ldap_free_urldesc(lud);
                free(copy);
                return NULL;
            }
            ldap_free_urldesc(lud);
            lud = NULL;
        }
        free(copy);
    }
    if (!conf->user_dn_template && !conf->user_search_base) {
        snprintf(errstr, errstr_size, "set ldap.user.dn.template or ldap.user.search.base");
        return NULL;
    }
    /* libldap initializes its global state on first use; do it here, on the
     * loop thread, rather than racing on the worker threads. */
    {
        int v = 0;
        ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v);
    }
    if (conf->ca_location && weir_ldap_check_ca(conf->ca_location, errstr, errstr_size) != 0)
        return NULL;
    ld = weir_calloc(1, sizeof(*ld));
    ld->loop = loop;
    ld->conf = *conf;
    ld->conf.url = weir_ldap_dup(conf->url);
    ld->conf.ca_location = weir_ldap_dup(conf->ca_location);
    ld->conf.user_dn_template = weir_ldap_dup(conf->user_dn_template);
    ld->conf.bind_dn = weir_ldap_dup(conf->bind_dn);
    ld->conf.bind_password = weir_ldap_dup(conf->bind_password);
    ld->conf.user_search_base = weir_ldap_dup(conf->user_search_base);
    ld->conf.user_name_attribute = weir_ldap_dup(conf->user_name_attribute ?
                                                 conf->user_name_attribute : "uid");
    ld->conf.user_object_class = weir_ldap_dup(conf->user_object_class ?
                                               conf->user_object_class : "person");
    ld->conf.group_search_base = weir_ldap_dup(conf->group_search_base);
    ld->conf.group_object_class = weir_ldap_dup(conf->group_object_class ?
                                                conf->group_object_class : "groupOfNames");
    ld->conf.group_member_attribute = weir_ldap_dup(conf->group_member_attribute ?
                                                    conf->group_member_attribute : "member");
    ld->conf.group_name_attribute = weir_ldap_dup(conf->group_name_attribute ?
                                                  conf->group_name_attribute : "cn");
    if (ld->conf.timeout_ms <= 0)
        ld->conf.timeout_ms = 5000;
    if (ld->conf.max_inflight <= 0)
        ld->conf.max_inflight = 1;
    uv_timer_init(loop, &ld->watchdog);
    ld->watchdog.data = ld;
    if (getrandom(ld->salt, sizeof(ld->salt), 0) != (ssize_t)sizeof(ld->salt)) {
        snprintf(errstr, errstr_size, "cannot get random bytes for the sign-on cache salt");
        weir_ldap_final_free(ld);
        return NULL;
    }
    return ld;
}

void
weir_ldap_free(weir_ldap_t *ld)
{
    if (!ld || ld->closing)
        return;
    ld->closing = true;
    while (ld->queue_head) {
        weir_ldap_job_t *job = ld->queue_head;
        ld->queue_head = job->next;
        weir_ldap_job_free(job);
    }
    ld->queue_tail = NULL;
    if (ld->inflight == 0)
        weir_ldap_final_free(ld);
}
