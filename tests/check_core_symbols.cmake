# Fails if the core library needs malloc, calloc, realloc, free, or any stdio / OS call.
execute_process(COMMAND nm -u ${LIB} OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm -u ${LIB} failed")
endif()
string(REGEX MATCHALL "[A-Za-z_][A-Za-z0-9_]*" names "${syms}")
set(forbidden malloc calloc realloc free aligned_alloc posix_memalign strdup
    printf fprintf sprintf snprintf vsnprintf puts fopen fread fwrite fclose
    open read write close mmap exit abort)
set(bad "")
foreach(n IN LISTS names)
  list(FIND forbidden "${n}" idx)
  if(NOT idx EQUAL -1)
    list(APPEND bad ${n})
  endif()
endforeach()
list(LENGTH names count)
# The listing must be real: the core hashes with Mbed TLS, so Mbed TLS functions are among
# its undefined symbols. An empty or unreadable listing fails instead of passing.
string(REGEX MATCH "mbedtls_[A-Za-z0-9_]+" some_mbedtls "${syms}")
if(NOT some_mbedtls)
  message(FATAL_ERROR "nm -u ${LIB} lists no mbedtls_* symbol: the symbol listing is not what this check expects")
endif()
if(bad)
  message(FATAL_ERROR "otakit_core needs forbidden symbols: ${bad}")
endif()
message(STATUS "otakit_core: ${count} undefined symbols, none of them allocator, stdio or OS calls")
message(STATUS "1 passed, 0 failed")
