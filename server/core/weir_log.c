/*
 * weir_log.c: the log line writer.  One fprintf per line so concurrent
 * writers (worker threads) never interleave within a line.
 */
#include "weir_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

weir_log_level_t weir_log_level = WEIR_LOG_INFO;

static const char *const weir_log_names[] = {"error", "warn", "info", "debug"};

void
weir_log_write(weir_log_level_t level, const char *event, const char *fmt, ...)
{
    char msg[2048], ts[32];
    struct timeval tv;
    struct tm tm;
    va_list ap;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "ts=%s.%03dZ level=%s event=%s%s%s\n", ts, (int)(tv.tv_usec / 1000),
            weir_log_names[level], event, msg[0] ? " " : "", msg);
}

int
weir_log_level_parse(const char *s)
{
    for (size_t i = 0; i < sizeof(weir_log_names) / sizeof(weir_log_names[0]); i++)
        if (strcmp(s, weir_log_names[i]) == 0)
            return (int)i;
    return -1;
}
