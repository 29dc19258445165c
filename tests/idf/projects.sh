#!/usr/bin/env bash
# ESP-IDF projects built with otakit as IDF_PATH: `. export.sh`, then idf.py, as a user of
# ESP-IDF works. Two projects, each copied into a temporary folder first:
#   - examples/get-started/hello_world, unchanged: set-target, build, the outputs where
#     ESP-IDF puts them, erase-flash flash monitor in one call, app-flash, size, fullclean;
#   - a project made here that uses every piece of the build interface: main/, components/,
#     EXTRA_COMPONENT_DIRS, an idf_component.yml path dependency, REQUIRES/PRIV_REQUIRES,
#     PRIV_INCLUDE_DIRS, SRC_DIRS, EMBED_FILES/EMBED_TXTFILES symbols, PROJECT_DIR,
#     MINIMAL_BUILD, Kconfig and Kconfig.projbuild with an $IDF_PATH orsource,
#     sdkconfig.defaults(.esp32) and -D SDKCONFIG_DEFAULTS, version.txt;
#   - and the errors: an unknown component, a registry dependency, a missing source;
#   - hello_world again with -D OTAKIT_HOST_BUILD (otakit's host parts reused, not compiled).
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
: "${OTAKIT_SRC:?OTAKIT_SRC must name the source directory}"
unset IDF_PATH IDF_TARGET
# shellcheck source=export.sh
. "$OTAKIT_SRC/export.sh" >/dev/null
[[ $(command -v idf.py) == "$OTAKIT_SRC/tools/idf.py" ]] || t_fail "export.sh did not put idf.py on PATH"
[[ $IDF_PATH == "$OTAKIT_SRC" ]] || t_fail "export.sh set IDF_PATH=$IDF_PATH"

# has FILE TEXT / lacks FILE TEXT

# The projects after hello_world reuse this build's host parts (-D OTAKIT_HOST_BUILD,
# checked with hello_world below): a whole host build each made this test the longest.
HOST=()
if [[ -n ${OTAKIT_BUILD:-} && -f $OTAKIT_BUILD/otakit-host-targets.cmake ]]; then
  HOST=(-D "OTAKIT_HOST_BUILD=$OTAKIT_BUILD")
fi

# ---- hello_world, as ESP-IDF ships it
cp -r "$OTAKIT_SRC/examples/get-started/hello_world" hello
t_expect_exit 0 idf.py -C hello set-target esp32
t_expect_has out.txt "Set Target to: esp32"
t_expect_exit 0 idf.py -C hello build
t_expect_has out.txt "Project build complete"
t_expect_has out.txt "hello_world.bin binary size 0x"
for f in hello_world.bin hello_world.elf bootloader/bootloader.bin partition_table/partition-table.bin \
  flash_args config/sdkconfig.h; do
  if [[ -s hello/build/$f ]]; then t_ok; else t_fail "build/$f is missing"; fi
done
[[ -f hello/sdkconfig ]] && t_ok || t_fail "no sdkconfig written into the project"
# ESP-IDF's defaults when the project names none: 2 MB flash, the single-app table.
t_expect_has hello/sdkconfig "CONFIG_ESPTOOLPY_FLASHSIZE_2MB=y"
t_expect_has hello/sdkconfig "CONFIG_PARTITION_TABLE_SINGLE_APP=y"
t_expect_has hello/build/flash_args "--flash_size 2MB"
t_expect_has hello/build/flash_args "0x1000 bootloader/bootloader.bin"
t_expect_has hello/build/flash_args "0x8000 partition_table/partition-table.bin"
t_expect_has hello/build/flash_args "0x10000 hello_world.bin"
t_expect_lacks hello/build/flash_args "ota_data_initial.bin"
t_expect_exit 0 "$OTAKIT" image info hello/build/hello_world.bin --json
t_expect_has out.txt '"project":"hello_world"'
t_expect_exit 0 "$OTAKIT" image verify hello/build/hello_world.bin
t_expect_exit 0 "$OTAKIT" image verify hello/build/bootloader/bootloader.bin

# erase-flash flash monitor, several actions in one call, -p naming the flash file
export OTAKIT_MONITOR_ARGS="--until Restarting --timeout 60"
t_expect_exit 0 idf.py -C hello -p "$T/dev.bin" erase-flash flash monitor
t_expect_has out.txt "Hello world!"
t_expect_has out.txt "app_init: Project name:     hello_world"
t_expect_has out.txt "Running partition factory at offset 0x10000"
[[ $(stat -c %s dev.bin) == 2097152 ]] && t_ok || t_fail "erase-flash made $(stat -c %s dev.bin) bytes, want 2 MB"
# app-flash writes the app alone: a changed app boots, the bootloader bytes stay as they were
boot_before=$(head -c 32768 dev.bin | sha256sum)
echo "2.0.0" >hello/version.txt
t_expect_exit 0 idf.py -C hello -p "$T/dev.bin" reconfigure app-flash monitor
t_expect_has out.txt "App version:      2.0.0"
[[ $(head -c 32768 dev.bin | sha256sum) == "$boot_before" ]] && t_ok || t_fail "app-flash changed the bootloader area"
# a call to a function otakit does not provide: the link fails and names the function
cp hello/main/hello_world_main.c main.c.orig
sed -i -e 's/^void app_main(void)$/esp_err_t esp_wifi_set_country_code(const char *country, bool ieee80211d_enabled);\n&/' \
  -e 's/^    printf("Hello world!\\n");$/&\n    esp_wifi_set_country_code("01", true);/' hello/main/hello_world_main.c
grep -q 'esp_wifi_set_country_code("01"' hello/main/hello_world_main.c || t_fail "the unprovided call was not added"
t_expect_exit 1 idf.py -C hello build
cat out.txt err.txt >both.txt
t_expect_has both.txt "undefined reference to \`esp_wifi_set_country_code'"
cp main.c.orig hello/main/hello_world_main.c
t_expect_exit 0 idf.py -C hello size
t_expect_has out.txt "Smallest app partition is 0x100000 bytes"
t_expect_exit 0 idf.py -C hello fullclean
[[ ! -e hello/build/CMakeCache.txt ]] && t_ok || t_fail "fullclean left the build"
# -D OTAKIT_HOST_BUILD: the host parts come from otakit's own build (as its `make` builds
# its apps); only what reads the project's sdkconfig is compiled here.
if [[ -n ${OTAKIT_BUILD:-} && -f $OTAKIT_BUILD/otakit-host-targets.cmake ]]; then
  t_expect_exit 0 idf.py -C hello -D "OTAKIT_HOST_BUILD=$OTAKIT_BUILD" build
  t_expect_has out.txt "Project build complete"
  [[ -s hello/build/hello_world.bin && -s hello/build/bootloader/bootloader.bin ]] && t_ok ||
    t_fail "OTAKIT_HOST_BUILD: the app or the bootloader is missing"
  [[ -z $(find hello/build -name 'libotakit_core.a' -o -name 'libotakit_sim.a' -o -name otakit -type f) ]] &&
    t_ok || t_fail "OTAKIT_HOST_BUILD: the host parts were compiled again"
  t_expect_has hello/build/project_description.json "\"otakit\": \"$(cd "$OTAKIT_BUILD" && pwd)/otakit\""
  t_expect_exit 0 idf.py -C hello -p "$T/dev2.bin" erase-flash flash monitor
  t_expect_has out.txt "Hello world!"
  t_expect_exit 0 idf.py -C hello fullclean
  t_expect_exit 1 idf.py -C hello -D "OTAKIT_HOST_BUILD=$T/nowhere" build
  cat out.txt err.txt >both.txt
  t_expect_has both.txt "=$T/nowhere is not a built otakit tree"
  rm -rf hello/build
fi
t_expect_exit 1 idf.py -C hello set-target esp32s3
t_expect_has err.txt "target 'esp32s3' is not supported"
t_expect_exit 2 idf.py -C hello no-such-action
t_expect_has err.txt "unknown action 'no-such-action'"

# ---- a project that uses the whole build interface
P=$T/feat
mkdir -p "$P"/main/priv "$P"/components/greet/include "$P"/components/greet/src "$P"/extra/shout \
  "$P"/deps/pathdep "$P"/certs
cat >"$P/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
set(EXTRA_COMPONENT_DIRS extra)
include($ENV{IDF_PATH}/tools/cmake/project.cmake)
idf_build_set_property(MINIMAL_BUILD ON)
project(feat)
EOF
echo "3.1.4" >"$P/version.txt"
cat >"$P/main/CMakeLists.txt" <<'EOF'
idf_build_get_property(project_dir PROJECT_DIR)
idf_build_get_property(target IDF_TARGET)
idf_component_register(SRCS "feat_main.c"
                       INCLUDE_DIRS "."
                       PRIV_INCLUDE_DIRS "priv"
                       PRIV_REQUIRES greet shout pathdep esp_partition esp_driver_gpio freertos
                       EMBED_TXTFILES ${project_dir}/certs/ca_cert.pem
                       EMBED_FILES ${project_dir}/certs/blob.bin)
target_compile_definitions(${COMPONENT_LIB} PRIVATE FEAT_TARGET="${target}")
EOF
cat >"$P/main/Kconfig.projbuild" <<'EOF'
menu "Feature Configuration"
    orsource "$IDF_PATH/examples/common_components/env_caps/$IDF_TARGET/Kconfig.env_caps"
    config FEAT_GPIO
        int "A GPIO"
        range ENV_GPIO_RANGE_MIN ENV_GPIO_OUT_RANGE_MAX
        default 5
    config FEAT_FROM_CI
        bool "Set by the CI defaults"
        default n
endmenu
EOF
cat >"$P/main/idf_component.yml" <<'EOF'
## the path dependency below is relative to this file's folder
dependencies:
  idf: ">=5.0"
  pathdep:
    path: ../deps/pathdep
EOF
echo '#define FEAT_PRIV 42' >"$P/main/priv/feat_priv.h"
cat >"$P/main/feat_main.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "driver/gpio.h"
#include "esp_log.h"
#include "feat_priv.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "greet.h"
#include "pathdep.h"
#include "sdkconfig.h"
#include "shout.h"

extern const char ca_start[] asm("_binary_ca_cert_pem_start");
extern const char ca_end[] asm("_binary_ca_cert_pem_end");
extern const uint8_t blob_start[] asm("_binary_blob_bin_start");
extern const uint8_t blob_end[] asm("_binary_blob_bin_end");
extern const uint32_t blob_bin_length;

void app_main(void)
{
    unsigned sum = 0;
    for (const uint8_t *p = blob_start; p < blob_end; p++)
        sum += *p;
    printf("greet=%s shout=%s pathdep=%d priv=%d target=%s\n", greet(), shout(), pathdep(),
           FEAT_PRIV, FEAT_TARGET);
    printf("ca: %d bytes with NUL, strlen %d, first line '%.27s'\n", (int)(ca_end - ca_start),
           (int)strlen(ca_start), ca_start);
    printf("blob: %d bytes, length symbol %u, sum %u\n", (int)(blob_end - blob_start),
           (unsigned)blob_bin_length, sum);
    printf("gpio=%d from_ci=%d word=%s\n", CONFIG_FEAT_GPIO,
#ifdef CONFIG_FEAT_FROM_CI
           1,
#else
           0,
#endif
           CONFIG_GREET_WORD);

    gpio_config_t in = {.pin_bit_mask = (1ULL << 4) | (1ULL << 35), .mode = GPIO_MODE_INPUT,
                        .pull_up_en = GPIO_PULLUP_ENABLE};
    gpio_config_t down = {.pin_bit_mask = 1ULL << 5, .mode = GPIO_MODE_INPUT,
                          .pull_down_en = GPIO_PULLDOWN_ENABLE};
    gpio_config_t out = {.pin_bit_mask = 1ULL << 2, .mode = GPIO_MODE_INPUT_OUTPUT};
    gpio_config_t bad = {.pin_bit_mask = 1ULL << 34, .mode = GPIO_MODE_OUTPUT};
    ESP_ERROR_CHECK(gpio_config(&in));
    ESP_ERROR_CHECK(gpio_config(&down));
    ESP_ERROR_CHECK(gpio_config(&out));
    ESP_ERROR_CHECK(gpio_set_level(GPIO_NUM_2, 1));
    printf("gpio levels: 4=%d 5=%d 2=%d 35=%d; output on 34: %s\n", gpio_get_level(GPIO_NUM_4),
           gpio_get_level(GPIO_NUM_5), gpio_get_level(GPIO_NUM_2), gpio_get_level(GPIO_NUM_35),
           esp_err_to_name(gpio_config(&bad)));
    vTaskDelay(pdMS_TO_TICKS(3000));
    printf("gpio after 3 s: 4=%d 35=%d\n", gpio_get_level(GPIO_NUM_4), gpio_get_level(GPIO_NUM_35));
    ESP_ERROR_CHECK(gpio_reset_pin(GPIO_NUM_4));
    printf("gpio 4 after reset: %d\n", gpio_get_level(GPIO_NUM_4));
}
EOF
cat >"$P/components/greet/CMakeLists.txt" <<'EOF'
idf_component_register(SRC_DIRS "src" INCLUDE_DIRS "include" REQUIRES log)
EOF
cat >"$P/components/greet/Kconfig" <<'EOF'
menu "Greet"
    config GREET_WORD
        string "The greeting"
        default "hello"
endmenu
EOF
echo 'const char *greet(void);' >"$P/components/greet/include/greet.h"
cat >"$P/components/greet/src/greet.c" <<'EOF'
#include "greet.h"
#include "sdkconfig.h"
const char *greet(void) { return CONFIG_GREET_WORD; }
EOF
echo 'idf_component_register(SRCS "shout.c" INCLUDE_DIRS ".")' >"$P/extra/shout/CMakeLists.txt"
echo 'const char *shout(void);' >"$P/extra/shout/shout.h"
echo 'const char *shout(void) { return "HEY"; }' >"$P/extra/shout/shout.c"
echo 'idf_component_register(SRCS "pathdep.c" INCLUDE_DIRS ".")' >"$P/deps/pathdep/CMakeLists.txt"
echo 'int pathdep(void);' >"$P/deps/pathdep/pathdep.h"
echo 'int pathdep(void) { return 7; }' >"$P/deps/pathdep/pathdep.c"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$P/certs/ca_cert.pem"
printf '\x01\x02\x03\xff' >"$P/certs/blob.bin"
printf 'CONFIG_GREET_WORD="bonjour"\n' >"$P/sdkconfig.defaults"
printf 'CONFIG_ESPTOOLPY_FLASHSIZE_4MB=y\n' >"$P/sdkconfig.defaults.esp32"
printf 'CONFIG_FEAT_FROM_CI=y\nCONFIG_FEAT_GPIO=33\n' >"$P/sdkconfig.ci"

t_expect_exit 0 idf.py -C "$P" "${HOST[@]}" -D "SDKCONFIG_DEFAULTS=sdkconfig.defaults;sdkconfig.ci" build
t_expect_has "$P/sdkconfig" 'CONFIG_GREET_WORD="bonjour"'
t_expect_has "$P/sdkconfig" "CONFIG_ESPTOOLPY_FLASHSIZE_4MB=y"
t_expect_has "$P/sdkconfig" "CONFIG_FEAT_FROM_CI=y"
t_expect_has "$P/sdkconfig" "CONFIG_ENV_GPIO_RANGE_MAX=39"
export OTAKIT_MONITOR_ARGS="--until Returned --timeout 60"
t_expect_exit 0 idf.py -C "$P" -p "$T/feat.bin" erase-flash flash monitor
t_expect_has out.txt "greet=bonjour shout=HEY pathdep=7 priv=42 target=esp32"
t_expect_has out.txt "ca: 60 bytes with NUL, strlen 59, first line '-----BEGIN CERTIFICATE-----'"
t_expect_has out.txt "blob: 4 bytes, length symbol 4, sum 261"
t_expect_has out.txt "gpio=33 from_ci=1 word=bonjour"
t_expect_has out.txt "App version:      3.1.4"
# no --gpio: the pulls decide; GPIO2 reads back its own output
t_expect_has out.txt "gpio levels: 4=1 5=0 2=1 35=1; output on 34: ESP_ERR_INVALID_ARG"
t_expect_has out.txt "GPIO_NUM_34 can only be input"
t_expect_has out.txt "gpio after 3 s: 4=1 35=1"
t_expect_has out.txt "gpio 4 after reset: 0"
# the host drives GPIO4 low from power-on and releases it at 2 s; GPIO35 goes low at 1 s
export OTAKIT_MONITOR_ARGS="--until Returned --timeout 60 --gpio 4=1@2000 --gpio 4=0 --gpio 35=0@1000"
t_expect_exit 0 idf.py -C "$P" -p "$T/feat.bin" monitor
t_expect_has out.txt "gpio levels: 4=0 5=0 2=1 35=1"
t_expect_has out.txt "gpio after 3 s: 4=1 35=0"
[[ $(stat -c %s feat.bin) == 4194304 ]] && t_ok || t_fail "sdkconfig.defaults.esp32's 4 MB flash was not used"

# A value out of the Kconfig range is refused by the configuration step, not built.
printf 'CONFIG_FEAT_GPIO=36\n' >>"$P/sdkconfig"
t_expect_exit 0 idf.py -C "$P" reconfigure
t_expect_has err.txt "CONFIG_FEAT_GPIO=36 is outside the range it allows; using 5"
t_expect_has "$P/sdkconfig" "CONFIG_FEAT_GPIO=5"

# ---- protocol_examples_common, named by path as ESP-IDF's examples name it
C=$T/conn
mkdir -p "$C/main"
cat >"$C/CMakeLists.txt" <<'EOF2'
cmake_minimum_required(VERSION 3.16)
include($ENV{IDF_PATH}/tools/cmake/project.cmake)
idf_build_set_property(MINIMAL_BUILD ON)
project(conn)
EOF2
cat >"$C/main/CMakeLists.txt" <<'EOF2'
idf_component_register(SRCS "conn_main.c" INCLUDE_DIRS "." PRIV_REQUIRES esp_netif esp_event)
EOF2
cat >"$C/main/idf_component.yml" <<'EOF2'
dependencies:
  protocol_examples_common:
    path: ${IDF_PATH}/examples/common_components/protocol_examples_common
EOF2
cat >"$C/main/conn_main.c" <<'EOF2'
#include <stdio.h>
#include "esp_event.h"
#include "esp_netif.h"
#include "protocol_examples_common.h"

void app_main(void)
{
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_configure_stdin_stdout());
    esp_err_t err = example_connect();
    printf("example_connect: %s, netif %s\n", esp_err_to_name(err),
           get_example_netif_from_desc(EXAMPLE_NETIF_DESC_STA) ? "found" : "none");
    if (err == ESP_OK)
        ESP_ERROR_CHECK(example_disconnect());
}
EOF2
printf 'CONFIG_EXAMPLE_WIFI_SSID="lab"\nCONFIG_EXAMPLE_WIFI_PASSWORD="s3cretpass"\nCONFIG_EXAMPLE_WIFI_CONN_MAX_RETRY=2\n' \
  >"$C/sdkconfig.defaults"
t_expect_exit 0 idf.py -C "$C" "${HOST[@]}" build
export OTAKIT_MONITOR_ARGS="--until Returned --timeout 120 --wifi-aps lab:s3cretpass"
t_expect_exit 0 idf.py -C "$C" -p "$T/conn.bin" erase-flash flash monitor
t_expect_has out.txt "example_connect: Connecting to lab..."
t_expect_has out.txt 'example_connect: Got IPv4 event: Interface "example_netif_sta" address: 127.0.0.1'
t_expect_has out.txt "example_common: - IPv4 address: 127.0.0.1,"
t_expect_has out.txt "example_connect: ESP_OK, netif found"
export OTAKIT_MONITOR_ARGS="--until Returned --timeout 120 --wifi-aps lab:wrong"
t_expect_exit 0 idf.py -C "$C" -p "$T/conn.bin" monitor
t_expect_has out.txt "Wi-Fi disconnected 15, trying to reconnect..."
t_expect_has out.txt "WiFi Connect failed 3 times, stop reconnect."
t_expect_has out.txt "example_connect: ESP_FAIL, netif found"
[[ $(grep -c "trying to reconnect" out.txt) == 2 ]] && t_ok || t_fail "want 2 reconnections: $(grep -c "trying to reconnect" out.txt)"

# ---- errors a user meets, each named
E=$T/bad
cp -r "$P" "$E" && rm -rf "$E/build" "$E/sdkconfig"
sed -i 's/PRIV_REQUIRES greet/PRIV_REQUIRES no_such_component greet/' "$E/main/CMakeLists.txt"
t_expect_exit 1 idf.py -C "$E" build
t_expect_has err.txt "Failed to resolve component 'no_such_component' required by component"
cp "$P/main/CMakeLists.txt" "$E/main/CMakeLists.txt"
printf 'dependencies:\n  espressif/led_strip: "^2.5"\n' >"$E/main/idf_component.yml"
rm -rf "$E/build"
t_expect_exit 1 idf.py -C "$E" build
t_expect_has err.txt "'espressif/led_strip' is not given by"
cp "$P/main/idf_component.yml" "$E/main/idf_component.yml"
sed -i 's/"feat_main.c"/"feat_main.c" "missing.c"/' "$E/main/CMakeLists.txt"
rm -rf "$E/build"
t_expect_exit 1 idf.py -C "$E" build
t_expect_has err.txt "missing.c does"
rm -rf "$E/main"
t_expect_exit 1 idf.py -C "$E" build
t_expect_has err.txt "has no main/CMakeLists.txt"
t_finish
