/*
 * weir_principal_map.c: parsing and applying ssl.principal.mapping.rules
 * with PCRE2 (whose syntax is close to java.util.regex, including lazy
 * quantifiers such as "CN=(.*?),").
 */
#include "weir_principal_map.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "weir_common.h"

typedef enum weir_rule_case_e { RULE_CASE_KEEP, RULE_CASE_LOWER, RULE_CASE_UPPER } weir_rule_case_t;

typedef struct weir_principal_rule_s {
    bool is_default;
    pcre2_code *re;
    char *replacement;
    weir_rule_case_t case_mode;
} weir_principal_rule_t;

struct weir_principal_map_s {
    weir_principal_rule_t *rules;
    size_t nrules;
};

void
weir_principal_map_free(weir_principal_map_t *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->nrules; i++) {
        if (map->rules[i].re)
            pcre2_code_free(map->rules[i].re);
        free(map->rules[i].replacement);
    }
    free(map->rules);
    free(map);
}

/* Reads a pattern or replacement up to an unescaped '/', keeping the escapes
 * (the pattern keeps them for the regex engine; the replacement resolves
 * them when it is applied).  Returns the position after the '/' or NULL. */
static const char *
weir_rule_field(const char *p, char **out)
{
    const char *s = p;

    while (*p && *p != '/') {
        if (*p == '\\') {
            if (!p[1])
                return NULL;
            p++;
        }
        p++;
    }
    if (*p != '/')
        return NULL;
    *out = weir_strndup(s, (size_t)(p - s));
    return p + 1;
}

static void
weir_map_add(weir_principal_map_t *map, const weir_principal_rule_t *r)
{
    map->rules = weir_realloc(map->rules, (map->nrules + 1) * sizeof(*map->rules));
    map->rules[map->nrules++] = *r;
}

int
weir_principal_map_parse(const char *spec, weir_principal_map_t **out, char *errstr,
                         size_t errstr_size)
{
    weir_principal_map_t *map = weir_calloc(1, sizeof(*map));
    const char *p = spec ? spec : "";

    *out = NULL;
    for (;;) {
        weir_principal_rule_t r;
        const char *start;

        memset(&r, 0, sizeof(r));
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        start = p;
        if (strncmp(p, "DEFAULT", 7) == 0) {
            r.is_default = true;
            p += 7;
        } else if (strncmp(p, "RULE:", 5) == 0) {
            char *pattern = NULL;
            int errcode;
            PCRE2_SIZE erroff;

            p = weir_rule_field(p + 5, &pattern);
            if (p)
                p = weir_rule_field(p, &r.replacement);
            if (!p) {
                free(pattern);
                free(r.replacement);
                snprintf(errstr, errstr_size, "invalid rule \"%s\": expected "
                         "RULE:pattern/replacement/[LU]", start);
                goto fail;
            }
            if (*p == 'L' || *p == 'U') {
                r.case_mode = *p == 'L' ? RULE_CASE_LOWER : RULE_CASE_UPPER;
                p++;
            }
            r.re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &errcode,
                                 &erroff, NULL);
            if (!r.re) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(errcode, msg, sizeof(msg));
                snprintf(errstr, errstr_size, "invalid pattern \"%s\" at offset %zu: %s", pattern,
                         (size_t)erroff, (const char *)msg);
                free(pattern);
                free(r.replacement);
                goto fail;
            }
            free(pattern);
        } else {
            snprintf(errstr, errstr_size, "invalid rule \"%s\": expected DEFAULT or "
                     "RULE:pattern/replacement/[LU]", start);
            goto fail;
        }
        weir_map_add(map, &r);
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p) {
            snprintf(errstr, errstr_size, "invalid rule list: unexpected \"%s\"", p);
            goto fail;
        }
        break;
    }
    if (map->nrules == 0) {
        weir_principal_rule_t r;
        memset(&r, 0, sizeof(r));
        r.is_default = true;
        weir_map_add(map, &r);
    }
    *out = map;
    return 0;
fail:
    weir_principal_map_free(map);
    return -1;
}

/* Expands a replacement: $0..$9 are groups, '\c' is c. */
static char *
weir_rule_expand(const weir_principal_rule_t *r, const char *subject, PCRE2_SIZE *ov, int ngroups)
{
    size_t cap = strlen(subject) + strlen(r->replacement) + 16, len = 0;
    char *out = weir_malloc(cap);

    for (const char *p = r->replacement; *p; p++) {
        const char *add = p;
        size_t n = 1;

        if (*p == '\\' && p[1]) {
            add = ++p;
        } else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int g = p[1] - '0';
            p++;
            if (g < ngroups && ov[2 * g] != PCRE2_UNSET) {
                add = subject + ov[2 * g];
                n = ov[2 * g + 1] - ov[2 * g];
            } else {
                n = 0;
            }
        }
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            out = weir_realloc(out, cap);
        }
        memcpy(out + len, add, n);
        len += n;
    }
    out[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (r->case_mode == RULE_CASE_LOWER)
            out[i] = (char)tolower((unsigned char)out[i]);
        else if (r->case_mode == RULE_CASE_UPPER)
            out[i] = (char)toupper((unsigned char)out[i]);
    }
    return out;
}

int
weir_principal_map_apply(const weir_principal_map_t *map, const char *subject, char **out)
{
    *out = NULL;
    for (size_t i = 0; i < map->nrules; i++) {
        const weir_principal_rule_t *r = &map->rules[i];
        pcre2_match_data *md;
        int rc;

        if (r->is_default) {
            if (!subject[0])
                return -1;
            *out = weir_strdup(subject);
            return 0;
        }
        md = pcre2_match_data_create_from_pattern(r->re, NULL);
        /* Java's Matcher.matches(): the whole subject, with backtracking. */
        rc = pcre2_match(r->re, (PCRE2_SPTR)subject, strlen(subject), 0,
                         PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
        if (rc > 0) {
            char *name = weir_rule_expand(r, subject, pcre2_get_ovector_pointer(md), rc);
            pcre2_match_data_free(md);
            if (!name[0]) {
                /* An empty name is no name: the next rule may do better. */
                free(name);
                continue;
            }
            *out = name;
            return 0;
        }
        pcre2_match_data_free(md);
    }
    return -1;
}
