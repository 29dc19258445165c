/*
 * Simulated Wi-Fi station and its esp_netif interface.
 *
 * The "air" is the list in OTAKIT_WIFI_APS (see esp_wifi.h); the network behind every
 * access point is the host's loopback. esp_wifi_connect() returns at once and hands the
 * attempt to the driver's task, which spends the device time each step takes on an
 * ESP32 (scan, authentication, the 4-way handshake, DHCP), logs the blob's lines and posts
 * the events a real driver posts, so an app's event handlers, retry counters and wait
 * loops run, and log, as on a board.
 */
#include "esp_wifi.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "esp_netif.h"
#include "esp_state.h"
#include "esp_timer.h"
#include "netif_sim.h"

/* Device time of each step on an ESP32, from ESP-IDF's logs and its supplicant:
 * - a scan that finds the AP, until "new:<1,0>..." (ESP-IDF logs show 0.1-0.7 s);
 * - a full scan of every channel without the SSID, until NO_AP_FOUND (about 2.4 s);
 * - init -> auth -> assoc -> run, 10 ms a step;
 * - a wrong password: the AP sends EAPOL 1/4 again each second (hostapd's
 *   dot11RSNAConfigPairwiseUpdateTimeOut), the station answers with a MIC the AP drops,
 *   and at the fourth 1/4 (wpa.c: MAX_EAPOL_RETRIES 3) it leaves with reason 15;
 * - DHCP, from "connected with" to the address. */
#define SCAN_FOUND_US 120000u
#define SCAN_ALL_US 2400000u
#define ASSOC_STEP_US 10000u
#define EAPOL_RETRIES_US 3000000u
#define DHCP_US 300000u

ESP_EVENT_DEFINE_BASE(WIFI_EVENT);
ESP_EVENT_DEFINE_BASE(IP_EVENT);

static const char *NETIF_TAG = "esp_netif_handlers";

struct esp_netif_obj {
    bool up;
    esp_netif_ip_info_t ip;
};

/* The driver's state is per process, as on a chip. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* the driver task waits here for a connect */
    bool task_running;    /* the driver's task exists (made by the first esp_wifi_init) */
    bool connect_pending; /* esp_wifi_connect() asked, the task has not started it yet */
    bool attempting;      /* a connect is pending or in progress */
    unsigned generation;  /* bumped by disconnect/stop: an attempt in progress ends */
    bool netif_init;
    bool netif_created;
    bool init;
    bool started;
    bool connected;
    wifi_mode_t mode;
    wifi_ps_type_t ps;
    wifi_sta_config_t sta;
    struct esp_netif_obj netif;
    char ap_ssid[33];
    int64_t ap_gone_until_us; /* device time the access points are back (a drop), 0: none */
    unsigned link_generation; /* bumped each time the station loses its link */
} wifi = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *wifi_task(void *unused);

static const uint8_t STA_MAC[6] = {0x24, 0x0a, 0xc4, 0x00, 0x00, 0x01};
static const uint8_t AP_BSSID[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* The blob's lines read "I (123) wifi:message", without the space after the tag. */
static void wifi_log(esp_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void wifi_log(esp_log_level_t level, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char letter = level == ESP_LOG_ERROR  ? 'E'
                  : level == ESP_LOG_WARN ? 'W'
                  : level == ESP_LOG_INFO ? 'I'
                                          : 'D';
    esp_log_write(level, "wifi", "%c (%u) wifi:%s\n", letter, (unsigned)esp_log_timestamp(), msg);
}

static uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    esp_ip4_addr_t x;
    uint8_t *p = (uint8_t *)&x.addr;
    p[0] = a;
    p[1] = b;
    p[2] = c;
    p[3] = d;
    return x.addr;
}

bool netif_sim_link_up(void)
{
    pthread_mutex_lock(&wifi.mu);
    bool up = !wifi.started || wifi.netif.up;
    pthread_mutex_unlock(&wifi.mu);
    return up;
}

/* --- esp_netif ------------------------------------------------------------------------ */

esp_err_t esp_netif_init(void)
{
    pthread_mutex_lock(&wifi.mu);
    wifi.netif_init = true;
    pthread_mutex_unlock(&wifi.mu);
    return ESP_OK;
}

esp_netif_t *esp_netif_create_default_wifi_sta(void)
{
    pthread_mutex_lock(&wifi.mu);
    esp_netif_t *n = NULL;
    if (wifi.netif_init) {
        wifi.netif_created = true;
        memset(&wifi.netif, 0, sizeof(wifi.netif));
        n = &wifi.netif;
    }
    pthread_mutex_unlock(&wifi.mu);
    return n;
}

void esp_netif_destroy(esp_netif_t *esp_netif)
{
    pthread_mutex_lock(&wifi.mu);
    if (esp_netif == &wifi.netif) {
        wifi.netif_created = false;
        memset(&wifi.netif, 0, sizeof(wifi.netif));
    }
    pthread_mutex_unlock(&wifi.mu);
}

esp_err_t esp_netif_get_ip_info(esp_netif_t *esp_netif, esp_netif_ip_info_t *ip_info)
{
    if (!esp_netif || !ip_info) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    pthread_mutex_lock(&wifi.mu);
    *ip_info = esp_netif->ip;
    pthread_mutex_unlock(&wifi.mu);
    return ESP_OK;
}

bool esp_netif_is_netif_up(esp_netif_t *esp_netif)
{
    if (!esp_netif) {
        return false;
    }
    pthread_mutex_lock(&wifi.mu);
    bool up = esp_netif->up;
    pthread_mutex_unlock(&wifi.mu);
    return up;
}

/* --- the access points in the air -------------------------------------------------------- */

typedef enum { AP_ABSENT, AP_WRONG_PASSWORD, AP_OK } ap_match_t;

/* Look ssid up in OTAKIT_WIFI_APS; unset means only the configured network exists. */
static ap_match_t find_ap(const char *ssid, const char *password, char *seen, size_t seen_len)
{
    const char *env = getenv("OTAKIT_WIFI_APS");
    seen[0] = '\0';
    pthread_mutex_lock(&wifi.mu);
    bool gone = esp_timer_get_time() < wifi.ap_gone_until_us;
    pthread_mutex_unlock(&wifi.mu);
    if (gone) {
        return AP_ABSENT; /* a --wifi-drop-at outage: nothing in the air */
    }
    if (!env) {
        snprintf(seen, seen_len, "%s", ssid);
        return AP_OK;
    }
    ap_match_t best = AP_ABSENT;
    const char *p = env;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        size_t slen = colon ? (size_t)(colon - p) : n;
        const char *pw = colon ? colon + 1 : "";
        size_t pwlen = colon ? n - slen - 1 : 0;
        if (slen > 0) {
            size_t used = strlen(seen);
            if (used + slen + 3 < seen_len) {
                snprintf(seen + used, seen_len - used, "%s%.*s", used ? ", " : "", (int)slen, p);
            }
            if (strlen(ssid) == slen && memcmp(ssid, p, slen) == 0) {
                bool ok = strlen(password) == pwlen && memcmp(password, pw, pwlen) == 0;
                if (ok) {
                    best = AP_OK;
                } else if (best == AP_ABSENT) {
                    best = AP_WRONG_PASSWORD;
                }
            }
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    return best;
}

/* --- esp_wifi ------------------------------------------------------------------------ */

esp_err_t esp_wifi_init(const wifi_init_config_t *config)
{
    if (!config || config->magic != WIFI_INIT_CONFIG_MAGIC) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&wifi.mu);
    bool again = wifi.init;
    if (!wifi.task_running) {
        pthread_t t;
        if (pthread_create(&t, NULL, wifi_task, NULL) != 0) {
            pthread_mutex_unlock(&wifi.mu);
            return ESP_ERR_NO_MEM;
        }
        pthread_detach(t);
        wifi.task_running = true;
    }
    wifi.init = true;
    wifi.ps = WIFI_PS_MIN_MODEM;
    pthread_mutex_unlock(&wifi.mu);
    if (!again) {
        wifi_log(ESP_LOG_INFO, "wifi driver task: virtual radio, prio:23, stack:6656, core=0");
        wifi_log(ESP_LOG_INFO, "wifi firmware version: otakit-sim");
        wifi_log(ESP_LOG_INFO, "access points from %s",
                 getenv("OTAKIT_WIFI_APS") ? "OTAKIT_WIFI_APS" : "the station's configuration");
    }
    return ESP_OK;
}

esp_err_t esp_wifi_deinit(void)
{
    pthread_mutex_lock(&wifi.mu);
    if (!wifi.init) {
        pthread_mutex_unlock(&wifi.mu);
        return ESP_ERR_WIFI_NOT_INIT;
    }
    if (wifi.started) {
        pthread_mutex_unlock(&wifi.mu);
        return ESP_ERR_WIFI_NOT_STOPPED;
    }
    wifi.init = false;
    pthread_mutex_unlock(&wifi.mu);
    return ESP_OK;
}

esp_err_t esp_wifi_set_mode(wifi_mode_t mode)
{
    if (mode < WIFI_MODE_NULL || mode >= WIFI_MODE_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = wifi.init ? ESP_OK : ESP_ERR_WIFI_NOT_INIT;
    if (err == ESP_OK) {
        wifi.mode = mode;
    }
    pthread_mutex_unlock(&wifi.mu);
    return err;
}

esp_err_t esp_wifi_get_mode(wifi_mode_t *mode)
{
    if (!mode) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = wifi.init ? ESP_OK : ESP_ERR_WIFI_NOT_INIT;
    *mode = wifi.mode;
    pthread_mutex_unlock(&wifi.mu);
    return err;
}

esp_err_t esp_wifi_set_config(wifi_interface_t interface, wifi_config_t *conf)
{
    if (!conf) {
        return ESP_ERR_INVALID_ARG;
    }
    if (interface != WIFI_IF_STA) {
        return ESP_ERR_WIFI_IF;
    }
    size_t pwlen = strnlen((const char *)conf->sta.password, sizeof(conf->sta.password));
    if (pwlen > 0 && pwlen < 8) {
        return ESP_ERR_WIFI_PASSWORD;
    }
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = wifi.init ? ESP_OK : ESP_ERR_WIFI_NOT_INIT;
    if (err == ESP_OK) {
        wifi.sta = conf->sta;
    }
    pthread_mutex_unlock(&wifi.mu);
    return err;
}

esp_err_t esp_wifi_get_config(wifi_interface_t interface, wifi_config_t *conf)
{
    if (!conf) {
        return ESP_ERR_INVALID_ARG;
    }
    if (interface != WIFI_IF_STA) {
        return ESP_ERR_WIFI_IF;
    }
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = wifi.init ? ESP_OK : ESP_ERR_WIFI_NOT_INIT;
    memset(conf, 0, sizeof(*conf));
    conf->sta = wifi.sta;
    pthread_mutex_unlock(&wifi.mu);
    return err;
}

esp_err_t esp_wifi_start(void)
{
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = ESP_OK;
    if (!wifi.init) {
        err = ESP_ERR_WIFI_NOT_INIT;
    } else if (wifi.mode != WIFI_MODE_STA && wifi.mode != WIFI_MODE_APSTA) {
        err = ESP_ERR_WIFI_MODE;
    }
    bool was = wifi.started;
    if (err == ESP_OK) {
        wifi.started = true;
    }
    pthread_mutex_unlock(&wifi.mu);
    if (err != ESP_OK || was) {
        return err;
    }
    wifi_log(ESP_LOG_INFO, "mode : sta (%02x:%02x:%02x:%02x:%02x:%02x)", STA_MAC[0], STA_MAC[1],
             STA_MAC[2], STA_MAC[3], STA_MAC[4], STA_MAC[5]);
    wifi_log(ESP_LOG_INFO, "enable tsf");
    err = esp_event_post(WIFI_EVENT, WIFI_EVENT_STA_START, NULL, 0, 0);
    if (err != ESP_OK) {
        pthread_mutex_lock(&wifi.mu);
        wifi.started = false;
        pthread_mutex_unlock(&wifi.mu);
    }
    return err;
}

static void post_disconnected(const char *ssid, uint8_t reason)
{
    wifi_event_sta_disconnected_t ev = {0};
    size_t n = strlen(ssid);
    n = n > sizeof(ev.ssid) ? sizeof(ev.ssid) : n;
    memcpy(ev.ssid, ssid, n);
    ev.ssid_len = (uint8_t)n;
    memcpy(ev.bssid, AP_BSSID, 6);
    ev.reason = reason;
    ev.rssi = -40;
    esp_event_post(WIFI_EVENT, WIFI_EVENT_STA_DISCONNECTED, &ev, sizeof(ev), 0);
}

/* Spend us of device time; false when a disconnect or stop ended the attempt meanwhile. */
static bool attempt_step(uint64_t us, unsigned generation)
{
    esp_delay_us(us);
    pthread_mutex_lock(&wifi.mu);
    bool current = wifi.generation == generation && wifi.started;
    pthread_mutex_unlock(&wifi.mu);
    return current;
}

/* The attempt is over (its last event follows): a handler may start the next one. */
static void attempt_done(void)
{
    pthread_mutex_lock(&wifi.mu);
    wifi.attempting = wifi.connect_pending;
    pthread_mutex_unlock(&wifi.mu);
}

/* One association attempt, run by the driver's task: what esp_wifi_connect() starts. */
static void connect_attempt(unsigned generation)
{
    char ssid[33];
    char password[65];
    pthread_mutex_lock(&wifi.mu);
    memcpy(ssid, wifi.sta.ssid, 32);
    ssid[32] = '\0';
    memcpy(password, wifi.sta.password, 64);
    password[64] = '\0';
    pthread_mutex_unlock(&wifi.mu);

    char seen[256];
    ap_match_t m = find_ap(ssid, password, seen, sizeof(seen));
    if (m == AP_ABSENT) {
        if (!attempt_step(SCAN_ALL_US, generation)) {
            return;
        }
        wifi_log(ESP_LOG_WARN,
                 "no AP with SSID \"%s\" found (in range: %s), reason %d (NO_AP_FOUND)", ssid,
                 seen[0] ? seen : "none", WIFI_REASON_NO_AP_FOUND);
        attempt_done();
        post_disconnected(ssid, WIFI_REASON_NO_AP_FOUND);
        return;
    }
    if (!attempt_step(SCAN_FOUND_US, generation)) {
        return;
    }
    wifi_log(ESP_LOG_INFO, "new:<1,0>, old:<1,0>, ap:<255,255>, sta:<1,0>, prof:1");
    wifi_log(ESP_LOG_INFO, "state: init -> auth (b0)");
    if (!attempt_step(ASSOC_STEP_US, generation)) {
        return;
    }
    wifi_log(ESP_LOG_INFO, "state: auth -> assoc (0)");
    if (!attempt_step(ASSOC_STEP_US, generation)) {
        return;
    }
    wifi_log(ESP_LOG_INFO, "state: assoc -> run (10)");
    if (m == AP_WRONG_PASSWORD) {
        if (!attempt_step(EAPOL_RETRIES_US, generation)) {
            return;
        }
        wifi_log(ESP_LOG_INFO, "state: run -> init (fc0)");
        wifi_log(ESP_LOG_WARN,
                 "4-way handshake with \"%s\" failed, reason %d (4WAY_HANDSHAKE_TIMEOUT): wrong "
                 "password?",
                 ssid, WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT);
        attempt_done();
        post_disconnected(ssid, WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT);
        return;
    }
    if (!attempt_step(ASSOC_STEP_US, generation)) {
        return;
    }
    wifi_log(ESP_LOG_INFO,
             "connected with %s, aid = 1, channel 1, BW20, bssid = %02x:%02x:%02x:%02x:%02x:%02x",
             ssid, AP_BSSID[0], AP_BSSID[1], AP_BSSID[2], AP_BSSID[3], AP_BSSID[4], AP_BSSID[5]);
    wifi_log(ESP_LOG_INFO, "security: %s, phy: bgn, rssi: -40",
             password[0] ? "WPA2-PSK" : "Open Auth");

    wifi_event_sta_connected_t ce = {0};
    size_t n = strlen(ssid);
    memcpy(ce.ssid, ssid, n);
    ce.ssid_len = (uint8_t)n;
    memcpy(ce.bssid, AP_BSSID, 6);
    ce.channel = 1;
    ce.authmode = password[0] ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
    ce.aid = 1;
    pthread_mutex_lock(&wifi.mu);
    wifi.connected = true;
    snprintf(wifi.ap_ssid, sizeof(wifi.ap_ssid), "%s", ssid);
    pthread_mutex_unlock(&wifi.mu);
    esp_event_post(WIFI_EVENT, WIFI_EVENT_STA_CONNECTED, &ce, sizeof(ce), 0);

    if (!attempt_step(DHCP_US, generation)) {
        return;
    }
    ip_event_got_ip_t ge = {0};
    pthread_mutex_lock(&wifi.mu);
    wifi.netif.ip.ip.addr = ip4(127, 0, 0, 1);
    wifi.netif.ip.netmask.addr = ip4(255, 0, 0, 0);
    wifi.netif.ip.gw.addr = ip4(127, 0, 0, 1);
    wifi.netif.up = true;
    ge.esp_netif = wifi.netif_created ? &wifi.netif : NULL;
    ge.ip_info = wifi.netif.ip;
    ge.ip_changed = true;
    pthread_mutex_unlock(&wifi.mu);
    ESP_LOGI(NETIF_TAG, "sta ip: " IPSTR ", mask: " IPSTR ", gw: " IPSTR, IP2STR(&ge.ip_info.ip),
             IP2STR(&ge.ip_info.netmask), IP2STR(&ge.ip_info.gw));
    attempt_done();
    esp_event_post(IP_EVENT, IP_EVENT_STA_GOT_IP, &ge, sizeof(ge), 0);
}

/* The driver's task ("wifi driver task" in the log): runs the attempts one at a time. */
static void *wifi_task(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&wifi.mu);
    for (;;) {
        while (!wifi.connect_pending) {
            pthread_cond_wait(&wifi.cv, &wifi.mu);
        }
        wifi.connect_pending = false;
        unsigned generation = wifi.generation;
        pthread_mutex_unlock(&wifi.mu);
        event_sim_wait_idle();
        connect_attempt(generation);
        pthread_mutex_lock(&wifi.mu);
    }
    return NULL;
}

esp_err_t esp_wifi_connect(void)
{
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = ESP_OK;
    if (!wifi.init) {
        err = ESP_ERR_WIFI_NOT_INIT;
    } else if (!wifi.started) {
        err = ESP_ERR_WIFI_NOT_STARTED;
    } else if (wifi.sta.ssid[0] == '\0') {
        err = ESP_ERR_WIFI_SSID;
    } else if (!wifi.connected && !wifi.attempting) {
        wifi.attempting = true;
        wifi.connect_pending = true;
        pthread_cond_signal(&wifi.cv);
    }
    pthread_mutex_unlock(&wifi.mu);
    return err;
}

unsigned netif_sim_link_generation(void)
{
    pthread_mutex_lock(&wifi.mu);
    unsigned g = wifi.link_generation;
    pthread_mutex_unlock(&wifi.mu);
    return g;
}

void netif_sim_wifi_drop(uint64_t down_us)
{
    pthread_mutex_lock(&wifi.mu);
    bool was = wifi.connected;
    char ssid[33];
    snprintf(ssid, sizeof(ssid), "%s", wifi.ap_ssid);
    wifi.ap_gone_until_us = esp_timer_get_time() + (int64_t)down_us;
    if (was) {
        wifi.generation++;
        wifi.link_generation++;
        wifi.connected = false;
        wifi.netif.up = false;
        memset(&wifi.netif.ip, 0, sizeof(wifi.netif.ip));
    }
    pthread_mutex_unlock(&wifi.mu);
    if (!was) {
        return;
    }
    /* What the blob logs when the AP's beacons stop. */
    wifi_log(ESP_LOG_INFO, "bcn_timeout,ap_probe_send_start");
    wifi_log(ESP_LOG_INFO, "ap_probe_send over, reset wifi status to disassoc");
    wifi_log(ESP_LOG_INFO, "state: run -> init (c800)");
    wifi_log(ESP_LOG_WARN,
             "the AP \"%s\" is gone for %llu ms (--wifi-drop-at), reason %d (BEACON_TIMEOUT)", ssid,
             (unsigned long long)(down_us / 1000), WIFI_REASON_BEACON_TIMEOUT);
    post_disconnected(ssid, WIFI_REASON_BEACON_TIMEOUT);
}

esp_err_t esp_wifi_disconnect(void)
{
    pthread_mutex_lock(&wifi.mu);
    if (!wifi.init) {
        pthread_mutex_unlock(&wifi.mu);
        return ESP_ERR_WIFI_NOT_INIT;
    }
    bool was = wifi.connected;
    char ssid[33];
    snprintf(ssid, sizeof(ssid), "%s", wifi.ap_ssid);
    wifi.generation++; /* an attempt in progress ends at its next step */
    if (wifi.connected) {
        wifi.link_generation++;
    }
    wifi.connect_pending = false;
    wifi.attempting = false;
    wifi.connected = false;
    wifi.netif.up = false;
    memset(&wifi.netif.ip, 0, sizeof(wifi.netif.ip));
    pthread_mutex_unlock(&wifi.mu);
    if (was) {
        wifi_log(ESP_LOG_INFO, "state: run -> init (0)");
        esp_event_post(IP_EVENT, IP_EVENT_STA_LOST_IP, NULL, 0, 0);
        post_disconnected(ssid, WIFI_REASON_ASSOC_LEAVE);
    }
    return ESP_OK;
}

esp_err_t esp_wifi_stop(void)
{
    pthread_mutex_lock(&wifi.mu);
    bool init = wifi.init;
    bool started = wifi.started;
    pthread_mutex_unlock(&wifi.mu);
    if (!init) {
        return ESP_ERR_WIFI_NOT_INIT;
    }
    if (!started) {
        return ESP_OK;
    }
    esp_wifi_disconnect();
    pthread_mutex_lock(&wifi.mu);
    wifi.started = false;
    pthread_mutex_unlock(&wifi.mu);
    wifi_log(ESP_LOG_INFO, "flush txq");
    wifi_log(ESP_LOG_INFO, "stop sw txq");
    return esp_event_post(WIFI_EVENT, WIFI_EVENT_STA_STOP, NULL, 0, 0);
}

esp_err_t esp_wifi_sta_get_ap_info(wifi_ap_record_t *ap_info)
{
    if (!ap_info) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = wifi.connected ? ESP_OK : ESP_ERR_WIFI_CONN;
    memset(ap_info, 0, sizeof(*ap_info));
    if (err == ESP_OK) {
        memcpy(ap_info->bssid, AP_BSSID, 6);
        snprintf((char *)ap_info->ssid, sizeof(ap_info->ssid), "%s", wifi.ap_ssid);
        ap_info->primary = 1;
        ap_info->rssi = -40;
        ap_info->authmode = WIFI_AUTH_WPA2_PSK;
    }
    pthread_mutex_unlock(&wifi.mu);
    return err;
}

esp_err_t esp_wifi_set_ps(wifi_ps_type_t type)
{
    if (type < WIFI_PS_NONE || type > WIFI_PS_MAX_MODEM) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = wifi.init ? ESP_OK : ESP_ERR_WIFI_NOT_INIT;
    if (err == ESP_OK) {
        wifi.ps = type;
    }
    pthread_mutex_unlock(&wifi.mu);
    return err;
}

esp_err_t esp_wifi_get_ps(wifi_ps_type_t *type)
{
    if (type == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&wifi.mu);
    esp_err_t err = wifi.init ? ESP_OK : ESP_ERR_WIFI_NOT_INIT;
    if (err == ESP_OK) {
        *type = wifi.ps;
    }
    pthread_mutex_unlock(&wifi.mu);
    return err;
}
