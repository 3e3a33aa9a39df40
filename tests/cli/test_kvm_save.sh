#!/usr/bin/env bash
# `kvm save VCPU FILE` (issue 10): a vCPU that a kvm script set up, saved as a bundle.
#
# Where the expected values come from (not from the code under test): the literal values the
# scripts below write (CPUID edits, XCR0, U_CET, the guest's XMM/YMM values, the bytes poked
# into the image KVM_SET_XSAVE loads), laid out by hand as `vxsave xsave decode` prints a
# register (64-bit groups, most significant first, '_' between); the blob sizes of kvm.md §5.1
# (sapphire-rapids XCR0 0x2e7 without AMX permission: 2696 bytes, so struct kvm_xsave's 4096);
# the statement's line counted here with grep.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_kvm_save.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SRCDIR=$(cd "$SRCDIR" && pwd) # the runs below change directory

# run EXPECTED_EXIT ARGS...: `vxsave ARGS` in $tmp into $tmp/out and $tmp/err.
run() {
	local expected=$1 rc=0
	shift
	(cd "$tmp" && "$VXSAVE" "$@" </dev/null >"$tmp/out" 2>"$tmp/err") || rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "vxsave $*: exit $rc, expected $expected; stderr: $(head -c 400 "$tmp/err")"
		return 1
	fi
	return 0
}

has() {
	grep -qF -- "$2" "$1" || fail "$3: $(basename "$1") lacks '$2': $(head -c 300 "$1")"
}

# blob_of BUNDLE OUT: the bundle's XSAVE blob as a binary file.
blob_of() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"wb").write(bytes.fromhex("".join(d["xsave"]["data"])))' "$1" "$2"
}

# reg HEX: a register value as decode prints it (64-bit groups, high first, '_' between).
reg() {
	python3 -c 'import sys; h=sys.argv[1][2:]; h=h.rjust((len(h)+15)//16*16,"0"); print("0x"+"_".join(h[i:i+16] for i in range(0,len(h),16)))' "$1"
}

# xcr0_of / cpuid_of / msr_of BUNDLE ...: values read from the bundle's JSON.
xcr0_of() { json_get "$1" '[x["value"] for x in d["xcrs"] if x["xcr"] == 0][0]'; }
cpuid_of() { # BUNDLE FUNCTION INDEX REG
	json_get "$1" "[e['$4'] for e in d['cpuid'] if int(e['function'],16) == $2 and int(e['index'],16) == $3][0]"
}
msr_of() { json_get "$1" "[m['value'] for m in d['msrs'] if int(m['index'],16) == $2][0]"; }

# --- on the model: a vCPU set up by statements and a guest ------------------------------------
XMM1=0x00112233445566778899aabbccddeeff
YMMH1=0xfedcba98765432100123456789abcdef
cat >"$tmp/model.vxs" <<EOF
kvm module
kvm vm vm0
kvm vcpu v0 vm0 0
kvm cpuid v0 supported -avx512f 0xd.0.eax&=0x207
kvm xcr0 v0 0x7
kvm msr set v0 U_CET=0x1
kvm guest v0 mov-cr0 0x80010011
kvm guest v0 mov-cr4 0x40620
kvm guest v0 set xmm1 $XMM1
kvm guest v0 set ymmh1 $YMMH1
kvm run v0
kvm save v0 sub/model.json
kvm expect result 4096
EOF
mkdir "$tmp/sub"
line=$(grep -n '^kvm save' "$tmp/model.vxs" | cut -d: -f1)
if run 0 kvm --profile sapphire-rapids model.vxs; then
	b="$tmp/sub/model.json" # relative to the current directory, not the script's
	has "$tmp/out" "save(v0) to sub/model.json = 4096" "model save line"
	[ "$(json_get "$b" 'd["format"]')" = vxsave-vcpu-bundle ] || fail "model format"
	[ "$(json_get "$b" 'd["origin"]')" = "vxsave kvm script model.vxs:$line on the model of sapphire-rapids" ] ||
		fail "model origin: $(json_get "$b" 'd["origin"]')"
	[ "$(json_get "$b" 'd["source"]["profile"]')" = sapphire-rapids ] || fail "model profile"
	[ "$(json_get "$b" 'd["source"]["flavour"]')" = vmx ] || fail "model flavour"
	[ "$(xcr0_of "$b")" = 0x7 ] || fail "model XCR0"
	# the edits: 0xD.0 EAX = 0x2e7 & 0x207; AVX512F (leaf 7.0 EBX bit 16) cleared
	[ "$(cpuid_of "$b" 0xd 0 eax)" = 0x00000207 ] || fail "model 0xD.0 EAX"
	[ $(($(cpuid_of "$b" 7 0 ebx) & 0x10000)) = 0 ] || fail "model AVX512F still set"
	[ "$(msr_of "$b" 0x6a0)" = 0x1 ] || fail "model U_CET"
	[ "$(json_get "$b" 'd["xsave"]["size"]')" = 4096 ] || fail "model blob size"
	blob_of "$b" "$tmp/model.bin"
	if run 0 xsave decode model.bin --profile sapphire-rapids; then
		has "$tmp/out" "xmm1      $(reg $XMM1)" "model xmm1"
		has "$tmp/out" "ymm1      $(reg "$YMMH1${XMM1#0x}")" "model ymm1"
	fi
	run 0 compat sub/model.json --to sapphire-rapids &&
		has "$tmp/out" "Verdict    restores" "model bundle restores on its own profile"
fi

# The examples run (each writes its bundle into the current directory).
run 0 kvm --profile sapphire-rapids "$SRCDIR/docs/examples/kvm/save-bundle.vxs" &&
	run 0 compat save-bundle.json --to sapphire-rapids
run 0 kvm --profile zen4 --flavour pvm "$SRCDIR/docs/examples/kvm/save-bundle-vmm.vxs" &&
	run 0 compat save-bundle-vmm.json --to zen4

# --- malformed uses: refused with the line and the reason -------------------------------------
bad() { # EXPECTED-TEXT NAME SCRIPT-TEXT...: the script is refused with that message
	local want=$1 name=$2
	shift 2
	printf '%s\n' "$@" >"$tmp/bad.vxs"
	run 1 kvm --profile sapphire-rapids bad.vxs && has "$tmp/err" "$want" "$name"
}
bad "bad.vxs:1: no module" "save before the module" "kvm save v0 x.json"
bad "bad.vxs:4: no vCPU 'v9'" "unknown vCPU" "kvm module" "kvm vm vm0" "kvm vcpu v0 vm0 0" \
	"kvm save v9 x.json"
bad "bad.vxs:2:" "no FILE" "kvm module" "kvm save v0"
bad "kvm save VCPU FILE" "usage quoted" "kvm module" "kvm save v0"
bad "bad.vxs:2:" "extra word" "kvm module" "kvm save v0 a.json b.json"
bad "bad.vxs:4: kvm save: cannot write 'no-such-dir/x.json'" "unwritable FILE" "kvm module" \
	"kvm vm vm0" "kvm vcpu v0 vm0 0" "kvm save v0 no-such-dir/x.json" "kvm expect result 4096"
long=$(printf 'f%.0s' $(seq 300))
bad "must have 1 to 255 characters" "FILE too long" "kvm module" "kvm save v0 $long"
[ ! -e "$tmp/x.json" ] || fail "a refused save wrote x.json"

# --- with --real on this machine's /dev/kvm ---------------------------------------------------
cat >"$tmp/real.vxs" <<'EOF'
kvm module
kvm vm vm0
kvm vcpu v0 vm0 0
kvm cpuid v0 supported 0x80000002.0.eax=0x56535856
kvm xcr0 v0 0x7
kvm xsave get v0 image
fpu poke image xstate_bv 0x3
fpu poke image mxcsr 0x1fa0
fpu poke image 160 u64 0x1122334455667788
kvm xsave set v0 image 168 u64 0x99aabbccddeeff00
kvm expect result 0
kvm save v0 real.json
EOF
if [ "$(id -u)" != 0 ] || [ ! -c /dev/kvm ]; then
	echo "SKIP: kvm save --real: needs root and /dev/kvm (uid $(id -u))"
elif run 0 kvm --real real.vxs; then
	b="$tmp/real.json"
	[ "$(json_get "$b" 'd["origin"]')" = "vxsave kvm script real.vxs:12 on /dev/kvm (real)" ] ||
		fail "real origin: $(json_get "$b" 'd["origin"]')"
	[ "$(xcr0_of "$b")" = 0x7 ] || fail "real XCR0"
	[ "$(cpuid_of "$b" 0x80000002 0 eax)" = 0x56535856 ] || fail "real CPUID edit"
	blob_of "$b" "$tmp/real.bin"
	if run 0 xsave decode real.bin --host; then
		has "$tmp/out" "xmm0      0x99aabbccddeeff00_1122334455667788" "real xmm0"
		has "$tmp/out" "mxcsr     0x00001fa0" "real mxcsr"
	fi
else
	echo "SKIP: kvm save --real: $(head -c 200 "$tmp/err")"
fi

finish test_kvm_save
