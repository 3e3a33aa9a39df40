#!/usr/bin/env bash
# vxsave command line: --help everywhere (exit 0, every option mentioned), --version, and the
# exit codes and messages for bad arguments (2 = usage error, 1 = bad input).
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_usage.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# run EXPECTED_EXIT ARGS...: run vxsave (stdin from /dev/null), check the exit code; on failure
# the message must start with "vxsave: ".  Output is left in $tmp/out and $tmp/err.
run() {
	local expected=$1 rc=0
	shift
	"$VXSAVE" "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "vxsave $*: exit $rc, expected $expected; stderr: $(head -c 300 "$tmp/err")"
		return 1
	fi
	if [ "$expected" != 0 ] && ! head -n1 "$tmp/err" | grep -q '^vxsave: '; then
		fail "vxsave $*: first stderr line does not start with 'vxsave: ': $(head -n1 "$tmp/err")"
	fi
	return 0
}

# err_has PATTERN DESCRIPTION: the last run's stderr matches PATTERN (extended regex).
err_has() {
	grep -Eq -- "$1" "$tmp/err" || fail "$2: stderr does not match /$1/: $(head -c 300 "$tmp/err")"
}

# help_mentions WORDS...: the last run's stdout mentions every word.
help_mentions() {
	local word
	for word in "$@"; do
		grep -q -- "$word" "$tmp/out" || fail "help text lacks '$word': $(head -n1 "$tmp/out")"
	done
}

# --- help and version ---------------------------------------------------------------------
for args in "--help" "-h" "help"; do
	# shellcheck disable=SC2086
	run 0 $args && help_mentions Usage profile layout help --help --version
done
run 0 --version && grep -Eq '^vxsave [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out" || fail "--version output"
run 0 -V

source_options=(--host --profile --cpuid-dump --cpu)
for args in "layout --help" "layout -h" "help layout"; do
	# shellcheck disable=SC2086
	run 0 $args && help_mentions "${source_options[@]}" --features --json --svg --help
done
for args in "profile --help" "help profile"; do
	# shellcheck disable=SC2086
	run 0 $args && help_mentions list show "${source_options[@]}" --json --raw --help
done
run 0 profile show --help && help_mentions "${source_options[@]}" --json --raw --help
run 0 profile list --help && help_mentions --json --help
run 0 help --help && help_mentions help

# --- usage errors: exit 2 ------------------------------------------------------------------
run 2 && err_has "no command" "no arguments"
run 2 frobnicate && err_has "frobnicate" "unknown subcommand"
run 2 --frobnicate && err_has "frobnicate" "unknown top-level option"
run 2 layout --frobnicate && err_has "unknown option '--frobnicate'" "unknown layout option"
run 2 layout -x && err_has "-x" "unknown short option"
run 2 layout --features && err_has "features" "missing --features value"
run 2 layout --svg && err_has "svg" "missing --svg value"
run 2 layout --profile && err_has "profile" "missing --profile value"
run 2 layout --host --profile zen4 && err_has "--host.*--profile" "two sources"
run 2 layout --profile zen4 --cpuid-dump - && err_has "--profile.*--cpuid-dump" "two sources"
run 2 profile show --host --profile x && err_has "--host.*--profile" "two sources (show)"
run 2 layout --cpu 1 && err_has "cpuid-dump" "--cpu without a dump"
run 2 layout --cpuid-dump - --cpu one && err_has "one" "--cpu not a number"
run 2 layout extra && err_has "extra" "stray argument"
run 2 profile && err_has "list|show" "profile without a subcommand"
run 2 profile frobnicate && err_has "frobnicate" "unknown profile subcommand"
run 2 profile list --raw && err_has "--raw" "option of another subcommand"
run 2 profile show --bogus && err_has "--bogus" "unknown profile show option"
run 2 help frobnicate && err_has "frobnicate" "help for an unknown command"

# --- bad input: exit 1 ---------------------------------------------------------------------
run 1 layout --profile nosuch && err_has "nosuch" "unknown profile"
run 1 profile show --profile nosuch && err_has "nosuch" "unknown profile (show)"
# The rule is cited as the Intel SDM section users can open, not the project's notes.
run 1 layout --features 0xe3 && err_has "AVX" "AVX-512 without AVX" &&
	err_has "Intel SDM Vol.1 §13.3" "rule named as SDM section"
grep -q 'arch\.md' "$tmp/err" && fail "user message cites arch.md: $(cat "$tmp/err")"
run 1 layout --features bogus && err_has "bogus" "unknown component name"
run 1 layout --profile zen4 --features 0x103 && err_has "PT" "PT on a CPU without PT"
run 1 layout --cpuid-dump "$tmp/does-not-exist" && err_has "does-not-exist" "missing dump"
printf 'CPU 0:\n   0x00000000 0x00: eax=0x1 ebx=0x2\n' >"$tmp/short.txt"
run 1 layout --cpuid-dump "$tmp/short.txt" && err_has "short.txt:2: " "malformed dump has FILE:LINE"
run 1 layout --svg "$tmp/no/such/dir/x.svg" && err_has "x.svg" "unwritable SVG path"

# --- help for subcommands ------------------------------------------------------------------
run 0 help profile show && help_mentions "Usage: vxsave profile show" --raw
run 0 help profile list && help_mentions "Usage: vxsave profile list"
run 2 help profile frobnicate && err_has "frobnicate" "help for an unknown subcommand"

# --- write errors are failures --------------------------------------------------------------
if [ -w /dev/full ]; then
	for args in "profile list" "layout" "layout --json" "--help" "profile show --raw"; do
		rc=0
		# shellcheck disable=SC2086
		"$VXSAVE" $args >/dev/full 2>"$tmp/err" || rc=$?
		[ "$rc" = 1 ] || fail "vxsave $args >/dev/full: exit $rc, expected 1"
		grep -q '^vxsave: cannot write to standard output' "$tmp/err" ||
			fail "vxsave $args >/dev/full: no write error message: $(cat "$tmp/err")"
	done
fi

# --- system errors say what happened ----------------------------------------------------------
run 1 layout --cpuid-dump "$tmp" && err_has "[Ii]s a directory" "directory as a dump"
run 1 layout --cpuid-dump /dev/zero && err_has "64 MiB" "size limit named"

# --- a dump truncated mid-register is refused, naming the line --------------------------------
leaf0='   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69'
printf 'CPU 0:\n%s\n   0x00000001 0x00: eax=0x1234 ebx=0x\n' "$leaf0" >"$tmp/cut1.txt"
run 1 layout --cpuid-dump "$tmp/cut1.txt" && err_has "cut1.txt:3: .*ebx" "register cut after 0x"
printf 'CPU 0:\n%s\n   0x00000001 0x00: eax=0x1 ebx=0x2 ecx=0x3\n' "$leaf0" >"$tmp/cut2.txt"
run 1 layout --cpuid-dump "$tmp/cut2.txt" && err_has "cut2.txt:3: .*edx" "edx missing"
printf 'CPU 0:\n%s\n   0x00000001 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x' "$leaf0" >"$tmp/cut3.txt"
run 1 layout --cpuid-dump "$tmp/cut3.txt" && err_has "cut3.txt:3: .*edx" "file ends inside edx"

# --- numbers: one rule everywhere (decimal unless 0x/0b; leading zeros stay decimal) ----------
run 1 layout --features 010 && err_has "XCR0 0xa:" "010 is ten, not octal eight"
run 0 layout --features 0b11100111 --json && grep -q '"mask": "0xe7"' "$tmp/out" ||
	fail "--features 0b11100111 is not 0xe7"
run 0 layout --features 0x2_e7 --json && grep -q '"mask": "0x2e7"' "$tmp/out" ||
	fail "--features 0x2_e7 is not 0x2e7"
run 1 layout --features 0x2e7z && err_has "'0x2e7z' is not a number" "bad number named"
run 1 layout --features 18446744073709551616 && err_has "64 bits" "number too large"
run 2 layout --cpuid-dump - --cpu 1x && err_has "1x" "--cpu not a number"

# Successful commands print nothing on stderr.
run 0 layout && [ ! -s "$tmp/err" ] || fail "vxsave layout wrote to stderr"
run 0 profile list && [ ! -s "$tmp/err" ] || fail "vxsave profile list wrote to stderr"

finish test_usage
