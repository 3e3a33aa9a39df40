#!/usr/bin/env bash
# The global-state rule (include/vxsave/common.h "Global mutable state"): the library has no
# writable static object except those the contract names, the hardware backend's (src/cpu/hw.c).
# Usage: check_globals.sh LIB (libvxsave.a).  Every data object in a writable section (.data,
# .bss and their subsections; not .data.rel.ro, which is read-only after relocation) must be on
# the list below; the list must not be met vacuously (hw_lock is there on x86-64).
set -euo pipefail
objdump=${OBJDUMP:-objdump}
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 LIB" >&2; exit 2; }
allowed=" hw_old hw_lock hw_refs hw_host "

# "SECTION NAME" of every data object in a writable section.
writable=$("$objdump" -t "$1" | awk '$0 ~ / O / {
	for (i = 1; i <= NF; i++) if ($i == "O") { sec = $(i + 1); name = $NF }
	if (sec ~ /^\.(data|bss|tbss|tdata)/ && sec !~ /rel\.ro/ &&
	    name !~ /^_+(asan|odr_asan|ubsan|tsan|sancov)/) print sec, name }' | sort -u)
failures=0
while read -r sec name; do
	[ -n "$name" ] || continue
	case $allowed in
	*" $name "*) ;;
	*)
		echo "FAIL: writable static object $name ($sec) is not named in common.h"
		failures=$((failures + 1))
		;;
	esac
done <<<"$writable"
if [ "$(uname -m)" = x86_64 ] && ! grep -q " hw_lock$" <<<"$writable"; then
	echo "FAIL: hw_lock not found: the check looked at nothing"
	failures=$((failures + 1))
fi
[ $failures -eq 0 ] && echo "ok: the only writable static objects are the hardware backend's"
exit $((failures > 0))
