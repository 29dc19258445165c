#!/usr/bin/env bash
# What each program loads at start (docs/performance.md): the otakit tool, the bootloader
# and the apps name no libcurl, libmicrohttpd or GnuTLS (they cost most of a start-up);
# only otakit-serve, which `otakit serve` runs, loads libmicrohttpd; an app loads libcurl
# when it first uses esp_http_client (src/esp/curl_lazy.c, covered by the e2e OTA tests).
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"

B=${OTAKIT_BUILD:?set OTAKIT_BUILD to the build directory}
heavy='lib(curl|microhttpd|gnutls|gssapi_krb5|ldap|rtmp|ssh2)[-.]'

# libs PROGRAM: the shared libraries the dynamic loader maps for PROGRAM (what ldd prints)
libs() {
    ldd "$1" | awk '{print $1}'
}

programs=("$OTAKIT")
built=(projects/native_ota_example/otakit-host/firmware/bootloader/bootloader)
# A sanitizer build makes no app (they would not fit their partitions: firmware/CMakeLists.txt).
if ! grep -qx 'OTAKIT_SANITIZE:BOOL=ON' "$B/CMakeCache.txt"; then
    built+=(projects/hello_world/hello_world.elf projects/native_ota_example/native_ota.elf)
fi
for p in "${built[@]}"; do
    if [[ -x $B/$p ]]; then
        programs+=("$B/$p")
    else
        t_fail "$B/$p is not built"
    fi
done
for p in "${programs[@]}"; do
    libs "$p" >libs.txt
    if grep -Eq "$heavy" libs.txt; then
        t_fail "$(basename "$p") loads $(grep -E "$heavy" libs.txt | tr '\n' ' ')"
    else
        t_ok
    fi
done

serve=$(dirname "$OTAKIT")/otakit-serve
[[ -x $serve ]] && t_ok || t_fail "otakit-serve is not beside $OTAKIT"
libs "$serve" | grep -q '^libmicrohttpd' && t_ok || t_fail "otakit-serve does not load libmicrohttpd"

# `otakit serve` without otakit-serve beside it: exit 1, naming the missing program
mkdir alone
cp "$OTAKIT" alone/otakit
t_expect_exit 1 alone/otakit serve --help
grep -q "serve: cannot run .*alone/otakit-serve" err.txt && t_ok || t_fail "missing otakit-serve: $(cat err.txt)"
[ ! -s out.txt ] && t_ok || t_fail "missing otakit-serve printed on stdout"

t_finish
