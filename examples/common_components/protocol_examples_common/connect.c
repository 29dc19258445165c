/* example_connect() over otakit's virtual radio: ESP-IDF's station sequence (init, STA
 * mode, start, set the configured SSID, connect), reconnecting on every
 * WIFI_EVENT_STA_DISCONNECTED until CONFIG_EXAMPLE_WIFI_CONN_MAX_RETRY is used up, and
 * returning once IP_EVENT_STA_GOT_IP arrives. The log lines are ESP-IDF's, so a user's
 * expectations (and scripts that wait for "Got IPv4 event") carry over. */
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "protocol_examples_common.h"

#define GOT_IP_BIT (1u << 0)
#define GAVE_UP_BIT (1u << 1)

static const char *TAG = "example_connect";
static esp_netif_t *s_sta;
static EventGroupHandle_t s_events;
static int s_retry;

static void on_disconnected(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    const wifi_event_sta_disconnected_t *d = data;
    s_retry++;
    if (CONFIG_EXAMPLE_WIFI_CONN_MAX_RETRY >= 0 && s_retry > CONFIG_EXAMPLE_WIFI_CONN_MAX_RETRY) {
        ESP_LOGI(TAG, "WiFi Connect failed %d times, stop reconnect.", s_retry);
        xEventGroupSetBits(s_events, GAVE_UP_BIT);
        return;
    }
    ESP_LOGI(TAG, "Wi-Fi disconnected %d, trying to reconnect...", d ? (int)d->reason : 0);
    esp_err_t err = esp_wifi_connect();
    if (err == ESP_ERR_WIFI_NOT_STARTED)
        return;
    ESP_ERROR_CHECK(err);
}

static void on_got_ip(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    const ip_event_got_ip_t *e = data;
    s_retry = 0;
    ESP_LOGI(TAG, "Got IPv4 event: Interface \"%s\" address: " IPSTR, EXAMPLE_NETIF_DESC_STA,
             IP2STR(&e->ip_info.ip));
    xEventGroupSetBits(s_events, GOT_IP_BIT);
}

static void unregister_handlers(void)
{
    esp_event_handler_unregister(WIFI_EVENT, WIFI_EVENT_STA_DISCONNECTED, on_disconnected);
    esp_event_handler_unregister(IP_EVENT, IP_EVENT_STA_GOT_IP, on_got_ip);
}

esp_err_t example_connect(void)
{
    ESP_LOGI(TAG, "Start example_connect.");
    wifi_init_config_t cfg = WIFI_INIT_CONFIG_DEFAULT();
    ESP_ERROR_CHECK(esp_wifi_init(&cfg));
    s_sta = esp_netif_create_default_wifi_sta();
    ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
    ESP_ERROR_CHECK(esp_wifi_start());

    s_events = xEventGroupCreate();
    s_retry = 0;
    ESP_ERROR_CHECK(
        esp_event_handler_register(WIFI_EVENT, WIFI_EVENT_STA_DISCONNECTED, on_disconnected, NULL));
    ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_got_ip, NULL));

    wifi_config_t wc;
    memset(&wc, 0, sizeof(wc));
    strncpy((char *)wc.sta.ssid, CONFIG_EXAMPLE_WIFI_SSID, sizeof(wc.sta.ssid));
    strncpy((char *)wc.sta.password, CONFIG_EXAMPLE_WIFI_PASSWORD, sizeof(wc.sta.password));
    ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &wc));
    ESP_LOGI(TAG, "Connecting to %s...", CONFIG_EXAMPLE_WIFI_SSID);
    esp_err_t err = esp_wifi_connect();
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "WiFi connect failed! ret:%x", err);
        unregister_handlers();
        return err;
    }
    ESP_LOGI(TAG, "Waiting for IP(s)");
    EventBits_t bits =
        xEventGroupWaitBits(s_events, GOT_IP_BIT | GAVE_UP_BIT, pdFALSE, pdFALSE, portMAX_DELAY);
    if (!(bits & GOT_IP_BIT)) {
        unregister_handlers();
        esp_wifi_stop();
        return ESP_FAIL;
    }
    esp_netif_ip_info_t ip;
    ESP_ERROR_CHECK(esp_netif_get_ip_info(s_sta, &ip));
    ESP_LOGI("example_common", "Connected to %s", EXAMPLE_NETIF_DESC_STA);
    ESP_LOGI("example_common", "- IPv4 address: " IPSTR ",", IP2STR(&ip.ip));
    return ESP_OK;
}

esp_err_t example_disconnect(void)
{
    if (!s_sta)
        return ESP_ERR_INVALID_STATE;
    unregister_handlers();
    esp_wifi_disconnect();
    esp_wifi_stop();
    esp_wifi_deinit();
    esp_netif_destroy(s_sta);
    s_sta = NULL;
    if (s_events) {
        vEventGroupDelete(s_events);
        s_events = NULL;
    }
    ESP_LOGI(TAG, "Disconnected from %s", CONFIG_EXAMPLE_WIFI_SSID);
    return ESP_OK;
}

esp_netif_t *get_example_netif(void)
{
    return s_sta;
}

esp_netif_t *get_example_netif_from_desc(const char *desc)
{
    return desc && strcmp(desc, EXAMPLE_NETIF_DESC_STA) == 0 ? s_sta : NULL;
}
