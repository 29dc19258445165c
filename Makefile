# otakit's front door: the seed's make vocabulary over CMake.
#   make            build everything (tools, libraries, firmware images) into build/
#   make test       set up, build, run every test (also an ASan+UBSan build of unit/vector/fuzz tests)
#   make demo       set up, build, run the seed's whole OTA flow on the virtual device
#   make bench      run the benchmarks in bench/
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
ifdef CI
CMAKE_FLAGS += -DOTAKIT_WERROR=ON
endif
# A build tree is configured again when it is missing, or when CI wants warnings as
# errors and the tree was configured without (`make demo` first, then `CI=true make test`).
needs_configure = test ! -f $(1)/CMakeCache.txt $(if $(CI),|| grep -q '^OTAKIT_WERROR:BOOL=OFF' $(1)/CMakeCache.txt)

.PHONY: all setup configure test test-asan test-quick demo bench clean powerloss-long fuzz-long fleet-scale fleet-scale-all fleet-screenshot

all: configure
	cmake --build $(BUILD) -j $(JOBS)

setup:
	@scripts/setup.sh --check >/dev/null 2>&1 || scripts/setup.sh

configure: setup
	@if $(call needs_configure,$(BUILD)); then cmake -S . -B $(BUILD) $(CMAKE_FLAGS); fi

test: all
	@scripts/tree-state.sh >$(BUILD)/tree-before.txt
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@scripts/tree-state.sh | diff $(BUILD)/tree-before.txt - || \
	  { echo "make test: the tests changed the source tree (the lines above)"; exit 1; }
	$(MAKE) test-asan

test-asan: setup
	@if $(call needs_configure,$(ASAN_BUILD)); then cmake -S . -B $(ASAN_BUILD) -DOTAKIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS); fi
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|vectors|fuzz|cli'

bench: all
	@scripts/setup.sh --check bench >/dev/null 2>&1 || scripts/setup.sh bench
	cmake --build $(BUILD) --target bench-all

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# A staged rollout (1 %, 10 %, the rest) to 10,000 virtual devices in one process
# (scripts/fleet-scale.sh; the fleet ctests run 200). DEVICES=N,
# FAULTS=cut=P,link=P,selftest=P, ROLLOUT_GROUPS=1%,10%,rest, DB=sqlite|postgres,
# INSTANCES=N (servers on one PostgreSQL), BAD=1 (a bad image: the rollout must pause
# after the first group). fleet-scale-all: SQLite; PostgreSQL with two servers; the bad
# image.
fleet-scale: all
	scripts/fleet-scale.sh $(BUILD)

fleet-scale-all: all
	DB=sqlite INSTANCES=1 BAD=0 scripts/fleet-scale.sh $(BUILD)
	DB=postgres INSTANCES=2 BAD=0 scripts/fleet-scale.sh $(BUILD)
	DB=sqlite INSTANCES=1 BAD=1 scripts/fleet-scale.sh $(BUILD)

# docs/fleet-dashboard.png: the fleet dashboard in headless Chromium with a rollout in
# progress (scripts/fleet-screenshot.sh; 200 simulated devices, DEVICES=N).
fleet-screenshot: all
	scripts/fleet-screenshot.sh $(BUILD) docs/fleet-dashboard.png

# The long power-loss sweep: larger images (every op of every scenario) and 3000 seeds of
# five random cuts. `make test` runs the quick sweep.
powerloss-long: all
	OTAKIT_POWERLOSS_LONG=1 $(BUILD)/tests/test_powerloss

# ---- The virtual device (docs/device.md): the seed's configure / flash / monitor steps.
#   make menuconfig     edit ./sdkconfig in kconfiglib's menuconfig (made from sdkconfig.defaults first)
#   make defconfig      write ./sdkconfig from sdkconfig.defaults, no questions
#   make setconfig CONFIG_X=value [CONFIG_Y=value ...]
#                       set options in ./sdkconfig (made from sdkconfig.defaults first),
#                       keep the rest; an unknown option or a value it cannot take is refused
#   make erase_flash    make the flash file $(FLASH) all 0xFF (the configured flash size)
#   make flash          write bootloader, partition table, blank otadata and the factory app
#   FLASH_CHIP_SIZE=2MB the virtual chip's real flash size when it differs from the configured
#                       one (CONFIG_ESPTOOLPY_FLASHSIZE): `make erase_flash flash FLASH_CHIP_SIZE=2MB`
#                       reproduces the seed's "ota_begin error err=0x104"
#   make monitor        power the device on this terminal (Ctrl-] quits); MONITOR_FLAGS adds options
FLASH ?= $(BUILD)/flash.bin
KCONFIG_PYTHON ?= /usr/bin/python3
MONITOR_FLAGS ?=
FLASH_CHIP_SIZE ?=
KCONFIG_ENV = KCONFIG_CONFIG=sdkconfig srctree=$(CURDIR)

.PHONY: menuconfig defconfig setconfig erase_flash flash monitor

menuconfig: setup
	@test -f sdkconfig || $(KCONFIG_ENV) $(KCONFIG_PYTHON) -m defconfig --kconfig Kconfig sdkconfig.defaults
	$(KCONFIG_ENV) MENUCONFIG_STYLE=aquatic $(KCONFIG_PYTHON) -m menuconfig Kconfig
	@if test -f $(BUILD)/CMakeCache.txt; then cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null; fi

defconfig: setup
	$(KCONFIG_ENV) $(KCONFIG_PYTHON) -m defconfig --kconfig Kconfig sdkconfig.defaults
	@if test -f $(BUILD)/CMakeCache.txt; then cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null; fi

# The CONFIG_* variables given on make's command line, each passed as one 'NAME=VALUE'.
# SETCONFIG_FILE: the file setconfig edits (the build reads ./sdkconfig; tests use another).
SETCONFIG_FILE ?= sdkconfig
SETCONFIG_VARS = $(foreach v,$(filter CONFIG_%,$(.VARIABLES)),$(if $(filter command line,$(origin $(v))),$(v)))
setconfig: setup
	$(KCONFIG_ENV) $(KCONFIG_PYTHON) scripts/setconfig.py --kconfig Kconfig --config $(SETCONFIG_FILE) \
	  --defaults sdkconfig.defaults $(foreach v,$(SETCONFIG_VARS),'$(v)=$(subst ','\'',$(value $(v)))')
	@if test -f $(BUILD)/CMakeCache.txt; then cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null; fi

erase_flash: all
	FLASH_CHIP_SIZE=$(FLASH_CHIP_SIZE) scripts/device.sh erase $(BUILD) $(FLASH)

flash: all
	FLASH_CHIP_SIZE=$(FLASH_CHIP_SIZE) scripts/device.sh flash $(BUILD) $(FLASH)

monitor: configure
	cmake --build $(BUILD) --target otakit -j $(JOBS)
	$(BUILD)/otakit device run --flash $(FLASH) $(MONITOR_FLAGS)

# Coverage-guided fuzzing with clang's libFuzzer (ASan + UBSan), FUZZ_SECONDS per target.
# `make test` replays the corpora (tests/fuzz/corpus) with every truncation and bit flips.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 120
fuzz-long:
	@scripts/setup.sh --check fuzz >/dev/null 2>&1 || scripts/setup.sh fuzz
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || CC=clang cmake -S . -B $(FUZZ_BUILD) -DOTAKIT_FUZZ=ON -DOTAKIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	set -e; for f in $(FUZZ_BUILD)/tests/fuzz_*; do \
	  corpus=$$(mktemp -d); short=$$(basename $$f); short=$${short#fuzz_}; \
	  if [ -d tests/fuzz/corpus/$$short ]; then cp -r tests/fuzz/corpus/$$short/. $$corpus/; \
	  else find tests/fuzz/corpus -maxdepth 1 -type f -exec cp {} $$corpus/ \; ; fi; \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; $$f -max_total_time=$(FUZZ_SECONDS) $$corpus; rm -rf $$corpus; \
	done

# ---- The seed's HTTP server and the whole flow in one command (docs/ota_example.md).
#   make serve   serve $(BUILD) (hello-world.bin) on CONFIG_EXAMPLE_SERVER_IP:CONFIG_EXAMPLE_SERVER_PORT
#                with `otakit serve`, or python3 -m http.server when otakit has no serve
#   make demo    set up, build, serve, erase_flash + flash, run the device until hello_world
#                runs from ota_0 (at most DEMO_TIMEOUT s), print the serial log and a summary
DEMO_TIMEOUT ?= 120

.PHONY: serve

serve: all
	@cfg=$(BUILD)/config/sdkconfig; \
	port=$$(sed -n 's/^CONFIG_EXAMPLE_SERVER_PORT="\(.*\)"$$/\1/p' $$cfg); port=$${port:-8070}; \
	ip=$$(sed -n 's/^CONFIG_EXAMPLE_SERVER_IP="\(.*\)"$$/\1/p' $$cfg); ip=$${ip:-127.0.0.1}; \
	if $(BUILD)/otakit serve --help >/dev/null 2>&1; then \
	  exec $(BUILD)/otakit serve $(BUILD) --bind $$ip --port $$port; \
	else \
	  echo "otakit serve is not available: serving $(BUILD) with python3 -m http.server"; \
	  exec python3 -m http.server $$port --bind $$ip --directory $(BUILD); \
	fi

demo: all
	@BUILD=$(BUILD) FLASH=$(FLASH) DEMO_TIMEOUT=$(DEMO_TIMEOUT) scripts/demo.sh
