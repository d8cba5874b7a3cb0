/*
 * weir_ldap.h: checking a user name and password against an LDAP directory
 * (OpenLDAP's libldap), and the user's groups - for SASL/PLAIN sign-on.
 *
 * The directory is only ever used from libuv's worker pool (libldap's
 * synchronous API, one connection per check, every step bounded by what is
 * left of ldap.timeout.ms, and a watchdog on the loop that shuts down the
 * socket of a check past its deadline, since libldap cannot bound an
 * ldaps:// TLS handshake); results are applied on the loop thread.  At most
 * max_inflight checks run at once so a slow directory cannot take the whole
 * worker pool from fsync and segment deletion; checks waiting for a slot
 * that wait longer than the timeout fail as "unavailable".
 *
 * Successful sign-ons are cached for cache_ttl_ms, keyed by SHA-256 of a
 * random per-process salt, the user name and the password: the password
 * itself is wiped as soon as it has been hashed or used in the bind.
 *
 * An outage is logged once when it starts (ldap_unavailable) and once when
 * it ends (ldap_available), never per sign-on attempt.
 */
#ifndef WEIR_LDAP_H
#define WEIR_LDAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct weir_ldap_conf_s {
    const char *url;               /* ldap.url: ldap:// or ldaps:// (space-separated list) */
    bool starttls;                 /* ldap.starttls */
    const char *ca_location;       /* ldap.ca.location: PEM CA file (NULL: system default) */
    const char *user_dn_template;  /* ldap.user.dn.template: "uid={user},ou=people,..." */
    const char *bind_dn;           /* ldap.bind.dn (search mode, optional) */
    const char *bind_password;     /* ldap.bind.password */
    const char *user_search_base;  /* ldap.user.search.base */
    const char *user_name_attribute;  /* ldap.user.name.attribute (uid) */
    const char *user_object_class;    /* ldap.user.object.class */
    const char *group_search_base;    /* ldap.group.search.base (NULL: no groups) */
    const char *group_object_class;   /* ldap.group.object.class (groupOfNames) */
    const char *group_member_attribute; /* ldap.group.member.attribute (member) */
    const char *group_name_attribute;   /* ldap.group.name.attribute (cn) */
    int64_t timeout_ms;            /* ldap.timeout.ms */
    int64_t cache_ttl_ms;          /* ldap.cache.ttl.ms (0: no cache) */
    int max_inflight;              /* concurrent checks on the worker pool */
} weir_ldap_conf_t;

typedef enum weir_ldap_status_e {
    WEIR_LDAP_OK = 0,
    WEIR_LDAP_INVALID,      /* wrong password, unknown user, locked account */
    WEIR_LDAP_UNAVAILABLE,  /* directory down, unreachable or too slow */
    WEIR_LDAP_ERROR,        /* anything else (configuration, protocol) */
} weir_ldap_status_t;

/** The outcome of one check. */
typedef struct weir_ldap_result_s {
    weir_ldap_status_t status;
    char *user;          /* the user name (as signed on) */
    char **groups;       /* group names, OK only */
    size_t ngroups;
    bool cached;         /* answered from the sign-on cache */
    char reason[256];    /* for the broker log; never a secret */
} weir_ldap_result_t;

typedef struct weir_ldap_s weir_ldap_t;
typedef struct weir_ldap_job_s weir_ldap_job_t;

/** Called on the loop thread with the outcome (res is valid during the call). */
typedef void (*weir_ldap_cb_t)(void *arg, const weir_ldap_result_t *res);

/**
 * @brief Creates the checker (strings of conf are copied), on the loop
 *        thread before any check runs.  ldap.ca.location, when set, must
 *        hold a PEM certificate; each check gives its libldap handle its own
 *        TLS context from it.
 * @returns NULL with the reason in errstr if conf is unusable.
 */
weir_ldap_t *weir_ldap_new(uv_loop_t *loop, const weir_ldap_conf_t *conf, char *errstr,
                           size_t errstr_size);

/**
 * @brief Checks user/password.  Takes ownership of password (plen bytes,
 *        malloc'ed), which is wiped and freed once hashed and bound.
 *
 * @returns NULL when the sign-on cache answered: *cached then holds the
 *          result (the caller clears it) and cb is never called.  Otherwise
 *          a job whose cb runs later on the loop thread, unless
 *          weir_ldap_cancel() is called first.
 */
weir_ldap_job_t *weir_ldap_authenticate(weir_ldap_t *ld, const char *user, char *password,
                                        size_t plen, weir_ldap_cb_t cb, void *arg,
                                        weir_ldap_result_t *cached);

/** The caller lost interest: cb will not be called (the check may still run). */
void weir_ldap_cancel(weir_ldap_job_t *job);

/**
 * @brief SIGHUP: new TLS settings (ldap.starttls, ldap.ca.location) for the
 *        sign-ons asked for from now on; checks under way finish with the
 *        ones they started with.  The CA file is read again by every check,
 *        so a file replaced in place takes effect as well.  Loop thread.
 * @returns 0, or -1 with the reason in errstr (the CA file holds no
 *          certificate): the previous settings stay.
 */
int weir_ldap_reload_tls(weir_ldap_t *ld, bool starttls, const char *ca_location, char *errstr,
                         size_t errstr_size);

/** Forgets every cached sign-on (SIGHUP). */
void weir_ldap_cache_clear(weir_ldap_t *ld);

/** Frees the checker: at once if idle, else once running checks have finished
 *  (queued ones are dropped without a call); its timer closes on the loop. */
void weir_ldap_free(weir_ldap_t *ld);

/** True while the directory is considered unavailable (last check failed so). */
bool weir_ldap_is_down(const weir_ldap_t *ld);

/* ---- Building blocks, exposed for the unit tests ---- */

/** RFC 4515 filter value escaping; returns a malloc'ed string. */
char *weir_ldap_escape_filter(const char *value);
/** RFC 4514 attribute value escaping for a DN; returns a malloc'ed string. */
char *weir_ldap_escape_dn(const char *value);
/** The DN template with every "{user}" replaced by the escaped user name. */
char *weir_ldap_dn_from_template(const char *tmpl, const char *user);

#define WEIR_LDAP_KEY_LEN 32
/** The cache key: SHA-256(salt | user | NUL | password). */
void weir_ldap_cache_key(const weir_ldap_t *ld, const char *user, const char *password,
                         size_t plen, uint8_t key[WEIR_LDAP_KEY_LEN]);
/** Looks up a live entry; fills res (OK, cached) and returns true on a hit. */
bool weir_ldap_cache_get(weir_ldap_t *ld, const uint8_t key[WEIR_LDAP_KEY_LEN], int64_t now_ms,
                         weir_ldap_result_t *res);
/** Remembers a successful sign-on until now_ms + cache_ttl_ms. */
void weir_ldap_cache_put(weir_ldap_t *ld, const uint8_t key[WEIR_LDAP_KEY_LEN],
                         const weir_ldap_result_t *res, int64_t now_ms);
/** Number of entries held (live or expired but not yet dropped). */
size_t weir_ldap_cache_size(const weir_ldap_t *ld);

/** Frees what a result holds. */
void weir_ldap_result_clear(weir_ldap_result_t *res);

#endif
