#!/usr/bin/env bash
# Crafted leaf 0xD on the command line (docs/profiles.md "Bounds"): dumps made from the
# sapphire-rapids profile with one 0xD register set to 0, 1, 0xffffffff or an edge value.  Every
# command on each (layout as text, JSON and SVG; profile show as text and JSON; cpu with a short
# script) ends within its timeout, without a sanitizer report, with exit 0 or 1; a refusal names
# the register; a layout that is printed is consistent (the compacted size covers every
# component's offset + size, the standard size every user component's).  Then the SVG drawing:
# legend colours, scales, and no text outside the canvas.  And a CPU without XSAVEC/XSAVES
# shows its compacted size as "not enumerated", not as a MISMATCH.
#
# The issue's cases always run; CRAFTED_SAMPLES (default 24) more are drawn at random with
# CRAFTED_SEED (printed; set it to replay a run).  The unit test test_crafted_profiles walks the
# whole corpus through the library; this one samples the CLI, which is slower under ASan.
#
#   VXSAVE=build/tools/vxsave/vxsave SRCDIR=. bash tests/cli/test_crafted.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

seed=${CRAFTED_SEED:-20261203}
samples=${CRAFTED_SAMPLES:-24}
base="$SRCDIR/profiles/sapphire-rapids.cpuid"
echo "test_crafted: seed $seed, $samples sampled dumps (CRAFTED_SEED=$seed replays this run)"

# The variants: the issue's cases, then the sample.  One Python run writes every dump
# ($tmp/vN.cpuid) and a list "N SUBLEAF REG VALUE XCR0-MASK XSS-MASK".
python3 - "$seed" "$samples" "$base" "$tmp" >"$tmp/variants" <<'PY'
import random, re, sys
seed, samples, base, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
cases = [
    (0x12, "eax", 0xffffffff),  # 4 GiB tile data
    (0x12, "eax", 0x80000000),  # 2 GiB tile data: refused, never allocated
    (0x9, "ebx", 0xfffffffc),   # PKRU offset + size wraps in 32 bits
    (0x0, "ecx", 0x2710),       # 0xD.0 ECX smaller than the components need
    (0x1, "eax", 0x1),          # no XSAVEC, no XSAVES
    (0xf, "eax", 0x32b),        # an LBR size that is not a multiple of 8 (loads)
]
rng = random.Random(seed)
subleaves = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17, 18, 19, 62]
values = [0, 1, 2, 3, 0xffffffff, 0xfffffffc, 0x80000000, 0x7fffffff, 0xffffffc1, 575, 576,
          0x100000, 0x100001, 0xffdc0, 0x2b00, 0x2b01, 0x2af8, 0xb01, 13]
for _ in range(samples):
    cases.append((rng.choice(subleaves), rng.choice(["eax", "ebx", "ecx", "edx"]),
                  rng.choice(values)))
text = open(base).read()
text = re.sub(r"(?m)^# name: .*$", "# name: crafted", text)
for n, (subleaf, reg, value) in enumerate(cases):
    lines, done = text.split("\n"), False
    pattern = re.compile(r"^(\s*0x0000000d 0x%02x: )(.*)$" % subleaf)
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if m:
            lines[i] = m.group(1) + re.sub(reg + r"=0x[0-9a-f]+", "%s=0x%08x" % (reg, value),
                                           m.group(2))
            done = True
    if not done:  # an absent sub-leaf: add it after the last 0xD line
        regs = dict.fromkeys(("eax", "ebx", "ecx", "edx"), 0)
        regs[reg] = value
        last = max(i for i, l in enumerate(lines) if re.match(r"^\s*0x0000000d ", l))
        lines.insert(last + 1, "   0x0000000d 0x%02x: " % subleaf +
                     " ".join("%s=0x%08x" % (r, regs[r]) for r in ("eax", "ebx", "ecx", "edx")))
    leaf = {}
    for l in lines:
        m = re.match(r"^\s*0x0000000d 0x(\w+): eax=(\w+) ebx=(\w+) ecx=(\w+) edx=(\w+)", l)
        if m:
            leaf[int(m.group(1), 16)] = [int(v, 16) for v in m.groups()[1:]]
    xcr0 = leaf[0][3] << 32 | leaf[0][0]
    xss = leaf[1][3] << 32 | leaf[1][2]
    open("%s/v%d.cpuid" % (out, n), "w").write("\n".join(lines))
    print(n, "0x%x" % subleaf, reg, "0x%x" % value, "0x%x" % xcr0, "0x%x" % xss)
PY

# vx NAME ARGS...: run vxsave with a timeout; exit code in $rc, output in $tmp/NAME.{out,err}.
# A hang, a crash, a sanitizer report or an exit code other than 0/1 is a failure.
vx() {
	local name=$1
	shift
	rc=0
	timeout 20 "$VXSAVE" "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	if [ "$rc" = 124 ]; then
		fail "$label: vxsave $* did not finish in 20 s"
	elif [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		fail "$label: vxsave $* exited $rc: $(head -c 600 "$tmp/$name.err")"
	fi
	if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$tmp/$name.err"; then
		fail "$label: vxsave $*: sanitizer report: $(grep -m3 -E "Sanitizer|runtime error" \
			"$tmp/$name.err")"
	fi
}

# A refusal says why: a bound names the register; a mask the rules refuse names its bits.
check_refusal() {
	grep -qE 'CPUID\.\(0xD,(0x[0-9a-f]+|[0-9]+)\)\.(E[ABCD]X|EBX \+ EAX)|is not valid on|enumerates no XSAVE' \
		"$tmp/$1.err" || fail "$label: $1 refused without naming why: $(head -c 400 "$tmp/$1.err")"
}

count=0
: >"$tmp/printed"
while read -r n subleaf reg value xcr0 xss; do
	label="CPUID.(0xD,$subleaf).${reg^^}=$value"
	dump="$tmp/v$n.cpuid"
	count=$((count + 1))

	vx show profile show --cpuid-dump "$dump"
	[ "$rc" = 0 ] || fail "$label: profile show refused the dump: $(head -c 300 "$tmp/show.err")"
	vx "v$n.profile" profile show --cpuid-dump "$dump" --json
	[ "$rc" = 0 ] || fail "$label: profile show --json refused the dump"

	vx layout layout --cpuid-dump "$dump"
	layout_rc=$rc
	if [ "$rc" = 1 ]; then
		check_refusal layout
		# A bound that stops the layout shows up as an error in the profile's diagnostics.
		if grep -q "layout: CPUID.(0xD," "$tmp/layout.err"; then
			grep -q "error .*CPUID.(0xD," "$tmp/show.out" ||
				fail "$label: profile show does not report the bound layout refused"
		fi
	fi
	vx "v$n.layout" layout --cpuid-dump "$dump" --json
	[ "$rc" = "$layout_rc" ] || fail "$label: layout --json exit $rc, layout exit $layout_rc"
	vx svg layout --cpuid-dump "$dump" --svg "$tmp/v$n.svg"
	[ "$rc" = "$layout_rc" ] || fail "$label: layout --svg exit $rc, layout exit $layout_rc"
	# Printed layouts and drawings are checked together below, in one Python run.
	[ "$layout_rc" = 0 ] && echo "$n $label" >>"$tmp/printed"

	vx cpu cpu --cpuid-dump "$dump" -e "buffer a 1048576; xsetbv 0 $xcr0; wrmsr ia32_xss $xss; \
use $xcr0; xsave64 a all; xrstor64 a all; xsavec64 a all; xrstor64 a all; xsaves64 a all; \
xrstors64 a all; print a 0 64"
	if [ "$rc" = 1 ]; then
		grep -q "cannot create the model processor: CPUID.(0xD," "$tmp/cpu.err" ||
			fail "$label: cpu failed without naming the register: $(head -c 300 "$tmp/cpu.err")"
		[ "$layout_rc" = 1 ] || fail "$label: cpu refused a profile layout accepted"
	elif [ "$layout_rc" = 1 ] && grep -q "layout: CPUID.(0xD," "$tmp/layout.err"; then
		fail "$label: cpu accepted a profile whose layout was refused as out of bounds"
	fi
done <"$tmp/variants"

# Every printed layout: the totals cover every component, and the SVG is well-formed.
python3 - "$tmp" <"$tmp/printed" 2>"$tmp/totals.err" <<'PY' || fail "$(cat "$tmp/totals.err")"
import json, sys, xml.dom.minidom
bad = []
for line in sys.stdin:
    n, label = line.split(" ", 1)
    label = label.strip()
    d = json.load(open("%s/v%s.layout.out" % (sys.argv[1], n)))
    for c in d["components"]:
        if c["id"] >= 2 and c["compacted_offset"] + c["size"] > d["compacted_size"]:
            bad.append("%s: %s ends at %d past the compacted size %d" %
                       (label, c["name"], c["compacted_offset"] + c["size"], d["compacted_size"]))
        so = c["standard_offset"]
        if so is not None and so + c["size"] > d["standard_size"]:
            bad.append("%s: %s ends at %d past the standard size %d" %
                       (label, c["name"], so + c["size"], d["standard_size"]))
    try:
        xml.dom.minidom.parse("%s/v%s.svg" % (sys.argv[1], n))
    except Exception as e:
        bad.append("%s: the SVG is not well-formed: %s" % (label, e))
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# The issue's repro, exactly: a 4 GiB tile and a wrapped PKRU offset are refused by name.
label="issue repro"
vx layout layout --cpuid-dump "$tmp/v0.cpuid"
grep -q "CPUID.(0xD,0x12).EAX = 0xffffffff" "$tmp/layout.err" ||
	fail "4 GiB tile: layout did not name CPUID.(0xD,0x12).EAX: $(cat "$tmp/layout.err")"
vx cpu cpu --cpuid-dump "$tmp/v2.cpuid" -e 'buffer a 4096'
grep -q "CPUID.(0xD,0x9).EBX = 0xfffffffc" "$tmp/cpu.err" ||
	fail "PKRU offset: cpu did not name CPUID.(0xD,0x9).EBX: $(cat "$tmp/cpu.err")"

# A CPU without XSAVEC and XSAVES: 0xD.1 EBX is "not enumerated", never a MISMATCH.
label="no XSAVEC/XSAVES"
vx layout layout --cpuid-dump "$tmp/v4.cpuid"
grep -q "CPUID.(0xD,1).EBX .*not enumerated" "$tmp/layout.out" ||
	fail "no XSAVEC: 0xD.1 EBX is not shown as 'not enumerated'"
grep -q "MISMATCH" "$tmp/layout.out" && fail "no XSAVEC: a MISMATCH is shown"
[ "$(json_get "$tmp/v4.layout.out" "d['cpuid']['enabled_compacted_size']['matches']")" = None ] ||
	fail "no XSAVEC: JSON enabled_compacted_size.matches is not null"

# --- the SVG drawing -------------------------------------------------------------------------
label="svg"
# svg_check FILE: every legend swatch has the colour of its component's boxes, every text
# starts inside the canvas and its estimated end too (the widths svg.c assumes, checked loosely).
svg_check() {
	python3 - "$1" 2>"$tmp/svgcheck.err" <<'PY' || fail "$(basename "$1"): $(cat "$tmp/svgcheck.err")"
import re, sys, xml.dom.minidom as m
doc = m.parse(sys.argv[1])
svg = doc.documentElement
width = float(svg.getAttribute("width"))
errors = []
rects = doc.getElementsByTagName("rect")
texts = doc.getElementsByTagName("text")
def text_of(t):
    return "".join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE)
# Box colours by component name: a text inside a box starts 6 px right of the bar.
box_fill = {}
for t in texts:
    name = text_of(t).split("  ")[0].split(" @")[0]
    for r in rects:
        if r.getAttribute("fill") in ("none", "") or not r.getAttribute("height"):
            continue
        x, y = float(r.getAttribute("x") or 0), float(r.getAttribute("y") or 0)
        w, h = float(r.getAttribute("width").rstrip("%") or 0), float(r.getAttribute("height").rstrip("%") or 0)
        tx, ty = float(t.getAttribute("x")), float(t.getAttribute("y"))
        if x + 5 <= tx <= x + 7 and y <= ty <= y + h and w > 100:
            box_fill.setdefault(name, set()).add(r.getAttribute("fill"))
# Legend entries: an 18x12 swatch followed by its label 24 px to the right.
for r in rects:
    if r.getAttribute("width") != "18" or r.getAttribute("fill") == "none":
        continue
    x, y = float(r.getAttribute("x")), float(r.getAttribute("y"))
    for t in texts:
        if abs(float(t.getAttribute("x")) - (x + 24)) < 0.5 and abs(float(t.getAttribute("y")) - (y + 10)) < 0.5:
            name = text_of(t)
            if name in box_fill and r.getAttribute("fill") not in box_fill[name]:
                errors.append("legend %s is %s, its boxes %s" % (name, r.getAttribute("fill"), box_fill[name]))
for t in texts:
    x = float(t.getAttribute("x"))
    if t.getAttribute("text-anchor") == "end":
        continue
    size = float(t.getAttribute("font-size") or 11)
    if x < 0 or x + 0.55 * size * len(text_of(t)) > width:
        errors.append("text '%s' at x=%.0f runs past the canvas (%.0f)" % (text_of(t), x, width))
if not box_fill:
    errors.append("no labelled boxes found")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}
vx spr layout --svg "$tmp/spr.svg"
svg_check "$tmp/spr.svg"
grep -q "not to scale" "$tmp/spr.svg" || fail "sapphire-rapids: the default scale breaks nothing"
vx sprlin layout --svg "$tmp/spr-linear.svg" --svg-scale linear
svg_check "$tmp/spr-linear.svg"
grep -q "not to scale" "$tmp/spr-linear.svg" && fail "--svg-scale linear shortened something"
vx amx layout --features 0x60207 --svg "$tmp/amx.svg"
svg_check "$tmp/amx.svg"
# Zen 4 has nothing to shorten: both scales draw the same picture.
vx zen layout --profile zen4 --svg "$tmp/zen4.svg"
vx zenlin layout --profile zen4 --svg "$tmp/zen4-linear.svg" --svg-scale linear
cmp -s "$tmp/zen4.svg" "$tmp/zen4-linear.svg" || fail "zen4: broken and linear scales differ"
rc=0
"$VXSAVE" layout --svg "$tmp/x.svg" --svg-scale log >/dev/null 2>"$tmp/bad.err" || rc=$?
[ "$rc" = 2 ] && grep -q "broken' or 'linear" "$tmp/bad.err" ||
	fail "--svg-scale log: exit $rc, $(cat "$tmp/bad.err")"

echo "test_crafted: $count crafted dumps through profile show, layout (text, JSON, SVG) and cpu"
finish test_crafted
