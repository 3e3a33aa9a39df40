#!/usr/bin/env bash
# Run one libFuzzer target (fuzz/CMakeLists.txt; the Makefile's `fuzz` target).
#
#   run.sh regress BIN NAME WORKDIR SECONDS
#       ctest: every input of regressions/NAME once (each must pass), then SECONDS of fuzzing
#       on the committed corpus/NAME through a scratch corpus WORKDIR/corpus/NAME.
#   run.sh fuzz BIN NAME WORKDIR SECONDS [LIBFUZZER OPTIONS...]
#       a longer run growing WORKDIR/corpus/NAME (kept between runs) from corpus/NAME.
#
# Crashes are written to WORKDIR/artifacts/NAME/ (minimize with BIN -minimize_crash=1, then
# commit the reproducer under regressions/NAME/, docs/robustness.md).  The last lines of the
# output are libFuzzer's -print_final_stats figures.
set -euo pipefail

mode=$1 bin=$2 name=$3 work=$4 seconds=$5
shift 5
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/corpus/$name"
regressions="$here/regressions/$name"
dict="$here/dict/$name.dict"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

[ "$mode" = regress ] && rm -rf "${work:?}/corpus/$name"
mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
# The largest input worth trying: a whole uABI buffer or XSAVE2 blob with its header (AMX:
# 11008 bytes), a profile dump, a script; everything else is 4096.
case "$name" in
uabi | kvm_ioctl | cpuid_dump | xsave_blob) max_len=16384 ;;
vmm_state) max_len=65536 ;;
script) max_len=8192 ;;
*) max_len=4096 ;;
esac
opts=(-timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -max_total_time="$seconds"
	-max_len="$max_len" -artifact_prefix="$work/artifacts/$name/")
[ -f "$dict" ] && opts+=(-dict="$dict")

if [ "$mode" = regress ] && [ -d "$regressions" ]; then
	mapfile -t inputs < <(find "$regressions" -type f ! -name '*.md' | sort)
	if [ ${#inputs[@]} -gt 0 ]; then
		echo "fuzz_$name: ${#inputs[@]} regression input(s)"
		"$bin" "${inputs[@]}"
	fi
fi
dirs=("$work/corpus/$name")
[ -d "$corpus" ] && dirs+=("$corpus")
echo "fuzz_$name: ${seconds}s on ${dirs[*]}"
exec "$bin" "${opts[@]}" "$@" "${dirs[@]}"
