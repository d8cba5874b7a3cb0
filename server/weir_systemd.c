/*
 * weir_systemd.c: READY=1 / STOPPING=1 / STATUS= notifications to the
 * service manager (sd_notify) for Type=notify units, and the one-line status
 * summary.  See weir_systemd.h.
 */
#include "weir_systemd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef WEIR_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "weir_common.h"
#include "weir_log.h"

bool
weir_systemd_supported(void)
{
#ifdef WEIR_HAVE_SYSTEMD
    return true;
#else
    return false;
#endif
}

int
weir_systemd_notify(const char *state)
{
#ifdef WEIR_HAVE_SYSTEMD
    int rc = sd_notify(0, state);

    if (rc < 0) {
        WEIR_LOG(WEIR_LOG_WARN, "sd_notify_failed", "error=\"%s\"", strerror(-rc));
        return rc;
    }
    if (rc > 0)
        WEIR_LOG(WEIR_LOG_DEBUG, "sd_notify", "state_len=%zu", strlen(state));
    return rc > 0 ? 1 : 0;
#else
    WEIR_UNUSED(state);
    return 0;
#endif
}

/* Appends to buf at *len, keeping it NUL-terminated and never past size. */
static void __attribute__((format(printf, 4, 5)))
weir_systemd_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len + 1 >= size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *len = WEIR_MIN(*len + (size_t)n, size - 1);
}

void
weir_systemd_status_line(char *buf, size_t size, const weir_listener_t *listeners,
                         size_t nlisteners, size_t ntopics)
{
    size_t len = 0;

    if (size == 0)
        return;
    buf[0] = '\0';
    weir_systemd_append(buf, size, &len, "serving");
    for (size_t i = 0; i < nlisteners; i++) {
        const weir_listener_t *l = &listeners[i];
        const char *host = l->host && l->host[0] ? l->host : "*";
        bool v6 = strchr(host, ':') != NULL;

        weir_systemd_append(buf, size, &len, "%s %s://%s%s%s:%d", i ? "," : "", l->name,
                            v6 ? "[" : "", host, v6 ? "]" : "", l->port);
    }
    if (nlisteners == 0)
        weir_systemd_append(buf, size, &len, " no listeners");
    weir_systemd_append(buf, size, &len, "; %zu topic%s", ntopics, ntopics == 1 ? "" : "s");
}

int
weir_systemd_ready(const weir_broker_t *brk)
{
    char status[512], state[600];

    weir_systemd_status_line(status, sizeof(status), brk->listeners, brk->nlisteners, brk->ntopics);
    snprintf(state, sizeof(state), "READY=1\nSTATUS=%s", status);
    return weir_systemd_notify(state);
}

int
weir_systemd_stopping(void)
{
    return weir_systemd_notify("STOPPING=1\nSTATUS=stopping: closing connections, flushing logs");
}

int
weir_systemd_start_failed(const char *errstr)
{
    char state[1200];

    /* One line: the status is shown as is by systemctl status. */
    snprintf(state, sizeof(state), "STATUS=failed to start: %.1100s", errstr);
    for (char *p = state; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return weir_systemd_notify(state);
}
