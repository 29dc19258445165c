/*
 * esp_http_client over libcurl.
 *
 * ESP-IDF's client is pull-driven (open, fetch_headers, read); libcurl pushes bytes into
 * callbacks. Each handle owns a multi handle and one easy handle: the pull calls drive
 * curl_multi_perform/curl_multi_poll until the wanted thing (connection, end of
 * headers, body bytes) is there or the timeout passes. Body bytes land in a small
 * buffer; when it is full the write callback pauses the transfer, so a slow reader
 * holds back the sender as a real socket would.
 */
#include "esp_http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "esp_log.h"
#include "hw.h"
#include "netif_sim.h"

static const char *TAG = "HTTP_CLIENT";

#define HC_DEFAULT_MAX_REDIRECTS 10
#define HC_MIN_BUF 16384

struct hc_header {
    char *key;
    char *value;
    struct hc_header *next;
};

struct esp_http_client {
    CURL *easy;
    CURLM *multi;
    char *url;
    struct hc_header *headers;
    esp_http_client_method_t method;
    int timeout_ms;
    int max_redirects;
    bool auto_redirect;
    http_event_handle_cb handler;
    void *user_data;
    const char *post_data;
    int post_len;
    char *user_agent;
    char *cert_pem;
    bool skip_cn;
    bool keep_alive;
    esp_err_t (*crt_bundle_attach)(void *conf);
    esp_http_client_transport_t transport;

    /* The request in flight. */
    struct curl_slist *req_headers;
    bool open;
    bool connected;
    bool headers_done;
    bool done;
    bool paused;
    bool finish_sent;
    CURLcode result;
    int status;
    int64_t content_length;   /* -1: none */
    int64_t received;         /* body bytes handed to the caller */
    int64_t wait_since_ms;    /* since when a read waits for bytes with none new; 0: not waiting */
    unsigned link_generation; /* the station's link the connection was opened on */
    int err_no;
    esp_tls_last_error_t tls_error; /* the last TLS failure, as esp-tls records it */
    uint8_t *buf;
    size_t cap;
    size_t head;
    size_t len;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_OK;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void dispatch(esp_http_client_handle_t c, esp_http_client_event_id_t id, void *data, int len,
                     char *key, char *value)
{
    if (!c->handler) {
        return;
    }
    esp_http_client_event_t ev = {
        .event_id = id,
        .client = c,
        .data = data,
        .data_len = len,
        .user_data = c->user_data,
        .header_key = key,
        .header_value = value,
    };
    c->handler(&ev);
}

/* --- libcurl callbacks --------------------------------------------------------------- */

static void trim(char **s, size_t *n)
{
    while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
                      (*s)[*n - 1] == '\n')) {
        (*n)--;
    }
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
    esp_http_client_handle_t c = ud;
    size_t n = size * nitems;
    char *s = line;
    size_t k = n;
    trim(&s, &k);
    if (k == 0) {
        /* The empty line ends a header block; 1xx blocks are followed by the real one. */
        if (c->status >= 200 || c->status == 0) {
            curl_off_t cl = -1;
            if (curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK) {
                cl = -1;
            }
            c->content_length = cl >= 0 ? (int64_t)cl : -1;
            c->headers_done = true;
        }
        return n;
    }
    if (k >= 5 && strncmp(s, "HTTP/", 5) == 0) {
        const char *sp = memchr(s, ' ', k);
        c->status = sp ? atoi(sp + 1) : 0;
        c->headers_done = false;
        return n;
    }
    const char *colon = memchr(s, ':', k);
    if (colon && c->handler) {
        size_t klen = (size_t)(colon - s);
        char *v = (char *)colon + 1;
        size_t vlen = k - klen - 1;
        trim(&v, &vlen);
        char *copy = malloc(k + 2);
        if (copy) {
            memcpy(copy, s, klen);
            copy[klen] = '\0';
            memcpy(copy + klen + 1, v, vlen);
            copy[klen + 1 + vlen] = '\0';
            dispatch(c, HTTP_EVENT_ON_HEADER, NULL, 0, copy, copy + klen + 1);
            free(copy);
        }
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    esp_http_client_handle_t c = ud;
    size_t n = size * nmemb;
    if (n == 0) {
        return 0;
    }
    if (c->len > 0 && c->len + n > c->cap) {
        /* Full: let libcurl hold the bytes until the reader drains the buffer. */
        c->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (c->head > 0) {
        memmove(c->buf, c->buf + c->head, c->len);
        c->head = 0;
    }
    if (c->len + n > c->cap) {
        uint8_t *nb = realloc(c->buf, c->len + n);
        if (!nb) {
            return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        c->buf = nb;
        c->cap = c->len + n;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->wait_since_ms = 0; /* new bytes: the silence, if any, is over */
    return n;
}

static int on_prereq(void *ud, char *remote_ip, char *local_ip, int remote_port, int local_port)
{
    esp_http_client_handle_t c = ud;
    (void)remote_ip;
    (void)local_ip;
    (void)remote_port;
    (void)local_port;
    c->connected = true;
    dispatch(c, HTTP_EVENT_ON_CONNECTED, NULL, 0, NULL, NULL);
    dispatch(c, HTTP_EVENT_HEADERS_SENT, NULL, 0, NULL, NULL);
    return CURL_PREREQFUNC_OK;
}

/* --- driving the transfer ------------------------------------------------------------ */

typedef bool (*hc_cond_t)(esp_http_client_handle_t c);

static bool cond_connected(esp_http_client_handle_t c)
{
    return c->connected;
}

static bool cond_headers(esp_http_client_handle_t c)
{
    return c->headers_done;
}

static bool cond_data(esp_http_client_handle_t c)
{
    return c->len > 0 || c->paused;
}

static void collect(esp_http_client_handle_t c)
{
    int left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == c->easy) {
            c->done = true;
            c->result = m->data.result;
            if (c->result != CURLE_OK) {
                long oserr = 0;
                curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &oserr);
                c->err_no = oserr
                                ? (int)oserr
                                : (c->result == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : ECONNRESET);
            }
        }
    }
}

/* Drive the transfer until cond holds or it ends. @return 0, or -1 on the deadline. */
static int pump(esp_http_client_handle_t c, hc_cond_t cond, int64_t deadline)
{
    for (;;) {
        int running = 0;
        curl_multi_perform(c->multi, &running);
        collect(c);
        if (cond(c) || c->done) {
            return 0;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            return -1;
        }
        curl_multi_poll(c->multi, NULL, 0, left > 1000 ? 1000 : (int)left, NULL);
    }
}

static const char *result_text(esp_http_client_handle_t c)
{
    return c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->result);
}

/* --- TLS failures, told as esp-tls tells them --------------------------------------- */

/* mbedTLS's certificate flags for what libcurl's verification said. */
static int cert_flags(const char *why)
{
    if (strstr(why, "subject name") != NULL || strstr(why, "host name") != NULL) {
        return ESP_TLS_MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    if (strstr(why, "expired") != NULL) {
        return ESP_TLS_MBEDTLS_X509_BADCERT_EXPIRED;
    }
    return ESP_TLS_MBEDTLS_X509_BADCERT_NOT_TRUSTED;
}

/*
 * When the failed connection was a TLS failure: record it (last TLS error) and log the
 * lines esp-tls and the SSL transport log on an ESP32 (tags esp-tls-mbedtls, esp-tls,
 * transport_base), then ESP-IDF's HTTP_CLIENT line. libcurl's own text goes to debug.
 * @return true when it was one.
 */
static bool report_tls_failure(esp_http_client_handle_t c)
{
    static const char *const MBEDTLS_TAG = "esp-tls-mbedtls";
    esp_tls_last_error_t *t = &c->tls_error;
    switch (c->result) {
    case CURLE_PEER_FAILED_VERIFICATION:
        t->last_error = ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED;
        t->esp_tls_error_code = ESP_TLS_MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
        t->esp_tls_flags = cert_flags(result_text(c));
        ESP_LOGE(MBEDTLS_TAG, "mbedtls_ssl_handshake returned -0x%04X", -t->esp_tls_error_code);
        ESP_LOGI(MBEDTLS_TAG, "Failed to verify peer certificate!");
        break;
    case CURLE_SSL_CACERT_BADFILE:
        t->last_error = ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED;
        t->esp_tls_error_code = ESP_TLS_MBEDTLS_ERR_X509_INVALID_FORMAT;
        t->esp_tls_flags = 0;
        ESP_LOGE(MBEDTLS_TAG, "mbedtls_x509_crt_parse of CA cert returned -0x%04X",
                 -t->esp_tls_error_code);
        ESP_LOGE(MBEDTLS_TAG, "Failed to set client configurations, returned [0x%04X] (%s)",
                 (unsigned)t->last_error, esp_err_to_name(t->last_error));
        break;
    case CURLE_SSL_CONNECT_ERROR:
        /* The handshake broke off: the peer closed or reset it, or sent an alert. */
        t->last_error = ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED;
        t->esp_tls_error_code = strstr(result_text(c), "alert") != NULL
                                    ? ESP_TLS_MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE
                                    : ESP_TLS_MBEDTLS_ERR_SSL_CONN_EOF;
        t->esp_tls_flags = 0;
        ESP_LOGE(MBEDTLS_TAG, "mbedtls_ssl_handshake returned -0x%04X", -t->esp_tls_error_code);
        break;
    default:
        return false;
    }
    ESP_LOGD(MBEDTLS_TAG, "verification info: %s", result_text(c));
    ESP_LOGE("esp-tls", "Failed to open new connection");
    ESP_LOGE("transport_base", "Failed to open a new connection");
    ESP_LOGE(TAG, "Connection failed, sock < 0");
    c->err_no = 0;
    return true;
}

/* --- the virtual Wi-Fi going away (otakit device run --wifi-drop-at) ------------------- */

/* HTTP body bytes this app has read, over every client: what --wifi-drop-at counts. */
static pthread_mutex_t drop_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t body_total;

/* Make every drop that is due happen (the AP goes away). */
static void drops_due(void)
{
    unsigned idx;
    uint64_t at;
    uint64_t down_us;
    for (;;) {
        pthread_mutex_lock(&drop_mu);
        bool due = otakit_hw_wifi_next_drop(&idx, &at, &down_us) && body_total >= at;
        if (due) {
            otakit_hw_wifi_drop_done(idx);
        }
        pthread_mutex_unlock(&drop_mu);
        if (!due) {
            return;
        }
        netif_sim_wifi_drop(down_us);
    }
}

/* At most this many of len bytes may be read before the next drop. */
static int drop_clamp(int len)
{
    unsigned idx;
    uint64_t at;
    uint64_t down_us;
    pthread_mutex_lock(&drop_mu);
    if (otakit_hw_wifi_next_drop(&idx, &at, &down_us) && at > body_total &&
        at - body_total < (uint64_t)len) {
        len = (int)(at - body_total);
    }
    pthread_mutex_unlock(&drop_mu);
    return len;
}

static void drop_count(int got)
{
    pthread_mutex_lock(&drop_mu);
    body_total += (uint64_t)got;
    pthread_mutex_unlock(&drop_mu);
    drops_due();
}

/* The station has the link the connection was opened on. */
static bool link_intact(esp_http_client_handle_t c)
{
    return netif_sim_link_up() && c->link_generation == netif_sim_link_generation();
}

/* The station lost the AP: the connection is gone (lwIP aborts it; bytes not yet read
 * are lost with it), so the transfer ends with ECONNABORTED. */
static void link_lost(esp_http_client_handle_t c)
{
    if (!c->done || c->result == CURLE_OK) {
        c->done = true;
        c->result = CURLE_RECV_ERROR;
        c->err_no = ECONNABORTED;
        snprintf(c->errbuf, sizeof(c->errbuf),
                 "Software caused connection abort (the Wi-Fi link is down)");
    }
    c->len = c->head = 0;
    c->paused = false;
}

/* --- public API ---------------------------------------------------------------------- */

static char *build_url(const esp_http_client_config_t *cfg)
{
    if (cfg->url) {
        return strdup(cfg->url);
    }
    if (!cfg->host) {
        return NULL;
    }
    bool tls = cfg->transport_type == HTTP_TRANSPORT_OVER_SSL;
    int port = cfg->port ? cfg->port : (tls ? 443 : 80);
    const char *path = cfg->path ? cfg->path : "/";
    size_t n = strlen(cfg->host) + strlen(path) + (cfg->query ? strlen(cfg->query) : 0) + 32;
    char *u = malloc(n);
    if (!u) {
        return NULL;
    }
    snprintf(u, n, "%s://%s:%d%s%s", tls ? "https" : "http", cfg->host, port,
             path[0] == '/' ? "" : "/", path);
    if (cfg->query) {
        size_t l = strlen(u);
        snprintf(u + l, n - l, "?%s", cfg->query);
    }
    return u;
}

esp_http_client_handle_t esp_http_client_init(const esp_http_client_config_t *config)
{
    if (!config) {
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK) {
        ESP_LOGE(TAG, "libcurl init failed: %s", curl_easy_strerror(curl_init_result));
        return NULL;
    }
    esp_http_client_handle_t c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->url = build_url(config);
    if (!c->url) {
        ESP_LOGE(TAG, "Error parse url %s", config->url ? config->url : "(none)");
        free(c);
        return NULL;
    }
    c->method = config->method;
    c->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : DEFAULT_HTTP_TIMEOUT_MS;
    c->max_redirects = config->max_redirection_count > 0 ? config->max_redirection_count
                                                         : HC_DEFAULT_MAX_REDIRECTS;
    c->auto_redirect = !config->disable_auto_redirect;
    c->handler = config->event_handler;
    c->user_data = config->user_data;
    c->user_agent = strdup(config->user_agent ? config->user_agent : DEFAULT_HTTP_USER_AGENT);
    c->cert_pem = dup_str(config->cert_pem);
    c->skip_cn = config->skip_cert_common_name_check;
    c->keep_alive = config->keep_alive_enable;
    c->crt_bundle_attach = config->crt_bundle_attach;
    c->transport =
        strncasecmp(c->url, "https:", 6) == 0 ? HTTP_TRANSPORT_OVER_SSL : HTTP_TRANSPORT_OVER_TCP;
    c->status = -1;
    c->content_length = -1;
    size_t bs = config->buffer_size > 0 ? (size_t)config->buffer_size : DEFAULT_HTTP_BUF_SIZE;
    c->cap = bs < HC_MIN_BUF ? HC_MIN_BUF : bs;
    c->buf = malloc(c->cap);
    c->easy = curl_easy_init();
    c->multi = curl_multi_init();
    if (!c->user_agent || !c->buf || !c->easy || !c->multi || (config->cert_pem && !c->cert_pem)) {
        esp_http_client_cleanup(c);
        return NULL;
    }
    return c;
}

static struct hc_header **find_header(esp_http_client_handle_t c, const char *key)
{
    struct hc_header **pp = &c->headers;
    while (*pp && strcasecmp((*pp)->key, key) != 0) {
        pp = &(*pp)->next;
    }
    return pp;
}

esp_err_t esp_http_client_set_header(esp_http_client_handle_t c, const char *key, const char *value)
{
    if (!c || !key || !value) {
        return ESP_ERR_INVALID_ARG;
    }
    char *v = strdup(value);
    if (!v) {
        return ESP_ERR_NO_MEM;
    }
    struct hc_header **pp = find_header(c, key);
    if (*pp) {
        free((*pp)->value);
        (*pp)->value = v;
        return ESP_OK;
    }
    struct hc_header *h = calloc(1, sizeof(*h));
    if (!h || !(h->key = strdup(key))) {
        free(h);
        free(v);
        return ESP_ERR_NO_MEM;
    }
    h->value = v;
    *pp = h;
    return ESP_OK;
}

esp_err_t esp_http_client_delete_header(esp_http_client_handle_t c, const char *key)
{
    if (!c || !key) {
        return ESP_ERR_INVALID_ARG;
    }
    struct hc_header **pp = find_header(c, key);
    if (!*pp) {
        return ESP_ERR_NOT_FOUND;
    }
    struct hc_header *h = *pp;
    *pp = h->next;
    free(h->key);
    free(h->value);
    free(h);
    return ESP_OK;
}

esp_err_t esp_http_client_get_header(esp_http_client_handle_t c, const char *key, char **value)
{
    if (!c || !key || !value) {
        return ESP_ERR_INVALID_ARG;
    }
    struct hc_header **pp = find_header(c, key);
    if (!*pp) {
        *value = NULL;
        return ESP_ERR_NOT_FOUND;
    }
    *value = (*pp)->value;
    return ESP_OK;
}

esp_err_t esp_http_client_set_url(esp_http_client_handle_t c, const char *url)
{
    if (!c || !url) {
        return ESP_ERR_INVALID_ARG;
    }
    char *u = strdup(url);
    if (!u) {
        return ESP_ERR_NO_MEM;
    }
    free(c->url);
    c->url = u;
    c->transport =
        strncasecmp(u, "https:", 6) == 0 ? HTTP_TRANSPORT_OVER_SSL : HTTP_TRANSPORT_OVER_TCP;
    return ESP_OK;
}

esp_err_t esp_http_client_get_url(esp_http_client_handle_t c, char *url, int len)
{
    if (!c || !url || len <= 0) {
        return ESP_ERR_INVALID_ARG;
    }
    if (strlen(c->url) >= (size_t)len) {
        return ESP_ERR_INVALID_SIZE;
    }
    strcpy(url, c->url);
    return ESP_OK;
}

esp_err_t esp_http_client_set_method(esp_http_client_handle_t c, esp_http_client_method_t method)
{
    if (!c || method < 0 || method >= HTTP_METHOD_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    c->method = method;
    return ESP_OK;
}

esp_err_t esp_http_client_set_timeout_ms(esp_http_client_handle_t c, int timeout_ms)
{
    if (!c || timeout_ms <= 0) {
        return ESP_ERR_INVALID_ARG;
    }
    c->timeout_ms = timeout_ms;
    return ESP_OK;
}

esp_err_t esp_http_client_set_post_field(esp_http_client_handle_t c, const char *data, int len)
{
    if (!c || len < 0 || (len > 0 && !data)) {
        return ESP_ERR_INVALID_ARG;
    }
    c->post_data = data;
    c->post_len = len;
    return ESP_OK;
}

esp_http_client_transport_t esp_http_client_get_transport_type(esp_http_client_handle_t c)
{
    return c ? c->transport : HTTP_TRANSPORT_UNKNOWN;
}

int esp_http_client_get_errno(esp_http_client_handle_t c)
{
    return c ? c->err_no : 0;
}

esp_err_t esp_http_client_get_and_clear_last_tls_error(esp_http_client_handle_t c,
                                                       int *esp_tls_error_code, int *esp_tls_flags)
{
    if (!c) {
        return ESP_FAIL;
    }
    esp_tls_last_error_t t = c->tls_error;
    memset(&c->tls_error, 0, sizeof(c->tls_error));
    if (esp_tls_error_code) {
        *esp_tls_error_code = t.esp_tls_error_code;
    }
    if (esp_tls_flags) {
        *esp_tls_flags = t.esp_tls_flags;
    }
    return t.last_error;
}

static const char *method_name(esp_http_client_method_t m)
{
    static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    return (m >= 0 && m < HTTP_METHOD_MAX) ? names[m] : "GET";
}

static esp_err_t setup_request(esp_http_client_handle_t c)
{
    CURL *e = c->easy;
    curl_easy_reset(e);
    curl_slist_free_all(c->req_headers);
    c->req_headers = NULL;
    /* No "Expect: 100-continue" on bodies: ESP-IDF's client never sends it. */
    struct curl_slist *l = curl_slist_append(NULL, "Expect:");
    for (struct hc_header *h = c->headers; h && l; h = h->next) {
        size_t n = strlen(h->key) + strlen(h->value) + 3;
        char *line = malloc(n);
        if (!line) {
            curl_slist_free_all(l);
            return ESP_ERR_NO_MEM;
        }
        snprintf(line, n, "%s: %s", h->key, h->value);
        struct curl_slist *nl = curl_slist_append(l, line);
        free(line);
        if (!nl) {
            curl_slist_free_all(l);
            return ESP_ERR_NO_MEM;
        }
        l = nl;
    }
    if (!l) {
        return ESP_ERR_NO_MEM;
    }
    c->req_headers = l;
    c->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req_headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, c);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, c->keep_alive ? 1L : 0L);
    if (c->cert_pem) {
        struct curl_blob blob = {
            .data = c->cert_pem, .len = strlen(c->cert_pem), .flags = CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    } else if (c->crt_bundle_attach) {
        esp_err_t err = c->crt_bundle_attach(e);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "Failed to attach the certificate bundle: %s", esp_err_to_name(err));
            return err;
        }
    }
    if (c->skip_cn) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    switch (c->method) {
    case HTTP_METHOD_GET:
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        break;
    case HTTP_METHOD_HEAD:
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        break;
    default:
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_name(c->method));
        break;
    }
    if (c->method != HTTP_METHOD_GET && c->method != HTTP_METHOD_HEAD) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->post_data ? c->post_data : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)c->post_len);
    }
    return ESP_OK;
}

static void end_request(esp_http_client_handle_t c)
{
    if (c->open) {
        curl_multi_remove_handle(c->multi, c->easy);
        c->open = false;
    }
    curl_slist_free_all(c->req_headers);
    c->req_headers = NULL;
}

esp_err_t esp_http_client_open(esp_http_client_handle_t c, int write_len)
{
    if (!c || write_len < 0) {
        return ESP_ERR_INVALID_ARG;
    }
    end_request(c);
    c->connected = c->headers_done = c->done = c->paused = c->finish_sent = false;
    c->result = CURLE_OK;
    c->status = -1;
    c->content_length = -1;
    c->received = 0;
    c->wait_since_ms = 0;
    c->link_generation = netif_sim_link_generation();
    c->err_no = 0;
    c->head = c->len = 0;
    if (!netif_sim_link_up()) {
        c->err_no = ENETUNREACH;
        ESP_LOGE(TAG, "Connection failed, sock < 0: network is unreachable (Wi-Fi not connected)");
        dispatch(c, HTTP_EVENT_ERROR, NULL, 0, NULL, NULL);
        return ESP_ERR_HTTP_CONNECT;
    }
    esp_err_t err = setup_request(c);
    if (err != ESP_OK) {
        return err;
    }
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK) {
        return ESP_FAIL;
    }
    c->open = true;
    /* curl enforces the connect timeout; the extra second only guards against a stall. */
    if (pump(c, cond_connected, now_ms() + c->timeout_ms + 1000) != 0 || !c->connected) {
        if (!c->done) {
            c->result = CURLE_OPERATION_TIMEDOUT;
            c->err_no = ETIMEDOUT;
        }
        if (!report_tls_failure(c)) {
            ESP_LOGE(TAG, "Connection failed, sock < 0: %s", result_text(c));
        }
        dispatch(c, HTTP_EVENT_ERROR, NULL, 0, NULL, NULL);
        end_request(c);
        return ESP_ERR_HTTP_CONNECT;
    }
    return ESP_OK;
}

int64_t esp_http_client_fetch_headers(esp_http_client_handle_t c)
{
    if (!c || !c->open) {
        return ESP_FAIL;
    }
    if (pump(c, cond_headers, now_ms() + c->timeout_ms) != 0) {
        return -ESP_ERR_HTTP_EAGAIN;
    }
    if (!c->headers_done) {
        ESP_LOGE(TAG, "Failed to fetch the response headers: %s", result_text(c));
        dispatch(c, HTTP_EVENT_ERROR, NULL, 0, NULL, NULL);
        return ESP_FAIL;
    }
    ESP_LOGD(TAG, "content_length = %lld", (long long)c->content_length);
    return c->content_length > 0 ? c->content_length : 0;
}

int esp_http_client_read(esp_http_client_handle_t c, char *buffer, int len)
{
    if (!c || !buffer || len < 0 || !c->open) {
        return ESP_FAIL;
    }
    if (len == 0) {
        return 0;
    }
    if (!c->headers_done) {
        int64_t h = esp_http_client_fetch_headers(c);
        if (h < 0) {
            return (int)h;
        }
    }
    /* timeout_ms bounds the time without new bytes, not the call: a read that got some
     * bytes and then waits for the rest of its buffer, and the next read, share one
     * timeout counted from the last byte (wait_since_ms), so a server that stalls is
     * reported timeout_ms after its last byte, whatever the buffer size. */
    drops_due();
    len = drop_clamp(len);
    if (!link_intact(c)) {
        link_lost(c);
    }
    int got = 0;
    bool timed_out = false;
    while (got < len) {
        if (c->len > 0) {
            size_t n = c->len < (size_t)(len - got) ? c->len : (size_t)(len - got);
            memcpy(buffer + got, c->buf + c->head, n);
            c->head += n;
            c->len -= n;
            if (c->len == 0) {
                c->head = 0;
            }
            got += (int)n;
            continue;
        }
        if (c->paused) {
            c->paused = false;
            curl_easy_pause(c->easy, CURLPAUSE_CONT);
            continue;
        }
        if (c->done) {
            break;
        }
        if (!link_intact(c)) {
            link_lost(c);
            break;
        }
        if (c->wait_since_ms == 0) {
            c->wait_since_ms = now_ms();
        }
        if (pump(c, cond_data, c->wait_since_ms + c->timeout_ms) != 0) {
            timed_out = true;
            break;
        }
    }
    if (got > 0) {
        c->received += got;
        dispatch(c, HTTP_EVENT_ON_DATA, buffer, got, NULL, NULL);
        drop_count(got);
        return got;
    }
    if (timed_out) {
        c->err_no = EAGAIN;
        errno = EAGAIN;
        return -ESP_ERR_HTTP_EAGAIN;
    }
    if (c->result == CURLE_OK) {
        errno = 0;
        if (!c->finish_sent) {
            c->finish_sent = true;
            dispatch(c, HTTP_EVENT_ON_FINISH, NULL, 0, NULL, NULL);
        }
        return 0;
    }
    errno = c->err_no ? c->err_no : ECONNRESET;
    if (c->result == CURLE_PARTIAL_FILE) {
        /* The peer closed before Content-Length: ESP-IDF's transport reads 0 here. */
        errno = ECONNRESET;
        c->err_no = ECONNRESET;
        ESP_LOGW(TAG, "Connection closed by the server after %lld of %lld bytes",
                 (long long)c->received, (long long)c->content_length);
        return 0;
    }
    ESP_LOGE(TAG, "Transport read failed: %s", result_text(c));
    dispatch(c, HTTP_EVENT_ERROR, NULL, 0, NULL, NULL);
    return ESP_FAIL;
}

int esp_http_client_read_response(esp_http_client_handle_t c, char *buffer, int len)
{
    return esp_http_client_read(c, buffer, len);
}

int esp_http_client_get_status_code(esp_http_client_handle_t c)
{
    return c ? c->status : -1;
}

int64_t esp_http_client_get_content_length(esp_http_client_handle_t c)
{
    return c ? c->content_length : -1;
}

bool esp_http_client_is_chunked_response(esp_http_client_handle_t c)
{
    return c && c->headers_done && c->content_length < 0;
}

bool esp_http_client_is_complete_data_received(esp_http_client_handle_t c)
{
    if (!c || !c->headers_done) {
        return false;
    }
    if (c->method == HTTP_METHOD_HEAD) {
        /* No body follows a HEAD's Content-Length: complete once the exchange ended. */
        return c->done && c->result == CURLE_OK;
    }
    if (c->content_length >= 0) {
        return c->received == c->content_length;
    }
    return c->done && c->result == CURLE_OK && c->len == 0 && !c->paused;
}

esp_err_t esp_http_client_flush_response(esp_http_client_handle_t c, int *len)
{
    if (!c) {
        return ESP_ERR_INVALID_ARG;
    }
    char tmp[1024];
    int total = 0;
    for (;;) {
        int n = esp_http_client_read(c, tmp, (int)sizeof(tmp));
        if (n < 0) {
            return ESP_FAIL;
        }
        if (n == 0) {
            break;
        }
        total += n;
    }
    if (len) {
        *len = total;
    }
    return ESP_OK;
}

esp_err_t esp_http_client_set_redirection(esp_http_client_handle_t c)
{
    if (!c) {
        return ESP_ERR_INVALID_ARG;
    }
    char *loc = NULL;
    if (curl_easy_getinfo(c->easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc) {
        return ESP_ERR_NOT_FOUND;
    }
    return esp_http_client_set_url(c, loc);
}

esp_err_t esp_http_client_perform(esp_http_client_handle_t c)
{
    if (!c) {
        return ESP_ERR_INVALID_ARG;
    }
    for (int redirects = 0;; redirects++) {
        esp_err_t err = esp_http_client_open(c, 0);
        if (err != ESP_OK) {
            return err;
        }
        int64_t h = esp_http_client_fetch_headers(c);
        if (h < 0) {
            esp_http_client_close(c);
            return h == -ESP_ERR_HTTP_EAGAIN ? ESP_ERR_HTTP_EAGAIN : ESP_ERR_HTTP_FETCH_HEADER;
        }
        int st = c->status;
        bool redirect = st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
        if (!redirect || !c->auto_redirect) {
            break;
        }
        if (redirects >= c->max_redirects) {
            esp_http_client_close(c);
            ESP_LOGE(TAG, "Error, reach max_redirection_count count=%d", c->max_redirects);
            return ESP_ERR_HTTP_MAX_REDIRECT;
        }
        if (esp_http_client_set_redirection(c) != ESP_OK) {
            break;
        }
        dispatch(c, HTTP_EVENT_REDIRECT, NULL, 0, NULL, NULL);
        end_request(c);
    }
    char tmp[1024];
    for (;;) {
        int n = esp_http_client_read(c, tmp, (int)sizeof(tmp));
        if (n == -ESP_ERR_HTTP_EAGAIN) {
            esp_http_client_close(c);
            return ESP_ERR_HTTP_EAGAIN;
        }
        if (n < 0) {
            esp_http_client_close(c);
            return ESP_FAIL;
        }
        if (n == 0) {
            break;
        }
    }
    bool complete = esp_http_client_is_complete_data_received(c);
    esp_http_client_close(c);
    return complete ? ESP_OK : ESP_FAIL;
}

esp_err_t esp_http_client_close(esp_http_client_handle_t c)
{
    if (!c) {
        return ESP_ERR_INVALID_ARG;
    }
    bool was_open = c->open;
    end_request(c);
    c->len = c->head = 0;
    c->paused = false;
    if (was_open) {
        dispatch(c, HTTP_EVENT_DISCONNECTED, NULL, 0, NULL, NULL);
    }
    return ESP_OK;
}

esp_err_t esp_http_client_cleanup(esp_http_client_handle_t c)
{
    if (!c) {
        return ESP_FAIL;
    }
    if (c->easy && c->multi) {
        esp_http_client_close(c);
    }
    if (c->multi) {
        curl_multi_cleanup(c->multi);
    }
    if (c->easy) {
        curl_easy_cleanup(c->easy);
    }
    while (c->headers) {
        struct hc_header *h = c->headers;
        c->headers = h->next;
        free(h->key);
        free(h->value);
        free(h);
    }
    curl_slist_free_all(c->req_headers);
    free(c->url);
    free(c->user_agent);
    free(c->cert_pem);
    free(c->buf);
    free(c);
    return ESP_OK;
}
