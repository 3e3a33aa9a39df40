# vxsave: the user's entry points. Each target first installs missing Debian packages
# (scripts/install-deps.sh), then configures with CMake + Ninja and builds.
#
#   make run      build, then show the XSAVE layout of the embedded default profile
#   make test     build normally and with ASan+UBSan, run every test with ctest in both
#   make bench    build optimized, run the benchmarks
#   make install  install into PREFIX (default /usr/local)

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
CMAKE_FLAGS = -G Ninja -DVXSAVE_WERROR=ON
VXSAVE      = $(BUILD)/tools/vxsave/vxsave

.PHONY: all deps build build-asan run test test-asan bench install format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX)

$(ASAN_BUILD)/build.ninja: | deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DVXSAVE_SANITIZE=ON \
		-DVXSAVE_BUILD_BENCH=OFF

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

run: build
	$(VXSAVE) layout

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

test: build build-asan test-asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/bench/vxsave-bench

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
