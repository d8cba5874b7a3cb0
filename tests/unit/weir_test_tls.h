/*
 * weir_test_tls.h: test certificates made with the OpenSSL API for the TLS
 * unit tests (header-only static functions: each test is its own
 * executable).  Include after <cmocka.h>.
 */
#ifndef WEIR_TEST_TLS_H
#define WEIR_TEST_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "weir_test_tmp.h"

/* A certificate for key with the subject's RDNs ({type, value} in order),
 * valid from an hour ago for a day, signed by issuer_key (self-signed
 * without an issuer); a CA (critical basic constraints) or a leaf with
 * subjectAltName DNS:localhost. */
static inline X509 *
weir_test_cert(EVP_PKEY *key, const char *subject_rdns[][2], size_t nrdn, X509 *issuer,
               EVP_PKEY *issuer_key, bool ca, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    for (size_t i = 0; i < nrdn; i++)
        X509_NAME_add_entry_by_txt(name, subject_rdns[i][0], MBSTRING_UTF8,
                                   (const unsigned char *)subject_rdns[i][1], -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    ext =
        X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ca) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return x;
}

#endif
