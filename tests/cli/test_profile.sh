#!/usr/bin/env bash
# vxsave profile list/show: golden JSON for every built-in profile, the golden content checked
# against the spec (arch.md §1, §2.1, §2.6), the --raw leaves read back into the same profile,
# and dumps (file, stdin, malformed) as the source.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_profile.sh
#   UPDATE_GOLDEN=1 ... regenerates tests/cli/golden/profile-*.json (then review the diff)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# json_get FILE EXPR: a Python expression over the JSON document `d`; `c` maps component
# names to their entries, `f` is the feature-flag object.
json_get() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = {e["name"]: e for e in d.get("components", [])}
f = d.get("features", {})
print(eval(sys.argv[2]))
PY
}

expect() {
	local got
	got=$(json_get "$1" "$2") || { fail "$1: cannot evaluate $2"; return; }
	[ "$got" = "$3" ] || fail "$(basename "$1"): $2 = $got, expected $3"
}

# --- profile list ----------------------------------------------------------------------------
"$VXSAVE" profile list --json >"$tmp/list.json" || fail "profile list --json failed"
expect "$tmp/list.json" "d['default']" sapphire-rapids
for name in sapphire-rapids zen4 alder-lake skylake-server; do
	expect "$tmp/list.json" "'$name' in [p['name'] for p in d['profiles']]" True
done
expect "$tmp/list.json" "all(p['description'] for p in d['profiles'])" True
profiles=$(json_get "$tmp/list.json" "' '.join(p['name'] for p in d['profiles'])")

"$VXSAVE" profile list >"$tmp/list.txt" || fail "profile list failed"
[ "$(wc -l <"$tmp/list.txt")" -eq "$(echo "$profiles" | wc -w)" ] ||
	fail "profile list: expected one line per profile"
for name in $profiles; do
	grep -q "^$name " "$tmp/list.txt" || fail "profile list: no line for $name"
done
grep -q "^sapphire-rapids .*(default)" "$tmp/list.txt" || fail "profile list: default not marked"

# --- golden files -------------------------------------------------------------------------------
for profile in $profiles; do
	out="$tmp/profile-$profile.json"
	"$VXSAVE" profile show --profile "$profile" --json >"$out" ||
		fail "profile show --profile $profile failed"
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$out" "$GOLDEN/profile-$profile.json"
		echo "updated golden/profile-$profile.json"
	elif ! diff -u "$GOLDEN/profile-$profile.json" "$out"; then
		fail "profile show --profile $profile --json differs from golden/profile-$profile.json" \
			"(UPDATE_GOLDEN=1 regenerates it; review the diff)"
	fi
done

# --- the golden content against the spec ------------------------------------------------------
spr="$GOLDEN/profile-sapphire-rapids.json"
expect "$spr" "d['vendor']" Intel
expect "$spr" "d['xcr0_supported']['mask']" 0x602e7
expect "$spr" "d['xss_supported']['mask']" 0xdd00
expect "$spr" "d['xfd_supported']['mask']" 0x40000
expect "$spr" "d['xfd_supported']['names']" "['XTILEDATA']"
expect "$spr" "(f['cet_ss'], f['cet_ibt'], f['cet_sss'], f['amx_tile'], f['xfd'])" \
	"(True, True, False, True, True)"
expect "$spr" "(c['CET_U']['size'], c['CET_U']['supervisor'], c['CET_U']['standard_offset'])" \
	"(16, True, None)"
expect "$spr" "(c['CET_S']['size'], c['CET_S']['supervisor'])" "(24, True)"
expect "$spr" "(c['AVX']['standard_offset'], c['AVX']['size'])" "(576, 256)"
expect "$spr" "c['PKRU']['standard_offset']" 2688
expect "$spr" "(c['XTILECFG']['standard_offset'], c['XTILECFG']['align64'])" "(2752, True)"
expect "$spr" "(c['XTILEDATA']['standard_offset'], c['XTILEDATA']['xfd'])" "(2816, True)"
expect "$spr" "c['XTILECFG']['xfd']" False # only TILEDATA is XFD-capable (§1.4)
expect "$spr" "(c['BNDREGS']['supported'], c['APX']['supported'])" "(False, False)"
expect "$spr" "d['xcr0_at_capture']['mask']" 0x602e7
expect "$spr" "d['mxcsr_mask']" 0x0000ffff
expect "$spr" "d['diagnostics']" "[]"

zen4="$GOLDEN/profile-zen4.json"
expect "$zen4" "d['vendor']" AMD
expect "$zen4" "d['xcr0_supported']['mask']" 0x2e7
expect "$zen4" "d['xss_supported']['mask']" 0x1800
expect "$zen4" "(f['cet_ss'], f['cet_ibt'], f['pt'])" "(True, False, False)"
expect "$zen4" "c['opmask']['standard_offset']" 832
expect "$zen4" "c['PKRU']['standard_offset']" 2432

skx="$GOLDEN/profile-skylake-server.json"
expect "$skx" "(f['mpx'], f['cet_ss'])" "(True, False)"
expect "$skx" "d['xss_supported']['names']" "['PT']"

nested="$GOLDEN/profile-nested-amx-hidden.json"
expect "$nested" "d['xcr0_supported']['mask']" 0xe7
expect "$nested" "sorted(set(x['severity'] for x in d['diagnostics']))[0] in ('error','note','warning')" True
expect "$nested" "any(x['severity'] == 'error' and x['leaf'] == '0x0000000d' for x in d['diagnostics'])" True

# --- text output -------------------------------------------------------------------------------
"$VXSAVE" profile show >"$tmp/show.txt" || fail "profile show (default) failed"
for word in "Vendor       Intel" "XCR0 supported   0x602e7" cet_ss XTILEDATA MXCSR_MASK \
	"linear address width" Diagnostics; do
	grep -q -- "$word" "$tmp/show.txt" || fail "profile show text lacks '$word'"
done
awk 'length($0) > 100 { exit 1 }' "$tmp/show.txt" || fail "profile show has lines over 100 columns"

# --- --raw reads back into the same profile ----------------------------------------------------
for profile in $profiles; do
	"$VXSAVE" profile show --profile "$profile" --raw >"$tmp/raw.txt" ||
		fail "profile show --raw --profile $profile failed"
	grep -Eq '^   0x0000000d 0x01: eax=0x[0-9a-f]{8} ebx=0x[0-9a-f]{8} ecx=0x[0-9a-f]{8} edx=0x[0-9a-f]{8}$' \
		"$tmp/raw.txt" || fail "profile show --raw: no 'cpuid -r' line for 0xD.1 ($profile)"
	sed -n '/^# Raw CPUID leaves/,$p' "$tmp/raw.txt" |
		"$VXSAVE" profile show --cpuid-dump - --json >"$tmp/back.json" ||
		fail "the --raw section of $profile does not read back"
	cmp -s "$tmp/back.json" "$tmp/profile-$profile.json" ||
		fail "$profile: --raw read back differs from the profile"
done
"$VXSAVE" profile show --json --raw >"$tmp/raw.json" || fail "profile show --json --raw failed"
expect "$tmp/raw.json" "[(r['eax'], r['ecx']) for r in d['raw_leaves'] if r['leaf'] == '0x0000000d' and r['subleaf'] == '0x00000000']" \
	"[('0x000602e7', '0x00002b00')]"

# --- dumps --------------------------------------------------------------------------------------
dump="$SRCDIR/tests/fixtures/cpuid/host-amd-zen5-kvm.txt"
if [ -f "$dump" ]; then
	"$VXSAVE" profile show --cpuid-dump "$dump" --json >"$tmp/dump.json" ||
		fail "profile show --cpuid-dump $dump failed"
	expect "$tmp/dump.json" "d['vendor']" AMD
	expect "$tmp/dump.json" "d['xcr0_supported']['mask']" 0xe7
	expect "$tmp/dump.json" "d['xss_supported']['mask']" 0x1800
	expect "$tmp/dump.json" "c['Hi16_ZMM']['standard_offset']" 1408
	rc=0
	"$VXSAVE" profile show --cpuid-dump "$dump" --cpu 99 >/dev/null 2>"$tmp/err" || rc=$?
	[ "$rc" = 1 ] || fail "--cpu 99 on a one-CPU dump: exit $rc, expected 1"
fi

# Every malformed fixture is refused with exit 1 and FILE:LINE (or FILE: for whole-file errors).
for bad in "$SRCDIR"/tests/fixtures/cpuid/malformed/*.txt; do
	[ -e "$bad" ] || continue
	rc=0
	"$VXSAVE" profile show --cpuid-dump "$bad" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = 1 ] || { fail "$(basename "$bad"): exit $rc, expected 1"; continue; }
	grep -q "^vxsave: $bad:" "$tmp/err" || fail "$(basename "$bad"): message lacks the file name: $(cat "$tmp/err")"
done

printf 'CPU 0:\n   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n   0x00000001 0x00: eax=zz\n' >"$tmp/bad.txt"
rc=0
"$VXSAVE" profile show --cpuid-dump "$tmp/bad.txt" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "malformed dump: exit $rc, expected 1"
grep -q "^vxsave: $tmp/bad.txt:3: " "$tmp/err" || fail "malformed dump: no FILE:LINE in: $(cat "$tmp/err")"
rc=0
"$VXSAVE" profile show --cpuid-dump - <"$tmp/bad.txt" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "malformed dump on stdin: exit $rc, expected 1"
grep -q "^vxsave: <stdin>:3: " "$tmp/err" || fail "malformed stdin dump: $(cat "$tmp/err")"
rc=0
"$VXSAVE" profile show --cpuid-dump "$tmp/none.txt" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "missing dump file: exit $rc, expected 1"
grep -q "none.txt" "$tmp/err" || fail "missing dump file: message does not name it"

# --- JSON profiles read back (--cpuid-dump detects the format by content) ----------------------
for profile in $profiles; do
	"$VXSAVE" profile show --cpuid-dump "$tmp/profile-$profile.json" --json >"$tmp/back.json" ||
		fail "$profile: its --json output does not read back"
	cmp -s "$tmp/back.json" "$tmp/profile-$profile.json" ||
		fail "$profile: JSON read back differs from the profile"
done
echo '{"name": "x"}' >"$tmp/noleaves.json"
rc=0
"$VXSAVE" profile show --cpuid-dump "$tmp/noleaves.json" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q 'raw_leaves' "$tmp/err" || fail "JSON without raw_leaves: exit $rc, $(cat "$tmp/err")"

# --- InstLatx64 dumps -----------------------------------------------------------------------------
"$VXSAVE" profile diff "$SRCDIR/tests/fixtures/cpuid/instlatx-zhaoxin-kh40000.txt" zhaoxin-kh40000 \
	>"$tmp/out" || fail "the InstLatx64 fixture is not identical to zhaoxin-kh40000: $(tail -2 "$tmp/out")"

# --- derived profiles: name, re-derived 0xD, --raw round trip ----------------------------------
"$VXSAVE" profile show --profile sapphire-rapids,-amx,-avx512 --json >"$tmp/derived.json" ||
	fail "--profile sapphire-rapids,-amx,-avx512 failed"
expect "$tmp/derived.json" "d['name']" "sapphire-rapids,-amx,-avx512"
expect "$tmp/derived.json" "d['xcr0_supported']['mask']" 0x207
expect "$tmp/derived.json" "(f['amx_tile'], f['avx512f'], f['avx'])" "(False, False, True)"
# 0xD.0 ECX = PKRU 2688 + 8; 0xD.1 EBX = 576 + 256 (AVX) + 8 (PKRU) + 8 (PASID) + 808 (LBR) = 1656.
expect "$tmp/derived.json" "[(r['ecx'], r['ebx']) for r in d['raw_leaves'] if r['leaf'] == '0x0000000d' and r['subleaf'] == '0x00000000']" "[('0x00000a88', '0x00000a88')]"
expect "$tmp/derived.json" "[r['ebx'] for r in d['raw_leaves'] if r['leaf'] == '0x0000000d' and r['subleaf'] == '0x00000001']" "['0x00000678']"
expect "$tmp/derived.json" "[x for x in d['diagnostics'] if x['severity'] == 'error']" "[]"
for spec in sapphire-rapids,-amx,-avx512 zen4,-cet granite-rapids,-xsaves alder-lake,-xsave; do
	"$VXSAVE" profile show --profile "$spec" --json >"$tmp/d.json" || fail "--profile $spec failed"
	"$VXSAVE" profile show --profile "$spec" --raw | sed -n '/^# Raw CPUID leaves/,$p' |
		"$VXSAVE" profile show --cpuid-dump - --json >"$tmp/d-back.json" ||
		fail "$spec: --raw does not read back"
	cmp -s "$tmp/d.json" "$tmp/d-back.json" || fail "$spec: --raw read back differs"
done
rc=0
"$VXSAVE" profile show --profile zen3,+avx512 >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q 'cannot invent' "$tmp/err" || fail "zen3,+avx512: exit $rc, $(cat "$tmp/err")"
rc=0
"$VXSAVE" profile show --profile sapphire-rapids,-nosuch >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q "unknown feature 'nosuch'" "$tmp/err" || fail "-nosuch: exit $rc"

# --- profile diff: verdicts, exit status, symmetry ------------------------------------------------
diff_verdict() { "$VXSAVE" profile diff "$1" "$2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])'; }
rc=0; "$VXSAVE" profile diff zen4 zen4 >/dev/null || rc=$?
[ "$rc" = 0 ] || fail "diff zen4 zen4: exit $rc, expected 0"
rc=0; "$VXSAVE" profile diff sapphire-rapids sapphire-rapids,-amx >"$tmp/out" || rc=$?
[ "$rc" = 1 ] || fail "diff base derived: exit $rc, expected 1"
grep -q '^Verdict: compatible superset' "$tmp/out" || fail "diff base derived: $(grep Verdict "$tmp/out")"
awk 'length($0) > 100 { exit 1 }' "$tmp/out" || fail "profile diff has lines over 100 columns"
[ "$(diff_verdict sapphire-rapids,-amx sapphire-rapids)" = "compatible subset" ] ||
	fail "diff derived base is not 'compatible subset'"
[ "$(diff_verdict zen4 sapphire-rapids)" = differs ] || fail "zen4 vs SPR should differ"
rc=0; "$VXSAVE" profile diff zen4 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "diff with one profile: exit $rc, expected 2"
rc=0; "$VXSAVE" profile diff zen4 nosuch >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "diff with an unknown profile: exit $rc, expected 1"
"$VXSAVE" profile diff "$tmp/profile-zen5.json" zen5 >/dev/null || fail "a JSON profile differs from itself"

# --- --leaf and --strict ----------------------------------------------------------------------------
"$VXSAVE" profile show --profile granite-rapids --leaf 0xd.1 >"$tmp/leaf.txt" || fail "--leaf 0xd.1 failed"
grep -Eq '^  EBX\[31:0\] +10880 ' "$tmp/leaf.txt" || fail "--leaf 0xd.1: no EBX 10880 line"
grep -Eq '^  EAX\[3\] +1 .*xsaves' "$tmp/leaf.txt" || fail "--leaf 0xd.1: xsaves not named"
"$VXSAVE" profile show --profile zen5 --leaf 1 --json >"$tmp/leaf.json" || fail "--leaf 1 --json failed"
expect "$tmp/leaf.json" "[x['value'] for x in d['fields'] if x['name'] == 'extended family']" "[11]"
rc=0; "$VXSAVE" profile show --leaf 0x99 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--leaf 0x99 (not kept): exit $rc, expected 2"
rc=0; "$VXSAVE" profile show --profile zen5 >"$tmp/zen5.txt" 2>"$tmp/zen5.err" || rc=$?
grep -q '^CPU          AMD EPYC 9655 96-Core Processor, family 0x1a model 0x2 stepping 1' "$tmp/zen5.txt" ||
	fail "profile show lacks the brand/family line (exit $rc): $(head -c 300 "$tmp/zen5.err")"
"$VXSAVE" profile show --strict >/dev/null || fail "--strict on sapphire-rapids failed"
rc=0; "$VXSAVE" profile show --profile nested-amx-hidden --strict >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "--strict on nested-amx-hidden: exit $rc, expected 1"
"$VXSAVE" layout --strict >/dev/null || fail "layout --strict on sapphire-rapids failed"
rc=0; "$VXSAVE" layout --profile nested-amx-hidden --strict >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "layout --strict on nested-amx-hidden: exit $rc, expected 1"

# --- the host (skipped parts where it cannot be read) ---------------------------------------------
if "$VXSAVE" profile show --host --json >"$tmp/host.json" 2>"$tmp/err"; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/host.json" ||
		fail "profile show --host --json is not JSON"
else
	echo "note: --host not readable here: $(cat "$tmp/err")"
fi

finish test_profile
