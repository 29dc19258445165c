/* One regular file as an HTTP response on libmicrohttpd, shared by otakit serve and
 * otakit fleet serve: a strong ETag and Last-Modified, If-None-Match / If-Modified-Since
 * revalidation (304), one "bytes=" range with If-Range (206, 416), and the body sent
 * from the descriptor (sendfile on plain HTTP). docs/serve.md describes the rules. */
#ifndef OTAKIT_TOOLS_HTTP_FILE_H
#define OTAKIT_TOOLS_HTTP_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

struct MHD_Connection;
struct MHD_Response;

/**
 * The response to a GET or HEAD of the regular file open on fd (st is its fstat), of
 * content type type. fd is taken: the response closes it, or it is closed here.
 * *status is the HTTP status to queue it with, *body_len the bytes it sends.
 * @return the response, or NULL when libmicrohttpd could not make one.
 */
struct MHD_Response *http_file_response(struct MHD_Connection *c, int fd, const struct stat *st,
                                        const char *type, bool is_head, unsigned *status,
                                        uint64_t *body_len);

#endif
