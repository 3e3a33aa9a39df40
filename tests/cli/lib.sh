# Shared by the tests/cli/test_*.sh scripts (sourced, not run): the environment they need, a
# scratch directory, failure counting and the closing line.
#   VXSAVE  the vxsave binary;  SRCDIR  the source tree (set by ctest, see tests/CMakeLists.txt)

: "${VXSAVE:?set VXSAVE to the vxsave binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
case "$VXSAVE" in /*) ;; *) VXSAVE="$PWD/$VXSAVE" ;; esac
GOLDEN="$SRCDIR/tests/cli/golden"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# json_get FILE EXPR: evaluate a Python expression over the JSON document `d`; `c` maps
# component names to their entries.
json_get() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = {e["name"]: e for e in d.get("components", [])}
print(eval(sys.argv[2]))
PY
}

# finish NAME: report and exit with the test's verdict.
finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$1: $failures failure(s)" >&2
		exit 1
	fi
	echo "$1: all checks passed"
}
