# cmake -DIN=config -DOUT=sdkconfig -DROOT=srcdir [-DSET="CONFIG_X=v;..."] -P project_config.cmake
#
# A firmware project's sdkconfig: otakit's complete configuration (IN), with a relative
# CONFIG_EXAMPLE_SERVER_CA_CERT or CONFIG_SECURE_BOOT_SIGNING_KEY made absolute (`make
# menuconfig` takes them relative to the source tree; the project's build would take them
# relative to the project), then the SET lines, which win (kconfiglib keeps the last value).
file(STRINGS ${IN} lines)
set(out "# otakit's configuration for this project (firmware/CMakeLists.txt): do not edit\n")
foreach(line IN LISTS lines)
  if(line MATCHES "^(CONFIG_EXAMPLE_SERVER_CA_CERT|CONFIG_SECURE_BOOT_SIGNING_KEY)=\"([^/\"][^\"]*)\"$")
    set(line "${CMAKE_MATCH_1}=\"${ROOT}/${CMAKE_MATCH_2}\"")
  endif()
  string(APPEND out "${line}\n")
endforeach()
foreach(s IN LISTS SET)
  if(s MATCHES "^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
    set(name "${CMAKE_MATCH_1}")
    set(value "${CMAKE_MATCH_2}")
    if(value MATCHES "^(y|n|-?[0-9]+|0x[0-9a-fA-F]+|\".*\")$")
      string(APPEND out "${s}\n")
    else()
      string(APPEND out "${name}=\"${value}\"\n")
    endif()
  else()
    message(FATAL_ERROR "project_config: '${s}' is not CONFIG_NAME=VALUE")
  endif()
endforeach()
get_filename_component(dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
file(WRITE ${OUT} "${out}")
