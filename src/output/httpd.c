/*
 * libmicrohttpd in external-select mode, driven from the daemon's loop:
 * no thread, no lock, one reused buffer per answer.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "burnrate/httpd.h"
#include "burnrate/log.h"

#define HTTP_CONN_LIMIT 32       /* scrapers and probes at once */
#define HTTP_CONN_TIMEOUT_S 10   /* an idle connection is closed after */

struct br_httpd {
    struct MHD_Daemon *mhd;      /* owned */
    br_httpd_handler_fn handler;
    void *opaque;
    br_buf_t body;               /* the answer being built, reused */
    int port;
};

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    char text[512], qbuf[600];
    size_t n;

    (void)cls;
    vsnprintf(text, sizeof text, fmt, ap);
    n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    br_log(BR_LOG_WARN, "http", "text=%s", br_log_quote(qbuf, sizeof qbuf, text));
}

static enum MHD_Result answer(struct MHD_Connection *conn, int status,
                              const char *ctype, const void *data, size_t len,
                              const char *allow) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)data,
                                        MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls) {
    static const char not_allowed[] = "only GET and HEAD\n";
    br_httpd_t *h = cls;
    const char *ctype = NULL;
    int status;

    (void)version;
    (void)upload;
    if (!*req_cls) {
        /* First call: headers only. Answer on the second. */
        *req_cls = h;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* a body is read and ignored: answered below */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                      not_allowed, sizeof not_allowed - 1, "GET, HEAD");
    br_buf_reset(&h->body);
    status = h->handler(h->opaque, url, &h->body, &ctype);
    if (h->body.oom) {
        static const char oom[] = "out of memory\n";
        return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      "text/plain; charset=utf-8", oom, sizeof oom - 1, NULL);
    }
    return answer(conn, status, ctype ? ctype : "text/plain; charset=utf-8",
                  h->body.data ? h->body.data : "", h->body.len, NULL);
}

br_httpd_t *br_httpd_start(const char *host, int port,
                           br_httpd_handler_fn handler, void *opaque,
                           char *errstr, size_t errstr_size) {
    struct addrinfo hints, *ai = NULL;
    char portstr[16];
    br_httpd_t *h;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    if ((rc = getaddrinfo(host, portstr, &hints, &ai)) != 0 || !ai) {
        br_seterr(errstr, errstr_size, BR_ERR_IO, "http.listen %s:%d: %s", host,
                  port, rc ? gai_strerror(rc) : "no address");
        if (ai)
            freeaddrinfo(ai);
        return NULL;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    h->handler = handler;
    h->opaque = opaque;
    br_buf_init(&h->body);
    /* The logger goes first: libmicrohttpd warns (through it) when any
     * option precedes it, since messages about those options would have
     * gone to its own stderr logger. The address bound is
     * MHD_OPTION_SOCK_ADDR's, port included. */
    h->mhd = MHD_start_daemon(
        MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
        (uint16_t)port, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->mhd) {
        br_seterr(errstr, errstr_size, BR_ERR_IO,
                  "http.listen %s:%d: cannot listen there (in use, or not an "
                  "address of this host)", host, port);
        br_httpd_stop(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    return h;
}

void br_httpd_run(br_httpd_t *h) {
    if (h)
        MHD_run(h->mhd);
}

int br_httpd_port(const br_httpd_t *h) {
    return h->port;
}

void br_httpd_stop(br_httpd_t *h) {
    if (!h)
        return;
    if (h->mhd)
        MHD_stop_daemon(h->mhd);
    br_buf_free(&h->body);
    free(h);
}
