/*
 * libcurl, loaded when an app first uses it. esp_http_client (http_client.c) is built on
 * libcurl, but most apps never make an HTTP request, and those that do make it after
 * app_main() starts: linking libcurl would make every app load it and its ~25
 * dependencies (Kerberos, LDAP, RTMP, SSH, ...) before the first line of the app runs,
 * most of an app's start-up time. Instead the app links these stand-ins for the libcurl
 * functions http_client.c calls; the first curl_global_init() dlopen()s libcurl and
 * every stand-in forwards to the real function. If libcurl cannot be loaded,
 * curl_global_init() fails with CURLE_FAILED_INIT and the message says why, which
 * http_client.c already reports as "libcurl init failed".
 *
 * The stand-ins carry libcurl's own names, so http_client.c is unchanged; the apps no
 * longer name libcurl at link time, so nothing outside this file can bind to them.
 */
/* The stand-ins are functions: no type-checking macros over their names. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* libcurl's ABI name (unchanged since curl 7.16, 2006). */
#define CURL_SONAME "libcurl.so.4"

#define CURL_FUNCS(X)                                                                              \
    X(CURLcode, curl_global_init, (long flags))                                                    \
    X(CURL *, curl_easy_init, (void))                                                              \
    X(void, curl_easy_cleanup, (CURL * h))                                                         \
    X(void, curl_easy_reset, (CURL * h))                                                           \
    X(CURLcode, curl_easy_pause, (CURL * h, int bitmask))                                          \
    X(CURLcode, curl_easy_setopt, (CURL * h, CURLoption option, ...))                              \
    X(CURLcode, curl_easy_getinfo, (CURL * h, CURLINFO info, ...))                                 \
    X(const char *, curl_easy_strerror, (CURLcode code))                                           \
    X(CURLM *, curl_multi_init, (void))                                                            \
    X(CURLMcode, curl_multi_cleanup, (CURLM * m))                                                  \
    X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * h))                                     \
    X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * h))                                  \
    X(CURLMcode, curl_multi_perform, (CURLM * m, int *running))                                    \
    X(CURLMcode, curl_multi_poll,                                                                  \
      (CURLM * m, struct curl_waitfd * extra, unsigned n, int timeout_ms, int *numfds))            \
    X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *left))                                     \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist * list, const char *s))           \
    X(void, curl_slist_free_all, (struct curl_slist * list))

#define DECLARE_POINTER(ret, name, params) static ret(*real_##name) params;
CURL_FUNCS(DECLARE_POINTER)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

static void load_curl(void)
{
    void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(load_error, sizeof(load_error), "cannot load %s: %s", CURL_SONAME, dlerror());
        return;
    }
#define LOOK_UP(ret, name, params)                                                                 \
    *(void **)(&real_##name) = dlsym(h, #name);                                                    \
    if (real_##name == NULL) {                                                                     \
        snprintf(load_error, sizeof(load_error), "%s has no %s", CURL_SONAME, #name);              \
        return;                                                                                    \
    }
    CURL_FUNCS(LOOK_UP)
}

/* Load libcurl on the first call of any stand-in (http_client.c's first is
 * curl_global_init); true when every function is there. */
static bool loaded(void)
{
    pthread_once(&load_once, load_curl);
    return load_error[0] == '\0';
}

CURLcode curl_global_init(long flags)
{
    if (!loaded()) {
        return CURLE_FAILED_INIT;
    }
    return real_curl_global_init(flags);
}

CURL *curl_easy_init(void)
{
    return loaded() ? real_curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
    if (loaded()) {
        real_curl_easy_cleanup(h);
    }
}

void curl_easy_reset(CURL *h)
{
    if (loaded()) {
        real_curl_easy_reset(h);
    }
}

CURLcode curl_easy_pause(CURL *h, int bitmask)
{
    return loaded() ? real_curl_easy_pause(h, bitmask) : CURLE_FAILED_INIT;
}

/* The value's type follows from the option's number, as libcurl itself reads it. */
CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
    if (!loaded()) {
        return CURLE_FAILED_INIT;
    }
    va_list ap;
    va_start(ap, option);
    CURLcode rc;
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        rc = real_curl_easy_setopt(h, option, va_arg(ap, long));
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        rc = real_curl_easy_setopt(h, option, va_arg(ap, void *));
    } else if (option < CURLOPTTYPE_OFF_T) {
        rc = real_curl_easy_setopt(h, option, va_arg(ap, void (*)(void)));
    } else if (option < CURLOPTTYPE_BLOB) {
        rc = real_curl_easy_setopt(h, option, va_arg(ap, curl_off_t));
    } else {
        rc = real_curl_easy_setopt(h, option, va_arg(ap, struct curl_blob *));
    }
    va_end(ap);
    return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    if (!loaded()) {
        return CURLE_FAILED_INIT;
    }
    va_list ap;
    va_start(ap, info);
    CURLcode rc = real_curl_easy_getinfo(h, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

const char *curl_easy_strerror(CURLcode code)
{
    if (!loaded()) {
        return load_error[0] != '\0' ? load_error : "libcurl is not loaded";
    }
    return real_curl_easy_strerror(code);
}

CURLM *curl_multi_init(void)
{
    return loaded() ? real_curl_multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
    return loaded() ? real_curl_multi_cleanup(m) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
    return loaded() ? real_curl_multi_add_handle(m, h) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
    return loaded() ? real_curl_multi_remove_handle(m, h) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
    return loaded() ? real_curl_multi_perform(m, running) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd *extra, unsigned n, int timeout_ms,
                          int *numfds)
{
    return loaded() ? real_curl_multi_poll(m, extra, n, timeout_ms, numfds) : CURLM_BAD_HANDLE;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
    return loaded() ? real_curl_multi_info_read(m, left) : NULL;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
    return loaded() ? real_curl_slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
    if (loaded()) {
        real_curl_slist_free_all(list);
    }
}
