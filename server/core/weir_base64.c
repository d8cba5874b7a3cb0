/*
 * weir_base64.c: base64 through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock,
 * with the two things those leave to the caller: padding that a sender may
 * omit, and the padding bytes that EVP_DecodeBlock counts as output.
 */
#include "weir_base64.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "weir_common.h"

size_t
weir_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void
weir_base64_encode(const uint8_t *src, size_t n, char *dst)
{
    /* EVP_EncodeBlock takes an int length: encode in chunks of whole
     * 3-byte groups so no chunk needs padding but the last. */
    const size_t chunk = (size_t)3 << 28;

    while (n > chunk) {
        dst += EVP_EncodeBlock((unsigned char *)dst, src, (int)chunk);
        src += chunk;
        n -= chunk;
    }
    EVP_EncodeBlock((unsigned char *)dst, src, (int)n);
}

static int
weir_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

int
weir_base64_decode(const char *src, size_t len, uint8_t **out, size_t *out_len)
{
    size_t pad = 0, full, rem;
    char *padded;
    uint8_t *buf;
    int n;

    while (len > 0 && src[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    rem = len % 4;
    if ((pad && (len + pad) % 4 != 0) || rem == 1 || len > (size_t)1 << 30)
        return -1;
    /* EVP_DecodeBlock skips leading and trailing whitespace; refuse it. */
    if (len > 0 && (!weir_base64_char(src[0]) || !weir_base64_char(src[len - 1])))
        return -1;
    pad = rem ? 4 - rem : 0;
    full = len + pad;
    padded = weir_malloc(full + 1);
    memcpy(padded, src, len);
    memset(padded + len, '=', pad);
    buf = weir_malloc(full / 4 * 3 + 1);
    n = full ? EVP_DecodeBlock(buf, (const unsigned char *)padded, (int)full) : 0;
    /* the text may be credentials (HTTP Basic): leave no copy behind */
    OPENSSL_cleanse(padded, full);
    free(padded);
    if (n < 0) {
        OPENSSL_cleanse(buf, full / 4 * 3);
        free(buf);
        return -1;
    }
    *out_len = (size_t)n - pad; /* EVP_DecodeBlock counts padding as zero bytes */
    buf[*out_len] = 0;
    *out = buf;
    return 0;
}
