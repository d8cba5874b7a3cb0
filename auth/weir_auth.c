/*
 * weir_auth.c: principals (User:/Group:) and principal lists (super.users).
 */
#include "weir_auth.h"

#include <stdio.h>
#include <string.h>

#include "weir_common.h"

static void
weir_principal_free_groups(weir_principal_t *p)
{
    for (size_t i = 0; i < p->ngroups; i++)
        free(p->groups[i]);
    free(p->groups);
    p->groups = NULL;
    p->ngroups = 0;
}

void
weir_principal_clear(weir_principal_t *p)
{
    weir_principal_free_groups(p);
    free(p->user);
    p->user = NULL;
    p->method = WEIR_AUTH_NONE;
}

void
weir_principal_set_anonymous(weir_principal_t *p)
{
    weir_principal_set(p, WEIR_AUTH_NONE, "ANONYMOUS", NULL, 0);
}

void
weir_principal_set(weir_principal_t *p, weir_auth_method_t method, const char *user,
                   char *const *groups, size_t ngroups)
{
    char *u = weir_strdup(user);
    char **g = NULL;

    if (ngroups > 0) {
        g = weir_calloc(ngroups, sizeof(*g));
        for (size_t i = 0; i < ngroups; i++)
            g[i] = weir_strdup(groups[i]);
    }
    weir_principal_clear(p);
    p->method = method;
    p->user = u;
    p->groups = g;
    p->ngroups = ngroups;
}

bool
weir_principal_in_group(const weir_principal_t *p, const char *group)
{
    for (size_t i = 0; i < p->ngroups; i++)
        if (strcmp(p->groups[i], group) == 0)
            return true;
    return false;
}

const char *
weir_principal_str(const weir_principal_t *p, char *buf, size_t size)
{
    snprintf(buf, size, "User:%s", p->user ? p->user : "ANONYMOUS");
    return buf;
}

void
weir_principal_refs_free(weir_principal_ref_t *refs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(refs[i].name);
    free(refs);
}

int
weir_principal_refs_parse(const char *spec, weir_principal_ref_t **out, size_t *n,
                          char *errstr, size_t errstr_size)
{
    weir_principal_ref_t *refs = NULL;
    size_t cnt = 0;
    const char *p = spec;

    *out = NULL;
    *n = 0;
    while (*p) {
        const char *end = strchr(p, ';'), *colon;
        size_t len;

        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0) {
            bool is_group;
            size_t tlen;

            colon = memchr(p, ':', len);
            if (!colon) {
                snprintf(errstr, errstr_size, "\"%.*s\" is not TYPE:NAME (User:name or "
                         "Group:name)", (int)len, p);
                goto fail;
            }
            tlen = (size_t)(colon - p);
            if (tlen == 4 && memcmp(p, "User", 4) == 0) {
                is_group = false;
            } else if (tlen == 5 && memcmp(p, "Group", 5) == 0) {
                is_group = true;
            } else {
                snprintf(errstr, errstr_size, "\"%.*s\": principal type must be User or Group",
                         (int)len, p);
                goto fail;
            }
            if (len - tlen - 1 == 0) {
                snprintf(errstr, errstr_size, "\"%.*s\": empty name", (int)len, p);
                goto fail;
            }
            refs = weir_realloc(refs, (cnt + 1) * sizeof(*refs));
            refs[cnt].is_group = is_group;
            refs[cnt].name = weir_strndup(colon + 1, len - tlen - 1);
            cnt++;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    *out = refs;
    *n = cnt;
    return 0;
fail:
    weir_principal_refs_free(refs, cnt);
    return -1;
}

bool
weir_principal_matches(const weir_principal_t *p, const weir_principal_ref_t *refs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (refs[i].is_group ? weir_principal_in_group(p, refs[i].name)
                             : (p->user && strcmp(p->user, refs[i].name) == 0))
            return true;
    }
    return false;
}
