# Kconfig -> sdkconfig -> build/config/sdkconfig.h, with Debian's kconfiglib.
#
# The configuration is ./sdkconfig (written by `make menuconfig` / `make defconfig`).
# When it does not exist the build makes one in build/config/ from sdkconfig.defaults
# (kconfiglib's defconfig), without touching the source tree. Either way genconfig
# writes build/config/sdkconfig (complete, every symbol) and build/config/sdkconfig.h.
#
# Including this file (from any CMakeLists.txt) also sets every CONFIG_* value as a CMake
# variable in the including directory's scope (y -> "y", strings unquoted), and defines
# the INTERFACE target otakit_sdkconfig that puts sdkconfig.h on the include path.

set(OTAKIT_PYTHON /usr/bin/python3 CACHE FILEPATH "python3 that has Debian's python3-kconfiglib")
set(OTAKIT_SDKCONFIG ${OTAKIT_ROOT}/sdkconfig CACHE FILEPATH
    "the configuration; made from sdkconfig.defaults in build/config when missing")
set(OTAKIT_CONFIG_DIR ${CMAKE_BINARY_DIR}/config)

get_property(_otakit_sdkconfig_done GLOBAL PROPERTY OTAKIT_SDKCONFIG_DONE)
if(NOT _otakit_sdkconfig_done)
  set_property(GLOBAL PROPERTY OTAKIT_SDKCONFIG_DONE TRUE)
  file(MAKE_DIRECTORY ${OTAKIT_CONFIG_DIR})
  set(_otakit_projbuild ${OTAKIT_ROOT}/examples/system/ota/native_ota_example/main/Kconfig.projbuild)
  set_property(DIRECTORY ${OTAKIT_ROOT} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${OTAKIT_ROOT}/Kconfig ${OTAKIT_ROOT}/sdkconfig.defaults ${_otakit_projbuild})
  execute_process(COMMAND ${OTAKIT_PYTHON} -c "import kconfiglib"
                  RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "otakit: ${OTAKIT_PYTHON} cannot import kconfiglib: install the Debian "
                        "package python3-kconfiglib (scripts/setup.sh does)")
  endif()
  if(EXISTS ${OTAKIT_SDKCONFIG})
    set(_otakit_input ${OTAKIT_SDKCONFIG})
    set_property(DIRECTORY ${OTAKIT_ROOT} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${OTAKIT_SDKCONFIG})
    message(STATUS "otakit: configuration from ${OTAKIT_SDKCONFIG}")
  else()
    set(_otakit_input ${OTAKIT_CONFIG_DIR}/sdkconfig.defconfig)
    execute_process(
      COMMAND ${CMAKE_COMMAND} -E env srctree=${OTAKIT_ROOT} KCONFIG_CONFIG=${_otakit_input}
              ${OTAKIT_PYTHON} -m defconfig --kconfig ${OTAKIT_ROOT}/Kconfig
              ${OTAKIT_ROOT}/sdkconfig.defaults
      WORKING_DIRECTORY ${OTAKIT_ROOT}
      RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "otakit: defconfig from sdkconfig.defaults failed:\n${_out}${_err}")
    endif()
    message(STATUS "otakit: no ./sdkconfig: configuration from sdkconfig.defaults")
  endif()
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env srctree=${OTAKIT_ROOT} KCONFIG_CONFIG=${_otakit_input}
            ${OTAKIT_PYTHON} -m genconfig --header-path ${OTAKIT_CONFIG_DIR}/sdkconfig.h
            --config-out ${OTAKIT_CONFIG_DIR}/sdkconfig ${OTAKIT_ROOT}/Kconfig
    WORKING_DIRECTORY ${OTAKIT_ROOT}
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "otakit: genconfig failed on ${_otakit_input}:\n${_out}${_err}")
  endif()
  if(_err)
    message(WARNING "otakit: kconfiglib: ${_err}")
  endif()
endif()

if(NOT TARGET otakit_sdkconfig)
  add_library(otakit_sdkconfig INTERFACE)
  target_include_directories(otakit_sdkconfig INTERFACE ${OTAKIT_CONFIG_DIR})
endif()

# CONFIG_* as CMake variables in the including scope.
file(STRINGS ${OTAKIT_CONFIG_DIR}/sdkconfig _otakit_lines REGEX "^CONFIG_[A-Za-z0-9_]+=")
foreach(_line IN LISTS _otakit_lines)
  if(_line MATCHES "^(CONFIG_[A-Za-z0-9_]+)=\"(.*)\"$")
    string(REPLACE "\\\"" "\"" _val "${CMAKE_MATCH_2}")
    string(REPLACE "\\\\" "\\" _val "${_val}")
    set(${CMAKE_MATCH_1} "${_val}")
  elseif(_line MATCHES "^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
    set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endif()
endforeach()
