#!/usr/bin/env bash
# Build-time signing (scripts/signing.cmake): a missing CONFIG_SECURE_BOOT_SIGNING_KEY
# fails the build with a message naming the file and the command that makes one; an
# existing key passes. (The signing itself runs in the e2e tests' Secure Boot builds.)
SRC=${OTAKIT_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
check_key() { cmake -DKEY="$1" -DKEY_NAME="$2" -P "$SRC/scripts/check_signing_key.cmake"; }

t_expect_exit 1 check_key "$T/missing.pem" missing.pem
# cmake wraps its messages: compare with the whitespace squeezed
tr -s ' \n' '  ' <err.txt >err1.txt && mv err1.txt err.txt
grep -q "Secure Boot Signing Key $T/missing.pem does not exist" err.txt && t_ok || t_fail "no file named: $(cat err.txt)"
grep -q "otakit key generate --scheme rsa3072 $T/missing.pem" err.txt && t_ok || t_fail "no command: $(cat err.txt)"
grep -q "espsecure.py generate_signing_key --version 2 --scheme rsa3072 missing.pem" err.txt && t_ok ||
    t_fail "no espsecure command: $(cat err.txt)"

t_expect_exit 0 "$OTAKIT" key generate --scheme rsa3072 key.pem
t_expect_exit 0 check_key "$T/key.pem" key.pem

t_finish
