/* otakit serve: a firmware server on libmicrohttpd. The command line (tools/cmd_serve.c)
 * fills serve_opts_t and calls serve_run(), which returns when SIGINT or SIGTERM has
 * stopped the server. docs/serve.md describes the behaviour. */
#ifndef OTAKIT_TOOLS_SERVE_H
#define OTAKIT_TOOLS_SERVE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct serve_opts {
    const char *root;      /**< directory to serve */
    const char *bind_addr; /**< numeric IPv4 or IPv6 address to listen on */
    unsigned port;         /**< plain HTTP port (HTTPS when TLS is on and tls_port < 0); 0 = any */
    const char *tls_cert;  /**< PEM certificate file, or NULL */
    const char *tls_key;   /**< PEM private key file, or NULL */
    int tls_port;          /**< HTTPS port beside plain HTTP; -1 = HTTPS alone on port */
    bool io_threads;       /**< a thread per connection instead of an epoll loop per core */
    unsigned threads;      /**< epoll: event-loop threads per listener; 0 = one per core */
    unsigned max_connections;
    unsigned max_per_ip;     /**< 0 = no limit */
    unsigned idle_timeout;   /**< seconds without traffic before a connection is closed */
    unsigned header_timeout; /**< seconds to send a whole request head; 0 = no limit */
    unsigned drain_timeout;  /**< seconds in-flight requests may go on after a stop signal */
    size_t max_header_size;  /**< memory per connection, which bounds the request head */
    const char *access_log;  /**< "-" = stdout (stderr with json), NULL = none, else a file */
    bool json;               /**< print the summary as one JSON object on stdout */
    bool status; /**< a live status line on stderr when stdout and stderr are terminals */
} serve_opts_t;

#define SERVE_DEFAULT_PORT 8070u

/** Fill the defaults documented in docs/serve.md. */
void serve_opts_default(serve_opts_t *o);

/**
 * Serve until SIGINT or SIGTERM, then drain and print the summary.
 * @return 0 after a stop, 2 when the server could not start (bad directory,
 *         certificate, address or port).
 */
int serve_run(const serve_opts_t *o);

#endif
