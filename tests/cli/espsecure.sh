#!/usr/bin/env bash
# Both directions against Espressif's own espsecure (esptool's Secure Boot tool), when it is
# installed: espsecure verifies what otakit signed, otakit verifies what espsecure signed
# (fresh signatures, besides the stored ones in tests/vectors/data/signed), and both
# compute the same key digest for keys otakit generates. Debian 12 does not package
# esptool, so without espsecure on PATH this test skips (exit 77) and says so.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
D=${OTAKIT_VECTORS:?set OTAKIT_VECTORS}
S=$D/signed
HW=$D/image/ota_test_firmawares/hello_world.bin

ESPSECURE=()
if command -v espsecure >/dev/null 2>&1; then
    ESPSECURE=(espsecure)
elif command -v espsecure.py >/dev/null 2>&1; then
    ESPSECURE=(espsecure.py)
elif "$T_PY" -c 'import espsecure' >/dev/null 2>&1; then
    ESPSECURE=("$T_PY" -m espsecure)
fi
if [ ${#ESPSECURE[@]} = 0 ]; then
    echo "SKIP: espsecure (esptool) is not installed; Debian 12 has no esptool package (an" \
        "esptool source tree on PYTHONPATH, with python3-cryptography, -ecdsa, -serial and" \
        "-intelhex, also works)." \
        "The stored espsecure-signed vectors are checked by cli_sign and test_vectors_sbv2."
    exit 77
fi
echo "using: ${ESPSECURE[*]} ($("${ESPSECURE[@]}" --help 2>&1 | head -1))"

for k in rsa3072 ecdsa256; do
    # otakit signs, espsecure verifies
    t_expect_exit 0 "$OTAKIT" image sign --keyfile "$S/$k.pem" "$HW" otakit_signed.bin
    t_expect_exit 0 "${ESPSECURE[@]}" verify_signature --version 2 --keyfile "$S/${k}_pub.pem" otakit_signed.bin
    grep -q "verification successful" out.txt && t_ok || t_fail "$k: espsecure did not verify otakit's signature: $(cat out.txt err.txt)"
    # espsecure signs, otakit verifies
    t_expect_exit 0 "${ESPSECURE[@]}" sign_data --version 2 --keyfile "$S/$k.pem" --output esp_signed.bin "$HW"
    t_expect_exit 0 "$OTAKIT" image verify esp_signed.bin --keyfile "$S/${k}_pub.pem"
    t_expect_exit 0 "$OTAKIT" image verify esp_signed.bin --pubkey-digest "$S/${k}_digest.bin"
    cmp -s -n $((0x2d000)) esp_signed.bin otakit_signed.bin && t_ok || t_fail "$k: signed data differ"
done

# espsecure appends to otakit's sector; otakit verifies both blocks
t_expect_exit 0 "$OTAKIT" image sign --keyfile "$S/rsa3072.pem" "$HW" one.bin
t_expect_exit 0 "${ESPSECURE[@]}" sign_data --version 2 --append_signatures --keyfile "$S/rsa3072.pem" --output two.bin one.bin
t_expect_exit 0 "$OTAKIT" image verify two.bin --keyfile "$S/rsa3072.pem" --json
grep -q '"verified_block":0' out.txt && t_ok || t_fail "appended: $(cat out.txt)"

# otakit's generated keys: espsecure reads them and agrees on the digest
for scheme in rsa3072 ecdsa256 ecdsa384; do
    t_expect_exit 0 "$OTAKIT" key generate --scheme $scheme k_$scheme.pem
    t_expect_exit 0 "$OTAKIT" key digest --keyfile k_$scheme.pem -o otakit_digest.bin
    t_expect_exit 0 "${ESPSECURE[@]}" digest_sbv2_public_key --keyfile k_$scheme.pem --output esp_digest.bin
    cmp -s otakit_digest.bin esp_digest.bin && t_ok || t_fail "$scheme: key digests differ"
done

t_finish
