/*
 * weir_principal_map.h: Kafka's ssl.principal.mapping.rules - from a client
 * certificate's subject (RFC 2253 form, "CN=alice,OU=eng,O=Campus") to a
 * user name.
 *
 * Rules are tried in order; the first that applies gives the name:
 *   DEFAULT                       the whole subject, unchanged
 *   RULE:pattern/replacement/     if pattern (a PCRE2 regular expression,
 *   RULE:pattern/replacement/L    close to Java's) matches the whole subject,
 *   RULE:pattern/replacement/U    the replacement with $0..$9 substituted,
 *                                 optionally lower- or upper-cased
 * Rules are separated by commas; '/' and '\' inside a pattern or replacement
 * are escaped with '\'.  Unlike Java's String.replaceAll, the replacement is
 * applied once to the one whole-subject match, and a rule giving an empty
 * name does not apply.  No applicable rule: the connection is refused, as
 * in Kafka.
 */
#ifndef WEIR_PRINCIPAL_MAP_H
#define WEIR_PRINCIPAL_MAP_H

#include <stddef.h>

typedef struct weir_principal_map_s weir_principal_map_t;

/**
 * @brief Parses a rule list (an empty or blank spec means DEFAULT).
 * @returns 0 and *out, or -1 with the reason in errstr.
 */
int weir_principal_map_parse(const char *spec, weir_principal_map_t **out, char *errstr,
                             size_t errstr_size);

/**
 * @brief Maps a certificate subject to a user name.
 * @returns 0 with a malloc'ed name in *out, or -1 when no rule applies.
 */
int weir_principal_map_apply(const weir_principal_map_t *map, const char *subject, char **out);

void weir_principal_map_free(weir_principal_map_t *map);

#endif
