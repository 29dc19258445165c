/*
 * esp_crt_bundle_attach over libcurl: the host's CA store is libcurl's default, so with
 * no custom bundle there is nothing to add but the demand to verify. A custom bundle is
 * appended to the host's CA file once, and the whole is given to each connection as a
 * PEM blob (libcurl copies it).
 */
#include "esp_crt_bundle.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "sdkconfig.h"

static const char *TAG = "esp-x509-crt-bundle";

#if OTAKIT_CRT_BUNDLE_CUSTOM
extern const char custom_pem_start[] asm("_binary_x509_crt_bundle_custom_pem_start");
#define CUSTOM_PEM custom_pem_start
#else
#define CUSTOM_PEM NULL
#endif

#if CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_DEFAULT_NONE
#define HOST_STORE 0
#else
#define HOST_STORE 1
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *bundle; /* host CA file + custom PEM; NULL if it could not be made */
static size_t bundle_len;

/* Append the file at path to *buf. @return 0, or -1. */
static int append_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        char *nb = realloc(*buf, *len + n + 1);
        if (nb == NULL) {
            rc = -1;
            break;
        }
        memcpy(nb + *len, chunk, n);
        *buf = nb;
        *len += n;
        (*buf)[*len] = '\0';
    }
    if (ferror(f)) {
        rc = -1;
    }
    fclose(f);
    return rc;
}

static void make_bundle(void)
{
    char *buf = NULL;
    size_t len = 0;
    if (HOST_STORE) {
        /* libcurl's built-in default CA file is the host's store. */
        CURL *probe = curl_easy_init();
        char *path = NULL;
        if (probe == NULL || curl_easy_getinfo(probe, CURLINFO_CAINFO, &path) != CURLE_OK ||
            path == NULL || append_file(path, &buf, &len) != 0) {
            ESP_LOGE(TAG, "Failed to read the host's CA store %s", path ? path : "(none)");
            curl_easy_cleanup(probe);
            free(buf);
            return;
        }
        curl_easy_cleanup(probe);
    }
    const char *custom = CUSTOM_PEM;
    size_t clen = custom ? strlen(custom) : 0;
    char *nb = realloc(buf, len + clen + 2);
    if (nb == NULL) {
        free(buf);
        return;
    }
    nb[len++] = '\n';
    memcpy(nb + len, custom ? custom : "", clen);
    len += clen;
    nb[len] = '\0';
    bundle = nb;
    bundle_len = len;
}

esp_err_t esp_crt_bundle_attach(void *conf)
{
    CURL *e = conf;
    if (e == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    if (HOST_STORE && CUSTOM_PEM == NULL) {
        return ESP_OK; /* libcurl's defaults are the host's store */
    }
    pthread_once(&once, make_bundle);
    if (bundle == NULL) {
        return ESP_FAIL;
    }
    struct curl_blob blob = {.data = bundle, .len = bundle_len, .flags = CURL_BLOB_NOCOPY};
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    if (!HOST_STORE) {
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL); /* the host's hashed directory too */
    }
    ESP_LOGD(TAG, "Certificate bundle attached");
    return ESP_OK;
}
