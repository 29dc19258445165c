# ESP-IDF's project interface, for building an ESP-IDF project for otakit's virtual ESP32.
#
# A project's top-level CMakeLists.txt reads, as with ESP-IDF:
#
#   cmake_minimum_required(VERSION 3.16)
#   include($ENV{IDF_PATH}/tools/cmake/project.cmake)
#   project(hello_world)
#
# and its components call idf_component_register(). The project's C sources compile for
# the host against otakit's components (components/<ESP-IDF name>/), which speak ESP-IDF
# v5.5's API over otakit's core and the virtual device. The build writes what ESP-IDF
# writes, where ESP-IDF writes it:
#
#   build/<project>.bin                         the app image (runs on the virtual device)
#   build/<project>.elf                         the host program inside it
#   build/bootloader/bootloader.bin             the second-stage bootloader
#   build/partition_table/partition-table.bin   from CONFIG_PARTITION_TABLE_*
#   build/ota_data_initial.bin                  blank otadata (when the table has one)
#   build/flash_args                            what `idf.py flash` writes, and where
#   build/config/sdkconfig.h, sdkconfig.cmake   from ./sdkconfig (made from sdkconfig.defaults)
#
# Components are found, as ESP-IDF finds them, in otakit's components/, the project's
# components/ and main/, EXTRA_COMPONENT_DIRS, and idf_component.yml `path:` dependencies;
# a component in the project overrides otakit's of the same name. docs/idf-projects.md
# describes what is supported.
#
# -D OTAKIT_HOST_BUILD=DIR reuses the otakit build tree DIR (otakit's own `make` builds
# its firmware so): the otakit tool and the host libraries are taken from it, and only
# what reads this project's sdkconfig is compiled here (the ESP-IDF layer, the
# bootloader's main, the partition table). Without it, the project's build compiles
# otakit's host parts too, in build/otakit-host.
cmake_minimum_required(VERSION 3.18)

get_filename_component(IDF_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(ENV{IDF_PATH} "${IDF_PATH}")
set(IDF_TARGET esp32)
set(ENV{IDF_TARGET} esp32)
set(OTAKIT_ROOT "${IDF_PATH}")
set(OTAKIT_IDF_PROJECT ON)
set(OTAKIT_PYTHON /usr/bin/python3 CACHE FILEPATH "python3 that has Debian's python3-kconfiglib")
set(OTAKIT_HOST_BUILD "" CACHE PATH "a built otakit tree whose host parts this build reuses (empty: build them)")

# ---- Build properties (idf_build_get_property / idf_build_set_property)
# Kept as global properties named IDF_BUILD_<NAME>; APPEND adds to a list.
function(idf_build_set_property name value)
  cmake_parse_arguments(_ "APPEND" "" "" ${ARGN})
  if(__APPEND)
    set_property(GLOBAL APPEND PROPERTY IDF_BUILD_${name} "${value}")
  else()
    set_property(GLOBAL PROPERTY IDF_BUILD_${name} "${value}")
  endif()
endfunction()

function(idf_build_get_property var name)
  cmake_parse_arguments(_ "GENERATOR_EXPRESSION" "" "" ${ARGN})
  get_property(val GLOBAL PROPERTY IDF_BUILD_${name})
  set(${var} "${val}" PARENT_SCOPE)
endfunction()

function(idf_component_get_property var component name)
  _otakit_component_check(${component})
  get_property(val GLOBAL PROPERTY IDF_COMPONENT_${component}_${name})
  set(${var} "${val}" PARENT_SCOPE)
endfunction()

function(idf_component_set_property component name value)
  cmake_parse_arguments(_ "APPEND" "" "" ${ARGN})
  _otakit_component_check(${component})
  if(__APPEND)
    set_property(GLOBAL APPEND PROPERTY IDF_COMPONENT_${component}_${name} "${value}")
  else()
    set_property(GLOBAL PROPERTY IDF_COMPONENT_${component}_${name} "${value}")
  endif()
endfunction()

function(_otakit_component_check component)
  get_property(known GLOBAL PROPERTY IDF_BUILD_BUILD_COMPONENTS)
  if(NOT component IN_LIST known)
    message(FATAL_ERROR "Failed to resolve component '${component}': no such component in "
                        "otakit (${IDF_PATH}/components) or in this project")
  endif()
endfunction()

idf_build_set_property(IDF_PATH "${IDF_PATH}")
idf_build_set_property(IDF_TARGET esp32)
idf_build_set_property(IDF_TARGET_ARCH linux)
idf_build_set_property(IDF_VER "v5.5.5-otakit")
idf_build_set_property(PYTHON "${OTAKIT_PYTHON}")
idf_build_set_property(MINIMAL_BUILD OFF)
idf_build_set_property(COMPILE_OPTIONS "")
idf_build_set_property(COMPILE_DEFINITIONS "")

# ---- Finding components
# _otakit_add_component_dir(DIR): DIR is one component (it has a CMakeLists.txt).
function(_otakit_add_component_dir dir)
  get_filename_component(dir "${dir}" ABSOLUTE)
  get_filename_component(name "${dir}" NAME)
  if(NOT EXISTS "${dir}/CMakeLists.txt")
    return()
  endif()
  # A later directory (the project's) overrides an earlier one (otakit's) of the same name.
  get_property(names GLOBAL PROPERTY IDF_BUILD_BUILD_COMPONENTS)
  if(NOT name IN_LIST names)
    set_property(GLOBAL APPEND PROPERTY IDF_BUILD_BUILD_COMPONENTS ${name})
  endif()
  set_property(GLOBAL PROPERTY IDF_COMPONENT_${name}_COMPONENT_DIR "${dir}")
  set_property(GLOBAL PROPERTY IDF_COMPONENT_${name}_COMPONENT_LIB "__idf_${name}")
  set_property(GLOBAL PROPERTY IDF_COMPONENT_${name}_COMPONENT_NAME "${name}")
endfunction()

# _otakit_add_components_in(DIR): every subdirectory of DIR that is a component.
function(_otakit_add_components_in dir)
  file(GLOB subs LIST_DIRECTORIES true "${dir}/*")
  list(SORT subs)
  foreach(sub IN LISTS subs)
    if(IS_DIRECTORY "${sub}")
      _otakit_add_component_dir("${sub}")
    endif()
  endforeach()
endfunction()

# idf_component.yml: `dependencies:` given by `path:` become components; any other kind
# (the component registry, git) gets an error naming it. The file is read line by line:
# a dependency is a key two spaces in under `dependencies:`, its `path:` four spaces in.
function(_otakit_manifest_deps comp_dir)
  set(manifest "${comp_dir}/idf_component.yml")
  if(NOT EXISTS "${manifest}")
    return()
  endif()
  set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${manifest}")
  file(STRINGS "${manifest}" lines)
  set(in_deps OFF)
  set(dep "")
  set(dep_path "")
  foreach(line IN LISTS lines ITEMS "__end__:")
    string(REGEX REPLACE "#.*$" "" line "${line}")
    if(line MATCHES "^[A-Za-z_]" OR line STREQUAL "__end__:")
      # a new top-level key ends the previous dependency and maybe the section
      _otakit_manifest_close("${manifest}" "${dep}" "${dep_path}")
      set(dep "")
      set(dep_path "")
      if(line MATCHES "^dependencies:[ \t]*$")
        set(in_deps ON)
      else()
        set(in_deps OFF)
      endif()
    elseif(in_deps AND line MATCHES "^  ([^ :][^:]*):[ \t]*(.*)$")
      _otakit_manifest_close("${manifest}" "${dep}" "${dep_path}")
      set(dep "${CMAKE_MATCH_1}")
      set(dep_path "")
      string(STRIP "${CMAKE_MATCH_2}" inline)
      if(NOT inline STREQUAL "")
        set(dep_path "__version__ ${inline}")
      endif()
    elseif(in_deps AND dep AND line MATCHES "^    path:[ \t]*(.+)$")
      string(STRIP "${CMAKE_MATCH_1}" p)
      string(REGEX REPLACE "^[\"'](.*)[\"']$" "\\1" p "${p}")
      string(REPLACE "\${IDF_PATH}" "${IDF_PATH}" p "${p}")
      string(REPLACE "$IDF_PATH" "${IDF_PATH}" p "${p}")
      if(NOT IS_ABSOLUTE "${p}")
        set(p "${comp_dir}/${p}")
      endif()
      set(dep_path "${p}")
    endif()
  endforeach()
endfunction()

function(_otakit_manifest_close manifest dep dep_path)
  if(NOT dep OR dep STREQUAL "idf")
    return()
  endif()
  if(dep_path STREQUAL "" OR dep_path MATCHES "^__version__ ")
    message(FATAL_ERROR "${manifest}: dependency '${dep}' is not given by `path:`. otakit "
                        "builds offline and takes only local components (path: DIR); "
                        "put a copy of '${dep}' in the project's components/ folder.")
  endif()
  if(NOT IS_DIRECTORY "${dep_path}" OR NOT EXISTS "${dep_path}/CMakeLists.txt")
    message(FATAL_ERROR "${manifest}: dependency '${dep}': ${dep_path} is not a component "
                        "(no CMakeLists.txt there)")
  endif()
  _otakit_add_component_dir("${dep_path}")
  # The component whose manifest names the dependency requires it, as the component
  # manager adds it to that component's requirements.
  get_filename_component(owner "${manifest}" DIRECTORY)
  get_filename_component(owner "${owner}" NAME)
  get_filename_component(dep_name "${dep_path}" NAME)
  set_property(GLOBAL APPEND PROPERTY IDF_COMPONENT_${owner}_MANAGED_REQUIRES ${dep_name})
  _otakit_manifest_deps("${dep_path}")
endfunction()

# ---- idf_component_register, as a component's CMakeLists.txt calls it
function(idf_component_register)
  cmake_parse_arguments(_ "WHOLE_ARCHIVE"
    "KCONFIG;KCONFIG_PROJBUILD"
    "SRCS;SRC_DIRS;EXCLUDE_SRCS;INCLUDE_DIRS;PRIV_INCLUDE_DIRS;LDFRAGMENTS;REQUIRES;PRIV_REQUIRES;REQUIRED_IDF_TARGETS;EMBED_FILES;EMBED_TXTFILES"
    ${ARGN})
  set(name "${COMPONENT_NAME}")
  set(lib "${COMPONENT_LIB}")
  get_property(managed GLOBAL PROPERTY IDF_COMPONENT_${name}_MANAGED_REQUIRES)
  list(APPEND __REQUIRES ${managed})
  set(srcs "")
  foreach(s IN LISTS __SRCS)
    get_filename_component(s "${s}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${s}")
      message(FATAL_ERROR "component '${name}': source file ${s} does not exist")
    endif()
    list(APPEND srcs "${s}")
  endforeach()
  foreach(d IN LISTS __SRC_DIRS)
    get_filename_component(d "${d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT IS_DIRECTORY "${d}")
      message(FATAL_ERROR "component '${name}': SRC_DIRS entry ${d} is not a directory")
    endif()
    file(GLOB found CONFIGURE_DEPENDS "${d}/*.c" "${d}/*.cpp" "${d}/*.S")
    list(APPEND srcs ${found})
  endforeach()
  foreach(x IN LISTS __EXCLUDE_SRCS)
    get_filename_component(x "${x}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(REMOVE_ITEM srcs "${x}")
  endforeach()
  set(embed_srcs "")
  foreach(kind FILES TXTFILES)
    foreach(f IN LISTS __EMBED_${kind})
      get_filename_component(f "${f}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      _otakit_embed("${f}" ${kind} out)
      list(APPEND embed_srcs "${out}")
    endforeach()
  endforeach()

  if(srcs OR embed_srcs)
    add_library(${lib} STATIC ${srcs} ${embed_srcs})
    set(vis PUBLIC)
    set(pvis PRIVATE)
    foreach(d IN LISTS __PRIV_INCLUDE_DIRS)
      get_filename_component(d "${d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      target_include_directories(${lib} PRIVATE "${d}")
    endforeach()
    target_include_directories(${lib} PRIVATE ${OTAKIT_CONFIG_DIR})
    idf_build_get_property(opts COMPILE_OPTIONS)
    idf_build_get_property(defs COMPILE_DEFINITIONS)
    target_compile_options(${lib} PRIVATE ${opts})
    target_compile_definitions(${lib} PRIVATE ${defs})
  else()
    add_library(${lib} INTERFACE)
    set(vis INTERFACE)
    set(pvis INTERFACE)
  endif()
  add_library(idf::${name} ALIAS ${lib})
  foreach(d IN LISTS __INCLUDE_DIRS)
    get_filename_component(d "${d}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    target_include_directories(${lib} ${vis} "${d}")
  endforeach()
  # Every component sees the ESP-IDF layer's common headers (esp_err.h, esp_log.h,
  # FreeRTOS, sdkconfig.h), as ESP-IDF's common requirements give them.
  target_link_libraries(${lib} ${vis} otakit_idf_common)
  set(reqs "")
  foreach(r IN LISTS __REQUIRES)
    list(APPEND reqs ${r})
    target_link_libraries(${lib} ${vis} __idf_${r})
  endforeach()
  foreach(r IN LISTS __PRIV_REQUIRES)
    list(APPEND reqs ${r})
    target_link_libraries(${lib} ${pvis} __idf_${r})
  endforeach()
  set_property(GLOBAL PROPERTY IDF_COMPONENT_${name}_REQUIRES "${__REQUIRES}")
  set_property(GLOBAL PROPERTY IDF_COMPONENT_${name}_PRIV_REQUIRES "${__PRIV_REQUIRES}")
  set_property(GLOBAL APPEND PROPERTY OTAKIT_REGISTERED_COMPONENTS ${name})
  set_property(GLOBAL PROPERTY OTAKIT_COMPONENT_${name}_ALL_REQUIRES "${reqs}")
  if(__WHOLE_ARCHIVE)
    set_property(GLOBAL APPEND PROPERTY OTAKIT_WHOLE_ARCHIVE ${lib})
  endif()
  set(COMPONENT_LIB ${lib} PARENT_SCOPE)
endfunction()

# idf_component_optional_requires(PUBLIC|PRIVATE name...): link the named components that
# exist in this build; skip the others (ESP-IDF's contract).
function(idf_component_optional_requires vis)
  get_property(known GLOBAL PROPERTY IDF_BUILD_BUILD_COMPONENTS)
  get_target_property(type ${COMPONENT_LIB} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    set(vis INTERFACE)
  endif()
  foreach(r IN LISTS ARGN)
    if(r IN_LIST known)
      target_link_libraries(${COMPONENT_LIB} ${vis} __idf_${r})
    endif()
  endforeach()
endfunction()

# ESP-IDF's EMBED_FILES / EMBED_TXTFILES: the file's bytes in .rodata between
# _binary_<name>_start and _binary_<name>_end (a text file gets a NUL before _end), plus
# <name> and <name>_length, with <name> the file name made a C identifier.
function(_otakit_embed file kind out_var)
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "component '${COMPONENT_NAME}': file to embed ${file} does not exist")
  endif()
  get_filename_component(base "${file}" NAME)
  string(MAKE_C_IDENTIFIER "${base}" sym)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embed_${sym}.S")
  set(nul "")
  if(kind STREQUAL "TXTFILES")
    set(nul "    .byte 0\n")
  endif()
  file(SIZE "${file}" len)
  file(CONFIGURE OUTPUT "${out}" CONTENT
"/* ${base}, embedded by otakit's idf_component_register (${kind}) */
    .section .rodata.embed_${sym},\"a\"
    .global ${sym}
    .global _binary_${sym}_start
    .global _binary_${sym}_end
    .global ${sym}_length
${sym}:
_binary_${sym}_start:
    .incbin \"${file}\"
${nul}_binary_${sym}_end:
    .balign 4
${sym}_length:
    .long ${len}
    .section .note.GNU-stack,\"\",@progbits
" @ONLY)
  set_property(SOURCE "${out}" APPEND PROPERTY OBJECT_DEPENDS "${file}")
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

# ---- The project
macro(project project_name)
  _project(${project_name} C CXX ASM)
  _otakit_project(${project_name})
endmacro()

function(_otakit_project name)
  set(PROJECT_DIR "${CMAKE_SOURCE_DIR}")
  # ESP-IDF's build leaves `project_dir` set where component CMakeLists.txt files run, and
  # some of its examples use it without idf_build_get_property (advanced_https_ota).
  set(project_dir "${PROJECT_DIR}")
  idf_build_set_property(PROJECT_NAME "${name}")
  idf_build_set_property(PROJECT_DIR "${PROJECT_DIR}")
  idf_build_set_property(BUILD_DIR "${CMAKE_BINARY_DIR}")
  set(OTAKIT_CONFIG_DIR "${CMAKE_BINARY_DIR}/config")
  set(OTAKIT_CONFIG_DIR "${OTAKIT_CONFIG_DIR}" PARENT_SCOPE)
  file(MAKE_DIRECTORY "${OTAKIT_CONFIG_DIR}")

  # Components: otakit's, then examples' common components named by manifests, the
  # project's components/, EXTRA_COMPONENT_DIRS, main/.
  _otakit_add_components_in("${IDF_PATH}/components")
  if(IS_DIRECTORY "${PROJECT_DIR}/components")
    _otakit_add_components_in("${PROJECT_DIR}/components")
  endif()
  foreach(d IN LISTS EXTRA_COMPONENT_DIRS)
    get_filename_component(d "${d}" ABSOLUTE BASE_DIR "${PROJECT_DIR}")
    if(EXISTS "${d}/CMakeLists.txt")
      _otakit_add_component_dir("${d}")
    elseif(IS_DIRECTORY "${d}")
      _otakit_add_components_in("${d}")
    else()
      message(FATAL_ERROR "EXTRA_COMPONENT_DIRS: ${d} is not a directory")
    endif()
  endforeach()
  if(NOT EXISTS "${PROJECT_DIR}/main/CMakeLists.txt")
    message(FATAL_ERROR "${PROJECT_DIR} has no main/CMakeLists.txt: an ESP-IDF project keeps "
                        "its app_main in the `main` component")
  endif()
  _otakit_add_component_dir("${PROJECT_DIR}/main")
  get_property(comps GLOBAL PROPERTY IDF_BUILD_BUILD_COMPONENTS)
  foreach(c IN LISTS comps)
    get_property(dir GLOBAL PROPERTY IDF_COMPONENT_${c}_COMPONENT_DIR)
    _otakit_manifest_deps("${dir}")
  endforeach()
  get_property(comps GLOBAL PROPERTY IDF_BUILD_BUILD_COMPONENTS)

  _otakit_configure("${comps}")
  include("${OTAKIT_CONFIG_DIR}/sdkconfig.cmake")
  foreach(v IN ITEMS CONFIG_ESPTOOLPY_FLASHSIZE CONFIG_PARTITION_TABLE_OFFSET)
    set(${v} "${${v}}" PARENT_SCOPE)
  endforeach()

  # otakit itself: the core, the port, the virtual device's program side, the ESP-IDF
  # layer, the otakit tool (it packs images), the bootloader and the partition table.
  set(OTAKIT_IDF_PROJECT ON)
  set_property(GLOBAL PROPERTY OTAKIT_SDKCONFIG_DONE TRUE)
  add_subdirectory("${IDF_PATH}" "${CMAKE_BINARY_DIR}/otakit-host")
  add_library(otakit_idf_common INTERFACE)
  target_link_libraries(otakit_idf_common INTERFACE otakit_esp)
  target_include_directories(otakit_idf_common INTERFACE "${OTAKIT_CONFIG_DIR}")

  # Each component's CMakeLists.txt, in build/esp-idf/<name>, built only when linked.
  foreach(c IN LISTS comps)
    get_property(dir GLOBAL PROPERTY IDF_COMPONENT_${c}_COMPONENT_DIR)
    set(COMPONENT_NAME ${c})
    set(COMPONENT_DIR "${dir}")
    set(COMPONENT_PATH "${dir}")
    set(COMPONENT_LIB __idf_${c})
    add_subdirectory("${dir}" "${CMAKE_BINARY_DIR}/esp-idf/${c}" EXCLUDE_FROM_ALL)
    if(NOT TARGET __idf_${c})
      # A CMakeLists.txt that registers nothing is a component with nothing to link.
      add_library(__idf_${c} INTERFACE)
    endif()
  endforeach()
  get_property(registered GLOBAL PROPERTY OTAKIT_REGISTERED_COMPONENTS)
  foreach(who IN LISTS registered)
    get_property(reqs GLOBAL PROPERTY OTAKIT_COMPONENT_${who}_ALL_REQUIRES)
    foreach(r IN LISTS reqs)
      if(NOT r IN_LIST comps)
        message(FATAL_ERROR "Failed to resolve component '${r}' required by component "
                            "'${who}': otakit has no component of that name "
                            "(docs/idf-projects.md lists what it provides)")
      endif()
    endforeach()
  endforeach()

  # The app: main and what it requires (MINIMAL_BUILD), or every component.
  idf_build_get_property(minimal MINIMAL_BUILD)
  if(minimal)
    set(linked __idf_main)
  else()
    set(linked "")
    foreach(c IN LISTS comps)
      list(APPEND linked __idf_${c})
    endforeach()
  endif()
  set(elf ${name}.elf)
  file(WRITE "${CMAKE_BINARY_DIR}/project_elf_src.c"
       "/* the app is its components (a declaration: ISO C wants one) */\ntypedef int project_elf_src_t;\n")
  add_executable(${elf} "${CMAKE_BINARY_DIR}/project_elf_src.c")
  get_property(whole GLOBAL PROPERTY OTAKIT_WHOLE_ARCHIVE)
  foreach(w IN LISTS whole)
    list(REMOVE_ITEM linked ${w})
    target_link_libraries(${elf} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${w}>")
  endforeach()
  # app_main lives in main; the ESP-IDF layer's main() calls it.
  target_link_libraries(${elf} PRIVATE ${linked} otakit_esp -Wl,--undefined=app_main)
  # As otakit's own programs: the app records only the shared libraries it uses (libcurl
  # is loaded when it first uses esp_http_client, src/esp/curl_lazy.c).
  target_link_options(${elf} PRIVATE LINKER:--as-needed)
  set_target_properties(${elf} PROPERTIES OUTPUT_NAME ${name} SUFFIX ".elf"
                        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}")
  idf_build_set_property(EXECUTABLE ${elf})
  idf_build_set_property(EXECUTABLE_NAME ${name})

  _otakit_project_version(ver)
  idf_build_set_property(PROJECT_VER "${ver}")
  if(CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK)
    set(secver ${CONFIG_BOOTLOADER_APP_SECURE_VERSION})
  else()
    set(secver 0)
  endif()
  set(bin "${CMAKE_BINARY_DIR}/${name}.bin")
  set(stripped "${CMAKE_BINARY_DIR}/${name}.stripped")
  # CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES: signed with the key in the project dir.
  include("${IDF_PATH}/scripts/signing.cmake")
  otakit_sign_commands(sign_cmds "${bin}" "${PROJECT_DIR}")
  add_custom_command(OUTPUT "${bin}"
    COMMAND ${CMAKE_STRIP} --strip-unneeded -o "${stripped}" "$<TARGET_FILE:${elf}>"
    COMMAND $<TARGET_FILE:otakit> image create --program "${stripped}" --project "${name}"
            --version "${ver}" --secure-version ${secver} -o "${bin}"
    ${sign_cmds}
    COMMAND ${OTAKIT_PYTHON} "${IDF_PATH}/tools/cmake/check_size.py"
            --otakit $<TARGET_FILE:otakit> --table "${OTAKIT_PARTITION_TABLE_BIN}" "${bin}"
    DEPENDS ${elf} otakit partition_table
    COMMENT "Generating binary image from built executable"
    VERBATIM)
  add_custom_target(app ALL DEPENDS "${bin}")

  # build/flash_args (esptool's argument-file format, paths relative to build/) and the
  # pieces idf.py reads.
  set(fa "${CMAKE_BINARY_DIR}/flash_args")
  add_custom_command(OUTPUT "${fa}"
    COMMAND ${OTAKIT_PYTHON} "${IDF_PATH}/scripts/flash_args.py"
            --otakit $<TARGET_FILE:otakit> --table "${OTAKIT_PARTITION_TABLE_BIN}"
            --table-offset ${CONFIG_PARTITION_TABLE_OFFSET}
            --bootloader "${OTAKIT_BOOTLOADER_BIN}" --otadata "${CMAKE_BINARY_DIR}/ota_data_initial.bin"
            --factory "${bin}" --flash-size ${CONFIG_ESPTOOLPY_FLASHSIZE}
            --relative-to "${CMAKE_BINARY_DIR}" -o "${fa}"
            --app-args "${CMAKE_BINARY_DIR}/flash_app_args"
    DEPENDS app bootloader_image partition_table "${IDF_PATH}/scripts/flash_args.py"
    COMMENT "Writing flash_args"
    VERBATIM)
  add_custom_target(flash_args_file ALL DEPENDS "${fa}")
  add_custom_target(partition-table DEPENDS partition_table)
  if(OTAKIT_HOST_BUILD)
    get_filename_component(otakit_tool "${OTAKIT_HOST_BUILD}/otakit" ABSOLUTE)
  else()
    set(otakit_tool "${CMAKE_BINARY_DIR}/otakit")
  endif()
  file(WRITE "${CMAKE_BINARY_DIR}/project_description.json"
"{
  \"project_name\": \"${name}\",
  \"project_version\": \"${ver}\",
  \"project_path\": \"${PROJECT_DIR}\",
  \"idf_path\": \"${IDF_PATH}\",
  \"build_dir\": \"${CMAKE_BINARY_DIR}\",
  \"config_file\": \"${PROJECT_DIR}/sdkconfig\",
  \"app_elf\": \"${name}.elf\",
  \"app_bin\": \"${name}.bin\",
  \"target\": \"esp32\",
  \"flash_size\": \"${CONFIG_ESPTOOLPY_FLASHSIZE}\",
  \"otakit\": \"${otakit_tool}\"
}
")
endfunction()

# The app's version, as ESP-IDF picks it: PROJECT_VER, then version.txt in the project,
# then `git describe --always --tags --dirty` of the project, then "1".
function(_otakit_project_version out)
  if(DEFINED PROJECT_VER)
    set(v "${PROJECT_VER}")
  elseif(EXISTS "${CMAKE_SOURCE_DIR}/version.txt")
    file(STRINGS "${CMAKE_SOURCE_DIR}/version.txt" v LIMIT_COUNT 1)
    set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                 "${CMAKE_SOURCE_DIR}/version.txt")
  else()
    execute_process(COMMAND git describe --always --tags --dirty
                    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
                    OUTPUT_VARIABLE v ERROR_QUIET RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0 OR v STREQUAL "")
      set(v "1")
    endif()
  endif()
  string(LENGTH "${v}" n)
  if(n GREATER 31)
    string(SUBSTRING "${v}" 0 31 v)
  endif()
  set(${out} "${v}" PARENT_SCOPE)
endfunction()

# Kconfig: otakit's Kconfig with every component's Kconfig (under "Component config")
# and Kconfig.projbuild (top level) sourced through ESP-IDF's two environment variables;
# sdkconfig from SDKCONFIG_DEFAULTS (or sdkconfig.defaults and sdkconfig.defaults.esp32)
# and the project's sdkconfig.
function(_otakit_configure comps)
  set(kc "")
  set(kcp "")
  foreach(c IN LISTS comps)
    get_property(dir GLOBAL PROPERTY IDF_COMPONENT_${c}_COMPONENT_DIR)
    if(EXISTS "${dir}/Kconfig")
      string(APPEND kc "osource \"${dir}/Kconfig\"\n")
      list(APPEND deps "${dir}/Kconfig")
    endif()
    if(EXISTS "${dir}/Kconfig.projbuild")
      string(APPEND kcp "osource \"${dir}/Kconfig.projbuild\"\n")
      list(APPEND deps "${dir}/Kconfig.projbuild")
    endif()
  endforeach()
  set(dir "${OTAKIT_CONFIG_DIR}")
  file(WRITE "${dir}/kconfigs.in" "${kc}")
  file(WRITE "${dir}/kconfigs_projbuild.in" "${kcp}")

  if(DEFINED SDKCONFIG_DEFAULTS)
    set(defaults_in "${SDKCONFIG_DEFAULTS}")
  elseif(DEFINED ENV{SDKCONFIG_DEFAULTS})
    set(defaults_in "$ENV{SDKCONFIG_DEFAULTS}")
  else()
    set(defaults_in "sdkconfig.defaults")
  endif()
  set(defaults "")
  foreach(d IN LISTS defaults_in)
    get_filename_component(d "${d}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
    if(EXISTS "${d}")
      list(APPEND defaults --defaults "${d}")
      list(APPEND deps "${d}")
    elseif(DEFINED SDKCONFIG_DEFAULTS OR DEFINED ENV{SDKCONFIG_DEFAULTS})
      message(FATAL_ERROR "SDKCONFIG_DEFAULTS names ${d}, which does not exist")
    endif()
    if(EXISTS "${d}.esp32")
      list(APPEND defaults --defaults "${d}.esp32")
      list(APPEND deps "${d}.esp32")
    endif()
  endforeach()
  if(DEFINED SDKCONFIG)
    get_filename_component(sdkconfig "${SDKCONFIG}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
  else()
    set(sdkconfig "${CMAKE_SOURCE_DIR}/sdkconfig")
  endif()
  idf_build_set_property(SDKCONFIG "${sdkconfig}")
  idf_build_set_property(SDKCONFIG_DEFAULTS "${defaults_in}")
  execute_process(
    COMMAND ${OTAKIT_PYTHON} "${IDF_PATH}/tools/cmake/confgen.py"
            --kconfig "${IDF_PATH}/Kconfig"
            --env "srctree=${dir}" --env "IDF_PATH=${IDF_PATH}" --env "IDF_TARGET=esp32"
            --env "COMPONENT_KCONFIGS_SOURCE_FILE=${dir}/kconfigs.in"
            --env "COMPONENT_KCONFIGS_PROJBUILD_SOURCE_FILE=${dir}/kconfigs_projbuild.in"
            ${defaults} --config "${sdkconfig}"
            --header "${dir}/sdkconfig.h" --cmake "${dir}/sdkconfig.cmake"
            --config-copy "${dir}/sdkconfig"
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "otakit: the configuration step failed (see above)")
  endif()
  # What idf.py menuconfig needs to run kconfiglib on the same tree.
  file(WRITE "${dir}/config.env"
"IDF_PATH=${IDF_PATH}
IDF_TARGET=esp32
srctree=${dir}
KCONFIG_CONFIG=${sdkconfig}
COMPONENT_KCONFIGS_SOURCE_FILE=${dir}/kconfigs.in
COMPONENT_KCONFIGS_PROJBUILD_SOURCE_FILE=${dir}/kconfigs_projbuild.in
")
  set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               "${IDF_PATH}/Kconfig" "${sdkconfig}" ${deps})
endfunction()
