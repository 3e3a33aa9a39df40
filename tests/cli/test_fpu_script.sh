#!/usr/bin/env bash
# vxsave fpu SCRIPT: every docs/examples/fpu/*.vxs runs on sapphire-rapids with its expectations
# holding and prints what the walk-through says, every fpu statement is documented in
# docs/fpu-script.md, bad scripts fail with FILE:LINE and the reason (exit 1), usage errors exit
# 2, and `vxsave fpu boot` still works.  The language: docs/fpu-script.md.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_fpu_script.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EXAMPLES="$SRCDIR/docs/examples/fpu"

# run EXPECTED_EXIT ARGS...: `vxsave fpu ARGS` into $tmp/out and $tmp/err.
run() {
	local expected=$1 rc=0
	shift
	"$VXSAVE" fpu "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "vxsave fpu $*: exit $rc, expected $expected; stderr: $(head -c 400 "$tmp/err")"
		return 1
	fi
	return 0
}

has() {
	grep -qF -- "$2" "$1" || fail "$3: $(basename "$1") lacks '$2': $(head -c 400 "$1")"
}

# --- the examples -------------------------------------------------------------------------
count=0
for script in "$EXAMPLES"/*.vxs; do
	count=$((count + 1))
	run 0 --profile sapphire-rapids "$script" || continue
	grep -Eq 'expectations? held on sapphire-rapids' "$tmp/out" ||
		fail "$(basename "$script"): no summary line"
	[ ! -s "$tmp/err" ] || fail "$(basename "$script") wrote to stderr: $(cat "$tmp/err")"
done
[ "$count" -ge 2 ] || fail "expected at least 2 examples in docs/examples/fpu, found $count"

if run 0 --profile sapphire-rapids "$EXAMPLES/amx-permission.vxs"; then
	has "$tmp/out" "use 0x60000 by app: #NM (XFD), not retired, SIGILL" "use before permission"
	has "$tmp/out" "arch_prctl(req_xcomp_perm, 0x12) = 0" "REQ 18"
	has "$tmp/out" "use 0x60000 by app: #NM (XFD), retired" "first use after permission"
	has "$tmp/out" "task app: fpstate size 10752, user_size 11008, xfd 0" "fpu print after realloc"
	has "$tmp/out" "xfeatures      0x60ee7" "xfeatures with bit 18"
	has "$tmp/out" "arch_prctl(req_xcomp_perm, 0x9) = -EOPNOTSUPP" "REQ of a static feature"
	has "$tmp/out" "24 statements, 7 operations (3 faulted), 13 expectations held" "summary"
fi
if run 0 --profile sapphire-rapids "$EXAMPLES/fork-permissions.vxs"; then
	has "$tmp/out" "arch_prctl(get_xcomp_perm, 0) = 0x602e7" "the child's permission"
	has "$tmp/out" "use 0x60000 by child: #NM (XFD), not retired, SIGILL" "after exec"
	has "$tmp/out" "xsetbv 0 x87,sse,avx -> ok" "a cpu statement in the same script"
fi
# --quiet keeps only print output; --trace shows the statements.
if run 0 --profile sapphire-rapids --quiet "$EXAMPLES/amx-permission.vxs"; then
	[ "$(grep -c '' "$tmp/out")" = 4 ] || fail "--quiet: expected only fpu print's 4 lines"
fi
run 0 --profile sapphire-rapids --trace "$EXAMPLES/amx-permission.vxs" &&
	has "$tmp/out" "fpu prctl app req_xcomp_perm 18" "--trace"
# standard input
"$VXSAVE" fpu --profile zen4 - >"$tmp/out" 2>"$tmp/err" <<'VXS' || fail "script on stdin failed"
fpu machine 1
fpu process a
fpu run a 0
fpu prctl a req_xcomp_perm 18
fpu expect result EOPNOTSUPP
VXS
has "$tmp/out" "1 expectation held on zen4" "stdin on zen4 (no AMX)"

# --- every statement is documented ----------------------------------------------------------
"$VXSAVE" fpu --help >"$tmp/help" || fail "fpu --help failed"
grep -o '^  fpu [a-z]* [A-Za-z|]*' "$tmp/help" | sed 's/^  //' | while read -r synopsis; do
	grep -qF -- "\`$synopsis" "$SRCDIR/docs/fpu-script.md" ||
		echo "docs/fpu-script.md does not document '$synopsis'"
done >"$tmp/undocumented"
[ ! -s "$tmp/undocumented" ] || fail "$(cat "$tmp/undocumented")"
has "$tmp/help" "fpu expect signal none|sigill|sigsegv" "--help statement list"

# --- bad scripts: EXIT^^message fragment^^script --------------------------------------------
bad_scripts=(
	"1^^bad.vxs:2: unknown fpu statement 'proces'^^fpu machine 1\nfpu proces a"
	"1^^bad.vxs:1: missing words: usage: fpu machine CPUS^^fpu machine"
	"1^^bad.vxs:1: no machine: 'fpu machine CPUS' must come first^^fpu process a"
	"1^^bad.vxs:3: no task 'b'^^fpu machine 1\nfpu process a\nfpu run b 0"
	"1^^bad.vxs:3: task 'a' already exists^^fpu machine 1\nfpu process a\nfpu process a"
	"1^^bad.vxs:2: bad task name 'a.b'^^fpu machine 1\nfpu process a.b"
	"1^^bad.vxs:4: unknown arch_prctl option 'frob'^^fpu machine 1\nfpu process a\n\nfpu prctl a frob"
	"1^^bad.vxs:1: unknown field 'sizes'^^fpu expect a sizes 1"
	"1^^bad.vxs:3: bad result 'EFOO'^^fpu machine 1\nfpu prctl a get_xcomp_supp\nfpu expect result EFOO"
	"1^^bad.vxs:1: 'fpu expect result' needs an fpu prctl before it^^fpu expect result 0"
	"1^^bad.vxs:1: 'fpu expect signal' needs an fpu use before it^^fpu expect signal none"
	"1^^bad.vxs:2: the machine is already booted^^fpu machine 1\nfpu machine 1"
	"1^^bad.vxs:3: expectation failed: fpu expect a size 1: size is 0xa00^^fpu machine 1\nfpu process a\nfpu expect a size 1"
	"1^^bad.vxs:5: expectation failed: fpu expect result 0: arch_prctl returned -EOPNOTSUPP^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu prctl a req_xcomp_perm 9\nfpu expect result 0"
	"1^^bad.vxs:5: expectation failed: fpu expect signal none: the signal was sigill^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu use a amx\nfpu expect signal none"
	"1^^bad.vxs:2: unknown command 'xsav'^^fpu machine 1\nxsav a all"
	"1^^bad.vxs:3: use: ESRCH (task 1 is not running^^fpu machine 1\nfpu process a\nfpu use a amx"
	"1^^bad.vxs:3: schedule: EINVAL (CPU 5 does not exist^^fpu machine 1\nfpu process a\nfpu run a 5"
	# exec by one thread frees the others: their names are gone
	"1^^bad.vxs:6: no task 't'^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu thread t a\nfpu exec a\nfpu print t"
)
for entry in "${bad_scripts[@]}"; do
	expected=${entry%%^^*}
	rest=${entry#*^^}
	message=${rest%%^^*}
	printf '%b\n' "${rest#*^^}" >"$tmp/bad.vxs"
	(cd "$tmp" && run "$expected" --profile sapphire-rapids bad.vxs) || continue
	has "$tmp/err" "$message" "bad script '${rest#*^^}'"
done
# Nothing runs before the whole script is checked: no output for a late syntax error.
printf 'fpu machine 1\nfpu process a\nfpu bogus\n' >"$tmp/late.vxs"
run 1 --profile sapphire-rapids "$tmp/late.vxs" && [ ! -s "$tmp/out" ] ||
	fail "a syntax error on line 3 should stop the script before it runs"

# --- usage errors, and fpu boot still there -------------------------------------------------
run 2 && has "$tmp/err" "missing action (boot) or SCRIPT" "no arguments"
run 2 --profile zen4 && has "$tmp/err" "no script" "options without a script"
run 2 --json --profile zen4 "$EXAMPLES/amx-permission.vxs" &&
	has "$tmp/err" "--json is for fpu boot" "--json with a script"
run 2 boot --trace && has "$tmp/err" "--trace is for scripts" "--trace with boot"
run 2 --profile zen4 "$tmp/nonexistent.vxs" && has "$tmp/err" "no such script file" "no file"
run 2 reboot && has "$tmp/err" "unknown action 'reboot' (boot)" "an unknown action"
run 0 boot --profile sapphire-rapids && has "$tmp/out" "FPU boot on sapphire-rapids" "fpu boot"

finish test_fpu_script
