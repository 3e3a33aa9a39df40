#!/usr/bin/env bash
# Completeness of the allocation-failure walk (issue 11, docs/robustness.md "Allocation-failure
# injection"): every allocation site of src/ is reached by tests/unit/test_alloc_failures or is
# listed, with its reason, in cmake/alloc_sites.txt.
#
# Usage: check_alloc_sites.sh TEST_BINARY SOURCE_DIR [BUILT_FROM]
# (BUILT_FROM: the source directory the binary's debug information names, if not SOURCE_DIR:
# to try the check on a modified copy of the tree.)
#
# Sites: each function of src/*.c and src/*.h that calls malloc, calloc, realloc, reallocarray,
# aligned_alloc, posix_memalign, memalign, valloc, strdup, strndup, or a platform's ->alloc
# (comments and string literals left out), found by text, as "FILE FUNCTION".
# Reached: the test, run with VXSAVE_ALLOC_SITES, writes the call stack of every allocation its
# platform was asked for; addr2line (-i: inlined functions too) names the functions on each.
# The innermost function of src/ on a stack that is a site, skipping those alloc_sites.txt
# calls forwarders (they pass the caller's request on to another platform), is reached.
# Fails for a site neither reached nor excluded, and for an exclusion or a forwarder that names
# no site (stale).  Needs debug information (RelWithDebInfo, Debug): otherwise SKIP.
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] && [ -x "$1" ] && [ -d "$2/src" ] || {
	echo "usage: $0 TEST_BINARY SOURCE_DIR [BUILT_FROM]" >&2
	exit 2
}
bin=$1
src=$(cd "$2" && pwd)
built=$(cd "${3:-$2}" && pwd)
list=$src/cmake/alloc_sites.txt
addr2line=${ADDR2LINE:-addr2line}
readelf=${READELF:-readelf}

if ! command -v "$addr2line" >/dev/null || ! command -v "$readelf" >/dev/null; then
	echo "SKIP: alloc_sites: no addr2line/readelf"
	exit 0
fi
if ! "$readelf" -SW "$bin" | grep -q '\.debug_info'; then
	echo "SKIP: alloc_sites: $bin has no debug information (build RelWithDebInfo or Debug)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The sites, "FILE FUNCTION", from the text of src/: calls of the allocators and of the
# forwarders alloc_sites.txt names (vx_kvm_alloc(): its callers are the sites).
fwdnames=$(awk '$1 == "forward" { printf "%s%s", sep, $3; sep = "|" }' "$list")
(cd "$src" && find src -name '*.[ch]' | sort) | while read -r f; do
	awk -v file="$f" -v fwd="${fwdnames:-^$}" '
	function strip(s) {
		gsub(/"([^"\\]|\\.)*"/, "\"\"", s)
		gsub(/\/\*.*\*\//, "", s)
		sub(/\/\/.*/, "", s)
		return s
	}
	{
		line = $0
		if (incomment) {
			if (line !~ /\*\//) next
			sub(/^.*\*\//, "", line)
			incomment = 0
		}
		line = strip(line)
		if (line ~ /\/\*/) { sub(/\/\*.*/, "", line); incomment = 1 }
		# A function definition starts at column 0: "type name(" not ending in ";".
		if (line ~ /^[A-Za-z_]/ && line ~ /\(/ && line !~ /;[ \t]*$/ &&
		    line !~ /^(typedef|struct [A-Za-z_0-9]+ *\{)/) {
			head = line
			sub(/\(.*/, "", head)
			n = split(head, w, /[^A-Za-z0-9_]+/)
			while (n > 0 && w[n] == "") n--
			if (n > 0) fn = w[n]
			next
		}
		# A declaration at column 0 (a header) calls nothing.
		if (line ~ /^[A-Za-z_]/)
			next
		if (line ~ "(^|[^A-Za-z0-9_])(" fwd ")[ \t]*\\(" ||
		    line ~ /(^|[^A-Za-z0-9_])(malloc|calloc|realloc|reallocarray|aligned_alloc|posix_memalign|memalign|valloc|strdup|strndup)[ \t]*\(/ ||
		    line ~ /(->|\.)alloc[ \t]*\(/)
			print file, fn
	}' "$src/$f"
done | sort -u >"$tmp/sites"

# 2. The list: "exclude FILE FUNCTION reason" and "forward FILE FUNCTION reason".
awk '$1 == "exclude" || $1 == "forward" { print $1, $2, $3 }' "$list" | sort -u >"$tmp/listed"
awk '$1 == "forward" { print $2, $3 }' "$list" | sort -u >"$tmp/forward"
awk '$1 == "exclude" { print $2, $3 }' "$list" | sort -u >"$tmp/exclude"

# 3. The stacks of the walk.
VXSAVE_ALLOC_SITES=$tmp/stacks "$bin" >"$tmp/test.log" 2>&1 || {
	tail -20 "$tmp/test.log"
	echo "FAIL: $bin failed"
	exit 1
}
base=$("$readelf" -lW "$bin" | awk '$1 == "LOAD" { print $3; exit }')
tr ' ' '\n' <"$tmp/stacks" | grep . | sort -u >"$tmp/offsets"
while read -r off; do printf '0x%x\n' $((base + 0x$off)); done <"$tmp/offsets" >"$tmp/addrs"
# "ADDRESS FUNCTION FILE" per inlined frame, innermost first.
"$addr2line" -a -f -i -e "$bin" <"$tmp/addrs" | awk '
	/^0x[0-9a-f]+$/ { addr = $1; sub(/^0x0*/, "0x", addr); next }
	{ if (!fn) { fn = $1; next } f = $1; sub(/:.*/, "", f); print addr, fn, f; fn = "" }
' >"$tmp/frames"
paste -d ' ' "$tmp/offsets" "$tmp/addrs" >"$tmp/map"
awk -v src="$built/" -v forward="$tmp/forward" -v sites="$tmp/sites" -v map="$tmp/map" '
	BEGIN {
		while ((getline l < forward) > 0) fwd[l] = 1
		while ((getline l < sites) > 0) site[l] = 1
		while ((getline l < map) > 0) { split(l, m, " "); addr[m[1]] = m[2] }
	}
	FILENAME == ARGV[1] {
		f = $3
		if (index(f, src) != 1) next
		f = substr(f, length(src) + 1)
		if (f !~ /^src\//) next
		k = $1
		chain[k] = chain[k] (chain[k] == "" ? "" : ";") f " " $2
		next
	}
	{
		found = ""
		for (i = 1; i <= NF && found == ""; i++) {
			k = addr[$i]
			n = split(chain[k], c, ";")
			for (j = 1; j <= n && found == ""; j++) {
				if (c[j] in fwd) continue
				found = c[j]
			}
		}
		if (found == "") next
		if (found in site) print found
		else print "NOTE: an allocation from " found " (not a site: a tail call?)" > "/dev/stderr"
	}
' "$tmp/frames" "$tmp/stacks" | sort -u >"$tmp/reached"

# 4. Verdict.
failures=0
while read -r f fn; do
	k="$f $fn"
	if grep -qxF "$k" "$tmp/reached"; then
		if grep -qxF "$k" "$tmp/exclude"; then
			echo "FAIL: $k is excluded in cmake/alloc_sites.txt but the walk reaches it"
			failures=$((failures + 1))
		fi
	elif ! grep -qxF "$k" "$tmp/exclude" && ! grep -qxF "$k" "$tmp/forward" &&
		! grep -qxF "$f *" "$tmp/exclude"; then
		echo "FAIL: allocation site $k: not reached by test_alloc_failures, not excluded"
		failures=$((failures + 1))
	fi
done <"$tmp/sites"
while read -r kind f fn; do
	if [ "$fn" = "*" ] && grep -q "^$f " "$tmp/sites"; then
		continue
	fi
	# A whole file not (yet) in this tree: another change in progress may add it.
	if [ "$fn" = "*" ] && [ ! -e "$src/$f" ]; then
		echo "NOTE: cmake/alloc_sites.txt: $f is not in this tree"
		continue
	fi
	if ! grep -qxF "$f $fn" "$tmp/sites"; then
		echo "FAIL: cmake/alloc_sites.txt: $kind $f $fn is no allocation site (stale)"
		failures=$((failures + 1))
	fi
done <"$tmp/listed"
nsites=$(wc -l <"$tmp/sites")
nreached=$(wc -l <"$tmp/reached")
[ "$nreached" -gt 0 ] || {
	echo "FAIL: no allocation reached: the check looked at nothing"
	failures=$((failures + 1))
}
echo "allocation sites: $nsites; reached by the walk: $nreached;" \
	"excluded: $(wc -l <"$tmp/exclude"); forwarders: $(wc -l <"$tmp/forward")"
[ $failures -eq 0 ] && echo "ok: every allocation site is walked or excluded with a reason"
exit $((failures > 0))
