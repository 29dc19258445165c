#!/usr/bin/env bash
# make setconfig CONFIG_X=value ...: sets options in an sdkconfig and keeps the others;
# an unknown option, a value of the wrong type, out of range or not allowed by the
# dependencies is refused with a message and exit 2, and the file stays byte for byte.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
SRC=${OTAKIT_SRC:?set OTAKIT_SRC to the source tree}
if ! /usr/bin/python3 -c "import kconfiglib" 2>/dev/null; then
    echo "python3-kconfiglib is not installed: skipped"
    exit 77
fi
CFG=$T/sdkconfig
# setconfig via the Makefile, on a file of this test (BUILD: no reconfigure of a real build)
setconfig() { make -s -C "$SRC" setconfig SETCONFIG_FILE="$CFG" BUILD="$T/nobuild" "$@"; }
value() { sed -n "s/^$1=//p" "$CFG"; }

# a first call starts from sdkconfig.defaults (rollback on, two-OTA table)
t_expect_exit 0 setconfig CONFIG_EXAMPLE_WIFI_SSID="it's my net"
[ "$(value CONFIG_EXAMPLE_WIFI_SSID)" = "\"it's my net\"" ] && t_ok || t_fail "SSID: $(value CONFIG_EXAMPLE_WIFI_SSID)"
[ "$(value CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE)" = y ] && t_ok || t_fail "defaults were not the start"
grep -q "CONFIG_EXAMPLE_WIFI_SSID=it's my net" out.txt && t_ok || t_fail "prints what it set: $(cat out.txt)"

# a second call keeps the first one's value; several at once, any order of dependencies
t_expect_exit 0 setconfig CONFIG_BOOTLOADER_APP_SECURE_VERSION=3 CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y \
    CONFIG_ESPTOOLPY_FLASHSIZE_8MB=y CONFIG_PARTITION_TABLE_OFFSET=9000 CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY=7
[ "$(value CONFIG_EXAMPLE_WIFI_SSID)" = "\"it's my net\"" ] && t_ok || t_fail "the earlier value was lost"
[ "$(value CONFIG_BOOTLOADER_APP_SECURE_VERSION)" = 3 ] && t_ok || t_fail "secure version"
[ "$(value CONFIG_ESPTOOLPY_FLASHSIZE)" = '"8MB"' ] && t_ok || t_fail "a choice's member selects it"
[ "$(value CONFIG_ESPTOOLPY_FLASHSIZE_4MB)" = "" ] && t_ok || t_fail "the old choice is off"
[ "$(value CONFIG_PARTITION_TABLE_OFFSET)" = 0x9000 ] && t_ok || t_fail "hex without 0x"
[ "$(value CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY)" = 7 ] && t_ok || t_fail "int"
cp "$CFG" before.cfg

# refusals: the message names the problem, nothing is written (even for the good ones)
refused() { # refused TEXT ASSIGNMENT...
    local text=$1
    shift
    t_expect_exit 2 setconfig "$@"
    grep -qF -- "$text" err.txt && t_ok || t_fail "$* -> want '$text' in: $(cat err.txt)"
    cmp -s before.cfg "$CFG" && t_ok || t_fail "$* changed the file"
}
refused "no option CONFIG_EXAMPLE_MAX_RETRY in the Kconfig (did you mean CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY?)" \
    CONFIG_EXAMPLE_WIFI_SSID=other CONFIG_EXAMPLE_MAX_RETRY=3
refused "CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY=101 is not possible: the allowed range is 0..100" \
    CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY=101
refused "CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY is an int option: 'many' is not a decimal number" \
    CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY=many
refused "CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE is a bool option: its value is y or n, not 'yes'" \
    CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=yes
refused "CONFIG_PARTITION_TABLE_OFFSET is a hex option: '0xg000' is not a hex number" \
    CONFIG_PARTITION_TABLE_OFFSET=0xg000
refused "CONFIG_ESPTOOLPY_FLASHSIZE has no prompt" CONFIG_ESPTOOLPY_FLASHSIZE=2MB
refused "CONFIG_ESPTOOLPY_FLASHSIZE_8MB is one choice of 7" CONFIG_ESPTOOLPY_FLASHSIZE_8MB=n
refused "CONFIG_BOOTLOADER_APP_SECURE_VERSION=4 is not possible: it depends on CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK" \
    CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=n CONFIG_BOOTLOADER_APP_SECURE_VERSION=4
refused "give at least one option"

t_finish
