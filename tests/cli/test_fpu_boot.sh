#!/usr/bin/env bash
# vxsave fpu boot: the boot log and configurations for each CET_S design, in text and JSON, with
# numbers computed by hand from the profiles' leaf 0xD (linux-fpu.md §2; the same arithmetic as
# tests/unit/test_fpu_boot.c explains), the disable path on a crafted dump, usage errors, and -
# where the kernel log is readable - the host boot log against dmesg.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_fpu_boot.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# jexpect FILE EXPR VALUE: a Python expression over the JSON document `d` must print VALUE.
jexpect() {
	local got
	got=$(json_get "$1" "$2") || { fail "$1: cannot evaluate $2"; return; }
	[ "$got" = "$3" ] || fail "$(basename "$1"): $2 = $got, expected $3"
}

# --- JSON: sizes per design on sapphire-rapids and zen4 -----------------------------------
for design in unsupported all-tasks guest-only; do
	"$VXSAVE" fpu boot --profile sapphire-rapids --design "$design" --json \
		>"$tmp/spr-$design.json" || fail "fpu boot --design $design failed"
	"$VXSAVE" fpu boot --profile zen4 --design "$design" --json >"$tmp/zen4-$design.json" ||
		fail "fpu boot --profile zen4 --design $design failed"
done
f="$tmp/spr-guest-only.json"
jexpect "$f" "d['design']" guest-only
jexpect "$f" "d['xsave']" enabled
jexpect "$f" "d['configs']['kernel']['max_features']['mask']" 0x61ee7
jexpect "$f" "d['configs']['kernel']['max_size']" 10752
jexpect "$f" "d['configs']['kernel']['default_features']['mask']" 0x20ee7
jexpect "$f" "d['configs']['kernel']['default_size']" 2560
jexpect "$f" "d['configs']['user']['max_size']" 11008
jexpect "$f" "d['configs']['user']['default_size']" 2816
jexpect "$f" "d['configs']['guest']['default_features']['mask']" 0x21ee7
jexpect "$f" "d['configs']['guest']['default_size']" 2560
jexpect "$f" "d['cpu_setup']['xcr0']" 0x602e7
jexpect "$f" "d['cpu_setup']['xss']" 0x9c00
jexpect "$f" "d['cpu_setup']['xfd']" 0x40000
jexpect "$f" "d['cpu_setup']['save']" XSAVES64
jexpect "$f" "d['memory']['vcpu_guest_fpstate_bytes']" 2624
jexpect "$f" "d['memory']['sigframe_fpstate_bytes']" $((11008 + 4 + 112))
jexpect "$f" "d['log'][-1]['text']" \
	"x86/fpu: Enabled xstate features 0x61ee7, context size is 10752 bytes, using 'compacted' format."
jexpect "$tmp/spr-unsupported.json" "d['configs']['kernel']['max_features']['mask']" 0x60ee7
jexpect "$tmp/spr-unsupported.json" "d['cpu_setup']['xss']" 0x8c00
jexpect "$tmp/spr-all-tasks.json" "d['configs']['kernel']['default_features']['mask']" 0x21ee7
# zen4: CET_S costs 24 bytes per thread only in all-tasks (2456 -> 2480).
jexpect "$tmp/zen4-guest-only.json" "d['memory']['host_thread_fpstate_bytes']" 2456
jexpect "$tmp/zen4-all-tasks.json" "d['memory']['host_thread_fpstate_bytes']" 2480
jexpect "$tmp/zen4-unsupported.json" "d['memory']['host_thread_fpstate_bytes']" 2456
jexpect "$tmp/zen4-guest-only.json" "d['configs']['guest']['default_size']" 2480
jexpect "$tmp/zen4-unsupported.json" "d['configs']['guest']['default_size']" 2456
jexpect "$tmp/zen4-guest-only.json" "d['cpu_setup']['xfd']" None

# --- text: the log first, then the table ---------------------------------------------------
"$VXSAVE" fpu boot --profile zen4 >"$tmp/zen4.txt" || fail "fpu boot --profile zen4 failed"
grep -qxF "  x86/fpu: Supporting XSAVE feature 0x1000: 'Control-flow Kernel registers (KVM only)'" \
	"$tmp/zen4.txt" || fail "zen4 text: no CET_S feature line"
grep -qxF "  x86/fpu: xstate_offset[12]: 2456, xstate_sizes[12]:   24" "$tmp/zen4.txt" ||
	fail "zen4 text: no CET_S offset line"
grep -qE "^  kernel  0x1ae7 +2480  0xae7 +2456$" "$tmp/zen4.txt" ||
	fail "zen4 text: kernel row wrong"
grep -qE "^  guest   0x1ae7 +2480  0x1ae7 +2480$" "$tmp/zen4.txt" ||
	fail "zen4 text: guest row wrong"
# The default design is guest-only.
grep -q "CET_S design guest-only" "$tmp/zen4.txt" || fail "default design is not guest-only"

# --- a disabled boot from a crafted dump: APX next to MPX in leaf 0xD ----------------------
python3 - "$SRCDIR/profiles/future-intel-apx.cpuid" >"$tmp/apx-mpx.cpuid" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"(\s*0x0000000d 0x00: eax=)0x([0-9a-f]{8})(.*)", line)
    if m:
        line = "%s0x%08x%s\n" % (m.group(1), int(m.group(2), 16) | 0x18, m.group(3))
    sys.stdout.write(line)
PY
grep -q "0x0000000d 0x00: eax=0x000e02ff" "$tmp/apx-mpx.cpuid" || fail "crafting the dump failed"
"$VXSAVE" fpu boot --cpuid-dump "$tmp/apx-mpx.cpuid" >"$tmp/apx-mpx.txt" ||
	fail "fpu boot on a disabled CPU must still succeed"
grep -qxF "  x86/fpu: Both APX/MPX present in the CPU's xstate features: 0xedfff." \
	"$tmp/apx-mpx.txt" || fail "APX/MPX: message missing"
grep -qxF "  x86/fpu: XSAVE disabled" "$tmp/apx-mpx.txt" || fail "APX/MPX: XSAVE disabled missing"
grep -qE "^  kernel  0x0 +512  " "$tmp/apx-mpx.txt" || fail "APX/MPX: legacy sizes expected"

# --- usage errors ------------------------------------------------------------------------
set +e
"$VXSAVE" fpu boot --design kvm-lazy >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "--design kvm-lazy must be a usage error (exit 2)"
grep -q "unknown --design 'kvm-lazy'" "$tmp/err" || fail "--design error message"
"$VXSAVE" fpu >/dev/null 2>&1
[ $? -eq 2 ] || fail "fpu without an action must exit 2"
"$VXSAVE" fpu reboot >/dev/null 2>&1
[ $? -eq 2 ] || fail "fpu reboot must exit 2"
"$VXSAVE" fpu boot --profile nope >/dev/null 2>&1
[ $? -eq 1 ] || fail "unknown profile must exit 1"
set -e
# Whole outputs first: `grep -q` on a pipe can stop reading early (SIGPIPE under pipefail).
help_text=$("$VXSAVE" fpu boot --help)
grep -q "Usage: vxsave fpu boot" <<<"$help_text" || fail "fpu boot --help"
help_text=$("$VXSAVE" --help)
grep -q "^  fpu " <<<"$help_text" || fail "vxsave --help does not list fpu"

# --- the host against dmesg, where the kernel log is readable ----------------------------
if dmesg >"$tmp/dmesg" 2>/dev/null && grep -q "x86/fpu: " "$tmp/dmesg"; then
	sed -n 's/^\[[^]]*\] //p' "$tmp/dmesg" | grep "^x86/fpu: " >"$tmp/kernel-fpu.txt"
	"$VXSAVE" fpu boot --host --json | python3 -c \
		'import json,sys; print("\n".join(l["text"] for l in json.load(sys.stdin)["log"]))' \
		>"$tmp/model-fpu.txt"
	diff -u "$tmp/kernel-fpu.txt" "$tmp/model-fpu.txt" ||
		fail "vxsave fpu boot --host differs from this kernel's dmesg"
else
	echo "note: dmesg is not readable here; host comparison left to test_fpu_host"
fi

finish test_fpu_boot
