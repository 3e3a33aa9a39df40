#!/usr/bin/env bash
# vxsave kvm: caps, cpuid and msrs on built-in profiles with hand-checked values, their JSON,
# every bad argument (exit 2, the message names it), the kvm statements of `vxsave kvm SCRIPT`
# (refusals with FILE:LINE and the word at fault, --real refusing what needs the model), and
# every docs/examples/kvm/*.vxs (the --real ones skip visibly without a usable /dev/kvm).
#
# Where the expected numbers come from (not from the code under test):
#  - sapphire-rapids enumerates XCR0 0x602e7 (x87|SSE|AVX|opmask|ZMM_Hi256|Hi16_ZMM|PKRU|
#    XTILECFG|XTILEDATA, README's layout) and IA32_XSS CET_U|CET_S among others; KVM keeps
#    XCR0 ∩ KVM_SUPPORTED_XCR0 = 0x602e7 and XSS ∩ CET = 0x1800 (kvm.md §2.2).
#  - leaf 0xD.0 EBX without AMX permission is the standard size of 0x2e7: PKRU ends at
#    2688 + 8 = 2696; with XTILE_DATA permitted it ends at 2816 + 8192 = 11008 (§2.2, §5.1).
#  - zen4 has XCR0 0x2e7, CET shadow stack without IBT; SVM never offers IBT (§1.3).
#  - kvm_pvm: the quirk table rows measured in host-kvm.md (no CET, XSS host writes fail).
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_kvm_cli.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EXAMPLES="$SRCDIR/docs/examples/kvm"

# run EXPECTED_EXIT ARGS...: `vxsave kvm ARGS` into $tmp/out and $tmp/err.
run() {
	local expected=$1 rc=0
	shift
	"$VXSAVE" kvm "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "vxsave kvm $*: exit $rc, expected $expected; stderr: $(head -c 400 "$tmp/err")"
		return 1
	fi
	return 0
}

has() {
	grep -qF -- "$2" "$1" || fail "$3: $(basename "$1") lacks '$2': $(head -c 300 "$1")"
}

# row FEATURE: the caps table line of FEATURE (columns squeezed to one blank).
row() {
	grep -E "^  $1 " "$tmp/out" | head -n 1 | tr -s ' '
}

# --- caps ------------------------------------------------------------------------------------
if run 0 caps --profile sapphire-rapids; then
	has "$tmp/out" "KVM on sapphire-rapids: vmx (kvm_intel), CET_S design guest-only, TDP on" "caps head"
	has "$tmp/out" "supported_xcr0       0x602e7   x87|SSE|AVX|opmask|ZMM_Hi256|Hi16_ZMM|PKRU|XTILECFG|XTILEDATA" "SPR supported_xcr0"
	has "$tmp/out" "supported_xss        0x1800    CET_U|CET_S" "SPR supported_xss"
	has "$tmp/out" "quirks               none" "no quirks upstream"
	[ "$(row shstk)" = " shstk 7.0.ecx[7] X86_64_F yes declared, and the host has it (kvm.md §1.3)" ] ||
		fail "SPR shstk row: '$(row shstk)'"
	[ "$(row ibt)" = " ibt 7.0.edx[20] F yes declared, and the host has it (kvm.md §1.3)" ] ||
		fail "SPR ibt row: '$(row ibt)'"
	[ "$(row osxsave)" = " osxsave 1.ecx[27] RUNTIME_F no RUNTIME_F: never advertised (kvm.md §1.3)" ] ||
		fail "SPR osxsave row: '$(row osxsave)'"
	[ "$(row apx_f)" = " apx_f 7.1.edx[21] undeclared no not supported by KVM 6.18" ] ||
		fail "SPR apx_f row: '$(row apx_f)'"
	row amx_tile | grep -q " yes " || fail "SPR amx_tile supported"
fi
# zen4 defaults to svm (an AMD CPU): SHSTK yes, IBT no - the rule names SVM (§1.3)
if run 0 caps --profile zen4; then
	has "$tmp/out" "KVM on zen4: svm (kvm_amd)" "zen4 default flavour"
	has "$tmp/out" "supported_xcr0       0x2e7 " "zen4 supported_xcr0"
	row shstk | grep -q " yes " || fail "zen4 shstk: '$(row shstk)'"
	row ibt | grep -q " no " || fail "zen4 ibt: '$(row ibt)'"
	grep -A1 -E "^  ibt " "$tmp/out" | grep -q "rule: F; never on SVM" ||
		fail "zen4 ibt: the rule line does not name SVM"
fi
run 0 caps --profile zen4 --json &&
	[ "$(json_get "$tmp/out" "[f for f in d['features'] if f['name'] == 'ibt'][0]['supported']")" = False ] ||
	fail "zen4 JSON: ibt supported"
run 0 caps --profile zen4 --json &&
	json_get "$tmp/out" "[f for f in d['features'] if f['name'] == 'ibt'][0]['rule']" | grep -q "never on SVM" ||
	fail "zen4 JSON: the ibt rule names SVM"
# kvm_pvm: the quirk rows, and pvm-no-cet clears both CET features
if run 0 caps --profile zen4 --flavour pvm; then
	has "$tmp/out" "KVM on zen4: pvm (kvm_pvm)" "pvm head"
	has "$tmp/out" "quirk pvm-no-cet: no SHSTK/IBT caps" "pvm-no-cet listed"
	has "$tmp/out" "quirk pvm-xss-host-write-fails:" "pvm-xss-host-write-fails listed"
	has "$tmp/out" "supported_xss        0x0 " "pvm: no CET in XSS"
	[ "$(row shstk)" = " shstk 7.0.ecx[7] X86_64_F no cleared: quirk pvm-no-cet (host-kvm.md)" ] ||
		fail "pvm shstk row: '$(row shstk)'"
fi
# module parameters and designs (§1.3, §6.4)
run 0 caps --no-tdp && [ "$(row shstk)" = " shstk 7.0.ecx[7] X86_64_F no cleared: TDP is off (kvm.md §1.3)" ] ||
	fail "--no-tdp shstk: '$(row shstk)'"
run 0 caps --allow-smaller-maxphyaddr && row ibt | grep -q "no cleared: allow_smaller_maxphyaddr" ||
	fail "--allow-smaller-maxphyaddr ibt: '$(row ibt)'"
run 0 caps --design unsupported && has "$tmp/out" "supported_xss        0x0 " "design unsupported: no CET_S for guests" &&
	row shstk | grep -q " no cleared: supported_xss lacks CET_USER or CET_KERNEL" || fail "unsupported shstk: '$(row shstk)'"
run 0 caps --design kvm-eager && has "$tmp/out" "supported_xss        0x1800" "kvm-eager keeps CET_S usable"
# a vCPU's table after KVM_SET_CPUID2 (§1.4)
if run 0 caps --guest-cpuid supported; then
	has "$tmp/out" "vCPU 0 after KVM_SET_CPUID2 of supported (24 entries) = 0" "vCPU table head"
	has "$tmp/out" "guest_supported_xcr0 0x2e7 " "guest XCR0 without AMX permission"
	sed -n '/^vCPU 0/,$p' "$tmp/out" >"$tmp/vcpu"
	grep -E "^  osxsave " "$tmp/vcpu" | tr -s ' ' | grep -q "osxsave no no no runtime: CR4.OSXSAVE" ||
		fail "vCPU osxsave row"
	grep -E "^  gbpages " "$tmp/vcpu" | grep -q "TDP: the host's GBPAGES" || fail "vCPU gbpages row"
fi
run 0 caps --guest-cpuid supported --guest-perm amx &&
	has "$tmp/out" "guest_supported_xcr0 0x602e7 " "guest XCR0 with AMX permission"
if run 0 caps --profile zen4 --guest-cpuid supported; then
	grep -E "^  xsaves " "$tmp/out" | tail -n 1 | grep -q "SVM: forced to host XSAVES && the XSAVE cap" ||
		fail "zen4 vCPU xsaves row: SVM rule"
fi
run 0 caps --guest-cpuid none &&
	sed -n '/^vCPU 0/,$p' "$tmp/out" | grep -E "^  xsave " | grep -q "guest CPUID lacks it" ||
	fail "empty CPUID: xsave lacks"
# a CPUID file: what `kvm cpuid` printed goes back in; with AMX but no permission, -EPERM (§2.5)
run 0 cpuid >"$tmp/supported.txt" && cp "$tmp/out" "$tmp/supported.txt"
run 0 caps --guest-cpuid "$tmp/supported.txt" &&
	has "$tmp/out" "KVM_SET_CPUID2 of $tmp/supported.txt (24 entries) = 0" "CPUID file round trip"
run 0 cpuid --guest-perm amx && cp "$tmp/out" "$tmp/amx.txt"
run 1 caps --guest-cpuid "$tmp/amx.txt" &&
	has "$tmp/out" "= -EPERM (the process has no guest permission for 0x40000)" "AMX CPUID without permission"
run 0 caps --guest-cpuid "$tmp/amx.txt" --guest-perm amx && has "$tmp/out" "(26 entries) = 0" "AMX CPUID with permission"
printf 'CPU 0:\n   0x0000000d 0x00 eax=1\n' >"$tmp/broken.txt"
run 1 caps --guest-cpuid "$tmp/broken.txt" && has "$tmp/err" "broken.txt:2: not a 'cpuid -r' line" "bad CPUID file"
# a register value above 32 bits is refused, not cut to 0xffffffff (issue 11)
printf 'CPU 0:\n   0x00000000 0x00: eax=0x1ffffffff ebx=0x0 ecx=0x0 edx=0x0\n' >"$tmp/wide.txt"
run 1 caps --guest-cpuid "$tmp/wide.txt" && has "$tmp/err" "wide.txt:2: not a 'cpuid -r' line" "33-bit CPUID value"
run 1 caps --guest-cpuid "$tmp/none.txt" && has "$tmp/err" "--guest-cpuid $tmp/none.txt: No such file" "missing CPUID file"

# --- cpuid -----------------------------------------------------------------------------------
if run 0 cpuid --profile sapphire-rapids; then
	has "$tmp/out" "   0x0000000d 0x00: eax=0x000002e7 ebx=0x00000a88 ecx=0x00000a88 edx=0x00000000" "SPR 0xD.0 without AMX permission (2696)"
	has "$tmp/out" "#   0xd.0   XCR0 bits 0x2e7 (x87|SSE|AVX|opmask|ZMM_Hi256|Hi16_ZMM|PKRU); EBX 2696, ECX 2696" "decoded 0xD.0"
	has "$tmp/out" "XSS bits 0x1800 (CET_U|CET_S)" "decoded 0xD.1 XSS"
	has "$tmp/out" "#   0xd.9   PKRU           8 bytes at offset 2688" "decoded PKRU"
	grep -q "0xd.18" "$tmp/out" && fail "XTILE_DATA without permission"
	"$VXSAVE" profile show --cpuid-dump "$tmp/out" >"$tmp/profile" 2>&1 ||
		fail "kvm cpuid output is not a valid --cpuid-dump: $(head -c 300 "$tmp/profile")"
fi
if run 0 cpuid --profile sapphire-rapids --guest-perm amx; then
	has "$tmp/out" "   0x0000000d 0x00: eax=0x000602e7 ebx=0x00002b00 ecx=0x00002b00 edx=0x00000000" "SPR 0xD.0 with AMX permission (11008)"
	has "$tmp/out" "#   0xd.18  XTILEDATA   8192 bytes at offset 2816, 64-byte aligned, XFD" "decoded XTILEDATA"
	has "$tmp/out" "ARCH_GET_XCOMP_GUEST_PERM): 0x602e7" "the permission"
fi
run 0 cpuid --profile sapphire-rapids --json &&
	[ "$(json_get "$tmp/out" "d['leaf_0xd']['standard_size']")" = 2696 ] || fail "JSON 0xD.0 EBX"
# KVM_GET_EMULATED_CPUID (§2.3): MOVBE (1.ECX[22]) and RDPID (7.ECX[22])
if run 0 cpuid --emulated; then
	has "$tmp/out" "   0x00000001 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00400000 edx=0x00000000" "emulated MOVBE"
	has "$tmp/out" "   0x00000007 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00400000 edx=0x00000000" "emulated RDPID"
fi
# pvm-supported-cpuid-sparse: leaf 1 ECX without XSAVE (bit 26) and AVX (bit 28)
if run 0 cpuid --profile zen4 --flavour pvm; then
	ecx=$(grep "   0x00000001 0x00:" "$tmp/out" | sed 's/.*ecx=\(0x[0-9a-f]*\).*/\1/')
	[ $((ecx & (1 << 26 | 1 << 28))) = 0 ] || fail "pvm leaf 1 ECX $ecx has XSAVE or AVX"
fi
run 1 cpuid --profile zen4 --guest-perm amx && has "$tmp/err" "--guest-perm 18: arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM) = -EOPNOTSUPP" "no AMX on zen4"

# --- msrs ------------------------------------------------------------------------------------
# SPR, vmx, guest-only: the 10 MSRs of msrs_to_save (§3.3); PL0_SSP passed through, XSS not
if run 0 msrs --profile sapphire-rapids; then
	has "$tmp/out" "KVM_GET_MSR_INDEX_LIST (the XSAVE/CET MSRs the model keeps): 10 MSRs" "index list"
	has "$tmp/out" "KVM_GET_MSR_FEATURE_INDEX_LIST: 1 MSR" "feature list"
	grep -E "^  IA32_XSS " "$tmp/out" | tr -s ' ' | grep -q "IA32_XSS yes 0x0 ok (VM exit) ok (VM exit)" || fail "XSS row"
	grep -E "^  IA32_PL0_SSP " "$tmp/out" | tr -s ' ' | grep -q "yes 0x0 ok (no exit) ok (no exit)" || fail "PL0_SSP row"
	grep -E "^  IA32_XFD_ERR " "$tmp/out" | tr -s ' ' | grep -q "ok (no exit) ok (VM exit)" || fail "XFD_ERR row"
	grep -A1 -E "^  IA32_PL0_SSP " "$tmp/out" | grep -q "lives in: guest fpstate, CET_S component" || fail "PL0_SSP home"
	grep -A1 -E "^  IA32_S_CET " "$tmp/out" | grep -q "lives in: VMCS GUEST_S_CET" || fail "S_CET home"
fi
run 0 msrs --design kvm-lazy && grep -E "^  IA32_PL0_SSP " "$tmp/out" | tr -s ' ' | grep -q "ok (no exit) ok (VM exit)" ||
	fail "kvm-lazy: PL0_SSP writes intercepted"
run 0 msrs --design kvm-eager && grep -A1 -E "^  IA32_PL1_SSP " "$tmp/out" | grep -q "lives in: KVM's copy" ||
	fail "kvm-eager: PL1_SSP home"
run 0 msrs --profile zen4 && grep -A1 -E "^  IA32_S_CET " "$tmp/out" | grep -q "lives in: VMCB save.s_cet" ||
	fail "svm: S_CET home"
if run 0 msrs --profile zen4 --flavour pvm; then
	has "$tmp/out" "KVM_GET_MSR_INDEX_LIST (the XSAVE/CET MSRs the model keeps): 0 MSRs" "pvm: none listed"
	grep -E "^  IA32_XSS " "$tmp/out" | tr -s ' ' | grep -q "no 0x0 #GP(0) (VM exit) #GP(0) (VM exit)" || fail "pvm XSS row"
	grep -E "^  IA32_U_CET " "$tmp/out" | tr -s ' ' | grep -q "no fails " || fail "pvm U_CET row"
fi
run 0 msrs --json && [ "$(json_get "$tmp/out" "[m for m in d['msrs'] if m['name'] == 'IA32_PL0_SSP'][0]['guest_wrmsr']['vm_exit']")" = False ] ||
	fail "JSON PL0_SSP write exit"

# --- JSON parses ---------------------------------------------------------------------------
for args in "caps" "caps --guest-cpuid supported" "caps --profile zen4 --flavour pvm" "cpuid" \
	"cpuid --emulated --profile zen4" "msrs" "msrs --profile zen4 --flavour pvm --design kvm-eager"; do
	# shellcheck disable=SC2086
	run 0 $args --json && { python3 -m json.tool "$tmp/out" >/dev/null || fail "kvm $args --json does not parse"; }
done

# --- bad arguments: exit 2, the message names the argument ----------------------------------
bad_args=(
	"missing action (caps, cpuid, msrs) or SCRIPT^^"
	"unknown action 'capz' (caps, cpuid, msrs) and no such script file^^capz"
	"unknown --flavour 'abc' (vmx, svm, pvm, detect)^^caps --flavour abc"
	"unknown --design 'nope' (unsupported, all-tasks, guest-only, kvm-eager, kvm-lazy, kvm-user-return)^^caps --design nope"
	"--flavour vmx does not fit the AMD CPU zen4 (use svm or pvm)^^caps --profile zen4 --flavour vmx"
	"--flavour svm does not fit the Intel CPU sapphire-rapids (use vmx or pvm)^^cpuid --flavour svm"
	"bad --guest-perm 'xyz' (amx, or an xfeature number 0-63)^^caps --guest-perm xyz"
	"bad --guest-perm '64'^^cpuid --guest-perm 64"
	"--emulated is not an option of 'kvm caps'^^caps --emulated"
	"--guest-cpuid is not an option of 'kvm cpuid'^^cpuid --guest-cpuid none"
	"--real is not an option of 'kvm msrs'^^msrs --real"
	"--trace is not an option of 'kvm caps'^^caps --trace"
	"--quiet is not an option of 'kvm cpuid'^^cpuid -q"
	"--json is not an option of 'kvm SCRIPT'^^--json $EXAMPLES/cet-msrs.vxs"
	"unexpected argument 'extra'^^caps extra"
	"unknown option '--bogus'^^caps --bogus"
	"option '--design' needs a value^^caps --design"
	"--cpu selects a CPU of a dump; it needs --cpuid-dump^^msrs --cpu 1"
	"no script: give caps, cpuid, msrs, SCRIPT or -^^--design kvm-eager"
)
for entry in "${bad_args[@]}"; do
	message=${entry%%^^*}
	# shellcheck disable=SC2086
	run 2 ${entry#*^^} && has "$tmp/err" "$message" "kvm ${entry#*^^}"
done
run 1 caps --profile nope && has "$tmp/err" "no built-in profile 'nope'" "unknown profile"

# quirk pvm-cpl0-emulated: the emulator cannot run XGETBV at CPL0; the program stays on it
printf 'kvm module\nkvm vm a\nkvm vcpu v a 0\nkvm guest v xgetbv 0\nkvm run v\nkvm expect exit v internal_error\n' >"$tmp/emu.vxs"
run 0 --profile zen4 --flavour pvm "$tmp/emu.vxs" &&
	has "$tmp/out" "v on CPU 0: xgetbv 0x0 -> exit to userspace: KVM_EXIT_INTERNAL_ERROR (emulation)" "pvm emulator stop"
run 1 --profile zen4 "$tmp/emu.vxs" &&
	has "$tmp/err" "emu.vxs:6: expectation failed: kvm expect exit v internal_error: the last KVM_RUN ended with the program (done)" "svm runs XGETBV"

# --- the examples ----------------------------------------------------------------------------
if run 0 --profile sapphire-rapids "$EXAMPLES/cet-msrs.vxs"; then
	has "$tmp/out" "KVM_GET_MSR_INDEX_LIST = 10:" "item 13"
	has "$tmp/out" "v0 on CPU 0: wrmsr IA32_U_CET 0x40 -> #GP(0)" "item 3"
	has "$tmp/out" "v0 on CPU 0: rdmsr IA32_PL0_SSP -> 0x123456789000 [no VM exit]" "item 7"
	has "$tmp/out" "KVM_GET_ONE_REG(v2, guest_ssp) = -EINVAL" "item 15"
	has "$tmp/out" "v2 on CPU 0: rdmsr IA32_U_CET -> #GP(0) (#GP(0) injected by KVM" "v2 without CET"
	has "$tmp/out" "56 statements, 24 operations (6 faulted), 23 expectations held on sapphire-rapids" "cet-msrs summary"
fi
if run 0 --profile sapphire-rapids "$EXAMPLES/amx-xsave2.vxs"; then
	has "$tmp/out" "KVM_CHECK_EXTENSION(xsave2) = 4096" "XSAVE2 before permission"
	has "$tmp/out" "KVM_CHECK_EXTENSION(xsave2) = 11008" "XSAVE2 after permission"
	has "$tmp/out" "KVM_GET_XSAVE(v0) into small = -EINVAL (KVM_GET_XSAVE: uabi_size 11008 > 4096" "KVM_GET_XSAVE refused"
	has "$tmp/out" "KVM_SET_CPUID2(v1, supported, 26 entries) = -EPERM" "item 71: no permission"
	has "$tmp/out" "arch_prctl(req_xcomp_guest_perm, 0x12) = -EBUSY" "item 71: too late"
fi
# the same preemption and migration under each design: only kvm-user-return loses PL0_SSP
for design in unsupported all-tasks guest-only kvm-eager kvm-lazy kvm-user-return; do
	expected=0
	case $design in unsupported | kvm-user-return) expected=1 ;; esac
	run $expected --profile sapphire-rapids --design "$design" "$EXAMPLES/design-migration.vxs" || continue
	case $design in
	kvm-user-return)
		has "$tmp/out" "v0 on CPU 1: rdmsr IA32_PL0_SSP -> 0x0 [no VM exit]" "the loss"
		has "$tmp/out" "design kvm-user-return: msr_reads 3, msr_writes 9, sched_out 2, sched_in 2, user_returns 1, intercepted_writes 0, lost 1" "counted loss"
		has "$tmp/err" "design-migration.vxs:26: expectation failed: kvm expect value v0 0x7f0000001000: the last guest instruction (rdmsr) gave 0x0" "user-return expectation"
		;;
	unsupported)
		has "$tmp/out" "wrmsr IA32_PL0_SSP 0x7f0000001000 -> #GP(0)" "no SHSTK in the unsupported design"
		;;
	kvm-eager)
		has "$tmp/out" "v0 on CPU 1: rdmsr IA32_PL0_SSP -> 0x7f0000001000" "eager keeps the value"
		# 3 writes at entry; 3 reads + 3 writes at sched-out; 3 writes at sched-in; 3 + 3 at exit
		has "$tmp/out" "design kvm-eager: msr_reads 6, msr_writes 12, sched_out 2, sched_in 2" "eager traffic"
		;;
	kvm-lazy)
		has "$tmp/out" "wrmsr IA32_PL0_SSP 0x7f0000001000 -> ok [VM exit, handled by KVM]" "lazy intercepts the first write"
		;;
	*)
		has "$tmp/out" "msr_reads 0, msr_writes 0" "XSAVE-managed: no MSR traffic by KVM"
		;;
	esac
done
# real-abi.vxs: on the model with the pvm flavour (always), on /dev/kvm (when usable here)
run 0 --profile zen4 --flavour pvm "$EXAMPLES/real-abi.vxs" &&
	has "$tmp/out" "36 statements, 17 operations (6 faulted), 18 expectations held on zen4" "real-abi on the model"
# upstream SVM lets the host read U_CET on a SHSTK vCPU: the expectation of pvm-no-cet fails
run 1 --profile zen4 "$EXAMPLES/real-abi.vxs" &&
	has "$tmp/err" "real-abi.vxs:28: expectation failed: kvm expect result 3: KVM_GET_MSRS returned 4" "real-abi upstream"
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -d /sys/module/kvm_pvm ]; then
	run 0 --real "$EXAMPLES/real-abi.vxs" &&
		has "$tmp/out" "18 expectations held on host (VMM side on the real /dev/kvm)" "real-abi on /dev/kvm"
elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	echo "SKIP: real-abi.vxs --real: expects kvm_pvm (host-kvm.md); this machine loads $(ls -d /sys/module/kvm_* 2>/dev/null | xargs -n1 basename | tr '\n' ' ')"
else
	echo "SKIP: real-abi.vxs --real: /dev/kvm is not usable here"
	run 1 --real "$EXAMPLES/real-abi.vxs" && has "$tmp/err" "open /dev/kvm" "--real without /dev/kvm"
fi

# --- every statement is documented ------------------------------------------------------------
run 0 --help && cp "$tmp/out" "$tmp/help"
grep -o '^  kvm [a-z_0-9]*\( [a-z_0-9]*\)\?' "$tmp/help" | sed 's/^  //' | sort -u | while read -r synopsis; do
	grep -qF -- "\`$synopsis" "$SRCDIR/docs/kvm-script.md" ||
		echo "docs/kvm-script.md does not document '$synopsis'"
done >"$tmp/undocumented"
[ ! -s "$tmp/undocumented" ] || fail "$(cat "$tmp/undocumented")"
has "$tmp/help" "kvm guest VCPU OP [OPERAND...] [cpl N]" "--help statement list"
has "$tmp/help" "kvm expect counter VCPU NAME VALUE" "--help statement list"

# --- bad scripts: EXIT^^message fragment^^script ---------------------------------------------
bad_scripts=(
	"1^^bad.vxs:1: unknown kvm statement 'modul' (module, prctl^^kvm modul"
	"1^^bad.vxs:1: no module: 'kvm module' must come first^^kvm vm a"
	"1^^bad.vxs:2: the module is already loaded^^kvm module\nkvm module"
	"1^^bad.vxs:1: unknown module option 'fast'^^kvm module fast"
	"1^^bad.vxs:1: a second flavour 'svm'^^kvm module vmx svm"
	"1^^bad.vxs:1: kvm module: EINVAL (flavour svm on an Intel host)^^kvm module svm"
	"1^^bad.vxs:2: no vCPU 'v'^^kvm module\nkvm cpuid v supported"
	"1^^bad.vxs:3: no VM 'b'^^kvm module\nkvm vm a\nkvm vcpu v b 0"
	"1^^bad.vxs:3: VM 'a' already exists^^kvm module\nkvm vm a\nkvm vm a"
	"1^^bad.vxs:2: no task 'nobody'^^kvm module\nkvm vm a nobody"
	"1^^bad.vxs:1: unknown CPUID base 'host' (supported, emulated, none, current)^^kvm cpuid v host"
	"1^^bad.vxs:1: unknown KVM feature 'nosuch'^^kvm cpuid v supported -nosuch"
	"1^^bad.vxs:1: bad CPUID edit '0xd.0.exx=1'^^kvm cpuid v supported 0xd.0.exx=1"
	"1^^bad.vxs:1: unknown msr statement 'put' (get, set, list)^^kvm msr put v XSS"
	"1^^bad.vxs:1: unknown MSR 'FOO'^^kvm msr get v FOO"
	"1^^bad.vxs:1: expected MSR=VALUE, not 'XSS'^^kvm msr set v XSS"
	"1^^bad.vxs:1: unexpected 'all' (only 'features' may follow 'kvm msr list')^^kvm msr list all"
	"1^^bad.vxs:1: bad ONE_REG id 'bogus'^^kvm one_reg get v bogus"
	"1^^bad.vxs:1: unknown one_reg statement 'put'^^kvm one_reg put v guest_ssp 1"
	"1^^bad.vxs:1: unknown control register 'cr3' (cr0, cr4)^^kvm cr v cr3"
	"1^^bad.vxs:1: unknown capability 'nope'^^kvm check_extension nope"
	"1^^bad.vxs:1: kvm device_attr: GROUP needs an ATTR^^kvm device_attr 0"
	"1^^bad.vxs:1: unknown arch_prctl option 'frob'^^kvm prctl frob"
	"1^^bad.vxs:1: unknown xsave statement 'put' (get, set)^^kvm xsave put v b"
	"1^^bad.vxs:1: unexpected 'v1' (only 'legacy' may follow the buffer)^^kvm xsave get v b v1"
	"1^^bad.vxs:1: offset '12' needs a width: u8, u16, u32 or u64^^kvm xsave set v b 12 5"
	"1^^bad.vxs:1: value 0x100 does not fit in 1 byte at 'xstate_bv'^^kvm xsave set v b xstate_bv u8 0x100"
	"1^^bad.vxs:4: no buffer 'nob'^^kvm module\nkvm vm a\nkvm vcpu v a 0\nkvm xsave set v nob"
	"1^^bad.vxs:1: unknown guest instruction 'frob' (xsetbv, xgetbv^^kvm guest v frob"
	"1^^bad.vxs:1: missing words: usage: kvm guest VCPU xsetbv ECX VALUE [cpl N]^^kvm guest v xsetbv 0"
	"1^^bad.vxs:1: unexpected '2': usage: kvm guest VCPU xsetbv ECX VALUE [cpl N]^^kvm guest v xsetbv 0 1 2"
	"1^^bad.vxs:1: bad CPL '4' (0 to 3)^^kvm guest v hlt cpl 4"
	"1^^bad.vxs:1: 'cpl' needs a privilege level (0 to 3)^^kvm guest v hlt cpl"
	"1^^bad.vxs:1: value '0x1122334455667788990011223344556677' has 17 significant bytes, xmm0 holds 16^^kvm guest v set xmm0 0x1122334455667788990011223344556677"
	"1^^bad.vxs:1: register tmm0: a guest instruction moves at most 64 bytes^^kvm guest v get tmm0"
	"1^^bad.vxs:1: kvm run: 'on' needs a CPU^^kvm run v on"
	"1^^bad.vxs:1: kvm run: 'budget' needs a number of instructions^^kvm run v budget"
	"1^^bad.vxs:4: no CPU 5 (the machine has 2)^^kvm module\nkvm vm a\nkvm vcpu v a 0\nkvm run v on 5"
	"1^^bad.vxs:2: no task 'nobody'^^kvm module\nkvm sched nobody 0"
	"1^^bad.vxs:1: unknown print subject 'regs' (caps, cpuid, counters, vcpu)^^kvm print regs v"
	"1^^bad.vxs:1: 'kvm expect result' needs a kvm call with a result before it^^kvm expect result 0"
	"1^^bad.vxs:1: unknown expectation 'reg' (result, exit^^kvm expect reg v 1"
	"1^^bad.vxs:1: unknown exit 'crashed' (io, hlt, internal_error, done, preempted)^^kvm expect exit v crashed"
	"1^^bad.vxs:1: unknown exception '#XX'^^kvm expect event v #XX"
	"1^^bad.vxs:1: unknown counter 'losses' (msr_reads^^kvm expect counter v losses 0"
	"1^^bad.vxs:1: expected yes or no, not 'maybe'^^kvm expect cap v shstk maybe"
	"1^^bad.vxs:1: expected a mask after '&'^^kvm expect cpuid supported 0xd.0 eax &"
	"1^^bad.vxs:1: bad leaf '0xd.x' (LEAF or LEAF.SUB: 0xd, 0xd.1, 7.0)^^kvm expect cpuid supported 0xd.x eax 0"
	"1^^bad.vxs:5: expectation failed: kvm expect exit v io: v has not run^^kvm module\nkvm vm a\nkvm vcpu v a 0\n\nkvm expect exit v io"
	"1^^bad.vxs:4: expectation failed: kvm expect event v none: no guest instruction has run^^kvm module\nkvm vm a\nkvm vcpu v a 0\nkvm expect event v none"
	"1^^bad.vxs:3: expectation failed: kvm expect cpuid supported 0xd.0 ebx 11008: 0xd.0 ebx is 0xa88^^kvm module\nkvm check_extension xsave2\nkvm expect cpuid supported 0xd.0 ebx 11008"
	# a vCPU without CPUID reads PL0_SSP as 0 (advertised, host-initiated, §3.1); 0x10 is not modelled
	"1^^bad.vxs:5: expectation failed: kvm expect msr v PL0_SSP 1: IA32_PL0_SSP is 0x0^^kvm module\nkvm vm a\nkvm vcpu v a 0\nkvm expect msr v PL0_SSP 0\nkvm expect msr v PL0_SSP 1"
	"1^^bad.vxs:4: expectation failed: kvm expect msr v 0x10 0: KVM_GET_MSRS failed: -EINVAL (host read of an MSR (0x10): not an MSR this model implements^^kvm module\nkvm vm a\nkvm vcpu v a 0\nkvm expect msr v 0x10 0"
	"1^^bad.vxs:5: expectation failed: kvm expect result 0: KVM_SET_XCRS returned -EINVAL^^kvm module\nkvm vm a\nkvm vcpu v a 0\nkvm xcr0 v 0x7\nkvm expect result 0"
)
for entry in "${bad_scripts[@]}"; do
	expected=${entry%%^^*}
	rest=${entry#*^^}
	message=${rest%%^^*}
	printf '%b\n' "${rest#*^^}" >"$tmp/bad.vxs"
	(cd "$tmp" && run "$expected" --profile sapphire-rapids bad.vxs) || { echo "  in: ${rest#*^^}" >&2; continue; }
	has "$tmp/err" "$message" "bad script '${rest#*^^}'"
done
# --real refuses what needs the model while parsing, naming the line and the statement,
# before anything runs (so no /dev/kvm is needed to see it)
for entry in "kvm guest^^kvm guest v hlt" "kvm run^^kvm run v" "kvm sched^^kvm sched vmm 1" \
	"kvm return^^kvm return vmm" "kvm print caps^^kvm print caps v" \
	"kvm print counters^^kvm print counters v" "kvm expect exit^^kvm expect exit v io" \
	"kvm expect event^^kvm expect event v none" "kvm expect value^^kvm expect value v 0" \
	"kvm expect cap^^kvm expect cap v shstk yes" "kvm expect counter^^kvm expect counter v lost 0"; do
	printf 'kvm module\n\n%s\n' "${entry#*^^}" >"$tmp/real.vxs"
	run 1 --real "$tmp/real.vxs" || continue
	has "$tmp/err" "real.vxs:3: '${entry%%^^*}' needs the model" "--real refuses '${entry#*^^}'"
	[ ! -s "$tmp/out" ] || fail "--real '${entry#*^^}': something ran before the refusal"
done
printf 'kvm module no_tdp\n' >"$tmp/real.vxs"
run 1 --real "$tmp/real.vxs" && has "$tmp/err" "real.vxs:1: module options configure the model" "--real module options"
# Nothing runs before the whole script is checked.
printf 'kvm module\nkvm vm a\nkvm bogus\n' >"$tmp/late.vxs"
run 1 "$tmp/late.vxs" && [ ! -s "$tmp/out" ] || fail "a syntax error on line 3 should stop the script before it runs"
# cpu, fpu and kvm statements in one script, on standard input
"$VXSAVE" kvm --profile zen4 - >"$tmp/out" 2>"$tmp/err" <<'VXS' || fail "mixed script on stdin: $(cat "$tmp/err")"
xsetbv 0 x87,sse,avx
fpu machine 2
fpu process vmm
fpu run vmm 0
kvm module
kvm vm vm0
kvm vcpu v0 vm0 0
kvm cpuid v0 supported
kvm expect cap v0 ibt no
kvm expect cap v0 shstk yes
# zen4 guest default: 0x2e7 | CET_U | CET_S, locked (bit 63) by the vCPU (kvm.md §6.1)
fpu expect vmm guest_perm 0x8000000000001ae7
VXS
has "$tmp/out" "kvm module: svm on zen4" "mixed: flavour"
has "$tmp/out" "3 expectations held on zen4" "mixed: summary"

finish test_kvm_cli
