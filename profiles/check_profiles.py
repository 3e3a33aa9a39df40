#!/usr/bin/env python3
"""Consistency checker for the built-in CPU profiles (profiles/*.cpuid).

Each profile is a `cpuid -r` dump (first "CPU:" / "CPU 0:" block is used)
preceded by '#' header lines of the form "# key: value".  Keys used here:
  name, description, source  - informational
  xcr0                       - XCR0 the profile's 0xD.0 EBX is computed for
  xss                        - IA32_XSS that, with xcr0, 0xD.1 EBX is computed for
  known-inconsistent         - the profile is deliberately inconsistent; its
                               findings are reported as EXPECTED

Checks (see spec/arch.md sections 1, 2, 8):
  * leaf ranges: 0.EAX >= highest basic leaf, 0x80000000.EAX >= highest
    extended leaf and >= 0x80000008; required leaves present
  * every 0xD sub-leaf i>=2: present iff bit i is in 0xD.0 EDX:EAX or
    0xD.1 EDX:ECX; user/supervisor class matches the bit; ECX[0] matches;
    supervisor EBX=0; user EBX>=576; reserved bits zero; known sizes
  * user components do not overlap in the standard layout
  * 0xD.0 ECX == max(576, max offset+size over supported user bits)
  * 0xD.0 EBX == same for the header xcr0; 0xD.1 EBX == compacted size
    (with 64-byte alignment) for header xcr0|xss
  * header xcr0 is a valid XCR0 value within 0xD.0; header xss within 0xD.1
  * feature flags vs components (XSAVE/OSXSAVE/AVX, MPX, AVX512F, PKU/OSPKE,
    CET_SS/CET_IBT, Arch LBR, PT, UINTR, ENQCMD/PASID, AMX, APX_F,
    XSAVEOPT/XSAVEC/XGETBV1/XSAVES/XFD, AMX palette leaf 0x1D)

Exit status: 0 if every finding is in a profile marked known-inconsistent and
every such profile has at least one finding; 1 otherwise.
Usage: check_profiles.py [file.cpuid ...]   (default: all *.cpuid next to this script)
"""
import glob
import os
import re
import sys

LINE_RE = re.compile(
    r"^\s*0x([0-9a-fA-F]{8})\s+0x([0-9a-fA-F]{2,8}):\s+eax=0x([0-9a-fA-F]{8})\s+"
    r"ebx=0x([0-9a-fA-F]{8})\s+ecx=0x([0-9a-fA-F]{8})\s+edx=0x([0-9a-fA-F]{8})\s*$")

SUPERVISOR_BITS = {8, 10, 11, 12, 13, 14, 15, 16}
NAMES = {0: "x87", 1: "SSE", 2: "AVX", 3: "BNDREGS", 4: "BNDCSR", 5: "opmask",
         6: "ZMM_Hi256", 7: "Hi16_ZMM", 8: "PT", 9: "PKRU", 10: "PASID",
         11: "CET_U", 12: "CET_S", 13: "HDC", 14: "UINTR", 15: "LBR", 16: "HWP",
         17: "TILECFG", 18: "TILEDATA", 19: "APX", 62: "LWP"}
# Architecturally fixed sizes (PT and Arch LBR vary and are not checked).
KNOWN_SIZES = {2: 256, 3: 64, 4: 64, 5: 64, 6: 512, 7: 1024, 9: 8, 10: 8,
               11: 16, 12: 24, 13: 8, 14: 48, 16: 8, 17: 64, 18: 8192, 19: 128}
LEGACY_END = 576


def bit(v, n):
    return (v >> n) & 1


def bits(mask):
    return [i for i in range(64) if (mask >> i) & 1]


def parse(path):
    header, regs = {}, {}
    in_cpu = False
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            s = line.rstrip("\n")
            if not s.strip():
                continue
            if s.startswith("#"):
                m = re.match(r"#\s*([A-Za-z0-9_-]+)\s*:\s*(.*)$", s)
                if m and not in_cpu:
                    header[m.group(1).lower()] = m.group(2).strip()
                continue
            if re.match(r"^CPU( \d+)?:\s*$", s):
                if in_cpu:      # only the first CPU block
                    break
                in_cpu = True
                continue
            m = LINE_RE.match(s)
            if not m or not in_cpu:
                raise ValueError("%s:%d: unparsable line: %r" % (path, lineno, s))
            leaf, sub = int(m.group(1), 16), int(m.group(2), 16)
            if (leaf, sub) in regs:
                raise ValueError("%s:%d: duplicate leaf 0x%x.0x%x" % (path, lineno, leaf, sub))
            regs[(leaf, sub)] = tuple(int(m.group(i), 16) for i in range(3, 7))
    return header, regs


def compacted_size(comps, mask):
    off = LEGACY_END
    for i in range(2, 63):
        if bit(mask, i) and i in comps:
            size, _, ecx = comps[i]
            if ecx & 2:
                off = (off + 63) & ~63
            off += size
    return off


def standard_size(comps, mask):
    end = LEGACY_END
    for i in range(2, 63):
        if bit(mask, i) and i in comps:
            size, off, _ = comps[i]
            end = max(end, off + size)
    return end


def xcr0_problems(x):
    p = []
    if not bit(x, 0):
        p.append("bit 0 (x87) clear")
    if bit(x, 2) and not bit(x, 1):
        p.append("AVX without SSE")
    a512 = (x >> 5) & 7
    if a512 not in (0, 7):
        p.append("AVX-512 bits 5-7 not all equal")
    if a512 and not bit(x, 2):
        p.append("AVX-512 without AVX")
    if bit(x, 3) != bit(x, 4):
        p.append("MPX bits 3/4 differ")
    if bit(x, 17) != bit(x, 18):
        p.append("AMX bits 17/18 differ")
    sup = [b for b in bits(x) if b in SUPERVISOR_BITS]
    if sup:
        p.append("supervisor bits %s in XCR0" % sup)
    return p


def check(path):
    header, r = parse(path)
    out = []

    def err(msg):
        out.append(msg)

    def get(leaf, sub=0):
        return r.get((leaf, sub), (0, 0, 0, 0))

    # ---- leaf ranges and required leaves
    basic = [l for (l, _) in r if l < 0x20000000]
    ext = [l for (l, _) in r if 0x80000000 <= l < 0x80010000]
    max_basic = get(0)[0]
    if basic and max(basic) > max_basic:
        err("leaf 0 EAX 0x%x < highest basic leaf present 0x%x" % (max_basic, max(basic)))
    max_ext = get(0x80000000)[0]
    if max_ext < 0x80000008:
        err("0x80000000 EAX 0x%x < 0x80000008" % max_ext)
    if ext and max(ext) > max_ext:
        err("0x80000000 EAX 0x%x < highest extended leaf present 0x%x" % (max_ext, max(ext)))
    vendor = get(0)
    intel = (vendor[1], vendor[3], vendor[2]) == (0x756E6547, 0x49656E69, 0x6C65746E)
    required = [(0, 0), (1, 0), (6, 0), (7, 0), (0xD, 0), (0xD, 1),
                (0x80000000, 0), (0x80000001, 0), (0x80000008, 0)]
    # 7.0 EAX is the highest sub-leaf of leaf 7 (SDM Vol. 2A CPUID): 7.1 exists only if >= 1.
    if get(7, 0)[0] >= 1:
        required.append((7, 1))
    if intel and max_basic >= 0x14:
        required += [(0x14, 0), (0x14, 1)]
    for k in required:
        if k not in r:
            err("required leaf 0x%x.0x%x missing" % k)

    l1, l70, l71 = get(1), get(7, 0), get(7, 1)
    d0, d1 = get(0xD, 0), get(0xD, 1)
    xcr0_sup = d0[0] | (d0[3] << 32)
    xss_sup = d1[2] | (d1[3] << 32)

    # ---- sub-leaves 2..63
    comps = {}
    for i in range(2, 64):
        if (0xD, i) not in r:
            continue
        eax, ebx, ecx, edx = r[(0xD, i)]
        if (eax, ebx, ecx, edx) == (0, 0, 0, 0):
            continue
        comps[i] = (eax, ebx, ecx)
        nm = "0xD.0x%x (%s)" % (i, NAMES.get(i, "component %d" % i))
        in_x, in_s = bit(xcr0_sup, i), bit(xss_sup, i)
        if not in_x and not in_s:
            err("%s enumerated (size %d, offset %d) but bit %d is in neither 0xD.0 EDX:EAX nor 0xD.1 EDX:ECX"
                % (nm, eax, ebx, i))
        if in_x and in_s:
            err("%s bit %d is in both the XCR0 and the XSS mask" % (nm, i))
        sup = bool(ecx & 1)
        if in_x and sup:
            err("%s is an XCR0 bit but ECX[0] (supervisor) is set" % nm)
        if in_s and not sup:
            err("%s is an XSS bit but ECX[0] (supervisor) is clear" % nm)
        if i in SUPERVISOR_BITS and not sup:
            err("%s should be a supervisor component" % nm)
        if i not in SUPERVISOR_BITS and i < 63 and sup:
            err("%s should be a user component" % nm)
        if sup and ebx != 0:
            err("%s supervisor component with non-zero standard offset %d" % (nm, ebx))
        if not sup and ebx < LEGACY_END:
            err("%s user component with standard offset %d < 576" % (nm, ebx))
        if ecx & ~7 or edx:
            err("%s reserved bits set (ecx=0x%x edx=0x%x)" % (nm, ecx, edx))
        if eax == 0:
            err("%s has size 0" % nm)
        if i in KNOWN_SIZES and eax != KNOWN_SIZES[i]:
            err("%s size %d, architectural size is %d" % (nm, eax, KNOWN_SIZES[i]))
        if ecx & 4 and not bit(d1[0], 4):
            err("%s is XFD-capable (ECX[2]) but 0xD.1 EAX[4] XFD is clear" % nm)
    for i in bits(xcr0_sup | xss_sup):
        if i >= 2 and i not in comps:
            err("bit %d (%s) supported but 0xD.0x%x is missing/zero" % (i, NAMES.get(i, "?"), i))
    for i in bits(xcr0_sup):
        if i in SUPERVISOR_BITS:
            err("0xD.0 EAX/EDX lists supervisor bit %d" % i)
    for i in bits(xss_sup):
        if i not in SUPERVISOR_BITS:
            err("0xD.1 ECX/EDX lists user bit %d" % i)
    if not (bit(xcr0_sup, 0) and bit(xcr0_sup, 1)):
        err("0xD.0 EAX lacks x87/SSE (0x%x)" % xcr0_sup)

    # ---- standard layout overlaps
    user = sorted((c[1], c[1] + c[0], i) for i, c in comps.items() if not c[2] & 1 and bit(xcr0_sup, i))
    for (s1, e1, i1), (s2, e2, i2) in zip(user, user[1:]):
        if s2 < e1:
            err("standard layout overlap: component %d [%d,%d) and %d [%d,%d)" % (i1, s1, e1, i2, s2, e2))

    # ---- sizes
    supported_user = xcr0_sup & ~sum(1 << b for b in SUPERVISOR_BITS)
    want_ecx = standard_size(comps, supported_user)
    if d0[2] != want_ecx:
        err("0xD.0 ECX = %d (0x%x) but max offset+size over supported XCR0 bits 0x%x is %d"
            % (d0[2], d0[2], xcr0_sup, want_ecx))
    if "xcr0" not in header or "xss" not in header:
        err("header lacks '# xcr0:' / '# xss:' (needed to check 0xD.0 EBX and 0xD.1 EBX)")
    else:
        xcr0 = int(header["xcr0"], 0)
        xss = int(header["xss"], 0)
        for p in xcr0_problems(xcr0):
            err("header xcr0 0x%x is not a valid XCR0: %s" % (xcr0, p))
        if xcr0 & ~xcr0_sup:
            err("header xcr0 0x%x has bits outside 0xD.0 mask 0x%x" % (xcr0, xcr0_sup))
        if xss & ~xss_sup:
            err("header xss 0x%x has bits outside 0xD.1 mask 0x%x" % (xss, xss_sup))
        want_ebx0 = standard_size(comps, xcr0)
        if d0[1] != want_ebx0:
            err("0xD.0 EBX = %d (0x%x) but standard size for XCR0 0x%x is %d" % (d0[1], d0[1], xcr0, want_ebx0))
        if d1[0] & 0xA:      # XSAVEC or XSAVES
            want_ebx1 = compacted_size(comps, xcr0 | xss)
            if d1[1] != want_ebx1:
                err("0xD.1 EBX = %d (0x%x) but compacted size for XCR0|XSS 0x%x is %d"
                    % (d1[1], d1[1], xcr0 | xss, want_ebx1))
        if xss and not bit(d1[0], 3):
            err("header xss 0x%x non-zero but XSAVES (0xD.1 EAX[3]) clear" % xss)

    # ---- feature flags vs components
    def flag(name, have, want):
        if bool(have) != bool(want):
            err("%s flag is %d but the XSAVE components say %d" % (name, bool(have), bool(want)))

    x = xcr0_sup
    flag("XSAVE CPUID.1:ECX[26]", bit(l1[2], 26), x != 0)
    if bit(l1[2], 27) and not bit(l1[2], 26):
        err("OSXSAVE set without XSAVE")
    flag("AVX CPUID.1:ECX[28]", bit(l1[2], 28), bit(x, 2))
    flag("MPX CPUID.(7,0):EBX[14]", bit(l70[1], 14), bit(x, 3) and bit(x, 4))
    flag("AVX512F CPUID.(7,0):EBX[16]", bit(l70[1], 16), ((x >> 5) & 7) == 7)
    if ((x >> 5) & 7) not in (0, 7):
        err("0xD.0 EAX has only some of AVX-512 bits 5-7")
    flag("PKU CPUID.(7,0):ECX[3]", bit(l70[2], 3), bit(x, 9))
    if bit(l70[2], 4) and not bit(l70[2], 3):
        err("OSPKE set without PKU")
    ss, ibt = bit(l70[2], 7), bit(l70[3], 20)
    flag("CET_SS|CET_IBT (need CET_U, bit 11)", ss or ibt, bit(xss_sup, 11))
    flag("CET_SS CPUID.(7,0):ECX[7] (needs CET_S, bit 12)", ss, bit(xss_sup, 12))
    flag("Arch LBR CPUID.(7,0):EDX[19]", bit(l70[3], 19), bit(xss_sup, 15))
    if intel:
        flag("Intel PT CPUID.(7,0):EBX[25]", bit(l70[1], 25), bit(xss_sup, 8))
    flag("UINTR CPUID.(7,0):EDX[5]", bit(l70[3], 5), bit(xss_sup, 14))
    flag("ENQCMD CPUID.(7,0):ECX[29] (PASID state, bit 10)", bit(l70[2], 29), bit(xss_sup, 10))
    flag("AMX-TILE CPUID.(7,0):EDX[24]", bit(l70[3], 24), bit(x, 17) and bit(x, 18))
    if bit(x, 17) != bit(x, 18):
        err("0xD.0 EAX has only one of AMX bits 17/18")
    for b, nm in ((22, "AMX-BF16"), (25, "AMX-INT8")):
        if bit(l70[3], b) and not bit(l70[3], 24):
            err("%s set without AMX-TILE" % nm)
    flag("APX_F CPUID.(7,1):EDX[21]", bit(l71[3], 21), bit(x, 19))
    xfd_capable = any(c[2] & 4 for c in comps.values())
    flag("XFD CPUID.(0xD,1):EAX[4]", bit(d1[0], 4), xfd_capable)
    if xss_sup and not bit(d1[0], 3):
        err("0xD.1 ECX lists XSS bits but XSAVES (EAX[3]) is clear")
    if bit(d1[0], 3) and not bit(d1[0], 1):
        err("XSAVES without XSAVEC")
    if bit(x, 17) or bit(x, 18):
        p0, p1 = get(0x1D, 0), get(0x1D, 1)
        if p0[0] < 1:
            err("AMX supported but 0x1D.0 EAX (max palette) is 0")
        elif 18 in comps and (p1[0] & 0xFFFF) != comps[18][0]:
            err("0x1D.1 total tile bytes %d != TILEDATA size %d" % (p1[0] & 0xFFFF, comps[18][0]))
        elif (p1[0] >> 16) * (p1[1] >> 16) != (p1[0] & 0xFFFF):
            err("0x1D.1 bytes/tile x tiles != total tile bytes")
    return header, out


def main(argv):
    files = argv[1:] or sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "*.cpuid")))
    unexpected = 0
    for path in files:
        name = os.path.basename(path)
        try:
            header, findings = check(path)
        except ValueError as e:
            print("%s: PARSE ERROR: %s" % (name, e))
            unexpected += 1
            continue
        known = "known-inconsistent" in header
        if not findings:
            if known:
                print("%s: UNEXPECTED: marked known-inconsistent but no inconsistency found" % name)
                unexpected += 1
            else:
                print("%s: OK" % name)
            continue
        tag = "EXPECTED" if known else "INCONSISTENT"
        for f in findings:
            print("%s: %s: %s" % (name, tag, f))
        if not known:
            unexpected += len(findings)
    print("%d file(s), %d unexpected finding(s)" % (len(files), unexpected))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
