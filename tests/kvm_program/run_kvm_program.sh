#!/bin/bash
# kvm_program on the real /dev/kvm and under the preload library (the model configured for
# this host: live profile, detected flavour); the two outputs must be identical.  Both runs
# are pinned to CPU 0 where taskset exists (quirk pvm-cpuid-host-apic-id: this machine's KVM
# puts the APIC id of the CPU the ioctl ran on into CPUID.1.EBX[31:24]).
set -u
program=$1
preload=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pin=()
command -v taskset > /dev/null && pin=(taskset -c 0)
# A sanitizer build preloads a library that needs the runtime the program already has.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"

env -u VXSAVE_KVM_PROFILE -u VXSAVE_KVM_DESIGN -u VXSAVE_KVM_FLAVOUR \
	LD_PRELOAD="$preload" "${pin[@]}" "$program" > "$work/model" 2> "$work/model.err"
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL: kvm_program under the preload exited $rc"
	cat "$work/model" "$work/model.err"
	exit 1
fi
if ! grep -q '^create vcpu: 0$' "$work/model"; then
	echo "FAIL: no vCPU under the preload"
	cat "$work/model"
	exit 1
fi
if [ ! -c /dev/kvm ] || ! "${pin[@]}" "$program" > "$work/real" 2> "$work/real.err"; then
	echo "SKIP: the real half needs a usable /dev/kvm ($(ls -l /dev/kvm 2>&1)); model output:"
	cat "$work/model"
	exit 77
fi
if ! diff -u "$work/real" "$work/model"; then
	echo "FAIL: kvm_program differs between the real /dev/kvm (-) and the preload (+)"
	exit 1
fi
echo "kvm_program: $(wc -l < "$work/real") lines identical on the real /dev/kvm and the model"
echo "1 passed, 0 failed"
