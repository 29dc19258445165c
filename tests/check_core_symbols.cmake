# Fails if the core library needs malloc, calloc, realloc, free, any stdio / OS call, or
# a crypto library by name (Mbed TLS, OpenSSL): it hashes through the port's hook,
# include/otakit/hash.h.
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
foreach(n IN LISTS names)
  if(n MATCHES "^(mbedtls_|EVP_|SHA256|MD5|OPENSSL_|psa_)")
    list(APPEND bad ${n})
  endif()
endforeach()
list(LENGTH names count)
# The listing must be real: the core hashes through the port's hook, so
# otakit_hash_start is among its undefined symbols. An empty or unreadable listing
# fails instead of passing.
list(FIND names otakit_hash_start hook)
if(hook EQUAL -1)
  message(FATAL_ERROR "nm -u ${LIB} does not list otakit_hash_start: the symbol listing is not what this check expects")
endif()
if(bad)
  message(FATAL_ERROR "otakit_core needs forbidden symbols: ${bad}")
endif()
message(STATUS "otakit_core: ${count} undefined symbols, none of them allocator, stdio, OS or crypto library calls")
message(STATUS "1 passed, 0 failed")
