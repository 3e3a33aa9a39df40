#!/usr/bin/env bash
# The symbol rule (include/vxsave/common.h "Symbols"): every global symbol the installed
# libraries define is public API, named vx_* or vxsave_*.  Usage: check_symbols.sh LIB...
# (libvxsave.a, libvxsave.so).  Prints each offender; also checks that the rule is not met
# vacuously: both libraries define the same public symbols, and the archive is the one
# localized object the build makes of it (CMakeLists.txt "Symbols").
set -euo pipefail
nm=${NM:-nm}
[ $# -gt 0 ] || { echo "usage: $0 LIB..." >&2; exit 2; }
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "TYPE NAME" of every defined global symbol (archives: of every member).
globals() {
	"$nm" -g --defined-only "$@" 2>/dev/null | awk 'NF == 3 { print $2, $3 }' | sort -u
}

for lib in "$@"; do
	[ -f "$lib" ] || { echo "FAIL: $lib does not exist"; exit 1; }
	base=$(basename "$lib")
	globals "$lib" >"$tmp/$base.all"
	case $base in
	*.so*) globals -D "$lib" >>"$tmp/$base.all" ;; # the dynamic table is what users link to
	esac
	sort -u -o "$tmp/$base.all" "$tmp/$base.all"
	bad=$(awk '$2 !~ /^(vx_|vxsave_)/' "$tmp/$base.all")
	if [ -n "$bad" ]; then
		while read -r type name; do
			echo "FAIL: $base: global symbol $name ($type) is neither vx_* nor vxsave_*"
		done <<<"$bad"
		failures=$((failures + 1))
	fi
	awk '{ print $2 }' "$tmp/$base.all" | sort -u >"$tmp/$base.names"
	# Not vacuous: the public API is there.
	for want in vx_version vx_profile_init vx_layout_compute vx_cpu_create; do
		grep -qx "$want" "$tmp/$base.names" ||
			{ echo "FAIL: $base does not define $want"; failures=$((failures + 1)); }
	done
	case $base in
	*.a)
		members=$("${AR:-ar}" t "$lib" | wc -l)
		[ "$members" -eq 1 ] ||
			{ echo "FAIL: $base has $members members, expected the one localized object"; failures=$((failures + 1)); }
		;;
	esac
	echo "$base: $(wc -l <"$tmp/$base.names") global symbols"
done

# The archive and the shared library export the same API.
names=("$tmp"/*.names)
if [ ${#names[@]} -eq 2 ] && ! diff -u "${names[0]}" "${names[1]}" >"$tmp/diff"; then
	echo "FAIL: the libraries define different public symbols:"
	grep '^[-+][^-+]' "$tmp/diff" || true
	failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "symbols: every global symbol is vx_* or vxsave_*"
