/**
 * @file esp_http_client.h
 * @brief A subset of ESP-IDF's esp_http_client over libcurl, for the apps that run on
 * the virtual device: the same names, the same call order (init, open, fetch_headers,
 * read, close, cleanup) and the same ESP_ERR_HTTP_* codes, so ESP-IDF OTA code reads
 * the same here.
 *
 * What is kept: GET/HEAD/POST/PUT/DELETE requests, one request at a time per handle,
 * custom request headers (Range: bytes=N- for resuming a download), timeout_ms for the
 * connection and for each read, HTTP and HTTPS (cert_pem pins the CA; crt_bundle_attach
 * trusts the host's CA store), the event
 * callback (ON_CONNECTED, HEADERS_SENT, ON_HEADER, ON_DATA, ON_FINISH, DISCONNECTED,
 * ERROR), esp_http_client_set_redirection. Not kept: authentication, the async mode,
 * esp_http_client_write (a request body is given with esp_http_client_set_post_field).
 *
 * Differences that a caller can observe: a read timeout returns -ESP_ERR_HTTP_EAGAIN
 * (as ESP-IDF v4.3+ does); when the peer closes before Content-Length is reached,
 * esp_http_client_read returns 0, sets errno to ECONNRESET and
 * esp_http_client_is_complete_data_received stays false. A TLS failure is logged with
 * esp-tls's lines ("esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700",
 * "esp-tls-mbedtls: Failed to verify peer certificate!", "esp-tls: Failed to open new
 * connection", "transport_base: Failed to open a new connection") and its codes are
 * those esp_http_client_get_and_clear_last_tls_error() returns on an ESP32.
 */
#ifndef ESP_HTTP_CLIENT_H
#define ESP_HTTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_tls_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_ERR_HTTP_BASE (0x7000)
#define ESP_ERR_HTTP_MAX_REDIRECT (ESP_ERR_HTTP_BASE + 1)      /**< too many redirects */
#define ESP_ERR_HTTP_CONNECT (ESP_ERR_HTTP_BASE + 2)           /**< connection failed */
#define ESP_ERR_HTTP_WRITE_DATA (ESP_ERR_HTTP_BASE + 3)        /**< error writing the request */
#define ESP_ERR_HTTP_FETCH_HEADER (ESP_ERR_HTTP_BASE + 4)      /**< error reading the headers */
#define ESP_ERR_HTTP_INVALID_TRANSPORT (ESP_ERR_HTTP_BASE + 5) /**< no transport for the scheme */
#define ESP_ERR_HTTP_CONNECTING (ESP_ERR_HTTP_BASE + 6)        /**< still connecting (async) */
#define ESP_ERR_HTTP_EAGAIN (ESP_ERR_HTTP_BASE + 7)            /**< read timed out, try again */
#define ESP_ERR_HTTP_CONNECTION_CLOSED                                                             \
    (ESP_ERR_HTTP_BASE + 8)                               /**< the peer closed the connection */
#define ESP_ERR_HTTP_NOT_MODIFIED (ESP_ERR_HTTP_BASE + 9) /**< 304 */
#define ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE (ESP_ERR_HTTP_BASE + 10) /**< 416, or Range ignored */

#define DEFAULT_HTTP_TIMEOUT_MS 5000
#define DEFAULT_HTTP_BUF_SIZE 512
#define DEFAULT_HTTP_USER_AGENT "ESP32 HTTP Client/1.0"

typedef struct esp_http_client *esp_http_client_handle_t;

typedef enum {
    HTTP_METHOD_GET = 0,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_PATCH,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_MAX,
} esp_http_client_method_t;

typedef enum {
    HTTP_TRANSPORT_UNKNOWN = 0,
    HTTP_TRANSPORT_OVER_TCP,
    HTTP_TRANSPORT_OVER_SSL,
} esp_http_client_transport_t;

typedef enum {
    HTTP_EVENT_ERROR = 0,
    HTTP_EVENT_ON_CONNECTED,
    HTTP_EVENT_HEADERS_SENT,
    HTTP_EVENT_HEADER_SENT = HTTP_EVENT_HEADERS_SENT,
    HTTP_EVENT_ON_HEADER,
    HTTP_EVENT_ON_DATA,
    HTTP_EVENT_ON_FINISH,
    HTTP_EVENT_DISCONNECTED,
    HTTP_EVENT_REDIRECT,
} esp_http_client_event_id_t;

typedef struct esp_http_client_event {
    esp_http_client_event_id_t event_id;
    esp_http_client_handle_t client;
    void *data; /**< ON_DATA: the bytes; ON_HEADER: NULL */
    int data_len;
    void *user_data;    /**< from the config */
    char *header_key;   /**< ON_HEADER */
    char *header_value; /**< ON_HEADER */
} esp_http_client_event_t;

typedef esp_err_t (*http_event_handle_cb)(esp_http_client_event_t *evt);

typedef struct {
    const char *url; /**< full URL; or host + port + path below */
    const char *host;
    int port;         /**< 0 = 80 (443 for https) */
    const char *path; /**< default "/" */
    const char *query;
    const char *cert_pem; /**< PEM CA the HTTPS server must chain to */
    esp_http_client_method_t method;
    int timeout_ms;             /**< connect timeout, and the longest wait without a body byte; 0 =
                                   DEFAULT_HTTP_TIMEOUT_MS */
    bool disable_auto_redirect; /**< esp_http_client_perform does not follow 3xx */
    int max_redirection_count;  /**< 0 = 10 */
    http_event_handle_cb event_handler;
    esp_http_client_transport_t transport_type;
    int buffer_size; /**< receive buffer hint; 0 = DEFAULT_HTTP_BUF_SIZE */
    int buffer_size_tx;
    void *user_data;
    const char *user_agent; /**< NULL = DEFAULT_HTTP_USER_AGENT */
    bool skip_cert_common_name_check;
    bool keep_alive_enable;   /**< TCP keep-alive probes */
    bool use_global_ca_store; /**< accepted; otakit has no global CA store, so this alone
                                   verifies nothing */
    /**
     * esp_crt_bundle_attach (esp_crt_bundle.h) to trust the host's CA store, as ESP-IDF's
     * bundle trusts the common roots. Called before each request when cert_pem is NULL;
     * its argument is the request's libcurl easy handle (CURL *), where ESP-IDF passes an
     * mbedtls_ssl_config.
     */
    esp_err_t (*crt_bundle_attach)(void *conf);
    int max_authorization_retries; /**< accepted; authentication is not kept */
    bool save_client_session;      /**< accepted; libcurl reuses TLS sessions by itself */
} esp_http_client_config_t;

/* The status codes the OTA code looks at (HttpStatus_Code in ESP-IDF). */
typedef enum {
    HttpStatus_Ok = 200,
    HttpStatus_PartialContent = 206,
    HttpStatus_MultipleChoices = 300,
    HttpStatus_MovedPermanently = 301,
    HttpStatus_Found = 302,
    HttpStatus_SeeOther = 303,
    HttpStatus_NotModified = 304,
    HttpStatus_TemporaryRedirect = 307,
    HttpStatus_PermanentRedirect = 308,
    HttpStatus_BadRequest = 400,
    HttpStatus_Unauthorized = 401,
    HttpStatus_Forbidden = 403,
    HttpStatus_NotFound = 404,
    HttpStatus_RangeNotSatisfiable = 416,
    HttpStatus_InternalError = 500,
} HttpStatus_Code;

/**
 * @brief Create a client from config (nothing is sent yet).
 * @return the handle, or NULL if the URL is missing or malformed or memory ran out.
 */
esp_http_client_handle_t esp_http_client_init(const esp_http_client_config_t *config);
/**
 * @brief Connect and send the request (a GET, unless set otherwise). write_len must be 0
 * here; a request body is set with esp_http_client_set_post_field.
 * @return ESP_OK; ESP_ERR_HTTP_CONNECT if the server cannot be reached in timeout_ms
 *         (refused, unreachable, TLS failure); ESP_ERR_INVALID_ARG; ESP_ERR_INVALID_STATE
 *         if a request is already open.
 */
esp_err_t esp_http_client_open(esp_http_client_handle_t client, int write_len);
/**
 * @brief Wait for the response headers.
 * @return the Content-Length; 0 if the response has none (chunked); ESP_FAIL (-1) if the
 *         connection ended before the headers; -ESP_ERR_HTTP_EAGAIN on a timeout.
 */
int64_t esp_http_client_fetch_headers(esp_http_client_handle_t client);
/**
 * @brief Read up to len body bytes; waits until len bytes, the end of the body, or
 * timeout_ms without a new byte. The timeout counts from the last byte that arrived,
 * across calls: a read that got some bytes and then timed out returns them, and the next
 * read reports the timeout at once, so a stalled server is reported timeout_ms after its
 * last byte whatever len is.
 * @return bytes read (> 0); 0 at the end of the body or when the peer closed (errno is
 *         then ECONNRESET if the body was incomplete); -ESP_ERR_HTTP_EAGAIN on a timeout
 *         with nothing read; ESP_FAIL (-1) on a transport error with nothing read.
 */
int esp_http_client_read(esp_http_client_handle_t client, char *buffer, int len);
/** Like esp_http_client_read (ESP-IDF keeps both names). */
int esp_http_client_read_response(esp_http_client_handle_t client, char *buffer, int len);
/** @return the HTTP status of the last response, or -1 before the headers. */
int esp_http_client_get_status_code(esp_http_client_handle_t client);
/** @return Content-Length of the last response, or -1 if it has none. */
int64_t esp_http_client_get_content_length(esp_http_client_handle_t client);
/** Whether the response has no Content-Length (chunked or read to close). */
bool esp_http_client_is_chunked_response(esp_http_client_handle_t client);
/** Whether the whole body has been read (Content-Length reached, or a clean end). */
bool esp_http_client_is_complete_data_received(esp_http_client_handle_t client);
/** Read and drop the rest of the body. @return ESP_OK or ESP_FAIL. */
esp_err_t esp_http_client_flush_response(esp_http_client_handle_t client, int *len);
/** Open, fetch the headers and read the whole body (ON_DATA events), following redirects. */
esp_err_t esp_http_client_perform(esp_http_client_handle_t client);

/** @return ESP_OK, ESP_ERR_INVALID_ARG, ESP_ERR_NO_MEM. Replaces an existing header. */
esp_err_t esp_http_client_set_header(esp_http_client_handle_t client, const char *key,
                                     const char *value);
/** @return ESP_OK, or ESP_ERR_NOT_FOUND when no such header was set. */
esp_err_t esp_http_client_delete_header(esp_http_client_handle_t client, const char *key);
/** @return ESP_OK, or ESP_ERR_NOT_FOUND; *value points into the client. */
esp_err_t esp_http_client_get_header(esp_http_client_handle_t client, const char *key,
                                     char **value);
esp_err_t esp_http_client_set_url(esp_http_client_handle_t client, const char *url);
/** @return ESP_OK; *len bytes fit in len (with the NUL) or ESP_ERR_INVALID_SIZE. */
esp_err_t esp_http_client_get_url(esp_http_client_handle_t client, char *url, int len);
esp_err_t esp_http_client_set_method(esp_http_client_handle_t client,
                                     esp_http_client_method_t method);
esp_err_t esp_http_client_set_timeout_ms(esp_http_client_handle_t client, int timeout_ms);
/** The body of the next request (the pointer is kept, not copied). */
esp_err_t esp_http_client_set_post_field(esp_http_client_handle_t client, const char *data,
                                         int len);
/** After a 3xx response: the next open goes to the Location. @return ESP_OK or ESP_ERR_NOT_FOUND.
 */
esp_err_t esp_http_client_set_redirection(esp_http_client_handle_t client);
esp_http_client_transport_t esp_http_client_get_transport_type(esp_http_client_handle_t client);
/** errno of the last transport failure, 0 if none (and for a TLS failure). */
int esp_http_client_get_errno(esp_http_client_handle_t client);
/**
 * The last TLS error of the client, then forgets it (ESP-IDF's call of the same name).
 * @param esp_tls_error_code mbedTLS's code (e.g. -0x2700 for a certificate that does
 *        not verify), 0 if none; may be NULL
 * @param esp_tls_flags mbedTLS's certificate flags (0x08 not trusted, 0x04 name
 *        mismatch, 0x01 expired), 0 if none; may be NULL
 * @return ESP_OK when there was none; ESP_FAIL for a NULL client; else the
 *         ESP_ERR_ESP_TLS_* / ESP_ERR_MBEDTLS_* code (ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED,
 *         ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED)
 */
esp_err_t esp_http_client_get_and_clear_last_tls_error(esp_http_client_handle_t client,
                                                       int *esp_tls_error_code, int *esp_tls_flags);

/** End the request and close the connection; the handle can be opened again. */
esp_err_t esp_http_client_close(esp_http_client_handle_t client);
/** Close and free the handle. */
esp_err_t esp_http_client_cleanup(esp_http_client_handle_t client);

#ifdef __cplusplus
}
#endif
#endif
