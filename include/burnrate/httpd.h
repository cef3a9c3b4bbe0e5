/*
 * The small HTTP listener behind /metrics, /healthz and /readyz
 * (libmicrohttpd without threads of its own): the daemon calls
 * br_httpd_run() from its loop, so handlers read its state on its thread
 * without locks, and an answer waits at most one loop turn (100 ms, or
 * longer while the loop blocks: a snapshot flush, a rebalance).
 *
 * @locality one thread: the daemon's.
 */
#ifndef BURNRATE_HTTPD_H
#define BURNRATE_HTTPD_H

#include <stddef.h>

#include "burnrate/buf.h"
#include "burnrate/err.h"

/**
 * Answers GET (and HEAD) of path: fills body, sets *content_type (static
 * text; "text/plain; charset=utf-8" when left NULL).
 * @returns the HTTP status.
 */
typedef int (*br_httpd_handler_fn)(void *opaque, const char *path,
                                   br_buf_t *body, const char **content_type);

typedef struct br_httpd br_httpd_t;

/**
 * @brief Bind host:port (port 0: a free one, see br_httpd_port()) and
 *        listen. Methods other than GET and HEAD get 405.
 * @returns a new listener the caller stops, or NULL with errstr set
 *          (BR_ERR_IO: the address could not be bound).
 */
br_httpd_t *br_httpd_start(const char *host, int port,
                           br_httpd_handler_fn handler, void *opaque,
                           char *errstr, size_t errstr_size);

/** @brief Serve what is pending (accept, read, answer); never blocks
 *         but in the handler. */
void br_httpd_run(br_httpd_t *h);

/** @returns the bound port. */
int br_httpd_port(const br_httpd_t *h);

/** @brief Close the listener and its connections; NULL is a no-op. */
void br_httpd_stop(br_httpd_t *h);

#endif
