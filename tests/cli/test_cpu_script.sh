#!/usr/bin/env bash
# vxsave cpu: every docs/examples/*.vxs runs clean, bad scripts fail with FILE:LINE and the
# bad word (exit 1) or as usage errors (exit 2), -e / stdin / positional FILE, --help, and the
# CPU source options.  The language: docs/cpu-script.md.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_cpu_script.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EXAMPLES="$SRCDIR/docs/examples"
DUMP="$SRCDIR/tests/fixtures/cpuid/host-amd-zen5-kvm.txt"

# run EXPECTED_EXIT ARGS...: run `vxsave cpu ARGS` with stdin from /dev/null; stdout and stderr
# go to $tmp/out and $tmp/err.  Returns 1 (after reporting) if the exit code differs.
run() {
	local expected=$1 rc=0
	shift
	"$VXSAVE" cpu "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "vxsave cpu $*: exit $rc, expected $expected; stderr: $(head -c 400 "$tmp/err")"
		return 1
	fi
	return 0
}

# run_stdin EXPECTED_EXIT TEXT ARGS...: the same with TEXT on standard input.
run_stdin() {
	local expected=$1 text=$2 rc=0
	shift 2
	printf '%s' "$text" | "$VXSAVE" cpu "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "vxsave cpu $* <<< '$text': exit $rc, expected $expected;" \
			"stderr: $(head -c 400 "$tmp/err")"
		return 1
	fi
	return 0
}

# has FILE TEXT DESCRIPTION: FILE ($tmp/out or $tmp/err) contains TEXT (fixed string).
has() {
	grep -qF -- "$2" "$1" || fail "$3: $(basename "$1") lacks '$2': $(head -c 400 "$1")"
}

# --- every example runs and every expectation in it holds ---------------------------------
count=0
for script in "$EXAMPLES"/*.vxs; do
	count=$((count + 1))
	name=$(basename "$script")
	run 0 "$script" || continue
	has "$tmp/out" "$script: " "$name summary line"
	grep -Eq 'expectations? held' "$tmp/out" || fail "$name: no summary line"
	[ ! -s "$tmp/err" ] || fail "$name wrote to stderr: $(head -c 300 "$tmp/err")"
done
[ "$count" -ge 7 ] || fail "expected at least 7 examples in docs/examples, found $count"

# The XRSTORS walk-through prints the area decoded and the state after the restore.
if run 0 --profile sapphire-rapids "$EXAMPLES/xrstors-area.vxs"; then
	has "$tmp/out" "XSTATE_BV = 0xa02 (SSE|PKRU|CET_U)" "xrstors-area header"
	has "$tmp/out" "XCOMP_BV  = 0x8000000000001a06: compacted format" "xrstors-area header"
	has "$tmp/out" "880 bytes" "xrstors-area compacted size (arch.md §2.4 row 0x1A07)"
	has "$tmp/out" "[0x0348-0x0357] CET_U: U_CET=0x1 PL3_SSP=0x7ffff000" "CET_U at 840"
	has "$tmp/out" "[0x0358-0x036f] CET_S:" "CET_S at 856"
	has "$tmp/out" "[0x0340-0x0347] PKRU: PKRU=0x55555554" "PKRU at 832"
	has "$tmp/out" "[12 CET_S] (initial)" "print state after XRSTORS"
	has "$tmp/out" "XINUSE    = 0xa02 (SSE|PKRU|CET_U)" "print tracking"
	has "$tmp/out" "VM exit 64 (XRSTORS)" "the VM exit line"
fi

# --- bad scripts: EXIT^^message fragment (with FILE:LINE)^^script ('\n' separates lines) ---
# Each script is written to bad.vxs, so the fragment's "bad.vxs:N:" checks the line number.
bad_scripts=(
	"1^^bad.vxs:2: unknown command 'xsav'^^buffer a 4096\nxsav a all"
	"1^^bad.vxs:2: bad number '0x12g'^^buffer a 4096\nxsave a 0x12g"
	"1^^bad.vxs:3: unknown register 'xmm99'^^# comment\n\nreg xmm99 = 1"
	"1^^bad.vxs:1: buffer 'nowhere' not defined^^xsave nowhere all"
	"1^^bad.vxs:3: offset 0x64 + 1 bytes is beyond buffer 'a' (64 bytes)^^buffer a 64\n\npoke a 100 u8 1"
	"1^^bad.vxs:2: offset 0x40 is beyond buffer 'a'^^buffer a 64\nxsave a+64 all"
	"1^^bad.vxs:2: offset 0x200 + 64 bytes is beyond buffer 'a'^^buffer a 560\nprint a header 64"
	"1^^bad.vxs:1: bad XCR value 'x87,sse,avx3': unknown component name 'avx3'^^xsetbv 0 x87,sse,avx3"
	"1^^bad.vxs:1: missing words: usage: xsetbv ECX VALUE^^xsetbv 0"
	"1^^bad.vxs:1: too many words: usage: xgetbv ECX^^xgetbv 0 1"
	"1^^bad.vxs:1: unknown MSR 'IA32_FOO'^^wrmsr IA32_FOO 1"
	"1^^bad.vxs:2: unknown exception '#XX'^^xsetbv 0 3\nexpect fault #XX"
	"1^^bad.vxs:1: 'expect ok' needs an instruction before it^^expect ok"
	"1^^bad.vxs:1: 'expect value' needs an xgetbv or rdmsr before it^^expect value == 1"
	"1^^bad.vxs:2: buffer 'a' already defined^^buffer a 64\nbuffer a 64"
	"1^^bad.vxs:1: buffer size '2097152' is not in 1..1048576^^buffer a 2097152"
	"1^^bad.vxs:1: 'state' is a reserved word^^buffer state 64"
	"1^^bad.vxs:2: value '0x10000' does not fit in 1 byte^^buffer a 64\npoke a 0 u8 0x10000"
	"1^^bad.vxs:1: value '0x112233445566778899aabbccddeeff0011' has 17 significant bytes, xmm0 holds 16^^reg xmm0 = 0x112233445566778899aabbccddeeff0011"
	"1^^bad.vxs:1: unknown cr0 change '+xx'^^set cr0 +xx"
	"1^^bad.vxs:1: unknown mode 'protected64'^^set mode protected64"
	"1^^bad.vxs:1: unknown CPUID feature 'warp_drive'^^require warp_drive"
	"1^^bad.vxs:1: expected '==' or '!=', not '='^^expect xcr0 = 1"
	"1^^bad.vxs:2: expected u8, u16, u32 or u64, not 'u128'^^buffer a 64\nexpect a 0 u128 == 1"
	"1^^bad.vxs:2: odd number of hex digits in 'hex:abc'^^buffer a 64\npoke a 0 hex:abc"
	"1^^bad.vxs:2: control character 0x01^^echo ok\necho \001"
	# failed expectations, one of each kind
	"1^^bad.vxs:2: expectation failed: expect ok: expected ok, got #GP(0)^^xsetbv 0 2\nexpect ok"
	"1^^bad.vxs:2: expectation failed: expect fault #GP: expected #GP, the instruction retired^^xsetbv 0 3\nexpect fault #GP"
	"1^^bad.vxs:2: expectation failed: expect fault #UD: expected #UD, got #GP(0)^^xsetbv 0 2\nexpect fault #UD"
	"1^^bad.vxs:3: expectation failed: expect fault #GP(1): expected #GP(1), got #GP(0)^^set cpl 3\nxsetbv 0 3\nexpect fault #GP(1)"
	"1^^bad.vxs:2: expectation failed: expect vmexit xsetbv: expected VM exit 55, the instruction retired^^xsetbv 0 3\nexpect vmexit xsetbv"
	"1^^bad.vxs:2: expectation failed: expect reg xmm0 == 2: xmm0 holds hex:01^^reg xmm0 = 1\nexpect reg xmm0 == 2"
	"1^^bad.vxs:2: expectation failed: expect reg fcw != 0x37f: fcw is 0x37f^^# x87 starts initial\nexpect reg fcw != 0x37f"
	"1^^bad.vxs:1: expectation failed: expect xinuse == sse: XINUSE is 0, expected 0x2 (SSE)^^expect xinuse == sse"
	"1^^bad.vxs:1: expectation failed: expect xmodified & sse == none: XMODIFIED is 0x2 (SSE)^^expect xmodified & sse == none"
	"1^^bad.vxs:2: expectation failed: expect xcr0 == x87,sse,avx: XCR0 is 0x3 (x87|SSE), expected 0x7 (x87|SSE|AVX)^^xsetbv 0 3\nexpect xcr0 == x87,sse,avx"
	"1^^bad.vxs:1: expectation failed: expect msr IA32_XSS != 0: IA32_XSS is 0^^expect msr IA32_XSS != 0"
	"1^^bad.vxs:2: expectation failed: expect value == 7: the value read is 0x1, expected 0x7^^xgetbv 0\nexpect value == 7"
	"1^^bad.vxs:2: expectation failed: expect value == 1: the last xgetbv/rdmsr faulted: no value^^xgetbv 5\nexpect value == 1"
	"1^^bad.vxs:1: expectation failed: expect ssp == 0x1000: SSP is 0, expected 0x1000^^expect ssp == 0x1000"
	"1^^bad.vxs:3: expectation failed: expect a xstate_bv u64 == 7: a+0x200 is 0, expected 0x7^^buffer a 4096\nxsave a all\nexpect a xstate_bv u64 == 7"
	"1^^bad.vxs:2: expectation failed: expect a 24 == hex:801f0001: a+0x18 holds hex:00000000, expected hex:801f0001^^buffer a 4096\nexpect a 24 == hex:801f0001"
	# the model refuses what the profile lacks (run time, still FILE:LINE)
	"1^^bad.vxs:1: register tmm0 is in component XTILEDATA, which zen4 does not have^^reg tmm0 = 1"
	"1^^bad.vxs:1: this script needs 'amx_tile', which zen4 does not have^^require amx_tile"
)
i=0
for row in "${bad_scripts[@]}"; do
	i=$((i + 1))
	expected=${row%%^^*}
	rest=${row#*^^}
	message=${rest%%^^*}
	script=${rest#*^^}
	printf '%b\n' "$script" >"$tmp/bad.vxs"
	profile=sapphire-rapids
	case "$message" in *zen4*) profile=zen4 ;; esac
	rc=0
	(cd "$tmp" && "$VXSAVE" cpu --profile "$profile" bad.vxs) >"$tmp/out" 2>"$tmp/err" </dev/null ||
		rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "bad script $i ($message): exit $rc, expected $expected; stderr: $(cat "$tmp/err")"
		continue
	fi
	grep -qF -- "vxsave: $message" "$tmp/err" ||
		fail "bad script $i: stderr lacks 'vxsave: $message': $(cat "$tmp/err")"
done
[ "$i" -ge 15 ] || fail "the bad-script table has only $i rows"

# Nothing runs when a later line is wrong: the whole script is parsed first.
printf 'echo first\nbogus\n' >"$tmp/late.vxs"
run 1 "$tmp/late.vxs" && { [ ! -s "$tmp/out" ] || fail "a statement ran before the parse error"; }
has "$tmp/err" "late.vxs:2: unknown command 'bogus'" "late error"

# A failed expectation stops the run there.
run 1 -e 'xsetbv 0 3; expect fault; echo not reached' &&
	{ ! grep -q "not reached" "$tmp/out" || fail "the run went on after a failed expectation"; }

# --- -e mode: ';' separates statements, each one a line; several -e add lines ------------
run 0 -e 'buffer a 4096; xsetbv 0 x87,sse,avx; xsavec a all; expect a xcomp_bv u64 == 0x8000000000000007' &&
	has "$tmp/out" "3: xsavec a all -> ok" "-e statement numbers"
run 1 -e 'xsetbv 0 3' -e 'echo x; bogus' && has "$tmp/err" "vxsave: -e:3: unknown command 'bogus'" "-e lines"
run 1 -e 'xsetbv 0 3 # a comment; hidden' -e 'bogus' &&
	has "$tmp/err" "vxsave: -e:3: unknown command 'bogus'" "a comment ends with its -e"
run 0 -q -e 'xsetbv 0 3; echo quiet' && {
	[ "$(cat "$tmp/out")" = "quiet" ] || fail "--quiet printed more than echo: $(cat "$tmp/out")"
}
run 0 --trace -e 'xsetbv 0 3; expect ok' && has "$tmp/out" "2: expect ok -> passed" "--trace"

# --- standard input and positional FILE -----------------------------------------------
run_stdin 0 $'buffer a 4096\nxsave a x87\nexpect ok\n' --script - && has "$tmp/out" "<stdin>: " "stdin summary"
run_stdin 1 $'buffer a 4096\n\nxsave b x87\n' --script - &&
	has "$tmp/err" "vxsave: <stdin>:3: buffer 'b' not defined" "stdin errors"
run 0 --script "$EXAMPLES/mxcsr-rules.vxs"
run 1 "$tmp/does-not-exist.vxs" && has "$tmp/err" "cannot open script" "missing file"

# Garbage never crashes: exit 1 with a line number.
head -c 20000 /dev/urandom >"$tmp/garbage" 2>/dev/null || dd if=/dev/urandom of="$tmp/garbage" bs=1000 count=20 2>/dev/null
rc=0
"$VXSAVE" cpu --script - <"$tmp/garbage" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "random bytes: exit $rc, expected 1: $(head -c 300 "$tmp/err")"
grep -q '^vxsave: <stdin>:[0-9]*: ' "$tmp/err" || fail "random bytes: no FILE:LINE: $(head -c 300 "$tmp/err")"
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "x"; print "" }' >"$tmp/long.vxs"
run 1 "$tmp/long.vxs" && has "$tmp/err" "long.vxs:1: line longer than 4096 characters" "long line"

# --- usage errors (exit 2) ---------------------------------------------------------------
run 2 && has "$tmp/err" "no script" "no script"
run 2 --script a.vxs -e 'echo' && has "$tmp/err" "give the script once" "two scripts"
run 2 -e 'echo' extra.vxs && has "$tmp/err" "unexpected argument 'extra.vxs'" "-e and FILE"
run 2 a.vxs b.vxs && has "$tmp/err" "b.vxs" "two files"
run 2 --script && has "$tmp/err" "needs a value" "--script without a value"
run 2 --bogus x.vxs && has "$tmp/err" "unknown option '--bogus'" "unknown option"
run 2 --script - --cpuid-dump - && has "$tmp/err" "standard input" "two readers of stdin"
run 2 --profile zen4 --host -e 'echo' && has "$tmp/err" "--host" "two sources"

# --- --help ------------------------------------------------------------------------------
for args in "--help" "-h"; do
	# shellcheck disable=SC2086
	run 0 $args || continue
	for word in --script -e --execute --trace --quiet -q --help --host --profile --cpuid-dump \
		--cpu buffer fill poke "set cpl" "set mode" "set cr0" "set cr4" "set ac" "set ssp" \
		"set vmx" xss-exit reset require xsetbv xgetbv wrmsr rdmsr "reg NAME" "use COMP" \
		"init COMP" xsave xsaveopt xsavec xsaves xrstor xrstors lock echo "print state" \
		"print reg" "print msr" "print BUF" "expect ok" "expect fault" "expect vmexit" \
		"expect reg" "expect xinuse|xmodified|xcr0|ssp|value" "expect msr" "expect BUF" \
		"hex:BYTES" "Exit status" "docs/cpu-script.md"; do
		grep -qF -- "$word" "$tmp/out" || fail "vxsave cpu $args does not mention '$word'"
	done
done
if "$VXSAVE" help cpu >"$tmp/out" 2>&1; then
	has "$tmp/out" "Usage: vxsave cpu" "vxsave help cpu"
else
	fail "vxsave help cpu failed"
fi
if "$VXSAVE" --help >"$tmp/out" 2>&1; then
	has "$tmp/out" "  cpu " "vxsave --help lists cpu"
else
	fail "vxsave --help failed"
fi

# --- CPU source selection ----------------------------------------------------------------
# PKRU's standard offset differs between vendors (arch.md §2.6): 2688 on Intel, 2432 on Zen 4.
pkru_at() {
	printf 'buffer a 4096\nxsetbv 0 x87,sse,avx,avx512,pkru\nreg pkru = 0x55555554\n'
	printf 'xsave a all\nexpect a %s u32 == 0x55555554\n' "$1"
}
pkru_at 2688 >"$tmp/pkru-intel.vxs"
pkru_at 2432 >"$tmp/pkru-amd.vxs"
run 0 "$tmp/pkru-intel.vxs" && has "$tmp/out" "held on sapphire-rapids" "default profile"
run 0 --profile sapphire-rapids "$tmp/pkru-intel.vxs"
run 0 --profile zen4 "$tmp/pkru-amd.vxs" && has "$tmp/out" "held on zen4" "--profile zen4"
run 1 --profile zen4 "$tmp/pkru-intel.vxs" && has "$tmp/err" "pkru-intel.vxs:5: expectation failed" "zen4 layout"
run 1 --profile no-such-cpu -e 'echo' && has "$tmp/err" "no-such-cpu" "unknown profile"
run 0 --cpuid-dump "$DUMP" -e 'xsetbv 0 x87,sse,avx; expect ok; print xcr0' &&
	has "$tmp/out" "cpuid dump $DUMP (CPU 0)" "--cpuid-dump names its source"
run_stdin 0 "$(cat "$DUMP")" --cpuid-dump - -e 'xgetbv 0; expect value == 1'
run 1 --cpuid-dump "$tmp/does-not-exist.txt" -e 'echo'
# The host: whatever it has, a script that only reads XCR0 after creation runs.
rc=0
"$VXSAVE" cpu --host -e 'expect xcr0 == x87' >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
if [ "$rc" = 0 ]; then
	has "$tmp/out" "held on" "--host summary"
elif ! grep -q "not supported\|ENOTSUP" "$tmp/err"; then
	fail "--host: exit $rc: $(head -c 300 "$tmp/err")"
fi

finish test_cpu_script
