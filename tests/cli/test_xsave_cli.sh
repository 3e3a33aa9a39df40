#!/usr/bin/env bash
# vxsave xsave decode|validate|convert (issue 10): each action in text and JSON on blobs built
# here byte by byte (offsets from arch.md §2.1/§2.6: sapphire-rapids opmask 1088, PKRU 2688;
# zen4 opmask 832, PKRU 2432) and on the blobs captured from the real KVM
# (tests/fixtures/xsave); every kind of malformed file gets its own message and exit 1; usage
# errors exit 2.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_xsave_cli.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FIX="$SRCDIR/tests/fixtures/xsave"

# run EXPECTED_EXIT ARGS...: output in $tmp/out and $tmp/err; errors start with "vxsave: ".
run() {
	local expected=$1 rc=0
	shift
	"$VXSAVE" "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$expected" ]; then
		fail "vxsave $*: exit $rc, expected $expected; stderr: $(head -c 400 "$tmp/err")"
		return 1
	fi
	if [ "$expected" = 2 ] || { [ "$expected" = 1 ] && [ -s "$tmp/err" ]; }; then
		head -n1 "$tmp/err" | grep -q '^vxsave: ' ||
			fail "vxsave $*: stderr does not start with 'vxsave: ': $(head -n1 "$tmp/err")"
	fi
	return 0
}

has() { grep -Eq -- "$1" "$tmp/out" || fail "$2: output lacks /$1/"; }
err_has() { grep -Eq -- "$1" "$tmp/err" || fail "$2: stderr lacks /$1/: $(head -c 300 "$tmp/err")"; }
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" ||
	fail "$1: output is not JSON"; }
jexpect() {
	local got
	got=$(json_get "$tmp/out" "$1") || { fail "cannot evaluate $1"; return; }
	[ "$got" = "$2" ] || fail "$1 = $got, expected $2"
}

# --- blobs, byte by byte --------------------------------------------------------------------
python3 - "$tmp" <<'PY'
import struct, sys, os
d = sys.argv[1]
def put(b, off, fmt, *v): struct.pack_into('<' + fmt, b, off, *v)
# sapphire-rapids struct kvm_xsave: x87 TOP=6 with R6 = 1.0, MXCSR ZE, xmm3/ymmh3, k5, PKRU.
b = bytearray(4096)
put(b, 0, 'HHB', 0x027f, 0x3200, 0xc0)
put(b, 32, 'QH', 0x8000000000000000, 0x3fff)
put(b, 24, 'II', 0x1f84, 0xffff)
for i in range(16): b[208 + i] = 0x30 + i; b[576 + 48 + i] = 0x40 + i
put(b, 1088 + 40, 'Q', 0x1122334455667788)
put(b, 2688, 'I', 0x55555554)
put(b, 512, 'Q', 0x2e7)
b[900] = 0x99                       # a stray byte in the hole between AVX and opmask
open(os.path.join(d, 'spr.bin'), 'wb').write(b)
# The same with every rule of KVM_SET_XSAVE broken once (kvm.md §5.3).
bad = bytearray(b)
put(bad, 512, 'Q', 0x2e7 | 0x800); bad[520] = 1; bad[540] = 0xab; put(bad, 24, 'I', 0x11f80)
open(os.path.join(d, 'bad.bin'), 'wb').write(bad)
# zen4 struct kvm_xsave: k3 at 832 + 24, zmm16 low qword at 1408, PKRU at 2432.
z = bytearray(4096)
put(z, 0, 'H', 0x037f); put(z, 24, 'II', 0x1f80, 0xffff)
put(z, 832 + 24, 'Q', 0xa5a5a5a5deadbeef)
put(z, 1408, 'Q', 0x0123456789abcdef)
put(z, 2432, 'I', 0x4)
put(z, 512, 'Q', 0x2e7)
open(os.path.join(d, 'zen4.bin'), 'wb').write(z)
# Malformed: truncated, oversized, a signal frame with a wrong MAGIC2, NUL bytes, text.
open(os.path.join(d, 'short.bin'), 'wb').write(b[:100])
open(os.path.join(d, 'huge.bin'), 'wb').write(b'\x7f' + bytes(2 * 1024 * 1024))
f = bytearray(3000); put(f, 0, 'H', 0x037f)
put(f, 464, 'IIQI', 0x46505853, 2444, 0x7, 2440); put(f, 2440, 'I', 0x46505846)
open(os.path.join(d, 'frame.bin'), 'wb').write(f)
open(os.path.join(d, 'zeros.bin'), 'wb').write(bytes(4096))
open(os.path.join(d, 'bundle.json'), 'w').write('{"vcpu": {"xsave": "7f030000000000000000000000"}}\n' * 4)
open(os.path.join(d, 'empty.bin'), 'wb').write(b'')
open(os.path.join(d, 'odd.bin'), 'wb').write(b + b'\0\0\0\0\0')
PY

# --- decode -----------------------------------------------------------------------------------
run 0 xsave decode "$tmp/spr.bin" --profile sapphire-rapids
has '^.*spr.bin: 4096 bytes, kvm \(struct kvm_xsave, recognised\)' "decode header line"
has 'XSTATE_BV  0x2e7  x87\|SSE\|AVX\|opmask\|ZMM_Hi256\|Hi16_ZMM\|PKRU' "XSTATE_BV names"
has 'st0  R6  valid +1 ' "ST0 = R6 = 1.0, valid"
has 'st1  R7  zero' "ST1 = R7, zero tag"
has 'tag word 0x4fff' "full tag word"
has 'mxcsr +0x00001f84  ZE\|IM' "MXCSR flags"
has 'ymm3 +0x4f4e4d4c4b4a4948_4746454443424140_3f3e3d3c3b3a3938_3736353433323130' "ymm3"
has 'k5 +0x1122334455667788' "k5 at 1088 + 40"
has 'pkru +0x55555554  key1:AD' "PKRU keys"
has 'XTILECFG +init' "tile config in its initial configuration"
has 'XTILEDATA +init +bytes 2816-11007: past the end' "tile data past 4096 bytes"
has 'hole 832-1087' "stray byte in the hole"
has '000380: 00 00 00 00 99' "stray byte as hex"
run 0 xsave decode "$tmp/spr.bin" --profile sapphire-rapids --json && json_ok "decode --json"
jexpect "d['kind']" kvm
jexpect "d['header']['xstate_bv']['mask']" 0x2e7
jexpect "c['opmask']['registers']['k5']" 0x1122334455667788
jexpect "c['x87']['registers']['stack'][0]['tag']" valid
jexpect "c['x87']['registers']['tag_word']" 0x4fff
jexpect "c['XTILECFG']['state']" init
jexpect "d['stray_bytes'][0]['offset']" 832
# The Intel blob read with AMD offsets: k5 is then the hole's zero (arch.md §2.6).
run 0 xsave decode "$tmp/spr.bin" --profile zen4 --json
jexpect "c['opmask']['registers']['k5']" 0
jexpect "c['opmask']['offset']" 832
# The real KVM's blobs.
run 0 xsave decode "$FIX/host-xsave2-all.bin" --profile zen4 --json && json_ok "fixture"
jexpect "d['header']['xstate_bv']['mask']" 0x7
jexpect "d['header']['software_xcr0']" 0x7
run 0 xsave decode "$FIX/host-xsave2-init.bin" --profile zen4
has 'x87 +init' "init fixture: x87 init"
has 'fcw +0x037f' "init FCW"
# A signal frame and a compacted area.
python3 - "$tmp" <<'PY'
import struct, sys, os
d = sys.argv[1]
f = bytearray(open(os.path.join(d, 'frame.bin'), 'rb').read()); struct.pack_into('<I', f, 2440, 0x46505845)
open(os.path.join(d, 'frame-ok.bin'), 'wb').write(f)
c = bytearray(840); struct.pack_into('<HxxxxxxxxxxxxxxxxxxxxxxII', c, 0, 0x037f, 0x1f80, 0xffff)
struct.pack_into('<QQ', c, 512, 0x206, 0x8000000000000207); struct.pack_into('<I', c, 832, 0x12345678)
open(os.path.join(d, 'compacted.bin'), 'wb').write(c)
PY
run 0 xsave decode "$tmp/frame-ok.bin" --profile zen4
has 'sigframe \(64-bit signal frame, recognised\)' "signal frame recognised"
has 'xstate_size 2440, MAGIC2 at 2440' "frame software bytes"
run 0 xsave decode "$tmp/compacted.bin" --profile sapphire-rapids
has 'compacted \(compacted XSAVE area' "compacted recognised"
has 'PKRU +present +bytes 832-839' "compacted PKRU at 832 (arch.md §2.4)"
has 'pkru +0x12345678' "compacted PKRU value"

# --- malformed files: a specific message each, exit 1 -----------------------------------------
run 1 xsave decode "$tmp/short.bin" && err_has 'short.bin: byte 100: truncated: 100 bytes' "truncated"
run 1 xsave decode "$tmp/huge.bin" && err_has 'oversized' "oversized"
run 1 xsave decode "$tmp/frame.bin" && err_has 'byte 2440: wrong magic: MAGIC2' "wrong magic"
run 1 xsave decode "$tmp/zeros.bin" && err_has 'all 4096 bytes are NUL' "NUL bytes"
run 1 xsave decode "$tmp/bundle.json" && err_has 'text, not a binary XSAVE blob' "text"
run 1 xsave decode "$tmp/empty.bin" && err_has 'empty: the blob has no bytes' "empty file"
run 1 xsave decode "$tmp/nonexistent.bin" && err_has "cannot read .*No such file" "missing file"
run 1 xsave decode "$tmp" && err_has "cannot read .*[Ii]s a directory" "a directory"
run 1 xsave decode "$tmp/odd.bin" --format kvm && err_has 'oversized: a struct kvm_xsave is 4096 bytes' \
	"--format kvm on 4101 bytes"
run 1 xsave decode "$tmp/odd.bin" --format kvm2 && err_has 'whole number of __u32' "--format kvm2"
run 1 xsave decode "$tmp/spr.bin" --format compacted && err_has 'byte 520: .*bit 63 clear' \
	"--format compacted on a standard blob"
run 1 xsave decode "$tmp/spr.bin" --format sigframe && err_has 'byte 464: wrong magic: magic1' \
	"--format sigframe without magic1"
run 0 xsave decode "$tmp/zeros.bin" --format kvm && has 'XSTATE_BV  0x0' "forced NUL blob"
run 1 xsave validate "$tmp/short.bin" --profile zen4 && err_has 'truncated' "validate: truncated"
run 1 xsave convert "$tmp/zeros.bin" --from zen4 --to zen4 -o "$tmp/x" && err_has 'NUL' "convert: NUL"

# --- validate ---------------------------------------------------------------------------------
run 0 xsave validate "$tmp/spr.bin" --profile sapphire-rapids
has 'verdict:  ACCEPTED: KVM_SET_XSAVE returns 0' "accepted on SPR"
has 'uabi_size 4096, supported_xcr0 0x602e7' "checked against"
run 1 xsave validate "$tmp/bad.bin" --profile zen4
has 'REFUSED: KVM_SET_XSAVE fails with EINVAL, 5 rules broken' "five rules"
has 'refusal 1: XSTATE_BV 0xae7 has bits outside the supported XCR0 0x2e7' "§7.3 rule"
has 'refusal 3: XCOMP_BV 0x1 is not 0' "XCOMP_BV rule"
has 'refusal 4: reserved header byte 540 is 0xab' "reserved byte rule"
has 'refusal 5: MXCSR 0x00011f80' "MXCSR rule"
run 1 xsave validate "$tmp/bad.bin" --profile zen4 --json && json_ok "validate --json"
jexpect "d['accepted']" False
jexpect "d['errno']" EINVAL
jexpect "d['refusals']" 5
jexpect "[f['offset'] for f in d['findings'] if f['refuses']]" "[512, 512, 520, 540, 24]"
# The SPR blob on zen3 (no AVX-512, PKRU at 832): refused; on zen4 the offsets differ, the
# bytes are accepted as they are (KVM cannot tell) - decode shows the scramble.
run 1 xsave validate "$tmp/spr.bin" --profile zen3 && has 'bits outside the supported XCR0 0x207' "zen3"
# AMX permitted and tile data enabled: KVM reads 11008 bytes; a 4096-byte blob is EFAULT.
run 1 xsave validate "$tmp/spr.bin" --profile sapphire-rapids --guest-perm yes --json
jexpect "d['errno']" EFAULT
jexpect "d['vcpu']['uabi_size']" 11008
# A guest CPUID without AVX-512: accepted, with a note (kvm.md §5.2).
run 0 xsave validate "$tmp/spr.bin" --profile sapphire-rapids \
	--guest-cpuid sapphire-rapids,-avx512,-amx --xcr0 x87,sse,avx
has 'note: opmask\|ZMM_Hi256\|Hi16_ZMM loaded, but the guest CPUID' "hidden components note"
has 'XCR0 0x7 leaves them out' "guest XCR0 note"
run 1 xsave validate "$tmp/spr.bin" --profile sapphire-rapids --xcr0 0x5 &&
	err_has 'vCPU configuration is refused' "bad guest XCR0"
run 1 xsave validate "$tmp/compacted.bin" --profile sapphire-rapids
has 'note: a compacted area' "compacted note"
if "$VXSAVE" xsave validate "$FIX/host-xsave2-all.bin" --host --json >"$tmp/out" 2>"$tmp/err"; then
	json_ok "validate --host"
else
	[ $? = 1 ] && json_ok "validate --host" || fail "validate --host: $(cat "$tmp/err")"
fi

# --- convert ----------------------------------------------------------------------------------
run 0 xsave convert "$tmp/zen4.bin" --from zen4 --to sapphire-rapids -o "$tmp/z2s.bin"
has 'converted to kvm on .sapphire-rapids.: 4096 bytes written' "zen4 -> SPR"
python3 - "$tmp" <<'PY' || fail "zen4 -> SPR offsets"
import struct, sys
b = open(sys.argv[1] + '/z2s.bin', 'rb').read()
assert struct.unpack_from('<Q', b, 1088 + 24)[0] == 0xa5a5a5a5deadbeef   # k3
assert struct.unpack_from('<Q', b, 1664)[0] == 0x0123456789abcdef       # zmm16
assert struct.unpack_from('<I', b, 2688)[0] == 0x4                      # PKRU
PY
run 0 xsave convert "$tmp/z2s.bin" --from sapphire-rapids --to zen4 -o "$tmp/back.bin"
cmp -s "$tmp/zen4.bin" "$tmp/back.bin" || fail "zen4 -> SPR -> zen4 is not byte-identical"
run 0 xsave convert "$tmp/zen4.bin" --from zen4 --to zen4 --format compacted -o "$tmp/c.bin" --json
json_ok "convert --json"
jexpect "d['converted']" True
jexpect "d['bytes']" 2440
run 0 xsave convert "$tmp/c.bin" --from zen4 --to zen4 --format kvm -o "$tmp/c2.bin"
cmp -s "$tmp/zen4.bin" "$tmp/c2.bin" || fail "std -> compacted -> std is not byte-identical"
run 0 xsave convert "$tmp/spr.bin" --from sapphire-rapids --to sapphire-rapids --format kvm2 \
	-o "$tmp/spr2.bin"
[ "$(stat -c %s "$tmp/spr2.bin")" = 11008 ] || fail "kvm2 on SPR is not 11008 bytes"
has 'note: 1 non-zero source byte.* from byte 900' "stray byte not carried"
run 1 xsave convert "$tmp/spr.bin" --from sapphire-rapids --to zen3 -o "$tmp/refused.bin"
has 'REFUSED: kvm on .zen3. cannot hold it \(3 reasons\); nothing written' "refused"
has 'opmask \(bit 5\) is not supported on .zen3.' "reason names the component"
[ ! -e "$tmp/refused.bin" ] || fail "a refused conversion wrote its output"
run 1 xsave convert "$tmp/spr.bin" --from sapphire-rapids --to zen3 -o "$tmp/refused.bin" --json
json_ok "convert refused --json"
jexpect "len([f for f in d['findings'] if f['refuses']])" 3
"$VXSAVE" xsave convert "$tmp/zen4.bin" --from zen4 --to zen4 -o - >"$tmp/stdout.bin" 2>"$tmp/err" ||
	fail "convert -o -"
cmp -s "$tmp/zen4.bin" "$tmp/stdout.bin" || fail "convert -o - did not write the blob to stdout"
grep -q 'converted to kvm' "$tmp/err" || fail "convert -o -: report not on stderr"

# --- usage errors: exit 2 -----------------------------------------------------------------------
run 2 xsave && err_has 'missing action' "no action"
run 2 xsave frobnicate && err_has "unknown action 'frobnicate'" "unknown action"
run 2 xsave decode && err_has 'missing FILE' "no file"
run 2 xsave decode "$tmp/spr.bin" extra && err_has "unexpected argument 'extra'" "two files"
run 2 xsave decode "$tmp/spr.bin" --format xml && err_has "--format must be kvm" "bad format"
run 2 xsave decode "$tmp/spr.bin" --from zen4 && err_has "'--from' does not apply" "foreign option"
run 2 xsave decode "$tmp/spr.bin" --profile zen4 --host && err_has 'host|profile' "two sources"
run 2 xsave validate "$tmp/spr.bin" && err_has 'which host' "validate without a host"
run 2 xsave validate "$tmp/spr.bin" --profile zen4 --flavour qemu && err_has 'flavour' "bad flavour"
run 2 xsave validate "$tmp/spr.bin" --profile zen4 --guest-perm maybe && err_has 'guest-perm' "perm"
run 2 xsave convert "$tmp/spr.bin" --from zen4 -o "$tmp/x" && err_has '--to' "no --to"
run 2 xsave convert "$tmp/spr.bin" --from zen4 --to zen4 && err_has '-o OUT' "no -o"
run 2 xsave convert "$tmp/spr.bin" --from zen4 --to zen4 -o "$tmp/x" --format sigframe &&
	err_has 'std, compacted, kvm or kvm2' "sigframe result"
run 2 xsave convert "$tmp/spr.bin" --from zen4 --to zen4 -o - --json && err_has 'standard output' \
	"--json with -o -"
run 2 xsave convert "$tmp/spr.bin" --from zen4 --to zen4 -o "$tmp/x" --size 0 && err_has '--size' \
	"size 0"

# --- help -------------------------------------------------------------------------------------
for args in "xsave --help" "help xsave" "xsave decode --help"; do
	# shellcheck disable=SC2086
	run 0 $args
	for word in decode validate convert --format --input-format --json --guest-cpuid --xcr0 \
		--guest-perm --flavour --design --from --to --output --size --xcomp-bv --host \
		--profile --cpuid-dump; do
		grep -q -- "$word" "$tmp/out" || fail "$args: help lacks '$word'"
	done
done
run 0 --help && has 'xsave' "main help lists xsave"

finish test_xsave_cli
