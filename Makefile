# vxsave: the user's entry points. Each target first installs missing Debian packages
# (scripts/install-deps.sh), then configures with CMake + Ninja and builds.
#
#   make run      build, then the evaluation: `vxsave eval --report EVAL_REPORT` on the
#                 embedded default profile (sapphire-rapids), all six CET_S designs, the five
#                 default workloads - tables and the verdict on stdout, SVG charts and
#                 index.html in EVAL_REPORT (default build/eval-report); a few seconds.
#                 The XSAVE layout view that was `make run` before: `build/tools/vxsave/vxsave
#                 layout` (README.md)
#   make test     build normally and with ASan+UBSan, run every test with ctest in both; then
#                 test-tsan, test-fuzz and a lint without the static analyzer (LINT_MODE=fast)
#   make bench    build optimized, run the benchmarks (BENCH="fpu eval": only those groups)
#   make install  install into PREFIX (default /usr/local)
# Hardening (issue 11, docs/robustness.md):
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (default 60) each (needs clang)
#   make test-fuzz  every fuzz target on its corpus and regression inputs for a few seconds
#   make test-tsan  test_threads built with ThreadSanitizer (VXSAVE_TSAN)
#   make lint       clang-tidy (.clang-tidy, with clang-analyzer) and cppcheck on the tree

BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
CMAKE_FLAGS = -G Ninja -DVXSAVE_WERROR=ON
VXSAVE      = $(BUILD)/tools/vxsave/vxsave
EVAL_REPORT ?= $(BUILD)/eval-report
FUZZ_BUILD   ?= build-fuzz
TSAN_BUILD   ?= build-tsan
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
LINT_MODE    ?= full

.PHONY: all deps build build-asan run test test-asan bench install format clean
.PHONY: build-fuzz test-fuzz fuzz test-tsan lint

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
	$(VXSAVE) eval --report $(EVAL_REPORT)

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

test: build build-asan test-asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-tsan test-fuzz
	@$(MAKE) --no-print-directory lint LINT_MODE=fast

# ThreadSanitizer: the library and test_threads only, in a build of their own.
$(TSAN_BUILD)/build.ninja: | deps
	cmake -S . -B $(TSAN_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVXSAVE_TSAN=ON \
		-DVXSAVE_BUILD_TOOLS=OFF -DVXSAVE_BUILD_BENCH=OFF -DVXSAVE_BUILD_PRELOAD=OFF

test-tsan: deps $(TSAN_BUILD)/build.ninja
	cmake --build $(TSAN_BUILD) --target test_threads -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		ctest --test-dir $(TSAN_BUILD) -R '^test_threads$$' --output-on-failure

# libFuzzer needs clang: without a compiler that links -fsanitize=fuzzer the fuzz targets are
# skipped, and the message says so.
FUZZ_PROBE = printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return !d + (int)n; }\n' \
	| $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1

build-fuzz: deps
	@if ! $(FUZZ_PROBE); then \
		echo "SKIP: fuzz targets: '$(FUZZ_CC) -fsanitize=fuzzer' does not link (install clang)"; \
		exit 0; \
	fi; \
	if [ ! -f $(FUZZ_BUILD)/build.ninja ]; then \
		CC=$(FUZZ_CC) cmake -S . -B $(FUZZ_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DVXSAVE_FUZZ=ON -DVXSAVE_BUILD_TESTS=OFF -DVXSAVE_BUILD_BENCH=OFF \
			-DVXSAVE_BUILD_PRELOAD=OFF || exit 1; \
	fi; \
	cmake --build $(FUZZ_BUILD) --target fuzz_all -j $(JOBS)

test-fuzz: build-fuzz
	@if $(FUZZ_PROBE); then \
		ctest --test-dir $(FUZZ_BUILD) -L fuzz --output-on-failure -j $(JOBS); \
	fi

fuzz: build-fuzz
	@if $(FUZZ_PROBE); then \
		for t in $$(cat $(FUZZ_BUILD)/fuzz/targets.txt); do \
			fuzz/run.sh fuzz $(FUZZ_BUILD)/fuzz/fuzz_$$t $$t $(FUZZ_BUILD)/fuzz/work \
				$(FUZZ_SECONDS) || exit 1; \
		done; \
	fi

# clang-tidy and cppcheck on every C file of the tree (scripts/lint.sh); LINT_MODE=fast leaves
# out the clang static analyzer (most of the time), as `make test` does.
lint: deps $(BUILD)/build.ninja
	scripts/lint.sh $(BUILD) $(LINT_MODE)

bench: build
	$(BUILD)/bench/vxsave-bench $(BENCH)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
