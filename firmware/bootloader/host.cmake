# The bootloader's parts that read no configuration, built once by otakit's own build
# and imported by every project build (OTAKIT_HOST_BUILD): bootloader_pack, and the
# library otakit_bootloader_lean (the core, the NOR emulator and the device's hardware,
# src/port/device, compiled for size). firmware/bootloader/CMakeLists.txt, in each
# project's build, compiles bootloader_main.c against the project's sdkconfig and links it with them.
#
# Like ESP-IDF's, the bootloader must fit between 0x1000 and the partition table (28 KiB
# with the table at 0x8000), so it is built for size: -Oz with section garbage
# collection, linked without PIE/PLT/relro padding (a common page size of 16 keeps the
# linker from starting the data segment on a new 4 KiB page of the file), and
# bootloader_pack drops the ELF section headers. With CONFIG_SECURE_BOOT_V2_ENABLED the
# bootloader_main.c calls the signature checks (src/port/device/secure.c, on libcrypto, linked
# dynamically), which the library holds but links only then: that bootloader needs the
# partition table at 0xA000 or later, as ESP-IDF asks when Secure Boot grows its
# bootloader.
set(OTAKIT_BOOTLOADER_DIR ${CMAKE_CURRENT_LIST_DIR})
add_executable(bootloader_pack ${OTAKIT_BOOTLOADER_DIR}/bootloader_pack.c)
target_link_libraries(bootloader_pack PRIVATE otakit_host)
set_target_properties(bootloader_pack PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/firmware/bootloader)

# Sanitizer builds are far too large to flash: their bootloader is linked from the
# ordinary libraries (firmware/bootloader/CMakeLists.txt), with no size check.
if(NOT OTAKIT_SANITIZE)
  add_library(otakit_bootloader_lean STATIC ${OTAKIT_CORE_SRC} ${OTAKIT_HASH_SRC}
              ${OTAKIT_ROOT}/src/port/posix/nor.c
              ${OTAKIT_PORT_DEVICE_SRC})
  target_include_directories(otakit_bootloader_lean PUBLIC ${OTAKIT_ROOT}/include
                             ${OTAKIT_ROOT}/src/core ${OTAKIT_ROOT}/src/port/posix
                             ${OTAKIT_ROOT}/src/port/device)
  target_link_libraries(otakit_bootloader_lean PUBLIC OpenSSL::Crypto)
  set_target_properties(otakit_bootloader_lean PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  target_compile_definitions(otakit_bootloader_lean PUBLIC OTAKIT_HW_LEAN=1)
  # The bootloader never meets NVS: without NVS error names it fits its 28 KiB.
  target_compile_definitions(otakit_bootloader_lean PRIVATE OTAKIT_ERR_NO_NVS_NAMES=1)
  set(OTAKIT_BOOTLOADER_CFLAGS -Oz -fno-pie -fno-plt -ffunction-sections -fdata-sections
      -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-stack-protector -fno-ident)
  target_compile_options(otakit_bootloader_lean PRIVATE ${OTAKIT_BOOTLOADER_CFLAGS})
  # What the bootloader's own main is compiled and linked with.
  target_compile_options(otakit_bootloader_lean INTERFACE ${OTAKIT_BOOTLOADER_CFLAGS})
  target_link_options(otakit_bootloader_lean INTERFACE -no-pie -Wl,--gc-sections
                      -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,--build-id=none -Wl,-z,common-page-size=16)
endif()
