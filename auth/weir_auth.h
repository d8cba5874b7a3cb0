/*
 * weir_auth.h: who a client is - the principal of a connection and the
 * principal lists of the configuration (super.users).
 *
 * A connection's principal is set once the transport and SASL layers know
 * it: User:ANONYMOUS on PLAINTEXT (and on SSL without a client certificate),
 * User:<mapped subject> with a client certificate (ssl.principal.mapping.rules),
 * User:<name> plus Group:<g> for every LDAP group after SASL/PLAIN.  The
 * authorizer (governance) reads it; nothing here decides what is allowed,
 * except the super.users list kept for it.
 */
#ifndef WEIR_AUTH_H
#define WEIR_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/** How the principal was established. */
typedef enum weir_auth_method_e {
    WEIR_AUTH_NONE = 0,   /* not authenticated (User:ANONYMOUS) */
    WEIR_AUTH_SSL,        /* client certificate */
    WEIR_AUTH_SASL_PLAIN, /* SASL/PLAIN checked against LDAP */
    WEIR_AUTH_HTTP_BASIC, /* HTTP Basic credentials checked against LDAP (server/http) */
} weir_auth_method_t;

/** A connection's identity: one user and the groups it belongs to. */
typedef struct weir_principal_s {
    weir_auth_method_t method;
    char *user;     /* "ANONYMOUS" when not authenticated; never NULL once set */
    char **groups;  /* group names (without "Group:") */
    size_t ngroups;
} weir_principal_t;

/** Sets p to User:ANONYMOUS (frees what it held). */
void weir_principal_set_anonymous(weir_principal_t *p);

/**
 * @brief Sets p to User:user with the given groups (copied; frees what p held).
 */
void weir_principal_set(weir_principal_t *p, weir_auth_method_t method, const char *user,
                        char *const *groups, size_t ngroups);

/** Frees what p holds (p itself is not freed). */
void weir_principal_clear(weir_principal_t *p);

/** True if p is a member of group. */
bool weir_principal_in_group(const weir_principal_t *p, const char *group);

/** Formats "User:name" into buf; returns buf. */
const char *weir_principal_str(const weir_principal_t *p, char *buf, size_t size);

/** One entry of a principal list such as super.users: "User:a" or "Group:b". */
typedef struct weir_principal_ref_s {
    bool is_group;
    char *name;
} weir_principal_ref_t;

/**
 * @brief Parses Kafka's principal list form, entries separated by ';'
 *        ("User:weiradmin;Group:weir-admins").  Whitespace around entries is
 *        ignored; an empty string gives an empty list.
 *
 * @returns 0, or -1 with the reason in errstr.  On success the caller frees
 *          the list with weir_principal_refs_free().
 */
int weir_principal_refs_parse(const char *spec, weir_principal_ref_t **out, size_t *n,
                              char *errstr, size_t errstr_size);

void weir_principal_refs_free(weir_principal_ref_t *refs, size_t n);

/** True if p is one of refs (by user name or by one of its groups). */
bool weir_principal_matches(const weir_principal_t *p, const weir_principal_ref_t *refs,
                            size_t n);

#endif
