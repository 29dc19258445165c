# Build-time signing of app images (CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES) in an
# ESP-IDF project's build (tools/cmake/project.cmake), otakit's own firmware included
# (firmware/CMakeLists.txt builds it as projects; firmware/project_config.cmake makes a
# key path relative to otakit's tree absolute). As in ESP-IDF,
# CONFIG_SECURE_BOOT_SIGNING_KEY is relative to the project directory, and a missing key
# fails the build (not the configure step) with the command that makes one.
#
#   otakit_sign_commands(OUT_VAR IMAGE PROJECT_DIR)
#
# sets OUT_VAR to the COMMAND lines (for add_custom_command) that sign IMAGE in place
# with `otakit image sign`, or to nothing when the option is off.
set(OTAKIT_SIGNING_SCRIPT_DIR ${CMAKE_CURRENT_LIST_DIR})

function(otakit_sign_commands out image project_dir)
  set(cmds)
  if(CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES)
    get_filename_component(key "${CONFIG_SECURE_BOOT_SIGNING_KEY}" ABSOLUTE
                           BASE_DIR "${project_dir}")
    set(cmds
        COMMAND ${CMAKE_COMMAND} "-DKEY=${key}" "-DKEY_NAME=${CONFIG_SECURE_BOOT_SIGNING_KEY}"
                -P "${OTAKIT_SIGNING_SCRIPT_DIR}/check_signing_key.cmake"
        COMMAND $<TARGET_FILE:otakit> image sign --keyfile "${key}" "${image}" "${image}")
  endif()
  set(${out} ${cmds} PARENT_SCOPE)
endfunction()
