#!/usr/bin/env bash
# vxsave layout: golden JSON for every built-in profile, the golden content checked against
# offsets and sizes taken from the spec (arch.md §2.1, §2.4, §2.6, §10), compacted layouts for
# given masks, refused masks, and the SVG drawing.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_layout.sh
#   UPDATE_GOLDEN=1 ... regenerates tests/cli/golden/layout-*.json (then review the diff)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# expect FILE EXPR VALUE: EXPR over FILE must print VALUE.
expect() {
	local got
	got=$(json_get "$1" "$2") || { fail "$1: cannot evaluate $2"; return; }
	[ "$got" = "$3" ] || fail "$(basename "$1"): $2 = $got, expected $3"
}

# --- golden files, one per built-in profile ----------------------------------------------
profiles=$("$VXSAVE" profile list --json | python3 -c \
	'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["profiles"]))')
[ -n "$profiles" ] || fail "profile list returned no profiles"

for profile in $profiles; do
	out="$tmp/layout-$profile.json"
	"$VXSAVE" layout --profile "$profile" --json >"$out" || fail "layout --profile $profile failed"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out" ||
		fail "layout --profile $profile: output is not JSON"
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$out" "$GOLDEN/layout-$profile.json"
		echo "updated golden/layout-$profile.json"
	elif ! diff -u "$GOLDEN/layout-$profile.json" "$out"; then
		fail "layout --profile $profile --json differs from golden/layout-$profile.json" \
			"(UPDATE_GOLDEN=1 regenerates it; review the diff)"
	fi
done

# --- the golden content against the spec, not against itself ----------------------------
spr="$GOLDEN/layout-sapphire-rapids.json"
expect "$spr" "c['AVX']['standard_offset']" 576
expect "$spr" "c['AVX']['size']" 256
expect "$spr" "c['PKRU']['standard_offset']" 2688
expect "$spr" "c['XTILECFG']['standard_offset']" 2752
expect "$spr" "c['XTILEDATA']['standard_offset']" 2816
expect "$spr" "c['XTILEDATA']['size']" 8192
expect "$spr" "c['XTILEDATA']['xfd']" True
expect "$spr" "c['XTILECFG']['align64']" True
expect "$spr" "c['CET_S']['standard_offset']" None
expect "$spr" "c['CET_S']['size']" 24
expect "$spr" "c['CET_U']['size']" 16
expect "$spr" "d['standard_size']" 11008
expect "$spr" "d['cpuid']['max_standard_size']['reported']" 11008
expect "$spr" "d['features']['mask']" 0x6dfe7

zen4="$GOLDEN/layout-zen4.json"
expect "$zen4" "d['vendor']" AMD
expect "$zen4" "c['opmask']['standard_offset']" 832
expect "$zen4" "c['ZMM_Hi256']['standard_offset']" 896
expect "$zen4" "c['Hi16_ZMM']['standard_offset']" 1408
expect "$zen4" "c['PKRU']['standard_offset']" 2432
expect "$zen4" "d['standard_size']" 2440

skx="$GOLDEN/layout-skylake-server.json"
expect "$skx" "c['BNDREGS']['standard_offset']" 960
expect "$skx" "c['BNDCSR']['standard_offset']" 1024
expect "$skx" "d['standard_size']" 2696

adl="$GOLDEN/layout-alder-lake.json"
expect "$adl" "c['PKRU']['standard_offset']" 2688 # Intel keeps PKRU there without AVX-512
expect "$adl" "d['standard_size']" 2696

apx="$GOLDEN/layout-future-intel-apx.json"
expect "$apx" "c['APX']['standard_offset']" 960
expect "$apx" "d['standard_size']" 11008 # not "offset of the highest bit"

nested="$GOLDEN/layout-nested-amx-hidden.json"
expect "$nested" "d['cpuid']['max_standard_size']['matches']" False
expect "$nested" "any(x['severity'] == 'error' for x in d['diagnostics'])" True

# --- compacted layouts for given masks (arch.md §2.4 worked examples) --------------------
# layout_for NAME PROFILE FEATURES: write the JSON to $tmp/NAME.json
layout_for() {
	"$VXSAVE" layout --profile "$2" --features "$3" --json >"$tmp/$1.json" ||
		fail "layout --profile $2 --features $3 failed"
}

layout_for m2e7 sapphire-rapids 0x2e7
expect "$tmp/m2e7.json" "c['opmask']['compacted_offset']" 832
expect "$tmp/m2e7.json" "c['ZMM_Hi256']['compacted_offset']" 896
expect "$tmp/m2e7.json" "c['Hi16_ZMM']['compacted_offset']" 1408
expect "$tmp/m2e7.json" "c['PKRU']['compacted_offset']" 2432
expect "$tmp/m2e7.json" "d['compacted_size']" 2440
expect "$tmp/m2e7.json" "d['standard_size']" 2696

layout_for names sapphire-rapids x87,sse,avx,pkru
expect "$tmp/names.json" "d['features']['mask']" 0x207
expect "$tmp/names.json" "c['PKRU']['compacted_offset']" 832
expect "$tmp/names.json" "d['compacted_size']" 840

layout_for cet sapphire-rapids 0x1a07
expect "$tmp/cet.json" "c['PKRU']['compacted_offset']" 832
expect "$tmp/cet.json" "c['CET_U']['compacted_offset']" 840
expect "$tmp/cet.json" "c['CET_S']['compacted_offset']" 856
expect "$tmp/cet.json" "d['compacted_size']" 880

layout_for cetonly sapphire-rapids 0x1803
expect "$tmp/cetonly.json" "c['CET_U']['compacted_offset']" 576
expect "$tmp/cetonly.json" "c['CET_S']['compacted_offset']" 592
expect "$tmp/cetonly.json" "d['compacted_size']" 616

layout_for amx sapphire-rapids 0x60207
expect "$tmp/amx.json" "c['XTILECFG']['compacted_offset']" 896
expect "$tmp/amx.json" "c['XTILECFG']['padding_before']" 56
expect "$tmp/amx.json" "c['XTILEDATA']['compacted_offset']" 960
expect "$tmp/amx.json" "d['compacted_size']" 9152

layout_for amxonly sapphire-rapids 0x60003
expect "$tmp/amxonly.json" "c['XTILECFG']['compacted_offset']" 576
expect "$tmp/amxonly.json" "c['XTILEDATA']['compacted_offset']" 640
expect "$tmp/amxonly.json" "d['compacted_size']" 8832

layout_for zen4cet zen4 0x1ae7
expect "$tmp/zen4cet.json" "c['CET_U']['compacted_offset']" 2440
expect "$tmp/zen4cet.json" "c['CET_S']['compacted_offset']" 2456
expect "$tmp/zen4cet.json" "d['compacted_size']" 2480

# Compaction ignores standard offsets: the same mask packs the same on Intel and AMD (§2.6).
layout_for zen4m zen4 0x2e7
expect "$tmp/zen4m.json" "d['compacted_size']" 2440

# --- refused masks: exit 1 and the reason names bits and rule ----------------------------
# refuse FEATURES PROFILE PATTERN
refuse() {
	local rc=0
	"$VXSAVE" layout --profile "$2" --features "$1" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = 1 ] || fail "--features $1 on $2: exit $rc, expected 1"
	grep -q '^vxsave: ' "$tmp/err" || fail "--features $1: message does not start with 'vxsave: '"
	grep -Eq "$3" "$tmp/err" || fail "--features $1: message does not match /$3/: $(cat "$tmp/err")"
	[ ! -s "$tmp/out" ] || fail "--features $1: printed a layout although refused"
}
refuse 0xe3 sapphire-rapids 'AVX.*(bit 2|bits 0x4)|bits 0x4.*AVX'
refuse 0x2 sapphire-rapids 'x87'
refuse 0x80007 sapphire-rapids 'APX|0x80000|bit 19'
refuse 0x20007 sapphire-rapids 'XTILE|17|18'
refuse 0x100 zen4 'vxsave: '
refuse 0x103 zen4 'PT'
refuse 0x207 nested-amx-hidden 'PKRU|0x200'
refuse bogus sapphire-rapids 'bogus'
refuse avx,bogus2 sapphire-rapids 'bogus2'

# --- the --features grammar (docs/cli.md "Masks"): one parser for options and scripts --------
# same_mask EXPECTED FEATURES...: each spelling lays out the mask EXPECTED on sapphire-rapids.
same_mask() {
	local want=$1 text
	shift
	for text in "$@"; do
		"$VXSAVE" layout --features "$text" --json >"$tmp/grammar.json" 2>"$tmp/err" ||
			{ fail "--features '$text' refused: $(cat "$tmp/err")"; continue; }
		expect "$tmp/grammar.json" "d['features']['mask']" "$want"
	done
}
same_mask 0x6dfe7 all ALL ' all '
same_mask 0x203 ' x87 , sse , pkru ' 'x87|sse|pku' 'X87,SSE,PKRU' 'legacy,PKRU' 'x87,xmm,0x200'
same_mask 0x1a03 'legacy,pku,cet' 'legacy,pkru,CET_U,CET_S' 'legacy,pkru,cet_ss' 'legacy,bit9,bit11-12'
same_mask 0x602e7 'legacy,avx,avx512f,pkru,amx_tile' 'x87,sse,ymm,avx512,pkru,tilecfg,tiledata'
# What the tool prints reads back: the names of a layout, joined by '|'.
"$VXSAVE" layout --features 0x6dfe7 --json >"$tmp/all.json"
names=$(json_get "$tmp/all.json" "'|'.join(d['features']['names'])")
same_mask 0x6dfe7 "$names"
# Empty elements are refused the same way wherever they are, naming where.
refuse 'x87,,sse' sapphire-rapids "empty name after 'x87'"
refuse 'x87,sse,' sapphire-rapids "empty name after 'sse'"
refuse ',x87' sapphire-rapids 'empty name at the start'
refuse ' ' sapphire-rapids 'empty component mask'
refuse none sapphire-rapids 'x87 is mandatory'
refuse 'x87,sse,avx51' sapphire-rapids "did you mean 'avx512'"
refuse 'x87,sse,opmsk' sapphire-rapids "did you mean 'opmask'"
refuse 'x87,xsavec' sapphire-rapids 'CPUID flag that enables no state component'
refuse 'legacy,bit20' sapphire-rapids 'bit20.*reserved'
# A mask naming many bits: ranges, the whole cause kept, nothing cut mid-word.
refuse 0xfffffffffffe02e7 sapphire-rapids 'APX\|bit20-61\|LWP\|bit63\) are reserved: not in CPUID'

# --- the default mask is checked too ------------------------------------------------------------
grep -v ' 0x0000000d ' "$SRCDIR/profiles/zen4.cpuid" >"$tmp/no-0xd.cpuid"
rc=0
"$VXSAVE" layout --cpuid-dump "$tmp/no-0xd.cpuid" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "a dump with an empty leaf 0xD: exit $rc, expected 1"
grep -q 'zen4 enumerates no XSAVE features: CPUID.(0xD,0) EDX:EAX is empty' "$tmp/err" ||
	fail "empty leaf 0xD: message: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "empty leaf 0xD: printed a layout"

# --- an unnamed profile is named by its file, never '' -------------------------------------------
grep -v '^# name:' "$SRCDIR/profiles/zen4.cpuid" >"$tmp/noname.cpuid"
rc=0
"$VXSAVE" layout --cpuid-dump "$tmp/noname.cpuid" --features x87,avx 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "x87,avx on an unnamed profile: exit $rc, expected 1"
grep -q "not valid on (unnamed, from $tmp/noname.cpuid)" "$tmp/err" ||
	fail "unnamed profile: message: $(cat "$tmp/err")"
if grep -q "''" "$tmp/err"; then fail "unnamed profile printed as ''"; fi

# --- --cpu N: the block labelled "CPU N:", else the Nth; a note says which when they differ ------
{
	echo 'CPU 2:'
	grep '^   0x' "$SRCDIR/profiles/zen4.cpuid"
	echo 'CPU 5:'
	grep '^   0x' "$SRCDIR/profiles/sapphire-rapids.cpuid"
} >"$tmp/two.cpuid"
# pick CPU VENDOR NOTE_PATTERN: --cpu CPU takes the block of VENDOR; stderr matches NOTE_PATTERN.
pick() {
	"$VXSAVE" layout --cpuid-dump "$tmp/two.cpuid" --cpu "$1" --json >"$tmp/pick.json" \
		2>"$tmp/err" || { fail "--cpu $1: $(cat "$tmp/err")"; return; }
	expect "$tmp/pick.json" "d['vendor']" "$2"
	grep -Eq -- "$3" "$tmp/err" || fail "--cpu $1: note does not match /$3/: $(cat "$tmp/err")"
}
pick 5 Intel "^vxsave: note: .*--cpu 5 took the block labelled 'CPU 5:', which is block 1"
pick 2 AMD "--cpu 2 took the block labelled 'CPU 2:', which is block 0"
pick 1 Intel "no block is labelled 'CPU 1:'; --cpu 1 took block 1 .*labelled 'CPU 5:'"
pick 0 AMD "no block is labelled 'CPU 0:'; --cpu 0 took block 0"
sed -e 's/^CPU 2:/CPU 0:/' -e 's/^CPU 5:/CPU 1:/' "$tmp/two.cpuid" >"$tmp/plain.cpuid"
"$VXSAVE" layout --cpuid-dump "$tmp/plain.cpuid" --cpu 1 --json >"$tmp/pick.json" 2>"$tmp/err" ||
	fail "--cpu 1 of a plainly numbered dump failed"
expect "$tmp/pick.json" "d['vendor']" Intel
[ ! -s "$tmp/err" ] || fail "--cpu 1 where label and position agree printed: $(cat "$tmp/err")"
rc=0
"$VXSAVE" layout --cpuid-dump "$tmp/two.cpuid" --cpu 7 >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "--cpu 7 of a two-block dump: exit $rc, expected 1"

# --- text from a dump is made valid UTF-8 once, the same for text, JSON and SVG -------------------
{
	printf '# name: bad\xff\xc3(\xed\xa0\x80name\x01\n'
	grep -v '^# name:' "$SRCDIR/profiles/zen4.cpuid"
} >"$tmp/utf8.cpuid"
"$VXSAVE" layout --cpuid-dump "$tmp/utf8.cpuid" --json --svg "$tmp/utf8.svg" >"$tmp/utf8.json" ||
	fail "layout of a dump with an invalid UTF-8 name failed"
expect "$tmp/utf8.json" "ascii(d['profile'])" "'bad\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffdname\\ufffd'"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$tmp/utf8.svg" ||
	fail "SVG of a profile with an invalid UTF-8 name is not valid XML"
"$VXSAVE" layout --cpuid-dump "$tmp/utf8.cpuid" >"$tmp/utf8.txt" || fail "text layout failed"
python3 -c 'import sys; open(sys.argv[1], encoding="utf-8").read()' "$tmp/utf8.txt" ||
	fail "text layout of an invalid UTF-8 name is not UTF-8"

# --- JSON: absent offsets are null, CPUID inputs are hex strings, the schema is versioned -------
"$VXSAVE" layout --profile zen4 --features 0x1ae7 --json >"$tmp/z.json"
expect "$tmp/z.json" "d['schema_version']" 2
expect "$tmp/z.json" "c['CET_U']['standard_offset']" None
expect "$tmp/z.json" "list(d)[0]" schema_version
"$VXSAVE" profile show --profile zen4 --json >"$tmp/zp.json"
expect "$tmp/zp.json" "[e['standard_offset'] for e in d['components'] if e['name'] == 'BNDREGS']" \
	"[None]"
"$VXSAVE" profile show --profile nested-amx-hidden --json >"$tmp/np.json"
expect "$tmp/np.json" "sorted({type(x[k]).__name__ for x in d['diagnostics'] for k in ('leaf', 'subleaf')})" \
	"['str']"

# --- text output (what `make run` shows) -------------------------------------------------
"$VXSAVE" layout >"$tmp/text" || fail "vxsave layout (default profile) failed"
for word in sapphire-rapids XTILEDATA CET_U CET_S 11008 "standard size" "compacted size"; do
	grep -q -- "$word" "$tmp/text" || fail "vxsave layout text lacks '$word'"
done
awk 'length($0) > 100 { exit 1 }' "$tmp/text" || fail "vxsave layout has lines over 100 columns"
if grep -q ' $' "$tmp/text"; then fail "vxsave layout has trailing blanks"; fi
"$VXSAVE" layout --profile nested-amx-hidden >"$tmp/nested" || fail "layout nested failed"
grep -q MISMATCH "$tmp/nested" || fail "nested-amx-hidden: the 0xD.0 ECX mismatch is not marked"

# --- a cpuid dump as the source -----------------------------------------------------------
dump="$SRCDIR/tests/fixtures/cpuid/host-amd-zen5-kvm.txt"
if [ -f "$dump" ]; then
	"$VXSAVE" layout --cpuid-dump "$dump" --json >"$tmp/dump.json" || fail "layout --cpuid-dump failed"
	"$VXSAVE" layout --cpuid-dump - --json <"$dump" >"$tmp/stdin.json" ||
		fail "layout --cpuid-dump - failed"
	cmp -s "$tmp/dump.json" "$tmp/stdin.json" || fail "--cpuid-dump FILE and - disagree"
fi

# --- SVG -----------------------------------------------------------------------------------
# check_svg PROFILE [FEATURES]: the file parses as XML and labels every component of the layout.
check_svg() {
	local args=(--profile "$1") svg="$tmp/$1.svg"
	[ $# -gt 1 ] && args+=(--features "$2")
	"$VXSAVE" layout "${args[@]}" --svg "$svg" --json >"$tmp/svg.json" ||
		{ fail "layout ${args[*]} --svg failed"; return; }
	python3 - "$svg" "$tmp/svg.json" <<'PY' || fail "SVG for $1 ${2:-}: see above"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", "root element is not <svg>"
texts = ["".join(t.itertext()) for t in root.iter(ns + "text")]
layout = json.load(open(sys.argv[2]))
missing = [c["name"] for c in layout["components"]
           if not any(t.split()[0:1] == [c["name"]] for t in texts if t.strip())]
if missing:
    print("SVG has no label for", missing, file=sys.stderr)
    sys.exit(1)
if not any(str(layout["standard_size"]) in t for t in texts):
    print("SVG does not show the standard size", file=sys.stderr)
    sys.exit(1)
PY
}
for profile in $profiles; do
	check_svg "$profile"
done
check_svg sapphire-rapids 0x60207

# --svg - writes the drawing to standard output (and no file named "-").
(cd "$tmp" && "$VXSAVE" layout --svg - >"$tmp/stdout.svg") || fail "layout --svg - failed"
[ ! -e "$tmp/-" ] || fail "--svg - created a file named '-'"
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$tmp/stdout.svg" ||
	fail "--svg - did not write one SVG document to standard output"
rc=0
"$VXSAVE" layout --svg - --json >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "--svg - with --json: exit $rc, expected 2"

rc=0
"$VXSAVE" layout --svg "$tmp/no/such/dir/x.svg" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "--svg to an unwritable path: exit $rc, expected 1"
grep -q "^vxsave: .*no/such/dir/x.svg" "$tmp/err" || fail "--svg error does not name the file"

finish test_layout
