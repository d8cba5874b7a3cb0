/*
 * weir_sasl_plain.h: the SASL PLAIN mechanism's one message (RFC 4616):
 * [authzid] NUL authcid NUL passwd.
 */
#ifndef WEIR_SASL_PLAIN_H
#define WEIR_SASL_PLAIN_H

#include <stddef.h>

#define WEIR_SASL_PLAIN_MAX_USER 255
#define WEIR_SASL_PLAIN_MAX_PASSWORD 1024

/** The decoded message.  password is wiped by weir_sasl_plain_clear(). */
typedef struct weir_sasl_plain_s {
    char *user;       /* authcid, NUL-terminated */
    char *password;   /* NUL-terminated */
    size_t password_len;
} weir_sasl_plain_t;

/**
 * @brief Decodes a PLAIN message as Kafka's PlainSaslServer does: exactly
 *        three fields separated by NUL, a non-empty user name and password,
 *        and an authorization id that is either empty or the user name.
 *        The user name must be valid UTF-8 without control characters.
 *
 * @returns 0, or -1 with a message for the client in errstr (never
 *          containing the password).
 */
int weir_sasl_plain_parse(const void *data, size_t len, weir_sasl_plain_t *out, char *errstr,
                          size_t errstr_size);

/** Wipes the password and frees both fields. */
void weir_sasl_plain_clear(weir_sasl_plain_t *m);

#endif
