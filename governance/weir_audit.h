/*
 * weir_audit.h: the tamper-evident audit log - row hashing, chain
 * verification, and the rate limiter for denied requests.
 *
 * Each row has an id (1, 2, 3, ... with no gaps), a time, the principal
 * who acted, the action, its target, the outcome and free-form detail.  Its
 * hash is SHA-256(previous row's hash || canonical row content), hex
 * encoded; the first row's previous hash is 64 zeros.  The canonical
 * content is "weir-audit-v1", then the id and time as decimal and each
 * string as its byte length, ':' and its bytes, all separated by '\n', so
 * no two different rows encode alike.  The store keeps the last id and
 * hash as the chain head, so deleting the newest rows is detected too.
 *
 * The rows themselves are written by the store (weir_store_governance.h)
 * from the governance worker, never from the request path: the loop only
 * queues them (weir_authz.h).
 */
#ifndef WEIR_AUDIT_H
#define WEIR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Hex SHA-256 plus the NUL. */
#define WEIR_AUDIT_HASH_HEX 65

/** One audit row (strings NUL-terminated; never NULL when hashed). */
typedef struct weir_audit_row_s {
    int64_t id;
    int64_t ts_ms;          /* wall clock, ms since the epoch */
    const char *principal;  /* who: "User:alice", "broker" */
    const char *action;     /* what: "acl.create", "deny", "tenant.put", ... */
    const char *target;     /* on what: "TOPIC:LITERAL:orders ...", "tenant:teamA" */
    const char *outcome;    /* "ok", "denied", "failed", ... */
    const char *detail;     /* anything else, may be "" */
} weir_audit_row_t;

/** The previous hash of the first row: 64 '0' characters. */
void weir_audit_genesis(char out[WEIR_AUDIT_HASH_HEX]);

/**
 * @brief SHA-256(prev_hex decoded || canonical content of row), hex, into
 *        out (OpenSSL EVP).
 * @returns 0, or -1 if prev_hex is not 64 hex digits or hashing failed.
 */
int weir_audit_hash(const char *prev_hex, const weir_audit_row_t *row,
                    char out[WEIR_AUDIT_HASH_HEX]);

/* ------------------------------------------------------------------ */
/* Verification                                                       */

/** The outcome of checking a whole chain. */
typedef struct weir_audit_verify_s {
    bool ok;
    int64_t rows;          /* rows checked */
    int64_t bad_id;        /* first row found wrong (0: none, or the head) */
    char reason[256];
} weir_audit_verify_t;

/** Walks the rows in id order. */
typedef struct weir_audit_verifier_s {
    char prev[WEIR_AUDIT_HASH_HEX];
    int64_t last_id;
    weir_audit_verify_t res;
} weir_audit_verifier_t;

void weir_audit_verifier_init(weir_audit_verifier_t *v);
/**
 * @brief Checks the next row: its id follows the previous one, its stored
 *        previous hash is the previous row's hash and its stored hash is
 *        the hash of its content.
 * @returns false once the chain is found broken (v->res says where, why).
 */
bool weir_audit_verifier_step(weir_audit_verifier_t *v, const weir_audit_row_t *row,
                              const char *stored_prev, const char *stored_hash);
/** Checks the chain head (last id and hash kept by the store); fills *out. */
bool weir_audit_verifier_finish(weir_audit_verifier_t *v, int64_t head_id, const char *head_hash,
                                weir_audit_verify_t *out);

/* ------------------------------------------------------------------ */
/* Rate limiting of denial records                                    */

/**
 * Denied requests are recorded at most once per interval per (principal,
 * action, target) key, with the number of repeats suppressed since, and at
 * most burst records per second in all (beyond that they are counted and
 * reported in a summary row).
 */
typedef struct weir_audit_limiter_s weir_audit_limiter_t;

weir_audit_limiter_t *weir_audit_limiter_new(int64_t interval_ms, int burst_per_sec);
void weir_audit_limiter_free(weir_audit_limiter_t *l);
/**
 * @brief Whether a denial with this key at now_ms gets a record.
 * @param suppressed set, when admitted, to the repeats of the key
 *        suppressed since its last record.
 */
bool weir_audit_limiter_admit(weir_audit_limiter_t *l, const char *key, size_t keylen,
                              int64_t now_ms, int64_t *suppressed);
/** Denials dropped by the global burst limit since the last call (resets). */
int64_t weir_audit_limiter_take_dropped(weir_audit_limiter_t *l);

#endif
