# shellcheck shell=bash
# The one library of otakit's shell tests (tests/*/*.sh; ctest runs each with bash).
# A test starts with
#   source "$(dirname "$0")/../lib/testlib.bash"
# and ends with `t_finish`. Sourcing sets `set -euo pipefail`, makes a temp dir $T,
# changes into it, and installs an EXIT trap that stops every process the test started
# through this library (or handed to t_track_pid) and removes $T.
#
# Names: every function is t_<topic>_<verb> or t_<verb>; every variable the library sets
# is T or T_<NAME>. Assertions (they count one check and print FAIL on failure) are
# t_ok, t_fail, t_check*, t_expect*; everything else counts nothing.
#
# Assertions (assert.bash)
#   t_ok [DESC]                 count a passed check (prints "ok   DESC" when DESC is given)
#   t_fail DESC                 count a failed check ("FAIL: DESC" on stderr)
#   t_check DESC CMD...         pass when CMD succeeds
#   t_check_eval DESC SHELL     pass when `eval SHELL` succeeds
#   t_expect_exit CODE CMD...   pass when CMD exits CODE; stdout in $T/out.txt, stderr in $T/err.txt
#   t_expect_eq DESC GOT WANT   pass when the strings are equal
#   t_expect_has FILE TEXT      pass when FILE holds TEXT (fixed string)
#   t_expect_lacks FILE TEXT    pass when FILE does not hold TEXT (fixed string)
#   t_expect_match FILE REGEX   pass when a line of FILE matches REGEX (grep)
#   t_expect_same A B           pass when files A and B are byte-identical
#   t_expect_json DESC FILE PY  pass when the Python expression PY is true; d and j are
#                               the JSON value in FILE
#   t_finish                    print "N passed, M failed"; non-zero when any check failed
#   t_skip REASON               print REASON and the counts, exit 77 (ctest: skipped)
# Predicates (return a status, count nothing; use them inside t_check)
#   t_has FILE TEXT, t_lacks FILE TEXT, t_in_order FILE TEXT...
# Values
#   t_count FILE TEXT (matching lines), t_json FILE PY (print PY over j), t_json_field FILE KEY
# Processes and files (core.bash)
#   t_track_pid PID             stop PID (TERM, bounded wait, KILL) when the test exits
#   t_at_exit SHELL             run SHELL (eval) when the test exits: after the tracked
#                               processes stop, before $T goes; the last added runs first.
#                               A test never sets its own EXIT trap (it would drop the library's)
#   t_quiet CMD...              run CMD with its output thrown away
#   t_patch FILE OFFSET BYTES   overwrite FILE at OFFSET with BYTES (a printf format: '\x55')
#   t_dump_log FILE             print FILE between markers (the console of a failed run)
#   t_dump_if_failed FILE...    t_dump_log each FILE when a check has failed so far
#   t_wait_for_line FILE REGEX  bounded wait (~10 s) for a line of FILE matching REGEX
#   T_PY                        Debian's python3 (a pyenv shim can take a second per call)
# Servers (serve.bash)
#   t_serve_start NAME DIR [OPTS]  `otakit serve DIR` on a free 127.0.0.1 port; stdout in
#                               $T/NAME.out, stderr in $T/NAME.err. Sets T_URL, T_URLS, T_PORT
#                               and T_SERVER_PID[NAME]. T_SERVE_BIND: the address
#                               (127.0.0.1); T_SERVE_WRAP: a prefix that execs the
#                               server (`ip netns exec NS`)
#   t_spawn_server NAME REGEX CMD...  run a server CMD in the background (stdout in
#                               $T/NAME.out, stderr in $T/NAME.err, stopped at exit, its pid
#                               in T_SERVER_PID[NAME]); wait (bounded, ~20 s) for a line of
#                               its stdout matching REGEX (grep -E). Fails when it exits first
#   t_pyserve_start NAME DIR [OPTS]  tests/e2e/ota_server.py likewise (sets T_PORT)
#   t_serve_stop NAME [SIGNAL]  signal the server, wait (bounded) for it; sets T_STOP_RC
#   t_port_of URL, t_curl ARGS... (curl, bounded, no proxy), t_free_port
#   t_http_code ARGS...         the HTTP status of a t_curl request (the body is dropped)
#   t_expect_http DESC CODE ARGS...  an assertion: t_http_code ARGS... is CODE
#   t_make_www                  $T/www: a real image, a plain and a hidden file, a subdir;
#                               $T/outside/secret.txt beside it
#   t_tls_cert CERT KEY         a self-signed certificate for 127.0.0.1 (needs openssl)
#   T_HTTP_CLIENT               tests/serve/client.py
# The device (device.bash; env OTAKIT_BUILD, OTAKIT_SRC)
#   T_BUILD                     the build directory (firmware images, flash_args)
#   t_require_images [FILE...]  the images a full build makes (and FILEs) exist
#   t_config_is SYMBOL          CONFIG_SYMBOL=y in the build's sdkconfig
#   t_config_has LINE           the sdkconfig has exactly LINE
#   t_config_value SYMBOL       the value of CONFIG_SYMBOL in the sdkconfig (empty when unset)
#   t_require_config SYMBOL...  skip (t_skip) unless every CONFIG_SYMBOL=y
#   t_flash_make FLASH [SIZE] [ADDR FILE...]  blank flash + what `make flash` writes
#   t_two_ota_table             $T_TABLE: the two-OTA table (skips when the build's
#                               bootloader reads its table away from 0x8000)
#   t_flash_new FLASH [FACTORY] bootloader, $T_TABLE, blank otadata, factory app
#   t_flash_put_slot FLASH SLOT IMAGE, t_otadata_entry FLASH COPY SEQ STATE
#   t_device_run FLASH OUT [OPTS]  run with no delays; console in OUT, JSON in OUT.json;
#                               returns the device's exit code
#   t_device_check DESC CODE FLASH OUT [OPTS]  t_device_run, one check that it exited CODE
#   t_device_until FLASH TEXT [OPTS]  run until TEXT; sets T_LOG, T_RESULT, T_RC
#   t_device_until_any FLASH TEXT1 TEXT2 [OPTS]  sets T_MATCHED (1, 2, 0) and T_LOG
#   t_ota_update FLASH FILE TEXT [OPTS]  t_device_until with T_FAST, updating from FILE on
#                               the server last started (T_PORT)
#   t_otadata_blank FLASH [BOOT_LABEL]  both otadata copies erased (and BOOT_LABEL boots)
#   t_otadata FLASH PY, t_slot_holds FLASH ADDR IMAGE, t_image_variant IMAGE VERSION OUT [PROJECT]
#   t_image_version IMAGE       the app version in IMAGE's description
#   T_FAST (--speedup 0), T_DEV_TIMEOUT
# Secure builds (secure.bash)
#   t_secure_build NAME CONFIG_LINES...  a signed build in $OTAKIT_BUILD/secure-NAME; sets
#                               T_SB and T_SB_KEY (T_SB_PROJECTS: extra firmware projects)
#   t_secure_otadata FLASH PY, t_tamper IN OUT payload|signature
# A terminal (term.bash; tmux)
#   t_term_require              skip the test (t_skip) without tmux
#   t_term_start COMMAND        run COMMAND in a 160x40 terminal; exit code in $T/term.rc
#   t_term_screen               what the terminal shows, with what scrolled away
#   t_term_wait TEXT            bounded wait (~30 s) until it shows TEXT (t_fail if never)
#   t_term_keys KEY...          type (tmux send-keys: Enter, C-], -l TEXT)
#   t_term_end                  bounded wait for COMMAND to end; prints its exit code
set -euo pipefail

: "${OTAKIT:?OTAKIT must name the otakit binary}"
T_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/core.bash
source "$T_LIB/core.bash"
# shellcheck source=tests/lib/assert.bash
source "$T_LIB/assert.bash"
# shellcheck source=tests/lib/serve.bash
source "$T_LIB/serve.bash"
# shellcheck source=tests/lib/device.bash
source "$T_LIB/device.bash"
# shellcheck source=tests/lib/secure.bash
source "$T_LIB/secure.bash"
# shellcheck source=tests/lib/term.bash
source "$T_LIB/term.bash"
