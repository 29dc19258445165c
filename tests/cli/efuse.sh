#!/usr/bin/env bash
# otakit efuse on a virtual device's eFuse file: show (text and JSON), burn-key-digest
# (from a key or a 32-byte digest; the same digest twice and a fourth one refused),
# revoke, set-secure-version (never down); the older one-number file still reads; a
# malformed file is refused, not rewritten.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"

jq_py() { $T_PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# A missing file is all zero (nothing burned) and is not created by show.
t_expect_exit 0 "$OTAKIT" efuse show --flash dev.bin --json
[ "$(jq_py out.txt '(j["secure_version"], [b["digest"] for b in j["key_blocks"]])')" = "(0, [None, None, None])" ] && t_ok || t_fail "fresh eFuse: $(cat out.txt)"
[ ! -e dev.bin.efuse ] && t_ok || t_fail "show created the eFuse file"

for k in k1 k2 k3 k4; do
    t_expect_exit 0 "$OTAKIT" key generate --scheme ecdsa256 $k.pem
done
t_expect_exit 0 "$OTAKIT" key digest --keyfile k2.pem -o k2.bin
d1=$("$OTAKIT" key digest --keyfile k1.pem --json | $T_PY -c 'import json,sys; print(json.load(sys.stdin)["digest"])')

t_expect_exit 0 "$OTAKIT" efuse burn-key-digest --flash dev.bin --keyfile k1.pem
grep -q "into block 0" out.txt && t_ok || t_fail "burn k1: $(cat out.txt)"
t_expect_exit 0 "$OTAKIT" efuse burn-key-digest --flash dev.bin k2.bin
grep -q "into block 1" out.txt && t_ok || t_fail "burn k2: $(cat out.txt)"
t_expect_exit 1 "$OTAKIT" efuse burn-key-digest --flash dev.bin --keyfile k1.pem
grep -q "already burned in block 0" err.txt && t_ok || t_fail "burn k1 twice: $(cat err.txt)"
t_expect_exit 0 "$OTAKIT" efuse burn-key-digest --flash dev.bin --keyfile k3.pem
t_expect_exit 1 "$OTAKIT" efuse burn-key-digest --flash dev.bin --keyfile k4.pem
grep -q "all 3 key digest blocks are burned" err.txt && t_ok || t_fail "fourth key: $(cat err.txt)"

t_expect_exit 0 "$OTAKIT" efuse revoke --efuse dev.bin.efuse 1
t_expect_exit 0 "$OTAKIT" efuse revoke --efuse dev.bin.efuse 1 # revoking again changes nothing
t_expect_exit 2 "$OTAKIT" efuse revoke --efuse dev.bin.efuse 3
grep -q "block 3 does not exist" err.txt && t_ok || t_fail "revoke 3: $(cat err.txt)"

t_expect_exit 0 "$OTAKIT" efuse set-secure-version --flash dev.bin 5
t_expect_exit 1 "$OTAKIT" efuse set-secure-version --flash dev.bin 4
grep -q "cannot go down to 4" err.txt && t_ok || t_fail "lower secure version: $(cat err.txt)"

t_expect_exit 0 "$OTAKIT" efuse show --flash dev.bin --json
[ "$(jq_py out.txt '(j["secure_version"], j["key_blocks"][0]["digest"] == "'"$d1"'", [b["revoked"] for b in j["key_blocks"]])')" = "(5, True, [False, True, False])" ] && t_ok || t_fail "show --json: $(cat out.txt)"
t_expect_exit 0 "$OTAKIT" efuse show --flash dev.bin
grep -q "^Secure version (anti-rollback counter): 5$" out.txt && t_ok || t_fail "show: $(cat out.txt)"
grep -q "^Secure Boot key digest 1: [0-9a-f]\{64\} (revoked)$" out.txt && t_ok || t_fail "show: $(cat out.txt)"

# bad usage and bad input
t_expect_exit 2 "$OTAKIT" efuse burn-key-digest --flash dev.bin
t_expect_exit 2 "$OTAKIT" efuse burn-key-digest --flash dev.bin --keyfile k4.pem k2.bin
printf 'short' >short.bin
t_expect_exit 2 "$OTAKIT" efuse burn-key-digest --flash x.bin short.bin
grep -q "a key digest is 32 bytes" err.txt && t_ok || t_fail "short digest: $(cat err.txt)"
t_expect_exit 2 "$OTAKIT" efuse set-secure-version --flash dev.bin lots
t_expect_exit 2 "$OTAKIT" efuse frobnicate
grep -q "unknown verb 'frobnicate'" err.txt && t_ok || t_fail "unknown verb: $(cat err.txt)"

# The older format (one number) reads as the counter; a change rewrites it in the new one.
echo 7 >old.efuse
t_expect_exit 0 "$OTAKIT" efuse show --efuse old.efuse --json
[ "$(jq_py out.txt 'j["secure_version"]')" = 7 ] && t_ok || t_fail "old format: $(cat out.txt)"
t_expect_exit 0 "$OTAKIT" efuse set-secure-version --efuse old.efuse 8
[ "$(head -1 old.efuse)" = "secure_version 8" ] && t_ok || t_fail "old format rewritten: $(cat old.efuse)"

# A malformed file is refused and left as it is.
printf 'secure_version 1\nkey_digest0 1234\n' >bad.efuse
cp bad.efuse bad.before
t_expect_exit 2 "$OTAKIT" efuse show --efuse bad.efuse
grep -q "not 64 hex digits" err.txt && t_ok || t_fail "bad digest: $(cat err.txt)"
t_expect_exit 2 "$OTAKIT" efuse set-secure-version --efuse bad.efuse 3
cmp -s bad.efuse bad.before && t_ok || t_fail "a malformed file was rewritten"
printf 'secure_version 1\nfuse_x 1\n' >bad2.efuse
t_expect_exit 2 "$OTAKIT" efuse show --efuse bad2.efuse
grep -q "unknown field" err.txt && t_ok || t_fail "unknown field: $(cat err.txt)"

t_finish
