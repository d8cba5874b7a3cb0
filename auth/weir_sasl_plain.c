/*
 * weir_sasl_plain.c: decoding the SASL PLAIN message.
 */
#include "weir_sasl_plain.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "weir_common.h"

/* Strict UTF-8 (no overlongs, no surrogates) without control characters. */
static bool
weir_utf8_name_ok(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        uint32_t cp;
        size_t n;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= len) /* truncated sequence */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
            return false;
        i += n + 1;
    }
    return true;
}

int
weir_sasl_plain_parse(const void *data, size_t len, weir_sasl_plain_t *out, char *errstr,
                      size_t errstr_size)
{
    const char *p = data, *nul1, *nul2, *authzid, *user, *pass;
    size_t zlen, ulen, plen;

    memset(out, 0, sizeof(*out));
    nul1 = len ? memchr(p, '\0', len) : NULL;
    nul2 = nul1 ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - p)) : NULL;
    if (!nul1 || !nul2 || memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - p))) {
        snprintf(errstr, errstr_size, "Invalid SASL/PLAIN response: expected 3 tokens");
        return -1;
    }
    authzid = p;
    zlen = (size_t)(nul1 - p);
    user = nul1 + 1;
    ulen = (size_t)(nul2 - user);
    pass = nul2 + 1;
    plen = len - (size_t)(pass - p);
    if (ulen == 0) {
        snprintf(errstr, errstr_size, "Authentication failed: username not specified");
        return -1;
    }
    if (plen == 0) {
        snprintf(errstr, errstr_size, "Authentication failed: password not specified");
        return -1;
    }
    if (ulen > WEIR_SASL_PLAIN_MAX_USER || !weir_utf8_name_ok((const unsigned char *)user, ulen)) {
        snprintf(errstr, errstr_size, "Authentication failed: invalid username");
        return -1;
    }
    if (plen > WEIR_SASL_PLAIN_MAX_PASSWORD) {
        snprintf(errstr, errstr_size, "Authentication failed: password too long");
        return -1;
    }
    if (zlen > 0 && (zlen != ulen || memcmp(authzid, user, ulen) != 0)) {
        snprintf(errstr, errstr_size, "Authentication failed: Client requested an "
                 "authorization id that is different from username");
        return -1;
    }
    out->user = weir_strndup(user, ulen);
    out->password = weir_malloc(plen + 1);
    memcpy(out->password, pass, plen);
    out->password[plen] = '\0';
    out->password_len = plen;
    return 0;
}

void
weir_sasl_plain_clear(weir_sasl_plain_t *m)
{
    if (m->password) {
        OPENSSL_cleanse(m->password, m->password_len + 1);
        free(m->password);
    }
    free(m->user);
    memset(m, 0, sizeof(*m));
}
