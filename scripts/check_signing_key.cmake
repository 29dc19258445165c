# cmake -DKEY=/abs/key.pem -DKEY_NAME=as-configured -P check_signing_key.cmake: fail the
# build, naming the file and the command that makes it, when the signing key is missing.
if(NOT EXISTS "${KEY}")
  message(FATAL_ERROR
    "Secure Boot Signing Key ${KEY} does not exist (CONFIG_SECURE_BOOT_SIGNING_KEY="
    "\"${KEY_NAME}\", relative to the project directory). Generate one with:\n"
    "    otakit key generate --scheme rsa3072 ${KEY}\n"
    "(ESP-IDF: espsecure.py generate_signing_key --version 2 --scheme rsa3072 ${KEY_NAME}).\n"
    "Keep it secret: whoever has it can sign firmware your devices will run.")
endif()
