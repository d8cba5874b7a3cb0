/*
 * main.c: the weir command line - load the configuration, start the broker
 * on a libuv loop, stop it cleanly on SIGTERM/SIGINT, reload TLS
 * certificates on SIGHUP.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "weir_broker.h"
#include "weir_common.h"
#include "weir_conf.h"
#include "weir_crc32c.h"
#include "weir_log.h"
#include "weir_systemd.h"
#include "weir_topic_config.h"

static void
weir_usage(FILE *out)
{
    fprintf(out,
            "Usage: weir [-c FILE]\n"
            "\n"
            "Weir, a governed Kafka-compatible event broker.\n"
            "\n"
            "  -c, --config FILE   read broker settings from a Kafka-style .properties file\n"
            "                      (without it: the embedded defaults, PLAINTEXT on\n"
            "                      127.0.0.1:9092, HTTP (/metrics) on 127.0.0.1:8081,\n"
            "                      data under ./var/data)\n"
            "      --help-config   list every configuration key with its default and meaning\n"
            "      --config-markdown  the same as a Markdown table (docs/CONFIGURATION.md)\n"
            "  -V, --version       print the version\n"
            "  -h, --help          this help\n");
}

typedef struct weir_main_s {
    weir_broker_t brk;
    uv_signal_t sig_term, sig_int, sig_hup;
} weir_main_t;

/* SIGHUP: new certificates and keys for new TLS connections. */
static void
weir_on_sighup(uv_signal_t *sig, int signum)
{
    weir_main_t *m = sig->data;

    WEIR_UNUSED(signum);
    WEIR_LOG(WEIR_LOG_INFO, "signal", "signal=SIGHUP");
    weir_broker_reload(&m->brk);
}

/* The broker has stopped: the signal handles go too, so the loop ends. */
static void
weir_on_stopped(void *arg)
{
    weir_main_t *m = arg;

    uv_close((uv_handle_t *)&m->sig_term, NULL);
    uv_close((uv_handle_t *)&m->sig_int, NULL);
    uv_close((uv_handle_t *)&m->sig_hup, NULL);
}

/* SIGTERM/SIGINT: drain (requests in progress finish, bounded by
 * weir.shutdown.timeout.ms), then stop; a second signal stops at once. */
static void
weir_on_signal(uv_signal_t *sig, int signum)
{
    weir_main_t *m = sig->data;

    WEIR_LOG(WEIR_LOG_INFO, "signal", "signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    weir_systemd_stopping();
    weir_broker_shutdown(&m->brk, weir_on_stopped, m);
}

int
main(int argc, char **argv)
{
    const char *config_path = NULL;
    char errstr[1024], threads[16];
    weir_conf_t conf;
    weir_main_t m;
    uv_loop_t loop;
    int lvl;

    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
            printf("weir %s\n", WEIR_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            weir_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--help-config")) {
            weir_conf_print_help(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--config-markdown")) {
            weir_conf_print_markdown(stdout);
            fputc('\n', stdout);
            weir_topic_config_print_markdown(stdout);
            return 0;
        } else {
            fprintf(stderr, "weir: unknown argument '%s'\n", argv[i]);
            weir_usage(stderr);
            return 2;
        }
    }

    weir_conf_defaults(&conf);
    /* Started without a file (make run): /metrics on the loopback too. */
    if (!config_path)
        (void)weir_conf_set(&conf, "http.listeners", "http://127.0.0.1:8081", NULL, 0);
    if (config_path && weir_conf_load(&conf, config_path, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "weir: %s\n", errstr);
        weir_conf_free(&conf);
        return 2;
    }
    if (!config_path && weir_conf_check(&conf, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "weir: %s\n", errstr);
        weir_conf_free(&conf);
        return 2;
    }
    lvl = weir_log_level_parse(conf.log_level);
    if (lvl >= 0)
        weir_log_level = (weir_log_level_t)lvl;
    /* The worker pool size must be set before libuv first uses it. */
    snprintf(threads, sizeof(threads), "%d", conf.num_io_threads);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    signal(SIGPIPE, SIG_IGN);

    {
        const weir_crc32c_impl_t *crc;
        size_t ncrc = weir_crc32c_impls(&crc);

        WEIR_LOG(WEIR_LOG_INFO, "starting", "version=%s config=%s node_id=%d crc32c=%s",
                 WEIR_VERSION, config_path ? config_path : "(embedded defaults)", conf.node_id,
                 crc[ncrc - 1].name);
    }
    uv_loop_init(&loop);
    if (weir_broker_init(&m.brk, &loop, &conf, errstr, sizeof(errstr)) != 0 ||
        weir_broker_start(&m.brk, errstr, sizeof(errstr)) != 0) {
        WEIR_LOG(WEIR_LOG_ERROR, "start_failed", "error=\"%s\"", errstr);
        weir_systemd_start_failed(errstr);
        weir_broker_stop(&m.brk);
        uv_run(&loop, UV_RUN_DEFAULT);
        weir_broker_free(&m.brk);
        uv_loop_close(&loop);
        weir_conf_free(&conf);
        return 1;
    }
    m.brk.config_path = config_path; /* re-read on SIGHUP (weir.log.level) */
    uv_signal_init(&loop, &m.sig_term);
    uv_signal_init(&loop, &m.sig_int);
    uv_signal_init(&loop, &m.sig_hup);
    m.sig_term.data = m.sig_int.data = m.sig_hup.data = &m;
    uv_signal_start(&m.sig_term, weir_on_signal, SIGTERM);
    uv_signal_start(&m.sig_int, weir_on_signal, SIGINT);
    uv_signal_start(&m.sig_hup, weir_on_sighup, SIGHUP);
    WEIR_LOG(WEIR_LOG_INFO, "ready", "listeners=%zu topics=%zu", m.brk.nlisteners,
             m.brk.ntopics);
    weir_systemd_ready(&m.brk);

    uv_run(&loop, UV_RUN_DEFAULT);

    weir_broker_free(&m.brk);
    if (uv_loop_close(&loop) != 0)
        WEIR_LOG(WEIR_LOG_WARN, "loop_not_empty", "note=\"handles left open at exit\"");
    weir_conf_free(&conf);
    WEIR_LOG(WEIR_LOG_INFO, "exit", "status=0");
    return 0;
}
