/*
 * Signal state: SIGINT/SIGTERM ask to stop, SIGHUP asks to reload, SIGPIPE
 * is ignored. The handlers set flags and nothing else (but for the second
 * stop signal, which exits at once).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "burnrate/log.h"
#include "burnrate/signals.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;  /* SIGHUP: re-read the config */

static void on_signal(int sig) {
    /* One parseable line in the log's format (no timestamp: nothing but
     * write() here). */
    static const char logfmt[] =
        "level=error msg=\"second signal during shutdown, exiting now\"\n";
    static const char json[] =
        "{\"level\":\"error\",\"msg\":\"second signal during shutdown, "
        "exiting now\"}\n";
    (void)sig;
    if (stop_requested) {
        bool j = br_log_get_format() == BR_LOG_FORMAT_JSON;
        ssize_t rc = write(STDERR_FILENO, j ? json : logfmt,
                           j ? sizeof json - 1 : sizeof logfmt - 1);
        (void)rc;
        _exit(130);
    }
    stop_requested = 1;
}

static void handle(int sig, void (*handler)(int)) {
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = handler;
    sigaction(sig, &sa, NULL);
}

void br_signals_install(void) {
    handle(SIGINT, on_signal);
    handle(SIGTERM, on_signal);
    handle(SIGPIPE, SIG_IGN);
}

static void on_hup(int sig) {
    (void)sig;
    reload_requested = 1;
}

void br_signals_install_reload(void) {
    handle(SIGHUP, on_hup);
}

bool br_signals_stop_requested(void) {
    return stop_requested != 0;
}

bool br_signals_take_reload(void) {
    if (!reload_requested)
        return false;
    reload_requested = 0;
    return true;
}
