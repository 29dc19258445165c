# shellcheck shell=bash
# Shared by tests/idf/ota_*.sh (sourced, not run; ctest registers only *.sh): otakit's
# export.sh, hello_world built with idf.py and served over HTTPS by `otakit serve`, and a
# terminal (t_term_*) to drive idf.py's interactive actions with keys.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/testlib.bash"
: "${OTAKIT_SRC:?OTAKIT_SRC must name the source directory}"
command -v openssl >/dev/null 2>&1 || { echo "openssl is missing (scripts/setup.sh installs it)"; exit 77; }
t_term_require

unset IDF_PATH IDF_TARGET
pushd "$OTAKIT_SRC" >/dev/null
# shellcheck source=export.sh
. ./export.sh >/dev/null
popd >/dev/null
[[ $IDF_PATH == "$OTAKIT_SRC" && $(command -v idf.py) == "$OTAKIT_SRC/tools/idf.py" ]] ||
  { echo "export.sh did not set IDF_PATH and PATH" >&2; exit 1; }
# With otakit built (ctest's OTAKIT_BUILD), a project's set-target adds these options: the
# project reuses otakit's host parts instead of compiling them again.
HOST=()
if [[ -n ${OTAKIT_BUILD:-} && -f $OTAKIT_BUILD/otakit-host-targets.cmake ]]; then
  HOST=(-D "OTAKIT_HOST_BUILD=$OTAKIT_BUILD")
fi

# serve_hello: examples/get-started/hello_world copied to $T/hello and built with idf.py
# (IMG: its image), a certificate for 127.0.0.1 ($T/cert.pem, $T/key.pem), and
# `otakit serve` of hello/build over HTTPS on a free port (URL: the image's URL; the
# access log in $T/access.log).
serve_hello() {
  cp -r "$OTAKIT_SRC/examples/get-started/hello_world" "$T/hello"
  (cd "$T/hello" && idf.py "${HOST[@]}" set-target esp32 && idf.py build) >"$T/hello.txt" 2>&1 ||
    { cat "$T/hello.txt" >&2; exit 1; }
  # shellcheck disable=SC2034 # IMG and URL are for the test that sources this file
  IMG=$T/hello/build/hello_world.bin
  t_tls_cert "$T/cert.pem" "$T/key.pem"
  t_serve_start serve "$T/hello/build" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
    --access-log "$T/access.log" || exit 1
  local base=$T_URL
  [[ $base == https://127.0.0.1:* ]] || { echo "no server URL: $(cat "$T/serve.out" "$T/serve.err")" >&2; exit 1; }
  # shellcheck disable=SC2034
  URL=${base%/}/hello_world.bin
}
