/*
 * weir_compat.h: what the schema compatibility checkers share - Confluent's
 * compatibility levels, which pairs each level checks and in which
 * direction, and the list of human-readable incompatibility messages.
 *
 * Confluent (CompatibilityChecker.java, fact sheet A5): BACKWARD means the
 * new schema can read data written with the latest version; FORWARD means
 * the latest version can read data written with the new schema; FULL is
 * both; the _TRANSITIVE forms check every earlier (not soft-deleted)
 * version, newest first, instead of the latest only; NONE checks nothing.
 * Each schema type supplies "can reader read what writer wrote".
 */
#ifndef WEIR_COMPAT_H
#define WEIR_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum weir_compat_level_e {
    WEIR_COMPAT_NONE = 0,
    WEIR_COMPAT_BACKWARD,
    WEIR_COMPAT_BACKWARD_TRANSITIVE,
    WEIR_COMPAT_FORWARD,
    WEIR_COMPAT_FORWARD_TRANSITIVE,
    WEIR_COMPAT_FULL,
    WEIR_COMPAT_FULL_TRANSITIVE,
} weir_compat_level_t;

#define WEIR_COMPAT_DEFAULT WEIR_COMPAT_BACKWARD

/** Parses a level name (upper case, as Confluent); -1 if unknown. */
int weir_compat_level_parse(const char *s);
/** The level's name. */
const char *weir_compat_level_name(weir_compat_level_t level);
/** Whether the level checks new-reads-old / old-reads-new / all versions. */
bool weir_compat_level_backward(weir_compat_level_t level);
bool weir_compat_level_forward(weir_compat_level_t level);
bool weir_compat_level_transitive(weir_compat_level_t level);
/**
 * A strictness rank for policy floors: NONE < BACKWARD = FORWARD < FULL,
 * each _TRANSITIVE form one step above its plain form.  Level a satisfies a
 * floor b when it checks at least the directions and versions b checks.
 */
bool weir_compat_level_satisfies(weir_compat_level_t a, weir_compat_level_t floor);

/** A list of messages (owned strings). */
typedef struct weir_msgs_s {
    char **v;
    size_t n, cap;
} weir_msgs_t;

/** Appends a formatted message (msgs may be NULL: then nothing happens). */
void weir_msgs_add(weir_msgs_t *msgs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Moves every message of src to the end of dst (dst may be NULL: they are freed). */
void weir_msgs_move(weir_msgs_t *dst, weir_msgs_t *src);
void weir_msgs_free(weir_msgs_t *msgs);

/**
 * "Can a reader with schema r read what a writer with schema w wrote"; adds
 * the reasons why not to msgs (may be NULL).  arg is the checker's context.
 */
typedef bool (*weir_compat_can_read_fn)(void *arg, const void *r, const void *w, weir_msgs_t *msgs);

/**
 * Checks a new schema against earlier versions at a level.
 *
 * @param prev   earlier versions' schemas, newest first (soft-deleted ones
 *               already left out)
 * @param prev_labels  optional labels (e.g. "version 3") used to prefix the
 *               messages about each earlier version; may be NULL
 * @returns true if compatible.
 */
bool weir_compat_check(weir_compat_level_t level, const void *new_schema, const void *const *prev,
                       const char *const *prev_labels, size_t nprev,
                       weir_compat_can_read_fn can_read, void *arg, weir_msgs_t *msgs);

#endif
