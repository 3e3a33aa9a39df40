#!/usr/bin/env python3
# Checks for tests/cli/test_eval_cli.sh (vxsave eval), standard library only:
#   eval_check.py figures JSON TEXT   every figure of the JSON and of the text table recomputed
#                                     from the JSON's own counters and memory
#   eval_check.py report DIR          every SVG parses as XML; index.html parses, references
#                                     only files that exist in DIR, has no external URL or script
# Prints what is wrong and exits 1; prints nothing and exits 0 when all holds.
import html.parser
import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)


def ratio(part, whole, scale=1.0):
    return part * scale / whole if whole else None


def expected_figures(r, kind):
    """The figures as docs/eval.md "vxsave eval" defines them, from the counters."""
    c, m = r["run"], r["memory"]
    exits = c["exits_kernel"] + c["exits_user"]
    return {
        "memory_per_thread": m["host_thread_min"],
        "memory_per_vcpu": (m["vcpu_fpstate"] + m["vcpu_kvm_copy"]) if m["vcpus"] else None,
        "bytes_per_save": ratio(c["host_bytes_saved"] + c["guest_bytes_saved"],
                                c["host_xsaves"] + c["guest_xsaves"]),
        "bytes_per_restore": ratio(c["host_bytes_restored"] + c["guest_bytes_restored"],
                                   c["host_xrstors"] + c["guest_xrstors"]),
        "kvm_msr_per_1000_exits": ratio(c["kvm_msr_reads"] + c["kvm_msr_writes"], exits, 1000),
        "msr_exits_per_1000_exits": ratio(c["guest_msr_read_exits"] + c["guest_msr_write_exits"],
                                          exits, 1000),
    }


OPERATIONS = {  # what "per operation" divides by, per workload kind
    "context-switch": lambda c: c["context_switches"],
    "vcpu-exits": lambda c: c["exits_kernel"] + c["exits_user"],
    "mixed": lambda c: c["steps"],
    "amx": lambda c: c["steps"],
    "threads": lambda c: c["context_switches"],
}

COLUMNS = ["memory_per_thread", "memory_per_vcpu", "bytes_per_save", "bytes_per_restore",
           "kvm_msr_per_1000_exits", "msr_exits_per_1000_exits", "ns_per_operation"]


def close(a, b, tol):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(b))


def text_rows(text_path):
    """{workload: {design: [column values or None]}} from the text tables."""
    tables, current = {}, None
    for line in open(text_path):
        head = re.match(r"^(\S+)(?: \([a-z-]+\))?: \d+ CPUs?, ", line)
        if head:
            current = tables.setdefault(head.group(1), {})
            continue
        row = re.match(r"^([a-z-]+) +(\S.*)$", line.rstrip("\n"))
        if current is None or not row or row.group(1) == "design":
            continue
        cells = re.findall(r"(-|\d+(?:\.\d+)?) +(?:=|~0%|vs 0|x\d+|[+-]\d+\.\d%)?", row.group(2))
        current[row.group(1)] = [None if v == "-" else float(v) for v in cells[:7]]
    return tables


def check_figures(json_path, text_path):
    doc = json.load(open(json_path))
    tables = text_rows(text_path)
    for w in doc["workloads"]:
        for r in w["results"]:
            name = "%s/%s" % (w["name"], r["design"])
            if "error" in r:
                problems.append("%s: error %s" % (name, r["error"]))
                continue
            f = r["figures"]
            ops = OPERATIONS[w["kind"]](r["run"])
            check(f["operations"] == ops, "%s: operations %s, expected %s" %
                  (name, f["operations"], ops))
            for key, want in expected_figures(r, w["kind"]).items():
                check(close(f[key], want, 1e-9), "%s: %s = %s, counters give %s" %
                      (name, key, f[key], want))
            cost = r["cost"]
            want = cost["total_ns"] / ops if ops else None
            check(close(f["ns_per_operation"], want, 1e-9),
                  "%s: ns_per_operation %s, total/operations %s" % (name, f["ns_per_operation"], want))
            parts = sum(v for k, v in cost.items() if k not in ("total_ns", "per_operation_ns"))
            check(close(parts, cost["total_ns"], 1e-9), "%s: categories sum to %s, total %s" %
                  (name, parts, cost["total_ns"]))
            row = tables.get(w["name"], {}).get(r["design"])
            if row is None or len(row) != 7:
                problems.append("%s: no full row in the text table (%s)" % (name, row))
                continue
            for col, shown in zip(COLUMNS, row):
                decimals = 0 if col.startswith("memory") else 1
                want = f[col]
                ok = (shown is None and want is None) or (
                    shown is not None and want is not None
                    and abs(shown - want) <= 0.5 * 10 ** -decimals + 1e-9)
                check(ok, "%s: text %s = %s, JSON %s" % (name, col, shown, want))


class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.scripts, self.tags = [], 0, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.scripts += tag == "script"
        for key, value in attrs:
            if key in ("src", "href", "data", "srcset", "action") and value is not None:
                self.refs.append(value)


def check_report(directory):
    names = sorted(os.listdir(directory))
    svgs = [n for n in names if n.endswith(".svg")]
    check("index.html" in names, "no index.html in %s" % directory)
    check(len(svgs) >= 3, "only %d SVG files in %s" % (len(svgs), directory))
    for n in svgs:
        try:
            root = ET.parse(os.path.join(directory, n)).getroot()
            check(root.tag == "{http://www.w3.org/2000/svg}svg", "%s: root is %s" % (n, root.tag))
        except ET.ParseError as e:
            problems.append("%s: not XML: %s" % (n, e))
        text = open(os.path.join(directory, n), encoding="utf-8").read()
        urls = set(re.findall(r"https?://[^\"' <>]+", text)) - {"http://www.w3.org/2000/svg"}
        check(not urls, "%s: external URLs %s" % (n, sorted(urls)))
    if "index.html" not in names:
        return
    page = open(os.path.join(directory, "index.html"), encoding="utf-8").read()
    parser = Refs()
    parser.feed(page)
    parser.close()
    check(parser.tags[:1] == ["html"], "index.html does not start with <html>")
    check(parser.scripts == 0, "index.html has a <script>")
    check(not re.search(r"(https?:)?//", " ".join(parser.refs)), "index.html refers outside: %s"
          % parser.refs)
    check(not re.search(r"https?://|url\(", page), "index.html has a URL")
    for ref in parser.refs:
        check("/" not in ref and os.path.isfile(os.path.join(directory, ref)),
              "index.html refers to %s, which is not a file in %s" % (ref, directory))
    for n in svgs:
        check(n in parser.refs, "index.html does not show %s" % n)


if __name__ == "__main__":
    if sys.argv[1] == "figures":
        check_figures(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "report":
        check_report(sys.argv[2])
    else:
        sys.exit("usage: eval_check.py figures JSON TEXT | report DIR")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
