#!/usr/bin/env bash
# otakit image sign / image verify --keyfile|--pubkey-digest / otakit key: espsecure.py's
# signed images (tests/vectors/data/signed) verify with each key form and with no other
# key; flipped bytes anywhere in the signed data or the block are refused; otakit's
# signatures have espsecure's layout; append up to three blocks; keys; exit codes.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
D=${OTAKIT_VECTORS:?set OTAKIT_VECTORS}
S=$D/signed
HW=$D/image/ota_test_firmawares/hello_world.bin


# --help everywhere; usage errors exit 2
for verb in "image sign" "image verify" "key" "key generate" "key digest" "key extract-public"; do
    # shellcheck disable=SC2086
    t_expect_exit 0 "$OTAKIT" $verb --help
    t_expect_match out.txt "usage: otakit"
done
t_expect_exit 2 "$OTAKIT" key
t_expect_exit 2 "$OTAKIT" key frob
t_expect_exit 2 "$OTAKIT" image sign "$HW" out.bin
t_expect_exit 2 "$OTAKIT" image sign --keyfile "$S/rsa3072.pem" "$HW"
t_expect_exit 2 "$OTAKIT" image sign --keyfile
t_expect_match err.txt "needs a value"
t_expect_exit 2 "$OTAKIT" image sign --bogus --keyfile "$S/rsa3072.pem" "$HW" o.bin
t_expect_match err.txt "unknown option '--bogus'"
t_expect_exit 2 "$OTAKIT" image sign --keyfile nope.pem "$HW" o.bin
t_expect_match err.txt "nope.pem"
t_expect_exit 2 "$OTAKIT" image sign --keyfile "$S/rsa3072_pub.pem" "$HW" o.bin
t_expect_match err.txt "a public key cannot sign"
t_expect_exit 2 "$OTAKIT" image sign --keyfile "$HW" "$HW" o.bin
t_expect_match err.txt "not a PEM private or public key"
[ ! -e o.bin ] && t_ok || t_fail "a refused sign wrote its output"
t_expect_exit 2 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --keyfile "$S/rsa3072.pem" --pubkey-digest "$S/rsa3072_digest.bin"
t_expect_exit 2 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --pubkey-digest "$S/rsa3072.pem"
t_expect_match err.txt "a key digest is 32 bytes"
t_expect_exit 2 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --pubkey-digest a --pubkey-digest b --pubkey-digest c --pubkey-digest d
t_expect_exit 2 "$OTAKIT" key generate out.pem
t_expect_exit 2 "$OTAKIT" key generate --scheme rsa1024 out.pem
t_expect_exit 2 "$OTAKIT" key digest
t_expect_exit 2 "$OTAKIT" key digest --keyfile "$HW"
t_expect_exit 2 "$OTAKIT" key digest --keyfile "$S/rsa3072.pem" -o - --json
"$OTAKIT" key digest --keyfile "$S/rsa3072.pem" -o - >raw.bin && cmp -s raw.bin "$S/rsa3072_digest.bin" && t_ok ||
    t_fail "key digest -o - writes the 32 raw bytes"
t_expect_exit 2 "$OTAKIT" key extract-public --keyfile "$S/rsa3072.pem"

# espsecure's signed images: each key form accepts, the other scheme's key refuses
for k in rsa3072 ecdsa256; do
    other=ecdsa256
    [ $k = ecdsa256 ] && other=rsa3072
    scheme=RSA-3072
    [ $k = ecdsa256 ] && scheme=ECDSA-P256
    for key in "--keyfile $S/${k}_pub.pem" "--keyfile $S/$k.pem" "--pubkey-digest $S/${k}_digest.bin"; do
        # shellcheck disable=SC2086
        t_expect_exit 0 "$OTAKIT" image verify "$S/hw_$k.bin" $key
        t_expect_match out.txt "signature block 0 verified ($scheme)"
    done
    for key in "--keyfile $S/${other}_pub.pem" "--keyfile $S/$other.pem" "--pubkey-digest $S/${other}_digest.bin"; do
        # shellcheck disable=SC2086
        t_expect_exit 1 "$OTAKIT" image verify "$S/hw_$k.bin" $key
        t_expect_match err.txt "offset 0x2d0[23]4: signature block key is not a trusted key"
    done
    # either of two trusted digests will do (eFuse holds up to three)
    t_expect_exit 0 "$OTAKIT" image verify "$S/hw_$k.bin" --pubkey-digest "$S/${other}_digest.bin" --pubkey-digest "$S/${k}_digest.bin"
    # without a key: structure valid, the sector reported, not checked
    t_expect_exit 0 "$OTAKIT" image verify "$S/hw_$k.bin"
    t_expect_match out.txt "signature sector at 0x2d000 with 1 valid block(s), not checked"
    t_expect_exit 0 "$OTAKIT" image verify "$S/hw_$k.bin" --json
    t_expect_json "unchecked json" out.txt "d['valid'] and d['signature']['checked'] is False and d['signature']['blocks'][0]['scheme'] == '$scheme'"
    t_expect_exit 0 "$OTAKIT" image verify "$S/hw_$k.bin" --keyfile "$S/$k.pem" --json
    t_expect_json "checked json" out.txt "d['valid'] and d['signature']['verified_block'] == 0 and d['error'] is None"
    t_expect_exit 1 "$OTAKIT" image verify "$S/hw_$k.bin" --keyfile "$S/$other.pem" --json
    t_expect_json "refused json" out.txt "not d['valid'] and d['signature']['verified_block'] is None and 'trusted' in d['error']['message']"

    # key digest and public key: espsecure's bytes
    t_expect_exit 0 "$OTAKIT" key digest --keyfile "$S/$k.pem" -o d.bin
    t_expect_same d.bin "$S/${k}_digest.bin"
    t_expect_match out.txt "$(od -An -tx1 "$S/${k}_digest.bin" | tr -d ' \n')"
    t_expect_exit 0 "$OTAKIT" key digest --keyfile "$S/${k}_pub.pem" --json
    t_expect_json "digest json" out.txt "d['digest'] == open('$S/${k}_digest.bin','rb').read().hex() and d['scheme'] == '$scheme'"
    t_expect_exit 0 "$OTAKIT" key extract-public --keyfile "$S/$k.pem" pub.pem
    t_expect_same pub.pem "$S/${k}_pub.pem"

    # sign hello_world.bin: espsecure's layout (randomized signatures differ only from
    # the signature on), and otakit verify accepts it
    t_expect_exit 0 "$OTAKIT" image sign --keyfile "$S/$k.pem" "$HW" signed.bin
    [ "$(stat -c %s signed.bin)" = "$(stat -c %s "$S/hw_$k.bin")" ] && t_ok || t_fail "$k: signed length"
    sig_at=$((0x2d000 + 812))
    [ $k = ecdsa256 ] && sig_at=$((0x2d000 + 101))
    cmp -s -n $sig_at signed.bin "$S/hw_$k.bin" && t_ok || t_fail "$k: bytes before the signature differ from espsecure's"
    t_expect_exit 0 "$OTAKIT" image verify signed.bin --pubkey-digest "$S/${k}_digest.bin"
    t_expect_match out.txt "signature block 0 verified"
    # already signed: refused, nothing written
    t_expect_exit 1 "$OTAKIT" image sign --keyfile "$S/$k.pem" signed.bin again.bin
    t_expect_match err.txt "already signed"
    [ ! -e again.bin ] && t_ok || t_fail "refused sign wrote again.bin"
done

# flip a byte anywhere in the signed data or the block: refused (header, segments, the
# appended SHA-256, the 0xFF padding before the sector, every block field and the CRC)
flip() { # flip FILE OFFSET OUT
    "$T_PY" - "$1" "$2" "$3" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[int(sys.argv[2], 0)] ^= 0x01
open(sys.argv[3], 'wb').write(b)
EOF
}
for off in 0x0 0x3 0x18 0x20 0x1000 0x2c38f 0x2c3a0 0x2c3b0 0x2cfff \
    0x2d000 0x2d001 0x2d002 0x2d004 0x2d023 0x2d024 0x2d1a4 0x2d1a8 0x2d328 0x2d32c 0x2d4ab 0x2d4ac 0x2d4af; do
    flip "$S/hw_rsa3072.bin" $off f.bin
    t_expect_exit 1 "$OTAKIT" image verify f.bin --keyfile "$S/rsa3072_pub.pem"
done
for off in 0x0 0x20 0x2c3b0 0x2cfff 0x2d000 0x2d001 0x2d002 0x2d004 0x2d024 0x2d025 0x2d065 0x2d0a4 0x2d4ac; do
    flip "$S/hw_ecdsa256.bin" $off f.bin
    t_expect_exit 1 "$OTAKIT" image verify f.bin --pubkey-digest "$S/ecdsa256_digest.bin"
done
# a signed image cut before the end of its sector: the sector is missing
head -c $((0x2d000 + 100)) "$S/hw_rsa3072.bin" >cut.bin
t_expect_exit 1 "$OTAKIT" image verify cut.bin --keyfile "$S/rsa3072.pem"
t_expect_match err.txt "no signature sector"
# with --partition-size the sector counts in the image length
t_expect_exit 0 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --keyfile "$S/rsa3072.pem" --partition-size 0x2e000
t_expect_exit 1 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --keyfile "$S/rsa3072.pem" --partition-size 0x2d800

# append: up to three blocks, each verifying with its own key
t_expect_exit 0 "$OTAKIT" image sign --keyfile "$S/ecdsa256.pem" --append-signatures "$S/hw_rsa3072.bin" two.bin
t_expect_match out.txt "now holds 2 block(s)"
t_expect_exit 0 "$OTAKIT" image verify two.bin --keyfile "$S/ecdsa256_pub.pem"
t_expect_match out.txt "signature block 1 verified (ECDSA-P256)"
t_expect_exit 0 "$OTAKIT" image verify two.bin --keyfile "$S/rsa3072_pub.pem"
t_expect_match out.txt "signature block 0 verified (RSA-3072)"
t_expect_exit 0 "$OTAKIT" key generate --scheme ecdsa384 k384.pem
[ "$(stat -c %a k384.pem)" = 600 ] && t_ok || t_fail "generated key is not 0600"
t_expect_match k384.pem "BEGIN EC PRIVATE KEY"
t_expect_exit 2 "$OTAKIT" key generate --scheme ecdsa256 k384.pem
t_expect_match err.txt "refusing to overwrite"
t_expect_match k384.pem "BEGIN EC PRIVATE KEY"
cp two.bin three.bin
t_expect_exit 0 "$OTAKIT" image sign --keyfile k384.pem --append-signatures --json three.bin three.bin
t_expect_json "append json" out.txt "d['blocks'] == 3 and d['block'] == 2 and d['scheme'] == 'ECDSA-P384' and d['sector_offset'] == 0x2d000"
t_expect_exit 0 "$OTAKIT" image verify three.bin --keyfile k384.pem
t_expect_match out.txt "signature block 2 verified (ECDSA-P384)"
cp three.bin before.bin
t_expect_exit 1 "$OTAKIT" image sign --keyfile "$S/rsa3072.pem" --append-signatures three.bin three.bin
t_expect_match err.txt "already holds 3 blocks"
t_expect_same three.bin before.bin

# generated keys sign and verify; digest and extract-public agree with each other
t_expect_exit 0 "$OTAKIT" key generate --scheme rsa3072 krsa.pem
t_expect_match krsa.pem "BEGIN RSA PRIVATE KEY"
t_expect_exit 0 "$OTAKIT" key extract-public --keyfile krsa.pem krsa_pub.pem
t_expect_exit 0 "$OTAKIT" key digest --keyfile krsa.pem -o krsa_digest.bin
t_expect_exit 0 "$OTAKIT" image sign --keyfile krsa.pem "$HW" mine.bin
t_expect_exit 0 "$OTAKIT" image verify mine.bin --keyfile krsa_pub.pem
t_expect_exit 0 "$OTAKIT" image verify mine.bin --pubkey-digest krsa_digest.bin
t_expect_exit 1 "$OTAKIT" image verify mine.bin --keyfile "$S/rsa3072.pem"

# not an image: refused before signing
printf 'hello' >notimg.bin
t_expect_exit 1 "$OTAKIT" image sign --keyfile "$S/rsa3072.pem" notimg.bin o.bin
[ ! -e o.bin ] && t_ok || t_fail "sign wrote an output for a non-image"

t_finish
