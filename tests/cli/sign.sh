#!/usr/bin/env bash
# otakit image sign / image verify --keyfile|--pubkey-digest / otakit key: espsecure.py's
# signed images (tests/vectors/data/signed) verify with each key form and with no other
# key; flipped bytes anywhere in the signed data or the block are refused; otakit's
# signatures have espsecure's layout; append up to three blocks; keys; exit codes.
# shellcheck source=lib.bash
source "$(dirname "$0")/lib.bash"
D=${OTAKIT_VECTORS:?set OTAKIT_VECTORS}
S=$D/signed
HW=$D/image/ota_test_firmawares/hello_world.bin

check() {
    if "$PY" -c "import json,sys; d=json.load(open('out.txt')); sys.exit(0 if ($2) else 1)"; then
        ok
    else
        fail "$1: $(head -c 600 out.txt)"
    fi
}
has() { grep -q -- "$2" "$1" && ok || fail "$1 lacks '$2': $(head -c 400 "$1")"; }
same() { cmp -s "$1" "$2" && ok || fail "$1 and $2 differ"; }

# --help everywhere; usage errors exit 2
for verb in "image sign" "image verify" "key" "key generate" "key digest" "key extract-public"; do
    # shellcheck disable=SC2086
    expect 0 "$OTAKIT" $verb --help
    has out.txt "usage: otakit"
done
expect 2 "$OTAKIT" key
expect 2 "$OTAKIT" key frob
expect 2 "$OTAKIT" image sign "$HW" out.bin
expect 2 "$OTAKIT" image sign --keyfile "$S/rsa3072.pem" "$HW"
expect 2 "$OTAKIT" image sign --keyfile
has err.txt "needs a value"
expect 2 "$OTAKIT" image sign --bogus --keyfile "$S/rsa3072.pem" "$HW" o.bin
has err.txt "unknown option '--bogus'"
expect 2 "$OTAKIT" image sign --keyfile nope.pem "$HW" o.bin
has err.txt "nope.pem"
expect 2 "$OTAKIT" image sign --keyfile "$S/rsa3072_pub.pem" "$HW" o.bin
has err.txt "a public key cannot sign"
expect 2 "$OTAKIT" image sign --keyfile "$HW" "$HW" o.bin
has err.txt "not a PEM private or public key"
[ ! -e o.bin ] && ok || fail "a refused sign wrote its output"
expect 2 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --keyfile "$S/rsa3072.pem" --pubkey-digest "$S/rsa3072_digest.bin"
expect 2 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --pubkey-digest "$S/rsa3072.pem"
has err.txt "a key digest is 32 bytes"
expect 2 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --pubkey-digest a --pubkey-digest b --pubkey-digest c --pubkey-digest d
expect 2 "$OTAKIT" key generate out.pem
expect 2 "$OTAKIT" key generate --scheme rsa1024 out.pem
expect 2 "$OTAKIT" key digest
expect 2 "$OTAKIT" key digest --keyfile "$HW"
expect 2 "$OTAKIT" key digest --keyfile "$S/rsa3072.pem" -o - --json
"$OTAKIT" key digest --keyfile "$S/rsa3072.pem" -o - >raw.bin && cmp -s raw.bin "$S/rsa3072_digest.bin" && ok ||
    fail "key digest -o - writes the 32 raw bytes"
expect 2 "$OTAKIT" key extract-public --keyfile "$S/rsa3072.pem"

# espsecure's signed images: each key form accepts, the other scheme's key refuses
for k in rsa3072 ecdsa256; do
    other=ecdsa256
    [ $k = ecdsa256 ] && other=rsa3072
    scheme=RSA-3072
    [ $k = ecdsa256 ] && scheme=ECDSA-P256
    for key in "--keyfile $S/${k}_pub.pem" "--keyfile $S/$k.pem" "--pubkey-digest $S/${k}_digest.bin"; do
        # shellcheck disable=SC2086
        expect 0 "$OTAKIT" image verify "$S/hw_$k.bin" $key
        has out.txt "signature block 0 verified ($scheme)"
    done
    for key in "--keyfile $S/${other}_pub.pem" "--keyfile $S/$other.pem" "--pubkey-digest $S/${other}_digest.bin"; do
        # shellcheck disable=SC2086
        expect 1 "$OTAKIT" image verify "$S/hw_$k.bin" $key
        has err.txt "offset 0x2d0[23]4: signature block key is not a trusted key"
    done
    # either of two trusted digests will do (eFuse holds up to three)
    expect 0 "$OTAKIT" image verify "$S/hw_$k.bin" --pubkey-digest "$S/${other}_digest.bin" --pubkey-digest "$S/${k}_digest.bin"
    # without a key: structure valid, the sector reported, not checked
    expect 0 "$OTAKIT" image verify "$S/hw_$k.bin"
    has out.txt "signature sector at 0x2d000 with 1 valid block(s), not checked"
    expect 0 "$OTAKIT" image verify "$S/hw_$k.bin" --json
    check "unchecked json" "d['valid'] and d['signature']['checked'] is False and d['signature']['blocks'][0]['scheme'] == '$scheme'"
    expect 0 "$OTAKIT" image verify "$S/hw_$k.bin" --keyfile "$S/$k.pem" --json
    check "checked json" "d['valid'] and d['signature']['verified_block'] == 0 and d['error'] is None"
    expect 1 "$OTAKIT" image verify "$S/hw_$k.bin" --keyfile "$S/$other.pem" --json
    check "refused json" "not d['valid'] and d['signature']['verified_block'] is None and 'trusted' in d['error']['message']"

    # key digest and public key: espsecure's bytes
    expect 0 "$OTAKIT" key digest --keyfile "$S/$k.pem" -o d.bin
    same d.bin "$S/${k}_digest.bin"
    has out.txt "$(od -An -tx1 "$S/${k}_digest.bin" | tr -d ' \n')"
    expect 0 "$OTAKIT" key digest --keyfile "$S/${k}_pub.pem" --json
    check "digest json" "d['digest'] == open('$S/${k}_digest.bin','rb').read().hex() and d['scheme'] == '$scheme'"
    expect 0 "$OTAKIT" key extract-public --keyfile "$S/$k.pem" pub.pem
    same pub.pem "$S/${k}_pub.pem"

    # sign hello_world.bin: espsecure's layout (randomized signatures differ only from
    # the signature on), and otakit verify accepts it
    expect 0 "$OTAKIT" image sign --keyfile "$S/$k.pem" "$HW" signed.bin
    [ "$(stat -c %s signed.bin)" = "$(stat -c %s "$S/hw_$k.bin")" ] && ok || fail "$k: signed length"
    sig_at=$((0x2d000 + 812))
    [ $k = ecdsa256 ] && sig_at=$((0x2d000 + 101))
    cmp -s -n $sig_at signed.bin "$S/hw_$k.bin" && ok || fail "$k: bytes before the signature differ from espsecure's"
    expect 0 "$OTAKIT" image verify signed.bin --pubkey-digest "$S/${k}_digest.bin"
    has out.txt "signature block 0 verified"
    # already signed: refused, nothing written
    expect 1 "$OTAKIT" image sign --keyfile "$S/$k.pem" signed.bin again.bin
    has err.txt "already signed"
    [ ! -e again.bin ] && ok || fail "refused sign wrote again.bin"
done

# flip a byte anywhere in the signed data or the block: refused (header, segments, the
# appended SHA-256, the 0xFF padding before the sector, every block field and the CRC)
flip() { # flip FILE OFFSET OUT
    "$PY" - "$1" "$2" "$3" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[int(sys.argv[2], 0)] ^= 0x01
open(sys.argv[3], 'wb').write(b)
EOF
}
for off in 0x0 0x3 0x18 0x20 0x1000 0x2c38f 0x2c3a0 0x2c3b0 0x2cfff \
    0x2d000 0x2d001 0x2d002 0x2d004 0x2d023 0x2d024 0x2d1a4 0x2d1a8 0x2d328 0x2d32c 0x2d4ab 0x2d4ac 0x2d4af; do
    flip "$S/hw_rsa3072.bin" $off f.bin
    expect 1 "$OTAKIT" image verify f.bin --keyfile "$S/rsa3072_pub.pem"
done
for off in 0x0 0x20 0x2c3b0 0x2cfff 0x2d000 0x2d001 0x2d002 0x2d004 0x2d024 0x2d025 0x2d065 0x2d0a4 0x2d4ac; do
    flip "$S/hw_ecdsa256.bin" $off f.bin
    expect 1 "$OTAKIT" image verify f.bin --pubkey-digest "$S/ecdsa256_digest.bin"
done
# a signed image cut before the end of its sector: the sector is missing
head -c $((0x2d000 + 100)) "$S/hw_rsa3072.bin" >cut.bin
expect 1 "$OTAKIT" image verify cut.bin --keyfile "$S/rsa3072.pem"
has err.txt "no signature sector"
# with --partition-size the sector counts in the image length
expect 0 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --keyfile "$S/rsa3072.pem" --partition-size 0x2e000
expect 1 "$OTAKIT" image verify "$S/hw_rsa3072.bin" --keyfile "$S/rsa3072.pem" --partition-size 0x2d800

# append: up to three blocks, each verifying with its own key
expect 0 "$OTAKIT" image sign --keyfile "$S/ecdsa256.pem" --append-signatures "$S/hw_rsa3072.bin" two.bin
has out.txt "now holds 2 block(s)"
expect 0 "$OTAKIT" image verify two.bin --keyfile "$S/ecdsa256_pub.pem"
has out.txt "signature block 1 verified (ECDSA-P256)"
expect 0 "$OTAKIT" image verify two.bin --keyfile "$S/rsa3072_pub.pem"
has out.txt "signature block 0 verified (RSA-3072)"
expect 0 "$OTAKIT" key generate --scheme ecdsa384 k384.pem
[ "$(stat -c %a k384.pem)" = 600 ] && ok || fail "generated key is not 0600"
has k384.pem "BEGIN EC PRIVATE KEY"
expect 2 "$OTAKIT" key generate --scheme ecdsa256 k384.pem
has err.txt "refusing to overwrite"
has k384.pem "BEGIN EC PRIVATE KEY"
cp two.bin three.bin
expect 0 "$OTAKIT" image sign --keyfile k384.pem --append-signatures --json three.bin three.bin
check "append json" "d['blocks'] == 3 and d['block'] == 2 and d['scheme'] == 'ECDSA-P384' and d['sector_offset'] == 0x2d000"
expect 0 "$OTAKIT" image verify three.bin --keyfile k384.pem
has out.txt "signature block 2 verified (ECDSA-P384)"
cp three.bin before.bin
expect 1 "$OTAKIT" image sign --keyfile "$S/rsa3072.pem" --append-signatures three.bin three.bin
has err.txt "already holds 3 blocks"
same three.bin before.bin

# generated keys sign and verify; digest and extract-public agree with each other
expect 0 "$OTAKIT" key generate --scheme rsa3072 krsa.pem
has krsa.pem "BEGIN RSA PRIVATE KEY"
expect 0 "$OTAKIT" key extract-public --keyfile krsa.pem krsa_pub.pem
expect 0 "$OTAKIT" key digest --keyfile krsa.pem -o krsa_digest.bin
expect 0 "$OTAKIT" image sign --keyfile krsa.pem "$HW" mine.bin
expect 0 "$OTAKIT" image verify mine.bin --keyfile krsa_pub.pem
expect 0 "$OTAKIT" image verify mine.bin --pubkey-digest krsa_digest.bin
expect 1 "$OTAKIT" image verify mine.bin --keyfile "$S/rsa3072.pem"

# not an image: refused before signing
printf 'hello' >notimg.bin
expect 1 "$OTAKIT" image sign --keyfile "$S/rsa3072.pem" notimg.bin o.bin
[ ! -e o.bin ] && ok || fail "sign wrote an output for a non-image"

finish
