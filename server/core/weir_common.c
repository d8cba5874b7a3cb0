/*
 * weir_common.c: allocation wrappers that abort on out-of-memory, clocks.
 */
#include "weir_common.h"

#include <stdio.h>
#include <time.h>

static void
weir_oom(size_t size)
{
    fprintf(stderr, "level=fatal event=out_of_memory size=%zu\n", size);
    abort();
}

void *
weir_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        weir_oom(size);
    return p;
}

void *
weir_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        weir_oom(n * size);
    return p;
}

void *
weir_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        weir_oom(size);
    return p;
}

char *
weir_strdup(const char *s)
{
    return weir_strndup(s, strlen(s));
}

char *
weir_strndup(const char *s, size_t n)
{
    char *p = weir_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int64_t
weir_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
weir_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
weir_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
