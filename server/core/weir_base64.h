/*
 * weir_base64.h: standard base64 (RFC 4648 alphabet) over OpenSSL's block
 * coder - HTTP Basic credentials, and binary keys, values and headers in
 * the REST proxy's JSON.
 */
#ifndef WEIR_BASE64_H
#define WEIR_BASE64_H

#include <stddef.h>
#include <stdint.h>

/** Bytes needed to base64-encode n bytes (without the NUL). */
size_t weir_base64_encoded_len(size_t n);

/** Encodes n bytes of src into dst (weir_base64_encoded_len(n) + 1 bytes, NUL-terminated). */
void weir_base64_encode(const uint8_t *src, size_t n, char *dst);

/**
 * @brief Decodes len characters of standard base64 (padding optional;
 *        whitespace refused) into a new buffer (*out, *out_len;
 *        NUL-terminated for convenience, not counted).
 * @returns 0, or -1 if the text is not base64 (nothing allocated).
 */
int weir_base64_decode(const char *src, size_t len, uint8_t **out, size_t *out_len);

#endif
