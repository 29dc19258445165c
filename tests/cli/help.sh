#!/usr/bin/env bash
# Every subcommand: --help (and -h, anywhere on the line) exits 0 with its usage on
# stdout; an unknown option exits 2 naming it; an option without its value exits 2.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"

commands=(
    "partition" "partition compile" "partition show"
    "image" "image info" "image verify" "image create" "image extract"
    "otadata" "otadata show" "otadata switch" "otadata erase"
    "flash" "flash info" "flash write" "flash read" "flash erase"
    "boot" "serve" "device" "device run"
    "efuse" "efuse show" "efuse burn-key-digest" "efuse revoke" "efuse set-secure-version"
    "image sign" "key" "key generate" "key digest" "key extract-public"
    "nvs" "nvs show" "nvs get" "nvs set" "nvs erase" "nvs compile"
    "fleet" "fleet serve" "fleet sim" "fleet upload" "fleet artifacts" "fleet devices"
    "fleet device" "fleet rollouts" "fleet rollout"
)
for c in "${commands[@]}"; do
    read -r -a words <<<"$c"
    t_expect_exit 0 "$OTAKIT" "${words[@]}" --help
    grep -q "^usage: otakit ${words[0]}" out.txt && t_ok || t_fail "'$c --help' prints no usage: $(head -2 out.txt)"
    [ ! -s err.txt ] && t_ok || t_fail "'$c --help' wrote to stderr: $(cat err.txt)"
    t_expect_exit 0 "$OTAKIT" "${words[@]}" -h
    # an unknown option: exit 2, named; (for 'device' and 'image' the word is a verb)
    t_expect_exit 2 "$OTAKIT" "${words[@]}" --no-such-option
    grep -q -- "--no-such-option" err.txt && t_ok || t_fail "'$c --no-such-option' does not name it: $(cat err.txt)"
    [ ! -s out.txt ] && t_ok || t_fail "'$c --no-such-option' printed on stdout"
done
# --help after other arguments still helps (and touches nothing)
t_expect_exit 0 "$OTAKIT" otadata show nope.bin --help
t_expect_exit 0 "$OTAKIT" flash write new.bin 0x1000 nope.bin --help
[ ! -e new.bin ] && t_ok || t_fail "flash write --help created the flash file"
t_expect_exit 0 "$OTAKIT" boot nope.bin --json --help
t_expect_exit 0 "$OTAKIT" device run --timeout 1 --help

# options that need a value, given none: exit 2 and say so
for c in "otadata show f.bin --table-offset" "flash write f.bin --size" "boot f.bin --secure-version" \
    "serve --port" "device run --flash" "partition show x.bin --offset" "efuse show --efuse"; do
    read -r -a words <<<"$c"
    t_expect_exit 2 "$OTAKIT" "${words[@]}"
    grep -q "needs a value" err.txt && t_ok || t_fail "'$c' without a value: $(cat err.txt)"
done
# unknown short options are named as such
t_expect_exit 2 "$OTAKIT" otadata show f.bin -x
grep -q "unknown option '-x'" err.txt && t_ok || t_fail "-x not named: $(cat err.txt)"
# the top level
t_expect_exit 0 "$OTAKIT" --help
grep -q "^usage: otakit <command>" out.txt && t_ok || t_fail "otakit --help"
t_expect_exit 2 "$OTAKIT" --no-such-option
t_expect_exit 2 "$OTAKIT"

t_finish
