#!/usr/bin/env bash
# `make lint` (issue 11, docs/robustness.md): clang-tidy with the checks of .clang-tidy on every
# C file of the compile database of BUILD (src/, tools/, tests/, bench/), and cppcheck on the
# same files plus fuzz/.  Clean means no diagnostic at all; a finding is fixed, or suppressed on
# its line with NOLINT / cppcheck-suppress and the reason.
#
#   scripts/lint.sh BUILD [full|fast]
#
# fast leaves out clang-analyzer-* (about 95% of the time: minutes on two cores) and is what
# `make test` runs; full is `make lint`.  A missing tool is a visible SKIP, not a failure.
set -euo pipefail
build=${1:?usage: $0 BUILD [full|fast]}
mode=${2:-full}
cd "$(dirname "$0")/.."
src=$(pwd)
jobs=$(nproc)
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
failures=0

if [ ! -f "$build/compile_commands.json" ]; then
	echo "lint: $build/compile_commands.json is missing (configure $build first)" >&2
	exit 2
fi

tidy=$(command -v run-clang-tidy || command -v run-clang-tidy-14 || true)
if [ -z "$tidy" ] || ! command -v clang-tidy >/dev/null; then
	echo "SKIP: clang-tidy: run-clang-tidy/clang-tidy not installed (apt install clang-tidy)"
else
	checks=()
	[ "$mode" = fast ] && checks=(-checks=-clang-analyzer-*)
	echo "lint: clang-tidy ($mode) on $src/{src,tools,tests,bench}/**.c"
	"$tidy" -p "$build" -j "$jobs" -quiet "${checks[@]}" \
		-extra-arg-before="-include$src/scripts/lint-noreturn.h" \
		"^$src/(src|tools|tests|bench)/.*\.c\$" >"$log/tidy" 2>&1 || true
	# Diagnostics only (the tool's progress lines and "N warnings generated" are not findings).
	sed 's/\x1b\[[0-9;]*m//g' "$log/tidy" | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' |
		sort -u >"$log/tidy.found" || true
	if [ -s "$log/tidy.found" ]; then
		sed "s|^$src/||" "$log/tidy.found"
		echo "lint: clang-tidy: $(wc -l <"$log/tidy.found") finding(s)"
		failures=$((failures + 1))
	else
		echo "lint: clang-tidy: clean"
	fi
fi

if ! command -v cppcheck >/dev/null; then
	echo "SKIP: cppcheck: not installed (apt install cppcheck)"
else
	echo "lint: cppcheck on the compile database and fuzz/"
	cppcheck --project="$build/compile_commands.json" --file-filter='*.c' \
		--enable=warning,performance,portability --inline-suppr --error-exitcode=1 -q \
		-j "$jobs" --suppress=missingIncludeSystem -i "$build" >"$log/cppcheck" 2>&1 ||
		failures=$((failures + 1))
	cppcheck --std=c11 -I include -I src -I tools/vxsave -I "$build/include" \
		--enable=warning,performance,portability --inline-suppr --error-exitcode=1 -q \
		--suppress=missingIncludeSystem --suppress=missingInclude fuzz \
		>>"$log/cppcheck" 2>&1 || failures=$((failures + 1))
	if [ -s "$log/cppcheck" ]; then
		sed "s|^$src/||" "$log/cppcheck"
	else
		echo "lint: cppcheck: clean"
	fi
fi
exit $((failures > 0))
