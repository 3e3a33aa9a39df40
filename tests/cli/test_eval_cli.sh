#!/usr/bin/env bash
# vxsave eval (issue 9): the table has a row per design and its figures are the JSON's counters
# recomputed (tests/cli/eval_check.py); one context switch between two tasks on Sapphire Rapids
# writes the bytes arch.md's component sizes give; the verdict's per-thread saving matches the
# compacted sizes computed by hand for Sapphire Rapids and Alder Lake; one seed gives identical
# JSON whatever --jobs; the report's SVGs parse as XML and index.html shows only files of the
# folder; bad arguments are refused with the exit status of docs/cli.md.  Small --steps: fast.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_eval_cli.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
CHECK="$SRCDIR/tests/cli/eval_check.py"
SEED=7
echo "seed $SEED"

designs="unsupported all-tasks guest-only kvm-eager kvm-lazy kvm-user-return"

# expect_status WANT NAME ARGS...: vxsave eval ARGS exits WANT; stderr kept in $tmp/err.
expect_status() {
	local want=$1 name=$2 rc=0
	shift 2
	"$VXSAVE" eval "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] || fail "$name: exit $rc, expected $want ($(head -c 300 "$tmp/err"))"
}

# expect_error NAME PATTERN: the last command's stderr says PATTERN.
expect_error() {
	grep -q -- "$2" "$tmp/err" || fail "$1: stderr lacks '$2': $(head -c 300 "$tmp/err")"
}

# --- help -----------------------------------------------------------------------------------
"$VXSAVE" --help | grep -q '^  eval ' || fail "vxsave --help does not list eval"
"$VXSAVE" eval --help >"$tmp/help" || fail "eval --help failed"
for opt in --design --workload --cpus --seed --steps --costs --jobs --json --report --no-progress \
	--profile --host --cpuid-dump 'Exit status'; do
	grep -q -- "$opt" "$tmp/help" || fail "eval --help does not mention $opt"
done

# --- the table: a row per design, figures = the counters recomputed ---------------------------
args=(--workload context-switch,vcpu-exits,mixed,amx,threads --steps 60 --seed $SEED --no-progress)
"$VXSAVE" eval "${args[@]}" >"$tmp/table.txt" 2>"$tmp/err" || fail "eval (text) failed: $(cat "$tmp/err")"
[ -s "$tmp/err" ] && fail "eval wrote to stderr without a terminal: $(head -c 300 "$tmp/err")"
"$VXSAVE" eval "${args[@]}" --json >"$tmp/table.json" || fail "eval --json failed"
for d in $designs; do
	n=$(grep -c "^$d " "$tmp/table.txt" || true)
	[ "$n" = 5 ] || fail "design $d has $n rows in the text output, expected 5 (one per workload)"
done
grep -q "relative to all-tasks (the design the upstream series replaces)" "$tmp/table.txt" ||
	fail "the table header does not name the baseline"
python3 "$CHECK" figures "$tmp/table.json" "$tmp/table.txt" || fail "figures differ from the counters (above)"

# --- one context switch between two tasks on Sapphire Rapids: the bytes XSAVES writes ---------
# Hand-computed from arch.md §2.1-§2.3 and §5: the tasks write xmm0 (SSE in use: XMM0-15, 256
# bytes, plus MXCSR/MXCSR_MASK, 8, stored with SSE); PKRU holds Linux's 0x55555554, not its
# initial 0 (§5 init table), so its 8 bytes are written; x87, AVX, AVX-512, AMX and CET_U/CET_S
# are in their initial configuration and XSAVES writes none of their bytes; header 64.
# The same in every design: CET_S of a host task is never in use.
expected_save=$((64 + 256 + 8 + 8))
cat >"$tmp/one-switch.wl" <<'EOF'
# two tasks on one CPU, two steps: the second switch saves the first task
workload context-switch
name one-switch
cpus 1
tasks 2
steps 2
EOF
"$VXSAVE" eval --profile sapphire-rapids --workload "$tmp/one-switch.wl" --json --no-progress \
	>"$tmp/one.json" || fail "eval of one switch failed"
"$VXSAVE" eval --profile sapphire-rapids --workload "$tmp/one-switch.wl" --no-progress \
	>"$tmp/one.txt" || fail "eval of one switch (text) failed"
python3 - "$tmp/one.json" "$expected_save" <<'PY' || fail "one switch: see above"
import json, sys
doc, want = json.load(open(sys.argv[1])), int(sys.argv[2])
bad = []
results = doc["workloads"][0]["results"]
if len(results) != 6:
    bad.append("%d results, expected 6" % len(results))
for r in results:
    c = r["run"]
    if c["host_xsaves"] < 1 or c["host_bytes_saved"] != want * c["host_xsaves"]:
        bad.append("%s: %d XSAVES wrote %d bytes, expected %d each" %
                   (r["design"], c["host_xsaves"], c["host_bytes_saved"], want))
    if r["figures"]["bytes_per_save"] != want:
        bad.append("%s: bytes_per_save %s" % (r["design"], r["figures"]["bytes_per_save"]))
for line in bad:
    print("one switch:", line)
sys.exit(1 if bad else 0)
PY
for d in $designs; do
	grep -Eq "^$d +[0-9]+ [^ ]* +- +$expected_save\.0 " "$tmp/one.txt" ||
		fail "one switch: the text row of $d does not show $expected_save.0 bytes per save"
done

# --- the verdict: bytes per non-vCPU thread, by hand from the compacted layout ----------------
# compacted(sizes, aligned): bytes of the default fpstate (arch.md §2.4: legacy 512 + header
# 64, then each component in order, 64-byte aligned where CPUID.(0xD,i).ECX[1] says so).
compacted() {
	python3 -c '
import sys
end = 512 + 64
for item in sys.argv[1:]:
    size, align = item.split(":")
    if align == "a":
        end = (end + 63) // 64 * 64
    end += int(size)
print(end)' "$@"
}
# Sapphire Rapids default fpstate: AVX 256, opmask 64, ZMM_Hi256 512, Hi16_ZMM 1024, PKRU 8,
# PASID 8, CET_U 16, [CET_S 24 in all-tasks], XTILECFG 64 aligned (XTILEDATA is XFD-gated, not
# in the default size: linux-fpu.md).  Alder Lake: AVX, PKRU, CET_U, [CET_S].
spr_all=$(compacted 256:n 64:n 512:n 1024:n 8:n 8:n 16:n 24:n 64:a)
spr_guest=$(compacted 256:n 64:n 512:n 1024:n 8:n 8:n 16:n 64:a)
adl_all=$(compacted 256:n 8:n 16:n 24:n)
adl_guest=$(compacted 256:n 8:n 16:n)
for p in "sapphire-rapids $spr_all $spr_guest" "alder-lake $adl_all $adl_guest"; do
	set -- $p
	saving=$(($2 - $3))
	kib=$(python3 -c "print('%.1f' % ($saving * 10000 / 1024))")
	"$VXSAVE" eval --profile "$1" --design all-tasks,guest-only --workload context-switch \
		--steps 40 --no-progress >"$tmp/verdict.txt" || fail "eval --profile $1 failed"
	tr -s ' \n' ' ' <"$tmp/verdict.txt" >"$tmp/verdict.flat"
	grep -q "guest-only saves $saving bytes per non-vCPU thread versus all-tasks ($kib KiB for 10 000" \
		"$tmp/verdict.flat" || fail "$1: the verdict does not say $saving bytes ($kib KiB): $(grep -A1 memory: "$tmp/verdict.txt")"
	grep -q "default fpstate is $2 bytes in all-tasks and $3 in guest-only" "$tmp/verdict.flat" ||
		fail "$1: the verdict does not give the sizes $2 and $3"
	grep -q "the switch cost difference is [+-][0-9.]* % .*spread over 5 seeds: [0-9.]* %" \
		"$tmp/verdict.flat" || fail "$1: no switch verdict with its spread"
done

# --- determinism: one seed, one document, whatever --jobs --------------------------------------
det=(--workload mixed,vcpu-exits --steps 80 --json --no-progress)
"$VXSAVE" eval "${det[@]}" --seed $SEED --jobs 1 >"$tmp/d1.json" || fail "eval --jobs 1 failed"
"$VXSAVE" eval "${det[@]}" --seed $SEED --jobs 3 >"$tmp/d2.json" || fail "eval --jobs 3 failed"
cmp -s "$tmp/d1.json" "$tmp/d2.json" || fail "seed $SEED: --jobs 1 and --jobs 3 give different JSON"
"$VXSAVE" eval "${det[@]}" --seed $((SEED + 1)) >"$tmp/d3.json" || fail "eval --seed $((SEED + 1)) failed"
cmp -s "$tmp/d1.json" "$tmp/d3.json" && fail "seeds $SEED and $((SEED + 1)) give the same JSON"

# --- the report ------------------------------------------------------------------------------
"$VXSAVE" eval --workload context-switch,vcpu-exits --steps 40 --no-progress \
	--report "$tmp/report" >"$tmp/report.txt" || fail "eval --report failed"
grep -q "^report: $tmp/report/index.html$" "$tmp/report.txt" || fail "eval --report does not print the path"
python3 "$CHECK" report "$tmp/report" || fail "the report does not render (above)"
[ -f "$tmp/report/memory.svg" ] || fail "the report has no memory chart"
"$VXSAVE" eval --workload context-switch --steps 20 --json --no-progress --report "$tmp/r2" \
	>"$tmp/r2.json" 2>"$tmp/r2.err" || fail "eval --json --report failed"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/r2.json" ||
	fail "--json --report: standard output is not one JSON document"
grep -q "^report: $tmp/r2/index.html" "$tmp/r2.err" || fail "--json --report: the path is not on stderr"
: >"$tmp/file"
expect_status 1 "--report on a file" --workload context-switch --steps 5 --report "$tmp/file/x"
expect_error "--report on a file" "--report $tmp/file/x"

# --- progress: a line on a terminal only --------------------------------------------------------
if command -v script >/dev/null 2>&1; then
	script -qec "'$VXSAVE' eval --workload mixed --steps 400 --design kvm-lazy" /dev/null \
		>"$tmp/tty.txt" 2>&1 || true
	grep -q "eval: mixed kvm-lazy [0-9]*/400 steps" "$tmp/tty.txt" ||
		fail "no progress line on a terminal: $(head -c 300 "$tmp/tty.txt")"
	script -qec "'$VXSAVE' eval --workload mixed --steps 400 --design kvm-lazy --no-progress" \
		/dev/null >"$tmp/tty2.txt" 2>&1 || true
	grep -q "eval: mixed" "$tmp/tty2.txt" && fail "--no-progress still shows progress"
else
	echo "SKIP: progress on a terminal: no 'script' command to give vxsave a terminal"
fi

# --- bad arguments ------------------------------------------------------------------------------
expect_status 2 "unknown design" --design all-tasks,nosuch
expect_error "unknown design" "unknown --design 'nosuch'"
expect_status 2 "design twice" --design guest-only,guest-only
expect_error "design twice" "'guest-only' twice"
expect_status 2 "unknown workload" --workload mixed,bogus
expect_error "unknown workload" "unknown --workload 'bogus'"
expect_status 2 "--cpus 0" --cpus 0
expect_error "--cpus 0" "--cpus needs a number from 1 to 64, not '0'"
expect_status 2 "--jobs 0" --jobs 0
expect_error "--jobs 0" "--jobs needs a number from 1 to 256, not '0'"
expect_status 2 "--steps x" --steps 12x
expect_error "--steps x" "--steps needs a number"
expect_status 2 "stray argument" stray
expect_error "stray argument" "unexpected argument 'stray'"
# A malformed file is bad input, exit 1 like a `vxsave cpu` script error (docs/cli.md), with
# FILE:LINE.
printf 'workload mixed\ncpus 2\nvcpus lots\n' >"$tmp/bad.wl"
expect_status 1 "malformed workload file" --workload "$tmp/bad.wl"
expect_error "malformed workload file" "$tmp/bad.wl:3: .*lots"
printf 'clock 2 GHz\nwrmrs 100 cycles\n' >"$tmp/bad.costs"
expect_status 1 "malformed cost file" --workload context-switch --steps 5 --costs "$tmp/bad.costs"
expect_error "malformed cost file" "bad.costs:2: .*wrmrs"
expect_status 1 "missing workload file" --workload "$tmp/none/x.wl"
expect_error "missing workload file" "cannot read workload file"
# --cpus beyond what a workload allows is refused naming the workload
expect_status 2 "--cpus 65" --cpus 65
# A cost override changes the modeled time, and only that
printf 'switch 1000 ns # test\n' >"$tmp/ok.costs"
"$VXSAVE" eval --workload context-switch --design guest-only --steps 20 --json --costs "$tmp/ok.costs" \
	>"$tmp/c.json" || fail "eval --costs failed"
python3 - "$tmp/c.json" <<'PY' || fail "--costs: see above"
import json, sys
r = json.load(open(sys.argv[1]))["workloads"][0]["results"][0]
ops = r["figures"]["operations"]
if abs(r["cost"]["switch"] - 1000.0 * r["run"]["context_switches"]) > 1e-6:
    print("--costs: switch category %s, expected 1000 ns x %d switches" % (r["cost"]["switch"], r["run"]["context_switches"]))
    sys.exit(1)
PY

finish test_eval_cli
