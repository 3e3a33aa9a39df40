#!/usr/bin/env bash
# vxsave fpu SCRIPT: every docs/examples/fpu/*.vxs runs on sapphire-rapids with its expectations
# holding and prints what the walk-through says (and the guest example fails where the CET_S
# design says it must), every fpu statement is documented in docs/fpu-script.md, bad scripts
# fail with FILE:LINE and the reason naming the word (exit 1) - every statement's refusals -,
# usage errors exit 2, and `vxsave fpu boot` still works.  The language: docs/fpu-script.md.
# Expected values come from linux-fpu.md (§4, §7, §8.4, §12), kvm.md §5-§6 and the profile's
# leaf 0xD as `vxsave fpu boot` prints it (user default size 2816, user max 11008, 0x602e7).
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
[ "$count" -ge 6 ] || fail "expected at least 6 examples in docs/examples/fpu, found $count"

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
if run 0 --profile sapphire-rapids "$EXAMPLES/signal-frame.vxs"; then
	# §8.4: frame = user_size + 4; magic1 "SXPF"; MAGIC2 "EXPF" at xstate_size
	has "$tmp/out" "signal to app: frame f (2820 bytes, needs 2820) = 0" "frame size"
	has "$tmp/out" "magic1 0x46505853 (FP_XSTATE_MAGIC1), extended_size 2820, xfeatures 0x202e7, xstate_size 2816" "software bytes"
	has "$tmp/out" "MAGIC2 at 2816: 0x46505845 (FP_XSTATE_MAGIC2)" "MAGIC2"
	has "$tmp/out" "sigreturn by app from f: xstate" "intact frame"
	has "$tmp/out" "sigreturn by app from fx: fx-only" "magic1 damaged"
	has "$tmp/out" "sigreturn by app from bad: segv, SIGSEGV" "header bit outside XCR0"
	has "$tmp/out" "frame small (2048 bytes, needs 2820) = -EFAULT" "short frame"
	has "$tmp/out" "sigreturn by app from no frame: cleared" "fpregs NULL"
fi
if run 0 --profile sapphire-rapids "$EXAMPLES/ptrace-regsets.vxs"; then
	has "$tmp/out" "ptrace(PTRACE_GETREGSET, app, NT_X86_XSTATE, regs) = -ESRCH" "running tracee"
	has "$tmp/out" "11008 bytes written" "GET writes the user max size"
	has "$tmp/out" "bytes 464-471 (XCR0 in a regset or KVM buffer): 0x602e7" "XCR0 at 464"
	has "$tmp/out" "NT_X86_XSTATE, regs) = -EFAULT" "short SET"
	has "$tmp/out" "NT_PRFPREG, fx) = -EINVAL" "NT_PRFPREG refusal"
fi
if run 0 --profile sapphire-rapids "$EXAMPLES/guest-cet.vxs"; then
	has "$tmp/out" "guest vcpu0 (task vmm): fpstate size 2560, xfeatures 0x21ee7, uabi_size 4096" "guest defaults"
	has "$tmp/out" "fpu_free_guest_fpstate(vcpu0) = -EBUSY" "free while entered"
	has "$tmp/out" "enabled        0x61ee7, uabi_size 11008" "guest AMX"
fi
# kvm.md §6.4 / linux-fpu.md §6: only the guest-only design keeps CET_S out of host tasks.
run 1 --profile sapphire-rapids --design all-tasks "$EXAMPLES/guest-cet.vxs" &&
	has "$tmp/err" "guest-cet.vxs:12: expectation failed: fpu expect vmm xfeatures 0x20ee7: xfeatures is 0x21ee7" "all-tasks design"
if run 0 --profile sapphire-rapids "$EXAMPLES/switch-kernel-fpu.vxs"; then
	has "$tmp/out" "kernel_fpu_begin(CPU 0, both) = -EBUSY" "nested kernel_fpu_begin"
	has "$tmp/out" "machine log: 2 lines, 2 WARNs" "the WARNs"
	has "$tmp/out" "arch_prctl(req_xcomp_perm, 0x12) = -ENOSPC" "altstack too small for AMX"
	has "$tmp/out" "sigaltstack(a, 4096) = -ENOMEM" "altstack after AMX"
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
grep -o '^  fpu [a-z_]* [A-Za-z_|]*' "$tmp/help" | sed 's/^  //' | while read -r synopsis; do
	grep -qF -- "\`$synopsis" "$SRCDIR/docs/fpu-script.md" ||
		echo "docs/fpu-script.md does not document '$synopsis'"
done >"$tmp/undocumented"
[ ! -s "$tmp/undocumented" ] || fail "$(cat "$tmp/undocumented")"
has "$tmp/help" "fpu expect signal none|sigill|sigsegv" "--help statement list"
for statement in "fpu ptrace set TASK xstate|fpreg BUF [LEN]" "fpu guest from_uabi GUEST BUF [XCR0]" \
	"fpu kernel_fpu_begin CPU [mxcsr|387|both]" "fpu sigreturn TASK [FRAME]"; do
	has "$tmp/help" "$statement" "--help statement list"
done

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
	"1^^bad.vxs:1: 'fpu expect result' needs a call with a result before it^^fpu expect result 0"
	"1^^bad.vxs:1: 'fpu expect signal' needs an fpu use, fpu reg or fpu sigreturn before it^^fpu expect signal none"
	"1^^bad.vxs:1: 'fpu expect sigreturn' needs an fpu sigreturn before it^^fpu expect sigreturn segv"
	"1^^bad.vxs:2: the machine is already booted^^fpu machine 1\nfpu machine 1"
	"1^^bad.vxs:3: expectation failed: fpu expect a size 1: size is 0xa00^^fpu machine 1\nfpu process a\nfpu expect a size 1"
	"1^^bad.vxs:5: expectation failed: fpu expect result 0: arch_prctl returned -EOPNOTSUPP^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu prctl a req_xcomp_perm 9\nfpu expect result 0"
	"1^^bad.vxs:5: expectation failed: fpu expect signal none: the signal was sigill^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu use a amx\nfpu expect signal none"
	"1^^bad.vxs:2: unknown command 'xsav'^^fpu machine 1\nxsav a all"
	"1^^bad.vxs:3: use: ESRCH (task 1 is not running^^fpu machine 1\nfpu process a\nfpu use a amx"
	"1^^bad.vxs:3: schedule: EINVAL (CPU 5 does not exist^^fpu machine 1\nfpu process a\nfpu run a 5"
	# machine, CPUs
	"1^^bad.vxs:1: unexpected 'strict' (only strict_sas_size may follow the CPU count)^^fpu machine 1 strict"
	"1^^bad.vxs:2: no CPU 3 (the machine has 1)^^fpu machine 1\nfpu kernel_fpu_begin 3"
	"1^^bad.vxs:2: no CPU 2 (the machine has 2)^^fpu machine 2\nfpu idle 2"
	"1^^bad.vxs:1: unknown kernel_fpu_begin mask 'avx' (mxcsr, 387, both)^^fpu kernel_fpu_begin 0 avx"
	"1^^bad.vxs:3: schedule: EINVAL (CPU 4 does not exist^^fpu machine 2\nfpu process a\nfpu switch a 4"
	"1^^bad.vxs:3: return to user: ESRCH (task 1 is not running^^fpu machine 1\nfpu process a\nfpu return a"
	"1^^bad.vxs:5: expectation failed: fpu expect result 0: kernel_fpu_end returned -EINVAL^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu kernel_fpu_end 0\nfpu expect result 0"
	# sigaltstack
	"1^^bad.vxs:1: bad size 'big' (a size in bytes, or disable)^^fpu sigaltstack a big"
	"1^^bad.vxs:4: expectation failed: fpu expect result 0: sigaltstack returned -ENOMEM^^fpu machine 1\nfpu process a\nfpu sigaltstack a 100\nfpu expect result 0"
	# registers
	"1^^bad.vxs:1: missing words: usage: fpu reg TASK NAME = VALUE^^fpu reg a xmm0 1"
	"1^^bad.vxs:1: expected '=' after the register name, not ':='^^fpu reg a xmm0 := 1"
	"1^^bad.vxs:1: unknown register 'xmmm0'^^fpu reg a xmmm0 = 1"
	"1^^bad.vxs:1: value '0x112233445566778899aabbccddeeff0011' has 17 significant bytes, xmm0 holds 16^^fpu reg a xmm0 = 0x112233445566778899aabbccddeeff0011"
	"1^^bad.vxs:1: expected '==' or '!=', not '='^^fpu expect a reg xmm0 = 1"
	"1^^bad.vxs:1: expected 'reg' (a register comparison), not 'regs'^^fpu expect a regs xmm0 == 1"
	"1^^bad.vxs:3: read register: ESRCH (task 1 is not running^^fpu machine 1\nfpu process a\nfpu print a reg xmm0"
	"1^^bad.vxs:4: expectation failed: fpu expect a reg xmm0 == 1: xmm0 differs at byte 0: 0x00, expected 0x01^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu expect a reg xmm0 == 1"
	"1^^bad.vxs:4: expectation failed: fpu expect a reg xmm0 != 0: xmm0 has exactly that value^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu expect a reg xmm0 != 0"
	"1^^bad.vxs:1: unknown field 'pkr' (size^^fpu expect a pkr 1"
	# signals and buffers
	"1^^bad.vxs:3: signal: ESRCH (task 1 is not running^^fpu machine 1\nfpu process a\nfpu signal a f"
	"1^^bad.vxs:4: no buffer 'nof'^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu sigreturn a nof"
	"1^^bad.vxs:1: bad frame buffer 'f.1' (letters, digits, '_', '-')^^fpu signal a f.1"
	"1^^bad.vxs:4: unknown sigreturn outcome 'crash' (cleared, xstate, fx-only, segv)^^fpu machine 1\nfpu process a\nfpu sigreturn a\nfpu expect sigreturn crash"
	"1^^bad.vxs:7: expectation failed: fpu expect sigreturn segv: the outcome was xstate^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu signal a f\nfpu sigreturn a f\nfpu expect sigreturn xstate\nfpu expect sigreturn segv"
	"1^^bad.vxs:6: expectation failed: fpu expect result 0: copy_fpstate_to_sigframe returned -EFAULT^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu buffer f 64\nfpu signal a f\nfpu expect result 0"
	"1^^bad.vxs:1: offset '512' needs a width: u8, u16, u32 or u64^^fpu poke b 512 7"
	"1^^bad.vxs:1: expected a width (u8, u16, u32, u64) after the offset, not 'u128'^^fpu poke b xstate_bv u128 7"
	"1^^bad.vxs:1: value 0x12345 does not fit in 2 bytes at 'fcw'^^fpu poke b fcw 0x12345"
	"1^^bad.vxs:1: value 0x100 does not fit in 1 byte at '0'^^fpu poke b 0 u8 0x100"
	"1^^bad.vxs:1: bad offset 'frob' (a number, or fcw^^fpu poke b frob 1"
	"1^^bad.vxs:1: expected a mask after '&'^^fpu expect buffer b xstate_bv &"
	"1^^bad.vxs:2: no buffer 'nob'^^fpu machine 1\nfpu poke nob 0 u8 1"
	"1^^bad.vxs:3: 8 bytes at 0xc are outside buffer 'b' (16 bytes)^^fpu machine 1\nfpu buffer b 16\nfpu poke b 12 u64 1"
	"1^^bad.vxs:3: buffer 'b' (16 bytes) has no software bytes^^fpu machine 1\nfpu buffer b 16\nfpu expect buffer b magic2 0"
	"1^^bad.vxs:2: buffer 'b': 2000000 bytes (1 to 1048576)^^fpu machine 1\nfpu buffer b 2000000"
	"1^^bad.vxs:3: expectation failed: fpu expect buffer b 8 u16 & 0xff 1: b+0x8 is 0^^fpu machine 1\nfpu buffer b 16\nfpu expect buffer b 8 u16 & 0xff 1"
	"1^^bad.vxs:1: fpu print buffer: OFFSET needs a LENGTH^^fpu print buffer b 0"
	"1^^bad.vxs:3: 32 bytes at 0 are outside buffer 'b' (16 bytes)^^fpu machine 1\nfpu buffer b 16\nfpu print buffer b 0 32"
	# ptrace
	"1^^bad.vxs:2: unknown ptrace request 'peek' (get, set)^^fpu machine 1\nfpu ptrace peek a xstate b"
	"1^^bad.vxs:1: unknown regset 'xsave' (xstate = NT_X86_XSTATE, fpreg = NT_PRFPREG)^^fpu ptrace get a xsave b"
	"1^^bad.vxs:1: missing words: usage: fpu ptrace get TASK xstate|fpreg BUF [LEN]^^fpu ptrace get a xstate"
	"1^^bad.vxs:3: no buffer 'nob'^^fpu machine 1\nfpu process a\nfpu ptrace set a xstate nob"
	"1^^bad.vxs:4: length 128 is beyond buffer 'b' (64 bytes)^^fpu machine 1\nfpu process a\nfpu buffer b 64\nfpu ptrace set a xstate b 128"
	"1^^bad.vxs:5: expectation failed: fpu expect result 0: ptrace returned -ESRCH^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu ptrace get a fpreg p\nfpu expect result 0"
	# guests
	"1^^bad.vxs:2: unknown guest statement 'frob' (alloc, free, enter^^fpu machine 1\nfpu guest frob g"
	"1^^bad.vxs:2: missing words: usage: fpu guest alloc, free^^fpu machine 1\nfpu guest"
	"1^^bad.vxs:1: missing words: usage: fpu guest alloc GUEST TASK^^fpu guest alloc g"
	"1^^bad.vxs:2: no guest 'g'^^fpu machine 1\nfpu guest enter g"
	"1^^bad.vxs:3: no task 'b'^^fpu machine 1\nfpu process a\nfpu guest alloc g b"
	"1^^bad.vxs:4: guest 'g' already exists^^fpu machine 1\nfpu process a\nfpu guest alloc g a\nfpu guest alloc g a"
	"1^^bad.vxs:4: fpu_swap_kvm_fpstate: ESRCH (task 1 is not running^^fpu machine 1\nfpu process a\nfpu guest alloc g a\nfpu guest enter g"
	"1^^bad.vxs:5: fpu_swap_kvm_fpstate: EINVAL (this guest fpstate is not installed)^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu guest alloc g a\nfpu guest exit g"
	"1^^bad.vxs:5: guest reg: EINVAL (the guest fpstate is not installed in task 1)^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu guest alloc g a\nfpu guest reg g xmm0 = 1"
	"1^^bad.vxs:6: guest 'g' is entered (inside KVM_RUN): 'fpu guest exit g' first^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu guest alloc g a\nfpu guest enter g\nfpu guest to_uabi g k"
	"1^^bad.vxs:5: no buffer 'k'^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu guest alloc g a\nfpu guest from_uabi g k"
	"1^^bad.vxs:1: unknown guest field 'frob' (size^^fpu expect guest g frob 1"
	"1^^bad.vxs:5: expectation failed: fpu expect guest g in_use 1: in_use is 0^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu guest alloc g a\nfpu expect guest g in_use 1"
	"1^^bad.vxs:6: no guest 'g'^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu guest alloc g a\nfpu guest free g\nfpu print guest g"
	"1^^bad.vxs:6: expectation failed: fpu expect result 0: fpu_enable_guest_xfd_features returned -EPERM^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu guest alloc g a\nfpu guest enable g amx\nfpu expect result 0"
	"1^^bad.vxs:8: exec would end thread 't' inside KVM_RUN with guest 'g' entered^^fpu machine 1\nfpu process a\nfpu run a 0\nfpu thread t a\nfpu run t 0\nfpu guest alloc g t\nfpu guest enter g\nfpu exec a"
	"1^^bad.vxs:8: guest 'g' has no task: its vCPU thread exited^^fpu machine 2\nfpu process a\nfpu run a 0\nfpu thread t a\nfpu run t 1\nfpu guest alloc g t\nfpu exec a\nfpu guest enter g"
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
# A register the profile lacks is refused when the statement runs (zen4 has no AMX).
printf 'fpu machine 1\nfpu process a\nfpu run a 0\nfpu reg a tmm0 = 1\n' >"$tmp/tmm.vxs"
run 1 --profile zen4 "$tmp/tmm.vxs" &&
	has "$tmp/err" "tmm.vxs:4: register tmm0 is in component XTILEDATA, which zen4 does not have" "tmm0 on zen4"
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
