/*
 * Weir - a governed, Kafka-compatible event broker.
 *
 * weir_common.h: small macros and allocation helpers shared by every module.
 * Allocation of internal objects aborts on out-of-memory (callers never check
 * for NULL); anything sized by a client is checked against a limit before it
 * is allocated.
 */
#ifndef WEIR_COMMON_H
#define WEIR_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.1.0"
#endif

#define WEIR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WEIR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WEIR_MAX(a, b) ((a) > (b) ? (a) : (b))
#define WEIR_UNUSED(x) (void)(x)

#define weir_container_of(ptr, type, member) \
    ((type *)((char *)(ptr)-offsetof(type, member)))

/* Internal result codes: 0 is success, negative is failure.  System and libuv
 * errors are passed through as -errno; Weir's own codes live below -1000 so
 * they never collide with errno values. */
#define WEIR_OK 0
#define WEIR_ERR -1000     /* generic failure, details in an errstr buffer */
#define WEIR_EPARSE -1001  /* malformed input */
#define WEIR_ELIMIT -1002  /* a size limit was exceeded */
#define WEIR_ECORRUPT -1003 /* on-disk data failed validation */
#define WEIR_AGAIN -1004   /* need more bytes / try again later */
#define WEIR_DEFERRED -1005 /* the operation completes later via a callback */

void *weir_malloc(size_t size);
void *weir_calloc(size_t n, size_t size);
void *weir_realloc(void *ptr, size_t size);
char *weir_strdup(const char *s);
char *weir_strndup(const char *s, size_t n);

/* Monotonic clock in milliseconds and microseconds, wall clock in ms. */
int64_t weir_mono_ms(void);
int64_t weir_mono_us(void);
int64_t weir_wall_ms(void);

#endif
