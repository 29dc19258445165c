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

.PHONY: all setup configure test test-asan test-quick demo bench clean powerloss-long fuzz-long

all: configure
	cmake --build $(BUILD) -j $(JOBS)

setup:
	@scripts/setup.sh --check >/dev/null 2>&1 || scripts/setup.sh

configure: setup
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan

test-asan: setup
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -DOTAKIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|vectors|fuzz|cli'

bench: all
	cmake --build $(BUILD) --target bench-all

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# The long power-loss sweep: larger images (every op of every scenario) and 3000 seeds of
# five random cuts. `make test` runs the quick sweep.
powerloss-long: all
	OTAKIT_POWERLOSS_LONG=1 $(BUILD)/tests/test_powerloss
