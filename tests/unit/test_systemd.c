/*
 * test_systemd.c: unit tests of server/weir_systemd.c - the STATUS= summary
 * line, and the READY=1 / STOPPING=1 / STATUS= datagrams as a service manager
 * receives them on its NOTIFY_SOCKET (a real AF_UNIX datagram socket here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "weir_common.h"
#include "weir_systemd.h"

static weir_listener_t
listener(const char *name, const char *host, int port)
{
    weir_listener_t l;

    memset(&l, 0, sizeof(l));
    l.name = (char *)name;
    l.host = (char *)host;
    l.port = port;
    l.fd = -1;
    return l;
}

static void
test_status_line(void **state)
{
    weir_listener_t ls[3];
    char buf[256];

    (void)state;
    ls[0] = listener("SASL_SSL", "0.0.0.0", 9093);
    ls[1] = listener("SSL", "::1", 9094);
    ls[2] = listener("INTERNAL", "", 9095);

    weir_systemd_status_line(buf, sizeof(buf), ls, 1, 3);
    assert_string_equal(buf, "serving SASL_SSL://0.0.0.0:9093; 3 topics");
    weir_systemd_status_line(buf, sizeof(buf), ls, 3, 1);
    assert_string_equal(buf, "serving SASL_SSL://0.0.0.0:9093, SSL://[::1]:9094, "
                             "INTERNAL://*:9095; 1 topic");
    weir_systemd_status_line(buf, sizeof(buf), ls, 0, 0);
    assert_string_equal(buf, "serving no listeners; 0 topics");
}

static void
test_status_line_cut(void **state)
{
    weir_listener_t ls[2];
    char full[256], buf[64];

    (void)state;
    ls[0] = listener("SASL_SSL", "broker-one.campus.example.edu", 9093);
    ls[1] = listener("SSL", "broker-one.campus.example.edu", 9094);
    weir_systemd_status_line(full, sizeof(full), ls, 2, 12);
    /* Every size: a NUL-terminated prefix of the full line, never past the
     * buffer (ASan would catch an overrun of the 64-byte array). */
    for (size_t size = 1; size <= sizeof(buf); size++) {
        memset(buf, 'x', sizeof(buf));
        weir_systemd_status_line(buf, size, ls, 2, 12);
        assert_int_equal(strlen(buf), WEIR_MIN(size - 1, strlen(full)));
        assert_memory_equal(buf, full, strlen(buf));
    }
    buf[0] = 'x';
    weir_systemd_status_line(buf, 0, ls, 2, 12); /* size 0: nothing written */
    assert_int_equal(buf[0], 'x');
}

/* A service manager's notification socket in a temp dir. */
typedef struct notify_sock_s {
    char dir[64];
    char path[108];
    int fd;
} notify_sock_t;

static void
notify_sock_open(notify_sock_t *ns)
{
    struct sockaddr_un sa;

    snprintf(ns->dir, sizeof(ns->dir), "/tmp/weir-sdnotify-XXXXXX");
    assert_non_null(mkdtemp(ns->dir));
    snprintf(ns->path, sizeof(ns->path), "%s/notify", ns->dir);
    ns->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(ns->fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ns->path);
    assert_int_equal(bind(ns->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", ns->path, 1), 0);
}

static void
notify_sock_close(notify_sock_t *ns)
{
    unsetenv("NOTIFY_SOCKET");
    close(ns->fd);
    unlink(ns->path);
    rmdir(ns->dir);
}

/* The next datagram, as a string; fails if none arrives within 2 s. */
static void
notify_sock_recv(notify_sock_t *ns, char *buf, size_t size)
{
    struct pollfd pfd = {.fd = ns->fd, .events = POLLIN};
    ssize_t n;

    assert_int_equal(poll(&pfd, 1, 2000), 1);
    n = recv(ns->fd, buf, size - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
}

static void
test_notify(void **state)
{
    weir_listener_t ls[2];
    weir_broker_t brk;
    notify_sock_t ns;
    char got[2048];

    (void)state;
    if (!weir_systemd_supported())
        skip();
    memset(&brk, 0, sizeof(brk));
    ls[0] = listener("SASL_SSL", "0.0.0.0", 9093);
    ls[1] = listener("SSL", "127.0.0.1", 9094);
    brk.listeners = ls;
    brk.nlisteners = 2;
    brk.ntopics = 7;

    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(weir_systemd_ready(&brk), 0); /* no service manager: nothing sent */

    notify_sock_open(&ns);
    assert_int_equal(weir_systemd_ready(&brk), 1);
    notify_sock_recv(&ns, got, sizeof(got));
    assert_string_equal(got, "READY=1\nSTATUS=serving SASL_SSL://0.0.0.0:9093, "
                             "SSL://127.0.0.1:9094; 7 topics");

    assert_int_equal(weir_systemd_stopping(), 1);
    notify_sock_recv(&ns, got, sizeof(got));
    assert_string_equal(got, "STOPPING=1\nSTATUS=stopping: closing connections, flushing logs");

    /* A multi-line error becomes one status line. */
    assert_int_equal(weir_systemd_start_failed("cannot lock /var/lib/weir/.lock:\nbusy"), 1);
    notify_sock_recv(&ns, got, sizeof(got));
    assert_string_equal(got, "STATUS=failed to start: cannot lock /var/lib/weir/.lock: busy");
    notify_sock_close(&ns);

    /* A socket that is gone: the error is returned (and logged), not hidden. */
    assert_int_equal(setenv("NOTIFY_SOCKET", ns.path, 1), 0);
    assert_true(weir_systemd_notify("READY=1") < 0);
    unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_line),
        cmocka_unit_test(test_status_line_cut),
        cmocka_unit_test(test_notify),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
