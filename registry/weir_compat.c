/*
 * weir_compat.c: Confluent's compatibility levels and the driver that
 * applies a schema type's reader/writer check in each level's directions
 * over the latest or all earlier versions; the message list.
 */
#include "weir_compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weir_common.h"

static const char *const weir_compat_names[] = {
    [WEIR_COMPAT_NONE] = "NONE",
    [WEIR_COMPAT_BACKWARD] = "BACKWARD",
    [WEIR_COMPAT_BACKWARD_TRANSITIVE] = "BACKWARD_TRANSITIVE",
    [WEIR_COMPAT_FORWARD] = "FORWARD",
    [WEIR_COMPAT_FORWARD_TRANSITIVE] = "FORWARD_TRANSITIVE",
    [WEIR_COMPAT_FULL] = "FULL",
    [WEIR_COMPAT_FULL_TRANSITIVE] = "FULL_TRANSITIVE",
};

int
weir_compat_level_parse(const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(weir_compat_names); i++)
        if (strcmp(s, weir_compat_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *
weir_compat_level_name(weir_compat_level_t level)
{
    if ((size_t)level < WEIR_ARRAY_SIZE(weir_compat_names))
        return weir_compat_names[level];
    return "?";
}

bool
weir_compat_level_backward(weir_compat_level_t level)
{
    return level == WEIR_COMPAT_BACKWARD || level == WEIR_COMPAT_BACKWARD_TRANSITIVE ||
           level == WEIR_COMPAT_FULL || level == WEIR_COMPAT_FULL_TRANSITIVE;
}

bool
weir_compat_level_forward(weir_compat_level_t level)
{
    return level == WEIR_COMPAT_FORWARD || level == WEIR_COMPAT_FORWARD_TRANSITIVE ||
           level == WEIR_COMPAT_FULL || level == WEIR_COMPAT_FULL_TRANSITIVE;
}

bool
weir_compat_level_transitive(weir_compat_level_t level)
{
    return level == WEIR_COMPAT_BACKWARD_TRANSITIVE || level == WEIR_COMPAT_FORWARD_TRANSITIVE ||
           level == WEIR_COMPAT_FULL_TRANSITIVE;
}

bool
weir_compat_level_satisfies(weir_compat_level_t a, weir_compat_level_t floor)
{
    if (weir_compat_level_backward(floor) && !weir_compat_level_backward(a))
        return false;
    if (weir_compat_level_forward(floor) && !weir_compat_level_forward(a))
        return false;
    if (weir_compat_level_transitive(floor) && !weir_compat_level_transitive(a))
        return false;
    return true;
}

void
weir_msgs_add(weir_msgs_t *msgs, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    if (!msgs)
        return;
    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if (msgs->n == msgs->cap) {
        msgs->cap = msgs->cap ? msgs->cap * 2 : 4;
        msgs->v = weir_realloc(msgs->v, msgs->cap * sizeof(*msgs->v));
    }
    msgs->v[msgs->n++] = s;
}

void
weir_msgs_move(weir_msgs_t *dst, weir_msgs_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        if (!dst) {
            free(src->v[i]);
            continue;
        }
        if (dst->n == dst->cap) {
            dst->cap = dst->cap ? dst->cap * 2 : 4;
            dst->v = weir_realloc(dst->v, dst->cap * sizeof(*dst->v));
        }
        dst->v[dst->n++] = src->v[i];
    }
    src->n = 0;
}

void
weir_msgs_free(weir_msgs_t *msgs)
{
    if (!msgs)
        return;
    for (size_t i = 0; i < msgs->n; i++)
        free(msgs->v[i]);
    free(msgs->v);
    msgs->v = NULL;
    msgs->n = msgs->cap = 0;
}

bool
weir_compat_check(weir_compat_level_t level, const void *new_schema, const void *const *prev,
                  const char *const *prev_labels, size_t nprev, weir_compat_can_read_fn can_read,
                  void *arg, weir_msgs_t *msgs)
{
    size_t n = weir_compat_level_transitive(level) ? nprev : WEIR_MIN(nprev, (size_t)1);
    bool ok = true;

    if (level == WEIR_COMPAT_NONE)
        return true;
    for (size_t i = 0; i < n; i++) {
        const char *label = prev_labels ? prev_labels[i] : NULL;
        weir_msgs_t m = {0};
        bool pair_ok = true;

        if (weir_compat_level_backward(level) && !can_read(arg, new_schema, prev[i], &m)) {
            pair_ok = false;
            weir_msgs_add(&m, "the new schema cannot read data written with %s",
                          label ? label : "an earlier schema");
        }
        if (weir_compat_level_forward(level) && !can_read(arg, prev[i], new_schema, &m)) {
            pair_ok = false;
            weir_msgs_add(&m, "%s cannot read data written with the new schema",
                          label ? label : "an earlier schema");
        }
        if (!pair_ok)
            ok = false;
        weir_msgs_move(msgs, &m);
        weir_msgs_free(&m);
    }
    return ok;
}
