/*
 * weir_systemd.h: notifications to the service manager for a Type=notify unit
 * (packaging/systemd/weir.service), through libsystemd's sd_notify():
 * READY=1 once the logs are recovered and the listeners bound, STOPPING=1
 * when a shutdown begins, and a one-line STATUS= summary with each.
 *
 * Nothing is sent when the process was not started by a service manager
 * (NOTIFY_SOCKET unset), nor when weir was built without libsystemd
 * (CMake's WEIR_SYSTEMD=OFF, or AUTO without libsystemd found; the RPM
 * requires it).  Called on the loop thread only.
 */
#ifndef WEIR_SYSTEMD_H
#define WEIR_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>

#include "weir_broker.h"

/* True when weir was built with sd_notify support (libsystemd). */
bool weir_systemd_supported(void);

/* Sends newline-separated assignments ("READY=1\nSTATUS=...") to the service
 * manager.  Returns 1 when sent, 0 when there is no one to tell (no
 * NOTIFY_SOCKET, or built without libsystemd), -errno when sending failed
 * (also logged as event=sd_notify_failed). */
int weir_systemd_notify(const char *state);

/* Formats the STATUS= summary of a running broker into buf (always
 * NUL-terminated, cut at size - 1), e.g.
 *   "serving SASL_SSL://0.0.0.0:9093, SSL://[::1]:9094; 3 topics"
 * An empty bind host (all interfaces) shows as "*". */
void weir_systemd_status_line(char *buf, size_t size, const weir_listener_t *listeners,
                              size_t nlisteners, size_t ntopics);

/* READY=1 with the summary of brk: call once the broker has started. */
int weir_systemd_ready(const weir_broker_t *brk);
/* STOPPING=1: call when a shutdown begins (SIGTERM, SIGINT). */
int weir_systemd_stopping(void);
/* STATUS= with the reason start-up failed (errstr never holds secrets). */
int weir_systemd_start_failed(const char *errstr);

#endif
