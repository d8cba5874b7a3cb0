/*
 * weir_log.h: one line per event, key=value fields, to stderr (journald).
 *
 *   WEIR_LOG(WEIR_LOG_INFO, "listening", "listener=%s addr=%s", name, addr);
 *
 * prints
 *
 *   ts=2026-11-26T13:33:39.123Z level=info event=listening listener=... addr=...
 *
 * The level is checked before the arguments are evaluated.  Never pass a
 * secret (password, key material, SASL bytes) to a log call.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stdbool.h>

typedef enum weir_log_level_e {
    WEIR_LOG_ERROR = 0,
    WEIR_LOG_WARN,
    WEIR_LOG_INFO,
    WEIR_LOG_DEBUG,
} weir_log_level_t;

extern weir_log_level_t weir_log_level;

void weir_log_write(weir_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int weir_log_level_parse(const char *s);

#define WEIR_LOG(level, event, ...)                         \
    do {                                                    \
        if ((level) <= weir_log_level)                      \
            weir_log_write((level), (event), __VA_ARGS__);  \
    } while (0)

#endif
